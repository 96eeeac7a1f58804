/*
 * microca behind real web servers: lighttpd and Apache (mod_ssl +
 * mod_fcgid), started by scripts/microca-web from the configurations in
 * conf-examples/, as plain processes on loopback, with the CA key in a
 * real SoftHSMv2 token. Real clients do every operation: curl and openssl,
 * strongSwan's pki. The ledger is read with the sqlite3 command-line
 * tool, as an auditor would.
 *
 * Each server runs once per test case (an unchecked fixture: it is
 * stopped by the parent even when a test fails or crashes, and
 * microca-web stops it by itself should this program die).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "castate.h"
#include "err.h"
#include "ledger.h"
#include "p11.h"
#include "testutil.h"

struct web {
	const char	*kind;		/* "lighttpd" or "apache" */
	char		*dir;		/* the test's files; ledger; pki/ */
	char		 url[128];	/* https://127.0.0.1:PORT */
	int		 root;		/* running as root: workers run as www-data */
	int		 seq;		/* per-test file names */
};

static struct web	 W;

static void	 refused(const char *, const char *, int, const char *);

static char *
path(const char *name)
{
	static char	 p[4][1024];
	static int	 i;

	i = (i + 1) % 4;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", W.dir, name);
	return p[i];
}

/* ---------------------------------------------------------------- setup */

static void
write_config(void)
{
	FILE	*f;

	f = fopen(path("config.json"), "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
	    "{\n"
	    " \"intermediate_cert_config\": { \"hash_function\": \"SHA256\" },\n"
	    " \"intermediate_cert_path\": \"%s/pki/chain.pem\",\n"
	    " \"intermediate_private_key_label_in_pkcs11\": \"microca-ca\",\n"
	    " \"pkcs11_library\": \"%s\",\n"
	    " \"pkcs11_library_pin\": \"1234\",\n"
	    " \"mtls_ca_cert\": \"%s/pki/boot-ca.pem\",\n"
	    " \"ledger_db_path\": \"%s/ledger.db\",\n"
	    " \"issued_certs_dir\": \"%s/IssuedCerts\",\n"
	    " \"rollover_cert_path\": \"%s/pki/rollover-g2.pem\",\n"
	    " \"default_end_point_name\": \"strongswan\",\n"
	    " \"passcode_failures_max\": 5,\n"
	    " \"passcode_address_failures_max\": 20,\n"
	    " \"passcode_failure_window_seconds\": 3600,\n"
	    " \"end_certificate_config_1\": {\n"
	    "  \"end_point_name\": \"device\", \"validity_in_days\": 30,\n"
	    "  \"extended_key_usage_list\": [\"1.3.6.1.5.5.7.3.2\"],\n"
	    "  \"key_usage\": { \"digital_signature\": true },\n"
	    "  \"is_device_cert\": false },\n"
	    " \"end_certificate_config_2\": {\n"
	    "  \"end_point_name\": \"strongswan\", \"validity_in_days\": 30,\n"
	    "  \"extended_key_usage_list\": [\"1.3.6.1.5.5.7.3.2\"],\n"
	    "  \"key_usage\": { \"digital_signature\": true },\n"
	    "  \"auth_methods\": [\"certificate\", \"passcode\"],\n"
	    "  \"base64_line_length\": 0 },\n"
	    " \"end_certificate_config_3\": {\n"
	    "  \"end_point_name\": \"pass\", \"validity_in_days\": 30,\n"
	    "  \"auth_methods\": [\"certificate\", \"passcode\"],\n"
	    "  \"allowed_keys\": [\"EC-P-256\"],\n"
	    "  \"subject_patterns\": { \"CN\": \"^web-[a-z0-9-]+$\" } },\n"
	    " \"end_certificate_config_4\": {\n"
	    "  \"end_point_name\": \"ruser\", \"validity_in_days\": 30,\n"
	    "  \"auth_methods\": [\"remote_user\"] },\n"
	    " \"end_certificate_config_5\": {\n"
	    "  \"end_point_name\": \"otherca\", \"validity_in_days\": 30,\n"
	    "  \"mtls_ca_cert\": \"%s/pki/foreign-ca.pem\" },\n"
	    " \"end_certificate_config_6\": {\n"
	    "  \"end_point_name\": \"maker\", \"validity_in_days\": 30,\n"
	    "  \"mtls_ca_cert\": \"%s/pki/maker-root.pem\" },\n"
	    " \"end_certificate_config_7\": {\n"
	    "  \"end_point_name\": \"makerint\", \"validity_in_days\": 30,\n"
	    "  \"mtls_ca_cert\": \"%s/maker-bundle.pem\" },\n"
	    " \"end_certificate_config_8\": {\n"
	    "  \"end_point_name\": \"ipsec\", \"validity_in_days\": 30,\n"
	    "  \"auth_methods\": [\"certificate\", \"passcode\"],\n"
	    "  \"base64_line_length\": 0 },\n"
	    " \"end_certificate_config_9\": {\n"
	    "  \"end_point_name\": \"once\", \"validity_in_days\": 30,\n"
	    "  \"san_policy\": { \"allowed_types\": [\"DNS\"],\n"
	    "    \"DNS\": \"^web-[a-z0-9-]+\\\\.example\\\\.com$\" },\n"
	    "  \"reenroll_grace_seconds\": 0 },\n"
	    " \"end_certificate_config_10\": {\n"
	    "  \"end_point_name\": \"grace\", \"validity_in_days\": 30,\n"
	    "  \"reenroll_grace_seconds\": 3600 }\n"
	    "}\n", W.dir, getenv("SOFTHSM2_MODULE"), W.dir, W.dir, W.dir,
	    W.dir, W.dir, W.dir, W.dir);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path("config.json"), 0600), 0);
}

/*
 * The tails of the logs, as TAP comments into the test's log: the web
 * server's error.log (Apache's ErrorLog holds what mod_fcgid says of a
 * worker, "End of script output before headers" for one that exited, and
 * whatever a worker wrote to stderr before --logFile took it) and
 * microca.log (the workers' stderr, --logFile). For a request made at
 * start-up that failed: the directory is gone once the test case ends.
 */
static void
web_logs(const char *why)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	(void)tu_sh(&out, "for f in '%s/web/error.log' '%s/microca.log'; do "
	    "echo \"== the last 40 lines of $f\"; tail -n 40 \"$f\" 2>&1; "
	    "done | sed 's/^/# /'", W.dir, W.dir);
	printf("# %s, %s: %s\n%s", W.kind, why, W.dir, mca_buf_str(&out));
	fflush(stdout);
	mca_buf_free(&out);
}

static void
web_start(const char *kind)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	const char	*mod = getenv("SOFTHSM2_MODULE");
	int		 rc;

	memset(&W, 0, sizeof(W));
	W.kind = kind;
	W.dir = tu_mkdtemp(kind);
	W.root = geteuid() == 0;
	ck_assert_msg(mod != NULL && *mod != '\0', "SOFTHSM2_MODULE not set");
	ck_assert_int_eq(tu_mkpki(path("pki"), "hsm-ec"), 0);
	/* A root key update in progress: /cacerts carries its certificates. */
	ck_assert_int_eq(tu_sh(NULL, "OPENSSL='%s' sh '%s/tests/pki/"
	    "mkrollover.sh' '%s/pki' >/dev/null", getenv("OPENSSL"),
	    tu_srcdir(), W.dir), 0);
	write_config();
	/* The web server's own Basic login, for the label "ruser". */
	ck_assert_int_eq(tu_sh(NULL, "printf 'alice:%%s\\n' \"$('%s' passwd "
	    "-apr1 wonderland)\" > '%s/htpasswd'", getenv("OPENSSL"), W.dir),
	    0);
	/*
	 * The CAs asked for in the handshake: the bootstrap CAs (a device
	 * maker's root among them) and our chain. The label "makerint"
	 * trusts the maker's intermediate too.
	 */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && cat pki/boot-ca.pem "
	    "pki/chain.pem pki/maker-root.pem > client-ca.pem && cat "
	    "pki/maker-root.pem pki/maker-int.pem > maker-bundle.pem", W.dir),
	    0);
	/*
	 * As root the workers run as www-data, which must own their files
	 * and reach the program (a build tree under /root it cannot).
	 */
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
	    "MCA_WEB_CLIENT_CA='%s/client-ca.pem' MCA_WEB_WORKERS=2 "
	    "MCA_WEB_OWNER_PID=%ld MCA_WEB_CONF_DIR='%s/conf-examples' "
	    "MCA_WEB_BASIC_LABEL=ruser MCA_WEB_HTPASSWD='%s/htpasswd' "
	    "sh '%s/scripts/microca-web' start %s '%s/web'",
	    W.root ? path("bin") : tu_builddir(), W.dir, W.dir, W.dir, W.dir,
	    W.dir, W.dir, (long)getpid(), tu_srcdir(), W.dir, tu_srcdir(), kind,
	    W.dir);
	if (rc != 0)
		web_logs("microca-web start failed");
	ck_assert_msg(rc == 0, "microca-web start %s failed (%d)", kind, rc);
	ck_assert_int_gt(out.len, 8);
	(void)snprintf(W.url, sizeof(W.url), "%.*s",
	    (int)strcspn(mca_buf_str(&out), "\n"), mca_buf_str(&out));
	mca_buf_free(&out);
}

static void
web_stop(void)
{
	if (W.dir == NULL)
		return;
	(void)tu_sh(NULL, "sh '%s/scripts/microca-web' stop '%s/web'",
	    tu_srcdir(), W.dir);
	/* Nothing of ours may outlive the server. */
	(void)tu_sh(NULL, "for p in $(cat '%s/web/workers' 2>/dev/null); do "
	    "kill -0 $p 2>/dev/null && echo \"worker $p still running\" >&2; "
	    "done; true", W.dir);
	tu_rmtree(W.dir);
	free(W.dir);
	W.dir = NULL;
}

static void start_lighttpd(void) { web_start("lighttpd"); }
static void start_apache(void) { web_start("apache"); }

/* ---------------------------------------------------------------- clients */

struct reply {
	int		 status;
	char		 version[8];	/* "1.1", "2" */
	struct mca_buf	 body;
	struct mca_buf	 headers;
	char		 bodyfile[1024];
};

static void
reply_free(struct reply *r)
{
	mca_buf_free(&r->body);
	mca_buf_free(&r->headers);
}

/* Does the header block hold this exact line (name spelled as given)? */
static int
has_header(const struct reply *r, const char *line)
{
	const char	*p = mca_buf_str(&r->headers);
	size_t		 n = strlen(line);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, line, n) == 0 && (p[n] == '\r' || p[n] == '\n'))
			return 1;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}

static int
has_header_name(const struct reply *r, const char *name)
{
	const char	*p = mca_buf_str(&r->headers);
	size_t		 n = strlen(name);

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return 1;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}

/*
 * One request with curl. opts are extra curl options (client certificate,
 * body, method, --http1.1/--http2). Checks what every answer must be:
 * a Content-Length equal to the body, never chunked, header names spelt
 * exactly (HTTP/1.1; HTTP/2 lowercases them by definition).
 */
static void
est(struct reply *r, const char *opts, const char *resource)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 hdrs[1024], cl[64];
	int		 seq = ++W.seq;

	memset(r, 0, sizeof(*r));
	(void)snprintf(r->bodyfile, sizeof(r->bodyfile), "%s/r%d-%d.body",
	    W.dir, (int)getpid(), seq);
	(void)snprintf(hdrs, sizeof(hdrs), "%s/r%d-%d.hdr", W.dir,
	    (int)getpid(), seq);
	ck_assert_int_eq(tu_sh(&out, "curl -sS --max-time 300 --cacert "
	    "'%s/pki/root.pem' -o '%s' -D '%s' -w '%%{http_code} "
	    "%%{http_version}' %s '%s/.well-known/est/%s'", W.dir,
	    r->bodyfile, hdrs, opts, W.url, resource), 0);
	ck_assert_int_eq(sscanf(mca_buf_str(&out), "%d %7s", &r->status,
	    r->version), 2);
	mca_buf_free(&out);
	ck_assert_int_eq(tu_read(r->bodyfile, &r->body), 0);
	ck_assert_int_eq(tu_read(hdrs, &r->headers), 0);
	ck_assert_msg(!has_header_name(r, "Transfer-Encoding"),
	    "chunked answer:\n%s", mca_buf_str(&r->headers));
	if (strcmp(r->version, "2") == 0)
		(void)snprintf(cl, sizeof(cl), "content-length: %zu",
		    r->body.len);
	else
		(void)snprintf(cl, sizeof(cl), "Content-Length: %zu",
		    r->body.len);
	ck_assert_msg(has_header(r, cl), "no \"%s\" in\n%s", cl,
	    mca_buf_str(&r->headers));
}

/* Decodes a base64 file however it is wrapped (0 or 64 columns) into out. */
static void
unb64(const char *in, const char *out)
{
	ck_assert_int_eq(tu_sh(NULL, "tr -d '\\r\\n' < '%s' | '%s' base64 -d "
	    "-A > '%s'", in, getenv("OPENSSL"), out), 0);
}

/* A base64 answer's body, decoded into a file next to it; its path. */
static const char *
body_der(const struct reply *r)
{
	static char	 der[1100];

	(void)snprintf(der, sizeof(der), "%s.der", r->bodyfile);
	unb64(r->bodyfile, der);
	return der;
}

/* The client certificate options for a file pair in pki/ or the dir. */
static const char *
as(const char *pem, const char *key)
{
	static char	 o[2][2048];
	static int	 i;

	i = (i + 1) % 2;
	(void)snprintf(o[i], sizeof(o[i]), "--cert '%s' --key '%s'",
	    pem[0] == '/' ? pem : path(pem), key[0] == '/' ? key : path(key));
	return o[i];
}

/*
 * curl options to POST the file body (in the test directory) as ctype,
 * with a client certificate (cert and key; NULL: none) after extra.
 */
static const char *
post(const char *extra, const char *cert, const char *key,
    const char *ctype, const char *body)
{
	static char	 o[2][3072];
	static int	 i;

	i = (i + 1) % 2;
	(void)snprintf(o[i], sizeof(o[i]), "%s %s -H 'Content-Type: %s' "
	    "--data-binary @%s", extra, cert != NULL ? as(cert, key) : "",
	    ctype, path(body));
	return o[i];
}

/* A new EC P-256 key and CSR for cn: name.key, name.csr.pem, name.b64. */
static void
make_csr(const char *name, const char *cn)
{
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' req -new -newkey ec "
	    "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s.key "
	    "-subj '/CN=%s' -out %s.csr.pem 2>/dev/null && '%s' req -in "
	    "%s.csr.pem -outform DER | '%s' base64 > %s.b64", W.dir,
	    getenv("OPENSSL"), name, cn, name, getenv("OPENSSL"), name,
	    getenv("OPENSSL"), name), 0);
}

/* As make_csr(), asking for the subjectAltName san ("DNS:a,IP:b"). */
static void
make_csr_san(const char *name, const char *cn, const char *san)
{
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' req -new -newkey ec "
	    "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s.key "
	    "-subj '/CN=%s' -addext 'subjectAltName=%s' -outform DER "
	    "2>/dev/null | '%s' base64 > %s.b64", W.dir, getenv("OPENSSL"),
	    name, cn, san, getenv("OPENSSL"), name), 0);
}

/* A CSR for an existing key. */
static void
make_csr_for(const char *name, const char *key, const char *cn)
{
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' req -new -key %s "
	    "-subj '/CN=%s' -outform DER | '%s' base64 > %s.b64", W.dir,
	    getenv("OPENSSL"), key, cn, getenv("OPENSSL"), name), 0);
}

/*
 * The certificate of an EST certs-only answer, as PEM in out, checked
 * with openssl verify against the test root and our intermediate.
 */
static void
issued_cert(const struct reply *r, const char *out)
{
	const char	*o = getenv("OPENSSL");

	ck_assert_int_eq(tu_sh(NULL, "'%s' pkcs7 -inform DER -in '%s' "
	    "-print_certs -out '%s' && '%s' verify -CAfile '%s/pki/root.pem' "
	    "-untrusted '%s/pki/ca.pem' '%s' >/dev/null", o, body_der(r), out,
	    o, W.dir, W.dir, out), 0);
}

/* A certificate's serial as the ledger writes it (uppercase hex). */
static void
serial_of(const char *pem, char *serial, size_t len)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	ck_assert_int_eq(tu_sh(&out, "'%s' x509 -in '%s' -noout -serial",
	    getenv("OPENSSL"), pem), 0);
	ck_assert_msg(strncmp(mca_buf_str(&out), "serial=", 7) == 0, "%s",
	    mca_buf_str(&out));
	(void)snprintf(serial, len, "%.*s", (int)strcspn(mca_buf_str(&out) +
	    7, "\n"), mca_buf_str(&out) + 7);
	mca_buf_free(&out);
}

/*
 * A query on the ledger with the sqlite3 tool; one line of output in
 * out. As root it runs as the workers' user, as the README tells an
 * auditor to, so that no root-owned -wal or -shm file locks them out.
 */
static void
ledger(char *out, size_t len, const char *sql)
{
	struct mca_buf	 o = MCA_BUF_INIT;

	ck_assert_int_eq(tu_sh(&o, "%s '%s' '%s/ledger.db' \"%s\"",
	    W.root ? "runuser -u www-data --" : "", getenv("SQLITE3"), W.dir,
	    sql), 0);
	(void)snprintf(out, len, "%.*s", (int)strcspn(mca_buf_str(&o), "\n"),
	    mca_buf_str(&o));
	mca_buf_free(&o);
}

static int
ledger_count(const char *table)
{
	char	 sql[256], out[64], *end;
	long	 n;

	(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	ledger(out, sizeof(out), sql);
	n = strtol(out, &end, 10);
	ck_assert_msg(end != out && *end == '\0', "count: \"%s\"", out);
	return (int)n;
}

/*
 * microca-admin with this server's config; args are shell words. As root
 * it runs as the workers' user, whose ledger it is (it refuses root).
 * Its exit status; stdout into out.
 */
static int
admin(struct mca_buf *out, const char *args)
{
	mca_buf_reset(out);
	return tu_sh(out, "%s'%s/microca-admin' --config '%s/config.json' %s "
	    "2>'%s/admin.err'", W.root ? "runuser -u www-data -- " : "",
	    W.root ? path("bin") : tu_builddir(), W.dir, args, W.dir);
}

/* A new passcode on label (more options in opts): "ID.SECRET" into pc. */
static void
new_passcode(const char *label, const char *opts, char *pc, size_t len)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 args[512];
	const char	*p;

	(void)snprintf(args, sizeof(args), "passcode add --label %s %s",
	    label, opts);
	if (admin(&out, args) != 0) {
		mca_buf_reset(&out);
		(void)tu_read(path("admin.err"), &out);
		ck_abort_msg("microca-admin %s: %s", args, mca_buf_str(&out));
	}
	ck_assert_ptr_nonnull(p = strstr(mca_buf_str(&out), "passcode "));
	p += strlen("passcode ");
	(void)snprintf(pc, len, "%.*s", (int)strcspn(p, "\n"), p);
	ck_assert_uint_eq(strlen(pc), 35);
	mca_buf_free(&out);
}

/* ---------------------------------------------------------------- tests */

/*
 * The first requests after the server started, as a diagnostic line in
 * the test output (never a limit on time: the machine may be busy). The
 * ones microca-web sent to start the workers (mod_fcgid spawns on
 * demand), and this test's own, the first a client sends after start.
 * Each must have been answered 200; when one was not, the logs' tails go
 * into the test log first.
 */
START_TEST(test_first_requests)
{
	struct mca_buf	 out = MCA_BUF_INIT, workers = MCA_BUF_INIT;
	char		 line[256] = "", bad[256] = "";
	const char	*p;
	size_t		 n = 0, off = 0, i;
	int		 st, rc, ok;
	double		 sec, client = 0;

	ck_assert_int_eq(tu_read(path("web/first-requests"), &out), 0);
	for (p = mca_buf_str(&out); *p != '\0'; p += strcspn(p, "\n") + 1) {
		ok = sscanf(p, "%d %lf", &st, &sec) == 2 && st == 200;
		if (!ok && bad[0] == '\0')
			(void)snprintf(bad, sizeof(bad), "first-requests: "
			    "\"%.*s\"", (int)strcspn(p, "\n"), p);
		if (ok && off < sizeof(line))
			off += (size_t)snprintf(line + off, sizeof(line) - off,
			    " %.3f", sec);
		n++;
		if (p[strcspn(p, "\n")] == '\0')
			break;
	}
	if (bad[0] == '\0' && n != 2)	/* MCA_WEB_WORKERS */
		(void)snprintf(bad, sizeof(bad), "first-requests: %zu answers, "
		    "2 wanted", n);
	if (bad[0] != '\0')
		web_logs(bad);
	ck_assert_msg(bad[0] == '\0', "%s", bad);
	ck_assert_int_eq(tu_read(path("web/workers"), &workers), 0);
	for (p = mca_buf_str(&workers), n = 0; *p != '\0'; p++)
		n += *p == '\n';
	ck_assert_uint_ge(n, 1);
	mca_buf_reset(&out);
	rc = tu_sh(&out, "curl -sS --max-time 30 --cacert "
	    "'%s/pki/root.pem' -o /dev/null -w '%%{http_code} "
	    "%%{time_pretransfer} %%{time_starttransfer}' "
	    "'%s/.well-known/est/cacerts' 2>&1", W.dir, W.url);
	if (rc != 0 || sscanf(mca_buf_str(&out), "%d %lf %lf", &st, &sec,
	    &client) != 3 || st != 200) {
		(void)snprintf(bad, sizeof(bad), "the first client request: "
		    "curl %d, \"%s\"", rc, mca_buf_str(&out));
		/* curl's message and -w's line: one line of comment */
		for (i = 0; bad[i] != '\0'; i++)
			if (bad[i] == '\n')
				bad[i] = ' ';
		web_logs(bad);
		ck_abort_msg("%s", bad);
	}
	printf("# %s: first requests after start: workers' start-up%s s "
	    "(%zu of 2 workers running), first client %.3f s\n", W.kind,
	    line, n, client - sec);
	fflush(stdout);
	mca_buf_free(&out);
	mca_buf_free(&workers);
}
END_TEST

START_TEST(test_cacerts)
{
	struct reply	 r;
	struct mca_buf	 out = MCA_BUF_INIT;
	const char	*versions[] = { "--http1.1", "--http2" };
	size_t		 i;

	for (i = 0; i < 2; i++) {
		est(&r, versions[i], "cacerts");
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(r.version, i == 0 ? "1.1" : "2");
		if (i == 0) {
			ck_assert(has_header(&r, "Content-Type: "
			    "application/pkcs7-mime; smime-type=certs-only"));
			ck_assert(has_header(&r, "Content-Transfer-Encoding: "
			    "base64"));
		} else
			ck_assert(has_header(&r, "content-type: "
			    "application/pkcs7-mime; smime-type=certs-only"));
		ck_assert_int_eq(tu_sh(&out, "'%s' pkcs7 -inform DER -in '%s' "
		    "-print_certs | grep '^subject'", getenv("OPENSSL"),
		    body_der(&r)), 0);
		ck_assert_ptr_nonnull(strstr(mca_buf_str(&out),
		    "CN = microca test intermediate"));
		ck_assert_ptr_nonnull(strstr(mca_buf_str(&out),
		    "CN = microca test root"));
		mca_buf_reset(&out);
		reply_free(&r);
	}
	/* The labelled form serves the same chain. */
	est(&r, "", "device/cacerts");
	ck_assert_int_eq(r.status, 200);
	reply_free(&r);
	mca_buf_free(&out);
}
END_TEST

START_TEST(test_csrattrs)
{
	struct reply	 r;

	est(&r, "--http1.1", "device/csrattrs");
	ck_assert_int_eq(r.status, 200);
	ck_assert(has_header(&r, "Content-Type: application/csrattrs"));
	ck_assert(has_header(&r, "Content-Transfer-Encoding: base64"));
	ck_assert_int_eq(tu_sh(NULL, "'%s' asn1parse -inform DER -in '%s' | "
	    "grep -q ecdsa-with-SHA256", getenv("OPENSSL"), body_der(&r)), 0);
	reply_free(&r);
}
END_TEST

/* simpleenroll with base64 DER (HTTP/1.1) and with PEM text (HTTP/2). */
START_TEST(test_simpleenroll)
{
	struct reply	 r;
	const char	*opts;
	char		 serial[130], q[512], got[256];
	int		 before = ledger_count("certificates");

	make_csr("e1", "web-device-1");
	opts = post("--http1.1", "pki/boot.pem", "pki/boot.key",
	    "application/pkcs10", "e1.b64");
	est(&r, opts, "device/simpleenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status, mca_buf_str(&r.body));
	ck_assert(has_header(&r, "Content-Type: application/pkcs7-mime; "
	    "smime-type=certs-only"));
	ck_assert(has_header(&r, "Content-Transfer-Encoding: base64"));
	issued_cert(&r, path("e1.pem"));
	ck_assert_int_eq(tu_sh(NULL, "'%s' x509 -in '%s' -noout -subject | "
	    "grep -q 'CN *= *web-device-1'", getenv("OPENSSL"),
	    path("e1.pem")), 0);
	/* The certificate carries the CSR's key. */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && [ \"$('%s' x509 -in e1.pem "
	    "-noout -pubkey)\" = \"$('%s' pkey -in e1.key -pubout)\" ]",
	    W.dir, getenv("OPENSSL"), getenv("OPENSSL")), 0);
	serial_of(path("e1.pem"), serial, sizeof(serial));
	(void)snprintf(q, sizeof(q), "SELECT label || ' ' || operation || ' ' "
	    "|| subject FROM certificates WHERE serial = '%s'", serial);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, "device enroll CN=web-device-1");
	reply_free(&r);

	/* PEM as text/plain, over HTTP/2. */
	make_csr("e2", "web-device-2");
	opts = post("--http2", "pki/boot.pem", "pki/boot.key",
	    "text/plain", "e2.csr.pem");
	est(&r, opts, "device/simpleenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status, mca_buf_str(&r.body));
	ck_assert_str_eq(r.version, "2");
	issued_cert(&r, path("e2.pem"));
	reply_free(&r);
	ck_assert_int_eq(ledger_count("certificates"), before + 2);
}
END_TEST

/* simplereenroll: renew (same key) and rekey (new key). */
START_TEST(test_simplereenroll)
{
	struct reply	 r;
	const char	*opts;
	char		 s1[130], s2[130], s3[130], q[512];
	char		 got[256];

	make_csr("n1", "web-renew-1");
	opts = post("", "pki/boot.pem", "pki/boot.key",
	    "application/pkcs10", "n1.b64");
	est(&r, opts, "device/simpleenroll");
	ck_assert_int_eq(r.status, 200);
	issued_cert(&r, path("n1.pem"));
	serial_of(path("n1.pem"), s1, sizeof(s1));
	reply_free(&r);

	/* renew: the same key, authenticated by the certificate itself */
	make_csr_for("n2", "n1.key", "web-renew-1");
	opts = post("", "n1.pem", "n1.key", "application/pkcs10", "n2.b64");
	est(&r, opts, "device/simplereenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status, mca_buf_str(&r.body));
	issued_cert(&r, path("n2.pem"));
	serial_of(path("n2.pem"), s2, sizeof(s2));
	ck_assert_str_ne(s1, s2);
	(void)snprintf(q, sizeof(q), "SELECT operation || ' ' || "
	    "replaces_serial FROM certificates WHERE serial = '%s'", s2);
	ledger(got, sizeof(got), q);
	ck_assert_int_eq(strncmp(got, "reenroll ", 9), 0);
	ck_assert_str_eq(got + 9, s1);
	reply_free(&r);

	/* rekey: a new key, authenticated by the renewed certificate */
	make_csr("n3", "web-renew-1");
	opts = post("", "n2.pem", "n1.key", "application/pkcs10", "n3.b64");
	est(&r, opts, "device/simplereenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status, mca_buf_str(&r.body));
	issued_cert(&r, path("n3.pem"));
	serial_of(path("n3.pem"), s3, sizeof(s3));
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && [ \"$('%s' x509 -in n3.pem "
	    "-noout -pubkey)\" = \"$('%s' pkey -in n3.key -pubout)\" ]",
	    W.dir, getenv("OPENSSL"), getenv("OPENSSL")), 0);
	(void)snprintf(q, sizeof(q), "SELECT replaces_serial FROM "
	    "certificates WHERE serial = '%s'", s3);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, s2);
	reply_free(&r);
}
END_TEST

/*
 * strongSwan's pki: it always asks URL + /.well-known/est/<op>, so it
 * reaches the default label only (default_end_point_name, here with
 * base64_line_length 0: pki 5.9.8 cannot decode wrapped base64).
 */
START_TEST(test_strongswan)
{
	struct reply	 r;
	char		 s1[130], s2[130], q[512], got[256], pc[64];

	if (system("command -v pki >/dev/null 2>&1") != 0)
		ck_abort_msg("strongSwan pki is not installed "
		    "(strongswan-pki, libstrongswan-extra-plugins)");
	/*
	 * pki --estca: the CA certificates, verified against the root; with
	 * the rollover certificates in /cacerts it writes those too.
	 */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && pki --estca --url '%s' "
	    "--cacert pki/root.pem --caout ss-ca.pem --outform pem --force "
	    ">ss-estca.log 2>&1 && grep -q 'Sub CA cert is trusted' "
	    "ss-estca.log && for f in ss-ca-*.pem; do cmp -s $f pki/ca.pem && "
	    "cp $f ss-inter.pem; done; [ -f ss-inter.pem ]", W.dir, W.url), 0);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' x509 -in ss-ca.pem "
	    "-noout -subject | grep -q 'microca test root'", W.dir,
	    getenv("OPENSSL")), 0);

	/* One line of base64 on this label: base64_line_length 0. */
	est(&r, "", "cacerts");
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(memchr(r.body.data, '\n', r.body.len - 1));
	reply_free(&r);

	/*
	 * pki --est without --cert: a first enrollment, which pki can only
	 * authenticate with HTTP Basic: an enrollment passcode.
	 */
	new_passcode("strongswan", "", pc, sizeof(pc));
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && pki --gen --type ecdsa "
	    "--size 256 --outform pem > ss1.key 2>/dev/null && pki --req "
	    "--in ss1.key --dn 'CN=strongswan-dev-1' --outform pem > ss1.csr "
	    "2>/dev/null && pki --est --url '%s' --in ss1.csr --cacert "
	    "pki/root.pem --cacert ss-inter.pem --userpass 'ss-dev:%s' "
	    "--outform pem > ss1.pem 2>ss-est1.log && grep -q 'Issued "
	    "certificate is trusted' ss-est1.log", W.dir, W.url, pc), 0);
	serial_of(path("ss1.pem"), s1, sizeof(s1));
	(void)snprintf(q, sizeof(q), "SELECT label || ' ' || operation || ' ' "
	    "|| auth_method FROM certificates WHERE serial = '%s'", s1);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, "strongswan enroll passcode");

	/* pki --est with --cert: re-enrollment, TLS client auth by ss1 */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && pki --req --in ss1.key "
	    "--dn 'CN=strongswan-dev-1' --outform pem > ss2.csr 2>/dev/null "
	    "&& pki --est --url '%s' --in ss2.csr --cacert pki/root.pem "
	    "--cacert ss-inter.pem --cert ss1.pem --key ss1.key --outform pem "
	    "> ss2.pem 2>ss-est.log && grep -q 'Issued certificate is "
	    "trusted' ss-est.log", W.dir, W.url), 0);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' verify -CAfile "
	    "pki/root.pem -untrusted pki/ca.pem ss2.pem >/dev/null", W.dir,
	    getenv("OPENSSL")), 0);
	serial_of(path("ss2.pem"), s2, sizeof(s2));
	(void)snprintf(q, sizeof(q), "SELECT label || ' ' || operation || ' ' "
	    "|| replaces_serial FROM certificates WHERE serial = '%s'", s2);
	ledger(got, sizeof(got), q);
	(void)snprintf(q, sizeof(q), "strongswan reenroll %s", s1);
	ck_assert_str_eq(got, q);
}
END_TEST

/*
 * GET or POST (opts) on a path of the server, not only under
 * /.well-known/est/: the status, the body into body (may be NULL).
 */
static int
web_get(const char *opts, const char *urlpath, struct mca_buf *body)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 bodyfile[1024];
	int		 status = -1;

	(void)snprintf(bodyfile, sizeof(bodyfile), "%s/g%d.body", W.dir,
	    ++W.seq);
	ck_assert_int_eq(tu_sh(&out, "curl -sS --max-time 30 --cacert "
	    "'%s/pki/root.pem' -o '%s' -w '%%{http_code}' %s '%s%s'", W.dir,
	    bodyfile, opts, W.url, urlpath), 0);
	ck_assert_int_eq(sscanf(mca_buf_str(&out), "%d", &status), 1);
	if (body != NULL) {
		mca_buf_reset(body);
		ck_assert_int_eq(tu_read(bodyfile, body), 0);
	}
	mca_buf_free(&out);
	return status;
}

/*
 * strongSwan's pki on a label of its own, not the default one: the alias
 * URL https://host:port/est/<label>, to which pki appends
 * /.well-known/est/<op> (conf-examples: rewritten to the labelled path;
 * microca routes the alias REQUEST_URI). The label "ipsec" has
 * base64_line_length 0, which pki 5.9.8 needs.
 */
START_TEST(test_strongswan_label)
{
	struct mca_buf	 body = MCA_BUF_INIT;
	char		 s1[130], s2[130], q[512], got[256], pc[64], url[192];

	if (system("command -v pki >/dev/null 2>&1") != 0)
		ck_abort_msg("strongSwan pki is not installed "
		    "(strongswan-pki, libstrongswan-extra-plugins)");
	(void)snprintf(url, sizeof(url), "%s/est/ipsec", W.url);

	/* The alias reaches the label's own settings: one line here... */
	ck_assert_int_eq(web_get("", "/est/ipsec/.well-known/est/cacerts",
	    &body), 200);
	ck_assert_ptr_null(memchr(body.data, '\n', body.len - 1));
	/* ...64 columns on "device". */
	ck_assert_int_eq(web_get("", "/est/device/.well-known/est/cacerts",
	    &body), 200);
	ck_assert_ptr_nonnull(memchr(body.data, '\n', body.len - 1));

	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && pki --estca --url '%s' "
	    "--cacert pki/root.pem --caout sl-ca.pem --outform pem --force "
	    ">sl-estca.log 2>&1 && grep -q 'Sub CA cert is trusted' "
	    "sl-estca.log && for f in sl-ca-*.pem; do cmp -s $f pki/ca.pem && "
	    "cp $f sl-inter.pem; done; [ -f sl-inter.pem ]", W.dir, url), 0);

	/* First enrollment: a passcode of the label, by HTTP Basic. */
	new_passcode("ipsec", "", pc, sizeof(pc));
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && pki --gen --type ecdsa "
	    "--size 256 --outform pem > sl1.key 2>/dev/null && pki --req "
	    "--in sl1.key --dn 'CN=ipsec-gw-1' --outform pem > sl1.csr "
	    "2>/dev/null && pki --est --url '%s' --in sl1.csr --cacert "
	    "pki/root.pem --cacert sl-inter.pem --userpass 'gw1:%s' "
	    "--outform pem > sl1.pem 2>sl-est1.log && grep -q 'Issued "
	    "certificate is trusted' sl-est1.log", W.dir, url, pc), 0);
	serial_of(path("sl1.pem"), s1, sizeof(s1));
	(void)snprintf(q, sizeof(q), "SELECT label || ' ' || operation || ' ' "
	    "|| auth_method FROM certificates WHERE serial = '%s'", s1);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, "ipsec enroll passcode");

	/* Re-enrollment with that certificate (TLS client auth). */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && pki --req --in sl1.key "
	    "--dn 'CN=ipsec-gw-1' --outform pem > sl2.csr 2>/dev/null && "
	    "pki --est --url '%s' --in sl2.csr --cacert pki/root.pem "
	    "--cacert sl-inter.pem --cert sl1.pem --key sl1.key --outform pem "
	    "> sl2.pem 2>sl-est2.log && grep -q 'Issued certificate is "
	    "trusted' sl-est2.log", W.dir, url), 0);
	serial_of(path("sl2.pem"), s2, sizeof(s2));
	(void)snprintf(q, sizeof(q), "SELECT label || ' ' || operation || ' ' "
	    "|| replaces_serial FROM certificates WHERE serial = '%s'", s2);
	ledger(got, sizeof(got), q);
	(void)snprintf(q, sizeof(q), "ipsec reenroll %s", s1);
	ck_assert_str_eq(got, q);
	mca_buf_free(&body);
}
END_TEST

/* The alias refuses what the labelled path refuses, and no more. */
START_TEST(test_alias)
{
	struct mca_buf	 body = MCA_BUF_INIT;
	int		 certs;

	/* An unknown label: microca's own 404, so the alias reached it. */
	ck_assert_int_eq(web_get("", "/est/nosuch/.well-known/est/cacerts",
	    &body), 404);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&body),
	    "unknown EST label \"nosuch\""));
	make_csr("al", "web-alias");
	ck_assert_int_eq(web_get(post("", "pki/boot.pem", "pki/boot.key",
	    "application/pkcs10", "al.b64"),
	    "/est/nosuch/.well-known/est/simpleenroll", NULL), 404);
	/* Not EST resources: a second label, no label, a bad one. */
	ck_assert_int_eq(web_get("", "/est/device/.well-known/est/device/"
	    "cacerts", NULL), 404);
	ck_assert_int_eq(web_get("", "/est/.well-known/est/cacerts", NULL),
	    404);
	ck_assert_int_eq(web_get("", "/est/.dev/.well-known/est/cacerts",
	    NULL), 404);
	ck_assert_int_eq(web_get("", "/est/device/cacerts", NULL), 404);
	/* The method is checked as on the labelled path. */
	ck_assert_int_eq(web_get("", "/est/device/.well-known/est/"
	    "simpleenroll", NULL), 405);

	/*
	 * The web server's own Basic login guards the alias of its label
	 * too (its <Location> or auth.require sees the rewritten path).
	 */
	certs = ledger_count("certificates");
	ck_assert_int_eq(web_get(post("--http1.1", NULL, NULL,
	    "application/pkcs10", "al.b64"),
	    "/est/ruser/.well-known/est/simpleenroll", NULL), 401);
	ck_assert_int_eq(ledger_count("certificates"), certs);
	ck_assert_int_eq(web_get(post("-u alice:wonderland", NULL, NULL,
	    "application/pkcs10", "al.b64"),
	    "/est/ruser/.well-known/est/simpleenroll", NULL), 200);
	ck_assert_int_eq(ledger_count("certificates"), certs + 1);
	/* A bootstrap certificate enrolls through the alias as well. */
	ck_assert_int_eq(web_get(post("", "pki/boot.pem", "pki/boot.key",
	    "application/pkcs10", "al.b64"),
	    "/est/device/.well-known/est/simpleenroll", NULL), 200);
	ck_assert_int_eq(ledger_count("certificates"), certs + 2);
	mca_buf_free(&body);
}
END_TEST

/*
 * The value of a header in a reply (first match, name case-insensitive),
 * into out; 0 or -1.
 */
static int
header_value(const struct reply *r, const char *name, char *out, size_t len)
{
	const char	*p = mca_buf_str(&r->headers);
	size_t		 n = strlen(name);

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " ");
			(void)snprintf(out, len, "%.*s", (int)strcspn(p, "\r\n"),
			    p);
			return 0;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return -1;
}

/*
 * Splits a multipart/mixed body as any MIME reader would (RFC 2046 5.1):
 * each part's Content-Type into types[i], its base64 content, decoded,
 * into files base.<i>.der. Returns the number of parts.
 */
static int
mime_split(const struct reply *r, const char *base, char types[][128],
    int max)
{
	char		 ct[256], delim[300], file[1100], der[1100];
	const char	*b, *p, *end, *hdr_end, *next;
	int		 n = 0;

	ck_assert_int_eq(header_value(r, "Content-Type", ct, sizeof(ct)), 0);
	ck_assert_msg(strncmp(ct, "multipart/mixed; boundary=", 26) == 0,
	    "%s", ct);
	b = ct + 26;
	(void)snprintf(delim, sizeof(delim), "\r\n--%s", b);
	/* the first delimiter may open the body without a CRLF before it */
	p = mca_buf_str(&r->body);
	ck_assert_int_eq(strncmp(p, delim + 2, strlen(delim) - 2), 0);
	p += strlen(delim) - 2;
	while (strncmp(p, "--", 2) != 0) {
		ck_assert_int_lt(n, max);
		ck_assert_int_eq(strncmp(p, "\r\n", 2), 0);
		p += 2;
		ck_assert_ptr_nonnull(hdr_end = strstr(p, "\r\n\r\n"));
		ck_assert_ptr_nonnull(end = strstr(hdr_end, delim));
		next = end + strlen(delim);
		types[n][0] = '\0';
		while (p < hdr_end) {
			if (strncasecmp(p, "Content-Type:", 13) == 0)
				(void)snprintf(types[n], 128, "%.*s",
				    (int)strcspn(p + 14, "\r"), p + 14);
			if (strncasecmp(p, "Content-Transfer-Encoding:", 26) == 0)
				ck_assert_int_eq(strncmp(p + 27, "base64",
				    6), 0);
			p = strstr(p, "\r\n") + 2;
		}
		p = hdr_end + 4;
		(void)snprintf(file, sizeof(file), "%s.%d.b64", base, n);
		ck_assert_int_eq(tu_write(file, p, (size_t)(end - p)), 0);
		(void)snprintf(der, sizeof(der), "%s.%d.der", base, n);
		unb64(file, der);
		n++;
		p = next;
	}
	return n;
}

/* /serverkeygen: the key and the certificate come back, and they match. */
START_TEST(test_serverkeygen)
{
	int		 certs;
	struct reply	 r;
	const char	*opts;
	char		 types[4][128], base[1024], q[512];
	char		 got[256], serial[130];
	const char	*o = getenv("OPENSSL");
	int		 n;

	make_csr("k1", "web-keygen-1");
	opts = post("--http1.1", "pki/boot.pem", "pki/boot.key",
	    "application/pkcs10", "k1.b64");
	est(&r, opts, "device/serverkeygen");
	ck_assert_msg(r.status == 200, "%d %s", r.status,
	    mca_buf_str(&r.body));
	(void)snprintf(base, sizeof(base), "%s/k1.part", W.dir);
	n = mime_split(&r, base, types, 4);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(types[0], "application/pkcs8");
	ck_assert_str_eq(types[1], "application/pkcs7-mime; "
	    "smime-type=certs-only");
	/* The key parses as PKCS#8 and is the certificate's key. */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' pkey -inform DER -in "
	    "k1.part.0.der -out k1.gen.key && '%s' pkcs7 -inform DER -in "
	    "k1.part.1.der -print_certs -out k1.gen.pem && '%s' verify "
	    "-CAfile pki/root.pem -untrusted pki/ca.pem k1.gen.pem >/dev/null "
	    "&& [ \"$('%s' x509 -in k1.gen.pem -noout -pubkey)\" = "
	    "\"$('%s' pkey -in k1.gen.key -pubout)\" ] && ! [ \"$('%s' pkey "
	    "-in k1.key -pubout)\" = \"$('%s' pkey -in k1.gen.key -pubout)\" ]",
	    W.dir, o, o, o, o, o, o, o), 0);
	serial_of(path("k1.gen.pem"), serial, sizeof(serial));
	(void)snprintf(q, sizeof(q), "SELECT operation || ' ' || key_origin "
	    "FROM certificates WHERE serial = '%s'", serial);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, "serverkeygen server");
	reply_free(&r);

	/* and over HTTP/2, unauthenticated: refused */
	opts = post("--http2", NULL, NULL, "application/pkcs10", "k1.b64");
	est(&r, opts, "device/serverkeygen");
	ck_assert_int_eq(r.status, 401);
	reply_free(&r);

	/* the error cases as a client sees them: no certificate issued */
	certs = ledger_count("certificates");
	ck_assert_int_eq(tu_sh(NULL, "head -c 70000 /dev/zero | tr '\\0' A "
	    "> '%s/kbig.b64' && echo 'not a CSR' > '%s/kjunk.b64'", W.dir,
	    W.dir), 0);
	refused(post("", "pki/foreign.pem", "pki/foreign.key",
	    "application/pkcs10", "k1.b64"), "device/serverkeygen", 403,
	    "not trusted");
	refused(post("", "pki/boot.pem", "pki/boot.key", "application/pkcs10",
	    "kjunk.b64"), "device/serverkeygen", 400, "");
	refused(post("", "pki/boot.pem", "pki/boot.key", "application/pkcs10",
	    "kbig.b64"), "device/serverkeygen", 413, "over 65536 bytes");
	refused(post("", "pki/boot.pem", "pki/boot.key", "application/json",
	    "k1.b64"), "device/serverkeygen", 415, "");
	ck_assert_int_eq(ledger_count("certificates"), certs);
}
END_TEST

/* RFC 7030 4.1.3: /cacerts carries the root key update certificates. */
START_TEST(test_cacerts_rollover)
{
	struct reply	 r;
	struct mca_buf	 out = MCA_BUF_INIT;

	est(&r, "", "device/cacerts");
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(tu_sh(&out, "'%s' pkcs7 -inform DER -in '%s' "
	    "-print_certs | grep -c '^subject'", getenv("OPENSSL"),
	    body_der(&r)), 0);
	/* chain (2) + NewWithNew, OldWithNew, NewWithOld (3) */
	ck_assert_str_eq(mca_buf_str(&out), "5\n");
	mca_buf_reset(&out);
	ck_assert_int_eq(tu_sh(&out, "'%s' pkcs7 -inform DER -in '%s' "
	    "-print_certs | grep -c '^subject=.*root G2'", getenv("OPENSSL"),
	    body_der(&r)), 0);
	ck_assert_str_eq(mca_buf_str(&out), "2\n");
	mca_buf_free(&out);
	reply_free(&r);
}
END_TEST

/* One refused request: its status and its one-line reason. */
static void
refused(const char *opts, const char *resource, int status,
    const char *reason)
{
	struct reply	 r;

	est(&r, opts, resource);
	ck_assert_msg(r.status == status, "%s: %d, not %d (%s)", resource,
	    r.status, status, mca_buf_str(&r.body));
	ck_assert_msg(has_header(&r, "Content-Type: text/plain") ||
	    has_header(&r, "content-type: text/plain"), "%s", mca_buf_str(&r.headers));
	/* one line, ending in a newline */
	ck_assert_int_gt(r.body.len, 1);
	ck_assert_int_eq(r.body.data[r.body.len - 1], '\n');
	ck_assert_ptr_eq(memchr(r.body.data, '\n', r.body.len),
	    r.body.data + r.body.len - 1);
	ck_assert_msg(strstr(mca_buf_str(&r.body), reason) != NULL, "\"%s\" not in "
	    "\"%s\"", reason, mca_buf_str(&r.body));
	reply_free(&r);
}

START_TEST(test_errors)
{
	const char	*opts;
	int		 certs, refusals, i;
	struct reply	 r;

	make_csr("x1", "web-refused");
	ck_assert_int_eq(tu_sh(NULL, "head -c 70000 /dev/zero | tr '\\0' A "
	    "> '%s/big.b64' && echo 'this is not a CSR' > '%s/junk.b64'",
	    W.dir, W.dir), 0);
	certs = ledger_count("certificates");
	refusals = ledger_count("refusals");

	/* no client certificate */
	opts = post("", NULL, NULL, "application/pkcs10", "x1.b64");
	refused(opts, "device/simpleenroll", 401, "client certificate is "
	    "required");
	/* a certificate from a CA nobody here trusts */
	opts = post("", "pki/foreign.pem", "pki/foreign.key",
	    "application/pkcs10", "x1.b64");
	refused(opts, "device/simpleenroll", 403, "not trusted");
	/* the bootstrap certificate cannot renew: it is not ours */
	opts = post("", "pki/boot.pem", "pki/boot.key",
	    "application/pkcs10", "x1.b64");
	refused(opts, "device/simplereenroll", 403, "issued by this CA");
	/* unknown label */
	refused(opts, "nosuchlabel/simpleenroll", 404, "unknown EST label");
	/*
	 * A label with its own mtls_ca_cert: the bootstrap certificate the
	 * other labels take is no good there, also right after it was
	 * (a worker remembers its last good certificate, per label trust).
	 */
	for (i = 0; i < 3; i++) {
		opts = post("", "pki/boot.pem", "pki/boot.key",
		    "application/pkcs10", "x1.b64");
		est(&r, opts, "device/simpleenroll");
		ck_assert_int_eq(r.status, 200);
		reply_free(&r);
		certs++;
		refused(opts, "otherca/simpleenroll", 403, "not trusted");
	}
	/* wrong method */
	est(&r, "--http1.1 -X GET", "device/simpleenroll");
	ck_assert_int_eq(r.status, 405);
	ck_assert(has_header(&r, "Allow: POST"));
	reply_free(&r);
	/* over 64 KiB */
	opts = post("", "pki/boot.pem", "pki/boot.key",
	    "application/pkcs10", "big.b64");
	refused(opts, "device/simpleenroll", 413, "over 65536 bytes");
	/* garbage */
	opts = post("", "pki/boot.pem", "pki/boot.key",
	    "application/pkcs10", "junk.b64");
	refused(opts, "device/simpleenroll", 400, "");
	/* wrong media type */
	opts = post("", "pki/boot.pem", "pki/boot.key",
	    "application/json", "x1.b64");
	refused(opts, "device/simpleenroll", 415, "");

	/*
	 * Not one certificate but the three on "device"; every refused
	 * enrollment on a known label is on record: 401, 403, 403, 3 x 403
	 * on otherca, 405, 413, 400, 415 (the 404 has no label to file it
	 * under).
	 */
	ck_assert_int_eq(ledger_count("certificates"), certs);
	ck_assert_int_eq(ledger_count("refusals"), refusals + 10);
}
END_TEST

/* A 401 that asks for HTTP Basic on label, exactly as RFC 7617 spells it. */
static void
challenged(const char *opts, const char *resource, const char *label,
    const char *reason)
{
	struct reply	 r;
	char		 want[128];

	est(&r, opts, resource);
	ck_assert_msg(r.status == 401, "%s: %d %s", resource, r.status,
	    mca_buf_str(&r.body));
	(void)snprintf(want, sizeof(want), "WWW-Authenticate: Basic "
	    "realm=\"%s\"", label);
	ck_assert_msg(has_header(&r, want), "no \"%s\" in\n%s", want,
	    mca_buf_str(&r.headers));
	ck_assert_msg(strstr(mca_buf_str(&r.body), reason) != NULL,
	    "\"%s\" not in \"%s\"", reason, mca_buf_str(&r.body));
	reply_free(&r);
}

/* Basic credentials and a CSR file, as curl options (HTTP/1.1). */
static const char *
with_passcode(const char *pc, const char *body)
{
	static char	 o[2][2048];
	static int	 i;

	i = (i + 1) % 2;
	(void)snprintf(o[i], sizeof(o[i]), "--http1.1 -u 'device:%s' %s", pc,
	    post("", NULL, NULL, "application/pkcs10", body));
	return o[i];
}

/* Enrollment passcodes: one use, then refused; revoked; expired. */
START_TEST(test_passcode)
{
	struct reply	 r;
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 pc[64], pc2[64], pc3[64], wrong[64], id[16], q[512];
	char		 got[256], serial[130], args[256], at[32];
	int		 certs;

	make_csr("p1", "web-pc-1");
	new_passcode("pass", "--comment 'web test'", pc, sizeof(pc));
	(void)snprintf(id, sizeof(id), "%.8s", pc);
	/* No credentials and no certificate: asked for Basic. */
	challenged(post("--http1.1", NULL, NULL, "application/pkcs10",
	    "p1.b64"), "pass/simpleenroll", "pass", "");
	/*
	 * A certificate from a foreign CA decides alone, also where
	 * passcodes are taken: 403 from both servers (lighttpd hands over
	 * no certificate then, only SSL_CLIENT_VERIFY=FAILED).
	 */
	refused(post("", "pki/foreign.pem", "pki/foreign.key",
	    "application/pkcs10", "p1.b64"), "pass/simpleenroll", 403,
	    "not trusted");
	/* The right ID with a wrong secret. */
	(void)snprintf(wrong, sizeof(wrong), "%.9s%s", pc,
	    "00000000000000000000000000");
	certs = ledger_count("certificates");
	challenged(with_passcode(wrong, "p1.b64"), "pass/simpleenroll", "pass",
	    "wrong enrollment passcode");
	/* The passcode: one certificate. */
	est(&r, with_passcode(pc, "p1.b64"), "pass/simpleenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status,
	    mca_buf_str(&r.body));
	issued_cert(&r, path("p1.pem"));
	serial_of(path("p1.pem"), serial, sizeof(serial));
	(void)snprintf(q, sizeof(q), "SELECT auth_method || ' ' || passcode_id "
	    "FROM certificates WHERE serial = '%s'", serial);
	ledger(got, sizeof(got), q);
	(void)snprintf(q, sizeof(q), "passcode %s", id);
	ck_assert_str_eq(got, q);
	reply_free(&r);
	/* Used up. */
	challenged(with_passcode(pc, "p1.b64"), "pass/simpleenroll", "pass",
	    "used");
	/* Revoked before use. */
	new_passcode("pass", "", pc2, sizeof(pc2));
	(void)snprintf(args, sizeof(args), "passcode revoke %.8s", pc2);
	ck_assert_int_eq(admin(&out, args), 0);
	challenged(with_passcode(pc2, "p1.b64"), "pass/simpleenroll", "pass",
	    "revoked");
	/*
	 * Expired: made valid for an hour (an ISO time), then moved into
	 * the past in the ledger, as a wait would, however slow the machine.
	 */
	mca_buf_reset(&out);
	ck_assert_int_eq(tu_sh(&out, "date -u -d '+1 hour' "
	    "+%%Y-%%m-%%dT%%H:%%M:%%SZ"), 0);
	(void)snprintf(at, sizeof(at), "%.20s", mca_buf_str(&out));
	(void)snprintf(args, sizeof(args), "--expires %s", at);
	new_passcode("pass", args, pc3, sizeof(pc3));
	(void)snprintf(q, sizeof(q), "UPDATE passcodes SET expires_at = "
	    "'2020-01-01T00:00:00Z' WHERE id = '%.8s'; SELECT changes()", pc3);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, "1");
	challenged(with_passcode(pc3, "p1.b64"), "pass/simpleenroll", "pass",
	    "expired");
	/* A passcode for another label is no good here. */
	new_passcode("strongswan", "", pc2, sizeof(pc2));
	challenged(with_passcode(pc2, "p1.b64"), "pass/simpleenroll", "pass",
	    "label");
	/* One certificate in all; every refusal on record, never a secret. */
	ck_assert_int_eq(ledger_count("certificates"), certs + 1);
	ledger(got, sizeof(got), "SELECT count(*) FROM refusals WHERE "
	    "label = 'pass' AND status = 401");
	ck_assert_int_ge(strtol(got, NULL, 10), 6);
	(void)snprintf(q, sizeof(q), "SELECT count(*) FROM refusals WHERE "
	    "reason LIKE '%%%s%%'", pc + 9);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, "0");
	/* list shows them, never a secret */
	ck_assert_int_eq(admin(&out, "passcode list --all"), 0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), id));
	ck_assert_ptr_null(strstr(mca_buf_str(&out), pc + 9));
	mca_buf_free(&out);
}
END_TEST

/* 16 devices at once with one one-use passcode: exactly one certificate. */
START_TEST(test_passcode_race)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 pc[64], q[256], got[64];

	make_csr("race", "web-race");
	new_passcode("pass", "", pc, sizeof(pc));
	ck_assert_int_eq(tu_sh(&out, "cd '%s' && for i in $(seq 1 16); do "
	    "curl -sS --max-time 300 --cacert pki/root.pem %s -o race$i.out "
	    "-w '%%{http_code}\\n' '%s/.well-known/est/pass/simpleenroll' "
	    "> race$i.status & done; wait; cat race*.status | sort | uniq -c "
	    "| tr -s ' ' | sed 's/^ //'", W.dir, with_passcode(pc, "race.b64"),
	    W.url), 0);
	ck_assert_msg(strcmp(mca_buf_str(&out), "1 200\n15 401\n") == 0,
	    "%s", mca_buf_str(&out));
	(void)snprintf(q, sizeof(q), "SELECT count(*) FROM certificates "
	    "WHERE passcode_id = '%.8s'", pc);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, "1");
	mca_buf_free(&out);
}
END_TEST

/*
 * n sequential requests (curl options opts) on pass/simpleenroll: their
 * statuses, counted, as "5 401\n45 429\n".
 */
static void
statuses(struct mca_buf *out, int n, const char *opts)
{
	mca_buf_reset(out);
	ck_assert_int_eq(tu_sh(out, "cd '%s' && for i in $(seq 1 %d); do "
	    "curl -sS --max-time 30 --cacert pki/root.pem %s -o /dev/null "
	    "-w '%%{http_code}\\n' '%s/.well-known/est/pass/simpleenroll'; "
	    "done | uniq -c | tr -s ' ' | sed 's/^ //'", W.dir, n, opts,
	    W.url), 0);
}

/*
 * A flood of wrong secrets on one passcode (the config allows 5 per
 * hour): 5 are checked, the other 45 answered 429 with no scrypt, which
 * the ledger shows (a count of 5, refusals "not checked"); the rightful
 * holder waits too, while another passcode works. From another address,
 * 20 unknown IDs (no hash, but counted) use up that address's budget
 * and not 127.0.0.1's.
 */
START_TEST(test_passcode_flood)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	struct reply	 r;
	char		 pa[64], pb[64], pc[64], wrong[64], q[256], got[64];
	char		 opts[2048];

	make_csr("fl", "web-flood");
	new_passcode("pass", "", pa, sizeof(pa));
	new_passcode("pass", "", pb, sizeof(pb));
	new_passcode("pass", "", pc, sizeof(pc));
	(void)snprintf(wrong, sizeof(wrong), "%.9s%s", pa,
	    "00000000000000000000000000");
	statuses(&out, 50, with_passcode(wrong, "fl.b64"));
	ck_assert_msg(strcmp(mca_buf_str(&out), "5 401\n45 429\n") == 0,
	    "%s", mca_buf_str(&out));
	/* Counted: the 5 checked, not the 45 refused unchecked. */
	(void)snprintf(q, sizeof(q), "SELECT failures FROM passcodes WHERE "
	    "id = '%.8s'", pa);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, "5");
	(void)snprintf(q, sizeof(q), "SELECT count(*) FROM refusals WHERE "
	    "passcode_id = '%.8s' AND status = 429 AND reason LIKE "
	    "'%%not checked: 5 wrong secrets%%'", pa);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, "45");
	/* The right secret waits for the window too: 429, Retry-After. */
	est(&r, with_passcode(pa, "fl.b64"), "pass/simpleenroll");
	ck_assert_msg(r.status == 429, "%d %s", r.status,
	    mca_buf_str(&r.body));
	ck_assert_msg(has_header_name(&r, "Retry-After"), "%s",
	    mca_buf_str(&r.headers));
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&r.body),
	    "too many wrong secrets"));
	reply_free(&r);
	/* Another passcode, from the same address: enrolls. */
	est(&r, with_passcode(pb, "fl.b64"), "pass/simpleenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status,
	    mca_buf_str(&r.body));
	reply_free(&r);

	/* Unknown IDs from 127.0.0.2: 20 counted, then that address waits. */
	(void)snprintf(opts, sizeof(opts), "--interface 127.0.0.2 %s",
	    with_passcode("ZZZZZZZZ.00000000000000000000000000", "fl.b64"));
	statuses(&out, 22, opts);
	ck_assert_msg(strcmp(mca_buf_str(&out), "20 401\n2 429\n") == 0,
	    "%s", mca_buf_str(&out));
	ledger(got, sizeof(got), "SELECT failures FROM address_failures "
	    "WHERE addr = '127.0.0.2'");
	ck_assert_str_eq(got, "20");
	(void)snprintf(opts, sizeof(opts), "--interface 127.0.0.2 %s",
	    with_passcode(pc, "fl.b64"));
	statuses(&out, 1, opts);
	ck_assert_str_eq(mca_buf_str(&out), "1 429\n");
	/* ...and 127.0.0.1 does not. */
	est(&r, with_passcode(pc, "fl.b64"), "pass/simpleenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status,
	    mca_buf_str(&r.body));
	reply_free(&r);
	mca_buf_free(&out);
}
END_TEST

/* The label's policy: keys and subjects it refuses; /csrattrs says so. */
START_TEST(test_policy)
{
	struct reply	 r;
	int		 certs = ledger_count("certificates");

	/* RSA-2048 where only EC-P-256 is allowed */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' req -new -newkey "
	    "rsa:2048 -nodes -keyout pr.key -subj '/CN=web-rsa' -outform DER "
	    "2>/dev/null | '%s' base64 > pr.b64", W.dir, getenv("OPENSSL"),
	    getenv("OPENSSL")), 0);
	refused(post("", "pki/boot.pem", "pki/boot.key", "application/pkcs10",
	    "pr.b64"), "pass/simpleenroll", 400, "RSA-2048 is not allowed");
	/* a subject the pattern refuses */
	make_csr("ps", "not-web");
	refused(post("", "pki/boot.pem", "pki/boot.key", "application/pkcs10",
	    "ps.b64"), "pass/simpleenroll", 400, "does not match");
	/* the same through /serverkeygen: the subject comes from the CSR */
	refused(post("", "pki/boot.pem", "pki/boot.key", "application/pkcs10",
	    "ps.b64"), "pass/serverkeygen", 400, "does not match");
	ck_assert_int_eq(ledger_count("certificates"), certs);
	/* /csrattrs asks for P-256 and nothing else */
	est(&r, "", "pass/csrattrs");
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(tu_sh(NULL, "'%s' asn1parse -inform DER -in '%s' > "
	    "'%s.txt' && grep -q prime256v1 '%s.txt' && ! grep -q "
	    "'secp384r1\\|rsaEncryption' '%s.txt'", getenv("OPENSSL"),
	    body_der(&r), r.bodyfile, r.bodyfile, r.bodyfile), 0);
	reply_free(&r);
}
END_TEST

/*
 * Tracker issue 12: what a client asks for is judged (subjectAltName
 * policy), a renewed certificate renews no more outside the grace
 * period, and a device's certificate enrolls only its own identity.
 */
START_TEST(test_issue12)
{
	struct reply	 r;
	const char	*boot;
	char		 s0[130], s1[130], s2[130], q[640], got[256];
	int		 certs, refusals;

	boot = "pki/boot.key";
	/* 1. subjectAltName: the default and a label's own pattern */
	make_csr_san("i1", "web-i1", "DNS:www.google.com,DNS:*.example.com,"
	    "IP:10.0.0.1,URI:spiffe://prod/ns/admin/sa/root,"
	    "email:ceo@example.com");
	certs = ledger_count("certificates");
	refusals = ledger_count("refusals");
	refused(post("", "pki/boot.pem", boot, "application/pkcs10", "i1.b64"),
	    "device/simpleenroll", 400, "subjectAltName DNS \"*.example.com\" "
	    "is a wildcard");
	make_csr_san("i2", "web-i2", "DNS:www.google.com");
	refused(post("", "pki/boot.pem", boot, "application/pkcs10", "i2.b64"),
	    "once/simpleenroll", 400, "subjectAltName DNS \"www.google.com\" "
	    "does not match ^web-[a-z0-9-]+\\.example\\.com$");
	ck_assert_int_eq(ledger_count("certificates"), certs);
	ck_assert_int_eq(ledger_count("refusals"), refusals + 2);

	/* 2. reenroll twice with one certificate, no grace: 403 */
	make_csr_san("o0", "web-o", "DNS:web-o.example.com");
	est(&r, post("", "pki/boot.pem", boot, "application/pkcs10", "o0.b64"),
	    "once/simpleenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status, mca_buf_str(&r.body));
	issued_cert(&r, path("o0.pem"));
	serial_of(path("o0.pem"), s0, sizeof(s0));
	reply_free(&r);
	make_csr_for("o1", "o0.key", "web-o");
	est(&r, post("", "o0.pem", "o0.key", "application/pkcs10", "o1.b64"),
	    "once/simplereenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status, mca_buf_str(&r.body));
	issued_cert(&r, path("o1.pem"));
	serial_of(path("o1.pem"), s1, sizeof(s1));
	reply_free(&r);
	refusals = ledger_count("refusals");
	refused(post("", "o0.pem", "o0.key", "application/pkcs10", "o1.b64"),
	    "once/simplereenroll", 403, "was already renewed (serial");
	ck_assert_int_eq(ledger_count("refusals"), refusals + 1);
	(void)snprintf(q, sizeof(q), "SELECT status || ' ' || requester_serial "
	    "FROM refusals WHERE operation = 'simplereenroll' ORDER BY id DESC "
	    "LIMIT 1");
	ledger(got, sizeof(got), q);
	(void)snprintf(q, sizeof(q), "403 %s", s0);
	ck_assert_str_eq(got, q);
	(void)snprintf(q, sizeof(q), "certificates WHERE replaces_serial = "
	    "'%s'", s0);
	ck_assert_int_eq(ledger_count(q), 1);
	/* ... nor does it enroll any more */
	refused(post("", "o0.pem", "o0.key", "application/pkcs10", "o1.b64"),
	    "once/simpleenroll", 403, "enrolls no more");

	/* 3. inside the grace period: 200, and the ledger says which is current */
	make_csr("g0", "web-g");
	est(&r, post("", "pki/boot.pem", boot, "application/pkcs10", "g0.b64"),
	    "grace/simpleenroll");
	ck_assert_int_eq(r.status, 200);
	issued_cert(&r, path("g0.pem"));
	serial_of(path("g0.pem"), s0, sizeof(s0));
	reply_free(&r);
	make_csr_for("g1", "g0.key", "web-g");
	est(&r, post("", "g0.pem", "g0.key", "application/pkcs10", "g1.b64"),
	    "grace/simplereenroll");
	ck_assert_int_eq(r.status, 200);
	issued_cert(&r, path("g1.pem"));
	serial_of(path("g1.pem"), s1, sizeof(s1));
	reply_free(&r);
	est(&r, post("", "g0.pem", "g0.key", "application/pkcs10", "g1.b64"),
	    "grace/simplereenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status, mca_buf_str(&r.body));
	issued_cert(&r, path("g2.pem"));
	serial_of(path("g2.pem"), s2, sizeof(s2));
	reply_free(&r);
	(void)snprintf(q, sizeof(q), "SELECT superseded_by FROM certificates "
	    "WHERE serial = '%s'", s1);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, s2);
	(void)snprintf(q, sizeof(q), "SELECT serial FROM certificates WHERE "
	    "replaces_serial = '%s' AND superseded_by IS NULL", s0);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, s2);
	refused(post("", "g1.pem", "g0.key", "application/pkcs10", "g1.b64"),
	    "grace/simplereenroll", 403, "was superseded by serial");

	/* 4. a device's certificate enrolls its own identity only */
	make_csr("d7", "web-7777");
	refused(post("", "g2.pem", "g0.key", "application/pkcs10", "d7.b64"),
	    "grace/simpleenroll", 403, "may enroll only its own subject "
	    "(\"CN=web-g\"), not \"CN=web-7777\"");
	refused(post("", "g2.pem", "g0.key", "application/pkcs10", "d7.b64"),
	    "grace/serverkeygen", 403, "may enroll only its own subject");
	make_csr("d8", "web-g");
	est(&r, post("", "g2.pem", "g0.key", "application/pkcs10", "d8.b64"),
	    "grace/simpleenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status, mca_buf_str(&r.body));
	reply_free(&r);
	/* a bootstrap certificate still enrolls anyone */
	est(&r, post("", "pki/boot.pem", boot, "application/pkcs10", "d7.b64"),
	    "grace/simpleenroll");
	ck_assert_int_eq(r.status, 200);
	reply_free(&r);
	ck_assert_int_eq(ledger_count("refusals WHERE status = 403 AND reason "
	    "LIKE '%may enroll only its own subject%'"), 2);
}
END_TEST

/*
 * Issue 16: a certificate revoked with microca-admin renews no more
 * (403, one line, a refusals row, no certificate), on hold too, until
 * the hold is lifted; --follow takes the renewal chain. The admin's
 * answers and refusals end to end, on this server's ledger.
 */
static void
admin_fails(const char *args, int status, const char *text)
{
	struct mca_buf	 out = MCA_BUF_INIT, err = MCA_BUF_INIT;
	const char	*p, *e;
	int		 rc, lines = 0;

	rc = admin(&out, args);
	ck_assert_int_eq(tu_read(path("admin.err"), &err), 0);
	ck_assert_msg(rc == status, "microca-admin %s: exit %d, not %d: %s",
	    args, rc, status, mca_buf_str(&err));
	/* The configuration's warnings aside, one line says why. */
	for (p = mca_buf_str(&err); *p != '\0'; p = e + (*e != '\0')) {
		e = p + strcspn(p, "\n");
		if (strncmp(p, "microca-admin: warning: ", 24) != 0)
			lines++;
	}
	ck_assert_msg(strstr(mca_buf_str(&err), text) != NULL &&
	    (status == 2 || lines == 1), "microca-admin %s: \"%s\" not "
	    "the one line in \"%s\"", args, text, mca_buf_str(&err));
	ck_assert_uint_eq(out.len, 0);
	mca_buf_free(&out);
	mca_buf_free(&err);
}

/* The serial of pem as an operator might type it: lowercase, colons. */
static void
typed_serial(const char *serial, char *out, size_t len)
{
	size_t	 i, n = 0, sl = strlen(serial);

	for (i = 0; i < sl && n + 4 < len; i++) {
		/* An odd count of digits gets its leading zero back. */
		if (i > 0 && (sl - i) % 2 == 0)
			out[n++] = ':';
		out[n++] = (char)(serial[i] >= 'A' && serial[i] <= 'F' ?
		    serial[i] - 'A' + 'a' : serial[i]);
	}
	out[n] = '\0';
}

START_TEST(test_revoke)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	struct reply	 r;
	char		 s0[130], s1[130], h0[130], typed[200], args[512];
	char		 q[640], got[256];
	int		 certs, refusals;

	/* Enroll, then revoke by the serial typed loosely. */
	make_csr("v0", "web-v0");
	est(&r, post("", "pki/boot.pem", "pki/boot.key", "application/pkcs10",
	    "v0.b64"), "device/simpleenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status, mca_buf_str(&r.body));
	issued_cert(&r, path("v0.pem"));
	serial_of(path("v0.pem"), s0, sizeof(s0));
	reply_free(&r);
	ck_assert_int_eq(admin(&out, "list --subject 'CN=web-v0'"), 0);
	ck_assert_msg(strstr(mca_buf_str(&out), s0) != NULL &&
	    strstr(mca_buf_str(&out), " valid\n") != NULL, "%s",
	    mca_buf_str(&out));
	typed_serial(s0, typed, sizeof(typed));
	(void)snprintf(args, sizeof(args), "revoke %s --reason keyCompromise "
	    "--by 'ticket 16'", typed);
	ck_assert_int_eq(admin(&out, args), 0);
	(void)snprintf(q, sizeof(q), "revoked %s (keyCompromise)\n", s0);
	ck_assert_str_eq(mca_buf_str(&out), q);
	(void)snprintf(q, sizeof(q), "SELECT reason || ' ' || revoked_by FROM "
	    "revocations WHERE serial = '%s'", s0);
	ledger(got, sizeof(got), q);
	ck_assert_msg(strncmp(got, "keyCompromise ", 14) == 0 &&
	    strstr(got, " (ticket 16)") != NULL, "%s", got);

	/* The renewal: 403, one line, on record, nothing issued. */
	make_csr_for("v1", "v0.key", "web-v0");
	certs = ledger_count("certificates");
	refusals = ledger_count("refusals");
	refused(post("", "v0.pem", "v0.key", "application/pkcs10", "v1.b64"),
	    "device/simplereenroll", 403, "is revoked (keyCompromise): it "
	    "renews no more");
	ck_assert_int_eq(ledger_count("certificates"), certs);
	ck_assert_int_eq(ledger_count("refusals"), refusals + 1);
	(void)snprintf(q, sizeof(q), "SELECT status || ' ' || requester_serial "
	    "FROM refusals WHERE operation = 'simplereenroll' AND reason LIKE "
	    "'%%is revoked%%' ORDER BY id DESC LIMIT 1");
	ledger(got, sizeof(got), q);
	(void)snprintf(q, sizeof(q), "403 %s", s0);
	ck_assert_str_eq(got, q);
	(void)snprintf(q, sizeof(q), "certificates WHERE replaces_serial = "
	    "'%s'", s0);
	ck_assert_int_eq(ledger_count(q), 0);
	/* ... nor does it enroll, or have the server make a key */
	refused(post("", "v0.pem", "v0.key", "application/pkcs10", "v1.b64"),
	    "device/simpleenroll", 403, "is revoked (keyCompromise)");
	refused(post("", "v0.pem", "v0.key", "application/pkcs10", "v1.b64"),
	    "device/serverkeygen", 403, "is revoked (keyCompromise)");
	ck_assert_int_eq(ledger_count("certificates"), certs);

	/* The admin's refusals: one line, exit 1; bad usage exit 2. */
	(void)snprintf(args, sizeof(args), "revoke %s", s0);
	admin_fails(args, 1, "is already revoked");
	(void)snprintf(args, sizeof(args), "unrevoke %s", s0);
	admin_fails(args, 1, "only a certificateHold is lifted");
	admin_fails("revoke 0A0B0C0D0E0F", 1, "no certificate with serial "
	    "0A0B0C0D0E0F");
	admin_fails("revoke 0x12", 1, "not a serial");
	(void)snprintf(args, sizeof(args), "revoke %s --reason removeFromCRL",
	    s0);
	admin_fails(args, 1, "not a reason to revoke with");
	(void)snprintf(args, sizeof(args), "revoke %s --invalidity-date "
	    "2025-02-30", s0);
	admin_fails(args, 1, "--invalidity-date 2025-02-30: expected");
	admin_fails("revoke", 2, "give the serial");
	admin_fails("revoke 0A --bogus", 2, "unknown option");
	admin_fails("list --expiring soon", 1, "--expiring soon: expected");
	admin_fails("list extra", 2, "unexpected argument");
	ck_assert_int_eq(admin(&out, "list --revoked"), 0);
	(void)snprintf(q, sizeof(q), "%s ", s0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), q));
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out),
	    "revoked(keyCompromise)\n"));

	/* On hold: refused until released; then it renews. */
	make_csr("h0", "web-h0");
	est(&r, post("", "pki/boot.pem", "pki/boot.key", "application/pkcs10",
	    "h0.b64"), "device/simpleenroll");
	ck_assert_int_eq(r.status, 200);
	issued_cert(&r, path("h0.pem"));
	serial_of(path("h0.pem"), h0, sizeof(h0));
	reply_free(&r);
	(void)snprintf(args, sizeof(args), "revoke --reason certificateHold "
	    "%s", h0);
	ck_assert_int_eq(admin(&out, args), 0);
	make_csr_for("h1", "h0.key", "web-h0");
	refused(post("", "h0.pem", "h0.key", "application/pkcs10", "h1.b64"),
	    "device/simplereenroll", 403, "is revoked (certificateHold)");
	(void)snprintf(args, sizeof(args), "unrevoke %s", h0);
	ck_assert_int_eq(admin(&out, args), 0);
	est(&r, post("", "h0.pem", "h0.key", "application/pkcs10", "h1.b64"),
	    "device/simplereenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status, mca_buf_str(&r.body));
	issued_cert(&r, path("h1.pem"));
	serial_of(path("h1.pem"), s1, sizeof(s1));
	reply_free(&r);

	/* --follow from the new one takes the old one too. */
	(void)snprintf(args, sizeof(args), "revoke %s --follow --reason "
	    "cessationOfOperation", s1);
	ck_assert_int_eq(admin(&out, args), 0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out),
	    "2 certificates of the renewal chain"));
	(void)snprintf(q, sizeof(q), "revoked_now WHERE serial IN ('%s', '%s') "
	    "AND reason = 'cessationOfOperation'", h0, s1);
	ck_assert_int_eq(ledger_count(q), 2);
	mca_buf_free(&out);
}
END_TEST

/* The web server's own HTTP Basic login, handed over as REMOTE_USER. */
START_TEST(test_remote_user)
{
	struct reply	 r;
	char		 serial[130], q[256], got[128];
	int		 certs;

	make_csr("ru", "web-remote-user");
	certs = ledger_count("certificates");
	est(&r, post("-u alice:wonderland", NULL, NULL, "application/pkcs10",
	    "ru.b64"), "ruser/simpleenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status,
	    mca_buf_str(&r.body));
	issued_cert(&r, path("ru.pem"));
	serial_of(path("ru.pem"), serial, sizeof(serial));
	(void)snprintf(q, sizeof(q), "SELECT auth_method || ' ' || "
	    "requester_user FROM certificates WHERE serial = '%s'", serial);
	ledger(got, sizeof(got), q);
	ck_assert_str_eq(got, "remote_user alice");
	reply_free(&r);
	/*
	 * A wrong password never reaches microca: the web server says 401
	 * (HTTP/1.1: over HTTP/2 lighttpd resets the stream of a body it
	 * will not read, which curl reports as an error).
	 */
	est(&r, post("--http1.1 -u alice:rabbit", NULL, NULL, "application/pkcs10",
	    "ru.b64"), "ruser/simpleenroll");
	ck_assert_int_eq(r.status, 401);
	reply_free(&r);
	/* and no login at all */
	est(&r, post("--http1.1", NULL, NULL, "application/pkcs10", "ru.b64"),
	    "ruser/simpleenroll");
	ck_assert_int_eq(r.status, 401);
	reply_free(&r);
	ck_assert_int_eq(ledger_count("certificates"), certs + 1);
}
END_TEST

/*
 * A bootstrap certificate issued through a device maker's intermediate
 * (root -> intermediate -> device), the maker's root alone in the label's
 * mtls_ca_cert; curl sends the intermediate with the leaf. Apache passes
 * it on (SSL_CLIENT_CERT_CHAIN_0): enrolled. lighttpd 1.4.69 passes the
 * leaf only, so microca cannot reach the root: refused, saying so; with
 * the intermediate in mtls_ca_cert too (label "makerint") it enrolls
 * behind both. The leaf without its intermediate, and a forged
 * intermediate (the maker's names, other keys), are refused by both.
 */
START_TEST(test_maker_chain)
{
	struct reply	 r;
	const char	*chain, *leaf, *fake;
	int		 i, apache = strcmp(W.kind, "apache") == 0;
	int		 certs = ledger_count("certificates");

	make_csr("mk", "web-maker-1");
	/*
	 * Alternately with and without the chain, from the same leaf: a
	 * worker's memo of its last good certificate holds the chain too.
	 * (post() keeps its last two answers: chain and leaf.)
	 */
	for (i = 0; i < 3; i++) {
		chain = post("", "pki/maker-dev-chain.pem", "pki/maker-dev.key",
		    "application/pkcs10", "mk.b64");
		if (apache) {
			est(&r, chain, "maker/simpleenroll");
			ck_assert_msg(r.status == 200, "%d %s", r.status,
			    mca_buf_str(&r.body));
			issued_cert(&r, path("mk.pem"));
			reply_free(&r);
			certs++;
		} else
			refused(chain, "maker/simpleenroll", 403, "the web "
			    "server passed no chain");
		leaf = post("", "pki/maker-dev.pem", "pki/maker-dev.key",
		    "application/pkcs10", "mk.b64");
		refused(leaf, "maker/simpleenroll", 403, "not trusted");
	}
	fake = post("", "pki/maker-fake-chain.pem", "pki/maker-fake.key",
	    "application/pkcs10", "mk.b64");
	refused(fake, "maker/simpleenroll", 403, "not trusted");
	/* the maker is trusted on its labels only */
	chain = post("", "pki/maker-dev-chain.pem", "pki/maker-dev.key",
	    "application/pkcs10", "mk.b64");
	refused(chain, "device/simpleenroll", 403, "not trusted");
	/* with the intermediate in mtls_ca_cert: both servers */
	est(&r, chain, "makerint/simpleenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status,
	    mca_buf_str(&r.body));
	issued_cert(&r, path("mk2.pem"));
	reply_free(&r);
	certs++;
	refused(fake, "makerint/simpleenroll", 403, "not trusted");
	ck_assert_int_eq(ledger_count("certificates"), certs);
}
END_TEST

/* Concurrent enrollments: every one answered, every one in the ledger. */
START_TEST(test_concurrent)
{
	const char	*opts;
	int	 before = ledger_count("certificates");

	make_csr("c", "web-concurrent");
	opts = post("", "pki/boot.pem", "pki/boot.key",
	    "application/pkcs10", "c.b64");
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && for i in $(seq 1 16); do "
	    "curl -sS --max-time 300 --cacert pki/root.pem %s -o c$i.b64 "
	    "-w '%%{http_code}\\n' '%s/.well-known/est/device/simpleenroll' "
	    "> c$i.status & done; wait; cat c*.status | sort | uniq -c | "
	    "grep -qx ' *16 200'", W.dir, opts, W.url), 0);
	ck_assert_int_eq(ledger_count("certificates"), before + 16);
}
END_TEST

/*
 * HEAD with curl -I: the status and the headers (curl -I writes them to
 * the body file as well: it never reads content after a HEAD).
 */
static void
head(struct reply *r, const char *opts, const char *resource)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 hdrs[1024];
	int		 seq = ++W.seq;

	memset(r, 0, sizeof(*r));
	(void)snprintf(r->bodyfile, sizeof(r->bodyfile), "%s/h%d-%d.body",
	    W.dir, (int)getpid(), seq);
	(void)snprintf(hdrs, sizeof(hdrs), "%s/h%d-%d.hdr", W.dir,
	    (int)getpid(), seq);
	ck_assert_int_eq(tu_write(r->bodyfile, "", 0), 0);
	ck_assert_int_eq(tu_sh(&out, "curl -sS -I --max-time 30 --cacert "
	    "'%s/pki/root.pem' -o '%s' -D '%s' -w '%%{http_code} "
	    "%%{http_version}' %s '%s/.well-known/est/%s'", W.dir,
	    r->bodyfile, hdrs, opts, W.url, resource), 0);
	ck_assert_int_eq(sscanf(mca_buf_str(&out), "%d %7s", &r->status,
	    r->version), 2);
	mca_buf_free(&out);
	ck_assert_int_eq(tu_read(r->bodyfile, &r->body), 0);
	ck_assert_int_eq(tu_read(hdrs, &r->headers), 0);
}

/*
 * RFC 9110 9.3.2: HEAD on the GET resources answers as GET does, with no
 * content: the same status and Content-Type, and Content-Length the
 * length of GET's body (or, should a server leave it out, absent from
 * both answers alike). Over HTTP/1.1 and HTTP/2.
 */
START_TEST(test_head)
{
	const char	*res[] = { "cacerts", "device/cacerts",
	    "device/csrattrs", "strongswan/csrattrs" };
	const char	*versions[] = { "--http1.1", "--http2" };
	struct reply	 g, h;
	char		 gv[256], hv[256], len[32];
	size_t		 i, j;

	for (i = 0; i < sizeof(res) / sizeof(res[0]); i++)
		for (j = 0; j < 2; j++) {
			est(&g, versions[j], res[i]);
			head(&h, versions[j], res[i]);
			ck_assert_int_eq(g.status, 200);
			ck_assert_msg(h.status == 200, "HEAD %s: %d",
			    res[i], h.status);
			ck_assert_str_eq(h.version, g.version);
			ck_assert_str_eq(mca_buf_str(&h.body),
			    mca_buf_str(&h.headers));
			ck_assert_int_eq(header_value(&g, "Content-Type", gv,
			    sizeof(gv)), 0);
			ck_assert_int_eq(header_value(&h, "Content-Type", hv,
			    sizeof(hv)), 0);
			ck_assert_str_eq(hv, gv);
			/* est() saw GET's Content-Length equal its body */
			(void)snprintf(len, sizeof(len), "%zu", g.body.len);
			if (header_value(&h, "Content-Length", hv,
			    sizeof(hv)) == 0)
				ck_assert_str_eq(hv, len);
			else
				ck_assert(!has_header_name(&g,
				    "Content-Length"));
			reply_free(&g);
			reply_free(&h);
		}
	/*
	 * What the server sends on the wire after the headers: nothing (an
	 * HTTP/1.1 client that trusted Content-Length would read the next
	 * answer from it).
	 */
	for (i = 0; i < sizeof(res) / sizeof(res[0]); i++)
		ck_assert_msg(tu_sh(NULL, "printf 'HEAD /.well-known/est/%s "
		    "HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close"
		    "\\r\\n\\r\\n' | '%s' s_client -quiet "
		    "-connect '%s' -CAfile '%s/pki/root.pem' 2>/dev/null > "
		    "'%s/head.raw' && grep -q '^HTTP/1.1 200' '%s/head.raw' "
		    "&& [ \"$(sed -n '/^\\r$/,$p' '%s/head.raw' | wc -c)\" "
		    "= 2 ]", res[i], getenv("OPENSSL"), W.url + 8, W.dir,
		    W.dir, W.dir, W.dir) == 0, "HEAD %s over HTTP/1.1 has "
		    "content", res[i]);
	/* a POST resource: 405, Allow: POST; a GET one with POST: both */
	head(&h, "", "device/simpleenroll");
	ck_assert_int_eq(h.status, 405);
	ck_assert_int_eq(header_value(&h, "Allow", hv, sizeof(hv)), 0);
	ck_assert_str_eq(hv, "POST");
	reply_free(&h);
	est(&g, "-X POST -d x", "device/csrattrs");
	ck_assert_int_eq(g.status, 405);
	ck_assert_int_eq(header_value(&g, "Allow", gv, sizeof(gv)), 0);
	ck_assert_str_eq(gv, "GET, HEAD");
	reply_free(&g);
}
END_TEST

/* ------------------------------------------------ the workers themselves */

/*
 * The microca-est processes of this server: every process named
 * microca-est whose ancestry reaches the server's pid. Their pids into
 * pids[]; how many.
 */
static int
server_workers(pid_t *pids, int max)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	DIR		*d;
	struct dirent	*de;
	char		 f[64], comm[64];
	const char	*p;
	long		 top, q, pp;
	int		 n = 0, hops;

	ck_assert_int_eq(tu_read(path("web/pid"), &b), 0);
	top = strtol(mca_buf_str(&b), NULL, 10);
	ck_assert_int_gt(top, 1);
	ck_assert_ptr_nonnull(d = opendir("/proc"));
	while ((de = readdir(d)) != NULL) {
		if (strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		q = strtol(de->d_name, NULL, 10);
		for (hops = 0; q > 1 && hops < 64; hops++) {
			(void)snprintf(f, sizeof(f), "/proc/%ld/stat", q);
			mca_buf_reset(&b);
			/* "pid (comm) state ppid ..."; comm may hold spaces */
			if (tu_read(f, &b) != 0 ||
			    (p = strrchr(mca_buf_str(&b), ')')) == NULL ||
			    sscanf(p + 1, " %*c %ld", &pp) != 1)
				break;
			if (hops == 0) {
				(void)snprintf(comm, sizeof(comm), "%.*s",
				    (int)(p - strchr(mca_buf_str(&b), '(') - 1),
				    strchr(mca_buf_str(&b), '(') + 1);
				if (strcmp(comm, "microca-est") != 0)
					break;
			}
			if (pp == top) {
				ck_assert_int_lt(n, max);
				pids[n++] = (pid_t)strtol(de->d_name, NULL, 10);
				break;
			}
			q = pp;
		}
	}
	(void)closedir(d);
	mca_buf_free(&b);
	return n;
}

/* Needles: byte strings that must not be found in a worker. */
#define NEEDLE_LEN	24
#define NEEDLES_MAX	16
struct needles {
	unsigned char	 b[NEEDLES_MAX][NEEDLE_LEN];
	const char	*what[NEEDLES_MAX];
	int		 n;
};

/* The window of NEEDLE_LEN bytes in the middle of p[0..len). */
static void
needle_add(struct needles *nd, const void *p, size_t len, const char *what)
{
	ck_assert_int_ge(len, NEEDLE_LEN * 2);
	ck_assert_int_lt(nd->n, NEEDLES_MAX);
	memcpy(nd->b[nd->n], (const unsigned char *)p + len / 2 - NEEDLE_LEN / 2,
	    NEEDLE_LEN);
	nd->what[nd->n++] = what;
}

/*
 * A private number of the key, as a worker could hold it: big-endian as
 * in DER, and little-endian as in OpenSSL's BIGNUM words.
 */
static void
needle_bn(struct needles *nd, EVP_PKEY *k, const char *param)
{
	BIGNUM		*bn = NULL;
	unsigned char	 buf[1024];
	int		 n;

	ck_assert_msg(EVP_PKEY_get_bn_param(k, param, &bn) == 1, "%s", param);
	n = BN_num_bytes(bn);
	ck_assert_int_le(n, (int)sizeof(buf));
	ck_assert_int_eq(BN_bn2bin(bn, buf), n);
	needle_add(nd, buf, (size_t)n, param);
	ck_assert_int_eq(BN_bn2lebinpad(bn, buf, n), n);
	needle_add(nd, buf, (size_t)n, param);
	BN_clear_free(bn);
}

/*
 * Reads every writable private mapping of pid of a sane size (not the
 * terabytes of a sanitizer's shadow) through /proc/PID/mem, and counts
 * in found[i] the places needle i occurs. Returns the bytes read.
 */
static size_t
scan_worker(pid_t pid, const struct needles *nd, int *found)
{
	enum { CHUNK = 1 << 20 };
	FILE		*maps;
	char		 f[64], line[512], perms[8];
	unsigned char	*buf;
	unsigned long	 lo, hi, at;
	size_t		 total = 0, keep, n, len;
	ssize_t		 got;
	int		 fd, i, pathpos;
	const unsigned char *p;

	(void)snprintf(f, sizeof(f), "/proc/%ld/maps", (long)pid);
	ck_assert_ptr_nonnull(maps = fopen(f, "r"));
	(void)snprintf(f, sizeof(f), "/proc/%ld/mem", (long)pid);
	fd = open(f, O_RDONLY);
	ck_assert_msg(fd != -1, "%s: cannot read it (root may)", f);
	ck_assert_ptr_nonnull(buf = malloc(CHUNK + NEEDLE_LEN));
	while (fgets(line, sizeof(line), maps) != NULL) {
		pathpos = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms,
		    &pathpos) < 3 || perms[0] != 'r' || perms[1] != 'w' ||
		    perms[3] != 'p')
			continue;
		/* anonymous memory and the heap: not files, not the stack */
		if (pathpos > 0 && line[pathpos] != '\n' && line[pathpos] !=
		    '\0' && strncmp(line + pathpos, "[heap]", 6) != 0)
			continue;
		if (hi - lo > 1024ul * 1024 * 1024)
			continue;
		/* buf[0..keep): the end of the last read, shorter than a needle */
		keep = 0;
		for (at = lo; at < hi; at += (unsigned long)got) {
			n = hi - at < CHUNK ? hi - at : CHUNK;
			if ((got = pread(fd, buf + keep, n, (off_t)at)) <= 0)
				break;	/* a guard page */
			total += (size_t)got;
			len = keep + (size_t)got;
			for (i = 0; i < nd->n; i++)
				for (p = buf; (p = memmem(p, len - (size_t)(p -
				    buf), nd->b[i], NEEDLE_LEN)) != NULL; p++)
					found[i]++;
			keep = len < NEEDLE_LEN - 1 ? len : NEEDLE_LEN - 1;
			memmove(buf, buf + len - keep, keep);
		}
	}
	free(buf);
	(void)close(fd);
	(void)fclose(maps);
	return total;
}

/*
 * A /serverkeygen answer goes, and no copy of its private key stays in
 * any worker: not the private numbers (as DER writes them, or as
 * OpenSSL's BIGNUM words hold them), not the PKCS#8 DER, not its base64,
 * after more requests have come and gone. Under AddressSanitizer freed
 * memory sits in quarantine untouched, so a copy freed unwiped is there
 * to be found. The cached /cacerts text is the control: it must be found
 * in every worker, or the scan saw nothing.
 */
START_TEST(test_serverkeygen_wiped)
{
	struct needles	 nd;
	struct reply	 r;
	struct mca_buf	 der = MCA_BUF_INIT, b64 = MCA_BUF_INIT;
	EVP_PKEY	*k;
	const unsigned char *q;
	const char	*line, *nl;
	char		 base[1024], types[4][128], v[64];
	pid_t		 pids[32];
	int		 found[NEEDLES_MAX], nw, i, w, ctl;
	size_t		 bytes;

	memset(&nd, 0, sizeof(nd));
	make_csr("kw", "web-keygen-wiped");
	est(&r, post("", "pki/boot.pem", "pki/boot.key",
	    "application/pkcs10", "kw.b64"), "device/serverkeygen");
	ck_assert_msg(r.status == 200, "%d %s", r.status,
	    mca_buf_str(&r.body));
	/* RFC 9111 5.2.2.5: no cache keeps it */
	ck_assert_int_eq(header_value(&r, "Cache-Control", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "no-store");
	(void)snprintf(base, sizeof(base), "%s/kw.part", W.dir);
	ck_assert_int_eq(mime_split(&r, base, types, 4), 2);
	reply_free(&r);
	ck_assert_int_eq(tu_read(path("kw.part.0.der"), &der), 0);
	q = der.data;
	ck_assert_ptr_nonnull(k = d2i_AutoPrivateKey(NULL, &q,
	    (long)der.len));
	if (EVP_PKEY_is_a(k, "RSA")) {
		needle_bn(&nd, k, OSSL_PKEY_PARAM_RSA_D);
		needle_bn(&nd, k, OSSL_PKEY_PARAM_RSA_FACTOR1);
		needle_bn(&nd, k, OSSL_PKEY_PARAM_RSA_FACTOR2);
	} else
		needle_bn(&nd, k, OSSL_PKEY_PARAM_PRIV_KEY);
	EVP_PKEY_free(k);
	needle_add(&nd, der.data, der.len, "PKCS#8 DER");
	ck_assert_int_eq(tu_read(path("kw.part.0.b64"), &b64), 0);
	line = mca_buf_str(&b64);
	nl = strchr(line, '\r');
	ck_assert_ptr_nonnull(nl);
	needle_add(&nd, line, (size_t)(nl - line), "PKCS#8 DER in base64");
	/* the control */
	est(&r, "", "cacerts");
	ck_assert_int_eq(r.status, 200);
	ctl = nd.n;
	needle_add(&nd, r.body.data, 60, "/cacerts (control)");
	reply_free(&r);

	/* life goes on: more answers, more keys made and freed */
	for (i = 0; i < 6; i++) {
		est(&r, "", i % 2 ? "cacerts" : "device/csrattrs");
		ck_assert_int_eq(r.status, 200);
		reply_free(&r);
	}
	make_csr("kw2", "web-keygen-after");
	for (i = 0; i < 2; i++) {
		est(&r, post("", "pki/boot.pem", "pki/boot.key",
		    "application/pkcs10", "kw2.b64"), i ? "device/serverkeygen" :
		    "device/simpleenroll");
		ck_assert_int_eq(r.status, 200);
		reply_free(&r);
	}

	nw = server_workers(pids, 32);
	ck_assert_int_ge(nw, 1);
	for (w = 0; w < nw; w++) {
		memset(found, 0, sizeof(found));
		if (!W.root) {
			/* not dumpable: only root reads a worker's memory */
			(void)snprintf(v, sizeof(v), "/proc/%ld/mem",
			    (long)pids[w]);
			ck_assert_int_eq(open(v, O_RDONLY), -1);
			continue;
		}
		bytes = scan_worker(pids[w], &nd, found);
		ck_assert_msg(found[ctl] > 0, "worker %ld: the control is not "
		    "in the %zu bytes read", (long)pids[w], bytes);
		for (i = 0; i < ctl; i++)
			ck_assert_msg(found[i] == 0, "worker %ld holds %d "
			    "cop%s of the key's %s (%zu bytes read)",
			    (long)pids[w], found[i], found[i] == 1 ? "y" : "ies",
			    nd.what[i], bytes);
	}
	OPENSSL_cleanse(der.data, der.len);
	mca_buf_free(&der);
	OPENSSL_cleanse(b64.data, b64.len);
	mca_buf_free(&b64);
}
END_TEST

/*
 * The workers cannot dump core and are not dumpable: the files under
 * /proc/PID of a process that is not dumpable, such as environ, belong
 * to root, whoever runs it (the kernel's task_dump_owner()).
 */
START_TEST(test_worker_hardening)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct stat	 st;
	pid_t		 pids[32];
	char		 f[64], soft[16], hard[16];
	const char	*p;
	long		 uid;
	int		 nw, w;

	nw = server_workers(pids, 32);
	ck_assert_int_ge(nw, 1);
	for (w = 0; w < nw; w++) {
		(void)snprintf(f, sizeof(f), "/proc/%ld/status", (long)pids[w]);
		mca_buf_reset(&b);
		ck_assert_int_eq(tu_read(f, &b), 0);
		ck_assert_ptr_nonnull(p = strstr(mca_buf_str(&b), "\nUid:"));
		uid = strtol(p + 5, NULL, 10);
		ck_assert_msg(uid != 0, "worker %ld runs as root",
		    (long)pids[w]);
		(void)snprintf(f, sizeof(f), "/proc/%ld/environ",
		    (long)pids[w]);
		ck_assert_int_eq(stat(f, &st), 0);
		ck_assert_msg(st.st_uid == 0, "worker %ld (uid %ld) is "
		    "dumpable: %s belongs to %ld", (long)pids[w], uid, f,
		    (long)st.st_uid);
		(void)snprintf(f, sizeof(f), "/proc/%ld/limits",
		    (long)pids[w]);
		mca_buf_reset(&b);
		ck_assert_int_eq(tu_read(f, &b), 0);
		ck_assert_ptr_nonnull(p = strstr(mca_buf_str(&b),
		    "Max core file size"));
		ck_assert_int_eq(sscanf(p + strlen("Max core file size"),
		    "%15s %15s", soft, hard), 2);
		ck_assert_msg(strcmp(soft, "0") == 0 && strcmp(hard, "0") == 0,
		    "worker %ld: %.*s", (long)pids[w], (int)strcspn(p, "\n"),
		    p);
	}
	mca_buf_free(&b);
}
END_TEST

/* ------------------------------------------------ the server crashes */

/* 1 while pid is a live process (not gone, not a zombie). */
static int
running(pid_t pid)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	char		 f[64];
	const char	*p;
	int		 live;

	(void)snprintf(f, sizeof(f), "/proc/%ld/stat", (long)pid);
	live = tu_read(f, &b) == 0 && (p = strrchr(mca_buf_str(&b), ')')) !=
	    NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	mca_buf_free(&b);
	return live;
}

/*
 * Waits until none of pids[] runs: up to 600 looks a tenth of a second
 * apart, far beyond what it takes. Returns how many still run.
 */
static int
wait_gone(const pid_t *pids, int n)
{
	int	 i, left = n, tries;

	for (tries = 0; tries < 600 && left > 0; tries++) {
		if (tries > 0)
			(void)usleep(100 * 1000);
		for (left = 0, i = 0; i < n; i++)
			left += running(pids[i]);
	}
	return left;
}

/* The parent of pid, from /proc/PID/stat; -1 when it is gone. */
static long
parent_of(pid_t pid)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	char		 f[64];
	const char	*p;
	long		 pp = -1;

	(void)snprintf(f, sizeof(f), "/proc/%ld/stat", (long)pid);
	if (tu_read(f, &b) == 0 && (p = strrchr(mca_buf_str(&b), ')')) !=
	    NULL && sscanf(p + 1, " %*c %ld", &pp) != 1)
		pp = -1;
	mca_buf_free(&b);
	return pp;
}

/* The server's pid, from microca-web's pid file. */
static pid_t
server_pid(void)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	long		 top;

	ck_assert_int_eq(tu_read(path("web/pid"), &b), 0);
	top = strtol(mca_buf_str(&b), NULL, 10);
	mca_buf_free(&b);
	ck_assert_int_gt(top, 1);
	return (pid_t)top;
}

/*
 * kill -9 of the web server: the workers follow the process that started
 * them (PR_SET_PDEATHSIG) rather than live on under init. Under lighttpd
 * that is lighttpd itself. Under Apache it is mod_fcgid's process
 * manager, a child of the main process, and it outlives a killed main
 * process (what Apache leaves is microca-web's to stop): the workers
 * stay with it, and go when it goes.
 */
START_TEST(test_crash_workers_follow)
{
	pid_t	 pids[32], top;
	long	 pp, pm = -1;
	int	 n, i, left;

	n = server_workers(pids, 32);
	ck_assert_int_ge(n, 1);
	top = server_pid();
	for (i = 0; i < n; i++) {
		pp = parent_of(pids[i]);
		if (strcmp(W.kind, "lighttpd") == 0)
			ck_assert_int_eq(pp, top);
		else {
			ck_assert_int_ne(pp, top);
			ck_assert_int_eq(parent_of((pid_t)pp), top);
			ck_assert(pm == -1 || pm == pp);
			pm = pp;
		}
	}
	ck_assert_int_eq(kill(top, SIGKILL), 0);
	if (pm != -1)
		ck_assert_int_eq(kill((pid_t)pm, SIGKILL), 0);
	left = wait_gone(pids, n);
	ck_assert_msg(left == 0, "%d of %d workers outlived their parent",
	    left, n);
}
END_TEST

/*
 * microca-web stop after a crash stops what the server left: here
 * workers that cannot follow it (stopped with SIGSTOP first, as a hung
 * worker would be), found by their pids and by the server's session.
 */
START_TEST(test_crash_stop)
{
	pid_t	 pids[32];
	int	 n, i;

	n = server_workers(pids, 32);
	ck_assert_int_ge(n, 1);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(kill(pids[i], SIGSTOP), 0);
	/* forget the recorded pids: the session must find them */
	ck_assert_int_eq(tu_write(path("web/workers"), "", 0), 0);
	ck_assert_int_eq(kill(server_pid(), SIGKILL), 0);
	ck_assert_int_eq(tu_sh(NULL, "sh '%s/scripts/microca-web' stop "
	    "'%s/web'", tu_srcdir(), W.dir), 0);
	for (i = 0; i < n; i++)
		ck_assert_msg(!running(pids[i]), "worker %ld still runs after "
		    "microca-web stop", (long)pids[i]);
}
END_TEST

/*
 * A server of its own for a test that kills it; stopped by the parent
 * (an unchecked fixture), whatever becomes of the test.
 */
/* ------------------------------------------------- CA generations */

/* Most requests a pickup may take; each is a whole curl run. */
#define PICKUP_TRIES	3000
/* Answers in a row from the new CA: every worker has it. */
#define PICKUP_STEADY	12

/* 1 if /cacerts now serves pki/gen2.pem first, 0 if still ca.pem. */
static int
cacerts_gen2(void)
{
	struct reply	 r;
	struct mca_buf	 out = MCA_BUF_INIT;
	int		 is;

	est(&r, "", "device/cacerts");
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(tu_sh(&out, "'%s' pkcs7 -inform DER -in '%s' "
	    "-print_certs | grep '^subject' | head -1", getenv("OPENSSL"),
	    body_der(&r)), 0);
	is = strstr(mca_buf_str(&out), "CN = microca test gen 2") != NULL;
	ck_assert_msg(is || strstr(mca_buf_str(&out),
	    "CN = microca test intermediate") != NULL, "/cacerts: %s",
	    mca_buf_str(&out));
	mca_buf_free(&out);
	reply_free(&r);
	return is;
}

/*
 * Enrolls name; 1 if pki/gen2.pem signed it (checked with openssl
 * verify through gen2-chain.pem), 0 if the old intermediate did.
 */
static int
enroll_gen2(const char *name)
{
	struct reply	 r;
	const char	*o = getenv("OPENSSL");
	char		 pem[1100], b64[64];
	int		 is;

	make_csr(name, name);
	(void)snprintf(b64, sizeof(b64), "%s.b64", name);
	est(&r, post("", "pki/boot.pem", "pki/boot.key", "application/pkcs10",
	    b64), "device/simpleenroll");
	ck_assert_msg(r.status == 200, "%d %s", r.status,
	    mca_buf_str(&r.body));
	(void)snprintf(pem, sizeof(pem), "%s/%s.pem", W.dir, name);
	ck_assert_int_eq(tu_sh(NULL, "'%s' pkcs7 -inform DER -in '%s' "
	    "-print_certs -out '%s'", o, body_der(&r), pem), 0);
	is = tu_sh(NULL, "'%s' verify -CAfile '%s/pki/root.pem' -untrusted "
	    "'%s/pki/gen2.pem' '%s' >/dev/null 2>&1", o, W.dir, W.dir,
	    pem) == 0;
	if (!is)
		ck_assert_int_eq(tu_sh(NULL, "'%s' verify -CAfile "
		    "'%s/pki/root.pem' -untrusted '%s/pki/ca.pem' '%s' "
		    ">/dev/null", o, W.dir, W.dir, pem), 0);
	reply_free(&r);
	return is;
}

/*
 * microca-renew's part, done by hand: a new intermediate whose key is
 * made in the running workers' token, signed by the test root, recorded
 * in the ledger as the active generation. The workers pick it up
 * without a restart: /cacerts serves the new chain and enrollments are
 * signed by it, within a bounded number of requests (no sleeping: each
 * look is a request, and a worker looks at the ledger at most once a
 * second).
 */
START_TEST(test_generation_pickup)
{
	struct mca_ledger	*l = NULL;
	struct mca_p11		*p = NULL;
	struct mca_buf		 chain = MCA_BUF_INIT, log = MCA_BUF_INIT;
	struct mca_diag		 d;
	EVP_PKEY		*pub = NULL;
	X509			*x = NULL;
	FILE			*f;
	unsigned char		 md[32];
	unsigned int		 mdlen = 0;
	char			 serial[130], hex[65], name[32];
	pid_t			 before[32], after[32];
	long long		 id = 0;
	int			 i, nb, na, tries, steady, rc;

	nb = server_workers(before, 32);
	ck_assert_int_gt(nb, 0);
	ck_assert_int_eq(cacerts_gen2(), 0);
	ck_assert_int_eq(enroll_gen2("gp-0"), 0);

	/* The key, in the token the workers are logged in to. */
	ck_assert_int_eq(setenv("SOFTHSM2_CONF", path("pki/softhsm2.conf"),
	    1), 0);
	ck_assert_msg(mca_p11_session(getenv("SOFTHSM2_MODULE"), NULL, "1234",
	    &p, &d) == 0, "session: %s", d.msg);
	ck_assert_msg(mca_p11_keygen(p, MCA_KEYTYPE_EC, 256, "microca-ca-2",
	    NULL, &pub, &d) == 0, "keygen: %s", d.msg);
	mca_p11_close(p);
	ck_assert_ptr_nonnull(f = fopen(path("pki/gen2-pub.pem"), "w"));
	ck_assert_int_eq(PEM_write_PUBKEY(f, pub), 1);
	ck_assert_int_eq(fclose(f), 0);
	EVP_PKEY_free(pub);
	if (W.root)
		ck_assert_int_eq(tu_sh(NULL, "chown -R www-data: '%s/pki/"
		    "tokens'", W.dir), 0);
	/* Its certificate, from the root (a throwaway CSR: mkpki.sh). */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s/pki' && O='%s' && "
	    "$O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
	    "-out gen2-tmp.key 2>/dev/null && $O req -new -key gen2-tmp.key "
	    "-subj '/O=microca test/CN=microca test gen 2' -config req.cnf "
	    "-out gen2.csr && $O x509 -req -in gen2.csr -CA root.pem "
	    "-CAkey root.key -CAcreateserial -extfile exts.cnf -extensions "
	    "inter -days 3650 -sha256 -force_pubkey gen2-pub.pem -out "
	    "gen2.pem 2>/dev/null && cat gen2.pem root.pem > gen2-chain.pem",
	    W.dir, getenv("OPENSSL")), 0);
	ck_assert_int_eq(tu_read(path("pki/gen2-chain.pem"), &chain), 0);
	ck_assert_ptr_nonnull(f = fopen(path("pki/gen2.pem"), "r"));
	ck_assert_ptr_nonnull(x = PEM_read_X509(f, NULL, NULL, NULL));
	(void)fclose(f);
	serial_of(path("pki/gen2.pem"), serial, sizeof(serial));
	ck_assert_int_eq(X509_digest(x, EVP_sha256(), md, &mdlen), 1);
	for (i = 0; i < 32; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", md[i]);

	/* Installed while the workers run. */
	ck_assert_msg(mca_ledger_open(path("ledger.db"), 1, &l, &d) == 0,
	    "ledger: %s", d.msg);
	rc = mca_castate_install(l, "microca-ca-2", NULL, mca_buf_str(&chain),
	    serial, hex, time(NULL) - 60, time(NULL) + 3650 * 86400LL, &id);
	ck_assert_msg(rc == 0, "install: %s", mca_ledger_errmsg(l, rc));
	mca_ledger_close(l);
	if (W.root)
		ck_assert_int_eq(tu_sh(NULL, "chown www-data: '%s'/ledger.db*",
		    W.dir), 0);

	/* /cacerts: the new chain, from every worker. */
	for (tries = 0, steady = 0; tries < PICKUP_TRIES &&
	    steady < PICKUP_STEADY; tries++)
		steady = cacerts_gen2() ? steady + 1 : 0;
	ck_assert_msg(steady == PICKUP_STEADY, "/cacerts still serves the old "
	    "chain after %d requests", tries);
	/* Enrollment: signed by the new intermediate. */
	for (tries = 0, steady = 0; tries < PICKUP_STEADY; tries++) {
		(void)snprintf(name, sizeof(name), "gp-%d", tries + 1);
		steady += enroll_gen2(name);
	}
	ck_assert_int_eq(steady, PICKUP_STEADY);
	/* A certificate of the old intermediate renews, under the new. */
	make_csr_for("gp-0r", "gp-0.key", "gp-0");
	{
		struct reply	 r;
		const char	*o = getenv("OPENSSL");

		est(&r, post("", "gp-0.pem", "gp-0.key", "application/pkcs10",
		    "gp-0r.b64"), "device/simplereenroll");
		ck_assert_msg(r.status == 200, "%d %s", r.status,
		    mca_buf_str(&r.body));
		ck_assert_int_eq(tu_sh(NULL, "'%s' pkcs7 -inform DER -in '%s' "
		    "-print_certs -out '%s/gp-0r.pem' && '%s' verify -CAfile "
		    "'%s/pki/root.pem' -untrusted '%s/pki/gen2.pem' "
		    "'%s/gp-0r.pem' >/dev/null", o, body_der(&r), W.dir, o,
		    W.dir, W.dir, W.dir), 0);
		reply_free(&r);
	}

	/* The same workers: no restart. */
	na = server_workers(after, 32);
	ck_assert_int_eq(na, nb);
	for (i = 0; i < nb; i++)
		ck_assert_int_eq(after[i], before[i]);
	ck_assert_int_eq(tu_read(path("microca.log"), &log), 0);
	ck_assert_msg(strstr(mca_buf_str(&log), "CA generation") != NULL &&
	    strstr(mca_buf_str(&log), "in use") != NULL, "log: %s",
	    mca_buf_str(&log));
	X509_free(x);
	mca_buf_free(&chain);
	mca_buf_free(&log);
}
END_TEST

static TCase *
crash_tcase(const char *name, void (*start)(void), const TTest *test)
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, start, web_stop);
	tcase_add_test(tc, test);
	return tc;
}

static TCase *
web_tcase(const char *name, void (*start)(void))
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, start, web_stop);
	tcase_add_test(tc, test_first_requests);
	tcase_add_test(tc, test_cacerts);
	tcase_add_test(tc, test_csrattrs);
	tcase_add_test(tc, test_simpleenroll);
	tcase_add_test(tc, test_simplereenroll);
	tcase_add_test(tc, test_strongswan);
	tcase_add_test(tc, test_strongswan_label);
	tcase_add_test(tc, test_alias);
	tcase_add_test(tc, test_serverkeygen);
	tcase_add_test(tc, test_cacerts_rollover);
	tcase_add_test(tc, test_passcode);
	tcase_add_test(tc, test_passcode_race);
	tcase_add_test(tc, test_passcode_flood);
	tcase_add_test(tc, test_policy);
	tcase_add_test(tc, test_issue12);
	tcase_add_test(tc, test_revoke);
	tcase_add_test(tc, test_remote_user);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_concurrent);
	tcase_add_test(tc, test_maker_chain);
	tcase_add_test(tc, test_head);
	tcase_add_test(tc, test_serverkeygen_wiped);
	tcase_add_test(tc, test_worker_hardening);
	return tc;
}

int
main(void)
{
	Suite	*s = suite_create("web");

	suite_add_tcase(s, web_tcase("lighttpd", start_lighttpd));
	suite_add_tcase(s, web_tcase("apache", start_apache));
	suite_add_tcase(s, crash_tcase("lighttpd-generations",
	    start_lighttpd, test_generation_pickup));
	suite_add_tcase(s, crash_tcase("lighttpd-crash", start_lighttpd,
	    test_crash_workers_follow));
	suite_add_tcase(s, crash_tcase("lighttpd-crash-stop", start_lighttpd,
	    test_crash_stop));
	suite_add_tcase(s, crash_tcase("apache-crash", start_apache,
	    test_crash_workers_follow));
	suite_add_tcase(s, crash_tcase("apache-crash-stop", start_apache,
	    test_crash_stop));
	return tu_run(s);
}
