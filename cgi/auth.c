/*
 * Who is asking. The web server terminated TLS and checked that the
 * client holds the key of the certificate it passes in SSL_CLIENT_CERT;
 * whether that certificate is any good is decided here, against our own
 * trust anchors, not from the web server's DN strings (Apache and
 * lighttpd format them differently) nor its verdict alone.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "log.h"
#include "pem.h"
#include "request.h"
#include "server.h"

void
mca_client_clear(struct mca_client *c)
{
	X509_free(c->cert);
	memset(c, 0, sizeof(*c));
}

/*
 * The last client certificate this worker found good, and when. A
 * gateway or a factory line enrolls many devices with one certificate,
 * request after request; parsing and verifying it again costs about
 * 0.2 ms (OpenSSL 3.0 decodes its key through the provider decoders),
 * a sixth of an enrollment. The verdict is reused only for the same
 * SSL_CLIENT_CERT text judged against the same stores, and for
 * MCA_CLIENT_MEMO_MS: a certificate expiring meanwhile is refused at
 * most that much late. Whether a certificate of ours is in the ledger is
 * looked up on every request all the same. Refusals are not kept.
 */
#define MCA_CLIENT_MEMO_MS	1000

struct mca_client_memo {
	char			*pem;
	size_t			 len;
	const X509_STORE	*own, *boot;
	struct timespec		 at;
	struct mca_client	 client;	/* without the ledger part */
};

void
mca_client_memo_free(struct mca_client_memo *m)
{
	if (m == NULL)
		return;
	free(m->pem);
	mca_client_clear(&m->client);
	free(m);
}

static long long
memo_age_ms(const struct timespec *then)
{
	struct timespec	 now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return MCA_CLIENT_MEMO_MS;
	return (now.tv_sec - then->tv_sec) * 1000LL +
	    (now.tv_nsec - then->tv_nsec) / 1000000;
}

/* Fills c from the memo and returns 1 if it holds this very verdict. */
static int
memo_get(const struct mca_client_memo *m, const char *pem, size_t len,
    const X509_STORE *own, const X509_STORE *boot, struct mca_client *c)
{
	if (m == NULL || m->len != len || m->own != own || m->boot != boot ||
	    memo_age_ms(&m->at) >= MCA_CLIENT_MEMO_MS ||
	    CRYPTO_memcmp(m->pem, pem, len) != 0 ||
	    !X509_up_ref(m->client.cert))
		return 0;
	*c = m->client;
	return 1;
}

/* Keeps c's verdict (best effort: without memory, nothing is kept). */
static void
memo_put(struct mca_client_memo **mp, const char *pem, size_t len,
    const X509_STORE *own, const X509_STORE *boot,
    const struct mca_client *c)
{
	struct mca_client_memo	*m;

	mca_client_memo_free(*mp);
	*mp = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->pem = malloc(len)) == NULL ||
	    clock_gettime(CLOCK_MONOTONIC, &m->at) != 0 ||
	    !X509_up_ref(c->cert)) {
		mca_client_memo_free(m);
		return;
	}
	memcpy(m->pem, pem, len);
	m->len = len;
	m->own = own;
	m->boot = boot;
	m->client = *c;
	m->client.in_ledger = 0;
	memset(&m->client.found, 0, sizeof(m->client.found));
	*mp = m;
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
	X509_STORE		*boot;
	const char		*pem, *verify;
	size_t			 len;
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
	len = strlen(pem);
	boot = bootstrap_store(srv, req);
	if (memo_get(srv->client_memo, pem, len, srv->own, boot, c))
		goto judged;
	if (mca_pem_parse_cert(pem, len, &c->cert) != 0) {
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
	    verify_against(boot, c->cert);
	if (err_own == X509_V_OK)
		c->ours = 1;
	else if (err_boot == X509_V_OK)
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
	memo_put(&srv->client_memo, pem, len, srv->own, boot, c);
judged:
	if (c->ours) {
		rc = mca_ledger_find(srv->ledger, c->serial, c->issuer,
		    &c->found);
		if (rc == 0)
			c->in_ledger = 1;
		else if (rc != MCA_ERR_NOTFOUND) {
			(void)mca_resp_error(resp, 500, "ledger lookup "
			    "failed");
			return rc;
		}
	}
	if (verify != NULL && strcmp(verify, "SUCCESS") != 0 &&
	    strcmp(verify, "GENEROUS") != 0)
		mca_log_debug("web server said SSL_CLIENT_VERIFY=%s for \"%s\"; "
		    "our own verification passed", verify, c->subject);
	return 0;
}
