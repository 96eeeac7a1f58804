/*
 * The plumbing the command-line tools share (lib/cli.c, lib/lock.c) and
 * the cron state in the ledger: option parsing, durations and times,
 * the run lock across processes (held, and dropped by a killed holder),
 * the interval gate, the cron_state table and its migration.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "buf.h"
#include "cli.h"
#include "err.h"
#include "ledger.h"
#include "lock.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ADMIN_F		(MCA_CLI_F_CONFIG | MCA_CLI_F_VERSION | \
			    MCA_CLI_F_OPERANDS)
#define AZSYNC_F	((MCA_CLI_F_CRON & ~MCA_CLI_F_FORCE) | MCA_CLI_F_WATCH)
#define DISCOVER_F	((MCA_CLI_F_CRON & ~(MCA_CLI_F_FORCE | MCA_CLI_F_STATUS)) | \
			MCA_CLI_F_NOW | MCA_CLI_F_JSON)
#define MAXARGS		10
#define SHA1		"0123456789ABCDEF0123456789ABCDEF01234567"
#define SHA256		"0123456789ABCDEF0123456789ABCDEF" \
			"FEDCBA9876543210FEDCBA9876543210"

static char	*tmpdir;
static char	 path[1024];

static void
setup(void)
{
	tmpdir = tu_mkdtemp("cli");
	(void)snprintf(path, sizeof(path), "%s/ledger.db", tmpdir);
	(void)unsetenv(MCA_CLI_CONFIG_ENV);
}

static void
teardown(void)
{
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* ---- options */

static const struct optcase {
	const char	*argv[MAXARGS];	/* NULL-terminated */
	unsigned	 accept;
	const char	*err;		/* NULL: accepted; else in the message */
	const char	*config;
	const char	*api_config;
	int		 status, dry_run, logterm, debug, version;
	const char	*force;		/* the forced names, ' ' between */
	int		 argi;
	int		 watch;
} optcases[] = {
	/* accepted */
	{ { "renew" }, MCA_CLI_F_CRON, NULL, MCA_CLI_DEFAULT_CONFIG,
	    MCA_CLI_DEFAULT_APICONFIG, 0, 0, 0, 0, 0, "", 1, 0 },
	{ { "renew", "--config", "/a.json", "--api-config=/b/API" },
	    MCA_CLI_F_CRON, NULL, "/a.json", "/b/API", 0, 0, 0, 0, 0, "", 4, 0 },
	{ { "renew", "--dry-run", "--force", "intermediate",
	    "--force=device", "--logToTerminal", "--debugMode" },
	    MCA_CLI_F_CRON, NULL, MCA_CLI_DEFAULT_CONFIG,
	    MCA_CLI_DEFAULT_APICONFIG, 0, 1, 1, 1, 0, "intermediate device",
	    7, 0 },
	{ { "renew", "--status", "--config=c.json" }, MCA_CLI_F_CRON, NULL,
	    "c.json", MCA_CLI_DEFAULT_APICONFIG, 1, 0, 0, 0, 0, "", 3, 0 },
	{ { "renew", "--version" }, MCA_CLI_F_CRON, NULL,
	    MCA_CLI_DEFAULT_CONFIG, MCA_CLI_DEFAULT_APICONFIG, 0, 0, 0, 0, 1,
	    "", 2, 0 },
	/* a value may look like an option */
	{ { "renew", "--config", "--status" }, MCA_CLI_F_CRON, NULL,
	    "--status", MCA_CLI_DEFAULT_APICONFIG, 0, 0, 0, 0, 0, "", 3, 0 },
	/* microca-admin: options, then its subcommand and the rest */
	{ { "admin", "--config", "x.json", "passcode", "add", "--label",
	    "y" }, ADMIN_F, NULL, "x.json", MCA_CLI_DEFAULT_APICONFIG,
	    0, 0, 0, 0, 0, "", 3, 0 },
	{ { "admin", "--", "--config" }, ADMIN_F, NULL,
	    MCA_CLI_DEFAULT_CONFIG, MCA_CLI_DEFAULT_APICONFIG, 0, 0, 0, 0, 0,
	    "", 2, 0 },
	{ { "admin", "-", "x" }, ADMIN_F, NULL, MCA_CLI_DEFAULT_CONFIG,
	    MCA_CLI_DEFAULT_APICONFIG, 0, 0, 0, 0, 0, "", 1, 0 },
	/* microca-azsync: --watch, no --force */
	{ { "azsync", "--watch", "--logToTerminal" }, AZSYNC_F, NULL,
	    MCA_CLI_DEFAULT_CONFIG, MCA_CLI_DEFAULT_APICONFIG, 0, 0, 1, 0, 0,
	    "", 3, 1 },
	{ { "azsync", "--dry-run" }, AZSYNC_F, NULL, MCA_CLI_DEFAULT_CONFIG,
	    MCA_CLI_DEFAULT_APICONFIG, 0, 1, 0, 0, 0, "", 2, 0 },
	/* refused */
	{ { "renew", "--now" }, MCA_CLI_F_CRON,
	    .err = "unknown option --now" },
	{ { "azsync", "--json" }, AZSYNC_F,
	    .err = "unknown option --json" },
	{ { "azsync", "--watch", "--status" }, AZSYNC_F,
	    .err = "--watch keeps draining: it takes no --status" },
	{ { "azsync", "--dry-run", "--watch" }, AZSYNC_F,
	    .err = "--watch keeps draining: it takes no --dry-run" },
	{ { "azsync", "--force", "device" }, AZSYNC_F,
	    .err = "unknown option --force" },
	{ { "renew", "--watch" }, MCA_CLI_F_CRON,
	    .err = "unknown option --watch" },
	{ { "renew", "--bogus" }, MCA_CLI_F_CRON,
	    .err = "unknown option --bogus" },
	{ { "renew", "--config" }, MCA_CLI_F_CRON,
	    .err = "--config needs a value" },
	{ { "renew", "--force" }, MCA_CLI_F_CRON,
	    .err = "--force needs a value" },
	{ { "renew", "--status=yes" }, MCA_CLI_F_CRON,
	    .err = "--status takes no value" },
	{ { "renew", "-x" }, MCA_CLI_F_CRON, .err = "unknown option -x" },
	{ { "renew", "-c", "x" }, MCA_CLI_F_CRON, .err = "unknown option -c" },
	{ { "renew", "extra" }, MCA_CLI_F_CRON,
	    .err = "unexpected argument \"extra\"" },
	{ { "renew", "--dry-run", "--", "x" }, MCA_CLI_F_CRON,
	    .err = "unexpected argument \"x\"" },
	{ { "renew", "--status", "--force", "device" }, MCA_CLI_F_CRON,
	    .err = "--status only reports: it takes no --force" },
	{ { "renew", "--dry-run", "--status" }, MCA_CLI_F_CRON,
	    .err = "it takes no --dry-run" },
	{ { "renew", "--force=" }, MCA_CLI_F_CRON,
	    .err = "--force needs a name" },
	{ { "renew", "--config=" }, MCA_CLI_F_CRON,
	    .err = "--config needs a path" },
	{ { "renew", "--api-config", "" }, MCA_CLI_F_CRON,
	    .err = "--api-config needs a path" },
	/* no abbreviations, which getopt_long would take */
	{ { "renew", "--dry" }, MCA_CLI_F_CRON,
	    .err = "unknown option --dry (did you mean --dry-run?)" },
	{ { "renew", "--conf", "x" }, MCA_CLI_F_CRON,
	    .err = "unknown option --conf (did you mean --config?)" },
	{ { "renew", "--conf=x" }, MCA_CLI_F_CRON,
	    .err = "unknown option --conf=x" },
	/* a flag the tool does not take is unknown */
	{ { "admin", "--status", "passcode" }, ADMIN_F,
	    .err = "unknown option --status" },
	{ { "admin", "--logToTerminal" }, ADMIN_F,
	    .err = "unknown option --logToTerminal" },
	/* case matters */
	{ { "renew", "--logtoterminal" }, MCA_CLI_F_CRON,
	    .err = "unknown option --logtoterminal" },
};

START_TEST(test_parse)
{
	const struct optcase	*t = &optcases[_i];
	struct mca_cli		 c;
	struct mca_diag		 d;
	char			*argv[MAXARGS + 1], forced[256];
	size_t			 i, o;
	int			 argc, rc;

	memset(argv, 0, sizeof(argv));
	for (argc = 0; argc < MAXARGS && t->argv[argc] != NULL; argc++)
		argv[argc] = (char *)t->argv[argc];
	rc = mca_cli_parse(argc, argv, t->accept, &c, &d);
	if (t->err != NULL) {
		ck_assert_int_eq(rc, MCA_ERR_INVAL);
		ck_assert_msg(strstr(d.msg, t->err) != NULL,
		    "case %d: \"%s\" lacks \"%s\"", _i, d.msg, t->err);
		return;
	}
	ck_assert_msg(rc == 0, "case %d: %s", _i, d.msg);
	ck_assert_str_eq(c.config, t->config);
	ck_assert_str_eq(c.api_config, t->api_config);
	ck_assert_int_eq(c.status, t->status);
	ck_assert_int_eq(c.dry_run, t->dry_run);
	ck_assert_int_eq(c.log_to_terminal, t->logterm);
	ck_assert_int_eq(c.debug, t->debug);
	ck_assert_int_eq(c.version, t->version);
	ck_assert_int_eq(c.argi, t->argi);
	ck_assert_int_eq(c.watch, t->watch);
	forced[0] = '\0';
	for (i = 0, o = 0; i < c.nforce; i++) {
		o += (size_t)snprintf(forced + o, sizeof(forced) - o, "%s%s",
		    i > 0 ? " " : "", c.force[i]);
		ck_assert_uint_lt(o, sizeof(forced));
		ck_assert_int_eq(mca_cli_forced(&c, c.force[i]), 1);
	}
	ck_assert_str_eq(forced, t->force);
	ck_assert_int_eq(mca_cli_forced(&c, "nosuch"), 0);
}
END_TEST

/* $MICROCA_CONFIG stands in for --config, and --config beats it. */
START_TEST(test_parse_env)
{
	char		*a1[] = { "renew", NULL };
	char		*a2[] = { "renew", "--config", "/given", NULL };
	struct mca_cli	 c;
	struct mca_diag	 d;

	ck_assert_int_eq(setenv(MCA_CLI_CONFIG_ENV, "/from/env", 1), 0);
	ck_assert_int_eq(mca_cli_parse(1, a1, MCA_CLI_F_CRON, &c, &d), 0);
	ck_assert_str_eq(c.config, "/from/env");
	ck_assert_int_eq(mca_cli_parse(3, a2, MCA_CLI_F_CRON, &c, &d), 0);
	ck_assert_str_eq(c.config, "/given");
	ck_assert_int_eq(unsetenv(MCA_CLI_CONFIG_ENV), 0);
}
END_TEST

/* --force is bounded; and two parses in a row start afresh. */
START_TEST(test_parse_force_max)
{
	char		*argv[2 * MCA_CLI_FORCE_MAX + 4];
	struct mca_cli	 c;
	struct mca_diag	 d;
	int		 argc = 0, i;

	argv[argc++] = "renew";
	for (i = 0; i < MCA_CLI_FORCE_MAX; i++) {
		argv[argc++] = "--force";
		argv[argc++] = "x";
	}
	argv[argc] = NULL;
	ck_assert_int_eq(mca_cli_parse(argc, argv, MCA_CLI_F_CRON, &c, &d), 0);
	ck_assert_uint_eq(c.nforce, MCA_CLI_FORCE_MAX);
	argv[argc++] = "--force=y";
	argv[argc] = NULL;
	ck_assert_int_eq(mca_cli_parse(argc, argv, MCA_CLI_F_CRON, &c, &d),
	    MCA_ERR_INVAL);
	ck_assert_str_eq(d.msg, "more than 16 --force");
	argv[1] = "--status";
	argv[2] = NULL;
	ck_assert_int_eq(mca_cli_parse(2, argv, MCA_CLI_F_CRON, &c, &d), 0);
	ck_assert_int_eq(c.status, 1);
	ck_assert_uint_eq(c.nforce, 0);
}
END_TEST

/* A tool's own table, and a callback that refuses. */
static int
own_cb(void *arg, int id, const char *val, struct mca_diag *d)
{
	struct mca_buf	*b = arg;

	if (id == 2 && strcmp(val, "bad") == 0)
		return mca_diag(d, MCA_ERR_INVAL, "--uses bad: no");
	ck_assert_int_eq(mca_buf_printf(b, "%d=%s;", id, val != NULL ? val :
	    "-"), 0);
	return 0;
}

START_TEST(test_getopt_table)
{
	static const struct mca_cli_opt opts[] = {
		{ "label", 1, 1 }, { "uses", 1, 2 }, { "all", 0, 3 },
		{ NULL, 0, 0 }
	};
	char		*a1[] = { "add", "--label", "x", "--all", "--uses=3",
			    "rest", "--all", NULL };
	char		*a2[] = { "add", "--uses", "bad", "--all", NULL };
	struct mca_buf	 b = MCA_BUF_INIT;
	struct mca_diag	 d;
	int		 next = -1;

	ck_assert_int_eq(mca_cli_getopt(7, a1, opts, own_cb, &b, &next, &d),
	    0);
	ck_assert_str_eq(mca_buf_str(&b), "1=x;3=-;2=3;");
	ck_assert_int_eq(next, 5);
	mca_buf_reset(&b);
	ck_assert_int_eq(mca_cli_getopt(4, a2, opts, own_cb, &b, &next, &d),
	    MCA_ERR_INVAL);
	ck_assert_str_eq(d.msg, "--uses bad: no");
	ck_assert_str_eq(mca_buf_str(&b), "");
	mca_buf_free(&b);
}
END_TEST

/* ---- durations and times */

static const struct {
	const char	*s;
	long long	 secs;		/* -1: refused */
} durations[] = {
	{ "30s", 30 }, { "90m", 5400 }, { "12h", 43200 }, { "7d", 604800 },
	{ "2w", 1209600 }, { "3650d", 3650LL * 86400 }, { "1s", 1 },
	{ "", -1 }, { "5", -1 }, { "d", -1 }, { "0d", -1 }, { "-1d", -1 },
	{ "+1d", -1 }, { "1y", -1 }, { "01d", -1 }, { "1.5h", -1 },
	{ " 1d", -1 }, { "1d ", -1 }, { "1D", -1 }, { "3651d", -1 },
	{ "522w", -1 }, { "99999999999999999999s", -1 },
};

START_TEST(test_duration)
{
	struct mca_diag	 d;
	long long	 secs = -5;
	int		 rc;

	rc = mca_cli_duration(durations[_i].s, 3650LL * 86400, &secs, &d);
	if (durations[_i].secs < 0) {
		ck_assert_msg(rc == MCA_ERR_INVAL, "\"%s\" taken",
		    durations[_i].s);
		ck_assert_int_eq(secs, 0);
		ck_assert_str_eq(d.msg, "expected a duration (e.g. 30m, 12h, "
		    "7d, 2w; at most 3650 days)");
	} else {
		ck_assert_msg(rc == 0, "\"%s\": %s", durations[_i].s, d.msg);
		ck_assert_int_eq(secs, durations[_i].secs);
	}
}
END_TEST

static const struct {
	const char	*s;
	long long	 t;		/* -1: refused */
} times[] = {
	{ "2030-01-01T00:00:00Z", 1893456000 },
	{ "1970-01-01T00:00:00Z", 0 },
	{ "2028-02-29T12:34:56Z", 1835440496 },
	{ "2030-12-31T23:59:59Z", 1924991999 },
	{ "2027-02-29T00:00:00Z", -1 },
	{ "2030-02-30T00:00:00Z", -1 },
	{ "2030-04-31T00:00:00Z", -1 },
	{ "2030-13-01T00:00:00Z", -1 },
	{ "2030-00-01T00:00:00Z", -1 },
	{ "2030-01-01T24:00:00Z", -1 },
	{ "2030-01-01T00:60:00Z", -1 },
	{ "2030-01-01T00:00:60Z", -1 },
	{ "1969-12-31T23:59:59Z", -1 },
	{ "2030-01-01 00:00:00Z", -1 },
	{ "2030-01-01T00:00:00", -1 },
	{ "2030-01-01T00:00:00+00:00", -1 },
	{ "2030-1-01T00:00:00Z", -1 },
	{ "2030-01-01T00:00:0xZ", -1 },
	{ "", -1 },
};

START_TEST(test_time)
{
	struct mca_diag	 d;
	time_t		 t = 5;
	int		 rc;

	rc = mca_cli_time(times[_i].s, &t, &d);
	if (times[_i].t < 0) {
		ck_assert_msg(rc == MCA_ERR_INVAL, "\"%s\" taken", times[_i].s);
		ck_assert_int_eq(t, 0);
		ck_assert_ptr_nonnull(strstr(d.msg, "YYYY-MM-DDTHH:MM:SSZ"));
	} else {
		ck_assert_msg(rc == 0, "\"%s\": %s", times[_i].s, d.msg);
		ck_assert_int_eq((long long)t, times[_i].t);
	}
}
END_TEST

START_TEST(test_when)
{
	struct mca_diag	 d;
	time_t		 now = 1893456000, at;	/* 2030-01-01 */
	long long	 max = 3650LL * 86400;

	ck_assert_int_eq(mca_cli_when("7d", now, max, &at, &d), 0);
	ck_assert_int_eq((long long)at, (long long)now + 604800);
	ck_assert_int_eq(mca_cli_when("2030-01-02T00:00:00Z", now, max, &at,
	    &d), 0);
	ck_assert_int_eq((long long)at, (long long)now + 86400);
	ck_assert_int_eq(mca_cli_when("2030-01-01T00:00:00Z", now, max, &at,
	    &d), MCA_ERR_INVAL);
	ck_assert_str_eq(d.msg, "that time has passed");
	ck_assert_int_eq(at, 0);
	ck_assert_int_eq(mca_cli_when("2045-01-01T00:00:00Z", now, max, &at,
	    &d), MCA_ERR_INVAL);
	ck_assert_str_eq(d.msg, "more than 3650 days from now");
	ck_assert_int_eq(mca_cli_when("3y", now, max, &at, &d),
	    MCA_ERR_INVAL);
	ck_assert_str_eq(d.msg, "expected a duration (e.g. 30m, 12h, 7d, 2w; "
	    "at most 3650 days) or YYYY-MM-DDTHH:MM:SSZ");
	ck_assert_int_eq(mca_cli_when("2030-02-30T00:00:00Z", now, max, &at,
	    &d), MCA_ERR_INVAL);
	ck_assert_str_eq(d.msg, "expected a duration (e.g. 30m, 12h, 7d, 2w) "
	    "or YYYY-MM-DDTHH:MM:SSZ");
	ck_assert_int_eq(mca_cli_when("Z", now, max, &at, &d), MCA_ERR_INVAL);
}
END_TEST

/* ---- the ledger's owner */

START_TEST(test_ledger_owner)
{
	struct passwd	*pw;
	struct mca_diag	 d;
	char		 sub[1200], file[1300];
	uid_t		 owner = 12345;

	/* nothing there at all: nothing to judge */
	ck_assert_int_eq(mca_cli_ledger_owner("/nonexistent/dir/l.db", "x",
	    &owner, &d), 0);
	/* ours */
	ck_assert_int_eq(tu_writef(path, "x"), 0);
	ck_assert_int_eq(mca_cli_ledger_owner(path, "prog", &owner, &d), 0);
	ck_assert_int_eq(owner, geteuid());
	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		return;		/* the refusal needs root and another user */
	/* as root: another user's ledger, or directory, is refused */
	ck_assert_int_eq(chown(path, pw->pw_uid, pw->pw_gid), 0);
	ck_assert_int_eq(mca_cli_ledger_owner(path, "microca-renew", &owner,
	    &d), MCA_ERR_POLICY);
	ck_assert_int_eq(owner, pw->pw_uid);
	ck_assert_ptr_nonnull(strstr(d.msg, "belongs to nobody; run as that "
	    "user (sudo -u nobody microca-renew ...), not as root"));
	ck_assert_ptr_nonnull(strstr(d.msg, path));
	(void)snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	(void)snprintf(file, sizeof(file), "%s/not-yet.db", sub);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(mca_cli_ledger_owner(file, "p", NULL, &d), 0);
	ck_assert_int_eq(chown(sub, pw->pw_uid, pw->pw_gid), 0);
	ck_assert_int_eq(mca_cli_ledger_owner(file, "p", NULL, &d),
	    MCA_ERR_POLICY);
}
END_TEST

/* ---- the lock */

START_TEST(test_lock_path)
{
	char	 buf[64];

	ck_assert_int_eq(mca_lock_path("/var/lib/microca/ledger.db",
	    "microca-renew", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/var/lib/microca/microca-renew.lock");
	ck_assert_int_eq(mca_lock_path("ledger.db", "t", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "t.lock");
	ck_assert_int_eq(mca_lock_path("/ledger.db", "t", buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "/t.lock");
	ck_assert_int_eq(mca_lock_path("d/ledger.db", "t", buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "d/t.lock");
	ck_assert_int_eq(mca_lock_path("/l.db", "../x", buf, sizeof(buf)),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_lock_path("/l.db", "a/b", buf, sizeof(buf)),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_lock_path("/l.db", "", buf, sizeof(buf)),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_lock_path("", "t", buf, sizeof(buf)),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_lock_path("/a/very/long/directory/name/here/"
	    "ledger.db", "microca-renew", buf, 20), MCA_ERR_TOOBIG);
	ck_assert_str_eq(buf, "");
}
END_TEST

/* Reads one byte from fd, or fails the test. */
static char
pipe_read(int fd)
{
	char	 c = 0;
	ssize_t	 n;

	while ((n = read(fd, &c, 1)) == -1 && errno == EINTR)
		;
	ck_assert_int_eq(n, 1);
	return c;
}

/*
 * A child that takes the lock on lock, says so ('L', or 'E' when it could
 * not) on up, then waits for a byte on down (or its death) and exits.
 */
static pid_t
holder(const char *lock, int up[2], int down[2])
{
	struct mca_lock	*l = NULL;
	struct mca_diag	 d;
	pid_t		 pid;
	char		 c;

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid != 0) {
		(void)close(up[1]);
		(void)close(down[0]);
		return pid;
	}
	(void)close(up[0]);
	(void)close(down[1]);
	c = mca_lock_take(lock, &l, &d) == 0 ? 'L' : 'E';
	if (write(up[1], &c, 1) != 1)
		_exit(3);
	/* Wait for the parent's word; EOF or an error ends the wait too. */
	if (read(down[0], &c, 1) < 0)
		c = 0;
	mca_lock_release(l);
	_exit(0);
}

static void
reap(pid_t pid, int sig)
{
	int	 st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	if (sig == 0)
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	else
		ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == sig);
}

/* Held by another process: MCA_ERR_BUSY naming it; free once it lets go. */
START_TEST(test_lock_busy)
{
	struct mca_lock	*l = NULL, *l2 = NULL;
	struct mca_diag	 d;
	struct stat	 st;
	char		 lock[1100], want[64];
	int		 up[2], down[2];
	pid_t		 pid;

	ck_assert_int_eq(mca_lock_path(path, "microca-renew", lock,
	    sizeof(lock)), 0);
	pid = holder(lock, up, down);
	ck_assert_int_eq(pipe_read(up[0]), 'L');
	ck_assert_int_eq(mca_lock_take(lock, &l, &d), MCA_ERR_BUSY);
	ck_assert_ptr_null(l);
	(void)snprintf(want, sizeof(want), "another run holds the lock "
	    "(pid %ld)", (long)pid);
	ck_assert_msg(strstr(d.msg, want) != NULL, "%s", d.msg);
	ck_assert_ptr_nonnull(strstr(d.msg, lock));
	ck_assert_int_eq(stat(lock, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	/* it lets go and exits */
	ck_assert_int_eq(write(down[1], "x", 1), 1);
	reap(pid, 0);
	ck_assert_int_eq(mca_lock_take(lock, &l, &d), 0);
	ck_assert_ptr_nonnull(l);
	/* a second take, even in the same process, finds it held */
	ck_assert_int_eq(mca_lock_take(lock, &l2, &d), MCA_ERR_BUSY);
	mca_lock_release(l);
	mca_lock_release(NULL);
	ck_assert_int_eq(mca_lock_take(lock, &l2, &d), 0);
	mca_lock_release(l2);
	(void)close(up[0]);
	(void)close(down[1]);
}
END_TEST

/* A holder killed outright leaves no stale lock: the kernel drops it. */
START_TEST(test_lock_killed)
{
	struct mca_lock	*l = NULL;
	struct mca_diag	 d;
	char		 lock[1100];
	int		 up[2], down[2];
	pid_t		 pid;

	ck_assert_int_eq(mca_lock_path(path, "microca-azsync", lock,
	    sizeof(lock)), 0);
	pid = holder(lock, up, down);
	ck_assert_int_eq(pipe_read(up[0]), 'L');
	ck_assert_int_eq(mca_lock_take(lock, &l, &d), MCA_ERR_BUSY);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	reap(pid, SIGKILL);
	ck_assert_msg(mca_lock_take(lock, &l, &d) == 0, "%s", d.msg);
	mca_lock_release(l);
	(void)close(up[0]);
	(void)close(down[1]);
}
END_TEST

START_TEST(test_lock_bad)
{
	struct mca_lock	*l = NULL;
	struct mca_diag	 d;
	char		 p[1100];

	/* a directory, and a place that cannot be */
	ck_assert_int_eq(mca_lock_take(tmpdir, &l, &d), MCA_ERR_IO);
	ck_assert_ptr_nonnull(strstr(d.msg, tmpdir));
	(void)snprintf(p, sizeof(p), "%s/no/such/dir.lock", tmpdir);
	ck_assert_int_eq(mca_lock_take(p, &l, &d), MCA_ERR_IO);
	ck_assert_ptr_nonnull(strstr(d.msg, "No such file or directory"));
	ck_assert_ptr_null(l);
	ck_assert_int_eq(mca_lock_take(NULL, &l, &d), MCA_ERR_INVAL);
}
END_TEST

/* ---- the interval gate */

static const struct {
	long long	 last, now, minutes;
	int		 due;
	long long	 wait;
} gates[] = {
	{ 0, 1000, 10, 1, 0 },			/* never ran */
	{ -7, 1000, 10, 1, 0 },
	{ 1000, 1000, 10, 0, 600 },		/* just checked */
	{ 1000, 1599, 10, 0, 1 },
	{ 1000, 1600, 10, 1, 0 },		/* exactly the interval */
	{ 1000, 99999, 10, 1, 0 },
	{ 1000, 999, 10, 1, 0 },		/* the clock went back */
	{ 1000, 1000, 0, 1, 0 },		/* no interval */
	{ 1000, 1060, 1440, 0, 86340 },		/* the default: a day */
	{ 1000, 2000, LLONG_MAX, 0, LLONG_MAX - 1000 }, /* no overflow */
};

START_TEST(test_due)
{
	long long	 wait = -1;

	ck_assert_int_eq(mca_cli_due(gates[_i].last, gates[_i].now,
	    gates[_i].minutes, &wait), gates[_i].due);
	ck_assert_int_eq(wait, gates[_i].wait);
	ck_assert_int_eq(mca_cli_due(gates[_i].last, gates[_i].now,
	    gates[_i].minutes, NULL), gates[_i].due);
}
END_TEST

/* ---- the cron_state table */

static struct mca_ledger *
ledger_open(void)
{
	struct mca_ledger	*l = NULL;
	struct mca_diag		 d;
	int			 rc;

	rc = mca_ledger_open(path, 1, &l, &d);
	ck_assert_msg(rc == 0, "open: %s: %s", mca_strerror(rc), d.msg);
	return l;
}

START_TEST(test_cron_state)
{
	struct mca_ledger	*l = ledger_open();
	struct mca_ledger_cron	 c;
	char			 big[700], name[80];

	ck_assert_int_eq(mca_ledger_cron_get(l, "microca-renew",
	    "intermediate", &c), MCA_ERR_NOTFOUND);
	ck_assert_int_eq(mca_ledger_cron_set(l, "microca-renew",
	    "intermediate", 1000, MCA_LEDGER_CRON_OK, NULL), 0);
	ck_assert_int_eq(mca_ledger_cron_set(l, "microca-renew", "device",
	    1001, MCA_LEDGER_CRON_FAILED, "upstream down: connect refused"),
	    0);
	ck_assert_int_eq(mca_ledger_cron_set(l, "microca-azsync",
	    "intermediate", 1002, MCA_LEDGER_CRON_PENDING, "202"), 0);
	ck_assert_int_eq(mca_ledger_cron_get(l, "microca-renew",
	    "intermediate", &c), 0);
	ck_assert_int_eq(c.last_check, 1000);
	ck_assert_str_eq(c.result, "ok");
	ck_assert_str_eq(c.message, "");
	ck_assert_int_eq(mca_ledger_cron_get(l, "microca-renew", "device",
	    &c), 0);
	ck_assert_int_eq(c.last_check, 1001);
	ck_assert_str_eq(c.result, "failed");
	ck_assert_str_eq(c.message, "upstream down: connect refused");
	ck_assert_int_eq(mca_ledger_cron_get(l, "microca-azsync",
	    "intermediate", &c), 0);
	ck_assert_str_eq(c.result, "pending");
	/* a second check replaces the first */
	ck_assert_int_eq(mca_ledger_cron_set(l, "microca-renew", "device",
	    2000, MCA_LEDGER_CRON_OK, NULL), 0);
	ck_assert_int_eq(mca_ledger_cron_get(l, "microca-renew", "device",
	    &c), 0);
	ck_assert_int_eq(c.last_check, 2000);
	ck_assert_str_eq(c.result, "ok");
	ck_assert_str_eq(c.message, "");
	/* a long message is cut, not refused; before a partial UTF-8 byte */
	memset(big, 'a', sizeof(big));
	memcpy(big + MCA_LEDGER_CRON_MSG_MAX - 1, "\xc3\xa9", 2);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(mca_ledger_cron_set(l, "t", "j", 1,
	    MCA_LEDGER_CRON_FAILED, big), 0);
	ck_assert_int_eq(mca_ledger_cron_get(l, "t", "j", &c), 0);
	ck_assert_uint_eq(strlen(c.message), MCA_LEDGER_CRON_MSG_MAX - 1);
	/* refused: names, results */
	ck_assert_int_eq(mca_ledger_cron_set(l, "t", "j", 1, "done", NULL),
	    MCA_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(mca_ledger_errmsg(l, MCA_ERR_INVAL),
	    "ok, failed or pending"));
	ck_assert_int_eq(mca_ledger_cron_set(l, "t", "j", 1, NULL, NULL),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_cron_set(l, "", "j", 1, "ok", NULL),
	    MCA_ERR_INVAL);
	memset(name, 'n', sizeof(name));
	name[MCA_LEDGER_CRON_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(mca_ledger_cron_set(l, "t", name, 1, "ok", NULL),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_cron_get(l, name, "j", &c),
	    MCA_ERR_INVAL);
	name[MCA_LEDGER_CRON_NAME_MAX] = '\0';
	ck_assert_int_eq(mca_ledger_cron_set(l, "t", name, 1, "ok", NULL), 0);
	ck_assert_int_eq(mca_ledger_cron_get(NULL, "t", "j", &c),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_cron_set(NULL, "t", "j", 1, "ok", NULL),
	    MCA_ERR_INVAL);
	mca_ledger_close(l);

	/* it lasts: another open (another run) sees it */
	l = ledger_open();
	ck_assert_int_eq(mca_ledger_cron_get(l, "microca-renew", "device",
	    &c), 0);
	ck_assert_int_eq(c.last_check, 2000);
	mca_ledger_close(l);
}
END_TEST

/* The gate over the ledger, with an injected now. */
START_TEST(test_gate)
{
	struct mca_ledger	*l = ledger_open();
	struct mca_diag		 d;
	long long		 wait = -1, t = 1893456000;
	int			 due = -1;

	ck_assert_int_eq(mca_cli_gate(l, "microca-renew", "check", t, 1,
	    &due, &wait, &d), 0);
	ck_assert_int_eq(due, 1);
	ck_assert_int_eq(wait, 0);
	ck_assert_int_eq(mca_ledger_cron_set(l, "microca-renew", "check", t,
	    MCA_LEDGER_CRON_OK, NULL), 0);
	ck_assert_int_eq(mca_cli_gate(l, "microca-renew", "check", t + 59, 1,
	    &due, &wait, &d), 0);
	ck_assert_int_eq(due, 0);
	ck_assert_int_eq(wait, 1);
	ck_assert_int_eq(mca_cli_gate(l, "microca-renew", "check", t + 60, 1,
	    &due, &wait, &d), 0);
	ck_assert_int_eq(due, 1);
	/* the clock went back five seconds */
	ck_assert_int_eq(mca_cli_gate(l, "microca-renew", "check", t - 5, 1,
	    &due, &wait, &d), 0);
	ck_assert_int_eq(due, 1);
	/* another tool's gate is its own */
	ck_assert_int_eq(mca_cli_gate(l, "microca-discover", "check", t + 1,
	    1440, &due, NULL, &d), 0);
	ck_assert_int_eq(due, 1);
	/* a bad name is an error, not "due" */
	ck_assert_int_eq(mca_cli_gate(l, "", "check", t, 1, &due, &wait, &d),
	    MCA_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(d.msg, "1 to 64 bytes"));
	mca_ledger_close(l);
}
END_TEST

/* A ledger of the schema before cron_state is migrated, its rows kept. */
START_TEST(test_cron_migrate)
{
	struct mca_ledger	*l;
	struct mca_ledger_cron	 c;
	sqlite3			*db = NULL;
	sqlite3_stmt		*st = NULL;
	char			 q[64], *emsg = NULL;
	size_t			 i, mine = mca_sql_nmigrations;
	int			 v = 0;

	for (i = 0; i < mca_sql_nmigrations; i++)
		if (strcmp(mca_sql_migrations[i].name,
		    "0007-cron-state.sql") == 0)
			mine = i;
	ck_assert_uint_lt(mine, mca_sql_nmigrations);
	ck_assert_uint_gt(mine, 0);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), 0);
	for (i = 0; i < mine; i++) {
		ck_assert_msg(sqlite3_exec(db, mca_sql_migrations[i].sql, NULL,
		    NULL, &emsg) == SQLITE_OK, "%s: %s",
		    mca_sql_migrations[i].name, emsg);
		(void)snprintf(q, sizeof(q), "PRAGMA user_version = %d",
		    mca_sql_migrations[i].version);
		ck_assert_int_eq(sqlite3_exec(db, q, NULL, NULL, NULL), 0);
	}
	ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), 0);
	ck_assert_msg(sqlite3_exec(db, "INSERT INTO certificates (serial, "
	    "subject, issuer, not_before, not_after, label, operation, sha1, "
	    "sha256, key_origin, pem) VALUES ('0E', 'CN=old', 'CN=ca', "
	    "'2024-01-01T00:00:00Z', '2030-01-01T00:00:00Z', 'devices', "
	    "'enroll', '" SHA1 "', '" SHA256 "', 'client', 'pem')", NULL,
	    NULL, &emsg) == SQLITE_OK, "%s", emsg);
	/* no cron_state yet */
	ck_assert_int_ne(sqlite3_prepare_v2(db, "SELECT * FROM cron_state",
	    -1, &st, NULL), SQLITE_OK);
	sqlite3_close(db);

	l = ledger_open();
	ck_assert_int_eq(mca_ledger_version(l, &v), 0);
	ck_assert_int_eq(v, (int)mca_sql_nmigrations);
	ck_assert_int_eq(mca_ledger_cron_set(l, "microca-renew", "check", 5,
	    MCA_LEDGER_CRON_OK, NULL), 0);
	ck_assert_int_eq(mca_ledger_cron_get(l, "microca-renew", "check", &c),
	    0);
	ck_assert_int_eq(c.last_check, 5);
	mca_ledger_close(l);

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM "
	    "certificates WHERE serial = '0E'", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	/* the CHECKs hold for a writer that is not us */
	ck_assert_int_ne(sqlite3_exec(db, "INSERT INTO cron_state VALUES "
	    "('t', 'j', 'soon', 'ok', NULL)", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_ne(sqlite3_exec(db, "INSERT INTO cron_state VALUES "
	    "('t', 'j', 5, 'maybe', NULL)", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_ne(sqlite3_exec(db, "INSERT INTO cron_state VALUES "
	    "('microca-renew', 'check', 6, 'ok', NULL)", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
}
END_TEST

/* microca-discover's own flags: --now and --json. */
START_TEST(test_discover_flags)
{
	char		*argv[] = { "discover", "--now", "--json", "--dry-run",
	    NULL };
	struct mca_cli	 c;
	struct mca_diag	 d;

	ck_assert_int_eq(mca_cli_parse(4, argv, DISCOVER_F, &c, &d), 0);
	ck_assert_int_eq(c.now, 1);
	ck_assert_int_eq(c.json, 1);
	ck_assert_int_eq(c.dry_run, 1);
	ck_assert_int_eq(mca_cli_parse(2, argv, MCA_CLI_F_CRON, &c, &d),
	    MCA_ERR_INVAL);
	ck_assert_str_eq(d.msg, "unknown option --now");
	argv[1] = "--status";
	ck_assert_int_eq(mca_cli_parse(2, argv, DISCOVER_F, &c, &d),
	    MCA_ERR_INVAL);
}
END_TEST

static Suite *
cli_suite(void)
{
	Suite	*s = suite_create("cli");
	TCase	*tc;

	tc = tcase_create("options");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_parse, 0, NELEM(optcases));
	tcase_add_test(tc, test_parse_env);
	tcase_add_test(tc, test_discover_flags);
	tcase_add_test(tc, test_parse_force_max);
	tcase_add_test(tc, test_getopt_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_loop_test(tc, test_duration, 0, NELEM(durations));
	tcase_add_loop_test(tc, test_time, 0, NELEM(times));
	tcase_add_test(tc, test_when);
	suite_add_tcase(s, tc);

	tc = tcase_create("owner");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ledger_owner);
	suite_add_tcase(s, tc);

	tc = tcase_create("lock");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_lock_path);
	tcase_add_test(tc, test_lock_busy);
	tcase_add_test(tc, test_lock_killed);
	tcase_add_test(tc, test_lock_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("gate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_due, 0, NELEM(gates));
	tcase_add_test(tc, test_cron_state);
	tcase_add_test(tc, test_gate);
	tcase_add_test(tc, test_cron_migrate);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(cli_suite());
}
