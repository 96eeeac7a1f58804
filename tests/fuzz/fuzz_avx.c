/*
 * libFuzzer harness for what lib/avx.c makes of AppViewX CERT+ answers
 * (avx_int.h): the judging of status, appStatusCode and message
 * (lib/avxjson.c), then the token, the create answer's resourceId, or
 * the download's PEM chain (raw, or in a JSON "response"). The first
 * byte picks the call and the HTTP status, the rest is the body.
 * Checked: a token or resourceId taken is one safe word within its cap;
 * a chain taken is PEM certificates only, each of which parses again;
 * a failure has a reason, and no message ever holds a secret.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/x509.h>

#include "avx.h"
#include "avx_int.h"
#include "avxjson.h"
#include "buf.h"
#include "err.h"
#include "httpc.h"
#include "pem.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET	"s3cr3t-client-secret"
#define TOKEN	"tok-0123456789abcdef"
#define URL	"https://avx.example:443/avxapi/op?gwsource=external"

static const long statuses[] = { 200, 200, 200, 200, 400, 401, 403, 404,
    202, 500 };

/* The token call has no token yet: only the secret is kept out there. */
static void
no_secret(const struct mca_diag *d, int call)
{
	if (strstr(d->msg, SECRET) != NULL ||
	    (call != 0 && strstr(d->msg, TOKEN) != NULL))
		abort();
}

/* Every PEM certificate of out parses; there is at least one. */
static void
check_chain(const struct mca_buf *out)
{
	X509	*x = NULL;
	size_t	 off = 0;
	int	 n = 0;
	const char *s = (const char *)out->data;
	const char *b;

	while (off < out->len && (b = strstr(s + off,
	    "-----BEGIN CERTIFICATE-----")) != NULL) {
		if (mca_pem_parse_cert(b, out->len - (size_t)(b - s), &x) != 0)
			abort();
		X509_free(x);
		x = NULL;
		n++;
		off = (size_t)(b - s) + 1;
	}
	if (n == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mca_avx		 conn;
	struct mca_httpc_resp	 resp;
	struct mca_buf		 out = MCA_BUF_INIT;
	struct json_object	*root = NULL;
	struct mca_diag		 d;
	char			 id[MCA_AVX_ID_MAX];
	int			 call, rc;

	if (size < 1)
		return 0;
	call = data[0] % 3;
	memset(&conn, 0, sizeof(conn));
	conn.client_secret = SECRET;
	memset(&resp, 0, sizeof(resp));
	mca_buf_init(&resp.body);
	resp.status = statuses[(data[0] / 3) % (sizeof(statuses) /
	    sizeof(statuses[0]))];
	if (mca_buf_add(&resp.body, data + 1, size - 1) != 0)
		abort();
	mca_diag_clear(&d);
	/* The token call judges with no token yet; the others carry it. */
	rc = mca_avx_judge(&conn, URL, &resp, 200, call == 0, call != 2,
	    call == 0 ? NULL : TOKEN, &root, &d);
	if (rc != 0) {
		if (root != NULL || d.msg[0] == '\0')
			abort();
		no_secret(&d, call);
		goto out;
	}
	if (call != 2 && root == NULL)
		abort();
	mca_diag_clear(&d);
	switch (call) {
	case 0:
		rc = mca_avx_token_answer(root, URL, &out, &d);
		if (rc == 0 && (out.len == 0 || out.len > MCA_AVX_TOKEN_MAX ||
		    memchr(out.data, ' ', out.len) != NULL))
			abort();
		break;
	case 1:
		rc = mca_avx_create_answer(root, URL, id, sizeof(id), &d);
		if (rc == 0 ? !mca_avxj_word_ok(id, MCA_AVX_ID_MAX) :
		    id[0] != '\0')
			abort();
		break;
	default:
		rc = mca_avx_download_answer(root, &resp.body, URL, &out, &d);
		if (rc == 0)
			check_chain(&out);
		break;
	}
	if (rc != 0) {
		if (d.msg[0] == '\0')
			abort();
		no_secret(&d, call);
	}
out:
	json_object_put(root);
	mca_buf_free(&out);
	mca_httpc_resp_free(&resp);
	return 0;
}
