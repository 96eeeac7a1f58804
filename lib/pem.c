/*
 * PEM (RFC 7468) as microca meets it: configured files, and client
 * certificates from the web server, where the line breaks may have become
 * spaces. The base64 between the lines goes through mca_b64_decode, which
 * skips spaces, tabs, CR and LF wherever they are.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "pem.h"

#define PEM_FILE_MAX	(1024u * 1024u)	/* a CA bundle is far smaller */
#define PEM_LABEL_MAX	64

/*
 * Writes "-----<what> <label>-----" into out. 0, or MCA_ERR_INVAL for an
 * empty, overlong or dash-carrying label (RFC 7468 2: labels have no '-'
 * at either end; we refuse them anywhere, none of ours has one).
 */
static int
pem_marker(char *out, size_t outlen, const char *what, const char *label)
{
	size_t	 n;
	int	 r;

	if (label == NULL || (n = strlen(label)) == 0 || n > PEM_LABEL_MAX ||
	    strchr(label, '-') != NULL)
		return MCA_ERR_INVAL;
	r = snprintf(out, outlen, "-----%s %s-----", what, label);
	if (r < 0 || (size_t)r >= outlen)
		return MCA_ERR_INVAL;
	return 0;
}

int
mca_pem_decode(const char *in, size_t len, const char *label,
    struct mca_buf *der, size_t *end)
{
	char		 begin[PEM_LABEL_MAX + 32], fin[PEM_LABEL_MAX + 32];
	const char	*b, *body, *e;
	size_t		 blen, flen, off;
	int		 rc;

	if (end != NULL)
		*end = 0;
	if ((rc = pem_marker(begin, sizeof(begin), "BEGIN", label)) != 0 ||
	    (rc = pem_marker(fin, sizeof(fin), "END", label)) != 0)
		return rc;
	if (in == NULL || len == 0)
		return MCA_ERR_NOTFOUND;
	blen = strlen(begin);
	flen = strlen(fin);

	/*
	 * The trailing "-----" in the marker keeps "CERTIFICATE" from
	 * matching "CERTIFICATE REQUEST".
	 */
	if ((b = memmem(in, len, begin, blen)) == NULL)
		return MCA_ERR_NOTFOUND;
	body = b + blen;
	if ((e = memmem(body, len - (size_t)(body - in), fin, flen)) == NULL)
		return MCA_ERR_INVAL;		/* BEGIN without END */
	if (memchr(body, '\0', (size_t)(e - body)) != NULL)
		return MCA_ERR_INVAL;
	/* Skips whitespace and line breaks: RFC 7468 3 (laxly). */
	if ((rc = mca_b64_decode(body, (size_t)(e - body), der)) != 0)
		return rc;

	if (end != NULL) {
		/* Past the END marker, its trailing blanks and one line break. */
		off = (size_t)(e - in) + flen;
		while (off < len && (in[off] == ' ' || in[off] == '\t'))
			off++;
		if (off < len && in[off] == '\r')
			off++;
		if (off < len && in[off] == '\n')
			off++;
		*end = off;
	}
	return 0;
}

/*
 * Turns der into a certificate; every byte must belong to it. 0 or
 * MCA_ERR_INVAL.
 */
static int
pem_der_cert(const struct mca_buf *der, X509 **out)
{
	const unsigned char	*p = der->data;
	X509			*x = NULL;

	*out = NULL;
	if (der->len == 0 || der->len > LONG_MAX)
		return MCA_ERR_INVAL;
	if ((x = d2i_X509(NULL, &p, (long)der->len)) == NULL) {
		ERR_clear_error();
		return MCA_ERR_INVAL;
	}
	if (p != der->data + der->len) {
		X509_free(x);
		return MCA_ERR_INVAL;
	}
	*out = x;
	return 0;
}

int
mca_pem_parse_cert(const char *in, size_t len, X509 **out)
{
	struct mca_buf	 der = MCA_BUF_INIT;
	int		 rc;

	*out = NULL;
	/* Caps first, before looking at a single byte. */
	if (len > MCA_PEM_MAX)
		return MCA_ERR_TOOBIG;
	if (in == NULL || len == 0)
		return MCA_ERR_NOTFOUND;
	if (memchr(in, '\0', len) != NULL)
		return MCA_ERR_INVAL;
	if ((rc = mca_pem_decode(in, len, "CERTIFICATE", &der, NULL)) != 0)
		goto out;
	rc = pem_der_cert(&der, out);
out:
	mca_buf_free(&der);
	return rc;
}

int
mca_pem_load_certs(const char *path, STACK_OF(X509) **out,
    struct mca_diag *d)
{
	struct mca_buf	 text = MCA_BUF_INIT;
	int		 rc;

	*out = NULL;
	mca_diag_clear(d);
	rc = mca_file_read(path, PEM_FILE_MAX, &text, NULL);
	switch (rc) {
	case 0:
		break;
	case MCA_ERR_NOTFOUND:
		rc = mca_diag(d, rc, "%s: no such file", path);
		goto out;
	case MCA_ERR_TOOBIG:
		rc = mca_diag(d, MCA_ERR_INVAL, "%s: larger than %u bytes",
		    path, PEM_FILE_MAX);
		goto out;
	case MCA_ERR_INVAL:
		rc = mca_diag(d, rc, "%s: not a regular file", path);
		goto out;
	case MCA_ERR_NOMEM:
		goto out;
	default:
		rc = mca_diag(d, MCA_ERR_IO, "%s: cannot be read", path);
		goto out;
	}
	rc = mca_pem_parse_certs((const char *)text.data, text.len, path,
	    out, d);
out:
	mca_buf_free(&text);
	return rc;
}

int
mca_pem_write_cert(X509 *cert, struct mca_buf *out)
{
	BIO	*b = NULL;
	char	*p = NULL;
	long	 n;
	int	 rc = MCA_ERR_CRYPTO;

	if (cert == NULL)
		return MCA_ERR_INTERNAL;
	if ((b = BIO_new(BIO_s_mem())) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	/* PEM_write_bio_X509 breaks lines at 64 columns (RFC 7468 2). */
	if (!PEM_write_bio_X509(b, cert))
		goto out;
	if ((n = BIO_get_mem_data(b, &p)) <= 0)
		goto out;
	if ((rc = mca_buf_add(out, p, (size_t)n)) != 0)
		goto out;
	rc = 0;
out:
	if (rc == MCA_ERR_CRYPTO)
		ERR_clear_error();
	BIO_free(b);
	return rc;
}

int
mca_pem_parse_certs(const char *in, size_t len, const char *name,
    STACK_OF(X509) **out, struct mca_diag *d)
{
	struct mca_buf	 der = MCA_BUF_INIT;
	STACK_OF(X509)	*sk = NULL;
	X509		*x = NULL;
	size_t		 off = 0, end;
	int		 rc, n = 0;

	*out = NULL;
	mca_diag_clear(d);
	if (in == NULL) {
		rc = mca_diag(d, MCA_ERR_NOTFOUND, "%s: no certificate found",
		    name);
		goto out;
	}
	if (len > PEM_FILE_MAX) {
		rc = mca_diag(d, MCA_ERR_INVAL, "%s: larger than %u bytes",
		    name, PEM_FILE_MAX);
		goto out;
	}
	if ((sk = sk_X509_new_null()) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		mca_buf_reset(&der);
		rc = mca_pem_decode(in + off, len - off, "CERTIFICATE", &der,
		    &end);
		if (rc == MCA_ERR_NOTFOUND)
			break;
		n++;
		if (rc != 0) {
			rc = mca_diag(d, MCA_ERR_INVAL,
			    "%s: certificate %d is not valid PEM", name, n);
			goto out;
		}
		if ((rc = pem_der_cert(&der, &x)) != 0) {
			rc = mca_diag(d, rc,
			    "%s: certificate %d is not valid DER", name, n);
			goto out;
		}
		if (!sk_X509_push(sk, x)) {
			rc = MCA_ERR_NOMEM;
			goto out;
		}
		x = NULL;
		off += end;
	}
	if (n == 0) {
		rc = mca_diag(d, MCA_ERR_NOTFOUND, "%s: no certificate found",
		    name);
		goto out;
	}
	*out = sk;
	sk = NULL;
	rc = 0;
out:
	X509_free(x);
	sk_X509_pop_free(sk, X509_free);
	mca_buf_free(&der);
	return rc;
}
