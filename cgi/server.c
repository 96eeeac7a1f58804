/* Start-up: everything a worker needs, done once, before any request. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "b64.h"
#include "est_codec.h"
#include "log.h"
#include "pem.h"
#include "server.h"

/* A store whose every certificate is a trust anchor (partial chains). */
static int
store_from(STACK_OF(X509) *certs, X509_STORE **out)
{
	X509_STORE	*st;
	int		 i;

	*out = NULL;
	if ((st = X509_STORE_new()) == NULL)
		return MCA_ERR_NOMEM;
	for (i = 0; i < sk_X509_num(certs); i++)
		if (!X509_STORE_add_cert(st, sk_X509_value(certs, i))) {
			X509_STORE_free(st);
			return MCA_ERR_CRYPTO;
		}
	/*
	 * mtls_ca_cert may name the issuing CA of the clients rather than
	 * a root (seed table 9): any certificate in it is an anchor.
	 */
	X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
	*out = st;
	return 0;
}

/* Each label's own mtls_ca_cert (auth_methods "certificate" only). */
static int
load_label_bootstrap(struct mca_server *srv, struct mca_diag *d)
{
	const struct mca_profile	*p;
	STACK_OF(X509)			*certs = NULL;
	struct mca_diag			 sub;
	size_t				 i;
	int				 rc = 0;

	srv->label_bootstrap = calloc(srv->cfg->nprofiles,
	    sizeof(*srv->label_bootstrap));
	if (srv->label_bootstrap == NULL)
		return MCA_ERR_NOMEM;
	for (i = 0; i < srv->cfg->nprofiles; i++) {
		p = &srv->cfg->profiles[i];
		if (p->mtls_ca_cert == NULL ||
		    !(p->auth_methods & MCA_AUTH_CERTIFICATE))
			continue;
		mca_diag_clear(&sub);
		if ((rc = mca_pem_load_certs(p->mtls_ca_cert, &certs,
		    &sub)) != 0) {
			rc = mca_diag(d, rc, "%s: end_certificate_config_%d."
			    "mtls_ca_cert: %s", srv->cfg->path, p->index,
			    sub.msg);
			break;
		}
		rc = store_from(certs, &srv->label_bootstrap[i]);
		sk_X509_pop_free(certs, X509_free);
		certs = NULL;
		if (rc != 0)
			break;
	}
	return rc;
}

static int
cache_labels(struct mca_server *srv, struct mca_diag *d)
{
	struct mca_buf			 der = MCA_BUF_INIT, attrs = MCA_BUF_INIT;
	const struct mca_profile	*p;
	STACK_OF(X509)			*all = NULL;
	size_t				 i;
	int				 rc, j;

	srv->cache = calloc(srv->cfg->nprofiles, sizeof(*srv->cache));
	if (srv->cache == NULL)
		return MCA_ERR_NOMEM;
	/*
	 * RFC 7030 4.1.3: the chain up to the root, as configured, then the
	 * rollover certificates (OldWithNew, NewWithOld, NewWithNew, a new
	 * intermediate) in file order.
	 */
	rc = MCA_ERR_NOMEM;
	if ((all = sk_X509_dup(srv->ca->chain)) == NULL)
		goto out;
	for (j = 0; j < sk_X509_num(srv->ca->rollover); j++)
		if (!sk_X509_push(all, sk_X509_value(srv->ca->rollover, j)))
			goto out;
	if ((rc = mca_est_certs_only(all, &der)) != 0)
		goto out;
	for (i = 0; i < srv->cfg->nprofiles; i++) {
		p = &srv->cfg->profiles[i];
		mca_buf_reset(&attrs);
		if ((rc = mca_b64_encode(der.data, der.len,
		    (unsigned)p->b64_line_length, &srv->cache[i].cacerts)) != 0 ||
		    (rc = mca_est_csrattrs(p, srv->ca->md, &attrs)) != 0 ||
		    (rc = mca_b64_encode(attrs.data, attrs.len,
		    (unsigned)p->b64_line_length, &srv->cache[i].csrattrs)) != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		(void)mca_diag(d, rc, "cannot encode /cacerts or /csrattrs: %s",
		    mca_strerror(rc));
	sk_X509_free(all);	/* the certificates belong to srv->ca */
	mca_buf_free(&der);
	mca_buf_free(&attrs);
	return rc;
}

int
mca_server_open(const char *config_path, struct mca_server **out,
    struct mca_diag *d)
{
	struct mca_server	*srv = NULL;
	STACK_OF(X509)		*boot = NULL;
	struct mca_diag		 sub;
	struct stat		 st;
	size_t			 i;
	int			 rc;

	*out = NULL;
	mca_diag_clear(&sub);
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return MCA_ERR_NOMEM;
	if ((rc = mca_cfg_load(config_path, &srv->cfg, d)) != 0)
		goto out;
	for (i = 0; i < srv->cfg->nwarnings; i++)
		mca_log_warn("%s", srv->cfg->warnings[i]);
	if ((rc = mca_ca_load(srv->cfg, &srv->ca, d)) != 0)
		goto out;
	/*
	 * The token is logged in for the life of this worker, and nothing
	 * logs in again: a worker never re-opens the signer, and each one
	 * is its own exec'd process that reads the config itself. (libp11
	 * keeps its own copy for a login after fork(); see p11.h.)
	 */
	mca_cfg_wipe_pin(srv->cfg);
	if (!srv->ca->has_root)
		mca_log_warn("%s: intermediate_cert_path: %s does not end in a "
		    "self-signed root; /cacerts will not carry the whole "
		    "chain (RFC 7030 4.1.3)", srv->cfg->path,
		    srv->cfg->intermediate_cert_path);
	if ((rc = store_from(srv->ca->chain, &srv->own)) != 0)
		goto out;
	if (srv->cfg->mtls_ca_cert != NULL) {
		if ((rc = mca_pem_load_certs(srv->cfg->mtls_ca_cert, &boot,
		    &sub)) != 0) {
			rc = mca_diag(d, rc, "%s: mtls_ca_cert: %s",
			    srv->cfg->path, sub.msg);
			goto out;
		}
		if ((rc = store_from(boot, &srv->bootstrap)) != 0)
			goto out;
	}
	if ((rc = load_label_bootstrap(srv, d)) != 0)
		goto out;
	if (stat(srv->cfg->issued_certs_dir, &st) == -1) {
		if (errno != ENOENT ||
		    mkdir(srv->cfg->issued_certs_dir, 0755) == -1) {
			rc = mca_diag(d, MCA_ERR_IO, "%s: issued_certs_dir: %s: "
			    "%s", srv->cfg->path, srv->cfg->issued_certs_dir,
			    strerror(errno));
			goto out;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: issued_certs_dir: %s: "
		    "not a directory", srv->cfg->path,
		    srv->cfg->issued_certs_dir);
		goto out;
	}
	if ((rc = mca_ledger_open(srv->cfg->ledger_db_path,
	    srv->cfg->ledger_synchronous_full, &srv->ledger, &sub)) != 0) {
		rc = mca_diag(d, rc, "%s: ledger_db_path: %s", srv->cfg->path,
		    sub.msg);
		goto out;
	}
	mca_ledger_refusal_limits(srv->ledger, srv->cfg->refusals_keep_days,
	    srv->cfg->refusals_per_minute_max);
	if ((rc = cache_labels(srv, d)) != 0)
		goto out;
	*out = srv;
	srv = NULL;
	rc = 0;
out:
	ERR_clear_error();
	sk_X509_pop_free(boot, X509_free);
	mca_server_close(srv);
	return rc;
}

void
mca_server_close(struct mca_server *srv)
{
	size_t	 i;

	if (srv == NULL)
		return;
	if (srv->cache != NULL && srv->cfg != NULL)
		for (i = 0; i < srv->cfg->nprofiles; i++) {
			mca_buf_free(&srv->cache[i].cacerts);
			mca_buf_free(&srv->cache[i].csrattrs);
		}
	free(srv->cache);
	if (srv->label_bootstrap != NULL && srv->cfg != NULL)
		for (i = 0; i < srv->cfg->nprofiles; i++)
			X509_STORE_free(srv->label_bootstrap[i]);
	free(srv->label_bootstrap);
	mca_client_memo_free(srv->client_memo);
	mca_ledger_close(srv->ledger);
	X509_STORE_free(srv->own);
	X509_STORE_free(srv->bootstrap);
	mca_ca_free(srv->ca);
	mca_cfg_free(srv->cfg);
	free(srv);
}
