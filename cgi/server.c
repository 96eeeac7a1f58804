/* Start-up: everything a worker needs, done once, before any request. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "b64.h"
#include "castate.h"
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

/* Most retired generations trusted for renewals at once. */
#define GEN_RETIRED_MAX	16
/* How often a worker asks the ledger for the active generation (ms). */
#define GEN_CHECK_MS	1000

static void
cache_free(const struct mca_server *srv, struct mca_label_cache *cache)
{
	size_t	 i;

	if (cache == NULL)
		return;
	for (i = 0; i < srv->cfg->nprofiles; i++) {
		mca_buf_free(&cache[i].cacerts);
		mca_buf_free(&cache[i].csrattrs);
	}
	free(cache);
}

/* What each label serves for /cacerts and /csrattrs with ca. */
static int
cache_labels(const struct mca_server *srv, const struct mca_ca *ca,
    struct mca_label_cache **out, struct mca_diag *d)
{
	struct mca_buf			 der = MCA_BUF_INIT, attrs = MCA_BUF_INIT;
	struct mca_label_cache		*cache = NULL;
	const struct mca_profile	*p;
	STACK_OF(X509)			*all = NULL;
	size_t				 i;
	int				 rc, j;

	*out = NULL;
	cache = calloc(srv->cfg->nprofiles, sizeof(*cache));
	if (cache == NULL)
		return MCA_ERR_NOMEM;
	/*
	 * RFC 7030 4.1.3: the chain up to the root, as configured, then the
	 * rollover certificates (OldWithNew, NewWithOld, NewWithNew, a new
	 * intermediate) in file order.
	 */
	rc = MCA_ERR_NOMEM;
	if ((all = sk_X509_dup(ca->chain)) == NULL)
		goto out;
	for (j = 0; j < sk_X509_num(ca->rollover); j++)
		if (!sk_X509_push(all, sk_X509_value(ca->rollover, j)))
			goto out;
	if ((rc = mca_est_certs_only(all, &der)) != 0)
		goto out;
	for (i = 0; i < srv->cfg->nprofiles; i++) {
		p = &srv->cfg->profiles[i];
		mca_buf_reset(&attrs);
		if ((rc = mca_b64_encode(der.data, der.len,
		    (unsigned)p->b64_line_length, &cache[i].cacerts)) != 0 ||
		    (rc = mca_est_csrattrs(p, ca->md, &attrs)) != 0 ||
		    (rc = mca_b64_encode(attrs.data, attrs.len,
		    (unsigned)p->b64_line_length, &cache[i].csrattrs)) != 0)
			goto out;
	}
	*out = cache;
	cache = NULL;
	rc = 0;
out:
	if (rc != 0)
		(void)mca_diag(d, rc, "cannot encode /cacerts or /csrattrs: %s",
		    mca_strerror(rc));
	cache_free(srv, cache);
	sk_X509_free(all);	/* the certificates belong to ca */
	mca_buf_free(&der);
	mca_buf_free(&attrs);
	return rc;
}

/* Appends the certificates of chain to all (references). */
static int
push_chain(STACK_OF(X509) *all, STACK_OF(X509) *chain)
{
	int	 i;

	for (i = 0; i < sk_X509_num(chain); i++) {
		if (!sk_X509_push(all, sk_X509_value(chain, i)))
			return MCA_ERR_NOMEM;
		X509_up_ref(sk_X509_value(chain, i));
	}
	return 0;
}

/*
 * The store of own issuers with ca in use: ca's chain, the retired
 * generations that have not expired (RFC 7030 4.2.2: a client renews
 * with the certificate it has) and config.json's chain while its
 * intermediate is valid. A retired chain that no longer parses is left
 * out.
 */
static int
own_store(struct mca_server *srv, const struct mca_ca *ca,
    X509_STORE **out, struct mca_diag *d)
{
	struct mca_ca_gen	 gens[GEN_RETIRED_MAX];
	STACK_OF(X509)		*all = NULL, *chain = NULL;
	struct mca_diag		 sub;
	size_t			 i, n = 0;
	char			 where[64];
	int			 rc;

	*out = NULL;
	memset(gens, 0, sizeof(gens));
	if ((all = sk_X509_new_null()) == NULL)
		return MCA_ERR_NOMEM;
	if ((rc = push_chain(all, ca->chain)) != 0)
		goto out;
	if (srv->base != NULL && srv->base != ca &&
	    X509_cmp_current_time(X509_get0_notAfter(srv->base->cert)) > 0 &&
	    (rc = push_chain(all, srv->base->chain)) != 0)
		goto out;
	if (srv->ledger != NULL && (rc = mca_castate_retired(srv->ledger,
	    time(NULL), gens, GEN_RETIRED_MAX, &n)) != 0) {
		rc = mca_diag(d, rc, "ledger: %s",
		    mca_ledger_errmsg(srv->ledger, rc));
		goto out;
	}
	for (i = 0; i < n; i++) {
		(void)snprintf(where, sizeof(where), "CA generation %lld",
		    gens[i].id);
		if (mca_pem_parse_certs(gens[i].chain_pem,
		    strlen(gens[i].chain_pem), where, &chain, &sub) != 0) {
			mca_log_warn("%s (retired): %s; its certificates "
			    "cannot renew here", where, sub.msg);
			continue;
		}
		rc = push_chain(all, chain);
		sk_X509_pop_free(chain, X509_free);
		chain = NULL;
		if (rc != 0)
			goto out;
	}
	rc = store_from(all, out);
out:
	for (i = 0; i < n; i++)
		mca_ca_gen_free(&gens[i]);
	sk_X509_pop_free(all, X509_free);
	return rc;
}

/*
 * Serves with ca from now on: its caches and store of own issuers are
 * made first, and only when all are there is anything swapped. ca is
 * srv->base, or a generation that becomes srv->gen (gen_id id).
 * Returns 0 (ca is srv's) or an MCA_ERR_* with d set (ca is still the
 * caller's).
 */
static int
server_use(struct mca_server *srv, struct mca_ca *ca, long long id,
    struct mca_diag *d)
{
	struct mca_label_cache	*cache = NULL;
	X509_STORE		*own = NULL;
	int			 rc;

	if ((rc = cache_labels(srv, ca, &cache, d)) != 0 ||
	    (rc = own_store(srv, ca, &own, d)) != 0) {
		cache_free(srv, cache);
		return rc;
	}
	cache_free(srv, srv->cache);
	srv->cache = cache;
	X509_STORE_free(srv->own);
	srv->own = own;
	/* The memo's verdicts were against the old store. */
	mca_client_memo_free(srv->client_memo);
	srv->client_memo = NULL;
	if (ca != srv->gen) {
		mca_ca_free(srv->gen);
		srv->gen = ca != srv->base ? ca : NULL;
	}
	srv->ca = ca;
	srv->gen_id = id;
	if (!ca->has_root && ca == srv->base)
		mca_log_warn("%s: intermediate_cert_path: %s does not end in a "
		    "self-signed root; /cacerts will not carry the whole "
		    "chain (RFC 7030 4.1.3)", srv->cfg->path,
		    srv->cfg->intermediate_cert_path);
	else if (!ca->has_root)
		mca_log_warn("CA generation %lld: the chain does not end in a "
		    "self-signed root; /cacerts will not carry the whole "
		    "chain (RFC 7030 4.1.3)", id);
	return 0;
}

/*
 * Loads the ledger's active generation (none: config.json's CA) and
 * serves with it. 0, or an MCA_ERR_* with d saying why; srv is as it
 * was then.
 */
static int
gen_load(struct mca_server *srv, struct mca_diag *d)
{
	struct mca_ca_gen	 g;
	struct mca_ca		*ca = NULL;
	int			 rc;

	memset(&g, 0, sizeof(g));
	rc = mca_castate_active(srv->ledger, &g);
	if (rc == MCA_ERR_NOTFOUND) {
		if (srv->base == NULL)
			return mca_diag(d, MCA_ERR_CONFIG, "no active CA "
			    "generation, and config.json's intermediate "
			    "cannot be used");
		return srv->gen_id == 0 && srv->ca == srv->base ? 0 :
		    server_use(srv, srv->base, 0, d);
	}
	if (rc != 0)
		return mca_diag(d, rc, "ledger: %s",
		    mca_ledger_errmsg(srv->ledger, rc));
	if ((rc = mca_ca_load_gen(srv->cfg, &g, srv->token, &ca, d)) != 0 ||
	    (rc = server_use(srv, ca, g.id, d)) != 0)
		goto out;
	ca = NULL;
	mca_log_info("CA generation %lld in use: \"%s\", serial %s, "
	    "until %lld", g.id, srv->ca->subject, g.serial,
	    (long long)g.not_after);
	rc = 0;
out:
	mca_ca_free(ca);
	mca_ca_gen_free(&g);
	return rc;
}

/* Milliseconds from a to b (monotonic). */
static long long
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000LL +
	    (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* A failure, logged once until it changes or things work again. */
static void
gen_failed(struct mca_server *srv, const char *why)
{
	if (strcmp(srv->gen_why, why) == 0)
		return;
	(void)snprintf(srv->gen_why, sizeof(srv->gen_why), "%s", why);
	mca_log_err("%s; still signing with \"%s\"", why, srv->ca->subject);
}

void
mca_server_refresh(struct mca_server *srv)
{
	struct timespec	 now;
	struct mca_diag	 d;
	long long	 id;
	int		 rc;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0 ||
	    ms_between(&srv->gen_checked, &now) < GEN_CHECK_MS)
		return;
	srv->gen_checked = now;
	mca_diag_clear(&d);
	if ((rc = mca_castate_active_id(srv->ledger, &id)) != 0) {
		(void)mca_diag(&d, rc, "ledger: cannot read the active CA "
		    "generation: %s", mca_ledger_errmsg(srv->ledger, rc));
		gen_failed(srv, d.msg);
		return;
	}
	if (id == srv->gen_id)
		return;
	if ((rc = gen_load(srv, &d)) != 0) {
		gen_failed(srv, d.msg);
		return;
	}
	srv->gen_why[0] = '\0';
}

int
mca_server_open(const char *config_path, struct mca_server **out,
    struct mca_diag *d)
{
	struct mca_server	*srv = NULL;
	STACK_OF(X509)		*boot = NULL;
	struct mca_diag		 sub, base_why;
	struct stat		 st;
	long long		 id = 0;
	size_t			 i;
	int			 rc, base_rc;

	*out = NULL;
	mca_diag_clear(&sub);
	mca_diag_clear(&base_why);
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return MCA_ERR_NOMEM;
	if ((rc = mca_cfg_load(config_path, &srv->cfg, d)) != 0)
		goto out;
	for (i = 0; i < srv->cfg->nwarnings; i++)
		mca_log_warn("%s", srv->cfg->warnings[i]);
	/*
	 * mkdir() first, and EEXIST is fine: the workers start together
	 * (lighttpd starts them all; mod_fcgid one per request of a burst,
	 * as microca-web's warm-up sends), and on a fresh install one of them
	 * made the directory between another's stat() and mkdir(), which
	 * then failed: that worker exited, and Apache answered its first
	 * request 500.
	 */
	if ((mkdir(srv->cfg->issued_certs_dir, 0755) == -1 &&
	    errno != EEXIST) || stat(srv->cfg->issued_certs_dir, &st) == -1) {
		rc = mca_diag(d, MCA_ERR_IO, "%s: issued_certs_dir: %s: %s",
		    srv->cfg->path, srv->cfg->issued_certs_dir,
		    strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: issued_certs_dir: %s: "
		    "not a directory", srv->cfg->path,
		    srv->cfg->issued_certs_dir);
		goto out;
	}
	/* The ledger first: it may hold the intermediate to use. */
	if ((rc = mca_ledger_open(srv->cfg->ledger_db_path,
	    srv->cfg->ledger_synchronous_full, &srv->ledger, &sub)) != 0) {
		rc = mca_diag(d, rc, "%s: ledger_db_path: %s", srv->cfg->path,
		    sub.msg);
		goto out;
	}
	mca_ledger_refusal_limits(srv->ledger, srv->cfg->refusals_keep_days,
	    srv->cfg->refusals_per_minute_max);
	if ((rc = mca_castate_active_id(srv->ledger, &id)) != 0) {
		rc = mca_diag(d, rc, "%s: ledger_db_path: %s", srv->cfg->path,
		    mca_ledger_errmsg(srv->ledger, rc));
		goto out;
	}
	/*
	 * config.json's intermediate. With no generation it must load, as
	 * ever; with one it may have expired since microca-renew replaced
	 * it, and the generation is used alone.
	 */
	if ((base_rc = mca_ca_load(srv->cfg, &srv->base, &base_why)) != 0 &&
	    id == 0) {
		rc = mca_diag(d, base_rc, "%s", base_why.msg);
		goto out;
	}
	/*
	 * The token is logged in for the life of this worker, and nothing
	 * logs in again: a worker never re-opens the signer, and each one
	 * is its own exec'd process that reads the config itself. (libp11
	 * keeps its own copy for a login after fork(); see p11.h.) A new
	 * generation's key is taken from the same session; with the CA key
	 * in a file, a session is opened for them when the token is
	 * configured.
	 */
	if (srv->base != NULL)
		srv->token = mca_signer_token(srv->base->signer);
	/* Not once more after a failed login: the PIN has few tries. */
	if (srv->token == NULL && base_rc != MCA_ERR_PKCS11 &&
	    srv->cfg->pkcs11_library != NULL &&
	    srv->cfg->pkcs11_library_pin != NULL &&
	    mca_token_open(srv->cfg->pkcs11_library,
	    srv->cfg->pkcs11_library_pin, &srv->token, &sub) != 0)
		mca_log_warn("%s: pkcs11_library: %s; a CA generation whose "
		    "key is in the token cannot be used", srv->cfg->path,
		    sub.msg);
	mca_cfg_wipe_pin(srv->cfg);
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
	if (srv->base != NULL && (rc = server_use(srv, srv->base, 0, d)) != 0)
		goto out;
	/* The active generation, if any; a failure leaves base in use. */
	if (id != 0 && (rc = gen_load(srv, &sub)) != 0) {
		if (srv->base == NULL) {
			rc = mca_diag(d, rc, "%s; and %s", base_why.msg,
			    sub.msg);
			goto out;
		}
		gen_failed(srv, sub.msg);
	}
	if (srv->base == NULL)
		mca_log_warn("%s; CA generation %lld is used alone",
		    base_why.msg, srv->gen_id);
	(void)clock_gettime(CLOCK_MONOTONIC, &srv->gen_checked);
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
	if (srv->cfg != NULL)
		cache_free(srv, srv->cache);
	if (srv->label_bootstrap != NULL && srv->cfg != NULL)
		for (i = 0; i < srv->cfg->nprofiles; i++)
			X509_STORE_free(srv->label_bootstrap[i]);
	free(srv->label_bootstrap);
	mca_client_memo_free(srv->client_memo);
	mca_ledger_close(srv->ledger);
	X509_STORE_free(srv->own);
	X509_STORE_free(srv->bootstrap);
	/* The keys before the session they live on. */
	mca_ca_free(srv->gen);
	mca_ca_free(srv->base);
	mca_token_free(srv->token);
	mca_cfg_free(srv->cfg);
	free(srv);
}
