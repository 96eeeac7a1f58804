/*
 * Our TLS client identity towards the upstreams: the certificate of
 * mtls_client_auth_cert_config (table 6) and its key, a file or a key in
 * the PKCS#11 token. One place for what microca-renew, microca-discover
 * and microca-azsync present; which anchors they trust stays theirs.
 */
#ifndef MCA_MTLS_H
#define MCA_MTLS_H

#include <openssl/evp.h>

#include "cfg.h"
#include "err.h"
#include "httpc.h"
#include "p11.h"

/*
 * Fills tls's certfile and keyfile or key (cleared first; cafile is left
 * as it is) from cfg's mtls_client_auth_cert_config: its certificate file,
 * and its key: mtls_auth_key_path, or the key labelled label (NULL:
 * mtls_auth_key_label) taken from the open token p into *key (NULL
 * first; the caller frees it with EVP_PKEY_free() after the requests,
 * tls->key borrows it). Without the block tls has no identity and 0 is
 * returned: whether one is required is the caller's to say. Strings point
 * into cfg. Returns 0, MCA_ERR_CONFIG with d naming the file and the
 * block (the key is in a token that is not open), or p11's error.
 */
int	 mca_mtls_client_tls(const struct mca_cfg *cfg, struct mca_p11 *p,
	    const char *label, struct mca_httpc_tls *tls, EVP_PKEY **key,
	    struct mca_diag *d);

#endif
