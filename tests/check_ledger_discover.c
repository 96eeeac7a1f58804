/*
 * The discovery inventory in the ledger (lib/ledger_discover.c,
 * sql/migrations/0013-discovery.sql): new, changed, seen and gone rows
 * over several runs, the rescan cache, gone only under the scanned
 * roots and the endpoints that answered, two runs within one second,
 * the upload's batches and what they mark, the views, bad input, and
 * 10,000 files in one run. The test reads the file through its own
 * SQLite connection too, as an auditor would.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <sqlite3.h>

#include "discover.h"
#include "err.h"
#include "ledger.h"
#include "ledger_discover.h"
#include "testutil.h"

#define ISSUER	"CN=Test CA,O=microca"
#define NOW	((time_t)1700000000)

static char	*tmpdir;
static char	 path[1024];

static void
setup(void)
{
	tmpdir = tu_mkdtemp("ledger_discover");
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
ledger_open(void)
{
	return tu_ledger_open(path, 0);
}

static long long
db_int(const char *sql)
{
	return tu_db_int(path, sql);
}

static void
db_exec(const char *sql)
{
	tu_db_exec(path, sql);
}

static unsigned char	 der_bytes[64];

/* A certificate at loc, index idx, whose content is version v. */
static void
mkcert(struct mca_disc_cert *c, const char *loc, int idx, int v)
{
	memset(c, 0, sizeof(*c));
	c->location = loc;
	c->index = idx;
	(void)snprintf(c->subject, sizeof(c->subject), "CN=host%d", v);
	(void)snprintf(c->issuer, sizeof(c->issuer), "%s", ISSUER);
	(void)snprintf(c->serial, sizeof(c->serial), "%04X", v);
	(void)snprintf(c->not_before, sizeof(c->not_before),
	    "2024-01-01T00:00:00Z");
	(void)snprintf(c->not_after, sizeof(c->not_after),
	    "2030-01-01T00:00:00Z");
	(void)snprintf(c->sans, sizeof(c->sans), "DNS:host%d", v);
	(void)snprintf(c->key_type, sizeof(c->key_type), "EC P-256");
	c->key_bits = 256;
	(void)snprintf(c->sig_alg, sizeof(c->sig_alg), "ecdsa-with-SHA256");
	(void)snprintf(c->sha1, sizeof(c->sha1), "%040X", v);
	(void)snprintf(c->sha256, sizeof(c->sha256), "%064X", v);
	der_bytes[0] = (unsigned char)v;
	c->der = der_bytes;
	c->der_len = sizeof(der_bytes);
}

static void
mkstat(struct stat *st, long long size, long long mtime)
{
	memset(st, 0, sizeof(*st));
	st->st_size = (off_t)size;
	st->st_mtim.tv_sec = (time_t)mtime;
	st->st_mtim.tv_nsec = 5;
	st->st_ino = 42;
}

static enum mca_ledger_disc_change
put(struct mca_ledger_disc *r, const char *loc, int idx, int v,
    int endpoint)
{
	struct mca_disc_cert		 c;
	struct mca_diag			 d;
	enum mca_ledger_disc_change	 ch;
	int				 rc;

	mkcert(&c, loc, idx, v);
	rc = mca_ledger_disc_cert(r, &c, endpoint, &ch, &d);
	ck_assert_msg(rc == 0, "cert: %s", d.msg);
	return ch;
}

static void
file_done(struct mca_ledger_disc *r, const char *p, const struct stat *st,
    size_t n)
{
	struct mca_diag	 d;

	ck_assert_msg(mca_ledger_disc_file_done(r, p, st, n, &d) == 0,
	    "file: %s", d.msg);
}

static struct mca_ledger_disc *
begin(struct mca_ledger *l)
{
	struct mca_ledger_disc	*r = NULL;
	struct mca_diag		 d;

	ck_assert_msg(mca_ledger_disc_begin(l, NOW, &r, &d) == 0, "begin: %s",
	    d.msg);
	return r;
}

static void
finish(struct mca_ledger_disc *r, const char *const *roots, size_t nroots,
    const char *const *eps, size_t neps, struct mca_ledger_disc_stats *s)
{
	struct mca_diag	 d;

	ck_assert_msg(mca_ledger_disc_finish(r, roots, nroots, eps, neps, s,
	    &d) == 0, "finish: %s", d.msg);
	mca_ledger_disc_end(r);
}

/* Three runs over one file, one endpoint, and a place not scanned. */
START_TEST(test_lifecycle)
{
	static const char *const roots[] = { "/r/" };
	static const char *const eps[] = { "h:443" };
	struct mca_ledger		*l = ledger_open();
	struct mca_ledger_disc		*r;
	struct mca_ledger_disc_stats	 s;
	struct mca_diag			 d;
	struct stat			 st, st2;
	size_t				 n;

	mkstat(&st, 100, 1000);
	/* run 1: all new */
	r = begin(l);
	ck_assert_int_eq(mca_ledger_disc_known(r, "/r/a.pem", &st), 0);
	ck_assert_int_eq(put(r, "/r/a.pem", 0, 1, 0), MCA_LDISC_NEW);
	ck_assert_int_eq(put(r, "/r/a.pem", 1, 2, 0), MCA_LDISC_NEW);
	file_done(r, "/r/a.pem", &st, 2);
	ck_assert_int_eq(put(r, "h:443", 0, 3, 1), MCA_LDISC_NEW);
	ck_assert_int_eq(put(r, "/elsewhere/b.pem", 0, 4, 0), MCA_LDISC_NEW);
	ck_assert_int_eq(put(r, "/rx/c.pem", 0, 5, 0), MCA_LDISC_NEW);
	finish(r, roots, 1, eps, 1, &s);
	ck_assert_uint_eq(s.new_certs, 5);
	ck_assert_uint_eq(s.files, 1);
	ck_assert_uint_eq(s.gone, 0);
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_certs WHERE "
	    "gone_since IS NULL"), 5);

	/* run 2, the same second: the file is known, the endpoint changed */
	r = begin(l);
	ck_assert_int_eq(mca_ledger_disc_known(r, "/r/a.pem", &st), 1);
	mkstat(&st2, 100, 1000);
	st2.st_mtim.tv_nsec = 6;	/* nanoseconds count */
	ck_assert_int_eq(mca_ledger_disc_known(r, "/r/a.pem", &st2), 0);
	st2 = st;
	st2.st_ino = 43;		/* a file put in its place */
	ck_assert_int_eq(mca_ledger_disc_known(r, "/r/a.pem", &st2), 0);
	ck_assert_int_eq(mca_ledger_disc_known(r, "/r/other.pem", &st), 0);
	ck_assert_int_eq(mca_ledger_disc_file_known(r, "/r/a.pem", &n, &d), 0);
	ck_assert_int_eq(put(r, "h:443", 0, 6, 1), MCA_LDISC_CHANGED);
	ck_assert_int_eq(put(r, "h:443", 1, 7, 1), MCA_LDISC_NEW);
	finish(r, roots, 1, eps, 1, &s);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(s.known, 1);
	ck_assert_uint_eq(s.certs, 4);	/* 2 known, 2 from h:443 */
	ck_assert_uint_eq(s.changed, 1);
	ck_assert_uint_eq(s.new_certs, 1);
	ck_assert_uint_eq(s.gone, 0);	/* /rx/c.pem is not under /r */
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_certs WHERE "
	    "gone_since IS NULL"), 6);
	ck_assert_int_eq(db_int("SELECT sha256 = printf('%064X', 6) FROM "
	    "discovered_certs WHERE location = 'h:443' AND idx = 0"), 1);

	/*
	 * run 3: the file now holds one certificate, the endpoint did not
	 * answer (not passed to finish), another file appeared.
	 */
	r = begin(l);
	mkstat(&st2, 50, 2000);
	ck_assert_int_eq(mca_ledger_disc_known(r, "/r/a.pem", &st2), 0);
	ck_assert_int_eq(put(r, "/r/a.pem", 0, 1, 0), MCA_LDISC_SAME);
	file_done(r, "/r/a.pem", &st2, 1);
	ck_assert_int_eq(put(r, "/r/sub/n.pem", 0, 8, 0), MCA_LDISC_NEW);
	file_done(r, "/r/sub/n.pem", &st, 1);
	finish(r, roots, 1, NULL, 0, &s);
	ck_assert_uint_eq(s.gone, 1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_certs WHERE "
	    "gone_since IS NOT NULL AND location = '/r/a.pem' AND idx = 1"),
	    1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_certs WHERE "
	    "gone_since IS NULL AND location = 'h:443'"), 2);

	/* run 4: the file vanished; its rows and its cache row go */
	r = begin(l);
	file_done(r, "/r/sub/n.pem", &st, 1);
	ck_assert_int_eq(mca_ledger_disc_file_known(r, "/r/sub/n.pem", NULL, &d), 0);
	finish(r, roots, 1, eps, 1, &s);
	ck_assert_uint_eq(s.gone, 3);	/* a.pem#0, h:443#0, h:443#1 */
	ck_assert_uint_eq(s.files_gone, 1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_files"), 1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_certs WHERE "
	    "gone_since IS NULL"), 3);	/* n.pem, /elsewhere, /rx */

	/* run 5: a gone certificate back at its place is new again */
	r = begin(l);
	ck_assert_int_eq(put(r, "h:443", 0, 6, 1), MCA_LDISC_NEW);
	finish(r, NULL, 0, eps, 1, &s);
	ck_assert_uint_eq(s.new_certs, 1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovery_runs WHERE "
	    "finished_at IS NOT NULL"), 5);
	mca_ledger_close(l);
}
END_TEST

/* The root "/" covers everything; a run not finished marks nothing. */
START_TEST(test_roots)
{
	static const char *const all[] = { "/" };
	struct mca_ledger		*l = ledger_open();
	struct mca_ledger_disc		*r;
	struct mca_ledger_disc_stats	 s;

	r = begin(l);
	(void)put(r, "/a/x.pem", 0, 1, 0);
	(void)put(r, "/b/y.pem", 0, 2, 0);
	(void)put(r, "h:1", 0, 3, 1);
	finish(r, all, 1, NULL, 0, &s);

	r = begin(l);
	(void)put(r, "/a/x.pem", 0, 1, 0);
	mca_ledger_disc_end(r);		/* stopped: nothing gone */
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_certs WHERE "
	    "gone_since IS NULL"), 3);

	r = begin(l);
	(void)put(r, "/a/x.pem", 0, 1, 0);
	finish(r, all, 1, NULL, 0, &s);
	ck_assert_uint_eq(s.gone, 1);	/* /b/y.pem; the endpoint stays */
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_certs WHERE "
	    "gone_since IS NOT NULL AND location = '/b/y.pem'"), 1);
	mca_ledger_close(l);
}
END_TEST

/* The upload's batches, the cursor, and what a success marks. */
START_TEST(test_due)
{
	struct mca_ledger		*l = ledger_open();
	struct mca_ledger_disc		*r;
	struct mca_ledger_disc_batch	 b;
	struct mca_diag			 d;
	char				 loc[64];
	long long			 after = 0;
	size_t				 total = 0, batches = 0;
	int				 i;

	r = begin(l);
	for (i = 0; i < 250; i++) {
		(void)snprintf(loc, sizeof(loc), "/f/%03d.pem", i);
		(void)put(r, loc, 0, i + 1, 0);
	}
	finish(r, NULL, 0, NULL, 0, NULL);

	/* Every row once, in id order; the first batch succeeds. */
	for (;;) {
		ck_assert_msg(mca_ledger_disc_due(l, after, 100, &b, &d) == 0,
		    "due: %s", d.msg);
		if (b.n == 0)
			break;
		ck_assert_uint_le(b.n, 100);
		ck_assert_int_gt(b.ids[0], after);
		ck_assert_uint_eq(b.certs[0].der_len, sizeof(der_bytes));
		ck_assert_str_eq(b.certs[0].issuer, ISSUER);
		ck_assert_ptr_nonnull(b.certs[0].location);
		after = b.ids[b.n - 1];
		total += b.n;
		if (batches++ == 0)
			ck_assert_int_eq(mca_ledger_disc_uploaded(l, &b, NOW,
			    &d), 0);
		mca_ledger_disc_batch_free(&b);
	}
	ck_assert_uint_eq(total, 250);
	ck_assert_uint_eq(batches, 3);
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_certs WHERE "
	    "uploaded_at IS NOT NULL"), 100);

	/* The next run: the 150 left, not the 100 uploaded. */
	ck_assert_int_eq(mca_ledger_disc_due(l, 0, 1000, &b, &d), 0);
	ck_assert_uint_eq(b.n, 150);
	mca_ledger_disc_batch_free(&b);

	/* A changed certificate is due again; one changed while in flight
	 * is not marked. */
	ck_assert_int_eq(mca_ledger_disc_due(l, 0, 1, &b, &d), 0);
	ck_assert_uint_eq(b.n, 1);
	r = begin(l);
	ck_assert_int_eq(put(r, "/f/000.pem", 0, 999, 0), MCA_LDISC_CHANGED);
	ck_assert_int_eq(put(r, b.certs[0].location, 0, 998, 0),
	    MCA_LDISC_CHANGED);
	finish(r, NULL, 0, NULL, 0, NULL);
	ck_assert_int_eq(mca_ledger_disc_uploaded(l, &b, NOW, &d), 0);
	mca_ledger_disc_batch_free(&b);
	ck_assert_int_eq(mca_ledger_disc_due(l, 0, 1000, &b, &d), 0);
	ck_assert_uint_eq(b.n, 151);	/* the changed 000 again */
	mca_ledger_disc_batch_free(&b);

	/* Gone rows are not uploaded. */
	db_exec("UPDATE discovered_certs SET gone_since = "
	    "'2024-01-01T00:00:00Z' WHERE location = '/f/000.pem'");
	ck_assert_int_eq(mca_ledger_disc_due(l, 0, 1000, &b, &d), 0);
	ck_assert_uint_eq(b.n, 150);
	mca_ledger_disc_batch_free(&b);
	mca_ledger_close(l);
}
END_TEST

/* issued_by_microca, the views, and the list. */
static int
count_row(void *arg, const struct mca_ledger_disc_row *row)
{
	size_t	*n = arg;

	ck_assert_ptr_nonnull(row->c.location);
	ck_assert_str_eq(row->first_seen, "2023-11-14T22:13:20Z");
	(*n)++;
	return 0;
}

START_TEST(test_views)
{
	struct mca_ledger		*l = ledger_open();
	struct mca_ledger_disc		*r;
	struct mca_disc_cert		 c;
	struct mca_diag			 d;
	size_t				 n = 0;

	db_exec("INSERT INTO certificates (serial, subject, issuer, "
	    "not_before, not_after, label, operation, sha1, sha256, "
	    "key_origin, pem) VALUES ('0002', 'CN=host2', '" ISSUER "', "
	    "'2024-01-01T00:00:00Z', '2030-01-01T00:00:00Z', 'devices', "
	    "'enroll', printf('%040X', 2), printf('%064X', 2), 'client', "
	    "'pem')");
	r = begin(l);
	(void)put(r, "/v/a.pem", 0, 1, 0);
	(void)put(r, "/v/b.pem", 0, 2, 0);
	mkcert(&c, "/v/old.pem", 0, 3);
	(void)snprintf(c.not_after, sizeof(c.not_after),
	    "2001-01-01T00:00:00Z");
	ck_assert_int_eq(mca_ledger_disc_cert(r, &c, 0, NULL, &d), 0);
	finish(r, NULL, 0, NULL, 0, NULL);

	ck_assert_int_eq(db_int("SELECT issued_by_microca FROM "
	    "discovered_certs WHERE location = '/v/b.pem'"), 1);
	ck_assert_int_eq(db_int("SELECT issued_by_microca FROM "
	    "discovered_certs WHERE location = '/v/a.pem'"), 0);
	ck_assert_int_eq(db_int("SELECT days_left < 0 FROM "
	    "discovered_expiring LIMIT 1"), 1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_expiring"),
	    3);
	ck_assert_int_eq(db_int("SELECT certs * 100 + expired * 10 + "
	    "by_microca FROM discovered_by_issuer WHERE issuer = '"
	    ISSUER "'"), 311);
	ck_assert_int_eq(mca_ledger_disc_list(l, count_row, &n, &d), 0);
	ck_assert_uint_eq(n, 3);
	mca_ledger_close(l);
}
END_TEST

/* What a row needs, and a run without a ledger. */
START_TEST(test_bad)
{
	struct mca_ledger		*l = ledger_open();
	struct mca_ledger_disc		*r = (struct mca_ledger_disc *)&r;
	struct mca_disc_cert		 c;
	struct mca_diag			 d;

	ck_assert_int_eq(mca_ledger_disc_begin(NULL, NOW, &r, &d),
	    MCA_ERR_INVAL);
	ck_assert_ptr_null(r);
	r = begin(l);
	mkcert(&c, "/x", 0, 1);
	c.sha256[10] = '\0';
	ck_assert_int_eq(mca_ledger_disc_cert(r, &c, 0, NULL, &d),
	    MCA_ERR_INVAL);
	ck_assert_msg(strstr(d.msg, "/x") != NULL, "%s", d.msg);
	mkcert(&c, "", 0, 1);
	ck_assert_int_eq(mca_ledger_disc_cert(r, &c, 0, NULL, &d),
	    MCA_ERR_INVAL);
	mkcert(&c, "/x", -1, 1);
	ck_assert_int_eq(mca_ledger_disc_cert(r, &c, 0, NULL, &d),
	    MCA_ERR_INVAL);
	mkcert(&c, "/x", 0, 1);
	c.der = NULL;
	ck_assert_int_eq(mca_ledger_disc_cert(r, &c, 0, NULL, &d),
	    MCA_ERR_INVAL);
	/* lowercase serial: the schema refuses it, the run goes on */
	mkcert(&c, "/x", 0, 1);
	c.serial[0] = 'a';
	ck_assert_int_eq(mca_ledger_disc_cert(r, &c, 0, NULL, &d),
	    MCA_ERR_DB);
	ck_assert_int_eq(put(r, "/y", 0, 2, 0), MCA_LDISC_NEW);
	finish(r, NULL, 0, NULL, 0, NULL);
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_certs"), 1);
	ck_assert_int_eq(mca_ledger_disc_known(NULL, "/x", NULL), 0);
	mca_ledger_disc_end(NULL);
	mca_ledger_close(l);
}
END_TEST

/* 10,000 files in one run, then all of them known in the next. */
#define MANY	10000
START_TEST(test_many)
{
	struct mca_ledger		*l = ledger_open();
	struct mca_ledger_disc		*r;
	struct mca_ledger_disc_stats	 s;
	struct mca_diag			 d;
	struct stat			 st;
	static const char *const roots[] = { "/m" };
	char				 p[64];
	int				 i;

	mkstat(&st, 10, 10);
	r = begin(l);
	for (i = 0; i < MANY; i++) {
		(void)snprintf(p, sizeof(p), "/m/%05d.pem", i);
		(void)put(r, p, 0, i + 1, 0);
		file_done(r, p, &st, 1);
	}
	finish(r, roots, 1, NULL, 0, &s);
	ck_assert_uint_eq(s.new_certs, MANY);
	r = begin(l);
	for (i = 0; i < MANY; i++) {
		(void)snprintf(p, sizeof(p), "/m/%05d.pem", i);
		ck_assert_int_eq(mca_ledger_disc_known(r, p, &st), 1);
		ck_assert_int_eq(mca_ledger_disc_file_known(r, p, NULL, &d), 0);
	}
	finish(r, roots, 1, NULL, 0, &s);
	ck_assert_uint_eq(s.known, MANY);
	ck_assert_uint_eq(s.gone, 0);
	ck_assert_int_eq(db_int("SELECT count(*) FROM discovered_certs WHERE "
	    "seen_run = 2"), MANY);
	mca_ledger_close(l);
}
END_TEST

static Suite *
ledger_discover_suite(void)
{
	Suite	*s = suite_create("ledger_discover");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lifecycle);
	tcase_add_test(tc, test_roots);
	tcase_add_test(tc, test_due);
	tcase_add_test(tc, test_views);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(ledger_discover_suite());
}
