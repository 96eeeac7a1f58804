/*
 * microca-azsync end to end: a real microca behind lighttpd
 * (scripts/microca-web) whose label "device" has is_device_cert true,
 * devices enrolled with curl, and microca-azsync run as the ledger's
 * owner against the mock IoT Hub of tests/hubmock.c (a real HTTPS server
 * on loopback that recomputes every SAS token), or in AppViewX workflow
 * mode against the mock workflow gateway of tests/avxwfmock.c (mTLS, the
 * submit checked field by field, submits and polls counted). The
 * queue-only cases (a run killed in the middle of a batch, a thousand
 * devices) fill the ledger through its API instead, without a web
 * server.
 *
 * No case depends on the machine's speed: where time must pass (a
 * backoff), the test waits until the ledger's next attempt time is
 * behind it, however long that takes; time limits only catch hangs.
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

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "avxwfmock.h"
#include "buf.h"
#include "err.h"
#include "hubmock.h"
#include "ledger.h"
#include "revoke.h"
#include "testutil.h"

#define HUB_HOST	"localhost"
#define HUB_POLICY	"iothubowner"
/* base64 of 32 bytes: the hub policy's key, and a wrong one */
#define HUB_KEY		"MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="
#define BAD_KEY		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
#define BULK		1000
#define KILL_ROWS	20
/* AppViewX workflow mode (tests/avxwfmock.c) */
#define WORKFLOW	"Azure Device Registration"
#define ACCOUNT		"iot-prod (West Europe)"
#define REQID		"4711"
#define FAILMSG		"Azure IoT Hub said: Device wf-1 thumbprint conflict"

struct stack {
	char		*dir;
	int		 root;		/* as root: the ledger is www-data's */
	int		 web;		/* lighttpd is running */
	char		 url[128];
	char		 hubpki[1024], hubdir[1024];
	struct hubmock	 hub;
	struct avxwfmock wf;		/* AppViewX workflow mode */
	char		 wflog[1024];
	struct mca_buf	 wfpem;		/* the device certificate */
	char		 wfthumb[64];
};

static struct stack	 S;

static char *
path(const char *name)
{
	static char	 p[8][1024];
	static int	 i;

	i = (i + 1) % 8;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", S.dir, name);
	return p[i];
}

/* ---------------------------------------------------------------- setup */

/* config.json; extra: more top-level keys, each ending with a comma. */
static void
write_config(const char *extra)
{
	ck_assert_int_eq(tu_writef(path("config.json"),
	    "{\n"
	    "%s"
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
	    "  \"key_usage\": { \"digital_signature\": true },\n"
	    "  \"is_device_cert\": true }\n"
	    "}\n", extra != NULL ? extra : "", S.dir, getenv("SOFTHSM2_MODULE"),
	    S.dir, S.dir, S.dir), 0);
	ck_assert_int_eq(chmod(path("config.json"), 0600), 0);
	if (S.root)
		ck_assert_int_eq(tu_sh(NULL, "chown www-data: '%s'",
		    path("config.json")), 0);
}

/*
 * The APIconfig: direct mode against the mock with key (NULL: the
 * static token creds instead), and more keys in extra.
 */
static void
write_api(const char *key, const char *creds, const char *extra)
{
	ck_assert_int_eq(tu_writef(path("APIconfig"),
	    "{\n"
	    " \"appviewx_hostname\": \"localhost\",\n"
	    " \"appviewx_port_number\": 1,\n"
	    " \"azurehuburl\": \"https://" HUB_HOST ":%u/devices/{deviceId}"
	    "?api-version=2021-04-12\",\n"
	    " %s%s%s\n"
	    " %s%s%s\n"
	    " \"azure_hub_policy_name\": \"" HUB_POLICY "\",\n"
	    " \"azure_token_validity\": 600,\n"
	    " \"azure_hub_ca_cert\": \"%s/pki/root.pem\",\n"
	    " \"azure_backoff_max_seconds\": 1,\n"
	    " %s\n"
	    " \"update_azure_iot_hub_from_standalone_server\": true\n"
	    "}\n", S.hub.port,
	    key != NULL ? "\"azure_hub_key\": \"" : "",
	    key != NULL ? key : "", key != NULL ? "\"," : "",
	    creds != NULL ? "\"azurehubcreds\": \"" : "",
	    creds != NULL ? creds : "", creds != NULL ? "\"," : "",
	    S.dir, extra != NULL ? extra : ""), 0);
	ck_assert_int_eq(chmod(path("APIconfig"), 0600), 0);
	if (S.root)
		ck_assert_int_eq(tu_sh(NULL, "chown www-data: '%s'",
		    path("APIconfig")), 0);
}

static void
hub_up(void)
{
	memset(&S.hub, 0, sizeof(S.hub));
	(void)snprintf(S.hubpki, sizeof(S.hubpki), "%s", path("pki"));
	(void)snprintf(S.hubdir, sizeof(S.hubdir), "%s", path("hub"));
	S.hub.pki = S.hubpki;
	S.hub.dir = S.hubdir;
	S.hub.host = HUB_HOST;
	S.hub.key_b64 = HUB_KEY;
	S.hub.policy = HUB_POLICY;
	ck_assert_int_eq(mkdir(path("hub"), 0755), 0);
	hubmock_start(&S.hub);
	write_api(HUB_KEY, NULL, NULL);
}

static void
stack_dir(const char *pkimode)
{
	memset(&S, 0, sizeof(S));
	S.dir = tu_mkdtemp("azsync");
	S.root = geteuid() == 0;
	ck_assert_int_eq(tu_mkpki(path("pki"), pkimode), 0);
	write_config(NULL);
	if (S.root)
		ck_assert_int_eq(tu_sh(NULL, "mkdir '%s/bin' && cp "
		    "'%s/microca-est' '%s/microca-azsync' '%s/bin/' && "
		    "chmod 755 '%s' && chown -R www-data: '%s'", S.dir,
		    tu_builddir(), tu_builddir(), S.dir, S.dir, S.dir), 0);
}

/* lighttpd with microca, and the hub. */
static void
web_start(void)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	int		 rc;

	stack_dir("hsm-ec");
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && cat pki/boot-ca.pem "
	    "pki/chain.pem > client-ca.pem", S.dir), 0);
	rc = tu_sh(&out,
	    "MICROCA_EST='%s/microca-est' MICROCA_EST_ARGS='--logFile "
	    "%s/microca.log --debugMode' MICROCA_CONFIG='%s/config.json' "
	    "SOFTHSM2_CONF='%s/pki/softhsm2.conf' "
	    "MCA_WEB_TLS_CERT='%s/pki/server.pem' "
	    "MCA_WEB_TLS_KEY='%s/pki/server.key' "
	    "MCA_WEB_CLIENT_CA='%s/client-ca.pem' MCA_WEB_WORKERS=1 "
	    "MCA_WEB_OWNER_PID=%ld MCA_WEB_CONF_DIR='%s/conf-examples' "
	    "sh '%s/scripts/microca-web' start lighttpd '%s/web'",
	    S.root ? path("bin") : tu_builddir(), S.dir, S.dir, S.dir, S.dir,
	    S.dir, S.dir, (long)getpid(), tu_srcdir(), tu_srcdir(), S.dir);
	ck_assert_msg(rc == 0, "microca-web start failed (%d)", rc);
	(void)snprintf(S.url, sizeof(S.url), "%.*s",
	    (int)strcspn(mca_buf_str(&out), "\n"), mca_buf_str(&out));
	mca_buf_free(&out);
	S.web = 1;
	hub_up();
}

/* No web server: the ledger is filled through its API. */
static void
queue_start(void)
{
	stack_dir("hsm-ec");
	hub_up();
}

static void
stack_stop(void)
{
	if (S.dir == NULL)
		return;
	hubmock_stop(&S.hub);
	avxwfmock_stop(&S.wf);
	mca_buf_free(&S.wfpem);
	if (S.web)
		(void)tu_sh(NULL, "sh '%s/scripts/microca-web' stop '%s/web'",
		    tu_srcdir(), S.dir);
	tu_rmtree(S.dir);
	free(S.dir);
	S.dir = NULL;
}

/* ---------------------------------------------------------------- helpers */

/*
 * microca-azsync with the stack's config and APIconfig, as the ledger's
 * owner; args are more shell words. Its exit status; stdout and stderr
 * into out (reset).
 */
static int
azsync(struct mca_buf *out, const char *args)
{
	mca_buf_reset(out);
	return tu_sh(out, "%s'%s/microca-azsync' --config '%s/config.json' "
	    "--api-config '%s/APIconfig' %s 2>&1", S.root ?
	    "runuser -u www-data -- " : "", S.root ? path("bin") :
	    tu_builddir(), S.dir, S.dir, args);
}

/* One value from the ledger (sqlite3, as its owner), trimmed. */
static void
sql(const char *q, char *val, size_t len)
{
	struct mca_buf	 o = MCA_BUF_INIT;

	ck_assert_int_eq(tu_sh(&o, "%s'%s' '%s/ledger.db' \"%s\"", S.root ?
	    "runuser -u www-data -- " : "", getenv("SQLITE3"), S.dir, q), 0);
	(void)snprintf(val, len, "%.*s", (int)strcspn(mca_buf_str(&o), "\n"),
	    mca_buf_str(&o));
	mca_buf_free(&o);
}

static long long
sql_ll(const char *q)
{
	char	 v[64], *end;
	long long n;

	sql(q, v, sizeof(v));
	n = strtoll(v, &end, 10);
	ck_assert_msg(end != v && *end == '\0', "%s: \"%s\"", q, v);
	return n;
}

/* The certificate's SHA-1 thumbprint, uppercase hex (openssl's). */
static void
thumb(const char *pem, char *out, size_t len)
{
	struct mca_buf	 o = MCA_BUF_INIT;
	const char	*p;

	ck_assert_int_eq(tu_sh(&o, "'%s' x509 -in '%s' -noout -fingerprint "
	    "-sha1 | tr -d :", getenv("OPENSSL"), pem), 0);
	ck_assert_ptr_nonnull(p = strchr(mca_buf_str(&o), '='));
	(void)snprintf(out, len, "%.*s", (int)strcspn(p + 1, "\n"), p + 1);
	ck_assert_uint_eq(strlen(out), 40);
	mca_buf_free(&o);
}

static void
serial_of(const char *pem, char *serial, size_t len)
{
	struct mca_buf	 o = MCA_BUF_INIT;

	ck_assert_int_eq(tu_sh(&o, "'%s' x509 -in '%s' -noout -serial",
	    getenv("OPENSSL"), pem), 0);
	(void)snprintf(serial, len, "%.*s", (int)strcspn(mca_buf_str(&o) + 7,
	    "\n"), mca_buf_str(&o) + 7);
	mca_buf_free(&o);
}

/*
 * Enrolls CN=cn with curl (a new key, name.key; the certificate in
 * name.pem), authenticated by the bootstrap certificate, or with
 * reenroll by the certificate and key of name itself (the same key).
 */
static void
enroll(const char *name, const char *cn, int reenroll)
{
	const char	*o = getenv("OPENSSL");
	char		 auth[2048];

	if (reenroll)
		(void)snprintf(auth, sizeof(auth), "--cert '%s/%s.pem' --key "
		    "'%s/%s.key'", S.dir, name, S.dir, name);
	else
		(void)snprintf(auth, sizeof(auth), "--cert '%s/pki/boot.pem' "
		    "--key '%s/pki/boot.key'", S.dir, S.dir);
	if (!reenroll)
		ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' ecparam -genkey "
		    "-name prime256v1 -noout -out %s.key", S.dir, o, name), 0);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' req -new -key %s.key "
	    "-subj '/CN=%s' -outform DER | '%s' base64 > %s.b64 && curl -sS "
	    "--fail --max-time 300 --cacert pki/root.pem %s -H "
	    "'Content-Type: application/pkcs10' --data-binary @%s.b64 "
	    "'%s/.well-known/est/device/%s' | '%s' base64 -d | '%s' pkcs7 "
	    "-inform DER -print_certs -out %s.new && mv %s.new %s.pem",
	    S.dir, o, name, cn, o, name, auth, name, S.url, reenroll ?
	    "simplereenroll" : "simpleenroll", o, o, name, name, name), 0);
}

/* The row's azure_sync. */
static void
state_of(const char *serial, char *out, size_t len)
{
	char	 q[256];

	(void)snprintf(q, sizeof(q), "SELECT azure_sync FROM certificates "
	    "WHERE serial = '%s'", serial);
	sql(q, out, len);
}

/* Waits until every pending row's next attempt is behind us. */
static void
wait_due(void)
{
	long long	 t;

	t = sql_ll("SELECT coalesce(max(s.next_attempt), 0) FROM "
	    "azure_sync_state s JOIN certificates c ON c.id = s.cert_id "
	    "WHERE c.azure_sync = 'pending'");
	while ((long long)time(NULL) <= t)
		(void)sleep(1);
}

#define ASSERT_HAS(buf, s) ck_assert_msg(strstr(mca_buf_str(buf), (s)) != \
	NULL, "\"%s\" not in:\n%s", (s), mca_buf_str(buf))

/* ---------------------------------------------------------------- web */

/* Create, then renewal: the old primary becomes the secondary. */
START_TEST(test_create_rollover)
{
	struct mca_buf	 out = MCA_BUF_INIT, dev = MCA_BUF_INIT;
	char		 s1[130], s2[130], t1[64], t2[64], st[32], want[256];

	enroll("d1", "dev-1", 0);
	serial_of(path("d1.pem"), s1, sizeof(s1));
	state_of(s1, st, sizeof(st));
	ck_assert_str_eq(st, "pending");
	thumb(path("d1.pem"), t1, sizeof(t1));

	/* --dry-run: says what, sends and writes nothing */
	ck_assert_int_eq(azsync(&out, "--dry-run"), 0);
	ASSERT_HAS(&out, "would send device \"dev-1\" primary ");
	ASSERT_HAS(&out, t1);
	hubmock_device(&S.hub, "dev-1", &dev);
	ck_assert_str_eq(mca_buf_str(&dev), "");
	ck_assert_int_eq(azsync(&out, "--status"), 0);
	ASSERT_HAS(&out, "1 pending");
	ASSERT_HAS(&out, s1);

	ck_assert_msg(azsync(&out, "") == 0, "%s", mca_buf_str(&out));
	ASSERT_HAS(&out, "device \"dev-1\" created");
	state_of(s1, st, sizeof(st));
	ck_assert_str_eq(st, "synced");
	hubmock_device(&S.hub, "dev-1", &dev);
	(void)snprintf(want, sizeof(want), "selfSigned %s - ", t1);
	ck_assert_msg(strncmp(mca_buf_str(&dev), want, strlen(want)) == 0,
	    "%s", mca_buf_str(&dev));
	ck_assert_int_eq(hubmock_puts(&S.hub, "dev-1"), 1);
	/* nothing left: exit 0, no request */
	ck_assert_int_eq(azsync(&out, ""), 0);
	ck_assert_int_eq(hubmock_puts(&S.hub, "dev-1"), 1);

	/* the device renews: the new certificate primary, the old secondary */
	enroll("d1", "dev-1", 1);
	serial_of(path("d1.pem"), s2, sizeof(s2));
	ck_assert_str_ne(s1, s2);
	thumb(path("d1.pem"), t2, sizeof(t2));
	ck_assert_msg(azsync(&out, "") == 0, "%s", mca_buf_str(&out));
	ASSERT_HAS(&out, "device \"dev-1\" updated");
	hubmock_device(&S.hub, "dev-1", &dev);
	(void)snprintf(want, sizeof(want), "selfSigned %s %s ", t2, t1);
	ck_assert_msg(strncmp(mca_buf_str(&dev), want, strlen(want)) == 0,
	    "%s", mca_buf_str(&dev));
	ck_assert_int_eq(hubmock_puts(&S.hub, "dev-1"), 2);
	state_of(s2, st, sizeof(st));
	ck_assert_str_eq(st, "synced");
	mca_buf_free(&out);
	mca_buf_free(&dev);
}
END_TEST

/* The hub goes away, and comes back: nothing lost, each device once. */
START_TEST(test_hub_down)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 sa[130], sb[130], st[32];

	enroll("a", "dev-a", 0);
	enroll("b", "dev-b", 0);
	serial_of(path("a.pem"), sa, sizeof(sa));
	serial_of(path("b.pem"), sb, sizeof(sb));
	hubmock_stop(&S.hub);
	ck_assert_int_eq(azsync(&out, ""), 1);
	ASSERT_HAS(&out, "not synced");
	state_of(sa, st, sizeof(st));
	ck_assert_str_eq(st, "pending");
	state_of(sb, st, sizeof(st));
	ck_assert_str_eq(st, "pending");
	/* the run stopped at the first: the second was not even tried */
	ck_assert_int_eq(sql_ll("SELECT count(*) FROM azure_sync_state "
	    "WHERE attempts > 0"), 1);

	hubmock_start(&S.hub);
	wait_due();
	ck_assert_msg(azsync(&out, "") == 0, "%s", mca_buf_str(&out));
	state_of(sa, st, sizeof(st));
	ck_assert_str_eq(st, "synced");
	state_of(sb, st, sizeof(st));
	ck_assert_str_eq(st, "synced");
	ck_assert_int_eq(hubmock_puts(&S.hub, "dev-a"), 1);
	ck_assert_int_eq(hubmock_puts(&S.hub, "dev-b"), 1);
	mca_buf_free(&out);
}
END_TEST

/* 429 with Retry-After: the next attempt waits that long, past the cap. */
START_TEST(test_throttled)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 s[130], st[32], q[256];
	long long	 before, next;

	enroll("t", "dev-t", 0);
	serial_of(path("t.pem"), s, sizeof(s));
	hubmock_fault(&S.hub, "PUT", 429, 1, "120");
	before = (long long)time(NULL);
	ck_assert_int_eq(azsync(&out, ""), 1);
	state_of(s, st, sizeof(st));
	ck_assert_str_eq(st, "pending");
	(void)snprintf(q, sizeof(q), "SELECT s.next_attempt FROM "
	    "azure_sync_state s JOIN certificates c ON c.id = s.cert_id "
	    "WHERE c.serial = '%s'", s);
	next = sql_ll(q);
	ck_assert_msg(next >= before + 120, "next %lld, before %lld", next,
	    before);
	(void)snprintf(q, sizeof(q), "SELECT s.last_status FROM "
	    "azure_sync_state s JOIN certificates c ON c.id = s.cert_id "
	    "WHERE c.serial = '%s'", s);
	ck_assert_int_eq(sql_ll(q), 429);
	/* not due yet: a run does nothing and succeeds */
	ck_assert_int_eq(azsync(&out, ""), 0);
	ck_assert_int_eq(hubmock_puts(&S.hub, "dev-t"), 0);
	mca_buf_free(&out);
}
END_TEST

/* A wrong key: 401, the row stays pending; the key never logged. */
START_TEST(test_wrong_key)
{
	struct mca_buf	 out = MCA_BUF_INIT, dev = MCA_BUF_INIT;
	char		 s[130], st[32], q[256];

	enroll("w", "dev-w", 0);
	serial_of(path("w.pem"), s, sizeof(s));
	write_api(BAD_KEY, NULL, NULL);
	ck_assert_int_eq(azsync(&out, "--debugMode"), 1);
	ck_assert_ptr_null(strstr(mca_buf_str(&out), BAD_KEY));
	ck_assert_ptr_null(strstr(mca_buf_str(&out), "sig="));
	state_of(s, st, sizeof(st));
	ck_assert_str_eq(st, "pending");
	(void)snprintf(q, sizeof(q), "SELECT s.last_status FROM "
	    "azure_sync_state s JOIN certificates c ON c.id = s.cert_id "
	    "WHERE c.serial = '%s'", s);
	ck_assert_int_eq(sql_ll(q), 401);
	hubmock_device(&S.hub, "dev-w", &dev);
	ck_assert_str_eq(mca_buf_str(&dev), "");

	/* the right key: synced */
	write_api(HUB_KEY, NULL, NULL);
	wait_due();
	ck_assert_msg(azsync(&out, "") == 0, "%s", mca_buf_str(&out));
	state_of(s, st, sizeof(st));
	ck_assert_str_eq(st, "synced");
	mca_buf_free(&out);
	mca_buf_free(&dev);
}
END_TEST

/* An expired static token: a clear error, exit 2, no request. */
START_TEST(test_expired_token)
{
	struct mca_buf	 out = MCA_BUF_INIT, log = MCA_BUF_INIT;
	char		 s[130], st[32];

	enroll("x", "dev-x", 0);
	serial_of(path("x.pem"), s, sizeof(s));
	write_api(NULL, "SharedAccessSignature sr=" HUB_HOST
	    "&sig=c2lnbmF0dXJl&se=1000000000&skn=" HUB_POLICY, NULL);
	ck_assert_int_eq(azsync(&out, ""), 2);
	ASSERT_HAS(&out, "azurehubcreds: the SAS token expired at "
	    "2001-09-09T01:46:40Z");
	ck_assert_ptr_null(strstr(mca_buf_str(&out), "c2lnbmF0dXJl"));
	hubmock_log(&S.hub, &log);
	ck_assert_str_eq(mca_buf_str(&log), "");
	state_of(s, st, sizeof(st));
	ck_assert_str_eq(st, "pending");
	mca_buf_free(&out);
	mca_buf_free(&log);
}
END_TEST

/* ---------------------------------------------------------------- workflow */

/*
 * AppViewX workflow mode: the mock gateway in mode (the device name's
 * certificate the one it expects), config.json's
 * mtls_azure_device_registration pointing at it with poll_count polls
 * one second apart, and our mTLS identity the bootstrap certificate the
 * mock accepts; the APIconfig with
 * update_azure_iot_hub_from_standalone_server false. preexisting: the
 * mock knows REQID already (submitted by an earlier run); the log is
 * started afresh.
 */
static void
wf_up(const char *name, const char *cn, enum avxwfmock_mode mode,
    int polls_before, int preexisting, int poll_count)
{
	char	 extra[4096], pem[64];

	avxwfmock_stop(&S.wf);
	(void)snprintf(pem, sizeof(pem), "%s.pem", name);
	mca_buf_free(&S.wfpem);
	ck_assert_int_eq(tu_read(path(pem), &S.wfpem), 0);
	thumb(path(pem), S.wfthumb, sizeof(S.wfthumb));
	(void)snprintf(S.wflog, sizeof(S.wflog), "%s", path("wf.log"));
	(void)unlink(S.wflog);
	memset(&S.wf, 0, sizeof(S.wf));
	S.wf.pki = S.hubpki;
	S.wf.log = S.wflog;
	S.wf.workflow = WORKFLOW;
	S.wf.azure_account = ACCOUNT;
	S.wf.device_id = cn;
	S.wf.primary = S.wfthumb;
	S.wf.cert_pem = mca_buf_str(&S.wfpem);
	S.wf.request_id = REQID;
	S.wf.preexisting = preexisting;
	S.wf.polls_before = polls_before;
	S.wf.fail_message = FAILMSG;
	S.wf.mode = mode;
	avxwfmock_start(&S.wf);

	(void)snprintf(extra, sizeof(extra),
	    " \"upstream_ca_cert\": \"%s/pki/root.pem\",\n"
	    " \"mtls_azure_device_registration\": {\n"
	    "  \"appviewx_hostname\": \"localhost\", \"port\": %u,\n"
	    "  \"azure_device_registration_workflow\": \"" WORKFLOW "\",\n"
	    "  \"poll_count\": %d, \"poll_interval\": 1,\n"
	    "  \"azure_account\": \"" ACCOUNT "\" },\n"
	    " \"mtls_client_auth_cert_config\": {\n"
	    "  \"mtls_auth_cert_path\": \"%s/pki/boot.pem\",\n"
	    "  \"mtls_auth_key_path\": \"%s/pki/boot.key\" },\n",
	    S.dir, S.wf.port, poll_count, S.dir, S.dir);
	write_config(extra);
	ck_assert_int_eq(tu_writef(path("APIconfig"),
	    "{\n"
	    " \"appviewx_hostname\": \"localhost\",\n"
	    " \"appviewx_port_number\": %u,\n"
	    " \"azure_backoff_max_seconds\": 1,\n"
	    " \"update_azure_iot_hub_from_standalone_server\": false\n"
	    "}\n", S.wf.port), 0);
	ck_assert_int_eq(chmod(path("APIconfig"), 0600), 0);
	if (S.root)
		ck_assert_int_eq(tu_sh(NULL, "chown www-data: '%s'",
		    path("APIconfig")), 0);
}

/* How many lines of the mock's log start with prefix. */
static int
wf_count(const char *prefix)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	const char	*p;
	int		 n = 0;

	if (tu_read(S.wflog, &b) != 0)
		return 0;
	for (p = mca_buf_str(&b); p != NULL && *p != '\0'; ) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	mca_buf_free(&b);
	return n;
}

/* (the mock answers a submit it finds wrong in any field with a 400) */
#define WF_SUBMITS()	wf_count("POST /avxapi/visualworkflow-submit-request" \
			    "?gwsource=external 200")
#define WF_POSTS()	wf_count("POST ")
#define WF_POLLS()	wf_count("GET /avxapi/visualworkflow-request-logs" \
			    "?gwsource=external&ids=" REQID " 200")
#define WF_GETS()	wf_count("GET ")

/* One column of the row's azure_sync_state. */
static void
wf_state(const char *serial, const char *col, char *out, size_t len)
{
	char	 q[512];

	(void)snprintf(q, sizeof(q), "SELECT coalesce(s.%s, '') FROM "
	    "azure_sync_state s JOIN certificates c ON c.id = s.cert_id "
	    "WHERE c.serial = '%s'", col, serial);
	sql(q, out, len);
}

/*
 * The workflow succeeds after an "In Progress": exit 0, the row synced,
 * one submit (the mock checked the device ID, the thumbprint, the
 * account and the certificate) and two polls; a second run sends
 * nothing.
 */
START_TEST(test_wf_success)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 s[130], st[32];

	enroll("w1", "wf-1", 0);
	serial_of(path("w1.pem"), s, sizeof(s));
	wf_up("w1", "wf-1", WM_SUCCESS, 1, 0, 3);
	ck_assert_msg(azsync(&out, "") == 0, "%s", mca_buf_str(&out));
	ASSERT_HAS(&out, "device \"wf-1\" ");
	ASSERT_HAS(&out, S.wfthumb);
	state_of(s, st, sizeof(st));
	ck_assert_str_eq(st, "synced");
	ck_assert_int_eq(WF_SUBMITS(), 1);
	ck_assert_int_eq(WF_POSTS(), 1);
	ck_assert_int_eq(WF_POLLS(), 2);
	ck_assert_int_eq(WF_GETS(), 2);
	/* nothing due: no request */
	ck_assert_msg(azsync(&out, "") == 0, "%s", mca_buf_str(&out));
	ck_assert_int_eq(WF_POSTS(), 1);
	ck_assert_int_eq(WF_GETS(), 2);
	mca_buf_free(&out);
}
END_TEST

/*
 * The workflow reports failure: exit 1, the row 'failed' (another
 * attempt cannot change it: microca-admin azure retry), the workflow's
 * message in last_error.
 */
START_TEST(test_wf_failed)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 s[130], st[32], err[600];

	enroll("w2", "wf-1", 0);
	serial_of(path("w2.pem"), s, sizeof(s));
	wf_up("w2", "wf-1", WM_FAIL, 0, 0, 3);
	ck_assert_int_eq(azsync(&out, ""), 1);
	ASSERT_HAS(&out, FAILMSG);
	state_of(s, st, sizeof(st));
	ck_assert_str_eq(st, "failed");
	wf_state(s, "last_error", err, sizeof(err));
	ck_assert_msg(strstr(err, FAILMSG) != NULL, "last_error \"%s\"", err);
	ck_assert_int_eq(WF_SUBMITS(), 1);
	ck_assert_int_eq(WF_POLLS(), 1);
	/* not tried again by itself */
	ck_assert_int_eq(azsync(&out, ""), 0);
	ck_assert_int_eq(WF_POSTS(), 1);
	ck_assert_int_eq(WF_GETS(), 1);
	state_of(s, st, sizeof(st));
	ck_assert_str_eq(st, "failed");
	mca_buf_free(&out);
}
END_TEST

/*
 * Still "In Progress" after poll_count polls: exit 1, the row pending
 * with the request id kept, exactly poll_count polls. The workflow then
 * finishes: the next run polls that request, never submitting again.
 */
START_TEST(test_wf_resume)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 s[130], st[32], id[160];

	enroll("w3", "wf-3", 0);
	serial_of(path("w3.pem"), s, sizeof(s));
	wf_up("w3", "wf-3", WM_NEVER, 0, 0, 2);
	ck_assert_int_eq(azsync(&out, ""), 1);
	ASSERT_HAS(&out, "not synced");
	state_of(s, st, sizeof(st));
	ck_assert_str_eq(st, "pending");
	wf_state(s, "request_id", id, sizeof(id));
	ck_assert_str_eq(id, REQID);
	ck_assert_int_eq(WF_SUBMITS(), 1);
	ck_assert_int_eq(WF_POSTS(), 1);
	ck_assert_int_eq(WF_POLLS(), 2);
	ck_assert_int_eq(WF_GETS(), 2);
	ck_assert_int_eq(azsync(&out, "--status"), 0);
	ASSERT_HAS(&out, REQID);

	/* the workflow has finished meanwhile (a new log) */
	wf_up("w3", "wf-3", WM_SUCCESS, 0, 1, 2);
	wait_due();
	ck_assert_msg(azsync(&out, "") == 0, "%s", mca_buf_str(&out));
	state_of(s, st, sizeof(st));
	ck_assert_str_eq(st, "synced");
	ck_assert_int_eq(WF_POSTS(), 0);
	ck_assert_int_eq(WF_POLLS(), 1);
	ck_assert_int_eq(WF_GETS(), 1);
	mca_buf_free(&out);
}
END_TEST

/* ---------------------------------------------------------------- queue */

/* Uppercase hex of md over x's DER. */
static void
hexdigest(X509 *x, const EVP_MD *md, char out[65])
{
	unsigned char	 h[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0, i;

	ck_assert_int_eq(X509_digest(x, md, h, &n), 1);
	for (i = 0; i < n && i < 32; i++)
		(void)snprintf(out + 2 * i, 3, "%02X", h[i]);
}

/*
 * count certificates CN=prefix-NNNN, pending, inserted through the
 * ledger API (self-signed: the hub cares for the CN and the DER).
 */
static void
fill(const char *prefix, int count)
{
	struct mca_ledger	*l = NULL;
	struct mca_ledger_cert	 c;
	struct mca_diag		 d;
	EVP_PKEY		*k;
	X509			*x;
	BIO			*b;
	BUF_MEM			*m;
	char			 cn[64], serial[64], subj[80], *pem;
	char			 sha1[65], sha256[65];
	int			 i, rc;

	ck_assert_msg(mca_ledger_open(path("ledger.db"), 0, &l, &d) == 0,
	    "%s", d.msg);
	ck_assert_ptr_nonnull(k = EVP_EC_gen("P-256"));
	for (i = 0; i < count; i++) {
		(void)snprintf(cn, sizeof(cn), "%s-%04d", prefix, i);
		(void)snprintf(serial, sizeof(serial), "%s%04X",
		    prefix[0] == 'b' ? "B0" : "C0", i);
		(void)snprintf(subj, sizeof(subj), "CN=%s", cn);
		x = tu_selfsigned(cn, k);
		ck_assert_ptr_nonnull(b = BIO_new(BIO_s_mem()));
		ck_assert_int_eq(PEM_write_bio_X509(b, x), 1);
		ck_assert_int_eq(BIO_write(b, "", 1), 1);
		BIO_get_mem_ptr(b, &m);
		pem = m->data;
		memset(&c, 0, sizeof(c));
		c.serial = serial;
		c.subject = subj;
		c.issuer = subj;
		c.not_before = "2026-01-01T00:00:00Z";
		c.not_after = "2027-01-01T00:00:00Z";
		c.label = "device";
		c.operation = "enroll";
		c.key_type = "EC P-256";
		c.pem = pem;
		hexdigest(x, EVP_sha1(), sha1);
		hexdigest(x, EVP_sha256(), sha256);
		c.sha1 = sha1;
		c.sha256 = sha256;
		c.azure_pending = 1;
		c.auth_method = "certificate";
		rc = mca_ledger_insert_cert(l, &c);
		ck_assert_msg(rc == 0, "%s: %s", serial,
		    mca_ledger_errmsg(l, rc));
		BIO_free(b);
		X509_free(x);
	}
	EVP_PKEY_free(k);
	mca_ledger_close(l);
	if (S.root)
		ck_assert_int_eq(tu_sh(NULL, "chown www-data: '%s'/ledger.db*",
		    S.dir), 0);
}

/* A thousand queued devices, drained in one run, each created once. */
START_TEST(test_thousand)
{
	struct mca_buf	 out = MCA_BUF_INIT, log = MCA_BUF_INIT;
	const char	*p;
	int		 puts = 0;

	fill("bulk", BULK);
	ck_assert_int_eq(sql_ll("SELECT count(*) FROM certificates WHERE "
	    "azure_sync = 'pending'"), BULK);
	ck_assert_msg(azsync(&out, "") == 0, "%.2000s", mca_buf_str(&out));
	ck_assert_int_eq(sql_ll("SELECT count(*) FROM certificates WHERE "
	    "azure_sync = 'synced'"), BULK);
	hubmock_log(&S.hub, &log);
	for (p = mca_buf_str(&log); (p = strstr(p, "PUT ")) != NULL; p++)
		puts++;
	ck_assert_int_eq(puts, BULK);
	ck_assert_int_eq(hubmock_puts(&S.hub, "bulk-0000"), 1);
	ck_assert_int_eq(hubmock_puts(&S.hub, "bulk-0999"), 1);
	mca_buf_free(&out);
	mca_buf_free(&log);
}
END_TEST

/*
 * kill -9 in the middle of a batch: the hub frozen (SIGSTOP) while the
 * run is at some row, the run killed, the hub thawed; the rerun
 * completes, and no device is changed twice.
 */
START_TEST(test_kill9)
{
	struct mca_buf	 out = MCA_BUF_INIT, pid = MCA_BUF_INIT;
	char		 id[64];
	long		 p;
	int		 i;

	fill("kill", KILL_ROWS);
	ck_assert_int_eq(tu_sh(&pid, "%s'%s/microca-azsync' --config "
	    "'%s/config.json' --api-config '%s/APIconfig' >'%s/k.log' 2>&1 & "
	    "echo $!", S.root ? "runuser -u www-data -- " : "", S.root ?
	    path("bin") : tu_builddir(), S.dir, S.dir, S.dir), 0);
	p = strtol(mca_buf_str(&pid), NULL, 10);
	ck_assert_int_gt(p, 0);
	/* some rows synced, then the hub stops answering */
	while (sql_ll("SELECT count(*) FROM certificates WHERE azure_sync = "
	    "'synced'") < 3)
		(void)usleep(20000);
	ck_assert_int_eq(kill(S.hub.pid, SIGSTOP), 0);
	(void)usleep(200000);
	/* runuser's child is the tool: kill the whole group of them */
	(void)tu_sh(NULL, "pkill -9 -P %ld; kill -9 %ld", p, p);
	ck_assert_int_eq(kill(S.hub.pid, SIGCONT), 0);
	ck_assert_int_lt(sql_ll("SELECT count(*) FROM certificates WHERE "
	    "azure_sync = 'synced'"), KILL_ROWS);

	wait_due();
	ck_assert_msg(azsync(&out, "") == 0, "%s", mca_buf_str(&out));
	ck_assert_int_eq(sql_ll("SELECT count(*) FROM certificates WHERE "
	    "azure_sync = 'synced'"), KILL_ROWS);
	for (i = 0; i < KILL_ROWS; i++) {
		(void)snprintf(id, sizeof(id), "kill-%04d", i);
		ck_assert_msg(hubmock_puts(&S.hub, id) == 1, "%s: %d PUTs",
		    id, hubmock_puts(&S.hub, id));
	}
	mca_buf_free(&out);
	mca_buf_free(&pid);
}
END_TEST

/*
 * Issue 16: a revoked certificate's thumbprint is never pushed. The row
 * fails for good with the reason as its last error (logged once); on
 * hold too, with how to queue it again once released.
 */
START_TEST(test_revoked)
{
	struct mca_buf		 out = MCA_BUF_INIT;
	struct mca_revoke_req	 r;
	struct mca_ledger	*l = NULL;
	struct mca_diag		 d;
	char			 st[32], err[512];

	fill("rev", 3);
	ck_assert_msg(mca_ledger_open(path("ledger.db"), 0, &l, &d) == 0,
	    "%s", d.msg);
	memset(&r, 0, sizeof(r));
	r.serial = "C00000";
	r.reason = MCA_REVOKE_KEY_COMPROMISE;
	r.by = "test";
	ck_assert_msg(mca_revoke_cert(l, &r, NULL, NULL, NULL, &d) == 0, "%s",
	    d.msg);
	r.serial = "C00001";
	r.reason = MCA_REVOKE_CERTIFICATE_HOLD;
	ck_assert_msg(mca_revoke_cert(l, &r, NULL, NULL, NULL, &d) == 0, "%s",
	    d.msg);
	mca_ledger_close(l);
	if (S.root)
		ck_assert_int_eq(tu_sh(NULL, "chown www-data: '%s'/ledger.db*",
		    S.dir), 0);

	ck_assert_int_eq(azsync(&out, "--dry-run"), 0);
	ASSERT_HAS(&out, "is revoked (keyCompromise");
	ck_assert_int_eq(hubmock_puts(&S.hub, "rev-0000"), 0);
	ck_assert_int_eq(azsync(&out, ""), 1);
	ASSERT_HAS(&out, "is revoked (keyCompromise");
	ASSERT_HAS(&out, "is revoked (certificateHold");
	state_of("C00000", st, sizeof(st));
	ck_assert_str_eq(st, "failed");
	state_of("C00001", st, sizeof(st));
	ck_assert_str_eq(st, "failed");
	state_of("C00002", st, sizeof(st));
	ck_assert_str_eq(st, "synced");
	sql("SELECT s.last_error FROM azure_sync_state s JOIN certificates c "
	    "ON c.id = s.cert_id WHERE c.serial = 'C00001'", err, sizeof(err));
	ck_assert_msg(strstr(err, "microca-admin azure retry") != NULL, "%s",
	    err);
	ck_assert_int_eq(hubmock_puts(&S.hub, "rev-0000"), 0);
	ck_assert_int_eq(hubmock_puts(&S.hub, "rev-0001"), 0);
	ck_assert_int_eq(hubmock_puts(&S.hub, "rev-0002"), 1);
	/* Logged once: the next run has nothing to do. */
	ck_assert_int_eq(azsync(&out, ""), 0);
	ck_assert_ptr_null(strstr(mca_buf_str(&out), "revoked"));
	mca_buf_free(&out);
}
END_TEST

/* Two runs never overlap: the second exits 75; bad usage exits 2. */
START_TEST(test_lock)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	fill("lock", 1);
	/* flock(1) holds the lock file while the tool runs */
	ck_assert_int_eq(tu_sh(&out, "%sflock '%s/microca-azsync.lock' "
	    "'%s/microca-azsync' --config '%s/config.json' --api-config "
	    "'%s/APIconfig' 2>&1", S.root ? "runuser -u www-data -- " : "",
	    S.dir, S.root ? path("bin") : tu_builddir(), S.dir, S.dir), 75);
	ck_assert_int_eq(hubmock_puts(&S.hub, "lock-0000"), 0);
	ck_assert_int_eq(azsync(&out, "--bogus"), 2);
	ASSERT_HAS(&out, "unknown option --bogus");
	ck_assert_int_eq(azsync(&out, "--watch --status"), 2);
	ck_assert_int_eq(azsync(&out, ""), 0);
	ck_assert_int_eq(hubmock_puts(&S.hub, "lock-0000"), 1);
	mca_buf_free(&out);
}
END_TEST

static TCase *
tcase(const char *name, void (*start)(void), const TTest *t)
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, start, stack_stop);
	tcase_add_test(tc, t);
	return tc;
}

int
main(void)
{
	Suite	*s = suite_create("azsync");

	suite_add_tcase(s, tcase("create-rollover", web_start,
	    test_create_rollover));
	suite_add_tcase(s, tcase("hub-down", web_start, test_hub_down));
	suite_add_tcase(s, tcase("throttled", web_start, test_throttled));
	suite_add_tcase(s, tcase("wrong-key", web_start, test_wrong_key));
	suite_add_tcase(s, tcase("expired-token", web_start,
	    test_expired_token));
	suite_add_tcase(s, tcase("wf-success", web_start, test_wf_success));
	suite_add_tcase(s, tcase("wf-failed", web_start, test_wf_failed));
	suite_add_tcase(s, tcase("wf-resume", web_start, test_wf_resume));
	suite_add_tcase(s, tcase("kill9", queue_start, test_kill9));
	suite_add_tcase(s, tcase("thousand", queue_start, test_thousand));
	suite_add_tcase(s, tcase("usage", queue_start, test_lock));
	suite_add_tcase(s, tcase("revoked", queue_start, test_revoked));
	return tu_run(s);
}
