/*
 * microca-renew against upstreams that lighttpd and microca cannot play:
 *
 *  - "avx": the intermediate through the AppViewX REST API (use_est
 *    false) from the mock gateway of tests/avxmock.c (real HTTPS on
 *    loopback, strict about what the AppViewX guides say, signing with
 *    the upstream PKI's intermediate). The key is made in a SoftHSMv2
 *    token; the result is installed as a generation, written to
 *    intermediate_cert_path and verifies to the mock's root. Faults, each
 *    one line, exit 1, the old certificate in place and the same pending
 *    key and CSR for the next run: token refused, appStatusCode, 500,
 *    garbage, a certificate that is no CA, one for another key; APIconfig
 *    missing or incomplete is exit 2. No secret in any output.
 *
 *  - "est202": an EST server that answers 202 with Retry-After (RFC 7030
 *    4.2.3): a canned HTTPS responder on loopback (tests/tlsserv.c) that
 *    answers what a file says, and once told so issues a CA certificate
 *    for the CSR it is sent (signed by the upstream PKI's intermediate).
 *    The request stays pending with its key and CSR, nothing is sent
 *    before Retry-After is over, the same CSR goes again after it; and a
 *    server that answers 202 forever costs one request a run.
 *
 * No test sleeps: time is moved in the ledger with sqlite3.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "avxmock.h"
#include "b64.h"
#include "buf.h"
#include "err.h"
#include "est_codec.h"
#include "testutil.h"
#include "tlsserv.h"

Suite	*renew_mock_suite(void);

#define SUITE_TIMEOUT	600
#define SECRET		"s3cr3t-Avx_Value-77"
#define CLIENT_ID	"microca-sa"
#define RESP_LIFE	600	/* seconds the EST responder lives at most */

struct w {
	char		*dir;
	int		 root;
	struct avxmock	 mock;
	pid_t		 resp;		/* the EST responder */
	unsigned	 resp_port;
};

static struct w	 W;

static char *
path(const char *name)
{
	static char	 p[64][1024];
	static int	 i;

	i = (i + 1) % 64;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", W.dir, name);
	return p[i];
}

/* Hands a file the test wrote to the user microca-renew runs as. */
static void
give(const char *p)
{
	if (W.root)
		ck_assert_int_eq(tu_sh(NULL, "chown www-data: '%s'", p), 0);
}

/*
 * The Micro CA's config.json: the intermediate over EST (est, at port)
 * or through AppViewX; the key made in the token; reenroll days before
 * the end (36500: due now).
 */
static void
write_dn(int est, unsigned port, int reenroll)
{
	ck_assert_int_eq(tu_writef(path("dn.json"),
	    "{\n"
	    " \"new_intermediate_cert\": true,\n"
	    " \"intermediate_cert_config\": {\n"
	    "  \"use_est\": %s, \"common_name\": \"mock intermediate\",\n"
	    "  \"organization\": \"microca test\", \"country\": \"DE\",\n"
	    "  \"key_type\": \"ECC\", \"key_size\": 256,\n"
	    "  \"hash_function\": \"SHA256\",\n"
	    "  \"appviewx_hostname\": \"localhost\", \"port\": %u,\n"
	    "  \"est_agent_setting_name\": \"\",\n"
	    "  \"reenrollment_trigger_before_no_of_days_of_expiry\": %d },\n"
	    " \"certificateRenewal_config\": {\n"
	    "  \"isRenewalOfCertificatesRequired\": true,\n"
	    "  \"renewal_check_interval_time_in_minutes\": 1440,\n"
	    "  \"appviewx_hostname\": \"localhost\", \"port\": %u,\n"
	    "  \"est_agent_setting_name\": \"\" },\n"
	    " \"upstream_ca_cert\": \"%s/up/root.pem\",\n"
	    " \"upstream_connect_timeout_seconds\": 30,\n"
	    " \"upstream_timeout_seconds\": 120,\n"
	    " \"mtls_client_auth_cert_config\": {\n"
	    "  \"is_private_key_label_required\": false,\n"
	    "  \"mtls_auth_cert_path\": \"%s/up/boot.pem\",\n"
	    "  \"mtls_auth_key_path\": \"%s/up/boot.key\" },\n"
	    " \"intermediate_cert_path\": \"%s/dn-int.pem\",\n"
	    " \"intermediate_private_key_label_in_pkcs11\": \"microca-ca\",\n"
	    " \"pkcs11_library\": \"%s\",\n"
	    " \"pkcs11_library_pin\": \"1234\",\n"
	    " \"ledger_db_path\": \"%s/dn-db/ledger.db\",\n"
	    " \"issued_certs_dir\": \"%s/dn-issued\",\n"
	    " \"end_certificate_config_1\": {\n"
	    "  \"end_point_name\": \"device\", \"validity_in_days\": 30 }\n"
	    "}\n", est ? "true" : "false", port, reenroll, port, W.dir,
	    W.dir, W.dir, W.dir, getenv("SOFTHSM2_MODULE"), W.dir, W.dir), 0);
	ck_assert_int_eq(chmod(path("dn.json"), 0600), 0);
	give(path("dn.json"));
}

/* APIconfig for the mock at port; extra is more keys, or "". */
static void
write_api(unsigned port, const char *omit, const char *extra)
{
	struct mca_buf	 b = MCA_BUF_INIT;

	ck_assert_int_eq(mca_buf_printf(&b, "{\n"
	    " \"appviewx_hostname\": \"localhost\",\n"
	    " \"appviewx_port_number\": %u,\n", port), 0);
	if (strcmp(omit, "ca_name") != 0)
		ck_assert_int_eq(mca_buf_addstr(&b,
		    " \"ca_name\": \"AppViewX\",\n"), 0);
	ck_assert_int_eq(mca_buf_printf(&b,
	    " \"ca_setting_name\": \"PKIaaS Sub-CA\",\n"
	    " \"template_name\": \"SubCA\",\n"
	    " \"issuer_name\": \"Issuing CA 1\",\n"
	    " \"intermediate_cert_validity_in_days\": 365,\n"
	    " \"appviewx_group_name\": \"microca\",\n"
	    " \"service_account_client_id\": \"" CLIENT_ID "\",\n"
	    " %s\n"
	    " \"update_azure_iot_hub_from_standalone_server\": false\n"
	    "}\n", extra[0] != '\0' ? extra :
	    "\"service_account_client_secret\": \"" SECRET "\","), 0);
	ck_assert_int_eq(tu_write(path("api.json"), mca_buf_str(&b), b.len),
	    0);
	ck_assert_int_eq(chmod(path("api.json"), 0600), 0);
	give(path("api.json"));
	mca_buf_free(&b);
}

static void
setup(void)
{
	const char	*mod = getenv("SOFTHSM2_MODULE");

	memset(&W, 0, sizeof(W));
	W.dir = tu_mkdtemp("renewmock");
	W.root = geteuid() == 0;
	ck_assert_msg(mod != NULL && *mod != '\0', "SOFTHSM2_MODULE not set");
	ck_assert_int_eq(tu_mkpki(path("up"), "file"), 0);
	ck_assert_int_eq(tu_mkpki(path("dn"), "hsm-ec"), 0);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && mkdir dn-db && "
	    "cp dn/chain.pem dn-int.pem", W.dir), 0);
	if (W.root)
		ck_assert_int_eq(tu_sh(NULL, "mkdir '%s/bin' && cp "
		    "'%s/microca-renew' '%s/microca-admin' '%s/bin/' && "
		    "chmod 755 '%s' && chown -R www-data: '%s'", W.dir,
		    tu_builddir(), tu_builddir(), W.dir, W.dir, W.dir), 0);
}

static void
teardown(void)
{
	int	 st;

	if (W.dir == NULL)
		return;
	avxmock_stop(&W.mock);
	if (W.resp > 0) {
		(void)kill(W.resp, SIGTERM);
		(void)waitpid(W.resp, &st, 0);
	}
	tu_rmtree(W.dir);
	free(W.dir);
	W.dir = NULL;
}

/* ---------------------------------------------------------------- helpers */

/* Runs microca-renew with args as the ledger's owner; its exit status. */
static int
renew(struct mca_buf *out, const char *args)
{
	int	 rc;

	mca_buf_reset(out);
	rc = tu_sh(out, "cd '%s' && %s env SOFTHSM2_CONF='%s' "
	    "'%s/microca-renew' --config '%s' --api-config '%s' %s 2>&1",
	    W.dir, W.root ? "runuser -u www-data --" : "",
	    path("dn/softhsm2.conf"), W.root ? path("bin") : tu_builddir(),
	    path("dn.json"), path("api.json"), args);
	fprintf(stderr, "microca-renew %s -> %d:\n%s", args, rc,
	    mca_buf_str(out));
	/* No secret, whatever happened. */
	ck_assert_msg(strstr(mca_buf_str(out), SECRET) == NULL, "the secret "
	    "is in the output:\n%s", mca_buf_str(out));
	ck_assert_msg(strstr(mca_buf_str(out), "eyJmock") == NULL, "a token "
	    "is in the output:\n%s", mca_buf_str(out));
	return rc;
}

/* sqlite3 on the Micro CA's ledger, as its owner; the first line. */
static void
sql(const char *q, char *val, size_t len)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	const char	*s;

	ck_assert_int_eq(tu_sh(&out, "%s '%s' -batch '%s' \"%s\"",
	    W.root ? "runuser -u www-data --" : "",
	    getenv("SQLITE3") != NULL ? getenv("SQLITE3") : "sqlite3",
	    path("dn-db/ledger.db"), q), 0);
	s = mca_buf_str(&out);
	(void)snprintf(val, len, "%.*s", (int)strcspn(s, "\n"), s);
	mca_buf_free(&out);
}

static long long
sql_int(const char *q)
{
	char	 v[64];

	sql(q, v, sizeof(v));
	return atoll(v);
}

/* SHA-256 of a file, in hex. */
static void
file_hash(const char *p, char *out, size_t len)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0, i;

	ck_assert_int_eq(tu_read(p, &b), 0);
	ck_assert_int_eq(EVP_Digest(b.data, b.len, md, &n, EVP_sha256(),
	    NULL), 1);
	out[0] = '\0';
	for (i = 0; i < n && 2 * i + 3 <= len; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", md[i]);
	mca_buf_free(&b);
}

/* Lines of out that contain s. */
static int
lines_with(const struct mca_buf *out, const char *s)
{
	const char	*p = mca_buf_str(out), *e;
	int		 n = 0;

	for (; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		if (memmem(p, (size_t)(e - p), s, strlen(s)) != NULL)
			n++;
	}
	return n;
}

#define ASSERT_HAS(buf, s) ck_assert_msg(strstr(mca_buf_str(buf), (s)) != \
	NULL, "\"%s\" not in:\n%s", (s), mca_buf_str(buf))

/* The new intermediate: in the ledger, in the file, to the root. */
static void
assert_installed(const struct mca_buf *out, const char *label)
{
	char	 got[160];

	ASSERT_HAS(out, "intermediate: installed generation ");
	ASSERT_HAS(out, "(resumed)");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM ca_generations WHERE "
	    "state = 'active'"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending"), 0);
	sql("SELECT key_label FROM ca_generations WHERE state = 'active'",
	    got, sizeof(got));
	ck_assert_str_eq(got, label);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' x509 -in dn-int.pem "
	    "-noout -subject | grep -q 'CN *= *mock intermediate' && '%s' "
	    "x509 -in dn-int.pem -noout -ext basicConstraints | grep -q "
	    "'CA:TRUE' && '%s' verify -CAfile up/root.pem -untrusted up/ca.pem "
	    "dn-int.pem >/dev/null", W.dir, tu_openssl(), tu_openssl(),
	    tu_openssl()), 0);
	/* the key is in the token under that label */
	ck_assert_int_eq(tu_sh(NULL, "SOFTHSM2_CONF='%s' pkcs11-tool --module "
	    "'%s' --token-label microca --list-objects --type pubkey "
	    "2>/dev/null | grep -q 'label: *%s'", path("dn/softhsm2.conf"),
	    getenv("SOFTHSM2_MODULE"), label), 0);
}

/* ------------------------------------------------------------ AppViewX */

static void
mock_start(enum avxmock_fault f)
{
	avxmock_stop(&W.mock);
	memset(&W.mock, 0, sizeof(W.mock));
	W.mock.pki = path("up");
	W.mock.log = path("avx.log");
	W.mock.client_id = CLIENT_ID;
	W.mock.client_secret = SECRET;
	W.mock.ca_name = "AppViewX";
	W.mock.ca_setting_name = "PKIaaS Sub-CA";
	W.mock.group = "microca";
	W.mock.fault = f;
	(void)unlink(W.mock.log);
	avxmock_start(&W.mock);
	write_dn(0, W.mock.port, 30);
	write_api(W.mock.port, "", "");
}

/* APIconfig missing, incomplete or not JSON: exit 2, nothing made. */
START_TEST(test_avx_config)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	mock_start(AM_NONE);
	ck_assert_int_eq(unlink(path("api.json")), 0);
	ck_assert_int_eq(renew(&out, "--force intermediate"), 2);
	ASSERT_HAS(&out, "intermediate: intermediate_cert_config.use_est is "
	    "not true, so the AppViewX API: ");
	ASSERT_HAS(&out, path("api.json"));
	write_api(W.mock.port, "ca_name", "");
	ck_assert_int_eq(renew(&out, "--force intermediate"), 2);
	ASSERT_HAS(&out, "api.json: ca_name: missing (required to enroll "
	    "through the AppViewX API, use_est false)");
	ck_assert_int_eq(lines_with(&out, "ca_name"), 1);
	ck_assert_int_eq(tu_writef(path("api.json"), "{\"appviewx_hostname\": "
	    "\"localhost\", \"service_account_client_secret\": \"" SECRET
	    "\",,}\n"), 0);
	give(path("api.json"));
	ck_assert_int_eq(renew(&out, "--force intermediate"), 2);
	ASSERT_HAS(&out, "api.json");
	/* the dry run reads it too */
	ck_assert_int_eq(renew(&out, "--dry-run --force intermediate"), 2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM ca_generations"), 0);
	/* nothing reached the mock */
	ck_assert_int_ne(access(path("avx.log"), F_OK), 0);
	mca_buf_free(&out);
}
END_TEST

static const struct {
	enum avxmock_fault	 fault;
	const char		*msg;
} avx_faults[] = {
	{ AM_TOKEN_401, "AppViewX: POST https://localhost:PORT/avxapi/"
	    "acctmgmt-get-service-token?gwsource=external: HTTP 401: "
	    "Authentication failed" },
	{ AM_TOKEN_ECHO, "HTTP 400, appStatusCode OAUTH_CLNT_015: Client "
	    "Password is incorrect" },
	{ AM_STATUS_CODE, "AppViewX: POST https://localhost:PORT/avxapi/"
	    "certificate/create?gwsource=external&isSync=true: HTTP 200, "
	    "appStatusCode CERT_CA_ERROR: CA refused: the request" },
	{ AM_500, "certificate/create?gwsource=external&isSync=true: HTTP "
	    "500: <html>" },
	{ AM_GARBAGE, "HTTP 200 with a body that is not a JSON object" },
	{ AM_NOT_CA, "AppViewX localhost:PORT: the certificate sent for 2" },
	{ AM_OTHER_KEY, "AppViewX enroll: none of the 2 certificates "
	    "AppViewX sent is for the CSR's key" },
};

/*
 * Each fault: exit 1, one line, the old certificate in place, and the
 * same pending key and CSR for the next run.
 */
START_TEST(test_avx_faults)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 before[80], after[80], l0[160], l1[160];
	char		 c0[80], c1[80], want[512];
	const char	*p;

	mock_start(avx_faults[_i].fault);
	file_hash(path("dn-int.pem"), before, sizeof(before));
	if (sql_int("SELECT count(*) FROM renew_pending") == 1) {
		sql("SELECT key_label FROM renew_pending", l0, sizeof(l0));
		sql("SELECT hex(sha3(csr_pem)) FROM renew_pending", c0,
		    sizeof(c0));
	} else
		l0[0] = c0[0] = '\0';
	ck_assert_int_eq(renew(&out, "--force intermediate"), 1);
	ck_assert_int_eq(lines_with(&out, "intermediate: renewal failed, the "
	    "certificate in use stays: "), 1);
	/* "PORT": the mock's */
	if ((p = strstr(avx_faults[_i].msg, "PORT")) != NULL)
		(void)snprintf(want, sizeof(want), "%.*s%u%s",
		    (int)(p - avx_faults[_i].msg), avx_faults[_i].msg,
		    W.mock.port, p + 4);
	else
		(void)snprintf(want, sizeof(want), "%s", avx_faults[_i].msg);
	ck_assert_int_eq(lines_with(&out, want), 1);
	if (avx_faults[_i].fault == AM_NOT_CA)
		ASSERT_HAS(&out, "is refused: not a CA certificate: "
		    "basicConstraints cA TRUE missing");
	file_hash(path("dn-int.pem"), after, sizeof(after));
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM ca_generations"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending WHERE "
	    "job = 'intermediate'"), 1);
	sql("SELECT key_label FROM renew_pending", l1, sizeof(l1));
	sql("SELECT hex(sha3(csr_pem)) FROM renew_pending", c1, sizeof(c1));
	if (l0[0] != '\0') {
		ck_assert_str_eq(l0, l1);
		ck_assert_str_eq(c0, c1);
	}
	/* the mock heard from us */
	ck_assert_int_eq(access(path("avx.log"), F_OK), 0);
	avxmock_stop(&W.mock);
	mca_buf_free(&out);
}
END_TEST

/*
 * The good run after the faults: their key and CSR, through the mock, into
 * the ledger and the file, verifying to the mock's root.
 */
START_TEST(test_avx_enroll)
{
	struct mca_buf	 out = MCA_BUF_INIT, log = MCA_BUF_INIT;
	char		 pend[160];

	mock_start(AM_NONE);
	sql("SELECT key_label FROM renew_pending WHERE job = 'intermediate'",
	    pend, sizeof(pend));
	ck_assert_uint_eq(strspn(pend, "0123456789"), 14);
	ck_assert_int_eq(renew(&out, "--dry-run --force intermediate"), 0);
	ASSERT_HAS(&out, "intermediate: would send the pending request again");
	ASSERT_HAS(&out, "the AppViewX API https://localhost:");
	ck_assert_int_ne(access(path("avx.log"), F_OK), 0);
	ck_assert_int_eq(renew(&out, "--force intermediate"), 0);
	assert_installed(&out, pend);
	/* token, create, download: once each */
	ck_assert_int_eq(tu_read(path("avx.log"), &log), 0);
	ck_assert_int_eq(lines_with(&log, " 200"), 3);
	ck_assert_int_eq(lines_with(&log, "acctmgmt-get-service-token"), 1);
	ck_assert_int_eq(lines_with(&log, "certificate/create"), 1);
	ck_assert_int_eq(lines_with(&log, "certificate/download"), 1);
	avxmock_stop(&W.mock);
	mca_buf_free(&log);
	mca_buf_free(&out);
}
END_TEST

/*
 * A renewal with the secret stored as enc:v1: a new key, a second
 * generation; the first retired.
 */
START_TEST(test_avx_encrypted)
{
	struct mca_buf	 out = MCA_BUF_INIT, enc = MCA_BUF_INIT;
	char		 l1[160], l2[160], extra[2048];

	mock_start(AM_NONE);
	ck_assert_int_eq(tu_sh(NULL, "'%s/microca-admin' secret keygen '%s'",
	    tu_builddir(), path("secret.key")), 0);
	ck_assert_int_eq(tu_sh(&enc, "printf '%%s' '" SECRET "' | "
	    "'%s/microca-admin' secret encrypt --key-file '%s' "
	    "service_account_client_secret", tu_builddir(),
	    path("secret.key")), 0);
	ck_assert(strncmp(mca_buf_str(&enc), "enc:v1:", 7) == 0);
	/* the key file belongs to whoever reads it (lib/secret.h) */
	give(path("secret.key"));
	(void)snprintf(extra, sizeof(extra), "\"service_account_client_secret"
	    "\": \"%.*s\",", (int)strcspn(mca_buf_str(&enc), "\n"),
	    mca_buf_str(&enc));
	write_api(W.mock.port, "", extra);
	/* encryption_key_file_path missing: a config error */
	ck_assert_int_eq(renew(&out, "--force intermediate"), 2);
	ASSERT_HAS(&out, "service_account_client_secret: is encrypted");
	ck_assert_int_eq(tu_sh(NULL, "sed -i 's|^{$|{ "
	    "\"encryption_key_file_path\": \"%s\",|' '%s'", path("secret.key"),
	    path("dn.json")), 0);
	give(path("dn.json"));
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
	avxmock_stop(&W.mock);
	mca_buf_free(&enc);
	mca_buf_free(&out);
}
END_TEST

/* ------------------------------------------------------------ EST 202 */

/*
 * Signs the CSR of a /simpleenroll body (base64 of its DER) as a sub-CA
 * with the upstream PKI's intermediate; the answer's body (base64 of a
 * certs-only PKCS#7) into out. 0 or -1. Child side: no asserts.
 */
static int
resp_issue(const char *b64, size_t len, struct mca_buf *out)
{
	struct mca_buf	 der = MCA_BUF_INIT, p7 = MCA_BUF_INIT;
	const unsigned char *q;
	STACK_OF(X509)	*sk = NULL;
	X509_REQ	*csr = NULL;
	X509		*ca = NULL, *x = NULL;
	EVP_PKEY	*cakey = NULL;
	X509V3_CTX	 v;
	X509_EXTENSION	*e;
	BIGNUM		*bn = NULL;
	FILE		*f;
	static const struct { int nid; const char *val; } ext[] = {
		{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	};
	size_t		 i;
	int		 rc = -1;

	if (mca_b64_decode(b64, len, &der) != 0)
		goto out;
	q = der.data;
	if ((csr = d2i_X509_REQ(NULL, &q, (long)der.len)) == NULL)
		goto out;
	if ((f = fopen(path("up/ca.pem"), "r")) == NULL)
		goto out;
	ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (ca == NULL || (f = fopen(path("up/ca.key"), "r")) == NULL)
		goto out;
	cakey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (cakey == NULL || (x = X509_new()) == NULL ||
	    (bn = BN_new()) == NULL ||
	    !BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_version(x, 2) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1 ||
	    X509_set_subject_name(x, X509_REQ_get_subject_name(csr)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) == NULL ||
	    X509_set_pubkey(x, X509_REQ_get0_pubkey(csr)) != 1)
		goto out;
	X509V3_set_ctx(&v, ca, x, NULL, NULL, 0);
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		if ((e = X509V3_EXT_conf_nid(NULL, &v, ext[i].nid,
		    ext[i].val)) == NULL || X509_add_ext(x, e, -1) != 1) {
			X509_EXTENSION_free(e);
			goto out;
		}
		X509_EXTENSION_free(e);
	}
	if (X509_sign(x, cakey, EVP_sha256()) <= 0 ||
	    (sk = sk_X509_new_null()) == NULL || !sk_X509_push(sk, x))
		goto out;
	x = NULL;
	if (!sk_X509_push(sk, ca))
		goto out;
	ca = NULL;
	if (mca_est_certs_only(sk, &p7) != 0 ||
	    mca_b64_encode(p7.data, p7.len, 64, out) != 0)
		goto out;
	rc = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	BN_free(bn);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(cakey);
	X509_REQ_free(csr);
	mca_buf_free(&der);
	mca_buf_free(&p7);
	return rc;
}

/*
 * One request of the EST responder. What it answers to a /simpleenroll
 * is in the file "mode": "202 N" (202, Retry-After N) or "200" (the
 * certificate). Each /simpleenroll is kept as enroll-<n>.txt (its request
 * line, then its body) with n counted in "enrolls"; /cacerts gets the
 * upstream intermediate.
 */
static void
resp_serve(SSL *ssl)
{
	static char	 buf[TS_REQ_MAX];
	struct mca_buf	 body = MCA_BUF_INIT, ans = MCA_BUF_INIT;
	STACK_OF(X509)	*sk = NULL;
	X509		*ca = NULL;
	char		 mode[64], name[64];
	size_t		 off;
	long		 n, count = 0;
	FILE		*f;

	if ((n = ts_read_request(ssl, buf, sizeof(buf), &off)) < 0)
		return;
	if (strncmp(buf, "GET ", 4) == 0 && strstr(buf, "/cacerts ") != NULL) {
		if ((f = fopen(path("up/ca.pem"), "r")) != NULL) {
			ca = PEM_read_X509(f, NULL, NULL, NULL);
			fclose(f);
		}
		if (ca == NULL || (sk = sk_X509_new_null()) == NULL ||
		    !sk_X509_push(sk, ca))
			goto out;
		ca = NULL;
		if (mca_est_certs_only(sk, &ans) != 0 ||
		    mca_b64_encode(ans.data, ans.len, 64, &body) != 0)
			goto out;
		goto ok;
	}
	/* a /simpleenroll: counted and kept */
	if ((f = fopen(path("enrolls"), "r")) != NULL) {
		if (fscanf(f, "%ld", &count) != 1)
			count = 0;
		fclose(f);
	}
	count++;
	if ((f = fopen(path("enrolls"), "w")) != NULL) {
		fprintf(f, "%ld\n", count);
		fclose(f);
	}
	(void)snprintf(name, sizeof(name), "enroll-%ld.txt", count);
	if ((f = fopen(path(name), "w")) != NULL) {
		fprintf(f, "%.*s\n", (int)strcspn(buf, "\r\n"), buf);
		(void)fwrite(buf + off, 1, (size_t)n - off, f);
		fclose(f);
	}
	mode[0] = '\0';
	if ((f = fopen(path("mode"), "r")) != NULL) {
		if (fgets(mode, sizeof(mode), f) == NULL)
			mode[0] = '\0';
		fclose(f);
	}
	if (strncmp(mode, "202 ", 4) == 0) {
		(void)mca_buf_printf(&ans, "HTTP/1.1 202 Accepted\r\n"
		    "Retry-After: %ld\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n", strtol(mode + 4, NULL, 10));
		(void)ts_write(ssl, ans.data, ans.len);
		goto out;
	}
	if (resp_issue(buf + off, (size_t)n - off, &body) != 0)
		goto out;
ok:
	mca_buf_reset(&ans);
	(void)mca_buf_printf(&ans, "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/pkcs7-mime; smime-type=certs-only\r\n"
	    "Content-Transfer-Encoding: base64\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", body.len);
	(void)mca_buf_add(&ans, body.data, body.len);
	(void)ts_write(ssl, ans.data, ans.len);
out:
	sk_X509_pop_free(sk, X509_free);
	X509_free(ca);
	mca_buf_free(&ans);
	mca_buf_free(&body);
}

/* The EST responder: a child serving one request per connection. */
static void
resp_start(void)
{
	SSL_CTX		*ctx;
	SSL		*ssl;
	int		 s, fd;

	s = ts_listen(&W.resp_port);
	ck_assert_int_ge(W.resp = fork(), 0);
	if (W.resp > 0) {
		close(s);
		return;
	}
	(void)signal(SIGTERM, SIG_DFL);
	alarm(RESP_LIFE);
	if ((ctx = ts_server_ctx(path("up/server.pem"),
	    path("up/server.key"))) == NULL)
		_exit(2);
	for (;;) {
		if ((ssl = ts_accept(s, ctx, &fd)) == NULL)
			continue;
		resp_serve(ssl);
		ts_close(ssl, fd);
	}
}

static void
resp_stop(void)
{
	int	 st;

	if (W.resp <= 0)
		return;
	(void)kill(W.resp, SIGTERM);
	(void)waitpid(W.resp, &st, 0);
	W.resp = 0;
}

static void
set_mode(const char *m)
{
	ck_assert_int_eq(tu_writef(path("mode"), "%s\n", m), 0);
}

static long
enrolls(void)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	long		 n;

	if (tu_read(path("enrolls"), &b) != 0)
		return 0;
	n = strtol(mca_buf_str(&b), NULL, 10);
	mca_buf_free(&b);
	return n;
}

/* The body of the n-th /simpleenroll, its request line first. */
static void
enroll_req(long n, struct mca_buf *out)
{
	char	 name[64];

	(void)snprintf(name, sizeof(name), "enroll-%ld.txt", n);
	mca_buf_reset(out);
	ck_assert_int_eq(tu_read(path(name), out), 0);
}

/*
 * 202 with Retry-After: pending with its key, CSR and retry_at; nothing
 * sent before retry_at; after it (moved in the ledger) the same CSR, and
 * the certificate installed.
 */
START_TEST(test_est_202)
{
	struct mca_buf	 out = MCA_BUF_INIT, r1 = MCA_BUF_INIT,
			 r2 = MCA_BUF_INIT;
	char		 label[160], before[80], after[80], q[256];
	long long	 at;
	time_t		 t0 = time(NULL);

	resp_start();
	write_dn(1, W.resp_port, 36500);
	set_mode("202 3600");
	file_hash(path("dn-int.pem"), before, sizeof(before));
	ck_assert_int_eq(renew(&out, "--force intermediate"), 0);
	ck_assert_int_eq(lines_with(&out, "intermediate:"), 1);
	ASSERT_HAS(&out, "intermediate: the upstream has not issued yet (202 "
	    "Accepted); the same key (");
	ck_assert_int_eq(enrolls(), 1);
	enroll_req(1, &r1);
	/* an empty est_agent_setting_name: no label segment */
	ck_assert_msg(strncmp(mca_buf_str(&r1), "POST /.well-known/est/"
	    "simpleenroll HTTP/1.1\n", 42) == 0, "%s", mca_buf_str(&r1));
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending WHERE "
	    "job = 'intermediate' AND length(csr_pem) > 0"), 1);
	at = sql_int("SELECT retry_at FROM renew_pending");
	ck_assert_int_ge(at, (long long)t0 + 3600);
	ck_assert_int_le(at, (long long)time(NULL) + 3600);
	sql("SELECT key_label FROM renew_pending", label, sizeof(label));
	file_hash(path("dn-int.pem"), after, sizeof(after));
	ck_assert_str_eq(before, after);

	/* Before retry_at: nothing goes upstream, forced or not. */
	ck_assert_int_eq(renew(&out, "--force intermediate"), 0);
	ASSERT_HAS(&out, "waiting for its Retry-After");
	ck_assert_int_eq(renew(&out, ""), 0);
	ck_assert_int_eq(renew(&out, "--dry-run"), 0);
	ck_assert_int_eq(enrolls(), 1);

	/* retry_at is over: the same CSR, now answered with the certificate */
	set_mode("200");
	(void)snprintf(q, sizeof(q), "UPDATE renew_pending SET retry_at = %lld "
	    "WHERE job = 'intermediate'", (long long)time(NULL) - 1);
	sql(q, before, sizeof(before));
	ck_assert_int_eq(renew(&out, ""), 0);
	ck_assert_int_eq(enrolls(), 2);
	enroll_req(2, &r2);
	ck_assert_uint_eq(r1.len, r2.len);
	ck_assert_int_eq(memcmp(r1.data, r2.data, r1.len), 0);
	assert_installed(&out, label);
	resp_stop();
	mca_buf_free(&r1);
	mca_buf_free(&r2);
	mca_buf_free(&out);
}
END_TEST

/* 202 forever, Retry-After 0: one request a run, never a loop. */
START_TEST(test_est_202_forever)
{
	struct mca_buf	 out = MCA_BUF_INIT, r1 = MCA_BUF_INIT,
			 r2 = MCA_BUF_INIT;
	char		 before[80], after[80];
	long		 n0, i;

	resp_start();
	write_dn(1, W.resp_port, 36500);
	set_mode("202 0");
	n0 = enrolls();
	file_hash(path("dn-int.pem"), before, sizeof(before));
	ck_assert_int_eq(renew(&out, "--force intermediate"), 0);
	ck_assert_int_eq(enrolls(), n0 + 1);
	enroll_req(n0 + 1, &r1);
	for (i = 2; i <= 3; i++) {
		/* retry_at is now: the next run resumes it, once */
		ck_assert_int_eq(renew(&out, ""), 0);
		ck_assert_int_eq(lines_with(&out, "intermediate:"), 1);
		ASSERT_HAS(&out, "(202 Accepted)");
		ck_assert_int_eq(enrolls(), n0 + i);
		enroll_req(n0 + i, &r2);
		ck_assert_uint_eq(r1.len, r2.len);
		ck_assert_int_eq(memcmp(r1.data, r2.data, r1.len), 0);
	}
	file_hash(path("dn-int.pem"), after, sizeof(after));
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM renew_pending"), 1);
	resp_stop();
	mca_buf_free(&r1);
	mca_buf_free(&r2);
	mca_buf_free(&out);
}
END_TEST

Suite *
renew_mock_suite(void)
{
	Suite	*s = suite_create("renew_mock");
	TCase	*tc;

	tc = tcase_create("avx");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, SUITE_TIMEOUT);
	tcase_add_test(tc, test_avx_config);
	tcase_add_loop_test(tc, test_avx_faults, 0,
	    sizeof(avx_faults) / sizeof(avx_faults[0]));
	tcase_add_test(tc, test_avx_enroll);
	tcase_add_test(tc, test_avx_encrypted);
	suite_add_tcase(s, tc);

	tc = tcase_create("est202");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, SUITE_TIMEOUT);
	tcase_add_test(tc, test_est_202);
	tcase_add_test(tc, test_est_202_forever);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(renew_mock_suite());
}
