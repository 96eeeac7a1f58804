/*
 * PKCS#10 requests (RFC 2986) from untrusted clients. Nothing here holds
 * the CA key: we decode what the client sent and judge it. The messages
 * written into the diag go back to the client as a one-line error body.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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

/*
 * Every rule must hold for name: the attribute is there and each of its
 * values matches. label is for messages; NULL makes them quiet (d is
 * then still set, but callers only want a yes or no).
 */
static int
csr_match_rules(const X509_NAME *name, const struct mca_subject_rule *rules,
    size_t nrules, const char *label, struct mca_diag *d)
{
	const struct mca_subject_rule	*r;
	const X509_NAME_ENTRY		*e;
	unsigned char			*utf8 = NULL;
	char				 show[SHOW_MAX + 8];
	size_t				 i;
	int				 rc = MCA_ERR_POLICY, pos, len;

	for (i = 0; i < nrules; i++) {
		r = &rules[i];
		/* Required: at least one value, and every value must match. */
		pos = X509_NAME_get_index_by_NID(name, r->nid, -1);
		if (pos < 0) {
			rc = mca_diag(d, MCA_ERR_POLICY, "subject has no %s "
			    "(label \"%s\" requires one matching %s)",
			    r->attr, label, r->pattern);
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

/*
 * subject_unlisted "refuse": each attribute of name must be one that
 * subject_patterns lists. 0 or MCA_ERR_POLICY.
 */
static int
csr_check_unlisted(const X509_NAME *name, const struct mca_profile *p,
    struct mca_diag *d)
{
	const ASN1_OBJECT	*o;
	char			 attr[80], list[MCA_CFG_MAX_SUBJECT * 24];
	size_t			 i, off = 0;
	int			 k, nid, n;

	for (k = 0; k < X509_NAME_entry_count(name); k++) {
		o = X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, k));
		nid = OBJ_obj2nid(o);
		for (i = 0; i < p->nsubject_rules; i++)
			if (p->subject_rules[i].nid == nid)
				break;
		if (nid != NID_undef && i < p->nsubject_rules)
			continue;
		if (nid != NID_undef)
			(void)snprintf(attr, sizeof(attr), "%s",
			    OBJ_nid2sn(nid));
		else if (OBJ_obj2txt(attr, sizeof(attr), o, 1) <= 0)
			(void)snprintf(attr, sizeof(attr), "?");
		list[0] = '\0';
		for (i = 0; i < p->nsubject_rules && off < sizeof(list); i++) {
			n = snprintf(list + off, sizeof(list) - off, "%s%s",
			    i > 0 ? ", " : "", p->subject_rules[i].attr);
			if (n < 0)
				break;
			off += (size_t)n;
		}
		ERR_clear_error();
		return mca_diag(d, MCA_ERR_POLICY, "subject attribute %s is "
		    "not allowed on label \"%s\" (allowed: %s)", attr,
		    p->name != NULL ? p->name : "",
		    p->nsubject_rules > 0 ? list : "none");
	}
	return 0;
}

int
mca_csr_check_subject(const X509_NAME *name, const struct mca_profile *p,
    struct mca_diag *d)
{
	int	 rc;

	mca_diag_clear(d);
	if (p == NULL || (p->nsubject_rules == 0 &&
	    !p->subject_unlisted_refuse))
		return 0;
	if (name == NULL)
		return mca_diag(d, MCA_ERR_POLICY, "the CSR has no subject");
	if ((rc = csr_match_rules(name, p->subject_rules, p->nsubject_rules,
	    p->name != NULL ? p->name : "", d)) != 0)
		return rc;
	if (p->subject_unlisted_refuse)
		return csr_check_unlisted(name, p, d);
	return 0;
}

int
mca_csr_is_ra(const X509_NAME *subj, const struct mca_profile *p)
{
	if (subj == NULL || p == NULL || p->nra_rules == 0)
		return 0;
	return csr_match_rules(subj, p->ra_rules, p->nra_rules, "", NULL) ==
	    0;
}

int
mca_csr_san(X509_REQ *req, GENERAL_NAMES **out, struct mca_diag *d)
{
	STACK_OF(X509_EXTENSION)	*exts;
	X509_EXTENSION			*e;
	int				 i, rc = 0, seen = 0;

	*out = NULL;
	if ((exts = X509_REQ_get_extensions(req)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		e = sk_X509_EXTENSION_value(exts, i);
		if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) !=
		    NID_subject_alt_name)
			continue;
		/* RFC 5280 4.2: an extension appears at most once. */
		if (seen++) {
			rc = mca_diag(d, MCA_ERR_INVAL, "the CSR asks for "
			    "subjectAltName twice");
			break;
		}
		if ((*out = X509V3_EXT_d2i(e)) == NULL) {
			rc = mca_diag(d, MCA_ERR_INVAL, "the CSR's "
			    "subjectAltName cannot be decoded");
			break;
		}
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (rc != 0) {
		GENERAL_NAMES_free(*out);
		*out = NULL;
		ERR_clear_error();
	}
	return rc;
}

/* The name of a GeneralName type (RFC 5280 4.2.1.6) for messages. */
static const char *
csr_gen_name(int type)
{
	switch (type) {
	case GEN_OTHERNAME:
		return "otherName";
	case GEN_EMAIL:
		return "email";
	case GEN_DNS:
		return "DNS";
	case GEN_X400:
		return "x400Address";
	case GEN_DIRNAME:
		return "directoryName";
	case GEN_EDIPARTY:
		return "ediPartyName";
	case GEN_URI:
		return "URI";
	case GEN_IPADD:
		return "IP";
	case GEN_RID:
		return "registeredID";
	default:
		return "unknown";
	}
}

/* enum mca_san_type of a GeneralName type, or MCA_SAN_MAX. */
static int
csr_san_type(int type)
{
	switch (type) {
	case GEN_DNS:
		return MCA_SAN_DNS;
	case GEN_IPADD:
		return MCA_SAN_IP;
	case GEN_URI:
		return MCA_SAN_URI;
	case GEN_EMAIL:
		return MCA_SAN_EMAIL;
	default:
		return MCA_SAN_MAX;
	}
}

/* The types p allows, as "DNS, IP", into out. */
static void
csr_san_allowed(const struct mca_profile *p, char *out, size_t outlen)
{
	static const char *const names[MCA_SAN_MAX] = {
		"DNS", "IP", "URI", "email",
	};
	size_t	 off = 0;
	int	 t, n;

	out[0] = '\0';
	for (t = 0; t < MCA_SAN_MAX && off < outlen; t++) {
		if (!(p->san.types & (1u << t)))
			continue;
		n = snprintf(out + off, outlen - off, "%s%s",
		    off > 0 ? ", " : "", names[t]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (out[0] == '\0')
		(void)snprintf(out, outlen, "none");
}

/*
 * RFC 5280 4.2.1.6: a dNSName in the preferred name syntax (RFC 1034
 * 3.5, as RFC 1123 2.1 relaxed it): labels of 1-63 letters, digits and
 * hyphens, not starting or ending with a hyphen, 253 bytes in all.
 * With wild, "*" may be the whole leftmost label of a name with at
 * least two more (RFC 6125 6.4.3). NULL if fine, else why not.
 */
static const char *
csr_dns_syntax(const char *s, size_t len, int wild)
{
	size_t	 i, lab = 0, labels = 0;

	if (len == 0 || len > 253)
		return "is empty or longer than 253 characters";
	if (s[0] == '*') {
		if (!wild)
			return "is a wildcard, which this label does not "
			    "allow (san_policy.allow_wildcard)";
		if (len < 2 || s[1] != '.')
			return "has a wildcard that is not the whole leftmost "
			    "label";
		s += 2;
		len -= 2;
		if (memchr(s, '.', len) == NULL)
			return "is a wildcard for a whole top-level domain";
	}
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (lab == 0)
				return "has an empty label";
			if (lab > 63)
				return "has a label over 63 characters";
			if (s[i - 1] == '-' || s[i - lab] == '-')
				return "has a label that starts or ends with "
				    "'-'";
			labels++;
			lab = 0;
			continue;
		}
		if (s[i] == '*')
			return "has a wildcard that is not the whole leftmost "
			    "label";
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return "is not a host name (letters, digits, '-' and "
			    "'.' only)";
		lab++;
	}
	return NULL;
}

/* 1 if dns equals, ASCII case ignored, one of the CNs of subj. */
static int
csr_dns_is_cn(const X509_NAME *subj, const char *dns, size_t len)
{
	unsigned char	*utf8 = NULL;
	int		 pos = -1, n, hit = 0;

	if (subj == NULL)
		return 0;
	while (!hit && (pos = X509_NAME_get_index_by_NID(subj,
	    NID_commonName, pos)) >= 0) {
		n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, pos)));
		if (n >= 0 && (size_t)n == len &&
		    strncasecmp((const char *)utf8, dns, len) == 0)
			hit = 1;
		OPENSSL_free(utf8);
		utf8 = NULL;
	}
	ERR_clear_error();
	return hit;
}

int
mca_csr_check_san(const X509_NAME *subj, const GENERAL_NAMES *names,
    const struct mca_profile *p, struct mca_diag *d)
{
	const struct mca_san_policy	*sp;
	const GENERAL_NAME		*g;
	const ASN1_STRING		*str = NULL;
	const unsigned char		*v;
	const char			*tn, *why;
	char				 text[SUBJECT_VALUE_MAX + 1];
	char				 show[SHOW_MAX + 8], allowed[64];
	size_t				 len, k;
	int				 i, n, t;

	mca_diag_clear(d);
	if (p == NULL)
		return 0;
	sp = &p->san;
	n = names != NULL ? sk_GENERAL_NAME_num(names) : 0;
	if (n > sp->max_names)
		return mca_diag(d, MCA_ERR_POLICY, "subjectAltName has %d "
		    "names; label \"%s\" allows at most %d", n,
		    p->name != NULL ? p->name : "", sp->max_names);
	csr_san_allowed(p, allowed, sizeof(allowed));
	for (i = 0; i < n; i++) {
		g = sk_GENERAL_NAME_value(names, i);
		tn = csr_gen_name(g->type);
		if ((t = csr_san_type(g->type)) == MCA_SAN_MAX ||
		    !(sp->types & (1u << t)))
			return mca_diag(d, MCA_ERR_POLICY, "subjectAltName "
			    "%s is not allowed on label \"%s\" (allowed: %s)",
			    tn, p->name != NULL ? p->name : "", allowed);
		switch (g->type) {
		case GEN_DNS:
			str = g->d.dNSName;
			break;
		case GEN_URI:
			str = g->d.uniformResourceIdentifier;
			break;
		case GEN_EMAIL:
			str = g->d.rfc822Name;
			break;
		default:
			str = g->d.iPAddress;
			break;
		}
		v = ASN1_STRING_get0_data(str);
		len = (size_t)ASN1_STRING_length(str);
		if (g->type == GEN_IPADD) {
			/* RFC 5280 4.2.1.6: four octets, or sixteen. */
			if ((len != 4 && len != 16) || inet_ntop(len == 4 ?
			    AF_INET : AF_INET6, v, text, sizeof(text)) ==
			    NULL)
				return mca_diag(d, MCA_ERR_POLICY,
				    "subjectAltName IP has %zu octets, not 4 "
				    "or 16", len);
			len = strlen(text);
		} else {
			/* IA5String; we take printable ASCII only. */
			for (k = 0; k < len; k++)
				if (v[k] <= 0x20 || v[k] >= 0x7f)
					break;
			if (len == 0 || len > SUBJECT_VALUE_MAX || k < len)
				return mca_diag(d, MCA_ERR_POLICY,
				    "subjectAltName %s \"%s\" is empty, over "
				    "%d bytes, or holds a character other "
				    "than printable ASCII", tn,
				    csr_show(v, len, show, sizeof(show)),
				    SUBJECT_VALUE_MAX);
			memcpy(text, v, len);
			text[len] = '\0';
		}
		if (g->type == GEN_DNS &&
		    (why = csr_dns_syntax(text, len, sp->allow_wildcard)) !=
		    NULL)
			return mca_diag(d, MCA_ERR_POLICY, "subjectAltName "
			    "DNS \"%s\" %s", csr_show((const unsigned char *)
			    text, len, show, sizeof(show)), why);
		if (g->type == GEN_DNS && sp->dns_equals_cn &&
		    !csr_dns_is_cn(subj, text, len))
			return mca_diag(d, MCA_ERR_POLICY, "subjectAltName "
			    "DNS \"%s\" is not the subject's CN (label \"%s\" "
			    "says dns_equals_cn)", csr_show((const unsigned
			    char *)text, len, show, sizeof(show)),
			    p->name != NULL ? p->name : "");
		if (g->type == GEN_EMAIL && (strchr(text, '@') == NULL ||
		    strchr(text, '@') != strrchr(text, '@') ||
		    text[0] == '@' || text[len - 1] == '@'))
			return mca_diag(d, MCA_ERR_POLICY, "subjectAltName "
			    "email \"%s\" is not local-part@domain",
			    csr_show((const unsigned char *)text, len, show,
			    sizeof(show)));
		if (sp->pattern[t] != NULL &&
		    regexec(&sp->re[t], text, 0, NULL, 0) != 0)
			return mca_diag(d, MCA_ERR_POLICY, "subjectAltName "
			    "%s \"%s\" does not match %s", tn,
			    csr_show((const unsigned char *)text, len, show,
			    sizeof(show)), sp->pattern[t]);
	}
	return 0;
}

int
mca_csr_check_own_identity(X509_REQ *req, const X509 *cert,
    struct mca_diag *d)
{
	GENERAL_NAMES	*asked = NULL, *own = NULL;
	GENERAL_NAME	*g;
	char		 mine[MCA_NAME_MAX], theirs[MCA_NAME_MAX];
	char		 show[SHOW_MAX + 8];
	int		 i, j, rc;

	mca_diag_clear(d);
	if (req == NULL || cert == NULL)
		return MCA_ERR_INTERNAL;
	if (X509_NAME_cmp(X509_REQ_get_subject_name(req),
	    X509_get_subject_name(cert)) != 0) {
		if (mca_name_string(X509_get_subject_name(cert), mine,
		    sizeof(mine)) != 0)
			(void)snprintf(mine, sizeof(mine), "?");
		if (mca_name_string(X509_REQ_get_subject_name(req), theirs,
		    sizeof(theirs)) != 0)
			(void)snprintf(theirs, sizeof(theirs), "?");
		rc = mca_diag(d, MCA_ERR_POLICY, "a certificate of this CA "
		    "may enroll only its own subject (\"%s\"), not \"%s\" "
		    "(RFC 7030 3.3.2: only a registration authority enrolls "
		    "for others)", mine, theirs);
		goto out;
	}
	if ((rc = mca_csr_san(req, &asked, d)) != 0)
		goto out;
	own = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; asked != NULL && i < sk_GENERAL_NAME_num(asked); i++) {
		g = sk_GENERAL_NAME_value(asked, i);
		for (j = 0; own != NULL && j < sk_GENERAL_NAME_num(own); j++)
			if (GENERAL_NAME_cmp(g, sk_GENERAL_NAME_value(own,
			    j)) == 0)
				break;
		if (own != NULL && j < sk_GENERAL_NAME_num(own))
			continue;
		/* Say which name, as far as it is text. */
		show[0] = '\0';
		if (g->type == GEN_DNS || g->type == GEN_URI ||
		    g->type == GEN_EMAIL)
			(void)csr_show(ASN1_STRING_get0_data(g->d.ia5),
			    (size_t)ASN1_STRING_length(g->d.ia5), show,
			    sizeof(show));
		rc = mca_diag(d, MCA_ERR_POLICY, "a certificate of this CA "
		    "may enroll only its own subjectAltNames; %s%s%s%s is "
		    "not one of them", csr_gen_name(g->type),
		    show[0] ? " \"" : "", show, show[0] ? "\"" : "");
		goto out;
	}
	rc = 0;
out:
	GENERAL_NAMES_free(asked);
	GENERAL_NAMES_free(own);
	ERR_clear_error();
	return rc;
}
