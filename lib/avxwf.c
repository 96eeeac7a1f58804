/*
 * AppViewX workflow mode of the Azure IoT Hub sync. See avxwf.h, and
 * microca.json(5) for what is sent and what the public AppViewX guides
 * leave open.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "avx.h"	/* MCA_AVX_BODY_MAX, MCA_AVX_HOST_MAX */
#include "avxjson.h"
#include "avxwf.h"
#include "avxwf_int.h"
#include "buf.h"
#include "err.h"
#include "httpc.h"
#include "pem.h"

#define WF_URL_MAX	768
#define WF_NAME_MAX	256	/* bytes of a workflow or account name */
#define WF_DEVID_MAX	128	/* IoT Hub device ids */

/* The Automation API guides' endpoints (Submit Request, Get Request Log). */
#define OP_SUBMIT	"visualworkflow-submit-request"
#define OP_STATUS	"visualworkflow-request-logs"

/* 1 if s is 1 to max bytes of printable ASCII (spaces too when sp). */
static int
text_ok(const char *s, size_t max, int sp)
{
	size_t	 i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || s[i] > 0x7e || s[i] < (sp ? 0x20 : 0x21))
			return 0;
	return 1;
}

/* 1 if s is n uppercase hex digits. */
static int
uphex_ok(const char *s, size_t n)
{
	size_t	 i;

	if (s == NULL || strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'A' || s[i] > 'F'))
			return 0;
	return 1;
}

/* Uppercase hex of md over the DER of x into out (2 * 64 + 1 bytes). */
static int
thumb(X509 *x, const EVP_MD *md, char *out, size_t len)
{
	unsigned char	 h[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0, i;

	out[0] = '\0';
	if (X509_digest(x, md, h, &n) != 1 || 2 * (size_t)n + 1 > len)
		return MCA_ERR_CRYPTO;
	for (i = 0; i < n; i++)
		(void)snprintf(out + 2 * i, len - 2 * i, "%02X", h[i]);
	return 0;
}

/*
 * Checks w and q before anything is sent; the certificate, parsed and
 * written again, into pem; its thumbprint's algorithm into *alg.
 */
static int
wf_check(const struct mca_avxwf *w, const struct mca_avxwf_req *q,
    const char *resume_id, struct mca_buf *pem, const char **alg,
    struct mca_diag *d)
{
	X509		*x = NULL;
	char		 t1[2 * EVP_MAX_MD_SIZE + 1];
	char		 t256[2 * EVP_MAX_MD_SIZE + 1];
	size_t		 n, plen;
	int		 rc = MCA_ERR_INVAL;

	if (!mca_httpc_host_ok(w->host, MCA_AVX_HOST_MAX)) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "AppViewX workflow: "
		    "appviewx_hostname \"%.64s\": not a host name or IP "
		    "address", w->host == NULL ? "" : w->host);
		goto out;
	}
	if (w->port == 0 || w->port > 65535) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "AppViewX workflow: port %u: "
		    "not 1-65535", w->port);
		goto out;
	}
	if (!text_ok(w->workflow, WF_NAME_MAX, 1)) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "AppViewX workflow: "
		    "azure_device_registration_workflow: missing, or not 1-%d "
		    "bytes of printable ASCII", WF_NAME_MAX);
		goto out;
	}
	if (!text_ok(w->azure_account, WF_NAME_MAX, 1)) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "AppViewX workflow: "
		    "azure_account: missing, or not 1-%d bytes of printable "
		    "ASCII", WF_NAME_MAX);
		goto out;
	}
	if (w->poll_count < 1 || w->poll_count > MCA_AVXWF_POLLS_MAX ||
	    w->poll_interval < 0 ||
	    w->poll_interval > MCA_AVXWF_INTERVAL_MAX) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "AppViewX workflow: "
		    "poll_count %d (1-%d) or poll_interval %d (0-%d s) out of "
		    "range", w->poll_count, MCA_AVXWF_POLLS_MAX,
		    w->poll_interval, MCA_AVXWF_INTERVAL_MAX);
		goto out;
	}
	if (w->gwkey != NULL && !mca_avxj_word_ok(w->gwkey, 65)) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "AppViewX workflow: gwkey: "
		    "1-64 of A-Z a-z 0-9 . _ -");
		goto out;
	}
	/* AppViewX knows us by the mTLS client certificate alone. */
	if (w->tls == NULL || w->tls->certfile == NULL) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "AppViewX workflow: no mTLS "
		    "client certificate (mtls_client_auth_cert_config) to "
		    "authenticate with");
		goto out;
	}
	if (resume_id != NULL && resume_id[0] != '\0' &&
	    !mca_avxj_word_ok(resume_id, MCA_AVXWF_ID_MAX)) {
		rc = mca_diag(d, MCA_ERR_INVAL, "AppViewX workflow: request id "
		    "to resume: not 1-%d of A-Z a-z 0-9 . _ -",
		    MCA_AVXWF_ID_MAX - 1);
		goto out;
	}
	if (!text_ok(q->device_id, WF_DEVID_MAX, 0)) {
		rc = mca_diag(d, MCA_ERR_INVAL, "AppViewX workflow: device id: "
		    "missing, or not 1-%d bytes of printable ASCII without "
		    "spaces", WF_DEVID_MAX);
		goto out;
	}
	n = q->cert_pem != NULL ? strlen(q->cert_pem) : 0;
	if (n == 0 || mca_pem_parse_cert(q->cert_pem, n, &x) != 0) {
		rc = mca_diag(d, MCA_ERR_INVAL, "AppViewX workflow: device "
		    "%s: the certificate is not one PEM certificate",
		    q->device_id);
		goto out;
	}
	if ((rc = thumb(x, EVP_sha1(), t1, sizeof(t1))) != 0 ||
	    (rc = thumb(x, EVP_sha256(), t256, sizeof(t256))) != 0 ||
	    (rc = mca_pem_write_cert(x, pem)) != 0) {
		rc = mca_diag_crypto(d, rc, "AppViewX workflow: device %s: "
		    "cannot hash or write the certificate", q->device_id);
		goto out;
	}
	plen = q->primary != NULL ? strlen(q->primary) : 0;
	if ((plen != 40 || strcmp(q->primary, t1) != 0) &&
	    (plen != 64 || strcmp(q->primary, t256) != 0)) {
		rc = mca_diag(d, MCA_ERR_INVAL, "AppViewX workflow: device "
		    "%s: the primary thumbprint is not the certificate's "
		    "(uppercase hex of SHA-1 or SHA-256 over its DER)",
		    q->device_id);
		goto out;
	}
	*alg = plen == 40 ? "SHA1" : "SHA256";
	if (q->secondary != NULL && !uphex_ok(q->secondary, plen)) {
		rc = mca_diag(d, MCA_ERR_INVAL, "AppViewX workflow: device "
		    "%s: the secondary thumbprint is not %zu uppercase hex "
		    "digits, as the primary", q->device_id, plen);
		goto out;
	}
	rc = 0;
out:
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/* "https://host:port/avxapi/<op>?gwsource=external[&gwkey=K][&extra]" */
static int
wf_url(const struct mca_avxwf *w, const char *op, const char *extra,
    char *url, size_t len, struct mca_diag *d)
{
	int	 r;

	r = snprintf(url, len, "https://%s:%u/avxapi/%s?gwsource=external%s%s"
	    "%s%s", w->host, w->port, op, w->gwkey != NULL ? "&gwkey=" : "",
	    w->gwkey != NULL ? w->gwkey : "", extra != NULL ? "&" : "",
	    extra != NULL ? extra : "");
	if (r < 0 || (size_t)r >= len) {
		url[0] = '\0';
		return mca_diag(d, MCA_ERR_INVAL, "AppViewX workflow: URL too "
		    "long");
	}
	return 0;
}

/* What an HTTP status but 200 means here. */
static int
wf_status_rc(long status)
{
	if (status == 400)
		return MCA_ERR_POLICY;
	if (status == 401 || status == 403)
		return MCA_ERR_AUTH;
	if (status == 404)
		return MCA_ERR_NOTFOUND;
	if (status == 408 || status == 429 || status >= 500)
		return MCA_ERR_BUSY;
	return MCA_ERR_IO;
}

/*
 * One call: method to url with body (NULL for none), judged; a 200 JSON
 * object in *root. A network failure or timeout is MCA_ERR_BUSY.
 */
static int
wf_call(const struct mca_avxwf *w, const char *method, const char *url,
    const struct mca_buf *body, struct mca_avxwf_result *r,
    struct json_object **root, struct mca_diag *d)
{
	static const char *const hdrs[] = { "Accept: application/json", NULL };
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	struct mca_avxj_call	 call;
	struct mca_diag		 sub;
	int			 rc;

	*root = NULL;
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	mca_buf_init(&resp.body);
	req.method = method;
	req.url = url;
	/* The guides name Content-Type: application/json for both calls. */
	req.ctype = "application/json";
	req.headers = hdrs;
	if (body != NULL) {
		req.body = body->data;
		req.bodylen = body->len;
	}
	req.tls = w->tls;
	req.resolve = w->resolve;
	req.timeout = w->timeout;
	req.body_max = MCA_AVX_BODY_MAX;
	mca_diag_clear(&sub);
	rc = mca_httpc_do(&req, &resp, &sub);
	r->http = resp.status;
	/*
	 * A TLS alert is a refusal, not a broken line: in TLS 1.3 the server
	 * judges our certificate after our side of the handshake is done, so
	 * its "unknown ca" or "certificate required" arrives as a read error.
	 * Any other I/O failure is worth trying again later.
	 */
	if (rc == MCA_ERR_IO)
		rc = strstr(sub.msg, " alert ") != NULL ? MCA_ERR_CRYPTO :
		    MCA_ERR_BUSY;
	if (rc != 0)
		(void)mca_diag(d, rc, "%s", sub.msg);
	else {
		memset(&call, 0, sizeof(call));
		call.method = method;
		call.url = url;
		call.ok = 200;
		call.status_rc = wf_status_rc;
		call.want_json = 1;
		rc = mca_avxj_judge(&call, &resp, root, d);
	}
	mca_httpc_resp_free(&resp);
	return rc;
}

/*
 * A request id: a string or an integer member key of o, as a word safe in
 * a URL, into out. 1 found and good, 0 absent, -1 there but bad.
 */
static int
id_member(struct json_object *o, const char *key, char *out, size_t len)
{
	struct json_object	*v;
	char			 num[32];
	const char		*s;

	if ((v = mca_avxj_member(o, key, json_type_string)) != NULL)
		s = json_object_get_string(v);
	else if ((v = mca_avxj_member(o, key, json_type_int)) != NULL) {
		(void)snprintf(num, sizeof(num), "%lld",
		    (long long)json_object_get_int64(v));
		s = num;
	} else
		return 0;
	if (!mca_avxj_word_ok(s, len))
		return -1;
	(void)snprintf(out, len, "%s", s);
	return 1;
}

/*
 * The request id in a submit answer's "response": requestId or
 * request_id (a string or an integer); else a "Request Id N" in
 * response.message (the guides' sample answer announces the request
 * there: "Workflow Request is created ..."). 0 or MCA_ERR_INVAL.
 */
static int
submit_id(struct json_object *resp, char *out, size_t len)
{
	struct json_object	*m;
	const char		*s, *p;
	size_t			 n;
	int			 k;

	out[0] = '\0';
	if ((k = id_member(resp, "requestId", out, len)) != 0 ||
	    (k = id_member(resp, "request_id", out, len)) != 0)
		return k == 1 ? 0 : MCA_ERR_INVAL;
	if ((m = mca_avxj_member(resp, "message", json_type_string)) == NULL)
		return MCA_ERR_INVAL;
	s = json_object_get_string(m);
	if ((p = strcasestr(s, "request id")) == NULL)
		return MCA_ERR_INVAL;
	for (p += 10; *p == ' ' || *p == ':' || *p == '#'; p++)
		;
	for (n = 0; isalnum((unsigned char)p[n]) || p[n] == '-' ||
	    p[n] == '_'; n++)
		;
	if (n == 0 || n >= len)
		return MCA_ERR_INVAL;
	(void)snprintf(out, len, "%.*s", (int)n, p);
	return 0;
}

/* See avxwf_int.h. */
int
mca_avxwf_submit_answer(struct json_object *root, char *id, size_t len)
{
	struct json_object	*resp;

	id[0] = '\0';
	if ((resp = mca_avxj_member(root, "response", json_type_object)) ==
	    NULL)
		return MCA_ERR_INVAL;
	return submit_id(resp, id, len);
}

/* Step 1: submits the workflow; the request id into r. */
static int
wf_submit(const struct mca_avxwf *w, const struct mca_avxwf_req *q,
    const struct mca_buf *pem, const char *alg, struct mca_avxwf_result *r,
    struct mca_diag *d)
{
	struct mca_buf		 body = MCA_BUF_INIT;
	struct json_object	*o = NULL, *p = NULL, *root = NULL;
	struct json_object	*hd, *dt, *in;
	char			 url[WF_URL_MAX];
	int			 rc;

	if ((rc = wf_url(w, OP_SUBMIT, NULL, url, sizeof(url), d)) != 0)
		goto out;
	/*
	 * {"payload": {"header": {"workflowName"},
	 *   "data": {"input": {"azure_account", "device_id",
	 *     "primary_thumbprint", ["secondary_thumbprint"],
	 *     "thumbprint_algorithm", "certificate"}}}}
	 */
	rc = MCA_ERR_NOMEM;
	if ((p = json_object_new_object()) == NULL ||
	    mca_avxj_add_obj(p, "header", hd = json_object_new_object()) != 0 ||
	    mca_avxj_add_str(hd, "workflowName", w->workflow) != 0 ||
	    mca_avxj_add_obj(p, "data", dt = json_object_new_object()) != 0 ||
	    mca_avxj_add_obj(dt, "input", in = json_object_new_object()) != 0 ||
	    mca_avxj_add_str(in, "azure_account", w->azure_account) != 0 ||
	    mca_avxj_add_str(in, "device_id", q->device_id) != 0 ||
	    mca_avxj_add_str(in, "primary_thumbprint", q->primary) != 0 ||
	    (q->secondary != NULL && mca_avxj_add_str(in,
	    "secondary_thumbprint", q->secondary) != 0) ||
	    mca_avxj_add_str(in, "thumbprint_algorithm", alg) != 0 ||
	    mca_avxj_add_obj(in, "certificate", json_object_new_string_len(
	    (const char *)pem->data, (int)pem->len)) != 0)
		goto nomem;
	o = mca_avxj_wrap(p);
	p = NULL;
	if (o == NULL || (rc = mca_avxj_out(o, &body)) != 0)
		goto nomem;
	if ((rc = wf_call(w, "POST", url, &body, r, &root, d)) != 0)
		goto out;
	if (mca_avxwf_submit_answer(root, r->request_id,
	    sizeof(r->request_id)) != 0) {
		rc = mca_diag(d, MCA_ERR_INVAL, "POST %.200s: HTTP 200 without "
		    "a request id (response.requestId: 1-%d of A-Z a-z 0-9 . _ "
		    "-)", url, MCA_AVXWF_ID_MAX - 1);
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	rc = mca_diag(d, MCA_ERR_NOMEM, "AppViewX workflow: cannot build the "
	    "request");
out:
	json_object_put(root);
	json_object_put(o);
	json_object_put(p);
	mca_buf_free(&body);
	return rc;
}

/* The request id of o, if it names one: 1 it is id, 0 none, -1 another. */
static int
names(struct json_object *o, const char *id)
{
	char	 got[MCA_AVXWF_ID_MAX];
	int	 k;

	if ((k = id_member(o, "requestId", got, sizeof(got))) == 0 &&
	    (k = id_member(o, "request_id", got, sizeof(got))) == 0)
		return 0;
	return k == 1 && strcmp(got, id) == 0 ? 1 : -1;
}

/*
 * The request's entry in a status answer's "response": the object
 * itself, or in an array the one naming id (or the only one, naming
 * none). NULL if there is none, or it names another request.
 */
static struct json_object *
status_entry(struct json_object *resp, const char *id)
{
	struct json_object	*e, *only = NULL;
	size_t			 i, n;

	if (json_object_is_type(resp, json_type_object))
		return names(resp, id) >= 0 ? resp : NULL;
	if (!json_object_is_type(resp, json_type_array))
		return NULL;
	n = json_object_array_length(resp);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(resp, i);
		if (!json_object_is_type(e, json_type_object))
			continue;
		if (names(e, id) == 1)
			return e;
		if (n == 1 && names(e, id) == 0)
			only = e;
	}
	return only;
}

/* See avxwf_int.h. */
struct json_object *
mca_avxwf_status_answer(struct json_object *root, const char *id,
    struct json_object **entry)
{
	struct json_object	*resp = NULL, *e;

	*entry = NULL;
	if (!json_object_object_get_ex(root, "response", &resp) ||
	    resp == NULL || (e = status_entry(resp, id)) == NULL)
		return NULL;
	*entry = e;
	return mca_avxj_member(e, "status", json_type_string);
}

/*
 * Step 2, once: the request's status into r. 0 the workflow succeeded;
 * MCA_ERR_POLICY it failed; MCA_ERR_BUSY not final yet (or a 408, 429,
 * 5xx or network failure); others: stop.
 */
static int
wf_poll(const struct mca_avxwf *w, const struct mca_avxwf_req *q,
    struct mca_avxwf_result *r, struct mca_diag *d)
{
	struct json_object	*root = NULL, *e, *st, *msg;
	char			 url[WF_URL_MAX];
	char			 extra[16 + MCA_AVXWF_ID_MAX];
	char			 mbuf[MCA_AVXJ_MSG_MAX];
	int			 rc, fin;

	(void)snprintf(extra, sizeof(extra), "ids=%s", r->request_id);
	if ((rc = wf_url(w, OP_STATUS, extra, url, sizeof(url), d)) != 0 ||
	    (rc = wf_call(w, "GET", url, NULL, r, &root, d)) != 0)
		goto out;
	if ((st = mca_avxwf_status_answer(root, r->request_id, &e)) == NULL) {
		rc = mca_diag(d, MCA_ERR_INVAL, "GET %.200s: HTTP 200 without "
		    "the status of request %s (response.status, a string)",
		    url, r->request_id);
		goto out;
	}
	mca_avxj_said(r->status, sizeof(r->status), json_object_get_string(st),
	    (size_t)json_object_get_string_len(st), NULL, NULL);
	fin = mca_avxwf_status_final(json_object_get_string(st));
	if (fin == 0) {
		rc = mca_diag(d, MCA_ERR_BUSY, "status \"%s\"", r->status);
		goto out;
	}
	mbuf[0] = '\0';
	if ((msg = mca_avxj_member(e, "message", json_type_string)) != NULL)
		mca_avxj_said(mbuf, sizeof(mbuf), json_object_get_string(msg),
		    (size_t)json_object_get_string_len(msg), NULL, NULL);
	if (fin < 0) {
		rc = mca_diag(d, MCA_ERR_POLICY, "AppViewX workflow \"%.64s\" "
		    "request %s for device %s: %s%s%s", w->workflow,
		    r->request_id, q->device_id, r->status,
		    mbuf[0] != '\0' ? ": " : "", mbuf);
		goto out;
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

/* The default wait: secs seconds, through signals. */
static void
wf_sleep(int secs)
{
	struct timespec	 ts, rem;

	ts.tv_sec = secs;
	ts.tv_nsec = 0;
	while (nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

int
mca_avxwf_status_final(const char *status)
{
	static const char *const ok[] = { "success", "successful",
	    "succeeded", "completed", "complete", NULL };
	static const char *const bad[] = { "failed", "failure", "error",
	    "rejected", "cancelled", "canceled", "aborted", "terminated",
	    "timedout", "timeout", NULL };
	char	 s[MCA_AVXWF_STATUS_MAX];
	size_t	 i, n = 0;

	if (status == NULL)
		return 0;
	for (i = 0; status[i] != '\0'; i++) {
		if (status[i] == ' ' || status[i] == '_' || status[i] == '-')
			continue;
		if (n + 1 >= sizeof(s))
			return 0;
		s[n++] = (char)tolower((unsigned char)status[i]);
	}
	s[n] = '\0';
	for (i = 0; ok[i] != NULL; i++)
		if (strcmp(s, ok[i]) == 0)
			return 1;
	for (i = 0; bad[i] != NULL; i++)
		if (strcmp(s, bad[i]) == 0)
			return -1;
	return 0;
}

int
mca_avxwf_register(const struct mca_avxwf *w, const struct mca_avxwf_req *q,
    const char *resume_id, struct mca_avxwf_result *r, struct mca_diag *d)
{
	struct mca_buf	 pem = MCA_BUF_INIT;
	struct mca_diag	 sub;
	const char	*alg = NULL;
	int		 rc, i, resumed;

	memset(r, 0, sizeof(*r));
	mca_diag_clear(d);
	if (w == NULL || q == NULL)
		return mca_diag(d, MCA_ERR_INTERNAL, "AppViewX workflow: no "
		    "configuration or request");
	if ((rc = wf_check(w, q, resume_id, &pem, &alg, d)) != 0)
		goto out;
	resumed = resume_id != NULL && resume_id[0] != '\0';
	if (resumed)
		(void)snprintf(r->request_id, sizeof(r->request_id), "%s",
		    resume_id);
	else if ((rc = wf_submit(w, q, &pem, alg, r, d)) != 0)
		goto out;
	/*
	 * poll_count polls, poll_interval seconds before each; a resumed
	 * request was submitted long ago: its first poll is at once. A
	 * transient failure (BUSY) counts as a poll and the next one follows.
	 */
	for (i = 0; i < w->poll_count; i++) {
		if ((i > 0 || !resumed) && w->poll_interval > 0) {
			if (w->sleep_fn != NULL)
				w->sleep_fn(w->sleep_arg, w->poll_interval);
			else
				wf_sleep(w->poll_interval);
		}
		mca_diag_clear(&sub);
		if ((rc = wf_poll(w, q, r, &sub)) != MCA_ERR_BUSY) {
			if (rc != 0)
				(void)mca_diag(d, rc, "%s", sub.msg);
			goto out;
		}
	}
	rc = mca_diag(d, MCA_ERR_BUSY, "AppViewX workflow \"%.64s\" request "
	    "%s for device %s: no final status after %d polls %d s apart; "
	    "last: %s", w->workflow, r->request_id, q->device_id,
	    w->poll_count, w->poll_interval, sub.msg);
out:
	mca_buf_free(&pem);
	return rc;
}
