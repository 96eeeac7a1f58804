/*
 * End to end through the real program in plain-CGI mode: each endpoint,
 * each error status, issued certificates checked with `openssl verify`
 * and for every extension the profile asks for, ledger rows and PEM
 * files checked. The CA key lives in a real SoftHSMv2 token (EC and RSA)
 * or a PEM file, made by tests/pki/mkpki.sh.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "b64.h"
#include "buf.h"
#include "castate.h"
#include "certinfo.h"
#include "ledger.h"
#include "p11.h"
#include "testutil.h"

static char	*dir;		/* the PKI, config, ledger of this run */
static char	 mode[16];	/* mkpki mode */

struct cgi {
	int		 status;
	int		 exitcode;
	struct mca_buf	 head;
	struct mca_buf	 body;
	struct mca_buf	 err;
};

static void
cgi_free(struct cgi *r)
{
	mca_buf_free(&r->head);
	mca_buf_free(&r->body);
	mca_buf_free(&r->err);
}

static char *
path(const char *name)
{
	static char	 p[8][4096 + 256];
	static int	 i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%.4096s/%.250s", dir, name);
	return p[i];
}

/* ------------------------------------------------------------ setup */

/*
 * make_csr() asks for all four name types; labels that take its CSRs
 * allow them (the default is DNS and IP only).
 */
#define SAN_ALL	"\"san_policy\": {\"allowed_types\": [\"DNS\", \"IP\", " \
		"\"URI\", \"email\"]},\n"

static void
write_config(const char *file, const char *keysrc, const char *extra)
{
	char	 cfg[16384];
	int	 n;

	n = snprintf(cfg, sizeof(cfg),
	    "{\n"
	    " \"intermediate_cert_config\": { \"hash_function\": \"SHA256\" },\n"
	    " \"intermediate_cert_path\": \"%s/chain.pem\",\n"
	    " %s,\n"
	    " \"mtls_ca_cert\": \"%s/boot-ca.pem\",\n"
	    " \"ledger_db_path\": \"%s/ledger.db\",\n"
	    " \"issued_certs_dir\": \"%s/IssuedCerts\",\n"
	    " %s"
	    " \"end_certificate_config_1\": {\n"
	    "  " SAN_ALL "  \"end_point_name\": \"device\", \"validity_in_days\": 30,\n"
	    "  \"extended_key_usage_list\": [\"1.3.6.1.5.5.7.3.2\", \"1.2.3.4.5.6.7.8.9\"],\n"
	    "  \"key_usage\": { \"digital_signature\": true, \"key_agreement\": true },\n"
	    "  \"is_device_cert\": true, \"is_unlimited_validity\": false,\n"
	    "  \"is_ca\": false, \"path_length_constraint\": null },\n"
	    " \"end_certificate_config_2\": {\n"
	    "  " SAN_ALL "  \"end_point_name\": \"server\", \"validity_in_days\": 365,\n"
	    "  \"extended_key_usage_list\": [\"1.3.6.1.5.5.7.3.1\"],\n"
	    "  \"key_usage\": { \"digital_signature\": true, \"key_encipherment\": true },\n"
	    "  \"is_device_cert\": false, \"base64_line_length\": 0 },\n"
	    " \"end_certificate_config_3\": {\n"
	    "  " SAN_ALL "  \"end_point_name\": \"subca\", \"validity_in_days\": 100,\n"
	    "  \"key_usage\": { \"key_cert_sign\": true, \"crl_sign\": true },\n"
	    "  \"is_ca\": true, \"path_length_constraint\": 0 },\n"
	    " \"end_certificate_config_4\": {\n"
	    "  " SAN_ALL "  \"end_point_name\": \"forever\", \"is_unlimited_validity\": true,\n"
	    "  \"key_usage\": { \"digital_signature\": true } },\n"
	    " \"end_certificate_config_5\": {\n"
	    "  " SAN_ALL "  \"end_point_name\": \"p384only\", \"validity_in_days\": 10,\n"
	    "  \"key_type\": \"ECC\", \"key_size\": 384 },\n"
	    " \"end_certificate_config_6\": {\n"
	    "  " SAN_ALL "  \"end_point_name\": \"skg-ec\", \"validity_in_days\": 30,\n"
	    "  \"key_usage\": { \"digital_signature\": true },\n"
	    "  \"server_key_type\": \"ECC\", \"server_key_size\": 384 },\n"
	    " \"end_certificate_config_7\": {\n"
	    "  " SAN_ALL "  \"end_point_name\": \"skg-rsa\", \"validity_in_days\": 30,\n"
	    "  \"key_usage\": { \"digital_signature\": true,\n"
	    "    \"key_encipherment\": true },\n"
	    "  \"server_key_type\": \"RSA\", \"server_key_size\": 3072,\n"
	    "  \"base64_line_length\": 76 }\n"
	    "}\n", dir, keysrc, dir, dir, dir, extra != NULL ? extra : "");
	ck_assert_int_lt(n, (int)sizeof(cfg));
	ck_assert_int_eq(tu_write(file, cfg, (size_t)n), 0);
	ck_assert_int_eq(chmod(file, 0600), 0);
}

static void
keysrc(char *out, size_t len)
{
	if (strncmp(mode, "hsm", 3) == 0)
		snprintf(out, len,
		    "\"intermediate_private_key_label_in_pkcs11\": \"microca-ca\",\n"
		    " \"pkcs11_library\": \"%s\",\n"
		    " \"pkcs11_library_pin\": \"1234\"", getenv("SOFTHSM2_MODULE"));
	else
		snprintf(out, len, "\"intermediate_private_key_path\": \"%s/ca.key\"",
		    dir);
}

static void
setup_mode(const char *m)
{
	char	 ks[1024], conf[1100];

	snprintf(mode, sizeof(mode), "%s", m);
	if (getenv("SOFTHSM2_MODULE") == NULL || *getenv("SOFTHSM2_MODULE") == '\0')
		setenv("SOFTHSM2_MODULE", "/usr/lib/softhsm/libsofthsm2.so", 1);
	dir = tu_mkdtemp("est");
	if (tu_mkpki(dir, mode) != 0) {
		fprintf(stderr, "mkpki %s failed\n", mode);
		abort();
	}
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", conf, 1);
	keysrc(ks, sizeof(ks));
	write_config(path("config.json"), ks, NULL);
}

static void setup_hsm_ec(void) { setup_mode("hsm-ec"); }
static void setup_hsm_rsa(void) { setup_mode("hsm-rsa"); }
static void setup_file(void) { setup_mode("file"); }

static void
teardown(void)
{
	tu_rmtree(dir);
	free(dir);
	dir = NULL;
}

/* ------------------------------------------------------------ running */

/*
 * Runs microca-est once as a CGI program. client is the name of a PEM
 * file in dir for SSL_CLIENT_CERT (NULL: none); extra is "NAME=value"
 * environment entries separated by '\n'.
 */
static void
run_cgi_cfg(const char *config, const char *method, const char *uri,
    const char *ctype, const void *body, long bodylen, const char *client,
    const char *extra, struct cgi *r)
{
	char		*env[32], *ex = NULL, *tok, *save = NULL;
	char		 exe[1024], in[1024], out[1024], errf[1024];
	char		 vars[12][1024];
	struct mca_buf	 pem = MCA_BUF_INIT, raw = MCA_BUF_INIT;
	char		*pemvar = NULL;
	size_t		 ne = 0, nv = 0;
	pid_t		 pid;
	int		 st, fd;
	char		*sep;

	memset(r, 0, sizeof(*r));
	snprintf(exe, sizeof(exe), "%s/microca-est", tu_builddir());
	snprintf(in, sizeof(in), "%s/cgi.in", dir);
	snprintf(out, sizeof(out), "%s/cgi.out", dir);
	snprintf(errf, sizeof(errf), "%s/cgi.err", dir);
	ck_assert_int_eq(tu_write(in, body != NULL ? body : "",
	    body != NULL ? (size_t)(bodylen < 0 ? 0 : bodylen) : 0), 0);

#define ADDV(...) do { snprintf(vars[nv], sizeof(vars[nv]), __VA_ARGS__); \
	env[ne++] = vars[nv++]; } while (0)
	ADDV("PATH=/usr/bin:/bin");
	ADDV("GATEWAY_INTERFACE=CGI/1.1");
	ADDV("REQUEST_METHOD=%s", method);
	ADDV("REQUEST_URI=%s", uri);
	ADDV("REMOTE_ADDR=127.0.0.1");
	ADDV("MICROCA_CONFIG=%s", config);
	ADDV("SOFTHSM2_CONF=%s", getenv("SOFTHSM2_CONF"));
	if (body != NULL && bodylen >= 0 &&
	    (extra == NULL || strstr(extra, "CONTENT_LENGTH=") == NULL))
		ADDV("CONTENT_LENGTH=%ld", bodylen);
	if (ctype != NULL)
		ADDV("CONTENT_TYPE=%s", ctype);
	if (client != NULL) {
		ck_assert_int_eq(tu_read(path(client), &pem), 0);
		if (asprintf(&pemvar, "SSL_CLIENT_CERT=%s", mca_buf_str(&pem)) < 0)
			abort();
		env[ne++] = pemvar;
		ADDV("SSL_CLIENT_VERIFY=SUCCESS");
	} else
		ADDV("SSL_CLIENT_VERIFY=NONE");
	if (extra != NULL) {
		ex = strdup(extra);
		for (tok = strtok_r(ex, "\n", &save); tok != NULL && ne < 30;
		    tok = strtok_r(NULL, "\n", &save))
			env[ne++] = tok;
	}
	env[ne] = NULL;
#undef ADDV

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *argv[] = { exe, "--logToTerminal", "--debugMode", NULL };

		if ((fd = open(in, O_RDONLY)) == -1 || dup2(fd, 0) == -1)
			_exit(126);
		if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
		    dup2(fd, 1) == -1)
			_exit(126);
		if ((fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
		    dup2(fd, 2) == -1)
			_exit(126);
		execve(exe, argv, env);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	r->exitcode = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	ck_assert_int_eq(tu_read(out, &raw), 0);
	(void)tu_read(errf, &r->err);
	/* split head and body */
	sep = strstr(mca_buf_str(&raw), "\r\n\r\n");
	if (sep != NULL) {
		ck_assert_int_eq(mca_buf_add(&r->head, raw.data,
		    (size_t)(sep - (char *)raw.data) + 2), 0);
		ck_assert_int_eq(mca_buf_add(&r->body, sep + 4,
		    raw.len - (size_t)(sep + 4 - (char *)raw.data)), 0);
		if (strncmp(mca_buf_str(&r->head), "Status: ", 8) == 0)
			r->status = atoi(mca_buf_str(&r->head) + 8);
	}
	mca_buf_free(&raw);
	mca_buf_free(&pem);
	free(pemvar);
	free(ex);
}

static void
run_cgi(const char *method, const char *uri, const char *ctype,
    const void *body, long bodylen, const char *client, struct cgi *r)
{
	run_cgi_cfg(path("config.json"), method, uri, ctype, body, bodylen,
	    client, NULL, r);
}

/* The value of header name in r, exactly spelled, or NULL. */
static const char *
header(const struct cgi *r, const char *name)
{
	static char	 v[512];
	const char	*h = mca_buf_str(&r->head), *p, *e;
	size_t		 n = strlen(name);

	for (p = h; p != NULL && *p != '\0'; p = strstr(p, "\r\n") ?
	    strstr(p, "\r\n") + 2 : NULL) {
		if (strncmp(p, name, n) == 0 && p[n] == ':' && p[n + 1] == ' ') {
			e = strstr(p, "\r\n");
			snprintf(v, sizeof(v), "%.*s", (int)(e - p - n - 2), p + n + 2);
			return v;
		}
	}
	return NULL;
}

/* An error answer: status, one line of text/plain that contains what. */
static void
assert_error(const struct cgi *r, int status, const char *what)
{
	const char	*b = mca_buf_str(&r->body);

	ck_assert_msg(r->status == status, "status %d, want %d; body: %s; "
	    "log: %s", r->status, status, b, mca_buf_str(&r->err));
	ck_assert_str_eq(header(r, "Content-Type"), "text/plain");
	ck_assert_int_eq(atoi(header(r, "Content-Length")), (int)r->body.len);
	ck_assert_msg(r->body.len > 1 && b[r->body.len - 1] == '\n' &&
	    strchr(b, '\n') == b + r->body.len - 1, "not one line: %s", b);
	if (what != NULL)
		ck_assert_msg(strstr(b, what) != NULL, "body \"%s\" lacks \"%s\"",
		    b, what);
}

/* ------------------------------------------------------------ CSRs */

static EVP_PKEY *
genkey(const char *kind)
{
	EVP_PKEY	*k = NULL;

	if (strcmp(kind, "rsa2048") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(kind, "rsa1024") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	else if (strcmp(kind, "p256") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(kind, "p384") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (strcmp(kind, "p521") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	else if (strcmp(kind, "k256") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	else if (strcmp(kind, "ed25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ck_assert_ptr_nonnull(k);
	return k;
}

static void make_csr_san(EVP_PKEY *, const char *, const char *,
    struct mca_buf *);

/* DER of a CSR for key with CN=cn and, if dns, a DNS SAN and others. */
static void
make_csr(EVP_PKEY *key, const char *cn, const char *dns, struct mca_buf *der)
{
	char	 san[300];

	if (dns == NULL) {
		make_csr_san(key, cn, NULL, der);
		return;
	}
	snprintf(san, sizeof(san), "DNS:%s, IP:192.0.2.7, email:ops@example.com, "
	    "URI:urn:dev:%s", dns, dns);
	make_csr_san(key, cn, san, der);
}

/*
 * DER of a CSR for key with subject cn ("CN=x" pairs joined by '/' when
 * it holds a '=', else the CN alone; NULL: empty) and, if san, that
 * subjectAltName (openssl's "DNS:a, IP:b" form).
 */
static void
make_csr_san(EVP_PKEY *key, const char *cn, const char *san,
    struct mca_buf *der)
{
	X509_REQ			*req = X509_REQ_new();
	X509_NAME			*n = X509_NAME_new();
	STACK_OF(X509_EXTENSION)	*exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION			*e;
	unsigned char			*p = NULL;
	int				 len;

	ck_assert_int_eq(X509_REQ_set_version(req, 0), 1);
	if (cn != NULL && strchr(cn, '=') != NULL) {
		char	*dup = strdup(cn), *pair, *save = NULL, *eq;

		for (pair = strtok_r(dup, "/", &save); pair != NULL;
		    pair = strtok_r(NULL, "/", &save)) {
			ck_assert_ptr_nonnull(eq = strchr(pair, '='));
			*eq++ = '\0';
			ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, pair,
			    MBSTRING_UTF8, (const unsigned char *)eq, -1, -1,
			    0), 1);
		}
		free(dup);
	} else if (cn != NULL)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		    (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, n);
	X509_REQ_set_pubkey(req, key);
	if (san != NULL) {
		e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
		ck_assert_ptr_nonnull(e);
		sk_X509_EXTENSION_push(exts, e);
		/* an extension we must ignore */
		e = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
		    "critical,CA:TRUE");
		sk_X509_EXTENSION_push(exts, e);
		X509_REQ_add_extensions(req, exts);
	}
	ck_assert_int_gt(X509_REQ_sign(req, key,
	    EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256()), 0);
	len = i2d_X509_REQ(req, &p);
	ck_assert_int_gt(len, 0);
	mca_buf_reset(der);
	mca_buf_add(der, p, (size_t)len);
	OPENSSL_free(p);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	X509_REQ_free(req);
}

static void
csr_b64(EVP_PKEY *key, const char *cn, const char *dns, unsigned wrap,
    struct mca_buf *out)
{
	struct mca_buf	 der = MCA_BUF_INIT;

	make_csr(key, cn, dns, &der);
	mca_buf_reset(out);
	ck_assert_int_eq(mca_b64_encode(der.data, der.len, wrap, out), 0);
	mca_buf_free(&der);
}

/* As csr_b64(), wrapped at 64, with a signature that does not verify. */
static void
csr_b64_tampered(EVP_PKEY *key, const char *cn, struct mca_buf *out)
{
	struct mca_buf	 der = MCA_BUF_INIT;

	make_csr(key, cn, NULL, &der);
	der.data[der.len - 5] ^= 0x01;
	mca_buf_reset(out);
	ck_assert_int_eq(mca_b64_encode(der.data, der.len, 64, out), 0);
	mca_buf_free(&der);
}

/* DigiCert's curl form (text/plain): PEM on one line, spaces for breaks. */
static void
csr_pem_oneline(EVP_PKEY *key, const char *cn, struct mca_buf *out)
{
	struct mca_buf	 der = MCA_BUF_INIT;
	size_t		 i;

	make_csr(key, cn, NULL, &der);
	mca_buf_reset(out);
	mca_buf_addstr(out, "-----BEGIN CERTIFICATE REQUEST----- ");
	mca_b64_encode(der.data, der.len, 64, out);
	mca_buf_addstr(out, "-----END CERTIFICATE REQUEST-----");
	for (i = 0; i < out->len; i++)
		if (out->data[i] == '\n')
			out->data[i] = ' ';
	mca_buf_free(&der);
}

/* ------------------------------------------------------------ results */

/* Decodes a certs-only answer; returns its certificates. */
static STACK_OF(X509) *
certs_of(const struct cgi *r)
{
	struct mca_buf		 der = MCA_BUF_INIT;
	const unsigned char	*p;
	PKCS7			*p7;
	STACK_OF(X509)		*sk;

	ck_assert_msg(r->status == 200, "status %d: %s log: %s", r->status,
	    mca_buf_str(&r->body), mca_buf_str(&r->err));
	ck_assert_str_eq(header(r, "Content-Type"),
	    "application/pkcs7-mime; smime-type=certs-only");
	ck_assert_str_eq(header(r, "Content-Transfer-Encoding"), "base64");
	ck_assert_int_eq(atoi(header(r, "Content-Length")), (int)r->body.len);
	ck_assert_int_eq(mca_b64_decode((const char *)r->body.data,
	    r->body.len, &der), 0);
	p = der.data;
	p7 = d2i_PKCS7(NULL, &p, (long)der.len);
	ck_assert_ptr_nonnull(p7);
	ck_assert_int_eq(p - der.data, (long)der.len);
	ck_assert(PKCS7_type_is_signed(p7));
	ck_assert_int_eq(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info), 0);
	sk = X509_chain_up_ref(p7->d.sign->cert);
	PKCS7_free(p7);
	mca_buf_free(&der);
	return sk;
}

static X509 *
issued_cert(const struct cgi *r)
{
	STACK_OF(X509)	*sk = certs_of(r);
	X509		*x;

	ck_assert_int_eq(sk_X509_num(sk), 1);
	x = sk_X509_value(sk, 0);
	X509_up_ref(x);
	sk_X509_pop_free(sk, X509_free);
	return x;
}

static void
save_pem(X509 *x, const char *name)
{
	FILE	*f = fopen(path(name), "w");

	ck_assert_ptr_nonnull(f);
	PEM_write_X509(f, x);
	fclose(f);
}

static void
save_key(EVP_PKEY *k, const char *name)
{
	FILE	*f = fopen(path(name), "w");

	ck_assert_ptr_nonnull(f);
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static void
serial_of(X509 *x, char *out, size_t len)
{
	BIGNUM	*bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char	*h = BN_bn2hex(bn);

	snprintf(out, len, "%s", h);
	OPENSSL_free(h);
	BN_free(bn);
}

/* `openssl verify` against the test root with the CA as intermediate. */
static void
assert_verifies(X509 *x)
{
	save_pem(x, "verify-me.pem");
	ck_assert_int_eq(tu_sh(NULL, "'%s' verify -CAfile '%s' -untrusted '%s' "
	    "'%s' >&2", tu_openssl(), path("root.pem"), path("ca.pem"),
	    path("verify-me.pem")), 0);
}

/* One value from the ledger, as text ("" when NULL or no row). */
static void
sql1(char *out, size_t len, const char *fmt, ...)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;
	va_list		 ap;
	char		*q;

	va_start(ap, fmt);
	q = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	out[0] = '\0';
	ck_assert_int_eq(sqlite3_open_v2(path("ledger.db"), &db,
	    SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", q, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, len, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	sqlite3_free(q);
}

static int
sql_count(const char *fmt_table_where)
{
	char	 v[32];

	sql1(v, sizeof(v), "SELECT count(*) FROM %s", fmt_table_where);
	return atoi(v);
}

/*
 * The 403 refusals of label strict: rows, and those only counted
 * (refusal_counts) because the ledger was busy or the minute full.
 */
static int
refusals_403(void)
{
	char	 v[32];

	sql1(v, sizeof(v), "SELECT (SELECT count(*) FROM refusals WHERE "
	    "label = 'strict' AND status = 403) + (SELECT ifnull(sum(n), 0) "
	    "FROM refusal_counts WHERE label = 'strict' AND status = 403)");
	return atoi(v);
}

static int
issued_files(void)
{
	DIR		*d = opendir(path("IssuedCerts"));
	struct dirent	*e;
	int		 n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* IssuedCerts/<serial>.pem holds the PEM of the ledger's row, no more. */
static void
assert_pem_file(const char *serial)
{
	struct mca_buf	 file = MCA_BUF_INIT;
	char		 v[4096];

	snprintf(v, sizeof(v), "IssuedCerts/%s.pem", serial);
	ck_assert_int_eq(tu_read(path(v), &file), 0);
	sql1(v, sizeof(v), "SELECT pem FROM certificates WHERE serial=%Q",
	    serial);
	ck_assert_str_eq(mca_buf_str(&file), v);
	mca_buf_free(&file);
}

static int
has_ext_critical(X509 *x, int nid)
{
	int	 i = X509_get_ext_by_NID(x, nid, -1);

	if (i < 0)
		return -1;
	return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

/* ------------------------------------------------------------ tests */

START_TEST(t_cacerts)
{
	struct cgi	 r;
	STACK_OF(X509)	*sk;
	STACK_OF(X509)	*want = NULL;
	FILE		*f;
	X509		*x;
	const char	*b;
	size_t		 col = 0, i;

	run_cgi("GET", "/.well-known/est/cacerts", NULL, NULL, -1, NULL, &r);
	sk = certs_of(&r);
	/* RFC 7030 4.1.3: the whole chain, the CA first, up to the root. */
	ck_assert_int_eq(sk_X509_num(sk), 2);
	f = fopen(path("chain.pem"), "r");
	want = sk_X509_new_null();
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(want, x);
	fclose(f);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(X509_cmp(sk_X509_value(sk, (int)i),
		    sk_X509_value(want, (int)i)), 0);
	/* wrapped at 64 columns by default */
	b = mca_buf_str(&r.body);
	for (i = 0; i < r.body.len; i++) {
		if (b[i] == '\n') {
			ck_assert_uint_le(col, 64);
			col = 0;
		} else
			col++;
	}
	ck_assert_ptr_nonnull(strchr(b, '\n'));
	sk_X509_pop_free(sk, X509_free);
	sk_X509_pop_free(want, X509_free);
	cgi_free(&r);

	/* base64_line_length 0: one line, no break at all (strongSwan) */
	run_cgi("GET", "/.well-known/est/server/cacerts?x=1", NULL, NULL, -1,
	    NULL, &r);
	sk = certs_of(&r);
	ck_assert_ptr_null(memchr(r.body.data, '\n', r.body.len));
	ck_assert_ptr_null(memchr(r.body.data, '\r', r.body.len));
	sk_X509_pop_free(sk, X509_free);
	cgi_free(&r);
}
END_TEST

/*
 * GETs label's /csrattrs: 200, application/csrattrs in base64; what
 * `openssl asn1parse` makes of the body goes to out.
 */
static void
csrattrs_asn1(const char *label, struct mca_buf *out)
{
	struct cgi	 r;
	char		 uri[256];

	snprintf(uri, sizeof(uri), "/.well-known/est/%s/csrattrs", label);
	run_cgi("GET", uri, NULL, NULL, -1, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Content-Type"), "application/csrattrs");
	ck_assert_str_eq(header(&r, "Content-Transfer-Encoding"), "base64");
	ck_assert_int_eq(tu_write(path("attrs.b64"), (const char *)r.body.data,
	    r.body.len), 0);
	mca_buf_reset(out);
	ck_assert_int_eq(tu_sh(out, "'%s' asn1parse -in '%s'", tu_openssl(),
	    path("attrs.b64")), 0);
	cgi_free(&r);
}

START_TEST(t_csrattrs)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	csrattrs_asn1("p384only", &out);
	ck_assert_msg(strstr(mca_buf_str(&out), "secp384r1") != NULL, "%s",
	    mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "id-ecPublicKey") != NULL, "%s",
	    mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "ecdsa-with-SHA256") != NULL,
	    "%s", mca_buf_str(&out));
	mca_buf_free(&out);
}
END_TEST

/* Enrolls a P-256 key on label with the bootstrap cert; returns the cert. */
static X509 *
enroll_ok(const char *label, const char *kind, const char *cn,
    const char *client, EVP_PKEY **keyp)
{
	struct cgi	 r;
	struct mca_buf	 b = MCA_BUF_INIT;
	EVP_PKEY	*k = genkey(kind);
	char		 uri[256];
	X509		*x;

	csr_b64(k, cn, "dev1.example.com", 64, &b);
	snprintf(uri, sizeof(uri), "/.well-known/est/%s%ssimpleenroll",
	    label, *label ? "/" : "");
	run_cgi("POST", uri, "application/pkcs10", b.data, (long)b.len,
	    client, &r);
	x = issued_cert(&r);
	cgi_free(&r);
	mca_buf_free(&b);
	if (keyp != NULL)
		*keyp = k;
	else
		EVP_PKEY_free(k);
	return x;
}

START_TEST(t_enroll_device)
{
	X509			*x, *ca;
	EVP_PKEY		*k;
	BASIC_CONSTRAINTS	*bc;
	ASN1_BIT_STRING		*ku;
	EXTENDED_KEY_USAGE	*eku;
	char			 serial[80], v[4096], want[80];
	FILE			*f;
	int			 days, secs, before;

	before = sql_count("certificates");
	x = enroll_ok("device", "p256", "device-0001", "boot.pem", &k);
	assert_verifies(x);
	ck_assert_int_eq(X509_get_version(x), 2);
	ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);
	/* subject and SAN from the CSR */
	X509_NAME_oneline(X509_get_subject_name(x), v, sizeof(v));
	ck_assert_str_eq(v, "/CN=device-0001");
	/* basicConstraints critical CA:FALSE, despite the CSR asking CA:TRUE */
	ck_assert_int_eq(has_ext_critical(x, NID_basic_constraints), 1);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	ck_assert_int_eq(bc->ca, 0);
	BASIC_CONSTRAINTS_free(bc);
	/* keyUsage critical: digitalSignature + keyAgreement only */
	ck_assert_int_eq(has_ext_critical(x, NID_key_usage), 1);
	ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
	ck_assert(ASN1_BIT_STRING_get_bit(ku, 0));
	ck_assert(ASN1_BIT_STRING_get_bit(ku, 4));
	ck_assert(!ASN1_BIT_STRING_get_bit(ku, 2));
	ck_assert(!ASN1_BIT_STRING_get_bit(ku, 5));
	ASN1_BIT_STRING_free(ku);
	/* EKU: the two OIDs, in order */
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	ck_assert_int_eq(sk_ASN1_OBJECT_num(eku), 2);
	OBJ_obj2txt(v, sizeof(v), sk_ASN1_OBJECT_value(eku, 0), 1);
	ck_assert_str_eq(v, "1.3.6.1.5.5.7.3.2");
	OBJ_obj2txt(v, sizeof(v), sk_ASN1_OBJECT_value(eku, 1), 1);
	ck_assert_str_eq(v, "1.2.3.4.5.6.7.8.9");
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	/* SAN copied (non-critical: the subject is not empty) */
	ck_assert_int_eq(has_ext_critical(x, NID_subject_alt_name), 0);
	/* SKI, and AKI = the CA's SKI */
	f = fopen(path("ca.pem"), "r");
	ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(X509_get0_subject_key_id(x));
	ck_assert_int_eq(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(ca)), 0);
	/* validity: 30 days from about now, backdated a few minutes */
	ck_assert_int_eq(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)), 1);
	ck_assert_int_eq(days, 30);
	ck_assert_int_eq(secs, 300);
	ck_assert_int_lt(X509_cmp_time(X509_get0_notBefore(x), NULL), 0);
	/* serial: positive, at least 64 bits */
	ck_assert_int_ge(BN_num_bits(ASN1_INTEGER_to_BN(
	    X509_get0_serialNumber(x), NULL)), 64);
	ck_assert_int_eq(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);

	/* the ledger row */
	serial_of(x, serial, sizeof(serial));
	ck_assert_int_eq(sql_count("certificates"), before + 1);
	sql1(v, sizeof(v), "SELECT label||'|'||operation||'|'||azure_sync||'|'||"
	    "key_type||'|'||subject||'|'||requester_subject||'|'||remote_addr "
	    "FROM certificates WHERE serial=%Q", serial);
	ck_assert_str_eq(v, "device|enroll|pending|EC-P-256|CN=device-0001|"
	    "CN=device-boot-001,O=microca test|127.0.0.1");
	sql1(v, sizeof(v), "SELECT san FROM certificates WHERE serial=%Q", serial);
	ck_assert_msg(strstr(v, "DNS:dev1.example.com") && strstr(v, "IP:192.0.2.7")
	    && strstr(v, "email:ops@example.com") && strstr(v, "URI:urn:dev:"), "%s", v);
	sql1(v, sizeof(v), "SELECT sha256 FROM certificates WHERE serial=%Q",
	    serial);
	{
		unsigned char	 d[32];
		unsigned int	 n, i;

		X509_digest(x, EVP_sha256(), d, &n);
		for (i = 0; i < n; i++)
			snprintf(want + 2 * i, 3, "%02X", d[i]);
		ck_assert_str_eq(v, want);
	}
	/* the PEM file is the ledger's PEM */
	assert_pem_file(serial);
	X509_free(ca);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(t_enroll_keys)
{
	static const char	*ok[] = { "rsa2048", "p384", "p521" };
	static const struct {
		const char	*label;
		const char	*kind;
		const char	*what;	/* in the 400's reason */
	} bad[] = {
		{ "device", "rsa1024", "refused" },
		{ "device", "k256", "refused" },
		{ "device", "ed25519", "refused" },
		/* a label that wants P-384 refuses P-256 */
		{ "p384only", "p256", "p384only" },
	};
	struct mca_buf		 b = MCA_BUF_INIT;
	struct cgi		 r;
	EVP_PKEY		*k;
	X509			*x;
	char			 uri[256];
	size_t			 i;
	int			 rows;

	for (i = 0; i < 3; i++) {
		x = enroll_ok("device", ok[i], "k", "boot.pem", NULL);
		assert_verifies(x);
		X509_free(x);
	}
	rows = sql_count("certificates");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k = genkey(bad[i].kind);
		csr_b64(k, "k", NULL, 0, &b);
		snprintf(uri, sizeof(uri), "/.well-known/est/%s/simpleenroll",
		    bad[i].label);
		run_cgi("POST", uri, "application/pkcs10", b.data, (long)b.len,
		    "boot.pem", &r);
		assert_error(&r, 400, bad[i].what);
		cgi_free(&r);
		EVP_PKEY_free(k);
	}
	ck_assert_int_eq(sql_count("certificates"), rows);
	mca_buf_free(&b);
}
END_TEST

START_TEST(t_enroll_pem_text_plain)
{
	struct mca_buf	 pem = MCA_BUF_INIT;
	struct cgi	 r;
	EVP_PKEY	*k = genkey("p256");
	X509		*x;

	csr_pem_oneline(k, "CN-001", &pem);
	run_cgi("POST", "/.well-known/est/simpleenroll", "text/plain",
	    pem.data, (long)pem.len, "boot.pem", &r);
	x = issued_cert(&r);
	assert_verifies(x);
	/* no label: the default profile (lowest N: device) */
	ck_assert_int_eq(X509_get_ext_by_NID(x, NID_ext_key_usage, -1) >= 0, 1);
	X509_free(x);
	cgi_free(&r);
	mca_buf_free(&pem);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(t_enroll_profiles)
{
	X509			*x;
	BASIC_CONSTRAINTS	*bc;
	ASN1_BIT_STRING		*ku;
	const ASN1_TIME		*na;

	/* a sub-CA profile: CA:TRUE, pathLen 0, keyCertSign + cRLSign */
	x = enroll_ok("subca", "p256", "sub", "boot.pem", NULL);
	assert_verifies(x);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	ck_assert_int_ne(bc->ca, 0);
	ck_assert_int_eq(ASN1_INTEGER_get(bc->pathlen), 0);
	BASIC_CONSTRAINTS_free(bc);
	ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
	ck_assert(ASN1_BIT_STRING_get_bit(ku, 5));
	ck_assert(ASN1_BIT_STRING_get_bit(ku, 6));
	ASN1_BIT_STRING_free(ku);
	X509_free(x);
	/* unlimited validity: 99991231235959Z, RFC 5280 4.1.2.5 */
	x = enroll_ok("forever", "p256", "forever", "boot.pem", NULL);
	na = X509_get0_notAfter(x);
	ck_assert_int_eq(ASN1_STRING_type(na), V_ASN1_GENERALIZEDTIME);
	ck_assert_str_eq((const char *)ASN1_STRING_get0_data(na),
	    "99991231235959Z");
	X509_free(x);
	/* server label: answer on one line */
	x = enroll_ok("server", "p256", "srv", "boot.pem", NULL);
	assert_verifies(x);
	/* not a device label (is_device_cert false): not queued for Azure */
	{
		char	 serial[80], v[64];

		serial_of(x, serial, sizeof(serial));
		sql1(v, sizeof(v), "SELECT label||'|'||azure_sync FROM "
		    "certificates WHERE serial=%Q", serial);
		ck_assert_str_eq(v, "server|none");
	}
	X509_free(x);
}
END_TEST

/*
 * What the ledger and IssuedCerts held before a run of requests that must
 * all be refused: see tally_take() and assert_refused_only().
 */
struct tally {
	int		 certs;		/* rows in certificates */
	int		 files;		/* files in IssuedCerts */
	const char	*where;		/* "refusals [WHERE ...]" */
	int		 refusals;	/* rows of where */
};

/*
 * Takes the tally after one good enrollment, so that IssuedCerts exists
 * and holds a file.
 */
static void
tally_take(struct tally *t, const char *where)
{
	X509_free(enroll_ok("device", "p256", "x", "boot.pem", NULL));
	t->certs = sql_count("certificates");
	t->files = issued_files();
	t->where = where;
	t->refusals = sql_count(where);
}

/* Nothing issued since t was taken, and recorded more refusals since. */
static void
assert_refused_only(const struct tally *t, int recorded)
{
	ck_assert_int_eq(sql_count("certificates"), t->certs);
	ck_assert_int_eq(issued_files(), t->files);
	ck_assert_int_eq(sql_count(t->where), t->refusals + recorded);
}

/*
 * The refusals that every operation taking a CSR shares, sent to uri
 * with csr (base64): no client certificate (401), an untrusted one
 * (403), a body that is not base64 (400), one over 64 KiB (413, before
 * it is read), the media type badtype (415), GET (405, Allow: POST) and
 * no Content-Length (411). Each is a refusal of the operation, and so
 * one row in the ledger's refusals: REFUSE_COMMON_ROWS in all.
 */
#define REFUSE_COMMON_ROWS	7
static void
refuse_common(const char *uri, const struct mca_buf *csr, const char *badtype)
{
	struct mca_buf	 big = MCA_BUF_INIT;
	struct cgi	 r;

	run_cgi("POST", uri, "application/pkcs10", csr->data, (long)csr->len,
	    NULL, &r);
	assert_error(&r, 401, "client certificate");
	cgi_free(&r);
	run_cgi("POST", uri, "application/pkcs10", csr->data, (long)csr->len,
	    "foreign.pem", &r);
	assert_error(&r, 403, "not trusted");
	cgi_free(&r);
	run_cgi("POST", uri, "application/pkcs10", "!!not base64!!", 14,
	    "boot.pem", &r);
	assert_error(&r, 400, NULL);
	cgi_free(&r);
	while (big.len <= 64 * 1024)
		mca_buf_addstr(&big, "QUFBQUFBQUFBQUFB\n");
	run_cgi("POST", uri, "application/pkcs10", big.data, (long)big.len,
	    "boot.pem", &r);
	assert_error(&r, 413, NULL);
	cgi_free(&r);
	run_cgi("POST", uri, badtype, csr->data, (long)csr->len, "boot.pem",
	    &r);
	assert_error(&r, 415, "application/pkcs10");
	cgi_free(&r);
	run_cgi("GET", uri, NULL, NULL, -1, "boot.pem", &r);
	assert_error(&r, 405, "POST");
	ck_assert_str_eq(header(&r, "Allow"), "POST");
	cgi_free(&r);
	run_cgi("POST", uri, "application/pkcs10", csr->data, -1, "boot.pem",
	    &r);
	assert_error(&r, 411, NULL);
	cgi_free(&r);
	mca_buf_free(&big);
}

/*
 * RFC 9110 9.3.2: HEAD on uri answers as GET does (status, Content-Type,
 * Content-Transfer-Encoding, Content-Length), with no content.
 */
static void
assert_head_like_get(const char *uri)
{
	struct cgi	 g, h;
	const char	*names[] = { "Content-Type", "Content-Transfer-Encoding",
	    "Content-Length" };
	char		 gv[512];
	size_t		 i;

	run_cgi("GET", uri, NULL, NULL, -1, NULL, &g);
	run_cgi("HEAD", uri, NULL, NULL, -1, NULL, &h);
	ck_assert_int_eq(g.status, 200);
	ck_assert_int_eq(h.status, 200);
	ck_assert_int_gt(g.body.len, 0);
	ck_assert_msg(h.body.len == 0, "HEAD %s: %zu bytes of body", uri,
	    h.body.len);
	ck_assert_int_eq(atoi(header(&g, "Content-Length")), (int)g.body.len);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_ptr_nonnull(header(&g, names[i]));
		snprintf(gv, sizeof(gv), "%s", header(&g, names[i]));
		ck_assert_ptr_nonnull(header(&h, names[i]));
		ck_assert_str_eq(header(&h, names[i]), gv);
	}
	ck_assert_ptr_null(header(&h, "Allow"));
	cgi_free(&g);
	cgi_free(&h);
}

START_TEST(t_head)
{
	struct cgi	 r;
	struct tally	 t;

	assert_head_like_get("/.well-known/est/cacerts");
	assert_head_like_get("/.well-known/est/server/cacerts");
	assert_head_like_get("/.well-known/est/p384only/csrattrs");
	assert_head_like_get("/.well-known/est/device/csrattrs");
	/* no content on an error either; POST resources allow POST only */
	tally_take(&t, "refusals");
	run_cgi("HEAD", "/.well-known/est/device/simpleenroll", NULL, NULL,
	    -1, "boot.pem", &r);
	ck_assert_int_eq(r.status, 405);
	ck_assert_str_eq(header(&r, "Allow"), "POST");
	ck_assert_int_gt(atoi(header(&r, "Content-Length")), 1);
	ck_assert_uint_eq(r.body.len, 0);
	cgi_free(&r);
	run_cgi("HEAD", "/.well-known/est/nosuch/cacerts", NULL, NULL, -1,
	    NULL, &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_uint_eq(r.body.len, 0);
	cgi_free(&r);
	/* the HEAD on simpleenroll is a refused enrollment, as GET is */
	assert_refused_only(&t, 1);
}
END_TEST

START_TEST(t_errors)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct cgi	 r;
	struct tally	 t;
	EVP_PKEY	*k = genkey("p256");
	const char	*E = "/.well-known/est/device/simpleenroll";

	tally_take(&t, "refusals");
	csr_b64(k, "e", NULL, 64, &b);
	refuse_common(E, &b, "application/x-www-form-urlencoded");

	run_cgi("POST", E, "application/pkcs10", b.data, (long)b.len,
	    "boot-expired.pem", &r);
	assert_error(&r, 403, "expired");
	cgi_free(&r);
	run_cgi("POST", "/.well-known/est/nosuch/simpleenroll",
	    "application/pkcs10", b.data, (long)b.len, "boot.pem", &r);
	assert_error(&r, 404, "nosuch");
	cgi_free(&r);
	run_cgi("GET", "/.well-known/est/device/bogus", NULL, NULL, -1, NULL, &r);
	assert_error(&r, 404, NULL);
	cgi_free(&r);
	run_cgi("GET", "/.well-known/est/device/cacerts/", NULL, NULL, -1, NULL, &r);
	assert_error(&r, 404, NULL);
	cgi_free(&r);
	run_cgi("POST", "/.well-known/est/cacerts", "application/pkcs10", "x", 1,
	    NULL, &r);
	assert_error(&r, 405, NULL);
	ck_assert_str_eq(header(&r, "Allow"), "GET, HEAD");
	cgi_free(&r);
	run_cgi("PUT", "/.well-known/est/device/csrattrs", NULL, NULL, -1,
	    NULL, &r);
	assert_error(&r, 405, "GET, HEAD");
	ck_assert_str_eq(header(&r, "Allow"), "GET, HEAD");
	cgi_free(&r);
	run_cgi("POST", "/.well-known/est/fullcmc", "application/pkcs7-mime",
	    "x", 1, "boot.pem", &r);
	assert_error(&r, 501, "fullcmc");
	cgi_free(&r);
	/* garbage */
	run_cgi("POST", E, "application/pkcs10", "QUFBQQ==", 8, "boot.pem", &r);
	assert_error(&r, 400, NULL);
	cgi_free(&r);
	/* a tampered CSR: proof of possession fails */
	csr_b64_tampered(k, "t", &b);
	run_cgi("POST", E, "application/pkcs10", b.data, (long)b.len,
	    "boot.pem", &r);
	assert_error(&r, 400, NULL);
	cgi_free(&r);
	/*
	 * Nothing issued, every refused enrollment recorded: those of
	 * refuse_common(), 403 expired, 400 x2; not the 404s (no label)
	 * nor the requests to non-enrollment operations.
	 */
	assert_refused_only(&t, REFUSE_COMMON_ROWS + 3);
	{
		char	 v[512];

		sql1(v, sizeof(v), "SELECT status||'|'||label||'|'||reason FROM "
		    "refusals WHERE requester_subject LIKE '%%intruder%%'");
		ck_assert_msg(strncmp(v, "403|device|", 11) == 0, "%s", v);
	}
	mca_buf_free(&b);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(t_short_body)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct cgi	 r;
	EVP_PKEY	*k = genkey("p256");
	char		 extra[64];
	int		 rows = sql_count("certificates");

	csr_b64(k, "e", NULL, 64, &b);
	/* says 100 bytes more than it sends */
	snprintf(extra, sizeof(extra), "CONTENT_LENGTH=%zu", b.len + 100);
	run_cgi_cfg(path("config.json"), "POST",
	    "/.well-known/est/device/simpleenroll", "application/pkcs10",
	    b.data, (long)b.len, "boot.pem", extra, &r);
	assert_error(&r, 400, "shorter");
	cgi_free(&r);
	ck_assert_int_eq(sql_count("certificates"), rows);
	mca_buf_free(&b);
	EVP_PKEY_free(k);
}
END_TEST

/*
 * issued_certs_synchronous "OFF": the copy in IssuedCerts is still
 * written whole (only its fsync is skipped), and equals the ledger's PEM.
 */
START_TEST(t_copy_nosync)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct cgi	 r;
	EVP_PKEY	*k = genkey("p256");
	X509		*x;
	char		 ks[1024], serial[80];
	int		 rows = sql_count("certificates"), files = issued_files();

	keysrc(ks, sizeof(ks));
	write_config(path("nosync.json"), ks,
	    "\"issued_certs_synchronous\": \"OFF\",\n");
	csr_b64(k, "nosync-1", NULL, 64, &b);
	run_cgi_cfg(path("nosync.json"), "POST",
	    "/.well-known/est/device/simpleenroll", "application/pkcs10",
	    b.data, (long)b.len, "boot.pem", NULL, &r);
	x = issued_cert(&r);
	serial_of(x, serial, sizeof(serial));
	ck_assert_int_eq(sql_count("certificates"), rows + 1);
	ck_assert_int_eq(issued_files(), files + 1);
	assert_pem_file(serial);
	cgi_free(&r);
	X509_free(x);
	mca_buf_free(&b);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(t_reenroll)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct cgi	 r;
	EVP_PKEY	*k, *k2;
	X509		*old, *renewed, *rekeyed;
	char		 s_old[80], s_new[80], v[512];

	old = enroll_ok("device", "p256", "device-0042", "boot.pem", &k);
	save_pem(old, "dev42.pem");
	save_key(k, "dev42.key");
	serial_of(old, s_old, sizeof(s_old));

	/* renew: same key; the CSR's identity is ignored (RFC 7030 4.2.2) */
	csr_b64(k, "evil-new-name", "evil.example.com", 64, &b);
	run_cgi("POST", "/.well-known/est/device/simplereenroll",
	    "application/pkcs10", b.data, (long)b.len, "dev42.pem", &r);
	renewed = issued_cert(&r);
	cgi_free(&r);
	assert_verifies(renewed);
	ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(renewed),
	    X509_get_subject_name(old)), 0);
	{
		GENERAL_NAMES	*a = X509_get_ext_d2i(old, NID_subject_alt_name,
		    NULL, NULL);
		GENERAL_NAMES	*c = X509_get_ext_d2i(renewed,
		    NID_subject_alt_name, NULL, NULL);
		unsigned char	*pa = NULL, *pc = NULL;
		int		 la = i2d_GENERAL_NAMES(a, &pa);
		int		 lc = i2d_GENERAL_NAMES(c, &pc);

		ck_assert_int_eq(la, lc);
		ck_assert_int_eq(memcmp(pa, pc, (size_t)la), 0);
		OPENSSL_free(pa);
		OPENSSL_free(pc);
		GENERAL_NAMES_free(a);
		GENERAL_NAMES_free(c);
	}
	ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(renewed), k), 1);
	serial_of(renewed, s_new, sizeof(s_new));
	ck_assert_str_ne(s_new, s_old);
	sql1(v, sizeof(v), "SELECT operation||'|'||replaces_serial FROM "
	    "certificates WHERE serial=%Q", s_new);
	ck_assert(strncmp(v, "reenroll|", 9) == 0);
	ck_assert_str_eq(v + 9, s_old);

	/*
	 * rekey: a new key, with the same old certificate, as a device that
	 * lost the first answer would; within reenroll_grace_seconds
	 * (default 300) it renews again, and the ledger says the first
	 * renewal was superseded by this one.
	 */
	k2 = genkey("p384");
	csr_b64(k2, "whatever", NULL, 64, &b);
	run_cgi("POST", "/.well-known/est/device/simplereenroll",
	    "application/pkcs10", b.data, (long)b.len, "dev42.pem", &r);
	rekeyed = issued_cert(&r);
	cgi_free(&r);
	ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(rekeyed), k2), 1);
	ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(rekeyed),
	    X509_get_subject_name(old)), 0);
	{
		char	 s_rk[80], want[200];

		serial_of(rekeyed, s_rk, sizeof(s_rk));
		sql1(v, sizeof(v), "SELECT superseded_by FROM certificates "
		    "WHERE serial=%Q", s_new);
		ck_assert_str_eq(v, s_rk);
		snprintf(want, sizeof(want), "certificates WHERE "
		    "replaces_serial='%s' AND superseded_by IS NULL", s_old);
		ck_assert_int_eq(sql_count(want), 1);
		save_pem(rekeyed, "dev42b.pem");
	}
	/* a renewed certificate enrolls no more ... */
	run_cgi("POST", "/.well-known/est/device/simpleenroll",
	    "application/pkcs10", b.data, (long)b.len, "dev42.pem", &r);
	assert_error(&r, 403, "was replaced by serial");
	cgi_free(&r);
	/* ... a superseded one renews no more ... */
	save_pem(renewed, "dev42a.pem");
	run_cgi("POST", "/.well-known/est/device/simplereenroll",
	    "application/pkcs10", b.data, (long)b.len, "dev42a.pem", &r);
	assert_error(&r, 403, "was superseded by serial");
	cgi_free(&r);
	/* ... the current one may enroll its own identity again ... */
	csr_b64(k2, "device-0042", "dev1.example.com", 64, &b);
	run_cgi("POST", "/.well-known/est/device/simpleenroll",
	    "application/pkcs10", b.data, (long)b.len, "dev42b.pem", &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);
	/* ... not another's (RFC 7030 3.3.2: it is no RA) ... */
	csr_b64(k2, "whatever", NULL, 64, &b);
	run_cgi("POST", "/.well-known/est/device/simpleenroll",
	    "application/pkcs10", b.data, (long)b.len, "dev42b.pem", &r);
	assert_error(&r, 403, "may enroll only its own subject");
	cgi_free(&r);
	/* ... but not on another */
	run_cgi("POST", "/.well-known/est/server/simplereenroll",
	    "application/pkcs10", b.data, (long)b.len, "dev42b.pem", &r);
	assert_error(&r, 403, "device");
	cgi_free(&r);
	run_cgi("POST", "/.well-known/est/server/simpleenroll",
	    "application/pkcs10", b.data, (long)b.len, "dev42b.pem", &r);
	assert_error(&r, 403, "device");
	cgi_free(&r);
	/* a bootstrap certificate cannot re-enroll */
	run_cgi("POST", "/.well-known/est/device/simplereenroll",
	    "application/pkcs10", b.data, (long)b.len, "boot.pem", &r);
	assert_error(&r, 403, "issued by this CA");
	cgi_free(&r);
	X509_free(old);
	X509_free(renewed);
	X509_free(rekeyed);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	mca_buf_free(&b);
}
END_TEST

START_TEST(t_ledger_failure)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct cgi	 r;
	EVP_PKEY	*k = genkey("p256");
	sqlite3		*db;
	int		 rows, files;

	X509_free(enroll_ok("device", "p256", "x", "boot.pem", NULL));
	rows = sql_count("certificates");
	files = issued_files();
	/* make every insert fail, as a full disk would */
	ck_assert_int_eq(sqlite3_open(path("ledger.db"), &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TRIGGER no_more BEFORE INSERT "
	    "ON certificates BEGIN SELECT RAISE(ABORT, 'disk full'); END",
	    NULL, NULL, NULL), SQLITE_OK);
	csr_b64(k, "e", NULL, 64, &b);
	run_cgi("POST", "/.well-known/est/device/simpleenroll",
	    "application/pkcs10", b.data, (long)b.len, "boot.pem", &r);
	assert_error(&r, 500, "nothing was issued");
	ck_assert_ptr_null(strstr(mca_buf_str(&r.body), "MII"));
	/*
	 * The log says why, in SQLite's words with its codes (issue 11
	 * part 5); the client hears none of it.
	 */
	ck_assert_msg(strstr(mca_buf_str(&r.err), "cannot record serial ") !=
	    NULL && strstr(mca_buf_str(&r.err), ": insert into certificates: "
	    "disk full (SQLITE_CONSTRAINT 19, extended 1811)") != NULL,
	    "log: %s", mca_buf_str(&r.err));
	ck_assert_ptr_null(strstr(mca_buf_str(&r.body), "disk full"));
	ck_assert_ptr_null(strstr(mca_buf_str(&r.body), "SQLITE"));
	ck_assert_ptr_null(strstr(mca_buf_str(&r.head), "disk full"));
	cgi_free(&r);
	ck_assert_int_eq(sqlite3_exec(db, "DROP TRIGGER no_more", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(sql_count("certificates"), rows);
	ck_assert_int_eq(issued_files(), files);
	mca_buf_free(&b);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(t_startup_errors)
{
	struct cgi	 r;
	char		 ks[1024];

	/* a wrong type names the key and the file, and serves nothing */
	ck_assert_int_eq(tu_writef(path("bad.json"), "{ \"intermediate_cert_path\": 5 }"), 0);
	run_cgi_cfg(path("bad.json"), "GET", "/.well-known/est/cacerts", NULL,
	    NULL, -1, NULL, NULL, &r);
	ck_assert_int_eq(r.exitcode, 1);
	assert_error(&r, 500, "cannot start");
	ck_assert_msg(strstr(mca_buf_str(&r.err), "intermediate_cert_path") &&
	    strstr(mca_buf_str(&r.err), "bad.json"), "%s", mca_buf_str(&r.err));
	cgi_free(&r);
	/* a key that does not match the CA certificate */
	keysrc(ks, sizeof(ks));
	write_config(path("mismatch.json"), ks, NULL);
	ck_assert_int_eq(tu_sh(NULL, "sed -i 's#%s/chain.pem#%s/boot-ca.pem#' '%s'",
	    dir, dir, path("mismatch.json")), 0);
	run_cgi_cfg(path("mismatch.json"), "GET", "/.well-known/est/cacerts",
	    NULL, NULL, -1, NULL, NULL, &r);
	ck_assert_int_eq(r.exitcode, 1);
	ck_assert_msg(strstr(mca_buf_str(&r.err), "does not") != NULL, "%s",
	    mca_buf_str(&r.err));
	cgi_free(&r);
	/* a world-readable config holding the PIN is served, with a warning */
	if (strncmp(mode, "hsm", 3) == 0) {
		write_config(path("open.json"), ks, NULL);
		ck_assert_int_eq(chmod(path("open.json"), 0644), 0);
		run_cgi_cfg(path("open.json"), "GET", "/.well-known/est/cacerts",
		    NULL, NULL, -1, NULL, NULL, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_msg(strstr(mca_buf_str(&r.err), "world-readable") !=
		    NULL, "%s", mca_buf_str(&r.err));
		ck_assert_ptr_null(strstr(mca_buf_str(&r.err), "1234"));
		cgi_free(&r);
	}
}
END_TEST

/*
 * Workers start together on a fresh install (lighttpd starts them all;
 * mod_fcgid one per request of a burst, as microca-web's warm-up sends):
 * each makes issued_certs_dir and the ledger when they are not there yet,
 * and none may fail because another has just made them (one did: it
 * exited, and Apache answered its request 500). A race has no sure
 * reproduction: eight at once, four times over; and issued_certs_dir as
 * a file is still refused.
 */
START_TEST(t_startup_together)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	struct cgi	 r;
	char		 ks[1024];

	keysrc(ks, sizeof(ks));
	write_config(path("together.json"), ks, NULL);
	ck_assert_int_eq(tu_sh(NULL, "sed -i 's#%s/IssuedCerts#%s/fresh/"
	    "IssuedCerts#; s#%s/ledger.db#%s/fresh/ledger.db#' '%s'", dir, dir,
	    dir, dir, path("together.json")), 0);
	ck_assert_int_eq(tu_sh(&out, "cd '%s' && for r in 1 2 3 4; do "
	    "rm -rf fresh && mkdir fresh || exit 1; "
	    "for i in 1 2 3 4 5 6 7 8; do '%s/microca-est' --check --config "
	    "together.json > together.$i 2>&1 & done; wait; "
	    "for i in 1 2 3 4 5 6 7 8; do grep -q 'configuration is valid' "
	    "together.$i || cat together.$i; done; done", dir, tu_builddir()),
	    0);
	ck_assert_msg(out.len == 0, "a worker that started with others "
	    "failed: %s", mca_buf_str(&out));
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && rm -rf fresh && mkdir fresh "
	    "&& echo file > fresh/IssuedCerts", dir), 0);
	run_cgi_cfg(path("together.json"), "GET", "/.well-known/est/cacerts",
	    NULL, NULL, -1, NULL, NULL, &r);
	ck_assert_int_eq(r.exitcode, 1);
	assert_error(&r, 500, "cannot start");
	ck_assert_msg(strstr(mca_buf_str(&r.err), "not a directory") != NULL,
	    "%s", mca_buf_str(&r.err));
	cgi_free(&r);
	mca_buf_free(&out);
}
END_TEST

/* ------------------------------------------------------------ serverkeygen */

/* What a /serverkeygen answer carried. */
struct skg {
	EVP_PKEY	*key;		/* from the application/pkcs8 part */
	X509		*cert;		/* from the certs-only part */
	struct mca_buf	 pkcs8;		/* the PKCS#8 DER as sent */
};

static void
skg_free(struct skg *g)
{
	EVP_PKEY_free(g->key);
	X509_free(g->cert);
	mca_buf_free(&g->pkcs8);
	memset(g, 0, sizeof(*g));
}

/*
 * Parses a /serverkeygen answer (RFC 7030 4.4.2) strictly, with a parser
 * of its own: multipart/mixed with a boundary and no transfer encoding of
 * its own; exactly two parts with exactly these headers; CRLF line ends
 * and no bare LF; base64 lines of at most line_len characters (0: one
 * line); the close delimiter last.
 */
static void
skg_parse(const struct cgi *r, unsigned line_len, struct skg *g)
{
	static const char *const want[2] = {
		"Content-Type: application/pkcs8\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n",
		"Content-Type: application/pkcs7-mime; smime-type=certs-only\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n",
	};
	struct mca_buf		 der[2] = { MCA_BUF_INIT, MCA_BUF_INIT };
	const char		*ct, *p, *nl;
	char			 b[128], delim[160];
	const unsigned char	*q;
	PKCS8_PRIV_KEY_INFO	*p8;
	PKCS7			*p7;
	size_t			 i, lines;

	memset(g, 0, sizeof(*g));
	ck_assert_msg(r->status == 200, "status %d: %s log: %s", r->status,
	    mca_buf_str(&r->body), mca_buf_str(&r->err));
	ck_assert_ptr_nonnull(ct = header(r, "Content-Type"));
	ck_assert_msg(strncmp(ct, "multipart/mixed; boundary=", 26) == 0,
	    "%s", ct);
	snprintf(b, sizeof(b), "%s", ct + 26);
	ck_assert_uint_ge(strlen(b), 1);
	ck_assert_uint_le(strlen(b), 70);
	ck_assert_ptr_null(header(r, "Content-Transfer-Encoding"));
	ck_assert_int_eq(atoi(header(r, "Content-Length")), (int)r->body.len);
	for (i = 0; i < r->body.len; i++)
		if (r->body.data[i] == '\n')
			ck_assert(i > 0 && r->body.data[i - 1] == '\r');
	p = mca_buf_str(&r->body);
	snprintf(delim, sizeof(delim), "--%s\r\n", b);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(strncmp(p, delim, strlen(delim)) == 0, "%.80s",
		    p);
		p += strlen(delim);
		ck_assert_msg(strncmp(p, want[i], strlen(want[i])) == 0,
		    "part %zu: %.120s", i, p);
		p += strlen(want[i]);
		for (lines = 0; strncmp(p, "--", 2) != 0; lines++) {
			ck_assert_ptr_nonnull(nl = strstr(p, "\r\n"));
			ck_assert_uint_gt((size_t)(nl - p), 0);
			if (line_len != 0)
				ck_assert_uint_le((size_t)(nl - p), line_len);
			ck_assert_int_eq(mca_b64_decode(p, (size_t)(nl - p),
			    &der[i]), 0);
			p = nl + 2;
		}
		if (line_len == 0)
			ck_assert_uint_eq(lines, 1);
		else
			ck_assert_uint_gt(lines, 1);
	}
	snprintf(delim, sizeof(delim), "--%s--\r\n", b);
	ck_assert_str_eq(p, delim);
	/* the private key: a PrivateKeyInfo, nothing after it */
	q = der[0].data;
	ck_assert_ptr_nonnull(p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q,
	    (long)der[0].len));
	ck_assert_ptr_eq(q, der[0].data + der[0].len);
	ck_assert_ptr_nonnull(g->key = EVP_PKCS82PKEY(p8));
	PKCS8_PRIV_KEY_INFO_free(p8);
	/* the certificate: certs-only, one certificate */
	q = der[1].data;
	ck_assert_ptr_nonnull(p7 = d2i_PKCS7(NULL, &q, (long)der[1].len));
	ck_assert_ptr_eq(q, der[1].data + der[1].len);
	ck_assert(PKCS7_type_is_signed(p7));
	ck_assert_int_eq(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info), 0);
	ck_assert_int_eq(sk_X509_num(p7->d.sign->cert), 1);
	g->cert = sk_X509_value(p7->d.sign->cert, 0);
	X509_up_ref(g->cert);
	PKCS7_free(p7);
	g->pkcs8 = der[0];
	mca_buf_free(&der[1]);
}

/* POSTs a CSR for csrkey to label's /serverkeygen as client. */
static void
skg_run(const char *label, EVP_PKEY *csrkey, const char *cn,
    const char *client, struct cgi *r)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	char		 uri[256];

	csr_b64(csrkey, cn, "skg.example.com", 64, &b);
	snprintf(uri, sizeof(uri), "/.well-known/est/%s/serverkeygen", label);
	run_cgi("POST", uri, "application/pkcs10", b.data, (long)b.len,
	    client, r);
	mca_buf_free(&b);
}

/* The private key signs, and the certificate's key verifies it. */
static void
assert_pair(EVP_PKEY *priv, X509 *x)
{
	ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(x), priv), 1);
	tu_assert_signs(priv, X509_get0_pubkey(x));
}

/*
 * The regular file under p that holds needle, into found; 1 or 0. With
 * blanks set, spaces, tabs, CR and LF are taken out of each file first,
 * so that base64 is found however it was wrapped.
 */
static int
tree_has(const char *p, const void *needle, size_t nlen, int blanks,
    char *found, size_t flen)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct stat	 st;
	struct dirent	*e;
	DIR		*d;
	char		 sub[4096];
	size_t		 i, o;
	int		 hit = 0;

	if (lstat(p, &st) == -1)
		return 0;
	if (S_ISREG(st.st_mode)) {
		ck_assert_int_eq(tu_read(p, &b), 0);
		for (i = o = 0; blanks && i < b.len; i++)
			if (strchr(" \t\r\n", b.data[i]) == NULL ||
			    b.data[i] == '\0')
				b.data[o++] = b.data[i];
		if (blanks)
			b.len = o;
		if (b.len > 0 && memmem(b.data, b.len, needle, nlen) != NULL) {
			snprintf(found, flen, "%s", p);
			hit = 1;
		}
		mca_buf_free(&b);
		return hit;
	}
	if (!S_ISDIR(st.st_mode) || (d = opendir(p)) == NULL)
		return 0;
	while (!hit && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%.3000s/%.1000s", p, e->d_name);
		hit = tree_has(sub, needle, nlen, blanks, found, flen);
	}
	closedir(d);
	return hit;
}

static void
assert_nowhere(const void *needle, size_t nlen, int blanks, const char *what)
{
	char	 found[4096];

	ck_assert_uint_gt(nlen, 8);
	ck_assert_msg(!tree_has(dir, needle, nlen, blanks, found,
	    sizeof(found)), "the private key (%s) is in %s", what, found);
}

/*
 * der holds the secret number sec: 32 base64 characters of der that
 * encode nothing but bytes of sec into out, so that a key of the same
 * kind never matches by its common header.
 */
static void
b64_window(const unsigned char *der, size_t len, const unsigned char *sec,
    size_t seclen, char out[33])
{
	struct mca_buf		 b64 = MCA_BUF_INIT;
	const unsigned char	*at;
	size_t			 o;

	ck_assert_ptr_nonnull(at = memmem(der, len, sec, seclen));
	o = ((size_t)(at - der) + 2) / 3 * 3;	/* a whole base64 quad */
	ck_assert_uint_le(o + 24, (size_t)(at - der) + seclen);
	ck_assert_int_eq(mca_b64_encode(der, len, 0, &b64), 0);
	memcpy(out, b64.data + o / 3 * 4, 32);
	out[32] = '\0';
	mca_buf_free(&b64);
}

/*
 * The private key is on no disk: not in the test directory, which holds
 * the ledger (and its WAL), IssuedCerts, the server's log (cgi.err) and
 * the token; cgi.out, the client's copy of the answer, is removed first.
 * Looked for as the PKCS#8 DER and its base64 (however wrapped), the
 * traditional DER (PKCS#1 / SEC1) and its base64, and the secret number
 * in binary and in hex either case.
 */
static void
assert_key_not_on_disk(const struct skg *g)
{
	struct mca_buf	 pem = MCA_BUF_INIT;
	unsigned char	*trad = NULL, bin[1024];
	BIGNUM		*bn = NULL;
	char		*hex, found[4096], w8[33], wt[33];
	int		 n, nb, i;

	ck_assert(unlink(path("cgi.out")) == 0);
	ck_assert_int_eq(EVP_PKEY_get_bn_param(g->key,
	    EVP_PKEY_is_a(g->key, "RSA") ? OSSL_PKEY_PARAM_RSA_D :
	    OSSL_PKEY_PARAM_PRIV_KEY, &bn), 1);
	ck_assert_int_gt(nb = BN_bn2bin(bn, bin), 26);
	ck_assert_int_gt(n = i2d_PrivateKey(g->key, &trad), 0);
	b64_window(g->pkcs8.data, g->pkcs8.len, bin, (size_t)nb, w8);
	b64_window(trad, (size_t)n, bin, (size_t)nb, wt);

	/* the search finds what is there: raw, and base64 wrapped at 64 */
	ck_assert_int_eq(mca_b64_encode(g->pkcs8.data, g->pkcs8.len, 64,
	    &pem), 0);
	ck_assert_int_eq(tu_write(path("control.pem"), (const char *)pem.data,
	    pem.len), 0);
	ck_assert_int_eq(tu_write(path("control.bin"),
	    (const char *)g->pkcs8.data, g->pkcs8.len), 0);
	ck_assert(tree_has(dir, w8, 32, 1, found, sizeof(found)));
	ck_assert(tree_has(dir, bin, (size_t)nb, 0, found, sizeof(found)));
	ck_assert(unlink(path("control.pem")) == 0);
	ck_assert(unlink(path("control.bin")) == 0);
	mca_buf_free(&pem);

	assert_nowhere(g->pkcs8.data, g->pkcs8.len, 0, "PKCS#8 DER");
	assert_nowhere(w8, 32, 1, "PKCS#8 base64");
	assert_nowhere(trad, (size_t)n, 0, "traditional DER");
	assert_nowhere(wt, 32, 1, "traditional base64");
	assert_nowhere(bin, (size_t)nb, 0, "secret number");
	ck_assert_ptr_nonnull(hex = BN_bn2hex(bn));
	assert_nowhere(hex, strlen(hex), 0, "secret number in hex");
	for (i = 0; hex[i] != '\0'; i++)
		if (hex[i] >= 'A' && hex[i] <= 'F')
			hex[i] = (char)(hex[i] - 'A' + 'a');
	assert_nowhere(hex, strlen(hex), 0, "secret number in hex");
	OPENSSL_free(hex);
	OPENSSL_clear_free(trad, (size_t)n);
	OPENSSL_cleanse(bin, sizeof(bin));
	BN_clear_free(bn);
}

START_TEST(t_serverkeygen)
{
	static const struct {
		const char	*label;
		const char	*csrkey;
		const char	*made;		/* mca_key_describe() */
		unsigned	 line;		/* base64_line_length */
	} c[] = {
		{ "skg-ec", "p256", "EC-P-384", 64 },
		{ "skg-rsa", "p256", "RSA-3072", 76 },
		{ "device", "p384", "RSA-2048", 64 },	/* the default */
		{ "server", "rsa2048", "RSA-2048", 0 },
		{ "p384only", "p256", "EC-P-384", 64 },	/* from key_type */
	};
	struct cgi	 r;
	struct skg	 g;
	EVP_PKEY	*k, *first = NULL;
	char		 desc[128], serial[80], v[4096], cn[32];
	size_t		 i;
	int		 rows, files;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		rows = sql_count("certificates");
		files = issued_files();
		k = genkey(c[i].csrkey);
		snprintf(cn, sizeof(cn), "skg-%zu", i);
		skg_run(c[i].label, k, cn, "boot.pem", &r);
		/* RFC 9111 5.2.2.5: no cache on the way keeps the key */
		ck_assert_ptr_nonnull(header(&r, "Cache-Control"));
		ck_assert_str_eq(header(&r, "Cache-Control"), "no-store");
		skg_parse(&r, c[i].line, &g);
		cgi_free(&r);
		/* the certificate carries the key made, never the CSR's */
		assert_pair(g.key, g.cert);
		ck_assert_int_ne(EVP_PKEY_eq(X509_get0_pubkey(g.cert), k), 1);
		ck_assert_int_eq(mca_key_describe(g.key, desc, sizeof(desc)), 0);
		ck_assert_str_eq(desc, c[i].made);
		if (first == NULL) {
			first = g.key;
			EVP_PKEY_up_ref(first);
		} else
			ck_assert_int_ne(EVP_PKEY_eq(first, g.key), 1);
		assert_verifies(g.cert);
		/* subject and SAN from the CSR, as for /simpleenroll */
		X509_NAME_oneline(X509_get_subject_name(g.cert), v, sizeof(v));
		snprintf(desc, sizeof(desc), "/CN=%s", cn);
		ck_assert_str_eq(v, desc);
		ck_assert_int_ge(X509_get_ext_by_NID(g.cert,
		    NID_subject_alt_name, -1), 0);
		/* one row, serverkeygen, key_origin server */
		serial_of(g.cert, serial, sizeof(serial));
		ck_assert_int_eq(sql_count("certificates"), rows + 1);
		sql1(v, sizeof(v), "SELECT operation||'|'||key_origin||'|'||"
		    "key_type||'|'||label||'|'||requester_subject FROM "
		    "certificates WHERE serial=%Q", serial);
		snprintf(desc, sizeof(desc), "serverkeygen|server|%s|%s|",
		    c[i].made, c[i].label);
		ck_assert_msg(strncmp(v, desc, strlen(desc)) == 0 &&
		    strstr(v, "device-boot-001") != NULL, "%s", v);
		/* the PEM file: the certificate, and nothing else */
		ck_assert_int_eq(issued_files(), files + 1);
		assert_pem_file(serial);
		assert_key_not_on_disk(&g);
		skg_free(&g);
		EVP_PKEY_free(k);
	}
	EVP_PKEY_free(first);
}
END_TEST

/*
 * RFC 7030 4.4.1: the CSR's key and signature are ignored, its identity
 * is not: a broken signature or a key /simpleenroll refuses still gets a
 * key made here; a CSR with no name at all does not.
 */
START_TEST(t_serverkeygen_csr)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct cgi	 r;
	struct skg	 g;
	EVP_PKEY	*k = genkey("p256"), *weak = genkey("rsa1024");
	X509		*dev;
	int		 rows;

	/* a signature that does not verify */
	csr_b64_tampered(k, "tampered", &b);
	run_cgi("POST", "/.well-known/est/skg-ec/serverkeygen",
	    "application/pkcs10", b.data, (long)b.len, "boot.pem", &r);
	skg_parse(&r, 64, &g);
	assert_pair(g.key, g.cert);
	ck_assert_int_ne(EVP_PKEY_eq(X509_get0_pubkey(g.cert), k), 1);
	skg_free(&g);
	cgi_free(&r);
	/* ... which /simpleenroll refuses */
	run_cgi("POST", "/.well-known/est/skg-ec/simpleenroll",
	    "application/pkcs10", b.data, (long)b.len, "boot.pem", &r);
	assert_error(&r, 400, "proof of possession");
	cgi_free(&r);

	/* a key /simpleenroll refuses (RSA 1024) */
	skg_run("skg-ec", weak, "weak", "boot.pem", &r);
	skg_parse(&r, 64, &g);
	assert_pair(g.key, g.cert);
	skg_free(&g);
	cgi_free(&r);

	/* PEM as text/plain, the DigiCert form, one line */
	csr_pem_oneline(k, "pem-form", &b);
	run_cgi("POST", "/.well-known/est/skg-rsa/serverkeygen", "text/plain",
	    b.data, (long)b.len, "boot.pem", &r);
	skg_parse(&r, 76, &g);
	assert_pair(g.key, g.cert);
	skg_free(&g);
	cgi_free(&r);

	/* no subject and no subjectAltName: nothing to certify */
	rows = sql_count("certificates");
	csr_b64(k, NULL, NULL, 64, &b);
	run_cgi("POST", "/.well-known/est/skg-ec/serverkeygen",
	    "application/pkcs10", b.data, (long)b.len, "boot.pem", &r);
	assert_error(&r, 400, "neither a subject");
	cgi_free(&r);
	ck_assert_int_eq(sql_count("certificates"), rows);

	/* RFC 7030 4.4.1.1: a key to come encrypted; we send none in clear */
	{
		static const unsigned char	 id[] = { 9, 8, 7, 6, 5, 4, 3 };
		X509_REQ			*req = X509_REQ_new();
		unsigned char			*p = NULL;
		int				 len;

		X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req),
		    "CN", MBSTRING_ASC, (const unsigned char *)"wrap", -1, -1,
		    0);
		X509_REQ_set_pubkey(req, k);
		ck_assert_int_eq(X509_REQ_add1_attr_by_txt(req,
		    "1.2.840.113549.1.9.16.2.37", V_ASN1_OCTET_STRING, id,
		    sizeof(id)), 1);
		ck_assert_int_gt(X509_REQ_sign(req, k, EVP_sha256()), 0);
		ck_assert_int_gt(len = i2d_X509_REQ(req, &p), 0);
		mca_buf_reset(&b);
		mca_b64_encode(p, (size_t)len, 64, &b);
		OPENSSL_free(p);
		X509_REQ_free(req);
	}
	run_cgi("POST", "/.well-known/est/skg-ec/serverkeygen",
	    "application/pkcs10", b.data, (long)b.len, "boot.pem", &r);
	assert_error(&r, 501, "DecryptKeyIdentifier");
	ck_assert_ptr_null(strstr(mca_buf_str(&r.body), "MII"));
	cgi_free(&r);
	ck_assert_int_eq(sql_count("certificates"), rows);

	/* a certificate we issued may ask on its own label only */
	csr_b64(k, "dev-skg", "skg.example.com", 64, &b);
	run_cgi("POST", "/.well-known/est/device/simpleenroll",
	    "application/pkcs10", b.data, (long)b.len, "boot.pem", &r);
	dev = issued_cert(&r);
	cgi_free(&r);
	save_pem(dev, "dev-skg.pem");
	skg_run("device", k, "dev-skg", "dev-skg.pem", &r);
	skg_parse(&r, 64, &g);
	skg_free(&g);
	cgi_free(&r);
	rows = sql_count("certificates");
	skg_run("skg-ec", k, "dev-skg", "dev-skg.pem", &r);
	assert_error(&r, 403, "device");
	cgi_free(&r);
	ck_assert_int_eq(sql_count("certificates"), rows);
	X509_free(dev);
	EVP_PKEY_free(k);
	EVP_PKEY_free(weak);
	mca_buf_free(&b);
}
END_TEST

START_TEST(t_serverkeygen_errors)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct cgi	 r;
	struct tally	 t;
	EVP_PKEY	*k = genkey("p256");

	tally_take(&t, "refusals WHERE operation = 'serverkeygen'");
	csr_b64(k, "e", NULL, 64, &b);
	refuse_common("/.well-known/est/skg-ec/serverkeygen", &b,
	    "application/json");
	/* a refused /serverkeygen says no-store too; other resources not */
	run_cgi("POST", "/.well-known/est/skg-ec/serverkeygen",
	    "application/pkcs10", b.data, (long)b.len, NULL, &r);
	assert_error(&r, 401, NULL);
	ck_assert_str_eq(header(&r, "Cache-Control"), "no-store");
	cgi_free(&r);
	run_cgi("GET", "/.well-known/est/skg-ec/cacerts", NULL, NULL, -1,
	    NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(header(&r, "Cache-Control"));
	cgi_free(&r);
	/* fullcmc stays unimplemented */
	run_cgi("POST", "/.well-known/est/skg-ec/fullcmc",
	    "application/pkcs7-mime", "x", 1, "boot.pem", &r);
	assert_error(&r, 501, "fullcmc");
	cgi_free(&r);

	/* nothing issued; every refusal recorded as serverkeygen */
	assert_refused_only(&t, REFUSE_COMMON_ROWS + 1);
	mca_buf_free(&b);
	EVP_PKEY_free(k);
}
END_TEST

/* ------------------------------------------------------------ rollover */

static STACK_OF(X509) *
pem_certs(const char *name)
{
	STACK_OF(X509)	*sk = sk_X509_new_null();
	FILE		*f = fopen(path(name), "r");
	X509		*x;

	ck_assert_ptr_nonnull(f);
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(sk, x);
	ERR_clear_error();
	fclose(f);
	ck_assert_int_gt(sk_X509_num(sk), 0);
	return sk;
}

/* A config like the usual one with rollover_cert_path = dir/file. */
static void
rollover_config(const char *file)
{
	char	 ks[1024], extra[4400];

	keysrc(ks, sizeof(ks));
	snprintf(extra, sizeof(extra), "\"rollover_cert_path\": "
	    "\"%.4096s/%.200s\",\n", dir, file);
	write_config(path("rollover.json"), ks, extra);
}

START_TEST(t_rollover)
{
	static const char *const good[] = {
		"rollover-g2.pem", "rollover-same.pem", "rollover-inter.pem",
		"rollover-all.pem",
	};
	static const struct {
		const char	*file;
		const char	*what;
	} bad[] = {
		{ "rollover-noca.pem", "certificate 1 (CN=device-boot-001,"
		    "O=microca test) is not a CA certificate" },
		{ "rollover-alien.pem", "certificate 1 (CN=foreign CA,"
		    "O=somebody else) neither issued nor was issued" },
		{ "rollover-aliensub.pem", "certificate 1 (CN=foreign sub CA,"
		    "O=somebody else) neither issued" },
		{ "rollover-mixed.pem", "certificate 4 (CN=foreign CA," },
		{ "rollover-none.pem", "no such file" },
	};
	struct cgi	 r;
	struct mca_buf	 out = MCA_BUF_INIT;
	STACK_OF(X509)	*chain, *extra, *sk;
	const char	*ossl = tu_openssl();
	size_t		 i;
	int		 j, n;

	ck_assert_int_eq(tu_sh(NULL, "sh '%s/tests/pki/mkrollover.sh' '%s' >&2",
	    tu_srcdir(), dir), 0);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && cat rollover-g2.pem "
	    "rollover-same.pem rollover-inter.pem > rollover-all.pem && "
	    "cat rollover-g2.pem rollover-alien.pem > rollover-mixed.pem",
	    dir), 0);
	chain = pem_certs("chain.pem");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rollover_config(good[i]);
		extra = pem_certs(good[i]);
		n = sk_X509_num(chain) + sk_X509_num(extra);
		/* RFC 7030 4.1.3: the chain, then the rollover certificates */
		run_cgi_cfg(path("rollover.json"), "GET",
		    "/.well-known/est/cacerts", NULL, NULL, -1, NULL, NULL, &r);
		sk = certs_of(&r);
		ck_assert_int_eq(sk_X509_num(sk), n);
		for (j = 0; j < n; j++)
			ck_assert_int_eq(X509_cmp(sk_X509_value(sk, j),
			    j < sk_X509_num(chain) ? sk_X509_value(chain, j) :
			    sk_X509_value(extra, j - sk_X509_num(chain))), 0);
		sk_X509_pop_free(sk, X509_free);
		/* and openssl reads as many */
		ck_assert_int_eq(tu_write(path("cacerts.b64"),
		    (const char *)r.body.data, r.body.len), 0);
		mca_buf_reset(&out);
		ck_assert_int_eq(tu_sh(&out, "'%s' base64 -d -in '%s' | '%s' "
		    "pkcs7 -inform DER -print_certs -noout | grep -c '^subject'",
		    ossl, path("cacerts.b64"), ossl), 0);
		ck_assert_int_eq(atoi(mca_buf_str(&out)), n);
		cgi_free(&r);
		/* every label serves them, in its own line length */
		run_cgi_cfg(path("rollover.json"), "GET",
		    "/.well-known/est/server/cacerts", NULL, NULL, -1, NULL,
		    NULL, &r);
		sk = certs_of(&r);
		ck_assert_int_eq(sk_X509_num(sk), n);
		ck_assert_ptr_null(memchr(r.body.data, '\n', r.body.len));
		sk_X509_pop_free(sk, X509_free);
		cgi_free(&r);
		sk_X509_pop_free(extra, X509_free);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rollover_config(bad[i].file);
		run_cgi_cfg(path("rollover.json"), "GET",
		    "/.well-known/est/cacerts", NULL, NULL, -1, NULL, NULL, &r);
		ck_assert_int_eq(r.exitcode, 1);
		assert_error(&r, 500, "cannot start");
		ck_assert_msg(strstr(mca_buf_str(&r.err), "rollover.json: "
		    "rollover_cert_path: ") != NULL &&
		    strstr(mca_buf_str(&r.err), bad[i].file) != NULL &&
		    strstr(mca_buf_str(&r.err), bad[i].what) != NULL,
		    "%s: %s", bad[i].file, mca_buf_str(&r.err));
		cgi_free(&r);
	}
	sk_X509_pop_free(chain, X509_free);
	mca_buf_free(&out);
}
END_TEST

/* An RSA CA key in the token signs with sha256WithRSAEncryption. */
START_TEST(t_enroll_device_rsa_ca)
{
	X509	*x = enroll_ok("device", "p256", "rsa-signed", "boot.pem", NULL);

	assert_verifies(x);
	ck_assert_int_eq(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
	X509_free(x);
}
END_TEST

/* ------------------------------------------------ passcodes, policy */

/*
 * Labels for the passcode and policy tests: "pass" takes certificates
 * and passcodes under a key and subject policy; "passonly" passcodes
 * alone; "ruser" the web server's Basic login; "ownboot" bootstrap
 * certificates of its own CA (the foreign one) only.
 */
#define PASS_LABELS \
	"\"end_certificate_config_10\": {\n" \
	"  \"end_point_name\": \"pass\", \"validity_in_days\": 30,\n" \
	"  " SAN_ALL \
	"  \"auth_methods\": [\"certificate\", \"passcode\"],\n" \
	"  \"allowed_keys\": [\"EC-P-256\", \"EC-P-384\"],\n" \
	"  \"subject_patterns\": {\"CN\": \"^dev-[0-9]+$\"} },\n" \
	" \"end_certificate_config_11\": {\n" \
	"  \"end_point_name\": \"passonly\", \"validity_in_days\": 30,\n" \
	"  \"auth_methods\": [\"passcode\"] },\n" \
	" \"end_certificate_config_12\": {\n" \
	"  \"end_point_name\": \"ruser\", \"validity_in_days\": 30,\n" \
	"  \"auth_methods\": [\"remote_user\"] },\n" \
	" \"end_certificate_config_13\": {\n" \
	"  \"end_point_name\": \"ownboot\", \"validity_in_days\": 30,\n" \
	"  \"mtls_ca_cert\": \"%s/foreign-ca.pem\" },\n" \
	" \"end_certificate_config_14\": {\n" \
	"  \"end_point_name\": \"maker\", \"validity_in_days\": 30,\n" \
	"  \"mtls_ca_cert\": \"%s/maker-root.pem\" },\n" \
	" \"end_certificate_config_15\": {\n" \
	"  \"end_point_name\": \"strict\", \"validity_in_days\": 30,\n" \
	"  \"subject_patterns\": {\"CN\": \"^dev-[0-9]+$\"},\n" \
	"  \"subject_unlisted\": \"refuse\",\n" \
	"  \"san_policy\": {\"allowed_types\": [\"DNS\"], \"max_names\": 2,\n" \
	"    \"DNS\": \"^dev-[0-9]+\\\\.example\\\\.com$\"},\n" \
	"  \"reenroll_grace_seconds\": 0 },\n" \
	" \"end_certificate_config_16\": {\n" \
	"  \"end_point_name\": \"plain\", \"validity_in_days\": 30,\n" \
	"  \"ra_subject_patterns\": {\"CN\": \"^ra-[0-9]+$\"},\n" \
	"  \"reenroll_grace_seconds\": 3600 },\n"

static void
setup_pass(void)
{
	char	 ks[1024], extra[4096];

	setup_mode("file");
	keysrc(ks, sizeof(ks));
	snprintf(extra, sizeof(extra), PASS_LABELS, dir, dir);
	write_config(path("config.json"), ks, extra);
}

/*
 * Runs microca-admin with the test config; args is the rest of the
 * command line (shell words). stdout (and stderr, with err) go to out.
 */
static int
admin(struct mca_buf *out, int err, const char *args)
{
	mca_buf_reset(out);
	return tu_sh(out, "'%s/microca-admin' --config '%s' %s%s",
	    tu_builddir(), path("config.json"), args, err ? " 2>&1" : "");
}

/* A new passcode on label: writes "ID.SECRET" into pc, ID into id. */
static void
new_passcode(const char *label, const char *opts, char *pc, size_t pclen,
    char *id, size_t idlen)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 args[512];
	const char	*p, *e;

	snprintf(args, sizeof(args), "passcode add --label %s %s", label,
	    opts != NULL ? opts : "");
	ck_assert_int_eq(admin(&out, 0, args), 0);
	ck_assert_ptr_nonnull(p = strstr(mca_buf_str(&out), "\npasscode "));
	p += 10;
	ck_assert_ptr_nonnull(e = strchr(p, '\n'));
	snprintf(pc, pclen, "%.*s", (int)(e - p), p);
	ck_assert_uint_eq(strlen(pc), 35);
	ck_assert_int_eq(strncmp(mca_buf_str(&out), "id       ", 9), 0);
	snprintf(id, idlen, "%.8s", mca_buf_str(&out) + 9);
	ck_assert_int_eq(strncmp(pc, id, 8), 0);
	mca_buf_free(&out);
}

/* "HTTP_AUTHORIZATION=Basic base64(user:pass)" (no colon: user NULL). */
static void
basic_env(const char *user, const char *pass, char *out, size_t outlen)
{
	struct mca_buf	 raw = MCA_BUF_INIT, b = MCA_BUF_INIT;

	if (user != NULL)
		mca_buf_printf(&raw, "%s:", user);
	mca_buf_addstr(&raw, pass);
	ck_assert_int_eq(mca_b64_encode(raw.data, raw.len, 0, &b), 0);
	snprintf(out, outlen, "HTTP_AUTHORIZATION=Basic %s", mca_buf_str(&b));
	mca_buf_free(&raw);
	mca_buf_free(&b);
}

/* POSTs a new CSR (key kind, CN cn) to label's simpleenroll. */
static void
enroll_env(const char *label, const char *kind, const char *cn,
    const char *client, const char *extra, struct cgi *r)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	EVP_PKEY	*k = genkey(kind);
	char		 uri[256];

	csr_b64(k, cn, NULL, 64, &b);
	snprintf(uri, sizeof(uri), "/.well-known/est/%s/simpleenroll", label);
	run_cgi_cfg(path("config.json"), "POST", uri, "application/pkcs10",
	    b.data, (long)b.len, client, extra, r);
	mca_buf_free(&b);
	EVP_PKEY_free(k);
}

/* A 401 that asks for Basic on label, exactly as RFC 7617 2 spells it. */
static void
assert_challenge(const struct cgi *r, const char *label, const char *what)
{
	char	 want[128];

	assert_error(r, 401, what);
	snprintf(want, sizeof(want), "Basic realm=\"%s\"", label);
	ck_assert_ptr_nonnull(header(r, "WWW-Authenticate"));
	ck_assert_str_eq(header(r, "WWW-Authenticate"), want);
}

START_TEST(t_passcode_lifecycle)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	struct cgi	 r;
	char		 pc[64], id[16], pc2[64], id2[16], env[256], v[512];
	char		 wrong[64], serial[80];
	int		 refusals, certs;
	X509		*x;

	/* microca-admin makes the ledger if it is not there yet. */
	new_passcode("pass", "--comment 'line 7, batch 2'", pc, sizeof(pc), id,
	    sizeof(id));
	refusals = sql_count("refusals");
	certs = sql_count("certificates");
	/* list: the row, never the secret */
	ck_assert_int_eq(admin(&out, 0, "passcode list"), 0);
	ck_assert_msg(strstr(mca_buf_str(&out), id) != NULL &&
	    strstr(mca_buf_str(&out), "active") != NULL &&
	    strstr(mca_buf_str(&out), "line 7, batch 2") != NULL &&
	    strstr(mca_buf_str(&out), "1/1") != NULL, "%s", mca_buf_str(&out));
	ck_assert_ptr_null(strstr(mca_buf_str(&out), pc + 9));
	/* nor the ledger */
	sql1(v, sizeof(v), "SELECT group_concat(hash) FROM passcodes");
	ck_assert_ptr_null(strstr(v, pc + 9));
	ck_assert_int_eq(strncmp(v, "$scrypt$", 8), 0);

	/* no credentials at all */
	enroll_env("pass", "p256", "dev-1", NULL, NULL, &r);
	assert_challenge(&r, "pass", "a client certificate or an enrollment "
	    "passcode (HTTP Basic) is required");
	cgi_free(&r);

	/* enroll with it: any user-id, the passcode as password */
	basic_env("sensor-7", pc, env, sizeof(env));
	enroll_env("pass", "p256", "dev-1", NULL, env, &r);
	x = issued_cert(&r);
	ck_assert_ptr_null(strstr(mca_buf_str(&r.err), pc + 9));
	cgi_free(&r);
	assert_verifies(x);
	serial_of(x, serial, sizeof(serial));
	sql1(v, sizeof(v), "SELECT auth_method||'|'||passcode_id||'|'||"
	    "(requester_subject IS NULL)||'|'||label FROM certificates WHERE "
	    "serial=%Q", serial);
	snprintf(wrong, sizeof(wrong), "passcode|%s|1|pass", id);
	ck_assert_str_eq(v, wrong);
	sql1(v, sizeof(v), "SELECT uses_left||'|'||state||'|'||issued FROM "
	    "passcode_status WHERE id=%Q", id);
	ck_assert_str_eq(v, "0|used|1");
	X509_free(x);

	/* reuse: used up, and nothing issued */
	enroll_env("pass", "p256", "dev-2", NULL, env, &r);
	assert_challenge(&r, "pass", "is used up");
	cgi_free(&r);

	/* wrong secret (one character off) and unknown ID: the same answer */
	new_passcode("pass", "--uses 2", pc2, sizeof(pc2), id2, sizeof(id2));
	snprintf(wrong, sizeof(wrong), "%s", pc2);
	wrong[20] = wrong[20] == 'A' ? 'B' : 'A';
	basic_env("", wrong, env, sizeof(env));
	enroll_env("pass", "p256", "dev-3", NULL, env, &r);
	assert_challenge(&r, "pass", "wrong enrollment passcode");
	cgi_free(&r);
	snprintf(wrong, sizeof(wrong), "ZZZZZZZZ%s", pc2 + 8);
	basic_env("", wrong, env, sizeof(env));
	enroll_env("pass", "p256", "dev-3", NULL, env, &r);
	assert_challenge(&r, "pass", "wrong enrollment passcode");
	cgi_free(&r);
	/* not a passcode at all, and not Basic */
	basic_env("user", "password", env, sizeof(env));
	enroll_env("pass", "p256", "dev-3", NULL, env, &r);
	assert_challenge(&r, "pass", "do not hold a passcode");
	cgi_free(&r);
	enroll_env("pass", "p256", "dev-3", NULL,
	    "HTTP_AUTHORIZATION=Bearer abc", &r);
	assert_challenge(&r, "pass", "not HTTP Basic");
	cgi_free(&r);

	/* DigiCert's form: the passcode alone, lower case, no colon */
	for (size_t i = 0; pc2[i] != '\0'; i++)
		wrong[i] = (char)tolower((unsigned char)pc2[i]);
	wrong[strlen(pc2)] = '\0';
	basic_env(NULL, wrong, env, sizeof(env));
	enroll_env("pass", "p384", "dev-4", NULL, env, &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);
	/* and "curl -u ID:SECRET" for its second use */
	snprintf(wrong, sizeof(wrong), "%s", pc2 + 9);
	basic_env(id2, wrong, env, sizeof(env));
	enroll_env("pass", "p256", "dev-5", NULL, env, &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);

	/* expired */
	new_passcode("pass", "--expires 1h", pc, sizeof(pc), id, sizeof(id));
	{
		sqlite3	*db;

		ck_assert_int_eq(sqlite3_open(path("ledger.db"), &db),
		    SQLITE_OK);
		snprintf(v, sizeof(v), "UPDATE passcodes SET expires_at = "
		    "'2020-01-01T00:00:00Z' WHERE id = '%s'", id);
		ck_assert_int_eq(sqlite3_exec(db, v, NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
	}
	basic_env("x", pc, env, sizeof(env));
	enroll_env("pass", "p256", "dev-6", NULL, env, &r);
	assert_challenge(&r, "pass", "expired at 2020-01-01T00:00:00Z");
	cgi_free(&r);

	/* revoked (made with an ISO expiry time, 30 days out) */
	{
		time_t		 t = time(NULL) + 30 * 86400;
		struct tm	 tm;
		char		 opt[64];

		gmtime_r(&t, &tm);
		strftime(opt, sizeof(opt), "--expires %Y-%m-%dT%H:%M:%SZ", &tm);
		new_passcode("pass", opt, pc, sizeof(pc), id, sizeof(id));
		sql1(v, sizeof(v), "SELECT expires_at FROM passcodes WHERE "
		    "id=%Q", id);
		ck_assert_str_eq(v, opt + 10);
	}
	snprintf(v, sizeof(v), "passcode revoke %s", id);
	ck_assert_int_eq(admin(&out, 0, v), 0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "revoked"));
	ck_assert_int_eq(admin(&out, 0, v), 0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "already"));
	basic_env("x", pc, env, sizeof(env));
	enroll_env("pass", "p256", "dev-7", NULL, env, &r);
	assert_challenge(&r, "pass", "was revoked at");
	cgi_free(&r);

	/* a passcode for another label */
	new_passcode("passonly", NULL, pc, sizeof(pc), id, sizeof(id));
	basic_env("x", pc, env, sizeof(env));
	enroll_env("pass", "p256", "dev-8", NULL, env, &r);
	assert_challenge(&r, "pass", "is for label \"passonly\", not \"pass\"");
	cgi_free(&r);
	/* ... which works where it belongs, whatever the subject there */
	enroll_env("passonly", "rsa2048", "anything", NULL, env, &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);

	/* a label that takes certificates only ignores Authorization */
	new_passcode("pass", NULL, pc, sizeof(pc), id, sizeof(id));
	basic_env("x", pc, env, sizeof(env));
	enroll_env("device", "p256", "dev-9", NULL, env, &r);
	assert_error(&r, 401, "a client certificate is required");
	ck_assert_ptr_null(header(&r, "WWW-Authenticate"));
	cgi_free(&r);
	/* and certificates still work on the passcode label */
	enroll_env("pass", "p256", "dev-10", "boot.pem", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);
	sql1(v, sizeof(v), "SELECT auth_method||'|'||(passcode_id IS NULL) "
	    "FROM certificates ORDER BY id DESC LIMIT 1");
	ck_assert_str_eq(v, "certificate|1");

	/* 5 issued; each of the 10 refusals above is in the ledger */
	ck_assert_int_eq(sql_count("certificates"), certs + 5);
	ck_assert_int_eq(sql_count("refusals"), refusals + 10);
	ck_assert_int_eq(sql_count("refusals WHERE status = 401 AND "
	    "reason LIKE '%: wrong secret'"), 1);
	ck_assert_int_eq(sql_count("refusals WHERE status = 401 AND "
	    "reason LIKE '%: unknown ID' AND passcode_id = 'ZZZZZZZZ'"), 1);
	ck_assert_int_eq(sql_count("refusals WHERE reason LIKE '%used up%'"),
	    1);
	ck_assert_int_eq(sql_count("refusals WHERE reason LIKE '%expired%'"),
	    1);
	ck_assert_int_eq(sql_count("refusals WHERE reason LIKE '%revoked%'"),
	    1);
	snprintf(v, sizeof(v), "refusals WHERE reason LIKE '%%%s%%'", pc2 + 9);
	ck_assert_int_eq(sql_count(v), 0);
	mca_buf_free(&out);
}
END_TEST

START_TEST(t_admin_errors)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 pc[64], id[16], cmd[128];

	ck_assert_int_eq(admin(&out, 1, ""), 2);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out),
	    "usage: microca-admin"));
	ck_assert_int_eq(admin(&out, 1, "passcode frobnicate"), 2);
	ck_assert_int_eq(admin(&out, 1, "passcode add"), 2);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "--label is required"));
	ck_assert_int_eq(admin(&out, 1, "passcode revoke"), 2);
	ck_assert_int_eq(admin(&out, 1, "passcode add --label pass --bogus"),
	    2);
	/* a label without passcodes, or none at all */
	ck_assert_int_eq(admin(&out, 1, "passcode add --label device"), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "does not take "
	    "passcodes: add \"passcode\" to end_certificate_config_1."
	    "auth_methods"));
	ck_assert_int_eq(admin(&out, 1, "passcode add --label nosuch"), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "\"nosuch\""));
	/* values */
	ck_assert_int_eq(admin(&out, 1, "passcode add --label pass --uses 0"),
	    1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "--uses 0"));
	ck_assert_int_eq(admin(&out, 1, "passcode add --label pass --uses x"),
	    1);
	ck_assert_int_eq(admin(&out, 1, "passcode add --label pass "
	    "--expires 3y"), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "--expires 3y"));
	ck_assert_int_eq(admin(&out, 1, "passcode add --label pass "
	    "--expires 2020-01-01T00:00:00Z"), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "has passed"));
	ck_assert_int_eq(admin(&out, 1, "passcode add --label pass "
	    "--expires 2030-02-30T00:00:00Z"), 1);
	ck_assert_int_eq(admin(&out, 1, "passcode add --label pass "
	    "--expires 3651d"), 1);
	ck_assert_int_eq(admin(&out, 1, "passcode add --label pass "
	    "--comment \"$(printf 'a\\tb')\""), 1);
	/* revoke: IDs only, and only known ones */
	ck_assert_int_eq(admin(&out, 1, "passcode revoke ZZZZZZZZ"), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out),
	    "no passcode ZZZZZZZZ"));
	new_passcode("pass", "--expires=30m --uses=5", pc, sizeof(pc), id,
	    sizeof(id));
	snprintf(cmd, sizeof(cmd), "passcode revoke %s", pc);
	ck_assert_int_eq(admin(&out, 1, cmd), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "not a passcode ID"));
	ck_assert_ptr_null(strstr(mca_buf_str(&out), pc + 9));
	/* list --all and --label */
	ck_assert_int_eq(admin(&out, 0, "passcode list --label passonly"), 0);
	ck_assert_ptr_null(strstr(mca_buf_str(&out), id));
	ck_assert_int_eq(admin(&out, 0, "passcode list --all --label pass"), 0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), id));
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "5/5"));
	/* a broken config: exit 1, naming the file */
	ck_assert_int_eq(tu_sh(&out, "'%s/microca-admin' --config '%s' "
	    "passcode list 2>&1", tu_builddir(), path("nosuch.json")), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "nosuch.json"));
	mca_buf_free(&out);
}
END_TEST

/* The line of out that holds needle into line ("" if none). */
static void
line_of(const char *out, const char *needle, char *line, size_t len)
{
	const char	*p = strstr(out, needle), *b, *e;

	line[0] = '\0';
	if (p == NULL)
		return;
	for (b = p; b > out && b[-1] != '\n'; b--)
		continue;
	e = strchr(p, '\n');
	snprintf(line, len, "%.*s", (int)(e != NULL ? e - b : (long)strlen(b)),
	    b);
}

/* A certificate enrolled on label with CN cn: its serial into serial. */
static void
enroll_serial(const char *label, const char *cn, char *serial, size_t len)
{
	X509	*x = enroll_ok(label, "p256", cn, "boot.pem", NULL);

	serial_of(x, serial, len);
	X509_free(x);
}

/* The ledger's id of the certificate with serial. */
static long long
cert_id(const char *serial)
{
	char	 v[32];

	sql1(v, sizeof(v), "SELECT id FROM certificates WHERE serial=%Q",
	    serial);
	ck_assert_str_ne(v, "");
	return strtoll(v, NULL, 10);
}

/*
 * microca-admin azure status and retry, on certificates issued through
 * the program: a device label queues them with the row, a server label
 * does not; the sync job's attempts (lib/ledger.h) as the table shows
 * them; retry of one serial, typed as openssl prints it, and of all
 * failed rows; each refusal saying why, with its exit status.
 */
START_TEST(t_admin_azure)
{
	struct mca_buf		 out = MCA_BUF_INIT;
	struct mca_ledger	*l = NULL;
	struct mca_diag		 d;
	char			 dev1[80], dev2[80], dev3[80], srv[80];
	char			 line[1024], cmd[512], v[64], when[32];
	long long		 now = (long long)time(NULL);
	size_t			 i, n;
	const char		*p;

	/* nothing queued yet: not an error */
	ck_assert_int_eq(admin(&out, 1, "azure status"), 0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "no pending or "
	    "failed Azure IoT Hub syncs in the ledger"));

	enroll_serial("device", "dev-az-1", dev1, sizeof(dev1));
	enroll_serial("device", "dev-az-2", dev2, sizeof(dev2));
	enroll_serial("device", "dev-az-3", dev3, sizeof(dev3));
	enroll_serial("server", "srv-az", srv, sizeof(srv));
	sql1(v, sizeof(v), "SELECT group_concat(azure_sync, ' ') FROM (SELECT "
	    "azure_sync FROM certificates WHERE serial IN (%Q, %Q, %Q, %Q) "
	    "ORDER BY id)", dev1, dev2, dev3, srv);
	ck_assert_str_eq(v, "pending pending pending none");

	/* what the sync job would record: one refused for good, one put off */
	ck_assert_int_eq(mca_ledger_open(path("ledger.db"), 1, &l, &d), 0);
	ck_assert_int_eq(mca_ledger_azure_defer(l, cert_id(dev1), now, now,
	    400, "hub refused the device: InvalidThumbprint", NULL, 1, &d), 0);
	ck_assert_int_eq(mca_ledger_azure_defer(l, cert_id(dev2), now,
	    now + 3600, 429, "throttled", NULL, 0, &d), 0);
	mca_ledger_close(l);
	l = NULL;

	ck_assert_int_eq(admin(&out, 0, "azure status"), 0);
	p = mca_buf_str(&out);
	ck_assert_msg(strncmp(p, "SERIAL ", 7) == 0 &&
	    strstr(p, "  LABEL  ") != NULL && strstr(p, "  CN  ") != NULL &&
	    strstr(p, "  STATE  ") != NULL && strstr(p, "ATTEMPTS") != NULL &&
	    strstr(p, "NEXT ATTEMPT (UTC)") != NULL &&
	    strstr(p, "LAST STATUS") != NULL && strstr(p, "LAST ERROR\n") !=
	    NULL, "%s", p);
	for (n = 0, i = 0; p[i] != '\0'; i++)
		n += p[i] == '\n';
	ck_assert_uint_eq(n, 4);
	ck_assert_ptr_null(strstr(p, srv));
	line_of(p, dev1, line, sizeof(line));
	ck_assert_msg(strstr(line, " device ") != NULL &&
	    strstr(line, " dev-az-1 ") != NULL &&
	    strstr(line, " failed ") != NULL && strstr(line, " 1 ") != NULL &&
	    strstr(line, " 400 ") != NULL && strstr(line,
	    " hub refused the device: InvalidThumbprint") != NULL, "%s", line);
	/* issue order */
	ck_assert(strstr(p, dev1) != NULL && strstr(p, dev1) < strstr(p, dev2));
	line_of(p, dev2, line, sizeof(line));
	{
		time_t		 t = (time_t)(now + 3600);
		struct tm	 tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	ck_assert_msg(strstr(line, " dev-az-2 ") != NULL &&
	    strstr(line, " pending ") != NULL && strstr(line, when) != NULL &&
	    strstr(line, " 429 ") != NULL && strstr(line, " throttled") !=
	    NULL, "%s", line);
	line_of(p, dev3, line, sizeof(line));
	ck_assert_msg(strstr(line, " dev-az-3 ") != NULL &&
	    strstr(line, " pending ") != NULL && strstr(line, " 0 ") != NULL &&
	    strstr(line, " next run ") != NULL, "%s", line);

	/* synced rows: only with --all */
	ck_assert_int_eq(mca_ledger_open(path("ledger.db"), 1, &l, &d), 0);
	ck_assert_int_eq(mca_ledger_azure_synced(l, cert_id(dev3), now, 200,
	    "\"AAAAAAAAAAA=\"", &d), 0);
	mca_ledger_close(l);
	l = NULL;
	ck_assert_int_eq(admin(&out, 0, "azure status"), 0);
	ck_assert_ptr_null(strstr(mca_buf_str(&out), dev3));
	ck_assert_int_eq(admin(&out, 0, "azure status --all"), 0);
	line_of(mca_buf_str(&out), dev3, line, sizeof(line));
	ck_assert_msg(strstr(line, " synced ") != NULL &&
	    strstr(line, " 200 ") != NULL, "%s", line);

	/* retry one, typed as openssl x509 -serial prints it or with colons */
	snprintf(cmd, sizeof(cmd), "azure retry ");
	for (i = 0; dev1[i] != '\0'; i++) {
		n = strlen(cmd);
		snprintf(cmd + n, sizeof(cmd) - n, "%s%c",
		    i > 0 && i % 2 == 0 ? ":" : "",
		    (char)tolower((unsigned char)dev1[i]));
	}
	ck_assert_int_eq(admin(&out, 1, cmd), 0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), dev1));
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out),
	    "queued for Azure IoT Hub again"));
	sql1(v, sizeof(v), "SELECT c.azure_sync||'|'||s.attempts||'|'||"
	    "s.next_attempt FROM certificates AS c JOIN azure_sync_state AS s "
	    "ON s.cert_id = c.id WHERE c.serial=%Q", dev1);
	ck_assert_str_eq(v, "pending|1|0");

	/* refused: exit 1, saying why */
	snprintf(cmd, sizeof(cmd), "azure retry %s", srv);
	ck_assert_int_eq(admin(&out, 1, cmd), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "is not queued for "
	    "Azure IoT Hub: its label \"server\" was not a device label"));
	snprintf(cmd, sizeof(cmd), "azure retry %s", dev3);
	ck_assert_int_eq(admin(&out, 1, cmd), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "is synced to Azure "
	    "IoT Hub already"));
	ck_assert_int_eq(admin(&out, 1, "azure retry 00ABCDEF98765432"), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "no certificate with "
	    "serial ABCDEF98765432 in "));
	/* An odd count of digits, as a leading zero dropped: padded. */
	ck_assert_int_eq(admin(&out, 1, "azure retry bcdef98765432"), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "no certificate with "
	    "serial 0BCDEF98765432 in "));
	ck_assert_int_eq(admin(&out, 1, "azure retry dev-az-1"), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "\"dev-az-1\" is not "
	    "a certificate serial"));
	/* usage: exit 2 */
	ck_assert_int_eq(admin(&out, 1, "azure retry"), 2);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "give one serial or "
	    "--all-failed"));
	snprintf(cmd, sizeof(cmd), "azure retry --all-failed %s", dev1);
	ck_assert_int_eq(admin(&out, 1, cmd), 2);
	ck_assert_int_eq(admin(&out, 1, "azure retry AA BB"), 2);
	ck_assert_int_eq(admin(&out, 1, "azure status --all-failed"), 2);
	ck_assert_int_eq(admin(&out, 1, "azure status extra"), 2);
	ck_assert_int_eq(admin(&out, 1, "azure frobnicate"), 2);
	ck_assert_int_eq(admin(&out, 1, "azure"), 2);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "azure retry SERIAL|"
	    "--all-failed"));

	/* all failed ones */
	ck_assert_int_eq(mca_ledger_open(path("ledger.db"), 1, &l, &d), 0);
	ck_assert_int_eq(mca_ledger_azure_defer(l, cert_id(dev1), now, now,
	    403, "forbidden", NULL, 1, &d), 0);
	ck_assert_int_eq(mca_ledger_azure_defer(l, cert_id(dev2), now, now,
	    404, "gone", NULL, 1, &d), 0);
	mca_ledger_close(l);
	l = NULL;
	ck_assert_int_eq(admin(&out, 0, "azure retry --all-failed"), 0);
	ck_assert_str_eq(mca_buf_str(&out), "2 failed Azure IoT Hub syncs "
	    "queued again\n");
	ck_assert_int_eq(sql_count("certificates WHERE azure_sync = "
	    "'pending'"), 2);
	ck_assert_int_eq(admin(&out, 0, "azure retry --all-failed"), 0);
	ck_assert_str_eq(mca_buf_str(&out), "0 failed Azure IoT Hub syncs "
	    "queued again\n");
	/* a broken config: exit 1, naming the file */
	ck_assert_int_eq(tu_sh(&out, "'%s/microca-admin' --config '%s' "
	    "azure status 2>&1", tu_builddir(), path("nosuch.json")), 1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "nosuch.json"));
	mca_buf_free(&out);
}
END_TEST

START_TEST(t_remote_user)
{
	struct cgi	 r;
	char		 v[256];
	int		 certs = sql_count("certificates");

	enroll_env("ruser", "p256", "x", NULL,
	    "REMOTE_USER=alice@example\nAUTH_TYPE=Basic", &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);
	sql1(v, sizeof(v), "SELECT auth_method||'|'||requester_user||'|'||"
	    "(requester_subject IS NULL) FROM certificates ORDER BY id DESC "
	    "LIMIT 1");
	ck_assert_str_eq(v, "remote_user|alice@example|1");
	/* AUTH_TYPE in any case */
	enroll_env("ruser", "p256", "x", NULL,
	    "REMOTE_USER=bob\nAUTH_TYPE=basic", &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);
	/* not the web server's Basic login */
	enroll_env("ruser", "p256", "x", NULL, "REMOTE_USER=bob", &r);
	assert_challenge(&r, "ruser", "an HTTP Basic login is required");
	cgi_free(&r);
	enroll_env("ruser", "p256", "x", NULL,
	    "REMOTE_USER=bob\nAUTH_TYPE=Digest", &r);
	assert_challenge(&r, "ruser", "an HTTP Basic login is required");
	cgi_free(&r);
	enroll_env("ruser", "p256", "x", NULL,
	    "REMOTE_USER=\nAUTH_TYPE=Basic", &r);
	assert_challenge(&r, "ruser", NULL);
	cgi_free(&r);
	/* a certificate does not count here */
	enroll_env("ruser", "p256", "x", "boot.pem", NULL, &r);
	assert_challenge(&r, "ruser", NULL);
	cgi_free(&r);
	/* and REMOTE_USER does not count on a certificate label */
	enroll_env("device", "p256", "x", NULL,
	    "REMOTE_USER=alice\nAUTH_TYPE=Basic", &r);
	assert_error(&r, 401, "a client certificate is required");
	cgi_free(&r);
	ck_assert_int_eq(sql_count("certificates"), certs + 2);
}
END_TEST

START_TEST(t_policy_refusals)
{
	struct cgi	 r;
	char		 pc[64], id[16], env[256], v[256];
	int		 certs = sql_count("certificates");
	int		 refusals = sql_count("refusals");

	enroll_env("pass", "p521", "dev-1", "boot.pem", NULL, &r);
	assert_error(&r, 400, "key EC-P-521 is not allowed on label \"pass\" "
	    "(allowed: EC-P-256, EC-P-384)");
	cgi_free(&r);
	enroll_env("pass", "rsa2048", "dev-1", "boot.pem", NULL, &r);
	assert_error(&r, 400, "key RSA-2048 is not allowed on label \"pass\"");
	cgi_free(&r);
	enroll_env("pass", "p256", "foo", "boot.pem", NULL, &r);
	assert_error(&r, 400, "subject CN \"foo\" does not match ^dev-[0-9]+$");
	cgi_free(&r);
	enroll_env("pass", "p256", NULL, "boot.pem", NULL, &r);
	assert_error(&r, 400, "subject has no CN");
	cgi_free(&r);
	/* refused by policy: the passcode keeps its use */
	new_passcode("pass", NULL, pc, sizeof(pc), id, sizeof(id));
	basic_env("x", pc, env, sizeof(env));
	enroll_env("pass", "p256", "dev-x", NULL, env, &r);
	assert_error(&r, 400, "does not match");
	cgi_free(&r);
	sql1(v, sizeof(v), "SELECT uses_left FROM passcodes WHERE id=%Q", id);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(sql_count("certificates"), certs);
	ck_assert_int_eq(sql_count("refusals"), refusals + 5);
	ck_assert_int_eq(sql_count("refusals WHERE status = 400 AND "
	    "reason LIKE 'subject CN \"dev-x\"%'"), 1);
	/* renewal keeps the subject it has: not judged again */
	{
		X509		*x;
		EVP_PKEY	*k;
		struct mca_buf	 b = MCA_BUF_INIT;

		x = enroll_ok("pass", "p256", "dev-77", "boot.pem", &k);
		save_pem(x, "dev77.pem");
		csr_b64(k, "ignored name", NULL, 64, &b);
		run_cgi("POST", "/.well-known/est/pass/simplereenroll",
		    "application/pkcs10", b.data, (long)b.len, "dev77.pem", &r);
		ck_assert_int_eq(r.status, 200);
		cgi_free(&r);
		mca_buf_free(&b);
		X509_free(x);
		EVP_PKEY_free(k);
	}
}
END_TEST

START_TEST(t_csrattrs_policy)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	const char	*o;

	csrattrs_asn1("pass", &out);
	o = mca_buf_str(&out);
	ck_assert_msg(strstr(o, ":id-ecPublicKey") && strstr(o, ":prime256v1")
	    && strstr(o, ":secp384r1") && strstr(o, ":ecdsa-with-SHA256") &&
	    !strstr(o, "secp521r1") && !strstr(o, "rsaEncryption"), "%s", o);
	mca_buf_free(&out);
}
END_TEST

START_TEST(t_label_mtls)
{
	struct cgi	 r;

	/* the label's own bundle replaces the top-level one */
	enroll_env("ownboot", "p256", "f", "foreign.pem", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);
	enroll_env("ownboot", "p256", "f", "boot.pem", NULL, &r);
	assert_error(&r, 403, "not trusted");
	cgi_free(&r);
	/* and nowhere else */
	enroll_env("device", "p256", "f", "foreign.pem", NULL, &r);
	assert_error(&r, 403, "not trusted");
	cgi_free(&r);
	/* an unreadable bundle stops start-up, naming the dotted key */
	{
		char	 ks[1024], extra[4096];

		keysrc(ks, sizeof(ks));
		snprintf(extra, sizeof(extra), PASS_LABELS, dir, dir);
		write_config(path("badboot.json"), ks, extra);
		ck_assert_int_eq(tu_sh(NULL, "sed -i "
		    "'s#foreign-ca.pem#nosuch.pem#' '%s'",
		    path("badboot.json")), 0);
		run_cgi_cfg(path("badboot.json"), "GET",
		    "/.well-known/est/cacerts", NULL, NULL, -1, NULL, NULL, &r);
		ck_assert_int_eq(r.exitcode, 1);
		ck_assert_msg(strstr(mca_buf_str(&r.err), "badboot.json: "
		    "end_certificate_config_13.mtls_ca_cert: ") != NULL &&
		    strstr(mca_buf_str(&r.err), "nosuch.pem") != NULL, "%s",
		    mca_buf_str(&r.err));
		cgi_free(&r);
	}
}
END_TEST

/* POSTs a CSR for key (subject cn, subjectAltName san) to label/op. */
static void
post_san(const char *label, const char *op, EVP_PKEY *k, const char *cn,
    const char *san, const char *client, struct cgi *r)
{
	struct mca_buf	 der = MCA_BUF_INIT, b = MCA_BUF_INIT;
	char		 uri[256];

	make_csr_san(k, cn, san, &der);
	ck_assert_int_eq(mca_b64_encode(der.data, der.len, 64, &b), 0);
	snprintf(uri, sizeof(uri), "/.well-known/est/%s/%s", label, op);
	run_cgi("POST", uri, "application/pkcs10", b.data, (long)b.len,
	    client, r);
	mca_buf_free(&der);
	mca_buf_free(&b);
}

/* n DNS names "h<i>.example.com" in openssl's form, into out. */
static void
many_dns(int n, struct mca_buf *out)
{
	int	 i;

	mca_buf_reset(out);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(mca_buf_printf(out, "%sDNS:h%d.example.com",
		    i ? ", " : "", i), 0);
}

/* What the attacker of tracker issue 12 asked for, label by label. */
static const struct {
	const char	*label;
	const char	*cn;
	const char	*san;		/* NULL: many_dns(-n) */
	int		 n;
	int		 status;
	const char	*what;
} sancases[] = {
	/* The default (no san_policy): DNS and IP, 16 names, no wildcard. */
	{ "plain", "dev-1", "DNS:www.google.com, DNS:*.example.com, "
	    "IP:10.0.0.1, URI:spiffe://prod/ns/admin/sa/root, "
	    "email:ceo@example.com", 0, 400, "subjectAltName DNS "
	    "\"*.example.com\" is a wildcard, which this label does not "
	    "allow" },
	{ "plain", "dev-1", "DNS:a.example.com, URI:spiffe://prod/ns/admin",
	    0, 400, "subjectAltName URI is not allowed on label \"plain\" "
	    "(allowed: DNS, IP)" },
	{ "plain", "dev-1", "DNS:a.example.com, email:ceo@example.com", 0,
	    400, "subjectAltName email is not allowed on label \"plain\"" },
	{ "plain", "dev-1", "DNS:a.example.com, RID:1.2.3.4", 0, 400,
	    "subjectAltName registeredID is not allowed" },
	{ "plain", "dev-1", "DNS:bad_name.example.com", 0, 400,
	    "is not a host name" },
	{ "plain", "dev-1", NULL, 2000, 400, "subjectAltName has 2000 names; "
	    "label \"plain\" allows at most 16" },
	{ "plain", "dev-1", NULL, 17, 400, "has 17 names" },
	{ "plain", "dev-1", NULL, 16, 200, NULL },
	{ "plain", "dev-1", "DNS:www.google.com, IP:10.0.0.1, "
	    "IP:2001:db8::1", 0, 200, NULL },
	/* A label's own rules. */
	{ "strict", "dev-1", "DNS:www.google.com", 0, 400, "subjectAltName "
	    "DNS \"www.google.com\" does not match ^dev-[0-9]+\\.example\\.com$" },
	{ "strict", "dev-1", "IP:10.0.0.1", 0, 400, "subjectAltName IP is not "
	    "allowed on label \"strict\" (allowed: DNS)" },
	{ "strict", "dev-1", "DNS:dev-1.example.com, DNS:dev-2.example.com, "
	    "DNS:dev-3.example.com", 0, 400, "has 3 names; label \"strict\" "
	    "allows at most 2" },
	{ "strict", "CN=dev-1/OU=admins", "DNS:dev-1.example.com", 0, 400,
	    "subject attribute OU is not allowed on label \"strict\" "
	    "(allowed: CN)" },
	{ "strict", "CN=dev-1/emailAddress=ceo@example.com", NULL, -1, 400,
	    "subject attribute emailAddress is not allowed" },
	{ "strict", "dev-1", "DNS:dev-1.example.com, DNS:dev-22.example.com",
	    0, 200, NULL },
	{ "strict", "dev-1", NULL, -1, 200, NULL },
};

START_TEST(t_san_policy)
{
	struct mca_buf	 names = MCA_BUF_INIT;
	struct cgi	 r;
	EVP_PKEY	*k = genkey("p256");
	const char	*san = sancases[_i].san;
	char		 v[1024];
	int		 refusals = sql_count("refusals");
	int		 certs = sql_count("certificates");
	X509		*x;

	if (san == NULL && sancases[_i].n > 0) {
		many_dns(sancases[_i].n, &names);
		san = mca_buf_str(&names);
	}
	post_san(sancases[_i].label, "simpleenroll", k, sancases[_i].cn, san,
	    "boot.pem", &r);
	if (sancases[_i].status == 200) {
		x = issued_cert(&r);
		ck_assert_int_eq(sql_count("certificates"), certs + 1);
		X509_free(x);
	} else {
		assert_error(&r, sancases[_i].status, sancases[_i].what);
		ck_assert_int_eq(sql_count("certificates"), certs);
		ck_assert_int_eq(sql_count("refusals"), refusals + 1);
		sql1(v, sizeof(v), "SELECT status||' '||reason FROM refusals "
		    "ORDER BY id DESC LIMIT 1");
		ck_assert_msg(strstr(v, sancases[_i].what) != NULL, "%s", v);
	}
	cgi_free(&r);
	/* serverkeygen judges the same names */
	if (sancases[_i].status != 200) {
		post_san(sancases[_i].label, "serverkeygen", k,
		    sancases[_i].cn, san, "boot.pem", &r);
		assert_error(&r, sancases[_i].status, sancases[_i].what);
		cgi_free(&r);
	}
	mca_buf_free(&names);
	EVP_PKEY_free(k);
}
END_TEST

/* Enrolls cn (with san) on label as client; saves it as file. */
static void
enroll_save(const char *label, const char *cn, const char *san,
    const char *client, const char *file, EVP_PKEY **kp)
{
	struct cgi	 r;
	EVP_PKEY	*k = genkey("p256");
	X509		*x;

	post_san(label, "simpleenroll", k, cn, san, client, &r);
	x = issued_cert(&r);
	cgi_free(&r);
	save_pem(x, file);
	X509_free(x);
	if (kp != NULL)
		*kp = k;
	else
		EVP_PKEY_free(k);
}

/*
 * RFC 7030 3.3.2: a device's own certificate enrolls its own identity
 * only; an RA (ra_subject_patterns), a bootstrap certificate and a
 * passcode enroll any subject the label's rules allow.
 */
START_TEST(t_own_identity)
{
	struct cgi	 r;
	EVP_PKEY	*k = genkey("p256");
	int		 refusals, certs;

	enroll_save("plain", "dev-0001", "DNS:dev-0001.example.com, "
	    "IP:192.0.2.1", "boot.pem", "dev0001.pem", NULL);
	enroll_save("plain", "ra-1", NULL, "boot.pem", "ra1.pem", NULL);
	refusals = sql_count("refusals");
	certs = sql_count("certificates");

	post_san("plain", "simpleenroll", k, "dev-7777", NULL, "dev0001.pem",
	    &r);
	assert_error(&r, 403, "a certificate of this CA may enroll only its "
	    "own subject (\"CN=dev-0001\"), not \"CN=dev-7777\"");
	cgi_free(&r);
	post_san("plain", "serverkeygen", k, "dev-7777", NULL, "dev0001.pem",
	    &r);
	assert_error(&r, 403, "may enroll only its own subject");
	cgi_free(&r);
	post_san("plain", "simpleenroll", k, "dev-0001",
	    "DNS:dev-0001.example.com, DNS:www.google.com", "dev0001.pem", &r);
	assert_error(&r, 403, "may enroll only its own subjectAltNames; DNS "
	    "\"www.google.com\" is not one of them");
	cgi_free(&r);
	post_san("plain", "simpleenroll", k, "CN=dev-0001/O=x", NULL,
	    "dev0001.pem", &r);
	assert_error(&r, 403, "own subject");
	cgi_free(&r);
	ck_assert_int_eq(sql_count("refusals WHERE status = 403 AND reason "
	    "LIKE 'a certificate of this CA may enroll only its own%'"),
	    4);
	ck_assert_int_eq(sql_count("refusals"), refusals + 4);

	/* its own identity, or part of its names: fine */
	post_san("plain", "simpleenroll", k, "dev-0001",
	    "IP:192.0.2.1", "dev0001.pem", &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);
	post_san("plain", "serverkeygen", k, "dev-0001",
	    "DNS:dev-0001.example.com, IP:192.0.2.1", "dev0001.pem", &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);
	/* an RA enrolls others; so do bootstrap certificates */
	post_san("plain", "simpleenroll", k, "dev-7777",
	    "DNS:dev-7777.example.com", "ra1.pem", &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);
	post_san("plain", "serverkeygen", k, "dev-7778", NULL, "ra1.pem", &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);
	post_san("plain", "simpleenroll", k, "dev-7779", NULL, "boot.pem", &r);
	ck_assert_int_eq(r.status, 200);
	cgi_free(&r);
	/* the RA's requests are recorded as its own */
	ck_assert_int_eq(sql_count("certificates WHERE subject = "
	    "'CN=dev-7777' AND requester_subject = 'CN=ra-1'"), 1);
	ck_assert_int_eq(sql_count("certificates"), certs + 5);
	EVP_PKEY_free(k);
}
END_TEST

/*
 * A certificate renews once; a second renewal is refused outside the
 * label's reenroll_grace_seconds ("strict": 0), allowed inside it
 * ("plain": 3600) and then supersedes the first.
 */
START_TEST(t_reenroll_once)
{
	struct cgi	 r;
	EVP_PKEY	*k;
	X509		*x;
	char		 old[80], first[80], second[80], v[512], q[256];
	int		 refusals;

	/* strict: no grace */
	enroll_save("strict", "dev-5", "DNS:dev-5.example.com", "boot.pem",
	    "dev5.pem", &k);
	post_san("strict", "simplereenroll", k, "dev-5", NULL, "dev5.pem", &r);
	x = issued_cert(&r);
	cgi_free(&r);
	serial_of(x, first, sizeof(first));
	X509_free(x);
	refusals = sql_count("refusals");
	post_san("strict", "simplereenroll", k, "dev-5", NULL, "dev5.pem", &r);
	assert_error(&r, 403, "was already renewed (serial");
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&r.body), first));
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&r.body),
	    "reenroll_grace_seconds 0 on label \"strict\""));
	cgi_free(&r);
	ck_assert_int_eq(sql_count("refusals"), refusals + 1);
	ck_assert_int_eq(sql_count("refusals WHERE status = 403 AND "
	    "operation = 'simplereenroll' AND reason LIKE "
	    "'%was already renewed%'"), 1);
	snprintf(q, sizeof(q), "certificates WHERE replaces_serial = "
	    "(SELECT replaces_serial FROM certificates WHERE serial = '%s')",
	    first);
	ck_assert_int_eq(sql_count(q), 1);
	EVP_PKEY_free(k);

	/* plain: an hour of grace */
	enroll_save("plain", "dev-6", NULL, "boot.pem", "dev6.pem", &k);
	post_san("plain", "simplereenroll", k, "x", NULL, "dev6.pem", &r);
	x = issued_cert(&r);
	cgi_free(&r);
	serial_of(x, first, sizeof(first));
	save_pem(x, "dev6a.pem");
	X509_free(x);
	post_san("plain", "simplereenroll", k, "x", NULL, "dev6.pem", &r);
	x = issued_cert(&r);
	cgi_free(&r);
	serial_of(x, second, sizeof(second));
	X509_free(x);
	sql1(old, sizeof(old), "SELECT replaces_serial FROM certificates "
	    "WHERE serial=%Q", second);
	sql1(v, sizeof(v), "SELECT replaces_serial||'|'||superseded_by||'|'||"
	    "(superseded_at IS NOT NULL) FROM certificates WHERE serial=%Q",
	    first);
	snprintf(q, sizeof(q), "%s|%s|1", old, second);
	ck_assert_str_eq(v, q);
	/* the current one: the renewal that is not superseded */
	sql1(v, sizeof(v), "SELECT serial FROM certificates WHERE "
	    "replaces_serial=%Q AND superseded_by IS NULL", old);
	ck_assert_str_eq(v, second);
	/* the superseded renewal is done with */
	post_san("plain", "simplereenroll", k, "x", NULL, "dev6a.pem", &r);
	assert_error(&r, 403, "was superseded by serial");
	cgi_free(&r);
	post_san("plain", "simpleenroll", k, "dev-6", NULL, "dev6a.pem", &r);
	assert_error(&r, 403, "enrolls no more");
	cgi_free(&r);
	/* the grace is counted from the first renewal */
	{
		sqlite3	*db;

		ck_assert_int_eq(sqlite3_open(path("ledger.db"), &db),
		    SQLITE_OK);
		snprintf(q, sizeof(q), "UPDATE certificates SET issued_at = "
		    "'2020-01-01T00:00:00Z' WHERE serial = '%s'", first);
		ck_assert_int_eq(sqlite3_exec(db, q, NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
	}
	post_san("plain", "simplereenroll", k, "x", NULL, "dev6.pem", &r);
	assert_error(&r, 403, " at 2020-01-01T00:00:00Z); renew with that one");
	cgi_free(&r);
	EVP_PKEY_free(k);
}
END_TEST

/*
 * Eight CGI processes renew one certificate at once on a label without
 * grace: exactly one certificate comes out, the others are refused.
 */
START_TEST(t_reenroll_race)
{
	struct mca_buf	 out = MCA_BUF_INIT, der = MCA_BUF_INIT;
	struct mca_buf	 b = MCA_BUF_INIT;
	EVP_PKEY	*k;
	char		 s8[80], q[256];
	X509		*x;
	int		 certs, refusals;

	enroll_save("strict", "dev-8", NULL, "boot.pem", "dev8.pem", &k);
	{
		FILE	*f = fopen(path("dev8.pem"), "r");

		ck_assert_ptr_nonnull(f);
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
		serial_of(x, s8, sizeof(s8));
		X509_free(x);
	}
	certs = sql_count("certificates");
	refusals = refusals_403();
	make_csr_san(k, "dev-8", NULL, &der);
	ck_assert_int_eq(mca_b64_encode(der.data, der.len, 64, &b), 0);
	ck_assert_int_eq(tu_write(path("rrace.b64"), (const char *)b.data,
	    b.len), 0);
	ck_assert_int_eq(tu_sh(&out, "cd '%s' && for i in 1 2 3 4 5 6 7 8; do "
	    "env -i REQUEST_METHOD=POST "
	    "REQUEST_URI=/.well-known/est/strict/simplereenroll "
	    "CONTENT_TYPE=application/pkcs10 CONTENT_LENGTH=%zu "
	    "REMOTE_ADDR=127.0.0.1 SSL_CLIENT_VERIFY=SUCCESS "
	    "SSL_CLIENT_CERT=\"$(cat dev8.pem)\" '%s/microca-est' --config "
	    "'%s' < rrace.b64 > rrace.$i 2>/dev/null & done; wait; "
	    "grep -l '^Status: 200' rrace.? | wc -l; "
	    "grep -l '^Status: 403' rrace.? | wc -l", dir, b.len,
	    tu_builddir(), path("config.json")), 0);
	ck_assert_str_eq(mca_buf_str(&out), "1\n7\n");
	ck_assert_int_eq(sql_count("certificates"), certs + 1);
	/*
	 * Seven refusals: a row each, or, for a worker that found the
	 * ledger busy for longer than a refusal may wait, a count.
	 */
	ck_assert_int_eq(refusals_403(), refusals + 7);
	snprintf(q, sizeof(q), "certificates WHERE replaces_serial = '%s'",
	    s8);
	ck_assert_int_eq(sql_count(q), 1);
	mca_buf_free(&out);
	mca_buf_free(&der);
	mca_buf_free(&b);
	EVP_PKEY_free(k);
}
END_TEST

/*
 * Appends "SSL_CLIENT_CERT_CHAIN_<i>=<the PEM of file name in dir>" to
 * env, as run_cgi_cfg() takes it: one entry a line, so the PEM's line
 * breaks become spaces (as some web servers hand them over).
 */
static void
chain_var(struct mca_buf *env, int i, const char *name)
{
	struct mca_buf	 pem = MCA_BUF_INIT;
	size_t		 j;

	ck_assert_int_eq(tu_read(path(name), &pem), 0);
	while (pem.len > 0 && pem.data[pem.len - 1] == '\n')
		pem.len--;
	for (j = 0; j < pem.len; j++)
		if (pem.data[j] == '\n')
			pem.data[j] = ' ';
	ck_assert_int_eq(mca_buf_printf(env, "SSL_CLIENT_CERT_CHAIN_%d=%.*s\n",
	    i, (int)pem.len, (const char *)pem.data), 0);
	mca_buf_free(&pem);
}

/*
 * A bootstrap certificate issued through a device maker's intermediate,
 * with only the maker's root in the label's mtls_ca_cert: good with the
 * chain the web server passes (SSL_CLIENT_CERT_CHAIN_n), refused without
 * it or through a forged intermediate; the chain's caps.
 */
START_TEST(t_maker_chain)
{
	struct mca_buf	 env = MCA_BUF_INIT;
	struct cgi	 r;
	int		 i;

	chain_var(&env, 0, "maker-int.pem");
	enroll_env("maker", "p256", "dev-7001", "maker-dev.pem",
	    mca_buf_str(&env), &r);
	ck_assert_msg(r.status == 200, "%d %s %s", r.status,
	    mca_buf_str(&r.body), mca_buf_str(&r.err));
	cgi_free(&r);
	/* the same leaf without its intermediate */
	enroll_env("maker", "p256", "dev-7001", "maker-dev.pem", NULL, &r);
	assert_error(&r, 403, "not trusted: unable to get local issuer "
	    "certificate (and the web server passed no chain");
	cgi_free(&r);
	/* a forged intermediate: the maker's names, other keys */
	mca_buf_reset(&env);
	chain_var(&env, 0, "maker-fake-int.pem");
	enroll_env("maker", "p256", "dev-7001", "maker-fake.pem",
	    mca_buf_str(&env), &r);
	assert_error(&r, 403, "not trusted");
	cgi_free(&r);
	/* the real leaf with the forged intermediate */
	enroll_env("maker", "p256", "dev-7001", "maker-dev.pem",
	    mca_buf_str(&env), &r);
	assert_error(&r, 403, "not trusted");
	cgi_free(&r);
	/* the chain is no anchor: elsewhere the maker is nobody */
	mca_buf_reset(&env);
	chain_var(&env, 0, "maker-int.pem");
	chain_var(&env, 1, "maker-root.pem");
	enroll_env("device", "p256", "dev-7001", "maker-dev.pem",
	    mca_buf_str(&env), &r);
	assert_error(&r, 403, "not trusted");
	cgi_free(&r);
	/* 8 chain certificates are taken (the root, then the intermediate) */
	mca_buf_reset(&env);
	for (i = 0; i < 8; i++)
		chain_var(&env, i, i < 7 ? "maker-root.pem" : "maker-int.pem");
	enroll_env("maker", "p256", "dev-7001", "maker-dev.pem",
	    mca_buf_str(&env), &r);
	ck_assert_msg(r.status == 200, "%d %s", r.status,
	    mca_buf_str(&r.body));
	cgi_free(&r);
	/* 9 are too many */
	chain_var(&env, 8, "maker-int.pem");
	enroll_env("maker", "p256", "dev-7001", "maker-dev.pem",
	    mca_buf_str(&env), &r);
	assert_error(&r, 403, "more than 8 certificates in "
	    "SSL_CLIENT_CERT_CHAIN_n");
	cgi_free(&r);
	/* a chain certificate over the PEM cap */
	mca_buf_reset(&env);
	ck_assert_int_eq(mca_buf_addstr(&env, "SSL_CLIENT_CERT_CHAIN_0="), 0);
	for (i = 0; i < 65537; i++)
		ck_assert_int_eq(mca_buf_addc(&env, 'A'), 0);
	enroll_env("maker", "p256", "dev-7001", "maker-dev.pem",
	    mca_buf_str(&env), &r);
	assert_error(&r, 403, "SSL_CLIENT_CERT_CHAIN_0 is over 65536 bytes");
	cgi_free(&r);
	/* garbage, after a good one */
	mca_buf_reset(&env);
	chain_var(&env, 0, "maker-int.pem");
	ck_assert_int_eq(mca_buf_addstr(&env, "SSL_CLIENT_CERT_CHAIN_1="
	    "-----BEGIN CERTIFICATE----- bm90IGEgY2VydGlmaWNhdGU= "
	    "-----END CERTIFICATE-----\n"), 0);
	enroll_env("maker", "p256", "dev-7001", "maker-dev.pem",
	    mca_buf_str(&env), &r);
	assert_error(&r, 403, "chain cannot be parsed "
	    "(SSL_CLIENT_CERT_CHAIN_1: ");
	cgi_free(&r);
	/* the chain starts at 0: a lone _1 is not read */
	mca_buf_reset(&env);
	chain_var(&env, 1, "maker-int.pem");
	enroll_env("maker", "p256", "dev-7001", "maker-dev.pem",
	    mca_buf_str(&env), &r);
	assert_error(&r, 403, "passed no chain");
	cgi_free(&r);
	mca_buf_free(&env);
}
END_TEST

/*
 * Eight CGI processes at once with the same one-use passcode: exactly
 * one certificate comes out.
 */
START_TEST(t_passcode_race)
{
	struct mca_buf	 out = MCA_BUF_INIT, b = MCA_BUF_INIT;
	EVP_PKEY	*k = genkey("p256");
	char		 pc[64], id[16], env[256], v[64];
	int		 certs = sql_count("certificates");

	new_passcode("pass", NULL, pc, sizeof(pc), id, sizeof(id));
	basic_env("x", pc, env, sizeof(env));
	csr_b64(k, "dev-99", NULL, 64, &b);
	ck_assert_int_eq(tu_write(path("race.b64"), (const char *)b.data,
	    b.len), 0);
	ck_assert_int_eq(tu_sh(&out, "cd '%s' && for i in 1 2 3 4 5 6 7 8; do "
	    "env -i REQUEST_METHOD=POST "
	    "REQUEST_URI=/.well-known/est/pass/simpleenroll "
	    "CONTENT_TYPE=application/pkcs10 CONTENT_LENGTH=%zu "
	    "REMOTE_ADDR=127.0.0.1 '%s' '%s/microca-est' --config '%s' "
	    "< race.b64 > race.$i 2>/dev/null & done; wait; "
	    "grep -l '^Status: 200' race.? | wc -l; "
	    "grep -l '^Status: 401' race.? | wc -l", dir, b.len, env,
	    tu_builddir(), path("config.json")), 0);
	ck_assert_str_eq(mca_buf_str(&out), "1\n7\n");
	ck_assert_int_eq(sql_count("certificates"), certs + 1);
	sql1(v, sizeof(v), "SELECT uses_left FROM passcodes WHERE id=%Q", id);
	ck_assert_str_eq(v, "0");
	mca_buf_free(&out);
	mca_buf_free(&b);
	EVP_PKEY_free(k);
}
END_TEST

/* ------------------------------------------------- CA generations */

/*
 * A new intermediate "<name>", signed by the test root: its key made in
 * the test token under label (hsm modes), or written to <name>.key; its
 * certificate in <name>.pem, and <name>-chain.pem with the root after
 * it. cn is its common name.
 */
static void
new_intermediate(const char *name, const char *label, const char *cn)
{
	struct mca_p11	*p = NULL;
	struct mca_diag	 d;
	EVP_PKEY	*pub = NULL, *k = NULL;
	char		 f[300];
	FILE		*fp;

	if (strncmp(mode, "hsm", 3) == 0) {
		ck_assert_msg(mca_p11_session(getenv("SOFTHSM2_MODULE"), NULL,
		    "1234", &p, &d) == 0, "session: %s", d.msg);
		ck_assert_msg(mca_p11_keygen(p, MCA_KEYTYPE_EC, 256, label,
		    NULL, &pub, &d) == 0, "keygen %s: %s", label, d.msg);
		mca_p11_close(p);
	} else {
		k = genkey("p256");
		snprintf(f, sizeof(f), "%s.key", name);
		save_key(k, f);
		pub = k;
	}
	snprintf(f, sizeof(f), "%s-pub.pem", name);
	ck_assert_ptr_nonnull(fp = fopen(path(f), "w"));
	ck_assert_int_eq(PEM_write_PUBKEY(fp, pub), 1);
	ck_assert_int_eq(fclose(fp), 0);
	EVP_PKEY_free(pub);
	/* A throwaway CSR; the certificate gets the new key (mkpki.sh). */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && O='%s' && "
	    "$O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
	    "-out %s-tmp.key 2>/dev/null && "
	    "$O req -new -key %s-tmp.key -subj '/O=microca test/CN=%s' "
	    "-config req.cnf -out %s.csr && "
	    "$O x509 -req -in %s.csr -CA root.pem -CAkey root.key "
	    "-CAcreateserial -extfile exts.cnf -extensions inter -days 3650 "
	    "-sha256 -force_pubkey %s-pub.pem -out %s.pem 2>/dev/null && "
	    "cat %s.pem root.pem > %s-chain.pem && rm -f %s-tmp.key",
	    dir, tu_openssl(), name, name, cn, name, name, name, name, name,
	    name, name), 0);
}

/*
 * Records <name>-chain.pem as the active generation, with the token key
 * label or the key file <keyname>.key. Returns its id.
 */
static long long
install_gen(const char *name, const char *label, const char *keyname)
{
	struct mca_ledger	*l = NULL;
	struct mca_buf		 chain = MCA_BUF_INIT;
	struct mca_diag		 d;
	STACK_OF(X509)		*sk;
	unsigned char		 md[32];
	unsigned int		 mdlen = 0;
	char			 f[300], kp[4500], serial[80], hex[65];
	long long		 id = 0;
	X509			*x;
	int			 i, rc;

	snprintf(f, sizeof(f), "%s-chain.pem", name);
	ck_assert_int_eq(tu_read(path(f), &chain), 0);
	sk = pem_certs(f);
	x = sk_X509_value(sk, 0);
	serial_of(x, serial, sizeof(serial));
	ck_assert_int_eq(X509_digest(x, EVP_sha256(), md, &mdlen), 1);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (keyname != NULL) {
		snprintf(f, sizeof(f), "%s.key", keyname);
		snprintf(kp, sizeof(kp), "%s", path(f));
	}
	ck_assert_msg(mca_ledger_open(path("ledger.db"), 1, &l, &d) == 0,
	    "ledger: %s", d.msg);
	rc = mca_castate_install(l, label, keyname != NULL ? kp : NULL,
	    mca_buf_str(&chain), serial, hex,
	    (time_t)0, (time_t)4102444800LL, &id);
	ck_assert_msg(rc == 0, "install: %s", mca_ledger_errmsg(l, rc));
	mca_ledger_close(l);
	sk_X509_pop_free(sk, X509_free);
	mca_buf_free(&chain);
	return id;
}

/* x is issued by the first certificate of file, and verifies to root. */
static void
assert_issued_by(X509 *x, const char *file)
{
	STACK_OF(X509)	*sk = pem_certs(file);

	ck_assert_int_eq(X509_check_issued(sk_X509_value(sk, 0), x),
	    X509_V_OK);
	ck_assert_int_eq(X509_verify(x, X509_get0_pubkey(sk_X509_value(sk,
	    0))), 1);
	sk_X509_pop_free(sk, X509_free);
	save_pem(x, "verify-me.pem");
	ck_assert_int_eq(tu_sh(NULL, "'%s' verify -CAfile '%s' -untrusted "
	    "'%s' '%s' >&2", tu_openssl(), path("root.pem"), path(file),
	    path("verify-me.pem")), 0);
}

/* /cacerts serves exactly the certificates of file, in order. */
static void
assert_cacerts(const char *file)
{
	STACK_OF(X509)	*want = pem_certs(file), *got;
	struct cgi	 r;
	int		 i;

	run_cgi("GET", "/.well-known/est/cacerts", NULL, NULL, -1, NULL, &r);
	got = certs_of(&r);
	cgi_free(&r);
	ck_assert_int_eq(sk_X509_num(got), sk_X509_num(want));
	for (i = 0; i < sk_X509_num(want); i++)
		ck_assert_int_eq(X509_cmp(sk_X509_value(got, i),
		    sk_X509_value(want, i)), 0);
	sk_X509_pop_free(got, X509_free);
	sk_X509_pop_free(want, X509_free);
}

/* Lines of s that contain needle. */
static int
count_lines(const char *s, const char *needle)
{
	const char	*p;
	int		 n = 0;

	for (p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/*
 * No generation: config.json's intermediate signs. A new one installed:
 * it signs, /cacerts serves its chain, and a certificate from the old
 * intermediate still renews (signed by the new one). A generation whose
 * key does not belong to its certificate is not used: one log line,
 * the previous CA signs.
 */
START_TEST(t_generations)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct cgi	 r;
	EVP_PKEY	*k;
	X509		*old, *x;
	long long	 id2, id3;
	int		 hsm = strncmp(mode, "hsm", 3) == 0;

	/* Nothing installed: as ever. */
	old = enroll_ok("device", "p256", "gen-old", "boot.pem", &k);
	assert_issued_by(old, "chain.pem");
	save_pem(old, "gen-old.pem");
	assert_cacerts("chain.pem");

	new_intermediate("gen2", "microca-ca-2", "microca test gen 2");
	id2 = install_gen("gen2", hsm ? "microca-ca-2" : NULL,
	    hsm ? NULL : "gen2");
	ck_assert_int_gt(id2, 0);
	x = enroll_ok("device", "p256", "gen-new", "boot.pem", NULL);
	assert_issued_by(x, "gen2-chain.pem");
	X509_free(x);
	assert_cacerts("gen2-chain.pem");

	/* RFC 7030 4.2.2: the old certificate renews, under the new CA. */
	csr_b64(k, "gen-old", NULL, 64, &b);
	run_cgi("POST", "/.well-known/est/device/simplereenroll",
	    "application/pkcs10", b.data, (long)b.len, "gen-old.pem", &r);
	x = issued_cert(&r);
	cgi_free(&r);
	assert_issued_by(x, "gen2-chain.pem");
	ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_subject_name(old)), 0);
	save_pem(x, "gen-renewed.pem");
	X509_free(x);

	/* A generation whose key is another one's: not used. */
	new_intermediate("gen3", "microca-ca-3", "microca test gen 3");
	id3 = install_gen("gen3", hsm ? "microca-ca-2" : NULL,
	    hsm ? NULL : "gen2");
	ck_assert_int_gt(id3, id2);
	csr_b64(k, "gen-bad", NULL, 64, &b);
	run_cgi("POST", "/.well-known/est/device/simpleenroll",
	    "application/pkcs10", b.data, (long)b.len, "boot.pem", &r);
	x = issued_cert(&r);
	/*
	 * A CGI run starts afresh: the CA before the bad generation is
	 * config.json's (a FastCGI worker keeps the one it has:
	 * tests/integration/check_web.c).
	 */
	assert_issued_by(x, "chain.pem");
	X509_free(x);
	ck_assert_msg(count_lines(mca_buf_str(&r.err), "does not belong") ==
	    1, "log: %s", mca_buf_str(&r.err));
	ck_assert_msg(strstr(mca_buf_str(&r.err), "CA generation") != NULL,
	    "log: %s", mca_buf_str(&r.err));
	cgi_free(&r);
	assert_cacerts("chain.pem");
	/* The renewed certificate (from gen 2, retired) still renews. */
	run_cgi("POST", "/.well-known/est/device/simplereenroll",
	    "application/pkcs10", b.data, (long)b.len, "gen-renewed.pem", &r);
	x = issued_cert(&r);
	cgi_free(&r);
	X509_free(x);

	mca_buf_free(&b);
	EVP_PKEY_free(k);
	X509_free(old);
}
END_TEST

static Suite *
est_suite(void)
{
	Suite	*s = suite_create("est");
	TCase	*tc;

	tc = tcase_create("hsm-ec");
	tcase_add_unchecked_fixture(tc, setup_hsm_ec, teardown);
	tcase_add_test(tc, t_cacerts);
	tcase_add_test(tc, t_csrattrs);
	tcase_add_test(tc, t_head);
	tcase_add_test(tc, t_enroll_device);
	tcase_add_test(tc, t_enroll_keys);
	tcase_add_test(tc, t_enroll_pem_text_plain);
	tcase_add_test(tc, t_enroll_profiles);
	tcase_add_test(tc, t_errors);
	tcase_add_test(tc, t_short_body);
	tcase_add_test(tc, t_copy_nosync);
	tcase_add_test(tc, t_reenroll);
	tcase_add_test(tc, t_ledger_failure);
	tcase_add_test(tc, t_startup_errors);
	tcase_add_test(tc, t_serverkeygen);
	tcase_add_test(tc, t_serverkeygen_csr);
	tcase_add_test(tc, t_serverkeygen_errors);
	tcase_add_test(tc, t_rollover);
	suite_add_tcase(s, tc);

	/* Their own PKI: the tests above expect config.json's CA. */
	tc = tcase_create("generations-hsm");
	tcase_add_unchecked_fixture(tc, setup_hsm_ec, teardown);
	tcase_add_test(tc, t_generations);
	suite_add_tcase(s, tc);
	tc = tcase_create("generations-file");
	tcase_add_unchecked_fixture(tc, setup_file, teardown);
	tcase_add_test(tc, t_generations);
	suite_add_tcase(s, tc);

	tc = tcase_create("hsm-rsa");
	tcase_add_unchecked_fixture(tc, setup_hsm_rsa, teardown);
	tcase_add_test(tc, t_cacerts);
	tcase_add_test(tc, t_enroll_device_rsa_ca);
	tcase_add_test(tc, t_reenroll);
	tcase_add_test(tc, t_startup_errors);
	tcase_add_test(tc, t_serverkeygen);
	suite_add_tcase(s, tc);

	tc = tcase_create("keyfile");
	tcase_add_unchecked_fixture(tc, setup_file, teardown);
	tcase_add_test(tc, t_cacerts);
	tcase_add_test(tc, t_enroll_profiles);
	tcase_add_test(tc, t_reenroll);
	tcase_add_test(tc, t_startup_errors);
	tcase_add_test(tc, t_startup_together);
	tcase_add_test(tc, t_rollover);
	suite_add_tcase(s, tc);

	tc = tcase_create("azure-admin");
	tcase_add_unchecked_fixture(tc, setup_file, teardown);
	tcase_add_test(tc, t_admin_azure);
	suite_add_tcase(s, tc);

	tc = tcase_create("passcodes");
	tcase_add_unchecked_fixture(tc, setup_pass, teardown);
	tcase_add_test(tc, t_passcode_lifecycle);
	tcase_add_test(tc, t_admin_errors);
	tcase_add_test(tc, t_remote_user);
	tcase_add_test(tc, t_policy_refusals);
	tcase_add_test(tc, t_csrattrs_policy);
	tcase_add_test(tc, t_label_mtls);
	tcase_add_test(tc, t_passcode_race);
	tcase_add_test(tc, t_maker_chain);
	tcase_add_loop_test(tc, t_san_policy, 0,
	    (int)(sizeof(sancases) / sizeof(sancases[0])));
	tcase_add_test(tc, t_own_identity);
	tcase_add_test(tc, t_reenroll_once);
	tcase_add_test(tc, t_reenroll_race);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(est_suite());
}
