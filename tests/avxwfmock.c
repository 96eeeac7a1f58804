/*
 * The mock AppViewX workflow gateway. See avxwfmock.h. The shapes follow
 * the AppViewX Automation API guides (Submit Request: POST
 * /avxapi/visualworkflow-submit-request, {"payload": {"header":
 * {"workflowName"}, "data": {...}}}; Get Request Summary/Log: GET
 * /avxapi/visualworkflow-request-logs?ids=), answers wrapped as
 * {"response", "message", "appStatusCode", "tags"}; the input fields are
 * microca's, as microca.json(5) writes them down.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "avxwfmock.h"
#include "buf.h"
#include "pem.h"
#include "testutil.h"
#include "tlsserv.h"

#define WM_REQS		8	/* requests it keeps */

#define P_SUBMIT	"/avxapi/visualworkflow-submit-request"
#define P_STATUS	"/avxapi/visualworkflow-request-logs"

/* The child's state: across the connections of one mock. */
struct wm {
	const struct avxwfmock	*m;
	char			 ids[WM_REQS][64];
	int			 polls[WM_REQS];
	int			 nreqs;
	int			 status_calls;
	char			 query[256];	/* gwsource=...[&gwkey=] */
};

/* One answer. */
struct wm_resp {
	int		 status;
	const char	*ctype;
	struct mca_buf	 body;
};

/* An answer in AppViewX's wrapper, taking response over. */
static void
wm_json(struct wm_resp *w, int status, struct json_object *response,
    const char *message, const char *code)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "response", response);
	json_object_object_add(o, "message", message != NULL ?
	    json_object_new_string(message) : NULL);
	json_object_object_add(o, "appStatusCode", code != NULL ?
	    json_object_new_string(code) : NULL);
	json_object_object_add(o, "tags", json_object_new_object());
	w->status = status;
	w->ctype = "application/json";
	mca_buf_reset(&w->body);
	(void)mca_buf_addstr(&w->body, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void	wm_refuse(struct wm_resp *, int, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));

/* A refusal with an appStatusCode and a message made from fmt. */
static void
wm_refuse(struct wm_resp *w, int status, const char *code, const char *fmt,
    ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wm_json(w, status, NULL, msg, code);
}

/* Content-Type must be application/json (the guides, both calls). */
static int
wm_ctype_ok(const struct ts_req *r, struct wm_resp *w)
{
	char	 ct[256];

	if (ts_header(r, "Content-Type", ct, sizeof(ct)) != NULL &&
	    strcasecmp(ct, "application/json") == 0)
		return 1;
	wm_refuse(w, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be "
	    "application/json");
	return 0;
}

/* o must have exactly the keys of the NULL-terminated list. */
static int
wm_exactly(struct json_object *o, const char *const *keys, const char *where,
    struct wm_resp *w)
{
	size_t	 i, n = 0;

	if (!json_object_is_type(o, json_type_object)) {
		wm_refuse(w, 400, "WORKFLOW_INVALID_PAYLOAD", "%s: not an "
		    "object", where);
		return 0;
	}
	json_object_object_foreach(o, k, v) {
		(void)v;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (keys[i] == NULL) {
			wm_refuse(w, 400, "WORKFLOW_INVALID_PAYLOAD", "%s.%s: "
			    "not a known field", where, k);
			return 0;
		}
		n++;
	}
	for (i = 0; keys[i] != NULL; i++)
		;
	if (n != i) {
		wm_refuse(w, 400, "WORKFLOW_INVALID_PAYLOAD", "%s: %zu fields, "
		    "%zu wanted", where, n, i);
		return 0;
	}
	return 1;
}

/* o.key must be the string want. */
static int
wm_str_is(struct json_object *o, const char *key, const char *want,
    const char *where, struct wm_resp *w)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		wm_refuse(w, 400, "WORKFLOW_INVALID_PAYLOAD", "%s.%s: missing "
		    "or not a string", where, key);
		return 0;
	}
	if (strcmp(json_object_get_string(v), want) != 0) {
		wm_refuse(w, 400, "WORKFLOW_INVALID_INPUT", "%s.%s: \"%s\" is "
		    "not what was expected", where, key,
		    json_object_get_string(v));
		return 0;
	}
	return 1;
}

/* 1 if the PEM texts a and b hold the same certificate. */
static int
wm_same_cert(const char *a, const char *b)
{
	X509	*xa = NULL, *xb = NULL;
	int	 same;

	same = mca_pem_parse_cert(a, strlen(a), &xa) == 0 &&
	    mca_pem_parse_cert(b, strlen(b), &xb) == 0 && X509_cmp(xa, xb) == 0;
	X509_free(xa);
	X509_free(xb);
	return same;
}

/* POST P_SUBMIT?query */
static void
wm_submit(struct wm *a, const struct ts_req *r, struct wm_resp *w)
{
	static const char *const top[] = { "payload", NULL };
	static const char *const pl[] = { "header", "data", NULL };
	static const char *const hd[] = { "workflowName", NULL };
	static const char *const dt[] = { "input", NULL };
	static const char *const in1[] = { "azure_account", "device_id",
	    "primary_thumbprint", "thumbprint_algorithm", "certificate",
	    NULL };
	static const char *const in2[] = { "azure_account", "device_id",
	    "primary_thumbprint", "secondary_thumbprint",
	    "thumbprint_algorithm", "certificate", NULL };
	const struct avxwfmock	*m = a->m;
	struct json_tokener	*tok = NULL;
	struct json_object	*o = NULL, *p, *h, *d, *in, *c, *resp;
	char			 msg[128];
	const char		*id;

	if (!wm_ctype_ok(r, w))
		goto out;
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, r->body, (int)r->bodylen);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != r->bodylen) {
		wm_refuse(w, 400, "INVALID_JSON", "Request body is not JSON");
		goto out;
	}
	if (!wm_exactly(o, top, "body", w) ||
	    !json_object_object_get_ex(o, "payload", &p) ||
	    !wm_exactly(p, pl, "payload", w) ||
	    !json_object_object_get_ex(p, "header", &h) ||
	    !wm_exactly(h, hd, "payload.header", w) ||
	    !json_object_object_get_ex(p, "data", &d) ||
	    !wm_exactly(d, dt, "payload.data", w) ||
	    !json_object_object_get_ex(d, "input", &in) ||
	    !wm_exactly(in, m->secondary != NULL ? in2 : in1,
	    "payload.data.input", w))
		goto out;
	/* what AppViewX says of a workflow it does not have */
	if (!json_object_object_get_ex(h, "workflowName", &c) ||
	    !json_object_is_type(c, json_type_string) ||
	    strcmp(json_object_get_string(c), m->workflow) != 0) {
		wm_refuse(w, 400, "WORKFLOW_1021", "Workflow not found or not "
		    "enabled");
		goto out;
	}
	if (!wm_str_is(in, "azure_account", m->azure_account,
	    "payload.data.input", w) ||
	    !wm_str_is(in, "device_id", m->device_id, "payload.data.input",
	    w) ||
	    !wm_str_is(in, "primary_thumbprint", m->primary,
	    "payload.data.input", w) ||
	    (m->secondary != NULL && !wm_str_is(in, "secondary_thumbprint",
	    m->secondary, "payload.data.input", w)) ||
	    !wm_str_is(in, "thumbprint_algorithm", strlen(m->primary) == 40 ?
	    "SHA1" : "SHA256", "payload.data.input", w))
		goto out;
	if (!json_object_object_get_ex(in, "certificate", &c) ||
	    !json_object_is_type(c, json_type_string) ||
	    !wm_same_cert(json_object_get_string(c), m->cert_pem)) {
		wm_refuse(w, 400, "WORKFLOW_INVALID_INPUT", "payload.data."
		    "input.certificate: not the device's certificate");
		goto out;
	}
	switch (m->mode) {
	case WM_SUBMIT_500:
		w->status = 500;
		w->ctype = "text/html";
		(void)mca_buf_addstr(&w->body, "<html><body>Internal Server "
		    "Error</body></html>\n");
		goto out;
	case WM_SUBMIT_GARBAGE:
		w->status = 200;
		w->ctype = "application/json";
		(void)mca_buf_addstr(&w->body, "{\"response\": {\"requestId\"");
		goto out;
	case WM_SUBMIT_REFUSED:
		wm_refuse(w, 400, "WORKFLOW_1021", "Workflow is disabled");
		goto out;
	default:
		break;
	}
	if (a->nreqs >= WM_REQS) {
		wm_refuse(w, 500, "WORKFLOW_ERROR", "too many requests");
		goto out;
	}
	if (a->nreqs == 0)
		(void)snprintf(a->ids[0], sizeof(a->ids[0]), "%s",
		    m->request_id);
	else
		(void)snprintf(a->ids[a->nreqs], sizeof(a->ids[0]), "%s-%d",
		    m->request_id, a->nreqs + 1);
	id = a->ids[a->nreqs++];
	(void)snprintf(msg, sizeof(msg), "Workflow Request is created with "
	    "Request Id %s", id);
	resp = json_object_new_object();
	json_object_object_add(resp, "workorderId",
	    json_object_new_string("0"));
	json_object_object_add(resp, "message", json_object_new_string(msg));
	if (!m->id_in_message)
		json_object_object_add(resp, "requestId",
		    json_object_new_string(id));
	wm_json(w, 200, resp, "Success", NULL);
out:
	json_object_put(o);
	json_tokener_free(tok);
}

/* GET P_STATUS?query&ids=ID */
static void
wm_status(struct wm *a, const struct ts_req *r, const char *id,
    struct wm_resp *w)
{
	const struct avxwfmock	*m = a->m;
	struct json_object	*e, *resp;
	const char		*st, *msg;
	int			 i, k;

	if (!wm_ctype_ok(r, w))
		return;
	if (r->bodylen != 0) {
		wm_refuse(w, 400, "BAD_REQUEST", "GET with a body");
		return;
	}
	a->status_calls++;
	for (i = 0; i < a->nreqs; i++)
		if (strcmp(a->ids[i], id) == 0)
			break;
	if (i == a->nreqs) {
		wm_refuse(w, 400, "WORKFLOW_1300", "Workflow Request ID %s is "
		    "not found", id);
		return;
	}
	if (m->mode == WM_POLL_503_FIRST && a->status_calls == 1) {
		w->status = 503;
		w->ctype = "text/plain";
		(void)mca_buf_addstr(&w->body, "Service Unavailable\n");
		return;
	}
	if (m->mode == WM_POLL_GARBAGE) {
		w->status = 200;
		w->ctype = "application/json";
		(void)mca_buf_addstr(&w->body, "<html>Gateway says hi</html>");
		return;
	}
	k = ++a->polls[i];
	msg = "Request is in progress";
	st = "In Progress";
	if (m->mode != WM_NEVER && k > m->polls_before) {
		if (m->mode == WM_FAIL) {
			st = "Failed";
			msg = m->fail_message;
		} else {
			st = "Success";
			msg = "Request completed successfully";
		}
	}
	e = json_object_new_object();
	json_object_object_add(e, "requestId", json_object_new_string(id));
	json_object_object_add(e, "workflowVersion",
	    json_object_new_string("1"));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(e, "status", json_object_new_string(st));
	json_object_object_add(e, "statusCode", json_object_new_string(
	    strcmp(st, "Success") == 0 ? "2" : strcmp(st, "Failed") == 0 ?
	    "3" : "1"));
	json_object_object_add(e, "requestType",
	    json_object_new_string("workflow"));
	json_object_object_add(e, "children", json_object_new_array());
	if (m->status_object)
		resp = e;
	else {
		resp = json_object_new_array();
		json_object_array_add(resp, e);
	}
	wm_json(w, 200, resp, "Success", NULL);
}

/* Routes r: the path, then the query exactly, then the method. */
static void
wm_route(struct wm *a, const struct ts_req *r, struct wm_resp *w)
{
	const char	*q, *rest;
	size_t		 pl, ql = strlen(a->query);

	if ((q = strchr(r->target, '?')) == NULL) {
		wm_refuse(w, 400, "GW_SOURCE_MISSING", "gwsource is mandatory");
		return;
	}
	pl = (size_t)(q - r->target);
	q++;
	if (!((pl == strlen(P_SUBMIT) && strncmp(r->target, P_SUBMIT,
	    pl) == 0) || (pl == strlen(P_STATUS) && strncmp(r->target,
	    P_STATUS, pl) == 0))) {
		wm_refuse(w, 404, "NOT_FOUND", "No such API");
		return;
	}
	/* gwsource=external, and gwkey exactly when one is expected */
	if (strncmp(q, a->query, ql) != 0 || (q[ql] != '\0' && q[ql] != '&') ||
	    (a->m->gwkey == NULL && strstr(q, "gwkey") != NULL)) {
		wm_refuse(w, 400, "GW_QUERY", "query \"%s\": gwsource or gwkey "
		    "wrong", q);
		return;
	}
	rest = q + ql;
	if (strncmp(r->target, P_SUBMIT, pl) == 0) {
		if (strcmp(r->method, "POST") != 0)
			wm_refuse(w, 405, "METHOD_NOT_ALLOWED", "POST only");
		else if (*rest != '\0')
			wm_refuse(w, 400, "GW_QUERY", "unexpected query %s",
			    rest);
		else
			wm_submit(a, r, w);
		return;
	}
	if (strcmp(r->method, "GET") != 0)
		wm_refuse(w, 405, "METHOD_NOT_ALLOWED", "GET only");
	else if (strncmp(rest, "&ids=", 5) != 0 || rest[5] == '\0' ||
	    strchr(rest + 5, '&') != NULL)
		wm_refuse(w, 400, "WORKFLOW_1300", "Workflow Request ID is "
		    "Mandatory");
	else
		wm_status(a, r, rest + 5, w);
}

/* Appends line to the request log. */
static void
wm_log(const struct avxwfmock *m, const char *line, size_t len)
{
	FILE	*f;

	if ((f = fopen(m->log, "a")) == NULL)
		return;
	fprintf(f, "%.*s\n", (int)len, line);
	fclose(f);
}

/* ts_server's serve(): one request, one answer. */
static int
wm_serve(void *arg, SSL *ssl, int fd)
{
	static char	 buf[TS_REQ_MAX];
	struct wm	*a = arg;
	struct ts_req	 r;
	struct wm_resp	 w;
	struct mca_buf	 line = MCA_BUF_INIT;
	size_t		 off;
	long		 n;

	(void)fd;
	memset(&w, 0, sizeof(w));
	mca_buf_init(&w.body);
	if ((n = ts_read_request(ssl, buf, sizeof(buf), &off)) < 0)
		return 0;
	if (ts_parse(buf, (size_t)n, off, &r) != 0)
		wm_refuse(&w, 400, "BAD_REQUEST", "Malformed request");
	else
		wm_route(a, &r, &w);
	(void)mca_buf_printf(&line, "%s %s %d", r.method != NULL ? r.method :
	    "?", r.target != NULL ? r.target : "?", w.status);
	if (w.status >= 400 && w.status < 500)
		(void)mca_buf_printf(&line, "\n# %.*s", (int)w.body.len,
		    (const char *)w.body.data);
	wm_log(a->m, (const char *)line.data, line.len);
	(void)ts_respond(ssl, w.status, w.ctype != NULL ? w.ctype :
	    "application/json", w.body.data, w.body.len);
	mca_buf_free(&line);
	mca_buf_free(&w.body);
	return 0;
}

/* ts_server's refused(): counted by the tests. */
static void
wm_refused(void *arg)
{
	const struct wm	*a = arg;

	wm_log(a->m, "TLS - refused", 13);
}

void
avxwfmock_start(struct avxwfmock *m)
{
	struct wm		 a;
	struct ts_server	 t;
	char			 ca[1024];

	/* a is the child's: it never returns from ts_fork(). */
	memset(&a, 0, sizeof(a));
	a.m = m;
	(void)snprintf(a.query, sizeof(a.query), "gwsource=external%s%s",
	    m->gwkey != NULL ? "&gwkey=" : "", m->gwkey != NULL ? m->gwkey :
	    "");
	if (m->preexisting) {
		(void)snprintf(a.ids[0], sizeof(a.ids[0]), "%s",
		    m->request_id);
		a.nreqs = 1;
	}
	(void)snprintf(ca, sizeof(ca), "%s/boot-ca.pem", m->pki);
	memset(&t, 0, sizeof(t));
	t.pki = m->pki;
	/* mTLS: no client certificate from boot-ca, no handshake. */
	t.client_ca = ca;
	t.tls12 = m->tls12;
	t.serve = wm_serve;
	t.refused = wm_refused;
	t.arg = &a;
	ts_fork(&t);
	m->pid = t.pid;
	m->port = t.port;
}

void
avxwfmock_stop(struct avxwfmock *m)
{
	if (m != NULL)
		ts_reap(&m->pid);
}
