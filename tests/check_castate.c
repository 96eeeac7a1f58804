/*
 * The CA's own state in the ledger (lib/castate.c): generations of the
 * intermediate, attempts in flight, the superseded keys, bad input, and
 * several processes installing at once. The test reads the file
 * through its own SQLite connection too, as an auditor would.
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

#include "castate.h"
#include "err.h"
#include "ledger.h"
#include "testutil.h"

#define CHAIN	"-----BEGIN CERTIFICATE-----\nMIIB\n" \
		"-----END CERTIFICATE-----\n"
#define CSR	"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n" \
		"-----END CERTIFICATE REQUEST-----\n"
#define SHA256	"0123456789abcdef0123456789abcdef" \
		"fedcba9876543210fedcba9876543210"
#define DAY	86400

static char	*tmpdir;
static char	 path[1024];

static void
setup(void)
{
	tmpdir = tu_mkdtemp("castate");
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
	return tu_ledger_open(path, 1);
}

/* One integer the auditor's query sql returns. */
static long long
db_int(const char *sql)
{
	return tu_db_int(path, sql);
}

/* Installs a generation with key label (or path when label is NULL). */
static long long
install(struct mca_ledger *l, const char *label, const char *kpath,
    const char *serial, time_t not_after)
{
	long long	 id = -1;
	int		 rc;

	rc = mca_castate_install(l, label, kpath, CHAIN, serial, SHA256,
	    not_after - 30 * DAY, not_after, &id);
	ck_assert_msg(rc == 0, "install %s: %s", serial,
	    mca_ledger_errmsg(l, rc));
	ck_assert_int_gt(id, 0);
	return id;
}

static long long
active_id(struct mca_ledger *l)
{
	long long	 id = -1;
	int		 rc;

	rc = mca_castate_active_id(l, &id);
	ck_assert_msg(rc == 0, "active_id: %s", mca_ledger_errmsg(l, rc));
	return id;
}

static int
cmp_label(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The unused superseded labels, sorted, joined by spaces, into buf. */
static void
unused(struct mca_ledger *l, time_t now, char *buf, size_t bufsz)
{
	char	 labels[8][MCA_CASTATE_LABEL_MAX + 1];
	size_t	 i, n = 99, off = 0;
	int	 rc, w;

	rc = mca_castate_keys_unused(l, now, labels, 8, &n);
	ck_assert_msg(rc == 0, "keys_unused: %s", mca_ledger_errmsg(l, rc));
	ck_assert_uint_le(n, 8);
	qsort(labels, n, sizeof(labels[0]), cmp_label);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		w = snprintf(buf + off, bufsz - off, "%s%s", i > 0 ? " " : "",
		    labels[i]);
		ck_assert(w >= 0 && (size_t)w < bufsz - off);
		off += (size_t)w;
	}
}

START_TEST(test_install)
{
	struct mca_ledger	*l = ledger_open();
	struct mca_ca_gen	 g;
	time_t			 now = time(NULL);
	long long		 a, b, c;

	/* Nothing installed: config.json's intermediate is in use. */
	ck_assert_int_eq(active_id(l), 0);
	ck_assert_int_eq(mca_castate_active(l, &g), MCA_ERR_NOTFOUND);
	ck_assert_ptr_null(g.chain_pem);

	a = install(l, "ca-1", NULL, "0A01", now + 300 * DAY);
	ck_assert_int_eq(active_id(l), a);
	ck_assert_int_eq(mca_castate_active(l, &g), 0);
	ck_assert_int_eq(g.id, a);
	ck_assert_int_eq(g.active, 1);
	ck_assert_str_eq(g.key_label, "ca-1");
	ck_assert_ptr_null(g.key_path);
	ck_assert_str_eq(g.chain_pem, CHAIN);
	ck_assert_str_eq(g.serial, "0A01");
	ck_assert_str_eq(g.sha256, SHA256);
	ck_assert_int_eq(g.not_after, now + 300 * DAY);
	ck_assert_int_eq(g.not_before, now + 270 * DAY);
	ck_assert_int_ge(g.installed_at, now);
	ck_assert_int_le(g.installed_at, time(NULL));
	mca_ca_gen_free(&g);
	ck_assert_ptr_null(g.chain_pem);
	mca_ca_gen_free(&g);		/* twice: harmless */
	mca_ca_gen_free(NULL);

	/* A second one: the first is retired, its key superseded. */
	b = install(l, NULL, "/etc/microca/ca-2.key", "0A02",
	    now + 400 * DAY);
	ck_assert_int_gt(b, a);
	ck_assert_int_eq(active_id(l), b);
	ck_assert_int_eq(mca_castate_active(l, &g), 0);
	ck_assert_ptr_null(g.key_label);
	ck_assert_str_eq(g.key_path, "/etc/microca/ca-2.key");
	mca_ca_gen_free(&g);
	ck_assert_int_eq(db_int("SELECT count(*) FROM ca_generations "
	    "WHERE state = 'active'"), 1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded "
	    "WHERE key_label = 'ca-1'"), 1);

	/* A third with the first one's label: taken into use again. */
	c = install(l, "ca-1", NULL, "0A03", now + 500 * DAY);
	ck_assert_int_gt(c, b);
	ck_assert_int_eq(active_id(l), c);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded"), 0);
	ck_assert_int_eq(db_int("SELECT count(*) FROM ca_generations "
	    "WHERE state = 'retired'"), 2);

	/* Another connection (another worker) sees the same. */
	mca_ledger_close(l);
	l = ledger_open();
	ck_assert_int_eq(active_id(l), c);
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_retired)
{
	struct mca_ledger	*l = ledger_open();
	struct mca_ca_gen	 g[4];
	time_t			 now = time(NULL);
	long long		 id[5];
	size_t			 n = 99, i;

	ck_assert_int_eq(mca_castate_retired(l, now, g, 4, &n), 0);
	ck_assert_uint_eq(n, 0);

	id[0] = install(l, "ca-0", NULL, "01", now + 10 * DAY);
	id[1] = install(l, "ca-1", NULL, "02", now - 1);	/* expired */
	id[2] = install(l, "ca-2", NULL, "03", now + 20 * DAY);
	id[3] = install(l, "ca-3", NULL, "04", now + 30 * DAY);
	id[4] = install(l, "ca-4", NULL, "05", now + 40 * DAY);	/* active */

	ck_assert_int_eq(mca_castate_retired(l, now, g, 4, &n), 0);
	ck_assert_uint_eq(n, 3);
	/* Newest first; the expired one and the active one are not there. */
	ck_assert_int_eq(g[0].id, id[3]);
	ck_assert_int_eq(g[1].id, id[2]);
	ck_assert_int_eq(g[2].id, id[0]);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(g[i].active, 0);
		ck_assert_str_eq(g[i].chain_pem, CHAIN);
		ck_assert_int_gt(g[i].not_after, now);
		mca_ca_gen_free(&g[i]);
	}
	ck_assert_ptr_null(g[3].chain_pem);

	/* At most max. */
	ck_assert_int_eq(mca_castate_retired(l, now, g, 2, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(g[0].id, id[3]);
	ck_assert_int_eq(g[1].id, id[2]);
	mca_ca_gen_free(&g[0]);
	mca_ca_gen_free(&g[1]);

	/* Later, fewer are still valid. */
	ck_assert_int_eq(mca_castate_retired(l, now + 25 * DAY, g, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(g[0].id, id[3]);
	mca_ca_gen_free(&g[0]);
	ck_assert_int_eq(mca_castate_retired(l, now, g, 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	mca_ledger_close(l);
}
END_TEST

/*
 * A leaf job's install: the attempt ends and the keys it replaced are
 * superseded, never the attempt's own; the intermediate is refused.
 */
START_TEST(test_pending_done)
{
	struct mca_ledger		*l = ledger_open();
	struct mca_renew_pending	 p;
	const char			*old[] = { "srv", "srv-20250101000000",
					    "srv-20250102000000" };
	const char			*bad[] = { "" };
	time_t				 now = time(NULL);

	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_MTLS_SERVER,
	    "srv-20250102000000", NULL, CSR, now), 0);
	ck_assert_int_eq(mca_castate_pending_done(l, MCA_JOB_MTLS_SERVER, old,
	    3, now), 0);
	ck_assert_int_eq(mca_castate_pending_get(l, MCA_JOB_MTLS_SERVER, &p),
	    MCA_ERR_NOTFOUND);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded"), 2);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded WHERE "
	    "key_label = 'srv-20250102000000'"), 0);
	/* again, with no attempt: the labels only; twice is no failure */
	ck_assert_int_eq(mca_castate_pending_done(l, MCA_JOB_MTLS_SERVER, old,
	    3, now), 0);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded"), 3);
	ck_assert_int_eq(mca_castate_pending_done(l, MCA_JOB_DEVICE, NULL, 0,
	    now), 0);
	/* bad input */
	ck_assert_int_eq(mca_castate_pending_done(l, MCA_JOB_INTERMEDIATE,
	    NULL, 0, now), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_pending_done(l, "nonesuch", NULL, 0,
	    now), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_pending_done(l, MCA_JOB_DEVICE, bad, 1,
	    now), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_pending_done(l, MCA_JOB_DEVICE, NULL, 1,
	    now), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_pending_done(NULL, MCA_JOB_DEVICE, NULL,
	    0, now), MCA_ERR_INVAL);
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_pending)
{
	struct mca_ledger		*l = ledger_open();
	struct mca_renew_pending	 p;
	time_t				 now = time(NULL);
	char				 buf[512];

	ck_assert_int_eq(mca_castate_pending_get(l, MCA_JOB_INTERMEDIATE,
	    &p), MCA_ERR_NOTFOUND);
	ck_assert_ptr_null(p.job);
	ck_assert_int_eq(mca_castate_pending_wait(l, MCA_JOB_INTERMEDIATE,
	    now), MCA_ERR_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(mca_ledger_errmsg(l, MCA_ERR_NOTFOUND),
	    "no attempt of intermediate"));

	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_INTERMEDIATE,
	    "k-1", NULL, CSR, now), 0);
	ck_assert_int_eq(mca_castate_pending_get(l, MCA_JOB_INTERMEDIATE,
	    &p), 0);
	ck_assert_str_eq(p.job, MCA_JOB_INTERMEDIATE);
	ck_assert_str_eq(p.key_label, "k-1");
	ck_assert_ptr_null(p.key_path);
	ck_assert_str_eq(p.csr_pem, CSR);
	ck_assert_int_eq(p.created_at, now);
	ck_assert_int_eq(p.retry_at, 0);
	ck_assert_int_eq(p.attempts, 0);
	mca_renew_pending_free(&p);
	ck_assert_ptr_null(p.csr_pem);
	mca_renew_pending_free(NULL);

	/* Two EST 202s. */
	ck_assert_int_eq(mca_castate_pending_wait(l, MCA_JOB_INTERMEDIATE,
	    now + 60), 0);
	ck_assert_int_eq(mca_castate_pending_wait(l, MCA_JOB_INTERMEDIATE,
	    now + 120), 0);
	ck_assert_int_eq(mca_castate_pending_get(l, MCA_JOB_INTERMEDIATE,
	    &p), 0);
	ck_assert_int_eq(p.attempts, 2);
	ck_assert_int_eq(p.retry_at, now + 120);
	mca_renew_pending_free(&p);

	/* Other jobs are apart. */
	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_DEVICE, NULL,
	    "/etc/microca/device.key", CSR, now), 0);
	ck_assert_int_eq(mca_castate_pending_get(l, MCA_JOB_DEVICE, &p), 0);
	ck_assert_ptr_null(p.key_label);
	ck_assert_str_eq(p.key_path, "/etc/microca/device.key");
	mca_renew_pending_free(&p);

	/* The same key again: nothing is superseded. */
	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_INTERMEDIATE,
	    "k-1", NULL, CSR, now + 1), 0);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded"), 0);
	/* A new key: the attempt starts over, the old key is superseded. */
	ck_assert_int_eq(mca_castate_pending_wait(l, MCA_JOB_INTERMEDIATE,
	    now + 60), 0);
	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_INTERMEDIATE,
	    "k-2", NULL, CSR "x", now + 2), 0);
	ck_assert_int_eq(mca_castate_pending_get(l, MCA_JOB_INTERMEDIATE,
	    &p), 0);
	ck_assert_str_eq(p.key_label, "k-2");
	ck_assert_str_eq(p.csr_pem, CSR "x");
	ck_assert_int_eq(p.created_at, now + 2);
	ck_assert_int_eq(p.attempts, 0);
	ck_assert_int_eq(p.retry_at, 0);
	mca_renew_pending_free(&p);
	ck_assert_int_eq(db_int("SELECT since FROM key_superseded "
	    "WHERE key_label = 'k-1'"), now + 2);
	unused(l, now, buf, sizeof(buf));
	ck_assert_str_eq(buf, "k-1");
	/* A key file in place of a key: k-2 is superseded too. */
	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_INTERMEDIATE,
	    NULL, "/k.pem", CSR, now + 3), 0);
	unused(l, now, buf, sizeof(buf));
	ck_assert_str_eq(buf, "k-1 k-2");

	/* Clear: gone, and clearing again is no failure. */
	ck_assert_int_eq(mca_castate_pending_clear(l, MCA_JOB_DEVICE), 0);
	ck_assert_int_eq(mca_castate_pending_get(l, MCA_JOB_DEVICE, &p),
	    MCA_ERR_NOTFOUND);
	ck_assert_int_eq(mca_castate_pending_clear(l, MCA_JOB_DEVICE), 0);
	ck_assert_int_eq(mca_castate_pending_get(l, MCA_JOB_INTERMEDIATE,
	    &p), 0);
	mca_renew_pending_free(&p);

	/* Installing the intermediate ends its attempt. */
	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_INTERMEDIATE,
	    "k-3", NULL, CSR, now + 4), 0);
	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_MTLS_CLIENT,
	    "k-9", NULL, CSR, now + 4), 0);
	(void)install(l, "k-3", NULL, "0B", now + 100 * DAY);
	ck_assert_int_eq(mca_castate_pending_get(l, MCA_JOB_INTERMEDIATE,
	    &p), MCA_ERR_NOTFOUND);
	ck_assert_int_eq(mca_castate_pending_get(l, MCA_JOB_MTLS_CLIENT, &p),
	    0);
	mca_renew_pending_free(&p);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded "
	    "WHERE key_label = 'k-3'"), 0);
	mca_ledger_close(l);
}
END_TEST

/*
 * An abandoned attempt of the intermediate whose key is not the one
 * installed: its key is superseded by the install.
 */
START_TEST(test_install_abandoned)
{
	struct mca_ledger	*l = ledger_open();
	time_t			 now = time(NULL);
	char			 buf[512];

	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_INTERMEDIATE,
	    "lost", NULL, CSR, now), 0);
	(void)install(l, "kept", NULL, "01", now + DAY);
	unused(l, now, buf, sizeof(buf));
	ck_assert_str_eq(buf, "lost");
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_keys_unused)
{
	struct mca_ledger	*l = ledger_open();
	char			 labels[2][MCA_CASTATE_LABEL_MAX + 1];
	time_t			 now = time(NULL);
	char			 buf[512];
	size_t			 n = 99;

	unused(l, now, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");

	/* g-old expires soon, g-mid later; g-new is active. */
	(void)install(l, "g-old", NULL, "01", now + 10);
	(void)install(l, "g-mid", NULL, "02", now + 20 * DAY);
	/* An attempt that holds g-mid's label (a reused key). */
	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_DEVICE, "g-mid",
	    NULL, CSR, now), 0);
	(void)install(l, "g-new", NULL, "03", now + 40 * DAY);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded"), 2);
	/* Both still verify renewals: nothing to remove yet. */
	unused(l, now, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	/* After g-old's notAfter, its key may go. */
	unused(l, now + 11, buf, sizeof(buf));
	ck_assert_str_eq(buf, "g-old");
	/* The attempt keeps g-mid's key past its notAfter. */
	unused(l, now + 30 * DAY, buf, sizeof(buf));
	ck_assert_str_eq(buf, "g-old");
	ck_assert_int_eq(mca_castate_pending_clear(l, MCA_JOB_DEVICE), 0);
	unused(l, now + 30 * DAY, buf, sizeof(buf));
	ck_assert_str_eq(buf, "g-mid g-old");
	/* The active generation's key never goes, however late. */
	unused(l, now + 1000 * DAY, buf, sizeof(buf));
	ck_assert_str_eq(buf, "g-mid g-old");
	/* A new attempt with a superseded label takes it into use again. */
	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_DEVICE, "g-mid",
	    NULL, CSR, now), 0);
	ck_assert_int_eq(mca_castate_pending_clear(l, MCA_JOB_DEVICE), 0);
	unused(l, now + 30 * DAY, buf, sizeof(buf));
	ck_assert_str_eq(buf, "g-old");
	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_DEVICE, "g-x",
	    NULL, CSR, now), 0);
	/* (later than g-old's: the list is oldest first) */
	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_DEVICE, "g-mid",
	    NULL, CSR, now + 100 * DAY), 0);
	unused(l, now + 30 * DAY, buf, sizeof(buf));
	ck_assert_str_eq(buf, "g-old g-x");
	ck_assert_int_eq(mca_castate_pending_clear(l, MCA_JOB_DEVICE), 0);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded "
	    "WHERE key_label = 'g-new'"), 0);

	/* At most max. */
	ck_assert_int_eq(mca_castate_keys_unused(l, now + 30 * DAY, labels, 1,
	    &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(labels[0], "g-old");

	/* Removed from the token: forgotten. Twice is no failure. */
	ck_assert_int_eq(mca_castate_key_removed(l, "g-old"), 0);
	ck_assert_int_eq(mca_castate_key_removed(l, "g-old"), 0);
	unused(l, now + 30 * DAY, buf, sizeof(buf));
	ck_assert_str_eq(buf, "g-x");
	mca_ledger_close(l);
}
END_TEST

/* ---- bad input: each refused with MCA_ERR_INVAL, nothing written */

static char	 longlabel[MCA_CASTATE_LABEL_MAX + 2];
static char	 longpath[4098];
static char	*longchain;
static char	*longcsr;

/*
 * A key about to be made is spare until its attempt is recorded: a run
 * killed in between leaves it to the sweep (microca-renew, kill -9).
 */
START_TEST(test_key_intended)
{
	struct mca_ledger	*l = ledger_open();
	time_t			 now = time(NULL);
	char			 buf[512], big[MCA_CASTATE_LABEL_MAX + 2];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(mca_castate_key_intended(l, "k-1", now), 0);
	unused(l, now, buf, sizeof(buf));
	ck_assert_str_eq(buf, "k-1");
	/* recorded by its attempt: in use, no longer spare */
	ck_assert_int_eq(mca_castate_pending_put(l, MCA_JOB_INTERMEDIATE,
	    "k-1", NULL, CSR, now), 0);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded"), 0);
	/* the next attempt's key, killed before its record: k-2 spare */
	ck_assert_int_eq(mca_castate_key_intended(l, "k-2", now), 0);
	unused(l, now, buf, sizeof(buf));
	ck_assert_str_eq(buf, "k-2");
	/* twice is no failure */
	ck_assert_int_eq(mca_castate_key_intended(l, "k-2", now + 1), 0);
	ck_assert_int_eq(mca_castate_key_intended(l, "", now), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_key_intended(l, big, now),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_key_intended(l, NULL, now),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_key_intended(NULL, "k-3", now),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded"), 1);
	mca_ledger_close(l);
}
END_TEST

static void
bad_setup(void)
{
	setup();
	memset(longlabel, 'a', sizeof(longlabel) - 1);
	memset(longpath, 'p', sizeof(longpath) - 1);
	ck_assert_ptr_nonnull(longchain = malloc(MCA_CASTATE_CHAIN_MAX + 2));
	memset(longchain, 'c', MCA_CASTATE_CHAIN_MAX + 1);
	longchain[MCA_CASTATE_CHAIN_MAX + 1] = '\0';
	ck_assert_ptr_nonnull(longcsr = malloc(65536 + 2));
	memset(longcsr, 'r', 65536 + 1);
	longcsr[65536 + 1] = '\0';
}

static void
bad_teardown(void)
{
	free(longchain);
	free(longcsr);
	longchain = longcsr = NULL;
	teardown();
}

static const struct {
	const char	*label, *kpath, *chain, *serial, *sha256;
	long		 life;		/* not_after - not_before */
	const char	*msg;
} bad_installs[] = {
	{ "k", "/k.pem", CHAIN, "01", SHA256, DAY, "exactly one of key" },
	{ NULL, NULL, CHAIN, "01", SHA256, DAY, "exactly one of key" },
	{ "", NULL, CHAIN, "01", SHA256, DAY, "key label must be 1 to 128" },
	{ longlabel, NULL, CHAIN, "01", SHA256, DAY, "key label must be" },
	{ NULL, "", CHAIN, "01", SHA256, DAY, "key path must be 1 to 4096" },
	{ NULL, longpath, CHAIN, "01", SHA256, DAY, "key path must be" },
	{ "k", NULL, NULL, "01", SHA256, DAY, "chain must be" },
	{ "k", NULL, "", "01", SHA256, DAY, "chain must be" },
	{ "k", NULL, NULL /* longchain */, "01", SHA256, DAY,
	    "chain must be 1 to 262144" },
	{ "k", NULL, CHAIN, NULL, SHA256, DAY, "serial must be" },
	{ "k", NULL, CHAIN, "", SHA256, DAY, "serial must be" },
	{ "k", NULL, CHAIN, "0123456789012345678901234567890123456789"
	    "01234567890123456789012345", SHA256, DAY, "serial must be" },
	{ "k", NULL, CHAIN, "01", "abc", DAY, "sha256 must be 64 hex" },
	{ "k", NULL, CHAIN, "01", NULL, DAY, "sha256 must be" },
	{ "k", NULL, CHAIN, "01", "0123456789abcdef0123456789abcdef"
	    "fedcba9876543210fedcba987654321g", DAY, "sha256 must be" },
	{ "k", NULL, CHAIN, "01", SHA256, 0, "notAfter is not after" },
	{ "k", NULL, CHAIN, "01", SHA256, -DAY, "notAfter is not after" },
};

START_TEST(test_bad_install)
{
	struct mca_ledger	*l = ledger_open();
	const char		*chain = bad_installs[_i].chain;
	time_t			 now = time(NULL);
	long long		 id = 7;
	int			 rc;

	if (_i == 8)
		chain = longchain;
	rc = mca_castate_install(l, bad_installs[_i].label,
	    bad_installs[_i].kpath, chain, bad_installs[_i].serial,
	    bad_installs[_i].sha256, now, now + bad_installs[_i].life, &id);
	ck_assert_msg(rc == MCA_ERR_INVAL, "case %d: %s", _i,
	    mca_strerror(rc));
	ck_assert_int_eq(id, 0);
	ck_assert_msg(strstr(mca_ledger_errmsg(l, rc),
	    bad_installs[_i].msg) != NULL, "case %d: %s", _i,
	    mca_ledger_errmsg(l, rc));
	ck_assert_int_eq(db_int("SELECT count(*) FROM ca_generations"), 0);
	mca_ledger_close(l);
}
END_TEST

static const struct {
	const char	*job, *label, *kpath, *csr, *msg;
} bad_puts[] = {
	{ "ca", "k", NULL, CSR, "unknown job ca" },
	{ NULL, "k", NULL, CSR, "unknown job" },
	{ "", "k", NULL, CSR, "unknown job" },
	{ MCA_JOB_DEVICE, "k", "/k.pem", CSR, "exactly one of key" },
	{ MCA_JOB_DEVICE, NULL, NULL, CSR, "exactly one of key" },
	{ MCA_JOB_DEVICE, longlabel, NULL, CSR, "key label must be" },
	{ MCA_JOB_DEVICE, NULL, longpath, CSR, "key path must be" },
	{ MCA_JOB_DEVICE, "k", NULL, NULL, "CSR must be 1 to 65536" },
	{ MCA_JOB_DEVICE, "k", NULL, "", "CSR must be" },
	{ MCA_JOB_DEVICE, "k", NULL, NULL /* longcsr */, "CSR must be" },
};

START_TEST(test_bad_put)
{
	struct mca_ledger	*l = ledger_open();
	const char		*csr = bad_puts[_i].csr;
	int			 rc;

	if (_i == 9)
		csr = longcsr;
	rc = mca_castate_pending_put(l, bad_puts[_i].job, bad_puts[_i].label,
	    bad_puts[_i].kpath, csr, time(NULL));
	ck_assert_msg(rc == MCA_ERR_INVAL, "case %d: %s", _i,
	    mca_strerror(rc));
	ck_assert_msg(strstr(mca_ledger_errmsg(l, rc), bad_puts[_i].msg) !=
	    NULL, "case %d: %s", _i, mca_ledger_errmsg(l, rc));
	ck_assert_int_eq(db_int("SELECT count(*) FROM renew_pending"), 0);
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_bad_other)
{
	struct mca_ledger		*l = ledger_open();
	struct mca_renew_pending	 p;
	struct mca_ca_gen		 g[1];
	char				 labels[1][MCA_CASTATE_LABEL_MAX + 1];
	long long			 id = 5;
	size_t				 n = 5;

	ck_assert_int_eq(mca_castate_pending_get(l, "ca", &p), MCA_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(mca_ledger_errmsg(l, MCA_ERR_INVAL),
	    "unknown job ca"));
	ck_assert_int_eq(mca_castate_pending_get(l, NULL, &p), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_pending_wait(l, "x", 0), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_pending_clear(l, "x"), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_key_removed(l, ""), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_key_removed(l, longlabel),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_key_removed(l, NULL), MCA_ERR_INVAL);

	/* NULL arguments, with the out-parameters cleared. */
	ck_assert_int_eq(mca_castate_active_id(NULL, &id), MCA_ERR_INVAL);
	ck_assert_int_eq(id, 0);
	ck_assert_int_eq(mca_castate_active_id(l, NULL), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_active(NULL, g), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_active(l, NULL), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_retired(NULL, 0, g, 1, &n),
	    MCA_ERR_INVAL);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(mca_castate_retired(l, 0, NULL, 1, &n),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_retired(l, 0, g, 1, NULL),
	    MCA_ERR_INVAL);
	id = 5;
	ck_assert_int_eq(mca_castate_install(NULL, "k", NULL, CHAIN, "01",
	    SHA256, 0, 1, &id), MCA_ERR_INVAL);
	ck_assert_int_eq(id, 0);
	ck_assert_int_eq(mca_castate_install(l, "k", NULL, CHAIN, "01",
	    SHA256, 0, 1, NULL), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_pending_get(NULL, MCA_JOB_DEVICE, &p),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_pending_put(NULL, MCA_JOB_DEVICE, "k",
	    NULL, CSR, 0), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_pending_wait(NULL, MCA_JOB_DEVICE, 0),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_pending_clear(NULL, MCA_JOB_DEVICE),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_keys_unused(NULL, 0, labels, 1, &n),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_keys_unused(l, 0, NULL, 1, &n),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_castate_key_removed(NULL, "k"), MCA_ERR_INVAL);
	mca_ledger_close(l);
}
END_TEST

/*
 * Another process holds the write lock past the busy timeout: install
 * fails with MCA_ERR_BUSY and a line that says so, writes nothing, and
 * works once the lock is free.
 */
START_TEST(test_busy)
{
	struct mca_ledger	*l = ledger_open();
	sqlite3			*db = NULL;
	time_t			 now = time(NULL);
	long long		 id = 3;
	int			 rc;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	rc = mca_castate_install(l, "k", NULL, CHAIN, "01", SHA256, now,
	    now + DAY, &id);
	ck_assert_int_eq(rc, MCA_ERR_BUSY);
	ck_assert_int_eq(id, 0);
	ck_assert_ptr_nonnull(strstr(mca_ledger_errmsg(l, rc),
	    "SQLITE_BUSY"));
	ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(active_id(l), 0);
	(void)install(l, "k", NULL, "01", now + DAY);
	ck_assert_int_eq(db_int("SELECT count(*) FROM ca_generations"), 1);
	mca_ledger_close(l);
}
END_TEST

/* ---- several processes installing at once */

#define NCHILD	4
#define NINST	15

static void
child(int n, int gate)
{
	struct mca_ledger	*l = NULL;
	struct mca_diag		 d;
	char			 label[32], serial[16];
	long long		 id, last = 0, seen;
	time_t			 now = time(NULL);
	int			 i, rc;
	char			 c;

	/* All start together. */
	if (read(gate, &c, 1) != 0)
		_exit(10);
	if (mca_ledger_open(path, 1, &l, &d) != 0) {
		fprintf(stderr, "child %d: open: %s\n", n, d.msg);
		_exit(11);
	}
	for (i = 0; i < NINST; i++) {
		(void)snprintf(label, sizeof(label), "c%d-%d", n, i);
		(void)snprintf(serial, sizeof(serial), "%02X%02X", n, i);
		rc = mca_castate_install(l, label, NULL, CHAIN, serial,
		    SHA256, now, now + DAY, &id);
		if (rc != 0) {
			fprintf(stderr, "child %d: install: %s\n", n,
			    mca_ledger_errmsg(l, rc));
			_exit(12);
		}
		/* Ids grow, also for one process among several. */
		if (id <= last)
			_exit(13);
		last = id;
		/* The active one is this or a later install. */
		if (mca_castate_active_id(l, &seen) != 0 || seen < id)
			_exit(14);
	}
	mca_ledger_close(l);
	_exit(0);
}

START_TEST(test_concurrent)
{
	struct mca_ledger	*l;
	pid_t			 pid[NCHILD];
	int			 gate[2], i, st;

	/* The schema first, so that the children race on installs. */
	mca_ledger_close(ledger_open());
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
	ck_assert_int_eq(db_int("SELECT count(*) FROM ca_generations"),
	    NCHILD * NINST);
	ck_assert_int_eq(db_int("SELECT count(DISTINCT id) FROM "
	    "ca_generations"), NCHILD * NINST);
	/* Exactly one active, the last installed. */
	ck_assert_int_eq(db_int("SELECT count(*) FROM ca_generations "
	    "WHERE state = 'active'"), 1);
	ck_assert_int_eq(db_int("SELECT id FROM ca_generations "
	    "WHERE state = 'active'"),
	    db_int("SELECT max(id) FROM ca_generations"));
	/* Installed in id order, each retiring the one before. */
	ck_assert_int_eq(db_int("SELECT count(*) FROM ca_generations AS a "
	    "JOIN ca_generations AS b ON b.id > a.id "
	    "WHERE b.installed_at < a.installed_at"), 0);
	/* Every key but the active one's was superseded, once. */
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded"),
	    NCHILD * NINST - 1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM key_superseded AS s "
	    "JOIN ca_generations AS g ON g.key_label = s.key_label "
	    "WHERE g.state = 'active'"), 0);
	l = ledger_open();
	ck_assert_int_eq(active_id(l), db_int("SELECT max(id) FROM "
	    "ca_generations"));
	mca_ledger_close(l);
}
END_TEST

Suite *
castate_suite(void);

Suite *
castate_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("castate");

	tc = tcase_create("generations");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_install);
	tcase_add_test(tc, test_retired);
	tcase_add_test(tc, test_install_abandoned);
	suite_add_tcase(s, tc);

	tc = tcase_create("pending");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pending);
	tcase_add_test(tc, test_pending_done);
	tcase_add_test(tc, test_keys_unused);
	tcase_add_test(tc, test_key_intended);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_checked_fixture(tc, bad_setup, bad_teardown);
	tcase_add_loop_test(tc, test_bad_install, 0,
	    sizeof(bad_installs) / sizeof(bad_installs[0]));
	tcase_add_loop_test(tc, test_bad_put, 0,
	    sizeof(bad_puts) / sizeof(bad_puts[0]));
	tcase_add_test(tc, test_bad_other);
	tcase_add_test(tc, test_busy);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrent");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_concurrent);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return tu_run(castate_suite());
}
