/*
 * microca-admin: the operator's tool for what lives in the ledger beside
 * certificates. For now, enrollment passcodes (lib/passcode.h):
 *
 *   microca-admin [--config PATH] passcode add --label L [--uses N]
 *       [--expires DURATION|TIME] [--comment TEXT]
 *   microca-admin [--config PATH] passcode list [--label L] [--all]
 *   microca-admin [--config PATH] passcode revoke ID
 *   microca-admin [--config PATH] azure status [--all]
 *   microca-admin [--config PATH] azure retry SERIAL|--all-failed
 *   microca-admin azure-sas --uri URI --key KEY|- [--policy NAME]
 *       --expiry EPOCH
 *   microca-admin [--config PATH] revoke SERIAL [--reason R]
 *       [--invalidity-date TIME] [--follow] [--by TEXT]
 *   microca-admin [--config PATH] unrevoke SERIAL [--by TEXT]
 *   microca-admin [--config PATH] list [--label L] [--expiring DAYS]
 *       [--revoked] [--subject GLOB] [--limit N]
 *   microca-admin [--config PATH] ledger verify [--from ID]
 *       [--expect-head HASH]
 *   microca-admin [--config PATH] ledger head
 *   microca-admin [--config PATH] crl [--force] [--dry-run]
 *
 * The passcode is printed once, by "add", and never again: the ledger
 * keeps only its scrypt hash. Exit status: 0 done, 1 failed (the message
 * says why), 2 usage.
 */
#include "config.h"

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
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "azure.h"
#include "certinfo.h"
#include "cfg.h"
#include "cli.h"
#include "crl.h"
#include "err.h"
#include "ledger.h"
#include "ledger_chain.h"
#include "lock.h"
#include "log.h"
#include "num.h"
#include "passcode.h"
#include "pem.h"
#include "revoke.h"
#include "secret.h"
#include "text.h"

#define PROG		"microca-admin"
#define DEF_USES	1
#define MAX_USES	1000000
#define DEF_EXPIRES	"7d"
#define MAX_DAYS	3650		/* no passcode outlives ten years */
#define ADD_TRIES	5		/* ID collisions: 40 bits, so rare */

enum exitcode {
	EX_DONE = MCA_EXIT_OK,
	EX_FAIL = MCA_EXIT_FAIL,
	EX_USAGE = MCA_EXIT_USAGE
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
	    "       " PROG " [--config PATH] azure status [--all]\n"
	    "       " PROG " [--config PATH] azure retry SERIAL|--all-failed\n"
	    "       " PROG " [--config PATH] secret encrypt [--key-file PATH] "
	    "NAME < value\n"
	    "       " PROG " secret keygen PATH\n"
	    "       " PROG " azure-sas --uri URI --key KEY|- "
	    "[--policy NAME] --expiry EPOCH\n"
	    "       " PROG " [--config PATH] revoke SERIAL [--reason REASON] "
	    "[--invalidity-date TIME] [--follow] [--by TEXT]\n"
	    "       " PROG " [--config PATH] unrevoke SERIAL [--by TEXT]\n"
	    "       " PROG " [--config PATH] list [--label LABEL] "
	    "[--expiring DAYS] [--revoked] [--subject GLOB] [--limit N]\n"
	    "       " PROG " [--config PATH] ledger verify [--from ID] "
	    "[--expect-head HASH]\n"
	    "       " PROG " [--config PATH] ledger head\n"
	    "       " PROG " [--config PATH] crl [--force] [--dry-run]\n"
	    "DURATION is a number and a unit, s m h d or w (default "
	    DEF_EXPIRES "); TIME is YYYY-MM-DDTHH:MM:SSZ.\n"
	    "REASON is an RFC 5280 CRLReason: unspecified (default), "
	    "keyCompromise,\n  cACompromise, affiliationChanged, superseded, "
	    "cessationOfOperation,\n  certificateHold, privilegeWithdrawn.\n");
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
 * --expires: a duration from now ("90m", "12h", "7d", "2w", "30s") or an
 * ISO 8601 UTC time (lib/cli.h). *at is the expiry. 0 or -1 with a
 * message printed.
 */
static int
parse_expires(const char *s, time_t now, time_t *at)
{
	struct mca_diag	 d;

	if (mca_cli_when(s, now, (long long)MAX_DAYS * 86400, at, &d) != 0) {
		fail("--expires %s: %s", s, d.msg);
		return -1;
	}
	return 0;
}

/*
 * The options of a subcommand by opts, then no operand: usage()
 * otherwise, with the reason. argv[0] is the subcommand's name.
 */
static void
sub_options(int argc, char *argv[], const struct mca_cli_opt *opts,
    mca_cli_opt_fn cb, void *arg)
{
	struct mca_diag	 d;
	int		 next;

	if (mca_cli_getopt(argc, argv, opts, cb, arg, &next, &d) != 0) {
		fail("passcode %s: %s", argv[0], d.msg);
		usage();
	}
	if (next < argc) {
		fail("passcode %s: unexpected argument \"%.64s\"", argv[0],
		    argv[next]);
		usage();
	}
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

	if (mca_cli_ledger_owner(cfg->ledger_db_path, PROG, NULL, &d) != 0)
		return fail("%s: ledger_db_path: %s", cfg->path, d.msg);
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

enum add_opt {
	ADD_LABEL = 1,
	ADD_USES,
	ADD_EXPIRES,
	ADD_COMMENT
};

static const struct mca_cli_opt add_opts[] = {
	{ "label", 1, ADD_LABEL },
	{ "uses", 1, ADD_USES },
	{ "expires", 1, ADD_EXPIRES },
	{ "comment", 1, ADD_COMMENT },
	{ NULL, 0, 0 }
};

struct add_args {
	const char	*label, *uses, *expires, *comment;
};

static int
add_opt(void *arg, int id, const char *val, struct mca_diag *d)
{
	struct add_args	*a = arg;

	(void)d;
	if (id == ADD_LABEL)
		a->label = val;
	else if (id == ADD_USES)
		a->uses = val;
	else if (id == ADD_EXPIRES)
		a->expires = val;
	else
		a->comment = val;
	return 0;
}

/* argv[0] is "add". */
static int
passcode_add(struct mca_cfg *cfg, int argc, char *argv[])
{
	const struct mca_profile	*p;
	struct mca_ledger_passcode	 row;
	struct mca_ledger		*l = NULL;
	struct mca_passcode		 pc;
	struct add_args			 args = { NULL, NULL, DEF_EXPIRES, NULL };
	const char			*label, *expires, *comment, *uses;
	char				 shown[MCA_PASSCODE_LEN + 1];
	long long			 n = DEF_USES;
	time_t				 now = time(NULL), at;
	int				 rc = EX_FAIL, tries;
	int				 lrc = MCA_ERR_INTERNAL;

	memset(&row, 0, sizeof(row));
	memset(&pc, 0, sizeof(pc));
	memset(shown, 0, sizeof(shown));
	sub_options(argc, argv, add_opts, add_opt, &args);
	label = args.label;
	uses = args.uses;
	expires = args.expires;
	comment = args.comment;
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

enum list_opt {
	LIST_LABEL = 1,
	LIST_ALL
};

static const struct mca_cli_opt list_opts[] = {
	{ "label", 1, LIST_LABEL },
	{ "all", 0, LIST_ALL },
	{ NULL, 0, 0 }
};

struct list_args {
	const char	*label;
	int		 all;
};

static int
list_opt(void *arg, int id, const char *val, struct mca_diag *d)
{
	struct list_args	*a = arg;

	(void)d;
	if (id == LIST_LABEL)
		a->label = val;
	else
		a->all = 1;
	return 0;
}

/* argv[0] is "list". */
static int
passcode_list(struct mca_cfg *cfg, int argc, char *argv[])
{
	struct mca_ledger	*l = NULL;
	struct list_ctx		 c;
	struct list_args	 args = { NULL, 0 };
	const char		*label;
	int			 i, all, rc;

	memset(&c, 0, sizeof(c));
	sub_options(argc, argv, list_opts, list_opt, &args);
	label = args.label;
	all = args.all;
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

/* argv[0] is "revoke", argv[1] the ID. */
static int
passcode_revoke(struct mca_cfg *cfg, int argc, char *argv[])
{
	struct mca_ledger	*l = NULL;
	char			 id[MCA_PASSCODE_ID_LEN + 1];
	int			 rc, already = 0;

	if (argc != 2)
		usage();
	argv++;
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

static const struct mca_cli_opt secret_opts[] = {
	{ "key-file", 1, 1 },
	{ NULL, 0, 0 }
};

static int
secret_opt(void *arg, int id, const char *val, struct mca_diag *d)
{
	(void)id;
	(void)d;
	*(const char **)arg = val;
	return 0;
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
	const char		*kf = NULL, *name;
	char			 line[MCA_SECRET_PLAIN_MAX + 2], *enc = NULL;
	size_t			 len;
	int			 next, rc = EX_FAIL, c;

	memset(&key, 0, sizeof(key));
	memset(line, 0, sizeof(line));
	/* argv[0] is "encrypt": [--key-file PATH] NAME */
	if (mca_cli_getopt(argc, argv, secret_opts, secret_opt, &kf, &next,
	    &d) != 0) {
		fail("secret encrypt: %s", d.msg);
		usage();
	}
	if (next != argc - 1)
		usage();
	name = argv[next];
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

/* ---- the Azure IoT Hub sync queue (lib/ledger.h, microca-azsync(8)) */

static int
flag_opt(void *arg, int id, const char *val, struct mca_diag *d)
{
	(void)id;
	(void)val;
	(void)d;
	*(int *)arg = 1;
	return 0;
}

static const struct mca_cli_opt azstatus_opts[] = {
	{ "all", 0, 1 },
	{ NULL, 0, 0 }
};

static const struct mca_cli_opt azretry_opts[] = {
	{ "all-failed", 0, 1 },
	{ NULL, 0, 0 }
};

/* The subject CN of the certificate pem into out, or "-". */
static void
pem_cn(const char *pem, char *out, size_t outlen)
{
	X509	*x = NULL;

	(void)snprintf(out, outlen, "-");
	if (pem == NULL || mca_pem_parse_cert(pem, strlen(pem), &x) != 0)
		return;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, out, (int)outlen) <= 0)
		(void)snprintf(out, outlen, "-");
	X509_free(x);
}

struct azlist_ctx {
	size_t		 n;
};

/*
 * Prints s as print_clean() does, then spaces up to width columns and
 * two more: a column of the status table (a longer value shifts the
 * rest of its line).
 */
static void
print_col(const char *s, size_t width)
{
	size_t	 n = strlen(s);

	print_clean(s);
	printf("%*s", (int)(n < width ? width - n + 2 : 2), "");
}

static int
azlist_one(void *arg, const struct mca_ledger_azstatus *s)
{
	struct azlist_ctx	*c = arg;
	char			 cn[256], next[MCA_TIME_MAX], status[24];

	if (c->n++ == 0)
		printf("%-40s  %-16s  %-24s  %-7s  %8s  %-20s  %-11s  %s\n",
		    "SERIAL", "LABEL", "CN", "STATE", "ATTEMPTS",
		    "NEXT ATTEMPT (UTC)", "LAST STATUS", "LAST ERROR");
	pem_cn(s->pem, cn, sizeof(cn));
	/* Failed and synced rows have no next attempt of their own. */
	if (strcmp(s->state, "pending") != 0)
		(void)snprintf(next, sizeof(next), "-");
	else if (s->next_attempt <= 0 ||
	    mca_time_iso((time_t)s->next_attempt, next, sizeof(next)) != 0)
		(void)snprintf(next, sizeof(next), "next run");
	if (s->last_status > 0)
		(void)snprintf(status, sizeof(status), "%ld", s->last_status);
	else
		(void)snprintf(status, sizeof(status), "-");
	print_col(s->serial, 40);
	print_col(s->label[0] != '\0' ? s->label : "-", 16);
	print_col(cn, 24);
	printf("%-7s  %8d  %-20s  %-11s  ", s->state, s->attempts, next,
	    status);
	print_clean(s->last_error[0] != '\0' ? s->last_error : "-");
	putchar('\n');
	return 0;
}

/* azure status [--all]; argv[0] is "status". */
static int
azure_status(struct mca_cfg *cfg, int argc, char *argv[])
{
	struct mca_ledger	*l = NULL;
	struct azlist_ctx	 c;
	struct mca_diag		 d;
	int			 all = 0, next, rc, lrc;

	memset(&c, 0, sizeof(c));
	if (mca_cli_getopt(argc, argv, azstatus_opts, flag_opt, &all, &next,
	    &d) != 0) {
		fail("azure status: %s", d.msg);
		usage();
	}
	if (next < argc) {
		fail("azure status: unexpected argument \"%.64s\"",
		    argv[next]);
		usage();
	}
	if ((rc = open_ledger(cfg, &l)) != 0)
		return rc;
	if ((lrc = mca_ledger_azure_list(l, all, azlist_one, &c, &d)) != 0)
		rc = fail("%s: cannot list the Azure IoT Hub sync queue: %s",
		    cfg->ledger_db_path, d.msg);
	else if (c.n == 0)
		fprintf(stderr, PROG ": no %sAzure IoT Hub syncs in the "
		    "ledger\n", all ? "" : "pending or failed ");
	mca_ledger_close(l);
	if (rc == 0 && fflush(stdout) != 0)
		rc = EX_FAIL;
	return rc;
}

/* azure retry SERIAL|--all-failed; argv[0] is "retry". */
static int
azure_retry(struct mca_cfg *cfg, int argc, char *argv[])
{
	struct mca_ledger	*l = NULL;
	struct mca_diag		 d;
	char			 serial[MCA_REVOKE_SERIAL_MAX + 2];
	size_t			 n = 0;
	int			 allfailed = 0, next, rc, lrc;

	if (mca_cli_getopt(argc, argv, azretry_opts, flag_opt, &allfailed,
	    &next, &d) != 0) {
		fail("azure retry: %s", d.msg);
		usage();
	}
	if (allfailed ? next != argc : next != argc - 1) {
		fail("azure retry: give one serial or --all-failed");
		usage();
	}
	/* The ledger's spelling, as for revoke (an odd count padded). */
	if (!allfailed && mca_revoke_serial_norm(argv[next], serial,
	    sizeof(serial), &d) != 0)
		return fail("azure retry: \"%.64s\" is not a certificate "
		    "serial (%s)", argv[next], d.msg);
	if ((rc = open_ledger(cfg, &l)) != 0)
		return rc;
	lrc = mca_ledger_azure_retry(l, allfailed ? NULL : serial,
	    (long long)time(NULL), &n, &d);
	if (lrc == MCA_ERR_NOTFOUND)
		rc = fail("no certificate with serial %s in %s", serial,
		    cfg->ledger_db_path);
	else if (lrc != 0)
		rc = fail("%s: %s", cfg->ledger_db_path, d.msg);
	mca_ledger_close(l);
	if (rc != 0)
		return rc;
	if (allfailed)
		printf("%zu failed Azure IoT Hub sync%s queued again\n", n,
		    n == 1 ? "" : "s");
	else
		printf("certificate %s queued for Azure IoT Hub again\n",
		    serial);
	if (n > 0)
		fprintf(stderr, PROG ": the next run of microca-azsync "
		    "takes %s\n", n == 1 ? "it" : "them");
	return fflush(stdout) == 0 ? EX_DONE : EX_FAIL;
}

/*
 * azure status|retry: argv[0] is "azure". Loads the configuration
 * config names (NULL: the default) for the ledger.
 */
static int
azure(const char *config, int argc, char *argv[])
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	size_t		 i;
	int		 rc;

	if (argc < 2 || (strcmp(argv[1], "status") != 0 &&
	    strcmp(argv[1], "retry") != 0))
		usage();
	mca_log_open(PROG, 1, 0);
	mca_diag_clear(&d);
	if (mca_cfg_load(config, &cfg, &d) != 0) {
		rc = fail("%s", d.msg);
		goto out;
	}
	for (i = 0; i < cfg->nwarnings; i++)
		fprintf(stderr, PROG ": warning: %s\n", cfg->warnings[i]);
	if (strcmp(argv[1], "status") == 0)
		rc = azure_status(cfg, argc - 1, argv + 1);
	else
		rc = azure_retry(cfg, argc - 1, argv + 1);
out:
	mca_cfg_free(cfg);
	mca_log_close();
	return rc;
}

/* ---- revocation (lib/revoke.h, issue 16) */

#define LIST_LIMIT	1000		/* rows "list" shows by default */
#define LIST_LIMIT_MAX	1000000
#define EXPIRING_MAX	36500		/* days: a hundred years */
#define GLOB_MAX	1024		/* bytes of --subject */

/*
 * SERIAL and the options of a subcommand by opts, in either order
 * ("revoke 0E --follow", "revoke --follow 0E"); argv[0] is the
 * subcommand's name. The serial goes through mca_revoke_serial_norm()
 * into serial. usage() on bad usage; EX_FAIL for a serial that is not
 * one, with a message; 0 otherwise.
 */
static int
serial_options(int argc, char *argv[], const struct mca_cli_opt *opts,
    mca_cli_opt_fn cb, void *arg, char *serial, size_t serialsz)
{
	struct mca_diag	 d;
	const char	*name = argv[0];
	int		 next, more;

	if (mca_cli_getopt(argc, argv, opts, cb, arg, &next, &d) != 0) {
		fail("%s: %s", name, d.msg);
		usage();
	}
	if (next >= argc) {
		fail("%s: give the serial of a certificate", name);
		usage();
	}
	/* The options after it: the serial stands where the name was. */
	if (mca_cli_getopt(argc - next, argv + next, opts, cb, arg, &more,
	    &d) != 0) {
		fail("%s: %s", name, d.msg);
		usage();
	}
	if (more < argc - next) {
		fail("%s: unexpected argument \"%.64s\"", name,
		    argv[next + more]);
		usage();
	}
	if (mca_revoke_serial_norm(argv[next], serial, serialsz, &d) != 0)
		return fail("%s: \"%.64s\": %s (as \"list\" or openssl x509 "
		    "-serial shows it)", name, argv[next], d.msg);
	return 0;
}

/* Who: the Unix user, and what --by said, for revoked_by. */
static int
revoked_by(const char *name, const char *by, char *out, size_t outlen)
{
	char	 user[128];

	whoami(user, sizeof(user));
	if (by == NULL) {
		(void)snprintf(out, outlen, "%s", user);
		return 0;
	}
	if (*by == '\0' || mca_text_ctl_span(by, strlen(by), 0) <
	    strlen(by) || strlen(user) + strlen(by) + 3 > MCA_REVOKE_BY_MAX)
		return fail("%s: --by: one line of text, at most %zu bytes",
		    name, (size_t)MCA_REVOKE_BY_MAX - strlen(user) - 3);
	/* The length was checked above; a short buffer is a bug. */
	if ((size_t)snprintf(out, outlen, "%s (%s)", user, by) >= outlen)
		return fail("%s: --by: too long", name);
	return 0;
}

enum rv_opt {
	RV_REASON = 1,
	RV_INVALIDITY,
	RV_FOLLOW,
	RV_BY
};

static const struct mca_cli_opt revoke_opts[] = {
	{ "reason", 1, RV_REASON },
	{ "invalidity-date", 1, RV_INVALIDITY },
	{ "follow", 0, RV_FOLLOW },
	{ "by", 1, RV_BY },
	{ NULL, 0, 0 }
};

static const struct mca_cli_opt unrevoke_opts[] = {
	{ "by", 1, RV_BY },
	{ NULL, 0, 0 }
};

struct rv_args {
	const char	*reason, *invalidity, *by;
	int		 follow;
};

static int
rv_opt(void *arg, int id, const char *val, struct mca_diag *d)
{
	struct rv_args	*a = arg;

	(void)d;
	if (id == RV_REASON)
		a->reason = val;
	else if (id == RV_INVALIDITY)
		a->invalidity = val;
	else if (id == RV_FOLLOW)
		a->follow = 1;
	else
		a->by = val;
	return 0;
}

/* The serials given a row, printed once they are committed. */
struct rv_done {
	char	*s;
	size_t	 len, cap;
};

static int
rv_done_one(void *arg, const char *serial)
{
	struct rv_done	*c = arg;
	size_t		 n = strlen(serial) + 1;
	char		*ns;

	if (c->len + n + 1 > c->cap) {
		c->cap = (c->len + n + 1) * 2;
		if ((ns = realloc(c->s, c->cap)) == NULL)
			return MCA_ERR_NOMEM;
		c->s = ns;
	}
	memcpy(c->s + c->len, serial, n);	/* NUL-separated */
	c->len += n;
	return 0;
}

/* revoke SERIAL ...; argv[0] is "revoke". */
static int
revoke_cmd(struct mca_cfg *cfg, int argc, char *argv[])
{
	struct mca_revoke_req	 r;
	struct mca_ledger	*l = NULL;
	struct rv_args		 a;
	struct rv_done		 done;
	struct mca_diag		 d;
	char			 serial[MCA_REVOKE_SERIAL_MAX + 1];
	char			 inv[MCA_REVOKE_TIME_LEN];
	char			 by[MCA_REVOKE_BY_MAX + 1];
	const char		*p;
	size_t			 n = 0;
	int			 rc, lrc;

	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	memset(&done, 0, sizeof(done));
	if ((rc = serial_options(argc, argv, revoke_opts, rv_opt, &a, serial,
	    sizeof(serial))) != 0)
		return rc;
	r.serial = serial;
	r.follow = a.follow;
	r.reason = MCA_REVOKE_UNSPECIFIED;
	if (a.reason != NULL && !mca_revoke_reason_revocable(r.reason =
	    mca_revoke_reason_code(a.reason)))
		return fail("revoke: --reason %.32s: not a reason to revoke "
		    "with; one of unspecified, keyCompromise, cACompromise, "
		    "affiliationChanged, superseded, cessationOfOperation, "
		    "certificateHold, privilegeWithdrawn (RFC 5280 5.3.1)",
		    a.reason);
	if (a.invalidity != NULL) {
		if (mca_revoke_time_norm(a.invalidity, inv, sizeof(inv)) != 0)
			return fail("revoke: --invalidity-date %.32s: expected "
			    "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (a UTC time "
			    "that exists)", a.invalidity);
		r.invalidity_date = inv;
	}
	if ((rc = revoked_by("revoke", a.by, by, sizeof(by))) != 0)
		return rc;
	r.by = by;
	if ((rc = open_ledger(cfg, &l)) != 0)
		return rc;
	lrc = mca_revoke_cert(l, &r, rv_done_one, &done, &n, &d);
	if (lrc == MCA_ERR_NOTFOUND || lrc == MCA_ERR_EXISTS ||
	    lrc == MCA_ERR_INVAL)
		rc = fail("revoke: %s", d.msg);
	else if (lrc == MCA_ERR_NOMEM)
		rc = fail("revoke: out of memory");
	else if (lrc != 0)
		rc = fail("%s: cannot revoke %s: %s", cfg->ledger_db_path,
		    serial, d.msg);
	mca_ledger_close(l);
	if (rc == 0) {
		for (p = done.s; p != NULL && p < done.s + done.len;
		    p += strlen(p) + 1)
			printf("revoked %s (%s)\n", p,
			    mca_revoke_reason_name(r.reason));
		if (r.follow)
			printf("%zu certificate%s of the renewal chain of %s "
			    "revoked\n", n, n == 1 ? "" : "s", serial);
		rc = fflush(stdout) == 0 ? EX_DONE : EX_FAIL;
	}
	free(done.s);
	return rc;
}

/* unrevoke SERIAL [--by TEXT]; argv[0] is "unrevoke". */
static int
unrevoke_cmd(struct mca_cfg *cfg, int argc, char *argv[])
{
	struct mca_ledger	*l = NULL;
	struct rv_args		 a;
	struct mca_diag		 d;
	char			 serial[MCA_REVOKE_SERIAL_MAX + 1];
	char			 by[MCA_REVOKE_BY_MAX + 1];
	int			 rc, lrc;

	memset(&a, 0, sizeof(a));
	if ((rc = serial_options(argc, argv, unrevoke_opts, rv_opt, &a,
	    serial, sizeof(serial))) != 0)
		return rc;
	if ((rc = revoked_by("unrevoke", a.by, by, sizeof(by))) != 0)
		return rc;
	if ((rc = open_ledger(cfg, &l)) != 0)
		return rc;
	lrc = mca_revoke_unrevoke(l, serial, by, &d);
	if (lrc == MCA_ERR_NOTFOUND || lrc == MCA_ERR_POLICY)
		rc = fail("unrevoke: %s", d.msg);
	else if (lrc != 0)
		rc = fail("%s: cannot unrevoke %s: %s", cfg->ledger_db_path,
		    serial, d.msg);
	mca_ledger_close(l);
	if (rc != 0)
		return rc;
	printf("certificate %s released from hold\n", serial);
	return fflush(stdout) == 0 ? EX_DONE : EX_FAIL;
}

enum ls_opt {
	LS_LABEL = 1,
	LS_EXPIRING,
	LS_REVOKED,
	LS_SUBJECT,
	LS_LIMIT
};

static const struct mca_cli_opt ls_opts[] = {
	{ "label", 1, LS_LABEL },
	{ "expiring", 1, LS_EXPIRING },
	{ "revoked", 0, LS_REVOKED },
	{ "subject", 1, LS_SUBJECT },
	{ "limit", 1, LS_LIMIT },
	{ NULL, 0, 0 }
};

struct ls_args {
	const char	*label, *expiring, *subject, *limit;
	int		 revoked;
};

static int
ls_opt(void *arg, int id, const char *val, struct mca_diag *d)
{
	struct ls_args	*a = arg;

	(void)d;
	if (id == LS_LABEL)
		a->label = val;
	else if (id == LS_EXPIRING)
		a->expiring = val;
	else if (id == LS_REVOKED)
		a->revoked = 1;
	else if (id == LS_SUBJECT)
		a->subject = val;
	else
		a->limit = val;
	return 0;
}

static int
ls_one(void *arg, const struct mca_revoke_row *r)
{
	size_t	*n = arg;
	char	 state[64];

	if ((*n)++ == 0)
		printf("%-40s  %-20s  %-30s  %-16s  %s\n", "SERIAL",
		    "NOT AFTER", "SUBJECT", "LABEL", "STATE");
	if (r->reason >= 0)
		(void)snprintf(state, sizeof(state), "%s(%s)", r->state,
		    mca_revoke_reason_name(r->reason));
	else
		(void)snprintf(state, sizeof(state), "%s", r->state);
	print_col(r->serial, 40);
	print_col(r->not_after, 20);
	print_col(r->subject, 30);
	print_col(r->label[0] != '\0' ? r->label : "-", 16);
	printf("%s\n", state);
	return 0;
}

/* list [filters]; argv[0] is "list". */
static int
list_cmd(struct mca_cfg *cfg, int argc, char *argv[])
{
	struct mca_revoke_filter	 f;
	struct mca_ledger		*l = NULL;
	struct ls_args			 a;
	struct mca_diag			 d;
	size_t				 n = 0;
	int				 next, more = 0, rc, lrc;

	memset(&a, 0, sizeof(a));
	memset(&f, 0, sizeof(f));
	if (mca_cli_getopt(argc, argv, ls_opts, ls_opt, &a, &next, &d) != 0) {
		fail("list: %s", d.msg);
		usage();
	}
	if (next < argc) {
		fail("list: unexpected argument \"%.64s\"", argv[next]);
		usage();
	}
	f.label = a.label;
	f.revoked_only = a.revoked;
	f.expiring_days = -1;
	f.limit = LIST_LIMIT;
	if (a.expiring != NULL && mca_num_parse(a.expiring,
	    strlen(a.expiring), 0, EXPIRING_MAX, &f.expiring_days) != 0)
		return fail("list: --expiring %.32s: expected a whole number "
		    "of days from 0 to %d", a.expiring, EXPIRING_MAX);
	if (a.limit != NULL && mca_num_parse(a.limit, strlen(a.limit), 1,
	    LIST_LIMIT_MAX, &f.limit) != 0)
		return fail("list: --limit %.32s: expected a whole number "
		    "from 1 to %d", a.limit, LIST_LIMIT_MAX);
	if (a.subject != NULL && (*a.subject == '\0' ||
	    strlen(a.subject) > GLOB_MAX))
		return fail("list: --subject: a pattern of 1 to %d bytes",
		    GLOB_MAX);
	f.subject_glob = a.subject;
	if (a.label != NULL && mca_cfg_profile(cfg, a.label) == NULL)
		fprintf(stderr, PROG ": note: label \"%s\" is not in %s\n",
		    a.label, cfg->path);
	if ((rc = open_ledger(cfg, &l)) != 0)
		return rc;
	if ((lrc = mca_revoke_list(l, &f, ls_one, &n, &more, &d)) != 0)
		rc = fail("%s: cannot list certificates: %s",
		    cfg->ledger_db_path, d.msg);
	else if (n == 0)
		fprintf(stderr, PROG ": no certificates match\n");
	else if (more)
		fprintf(stderr, PROG ": more certificates match than the %lld "
		    "shown (--limit, or a filter)\n", f.limit);
	mca_ledger_close(l);
	if (rc == 0 && fflush(stdout) != 0)
		rc = EX_FAIL;
	return rc;
}

/*
 * revoke|unrevoke|list: argv[0] is the subcommand. Loads the
 * configuration config names (NULL: the default) for the ledger.
 */
static int
revocation(const char *config, int argc, char *argv[])
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	size_t		 i;
	int		 rc;

	mca_log_open(PROG, 1, 0);
	mca_diag_clear(&d);
	if (mca_cfg_load(config, &cfg, &d) != 0) {
		rc = fail("%s", d.msg);
		goto out;
	}
	for (i = 0; i < cfg->nwarnings; i++)
		fprintf(stderr, PROG ": warning: %s\n", cfg->warnings[i]);
	if (strcmp(argv[0], "revoke") == 0)
		rc = revoke_cmd(cfg, argc, argv);
	else if (strcmp(argv[0], "unrevoke") == 0)
		rc = unrevoke_cmd(cfg, argc, argv);
	else
		rc = list_cmd(cfg, argc, argv);
out:
	mca_cfg_free(cfg);
	mca_log_close();
	return rc;
}

/* ---- azure-sas: a SAS token for trying a hub's credentials */

enum sas_opt {
	SAS_URI = 1,
	SAS_KEY,
	SAS_POLICY,
	SAS_EXPIRY
};

static const struct mca_cli_opt sas_opts[] = {
	{ "uri", 1, SAS_URI },
	{ "key", 1, SAS_KEY },
	{ "policy", 1, SAS_POLICY },
	{ "expiry", 1, SAS_EXPIRY },
	{ NULL, 0, 0 }
};

struct sas_args {
	const char	*uri, *key, *policy, *expiry;
};

static int
sas_opt(void *arg, int id, const char *val, struct mca_diag *d)
{
	struct sas_args	*a = arg;

	(void)d;
	if (id == SAS_URI)
		a->uri = val;
	else if (id == SAS_KEY)
		a->key = val;
	else if (id == SAS_POLICY)
		a->policy = val;
	else
		a->expiry = val;
	return 0;
}

/* The longest key read from standard input (base64 of 768 bytes). */
#define SAS_KEY_MAX	1024

/*
 * azure-sas: prints the SAS token for --uri signed with --key (base64,
 * as the hub's shared access policy shows it; "-": one line of standard
 * input, so that it stays out of ps) under --policy, expiring at --expiry
 * (Unix seconds). argv[0] is "azure-sas".
 */
static int
azure_sas(int argc, char *argv[])
{
	struct sas_args	 a = { NULL, NULL, NULL, NULL };
	struct mca_diag	 d;
	char		 line[SAS_KEY_MAX + 2], *tok = NULL;
	const char	*key;
	long long	 expiry;
	size_t		 len;
	int		 c, rc = EX_FAIL;

	memset(line, 0, sizeof(line));
	if (mca_cli_getopt(argc, argv, sas_opts, sas_opt, &a, &c, &d) != 0) {
		fail("azure-sas: %s", d.msg);
		usage();
	}
	if (c < argc) {
		fail("azure-sas: unexpected argument \"%.64s\"", argv[c]);
		usage();
	}
	if (a.uri == NULL || a.key == NULL || a.expiry == NULL) {
		fail("azure-sas: --uri, --key and --expiry are required");
		usage();
	}
	if (mca_num_parse(a.expiry, strlen(a.expiry), 1, MCA_AZ_EXPIRY_MAX,
	    &expiry) != 0)
		return fail("azure-sas: --expiry %.32s: expected a Unix time "
		    "in seconds, from 1 to %lld", a.expiry, MCA_AZ_EXPIRY_MAX);
	key = a.key;
	if (strcmp(a.key, "-") == 0) {
		for (len = 0; (c = getchar()) != EOF && c != '\n'; ) {
			if (len >= SAS_KEY_MAX) {
				rc = fail("azure-sas: the key on standard "
				    "input is longer than %d bytes",
				    SAS_KEY_MAX);
				goto out;
			}
			line[len++] = (char)c;
		}
		if (len > 0 && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		if (len == 0) {
			rc = fail("azure-sas: --key -: standard input holds no "
			    "key");
			goto out;
		}
		if (c == '\n' && getchar() != EOF) {
			rc = fail("azure-sas: --key -: standard input holds "
			    "more than one line");
			goto out;
		}
		key = line;
	}
	if (mca_az_sas(a.uri, key, a.policy, expiry, &tok, &d) != 0) {
		rc = fail("azure-sas: %s", d.msg);
		goto out;
	}
	printf("%s\n", tok);
	rc = fflush(stdout) == 0 ? EX_DONE : EX_FAIL;
out:
	OPENSSL_cleanse(line, sizeof(line));
	if (tok != NULL) {
		OPENSSL_cleanse(tok, strlen(tok));
		free(tok);
	}
	return rc;
}

/* ---- crl: microca-crl's run, once, now */

enum crl_opt {
	CRL_FORCE = 1,
	CRL_DRYRUN
};

static const struct mca_cli_opt crl_opts[] = {
	{ "force", 0, CRL_FORCE },
	{ "dry-run", 0, CRL_DRYRUN },
	{ NULL, 0, 0 }
};

static int
crl_opt(void *arg, int id, const char *val, struct mca_diag *d)
{
	struct mca_crl_opts	*o = arg;

	(void)val;
	(void)d;
	if (id == CRL_FORCE)
		o->force = 1;
	else
		o->dry_run = 1;
	return 0;
}

/* Each CA's outcome, one line on standard output. */
static void
crl_report(void *arg, const struct mca_crl_event *ev)
{
	char	 next[MCA_TIME_MAX];

	(void)arg;
	if (mca_time_iso(ev->next_update, next, sizeof(next)) != 0)
		(void)snprintf(next, sizeof(next), "?");
	switch (ev->outcome) {
	case MCA_CRL_WRITTEN:
	case MCA_CRL_WOULD:
		printf("%s %s%s: number %lld, %zu revoked, next update %s "
		    "(%s)\n", ev->outcome == MCA_CRL_WRITTEN ? "wrote" :
		    "would write", ev->name, ev->active ? " (" MCA_CRL_ACTIVE
		    ")" : "", ev->number, ev->entries, next, ev->why);
		break;
	case MCA_CRL_CURRENT:
		printf("%s%s: current (%s), next update %s\n", ev->name,
		    ev->active ? " (" MCA_CRL_ACTIVE ")" : "", ev->why, next);
		break;
	case MCA_CRL_SKIPPED:
		break;
	default:
		(void)fail("CRL %s: %s", ev->name, ev->why);
		break;
	}
}

/*
 * crl: argv[0] is "crl". The same as a microca-crl run (lib/crl.h),
 * under its lock, with --force for every CRL.
 */
static int
crl(const char *config, int argc, char *argv[])
{
	struct mca_cfg		*cfg = NULL;
	struct mca_ledger	*l = NULL;
	struct mca_lock		*lock = NULL;
	struct mca_crl_opts	 o;
	struct mca_crl_stats	 st;
	struct mca_diag		 d;
	size_t			 i;
	int			 rc = EX_FAIL, src;

	memset(&o, 0, sizeof(o));
	sub_options(argc, argv, crl_opts, crl_opt, &o);
	mca_log_open(PROG, 1, 0);
	mca_diag_clear(&d);
	if (mca_cfg_load(config, &cfg, &d) != 0) {
		rc = fail("%s", d.msg);
		goto out;
	}
	for (i = 0; i < cfg->nwarnings; i++)
		fprintf(stderr, PROG ": warning: %s\n", cfg->warnings[i]);
	/* microca-crl's lock: one writer of crl_dir at a time. */
	if (!o.dry_run && (src = mca_lock_beside(cfg->path,
	    cfg->ledger_db_path, "microca-crl", &lock, &d)) != 0) {
		rc = fail("%s", d.msg);
		if (src == MCA_ERR_BUSY)
			rc = MCA_EXIT_LOCKED;
		goto out;
	}
	if (open_ledger(cfg, &l) != 0)
		goto out;
	o.dir = cfg->crl_dir;
	o.hours = cfg->crl_validity_hours;
	o.now = time(NULL);
	if (mca_crl_run(cfg, l, &o, crl_report, NULL, &st, &d) != 0) {
		rc = fail("%s", d.msg);
		goto out;
	}
	rc = st.failed > 0 ? EX_FAIL : EX_DONE;
out:
	mca_cfg_free(cfg);
	mca_ledger_close(l);
	mca_lock_release(lock);
	mca_log_close();
	return rc;
}

/* ---- the ledger's chain (lib/ledger_chain.h) */

enum verify_opt {
	VERIFY_FROM = 1,
	VERIFY_EXPECT
};

static const struct mca_cli_opt verify_opts[] = {
	{ "from", 1, VERIFY_FROM },
	{ "expect-head", 1, VERIFY_EXPECT },
	{ NULL, 0, 0 }
};

static int
verify_opt(void *arg, int id, const char *val, struct mca_diag *d)
{
	struct mca_chain_verify	*o = arg;

	if (id == VERIFY_FROM) {
		if (mca_num_parse(val, strlen(val), 1, LLONG_MAX,
		    &o->from) != 0)
			return mca_diag(d, MCA_ERR_INVAL, "--from \"%.64s\": "
			    "not a chain row number (1 or more)", val);
	} else
		o->expect_head = val;
	return 0;
}

/* ledger verify [--from ID] [--expect-head HASH]; argv[0] is "verify". */
static int
ledger_verify(struct mca_cfg *cfg, struct mca_ledger *l, int argc,
    char *argv[])
{
	struct mca_chain_verify	 o;
	struct mca_chain_report	 r;
	struct mca_diag		 d;
	int			 next, lrc;

	memset(&o, 0, sizeof(o));
	if (mca_cli_getopt(argc, argv, verify_opts, verify_opt, &o, &next,
	    &d) != 0) {
		fail("ledger verify: %s", d.msg);
		usage();
	}
	if (next < argc) {
		fail("ledger verify: unexpected argument \"%.64s\"",
		    argv[next]);
		usage();
	}
	o.issued_dir = cfg->issued_certs_dir;
	if ((lrc = mca_ledger_chain_verify(l, &o, &r)) != 0)
		return fail("%s: ledger verify: %s", cfg->ledger_db_path,
		    mca_ledger_errmsg(l, lrc));
	if (r.broken) {
		if (r.bad_table[0] == '\0')
			return fail("%s: ledger verify: %s",
			    cfg->ledger_db_path, r.what);
		return fail("%s: ledger verify: chain row %lld: %s id %lld "
		    "serial %s: %s", cfg->ledger_db_path, r.bad_seq,
		    r.bad_table, r.bad_id, r.bad_serial[0] != '\0' ?
		    r.bad_serial : "-", r.what);
	}
	printf("%lld rows verified, head %s\n", r.rows, r.head);
	fprintf(stderr, PROG ": %lld IssuedCerts file%s compared\n",
	    r.files, r.files == 1 ? "" : "s");
	return fflush(stdout) == 0 ? EX_DONE : EX_FAIL;
}

/* ledger verify|head: argv[0] is "ledger". */
static int
ledger(const char *config, int argc, char *argv[])
{
	struct mca_cfg		*cfg = NULL;
	struct mca_ledger	*l = NULL;
	struct mca_diag		 d;
	char			 head[MCA_CHAIN_HEX_MAX];
	long long		 seq;
	size_t			 i;
	int			 rc, lrc;

	if (argc < 2 || (strcmp(argv[1], "verify") != 0 &&
	    strcmp(argv[1], "head") != 0) ||
	    (strcmp(argv[1], "head") == 0 && argc != 2))
		usage();
	mca_log_open(PROG, 1, 0);
	mca_diag_clear(&d);
	if (mca_cfg_load(config, &cfg, &d) != 0) {
		rc = fail("%s", d.msg);
		goto out;
	}
	for (i = 0; i < cfg->nwarnings; i++)
		fprintf(stderr, PROG ": warning: %s\n", cfg->warnings[i]);
	if ((rc = open_ledger(cfg, &l)) != 0)
		goto out;
	if (strcmp(argv[1], "verify") == 0)
		rc = ledger_verify(cfg, l, argc - 1, argv + 1);
	else if ((lrc = mca_ledger_chain_head(l, head, sizeof(head),
	    &seq)) != 0)
		rc = fail("%s: ledger head: %s", cfg->ledger_db_path,
		    mca_ledger_errmsg(l, lrc));
	else {
		printf("%s\n", head);
		rc = fflush(stdout) == 0 ? EX_DONE : EX_FAIL;
	}
out:
	mca_ledger_close(l);
	mca_cfg_free(cfg);
	mca_log_close();
	return rc;
}

int
main(int argc, char *argv[])
{
	struct mca_cfg	*cfg = NULL;
	struct mca_cli	 cli;
	struct mca_diag	 d;
	const char	*sub;
	size_t		 i;
	int		 a, rc;

	if (mca_cli_parse(argc, argv, MCA_CLI_F_CONFIG | MCA_CLI_F_VERSION |
	    MCA_CLI_F_OPERANDS, &cli, &d) != 0) {
		fail("%s", d.msg);
		usage();
	}
	if (cli.version) {
		printf(PROG " %s\n", PACKAGE_VERSION);
		return EX_DONE;
	}
	a = cli.argi;
	if (argc - a >= 1 && strcmp(argv[a], "azure-sas") == 0)
		return azure_sas(argc - a, argv + a);
	if (argc - a >= 2 && strcmp(argv[a], "secret") == 0) {
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
			return secret_encrypt(cli.config, argc - a - 1,
			    argv + a + 1);
		usage();
	}
	if (argc - a >= 1 && strcmp(argv[a], "azure") == 0)
		return azure(cli.config, argc - a, argv + a);
	if (argc - a >= 1 && (strcmp(argv[a], "revoke") == 0 ||
	    strcmp(argv[a], "unrevoke") == 0 || strcmp(argv[a], "list") == 0))
		return revocation(cli.config, argc - a, argv + a);
	if (argc - a >= 1 && strcmp(argv[a], "crl") == 0)
		return crl(cli.config, argc - a, argv + a);
	if (argc - a >= 1 && strcmp(argv[a], "ledger") == 0)
		return ledger(cli.config, argc - a, argv + a);
	if (argc - a < 2 || strcmp(argv[a], "passcode") != 0)
		usage();
	sub = argv[a + 1];
	if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "revoke") != 0)
		usage();
	mca_log_open(PROG, 1, 0);

	mca_diag_clear(&d);
	if (mca_cfg_load(cli.config, &cfg, &d) != 0)
		return fail("%s", d.msg);
	for (i = 0; i < cfg->nwarnings; i++)
		fprintf(stderr, PROG ": warning: %s\n", cfg->warnings[i]);
	/* Each subcommand is given its own name as argv[0]. */
	if (strcmp(sub, "add") == 0)
		rc = passcode_add(cfg, argc - a - 1, argv + a + 1);
	else if (strcmp(sub, "list") == 0)
		rc = passcode_list(cfg, argc - a - 1, argv + a + 1);
	else
		rc = passcode_revoke(cfg, argc - a - 1, argv + a + 1);
	mca_cfg_free(cfg);
	mca_log_close();
	return rc;
}
