/*
 * libFuzzer harness for what lib/avxwf.c makes of the AppViewX workflow
 * answers (avxwf_int.h): the judging (lib/avxjson.c), the submit
 * answer's request id (requestId, request_id, or "Request Id N" in the
 * message) and the status answer's entry for our request (an object, or
 * an array of them), its status as shown and whether it is final. The
 * first byte picks the call and the HTTP status, the rest is the body.
 * Checked: a request id taken is one URL-safe word within its cap; a
 * status entry found names our request or none; a status as shown is
 * printable.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "avxjson.h"
#include "avxwf.h"
#include "avxwf_int.h"
#include "buf.h"
#include "err.h"
#include "httpc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define URL	"https://avx.example:443/avxapi/visualworkflow-request-logs"
#define REQID	"42"

static const long statuses[] = { 200, 200, 200, 200, 400, 401, 404, 503 };

static int
status_rc(long status)
{
	return status == 401 ? MCA_ERR_AUTH : MCA_ERR_IO;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mca_avxj_call	 call;
	struct mca_httpc_resp	 resp;
	struct json_object	*root = NULL, *st, *e, *v;
	struct mca_diag		 d;
	char			 id[MCA_AVXWF_ID_MAX];
	char			 shown[MCA_AVXWF_STATUS_MAX];
	size_t			 i;
	int			 rc, fin;

	if (size < 1)
		return 0;
	memset(&resp, 0, sizeof(resp));
	mca_buf_init(&resp.body);
	resp.status = statuses[(data[0] / 2) % (sizeof(statuses) /
	    sizeof(statuses[0]))];
	if (mca_buf_add(&resp.body, data + 1, size - 1) != 0)
		abort();
	memset(&call, 0, sizeof(call));
	call.method = data[0] % 2 ? "GET" : "POST";
	call.url = URL;
	call.ok = 200;
	call.status_rc = status_rc;
	call.want_json = 1;
	mca_diag_clear(&d);
	if ((rc = mca_avxj_judge(&call, &resp, &root, &d)) != 0) {
		if (root != NULL || d.msg[0] == '\0')
			abort();
		goto out;
	}
	if (root == NULL)
		abort();
	if (data[0] % 2 == 0) {
		rc = mca_avxwf_submit_answer(root, id, sizeof(id));
		if (rc == 0 ? !mca_avxj_word_ok(id, sizeof(id)) :
		    rc != MCA_ERR_INVAL || id[0] != '\0')
			abort();
		goto out;
	}
	if ((st = mca_avxwf_status_answer(root, REQID, &e)) == NULL)
		goto out;
	if (e == NULL || !json_object_is_type(st, json_type_string))
		abort();
	/* An entry naming a request by requestId names ours. */
	if ((v = mca_avxj_member(e, "requestId", json_type_string)) != NULL &&
	    strcmp(json_object_get_string(v), REQID) != 0)
		abort();
	mca_avxj_said(shown, sizeof(shown), json_object_get_string(st),
	    (size_t)json_object_get_string_len(st), NULL, NULL);
	for (i = 0; shown[i] != '\0'; i++)
		if (shown[i] < 0x20 || shown[i] > 0x7e)
			abort();
	fin = mca_avxwf_status_final(json_object_get_string(st));
	if (fin < -1 || fin > 1)
		abort();
out:
	json_object_put(root);
	mca_httpc_resp_free(&resp);
	return 0;
}
