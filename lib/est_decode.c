/*
 * Decoders for what an EST server sends its clients. See est_decode.h.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "est_decode.h"
#include "pem.h"

/* The DER of in: PEM, base64 or binary, in that order of looking. */
static int
certs_der(const unsigned char *in, size_t len, struct mca_buf *der,
    struct mca_diag *d)
{
	static const char	*labels[] = { "PKCS7", "CMS" };
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		rc = mca_pem_decode((const char *)in, len, labels[i], der, NULL);
		if (rc == 0)
			return 0;
		if (rc != MCA_ERR_NOTFOUND)
			return mca_diag(d, rc == MCA_ERR_NOMEM ? rc :
			    MCA_ERR_INVAL, "certs-only PKCS#7: bad PEM %s "
			    "block", labels[i]);
	}
	/* RFC 8951 3.2: base64, line breaks and whitespace anywhere. */
	if ((rc = mca_b64_decode((const char *)in, len, der)) == 0)
		return 0;
	if (rc == MCA_ERR_NOMEM || rc == MCA_ERR_TOOBIG)
		return mca_diag(d, rc, "certs-only PKCS#7: %s",
		    mca_strerror(rc));
	/* Binary DER: a SEQUENCE, and not text (base64 never is 0x30 0x8x). */
	if (len >= 2 && in[0] == 0x30 && (in[1] & 0x80) != 0)
		return mca_buf_add(der, in, len);
	return mca_diag(d, MCA_ERR_INVAL, "certs-only PKCS#7: neither "
	    "base64, PEM nor DER");
}

int
mca_est_decode_certs(const unsigned char *in, size_t len,
    STACK_OF(X509) **out, struct mca_diag *d)
{
	struct mca_buf		 der = MCA_BUF_INIT;
	const unsigned char	*p;
	PKCS7			*p7 = NULL;
	STACK_OF(X509)		*certs = NULL, *sk;
	X509			*x;
	int			 i, rc = MCA_ERR_INVAL;

	*out = NULL;
	if (len > MCA_EST_DECODE_MAX) {
		rc = mca_diag(d, MCA_ERR_TOOBIG, "certs-only PKCS#7 over %u "
		    "bytes", MCA_EST_DECODE_MAX);
		goto out;
	}
	if (in == NULL || len == 0) {
		rc = mca_diag(d, MCA_ERR_INVAL, "certs-only PKCS#7: empty");
		goto out;
	}
	if ((rc = certs_der(in, len, &der, d)) != 0)
		goto out;
	if (der.len > LONG_MAX) {
		rc = mca_diag(d, MCA_ERR_TOOBIG, "certs-only PKCS#7: too big");
		goto out;
	}
	p = der.data;
	if ((p7 = d2i_PKCS7(NULL, &p, (long)der.len)) == NULL) {
		rc = mca_diag_crypto(d, MCA_ERR_INVAL, "certs-only PKCS#7: "
		    "not a PKCS#7 ContentInfo");
		goto out;
	}
	if (p != der.data + der.len) {
		rc = mca_diag(d, MCA_ERR_INVAL, "certs-only PKCS#7: %zu bytes "
		    "after the DER", der.len - (size_t)(p - der.data));
		goto out;
	}
	/* RFC 7030 4.1.3: a Simple PKI Response, RFC 5272 4.1. */
	if (OBJ_obj2nid(p7->type) != NID_pkcs7_signed || p7->d.sign == NULL) {
		rc = mca_diag(d, MCA_ERR_INVAL, "certs-only PKCS#7: not "
		    "signedData");
		goto out;
	}
	sk = p7->d.sign->cert;
	if (sk == NULL || sk_X509_num(sk) == 0) {
		rc = mca_diag(d, MCA_ERR_INVAL, "certs-only PKCS#7: no "
		    "certificate");
		goto out;
	}
	if ((certs = sk_X509_new_null()) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < sk_X509_num(sk); i++) {
		x = sk_X509_value(sk, i);
		if (!X509_up_ref(x)) {
			rc = MCA_ERR_INTERNAL;
			goto out;
		}
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			rc = MCA_ERR_NOMEM;
			goto out;
		}
	}
	*out = certs;
	certs = NULL;
	rc = 0;
out:
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	PKCS7_free(p7);
	mca_buf_free(&der);
	return rc;
}
