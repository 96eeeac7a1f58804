/* Unit tests for lib/b64.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "testutil.h"

Suite	*b64_suite(void);

/* RFC 4648 10 test vectors. */
static const struct vec {
	const char	*plain;
	const char	*enc;
} vecs[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

START_TEST(test_encode_vectors)
{
	const struct vec	*v = &vecs[_i];
	struct mca_buf		 out = MCA_BUF_INIT;
	char			 want[32];

	/* line_len 0: one line, no line break at all */
	ck_assert_int_eq(mca_b64_encode((const unsigned char *)v->plain,
	    strlen(v->plain), 0, &out), 0);
	ck_assert_str_eq(mca_buf_str(&out), v->enc);
	ck_assert_uint_eq(out.len, strlen(v->enc));

	/* line_len 64: the last line ends in "\n" (none for no lines) */
	mca_buf_reset(&out);
	ck_assert_int_eq(mca_b64_encode((const unsigned char *)v->plain,
	    strlen(v->plain), 64, &out), 0);
	(void)snprintf(want, sizeof(want), "%s%s", v->enc,
	    v->enc[0] != '\0' ? "\n" : "");
	ck_assert_str_eq(mca_buf_str(&out), want);
	mca_buf_free(&out);
}
END_TEST

START_TEST(test_decode_vectors)
{
	const struct vec	*v = &vecs[_i];
	struct mca_buf		 out = MCA_BUF_INIT;

	if (v->enc[0] == '\0') {
		/* empty input is not a valid body */
		ck_assert_int_eq(mca_b64_decode("", 0, &out), MCA_ERR_INVAL);
		ck_assert_uint_eq(out.len, 0);
		mca_buf_free(&out);
		return;
	}
	ck_assert_int_eq(mca_b64_decode(v->enc, strlen(v->enc), &out), 0);
	ck_assert_uint_eq(out.len, strlen(v->plain));
	ck_assert_int_eq(memcmp(out.data, v->plain, out.len), 0);
	ck_assert_int_eq(out.data[out.len], '\0');
	mca_buf_free(&out);
}
END_TEST

/* Line breaking: line_len characters, then "\n"; never an empty line. */
static const struct wrap_case {
	size_t		 inlen;
	unsigned	 line_len;
	const char	*shape;	/* line lengths, "" for no output */
} wrap_cases[] = {
	{ 0, 64, "" },
	{ 1, 64, "4" },
	{ 47, 64, "64" },
	{ 48, 64, "64" },
	{ 49, 64, "64,4" },
	{ 96, 64, "64,64" },
	{ 100, 64, "64,64,8" },
	{ 3, 4, "4" },
	{ 7, 4, "4,4,4" },
	{ 57, 76, "76" },
	{ 58, 76, "76,4" },
	{ 100, 0, "136" },
	{ 48, 0, "64" },
};

START_TEST(test_encode_wrap)
{
	const struct wrap_case	*t = &wrap_cases[_i];
	struct mca_buf		 out = MCA_BUF_INIT, shape = MCA_BUF_INIT;
	unsigned char		 in[256];
	size_t			 i, col = 0;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + 3);
	ck_assert_int_eq(mca_b64_encode(in, t->inlen, t->line_len, &out), 0);
	for (i = 0; i < out.len; i++) {
		if (out.data[i] == '\n') {
			ck_assert_int_eq(mca_buf_printf(&shape, "%s%zu",
			    shape.len ? "," : "", col), 0);
			col = 0;
		} else
			col++;
	}
	if (col != 0)	/* only legal with line_len 0 */
		ck_assert_int_eq(mca_buf_printf(&shape, "%s%zu",
		    shape.len ? "," : "", col), 0);
	ck_assert_str_eq(mca_buf_str(&shape), t->shape);
	if (t->line_len != 0 && out.len > 0)
		ck_assert_int_eq(out.data[out.len - 1], '\n');
	if (t->line_len == 0)
		ck_assert_ptr_null(memchr(mca_buf_str(&out), '\n', out.len));
	mca_buf_free(&out);
	mca_buf_free(&shape);
}
END_TEST

static const unsigned bad_line_lens[] = { 1, 2, 3, 5, 6, 63, 65, 66, 75 };

START_TEST(test_encode_bad_line_len)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	ck_assert_int_eq(mca_buf_addstr(&out, "keep"), 0);
	ck_assert_int_eq(mca_b64_encode((const unsigned char *)"foobar", 6,
	    bad_line_lens[_i], &out), MCA_ERR_INVAL);
	ck_assert_str_eq(mca_buf_str(&out), "keep");
	mca_buf_free(&out);
}
END_TEST

START_TEST(test_encode_toobig)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	unsigned char	 c = 0;

	/* refused before in is read, so a short buffer is fine */
	ck_assert_int_eq(mca_b64_encode(&c, MCA_BUF_MAX, 64, &out),
	    MCA_ERR_TOOBIG);
	ck_assert_uint_eq(out.len, 0);
	mca_buf_free(&out);
}
END_TEST

/* Encoding appends; decoding appends. */
START_TEST(test_append)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	ck_assert_int_eq(mca_buf_addstr(&out, "x:"), 0);
	ck_assert_int_eq(mca_b64_encode((const unsigned char *)"foo", 3, 0,
	    &out), 0);
	ck_assert_str_eq(mca_buf_str(&out), "x:Zm9v");
	ck_assert_int_eq(mca_b64_decode("Zm9vYg==", 8, &out), 0);
	ck_assert_str_eq(mca_buf_str(&out), "x:Zm9vfoob");
	mca_buf_free(&out);
}
END_TEST

/* Whitespace anywhere is skipped (RFC 8951 3.2). */
static const char *const ws_good[] = {
	"Zm9v\r\nYmFy",
	"Zm9v\nYmFy\n",
	"Zm9vYmFy\r\n",
	"\r\nZm9vYmFy",
	" Zm 9v Ym Fy ",
	"Z\tm\t9\tv\tY\tm\tF\ty",
	"Zm9vYm\r\n\r\n\r\nFy",
	"Z m 9 v\r\nY m F y\r\n",
};

START_TEST(test_decode_whitespace)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	ck_assert_int_eq(mca_b64_decode(ws_good[_i], strlen(ws_good[_i]),
	    &out), 0);
	ck_assert_str_eq(mca_buf_str(&out), "foobar");
	mca_buf_free(&out);
}
END_TEST

/* Whitespace around and inside the padding too. */
static const struct {
	const char	*in;
	const char	*out;
} ws_pad[] = {
	{ "Zg==\r\n", "f" },
	{ "Zg=\r\n=", "f" },
	{ "Zm8 =", "f" "o" },
	{ "Z g = =", "f" },
};

START_TEST(test_decode_ws_pad)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	ck_assert_int_eq(mca_b64_decode(ws_pad[_i].in, strlen(ws_pad[_i].in),
	    &out), 0);
	ck_assert_str_eq(mca_buf_str(&out), ws_pad[_i].out);
	mca_buf_free(&out);
}
END_TEST

static const struct bad {
	const char	*in;
	size_t		 len;	/* 0: strlen */
} bad[] = {
	{ "", 0 },
	{ " \r\n\t", 0 },
	{ "Z", 0 },
	{ "Zg", 0 },
	{ "Zg=", 0 },
	{ "Zm9", 0 },
	{ "Zm9vY", 0 },
	{ "Zm9v!", 0 },
	{ "Zm9v-_==", 0 },		/* base64url is not ours */
	{ "Zm9v\0Zm9v", 9 },		/* embedded NUL */
	{ "Zm9v\0", 5 },
	{ "Zm9v\x80\x80\x80\x80", 0 },
	{ "Zm9v\v", 0 },		/* vertical tab is not skipped */
	{ "Zm9v\f", 0 },
	{ "=", 0 },
	{ "====", 0 },
	{ "=Zg=", 0 },
	{ "Z===", 0 },
	{ "Zg===", 0 },
	{ "Zm9v=", 0 },
	{ "Zm9v====", 0 },
	{ "Z=g=", 0 },
	{ "Zg=a", 0 },
	{ "Zg==Zg==", 0 },		/* padding mid-stream */
	{ "Zm8=Zm9v", 0 },
	{ "Zg== Zm9v", 0 },
	{ "Zh==", 0 },			/* non-zero bits under "==" */
	{ "Zm9=", 0 },			/* non-zero bits under "=" */
	{ "Zv==", 0 },
	{ "Zm/=", 0 },
	{ "-----BEGIN CERTIFICATE REQUEST-----", 0 },
};

START_TEST(test_decode_bad)
{
	const struct bad	*t = &bad[_i];
	struct mca_buf		 out = MCA_BUF_INIT;
	size_t			 len = t->len ? t->len : strlen(t->in);

	ck_assert_int_eq(mca_buf_addstr(&out, "keep"), 0);
	ck_assert_msg(mca_b64_decode(t->in, len, &out) == MCA_ERR_INVAL,
	    "accepted case %d", _i);
	/* nothing appended on failure */
	ck_assert_uint_eq(out.len, 4);
	ck_assert_str_eq(mca_buf_str(&out), "keep");
	mca_buf_free(&out);
}
END_TEST

/* Decoding reads only in[0..inlen): bytes after it do not matter. */
START_TEST(test_decode_len)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	ck_assert_int_eq(mca_b64_decode("Zm9v!!!!", 4, &out), 0);
	ck_assert_str_eq(mca_buf_str(&out), "foo");
	mca_buf_free(&out);
}
END_TEST

/* Every byte value and every length survives a round trip. */
static const unsigned rt_line_lens[] = { 0, 4, 64, 76 };

START_TEST(test_roundtrip)
{
	struct mca_buf	 enc = MCA_BUF_INIT, dec = MCA_BUF_INIT;
	unsigned char	 in[600];
	size_t		 i, len;

	srand(1234 + _i);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(rand() & 0xff);
	for (len = 1; len <= sizeof(in); len++) {
		mca_buf_reset(&enc);
		mca_buf_reset(&dec);
		ck_assert_int_eq(mca_b64_encode(in, len, rt_line_lens[_i],
		    &enc), 0);
		ck_assert_uint_eq(strlen(mca_buf_str(&enc)), enc.len);
		ck_assert_int_eq(mca_b64_decode((const char *)enc.data,
		    enc.len, &dec), 0);
		ck_assert_uint_eq(dec.len, len);
		ck_assert_int_eq(memcmp(dec.data, in, len), 0);
	}
	mca_buf_free(&enc);
	mca_buf_free(&dec);
}
END_TEST

Suite *
b64_suite(void)
{
	Suite	*s = suite_create("b64");
	TCase	*tc;

	tc = tcase_create("encode");
	tcase_add_loop_test(tc, test_encode_vectors, 0,
	    sizeof(vecs) / sizeof(vecs[0]));
	tcase_add_loop_test(tc, test_encode_wrap, 0,
	    sizeof(wrap_cases) / sizeof(wrap_cases[0]));
	tcase_add_loop_test(tc, test_encode_bad_line_len, 0,
	    sizeof(bad_line_lens) / sizeof(bad_line_lens[0]));
	tcase_add_test(tc, test_encode_toobig);
	tcase_add_test(tc, test_append);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_loop_test(tc, test_decode_vectors, 0,
	    sizeof(vecs) / sizeof(vecs[0]));
	tcase_add_loop_test(tc, test_decode_whitespace, 0,
	    sizeof(ws_good) / sizeof(ws_good[0]));
	tcase_add_loop_test(tc, test_decode_ws_pad, 0,
	    sizeof(ws_pad) / sizeof(ws_pad[0]));
	tcase_add_loop_test(tc, test_decode_bad, 0,
	    sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_decode_len);
	tcase_add_loop_test(tc, test_roundtrip, 0,
	    sizeof(rt_line_lens) / sizeof(rt_line_lens[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(b64_suite());
}
