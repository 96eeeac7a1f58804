/*
 * Key pairs the server makes for /serverkeygen (RFC 7030 4.4). These are
 * the clients' keys, not the CA's: nothing here touches the signer. A
 * private key leaves this module once, as PKCS#8 DER in a buffer the
 * caller wipes, and is never written to disk or logged.
 */
#ifndef MCA_KEYGEN_H
#define MCA_KEYGEN_H

#include <openssl/evp.h>

#include "buf.h"
#include "cfg.h"
#include "err.h"

/* The default of a label without server_key_type/server_key_size. */
#define MCA_KEYGEN_DEF_TYPE	MCA_KEYTYPE_RSA
#define MCA_KEYGEN_DEF_RSA	2048
#define MCA_KEYGEN_DEF_EC	256

/*
 * 1 if we make keys of this type and size: RSA 2048, 3072 or 4096 bits
 * (exponent 65537), EC P-256 or P-384 (bits 256, 384). Else 0.
 */
int	 mca_keygen_supported(enum mca_keytype type, int bits);

/*
 * Makes a fresh key pair. Returns 0 with *out set, MCA_ERR_INVAL (a type
 * and size mca_keygen_supported() refuses) or MCA_ERR_CRYPTO.
 */
int	 mca_keygen(enum mca_keytype type, int bits, EVP_PKEY **out);

/*
 * Appends the DER of k's PKCS#8 PrivateKeyInfo (RFC 5958 2) to der. The
 * result is a secret: the caller wipes it (mca_buf_free_secret()). der
 * is grown before the key is written into it, so no reallocation leaves
 * a copy behind; on error nothing is appended. Returns 0,
 * MCA_ERR_CRYPTO, MCA_ERR_NOMEM or MCA_ERR_TOOBIG.
 */
int	 mca_keygen_pkcs8(const EVP_PKEY *k, struct mca_buf *der);

/*
 * A new key holding only the public half of k (a SubjectPublicKeyInfo
 * round trip), for the certificate: whatever keeps it never holds the
 * private key. Returns 0 with *out set, or MCA_ERR_CRYPTO.
 */
int	 mca_keygen_public(const EVP_PKEY *k, EVP_PKEY **out);

#endif
