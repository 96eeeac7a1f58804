/*
 * The command-line plumbing every microca tool shares. See cli.h.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "ledger.h"
#include "num.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* getopt_long's val of table entry i; above any byte, so never a short */
#define CLI_VAL_BASE	256
#define CLI_SHOW_MAX	64	/* bytes of a bad argument quoted back */

/*
 * getopt_long takes any unique prefix ("--dry" for --dry-run); we do
 * not, so that a new option never changes what an old crontab line
 * means. The option just read is argv[optind - 1], or the one before
 * when its value came as the next word.
 */
static int
cli_spelled_out(int argc, char *argv[], const char *name,
    struct mca_diag *d)
{
	const char	*w;
	size_t		 n = strlen(name);
	int		 at = optind - 1;

	if (optarg != NULL && at >= 1 && optarg == argv[at])
		at--;
	if (at < 1 || at >= argc)
		return mca_diag(d, MCA_ERR_INTERNAL, "--%s: lost", name);
	w = argv[at];
	if (strncmp(w, "--", 2) == 0 && strncmp(w + 2, name, n) == 0 &&
	    (w[2 + n] == '\0' || w[2 + n] == '='))
		return 0;
	return mca_diag(d, MCA_ERR_INVAL, "unknown option %.*s (did you mean "
	    "--%s?)", CLI_SHOW_MAX, w, name);
}

int
mca_cli_getopt(int argc, char *argv[], const struct mca_cli_opt *opts,
    mca_cli_opt_fn cb, void *arg, int *next, struct mca_diag *d)
{
	struct option	 lo[MCA_CLI_OPTS_MAX + 1];
	const char	*bad;
	size_t		 n;
	int		 c, i, rc;

	mca_diag_clear(d);
	if (next != NULL)
		*next = argc;
	if (argc < 1 || argv == NULL || opts == NULL || cb == NULL ||
	    next == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_cli_getopt: no input");
	memset(lo, 0, sizeof(lo));
	for (n = 0; opts[n].name != NULL; n++) {
		if (n == MCA_CLI_OPTS_MAX || opts[n].id <= 0)
			return mca_diag(d, MCA_ERR_INTERNAL, "mca_cli_getopt: "
			    "bad option table");
		lo[n].name = opts[n].name;
		lo[n].has_arg = opts[n].has_arg ? required_argument :
		    no_argument;
		lo[n].val = CLI_VAL_BASE + (int)n;
	}
	/*
	 * "+": stop at the first operand (a subcommand's own options are
	 * its business); ":": report a missing value apart. optind = 0
	 * makes glibc start afresh, also on another argv.
	 */
	opterr = 0;
	optind = 0;
	rc = 0;
	while ((c = getopt_long(argc, argv, "+:", lo, NULL)) != -1) {
		if (c >= CLI_VAL_BASE && c < CLI_VAL_BASE + (int)n) {
			i = c - CLI_VAL_BASE;
			if ((rc = cli_spelled_out(argc, argv, opts[i].name,
			    d)) != 0 ||
			    (rc = cb(arg, opts[i].id, optarg, d)) != 0)
				break;
			continue;
		}
		if (optopt >= CLI_VAL_BASE && optopt < CLI_VAL_BASE + (int)n) {
			i = optopt - CLI_VAL_BASE;
			rc = mca_diag(d, MCA_ERR_INVAL, c == ':' ?
			    "--%s needs a value" : "--%s takes no value",
			    opts[i].name);
			break;
		}
		if (optopt > 0 && optopt < CLI_VAL_BASE) {
			rc = mca_diag(d, MCA_ERR_INVAL, "unknown option -%c",
			    optopt >= 0x21 && optopt < 0x7f ? optopt : '?');
			break;
		}
		/* An unknown or ambiguous long option: glibc moved past it. */
		bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
		rc = mca_diag(d, MCA_ERR_INVAL, "unknown option %.*s",
		    CLI_SHOW_MAX, bad);
		break;
	}
	if (rc == 0)
		*next = optind;
	optind = 0;
	return rc;
}

enum cli_id {
	CLI_CONFIG = 1,
	CLI_APICONFIG,
	CLI_STATUS,
	CLI_DRYRUN,
	CLI_FORCE,
	CLI_LOGTERM,
	CLI_DEBUG,
	CLI_VERSION,
	CLI_HELP,
	CLI_WATCH,
	CLI_NOW,
	CLI_JSON,
	CLI_MAX
};

/* The common flags; which of them a tool takes, by its accept bits. */
static const struct {
	struct mca_cli_opt	 opt;
	unsigned		 flag;
} cli_common[] = {
	{ { "config", 1, CLI_CONFIG }, MCA_CLI_F_CONFIG },
	{ { "api-config", 1, CLI_APICONFIG }, MCA_CLI_F_APICONFIG },
	{ { "status", 0, CLI_STATUS }, MCA_CLI_F_STATUS },
	{ { "dry-run", 0, CLI_DRYRUN }, MCA_CLI_F_DRYRUN },
	{ { "force", 1, CLI_FORCE }, MCA_CLI_F_FORCE },
	{ { "logToTerminal", 0, CLI_LOGTERM }, MCA_CLI_F_LOG },
	{ { "debugMode", 0, CLI_DEBUG }, MCA_CLI_F_LOG },
	{ { "version", 0, CLI_VERSION }, MCA_CLI_F_VERSION },
	{ { "help", 0, CLI_HELP }, MCA_CLI_F_HELP },
	{ { "watch", 0, CLI_WATCH }, MCA_CLI_F_WATCH },
	{ { "now", 0, CLI_NOW }, MCA_CLI_F_NOW },
	{ { "json", 0, CLI_JSON }, MCA_CLI_F_JSON },
};

static int
cli_set(void *arg, int id, const char *val, struct mca_diag *d)
{
	struct mca_cli	*c = arg;

	switch (id) {
	case CLI_CONFIG:
	case CLI_APICONFIG:
		if (*val == '\0')
			return mca_diag(d, MCA_ERR_INVAL, "--%s needs a path",
			    id == CLI_CONFIG ? "config" : "api-config");
		if (id == CLI_CONFIG)
			c->config = val;
		else
			c->api_config = val;
		return 0;
	case CLI_STATUS:
		c->status = 1;
		return 0;
	case CLI_DRYRUN:
		c->dry_run = 1;
		return 0;
	case CLI_FORCE:
		if (*val == '\0')
			return mca_diag(d, MCA_ERR_INVAL, "--force needs a "
			    "name");
		if (c->nforce == MCA_CLI_FORCE_MAX)
			return mca_diag(d, MCA_ERR_INVAL, "more than %d "
			    "--force", MCA_CLI_FORCE_MAX);
		c->force[c->nforce++] = val;
		return 0;
	case CLI_LOGTERM:
		c->log_to_terminal = 1;
		return 0;
	case CLI_DEBUG:
		c->debug = 1;
		return 0;
	case CLI_VERSION:
		c->version = 1;
		return 0;
	case CLI_HELP:
		c->help = 1;
		return 0;
	case CLI_WATCH:
		c->watch = 1;
		return 0;
	case CLI_NOW:
		c->now = 1;
		return 0;
	case CLI_JSON:
		c->json = 1;
		return 0;
	default:
		return mca_diag(d, MCA_ERR_INTERNAL, "option %d", id);
	}
}

int
mca_cli_parse(int argc, char *argv[], unsigned accept, struct mca_cli *out,
    struct mca_diag *d)
{
	struct mca_cli_opt	 opts[NELEM(cli_common) + 1];
	size_t			 i, n = 0;
	int			 rc, next;

	mca_diag_clear(d);
	if (out == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_cli_parse: no output");
	memset(out, 0, sizeof(*out));
	for (i = 0; i < NELEM(cli_common); i++)
		if (accept & cli_common[i].flag)
			opts[n++] = cli_common[i].opt;
	memset(&opts[n], 0, sizeof(opts[n]));
	if ((rc = mca_cli_getopt(argc, argv, opts, cli_set, out, &next,
	    d)) != 0)
		return rc;
	out->argi = next;
	if (next < argc && !(accept & MCA_CLI_F_OPERANDS))
		return mca_diag(d, MCA_ERR_INVAL, "unexpected argument "
		    "\"%.*s\"", CLI_SHOW_MAX, argv[next]);
	if (out->status && (out->dry_run || out->nforce > 0))
		return mca_diag(d, MCA_ERR_INVAL, "--status only reports: "
		    "it takes no --%s", out->dry_run ? "dry-run" : "force");
	if (out->watch && (out->status || out->dry_run))
		return mca_diag(d, MCA_ERR_INVAL, "--watch keeps draining: "
		    "it takes no --%s", out->status ? "status" : "dry-run");
	if (out->config == NULL &&
	    (out->config = getenv(MCA_CLI_CONFIG_ENV)) == NULL)
		out->config = MCA_CLI_DEFAULT_CONFIG;
	if (out->api_config == NULL)
		out->api_config = MCA_CLI_DEFAULT_APICONFIG;
	return 0;
}

int
mca_cli_forced(const struct mca_cli *c, const char *name)
{
	size_t	 i;

	if (c == NULL || name == NULL)
		return 0;
	for (i = 0; i < c->nforce; i++)
		if (strcmp(c->force[i], name) == 0)
			return 1;
	return 0;
}

int
mca_cli_duration(const char *s, long long max_secs, long long *secs,
    struct mca_diag *d)
{
	static const struct {
		char		 unit;
		long long	 secs;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 },
	};
	long long	 n;
	size_t		 len, i;

	mca_diag_clear(d);
	if (secs != NULL)
		*secs = 0;
	if (s == NULL || secs == NULL || max_secs < 1)
		return mca_diag(d, MCA_ERR_INVAL, "mca_cli_duration: no input");
	len = strlen(s);
	for (i = 0; len >= 2 && i < NELEM(units); i++)
		if (s[len - 1] == units[i].unit)
			break;
	if (len < 2 || i == NELEM(units) ||
	    mca_num_parse(s, len - 1, 1, max_secs, &n) != 0 ||
	    n > max_secs / units[i].secs)
		return mca_diag(d, MCA_ERR_INVAL, "expected a duration (e.g. "
		    "30m, 12h, 7d, 2w; at most %lld days)", max_secs / 86400);
	*secs = n * units[i].secs;
	return 0;
}

/* The fixed-width decimal field s[0..len) in [min, max]. 0 or -1. */
static int
cli_digits(const char *s, size_t len, int min, int max, int *v)
{
	size_t	 i;

	*v = 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return *v < min || *v > max ? -1 : 0;
}

int
mca_cli_time(const char *s, time_t *t, struct mca_diag *d)
{
	struct tm	 tm, back, want;

	mca_diag_clear(d);
	if (t != NULL)
		*t = 0;
	if (s == NULL || t == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_cli_time: no input");
	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	    cli_digits(s, 4, 1970, 9999, &tm.tm_year) != 0 ||
	    cli_digits(s + 5, 2, 1, 12, &tm.tm_mon) != 0 ||
	    cli_digits(s + 8, 2, 1, 31, &tm.tm_mday) != 0 ||
	    cli_digits(s + 11, 2, 0, 23, &tm.tm_hour) != 0 ||
	    cli_digits(s + 14, 2, 0, 59, &tm.tm_min) != 0 ||
	    cli_digits(s + 17, 2, 0, 59, &tm.tm_sec) != 0)
		goto bad;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	/* timegm() normalises its argument: compare with a copy. */
	want = tm;
	if ((*t = timegm(&tm)) == (time_t)-1 || gmtime_r(t, &back) == NULL ||
	    back.tm_mday != want.tm_mday || back.tm_mon != want.tm_mon)
		goto bad;
	return 0;
bad:
	*t = 0;
	return mca_diag(d, MCA_ERR_INVAL, "expected YYYY-MM-DDTHH:MM:SSZ "
	    "(a UTC time that exists)");
}

int
mca_cli_when(const char *s, time_t now, long long max_secs, time_t *at,
    struct mca_diag *d)
{
	long long	 secs;
	size_t		 len;

	mca_diag_clear(d);
	if (at != NULL)
		*at = 0;
	if (s == NULL || at == NULL || max_secs < 1)
		return mca_diag(d, MCA_ERR_INVAL, "mca_cli_when: no input");
	len = strlen(s);
	if (len >= 2 && s[len - 1] != 'Z') {
		if (mca_cli_duration(s, max_secs, &secs, NULL) != 0)
			return mca_diag(d, MCA_ERR_INVAL, "expected a duration "
			    "(e.g. 30m, 12h, 7d, 2w; at most %lld days) or "
			    "YYYY-MM-DDTHH:MM:SSZ", max_secs / 86400);
		*at = now + (time_t)secs;
		return 0;
	}
	if (mca_cli_time(s, at, NULL) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "expected a duration (e.g. "
		    "30m, 12h, 7d, 2w) or YYYY-MM-DDTHH:MM:SSZ");
	if (*at <= now) {
		*at = 0;
		return mca_diag(d, MCA_ERR_INVAL, "that time has passed");
	}
	if ((long long)(*at - now) > max_secs) {
		*at = 0;
		return mca_diag(d, MCA_ERR_INVAL, "more than %lld days from "
		    "now", max_secs / 86400);
	}
	return 0;
}

/* stat() of the directory that holds path. */
static int
cli_stat_dir(const char *path, struct stat *st)
{
	char	 dir[PATH_MAX];
	char	*slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		return stat(".", st);
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return stat(dir, st);
}

int
mca_cli_ledger_owner(const char *ledger, const char *prog, uid_t *owner,
    struct mca_diag *d)
{
	struct passwd	*pw;
	struct stat	 st;

	mca_diag_clear(d);
	if (owner != NULL)
		*owner = 0;
	if (ledger == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "no ledger path");
	if (prog == NULL)
		prog = "microca";
	/* (a ledger not made yet would be made in its directory: judge that) */
	if (stat(ledger, &st) != 0 && cli_stat_dir(ledger, &st) != 0)
		return 0;
	if (owner != NULL)
		*owner = st.st_uid;
	if (geteuid() != 0 || st.st_uid == 0)
		return 0;
	pw = getpwuid(st.st_uid);
	return mca_diag(d, MCA_ERR_POLICY, "%s (or its directory) belongs to "
	    "%s; run as that user (sudo -u %s %s ...), not as root", ledger,
	    pw != NULL ? pw->pw_name : "another user",
	    pw != NULL ? pw->pw_name : "it", prog);
}

int
mca_cli_due(long long last, long long now, long long minutes,
    long long *wait)
{
	long long	 interval, left;

	if (wait != NULL)
		*wait = 0;
	if (last <= 0 || last > now || minutes <= 0)
		return 1;
	interval = minutes > LLONG_MAX / 60 ? LLONG_MAX : minutes * 60;
	/* now - last >= 0 here, so the difference cannot overflow. */
	if (now - last >= interval)
		return 1;
	left = interval - (now - last);
	if (wait != NULL)
		*wait = left;
	return 0;
}

int
mca_cli_gate(struct mca_ledger *l, const char *tool, const char *job,
    long long now, long long minutes, int *due, long long *wait,
    struct mca_diag *d)
{
	struct mca_ledger_cron	 c;
	int			 rc;

	mca_diag_clear(d);
	if (wait != NULL)
		*wait = 0;
	if (due == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_cli_gate: no output");
	*due = 1;
	rc = mca_ledger_cron_get(l, tool, job, &c);
	if (rc == MCA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return mca_diag(d, rc, "%s %s: %s", tool != NULL ? tool : "-",
		    job != NULL ? job : "-", mca_ledger_errmsg(l, rc));
	*due = mca_cli_due(c.last_check, now, minutes, wait);
	return 0;
}
