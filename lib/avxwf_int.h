/*
 * What lib/avxwf.c makes of the AppViewX workflow answers, apart from
 * the calls that fetch them: for tests/fuzz/fuzz_avxwf.c, which feeds
 * them hostile answers without a network. Not for cgi/ or cron/: they
 * go through avxwf.h.
 */
#ifndef MCA_AVXWF_INT_H
#define MCA_AVXWF_INT_H

#include <stddef.h>

#include <json-c/json.h>

/*
 * The request id of a judged submit answer (root, a JSON object): its
 * "response" object's requestId or request_id (a string or an integer),
 * else a "Request Id N" in response.message, as a URL-safe word into id
 * (len bytes; "" on failure). Returns 0 or MCA_ERR_INVAL.
 */
int	 mca_avxwf_submit_answer(struct json_object *root, char *id,
	    size_t len);

/*
 * The status (a JSON string, owned by root) of request id in a judged
 * status answer: "response" is the request's object, or an array holding
 * the object naming id (or the only one, naming none). *entry is that
 * object. NULL (and *entry NULL) when there is none, it names another
 * request, or its "status" is not a string.
 */
struct json_object *mca_avxwf_status_answer(struct json_object *root,
	    const char *id, struct json_object **entry);

#endif
