/*
 * microca-admin: the operator's tool for what lives in the ledger beside
 * certificates. For now, enrollment passcodes (lib/passcode.h):
 *
 *   microca-admin [--config PATH] passcode add --label L [--uses N]
 *       [--expires DURATION|TIME] [--comment TEXT]
 *   microca-admin [--config PATH] passcode list [--label L] [--all]
 *   microca-admin [--config PATH] passcode revoke ID
 *
 * The passcode is printed once, by "add", and never again: the ledger
 * keeps only its scrypt hash. Exit status: 0 done, 1 failed (the message
 * says why), 2 usage.
 */
#include "config.h"

#include <sys/stat.h>

#include <sys/types.h>

#include <err.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "certinfo.h"
#include "cfg.h"
#include "err.h"
#include "ledger.h"
#include "log.h"
#include "num.h"
#include "passcode.h"
#include "secret.h"
#include "text.h"

#define PROG		"microca-admin"
#define DEFAULT_CONFIG	"/etc/microca/config.json"
#define DEF_USES	1
#define MAX_USES	1000000
#define DEF_EXPIRES	"7d"
#define MAX_DAYS	3650		/* no passcode outlives ten years */
#define ADD_TRIES	5		/* ID collisions: 40 bits, so rare */

enum exitcode {
	EX_DONE = 0,
	EX_FAIL = 1,
	EX_USAGE = 2
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: " PROG " [--config PATH] passcode add --label LABEL "
	    "[--uses N] [--expires DURATION|TIME] [--comment TEXT]\n"
	    "       " PROG " [--config PATH] passcode list [--label LABEL] "
	    "[--all]\n"
	    "       " PROG " [--config PATH] passcode revoke ID\n"
	    "       " PROG " [--config PATH] secret encrypt [--key-file PATH] "
	    "NAME < value\n"
	    "       " PROG " secret keygen PATH\n"
	    "DURATION is a number and a unit, s m h d or w (default "
	    DEF_EXPIRES "); TIME is YYYY-MM-DDTHH:MM:SSZ.\n");
	exit(EX_USAGE);
}

static int
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);	/* "PROG: message" */
	va_end(ap);
	return EX_FAIL;
}

/*
 * The value of option name at argv[*i]: "--name VALUE" or "--name=VALUE".
 * NULL if argv[*i] is not that option; usage() if the value is missing.
 */
static const char *
optval(int argc, char *argv[], int *i, const char *name)
{
	size_t	 n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		usage();
	return argv[++*i];
}

/* The fixed-width decimal field s[0..len) in [min, max]. 0 or -1. */
static int
digits(const char *s, size_t len, int min, int max, int *v)
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

/*
 * Parses "YYYY-MM-DDTHH:MM:SSZ" exactly into *t. 0 or -1 (also for
 * impossible dates such as February 30th).
 */
static int
parse_iso(const char *s, time_t *t)
{
	struct tm	 tm, back, want;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	    digits(s, 4, 1970, 9999, &tm.tm_year) != 0 ||
	    digits(s + 5, 2, 1, 12, &tm.tm_mon) != 0 ||
	    digits(s + 8, 2, 1, 31, &tm.tm_mday) != 0 ||
	    digits(s + 11, 2, 0, 23, &tm.tm_hour) != 0 ||
	    digits(s + 14, 2, 0, 59, &tm.tm_min) != 0 ||
	    digits(s + 17, 2, 0, 59, &tm.tm_sec) != 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	/* timegm() normalises its argument: compare with a copy. */
	want = tm;
	if ((*t = timegm(&tm)) == (time_t)-1 || gmtime_r(t, &back) == NULL ||
	    back.tm_mday != want.tm_mday || back.tm_mon != want.tm_mon)
		return -1;
	return 0;
}

/*
 * --expires: a duration from now ("90m", "12h", "7d", "2w", "30s") or an
 * ISO 8601 UTC time. *at is the expiry. 0 or -1 with a message printed.
 */
static int
parse_expires(const char *s, time_t now, time_t *at)
{
	static const struct {
		char		 unit;
		long long	 secs;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 },
	};
	long long	 n, max = (long long)MAX_DAYS * 86400;
	size_t		 len = strlen(s), i;

	*at = 0;
	if (len >= 2 && s[len - 1] != 'Z') {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (s[len - 1] == units[i].unit)
				break;
		if (i == sizeof(units) / sizeof(units[0]) ||
		    mca_num_parse(s, len - 1, 1, max, &n) != 0 ||
		    n > max / units[i].secs) {
			fail("--expires %s: expected a duration (e.g. 30m, "
			    "12h, 7d, 2w; at most %d days) or "
			    "YYYY-MM-DDTHH:MM:SSZ", s, MAX_DAYS);
			return -1;
		}
		*at = now + (time_t)(n * units[i].secs);
		return 0;
	}
	if (parse_iso(s, at) != 0) {
		fail("--expires %s: expected a duration (e.g. 30m, 12h, 7d, "
		    "2w) or YYYY-MM-DDTHH:MM:SSZ", s);
		return -1;
	}
	if (*at <= now) {
		fail("--expires %s: that time has passed", s);
		return -1;
	}
	if (*at - now > (time_t)max) {
		fail("--expires %s: more than %d days from now", s, MAX_DAYS);
		return -1;
	}
	return 0;
}

/* stat() of the directory that holds path. */
static int
stat_dir(const char *path, struct stat *st)
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

/*
 * Opens the ledger config.json names. 0 or EX_FAIL with a message.
 * As root it refuses a ledger that belongs to another user: SQLite
 * would create its -wal and -shm files root-owned next to it, and the
 * web server's workers could then no longer write the ledger.
 */
static int
open_ledger(const struct mca_cfg *cfg, struct mca_ledger **l)
{
	struct mca_diag	 d;
	struct passwd	*pw;
	struct stat	 st;

	mca_diag_clear(&d);
	/* (a ledger not made yet would be made in its directory: judge that) */
	if (geteuid() == 0 && (stat(cfg->ledger_db_path, &st) == 0 ||
	    stat_dir(cfg->ledger_db_path, &st) == 0) && st.st_uid != 0) {
		pw = getpwuid(st.st_uid);
		return fail("%s: ledger_db_path: %s (or its directory) "
		    "belongs to %s; run as that user (sudo -u %s " PROG
		    " ...), not as root",
		    cfg->path, cfg->ledger_db_path, pw != NULL ? pw->pw_name :
		    "another user", pw != NULL ? pw->pw_name : "it");
	}
	if (mca_ledger_open(cfg->ledger_db_path, cfg->ledger_synchronous_full,
	    l, &d) != 0)
		return fail("%s: ledger_db_path: %s", cfg->path, d.msg);
	return 0;
}

/* The Unix user running us, for created_by. */
static void
whoami(char *out, size_t outlen)
{
	struct passwd	*pw;

	if ((pw = getpwuid(getuid())) != NULL && pw->pw_name != NULL)
		(void)snprintf(out, outlen, "%s", pw->pw_name);
	else
		(void)snprintf(out, outlen, "uid %ld", (long)getuid());
}

static int
passcode_add(struct mca_cfg *cfg, int argc, char *argv[])
{
	const struct mca_profile	*p;
	struct mca_ledger_passcode	 row;
	struct mca_ledger		*l = NULL;
	struct mca_passcode		 pc;
	const char			*label = NULL, *expires = DEF_EXPIRES;
	const char			*comment = NULL, *uses = NULL, *v;
	char				 shown[MCA_PASSCODE_LEN + 1];
	long long			 n = DEF_USES;
	time_t				 now = time(NULL), at;
	int				 i, rc = EX_FAIL, tries;
	int				 lrc = MCA_ERR_INTERNAL;

	memset(&row, 0, sizeof(row));
	memset(&pc, 0, sizeof(pc));
	memset(shown, 0, sizeof(shown));
	for (i = 0; i < argc; i++) {
		if ((v = optval(argc, argv, &i, "--label")) != NULL)
			label = v;
		else if ((v = optval(argc, argv, &i, "--uses")) != NULL)
			uses = v;
		else if ((v = optval(argc, argv, &i, "--expires")) != NULL)
			expires = v;
		else if ((v = optval(argc, argv, &i, "--comment")) != NULL)
			comment = v;
		else
			usage();
	}
	if (label == NULL) {
		fail("passcode add: --label is required");
		usage();
	}
	if (uses != NULL && mca_num_parse(uses, strlen(uses), 1, MAX_USES,
	    &n) != 0)
		return fail("--uses %s: expected a whole number from 1 to %d",
		    uses, MAX_USES);
	if (parse_expires(expires, now, &at) != 0)
		return EX_FAIL;
	if (comment != NULL && (strlen(comment) > MCA_LEDGER_COMMENT_MAX ||
	    mca_text_ctl_span(comment, strlen(comment), 0) < strlen(comment)))
		return fail("--comment: at most %d bytes, no control "
		    "characters", MCA_LEDGER_COMMENT_MAX);
	if (*label == '\0' || (p = mca_cfg_profile(cfg, label)) == NULL)
		return fail("label \"%s\" is not the end_point_name of any "
		    "end_certificate_config_<N> in %s", label, cfg->path);
	if (!(p->auth_methods & MCA_AUTH_PASSCODE))
		return fail("label \"%s\" does not take passcodes: add "
		    "\"passcode\" to end_certificate_config_%d.auth_methods "
		    "in %s", label, p->index, cfg->path);

	(void)snprintf(row.label, sizeof(row.label), "%s", p->name);
	row.uses_total = n;
	if (mca_time_iso(at, row.expires_at, sizeof(row.expires_at)) != 0)
		return fail("--expires %s: cannot be written", expires);
	whoami(row.created_by, sizeof(row.created_by));
	if (comment != NULL)
		(void)snprintf(row.comment, sizeof(row.comment), "%s", comment);
	if ((rc = open_ledger(cfg, &l)) != 0)
		goto out;
	rc = EX_FAIL;
	for (tries = 0; tries < ADD_TRIES; tries++) {
		if (mca_passcode_new(&pc) != 0 ||
		    mca_passcode_hash(pc.secret, MCA_PASSCODE_SCRYPT_LN,
		    MCA_PASSCODE_SCRYPT_R, MCA_PASSCODE_SCRYPT_P, row.hash,
		    sizeof(row.hash)) != 0) {
			fail("cannot draw or hash a passcode");
			goto out;
		}
		(void)snprintf(row.id, sizeof(row.id), "%s", pc.id);
		if ((lrc = mca_ledger_passcode_add(l, &row)) != MCA_ERR_EXISTS)
			break;
	}
	if (lrc != 0) {
		fail("%s: cannot add the passcode: %s", cfg->ledger_db_path,
		    mca_ledger_errmsg(l, lrc));
		goto out;
	}
	if (mca_passcode_format(&pc, shown, sizeof(shown)) != 0) {
		fail("cannot format the passcode");
		goto out;
	}
	printf("id       %s\n", row.id);
	printf("passcode %s\n", shown);
	printf("label    %s\n", row.label);
	printf("uses     %lld\n", row.uses_total);
	printf("expires  %s\n", row.expires_at);
	fprintf(stderr, PROG ": the passcode is shown this once; the ledger "
	    "keeps only its hash\n");
	rc = fflush(stdout) == 0 ? EX_DONE : EX_FAIL;
out:
	mca_passcode_clear(&pc);
	OPENSSL_cleanse(shown, sizeof(shown));
	mca_ledger_close(l);
	return rc;
}

struct list_ctx {
	size_t	 n;
};

/* Prints text with control characters as '?'. */
static void
print_clean(const char *s)
{
	for (; *s != '\0'; s++)
		putchar(mca_text_is_ctl((unsigned char)*s) ? '?' : *s);
}

static int
list_one(void *arg, const struct mca_ledger_passcode *p)
{
	struct list_ctx	*c = arg;
	char		 uses[48];

	if (c->n++ == 0)
		printf("%-8s  %-16s  %-9s  %-20s  %-7s  %-20s  %s\n", "ID",
		    "LABEL", "USES LEFT", "EXPIRES", "STATE", "CREATED",
		    "COMMENT");
	(void)snprintf(uses, sizeof(uses), "%lld/%lld", p->uses_left,
	    p->uses_total);
	printf("%-8s  %-16s  %-9s  %-20s  %-7s  %-20s  ", p->id, p->label,
	    uses, p->expires_at, p->state, p->created_at);
	print_clean(p->comment);
	putchar('\n');
	return 0;
}

static int
passcode_list(struct mca_cfg *cfg, int argc, char *argv[])
{
	struct mca_ledger	*l = NULL;
	struct list_ctx		 c;
	const char		*label = NULL, *v;
	int			 i, all = 0, rc;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < argc; i++) {
		if ((v = optval(argc, argv, &i, "--label")) != NULL)
			label = v;
		else if (strcmp(argv[i], "--all") == 0)
			all = 1;
		else
			usage();
	}
	if (label != NULL && mca_cfg_profile(cfg, label) == NULL)
		fprintf(stderr, PROG ": note: label \"%s\" is not in %s\n",
		    label, cfg->path);
	if ((rc = open_ledger(cfg, &l)) != 0)
		return rc;
	if ((i = mca_ledger_passcode_list(l, label, all, list_one, &c)) != 0)
		rc = fail("%s: cannot list passcodes: %s",
		    cfg->ledger_db_path, mca_ledger_errmsg(l, i));
	else if (c.n == 0)
		fprintf(stderr, PROG ": no %spasscodes%s%s\n",
		    all ? "" : "active ", label != NULL ? " on label " : "",
		    label != NULL ? label : "");
	mca_ledger_close(l);
	if (rc == 0 && fflush(stdout) != 0)
		rc = EX_FAIL;
	return rc;
}

static int
passcode_revoke(struct mca_cfg *cfg, int argc, char *argv[])
{
	struct mca_ledger	*l = NULL;
	char			 id[MCA_PASSCODE_ID_LEN + 1];
	int			 rc, already = 0;

	if (argc != 1)
		usage();
	/* The ID alone: a secret has no business in shell history. */
	if (mca_passcode_parse_id(argv[0], id, sizeof(id)) != 0)
		return fail("passcode revoke: \"%.*s\" is not a passcode ID "
		    "(%d characters, as \"passcode list\" shows)",
		    MCA_PASSCODE_ID_LEN, argv[0], MCA_PASSCODE_ID_LEN);
	if ((rc = open_ledger(cfg, &l)) != 0)
		return rc;
	rc = mca_ledger_passcode_revoke(l, id, &already);
	if (rc == MCA_ERR_NOTFOUND)
		rc = fail("no passcode %s in %s", id, cfg->ledger_db_path);
	else if (rc != 0)
		rc = fail("%s: cannot revoke %s: %s", cfg->ledger_db_path, id,
		    mca_ledger_errmsg(l, rc));
	mca_ledger_close(l);
	if (rc != 0)
		return rc;
	printf("passcode %s %s\n", id, already ? "was already revoked" :
	    "revoked");
	return fflush(stdout) == 0 ? EX_DONE : EX_FAIL;
}

/*
 * secret encrypt NAME: one line of standard input (its newline taken
 * off) as an enc:v1 value for the key NAME, under --key-file or the
 * config's encryption_key_file_path.
 */
static int
secret_encrypt(const char *config, int argc, char *argv[])
{
	struct mca_secret_key	 key;
	struct mca_cfg		*cfg = NULL;
	struct mca_diag		 d;
	const char		*kf = NULL, *name = NULL, *v;
	char			 line[MCA_SECRET_PLAIN_MAX + 2], *enc = NULL;
	size_t			 len;
	int			 i, rc = EX_FAIL, c;

	memset(&key, 0, sizeof(key));
	memset(line, 0, sizeof(line));
	for (i = 0; i < argc; i++) {
		if ((v = optval(argc, argv, &i, "--key-file")) != NULL)
			kf = v;
		else if (name == NULL && argv[i][0] != '-')
			name = argv[i];
		else
			usage();
	}
	if (name == NULL)
		usage();
	if (!mca_secret_name_known(name))
		return fail("secret encrypt: \"%.64s\" is not a key that "
		    "takes an enc:v1 value", name);
	if (kf == NULL) {
		mca_diag_clear(&d);
		if (mca_cfg_load(config, &cfg, &d) != 0)
			return fail("%s", d.msg);
		if (cfg->encryption_key_file_path == NULL) {
			rc = fail("%s: encryption_key_file_path is not set "
			    "(or give --key-file)", config);
			goto out;
		}
		kf = cfg->encryption_key_file_path;
	}
	if (mca_secret_key_load(kf, &key, &d) != 0) {
		rc = fail("%s", d.msg);
		goto out;
	}
	for (len = 0; (c = getchar()) != EOF && c != '\n'; ) {
		if (len > MCA_SECRET_PLAIN_MAX) {
			rc = fail("secret encrypt: the value is longer than "
			    "%d bytes", MCA_SECRET_PLAIN_MAX);
			goto out;
		}
		line[len++] = (char)c;
	}
	if (c == '\n' && getchar() != EOF) {
		rc = fail("secret encrypt: standard input holds more than "
		    "one line");
		goto out;
	}
	if (mca_secret_encrypt(&key, name, line, len, &enc, &d) != 0) {
		rc = fail("secret encrypt: %s", d.msg);
		goto out;
	}
	printf("%s\n", enc);
	rc = fflush(stdout) == 0 ? EX_DONE : EX_FAIL;
out:
	OPENSSL_cleanse(line, sizeof(line));
	mca_secret_key_clear(&key);
	free(enc);
	mca_cfg_free(cfg);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	const char	*config = NULL, *v;
	size_t		 i;
	int		 a = 1, rc;

	for (; a < argc && strncmp(argv[a], "--", 2) == 0; a++) {
		if ((v = optval(argc, argv, &a, "--config")) != NULL)
			config = v;
		else if (strcmp(argv[a], "--version") == 0) {
			printf(PROG " %s\n", PACKAGE_VERSION);
			return EX_DONE;
		} else
			usage();
	}
	if (argc - a >= 2 && strcmp(argv[a], "secret") == 0) {
		if (config == NULL &&
		    (config = getenv("MICROCA_CONFIG")) == NULL)
			config = DEFAULT_CONFIG;
		if (strcmp(argv[a + 1], "keygen") == 0) {
			if (argc - a != 3)
				usage();
			if (mca_secret_keygen(argv[a + 2], &d) != 0)
				return fail("%s", d.msg);
			fprintf(stderr, PROG ": %s: new key file (mode 600); "
			    "set encryption_key_file_path to it\n",
			    argv[a + 2]);
			return EX_DONE;
		}
		if (strcmp(argv[a + 1], "encrypt") == 0)
			return secret_encrypt(config, argc - a - 2,
			    argv + a + 2);
		usage();
	}
	if (argc - a < 2 || strcmp(argv[a], "passcode") != 0)
		usage();
	if (strcmp(argv[a + 1], "add") != 0 &&
	    strcmp(argv[a + 1], "list") != 0 &&
	    strcmp(argv[a + 1], "revoke") != 0)
		usage();
	if (config == NULL && (config = getenv("MICROCA_CONFIG")) == NULL)
		config = DEFAULT_CONFIG;
	mca_log_open(PROG, 1, 0);

	mca_diag_clear(&d);
	if (mca_cfg_load(config, &cfg, &d) != 0)
		return fail("%s", d.msg);
	for (i = 0; i < cfg->nwarnings; i++)
		fprintf(stderr, PROG ": warning: %s\n", cfg->warnings[i]);
	if (strcmp(argv[a + 1], "add") == 0)
		rc = passcode_add(cfg, argc - a - 2, argv + a + 2);
	else if (strcmp(argv[a + 1], "list") == 0)
		rc = passcode_list(cfg, argc - a - 2, argv + a + 2);
	else
		rc = passcode_revoke(cfg, argc - a - 2, argv + a + 2);
	mca_cfg_free(cfg);
	mca_log_close();
	return rc;
}
