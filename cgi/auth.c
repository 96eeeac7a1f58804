/*
 * Who is asking. The web server terminated TLS and checked that the
 * client holds the key of the certificate it passes in SSL_CLIENT_CERT;
 * whether that certificate is any good is decided here, against our own
 * trust anchors, not from the web server's DN strings (Apache and
 * lighttpd format them differently) nor its verdict alone.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>

#include "log.h"
#include "pem.h"
#include "server.h"

void
mca_client_clear(struct mca_client *c)
{
	X509_free(c->cert);
	memset(c, 0, sizeof(*c));
}

/* X509_V_OK, or the verification error against store. */
static int
verify_against(X509_STORE *store, X509 *cert)
{
	X509_STORE_CTX	*ctx;
	int		 err = X509_V_ERR_UNSPECIFIED;

	if (store == NULL)
		return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
	if ((ctx = X509_STORE_CTX_new()) == NULL)
		return err;
	if (X509_STORE_CTX_init(ctx, store, cert, NULL) == 1) {
		/*
		 * No purpose check: a device renewing its TLS server
		 * certificate presents it as a client certificate.
		 */
		if (X509_verify_cert(ctx) == 1)
			err = X509_V_OK;
		else
			err = X509_STORE_CTX_get_error(ctx);
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return err;
}

/* The label's own mtls_ca_cert, else the top-level one (or NULL). */
static X509_STORE *
bootstrap_store(const struct mca_server *srv, const struct mca_request *req)
{
	if (srv->label_bootstrap != NULL && req->profile != NULL &&
	    srv->label_bootstrap[req->profile_idx] != NULL)
		return srv->label_bootstrap[req->profile_idx];
	return srv->bootstrap;
}

int
mca_auth_client(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	struct mca_client	*c = &req->client;
	const char		*pem, *verify;
	int			 err_own, err_boot, rc;

	pem = mca_req_env(req, "SSL_CLIENT_CERT");
	verify = mca_req_env(req, "SSL_CLIENT_VERIFY");
	if ((pem == NULL || *pem == '\0') && verify != NULL &&
	    strncmp(verify, "FAILED", 6) == 0) {
		/*
		 * lighttpd (ssl.verifyclient.enforce = "disable") hands over
		 * no certificate when its own check failed, only this verdict:
		 * the client did present one, and it is not good.
		 */
		(void)mca_resp_error(resp, 403, "the client certificate is "
		    "not trusted: the web server could not verify it");
		return MCA_ERR_AUTH;
	}
	if (pem == NULL || *pem == '\0' ||
	    (verify != NULL && strcmp(verify, "NONE") == 0)) {
		(void)mca_resp_error(resp, 401, "a client certificate is "
		    "required");
		return MCA_ERR_AUTH;
	}
	if (mca_pem_parse_cert(pem, strlen(pem), &c->cert) != 0) {
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "cannot be parsed");
		return MCA_ERR_AUTH;
	}
	if (mca_name_string(X509_get_subject_name(c->cert), c->subject,
	    sizeof(c->subject)) != 0 ||
	    mca_name_string(X509_get_issuer_name(c->cert), c->issuer,
	    sizeof(c->issuer)) != 0 ||
	    mca_cert_serial_hex(c->cert, c->serial, sizeof(c->serial)) != 0) {
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "cannot be parsed");
		return MCA_ERR_AUTH;
	}
	err_own = verify_against(srv->own, c->cert);
	err_boot = err_own == X509_V_OK ? X509_V_ERR_UNSPECIFIED :
	    verify_against(bootstrap_store(srv, req), c->cert);
	if (err_own == X509_V_OK) {
		c->ours = 1;
		rc = mca_ledger_find(srv->ledger, c->serial, c->issuer,
		    &c->found);
		if (rc == 0)
			c->in_ledger = 1;
		else if (rc != MCA_ERR_NOTFOUND) {
			(void)mca_resp_error(resp, 500, "ledger lookup "
			    "failed");
			return rc;
		}
	} else if (err_boot == X509_V_OK)
		c->bootstrap = 1;
	else {
		/* Say the most useful of the two reasons. */
		if (err_own == X509_V_ERR_CERT_HAS_EXPIRED ||
		    err_own == X509_V_ERR_CERT_NOT_YET_VALID)
			err_boot = err_own;
		(void)mca_resp_error(resp, 403, "the client certificate is "
		    "not trusted: %s", X509_verify_cert_error_string(err_boot));
		return MCA_ERR_AUTH;
	}
	if (verify != NULL && strcmp(verify, "SUCCESS") != 0 &&
	    strcmp(verify, "GENEROUS") != 0)
		mca_log_debug("web server said SSL_CLIENT_VERIFY=%s for \"%s\"; "
		    "our own verification passed", verify, c->subject);
	return 0;
}
