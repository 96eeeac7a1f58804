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
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(renew_suite());
}
