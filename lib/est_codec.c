/*
 * The EST message bodies we produce: certs-only CMS (RFC 7030 4.1.3,
 * 4.2.3) and CSR attributes (RFC 7030 4.5.2). Both are plain DER; the
 * base64 transfer encoding is the caller's business.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "est_codec.h"

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
	switch (bits) {
	case 256:
		return NID_X9_62_prime256v1;
	case 384:
		return NID_secp384r1;
	case 521:
		return NID_secp521r1;
	default:
		return NID_undef;
	}
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
		switch (size) {
		case 0:
		case 256:
			curve = NID_X9_62_prime256v1;
			break;
		case 384:
			curve = NID_secp384r1;
			break;
		case 521:
			curve = NID_secp521r1;
			break;
		default:
			goto out;
		}
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
