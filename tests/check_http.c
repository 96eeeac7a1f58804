/* Unit tests for lib/http.c: routing, request headers, responses. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "err.h"
#include "http.h"
#include "testutil.h"

Suite	*http_suite(void);

/* ------------------------------------------------------------ routing */

static const struct route_ok {
	const char	*uri;
	const char	*label;
	enum mca_op	 op;
} route_ok[] = {
	{ "/.well-known/est/cacerts", "", MCA_OP_CACERTS },
	{ "/.well-known/est/simpleenroll", "", MCA_OP_SIMPLEENROLL },
	{ "/.well-known/est/simplereenroll", "", MCA_OP_SIMPLEREENROLL },
	{ "/.well-known/est/csrattrs", "", MCA_OP_CSRATTRS },
	{ "/.well-known/est/serverkeygen", "", MCA_OP_SERVERKEYGEN },
	{ "/.well-known/est/fullcmc", "", MCA_OP_FULLCMC },
	{ "/.well-known/est/iot/cacerts", "iot", MCA_OP_CACERTS },
	{ "/.well-known/est/iot/simpleenroll", "iot", MCA_OP_SIMPLEENROLL },
	{ "/.well-known/est/A-b_c.9/simplereenroll", "A-b_c.9",
	    MCA_OP_SIMPLEREENROLL },
	{ "/.well-known/est/x/csrattrs", "x", MCA_OP_CSRATTRS },
	{ "/.well-known/est/-/fullcmc", "-", MCA_OP_FULLCMC },
	{ "/.well-known/est/a..b/serverkeygen", "a..b", MCA_OP_SERVERKEYGEN },
	/* a label may look like an operation */
	{ "/.well-known/est/cacerts/simpleenroll", "cacerts",
	    MCA_OP_SIMPLEENROLL },
	/* query strings are ignored, whatever they hold */
	{ "/.well-known/est/cacerts?", "", MCA_OP_CACERTS },
	{ "/.well-known/est/cacerts?x=1&y=/../%00", "", MCA_OP_CACERTS },
	{ "/.well-known/est/lab/simpleenroll?a/b", "lab",
	    MCA_OP_SIMPLEENROLL },
	/* 64 characters: the longest label */
	{ "/.well-known/est/"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "/cacerts",
	    "0123456789012345678901234567890123456789012345678901234567890123",
	    MCA_OP_CACERTS },
	/* the alias for clients that append the well-known path */
	{ "/est/iot/.well-known/est/cacerts", "iot", MCA_OP_CACERTS },
	{ "/est/ipsec/.well-known/est/simpleenroll", "ipsec",
	    MCA_OP_SIMPLEENROLL },
	{ "/est/A-b_c.9/.well-known/est/simplereenroll", "A-b_c.9",
	    MCA_OP_SIMPLEREENROLL },
	{ "/est/x/.well-known/est/csrattrs", "x", MCA_OP_CSRATTRS },
	{ "/est/est/.well-known/est/serverkeygen", "est",
	    MCA_OP_SERVERKEYGEN },
	{ "/est/cacerts/.well-known/est/fullcmc", "cacerts", MCA_OP_FULLCMC },
	{ "/est/lab/.well-known/est/simpleenroll?a/b", "lab",
	    MCA_OP_SIMPLEENROLL },
	{ "/est/"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "/.well-known/est/cacerts",
	    "0123456789012345678901234567890123456789012345678901234567890123",
	    MCA_OP_CACERTS },
};

START_TEST(test_route_ok)
{
	const struct route_ok	*t = &route_ok[_i];
	char			 label[MCA_LABEL_MAX + 1];
	enum mca_op		 op = MCA_OP_MAX;

	memset(label, 'Z', sizeof(label));
	ck_assert_int_eq(mca_http_route(t->uri, label, sizeof(label), &op), 0);
	ck_assert_str_eq(label, t->label);
	ck_assert_int_eq(op, t->op);
}
END_TEST

static const char *const route_bad[] = {
	"",
	"/",
	"/.well-known/est",
	"/.well-known/est/",
	"/.well-known/est//",
	"/.well-known/est?cacerts",
	"/.well-known/est/?cacerts",
	"/.well-known/est/cacerts/",
	"/.well-known/est/iot/cacerts/",
	"/.well-known/est//cacerts",
	"/.well-known/est/iot//cacerts",
	"/.well-known//est/cacerts",
	"//.well-known/est/cacerts",
	"/.well-known/est/a/b/cacerts",
	"/.well-known/est/cacerts/extra",
	"/.well-known/est/iot/cacerts/x",
	"/.well-known/est/unknown",
	"/.well-known/est/iot/unknown",
	"/.well-known/est/CACERTS",
	"/.well-known/est/Cacerts",
	"/.well-known/est/iot/SimpleEnroll",
	"/.well-known/est/cacert",
	"/.well-known/est/cacertss",
	"/.well-known/est/simpleenroll ",
	"/.well-known/est/ simpleenroll",
	"/.WELL-KNOWN/est/cacerts",
	"/.well-known/EST/cacerts",
	"/well-known/est/cacerts",
	"/.well-known/est2/cacerts",
	"/foo/.well-known/est/cacerts",
	"/cgi-bin/microca/.well-known/est/cacerts",
	".well-known/est/cacerts",
	"http://host/.well-known/est/cacerts",
	"/.well-known/est/%63acerts",
	"/.well-known/est/ca%2Fcerts",
	"/.well-known/est/io%74/cacerts",
	"/.well-known/est/a%2fb/cacerts",
	"/.well-known/est/./cacerts",
	"/.well-known/est/../cacerts",
	"/.well-known/est/.hidden/cacerts",
	"/.well-known/est/io t/cacerts",
	"/.well-known/est/io+t/cacerts",
	"/.well-known/est/io:t/cacerts",
	"/.well-known/est/io\\t/cacerts",
	"/.well-known/est/io\tt/cacerts",
	"/.well-known/est/io\nt/cacerts",
	"/.well-known/est/\xc3\xa9/cacerts",
	"/.well-known/est/cacerts#frag",
	"/.well-known/est/cacerts;x",
	"/.well-known/est/?/cacerts",
	/* 65 characters: one too many */
	"/.well-known/est/"
	"01234567890123456789012345678901234567890123456789012345678901234"
	"/cacerts",
	/* the alias: a label, then exactly the unlabelled form */
	"/est",
	"/est/",
	"/est/iot",
	"/est/iot/",
	"/est/cacerts",
	"/est/iot/cacerts",
	"/est//.well-known/est/cacerts",
	"/est/.well-known/est/cacerts",
	"/est/.hidden/.well-known/est/cacerts",
	"/est/../.well-known/est/cacerts",
	"/est/io%74/.well-known/est/cacerts",
	"/est/io t/.well-known/est/cacerts",
	"/est/\xc3\xa9/.well-known/est/cacerts",
	"/est/iot/.well-known/est",
	"/est/iot/.well-known/est/",
	"/est/iot/.well-known/est/unknown",
	"/est/iot/.well-known/est/CACERTS",
	"/est/iot/.well-known/est/cacerts/",
	"/est/iot/.well-known/est/dev/cacerts",
	"/est/iot/.well-known/est/iot/cacerts",
	"/est/iot/.well-known/est/cacerts/extra",
	"/est/iot//.well-known/est/cacerts",
	"/est/a/b/.well-known/est/cacerts",
	"/est/iot/est/iot/.well-known/est/cacerts",
	"/est/iot/x/.well-known/est/cacerts",
	"/est/iot?/.well-known/est/cacerts",
	"/est/iot/.well-known/est?/cacerts",
	"/EST/iot/.well-known/est/cacerts",
	"/est2/iot/.well-known/est/cacerts",
	"//est/iot/.well-known/est/cacerts",
	"/x/est/iot/.well-known/est/cacerts",
	"/.well-known/est/est/iot/cacerts",
	"/est/"
	"01234567890123456789012345678901234567890123456789012345678901234"
	"/.well-known/est/cacerts",
};

START_TEST(test_route_bad)
{
	char		 label[MCA_LABEL_MAX + 1];
	enum mca_op	 op = MCA_OP_CACERTS;

	memset(label, 'Z', sizeof(label));
	ck_assert_msg(mca_http_route(route_bad[_i], label, sizeof(label),
	    &op) == MCA_ERR_NOTFOUND, "accepted \"%s\"", route_bad[_i]);
	/* outputs cleared even on failure */
	ck_assert_str_eq(label, "");
	ck_assert_int_eq(op, MCA_OP_MAX);
}
END_TEST

/* An embedded NUL ends the string: what follows it is never routed. */
START_TEST(test_route_nul)
{
	static const char	 uri[] = "/.well-known/est/iot\0/cacerts";
	char			 label[MCA_LABEL_MAX + 1];
	enum mca_op		 op;

	ck_assert_int_eq(mca_http_route(uri, label, sizeof(label), &op),
	    MCA_ERR_NOTFOUND);
	ck_assert_int_eq(mca_http_route(NULL, label, sizeof(label), &op),
	    MCA_ERR_NOTFOUND);
	ck_assert_int_eq(op, MCA_OP_MAX);
}
END_TEST

/* The label buffer must hold the label and its NUL, else not found. */
START_TEST(test_route_labellen)
{
	char		 label[8];
	enum mca_op	 op;

	memset(label, 'Z', sizeof(label));
	ck_assert_int_eq(mca_http_route("/.well-known/est/1234567/cacerts",
	    label, sizeof(label), &op), 0);
	ck_assert_str_eq(label, "1234567");
	ck_assert_int_eq(mca_http_route("/.well-known/est/12345678/cacerts",
	    label, sizeof(label), &op), MCA_ERR_NOTFOUND);
	ck_assert_str_eq(label, "");
	/* no label at all needs only the NUL */
	ck_assert_int_eq(mca_http_route("/.well-known/est/cacerts",
	    label, 1, &op), 0);
	ck_assert_int_eq(op, MCA_OP_CACERTS);
	ck_assert_int_eq(mca_http_route("/.well-known/est/a/cacerts",
	    label, 1, &op), MCA_ERR_NOTFOUND);
	/* the alias's label is held to the same size */
	ck_assert_int_eq(mca_http_route("/est/1234567/.well-known/est/"
	    "cacerts", label, sizeof(label), &op), 0);
	ck_assert_str_eq(label, "1234567");
	ck_assert_int_eq(mca_http_route("/est/12345678/.well-known/est/"
	    "cacerts", label, sizeof(label), &op), MCA_ERR_NOTFOUND);
	ck_assert_str_eq(label, "");
	ck_assert_int_eq(mca_http_route("/est/a/.well-known/est/cacerts",
	    label, 1, &op), MCA_ERR_NOTFOUND);
}
END_TEST

/* Over-long URIs are refused even when the path part is fine. */
START_TEST(test_route_long)
{
	char		*uri;
	char		 label[MCA_LABEL_MAX + 1];
	enum mca_op	 op;
	size_t		 plen = strlen("/.well-known/est/cacerts?");

	ck_assert_ptr_nonnull(uri = malloc(4096));
	memcpy(uri, "/.well-known/est/cacerts?", plen);
	memset(uri + plen, 'q', 4096 - plen - 1);
	uri[4095] = '\0';
	ck_assert_int_eq(mca_http_route(uri, label, sizeof(label), &op),
	    MCA_ERR_NOTFOUND);
	/* 2048 in all is still accepted */
	uri[2048] = '\0';
	ck_assert_int_eq(mca_http_route(uri, label, sizeof(label), &op), 0);
	ck_assert_int_eq(op, MCA_OP_CACERTS);
	uri[2048] = 'q';
	uri[2049] = '\0';
	ck_assert_int_eq(mca_http_route(uri, label, sizeof(label), &op),
	    MCA_ERR_NOTFOUND);
	free(uri);
}
END_TEST

START_TEST(test_op_name)
{
	ck_assert_str_eq(mca_op_name(MCA_OP_CACERTS), "cacerts");
	ck_assert_str_eq(mca_op_name(MCA_OP_SIMPLEREENROLL), "simplereenroll");
	ck_assert_str_eq(mca_op_name(MCA_OP_FULLCMC), "fullcmc");
	ck_assert_str_eq(mca_op_name(MCA_OP_MAX), "unknown");
	ck_assert_str_eq(mca_op_name((enum mca_op)-1), "unknown");
}
END_TEST

/* ----------------------------------------------------- content length */

static const struct cl_case {
	const char	*in;
	size_t		 cap;
	int		 rc;
	size_t		 len;
} cl_cases[] = {
	{ NULL, 65536, MCA_ERR_NOTFOUND, 0 },
	{ "", 65536, MCA_ERR_NOTFOUND, 0 },
	{ "0", 65536, 0, 0 },
	{ "1", 65536, 0, 1 },
	{ "1234", 65536, 0, 1234 },
	{ "65535", 65536, 0, 65535 },
	{ "65536", 65536, 0, 65536 },
	{ "65537", 65536, MCA_ERR_TOOBIG, 0 },
	{ "99999999", 65536, MCA_ERR_TOOBIG, 0 },
	{ "9223372036854775807", 65536, MCA_ERR_TOOBIG, 0 },
	{ "18446744073709551616", 65536, MCA_ERR_TOOBIG, 0 },	/* 2^64 */
	{ "18446744073709551616", SIZE_MAX, MCA_ERR_TOOBIG, 0 },
	{ "99999999999999999999999999999", SIZE_MAX, MCA_ERR_TOOBIG, 0 },
	{ "1", 0, MCA_ERR_TOOBIG, 0 },
	{ "0", 0, 0, 0 },
	{ "-1", 65536, MCA_ERR_INVAL, 0 },
	{ "-0", 65536, MCA_ERR_INVAL, 0 },
	{ "-", 65536, MCA_ERR_INVAL, 0 },
	{ "+5", 65536, MCA_ERR_INVAL, 0 },
	{ " 5", 65536, MCA_ERR_INVAL, 0 },
	{ "5 ", 65536, MCA_ERR_INVAL, 0 },
	{ "\t5", 65536, MCA_ERR_INVAL, 0 },
	{ "05", 65536, MCA_ERR_INVAL, 0 },
	{ "00", 65536, MCA_ERR_INVAL, 0 },
	{ "0x10", 65536, MCA_ERR_INVAL, 0 },
	{ "1e3", 65536, MCA_ERR_INVAL, 0 },
	{ "1.0", 65536, MCA_ERR_INVAL, 0 },
	{ "5,5", 65536, MCA_ERR_INVAL, 0 },
	{ "abc", 65536, MCA_ERR_INVAL, 0 },
	{ " ", 65536, MCA_ERR_INVAL, 0 },
};

START_TEST(test_content_length)
{
	const struct cl_case	*t = &cl_cases[_i];
	size_t			 len = 777;
	int			 rc;

	rc = mca_http_content_length(t->in, t->cap, &len);
	ck_assert_msg(rc == t->rc, "\"%s\" cap %zu: rc %d, want %d",
	    t->in ? t->in : "(null)", t->cap, rc, t->rc);
	ck_assert_uint_eq(len, t->len);
}
END_TEST

/* -------------------------------------------------------- media types */

static const struct media_case {
	const char	*ctype;
	const char	*media;
	int		 want;
} media_cases[] = {
	{ "application/pkcs10", "application/pkcs10", 1 },
	{ "Application/PKCS10", "application/pkcs10", 1 },
	{ "application/pkcs10; charset=x", "application/pkcs10", 1 },
	{ "application/pkcs10;charset=x", "application/pkcs10", 1 },
	{ "application/pkcs10 ;", "application/pkcs10", 1 },
	{ "application/pkcs10;", "application/pkcs10", 1 },
	{ " Text/Plain ", "text/plain", 1 },
	{ "\ttext/plain\t; a=b", "text/plain", 1 },
	{ "text/plain", "TEXT/PLAIN", 1 },
	{ "application/pkcs7-mime; smime-type=certs-only",
	    "application/pkcs7-mime", 1 },
	{ "application/pkcs10x", "application/pkcs10", 0 },
	{ "application/pkcs1", "application/pkcs10", 0 },
	{ "application/pkcs10 x", "application/pkcs10", 0 },
	{ "application/ pkcs10", "application/pkcs10", 0 },
	{ "x-application/pkcs10", "application/pkcs10", 0 },
	{ "text/plain", "application/pkcs10", 0 },
	{ "", "application/pkcs10", 0 },
	{ "   ", "application/pkcs10", 0 },
	{ ";application/pkcs10", "application/pkcs10", 0 },
	{ NULL, "application/pkcs10", 0 },
	{ "application/pkcs10", NULL, 0 },
	{ "", "", 0 },
};

START_TEST(test_media_is)
{
	const struct media_case	*t = &media_cases[_i];

	ck_assert_msg(mca_http_media_is(t->ctype, t->media) == t->want,
	    "\"%s\" vs \"%s\": want %d", t->ctype ? t->ctype : "(null)",
	    t->media ? t->media : "(null)", t->want);
}
END_TEST

/* ------------------------------------------------------------ reasons */

static const struct reason_case {
	int		 status;
	const char	*reason;
} reason_cases[] = {
	{ 200, "OK" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 411, "Length Required" },
	{ 413, "Content Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 503, "Service Unavailable" },
	{ 202, "Unknown" },
	{ 0, "Unknown" },
	{ -1, "Unknown" },
	{ 999, "Unknown" },
};

START_TEST(test_reason)
{
	ck_assert_str_eq(mca_http_reason(reason_cases[_i].status),
	    reason_cases[_i].reason);
}
END_TEST

/* ---------------------------------------------------------- responses */

/* Asserts that b holds exactly want[0..wantlen). */
static void
assert_bytes(const struct mca_buf *b, const char *want, size_t wantlen)
{
	ck_assert_msg(b->len == wantlen && memcmp(b->data, want, wantlen) == 0,
	    "got %zu bytes \"%s\", want %zu bytes \"%s\"", b->len,
	    mca_buf_str(b), wantlen, want);
}

START_TEST(test_serialize_200)
{
	static const char	 want[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: application/pkcs7-mime; smime-type=certs-only\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Length: 6\r\n"
	    "\r\n"
	    "MIIB\r\n";
	struct mca_resp		 r;
	struct mca_buf		 out = MCA_BUF_INIT;

	mca_resp_init(&r);
	r.status = 200;
	r.ctype = "application/pkcs7-mime; smime-type=certs-only";
	r.cte = "base64";
	ck_assert_int_eq(mca_buf_addstr(&r.body, "MIIB\r\n"), 0);
	ck_assert_int_eq(mca_resp_serialize(&r, &out), 0);
	assert_bytes(&out, want, sizeof(want) - 1);
	mca_resp_free(&r);
	mca_buf_free(&out);
}
END_TEST

/*
 * RFC 9110 9.3.2: an answer to HEAD has GET's headers, Content-Length
 * the length GET's body would have (8.6), and no content.
 */
START_TEST(test_serialize_head)
{
	static const char	 want[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: application/csrattrs\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Length: 10\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n";
	struct mca_resp		 r;
	struct mca_buf		 out = MCA_BUF_INIT;

	mca_resp_init(&r);
	r.ctype = "application/csrattrs";
	r.cte = "base64";
	ck_assert_int_eq(mca_buf_addstr(&r.body, "MAsGCSqG\r\n"), 0);
	ck_assert_int_eq(mca_resp_header(&r, "Cache-Control", "no-store"), 0);
	r.head = 1;
	ck_assert_int_eq(mca_resp_serialize(&r, &out), 0);
	assert_bytes(&out, want, sizeof(want) - 1);
	/* the same response to GET: the same bytes, then the body */
	r.head = 0;
	mca_buf_reset(&out);
	ck_assert_int_eq(mca_resp_serialize(&r, &out), 0);
	ck_assert_uint_eq(out.len, sizeof(want) - 1 + 10);
	ck_assert_int_eq(memcmp(out.data, want, sizeof(want) - 1), 0);
	ck_assert_int_eq(memcmp(out.data + sizeof(want) - 1, "MAsGCSqG\r\n",
	    10), 0);
	/* an error keeps the flag: no content either */
	r.head = 1;
	ck_assert_int_eq(mca_resp_error(&r, 404, "no such label"), 0);
	mca_buf_reset(&out);
	ck_assert_int_eq(mca_resp_serialize(&r, &out), 0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out),
	    "Content-Length: 14\r\n"));
	ck_assert_uint_eq(out.len - 4, (size_t)(strstr(mca_buf_str(&out),
	    "\r\n\r\n") - (const char *)out.data));
	mca_resp_free(&r);
	mca_buf_free(&out);
}
END_TEST

START_TEST(test_serialize_405)
{
	static const char	 want[] =
	    "Status: 405 Method Not Allowed\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: 27\r\n"
	    "Allow: GET\r\n"
	    "\r\n"
	    "cacerts takes GET, not PUT\n";
	struct mca_resp		 r;
	struct mca_buf		 out = MCA_BUF_INIT;

	mca_resp_init(&r);
	ck_assert_int_eq(mca_resp_error(&r, 405, "%s takes GET, not %s",
	    "cacerts", "PUT"), 0);
	ck_assert_int_eq(mca_resp_header(&r, "Allow", "GET"), 0);
	ck_assert_str_eq(r.reason, "cacerts takes GET, not PUT");
	/* serialize appends */
	ck_assert_int_eq(mca_buf_addstr(&out, "X"), 0);
	ck_assert_int_eq(mca_resp_serialize(&r, &out), 0);
	ck_assert_uint_eq(out.len, sizeof(want));
	ck_assert_int_eq(out.data[0], 'X');
	ck_assert_int_eq(memcmp(out.data + 1, want, sizeof(want) - 1), 0);
	mca_resp_free(&r);
	mca_buf_free(&out);
}
END_TEST

/* A binary body with NULs goes out whole; the length counts it all. */
START_TEST(test_serialize_binary)
{
	static const char	 want[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: application/csrattrs\r\n"
	    "Content-Length: 3\r\n"
	    "WWW-Authenticate: Basic realm=\"est\"\r\n"
	    "Retry-After: 60\r\n"
	    "\r\n"
	    "a\0b";
	struct mca_resp		 r;
	struct mca_buf		 out = MCA_BUF_INIT;

	mca_resp_init(&r);
	r.ctype = "application/csrattrs";
	ck_assert_int_eq(mca_buf_add(&r.body, "a\0b", 3), 0);
	ck_assert_int_eq(mca_resp_header(&r, "WWW-Authenticate",
	    "Basic realm=\"est\""), 0);
	ck_assert_int_eq(mca_resp_header(&r, "Retry-After", "60"), 0);
	ck_assert_int_eq(mca_resp_serialize(&r, &out), 0);
	assert_bytes(&out, want, sizeof(want) - 1);
	mca_resp_free(&r);
	mca_buf_free(&out);
}
END_TEST

START_TEST(test_serialize_bad)
{
	struct mca_resp		 r;
	struct mca_buf		 out = MCA_BUF_INIT;

	mca_resp_init(&r);
	ck_assert_int_eq(mca_buf_addstr(&out, "keep"), 0);
	r.status = 99;
	ck_assert_int_eq(mca_resp_serialize(&r, &out), MCA_ERR_INTERNAL);
	r.status = 600;
	ck_assert_int_eq(mca_resp_serialize(&r, &out), MCA_ERR_INTERNAL);
	r.status = 200;
	r.ctype = "text/plain\r\nX-Evil: 1";
	ck_assert_int_eq(mca_resp_serialize(&r, &out), MCA_ERR_INTERNAL);
	r.ctype = "text/plain";
	r.cte = "base64\n";
	ck_assert_int_eq(mca_resp_serialize(&r, &out), MCA_ERR_INTERNAL);
	/* nothing appended on failure */
	ck_assert_str_eq(mca_buf_str(&out), "keep");
	mca_resp_free(&r);
	mca_buf_free(&out);
}
END_TEST

/* The error body is one line even when the reason quotes the client. */
START_TEST(test_resp_error)
{
	struct mca_resp	 r;
	char		 big[600];

	mca_resp_init(&r);
	r.cte = "base64";
	ck_assert_int_eq(mca_buf_addstr(&r.body, "old body"), 0);
	ck_assert_int_eq(mca_resp_error(&r, 400, "bad CSR: %s",
	    "a\r\nStatus: 200 OK\r\n\r\nx\001\177"), 0);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(r.ctype, "text/plain");
	ck_assert_ptr_null(r.cte);
	ck_assert_str_eq(mca_buf_str(&r.body),
	    "bad CSR: a  Status: 200 OK    x  \n");
	ck_assert_str_eq(r.reason, "bad CSR: a  Status: 200 OK    x  ");

	/* empty reason: the status's phrase */
	ck_assert_int_eq(mca_resp_error(&r, 404, "%s", ""), 0);
	ck_assert_str_eq(mca_buf_str(&r.body), "Not Found\n");
	ck_assert_str_eq(r.reason, "Not Found");

	/* long reasons are cut to fit r->reason, still one line */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(mca_resp_error(&r, 500, "%s", big), 0);
	ck_assert_uint_eq(strlen(r.reason), sizeof(r.reason) - 1);
	ck_assert_uint_eq(r.body.len, sizeof(r.reason));
	ck_assert_int_eq(r.body.data[r.body.len - 1], '\n');
	ck_assert_ptr_null(memchr(r.body.data, '\n', r.body.len - 1));
	mca_resp_free(&r);
	ck_assert_uint_eq(r.body.len, 0);
	ck_assert_uint_eq(r.nhdr, 0);
	mca_resp_free(&r);	/* twice is fine */
	mca_resp_free(NULL);
}
END_TEST

static const struct hdr_case {
	const char	*name;
	const char	*value;
	int		 rc;
} hdr_cases[] = {
	{ "Allow", "GET, POST", 0 },
	{ "Retry-After", "", 0 },
	{ "X-Tab", "a\tb", 0 },
	{ "Allow", "GET\r\nX-Evil: 1", MCA_ERR_INVAL },
	{ "Allow", "GET\n", MCA_ERR_INVAL },
	{ "Allow", "\rGET", MCA_ERR_INVAL },
	{ "Allow", "G\001T", MCA_ERR_INVAL },
	{ "Allow", "G\177T", MCA_ERR_INVAL },
	{ "Al\r\nlow", "GET", MCA_ERR_INVAL },
	{ "Allow:", "GET", MCA_ERR_INVAL },
	{ "Al low", "GET", MCA_ERR_INVAL },
	{ "", "GET", MCA_ERR_INVAL },
	{ NULL, "GET", MCA_ERR_INVAL },
	{ "Allow", NULL, MCA_ERR_INVAL },
	{ "Content-Length", "0", MCA_ERR_INVAL },
	{ "content-type", "text/html", MCA_ERR_INVAL },
	{ "Status", "200 OK", MCA_ERR_INVAL },
	{ "Content-Transfer-Encoding", "binary", MCA_ERR_INVAL },
	/* 31 characters fit a name, 32 do not; 255 fit a value, 256 not */
	{ "X-123456789012345678901234567890", "v", MCA_ERR_TOOBIG },
	{ "X-12345678901234567890123456789", "v", 0 },
};

START_TEST(test_resp_header)
{
	const struct hdr_case	*t = &hdr_cases[_i];
	struct mca_resp		 r;

	mca_resp_init(&r);
	ck_assert_int_eq(mca_resp_header(&r, t->name, t->value), t->rc);
	ck_assert_uint_eq(r.nhdr, t->rc == 0 ? 1 : 0);
	if (t->rc == 0) {
		ck_assert_str_eq(r.hname[0], t->name);
		ck_assert_str_eq(r.hval[0], t->value);
	}
	mca_resp_free(&r);
}
END_TEST

/* A Content-Type built per answer (multipart boundary). */
START_TEST(test_resp_ctype)
{
	struct mca_resp	 r;
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 big[200];

	mca_resp_init(&r);
	ck_assert_int_eq(mca_resp_ctype(&r, "multipart/mixed; boundary=b1"),
	    0);
	ck_assert_ptr_eq(r.ctype, r.ctype_buf);
	ck_assert_int_eq(mca_resp_serialize(&r, &out), 0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out),
	    "\r\nContent-Type: multipart/mixed; boundary=b1\r\n"));
	/* refused: r keeps what it had */
	ck_assert_int_eq(mca_resp_ctype(&r, "a\r\nX-Evil: 1"), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_resp_ctype(&r, "a\001"), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_resp_ctype(&r, ""), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_resp_ctype(&r, NULL), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_resp_ctype(NULL, "a/b"), MCA_ERR_INVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(mca_resp_ctype(&r, big), MCA_ERR_TOOBIG);
	ck_assert_str_eq(r.ctype, "multipart/mixed; boundary=b1");
	/* an error answer goes back to a static text/plain */
	ck_assert_int_eq(mca_resp_error(&r, 500, "x"), 0);
	ck_assert_str_eq(r.ctype, "text/plain");
	mca_resp_free(&r);
	mca_buf_free(&out);
}
END_TEST

/* A secret body is wiped by an error answer and by mca_resp_free(). */
START_TEST(test_resp_secret)
{
	struct mca_resp	 r;

	mca_resp_init(&r);
	ck_assert_int_eq(r.secret, 0);
	ck_assert_int_eq(mca_buf_addstr(&r.body, "PRIVATE KEY"), 0);
	r.secret = 1;
	ck_assert_int_eq(mca_resp_error(&r, 500, "late failure"), 0);
	ck_assert_int_eq(r.secret, 0);
	ck_assert_str_eq(mca_buf_str(&r.body), "late failure\n");
	ck_assert_ptr_null(memmem(r.body.data, r.body.cap, "PRIVATE", 7));
	mca_resp_free(&r);
	ck_assert_int_eq(mca_buf_addstr(&r.body, "PRIVATE KEY"), 0);
	r.secret = 1;
	mca_resp_free(&r);
	ck_assert_int_eq(r.secret, 0);
	ck_assert_ptr_null(r.body.data);
}
END_TEST

START_TEST(test_resp_header_limits)
{
	struct mca_resp	 r;
	char		 v[300];
	size_t		 i;

	mca_resp_init(&r);
	memset(v, 'v', sizeof(v));
	v[255] = '\0';
	ck_assert_int_eq(mca_resp_header(&r, "X-A", v), 0);
	v[255] = 'v';
	v[256] = '\0';
	ck_assert_int_eq(mca_resp_header(&r, "X-B", v), MCA_ERR_TOOBIG);
	for (i = 1; i < MCA_RESP_HDR_MAX; i++)
		ck_assert_int_eq(mca_resp_header(&r, "X-C", "c"), 0);
	ck_assert_int_eq(mca_resp_header(&r, "X-D", "d"), MCA_ERR_TOOBIG);
	ck_assert_uint_eq(r.nhdr, MCA_RESP_HDR_MAX);
	mca_resp_free(&r);
}
END_TEST

Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc;

	tc = tcase_create("route");
	tcase_add_loop_test(tc, test_route_ok, 0,
	    sizeof(route_ok) / sizeof(route_ok[0]));
	tcase_add_loop_test(tc, test_route_bad, 0,
	    sizeof(route_bad) / sizeof(route_bad[0]));
	tcase_add_test(tc, test_route_nul);
	tcase_add_test(tc, test_route_labellen);
	tcase_add_test(tc, test_route_long);
	tcase_add_test(tc, test_op_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("headers");
	tcase_add_loop_test(tc, test_content_length, 0,
	    sizeof(cl_cases) / sizeof(cl_cases[0]));
	tcase_add_loop_test(tc, test_media_is, 0,
	    sizeof(media_cases) / sizeof(media_cases[0]));
	tcase_add_loop_test(tc, test_reason, 0,
	    sizeof(reason_cases) / sizeof(reason_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_test(tc, test_serialize_200);
	tcase_add_test(tc, test_serialize_405);
	tcase_add_test(tc, test_serialize_head);
	tcase_add_test(tc, test_serialize_binary);
	tcase_add_test(tc, test_serialize_bad);
	tcase_add_test(tc, test_resp_error);
	tcase_add_loop_test(tc, test_resp_header, 0,
	    sizeof(hdr_cases) / sizeof(hdr_cases[0]));
	tcase_add_test(tc, test_resp_header_limits);
	tcase_add_test(tc, test_resp_ctype);
	tcase_add_test(tc, test_resp_secret);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(http_suite());
}
