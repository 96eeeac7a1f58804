/*
 * The command-line plumbing every microca tool shares: the option
 * parser (over getopt_long), the common flags of the cron tools, the
 * default config paths, durations and times, the ledger ownership
 * check and the interval gate. Like all of lib/, nothing here prints
 * or exits: main() turns the struct mca_diag into one line and picks
 * the exit code (MCA_EXIT_*).
 */
#ifndef MCA_CLI_H
#define MCA_CLI_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

#include "err.h"

#define MCA_CLI_DEFAULT_CONFIG		"/etc/microca/config.json"
#define MCA_CLI_DEFAULT_APICONFIG	"/etc/microca/APIconfig"
#define MCA_CLI_CONFIG_ENV		"MICROCA_CONFIG"

/*
 * Exit codes of the cron tools, the same in each (and in their man
 * pages). 75 is EX_TEMPFAIL of <sysexits.h>: cron may simply try again.
 */
enum mca_exit {
	MCA_EXIT_OK = 0,	/* nothing due, or all done */
	MCA_EXIT_FAIL = 1,	/* a step failed */
	MCA_EXIT_USAGE = 2,	/* bad usage or configuration */
	MCA_EXIT_LOCKED = 75	/* another run holds the lock */
};

/* ---- a table of long options */

struct mca_cli_opt {
	const char	*name;		/* "label" for --label; NULL ends */
	int		 has_arg;	/* 1: --name VALUE or --name=VALUE */
	int		 id;		/* > 0, handed to the callback */
};

#define MCA_CLI_OPTS_MAX	32

/* Called for each option met: 0 to go on, else stops the parse. */
typedef int (*mca_cli_opt_fn)(void *arg, int id, const char *val,
    struct mca_diag *d);

/*
 * Parses the long options at the front of argv[1..argc) (argv[0] is the
 * program or subcommand name) by opts, in order, calling cb for each.
 * Stops at the first operand or after "--"; *next is the index of the
 * first operand (argc if none). No short options, no reordering.
 * Returns 0, MCA_ERR_INVAL with d naming the option ("unknown option
 * --x", "--label needs a value", "--all takes no value"), or cb's
 * non-zero return (cb writes d itself).
 */
int	 mca_cli_getopt(int argc, char *argv[], const struct mca_cli_opt *opts,
	    mca_cli_opt_fn cb, void *arg, int *next, struct mca_diag *d);

/* ---- the common flags of the cron tools */

/* Which of the common flags a tool takes (mca_cli_parse's accept). */
#define MCA_CLI_F_CONFIG	0x001	/* --config PATH */
#define MCA_CLI_F_APICONFIG	0x002	/* --api-config PATH */
#define MCA_CLI_F_STATUS	0x004	/* --status */
#define MCA_CLI_F_DRYRUN	0x008	/* --dry-run */
#define MCA_CLI_F_FORCE		0x010	/* --force NAME, repeatable */
#define MCA_CLI_F_LOG		0x020	/* --logToTerminal, --debugMode */
#define MCA_CLI_F_VERSION	0x040	/* --version */
#define MCA_CLI_F_HELP		0x080	/* --help */
#define MCA_CLI_F_OPERANDS	0x100	/* operands after the options */
#define MCA_CLI_F_WATCH		0x200	/* --watch (microca-azsync) */
#define MCA_CLI_F_NOW		0x400	/* --now: past the interval gate */
#define MCA_CLI_F_JSON		0x800	/* --json: a report for scripts */
#define MCA_CLI_F_CRON		0x0ff	/* all flags, no operands */

#define MCA_CLI_FORCE_MAX	16

struct mca_cli {
	/* --config, else $MICROCA_CONFIG, else MCA_CLI_DEFAULT_CONFIG */
	const char	*config;
	/* --api-config, else MCA_CLI_DEFAULT_APICONFIG */
	const char	*api_config;
	int		 status;
	int		 dry_run;
	int		 log_to_terminal;
	int		 debug;
	int		 version;
	int		 help;
	int		 watch;		/* keep running until a signal */
	int		 now;		/* --now */
	int		 json;		/* --json */
	const char	*force[MCA_CLI_FORCE_MAX];	/* in argv order */
	size_t		 nforce;
	int		 argi;		/* index of the first operand */
};

/*
 * Parses the common flags that accept (MCA_CLI_F_*) allows into *out
 * (cleared first; its strings point into argv). An option not allowed
 * is unknown. Without MCA_CLI_F_OPERANDS an operand is an error; with
 * it, out->argi is the first one. --status or --dry-run with --watch,
 * --status with --dry-run or --force,
 * an empty PATH or NAME, or more than MCA_CLI_FORCE_MAX --force are
 * refused. Returns 0 or MCA_ERR_INVAL with d saying why: the caller
 * prints it with its usage and exits MCA_EXIT_USAGE.
 */
int	 mca_cli_parse(int argc, char *argv[], unsigned accept,
	    struct mca_cli *out, struct mca_diag *d);

/* 1 if name was given with --force, else 0. */
int	 mca_cli_forced(const struct mca_cli *c, const char *name);

/* ---- durations and times */

/*
 * A duration: a whole number and a unit, s m h d or w ("90m", "7d"),
 * from 1 up to max_secs seconds, into *secs. Returns 0 or MCA_ERR_INVAL
 * with d saying what is expected.
 */
int	 mca_cli_duration(const char *s, long long max_secs, long long *secs,
	    struct mca_diag *d);

/*
 * A UTC time written exactly "YYYY-MM-DDTHH:MM:SSZ" (ISO 8601), into
 * *t. Impossible dates (February 30th) are refused. Returns 0 or
 * MCA_ERR_INVAL with d.
 */
int	 mca_cli_time(const char *s, time_t *t, struct mca_diag *d);

/*
 * A point in the future given either way: a duration from now, or a
 * time; at most max_secs after now, and after now. *at is that time.
 * Returns 0 or MCA_ERR_INVAL with d (which does not repeat s).
 */
int	 mca_cli_when(const char *s, time_t now, long long max_secs,
	    time_t *at, struct mca_diag *d);

/* ---- the ledger's owner */

/*
 * Run as root (euid 0), a tool must not touch a ledger that belongs to
 * another user: SQLite would create its -wal and -shm files root-owned
 * next to it, and the web server's workers could no longer write it.
 * Judges the file, or, when it is not made yet, its directory. Returns
 * 0 (not root, or root's ledger, or neither can be seen), or
 * MCA_ERR_POLICY with d naming the owner ("run as that user (sudo -u
 * www-data prog ...), not as root"); prog names the tool in the hint.
 * *owner (may be NULL) is the owner's uid.
 */
int	 mca_cli_ledger_owner(const char *ledger, const char *prog,
	    uid_t *owner, struct mca_diag *d);

/* ---- the interval gate */

/*
 * Whether a job that last checked at last (Unix seconds; 0 or less:
 * never) is due at now with an interval of minutes: due if it never
 * ran, if now - last >= minutes * 60, or if last lies in the future
 * (the clock went back: waiting could take as long as the jump).
 * 1 due, 0 not yet; *wait (may be NULL) is the seconds left, 0 when due.
 */
int	 mca_cli_due(long long last, long long now, long long minutes,
	    long long *wait);

struct mca_ledger;

/*
 * The gate of job of tool at now: its last check from the ledger
 * (mca_ledger_cron_get()), judged by mca_cli_due(). A job never checked
 * is due. Returns 0 with *due and *wait (may be NULL) set, or the
 * ledger's error with d saying why.
 */
int	 mca_cli_gate(struct mca_ledger *l, const char *tool, const char *job,
	    long long now, long long minutes, int *due, long long *wait,
	    struct mca_diag *d);

#endif
