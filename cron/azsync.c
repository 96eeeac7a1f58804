/*
 * microca-azsync: keeps Azure IoT Hub in step with the device
 * certificates microca issues (issue 14). Run from cron every minute, or
 * with --watch to keep draining:
 *
 *   microca-azsync [--config PATH] [--api-config PATH] [--status]
 *       [--dry-run] [--watch] [--logToTerminal] [--debugMode]
 *
 * One run: the lock, then the ledger's pending rows in issue order
 * (lib/azsync.c), each sent to the hub directly with SAS tokens
 * (update_azure_iot_hub_from_standalone_server true) or through the
 * AppViewX workflow over mTLS, and its outcome written before the next.
 * Exit status (doc/microca-azsync.8): 0 nothing due or all synced, 1 a
 * row was put off or failed, 2 bad usage or configuration, 75 another
 * run holds the lock.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "apiconfig.h"
#include "avxwf.h"
#include "azsync.h"
#include "certinfo.h"
#include "cfg.h"
#include "cli.h"
#include "cron.h"
#include "err.h"
#include "httpc.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "mtls.h"
#include "p11.h"

#define PROG		"microca-azsync"
#define CRON_JOB	"sync"		/* cron_state's row */
#define AZSYNC_F	((MCA_CLI_F_CRON & ~MCA_CLI_F_FORCE) | MCA_CLI_F_WATCH)
#define WATCH_SLEEP	10		/* seconds between --watch passes */
#define STATUS_MAX	100000		/* rows --status lists */

static volatile sig_atomic_t	 stop_flag;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [--config PATH] [--api-config PATH] [--status] "
	    "[--dry-run]\n"
	    "       [--watch] [--logToTerminal] [--debugMode] [--version] "
	    "[--help]\n");
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Each row's outcome, one line. */
static void
report(void *arg, const struct mca_azsync_event *ev)
{
	char	 when[MCA_TIME_MAX];
	char	 sec[128];

	(void)arg;
	(void)snprintf(sec, sizeof(sec), "%s", ev->secondary[0] != '\0' ?
	    ev->secondary : "(the hub's current primary kept)");
	switch (ev->outcome) {
	case MCA_AZSYNC_SYNCED:
		mca_log_info("serial %s (%s): device \"%s\" %s: primary %s, "
		    "secondary %s (HTTP %ld)", ev->serial, ev->label,
		    ev->device_id, ev->created ? "created" : "updated",
		    ev->primary, sec, ev->status);
		break;
	case MCA_AZSYNC_DEFERRED:
		(void)mca_time_iso((time_t)ev->next_attempt, when,
		    sizeof(when));
		mca_log_warn("serial %s (%s): device \"%s\": not synced "
		    "(attempt %d): %s; next attempt after %s", ev->serial,
		    ev->label, ev->device_id, ev->attempts, ev->msg, when);
		break;
	case MCA_AZSYNC_FAILED:
		mca_log_err("serial %s (%s): device \"%s\": failed after %d "
		    "attempt(s), no more automatic attempts (microca-admin "
		    "azure retry): %s", ev->serial, ev->label, ev->device_id,
		    ev->attempts, ev->msg);
		break;
	case MCA_AZSYNC_WOULD:
		if (ev->msg[0] != '\0' && (ev->primary[0] == '\0' ||
		    ev->target[0] == '\0'))
			printf("serial %s (%s): would fail: %s\n", ev->serial,
			    ev->label, ev->msg);
		else
			printf("serial %s (%s): would send device \"%s\" "
			    "primary %s secondary %s to %s%s%s\n", ev->serial,
			    ev->label, ev->device_id, ev->primary, sec,
			    ev->target, ev->msg[0] != '\0' ? "; " : "",
			    ev->msg);
		break;
	default:
		break;
	}
}

/* --status: the pending rows, with their attempts and next attempt. */
static int
status(struct mca_ledger *l)
{
	struct mca_ledger_azrow	*rows = NULL;
	struct mca_diag		 d;
	char			 when[MCA_TIME_MAX];
	size_t			 n = 0, i;

	if (mca_ledger_azure_due(l, LLONG_MAX, STATUS_MAX, &rows, &n,
	    &d) != 0) {
		mca_log_err("ledger: %s", d.msg);
		return MCA_EXIT_FAIL;
	}
	printf("%zu pending%s\n", n, n == STATUS_MAX ? " (or more)" : "");
	if (n > 0)
		printf("%-40s  %-16s  %8s  %-20s  %s\n", "SERIAL", "LABEL",
		    "ATTEMPTS", "NEXT ATTEMPT", "WORKFLOW REQUEST");
	for (i = 0; i < n; i++) {
		if (rows[i].next_attempt > 0)
			(void)mca_time_iso((time_t)rows[i].next_attempt, when,
			    sizeof(when));
		else
			(void)snprintf(when, sizeof(when), "now");
		printf("%-40s  %-16s  %8d  %-20s  %s\n", rows[i].serial,
		    rows[i].label, rows[i].attempts, when,
		    rows[i].request_id[0] != '\0' ? rows[i].request_id : "-");
	}
	printf("failed rows: microca-admin azure status\n");
	mca_ledger_azrows_free(rows, n);
	return MCA_EXIT_OK;
}

/* First of a, b, c that is not NULL. */
static const char *
first(const char *a, const char *b, const char *c)
{
	return a != NULL ? a : b != NULL ? b : c;
}

/*
 * AppViewX mode's workflow settings: mtls_azure_device_registration
 * (table 8), host and port from it or certificateRenewal_config, and
 * the mTLS client certificate as our identity (its key a file, or the
 * token key mtls_auth_key_label). 0, or 1 with the reason logged.
 */
static int
avxwf_setup(const struct mca_cfg *cfg, const struct mca_apiconfig *api,
    struct mca_avxwf *w, struct mca_httpc_tls *tls, struct mca_p11 **p,
    EVP_PKEY **key)
{
	const struct mca_cfg_azure	*az = &cfg->azure;
	const struct mca_cfg_upstream	*hp;
	const struct mca_cfg_mtls	*m = &cfg->mtls_client;
	struct mca_diag			 d;

	memset(w, 0, sizeof(*w));
	memset(tls, 0, sizeof(*tls));
	if (!az->present || az->workflow == NULL) {
		mca_log_err("%s: mtls_azure_device_registration."
		    "azure_device_registration_workflow: missing (required "
		    "with update_azure_iot_hub_from_standalone_server false "
		    "in %s)", cfg->path, api->path);
		return 1;
	}
	hp = az->upstream.appviewx_hostname != NULL ? &az->upstream :
	    &cfg->renewal.upstream;
	if (hp->appviewx_hostname == NULL || hp->port <= 0) {
		mca_log_err("%s: mtls_azure_device_registration: set "
		    "appviewx_hostname and port (or certificateRenewal_config's)",
		    cfg->path);
		return 1;
	}
	if (!m->present) {
		mca_log_err("%s: mtls_client_auth_cert_config: missing (the "
		    "workflow is submitted over mTLS with it)", cfg->path);
		return 1;
	}
	tls->cafile = first(az->upstream.ca_cert, cfg->renewal.upstream.ca_cert,
	    cfg->upstream.ca_cert);
	if ((m->key_in_pkcs11 && mca_p11_session(cfg->pkcs11_library, NULL,
	    cfg->pkcs11_library_pin, p, &d) != 0) ||
	    mca_mtls_client_tls(cfg, *p, NULL, tls, key, &d) != 0) {
		mca_log_err("mtls_client_auth_cert_config: the key in the "
		    "token: %s", d.msg);
		return 1;
	}
	w->host = hp->appviewx_hostname;
	w->port = (unsigned)hp->port;
	w->workflow = az->workflow;
	w->azure_account = az->azure_account;
	w->poll_count = az->poll_count;
	w->poll_interval = az->poll_interval;
	w->tls = tls;
	w->timeout = cfg->upstream_timeout;
	w->gwkey = api->appviewx_gwkey;
	return 0;
}

/* Sleeps secs, or less when a signal came. */
static void
nap(long long secs)
{
	struct timespec	 ts;

	while (secs-- > 0 && !stop_flag) {
		ts.tv_sec = 1;
		ts.tv_nsec = 0;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR &&
		    !stop_flag)
			;
	}
}

int
main(int argc, char *argv[])
{
	struct mca_cli		 cli;
	struct mca_diag		 d;
	struct mca_cfg		*cfg = NULL;
	struct mca_ledger	*l = NULL;
	struct mca_lock		*lock = NULL;
	struct mca_apiconfig	*api = NULL;
	struct mca_p11		*p = NULL;
	EVP_PKEY		*key = NULL;
	struct mca_avxwf	 w;
	struct mca_httpc_tls	 tls;
	struct mca_azsync	 s;
	struct mca_azsync_stats	 st;
	struct sigaction	 sa;
	char			 note[MCA_LEDGER_CRON_MSG_MAX];
	long long		 now, wait;
	size_t			 i;
	int			 ex = MCA_EXIT_FAIL, rc, bad;

	if (cron_start(PROG, argc, argv,
	    AZSYNC_F, usage, &cli, &cfg, &ex) != 0)
		return ex;
	if (!cli.status && !cli.dry_run &&
	    cron_lock(PROG, cfg, &lock, &ex) != 0)
		goto out;
	if (cron_ledger(cfg, &l, &ex) != 0)
		goto out;
	if (cli.status) {
		ex = status(l);
		goto out;
	}

	if (mca_azsync_load_api(cfg, cli.api_config, 0, &api, &d) != 0) {
		mca_log_err("%s", d.msg);
		ex = MCA_EXIT_USAGE;
		goto out;
	}
	for (i = 0; i < api->nwarnings; i++)
		mca_log_warn("%s", api->warnings[i]);

	memset(&s, 0, sizeof(s));
	s.ledger = l;
	s.direct = api->update_azure_iot_hub_from_standalone_server;
	if (s.direct) {
		s.url_template = api->azurehuburl;
		s.cafile = api->azure_hub_ca_cert;
		s.hub_key = api->azure_hub_key;
		s.static_token = api->azurehubcreds;
		s.policy = api->azure_hub_policy_name;
		s.token_validity = api->azure_token_validity;
		s.timeout = cfg->upstream_timeout;
	} else {
		if (avxwf_setup(cfg, api, &w, &tls, &p, &key) != 0) {
			ex = MCA_EXIT_USAGE;
			goto out;
		}
		s.avxwf = &w;
	}
	mca_cfg_wipe_pin(cfg);
	s.device_id_field = api->azure_device_id_field;
	s.sha256 = api->azure_thumbprint_sha256;
	s.max_attempts = api->azure_max_attempts;
	s.backoff_max = api->azure_backoff_max_seconds;
	s.dry_run = cli.dry_run;
	s.stop = &stop_flag;
	s.report = report;

	if (cli.watch) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		(void)sigemptyset(&sa.sa_mask);
		(void)sigaction(SIGTERM, &sa, NULL);
		(void)sigaction(SIGINT, &sa, NULL);
	}
	for (;;) {
		now = (long long)time(NULL);
		/* (again each pass: a static token expires while we watch) */
		if (mca_azsync_check(&s, now, &d) != 0) {
			mca_log_err("%s: %s", api->path, d.msg);
			ex = MCA_EXIT_USAGE;
			goto out;
		}
		if (mca_azsync_pass(&s, &st, &d) != 0) {
			mca_log_err("ledger: %s", d.msg);
			ex = MCA_EXIT_FAIL;
			goto out;
		}
		if (cli.dry_run) {
			if (st.would == 0)
				printf("nothing is due\n");
			else if (st.would == MCA_AZSYNC_DRYRUN_MAX)
				printf("(the first %d due rows shown)\n",
				    MCA_AZSYNC_DRYRUN_MAX);
			ex = MCA_EXIT_OK;
			goto out;
		}
		bad = st.deferred > 0 || st.failed > 0;
		if (st.synced + st.deferred + st.failed == 0)
			mca_log_debug("nothing is due");
		else
			mca_log_info("%zu synced, %zu put off, %zu failed%s",
			    st.synced, st.deferred, st.failed, st.halted ?
			    "; the rest wait for the hub" : "");
		(void)snprintf(note, sizeof(note), "%zu synced, %zu put off, "
		    "%zu failed", st.synced, st.deferred, st.failed);
		if ((rc = mca_ledger_cron_set(l, PROG, CRON_JOB, now, bad ?
		    MCA_LEDGER_CRON_FAILED : MCA_LEDGER_CRON_OK, note)) != 0) {
			mca_log_err("ledger: %s", mca_ledger_errmsg(l, rc));
			bad = 1;
		}
		ex = bad ? MCA_EXIT_FAIL : MCA_EXIT_OK;
		if (!cli.watch)
			break;
		if (stop_flag) {
			ex = MCA_EXIT_OK;
			break;
		}
		/* The hub's Retry-After, else the next row due, at most a while. */
		wait = WATCH_SLEEP;
		if (st.hub_wait > wait)
			wait = st.hub_wait;
		else if (st.next_due > 0 && st.next_due - now < wait)
			wait = st.next_due - now > 1 ? st.next_due - now : 1;
		nap(wait);
		if (stop_flag) {
			mca_log_info("stopped by a signal");
			ex = MCA_EXIT_OK;
			break;
		}
	}
out:
	EVP_PKEY_free(key);
	mca_p11_close(p);
	mca_apiconfig_free(api);
	mca_ledger_close(l);
	mca_lock_release(lock);
	mca_cfg_free(cfg);
	mca_log_close();
	return ex;
}
