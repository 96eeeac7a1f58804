/*
 * mtls.c: the mTLS client identity of config.json, as microca-renew,
 * microca-discover and microca-azsync take it: none without the block,
 * the key file, or a key by label in a real SoftHSMv2 token.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/evp.h>

#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "httpc.h"
#include "mtls.h"
#include "p11.h"
#include "testutil.h"

#define CFG_BASE "\"intermediate_cert_path\": \"/etc/microca/chain.pem\", " \
	"\"intermediate_private_key_path\": \"/etc/microca/ca.key\", " \
	"\"mtls_ca_cert\": \"/etc/microca/clients.pem\", " \
	"\"end_certificate_config_1\": {\"end_point_name\": \"device\", " \
	"\"validity_in_days\": 30}"
#define CFG_MTLS(k) "\"mtls_client_auth_cert_config\": {" \
	"\"mtls_auth_cert_path\": \"/etc/microca/auth.pem\", " k "}"
#define CFG_TOKEN(l) "\"pkcs11_library\": " \
	"\"/usr/lib/softhsm/libsofthsm2.so\", \"pkcs11_library_pin\": " \
	"\"1234\", " CFG_MTLS("\"is_private_key_label_required\": true, " \
	"\"mtls_auth_key_label\": \"" l "\"")

static char	*dir;

/*
 * A token with one key, "microca-ca" (tests/pki/mkpki.sh), in the
 * module that make check names in SOFTHSM2_MODULE.
 */
static void
setup(void)
{
	struct mca_buf	 conf = MCA_BUF_INIT;

	dir = tu_mkdtemp("mtls");
	if (getenv("SOFTHSM2_MODULE") == NULL || tu_mkpki(dir, "hsm-ec") != 0 ||
	    mca_buf_printf(&conf, "%s/softhsm2.conf", dir) != 0)
		abort();
	setenv("SOFTHSM2_CONF", mca_buf_str(&conf), 1);
	mca_buf_free(&conf);
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(dir);
}

/* The anchors are the caller's: the call never touches them. */
#define CAFILE	"/etc/microca/anchors.pem"

/* Without a token: no block, a key file, a key in a token not open. */
static const struct {
	const char	*json;
	int		 rc;
	const char	*certfile;
	const char	*keyfile;
	const char	*msg;
} files[] = {
	{ "{" CFG_BASE "}", 0, NULL, NULL, "" },
	{ "{" CFG_BASE ", " CFG_MTLS("\"mtls_auth_key_path\": "
	    "\"/etc/microca/auth.key\"") "}", 0, "/etc/microca/auth.pem",
	    "/etc/microca/auth.key", "" },
	{ "{" CFG_BASE ", " CFG_TOKEN("microca-ca") "}", MCA_ERR_CONFIG, NULL, NULL,
	    TU_CFG_PATH ": mtls_client_auth_cert_config: the key is in the "
	    "token, which is not open" },
};

START_TEST(test_files)
{
	struct mca_cfg		*cfg = NULL;
	struct mca_httpc_tls	 tls;
	struct mca_diag		 d;
	EVP_PKEY		*k = (EVP_PKEY *)&tls;	/* the call clears it */

	ck_assert_msg(tu_cfg_parse(files[_i].json, &cfg, &d) == 0, "%s",
	    d.msg);
	/* stale values, as a caller's struct may hold */
	tls.cafile = CAFILE;
	tls.certfile = "stale";
	tls.keyfile = "stale";
	tls.key = k;
	ck_assert_int_eq(mca_mtls_client_tls(cfg, NULL, NULL, &tls, &k, &d),
	    files[_i].rc);
	ck_assert_str_eq(d.msg, files[_i].msg);
	ck_assert_str_eq(tls.cafile, CAFILE);
	ck_assert_pstr_eq(tls.certfile, files[_i].certfile);
	ck_assert_pstr_eq(tls.keyfile, files[_i].keyfile);
	ck_assert_ptr_null(tls.key);
	ck_assert_ptr_null(k);
	mca_cfg_free(cfg);
}
END_TEST

/*
 * The key by label in the token: mtls_auth_key_label, or the label the
 * caller names instead (microca-renew: the renewal whose key is the
 * certificate's). A label the token lacks leaves no half identity.
 */
static const struct {
	const char	*cfg_label;
	const char	*label;
	const char	*missing;	/* NULL: found */
} labels[] = {
	{ "microca-ca", NULL, NULL },
	{ "no-such-key", "microca-ca", NULL },
	{ "no-such-key", NULL, "no-such-key" },
	{ "microca-ca", "other-key", "other-key" },
};

START_TEST(test_token)
{
	struct mca_cfg		*cfg = NULL;
	struct mca_p11		*p = NULL;
	struct mca_httpc_tls	 tls;
	struct mca_diag		 d;
	struct mca_buf		 json = MCA_BUF_INIT;
	EVP_PKEY		*k = NULL;
	int			 rc;

	ck_assert_int_eq(mca_buf_printf(&json, "{" CFG_BASE ", " CFG_TOKEN("%s")
	    "}", labels[_i].cfg_label), 0);
	ck_assert_msg(tu_cfg_parse(mca_buf_str(&json), &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_msg(mca_p11_session(getenv("SOFTHSM2_MODULE"), NULL, "1234",
	    &p, &d) == 0, "%s", d.msg);
	memset(&tls, 0, sizeof(tls));
	tls.cafile = CAFILE;
	rc = mca_mtls_client_tls(cfg, p, labels[_i].label, &tls, &k, &d);
	if (labels[_i].missing == NULL) {
		ck_assert_msg(rc == 0, "%s", d.msg);
		ck_assert_ptr_nonnull(k);
		ck_assert_ptr_eq(tls.key, k);
		ck_assert_str_eq(tls.certfile, "/etc/microca/auth.pem");
	} else {
		ck_assert_int_ne(rc, 0);
		ck_assert_msg(strstr(d.msg, labels[_i].missing) != NULL, "%s",
		    d.msg);
		ck_assert_ptr_null(k);
		ck_assert_ptr_null(tls.key);
		ck_assert_ptr_null(tls.certfile);
	}
	ck_assert_ptr_null(tls.keyfile);
	ck_assert_str_eq(tls.cafile, CAFILE);
	EVP_PKEY_free(k);
	mca_p11_close(p);
	mca_cfg_free(cfg);
	mca_buf_free(&json);
}
END_TEST

static Suite *
mtls_suite(void)
{
	Suite	*s = suite_create("mtls");
	TCase	*tc = tcase_create("mtls");

	tcase_add_loop_test(tc, test_files, 0, sizeof(files) /
	    sizeof(files[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("token");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_token, 0, sizeof(labels) /
	    sizeof(labels[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(mtls_suite());
}
