/*
 * Keys in a TPM or HSM, through libp11's PKCS11_* API, plus the few raw
 * PKCS#11 calls libp11 0.4 lacks (EC key generation, attributes, object
 * removal that its key cache does not go stale over). One module, one
 * token and one login per struct mca_p11; from it any number of keys by
 * label, each an EVP_PKEY whose private operations run on the token.
 */
#ifndef MCA_P11_H
#define MCA_P11_H

#include <stddef.h>

#include <openssl/evp.h>

#include "err.h"
#include "keyspec.h"

struct mca_p11;

/*
 * Loads the module, picks the token and logs in with pin: the token whose
 * label is token, or with token NULL the only initialised token there is
 * (more than one is an error: a PIN tried on the wrong token counts
 * against its retry limit). The caller may wipe pin once this returns.
 * d says which step failed (module load, no token, login) with the
 * token's reason. Returns 0, MCA_ERR_PKCS11, MCA_ERR_NOTFOUND or
 * MCA_ERR_NOMEM.
 */
int	 mca_p11_session(const char *module, const char *token,
	    const char *pin, struct mca_p11 **out, struct mca_diag *d);

/*
 * The private key labelled label (CKA_LABEL, exactly; one object only)
 * into *key: a reference the caller frees with EVP_PKEY_free() before
 * it calls mca_p11_close(). It signs (X509_sign, X509_REQ_sign,
 * EVP_DigestSign) and serves TLS (SSL_CTX_use_PrivateKey) on the token;
 * the key never leaves it. Returns 0, MCA_ERR_NOTFOUND (no such key, or
 * several keys with the label), MCA_ERR_PKCS11 or MCA_ERR_NOMEM.
 */
int	 mca_p11_key(struct mca_p11 *p, const char *label, EVP_PKEY **key,
	    struct mca_diag *d);

/*
 * The public half of the key labelled label, as a plain OpenSSL key
 * holding nothing of the token, read from the public key object with
 * that label. Returns 0, MCA_ERR_NOTFOUND, MCA_ERR_PKCS11 or
 * MCA_ERR_CRYPTO.
 */
int	 mca_p11_pubkey(struct mca_p11 *p, const char *label, EVP_PKEY **pub,
	    struct mca_diag *d);

/*
 * Makes a key pair inside the token: RSA 2048 to 4096 bits (e = 65537)
 * or EC P-256, P-384, P-521 (bits 256, 384, 521). The private key is a
 * token object, private, sensitive and not extractable, for signing
 * only; both halves carry label and a fresh random CKA_ID. A label some
 * key already has is refused (MCA_ERR_EXISTS). *key is as mca_p11_key()
 * gives it, *pub as mca_p11_pubkey(); either may be NULL when not
 * wanted. Returns 0, MCA_ERR_INVAL (type, size or label),
 * MCA_ERR_EXISTS, MCA_ERR_PKCS11, MCA_ERR_CRYPTO or MCA_ERR_NOMEM.
 */
int	 mca_p11_keygen(struct mca_p11 *p, enum mca_keytype type, int bits,
	    const char *label, EVP_PKEY **key, EVP_PKEY **pub,
	    struct mca_diag *d);

/*
 * Removes the key pair labelled label: its private key and every public
 * key object with the same label. Which key may go is the caller's
 * policy; an EVP_PKEY of it must be freed before. Returns 0,
 * MCA_ERR_NOTFOUND (no private key has that label) or MCA_ERR_PKCS11.
 */
int	 mca_p11_delete(struct mca_p11 *p, const char *label,
	    struct mca_diag *d);

/* A private key on the token, as mca_p11_list() describes it. */
struct mca_p11_keyinfo {
	char		 label[128];	/* CKA_LABEL ("" if none) */
	char		 id[41];	/* CKA_ID in hex, at most 20 bytes */
	enum mca_keytype type;		/* RSA, EC, or ANY: another kind */
	int		 bits;		/* RSA modulus bits, EC curve bits; 0 */
	int		 sensitive;	/* CKA_SENSITIVE */
	int		 extractable;	/* CKA_EXTRACTABLE */
	int		 never_extractable; /* CKA_NEVER_EXTRACTABLE */
};

/*
 * Every private key on the token, in the token's order, into a calloc'd
 * array the caller frees with free(). Returns 0 (also with *n 0),
 * MCA_ERR_PKCS11 or MCA_ERR_NOMEM.
 */
int	 mca_p11_list(struct mca_p11 *p, struct mca_p11_keyinfo **out,
	    size_t *n, struct mca_diag *d);

/*
 * The EST server's signer: mca_p11_session() on the token that has a
 * public key labelled label (visible before login; with one token and no
 * public object, that token), then mca_p11_key(). *key is the caller's,
 * freed before mca_p11_close(*out).
 * Returns 0, MCA_ERR_PKCS11, MCA_ERR_NOTFOUND or MCA_ERR_NOMEM.
 */
int	 mca_p11_open(const char *module, const char *label, const char *pin,
	    struct mca_p11 **out, EVP_PKEY **key, struct mca_diag *d);

/*
 * Closes the sessions (which logs out), releases the slots and unloads
 * the module; wipes libp11's copy of the PIN (NULL-safe). Frees no key
 * handed out: those are freed first.
 */
void	 mca_p11_close(struct mca_p11 *p);

#endif
