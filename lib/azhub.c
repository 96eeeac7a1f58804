/*
 * Azure IoT Hub, direct mode: one device identity's thumbprints over the
 * hub's REST API. See azhub.h for the sequence and what is sent.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "avxjson.h"	/* mca_avxj_parse_cap(), mca_avxj_member() */
#include "azhub.h"
#include "azhub_int.h"
#include "buf.h"
#include "err.h"
#include "estc.h"	/* mca_estc_retry_after() */
#include "httpc.h"

#define AZHUB_JSON_DEPTH	32	/* nesting of an identity we walk */
#define AZHUB_SAID_MAX		160	/* bytes of the hub's message shown */
#define AZHUB_DEVID_MAX		128	/* IoT Hub device ids */

/* One update's state across its requests. */
struct run {
	const struct mca_azhub		*h;
	struct mca_azhub_result		*r;
	struct mca_httpc_tls		 tls;
	char				*token;		/* wiped */
	int				 renewed;
};

/* 1 if s is n uppercase hex digits. */
static int
thumb_ok(const char *s, size_t n)
{
	size_t	 i;

	if (s == NULL || strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' &&
		    s[i] <= 'F')))
			return 0;
	return 1;
}

/* 1 if a and b are the same thumbprint (NULL: none), case aside. */
static int
thumb_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

/* See azhub_int.h. */
void
mca_azhub_said(char *out, size_t len, const char *in, size_t inlen,
    const char *tok)
{
	char		*p;
	size_t		 i, n = 0, tl;
	unsigned char	 c;

	for (i = 0; i < inlen && n < len - 1; i++) {
		c = (unsigned char)in[i];
		if (c < 0x20 || c == 0x7f)
			continue;
		if (c > 0x7e)
			c = '?';
		if (c == ' ' && (n == 0 || out[n - 1] == ' '))
			continue;
		out[n++] = (char)c;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	if (tok == NULL || (tl = strlen(tok)) < 8)
		return;
	while ((p = strstr(out, tok)) != NULL) {
		memmove(p + 3, p + tl, strlen(p + tl) + 1);
		memcpy(p, "***", 3);
	}
	/* Its start, cut at the cap, too. */
	n = strlen(out);
	for (i = n > tl ? n - tl : 0; i + 8 <= n; i++)
		if (strncmp(out + i, tok, n - i) == 0) {
			(void)snprintf(out + i, len - i, "***");
			break;
		}
}

/* See azhub_int.h. */
int
mca_azhub_parse(const struct mca_buf *body, struct json_object **root)
{
	return mca_avxj_parse_cap(body, MCA_AZHUB_BODY_MAX, AZHUB_JSON_DEPTH,
	    root);
}

/*
 * The hub's thumbprint name in x509Thumbprint: 0 and *out set (NULL
 * when null or absent), or MCA_ERR_INVAL (another type, or not 1-64
 * hex digits).
 */
static int
hub_thumb(struct json_object *xt, const char *name, const char **out)
{
	struct json_object	*v = NULL;
	const char		*s;
	size_t			 i, n;

	*out = NULL;
	if (xt == NULL || !json_object_object_get_ex(xt, name, &v) ||
	    v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return MCA_ERR_INVAL;
	s = json_object_get_string(v);
	if ((n = strlen(s)) == 0)
		return 0;
	if (n > 64 || n != (size_t)json_object_get_string_len(v))
		return MCA_ERR_INVAL;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' &&
		    s[i] <= 'F') || (s[i] >= 'a' && s[i] <= 'f')))
			return MCA_ERR_INVAL;
	*out = s;
	return 0;
}

/* See azhub_int.h. */
int
mca_azhub_identity(struct json_object *o, const char *devid,
    const char *where, char etag[MCA_AZHUB_ETAG_MAX], const char **type,
    const char **p, const char **s, struct mca_diag *d)
{
	struct json_object	*v, *auth, *xt = NULL;
	const char		*e;
	size_t			 i, n;

	*type = *p = *s = NULL;
	etag[0] = '\0';
	if ((v = mca_avxj_member(o, "deviceId", json_type_string)) == NULL ||
	    strcmp(json_object_get_string(v), devid) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "%s: the answer is not the "
		    "identity of device %.128s", where, devid);
	if ((v = mca_avxj_member(o, "etag", json_type_string)) == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "%s: the identity has no "
		    "etag", where);
	e = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n >= MCA_AZHUB_ETAG_MAX || strlen(e) != n)
		return mca_diag(d, MCA_ERR_INVAL, "%s: the identity's etag is "
		    "empty or over %d bytes", where, MCA_AZHUB_ETAG_MAX - 1);
	for (i = 0; i < n; i++)
		if (e[i] <= 0x20 || e[i] >= 0x7f || e[i] == '"' ||
		    e[i] == '\\')
			return mca_diag(d, MCA_ERR_INVAL, "%s: the identity's "
			    "etag has a character an entity-tag cannot hold "
			    "(RFC 7232 2.3)", where);
	memcpy(etag, e, n + 1);
	if ((auth = mca_avxj_member(o, "authentication",
	    json_type_object)) != NULL) {
		if ((v = mca_avxj_member(auth, "type",
		    json_type_string)) != NULL)
			*type = json_object_get_string(v);
		(void)json_object_object_get_ex(auth, "x509Thumbprint", &xt);
		if (xt != NULL && !json_object_is_type(xt, json_type_object))
			return mca_diag(d, MCA_ERR_INVAL, "%s: "
			    "authentication.x509Thumbprint is not an object",
			    where);
	}
	if (hub_thumb(xt, "primaryThumbprint", p) != 0 ||
	    hub_thumb(xt, "secondaryThumbprint", s) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "%s: a thumbprint of the "
		    "identity is not a string of hex digits", where);
	return 0;
}

/* {"type": "selfSigned", "x509Thumbprint": {P, S or null}}, or NULL. */
static struct json_object *
new_auth(const char *p, const char *s)
{
	struct json_object	*a, *xt, *sv = NULL;

	if ((a = json_object_new_object()) == NULL)
		return NULL;
	if ((xt = json_object_new_object()) == NULL)
		goto fail;
	if (json_object_object_add(a, "type",
	    json_object_new_string("selfSigned")) != 0 ||
	    json_object_object_add(a, "x509Thumbprint", xt) != 0) {
		json_object_put(xt);
		goto fail;
	}
	if (json_object_object_add(xt, "primaryThumbprint",
	    json_object_new_string(p)) != 0)
		goto fail;
	if (s != NULL && (sv = json_object_new_string(s)) == NULL)
		goto fail;
	if (json_object_object_add(xt, "secondaryThumbprint", sv) != 0) {
		json_object_put(sv);
		goto fail;
	}
	return a;
fail:
	json_object_put(a);
	return NULL;
}

/* Serialises o into out (reset first); 0 or MCA_ERR_NOMEM. */
static int
json_out(struct json_object *o, struct mca_buf *out)
{
	const char	*s;
	size_t		 n;

	mca_buf_reset(out);
	if ((s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &n)) == NULL)
		return MCA_ERR_NOMEM;
	return mca_buf_add(out, s, n);
}

/* The hub's Retry-After into r->retry_after (-1: none or unreadable). */
static void
retry_after(struct run *x, const struct mca_httpc_resp *resp)
{
	long	 secs;
	int	 rc;

	x->r->retry_after = -1;
	rc = mca_estc_retry_after(resp->retry_after, time(NULL), &secs);
	if (rc == 0)
		x->r->retry_after = secs;
	else if (rc == MCA_ERR_TOOBIG)
		x->r->retry_after = MCA_ESTC_RETRY_MAX;
}

/*
 * One request with the current token; a 401 gets a fresh token (once per
 * update) and the request again. 0 with resp filled (any status but
 * 401 the first time), or an error: the network's as MCA_ERR_BUSY.
 */
static int
call(struct run *x, const char *method, const struct mca_buf *body,
    const char *etag, struct mca_httpc_resp *resp, struct mca_diag *d)
{
	struct mca_httpc_req	 req;
	struct mca_buf		 ah = MCA_BUF_INIT;
	char			 im[MCA_AZHUB_ETAG_MAX + 16];
	const char		*hdrs[3];
	int			 rc, n = 0;

	for (;;) {
		memset(&req, 0, sizeof(req));
		mca_buf_reset(&ah);
		if ((rc = mca_buf_reserve(&ah, 16 + strlen(x->token))) != 0 ||
		    (rc = mca_buf_printf(&ah, "Authorization: %s",
		    x->token)) != 0)
			goto out;
		n = 0;
		hdrs[n++] = mca_buf_str(&ah);
		if (etag != NULL) {
			/* RFC 7232 3.1: a quoted entity-tag. */
			(void)snprintf(im, sizeof(im), "If-Match: \"%s\"",
			    etag);
			hdrs[n++] = im;
		}
		hdrs[n] = NULL;
		req.method = method;
		req.url = x->h->url;
		req.headers = hdrs;
		req.tls = &x->tls;
		req.resolve = x->h->resolve;
		req.timeout = x->h->timeout;
		req.body_max = MCA_AZHUB_BODY_MAX;
		if (body != NULL) {
			req.ctype = "application/json";
			req.body = body->data;
			req.bodylen = body->len;
		}
		rc = mca_httpc_do(&req, resp, d);
		mca_buf_free_secret(&ah);
		if (rc != 0) {
			x->r->status = 0;
			/* Cannot connect, timed out, cut off: later. */
			if (rc == MCA_ERR_IO)
				rc = MCA_ERR_BUSY;
			goto out;
		}
		x->r->status = resp->status;
		if (resp->status != 401 || x->renewed)
			break;
		/* The token was refused: a fresh one, once. */
		mca_httpc_resp_free(resp);
		x->renewed = 1;
		OPENSSL_cleanse(x->token, strlen(x->token));
		free(x->token);
		x->token = NULL;
		if ((rc = x->h->auth(x->h->auth_arg, 1, &x->token, d)) != 0)
			goto out;
		if (x->token == NULL) {
			rc = mca_diag(d, MCA_ERR_INTERNAL, "IoT Hub: the token "
			    "callback gave no token");
			goto out;
		}
	}
	rc = 0;
out:
	mca_buf_free_secret(&ah);
	OPENSSL_cleanse(im, sizeof(im));
	return rc;
}

/*
 * A status that ends the update (not 200, 404 on GET, 412/409 on PUT),
 * judged: its MCA_ERR_* and one line with the hub's message.
 */
static int
refused(struct run *x, const char *method, const struct mca_httpc_resp *resp,
    struct mca_diag *d)
{
	struct json_object	*o = NULL, *m;
	char			 msg[AZHUB_SAID_MAX];
	long			 st = resp->status;
	int			 rc;

	if (st == 429 || st == 408 || (st >= 500 && st <= 599)) {
		retry_after(x, resp);
		rc = MCA_ERR_BUSY;
	} else if (st == 401 || st == 403)
		rc = MCA_ERR_AUTH;
	else
		rc = MCA_ERR_POLICY;
	/* IoT Hub's errors: {"Message": "ErrorCode:...", "ExceptionMessage"} */
	(void)mca_azhub_parse(&resp->body, &o);
	if ((m = mca_avxj_member(o, "Message", json_type_string)) != NULL ||
	    (m = mca_avxj_member(o, "message", json_type_string)) != NULL)
		mca_azhub_said(msg, sizeof(msg), json_object_get_string(m),
		    (size_t)json_object_get_string_len(m), x->token);
	else
		mca_azhub_said(msg, 121, (const char *)resp->body.data,
		    resp->body.len, x->token);
	json_object_put(o);
	if (rc == MCA_ERR_BUSY && x->r->retry_after >= 0)
		return mca_diag(d, rc, "%s %.200s: HTTP %ld, Retry-After %lld "
		    "s%s%s", method, x->h->url, st, x->r->retry_after,
		    msg[0] != '\0' ? ": " : "", msg);
	return mca_diag(d, rc, "%s %.200s: HTTP %ld%s%s%s", method, x->h->url,
	    st, st == 401 ? " even with a fresh token" : "",
	    msg[0] != '\0' ? ": " : "", msg);
}

/* The arguments, before anything is sent. */
static int
check_args(const struct mca_azhub *h, const struct mca_azhub_update *u,
    struct mca_diag *d)
{
	size_t	 tl, n;

	if (h == NULL || u == NULL || h->url == NULL || h->auth == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "IoT Hub: no device URL or "
		    "no token callback");
	if (u->device_id == NULL || (n = strlen(u->device_id)) == 0 ||
	    n > AZHUB_DEVID_MAX)
		return mca_diag(d, MCA_ERR_INVAL, "IoT Hub: device id empty "
		    "or over %d bytes", AZHUB_DEVID_MAX);
	tl = u->sha256 ? 64 : 40;
	if (!thumb_ok(u->primary, tl) || (u->secondary != NULL &&
	    !thumb_ok(u->secondary, tl)))
		return mca_diag(d, MCA_ERR_INVAL, "IoT Hub device %.128s: a "
		    "thumbprint is not %zu uppercase hex digits (%s)",
		    u->device_id, tl, u->sha256 ? "SHA-256" : "SHA-1");
	if (u->secondary != NULL && strcmp(u->secondary, u->primary) == 0)
		return mca_diag(d, MCA_ERR_INVAL, "IoT Hub device %.128s: the "
		    "secondary thumbprint is the primary", u->device_id);
	if (h->max_conflicts < 0)
		return mca_diag(d, MCA_ERR_INVAL, "IoT Hub: max_conflicts "
		    "below 0");
	return 0;
}

/*
 * Checks a PUT's answer: the identity, with the thumbprints sent; its
 * etag into r->etag.
 */
static int
confirmed(struct run *x, const struct mca_azhub_update *u,
    const struct mca_httpc_resp *resp, const char *s, struct mca_diag *d)
{
	struct json_object	*o = NULL;
	const char		*type, *hp, *hs;
	char			 where[256];
	int			 rc;

	(void)snprintf(where, sizeof(where), "PUT %.200s: HTTP %ld",
	    x->h->url, resp->status);
	if (mca_azhub_parse(&resp->body, &o) != 0) {
		rc = mca_diag(d, MCA_ERR_INVAL, "%s with a body that is not a "
		    "JSON object", where);
		goto out;
	}
	if ((rc = mca_azhub_identity(o, u->device_id, where, x->r->etag,
	    &type, &hp, &hs, d)) != 0)
		goto out;
	if (type == NULL || strcmp(type, "selfSigned") != 0 ||
	    !thumb_eq(hp, u->primary) || !thumb_eq(hs, s)) {
		x->r->etag[0] = '\0';
		rc = mca_diag(d, MCA_ERR_INVAL, "%s: the hub shows %s "
		    "authentication with other thumbprints than sent", where,
		    type != NULL ? type : "no");
		goto out;
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

int
mca_azhub_update(const struct mca_azhub *h, const struct mca_azhub_update *u,
    struct mca_azhub_result *r, struct mca_diag *d)
{
	struct run		 x;
	struct mca_httpc_resp	 resp;
	struct mca_buf		 body = MCA_BUF_INIT;
	struct json_object	*o = NULL, *auth = NULL;
	char			 etag[MCA_AZHUB_ETAG_MAX], where[256];
	char			 sbuf[65];
	const char		*type, *hp, *hs, *s;
	size_t			 i;
	int			 rc, rounds = 0, max, create;

	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
	memset(&x, 0, sizeof(x));
	memset(&resp, 0, sizeof(resp));
	mca_buf_init(&resp.body);
	if ((rc = check_args(h, u, d)) != 0)
		return rc;
	x.h = h;
	x.r = r;
	x.tls.cafile = h->cafile;
	max = h->max_conflicts > 0 ? h->max_conflicts : MCA_AZHUB_CONFLICTS;
	if ((rc = h->auth(h->auth_arg, 0, &x.token, d)) != 0)
		goto out;
	if (x.token == NULL) {
		rc = mca_diag(d, MCA_ERR_INTERNAL, "IoT Hub: the token "
		    "callback gave no token");
		goto out;
	}
	for (;;) {
		json_object_put(o);
		o = NULL;
		mca_httpc_resp_free(&resp);
		if ((rc = call(&x, "GET", NULL, NULL, &resp, d)) != 0)
			goto out;
		s = u->secondary;
		if (resp.status == 404) {
			/* No such device: a new one. */
			create = 1;
			if ((o = json_object_new_object()) == NULL ||
			    json_object_object_add(o, "deviceId",
			    json_object_new_string(u->device_id)) != 0 ||
			    json_object_object_add(o, "status",
			    json_object_new_string("enabled")) != 0) {
				rc = MCA_ERR_NOMEM;
				goto out;
			}
		} else if (resp.status == 200) {
			create = 0;
			(void)snprintf(where, sizeof(where), "GET %.200s: "
			    "HTTP 200", h->url);
			if (mca_azhub_parse(&resp.body, &o) != 0) {
				rc = mca_diag(d, MCA_ERR_INVAL, "%s with a "
				    "body that is not a JSON object", where);
				goto out;
			}
			if ((rc = mca_azhub_identity(o, u->device_id, where,
			    etag, &type, &hp, &hs, d)) != 0)
				goto out;
			/*
			 * The secondary: the one given; else the hub's
			 * primary, unless that is ours already (a run that
			 * got this far before): then the hub's secondary.
			 */
			if (s == NULL)
				s = thumb_eq(hp, u->primary) ? hs : hp;
			if (type != NULL && strcmp(type, "selfSigned") == 0 &&
			    thumb_eq(hp, u->primary) && thumb_eq(hs, s)) {
				/* In place: nothing to change. */
				memcpy(r->etag, etag, sizeof(r->etag));
				rc = 0;
				goto out;
			}
			/* Kept, uppercase: o's strings go with its auth. */
			if (s != NULL && s != u->secondary) {
				for (i = 0; s[i] != '\0' &&
				    i < sizeof(sbuf) - 1; i++)
					sbuf[i] = (s[i] >= 'a' && s[i] <= 'f') ?
					    (char)(s[i] - 'a' + 'A') : s[i];
				sbuf[i] = '\0';
				s = sbuf;
			}
		} else {
			rc = refused(&x, "GET", &resp, d);
			goto out;
		}
		/* Only "authentication" changes. */
		if ((auth = new_auth(u->primary, s)) == NULL) {
			rc = MCA_ERR_NOMEM;
			goto out;
		}
		json_object_object_del(o, "authentication");
		if (json_object_object_add(o, "authentication", auth) != 0) {
			json_object_put(auth);
			rc = MCA_ERR_NOMEM;
			goto out;
		}
		if ((rc = json_out(o, &body)) != 0)
			goto out;
		mca_httpc_resp_free(&resp);
		if ((rc = call(&x, "PUT", &body, create ? NULL : etag, &resp,
		    d)) != 0)
			goto out;
		if (resp.status == 200 || resp.status == 201) {
			if ((rc = confirmed(&x, u, &resp, s, d)) != 0)
				goto out;
			r->created = create;
			rc = 0;
			goto out;
		}
		/*
		 * The identity moved on between our GET and PUT: 412 (its
		 * etag changed), 409 (created by someone else), or 404 on
		 * an update (deleted). GET again, a bounded number of times.
		 */
		if (resp.status == 412 || resp.status == 409 ||
		    (resp.status == 404 && !create)) {
			if (++rounds > max) {
				rc = mca_diag(d, MCA_ERR_BUSY, "PUT %.200s: "
				    "HTTP %ld %d times: the device keeps "
				    "changing", h->url, resp.status, rounds);
				goto out;
			}
			continue;
		}
		rc = refused(&x, "PUT", &resp, d);
		goto out;
	}
out:
	if (x.token != NULL) {
		OPENSSL_cleanse(x.token, strlen(x.token));
		free(x.token);
	}
	json_object_put(o);
	mca_httpc_resp_free(&resp);
	mca_buf_free(&body);
	if (rc != 0 && rc != MCA_ERR_BUSY)
		r->retry_after = -1;
	return rc;
}
