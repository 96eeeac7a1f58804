/*
 * The start every cron tool makes (cron/cron.h). It prints and logs,
 * so it lives beside the tools' main(), not in lib/.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>

#include "cfg.h"
#include "cli.h"
#include "cron.h"
#include "err.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"

int
cron_start(const char *prog, int argc, char *argv[], unsigned flags,
    void (*usage)(FILE *), struct mca_cli *cli, struct mca_cfg **cfg,
    int *ex)
{
	struct mca_diag	 d;
	size_t		 i;

	*cfg = NULL;
	if (mca_cli_parse(argc, argv, flags, cli, &d) != 0) {
		fprintf(stderr, "%s: %s\n", prog, d.msg);
		usage(stderr);
		*ex = MCA_EXIT_USAGE;
		return -1;
	}
	if (cli->help || cli->version) {
		if (cli->help)
			usage(stdout);
		else
			printf("%s %s\n", prog, PACKAGE_VERSION);
		*ex = MCA_EXIT_OK;
		return -1;
	}
	/* A cron tool logs to standard error (cron mails it). */
	mca_log_open(prog, 1, cli->debug);
	if (mca_cfg_load(cli->config, cfg, &d) != 0) {
		mca_log_err("%s", d.msg);
		goto usage;
	}
	for (i = 0; i < (*cfg)->nwarnings; i++)
		mca_log_warn("%s", (*cfg)->warnings[i]);
	if (mca_cli_ledger_owner((*cfg)->ledger_db_path, prog, NULL,
	    &d) != 0) {
		mca_log_err("%s: ledger_db_path: %s", (*cfg)->path, d.msg);
		goto usage;
	}
	return 0;
usage:
	mca_cfg_free(*cfg);
	*cfg = NULL;
	mca_log_close();
	*ex = MCA_EXIT_USAGE;
	return -1;
}

int
cron_lock(const char *prog, const struct mca_cfg *cfg,
    struct mca_lock **lock, int *ex)
{
	struct mca_diag	 d;
	int		 rc;

	if ((rc = mca_lock_beside(cfg->path, cfg->ledger_db_path, prog, lock,
	    &d)) == 0)
		return 0;
	mca_log_err("%s", d.msg);
	*ex = rc == MCA_ERR_CONFIG ? MCA_EXIT_USAGE :
	    rc == MCA_ERR_BUSY ? MCA_EXIT_LOCKED : MCA_EXIT_FAIL;
	return -1;
}

int
cron_ledger(const struct mca_cfg *cfg, struct mca_ledger **l, int *ex)
{
	struct mca_diag	 d;

	if (mca_ledger_open(cfg->ledger_db_path, cfg->ledger_synchronous_full,
	    l, &d) == 0)
		return 0;
	mca_log_err("%s: ledger_db_path: %s", cfg->path, d.msg);
	*ex = MCA_EXIT_FAIL;
	return -1;
}
