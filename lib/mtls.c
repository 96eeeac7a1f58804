/*
 * The mTLS client identity of config.json. See mtls.h.
 */
#include "config.h"

#include <openssl/evp.h>

#include "cfg.h"
#include "err.h"
#include "httpc.h"
#include "mtls.h"
#include "p11.h"

int
mca_mtls_client_tls(const struct mca_cfg *cfg, struct mca_p11 *p,
    const char *label, struct mca_httpc_tls *tls, EVP_PKEY **key,
    struct mca_diag *d)
{
	const struct mca_cfg_mtls	*m = &cfg->mtls_client;
	int				 rc;

	mca_diag_clear(d);
	*key = NULL;
	tls->certfile = NULL;
	tls->keyfile = NULL;
	tls->key = NULL;
	if (!m->present)
		return 0;
	if (!m->key_in_pkcs11) {
		tls->certfile = m->cert_path;
		tls->keyfile = m->key_path;
		return 0;
	}
	if (p == NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: mtls_client_auth_cert_"
		    "config: the key is in the token, which is not open",
		    cfg->path);
	if ((rc = mca_p11_key(p, label != NULL ? label : m->key_label, key,
	    d)) != 0)
		return rc;
	/* Both or neither: a certificate without its key is no identity. */
	tls->certfile = m->cert_path;
	tls->key = *key;
	return 0;
}
