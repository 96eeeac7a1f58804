/*
 * What every cron tool (microca-renew, -azsync, -crl, -discover) does
 * before its own work, in one place: the flags, --help and --version,
 * the log, config.json, the ledger's owner, the run lock and the
 * ledger. Each returns 0 to go on, or -1 with *ex set to the exit
 * status the tool returns (after releasing what it holds).
 */
#ifndef MCA_CRON_H
#define MCA_CRON_H

#include <stdio.h>

#include "cfg.h"
#include "cli.h"
#include "ledger.h"
#include "lock.h"

/*
 * Parses argv by flags (usage(stderr) and MCA_EXIT_USAGE when wrong),
 * answers --help and --version (MCA_EXIT_OK), opens the log on
 * standard error, loads config.json (warnings logged) into *cfg and
 * checks that the ledger is the running user's. On -1, *cfg is NULL
 * and the log is closed.
 */
int	 cron_start(const char *prog, int argc, char *argv[], unsigned flags,
	    void (*usage)(FILE *), struct mca_cli *cli, struct mca_cfg **cfg,
	    int *ex);

/* Takes the tool's run lock beside the ledger (75 when it is held). */
int	 cron_lock(const char *prog, const struct mca_cfg *cfg,
	    struct mca_lock **lock, int *ex);

/* Opens the ledger of cfg (MCA_EXIT_FAIL when it cannot). */
int	 cron_ledger(const struct mca_cfg *cfg, struct mca_ledger **l,
	    int *ex);

#endif
