/*
 * microca-renew: keeps the Micro CA's own certificates alive from its
 * upstream: EST, or the AppViewX REST API for the intermediate when
 * intermediate_cert_config.use_est is false (issue 13). Run from cron
 * every few minutes:
 *
 *   microca-renew [--config PATH] [--api-config PATH] [--status]
 *       [--dry-run] [--force NAME] [--logToTerminal] [--debugMode]
 *
 * One run: the gate (certificateRenewal_config), the lock, then for each
 * managed certificate that is due the steps of lib/renew.c. Exit status
 * (doc/microca-renew.8): 0 nothing due or all done (a 202 too), 1 a
 * renewal failed, 2 bad usage or configuration, 75 another run holds the
 * lock.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiconfig.h"
#include "certinfo.h"
#include "cfg.h"
#include "cli.h"
#include "cron.h"
#include "err.h"
#include "estc.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "p11.h"
#include "renew.h"
#include "renew_avx.h"

#define PROG		"microca-renew"
#define GATE_JOB	"check"		/* cron_state's row for the gate */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [--config PATH] [--api-config PATH] [--status] "
	    "[--dry-run]\n"
	    "       [--force NAME] [--logToTerminal] [--debugMode]\n"
	    "NAME is intermediate, device, mtls_server or mtls_client.\n");
}

/* --status: one line per managed certificate. */
static int
status(const struct mca_cfg *cfg, struct mca_ledger *l, time_t now)
{
	struct mca_renew_status	 st[MCA_RENEW_JOB_MAX];
	struct mca_diag		 d;
	char			 when[MCA_TIME_MAX], days[32];
	int			 i, w = 7;

	for (i = 0; i < MCA_RENEW_JOB_MAX; i++) {
		if (mca_renew_status(cfg, l, (enum mca_renew_job)i, now,
		    &st[i], &d) != 0) {
			mca_log_err("%s: %s", mca_renew_job_name(
			    (enum mca_renew_job)i), d.msg);
			return MCA_EXIT_FAIL;
		}
		if ((int)strlen(st[i].subject) > w)
			w = (int)strlen(st[i].subject);
	}
	printf("%-12s  %-*s  %-20s  %5s  %-3s  %s\n", "NAME", w, "SUBJECT",
	    "NOT AFTER", "DAYS", "DUE", "KEY");
	for (i = 0; i < MCA_RENEW_JOB_MAX; i++) {
		if (st[i].present) {
			(void)mca_time_iso(st[i].not_after, when, sizeof(when));
			(void)snprintf(days, sizeof(days), "%lld",
			    st[i].days_left);
		} else {
			(void)snprintf(when, sizeof(when), "-");
			(void)snprintf(days, sizeof(days), "-");
		}
		printf("%-12s  %-*s  %-20s  %5s  %-3s  %s\n",
		    mca_renew_job_name((enum mca_renew_job)i), w,
		    st[i].present ? st[i].subject : "-", when, days,
		    st[i].due ? "yes" : "no",
		    st[i].key[0] != '\0' ? st[i].key : "-");
		printf("%-12s  # %s\n", "", st[i].why);
	}
	return MCA_EXIT_OK;
}

/* The upstream URL of job's op, for messages; "" when none is configured. */
static void
job_url(const struct mca_cfg *cfg, const struct mca_apiconfig *api,
    enum mca_renew_job job, const char *op, char *url, size_t len)
{
	struct mca_estc	 e;
	struct mca_diag	 d;
	EVP_PKEY	*k = NULL;

	url[0] = '\0';
	if (job == MCA_RENEW_INTERMEDIATE && mca_renew_avx_wanted(cfg)) {
		if (api != NULL)
			(void)snprintf(url, len, "the AppViewX API https://%s:"
			    "%d/avxapi/ (APIconfig %s)",
			    api->appviewx_hostname, api->appviewx_port_number,
			    api->path);
		return;
	}
	/* No token: only the URL is wanted. */
	if (mca_renew_upstream(cfg, job, NULL, &e, &k, &d) != 0 &&
	    e.host == NULL)
		return;
	if (e.host != NULL && mca_estc_url(&e, op, url, len, &d) != 0)
		(void)snprintf(url, len, "(%.400s)", d.msg);
	EVP_PKEY_free(k);
}

/* --dry-run: what a run would do now, changing nothing. */
static void
dry_run(const struct mca_cfg *cfg, const struct mca_apiconfig *api,
    const struct mca_renew_status *st, int forced)
{
	char		 url[MCA_ESTC_URL_MAX + 512], when[MCA_TIME_MAX];
	const char	*op = "simpleenroll", *how;

	if (!st->due && !forced) {
		printf("%s: nothing to do (%s)\n",
		    mca_renew_job_name(st->job), st->why);
		return;
	}
	if (!st->managed) {
		printf("%s: forced, but %s: would fail\n",
		    mca_renew_job_name(st->job), st->why);
		return;
	}
	/* RFC 7030 4.2.2: the mTLS client renews with itself. */
	if (st->job == MCA_RENEW_MTLS_CLIENT && st->present)
		op = "simplereenroll";
	job_url(cfg, api, st->job, op, url, sizeof(url));
	if (st->pending && st->retry_at > time(NULL)) {
		(void)mca_time_iso(st->retry_at, when, sizeof(when));
		printf("%s: would wait: the upstream asked to retry at %s\n",
		    mca_renew_job_name(st->job), when);
		return;
	}
	if (st->job == MCA_RENEW_INTERMEDIATE)
		printf("%s: would %s (%s) at %s\n",
		    mca_renew_job_name(st->job), st->pending ?
		    "send the pending request again" :
		    cfg->intermediate.rekey ? "make a new key in the token, "
		    "and enroll its request" : "enroll a request for the "
		    "key in use", forced && !st->due ? "forced" : st->why,
		    url[0] != '\0' ? url : "(no upstream configured)");
	else {
		how = st->pending ? "send the pending request again" :
		    strncmp(st->key, "token:", 6) == 0 ? "make a new key in "
		    "the token, and enroll its request" : "make a new key "
		    "file beside the old one, and enroll its request";
		printf("%s: would %s (%s) at %s; the key: %s\n",
		    mca_renew_job_name(st->job), how, forced && !st->due ?
		    "forced" : st->why, url[0] != '\0' ? url :
		    "(no upstream configured)", st->key);
		if (st->job == MCA_RENEW_MTLS_SERVER &&
		    cfg->mtls_server.restart_script != NULL)
			printf("%s: would then run %s\n",
			    mca_renew_job_name(st->job),
			    cfg->mtls_server.restart_script);
	}
}

/*
 * The restart script's outcome, logged: 1 when it failed (the run
 * fails, the new certificate stays).
 */
static int
hook_logged(const char *name, const struct mca_renew_result *r, char *note,
    size_t notelen)
{
	if (!r->hook_ran)
		return 0;
	if (!r->hook_failed) {
		mca_log_info("%s: trigger_server_restart_script %s", name,
		    r->hook);
		return 0;
	}
	mca_log_err("%s: the new certificate is installed, but "
	    "trigger_server_restart_script failed: %s", name, r->hook);
	(void)snprintf(note, notelen, "%s: restart script failed: %.400s",
	    name, r->hook);
	return 1;
}

/*
 * Completes the installs an earlier run left half done (before any job
 * talks to the upstream: the mTLS client pair must be whole); a job
 * completed so is not run again. 1 when one failed.
 */
static int
finish_all(const struct mca_cfg *cfg, struct mca_ledger *l,
    struct mca_p11 *p, const struct mca_renew_status *st, int *run,
    time_t now, char *note, size_t notelen)
{
	struct mca_renew_result	 r;
	struct mca_diag		 d;
	const char		*name;
	int			 j, failed = 0;

	for (j = MCA_RENEW_DEVICE; j < MCA_RENEW_JOB_MAX; j++) {
		if (!st[j].managed || !st[j].pending)
			continue;
		name = mca_renew_job_name((enum mca_renew_job)j);
		memset(&r, 0, sizeof(r));
		if (mca_renew_finish(cfg, l, p, (enum mca_renew_job)j, now,
		    &r, &d) != 0) {
			mca_log_err("%s: completing the interrupted install: "
			    "%s", name, d.msg);
			failed = 1;
			continue;
		}
		if (!r.completed)
			continue;
		run[j] = 0;	/* done: no new attempt in this run */
		mca_log_info("%s: completed the install an earlier run "
		    "stopped in: serial %s, \"%s\"", name, r.serial,
		    r.subject);
		if (r.warning[0] != '\0')
			mca_log_warn("%s: %s", name, r.warning);
		(void)snprintf(note, notelen, "%s: completed %s", name,
		    r.serial);
		if (hook_logged(name, &r, note, notelen) != 0)
			failed = 1;
	}
	return failed;
}

/* One job's run, logged. 0 done or pending, 1 failed. */
static int
run_job(const struct mca_cfg *cfg, struct mca_ledger *l, struct mca_p11 *p,
    enum mca_renew_job job, time_t now, struct mca_apiconfig *api,
    char *note, size_t notelen)
{
	struct mca_renew_result	 r;
	struct mca_diag		 d;
	char			 when[MCA_TIME_MAX];
	const char		*name = mca_renew_job_name(job);

	if (mca_renew_run(cfg, l, p, job, now, api, &r, &d) != 0) {
		mca_log_err("%s: renewal failed, the certificate in use "
		    "stays: %s", name, d.msg);
		(void)snprintf(note, notelen, "%s: %.480s", name, d.msg);
		return 1;
	}
	if (r.warning[0] != '\0')
		mca_log_warn("%s: %s", name, r.warning);
	switch (r.outcome) {
	case MCA_RENEW_INSTALLED:
		(void)mca_time_iso(r.not_after, when, sizeof(when));
		if (job == MCA_RENEW_INTERMEDIATE)
			mca_log_info("%s: installed generation %lld: serial "
			    "%s, \"%s\", until %s, key %s in the token%s; %zu "
			    "superseded key(s) removed", name, r.generation,
			    r.serial, r.subject, when, r.key_label,
			    r.resumed ? " (resumed)" : "", r.keys_removed);
		else
			mca_log_info("%s: installed serial %s, \"%s\", until "
			    "%s, key %s%s", name, r.serial, r.subject, when,
			    r.key_label[0] != '\0' ? r.key_label : r.key_path,
			    r.resumed ? " (resumed)" : "");
		(void)snprintf(note, notelen, "%s: installed %s", name,
		    r.serial);
		if (hook_logged(name, &r, note, notelen) != 0)
			return 1;
		break;
	case MCA_RENEW_PENDING:
	case MCA_RENEW_WAITING:
		(void)mca_time_iso(r.retry_at, when, sizeof(when));
		mca_log_info("%s: the upstream has not issued yet (%s); the "
		    "same key (%s) and request are sent again after %s", name,
		    r.outcome == MCA_RENEW_PENDING ? "202 Accepted" :
		    "waiting for its Retry-After", r.key_label[0] != '\0' ?
		    r.key_label : r.key_path, when);
		(void)snprintf(note, notelen, "%s: pending until %s", name,
		    when);
		break;
	default:
		break;
	}
	return 0;
}

/*
 * The APIconfig of --api-config, for the intermediate through the
 * AppViewX REST API: 0, or 1 with the reason logged (a config error).
 */
static int
load_api(const struct mca_cfg *cfg, const char *path,
    struct mca_apiconfig **api)
{
	struct mca_diag	 d;
	size_t		 i;

	if (mca_renew_avx_load(cfg, path, api, &d) != 0) {
		mca_log_err("intermediate: intermediate_cert_config.use_est is "
		    "not true, so the AppViewX API: %s", d.msg);
		return 1;
	}
	for (i = 0; i < (*api)->nwarnings; i++)
		mca_log_warn("%s", (*api)->warnings[i]);
	return 0;
}

/* Whether a token session is wanted for the jobs to run. */
static int
needs_token(const struct mca_cfg *cfg, const int *run)
{
	if (cfg->pkcs11_library == NULL)
		return 0;
	if (run[MCA_RENEW_INTERMEDIATE])
		return 1;
	if (cfg->mtls_client.present && cfg->mtls_client.key_in_pkcs11)
		return 1;
	if (run[MCA_RENEW_MTLS_SERVER] && cfg->mtls_server.key_in_pkcs11)
		return 1;
	if (run[MCA_RENEW_DEVICE] && cfg->device.key_label != NULL)
		return 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct mca_cli		 cli;
	struct mca_diag		 d;
	struct mca_cfg		*cfg = NULL;
	struct mca_ledger	*l = NULL;
	struct mca_lock		*lock = NULL;
	struct mca_p11		*p = NULL;
	struct mca_apiconfig	*api = NULL;
	struct mca_renew_status	 st[MCA_RENEW_JOB_MAX];
	char			 note[MCA_LEDGER_CRON_MSG_MAX];
	const char		*result;
	long long		 wait = 0;
	size_t			 i, removed;
	time_t			 now;
	int			 ex = MCA_EXIT_FAIL, due = 1, resume = 0, any = 0;
	int			 run[MCA_RENEW_JOB_MAX], failed = 0, pending = 0;
	int			 j, rc;

	if (cron_start(PROG, argc, argv,
	    MCA_CLI_F_CRON, usage, &cli, &cfg, &ex) != 0)
		return ex;
	for (i = 0; i < cli.nforce; i++)
		if (mca_renew_job_by_name(cli.force[i]) == MCA_RENEW_JOB_MAX) {
			fprintf(stderr, PROG ": --force %.64s: no such "
			    "certificate\n", cli.force[i]);
			usage(stderr);
			ex = MCA_EXIT_USAGE;
			goto out;
		}
	now = time(NULL);

	if (!cli.status && !cli.dry_run &&
	    cron_lock(PROG, cfg, &lock, &ex) != 0)
		goto out;
	if (cron_ledger(cfg, &l, &ex) != 0)
		goto out;
	if (cli.status) {
		ex = status(cfg, l, now);
		goto out;
	}

	for (j = 0; j < MCA_RENEW_JOB_MAX; j++) {
		if (mca_renew_status(cfg, l, (enum mca_renew_job)j, now,
		    &st[j], &d) != 0) {
			mca_log_err("%s: %s", mca_renew_job_name(
			    (enum mca_renew_job)j), d.msg);
			goto out;
		}
		/* An attempt whose Retry-After is over goes on at once. */
		if (st[j].managed && st[j].pending && st[j].retry_at <= now)
			resume = 1;
	}

	/* The gate: certificateRenewal_config (table 4), then the interval. */
	if (!cfg->renewal.enabled && cli.nforce == 0) {
		mca_log_info("certificateRenewal_config."
		    "isRenewalOfCertificatesRequired is not true: nothing is "
		    "renewed");
		if (cli.dry_run)
			printf("nothing would be done: "
			    "isRenewalOfCertificatesRequired is not true\n");
		ex = MCA_EXIT_OK;
		goto out;
	}
	if (mca_cli_gate(l, PROG, GATE_JOB, now,
	    cfg->renewal.interval_minutes, &due, &wait, &d) != 0) {
		mca_log_err("%s", d.msg);
		goto out;
	}
	if (!due && cli.nforce == 0 && !resume) {
		mca_log_debug("checked less than %d minutes ago: next check in "
		    "%lld s", cfg->renewal.interval_minutes, wait);
		if (cli.dry_run)
			printf("nothing would be done: the next check is in "
			    "%lld s (renewal_check_interval_time_in_minutes "
			    "%d)\n", wait, cfg->renewal.interval_minutes);
		ex = MCA_EXIT_OK;
		goto out;
	}

	for (j = 0; j < MCA_RENEW_JOB_MAX; j++) {
		const char *name = mca_renew_job_name((enum mca_renew_job)j);

		run[j] = mca_cli_forced(&cli, name) || (st[j].due &&
		    (due || (st[j].pending && st[j].retry_at <= now)));
		/* use_est false: APIconfig is read when it is needed. */
		if (j == MCA_RENEW_INTERMEDIATE && mca_renew_avx_wanted(cfg) &&
		    (run[j] || (cli.dry_run && st[j].due)) &&
		    load_api(cfg, cli.api_config, &api) != 0) {
			ex = MCA_EXIT_USAGE;
			goto out;
		}
		if (cli.dry_run) {
			dry_run(cfg, api, &st[j], mca_cli_forced(&cli, name));
			run[j] = 0;
		}
		any |= run[j];
	}
	if (cli.dry_run) {
		ex = MCA_EXIT_OK;
		goto out;
	}

	note[0] = '\0';
	if (cfg->new_intermediate_cert) {
		if (mca_renew_sync_file(cfg, l, &rc, &d) != 0) {
			mca_log_err("intermediate: %s", d.msg);
			failed = 1;
		} else if (rc)
			mca_log_info("intermediate: %s rewritten from the "
			    "ledger's active generation",
			    cfg->intermediate_cert_path);
	}
	if (any && needs_token(cfg, run)) {
		if (mca_p11_session(cfg->pkcs11_library, NULL,
		    cfg->pkcs11_library_pin, &p, &d) != 0) {
			mca_log_err("pkcs11_library %s: %s",
			    cfg->pkcs11_library, d.msg);
			failed = 1;
			any = 0;
		}
		mca_cfg_wipe_pin(cfg);
	}
	if (any && finish_all(cfg, l, p, st, run, now, note,
	    sizeof(note)) != 0)
		failed = 1;
	/* Keys an earlier run left behind, now that nothing needs them. */
	if (p != NULL && mca_renew_sweep_keys(l, p, now, &removed, &d) == 0 &&
	    removed > 0)
		mca_log_info("%zu superseded key(s) removed from the token",
		    removed);
	for (j = 0; any && j < MCA_RENEW_JOB_MAX; j++) {
		if (!run[j]) {
			mca_log_debug("%s: %s", mca_renew_job_name(
			    (enum mca_renew_job)j), st[j].why);
			continue;
		}
		if (!st[j].managed) {
			mca_log_err("%s: --force: %s", mca_renew_job_name(
			    (enum mca_renew_job)j), st[j].why);
			failed = 1;
			continue;
		}
		if (run_job(cfg, l, p, (enum mca_renew_job)j, now, api, note,
		    sizeof(note)) != 0)
			failed = 1;
		else if (strstr(note, "pending") != NULL)
			pending = 1;
	}
	/* The service account's secret is not kept beyond the jobs. */
	mca_apiconfig_wipe_secrets(api);
	if (!any && !failed)
		mca_log_debug("nothing is due");

	result = failed ? MCA_LEDGER_CRON_FAILED : pending ?
	    MCA_LEDGER_CRON_PENDING : MCA_LEDGER_CRON_OK;
	if ((rc = mca_ledger_cron_set(l, PROG, GATE_JOB, now, result,
	    note[0] != '\0' ? note : NULL)) != 0) {
		mca_log_err("ledger: %s", mca_ledger_errmsg(l, rc));
		failed = 1;
	}
	ex = failed ? MCA_EXIT_FAIL : MCA_EXIT_OK;
out:
	mca_apiconfig_free(api);
	mca_p11_close(p);
	mca_ledger_close(l);
	mca_lock_release(lock);
	mca_cfg_free(cfg);
	mca_log_close();
	return ex;
}
