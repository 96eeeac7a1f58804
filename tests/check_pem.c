/* Tests for lib/pem.c: PEM as files and web servers hand it to us. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "pem.h"
#include "testutil.h"

Suite	*pem_suite(void);

#define NCERT	3

/* Three certificates, their DER and PEM, made before the cases fork. */
static X509		*cert[NCERT];
static struct mca_buf	 der[NCERT], pem[NCERT], keypem;

static void
bio_to_buf(BIO *b, struct mca_buf *out)
{
	char	*p;
	long	 n;

	ck_assert_int_gt(n = BIO_get_mem_data(b, &p), 0);
	ck_assert_int_eq(mca_buf_add(out, p, (size_t)n), 0);
}

static void
setup(void)
{
	static const char *const cns[NCERT] = { "one", "two", "three" };
	EVP_PKEY	*k;
	BIO		*b;
	unsigned char	*p;
	int		 i, n;

	ck_assert_ptr_nonnull(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	for (i = 0; i < NCERT; i++) {
		cert[i] = tu_selfsigned(cns[i], k);
		mca_buf_init(&der[i]);
		mca_buf_init(&pem[i]);
		p = NULL;
		ck_assert_int_gt(n = i2d_X509(cert[i], &p), 0);
		ck_assert_int_eq(mca_buf_add(&der[i], p, (size_t)n), 0);
		OPENSSL_free(p);
		ck_assert_ptr_nonnull(b = BIO_new(BIO_s_mem()));
		ck_assert_int_eq(PEM_write_bio_X509(b, cert[i]), 1);
		bio_to_buf(b, &pem[i]);
		BIO_free(b);
	}
	mca_buf_init(&keypem);
	ck_assert_ptr_nonnull(b = BIO_new(BIO_s_mem()));
	ck_assert_int_eq(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	bio_to_buf(b, &keypem);
	BIO_free(b);
	EVP_PKEY_free(k);
}

static void
teardown(void)
{
	int	 i;

	for (i = 0; i < NCERT; i++) {
		X509_free(cert[i]);
		mca_buf_free(&der[i]);
		mca_buf_free(&pem[i]);
	}
	mca_buf_free(&keypem);
}

static void
add(struct mca_buf *out, const struct mca_buf *in)
{
	ck_assert_int_eq(mca_buf_add(out, in->data, in->len), 0);
}

static void
adds(struct mca_buf *out, const char *s)
{
	ck_assert_int_eq(mca_buf_addstr(out, s), 0);
}

/* Appends in with every "\n" replaced by sep. */
static void
relines(struct mca_buf *out, const struct mca_buf *in, const char *sep)
{
	size_t	 i;

	for (i = 0; i < in->len; i++) {
		if (in->data[i] == '\n')
			adds(out, sep);
		else
			ck_assert_int_eq(mca_buf_addc(out, in->data[i]), 0);
	}
}

/* Appends a PEM block of label around the base64 of bytes. */
static void
block(struct mca_buf *out, const char *label, const void *bytes, size_t n)
{
	ck_assert_int_eq(mca_buf_printf(out, "-----BEGIN %s-----\n", label),
	    0);
	ck_assert_int_eq(mca_b64_encode(bytes, n, 64, out), 0);
	ck_assert_int_eq(mca_buf_printf(out, "-----END %s-----\n", label), 0);
}

/* DER of SEQUENCE { INTEGER 0 }: valid DER, not a certificate. */
static const unsigned char not_cert[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

/* ------------------------------------------------------------ parse */

static void
p_lf(struct mca_buf *o)
{
	add(o, &pem[0]);
}

static void
p_spaces(struct mca_buf *o)
{
	relines(o, &pem[0], " ");
}

static void
p_crlf(struct mca_buf *o)
{
	relines(o, &pem[0], "\r\n");
}

/* nginx's $ssl_client_cert: every line after the first starts with a tab */
static void
p_tabs(struct mca_buf *o)
{
	relines(o, &pem[0], "\n\t");
}

static void
p_text_around(struct mca_buf *o)
{
	adds(o, "subject=CN = one\nissuer=CN = one\n");
	add(o, &pem[0]);
	adds(o, "that was it\n");
}

static void
p_no_final_newline(struct mca_buf *o)
{
	add(o, &pem[0]);
	o->len--;
}

static void
p_bundle(struct mca_buf *o)
{
	add(o, &pem[0]);
	add(o, &pem[1]);
}

static void
p_at_cap(struct mca_buf *o)
{
	add(o, &pem[0]);
	while (o->len < MCA_PEM_MAX)
		adds(o, " ");
}

static void
p_over_cap(struct mca_buf *o)
{
	p_at_cap(o);
	adds(o, " ");
}

static void
p_no_block(struct mca_buf *o)
{
	adds(o, "no PEM here\n");
}

static void
p_empty(struct mca_buf *o)
{
	(void)o;
}

static void
p_other_label(struct mca_buf *o)
{
	block(o, "CERTIFICATE REQUEST", der[0].data, der[0].len);
}

static void
p_no_end(struct mca_buf *o)
{
	add(o, &pem[0]);
	o->len -= strlen("-----END CERTIFICATE-----\n");
}

static void
p_nul_inside(struct mca_buf *o)
{
	add(o, &pem[0]);
	o->data[o->len / 2] = '\0';
}

static void
p_nul_after(struct mca_buf *o)
{
	add(o, &pem[0]);
	ck_assert_int_eq(mca_buf_add(o, "\0x", 2), 0);
}

static void
p_bad_b64(struct mca_buf *o)
{
	add(o, &pem[0]);
	o->data[40] = '*';
}

static void
p_empty_block(struct mca_buf *o)
{
	adds(o, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
}

static void
p_trailing_der(struct mca_buf *o)
{
	struct mca_buf	 t = MCA_BUF_INIT;

	add(&t, &der[0]);
	ck_assert_int_eq(mca_buf_add(&t, "\0\0", 2), 0);
	block(o, "CERTIFICATE", t.data, t.len);
	mca_buf_free(&t);
}

static void
p_not_cert(struct mca_buf *o)
{
	block(o, "CERTIFICATE", not_cert, sizeof(not_cert));
}

static const struct {
	const char	*name;
	void		(*make)(struct mca_buf *);
	size_t		 cut;		/* bytes the length leaves off */
	int		 rc;		/* 0: the result is cert[0] */
} pcases[] = {
	{ "LF", p_lf, 0, 0 },
	{ "spaces for newlines", p_spaces, 0, 0 },
	{ "CRLF", p_crlf, 0, 0 },
	{ "tabs", p_tabs, 0, 0 },
	{ "text around", p_text_around, 0, 0 },
	{ "no final newline", p_no_final_newline, 0, 0 },
	{ "first of a bundle", p_bundle, 0, 0 },
	{ "at cap", p_at_cap, 0, 0 },
	{ "over cap", p_over_cap, 0, MCA_ERR_TOOBIG },
	{ "no block", p_no_block, 0, MCA_ERR_NOTFOUND },
	{ "empty", p_empty, 0, MCA_ERR_NOTFOUND },
	{ "other label", p_other_label, 0, MCA_ERR_NOTFOUND },
	{ "BEGIN without END", p_no_end, 0, MCA_ERR_INVAL },
	{ "length cuts the END", p_lf, 10, MCA_ERR_INVAL },
	{ "NUL inside", p_nul_inside, 0, MCA_ERR_INVAL },
	{ "NUL after", p_nul_after, 0, MCA_ERR_INVAL },
	{ "bad base64", p_bad_b64, 0, MCA_ERR_INVAL },
	{ "empty block", p_empty_block, 0, MCA_ERR_INVAL },
	{ "trailing DER bytes", p_trailing_der, 0, MCA_ERR_INVAL },
	{ "not a certificate", p_not_cert, 0, MCA_ERR_INVAL },
};

START_TEST(test_parse)
{
	struct mca_buf	 in = MCA_BUF_INIT;
	X509		*x = (X509 *)&x;	/* must be cleared */
	char		*p;
	size_t		 len;
	int		 rc;

	pcases[_i].make(&in);
	len = in.len - pcases[_i].cut;
	/* An exact-size copy, not NUL-terminated: overreads show. */
	ck_assert_ptr_nonnull(p = malloc(len > 0 ? len : 1));
	if (len > 0)
		memcpy(p, in.data, len);
	rc = mca_pem_parse_cert(p, len, &x);
	ck_assert_msg(rc == pcases[_i].rc, "%s: rc %d, want %d",
	    pcases[_i].name, rc, pcases[_i].rc);
	if (rc == 0) {
		ck_assert_ptr_nonnull(x);
		ck_assert_int_eq(X509_cmp(x, cert[0]), 0);
	} else
		ck_assert_ptr_null(x);
	X509_free(x);
	free(p);
	mca_buf_free(&in);
}
END_TEST

/* mca_pem_decode: end offsets walk a bundle; der is appended to. */
START_TEST(test_decode_walk)
{
	struct mca_buf	 in = MCA_BUF_INIT, out = MCA_BUF_INIT;
	size_t		 end = 99, off;

	relines(&in, &pem[0], "\r\n");
	off = in.len;
	adds(&in, "junk between\n");
	add(&in, &pem[1]);
	adds(&out, "x");

	ck_assert_int_eq(mca_pem_decode((char *)in.data, in.len,
	    "CERTIFICATE", &out, &end), 0);
	ck_assert_uint_eq(end, off);		/* past the CRLF */
	ck_assert_uint_eq(out.len, 1 + der[0].len);
	ck_assert_int_eq(out.data[0], 'x');
	ck_assert_mem_eq(out.data + 1, der[0].data, der[0].len);

	mca_buf_reset(&out);
	ck_assert_int_eq(mca_pem_decode((char *)in.data + off, in.len - off,
	    "CERTIFICATE", &out, &end), 0);
	ck_assert_uint_eq(off + end, in.len);
	ck_assert_uint_eq(out.len, der[1].len);
	ck_assert_mem_eq(out.data, der[1].data, der[1].len);

	off += end;
	ck_assert_int_eq(mca_pem_decode((char *)in.data + off, in.len - off,
	    "CERTIFICATE", &out, &end), MCA_ERR_NOTFOUND);
	ck_assert_uint_eq(end, 0);

	/* Bad labels never match anything. */
	ck_assert_int_eq(mca_pem_decode((char *)in.data, in.len, "", &out,
	    NULL), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_pem_decode((char *)in.data, in.len,
	    "-CERTIFICATE", &out, NULL), MCA_ERR_INVAL);
	mca_buf_free(&out);
	mca_buf_free(&in);
}
END_TEST

/* ------------------------------------------------------------ load */

static void
l_one(struct mca_buf *o)
{
	add(o, &pem[0]);
}

static void
l_bundle(struct mca_buf *o)
{
	add(o, &pem[0]);
	add(o, &pem[1]);
	add(o, &pem[2]);
}

static void
l_reverse(struct mca_buf *o)
{
	add(o, &pem[2]);
	add(o, &pem[1]);
	add(o, &pem[0]);
}

static void
l_garbage_between(struct mca_buf *o)
{
	adds(o, "# the chain\n");
	add(o, &pem[0]);
	adds(o, "garbage -----BEGIN nothing\n\n");
	add(o, &pem[1]);
	adds(o, "subject=CN = three\n");
	add(o, &pem[2]);
	adds(o, "trailing junk");
}

static void
l_crlf(struct mca_buf *o)
{
	struct mca_buf	 t = MCA_BUF_INIT;

	l_bundle(&t);
	relines(o, &t, "\r\n");
	mca_buf_free(&t);
}

static void
l_key_and_cert(struct mca_buf *o)
{
	add(o, &keypem);
	add(o, &pem[0]);
}

static void
l_text(struct mca_buf *o)
{
	adds(o, "just text\n");
}

static void
l_key(struct mca_buf *o)
{
	add(o, &keypem);
}

static void
l_second_not_der(struct mca_buf *o)
{
	add(o, &pem[0]);
	block(o, "CERTIFICATE", not_cert, sizeof(not_cert));
	add(o, &pem[2]);
}

static void
l_second_bad_b64(struct mca_buf *o)
{
	size_t	 at;

	add(o, &pem[0]);
	at = o->len + 40;
	add(o, &pem[1]);
	o->data[at] = '!';
}

static void
l_second_nul(struct mca_buf *o)
{
	size_t	 at;

	add(o, &pem[0]);
	at = o->len + 40;
	add(o, &pem[1]);
	o->data[at] = '\0';
}

static void
l_third_no_end(struct mca_buf *o)
{
	l_bundle(o);
	o->len -= strlen("-----END CERTIFICATE-----\n");
}

static void
l_oversized(struct mca_buf *o)
{
	add(o, &pem[0]);
	while (o->len <= 1024 * 1024)
		adds(o, "                                                    \n");
}

static const struct {
	const char	*name;
	void		(*make)(struct mca_buf *); /* NULL: see file */
	const char	*file;		/* NULL: "f.pem" with make's text */
	int		 rc;
	const char	*order;		/* certs by index, e.g. "210" */
	const char	*diag;		/* after "<path>: " */
} lcases[] = {
	{ "one", l_one, NULL, 0, "0", "" },
	{ "bundle", l_bundle, NULL, 0, "012", "" },
	{ "reverse", l_reverse, NULL, 0, "210", "" },
	{ "garbage between", l_garbage_between, NULL, 0, "012", "" },
	{ "CRLF", l_crlf, NULL, 0, "012", "" },
	{ "key and cert", l_key_and_cert, NULL, 0, "0", "" },
	{ "no cert", l_text, NULL, MCA_ERR_NOTFOUND, NULL,
	    "no certificate found" },
	{ "empty file", p_empty, NULL, MCA_ERR_NOTFOUND, NULL,
	    "no certificate found" },
	{ "only a key", l_key, NULL, MCA_ERR_NOTFOUND, NULL,
	    "no certificate found" },
	{ "second not DER", l_second_not_der, NULL, MCA_ERR_INVAL, NULL,
	    "certificate 2 is not valid DER" },
	{ "second bad base64", l_second_bad_b64, NULL, MCA_ERR_INVAL, NULL,
	    "certificate 2 is not valid PEM" },
	{ "second NUL", l_second_nul, NULL, MCA_ERR_INVAL, NULL,
	    "certificate 2 is not valid PEM" },
	{ "third without END", l_third_no_end, NULL, MCA_ERR_INVAL, NULL,
	    "certificate 3 is not valid PEM" },
	{ "oversized", l_oversized, NULL, MCA_ERR_INVAL, NULL,
	    "larger than 1048576 bytes" },
	{ "missing", NULL, "missing.pem", MCA_ERR_NOTFOUND, NULL,
	    "no such file" },
	{ "directory", NULL, "", MCA_ERR_INVAL, NULL, "not a regular file" },
};

START_TEST(test_load)
{
	struct mca_buf	 text = MCA_BUF_INIT;
	struct mca_diag	 d;
	STACK_OF(X509)	*sk = (STACK_OF(X509) *)&sk;	/* must be cleared */
	char		*dir, path[1024], want[1200];
	const char	*o;
	int		 rc, i;

	dir = tu_mkdtemp("pem");
	(void)snprintf(path, sizeof(path), "%s/%s", dir,
	    lcases[_i].file != NULL ? lcases[_i].file : "f.pem");
	if (lcases[_i].make != NULL) {
		lcases[_i].make(&text);
		ck_assert_int_eq(tu_write(path, (char *)text.data, text.len),
		    0);
	}
	memset(&d, 'x', sizeof(d));
	rc = mca_pem_load_certs(path, &sk, &d);
	ck_assert_msg(rc == lcases[_i].rc, "%s: rc %d (%s), want %d",
	    lcases[_i].name, rc, d.msg, lcases[_i].rc);
	if (rc == 0) {
		ck_assert_str_eq(d.msg, "");
		o = lcases[_i].order;
		ck_assert_int_eq(sk_X509_num(sk), (int)strlen(o));
		for (i = 0; o[i] != '\0'; i++)
			ck_assert_msg(X509_cmp(sk_X509_value(sk, i),
			    cert[o[i] - '0']) == 0, "%s: cert %d", lcases[_i].name,
			    i);
	} else {
		ck_assert_ptr_null(sk);
		(void)snprintf(want, sizeof(want), "%s: %s", path,
		    lcases[_i].diag);
		ck_assert_str_eq(d.msg, want);
	}
	sk_X509_pop_free(sk, X509_free);
	mca_buf_free(&text);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------------ write */

START_TEST(test_write)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	X509		*x = NULL;
	const char	*s, *nl;
	size_t		 pre;

	adds(&out, "prefix\n");
	pre = out.len;
	ck_assert_int_eq(mca_pem_write_cert(cert[1], &out), 0);
	ck_assert_mem_eq(out.data, "prefix\n", pre);
	ck_assert_uint_eq(out.len - pre, pem[1].len);
	ck_assert_mem_eq(out.data + pre, pem[1].data, pem[1].len);
	/* RFC 7468 2: lines of 64 characters, the last one shorter. */
	for (s = (char *)out.data + pre; (nl = strchr(s, '\n')) != NULL;
	    s = nl + 1)
		ck_assert_int_le(nl - s, 64);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(mca_pem_parse_cert((char *)out.data + pre,
	    out.len - pre, &x), 0);
	ck_assert_int_eq(X509_cmp(x, cert[1]), 0);
	X509_free(x);
	mca_buf_free(&out);
}
END_TEST

Suite *
pem_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("pem");
	tc = tcase_create("pem");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_parse, 0,
	    (int)(sizeof(pcases) / sizeof(pcases[0])));
	tcase_add_test(tc, test_decode_walk);
	tcase_add_loop_test(tc, test_load, 0,
	    (int)(sizeof(lcases) / sizeof(lcases[0])));
	tcase_add_test(tc, test_write);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(pem_suite());
}
