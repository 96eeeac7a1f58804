#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "certinfo.h"
#include "csrgen.h"
#include "err.h"

#define FIELD_MAX	128	/* ub-locality-name, the largest (RFC 5280 A.1) */

void
mca_csrgen_subject(const struct mca_cfg_certreq *r, struct mca_csr_subject *s)
{
	memset(s, 0, sizeof(*s));
	s->common_name = r->common_name;
	s->country = r->country;
	s->province = r->province;
	s->locality = r->locality;
	s->organization = r->organization;
	s->organizational_unit = r->organizational_unit;
}

/* The name for s, in the usual order: C, ST, L, O, OU, CN. */
static int
subject_name(const struct mca_csr_subject *s, X509_NAME **out,
    struct mca_diag *d)
{
	const struct {
		int		 nid;
		const char	*key;
		const char	*val;
	} f[] = {
		{ NID_countryName, "country", s->country },
		{ NID_stateOrProvinceName, "province", s->province },
		{ NID_localityName, "locality", s->locality },
		{ NID_organizationName, "organization", s->organization },
		{ NID_organizationalUnitName, "organizational_unit",
		    s->organizational_unit },
		{ NID_commonName, "common_name", s->common_name },
	};
	X509_NAME	*n = NULL;
	size_t		 i, len;
	int		 rc = MCA_ERR_INVAL, any = 0;

	*out = NULL;
	if ((n = X509_NAME_new()) == NULL)
		return MCA_ERR_NOMEM;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].val == NULL || *f[i].val == '\0')
			continue;
		len = strlen(f[i].val);
		if (len > FIELD_MAX) {
			rc = mca_diag(d, rc, "%s: longer than %d bytes",
			    f[i].key, FIELD_MAX);
			goto out;
		}
		/* C is a PrintableString of two letters (RFC 5280 A.1). */
		if (f[i].nid == NID_countryName && (len != 2 ||
		    strspn(f[i].val, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 2)) {
			rc = mca_diag(d, rc, "country: \"%s\" is not a "
			    "two-letter code", f[i].val);
			goto out;
		}
		/* UTF8String, or PrintableString where the value allows. */
		if (!X509_NAME_add_entry_by_NID(n, f[i].nid, MBSTRING_UTF8,
		    (const unsigned char *)f[i].val, (int)len, -1, 0)) {
			rc = mca_diag_crypto(d, rc, "%s: \"%s\" cannot be a "
			    "name attribute", f[i].key, f[i].val);
			goto out;
		}
		any = 1;
	}
	if (!any) {
		rc = mca_diag(d, rc, "the subject has no fields");
		goto out;
	}
	*out = n;
	n = NULL;
	rc = 0;
out:
	X509_NAME_free(n);
	return rc;
}

/* A CA's extensionRequest (PKCS#9, RFC 2985 5.4.2), into *out. */
static int
ca_extensions(STACK_OF(X509_EXTENSION) **out)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION		*e = NULL;
	int			 ok = 0;

	*out = NULL;
	if ((exts = sk_X509_EXTENSION_new_null()) == NULL)
		goto out;
	if ((e = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
	    "critical,CA:TRUE")) == NULL || !sk_X509_EXTENSION_push(exts, e))
		goto out;
	if ((e = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
	    "critical,keyCertSign,cRLSign,digitalSignature")) == NULL ||
	    !sk_X509_EXTENSION_push(exts, e))
		goto out;
	e = NULL;
	*out = exts;
	exts = NULL;
	ok = 1;
out:
	X509_EXTENSION_free(e);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return ok;
}

/*
 * The request for name on pub with the extensions exts (may be NULL),
 * signed by key with md, checked against pub.
 */
static int
build(X509_NAME *name, STACK_OF(X509_EXTENSION) *exts, EVP_PKEY *key,
    EVP_PKEY *pub, const EVP_MD *md, X509_REQ **out, struct mca_diag *d)
{
	X509_REQ	*req = NULL;
	int		 rc = MCA_ERR_CRYPTO;

	if ((req = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, name)) {
		rc = mca_diag_crypto(d, rc, "cannot build a request");
		goto out;
	}
	if (!X509_REQ_set_pubkey(req, pub)) {
		rc = mca_diag_crypto(d, rc, "the key has no usable public "
		    "half");
		goto out;
	}
	if (exts != NULL && sk_X509_EXTENSION_num(exts) > 0 &&
	    !X509_REQ_add_extensions(req, exts)) {
		rc = mca_diag_crypto(d, rc, "cannot add the extensions");
		goto out;
	}
	if (X509_REQ_sign(req, key, md) <= 0) {
		rc = mca_diag_crypto(d, rc, "X509_REQ_sign");
		goto out;
	}
	/* Proof of possession as the issuer will check it (RFC 2986 3). */
	if (X509_REQ_verify(req, pub) != 1) {
		rc = mca_diag_crypto(d, rc, "the request's signature does not "
		    "verify with its public key (key and public key differ?)");
		goto out;
	}
	*out = req;
	req = NULL;
	rc = 0;
out:
	ERR_clear_error();
	X509_REQ_free(req);
	return rc;
}

int
mca_csrgen(const struct mca_csr_subject *s, EVP_PKEY *key, EVP_PKEY *pub,
    const char *hash, enum mca_csrgen_kind kind, X509_REQ **out,
    struct mca_diag *d)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const EVP_MD		*md;
	X509_NAME		*name = NULL;
	int			 rc;

	*out = NULL;
	ERR_clear_error();
	if ((md = mca_md_by_name(hash)) == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "hash_function: unknown "
		    "\"%s\" (SHA256, SHA384 or SHA512)", hash ? hash : "");
	if (kind < 0 || kind >= MCA_CSRGEN_MAX)
		return mca_diag(d, MCA_ERR_INVAL, "request kind %d", (int)kind);
	if (pub == NULL)
		pub = key;
	if ((rc = subject_name(s, &name, d)) != 0)
		goto out;
	if (kind == MCA_CSRGEN_CA && !ca_extensions(&exts)) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "cannot add the CA "
		    "extensions");
		goto out;
	}
	rc = build(name, exts, key, pub, md, out, d);
out:
	ERR_clear_error();
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	return rc;
}

int
mca_csrgen_like(X509 *cur, const char *name, EVP_PKEY *key, EVP_PKEY *pub,
    const char *hash, X509_REQ **out, struct mca_diag *d)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION		*e = NULL;
	const X509_EXTENSION	*san;
	const EVP_MD		*md;
	X509_NAME		*n = NULL;
	char			 v[300];
	int			 rc = MCA_ERR_NOMEM, i;

	*out = NULL;
	ERR_clear_error();
	if ((md = mca_md_by_name(hash)) == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "hash_function: unknown "
		    "\"%s\" (SHA256, SHA384 or SHA512)", hash ? hash : "");
	if (pub == NULL)
		pub = key;
	if ((exts = sk_X509_EXTENSION_new_null()) == NULL)
		goto out;
	if (cur != NULL) {
		if ((n = X509_NAME_dup(X509_get_subject_name(cur))) == NULL)
			goto out;
		/* RFC 5280 4.2.1.6: the names it is for, again. */
		if ((i = X509_get_ext_by_NID(cur, NID_subject_alt_name,
		    -1)) >= 0) {
			san = X509_get_ext(cur, i);
			if ((e = X509_EXTENSION_dup(san)) == NULL ||
			    !sk_X509_EXTENSION_push(exts, e))
				goto out;
			e = NULL;
		}
		if (X509_NAME_entry_count(n) == 0 &&
		    sk_X509_EXTENSION_num(exts) == 0) {
			rc = mca_diag(d, MCA_ERR_INVAL, "the certificate in "
			    "place has neither a subject nor a "
			    "subjectAltName");
			goto out;
		}
	} else {
		if (name == NULL || *name == '\0' || strlen(name) >
		    FIELD_MAX || strpbrk(name, ", ") != NULL) {
			rc = mca_diag(d, MCA_ERR_INVAL, "no name for the "
			    "request");
			goto out;
		}
		if ((n = X509_NAME_new()) == NULL ||
		    !X509_NAME_add_entry_by_NID(n, NID_commonName,
		    MBSTRING_UTF8, (const unsigned char *)name, -1, -1, 0))
			goto out;
		(void)snprintf(v, sizeof(v), "DNS:%s", name);
		if ((e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
		    v)) == NULL || !sk_X509_EXTENSION_push(exts, e))
			goto out;
		e = NULL;
	}
	rc = build(n, exts, key, pub, md, out, d);
out:
	if (rc == MCA_ERR_NOMEM)
		(void)mca_diag_crypto(d, rc, "building the request");
	ERR_clear_error();
	X509_EXTENSION_free(e);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	return rc;
}

int
mca_csrgen_pem(X509_REQ *req, struct mca_buf *out)
{
	BIO	*b;
	char	*p;
	long	 n;
	int	 rc = MCA_ERR_CRYPTO;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return MCA_ERR_NOMEM;
	if (PEM_write_bio_X509_REQ(b, req) == 1 &&
	    (n = BIO_get_mem_data(b, &p)) > 0)
		rc = mca_buf_add(out, p, (size_t)n);
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

int
mca_csrgen_der(X509_REQ *req, struct mca_buf *out)
{
	unsigned char	*der = NULL;
	int		 n, rc;

	if ((n = i2d_X509_REQ(req, &der)) <= 0) {
		ERR_clear_error();
		return MCA_ERR_CRYPTO;
	}
	rc = mca_buf_add(out, der, (size_t)n);
	OPENSSL_free(der);
	return rc;
}
