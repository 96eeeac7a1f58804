/*
 * The HTTP side of EST, with no I/O: routing, request header checks and
 * response building. Everything here works on strings handed over by the
 * web server (REQUEST_URI, CONTENT_LENGTH, CONTENT_TYPE), so all of it is
 * untrusted input.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "num.h"
#include "text.h"

/* Longest REQUEST_URI we look at; anything longer is not ours. */
#define MCA_URI_MAX	2048

#define EST_PREFIX	"/.well-known/est/"	/* RFC 7030 3.2.2 */
#define EST_ALIAS	"/est/"			/* EST_ALIAS<label>EST_PREFIX */

int
mca_http_route(const char *uri, char *label, size_t labellen,
    enum mca_op *op)
{
	const char	*p, *seg1, *seg2 = NULL, *alias = NULL;
	size_t		 len, plen, n1, n2 = 0, nalias = 0;
	enum mca_op	 o;

	if (label != NULL && labellen > 0)
		label[0] = '\0';
	if (op != NULL)
		*op = MCA_OP_MAX;
	if (uri == NULL || label == NULL || op == NULL)
		return MCA_ERR_NOTFOUND;
	if ((len = strnlen(uri, MCA_URI_MAX + 1)) > MCA_URI_MAX)
		return MCA_ERR_NOTFOUND;

	/* The query string plays no part in routing. */
	if ((p = memchr(uri, '?', len)) != NULL)
		len = (size_t)(p - uri);

	/*
	 * The alias "/est/<label>" + "/.well-known/est/<op>", for clients
	 * that append the well-known path to any URL they are given
	 * (strongSwan's pki --est): the web server hands it over with
	 * REQUEST_URI unchanged. The label is required, the rest is the
	 * unlabelled form.
	 */
	plen = sizeof(EST_ALIAS) - 1;
	if (len > plen && memcmp(uri, EST_ALIAS, plen) == 0) {
		alias = uri + plen;
		if ((p = memchr(alias, '/', len - plen)) == NULL)
			return MCA_ERR_NOTFOUND;
		nalias = (size_t)(p - alias);
		if (nalias >= labellen || !mca_estpath_label_ok(alias, nalias))
			return MCA_ERR_NOTFOUND;
		len -= (size_t)(p - uri);
		uri = p;
	}

	plen = sizeof(EST_PREFIX) - 1;
	if (len <= plen || memcmp(uri, EST_PREFIX, plen) != 0)
		return MCA_ERR_NOTFOUND;

	/* One or two non-empty segments after the prefix, nothing else. */
	seg1 = uri + plen;
	if ((p = memchr(seg1, '/', len - plen)) == NULL) {
		n1 = len - plen;
	} else {
		n1 = (size_t)(p - seg1);
		seg2 = p + 1;
		n2 = len - plen - n1 - 1;
		if (memchr(seg2, '/', n2) != NULL)
			return MCA_ERR_NOTFOUND;
		if (n2 == 0)
			return MCA_ERR_NOTFOUND;
	}
	if (n1 == 0)
		return MCA_ERR_NOTFOUND;

	if (seg2 == NULL) {
		if (alias == NULL)
			return mca_estpath_op(seg1, n1, 0, op);
		if (mca_estpath_op(seg1, n1, 0, &o) != 0)
			return MCA_ERR_NOTFOUND;
		seg1 = alias;
		n1 = nalias;
	} else {
		/* One label only: never both the alias and the path's. */
		if (alias != NULL || n1 >= labellen ||
		    !mca_estpath_label_ok(seg1, n1))
			return MCA_ERR_NOTFOUND;
		if (mca_estpath_op(seg2, n2, 0, &o) != 0)
			return MCA_ERR_NOTFOUND;
	}
	memcpy(label, seg1, n1);
	label[n1] = '\0';
	*op = o;
	return 0;
}

int
mca_http_content_length(const char *value, size_t cap, size_t *len)
{
	long long	 v;
	int		 rc;

	if (len != NULL)
		*len = 0;
	if (value == NULL || value[0] == '\0')
		return MCA_ERR_NOTFOUND;
	if (len == NULL)
		return MCA_ERR_INTERNAL;
	/* RFC 9110 8.6: 1*DIGIT. A sign is malformed, not out of range. */
	if (value[0] == '-')
		return MCA_ERR_INVAL;
	rc = mca_num_parse(value, strlen(value), 0, LLONG_MAX, &v);
	if (rc != 0)
		return rc == MCA_ERR_TOOBIG ? MCA_ERR_TOOBIG : MCA_ERR_INVAL;
	if ((unsigned long long)v > cap)
		return MCA_ERR_TOOBIG;
	*len = (size_t)v;
	return 0;
}

/* Optional whitespace, RFC 9110 5.6.3. */
static int
ows(char c)
{
	return c == ' ' || c == '\t';
}

int
mca_http_media_is(const char *ctype, const char *media)
{
	const char	*s, *e;
	size_t		 n;

	if (ctype == NULL || media == NULL)
		return 0;
	s = ctype;
	while (ows(*s))
		s++;
	if ((e = strchr(s, ';')) == NULL)
		e = s + strlen(s);
	while (e > s && ows(e[-1]))
		e--;
	n = (size_t)(e - s);
	if (n == 0 || n != strlen(media))
		return 0;
	return strncasecmp(s, media, n) == 0;
}

const char *
mca_http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";	/* RFC 9110 15.5.14 */
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";	/* RFC 6585 4 */
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

void
mca_resp_init(struct mca_resp *r)
{
	if (r == NULL)
		return;
	memset(r, 0, sizeof(*r));
	r->status = 200;
	r->ctype = "text/plain";
	r->cte = NULL;
	mca_buf_init(&r->body);
}

void
mca_resp_free(struct mca_resp *r)
{
	if (r == NULL)
		return;
	if (r->secret)
		mca_buf_free_secret(&r->body);
	else
		mca_buf_free(&r->body);
	mca_resp_init(r);
}

int
mca_resp_error(struct mca_resp *r, int status, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	/* A private key must not outlive the answer that would carry it. */
	if (r->secret) {
		mca_buf_free_secret(&r->body);
		r->secret = 0;
	}
	r->status = status;
	r->ctype = "text/plain";
	r->cte = NULL;
	r->reason[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		(void)vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
		va_end(ap);
	}
	if (r->reason[0] == '\0')
		(void)snprintf(r->reason, sizeof(r->reason), "%s",
		    mca_http_reason(status));
	/* One line, whatever the reason quotes from the client. */
	mca_text_ctl_replace(r->reason, ' ');
	mca_buf_reset(&r->body);
	if ((rc = mca_buf_addstr(&r->body, r->reason)) != 0 ||
	    (rc = mca_buf_addc(&r->body, '\n')) != 0) {
		mca_buf_reset(&r->body);
		return MCA_ERR_NOMEM;
	}
	return 0;
}

/* RFC 9110 5.6.2 tchar. */
static int
tchar(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Headers that serialize writes itself. */
static const char *const resp_own_headers[] = {
	"Status", "Content-Type", "Content-Transfer-Encoding",
	"Content-Length",
};

int
mca_resp_header(struct mca_resp *r, const char *name, const char *value)
{
	size_t	 i, nlen, vlen;

	if (r == NULL || name == NULL || value == NULL)
		return MCA_ERR_INVAL;
	nlen = strlen(name);
	vlen = strlen(value);
	if (nlen == 0)
		return MCA_ERR_INVAL;
	for (i = 0; i < nlen; i++)
		if (!tchar((unsigned char)name[i]))
			return MCA_ERR_INVAL;
	/* No CR, LF or other controls: they would split the header. */
	if (mca_text_ctl_span(value, vlen, MCA_TEXT_TAB_OK) < vlen)
		return MCA_ERR_INVAL;
	for (i = 0; i < sizeof(resp_own_headers) /
	    sizeof(resp_own_headers[0]); i++)
		if (strcasecmp(name, resp_own_headers[i]) == 0)
			return MCA_ERR_INVAL;
	if (r->nhdr >= MCA_RESP_HDR_MAX || nlen >= sizeof(r->hname[0]) ||
	    vlen >= sizeof(r->hval[0]))
		return MCA_ERR_TOOBIG;
	memcpy(r->hname[r->nhdr], name, nlen + 1);
	memcpy(r->hval[r->nhdr], value, vlen + 1);
	r->nhdr++;
	return 0;
}

/* 1 if s is fit to go on a header line as it is. */
static int
header_safe(const char *s)
{
	return mca_text_ctl_span(s, strlen(s), 0) == strlen(s);
}

int
mca_resp_ctype(struct mca_resp *r, const char *value)
{
	size_t	 len;

	if (r == NULL || value == NULL || *value == '\0' ||
	    !header_safe(value))
		return MCA_ERR_INVAL;
	if ((len = strlen(value)) >= sizeof(r->ctype_buf))
		return MCA_ERR_TOOBIG;
	memcpy(r->ctype_buf, value, len + 1);
	r->ctype = r->ctype_buf;
	return 0;
}

int
mca_resp_serialize(const struct mca_resp *r, struct mca_buf *out)
{
	const char	*ctype;
	size_t		 start, i;
	int		 rc = MCA_ERR_INTERNAL;

	start = out->len;
	ctype = r->ctype != NULL ? r->ctype : "text/plain";
	if (r->status < 100 || r->status > 599 || r->nhdr > MCA_RESP_HDR_MAX ||
	    !header_safe(ctype) || (r->cte != NULL && !header_safe(r->cte)))
		return MCA_ERR_INTERNAL;

	if ((rc = mca_buf_printf(out, "Status: %d %s\r\n", r->status,
	    mca_http_reason(r->status))) != 0)
		goto out;
	if ((rc = mca_buf_printf(out, "Content-Type: %s\r\n", ctype)) != 0)
		goto out;
	if (r->cte != NULL && (rc = mca_buf_printf(out,
	    "Content-Transfer-Encoding: %s\r\n", r->cte)) != 0)
		goto out;
	if ((rc = mca_buf_printf(out, "Content-Length: %zu\r\n",
	    r->body.len)) != 0)
		goto out;
	for (i = 0; i < r->nhdr; i++)
		if ((rc = mca_buf_printf(out, "%s: %s\r\n", r->hname[i],
		    r->hval[i])) != 0)
			goto out;
	if ((rc = mca_buf_add(out, "\r\n", 2)) != 0)
		goto out;
	/* RFC 9110 9.3.2: HEAD has the headers of GET, and no content. */
	if (!r->head && r->body.len > 0 &&
	    (rc = mca_buf_add(out, r->body.data, r->body.len)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	return rc;
}
