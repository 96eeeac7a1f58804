/*
 * lib/avx.c, the AppViewX REST client, against tests/avxmock.c: a real
 * HTTPS server on loopback that checks what the public AppViewX guides
 * say a client sends and signs the uploaded CSR with the test PKI's
 * intermediate. The good path (token, create, download; the chain
 * verifies to the test root and is for the CSR's key), each fault giving
 * one clear line, no output and no secret, and the network failures (TLS
 * not trusted, connection refused, a server that never answers).
 */
#include "config.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "apiconfig.h"
#include "avx.h"
#include "avxmock.h"
#include "buf.h"
#include "err.h"
#include "pem.h"
#include "testutil.h"
#include "tlsserv.h"

Suite	*avx_suite(void);

#define SECRET		"s3cr3t-Value_42"
#define CLIENT_ID	"microca-sa"

static char	*dir;

static char *
path(const char *name)
{
	static char	 p[8][1024];
	static int	 i;

	i = (i + 1) % 8;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void
setup(void)
{
	dir = tu_mkdtemp("avx");
	ck_assert_int_eq(tu_mkpki(path("pki"), "file"), 0);
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(dir);
	dir = NULL;
}

/* The mock with fault f, and a client configured for it. */
static void
start(struct avxmock *m, enum avxmock_fault f, struct mca_avx *c)
{
	memset(m, 0, sizeof(*m));
	m->pki = path("pki");
	m->log = path("requests.log");
	(void)unlink(m->log);
	m->client_id = CLIENT_ID;
	m->client_secret = SECRET;
	m->ca_name = "AppViewX";
	m->ca_setting_name = "PKIaaS Sub-CA";
	m->group = "microca";
	m->fault = f;
	avxmock_start(m);

	memset(c, 0, sizeof(*c));
	c->host = "127.0.0.1";
	c->port = m->port;
	c->tls.cafile = path("pki/root.pem");
	c->client_id = CLIENT_ID;
	c->client_secret = SECRET;
	c->ca_name = "AppViewX";
	c->ca_setting_name = "PKIaaS Sub-CA";
	c->validity_days = 365;
	c->template_name = "SubCA";
	c->issuer_name = "Issuing CA 1";
	c->group_name = "microca";
	c->connect_timeout = 30;
	c->timeout = 120;
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

/* A PEM CSR for k with CN=cn (caller frees). */
static char *
csr_pem(EVP_PKEY *k, const char *cn)
{
	X509_REQ	*r;
	BIO		*b;
	BUF_MEM		*bm;
	char		*s;

	ck_assert_ptr_nonnull(r = X509_REQ_new());
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(
	    r), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0), 1);
	ck_assert_int_eq(X509_REQ_set_pubkey(r, k), 1);
	ck_assert_int_gt(X509_REQ_sign(r, k, EVP_sha256()), 0);
	ck_assert_ptr_nonnull(b = BIO_new(BIO_s_mem()));
	ck_assert_int_eq(PEM_write_bio_X509_REQ(b, r), 1);
	BIO_get_mem_ptr(b, &bm);
	ck_assert_ptr_nonnull(s = strndup(bm->data, bm->length));
	BIO_free(b);
	X509_REQ_free(r);
	return s;
}

/*
 * Asserts that chain (PEM) starts with a CA certificate for k named cn,
 * and that it verifies to the test root through the rest of chain.
 */
static void
assert_chain(const struct mca_buf *chain, EVP_PKEY *k, const char *cn)
{
	STACK_OF(X509_INFO)	*infos;
	STACK_OF(X509)		*rest;
	STACK_OF(X509)		*roots = NULL;
	X509_STORE		*st;
	X509_STORE_CTX		*ctx;
	X509			*leaf;
	BIO			*b;
	struct mca_diag		 d;
	char			 buf[256];
	int			 i;

	ck_assert_uint_gt(chain->len, 0);
	ck_assert_ptr_nonnull(b = BIO_new_mem_buf(chain->data,
	    (int)chain->len));
	ck_assert_ptr_nonnull(infos = PEM_X509_INFO_read_bio(b, NULL, NULL,
	    NULL));
	ck_assert_int_ge(sk_X509_INFO_num(infos), 2);
	ck_assert_ptr_nonnull(rest = sk_X509_new_null());
	for (i = 1; i < sk_X509_INFO_num(infos); i++)
		ck_assert_int_gt(sk_X509_push(rest,
		    sk_X509_INFO_value(infos, i)->x509), 0);
	leaf = sk_X509_INFO_value(infos, 0)->x509;
	ck_assert_ptr_nonnull(leaf);
	ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(leaf), k), 1);
	ck_assert_int_gt(X509_NAME_get_text_by_NID(X509_get_subject_name(leaf),
	    NID_commonName, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, cn);
	ck_assert_int_eq(X509_check_ca(leaf), 1);

	ck_assert_int_eq(mca_pem_load_certs(path("pki/root.pem"), &roots, &d),
	    0);
	ck_assert_ptr_nonnull(st = X509_STORE_new());
	ck_assert_int_eq(X509_STORE_add_cert(st, sk_X509_value(roots, 0)), 1);
	ck_assert_ptr_nonnull(ctx = X509_STORE_CTX_new());
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, st, leaf, rest), 1);
	ck_assert_msg(X509_verify_cert(ctx) == 1, "%s",
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_pop_free(roots, X509_free);
	sk_X509_free(rest);
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(b);
}

/* The mock's request log, as one string (caller frees the buffer). */
static void
read_log(struct mca_buf *b)
{
	mca_buf_reset(b);
	if (tu_read(path("requests.log"), b) != 0)
		mca_buf_reset(b);
}

/*
 * Standard output and error go to a file while a call runs; quiet_end()
 * asserts that nothing was written.
 */
struct quiet {
	int	 out, err, fd;
};

static void
quiet_begin(struct quiet *q)
{
	fflush(stdout);
	fflush(stderr);
	ck_assert_int_ge(q->fd = open(path("output"), O_WRONLY | O_CREAT |
	    O_TRUNC, 0600), 0);
	ck_assert_int_ge(q->out = dup(1), 0);
	ck_assert_int_ge(q->err = dup(2), 0);
	ck_assert_int_ge(dup2(q->fd, 1), 0);
	ck_assert_int_ge(dup2(q->fd, 2), 0);
}

static void
quiet_end(struct quiet *q)
{
	struct stat	 sb;

	fflush(stdout);
	fflush(stderr);
	ck_assert_int_ge(dup2(q->out, 1), 0);
	ck_assert_int_ge(dup2(q->err, 2), 0);
	close(q->out);
	close(q->err);
	ck_assert_int_eq(fstat(q->fd, &sb), 0);
	close(q->fd);
	ck_assert_msg(sb.st_size == 0, "the library wrote %lld bytes",
	    (long long)sb.st_size);
}

/* d is one line that names want, holds no secret and no token. */
static void
assert_line(const struct mca_diag *d, const char *want)
{
	ck_assert_msg(strstr(d->msg, want) != NULL, "\"%s\" not in \"%s\"",
	    want, d->msg);
	ck_assert_ptr_null(strchr(d->msg, '\n'));
	ck_assert_ptr_null(strchr(d->msg, '\r'));
	ck_assert_ptr_null(strstr(d->msg, SECRET));
	ck_assert_ptr_null(strstr(d->msg, "s3cr3t"));
	ck_assert_ptr_null(strstr(d->msg, "eyJmock"));
}

/* ---------------------------------------------------------------- tests */

/*
 * The good path, token as JSON and as a form, the chain as a file and in
 * a JSON wrapper: token, create, download, and what comes back is a CA
 * certificate for our key that verifies to the root.
 */
START_TEST(test_enroll)
{
	static const struct {
		enum mca_avx_grant	 grant;
		enum avxmock_fault	 fault;
	} v[] = {
		{ MCA_AVX_GRANT_JSON, AM_NONE },
		{ MCA_AVX_GRANT_FORM, AM_NONE },
		{ MCA_AVX_GRANT_JSON, AM_JSON_CHAIN },
	};
	struct avxmock	 m;
	struct mca_avx	 c;
	struct mca_diag	 d;
	struct mca_buf	 chain = MCA_BUF_INIT, log = MCA_BUF_INIT;
	struct quiet	 q;
	EVP_PKEY	*k = new_key();
	char		*csr = csr_pem(k, "microca-intermediate");
	int		 rc;

	start(&m, v[_i].fault, &c);
	c.grant = v[_i].grant;
	mca_diag_clear(&d);
	quiet_begin(&q);
	rc = mca_avx_enroll(&c, csr, &chain, &d);
	quiet_end(&q);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	assert_chain(&chain, k, "microca-intermediate");
	read_log(&log);
	ck_assert_str_eq(mca_buf_str(&log),
	    "POST /avxapi/acctmgmt-get-service-token?gwsource=external 200\n"
	    "POST /avxapi/certificate/create?gwsource=external&isSync=true "
	    "200\n"
	    "POST /avxapi/certificate/download/format?gwsource=external "
	    "200\n");
	avxmock_stop(&m);
	mca_buf_free(&chain);
	mca_buf_free(&log);
	free(csr);
	EVP_PKEY_free(k);
}
END_TEST

/*
 * The steps one by one, as the Azure tool uses the token: two tokens
 * differ; a token the server did not issue is refused with 401; an
 * unknown resourceId is a 404; the gwkey is sent when set.
 */
START_TEST(test_steps)
{
	struct avxmock	 m;
	struct mca_avx	 c;
	struct mca_diag	 d;
	struct mca_buf	 tok = MCA_BUF_INIT, tok2 = MCA_BUF_INIT;
	struct mca_buf	 chain = MCA_BUF_INIT;
	EVP_PKEY	*k = new_key();
	char		*csr = csr_pem(k, "steps");
	char		 id[MCA_AVX_ID_MAX];
	int		 rc;

	start(&m, AM_NONE, &c);
	ck_assert_msg(mca_avx_token(&c, &tok, &d) == 0, "%s", d.msg);
	ck_assert_msg(mca_avx_token(&c, &tok2, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(strncmp(mca_buf_str(&tok), "eyJmock.", 8), 0);
	ck_assert_str_ne(mca_buf_str(&tok), mca_buf_str(&tok2));
	ck_assert_msg(mca_avx_create(&c, mca_buf_str(&tok), csr, id,
	    sizeof(id), &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(strlen(id), 24);
	/* The second token is as good as the first. */
	ck_assert_msg(mca_avx_download(&c, mca_buf_str(&tok2), id, &chain,
	    &d) == 0, "%s", d.msg);
	assert_chain(&chain, k, "steps");

	rc = mca_avx_download(&c, "eyJforged.token", id, &chain, &d);
	ck_assert_int_eq(rc, MCA_ERR_AUTH);
	assert_line(&d, "download/format?gwsource=external: HTTP 401, "
	    "appStatusCode ACCT_TOKEN_INVALID: Authentication failed");
	ck_assert_uint_eq(chain.len, 0);
	rc = mca_avx_download(&c, mca_buf_str(&tok), "000000000000000000000000",
	    &chain, &d);
	ck_assert_int_eq(rc, MCA_ERR_NOTFOUND);
	assert_line(&d, "HTTP 404, appStatusCode NO_RECORDS_FOUND: No "
	    "matching records found.");
	/* A token that could end the header line is never sent. */
	rc = mca_avx_create(&c, "eyJ a\r\nX: y", csr, id, sizeof(id), &d);
	ck_assert_int_eq(rc, MCA_ERR_INVAL);
	assert_line(&d, "not one word of printable ASCII");
	/* A tenant key goes into the query; this gateway has no such API. */
	c.gwkey = "f000ca01";
	rc = mca_avx_token(&c, &tok, &d);
	ck_assert_int_eq(rc, MCA_ERR_NOTFOUND);
	assert_line(&d, "acctmgmt-get-service-token?gwsource=external&"
	    "gwkey=f000ca01: HTTP 404");
	ck_assert_uint_eq(tok.len, 0);
	c.gwkey = "f000ca01&x=y";
	ck_assert_int_eq(mca_avx_token(&c, &tok, &d), MCA_ERR_INVAL);
	assert_line(&d, "gwkey");
	avxmock_stop(&m);
	mca_buf_free_secret(&tok);
	mca_buf_free_secret(&tok2);
	mca_buf_free(&chain);
	free(csr);
	EVP_PKEY_free(k);
}
END_TEST

enum tweak { T_NONE, T_SECRET, T_ID, T_CA, T_GROUP, T_NOVALIDITY };

static const struct {
	enum avxmock_fault	 fault;
	enum tweak		 tweak;
	int			 rc;
	const char		*msg;
	int			 calls;		/* requests the mock saw */
} faults[] = {
	{ AM_TOKEN_401, T_NONE, MCA_ERR_AUTH, "POST https://127.0.0.1:",
	    1 },
	{ AM_TOKEN_401, T_NONE, MCA_ERR_AUTH, "/avxapi/acctmgmt-get-service-"
	    "token?gwsource=external: HTTP 401: Authentication failed. The "
	    "reason - Invalid Credentials.", 1 },
	{ AM_NONE, T_SECRET, MCA_ERR_AUTH, "HTTP 400, appStatusCode "
	    "OAUTH_CLNT_015: Client Password is incorrect::[Invalid Client "
	    "credential", 1 },
	{ AM_NONE, T_ID, MCA_ERR_AUTH, "HTTP 400, appStatusCode ACCT_SA_003: "
	    "Service account is invalid/not found", 1 },
	/* The server repeats the secret: it is not repeated here. */
	{ AM_TOKEN_ECHO, T_NONE, MCA_ERR_AUTH, "[Invalid Client credential "
	    "***]", 1 },
	{ AM_TOKEN_NULL, T_NONE, MCA_ERR_INVAL, "no token: \"response\" is "
	    "not a string", 1 },
	{ AM_EXPIRED, T_NONE, MCA_ERR_AUTH, "/avxapi/certificate/create?"
	    "gwsource=external&isSync=true: HTTP 401, appStatusCode "
	    "ACCT_TOKEN_INVALID", 2 },
	{ AM_NONE, T_CA, MCA_ERR_POLICY, "HTTP 400, appStatusCode "
	    "CERT_CA_NOT_FOUND: CA setting not found", 2 },
	{ AM_NONE, T_GROUP, MCA_ERR_POLICY, "appStatusCode "
	    "CERT_GROUP_NOT_FOUND: The group name is not available", 2 },
	{ AM_NONE, T_NOVALIDITY, MCA_ERR_CONFIG, "AppViewX create: "
	    "intermediate_cert_validity_in_days (1-36500) missing", 0 },
	{ AM_STATUS_CODE, T_NONE, MCA_ERR_POLICY, "HTTP 200, appStatusCode "
	    "CERT_CA_ERROR: CA refused: the request000", 2 },
	{ AM_500, T_NONE, MCA_ERR_IO, "isSync=true: HTTP 500: <html><body>"
	    "Internal Server Error</body></html>", 2 },
	{ AM_GARBAGE, T_NONE, MCA_ERR_INVAL, "HTTP 200 with a body that is "
	    "not a JSON object", 2 },
	{ AM_NO_ID, T_NONE, MCA_ERR_INVAL, "no response.resourceId (a "
	    "string)", 2 },
	{ AM_ID_TYPE, T_NONE, MCA_ERR_INVAL, "no response.resourceId (a "
	    "string)", 2 },
	{ AM_BAD_ID, T_NONE, MCA_ERR_INVAL, "response.resourceId: not 1-127 "
	    "of", 2 },
	{ AM_BIG, T_NONE, MCA_ERR_TOOBIG, "download/format?gwsource=external: "
	    "response body over", 3 },
	{ AM_EMPTY_CHAIN, T_NONE, MCA_ERR_INVAL, "the answer holds no "
	    "certificate", 3 },
	{ AM_NOT_PEM, T_NONE, MCA_ERR_INVAL, "the answer holds something "
	    "other than PEM certificates (at byte 0)", 3 },
	{ AM_OTHER_KEY, T_NONE, MCA_ERR_POLICY, "none of the 2 certificates "
	    "AppViewX sent is for the CSR's key", 3 },
	{ AM_DL_404, T_NONE, MCA_ERR_NOTFOUND, "HTTP 404, appStatusCode "
	    "NO_RECORDS_FOUND", 3 },
};

/* Each fault: its code, one clear line, no output, no secret, no chain. */
START_TEST(test_faults)
{
	struct avxmock	 m;
	struct mca_avx	 c;
	struct mca_diag	 d;
	struct mca_buf	 chain = MCA_BUF_INIT, log = MCA_BUF_INIT;
	struct quiet	 q;
	EVP_PKEY	*k = new_key();
	char		*csr = csr_pem(k, "fault");
	const char	*p;
	int		 rc, n = 0;

	start(&m, faults[_i].fault, &c);
	switch (faults[_i].tweak) {
	case T_SECRET:
		c.client_secret = "s3cr3t-Wrong";
		break;
	case T_ID:
		c.client_id = "nobody";
		break;
	case T_CA:
		c.ca_setting_name = "Other CA";
		break;
	case T_GROUP:
		c.group_name = "Default2";
		break;
	case T_NOVALIDITY:
		c.validity_days = 0;
		break;
	default:
		break;
	}
	(void)mca_buf_addstr(&chain, "stale");
	mca_diag_clear(&d);
	quiet_begin(&q);
	rc = mca_avx_enroll(&c, csr, &chain, &d);
	quiet_end(&q);
	ck_assert_msg(rc == faults[_i].rc, "case %d: %d (%s), not %d", _i, rc,
	    d.msg, faults[_i].rc);
	assert_line(&d, faults[_i].msg);
	ck_assert_uint_lt(strlen(d.msg), 460);
	ck_assert_uint_eq(chain.len, 0);
	read_log(&log);
	for (p = mca_buf_str(&log); (p = strchr(p, '\n')) != NULL; p++)
		n++;
	ck_assert_msg(n == faults[_i].calls, "case %d: %d requests: %s", _i,
	    n, mca_buf_str(&log));
	avxmock_stop(&m);
	mca_buf_free(&chain);
	mca_buf_free(&log);
	free(csr);
	EVP_PKEY_free(k);
}
END_TEST

/* A bad CSR is refused before anything is sent. */
START_TEST(test_bad_csr)
{
	static const char *const bad[] = {
		"",
		"not a CSR",
		"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n"
		    "-----END CERTIFICATE REQUEST-----\n",
	};
	struct avxmock	 m;
	struct mca_avx	 c;
	struct mca_diag	 d;
	struct mca_buf	 chain = MCA_BUF_INIT, log = MCA_BUF_INIT;
	size_t		 i;

	start(&m, AM_NONE, &c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(mca_avx_enroll(&c, bad[i], &chain, &d),
		    MCA_ERR_INVAL);
		assert_line(&d, "AppViewX enroll: ");
	}
	ck_assert_int_eq(mca_avx_enroll(&c, NULL, &chain, &d), MCA_ERR_INVAL);
	read_log(&log);
	ck_assert_uint_eq(log.len, 0);
	avxmock_stop(&m);
	mca_buf_free(&log);
	mca_buf_free(&chain);
}
END_TEST

/* A server we do not trust: nothing is sent (the secret stays here). */
START_TEST(test_untrusted)
{
	struct avxmock	 m;
	struct mca_avx	 c;
	struct mca_diag	 d;
	struct mca_buf	 chain = MCA_BUF_INIT, log = MCA_BUF_INIT;
	struct quiet	 q;
	EVP_PKEY	*k = new_key();
	char		*csr = csr_pem(k, "untrusted");
	int		 rc;

	start(&m, AM_NONE, &c);
	c.tls.cafile = path("pki/foreign-ca.pem");
	quiet_begin(&q);
	rc = mca_avx_enroll(&c, csr, &chain, &d);
	quiet_end(&q);
	ck_assert_msg(rc == MCA_ERR_CRYPTO, "%d: %s", rc, d.msg);
	assert_line(&d, "SSL certificate problem");
	read_log(&log);
	ck_assert_uint_eq(log.len, 0);
	/* The right server under a name its certificate does not carry. */
	c.tls.cafile = path("pki/root.pem");
	c.host = "avx.example.org";
	c.address = "127.0.0.1";
	ck_assert_int_eq(mca_avx_enroll(&c, csr, &chain, &d), MCA_ERR_CRYPTO);
	assert_line(&d, "avx.example.org");
	avxmock_stop(&m);
	mca_buf_free(&chain);
	mca_buf_free(&log);
	free(csr);
	EVP_PKEY_free(k);
}
END_TEST

/* Nobody listening. */
START_TEST(test_refused)
{
	struct avxmock	 m;
	struct mca_avx	 c;
	struct mca_diag	 d;
	struct mca_buf	 tok = MCA_BUF_INIT;
	unsigned	 port;
	int		 s;

	start(&m, AM_NONE, &c);
	avxmock_stop(&m);
	/* A port that was just free, closed again: nothing listens. */
	s = ts_listen(&port);
	close(s);
	c.port = port;
	ck_assert_int_eq(mca_avx_token(&c, &tok, &d), MCA_ERR_IO);
	assert_line(&d, "acctmgmt-get-service-token?gwsource=external: ");
	ck_assert_msg(strstr(d.msg, "onnect") != NULL, "%s", d.msg);
	ck_assert_uint_eq(tok.len, 0);
}
END_TEST

/*
 * A server that accepts connections and never answers: the configured
 * timeout ends the call with one line. The bound is checked one way only
 * (not before the timeout), so a busy machine cannot fail it.
 */
START_TEST(test_timeout)
{
	struct avxmock	 m;
	struct mca_avx	 c;
	struct mca_diag	 d;
	struct mca_buf	 tok = MCA_BUF_INIT;
	struct timespec	 t0, t1;
	int		 rc;

	start(&m, AM_SILENT, &c);
	c.connect_timeout = 2;
	c.timeout = 2;
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	rc = mca_avx_token(&c, &tok, &d);
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	ck_assert_msg(rc == MCA_ERR_IO, "%d: %s", rc, d.msg);
	assert_line(&d, "imed out");
	ck_assert_int_ge(t1.tv_sec - t0.tv_sec, 1);
	avxmock_stop(&m);
}
END_TEST

/* The APIconfig gives the client what it needs; a gap is named. */
START_TEST(test_apiconfig)
{
	static const char json[] = "{\n"
	    " \"appviewx_hostname\": \"avx.example.com\",\n"
	    " \"appviewx_port_number\": 31443,\n"
	    " \"ca_setting_name\": \"PKIaaS Sub-CA\",\n"
	    " \"template_name\": \"SubCA\",\n"
	    " \"issuer_name\": \"Issuing CA 1\",\n"
	    " \"ca_name\": \"AppViewX\",\n"
	    " \"intermediate_cert_validity_in_days\": 730,\n"
	    " \"appviewx_group_name\": \"microca\",\n"
	    " \"service_account_client_id\": \"" CLIENT_ID "\",\n"
	    " \"service_account_client_secret\": \"" SECRET "\",\n"
	    " \"appviewx_gwkey\": \"f000ca01\",\n"
	    " \"appviewx_token_request\": \"form\",\n"
	    " \"appviewx_certificate_category\": \"Client\"\n"
	    "}\n";
	static const char bad1[] = "{\"appviewx_hostname\": \"h\", "
	    "\"appviewx_port_number\": 1, \"appviewx_token_request\": "
	    "\"xml\"}";
	static const char bad2[] = "{\"appviewx_hostname\": \"h\", "
	    "\"appviewx_port_number\": 1, \"appviewx_gwkey\": \"a&b\"}";
	struct mca_apiconfig	*a = NULL;
	struct mca_avx		 c;
	struct mca_diag		 d;

	ck_assert_msg(mca_apiconfig_parse("APIconfig", json, strlen(json), &a,
	    &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(a->nwarnings, 0);
	ck_assert_int_eq(mca_avx_from_apiconfig(&c, a, &d), 0);
	ck_assert_str_eq(c.host, "avx.example.com");
	ck_assert_uint_eq(c.port, 31443);
	ck_assert_str_eq(c.gwkey, "f000ca01");
	ck_assert_int_eq(c.grant, MCA_AVX_GRANT_FORM);
	ck_assert_str_eq(c.category, "Client");
	ck_assert_str_eq(c.ca_name, "AppViewX");
	ck_assert_str_eq(c.ca_setting_name, "PKIaaS Sub-CA");
	ck_assert_str_eq(c.template_name, "SubCA");
	ck_assert_str_eq(c.issuer_name, "Issuing CA 1");
	ck_assert_str_eq(c.group_name, "microca");
	ck_assert_int_eq(c.validity_days, 730);
	ck_assert_str_eq(c.client_id, CLIENT_ID);
	ck_assert_str_eq(c.client_secret, SECRET);
	ck_assert_ptr_null(c.tls.cafile);
	/* Wiped after use: the client sees no secret any more. */
	mca_apiconfig_wipe_secrets(a);
	ck_assert_ptr_null(a->service_account_client_secret);
	ck_assert_int_eq(mca_avx_from_apiconfig(&c, a, &d), MCA_ERR_CONFIG);
	assert_line(&d, "APIconfig: service_account_client_secret: missing");
	mca_apiconfig_free(a);
	a = NULL;

	/* Only "json" or "form". */
	ck_assert_int_eq(mca_apiconfig_parse("APIconfig", bad1, strlen(bad1),
	    &a, &d), MCA_ERR_CONFIG);
	assert_line(&d, "appviewx_token_request: expected \"json\" or "
	    "\"form\"");
	ck_assert_int_eq(mca_apiconfig_parse("APIconfig", bad2, strlen(bad2),
	    &a, &d), MCA_ERR_CONFIG);
	assert_line(&d, "appviewx_gwkey: expected 1-64 of");
}
END_TEST

Suite *
avx_suite(void)
{
	Suite	*s = suite_create("avx");
	TCase	*tc = tcase_create("mock");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_enroll, 0, 3);
	tcase_add_test(tc, test_steps);
	tcase_add_loop_test(tc, test_faults, 0,
	    sizeof(faults) / sizeof(faults[0]));
	tcase_add_test(tc, test_bad_csr);
	tcase_add_test(tc, test_untrusted);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_apiconfig);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(avx_suite());
}
