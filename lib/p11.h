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
 * in with pin. The caller may wipe pin once this returns: libp11 keeps a
 * copy of its own (to log in again in a child after fork()), which
 * mca_p11_close() wipes when it releases the slots.
 * *key is the caller's: a reference it frees with EVP_PKEY_free(). Its
 * operations run on the token through the session that *out holds, so
 * the caller frees *key first and calls mca_p11_close(*out) after, and
 * never uses *key once *out is closed. d says which step failed (module
 * load, no token, login, no key with that label) and libp11's reason.
 * Returns 0, MCA_ERR_PKCS11, MCA_ERR_NOTFOUND or MCA_ERR_NOMEM.
 */
int	 mca_p11_open(const char *module, const char *label, const char *pin,
	    struct mca_p11 **out, EVP_PKEY **key, struct mca_diag *d);

/*
 * Closes the session (which logs out), releases the slots and unloads
 * the module (NULL-safe). Frees neither the key nor anything else
 * mca_p11_open() handed out.
 */
void	 mca_p11_close(struct mca_p11 *p);

#endif
