/*
 * microca-renew against a real upstream: a second microca behind
 * lighttpd (scripts/microca-web) on loopback, its CA key in a file, with
 * an is_ca label ("subca") that issues intermediates to clients with a
 * certificate, and a label that does not ("device"). The Micro CA under
 * test is a microca behind another lighttpd, its keys in a SoftHSMv2
 * token. microca-renew enrolls a new intermediate into the token; the
 * test checks the ledger and the file, then has the Micro CA issue a
 * device certificate from it and verifies that to the upstream's root
 * with openssl verify. Faults: the upstream down, not trusted, 403, a
 * certificate that is no CA; the gate, the interval, the lock, --status
 * and --dry-run.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "err.h"
#include "estc.h"
#include "lock.h"
#include "pem.h"
#include "renewweb.h"
#include "testutil.h"

Suite	*renew_suite(void);

/* A port on loopback that nothing listens on (bound, then closed). */
static unsigned
dead_port(void)
{
	struct sockaddr_in	 sa;
	socklen_t		 sl = sizeof(sa);
	int			 s;
	unsigned		 port;

	ck_assert_int_ge(s = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	close(s);
	return port;
}

/* A refused run: exit 1, the line, and nothing of the CA changed. */
static void
assert_refused(const struct dn *c, const char *want)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 before[80], after[80];

	write_dn(c);
	file_hash(path("dn-int.pem"), before, sizeof(before));
	ck_assert_int_eq(renew(&out, "--force intermediate"), 1);
	ASSERT_HAS(&out, "intermediate: renewal failed, the certificate in "
	    "use stays");
	ASSERT_HAS(&out, want);
	file_hash(path("dn-int.pem"), after, sizeof(after));
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM ca_generations"), 0);
	/* the attempt stays for the next run: the same key and request */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending WHERE "
	    "job = 'intermediate'"), 1);
	mca_buf_free(&out);
}

/* ---------------------------------------------------------------- tests */

/* --status before anything: the configured intermediate, not due. */
START_TEST(test_status)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	ck_assert_int_eq(renew(&out, "--status"), 0);
	ASSERT_HAS(&out, "NAME");
	ASSERT_HAS(&out, "NOT AFTER");
	ASSERT_HAS(&out, "intermediate  CN=microca test intermediate,"
	    "O=microca test");
	ASSERT_HAS(&out, "token:microca-ca");
	ASSERT_HAS(&out, "not due: 3649 days left, renewed 30 days before "
	    "expiry");
	ASSERT_HAS(&out, "mtls_client");
	ASSERT_HAS(&out, "CN=device-boot-001");
	ASSERT_HAS(&out, "file:");
	ck_assert_ptr_null(strstr(mca_buf_str(&out), "  yes  "));
	/* usage: an unknown certificate to force */
	ck_assert_int_eq(renew(&out, "--force nonesuch"), 2);
	ASSERT_HAS(&out, "--force nonesuch: no such certificate");
	ck_assert_int_eq(renew(&out, "--status --dry-run"), 2);
	mca_buf_free(&out);
}
END_TEST

/* The gate closed, then --dry-run: nothing changes. */
START_TEST(test_gate_dry)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	struct dn	 c;
	char		 before[80], after[80];

	dn_defaults(&c);
	c.reenroll = 36500;	/* due */
	c.enabled = 0;
	write_dn(&c);
	file_hash(path("dn-int.pem"), before, sizeof(before));
	ck_assert_int_eq(renew(&out, ""), 0);
	ASSERT_HAS(&out, "isRenewalOfCertificatesRequired is not true");
	c.enabled = 1;
	write_dn(&c);
	ck_assert_int_eq(renew(&out, "--status"), 0);
	ASSERT_HAS(&out, "due: 3649 days left, renewed 36500 days before "
	    "expiry");
	ck_assert_int_eq(renew(&out, "--dry-run"), 0);
	ASSERT_HAS(&out, "intermediate: would make a new key in the token, "
	    "and enroll its request");
	ASSERT_HAS(&out, "/.well-known/est/subca/simpleenroll");
	file_hash(path("dn-int.pem"), after, sizeof(after));
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM ca_generations"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM cron_state"), 0);
	mca_buf_free(&out);
}
END_TEST

/* Faults: each one clear line, exit 1, the old CA untouched. */
START_TEST(test_faults)
{
	struct dn	 c;

	dn_defaults(&c);
	c.port = dead_port();
	assert_refused(&c, "localhost");
	dn_defaults(&c);
	c.anchors = "dn/root.pem";	/* not the upstream's root */
	assert_refused(&c, "SSL certificate problem");
	dn_defaults(&c);
	c.cert = "up/foreign.pem";
	c.key = "up/foreign.key";
	assert_refused(&c, "HTTP 403");
	dn_defaults(&c);
	c.label = "device";		/* issues no CA certificates */
	assert_refused(&c, "is refused: not a CA certificate: "
	    "basicConstraints cA TRUE missing");
}
END_TEST

/*
 * The enrollment: the attempt of the faults goes on with its key and
 * request; the ledger's generation, the file, the token key; then the
 * Micro CA issues from it, and that verifies to the upstream's root.
 */
START_TEST(test_enroll)
{
	struct mca_buf		 out = MCA_BUF_INIT, pem = MCA_BUF_INIT;
	struct mca_estc		 e;
	struct mca_estc_result	 res;
	struct mca_diag		 d;
	struct dn		 c;
	STACK_OF(X509)		*chain = NULL;
	X509_REQ		*csr;
	EVP_PKEY		*k = NULL;
	X509_NAME		*want;
	char			 label[160], pend[160], root[1024];
	int			 ms, rc = -1;

	dn_defaults(&c);
	write_dn(&c);
	sql("SELECT key_label FROM renew_pending WHERE job = 'intermediate'",
	    pend, sizeof(pend));
	ck_assert_int_eq(renew(&out, "--force intermediate"), 0);
	ASSERT_HAS(&out, "intermediate: installed generation ");
	ASSERT_HAS(&out, "(resumed)");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM ca_generations WHERE "
	    "state = 'active'"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending"), 0);
	sql("SELECT key_label FROM ca_generations WHERE state = 'active'",
	    label, sizeof(label));
	ck_assert_str_eq(label, pend);
	/* the seed's form: a UTC time stamp */
	ck_assert_uint_eq(strspn(label, "0123456789"), 14);

	/* The file: the new intermediate, then the upstream's chain. */
	ck_assert_int_eq(mca_pem_load_certs(path("dn-int.pem"), &chain, &d),
	    0);
	ck_assert_int_ge(sk_X509_num(chain), 3);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' x509 -in dn-int.pem "
	    "-noout -subject | grep -q 'CN *= *renewed intermediate' && '%s' "
	    "verify -CAfile up/root.pem -untrusted up/ca.pem dn-int.pem "
	    ">/dev/null", W.dir, tu_openssl(), tu_openssl()), 0);
	want = X509_get_subject_name(sk_X509_value(chain, 0));
	ck_assert_int_eq(X509_check_ca(sk_X509_value(chain, 0)), 1);
	/* the token has the key (its public half) under that label */
	ck_assert_int_eq(tu_sh(NULL, "SOFTHSM2_CONF='%s' pkcs11-tool --module "
	    "'%s' --token-label microca --list-objects --type pubkey "
	    "2>/dev/null | grep -q 'label: *%s'", path("dn/softhsm2.conf"),
	    getenv("SOFTHSM2_MODULE"), label), 0);

	/*
	 * The Micro CA's workers pick the generation up without a restart:
	 * a device certificate from the new intermediate, within a bound.
	 */
	(void)snprintf(root, sizeof(root), "%s", path("dn/root.pem"));
	memset(&e, 0, sizeof(e));
	e.host = "127.0.0.1";
	e.port = W.dn_port;
	e.label = "device";
	e.tls.cafile = root;
	e.tls.certfile = path("dn/boot.pem");
	e.tls.keyfile = path("dn/boot.key");
	e.connect_timeout = 30;
	e.timeout = 90;
	csr = new_csr(&k, "renewed-device-1");
	for (ms = 0; ms < POLL_MAX; ms += POLL_STEP) {
		e.tls.certfile = path("dn/boot.pem");
		e.tls.keyfile = path("dn/boot.key");
		rc = mca_estc_enroll(&e, 0, csr, &res, &d);
		ck_assert_msg(rc == 0, "%s", d.msg);
		if (X509_NAME_cmp(X509_get_issuer_name(res.cert), want) == 0)
			break;
		mca_estc_result_free(&res);
		(void)usleep(POLL_STEP * 1000);
	}
	ck_assert_msg(ms < POLL_MAX, "the Micro CA still issues from its old "
	    "intermediate after %d ms", POLL_MAX);
	ck_assert_int_eq(mca_pem_write_cert(res.cert, &pem), 0);
	ck_assert_int_eq(tu_write(path("device.pem"), (const char *)pem.data,
	    pem.len), 0);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' verify -CAfile "
	    "up/root.pem -untrusted dn-int.pem device.pem", W.dir,
	    tu_openssl()), 0);
	mca_estc_result_free(&res);
	X509_REQ_free(csr);
	EVP_PKEY_free(k);
	sk_X509_pop_free(chain, X509_free);

	/* --status: the new one, from the ledger */
	ck_assert_int_eq(renew(&out, "--status"), 0);
	ASSERT_HAS(&out, "intermediate  CN=renewed intermediate,"
	    "O=microca test,C=DE");
	ck_assert_msg(strstr(mca_buf_str(&out), label) != NULL, "%s",
	    mca_buf_str(&out));
	mca_buf_free(&out);
	mca_buf_free(&pem);
}
END_TEST

/* Due, but checked a moment ago: the interval keeps the run short. */
START_TEST(test_interval)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	struct dn	 c;

	dn_defaults(&c);
	c.reenroll = 36500;
	write_dn(&c);
	ck_assert_int_eq(renew(&out, "--debugMode"), 0);
	ASSERT_HAS(&out, "checked less than 1440 minutes ago");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM ca_generations"), 1);
	ck_assert_int_eq(renew(&out, "--dry-run"), 0);
	ASSERT_HAS(&out, "nothing would be done: the next check is in");
	mca_buf_free(&out);
}
END_TEST

/* Another run holds the lock: 75, nothing done. */
START_TEST(test_lock)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	struct mca_lock	*lk = NULL;
	struct mca_diag	 d;

	ck_assert_msg(mca_lock_take(path("dn-db/microca-renew.lock"), &lk,
	    &d) == 0, "%s", d.msg);
	ck_assert_int_eq(renew(&out, "--force intermediate"), 75);
	mca_lock_release(lk);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM ca_generations"), 1);
	mca_buf_free(&out);
}
END_TEST

/* Forced again: a second generation with a new key; the first retired. */
START_TEST(test_rekey)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	struct dn	 c;
	char		 l1[160], l2[160];

	dn_defaults(&c);
	write_dn(&c);
	sql("SELECT key_label FROM ca_generations WHERE state = 'active'",
	    l1, sizeof(l1));
	ck_assert_int_eq(renew(&out, "--force intermediate"), 0);
	ASSERT_HAS(&out, "intermediate: installed generation ");
	sql("SELECT key_label FROM ca_generations WHERE state = 'active'",
	    l2, sizeof(l2));
	ck_assert_str_ne(l1, l2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM ca_generations WHERE "
	    "state = 'retired'"), 1);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' verify -CAfile "
	    "up/root.pem -untrusted up/ca.pem dn-int.pem >/dev/null", W.dir,
	    tu_openssl()), 0);
	mca_buf_free(&out);
}
END_TEST

/* ---------------------------------------------------------------- leaves */

/* Hands what the test made to the user microca-renew runs as. */
static void
own(void)
{
	if (W.root)
		ck_assert_int_eq(tu_sh(NULL, "chown -R www-data: '%s'", W.dir),
		    0);
}

/* The certificate in cert is for the key in key (both files). */
static int
pair_ok(const char *cert, const char *key)
{
	return tu_sh(NULL, "[ \"$('%s' x509 -in '%s' -noout -pubkey)\" = "
	    "\"$('%s' pkey -in '%s' -pubout)\" ]", tu_openssl(), path(cert),
	    tu_openssl(), path(key)) == 0;
}

/* cert verifies to the upstream's root. */
static int
verifies(const char *cert)
{
	return tu_sh(NULL, "cd '%s' && '%s' verify -CAfile up/root.pem "
	    "-untrusted up/ca.pem '%s' >/dev/null", W.dir, tu_openssl(),
	    cert) == 0;
}

/* The mtls_server_cert_config block with a key file and script. */
static void
server_block(char *buf, size_t len, const char *script, int timeout)
{
	(void)snprintf(buf, len, ",\n \"mtls_server_cert_config\": {\n"
	    "  \"is_private_key_label_required\": false,\n"
	    "  \"mtls_server_cert_path\": \"%s/srv/server.pem\",\n"
	    "  \"mtls_server_key_path\": \"%s/srv/server.key\",\n"
	    "  \"reenrollment_trigger_before_no_of_days_of_expiry\": 5%s%s%s,\n"
	    "  \"restart_script_timeout_seconds\": %d }", W.dir, W.dir,
	    script != NULL ? ",\n  \"trigger_server_restart_script\": \"" :
	    "", script != NULL ? script : "", script != NULL ? "\"" : "",
	    timeout);
}

static void
scripts(void)
{
	ck_assert_int_eq(tu_writef(path("hook-ok.sh"), "#!/bin/sh\n"
	    "printf '%%s %%s %%s %%s\\n' \"$MICROCA_RENEW_JOB\" "
	    "\"$MICROCA_CERT_PATH\" \"$MICROCA_KEY\" \"${HOME:-nohome}\" "
	    "> \"$1\"\nexit 0\n"), 0);
	ck_assert_int_eq(tu_writef(path("hook-3.sh"), "#!/bin/sh\nexit 3\n"),
	    0);
	/* a child in its group, which the timeout must take too */
	ck_assert_int_eq(tu_writef(path("hook-hang.sh"), "#!/bin/sh\n"
	    "sleep 600 &\necho $! > \"$1\"\nwait\n"), 0);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && chmod 755 hook-ok.sh "
	    "hook-3.sh hook-hang.sh && mkdir -p srv srv2 dev cl", W.dir), 0);
	own();
}

/*
 * The mTLS server certificate, key in a file: the first enrollment,
 * the restart script with its environment, a new key each renewal.
 */
START_TEST(test_server)
{
	struct mca_buf	 out = MCA_BUF_INIT, m = MCA_BUF_INIT;
	struct dn	 c;
	char		 blk[2048], cmd[1200], k1[80], k2[80];
	struct stat	 sb;

	scripts();
	dn_defaults(&c);
	c.rlabel = "tls";
	(void)snprintf(cmd, sizeof(cmd), "%s %s", path("hook-ok.sh"),
	    path("marker"));
	server_block(blk, sizeof(blk), cmd, 30);
	c.extra = blk;
	write_dn(&c);
	ck_assert_int_eq(renew(&out, "--status"), 0);
	ASSERT_HAS(&out, "due: certificate missing or unreadable");
	ASSERT_HAS(&out, "srv/server.key");
	ck_assert_int_eq(renew(&out, "--dry-run --force mtls_server"), 0);
	ASSERT_HAS(&out, "mtls_server: would make a new key file beside the "
	    "old one, and enroll its request");
	ASSERT_HAS(&out, "/.well-known/est/tls/simpleenroll");
	ASSERT_HAS(&out, "mtls_server: would then run ");
	ck_assert_int_ne(access(path("srv/server.pem"), F_OK), 0);

	ck_assert_int_eq(renew(&out, "--force mtls_server"), 0);
	ASSERT_HAS(&out, "mtls_server: installed serial ");
	ASSERT_HAS(&out, "trigger_server_restart_script exited with status 0");
	ck_assert(pair_ok("srv/server.pem", "srv/server.key"));
	ck_assert(verifies("srv/server.pem"));
	ck_assert_int_eq(stat(path("srv/server.key"), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_ne(access(path("srv/server.key.new"), F_OK), 0);
	ck_assert_int_ne(access(path("srv/server.pem.new"), F_OK), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending"), 0);
	/* the script ran, without a shell's or our environment */
	ck_assert_int_eq(tu_read(path("marker"), &m), 0);
	(void)snprintf(cmd, sizeof(cmd), "mtls_server %s file:%s nohome\n",
	    path("srv/server.pem"), path("srv/server.key"));
	ck_assert_str_eq(mca_buf_str(&m), cmd);
	ck_assert_int_eq(tu_sh(NULL, "'%s' x509 -in '%s' -noout -ext "
	    "extendedKeyUsage | grep -q 'TLS Web Server'", tu_openssl(),
	    path("srv/server.pem")), 0);

	/* --status: present, not due; then a rekey */
	ck_assert_int_eq(renew(&out, "--status"), 0);
	ASSERT_HAS(&out, "not due: ");
	ASSERT_HAS(&out, "days left, renewed 5 days before expiry");
	file_hash(path("srv/server.key"), k1, sizeof(k1));
	ck_assert_int_eq(renew(&out, "--force mtls_server"), 0);
	file_hash(path("srv/server.key"), k2, sizeof(k2));
	ck_assert_str_ne(k1, k2);
	ck_assert(pair_ok("srv/server.pem", "srv/server.key"));
	mca_buf_free(&out);
	mca_buf_free(&m);
}
END_TEST

/* Whether process pid is gone (or a zombie nobody reaps). */
static int
gone(long pid)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	char		 p[64];
	const char	*s;
	int		 rc;

	(void)snprintf(p, sizeof(p), "/proc/%ld/stat", pid);
	if (tu_read(p, &b) != 0) {
		mca_buf_free(&b);
		return 1;
	}
	s = strrchr(mca_buf_str(&b), ')');
	rc = s != NULL && s[1] == ' ' && s[2] == 'Z';
	mca_buf_free(&b);
	return rc;
}

/*
 * The restart script failing: exit 3, then hanging past its timeout
 * (killed with its child): exit 1 each time, the new certificate kept.
 * A relative path is refused. A certificate without serverAuth is
 * refused before anything changes.
 */
START_TEST(test_server_script)
{
	struct mca_buf	 out = MCA_BUF_INIT, pid = MCA_BUF_INIT;
	struct dn	 c;
	char		 blk[2048], cmd[1200], before[80], after[80];
	int		 ms;

	dn_defaults(&c);
	c.rlabel = "tls";
	c.extra = blk;
	server_block(blk, sizeof(blk), path("hook-3.sh"), 30);
	write_dn(&c);
	file_hash(path("srv/server.pem"), before, sizeof(before));
	ck_assert_int_eq(renew(&out, "--force mtls_server"), 1);
	ASSERT_HAS(&out, "mtls_server: installed serial ");
	ASSERT_HAS(&out, "the new certificate is installed, but "
	    "trigger_server_restart_script failed: ");
	ASSERT_HAS(&out, "hook-3.sh: exited with status 3");
	file_hash(path("srv/server.pem"), after, sizeof(after));
	ck_assert_str_ne(before, after);
	ck_assert(pair_ok("srv/server.pem", "srv/server.key"));
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending"), 0);

	(void)snprintf(cmd, sizeof(cmd), "%s %s", path("hook-hang.sh"),
	    path("hang.pid"));
	server_block(blk, sizeof(blk), cmd, 1);
	write_dn(&c);
	ck_assert_int_eq(renew(&out, "--force mtls_server"), 1);
	ASSERT_HAS(&out, "hook-hang.sh: still running after 1 s: its process "
	    "group was killed");
	file_hash(path("srv/server.pem"), before, sizeof(before));
	ck_assert_str_ne(before, after);
	ck_assert(pair_ok("srv/server.pem", "srv/server.key"));
	ck_assert_int_eq(tu_read(path("hang.pid"), &pid), 0);
	for (ms = 0; ms < POLL_MAX && !gone(atol(mca_buf_str(&pid)));
	    ms += POLL_STEP)
		(void)usleep(POLL_STEP * 1000);
	ck_assert_msg(ms < POLL_MAX, "the script's child %s still runs",
	    mca_buf_str(&pid));

	server_block(blk, sizeof(blk), "hook-ok.sh", 30);
	write_dn(&c);
	ck_assert_int_eq(renew(&out, "--force mtls_server"), 1);
	ASSERT_HAS(&out, "hook-ok.sh: not an absolute path");

	/* "device" issues clientAuth only: refused, nothing changes */
	c.rlabel = "device";
	server_block(blk, sizeof(blk), NULL, 30);
	write_dn(&c);
	file_hash(path("srv/server.pem"), before, sizeof(before));
	ck_assert_int_eq(renew(&out, "--force mtls_server"), 1);
	ASSERT_HAS(&out, "mtls_server: renewal failed, the certificate in "
	    "use stays");
	ASSERT_HAS(&out, "is refused: extendedKeyUsage without serverAuth");
	file_hash(path("srv/server.pem"), after, sizeof(after));
	ck_assert_str_eq(before, after);
	ck_assert(pair_ok("srv/server.pem", "srv/server.key"));
	mca_buf_free(&out);
	mca_buf_free(&pid);
}
END_TEST

/* The token's keys labelled base or base-<time>, one per line. */
static void
token_labels(const char *base, struct mca_buf *out)
{
	mca_buf_reset(out);
	ck_assert_int_eq(tu_sh(out, "SOFTHSM2_CONF='%s' pkcs11-tool --module "
	    "'%s' --token-label microca --login --pin 1234 --list-objects "
	    "--type privkey 2>/dev/null | sed -n 's/^ *label: *//p' | "
	    "grep '^%s' || true", path("dn/softhsm2.conf"),
	    getenv("SOFTHSM2_MODULE"), base), 0);
}

static int
lines(const struct mca_buf *b)
{
	const char	*s;
	int		 n = 0;

	for (s = mca_buf_str(b); *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/*
 * The mTLS server key in the token: a new key under LABEL-<time> each
 * renewal, the one it replaced superseded, then removed from the token.
 */
START_TEST(test_server_token)
{
	struct mca_buf	 out = MCA_BUF_INIT, t = MCA_BUF_INIT;
	struct dn	 c;
	char		 blk[2048], l1[160], l2[160];

	dn_defaults(&c);
	c.rlabel = "tls";
	(void)snprintf(blk, sizeof(blk), ",\n \"mtls_server_cert_config\": {\n"
	    "  \"is_private_key_label_required\": true,\n"
	    "  \"mtls_server_cert_path\": \"%s/srv2/server.pem\",\n"
	    "  \"mtls_server_key_label\": \"tls-server\" }", W.dir);
	c.extra = blk;
	write_dn(&c);
	ck_assert_int_eq(renew(&out, "--force mtls_server"), 0);
	ASSERT_HAS(&out, "mtls_server: installed serial ");
	ASSERT_HAS(&out, "key tls-server-");
	token_labels("tls-server", &t);
	ck_assert_int_eq(lines(&t), 1);
	(void)snprintf(l1, sizeof(l1), "%.*s", (int)strcspn(mca_buf_str(&t),
	    "\n"), mca_buf_str(&t));
	ck_assert_uint_eq(strlen(l1), strlen("tls-server-") + 14);
	ck_assert(verifies("srv2/server.pem"));
	ck_assert_int_eq(renew(&out, "--status"), 0);
	ASSERT_HAS(&out, "token:tls-server");

	ck_assert_int_eq(renew(&out, "--force mtls_server"), 0);
	token_labels("tls-server", &t);
	ck_assert_int_eq(lines(&t), 2);
	(void)snprintf(blk, sizeof(blk), "SELECT count(*) FROM key_superseded "
	    "WHERE key_label = '%s'", l1);
	ck_assert_int_eq(sql_int(blk), 1);
	/* the next run that opens the token removes it */
	ck_assert_int_eq(renew(&out, "--force mtls_server"), 0);
	ASSERT_HAS(&out, "1 superseded key(s) removed from the token");
	/* (a label freed so may be taken again within the same second) */
	token_labels("tls-server", &t);
	ck_assert_int_eq(lines(&t), 2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM key_superseded WHERE "
	    "key_label LIKE 'tls-server%'"), 1);
	sql("SELECT key_label FROM key_superseded WHERE key_label LIKE "
	    "'tls-server%'", l2, sizeof(l2));
	ck_assert_str_ne(l1, l2);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&t), l2));
	mca_buf_free(&out);
	mca_buf_free(&t);
}
END_TEST

/* The device certificate: subject from device_cert_config, key file. */
START_TEST(test_device)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	struct dn	 c;
	char		 blk[2048], k1[80], k2[80];
	struct stat	 sb;

	dn_defaults(&c);
	(void)snprintf(blk, sizeof(blk), ",\n \"device_cert_config\": {\n"
	    "  \"is_device_cert_required\": true,\n"
	    "  \"common_name\": \"microca-host-1\", \"organization\": "
	    "\"microca test\",\n"
	    "  \"key_type\": \"ECC\", \"key_size\": 384,\n"
	    "  \"appviewx_hostname\": \"localhost\", \"port\": %u,\n"
	    "  \"est_agent_setting_name\": \"device\",\n"
	    "  \"device_cert_path\": \"%s/dev/device.pem\",\n"
	    "  \"device_key_path\": \"%s/dev/device.key\" }", W.up_port, W.dir,
	    W.dir);
	c.extra = blk;
	write_dn(&c);
	ck_assert_int_eq(renew(&out, "--dry-run --force device"), 0);
	ASSERT_HAS(&out, "device: would make a new key file");
	ASSERT_HAS(&out, "/.well-known/est/device/simpleenroll");
	ck_assert_int_eq(renew(&out, "--force device"), 0);
	ASSERT_HAS(&out, "device: installed serial ");
	ck_assert(pair_ok("dev/device.pem", "dev/device.key"));
	ck_assert(verifies("dev/device.pem"));
	ck_assert_int_eq(tu_sh(NULL, "'%s' x509 -in '%s' -noout -subject "
	    "-text | grep -q 'CN *= *microca-host-1' && '%s' x509 -in '%s' "
	    "-noout -text | grep -q 'NIST CURVE: P-384'", tu_openssl(),
	    path("dev/device.pem"), tu_openssl(), path("dev/device.pem")), 0);
	ck_assert_int_eq(stat(path("dev/device.key"), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(renew(&out, "--status"), 0);
	ASSERT_HAS(&out, "device        CN=microca-host-1,O=microca test");
	file_hash(path("dev/device.key"), k1, sizeof(k1));
	ck_assert_int_eq(renew(&out, "--force device"), 0);
	file_hash(path("dev/device.key"), k2, sizeof(k2));
	ck_assert_str_ne(k1, k2);
	ck_assert(pair_ok("dev/device.pem", "dev/device.key"));
	mca_buf_free(&out);
}
END_TEST

/* Enrolls csr with the upstream's "tls" label as the bootstrap client. */
static void
up_enroll(X509_REQ *csr, const char *certout)
{
	struct mca_estc		 e;
	struct mca_estc_result	 res;
	struct mca_diag		 d;
	struct mca_buf		 pem = MCA_BUF_INIT;
	char			 root[1024];

	(void)snprintf(root, sizeof(root), "%s", path("up/root.pem"));
	memset(&e, 0, sizeof(e));
	e.host = "localhost";
	e.port = W.up_port;
	e.label = "tls";
	e.tls.cafile = root;
	e.tls.certfile = path("up/boot.pem");
	e.tls.keyfile = path("up/boot.key");
	e.connect_timeout = 30;
	e.timeout = 90;
	ck_assert_msg(mca_estc_enroll(&e, 0, csr, &res, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(res.state, MCA_ESTC_ISSUED);
	ck_assert_int_eq(mca_pem_write_cert(res.cert, &pem), 0);
	ck_assert_int_eq(tu_write(path(certout), (const char *)pem.data,
	    pem.len), 0);
	mca_estc_result_free(&res);
	mca_buf_free(&pem);
}

/*
 * The mTLS client certificate renews itself with /simplereenroll,
 * authenticated by itself; the next run authenticates with the new
 * pair. A refused self-renewal (403) leaves the old pair in use, and
 * the next run goes on with the same attempt.
 */
START_TEST(test_client)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	struct dn	 c;
	X509_REQ	*csr;
	EVP_PKEY	*k = NULL;
	BIO		*bio;
	char		 k1[80], k2[80], c1[80], c2[80];

	/* bootstrap: a client certificate of the upstream's, made here */
	csr = new_csr(&k, "microca-client");
	up_enroll(csr, "cl/client.pem");
	ck_assert_ptr_nonnull(bio = BIO_new(BIO_s_mem()));
	ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0,
	    NULL, NULL), 1);
	{
		char	*p;
		long	 n = BIO_get_mem_data(bio, &p);

		ck_assert_int_eq(tu_write(path("cl/client.key"), p,
		    (size_t)n), 0);
	}
	BIO_free(bio);
	X509_REQ_free(csr);
	EVP_PKEY_free(k);
	ck_assert_int_eq(chmod(path("cl/client.key"), 0600), 0);
	own();

	dn_defaults(&c);
	c.rlabel = "tls";
	c.cert = "cl/client.pem";
	c.key = "cl/client.key";
	write_dn(&c);
	ck_assert_int_eq(renew(&out, "--dry-run --force mtls_client"), 0);
	ASSERT_HAS(&out, "/.well-known/est/tls/simplereenroll");
	file_hash(path("cl/client.key"), k1, sizeof(k1));
	file_hash(path("cl/client.pem"), c1, sizeof(c1));
	ck_assert_int_eq(renew(&out, "--force mtls_client"), 0);
	ASSERT_HAS(&out, "mtls_client: installed serial ");
	file_hash(path("cl/client.key"), k2, sizeof(k2));
	file_hash(path("cl/client.pem"), c2, sizeof(c2));
	ck_assert_str_ne(k1, k2);
	ck_assert_str_ne(c1, c2);
	ck_assert(pair_ok("cl/client.pem", "cl/client.key"));
	ck_assert(verifies("cl/client.pem"));

	/*
	 * Again: the old certificate was renewed once and renews no more
	 * (cgi/simplereenroll.c), so this passes only with the new pair.
	 */
	ck_assert_int_eq(renew(&out, "--force mtls_client"), 0);
	ASSERT_HAS(&out, "mtls_client: installed serial ");
	ck_assert(pair_ok("cl/client.pem", "cl/client.key"));

	/* Refused (403: issued for "tls", not "device"): the pair stays. */
	c.rlabel = "device";
	write_dn(&c);
	file_hash(path("cl/client.key"), k1, sizeof(k1));
	file_hash(path("cl/client.pem"), c1, sizeof(c1));
	ck_assert_int_eq(renew(&out, "--force mtls_client"), 1);
	ASSERT_HAS(&out, "mtls_client: renewal failed, the certificate in use "
	    "stays");
	ASSERT_HAS(&out, "HTTP 403");
	file_hash(path("cl/client.key"), k2, sizeof(k2));
	file_hash(path("cl/client.pem"), c2, sizeof(c2));
	ck_assert_str_eq(k1, k2);
	ck_assert_str_eq(c1, c2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending WHERE "
	    "job = 'mtls_client'"), 1);
	/* the old pair still authenticates: the attempt goes on with it */
	c.rlabel = "tls";
	write_dn(&c);
	ck_assert_int_eq(renew(&out, "--force mtls_client"), 0);
	ASSERT_HAS(&out, "(resumed)");
	ck_assert(pair_ok("cl/client.pem", "cl/client.key"));
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending WHERE "
	    "job = 'mtls_client'"), 0);
	mca_buf_free(&out);
}
END_TEST

/*
 * A run stopped between the key's rename and the certificate's: the
 * next run completes it before it talks to the upstream.
 */
START_TEST(test_client_interrupted)
{
	struct mca_buf	 out = MCA_BUF_INIT, pem = MCA_BUF_INIT;
	struct dn	 c;
	X509_REQ	*csr = NULL;
	BIO		*bio;
	char		 q[1024];

	/* an attempt in flight: refused once, so it stays pending */
	dn_defaults(&c);
	c.rlabel = "device";
	c.cert = "cl/client.pem";
	c.key = "cl/client.key";
	write_dn(&c);
	ck_assert_int_eq(renew(&out, "--force mtls_client"), 1);
	ck_assert_int_eq(access(path("cl/client.key.new"), F_OK), 0);

	/* its certificate, as a run killed after the key's rename left it */
	ck_assert_int_eq(tu_sh(&pem, "'%s' -batch '%s' \"SELECT csr_pem FROM "
	    "renew_pending WHERE job = 'mtls_client'\"",
	    getenv("SQLITE3") != NULL ? getenv("SQLITE3") : "sqlite3",
	    path("dn-db/ledger.db")), 0);
	ck_assert_ptr_nonnull(bio = BIO_new_mem_buf(pem.data, (int)pem.len));
	ck_assert_ptr_nonnull(csr = PEM_read_bio_X509_REQ(bio, NULL, NULL,
	    NULL));
	BIO_free(bio);
	up_enroll(csr, "cl/client.pem.new");
	X509_REQ_free(csr);
	ck_assert_int_eq(rename(path("cl/client.key.new"),
	    path("cl/client.key")), 0);
	own();
	ck_assert(!pair_ok("cl/client.pem", "cl/client.key"));

	c.rlabel = "tls";
	write_dn(&c);
	ck_assert_int_eq(renew(&out, ""), 0);
	ASSERT_HAS(&out, "mtls_client: completed the install an earlier run "
	    "stopped in");
	ck_assert(pair_ok("cl/client.pem", "cl/client.key"));
	ck_assert_int_ne(access(path("cl/client.pem.new"), F_OK), 0);
	(void)snprintf(q, sizeof(q), "SELECT count(*) FROM renew_pending "
	    "WHERE job = 'mtls_client'");
	ck_assert_int_eq(sql_int(q), 0);
	/* and the completed pair renews itself */
	ck_assert_int_eq(renew(&out, "--force mtls_client"), 0);
	ASSERT_HAS(&out, "mtls_client: installed serial ");
	ck_assert(pair_ok("cl/client.pem", "cl/client.key"));
	mca_buf_free(&out);
	mca_buf_free(&pem);
}
END_TEST

Suite *
renew_suite(void)
{
	Suite	*s = suite_create("renew");
	TCase	*tc = tcase_create("lighttpd");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, WEB_TIMEOUT);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_gate_dry);
	tcase_add_test(tc, test_faults);
	tcase_add_test(tc, test_enroll);
	tcase_add_test(tc, test_interval);
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_rekey);
	tcase_add_test(tc, test_server);
	tcase_add_test(tc, test_server_script);
	tcase_add_test(tc, test_server_token);
	tcase_add_test(tc, test_device);
	tcase_add_test(tc, test_client);
	tcase_add_test(tc, test_client_interrupted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(renew_suite());
}
