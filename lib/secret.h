/*
 * Secrets at rest: config values such as pkcs11_library_pin stored as
 *
 *   enc:v1:<base64 of nonce || ciphertext || tag>
 *
 * AES-256-GCM (NIST SP 800-38D) with a random 96-bit nonce (12 bytes) and
 * a 128-bit tag (16 bytes); base64 is the standard alphabet with padding
 * (RFC 4648 4), on one line, nothing else around it. The name of the key
 * the value is stored under ("pkcs11_library_pin") is the associated
 * data, so a value moved to another key does not decrypt. The plaintext
 * is 1 to MCA_SECRET_PLAIN_MAX bytes, no NUL.
 *
 * The 256-bit key lives in its own file (encryption_key_file_path): 32
 * raw bytes, or 64 hexadecimal digits and at most one newline (what
 * mca_secret_keygen() writes, and "openssl rand -hex 32"). The file must
 * be a regular file, not a symbolic link, with no group or other
 * permission bits (0600 or 0400), owned by root or the user reading it.
 *
 * Nothing here prints or logs; messages name files and keys, never a
 * value. Every buffer that held a key or a plaintext is wiped.
 */
#ifndef MCA_SECRET_H
#define MCA_SECRET_H

#include <stddef.h>

#include "err.h"

#define MCA_SECRET_PREFIX	"enc:v1:"
#define MCA_SECRET_KEY_LEN	32	/* AES-256 */
#define MCA_SECRET_NONCE_LEN	12	/* 96 bits, SP 800-38D 8.2 */
#define MCA_SECRET_TAG_LEN	16
#define MCA_SECRET_PLAIN_MAX	1024	/* bytes of a secret */
#define MCA_SECRET_NAME_MAX	128	/* bytes of a key name */
#define MCA_SECRET_KEYFILE_MAX	128	/* bytes of a key file */
/* The longest enc:v1 value: the prefix and base64 of the longest blob. */
#define MCA_SECRET_ENC_MAX	(sizeof(MCA_SECRET_PREFIX) - 1 + \
	(MCA_SECRET_NONCE_LEN + MCA_SECRET_PLAIN_MAX + MCA_SECRET_TAG_LEN + \
	2) / 3 * 4)

struct mca_secret_key {
	unsigned char	 k[MCA_SECRET_KEY_LEN];
	int		 loaded;
};

/* 1 if s[0..len) starts with MCA_SECRET_PREFIX, else 0 (NULL-safe). */
int	 mca_secret_is_enc(const char *s, size_t len);

/*
 * 1 if name is one of the keys that may hold a secret
 * (pkcs11_library_pin; APIconfig's service_account_client_secret,
 * azure_hub_key, azurehubcreds), else 0.
 */
int	 mca_secret_name_known(const char *name);

/*
 * Reads the key file at path into key, after the checks above. Returns
 * 0, MCA_ERR_NOTFOUND, MCA_ERR_IO, MCA_ERR_POLICY (type, mode or owner),
 * MCA_ERR_TOOBIG or MCA_ERR_INVAL (not a key), with d naming path.
 */
int	 mca_secret_key_load(const char *path, struct mca_secret_key *key,
	    struct mca_diag *d);

/* Wipes key (NULL-safe). */
void	 mca_secret_key_clear(struct mca_secret_key *key);

/*
 * Creates a new key file at path: 64 hex digits of fresh random bytes
 * and a newline, mode 0600, written to a temporary file in the same
 * directory, fsync'd, then linked into place, so that path is either
 * absent or whole, and an existing path is never replaced
 * (MCA_ERR_EXISTS). Returns 0, MCA_ERR_EXISTS, MCA_ERR_IO, MCA_ERR_INVAL
 * or MCA_ERR_CRYPTO, with d naming path.
 */
int	 mca_secret_keygen(const char *path, struct mca_diag *d);

/*
 * Encrypts plain[0..len) for the key called name into *out, a new
 * NUL-terminated "enc:v1:..." string (free with free(3); it is not
 * secret). Returns 0, MCA_ERR_INVAL (name or plaintext not acceptable),
 * MCA_ERR_TOOBIG, MCA_ERR_CRYPTO or MCA_ERR_NOMEM, with d saying which.
 */
int	 mca_secret_encrypt(const struct mca_secret_key *key,
	    const char *name, const char *plain, size_t len, char **out,
	    struct mca_diag *d);

/*
 * Decrypts the enc:v1 value enc[0..len) stored under name into *out, a
 * new NUL-terminated string of *outlen bytes (may be NULL) that the
 * caller wipes and frees. Returns 0, MCA_ERR_INVAL (not an enc:v1
 * value: prefix, base64 or length), MCA_ERR_TOOBIG, MCA_ERR_CRYPTO
 * (the tag does not verify: another key, another name, or altered) or
 * MCA_ERR_NOMEM, with d saying which, never with any of the value.
 */
int	 mca_secret_decrypt(const struct mca_secret_key *key,
	    const char *name, const char *enc, size_t len, char **out,
	    size_t *outlen, struct mca_diag *d);

#endif
