/* lib/secret.c: enc:v1 values and key files; config.json decrypting. */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "cfg.h"
#include "err.h"
#include "secret.h"
#include "testutil.h"

#define HEXKEY	"000102030405060708090a0b0c0d0e0f" \
		"101112131415161718191a1b1c1d1e1f\n"
#define NAME	"pkcs11_library_pin"

static char	*dir, *kpath;

static void
setup(void)
{
	dir = tu_mkdtemp("secret");
	if (asprintf(&kpath, "%s/key", dir) == -1)
		abort();
	ck_assert_int_eq(tu_writef(kpath, "%s", HEXKEY), 0);
	ck_assert_int_eq(chmod(kpath, 0600), 0);
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(kpath);
	free(dir);
}

static void
load(struct mca_secret_key *k)
{
	struct mca_diag	 d;

	ck_assert_msg(mca_secret_key_load(kpath, k, &d) == 0, "%s", d.msg);
}

START_TEST(test_roundtrip)
{
	struct mca_secret_key	 k;
	struct mca_diag		 d;
	char			*enc = NULL, *dec = NULL;
	size_t			 n;

	load(&k);
	ck_assert_int_eq(mca_secret_encrypt(&k, NAME, "1234", 4, &enc, &d), 0);
	ck_assert(mca_secret_is_enc(enc, strlen(enc)));
	ck_assert_ptr_null(strstr(enc, "1234"));
	ck_assert_int_eq(mca_secret_decrypt(&k, NAME, enc, strlen(enc), &dec,
	    &n, &d), 0);
	ck_assert_str_eq(dec, "1234");
	ck_assert_uint_eq(n, 4);
	free(dec);
	/* another name: refused */
	ck_assert_int_eq(mca_secret_decrypt(&k, "azure_hub_key", enc,
	    strlen(enc), &dec, NULL, &d), MCA_ERR_CRYPTO);
	ck_assert_ptr_null(dec);
	/* a changed byte of nonce, ciphertext or tag: refused */
	enc[7] = enc[7] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(mca_secret_decrypt(&k, NAME, enc, strlen(enc), &dec,
	    NULL, &d), MCA_ERR_CRYPTO);
	enc[7] = enc[7] == 'A' ? 'B' : 'A';
	enc[strlen(enc) - 4] ^= 1;
	ck_assert_int_ne(mca_secret_decrypt(&k, NAME, enc, strlen(enc), &dec,
	    NULL, &d), 0);
	/* garbage and truncation */
	ck_assert_int_eq(mca_secret_decrypt(&k, NAME, "enc:v1:AAAA", 11, &dec,
	    NULL, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_secret_decrypt(&k, NAME, "enc:v1:A A=", 11, &dec,
	    NULL, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_secret_decrypt(&k, NAME, "1234", 4, &dec,
	    NULL, &d), MCA_ERR_INVAL);
	free(enc);
	mca_secret_key_clear(&k);
}
END_TEST

START_TEST(test_keyfile)
{
	struct mca_secret_key	 k;
	struct mca_diag		 d;
	char			*l;

	ck_assert_int_eq(chmod(kpath, 0644), 0);
	ck_assert_int_eq(mca_secret_key_load(kpath, &k, &d), MCA_ERR_POLICY);
	ck_assert_ptr_nonnull(strstr(d.msg, kpath));
	ck_assert_int_eq(chmod(kpath, 0600), 0);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(kpath, 65534, 65534), 0);
		ck_assert_int_eq(mca_secret_key_load(kpath, &k, &d),
		    MCA_ERR_POLICY);
		ck_assert_int_eq(chown(kpath, 0, 0), 0);
	}
	ck_assert_int_ne(asprintf(&l, "%s/link", dir), -1);
	ck_assert_int_eq(symlink(kpath, l), 0);
	ck_assert_int_eq(mca_secret_key_load(l, &k, &d), MCA_ERR_POLICY);
	free(l);
	ck_assert_int_eq(tu_writef(kpath, "%s", "abcd\n"), 0);
	ck_assert_int_eq(mca_secret_key_load(kpath, &k, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(k.loaded, 0);
	/* keygen: a usable key, never over an existing file */
	ck_assert_int_ne(asprintf(&l, "%s/new", dir), -1);
	ck_assert_int_eq(mca_secret_keygen(l, &d), 0);
	ck_assert_int_eq(mca_secret_keygen(l, &d), MCA_ERR_EXISTS);
	ck_assert_msg(mca_secret_key_load(l, &k, &d) == 0, "%s", d.msg);
	free(l);
	mca_secret_key_clear(&k);
}
END_TEST

START_TEST(test_cfg)
{
	struct mca_secret_key	 k;
	struct mca_cfg		*cfg = NULL;
	struct mca_diag		 d;
	char			*enc = NULL, *json = NULL;

	load(&k);
	ck_assert_int_eq(mca_secret_encrypt(&k, NAME, "s3cret", 6, &enc, &d),
	    0);
	ck_assert_int_ne(asprintf(&json, "{\"intermediate_cert_path\": \"c\", "
	    "\"intermediate_private_key_label_in_pkcs11\": \"ica\", "
	    "\"pkcs11_library\": \"p\", \"mtls_ca_cert\": \"m\", "
	    "\"encryption_key_file_path\": \"%s\", \"pkcs11_library_pin\": "
	    "\"%s\", \"end_certificate_config_1\": {\"end_point_name\": "
	    "\"d\", \"validity_in_days\": 30}}", kpath, enc), -1);
	ck_assert_msg(tu_cfg_parse(json, &cfg, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(cfg->pkcs11_library_pin, "s3cret");
	ck_assert_uint_eq(cfg->nwarnings, 0);
	mca_cfg_free(cfg);
	/* a refused key file: named, and the key named */
	ck_assert_int_eq(chmod(kpath, 0640), 0);
	ck_assert_int_eq(tu_cfg_parse(json, &cfg, &d), MCA_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(d.msg, NAME));
	ck_assert_ptr_nonnull(strstr(d.msg, kpath));
	free(json);
	free(enc);
	mca_secret_key_clear(&k);
}
END_TEST

/* upstream_password (microca-renew): decrypted under its own name only. */
START_TEST(test_cfg_upstream)
{
	struct mca_secret_key	 k;
	struct mca_cfg		*cfg = NULL;
	struct mca_diag		 d;
	char			*enc = NULL, *json = NULL;

	load(&k);
	ck_assert(mca_secret_name_known("upstream_password"));
	ck_assert_int_eq(mca_secret_encrypt(&k, "upstream_password", "pw",
	    2, &enc, &d), 0);
	ck_assert_int_ne(asprintf(&json, "{\"intermediate_cert_path\": \"c\", "
	    "\"intermediate_private_key_path\": \"k\", \"mtls_ca_cert\": \"m\", "
	    "\"encryption_key_file_path\": \"%s\", "
	    "\"device_cert_config\": {\"upstream_username\": \"u\", "
	    "\"upstream_password\": \"%s\"}, \"end_certificate_config_1\": "
	    "{\"end_point_name\": \"d\", \"validity_in_days\": 30}}", kpath,
	    enc), -1);
	ck_assert_msg(tu_cfg_parse(json, &cfg, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(cfg->device.upstream.password, "pw");
	ck_assert_msg(cfg->nwarnings == 0, "%s", cfg->warnings[0]);
	mca_cfg_free(cfg);
	free(json);
	free(enc);
	enc = NULL;
	/* the PIN's value is no password */
	ck_assert_int_eq(mca_secret_encrypt(&k, NAME, "pw", 2, &enc, &d), 0);
	ck_assert_int_ne(asprintf(&json, "{\"intermediate_cert_path\": \"c\", "
	    "\"intermediate_private_key_path\": \"k\", \"mtls_ca_cert\": \"m\", "
	    "\"encryption_key_file_path\": \"%s\", "
	    "\"upstream_username\": \"u\", \"upstream_password\": \"%s\", "
	    "\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"validity_in_days\": 30}}", kpath, enc), -1);
	ck_assert_int_eq(tu_cfg_parse(json, &cfg, &d), MCA_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(d.msg, "upstream_password: cannot be "
	    "decrypted"));
	free(json);
	free(enc);
	mca_secret_key_clear(&k);
}
END_TEST

/*
 * scan_p12_passwords: each string of the array decrypted under the
 * key's name, one in the clear kept with a warning naming its place.
 */
START_TEST(test_cfg_p12)
{
	struct mca_secret_key	 k;
	struct mca_cfg		*cfg = NULL;
	struct mca_diag		 d;
	char			*enc = NULL, *json = NULL;

	load(&k);
	ck_assert(mca_secret_name_known("scan_p12_passwords"));
	ck_assert_int_eq(mca_secret_encrypt(&k, "scan_p12_passwords", "p12",
	    3, &enc, &d), 0);
	ck_assert_int_ne(asprintf(&json, "{\"intermediate_cert_path\": \"c\", "
	    "\"intermediate_private_key_path\": \"k\", \"mtls_ca_cert\": \"m\", "
	    "\"encryption_key_file_path\": \"%s\", "
	    "\"discover_certificate_config\": {\"scan_p12_passwords\": "
	    "[\"clear\", \"%s\"]}, \"end_certificate_config_1\": "
	    "{\"end_point_name\": \"d\", \"validity_in_days\": 30}}", kpath,
	    enc), -1);
	ck_assert_msg(tu_cfg_parse(json, &cfg, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(cfg->discovery.scan_p12_passwords.n, 2);
	ck_assert_str_eq(cfg->discovery.scan_p12_passwords.v[0], "clear");
	ck_assert_str_eq(cfg->discovery.scan_p12_passwords.v[1], "p12");
	ck_assert_uint_eq(cfg->nwarnings, 1);
	ck_assert_msg(strstr(cfg->warnings[0], "discover_certificate_config."
	    "scan_p12_passwords[0] is stored in the clear") != NULL, "%s",
	    cfg->warnings[0]);
	mca_cfg_free(cfg);
	free(json);
	free(enc);
	enc = NULL;
	/* another key's value is no p12 password */
	ck_assert_int_eq(mca_secret_encrypt(&k, "upstream_password", "pw", 2,
	    &enc, &d), 0);
	ck_assert_int_ne(asprintf(&json, "{\"intermediate_cert_path\": \"c\", "
	    "\"intermediate_private_key_path\": \"k\", \"mtls_ca_cert\": \"m\", "
	    "\"encryption_key_file_path\": \"%s\", "
	    "\"discover_certificate_config\": {\"scan_p12_passwords\": "
	    "[\"%s\"]}, \"end_certificate_config_1\": "
	    "{\"end_point_name\": \"d\", \"validity_in_days\": 30}}", kpath,
	    enc), -1);
	ck_assert_int_eq(tu_cfg_parse(json, &cfg, &d), MCA_ERR_CONFIG);
	ck_assert_msg(strstr(d.msg, "scan_p12_passwords[0]: cannot be "
	    "decrypted") != NULL, "%s", d.msg);
	free(json);
	free(enc);
	mca_secret_key_clear(&k);
}
END_TEST

static Suite *
secret_suite(void)
{
	Suite	*s = suite_create("secret");
	TCase	*tc = tcase_create("secret");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_keyfile);
	tcase_add_test(tc, test_cfg);
	tcase_add_test(tc, test_cfg_upstream);
	tcase_add_test(tc, test_cfg_p12);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(secret_suite());
}
