/* Tests for lib/est_codec.c: certs-only CMS and CSR attributes. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "b64.h"
#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "est_codec.h"
#include "testutil.h"

Suite	*est_codec_suite(void);

#define NCERT	3

static X509	*cert[NCERT];

static void
setup(void)
{
	static const char *const cns[NCERT] = { "leaf", "sub CA", "root CA" };
	EVP_PKEY	*k;
	int		 i;

	ck_assert_ptr_nonnull(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	for (i = 0; i < NCERT; i++)
		cert[i] = tu_selfsigned(cns[i], k);
	EVP_PKEY_free(k);
}

static void
teardown(void)
{
	int	 i;

	for (i = 0; i < NCERT; i++)
		X509_free(cert[i]);
}

/* A stack of cert[] in the order given as digits ("210"). */
static STACK_OF(X509) *
stack(const char *order)
{
	STACK_OF(X509)	*sk;

	ck_assert_ptr_nonnull(sk = sk_X509_new_null());
	for (; *order != '\0'; order++)
		ck_assert_int_gt(sk_X509_push(sk, cert[*order - '0']), 0);
	return sk;
}

/* ------------------------------------------------------------ certs-only */

static const char *const orders[] = { "0", "012", "210", "" };

START_TEST(test_certs_only)
{
	struct mca_buf		 der = MCA_BUF_INIT;
	STACK_OF(X509)		*sk;
	PKCS7			*p7;
	PKCS7_SIGNED		*sd;
	const unsigned char	*p;
	const char		*o = orders[_i];
	int			 i;

	sk = stack(o);
	ck_assert_int_eq(mca_buf_addstr(&der, "pre"), 0);
	ck_assert_int_eq(mca_est_certs_only(sk, &der), 0);
	ck_assert_mem_eq(der.data, "pre", 3);
	p = der.data + 3;
	ck_assert_ptr_nonnull(p7 = d2i_PKCS7(NULL, &p, (long)der.len - 3));
	ck_assert_ptr_eq(p, der.data + der.len);	/* all of it */

	ck_assert_int_eq(OBJ_obj2nid(p7->type), NID_pkcs7_signed);
	sd = p7->d.sign;
	ck_assert_int_eq(ASN1_INTEGER_get(sd->version), 1);
	ck_assert_int_eq(sk_X509_ALGOR_num(sd->md_algs), 0);
	/* encapContentInfo: id-data, eContent absent */
	ck_assert_int_eq(OBJ_obj2nid(sd->contents->type), NID_pkcs7_data);
	ck_assert_ptr_null(sd->contents->d.data);
	ck_assert_int_eq(sk_X509_CRL_num(sd->crl), -1);		/* absent */
	ck_assert_int_eq(sk_PKCS7_SIGNER_INFO_num(sd->signer_info), 0);
	ck_assert_int_eq(sk_X509_num(sd->cert), *o != '\0' ? (int)strlen(o) :
	    -1);
	for (i = 0; o[i] != '\0'; i++)
		ck_assert_int_eq(X509_cmp(sk_X509_value(sd->cert, i),
		    cert[o[i] - '0']), 0);
	PKCS7_free(p7);
	sk_X509_free(sk);
	mca_buf_free(&der);
}
END_TEST

/* The openssl CLI reads it back, and makes the very same bytes. */
START_TEST(test_certs_only_cli)
{
	struct mca_buf	 der = MCA_BUF_INIT, out = MCA_BUF_INIT;
	struct mca_buf	 ref = MCA_BUF_INIT;
	STACK_OF(X509)	*sk;
	BIO		*b;
	char		*dir, path[1024];
	const char	*s;
	int		 i;

	dir = tu_mkdtemp("estcodec");
	sk = stack("012");
	ck_assert_int_eq(mca_est_certs_only(sk, &der), 0);
	(void)snprintf(path, sizeof(path), "%s/p7.der", dir);
	ck_assert_int_eq(tu_write(path, (char *)der.data, der.len), 0);
	ck_assert_int_eq(tu_sh(&out, "'%s' pkcs7 -inform DER -in '%s/p7.der' "
	    "-print_certs -noout", tu_openssl(), dir), 0);
	s = mca_buf_str(&out);
	ck_assert_ptr_nonnull(s = strstr(s, "subject=CN = leaf\n"));
	ck_assert_ptr_nonnull(s = strstr(s, "subject=CN = sub CA\n"));
	ck_assert_ptr_nonnull(strstr(s, "subject=CN = root CA\n"));

	(void)snprintf(path, sizeof(path), "%s/chain.pem", dir);
	ck_assert_ptr_nonnull(b = BIO_new_file(path, "w"));
	for (i = 0; i < NCERT; i++)
		ck_assert_int_eq(PEM_write_bio_X509(b, cert[i]), 1);
	BIO_free(b);
	ck_assert_int_eq(tu_sh(NULL, "'%s' crl2pkcs7 -nocrl -certfile "
	    "'%s/chain.pem' -outform DER -out '%s/ref.der'", tu_openssl(),
	    dir, dir), 0);
	(void)snprintf(path, sizeof(path), "%s/ref.der", dir);
	ck_assert_int_eq(tu_read(path, &ref), 0);
	ck_assert_uint_eq(der.len, ref.len);
	ck_assert_mem_eq(der.data, ref.data, der.len);

	sk_X509_free(sk);
	mca_buf_free(&ref);
	mca_buf_free(&out);
	mca_buf_free(&der);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------------ csrattrs */

#define ECPUB	"1.2.840.10045.2.1"
#define RSAENC	"1.2.840.113549.1.1.1"

static const struct {
	int			 noprofile;
	enum mca_keytype	 type;
	int			 size;
	const char		*md;		/* NULL: md NULL */
	int			 rc;
	const char		*want;
} acases[] = {
	{ 0, MCA_KEYTYPE_EC, 384, "SHA384", 0,
	    ECPUB "={1.3.132.0.34} 1.2.840.10045.4.3.3" },
	{ 0, MCA_KEYTYPE_RSA, 3072, "SHA256", 0,
	    RSAENC "={3072} 1.2.840.113549.1.1.11" },
	{ 0, MCA_KEYTYPE_ANY, 0, "SHA256", 0,
	    "1.2.840.10045.4.3.2 1.2.840.113549.1.1.11" },
	{ 0, MCA_KEYTYPE_EC, 0, "SHA256", 0,
	    ECPUB "={1.2.840.10045.3.1.7} 1.2.840.10045.4.3.2" },
	{ 0, MCA_KEYTYPE_EC, 256, NULL, 0,
	    ECPUB "={1.2.840.10045.3.1.7} 1.2.840.10045.4.3.2" },
	{ 0, MCA_KEYTYPE_EC, 521, "SHA512", 0,
	    ECPUB "={1.3.132.0.35} 1.2.840.10045.4.3.4" },
	{ 0, MCA_KEYTYPE_RSA, 0, "SHA512", 0,
	    RSAENC "={2048} 1.2.840.113549.1.1.13" },
	{ 0, MCA_KEYTYPE_RSA, 4096, "SHA384", 0,
	    RSAENC "={4096} 1.2.840.113549.1.1.12" },
	{ 0, MCA_KEYTYPE_ANY, 0, "SHA384", 0,
	    "1.2.840.10045.4.3.3 1.2.840.113549.1.1.12" },
	{ 1, 0, 0, "SHA512", 0, "1.2.840.10045.4.3.4 1.2.840.113549.1.1.13" },
	/* what a profile or digest cannot ask for */
	{ 0, MCA_KEYTYPE_EC, 300, "SHA256", MCA_ERR_INVAL, NULL },
	{ 0, MCA_KEYTYPE_RSA, -1, "SHA256", MCA_ERR_INVAL, NULL },
	{ 0, MCA_KEYTYPE_EC, 256, "SHA1", MCA_ERR_INVAL, NULL },
	{ 0, MCA_KEYTYPE_MAX, 0, "SHA256", MCA_ERR_INVAL, NULL },
};

START_TEST(test_csrattrs)
{
	struct mca_buf		 der = MCA_BUF_INIT, words = MCA_BUF_INIT;
	struct mca_profile	 prof;
	const EVP_MD		*md = NULL;
	int			 rc;

	memset(&prof, 0, sizeof(prof));
	prof.name = "label";
	prof.key_type = acases[_i].type;
	prof.key_size = acases[_i].size;
	if (acases[_i].md != NULL)
		ck_assert_ptr_nonnull(md = EVP_get_digestbyname(acases[_i].md));
	ck_assert_int_eq(mca_buf_addstr(&der, "pre"), 0);
	rc = mca_est_csrattrs(acases[_i].noprofile ? NULL : &prof, md, &der);
	ck_assert_int_eq(rc, acases[_i].rc);
	ck_assert_mem_eq(der.data, "pre", 3);
	if (rc == 0) {
		tu_csrattrs_words(der.data + 3, der.len - 3, 0, &words);
		ck_assert_str_eq(mca_buf_str(&words), acases[_i].want);
	} else
		ck_assert_uint_eq(der.len, 3);		/* nothing appended */
	mca_buf_free(&words);
	mca_buf_free(&der);
}
END_TEST

/*
 * Byte for byte: EC P-384 with SHA-384 is the RFC 7030 4.5.2 example
 * without its challengePassword and extensionRequest elements.
 */
START_TEST(test_csrattrs_rfc_example)
{
	static const char rfc[] =
	    "MEEGCSqGSIb3DQEJBzASBgcqhkjOPQIBMQcGBSuBBAAiMBYGCSqGSIb3DQEJDjEJ"
	    "BgcrBgEBAQEWBggqhkjOPQQDAw==";
	static const unsigned char want[] = {
		0x30, 0x1e,
		  0x30, 0x12,
		    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
		    0x31, 0x07,
		      0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
		  0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
	};
	struct mca_buf		 der = MCA_BUF_INIT, ex = MCA_BUF_INIT;
	struct mca_profile	 prof;

	memset(&prof, 0, sizeof(prof));
	prof.key_type = MCA_KEYTYPE_EC;
	prof.key_size = 384;
	ck_assert_int_eq(mca_est_csrattrs(&prof, EVP_sha384(), &der), 0);
	ck_assert_uint_eq(der.len, sizeof(want));
	ck_assert_mem_eq(der.data, want, sizeof(want));
	/* The attribute and the OID appear as such in the RFC's example. */
	ck_assert_int_eq(mca_b64_decode(rfc, strlen(rfc), &ex), 0);
	ck_assert_ptr_nonnull(memmem(ex.data, ex.len, want + 2, 20));
	ck_assert_ptr_nonnull(memmem(ex.data, ex.len, want + 22, 10));
	mca_buf_free(&ex);
	mca_buf_free(&der);
}
END_TEST

/* openssl asn1parse agrees on the structure. */
START_TEST(test_csrattrs_asn1parse)
{
	struct mca_buf		 der = MCA_BUF_INIT, out = MCA_BUF_INIT;
	struct mca_profile	 prof;
	char			*dir, path[1024];
	const char		*s;

	memset(&prof, 0, sizeof(prof));
	prof.key_type = MCA_KEYTYPE_RSA;
	prof.key_size = 3072;
	ck_assert_int_eq(mca_est_csrattrs(&prof, EVP_sha256(), &der), 0);
	dir = tu_mkdtemp("estcodec");
	(void)snprintf(path, sizeof(path), "%s/attrs.der", dir);
	ck_assert_int_eq(tu_write(path, (char *)der.data, der.len), 0);
	ck_assert_int_eq(tu_sh(&out, "'%s' asn1parse -inform DER -in '%s'",
	    tu_openssl(), path), 0);
	s = mca_buf_str(&out);
	ck_assert_ptr_nonnull(s = strstr(s, "d=0 "));
	ck_assert_ptr_nonnull(s = strstr(s, "SEQUENCE"));
	ck_assert_ptr_nonnull(s = strstr(s, "d=1 "));
	ck_assert_ptr_nonnull(s = strstr(s, "SEQUENCE"));
	ck_assert_ptr_nonnull(s = strstr(s, ":rsaEncryption\n"));
	ck_assert_ptr_nonnull(s = strstr(s, "SET"));
	ck_assert_ptr_nonnull(s = strstr(s, "INTEGER"));
	ck_assert_ptr_nonnull(s = strstr(s, ":0C00\n"));
	ck_assert_ptr_nonnull(s = strstr(s, "d=1 "));
	ck_assert_ptr_nonnull(strstr(s, ":sha256WithRSAEncryption\n"));
	mca_buf_free(&out);
	mca_buf_free(&der);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------------ multipart */

#define CT8	"application/pkcs8"
#define CT7	"application/pkcs7-mime; smime-type=certs-only"
#define CTE	"Content-Transfer-Encoding: base64\r\n"

/* RFC 7030 4.4.2, byte for byte, CRLF everywhere. */
START_TEST(test_multipart_layout)
{
	static const unsigned char	 k[] = { 1, 2, 3, 4, 5 };
	static const unsigned char	 c[] = { 0xff, 0xfe };
	struct mca_est_part		 parts[2] = {
		{ CT8, k, sizeof(k) }, { CT7, c, sizeof(c) },
	};
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 bnd[MCA_EST_BOUNDARY_MAX];

	ck_assert_int_eq(mca_buf_addstr(&out, "before"), 0);
	ck_assert_int_eq(mca_est_multipart(parts, 2, 4, "est-server-boundary",
	    bnd, sizeof(bnd), &out), 0);
	ck_assert_str_eq(bnd, "est-server-boundary");
	ck_assert_str_eq(mca_buf_str(&out), "before"
	    "--est-server-boundary\r\n"
	    "Content-Type: " CT8 "\r\n" CTE "\r\n"
	    "AQID\r\n"
	    "BAU=\r\n"
	    "--est-server-boundary\r\n"
	    "Content-Type: " CT7 "\r\n" CTE "\r\n"
	    "//4=\r\n"
	    "--est-server-boundary--\r\n");
	/* one line: 0 */
	mca_buf_reset(&out);
	ck_assert_int_eq(mca_est_multipart(parts, 1, 0, "sep", NULL, 0, &out),
	    0);
	ck_assert_str_eq(mca_buf_str(&out), "--sep\r\nContent-Type: " CT8
	    "\r\n" CTE "\r\nAQIDBAU=\r\n--sep--\r\n");
	/* an empty part still ends its (empty) content with a line */
	parts[0].len = 0;
	mca_buf_reset(&out);
	ck_assert_int_eq(mca_est_multipart(parts, 1, 64, "sep", NULL, 0,
	    &out), 0);
	ck_assert_str_eq(mca_buf_str(&out), "--sep\r\nContent-Type: " CT8
	    "\r\n" CTE "\r\n\r\n--sep--\r\n");
	mca_buf_free(&out);
}
END_TEST

/*
 * Splits a multipart body made with boundary b into its parts and checks
 * each: headers exactly ours, every line CRLF-terminated and at most
 * line_len long (one line when 0), content decoding to want[i].
 */
static void
multipart_check(const struct mca_buf *out, const char *b, unsigned line_len,
    const struct mca_est_part *want, size_t n)
{
	struct mca_buf	 dec = MCA_BUF_INIT;
	char		 delim[128], close[128], hdr[256];
	const char	*p = mca_buf_str(out), *end, *nl;
	size_t		 i, lines;

	snprintf(delim, sizeof(delim), "--%s\r\n", b);
	snprintf(close, sizeof(close), "--%s--\r\n", b);
	/* no bare LF, no bare CR anywhere */
	for (i = 0; i < out->len; i++) {
		if (out->data[i] == '\n')
			ck_assert(i > 0 && out->data[i - 1] == '\r');
		if (out->data[i] == '\r')
			ck_assert(i + 1 < out->len && out->data[i + 1] == '\n');
	}
	for (i = 0; i < n; i++) {
		ck_assert_msg(strncmp(p, delim, strlen(delim)) == 0, "%s", p);
		p += strlen(delim);
		snprintf(hdr, sizeof(hdr), "Content-Type: %s\r\n" CTE "\r\n",
		    want[i].ctype);
		ck_assert_msg(strncmp(p, hdr, strlen(hdr)) == 0, "%s", p);
		p += strlen(hdr);
		mca_buf_reset(&dec);
		for (lines = 0; strncmp(p, "--", 2) != 0; lines++) {
			ck_assert_ptr_nonnull(nl = strstr(p, "\r\n"));
			if (line_len != 0)
				ck_assert_uint_le((size_t)(nl - p), line_len);
			if (nl > p)
				ck_assert_int_eq(mca_b64_decode(p,
				    (size_t)(nl - p), &dec), 0);
			p = nl + 2;
		}
		if (line_len == 0)
			ck_assert_uint_eq(lines, 1);
		ck_assert_uint_eq(dec.len, want[i].len);
		ck_assert_int_eq(memcmp(dec.data, want[i].der, dec.len), 0);
	}
	ck_assert_str_eq(p, close);
	/* the boundary appears in the delimiters only */
	end = mca_buf_str(out);
	for (i = 0; (end = strstr(end, b)) != NULL; i++)
		end += strlen(b);
	ck_assert_uint_eq(i, n + 1);
	mca_buf_free(&dec);
}

static const unsigned mp_lens[] = { 0, 4, 64, 76, 4096 };

START_TEST(test_multipart_lines)
{
	unsigned char		 k[1217], c[300];
	struct mca_est_part	 parts[2] = {
		{ CT8, k, sizeof(k) }, { CT7, c, sizeof(c) },
	};
	struct mca_buf		 out = MCA_BUF_INIT;
	char			 bnd[MCA_EST_BOUNDARY_MAX];
	size_t			 i;

	for (i = 0; i < sizeof(k); i++)
		k[i] = (unsigned char)(i * 7 + 1);
	for (i = 0; i < sizeof(c); i++)
		c[i] = (unsigned char)(255 - i);
	ck_assert_int_eq(mca_est_multipart(parts, 2, mp_lens[_i], NULL, bnd,
	    sizeof(bnd), &out), 0);
	multipart_check(&out, bnd, mp_lens[_i], parts, 2);
	mca_buf_free(&out);
}
END_TEST

/* A drawn boundary: "microca-" and 32 hex digits, new every time. */
START_TEST(test_multipart_random)
{
	static const unsigned char	 k[] = "a private key";
	struct mca_est_part		 part = { CT8, k, sizeof(k) };
	struct mca_buf			 out = MCA_BUF_INIT;
	char				 b1[MCA_EST_BOUNDARY_MAX];
	char				 b2[MCA_EST_BOUNDARY_MAX];
	size_t				 i;

	ck_assert_int_eq(mca_est_multipart(&part, 1, 64, NULL, b1, sizeof(b1),
	    &out), 0);
	multipart_check(&out, b1, 64, &part, 1);
	mca_buf_reset(&out);
	ck_assert_int_eq(mca_est_multipart(&part, 1, 64, NULL, b2, sizeof(b2),
	    &out), 0);
	multipart_check(&out, b2, 64, &part, 1);
	ck_assert_str_ne(b1, b2);
	ck_assert_uint_eq(strlen(b1), 40);
	ck_assert(strncmp(b1, "microca-", 8) == 0);
	for (i = 8; i < 40; i++)
		ck_assert_ptr_nonnull(strchr("0123456789abcdef", b1[i]));
	mca_buf_free(&out);
}
END_TEST

/* Refused: out is left as it was, and holds no trace of the parts. */
static const struct {
	const char	*boundary;
	unsigned	 line_len;
	const char	*ctype;
	size_t		 nparts;
	size_t		 bndlen;
	int		 rc;
} mp_bad[] = {
	{ "", 64, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_INVAL },
	{ "a b", 64, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_INVAL },
	{ "a;b", 64, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_INVAL },
	{ "a\"b", 64, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_INVAL },
	{ "a/b", 64, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_INVAL },
	{ "a\r\nb", 64, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_INVAL },
	{ "0123456789012345678901234567890123456789012345678901234567890123"
	    "4567890", 64, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_INVAL },
	{ "ok", 3, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_INVAL },
	{ "ok", 64, CT8, 0, MCA_EST_BOUNDARY_MAX, MCA_ERR_INVAL },
	{ "ok", 64, "", 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_INVAL },
	{ "ok", 64, "text/plain\r\nX-Evil: 1", 1, MCA_EST_BOUNDARY_MAX,
	    MCA_ERR_INVAL },
	{ "ok", 64, CT8, 1, MCA_EST_BOUNDARY_MAX - 1, MCA_ERR_INVAL },
	{ NULL, 64, CT8, 1, 40, MCA_ERR_INVAL },
	/* the boundary in the base64 of the content, or in a header */
	{ "AQID", 64, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_EXISTS },
	{ "Ty", 0, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_EXISTS },
	{ "pkcs8", 64, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_EXISTS },
	{ "base64", 64, CT8, 1, MCA_EST_BOUNDARY_MAX, MCA_ERR_EXISTS },
};

START_TEST(test_multipart_bad)
{
	static const unsigned char	 k[] = { 1, 2, 3, 0x4f, 0x2a, 0x4d };
	struct mca_est_part		 part = { mp_bad[_i].ctype, k,
	    sizeof(k) };
	struct mca_buf			 out = MCA_BUF_INIT;
	char				 bnd[MCA_EST_BOUNDARY_MAX + 1] = "";

	/* "AQIDTypN" is the base64 of k */
	ck_assert_int_eq(mca_buf_addstr(&out, "kept"), 0);
	ck_assert_int_eq(mca_est_multipart(&part, mp_bad[_i].nparts,
	    mp_bad[_i].line_len, mp_bad[_i].boundary, bnd, mp_bad[_i].bndlen,
	    &out), mp_bad[_i].rc);
	ck_assert_str_eq(mca_buf_str(&out), "kept");
	ck_assert_str_eq(bnd, "");
	/* wiped, not only cut: nothing of the base64 past the end */
	ck_assert_ptr_null(memmem(out.data, out.cap, "AQID", 4));
	ck_assert_ptr_null(memmem(out.data, out.cap, "pkcs8", 5));
	mca_buf_free(&out);
}
END_TEST

Suite *
est_codec_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("est_codec");

	tc = tcase_create("certs_only");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_certs_only, 0,
	    (int)(sizeof(orders) / sizeof(orders[0])));
	tcase_add_test(tc, test_certs_only_cli);
	suite_add_tcase(s, tc);

	tc = tcase_create("csrattrs");
	tcase_add_loop_test(tc, test_csrattrs, 0,
	    (int)(sizeof(acases) / sizeof(acases[0])));
	tcase_add_test(tc, test_csrattrs_rfc_example);
	tcase_add_test(tc, test_csrattrs_asn1parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("multipart");
	tcase_add_test(tc, test_multipart_layout);
	tcase_add_loop_test(tc, test_multipart_lines, 0,
	    (int)(sizeof(mp_lens) / sizeof(mp_lens[0])));
	tcase_add_test(tc, test_multipart_random);
	tcase_add_loop_test(tc, test_multipart_bad, 0,
	    (int)(sizeof(mp_bad) / sizeof(mp_bad[0])));
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return tu_run(est_codec_suite());
}
