/*
 * PKCS#10 requests (RFC 2986) from untrusted clients. Nothing here holds
 * the CA key: we decode what the client sent and judge it. The messages
 * written into the diag go back to the client as a one-line error body.
 */
#include "config.h"

#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "b64.h"
#include "buf.h"
#include "certinfo.h"
#include "cfg.h"
#include "csr.h"
#include "err.h"
#include "keyspec.h"
#include "pem.h"

#define ACCEPTED	"accepted are RSA 2048-8192 and EC P-256, P-384, P-521"
#define SUBJECT_VALUE_MAX	1024	/* one subject value matched, bytes */
#define SHOW_MAX		64	/* a value quoted back to the client */

/* The PEM labels clients use: RFC 7468 7, and the older "NEW" form. */
static const char *const csr_labels[] = {
	"CERTIFICATE REQUEST",
	"NEW CERTIFICATE REQUEST",
};

static int
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Returns the label of the first CSR PEM block in body, or NULL. The
 * marker ends in "-----", so neither label matches inside the other.
 */
static const char *
csr_pem_label(const unsigned char *body, size_t len)
{
	char		 m[64];
	const char	*best = NULL, *at, *hit = NULL;
	size_t		 i;

	for (i = 0; i < sizeof(csr_labels) / sizeof(csr_labels[0]); i++) {
		(void)snprintf(m, sizeof(m), "-----BEGIN %s-----",
		    csr_labels[i]);
		at = memmem(body, len, m, strlen(m));
		if (at != NULL && (hit == NULL || at < hit)) {
			hit = at;
			best = csr_labels[i];
		}
	}
	return best;
}

int
mca_csr_decode(const unsigned char *body, size_t len, X509_REQ **out,
    struct mca_diag *d)
{
	struct mca_buf		 der = MCA_BUF_INIT;
	const unsigned char	*p, *q;
	const char		*label;
	X509_REQ		*req = NULL;
	size_t			 i, n;
	int			 rc = MCA_ERR_INVAL;

	*out = NULL;
	mca_diag_clear(d);
	/* The cap comes first, before looking at the bytes. */
	if (len > MCA_CSR_BODY_MAX) {
		rc = mca_diag(d, MCA_ERR_TOOBIG, "body is larger than %u bytes",
		    MCA_CSR_BODY_MAX);
		goto out;
	}
	for (i = 0; i < len && is_blank(body[i]); i++)
		continue;
	if (i == len) {
		rc = mca_diag(d, MCA_ERR_INVAL, "body is empty");
		goto out;
	}

	if ((label = csr_pem_label(body, len)) != NULL) {
		/* Text: a NUL has no business in it. */
		if (memchr(body, '\0', len) != NULL) {
			rc = mca_diag(d, MCA_ERR_INVAL,
			    "body contains a NUL byte");
			goto out;
		}
		if (mca_pem_decode((const char *)body, len, label, &der,
		    NULL) != 0) {
			rc = mca_diag(d, MCA_ERR_INVAL,
			    "PEM block is not valid base64");
			goto out;
		}
		p = der.data;
		n = der.len;
	} else if (mca_b64_decode((const char *)body, len, &der) == 0) {
		/*
		 * RFC 7030 4.2.1: base64 DER, lines broken anywhere.
		 * RFC 8951 3.2: base64 whatever Content-Transfer-Encoding
		 * says.
		 */
		p = der.data;
		n = der.len;
	} else if (body[0] == 0x30) {
		/* Not base64, but a DER SEQUENCE: some clients send binary. */
		p = body;
		n = len;
	} else if (memchr(body, '\0', len) != NULL) {
		rc = mca_diag(d, MCA_ERR_INVAL, "body contains a NUL byte");
		goto out;
	} else {
		rc = mca_diag(d, MCA_ERR_INVAL, "body is not base64 or PEM");
		goto out;
	}

	q = p;
	if (n == 0 || n > LONG_MAX ||
	    (req = d2i_X509_REQ(NULL, &q, (long)n)) == NULL) {
		rc = mca_diag(d, MCA_ERR_INVAL, "CSR is not valid PKCS#10 DER");
		goto out;
	}
	/* DER has one encoding: anything after the CSR is not ours to drop. */
	if (q != p + n) {
		rc = mca_diag(d, MCA_ERR_INVAL, "trailing bytes after the CSR");
		goto out;
	}
	*out = req;
	req = NULL;
	rc = 0;
out:
	if (rc != 0)
		ERR_clear_error();
	X509_REQ_free(req);
	mca_buf_free(&der);
	return rc;
}

/*
 * The size of the curve of an EC key sent with a named curve we accept,
 * or -1. RFC 5480 2.1.1: in PKIX the parameters MUST be namedCurve;
 * implicitCurve and specifiedCurve (explicit parameters) MUST NOT be
 * used.
 */
static int
csr_ec_curve(X509_REQ *req, int *explicit)
{
	X509_PUBKEY		*pub;
	X509_ALGOR		*alg = NULL;
	const ASN1_OBJECT	*aobj = NULL;
	const void		*pval = NULL;
	const struct mca_curve	*c;
	int			 ptype = V_ASN1_UNDEF, nid;

	*explicit = 0;
	if ((pub = X509_REQ_get_X509_PUBKEY(req)) == NULL ||
	    !X509_PUBKEY_get0_param(NULL, NULL, NULL, &alg, pub) ||
	    alg == NULL)
		return -1;
	X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
	if (OBJ_obj2nid(aobj) != NID_X9_62_id_ecPublicKey)
		return -1;
	if (ptype != V_ASN1_OBJECT) {
		*explicit = 1;
		return -1;
	}
	nid = OBJ_obj2nid(pval);
	return (c = mca_keyspec_curve_nid(nid)) != NULL ? c->bits : -1;
}

/* 1 if the RSA public exponent is odd and at least 3. */
static int
csr_rsa_exponent_ok(const EVP_PKEY *k)
{
	BIGNUM	*e = NULL;
	int	 ok;

	if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e))
		return 0;
	ok = BN_is_odd(e) && !BN_is_one(e);
	BN_free(e);
	return ok;
}

/*
 * The key the profile asks for, in words, into out ("EC P-256", "RSA",
 * "RSA 3072"). "" if the profile asks for nothing.
 */
static void
csr_profile_wants(const struct mca_profile *p, char *out, size_t outlen)
{
	const struct mca_curve	*c;
	const char		*curve = NULL;

	out[0] = '\0';
	if (p == NULL)
		return;
	switch (p->key_type) {
	case MCA_KEYTYPE_RSA:
		if (p->key_size > 0)
			(void)snprintf(out, outlen, "RSA %d", p->key_size);
		else
			(void)snprintf(out, outlen, "RSA");
		break;
	case MCA_KEYTYPE_EC:
		if ((c = mca_keyspec_curve_bits(p->key_size)) != NULL)
			curve = c->name;
		if (p->key_size == 0)
			(void)snprintf(out, outlen, "EC");
		else if (curve != NULL)
			(void)snprintf(out, outlen, "EC %s", curve);
		else
			(void)snprintf(out, outlen, "EC %d", p->key_size);
		break;
	default:
		break;
	}
}

/* allowed_keys as "EC-P-256, EC-P-384" into out. */
static void
csr_allowed_list(const struct mca_profile *p, char *out, size_t outlen)
{
	size_t	 i, o = 0;
	int	 n;

	out[0] = '\0';
	for (i = 0; i < p->nallowed_keys && o < outlen; i++) {
		n = snprintf(out + o, outlen - o, "%s%s", i > 0 ? ", " : "",
		    p->allowed_keys[i].name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

int
mca_csr_check(X509_REQ *req, const struct mca_profile *p,
    struct mca_diag *d)
{
	EVP_PKEY	*k;
	char		 desc[64], want[MCA_CFG_MAX_KEYS * 16];
	size_t		 i;
	int		 rc = MCA_ERR_POLICY, curve = -1, explicit = 0;
	int		 is_rsa = 0, bits = 0, match;

	mca_diag_clear(d);
	if (req == NULL)
		return MCA_ERR_INTERNAL;
	if ((k = X509_REQ_get0_pubkey(req)) == NULL) {
		/* An algorithm this OpenSSL cannot even load. */
		rc = mca_diag(d, MCA_ERR_POLICY,
		    "key of unknown type refused: " ACCEPTED);
		goto out;
	}
	if (mca_key_describe(k, desc, sizeof(desc)) != 0)
		(void)snprintf(desc, sizeof(desc), "unknown");

	/*
	 * The key is judged before its signature is checked, so that we
	 * never run a verification with a key we would refuse anyway
	 * (explicit curves, huge moduli, odd algorithms).
	 */
	if (EVP_PKEY_is_a(k, "RSA")) {
		/* rsaEncryption only: RSA-PSS keys are not "RSA". */
		is_rsa = 1;
		bits = EVP_PKEY_get_bits(k);
		if (bits < MCA_RSA_MIN_BITS || bits > MCA_RSA_MAX_BITS) {
			rc = mca_diag(d, MCA_ERR_POLICY,
			    "key %s refused: " ACCEPTED, desc);
			goto out;
		}
		if (!csr_rsa_exponent_ok(k)) {
			rc = mca_diag(d, MCA_ERR_POLICY, "key %s refused: "
			    "public exponent must be odd and at least 3", desc);
			goto out;
		}
	} else if (EVP_PKEY_is_a(k, "EC")) {
		if ((curve = csr_ec_curve(req, &explicit)) == -1) {
			if (explicit)
				rc = mca_diag(d, MCA_ERR_POLICY,
				    "key %s refused: explicit curve parameters "
				    "(RFC 5480 2.1.1 requires a named curve)",
				    desc);
			else
				rc = mca_diag(d, MCA_ERR_POLICY,
				    "key %s refused: " ACCEPTED, desc);
			goto out;
		}
	} else {
		rc = mca_diag(d, MCA_ERR_POLICY, "key %s refused: " ACCEPTED,
		    desc);
		goto out;
	}

	/* The label's own rule: allowed_keys, else key_type/key_size. */
	if (p != NULL && p->nallowed_keys > 0) {
		match = 0;
		for (i = 0; i < p->nallowed_keys; i++)
			if (strcmp(desc, p->allowed_keys[i].name) == 0)
				match = 1;
		if (!match) {
			csr_allowed_list(p, want, sizeof(want));
			rc = mca_diag(d, MCA_ERR_POLICY, "key %s is not "
			    "allowed on label \"%s\" (allowed: %s)", desc,
			    p->name != NULL ? p->name : "", want);
			goto out;
		}
	} else if (p != NULL && p->key_type != MCA_KEYTYPE_ANY) {
		if (p->key_type == MCA_KEYTYPE_RSA)
			match = is_rsa &&
			    (p->key_size == 0 || p->key_size == bits);
		else if (p->key_type == MCA_KEYTYPE_EC)
			match = curve != -1 && (p->key_size == 0 ||
			    p->key_size == curve);
		else
			match = 0;
		if (!match) {
			csr_profile_wants(p, want, sizeof(want));
			rc = mca_diag(d, MCA_ERR_POLICY,
			    "key %s refused: label \"%s\" requires %s", desc,
			    p->name != NULL ? p->name : "", want);
			goto out;
		}
	}

	/* Proof of possession: the CSR is signed by its own key (RFC 2986 3). */
	if (X509_REQ_verify(req, k) != 1) {
		rc = mca_diag(d, MCA_ERR_INVAL, "CSR signature does not verify "
		    "(proof of possession failed)");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		ERR_clear_error();
	return rc;
}

/* RFC 7030 4.4.1.1 and 4.4.1.2: the attributes that ask for encryption. */
static const struct {
	const char	*oid;
	const char	*name;
	const char	*section;
} csr_key_wrap[] = {
	{ "1.2.840.113549.1.9.16.2.37", "DecryptKeyIdentifier", "4.4.1.1" },
	{ "1.2.840.113549.1.9.16.2.54", "AsymmetricDecryptKeyIdentifier",
	    "4.4.1.2" },
};

int
mca_csr_keygen_check(X509_REQ *req, struct mca_diag *d)
{
	ASN1_OBJECT	*o;
	size_t		 i;
	int		 at;

	mca_diag_clear(d);
	if (req == NULL)
		return MCA_ERR_INTERNAL;
	for (i = 0; i < sizeof(csr_key_wrap) / sizeof(csr_key_wrap[0]); i++) {
		if ((o = OBJ_txt2obj(csr_key_wrap[i].oid, 1)) == NULL) {
			ERR_clear_error();
			return MCA_ERR_NOMEM;
		}
		at = X509_REQ_get_attr_by_OBJ(req, o, -1);
		ASN1_OBJECT_free(o);
		if (at >= 0)
			return mca_diag(d, MCA_ERR_POLICY, "the CSR asks for "
			    "the key encrypted (%s, RFC 7030 %s); this server "
			    "only sends it under TLS", csr_key_wrap[i].name,
			    csr_key_wrap[i].section);
	}
	return 0;
}

/*
 * A subject value quoted back: printable ASCII kept, others as '?', cut
 * at SHOW_MAX with "...".
 */
static const char *
csr_show(const unsigned char *v, size_t len, char *buf, size_t buflen)
{
	size_t	 i, o = 0;

	for (i = 0; i < len && o + 4 < buflen; i++) {
		if (i == SHOW_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = v[i] >= 0x20 && v[i] < 0x7f && v[i] != '"' ?
		    (char)v[i] : '?';
	}
	buf[o] = '\0';
	return buf;
}

int
mca_csr_check_subject(const X509_NAME *name, const struct mca_profile *p,
    struct mca_diag *d)
{
	const struct mca_subject_rule	*r;
	const X509_NAME_ENTRY		*e;
	unsigned char			*utf8 = NULL;
	char				 show[SHOW_MAX + 8];
	size_t				 i;
	int				 rc = MCA_ERR_POLICY, pos, len;

	mca_diag_clear(d);
	if (p == NULL || p->nsubject_rules == 0)
		return 0;
	if (name == NULL)
		return mca_diag(d, MCA_ERR_POLICY, "the CSR has no subject");
	for (i = 0; i < p->nsubject_rules; i++) {
		r = &p->subject_rules[i];
		/* Required: at least one value, and every value must match. */
		pos = X509_NAME_get_index_by_NID(name, r->nid, -1);
		if (pos < 0) {
			rc = mca_diag(d, MCA_ERR_POLICY, "subject has no %s "
			    "(label \"%s\" requires one matching %s)",
			    r->attr, p->name != NULL ? p->name : "",
			    r->pattern);
			goto out;
		}
		for (; pos >= 0;
		    pos = X509_NAME_get_index_by_NID(name, r->nid, pos)) {
			e = X509_NAME_get_entry(name, pos);
			if ((len = ASN1_STRING_to_UTF8(&utf8,
			    X509_NAME_ENTRY_get_data(e))) < 0) {
				rc = mca_diag(d, MCA_ERR_POLICY, "subject %s "
				    "is not a valid string", r->attr);
				goto out;
			}
			if ((size_t)len > SUBJECT_VALUE_MAX ||
			    memchr(utf8, '\0', (size_t)len) != NULL) {
				rc = mca_diag(d, MCA_ERR_POLICY, "subject %s "
				    "is over %d bytes or holds a NUL",
				    r->attr, SUBJECT_VALUE_MAX);
				goto out;
			}
			if (regexec(&r->re, (const char *)utf8, 0, NULL, 0) !=
			    0) {
				rc = mca_diag(d, MCA_ERR_POLICY, "subject %s "
				    "\"%s\" does not match %s", r->attr,
				    csr_show(utf8, (size_t)len, show,
				    sizeof(show)), r->pattern);
				goto out;
			}
			OPENSSL_free(utf8);
			utf8 = NULL;
		}
	}
	rc = 0;
out:
	OPENSSL_free(utf8);
	if (rc != 0)
		ERR_clear_error();
	return rc;
}
