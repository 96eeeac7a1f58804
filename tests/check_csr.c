/* Tests for lib/csr.c: request bodies as clients send them, and key policy. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "b64.h"
#include "buf.h"
#include "cfg.h"
#include "csr.h"
#include "err.h"
#include "testutil.h"

Suite	*csr_suite(void);

/* ------------------------------------------------------------ helpers */

/* A CSR for CN=<cn> holding pub, signed with sign (md NULL for EdDSA). */
static X509_REQ *
mkreq(EVP_PKEY *sign, EVP_PKEY *pub, const EVP_MD *md, const char *cn)
{
	X509_REQ	*r;
	X509_NAME	*n;

	ck_assert_ptr_nonnull(r = X509_REQ_new());
	n = X509_REQ_get_subject_name(r);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	ck_assert_int_eq(X509_REQ_set_pubkey(r, pub != NULL ? pub : sign), 1);
	ck_assert_int_gt(X509_REQ_sign(r, sign, md), 0);
	return r;
}

/* Appends the DER of r to out and frees r. */
static void
req_der(X509_REQ *r, struct mca_buf *out)
{
	unsigned char	*p = NULL;
	int		 n;

	ck_assert_int_gt(n = i2d_X509_REQ(r, &p), 0);
	ck_assert_int_eq(mca_buf_add(out, p, (size_t)n), 0);
	OPENSSL_free(p);
	X509_REQ_free(r);
}

static EVP_PKEY *
keygen(const char *type, const char *curve, size_t bits)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*k = NULL;

	/* EVP_PKEY_Q_keygen takes a size for "RSA" only. */
	if (strcmp(type, "RSA-PSS") == 0) {
		ck_assert_ptr_nonnull(ctx = EVP_PKEY_CTX_new_from_name(NULL,
		    type, NULL));
		ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
		ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx,
		    (int)bits), 1);
		ck_assert_int_eq(EVP_PKEY_keygen(ctx, &k), 1);
		EVP_PKEY_CTX_free(ctx);
	} else if (curve != NULL)
		k = EVP_PKEY_Q_keygen(NULL, NULL, type, curve);
	else if (bits != 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, type, bits);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, type);
	ck_assert_msg(k != NULL, "keygen %s %s %zu", type,
	    curve != NULL ? curve : "", bits);
	return k;
}

/* An RSA public key from n and e, no private part. */
static EVP_PKEY *
rsa_pub(const BIGNUM *n, const BIGNUM *e)
{
	OSSL_PARAM_BLD	*bld;
	OSSL_PARAM	*params;
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*k = NULL;

	ck_assert_ptr_nonnull(bld = OSSL_PARAM_BLD_new());
	ck_assert_int_eq(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n),
	    1);
	ck_assert_int_eq(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e),
	    1);
	ck_assert_ptr_nonnull(params = OSSL_PARAM_BLD_to_param(bld));
	ck_assert_ptr_nonnull(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA",
	    NULL));
	ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return k;
}

/* Copies b into an exact-size allocation, so that overreads show. */
static unsigned char *
exact(const struct mca_buf *b)
{
	unsigned char	*p;

	ck_assert_ptr_nonnull(p = malloc(b->len > 0 ? b->len : 1));
	if (b->len > 0)
		memcpy(p, b->data, b->len);
	return p;
}

/* Replaces every "\n" of in with sep, into out. */
static void
relines(const struct mca_buf *in, const char *sep, struct mca_buf *out)
{
	size_t	 i;

	for (i = 0; i < in->len; i++) {
		if (in->data[i] == '\n')
			ck_assert_int_eq(mca_buf_addstr(out, sep), 0);
		else
			ck_assert_int_eq(mca_buf_addc(out, in->data[i]), 0);
	}
}

/* ------------------------------------------------------------ decode */

/* One P-256 CSR, made before the decode cases fork. */
static struct mca_buf	 csr_der = MCA_BUF_INIT;

static void
decode_setup(void)
{
	EVP_PKEY	*k;

	k = keygen("EC", "P-256", 0);
	req_der(mkreq(k, NULL, EVP_sha256(), "decode test"), &csr_der);
	EVP_PKEY_free(k);
}

static void
decode_teardown(void)
{
	mca_buf_free(&csr_der);
}

static void
b64(const struct mca_buf *der, unsigned line, struct mca_buf *out)
{
	ck_assert_int_eq(mca_b64_encode(der->data, der->len, line, out), 0);
}

static void
mk_b64_64_crlf(struct mca_buf *out)
{
	struct mca_buf	 t = MCA_BUF_INIT;

	b64(&csr_der, 64, &t);
	relines(&t, "\r\n", out);
	mca_buf_free(&t);
}

static void
mk_b64_76_lf(struct mca_buf *out)
{
	b64(&csr_der, 76, out);
}

static void
mk_b64_one_line(struct mca_buf *out)
{
	b64(&csr_der, 0, out);
}

static void
mk_b64_spaces(struct mca_buf *out)
{
	struct mca_buf	 t = MCA_BUF_INIT;
	size_t		 i;

	b64(&csr_der, 0, &t);
	ck_assert_int_eq(mca_buf_addstr(out, " \t"), 0);
	for (i = 0; i < t.len; i++) {
		ck_assert_int_eq(mca_buf_addc(out, t.data[i]), 0);
		if (i % 7 == 3)
			ck_assert_int_eq(mca_buf_addc(out, ' '), 0);
		if (i % 50 == 11)
			ck_assert_int_eq(mca_buf_addstr(out, "\t \r\n"), 0);
	}
	ck_assert_int_eq(mca_buf_addstr(out, "  \r\n"), 0);
	mca_buf_free(&t);
}

static void
pem(const char *label, struct mca_buf *out)
{
	ck_assert_int_eq(mca_buf_printf(out, "-----BEGIN %s-----\n", label), 0);
	b64(&csr_der, 64, out);
	ck_assert_int_eq(mca_buf_printf(out, "-----END %s-----\n", label), 0);
}

static void
mk_pem(struct mca_buf *out)
{
	pem("CERTIFICATE REQUEST", out);
}

/* DigiCert's curl examples: the PEM on one line, breaks become spaces. */
static void
mk_pem_one_line(struct mca_buf *out)
{
	struct mca_buf	 t = MCA_BUF_INIT;

	pem("CERTIFICATE REQUEST", &t);
	relines(&t, " ", out);
	mca_buf_free(&t);
}

static void
mk_pem_new(struct mca_buf *out)
{
	pem("NEW CERTIFICATE REQUEST", out);
}

static void
mk_pem_crlf_text(struct mca_buf *out)
{
	struct mca_buf	 t = MCA_BUF_INIT;

	ck_assert_int_eq(mca_buf_addstr(&t,
	    "Certificate Request:\n    Data: (elided)\n"), 0);
	pem("CERTIFICATE REQUEST", &t);
	relines(&t, "\r\n", out);
	mca_buf_free(&t);
}

static void
mk_der(struct mca_buf *out)
{
	ck_assert_int_eq(mca_buf_add(out, csr_der.data, csr_der.len), 0);
}

/* Base64 on one line padded with spaces to n bytes. */
static void
b64_padded(struct mca_buf *out, size_t n)
{
	b64(&csr_der, 0, out);
	while (out->len < n)
		ck_assert_int_eq(mca_buf_addc(out, ' '), 0);
}

static void
mk_at_cap(struct mca_buf *out)
{
	b64_padded(out, MCA_CSR_BODY_MAX);
}

static void
mk_over_cap(struct mca_buf *out)
{
	b64_padded(out, MCA_CSR_BODY_MAX + 1);
}

static void
mk_garbage(struct mca_buf *out)
{
	ck_assert_int_eq(mca_buf_addstr(out, "this is not a CSR!\n"), 0);
}

static void
mk_empty(struct mca_buf *out)
{
	(void)out;
}

static void
mk_blank(struct mca_buf *out)
{
	ck_assert_int_eq(mca_buf_addstr(out, " \r\n\t \n"), 0);
}

static void
mk_der_trailing(struct mca_buf *out)
{
	mk_der(out);
	ck_assert_int_eq(mca_buf_add(out, "\x05\x00", 2), 0);
}

static void
mk_b64_trailing(struct mca_buf *out)
{
	struct mca_buf	 t = MCA_BUF_INIT;

	mk_der(&t);
	ck_assert_int_eq(mca_buf_add(&t, "\x00\x00\x00", 3), 0);
	b64(&t, 64, out);
	mca_buf_free(&t);
}

/* base64 with a NUL in the middle */
static void
mk_b64_nul(struct mca_buf *out)
{
	b64(&csr_der, 64, out);
	out->data[out->len / 2] = '\0';
}

static void
mk_pem_nul(struct mca_buf *out)
{
	mk_pem(out);
	out->data[out->len / 2] = '\0';
}

static void
mk_der_truncated(struct mca_buf *out)
{
	ck_assert_int_eq(mca_buf_add(out, csr_der.data, csr_der.len - 10), 0);
}

static void
mk_b64_truncated(struct mca_buf *out)
{
	struct mca_buf	 t = MCA_BUF_INIT;

	mk_der_truncated(&t);
	b64(&t, 64, out);
	mca_buf_free(&t);
}

/* Valid base64 and DER, but a SEQUENCE { INTEGER 0 }, not a CSR. */
static void
mk_b64_not_csr(struct mca_buf *out)
{
	ck_assert_int_eq(mca_buf_addstr(out, "MAMCAQA=\n"), 0);
}

static void
mk_pem_bad_b64(struct mca_buf *out)
{
	ck_assert_int_eq(mca_buf_addstr(out,
	    "-----BEGIN CERTIFICATE REQUEST-----\nMIIB*AAA\n"
	    "-----END CERTIFICATE REQUEST-----\n"), 0);
}

static void
mk_pem_no_end(struct mca_buf *out)
{
	mk_pem(out);
	out->len -= strlen("-----END CERTIFICATE REQUEST-----\n");
}

static void
mk_pem_cert_label(struct mca_buf *out)
{
	pem("CERTIFICATE", out);
}

static const struct {
	const char	*name;
	void		(*make)(struct mca_buf *);
	int		 rc;
	const char	*diag;		/* exact; NULL when it decodes */
} dcases[] = {
	{ "base64 64 CRLF", mk_b64_64_crlf, 0, NULL },
	{ "base64 76 LF", mk_b64_76_lf, 0, NULL },
	{ "base64 one line", mk_b64_one_line, 0, NULL },
	{ "base64 spaces inside", mk_b64_spaces, 0, NULL },
	{ "PEM", mk_pem, 0, NULL },
	{ "PEM one line", mk_pem_one_line, 0, NULL },
	{ "PEM NEW", mk_pem_new, 0, NULL },
	{ "PEM CRLF with text", mk_pem_crlf_text, 0, NULL },
	{ "raw DER", mk_der, 0, NULL },
	{ "exactly at cap", mk_at_cap, 0, NULL },
	{ "over cap", mk_over_cap, MCA_ERR_TOOBIG,
	    "body is larger than 65536 bytes" },
	{ "garbage", mk_garbage, MCA_ERR_INVAL, "body is not base64 or PEM" },
	{ "empty", mk_empty, MCA_ERR_INVAL, "body is empty" },
	{ "whitespace only", mk_blank, MCA_ERR_INVAL, "body is empty" },
	{ "DER trailing", mk_der_trailing, MCA_ERR_INVAL,
	    "trailing bytes after the CSR" },
	{ "base64 trailing", mk_b64_trailing, MCA_ERR_INVAL,
	    "trailing bytes after the CSR" },
	{ "base64 NUL", mk_b64_nul, MCA_ERR_INVAL, "body contains a NUL byte" },
	{ "PEM NUL", mk_pem_nul, MCA_ERR_INVAL, "body contains a NUL byte" },
	{ "DER truncated", mk_der_truncated, MCA_ERR_INVAL,
	    "CSR is not valid PKCS#10 DER" },
	{ "base64 truncated", mk_b64_truncated, MCA_ERR_INVAL,
	    "CSR is not valid PKCS#10 DER" },
	{ "base64 not a CSR", mk_b64_not_csr, MCA_ERR_INVAL,
	    "CSR is not valid PKCS#10 DER" },
	{ "PEM bad base64", mk_pem_bad_b64, MCA_ERR_INVAL,
	    "PEM block is not valid base64" },
	{ "PEM without END", mk_pem_no_end, MCA_ERR_INVAL,
	    "PEM block is not valid base64" },
	{ "PEM CERTIFICATE label", mk_pem_cert_label, MCA_ERR_INVAL,
	    "body is not base64 or PEM" },
};

START_TEST(test_decode)
{
	struct mca_buf	 body = MCA_BUF_INIT, got = MCA_BUF_INIT;
	struct mca_diag	 d;
	unsigned char	*p;
	X509_REQ	*req = (X509_REQ *)&req;	/* must be cleared */
	int		 rc;

	dcases[_i].make(&body);
	p = exact(&body);
	memset(&d, 'x', sizeof(d));
	rc = mca_csr_decode(p, body.len, &req, &d);
	ck_assert_msg(rc == dcases[_i].rc, "%s: rc %d (%s), want %d",
	    dcases[_i].name, rc, d.msg, dcases[_i].rc);
	if (dcases[_i].diag == NULL) {
		ck_assert_ptr_nonnull(req);
		ck_assert_str_eq(d.msg, "");
		/* The very CSR we encoded, byte for byte. */
		req_der(req, &got);
		ck_assert_uint_eq(got.len, csr_der.len);
		ck_assert_mem_eq(got.data, csr_der.data, got.len);
	} else {
		ck_assert_ptr_null(req);
		ck_assert_str_eq(d.msg, dcases[_i].diag);
	}
	free(p);
	mca_buf_free(&got);
	mca_buf_free(&body);
}
END_TEST

/* ------------------------------------------------------------ check */

enum {
	K_RSA1024, K_RSA2048, K_RSA3072, K_RSA8192, K_P256, K_P384, K_P521,
	K_K256, K_BRAINPOOL, K_ED25519, K_X25519, K_PSS, K_RSA9000, K_RSAEVEN,
	K_EXPLICIT, K_MAX
};

/* CSR DER per key kind, made before the check cases fork. */
static struct mca_buf	 kcsr[K_MAX];

static void
check_setup(void)
{
	EVP_PKEY	*rsa2048, *p256, *k, *pub;
	BIGNUM		*n = NULL, *e;
	struct mca_buf	 pemtext = MCA_BUF_INIT;
	X509_REQ	*r;
	BIO		*b;
	char		 path[1024];
	int		 i;

	for (i = 0; i < K_MAX; i++)
		mca_buf_init(&kcsr[i]);
	rsa2048 = keygen("RSA", NULL, 2048);
	p256 = keygen("EC", "P-256", 0);
	req_der(mkreq(rsa2048, NULL, EVP_sha256(), "rsa2048"),
	    &kcsr[K_RSA2048]);
	req_der(mkreq(p256, NULL, EVP_sha256(), "p256"), &kcsr[K_P256]);

	k = keygen("RSA", NULL, 1024);
	req_der(mkreq(k, NULL, EVP_sha256(), "rsa1024"), &kcsr[K_RSA1024]);
	EVP_PKEY_free(k);
	k = keygen("RSA", NULL, 3072);
	req_der(mkreq(k, NULL, EVP_sha384(), "rsa3072"), &kcsr[K_RSA3072]);
	EVP_PKEY_free(k);
	k = keygen("EC", "P-384", 0);
	req_der(mkreq(k, NULL, EVP_sha384(), "p384"), &kcsr[K_P384]);
	EVP_PKEY_free(k);
	k = keygen("EC", "P-521", 0);
	req_der(mkreq(k, NULL, EVP_sha512(), "p521"), &kcsr[K_P521]);
	EVP_PKEY_free(k);
	k = keygen("EC", "secp256k1", 0);
	req_der(mkreq(k, NULL, EVP_sha256(), "k256"), &kcsr[K_K256]);
	EVP_PKEY_free(k);
	k = keygen("EC", "brainpoolP256r1", 0);
	req_der(mkreq(k, NULL, EVP_sha256(), "bp256"), &kcsr[K_BRAINPOOL]);
	EVP_PKEY_free(k);
	k = keygen("ED25519", NULL, 0);
	req_der(mkreq(k, NULL, NULL, "ed25519"), &kcsr[K_ED25519]);
	EVP_PKEY_free(k);
	k = keygen("RSA-PSS", NULL, 2048);
	req_der(mkreq(k, NULL, EVP_sha256(), "pss"), &kcsr[K_PSS]);
	EVP_PKEY_free(k);

	/* X25519 cannot sign: its CSR is signed by another key. */
	k = keygen("X25519", NULL, 0);
	req_der(mkreq(p256, k, EVP_sha256(), "x25519"), &kcsr[K_X25519]);
	EVP_PKEY_free(k);

	/* A 9000-bit modulus needs no primes to be refused. */
	ck_assert_ptr_nonnull(n = BN_new());
	ck_assert_ptr_nonnull(e = BN_new());
	ck_assert_int_eq(BN_rand(n, 9000, BN_RAND_TOP_ONE,
	    BN_RAND_BOTTOM_ODD), 1);
	ck_assert_int_eq(BN_set_word(e, 65537), 1);
	pub = rsa_pub(n, e);
	req_der(mkreq(rsa2048, pub, EVP_sha256(), "rsa9000"),
	    &kcsr[K_RSA9000]);
	EVP_PKEY_free(pub);
	BN_free(n);
	n = NULL;

	/* An even public exponent on a real modulus. */
	ck_assert_int_eq(EVP_PKEY_get_bn_param(rsa2048, OSSL_PKEY_PARAM_RSA_N,
	    &n), 1);
	ck_assert_int_eq(BN_set_word(e, 65536), 1);
	pub = rsa_pub(n, e);
	req_der(mkreq(rsa2048, pub, EVP_sha256(), "rsaeven"),
	    &kcsr[K_RSAEVEN]);
	EVP_PKEY_free(pub);
	BN_free(n);
	BN_free(e);

	/* P-256 written with explicit curve parameters (specifiedCurve). */
	k = keygen("EC", "P-256", 0);
	ck_assert_int_eq(EVP_PKEY_set_utf8_string_param(k,
	    OSSL_PKEY_PARAM_EC_ENCODING, OSSL_PKEY_EC_ENCODING_EXPLICIT), 1);
	req_der(mkreq(k, NULL, EVP_sha256(), "explicit"), &kcsr[K_EXPLICIT]);
	EVP_PKEY_free(k);

	/* RSA-8192 takes too long to generate: a stored CSR (public only). */
	(void)snprintf(path, sizeof(path), "%s/tests/data/csr-rsa8192.pem",
	    tu_srcdir());
	ck_assert_msg(tu_read(path, &pemtext) == 0, "%s", path);
	ck_assert_ptr_nonnull(b = BIO_new_mem_buf(pemtext.data,
	    (int)pemtext.len));
	ck_assert_ptr_nonnull(r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL));
	req_der(r, &kcsr[K_RSA8192]);
	BIO_free(b);
	mca_buf_free(&pemtext);

	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(p256);
}

static void
check_teardown(void)
{
	int	 i;

	for (i = 0; i < K_MAX; i++)
		mca_buf_free(&kcsr[i]);
}

#define REFUSED	"refused: accepted are RSA 2048-8192 and EC P-256, P-384, P-521"

static const struct {
	int		 key;
	const char	*label;		/* NULL: no profile at all */
	enum mca_keytype type;
	int		 size;
	int		 rc;
	const char	*diag;		/* exact; "" on success */
} kcases[] = {
	{ K_RSA1024, NULL, 0, 0, MCA_ERR_POLICY, "key RSA-1024 " REFUSED },
	{ K_RSA2048, NULL, 0, 0, 0, "" },
	{ K_RSA3072, NULL, 0, 0, 0, "" },
	{ K_RSA8192, NULL, 0, 0, 0, "" },
	{ K_P256, NULL, 0, 0, 0, "" },
	{ K_P384, NULL, 0, 0, 0, "" },
	{ K_P521, NULL, 0, 0, 0, "" },
	{ K_K256, NULL, 0, 0, MCA_ERR_POLICY, "key EC-secp256k1 " REFUSED },
	{ K_BRAINPOOL, NULL, 0, 0, MCA_ERR_POLICY,
	    "key EC-brainpoolP256r1 " REFUSED },
	{ K_ED25519, NULL, 0, 0, MCA_ERR_POLICY, "key ED25519 " REFUSED },
	{ K_X25519, NULL, 0, 0, MCA_ERR_POLICY, "key X25519 " REFUSED },
	{ K_PSS, NULL, 0, 0, MCA_ERR_POLICY, "key RSA-PSS-2048 " REFUSED },
	{ K_RSA9000, NULL, 0, 0, MCA_ERR_POLICY, "key RSA-9000 " REFUSED },
	{ K_RSAEVEN, NULL, 0, 0, MCA_ERR_POLICY,
	    "key RSA-2048 refused: public exponent must be odd and at least 3" },
	{ K_EXPLICIT, NULL, 0, 0, MCA_ERR_POLICY,
	    "key EC-P-256 refused: explicit curve parameters "
	    "(RFC 5480 2.1.1 requires a named curve)" },
	/* A profile with nothing set is no profile. */
	{ K_RSA2048, "any", MCA_KEYTYPE_ANY, 0, 0, "" },
	{ K_P521, "any", MCA_KEYTYPE_ANY, 0, 0, "" },
	/* key_type / key_size of the label */
	{ K_RSA2048, "device", MCA_KEYTYPE_EC, 256, MCA_ERR_POLICY,
	    "key RSA-2048 refused: label \"device\" requires EC P-256" },
	{ K_P256, "device", MCA_KEYTYPE_EC, 256, 0, "" },
	{ K_P256, "gw", MCA_KEYTYPE_EC, 384, MCA_ERR_POLICY,
	    "key EC-P-256 refused: label \"gw\" requires EC P-384" },
	{ K_P384, "gw", MCA_KEYTYPE_EC, 384, 0, "" },
	{ K_P521, "ec", MCA_KEYTYPE_EC, 0, 0, "" },
	{ K_RSA3072, "ec", MCA_KEYTYPE_EC, 0, MCA_ERR_POLICY,
	    "key RSA-3072 refused: label \"ec\" requires EC" },
	{ K_RSA2048, "srv", MCA_KEYTYPE_RSA, 3072, MCA_ERR_POLICY,
	    "key RSA-2048 refused: label \"srv\" requires RSA 3072" },
	{ K_RSA3072, "srv", MCA_KEYTYPE_RSA, 3072, 0, "" },
	{ K_P256, "rsa", MCA_KEYTYPE_RSA, 0, MCA_ERR_POLICY,
	    "key EC-P-256 refused: label \"rsa\" requires RSA" },
	{ K_RSA8192, "rsa", MCA_KEYTYPE_RSA, 0, 0, "" },
	/* The general policy comes before the label's. */
	{ K_K256, "device", MCA_KEYTYPE_EC, 256, MCA_ERR_POLICY,
	    "key EC-secp256k1 " REFUSED },
	{ K_RSA1024, "rsa", MCA_KEYTYPE_RSA, 1024, MCA_ERR_POLICY,
	    "key RSA-1024 " REFUSED },
};

/* Decodes a stored CSR through the real entry point. */
static X509_REQ *
decode(const struct mca_buf *der)
{
	struct mca_diag	 d;
	X509_REQ	*req = NULL;
	int		 rc;

	rc = mca_csr_decode(der->data, der->len, &req, &d);
	ck_assert_msg(rc == 0, "decode: %d %s", rc, d.msg);
	return req;
}

START_TEST(test_check)
{
	struct mca_profile	 prof;
	struct mca_diag		 d;
	X509_REQ		*req;
	int			 rc;

	memset(&prof, 0, sizeof(prof));
	prof.name = (char *)kcases[_i].label;
	prof.key_type = kcases[_i].type;
	prof.key_size = kcases[_i].size;
	req = decode(&kcsr[kcases[_i].key]);
	memset(&d, 'x', sizeof(d));
	rc = mca_csr_check(req, kcases[_i].label != NULL ? &prof : NULL, &d);
	ck_assert_msg(rc == kcases[_i].rc, "case %d: rc %d (%s), want %d", _i,
	    rc, d.msg, kcases[_i].rc);
	ck_assert_str_eq(d.msg, kcases[_i].diag);
	X509_REQ_free(req);
}
END_TEST

/*
 * Tampering: flip a bit of the signature (the last byte of the DER), or
 * of the signed subject. The CSR still decodes; the check must fail.
 */
static const struct {
	int		 key;
	int		 in_subject;
} tcases[] = {
	{ K_RSA2048, 0 },
	{ K_P256, 0 },
	{ K_P384, 0 },
	{ K_RSA2048, 1 },
	{ K_P256, 1 },
};

START_TEST(test_tamper)
{
	struct mca_buf	 der = MCA_BUF_INIT;
	struct mca_diag	 d;
	X509_REQ	*req;
	unsigned char	*cn;
	const char	*name;
	int		 rc;

	ck_assert_int_eq(mca_buf_add(&der, kcsr[tcases[_i].key].data,
	    kcsr[tcases[_i].key].len), 0);
	/* Untouched, it passes: the test below can only fail on the flip. */
	req = decode(&der);
	ck_assert_int_eq(mca_csr_check(req, NULL, &d), 0);
	X509_REQ_free(req);

	if (tcases[_i].in_subject) {
		name = tcases[_i].key == K_RSA2048 ? "rsa2048" : "p256";
		cn = memmem(der.data, der.len, name, strlen(name));
		ck_assert_ptr_nonnull(cn);
		cn[0] ^= 0x01;
	} else
		der.data[der.len - 1] ^= 0x01;
	req = decode(&der);
	rc = mca_csr_check(req, NULL, &d);
	ck_assert_int_eq(rc, MCA_ERR_INVAL);
	ck_assert_str_eq(d.msg,
	    "CSR signature does not verify (proof of possession failed)");
	X509_REQ_free(req);
	mca_buf_free(&der);
}
END_TEST

/* RFC 7030 4.4.1.1/4.4.1.2: requests for an encrypted server key. */
static const struct {
	const char	*oid;		/* attribute to add, or NULL */
	int		 rc;
	const char	*diag;
} gcases[] = {
	{ NULL, 0, "" },
	{ "1.2.840.113549.1.9.7", 0, "" },	/* challengePassword */
	{ "1.2.840.113549.1.9.16.2.37", MCA_ERR_POLICY, "the CSR asks for "
	    "the key encrypted (DecryptKeyIdentifier, RFC 7030 4.4.1.1); this "
	    "server only sends it under TLS" },
	{ "1.2.840.113549.1.9.16.2.54", MCA_ERR_POLICY, "the CSR asks for "
	    "the key encrypted (AsymmetricDecryptKeyIdentifier, RFC 7030 "
	    "4.4.1.2); this server only sends it under TLS" },
};

START_TEST(test_keygen_check)
{
	static const unsigned char	 id[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct mca_diag			 d;
	X509_REQ			*req;
	X509_NAME			*n;
	EVP_PKEY			*k;
	int				 rc;

	ck_assert_ptr_nonnull(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	ck_assert_ptr_nonnull(req = X509_REQ_new());
	n = X509_REQ_get_subject_name(req);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"kg", -1, -1, 0), 1);
	ck_assert_int_eq(X509_REQ_set_pubkey(req, k), 1);
	if (gcases[_i].oid != NULL)
		ck_assert_int_eq(X509_REQ_add1_attr_by_txt(req,
		    gcases[_i].oid, V_ASN1_OCTET_STRING, id, sizeof(id)), 1);
	ck_assert_int_gt(X509_REQ_sign(req, k, EVP_sha256()), 0);
	memset(&d, 'x', sizeof(d));
	rc = mca_csr_keygen_check(req, &d);
	ck_assert_int_eq(rc, gcases[_i].rc);
	ck_assert_str_eq(d.msg, gcases[_i].diag);
	ck_assert_int_eq(mca_csr_keygen_check(NULL, &d), MCA_ERR_INTERNAL);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
}
END_TEST

Suite *
csr_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("csr");

	tc = tcase_create("decode");
	tcase_add_unchecked_fixture(tc, decode_setup, decode_teardown);
	tcase_add_loop_test(tc, test_decode, 0,
	    (int)(sizeof(dcases) / sizeof(dcases[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_unchecked_fixture(tc, check_setup, check_teardown);
	tcase_add_loop_test(tc, test_check, 0,
	    (int)(sizeof(kcases) / sizeof(kcases[0])));
	tcase_add_loop_test(tc, test_keygen_check, 0,
	    (int)(sizeof(gcases) / sizeof(gcases[0])));
	tcase_add_loop_test(tc, test_tamper, 0,
	    (int)(sizeof(tcases) / sizeof(tcases[0])));
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return tu_run(csr_suite());
}
