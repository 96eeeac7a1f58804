/*
 * The JSON both AppViewX clients speak: the CERT+ REST client (lib/avx.c)
 * and the workflow client (lib/avxwf.c). Every AppViewX answer is wrapped
 * as {"response", "message", "appStatusCode"} (the AppViewX API guides'
 * "Response Structure"); a non-null appStatusCode is a failure. Requests
 * are {"payload": {...}}. Written once here so that both judge an answer
 * the same way: parsed strictly with a depth cap, walked with explicit
 * types, what the server said shown capped, without control characters
 * and without any secret.
 */
#ifndef MCA_AVXJSON_H
#define MCA_AVXJSON_H

#include <stddef.h>

#include <json-c/json.h>

#include "buf.h"
#include "err.h"
#include "httpc.h"

#define MCA_AVXJ_MSG_MAX	200	/* bytes of AppViewX's message shown */

/* 1 if s is 1 to max - 1 of [A-Za-z0-9._-]: safe in a URL and a message. */
int	 mca_avxj_word_ok(const char *s, size_t max);

/*
 * Copies what a server said into out (len > 0) for a message: at most
 * len - 1 bytes of in[0..inlen), each control character dropped, each
 * byte outside printable ASCII shown as '?', runs of spaces as one; then
 * every occurrence of the secrets (NULL-safe, two) replaced by "***".
 */
void	 mca_avxj_said(char *out, size_t len, const char *in, size_t inlen,
	    const char *secret1, const char *secret2);

/*
 * Parses body as one JSON object, strictly (RFC 8259, UTF-8 checked), with
 * a depth cap; an embedded NUL or trailing garbage is refused. *root is
 * NULL unless 0 is returned (then the caller's to json_object_put()).
 * Returns 0, MCA_ERR_INVAL or MCA_ERR_NOMEM.
 */
int	 mca_avxj_parse(const struct mca_buf *body, struct json_object **root);

/*
 * mca_avxj_parse() with the caller's caps: a body over max bytes is
 * refused, and json-c nests at most depth deep. For lib/azhub.c, whose
 * answers are capped at MCA_AZHUB_BODY_MAX. Same returns.
 */
int	 mca_avxj_parse_cap(const struct mca_buf *body, size_t max, int depth,
	    struct json_object **root);

/* The member key of o if it has type t, else NULL (absent, other type). */
struct json_object *mca_avxj_member(struct json_object *o, const char *key,
	    enum json_type t);

/*
 * How an answer is judged.
 *  method, url	for the message ("POST https://...: HTTP 400 ...")
 *  ok		the HTTP status of success
 *  status_rc	what another status means: an MCA_ERR_* for it
 *  want_json	an ok answer must be a JSON object
 *  secret	up to two strings never shown (NULL: none)
 */
struct mca_avxj_call {
	const char	 *method;
	const char	 *url;
	long		  ok;
	int		(*status_rc)(long status);
	int		  want_json;
	const char	 *secret[2];
};

/*
 * Judges resp. A JSON object with a non-null appStatusCode is a failure
 * at any status, named by its code and message: MCA_ERR_POLICY at the ok
 * status, else status_rc(status). Any status but ok is a failure, with
 * AppViewX's message or the start of the body. With want_json, an ok
 * answer must be a JSON object, returned in *root (else *root is NULL: the
 * body is the caller's). One line in d on failure. Returns 0 or an
 * MCA_ERR_*.
 */
int	 mca_avxj_judge(const struct mca_avxj_call *c,
	    const struct mca_httpc_resp *resp, struct json_object **root,
	    struct mca_diag *d);

/* Adds a string member; 0 or MCA_ERR_NOMEM. */
int	 mca_avxj_add_str(struct json_object *o, const char *key,
	    const char *val);

/* Adds o2 (NULL: out of memory) as member key of o, taking it over, also
 * on failure; 0 or MCA_ERR_NOMEM. */
int	 mca_avxj_add_obj(struct json_object *o, const char *key,
	    struct json_object *o2);

/* {"payload": inner}, taking inner over; NULL when out of memory. */
struct json_object *mca_avxj_wrap(struct json_object *inner);

/* Serialises o into out (reset first); 0 or MCA_ERR_NOMEM/TOOBIG. */
int	 mca_avxj_out(struct json_object *o, struct mca_buf *out);

#endif
