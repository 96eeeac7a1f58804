/*
 * Key generation for /serverkeygen (RFC 7030 4.4). See keygen.h.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "keygen.h"
#include "keyspec.h"

int
mca_keygen_supported(enum mca_keytype type, int bits)
{
	return mca_keyspec_makeable(type, bits);
}

int
mca_keygen(enum mca_keytype type, int bits, EVP_PKEY **out)
{
	EVP_PKEY	*k;

	*out = NULL;
	if (!mca_keyspec_makeable(type, bits))
		return MCA_ERR_INVAL;
	/* EVP_PKEY_Q_keygen: RSA with e = 65537; EC with a named curve. */
	if (type == MCA_KEYTYPE_RSA)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    mca_keyspec_curve_bits(bits)->name);
	if (k == NULL) {
		ERR_clear_error();
		return MCA_ERR_CRYPTO;
	}
	*out = k;
	return 0;
}

int
mca_keygen_pkcs8(const EVP_PKEY *k, struct mca_buf *der)
{
	PKCS8_PRIV_KEY_INFO	*p8 = NULL;
	unsigned char		*p;
	int			 n, rc = MCA_ERR_CRYPTO;

	if (k == NULL || der == NULL)
		return MCA_ERR_INVAL;
	/* RFC 5958 2: version 0 PrivateKeyInfo, as RFC 7030 4.4.2 asks. */
	if ((p8 = EVP_PKEY2PKCS8(k)) == NULL ||
	    (n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL)) <= 0)
		goto out;
	/* Room first: the key goes straight into its final place. */
	if ((rc = mca_buf_reserve(der, (size_t)n)) != 0)
		goto out;
	p = der->data + der->len;
	if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != n) {
		OPENSSL_cleanse(der->data + der->len, (size_t)n);
		rc = MCA_ERR_CRYPTO;
		goto out;
	}
	der->len += (size_t)n;
	der->data[der->len] = '\0';
	rc = 0;
out:
	if (rc != 0)
		ERR_clear_error();
	/* Its ASN.1 free wipes the key octets (p8_cb, ASN1_OP_FREE_PRE). */
	PKCS8_PRIV_KEY_INFO_free(p8);
	return rc;
}

int
mca_keygen_public(const EVP_PKEY *k, EVP_PKEY **out)
{
	unsigned char		*spki = NULL;
	const unsigned char	*p;
	EVP_PKEY		*pub = NULL;
	int			 n;

	*out = NULL;
	if (k == NULL)
		return MCA_ERR_INVAL;
	if ((n = i2d_PUBKEY(k, &spki)) <= 0) {
		ERR_clear_error();
		return MCA_ERR_CRYPTO;
	}
	p = spki;
	pub = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(spki);
	if (pub == NULL) {
		ERR_clear_error();
		return MCA_ERR_CRYPTO;
	}
	*out = pub;
	return 0;
}
