/*
 * Tests for lib/httpauth.c: HTTP Basic credentials (RFC 7617) from
 * HTTP_AUTHORIZATION, including DigiCert's colon-less form.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "httpauth.h"
#include "testutil.h"

/*
 * A case: the header is fmt with "%s" replaced by the base64 of
 * raw[0..rawlen) (rawlen -1: strlen), or fmt alone when raw is NULL.
 */
static const struct {
	const char	*fmt;
	const char	*raw;
	int		 rawlen;
	int		 rc;
	int		 has_user;
	const char	*user;
	const char	*pass;
	const char	*diag;	/* contained in the message on failure */
} cases[] = {
	{ "Basic %s", "user:pass", -1, 0, 1, "user", "pass", NULL },
	/* RFC 7617 2: the scheme in any case. */
	{ "basic %s", "user:pass", -1, 0, 1, "user", "pass", NULL },
	{ "BASIC %s", "user:pass", -1, 0, 1, "user", "pass", NULL },
	{ "bAsIc %s", "user:pass", -1, 0, 1, "user", "pass", NULL },
	/* Blanks around and between. */
	{ "  Basic \t  %s \t", "user:pass", -1, 0, 1, "user", "pass", NULL },
	/* The first colon splits; empty parts are parts. */
	{ "Basic %s", "a:b:c", -1, 0, 1, "a", "b:c", NULL },
	{ "Basic %s", ":only-pass", -1, 0, 1, "", "only-pass", NULL },
	{ "Basic %s", "only-user:", -1, 0, 1, "only-user", "", NULL },
	{ "Basic %s", ":", -1, 0, 1, "", "", NULL },
	/* UTF-8 is kept as it is. */
	{ "Basic %s", "j\xc3\xb6rg:p\xc3\xa4ss", -1, 0, 1, "j\xc3\xb6rg",
	    "p\xc3\xa4ss", NULL },
	/* DigiCert's guide: the passcode alone, no colon. */
	{ "Basic d1R2UXRrVUdjVTgxQWhWbW9kR0U=", NULL, 0, 0, 0, "",
	    "wTvQtkUGcU81AhVmodGE", NULL },
	{ "Basic %s", "PG1D6EK3.BQ5Z8HMTDWNGG9S9CS53QY50ZZ", -1, 0, 0, "",
	    "PG1D6EK3.BQ5Z8HMTDWNGG9S9CS53QY50ZZ", NULL },
	/* Nothing there. */
	{ "", NULL, 0, MCA_ERR_NOTFOUND, 0, NULL, NULL, "empty" },
	{ " \t ", NULL, 0, MCA_ERR_NOTFOUND, 0, NULL, NULL, "empty" },
	/* Another scheme, or none. */
	{ "Bearer abcdef", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "not HTTP Basic" },
	{ "Digest username=\"x\"", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "not HTTP Basic" },
	{ "Basicdxxx", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "not HTTP Basic" },
	{ "Bas", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL, "not HTTP Basic" },
	{ "dXNlcjpwYXNz", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "not HTTP Basic" },
	{ "Basic", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL, "missing" },
	{ "Basic   ", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL, "missing" },
	/* Bad base64. */
	{ "Basic dXNlcjpwYXN", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "not valid base64" },
	{ "Basic dXNl cjpwYXNz", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "one base64 token" },
	{ "Basic dXNlcjpwYXNz===", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "one base64 token" },
	{ "Basic dXNl=cjpwYXNz", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "one base64 token" },
	{ "Basic dXNlcjpwYXNz, realm=\"x\"", NULL, 0, MCA_ERR_INVAL, 0,
	    NULL, NULL, "one base64 token" },
	{ "Basic dXNlcjpw-YXNz", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "one base64 token" },
	{ "Basic !!!!", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "one base64 token" },
	{ "Basic YR==", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "not valid base64" },		/* non-canonical bits */
	{ "Basic ====", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "one base64 token" },
	{ "Basic ==", NULL, 0, MCA_ERR_INVAL, 0, NULL, NULL,
	    "not valid base64" },
	/* RFC 7617 2: no control characters, NUL least of all. */
	{ "Basic %s", "us\0er:pass", 10, MCA_ERR_INVAL, 0, NULL, NULL,
	    "NUL" },
	{ "Basic %s", "user:pa\0ss", 10, MCA_ERR_INVAL, 0, NULL, NULL,
	    "NUL" },
	{ "Basic %s", "\0", 1, MCA_ERR_INVAL, 0, NULL, NULL, "NUL" },
	{ "Basic %s", "user:pa\nss", -1, MCA_ERR_INVAL, 0, NULL, NULL,
	    "control" },
	{ "Basic %s", "user:pass\x7f", -1, MCA_ERR_INVAL, 0, NULL, NULL,
	    "control" },
	{ "Basic %s", "us\ter:pass", -1, MCA_ERR_INVAL, 0, NULL, NULL,
	    "control" },
};

START_TEST(test_parse)
{
	struct mca_buf		 b64 = MCA_BUF_INIT, hdr = MCA_BUF_INIT;
	struct mca_basic	 b;
	struct mca_diag		 d;
	const char		*fmt = cases[_i].fmt, *pct;
	size_t			 rawlen;
	int			 rc;

	if (cases[_i].raw != NULL) {
		rawlen = cases[_i].rawlen < 0 ? strlen(cases[_i].raw) :
		    (size_t)cases[_i].rawlen;
		ck_assert_int_eq(mca_b64_encode((const unsigned char *)
		    cases[_i].raw, rawlen, 0, &b64), 0);
		ck_assert_ptr_nonnull(pct = strstr(fmt, "%s"));
		ck_assert_int_eq(mca_buf_add(&hdr, fmt, (size_t)(pct - fmt)),
		    0);
		ck_assert_int_eq(mca_buf_addstr(&hdr, mca_buf_str(&b64)), 0);
		ck_assert_int_eq(mca_buf_addstr(&hdr, pct + 2), 0);
	} else
		ck_assert_int_eq(mca_buf_addstr(&hdr, fmt), 0);

	memset(&b, 'x', sizeof(b));
	rc = mca_basic_parse(mca_buf_str(&hdr), &b, &d);
	ck_assert_msg(rc == cases[_i].rc, "case %d \"%s\": rc %d (%s), want %d",
	    _i, mca_buf_str(&hdr), rc, d.msg, cases[_i].rc);
	if (rc == 0) {
		ck_assert_int_eq(b.has_user, cases[_i].has_user);
		ck_assert_str_eq(b.user, cases[_i].user);
		ck_assert_str_eq(b.pass, cases[_i].pass);
	} else {
		/* Cleared: nothing of the credentials is left behind. */
		ck_assert_int_eq(b.has_user, 0);
		ck_assert_str_eq(b.user, "");
		ck_assert_str_eq(b.pass, "");
		ck_assert_msg(strstr(d.msg, cases[_i].diag) != NULL,
		    "case %d: \"%s\" lacks \"%s\"", _i, d.msg, cases[_i].diag);
		/* Never quotes what was sent. */
		ck_assert_ptr_null(strstr(d.msg, "user"));
		ck_assert_ptr_null(strstr(d.msg, "pass"));
	}
	mca_basic_clear(&b);
	mca_buf_free(&hdr);
	mca_buf_free(&b64);
}
END_TEST

START_TEST(test_null)
{
	struct mca_basic	 b;
	struct mca_diag		 d;

	ck_assert_int_eq(mca_basic_parse(NULL, &b, &d), MCA_ERR_NOTFOUND);
	ck_assert_int_eq(mca_basic_parse(NULL, &b, NULL), MCA_ERR_NOTFOUND);
	mca_basic_clear(NULL);
}
END_TEST

/*
 * The caps: a field of MCA_BASIC_FIELD_MAX bytes is fine, one more is
 * not; a header over MCA_BASIC_HDR_MAX bytes is refused before it is
 * decoded. A case is "Basic " and the base64 of ulen 'u's, a colon and
 * plen 'p's; or, when hlen is set, "Basic " and blanks, hlen bytes in all.
 */
static const struct {
	size_t		 ulen;
	size_t		 plen;
	size_t		 hlen;
	int		 rc;
	const char	*diag;	/* contained in the message, or NULL */
} caps[] = {
	{ 1, MCA_BASIC_FIELD_MAX, 0, 0, NULL },
	{ 1, MCA_BASIC_FIELD_MAX + 1, 0, MCA_ERR_TOOBIG, NULL },
	{ MCA_BASIC_FIELD_MAX + 1, 1, 0, MCA_ERR_TOOBIG, NULL },
	{ 0, 0, MCA_BASIC_HDR_MAX + 1, MCA_ERR_TOOBIG, "1024" },
	/* Exactly 1024 with blanks is not too long (and is empty). */
	{ 0, 0, MCA_BASIC_HDR_MAX, MCA_ERR_INVAL, NULL },
};

START_TEST(test_caps)
{
	struct mca_buf		 raw = MCA_BUF_INIT, hdr = MCA_BUF_INIT;
	struct mca_basic	 b;
	struct mca_diag		 d;
	size_t			 i;
	int			 rc;

	ck_assert_int_eq(mca_buf_addstr(&hdr, "Basic "), 0);
	if (caps[_i].hlen != 0) {
		while (hdr.len < caps[_i].hlen)
			ck_assert_int_eq(mca_buf_addc(&hdr, ' '), 0);
	} else {
		for (i = 0; i < caps[_i].ulen; i++)
			ck_assert_int_eq(mca_buf_addc(&raw, 'u'), 0);
		ck_assert_int_eq(mca_buf_addc(&raw, ':'), 0);
		for (i = 0; i < caps[_i].plen; i++)
			ck_assert_int_eq(mca_buf_addc(&raw, 'p'), 0);
		ck_assert_int_eq(mca_b64_encode(raw.data, raw.len, 0, &hdr),
		    0);
	}
	rc = mca_basic_parse(mca_buf_str(&hdr), &b, &d);
	ck_assert_msg(rc == caps[_i].rc, "case %d: rc %d (%s), want %d", _i,
	    rc, d.msg, caps[_i].rc);
	if (rc == 0) {
		ck_assert_uint_eq(strlen(b.user), caps[_i].ulen);
		ck_assert_uint_eq(strlen(b.pass), caps[_i].plen);
	}
	if (caps[_i].diag != NULL)
		ck_assert_ptr_nonnull(strstr(d.msg, caps[_i].diag));
	mca_basic_clear(&b);
	mca_buf_free(&raw);
	mca_buf_free(&hdr);
}
END_TEST

static Suite *
httpauth_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("httpauth");
	tc = tcase_create("basic");
	tcase_add_loop_test(tc, test_parse, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_null);
	tcase_add_loop_test(tc, test_caps, 0,
	    (int)(sizeof(caps) / sizeof(caps[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(httpauth_suite());
}
