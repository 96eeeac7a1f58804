/*
 * microca-renew's other upstream for the intermediate: the AppViewX REST
 * API (lib/avx.h), when new_intermediate_cert is true and
 * intermediate_cert_config.use_est is false (issue 13, "AppViewX REST").
 * The key, the CSR and its pending record, the checks of what comes back
 * and its installation are lib/renew.c's, the same as over EST: this file
 * loads APIconfig, sets the connection up the way the EST path does (trust
 * anchors, timeouts, TLS client identity) and enrolls. Nothing here prints
 * or exits.
 */
#ifndef MCA_RENEW_AVX_H
#define MCA_RENEW_AVX_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"

struct mca_apiconfig;
struct mca_cfg;
struct mca_estc;
struct mca_estc_result;
struct mca_p11;

/*
 * 1 when cfg has microca-renew enroll the intermediate through the
 * AppViewX REST API (new_intermediate_cert true, use_est not true), else 0.
 */
int	 mca_renew_avx_wanted(const struct mca_cfg *cfg);

/*
 * Loads the APIconfig at path (microca-apiconfig(5)) into a new *out for
 * the enrollment: it must hold what mca_apiconfig_require_rest() asks
 * for, and an enc:v1 service_account_client_secret is decrypted with the
 * key of config.json's encryption_key_file_path (lib/secret.h). Returns
 * 0, or MCA_ERR_NOTFOUND, MCA_ERR_IO, MCA_ERR_TOOBIG, MCA_ERR_CONFIG or
 * MCA_ERR_NOMEM with one line in d naming the file and the key, never a
 * secret; *out is NULL then.
 */
int	 mca_renew_avx_load(const struct mca_cfg *cfg, const char *path,
	    struct mca_apiconfig **out, struct mca_diag *d);

/*
 * What mca_renew_upstream() is for EST, for AppViewX: e (cleared first)
 * gets api's appviewx_hostname and appviewx_port_number, the trust
 * anchors as the EST path takes them (upstream_ca_cert of
 * intermediate_cert_config, else certificateRenewal_config, else the top
 * level; NULL: the system store), the upstream timeouts, and the mTLS
 * client certificate as the TLS client identity, its key from the token
 * p into *tlskey (the caller frees it) when it is a label. AppViewX REST
 * authenticates microca by its service token; the certificate is
 * presented only if the gateway asks for one in the TLS handshake. e's
 * label, user and pass stay NULL; strings point into cfg and api.
 * Returns 0, MCA_ERR_CONFIG (api NULL, the token not open) or p11's error.
 */
int	 mca_renew_avx_upstream(const struct mca_cfg *cfg,
	    const struct mca_apiconfig *api, struct mca_p11 *p,
	    struct mca_estc *e, EVP_PKEY **tlskey, struct mca_diag *d);

/*
 * Enrolls csr through AppViewX over e's host, port, TLS and timeouts
 * (mca_avx_enroll(): the service token, the certificate create API with
 * csr's PEM, the download). res (cleared first) is left as
 * mca_estc_enroll() leaves it for an issued certificate: res->cert the
 * certificate for csr's key, res->chain the others AppViewX sent, for the
 * same checks. The secrets of api are wiped before this returns, whatever
 * happened. Returns 0, or the codes of mca_avx_enroll() with one line in
 * d (free res with mca_estc_result_free() either way).
 */
int	 mca_renew_avx_enroll(const struct mca_estc *e,
	    struct mca_apiconfig *api, X509_REQ *csr,
	    struct mca_estc_result *res, struct mca_diag *d);

#endif
