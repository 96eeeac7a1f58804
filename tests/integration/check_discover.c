/*
 * microca-discover end to end: the real program against a fixture tree,
 * a real lighttpd on loopback presenting a chain, a closed port, a port
 * that accepts and never answers TLS, and the mock AppViewX discovery
 * upload of tests/discmock.c (mTLS, the path, the JSON checked strictly,
 * each upload counted). First run finds and uploads; a rescan after
 * changes reports new, changed and gone; a failed upload (the mock
 * answers 500) is sent again by the next run, a successful one never;
 * the interval gate, the lock, --dry-run and --json (parsed with json-c).
 *
 * No case depends on the machine's speed: lighttpd is waited for with a
 * bounded number of connection attempts; the silent port is bounded by
 * scan_endpoint_timeout_seconds, whatever the machine.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "buf.h"
#include "discmock.h"
#include "err.h"
#include "lock.h"
#include "testutil.h"

#define DISC_NAME	"microca-e2e"
#define GROUP		"e2e-group"

static struct {
	char		*dir;
	int		 web_port;	/* lighttpd */
	int		 closed_port;
	int		 silent_fd;	/* listening, never accepting */
	int		 silent_port;
	struct discmock	 m;
	int		 mock_up;
	int		 no_mtls;	/* config.json without our identity */
	char		 log[1024];
} S;

static char *
path(const char *name)
{
	static char	 p[8][1024];
	static int	 i;

	i = (i + 1) % 8;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", S.dir, name);
	return p[i];
}

/* A loopback TCP socket bound to a free port; *port gets it. */
static int
bound(int *port)
{
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);
	int			 fd;

	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* 1 when something accepts connections on 127.0.0.1:port. */
static int
answers(int port)
{
	struct sockaddr_in	 sa;
	int			 fd, ok;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* lighttpd with TLS only, its certificate followed by its root. */
static void
web_start(void)
{
	int	 fd, i;

	fd = bound(&S.web_port);
	close(fd);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && mkdir -p www && cat "
	    "pki/server.pem pki/root.pem > web-chain.pem", S.dir), 0);
	ck_assert_int_eq(tu_writef(path("lighttpd.conf"),
	    "server.document-root = \"%s/www\"\n"
	    "server.bind = \"127.0.0.1\"\n"
	    "server.port = %d\n"
	    "server.pid-file = \"%s/lighttpd.pid\"\n"
	    "server.errorlog = \"%s/lighttpd.log\"\n"
	    "server.modules = ( \"mod_openssl\" )\n"
	    "ssl.engine = \"enable\"\n"
	    "ssl.pemfile = \"%s/web-chain.pem\"\n"
	    "ssl.privkey = \"%s/pki/server.key\"\n", S.dir, S.web_port, S.dir,
	    S.dir, S.dir, S.dir), 0);
	ck_assert_int_eq(tu_sh(NULL, "lighttpd -f '%s' >&2",
	    path("lighttpd.conf")), 0);
	for (i = 0; i < 1000 && !answers(S.web_port); i++)
		(void)usleep(10000);
	ck_assert_msg(answers(S.web_port), "lighttpd does not answer");
}

/* config.json: the discovery block against the mock, scan keys. */
static void
write_config(const char *extra)
{
	ck_assert_int_eq(tu_writef(path("config.json"),
	    "{\n"
	    " \"intermediate_cert_path\": \"%s/pki/chain.pem\",\n"
	    " \"intermediate_private_key_path\": \"%s/pki/ca.key\",\n"
	    " \"mtls_ca_cert\": \"%s/pki/boot-ca.pem\",\n"
	    " \"ledger_db_path\": \"%s/ledger.db\",\n"
	    " \"issued_certs_dir\": \"%s/IssuedCerts\",\n"
	    " \"upstream_ca_cert\": \"%s/pki/root.pem\",\n"
	    " \"end_certificate_config_1\": {\n"
	    "  \"end_point_name\": \"device\", \"validity_in_days\": 30 },\n"
	    " \"mtls_client_auth_cert_%s\": {\n"
	    "  \"mtls_auth_cert_path\": \"%s/pki/boot.pem\",\n"
	    "  \"mtls_auth_key_path\": \"%s/pki/boot.key\" },\n"
	    " \"discover_certificate_config\": {\n"
	    "  \"is_discovery_required\": true,\n"
	    "  \"scan_interval_time_in_minutes\": 60,\n"
	    "  \"discovery_name\": \"" DISC_NAME "\",\n"
	    "  \"groupName\": \"" GROUP "\",\n"
	    "  \"appviewx_hostname\": \"127.0.0.1\", \"port\": %u,\n"
	    "  \"est_agent_setting_name\": \"agent\",\n"
	    "  \"scan_paths\": [\"%s/tree\"],\n"
	    "  \"scan_exclude\": [\"*/private\"],\n"
	    "  \"scan_extensions\": [\"pem\", \"crt\"],\n"
	    "  \"scan_endpoints\": [\"127.0.0.1:%d\", \"127.0.0.1:%d\", "
	    "\"localhost:%d\"],\n"
	    "  \"scan_endpoint_timeout_seconds\": 1,\n"
	    "  %s\n"
	    "  \"upload_batch_size\": 2 }\n"
	    "}\n", S.dir, S.dir, S.dir, S.dir, S.dir, S.dir,
	    S.no_mtls ? "unused" : "config", S.dir, S.dir,
	    S.mock_up ? S.m.ts.port : 1u, S.dir, S.web_port, S.closed_port,
	    S.silent_port, extra != NULL ? extra : ""), 0);
	ck_assert_int_eq(chmod(path("config.json"), 0600), 0);
}

/* The mock in mode (for the first faults uploads; 0: always). */
static void
mock_up(enum discmock_mode mode, int faults)
{
	struct discmock_opts	 o;
	static char		 scert[1024], skey[1024], cca[1024];

	if (S.mock_up)
		discmock_stop(&S.m);
	(void)snprintf(S.log, sizeof(S.log), "%s", path("discmock.log"));
	(void)unlink(S.log);
	(void)snprintf(scert, sizeof(scert), "%s", path("pki/server.pem"));
	(void)snprintf(skey, sizeof(skey), "%s", path("pki/server.key"));
	(void)snprintf(cca, sizeof(cca), "%s", path("pki/boot-ca.pem"));
	memset(&o, 0, sizeof(o));
	o.certfile = scert;
	o.keyfile = skey;
	o.client_ca = cca;
	o.log = S.log;
	o.agent = "agent";
	o.discovery_name = DISC_NAME;
	o.group = GROUP;
	o.mode = mode;
	o.faults = faults;
	memset(&S.m, 0, sizeof(S.m));
	(void)discmock_start(&S.m, &o);
	S.mock_up = 1;
	write_config(NULL);
}

static void
setup(void)
{
	int	 fd;

	memset(&S, 0, sizeof(S));
	S.silent_fd = -1;
	S.dir = tu_mkdtemp("discover");
	ck_assert_int_eq(tu_mkpki(path("pki"), "file"), 0);
	/* the fixture tree: a chain, a certificate, what is passed over */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && mkdir -p tree/sub "
	    "tree/private && cat pki/server.pem pki/root.pem > tree/a.pem && "
	    "cp pki/boot.pem tree/sub/b.crt && cp pki/ca.pem tree/note.txt && "
	    "cp pki/foreign.pem tree/private/hidden.pem && "
	    "echo 'not a certificate' > tree/sub/junk.pem", S.dir), 0);
	fd = bound(&S.closed_port);
	close(fd);
	S.silent_fd = bound(&S.silent_port);
	ck_assert_int_eq(listen(S.silent_fd, 8), 0);
	web_start();
	mock_up(DM_OK, 0);
}

static void
teardown(void)
{
	if (S.dir == NULL)
		return;
	if (S.mock_up)
		discmock_stop(&S.m);
	(void)tu_sh(NULL, "test -f '%s' && kill `cat '%s'`",
	    path("lighttpd.pid"), path("lighttpd.pid"));
	if (S.silent_fd >= 0)
		close(S.silent_fd);
	tu_rmtree(S.dir);
	free(S.dir);
	S.dir = NULL;
}

/* microca-discover with the config and args; its exit status. */
static int
discover(struct mca_buf *out, const char *args)
{
	mca_buf_reset(out);
	return tu_sh(out, "'%s/microca-discover' --config '%s' --api-config "
	    "'%s' %s", tu_builddir(), path("config.json"), path("APIconfig"),
	    args);
}

/* --json's output (the last line of out) parsed, summary checked. */
static struct json_object *
parse(const struct mca_buf *out)
{
	struct json_object	*root;
	const char		*s = mca_buf_str(out), *line;

	line = strstr(s, "{\"summary\"");
	ck_assert_msg(line != NULL, "no JSON in: %s", s);
	root = json_tokener_parse(line);
	ck_assert_msg(root != NULL, "not JSON: %s", line);
	return root;
}

static long long
summary(struct json_object *root, const char *key)
{
	struct json_object	*sum, *v;

	ck_assert(json_object_object_get_ex(root, "summary", &sum));
	ck_assert_msg(json_object_object_get_ex(sum, key, &v), "%s", key);
	return json_object_get_int64(v);
}

static long long
sql_ll(const char *q)
{
	struct mca_buf	 o = MCA_BUF_INIT;
	long long	 v;

	ck_assert_int_eq(tu_sh(&o, "'%s' '%s' \"%s\"", getenv("SQLITE3"),
	    path("ledger.db"), q), 0);
	v = strtoll(mca_buf_str(&o), NULL, 10);
	mca_buf_free(&o);
	return v;
}

static void
seen(struct discmock_seen *s)
{
	memset(s, 0, sizeof(*s));
	discmock_seen(&S.m, s);
}

START_TEST(test_e2e)
{
	struct mca_buf		 out = MCA_BUF_INIT;
	struct json_object	*root, *certs, *c, *v;
	struct discmock_seen	 s;
	size_t			 i, n;
	int			 rc, total;

	/* --dry-run: found and shown, nothing recorded, nothing sent */
	rc = discover(&out, "--dry-run --json 2>/dev/null");
	ck_assert_msg(rc == 0, "rc %d: %s", rc, mca_buf_str(&out));
	root = parse(&out);
	ck_assert_int_eq(summary(root, "certificates"), 5);
	ck_assert_int_eq(summary(root, "dry_run"), 1);
	json_object_put(root);
	ck_assert_int_ne(access(path("ledger.db"), F_OK), 0);

	/*
	 * Run 1: a.pem (2), sub/b.crt (1), lighttpd's chain (2); note.txt,
	 * private/ and junk.pem passed over; two endpoints fail. All 5
	 * uploaded, 2 at a time.
	 */
	rc = discover(&out, "--json 2>&1");
	ck_assert_msg(rc == 0, "rc %d: %s", rc, mca_buf_str(&out));
	root = parse(&out);
	ck_assert_int_eq(summary(root, "certificates"), 5);
	ck_assert_int_eq(summary(root, "new"), 5);
	ck_assert_int_eq(summary(root, "endpoints_ok"), 1);
	ck_assert_int_eq(summary(root, "endpoints_failed"), 2);
	ck_assert_int_eq(summary(root, "uploaded"), 5);
	ck_assert(json_object_object_get_ex(root, "certificates", &certs));
	n = json_object_array_length(certs);
	ck_assert_uint_eq(n, 5);
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(certs, i);
		ck_assert(json_object_object_get_ex(c, "sha256", &v));
		ck_assert_int_eq(json_object_get_string_len(v), 64);
		ck_assert(json_object_object_get_ex(c, "uploaded_at", &v));
		ck_assert_ptr_nonnull(v);
		ck_assert(json_object_object_get_ex(c, "location", &v));
		ck_assert_ptr_null(strstr(json_object_get_string(v),
		    "private"));
	}
	json_object_put(root);
	ck_assert_msg(strstr(mca_buf_str(&out), "5 certificates: 5 new") !=
	    NULL, "%s", mca_buf_str(&out));
	seen(&s);
	ck_assert_int_eq(s.refused, 0);
	ck_assert_int_eq(s.uploads, 3);
	ck_assert_int_eq(s.accepted, 3);
	for (i = 0, total = 0; i < 3; i++) {
		ck_assert_int_le(s.counts[i], 2);
		total += s.counts[i];
	}
	ck_assert_int_eq(total, 5);
	free(s.sha256);

	/* The gate: within the interval nothing happens. */
	rc = discover(&out, "--debugMode 2>&1");
	ck_assert_msg(rc == 0, "rc %d: %s", rc, mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "next scan in") != NULL,
	    "%s", mca_buf_str(&out));
	ck_assert_int_eq(sql_ll("SELECT count(*) FROM discovery_runs"), 1);

	/* Run 2, forced, nothing changed: nothing opened, nothing sent. */
	rc = discover(&out, "--now 2>&1");
	ck_assert_msg(rc == 0, "rc %d: %s", rc, mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "3 files (3 unchanged), 5 "
	    "certificates: 0 new, 0 changed, 0 gone") != NULL, "%s",
	    mca_buf_str(&out));
	seen(&s);
	ck_assert_int_eq(s.uploads, 3);
	free(s.sha256);

	/*
	 * Changes: b.crt holds another certificate, c.pem is new, a.pem is
	 * gone. The mock answers 500: the run fails, the rows stay due.
	 */
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && cp pki/ca.pem tree/sub/b.crt "
	    "&& touch -d '2001-01-01' tree/sub/b.crt && cp pki/maker-dev.pem "
	    "tree/c.pem && rm tree/a.pem", S.dir), 0);
	mock_up(DM_500, 0);
	rc = discover(&out, "--now 2>&1");
	ck_assert_msg(rc == 1, "rc %d: %s", rc, mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "4 certificates: 1 new, "
	    "1 changed, 2 gone") != NULL, "%s", mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "retried by the next run") !=
	    NULL, "%s", mca_buf_str(&out));
	seen(&s);
	ck_assert_int_eq(s.uploads, 1);		/* the first batch ends it */
	ck_assert_int_eq(s.accepted, 0);
	free(s.sha256);
	ck_assert_int_eq(sql_ll("SELECT count(*) FROM discovered_certs WHERE "
	    "gone_since IS NULL AND (uploaded_sha256 IS NULL OR "
	    "uploaded_sha256 <> sha256)"), 2);
	ck_assert_int_eq(sql_ll("SELECT count(*) FROM cron_state WHERE "
	    "tool = 'microca-discover' AND last_result = 'failed'"), 1);

	/* Run 4: the two due are sent, once; run 5 sends nothing. */
	mock_up(DM_OK, 0);
	rc = discover(&out, "--now 2>&1");
	ck_assert_msg(rc == 0, "rc %d: %s", rc, mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "2 uploaded") != NULL, "%s",
	    mca_buf_str(&out));
	rc = discover(&out, "--now 2>&1");
	ck_assert_msg(rc == 0, "rc %d: %s", rc, mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "0 uploaded") != NULL, "%s",
	    mca_buf_str(&out));
	seen(&s);
	ck_assert_int_eq(s.uploads, 1);
	ck_assert_int_eq(s.counts[0], 2);
	ck_assert_int_eq(s.refused, 0);
	free(s.sha256);
	ck_assert_int_eq(sql_ll("SELECT count(*) FROM discovered_certs WHERE "
	    "gone_since IS NULL"), 4);
	mca_buf_free(&out);
}
END_TEST

/* The lock: another run holds it, 75; a bad config, 2. */
START_TEST(test_lock_usage)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	struct mca_lock	*lock = NULL;
	struct mca_diag	 d;
	char		 lp[1024];
	int		 rc;

	ck_assert_int_eq(mca_lock_path(path("ledger.db"), "microca-discover",
	    lp, sizeof(lp)), 0);
	ck_assert_int_eq(mca_lock_take(lp, &lock, &d), 0);
	rc = discover(&out, "--now 2>&1");
	ck_assert_msg(rc == 75, "rc %d: %s", rc, mca_buf_str(&out));
	mca_lock_release(lock);
	ck_assert_int_ne(access(path("ledger.db"), F_OK), 0);

	/* No identity for the upload: exit 2, the scan recorded all the same. */
	S.no_mtls = 1;
	write_config(NULL);
	rc = discover(&out, "--now 2>&1");
	ck_assert_msg(rc == 2, "rc %d: %s", rc, mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "mtls_client_auth_cert_config")
	    != NULL, "%s", mca_buf_str(&out));
	ck_assert_int_eq(sql_ll("SELECT count(*) FROM discovery_runs WHERE "
	    "finished_at IS NOT NULL"), 1);
	S.no_mtls = 0;

	write_config("\"scan_max_file_size\": 0,");
	rc = discover(&out, "--now 2>&1");
	ck_assert_msg(rc == 2, "rc %d: %s", rc, mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "discover_certificate_config."
	    "scan_max_file_size: expected an integer") != NULL,
	    "%s", mca_buf_str(&out));
	rc = discover(&out, "--bogus 2>&1");
	ck_assert_int_eq(rc, 2);
	mca_buf_free(&out);
}
END_TEST

static Suite *
discover_suite(void)
{
	Suite	*s = suite_create("discover_e2e");
	TCase	*tc = tcase_create("e2e");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_e2e);
	tcase_add_test(tc, test_lock_usage);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(discover_suite());
}
