/*
 * The Azure IoT Hub sync queue in the ledger (lib/ledger_azure.c,
 * sql/migrations/0009-azure-sync.sql): what the sync job is handed and
 * in which order, what each attempt records, failed and synced rows,
 * the admin's list and retry, 1,000 rows drained in batches, a ledger
 * migrated from schema 8, bad input, and a lock held by another
 * process. The test reads the file through its own SQLite connection
 * too, as an auditor would.
 */
#include "config.h"

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "err.h"
#include "ledger.h"
#include "testutil.h"

#define ISSUER	"CN=microca Test Issuing CA,O=microca"
#define SHA1	"0123456789ABCDEF0123456789ABCDEF01234567"
#define SHA256	"0123456789ABCDEF0123456789ABCDEF" \
		"FEDCBA9876543210FEDCBA9876543210"
#define NOW	1700000000LL

static char	*tmpdir;
static char	 path[1024];

static void
setup(void)
{
	tmpdir = tu_mkdtemp("ledger_azure");
	(void)snprintf(path, sizeof(path), "%s/ledger.db", tmpdir);
}

static void
teardown(void)
{
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

static struct mca_ledger *
ledger_open(int sync_full)
{
	struct mca_ledger	*l = NULL;
	struct mca_diag		 d;
	int			 rc;

	rc = mca_ledger_open(path, sync_full, &l, &d);
	ck_assert_msg(rc == 0, "open: %s: %s", mca_strerror(rc), d.msg);
	return l;
}

/* Our own connection: what an auditor sees. */
static sqlite3 *
db_open(void)
{
	sqlite3	*db = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
	return db;
}

static void
db_exec(sqlite3 *db, const char *sql)
{
	char	*emsg = NULL;
	int	 rc;

	rc = sqlite3_exec(db, sql, NULL, NULL, &emsg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql,
	    emsg != NULL ? emsg : "?");
	sqlite3_free(emsg);
}

/* All rows of the query sql: columns joined by '|', one row a line. */
static void
db_rows(const char *sql, char *out, size_t outsz)
{
	sqlite3			*db = db_open();
	sqlite3_stmt		*st = NULL;
	const unsigned char	*t;
	size_t			 n = 0;
	int			 i, rc;

	out[0] = '\0';
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++) {
			t = sqlite3_column_text(st, i);
			n += (size_t)snprintf(out + n, outsz - n, "%s%s",
			    i > 0 ? "|" : "", t != NULL ? (const char *)t :
			    "NULL");
			ck_assert_uint_lt(n, outsz);
		}
		n += (size_t)snprintf(out + n, outsz - n, "\n");
		ck_assert_uint_lt(n, outsz);
	}
	ck_assert_int_eq(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The first column of the first row of sql, as an integer. */
static long long
db_int(const char *sql)
{
	sqlite3		*db = db_open();
	sqlite3_stmt	*st = NULL;
	long long	 v;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/*
 * Issues certificate serial on label, queued for Azure when device is
 * set (as cgi/enroll.c does for is_device_cert labels); a renewal of
 * replaces when that is not NULL. Its PEM is "PEM <serial>". Returns
 * its id.
 */
static long long
issue(struct mca_ledger *l, const char *serial, const char *label,
    int device, const char *replaces)
{
	struct mca_ledger_cert	 c;
	char			 pem[64], subject[64];
	int			 rc;

	(void)snprintf(pem, sizeof(pem), "PEM %s", serial);
	(void)snprintf(subject, sizeof(subject), "CN=dev-%s,O=microca",
	    serial);
	memset(&c, 0, sizeof(c));
	c.serial = serial;
	c.subject = subject;
	c.issuer = ISSUER;
	c.not_before = "2024-01-01T00:00:00Z";
	c.not_after = "2034-01-01T00:00:00Z";
	c.label = label;
	c.operation = replaces != NULL ? "reenroll" : "enroll";
	c.sha1 = SHA1;
	c.sha256 = SHA256;
	c.pem = pem;
	c.replaces_serial = replaces;
	c.req_issuer = ISSUER;
	c.azure_pending = device;
	rc = mca_ledger_insert_cert(l, &c);
	ck_assert_msg(rc == 0, "insert %s: %s", serial,
	    mca_ledger_errmsg(l, rc));
	return db_int("SELECT max(id) FROM certificates");
}

/* The due rows at now (at most max), their serials joined by ' '. */
static size_t
due(struct mca_ledger *l, long long now, size_t max, char *out, size_t outsz)
{
	struct mca_ledger_azrow	*rows = NULL;
	struct mca_diag		 d;
	size_t			 n = 99, i, len = 0;
	int			 rc;

	rc = mca_ledger_azure_due(l, now, max, &rows, &n, &d);
	ck_assert_msg(rc == 0, "due: %s", d.msg);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(out + len, outsz - len, "%s%s",
		    i > 0 ? " " : "", rows[i].serial);
		ck_assert_uint_lt(len, outsz);
		/* issue order */
		if (i > 0)
			ck_assert_int_gt(rows[i].id, rows[i - 1].id);
	}
	if (n == 0)
		ck_assert_ptr_null(rows);
	mca_ledger_azrows_free(rows, n);
	return n;
}

static void
synced_ok(struct mca_ledger *l, long long id, long long now, long status,
    const char *etag)
{
	struct mca_diag	 d;
	int		 rc;

	rc = mca_ledger_azure_synced(l, id, now, status, etag, &d);
	ck_assert_msg(rc == 0, "synced %lld: %s", id, d.msg);
}

static void
defer_ok(struct mca_ledger *l, long long id, long long now, long long next,
    long status, const char *error, const char *request_id, int failed)
{
	struct mca_diag	 d;
	int		 rc;

	rc = mca_ledger_azure_defer(l, id, now, next, status, error,
	    request_id, failed, &d);
	ck_assert_msg(rc == 0, "defer %lld: %s", id, d.msg);
}

/* ------------------------------------------------------------ queue */

/* Device labels are queued with the row, other labels not. */
START_TEST(test_issue_marks)
{
	struct mca_ledger	*l = ledger_open(1);
	char			 v[512];

	issue(l, "0A", "devices", 1, NULL);
	issue(l, "0B", "servers", 0, NULL);
	db_rows("SELECT serial, azure_sync FROM certificates ORDER BY id", v,
	    sizeof(v));
	ck_assert_str_eq(v, "0A|pending\n0B|none\n");
	/* nothing tried yet: no state rows */
	ck_assert_int_eq(db_int("SELECT count(*) FROM azure_sync_state"), 0);
	ck_assert_uint_eq(due(l, NOW, 10, v, sizeof(v)), 1);
	ck_assert_str_eq(v, "0A");
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_due_order)
{
	struct mca_ledger	*l = ledger_open(1);
	struct mca_ledger_azrow	*rows = NULL;
	struct mca_diag		 d;
	size_t			 n;
	char			 v[512];

	/* Serials not in id order: the order is the issue order. */
	issue(l, "FF", "devices", 1, NULL);
	issue(l, "01", "servers", 0, NULL);
	issue(l, "0C", "devices", 1, NULL);
	issue(l, "AA", "devices", 1, NULL);
	issue(l, "02", "servers", 0, NULL);
	issue(l, "0B", "devices", 1, NULL);
	ck_assert_uint_eq(due(l, NOW, 10, v, sizeof(v)), 4);
	ck_assert_str_eq(v, "FF 0C AA 0B");
	/* at most max, the first ones */
	ck_assert_uint_eq(due(l, NOW, 2, v, sizeof(v)), 2);
	ck_assert_str_eq(v, "FF 0C");
	/* max 0: nothing, and no rows handed out */
	ck_assert_uint_eq(due(l, NOW, 0, v, sizeof(v)), 0);
	/* what a row holds */
	ck_assert_int_eq(mca_ledger_azure_due(l, NOW, 1, &rows, &n, &d), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(rows[0].id, 1);
	ck_assert_str_eq(rows[0].serial, "FF");
	ck_assert_str_eq(rows[0].label, "devices");
	ck_assert_str_eq(rows[0].pem, "PEM FF");
	ck_assert_ptr_null(rows[0].prev_pem);
	ck_assert_int_eq(rows[0].attempts, 0);
	ck_assert_int_eq(rows[0].next_attempt, 0);
	ck_assert_str_eq(rows[0].request_id, "");
	mca_ledger_azrows_free(rows, n);
	/* The partial index serves the queue: no scan of certificates. */
	{
		sqlite3		*db = db_open();
		sqlite3_stmt	*st = NULL;
		int		 found = 0;

		ck_assert_int_eq(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN "
		    "SELECT c.id FROM certificates AS c LEFT JOIN "
		    "azure_sync_state AS s ON s.cert_id = c.id WHERE "
		    "c.azure_sync = 'pending' AND coalesce(s.next_attempt, 0) "
		    "<= 1 ORDER BY c.id LIMIT 5", -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW)
			if (strstr((const char *)sqlite3_column_text(st, 3),
			    "certificates_azure_pending") != NULL)
				found = 1;
		sqlite3_finalize(st);
		sqlite3_close(db);
		ck_assert_int_eq(found, 1);
	}
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_next_attempt)
{
	struct mca_ledger	*l = ledger_open(1);
	long long		 a, b;
	char			 v[512];

	a = issue(l, "0A", "devices", 1, NULL);
	b = issue(l, "0B", "devices", 1, NULL);
	issue(l, "0C", "devices", 1, NULL);
	defer_ok(l, a, NOW, NOW + 60, 429, "throttled", NULL, 0);
	defer_ok(l, b, NOW, NOW + 30, 503, "hub unavailable", NULL, 0);
	/* put off: the others go first */
	ck_assert_uint_eq(due(l, NOW, 10, v, sizeof(v)), 1);
	ck_assert_str_eq(v, "0C");
	ck_assert_uint_eq(due(l, NOW + 29, 10, v, sizeof(v)), 1);
	/* due at next_attempt exactly, back in issue order */
	ck_assert_uint_eq(due(l, NOW + 30, 10, v, sizeof(v)), 2);
	ck_assert_str_eq(v, "0B 0C");
	ck_assert_uint_eq(due(l, NOW + 60, 10, v, sizeof(v)), 3);
	ck_assert_str_eq(v, "0A 0B 0C");
	/* a clock that went back: still put off, nothing lost */
	ck_assert_uint_eq(due(l, NOW - 3600, 10, v, sizeof(v)), 1);
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_synced)
{
	struct mca_ledger	*l = ledger_open(1);
	struct mca_diag		 d;
	long long		 a, b;
	char			 v[512];

	a = issue(l, "0A", "devices", 1, NULL);
	b = issue(l, "0B", "devices", 1, NULL);
	/* a try that failed, then the one that worked */
	defer_ok(l, a, NOW, NOW, 500, "hub error", "REQ-1", 0);
	synced_ok(l, a, NOW + 5, 200, "\"AAAAAAAA\"");
	/* never handed out again, whenever */
	ck_assert_uint_eq(due(l, NOW + 10, 10, v, sizeof(v)), 1);
	ck_assert_str_eq(v, "0B");
	ck_assert_uint_eq(due(l, NOW + 86400 * 365, 10, v, sizeof(v)), 1);
	db_rows("SELECT c.azure_sync, s.attempts, s.last_status, "
	    "s.last_error, s.etag, s.request_id, s.synced_at, s.updated_at "
	    "FROM certificates AS c JOIN azure_sync_state AS s "
	    "ON s.cert_id = c.id", v, sizeof(v));
	ck_assert_str_eq(v, "synced|1|200|NULL|\"AAAAAAAA\"|REQ-1|1700000005|"
	    "1700000005\n");
	/* synced at the first try, no etag (AppViewX mode), no status */
	synced_ok(l, b, NOW, 0, NULL);
	db_rows("SELECT c.azure_sync, s.attempts, s.last_status, s.etag, "
	    "s.synced_at FROM certificates AS c JOIN azure_sync_state AS s "
	    "ON s.cert_id = c.id WHERE c.id = 2", v, sizeof(v));
	ck_assert_str_eq(v, "synced|0|NULL|NULL|1700000000\n");
	ck_assert_uint_eq(due(l, NOW, 10, v, sizeof(v)), 0);
	/* again, or a defer after it: refused, nothing written */
	ck_assert_int_eq(mca_ledger_azure_synced(l, a, NOW + 9, 201, "x", &d),
	    MCA_ERR_NOTFOUND);
	ck_assert_msg(strstr(d.msg, "certificate 1 is not pending (azure_sync "
	    "is synced)") != NULL, "%s", d.msg);
	ck_assert_int_eq(mca_ledger_azure_defer(l, a, NOW + 9, NOW + 9, 500,
	    "x", NULL, 0, &d), MCA_ERR_NOTFOUND);
	ck_assert_str_eq(mca_ledger_errmsg(l, MCA_ERR_NOTFOUND), d.msg);
	ck_assert_int_eq(db_int("SELECT updated_at FROM azure_sync_state "
	    "WHERE cert_id = 1"), NOW + 5);
	/* unknown id */
	ck_assert_int_eq(mca_ledger_azure_synced(l, 77, NOW, 200, NULL, &d),
	    MCA_ERR_NOTFOUND);
	ck_assert_msg(strstr(d.msg, "no certificate with id 77") != NULL,
	    "%s", d.msg);
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_defer)
{
	struct mca_ledger	*l = ledger_open(1);
	struct mca_ledger_azrow	*rows = NULL;
	struct mca_diag		 d;
	long long		 a;
	size_t			 n;
	char			 v[1024];

	a = issue(l, "0A", "devices", 1, NULL);
	defer_ok(l, a, NOW, NOW + 10, 0, "connect to hub: timed out", NULL,
	    0);
	db_rows("SELECT attempts, next_attempt, last_status, last_error, "
	    "request_id, updated_at FROM azure_sync_state", v, sizeof(v));
	ck_assert_str_eq(v, "1|1700000010|NULL|connect to hub: timed out|NULL|"
	    "1700000000\n");
	/* the next: attempts grow, the request id is recorded */
	defer_ok(l, a, NOW + 10, NOW + 40, 202, "workflow running", "WF-77",
	    0);
	db_rows("SELECT attempts, next_attempt, last_status, last_error, "
	    "request_id, updated_at FROM azure_sync_state", v, sizeof(v));
	ck_assert_str_eq(v, "2|1700000040|202|workflow running|WF-77|"
	    "1700000010\n");
	/* NULL keeps the request id, and an error may be none */
	defer_ok(l, a, NOW + 40, NOW + 100, 429, NULL, NULL, 0);
	db_rows("SELECT attempts, last_status, last_error, request_id "
	    "FROM azure_sync_state", v, sizeof(v));
	ck_assert_str_eq(v, "3|429|NULL|WF-77\n");
	/* what the job is handed next time */
	ck_assert_int_eq(mca_ledger_azure_due(l, NOW + 100, 5, &rows, &n, &d),
	    0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(rows[0].attempts, 3);
	ck_assert_int_eq(rows[0].next_attempt, NOW + 100);
	ck_assert_str_eq(rows[0].request_id, "WF-77");
	mca_ledger_azrows_free(rows, n);
	/* "" clears it: the next run submits anew */
	defer_ok(l, a, NOW + 100, NOW + 200, 404, "no such request", "", 0);
	db_rows("SELECT attempts, request_id, c.azure_sync FROM "
	    "azure_sync_state JOIN certificates AS c ON c.id = cert_id", v,
	    sizeof(v));
	ck_assert_str_eq(v, "4|NULL|pending\n");
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_failed)
{
	struct mca_ledger	*l = ledger_open(1);
	long long		 a;
	char			 v[512];

	a = issue(l, "0A", "devices", 1, NULL);
	issue(l, "0B", "devices", 1, NULL);
	defer_ok(l, a, NOW, NOW + 60, 400, "hub refused the device: "
	    "InvalidThumbprint", NULL, 1);
	db_rows("SELECT c.azure_sync, s.attempts, s.last_status, s.last_error "
	    "FROM certificates AS c JOIN azure_sync_state AS s "
	    "ON s.cert_id = c.id", v, sizeof(v));
	ck_assert_str_eq(v, "failed|1|400|hub refused the device: "
	    "InvalidThumbprint\n");
	/* never again by itself, whenever */
	ck_assert_uint_eq(due(l, NOW + 86400 * 365, 10, v, sizeof(v)), 1);
	ck_assert_str_eq(v, "0B");
	/* and the job cannot touch it */
	ck_assert_int_eq(mca_ledger_azure_synced(l, a, NOW, 200, NULL, NULL),
	    MCA_ERR_NOTFOUND);
	/* the auditor's view */
	db_rows("SELECT serial, state, attempts, next_attempt FROM azure_queue",
	    v, sizeof(v));
	ck_assert_str_eq(v, "0A|failed|1|2023-11-14T22:14:20Z\n"
	    "0B|pending|0|NULL\n");
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_prev_pem)
{
	struct mca_ledger	*l = ledger_open(1);
	struct mca_ledger_azrow	*rows = NULL;
	struct mca_diag		 d;
	size_t			 n;

	issue(l, "0A", "devices", 1, NULL);
	issue(l, "0B", "servers", 0, NULL);
	issue(l, "1A", "devices", 1, "0A");
	/* a renewal on a device label of a certificate from another one */
	issue(l, "1B", "devices", 1, "0B");
	ck_assert_int_eq(mca_ledger_azure_due(l, NOW, 10, &rows, &n, &d), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(rows[0].serial, "0A");
	ck_assert_ptr_null(rows[0].prev_pem);
	ck_assert_str_eq(rows[1].serial, "1A");
	ck_assert_str_eq(rows[1].pem, "PEM 1A");
	ck_assert_ptr_nonnull(rows[1].prev_pem);
	ck_assert_str_eq(rows[1].prev_pem, "PEM 0A");
	ck_assert_str_eq(rows[2].serial, "1B");
	ck_assert_str_eq(rows[2].prev_pem, "PEM 0B");
	mca_ledger_azrows_free(rows, n);
	mca_ledger_close(l);
}
END_TEST

/*
 * 1,000 queued certificates among others, drained in batches as the
 * job does: every tenth put off the first time. Each one is handed out
 * in issue order, synced once, none lost, none twice.
 */
#define DRAIN_N		1000
#define DRAIN_BATCH	37

START_TEST(test_drain)
{
	struct mca_ledger	*l = ledger_open(0);
	struct mca_ledger_azrow	*rows = NULL;
	struct mca_diag		 d;
	static unsigned char	 seen[DRAIN_N * 2 + 1], synced[DRAIN_N * 2 + 1];
	char			 serial[16];
	long long		 last, id;
	size_t			 n, i, nsynced = 0, ndeferred = 0, batches;
	int			 k, round;

	memset(seen, 0, sizeof(seen));
	memset(synced, 0, sizeof(synced));
	for (k = 0; k < DRAIN_N; k++) {
		(void)snprintf(serial, sizeof(serial), "%04X", 2 * k + 1);
		issue(l, serial, "devices", 1, NULL);
		/* a server certificate between each two: never queued */
		(void)snprintf(serial, sizeof(serial), "%04X", 2 * k + 2);
		issue(l, serial, "servers", 0, NULL);
	}
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates WHERE "
	    "azure_sync = 'pending'"), DRAIN_N);
	/* Round 0 at NOW, round 1 when the put-off ones are due again. */
	for (round = 0; round < 2; round++) {
		last = 0;
		for (batches = 0;; batches++) {
			ck_assert_uint_lt(batches, DRAIN_N);
			ck_assert_int_eq(mca_ledger_azure_due(l, NOW + round *
			    100, DRAIN_BATCH, &rows, &n, &d), 0);
			if (n == 0)
				break;
			ck_assert_uint_le(n, DRAIN_BATCH);
			for (i = 0; i < n; i++) {
				id = rows[i].id;
				ck_assert_int_gt(id, last);
				last = id;
				ck_assert_int_le(id, 2 * DRAIN_N);
				ck_assert_int_eq(id % 2, 1);
				ck_assert_int_eq(synced[id], 0);
				seen[id]++;
				if (round == 0 && id % 20 == 1) {
					defer_ok(l, id, NOW, NOW + 100, 503,
					    "busy", NULL, 0);
					ndeferred++;
				} else {
					synced_ok(l, id, NOW + round * 100,
					    200, "\"e\"");
					synced[id] = 1;
					nsynced++;
				}
			}
			mca_ledger_azrows_free(rows, n);
			rows = NULL;
		}
		if (round == 0) {
			ck_assert_uint_eq(ndeferred, DRAIN_N / 10);
			ck_assert_uint_eq(nsynced, DRAIN_N - DRAIN_N / 10);
		}
	}
	ck_assert_uint_eq(nsynced, DRAIN_N);
	for (k = 1; k <= 2 * DRAIN_N; k++) {
		if (k % 2 == 0) {
			ck_assert_int_eq(seen[k], 0);
			continue;
		}
		ck_assert_int_eq(synced[k], 1);
		ck_assert_int_eq(seen[k], k % 20 == 1 ? 2 : 1);
	}
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates WHERE "
	    "azure_sync = 'synced'"), DRAIN_N);
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates WHERE "
	    "azure_sync = 'none'"), DRAIN_N);
	ck_assert_int_eq(db_int("SELECT count(*) FROM azure_sync_state WHERE "
	    "attempts = 1"), DRAIN_N / 10);
	mca_ledger_close(l);
}
END_TEST

/* ------------------------------------------------------------ admin */

struct collect {
	char	 buf[4096];
	size_t	 len;
	int	 stop_at;	/* return 7 at this row (1-based); 0 never */
	int	 rows;
};

static int
collect(void *arg, const struct mca_ledger_azstatus *s)
{
	struct collect	*c = arg;

	c->len += (size_t)snprintf(c->buf + c->len, sizeof(c->buf) - c->len,
	    "%s|%s|%s|%s|%d|%lld|%ld|%s|%s|%lld|%s\n", s->serial, s->label,
	    s->subject, s->state, s->attempts, s->next_attempt,
	    s->last_status, s->last_error, s->request_id, s->synced_at,
	    s->pem != NULL ? s->pem : "NULL");
	ck_assert_uint_lt(c->len, sizeof(c->buf));
	ck_assert_uint_eq(strlen(s->issued_at), 20);
	if (++c->rows == c->stop_at)
		return 7;
	return 0;
}

START_TEST(test_list)
{
	struct mca_ledger	*l = ledger_open(1);
	struct collect		 c;
	struct mca_diag		 d;

	issue(l, "0A", "devices", 1, NULL);
	issue(l, "0B", "servers", 0, NULL);
	issue(l, "0C", "devices", 1, NULL);
	issue(l, "0D", "devices", 1, NULL);
	issue(l, "0E", "devices", 1, NULL);
	defer_ok(l, 1, NOW, NOW + 1, 400, "bad request", "R1", 1);
	synced_ok(l, 3, NOW, 200, "\"x\"");
	defer_ok(l, 4, NOW, NOW + 30, 429, "throttled", NULL, 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(mca_ledger_azure_list(l, 0, collect, &c, &d), 0);
	ck_assert_str_eq(c.buf,
	    "0A|devices|CN=dev-0A,O=microca|failed|1|1700000001|400|"
	    "bad request|R1|0|PEM 0A\n"
	    "0D|devices|CN=dev-0D,O=microca|pending|1|1700000030|429|"
	    "throttled||0|PEM 0D\n"
	    "0E|devices|CN=dev-0E,O=microca|pending|0|0|0|||0|PEM 0E\n");
	/* all: the synced ones too, never the unqueued */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(mca_ledger_azure_list(l, 1, collect, &c, &d), 0);
	ck_assert_int_eq(c.rows, 4);
	ck_assert_ptr_nonnull(strstr(c.buf, "\n0C|devices|CN=dev-0C,O=microca|"
	    "synced|0|0|200|||1700000000|PEM 0C\n0D|"));
	ck_assert_ptr_null(strstr(c.buf, "0B|"));
	/* the callback stops the walk */
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	ck_assert_int_eq(mca_ledger_azure_list(l, 1, collect, &c, &d), 7);
	ck_assert_int_eq(c.rows, 2);
	/* the two halves of the list come each from its partial index */
	{
		sqlite3		*db = db_open();
		sqlite3_stmt	*st = NULL;
		int		 pend = 0, fail = 0;
		const char	*p;

		ck_assert_int_eq(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN "
		    "SELECT * FROM (SELECT id FROM certificates WHERE "
		    "azure_sync = 'pending' UNION ALL SELECT id FROM "
		    "certificates WHERE azure_sync = 'failed') ORDER BY 1", -1,
		    &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			p = (const char *)sqlite3_column_text(st, 3);
			pend |= strstr(p, "certificates_azure_pending") != NULL;
			fail |= strstr(p, "certificates_azure_failed") != NULL;
		}
		sqlite3_finalize(st);
		sqlite3_close(db);
		ck_assert_int_eq(pend, 1);
		ck_assert_int_eq(fail, 1);
	}
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_retry_one)
{
	struct mca_ledger	*l = ledger_open(1);
	struct mca_diag		 d;
	size_t			 n = 99;
	char			 v[512];

	issue(l, "0A", "devices", 1, NULL);
	issue(l, "0B", "servers", 0, NULL);
	issue(l, "0C", "devices", 1, NULL);
	issue(l, "0D", "devices", 1, NULL);
	defer_ok(l, 1, NOW, NOW + 60, 400, "refused", "WF-1", 1);
	synced_ok(l, 3, NOW, 200, NULL);
	defer_ok(l, 4, NOW, NOW + 3600, 429, "throttled", "WF-4", 0);
	ck_assert_uint_eq(due(l, NOW, 10, v, sizeof(v)), 0);

	/* a failed row: pending at once, attempts kept, its workflow gone */
	ck_assert_int_eq(mca_ledger_azure_retry(l, "0A", NOW + 5, &n, &d), 0);
	ck_assert_uint_eq(n, 1);
	db_rows("SELECT c.azure_sync, s.attempts, s.next_attempt, "
	    "s.request_id, s.last_error, s.updated_at FROM certificates AS c "
	    "JOIN azure_sync_state AS s ON s.cert_id = c.id WHERE c.id = 1",
	    v, sizeof(v));
	ck_assert_str_eq(v, "pending|1|0|NULL|refused|1700000005\n");
	ck_assert_uint_eq(due(l, NOW, 10, v, sizeof(v)), 1);
	ck_assert_str_eq(v, "0A");
	/* a pending row put off: at once, its request still in flight */
	ck_assert_int_eq(mca_ledger_azure_retry(l, "0D", NOW + 5, &n, &d), 0);
	ck_assert_uint_eq(n, 1);
	db_rows("SELECT c.azure_sync, s.attempts, s.next_attempt, "
	    "s.request_id FROM certificates AS c JOIN azure_sync_state AS s "
	    "ON s.cert_id = c.id WHERE c.id = 4", v, sizeof(v));
	ck_assert_str_eq(v, "pending|1|0|WF-4\n");
	ck_assert_uint_eq(due(l, NOW, 10, v, sizeof(v)), 2);
	ck_assert_str_eq(v, "0A 0D");

	/* refused, each saying why, nothing written */
	n = 99;
	ck_assert_int_eq(mca_ledger_azure_retry(l, "0B", NOW, &n, &d),
	    MCA_ERR_POLICY);
	ck_assert_uint_eq(n, 0);
	ck_assert_msg(strstr(d.msg, "certificate 0B is not queued for Azure "
	    "IoT Hub: its label \"servers\" was not a device label") != NULL,
	    "%s", d.msg);
	ck_assert_int_eq(mca_ledger_azure_retry(l, "0C", NOW, &n, &d),
	    MCA_ERR_POLICY);
	ck_assert_msg(strstr(d.msg, "0C is synced to Azure IoT Hub already") !=
	    NULL, "%s", d.msg);
	ck_assert_int_eq(mca_ledger_azure_retry(l, "0EEE", NOW, &n, &d),
	    MCA_ERR_NOTFOUND);
	ck_assert_msg(strstr(d.msg, "no certificate with serial 0EEE") != NULL,
	    "%s", d.msg);
	ck_assert_int_eq(mca_ledger_azure_retry(l, "0a", NOW, &n, &d),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_retry(l, "", NOW, &n, &d),
	    MCA_ERR_INVAL);
	db_rows("SELECT serial, azure_sync FROM certificates ORDER BY id", v,
	    sizeof(v));
	ck_assert_str_eq(v, "0A|pending\n0B|none\n0C|synced\n0D|pending\n");
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_retry_all)
{
	struct mca_ledger	*l = ledger_open(1);
	struct mca_diag		 d;
	size_t			 n = 99;
	char			 v[512];

	issue(l, "0A", "devices", 1, NULL);
	issue(l, "0B", "devices", 1, NULL);
	issue(l, "0C", "devices", 1, NULL);
	issue(l, "0D", "devices", 1, NULL);
	issue(l, "0E", "servers", 0, NULL);
	issue(l, "0F", "devices", 1, NULL);
	/* none failed: nothing to do */
	ck_assert_int_eq(mca_ledger_azure_retry(l, NULL, NOW, &n, &d), 0);
	ck_assert_uint_eq(n, 0);
	defer_ok(l, 1, NOW, NOW + 60, 400, "refused", "WF-1", 1);
	defer_ok(l, 2, NOW, NOW + 60, 404, "gone", NULL, 1);
	synced_ok(l, 3, NOW, 200, NULL);
	defer_ok(l, 4, NOW, NOW + 3600, 429, "throttled", "WF-4", 0);
	defer_ok(l, 6, NOW, NOW + 60, 403, "forbidden", NULL, 1);
	ck_assert_uint_eq(due(l, NOW, 10, v, sizeof(v)), 0);
	ck_assert_int_eq(mca_ledger_azure_retry(l, NULL, NOW + 7, &n, &d), 0);
	ck_assert_uint_eq(n, 3);
	db_rows("SELECT c.serial, c.azure_sync, s.attempts, s.next_attempt, "
	    "s.request_id FROM certificates AS c LEFT JOIN azure_sync_state "
	    "AS s ON s.cert_id = c.id ORDER BY c.id", v, sizeof(v));
	/* the put-off pending row keeps its wait: only failed ones move */
	ck_assert_str_eq(v, "0A|pending|1|0|NULL\n"
	    "0B|pending|1|0|NULL\n"
	    "0C|synced|0|0|NULL\n"
	    "0D|pending|1|1700003600|WF-4\n"
	    "0E|none|NULL|NULL|NULL\n"
	    "0F|pending|1|0|NULL\n");
	ck_assert_uint_eq(due(l, NOW, 10, v, sizeof(v)), 3);
	ck_assert_str_eq(v, "0A 0B 0F");
	mca_ledger_close(l);
}
END_TEST

/* ------------------------------------------------------------ migration */

/*
 * A ledger made by a build whose last migration was 0008: its rows stay
 * as they were, the pending ones are still pending, never tried.
 */
START_TEST(test_migrate_from_8)
{
	struct mca_ledger	*l;
	struct mca_ledger_azrow	*rows = NULL;
	struct mca_diag		 d;
	sqlite3			*db;
	size_t			 i, n;
	int			 v = 0;
	char			 q[64], out[1024];

	db = db_open();
	db_exec(db, "BEGIN");
	for (i = 0; i < mca_sql_nmigrations; i++) {
		db_exec(db, mca_sql_migrations[i].sql);
		if (strcmp(mca_sql_migrations[i].name,
		    "0008-ca-state.sql") == 0)
			break;
	}
	ck_assert_uint_lt(i, mca_sql_nmigrations);
	(void)snprintf(q, sizeof(q), "PRAGMA user_version = %zu", i + 1);
	db_exec(db, q);
	db_exec(db, "COMMIT");
	ck_assert_int_eq(sqlite3_exec(db, "SELECT 1 FROM azure_sync_state",
	    NULL, NULL, NULL), SQLITE_ERROR);
	db_exec(db, "INSERT INTO certificates (serial, subject, issuer, "
	    "not_before, not_after, label, operation, sha1, sha256, "
	    "key_origin, pem, azure_sync) VALUES "
	    "('0A', 'CN=a', '" ISSUER "', '2024-01-01T00:00:00Z', "
	    "'2030-01-01T00:00:00Z', 'devices', 'enroll', '" SHA1 "', '"
	    SHA256 "', 'client', 'PEM 0A', 'pending'), "
	    "('0B', 'CN=b', '" ISSUER "', '2024-01-01T00:00:00Z', "
	    "'2030-01-01T00:00:00Z', 'servers', 'enroll', '" SHA1 "', '"
	    SHA256 "', 'client', 'PEM 0B', 'none'), "
	    "('0C', 'CN=c', '" ISSUER "', '2024-01-01T00:00:00Z', "
	    "'2030-01-01T00:00:00Z', 'devices', 'enroll', '" SHA1 "', '"
	    SHA256 "', 'client', 'PEM 0C', 'synced'), "
	    "('0D', 'CN=d', '" ISSUER "', '2024-01-01T00:00:00Z', "
	    "'2030-01-01T00:00:00Z', 'devices', 'reenroll', '" SHA1 "', '"
	    SHA256 "', 'client', 'PEM 0D', 'pending')");
	db_exec(db, "UPDATE certificates SET replaces_serial = '0C' "
	    "WHERE serial = '0D'");
	sqlite3_close(db);

	l = ledger_open(1);
	ck_assert_int_eq(mca_ledger_version(l, &v), 0);
	ck_assert_int_eq(v, (int)mca_sql_nmigrations);
	db_rows("SELECT serial, azure_sync, pem FROM certificates ORDER BY id",
	    out, sizeof(out));
	ck_assert_str_eq(out, "0A|pending|PEM 0A\n0B|none|PEM 0B\n"
	    "0C|synced|PEM 0C\n0D|pending|PEM 0D\n");
	ck_assert_int_eq(db_int("SELECT count(*) FROM schema_migrations "
	    "WHERE name = '0009-azure-sync.sql'"), 1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM azure_sync_state"), 0);
	ck_assert_int_eq(mca_ledger_azure_due(l, NOW, 10, &rows, &n, &d), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rows[0].serial, "0A");
	ck_assert_int_eq(rows[0].attempts, 0);
	ck_assert_str_eq(rows[1].serial, "0D");
	ck_assert_str_eq(rows[1].prev_pem, "PEM 0C");
	mca_ledger_azrows_free(rows, n);
	/* and the queue works on them */
	synced_ok(l, 1, NOW, 201, "\"new\"");
	ck_assert_uint_eq(due(l, NOW, 10, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "0D");
	mca_ledger_close(l);
	/* a second open: nothing more to apply */
	l = ledger_open(1);
	mca_ledger_close(l);
	ck_assert_int_eq(db_int("SELECT count(*) FROM schema_migrations"),
	    (long long)mca_sql_nmigrations);
}
END_TEST

/* ------------------------------------------------------------ bad input */

/* One line of n bytes of c. */
static char *
text(size_t n, char c)
{
	char	*s;

	ck_assert_ptr_nonnull(s = malloc(n + 1));
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

START_TEST(test_caps)
{
	struct mca_ledger	*l = ledger_open(1);
	struct mca_ledger_azrow	*rows = (struct mca_ledger_azrow *)&l;
	struct mca_diag		 d;
	char			*e512 = text(MCA_LEDGER_AZ_ERROR_MAX, 'e');
	char			*e513 = text(MCA_LEDGER_AZ_ERROR_MAX + 1, 'e');
	char			*t127 = text(MCA_LEDGER_AZ_TAG_MAX, 't');
	char			*t128 = text(MCA_LEDGER_AZ_TAG_MAX + 1, 't');
	size_t			 n = 99;
	long long		 a;
	char			 v[2048];

	a = issue(l, "0A", "devices", 1, NULL);
	/* over the caps, or not one line: refused, nothing written */
	ck_assert_int_eq(mca_ledger_azure_defer(l, a, NOW, NOW, 500, e513,
	    NULL, 0, &d), MCA_ERR_INVAL);
	ck_assert_msg(strstr(d.msg, "one line of at most 512 bytes") != NULL,
	    "%s", d.msg);
	ck_assert_int_eq(mca_ledger_azure_defer(l, a, NOW, NOW, 500,
	    "line 1\nline 2", NULL, 0, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_defer(l, a, NOW, NOW, 500,
	    "tab\there", NULL, 0, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_defer(l, a, NOW, NOW, 500, "x",
	    t128, 0, &d), MCA_ERR_INVAL);
	ck_assert_msg(strstr(d.msg, "request id must be at most 127 bytes") !=
	    NULL, "%s", d.msg);
	ck_assert_int_eq(mca_ledger_azure_defer(l, a, NOW, NOW, 500, "x",
	    "a\rb", 0, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_defer(l, a, NOW, NOW, 99, "x",
	    NULL, 0, &d), MCA_ERR_INVAL);
	ck_assert_msg(strstr(d.msg, "HTTP status 99") != NULL, "%s", d.msg);
	ck_assert_int_eq(mca_ledger_azure_defer(l, a, NOW, NOW, 600, "x",
	    NULL, 0, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_defer(l, a, NOW, NOW, -1, "x",
	    NULL, 0, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_defer(l, a, NOW, -5, 500, "x",
	    NULL, 0, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_defer(l, a, -1, NOW, 500, "x",
	    NULL, 0, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_defer(l, 0, NOW, NOW, 500, "x",
	    NULL, 0, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_synced(l, a, NOW, 200, t128, &d),
	    MCA_ERR_INVAL);
	ck_assert_msg(strstr(d.msg, "etag must be at most 127 bytes") != NULL,
	    "%s", d.msg);
	ck_assert_int_eq(mca_ledger_azure_synced(l, a, NOW, 200, "\"a\nb\"",
	    &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_synced(l, a, NOW, 1000, NULL, &d),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_synced(l, -3, NOW, 200, NULL, &d),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(db_int("SELECT count(*) FROM azure_sync_state"), 0);
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates WHERE "
	    "azure_sync = 'pending'"), 1);
	/* at the caps: taken, as given */
	defer_ok(l, a, NOW, NOW, 500, e512, t127, 0);
	(void)snprintf(v, sizeof(v), "1|%s|%s\n", e512, t127);
	{
		char	 got[2048];

		db_rows("SELECT attempts, last_error, request_id FROM "
		    "azure_sync_state", got, sizeof(got));
		ck_assert_str_eq(got, v);
	}
	synced_ok(l, a, NOW, 599, t127);
	/* the table refuses what the code would, for other writers */
	{
		sqlite3	*db = db_open();
		char	 q[1024];

		(void)snprintf(q, sizeof(q), "UPDATE azure_sync_state SET "
		    "last_error = '%s'", e513);
		ck_assert_int_eq(sqlite3_exec(db, q, NULL, NULL, NULL),
		    SQLITE_CONSTRAINT);
		ck_assert_int_eq(sqlite3_exec(db, "UPDATE azure_sync_state SET "
		    "last_error = 'a' || char(10) || 'b'", NULL, NULL, NULL),
		    SQLITE_CONSTRAINT);
		ck_assert_int_eq(sqlite3_exec(db, "UPDATE azure_sync_state SET "
		    "last_status = 99", NULL, NULL, NULL), SQLITE_CONSTRAINT);
		ck_assert_int_eq(sqlite3_exec(db, "UPDATE azure_sync_state SET "
		    "attempts = -1", NULL, NULL, NULL), SQLITE_CONSTRAINT);
		ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO "
		    "azure_sync_state (cert_id, updated_at) VALUES (99, 1)",
		    NULL, NULL, NULL), SQLITE_OK);
		db_exec(db, "PRAGMA foreign_keys = ON");
		ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO "
		    "azure_sync_state (cert_id, updated_at) VALUES (98, 1)",
		    NULL, NULL, NULL), SQLITE_CONSTRAINT);
		sqlite3_close(db);
	}
	/* NULL arguments */
	ck_assert_int_eq(mca_ledger_azure_due(NULL, NOW, 1, &rows, &n, &d),
	    MCA_ERR_INVAL);
	ck_assert_ptr_null(rows);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(mca_ledger_azure_due(l, NOW, 1, NULL, &n, NULL),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_synced(NULL, 1, NOW, 200, NULL,
	    NULL), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_defer(NULL, 1, NOW, NOW, 0, NULL,
	    NULL, 0, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_list(l, 0, NULL, NULL, &d),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_azure_retry(l, NULL, NOW, NULL, &d),
	    MCA_ERR_INVAL);
	mca_ledger_azrows_free(NULL, 5);
	free(e512);
	free(e513);
	free(t127);
	free(t128);
	mca_ledger_close(l);
}
END_TEST

/* A serial or label too long for the row: an error, never a cut. */
START_TEST(test_long_serial)
{
	struct mca_ledger	*l = ledger_open(1);
	struct mca_ledger_azrow	*rows = NULL;
	struct mca_diag		 d;
	char			*s = text(MCA_LEDGER_AZ_SERIAL_MAX + 1, 'A');
	size_t			 n = 99;

	issue(l, "0A", "devices", 1, NULL);
	issue(l, s, "devices", 1, NULL);
	ck_assert_int_eq(mca_ledger_azure_due(l, NOW, 1, &rows, &n, &d), 0);
	ck_assert_uint_eq(n, 1);
	mca_ledger_azrows_free(rows, n);
	ck_assert_int_eq(mca_ledger_azure_due(l, NOW, 2, &rows, &n, &d),
	    MCA_ERR_DB);
	ck_assert_ptr_null(rows);
	ck_assert_uint_eq(n, 0);
	ck_assert_msg(strstr(d.msg, "serial of certificate 2 is over 128 "
	    "bytes") != NULL, "%s", d.msg);
	ck_assert_int_eq(mca_ledger_azure_retry(l, s, NOW, &n, &d),
	    MCA_ERR_INVAL);
	free(s);
	mca_ledger_close(l);
}
END_TEST

/* ------------------------------------------------------------ locks */

/* Another process holds the write lock: each writer waits, then says so. */
START_TEST(test_busy)
{
	struct mca_ledger	*l = ledger_open(1);
	struct mca_diag		 d;
	sqlite3			*db;
	time_t			 t0;

	issue(l, "0A", "devices", 1, NULL);
	issue(l, "0B", "devices", 1, NULL);
	defer_ok(l, 2, NOW, NOW, 400, "no", NULL, 1);
	db = db_open();
	db_exec(db, "BEGIN IMMEDIATE");
	t0 = time(NULL);
	ck_assert_int_eq(mca_ledger_azure_defer(l, 1, NOW, NOW + 9, 503,
	    "down", NULL, 0, &d), MCA_ERR_BUSY);
	/* It waited for the lock, as long as the ledger promises. */
	ck_assert_int_ge(time(NULL) - t0, MCA_LEDGER_BUSY_MS / 1000 - 1);
	ck_assert_str_eq(d.msg, "begin: database is locked (SQLITE_BUSY 5)");
	ck_assert_str_eq(mca_ledger_errmsg(l, MCA_ERR_BUSY), d.msg);
	/* readers are not held up (WAL) */
	{
		char	 v[64];

		ck_assert_uint_eq(due(l, NOW, 10, v, sizeof(v)), 1);
	}
	db_exec(db, "ROLLBACK");
	sqlite3_close(db);
	ck_assert_int_eq(db_int("SELECT count(*) FROM azure_sync_state"), 1);
	defer_ok(l, 1, NOW, NOW + 9, 503, "down", NULL, 0);
	mca_ledger_close(l);
}
END_TEST

/*
 * A lock held for a moment by another process: the writer waits for it
 * and succeeds (the child holds it far less than MCA_LEDGER_BUSY_MS).
 */
START_TEST(test_busy_wait)
{
	struct mca_ledger	*l = ledger_open(1);
	struct timespec		 ts = { 0, 200 * 1000 * 1000 };
	pid_t			 pid;
	int			 p[2], st;
	char			 c;

	issue(l, "0A", "devices", 1, NULL);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		sqlite3	*db = NULL;

		(void)close(p[0]);
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
		    SQLITE_OK)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		(void)nanosleep(&ts, NULL);
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			_exit(3);
		sqlite3_close(db);
		_exit(0);
	}
	(void)close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	(void)close(p[0]);
	defer_ok(l, 1, NOW, NOW + 9, 503, "down", NULL, 0);
	synced_ok(l, 1, NOW + 9, 200, NULL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d", st);
	ck_assert_int_eq(db_int("SELECT attempts FROM azure_sync_state"), 1);
	mca_ledger_close(l);
}
END_TEST

Suite *
ledger_azure_suite(void);

Suite *
ledger_azure_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("ledger_azure");

	tc = tcase_create("queue");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_issue_marks);
	tcase_add_test(tc, test_due_order);
	tcase_add_test(tc, test_next_attempt);
	tcase_add_test(tc, test_synced);
	tcase_add_test(tc, test_defer);
	tcase_add_test(tc, test_failed);
	tcase_add_test(tc, test_prev_pem);
	tcase_add_test(tc, test_drain);
	suite_add_tcase(s, tc);

	tc = tcase_create("admin");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_retry_one);
	tcase_add_test(tc, test_retry_all);
	suite_add_tcase(s, tc);

	tc = tcase_create("schema");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_migrate_from_8);
	tcase_add_test(tc, test_caps);
	tcase_add_test(tc, test_long_serial);
	suite_add_tcase(s, tc);

	tc = tcase_create("locks");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_busy);
	tcase_add_test(tc, test_busy_wait);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return tu_run(ledger_azure_suite());
}
