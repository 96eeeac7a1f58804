/* Unit tests for lib/num.c. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "err.h"
#include "num.h"
#include "testutil.h"

Suite	*num_suite(void);

#define ALL	LLONG_MIN, LLONG_MAX
#define NONNEG	0, LLONG_MAX

static const struct num_case {
	const char	*s;
	size_t		 len;	/* (size_t)-1: strlen(s) */
	long long	 min, max;
	int		 rc;
	long long	 want;
} cases[] = {
	/* plain values and the bounds of the range */
	{ "0", -1, ALL, 0, 0 },
	{ "7", -1, ALL, 0, 7 },
	{ "10", -1, 0, 10, 0, 10 },
	{ "11", -1, 0, 10, MCA_ERR_TOOBIG, 0 },
	{ "5", -1, 5, 5, 0, 5 },
	{ "4", -1, 5, 5, MCA_ERR_TOOBIG, 0 },
	{ "6", -1, 5, 5, MCA_ERR_TOOBIG, 0 },
	{ "0", -1, 1, 10, MCA_ERR_TOOBIG, 0 },
	{ "-1", -1, -1, 10, 0, -1 },
	{ "-2", -1, -1, 10, MCA_ERR_TOOBIG, 0 },
	{ "-7", -1, -10, -5, 0, -7 },
	{ "-3", -1, -10, -5, MCA_ERR_TOOBIG, 0 },
	{ "-11", -1, -10, -5, MCA_ERR_TOOBIG, 0 },
	{ "0", -1, -10, -5, MCA_ERR_TOOBIG, 0 },
	{ "3", -1, -10, -5, MCA_ERR_TOOBIG, 0 },
	{ "65536", -1, 0, 65536, 0, 65536 },
	{ "65537", -1, 0, 65536, MCA_ERR_TOOBIG, 0 },
	/* the edges of long long */
	{ "9223372036854775807", -1, ALL, 0, LLONG_MAX },
	{ "9223372036854775808", -1, ALL, MCA_ERR_TOOBIG, 0 },
	{ "9223372036854775810", -1, ALL, MCA_ERR_TOOBIG, 0 },
	{ "9223372036854775817", -1, ALL, MCA_ERR_TOOBIG, 0 },
	{ "18446744073709551615", -1, ALL, MCA_ERR_TOOBIG, 0 },
	{ "18446744073709551616", -1, ALL, MCA_ERR_TOOBIG, 0 },
	{ "36893488147419103232", -1, ALL, MCA_ERR_TOOBIG, 0 },
	{ "99999999999999999999999999999999999999", -1, ALL,
	    MCA_ERR_TOOBIG, 0 },
	{ "-9223372036854775808", -1, ALL, 0, LLONG_MIN },
	{ "-9223372036854775807", -1, ALL, 0, LLONG_MIN + 1 },
	{ "-9223372036854775809", -1, ALL, MCA_ERR_TOOBIG, 0 },
	{ "-18446744073709551616", -1, ALL, MCA_ERR_TOOBIG, 0 },
	{ "9223372036854775807", -1, 0, LLONG_MAX - 1, MCA_ERR_TOOBIG, 0 },
	{ "9223372036854775806", -1, 0, LLONG_MAX - 1, 0, LLONG_MAX - 1 },
	{ "-9223372036854775808", -1, LLONG_MIN + 1, 0, MCA_ERR_TOOBIG, 0 },
	{ "-9223372036854775807", -1, LLONG_MIN + 1, 0, 0, LLONG_MIN + 1 },
	/* signs */
	{ "-1", -1, NONNEG, MCA_ERR_TOOBIG, 0 },	/* out of range */
	{ "-0", -1, -5, 5, 0, 0 },	/* as strtonum(3) */
	{ "-", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "-", -1, NONNEG, MCA_ERR_INVAL, 0 },
	{ "--1", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "-x", -1, NONNEG, MCA_ERR_INVAL, 0 },
	/* fuzz_num: a range of one number, LLONG_MAX (min + 1 overflowed) */
	{ "-X", -1, LLONG_MAX, LLONG_MAX, MCA_ERR_INVAL, 0 },
	{ "-0", -1, LLONG_MAX, LLONG_MAX, MCA_ERR_TOOBIG, 0 },
	{ "9223372036854775807", -1, LLONG_MAX, LLONG_MAX, 0, LLONG_MAX },
	{ "+5", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "+", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "1-", -1, ALL, MCA_ERR_INVAL, 0 },
	/* leading zeros */
	{ "00", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "05", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "007", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "-05", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "-00", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "0x10", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "0a", -1, ALL, MCA_ERR_INVAL, 0 },
	/* empty and not a number */
	{ "", -1, ALL, MCA_ERR_INVAL, 0 },
	{ NULL, 0, ALL, MCA_ERR_INVAL, 0 },
	{ "5", 0, ALL, MCA_ERR_INVAL, 0 },
	{ " 5", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "5 ", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "5\n", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "\t5", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "1.5", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "1e3", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "1,000", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "1_000", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "abc", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "12a", -1, ALL, MCA_ERR_INVAL, 0 },
	{ "\xd9\xa1", -1, ALL, MCA_ERR_INVAL, 0 },	/* Arabic-Indic one */
	{ "\xef\xbc\x91", -1, ALL, MCA_ERR_INVAL, 0 },	/* fullwidth one */
	/* pointer and length: the length rules, NULs included */
	{ "123", 2, ALL, 0, 12 },
	{ "1234x", 4, ALL, 0, 1234 },
	{ "1\0", 2, ALL, MCA_ERR_INVAL, 0 },
	{ "\0" "1", 2, ALL, MCA_ERR_INVAL, 0 },
	{ "-\0" "1", 3, ALL, MCA_ERR_INVAL, 0 },
};

START_TEST(test_parse)
{
	const struct num_case	*t = &cases[_i];
	long long		 v = 42;
	size_t			 len;
	int			 rc;

	len = t->len == (size_t)-1 ? strlen(t->s) : t->len;
	rc = mca_num_parse(t->s, len, t->min, t->max, &v);
	ck_assert_msg(rc == t->rc, "\"%.*s\" in [%lld, %lld]: rc %d, want %d",
	    t->s ? (int)len : 6, t->s ? t->s : "(null)", t->min, t->max, rc,
	    t->rc);
	ck_assert_msg(v == t->want, "\"%.*s\": got %lld, want %lld",
	    t->s ? (int)len : 6, t->s ? t->s : "(null)", v, t->want);
}
END_TEST

/* Every value around a few bounds, as text, parses back to itself. */
static const long long centres[] = { 0, 9, 10, 99, 100, 65536,
    LLONG_MAX - 10, LLONG_MIN + 10, -1000000007LL };

START_TEST(test_roundtrip)
{
	char			 s[32];
	long long		 c, v;
	int			 d, n;

	c = centres[_i];
	for (d = -10; d <= 10; d++) {
		n = snprintf(s, sizeof(s), "%lld", c + d);
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(mca_num_parse(s, (size_t)n, ALL, &v), 0);
		ck_assert(v == c + d);
		/* [c, c]: only c itself is in range */
		ck_assert_int_eq(mca_num_parse(s, (size_t)n, c, c, &v),
		    d == 0 ? 0 : MCA_ERR_TOOBIG);
	}
}
END_TEST

Suite *
num_suite(void)
{
	Suite	*s = suite_create("num");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_loop_test(tc, test_roundtrip, 0,
	    sizeof(centres) / sizeof(centres[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(num_suite());
}
