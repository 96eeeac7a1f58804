/*
 * The intermediate through the AppViewX REST API (renew_avx.h): APIconfig
 * loaded and its secret opened, the connection set up as the EST path's
 * (lib/renew.c mca_renew_upstream()), and the three calls of lib/avx.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "apiconfig.h"
#include "avx.h"
#include "buf.h"
#include "cfg.h"
#include "csrgen.h"
#include "err.h"
#include "estc.h"
#include "mtls.h"
#include "pem.h"
#include "renew_avx.h"
#include "secret.h"

#define SECRET_KEY	"service_account_client_secret"

int
mca_renew_avx_wanted(const struct mca_cfg *cfg)
{
	return cfg->new_intermediate_cert && !cfg->intermediate.enabled;
}

/*
 * An enc:v1 service_account_client_secret replaced by its plaintext,
 * with the key of encryption_key_file_path; the name of the key is the
 * associated data (lib/secret.h). A secret in the clear is kept.
 */
static int
open_secret(const struct mca_cfg *cfg, struct mca_apiconfig *a,
    struct mca_diag *d)
{
	struct mca_secret_key	 key;
	struct mca_diag		 sub;
	const char		*kf = cfg->encryption_key_file_path;
	char			*plain = NULL;
	int			 rc;

	memset(&key, 0, sizeof(key));
	if (a->service_account_client_secret == NULL ||
	    !mca_secret_is_enc(a->service_account_client_secret,
	    strlen(a->service_account_client_secret)))
		return 0;
	if (kf == NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: " SECRET_KEY ": is "
		    "encrypted (" MCA_SECRET_PREFIX ") but %s does not set "
		    "encryption_key_file_path", a->path, cfg->path);
	if ((rc = mca_secret_key_load(kf, &key, &sub)) != 0) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: " SECRET_KEY ": cannot "
		    "be decrypted: encryption_key_file_path: %s", a->path,
		    sub.msg);
		goto out;
	}
	rc = mca_secret_decrypt(&key, SECRET_KEY,
	    a->service_account_client_secret,
	    strlen(a->service_account_client_secret), &plain, NULL, &sub);
	if (rc != 0) {
		rc = mca_diag(d, rc == MCA_ERR_NOMEM ? rc : MCA_ERR_CONFIG,
		    "%s: " SECRET_KEY ": cannot be decrypted with the key in "
		    "%s: %s", a->path, kf, sub.msg);
		goto out;
	}
	/* (the enc:v1 form is no secret, but it is wiped all the same) */
	OPENSSL_cleanse(a->service_account_client_secret,
	    strlen(a->service_account_client_secret));
	free(a->service_account_client_secret);
	a->service_account_client_secret = plain;
	plain = NULL;
	rc = 0;
out:
	mca_secret_key_clear(&key);
	return rc;
}

int
mca_renew_avx_load(const struct mca_cfg *cfg, const char *path,
    struct mca_apiconfig **out, struct mca_diag *d)
{
	struct mca_apiconfig	*a = NULL;
	int			 rc;

	*out = NULL;
	mca_diag_clear(d);
	if ((rc = mca_apiconfig_load(path, &a, d)) != 0)
		return rc;
	if ((rc = mca_apiconfig_require_rest(a, d)) != 0 ||
	    (rc = open_secret(cfg, a, d)) != 0) {
		mca_apiconfig_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* First of a, b, c that is not NULL. */
static const char *
first(const char *a, const char *b, const char *c)
{
	return a != NULL ? a : b != NULL ? b : c;
}

int
mca_renew_avx_upstream(const struct mca_cfg *cfg,
    const struct mca_apiconfig *api, struct mca_p11 *p, struct mca_estc *e,
    EVP_PKEY **tlskey, struct mca_diag *d)
{
	mca_diag_clear(d);
	memset(e, 0, sizeof(*e));
	*tlskey = NULL;
	if (api == NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: intermediate_cert_"
		    "config.use_est is not true, and no APIconfig is loaded "
		    "for the AppViewX API", cfg->path);
	e->host = api->appviewx_hostname;
	e->port = (unsigned)api->appviewx_port_number;
	/* The same trust and timeouts as over EST (lib/renew.c). */
	e->tls.cafile = first(cfg->intermediate.upstream.ca_cert,
	    cfg->renewal.upstream.ca_cert, cfg->upstream.ca_cert);
	e->connect_timeout = cfg->upstream_connect_timeout;
	e->timeout = cfg->upstream_timeout;

	/*
	 * The mTLS client certificate (table 6), as over EST. AppViewX
	 * authenticates the service token; a gateway that asks for a client
	 * certificate in the handshake gets this one.
	 */
	return mca_mtls_client_tls(cfg, p, NULL, &e->tls, tlskey, d);
}

int
mca_renew_avx_enroll(const struct mca_estc *e, struct mca_apiconfig *api,
    X509_REQ *csr, struct mca_estc_result *res, struct mca_diag *d)
{
	struct mca_avx		 conn;
	struct mca_diag		 sub;
	struct mca_buf		 csr_pem = MCA_BUF_INIT, chain = MCA_BUF_INIT;
	STACK_OF(X509)		*sk = NULL;
	int			 rc;

	memset(res, 0, sizeof(*res));
	mca_diag_clear(d);
	if ((rc = mca_avx_from_apiconfig(&conn, api, d)) != 0)
		goto out;
	conn.tls = e->tls;
	conn.connect_timeout = e->connect_timeout;
	conn.timeout = e->timeout;
	if ((rc = mca_csrgen_pem(csr, &csr_pem)) != 0) {
		rc = mca_diag(d, rc, "AppViewX enroll: the request cannot be "
		    "written");
		goto out;
	}
	if ((rc = mca_avx_enroll(&conn, mca_buf_str(&csr_pem), &chain,
	    &sub)) != 0) {
		/* Which upstream said so, for the one line of the log. */
		rc = mca_diag(d, rc, "%s%s", strncmp(sub.msg, "AppViewX", 8) ==
		    0 ? "" : "AppViewX: ", sub.msg);
		goto out;
	}
	/* mca_avx_enroll() put the certificate for the CSR's key first. */
	if ((rc = mca_pem_parse_certs((const char *)chain.data, chain.len,
	    "the AppViewX chain", &sk, d)) != 0)
		goto out;
	res->state = MCA_ESTC_ISSUED;
	res->cert = sk_X509_shift(sk);
	res->chain = sk;
	sk = NULL;
	rc = 0;
out:
	/* The service account's secret is not needed again in this run. */
	mca_apiconfig_wipe_secrets(api);
	sk_X509_pop_free(sk, X509_free);
	mca_buf_free(&csr_pem);
	mca_buf_free(&chain);
	return rc;
}
