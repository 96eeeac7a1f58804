/*
 * lib/estc.c and lib/httpc.c against real servers. The upstream is a
 * second microca: lighttpd with microca-est behind it, started by
 * scripts/microca-web on a free loopback port, the CA key in a SoftHSMv2
 * token, the PKI from tests/pki/mkpki.sh. Through it: /cacerts, enrollment
 * with an HTTP Basic passcode and with a bootstrap certificate,
 * re-enrollment with the certificate issued (its key as an EVP_PKEY, as a
 * token key will be), and the refusals: a server not trusted, a wrong
 * host name, an unknown label, a foreign client certificate, a body over
 * its cap.
 *
 * What lighttpd cannot be made to answer (202 with Retry-After, a
 * redirect, garbage, a server that never answers) comes from a tiny HTTPS
 * responder on loopback in a child process: one connection, one canned
 * answer, over OpenSSL.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "buf.h"
#include "err.h"
#include "estc.h"
#include "httpc.h"
#include "pem.h"
#include "testutil.h"
#include "tlsserv.h"

Suite	*estc_web_suite(void);

#define WEB_TIMEOUT	120

struct web {
	char		*dir;		/* the test's files; ledger; pki/ */
	unsigned	 port;
	int		 root;		/* running as root: workers as www-data */
};

static struct web	 W;

/*
 * A file in the test directory. The name lives until 64 more calls: a
 * test that keeps one longer (as struct mca_estc does) copies it.
 */
static char *
path(const char *name)
{
	static char	 p[64][1024];
	static int	 i;

	i = (i + 1) % 64;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", W.dir, name);
	return p[i];
}

/* ---------------------------------------------------------------- setup */

static void
write_config(void)
{
	ck_assert_int_eq(tu_writef(path("config.json"),
	    "{\n"
	    " \"intermediate_cert_config\": { \"hash_function\": \"SHA256\" },\n"
	    " \"intermediate_cert_path\": \"%s/pki/chain.pem\",\n"
	    " \"intermediate_private_key_label_in_pkcs11\": \"microca-ca\",\n"
	    " \"pkcs11_library\": \"%s\",\n"
	    " \"pkcs11_library_pin\": \"1234\",\n"
	    " \"mtls_ca_cert\": \"%s/pki/boot-ca.pem\",\n"
	    " \"ledger_db_path\": \"%s/ledger.db\",\n"
	    " \"issued_certs_dir\": \"%s/IssuedCerts\",\n"
	    " \"default_end_point_name\": \"device\",\n"
	    " \"end_certificate_config_1\": {\n"
	    "  \"end_point_name\": \"device\", \"validity_in_days\": 30,\n"
	    "  \"extended_key_usage_list\": [\"1.3.6.1.5.5.7.3.2\"],\n"
	    "  \"key_usage\": { \"digital_signature\": true } },\n"
	    " \"end_certificate_config_2\": {\n"
	    "  \"end_point_name\": \"pass\", \"validity_in_days\": 30,\n"
	    "  \"auth_methods\": [\"certificate\", \"passcode\"] }\n"
	    "}\n", W.dir, getenv("SOFTHSM2_MODULE"), W.dir, W.dir, W.dir), 0);
	ck_assert_int_eq(chmod(path("config.json"), 0600), 0);
}

static void
web_start(void)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	const char	*mod = getenv("SOFTHSM2_MODULE"), *p;
	char		*end;
	unsigned long	 port;
	int		 rc;

	memset(&W, 0, sizeof(W));
	W.dir = tu_mkdtemp("estc");
	W.root = geteuid() == 0;
	ck_assert_msg(mod != NULL && *mod != '\0', "SOFTHSM2_MODULE not set");
	ck_assert_int_eq(tu_mkpki(path("pki"), "hsm-ec"), 0);
	write_config();
	/*
	 * Client certificates from the bootstrap CA, and those we issue
	 * (re-enrollment).
	 */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && cat pki/boot-ca.pem "
	    "pki/chain.pem > client-ca.pem", W.dir), 0);
	if (W.root)
		ck_assert_int_eq(tu_sh(NULL, "mkdir '%s/bin' && cp "
		    "'%s/microca-est' '%s/microca-admin' '%s/bin/' && "
		    "chmod 755 '%s' && chown -R www-data: '%s'", W.dir,
		    tu_builddir(), tu_builddir(), W.dir, W.dir, W.dir), 0);
	rc = tu_sh(&out,
	    "MICROCA_EST='%s/microca-est' MICROCA_EST_ARGS='--logFile "
	    "%s/microca.log --debugMode' MICROCA_CONFIG='%s/config.json' "
	    "SOFTHSM2_CONF='%s/pki/softhsm2.conf' "
	    "MCA_WEB_TLS_CERT='%s/pki/server.pem' "
	    "MCA_WEB_TLS_KEY='%s/pki/server.key' "
	    "MCA_WEB_CLIENT_CA='%s/client-ca.pem' MCA_WEB_WORKERS=1 "
	    "MCA_WEB_OWNER_PID=%ld MCA_WEB_CONF_DIR='%s/conf-examples' "
	    "sh '%s/scripts/microca-web' start lighttpd '%s/web'",
	    W.root ? path("bin") : tu_builddir(), W.dir, W.dir, W.dir, W.dir,
	    W.dir, W.dir, (long)getpid(), tu_srcdir(), tu_srcdir(), W.dir);
	ck_assert_msg(rc == 0, "microca-web start lighttpd failed (%d)", rc);
	/* "https://127.0.0.1:PORT" */
	ck_assert_ptr_nonnull(p = strrchr(mca_buf_str(&out), ':'));
	port = strtoul(p + 1, &end, 10);
	ck_assert_msg(port > 0 && port < 65536 && (*end == '\n' ||
	    *end == '\0'), "url: %s", mca_buf_str(&out));
	W.port = (unsigned)port;
	mca_buf_free(&out);
}

static void
web_stop(void)
{
	if (W.dir == NULL)
		return;
	(void)tu_sh(NULL, "sh '%s/scripts/microca-web' stop '%s/web'",
	    tu_srcdir(), W.dir);
	tu_rmtree(W.dir);
	free(W.dir);
	W.dir = NULL;
}

/* ---------------------------------------------------------------- helpers */

/* The upstream as the client sees it: trusting the test root. */
static void
upstream(struct mca_estc *e, const char *label)
{
	static char	 root[1024];

	(void)snprintf(root, sizeof(root), "%s", path("pki/root.pem"));
	memset(e, 0, sizeof(*e));
	e->host = "127.0.0.1";
	e->port = W.port;
	e->label = label;
	e->tls.cafile = root;
	e->connect_timeout = 30;
	e->timeout = 90;
}

/* A new EC P-256 key. */
static EVP_PKEY *
new_key(void)
{
	EVP_PKEY	*k;

	ck_assert_ptr_nonnull(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	return k;
}

/* A CSR for k with CN=cn, signed by k. */
static X509_REQ *
new_csr(EVP_PKEY *k, const char *cn)
{
	X509_REQ	*r;
	X509_NAME	*n;

	ck_assert_ptr_nonnull(r = X509_REQ_new());
	ck_assert_int_eq(X509_REQ_set_version(r, 0), 1);
	n = X509_REQ_get_subject_name(r);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	ck_assert_int_eq(X509_REQ_set_pubkey(r, k), 1);
	ck_assert_int_gt(X509_REQ_sign(r, k, EVP_sha256()), 0);
	return r;
}

/* Writes x as PEM to name in the test directory; its path. */
static const char *
write_cert(X509 *x, const char *name)
{
	struct mca_buf	 pem = MCA_BUF_INIT;
	const char	*p = path(name);

	ck_assert_int_eq(mca_pem_write_cert(x, &pem), 0);
	ck_assert_int_eq(tu_write(p, (const char *)pem.data, pem.len), 0);
	mca_buf_free(&pem);
	return p;
}

/* Writes k as unencrypted PKCS#8 PEM; its path. */
static const char *
write_key(EVP_PKEY *k, const char *name)
{
	const char	*p = path(name);
	FILE		*f;

	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	ck_assert_int_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	ck_assert_int_eq(fclose(f), 0);
	return p;
}

/* Asserts that x verifies to the test root through the configured chain. */
static void
assert_chains(X509 *x)
{
	STACK_OF(X509)	*roots = NULL, *chain = NULL;
	X509_STORE	*st;
	X509_STORE_CTX	*ctx;
	struct mca_diag	 d;

	ck_assert_int_eq(mca_pem_load_certs(path("pki/root.pem"), &roots, &d),
	    0);
	ck_assert_int_eq(mca_pem_load_certs(path("pki/ca.pem"), &chain, &d),
	    0);
	ck_assert_ptr_nonnull(st = X509_STORE_new());
	ck_assert_int_eq(X509_STORE_add_cert(st, sk_X509_value(roots, 0)), 1);
	ck_assert_ptr_nonnull(ctx = X509_STORE_CTX_new());
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, st, x, chain), 1);
	ck_assert_msg(X509_verify_cert(ctx) == 1, "%s",
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_pop_free(roots, X509_free);
	sk_X509_pop_free(chain, X509_free);
}

/* An issued result: for k, named cn, chaining to the root. */
static void
assert_issued(const struct mca_estc_result *res, EVP_PKEY *k, const char *cn)
{
	char	 buf[256];

	ck_assert_int_eq(res->state, MCA_ESTC_ISSUED);
	ck_assert_ptr_nonnull(res->cert);
	ck_assert_ptr_nonnull(res->chain);
	ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(res->cert), k), 1);
	ck_assert_int_gt(X509_NAME_get_text_by_NID(X509_get_subject_name(
	    res->cert), NID_commonName, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, cn);
	assert_chains(res->cert);
}

/* microca-admin passcode add on label: "ID.SECRET" into pc. */
static void
new_passcode(const char *label, char *pc, size_t len)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	const char	*p;

	ck_assert_msg(tu_sh(&out, "%s'%s/microca-admin' --config "
	    "'%s/config.json' passcode add --label %s",
	    W.root ? "runuser -u www-data -- " : "",
	    W.root ? path("bin") : tu_builddir(), W.dir, label) == 0,
	    "microca-admin passcode add failed");
	ck_assert_ptr_nonnull(p = strstr(mca_buf_str(&out), "passcode "));
	p += strlen("passcode ");
	(void)snprintf(pc, len, "%.*s", (int)strcspn(p, "\n"), p);
	ck_assert_uint_eq(strlen(pc), 35);
	mca_buf_free(&out);
}

/* Asserts rc and that d holds want. */
#define ASSERT_FAILS(call, rc_want, want) do {				\
	mca_diag_clear(&d);						\
	rc = (call);							\
	ck_assert_msg(rc == (rc_want), "%s: %d (%s), not %d", #call,	\
	    rc, d.msg, (rc_want));					\
	ck_assert_msg(strstr(d.msg, (want)) != NULL,			\
	    "\"%s\" not in \"%s\"", (want), d.msg);			\
} while (0)

/* ---------------------------------------------------------------- tests */

/* /cacerts, labelled and not: the chain microca is configured with. */
START_TEST(test_cacerts)
{
	static const char *const labels[] = { "device", "", NULL };
	struct mca_estc	 e;
	struct mca_diag	 d;
	STACK_OF(X509)	*got = NULL, *want = NULL;
	int		 i, j, found;
	size_t		 l;

	ck_assert_int_eq(mca_pem_load_certs(path("pki/chain.pem"), &want, &d),
	    0);
	for (l = 0; l < 3; l++) {
		upstream(&e, labels[l]);
		mca_diag_clear(&d);
		ck_assert_msg(mca_estc_cacerts(&e, &got, &d) == 0, "%s", d.msg);
		ck_assert_int_eq(sk_X509_num(got), sk_X509_num(want));
		for (i = 0; i < sk_X509_num(want); i++) {
			found = 0;
			for (j = 0; j < sk_X509_num(got); j++)
				found |= X509_cmp(sk_X509_value(want, i),
				    sk_X509_value(got, j)) == 0;
			ck_assert_msg(found, "configured certificate %d not "
			    "served", i);
		}
		sk_X509_pop_free(got, X509_free);
		got = NULL;
	}
	/* The host name as the certificate names it, through DNS. */
	upstream(&e, "device");
	e.host = "localhost";
	ck_assert_msg(mca_estc_cacerts(&e, &got, &d) == 0, "%s", d.msg);
	sk_X509_pop_free(got, X509_free);
	sk_X509_pop_free(want, X509_free);
}
END_TEST

/* simpleenroll with an HTTP Basic passcode: once. */
START_TEST(test_enroll_passcode)
{
	struct mca_estc		 e;
	struct mca_estc_result	 res;
	struct mca_diag		 d;
	EVP_PKEY		*k = new_key();
	X509_REQ		*csr = new_csr(k, "estc-pass-1");
	char			 pc[64];
	int			 rc;

	new_passcode("pass", pc, sizeof(pc));
	upstream(&e, "pass");
	e.user = "estc";
	e.pass = pc;
	mca_diag_clear(&d);
	ck_assert_msg(mca_estc_enroll(&e, 0, csr, &res, &d) == 0, "%s", d.msg);
	assert_issued(&res, k, "estc-pass-1");
	mca_estc_result_free(&res);
	/* Used up: 401, and the secret in no message. */
	ASSERT_FAILS(mca_estc_enroll(&e, 0, csr, &res, &d), MCA_ERR_AUTH,
	    "/.well-known/est/pass/simpleenroll: HTTP 401");
	ck_assert_ptr_null(strstr(d.msg, pc + 9));
	ck_assert_ptr_null(res.cert);
	/* No credentials at all. */
	e.user = e.pass = NULL;
	ASSERT_FAILS(mca_estc_enroll(&e, 0, csr, &res, &d), MCA_ERR_AUTH,
	    "HTTP 401");
	X509_REQ_free(csr);
	EVP_PKEY_free(k);
}
END_TEST

/*
 * simpleenroll with the bootstrap certificate (key file), then
 * simplereenroll with the certificate issued, its key handed over as an
 * EVP_PKEY (the token path), renewing and then rekeying.
 */
START_TEST(test_enroll_cert)
{
	struct mca_estc		 e;
	struct mca_estc_result	 res, res2;
	struct mca_diag		 d;
	EVP_PKEY		*k = new_key(), *k2 = new_key();
	X509_REQ		*csr = new_csr(k, "estc-dev-1"), *csr2;

	upstream(&e, "device");
	e.tls.certfile = path("pki/boot.pem");
	e.tls.keyfile = path("pki/boot.key");
	mca_diag_clear(&d);
	ck_assert_msg(mca_estc_enroll(&e, 0, csr, &res, &d) == 0, "%s", d.msg);
	assert_issued(&res, k, "estc-dev-1");

	/* Renew: the same key, authenticated by the certificate itself. */
	e.tls.certfile = write_cert(res.cert, "dev1.pem");
	e.tls.keyfile = NULL;
	e.tls.key = k;
	ck_assert_msg(mca_estc_enroll(&e, 1, csr, &res2, &d) == 0, "%s",
	    d.msg);
	assert_issued(&res2, k, "estc-dev-1");
	ck_assert_int_ne(ASN1_INTEGER_cmp(X509_get0_serialNumber(res.cert),
	    X509_get0_serialNumber(res2.cert)), 0);
	mca_estc_result_free(&res);

	/* Rekey: a new key in the CSR, the renewed certificate in TLS. */
	e.tls.certfile = write_cert(res2.cert, "dev2.pem");
	csr2 = new_csr(k2, "estc-dev-1");
	ck_assert_msg(mca_estc_enroll(&e, 1, csr2, &res, &d) == 0, "%s",
	    d.msg);
	assert_issued(&res, k2, "estc-dev-1");
	mca_estc_result_free(&res);
	mca_estc_result_free(&res2);

	/* The same through key files. */
	e.tls.key = NULL;
	e.tls.keyfile = write_key(k, "dev1.key");
	ck_assert_msg(mca_estc_enroll(&e, 1, csr, &res, &d) == 0, "%s",
	    d.msg);
	assert_issued(&res, k, "estc-dev-1");
	mca_estc_result_free(&res);
	X509_REQ_free(csr);
	X509_REQ_free(csr2);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}
END_TEST

/* A server we do not trust, by bundle or by the system store. */
START_TEST(test_untrusted)
{
	struct mca_estc	 e;
	struct mca_diag	 d;
	STACK_OF(X509)	*got = NULL;
	int		 rc;

	upstream(&e, "device");
	e.tls.cafile = path("pki/foreign-ca.pem");
	ASSERT_FAILS(mca_estc_cacerts(&e, &got, &d), MCA_ERR_CRYPTO,
	    "SSL certificate problem");
	ck_assert_ptr_null(got);
	ck_assert_msg(strncmp(d.msg, "GET https://127.0.0.1:", 22) == 0,
	    "%s", d.msg);
	e.tls.cafile = NULL;
	ASSERT_FAILS(mca_estc_cacerts(&e, &got, &d), MCA_ERR_CRYPTO,
	    "SSL certificate problem");
	/* A CA file that is not there. */
	e.tls.cafile = path("pki/nonesuch.pem");
	ASSERT_FAILS(mca_estc_cacerts(&e, &got, &d), MCA_ERR_CONFIG,
	    "nonesuch.pem");
	ck_assert_ptr_null(got);
}
END_TEST

/* The right server under a name its certificate does not carry. */
START_TEST(test_wrong_host)
{
	struct mca_estc	 e;
	struct mca_diag	 d;
	STACK_OF(X509)	*got = NULL;
	int		 rc;

	upstream(&e, "device");
	e.host = "est.example.org";
	e.address = "127.0.0.1";
	ASSERT_FAILS(mca_estc_cacerts(&e, &got, &d), MCA_ERR_CRYPTO,
	    "est.example.org");
	ck_assert_msg(strstr(d.msg, "subject name") != NULL, "%s", d.msg);
	ck_assert_ptr_null(got);
}
END_TEST

/* An unknown label is a 404, named. */
START_TEST(test_label_404)
{
	struct mca_estc		 e;
	struct mca_estc_result	 res;
	struct mca_diag		 d;
	STACK_OF(X509)		*got = NULL;
	EVP_PKEY		*k = new_key();
	X509_REQ		*csr = new_csr(k, "estc-404");
	int			 rc;

	upstream(&e, "nosuchlabel");
	ASSERT_FAILS(mca_estc_cacerts(&e, &got, &d), MCA_ERR_NOTFOUND,
	    "/.well-known/est/nosuchlabel/cacerts: HTTP 404");
	e.tls.certfile = path("pki/boot.pem");
	e.tls.keyfile = path("pki/boot.key");
	ASSERT_FAILS(mca_estc_enroll(&e, 0, csr, &res, &d), MCA_ERR_NOTFOUND,
	    "HTTP 404");
	X509_REQ_free(csr);
	EVP_PKEY_free(k);
}
END_TEST

/* A client certificate from a CA the server does not trust: 403. */
START_TEST(test_foreign_client)
{
	struct mca_estc		 e;
	struct mca_estc_result	 res;
	struct mca_diag		 d;
	EVP_PKEY		*k = new_key();
	X509_REQ		*csr = new_csr(k, "estc-foreign");
	int			 rc;

	upstream(&e, "device");
	e.tls.certfile = path("pki/foreign.pem");
	e.tls.keyfile = path("pki/foreign.key");
	ASSERT_FAILS(mca_estc_enroll(&e, 0, csr, &res, &d), MCA_ERR_AUTH,
	    "HTTP 403");
	X509_REQ_free(csr);
	EVP_PKEY_free(k);
}
END_TEST

/* A body over the caller's cap is an error, not a short body. */
START_TEST(test_body_cap)
{
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	struct mca_httpc_tls	 tls;
	struct mca_diag		 d;
	char			 url[256];
	int			 rc;

	memset(&req, 0, sizeof(req));
	memset(&tls, 0, sizeof(tls));
	tls.cafile = path("pki/root.pem");
	(void)snprintf(url, sizeof(url), "https://127.0.0.1:%u/.well-known/"
	    "est/cacerts", W.port);
	req.method = "GET";
	req.url = url;
	req.tls = &tls;
	req.body_max = 100;
	ASSERT_FAILS(mca_httpc_do(&req, &resp, &d), MCA_ERR_TOOBIG,
	    "over its cap");
	ck_assert_uint_eq(resp.body.len, 0);
	/* Enough room: the whole body, and its headers. */
	req.body_max = 0;
	ck_assert_msg(mca_httpc_do(&req, &resp, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_uint_gt(resp.body.len, 100);
	ck_assert_ptr_nonnull(strstr(resp.ctype, "application/pkcs7-mime"));
	mca_httpc_resp_free(&resp);
}
END_TEST

/* ------------------------------------------------------- canned responder */

/*
 * Listens on a free loopback port and forks a child that serves one
 * TLS connection with the test server's certificate: it reads the
 * request (headers, and a body by Content-Length) into req.txt, then
 * writes answer (never, when answer is NULL: it holds the connection).
 * Returns the port; *pid is the child.
 */
static unsigned
responder(const char *answer, pid_t *pid)
{
	SSL_CTX		*ctx;
	SSL		*ssl;
	char		 buf[16384];
	unsigned	 port;
	long		 got;
	int		 s, c;
	FILE		*f;

	s = ts_listen(&port);
	ck_assert_int_ge(*pid = fork(), 0);
	if (*pid > 0) {
		close(s);
		return port;
	}
	/* The child: never outlives the test by long. */
	alarm(WEB_TIMEOUT);
	if (answer == NULL) {
		/* Accepted by the kernel, never answered. */
		pause();
		_exit(0);
	}
	if ((ctx = ts_server_ctx(path("pki/server.pem"),
	    path("pki/server.key"))) == NULL ||
	    (ssl = ts_accept(s, ctx, &c)) == NULL)
		_exit(2);
	if ((got = ts_read_request(ssl, buf, sizeof(buf), NULL)) < 0)
		_exit(3);
	if ((f = fopen(path("req.txt"), "w")) == NULL ||
	    fwrite(buf, 1, (size_t)got, f) != (size_t)got || fclose(f) != 0)
		_exit(4);
	if (ts_write(ssl, answer, strlen(answer)) != 0)
		_exit(5);
	ts_close(ssl, c);
	_exit(0);
}

/* Reaps the responder; its exit status must be 0 (or it was killed). */
static void
responder_done(pid_t pid, int kill_it)
{
	int	 st;

	if (kill_it)
		(void)kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	if (!kill_it)
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "responder status %d", st);
}

static const struct {
	const char	*answer;
	int		 rc;		/* of mca_estc_enroll() */
	long		 wait;		/* PENDING: the Retry-After */
	const char	*msg;
} canned[] = {
	{ "HTTP/1.1 202 Accepted\r\nRetry-After: 7\r\n"
	    "Content-Length: 0\r\n\r\n", 0, 7, NULL },
	{ "HTTP/1.1 202 Accepted\r\nRetry-After:   3600  \r\n"
	    "Content-Length: 0\r\n\r\n", 0, 3600, NULL },
	{ "HTTP/1.1 202 Accepted\r\nRetry-After: Sun, 06 Nov 1994 08:49:37 "
	    "GMT\r\nContent-Length: 0\r\n\r\n", 0, 0, NULL },
	{ "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
	    MCA_ERR_INVAL, 0, "HTTP 202 with no valid Retry-After \"\"" },
	{ "HTTP/1.1 202 Accepted\r\nRetry-After: later\r\n"
	    "Content-Length: 0\r\n\r\n", MCA_ERR_INVAL, 0,
	    "no valid Retry-After \"later\"" },
	{ "HTTP/1.1 202 Accepted\r\nRetry-After: 99999999999\r\n"
	    "Content-Length: 0\r\n\r\n", MCA_ERR_TOOBIG, 0,
	    "too long a Retry-After" },
	/* A redirect is not followed. */
	{ "HTTP/1.1 302 Found\r\nLocation: https://127.0.0.1:1/x\r\n"
	    "Content-Length: 0\r\n\r\n", MCA_ERR_IO, 0, "HTTP 302" },
	{ "HTTP/1.1 200 OK\r\nContent-Type: application/pkcs7-mime\r\n"
	    "Content-Length: 13\r\n\r\nnot base64 !\n", MCA_ERR_INVAL, 0,
	    "neither base64, PEM nor DER" },
	{ "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
	    "Content-Length: 6\r\n\r\n<html>", MCA_ERR_INVAL, 0,
	    "Content-Type \"text/html\", not application/pkcs7-mime" },
	{ "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 23\r\n\r\n"
	    "database \x01locked\r\nmore\n", MCA_ERR_IO, 0,
	    "HTTP 500: database locked" },
	{ "HTTP/1.1 202 Accepted\r\nRetry-After: 5\x7f\r\n"
	    "Content-Length: 0\r\n\r\n", MCA_ERR_INVAL, 0,
	    "response header Retry-After with a control character" },
};

/* What lighttpd cannot be made to answer: 202 and the oddities. */
START_TEST(test_canned)
{
	struct mca_estc		 e;
	struct mca_estc_result	 res;
	struct mca_diag		 d;
	struct mca_buf		 req = MCA_BUF_INIT;
	EVP_PKEY		*k = new_key();
	X509_REQ		*csr = new_csr(k, "estc-canned");
	pid_t			 pid;
	int			 rc;

	upstream(&e, "ca1");
	e.port = responder(canned[_i].answer, &pid);
	e.user = "microca";
	e.pass = "s3cret";
	mca_diag_clear(&d);
	rc = mca_estc_enroll(&e, 0, csr, &res, &d);
	responder_done(pid, 0);
	ck_assert_msg(rc == canned[_i].rc, "case %d: %d (%s)", _i, rc, d.msg);
	if (rc == 0) {
		ck_assert_int_eq(res.state, MCA_ESTC_PENDING);
		ck_assert_int_eq(res.retry_after, canned[_i].wait);
		ck_assert_ptr_null(res.cert);
	} else {
		ck_assert_msg(strstr(d.msg, canned[_i].msg) != NULL,
		    "case %d: \"%s\" not in \"%s\"", _i, canned[_i].msg,
		    d.msg);
		ck_assert_ptr_null(strstr(d.msg, "s3cret"));
	}
	/* What was sent: RFC 7030 4.2.1, and Basic (RFC 7617). */
	ck_assert_int_eq(tu_read(path("req.txt"), &req), 0);
#define REQLINE	"POST /.well-known/est/ca1/simpleenroll HTTP/1.1\r\n"
	ck_assert_msg(strncmp(mca_buf_str(&req), REQLINE, strlen(REQLINE)) ==
	    0, "%s", mca_buf_str(&req));
	ck_assert(strcasestr(mca_buf_str(&req), "\r\nContent-Type: "
	    "application/pkcs10\r\n") != NULL);
	/* base64 of "microca:s3cret" */
	ck_assert(strstr(mca_buf_str(&req), "\r\nAuthorization: Basic "
	    "bWljcm9jYTpzM2NyZXQ=\r\n") != NULL);
	ck_assert(strstr(mca_buf_str(&req), "\r\n\r\nMI") != NULL);
	mca_estc_result_free(&res);
	mca_buf_free(&req);
	X509_REQ_free(csr);
	EVP_PKEY_free(k);
}
END_TEST

Suite *
estc_web_suite(void)
{
	Suite	*s = suite_create("estc_web");
	TCase	*tc = tcase_create("lighttpd");

	tcase_add_unchecked_fixture(tc, web_start, web_stop);
	tcase_set_timeout(tc, WEB_TIMEOUT);
	tcase_add_test(tc, test_cacerts);
	tcase_add_test(tc, test_enroll_passcode);
	tcase_add_test(tc, test_enroll_cert);
	tcase_add_test(tc, test_untrusted);
	tcase_add_test(tc, test_wrong_host);
	tcase_add_test(tc, test_label_404);
	tcase_add_test(tc, test_foreign_client);
	tcase_add_test(tc, test_body_cap);
	tcase_add_loop_test(tc, test_canned, 0,
	    sizeof(canned) / sizeof(canned[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(estc_web_suite());
}
