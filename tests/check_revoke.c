/*
 * Revocation in the ledger (lib/revoke.c, sql/migrations/0010-
 * revocations.sql): every RFC 5280 reason, a second revocation refused
 * with nothing written, a hold made final, --follow both ways over a
 * renewal chain four deep (and a grace renewal beside it), unrevoke of
 * a hold only, unknown serials, the list filters and states, the CRL's
 * per-issuer list, serial spelling, and renewals and enrollments of a
 * revoked certificate refused by the ledger. The test reads the file
 * through its own SQLite connection too, as an auditor would.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <sqlite3.h>

#include "certinfo.h"
#include "err.h"
#include "ledger.h"
#include "revoke.h"
#include "testutil.h"

#define ISSUER	"CN=microca Test Issuing CA,O=microca"
#define ISSUER2	"CN=microca Other CA,O=microca"
#define SHA1	"0123456789ABCDEF0123456789ABCDEF01234567"
#define SHA256	"0123456789ABCDEF0123456789ABCDEF" \
		"FEDCBA9876543210FEDCBA9876543210"
#define BY	"alice (test)"

static char			*tmpdir;
static char			 path[1024];
static struct mca_ledger	*led;

static void
setup(void)
{
	struct mca_diag	 d;
	int		 rc;

	tmpdir = tu_mkdtemp("revoke");
	(void)snprintf(path, sizeof(path), "%s/ledger.db", tmpdir);
	rc = mca_ledger_open(path, 0, &led, &d);
	ck_assert_msg(rc == 0, "open: %s", d.msg);
}

static void
teardown(void)
{
	mca_ledger_close(led);
	led = NULL;
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* The first column of the first row of sql, as an integer. */
static long long
db_int(const char *sql)
{
	return tu_db_int(path, sql);
}

/* sql on our own connection: SQLite's result code. */
static int
db_try(const char *sql)
{
	sqlite3	*db = NULL;
	int	 rc;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

#define NROWS()	db_int("SELECT count(*) FROM revocations")

/* A certificate row with full control of the fields that matter here. */
static int
put(const char *serial, const char *issuer, const char *label,
    const char *subject, const char *not_after, const char *replaces,
    const char *req_serial)
{
	struct mca_ledger_cert	 c;

	memset(&c, 0, sizeof(c));
	c.serial = serial;
	c.subject = subject;
	c.issuer = issuer;
	c.not_before = "2024-01-01T00:00:00Z";
	c.not_after = not_after;
	c.label = label;
	c.operation = replaces != NULL ? "reenroll" : "enroll";
	c.sha1 = SHA1;
	c.sha256 = SHA256;
	c.pem = "PEM";
	c.replaces_serial = replaces;
	c.req_serial = req_serial;
	c.req_issuer = ISSUER;
	return mca_ledger_insert_cert(led, &c);
}

static void
issue(const char *serial, const char *label, const char *replaces)
{
	char	 subject[64];
	int	 rc;

	(void)snprintf(subject, sizeof(subject), "CN=dev-%s,O=microca",
	    serial);
	rc = put(serial, ISSUER, label, subject, "2034-01-01T00:00:00Z",
	    replaces, NULL);
	ck_assert_msg(rc == 0, "insert %s: %s", serial,
	    mca_ledger_errmsg(led, rc));
}

static int
revoke(const char *serial, int reason, int follow, size_t *n)
{
	struct mca_revoke_req	 r;
	struct mca_diag		 d;

	memset(&r, 0, sizeof(r));
	r.serial = serial;
	r.reason = reason;
	r.by = BY;
	r.follow = follow;
	return mca_revoke_cert(led, &r, NULL, NULL, n, &d);
}

/* The state of serial: its reason code, -1 when not revoked. */
static int
state(const char *serial)
{
	struct mca_revoke_state	 s;
	struct mca_diag		 d;
	int			 rc;

	rc = mca_revoke_status(led, serial, &s, &d);
	ck_assert_msg(rc == 0, "status %s: %s", serial, d.msg);
	ck_assert_int_eq(s.revoked, s.reason >= 0);
	return s.reason;
}

/* ---- reasons */

START_TEST(test_reasons)
{
	const struct mca_revoke_reason_name	*r = &mca_revoke_reasons[_i];
	struct mca_revoke_state			 s;
	struct mca_diag				 d;
	char					 q[256];
	size_t					 n = 9;

	/* One table, in code order, names and codes both ways. */
	if (_i > 0)
		ck_assert_int_gt(r->code, mca_revoke_reasons[_i - 1].code);
	ck_assert_int_eq(mca_revoke_reason_code(r->name), r->code);
	ck_assert_str_eq(mca_revoke_reason_name(r->code), r->name);
	ck_assert_int_ne(r->code, 7);

	issue("0A", "devices", NULL);
	if (!r->ledger) {
		/* removeFromCRL, aACompromise: not a revocation's reason. */
		ck_assert_int_eq(revoke("0A", r->code, 0, &n), MCA_ERR_INVAL);
		ck_assert_uint_eq(n, 0);
		ck_assert_int_eq(NROWS(), 0);
		return;
	}
	ck_assert_int_eq(revoke("0A", r->code, 0, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(mca_revoke_status(led, "0A", &s, &d), 0);
	ck_assert_int_eq(s.revoked, 1);
	ck_assert_int_eq(s.reason, r->code);
	ck_assert_uint_eq(strlen(s.revoked_at), 20);
	ck_assert_str_eq(s.invalidity_date, "");
	(void)snprintf(q, sizeof(q), "SELECT count(*) FROM revoked_now WHERE "
	    "serial = '0A' AND reason = '%s' AND issuer = '" ISSUER "' AND "
	    "label = 'devices' AND not_after = '2034-01-01T00:00:00Z'",
	    r->name);
	ck_assert_int_eq(db_int(q), 1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM revocations WHERE "
	    "revoked_by = '" BY "' AND action = 'revoke'"), 1);
}
END_TEST

START_TEST(test_reason_names)
{
	ck_assert_ptr_null(mca_revoke_reason_name(7));
	ck_assert_ptr_null(mca_revoke_reason_name(-1));
	ck_assert_ptr_null(mca_revoke_reason_name(11));
	ck_assert_int_eq(mca_revoke_reason_code("keycompromise"), -1);
	ck_assert_int_eq(mca_revoke_reason_code(""), -1);
	ck_assert_int_eq(mca_revoke_reason_code(NULL), -1);
	ck_assert_int_eq(mca_revoke_reason_code("certificateHold"), 6);
	ck_assert_int_eq(mca_revoke_reason_code("privilegeWithdrawn"), 9);
	ck_assert_uint_eq(mca_revoke_nreasons, 10);
}
END_TEST

/* ---- revoke twice, hold */

START_TEST(test_twice)
{
	size_t	 n = 9;

	issue("0B", "devices", NULL);
	ck_assert_int_eq(revoke("0B", MCA_REVOKE_KEY_COMPROMISE, 0, &n), 0);
	ck_assert_int_eq(NROWS(), 1);
	/* Revoked is final: any reason, hold too, with --follow too. */
	ck_assert_int_eq(revoke("0B", MCA_REVOKE_KEY_COMPROMISE, 0, &n),
	    MCA_ERR_EXISTS);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(revoke("0B", MCA_REVOKE_SUPERSEDED, 0, &n),
	    MCA_ERR_EXISTS);
	ck_assert_int_eq(revoke("0B", MCA_REVOKE_CERTIFICATE_HOLD, 1, &n),
	    MCA_ERR_EXISTS);
	ck_assert_str_eq(mca_ledger_errmsg(led, MCA_ERR_EXISTS),
	    "certificate 0B is already revoked, and so is the rest of its "
	    "renewal chain");
	ck_assert_int_eq(NROWS(), 1);
	ck_assert_int_eq(state("0B"), MCA_REVOKE_KEY_COMPROMISE);
}
END_TEST

START_TEST(test_hold_final)
{
	struct mca_diag	 d;
	size_t		 n = 0;

	issue("0C", "devices", NULL);
	ck_assert_int_eq(revoke("0C", MCA_REVOKE_CERTIFICATE_HOLD, 0, &n), 0);
	/* Held twice: refused. */
	ck_assert_int_eq(revoke("0C", MCA_REVOKE_CERTIFICATE_HOLD, 0, &n),
	    MCA_ERR_EXISTS);
	ck_assert_msg(strstr(mca_ledger_errmsg(led, 0), "on hold") != NULL,
	    "%s", mca_ledger_errmsg(led, 0));
	/* RFC 5280 5.3.1: a hold may end final. */
	ck_assert_int_eq(revoke("0C", MCA_REVOKE_KEY_COMPROMISE, 0, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(NROWS(), 2);
	ck_assert_int_eq(state("0C"), MCA_REVOKE_KEY_COMPROMISE);
	ck_assert_int_eq(mca_revoke_unrevoke(led, "0C", BY, &d),
	    MCA_ERR_POLICY);
	ck_assert_int_eq(NROWS(), 2);
	ck_assert_int_eq(db_int("SELECT count(*) FROM revoked_now"), 1);
}
END_TEST

/* ---- unrevoke */

START_TEST(test_unrevoke)
{
	struct mca_diag	 d;
	size_t		 n = 0;

	issue("0D", "devices", NULL);
	issue("0E", "devices", NULL);
	/* Never revoked: nothing to lift. */
	ck_assert_int_eq(mca_revoke_unrevoke(led, "0D", BY, &d),
	    MCA_ERR_POLICY);
	ck_assert_msg(strstr(d.msg, "is not revoked") != NULL, "%s", d.msg);
	ck_assert_int_eq(revoke("0D", MCA_REVOKE_CERTIFICATE_HOLD, 0, &n), 0);
	ck_assert_int_eq(mca_revoke_unrevoke(led, "0D", BY, &d), 0);
	ck_assert_int_eq(state("0D"), -1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM revoked_now"), 0);
	ck_assert_int_eq(db_int("SELECT count(*) FROM revocations WHERE "
	    "serial = '0D' AND action = 'unrevoke' AND reason IS NULL AND "
	    "invalidity_date IS NULL"), 1);
	/* Released: unrevoke again refused, hold again allowed. */
	ck_assert_int_eq(mca_revoke_unrevoke(led, "0D", BY, &d),
	    MCA_ERR_POLICY);
	ck_assert_int_eq(revoke("0D", MCA_REVOKE_CERTIFICATE_HOLD, 0, &n), 0);
	ck_assert_int_eq(state("0D"), MCA_REVOKE_CERTIFICATE_HOLD);
	ck_assert_int_eq(NROWS(), 3);

	/* keyCompromise is final: nothing written. */
	ck_assert_int_eq(revoke("0E", MCA_REVOKE_KEY_COMPROMISE, 0, &n), 0);
	ck_assert_int_eq(mca_revoke_unrevoke(led, "0E", BY, &d),
	    MCA_ERR_POLICY);
	ck_assert_msg(strstr(d.msg, "keyCompromise") != NULL, "%s", d.msg);
	ck_assert_int_eq(NROWS(), 4);
	ck_assert_int_eq(state("0E"), MCA_REVOKE_KEY_COMPROMISE);

	ck_assert_int_eq(mca_revoke_unrevoke(led, "0F", BY, &d),
	    MCA_ERR_NOTFOUND);
	ck_assert_int_eq(mca_revoke_unrevoke(led, "0D", "", &d),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_revoke_unrevoke(led, "0d", BY, &d),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(NROWS(), 4);
}
END_TEST

/* ---- unknown serial, bad input */

START_TEST(test_unknown)
{
	struct mca_revoke_state	 s;
	struct mca_revoke_req	 r;
	struct mca_diag		 d;
	size_t			 n = 9;

	issue("10", "devices", NULL);
	ck_assert_int_eq(revoke("11", MCA_REVOKE_UNSPECIFIED, 0, &n),
	    MCA_ERR_NOTFOUND);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(revoke("11", MCA_REVOKE_UNSPECIFIED, 1, &n),
	    MCA_ERR_NOTFOUND);
	ck_assert_int_eq(mca_revoke_status(led, "11", &s, &d),
	    MCA_ERR_NOTFOUND);
	ck_assert_msg(strstr(d.msg, "no certificate with serial 11") != NULL,
	    "%s", d.msg);
	ck_assert_int_eq(NROWS(), 0);

	memset(&r, 0, sizeof(r));
	r.serial = "10";
	r.reason = MCA_REVOKE_KEY_COMPROMISE;
	r.by = "bob\nmallory";
	ck_assert_int_eq(mca_revoke_cert(led, &r, NULL, NULL, NULL, &d),
	    MCA_ERR_INVAL);
	r.by = BY;
	r.reason = 7;
	ck_assert_int_eq(mca_revoke_cert(led, &r, NULL, NULL, NULL, &d),
	    MCA_ERR_INVAL);
	r.reason = MCA_REVOKE_KEY_COMPROMISE;
	r.invalidity_date = "2024-02-30T00:00:00Z";
	ck_assert_int_eq(mca_revoke_cert(led, &r, NULL, NULL, NULL, &d),
	    MCA_ERR_INVAL);
	/* RFC 5280 5.3.2: not in the future. */
	r.invalidity_date = "2999-01-01T00:00:00Z";
	ck_assert_int_eq(mca_revoke_cert(led, &r, NULL, NULL, NULL, &d),
	    MCA_ERR_INVAL);
	ck_assert_msg(strstr(d.msg, "future") != NULL, "%s", d.msg);
	r.serial = "10:00";
	r.invalidity_date = NULL;
	ck_assert_int_eq(mca_revoke_cert(led, &r, NULL, NULL, NULL, &d),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(NROWS(), 0);

	r.serial = "10";
	r.invalidity_date = "2024-02-29T12:00:00Z";
	ck_assert_int_eq(mca_revoke_cert(led, &r, NULL, NULL, NULL, &d), 0);
	ck_assert_int_eq(mca_revoke_status(led, "10", &s, &d), 0);
	ck_assert_str_eq(s.invalidity_date, "2024-02-29T12:00:00Z");
}
END_TEST

/* ---- --follow */

/* The chain 20 <- 21 <- 22 <- 23, a grace renewal 24 of 21, and 30. */
static void
chain(void)
{
	issue("20", "devices", NULL);
	issue("21", "devices", "20");
	issue("22", "devices", "21");
	issue("23", "devices", "22");
	issue("24", "devices", "21");
	issue("30", "devices", NULL);
}

struct seen {
	char	 s[256];
};

static int
seen_one(void *arg, const char *serial)
{
	struct seen	*c = arg;
	size_t		 n = strlen(c->s);

	(void)snprintf(c->s + n, sizeof(c->s) - n, "%s ", serial);
	return 0;
}

static int
seen_stop(void *arg, const char *serial)
{
	(void)arg;
	return strcmp(serial, "23") == 0 ? 42 : 0;
}

START_TEST(test_follow)
{
	static const char *const from[] = { "20", "21", "22", "23", "24" };
	struct mca_revoke_req	 r;
	struct mca_diag		 d;
	struct seen		 c;
	size_t			 n = 0;

	chain();
	memset(&c, 0, sizeof(c));
	memset(&r, 0, sizeof(r));
	r.serial = from[_i];
	r.reason = MCA_REVOKE_CESSATION_OF_OPERATION;
	r.by = BY;
	r.follow = 1;
	ck_assert_int_eq(mca_revoke_cert(led, &r, seen_one, &c, &n, &d), 0);
	ck_assert_uint_eq(n, 5);
	/* Older and newer, the grace sibling, in issue order; not 30. */
	ck_assert_str_eq(c.s, "20 21 22 23 24 ");
	ck_assert_int_eq(db_int("SELECT count(*) FROM revoked_now WHERE "
	    "reason = 'cessationOfOperation'"), 5);
	ck_assert_int_eq(state("30"), -1);
	/* One transaction, one time. */
	ck_assert_int_eq(db_int("SELECT count(DISTINCT revoked_at) FROM "
	    "revocations"), 1);
	/* Nothing left to revoke. */
	ck_assert_int_eq(mca_revoke_cert(led, &r, NULL, NULL, &n, &d),
	    MCA_ERR_EXISTS);
	ck_assert_int_eq(NROWS(), 5);
}
END_TEST

START_TEST(test_follow_partial)
{
	struct mca_revoke_req	 r;
	struct mca_diag		 d;
	struct seen		 c;
	size_t			 n = 0;

	chain();
	ck_assert_int_eq(revoke("22", MCA_REVOKE_KEY_COMPROMISE, 0, &n), 0);
	ck_assert_int_eq(revoke("20", MCA_REVOKE_CERTIFICATE_HOLD, 0, &n), 0);
	ck_assert_int_eq(revoke("23", MCA_REVOKE_CERTIFICATE_HOLD, 0, &n), 0);
	/* Without --follow: only the one. */
	ck_assert_int_eq(revoke("21", MCA_REVOKE_SUPERSEDED, 0, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(state("24"), -1);

	/* A callback's refusal undoes all of it. */
	memset(&r, 0, sizeof(r));
	r.serial = "24";
	r.reason = MCA_REVOKE_AFFILIATION_CHANGED;
	r.by = BY;
	r.follow = 1;
	ck_assert_int_eq(NROWS(), 4);
	ck_assert_int_eq(mca_revoke_cert(led, &r, seen_stop, NULL, &n, &d),
	    42);
	ck_assert_int_eq(NROWS(), 4);
	ck_assert_int_eq(state("20"), MCA_REVOKE_CERTIFICATE_HOLD);

	/* Holds made final, the revoked left as they are, 24 revoked. */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(mca_revoke_cert(led, &r, seen_one, &c, &n, &d), 0);
	ck_assert_str_eq(c.s, "20 23 24 ");
	ck_assert_int_eq(state("20"), MCA_REVOKE_AFFILIATION_CHANGED);
	ck_assert_int_eq(state("21"), MCA_REVOKE_SUPERSEDED);
	ck_assert_int_eq(state("22"), MCA_REVOKE_KEY_COMPROMISE);
	ck_assert_int_eq(state("23"), MCA_REVOKE_AFFILIATION_CHANGED);
	ck_assert_int_eq(state("24"), MCA_REVOKE_AFFILIATION_CHANGED);
	ck_assert_int_eq(NROWS(), 7);

	/* A hold with --follow holds what is not revoked: none is left. */
	r.reason = MCA_REVOKE_CERTIFICATE_HOLD;
	ck_assert_int_eq(mca_revoke_cert(led, &r, NULL, NULL, &n, &d),
	    MCA_ERR_EXISTS);
	ck_assert_int_eq(NROWS(), 7);
}
END_TEST

/* ---- append-only, the state machine in SQL */

START_TEST(test_append_only)
{
	size_t	 n = 0;

	issue("40", "devices", NULL);
	ck_assert_int_eq(revoke("40", MCA_REVOKE_CERTIFICATE_HOLD, 0, &n), 0);
	ck_assert_int_eq(db_try("UPDATE revocations SET reason = "
	    "'keyCompromise'"), SQLITE_CONSTRAINT);
	ck_assert_int_eq(db_try("DELETE FROM revocations"), SQLITE_CONSTRAINT);
	/* A writer other than lib/revoke.c cannot break the rules. */
	ck_assert_int_eq(db_try("INSERT INTO revocations (serial, action, "
	    "reason, revoked_at, revoked_by) VALUES ('40', 'revoke', "
	    "'certificateHold', '2026-01-01T00:00:00Z', 'x')"),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(db_try("INSERT INTO revocations (serial, action, "
	    "reason, revoked_at, revoked_by) VALUES ('40', 'unrevoke', "
	    "'keyCompromise', '2026-01-01T00:00:00Z', 'x')"),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(db_try("INSERT INTO revocations (serial, action, "
	    "reason, revoked_at, revoked_by) VALUES ('40', 'revoke', "
	    "'keyCompromise', '2026-01-01 00:00:00', 'x')"),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(NROWS(), 1);
}
END_TEST

/* ---- renewals and enrollments of a revoked certificate */

START_TEST(test_renewal_refused)
{
	struct mca_ledger_found	 f;
	struct mca_ledger_cert	 c;
	struct mca_diag		 d;
	size_t			 n = 0;

	issue("50", "devices", NULL);
	ck_assert_int_eq(revoke("50", MCA_REVOKE_CERTIFICATE_HOLD, 0, &n), 0);
	ck_assert_int_eq(mca_ledger_find(led, "50", ISSUER, &f), 0);
	ck_assert_str_eq(f.revoked, "certificateHold");
	ck_assert_int_eq(mca_ledger_may_renew(&f, 3600), 0);

	memset(&c, 0, sizeof(c));
	c.serial = "51";
	c.subject = "CN=dev-50,O=microca";
	c.issuer = ISSUER;
	c.not_before = "2024-01-01T00:00:00Z";
	c.not_after = "2034-01-01T00:00:00Z";
	c.label = "devices";
	c.operation = "reenroll";
	c.sha1 = SHA1;
	c.sha256 = SHA256;
	c.pem = "PEM";
	c.replaces_serial = "50";
	c.req_serial = "50";
	c.req_issuer = ISSUER;
	ck_assert_int_eq(mca_ledger_insert_renewal(led, &c, 0, &f),
	    MCA_ERR_POLICY);
	ck_assert_str_eq(f.revoked, "certificateHold");
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates"), 1);
	/* The trigger, for a writer that did not ask first. */
	ck_assert_int_eq(mca_ledger_insert_cert(led, &c), MCA_ERR_POLICY);
	ck_assert_msg(strstr(mca_ledger_errmsg(led, 0), "a revoked "
	    "certificate obtains nothing") != NULL, "%s",
	    mca_ledger_errmsg(led, 0));
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates"), 1);
	/* A new enrollment requested with it: refused too. */
	ck_assert_int_eq(put("52", ISSUER, "devices", "CN=x", "2034-01-01T"
	    "00:00:00Z", NULL, "50"), MCA_ERR_POLICY);
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates"), 1);

	/* Released from hold: it renews. */
	ck_assert_int_eq(mca_revoke_unrevoke(led, "50", BY, &d), 0);
	ck_assert_int_eq(mca_ledger_insert_renewal(led, &c, 0, &f), 0);
	ck_assert_str_eq(f.revoked, "");
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates"), 2);
	ck_assert_int_eq(put("52", ISSUER, "devices", "CN=x", "2034-01-01T"
	    "00:00:00Z", NULL, "50"), 0);
}
END_TEST

START_TEST(test_requester_issuer)
{
	struct mca_ledger_cert	 c;
	size_t			 n = 0;

	issue("60", "devices", NULL);
	ck_assert_int_eq(revoke("60", MCA_REVOKE_KEY_COMPROMISE, 0, &n), 0);
	/* A bootstrap certificate of another CA with the same serial. */
	memset(&c, 0, sizeof(c));
	c.serial = "61";
	c.subject = "CN=boot";
	c.issuer = ISSUER;
	c.not_before = "2024-01-01T00:00:00Z";
	c.not_after = "2034-01-01T00:00:00Z";
	c.label = "devices";
	c.operation = "enroll";
	c.sha1 = SHA1;
	c.sha256 = SHA256;
	c.pem = "PEM";
	c.req_serial = "60";
	c.req_issuer = "CN=Vendor Bootstrap CA";
	ck_assert_int_eq(mca_ledger_insert_cert(led, &c), 0);
}
END_TEST

/* ---- list */

struct rows {
	char	 s[1024];
	size_t	 n;
};

static int
row_one(void *arg, const struct mca_revoke_row *r)
{
	struct rows	*c = arg;
	size_t		 n = strlen(c->s);

	(void)snprintf(c->s + n, sizeof(c->s) - n, "%s:%s%s%s ", r->serial,
	    r->state, r->reason >= 0 ? "/" : "", r->reason >= 0 ?
	    mca_revoke_reason_name(r->reason) : "");
	c->n++;
	return 0;
}

static const char *
list(const char *label, const char *glob, long long days, int revoked,
    long long limit, int *more)
{
	static struct rows		 c;
	struct mca_revoke_filter	 f;
	struct mca_diag			 d;
	int				 rc;

	memset(&c, 0, sizeof(c));
	memset(&f, 0, sizeof(f));
	f.label = label;
	f.subject_glob = glob;
	f.expiring_days = days;
	f.revoked_only = revoked;
	f.limit = limit;
	rc = mca_revoke_list(led, &f, row_one, &c, more, &d);
	ck_assert_msg(rc == 0, "list: %s", d.msg);
	return c.s;
}

START_TEST(test_list)
{
	struct mca_revoke_filter	 f;
	struct mca_diag			 d;
	char				 soon[32];
	int				 more = 9;
	size_t				 n = 0;

	/* 70 valid, 71 expired, 72 renewed by 73, 74 revoked, 75 soon */
	issue("70", "devices", NULL);
	ck_assert_int_eq(put("71", ISSUER, "devices", "CN=old,O=microca",
	    "2020-01-01T00:00:00Z", NULL, NULL), 0);
	issue("72", "devices", NULL);
	issue("73", "devices", "72");
	ck_assert_int_eq(put("74", ISSUER, "servers", "CN=web,O=microca",
	    "2034-01-01T00:00:00Z", NULL, NULL), 0);
	ck_assert_int_eq(revoke("74", MCA_REVOKE_PRIVILEGE_WITHDRAWN, 0, &n),
	    0);
	ck_assert_int_eq(mca_time_iso(time(NULL) + 10 * 86400, soon,
	    sizeof(soon)), 0);
	ck_assert_int_eq(put("75", ISSUER, "servers", "CN=soon,O=microca",
	    soon, NULL, NULL), 0);

	ck_assert_str_eq(list(NULL, NULL, -1, 0, 100, &more),
	    "70:valid 71:expired 72:superseded 73:valid "
	    "74:revoked/privilegeWithdrawn 75:valid ");
	ck_assert_int_eq(more, 0);
	ck_assert_str_eq(list("servers", NULL, -1, 0, 100, &more),
	    "74:revoked/privilegeWithdrawn 75:valid ");
	ck_assert_str_eq(list(NULL, NULL, -1, 1, 100, &more),
	    "74:revoked/privilegeWithdrawn ");
	ck_assert_str_eq(list(NULL, NULL, 30, 0, 100, &more), "75:valid ");
	ck_assert_str_eq(list(NULL, NULL, 5, 0, 100, &more), "");
	ck_assert_str_eq(list(NULL, "CN=dev-7[23],*", -1, 0, 100, &more),
	    "72:superseded 73:valid ");
	ck_assert_str_eq(list("devices", "CN=web*", -1, 0, 100, &more), "");
	/* Bounded: the first ones, and word of more. */
	ck_assert_str_eq(list(NULL, NULL, -1, 0, 2, &more),
	    "70:valid 71:expired ");
	ck_assert_int_eq(more, 1);
	ck_assert_str_eq(list(NULL, NULL, -1, 0, 6, &more),
	    "70:valid 71:expired 72:superseded 73:valid "
	    "74:revoked/privilegeWithdrawn 75:valid ");
	ck_assert_int_eq(more, 0);

	/* A hold lifted is valid again. */
	ck_assert_int_eq(revoke("70", MCA_REVOKE_CERTIFICATE_HOLD, 0, &n), 0);
	ck_assert_str_eq(list(NULL, "CN=dev-70,*", -1, 0, 10, &more),
	    "70:revoked/certificateHold ");
	ck_assert_int_eq(mca_revoke_unrevoke(led, "70", BY, &d), 0);
	ck_assert_str_eq(list(NULL, "CN=dev-70,*", -1, 1, 10, &more), "");

	memset(&f, 0, sizeof(f));
	f.expiring_days = -1;
	f.limit = 0;
	ck_assert_int_eq(mca_revoke_list(led, &f, row_one, NULL, NULL, &d),
	    MCA_ERR_INVAL);
}
END_TEST

/* ---- per issuer, for the CRL */

struct ents {
	char	 s[512];
};

static int
ent_one(void *arg, const struct mca_revoke_entry *e)
{
	struct ents	*c = arg;
	size_t		 n = strlen(c->s);

	(void)snprintf(c->s + n, sizeof(c->s) - n, "%s/%d/%s/%s/%s ",
	    e->serial, e->reason, e->invalidity_date[0] != '\0' ?
	    e->invalidity_date : "-", e->not_after, strlen(e->revoked_at) ==
	    20 ? "at" : "?");
	return 0;
}

START_TEST(test_list_issuer)
{
	struct mca_revoke_req	 r;
	struct mca_diag		 d;
	struct ents		 c;
	size_t			 n = 0;

	issue("80", "devices", NULL);
	issue("81", "devices", NULL);
	issue("82", "devices", NULL);
	ck_assert_int_eq(put("83", ISSUER2, "devices", "CN=other",
	    "2030-01-01T00:00:00Z", NULL, NULL), 0);
	memset(&r, 0, sizeof(r));
	r.serial = "82";
	r.reason = MCA_REVOKE_KEY_COMPROMISE;
	r.invalidity_date = "2025-06-01T00:00:00Z";
	r.by = BY;
	ck_assert_int_eq(mca_revoke_cert(led, &r, NULL, NULL, NULL, &d), 0);
	ck_assert_int_eq(revoke("80", MCA_REVOKE_CERTIFICATE_HOLD, 0, &n), 0);
	ck_assert_int_eq(revoke("81", MCA_REVOKE_CERTIFICATE_HOLD, 0, &n), 0);
	ck_assert_int_eq(mca_revoke_unrevoke(led, "81", BY, &d), 0);
	ck_assert_int_eq(revoke("83", MCA_REVOKE_SUPERSEDED, 0, &n), 0);

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(mca_revoke_list_issuer(led, ISSUER, ent_one, &c, &d),
	    0);
	/* In the order revoked; the released hold is not there. */
	ck_assert_str_eq(c.s, "82/1/2025-06-01T00:00:00Z/2034-01-01T00:00:00Z"
	    "/at 80/6/-/2034-01-01T00:00:00Z/at ");
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(mca_revoke_list_issuer(led, ISSUER2, ent_one, &c,
	    &d), 0);
	ck_assert_str_eq(c.s, "83/4/-/2030-01-01T00:00:00Z/at ");
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(mca_revoke_list_issuer(led, "CN=nobody", ent_one, &c,
	    &d), 0);
	ck_assert_str_eq(c.s, "");
}
END_TEST

/* ---- serial spelling */

static const struct {
	const char	*in;
	const char	*out;	/* NULL: refused */
} serials[] = {
	{ "0E", "0E" },
	{ "0e", "0E" },
	{ "e", "0E" },
	{ "00:0e", "0E" },
	{ "000E", "0E" },
	{ "ab:cd:EF", "ABCDEF" },
	{ "1:23", "0123" },
	{ "7F8D3C2A11B09E4F5D6C7B8A9F0E1D2C3B4A5968",
	    "7F8D3C2A11B09E4F5D6C7B8A9F0E1D2C3B4A5968" },
	{ "00:7F:8D:3C:2A:11:B0:9E:4F:5D:6C:7B:8A:9F:0E:1D:2C:3B:4A:59:68",
	    "7F8D3C2A11B09E4F5D6C7B8A9F0E1D2C3B4A5968" },
	{ "17F8D3C2A11B09E4F5D6C7B8A9F0E1D2C3B4A5968", NULL },
	{ "", NULL },
	{ ":", NULL },
	{ "00", NULL },
	{ "0x0E", NULL },
	{ "0E ", NULL },
	{ "-0E", NULL },
	{ "g", NULL },
};

START_TEST(test_serial_norm)
{
	struct mca_diag	 d;
	char		 out[MCA_REVOKE_SERIAL_MAX + 1];
	int		 rc;

	rc = mca_revoke_serial_norm(serials[_i].in, out, sizeof(out), &d);
	if (serials[_i].out == NULL) {
		ck_assert_int_eq(rc, MCA_ERR_INVAL);
		ck_assert_str_eq(out, "");
		ck_assert_msg(strstr(d.msg, "serial") != NULL, "%s", d.msg);
	} else {
		ck_assert_msg(rc == 0, "%s: %s", serials[_i].in, d.msg);
		ck_assert_str_eq(out, serials[_i].out);
	}
}
END_TEST

START_TEST(test_time_norm)
{
	char	 out[MCA_REVOKE_TIME_LEN];

	ck_assert_int_eq(mca_revoke_time_norm("2025-06-01", out, sizeof(out)),
	    0);
	ck_assert_str_eq(out, "2025-06-01T00:00:00Z");
	ck_assert_int_eq(mca_revoke_time_norm("2025-06-01T10:11:12Z", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "2025-06-01T10:11:12Z");
	ck_assert_int_ne(mca_revoke_time_norm("2025-02-29", out, sizeof(out)),
	    0);
	ck_assert_int_ne(mca_revoke_time_norm("2025-06-01T10:11:12", out,
	    sizeof(out)), 0);
	ck_assert_int_ne(mca_revoke_time_norm("yesterday", out, sizeof(out)),
	    0);
	ck_assert_int_ne(mca_revoke_time_norm("2025-06-01", out, 10), 0);
}
END_TEST

static Suite *
revoke_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("revoke");

	tc = tcase_create("revoke");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_reasons, 0, (int)mca_revoke_nreasons);
	tcase_add_test(tc, test_reason_names);
	tcase_add_test(tc, test_twice);
	tcase_add_test(tc, test_hold_final);
	tcase_add_test(tc, test_unrevoke);
	tcase_add_test(tc, test_unknown);
	tcase_add_loop_test(tc, test_follow, 0, 5);
	tcase_add_test(tc, test_follow_partial);
	tcase_add_test(tc, test_append_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("enroll");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_renewal_refused);
	tcase_add_test(tc, test_requester_issuer);
	suite_add_tcase(s, tc);

	tc = tcase_create("list");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_list_issuer);
	tcase_add_loop_test(tc, test_serial_norm, 0,
	    sizeof(serials) / sizeof(serials[0]));
	tcase_add_test(tc, test_time_norm);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return tu_run(revoke_suite());
}
