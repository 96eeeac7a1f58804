/*
 * HTTP Basic credentials (RFC 7617) from HTTP_AUTHORIZATION. Everything
 * here is untrusted: the length is checked before anything is decoded,
 * and no message ever quotes the credentials.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "httpauth.h"
#include "text.h"

#define BASIC_SCHEME	"Basic"

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* 1 if c is a base64 character of the standard alphabet (RFC 4648 4). */
static int
is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

void
mca_basic_clear(struct mca_basic *b)
{
	if (b != NULL)
		OPENSSL_cleanse(b, sizeof(*b));
}

int
mca_basic_parse(const char *value, struct mca_basic *out,
    struct mca_diag *d)
{
	struct mca_buf	 dec = MCA_BUF_INIT;
	const char	*p, *end, *tok;
	const char	*colon;
	size_t		 len, n, i, ulen, plen;
	int		 rc = MCA_ERR_INVAL;

	mca_diag_clear(d);
	mca_basic_clear(out);
	if (value == NULL)
		return mca_diag(d, MCA_ERR_NOTFOUND, "no Authorization header");
	/* The cap first, before looking at the bytes (strnlen: no overrun). */
	if ((len = strnlen(value, MCA_BASIC_HDR_MAX + 1)) > MCA_BASIC_HDR_MAX)
		return mca_diag(d, MCA_ERR_TOOBIG, "Authorization header is "
		    "longer than %d bytes", MCA_BASIC_HDR_MAX);
	p = value;
	end = value + len;
	while (p < end && is_ows(*p))
		p++;
	while (end > p && is_ows(end[-1]))
		end--;
	if (p == end)
		return mca_diag(d, MCA_ERR_NOTFOUND, "empty Authorization "
		    "header");

	/* RFC 9110 11.1: the scheme is case-insensitive. */
	n = strlen(BASIC_SCHEME);
	if ((size_t)(end - p) < n || strncasecmp(p, BASIC_SCHEME, n) != 0 ||
	    (p + n < end && !is_ows(p[n]))) {
		rc = mca_diag(d, MCA_ERR_INVAL, "Authorization is not HTTP "
		    "Basic (RFC 7617)");
		goto out;
	}
	p += n;
	/* RFC 9110 11.4: 1*SP; tabs are tolerated like the trim above. */
	while (p < end && is_ows(*p))
		p++;
	if (p == end) {
		rc = mca_diag(d, MCA_ERR_INVAL, "Basic credentials are "
		    "missing");
		goto out;
	}
	/* token68 in base64: the alphabet, then at most two '=' at the end. */
	tok = p;
	while (p < end && is_b64(*p))
		p++;
	for (i = 0; i < 2 && p < end && *p == '='; i++)
		p++;
	if (p != end) {
		rc = mca_diag(d, MCA_ERR_INVAL, "Basic credentials are not "
		    "one base64 token");
		goto out;
	}
	if (mca_b64_decode(tok, (size_t)(end - tok), &dec) != 0) {
		rc = mca_diag(d, MCA_ERR_INVAL, "Basic credentials are not "
		    "valid base64");
		goto out;
	}
	/* RFC 7617 2: no control characters. */
	if (mca_text_ctl_span(dec.data, dec.len, 0) < dec.len) {
		rc = mca_diag(d, MCA_ERR_INVAL, "Basic credentials contain a "
		    "control character or NUL (RFC 7617 2)");
		goto out;
	}
	/* RFC 7617 2: the first colon separates user-id and password. */
	colon = memchr(dec.data, ':', dec.len);
	if (colon != NULL) {
		ulen = (size_t)(colon - (const char *)dec.data);
		plen = dec.len - ulen - 1;
	} else {
		ulen = 0;
		plen = dec.len;
	}
	if (ulen > MCA_BASIC_FIELD_MAX || plen > MCA_BASIC_FIELD_MAX) {
		rc = mca_diag(d, MCA_ERR_TOOBIG, "Basic user-id or password is "
		    "longer than %d bytes", MCA_BASIC_FIELD_MAX);
		goto out;
	}
	if (colon != NULL) {
		out->has_user = 1;
		memcpy(out->user, dec.data, ulen);
		memcpy(out->pass, colon + 1, plen);
	} else
		memcpy(out->pass, dec.data, plen);
	rc = 0;
out:
	if (rc != 0)
		mca_basic_clear(out);
	mca_buf_free_secret(&dec);
	return rc;
}
