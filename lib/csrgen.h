/*
 * PKCS#10 requests (RFC 2986) microca makes for itself: its intermediate,
 * its mTLS server and client certificates. The key signs inside its token
 * (or comes from a file); nothing here keeps it.
 */
#ifndef MCA_CSRGEN_H
#define MCA_CSRGEN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cfg.h"
#include "err.h"

/* The subject's fields; NULL or "" leaves one out. */
struct mca_csr_subject {
	const char	*common_name;		/* CN */
	const char	*country;		/* C: two letters (ISO 3166) */
	const char	*province;		/* ST */
	const char	*locality;		/* L */
	const char	*organization;		/* O */
	const char	*organizational_unit;	/* OU */
};

/* The subject a config block names (pointers into r). */
void	 mca_csrgen_subject(const struct mca_cfg_certreq *r,
	    struct mca_csr_subject *s);

/* What the request asks the issuer for, in its extensionRequest. */
enum mca_csrgen_kind {
	MCA_CSRGEN_PLAIN = 0,	/* nothing: the issuer's profile decides */
	MCA_CSRGEN_CA,		/* a CA: basicConstraints, keyUsage */
	MCA_CSRGEN_MAX
};

/*
 * Builds a request for subject s (at least one field) on the public key
 * pub, signed by key with the digest hash names ("SHA256", "SHA384",
 * "SHA512"; mca_md_by_name()); pub may be NULL when key has its public
 * half (a key from a file). A CA request asks for basicConstraints
 * CA:TRUE and keyUsage keyCertSign, cRLSign, digitalSignature, both
 * critical (RFC 5280 4.2.1.9, 4.2.1.3). The result is checked with
 * X509_REQ_verify() against pub before it is handed out: a key that is
 * not pub's private half fails here. Returns 0, MCA_ERR_INVAL (subject
 * field or hash, named in d) or MCA_ERR_CRYPTO.
 */
int	 mca_csrgen(const struct mca_csr_subject *s, EVP_PKEY *key,
	    EVP_PKEY *pub, const char *hash, enum mca_csrgen_kind kind,
	    X509_REQ **out, struct mca_diag *d);

/*
 * A request for a certificate like cur (the one in place): its subject
 * and subjectAltName again (RFC 7030 4.2.2: a renewal keeps them), on
 * the public key pub, signed by key. cur NULL (none yet): the subject is
 * CN=name with a subjectAltName dNSName of name. Otherwise as
 * mca_csrgen() with MCA_CSRGEN_PLAIN.
 */
int	 mca_csrgen_like(X509 *cur, const char *name, EVP_PKEY *key,
	    EVP_PKEY *pub, const char *hash, X509_REQ **out,
	    struct mca_diag *d);

/* Appends req's PEM ("CERTIFICATE REQUEST") or DER to out. 0 or MCA_ERR_*. */
int	 mca_csrgen_pem(X509_REQ *req, struct mca_buf *out);
int	 mca_csrgen_der(X509_REQ *req, struct mca_buf *out);

#endif
