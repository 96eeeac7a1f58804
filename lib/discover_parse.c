/*
 * Discovery: the certificates in one buffer (a file's contents). PEM
 * with any number of blocks, a DER certificate, PKCS#7 certs-only
 * (RFC 2315 9.1; DER or PEM), PKCS#12 (RFC 7292). The bytes are
 * untrusted: every count and size has a cap, and the cheap checks
 * (a PEM marker, the outer DER header) come before OpenSSL sees them,
 * so that the many files that are no certificate at all cost a memchr
 * and a few byte compares.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "buf.h"
#include "certinfo.h"
#include "discover.h"
#include "discover_int.h"
#include "err.h"

#define DISC_PARSE_MAX		(64u * 1024u * 1024u)	/* one buffer */
#define DISC_CERTS_MAX		4096	/* certificates in one buffer */
#define DISC_PEM_BLOCKS_MAX	16384	/* PEM blocks of any kind */
#define DISC_PEM_LABEL_MAX	64
#define DISC_P12_DEPTH		4	/* nested SafeContents bags */
#define DISC_P12_BAGS_MAX	4096
/*
 * Iterations of a PKCS#12 key derivation (RFC 7292 B.2, RFC 8018 5.2)
 * we run, per password tried: 2048 is what OpenSSL and Windows write; a
 * hostile file asking for 2^31 must not stall the scan.
 */
#define DISC_P12_ITER_MAX	100000

static const char	 pem_begin[] = "-----BEGIN ";
static const char	 pem_dashes[] = "-----";

/* OID 1.2.840.113549.1.7.2 signedData, in DER (RFC 2315 14). */
static const unsigned char	 oid_signed[] = {
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02
};

struct pctx {
	const char		*loc;
	const struct mca_disc_opts *opts;
	mca_disc_cb		 cb;
	void			*arg;
	struct mca_diag		*d;
	int			 n;	/* certificates reported */
	int			 cbrc;	/* the callback's stop value */
	struct mca_buf		 sans;
	struct mca_disc_cert	 c;
};

/*
 * Reads a DER tag and definite length at p[0..len): *hdr the header's
 * size, *body the content's. Returns 0, or -1 when it is not one
 * (indefinite lengths included: X.690 8.1.3.6, not DER).
 */
static int
der_header(const unsigned char *p, size_t len, size_t *hdr, size_t *body)
{
	size_t	 n, i, l = 0;

	if (len < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	if (p[1] < 0x80) {
		*hdr = 2;
		*body = p[1];
	} else {
		n = p[1] & 0x7f;
		if (n == 0 || n > 4 || len < 2 + n)
			return -1;
		for (i = 0; i < n; i++)
			l = (l << 8) | p[2 + i];
		*hdr = 2 + n;
		*body = l;
	}
	if (*body > len - *hdr)
		return -1;
	return 0;
}

/* Control characters (from SAN or name bytes) become '?': one line. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void
copy_trunc(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	if (srclen < dstlen) {
		memcpy(dst, src, srclen);
		dst[srclen] = '\0';
		return;
	}
	memcpy(dst, src, dstlen - 4);
	memcpy(dst + dstlen - 4, "...", 4);
}

int
mca_disc_fill(struct mca_disc_cert *c, X509 *x, const unsigned char *der,
    size_t derlen, struct mca_buf *sans)
{
	BASIC_CONSTRAINTS	*bc = NULL;
	EVP_PKEY		*k;
	ASN1_OBJECT		*kalg = NULL;
	X509_PUBKEY		*pub;
	const X509_ALGOR	*salg = NULL;
	const ASN1_OBJECT	*soid = NULL;
	int			 nid;

	memset(c, 0, sizeof(*c));
	c->der = der;
	c->der_len = derlen;
	(void)mca_cert_serial_hex(x, c->serial, sizeof(c->serial));
	(void)mca_name_string(X509_get_subject_name(x), c->subject,
	    sizeof(c->subject));
	(void)mca_name_string(X509_get_issuer_name(x), c->issuer,
	    sizeof(c->issuer));
	one_line(c->subject);
	one_line(c->issuer);
	mca_buf_reset(sans);
	if (mca_cert_san_string(x, sans) == MCA_ERR_INVAL)
		(void)mca_buf_addstr(sans, "(malformed)");
	copy_trunc(c->sans, sizeof(c->sans), mca_buf_str(sans), sans->len);
	one_line(c->sans);
	(void)mca_asn1time_iso(X509_get0_notBefore(x), c->not_before,
	    sizeof(c->not_before));
	(void)mca_asn1time_iso(X509_get0_notAfter(x), c->not_after,
	    sizeof(c->not_after));
	if ((k = X509_get0_pubkey(x)) != NULL) {
		(void)mca_key_describe(k, c->key_type, sizeof(c->key_type));
		c->key_bits = EVP_PKEY_get_bits(k);
	} else {
		/* A key OpenSSL does not know: name its algorithm. */
		pub = X509_get_X509_PUBKEY(x);
		if (pub != NULL && X509_PUBKEY_get0_param(&kalg, NULL, NULL,
		    NULL, pub) && kalg != NULL)
			(void)OBJ_obj2txt(c->key_type, sizeof(c->key_type),
			    kalg, 0);
		else
			(void)snprintf(c->key_type, sizeof(c->key_type),
			    "unknown");
	}
	if ((nid = X509_get_signature_nid(x)) != NID_undef)
		(void)snprintf(c->sig_alg, sizeof(c->sig_alg), "%s",
		    OBJ_nid2ln(nid));
	else {
		X509_get0_signature(NULL, &salg, x);
		if (salg != NULL)
			X509_ALGOR_get0(&soid, NULL, NULL, salg);
		if (soid == NULL || OBJ_obj2txt(c->sig_alg, sizeof(c->sig_alg),
		    soid, 1) <= 0)
			(void)snprintf(c->sig_alg, sizeof(c->sig_alg),
			    "unknown");
	}
	/* RFC 5280 4.2.1.9 */
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	c->is_ca = bc != NULL && bc->ca;
	BASIC_CONSTRAINTS_free(bc);
	if (mca_cert_thumbprint(x, EVP_sha1(), c->sha1, sizeof(c->sha1)) ||
	    mca_cert_thumbprint(x, EVP_sha256(), c->sha256,
	    sizeof(c->sha256))) {
		ERR_clear_error();
		return MCA_ERR_INVAL;
	}
	ERR_clear_error();
	return 0;
}

/* Fills p->c from x and its DER, then hands it to the callback. */
static int
report(struct pctx *p, X509 *x, const unsigned char *der, size_t derlen)
{
	struct mca_disc_report	 r;
	int			 rc;

	if (p->n >= DISC_CERTS_MAX)
		return mca_diag(p->d, MCA_ERR_INVAL,
		    "%s: more than %d certificates", p->loc, DISC_CERTS_MAX);
	if (mca_disc_fill(&p->c, x, der, derlen, &p->sans) != 0)
		return mca_diag(p->d, MCA_ERR_INVAL,
		    "%s: certificate %d: cannot hash it", p->loc, p->n);
	p->c.location = p->loc;
	p->c.index = p->n++;
	memset(&r, 0, sizeof(r));
	r.event = MCA_DISC_CERT;
	r.path = p->loc;
	r.c = &p->c;
	if ((rc = p->cb(p->arg, &r)) != 0)
		p->cbrc = rc;
	return rc;
}

/*
 * A certificate as RFC 5280 4.1 has it, decoded by our own template:
 * OpenSSL 3.0's d2i_X509() decodes the public key through the provider
 * decoders on every call, more than half the cost of a scan. The key's
 * type and size are read here from SubjectPublicKeyInfo for the common
 * algorithms; any other falls back to d2i_X509() and mca_disc_fill().
 */
typedef struct {
	ASN1_TIME	*nb;
	ASN1_TIME	*na;
} DISC_VALIDITY;

typedef struct {
	X509_ALGOR	*alg;
	ASN1_BIT_STRING	*key;
} DISC_SPKI;

typedef struct {
	ASN1_INTEGER	*version;
	ASN1_INTEGER	*serial;
	X509_ALGOR	*sig;
	X509_NAME	*issuer;
	DISC_VALIDITY	*validity;
	X509_NAME	*subject;
	DISC_SPKI	*spki;
	ASN1_BIT_STRING	*iuid;
	ASN1_BIT_STRING	*suid;
	STACK_OF(X509_EXTENSION) *exts;
} DISC_TBS;

typedef struct {
	DISC_TBS	*tbs;
	X509_ALGOR	*alg;
	ASN1_BIT_STRING	*sig;
} DISC_CERT;

ASN1_SEQUENCE(DISC_VALIDITY) = {
	ASN1_SIMPLE(DISC_VALIDITY, nb, ASN1_TIME),
	ASN1_SIMPLE(DISC_VALIDITY, na, ASN1_TIME)
} static_ASN1_SEQUENCE_END(DISC_VALIDITY)

ASN1_SEQUENCE(DISC_SPKI) = {
	ASN1_SIMPLE(DISC_SPKI, alg, X509_ALGOR),
	ASN1_SIMPLE(DISC_SPKI, key, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(DISC_SPKI)

ASN1_SEQUENCE(DISC_TBS) = {
	ASN1_EXP_OPT(DISC_TBS, version, ASN1_INTEGER, 0),
	ASN1_SIMPLE(DISC_TBS, serial, ASN1_INTEGER),
	ASN1_SIMPLE(DISC_TBS, sig, X509_ALGOR),
	ASN1_SIMPLE(DISC_TBS, issuer, X509_NAME),
	ASN1_SIMPLE(DISC_TBS, validity, DISC_VALIDITY),
	ASN1_SIMPLE(DISC_TBS, subject, X509_NAME),
	ASN1_SIMPLE(DISC_TBS, spki, DISC_SPKI),
	ASN1_IMP_OPT(DISC_TBS, iuid, ASN1_BIT_STRING, 1),
	ASN1_IMP_OPT(DISC_TBS, suid, ASN1_BIT_STRING, 2),
	ASN1_EXP_SEQUENCE_OF_OPT(DISC_TBS, exts, X509_EXTENSION, 3)
} static_ASN1_SEQUENCE_END(DISC_TBS)

ASN1_SEQUENCE(DISC_CERT) = {
	ASN1_SIMPLE(DISC_CERT, tbs, DISC_TBS),
	ASN1_SIMPLE(DISC_CERT, alg, X509_ALGOR),
	ASN1_SIMPLE(DISC_CERT, sig, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(DISC_CERT)

/* The digests, fetched once: an implicit fetch per call is a lock. */
static pthread_once_t	 md_once = PTHREAD_ONCE_INIT;
static EVP_MD		*md_sha1, *md_sha256;

static void
md_fetch(void)
{
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static int
hex_digest(const EVP_MD *md, const unsigned char *p, size_t n, char *out,
    size_t outlen)
{
	static const char	 hx[] = "0123456789ABCDEF";
	unsigned char		 d[EVP_MAX_MD_SIZE];
	unsigned int		 dn = 0, i;

	if (md == NULL || !EVP_Digest(p, n, d, &dn, md, NULL) ||
	    outlen < 2 * (size_t)dn + 1)
		return -1;
	for (i = 0; i < dn; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * dn] = '\0';
	return 0;
}

/*
 * Type and size of a public key as mca_key_describe() and
 * EVP_PKEY_get_bits() name them, for RSA (RFC 8017 A.1.1), EC on the
 * curves below (RFC 5480 2.1.1.1) and EdDSA (RFC 8410 3). Returns 0, or
 * -1 for any other (the caller then asks OpenSSL).
 */
static int
spki_describe(const DISC_SPKI *k, char *type, size_t tlen, int *bits)
{
	static const struct {
		int		 nid;
		const char	*name;
		int		 bits;
	} curves[] = {
		{ NID_X9_62_prime256v1, "P-256", 256 },
		{ NID_secp384r1, "P-384", 384 },
		{ NID_secp521r1, "P-521", 521 },
		{ NID_secp256k1, "secp256k1", 256 },
	};
	const ASN1_OBJECT	*obj = NULL;
	const void		*pval = NULL;
	const unsigned char	*p;
	size_t			 hdr, body, ihdr, ibody, i;
	int			 ptype = 0, nid;

	X509_ALGOR_get0(&obj, &ptype, &pval, k->alg);
	switch (OBJ_obj2nid(obj)) {
	case NID_rsaEncryption:
		p = ASN1_STRING_get0_data(k->key);
		if (der_header(p, (size_t)ASN1_STRING_length(k->key), &hdr,
		    &body) != 0 || p[0] != 0x30 ||
		    der_header(p + hdr, body, &ihdr, &ibody) != 0 ||
		    p[hdr] != 0x02 || ibody == 0)
			return -1;
		p += hdr + ihdr;
		while (ibody > 1 && *p == 0) {
			p++;
			ibody--;
		}
		*bits = (int)(ibody - 1) * 8;
		for (i = *p; i != 0; i >>= 1)
			(*bits)++;
		(void)snprintf(type, tlen, "RSA-%d", *bits);
		return 0;
	case NID_X9_62_id_ecPublicKey:
		if (ptype != V_ASN1_OBJECT)
			return -1;
		nid = OBJ_obj2nid(pval);
		for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
			if (curves[i].nid == nid) {
				(void)snprintf(type, tlen, "EC-%s",
				    curves[i].name);
				*bits = curves[i].bits;
				return 0;
			}
		return -1;
	case NID_ED25519:
		(void)snprintf(type, tlen, "ED25519");
		*bits = 256;
		return 0;
	case NID_ED448:
		(void)snprintf(type, tlen, "ED448");
		*bits = 456;
		return 0;
	default:
		return -1;
	}
}

/*
 * Fills c from der[0..len) through DISC_CERT. Returns 0; 1 when the key
 * is not one spki_describe() knows (use OpenSSL's X509); MCA_ERR_INVAL
 * when it is not a certificate.
 */
static int
fast_fill(struct mca_disc_cert *c, const unsigned char *der, size_t len,
    struct mca_buf *sans)
{
	const unsigned char	*q = der;
	DISC_CERT		*dc;
	DISC_TBS		*t;
	X509_EXTENSION		*ext;
	GENERAL_NAMES		*gens;
	BASIC_CONSTRAINTS	*bc;
	const ASN1_OBJECT	*sobj = NULL;
	int			 i, nid, rc = MCA_ERR_INVAL, nsan = 0;

	dc = (DISC_CERT *)ASN1_item_d2i(NULL, &q, (long)len,
	    ASN1_ITEM_rptr(DISC_CERT));
	if (dc == NULL || q != der + len)
		goto out;
	t = dc->tbs;
	memset(c, 0, sizeof(*c));
	if (spki_describe(t->spki, c->key_type, sizeof(c->key_type),
	    &c->key_bits) != 0) {
		rc = 1;
		goto out;
	}
	(void)pthread_once(&md_once, md_fetch);
	if (hex_digest(md_sha1, der, len, c->sha1, sizeof(c->sha1)) != 0 ||
	    hex_digest(md_sha256, der, len, c->sha256, sizeof(c->sha256)) !=
	    0) {
		rc = 1;
		goto out;
	}
	c->der = der;
	c->der_len = len;
	(void)mca_asn1int_hex(t->serial, c->serial, sizeof(c->serial));
	(void)mca_name_string(t->subject, c->subject, sizeof(c->subject));
	(void)mca_name_string(t->issuer, c->issuer, sizeof(c->issuer));
	one_line(c->subject);
	one_line(c->issuer);
	(void)mca_asn1time_iso(t->validity->nb, c->not_before,
	    sizeof(c->not_before));
	(void)mca_asn1time_iso(t->validity->na, c->not_after,
	    sizeof(c->not_after));
	X509_ALGOR_get0(&sobj, NULL, NULL, dc->alg);
	if ((nid = OBJ_obj2nid(sobj)) != NID_undef)
		(void)snprintf(c->sig_alg, sizeof(c->sig_alg), "%s",
		    OBJ_nid2ln(nid));
	else if (OBJ_obj2txt(c->sig_alg, sizeof(c->sig_alg), sobj, 1) <= 0)
		(void)snprintf(c->sig_alg, sizeof(c->sig_alg), "unknown");
	mca_buf_reset(sans);
	for (i = 0; i < sk_X509_EXTENSION_num(t->exts); i++) {
		ext = sk_X509_EXTENSION_value(t->exts, i);
		switch (OBJ_obj2nid(X509_EXTENSION_get_object(ext))) {
		case NID_subject_alt_name:	/* RFC 5280 4.2.1.6 */
			/* Twice is malformed, as X509_get_ext_d2i() says. */
			if (nsan++ > 0 || (gens = X509V3_EXT_d2i(ext)) ==
			    NULL) {
				mca_buf_reset(sans);
				(void)mca_buf_addstr(sans, "(malformed)");
				break;
			}
			(void)mca_gens_string(gens, sans);
			GENERAL_NAMES_free(gens);
			break;
		case NID_basic_constraints:	/* RFC 5280 4.2.1.9 */
			if ((bc = X509V3_EXT_d2i(ext)) != NULL) {
				c->is_ca = bc->ca != 0;
				BASIC_CONSTRAINTS_free(bc);
			}
			break;
		default:
			break;
		}
	}
	copy_trunc(c->sans, sizeof(c->sans), mca_buf_str(sans), sans->len);
	one_line(c->sans);
	rc = 0;
out:
	ASN1_item_free((ASN1_VALUE *)dc, ASN1_ITEM_rptr(DISC_CERT));
	ERR_clear_error();
	return rc;
}

/* Reports x, whose DER is not at hand (PKCS#7, PKCS#12). */
static int
report_x509(struct pctx *p, X509 *x)
{
	unsigned char	*der = NULL;
	int		 len, rc;

	if ((len = i2d_X509(x, &der)) <= 0) {
		ERR_clear_error();
		return mca_diag(p->d, MCA_ERR_INVAL,
		    "%s: certificate %d: cannot encode it", p->loc, p->n);
	}
	rc = report(p, x, der, (size_t)len);
	OPENSSL_free(der);
	return rc;
}

/* One DER certificate, all of der[0..len). */
static int
parse_cert(struct pctx *p, const unsigned char *der, size_t len, int aux,
    const char *what)
{
	const unsigned char	*q = der;
	struct mca_disc_report	 r;
	X509			*x;
	int			 rc;

	/*
	 * The common case: a plain certificate with a key we can name.
	 * Anything else, refusals included, is OpenSSL's to judge.
	 */
	if (!aux && fast_fill(&p->c, der, len, &p->sans) == 0) {
		if (p->n >= DISC_CERTS_MAX)
			return mca_diag(p->d, MCA_ERR_INVAL,
			    "%s: more than %d certificates", p->loc,
			    DISC_CERTS_MAX);
		p->c.location = p->loc;
		p->c.index = p->n++;
		memset(&r, 0, sizeof(r));
		r.event = MCA_DISC_CERT;
		r.path = p->loc;
		r.c = &p->c;
		if ((rc = p->cb(p->arg, &r)) != 0)
			p->cbrc = rc;
		return rc;
	}
	x = aux ? d2i_X509_AUX(NULL, &q, (long)len) :
	    d2i_X509(NULL, &q, (long)len);
	if (x == NULL || q != der + len) {
		X509_free(x);
		ERR_clear_error();
		return mca_diag(p->d, MCA_ERR_INVAL,
		    "%s: %s: not a valid certificate", p->loc, what);
	}
	/* TRUSTED CERTIFICATE: the DER without OpenSSL's trust data. */
	if (aux)
		rc = report_x509(p, x);
	else
		rc = report(p, x, der, len);
	X509_free(x);
	return rc;
}

/*
 * The certificates of a PKCS#7 SignedData walked in its DER (RFC 2315
 * 7, 9.1): ContentInfo { signedData, [0] { version, digestAlgorithms,
 * contentInfo, [0] IMPLICIT certificates OPTIONAL, ... } }, each
 * certificate handed to parse_cert() as it lies there (d2i_PKCS7()
 * would decode every key through the provider decoders). Returns -1
 * when the walk does not fit, before anything was reported: the caller
 * then asks OpenSSL, which judges it.
 */
static int
walk_p7(struct pctx *p, const unsigned char *der, size_t len,
    const char *what)
{
	const unsigned char	*q, *end;
	size_t			 hdr, body, n;
	int			 i, rc;

	/* ContentInfo SEQUENCE, the OID, [0] EXPLICIT, SignedData */
	if (der_header(der, len, &hdr, &body) != 0 || der[0] != 0x30 ||
	    hdr + body != len)
		return -1;
	q = der + hdr;
	end = q + body;
	if ((size_t)(end - q) < sizeof(oid_signed) ||
	    memcmp(q, oid_signed, sizeof(oid_signed)) != 0)
		return -1;
	q += sizeof(oid_signed);
	if (q == end)
		return 0;	/* no content: no certificates */
	if (der_header(q, (size_t)(end - q), &hdr, &body) != 0 ||
	    q[0] != 0xa0 || q + hdr + body != end)
		return -1;
	q += hdr;
	if (der_header(q, (size_t)(end - q), &hdr, &body) != 0 ||
	    q[0] != 0x30 || q + hdr + body != end)
		return -1;
	q += hdr;
	/* version INTEGER, digestAlgorithms SET, contentInfo SEQUENCE */
	for (i = 0; i < 3; i++) {
		static const unsigned char	 tags[] = { 0x02, 0x31, 0x30 };

		if (der_header(q, (size_t)(end - q), &hdr, &body) != 0 ||
		    q[0] != tags[i])
			return -1;
		q += hdr + body;
	}
	if (q == end || q[0] != 0xa0)
		return 0;	/* no certificates field */
	if (der_header(q, (size_t)(end - q), &hdr, &body) != 0)
		return -1;
	end = q + hdr + body;
	q += hdr;
	/* Check the whole set before the first report. */
	for (n = 0; q + n < end; n += hdr + body)
		if (der_header(q + n, (size_t)(end - q - n), &hdr, &body) != 0)
			return -1;
	for (; q < end; q += hdr + body) {
		(void)der_header(q, (size_t)(end - q), &hdr, &body);
		/* ExtendedCertificate ([0]) and the like: not X.509 */
		if (q[0] != 0x30)
			continue;
		if ((rc = parse_cert(p, q, hdr + body, 0, what)) != 0)
			return rc;
	}
	return 0;
}

/* PKCS#7 SignedData, certs-only or not: its certificates field. */
static int
parse_p7(struct pctx *p, const unsigned char *der, size_t len,
    const char *what)
{
	const unsigned char	*q = der;
	PKCS7			*p7;
	STACK_OF(X509)		*certs = NULL;
	int			 i, rc = 0;

	if ((rc = walk_p7(p, der, len, what)) != -1)
		return rc;
	rc = 0;
	p7 = d2i_PKCS7(NULL, &q, (long)len);
	if (p7 == NULL || q != der + len) {
		rc = mca_diag(p->d, MCA_ERR_INVAL,
		    "%s: %s: not a valid PKCS#7", p->loc, what);
		goto out;
	}
	/* RFC 2315 9.1 */
	if (PKCS7_type_is_signed(p7) && p7->d.sign != NULL)
		certs = p7->d.sign->cert;
	for (i = 0; i < sk_X509_num(certs) && rc == 0; i++)
		rc = report_x509(p, sk_X509_value(certs, i));
out:
	PKCS7_free(p7);
	ERR_clear_error();
	return rc;
}

/*
 * A certBag's certificate as DER (RFC 7292 4.2.3: SafeBag { certBag,
 * [0] CertBag { x509Certificate, [0] OCTET STRING } }), straight to
 * parse_cert(): PKCS12_SAFEBAG_get1_cert() would decode its key through
 * the provider decoders, and OpenSSL 3.0 has no getter for the OCTET
 * STRING (PKCS12_SAFEBAG_get0_bag_obj() is for other bag types only).
 * The bag is encoded again (a copy of what was decoded) and walked.
 * Returns parse_cert()'s value, or -1 when the walk does not fit.
 */
static int
certbag(struct pctx *p, const PKCS12_SAFEBAG *bag)
{
	unsigned char		*buf = NULL;
	const unsigned char	*q, *end;
	size_t			 hdr, body;
	int			 i, n, rc = -1;
	static const unsigned char	 tags[] = { 0x30, 0x06, 0xa0, 0x30,
	    0x06, 0xa0, 0x04 };

	if ((n = i2d_PKCS12_SAFEBAG(bag, &buf)) <= 0) {
		ERR_clear_error();
		return -1;
	}
	q = buf;
	end = buf + n;
	for (i = 0; i < (int)sizeof(tags); i++) {
		if (der_header(q, (size_t)(end - q), &hdr, &body) != 0 ||
		    q[0] != tags[i])
			goto out;
		/* into the SEQUENCEs and [0]s, over the OIDs */
		if (q[0] == 0x06)
			q += hdr + body;
		else
			q += hdr;
	}
	rc = parse_cert(p, q, body, 0, "PKCS#12 certBag");
out:
	OPENSSL_free(buf);
	return rc;
}

/* The bags of a PKCS#12: certBags with an X.509 certificate. */
static int
p12_bags(struct pctx *p, const STACK_OF(PKCS12_SAFEBAG) *bags, int depth,
    int *nbags)
{
	const PKCS12_SAFEBAG	*bag;
	X509			*x;
	int			 i, rc = 0;

	if (depth > DISC_P12_DEPTH)
		return mca_diag(p->d, MCA_ERR_INVAL,
		    "%s: PKCS#12: bags nested deeper than %d", p->loc,
		    DISC_P12_DEPTH);
	for (i = 0; i < sk_PKCS12_SAFEBAG_num(bags) && rc == 0; i++) {
		if (++*nbags > DISC_P12_BAGS_MAX)
			return mca_diag(p->d, MCA_ERR_INVAL,
			    "%s: PKCS#12: more than %d bags", p->loc,
			    DISC_P12_BAGS_MAX);
		bag = sk_PKCS12_SAFEBAG_value(bags, i);
		switch (PKCS12_SAFEBAG_get_nid(bag)) {
		case NID_certBag:	/* RFC 7292 4.2.3 */
			if (PKCS12_SAFEBAG_get_bag_nid(bag) !=
			    NID_x509Certificate)
				break;
			if ((rc = certbag(p, bag)) != -1)
				break;
			rc = 0;
			if ((x = PKCS12_SAFEBAG_get1_cert(bag)) == NULL) {
				ERR_clear_error();
				return mca_diag(p->d, MCA_ERR_INVAL,
				    "%s: PKCS#12: a certBag is not a valid "
				    "certificate", p->loc);
			}
			rc = report_x509(p, x);
			X509_free(x);
			break;
		case NID_safeContentsBag:	/* RFC 7292 4.2.6 */
			rc = p12_bags(p, PKCS12_SAFEBAG_get0_safes(bag),
			    depth + 1, nbags);
			break;
		default:	/* keys are not ours to open */
			break;
		}
	}
	return rc;
}

/*
 * The i-th password to try: the empty one in both of OpenSSL's forms
 * ("", what "openssl pkcs12 -passout pass:" writes, then NULL: an empty
 * BMPString without its terminator; PKCS12_parse() tries both too), then
 * the configured ones. Returns 0, or -1 past the last one.
 */
static int
p12_password(const struct mca_disc_opts *o, size_t i, const char **pw)
{
	if (i == 0)
		*pw = "";
	else if (i == 1)
		*pw = NULL;
	else if (o != NULL && i - 2 < o->np12_passwords &&
	    o->p12_passwords[i - 2] != NULL)
		*pw = o->p12_passwords[i - 2];
	else
		return -1;
	return 0;
}

/*
 * The iteration count of a password-based encryption (RFC 7292 C,
 * RFC 8018 A.2 and A.4): 0 when it cannot be read (OpenSSL then
 * refuses it), -1 for a key derivation other than PBKDF2 (scrypt's
 * cost is not ours to pay).
 */
static long
pbe_iter(const X509_ALGOR *alg)
{
	const ASN1_OBJECT	*obj = NULL;
	const void		*pval = NULL;
	const ASN1_OBJECT	*kobj = NULL;
	const void		*kval = NULL;
	PBE2PARAM		*p2 = NULL;
	PBKDF2PARAM		*kdf = NULL;
	PBEPARAM		*pb = NULL;
	int			 ptype = 0, ktype = 0;
	long			 iter = 0;

	if (alg == NULL)
		return 0;
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	if (ptype != V_ASN1_SEQUENCE || pval == NULL)
		return 0;
	if (OBJ_obj2nid(obj) == NID_pbes2) {
		if ((p2 = ASN1_item_unpack(pval, ASN1_ITEM_rptr(PBE2PARAM))) ==
		    NULL || p2->keyfunc == NULL)
			goto out;
		X509_ALGOR_get0(&kobj, &ktype, &kval, p2->keyfunc);
		if (OBJ_obj2nid(kobj) != NID_id_pbkdf2) {
			iter = -1;
			goto out;
		}
		if (ktype == V_ASN1_SEQUENCE && kval != NULL &&
		    (kdf = ASN1_item_unpack(kval,
		    ASN1_ITEM_rptr(PBKDF2PARAM))) != NULL)
			iter = ASN1_INTEGER_get(kdf->iter);
	} else if ((pb = ASN1_item_unpack(pval, ASN1_ITEM_rptr(PBEPARAM))) !=
	    NULL)
		iter = ASN1_INTEGER_get(pb->iter);
out:
	PBE2PARAM_free(p2);
	PBKDF2PARAM_free(kdf);
	PBEPARAM_free(pb);
	ERR_clear_error();
	return iter;
}

/* Within the cap: the MAC's and every encrypted part's iterations. */
static int
p12_cost_ok(const PKCS12 *p12, const STACK_OF(PKCS7) *safes)
{
	const ASN1_INTEGER	*miter = NULL;
	const PKCS7		*p7;
	long			 it;
	int			 j;

	if (PKCS12_mac_present(p12)) {
		PKCS12_get0_mac(NULL, NULL, NULL, &miter, p12);
		/* RFC 7292 4: iterations DEFAULT 1 */
		if (miter != NULL && ((it = ASN1_INTEGER_get(miter)) < 0 ||
		    it > DISC_P12_ITER_MAX))
			return 0;
	}
	for (j = 0; j < sk_PKCS7_num(safes); j++) {
		p7 = sk_PKCS7_value(safes, j);
		if (OBJ_obj2nid(p7->type) != NID_pkcs7_encrypted ||
		    p7->d.encrypted == NULL ||
		    p7->d.encrypted->enc_data == NULL)
			continue;
		it = pbe_iter(p7->d.encrypted->enc_data->algorithm);
		if (it < 0 || it > DISC_P12_ITER_MAX)
			return 0;
	}
	return 1;
}

/* A container we cannot open is passed over with a reason, no error. */
static int
p12_skip(struct pctx *p, const char *msg)
{
	struct mca_disc_report	 r;
	int			 rc;

	memset(&r, 0, sizeof(r));
	r.event = MCA_DISC_SKIP;
	r.path = p->loc;
	r.msg = msg;
	if ((rc = p->cb(p->arg, &r)) != 0)
		p->cbrc = rc;
	return rc;
}

static int
parse_p12(struct pctx *p, const unsigned char *der, size_t len)
{
	const unsigned char	*q = der;
	PKCS12			*p12 = NULL;
	STACK_OF(PKCS7)		*safes = NULL;
	STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
	const char		*pw = NULL;
	PKCS7			*p7;
	size_t			 i = 0, tried;
	int			 j, mac, rc = 0, nbags = 0, found = 0;

	p12 = d2i_PKCS12(NULL, &q, (long)len);
	if (p12 == NULL || q != der + len ||
	    (safes = PKCS12_unpack_authsafes(p12)) == NULL) {
		rc = mca_diag(p->d, MCA_ERR_INVAL,
		    "%s: not a valid PKCS#12", p->loc);
		goto out;
	}
	if (!p12_cost_ok(p12, safes)) {
		char	 msg[128];

		(void)snprintf(msg, sizeof(msg), "PKCS#12: a key derivation "
		    "over %d iterations, or not PBKDF2: not opened",
		    DISC_P12_ITER_MAX);
		rc = p12_skip(p, msg);
		goto out;
	}
	/* RFC 7292 5.1: the MAC says which password is the one. */
	if ((mac = PKCS12_mac_present(p12)) != 0) {
		for (i = 0; p12_password(p->opts, i, &pw) == 0; i++)
			if (PKCS12_verify_mac(p12, pw, -1)) {
				found = 1;
				break;
			}
		ERR_clear_error();
		if (!found)
			goto locked;
	}
	for (j = 0; j < sk_PKCS7_num(safes) && rc == 0; j++) {
		p7 = sk_PKCS7_value(safes, j);
		switch (OBJ_obj2nid(p7->type)) {
		case NID_pkcs7_data:
			bags = PKCS12_unpack_p7data(p7);
			break;
		case NID_pkcs7_encrypted:
			if (mac) {
				bags = PKCS12_unpack_p7encdata(p7, pw, -1);
				break;
			}
			/* No MAC: the password that decrypts is the one. */
			for (tried = 0; bags == NULL &&
			    p12_password(p->opts, tried, &pw) == 0; tried++)
				bags = PKCS12_unpack_p7encdata(p7, pw, -1);
			if (bags == NULL) {
				ERR_clear_error();
				goto locked;
			}
			break;
		default:	/* enveloped data: public-key privacy mode */
			continue;
		}
		if (bags == NULL) {
			/*
			 * The password is right (the MAC says so) but the
			 * cipher is one OpenSSL 3 keeps in its legacy
			 * provider (RC2-40, the old default): not corrupt,
			 * not readable here.
			 */
			ERR_clear_error();
			goto undecryptable;
		}
		rc = p12_bags(p, bags, 0, &nbags);
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
		bags = NULL;
	}
	goto out;
undecryptable:
	rc = p12_skip(p, "PKCS#12: its password opens it but its "
	    "certificates are encrypted with a cipher this OpenSSL does not "
	    "offer (legacy RC2?)");
	goto out;
locked:
	{
		char	 msg[160];

		(void)snprintf(msg, sizeof(msg), "PKCS#12: neither the empty "
		    "password nor the %zu configured ones open it",
		    p->opts != NULL ? p->opts->np12_passwords : 0);
		rc = p12_skip(p, msg);
	}
out:
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	ERR_clear_error();
	return rc;
}

/*
 * A DER buffer by its structure: SEQUENCE { SEQUENCE ... } is a
 * certificate (RFC 5280 4.1) or something shaped like one (a CSR, a
 * CRL); SEQUENCE { OID signedData ... } PKCS#7; SEQUENCE { INTEGER 3,
 * SEQUENCE ... } PKCS#12 (RFC 7292 4). Anything else is no container.
 */
static int
parse_der(struct pctx *p, const unsigned char *der, size_t len)
{
	size_t	 hdr, body, ihdr, ibody;
	const unsigned char *in;

	if (der_header(der, len, &hdr, &body) != 0 || der[0] != 0x30 ||
	    hdr + body != len)
		return 0;
	in = der + hdr;
	if (der_header(in, body, &ihdr, &ibody) != 0)
		return 0;
	if (in[0] == 0x30) {
		/*
		 * A v3 certificate's TBSCertificate opens with [0] version
		 * (RFC 5280 4.1): that one must parse. A CSR or CRL (an
		 * INTEGER first) is quietly not ours.
		 */
		if (ibody >= 5 && in[ihdr] == 0xa0)
			return parse_cert(p, der, len, 0, "DER");
		return 0;
	}
	if (body >= sizeof(oid_signed) &&
	    memcmp(in, oid_signed, sizeof(oid_signed)) == 0)
		return parse_p7(p, der, len, "DER");
	if (in[0] == 0x02 && ibody == 1 && in[ihdr] == 3 &&
	    ihdr + ibody < body && in[ihdr + ibody] == 0x30)
		return parse_p12(p, der, len);
	return 0;
}

static const char *
memfind(const char *h, size_t hlen, const char *n, size_t nlen)
{
	const char	*q, *end = h + hlen;

	while (hlen >= nlen && (q = memchr(h, n[0], hlen - nlen + 1)) != NULL) {
		if (memcmp(q, n, nlen) == 0)
			return q;
		hlen = (size_t)(end - q - 1);
		h = q + 1;
	}
	return NULL;
}

/* RFC 7468 2: the blocks in text[0..len), from the first BEGIN. */
static int
parse_pem(struct pctx *p, const char *text, size_t len, const char *begin)
{
	struct mca_buf	 der = MCA_BUF_INIT;
	const char	*end = text + len, *lab, *le, *body, *stop, *q;
	char		 label[DISC_PEM_LABEL_MAX];
	char		 endline[DISC_PEM_LABEL_MAX + 16];
	char		 what[DISC_PEM_LABEL_MAX + 32];
	size_t		 llen, elen;
	int		 nblock = 0, rc = 0;

	for (q = begin; q != NULL && rc == 0;
	    q = memfind(q, (size_t)(end - q), pem_begin,
	    sizeof(pem_begin) - 1)) {
		if (++nblock > DISC_PEM_BLOCKS_MAX) {
			rc = mca_diag(p->d, MCA_ERR_INVAL, "%s: more than %d "
			    "PEM blocks", p->loc, DISC_PEM_BLOCKS_MAX);
			break;
		}
		lab = q + sizeof(pem_begin) - 1;
		le = memfind(lab, (size_t)(end - lab), pem_dashes,
		    sizeof(pem_dashes) - 1);
		llen = le != NULL ? (size_t)(le - lab) : 0;
		if (le == NULL || llen >= sizeof(label) ||
		    memchr(lab, '\n', llen) != NULL) {
			rc = mca_diag(p->d, MCA_ERR_INVAL, "%s: PEM block %d: "
			    "a BEGIN line without its label", p->loc, nblock);
			break;
		}
		memcpy(label, lab, llen);
		label[llen] = '\0';
		one_line(label);
		(void)snprintf(what, sizeof(what), "PEM block %d (%s)", nblock,
		    label);
		body = le + sizeof(pem_dashes) - 1;
		elen = (size_t)snprintf(endline, sizeof(endline),
		    "-----END %s-----", label);
		if ((stop = memfind(body, (size_t)(end - body), endline,
		    elen)) == NULL) {
			rc = mca_diag(p->d, MCA_ERR_INVAL,
			    "%s: %s: no END line", p->loc, what);
			break;
		}
		q = stop + elen;
		if (strcmp(label, "CERTIFICATE") != 0 &&
		    strcmp(label, "X509 CERTIFICATE") != 0 &&
		    strcmp(label, "TRUSTED CERTIFICATE") != 0 &&
		    strcmp(label, "PKCS7") != 0)
			continue;	/* keys, CSRs, CRLs: not ours */
		mca_buf_reset(&der);
		if (mca_b64_decode(body, (size_t)(stop - body), &der) != 0) {
			rc = mca_diag(p->d, MCA_ERR_INVAL, "%s: %s: bad base64",
			    p->loc, what);
			break;
		}
		if (strcmp(label, "PKCS7") == 0)
			rc = parse_p7(p, der.data, der.len, what);
		else
			rc = parse_cert(p, der.data, der.len,
			    label[0] == 'T', what);
	}
	mca_buf_free(&der);
	return rc;
}

int
mca_disc_parse_int(const unsigned char *buf, size_t len, const char *location,
    const struct mca_disc_opts *opts, mca_disc_cb cb, void *arg,
    struct mca_diag *d, int *cbrc)
{
	struct pctx	 p;
	const char	*begin;
	int		 rc;

	*cbrc = 0;
	mca_diag_clear(d);
	if (buf == NULL || location == NULL || cb == NULL)
		return mca_diag(d, MCA_ERR_INVAL,
		    "discovery: nothing to parse");
	if (len > DISC_PARSE_MAX)
		return mca_diag(d, MCA_ERR_INVAL, "%s: over %u bytes", location,
		    DISC_PARSE_MAX);
	memset(&p, 0, sizeof(p));
	p.loc = location;
	p.opts = opts;
	p.cb = cb;
	p.arg = arg;
	p.d = d;
	mca_buf_init(&p.sans);
	if ((begin = memfind((const char *)buf, len, pem_begin,
	    sizeof(pem_begin) - 1)) != NULL)
		rc = parse_pem(&p, (const char *)buf, len, begin);
	else
		rc = parse_der(&p, buf, len);
	mca_buf_free(&p.sans);
	ERR_clear_error();
	*cbrc = p.cbrc;
	if (p.cbrc != 0)
		return p.cbrc;
	if (rc != 0) {
		if (d != NULL && d->msg[0] == '\0')
			(void)mca_diag(d, rc, "%s: unreadable", location);
		return rc < 0 ? rc : MCA_ERR_INVAL;
	}
	return p.n;
}

int
mca_disc_parse_buf(const unsigned char *buf, size_t len, const char *location,
    const struct mca_disc_opts *opts, mca_disc_cb cb, void *arg,
    struct mca_diag *d)
{
	int	 cbrc;

	return mca_disc_parse_int(buf, len, location, opts, cb, arg, d, &cbrc);
}
