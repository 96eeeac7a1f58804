/*
 * The issuance ledger: schema and migrations, the PRAGMAs that make it
 * durable, every column written, the audit views, and several worker
 * processes writing at once. The test looks at the file through its own
 * SQLite connection, as an auditor would.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "buf.h"
#include "err.h"
#include "ledger.h"
#include "testutil.h"

#define ISSUER	"CN=microca Test Issuing CA,O=microca"
#define SHA1	"0123456789ABCDEF0123456789ABCDEF01234567"
#define SHA256	"0123456789ABCDEF0123456789ABCDEF" \
		"FEDCBA9876543210FEDCBA9876543210"
#define PEM	"-----BEGIN CERTIFICATE-----\nMIIB\"x'\n" \
		"-----END CERTIFICATE-----\n"

static char	*tmpdir;
static char	 path[1024];

static void
setup(void)
{
	tmpdir = tu_mkdtemp("ledger");
	(void)snprintf(path, sizeof(path), "%s/ledger.db", tmpdir);
}

static void
teardown(void)
{
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* ISO 8601 UTC for now + off seconds, as the ledger stores times. */
static void
iso(time_t off, char *buf, size_t bufsz)
{
	time_t		 t = time(NULL) + off;
	struct tm	 tm;

	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	ck_assert_uint_gt(strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm), 0);
}

static struct mca_ledger *
ledger_open(int sync_full)
{
	struct mca_ledger	*l = NULL;
	struct mca_diag		 d;
	int			 rc;

	rc = mca_ledger_open(path, sync_full, &l, &d);
	ck_assert_msg(rc == 0, "open: %s: %s", mca_strerror(rc), d.msg);
	ck_assert_ptr_nonnull(l);
	return l;
}

/* Our own connection: what an auditor or the cron jobs see. */
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
}

/* The first column of the first row of sql, as an integer. */
static sqlite3_int64
db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st = NULL;
	sqlite3_int64	 v;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* All rows of sql as text: columns joined by '|', one row a line. */
static void
db_rows(sqlite3 *db, const char *sql, struct mca_buf *out)
{
	sqlite3_stmt		*st = NULL;
	const unsigned char	*t;
	int			 i, rc;

	mca_buf_reset(out);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++) {
			if (i > 0)
				ck_assert_int_eq(mca_buf_addc(out, '|'), 0);
			if ((t = sqlite3_column_text(st, i)) != NULL)
				ck_assert_int_eq(mca_buf_addstr(out,
				    (const char *)t), 0);
		}
		ck_assert_int_eq(mca_buf_addc(out, '\n'), 0);
	}
	ck_assert_int_eq(rc, SQLITE_DONE);
	sqlite3_finalize(st);
}

static sqlite3_int64
count_certs(void)
{
	sqlite3		*db = db_open();
	sqlite3_int64	 n;

	n = db_int(db, "SELECT count(*) FROM certificates");
	sqlite3_close(db);
	return n;
}

/* A valid certificate row; not_after 90 days from now. */
static void
cert_sample(struct mca_ledger_cert *c, const char *serial, char *na,
    size_t nasz)
{
	iso(90 * 86400, na, nasz);
	memset(c, 0, sizeof(*c));
	c->serial = serial;
	c->subject = "CN=device-1,O=microca";
	c->san = "DNS:device-1.example";
	c->issuer = ISSUER;
	c->not_before = "2024-01-01T00:00:00Z";
	c->not_after = na;
	c->label = "devices";
	c->operation = "enroll";
	c->sha1 = SHA1;
	c->sha256 = SHA256;
	c->key_type = "EC P-256";
	c->pem = PEM;
}

static void
insert_ok(struct mca_ledger *l, const struct mca_ledger_cert *c)
{
	int	 rc;

	rc = mca_ledger_insert_cert(l, c);
	ck_assert_msg(rc == 0, "insert %s: %s", c->serial, mca_strerror(rc));
}

/* ------------------------------------------------------------ open */

/* 1 if SQLite's plan for sql names index. */
static int
plan_uses(sqlite3 *db, const char *sql, const char *index)
{
	sqlite3_stmt	*st;
	char		 q[512];
	int		 found = 0;

	(void)snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	ck_assert_int_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		if (strstr((const char *)sqlite3_column_text(st, 3), index))
			found = 1;
	sqlite3_finalize(st);
	return found;
}

START_TEST(test_create)
{
	struct mca_ledger	*l;
	sqlite3			*db;
	int			 v = -1;

	l = ledger_open(1);
	ck_assert_int_eq(mca_ledger_version(l, &v), 0);
	ck_assert_int_eq(v, (int)mca_sql_nmigrations);
	ck_assert_int_ge(v, 1);
	mca_ledger_close(l);
	mca_ledger_close(NULL);

	db = db_open();
	ck_assert_int_eq(db_int(db, "PRAGMA user_version"),
	    (sqlite3_int64)mca_sql_nmigrations);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name IN ('certificates', 'refusals', 'issued_today', "
	    "'issued_by_label', 'expiring_soon', 'passcodes', "
	    "'passcode_status')"), 7);
	/*
	 * Schema 3: replaces_serial is indexed only where set, and the
	 * renewal lookup still uses that index.
	 */
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'certificates_replaces_serial' AND "
	    "sql LIKE '%WHERE replaces_serial IS NOT NULL'"), 1);
	ck_assert(plan_uses(db, "SELECT serial FROM certificates "
	    "WHERE replaces_serial = 'AB'", "certificates_replaces_serial"));
	sqlite3_close(db);
}
END_TEST

START_TEST(test_reopen)
{
	struct mca_ledger	*l;
	struct mca_ledger_cert	 c;
	sqlite3			*db;
	sqlite3_int64		 nschema;
	char			 na[32];
	int			 i, v;

	l = ledger_open(1);
	cert_sample(&c, "0A", na, sizeof(na));
	insert_ok(l, &c);
	mca_ledger_close(l);
	db = db_open();
	nschema = db_int(db, "SELECT count(*) FROM sqlite_schema");
	sqlite3_close(db);

	for (i = 0; i < 3; i++) {
		l = ledger_open(i % 2);
		v = -1;
		ck_assert_int_eq(mca_ledger_version(l, &v), 0);
		ck_assert_int_eq(v, (int)mca_sql_nmigrations);
		mca_ledger_close(l);
	}
	db = db_open();
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM sqlite_schema"),
	    nschema);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM certificates"), 1);
	sqlite3_close(db);
}
END_TEST

START_TEST(test_newer_refused)
{
	struct mca_ledger	*l = (struct mca_ledger *)&l;
	struct mca_diag		 d;
	sqlite3			*db;

	db = db_open();
	db_exec(db, "PRAGMA user_version = 99");
	sqlite3_close(db);

	ck_assert_int_eq(mca_ledger_open(path, 1, &l, &d), MCA_ERR_DB);
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(d.msg, "99") != NULL &&
	    strstr(d.msg, "newer") != NULL, "message: %s", d.msg);

	/* Refused means untouched. */
	db = db_open();
	ck_assert_int_eq(db_int(db, "PRAGMA user_version"), 99);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM sqlite_schema"), 0);
	sqlite3_close(db);
}
END_TEST

/*
 * Ledgers made by earlier builds, each migrated to the whole list by
 * name. A legacy ledger (no schema_migrations, user_version only) came
 * from a build whose list had other files in 4th place; a newer one
 * lacks a file that was added between two others later (as 0004 was).
 */
static const struct {
	const char	*files;		/* applied, in this order */
	int		 legacy;	/* schema_migrations dropped */
	int		 version;	/* user_version set */
	const char	*err;		/* NULL: migrates */
} histories[] = {
	{ "schema.sql", 1, 1, NULL },
	{ "schema.sql 0002-passcodes.sql 0003-sparse-index.sql", 1, 3, NULL },
	/* main before 0005: 0006 was version 4 */
	{ "schema.sql 0002-passcodes.sql 0003-sparse-index.sql "
	    "0006-failure-budgets.sql", 1, 4, NULL },
	/* the SAN-policy branch: 0005 was version 4 */
	{ "schema.sql 0002-passcodes.sql 0003-sparse-index.sql "
	    "0005-superseded.sql", 1, 4, NULL },
	/* a file added later, between two a ledger has */
	{ "schema.sql 0002-passcodes.sql 0003-sparse-index.sql "
	    "0006-failure-budgets.sql", 0, 4, NULL },
	{ "schema.sql 0002-passcodes.sql 0006-failure-budgets.sql", 0, 3,
	    NULL },
	/* a version that says more than its schema holds: unknown files */
	{ "schema.sql 0002-passcodes.sql 0003-sparse-index.sql "
	    "0006-failure-budgets.sql", 1, 5, "does not know" },
	/* version 4 with none of 0004-0006 in its schema: unknown files */
	{ "schema.sql 0002-passcodes.sql 0003-sparse-index.sql", 1, 4,
	    "does not know" },
	/* the refusal-bound branch: 0004 was version 4 */
	{ "schema.sql 0002-passcodes.sql 0003-sparse-index.sql "
	    "0004-refusal-counts.sql", 1, 4, NULL },
};

/* The SQL of the embedded migration named name. */
static const char *
migration_sql(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < mca_sql_nmigrations; i++)
		if (strlen(mca_sql_migrations[i].name) == len &&
		    strncmp(mca_sql_migrations[i].name, name, len) == 0)
			return mca_sql_migrations[i].sql;
	ck_abort_msg("no migration %.*s", (int)len, name);
	return NULL;
}

START_TEST(test_history)
{
	struct mca_ledger	*l = (struct mca_ledger *)&l;
	struct mca_diag		 d;
	sqlite3			*db;
	const char		*f, *e;
	char			 q[64];
	int			 v = -1, rc;

	db = db_open();
	db_exec(db, "BEGIN");
	for (f = histories[_i].files; *f != '\0'; f = e + (*e == ' ')) {
		e = f + strcspn(f, " ");
		db_exec(db, migration_sql(f, (size_t)(e - f)));
	}
	if (histories[_i].legacy)
		db_exec(db, "DROP TABLE schema_migrations");
	(void)snprintf(q, sizeof(q), "PRAGMA user_version = %d",
	    histories[_i].version);
	db_exec(db, q);
	db_exec(db, "COMMIT");
	db_exec(db, "INSERT INTO certificates (serial, subject, issuer, "
	    "not_before, not_after, label, operation, sha1, sha256, "
	    "key_origin, pem) VALUES ('0E', 'CN=old', '" ISSUER "', "
	    "'2024-01-01T00:00:00Z', '2030-01-01T00:00:00Z', 'devices', "
	    "'enroll', '" SHA1 "', '" SHA256 "', 'client', 'pem')");
	sqlite3_close(db);

	rc = mca_ledger_open(path, 1, &l, &d);
	if (histories[_i].err != NULL) {
		ck_assert_int_eq(rc, MCA_ERR_DB);
		ck_assert_ptr_null(l);
		ck_assert_msg(strstr(d.msg, histories[_i].err) != NULL,
		    "message: %s", d.msg);
		/* Refused means untouched. */
		db = db_open();
		ck_assert_int_eq(db_int(db, "PRAGMA user_version"),
		    histories[_i].version);
		ck_assert_int_eq(db_int(db, "SELECT count(*) FROM "
		    "sqlite_schema WHERE name = 'schema_migrations'"),
		    !histories[_i].legacy);
		sqlite3_close(db);
		return;
	}
	ck_assert_msg(rc == 0, "open: %s", d.msg);
	ck_assert_int_eq(mca_ledger_version(l, &v), 0);
	ck_assert_int_eq(v, (int)mca_sql_nmigrations);
	mca_ledger_close(l);

	/* Every file once, what each made there, the row kept. */
	db = db_open();
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM schema_migrations"),
	    (sqlite3_int64)mca_sql_nmigrations);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM "
	    "pragma_table_info('certificates') WHERE name = 'superseded_by'"),
	    1);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name IN ('passcodes', 'address_failures', "
	    "'certificates_replaces_serial')"), 3);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM expiring_soon "
	    "WHERE serial = '0E'"), 0);
	/* 0010-revocations.sql: the log and its view, the row revocable */
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name IN ('revocations', 'revoked_now')"), 2);
	db_exec(db, "PRAGMA foreign_keys = ON");
	db_exec(db, "INSERT INTO revocations (serial, action, reason, "
	    "revoked_at, revoked_by) VALUES ('0E', 'revoke', "
	    "'keyCompromise', '2026-01-01T00:00:00Z', 'test')");
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM revoked_now "
	    "WHERE serial = '0E' AND label = 'devices'"), 1);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM certificates"), 1);
	sqlite3_close(db);
}
END_TEST

/* A migration this build does not know: a newer build's ledger. */
START_TEST(test_unknown_migration)
{
	struct mca_ledger	*l;
	struct mca_diag		 d;
	sqlite3			*db;

	l = ledger_open(1);
	mca_ledger_close(l);
	db = db_open();
	db_exec(db, "INSERT INTO schema_migrations (name) "
	    "VALUES ('9999-future.sql')");
	sqlite3_close(db);
	l = (struct mca_ledger *)&l;
	ck_assert_int_eq(mca_ledger_open(path, 1, &l, &d), MCA_ERR_DB);
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(d.msg, "9999-future.sql") != NULL &&
	    strstr(d.msg, "newer") != NULL, "message: %s", d.msg);
}
END_TEST

START_TEST(test_open_bad)
{
	struct mca_ledger	*l = NULL;
	struct mca_diag		 d;
	char			 p[1100];

	/* Not a database. */
	ck_assert_int_eq(tu_writef(path, "%4096s", "not a ledger"), 0);
	ck_assert_int_eq(mca_ledger_open(path, 1, &l, &d), MCA_ERR_DB);
	ck_assert_ptr_null(l);
	ck_assert_str_ne(d.msg, "");

	/* No such directory. */
	(void)snprintf(p, sizeof(p), "%s/nodir/ledger.db", tmpdir);
	ck_assert_int_eq(mca_ledger_open(p, 1, &l, &d), MCA_ERR_IO);
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(d.msg, "nodir") != NULL, "message: %s", d.msg);

	ck_assert_int_eq(mca_ledger_open(NULL, 1, &l, &d), MCA_ERR_INVAL);
}
END_TEST

START_TEST(test_mode)
{
	struct mca_ledger	*l;
	struct stat		 sb;
	mode_t			 old;
	char			 wal[1100];

	/* A strict umask must not take the group's read access away. */
	old = umask(077);
	l = ledger_open(1);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0640);
	/* SQLite gives the WAL the database file's mode. */
	(void)snprintf(wal, sizeof(wal), "%s-wal", path);
	ck_assert_int_eq(stat(wal, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0640);
	mca_ledger_close(l);

	/* An existing file keeps the mode its owner chose. */
	ck_assert_int_eq(chmod(path, 0600), 0);
	l = ledger_open(1);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	mca_ledger_close(l);
	(void)umask(old);
}
END_TEST

START_TEST(test_wal)
{
	struct mca_ledger	*l;
	sqlite3			*db;
	struct mca_buf		 b = MCA_BUF_INIT;

	l = ledger_open(1);
	db = db_open();
	db_rows(db, "PRAGMA journal_mode", &b);
	ck_assert_str_eq(mca_buf_str(&b), "wal\n");
	sqlite3_close(db);
	mca_ledger_close(l);
	mca_buf_free(&b);
}
END_TEST

/*
 * synchronous is a property of the ledger's own connection, invisible
 * to ours, so this test watches what it is for: a shim VFS counts the
 * fsyncs. In WAL mode FULL syncs the WAL at each commit, NORMAL only at
 * checkpoints.
 */
struct shim_file {
	sqlite3_file	 base;
	sqlite3_file	*real;
};

static sqlite3_vfs	*shim_real;
static sqlite3_vfs	 shim_vfs;
static int		 shim_syncs;

#define REAL(f)	(((struct shim_file *)(f))->real)

static int
shim_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int
shim_read(sqlite3_file *f, void *p, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xRead(REAL(f), p, n, o);
}

static int
shim_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xWrite(REAL(f), p, n, o);
}

static int
shim_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), n);
}

static int
shim_sync(sqlite3_file *f, int flags)
{
	shim_syncs++;
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int
shim_size(sqlite3_file *f, sqlite3_int64 *n)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), n);
}

static int
shim_lock(sqlite3_file *f, int lk)
{
	return REAL(f)->pMethods->xLock(REAL(f), lk);
}

static int
shim_unlock(sqlite3_file *f, int lk)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), lk);
}

static int
shim_check(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
shim_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
shim_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
shim_caps(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
shim_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}

static int
shim_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void
shim_shmbarrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
shim_shmunmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int
shim_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), o, n, pp);
}

static int
shim_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), o, p);
}

static const sqlite3_io_methods shim_io = {
	3, shim_close, shim_read, shim_write, shim_truncate, shim_sync,
	shim_size, shim_lock, shim_unlock, shim_check, shim_fcntl,
	shim_sector, shim_caps, shim_shmmap, shim_shmlock, shim_shmbarrier,
	shim_shmunmap, shim_fetch, shim_unfetch,
};

static int
shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *oflags)
{
	struct shim_file	*s = (struct shim_file *)f;
	int			 rc;

	s->real = (sqlite3_file *)(s + 1);
	rc = shim_real->xOpen(shim_real, name, s->real, flags, oflags);
	f->pMethods = s->real->pMethods != NULL ? &shim_io : NULL;
	return rc;
}

static void
shim_install(void)
{
	ck_assert_ptr_nonnull(shim_real = sqlite3_vfs_find(NULL));
	ck_assert_int_ge(shim_real->iVersion, 1);
	shim_vfs = *shim_real;
	shim_vfs.zName = "mca-sync-counter";
	shim_vfs.szOsFile = (int)sizeof(struct shim_file) +
	    shim_real->szOsFile;
	shim_vfs.xOpen = shim_open;
	ck_assert_int_eq(sqlite3_vfs_register(&shim_vfs, 1), SQLITE_OK);
}

START_TEST(test_sync)
{
	struct mca_ledger	*l;
	struct mca_ledger_cert	 c;
	char			 na[32], serial[16];
	int			 i, before, full = _i;

	shim_install();
	l = ledger_open(full);
	/* The first commit to a fresh WAL syncs its header in any mode. */
	cert_sample(&c, "01", na, sizeof(na));
	insert_ok(l, &c);
	before = shim_syncs;
	for (i = 0; i < 3; i++) {
		(void)snprintf(serial, sizeof(serial), "1%d", i);
		c.serial = serial;
		insert_ok(l, &c);
	}
	if (full)
		ck_assert_int_ge(shim_syncs - before, 3);
	else
		ck_assert_int_eq(shim_syncs - before, 0);
	mca_ledger_close(l);
	ck_assert_int_eq(sqlite3_vfs_unregister(&shim_vfs), SQLITE_OK);
}
END_TEST

/* ---------------------------------------------------------- insert */

/* Each variant, and what every column must hold afterwards. */
static const struct {
	struct mca_ledger_cert	 c;
	const char		*key_origin;
	const char		*azure_sync;
} readback[] = {
	{ { "0A1B2C", "CN=M\xc3\xbcller,O=\"x\"", "DNS:a.example, IP:10.0.0.1",
	    ISSUER, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "devices",
	    "enroll", "CN=bootstrap", "7F", ISSUER, "192.0.2.1", SHA1, SHA256,
	    "EC P-256", PEM, NULL, 0, 0, "certificate", NULL, NULL },
	    "client", "none" },
	{ { "0B", "CN=d2", NULL, ISSUER, "2024-01-01T00:00:00Z",
	    "2025-01-01T00:00:00Z", NULL, "serverkeygen", NULL, NULL, NULL,
	    "2001:db8::1", SHA1, SHA256, "RSA 2048", PEM, NULL, 1, 1,
	    "remote_user", "operator@example", NULL }, "server", "pending" },
	{ { "0C", "CN=device-1,O=microca", "DNS:device-1.example", ISSUER,
	    "2024-06-01T00:00:00Z", "2025-06-01T00:00:00Z", "devices",
	    "reenroll", "CN=device-1,O=microca", "00", ISSUER, "192.0.2.2",
	    SHA1, SHA256, "EC P-384", PEM, "00", 0, 1, NULL, NULL, NULL },
	    "client", "pending" },
};

START_TEST(test_insert_readback)
{
	const struct mca_ledger_cert	*c = &readback[_i].c;
	struct mca_ledger_cert		 base;
	struct mca_ledger		*l;
	sqlite3				*db;
	sqlite3_stmt			*st = NULL;
	const char			*name, *t;
	char				 na[32], lo[32], hi[32];
	const struct {
		const char	*col;
		const char	*want;
	} cols[] = {
		{ "serial", c->serial }, { "subject", c->subject },
		{ "san", c->san }, { "issuer", c->issuer },
		{ "not_before", c->not_before }, { "not_after", c->not_after },
		{ "label", c->label }, { "operation", c->operation },
		{ "requester_subject", c->req_subject },
		{ "requester_serial", c->req_serial },
		{ "requester_issuer", c->req_issuer },
		{ "remote_addr", c->remote_addr }, { "sha1", c->sha1 },
		{ "sha256", c->sha256 }, { "key_type", c->key_type },
		{ "key_origin", readback[_i].key_origin }, { "pem", c->pem },
		{ "replaces_serial", c->replaces_serial },
		{ "azure_sync", readback[_i].azure_sync },
		{ "auth_method", c->auth_method },
		{ "requester_user", c->req_user },
		{ "passcode_id", c->passcode_id },
		/* set only when a grace renewal supersedes a row */
		{ "superseded_by", NULL }, { "superseded_at", NULL },
	};
	size_t				 i, ncols;
	int				 j, seen = 0;

	ncols = sizeof(cols) / sizeof(cols[0]);
	l = ledger_open(1);
	/* The certificate the reenroll variant replaces. */
	cert_sample(&base, "00", na, sizeof(na));
	insert_ok(l, &base);
	insert_ok(l, c);
	mca_ledger_close(l);

	iso(-300, lo, sizeof(lo));
	iso(300, hi, sizeof(hi));
	db = db_open();
	ck_assert_int_eq(sqlite3_prepare_v2(db,
	    "SELECT * FROM certificates WHERE serial = ?1", -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_bind_text(st, 1, c->serial, -1,
	    SQLITE_STATIC), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	for (j = 0; j < sqlite3_column_count(st); j++) {
		name = sqlite3_column_name(st, j);
		t = (const char *)sqlite3_column_text(st, j);
		if (strcmp(name, "id") == 0) {
			ck_assert_int_eq(sqlite3_column_int(st, j), 2);
			seen++;
			continue;
		}
		/* The chain's stamp: the second row, after the first. */
		if (strcmp(name, "chain_seq") == 0) {
			ck_assert_int_eq(sqlite3_column_int(st, j), 2);
			seen++;
			continue;
		}
		if (strcmp(name, "chain_prev") == 0 ||
		    strcmp(name, "chain_hash") == 0) {
			/* (t above made the blob text: its length holds) */
			ck_assert_int_eq(sqlite3_column_bytes(st, j), 32);
			seen++;
			continue;
		}
		if (strcmp(name, "issued_at") == 0) {
			ck_assert_ptr_nonnull(t);
			ck_assert_int_eq(strlen(t), 20);
			ck_assert_msg(strcmp(t, lo) >= 0 && strcmp(t, hi) <= 0,
			    "issued_at %s not near now", t);
			seen++;
			continue;
		}
		for (i = 0; i < ncols; i++)
			if (strcmp(cols[i].col, name) == 0)
				break;
		ck_assert_msg(i < ncols, "column %s not checked", name);
		seen++;
		if (cols[i].want == NULL) {
			ck_assert_msg(sqlite3_column_type(st, j) == SQLITE_NULL,
			    "%s: want NULL, got %s", name, t);
			continue;
		}
		ck_assert_int_eq(sqlite3_column_type(st, j), SQLITE_TEXT);
		ck_assert_str_eq(t, cols[i].want);
	}
	ck_assert_int_eq(seen, (int)ncols + 5);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

START_TEST(test_duplicate)
{
	struct mca_ledger	*l;
	struct mca_ledger_cert	 c;
	sqlite3			*db;
	char			 na[32];

	l = ledger_open(1);
	cert_sample(&c, "ABCDEF", na, sizeof(na));
	insert_ok(l, &c);
	c.subject = "CN=intruder";
	ck_assert_int_eq(mca_ledger_insert_cert(l, &c), MCA_ERR_EXISTS);
	ck_assert_int_eq(mca_ledger_insert_cert(l, &c), MCA_ERR_EXISTS);
	/* The statement is still usable. */
	c.serial = "ABCDF0";
	insert_ok(l, &c);
	mca_ledger_close(l);

	db = db_open();
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM certificates "
	    "WHERE serial = 'ABCDEF' AND subject = 'CN=device-1,O=microca'"),
	    1);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM certificates"), 2);
	sqlite3_close(db);
}
END_TEST

/* One bad field each; the schema must refuse the row. */
static const struct {
	size_t		 off;
	const char	*val;
} bad_fields[] = {
	{ offsetof(struct mca_ledger_cert, operation), "revoke" },
	{ offsetof(struct mca_ledger_cert, operation), "" },
	{ offsetof(struct mca_ledger_cert, operation), NULL },
	{ offsetof(struct mca_ledger_cert, serial), NULL },
	{ offsetof(struct mca_ledger_cert, serial), "" },
	{ offsetof(struct mca_ledger_cert, serial), "0a1b" },
	{ offsetof(struct mca_ledger_cert, serial), "0A:1B" },
	{ offsetof(struct mca_ledger_cert, not_after), "2030-01-01 00:00:00" },
	{ offsetof(struct mca_ledger_cert, not_after),
	    "2030-01-01T00:00:00+01:00" },
	{ offsetof(struct mca_ledger_cert, not_after),
	    "2030-01-01T00:00:00.5Z" },
	{ offsetof(struct mca_ledger_cert, not_after), "2030-02-30T00:00:00Z" },
	{ offsetof(struct mca_ledger_cert, not_after), "2030-13-01T00:00:00Z" },
	{ offsetof(struct mca_ledger_cert, not_after), "2030-01-01T24:00:00Z" },
	{ offsetof(struct mca_ledger_cert, not_after), "2030-01-01T00:00:00z" },
	{ offsetof(struct mca_ledger_cert, not_before), "20240101000000Z" },
	{ offsetof(struct mca_ledger_cert, sha1), SHA256 },
	{ offsetof(struct mca_ledger_cert, sha1),
	    "0123456789abcdef0123456789ABCDEF01234567" },
	{ offsetof(struct mca_ledger_cert, sha256), SHA1 },
	{ offsetof(struct mca_ledger_cert, subject), NULL },
	{ offsetof(struct mca_ledger_cert, issuer), NULL },
	{ offsetof(struct mca_ledger_cert, pem), NULL },
	/* Foreign key: a renewal of a certificate the ledger never saw. */
	{ offsetof(struct mca_ledger_cert, replaces_serial), "DEAD" },
};

START_TEST(test_constraint)
{
	struct mca_ledger	*l;
	struct mca_ledger_cert	 c;
	char			 na[32];

	l = ledger_open(1);
	cert_sample(&c, "0F", na, sizeof(na));
	*(const char **)((char *)&c + bad_fields[_i].off) = bad_fields[_i].val;
	ck_assert_int_eq(mca_ledger_insert_cert(l, &c), MCA_ERR_DB);
	ck_assert_int_eq(count_certs(), 0);
	/* Nothing left behind in the statement: a good row goes in. */
	cert_sample(&c, "10", na, sizeof(na));
	insert_ok(l, &c);
	ck_assert_int_eq(count_certs(), 1);
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_busy)
{
	struct mca_ledger	*l;
	struct mca_ledger_cert	 c;
	struct timeval		 t0, t1;
	sqlite3			*db;
	char			 na[32];
	long			 ms;

	l = ledger_open(1);
	db = db_open();
	db_exec(db, "BEGIN IMMEDIATE");
	cert_sample(&c, "0B0B", na, sizeof(na));
	(void)gettimeofday(&t0, NULL);
	ck_assert_int_eq(mca_ledger_insert_cert(l, &c), MCA_ERR_BUSY);
	(void)gettimeofday(&t1, NULL);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000;
	/* It waited for the lock, as long as promised. */
	ck_assert_int_ge(ms, MCA_LEDGER_BUSY_MS - 500);
	/* and says so, in SQLite's words, for the log */
	ck_assert_str_eq(mca_ledger_errmsg(l, MCA_ERR_BUSY),
	    "insert into certificates: database is locked (SQLITE_BUSY 5)");
	db_exec(db, "ROLLBACK");
	sqlite3_close(db);
	ck_assert_int_eq(count_certs(), 0);
	insert_ok(l, &c);
	ck_assert_int_eq(count_certs(), 1);
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_refusal)
{
	struct mca_ledger		*l;
	struct mca_ledger_refusal	 r[2] = {
		{ "devices", "enroll", "CN=old,O=x", "1F", ISSUER,
		    "192.0.2.9", 403, "client certificate expired", NULL,
		    NULL },
		{ NULL, "serverkeygen", NULL, NULL, NULL, "::1", 401, NULL,
		    "ops", "PG1D6EK3" },
	};
	struct mca_buf			 b = MCA_BUF_INIT;
	sqlite3				*db;
	char				 lo[32], hi[32];

	iso(-300, lo, sizeof(lo));
	l = ledger_open(1);
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r[0]), 0);
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r[1]), 0);
	mca_ledger_close(l);
	iso(300, hi, sizeof(hi));

	db = db_open();
	db_rows(db, "SELECT id, label, operation, requester_subject, "
	    "requester_serial, requester_issuer, remote_addr, status, "
	    "typeof(status), reason, reason IS NULL, requester_subject IS NULL, "
	    "requester_user, passcode_id, passcode_id IS NULL "
	    "FROM refusals ORDER BY id", &b);
	ck_assert_str_eq(mca_buf_str(&b),
	    "1|devices|enroll|CN=old,O=x|1F|" ISSUER "|192.0.2.9|403|integer|"
	    "client certificate expired|0|0|||1\n"
	    "2||serverkeygen||||::1|401|integer||1|1|ops|PG1D6EK3|0\n");
	db_rows(db, "SELECT count(*) FROM refusals WHERE at GLOB '[0-9][0-9]"
	    "[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9]"
	    "[0-9]Z'", &b);
	ck_assert_str_eq(mca_buf_str(&b), "2\n");
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM refusals"), 2);
	/* at is set by the ledger, now. */
	{
		char	 q[256];

		(void)snprintf(q, sizeof(q), "SELECT count(*) FROM refusals "
		    "WHERE at >= '%s' AND at <= '%s'", lo, hi);
		ck_assert_int_eq(db_int(db, q), 2);
	}
	sqlite3_close(db);
	mca_buf_free(&b);
}
END_TEST


/* ------------------------------------------------------------ errors */

/*
 * A failure keeps SQLite's cause, for the one log line: the message a
 * trigger raised (as a full disk would be), with its code and extended
 * code; a table gone; the detail is the last call's.
 */
START_TEST(test_errmsg)
{
	struct mca_ledger		*l;
	struct mca_ledger_cert		 c;
	struct mca_ledger_refusal	 r;
	struct mca_ledger_found		 f;
	sqlite3				*db;
	char				 na[32];

	l = ledger_open(1);
	ck_assert_str_eq(mca_ledger_errmsg(l, MCA_ERR_DB),
	    mca_strerror(MCA_ERR_DB));
	ck_assert_str_eq(mca_ledger_errmsg(NULL, MCA_ERR_BUSY),
	    mca_strerror(MCA_ERR_BUSY));
	db = db_open();
	db_exec(db, "CREATE TRIGGER no_more BEFORE INSERT ON certificates "
	    "BEGIN SELECT RAISE(ABORT, 'disk full'); END");
	cert_sample(&c, "0E0E", na, sizeof(na));
	ck_assert_int_eq(mca_ledger_insert_cert(l, &c), MCA_ERR_DB);
	/* SQLITE_CONSTRAINT_TRIGGER: 19 | 7 << 8 */
	ck_assert_str_eq(mca_ledger_errmsg(l, MCA_ERR_DB),
	    "insert into certificates: disk full (SQLITE_CONSTRAINT 19, "
	    "extended 1811)");
	/* a call that works clears it */
	ck_assert_int_eq(mca_ledger_find(l, "0E0E", ISSUER, &f),
	    MCA_ERR_NOTFOUND);
	ck_assert_str_eq(mca_ledger_errmsg(l, MCA_ERR_DB),
	    mca_strerror(MCA_ERR_DB));
	db_exec(db, "DROP TRIGGER no_more");
	insert_ok(l, &c);

	/* a table dropped under a running worker */
	db_exec(db, "DROP TABLE refusals");
	memset(&r, 0, sizeof(r));
	r.label = "devices";
	r.operation = "enroll";
	r.status = 403;
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), MCA_ERR_DB);
	ck_assert_msg(strncmp(mca_ledger_errmsg(l, MCA_ERR_DB),
	    "insert into refusals: no such table: ", 37) == 0 &&
	    strstr(mca_ledger_errmsg(l, MCA_ERR_DB), "refusals (SQLITE_ERROR "
	    "1); counted in refusal_counts instead") != NULL, "%s",
	    mca_ledger_errmsg(l, MCA_ERR_DB));
	/*
	 * In the passcode transaction: the step that failed (the insert,
	 * after the spend), not the rollback after it; the use comes back.
	 */
	db_exec(db, "INSERT INTO passcodes (id, label, hash, uses_total, "
	    "uses_left, expires_at) VALUES ('PG1D6EK3', 'devices', "
	    "'$s$1$2$h', 1, 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', "
	    "'+1 day'))");
	db_exec(db, "PRAGMA foreign_keys = OFF");
	db_exec(db, "DROP TABLE certificates");
	c.serial = "0E0F";
	c.label = "devices";
	c.passcode_id = "PG1D6EK3";
	ck_assert_int_eq(mca_ledger_insert_cert(l, &c), MCA_ERR_DB);
	ck_assert_msg(strncmp(mca_ledger_errmsg(l, MCA_ERR_DB),
	    "insert into certificates: no such table: ", 41) == 0 &&
	    strstr(mca_ledger_errmsg(l, MCA_ERR_DB), "(SQLITE_ERROR 1)") !=
	    NULL, "%s", mca_ledger_errmsg(l, MCA_ERR_DB));
	ck_assert_int_eq(db_int(db, "SELECT uses_left FROM passcodes"), 1);
	sqlite3_close(db);
	mca_ledger_close(l);
}
END_TEST

/* ------------------------------------------------------------ refusals */

/*
 * The refusal tests count per minute: in the last 10 s of a minute,
 * wait for the next, so that one test (well under a second of work)
 * runs within one minute.
 */
static void
refusal_minute_start(void)
{
	while (time(NULL) % 60 >= 50)
		(void)sleep(1);
}

static void
refusal_sample(struct mca_ledger_refusal *r, const char *label, int status)
{
	memset(r, 0, sizeof(r[0]));
	r->label = label;
	r->operation = "enroll";
	r->remote_addr = "192.0.2.66";
	r->status = status;
	r->reason = "no credentials";
}

/*
 * Beyond refusals_per_minute_max in a minute, a refusal is a count in
 * refusal_counts, per minute, label and status, not a row; every
 * refusal is in one or the other.
 */
START_TEST(test_refusal_cap)
{
	struct mca_ledger		*l;
	struct mca_ledger_refusal	 r;
	struct mca_buf			 b = MCA_BUF_INIT;
	sqlite3				*db;
	int				 i;

	refusal_minute_start();
	l = ledger_open(1);
	mca_ledger_refusal_limits(l, 30, 3);
	refusal_sample(&r, "devices", 401);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), 0);
	refusal_sample(&r, "servers", 403);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), 0);
	r.label = NULL;		/* no label: counted under '' */
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), 0);
	/* what is still in memory is written now */
	ck_assert_int_eq(mca_ledger_refusals_flush(l), 0);

	db = db_open();
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM refusals"), 3);
	db_rows(db, "SELECT label, status FROM refusals ORDER BY id", &b);
	ck_assert_str_eq(mca_buf_str(&b),
	    "devices|401\ndevices|401\ndevices|401\n");
	db_rows(db, "SELECT label, status, n, minute = strftime("
	    "'%Y-%m-%dT%H:%M:00Z', 'now') FROM refusal_counts "
	    "ORDER BY label, status", &b);
	ck_assert_str_eq(mca_buf_str(&b),
	    "|403|1|1\ndevices|401|5|1\nservers|403|5|1\n");
	ck_assert_int_eq(db_int(db, "SELECT (SELECT count(*) FROM refusals) + "
	    "(SELECT sum(n) FROM refusal_counts)"), 14);

	/* another worker: the cap holds across connections */
	mca_ledger_close(l);
	l = ledger_open(1);
	mca_ledger_refusal_limits(l, 30, 3);
	refusal_sample(&r, "devices", 401);
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), 0);
	/* closing writes the counts too */
	mca_ledger_close(l);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM refusals"), 3);
	ck_assert_int_eq(db_int(db, "SELECT n FROM refusal_counts WHERE "
	    "label = 'devices'"), 6);

	/* 0: no rows at all, only counts */
	l = ledger_open(1);
	mca_ledger_refusal_limits(l, 30, 0);
	refusal_sample(&r, "other", 400);
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), 0);
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), 0);
	mca_ledger_close(l);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM refusals"), 3);
	ck_assert_int_eq(db_int(db, "SELECT n FROM refusal_counts WHERE "
	    "label = 'other'"), 2);
	sqlite3_close(db);
	mca_buf_free(&b);
}
END_TEST

/*
 * Rows and counts older than refusals_keep_days go, at the first
 * refusal of a worker and then at most once a minute; younger ones stay.
 */
START_TEST(test_refusal_prune)
{
	struct mca_ledger		*l;
	struct mca_ledger_refusal	 r;
	sqlite3				*db;

	l = ledger_open(1);		/* the schema */
	mca_ledger_close(l);
	db = db_open();
	db_exec(db, "INSERT INTO refusals (at, label, status) VALUES "
	    "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-11 days'), 'old', 403),"
	    "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-400 days'), 'old', 403),"
	    "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-9 days'), 'young', 403)");
	db_exec(db, "INSERT INTO refusal_counts VALUES "
	    "(strftime('%Y-%m-%dT%H:%M:00Z', 'now', '-11 days'), 'old', 401, 7),"
	    "(strftime('%Y-%m-%dT%H:%M:00Z', 'now', '-9 days'), 'young', 401, 5)");
	/* the plan deletes through the index on at */
	ck_assert(plan_uses(db, "SELECT id FROM refusals WHERE at < "
	    "'2020-01-01T00:00:00Z' ORDER BY at LIMIT 5000", "refusals_at"));

	l = ledger_open(1);
	mca_ledger_refusal_limits(l, 10, 600);
	refusal_sample(&r, "new", 401);
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), 0);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM refusals WHERE "
	    "label = 'old'"), 0);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM refusals WHERE "
	    "label IN ('young', 'new')"), 2);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM refusal_counts "
	    "WHERE label = 'old'"), 0);
	ck_assert_int_eq(db_int(db, "SELECT n FROM refusal_counts "
	    "WHERE label = 'young'"), 5);

	/* within the minute, no second prune */
	db_exec(db, "INSERT INTO refusals (at, label, status) VALUES "
	    "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-20 days'), 'old', 403)");
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), 0);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM refusals WHERE "
	    "label = 'old'"), 1);
	mca_ledger_close(l);
	/* a new worker prunes at its first refusal */
	l = ledger_open(1);
	mca_ledger_refusal_limits(l, 10, 600);
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), 0);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM refusals WHERE "
	    "label = 'old'"), 0);
	mca_ledger_close(l);
	sqlite3_close(db);
}
END_TEST

/*
 * A refusal does not wait for the write lock as an enrollment does
 * (MCA_LEDGER_BUSY_MS): it gives up soon, says why, and the refusal is
 * counted once the lock is free.
 */
START_TEST(test_refusal_busy)
{
	struct mca_ledger		*l;
	struct mca_ledger_refusal	 r;
	struct timeval			 t0, t1;
	sqlite3				*db;
	long				 ms;

	refusal_minute_start();
	l = ledger_open(1);
	db = db_open();
	db_exec(db, "BEGIN IMMEDIATE");
	refusal_sample(&r, "devices", 401);
	(void)gettimeofday(&t0, NULL);
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), MCA_ERR_BUSY);
	(void)gettimeofday(&t1, NULL);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000;
	ck_assert_int_lt(ms, MCA_LEDGER_BUSY_MS / 2);
	ck_assert_str_eq(mca_ledger_errmsg(l, MCA_ERR_BUSY),
	    "insert into refusals: database is locked (SQLITE_BUSY 5); "
	    "counted in refusal_counts instead");
	/* still locked: the count stays in memory, nothing is lost */
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), MCA_ERR_BUSY);
	db_exec(db, "ROLLBACK");
	ck_assert_int_eq(mca_ledger_refusals_flush(l), 0);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM refusals"), 0);
	ck_assert_int_eq(db_int(db, "SELECT n FROM refusal_counts"), 2);
	/* and the next one is a row again */
	ck_assert_int_eq(mca_ledger_insert_refusal(l, &r), 0);
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM refusals"), 1);
	sqlite3_close(db);
	mca_ledger_close(l);
}
END_TEST

/* ------------------------------------------------------------ find */

static const struct {
	const char	*serial;
	const char	*issuer;
	int		 rc;
	const char	*label;
	const char	*not_after;
	const char	*replaced_by;
} finds[] = {
	{ "A1", ISSUER, 0, "devices", "2025-01-01T00:00:00Z", "A2" },
	{ "A2", ISSUER, 0, "devices", "2026-01-01T00:00:00Z", "" },
	{ "B1", ISSUER, 0, "", "2025-03-01T00:00:00Z", "" },
	{ "FFFF", ISSUER, MCA_ERR_NOTFOUND, "", "", "" },
	{ "a1", ISSUER, MCA_ERR_NOTFOUND, "", "", "" },
	{ "A1", "CN=Other CA", MCA_ERR_NOTFOUND, "", "", "" },
	{ "A1", "", MCA_ERR_NOTFOUND, "", "", "" },
	{ NULL, ISSUER, MCA_ERR_NOTFOUND, "", "", "" },
};

START_TEST(test_find)
{
	struct mca_ledger	*l;
	struct mca_ledger_cert	 c;
	struct mca_ledger_found	 f;
	char			 na[32];

	l = ledger_open(1);
	cert_sample(&c, "A1", na, sizeof(na));
	c.not_after = "2025-01-01T00:00:00Z";
	insert_ok(l, &c);
	c.serial = "A2";
	c.operation = "reenroll";
	c.replaces_serial = "A1";
	c.not_after = "2026-01-01T00:00:00Z";
	insert_ok(l, &c);
	c.serial = "B1";
	c.label = NULL;
	c.operation = "enroll";
	c.replaces_serial = NULL;
	c.not_after = "2025-03-01T00:00:00Z";
	insert_ok(l, &c);

	memset(&f, 'x', sizeof(f));
	ck_assert_int_eq(mca_ledger_find(l, finds[_i].serial, finds[_i].issuer,
	    &f), finds[_i].rc);
	ck_assert_str_eq(f.label, finds[_i].label);
	ck_assert_str_eq(f.not_after, finds[_i].not_after);
	ck_assert_str_eq(f.replaced_by, finds[_i].replaced_by);
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_find_replaced)
{
	struct mca_ledger	*l;
	struct mca_ledger_cert	 c;
	struct mca_ledger_found	 f;
	char			 na[32];

	l = ledger_open(1);
	cert_sample(&c, "C1", na, sizeof(na));
	insert_ok(l, &c);
	ck_assert_int_eq(mca_ledger_find(l, "C1", ISSUER, &f), 0);
	ck_assert_str_eq(f.replaced_by, "");
	ck_assert_str_eq(f.not_after, na);

	c.serial = "C2";
	c.operation = "reenroll";
	c.replaces_serial = "C1";
	insert_ok(l, &c);
	ck_assert_int_eq(mca_ledger_find(l, "C1", ISSUER, &f), 0);
	ck_assert_str_eq(f.replaced_by, "C2");
	ck_assert_str_eq(f.label, "devices");
	ck_assert_int_eq(mca_ledger_find(l, "C2", ISSUER, &f), 0);
	ck_assert_str_eq(f.replaced_by, "");
	mca_ledger_close(l);
}
END_TEST

/* mca_ledger_may_renew(): the one rule, on what find says. */
static const struct {
	const char	*replaced_by, *superseded_by;
	long long	 secs;
	int		 grace, may;
} renews[] = {
	{ "", "", -1, 0, 1 },		/* never renewed */
	{ "", "", -1, 300, 1 },
	{ "B", "", 0, 0, 0 },		/* grace 0: renews once */
	{ "B", "", 0, 300, 1 },
	{ "B", "", 299, 300, 1 },
	{ "B", "", 300, 300, 0 },
	{ "B", "", 86400, 300, 0 },
	{ "B", "", -5, 300, 1 },	/* the clock stepped back */
	{ "B", "", -5, 0, 0 },
	{ "", "C", -1, 300, 0 },	/* superseded */
	{ "", "C", -1, 0, 0 },
};

START_TEST(test_may_renew)
{
	struct mca_ledger_found	 f;

	memset(&f, 0, sizeof(f));
	(void)snprintf(f.replaced_by, sizeof(f.replaced_by), "%s",
	    renews[_i].replaced_by);
	(void)snprintf(f.superseded_by, sizeof(f.superseded_by), "%s",
	    renews[_i].superseded_by);
	f.renewed_secs = renews[_i].secs;
	ck_assert_int_eq(mca_ledger_may_renew(&f, renews[_i].grace),
	    renews[_i].may);
}
END_TEST

/* A renewal row of replaces, with serial. */
static void
renewal_sample(struct mca_ledger_cert *c, const char *serial,
    const char *replaces, char *na, size_t nasz)
{
	cert_sample(c, serial, na, nasz);
	c->operation = "reenroll";
	c->replaces_serial = replaces;
	c->req_serial = replaces;
	c->req_issuer = ISSUER;
	c->auth_method = "certificate";
}

START_TEST(test_renewal)
{
	struct mca_ledger	*l;
	struct mca_ledger_cert	 c;
	struct mca_ledger_found	 f;
	struct mca_buf		 rows = MCA_BUF_INIT;
	sqlite3			*db;
	char			 na[32];

	l = ledger_open(1);
	cert_sample(&c, "A1", na, sizeof(na));
	insert_ok(l, &c);

	/* The first renewal: fine whatever the grace. */
	renewal_sample(&c, "B1", "A1", na, sizeof(na));
	ck_assert_int_eq(mca_ledger_insert_renewal(l, &c, 0, &f), 0);
	ck_assert_str_eq(f.replaced_by, "");
	ck_assert_int_eq(f.renewed_secs, -1);
	ck_assert_int_eq(mca_ledger_find(l, "A1", ISSUER, &f), 0);
	ck_assert_str_eq(f.replaced_by, "B1");
	ck_assert_int_ge(f.renewed_secs, 0);
	ck_assert_int_eq(strlen(f.renewed_at), 20);

	/* A second one: refused without grace, nothing written. */
	renewal_sample(&c, "C1", "A1", na, sizeof(na));
	ck_assert_int_eq(mca_ledger_insert_renewal(l, &c, 0, &f),
	    MCA_ERR_POLICY);
	ck_assert_str_eq(f.replaced_by, "B1");
	ck_assert_int_eq(count_certs(), 2);
	/* ... allowed within it, superseding B1. */
	ck_assert_int_eq(mca_ledger_insert_renewal(l, &c, 300, &f), 0);
	ck_assert_str_eq(f.replaced_by, "B1");
	db = db_open();
	db_rows(db, "SELECT serial, replaces_serial, superseded_by, "
	    "superseded_at IS NOT NULL FROM certificates ORDER BY id", &rows);
	ck_assert_str_eq(mca_buf_str(&rows), "A1|||0\nB1|A1|C1|1\nC1|A1||0\n");
	/* The ledger says which renewal is current. */
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM certificates WHERE "
	    "replaces_serial = 'A1' AND superseded_by IS NULL"), 1);
	/* A superseded certificate renews no more, grace or not. */
	renewal_sample(&c, "D1", "B1", na, sizeof(na));
	ck_assert_int_eq(mca_ledger_insert_renewal(l, &c, 300, &f),
	    MCA_ERR_POLICY);
	ck_assert_str_eq(f.superseded_by, "C1");
	/* The grace runs from the first renewal. */
	db_exec(db, "UPDATE certificates SET issued_at = "
	    "'2020-01-01T00:00:00Z' WHERE serial = 'B1'");
	renewal_sample(&c, "E1", "A1", na, sizeof(na));
	ck_assert_int_eq(mca_ledger_insert_renewal(l, &c, 86400, &f),
	    MCA_ERR_POLICY);
	ck_assert_str_eq(f.renewed_at, "2020-01-01T00:00:00Z");
	ck_assert_int_gt(f.renewed_secs, 86400);
	ck_assert_int_eq(count_certs(), 3);

	/* C1, current, renews; its serial taken, nothing is written. */
	renewal_sample(&c, "A1", "C1", na, sizeof(na));
	ck_assert_int_eq(mca_ledger_insert_renewal(l, &c, 0, &f),
	    MCA_ERR_EXISTS);
	renewal_sample(&c, "F1", "C1", na, sizeof(na));
	ck_assert_int_eq(mca_ledger_insert_renewal(l, &c, 0, &f), 0);
	ck_assert_int_eq(count_certs(), 4);
	/* Unknown, of another issuer, or a bad call. */
	renewal_sample(&c, "G1", "FFFF", na, sizeof(na));
	ck_assert_int_eq(mca_ledger_insert_renewal(l, &c, 0, &f),
	    MCA_ERR_NOTFOUND);
	renewal_sample(&c, "G1", "F1", na, sizeof(na));
	c.req_issuer = "CN=Other CA";
	ck_assert_int_eq(mca_ledger_insert_renewal(l, &c, 0, &f),
	    MCA_ERR_NOTFOUND);
	renewal_sample(&c, "G1", "F1", na, sizeof(na));
	c.passcode_id = "ABCDEFGH";
	ck_assert_int_eq(mca_ledger_insert_renewal(l, &c, 0, &f),
	    MCA_ERR_INVAL);
	c.passcode_id = NULL;
	c.replaces_serial = NULL;
	ck_assert_int_eq(mca_ledger_insert_renewal(l, &c, 0, &f),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_insert_renewal(NULL, &c, 0, &f),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(count_certs(), 4);
	/* No transaction was left open: another writer gets in. */
	db_exec(db, "BEGIN IMMEDIATE; ROLLBACK");
	/* A superseded certificate is no longer chased for expiry. */
	db_exec(db, "UPDATE certificates SET not_after = strftime("
	    "'%Y-%m-%dT%H:%M:%SZ', 'now', '+1 day')");
	db_rows(db, "SELECT serial FROM expiring_soon", &rows);
	ck_assert_str_eq(mca_buf_str(&rows), "F1\n");
	sqlite3_close(db);
	mca_buf_free(&rows);
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_find_truncate)
{
	struct mca_ledger	*l;
	struct mca_ledger_cert	 c;
	struct mca_ledger_found	 f;
	char			 na[32], label[200], want[80];

	l = ledger_open(1);
	cert_sample(&c, "D1", na, sizeof(na));
	memset(label, 'x', 100);
	label[100] = '\0';
	c.label = label;
	insert_ok(l, &c);
	ck_assert_int_eq(mca_ledger_find(l, "D1", ISSUER, &f), 0);
	ck_assert_uint_eq(strlen(f.label), sizeof(f.label) - 1);
	ck_assert_int_eq(strncmp(f.label, label, sizeof(f.label) - 1), 0);

	/* 63 bytes then a 2-byte character: cut before it, not inside. */
	memset(label, 'y', 63);
	(void)snprintf(label + 63, sizeof(label) - 63, "\xc3\xa9zz");
	c.serial = "D2";
	insert_ok(l, &c);
	ck_assert_int_eq(mca_ledger_find(l, "D2", ISSUER, &f), 0);
	memset(want, 'y', 63);
	want[63] = '\0';
	ck_assert_str_eq(f.label, want);
	mca_ledger_close(l);
}
END_TEST

/* ----------------------------------------------------------- views */

/* Inserts serial with not_after now + days; issued_at as given, or now. */
static void
view_row(struct mca_ledger *l, sqlite3 *db, const char *serial,
    const char *label, long days, const char *replaces, const char *issued)
{
	struct mca_ledger_cert	 c;
	char			 na[32], q[256];

	cert_sample(&c, serial, na, sizeof(na));
	iso(days * 86400, na, sizeof(na));
	c.label = label;
	if (replaces != NULL) {
		c.operation = "reenroll";
		c.replaces_serial = replaces;
	}
	insert_ok(l, &c);
	if (issued != NULL) {
		(void)snprintf(q, sizeof(q), "UPDATE certificates SET "
		    "issued_at = '%s' WHERE serial = '%s'", issued, serial);
		db_exec(db, q);
	}
}

START_TEST(test_issued_today)
{
	struct mca_ledger	*l;
	struct mca_buf		 b = MCA_BUF_INIT;
	sqlite3			*db;
	char			 midnight[32], before[32];
	time_t			 t;
	struct tm		 tm;

	t = time(NULL);
	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	ck_assert_uint_gt(strftime(midnight, sizeof(midnight),
	    "%Y-%m-%dT00:00:00Z", &tm), 0);
	t -= 86400;
	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	ck_assert_uint_gt(strftime(before, sizeof(before),
	    "%Y-%m-%dT23:59:59Z", &tm), 0);

	l = ledger_open(1);
	db = db_open();
	view_row(l, db, "01", "a", 90, NULL, before);
	view_row(l, db, "02", "a", 90, NULL, midnight);
	view_row(l, db, "03", "b", 90, NULL, NULL);
	view_row(l, db, "04", "b", 90, NULL, "2020-01-01T12:00:00Z");
	db_rows(db, "SELECT serial FROM issued_today", &b);
	ck_assert_str_eq(mca_buf_str(&b), "02\n03\n");
	sqlite3_close(db);
	mca_ledger_close(l);
	mca_buf_free(&b);
}
END_TEST

START_TEST(test_issued_by_label)
{
	struct mca_ledger	*l;
	struct mca_buf		 b = MCA_BUF_INIT;
	sqlite3			*db;

	l = ledger_open(1);
	db = db_open();
	view_row(l, db, "01", "a", 90, NULL, "2024-05-01T10:00:00Z");
	view_row(l, db, "02", "b", 90, NULL, "2024-05-02T10:00:00Z");
	view_row(l, db, "03", "a", 90, NULL, "2024-05-03T10:00:00Z");
	view_row(l, db, "04", NULL, 90, NULL, "2024-05-04T10:00:00Z");
	/* A renewal counts for its label like any other issuance. */
	view_row(l, db, "05", "a", 90, "01", "2024-04-30T10:00:00Z");
	db_rows(db, "SELECT label, issued, last_issued FROM issued_by_label",
	    &b);
	ck_assert_str_eq(mca_buf_str(&b),
	    "|1|2024-05-04T10:00:00Z\n"
	    "a|3|2024-05-03T10:00:00Z\n"
	    "b|1|2024-05-02T10:00:00Z\n");
	sqlite3_close(db);
	mca_ledger_close(l);
	mca_buf_free(&b);
}
END_TEST

START_TEST(test_expiring_soon)
{
	struct mca_ledger	*l;
	struct mca_buf		 b = MCA_BUF_INIT;
	sqlite3			*db;

	l = ledger_open(1);
	db = db_open();
	view_row(l, db, "01", "a", 10, NULL, NULL);	/* yes */
	view_row(l, db, "02", "a", 40, NULL, NULL);	/* later */
	view_row(l, db, "03", "a", -1, NULL, NULL);	/* expired */
	view_row(l, db, "04", "a", 20, NULL, NULL);	/* renewed by 05 */
	view_row(l, db, "05", "a", 365, "04", NULL);
	view_row(l, db, "06", "b", 29, NULL, NULL);	/* yes */
	view_row(l, db, "07", "b", 2, NULL, NULL);	/* yes, first */
	db_rows(db, "SELECT serial, label FROM expiring_soon", &b);
	ck_assert_str_eq(mca_buf_str(&b), "07|b\n01|a\n06|b\n");
	sqlite3_close(db);
	mca_ledger_close(l);
	mca_buf_free(&b);
}
END_TEST

/* Auditors use the sqlite3 shell, while the CA keeps running. */
START_TEST(test_sqlite3_cli)
{
	struct mca_ledger	*l;
	struct mca_buf		 out = MCA_BUF_INIT;
	const char		*sh = getenv("SQLITE3");
	sqlite3			*db;

	if (sh == NULL || *sh == '\0')
		sh = "sqlite3";
	l = ledger_open(1);
	db = db_open();
	view_row(l, db, "01", "a", 90, NULL, NULL);
	view_row(l, db, "02", "b", 90, NULL, NULL);
	view_row(l, db, "03", "a", 90, NULL, NULL);
	sqlite3_close(db);
	ck_assert_int_eq(tu_sh(&out, "'%s' -batch -init /dev/null -readonly "
	    "'%s' 'SELECT label, issued FROM issued_by_label;' 2>&1", sh,
	    path), 0);
	ck_assert_str_eq(mca_buf_str(&out), "a|2\nb|1\n");
	mca_ledger_close(l);
	mca_buf_free(&out);
}
END_TEST

/* ----------------------------------------------------- concurrency */

/*
 * The default SQLite VFS, wrapped to tell when this process is refused
 * a lock another holds: the first SQLITE_BUSY from xLock (rollback
 * journal), or from xShmLock on the WAL write lock (slot 0, wal.c
 * WAL_WRITE_LOCK), writes a byte to spy_fd and closes it. That is how
 * test_open_race knows that mca_ledger_open() met the rival's lock,
 * instead of guessing how long it takes to get there. The other
 * methods are the real ones, given the same file and VFS data.
 */
static sqlite3_vfs		*spy_real;
static sqlite3_vfs		 spy_vfs;
static const sqlite3_io_methods	*spy_real_io;
static sqlite3_io_methods	 spy_io;
static int			 spy_fd = -1;

static int
spy_busy(int rc)
{
	ssize_t	 n;

	if (rc == SQLITE_BUSY && spy_fd != -1) {
		n = write(spy_fd, "b", 1);
		(void)n;
		(void)close(spy_fd);
		spy_fd = -1;
	}
	return rc;
}

static int
spy_lock(sqlite3_file *f, int lock)
{
	return spy_busy(spy_real_io->xLock(f, lock));
}

static int
spy_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	int	 rc;

	rc = spy_real_io->xShmLock(f, off, n, flags);
	if (off == 0 && (flags & SQLITE_SHM_LOCK) &&
	    (flags & SQLITE_SHM_EXCLUSIVE))
		rc = spy_busy(rc);
	return rc;
}

static int
spy_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *oflags)
{
	int	 rc;

	(void)vfs;
	rc = spy_real->xOpen(spy_real, name, f, flags, oflags);
	if (rc != SQLITE_OK || f->pMethods == NULL)
		return rc;
	if (spy_real_io == NULL) {
		spy_real_io = f->pMethods;
		spy_io = *spy_real_io;
		spy_io.xLock = spy_lock;
		if (spy_io.iVersion >= 2)
			spy_io.xShmLock = spy_shm_lock;
	}
	if (f->pMethods == spy_real_io)
		f->pMethods = &spy_io;
	return rc;
}

/* Makes the spy this process's default VFS (once). */
static void
spy_install(void)
{
	if (spy_real != NULL)
		return;
	ck_assert_ptr_nonnull(spy_real = sqlite3_vfs_find(NULL));
	spy_vfs = *spy_real;
	spy_vfs.pNext = NULL;
	spy_vfs.zName = "mca-test-spy";
	spy_vfs.xOpen = spy_open;
	ck_assert_int_eq(sqlite3_vfs_register(&spy_vfs, 1), SQLITE_OK);
}

/*
 * Another worker, in a child process, with its own connection: it takes
 * the write lock on the ledger (and with migrate, as the worker that won
 * the race to a new file would, switches it to WAL and applies every
 * migration), says so through ready, and keeps the lock, uncommitted,
 * until go says that the parent was refused it (or closes).
 */
static void
rival(int ready, int go, int migrate)
{
	sqlite3	*db = NULL;
	char	 q[64], c;
	size_t	 i;
	ssize_t	 n;
	int	 bad = 0;

	/*
	 * Its COMMIT must wait out our open's shared lock (taken for a
	 * moment at each of its tries): without a busy timeout it failed
	 * whenever it came at such a moment. Long: only a hang reaches it.
	 */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 600 * 1000) != SQLITE_OK)
		_exit(1);
	if (migrate)
		bad |= sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL,
		    NULL, NULL);
	/* Without migrate: a writer still in rollback mode. */
	bad |= sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (i = 0; migrate && i < mca_sql_nmigrations; i++) {
		(void)snprintf(q, sizeof(q), "PRAGMA user_version = %d",
		    mca_sql_migrations[i].version);
		bad |= sqlite3_exec(db, mca_sql_migrations[i].sql, NULL, NULL,
		    NULL);
		bad |= sqlite3_exec(db, q, NULL, NULL, NULL);
	}
	if (bad != 0 || write(ready, "r", 1) != 1)
		_exit(2);
	n = read(go, &c, 1);
	(void)n;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "rival: COMMIT: %s\n", sqlite3_errmsg(db));
		bad = 1;
	}
	sqlite3_close(db);
	_exit(bad != 0 ? 3 : 0);
}

#define NOPENRACE	8

/*
 * 0: a new file that another process is writing: the WAL conversion
 * fails at once, without the busy handler, and open must retry.
 * 1: another worker migrates while we open: we must wait for its write
 * lock before reading user_version, or we would migrate a second time.
 * No timing: the rival holds its lock until our open has been refused
 * it, and lets go then; a few rounds, each on a new file.
 */
START_TEST(test_open_race)
{
	struct mca_ledger	*l;
	sqlite3			*db;
	pid_t			 pid;
	int			 ready[2], go[2], round, st, v;
	char			 c;

	spy_install();
	for (round = 0; round < NOPENRACE; round++) {
		(void)snprintf(path, sizeof(path), "%s/race%d.db", tmpdir,
		    round);
		ck_assert_int_eq(pipe(ready), 0);
		ck_assert_int_eq(pipe(go), 0);
		ck_assert_int_ne(pid = fork(), -1);
		if (pid == 0) {
			(void)close(ready[0]);
			(void)close(go[1]);
			rival(ready[1], go[0], _i);
		}
		(void)close(ready[1]);
		(void)close(go[0]);
		ck_assert_msg(read(ready[0], &c, 1) == 1,
		    "round %d: the rival did not get its lock", round);
		(void)close(ready[0]);
		spy_fd = go[1];
		l = ledger_open(1);
		ck_assert_msg(spy_fd == -1, "round %d: open never met the "
		    "rival's lock", round);
		v = -1;
		ck_assert_int_eq(mca_ledger_version(l, &v), 0);
		ck_assert_int_eq(v, (int)mca_sql_nmigrations);
		mca_ledger_close(l);
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "round %d: rival: %d", round, st);
		db = db_open();
		ck_assert_int_eq(db_int(db, "SELECT count(*) FROM "
		    "sqlite_schema WHERE name = 'certificates'"), 1);
		sqlite3_close(db);
	}
}
END_TEST

#define NCHILD	4
#define NROWS	200

/* A worker process: open a fresh ledger, insert NROWS. Exit status = errors. */
static void
child(int id, int gate)
{
	struct mca_ledger	*l = NULL;
	struct mca_ledger_cert	 c;
	struct mca_diag		 d;
	char			 serial[16], g;
	int			 i, rc, errs = 0;
	ssize_t			 n;

	memset(&c, 0, sizeof(c));
	c.subject = "CN=worker";
	c.issuer = ISSUER;
	c.not_before = "2024-01-01T00:00:00Z";
	c.not_after = "2030-01-01T00:00:00Z";
	c.label = "load";
	c.operation = "enroll";
	c.sha1 = SHA1;
	c.sha256 = SHA256;
	c.pem = PEM;
	c.serial = serial;
	/* Everybody starts at once: the parent closes the pipe. */
	n = read(gate, &g, 1);
	(void)n;
	if (mca_ledger_open(path, 1, &l, &d) != 0) {
		fprintf(stderr, "child %d: open: %s\n", id, d.msg);
		_exit(100);
	}
	for (i = 0; i < NROWS; i++) {
		(void)snprintf(serial, sizeof(serial), "%02X%04X", id, i);
		if ((rc = mca_ledger_insert_cert(l, &c)) != 0) {
			fprintf(stderr, "child %d: row %d: %s\n", id, i,
			    mca_ledger_errmsg(l, rc));
			errs++;
		}
	}
	mca_ledger_close(l);
	_exit(errs > 99 ? 99 : errs);
}

START_TEST(test_concurrent)
{
	pid_t	 pid[NCHILD];
	int	 gate[2], i, st;

	/* The file does not exist yet: the migration races too. */
	ck_assert_int_eq(pipe(gate), 0);
	for (i = 0; i < NCHILD; i++) {
		ck_assert_int_ne(pid[i] = fork(), -1);
		if (pid[i] == 0) {
			(void)close(gate[1]);
			child(i, gate[0]);
		}
	}
	(void)close(gate[0]);
	(void)close(gate[1]);
	for (i = 0; i < NCHILD; i++) {
		ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "child %d: status %d", i, st);
	}
	ck_assert_int_eq(count_certs(), NCHILD * NROWS);
}
END_TEST

/* ------------------------------------------------------- passcodes */

#define PCHASH	"$scrypt$ln=11,r=8,p=1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA=="

/* A passcode row: uses, expiring off seconds from now. */
static void
pc_sample(struct mca_ledger_passcode *p, const char *id, const char *label,
    long long uses, time_t off)
{
	memset(p, 0, sizeof(*p));
	(void)snprintf(p->id, sizeof(p->id), "%s", id);
	(void)snprintf(p->label, sizeof(p->label), "%s", label);
	(void)snprintf(p->hash, sizeof(p->hash), "%s", PCHASH);
	p->uses_total = uses;
	iso(off, p->expires_at, sizeof(p->expires_at));
}

static void
pc_add_ok(struct mca_ledger *l, const struct mca_ledger_passcode *p)
{
	int	 rc;

	rc = mca_ledger_passcode_add(l, p);
	ck_assert_msg(rc == 0, "add %s: %s", p->id, mca_strerror(rc));
}

START_TEST(test_pc_add_get)
{
	struct mca_ledger		*l;
	struct mca_ledger_passcode	 p, g;
	char				 lo[32], hi[32];

	l = ledger_open(1);
	pc_sample(&p, "PG1D6EK3", "devices", 3, 86400);
	(void)snprintf(p.created_by, sizeof(p.created_by), "root");
	(void)snprintf(p.comment, sizeof(p.comment), "batch \"7\"");
	iso(-300, lo, sizeof(lo));
	pc_add_ok(l, &p);
	iso(300, hi, sizeof(hi));
	ck_assert_int_eq(mca_ledger_passcode_get(l, "PG1D6EK3", &g), 0);
	ck_assert_str_eq(g.id, "PG1D6EK3");
	ck_assert_str_eq(g.label, "devices");
	ck_assert_str_eq(g.hash, PCHASH);
	ck_assert_int_eq(g.uses_total, 3);
	ck_assert_int_eq(g.uses_left, 3);
	ck_assert_str_eq(g.expires_at, p.expires_at);
	ck_assert_str_eq(g.state, "active");
	ck_assert(strcmp(g.created_at, lo) >= 0 &&
	    strcmp(g.created_at, hi) <= 0);
	ck_assert_str_eq(g.created_by, "root");
	ck_assert_str_eq(g.comment, "batch \"7\"");
	ck_assert_str_eq(g.revoked_at, "");
	ck_assert_str_eq(g.last_used_at, "");
	ck_assert_int_eq(g.issued, 0);
	/* The ID is unique: the caller draws another. */
	p.label[0] = 'x';
	ck_assert_int_eq(mca_ledger_passcode_add(l, &p), MCA_ERR_EXISTS);
	ck_assert_int_eq(mca_ledger_passcode_get(l, "PG1D6EK4", &g),
	    MCA_ERR_NOTFOUND);
	ck_assert_str_eq(g.id, "");
	ck_assert_int_eq(mca_ledger_passcode_get(l, NULL, &g),
	    MCA_ERR_NOTFOUND);
	/* No comment, no creator: NULL, read back as "". */
	pc_sample(&p, "00000000", "devices", 1, 3600);
	pc_add_ok(l, &p);
	ck_assert_int_eq(mca_ledger_passcode_get(l, "00000000", &g), 0);
	ck_assert_str_eq(g.comment, "");
	ck_assert_str_eq(g.created_by, "");
	mca_ledger_close(l);
}
END_TEST

/* What the schema refuses in a passcode row. */
static const struct {
	const char	*id;
	const char	*label;
	const char	*hash;
	long long	 uses;
	const char	*expires;
} pc_bad[] = {
	{ "pg1d6ek3", "d", PCHASH, 1, "2030-01-01T00:00:00Z" },
	{ "PG1D6EKU", "d", PCHASH, 1, "2030-01-01T00:00:00Z" },
	{ "PG1D6EK", "d", PCHASH, 1, "2030-01-01T00:00:00Z" },
	{ "", "d", PCHASH, 1, "2030-01-01T00:00:00Z" },
	{ "PG1D6EK3", "", PCHASH, 1, "2030-01-01T00:00:00Z" },
	{ "PG1D6EK3", "d", "secret", 1, "2030-01-01T00:00:00Z" },
	{ "PG1D6EK3", "d", "", 1, "2030-01-01T00:00:00Z" },
	{ "PG1D6EK3", "d", PCHASH, 0, "2030-01-01T00:00:00Z" },
	{ "PG1D6EK3", "d", PCHASH, -1, "2030-01-01T00:00:00Z" },
	{ "PG1D6EK3", "d", PCHASH, 1, "2030-02-30T00:00:00Z" },
	{ "PG1D6EK3", "d", PCHASH, 1, "2030-01-01 00:00:00" },
	{ "PG1D6EK3", "d", PCHASH, 1, "" },
};

START_TEST(test_pc_constraint)
{
	struct mca_ledger		*l;
	struct mca_ledger_passcode	 p;
	sqlite3				*db;

	l = ledger_open(1);
	memset(&p, 0, sizeof(p));
	(void)snprintf(p.id, sizeof(p.id), "%s", pc_bad[_i].id);
	(void)snprintf(p.label, sizeof(p.label), "%s", pc_bad[_i].label);
	(void)snprintf(p.hash, sizeof(p.hash), "%s", pc_bad[_i].hash);
	p.uses_total = pc_bad[_i].uses;
	(void)snprintf(p.expires_at, sizeof(p.expires_at), "%s",
	    pc_bad[_i].expires);
	ck_assert_int_eq(mca_ledger_passcode_add(l, &p), MCA_ERR_DB);
	mca_ledger_close(l);
	db = db_open();
	ck_assert_int_eq(db_int(db, "SELECT count(*) FROM passcodes"), 0);
	/* uses_left is never above uses_total, nor below 0. */
	db_exec(db, "INSERT INTO passcodes (id, label, hash, uses_total, "
	    "uses_left, expires_at) VALUES ('AAAAAAAA', 'd', '" PCHASH "', 1, "
	    "1, '2030-01-01T00:00:00Z')");
	ck_assert_int_ne(sqlite3_exec(db, "UPDATE passcodes SET uses_left = 2",
	    NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_ne(sqlite3_exec(db, "UPDATE passcodes SET uses_left = -1",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}
END_TEST

struct pc_seen {
	struct mca_buf	 b;
	int		 stop_after;
};

static int
pc_collect(void *arg, const struct mca_ledger_passcode *p)
{
	struct pc_seen	*s = arg;

	ck_assert_int_eq(mca_buf_printf(&s->b, "%s:%s:%s:%lld/%lld:%lld\n",
	    p->id, p->label, p->state, p->uses_left, p->uses_total, p->issued),
	    0);
	return --s->stop_after == 0 ? 42 : 0;
}

START_TEST(test_pc_states)
{
	struct mca_ledger		*l;
	struct mca_ledger_passcode	 p;
	struct pc_seen			 s;
	sqlite3				*db;
	int				 already = -1;

	l = ledger_open(1);
	pc_sample(&p, "AAAAAAA1", "a", 1, 3600);	/* active */
	pc_add_ok(l, &p);
	pc_sample(&p, "AAAAAAA2", "a", 2, -1);		/* expired */
	pc_add_ok(l, &p);
	pc_sample(&p, "AAAAAAA3", "b", 1, 3600);	/* used up below */
	pc_add_ok(l, &p);
	pc_sample(&p, "AAAAAAA4", "b", 5, 3600);	/* revoked below */
	pc_add_ok(l, &p);
	pc_sample(&p, "AAAAAAA5", "b", 5, 3600);	/* active */
	pc_add_ok(l, &p);
	db = db_open();
	db_exec(db, "UPDATE passcodes SET uses_left = 0 WHERE id = 'AAAAAAA3'");
	sqlite3_close(db);
	ck_assert_int_eq(mca_ledger_passcode_revoke(l, "AAAAAAA4", &already),
	    0);
	ck_assert_int_eq(already, 0);
	ck_assert_int_eq(mca_ledger_passcode_revoke(l, "AAAAAAA4", &already),
	    0);
	ck_assert_int_eq(already, 1);
	ck_assert_int_eq(mca_ledger_passcode_revoke(l, "ZZZZZZZZ", &already),
	    MCA_ERR_NOTFOUND);
	ck_assert_int_eq(mca_ledger_passcode_get(l, "AAAAAAA4", &p), 0);
	ck_assert_str_eq(p.state, "revoked");
	ck_assert_uint_eq(strlen(p.revoked_at), 20);

	memset(&s, 0, sizeof(s));
	s.stop_after = -1;
	ck_assert_int_eq(mca_ledger_passcode_list(l, NULL, 1, pc_collect, &s),
	    0);
	ck_assert_str_eq(mca_buf_str(&s.b),
	    "AAAAAAA1:a:active:1/1:0\n"
	    "AAAAAAA2:a:expired:2/2:0\n"
	    "AAAAAAA3:b:used:0/1:0\n"
	    "AAAAAAA4:b:revoked:5/5:0\n"
	    "AAAAAAA5:b:active:5/5:0\n");
	mca_buf_reset(&s.b);
	ck_assert_int_eq(mca_ledger_passcode_list(l, NULL, 0, pc_collect, &s),
	    0);
	ck_assert_str_eq(mca_buf_str(&s.b),
	    "AAAAAAA1:a:active:1/1:0\n"
	    "AAAAAAA5:b:active:5/5:0\n");
	mca_buf_reset(&s.b);
	ck_assert_int_eq(mca_ledger_passcode_list(l, "b", 1, pc_collect, &s),
	    0);
	ck_assert_str_eq(mca_buf_str(&s.b),
	    "AAAAAAA3:b:used:0/1:0\n"
	    "AAAAAAA4:b:revoked:5/5:0\n"
	    "AAAAAAA5:b:active:5/5:0\n");
	mca_buf_reset(&s.b);
	ck_assert_int_eq(mca_ledger_passcode_list(l, "nope", 1, pc_collect,
	    &s), 0);
	ck_assert_str_eq(mca_buf_str(&s.b), "");
	/* The callback stops the walk. */
	s.stop_after = 2;
	ck_assert_int_eq(mca_ledger_passcode_list(l, NULL, 1, pc_collect, &s),
	    42);
	ck_assert_str_eq(mca_buf_str(&s.b),
	    "AAAAAAA1:a:active:1/1:0\nAAAAAAA2:a:expired:2/2:0\n");
	/* And the statement is usable again. */
	mca_buf_reset(&s.b);
	s.stop_after = -1;
	ck_assert_int_eq(mca_ledger_passcode_list(l, "a", 0, pc_collect, &s),
	    0);
	ck_assert_str_eq(mca_buf_str(&s.b), "AAAAAAA1:a:active:1/1:0\n");
	mca_buf_free(&s.b);
	mca_ledger_close(l);
}
END_TEST

/* Inserts a certificate paid for by passcode id on label. */
static int
pc_insert(struct mca_ledger *l, const char *serial, const char *id,
    const char *label)
{
	struct mca_ledger_cert	 c;
	char			 na[32];

	cert_sample(&c, serial, na, sizeof(na));
	c.label = label;
	c.auth_method = "passcode";
	c.passcode_id = id;
	return mca_ledger_insert_cert(l, &c);
}

static sqlite3_int64
pc_left(const char *id)
{
	sqlite3		*db = db_open();
	char		 q[128];
	sqlite3_int64	 n;

	(void)snprintf(q, sizeof(q), "SELECT uses_left FROM passcodes "
	    "WHERE id = '%s'", id);
	n = db_int(db, q);
	sqlite3_close(db);
	return n;
}

START_TEST(test_pc_spend)
{
	struct mca_ledger		*l;
	struct mca_ledger_passcode	 p;
	struct mca_ledger_cert		 c;
	struct mca_buf			 b = MCA_BUF_INIT;
	sqlite3				*db;
	char				 na[32];
	int				 already;

	l = ledger_open(1);
	pc_sample(&p, "TW000000", "devices", 2, 3600);
	pc_add_ok(l, &p);
	ck_assert_int_eq(pc_insert(l, "A1", "TW000000", "devices"), 0);
	ck_assert_int_eq(pc_left("TW000000"), 1);
	/* The serial is taken: all of it rolls back, the use too. */
	ck_assert_int_eq(pc_insert(l, "A1", "TW000000", "devices"),
	    MCA_ERR_EXISTS);
	ck_assert_int_eq(pc_left("TW000000"), 1);
	/* A row the schema refuses: same. */
	cert_sample(&c, "A9", na, sizeof(na));
	c.label = "devices";
	c.passcode_id = "TW000000";
	c.sha1 = "nothex";
	ck_assert_int_eq(mca_ledger_insert_cert(l, &c), MCA_ERR_DB);
	ck_assert_int_eq(pc_left("TW000000"), 1);
	/* Another label: not spendable. */
	ck_assert_int_eq(pc_insert(l, "A2", "TW000000", "servers"),
	    MCA_ERR_AUTH);
	ck_assert_int_eq(pc_insert(l, "A2", "TW000000", NULL), MCA_ERR_AUTH);
	ck_assert_int_eq(pc_left("TW000000"), 1);
	ck_assert_int_eq(pc_insert(l, "A2", "TW000000", "devices"), 0);
	/* Used up. */
	ck_assert_int_eq(pc_insert(l, "A3", "TW000000", "devices"),
	    MCA_ERR_AUTH);
	ck_assert_int_eq(pc_left("TW000000"), 0);
	/* Unknown, expired, revoked. */
	ck_assert_int_eq(pc_insert(l, "A3", "TW000001", "devices"),
	    MCA_ERR_AUTH);
	pc_sample(&p, "TW000002", "devices", 5, -1);
	pc_add_ok(l, &p);
	ck_assert_int_eq(pc_insert(l, "A3", "TW000002", "devices"),
	    MCA_ERR_AUTH);
	pc_sample(&p, "TW000003", "devices", 5, 3600);
	pc_add_ok(l, &p);
	ck_assert_int_eq(mca_ledger_passcode_revoke(l, "TW000003", &already),
	    0);
	ck_assert_int_eq(pc_insert(l, "A3", "TW000003", "devices"),
	    MCA_ERR_AUTH);
	ck_assert_int_eq(pc_left("TW000003"), 5);
	/* After all that, the statements and the connection still work. */
	cert_sample(&c, "A4", na, sizeof(na));
	insert_ok(l, &c);
	ck_assert_int_eq(mca_ledger_passcode_get(l, "TW000000", &p), 0);
	ck_assert_str_eq(p.state, "used");
	ck_assert_int_eq(p.issued, 2);
	ck_assert_uint_eq(strlen(p.last_used_at), 20);
	mca_ledger_close(l);

	db = db_open();
	db_rows(db, "SELECT serial, auth_method, passcode_id FROM certificates "
	    "ORDER BY id", &b);
	ck_assert_str_eq(mca_buf_str(&b), "A1|passcode|TW000000\n"
	    "A2|passcode|TW000000\nA4||\n");
	/* Nothing left open: the file is not locked. */
	db_exec(db, "BEGIN IMMEDIATE");
	db_exec(db, "ROLLBACK");
	sqlite3_close(db);
	mca_buf_free(&b);
}
END_TEST

/* A ledger made by a version-1 binary is migrated, its rows kept. */
START_TEST(test_pc_migrate_v1)
{
	struct mca_ledger	*l;
	struct mca_buf		 b = MCA_BUF_INIT;
	sqlite3			*db;
	int			 v = 0;

	db = db_open();
	db_exec(db, "BEGIN");
	db_exec(db, mca_sql_migrations[0].sql);
	db_exec(db, "PRAGMA user_version = 1");
	db_exec(db, "COMMIT");
	db_exec(db, "INSERT INTO certificates (serial, subject, issuer, "
	    "not_before, not_after, label, operation, sha1, sha256, "
	    "key_origin, pem) VALUES ('0E', 'CN=old', '" ISSUER "', '2024-01-01T00:00:00Z', "
	    "'2030-01-01T00:00:00Z', 'devices', 'enroll', '" SHA1 "', '" SHA256
	    "', 'client', 'pem')");
	sqlite3_close(db);

	l = ledger_open(1);
	ck_assert_int_eq(mca_ledger_version(l, &v), 0);
	ck_assert_int_eq(v, (int)mca_sql_nmigrations);
	ck_assert_int_eq(pc_insert(l, "0F", "NOPE0000", "devices"),
	    MCA_ERR_AUTH);
	mca_ledger_close(l);
	db = db_open();
	db_rows(db, "SELECT serial, auth_method IS NULL, passcode_id IS NULL "
	    "FROM certificates", &b);
	ck_assert_str_eq(mca_buf_str(&b), "0E|1|1\n");
	sqlite3_close(db);
	mca_buf_free(&b);
}
END_TEST

#define NRACE	16

/*
 * A worker in a child process, with its own connection: says it is
 * ready, waits for the gate, then tries to spend passcode RACE0000 with
 * a certificate of its own. Exit 0: issued; 1: refused (MCA_ERR_AUTH);
 * anything else: a fault.
 */
static void
racer(int id, int ready, int gate)
{
	struct mca_ledger	*l = NULL;
	struct mca_diag		 d;
	char			 serial[16], g;
	ssize_t			 n;
	int			 rc;

	if (mca_ledger_open(path, 1, &l, &d) != 0) {
		fprintf(stderr, "racer %d: open: %s\n", id, d.msg);
		_exit(100);
	}
	if (write(ready, "r", 1) != 1)
		_exit(102);
	(void)close(ready);
	n = read(gate, &g, 1);
	(void)n;
	(void)snprintf(serial, sizeof(serial), "BEEF%02X", id);
	rc = pc_insert(l, serial, "RACE0000", "devices");
	mca_ledger_close(l);
	if (rc == 0)
		_exit(0);
	if (rc == MCA_ERR_AUTH)
		_exit(1);
	fprintf(stderr, "racer %d: %s\n", id, mca_strerror(rc));
	_exit(101);
}

/* _i 0: a one-use passcode, exactly one wins; 1: three uses, three win. */
START_TEST(test_pc_race)
{
	struct mca_ledger		*l;
	struct mca_ledger_passcode	 p;
	pid_t				 pid[NRACE];
	long long			 uses = _i == 0 ? 1 : 3;
	int				 gate[2], ready[2], i, st;
	int				 won = 0, lost = 0;
	char				 c;

	l = ledger_open(1);
	pc_sample(&p, "RACE0000", "devices", uses, 3600);
	pc_add_ok(l, &p);
	mca_ledger_close(l);
	ck_assert_int_eq(pipe(gate), 0);
	ck_assert_int_eq(pipe(ready), 0);
	for (i = 0; i < NRACE; i++) {
		ck_assert_int_ne(pid[i] = fork(), -1);
		if (pid[i] == 0) {
			(void)close(gate[1]);
			(void)close(ready[0]);
			racer(i, ready[1], gate[0]);
		}
	}
	(void)close(gate[0]);
	(void)close(ready[1]);
	/* All of them open and at the gate (EOF: one died), then go. */
	for (i = 0; i < NRACE; i++)
		ck_assert_msg(read(ready[0], &c, 1) == 1, "racer not ready");
	(void)close(ready[0]);
	(void)close(gate[1]);
	for (i = 0; i < NRACE; i++) {
		ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) <= 1,
		    "racer %d: status %d", i, st);
		if (WEXITSTATUS(st) == 0)
			won++;
		else
			lost++;
	}
	ck_assert_int_eq(won, (int)uses);
	ck_assert_int_eq(lost, NRACE - (int)uses);
	ck_assert_int_eq(count_certs(), uses);
	ck_assert_int_eq(pc_left("RACE0000"), 0);
}
END_TEST

Suite *
ledger_suite(void);

Suite *
ledger_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("ledger");

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_newer_refused);
	tcase_add_loop_test(tc, test_history, 0,
	    sizeof(histories) / sizeof(histories[0]));
	tcase_add_test(tc, test_unknown_migration);
	tcase_add_test(tc, test_open_bad);
	tcase_add_test(tc, test_mode);
	tcase_add_test(tc, test_wal);
	tcase_add_loop_test(tc, test_sync, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("insert");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_insert_readback, 0,
	    sizeof(readback) / sizeof(readback[0]));
	tcase_add_test(tc, test_duplicate);
	tcase_add_loop_test(tc, test_constraint, 0,
	    sizeof(bad_fields) / sizeof(bad_fields[0]));
	tcase_add_test(tc, test_busy);
	tcase_add_test(tc, test_refusal);
	tcase_add_test(tc, test_errmsg);
	tcase_add_test(tc, test_refusal_cap);
	tcase_add_test(tc, test_refusal_prune);
	tcase_add_test(tc, test_refusal_busy);
	suite_add_tcase(s, tc);

	tc = tcase_create("find");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_find, 0, sizeof(finds) / sizeof(finds[0]));
	tcase_add_test(tc, test_find_replaced);
	tcase_add_test(tc, test_find_truncate);
	tcase_add_loop_test(tc, test_may_renew, 0,
	    sizeof(renews) / sizeof(renews[0]));
	tcase_add_test(tc, test_renewal);
	suite_add_tcase(s, tc);

	tc = tcase_create("views");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_issued_today);
	tcase_add_test(tc, test_issued_by_label);
	tcase_add_test(tc, test_expiring_soon);
	tcase_add_test(tc, test_sqlite3_cli);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_open_race, 0, 2);
	tcase_add_test(tc, test_concurrent);
	tcase_add_loop_test(tc, test_pc_race, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("passcodes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pc_add_get);
	tcase_add_loop_test(tc, test_pc_constraint, 0,
	    sizeof(pc_bad) / sizeof(pc_bad[0]));
	tcase_add_test(tc, test_pc_states);
	tcase_add_test(tc, test_pc_spend);
	tcase_add_test(tc, test_pc_migrate_v1);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return tu_run(ledger_suite());
}
