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
 * SSL_CLIENT_CERT text with the same SSL_CLIENT_CERT_CHAIN_n texts
 * (another chain may not lead to the same anchor), judged against the
 * same stores, and for MCA_CLIENT_MEMO_MS: a certificate expiring
 * meanwhile is refused at most that much late. Whether a certificate of
 * ours is in the ledger is looked up on every request all the same.
 * Refusals are not kept.
 */
#define MCA_CLIENT_MEMO_MS	1000

/* The texts of a client certificate: 0 is the leaf, then the chain. */
#define MEMO_TEXTS	(1 + MCA_REQ_CHAIN_MAX)

struct mca_client_memo {
	char			*key;	/* the texts back to back */
	size_t			 len[MEMO_TEXTS];
	size_t			 n;	/* texts in key */
	const X509_STORE	*own, *boot;
	struct timespec		 at;
	struct mca_client	 client;	/* without the ledger part */
};

void
mca_client_memo_free(struct mca_client_memo *m)
{
	if (m == NULL)
		return;
	free(m->key);
	mca_client_clear(&m->client);
	free(m);
}

/* Text i of rc (0: the leaf, then the chain), its length in *len. */
static const char *
cert_text(const struct mca_req_cert *rc, size_t i, size_t *len)
{
	if (i == 0) {
		*len = rc->len;
		return rc->pem;
	}
	*len = rc->chain_len[i - 1];
	return rc->chain[i - 1];
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
memo_get(const struct mca_client_memo *m, const struct mca_req_cert *rc,
    const X509_STORE *own, const X509_STORE *boot, struct mca_client *c)
{
	const char	*t;
	size_t		 i, off = 0, len;

	if (m == NULL || m->n != 1 + rc->nchain || m->own != own ||
	    m->boot != boot || memo_age_ms(&m->at) >= MCA_CLIENT_MEMO_MS)
		return 0;
	for (i = 0; i < m->n; i++) {
		t = cert_text(rc, i, &len);
		if (m->len[i] != len ||
		    CRYPTO_memcmp(m->key + off, t, len) != 0)
			return 0;
		off += len;
	}
	if (!X509_up_ref(m->client.cert))
		return 0;
	*c = m->client;
	return 1;
}

/* Keeps c's verdict (best effort: without memory, nothing is kept). */
static void
memo_put(struct mca_client_memo **mp, const struct mca_req_cert *rc,
    const X509_STORE *own, const X509_STORE *boot,
    const struct mca_client *c)
{
	struct mca_client_memo	*m;
	const char		*t;
	size_t			 i, off, total = 0, len;

	mca_client_memo_free(*mp);
	*mp = NULL;
	for (i = 0; i < 1 + rc->nchain; i++) {
		(void)cert_text(rc, i, &len);
		total += len;	/* at most MEMO_TEXTS * MCA_PEM_MAX */
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->key = malloc(total)) == NULL ||
	    clock_gettime(CLOCK_MONOTONIC, &m->at) != 0 ||
	    !X509_up_ref(c->cert)) {
		mca_client_memo_free(m);
		return;
	}
	m->n = 1 + rc->nchain;
	for (i = 0, off = 0; i < m->n; i++) {
		t = cert_text(rc, i, &len);
		memcpy(m->key + off, t, len);
		m->len[i] = len;
		off += len;
	}
	m->own = own;
	m->boot = boot;
	m->client = *c;
	m->client.in_ledger = 0;
	memset(&m->client.found, 0, sizeof(m->client.found));
	*mp = m;
}

/*
 * X509_V_OK, or the verification error against store. untrusted: the
 * chain the client sent, intermediates that may lead to an anchor of
 * store; never anchors themselves (RFC 5280 6.1).
 */
static int
verify_against(X509_STORE *store, X509 *cert, STACK_OF(X509) *untrusted)
{
	X509_STORE_CTX	*ctx;
	int		 err = X509_V_ERR_UNSPECIFIED;

	if (store == NULL)
		return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
	if ((ctx = X509_STORE_CTX_new()) == NULL)
		return err;
	if (X509_STORE_CTX_init(ctx, store, cert, untrusted) == 1) {
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

/*
 * The chain the client sent (SSL_CLIENT_CERT_CHAIN_n), parsed into a new
 * stack: 0, or an error response (403) in resp.
 */
static int
parse_chain(const struct mca_req_cert *t, STACK_OF(X509) **out,
    struct mca_resp *resp)
{
	STACK_OF(X509)	*sk;
	X509		*x = NULL;
	size_t		 i;
	int		 rc = MCA_ERR_NOMEM;

	*out = NULL;
	if ((sk = sk_X509_new_null()) == NULL) {
		(void)mca_resp_error(resp, 500, "out of memory");
		return rc;
	}
	for (i = 0; i < t->nchain; i++) {
		if ((rc = mca_pem_parse_cert(t->chain[i], t->chain_len[i],
		    &x)) != 0) {
			(void)mca_resp_error(resp, 403, "the client "
			    "certificate chain cannot be parsed "
			    "(SSL_CLIENT_CERT_CHAIN_%zu: %s)", i,
			    mca_strerror(rc));
			rc = MCA_ERR_AUTH;
			goto out;
		}
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			(void)mca_resp_error(resp, 500, "out of memory");
			rc = MCA_ERR_NOMEM;
			goto out;
		}
	}
	*out = sk;
	sk = NULL;
	rc = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int
mca_auth_client(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	struct mca_client	*c = &req->client;
	struct mca_req_cert	 texts;
	struct mca_diag		 d;
	STACK_OF(X509)		*chain = NULL;
	X509_STORE		*boot;
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
	mca_diag_clear(&d);
	if ((rc = mca_req_client_cert(req, &texts, &d)) != 0) {
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "cannot be used: %s", d.msg);
		return MCA_ERR_AUTH;
	}
	boot = bootstrap_store(srv, req);
	if (memo_get(srv->client_memo, &texts, srv->own, boot, c))
		goto judged;
	rc = MCA_ERR_AUTH;
	if (mca_pem_parse_cert(texts.pem, texts.len, &c->cert) != 0 ||
	    mca_name_string(X509_get_subject_name(c->cert), c->subject,
	    sizeof(c->subject)) != 0 ||
	    mca_name_string(X509_get_issuer_name(c->cert), c->issuer,
	    sizeof(c->issuer)) != 0 ||
	    mca_cert_serial_hex(c->cert, c->serial, sizeof(c->serial)) != 0) {
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "cannot be parsed");
		goto out;
	}
	if ((rc = parse_chain(&texts, &chain, resp)) != 0)
		goto out;
	err_own = verify_against(srv->own, c->cert, chain);
	err_boot = err_own == X509_V_OK ? X509_V_ERR_UNSPECIFIED :
	    verify_against(boot, c->cert, chain);
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
		    "not trusted: %s%s", X509_verify_cert_error_string(err_boot),
		    (err_boot == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
		    err_boot == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE) &&
		    texts.nchain == 0 ? " (and the web server passed no "
		    "chain: SSL_CLIENT_CERT_CHAIN_0)" : "");
		rc = MCA_ERR_AUTH;
		goto out;
	}
	memo_put(&srv->client_memo, &texts, srv->own, boot, c);
judged:
	if (c->ours) {
		rc = mca_ledger_find(srv->ledger, c->serial, c->issuer,
		    &c->found);
		if (rc == 0)
			c->in_ledger = 1;
		else if (rc != MCA_ERR_NOTFOUND) {
			mca_log_err("ledger: serial %s: lookup failed: %s",
			    c->serial, mca_ledger_errmsg(srv->ledger, rc));
			(void)mca_resp_error(resp, 500, "ledger lookup "
			    "failed");
			goto out;
		}
	}
	if (verify != NULL && strcmp(verify, "SUCCESS") != 0 &&
	    strcmp(verify, "GENEROUS") != 0)
		mca_log_debug("web server said SSL_CLIENT_VERIFY=%s for \"%s\"; "
		    "our own verification passed", verify, c->subject);
	rc = 0;
out:
	sk_X509_pop_free(chain, X509_free);
	return rc;
}
