/*
 * The EST message bodies we produce: certs-only CMS (RFC 7030 4.1.3,
 * 4.2.3) and CSR attributes (RFC 7030 4.5.2), both plain DER whose base64
 * transfer encoding is the caller's business; and the multipart/mixed
 * answer of /serverkeygen (RFC 7030 4.4.2), which base64-encodes its
 * parts itself.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/crypto.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "b64.h"
#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "keyspec.h"
#include "est_codec.h"
#include "text.h"

int
mca_est_certs_only(STACK_OF(X509) *certs, struct mca_buf *der)
{
	PKCS7		*p7 = NULL;
	PKCS7_SIGNED	*sd;
	unsigned char	*enc = NULL;
	int		 i, n, rc = MCA_ERR_CRYPTO;

	/*
	 * RFC 5652 5.1, the shape "openssl crl2pkcs7 -nocrl" makes: version
	 * 1, no digestAlgorithms, encapContentInfo of type id-data with no
	 * eContent, the certificates, no crls, no signerInfos.
	 */
	if ((p7 = PKCS7_new()) == NULL ||
	    (sd = PKCS7_SIGNED_new()) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	p7->type = OBJ_nid2obj(NID_pkcs7_signed);
	p7->d.sign = sd;
	sd->contents->type = OBJ_nid2obj(NID_pkcs7_data);
	if (!ASN1_INTEGER_set(sd->version, 1))
		goto out;
	/* In order: RFC 7030 4.1.3 leaves it to us; callers give leaf first. */
	for (i = 0; i < sk_X509_num(certs); i++)
		if (!PKCS7_add_certificate(p7, sk_X509_value(certs, i)))
			goto out;
	if ((n = i2d_PKCS7(p7, &enc)) <= 0)
		goto out;
	if ((rc = mca_buf_add(der, enc, (size_t)n)) != 0)
		goto out;
	rc = 0;
out:
	if (rc == MCA_ERR_CRYPTO)
		ERR_clear_error();
	OPENSSL_free(enc);
	PKCS7_free(p7);
	return rc;
}

/* Appends the DER of one OBJECT IDENTIFIER (an AttrOrOID "oid"). */
static int
add_oid(struct mca_buf *b, int nid)
{
	ASN1_OBJECT	*o;
	unsigned char	*enc = NULL;
	int		 n, rc;

	if ((o = OBJ_nid2obj(nid)) == NULL)
		return MCA_ERR_CRYPTO;
	if ((n = i2d_ASN1_OBJECT(o, &enc)) <= 0)
		return MCA_ERR_CRYPTO;
	rc = mca_buf_add(b, enc, (size_t)n);
	OPENSSL_free(enc);
	return rc;
}

/*
 * Appends the DER of an Attribute { type, SET { value } } (an AttrOrOID
 * "attribute"). Takes value, of ASN.1 type vtype, in all cases.
 */
static int
add_attr(struct mca_buf *b, int nid, int vtype, void *value)
{
	X509_ATTRIBUTE	*a = NULL;
	unsigned char	*enc = NULL;
	int		 n, rc = MCA_ERR_CRYPTO;

	if ((a = X509_ATTRIBUTE_create(nid, vtype, value)) == NULL) {
		if (vtype == V_ASN1_INTEGER)
			ASN1_INTEGER_free(value);
		else if (vtype == V_ASN1_OBJECT)
			ASN1_OBJECT_free(value);
		goto out;
	}
	if ((n = i2d_X509_ATTRIBUTE(a, &enc)) <= 0)
		goto out;
	rc = mca_buf_add(b, enc, (size_t)n);
out:
	OPENSSL_free(enc);
	X509_ATTRIBUTE_free(a);
	return rc;
}

/* The curve OID for EC key bits, or NID_undef. */
static int
curve_nid(int bits)
{
	const struct mca_curve	*c = mca_keyspec_curve_bits(bits);

	return c != NULL ? c->nid : NID_undef;
}

/*
 * Appends the DER of an Attribute { type, SET { values } } holding the
 * parameters of every allowed_keys entry of key type kt: the curve OIDs
 * for EC, the modulus sizes for RSA. Nothing if the label allows no key
 * of that type; *any says whether something was appended.
 */
static int
add_allowed(struct mca_buf *b, const struct mca_profile *p,
    enum mca_keytype kt, int *any)
{
	X509_ATTRIBUTE	*a = NULL;
	ASN1_INTEGER	*ai = NULL;
	ASN1_OBJECT	*o;
	unsigned char	*enc = NULL;
	size_t		 i;
	int		 n, rc = MCA_ERR_CRYPTO;

	*any = 0;
	if ((a = X509_ATTRIBUTE_new()) == NULL ||
	    !X509_ATTRIBUTE_set1_object(a, OBJ_nid2obj(kt == MCA_KEYTYPE_EC ?
	    NID_X9_62_id_ecPublicKey : NID_rsaEncryption)))
		goto out;
	for (i = 0; i < p->nallowed_keys; i++) {
		if (p->allowed_keys[i].type != kt)
			continue;
		if (kt == MCA_KEYTYPE_EC) {
			if ((o = OBJ_nid2obj(curve_nid(
			    p->allowed_keys[i].size))) == NULL) {
				rc = MCA_ERR_INVAL;
				goto out;
			}
			if (!X509_ATTRIBUTE_set1_data(a, V_ASN1_OBJECT, o, -1))
				goto out;
		} else {
			if ((ai = ASN1_INTEGER_new()) == NULL ||
			    !ASN1_INTEGER_set(ai, p->allowed_keys[i].size) ||
			    !X509_ATTRIBUTE_set1_data(a, V_ASN1_INTEGER, ai,
			    -1))
				goto out;
			ASN1_INTEGER_free(ai);
			ai = NULL;
		}
		*any = 1;
	}
	rc = 0;
	/* DER: the SET OF values is sorted by i2d (X.690 11.6). */
	if (*any) {
		rc = MCA_ERR_CRYPTO;
		if ((n = i2d_X509_ATTRIBUTE(a, &enc)) <= 0)
			goto out;
		rc = mca_buf_add(b, enc, (size_t)n);
	}
out:
	OPENSSL_free(enc);
	ASN1_INTEGER_free(ai);
	X509_ATTRIBUTE_free(a);
	return rc;
}

int
mca_est_csrattrs(const struct mca_profile *p, const EVP_MD *md,
    struct mca_buf *der)
{
	struct mca_buf	 body = MCA_BUF_INIT;
	ASN1_INTEGER	*ai = NULL;
	enum mca_keytype kt = p != NULL ? p->key_type : MCA_KEYTYPE_ANY;
	unsigned char	*q;
	int		 size = p != NULL ? p->key_size : 0;
	int		 mdnid, total, rc = MCA_ERR_INVAL, any = 0;
	int		 ecsig = NID_undef, rsasig = NID_undef, curve = NID_undef;

	/* The signature algorithms, by digest (RFC 5758 3.2, RFC 4055 5). */
	mdnid = md != NULL ? EVP_MD_get_type(md) : NID_sha256;
	switch (mdnid) {
	case NID_sha256:
		ecsig = NID_ecdsa_with_SHA256;
		rsasig = NID_sha256WithRSAEncryption;
		break;
	case NID_sha384:
		ecsig = NID_ecdsa_with_SHA384;
		rsasig = NID_sha384WithRSAEncryption;
		break;
	case NID_sha512:
		ecsig = NID_ecdsa_with_SHA512;
		rsasig = NID_sha512WithRSAEncryption;
		break;
	default:
		goto out;
	}

	/*
	 * RFC 7030 4.5.2: CsrAttrs ::= SEQUENCE SIZE (0..MAX) OF AttrOrOID;
	 * its example names the key as an Attribute { id-ecPublicKey,
	 * { curve } } and the signature as a bare OID.
	 */
	if (p != NULL && p->nallowed_keys > 0) {
		/*
		 * allowed_keys: one Attribute per key type, its SET holding
		 * every curve (or modulus size) allowed, each followed by
		 * the signature algorithm for that type.
		 */
		if ((rc = add_allowed(&body, p, MCA_KEYTYPE_EC, &any)) != 0 ||
		    (any && (rc = add_oid(&body, ecsig)) != 0) ||
		    (rc = add_allowed(&body, p, MCA_KEYTYPE_RSA, &any)) != 0 ||
		    (any && (rc = add_oid(&body, rsasig)) != 0))
			goto out;
		goto seq;	/* key_type/key_size are not looked at */
	}
	switch (kt) {
	case MCA_KEYTYPE_EC:
		/* No size: P-256. */
		if ((curve = curve_nid(size != 0 ? size : 256)) == NID_undef)
			goto out;
		if ((rc = add_attr(&body, NID_X9_62_id_ecPublicKey,
		    V_ASN1_OBJECT, OBJ_nid2obj(curve))) != 0 ||
		    (rc = add_oid(&body, ecsig)) != 0)
			goto out;
		break;
	case MCA_KEYTYPE_RSA:
		/* The modulus size as an INTEGER (RFC 9908 style). */
		if (size < 0)
			goto out;
		if ((ai = ASN1_INTEGER_new()) == NULL) {
			rc = MCA_ERR_NOMEM;
			goto out;
		}
		if (!ASN1_INTEGER_set(ai, size != 0 ? size : 2048)) {
			rc = MCA_ERR_CRYPTO;
			goto out;
		}
		rc = add_attr(&body, NID_rsaEncryption, V_ASN1_INTEGER, ai);
		ai = NULL;
		if (rc != 0 || (rc = add_oid(&body, rsasig)) != 0)
			goto out;
		break;
	case MCA_KEYTYPE_ANY:
		if ((rc = add_oid(&body, ecsig)) != 0 ||
		    (rc = add_oid(&body, rsasig)) != 0)
			goto out;
		break;
	default:
		rc = MCA_ERR_INVAL;
		goto out;
	}

seq:
	/* The outer SEQUENCE, with its length in DER form (X.690 8.1.3). */
	rc = MCA_ERR_CRYPTO;
	if (body.len > INT_MAX ||
	    (total = ASN1_object_size(1, (int)body.len, V_ASN1_SEQUENCE)) <= 0)
		goto out;
	if ((rc = mca_buf_reserve(der, (size_t)total)) != 0)
		goto out;
	q = der->data + der->len;
	ASN1_put_object(&q, 1, (int)body.len, V_ASN1_SEQUENCE,
	    V_ASN1_UNIVERSAL);
	if (body.len > 0)
		memcpy(q, body.data, body.len);
	der->len += (size_t)total;
	der->data[der->len] = '\0';
	rc = 0;
out:
	if (rc == MCA_ERR_CRYPTO)
		ERR_clear_error();
	ASN1_INTEGER_free(ai);
	mca_buf_free(&body);
	return rc;
}

/* ------------------------------------------------------------ multipart */

#define MP_PREFIX	"microca-"
#define MP_RAND		16	/* random octets in a drawn boundary */
#define MP_TRIES	4	/* draws before giving up: never in practice */
#define MP_CT		"Content-Type: "
#define MP_CTE		"Content-Transfer-Encoding: base64\r\n"

/*
 * RFC 2046 5.1.1 bcharsnospace, less the RFC 2045 5.1 tspecials, so that
 * "boundary=" needs no quotes.
 */
static int
mp_bchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '\'' || c == '+' || c == '_' ||
	    c == '-' || c == '.';
}

static int
mp_boundary_ok(const char *b)
{
	size_t	 i, n = strlen(b);

	if (n == 0 || n >= MCA_EST_BOUNDARY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!mp_bchar((unsigned char)b[i]))
			return 0;
	return 1;
}

/* 1 if s can go on a header line: not empty, no control characters. */
static int
mp_header_ok(const char *s)
{
	return s != NULL && *s != '\0' &&
	    mca_text_ctl_span(s, strlen(s), 0) == strlen(s);
}

/* Octets of the base64 lines for len octets, CRLFs included. */
static size_t
mp_b64_size(size_t len, unsigned line_len)
{
	size_t	 enc = (len + 2) / 3 * 4, lines;

	if (enc == 0)
		return 2;	/* an empty line: the content is empty */
	lines = line_len != 0 ? (enc + line_len - 1) / line_len : 1;
	return enc + 2 * lines;
}

/* Draws "microca-" and MP_RAND random octets in hex into b. */
static int
mp_draw(char *b, size_t blen)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 r[MP_RAND];
	size_t			 i, o;

	if (blen < sizeof(MP_PREFIX) + 2 * MP_RAND)
		return MCA_ERR_INTERNAL;
	if (RAND_bytes(r, sizeof(r)) != 1) {
		ERR_clear_error();
		return MCA_ERR_CRYPTO;
	}
	memcpy(b, MP_PREFIX, sizeof(MP_PREFIX) - 1);
	o = sizeof(MP_PREFIX) - 1;
	for (i = 0; i < sizeof(r); i++) {
		b[o++] = hex[r[i] >> 4];
		b[o++] = hex[r[i] & 0x0f];
	}
	b[o] = '\0';
	return 0;
}

/*
 * The base64 of der[0..len) in lines of line_len characters (0: one
 * line), each ending in CRLF: MIME canonical form (RFC 2045 6.8).
 */
static int
mp_b64_lines(const unsigned char *der, size_t len, unsigned line_len,
    struct mca_buf *out)
{
	size_t	 chunk, off, n;
	int	 rc;

	if (len == 0)
		return mca_buf_add(out, "\r\n", 2);
	chunk = line_len != 0 ? line_len / 4 * 3 : len;
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		if ((rc = mca_b64_encode(der + off, n, 0, out)) != 0 ||
		    (rc = mca_buf_add(out, "\r\n", 2)) != 0)
			return rc;
	}
	return 0;
}

/*
 * Writes the whole body with boundary b at out->len (room reserved), and
 * returns 0, MCA_ERR_EXISTS if b occurs in a part (headers or content:
 * RFC 2046 5.1.1 forbids both), or another error.
 */
static int
mp_write(const struct mca_est_part *parts, size_t nparts, unsigned line_len,
    const char *b, struct mca_buf *out)
{
	size_t	 i, from, blen = strlen(b);
	int	 rc;

	for (i = 0; i < nparts; i++) {
		if ((rc = mca_buf_printf(out, "--%s\r\n", b)) != 0)
			return rc;
		from = out->len;
		if ((rc = mca_buf_printf(out, MP_CT "%s\r\n" MP_CTE "\r\n",
		    parts[i].ctype)) != 0 ||
		    (rc = mp_b64_lines(parts[i].der, parts[i].len, line_len,
		    out)) != 0)
			return rc;
		if (memmem(out->data + from, out->len - from, b, blen) != NULL)
			return MCA_ERR_EXISTS;
	}
	/* The close delimiter; the CRLF before it ended the last line. */
	return mca_buf_printf(out, "--%s--\r\n", b);
}

int
mca_est_multipart(const struct mca_est_part *parts, size_t nparts,
    unsigned line_len, const char *boundary, char *bnd, size_t bndlen,
    struct mca_buf *out)
{
	char	 b[MCA_EST_BOUNDARY_MAX];
	size_t	 i, bl, total, start, tries;
	int	 rc = MCA_ERR_INTERNAL;

	if (parts == NULL || nparts == 0 || out == NULL || line_len % 4 != 0 ||
	    (boundary != NULL && !mp_boundary_ok(boundary)) ||
	    (bnd != NULL && bndlen < MCA_EST_BOUNDARY_MAX))
		return MCA_ERR_INVAL;
	/* The size, reserved once; every draw has the same length. */
	bl = boundary != NULL ? strlen(boundary) :
	    sizeof(MP_PREFIX) - 1 + 2 * MP_RAND;
	total = bl + 6;				/* --B--CRLF */
	for (i = 0; i < nparts; i++) {
		if (!mp_header_ok(parts[i].ctype) ||
		    (parts[i].der == NULL && parts[i].len > 0))
			return MCA_ERR_INVAL;
		if (parts[i].len > MCA_BUF_MAX / 2)
			return MCA_ERR_TOOBIG;
		total += bl + 4 +		/* --B CRLF */
		    strlen(MP_CT) + strlen(parts[i].ctype) + 2 +
		    strlen(MP_CTE) + 2 + mp_b64_size(parts[i].len, line_len);
		if (total > MCA_BUF_MAX)
			return MCA_ERR_TOOBIG;
	}
	if ((rc = mca_buf_reserve(out, total)) != 0)
		return rc;
	start = out->len;
	for (tries = 0; tries < MP_TRIES; tries++) {
		if (boundary != NULL)
			memcpy(b, boundary, bl + 1);
		else if ((rc = mp_draw(b, sizeof(b))) != 0)
			return rc;
		rc = mp_write(parts, nparts, line_len, b, out);
		/* The size is exact: more would have meant a reallocation. */
		if (rc == 0 && out->len - start != total)
			rc = MCA_ERR_INTERNAL;
		if (rc == 0)
			break;
		/* Whatever was written may hold a key. */
		OPENSSL_cleanse(out->data + start, out->len - start);
		out->len = start;
		out->data[start] = '\0';
		if (rc != MCA_ERR_EXISTS || boundary != NULL)
			return rc;
	}
	if (rc != 0)
		return rc;
	if (bnd != NULL)
		memcpy(bnd, b, bl + 1);
	return 0;
}
