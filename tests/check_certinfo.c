/* certinfo.c: how the ledger and the logs name keys, serials and times. */
#include "config.h"

#include <string.h>

#include <check.h>
#include <openssl/evp.h>

#include "certinfo.h"
#include "err.h"
#include "testutil.h"

Suite	*certinfo_suite(void);

static const struct {
	const char	*alg;
	const char	*param;	/* curve, or NULL for RSA bits below */
	size_t		 bits;
	const char	*want;
} keys[] = {
	{ "RSA", NULL, 2048, "RSA-2048" },
	{ "EC", "P-256", 0, "EC-P-256" },
	{ "EC", "P-384", 0, "EC-P-384" },
	{ "EC", "P-521", 0, "EC-P-521" },
	{ "EC", "secp256k1", 0, "EC-secp256k1" },
	{ "ED25519", NULL, 0, "ED25519" },
};

START_TEST(t_key_describe)
{
	EVP_PKEY	*k;
	char		 out[64];

	if (strcmp(keys[_i].alg, "RSA") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", keys[_i].bits);
	else if (keys[_i].param != NULL)
		k = EVP_PKEY_Q_keygen(NULL, NULL, keys[_i].alg, keys[_i].param);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, keys[_i].alg);
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(mca_key_describe(k, out, sizeof(out)), 0);
	ck_assert_str_eq(out, keys[_i].want);
	/* too small a buffer is an error, not a truncated name */
	ck_assert_int_eq(mca_key_describe(k, out, 4), MCA_ERR_TOOBIG);
	EVP_PKEY_free(k);
}
END_TEST

static const struct {
	const char	*name;
	int		 nid;	/* NID_undef: unknown */
} mds[] = {
	{ "SHA256", NID_sha256 }, { "sha256", NID_sha256 },
	{ "SHA-384", NID_sha384 }, { "sha512", NID_sha512 },
	{ "SHA1", NID_undef }, { "MD5", NID_undef }, { "", NID_undef },
	{ "SHA256 ", NID_undef }, { NULL, NID_undef },
};

START_TEST(t_md_by_name)
{
	const EVP_MD	*md = mca_md_by_name(mds[_i].name);

	if (mds[_i].nid == NID_undef)
		ck_assert_ptr_null(md);
	else
		ck_assert_int_eq(EVP_MD_get_type(md), mds[_i].nid);
}
END_TEST

START_TEST(t_serial_thumbprint_names)
{
	EVP_PKEY	*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509		*x = tu_selfsigned("device", k);
	X509_NAME	*nm;
	char		 s[MCA_HEX_MAX], t[MCA_HEX_MAX], n[MCA_NAME_MAX];
	struct mca_buf	 san = MCA_BUF_INIT;
	size_t		 i;

	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x0abcdef);
	ck_assert_int_eq(mca_cert_serial_hex(x, s, sizeof(s)), 0);
	ck_assert_str_eq(s, "ABCDEF");
	ck_assert_int_eq(mca_cert_serial_hex(x, s, 4), MCA_ERR_TOOBIG);
	/* uppercase hex, as Azure IoT Hub shows thumbprints */
	ck_assert_int_eq(mca_cert_thumbprint(x, EVP_sha256(), t, sizeof(t)), 0);
	ck_assert_uint_eq(strlen(t), 64);
	for (i = 0; t[i] != '\0'; i++)
		ck_assert(strchr("0123456789ABCDEF", t[i]) != NULL);
	ck_assert_int_eq(mca_cert_thumbprint(x, EVP_sha1(), t, sizeof(t)), 0);
	ck_assert_uint_eq(strlen(t), 40);
	/* RFC 2253, UTF-8 kept, the comma escaped */
	nm = X509_NAME_new();
	ck_assert(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"th\xc3\xa9 device, one", -1, -1, 0));
	ck_assert_int_eq(mca_name_string(nm, n, sizeof(n)), 0);
	ck_assert_str_eq(n, "CN=th\xc3\xa9 device\\, one");
	ck_assert_int_eq(mca_name_string(nm, n, 8), 0);
	ck_assert_str_eq(n, "CN=t...");
	X509_NAME_free(nm);
	/* no SAN: nothing appended */
	ck_assert_int_eq(mca_cert_san_string(x, &san), 0);
	ck_assert_uint_eq(san.len, 0);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(t_times)
{
	char		 out[MCA_TIME_MAX];
	ASN1_TIME	*t = ASN1_TIME_new();

	ck_assert_int_eq(mca_time_iso(0, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1970-01-01T00:00:00Z");
	ck_assert_int_eq(mca_time_iso(0, out, 10), MCA_ERR_TOOBIG);
	ck_assert(ASN1_TIME_set_string(t, "99991231235959Z"));
	ck_assert_int_eq(mca_asn1time_iso(t, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "9999-12-31T23:59:59Z");
	ck_assert(ASN1_TIME_set_string(t, "491231235959Z"));
	ck_assert_int_eq(mca_asn1time_iso(t, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "2049-12-31T23:59:59Z");
	ASN1_TIME_free(t);
}
END_TEST

Suite *
certinfo_suite(void)
{
	Suite	*s = suite_create("certinfo");
	TCase	*tc = tcase_create("certinfo");

	tcase_add_loop_test(tc, t_key_describe, 0,
	    (int)(sizeof(keys) / sizeof(keys[0])));
	tcase_add_loop_test(tc, t_md_by_name, 0,
	    (int)(sizeof(mds) / sizeof(mds[0])));
	tcase_add_test(tc, t_serial_thumbprint_names);
	tcase_add_test(tc, t_times);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(certinfo_suite());
}
