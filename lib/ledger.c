/*
 * The issuance ledger on SQLite. Each FastCGI worker opens it once and
 * keeps the connection and its prepared statements for all the requests
 * it serves; several workers write to the same file, which WAL and the
 * busy timeout make safe.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "err.h"
#include "ledger.h"
#include "ledger_int.h"

/* Group and owner may read: the audit cron job runs in the CA's group. */
#define MCA_LEDGER_MODE	0640
/* Retry step while another worker converts a new file to WAL. */
#define MCA_LEDGER_WAL_RETRY_MS	10
/* Refusals: old rows go at most this often (s), this many at a time. */
#define MCA_LEDGER_PRUNE_EVERY	60
#define MCA_LEDGER_PRUNE_BATCH_S "5000"
/* The message of trigger certificates_revoked (0010-revocations.sql). */
#define MCA_LEDGER_REVOKED_RAISE \
	"certificates: a revoked certificate obtains nothing"
/* Counts of refusals over the cap are written at most this often (s). */
#define MCA_LEDGER_FLUSH_EVERY	1
/* Its rows not chained yet are chained by mca_chain_backfill(). */
#define MCA_LEDGER_CHAIN_MIGRATION	"0014-chain-in-rows.sql"

enum mca_ledger_stmt {
	STMT_INSERT_CERT,
	STMT_INSERT_REFUSAL,
	STMT_FIND,
	STMT_VERSION,
	/* schema 2: passcodes */
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_PC_SPEND,
	STMT_PC_ADD,
	STMT_PC_GET,
	STMT_PC_REVOKE,
	STMT_PC_LIST,
	/* 0005-superseded.sql */
	STMT_SUPERSEDE,
	/* 0006-failure-budgets.sql */
	STMT_FAIL_GET,
	STMT_FAIL_ID,
	STMT_FAIL_PRUNE,
	STMT_FAIL_ADDR,
	STMT_FAIL_CAP,
	/* schema 4: refusals kept bounded */
	STMT_RF_COUNT,
	STMT_RF_PRUNE,
	STMT_RF_PRUNE_COUNTS,
	/* schema 7: cron state */
	STMT_CRON_GET,
	STMT_CRON_SET,
	/* 0014-chain-in-rows.sql */
	STMT_CHAIN_HEAD,
	STMT_CHAIN_CERT,
	STMT_CHAIN_REV,
	STMT_MAX
};

/* What each statement does, for the detail of a failure. */
static const char *const mca_ledger_what[STMT_MAX] = {
	"insert into certificates",
	"insert into refusals",
	"find certificate",
	"read user_version",
	"begin",
	"commit",
	"rollback",
	"spend passcode",
	"insert into passcodes",
	"read passcode",
	"revoke passcode",
	"list passcodes",
	"mark certificate superseded",
	"read failure counts",
	"count a passcode failure",
	"prune address_failures",
	"count an address failure",
	"cap address_failures",
	"count refusals",
	"prune refusals",
	"prune refusal_counts",
	"read cron_state",
	"write cron_state",
	"read the chain's head",
	"chain a certificates row",
	"chain a revocations row",
};

/* The columns struct mca_ledger_passcode is read from, in its order. */
#define PC_SELECT \
	"SELECT s.id, s.label, p.hash, s.uses_total, s.uses_left, " \
	"s.expires_at, s.state, s.created_at, s.created_by, s.comment, " \
	"s.revoked_at, s.last_used_at, s.issued " \
	"FROM passcode_status AS s JOIN passcodes AS p ON p.id = s.id "
#define ISO_NOW	"strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
/* A failure window opened at col is over at ?2 (now), window ?3. */
#define FAIL_STALE(col) \
	"(" col " IS NULL OR " col " > ?2 OR " col " <= ?2 - ?3)"

static const char *const mca_ledger_sql[STMT_MAX] = {
	/* STMT_INSERT_CERT: parameter order = struct mca_ledger_cert. */
	"INSERT INTO certificates (serial, subject, san, issuer, "
	"not_before, not_after, label, operation, requester_subject, "
	"requester_serial, requester_issuer, remote_addr, sha1, sha256, "
	"key_type, pem, replaces_serial, key_origin, azure_sync, "
	"auth_method, requester_user, passcode_id) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	"?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22) "
	/* What the chain hashes, as stored (lib/ledger_chain.c). */
	"RETURNING " MCA_CHAIN_CERT_COLS,
	/*
	 * STMT_INSERT_REFUSAL: a row while this minute (?11, its first
	 * second) has fewer than ?12 rows; nothing otherwise, and the
	 * refusal is counted instead. One statement: the cap holds across
	 * workers. refusals_at bounds the count at ?12 index entries.
	 */
	"INSERT INTO refusals (label, operation, requester_subject, "
	"requester_serial, requester_issuer, remote_addr, status, reason, "
	"requester_user, passcode_id) "
	"SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 "
	"WHERE (SELECT count(*) FROM (SELECT 1 FROM refusals "
	"WHERE at >= ?11 LIMIT ?12)) < ?12",
	/*
	 * STMT_FIND: the newest row that renews this one, if any; whether
	 * a grace renewal superseded it; when it was first renewed, and
	 * how many seconds ago (NULL: never); the reason it is revoked for
	 * now (0010-revocations.sql: the latest event's reason, which only
	 * a 'revoke' has; NULL: not revoked).
	 */
	"SELECT c.label, c.not_after, "
	"(SELECT n.serial FROM certificates AS n "
	"WHERE n.replaces_serial = c.serial "
	"ORDER BY n.issued_at DESC, n.id DESC LIMIT 1), "
	"c.superseded_by, r.first, "
	"CAST(strftime('%s', 'now') AS INTEGER) - "
	"CAST(strftime('%s', r.first) AS INTEGER), "
	"(SELECT e.reason FROM revocations AS e WHERE e.serial = c.serial "
	"ORDER BY e.id DESC LIMIT 1) "
	"FROM certificates AS c, (SELECT min(n.issued_at) AS first "
	"FROM certificates AS n WHERE n.replaces_serial = ?1) AS r "
	"WHERE c.serial = ?1 AND c.issuer = ?2",
	/* STMT_VERSION */
	"PRAGMA user_version",
	/* STMT_BEGIN: the write lock first, so the spend cannot race. */
	"BEGIN IMMEDIATE",
	/* STMT_COMMIT */
	"COMMIT",
	/* STMT_ROLLBACK */
	"ROLLBACK",
	/*
	 * STMT_PC_SPEND: changes exactly one row, or the passcode is not
	 * usable on this label now.
	 */
	"UPDATE passcodes SET uses_left = uses_left - 1, "
	"last_used_at = " ISO_NOW " "
	"WHERE id = ?1 AND label = ?2 AND uses_left > 0 AND "
	"revoked_at IS NULL AND expires_at > " ISO_NOW,
	/* STMT_PC_ADD */
	"INSERT INTO passcodes (id, label, hash, uses_total, uses_left, "
	"expires_at, created_by, comment) "
	"VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
	/* STMT_PC_GET */
	PC_SELECT "WHERE s.id = ?1",
	/* STMT_PC_REVOKE */
	"UPDATE passcodes SET revoked_at = " ISO_NOW " "
	"WHERE id = ?1 AND revoked_at IS NULL",
	/* STMT_PC_LIST */
	PC_SELECT "WHERE (?1 IS NULL OR s.label = ?1) AND "
	"(?2 OR s.state = 'active') ORDER BY s.created_at, s.id",
	/* STMT_SUPERSEDE: the earlier renewals of ?2 give way to ?1. */
	"UPDATE certificates SET superseded_by = ?1, "
	"superseded_at = " ISO_NOW " "
	"WHERE replaces_serial = ?2 AND serial <> ?1 AND "
	"superseded_by IS NULL",
	/* STMT_FAIL_GET: both budgets in one step; NULL where no row. */
	"SELECT (SELECT failures FROM passcodes WHERE id = ?1), "
	"(SELECT failures_since FROM passcodes WHERE id = ?1), "
	"(SELECT failures FROM address_failures WHERE addr = ?2), "
	"(SELECT since FROM address_failures WHERE addr = ?2)",
	/*
	 * STMT_FAIL_ID: ?2 now, ?3 the window. A window that has ended (or
	 * lies in the future: the clock went back) gives way to a new one.
	 */
	"UPDATE passcodes SET "
	"failures = CASE WHEN " FAIL_STALE("failures_since") " THEN 1 "
	"ELSE failures + 1 END, "
	"failures_since = CASE WHEN " FAIL_STALE("failures_since") " THEN ?2 "
	"ELSE failures_since END WHERE id = ?1",
	/* STMT_FAIL_PRUNE: ?2 now, ?3 the window (there is no ?1). */
	"DELETE FROM address_failures WHERE " FAIL_STALE("since"),
	/* STMT_FAIL_ADDR: after the prune, a row left is in its window. */
	"INSERT INTO address_failures (addr, failures, since) "
	"VALUES (?1, 1, ?2) ON CONFLICT (addr) DO "
	"UPDATE SET failures = failures + 1",
	/* STMT_FAIL_CAP: the oldest windows beyond ?1 rows go. */
	"DELETE FROM address_failures WHERE rowid IN (SELECT rowid FROM "
	"address_failures ORDER BY since, rowid LIMIT max(0, (SELECT "
	"count(*) FROM address_failures) - ?1))",
	/* STMT_RF_COUNT: ?4 more refusals of one minute, label, status */
	"INSERT INTO refusal_counts (minute, label, status, n) "
	"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (minute, label, status) "
	"DO UPDATE SET n = n + excluded.n",
	/*
	 * STMT_RF_PRUNE: rows older than ?1 (ISO 8601), the oldest first, a
	 * bounded batch at a time (refusals_at): a backlog is worked off
	 * over several prunes, never in one long hold of the write lock.
	 */
	"DELETE FROM refusals WHERE id IN (SELECT id FROM refusals "
	"WHERE at < ?1 ORDER BY at LIMIT " MCA_LEDGER_PRUNE_BATCH_S ")",
	/* STMT_RF_PRUNE_COUNTS: the same for the counts (their key) */
	"DELETE FROM refusal_counts WHERE minute < ?1",
	/* STMT_CRON_GET */
	"SELECT last_check, last_result, last_message FROM cron_state "
	"WHERE tool = ?1 AND job = ?2",
	/* STMT_CRON_SET */
	"INSERT INTO cron_state (tool, job, last_check, last_result, "
	"last_message) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tool, job) "
	"DO UPDATE SET last_check = excluded.last_check, "
	"last_result = excluded.last_result, "
	"last_message = excluded.last_message",
	/* STMT_CHAIN_HEAD (the row being chained has none yet) */
	MCA_CHAIN_HEAD_SQL,
	/* STMT_CHAIN_CERT: the stamp, on the page the insert dirtied. */
	"UPDATE certificates SET chain_seq = ?1, chain_prev = ?2, "
	"chain_hash = ?3 WHERE id = ?4",
	/* STMT_CHAIN_REV */
	"UPDATE revocations SET chain_seq = ?1, chain_prev = ?2, "
	"chain_hash = ?3 WHERE id = ?4",
};

/* Refusals over the cap, counted here until they are flushed. */
struct mca_ledger_tally {
	char		 minute[24];	/* "YYYY-MM-DDTHH:MM:00Z" */
	char		 label[65];
	int		 status;
	long long	 n;
};
#define MCA_LEDGER_TALLY_MAX	16

struct mca_ledger {
	sqlite3		*db;
	sqlite3_stmt	*stmt[STMT_MAX];
	struct timespec	 busy_since;	/* this wait's first try */
	long		 busy_ms;	/* this wait's limit */
	struct mca_diag	 err;		/* why the last call failed */
	/* refusals: see mca_ledger_insert_refusal() */
	int		 keep_days;
	int		 per_minute_max;
	time_t		 full_minute;	/* the cap was reached in it */
	time_t		 pruned;	/* monotonic s of the last prune */
	time_t		 flushed;	/* and of the last tally flush */
	struct mca_ledger_tally tally[MCA_LEDGER_TALLY_MAX];
	size_t		 ntally;
	/* the chain's hash, made once per connection */
	EVP_MD_CTX	*md_ctx;
	EVP_MD		*sha256;
};

static int	 mca_ledger_tally_flush(struct mca_ledger *);
static time_t	 mca_ledger_mono(void);

/*
 * Waits while another worker holds the write lock. SQLite's own
 * handler sleeps 1, 2, 5, 10, 15, 20 ms... between tries, while a ledger
 * commit holds the lock for about one fdatasync (0.1 ms here): with four
 * workers, most of the time the lock was free someone was asleep. Short
 * steps instead, from 20 us up to 1 ms, and MCA_LEDGER_BUSY_MS in all.
 * Returns nonzero to try again, 0 to give up (SQLITE_BUSY).
 */
static int
mca_ledger_busy(void *arg, int tries)
{
	struct mca_ledger	*l = arg;
	struct timespec		 now, step = { 0, 0 };
	long long		 ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 0;
	if (tries == 0)
		l->busy_since = now;
	ms = (now.tv_sec - l->busy_since.tv_sec) * 1000LL +
	    (now.tv_nsec - l->busy_since.tv_nsec) / 1000000;
	if (ms >= l->busy_ms)
		return 0;
	step.tv_nsec = (tries < 6 ? 20000L << tries : 1000000L);
	(void)nanosleep(&step, NULL);
	return 1;
}

/*
 * Maps a failed step to our codes. A UNIQUE violation can only be the
 * serial of a certificate or the ID of a passcode: the only unique keys
 * each INSERT writes.
 */
static int
mca_ledger_rc(sqlite3 *db, int src)
{
	switch (src & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return MCA_ERR_BUSY;
	case SQLITE_CONSTRAINT:
		if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE ||
		    sqlite3_extended_errcode(db) ==
		    SQLITE_CONSTRAINT_PRIMARYKEY)
			return MCA_ERR_EXISTS;
		/*
		 * The RAISE of trigger certificates_revoked (0010-
		 * revocations.sql, word for word): a rule of the ledger
		 * refused the row, not a fault of the database.
		 */
		if (sqlite3_extended_errcode(db) ==
		    SQLITE_CONSTRAINT_TRIGGER && strcmp(sqlite3_errmsg(db),
		    MCA_LEDGER_REVOKED_RAISE) == 0)
			return MCA_ERR_POLICY;
		return MCA_ERR_DB;
	default:
		return MCA_ERR_DB;
	}
}

/* SQLite's primary result codes by name, for the log. */
static const char *const mca_ledger_codes[] = {
	"SQLITE_OK", "SQLITE_ERROR", "SQLITE_INTERNAL", "SQLITE_PERM",
	"SQLITE_ABORT", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_NOMEM",
	"SQLITE_READONLY", "SQLITE_INTERRUPT", "SQLITE_IOERR",
	"SQLITE_CORRUPT", "SQLITE_NOTFOUND", "SQLITE_FULL",
	"SQLITE_CANTOPEN", "SQLITE_PROTOCOL", "SQLITE_EMPTY", "SQLITE_SCHEMA",
	"SQLITE_TOOBIG", "SQLITE_CONSTRAINT", "SQLITE_MISMATCH",
	"SQLITE_MISUSE", "SQLITE_NOLFS", "SQLITE_AUTH", "SQLITE_FORMAT",
	"SQLITE_RANGE", "SQLITE_NOTADB", "SQLITE_NOTICE", "SQLITE_WARNING",
};

/*
 * Why the last call on db failed, src being what it returned, as one
 * line into d: "what: SQLite's message (NAME code)", with the extended
 * code when it says more: "insert into certificates: disk full
 * (SQLITE_CONSTRAINT 19, extended 1811)". Returns rc.
 */
static int
mca_ledger_why(struct mca_diag *d, int rc, sqlite3 *db, int src,
    const char *what)
{
	const char	*name = "SQLITE_?", *msg;
	int		 ext = sqlite3_extended_errcode(db);

	if ((src & 0xff) < (int)(sizeof(mca_ledger_codes) /
	    sizeof(mca_ledger_codes[0])))
		name = mca_ledger_codes[src & 0xff];
	/* The connection's own error belongs to another call: src's text. */
	if ((ext & 0xff) != (src & 0xff)) {
		ext = src;
		msg = sqlite3_errstr(src);
	} else
		msg = sqlite3_errmsg(db);
	if (ext != (src & 0xff))
		return mca_diag(d, rc, "%s: %s (%s %d, extended %d)", what,
		    msg, name, src & 0xff, ext);
	return mca_diag(d, rc, "%s: %s (%s %d)", what, msg, name, src & 0xff);
}

/* A failed step of statement i: l->err says why; our code is returned. */
static int
mca_ledger_fail(struct mca_ledger *l, enum mca_ledger_stmt i, int src)
{
	return mca_ledger_why(&l->err, mca_ledger_rc(l->db, src), l->db, src,
	    mca_ledger_what[i]);
}

/* Runs sql (no rows expected). 0 or MCA_ERR_DB/BUSY with d set. */
static int
mca_ledger_exec(sqlite3 *db, const char *path, const char *what,
    const char *sql, struct mca_diag *d)
{
	char	*emsg = NULL;
	int	 src, rc;

	if ((src = sqlite3_exec(db, sql, NULL, NULL, &emsg)) == SQLITE_OK)
		return 0;
	rc = (src & 0xff) == SQLITE_BUSY || (src & 0xff) == SQLITE_LOCKED ?
	    MCA_ERR_BUSY : MCA_ERR_DB;
	mca_diag(d, rc, "%s: %s: %s", path, what,
	    emsg != NULL ? emsg : sqlite3_errstr(src));
	sqlite3_free(emsg);
	return rc;
}

/*
 * Runs a one-row PRAGMA; its value goes to out as text, or to num when
 * out is NULL. 0, MCA_ERR_DB or MCA_ERR_BUSY with d set.
 */
static int
mca_ledger_pragma(sqlite3 *db, const char *path, const char *sql,
    char *out, size_t outsz, sqlite3_int64 *num, struct mca_diag *d)
{
	sqlite3_stmt		*st = NULL;
	const unsigned char	*t;
	int			 src, rc = MCA_ERR_DB;

	if (out != NULL)
		out[0] = '\0';
	if (num != NULL)
		*num = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		mca_diag(d, rc, "%s: %s: %s", path, sql, sqlite3_errmsg(db));
		goto out;
	}
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		rc = mca_ledger_rc(db, src);
		mca_diag(d, rc, "%s: %s: %s", path, sql, sqlite3_errmsg(db));
		goto out;
	}
	if (num != NULL)
		*num = sqlite3_column_int64(st, 0);
	if (out != NULL && (t = sqlite3_column_text(st, 0)) != NULL)
		(void)snprintf(out, outsz, "%s", (const char *)t);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * Ledgers made before migrations were recorded by name kept only
 * user_version: the number of files applied in the order of
 * SQL_MIGRATIONS as it then stood. That order differed between builds
 * (0006 was fourth before 0004 came, 0005 was fourth on its own branch),
 * so past the first three files, common to all, what a ledger has is
 * read from its schema: the object each later migration makes. Only
 * migrations that were released without schema_migrations need a line
 * here.
 */
static const char *const mca_ledger_legacy_first[] = {
	"schema.sql",
	"0002-passcodes.sql",
	"0003-sparse-index.sql",
};
static const struct {
	const char	*name;
	const char	*probe;		/* one row, one count */
} mca_ledger_legacy[] = {
	{ "0004-refusal-counts.sql", "SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'table' AND name = 'refusal_counts'" },
	{ "0005-superseded.sql", "SELECT count(*) FROM "
	    "pragma_table_info('certificates') WHERE name = 'superseded_by'" },
	{ "0006-failure-budgets.sql", "SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'table' AND name = 'address_failures'" },
};

/* Records name in schema_migrations. 0, MCA_ERR_DB or MCA_ERR_BUSY. */
static int
mca_ledger_record(sqlite3 *db, const char *path, const char *name,
    struct mca_diag *d)
{
	sqlite3_stmt	*st = NULL;
	int		 src, rc = 0;

	if ((src = sqlite3_prepare_v2(db, "INSERT INTO schema_migrations "
	    "(name) VALUES (?1)", -1, &st, NULL)) != SQLITE_OK ||
	    (src = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC)) !=
	    SQLITE_OK || (src = sqlite3_step(st)) != SQLITE_DONE) {
		rc = mca_ledger_rc(db, src);
		mca_diag(d, rc, "%s: schema_migrations: %s", path,
		    sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * A ledger with user_version cur > 0 and no schema_migrations: the
 * table, holding the names of the files it has (mca_ledger_legacy).
 * Refused if they are not cur in number: it has a migration this
 * program does not know. Inside the migration's transaction.
 * 0, MCA_ERR_DB or MCA_ERR_BUSY with d set.
 */
static int
mca_ledger_legacy_names(sqlite3 *db, const char *path, sqlite3_int64 cur,
    struct mca_diag *d)
{
	sqlite3_int64	 n = 0, found;
	size_t		 i;
	int		 rc;

	if ((rc = mca_ledger_exec(db, path, "schema_migrations",
	    mca_sql_migrations_table, d)) != 0)
		return rc;
	for (i = 0; i < sizeof(mca_ledger_legacy_first) /
	    sizeof(mca_ledger_legacy_first[0]) && n < cur; i++, n++)
		if ((rc = mca_ledger_record(db, path,
		    mca_ledger_legacy_first[i], d)) != 0)
			return rc;
	for (i = 0; i < sizeof(mca_ledger_legacy) /
	    sizeof(mca_ledger_legacy[0]); i++) {
		if ((rc = mca_ledger_pragma(db, path,
		    mca_ledger_legacy[i].probe, NULL, 0, &found, d)) != 0)
			return rc;
		if (found == 0)
			continue;
		if ((rc = mca_ledger_record(db, path, mca_ledger_legacy[i].name,
		    d)) != 0)
			return rc;
		n++;
	}
	if (n != cur)
		return mca_diag(d, MCA_ERR_DB, "%s: ledger schema version "
		    "%lld holds migrations this program does not know "
		    "(newer); refusing to use it", path, (long long)cur);
	return 0;
}

/*
 * Which of mca_sql_migrations[] the ledger has, by the names in
 * schema_migrations: have[i] is 1 for each. A name this program does not
 * know is a newer program's migration: refused. 0, MCA_ERR_DB or
 * MCA_ERR_BUSY with d set.
 */
static int
mca_ledger_applied(sqlite3 *db, const char *path, unsigned char *have,
    struct mca_diag *d)
{
	sqlite3_stmt		*st = NULL;
	const unsigned char	*t;
	size_t			 i;
	int			 src, rc = MCA_ERR_DB;

	memset(have, 0, mca_sql_nmigrations);
	if ((src = sqlite3_prepare_v2(db, "SELECT name FROM schema_migrations",
	    -1, &st, NULL)) != SQLITE_OK)
		goto fail;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((t = sqlite3_column_text(st, 0)) == NULL)
			t = (const unsigned char *)"";
		for (i = 0; i < mca_sql_nmigrations; i++)
			if (strcmp((const char *)t,
			    mca_sql_migrations[i].name) == 0)
				break;
		if (i == mca_sql_nmigrations) {
			rc = mca_diag(d, MCA_ERR_DB, "%s: the ledger has "
			    "migration \"%.64s\", newer than this program "
			    "knows; refusing to use it", path,
			    (const char *)t);
			goto out;
		}
		have[i] = 1;
	}
	if (src != SQLITE_DONE)
		goto fail;
	rc = 0;
	goto out;
fail:
	rc = mca_ledger_rc(db, src);
	mca_diag(d, rc, "%s: schema_migrations: %s", path, sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * Brings the schema up to date, one migration per IMMEDIATE transaction:
 * the write lock is taken before anything is read, so of several
 * workers starting at once exactly one applies each migration and the
 * others find it done. The ledger's schema_migrations says which it has;
 * each one it lacks is applied in the order of mca_sql_migrations[],
 * wherever it stands (sql/embed.sh). user_version counts them.
 * 0, MCA_ERR_DB or MCA_ERR_BUSY with d set.
 */
static int
mca_ledger_migrate(sqlite3 *db, const char *path, struct mca_diag *d)
{
	const struct mca_sql_migration	*m;
	unsigned char			*have = NULL;
	char				 set[64];
	sqlite3_int64			 cur, table, n;
	int				 rc, intx = 0;
	size_t				 i, max = mca_sql_nmigrations;

	if ((have = calloc(max, 1)) == NULL) {
		rc = mca_diag(d, MCA_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		if ((rc = mca_ledger_exec(db, path, "begin",
		    "BEGIN IMMEDIATE", d)) != 0)
			goto out;
		intx = 1;
		if ((rc = mca_ledger_pragma(db, path, "PRAGMA user_version",
		    NULL, 0, &cur, d)) != 0 ||
		    (rc = mca_ledger_pragma(db, path, "SELECT count(*) FROM "
		    "sqlite_schema WHERE type = 'table' AND "
		    "name = 'schema_migrations'", NULL, 0, &table, d)) != 0)
			goto out;
		if (cur < 0) {
			rc = mca_diag(d, MCA_ERR_DB, "%s: bad schema version "
			    "%lld", path, (long long)cur);
			goto out;
		}
		if ((sqlite3_uint64)cur > max) {
			rc = mca_diag(d, MCA_ERR_DB, "%s: ledger schema "
			    "version %lld is newer than this program knows "
			    "(%zu); refusing to use it", path, (long long)cur,
			    max);
			goto out;
		}
		/* A new file has no table yet: schema.sql makes it. */
		if (table == 0 && cur > 0 &&
		    (rc = mca_ledger_legacy_names(db, path, cur, d)) != 0)
			goto out;
		if (table == 0 && cur == 0)
			memset(have, 0, max);
		else if ((rc = mca_ledger_applied(db, path, have, d)) != 0)
			goto out;
		for (i = 0; i < max && have[i]; i++)
			continue;
		if (i == max)
			break;
		m = &mca_sql_migrations[i];
		if ((rc = mca_ledger_exec(db, path, m->name, m->sql, d)) != 0)
			goto out;
		/* SQL has no SHA-256: the rows there are chained here. */
		if (strcmp(m->name, MCA_LEDGER_CHAIN_MIGRATION) == 0 &&
		    (rc = mca_chain_backfill(db, path, d)) != 0)
			goto out;
		if ((rc = mca_ledger_pragma(db, path, "SELECT count(*) FROM "
		    "schema_migrations", NULL, 0, &n, d)) != 0)
			goto out;
		(void)snprintf(set, sizeof(set), "PRAGMA user_version = %lld",
		    (long long)n);
		if ((rc = mca_ledger_exec(db, path, set, set, d)) != 0)
			goto out;
		if ((rc = mca_ledger_exec(db, path, "commit", "COMMIT",
		    d)) != 0)
			goto out;
		intx = 0;
	}
	/*
	 * Up to date. A ledger whose version was only a number now has its
	 * names; else nothing was written. Either way, release the lock.
	 */
	if ((rc = mca_ledger_exec(db, path, "commit", "COMMIT", d)) != 0)
		goto out;
	intx = 0;
	rc = 0;
out:
	if (intx)
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	free(have);
	return rc;
}

/*
 * WAL: readers (auditors, cron jobs) never block the workers, and a
 * commit is one append plus one fsync. The mode is kept in the file, so
 * only the very first open converts it. That conversion needs an
 * exclusive lock and SQLite answers SQLITE_BUSY at once instead of
 * calling the busy handler, so workers starting together on a new file
 * retry here, within the same time budget. 0 or MCA_ERR_DB with d set.
 */
static int
mca_ledger_wal(sqlite3 *db, const char *path, struct mca_diag *d)
{
	char	 mode[32];
	int	 rc, waited = 0;

	for (;;) {
		rc = mca_ledger_pragma(db, path, "PRAGMA journal_mode", mode,
		    sizeof(mode), NULL, d);
		if (rc == 0 && strcmp(mode, "wal") == 0)
			return 0;
		if (rc == 0)
			rc = mca_ledger_pragma(db, path,
			    "PRAGMA journal_mode = WAL", mode, sizeof(mode),
			    NULL, d);
		if (rc == 0 && strcmp(mode, "wal") == 0)
			return 0;
		/* Busy, or refused quietly: another process holds a lock. */
		if ((rc != 0 && rc != MCA_ERR_BUSY) ||
		    waited >= MCA_LEDGER_BUSY_MS)
			break;
		(void)sqlite3_sleep(MCA_LEDGER_WAL_RETRY_MS);
		waited += MCA_LEDGER_WAL_RETRY_MS;
	}
	if (rc == 0)
		return mca_diag(d, MCA_ERR_DB, "%s: journal_mode is \"%s\", "
		    "not wal (filesystem without shared memory?)", path, mode);
	return MCA_ERR_DB;
}

/*
 * Creates the file with our mode if it is not there yet: SQLite would
 * create it 0644 less the umask, and the WAL and shm files copy the mode
 * of the database. 0 or MCA_ERR_IO with d set.
 */
static int
mca_ledger_precreate(const char *path, struct mca_diag *d)
{
	int	 fd, rc = MCA_ERR_IO;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
	    MCA_LEDGER_MODE);
	if (fd == -1) {
		if (errno == EEXIST)
			return 0;
		return mca_diag(d, rc, "%s: %s", path, strerror(errno));
	}
	/* The umask may have taken the group bit away. */
	if (fchmod(fd, MCA_LEDGER_MODE) == -1) {
		mca_diag(d, rc, "%s: fchmod: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	(void)close(fd);
	return rc;
}

int
mca_ledger_open(const char *path, int sync_full, struct mca_ledger **out,
    struct mca_diag *d)
{
	struct mca_ledger	*l = NULL;
	int			 rc = MCA_ERR_DB, src;
	size_t			 i;

	mca_diag_clear(d);
	if (out != NULL)
		*out = NULL;
	if (path == NULL || *path == '\0' || out == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "ledger: no path");
	if ((rc = mca_ledger_precreate(path, d)) != 0)
		goto out;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		rc = mca_diag(d, MCA_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	l->busy_ms = MCA_LEDGER_BUSY_MS;
	l->keep_days = MCA_LEDGER_REFUSALS_KEEP_DAYS;
	l->per_minute_max = MCA_LEDGER_REFUSALS_PER_MINUTE;
	/* The first refusal prunes, and its counts go at once. */
	l->pruned = mca_ledger_mono() - MCA_LEDGER_PRUNE_EVERY;
	l->flushed = mca_ledger_mono() - MCA_LEDGER_FLUSH_EVERY;
	src = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		rc = mca_diag(d, MCA_ERR_DB, "%s: %s", path, l->db != NULL ?
		    sqlite3_errmsg(l->db) : sqlite3_errstr(src));
		goto out;
	}
	/* Before anything that may need a lock, the WAL switch included. */
	if (sqlite3_busy_handler(l->db, mca_ledger_busy, l) != SQLITE_OK) {
		rc = mca_diag(d, MCA_ERR_DB, "%s: busy handler: %s", path,
		    sqlite3_errmsg(l->db));
		goto out;
	}
	if ((rc = mca_ledger_wal(l->db, path, d)) != 0)
		goto out;
	/*
	 * FULL: a certificate handed out is on disk even if the machine
	 * loses power right after. NORMAL may lose the last commits.
	 */
	if ((rc = mca_ledger_exec(l->db, path, "synchronous", sync_full ?
	    "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
	    d)) != 0)
		goto out;
	/* Off by default in SQLite; replaces_serial depends on it. */
	if ((rc = mca_ledger_exec(l->db, path, "foreign_keys",
	    "PRAGMA foreign_keys = ON", d)) != 0)
		goto out;
	if ((rc = mca_ledger_migrate(l->db, path, d)) != 0)
		goto out;
	if ((l->md_ctx = EVP_MD_CTX_new()) == NULL ||
	    (l->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		rc = mca_diag(d, MCA_ERR_CRYPTO, "%s: cannot set up SHA-256",
		    path);
		goto out;
	}
	for (i = 0; i < STMT_MAX; i++) {
		if (sqlite3_prepare_v3(l->db, mca_ledger_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &l->stmt[i], NULL) !=
		    SQLITE_OK) {
			rc = mca_diag(d, MCA_ERR_DB, "%s: prepare: %s", path,
			    sqlite3_errmsg(l->db));
			goto out;
		}
	}
	*out = l;
	l = NULL;
	rc = 0;
out:
	/* Locked past the timeout is, at open, one more reason it failed. */
	if (rc == MCA_ERR_BUSY)
		rc = MCA_ERR_DB;
	mca_ledger_close(l);
	return rc;
}


void
mca_ledger_close(struct mca_ledger *l)
{
	size_t	 i;

	if (l == NULL)
		return;
	/* The counts still in memory; a worker that stops may wait. */
	if (l->ntally > 0)
		(void)mca_ledger_tally_flush(l);
	for (i = 0; i < STMT_MAX; i++)
		sqlite3_finalize(l->stmt[i]);
	/* All statements are finalized, so this closes for real. */
	(void)sqlite3_close(l->db);
	EVP_MD_CTX_free(l->md_ctx);
	EVP_MD_free(l->sha256);
	free(l);
}

/* ---- for lib/ledger_int.h */

sqlite3 *
mca_ledger_sqlite(struct mca_ledger *l)
{
	return l != NULL ? l->db : NULL;
}

struct mca_diag *
mca_ledger_diag(struct mca_ledger *l)
{
	return l != NULL ? &l->err : NULL;
}

int
mca_ledger_sqlfail(struct mca_ledger *l, int src, const char *what)
{
	if (l == NULL)
		return MCA_ERR_INVAL;
	return mca_ledger_why(&l->err, mca_ledger_rc(l->db, src), l->db, src,
	    what);
}

int
mca_ledger_prepare(struct mca_ledger *l, const char *sql, const char *what,
    sqlite3_stmt **st)
{
	int	 src;

	*st = NULL;
	src = sqlite3_prepare_v2(mca_ledger_sqlite(l), sql, -1, st, NULL);
	if (src != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return mca_ledger_sqlfail(l, src, what);
	}
	return 0;
}

int
mca_ledger_bind_failed(struct mca_ledger *l, const char *what)
{
	int	 src = sqlite3_errcode(mca_ledger_sqlite(l));

	return mca_ledger_sqlfail(l, src != SQLITE_OK ? src : SQLITE_ERROR,
	    what);
}

int
mca_ledger_stmt_done(struct mca_ledger *l, const char *what,
    sqlite3_stmt *st)
{
	int	 src;

	if ((src = sqlite3_step(st)) != SQLITE_DONE)
		return mca_ledger_sqlfail(l, src, what);
	return 0;
}

void
mca_ledger_rollback(struct mca_ledger *l)
{
	struct mca_diag	 keep, *d = mca_ledger_diag(l);
	sqlite3_stmt	*st = NULL;

	if (sqlite3_get_autocommit(mca_ledger_sqlite(l)) != 0)
		return;
	keep = *d;
	if (mca_ledger_prepare(l, "ROLLBACK", "rollback", &st) == 0)
		(void)mca_ledger_stmt_done(l, "rollback", st);
	sqlite3_finalize(st);
	*d = keep;
}

const char *
mca_ledger_errmsg(const struct mca_ledger *l, int rc)
{
	if (l == NULL || l->err.msg[0] == '\0')
		return mca_strerror(rc);
	return l->err.msg;
}

int
mca_ledger_version(struct mca_ledger *l, int *version)
{
	sqlite3_stmt	*st;
	int		 src, rc = 0;

	if (version != NULL)
		*version = 0;
	if (l == NULL || version == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(&l->err);
	st = l->stmt[STMT_VERSION];
	if ((src = sqlite3_step(st)) == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	else
		rc = mca_ledger_fail(l, STMT_VERSION, src);
	sqlite3_reset(st);
	return rc;
}

/* Binds s, or SQL NULL for a NULL pointer (also for lib/ledger_int.h). */
int
mca_ledger_bind(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* A bind of statement i failed: its bindings are cleared, l->err says why. */
static int
mca_ledger_bind_fail(struct mca_ledger *l, enum mca_ledger_stmt i)
{
	int	 src = sqlite3_errcode(l->db);

	sqlite3_clear_bindings(l->stmt[i]);
	return mca_ledger_why(&l->err, MCA_ERR_DB, l->db,
	    src != SQLITE_OK ? src : SQLITE_ERROR, mca_ledger_what[i]);
}

/*
 * Steps statement i to its end and leaves it reset and unbound, ready
 * for the next request, whatever happened. 0, or our code with l->err
 * saying why.
 */
static int
mca_ledger_step_done(struct mca_ledger *l, enum mca_ledger_stmt i)
{
	sqlite3_stmt	*st = l->stmt[i];
	int		 src, rc = 0;

	/* The detail is read before the reset. */
	if ((src = sqlite3_step(st)) != SQLITE_DONE)
		rc = mca_ledger_fail(l, i, src);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/*
 * Spends one use of passcode id on label, inside the caller's
 * transaction. 0, MCA_ERR_AUTH (not usable now), MCA_ERR_BUSY or
 * MCA_ERR_DB.
 */
static int
mca_ledger_spend(struct mca_ledger *l, const char *id, const char *label)
{
	sqlite3_stmt	*st = l->stmt[STMT_PC_SPEND];
	int		 rc;

	if (mca_ledger_bind(st, 1, id) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, label) != SQLITE_OK)
		return mca_ledger_bind_fail(l, STMT_PC_SPEND);
	if ((rc = mca_ledger_step_done(l, STMT_PC_SPEND)) != 0)
		return rc;
	/* label NULL matches nothing: a passcode is always for a label. */
	if (sqlite3_changes(l->db) != 1)
		return mca_diag(&l->err, MCA_ERR_AUTH, "passcode %s is not "
		    "usable on label %s now", id, label != NULL ? label : "-");
	return 0;
}

/* Binds c to STMT_INSERT_CERT. 0, or MCA_ERR_DB (see mca_ledger_bind_fail). */
static int
mca_ledger_bind_cert(sqlite3_stmt *st, const struct mca_ledger_cert *c)
{
	const char	*v[] = {
		c->serial, c->subject, c->san, c->issuer, c->not_before,
		c->not_after, c->label, c->operation, c->req_subject,
		c->req_serial, c->req_issuer, c->remote_addr, c->sha1,
		c->sha256, c->key_type, c->pem, c->replaces_serial,
		c->server_keygen ? "server" : "client",
		c->azure_pending ? "pending" : "none",
		c->auth_method, c->req_user, c->passcode_id,
	};
	size_t		 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (mca_ledger_bind(st, (int)i + 1, v[i]) != SQLITE_OK)
			return MCA_ERR_DB;
	return 0;
}

/*
 * Inserts c (STMT_INSERT_CERT) and links the row to the chain, inside the
 * caller's IMMEDIATE transaction. 0, or our code with l->err set.
 */
static int
mca_ledger_cert_row(struct mca_ledger *l, const struct mca_ledger_cert *c)
{
	sqlite3_stmt	*st = l->stmt[STMT_INSERT_CERT];
	int		 src, rc;

	if (mca_ledger_bind_cert(st, c) != 0)
		return mca_ledger_bind_fail(l, STMT_INSERT_CERT);
	/* RETURNING: the row as stored, issued_at included, for the hash. */
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		rc = mca_ledger_fail(l, STMT_INSERT_CERT, src == SQLITE_DONE ?
		    SQLITE_ERROR : src);
		goto out;
	}
	if ((rc = mca_ledger_chain_row(l, "certificates", st,
	    MCA_CHAIN_CERT_NCOLS)) != 0)
		goto out;
	if ((src = sqlite3_step(st)) != SQLITE_DONE) {
		rc = mca_ledger_fail(l, STMT_INSERT_CERT, src);
		goto out;
	}
	rc = 0;
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int
mca_ledger_insert_cert(struct mca_ledger *l, const struct mca_ledger_cert *c)
{
	struct mca_diag	 keep;
	int		 src, rc, intx = 0;

	if (l == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(&l->err);
	/*
	 * One IMMEDIATE transaction: the passcode's use is gone if and only
	 * if the certificate is in the ledger, and the chain's head is read
	 * under the write lock that appends to it (lib/ledger_chain.c). A
	 * lock not had is the insert's failure, as the log has always said.
	 */
	if ((src = sqlite3_step(l->stmt[STMT_BEGIN])) != SQLITE_DONE) {
		rc = mca_ledger_fail(l, STMT_INSERT_CERT, src);
		sqlite3_reset(l->stmt[STMT_BEGIN]);
		return rc;
	}
	sqlite3_reset(l->stmt[STMT_BEGIN]);
	intx = 1;
	if (c->passcode_id != NULL &&
	    (rc = mca_ledger_spend(l, c->passcode_id, c->label)) != 0)
		goto out;
	if ((rc = mca_ledger_cert_row(l, c)) != 0 ||
	    (rc = mca_ledger_step_done(l, STMT_COMMIT)) != 0)
		goto out;
	intx = 0;
out:
	/* l->err keeps the first failure, not the rollback's. */
	if (intx && sqlite3_get_autocommit(l->db) == 0) {
		keep = l->err;
		(void)mca_ledger_step_done(l, STMT_ROLLBACK);
		l->err = keep;
	}
	return rc;
}

/*
 * ---- the chain: lib/ledger_int.h. The hash is lib/ledger_chain.c's;
 * here, the two statements each worker keeps prepared.
 */

int
mca_ledger_chain_row(struct mca_ledger *l, const char *tbl, sqlite3_stmt *st,
    int ncols)
{
	sqlite3_stmt		*head, *add;
	unsigned char		 prev[MCA_CHAIN_HASH_LEN];
	unsigned char		 hash[MCA_CHAIN_HASH_LEN];
	sqlite3_int64		 seq = 0, id;
	enum mca_ledger_stmt	 upd;
	int			 src, rc, cert;

	if (l == NULL || tbl == NULL || st == NULL)
		return MCA_ERR_INVAL;
	cert = strcmp(tbl, "certificates") == 0;
	if (!cert && strcmp(tbl, "revocations") != 0)
		return MCA_ERR_INVAL;
	upd = cert ? STMT_CHAIN_CERT : STMT_CHAIN_REV;
	id = sqlite3_column_int64(st, 0);
	head = l->stmt[STMT_CHAIN_HEAD];
	add = l->stmt[upd];
	switch ((src = mca_chain_read_head(head, &seq, prev))) {
	case SQLITE_DONE:
		break;
	case SQLITE_MISMATCH:
		return mca_diag(&l->err, MCA_ERR_DB, "%s: the chain's row %lld "
		    "has no 32-byte chain_hash",
		    mca_ledger_what[STMT_CHAIN_HEAD], (long long)seq);
	default:
		return mca_ledger_fail(l, STMT_CHAIN_HEAD, src);
	}
	if (mca_chain_hash(l->md_ctx, l->sha256, seq + 1, tbl, st, ncols,
	    prev, hash) != 0)
		return mca_diag(&l->err, MCA_ERR_CRYPTO, "%s: SHA-256 failed",
		    mca_ledger_what[upd]);
	if (sqlite3_bind_int64(add, 1, seq + 1) != SQLITE_OK ||
	    sqlite3_bind_blob(add, 2, prev, sizeof(prev), SQLITE_TRANSIENT) !=
	    SQLITE_OK ||
	    sqlite3_bind_blob(add, 3, hash, sizeof(hash), SQLITE_TRANSIENT) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(add, 4, id) != SQLITE_OK)
		return mca_ledger_bind_fail(l, upd);
	if ((rc = mca_ledger_step_done(l, upd)) != 0)
		return rc;
	/* Exactly that row: an id that is not there stamped nothing. */
	if (sqlite3_changes(l->db) != 1)
		return mca_diag(&l->err, MCA_ERR_DB, "%s: no row %lld",
		    mca_ledger_what[upd], (long long)id);
	return 0;
}

/* ---- refusals, kept bounded (schema 4) */

void
mca_ledger_refusal_limits(struct mca_ledger *l, int keep_days,
    int per_minute_max)
{
	if (l == NULL)
		return;
	l->keep_days = keep_days > 0 ? keep_days :
	    MCA_LEDGER_REFUSALS_KEEP_DAYS;
	l->per_minute_max = per_minute_max >= 0 ? per_minute_max :
	    MCA_LEDGER_REFUSALS_PER_MINUTE;
}

/* Seconds on the monotonic clock (0 if it cannot be read). */
static time_t
mca_ledger_mono(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return ts.tv_sec;
}

/* ISO 8601 UTC of t, as the ledger stores times. 0 or MCA_ERR_INTERNAL. */
static int
mca_ledger_iso(time_t t, char *buf, size_t bufsz)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return MCA_ERR_INTERNAL;
	return 0;
}

/*
 * Writes the counts kept in memory to refusal_counts, in one
 * transaction, and forgets them. With the busy limit the caller set.
 * 0 (or nothing to write), MCA_ERR_BUSY or MCA_ERR_DB with l->err set;
 * on error the counts are kept for the next try.
 */
static int
mca_ledger_tally_flush(struct mca_ledger *l)
{
	struct mca_ledger_tally	*t;
	sqlite3_stmt		*st = l->stmt[STMT_RF_COUNT];
	size_t			 i;
	int			 rc;

	l->flushed = mca_ledger_mono();
	if (l->ntally == 0)
		return 0;
	if ((rc = mca_ledger_step_done(l, STMT_BEGIN)) != 0)
		return rc;
	for (i = 0; i < l->ntally; i++) {
		t = &l->tally[i];
		if (mca_ledger_bind(st, 1, t->minute) != SQLITE_OK ||
		    mca_ledger_bind(st, 2, t->label) != SQLITE_OK ||
		    sqlite3_bind_int(st, 3, t->status) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 4, t->n) != SQLITE_OK) {
			rc = mca_ledger_bind_fail(l, STMT_RF_COUNT);
			goto out;
		}
		if ((rc = mca_ledger_step_done(l, STMT_RF_COUNT)) != 0)
			goto out;
	}
	if ((rc = mca_ledger_step_done(l, STMT_COMMIT)) != 0)
		goto out;
	l->ntally = 0;
out:
	if (rc != 0 && sqlite3_get_autocommit(l->db) == 0) {
		(void)sqlite3_step(l->stmt[STMT_ROLLBACK]);
		sqlite3_reset(l->stmt[STMT_ROLLBACK]);
	}
	return rc;
}

/*
 * Counts one refusal of minute, label, status in memory. 0, or
 * MCA_ERR_BUSY/DB when the table is full and cannot be flushed (the
 * refusal is then lost, and l->err says why).
 */
static int
mca_ledger_tally(struct mca_ledger *l, const char *minute, const char *label,
    int status)
{
	struct mca_ledger_tally	*t;
	size_t			 i;
	int			 rc;

	if (label == NULL)
		label = "";
	for (i = 0; i < l->ntally; i++) {
		t = &l->tally[i];
		if (t->status == status && strcmp(t->minute, minute) == 0 &&
		    strncmp(t->label, label, sizeof(t->label) - 1) == 0) {
			t->n++;
			return 0;
		}
	}
	if (l->ntally == MCA_LEDGER_TALLY_MAX &&
	    (rc = mca_ledger_tally_flush(l)) != 0)
		return rc;
	t = &l->tally[l->ntally++];
	(void)snprintf(t->minute, sizeof(t->minute), "%s", minute);
	(void)snprintf(t->label, sizeof(t->label), "%s", label);
	t->status = status;
	t->n = 1;
	return 0;
}

/* Deletes refusals and counts older than keep_days. 0 or l->err set. */
static int
mca_ledger_prune(struct mca_ledger *l, time_t now)
{
	char	 cutoff[32];
	int	 rc;

	l->pruned = mca_ledger_mono();
	if ((rc = mca_ledger_iso(now - (time_t)l->keep_days * 86400, cutoff,
	    sizeof(cutoff))) != 0)
		return rc;
	if (mca_ledger_bind(l->stmt[STMT_RF_PRUNE], 1, cutoff) != SQLITE_OK)
		return mca_ledger_bind_fail(l, STMT_RF_PRUNE);
	if ((rc = mca_ledger_step_done(l, STMT_RF_PRUNE)) != 0)
		return rc;
	if (mca_ledger_bind(l->stmt[STMT_RF_PRUNE_COUNTS], 1, cutoff) !=
	    SQLITE_OK)
		return mca_ledger_bind_fail(l, STMT_RF_PRUNE_COUNTS);
	return mca_ledger_step_done(l, STMT_RF_PRUNE_COUNTS);
}

int
mca_ledger_insert_refusal(struct mca_ledger *l,
    const struct mca_ledger_refusal *r)
{
	sqlite3_stmt	*st;
	const char	*v[] = {
		r->label, r->operation, r->req_subject, r->req_serial,
		r->req_issuer, r->remote_addr,
	};
	char		 minute[24];
	time_t		 now = time(NULL), mono, min = now - now % 60;
	size_t		 i, n;
	int		 rc;

	if (l == NULL || r == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(&l->err);
	if ((rc = mca_ledger_iso(min, minute, sizeof(minute))) != 0)
		return rc;
	/* A refusal waits for the lock no longer than a request takes. */
	l->busy_ms = MCA_LEDGER_REFUSAL_BUSY_MS;
	mono = mca_ledger_mono();
	/*
	 * Pruning that cannot run now (busy) runs at the next refusal a
	 * minute on; a refusal is not lost over it.
	 */
	if (mono - l->pruned >= MCA_LEDGER_PRUNE_EVERY &&
	    mca_ledger_prune(l, now) != 0)
		mca_diag_clear(&l->err);
	/* Over the cap this minute: a count, and no statement at all. */
	if (l->full_minute == min || l->per_minute_max == 0) {
		if ((rc = mca_ledger_tally(l, minute, r->label,
		    r->status)) != 0)
			goto out;
		goto flush;
	}
	st = l->stmt[STMT_INSERT_REFUSAL];
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (mca_ledger_bind(st, (int)i + 1, v[i]) != SQLITE_OK)
			goto bindfail;
	if (sqlite3_bind_int(st, 7, r->status) != SQLITE_OK ||
	    mca_ledger_bind(st, 8, r->reason) != SQLITE_OK ||
	    mca_ledger_bind(st, 9, r->req_user) != SQLITE_OK ||
	    mca_ledger_bind(st, 10, r->passcode_id) != SQLITE_OK ||
	    mca_ledger_bind(st, 11, minute) != SQLITE_OK ||
	    sqlite3_bind_int(st, 12, l->per_minute_max) != SQLITE_OK)
		goto bindfail;
	if ((rc = mca_ledger_step_done(l, STMT_INSERT_REFUSAL)) != 0) {
		/* Not written: at least counted, flushed later. */
		n = strlen(l->err.msg);
		if (mca_ledger_tally(l, minute, r->label, r->status) == 0)
			(void)snprintf(l->err.msg + n, sizeof(l->err.msg) - n,
			    "; counted in refusal_counts instead");
		goto out;
	}
	if (sqlite3_changes(l->db) == 0) {
		/* The cap: from now on this minute is counted. */
		l->full_minute = min;
		if ((rc = mca_ledger_tally(l, minute, r->label,
		    r->status)) != 0)
			goto out;
	}
flush:
	/* At most once a second, whoever's refusal it is. */
	if (l->ntally > 0 && mono - l->flushed >= MCA_LEDGER_FLUSH_EVERY)
		rc = mca_ledger_tally_flush(l);
	goto out;
bindfail:
	rc = mca_ledger_bind_fail(l, STMT_INSERT_REFUSAL);
out:
	l->busy_ms = MCA_LEDGER_BUSY_MS;
	return rc;
}

int
mca_ledger_refusals_flush(struct mca_ledger *l)
{
	if (l == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(&l->err);
	return mca_ledger_tally_flush(l);
}

/*
 * Copies column i into dst, truncated to fit and cut before a partial
 * UTF-8 sequence, always NUL-terminated. SQL NULL becomes "".
 */
void
mca_ledger_column(sqlite3_stmt *st, int i, char *dst, size_t dstsz)
{
	const unsigned char	*s;
	size_t			 n;

	dst[0] = '\0';
	if ((s = sqlite3_column_text(st, i)) == NULL)
		return;
	n = (size_t)sqlite3_column_bytes(st, i);
	if (n >= dstsz) {
		n = dstsz - 1;
		/* Back off continuation bytes to the start of a character. */
		while (n > 0 && (s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * Steps statement i, a query of at most one row: 0 (a row),
 * MCA_ERR_NOTFOUND, or MCA_ERR_DB/BUSY with l->err set.
 */
static int
mca_ledger_one_row(struct mca_ledger *l, enum mca_ledger_stmt i)
{
	int	 src;

	switch ((src = sqlite3_step(l->stmt[i]))) {
	case SQLITE_ROW:
		return 0;
	case SQLITE_DONE:
		return MCA_ERR_NOTFOUND;
	default:
		return mca_ledger_fail(l, i, src);
	}
}

int
mca_ledger_find(struct mca_ledger *l, const char *serial, const char *issuer,
    struct mca_ledger_found *f)
{
	sqlite3_stmt	*st;
	int		 rc = MCA_ERR_DB;

	memset(f, 0, sizeof(*f));
	if (l == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(&l->err);
	if (serial == NULL || issuer == NULL)
		return MCA_ERR_NOTFOUND;
	st = l->stmt[STMT_FIND];
	if (mca_ledger_bind(st, 1, serial) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, issuer) != SQLITE_OK) {
		rc = mca_ledger_bind_fail(l, STMT_FIND);
		goto out;
	}
	if ((rc = mca_ledger_one_row(l, STMT_FIND)) != 0)
		goto out;
	mca_ledger_column(st, 0, f->label, sizeof(f->label));
	mca_ledger_column(st, 1, f->not_after, sizeof(f->not_after));
	mca_ledger_column(st, 2, f->replaced_by, sizeof(f->replaced_by));
	mca_ledger_column(st, 3, f->superseded_by, sizeof(f->superseded_by));
	mca_ledger_column(st, 4, f->renewed_at, sizeof(f->renewed_at));
	f->renewed_secs = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 5);
	mca_ledger_column(st, 6, f->revoked, sizeof(f->revoked));
	rc = 0;
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int
mca_ledger_may_renew(const struct mca_ledger_found *f, int grace)
{
	/* Revoked, on hold too: RFC 5280 5.3.1 - it is not to be used. */
	if (f->revoked[0] != '\0')
		return 0;
	if (f->superseded_by[0] != '\0')
		return 0;
	if (f->replaced_by[0] == '\0')
		return 1;
	/* A clock stepped back (renewed_secs < 0) counts as no time. */
	return grace > 0 && f->renewed_secs < grace;
}

int
mca_ledger_insert_renewal(struct mca_ledger *l,
    const struct mca_ledger_cert *c, int grace,
    struct mca_ledger_found *prior)
{
	sqlite3_stmt	*sup;
	int		 rc, intx = 0;

	memset(prior, 0, sizeof(*prior));
	prior->renewed_secs = -1;
	if (l == NULL || c->replaces_serial == NULL || c->serial == NULL ||
	    c->passcode_id != NULL)
		return MCA_ERR_INVAL;
	sup = l->stmt[STMT_SUPERSEDE];
	/*
	 * The write lock first: the look-up and the insert see one state.
	 * That includes revocation: "microca-admin revoke" writes under the
	 * same lock (lib/revoke.c), so a renewal racing with a revocation
	 * either commits first (and revoke --follow takes the new
	 * certificate too) or sees the revocation here and is refused. The
	 * trigger certificates_revoked of 0010-revocations.sql refuses it
	 * once more in the INSERT itself.
	 */
	if ((rc = mca_ledger_step_done(l, STMT_BEGIN)) != 0)
		return rc;
	intx = 1;
	if ((rc = mca_ledger_find(l, c->replaces_serial, c->req_issuer,
	    prior)) != 0)
		goto out;
	if (!mca_ledger_may_renew(prior, grace)) {
		rc = MCA_ERR_POLICY;
		goto out;
	}
	if ((rc = mca_ledger_cert_row(l, c)) != 0)
		goto out;
	if (prior->replaced_by[0] != '\0') {
		if (mca_ledger_bind(sup, 1, c->serial) != SQLITE_OK ||
		    mca_ledger_bind(sup, 2, c->replaces_serial) !=
		    SQLITE_OK) {
			rc = mca_ledger_bind_fail(l, STMT_SUPERSEDE);
			goto out;
		}
		if ((rc = mca_ledger_step_done(l, STMT_SUPERSEDE)) != 0)
			goto out;
	}
	if ((rc = mca_ledger_step_done(l, STMT_COMMIT)) != 0)
		goto out;
	intx = 0;
	rc = 0;
out:
	if (intx)
		(void)mca_ledger_step_done(l, STMT_ROLLBACK);
	return rc;
}

/* ---- enrollment passcodes (schema 2) */

int
mca_ledger_passcode_add(struct mca_ledger *l,
    const struct mca_ledger_passcode *p)
{
	sqlite3_stmt	*st;

	if (l == NULL || p == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(&l->err);
	st = l->stmt[STMT_PC_ADD];
	if (mca_ledger_bind(st, 1, p->id) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, p->label) != SQLITE_OK ||
	    mca_ledger_bind(st, 3, p->hash) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, p->uses_total) != SQLITE_OK ||
	    mca_ledger_bind(st, 5, p->expires_at) != SQLITE_OK ||
	    mca_ledger_bind(st, 6, p->created_by[0] != '\0' ?
	    p->created_by : NULL) != SQLITE_OK ||
	    mca_ledger_bind(st, 7, p->comment[0] != '\0' ?
	    p->comment : NULL) != SQLITE_OK)
		return mca_ledger_bind_fail(l, STMT_PC_ADD);
	return mca_ledger_step_done(l, STMT_PC_ADD);
}

/* One row of PC_SELECT into p. */
static void
mca_ledger_pc_row(sqlite3_stmt *st, struct mca_ledger_passcode *p)
{
	memset(p, 0, sizeof(*p));
	mca_ledger_column(st, 0, p->id, sizeof(p->id));
	mca_ledger_column(st, 1, p->label, sizeof(p->label));
	mca_ledger_column(st, 2, p->hash, sizeof(p->hash));
	p->uses_total = sqlite3_column_int64(st, 3);
	p->uses_left = sqlite3_column_int64(st, 4);
	mca_ledger_column(st, 5, p->expires_at, sizeof(p->expires_at));
	mca_ledger_column(st, 6, p->state, sizeof(p->state));
	mca_ledger_column(st, 7, p->created_at, sizeof(p->created_at));
	mca_ledger_column(st, 8, p->created_by, sizeof(p->created_by));
	mca_ledger_column(st, 9, p->comment, sizeof(p->comment));
	mca_ledger_column(st, 10, p->revoked_at, sizeof(p->revoked_at));
	mca_ledger_column(st, 11, p->last_used_at, sizeof(p->last_used_at));
	p->issued = sqlite3_column_int64(st, 12);
}

int
mca_ledger_passcode_get(struct mca_ledger *l, const char *id,
    struct mca_ledger_passcode *p)
{
	sqlite3_stmt	*st;
	int		 rc = MCA_ERR_DB;

	if (p != NULL)
		memset(p, 0, sizeof(*p));
	if (l == NULL || p == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(&l->err);
	if (id == NULL)
		return MCA_ERR_NOTFOUND;
	st = l->stmt[STMT_PC_GET];
	if (mca_ledger_bind(st, 1, id) != SQLITE_OK) {
		rc = mca_ledger_bind_fail(l, STMT_PC_GET);
		goto out;
	}
	if ((rc = mca_ledger_one_row(l, STMT_PC_GET)) != 0)
		goto out;
	mca_ledger_pc_row(st, p);
	rc = 0;
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int
mca_ledger_passcode_revoke(struct mca_ledger *l, const char *id,
    int *already)
{
	struct mca_ledger_passcode	 p;
	sqlite3_stmt			*st;
	int				 rc;

	if (already != NULL)
		*already = 0;
	if (l == NULL || id == NULL || already == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(&l->err);
	st = l->stmt[STMT_PC_REVOKE];
	if (mca_ledger_bind(st, 1, id) != SQLITE_OK)
		return mca_ledger_bind_fail(l, STMT_PC_REVOKE);
	if ((rc = mca_ledger_step_done(l, STMT_PC_REVOKE)) != 0)
		return rc;
	if (sqlite3_changes(l->db) == 1)
		return 0;
	/* Nothing changed: no such passcode, or revoked already. */
	if ((rc = mca_ledger_passcode_get(l, id, &p)) != 0)
		return rc;
	*already = 1;
	return 0;
}

int
mca_ledger_passcode_list(struct mca_ledger *l, const char *label, int all,
    int (*cb)(void *, const struct mca_ledger_passcode *), void *arg)
{
	struct mca_ledger_passcode	 p;
	sqlite3_stmt			*st;
	int				 src, rc = MCA_ERR_DB;

	if (l == NULL || cb == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(&l->err);
	st = l->stmt[STMT_PC_LIST];
	if (mca_ledger_bind(st, 1, label) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, all ? 1 : 0) != SQLITE_OK) {
		rc = mca_ledger_bind_fail(l, STMT_PC_LIST);
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		mca_ledger_pc_row(st, &p);
		if ((rc = cb(arg, &p)) != 0)
			goto out;
	}
	rc = src == SQLITE_DONE ? 0 : mca_ledger_fail(l, STMT_PC_LIST, src);
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* ---- failure budgets (schema 6) */

int
mca_ledger_failures_get(struct mca_ledger *l, const char *id,
    const char *addr, struct mca_ledger_failures *by_id,
    struct mca_ledger_failures *by_addr)
{
	sqlite3_stmt	*st;
	int		 rc = MCA_ERR_DB;

	if (by_id != NULL)
		memset(by_id, 0, sizeof(*by_id));
	if (by_addr != NULL)
		memset(by_addr, 0, sizeof(*by_addr));
	if (l == NULL || by_id == NULL || by_addr == NULL)
		return MCA_ERR_INVAL;
	st = l->stmt[STMT_FAIL_GET];
	/* NULL matches no row: that budget reads as empty. */
	if (mca_ledger_bind(st, 1, id) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, addr) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	by_id->count = sqlite3_column_int64(st, 0);
	by_id->since = sqlite3_column_int64(st, 1);
	by_addr->count = sqlite3_column_int64(st, 2);
	by_addr->since = sqlite3_column_int64(st, 3);
	rc = 0;
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* Binds ?2 now and ?3 window of a failure statement. */
static int
mca_ledger_bind_window(sqlite3_stmt *st, long long now, long long window)
{
	return sqlite3_bind_int64(st, 2, now) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 3, window) == SQLITE_OK ? 0 : MCA_ERR_DB;
}

int
mca_ledger_failures_add(struct mca_ledger *l, const char *id,
    const char *addr, long long now, long long window)
{
	sqlite3_stmt	*st;
	int		 rc, intx = 0;

	if (l == NULL || window < 1)
		return MCA_ERR_INVAL;
	if (id == NULL && addr == NULL)
		return 0;
	/* One transaction: one commit (and sync) per counted failure. */
	if ((rc = mca_ledger_step_done(l, STMT_BEGIN)) != 0)
		return rc;
	intx = 1;
	if (id != NULL) {
		st = l->stmt[STMT_FAIL_ID];
		if (mca_ledger_bind(st, 1, id) != SQLITE_OK ||
		    mca_ledger_bind_window(st, now, window) != 0) {
			sqlite3_clear_bindings(st);
			rc = MCA_ERR_DB;
			goto out;
		}
		/* No such passcode: nothing to count on it. */
		if ((rc = mca_ledger_step_done(l, STMT_FAIL_ID)) != 0)
			goto out;
	}
	if (addr != NULL) {
		st = l->stmt[STMT_FAIL_PRUNE];
		if (mca_ledger_bind_window(st, now, window) != 0) {
			sqlite3_clear_bindings(st);
			rc = MCA_ERR_DB;
			goto out;
		}
		if ((rc = mca_ledger_step_done(l, STMT_FAIL_PRUNE)) != 0)
			goto out;
		st = l->stmt[STMT_FAIL_ADDR];
		if (mca_ledger_bind(st, 1, addr) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, now) != SQLITE_OK) {
			sqlite3_clear_bindings(st);
			rc = MCA_ERR_DB;
			goto out;
		}
		if ((rc = mca_ledger_step_done(l, STMT_FAIL_ADDR)) != 0)
			goto out;
		st = l->stmt[STMT_FAIL_CAP];
		if (sqlite3_bind_int(st, 1, MCA_LEDGER_ADDR_ROWS) !=
		    SQLITE_OK) {
			sqlite3_clear_bindings(st);
			rc = MCA_ERR_DB;
			goto out;
		}
		if ((rc = mca_ledger_step_done(l, STMT_FAIL_CAP)) != 0)
			goto out;
	}
	if ((rc = mca_ledger_step_done(l, STMT_COMMIT)) != 0)
		goto out;
	intx = 0;
	rc = 0;
out:
	if (intx)
		(void)mca_ledger_step_done(l, STMT_ROLLBACK);
	return rc;
}

/* ---- cron state (schema 7) */

/* A tool or job name the table takes: 1 to 64 bytes. */
static int
mca_ledger_cron_name(const char *s)
{
	return s != NULL && *s != '\0' &&
	    strlen(s) <= MCA_LEDGER_CRON_NAME_MAX;
}

int
mca_ledger_cron_get(struct mca_ledger *l, const char *tool, const char *job,
    struct mca_ledger_cron *c)
{
	sqlite3_stmt	*st;
	int		 rc = MCA_ERR_DB;

	if (c != NULL)
		memset(c, 0, sizeof(*c));
	if (l == NULL || c == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(&l->err);
	if (!mca_ledger_cron_name(tool) || !mca_ledger_cron_name(job))
		return mca_diag(&l->err, MCA_ERR_INVAL, "read cron_state: "
		    "tool and job names are 1 to %d bytes",
		    MCA_LEDGER_CRON_NAME_MAX);
	st = l->stmt[STMT_CRON_GET];
	if (mca_ledger_bind(st, 1, tool) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, job) != SQLITE_OK) {
		rc = mca_ledger_bind_fail(l, STMT_CRON_GET);
		goto out;
	}
	if ((rc = mca_ledger_one_row(l, STMT_CRON_GET)) != 0)
		goto out;
	c->last_check = sqlite3_column_int64(st, 0);
	mca_ledger_column(st, 1, c->result, sizeof(c->result));
	mca_ledger_column(st, 2, c->message, sizeof(c->message));
	rc = 0;
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int
mca_ledger_cron_set(struct mca_ledger *l, const char *tool, const char *job,
    long long when, const char *result, const char *message)
{
	sqlite3_stmt	*st;
	char		 msg[MCA_LEDGER_CRON_MSG_MAX + 1];
	size_t		 n;

	if (l == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(&l->err);
	if (!mca_ledger_cron_name(tool) || !mca_ledger_cron_name(job))
		return mca_diag(&l->err, MCA_ERR_INVAL, "write cron_state: "
		    "tool and job names are 1 to %d bytes",
		    MCA_LEDGER_CRON_NAME_MAX);
	if (result == NULL || (strcmp(result, MCA_LEDGER_CRON_OK) != 0 &&
	    strcmp(result, MCA_LEDGER_CRON_FAILED) != 0 &&
	    strcmp(result, MCA_LEDGER_CRON_PENDING) != 0))
		return mca_diag(&l->err, MCA_ERR_INVAL, "write cron_state: "
		    "result must be ok, failed or pending");
	/* A long message is cut, before a partial UTF-8 sequence. */
	if (message != NULL && (n = strlen(message)) > MCA_LEDGER_CRON_MSG_MAX) {
		n = MCA_LEDGER_CRON_MSG_MAX;
		while (n > 0 && ((unsigned char)message[n] & 0xc0) == 0x80)
			n--;
		memcpy(msg, message, n);
		msg[n] = '\0';
		message = msg;
	}
	st = l->stmt[STMT_CRON_SET];
	if (mca_ledger_bind(st, 1, tool) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, job) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, when) != SQLITE_OK ||
	    mca_ledger_bind(st, 4, result) != SQLITE_OK ||
	    sqlite3_bind_text(st, 5, message, -1, SQLITE_TRANSIENT) !=
	    SQLITE_OK)
		return mca_ledger_bind_fail(l, STMT_CRON_SET);
	return mca_ledger_step_done(l, STMT_CRON_SET);
}
