/*
 * The JSON of the AppViewX clients: the answer envelope and the request
 * wrapper. See avxjson.h. Moved here from lib/avx.c unchanged in
 * behaviour, so that lib/avxwf.c judges answers the same way.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "avxjson.h"
#include "buf.h"
#include "err.h"
#include "httpc.h"

#define AVXJ_DEPTH	32	/* nesting of an answer we walk */
#define AVXJ_CODE_MAX	64	/* bytes of an appStatusCode shown */

/* 1 if s is 1 to max - 1 of [A-Za-z0-9._-]: safe in a URL and a message. */
int
mca_avxj_word_ok(const char *s, size_t max)
{
	size_t	 i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i + 1 >= max || (!isalnum((unsigned char)s[i]) &&
		    s[i] != '.' && s[i] != '_' && s[i] != '-'))
			return 0;
	return 1;
}

/*
 * Copies what a server said into out (len > 0) for a message: at most
 * len - 1 bytes of in[0..inlen), each control character dropped, each
 * byte outside printable ASCII shown as '?', runs of spaces as one; then
 * every occurrence of the secrets (NULL-safe, two) replaced by "***".
 */
void
mca_avxj_said(char *out, size_t len, const char *in, size_t inlen,
    const char *secret1, const char *secret2)
{
	const char	*sec[2] = { secret1, secret2 };
	char		*p;
	size_t		 i, n = 0, sl;
	unsigned char	 c;
	int		 k;

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
	/* A secret is replaced whole; its start, cut at the cap, too. */
	for (k = 0; k < 2; k++) {
		if (sec[k] == NULL || (sl = strlen(sec[k])) == 0)
			continue;
		while ((p = strstr(out, sec[k])) != NULL) {
			memmove(p + 3, p + sl, strlen(p + sl) + 1);
			memcpy(p, "***", 3);
		}
		n = strlen(out);
		for (i = n > sl ? n - sl : 0; i < n; i++)
			if (strncmp(out + i, sec[k], n - i) == 0 &&
			    n - i >= 4) {
				(void)snprintf(out + i, len - i, "***");
				break;
			}
	}
}

/*
 * Parses body (at most max bytes) as one JSON object, strictly, nested
 * at most depth deep; an embedded NUL or trailing bytes are refused.
 * *root is NULL unless 0 is returned.
 */
int
mca_avxj_parse_cap(const struct mca_buf *body, size_t max, int depth,
    struct json_object **root)
{
	struct json_tokener	*tok;
	const char		*s = (const char *)body->data;
	size_t			 off;

	*root = NULL;
	if (body->len == 0 || body->len > max ||
	    memchr(s, '\0', body->len) != NULL)
		return MCA_ERR_INVAL;
	if ((tok = json_tokener_new_ex(depth)) == NULL)
		return MCA_ERR_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	*root = json_tokener_parse_ex(tok, s, (int)body->len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(*root);
		*root = NULL;
	} else
		for (off = json_tokener_get_parse_end(tok); off < body->len;
		    off++)
			if (strchr(" \t\r\n", s[off]) == NULL) {
				json_object_put(*root);
				*root = NULL;
				break;
			}
	json_tokener_free(tok);
	if (*root != NULL && !json_object_is_type(*root, json_type_object)) {
		json_object_put(*root);
		*root = NULL;
	}
	return *root != NULL ? 0 : MCA_ERR_INVAL;
}

/*
 * Parses body as one JSON value (an object), strictly, with a depth cap;
 * an embedded NUL is refused. *root is NULL unless 0 is returned.
 */
int
mca_avxj_parse(const struct mca_buf *body, struct json_object **root)
{
	return mca_avxj_parse_cap(body, MCA_BUF_MAX, AVXJ_DEPTH, root);
}

/* The member key of o if it has type t, else NULL (absent, other type). */
struct json_object *
mca_avxj_member(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object	*v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

int
mca_avxj_judge(const struct mca_avxj_call *c,
    const struct mca_httpc_resp *resp, struct json_object **root,
    struct mca_diag *d)
{
	struct json_object	*o = NULL, *code, *msg;
	const char		*cs, *ms = "", *s1 = c->secret[0],
				*s2 = c->secret[1];
	char			 codebuf[AVXJ_CODE_MAX],
				 msgbuf[MCA_AVXJ_MSG_MAX];
	size_t			 ml = 0;
	int			 rc;

	*root = NULL;
	(void)mca_avxj_parse(&resp->body, &o);
	if (o != NULL && json_object_object_get_ex(o, "appStatusCode", &code) &&
	    code != NULL && !json_object_is_type(code, json_type_null)) {
		cs = json_object_is_type(code, json_type_string) ?
		    json_object_get_string(code) :
		    json_object_to_json_string_ext(code,
		    JSON_C_TO_STRING_PLAIN);
		mca_avxj_said(codebuf, sizeof(codebuf), cs, strlen(cs), s1, s2);
		if ((msg = mca_avxj_member(o, "message", json_type_string)) !=
		    NULL) {
			ms = json_object_get_string(msg);
			ml = (size_t)json_object_get_string_len(msg);
		}
		mca_avxj_said(msgbuf, sizeof(msgbuf), ms, ml, s1, s2);
		rc = resp->status == c->ok ? MCA_ERR_POLICY :
		    c->status_rc(resp->status);
		json_object_put(o);
		return mca_diag(d, rc, "%s %.200s: HTTP %ld, appStatusCode "
		    "%s%s%s", c->method, c->url, resp->status,
		    codebuf[0] != '\0' ? codebuf : "?",
		    msgbuf[0] != '\0' ? ": " : "", msgbuf);
	}
	if (resp->status != c->ok) {
		/* AppViewX's message if it sent one, else the body's start */
		if ((msg = mca_avxj_member(o, "message", json_type_string)) !=
		    NULL)
			mca_avxj_said(msgbuf, sizeof(msgbuf),
			    json_object_get_string(msg),
			    (size_t)json_object_get_string_len(msg), s1, s2);
		else
			mca_avxj_said(msgbuf, 121,
			    (const char *)resp->body.data, resp->body.len, s1,
			    s2);
		json_object_put(o);
		return mca_diag(d, c->status_rc(resp->status), "%s %.200s: "
		    "HTTP %ld%s%s", c->method, c->url, resp->status,
		    msgbuf[0] != '\0' ? ": " : "", msgbuf);
	}
	if (c->want_json && o == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "%s %.200s: HTTP %ld "
		    "with a body that is not a JSON object", c->method, c->url,
		    resp->status);
	*root = o;
	return 0;
}

/* Serialises o into out (reset first); 0 or MCA_ERR_NOMEM/TOOBIG. */
int
mca_avxj_out(struct json_object *o, struct mca_buf *out)
{
	const char	*s;
	size_t		 n;

	mca_buf_reset(out);
	if ((s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &n)) == NULL)
		return MCA_ERR_NOMEM;
	return mca_buf_add(out, s, n);
}

/* Adds a string member; 0 or MCA_ERR_NOMEM. */
int
mca_avxj_add_str(struct json_object *o, const char *key, const char *val)
{
	struct json_object	*v;

	if ((v = json_object_new_string(val)) == NULL)
		return MCA_ERR_NOMEM;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return MCA_ERR_NOMEM;
	}
	return 0;
}

/* Adds o2 as member key of o (taking it over, also on failure). */
int
mca_avxj_add_obj(struct json_object *o, const char *key,
    struct json_object *o2)
{
	if (o2 == NULL)
		return MCA_ERR_NOMEM;
	if (json_object_object_add(o, key, o2) != 0) {
		json_object_put(o2);
		return MCA_ERR_NOMEM;
	}
	return 0;
}

/* {"payload": inner}, taking inner over; NULL when out of memory. */
struct json_object *
mca_avxj_wrap(struct json_object *inner)
{
	struct json_object	*o;

	if (inner == NULL)
		return NULL;
	if ((o = json_object_new_object()) == NULL ||
	    mca_avxj_add_obj(o, "payload", inner) != 0) {
		if (o == NULL)
			json_object_put(inner);
		json_object_put(o);
		return NULL;
	}
	return o;
}

