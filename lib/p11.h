/*
 * The CA key in a TPM or HSM, through libp11's PKCS11_* API. One login per
 * process; the session and key handle are kept for its lifetime.
 */
#ifndef MCA_P11_H
#define MCA_P11_H

#include <openssl/evp.h>

#include "err.h"

struct mca_p11;

/*
 * Loads the module, walks every slot with a token, and finds the private
 * key whose CKA_LABEL is label (on the first token that has one), logging
 * in with pin. *key is a handle whose operations run on the token; it is
 * owned by *out and valid until mca_p11_close(). d says which step failed
 * (module load, no token, login, no key with that label).
 * Returns 0, MCA_ERR_PKCS11 or MCA_ERR_NOTFOUND.
 */
int	 mca_p11_open(const char *module, const char *label, const char *pin,
	    struct mca_p11 **out, EVP_PKEY **key, struct mca_diag *d);

/* Logs out, closes and unloads (NULL-safe). */
void	 mca_p11_close(struct mca_p11 *p);

#endif
