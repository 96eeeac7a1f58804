/*
 * microca-discover: finds the certificates on this machine, in files and
 * on TLS endpoints, keeps the inventory in the ledger, and uploads what
 * is new or changed to AppViewX (issue 15; table 7 of the vendor guide).
 * Run from cron every few minutes:
 *
 *   microca-discover [--config PATH] [--api-config PATH] [--dry-run]
 *       [--json] [--now] [--logToTerminal] [--debugMode]
 *
 * One run: the gate (is_discovery_required, then
 * scan_interval_time_in_minutes since the last run, kept in
 * cron_state), the lock, the scan of scan_paths (lib/discover.h) into
 * the ledger (lib/ledger_discover.h; a file unchanged since the last run
 * is not opened), the scan of scan_endpoints, the rows not found marked
 * gone, then the upload of the rows due in batches of upload_batch_size
 * (lib/avxdisc.h). Each batch AppViewX took is marked at once; the first
 * batch that fails ends the upload, and it and the rest stay due for
 * the next run. --dry-run scans and reports only: no lock, no ledger, no
 * upload. Exit status (doc/microca-discover.8): 0 done, or nothing due;
 * 1 a step failed (the scan, the ledger, an upload); 2 bad usage or
 * configuration; 75 another run holds the lock. An endpoint that does
 * not answer is a warning, not a failure.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "apiconfig.h"
#include "avxdisc.h"
#include "buf.h"
#include "cfg.h"
#include "cli.h"
#include "cron.h"
#include "discover.h"
#include "err.h"
#include "ledger.h"
#include "ledger_discover.h"
#include "lock.h"
#include "log.h"
#include "p11.h"

#define PROG		"microca-discover"
#define CRON_JOB	"scan"		/* cron_state's row */
#define DISCOVER_F	((MCA_CLI_F_CRON & ~(MCA_CLI_F_FORCE | \
			    MCA_CLI_F_STATUS)) | MCA_CLI_F_NOW | \
			    MCA_CLI_F_JSON)
#define PROGRESS_MS	250	/* the progress line's refresh */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [--config PATH] [--api-config PATH] [--dry-run] "
	    "[--json]\n"
	    "       [--now] [--logToTerminal] [--debugMode] [--version] "
	    "[--help]\n");
}

/* What one run saw, besides the ledger's counts. */
struct run {
	struct mca_ledger_disc	*r;		/* NULL: --dry-run */
	int			 endpoint;	/* scanning an endpoint */
	struct json_object	*found;		/* --dry-run --json */
	size_t			 files, known, certs, skipped;
	size_t			 ep_ok, ep_failed;
	int			 progress;	/* a terminal to draw on */
	struct timespec		 t0, drawn;
	char			 err[MCA_DIAG_LEN];	/* why the scan stopped */
};

static long long
ms_since(const struct timespec *t0)
{
	struct timespec	 t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return ((long long)t.tv_sec - t0->tv_sec) * 1000 +
	    ((long long)t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The progress line, drawn over itself on a terminal. */
static void
progress(struct run *u, int last)
{
	long long	 ms;

	if (!u->progress)
		return;
	if (last) {
		fputs("\r\033[K", stderr);
		return;
	}
	if (ms_since(&u->drawn) < PROGRESS_MS)
		return;
	(void)clock_gettime(CLOCK_MONOTONIC, &u->drawn);
	ms = ms_since(&u->t0);
	fprintf(stderr, "\r\033[K" PROG ": %zu files (%zu unchanged), %zu "
	    "certificates, %.0f files/s", u->files + u->known, u->known,
	    u->certs, ms > 0 ? (double)(u->files + u->known) * 1000.0 /
	    (double)ms : 0.0);
}

/* A certificate as JSON, for --json. */
static struct json_object *
cert_json(const struct mca_disc_cert *c, int endpoint)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "location",
	    json_object_new_string(c->location));
	json_object_object_add(o, "index", json_object_new_int(c->index));
	json_object_object_add(o, "endpoint",
	    json_object_new_boolean(endpoint));
	json_object_object_add(o, "subject",
	    json_object_new_string(c->subject));
	json_object_object_add(o, "issuer", json_object_new_string(c->issuer));
	json_object_object_add(o, "serial", json_object_new_string(c->serial));
	json_object_object_add(o, "not_before",
	    json_object_new_string(c->not_before));
	json_object_object_add(o, "not_after",
	    json_object_new_string(c->not_after));
	json_object_object_add(o, "sans", json_object_new_string(c->sans));
	json_object_object_add(o, "key_type",
	    json_object_new_string(c->key_type));
	json_object_object_add(o, "key_bits",
	    json_object_new_int(c->key_bits));
	json_object_object_add(o, "sig_alg",
	    json_object_new_string(c->sig_alg));
	json_object_object_add(o, "is_ca", json_object_new_boolean(c->is_ca));
	json_object_object_add(o, "sha1", json_object_new_string(c->sha1));
	json_object_object_add(o, "sha256", json_object_new_string(c->sha256));
	return o;
}

/* Each report of the scanner: into the ledger, or the --json list. */
static int
on_report(void *arg, const struct mca_disc_report *rep)
{
	struct run	*u = arg;
	struct mca_diag	 d;
	size_t		 n;
	int		 rc = 0;

	switch (rep->event) {
	case MCA_DISC_CERT:
		u->certs++;
		if (u->r != NULL)
			rc = mca_ledger_disc_cert(u->r, rep->c, u->endpoint,
			    NULL, &d);
		else if (u->found != NULL &&
		    json_object_array_add(u->found, cert_json(rep->c,
		    u->endpoint)) != 0)
			rc = mca_diag(&d, MCA_ERR_NOMEM, "out of memory");
		break;
	case MCA_DISC_FILE_DONE:
		u->files++;
		if (u->r != NULL)
			rc = mca_ledger_disc_file_done(u->r, rep->path, rep->st,
			    rep->ncerts, &d);
		break;
	case MCA_DISC_FILE_KNOWN:
		u->known++;
		if (u->r != NULL &&
		    (rc = mca_ledger_disc_file_known(u->r, rep->path, &n,
		    &d)) == 0)
			u->certs += n;
		break;
	case MCA_DISC_SKIP:
		u->skipped++;
		mca_log_debug("%s: passed over: %s", rep->path,
		    rep->msg != NULL ? rep->msg : "?");
		break;
	default:
		break;
	}
	if (rc != 0) {
		(void)snprintf(u->err, sizeof(u->err), "%s", d.msg);
		return rc;
	}
	progress(u, 0);
	return 0;
}

/* A key's strings, or the scanner's defaults when the key is not set. */
static void
strs(const struct mca_cfg_strs *s, const char *const *def, size_t ndef,
    const char *const **v, size_t *n)
{
	if (s->set) {
		*v = (const char *const *)s->v;
		*n = s->n;
	} else {
		*v = def;
		*n = ndef;
	}
}

/* The present rows as JSON, for --json after a run. */
static int
row_json(void *arg, const struct mca_ledger_disc_row *row)
{
	struct json_object	*a = arg, *o;

	if ((o = cert_json(&row->c, row->endpoint)) == NULL)
		return MCA_ERR_NOMEM;
	json_object_object_add(o, "issued_by_microca",
	    json_object_new_boolean(row->issued_by_microca));
	json_object_object_add(o, "first_seen",
	    json_object_new_string(row->first_seen));
	json_object_object_add(o, "last_seen",
	    json_object_new_string(row->last_seen));
	json_object_object_add(o, "uploaded_at", row->uploaded_at[0] != '\0' ?
	    json_object_new_string(row->uploaded_at) : NULL);
	return json_object_array_add(a, o) == 0 ? 0 : MCA_ERR_NOMEM;
}

/*
 * Uploads the rows due, batch after batch, until none is left or one
 * fails. *uploaded gets the certificates AppViewX took. 0, or 1 (2: the
 * configuration is wrong) with the reason logged.
 */
static int
upload(const struct mca_cfg *cfg, const char *apipath,
    struct mca_ledger *l, size_t *uploaded)
{
	const struct mca_cfg_discovery	*s = &cfg->discovery;
	struct mca_apiconfig		*api = NULL;
	struct mca_p11			*p = NULL;
	EVP_PKEY			*key = NULL;
	struct mca_avxdisc		 conn;
	struct mca_avxdisc_result	 res;
	struct mca_ledger_disc_batch	 b;
	const struct mca_disc_cert	**ptrs = NULL;
	struct mca_buf			 token;
	struct mca_diag			 d;
	long long			 after = 0;
	size_t				 i, batch;
	int				 bad = 1, rc, have_token = 0;

	*uploaded = 0;
	memset(&b, 0, sizeof(b));
	mca_buf_init(&token);
	batch = (size_t)s->upload_batch_size;
	if (batch > MCA_AVXDISC_BATCH_MAX)
		batch = MCA_AVXDISC_BATCH_MAX;
	/* Nothing due: no connection, no token. */
	if (mca_ledger_disc_due(l, 0, 1, &b, &d) != 0) {
		mca_log_err("ledger: %s", d.msg);
		goto out;
	}
	if (b.n == 0) {
		bad = 0;
		goto out;
	}
	mca_ledger_disc_batch_free(&b);

	/* APIconfig is optional here: the gateway key and a service token. */
	if ((rc = mca_apiconfig_load(apipath, &api, &d)) != 0 &&
	    rc != MCA_ERR_NOTFOUND) {
		mca_log_err("%s", d.msg);
		if (rc == MCA_ERR_CONFIG)
			bad = 2;
		goto out;
	}
	if (api != NULL)
		for (i = 0; i < api->nwarnings; i++)
			mca_log_warn("%s", api->warnings[i]);
	if (cfg->mtls_client.present && cfg->mtls_client.key_in_pkcs11 &&
	    mca_p11_session(cfg->pkcs11_library, NULL,
	    cfg->pkcs11_library_pin, &p, &d) != 0) {
		mca_log_err("mtls_client_auth_cert_config: the token: %s",
		    d.msg);
		goto out;
	}
	if ((rc = mca_avxdisc_from_cfg(&conn, cfg, api, p, &key, &d)) != 0) {
		mca_log_err("%s", d.msg);
		if (rc == MCA_ERR_CONFIG)
			bad = 2;
		goto out;
	}
	if (api != NULL && api->service_account_client_id != NULL &&
	    api->service_account_client_secret != NULL) {
		if (mca_avxdisc_token(&conn, api, &token, &d) != 0) {
			mca_log_err("upload: the service token: %s", d.msg);
			goto out;
		}
		/* (a counted buffer: the header wants a C string) */
		if (mca_buf_addc(&token, '\0') != 0) {
			mca_log_err("upload: out of memory");
			goto out;
		}
		have_token = 1;
	}
	if ((ptrs = calloc(batch, sizeof(*ptrs))) == NULL) {
		mca_log_err("upload: out of memory");
		goto out;
	}
	for (;;) {
		if (mca_ledger_disc_due(l, after, batch, &b, &d) != 0) {
			mca_log_err("ledger: %s", d.msg);
			goto out;
		}
		if (b.n == 0)
			break;
		for (i = 0; i < b.n; i++)
			ptrs[i] = &b.certs[i];
		after = b.ids[b.n - 1];
		if (mca_avxdisc_upload(&conn, have_token ?
		    (const char *)token.data : NULL, s->discovery_name,
		    s->group_name, ptrs, b.n, &res, &d) != 0) {
			/* It and the rest stay due: the next run sends them. */
			mca_log_err("upload of %zu certificate(s) to %s: %s; "
			    "retried by the next run", b.n,
			    conn.host, d.msg);
			goto out;
		}
		if (mca_ledger_disc_uploaded(l, &b, time(NULL), &d) != 0) {
			mca_log_err("ledger: %s", d.msg);
			goto out;
		}
		*uploaded += b.n;
		mca_log_debug("uploaded %zu certificate(s) (HTTP %ld)%s%s",
		    b.n, res.http, res.message[0] != '\0' ? ": " : "",
		    res.message);
		mca_ledger_disc_batch_free(&b);
	}
	bad = 0;
out:
	mca_ledger_disc_batch_free(&b);
	free(ptrs);
	mca_buf_free_secret(&token);
	EVP_PKEY_free(key);
	mca_p11_close(p);
	mca_apiconfig_free(api);
	return bad;
}

/* Prints the inventory (or what a dry run found) and the counts. */
static int
print_json(struct mca_ledger *l, struct json_object *found,
    const struct run *u, const struct mca_ledger_disc_stats *st,
    size_t uploaded)
{
	struct json_object	*root = NULL, *sum, *certs;
	struct mca_diag		 d;
	int			 rc = 1;

	if ((root = json_object_new_object()) == NULL ||
	    (sum = json_object_new_object()) == NULL)
		goto out;
	json_object_object_add(root, "summary", sum);
	json_object_object_add(sum, "files",
	    json_object_new_int64((int64_t)(u->files + u->known)));
	json_object_object_add(sum, "known",
	    json_object_new_int64((int64_t)u->known));
	json_object_object_add(sum, "certificates",
	    json_object_new_int64((int64_t)u->certs));
	json_object_object_add(sum, "new",
	    json_object_new_int64((int64_t)st->new_certs));
	json_object_object_add(sum, "changed",
	    json_object_new_int64((int64_t)st->changed));
	json_object_object_add(sum, "gone",
	    json_object_new_int64((int64_t)st->gone));
	json_object_object_add(sum, "skipped",
	    json_object_new_int64((int64_t)u->skipped));
	json_object_object_add(sum, "endpoints_ok",
	    json_object_new_int64((int64_t)u->ep_ok));
	json_object_object_add(sum, "endpoints_failed",
	    json_object_new_int64((int64_t)u->ep_failed));
	json_object_object_add(sum, "uploaded",
	    json_object_new_int64((int64_t)uploaded));
	json_object_object_add(sum, "dry_run",
	    json_object_new_boolean(l == NULL));
	if (l == NULL)
		certs = json_object_get(found);
	else {
		if ((certs = json_object_new_array()) == NULL)
			goto out;
		if (mca_ledger_disc_list(l, row_json, certs, &d) != 0) {
			json_object_put(certs);
			mca_log_err("ledger: %s", d.msg[0] != '\0' ? d.msg :
			    "out of memory");
			goto out;
		}
	}
	json_object_object_add(root, "certificates", certs);
	printf("%s\n", json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	json_object_put(root);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct mca_cli			 cli;
	struct mca_diag			 d;
	struct mca_cfg			*cfg = NULL;
	struct mca_ledger		*l = NULL;
	struct mca_lock			*lock = NULL;
	struct mca_disc_opts		 o;
	struct mca_ledger_disc_stats	 st;
	struct run			 u;
	const struct mca_cfg_discovery	*s;
	const char *const		*eps;
	const char			**ok = NULL;
	char				 note[MCA_LEDGER_CRON_MSG_MAX];
	size_t				 neps, i, nok = 0, uploaded = 0;
	long long			 wait = 0, ms;
	time_t				 now;
	int				 ex = MCA_EXIT_FAIL, rc, due = 1, bad = 0;
	int				 upload_failed = 0;

	memset(&u, 0, sizeof(u));
	memset(&st, 0, sizeof(st));
	if (cron_start(PROG, argc, argv,
	    DISCOVER_F, usage, &cli, &cfg, &ex) != 0)
		return ex;
	s = &cfg->discovery;
	now = time(NULL);

	/* The gate: discover_certificate_config (table 7), then the interval. */
	if (!s->enabled && !cli.now) {
		mca_log_info("discover_certificate_config.is_discovery_required "
		    "is not true: nothing is scanned (--now scans anyway)");
		ex = MCA_EXIT_OK;
		goto out;
	}
	if (!cli.dry_run) {
		if (cron_lock(PROG, cfg, &lock, &ex) != 0)
			goto out;
		if (cron_ledger(cfg, &l, &ex) != 0)
			goto out;
		if (mca_cli_gate(l, PROG, CRON_JOB, (long long)now,
		    s->interval_minutes, &due, &wait, &d) != 0) {
			mca_log_err("%s", d.msg);
			goto out;
		}
		if (!due && !cli.now) {
			mca_log_debug("scanned less than %d minutes ago: next "
			    "scan in %lld s", s->interval_minutes, wait);
			ex = MCA_EXIT_OK;
			goto out;
		}
		if (mca_ledger_disc_begin(l, now, &u.r, &d) != 0) {
			mca_log_err("ledger: %s", d.msg);
			goto out;
		}
	} else if (cli.json && (u.found = json_object_new_array()) == NULL) {
		mca_log_err("out of memory");
		goto out;
	}

	memset(&o, 0, sizeof(o));
	strs(&s->scan_paths, mca_disc_default_paths, mca_disc_ndefault_paths,
	    &o.paths, &o.npaths);
	strs(&s->scan_exclude, NULL, 0, &o.exclude, &o.nexclude);
	strs(&s->scan_extensions, mca_disc_default_extensions,
	    mca_disc_ndefault_extensions, &o.extensions, &o.nextensions);
	if (o.nextensions == 0)
		o.extensions = NULL;	/* [] reads every file */
	strs(&s->scan_p12_passwords, NULL, 0, &o.p12_passwords,
	    &o.np12_passwords);
	strs(&s->scan_endpoints, mca_disc_default_endpoints,
	    mca_disc_ndefault_endpoints, &eps, &neps);
	o.max_file_size = (off_t)s->scan_max_file_size;
	if (u.r != NULL) {
		o.known = mca_ledger_disc_known;
		o.arg = u.r;
	}
	u.progress = isatty(STDERR_FILENO) && !cli.debug;
	(void)clock_gettime(CLOCK_MONOTONIC, &u.t0);

	if ((rc = mca_disc_scan_files(&o, on_report, &u, &d)) != 0) {
		progress(&u, 1);
		mca_log_err("scan: %s", u.err[0] != '\0' ? u.err : d.msg);
		goto out;
	}
	if (neps > 0 && (ok = calloc(neps, sizeof(*ok))) == NULL) {
		mca_log_err("out of memory");
		goto out;
	}
	u.endpoint = 1;
	for (i = 0; i < neps; i++) {
		u.err[0] = '\0';
		rc = mca_disc_scan_endpoint(eps[i], s->endpoint_timeout * 1000,
		    on_report, &u, &d);
		if (rc >= 0) {
			ok[nok++] = eps[i];
			u.ep_ok++;
			continue;
		}
		if (u.err[0] != '\0') {		/* the ledger, not the peer */
			progress(&u, 1);
			mca_log_err("scan: %s", u.err);
			goto out;
		}
		progress(&u, 1);
		mca_log_warn("endpoint %s: %s", eps[i], d.msg);
		u.ep_failed++;
	}
	progress(&u, 1);
	if (u.r != NULL && mca_ledger_disc_finish(u.r, o.paths, o.npaths, ok,
	    nok, &st, &d) != 0) {
		mca_log_err("ledger: %s", d.msg);
		goto out;
	}
	mca_ledger_disc_end(u.r);
	u.r = NULL;

	if (l != NULL && s->enabled &&
	    (rc = upload(cfg, cli.api_config, l, &uploaded)) != 0)
		upload_failed = bad = rc;
	else if (l != NULL && !s->enabled)
		mca_log_debug("is_discovery_required is not true: nothing is "
		    "uploaded");

	ms = ms_since(&u.t0);
	mca_log_info("%zu files (%zu unchanged), %zu certificates: %zu new, "
	    "%zu changed, %zu gone; %zu places passed over; endpoints %zu "
	    "answered, %zu failed; %zu uploaded%s; %lld.%03lld s%s",
	    u.files + u.known, u.known, u.certs, st.new_certs, st.changed,
	    st.gone, u.skipped, u.ep_ok, u.ep_failed, uploaded,
	    upload_failed ? " (an upload failed)" : "", ms / 1000, ms % 1000,
	    cli.dry_run ? " (dry run: nothing recorded)" : "");
	if (l != NULL) {
		(void)snprintf(note, sizeof(note), "%zu certificates, %zu new, "
		    "%zu changed, %zu gone, %zu uploaded%s", u.certs,
		    st.new_certs, st.changed, st.gone, uploaded,
		    upload_failed ? ", an upload failed" : "");
		if ((rc = mca_ledger_cron_set(l, PROG, CRON_JOB,
		    (long long)now, bad ? MCA_LEDGER_CRON_FAILED :
		    MCA_LEDGER_CRON_OK, note)) != 0) {
			mca_log_err("ledger: %s", mca_ledger_errmsg(l, rc));
			if (bad == 0)
				bad = 1;
		}
	}
	if (cli.json && print_json(l, u.found, &u, &st, uploaded) != 0 &&
	    bad == 0)
		bad = 1;
	ex = bad == 2 ? MCA_EXIT_USAGE : bad ? MCA_EXIT_FAIL : MCA_EXIT_OK;
out:
	mca_ledger_disc_end(u.r);
	json_object_put(u.found);
	free(ok);
	mca_ledger_close(l);
	mca_lock_release(lock);
	mca_cfg_free(cfg);
	mca_log_close();
	return ex;
}
