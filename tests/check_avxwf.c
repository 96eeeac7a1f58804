/*
 * lib/avxwf.c, the AppViewX workflow mode of the Azure IoT Hub sync,
 * against tests/avxwfmock.c: a real HTTPS server on loopback that
 * requires a client certificate of the test PKI (mTLS) and checks the
 * submit payload strictly. Success after some polls, a failure status with
 * its message, no final status after poll_count polls (the mock counts
 * them), resuming a request by its id (no second submit), a client
 * without a certificate or with one the server does not trust, and
 * answers that are not what the AppViewX guides show. The sleep hook
 * counts the waits: nothing really sleeps, and nothing depends on speed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avxwf.h"
#include "avxwfmock.h"
#include "buf.h"
#include "err.h"
#include "httpc.h"
#include "testutil.h"
#include "tlsserv.h"

Suite	*avxwf_suite(void);

#define WORKFLOW	"Azure Device Registration"
#define ACCOUNT		"iot-prod (West Europe)"
#define DEVICE		"device-0001"
#define REQID		"4711"
#define FAILMSG		"Azure IoT Hub said: Device device-0001 " \
			"thumbprint conflict"

static char	*dir;
static char	 sha1[41], sha256[65];
static struct mca_buf	 devpem = MCA_BUF_INIT;

static char *
path(const char *name)
{
	static char	 p[8][1024];
	static int	 i;

	i = (i + 1) % 8;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* The fingerprint openssl prints, without its colons, into out. */
static void
fingerprint(const char *file, const char *md, char *out, size_t len)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	const char	*s;
	size_t		 n = 0;

	ck_assert_int_eq(tu_sh(&b, "'%s' x509 -in '%s' -noout -fingerprint "
	    "-%s", tu_openssl(), file, md), 0);
	ck_assert_ptr_nonnull(s = strchr(mca_buf_str(&b), '='));
	for (s++; *s != '\0' && *s != '\n'; s++)
		if (*s != ':' && n + 1 < len)
			out[n++] = *s;
	out[n] = '\0';
	mca_buf_free(&b);
}

static void
setup(void)
{
	dir = tu_mkdtemp("avxwf");
	ck_assert_int_eq(tu_mkpki(path("pki"), "file"), 0);
	/* The device certificate: one the test PKI made, hashed by openssl. */
	ck_assert_int_eq(tu_read(path("pki/maker-dev.pem"), &devpem), 0);
	fingerprint(path("pki/maker-dev.pem"), "sha1", sha1, sizeof(sha1));
	fingerprint(path("pki/maker-dev.pem"), "sha256", sha256,
	    sizeof(sha256));
	ck_assert_uint_eq(strlen(sha1), 40);
	ck_assert_uint_eq(strlen(sha256), 64);
}

static void
teardown(void)
{
	mca_buf_free(&devpem);
	tu_rmtree(dir);
	free(dir);
	dir = NULL;
}

/* Counts the waits the library asks for, and their seconds. */
struct sleeps {
	int	 n, secs;
};

static void
count_sleep(void *arg, int secs)
{
	struct sleeps	*s = arg;

	s->n++;
	s->secs += secs;
}

/* Everything one test needs. */
struct fx {
	struct avxwfmock	 m;
	struct mca_avxwf	 w;
	struct mca_avxwf_req	 q;
	struct mca_httpc_tls	 tls;
	struct sleeps		 sl;
	char			 resolve[128];
	/* path() reuses its buffers: what must last is kept here */
	char			 pki[1024], log[1024], ca[1024];
	char			 cert[1024], key[1024];
};

/* Our identity: the test PKI's name.pem and name.key. */
static void
identity(struct fx *f, const char *name)
{
	(void)snprintf(f->cert, sizeof(f->cert), "%s/pki/%s.pem", dir, name);
	(void)snprintf(f->key, sizeof(f->key), "%s/pki/%s.key", dir, name);
	f->tls.certfile = f->cert;
	f->tls.keyfile = f->key;
}

/* The mock in mode, and a client for it with the bootstrap identity. */
static void
start(struct fx *f, enum avxwfmock_mode mode, int polls_before)
{
	memset(f, 0, sizeof(*f));
	(void)snprintf(f->pki, sizeof(f->pki), "%s/pki", dir);
	(void)snprintf(f->log, sizeof(f->log), "%s/requests.log", dir);
	(void)snprintf(f->ca, sizeof(f->ca), "%s/pki/root.pem", dir);
	f->m.pki = f->pki;
	f->m.log = f->log;
	(void)unlink(f->m.log);
	f->m.workflow = WORKFLOW;
	f->m.azure_account = ACCOUNT;
	f->m.device_id = DEVICE;
	f->m.primary = sha1;
	f->m.secondary = NULL;
	f->m.cert_pem = mca_buf_str(&devpem);
	f->m.request_id = REQID;
	f->m.polls_before = polls_before;
	f->m.fail_message = FAILMSG;
	f->m.mode = mode;

	f->tls.cafile = f->ca;
	identity(f, "boot");
	f->w.host = "localhost";
	f->w.workflow = WORKFLOW;
	f->w.azure_account = ACCOUNT;
	f->w.poll_count = 6;
	f->w.poll_interval = 3;
	f->w.tls = &f->tls;
	f->w.resolve = f->resolve;
	f->w.timeout = 120;
	f->w.sleep_fn = count_sleep;
	f->w.sleep_arg = &f->sl;
	f->q.device_id = DEVICE;
	f->q.primary = sha1;
	f->q.cert_pem = mca_buf_str(&devpem);
}

/* Starts the mock set up by start() (after the test's changes to it). */
static void
go(struct fx *f)
{
	avxwfmock_start(&f->m);
	f->w.port = f->m.port;
	(void)snprintf(f->resolve, sizeof(f->resolve), "localhost:%u:127.0.0.1",
	    f->m.port);
}

/* How many lines of the mock's log start with prefix. */
static int
count(const char *prefix)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	const char	*p;
	int		 n = 0;

	if (tu_read(path("requests.log"), &b) != 0)
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

#define SUBMITS()	count("POST /avxapi/visualworkflow-submit-request" \
			    "?gwsource=external")
#define POLLS()		count("GET /avxapi/visualworkflow-request-logs" \
			    "?gwsource=external")

/* The mock's log, for failure messages (static buffer). */
static const char *
log_text(void)
{
	static char	 t[4096];
	struct mca_buf	 b = MCA_BUF_INIT;

	t[0] = '\0';
	if (tu_read(path("requests.log"), &b) == 0)
		(void)snprintf(t, sizeof(t), "%s", mca_buf_str(&b));
	mca_buf_free(&b);
	return t;
}

/* d is one line that holds want. */
static void
assert_line(const struct mca_diag *d, const char *want)
{
	ck_assert_msg(strstr(d->msg, want) != NULL, "\"%s\" not in \"%s\"",
	    want, d->msg);
	ck_assert_ptr_null(strchr(d->msg, '\n'));
	ck_assert_ptr_null(strchr(d->msg, '\r'));
}

/* ---------------------------------------------------------------- tests */

/*
 * Success after K "In Progress" polls: one submit, K + 1 polls, a wait of
 * poll_interval before each. SHA-1 and SHA-256 thumbprints, with and
 * without a secondary, gwkey or not, the status answer an array or an
 * object, the request id in its field or only in the message.
 */
START_TEST(test_success)
{
	struct fx		 f;
	struct mca_avxwf_result	 r;
	struct mca_diag		 d;
	const int		 k = _i;	/* polls before success */

	start(&f, WM_SUCCESS, k);
	if (_i & 1) {
		f.m.primary = f.q.primary = sha256;
		f.m.secondary = f.q.secondary = "0123456789ABCDEF0123456789"
		    "ABCDEF0123456789ABCDEF0123456789ABCDEF";
		f.m.gwkey = f.w.gwkey = "tenant-7";
	}
	f.m.status_object = _i == 2;
	f.m.id_in_message = _i == 3;
	go(&f);
	ck_assert_msg(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d) == 0,
	    "%s\n%s", d.msg, log_text());
	ck_assert_str_eq(r.request_id, REQID);
	ck_assert_str_eq(r.status, "Success");
	ck_assert_int_eq(r.http, 200);
	ck_assert_int_eq(SUBMITS(), 1);
	ck_assert_int_eq(POLLS(), k + 1);
	ck_assert_int_eq(f.sl.n, k + 1);
	ck_assert_int_eq(f.sl.secs, 3 * (k + 1));
	ck_assert_int_eq(count("TLS"), 0);
	avxwfmock_stop(&f.m);
}
END_TEST

/* The workflow fails: MCA_ERR_POLICY, its message in one line. */
START_TEST(test_failure)
{
	struct fx		 f;
	struct mca_avxwf_result	 r;
	struct mca_diag		 d;

	start(&f, WM_FAIL, 2);
	go(&f);
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_POLICY);
	assert_line(&d, "request " REQID " for device " DEVICE ": Failed: "
	    FAILMSG);
	assert_line(&d, WORKFLOW);
	ck_assert_str_eq(r.request_id, REQID);
	ck_assert_str_eq(r.status, "Failed");
	ck_assert_int_eq(SUBMITS(), 1);
	ck_assert_int_eq(POLLS(), 3);
	avxwfmock_stop(&f.m);
}
END_TEST

/*
 * Never finishes: MCA_ERR_BUSY after exactly poll_count polls (as the
 * mock counts them), poll_count waits; the request id is kept for the
 * next run.
 */
START_TEST(test_timeout)
{
	static const int	 polls[] = { 1, 6, 17 };
	struct fx		 f;
	struct mca_avxwf_result	 r;
	struct mca_diag		 d;
	char			 want[128];

	start(&f, WM_NEVER, 0);
	f.w.poll_count = polls[_i];
	f.w.poll_interval = 5;
	go(&f);
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_BUSY);
	(void)snprintf(want, sizeof(want), "no final status after %d polls 5 "
	    "s apart; last: status \"In Progress\"", polls[_i]);
	assert_line(&d, want);
	ck_assert_str_eq(r.request_id, REQID);
	ck_assert_str_eq(r.status, "In Progress");
	ck_assert_int_eq(SUBMITS(), 1);
	ck_assert_int_eq(POLLS(), polls[_i]);
	ck_assert_int_eq(f.sl.n, polls[_i]);
	ck_assert_int_eq(f.sl.secs, 5 * polls[_i]);
	avxwfmock_stop(&f.m);
}
END_TEST

/*
 * Resume: a request an earlier run submitted is polled by its id, never
 * submitted again; its first poll without a wait. Then one the mock does
 * not know: refused, named.
 */
START_TEST(test_resume)
{
	struct fx		 f;
	struct mca_avxwf_result	 r;
	struct mca_diag		 d;

	start(&f, WM_SUCCESS, 1);
	f.m.preexisting = 1;
	go(&f);
	ck_assert_msg(mca_avxwf_register(&f.w, &f.q, REQID, &r, &d) == 0,
	    "%s\n%s", d.msg, log_text());
	ck_assert_str_eq(r.request_id, REQID);
	ck_assert_int_eq(SUBMITS(), 0);
	ck_assert_int_eq(POLLS(), 2);
	ck_assert_int_eq(f.sl.n, 1);

	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, "4712", &r, &d),
	    MCA_ERR_POLICY);
	assert_line(&d, "appStatusCode WORKFLOW_1300: Workflow Request ID 4712 "
	    "is not found");
	ck_assert_str_eq(r.request_id, "4712");
	ck_assert_int_eq(SUBMITS(), 0);

	/* A resume id that is no word is refused before any call. */
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, "47 11&x=1", &r, &d),
	    MCA_ERR_INVAL);
	assert_line(&d, "request id to resume");
	ck_assert_int_eq(POLLS(), 3);
	avxwfmock_stop(&f.m);
}
END_TEST

/*
 * mTLS: no client certificate is refused here before any call; one the
 * server does not trust is refused in the handshake, and no request is
 * served. Over TLS 1.2 the server judges our certificate inside the
 * handshake: a TLS error, MCA_ERR_CRYPTO. Over TLS 1.3 it does so after
 * our side is done: its alert may come as a read error, or the line may be
 * gone first (which one is a matter of timing): MCA_ERR_CRYPTO, or
 * MCA_ERR_BUSY.
 */
START_TEST(test_mtls)
{
	struct fx		 f;
	struct mca_avxwf_result	 r;
	struct mca_diag		 d;
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	struct mca_httpc_tls	 anon;
	char			 url[256];
	int			 rc;

	start(&f, WM_SUCCESS, 0);
	f.m.tls12 = _i == 0;
	go(&f);
	f.w.tls = NULL;
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_CONFIG);
	assert_line(&d, "no mTLS client certificate");
	f.w.tls = &f.tls;
	f.tls.certfile = NULL;
	f.tls.keyfile = NULL;
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_CONFIG);
	ck_assert_int_eq(SUBMITS(), 0);
	ck_assert_int_eq(count("TLS"), 0);

	/* A certificate of a CA the server does not know. */
	identity(&f, "foreign");
	rc = mca_avxwf_register(&f.w, &f.q, NULL, &r, &d);
	if (_i == 0) {
		ck_assert_msg(rc == MCA_ERR_CRYPTO, "%d %s", rc, d.msg);
		assert_line(&d, "alert");
	} else
		ck_assert_msg(rc == MCA_ERR_CRYPTO || rc == MCA_ERR_BUSY,
		    "%d %s", rc, d.msg);
	assert_line(&d, "POST https://localhost:");
	ck_assert_str_eq(r.request_id, "");

	/*
	 * The bootstrap certificate again: served. The mock serves one
	 * connection after the other, so its log holds the refusal by now.
	 */
	identity(&f, "boot");
	ck_assert_msg(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d) == 0, "%s",
	    d.msg);
	ck_assert_int_eq(SUBMITS(), 1);
	ck_assert_int_eq(count("TLS - refused"), 1);

	/*
	 * The mock really requires one: a client without a certificate (made
	 * with lib/httpc.c itself, as lib/avxwf.c will not) is refused in the
	 * handshake too.
	 */
	memset(&req, 0, sizeof(req));
	memset(&anon, 0, sizeof(anon));
	anon.cafile = f.ca;
	req.method = "GET";
	req.url = url;
	req.ctype = "application/json";
	req.tls = &anon;
	req.resolve = f.resolve;
	(void)snprintf(url, sizeof(url), "https://localhost:%u/avxapi/"
	    "visualworkflow-request-logs?gwsource=external&ids=" REQID,
	    f.m.port);
	ck_assert_int_ne(mca_httpc_do(&req, &resp, &d), 0);
	if (_i == 0)
		assert_line(&d, "alert");
	mca_httpc_resp_free(&resp);
	anon.certfile = f.cert;
	anon.keyfile = f.key;
	ck_assert_msg(mca_httpc_do(&req, &resp, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(resp.status, 200);
	mca_httpc_resp_free(&resp);
	ck_assert_int_eq(count("TLS - refused"), 2);
	avxwfmock_stop(&f.m);
}
END_TEST

/* Answers that are not what the guides show, and the server's failures. */
static const struct fault {
	enum avxwfmock_mode	 mode;
	int			 rc;
	int			 submits, polls;
	const char		*line;
} faults[] = {
	{ WM_SUBMIT_GARBAGE, MCA_ERR_INVAL, 1, 0,
	    "visualworkflow-submit-request?gwsource=external: HTTP 200 with a "
	    "body that is not a JSON object" },
	{ WM_POLL_GARBAGE, MCA_ERR_INVAL, 1, 1,
	    "visualworkflow-request-logs?gwsource=external&ids=4711: HTTP 200 "
	    "with a body that is not a JSON object" },
	{ WM_SUBMIT_500, MCA_ERR_BUSY, 1, 0,
	    "HTTP 500: <html><body>Internal Server Error</body></html>" },
	{ WM_SUBMIT_REFUSED, MCA_ERR_POLICY, 1, 0,
	    "HTTP 400, appStatusCode WORKFLOW_1021: Workflow is disabled" },
	/* a 503 counts as a poll; the next one finds success */
	{ WM_POLL_503_FIRST, 0, 1, 2, "" },
};

START_TEST(test_faults)
{
	const struct fault	*t = &faults[_i];
	struct fx		 f;
	struct mca_avxwf_result	 r;
	struct mca_diag		 d;

	start(&f, t->mode, 0);
	go(&f);
	ck_assert_msg(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d) == t->rc,
	    "%s\n%s", d.msg, log_text());
	if (t->rc != 0)
		assert_line(&d, t->line);
	ck_assert_int_eq(SUBMITS(), t->submits);
	ck_assert_int_eq(POLLS(), t->polls);
	avxwfmock_stop(&f.m);
}
END_TEST

/*
 * The 503 on the last poll is what the caller hears about, with the
 * request id kept; a workflow the server does not have is refused.
 */
START_TEST(test_last_poll_fails)
{
	struct fx		 f;
	struct mca_avxwf_result	 r;
	struct mca_diag		 d;

	start(&f, WM_POLL_503_FIRST, 0);
	f.w.poll_count = 1;
	go(&f);
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_BUSY);
	assert_line(&d, "no final status after 1 polls 3 s apart; last: GET "
	    "https://localhost:");
	assert_line(&d, "HTTP 503: Service Unavailable");
	ck_assert_str_eq(r.request_id, REQID);
	ck_assert_int_eq(r.http, 503);

	f.w.workflow = "Some Other Workflow";
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_POLICY);
	assert_line(&d, "appStatusCode WORKFLOW_1021: Workflow not found");
	ck_assert_str_eq(r.request_id, "");
	avxwfmock_stop(&f.m);
}
END_TEST

/* Bad arguments: refused before any call, each with its line. */
START_TEST(test_bad_args)
{
	struct fx		 f;
	struct mca_avxwf_result	 r;
	struct mca_diag		 d;
	char			 lower[41], longid[200];
	size_t			 i;

	start(&f, WM_SUCCESS, 0);
	go(&f);
	/* The primary thumbprint must be the certificate's. */
	f.q.primary = "0000000000000000000000000000000000000000";
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_INVAL);
	assert_line(&d, "the primary thumbprint is not the certificate's");
	for (i = 0; i < 40; i++)
		lower[i] = (char)(sha1[i] >= 'A' ? sha1[i] + 32 : sha1[i]);
	lower[40] = '\0';
	f.q.primary = lower;
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_INVAL);
	f.q.primary = sha1;
	/* The secondary: as long as the primary, uppercase hex. */
	f.q.secondary = sha256;
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_INVAL);
	assert_line(&d, "the secondary thumbprint is not 40 uppercase hex");
	f.q.secondary = NULL;
	/* Not a certificate. */
	f.q.cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n";
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_INVAL);
	assert_line(&d, "device " DEVICE ": the certificate is not one PEM "
	    "certificate");
	f.q.cert_pem = mca_buf_str(&devpem);
	/* Device ids: none, a space, too long. */
	f.q.device_id = "";
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_INVAL);
	f.q.device_id = "dev 1";
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_INVAL);
	memset(longid, 'a', 129);
	longid[129] = '\0';
	f.q.device_id = longid;
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_INVAL);
	assert_line(&d, "device id");
	f.q.device_id = DEVICE;
	/* Configuration. */
	f.w.poll_count = 0;
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_CONFIG);
	assert_line(&d, "poll_count 0");
	f.w.poll_count = 6;
	f.w.workflow = NULL;
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_CONFIG);
	assert_line(&d, "azure_device_registration_workflow");
	f.w.workflow = WORKFLOW;
	f.w.azure_account = "a\nb";
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_CONFIG);
	assert_line(&d, "azure_account");
	f.w.azure_account = ACCOUNT;
	f.w.gwkey = "a&b=c";
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_CONFIG);
	assert_line(&d, "gwkey");
	f.w.gwkey = NULL;
	f.w.host = "local host";
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_CONFIG);
	assert_line(&d, "appviewx_hostname");
	ck_assert_int_eq(count(""), 0);
	avxwfmock_stop(&f.m);
}
END_TEST

/* Which statuses are final, in the spellings the guides' products use. */
START_TEST(test_status_words)
{
	ck_assert_int_eq(mca_avxwf_status_final("Success"), 1);
	ck_assert_int_eq(mca_avxwf_status_final("COMPLETED"), 1);
	ck_assert_int_eq(mca_avxwf_status_final("succeeded"), 1);
	ck_assert_int_eq(mca_avxwf_status_final("Failed"), -1);
	ck_assert_int_eq(mca_avxwf_status_final("Timed Out"), -1);
	ck_assert_int_eq(mca_avxwf_status_final("CANCELLED"), -1);
	ck_assert_int_eq(mca_avxwf_status_final("In Progress"), 0);
	ck_assert_int_eq(mca_avxwf_status_final("IN_PROGRESS"), 0);
	ck_assert_int_eq(mca_avxwf_status_final("Pending Approval"), 0);
	ck_assert_int_eq(mca_avxwf_status_final("Successor"), 0);
	ck_assert_int_eq(mca_avxwf_status_final(""), 0);
	ck_assert_int_eq(mca_avxwf_status_final(NULL), 0);
}
END_TEST

/* Nobody listens: worth trying later, nothing recorded. */
START_TEST(test_down)
{
	struct fx		 f;
	struct mca_avxwf_result	 r;
	struct mca_diag		 d;
	unsigned		 port;
	int			 s;

	start(&f, WM_SUCCESS, 0);
	/* a port that was free a moment ago, and is closed again */
	s = ts_listen(&port);
	close(s);
	f.w.port = port;
	(void)snprintf(f.resolve, sizeof(f.resolve), "localhost:%u:127.0.0.1",
	    port);
	ck_assert_int_eq(mca_avxwf_register(&f.w, &f.q, NULL, &r, &d),
	    MCA_ERR_BUSY);
	assert_line(&d, "POST https://localhost:");
	ck_assert_str_eq(r.request_id, "");
	ck_assert_int_eq(f.sl.n, 0);
}
END_TEST

Suite *
avxwf_suite(void)
{
	Suite	*s = suite_create("avxwf");
	TCase	*tc = tcase_create("mock");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_success, 0, 4);
	tcase_add_test(tc, test_failure);
	tcase_add_loop_test(tc, test_timeout, 0, 3);
	tcase_add_test(tc, test_resume);
	tcase_add_loop_test(tc, test_mtls, 0, 2);
	tcase_add_loop_test(tc, test_faults, 0,
	    sizeof(faults) / sizeof(faults[0]));
	tcase_add_test(tc, test_last_poll_fails);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_status_words);
	tcase_add_test(tc, test_down);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(avxwf_suite());
}
