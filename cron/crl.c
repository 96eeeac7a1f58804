/*
 * microca-crl: keeps the certificate revocation lists in crl_dir
 * current (issue 16). Run from cron every few minutes:
 *
 *   microca-crl [--config PATH] [--force NAME] [--dry-run]
 *       [--logToTerminal] [--debugMode]
 *
 * One run: the lock, then for each CA that may still have valid
 * certificates (lib/crl.h) a new CRL when one is due (a revocation
 * since the last, half of its validity passed, none yet), signed with
 * that CA's key and written to crl_dir with its number recorded in the
 * ledger before the next. Exit status (doc/microca-crl.8): 0 every CRL
 * written or current, 1 one could not be made, 2 bad usage or
 * configuration, 75 another run holds the lock.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certinfo.h"
#include "cfg.h"
#include "cli.h"
#include "cron.h"
#include "crl.h"
#include "err.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"

#define PROG		"microca-crl"
#define CRON_JOB	"crl"		/* cron_state's row */
#define CRL_F		(MCA_CLI_F_CONFIG | MCA_CLI_F_DRYRUN | \
			    MCA_CLI_F_FORCE | MCA_CLI_F_LOG | \
			    MCA_CLI_F_VERSION | MCA_CLI_F_HELP)

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [--config PATH] [--force NAME] [--dry-run] "
	    "[--logToTerminal]\n"
	    "       [--debugMode] [--version] [--help]\n"
	    "NAME: a CRL's name (gen-N, config), " MCA_CRL_ACTIVE " for the "
	    "active CA's, or all.\n");
}

/* Each CA's outcome, one line. */
static void
report(void *arg, const struct mca_crl_event *ev)
{
	char	 next[MCA_TIME_MAX];

	(void)arg;
	if (mca_time_iso(ev->next_update, next, sizeof(next)) != 0)
		(void)snprintf(next, sizeof(next), "?");
	switch (ev->outcome) {
	case MCA_CRL_WRITTEN:
		mca_log_info("CRL %s%s (%s): number %lld, %zu revoked, next "
		    "update %s: %s", ev->name, ev->active ? " (" MCA_CRL_ACTIVE
		    ")" : "", ev->issuer, ev->number, ev->entries, next,
		    ev->why);
		break;
	case MCA_CRL_CURRENT:
		mca_log_debug("CRL %s (%s): %s, next update %s", ev->name,
		    ev->issuer, ev->why, next);
		break;
	case MCA_CRL_WOULD:
		printf("CRL %s%s (%s): would write number %lld, %zu revoked, "
		    "next update %s: %s\n", ev->name, ev->active ? " (" 
		    MCA_CRL_ACTIVE ")" : "", ev->issuer, ev->number,
		    ev->entries, next, ev->why);
		break;
	case MCA_CRL_SKIPPED:
		mca_log_debug("%s: no CRL: %s", ev->name, ev->why);
		break;
	default:
		mca_log_err("CRL %s: %s", ev->name, ev->why);
		break;
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
	struct mca_crl_opts	 o;
	struct mca_crl_stats	 st;
	char			 note[MCA_LEDGER_CRON_MSG_MAX];
	int			 ex = MCA_EXIT_FAIL, rc, bad;

	if (cron_start(PROG, argc, argv,
	    CRL_F, usage, &cli, &cfg, &ex) != 0)
		return ex;
	if (!cli.dry_run &&
	    cron_lock(PROG, cfg, &lock, &ex) != 0)
		goto out;
	if (cron_ledger(cfg, &l, &ex) != 0)
		goto out;
	memset(&o, 0, sizeof(o));
	o.dir = cfg->crl_dir;
	o.hours = cfg->crl_validity_hours;
	o.now = time(NULL);
	o.dry_run = cli.dry_run;
	o.force_names = cli.force;
	o.nforce = cli.nforce;
	rc = mca_crl_run(cfg, l, &o, report, NULL, &st, &d);
	mca_cfg_wipe_pin(cfg);
	if (rc != 0) {
		mca_log_err("%s", d.msg);
		ex = rc == MCA_ERR_CONFIG ? MCA_EXIT_USAGE : MCA_EXIT_FAIL;
		goto out;
	}
	if (cli.dry_run) {
		if (st.would == 0)
			printf("no CRL is due\n");
		ex = st.failed > 0 ? MCA_EXIT_FAIL : MCA_EXIT_OK;
		goto out;
	}
	bad = st.failed > 0;
	(void)snprintf(note, sizeof(note), "%zu written, %zu current, %zu "
	    "failed", st.written, st.current, st.failed);
	if (st.written + st.failed == 0)
		mca_log_debug("%s", note);
	else
		mca_log_info("%s", note);
	if ((rc = mca_ledger_cron_set(l, PROG, CRON_JOB, (long long)o.now,
	    bad ? MCA_LEDGER_CRON_FAILED : MCA_LEDGER_CRON_OK, note)) != 0) {
		mca_log_err("ledger: %s", mca_ledger_errmsg(l, rc));
		bad = 1;
	}
	ex = bad ? MCA_EXIT_FAIL : MCA_EXIT_OK;
out:
	mca_ledger_close(l);
	mca_lock_release(lock);
	mca_cfg_free(cfg);
	mca_log_close();
	return ex;
}
