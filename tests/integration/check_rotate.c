/*
 * The Micro CA keeps serving while its intermediate is replaced (issue
 * 13, "Installation and the running CA"), on the harness of check_renew
 * (renewweb.c: an upstream microca and the Micro CA under test, each
 * behind lighttpd, the Micro CA's keys in SoftHSMv2).
 *
 * kill: microca-renew --force intermediate is killed with SIGKILL at its
 * 1st, 2nd, 3rd, ... durable call (tests/crashpoint.so: rename, unlink,
 * fsync, fdatasync and file writes under the test's directory: the lock,
 * the ledger, intermediate_cert_path) until a run goes through. The
 * token's own files are left out: SoftHSMv2 rewrites token.object in
 * place, and a kill there loses the token, which no caller can help
 * (see tests/crashpoint.c); the key made just before a kill in the
 * ledger's next write is the case that matters to microca.
 * After each kill: the running CA still issues, and what it issues
 * verifies against the chain its /cacerts serves; intermediate_cert_path
 * is a whole chain, the old generation's or the new one's; the ledger
 * passes PRAGMA integrity_check and has at most one active generation.
 * Then a run without the shim completes: a new active generation whose
 * key is in the token and whose chain is the file. At the end the token
 * holds no key that nothing refers to.
 *
 * load: microca-load enrolls without a pause, in batches, while
 * microca-renew --force intermediate rotates the intermediate twice.
 * No enrollment fails, and every certificate the Micro CA issued
 * verifies against the chain /cacerts served for its issuer. Nothing is
 * timed: the test waits for counts (batches done, /cacerts changed),
 * with bounds that only catch a hang.
 *
 * killload: microca-load enrolls with 8 clients while the FastCGI
 * workers are killed with SIGKILL MCA_WORKER_KILLS times (default 3;
 * make stress: 10), then lighttpd itself once and started again on its
 * port. Each kill waits for KILL_EVERY more certificates received, not
 * for time. Every certificate a client received (microca-load --issued)
 * is in the ledger, none twice; the ledger passes PRAGMA
 * integrity_check and holds no serial twice.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "err.h"
#include "estc.h"
#include "ledger.h"
#include "ledger_chain.h"
#include "p11.h"
#include "pem.h"
#include "renewweb.h"
#include "testutil.h"

Suite	*rotate_suite(void);

#define KILL_MAX	200	/* crash points tried at most */
#define SERVED_MAX	64	/* distinct /cacerts answers kept */
#define LOAD_CLIENTS	2
#define LOAD_BATCH	8	/* enrollments per client per batch */
#define LOAD_POLLS	6000	/* POLL_STEP each: a bound for hangs only */
#define KILL_CLIENTS	8	/* microca-load --clients under the kills */
#define KILL_EVERY	16	/* certificates received between kills */
#define KILLS_DEF	3	/* worker kills; MCA_WORKER_KILLS */

/* Distinct /cacerts answers seen so far. */
static STACK_OF(X509)	*served[SERVED_MAX];
static int		 nserved;

static void
served_free(void)
{
	int	 i;

	for (i = 0; i < nserved; i++)
		sk_X509_pop_free(served[i], X509_free);
	nserved = 0;
}

/* A client of the Micro CA: label device, the bootstrap identity. */
static void
dn_client(struct mca_estc *e)
{
	static char	 root[1024], cert[1024], key[1024];

	(void)snprintf(root, sizeof(root), "%s", path("dn/root.pem"));
	(void)snprintf(cert, sizeof(cert), "%s", path("dn/boot.pem"));
	(void)snprintf(key, sizeof(key), "%s", path("dn/boot.key"));
	memset(e, 0, sizeof(*e));
	e->host = "127.0.0.1";
	e->port = W.dn_port;
	e->label = "device";
	e->tls.cafile = root;
	e->tls.certfile = cert;
	e->tls.keyfile = key;
	e->connect_timeout = 30;
	e->timeout = 120;
}

/* Whether two certificate stacks are the same certificates in order. */
static int
same_certs(STACK_OF(X509) *a, STACK_OF(X509) *b)
{
	int	 i;

	if (sk_X509_num(a) != sk_X509_num(b))
		return 0;
	for (i = 0; i < sk_X509_num(a); i++)
		if (X509_cmp(sk_X509_value(a, i), sk_X509_value(b, i)) != 0)
			return 0;
	return 1;
}

/*
 * GET /cacerts of the Micro CA, kept in served[] when new; the answer
 * (served's, not the caller's).
 */
static STACK_OF(X509) *
cacerts(void)
{
	struct mca_estc	 e;
	struct mca_diag	 d;
	STACK_OF(X509)	*sk = NULL;
	int		 i;

	dn_client(&e);
	ck_assert_msg(mca_estc_cacerts(&e, &sk, &d) == 0, "/cacerts: %s",
	    d.msg);
	ck_assert_int_ge(sk_X509_num(sk), 1);
	for (i = 0; i < nserved; i++)
		if (same_certs(served[i], sk)) {
			sk_X509_pop_free(sk, X509_free);
			return served[i];
		}
	ck_assert_int_lt(nserved, SERVED_MAX);
	served[nserved++] = sk;
	return sk;
}

/*
 * Whether cert verifies against chain as /cacerts serves it: its
 * self-signed certificates are the anchors, the others intermediates.
 */
static int
verifies(X509 *cert, STACK_OF(X509) *chain, char *why, size_t len)
{
	X509_STORE	*st;
	X509_STORE_CTX	*ctx;
	STACK_OF(X509)	*untrusted;
	X509		*x;
	int		 i, ok;

	ck_assert_ptr_nonnull(st = X509_STORE_new());
	ck_assert_ptr_nonnull(ctx = X509_STORE_CTX_new());
	ck_assert_ptr_nonnull(untrusted = sk_X509_new_null());
	for (i = 0; i < sk_X509_num(chain); i++) {
		x = sk_X509_value(chain, i);
		if (X509_check_issued(x, x) == X509_V_OK)
			ck_assert_int_eq(X509_STORE_add_cert(st, x), 1);
		else
			ck_assert_int_ne(sk_X509_push(untrusted, x), 0);
	}
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, st, cert, untrusted), 1);
	ok = X509_verify_cert(ctx) == 1;
	(void)snprintf(why, len, "%s", ok ? "ok" :
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(st);
	return ok;
}

/*
 * The served chain whose first certificate issued cert, against which
 * cert must verify; its index in served[].
 */
static int
assert_issued_by_served(X509 *cert, const char *what)
{
	char	 why[256], subj[256], iss[256];
	int	 i;

	for (i = 0; i < nserved; i++) {
		if (X509_check_issued(sk_X509_value(served[i], 0), cert) !=
		    X509_V_OK)
			continue;
		ck_assert_msg(verifies(cert, served[i], why, sizeof(why)),
		    "%s does not verify against the chain /cacerts served "
		    "for its issuer: %s", what, why);
		return i;
	}
	(void)X509_NAME_oneline(X509_get_subject_name(cert), subj,
	    sizeof(subj));
	(void)X509_NAME_oneline(X509_get_issuer_name(cert), iss, sizeof(iss));
	ck_abort_msg("%s (%s) is from %s, which no /cacerts answer (%d) "
	    "served", what, subj, iss, nserved);
	return -1;
}

/*
 * The running CA signs: /cacerts, an enrollment, /cacerts again; the
 * certificate verifies against the chain served for its issuer (the
 * worker may take up a new generation between the two).
 */
static void
assert_ca_signs(const char *cn)
{
	struct mca_estc		 e;
	struct mca_estc_result	 res;
	struct mca_diag		 d;
	X509_REQ		*csr;
	EVP_PKEY		*k = NULL;

	memset(&res, 0, sizeof(res));
	(void)cacerts();
	dn_client(&e);
	csr = new_csr(&k, cn);
	ck_assert_msg(mca_estc_enroll(&e, 0, csr, &res, &d) == 0,
	    "enrollment through the Micro CA: %s", d.msg);
	ck_assert_int_eq(res.state, MCA_ESTC_ISSUED);
	(void)cacerts();
	(void)assert_issued_by_served(res.cert, cn);
	mca_estc_result_free(&res);
	X509_REQ_free(csr);
	EVP_PKEY_free(k);
}

static long long
active_id(void)
{
	char	 v[64];

	sql("SELECT coalesce(max(id), 0) FROM ca_generations WHERE state = "
	    "'active'", v, sizeof(v));
	return strtoll(v, NULL, 10);
}

/* The chain_pem of generation id (0: config.json's file as set up). */
static void
gen_chain(long long id, struct mca_buf *out)
{
	mca_buf_reset(out);
	if (id == 0) {
		ck_assert_int_eq(tu_read(path("dn/chain.pem"), out), 0);
		return;
	}
	ck_assert_int_eq(tu_sh(out, "'%s' -batch '%s' \"SELECT chain_pem "
	    "FROM ca_generations WHERE id = %lld\"", getenv("SQLITE3") !=
	    NULL ? getenv("SQLITE3") : "sqlite3", path("dn-db/ledger.db"), id),
	    0);
	/* the shell adds a newline after the value's own */
	if (out->len >= 2 && out->data[out->len - 1] == '\n' &&
	    out->data[out->len - 2] == '\n')
		out->data[--out->len] = '\0';
	ck_assert_uint_gt(out->len, 0);
}

/* Whether intermediate_cert_path is generation id's chain, byte for byte. */
static int
file_is_gen(long long id)
{
	struct mca_buf	 f = MCA_BUF_INIT, g = MCA_BUF_INIT;
	int		 same;

	ck_assert_int_eq(tu_read(path("dn-int.pem"), &f), 0);
	gen_chain(id, &g);
	same = f.len == g.len && memcmp(f.data, g.data, f.len) == 0;
	mca_buf_free(&f);
	mca_buf_free(&g);
	return same;
}

/* The ledger is whole, and has at most one active generation. */
static void
assert_ledger_sane(void)
{
	char	 v[256];

	sql("PRAGMA integrity_check", v, sizeof(v));
	ck_assert_str_eq(v, "ok");
	ck_assert_int_le(sql_int("SELECT count(*) FROM ca_generations WHERE "
	    "state = 'active'"), 1);
}

/*
 * The token's keys: private key labels into *priv, public ones into
 * *pub (each "label\n" in turn).
 */
static void
token_keys(struct mca_buf *priv, struct mca_buf *pub)
{
	struct mca_p11_keyinfo	*ki = NULL;
	struct mca_p11		*p = NULL;
	struct mca_diag		 d;
	size_t			 i, n = 0;

	ck_assert_int_eq(setenv("SOFTHSM2_CONF", path("dn/softhsm2.conf"),
	    1), 0);
	ck_assert_msg(mca_p11_session(getenv("SOFTHSM2_MODULE"), NULL, "1234",
	    &p, &d) == 0, "token: %s", d.msg);
	ck_assert_msg(mca_p11_list(p, &ki, &n, &d) == 0, "token: %s", d.msg);
	mca_buf_reset(priv);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(mca_buf_printf(priv, "%s\n", ki[i].label), 0);
	free(ki);
	mca_p11_close(p);
	mca_buf_reset(pub);
	ck_assert_int_eq(tu_sh(pub, "SOFTHSM2_CONF='%s' pkcs11-tool --module "
	    "'%s' --token-label microca --list-objects --type pubkey "
	    "2>/dev/null | sed -n 's/^ *label: *//p'", path("dn/softhsm2.conf"),
	    getenv("SOFTHSM2_MODULE")), 0);
}

/* Whether label is a line of list. */
static int
has_line(const struct mca_buf *list, const char *label)
{
	const char	*s = mca_buf_str((struct mca_buf *)list), *e;
	size_t		 n = strlen(label);

	for (; *s != '\0'; s = *e == '\n' ? e + 1 : e) {
		e = s + strcspn(s, "\n");
		if ((size_t)(e - s) == n && strncmp(s, label, n) == 0)
			return 1;
	}
	return 0;
}

/* The active generation's key is in the token, its chain in the file. */
static void
assert_active_whole(void)
{
	struct mca_buf	 priv = MCA_BUF_INIT, pub = MCA_BUF_INIT;
	char		 label[160];

	sql("SELECT key_label FROM ca_generations WHERE state = 'active'",
	    label, sizeof(label));
	ck_assert_uint_gt(strlen(label), 0);
	token_keys(&priv, &pub);
	ck_assert_msg(has_line(&priv, label), "the active key %s is not in "
	    "the token:\n%s", label, mca_buf_str(&priv));
	ck_assert_msg(file_is_gen(active_id()), "intermediate_cert_path is "
	    "not the active generation's chain");
	mca_buf_free(&priv);
	mca_buf_free(&pub);
}

/*
 * Every key in the token is one something refers to: config.json's, a
 * generation's, the pending attempt's, or one superseded and waiting
 * for the sweep; every public key has its private key. After a run's
 * sweep no superseded key is left that nothing refers to.
 */
static void
assert_no_orphan_keys(void)
{
	struct mca_buf	 priv = MCA_BUF_INIT, pub = MCA_BUF_INIT;
	const char	*s, *e;
	char		 label[160], q[1024];

	token_keys(&priv, &pub);
	fprintf(stderr, "token: private keys:\n%s", mca_buf_str(&priv));
	for (s = mca_buf_str(&priv); *s != '\0'; s = *e == '\n' ? e + 1 : e) {
		e = s + strcspn(s, "\n");
		(void)snprintf(label, sizeof(label), "%.*s", (int)(e - s), s);
		if (strcmp(label, "microca-ca") == 0)
			continue;
		ck_assert_uint_eq(strspn(label, "0123456789-"), strlen(label));
		(void)snprintf(q, sizeof(q), "SELECT (SELECT count(*) FROM "
		    "ca_generations WHERE key_label = '%s') + (SELECT count(*) "
		    "FROM renew_pending WHERE key_label = '%s') + (SELECT "
		    "count(*) FROM key_superseded WHERE key_label = '%s')",
		    label, label, label);
		ck_assert_msg(sql_int(q) > 0, "token key %s: nothing refers "
		    "to it (an orphan)", label);
	}
	for (s = mca_buf_str(&pub); *s != '\0'; s = *e == '\n' ? e + 1 : e) {
		e = s + strcspn(s, "\n");
		(void)snprintf(label, sizeof(label), "%.*s", (int)(e - s), s);
		ck_assert_msg(has_line(&priv, label), "token: a public key %s "
		    "without its private key", label);
	}
	ck_assert_int_eq(sql_int("SELECT count(*) FROM key_superseded AS s "
	    "WHERE NOT EXISTS (SELECT 1 FROM ca_generations AS g WHERE "
	    "g.key_label = s.key_label) AND NOT EXISTS (SELECT 1 FROM "
	    "renew_pending AS p WHERE p.key_label = s.key_label)"), 0);
	mca_buf_free(&priv);
	mca_buf_free(&pub);
}

/* What the shim's log says: 'k' killed at n, 'c' completed, 0 neither. */
static int
crash_log(const char *log, unsigned long *n, char *line, size_t len)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	const char	*s;
	int		 kind = 0;

	line[0] = '\0';
	*n = 0;
	if (tu_read(log, &b) == 0) {
		s = mca_buf_str(&b);
		(void)snprintf(line, len, "%.*s", (int)strcspn(s, "\n"), s);
		if (strncmp(s, "killed ", 7) == 0)
			kind = 'k', *n = strtoul(s + 7, NULL, 10);
		else if (strncmp(s, "completed ", 10) == 0)
			kind = 'c', *n = strtoul(s + 10, NULL, 10);
	}
	mca_buf_free(&b);
	return kind;
}

/*
 * LD_PRELOAD for the shim in dir: libasan first when microca-renew (in
 * bindir) has it, since ASan insists on being the first library.
 */
static void
shim_preload(const char *bindir, const char *dir, char *buf, size_t len)
{
	struct mca_buf	 asan = MCA_BUF_INIT;
	const char	*a;

	ck_assert_int_eq(tu_sh(&asan, "ldd '%s/microca-renew' | awk "
	    "'/libasan/ { print $3; exit }'", bindir), 0);
	a = mca_buf_str(&asan);
	(void)snprintf(buf, len, "%.*s%s%s/crashpoint.so", (int)strcspn(a,
	    "\n"), a, *a != '\0' ? " " : "", dir);
	mca_buf_free(&asan);
}

/* ---------------------------------------------------------------- kill */

START_TEST(test_kill)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 preload[2 * PATH_MAX], env[6 * PATH_MAX];
	char		 dir[PATH_MAX], log[PATH_MAX], line[PATH_MAX + 64];
	char		 cn[64];
	char		 shimdir[PATH_MAX];
	const char	*bindir;
	unsigned long	 at, n, total = 0;
	long long	 id0, id1;
	int		 rc, kind, kills = 0, done = 0;
	int		 seen_ledger = 0, seen_rename = 0;

	if (W.root) {
		ck_assert_int_eq(tu_sh(NULL, "cp '%s/tests/crashpoint.so' "
		    "'%s' && chmod 755 '%s/crashpoint.so'", tu_builddir(),
		    path("bin"), path("bin")), 0);
		bindir = path("bin");
		(void)snprintf(shimdir, sizeof(shimdir), "%s", bindir);
	} else {
		bindir = tu_builddir();
		(void)snprintf(shimdir, sizeof(shimdir), "%s/tests", bindir);
	}
	shim_preload(bindir, shimdir, preload, sizeof(preload));
	ck_assert_ptr_nonnull(realpath(W.dir, dir));
	(void)snprintf(log, sizeof(log), "%s", path("crash.log"));

	for (at = 1; at <= KILL_MAX && !done; at++) {
		id0 = active_id();
		(void)unlink(log);
		(void)snprintf(env, sizeof(env), "LD_PRELOAD='%s' "
		    "MCA_CRASH_AT=%lu MCA_CRASH_LOG='%s' MCA_CRASH_PATHS='%s' "
		    "MCA_CRASH_SKIP='%s/dn/tokens'", preload, at, log, dir,
		    dir);
		rc = renew_env(&out, env, "--force intermediate");
		kind = crash_log(log, &n, line, sizeof(line));
		ck_assert_msg(kind != 0, "crash point %lu: the run (exit %d) "
		    "left no word in %s", at, rc, log);
		fprintf(stderr, "crash point %lu: %s (exit %d)\n", at, line,
		    rc);
		if (kind == 'c') {
			/* N is past the last call: an untouched run. */
			ck_assert_int_eq(rc, 0);
			ASSERT_HAS(&out, "intermediate: installed generation ");
			total = n;
			done = 1;
		} else {
			ck_assert_uint_eq(n, at);
			/* sh's status for a child killed by SIGKILL */
			ck_assert_int_eq(rc, 128 + 9);
			kills++;
			if (strstr(line, "ledger.db-wal") != NULL)
				seen_ledger = 1;
			if (strstr(line, " rename ") != NULL &&
			    strstr(line, "/dn-int.pem") != NULL)
				seen_rename = 1;
		}

		/* The invariants, with the run stopped there. */
		assert_ledger_sane();
		id1 = active_id();
		ck_assert_msg(id1 == id0 || id1 > id0, "active generation "
		    "went from %lld to %lld", id0, id1);
		ck_assert_msg(file_is_gen(id0) || file_is_gen(id1),
		    "crash point %lu: intermediate_cert_path is neither "
		    "generation %lld's chain nor %lld's", at, id0, id1);
		/* whole: the chain verifies, to the upstream's root or to the
		 * first intermediate's */
		ck_assert_int_eq(tu_sh(NULL, "cd '%s' && cat up/root.pem "
		    "dn/root.pem > roots.pem && '%s' verify -CAfile roots.pem "
		    "-untrusted dn-int.pem dn-int.pem >/dev/null", W.dir,
		    tu_openssl()), 0);
		(void)snprintf(cn, sizeof(cn), "kill-%lu", at);
		assert_ca_signs(cn);
		if (done)
			break;

		/* The next run, without the shim, completes. */
		ck_assert_int_eq(renew(&out, "--force intermediate"), 0);
		ASSERT_HAS(&out, "intermediate: installed generation ");
		ck_assert_int_gt(active_id(), id1);
		assert_ledger_sane();
		assert_active_whole();
	}
	ck_assert_msg(done, "no run went through in %d crash points",
	    KILL_MAX);
	fprintf(stderr, "kill: %d runs killed, the whole run makes %lu "
	    "counted calls\n", kills, total);
	/*
	 * The shim stopped runs in the ledger's transactions and at the
	 * rename that installs the file; the run that went through made
	 * fewer calls than the point it was given (the runs before it may
	 * have made more: a sweep, a WAL checkpoint).
	 */
	ck_assert(seen_ledger && seen_rename);
	ck_assert_uint_le(total, (unsigned long)kills);
	assert_active_whole();
	/* One more run's sweep, then nothing is left that nobody needs. */
	ck_assert_int_eq(renew(&out, "--force intermediate"), 0);
	assert_no_orphan_keys();
	assert_ca_signs("kill-end");
	served_free();
	mca_buf_free(&out);
}
END_TEST

/* ---------------------------------------------------------------- load */

/*
 * How many batches the loader finished (lines "batch N rc R" of
 * load.rc); *bad: how many of them exited other than 0.
 */
static int
load_batches(int *bad)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	const char	*s, *e;
	int		 n = 0;

	*bad = 0;
	if (tu_read(path("load.rc"), &b) == 0)
		for (s = mca_buf_str(&b); *s != '\0'; s = *e == '\n' ? e + 1 :
		    e) {
			e = s + strcspn(s, "\n");
			if (*e != '\n')
				break;	/* a line being written */
			n++;
			if (e - s < 5 || strncmp(e - 5, " rc 0", 5) != 0)
				(*bad)++;
		}
	mca_buf_free(&b);
	return n;
}

/* Waits until the loader has finished at least want batches. */
static void
load_wait(int want)
{
	int	 i, bad;

	for (i = 0; i < LOAD_POLLS && load_batches(&bad) < want; i++)
		(void)usleep(POLL_STEP * 1000);
	ck_assert_msg(load_batches(&bad) >= want, "the loader did not get to "
	    "%d batches", want);
	ck_assert_msg(bad == 0, "%d batches of microca-load failed", bad);
}

/* Asks /cacerts until it serves the active generation's chain. */
static void
cacerts_follow(void)
{
	STACK_OF(X509)	*sk;
	char		 sha[80];
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, j;
	char		 got[2 * EVP_MAX_MD_SIZE + 1];
	int		 i;

	sql("SELECT sha256 FROM ca_generations WHERE state = 'active'", sha,
	    sizeof(sha));
	for (i = 0; i < POLL_MAX / POLL_STEP; i++) {
		sk = cacerts();
		ck_assert_int_eq(X509_digest(sk_X509_value(sk, 0),
		    EVP_sha256(), md, &mdlen), 1);
		for (j = 0; j < mdlen; j++)
			(void)snprintf(got + 2 * j, 3, "%02x", md[j]);
		if (strcasecmp(got, sha) == 0)
			return;
		(void)usleep(POLL_STEP * 1000);
	}
	ck_abort_msg("/cacerts still serves another chain than the active "
	    "generation's");
}

START_TEST(test_load)
{
	struct mca_buf	 out = MCA_BUF_INIT, list = MCA_BUF_INIT;
	struct mca_diag	 d;
	STACK_OF(X509)	*sk;
	const char	*s, *e;
	char		 f[PATH_MAX], what[PATH_MAX + 16];
	int		 rot, b, bad, i, issued = 0, ok = 0, per[SERVED_MAX];
	long long	 v;

	memset(per, 0, sizeof(per));
	(void)cacerts();
	/*
	 * The loader: batches of microca-load, one after the other, until
	 * load.stop appears; each batch's exit status in load.rc, its
	 * report line in load.out.
	 */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && (i=0; while test ! -e "
	    "load.stop; do i=$((i + 1)); '%s/tests/bench/microca-load' --url "
	    "https://127.0.0.1:%u/.well-known/est/device --cacert dn/root.pem "
	    "--cert dn/boot.pem --key dn/boot.key --clients %d --count %d "
	    "--pool 4 --subject '/CN=load-%%d' --max-seconds 3000 --timeout "
	    "120 >>load.out 2>>load.err; echo \"batch $i rc $?\" >>load.rc; "
	    "done; touch load.done) </dev/null >/dev/null 2>&1 &", W.dir,
	    tu_builddir(), W.dn_port, LOAD_CLIENTS, LOAD_BATCH), 0);
	load_wait(1);
	for (rot = 1; rot <= 2; rot++) {
		ck_assert_int_eq(renew(&out, "--force intermediate"), 0);
		ASSERT_HAS(&out, "intermediate: installed generation ");
		cacerts_follow();
		/* a whole batch under the new generation */
		b = load_batches(&bad);
		load_wait(b + 2);
	}
	ck_assert_int_eq(tu_sh(NULL, "touch '%s'", path("load.stop")), 0);
	for (i = 0; i < LOAD_POLLS && access(path("load.done"), F_OK) != 0;
	    i++)
		(void)usleep(POLL_STEP * 1000);
	ck_assert_int_eq(access(path("load.done"), F_OK), 0);
	b = load_batches(&bad);
	ck_assert_msg(bad == 0, "%d of %d batches of microca-load failed",
	    bad, b);
	(void)cacerts();

	/* Every batch: all requested, all ok, no error of any kind. */
	ck_assert_int_eq(tu_read(path("load.out"), &out), 0);
	for (s = mca_buf_str(&out); (s = strstr(s, " ok=")) != NULL; s++) {
		v = strtoll(s + 4, NULL, 10);
		ck_assert_int_eq(v, LOAD_CLIENTS * LOAD_BATCH);
		ok += (int)v;
		ck_assert_ptr_nonnull(e = strstr(s, " errors="));
		ck_assert_int_eq(strtoll(e + 8, NULL, 10), 0);
	}
	ck_assert_int_eq(ok, b * LOAD_CLIENTS * LOAD_BATCH);

	/* Every certificate the Micro CA wrote, against its issuer's chain. */
	ck_assert_int_eq(tu_sh(&list, "ls '%s'", path("dn-issued")), 0);
	for (s = mca_buf_str(&list); *s != '\0'; s = *e == '\n' ? e + 1 : e) {
		e = s + strcspn(s, "\n");
		(void)snprintf(f, sizeof(f), "%s/%.*s", path("dn-issued"),
		    (int)(e - s), s);
		(void)snprintf(what, sizeof(what), "issued %.*s", (int)(e - s),
		    s);
		ck_assert_msg(mca_pem_load_certs(f, &sk, &d) == 0, "%s",
		    d.msg);
		i = assert_issued_by_served(sk_X509_value(sk, 0), what);
		per[i]++;
		issued++;
		sk_X509_pop_free(sk, X509_free);
	}
	fprintf(stderr, "load: %d batches, %d enrollments, %d certificates "
	    "issued, %d chains served:", b, ok, issued, nserved);
	for (i = 0; i < nserved; i++)
		fprintf(stderr, " %d", per[i]);
	fprintf(stderr, "\n");
	ck_assert_int_eq(issued, ok);
	/* The first intermediate and both new ones issued some of them. */
	ck_assert_int_eq(nserved, 3);
	for (i = 0; i < nserved; i++)
		ck_assert_int_gt(per[i], 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM ca_generations"), 2);
	served_free();
	mca_buf_free(&out);
	mca_buf_free(&list);
}
END_TEST

/* ------------------------------------------------------------ killload */

/* Lines of issued.txt: the certificates the clients received. */
static int
received(void)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	const char	*s;
	int		 n = 0;

	if (tu_read(path("issued.txt"), &b) == 0)
		for (s = mca_buf_str(&b); (s = strchr(s, '\n')) != NULL; s++)
			n++;
	mca_buf_free(&b);
	return n;
}

/* Waits until the clients have received at least want certificates. */
static void
received_wait(int want, const char *what)
{
	int	 i;

	for (i = 0; i < LOAD_POLLS && received() < want; i++)
		(void)usleep(POLL_STEP * 1000);
	ck_assert_msg(received() >= want, "%s: the clients did not get to %d "
	    "certificates (%d)", what, want, received());
}

/*
 * SIGKILL to the Micro CA's FastCGI workers, lighttpd's microca-est
 * children, by pid; to lighttpd too when all is set. How many workers
 * were killed.
 */
static int
kill_workers(int all)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	int		 n;

	ck_assert_int_eq(tu_sh(&out, "top=$(cat '%s/dnweb/pid') && n=0 && "
	    "for p in $(ps -o pid= --ppid \"$top\"); do "
	    "[ \"$(cat /proc/$p/comm 2>/dev/null)\" = microca-est ] && "
	    "kill -9 $p 2>/dev/null && n=$((n + 1)); done; %s echo $n",
	    W.dir, all ? "kill -9 $top;" : ""), 0);
	n = atoi(mca_buf_str(&out));
	mca_buf_free(&out);
	return n;
}

/*
 * The ledger's hash chain holds over every row, and every IssuedCerts
 * file is its row's PEM (what microca-admin ledger verify checks; called
 * through the library because the ledger is www-data's and the admin
 * refuses to run as another user).
 */
static void
chain_verifies(void)
{
	struct mca_ledger	*l = NULL;
	struct mca_chain_verify	 o;
	struct mca_chain_report	 r;
	struct mca_diag		 d;

	ck_assert_msg(mca_ledger_open(path("dn-db/ledger.db"), 0, &l, &d) == 0,
	    "%s", d.msg);
	memset(&o, 0, sizeof(o));
	o.issued_dir = path("dn-issued");
	ck_assert_msg(mca_ledger_chain_verify(l, &o, &r) == 0, "verify: %s",
	    mca_ledger_errmsg(l, MCA_ERR_DB));
	ck_assert_msg(!r.broken, "the chain breaks at %s %lld (serial %s): %s",
	    r.bad_table, r.bad_id, r.bad_serial, r.what);
	fprintf(stderr, "killload: the chain verifies: %lld rows, %lld "
	    "IssuedCerts files, head %s\n", r.rows, r.files, r.head);
	mca_ledger_close(l);
}

START_TEST(test_killload)
{
	struct mca_buf	 out = MCA_BUF_INIT, got = MCA_BUF_INIT;
	const char	*env = getenv("MCA_WORKER_KILLS"), *s, *e;
	char		 v[64], port[16];
	int		 kills = KILLS_DEF, k, n, want, b, bad, total;

	if (env != NULL && *env != '\0')
		kills = atoi(env);
	ck_assert_int_gt(kills, 0);
	/*
	 * The loader, as in test_load but with --issued and 8 clients: a
	 * batch that lost answers to a kill exits 1 and the next one
	 * starts; only a usage or setup error (2) is a failure.
	 */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && (i=0; while test ! -e "
	    "load.stop; do i=$((i + 1)); '%s/tests/bench/microca-load' --url "
	    "https://127.0.0.1:%u/.well-known/est/device --cacert dn/root.pem "
	    "--cert dn/boot.pem --key dn/boot.key --clients %d --count 4 "
	    "--pool 4 --subject '/CN=kill-%%d' --max-seconds 3000 --timeout "
	    "120 --issued issued.txt >>load.out 2>>load.err; echo \"batch $i "
	    "rc $?\" >>load.rc; done; touch load.done) </dev/null >/dev/null "
	    "2>&1 &", W.dir, tu_builddir(), W.dn_port, KILL_CLIENTS), 0);
	/* Each kill after KILL_EVERY more received since the one before. */
	want = KILL_EVERY;
	for (k = 1; k <= kills; k++) {
		received_wait(want, "before a worker kill");
		n = kill_workers(0);
		want = received() + KILL_EVERY;
		fprintf(stderr, "killload: kill %d at %d received: %d "
		    "workers\n", k, want - KILL_EVERY, n);
		ck_assert_int_gt(n, 0);
	}
	/* lighttpd itself, and its workers; started again on its port. */
	received_wait(want, "before the lighttpd kill");
	n = kill_workers(1);
	fprintf(stderr, "killload: lighttpd killed at %d received, with %d "
	    "workers\n", received(), n);
	(void)snprintf(port, sizeof(port), "%u", W.dn_port);
	ck_assert_int_eq(setenv("MCA_WEB_PORT", port, 1), 0);
	ck_assert_uint_eq(web("dnweb", path("dn.json"), "dn",
	    path("dn-clients.pem"), path("dn/softhsm2.conf")), W.dn_port);
	ck_assert_int_eq(unsetenv("MCA_WEB_PORT"), 0);
	want = received() + KILL_EVERY;
	received_wait(want, "after lighttpd started again");

	ck_assert_int_eq(tu_sh(NULL, "touch '%s'", path("load.stop")), 0);
	for (k = 0; k < LOAD_POLLS && access(path("load.done"), F_OK) != 0;
	    k++)
		(void)usleep(POLL_STEP * 1000);
	ck_assert_int_eq(access(path("load.done"), F_OK), 0);
	b = load_batches(&bad);
	ck_assert_int_eq(tu_read(path("load.rc"), &out), 0);
	ck_assert_msg(strstr(mca_buf_str(&out), " rc 2\n") == NULL,
	    "microca-load could not run:\n%s", mca_buf_str(&out));

	/* Every certificate a client received is in the ledger, once. */
	ck_assert_int_eq(tu_read(path("issued.txt"), &got), 0);
	total = 0;
	for (s = mca_buf_str(&got); *s != '\0'; s = e + 1) {
		ck_assert_ptr_nonnull(e = strchr(s, '\n'));
		ck_assert_msg(e - s > 0 && e - s < 64 && strspn(s,
		    "0123456789ABCDEF") == (size_t)(e - s), "issued.txt: "
		    "\"%.*s\"", (int)(e - s), s);
		total++;
	}
	mca_buf_reset(&out);
	ck_assert_int_eq(tu_sh(&out, "cd '%s' && '%s' -batch dn-db/ledger.db "
	    "'SELECT serial FROM certificates' | sort > ledger.txt && "
	    "sort issued.txt | uniq -d | sed 's/^/received twice: /' && "
	    "sort -u issued.txt | comm -23 - ledger.txt | "
	    "sed 's/^/received, not in the ledger: /' | head -5",
	    W.dir, getenv("SQLITE3") != NULL ? getenv("SQLITE3") : "sqlite3"),
	    0);
	ck_assert_msg(out.len == 0, "%s", mca_buf_str(&out));
	ck_assert_int_eq(sql_int("SELECT count(*) - count(DISTINCT serial) "
	    "FROM certificates"), 0);
	sql("PRAGMA integrity_check", v, sizeof(v));
	ck_assert_str_eq(v, "ok");
	chain_verifies();
	fprintf(stderr, "killload: %d worker kills and one of lighttpd, %d "
	    "batches (%d cut short), %d certificates received, %d in the "
	    "ledger\n", kills, b, bad, total,
	    sql_int("SELECT count(*) FROM certificates"));
	ck_assert_int_ge(total, (kills + 2) * KILL_EVERY);
	mca_buf_free(&out);
	mca_buf_free(&got);
}
END_TEST

/* The loader stops with the test, whatever became of it. */
static void
load_teardown(void)
{
	int	 i;

	if (W.dir != NULL) {
		(void)tu_sh(NULL, "touch '%s'", path("load.stop"));
		for (i = 0; i < LOAD_POLLS &&
		    access(path("load.done"), F_OK) != 0 &&
		    access(path("load.rc"), F_OK) == 0; i++)
			(void)usleep(POLL_STEP * 1000);
	}
	teardown();
}

/* Two FastCGI workers: each takes the new generation up on its own. */
static void
load_setup(void)
{
	W.workers = 2;
	setup();
}

Suite *
rotate_suite(void)
{
	Suite	*s = suite_create("rotate");
	TCase	*tc;

	tc = tcase_create("kill");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, WEB_TIMEOUT * 3);
	tcase_add_test(tc, test_kill);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_unchecked_fixture(tc, load_setup, load_teardown);
	tcase_set_timeout(tc, WEB_TIMEOUT);
	tcase_add_test(tc, test_load);
	suite_add_tcase(s, tc);

	tc = tcase_create("killload");
	tcase_add_unchecked_fixture(tc, load_setup, load_teardown);
	tcase_add_test(tc, test_killload);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(rotate_suite());
}
