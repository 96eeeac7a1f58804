/*
 * What lib/avx.c makes of AppViewX's answers, apart from the calls that
 * fetch them: for tests/fuzz/fuzz_avx.c, which feeds them hostile
 * answers without a network. Not for cgi/ or cron/: they go through
 * avx.h.
 */
#ifndef MCA_AVX_INT_H
#define MCA_AVX_INT_H

#include <stddef.h>

#include <json-c/json.h>

#include "avx.h"
#include "buf.h"
#include "err.h"
#include "httpc.h"

/*
 * Judges an answer with mca_avxj_judge() (avxjson.h): a POST to url,
 * wanting ok; token_call picks the status meanings of the token call
 * (401, 403 and 400 are MCA_ERR_AUTH); tok and c's client secret are
 * kept out of messages. Returns as mca_avxj_judge().
 */
int	 mca_avx_judge(const struct mca_avx *c, const char *url,
	    const struct mca_httpc_resp *resp, long ok, int token_call,
	    int want_json, const char *tok, struct json_object **root,
	    struct mca_diag *d);

/*
 * The token of a judged token answer (root, a JSON object) appended to
 * token. Returns 0, MCA_ERR_INVAL (no token, or not one header-safe
 * word of at most MCA_AVX_TOKEN_MAX bytes) or MCA_ERR_NOMEM.
 */
int	 mca_avx_token_answer(struct json_object *root, const char *url,
	    struct mca_buf *token, struct mca_diag *d);

/*
 * The resourceId of a judged create answer into id (idlen at least
 * MCA_AVX_ID_MAX; "" on failure). Returns 0 or MCA_ERR_INVAL.
 */
int	 mca_avx_create_answer(struct json_object *root, const char *url,
	    char *id, size_t idlen, struct mca_diag *d);

/*
 * The certificates of a judged download answer: root's "response" when
 * the answer was JSON (root not NULL), else body itself, as PEM; each
 * parsed and written again into chain_pem. Returns 0, MCA_ERR_INVAL
 * (anything but PEM certificates, none, a NUL), MCA_ERR_TOOBIG (too
 * many) or MCA_ERR_NOMEM.
 */
int	 mca_avx_download_answer(struct json_object *root,
	    const struct mca_buf *body, const char *url,
	    struct mca_buf *chain_pem, struct mca_diag *d);

#endif
