/*
 * The signer: the one object that holds the CA private key, whether from
 * a PEM file or a PKCS#11 token. Everything else hands it a finished TBS
 * certificate and gets it back signed.
 */
#ifndef MCA_KEYSTORE_H
#define MCA_KEYSTORE_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cfg.h"
#include "err.h"

struct mca_signer;

/*
 * Opens the key the config names: intermediate_private_key_label_in_pkcs11
 * (with pkcs11_library and pkcs11_library_pin) if set, else
 * intermediate_private_key_path. Returns 0, MCA_ERR_PKCS11,
 * MCA_ERR_NOTFOUND, MCA_ERR_IO or MCA_ERR_CONFIG; d names key and file.
 */
int	 mca_signer_open(const struct mca_cfg *cfg, struct mca_signer **out,
	    struct mca_diag *d);

/* The two back ends, for tests and tools. */
int	 mca_signer_open_file(const char *path, struct mca_signer **out,
	    struct mca_diag *d);
int	 mca_signer_open_pkcs11(const char *module, const char *label,
	    const char *pin, struct mca_signer **out, struct mca_diag *d);

/*
 * A logged-in token session that signers of its keys share, so that a
 * worker takes a new CA key from the token after start-up, the PIN
 * gone (mca_cfg_wipe_pin()). The session closes with its last holder.
 */
struct mca_token;

/*
 * Logs in to the only initialised token of module (mca_p11_session()).
 * Returns 0, MCA_ERR_INVAL, MCA_ERR_PKCS11, MCA_ERR_NOTFOUND or
 * MCA_ERR_NOMEM, with d saying why.
 */
int	 mca_token_open(const char *module, const char *pin,
	    struct mca_token **out, struct mca_diag *d);

/* The token s signs on, as a new reference; NULL for a key file. */
struct mca_token *mca_signer_token(struct mca_signer *s);

/*
 * A signer for the private key labelled label on t (mca_p11_key()), no
 * login: it holds a reference to t. Returns 0, MCA_ERR_INVAL (no t),
 * MCA_ERR_NOTFOUND, MCA_ERR_PKCS11 or MCA_ERR_NOMEM with d set.
 */
int	 mca_signer_open_token(struct mca_token *t, const char *label,
	    struct mca_signer **out, struct mca_diag *d);

/* Drops a reference (NULL-safe); the last one logs out. */
void	 mca_token_free(struct mca_token *t);

/*
 * Signs x with md. 0 or MCA_ERR_CRYPTO, with OpenSSL's (or the token's)
 * reason in mca_signer_errmsg().
 */
int	 mca_signer_sign_cert(struct mca_signer *s, X509 *x, const EVP_MD *md);

/*
 * Signs crl with md (a CRL of this CA, RFC 5280 5.1.1.2). 0 or
 * MCA_ERR_CRYPTO, with the reason in mca_signer_errmsg().
 */
int	 mca_signer_sign_crl(struct mca_signer *s, X509_CRL *crl,
	    const EVP_MD *md);

/*
 * Why the last call on s failed, one line for the log ("X509_sign:
 * error:40800082:PKCS#11 module::Object handle invalid; ..."); when s
 * has nothing to say (or is NULL), mca_strerror(rc). Valid until the
 * next call on s.
 */
const char *mca_signer_errmsg(const struct mca_signer *s, int rc);

/*
 * Proves the key belongs to cert: signs a fresh random message and
 * verifies it with cert's public key (works for token keys whose public
 * half libp11 may not expose). Returns 0 or MCA_ERR_CRYPTO with d set.
 */
int	 mca_signer_check_cert(struct mca_signer *s, X509 *cert,
	    const EVP_MD *md, struct mca_diag *d);

void	 mca_signer_free(struct mca_signer *s);

#endif
