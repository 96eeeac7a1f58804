/* Tests for lib/keygen.c: the key pairs /serverkeygen makes. */
#include "config.h"

#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cfg.h"
#include "certinfo.h"
#include "err.h"
#include "keygen.h"
#include "secmem.h"
#include "testutil.h"

Suite	*keygen_suite(void);

/* Every key we make, and what mca_key_describe() calls it. */
static const struct {
	enum mca_keytype	 type;
	int			 bits;
	const char		*desc;
} good[] = {
	{ MCA_KEYTYPE_RSA, 2048, "RSA-2048" },
	{ MCA_KEYTYPE_RSA, 3072, "RSA-3072" },
	{ MCA_KEYTYPE_RSA, 4096, "RSA-4096" },
	{ MCA_KEYTYPE_EC, 256, "EC-P-256" },
	{ MCA_KEYTYPE_EC, 384, "EC-P-384" },
};

/* Sizes we refuse: too small, too big, the other type's, odd ones. */
static const struct {
	enum mca_keytype	 type;
	int			 bits;
} bad[] = {
	{ MCA_KEYTYPE_RSA, 1024 },
	{ MCA_KEYTYPE_RSA, 2047 },
	{ MCA_KEYTYPE_RSA, 8192 },
	{ MCA_KEYTYPE_RSA, 256 },
	{ MCA_KEYTYPE_RSA, 0 },
	{ MCA_KEYTYPE_RSA, -2048 },
	{ MCA_KEYTYPE_EC, 521 },
	{ MCA_KEYTYPE_EC, 224 },
	{ MCA_KEYTYPE_EC, 2048 },
	{ MCA_KEYTYPE_EC, 0 },
	{ MCA_KEYTYPE_ANY, 2048 },
	{ MCA_KEYTYPE_ANY, 256 },
	{ MCA_KEYTYPE_MAX, 2048 },
};

START_TEST(test_keygen)
{
	struct mca_buf		 der = MCA_BUF_INIT;
	const unsigned char	*p;
	PKCS8_PRIV_KEY_INFO	*p8;
	const ASN1_OBJECT	*alg;
	EVP_PKEY		*k = NULL, *back, *pub = NULL;
	BIGNUM			*e = NULL;
	char			 desc[64];
	unsigned char		 sig[1024];
	size_t			 siglen = sizeof(sig);
	EVP_MD_CTX		*ctx;

	ck_assert_int_eq(mca_keygen_supported(good[_i].type, good[_i].bits), 1);
	ck_assert_int_eq(mca_keygen(good[_i].type, good[_i].bits, &k), 0);
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(mca_key_describe(k, desc, sizeof(desc)), 0);
	ck_assert_str_eq(desc, good[_i].desc);
	if (good[_i].type == MCA_KEYTYPE_RSA) {
		ck_assert_int_eq(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E,
		    &e), 1);
		ck_assert_int_eq(BN_get_word(e), 65537);
		BN_free(e);
	}

	/* PKCS#8 PrivateKeyInfo: version 0, the right algorithm, same key */
	ck_assert_int_eq(mca_buf_addstr(&der, "x"), 0);	/* appends */
	ck_assert_int_eq(mca_keygen_pkcs8(k, &der), 0);
	ck_assert_uint_gt(der.len, 1);
	ck_assert_int_eq(der.data[0], 'x');
	p = der.data + 1;
	ck_assert_ptr_nonnull(p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p,
	    (long)der.len - 1));
	ck_assert_ptr_eq(p, der.data + der.len);
	ck_assert_int_eq(PKCS8_pkey_get0(&alg, NULL, NULL, NULL, p8), 1);
	ck_assert_int_eq(OBJ_obj2nid(alg), good[_i].type == MCA_KEYTYPE_RSA ?
	    NID_rsaEncryption : NID_X9_62_id_ecPublicKey);
	ck_assert_ptr_nonnull(back = EVP_PKCS82PKEY(p8));
	ck_assert_int_eq(EVP_PKEY_eq(back, k), 1);
	PKCS8_PRIV_KEY_INFO_free(p8);

	/* the public half: equal public key, no private part */
	ck_assert_int_eq(mca_keygen_public(k, &pub), 0);
	ck_assert_int_eq(EVP_PKEY_eq(pub, k), 1);
	ctx = EVP_MD_CTX_new();
	ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    pub), 1);
	ck_assert_int_ne(EVP_DigestSign(ctx, sig, &siglen,
	    (const unsigned char *)"m", 1), 1);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	/* the key from PKCS#8 signs, and the public half verifies it */
	tu_assert_signs(back, pub);

	EVP_PKEY_free(back);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(k);
	mca_buf_free_secret(&der);
}
END_TEST

/* Two keys of one kind differ. */
START_TEST(test_keygen_fresh)
{
	EVP_PKEY	*a = NULL, *b = NULL;

	ck_assert_int_eq(mca_keygen(MCA_KEYTYPE_EC, 256, &a), 0);
	ck_assert_int_eq(mca_keygen(MCA_KEYTYPE_EC, 256, &b), 0);
	ck_assert_int_ne(EVP_PKEY_eq(a, b), 1);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}
END_TEST

START_TEST(test_keygen_bad)
{
	EVP_PKEY	*k = (EVP_PKEY *)1;

	ck_assert_int_eq(mca_keygen_supported(bad[_i].type, bad[_i].bits), 0);
	ck_assert_int_eq(mca_keygen(bad[_i].type, bad[_i].bits, &k),
	    MCA_ERR_INVAL);
	ck_assert_ptr_null(k);
}
END_TEST

START_TEST(test_keygen_null)
{
	struct mca_buf	 der = MCA_BUF_INIT;
	EVP_PKEY	*pub = (EVP_PKEY *)1;

	ck_assert_int_eq(mca_keygen_pkcs8(NULL, &der), MCA_ERR_INVAL);
	ck_assert_uint_eq(der.len, 0);
	ck_assert_int_eq(mca_keygen_public(NULL, &pub), MCA_ERR_INVAL);
	ck_assert_ptr_null(pub);
}
END_TEST

/*
 * The config accepts exactly the sizes keygen makes: every combination
 * of server_key_type and server_key_size from 0 to 8192 in steps that
 * hit each size, judged by both.
 */
START_TEST(test_cfg_agrees)
{
	static const char *const types[] = { "RSA", "ECC" };
	static const int sizes[] = { 0, 192, 224, 256, 384, 512, 521, 1024,
	    2048, 3072, 4096, 6144, 8192 };
	struct mca_cfg			*cfg;
	const struct mca_profile	*p;
	struct mca_diag			 d;
	char				 json[1024];
	size_t				 t, i;
	int				 rc, n;
	enum mca_keytype		 kt;

	for (t = 0; t < 2; t++)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			kt = t == 0 ? MCA_KEYTYPE_RSA : MCA_KEYTYPE_EC;
			n = snprintf(json, sizeof(json), "{"
			    "\"intermediate_cert_path\": \"/x\", "
			    "\"intermediate_private_key_path\": \"/k\", "
			    "\"mtls_ca_cert\": \"/m\", "
			    "\"end_certificate_config_1\": {"
			    "\"end_point_name\": \"d\", "
			    "\"validity_in_days\": 1, "
			    "\"server_key_type\": \"%s\", "
			    "\"server_key_size\": %d}}", types[t], sizes[i]);
			ck_assert_int_lt(n, (int)sizeof(json));
			cfg = NULL;
			rc = mca_cfg_parse("t.json", json, (size_t)n, &cfg, &d);
			ck_assert_msg((rc == 0) ==
			    mca_keygen_supported(kt, sizes[i]),
			    "%s %d: cfg says %d (%s)", types[t], sizes[i], rc,
			    d.msg);
			if (rc == 0) {
				p = &cfg->profiles[0];
				ck_assert_int_eq(p->server_key_type, kt);
				ck_assert_int_eq(p->server_key_size, sizes[i]);
			}
			mca_cfg_free(cfg);
		}
}
END_TEST

/*
 * Reads n bytes at p from /proc/self/mem: memory that is freed, which
 * the sanitizer would not let the test read directly.
 */
static void
peek(const void *p, unsigned char *out, size_t n)
{
	int	 fd;

	ck_assert_int_ne(fd = open("/proc/self/mem", O_RDONLY), -1);
	ck_assert_int_eq(pread(fd, out, n, (off_t)(uintptr_t)p), (ssize_t)n);
	(void)close(fd);
}

/* No byte of p[from..n) is c. */
static int
none_is(const unsigned char *p, size_t from, size_t n, unsigned char c)
{
	for (; from < n; from++)
		if (p[from] == c)
			return 0;
	return 1;
}

/*
 * mca_secmem_init(), in a process of its own (it must come before any
 * OpenSSL allocation): what OpenSSL frees or moves is wiped first (the
 * allocator may write its own links over the first 16 bytes), the
 * private numbers of keys made live in the secure heap and leave it
 * when the key is freed, and a second call is refused.
 */
static void
secmem_child(void)
{
	unsigned char	*p, *q, seen[256];
	EVP_PKEY	*k;
	size_t		 u0, u1;
	int		 locked = -1;

	ck_assert_int_eq(mca_secmem_init(MCA_SECMEM_HEAP, &locked), 0);
	ck_assert(locked == 0 || locked == 1);
	ck_assert_int_eq(CRYPTO_secure_malloc_initialized(), 1);
	/* free */
	ck_assert_ptr_nonnull(p = OPENSSL_malloc(256));
	memset(p, 0xa5, 256);
	OPENSSL_free(p);
	peek(p, seen, sizeof(seen));
	ck_assert(none_is(seen, 16, sizeof(seen), 0xa5));
	/* realloc to a bigger block: the old one is wiped */
	ck_assert_ptr_nonnull(p = OPENSSL_malloc(256));
	memset(p, 0x5a, 256);
	ck_assert_ptr_nonnull(q = OPENSSL_realloc(p, 64 * 1024));
	ck_assert_int_eq(q[255], 0x5a);
	if (q != p) {
		peek(p, seen, sizeof(seen));
		ck_assert(none_is(seen, 16, sizeof(seen), 0x5a));
	}
	OPENSSL_free(q);
	/* keys: their private numbers in the secure heap while they live */
	ck_assert_int_eq(mca_keygen(MCA_KEYTYPE_EC, 384, &k), 0);
	EVP_PKEY_free(k);
	u0 = CRYPTO_secure_used();
	ck_assert_int_eq(mca_keygen(MCA_KEYTYPE_EC, 384, &k), 0);
	ck_assert_uint_gt(CRYPTO_secure_used(), u0);
	EVP_PKEY_free(k);
	ck_assert_uint_eq(CRYPTO_secure_used(), u0);
	ck_assert_int_eq(mca_keygen(MCA_KEYTYPE_RSA, 2048, &k), 0);
	u1 = CRYPTO_secure_used();
	/* d, p, q, dP, dQ, qInv of 2048 bits: 768 bytes at least */
	ck_assert_uint_ge(u1, u0 + 768);
	EVP_PKEY_free(k);
	ck_assert_uint_eq(CRYPTO_secure_used(), u0);
	/* once is enough */
	ck_assert_int_ne(mca_secmem_init(MCA_SECMEM_HEAP, NULL), 0);
}

/* After OpenSSL's own malloc has been used, it is too late. */
static void
secmem_late_child(void)
{
	OPENSSL_free(OPENSSL_malloc(8));
	ck_assert_int_eq(mca_secmem_init(MCA_SECMEM_HEAP, NULL),
	    MCA_ERR_INTERNAL);
}

START_TEST(test_secmem)
{
	pid_t	 pid;
	int	 st;

	/* A fresh process: this one's OpenSSL may have allocated. */
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		if (_i == 0)
			secmem_child();
		else
			secmem_late_child();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "secmem checks failed (status %d)", st);
}
END_TEST

Suite *
keygen_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("keygen");
	tc = tcase_create("keygen");
	tcase_add_loop_test(tc, test_keygen, 0,
	    (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_test(tc, test_keygen_fresh);
	tcase_add_loop_test(tc, test_keygen_bad, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_keygen_null);
	tcase_add_test(tc, test_cfg_agrees);
	tcase_add_loop_test(tc, test_secmem, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(keygen_suite());
}
