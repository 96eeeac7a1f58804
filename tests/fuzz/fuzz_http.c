/*
 * libFuzzer harness for lib/http.c: routing a REQUEST_URI, parsing
 * CONTENT_LENGTH and CONTENT_TYPE, and building a response from hostile
 * text. Checked: a routed URI is exactly the prefix (or the /est/<label>
 * alias), label and operation it reports; a parsed length prints back as
 * the input and is within the cap; a response's header block always has
 * the lines we put in it.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_route(const char *uri)
{
	char		 label[MCA_LABEL_MAX + 1], want[2100];
	enum mca_op	 op;
	size_t		 len;
	int		 rc;

	rc = mca_http_route(uri, label, sizeof(label), &op);
	if (rc != 0) {
		if (rc != MCA_ERR_NOTFOUND || label[0] != '\0' ||
		    op != MCA_OP_MAX)
			abort();
		return;
	}
	if (op >= MCA_OP_MAX || strlen(label) > MCA_LABEL_MAX)
		abort();
	len = strcspn(uri, "?");
	/*
	 * Either form: /.well-known/est/[label/]op, or the alias
	 * /est/label/.well-known/est/op (strongSwan's pki --est), which
	 * needs a label.
	 */
	if (strncmp(uri, "/est/", 5) == 0)
		(void)snprintf(want, sizeof(want), "/est/%s/.well-known/est/%s",
		    label, mca_op_name(op));
	else
		(void)snprintf(want, sizeof(want), "/.well-known/est/%s%s%s",
		    label, label[0] != '\0' ? "/" : "", mca_op_name(op));
	if (strlen(want) != len || memcmp(want, uri, len) != 0 ||
	    (uri[1] == 'e' && label[0] == '\0'))
		abort();
	if (strchr(label, '%') != NULL || strchr(label, '/') != NULL ||
	    label[0] == '.')
		abort();
}

static void
check_length(const char *s)
{
	static const size_t	 caps[] = { 0, 1, 65536, SIZE_MAX };
	char			 out[32];
	size_t			 i, len;
	int			 rc;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		len = 12345;
		rc = mca_http_content_length(s, caps[i], &len);
		if (rc != 0) {
			if (len != 0)
				abort();
			continue;
		}
		if (len > caps[i])
			abort();
		(void)snprintf(out, sizeof(out), "%zu", len);
		if (strcmp(out, s) != 0)
			abort();
	}
}

static void
check_response(const char *reason, const char *hval)
{
	struct mca_resp	 r;
	struct mca_buf	 out = MCA_BUF_INIT;
	const char	*end;
	size_t		 lines = 0, i, want;

	mca_resp_init(&r);
	if (mca_resp_error(&r, 400, "%s", reason) != 0)
		abort();
	/* the body is one line */
	if (r.body.len == 0 || r.body.data[r.body.len - 1] != '\n' ||
	    memchr(r.body.data, '\n', r.body.len - 1) != NULL ||
	    memchr(r.body.data, '\r', r.body.len) != NULL)
		abort();
	(void)mca_resp_header(&r, "X-Fuzz", hval);
	(void)mca_resp_header(&r, hval, "v");
	if (mca_resp_serialize(&r, &out) != 0)
		abort();
	/* Status, Content-Type, Content-Length and the extras, no more. */
	want = 3 + r.nhdr;
	if ((end = strstr(mca_buf_str(&out), "\r\n\r\n")) == NULL)
		abort();
	for (i = 0; i < (size_t)(end - (const char *)out.data) + 2; i++) {
		if (out.data[i] == '\n') {
			if (i == 0 || out.data[i - 1] != '\r')
				abort();
			lines++;
		} else if (out.data[i] == '\r' && out.data[i + 1] != '\n')
			abort();
	}
	if (lines != want)
		abort();
	if (out.len != (size_t)(end - (const char *)out.data) + 4 + r.body.len)
		abort();
	mca_resp_free(&r);
	mca_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, *t;
	size_t	 half;

	/* The web server hands over C strings: cut at the first NUL. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	check_route(s);
	check_length(s);

	/* Split in two for the two-argument checks. */
	half = strlen(s) / 2;
	if ((t = strdup(s + half)) == NULL) {
		free(s);
		return 0;
	}
	s[half] = '\0';
	(void)mca_http_media_is(s, t);
	(void)mca_http_media_is(t, "application/pkcs10");
	(void)mca_http_reason(size > 0 ? data[0] + 300 : 0);
	check_response(s, t);
	free(s);
	free(t);
	return 0;
}
