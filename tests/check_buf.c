/* Unit tests for lib/buf.c. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "buf.h"
#include "err.h"
#include "testutil.h"

Suite	*buf_suite(void);

/* Checks the invariants: NUL past len, len within cap. */
static void
assert_sane(const struct mca_buf *b)
{
	if (b->data == NULL) {
		ck_assert_uint_eq(b->len, 0);
		ck_assert_uint_eq(b->cap, 0);
		return;
	}
	ck_assert_uint_lt(b->len, b->cap);
	ck_assert_int_eq(b->data[b->len], '\0');
	ck_assert_uint_le(b->cap, (size_t)MCA_BUF_MAX + 1);
}

START_TEST(test_init)
{
	struct mca_buf	 a = MCA_BUF_INIT, b;

	memset(&b, 0xa5, sizeof(b));
	mca_buf_init(&b);
	ck_assert_ptr_null(a.data);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	ck_assert_str_eq(mca_buf_str(&a), "");
	assert_sane(&b);
}
END_TEST

/* Growing past each power of two keeps every byte. */
static const size_t grow_sizes[] = { 0, 1, 254, 255, 256, 257, 511, 512,
    513, 1000, 4095, 4096, 4097, 65537, 1048576 };

START_TEST(test_grow_add)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	size_t		 n = grow_sizes[_i], i, bad = 0;
	int		 rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		rc = mca_buf_addc(&b, (unsigned char)(i % 251));
		if (i % 997 == 0)
			assert_sane(&b);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(b.len, n);
	for (i = 0; i < n; i++)
		if (b.data[i] != i % 251)
			bad++;
	ck_assert_uint_eq(bad, 0);
	if (n > 0)
		assert_sane(&b);
	mca_buf_free(&b);
}
END_TEST

START_TEST(test_grow_chunks)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	unsigned char	*src;
	size_t		 n = grow_sizes[_i], i, k;

	ck_assert_ptr_nonnull(src = malloc(n + 1));
	for (i = 0; i < n; i++)
		src[i] = (unsigned char)(i * 13 + 1);
	/* uneven chunks, so that appends straddle the growth points */
	for (i = 0; i < n; i += k) {
		k = (i % 7) * 37 + 1;
		if (k > n - i)
			k = n - i;
		ck_assert_int_eq(mca_buf_add(&b, src + i, k), 0);
		assert_sane(&b);
	}
	ck_assert_uint_eq(b.len, n);
	if (n > 0)
		ck_assert_int_eq(memcmp(b.data, src, n), 0);
	free(src);
	mca_buf_free(&b);
}
END_TEST

START_TEST(test_add_empty)
{
	struct mca_buf	 b = MCA_BUF_INIT;

	ck_assert_int_eq(mca_buf_add(&b, NULL, 0), 0);
	ck_assert_uint_eq(b.len, 0);
	assert_sane(&b);
	ck_assert_str_eq(mca_buf_str(&b), "");
	ck_assert_int_eq(mca_buf_addstr(&b, ""), 0);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(mca_buf_addstr(&b, "ab"), 0);
	ck_assert_int_eq(mca_buf_addc(&b, '\0'), 0);
	ck_assert_int_eq(mca_buf_addc(&b, 'c'), 0);
	ck_assert_uint_eq(b.len, 4);
	ck_assert_int_eq(memcmp(b.data, "ab\0c", 5), 0);
	mca_buf_free(&b);
}
END_TEST

START_TEST(test_printf)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	char		 want[1200];

	ck_assert_int_eq(mca_buf_printf(&b, "%s", ""), 0);
	ck_assert_str_eq(mca_buf_str(&b), "");
	assert_sane(&b);
	ck_assert_int_eq(mca_buf_printf(&b, "%d-%s-%zu", -5, "x", (size_t)7),
	    0);
	ck_assert_str_eq(mca_buf_str(&b), "-5-x-7");
	ck_assert_uint_eq(b.len, 6);
	/* a long one forces growth in the middle of printf */
	ck_assert_int_eq(mca_buf_printf(&b, "[%01000d]", 42), 0);
	ck_assert_uint_eq(b.len, 6 + 1002);
	memset(want, '0', sizeof(want));
	memcpy(want, "-5-x-7[", 7);
	memcpy(want + 7 + 998, "42]", 4);
	ck_assert_str_eq(mca_buf_str(&b), want);
	assert_sane(&b);
	mca_buf_free(&b);
}
END_TEST

START_TEST(test_reset)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	size_t		 cap;

	mca_buf_reset(&b);	/* on an empty buffer */
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(mca_buf_addstr(&b, "hello"), 0);
	cap = b.cap;
	mca_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, cap);		/* kept, not freed */
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(mca_buf_str(&b), "");
	ck_assert_int_eq(mca_buf_addstr(&b, "xy"), 0);
	ck_assert_str_eq(mca_buf_str(&b), "xy");
	mca_buf_free(&b);
}
END_TEST

START_TEST(test_free)
{
	struct mca_buf	 b = MCA_BUF_INIT;

	mca_buf_free(NULL);
	mca_buf_free_secret(NULL);
	mca_buf_free(&b);		/* never used */
	mca_buf_free_secret(&b);
	ck_assert_int_eq(mca_buf_addstr(&b, "data"), 0);
	mca_buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	mca_buf_free(&b);		/* twice */
	ck_assert_int_eq(mca_buf_addstr(&b, "secret"), 0);
	mca_buf_free_secret(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	/* usable again after free */
	ck_assert_int_eq(mca_buf_addstr(&b, "again"), 0);
	ck_assert_str_eq(mca_buf_str(&b), "again");
	mca_buf_free(&b);
}
END_TEST

/* Requests over the cap fail before allocating, leaving b as it was. */
static const size_t toobig[] = { (size_t)MCA_BUF_MAX + 1, SIZE_MAX,
    SIZE_MAX - 1, SIZE_MAX / 2 };

START_TEST(test_cap_refused)
{
	struct mca_buf	 b = MCA_BUF_INIT;

	ck_assert_int_eq(mca_buf_reserve(&b, toobig[_i]), MCA_ERR_TOOBIG);
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(mca_buf_addstr(&b, "abc"), 0);
	ck_assert_int_eq(mca_buf_reserve(&b, toobig[_i]), MCA_ERR_TOOBIG);
	ck_assert_int_eq(mca_buf_add(&b, "x", toobig[_i]), MCA_ERR_TOOBIG);
	ck_assert_str_eq(mca_buf_str(&b), "abc");
	ck_assert_uint_eq(b.len, 3);
	mca_buf_free(&b);
}
END_TEST

/* Exactly MCA_BUF_MAX bytes fit; one more does not, whatever the call. */
START_TEST(test_cap_edge)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	char		*big;

	ck_assert_ptr_nonnull(big = malloc(MCA_BUF_MAX));
	memset(big, 'b', MCA_BUF_MAX);
	ck_assert_int_eq(mca_buf_add(&b, big, MCA_BUF_MAX - 3), 0);
	ck_assert_int_eq(mca_buf_reserve(&b, 3), 0);
	ck_assert_int_eq(mca_buf_reserve(&b, 4), MCA_ERR_TOOBIG);
	ck_assert_int_eq(mca_buf_printf(&b, "%s", "1234"), MCA_ERR_TOOBIG);
	ck_assert_int_eq(mca_buf_addstr(&b, "1234"), MCA_ERR_TOOBIG);
	ck_assert_uint_eq(b.len, MCA_BUF_MAX - 3);
	ck_assert_int_eq(mca_buf_printf(&b, "%s", "12"), 0);
	ck_assert_int_eq(mca_buf_addc(&b, '3'), 0);
	ck_assert_uint_eq(b.len, MCA_BUF_MAX);
	ck_assert_int_eq(mca_buf_addc(&b, '4'), MCA_ERR_TOOBIG);
	ck_assert_int_eq(mca_buf_add(&b, NULL, 0), 0);
	ck_assert_uint_eq(b.len, MCA_BUF_MAX);
	ck_assert_int_eq(memcmp(b.data + MCA_BUF_MAX - 3, "123", 4), 0);
	/* the allocation stays within the cap too */
	assert_sane(&b);
	mca_buf_free(&b);

	/* one add of exactly the cap */
	ck_assert_int_eq(mca_buf_add(&b, big, MCA_BUF_MAX), 0);
	assert_sane(&b);
	mca_buf_free(&b);
	free(big);
}
END_TEST

Suite *
buf_suite(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc;

	tc = tcase_create("buf");
	tcase_add_test(tc, test_init);
	tcase_add_loop_test(tc, test_grow_add, 0,
	    sizeof(grow_sizes) / sizeof(grow_sizes[0]));
	tcase_add_loop_test(tc, test_grow_chunks, 0,
	    sizeof(grow_sizes) / sizeof(grow_sizes[0]));
	tcase_add_test(tc, test_add_empty);
	tcase_add_test(tc, test_printf);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_free);
	tcase_add_loop_test(tc, test_cap_refused, 0,
	    sizeof(toobig) / sizeof(toobig[0]));
	tcase_add_test(tc, test_cap_edge);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(buf_suite());
}
