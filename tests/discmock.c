/*
 * The mock AppViewX discovery upload endpoint. See discmock.h; the
 * payload it checks is the one lib/avxdisc.h defines, answers are wrapped
 * as the AppViewX API guides wrap them ({"response", "message",
 * "appStatusCode"}).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "b64.h"
#include "buf.h"
#include "discmock.h"
#include "testutil.h"
#include "tlsserv.h"

#define P_UPLOAD	"/avxapi/certificate/discovery/upload"
#define P_TOKEN		"/avxapi/acctmgmt-get-service-token"
#define DM_BATCH_MAX	200

static const char *const dm_mode_names[DM_MAX] = {
	"ok", "500", "401", "appstatus", "garbage", "silent"
};

/* One answer. */
struct dm_resp {
	int		 status;
	const char	*ctype;
	struct mca_buf	 body;
};

static void	dm_log(const struct discmock *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	dm_refuse(const struct discmock *, struct dm_resp *, int,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));

/* Appends a line made from fmt to the log. */
static void
dm_log(const struct discmock *m, const char *fmt, ...)
{
	FILE	*f;
	va_list	 ap;

	if ((f = fopen(m->o.log, "a")) == NULL)
		return;
	va_start(ap, fmt);
	(void)vfprintf(f, fmt, ap);
	va_end(ap);
	(void)fputc('\n', f);
	(void)fclose(f);
}

/* An answer in AppViewX's wrapper, taking response over. */
static void
dm_json(struct dm_resp *w, int status, struct json_object *response,
    const char *message, const char *code)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "response", response);
	json_object_object_add(o, "message", message != NULL ?
	    json_object_new_string(message) : NULL);
	json_object_object_add(o, "appStatusCode", code != NULL ?
	    json_object_new_string(code) : NULL);
	w->status = status;
	w->ctype = "application/json";
	mca_buf_reset(&w->body);
	(void)mca_buf_addstr(&w->body, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* A refusal: logged as REFUSED, answered with an appStatusCode. */
static int
dm_refuse(const struct discmock *m, struct dm_resp *w, int status,
    const char *code, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dm_log(m, "REFUSED %d %s", status, msg);
	dm_json(w, status, NULL, msg, code);
	return 0;
}

/* o must be an object with exactly the keys of the NULL-terminated list. */
static int
dm_exactly(const struct discmock *m, struct json_object *o,
    const char *const *keys, const char *where, struct dm_resp *w)
{
	size_t	 i, n = 0;

	if (!json_object_is_type(o, json_type_object))
		return dm_refuse(m, w, 400, "DISCOVERY_INVALID_PAYLOAD", "%s: "
		    "not an object", where);
	json_object_object_foreach(o, k, v) {
		(void)v;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (keys[i] == NULL)
			return dm_refuse(m, w, 400, "DISCOVERY_INVALID_PAYLOAD",
			    "%s.%s: not a known field", where, k);
		n++;
	}
	for (i = 0; keys[i] != NULL; i++)
		;
	if (n != i)
		return dm_refuse(m, w, 400, "DISCOVERY_INVALID_PAYLOAD", "%s: "
		    "%zu fields, %zu wanted", where, n, i);
	return 1;
}

/* o.key as a string, or NULL (refused). */
static const char *
dm_str(const struct discmock *m, struct json_object *o, const char *key,
    const char *want, const char *where, struct dm_resp *w)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		(void)dm_refuse(m, w, 400, "DISCOVERY_INVALID_PAYLOAD",
		    "%s.%s: missing or not a string", where, key);
		return NULL;
	}
	if (want != NULL && strcmp(json_object_get_string(v), want) != 0) {
		(void)dm_refuse(m, w, 400, "DISCOVERY_INVALID_INPUT", "%s.%s: "
		    "\"%s\" is not what was expected", where, key,
		    json_object_get_string(v));
		return NULL;
	}
	return json_object_get_string(v);
}

/*
 * One element of "certificates": its hash appended to hashes. 1 good,
 * 0 refused.
 */
static int
dm_cert(const struct discmock *m, struct json_object *e, size_t i,
    struct mca_buf *hashes, struct dm_resp *w)
{
	static const char *const keys[] = { "certificate", "location",
	    "sha256", NULL };
	struct mca_buf		 der = MCA_BUF_INIT;
	const unsigned char	*p;
	const char		*b64, *loc, *sha, *h;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	char			 hex[2 * EVP_MAX_MD_SIZE + 1], where[64];
	unsigned int		 ml = 0, k;
	size_t			 n;
	X509			*x = NULL;
	int			 ok = 0;

	(void)snprintf(where, sizeof(where), "payload.certificates[%zu]", i);
	if (dm_exactly(m, e, keys, where, w) != 1 ||
	    (b64 = dm_str(m, e, "certificate", NULL, where, w)) == NULL ||
	    (loc = dm_str(m, e, "location", NULL, where, w)) == NULL ||
	    (sha = dm_str(m, e, "sha256", NULL, where, w)) == NULL)
		goto out;
	/* RFC 4648 4: the alphabet and '=' only, no line break */
	n = strlen(b64);
	if (n == 0 || strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/=") != n || mca_b64_decode(b64, n,
	    &der) != 0) {
		(void)dm_refuse(m, w, 400, "DISCOVERY_INVALID_CERTIFICATE",
		    "%s.certificate: not base64", where);
		goto out;
	}
	p = der.data;
	if ((x = d2i_X509(NULL, &p, (long)der.len)) == NULL ||
	    p != der.data + der.len) {
		(void)dm_refuse(m, w, 400, "DISCOVERY_INVALID_CERTIFICATE",
		    "%s.certificate: not one DER certificate", where);
		goto out;
	}
	(void)EVP_Digest(der.data, der.len, md, &ml, EVP_sha256(), NULL);
	for (k = 0; k < ml; k++)
		(void)snprintf(hex + 2 * k, sizeof(hex) - 2 * k, "%02X", md[k]);
	if (strcmp(sha, hex) != 0) {
		(void)dm_refuse(m, w, 400, "DISCOVERY_INVALID_CERTIFICATE",
		    "%s.sha256: not the certificate's", where);
		goto out;
	}
	if ((h = strrchr(loc, '#')) == NULL || h == loc || h[1] == '\0' ||
	    strspn(h + 1, "0123456789") != strlen(h + 1)) {
		(void)dm_refuse(m, w, 400, "DISCOVERY_INVALID_INPUT", "%s."
		    "location: \"%s\" is not PLACE#INDEX", where, loc);
		goto out;
	}
	(void)mca_buf_printf(hashes, " %s", hex);
	ok = 1;
out:
	X509_free(x);
	mca_buf_free(&der);
	return ok;
}

/*
 * POST P_UPLOAD, its query checked: the payload. Returns 1 to keep the
 * connection open unanswered (DM_SILENT), else 0 with w set.
 */
static int
dm_upload(struct discmock *m, const struct ts_req *r, struct dm_resp *w)
{
	static const char *const top[] = { "payload", NULL };
	static const char *const pl[] = { "discoveryName", "groupName",
	    "source", "certificates", NULL };
	static const char *const pla[] = { "discoveryName", "groupName",
	    "source", "certificates", "estAgentSettingName", NULL };
	struct json_tokener	*tok;
	struct json_object	*o = NULL, *p, *arr;
	struct mca_buf		 hashes = MCA_BUF_INIT;
	enum discmock_mode	 mode;
	char			 v[8192];
	const char		*t;
	size_t			 i, n;
	int			 keep = 0;

	if (ts_header(r, "Content-Type", v, sizeof(v)) == NULL ||
	    strcasecmp(v, "application/json") != 0) {
		(void)dm_refuse(m, w, 415, "UNSUPPORTED_MEDIA_TYPE",
		    "Content-Type must be application/json");
		goto out;
	}
	t = ts_header(r, "token", v, sizeof(v));
	if (m->o.token == NULL ? t != NULL : t == NULL ||
	    strcmp(t, m->o.token) != 0) {
		(void)dm_refuse(m, w, 401, "TOKEN_INVALID", m->o.token == NULL ?
		    "a token header was sent" : "token is invalid or expired");
		goto out;
	}
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, r->body, (int)r->bodylen);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != r->bodylen) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o == NULL) {
		(void)dm_refuse(m, w, 400, "DISCOVERY_INVALID_PAYLOAD", "the "
		    "body is not one JSON text");
		goto out;
	}
	if (dm_exactly(m, o, top, "body", w) != 1 ||
	    !json_object_object_get_ex(o, "payload", &p) ||
	    dm_exactly(m, p, m->o.agent != NULL ? pla : pl, "payload",
	    w) != 1 ||
	    dm_str(m, p, "discoveryName", m->o.discovery_name, "payload",
	    w) == NULL ||
	    dm_str(m, p, "groupName", m->o.group, "payload", w) == NULL ||
	    dm_str(m, p, "source", "microca", "payload", w) == NULL ||
	    (m->o.agent != NULL && dm_str(m, p, "estAgentSettingName",
	    m->o.agent, "payload", w) == NULL))
		goto out;
	if (!json_object_object_get_ex(p, "certificates", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) == 0 || n > DM_BATCH_MAX) {
		(void)dm_refuse(m, w, 400, "DISCOVERY_INVALID_PAYLOAD",
		    "payload.certificates: not an array of 1 to %d",
		    DM_BATCH_MAX);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!dm_cert(m, json_object_array_get_idx(arr, i), i, &hashes,
		    w))
			goto out;
	/* Well-formed: recorded, then answered as the mode says. */
	m->uploads++;
	mode = m->o.faults == 0 || m->uploads <= m->o.faults ? m->o.mode :
	    DM_OK;
	dm_log(m, "UPLOAD %s %zu%s", dm_mode_names[mode], n,
	    mca_buf_str(&hashes));
	switch (mode) {
	case DM_OK:
		p = json_object_new_object();
		json_object_object_add(p, "accepted",
		    json_object_new_int64((int64_t)n));
		dm_json(w, 200, p, "Success", NULL);
		break;
	case DM_500:
		w->status = 500;
		w->ctype = "text/html";
		(void)mca_buf_addstr(&w->body, "<html><body>Internal Server "
		    "Error</body></html>");
		break;
	case DM_401:
		dm_json(w, 401, NULL, "Client certificate is not mapped to "
		    "an EST agent", "AUTH_1002");
		break;
	case DM_APPSTATUS:
		(void)snprintf(v, sizeof(v), "%s (token %s)", DM_APPSTATUS_MSG,
		    m->o.token != NULL ? m->o.token : "none");
		dm_json(w, 200, NULL, v, DM_APPSTATUS_CODE);
		break;
	case DM_GARBAGE:
		w->status = 200;
		w->ctype = "application/json";
		(void)mca_buf_addstr(&w->body, "{\"response\": {\"accepted\"");
		break;
	default:
		keep = 1;
		break;
	}
out:
	json_object_put(o);
	mca_buf_free(&hashes);
	return keep;
}

/* POST P_TOKEN: HTTP Basic client_id:client_secret, answered token. */
static void
dm_token(struct discmock *m, const struct ts_req *r, struct dm_resp *w)
{
	struct mca_buf	 want = MCA_BUF_INIT, cred = MCA_BUF_INIT;
	char		 v[1024];

	(void)mca_buf_printf(&cred, "%s:%s", m->o.client_id,
	    m->o.client_secret);
	(void)mca_buf_addstr(&want, "Basic ");
	(void)mca_b64_encode(cred.data, cred.len, 0, &want);
	if (ts_header(r, "Authorization", v, sizeof(v)) == NULL ||
	    strcmp(v, mca_buf_str(&want)) != 0 || m->o.token == NULL) {
		dm_log(m, "TOKEN 401");
		dm_json(w, 401, NULL, "Invalid client credentials",
		    "ACCTMGMT_1001");
	} else {
		dm_log(m, "TOKEN 200");
		dm_json(w, 200, json_object_new_string(m->o.token), "Success",
		    NULL);
	}
	mca_buf_free_secret(&cred);
	mca_buf_free_secret(&want);
}

/* Routes r: the path, the query exactly, then the method. */
static int
dm_route(struct discmock *m, const struct ts_req *r, struct dm_resp *w)
{
	char		 query[256];
	const char	*q;
	size_t		 pl;

	(void)snprintf(query, sizeof(query), "gwsource=external%s%s",
	    m->o.gwkey != NULL ? "&gwkey=" : "", m->o.gwkey != NULL ?
	    m->o.gwkey : "");
	if ((q = strchr(r->target, '?')) == NULL)
		return dm_refuse(m, w, 400, "GW_SOURCE_MISSING", "%s: gwsource "
		    "is mandatory", r->target);
	pl = (size_t)(q - r->target);
	q++;
	if (m->o.client_id != NULL && pl == strlen(P_TOKEN) &&
	    strncmp(r->target, P_TOKEN, pl) == 0 &&
	    strcmp(r->method, "POST") == 0) {
		dm_token(m, r, w);
		return 0;
	}
	if (pl != strlen(P_UPLOAD) || strncmp(r->target, P_UPLOAD, pl) != 0)
		return dm_refuse(m, w, 404, "NOT_FOUND", "%s: no such API",
		    r->target);
	if (strcmp(q, query) != 0)
		return dm_refuse(m, w, 400, "GW_QUERY", "query \"%s\": not "
		    "\"%s\"", q, query);
	if (strcmp(r->method, "POST") != 0)
		return dm_refuse(m, w, 405, "METHOD_NOT_ALLOWED", "%s: POST "
		    "only", r->method);
	return dm_upload(m, r, w);
}

/* ts_server's serve(): one request, one answer (or none: DM_SILENT). */
static int
dm_serve(void *arg, SSL *ssl, int fd)
{
	static char	 buf[TS_REQ_MAX];
	struct discmock	*m = arg;
	struct ts_req	 r;
	struct dm_resp	 w;
	size_t		 off;
	long		 n;
	int		 keep = 0;

	(void)fd;
	memset(&w, 0, sizeof(w));
	mca_buf_init(&w.body);
	if ((n = ts_read_request(ssl, buf, sizeof(buf), &off)) < 0)
		(void)dm_refuse(m, &w, 400, "BAD_REQUEST", "request unreadable "
		    "or over %u bytes", TS_REQ_MAX);
	else if (ts_parse(buf, (size_t)n, off, &r) != 0)
		(void)dm_refuse(m, &w, 400, "BAD_REQUEST", "malformed request");
	else
		keep = dm_route(m, &r, &w);
	if (!keep)
		(void)ts_respond(ssl, w.status, w.ctype != NULL ? w.ctype :
		    "application/json", w.body.data, w.body.len);
	mca_buf_free(&w.body);
	return keep;
}

/* ts_server's refused(). */
static void
dm_refused(void *arg)
{
	dm_log(arg, "TLS refused");
}

unsigned
discmock_start(struct discmock *m, const struct discmock_opts *o)
{
	memset(m, 0, sizeof(*m));
	m->o = *o;
	ck_assert_ptr_nonnull(o->certfile);
	ck_assert_ptr_nonnull(o->keyfile);
	ck_assert_ptr_nonnull(o->client_ca);
	ck_assert_ptr_nonnull(o->log);
	ck_assert(o->mode >= DM_OK && o->mode < DM_MAX);
	m->ts.certfile = o->certfile;
	m->ts.keyfile = o->keyfile;
	m->ts.client_ca = o->client_ca;
	m->ts.tls12 = o->tls12;
	m->ts.serve = dm_serve;
	m->ts.refused = dm_refused;
	m->ts.arg = m;
	ts_fork(&m->ts);
	return m->ts.port;
}

void
discmock_stop(struct discmock *m)
{
	if (m != NULL)
		ts_stop(&m->ts);
}

void
discmock_seen(const struct discmock *m, struct discmock_seen *s)
{
	struct mca_buf	 b = MCA_BUF_INIT, h = MCA_BUF_INIT;
	const char	*p, *e, *sp;
	long long	 n;
	char		*end;

	memset(s, 0, sizeof(*s));
	if (access(m->o.log, F_OK) == 0)
		ck_assert_int_eq(tu_read(m->o.log, &b), 0);
	for (p = mca_buf_str(&b); *p != '\0'; p = e + 1) {
		/*
		 * A line still being written (a refused handshake the client
		 * has already given up on) is not read yet.
		 */
		if ((e = strchr(p, '\n')) == NULL)
			break;
		if (strncmp(p, "UPLOAD ", 7) == 0) {
			ck_assert_ptr_nonnull(sp = strchr(p + 7, ' '));
			if (strncmp(p + 7, "ok ", 3) == 0)
				s->accepted++;
			n = strtoll(sp + 1, &end, 10);
			ck_assert(end > sp + 1 && n > 0);
			if (s->uploads < DM_SEEN_MAX)
				s->counts[s->uploads] = (int)n;
			s->uploads++;
			(void)mca_buf_printf(&h, "%s%.*s", h.len > 0 ? " " : "",
			    (int)(e - end - 1 > 0 ? e - end - 1 : 0), end + 1);
		} else if (strncmp(p, "REFUSED ", 8) == 0) {
			s->refused++;
			(void)snprintf(s->last_refusal,
			    sizeof(s->last_refusal), "%.*s", (int)(e - p - 8),
			    p + 8);
		} else if (strncmp(p, "TOKEN ", 6) == 0)
			s->tokens++;
		else if (strncmp(p, "TLS refused", 11) == 0)
			s->tls_refused++;
		else
			ck_abort_msg("discmock log: \"%.*s\"", (int)(e - p), p);
	}
	s->sha256 = strdup(mca_buf_str(&h) != NULL ? mca_buf_str(&h) : "");
	ck_assert_ptr_nonnull(s->sha256);
	mca_buf_free(&b);
	mca_buf_free(&h);
}
