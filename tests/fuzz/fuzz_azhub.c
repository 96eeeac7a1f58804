/*
 * libFuzzer harness for what lib/azhub.c makes of Azure IoT Hub's
 * answers (azhub_int.h): a body parsed strictly as one JSON object
 * within MCA_AZHUB_BODY_MAX, a device identity's etag, authentication
 * type and thumbprints, and the hub's error message as shown in ours.
 * The whole input is the body. Checked: an etag taken can go into
 * If-Match as it is (RFC 7232 2.3), thumbprints are hex, and the
 * message shown is printable ASCII without the token.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "avxjson.h"
#include "azhub.h"
#include "azhub_int.h"
#include "buf.h"
#include "err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEVID	"dev1"
#define TOKEN	"SharedAccessSignature sr=hub&sig=abcdefgh"

static void
check_hex(const char *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; s[i] != '\0'; i++)
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			abort();
	if (i == 0 || i > 64)
		abort();
}

static void
check_said(const char *in, size_t len, size_t cap)
{
	char	 out[200];
	size_t	 i;

	mca_azhub_said(out, cap, in, len, TOKEN);
	if (strlen(out) >= cap || strstr(out, TOKEN) != NULL)
		abort();
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mca_buf		 body = MCA_BUF_INIT;
	struct json_object	*o = NULL, *m;
	struct mca_diag		 d;
	char			 etag[MCA_AZHUB_ETAG_MAX];
	const char		*type, *p, *s;
	size_t			 i;

	if (mca_buf_add(&body, data, size) != 0)
		abort();
	/* The error path: the hub's message, or the body's start. */
	check_said((const char *)data, size, 121);
	if (mca_azhub_parse(&body, &o) != 0) {
		if (o != NULL)
			abort();
		goto out;
	}
	if ((m = mca_avxj_member(o, "Message", json_type_string)) != NULL)
		check_said(json_object_get_string(m),
		    (size_t)json_object_get_string_len(m), 160);
	mca_diag_clear(&d);
	if (mca_azhub_identity(o, DEVID, "GET https://hub/devices/dev1: HTTP "
	    "200", etag, &type, &p, &s, &d) != 0) {
		if (d.msg[0] == '\0')
			abort();
		goto out;
	}
	if (etag[0] == '\0')
		abort();
	for (i = 0; etag[i] != '\0'; i++)
		if (etag[i] <= 0x20 || etag[i] >= 0x7f || etag[i] == '"' ||
		    etag[i] == '\\')
			abort();
	check_hex(p);
	check_hex(s);
out:
	json_object_put(o);
	mca_buf_free(&body);
	return 0;
}
