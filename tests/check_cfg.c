/* Tests for lib/cfg.c: config.json parsing and validation. */
#include "config.h"

#include <sys/stat.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "buf.h"
#include "cfg.h"
#include "discover.h"
#include "err.h"
#include "testutil.h"

#define PATH	TU_CFG_PATH	/* the name tu_cfg_parse() gives */

/* Pieces of a minimal valid document. */
#define CERT	"\"intermediate_cert_path\": \"/etc/microca/chain.pem\""
#define KEYP	"\"intermediate_private_key_path\": \"/etc/microca/ca.key\""
#define MTLS	"\"mtls_ca_cert\": \"/etc/microca/clients.pem\""
#define LABEL	"\"intermediate_private_key_label_in_pkcs11\": \"ica\""
#define P11LIB	"\"pkcs11_library\": \"/usr/lib/softhsm/libsofthsm2.so\""
#define PIN	"\"pkcs11_library_pin\": \"1234\""
/* The warning a PIN in the clear draws (lib/secret.h has the remedy). */
#define CLEAR	"pkcs11_library_pin is stored in the clear; encrypt it " \
		"(microca-admin secret encrypt pkcs11_library_pin) and set " \
		"encryption_key_file_path"
#define BASE	CERT ", " KEYP ", " MTLS
#define DEV	"\"end_point_name\": \"device\", \"validity_in_days\": 30"
#define P1(x)	"\"end_certificate_config_1\": {" DEV x "}"
#define P2(x)	"\"end_certificate_config_2\": {\"end_point_name\": " \
		"\"user\", \"validity_in_days\": 31" x "}"
#define DOC(x)	"{" BASE ", " x "}"
#define MIN	DOC(P1(""))
#define RNW(x)	DOC(P1("") ", \"certificateRenewal_config\": {" x "}")
#define UP	"\"appviewx_hostname\": \"avx\", \"port\": 443, " \
		"\"est_agent_setting_name\": \"agent\""
#define DSC(x)	DOC(P1("") ", \"discover_certificate_config\": {" x "}")

/*
 * The seed's sample (tables 2-10), with its quotes and comma fixed, and
 * its "<Port>" placeholders replaced by numbers, as a port must be one.
 */
static const char seed_json[] =
"{\n"
"  \"intermediate_cert_config\": {\n"
"    \"common_name\": \"commonName\", \"country\": \"IN\",\n"
"    \"province\": \"IN\", \"locality\": \"IN\", \"organization\": \"AVX\",\n"
"    \"organizational_unit\": \"AVX\", \"use_est\": true,\n"
"    \"appviewx_hostname\": \"<hostname>\", \"port\": \"8443\",\n"
"    \"est_agent_setting_name\": \"<EST Agent Name>\",\n"
"    \"key_type\": \"RSA\", \"key_size\": 4096,\n"
"    \"hash_function\": \"SHA384\",\n"
"    \"reenrollment_trigger_before_no_of_days_of_expiry\": 30\n"
"  },\n"
"  \"device_cert_config\": {\n"
"    \"is_device_cert_required\": true, \"common_name\": \"test1\",\n"
"    \"country\": \"IN\", \"province\": \"IN\", \"locality\": \"AVX\",\n"
"    \"organization\": \"ORG\", \"organizational_unit\": \"KS\",\n"
"    \"appviewx_hostname\": \"<hostname>\", \"port\": 443,\n"
"    \"est_agent_setting_name\": \"<est_agent_name>\",\n"
"    \"key_type\": \"ECC\", \"key_size\": 521, \"hash_function\": \"SHA256\",\n"
"    \"reenrollment_trigger_before_no_of_days_of_expiry\": 31\n"
"  },\n"
"  \"new_intermediate_cert\": true,\n"
"  \"mtls_ca_cert\": \"/etc/microca/TRECDevICA1.crt\",\n"
"  \"certificateRenewal_config\": {\n"
"    \"isRenewalOfCertificatesRequired\": true,\n"
"    \"renewal_check_interval_time_in_minutes\": 1,\n"
"    \"appviewx_hostname\": \"<hostname>\", \"port\": \"444\",\n"
"    \"est_agent_setting_name\": \"<est_agent_setting_name>\"\n"
"  },\n"
"  \"mtls_server_cert_config\": {\n"
"    \"is_private_key_label_required\": false,\n"
"    \"mtls_server_cert_path\": \"<mtls_server_cert_path>\",\n"
"    \"mtls_server_key_label\": \"<mtls server key label>\",\n"
"    \"mtls_server_key_path\": \"<MTLS private key path>\",\n"
"    \"reenrollment_trigger_before_no_of_days_of_expiry\": 600,\n"
"    \"trigger_server_restart_script\": \"<script path>\"\n"
"  },\n"
"  \"pkcs11_library\": \"/usr/lib/softhsm/libsofthsm2.so\",\n"
"  \"pkcs11_library_pin\": \"s3cret-PIN\",\n"
"  \"mtls_client_auth_cert_config\": {\n"
"    \"is_private_key_label_required\": true,\n"
"    \"mtls_auth_cert_path\": \"<mtls auth cert path >\",\n"
"    \"mtls_auth_key_label\": \"<mtls auth key label>\",\n"
"    \"mtls_auth_key_path\": \"<mtls auth key path>\",\n"
"    \"reenrollment_trigger_before_no_of_days_of_expiry\": 30\n"
"  },\n"
"  \"discover_certificate_config\": {\n"
"    \"is_discovery_required\": false,\n"
"    \"scan_interval_time_in_minutes\": 1,\n"
"    \"discovery_name\": \"<name of the discovery>\",\n"
"    \"groupName\": \"<group name>\",\n"
"    \"appviewx_hostname\": \"<hostname>\", \"port\": \"445\",\n"
"    \"est_agent_setting_name\": \"<EST Agent Name>\"\n"
"  },\n"
"  \"mtls_azure_device_registration\": {\n"
"    \"appviewx_hostname\": \"<Hostname>\", \"port\": \"446\",\n"
"    \"est_agent_setting_name\": \"<EST Agent Name>\",\n"
"    \"azure_device_registration_workflow\": \"<Workflow name>\",\n"
"    \"poll_count\": 6, \"poll_interval\": 3,\n"
"    \"azure_account\": \"<Azure Account Name>\"\n"
"  },\n"
"  \"end_certificate_config_1\": {\n"
"    \"validity_in_days\": 30,\n"
"    \"extended_key_usage_list\": [\n"
"      \"1.3.6.1.5.5.7.3.1\", \"1.3.6.1.5.5.7.3.2\", \"1.2.3.4.5.6.7.8.9\"\n"
"    ],\n"
"    \"key_usage\": {\n"
"      \"digital_signature\": false, \"non_repudiation\": false,\n"
"      \"key_encipherment\": false, \"data_encipherment\": false,\n"
"      \"key_agreement\": true, \"key_cert_sign\": true,\n"
"      \"crl_sign\": true, \"encipher_only\": true,\n"
"      \"decipher_only\": false\n"
"    },\n"
"    \"end_point_name\": \"device\",\n"
"    \"is_device_cert\": true, \"is_unlimited_validity\": false,\n"
"    \"is_ca\": true, \"path_length_constraint\": 10\n"
"  },\n"
"  \"end_certificate_config_2\": {\n"
"    \"validity_in_days\": 31,\n"
"    \"extended_key_usage_list\": [ \"1.3.6.1.5.5.7.3.1\" ],\n"
"    \"key_usage\": {\n"
"      \"digital_signature\": false, \"non_repudiation\": false,\n"
"      \"key_encipherment\": true, \"data_encipherment\": false,\n"
"      \"key_agreement\": true, \"key_cert_sign\": false,\n"
"      \"crl_sign\": true, \"encipher_only\": false,\n"
"      \"decipher_only\": false\n"
"    },\n"
"    \"end_point_name\": \"user\",\n"
"    \"is_device_cert\": false, \"is_unlimited_validity\": false,\n"
"    \"is_ca\": false, \"path_length_constraint\": null\n"
"  },\n"
"  \"end_certificate_config_3\": {\n"
"    \"validity_in_days\": 62,\n"
"    \"extended_key_usage_list\": [\n"
"      \"1.3.6.1.5.5.7.3.1\", \"1.3.6.1.5.5.7.3.2\"\n"
"    ],\n"
"    \"key_usage\": {\n"
"      \"digital_signature\": true, \"non_repudiation\": true,\n"
"      \"key_encipherment\": true, \"data_encipherment\": true,\n"
"      \"key_agreement\": true, \"key_cert_sign\": true,\n"
"      \"crl_sign\": true, \"encipher_only\": true,\n"
"      \"decipher_only\": true\n"
"    },\n"
"    \"end_point_name\": \"other\",\n"
"    \"is_device_cert\": false, \"is_unlimited_validity\": false,\n"
"    \"is_ca\": true, \"path_length_constraint\": null,\n"
"    \"base64_line_length\": 76, \"key_type\": \"ECC\", \"key_size\": 384\n"
"  },\n"
"  \"port\": 8088,\n"
"  \"intermediate_private_key_label_in_pkcs11\": \"20251111230215\",\n"
"  \"intermediate_cert_path\": \"/etc/microca/server.crt\",\n"
"  \"encryption_key_file_path\": \"\\u003cEncryption Key File Path\\u003e\",\n"
"  \"ledger_db_path\": \"/srv/microca/ledger.db\",\n"
"  \"issued_certs_dir\": \"/srv/microca/IssuedCerts\",\n"
"  \"default_end_point_name\": \"user\",\n"
"  \"ledger_synchronous\": \"NORMAL\"\n"
"}\n";

/* 1 if some warning contains s. */
static int
has_warning(const struct mca_cfg *cfg, const char *s)
{
	size_t	 i;

	for (i = 0; i < cfg->nwarnings; i++)
		if (strstr(cfg->warnings[i], s) != NULL)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- valid */

START_TEST(test_seed_full)
{
	struct mca_cfg			*cfg = NULL;
	struct mca_diag			 d;
	const struct mca_profile	*p;

	ck_assert_int_eq(tu_cfg_parse(seed_json, &cfg, &d), 0);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->path, PATH);
	ck_assert_str_eq(cfg->intermediate_cert_path,
	    "/etc/microca/server.crt");
	ck_assert_str_eq(cfg->intermediate_private_key_label_in_pkcs11,
	    "20251111230215");
	ck_assert_str_eq(cfg->pkcs11_library,
	    "/usr/lib/softhsm/libsofthsm2.so");
	ck_assert_str_eq(cfg->pkcs11_library_pin, "s3cret-PIN");
	ck_assert_str_eq(cfg->mtls_ca_cert, "/etc/microca/TRECDevICA1.crt");
	ck_assert_str_eq(cfg->intermediate.hash_function, "SHA384");
	ck_assert_ptr_null(cfg->intermediate_private_key_path);
	ck_assert_str_eq(cfg->ledger_db_path, "/srv/microca/ledger.db");
	ck_assert_str_eq(cfg->issued_certs_dir, "/srv/microca/IssuedCerts");
	ck_assert_str_eq(cfg->default_end_point_name, "user");
	ck_assert_int_eq(cfg->ledger_synchronous_full, 0);
	/* The seed's PIN is in the clear. */
	ck_assert_uint_eq(cfg->nwarnings, 1);
	ck_assert_str_eq(cfg->warnings[0], PATH ": " CLEAR);
	ck_assert_uint_eq(cfg->nprofiles, 3);

	p = &cfg->profiles[0];
	ck_assert_str_eq(p->name, "device");
	ck_assert_int_eq(p->index, 1);
	ck_assert_int_eq(p->validity_days, 30);
	ck_assert_uint_eq(p->neku, 3);
	ck_assert_str_eq(p->eku[0], "1.3.6.1.5.5.7.3.1");
	ck_assert_str_eq(p->eku[1], "1.3.6.1.5.5.7.3.2");
	ck_assert_str_eq(p->eku[2], "1.2.3.4.5.6.7.8.9");
	ck_assert_uint_eq(p->key_usage, MCA_KU_KEY_AGREEMENT |
	    MCA_KU_KEY_CERT_SIGN | MCA_KU_CRL_SIGN | MCA_KU_ENCIPHER_ONLY);
	ck_assert_int_eq(p->is_device_cert, 1);
	ck_assert_int_eq(p->is_unlimited_validity, 0);
	ck_assert_int_eq(p->is_ca, 1);
	ck_assert_int_eq(p->path_len, 10);
	ck_assert_int_eq(p->b64_line_length, 64);
	ck_assert_int_eq(p->key_type, MCA_KEYTYPE_ANY);
	ck_assert_int_eq(p->key_size, 0);

	p = &cfg->profiles[1];
	ck_assert_str_eq(p->name, "user");
	ck_assert_int_eq(p->index, 2);
	ck_assert_int_eq(p->validity_days, 31);
	ck_assert_uint_eq(p->neku, 1);
	ck_assert_str_eq(p->eku[0], "1.3.6.1.5.5.7.3.1");
	ck_assert_uint_eq(p->key_usage, MCA_KU_KEY_ENCIPHERMENT |
	    MCA_KU_KEY_AGREEMENT | MCA_KU_CRL_SIGN);
	ck_assert_int_eq(p->is_device_cert, 0);
	ck_assert_int_eq(p->is_ca, 0);
	ck_assert_int_eq(p->path_len, -1);

	p = &cfg->profiles[2];
	ck_assert_str_eq(p->name, "other");
	ck_assert_int_eq(p->index, 3);
	ck_assert_int_eq(p->validity_days, 62);
	ck_assert_uint_eq(p->neku, 2);
	ck_assert_uint_eq(p->key_usage, MCA_KU_MAX - 1);
	ck_assert_int_eq(p->path_len, -1);
	ck_assert_int_eq(p->b64_line_length, 76);
	ck_assert_int_eq(p->key_type, MCA_KEYTYPE_EC);
	ck_assert_int_eq(p->key_size, 384);

	/* The seed's blocks, typed (tables 2-8). */
	ck_assert_int_eq(cfg->new_intermediate_cert, 1);
	ck_assert_int_eq(cfg->port, 8088);
	ck_assert_str_eq(cfg->encryption_key_file_path,
	    "<Encryption Key File Path>");
	ck_assert_int_eq(cfg->intermediate.present, 1);
	ck_assert_int_eq(cfg->intermediate.enabled, 1);
	ck_assert_str_eq(cfg->intermediate.common_name, "commonName");
	ck_assert_str_eq(cfg->intermediate.organizational_unit, "AVX");
	ck_assert_str_eq(cfg->intermediate.upstream.appviewx_hostname,
	    "<hostname>");
	ck_assert_int_eq(cfg->intermediate.upstream.port, 8443);
	ck_assert_int_eq(cfg->intermediate.key_type, MCA_KEYTYPE_RSA);
	ck_assert_int_eq(cfg->intermediate.key_size, 4096);
	ck_assert_int_eq(cfg->intermediate.reenroll_days, 30);
	ck_assert_int_eq(cfg->device.enabled, 1);
	ck_assert_str_eq(cfg->device.locality, "AVX");
	ck_assert_int_eq(cfg->device.upstream.port, 443);
	ck_assert_int_eq(cfg->device.key_type, MCA_KEYTYPE_EC);
	ck_assert_int_eq(cfg->device.key_size, 521);
	ck_assert_str_eq(cfg->device.hash_function, "SHA256");
	ck_assert_int_eq(cfg->device.reenroll_days, 31);
	ck_assert_int_eq(cfg->renewal.enabled, 1);
	ck_assert_int_eq(cfg->renewal.interval_minutes, 1);
	ck_assert_int_eq(cfg->renewal.upstream.port, 444);
	ck_assert_str_eq(cfg->renewal.upstream.est_agent_setting_name,
	    "<est_agent_setting_name>");
	ck_assert_int_eq(cfg->mtls_server.key_in_pkcs11, 0);
	ck_assert_str_eq(cfg->mtls_server.cert_path,
	    "<mtls_server_cert_path>");
	ck_assert_str_eq(cfg->mtls_server.key_path, "<MTLS private key path>");
	ck_assert_int_eq(cfg->mtls_server.reenroll_days, 600);
	ck_assert_str_eq(cfg->mtls_server.restart_script, "<script path>");
	ck_assert_int_eq(cfg->mtls_client.key_in_pkcs11, 1);
	ck_assert_str_eq(cfg->mtls_client.key_label, "<mtls auth key label>");
	ck_assert_ptr_null(cfg->mtls_client.restart_script);
	ck_assert_int_eq(cfg->discovery.enabled, 0);
	ck_assert_int_eq(cfg->discovery.interval_minutes, 1);
	ck_assert_str_eq(cfg->discovery.group_name, "<group name>");
	ck_assert_int_eq(cfg->discovery.upstream.port, 445);
	ck_assert_int_eq(cfg->azure.present, 1);
	ck_assert_str_eq(cfg->azure.workflow, "<Workflow name>");
	ck_assert_int_eq(cfg->azure.poll_count, 6);
	ck_assert_int_eq(cfg->azure.poll_interval, 3);
	ck_assert_str_eq(cfg->azure.azure_account, "<Azure Account Name>");

	ck_assert_ptr_eq(mca_cfg_profile(cfg, ""), &cfg->profiles[1]);

	/*
	 * Once the token is logged in the PIN goes (no JSON copy outlives
	 * loading: the tree was wiped and freed in mca_cfg_load).
	 */
	ck_assert_ptr_nonnull(cfg->pkcs11_library_pin);
	mca_cfg_wipe_pin(cfg);
	ck_assert_ptr_null(cfg->pkcs11_library_pin);
	mca_cfg_wipe_pin(cfg);		/* twice is harmless */
	mca_cfg_wipe_pin(NULL);
	/* and the refusal limits, absent, are their defaults */
	ck_assert_int_eq(cfg->refusals_keep_days, 30);
	ck_assert_int_eq(cfg->refusals_per_minute_max, 600);
	mca_cfg_free(cfg);
}
END_TEST

START_TEST(test_defaults)
{
	struct mca_cfg			*cfg = NULL;
	struct mca_diag			 d;
	const struct mca_profile	*p;

	ck_assert_msg(tu_cfg_parse(MIN, &cfg, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(cfg->ledger_db_path, "/var/lib/microca/ledger.db");
	ck_assert_str_eq(cfg->issued_certs_dir,
	    "/var/lib/microca/IssuedCerts");
	ck_assert_str_eq(cfg->intermediate.hash_function, "SHA256");
	ck_assert_int_eq(cfg->ledger_synchronous_full, 1);
	ck_assert_int_eq(cfg->issued_certs_sync, 1);
	ck_assert_str_eq(cfg->default_end_point_name, "device");
	ck_assert_str_eq(cfg->intermediate_private_key_path,
	    "/etc/microca/ca.key");
	ck_assert_ptr_null(cfg->intermediate_private_key_label_in_pkcs11);
	ck_assert_ptr_null(cfg->pkcs11_library);
	ck_assert_ptr_null(cfg->pkcs11_library_pin);
	ck_assert_uint_eq(cfg->nwarnings, 0);
	ck_assert_uint_eq(cfg->nprofiles, 1);
	p = &cfg->profiles[0];
	ck_assert_int_eq(p->index, 1);
	ck_assert_int_eq(p->validity_days, 30);
	ck_assert_uint_eq(p->neku, 0);
	ck_assert_ptr_null(p->eku);
	ck_assert_uint_eq(p->key_usage, 0);
	ck_assert_int_eq(p->is_device_cert, 0);
	ck_assert_int_eq(p->is_unlimited_validity, 0);
	ck_assert_int_eq(p->is_ca, 0);
	ck_assert_int_eq(p->path_len, -1);
	ck_assert_int_eq(p->b64_line_length, 64);
	ck_assert_int_eq(p->key_type, MCA_KEYTYPE_ANY);
	ck_assert_int_eq(p->key_size, 0);
	mca_cfg_free(cfg);
}
END_TEST

/* Blocks in any file order come out sorted by N; the default is the lowest. */
START_TEST(test_sorted)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	const char	*json = DOC(
	    "\"end_certificate_config_10\": {\"end_point_name\": \"ten\", "
	    "\"validity_in_days\": 10}, "
	    "\"end_certificate_config_2\": {\"end_point_name\": \"two\", "
	    "\"validity_in_days\": 2}, "
	    "\"end_certificate_config_7\": {\"end_point_name\": \"seven\", "
	    "\"validity_in_days\": 7}");

	ck_assert_msg(tu_cfg_parse(json, &cfg, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(cfg->nprofiles, 3);
	ck_assert_int_eq(cfg->profiles[0].index, 2);
	ck_assert_str_eq(cfg->profiles[0].name, "two");
	ck_assert_int_eq(cfg->profiles[1].index, 7);
	ck_assert_int_eq(cfg->profiles[2].index, 10);
	ck_assert_int_eq(cfg->profiles[2].validity_days, 10);
	ck_assert_str_eq(cfg->default_end_point_name, "two");
	mca_cfg_free(cfg);
}
END_TEST

/* One profile's fields, table-driven. */
static const struct {
	const char	*json;
	int		 validity, unlimited, b64, keytype, keysize, pathlen;
	unsigned	 ku;
} profile_ok[] = {
	{ DOC(P1("")), 30, 0, 64, MCA_KEYTYPE_ANY, 0, -1, 0 },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"is_unlimited_validity\": true}"),
	    0, 1, 64, MCA_KEYTYPE_ANY, 0, -1, 0 },
	{ DOC(P1(", \"is_unlimited_validity\": true")),
	    30, 1, 64, MCA_KEYTYPE_ANY, 0, -1, 0 },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"validity_in_days\": 36500}"),
	    36500, 0, 64, MCA_KEYTYPE_ANY, 0, -1, 0 },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"validity_in_days\": 1}"),
	    1, 0, 64, MCA_KEYTYPE_ANY, 0, -1, 0 },
	{ DOC(P1(", \"base64_line_length\": 0")),
	    30, 0, 0, MCA_KEYTYPE_ANY, 0, -1, 0 },
	{ DOC(P1(", \"base64_line_length\": 4")),
	    30, 0, 4, MCA_KEYTYPE_ANY, 0, -1, 0 },
	{ DOC(P1(", \"base64_line_length\": 4096")),
	    30, 0, 4096, MCA_KEYTYPE_ANY, 0, -1, 0 },
	{ DOC(P1(", \"key_type\": \"RSA\"")),
	    30, 0, 64, MCA_KEYTYPE_RSA, 0, -1, 0 },
	{ DOC(P1(", \"key_type\": \"RSA\", \"key_size\": 2048")),
	    30, 0, 64, MCA_KEYTYPE_RSA, 2048, -1, 0 },
	{ DOC(P1(", \"key_type\": \"RSA\", \"key_size\": 8192")),
	    30, 0, 64, MCA_KEYTYPE_RSA, 8192, -1, 0 },
	{ DOC(P1(", \"key_type\": \"ECC\", \"key_size\": 256")),
	    30, 0, 64, MCA_KEYTYPE_EC, 256, -1, 0 },
	{ DOC(P1(", \"key_type\": \"EC\", \"key_size\": 521")),
	    30, 0, 64, MCA_KEYTYPE_EC, 521, -1, 0 },
	{ DOC(P1(", \"key_type\": \"ecc\"")),
	    30, 0, 64, MCA_KEYTYPE_EC, 0, -1, 0 },
	{ DOC(P1(", \"path_length_constraint\": null")),
	    30, 0, 64, MCA_KEYTYPE_ANY, 0, -1, 0 },
	{ DOC(P1(", \"path_length_constraint\": 0")),
	    30, 0, 64, MCA_KEYTYPE_ANY, 0, 0, 0 },
	{ DOC(P1(", \"path_length_constraint\": 255")),
	    30, 0, 64, MCA_KEYTYPE_ANY, 0, 255, 0 },
	{ DOC(P1(", \"key_usage\": {}")),
	    30, 0, 64, MCA_KEYTYPE_ANY, 0, -1, 0 },
	{ DOC(P1(", \"key_usage\": {\"digital_signature\": true, "
	    "\"crl_sign\": false, \"decipher_only\": true}")),
	    30, 0, 64, MCA_KEYTYPE_ANY, 0, -1,
	    MCA_KU_DIGITAL_SIGNATURE | MCA_KU_DECIPHER_ONLY },
	{ DOC(P1(", \"key_usage\": {\"non_repudiation\": true, "
	    "\"data_encipherment\": true}")),
	    30, 0, 64, MCA_KEYTYPE_ANY, 0, -1,
	    MCA_KU_NON_REPUDIATION | MCA_KU_DATA_ENCIPHERMENT },
};

START_TEST(test_profile_ok)
{
	struct mca_cfg			*cfg = NULL;
	struct mca_diag			 d;
	const struct mca_profile	*p;

	ck_assert_msg(tu_cfg_parse(profile_ok[_i].json, &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_uint_eq(cfg->nprofiles, 1);
	p = &cfg->profiles[0];
	ck_assert_int_eq(p->validity_days, profile_ok[_i].validity);
	ck_assert_int_eq(p->is_unlimited_validity, profile_ok[_i].unlimited);
	ck_assert_int_eq(p->b64_line_length, profile_ok[_i].b64);
	ck_assert_int_eq(p->key_type, profile_ok[_i].keytype);
	ck_assert_int_eq(p->key_size, profile_ok[_i].keysize);
	ck_assert_int_eq(p->path_len, profile_ok[_i].pathlen);
	ck_assert_uint_eq(p->key_usage, profile_ok[_i].ku);
	mca_cfg_free(cfg);
}
END_TEST

/* server_key_type and server_key_size, and their defaults. */
static const struct {
	const char	*json;
	int		 type, size;
} server_key_ok[] = {
	/* RFC 7030 4.4 keys default to RSA 2048 */
	{ MIN, MCA_KEYTYPE_RSA, 2048 },
	{ DOC(P1(", \"server_key_size\": 3072")), MCA_KEYTYPE_RSA, 3072 },
	{ DOC(P1(", \"server_key_type\": \"RSA\", \"server_key_size\": 4096")),
	    MCA_KEYTYPE_RSA, 4096 },
	{ DOC(P1(", \"server_key_type\": \"rsa\", \"server_key_size\": 2048")),
	    MCA_KEYTYPE_RSA, 2048 },
	{ DOC(P1(", \"server_key_type\": \"ECC\"")), MCA_KEYTYPE_EC, 256 },
	{ DOC(P1(", \"server_key_type\": \"ecc\", \"server_key_size\": 384")),
	    MCA_KEYTYPE_EC, 384 },
	{ DOC(P1(", \"server_key_type\": \"EC\", \"server_key_size\": 256")),
	    MCA_KEYTYPE_EC, 256 },
	/* else from key_type/key_size when we make such keys */
	{ DOC(P1(", \"key_type\": \"ECC\"")), MCA_KEYTYPE_EC, 256 },
	{ DOC(P1(", \"key_type\": \"ECC\", \"key_size\": 384")),
	    MCA_KEYTYPE_EC, 384 },
	{ DOC(P1(", \"key_type\": \"RSA\", \"key_size\": 3072")),
	    MCA_KEYTYPE_RSA, 3072 },
	{ DOC(P1(", \"key_type\": \"RSA\", \"key_size\": 8192")),
	    MCA_KEYTYPE_RSA, 2048 },
	{ DOC(P1(", \"key_type\": \"ECC\", \"key_size\": 521")),
	    MCA_KEYTYPE_EC, 256 },
	{ DOC(P1(", \"key_type\": \"ECC\", \"key_size\": 384, "
	    "\"server_key_type\": \"RSA\"")), MCA_KEYTYPE_RSA, 2048 },
	{ DOC(P1(", \"key_type\": \"RSA\", \"key_size\": 4096, "
	    "\"server_key_size\": 2048")), MCA_KEYTYPE_RSA, 2048 },
};

START_TEST(test_server_key_ok)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	ck_assert_msg(tu_cfg_parse(server_key_ok[_i].json, &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_int_eq(cfg->profiles[0].server_key_type,
	    server_key_ok[_i].type);
	ck_assert_int_eq(cfg->profiles[0].server_key_size,
	    server_key_ok[_i].size);
	mca_cfg_free(cfg);
}
END_TEST

START_TEST(test_rollover_path)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	ck_assert_msg(tu_cfg_parse(MIN, &cfg, &d) == 0, "%s", d.msg);
	ck_assert_ptr_null(cfg->rollover_cert_path);
	mca_cfg_free(cfg);
	ck_assert_msg(tu_cfg_parse(DOC(P1("") ", \"rollover_cert_path\": "
	    "\"/etc/microca/rollover.pem\""), &cfg, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(cfg->rollover_cert_path, "/etc/microca/rollover.pem");
	ck_assert_uint_eq(cfg->nwarnings, 0);
	mca_cfg_free(cfg);
}
END_TEST

/* Top-level values, table-driven. */
static const struct {
	const char	*json;
	const char	*hash;
	int		 sync_full;
	const char	*keypath;	/* NULL: expect none */
	const char	*label;		/* NULL: expect none */
	const char	*deflabel;
} top_ok[] = {
	{ DOC(P1("") ", \"ledger_synchronous\": \"FULL\""),
	    "SHA256", 1, "/etc/microca/ca.key", NULL, "device" },
	{ DOC(P1("") ", \"ledger_synchronous\": \"normal\""),
	    "SHA256", 0, "/etc/microca/ca.key", NULL, "device" },
	{ DOC(P1("") ", \"intermediate_cert_config\": "
	    "{\"hash_function\": \"sha-512\"}"),
	    "sha-512", 1, "/etc/microca/ca.key", NULL, "device" },
	{ DOC(P1("") ", \"intermediate_cert_config\": {}"),
	    "SHA256", 1, "/etc/microca/ca.key", NULL, "device" },
	{ "{" CERT ", " MTLS ", " LABEL ", " P11LIB ", " PIN ", " P1("") "}",
	    "SHA256", 1, NULL, "ica", "device" },
	/* Both key sources: the label wins, the path is dropped. */
	{ DOC(P1("") ", " LABEL ", " P11LIB ", " PIN),
	    "SHA256", 1, NULL, "ica", "device" },
	{ DOC(P1("") ", " P2("") ", \"default_end_point_name\": \"user\""),
	    "SHA256", 1, "/etc/microca/ca.key", NULL, "user" },
	{ DOC(P2("") ", " P1("")),
	    "SHA256", 1, "/etc/microca/ca.key", NULL, "device" },
	/* The seed's other scalars, well typed. */
	{ DOC(P1("") ", \"port\": 65535, \"new_intermediate_cert\": false, "
	    "\"encryption_key_file_path\": \"/etc/microca/k\""),
	    "SHA256", 1, "/etc/microca/ca.key", NULL, "device" },
};

/* issued_certs_synchronous: FULL (the default) or OFF, any case. */
static const struct {
	const char	*json;
	int		 sync;
} copy_sync[] = {
	{ DOC(P1("")), 1 },
	{ DOC(P1("") ", \"issued_certs_synchronous\": \"FULL\""), 1 },
	{ DOC(P1("") ", \"issued_certs_synchronous\": \"OFF\""), 0 },
	{ DOC(P1("") ", \"issued_certs_synchronous\": \"off\""), 0 },
};

/* refusals_keep_days and refusals_per_minute_max, at their edges. */
static const struct {
	const char	*json;
	int		 days, rate;
} refusal_keys[] = {
	{ DOC(P1("")), 30, 600 },
	{ DOC(P1("") ", \"refusals_keep_days\": 1, "
	    "\"refusals_per_minute_max\": 0"), 1, 0 },
	{ DOC(P1("") ", \"refusals_keep_days\": 36500, "
	    "\"refusals_per_minute_max\": 1000000"), 36500, 1000000 },
};

START_TEST(test_refusal_keys)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	ck_assert_msg(tu_cfg_parse(refusal_keys[_i].json, &cfg, &d) == 0,
	    "%s", d.msg);
	ck_assert_int_eq(cfg->refusals_keep_days, refusal_keys[_i].days);
	ck_assert_int_eq(cfg->refusals_per_minute_max, refusal_keys[_i].rate);
	ck_assert_uint_eq(cfg->nwarnings, 0);
	mca_cfg_free(cfg);
}
END_TEST

START_TEST(test_copy_sync)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	ck_assert_msg(tu_cfg_parse(copy_sync[_i].json, &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_int_eq(cfg->issued_certs_sync, copy_sync[_i].sync);
	mca_cfg_free(cfg);
}
END_TEST

/* The failure budgets of passcodes: defaults, values, bounds. */
static const struct {
	const char	*json;
	long long	 id, addr, window;
	const char	*err;	/* NULL: accepted */
} budgets[] = {
	{ DOC(P1("")), 10, 100, 900, NULL },
	{ DOC(P1("") ", \"passcode_failures_max\": 0, "
	    "\"passcode_address_failures_max\": 1000000, "
	    "\"passcode_failure_window_seconds\": 1"), 0, 1000000, 1, NULL },
	{ DOC(P1("") ", \"passcode_failure_window_seconds\": 86400"), 10,
	    100, 86400, NULL },
	{ DOC(P1("") ", \"passcode_failure_window_seconds\": 0"), 0, 0, 0,
	    "passcode_failure_window_seconds: expected an integer from 1 to "
	    "86400" },
	{ DOC(P1("") ", \"passcode_failure_window_seconds\": 86401"), 0, 0,
	    0, "passcode_failure_window_seconds: expected an integer from 1 "
	    "to 86400" },
	{ DOC(P1("") ", \"passcode_failures_max\": 1000001"), 0, 0, 0,
	    "passcode_failures_max: expected an integer from 0 to 1000000" },
	{ DOC(P1("") ", \"passcode_failures_max\": -1"), 0, 0, 0,
	    "passcode_failures_max: expected an integer from 0 to" },
	{ DOC(P1("") ", \"passcode_address_failures_max\": \"5\""), 0, 0,
	    0, "passcode_address_failures_max: expected an integer from 0 "
	    "to" },
	{ DOC(P1("") ", \"passcode_address_failures_max\": 2.5"), 0, 0, 0,
	    "passcode_address_failures_max: expected an integer from 0 to" },
};

START_TEST(test_budgets)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	if (budgets[_i].err != NULL) {
		tu_cfg_assert_refused(budgets[_i].json, budgets[_i].err, _i);
		return;
	}
	ck_assert_msg(tu_cfg_parse(budgets[_i].json, &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_int_eq(cfg->passcode_failures_max, budgets[_i].id);
	ck_assert_int_eq(cfg->passcode_address_failures_max,
	    budgets[_i].addr);
	ck_assert_int_eq(cfg->passcode_failure_window, budgets[_i].window);
	ck_assert_uint_eq(cfg->nwarnings, 0);
	mca_cfg_free(cfg);
}
END_TEST

/*
 * The CRL keys: crl_dir and crl_validity_hours, and the distribution
 * point URL at the top level and per label (the label's wins).
 */
#define CDP(u)	"\"crl_distribution_point_url\": \"" u "\""
static const struct {
	const char	*json;
	const char	*dir;		/* crl_dir */
	int		 hours;
	const char	*top;		/* cfg->crl_url */
	const char	*url1, *url2;	/* labels 1 and 2 */
	const char	*err;		/* NULL: accepted */
} crl_keys[] = {
	{ DOC(P1("")), "/var/lib/microca/crl", 24, NULL, NULL, NULL, NULL },
	{ DOC(P1("") ", \"crl_dir\": \"/srv/crl\", "
	    "\"crl_validity_hours\": 1"), "/srv/crl", 1, NULL, NULL, NULL,
	    NULL },
	{ DOC(P1("") ", \"crl_validity_hours\": 8760"), NULL, 8760, NULL,
	    NULL, NULL, NULL },
	/* the top level's URL is every label's, a label's own wins */
	{ DOC(P1("") ", " P2(", " CDP("http://b.example/x.crl")) ", "
	    CDP("http://ca.example:8080/crl/microca.crl")), NULL, 24,
	    "http://ca.example:8080/crl/microca.crl",
	    "http://ca.example:8080/crl/microca.crl",
	    "http://b.example/x.crl", NULL },
	{ DOC(P1(", " CDP("HTTP://10.0.0.1/c.crl")) ", " P2("")), NULL, 24,
	    NULL, "HTTP://10.0.0.1/c.crl", NULL, NULL },
	{ DOC(P1("") ", \"crl_validity_hours\": 0"), NULL, 0, NULL, NULL,
	    NULL, "crl_validity_hours: expected an integer from 1 to 8760" },
	{ DOC(P1("") ", \"crl_validity_hours\": 8761"), NULL, 0, NULL, NULL,
	    NULL, "crl_validity_hours: expected an integer from 1 to 8760" },
	{ DOC(P1("") ", \"crl_dir\": \"\""), NULL, 0, NULL, NULL, NULL,
	    "crl_dir: must not be empty" },
	{ DOC(P1("") ", " CDP("https://ca.example/microca.crl")), NULL, 0,
	    NULL, NULL, NULL, "crl_distribution_point_url: "
	    "\"https://ca.example/microca.crl\": expected an http:// URL" },
	{ DOC(P1(", " CDP("ldap://ca.example/cn=ca"))), NULL, 0, NULL, NULL,
	    NULL, "end_certificate_config_1.crl_distribution_point_url: "
	    "\"ldap://ca.example/cn=ca\": expected an http:// URL" },
	{ DOC(P1("") ", " CDP("http:///microca.crl")), NULL, 0, NULL, NULL,
	    NULL, "crl_distribution_point_url: \"http:///microca.crl\": "
	    "expected a host name" },
	{ DOC(P1("") ", " CDP("http://u@ca.example/microca.crl")), NULL, 0,
	    NULL, NULL, NULL, "crl_distribution_point_url: "
	    "\"http://u@ca.example/microca.crl\": expected a host name" },
	{ DOC(P1("") ", " CDP("http://ca.example/a b.crl")), NULL, 0, NULL,
	    NULL, NULL, "crl_distribution_point_url: \"http://ca.example/"
	    "a b.crl\": only printable ASCII" },
	{ DOC(P1("") ", " CDP("http://ca.example/c.crl#x")), NULL, 0, NULL,
	    NULL, NULL, "crl_distribution_point_url: \"http://ca.example/"
	    "c.crl#x\": a fragment" },
	{ DOC(P2(", " CDP("http://ca.example/\\u00e9.crl")) ", " P1("")), NULL,
	    0, NULL, NULL, NULL, "end_certificate_config_2."
	    "crl_distribution_point_url: \"http://ca.example/??.crl\": only "
	    "printable ASCII" },
	{ DOC(P1("") ", \"crl_distribution_point_url\": 1"), NULL, 0, NULL,
	    NULL, NULL, "crl_distribution_point_url: expected a string" },
	/* the one placeholder, in the path: the issuer's key identifier */
	{ DOC(P1(", " CDP("http://ca.example/crl/{keyid}.crl"))), NULL, 24,
	    NULL, "http://ca.example/crl/{keyid}.crl", NULL, NULL },
	{ DOC(P1("") ", " CDP("http://ca.example/crl/{name}.crl")), NULL, 0,
	    NULL, NULL, NULL, "crl_distribution_point_url: \"http://"
	    "ca.example/crl/{name}.crl\": a brace other than the one "
	    "placeholder {keyid}" },
	{ DOC(P1("") ", " CDP("http://ca.example/{keyid}/{keyid}.crl")), NULL,
	    0, NULL, NULL, NULL, "crl_distribution_point_url: \"http://"
	    "ca.example/{keyid}/{keyid}.crl\": a brace other" },
	{ DOC(P1("") ", " CDP("http://{keyid}.example/c.crl")), NULL, 0, NULL,
	    NULL, NULL, "crl_distribution_point_url: \"http://{keyid}."
	    "example/c.crl\": a brace other" },
};

START_TEST(test_crl_keys)
{
	struct mca_cfg			*cfg = NULL;
	const struct mca_profile	*p;
	struct mca_diag			 d;

	if (crl_keys[_i].err != NULL) {
		tu_cfg_assert_refused(crl_keys[_i].json, crl_keys[_i].err, _i);
		return;
	}
	ck_assert_msg(tu_cfg_parse(crl_keys[_i].json, &cfg, &d) == 0, "%s",
	    d.msg);
	if (crl_keys[_i].dir != NULL)
		ck_assert_str_eq(cfg->crl_dir, crl_keys[_i].dir);
	ck_assert_int_eq(cfg->crl_validity_hours, crl_keys[_i].hours);
	ck_assert_pstr_eq(cfg->crl_url, crl_keys[_i].top);
	ck_assert_ptr_nonnull(p = mca_cfg_profile(cfg, "device"));
	ck_assert_pstr_eq(p->crl_url, crl_keys[_i].url1);
	if ((p = mca_cfg_profile(cfg, "user")) != NULL)
		ck_assert_pstr_eq(p->crl_url, crl_keys[_i].url2);
	ck_assert_uint_eq(cfg->nwarnings, 0);
	mca_cfg_free(cfg);
}
END_TEST

START_TEST(test_top_ok)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	ck_assert_msg(tu_cfg_parse(top_ok[_i].json, &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_str_eq(cfg->intermediate.hash_function, top_ok[_i].hash);
	ck_assert_int_eq(cfg->ledger_synchronous_full, top_ok[_i].sync_full);
	if (top_ok[_i].keypath == NULL)
		ck_assert_ptr_null(cfg->intermediate_private_key_path);
	else
		ck_assert_str_eq(cfg->intermediate_private_key_path,
		    top_ok[_i].keypath);
	if (top_ok[_i].label == NULL)
		ck_assert_ptr_null(
		    cfg->intermediate_private_key_label_in_pkcs11);
	else {
		ck_assert_str_eq(cfg->intermediate_private_key_label_in_pkcs11,
		    top_ok[_i].label);
		ck_assert_str_eq(cfg->pkcs11_library,
		    "/usr/lib/softhsm/libsofthsm2.so");
		ck_assert_str_eq(cfg->pkcs11_library_pin, "1234");
	}
	ck_assert_str_eq(cfg->default_end_point_name, top_ok[_i].deflabel);
	ck_assert_ptr_nonnull(mca_cfg_profile(cfg, ""));
	ck_assert_str_eq(mca_cfg_profile(cfg, "")->name, top_ok[_i].deflabel);
	mca_cfg_free(cfg);
}
END_TEST

/* The cron blocks: one int field each, at its default or as given. */
#define CFGI(f)	offsetof(struct mca_cfg, f)
static const struct {
	const char	*json;
	size_t		 off;		/* of an int in struct mca_cfg */
	int		 want;
} cron_ok[] = {
	/* defaults, blocks absent (seed tables 4 and 7 give two) */
	{ MIN, CFGI(renewal.interval_minutes), 1440 },
	{ MIN, CFGI(discovery.interval_minutes), 30 },
	{ MIN, CFGI(azure.poll_count), 6 },
	{ MIN, CFGI(azure.poll_interval), 3 },
	{ MIN, CFGI(intermediate.reenroll_days), 30 },
	{ MIN, CFGI(mtls_server.reenroll_days), 30 },
	{ MIN, CFGI(renewal.present), 0 },
	{ MIN, CFGI(renewal.enabled), 0 },
	{ MIN, CFGI(intermediate.key_type), MCA_KEYTYPE_ANY },
	{ MIN, CFGI(port), 0 },
	/* defaults, blocks present and empty */
	{ DOC(P1("") ", \"certificateRenewal_config\": {}"),
	    CFGI(renewal.present), 1 },
	{ DOC(P1("") ", \"certificateRenewal_config\": {}"),
	    CFGI(renewal.interval_minutes), 1440 },
	{ DOC(P1("") ", \"discover_certificate_config\": {}"),
	    CFGI(discovery.interval_minutes), 30 },
	{ DOC(P1("") ", \"mtls_azure_device_registration\": {}"),
	    CFGI(azure.poll_count), 6 },
	/* values */
	{ DOC(P1("") ", \"certificateRenewal_config\": "
	    "{\"renewal_check_interval_time_in_minutes\": 525600}"),
	    CFGI(renewal.interval_minutes), 525600 },
	{ DOC(P1("") ", \"certificateRenewal_config\": "
	    "{\"isRenewalOfCertificatesRequired\": true, " UP "}"),
	    CFGI(renewal.upstream.port), 443 },
	{ DOC(P1("") ", \"certificateRenewal_config\": {\"port\": \"65535\"}"),
	    CFGI(renewal.upstream.port), 65535 },
	{ DOC(P1("") ", \"certificateRenewal_config\": {\"port\": 1}"),
	    CFGI(renewal.upstream.port), 1 },
	{ DOC(P1("") ", \"intermediate_cert_config\": {\"key_type\": \"ecc\", "
	    "\"key_size\": 384}"), CFGI(intermediate.key_size), 384 },
	{ DOC(P1("") ", \"device_cert_config\": {\"key_type\": \"RSA\"}"),
	    CFGI(device.key_type), MCA_KEYTYPE_RSA },
	{ DOC(P1("") ", \"device_cert_config\": "
	    "{\"reenrollment_trigger_before_no_of_days_of_expiry\": 36500}"),
	    CFGI(device.reenroll_days), 36500 },
	{ DOC(P1("") ", \"mtls_server_cert_config\": "
	    "{\"mtls_server_cert_path\": \"/s.pem\", \"mtls_server_key_path\": "
	    "\"/s.key\"}"), CFGI(mtls_server.key_in_pkcs11), 0 },
	{ "{" CERT ", " MTLS ", " LABEL ", " P11LIB ", " PIN ", " P1("") ", "
	    "\"mtls_client_auth_cert_config\": "
	    "{\"mtls_auth_cert_path\": \"/c.pem\", "
	    "\"is_private_key_label_required\": true, "
	    "\"mtls_auth_key_label\": \"k\"}}",
	    CFGI(mtls_client.key_in_pkcs11), 1 },
	{ DOC(P1("") ", \"discover_certificate_config\": "
	    "{\"is_discovery_required\": true, \"discovery_name\": \"d\", "
	    "\"groupName\": \"g\", " UP "}"), CFGI(discovery.enabled), 1 },
	{ DOC(P1("") ", \"mtls_azure_device_registration\": "
	    "{\"poll_count\": 1000, \"poll_interval\": 3600}"),
	    CFGI(azure.poll_interval), 3600 },
	{ DOC(P1("") ", \"port\": 443"), CFGI(port), 443 },
	{ DOC(P1("") ", \"new_intermediate_cert\": true"),
	    CFGI(new_intermediate_cert), 1 },
	/* microca-renew's keys: defaults, then values */
	{ MIN, CFGI(intermediate.rekey), 1 },
	{ MIN, CFGI(device.rekey), 1 },
	{ MIN, CFGI(upstream_connect_timeout), 15 },
	{ MIN, CFGI(upstream_timeout), 120 },
	{ DOC(P1("") ", \"mtls_server_cert_config\": "
	    "{\"mtls_server_cert_path\": \"/s.pem\", \"mtls_server_key_path\": "
	    "\"/s.key\"}"), CFGI(mtls_server.restart_timeout), 60 },
	{ DOC(P1("") ", \"mtls_server_cert_config\": "
	    "{\"mtls_server_cert_path\": \"/s.pem\", \"mtls_server_key_path\": "
	    "\"/s.key\", \"restart_script_timeout_seconds\": 3600}"),
	    CFGI(mtls_server.restart_timeout), 3600 },
	{ DOC(P1("") ", \"intermediate_cert_config\": {\"rekey\": false}"),
	    CFGI(intermediate.rekey), 0 },
	{ DOC(P1("") ", \"device_cert_config\": {\"rekey\": true}"),
	    CFGI(device.rekey), 1 },
	{ DOC(P1("") ", \"upstream_connect_timeout_seconds\": 300"),
	    CFGI(upstream_connect_timeout), 300 },
	{ DOC(P1("") ", \"upstream_timeout_seconds\": 1"),
	    CFGI(upstream_timeout), 1 },
	{ DOC(P1("") ", \"upstream_timeout_seconds\": 3600"),
	    CFGI(upstream_timeout), 3600 },
};

START_TEST(test_cron_ok)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	int		 got;

	ck_assert_msg(tu_cfg_parse(cron_ok[_i].json, &cfg, &d) == 0,
	    "case %d: %s", _i, d.msg);
	memcpy(&got, (char *)cfg + cron_ok[_i].off, sizeof(got));
	ck_assert_msg(got == cron_ok[_i].want, "case %d: %d, want %d", _i,
	    got, cron_ok[_i].want);
	/* None, but for a PIN in the clear. */
	ck_assert_uint_eq(cfg->nwarnings, (size_t)has_warning(cfg, CLEAR));
	mca_cfg_free(cfg);
}
END_TEST

/*
 * The upstream's trust anchors and credentials at the three levels; a
 * password in the clear is taken, with its warning.
 */
START_TEST(test_upstream_keys)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	ck_assert_msg(tu_cfg_parse(MIN, &cfg, &d) == 0, "%s", d.msg);
	ck_assert_ptr_null(cfg->upstream.ca_cert);
	ck_assert_ptr_null(cfg->intermediate.upstream.ca_cert);
	ck_assert_ptr_null(cfg->intermediate.upstream.username);
	ck_assert_ptr_null(cfg->renewal.upstream.password);
	mca_cfg_free(cfg);
	ck_assert_msg(tu_cfg_parse(DOC(P1("") ", \"upstream_ca_cert\": "
	    "\"/top.pem\", \"intermediate_cert_config\": "
	    "{\"upstream_ca_cert\": \"/int.pem\", \"upstream_username\": "
	    "\"est\", \"upstream_password\": \"pw1\"}, "
	    "\"certificateRenewal_config\": {\"upstream_ca_cert\": "
	    "\"/rnw.pem\"}, \"device_cert_config\": {\"upstream_username\": "
	    "\"dev\", \"upstream_password\": \"pw2\"}"), &cfg, &d) == 0,
	    "%s", d.msg);
	ck_assert_str_eq(cfg->upstream.ca_cert, "/top.pem");
	ck_assert_str_eq(cfg->intermediate.upstream.ca_cert, "/int.pem");
	ck_assert_str_eq(cfg->intermediate.upstream.username, "est");
	ck_assert_str_eq(cfg->intermediate.upstream.password, "pw1");
	ck_assert_str_eq(cfg->renewal.upstream.ca_cert, "/rnw.pem");
	ck_assert_ptr_null(cfg->renewal.upstream.username);
	ck_assert_ptr_null(cfg->device.upstream.ca_cert);
	ck_assert_str_eq(cfg->device.upstream.password, "pw2");
	ck_assert(has_warning(cfg, "intermediate_cert_config."
	    "upstream_password is stored in the clear"));
	ck_assert(has_warning(cfg, "device_cert_config.upstream_password is "
	    "stored in the clear"));
	mca_cfg_free(cfg);
}
END_TEST

/*
 * An empty est_agent_setting_name is a value of its own: no label
 * segment in the EST URL (RFC 7030 3.2.2). Other strings stay refused
 * when empty.
 */
START_TEST(test_empty_label)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	ck_assert_msg(tu_cfg_parse(DOC(P1("") ", \"intermediate_cert_config\": "
	    "{\"use_est\": true, \"appviewx_hostname\": \"avx\", \"port\": "
	    "443, \"est_agent_setting_name\": \"\"}, "
	    "\"device_cert_config\": {\"est_agent_setting_name\": \"\"}, "
	    "\"certificateRenewal_config\": {\"isRenewalOfCertificatesRequired"
	    "\": true, \"appviewx_hostname\": \"avx\", \"port\": 443, "
	    "\"est_agent_setting_name\": \"\"}"), &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_str_eq(cfg->intermediate.upstream.est_agent_setting_name,
	    "");
	ck_assert_str_eq(cfg->device.upstream.est_agent_setting_name, "");
	ck_assert_str_eq(cfg->renewal.upstream.est_agent_setting_name, "");
	mca_cfg_free(cfg);
	/* still a string, and still required with use_est true */
	tu_cfg_assert_refused(DOC(P1("") ", \"intermediate_cert_config\": "
	    "{\"est_agent_setting_name\": null}"),
	    "intermediate_cert_config.est_agent_setting_name: expected a "
	    "string", 1);
	tu_cfg_assert_refused(DOC(P1("") ", \"intermediate_cert_config\": "
	    "{\"use_est\": true, \"appviewx_hostname\": \"avx\", \"port\": "
	    "443}"), "intermediate_cert_config.est_agent_setting_name: missing "
	    "(required with use_est true)", 2);
	tu_cfg_assert_refused(RNW("\"appviewx_hostname\": \"\""),
	    "certificateRenewal_config.appviewx_hostname: must not be empty", 3);
}
END_TEST

/* Keys that look alike but are not the same: no duplicate. */
static const char *const not_dup[] = {
	DOC(P1("") ", \"a\": 1, \"A\": 2, \"a \": 3, \"\\u0062\": 4"),
	DOC(P1("") ", \"x\": {\"port\": 1}, \"y\": {\"port\": 1}"),
	DOC(P1("") ", \"x\": [{\"a\": 1}, {\"a\": 1}], \"s\": \"a\\\":\\\"a\""),
	DOC(P1("") ", \"\\u00e9\": 1, \"e\\u0301\": 2, \"\\ud800x\": 3"),
};

START_TEST(test_not_dup)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	ck_assert_msg(tu_cfg_parse(not_dup[_i], &cfg, &d) == 0, "case %d: %s",
	    _i, d.msg);
	ck_assert_uint_ge(cfg->nwarnings, 1);	/* the unknown keys */
	mca_cfg_free(cfg);
}
END_TEST

/* The scan keys: absent (the scanner's defaults), [] and given. */
START_TEST(test_discovery_scan)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	const struct mca_cfg_discovery *s;

	ck_assert_msg(tu_cfg_parse(MIN, &cfg, &d) == 0, "%s", d.msg);
	s = &cfg->discovery;
	ck_assert_int_eq(s->scan_paths.set, 0);
	ck_assert_uint_eq(s->scan_endpoints.n, 0);
	ck_assert_int_eq(s->scan_max_file_size, MCA_DISC_DEF_MAX_FILE_SIZE);
	ck_assert_int_eq(s->endpoint_timeout, 5);
	ck_assert_int_eq(s->upload_batch_size, 100);
	mca_cfg_free(cfg);
	ck_assert_msg(tu_cfg_parse(DSC("\"scan_paths\": [\"/etc/ssl\", "
	    "\"/srv\"], \"scan_exclude\": [\"*/private/*\"], "
	    "\"scan_extensions\": [\"pem\", \"crt\"], \"scan_endpoints\": "
	    "[\"localhost:443\", \"[::1]:8443\", \"10.0.0.1:636\"], "
	    "\"scan_max_file_size\": 1000, "
	    "\"scan_endpoint_timeout_seconds\": 2, \"upload_batch_size\": 7"),
	    &cfg, &d) == 0, "%s", d.msg);
	s = &cfg->discovery;
	ck_assert_int_eq(s->scan_paths.set, 1);
	ck_assert_uint_eq(s->scan_paths.n, 2);
	ck_assert_str_eq(s->scan_paths.v[1], "/srv");
	ck_assert_str_eq(s->scan_exclude.v[0], "*/private/*");
	ck_assert_uint_eq(s->scan_extensions.n, 2);
	ck_assert_uint_eq(s->scan_endpoints.n, 3);
	ck_assert_str_eq(s->scan_endpoints.v[1], "[::1]:8443");
	ck_assert_int_eq(s->scan_max_file_size, 1000);
	ck_assert_int_eq(s->endpoint_timeout, 2);
	ck_assert_int_eq(s->upload_batch_size, 7);
	mca_cfg_free(cfg);
	/* [] is a value: no endpoint at all */
	ck_assert_msg(tu_cfg_parse(DSC("\"scan_endpoints\": []"), &cfg, &d) ==
	    0, "%s", d.msg);
	ck_assert_int_eq(cfg->discovery.scan_endpoints.set, 1);
	ck_assert_uint_eq(cfg->discovery.scan_endpoints.n, 0);
	mca_cfg_free(cfg);
	ck_assert(mca_cfg_endpoint_ok("h:1"));
	ck_assert(mca_cfg_endpoint_ok("a-b.example:65535"));
	ck_assert(!mca_cfg_endpoint_ok("h:"));
	ck_assert(!mca_cfg_endpoint_ok(":443"));
	ck_assert(!mca_cfg_endpoint_ok("h:+1"));
	ck_assert(!mca_cfg_endpoint_ok("[]:1"));
	ck_assert(!mca_cfg_endpoint_ok(NULL));
}
END_TEST

/* The strings of a block absent, then given; the hash defaults. */
START_TEST(test_cron_strings)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	ck_assert_msg(tu_cfg_parse(MIN, &cfg, &d) == 0, "%s", d.msg);
	ck_assert_ptr_null(cfg->renewal.upstream.appviewx_hostname);
	ck_assert_ptr_null(cfg->discovery.group_name);
	ck_assert_ptr_null(cfg->mtls_server.cert_path);
	ck_assert_ptr_null(cfg->encryption_key_file_path);
	ck_assert_str_eq(cfg->device.hash_function, "SHA256");
	mca_cfg_free(cfg);
	ck_assert_msg(tu_cfg_parse(DOC(P1("") ", \"discover_certificate_"
	    "config\": {\"is_discovery_required\": true, \"discovery_name\": "
	    "\"d\", \"groupName\": \"g\", " UP "}"), &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_str_eq(cfg->discovery.discovery_name, "d");
	ck_assert_str_eq(cfg->discovery.group_name, "g");
	ck_assert_str_eq(cfg->discovery.upstream.appviewx_hostname, "avx");
	ck_assert_str_eq(cfg->discovery.upstream.est_agent_setting_name,
	    "agent");
	mca_cfg_free(cfg);
	/* device_cert_config's places (microca-renew), key in a file */
	ck_assert_msg(tu_cfg_parse(DOC(P1("") ", \"device_cert_config\": "
	    "{\"device_cert_path\": \"/d.pem\", \"device_key_path\": "
	    "\"/d.key\"}"), &cfg, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(cfg->device.cert_path, "/d.pem");
	ck_assert_str_eq(cfg->device.key_path, "/d.key");
	ck_assert_ptr_null(cfg->device.key_label);
	ck_assert_ptr_null(cfg->intermediate.cert_path);
	mca_cfg_free(cfg);
	/* ... or in the token */
	ck_assert_msg(tu_cfg_parse("{" CERT ", " MTLS ", " LABEL ", " P11LIB
	    ", " PIN ", " P1("") ", \"device_cert_config\": "
	    "{\"device_cert_path\": \"/d.pem\", \"device_key_label\": "
	    "\"dev\"}}", &cfg, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(cfg->device.key_label, "dev");
	ck_assert_ptr_null(cfg->device.key_path);
	mca_cfg_free(cfg);
}
END_TEST

/* ---------------------------------------------------------------- errors */

static const struct {
	const char	*json;
	const char	*msg;	/* expected after PATH ": " */
} bad[] = {
	/* JSON syntax, with the line */
	{ "{\n\"a\": 1,\n\"b\" 2\n}", "line 3: invalid JSON" },
	{ "{\n  \"a\": 1,\n}\n", "line 3: invalid JSON" },
	{ "{\n\"a\":", "line 2: invalid JSON: unexpected end of file" },
	{ "", "line 1: invalid JSON: unexpected end of file" },
	{ "{}\n}", "line 2: invalid JSON" },
	{ "{} {}", "line 1: invalid JSON" },
	{ "{\n/* comment */ \"a\": 1}", "line 2: invalid JSON" },
	{ "{\"a\": \"\xff\"}", "line 1: invalid JSON" },
	{ "{\"a\": tru}", "line 1: invalid JSON" },
	/* a key named twice, at any depth, with the line (RFC 8259 4) */
	{ "{\"port\": 1,\n\"a\": 1,\n\"port\": 2}",
	    "line 3: port: duplicate key (first on line 1)" },
	{ DOC(P1(", \"is_ca\": true,\n\"is_ca\": false")),
	    "line 2: end_certificate_config_1.is_ca: duplicate key (first on "
	    "line 1)" },
	{ DOC(P1(", \"key_usage\": {\"crl_sign\": true, \"x\": {}, "
	    "\"crl_sign\": false}")),
	    "line 1: end_certificate_config_1.key_usage.crl_sign: duplicate key "
	    "(first on line 1)" },
	{ RNW("\"port\": 443,\n\n\"port\": \"444\""),
	    "line 3: certificateRenewal_config.port: duplicate key (first on "
	    "line 1)" },
	{ DOC(P1("") ", \"mtls_azure_device_registration\": {\"poll_count\": "
	    "2, \"poll_count\": 2}"),
	    "line 1: mtls_azure_device_registration.poll_count: duplicate key" },
	/* equal once unescaped, as json-c stores them */
	{ "{\"a\": 1, \"\\u0061\": 2}", "line 1: a: duplicate key" },
	{ "{\"\\u0041b\": 1, \"A\\u0062\": 2}", "line 1: Ab: duplicate key" },
	{ "{\"a\\/b\": 1, \"a/b\": 2}", "line 1: a/b: duplicate key" },
	{ "{\"\\ud83d\\ude00\": 1, \"\xf0\x9f\x98\x80\": 2}",
	    "line 1: ????: duplicate key" },
	{ "{\"\\ud800\": 1, \"\\udc00\": 2}", "line 1: ???: duplicate key" },
	{ "{\"a\\u0000b\": 1, \"a\\u0000c\": 2}", "line 1: a: duplicate key" },
	/* in an array, in the second of two objects, the earliest reported */
	{ DOC(P1(", \"extended_key_usage_list\": [{\"b\": 1}, {\"b\": 1, "
	    "\"b\": 2}]")),
	    "line 1: end_certificate_config_1.extended_key_usage_list[1].b: "
	    "duplicate key" },
	{ "{\"z\": 1, \"y\": 1,\n\"y\": 1,\n\"z\": 1}",
	    "line 2: y: duplicate key (first on line 1)" },
	{ "{\"a\": {\"q\": 1, \"q\": 1}, \"a\": 2}",
	    "line 1: a.q: duplicate key" },
	/* not an object */
	{ "[1, 2]", "the top level must be a JSON object" },
	{ "\"config\"", "the top level must be a JSON object" },
	{ "null", "the top level must be a JSON object" },
	{ "42", "the top level must be a JSON object" },
	/* required keys */
	{ "{" KEYP ", " MTLS ", " P1("") "}",
	    "intermediate_cert_path: missing (required)" },
	{ "{" CERT ", " MTLS ", " P1("") "}",
	    "intermediate_private_key_label_in_pkcs11: missing (required, "
	    "or set intermediate_private_key_path)" },
	{ "{" CERT ", " LABEL ", " PIN ", " P1("") "}",
	    "pkcs11_library: missing (required with "
	    "intermediate_private_key_label_in_pkcs11)" },
	{ "{" CERT ", " LABEL ", " P11LIB ", " P1("") "}",
	    "pkcs11_library_pin: missing (required with "
	    "intermediate_private_key_label_in_pkcs11)" },
	{ DOC("\"port\": 8088"),
	    "end_certificate_config_<N>: missing (at least one block" },
	{ "{" BASE "}",
	    "end_certificate_config_<N>: missing (at least one block" },
	/* string types */
	{ "{" KEYP ", " MTLS ", " P1("") ", \"intermediate_cert_path\": 5}",
	    "intermediate_cert_path: expected a string" },
	{ "{\"intermediate_cert_path\": \"\", " KEYP ", " P1("") "}",
	    "intermediate_cert_path: must not be empty" },
	{ "{\"intermediate_cert_path\": \"a\\u0000b\", " KEYP ", " P1("") "}",
	    "intermediate_cert_path: contains a NUL character" },
	{ "{" CERT ", " KEYP ", " P1("") ", \"mtls_ca_cert\": null}",
	    "mtls_ca_cert: expected a string" },
	{ DOC(P1("") ", \"pkcs11_library_pin\": 1234"),
	    "pkcs11_library_pin: expected a string" },
	{ DOC(P1("") ", \"ledger_db_path\": \"\""),
	    "ledger_db_path: must not be empty" },
	{ DOC(P1("") ", \"issued_certs_dir\": [\"/x\"]"),
	    "issued_certs_dir: expected a string" },
	{ DOC(P1("") ", \"encryption_key_file_path\": false"),
	    "encryption_key_file_path: expected a string" },
	/* seed scalars and blocks */
	{ DOC(P1("") ", \"new_intermediate_cert\": \"true\""),
	    "new_intermediate_cert: expected true or false" },
	{ DOC(P1("") ", \"port\": \"8088\""),
	    "port: expected an integer from 1 to 65535" },
	{ DOC(P1("") ", \"port\": 0"),
	    "port: expected an integer from 1 to 65535" },
	{ DOC(P1("") ", \"port\": 65536"),
	    "port: expected an integer from 1 to 65535" },
	{ DOC(P1("") ", \"intermediate_cert_config\": \"SHA256\""),
	    "intermediate_cert_config: expected an object" },
	{ DOC(P1("") ", \"device_cert_config\": []"),
	    "device_cert_config: expected an object" },
	{ DOC(P1("") ", \"certificateRenewal_config\": true"),
	    "certificateRenewal_config: expected an object" },
	{ DOC(P1("") ", \"mtls_server_cert_config\": null"),
	    "mtls_server_cert_config: expected an object" },
	{ DOC(P1("") ", \"mtls_client_auth_cert_config\": 1"),
	    "mtls_client_auth_cert_config: expected an object" },
	{ DOC(P1("") ", \"discover_certificate_config\": \"x\""),
	    "discover_certificate_config: expected an object" },
	/* the scan keys (microca) */
	{ DSC("\"scan_paths\": \"/etc\""),
	    "discover_certificate_config.scan_paths: expected an array of "
	    "strings" },
	{ DSC("\"scan_paths\": [\"/etc\", 1]"),
	    "discover_certificate_config.scan_paths[1]: expected a string" },
	{ DSC("\"scan_paths\": [\"\"]"),
	    "discover_certificate_config.scan_paths[0]: must not be empty" },
	{ DSC("\"scan_paths\": [\"etc/ssl\"]"),
	    "discover_certificate_config.scan_paths: \"etc/ssl\" is not an "
	    "absolute path" },
	{ DSC("\"scan_extensions\": [\".pem\"]"),
	    "discover_certificate_config.scan_extensions: \".pem\" is not an "
	    "extension" },
	{ DSC("\"scan_endpoints\": [\"localhost\"]"),
	    "discover_certificate_config.scan_endpoints: \"localhost\" is not "
	    "host:port" },
	{ DSC("\"scan_endpoints\": [\"h:0\"]"),
	    "discover_certificate_config.scan_endpoints: \"h:0\" is not " },
	{ DSC("\"scan_endpoints\": [\"h:65536\"]"),
	    "discover_certificate_config.scan_endpoints: \"h:65536\" is not " },
	{ DSC("\"scan_endpoints\": [\"::1:443\"]"),
	    "discover_certificate_config.scan_endpoints: \"::1:443\" is not " },
	{ DSC("\"scan_endpoints\": [\"[::1]443\"]"),
	    "discover_certificate_config.scan_endpoints: \"[::1]443\" is not " },
	{ DSC("\"scan_endpoints\": [\"a b:443\"]"),
	    "discover_certificate_config.scan_endpoints: \"a b:443\" is not " },
	{ DSC("\"scan_max_file_size\": 0"),
	    "discover_certificate_config.scan_max_file_size: expected an "
	    "integer from 1 to 2147483647" },
	{ DSC("\"scan_endpoint_timeout_seconds\": 301"),
	    "discover_certificate_config.scan_endpoint_timeout_seconds: "
	    "expected an integer from 1 to 300" },
	{ DSC("\"upload_batch_size\": 201"),
	    "discover_certificate_config.upload_batch_size: expected an "
	    "integer from 1 to 200" },
	{ DSC("\"scan_p12_passwords\": [null]"),
	    "discover_certificate_config.scan_p12_passwords[0]: expected a "
	    "string" },
	{ DOC(P1("") ", \"mtls_azure_device_registration\": [1]"),
	    "mtls_azure_device_registration: expected an object" },
	/* the cron blocks, typed (tables 2-8) */
	{ RNW("\"isRenewalOfCertificatesRequired\": \"yes\""),
	    "certificateRenewal_config.isRenewalOfCertificatesRequired: "
	    "expected true or false" },
	{ RNW("\"renewal_check_interval_time_in_minutes\": 0"),
	    "certificateRenewal_config.renewal_check_interval_time_in_minutes: "
	    "expected an integer from 1 to 525600" },
	{ RNW("\"renewal_check_interval_time_in_minutes\": \"60\""),
	    "certificateRenewal_config.renewal_check_interval_time_in_minutes: "
	    "expected an integer from 1 to 525600" },
	{ RNW("\"isRenewalOfCertificatesRequired\": true"),
	    "certificateRenewal_config.appviewx_hostname: missing (required "
	    "with isRenewalOfCertificatesRequired true)" },
	{ RNW("\"isRenewalOfCertificatesRequired\": true, "
	    "\"appviewx_hostname\": \"avx\", \"est_agent_setting_name\": \"a\""),
	    "certificateRenewal_config.port: missing (required with "
	    "isRenewalOfCertificatesRequired true)" },
	{ RNW("\"port\": \"<Port>\""),
	    "certificateRenewal_config.port: expected a port from 1 to 65535 "
	    "(a number or a string of digits)" },
	{ RNW("\"port\": \"0443\""), "certificateRenewal_config.port: "
	    "expected a port" },
	{ RNW("\"port\": \" 443\""), "certificateRenewal_config.port: "
	    "expected a port" },
	{ RNW("\"port\": 65536"), "certificateRenewal_config.port: "
	    "expected a port" },
	{ RNW("\"port\": true"), "certificateRenewal_config.port: "
	    "expected a port" },
	{ RNW("\"appviewx_hostname\": 7"),
	    "certificateRenewal_config.appviewx_hostname: expected a string" },
	{ DOC(P1("") ", \"intermediate_cert_config\": {\"use_est\": 1}"),
	    "intermediate_cert_config.use_est: expected true or false" },
	{ DOC(P1("") ", \"intermediate_cert_config\": {\"use_est\": true}"),
	    "intermediate_cert_config.appviewx_hostname: missing (required "
	    "with use_est true)" },
	{ DOC(P1("") ", \"intermediate_cert_config\": {\"key_type\": \"DSA\"}"),
	    "intermediate_cert_config.key_type: \"DSA\" is not a key type" },
	{ DOC(P1("") ", \"intermediate_cert_config\": {\"key_size\": 4096}"),
	    "intermediate_cert_config.key_size: needs key_type" },
	{ DOC(P1("") ", \"intermediate_cert_config\": {\"key_type\": \"RSA\", "
	    "\"key_size\": 1024}"),
	    "intermediate_cert_config.key_size: expected an integer from 2048 "
	    "to 8192 for RSA" },
	{ DOC(P1("") ", \"intermediate_cert_config\": {\"key_type\": \"RSA\", "
	    "\"key_size\": 16384}"),
	    "intermediate_cert_config.key_size: expected an integer from 256 "
	    "to 8192" },
	{ DOC(P1("") ", \"device_cert_config\": {\"key_type\": \"ECC\", "
	    "\"key_size\": 512}"),
	    "device_cert_config.key_size: expected 256, 384 or 521 for ECC" },
	{ DOC(P1("") ", \"device_cert_config\": {\"hash_function\": \"MD5\"}"),
	    "device_cert_config.hash_function: \"MD5\" is not supported" },
	{ DOC(P1("") ", \"device_cert_config\": {\"is_device_cert_required\": "
	    "true, \"appviewx_hostname\": \"a\", \"port\": 1}"),
	    "device_cert_config.est_agent_setting_name: missing (required with "
	    "is_device_cert_required true)" },
	{ DOC(P1("") ", \"device_cert_config\": {\"common_name\": \"\"}"),
	    "device_cert_config.common_name: must not be empty" },
	{ DOC(P1("") ", \"device_cert_config\": "
	    "{\"reenrollment_trigger_before_no_of_days_of_expiry\": 0}"),
	    "device_cert_config.reenrollment_trigger_before_no_of_days_of_expiry"
	    ": expected an integer from 1 to 36500" },
	{ DOC(P1("") ", \"device_cert_config\": "
	    "{\"device_cert_path\": \"/d.pem\"}"),
	    "device_cert_config.device_key_path: missing (required with "
	    "device_cert_path, or set device_key_label)" },
	{ DOC(P1("") ", \"device_cert_config\": "
	    "{\"device_key_path\": \"/d.key\"}"),
	    "device_cert_config.device_cert_path: missing (required with "
	    "device_key_path)" },
	{ DOC(P1("") ", \"device_cert_config\": "
	    "{\"device_cert_path\": \"/d.pem\", \"device_key_path\": "
	    "\"/d.key\", \"device_key_label\": \"dev\"}"),
	    "device_cert_config.device_key_path: not with device_key_label "
	    "(the key is in the token or in a file)" },
	{ DOC(P1("") ", \"device_cert_config\": "
	    "{\"device_cert_path\": \"/d.pem\", \"device_key_label\": "
	    "\"dev\"}"),
	    "pkcs11_library: missing (required with "
	    "device_cert_config.device_key_label)" },
	{ "{" CERT ", " MTLS ", " LABEL ", " P11LIB ", " PIN ", " P1("") ", "
	    "\"device_cert_config\": {\"device_cert_path\": \"/d.pem\", "
	    "\"device_key_label\": \"k\"}, "
	    "\"mtls_client_auth_cert_config\": "
	    "{\"mtls_auth_cert_path\": \"/c.pem\", "
	    "\"is_private_key_label_required\": true, "
	    "\"mtls_auth_key_label\": \"k\"}}",
	    "mtls_server_cert_config: the key labels of mtls_server_cert_config, "
	    "mtls_client_auth_cert_config and device_cert_config must differ" },
	{ DOC(P1("") ", \"device_cert_config\": {\"device_cert_path\": 1}"),
	    "device_cert_config.device_cert_path: expected a string" },
	{ DOC(P1("") ", \"mtls_server_cert_config\": {}"),
	    "mtls_server_cert_config.mtls_server_cert_path: missing "
	    "(required)" },
	{ DOC(P1("") ", \"mtls_server_cert_config\": "
	    "{\"mtls_server_cert_path\": \"/s.pem\"}"),
	    "mtls_server_cert_config.mtls_server_key_path: missing (required "
	    "with is_private_key_label_required false)" },
	{ DOC(P1("") ", \"mtls_server_cert_config\": "
	    "{\"mtls_server_cert_path\": \"/s.pem\", \"mtls_server_key_path\": "
	    "\"/s.key\", \"trigger_server_restart_script\": [\"/x\"]}"),
	    "mtls_server_cert_config.trigger_server_restart_script: expected a "
	    "string" },
	{ DOC(P1("") ", \"mtls_client_auth_cert_config\": "
	    "{\"mtls_auth_cert_path\": \"/c.pem\", "
	    "\"is_private_key_label_required\": true}"),
	    "mtls_client_auth_cert_config.mtls_auth_key_label: missing "
	    "(required with is_private_key_label_required true)" },
	{ DOC(P1("") ", \"mtls_client_auth_cert_config\": "
	    "{\"mtls_auth_cert_path\": \"/c.pem\", "
	    "\"is_private_key_label_required\": true, "
	    "\"mtls_auth_key_label\": \"k\"}"),
	    "pkcs11_library: missing (required with "
	    "is_private_key_label_required true)" },
	{ DOC(P1("") ", \"discover_certificate_config\": "
	    "{\"is_discovery_required\": true, \"groupName\": \"g\", " UP "}"),
	    "discover_certificate_config.discovery_name: missing (required "
	    "with is_discovery_required true)" },
	{ DOC(P1("") ", \"discover_certificate_config\": "
	    "{\"groupName\": 5}"),
	    "discover_certificate_config.groupName: expected a string" },
	{ DOC(P1("") ", \"discover_certificate_config\": "
	    "{\"scan_interval_time_in_minutes\": 525601}"),
	    "discover_certificate_config.scan_interval_time_in_minutes: "
	    "expected an integer from 1 to 525600" },
	{ DOC(P1("") ", \"mtls_azure_device_registration\": "
	    "{\"poll_count\": 0}"),
	    "mtls_azure_device_registration.poll_count: expected an integer "
	    "from 1 to 1000" },
	{ DOC(P1("") ", \"mtls_azure_device_registration\": "
	    "{\"poll_interval\": \"3\"}"),
	    "mtls_azure_device_registration.poll_interval: expected an integer "
	    "from 1 to 3600" },
	{ DOC(P1("") ", \"mtls_azure_device_registration\": "
	    "{\"azure_account\": \"\"}"),
	    "mtls_azure_device_registration.azure_account: must not be empty" },
	{ DOC(P1("") ", \"mtls_azure_device_registration\": "
	    "{\"azure_device_registration_workflow\": null}"),
	    "mtls_azure_device_registration.azure_device_registration_workflow: "
	    "expected a string" },
	/* hash_function */
	{ DOC(P1("") ", \"intermediate_cert_config\": "
	    "{\"hash_function\": \"MD5\"}"),
	    "intermediate_cert_config.hash_function: \"MD5\" is not "
	    "supported" },
	{ DOC(P1("") ", \"intermediate_cert_config\": "
	    "{\"hash_function\": 256}"),
	    "intermediate_cert_config.hash_function: expected a string" },
	/* our top-level keys */
	{ DOC(P1("") ", \"ledger_synchronous\": \"OFF\""),
	    "ledger_synchronous: \"OFF\": expected \"FULL\" or \"NORMAL\"" },
	{ DOC(P1("") ", \"ledger_synchronous\": true"),
	    "ledger_synchronous: expected a string" },
	{ DOC(P1("") ", \"issued_certs_synchronous\": \"NORMAL\""),
	    "issued_certs_synchronous: \"NORMAL\": expected \"FULL\" or "
	    "\"OFF\"" },
	{ DOC(P1("") ", \"issued_certs_synchronous\": false"),
	    "issued_certs_synchronous: expected a string" },
	{ DOC(P1("") ", \"refusals_keep_days\": 0"),
	    "refusals_keep_days: expected an integer from 1 to 36500" },
	{ DOC(P1("") ", \"refusals_keep_days\": \"30\""),
	    "refusals_keep_days: expected an integer from 1 to 36500" },
	{ DOC(P1("") ", \"refusals_per_minute_max\": -1"),
	    "refusals_per_minute_max: expected an integer from 0 to 1000000" },
	{ DOC(P1("") ", \"refusals_per_minute_max\": 1.5"),
	    "refusals_per_minute_max: expected an integer from 0 to 1000000" },
	{ DOC(P1("") ", \"default_end_point_name\": \"nope\""),
	    "default_end_point_name: \"nope\" is not the end_point_name of "
	    "any end_certificate_config_<N> block" },
	/* RFC 5280 4.2.1.3 (the seed's own profile 3 breaks it) */
	{ DOC(P1(", \"key_usage\": {\"key_cert_sign\": true}")),
	    "end_certificate_config_1.key_usage.key_cert_sign: needs is_ca "
	    "true (RFC 5280 4.2.1.3)" },
	/* block names */
	{ DOC(P1("") ", \"end_certificate_config_x\": {}"),
	    "end_certificate_config_x: the suffix must be a positive decimal "
	    "integer" },
	{ DOC(P1("") ", \"end_certificate_config_0\": {}"),
	    "end_certificate_config_0: the suffix must be" },
	{ DOC(P1("") ", \"end_certificate_config_01\": {}"),
	    "end_certificate_config_01: the suffix must be" },
	{ DOC(P1("") ", \"end_certificate_config_\": {}"),
	    "end_certificate_config_: the suffix must be" },
	{ DOC(P1("") ", \"end_certificate_config_-2\": {}"),
	    "end_certificate_config_-2: the suffix must be" },
	{ DOC(P1("") ", \"end_certificate_config_99999999999\": {}"),
	    "end_certificate_config_99999999999: the suffix must be" },
	{ DOC("\"end_certificate_config_1\": []"),
	    "end_certificate_config_1: expected an object" },
	{ DOC("\"end_certificate_config_1\": null"),
	    "end_certificate_config_1: expected an object" },
	/* end_point_name */
	{ DOC("\"end_certificate_config_1\": {\"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: missing (required)" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": 1, "
	    "\"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: expected a string" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"\", "
	    "\"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: must not be empty" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"a/b\", "
	    "\"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \"a/b\" is not a valid "
	    "EST label" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"a b\", "
	    "\"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \"a b\" is not a valid "
	    "EST label" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"..\", "
	    "\"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \"..\" is not a valid "
	    "EST label" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \".dev\", "
	    "\"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \".dev\" is not a valid "
	    "EST label" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": "
	    "\"d\\u00e9v\", \"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \"d??v\" is not a valid "
	    "EST label" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": "
	    "\"a123456789b123456789c123456789d123456789e123456789f123456789"
	    "g1234\", \"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \"a123456789b" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": "
	    "\"simpleenroll\", \"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \"simpleenroll\" is an "
	    "EST operation name" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": "
	    "\"CACerts\", \"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \"CACerts\" is an "
	    "EST operation name" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": "
	    "\"fullcmc\", \"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \"fullcmc\" is an EST "
	    "operation name" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": "
	    "\"csrattrs\", \"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \"csrattrs\" is an EST "
	    "operation name" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": "
	    "\"serverkeygen\", \"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \"serverkeygen\" is an "
	    "EST operation name" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": "
	    "\"simplereenroll\", \"validity_in_days\": 3}"),
	    "end_certificate_config_1.end_point_name: \"simplereenroll\" is an "
	    "EST operation name" },
	/* two blocks, one label; reported on the higher N */
	{ DOC("\"end_certificate_config_3\": {\"end_point_name\": \"device\", "
	    "\"validity_in_days\": 3}, " P1("")),
	    "end_certificate_config_3.end_point_name: \"device\" is already "
	    "used by end_certificate_config_1" },
	/* validity_in_days */
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\"}"),
	    "end_certificate_config_1.validity_in_days: missing (required "
	    "unless is_unlimited_validity is true)" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"is_unlimited_validity\": false}"),
	    "end_certificate_config_1.validity_in_days: missing" },
	{ DOC(P1("") ", " "\"end_certificate_config_2\": {\"end_point_name\": "
	    "\"u\", \"validity_in_days\": 0}"),
	    "end_certificate_config_2.validity_in_days: expected an integer "
	    "from 1 to 36500" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"validity_in_days\": 36501}"),
	    "end_certificate_config_1.validity_in_days: expected an integer "
	    "from 1 to 36500" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"validity_in_days\": -30}"),
	    "end_certificate_config_1.validity_in_days: expected an integer" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"validity_in_days\": \"30\"}"),
	    "end_certificate_config_1.validity_in_days: expected an integer" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"validity_in_days\": 30.5}"),
	    "end_certificate_config_1.validity_in_days: expected an integer" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"validity_in_days\": 3e1}"),
	    "end_certificate_config_1.validity_in_days: expected an integer" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"validity_in_days\": 18446744073709551646}"),
	    "end_certificate_config_1.validity_in_days: expected an integer" },
	{ DOC("\"end_certificate_config_1\": {\"end_point_name\": \"d\", "
	    "\"validity_in_days\": null, \"is_unlimited_validity\": true}"),
	    "end_certificate_config_1.validity_in_days: expected an integer" },
	/* booleans */
	{ DOC(P1(", \"is_device_cert\": \"true\"")),
	    "end_certificate_config_1.is_device_cert: expected true or false" },
	{ DOC(P1(", \"is_ca\": 1")),
	    "end_certificate_config_1.is_ca: expected true or false" },
	{ DOC(P1(", \"is_unlimited_validity\": null")),
	    "end_certificate_config_1.is_unlimited_validity: expected true or "
	    "false" },
	/* extended_key_usage_list */
	{ DOC(P1(", \"extended_key_usage_list\": \"1.3.6.1.5.5.7.3.1\"")),
	    "end_certificate_config_1.extended_key_usage_list: expected an "
	    "array of OID strings" },
	{ DOC(P1(", \"extended_key_usage_list\": null")),
	    "end_certificate_config_1.extended_key_usage_list: expected an "
	    "array" },
	{ DOC(P1(", \"extended_key_usage_list\": [\"1.3.6.1.5.5.7.3.1\", "
	    "\"serverAuth\"]")),
	    "end_certificate_config_1.extended_key_usage_list[1]: "
	    "\"serverAuth\" is not a dotted OID" },
	{ DOC(P1(", \"extended_key_usage_list\": [\" 1.3.6.1\"]")),
	    "end_certificate_config_1.extended_key_usage_list[0]: "
	    "\" 1.3.6.1\" is not a dotted OID" },
	{ DOC(P1(", \"extended_key_usage_list\": [\"1.3..6\"]")),
	    "end_certificate_config_1.extended_key_usage_list[0]: "
	    "\"1.3..6\" is not a dotted OID" },
	{ DOC(P1(", \"extended_key_usage_list\": [\"1.3.6.\"]")),
	    "end_certificate_config_1.extended_key_usage_list[0]: "
	    "\"1.3.6.\" is not a dotted OID" },
	{ DOC(P1(", \"extended_key_usage_list\": [\".1.3.6\"]")),
	    "end_certificate_config_1.extended_key_usage_list[0]: "
	    "\".1.3.6\" is not a dotted OID" },
	{ DOC(P1(", \"extended_key_usage_list\": [\"1.3.06\"]")),
	    "end_certificate_config_1.extended_key_usage_list[0]: "
	    "\"1.3.06\" is not a dotted OID" },
	{ DOC(P1(", \"extended_key_usage_list\": [\"1.50.6\"]")),
	    "end_certificate_config_1.extended_key_usage_list[0]: "
	    "\"1.50.6\" is not a dotted OID" },
	{ DOC(P1(", \"extended_key_usage_list\": [\"7.1\"]")),
	    "end_certificate_config_1.extended_key_usage_list[0]: \"7.1\" "
	    "is not a dotted OID" },
	{ DOC(P1(", \"extended_key_usage_list\": [\"1\"]")),
	    "end_certificate_config_1.extended_key_usage_list[0]: \"1\" "
	    "is not a dotted OID" },
	{ DOC(P1(", \"extended_key_usage_list\": [1.3]")),
	    "end_certificate_config_1.extended_key_usage_list[0]: expected a "
	    "string" },
	{ DOC(P1(", \"extended_key_usage_list\": [\"\"]")),
	    "end_certificate_config_1.extended_key_usage_list[0]: must not be "
	    "empty" },
	/* key_usage */
	{ DOC(P1(", \"key_usage\": [\"crl_sign\"]")),
	    "end_certificate_config_1.key_usage: expected an object" },
	{ DOC(P1(", \"key_usage\": {\"crl_sign\": \"yes\"}")),
	    "end_certificate_config_1.key_usage.crl_sign: expected true or "
	    "false" },
	{ DOC(P1(", \"key_usage\": {\"digital_signature\": 1}")),
	    "end_certificate_config_1.key_usage.digital_signature: expected "
	    "true or false" },
	/* path_length_constraint */
	{ DOC(P1(", \"path_length_constraint\": -1")),
	    "end_certificate_config_1.path_length_constraint: expected an "
	    "integer from 0 to 255" },
	{ DOC(P1(", \"path_length_constraint\": 256")),
	    "end_certificate_config_1.path_length_constraint: expected an "
	    "integer from 0 to 255" },
	{ DOC(P1(", \"path_length_constraint\": \"3\"")),
	    "end_certificate_config_1.path_length_constraint: expected an "
	    "integer" },
	/* base64_line_length */
	{ DOC(P1(", \"base64_line_length\": 63")),
	    "end_certificate_config_1.base64_line_length: expected 0 (one "
	    "line) or a multiple of 4 from 4 to 4096" },
	{ DOC(P1(", \"base64_line_length\": 4100")),
	    "end_certificate_config_1.base64_line_length: expected 0" },
	{ DOC(P1(", \"base64_line_length\": -4")),
	    "end_certificate_config_1.base64_line_length: expected 0" },
	{ DOC(P1(", \"base64_line_length\": \"64\"")),
	    "end_certificate_config_1.base64_line_length: expected 0" },
	/* key_type, key_size */
	{ DOC(P1(", \"key_type\": \"DSA\"")),
	    "end_certificate_config_1.key_type: \"DSA\" is not a key type" },
	{ DOC(P1(", \"key_type\": 1")),
	    "end_certificate_config_1.key_type: expected a string" },
	{ DOC(P1(", \"key_size\": 2048")),
	    "end_certificate_config_1.key_size: needs key_type" },
	{ DOC(P1(", \"key_type\": \"RSA\", \"key_size\": 1024")),
	    "end_certificate_config_1.key_size: expected an integer from 2048 "
	    "to 8192" },
	{ DOC(P1(", \"key_type\": \"RSA\", \"key_size\": 8193")),
	    "end_certificate_config_1.key_size: expected an integer from 2048 "
	    "to 8192" },
	{ DOC(P1(", \"key_type\": \"RSA\", \"key_size\": \"2048\"")),
	    "end_certificate_config_1.key_size: expected an integer" },
	{ DOC(P1(", \"key_type\": \"ECC\", \"key_size\": 255")),
	    "end_certificate_config_1.key_size: expected 256, 384 or 521" },
	{ DOC(P1(", \"key_type\": \"EC\", \"key_size\": 2048")),
	    "end_certificate_config_1.key_size: expected 256, 384 or 521" },
	{ DOC(P1(", \"key_type\": \"ECC\", \"key_size\": null")),
	    "end_certificate_config_1.key_size: expected 256, 384 or 521" },
	/* server_key_type, server_key_size */
	{ DOC(P1(", \"server_key_type\": \"DSA\"")),
	    "end_certificate_config_1.server_key_type: \"DSA\" is not a key "
	    "type (\"RSA\" or \"ECC\")" },
	{ DOC(P1(", \"server_key_type\": 1")),
	    "end_certificate_config_1.server_key_type: expected a string" },
	{ DOC(P1(", \"server_key_type\": \"\"")),
	    "end_certificate_config_1.server_key_type: must not be empty" },
	{ DOC(P1(", \"server_key_size\": 1024")),
	    "end_certificate_config_1.server_key_size: expected 2048, 3072 or "
	    "4096 (server keys are RSA)" },
	{ DOC(P1(", \"server_key_type\": \"RSA\", \"server_key_size\": 8192")),
	    "end_certificate_config_1.server_key_size: expected 2048, 3072 or "
	    "4096 (server keys are RSA)" },
	{ DOC(P1(", \"server_key_type\": \"RSA\", \"server_key_size\": 256")),
	    "end_certificate_config_1.server_key_size: expected 2048, 3072 or "
	    "4096 (server keys are RSA)" },
	{ DOC(P1(", \"server_key_size\": \"2048\"")),
	    "end_certificate_config_1.server_key_size: expected 2048, 3072 or "
	    "4096" },
	{ DOC(P1(", \"server_key_size\": null")),
	    "end_certificate_config_1.server_key_size: expected 2048, 3072 or "
	    "4096" },
	{ DOC(P1(", \"server_key_type\": \"ECC\", \"server_key_size\": 2048")),
	    "end_certificate_config_1.server_key_size: expected 256 or 384 "
	    "(server keys are ECC)" },
	{ DOC(P1(", \"server_key_type\": \"ECC\", \"server_key_size\": 521")),
	    "end_certificate_config_1.server_key_size: expected 256 or 384 "
	    "(server keys are ECC)" },
	{ DOC(P1(", \"server_key_type\": \"EC\", \"server_key_size\": -256")),
	    "end_certificate_config_1.server_key_size: expected 256 or 384" },
	/* the type comes from key_type when server_key_type is not set */
	{ DOC(P1(", \"key_type\": \"ECC\", \"server_key_size\": 2048")),
	    "end_certificate_config_1.server_key_size: expected 256 or 384 "
	    "(server keys are ECC)" },
	{ DOC(P1("") ", " P2(", \"server_key_size\": 4097")),
	    "end_certificate_config_2.server_key_size: expected 2048" },
	/* rollover_cert_path */
	{ DOC(P1("") ", \"rollover_cert_path\": 5"),
	    "rollover_cert_path: expected a string" },
	{ DOC(P1("") ", \"rollover_cert_path\": \"\""),
	    "rollover_cert_path: must not be empty" },
	{ DOC(P1("") ", \"rollover_cert_path\": [\"/a.pem\"]"),
	    "rollover_cert_path: expected a string" },
	/* microca-renew's keys */
	{ DOC(P1("") ", \"upstream_connect_timeout_seconds\": 0"),
	    "upstream_connect_timeout_seconds: expected an integer from 1 to "
	    "300" },
	{ DOC(P1("") ", \"upstream_connect_timeout_seconds\": 301"),
	    "upstream_connect_timeout_seconds: expected an integer from 1 to "
	    "300" },
	{ DOC(P1("") ", \"upstream_timeout_seconds\": 3601"),
	    "upstream_timeout_seconds: expected an integer from 1 to 3600" },
	{ DOC(P1("") ", \"upstream_timeout_seconds\": \"60\""),
	    "upstream_timeout_seconds: expected an integer from 1 to 3600" },
	{ DOC(P1("") ", \"intermediate_cert_config\": {\"rekey\": \"no\"}"),
	    "intermediate_cert_config.rekey: expected true or false" },
	{ DOC(P1("") ", \"upstream_ca_cert\": \"\""),
	    "upstream_ca_cert: must not be empty" },
	{ DOC(P1("") ", \"device_cert_config\": {\"upstream_ca_cert\": 1}"),
	    "device_cert_config.upstream_ca_cert: expected a string" },
	{ DOC(P1("") ", \"intermediate_cert_config\": "
	    "{\"upstream_username\": \"u\"}"),
	    "intermediate_cert_config.upstream_password: missing (required "
	    "with upstream_username)" },
	{ RNW("\"upstream_password\": \"p\""),
	    "certificateRenewal_config.upstream_username: missing (required "
	    "with upstream_password)" },
	{ DOC(P1("") ", \"upstream_username\": \"a:b\", "
	    "\"upstream_password\": \"p\""),
	    "upstream_username: must not contain ':' (RFC 7617 2)" },
	{ DOC(P1("") ", \"upstream_password\": \"p\""),
	    "upstream_username: missing (required with upstream_password)" },
	{ DOC(P1("") ", \"mtls_server_cert_config\": "
	    "{\"mtls_server_cert_path\": \"/s.pem\", \"mtls_server_key_path\": "
	    "\"/s.key\", \"restart_script_timeout_seconds\": 0}"),
	    "mtls_server_cert_config.restart_script_timeout_seconds: expected "
	    "an integer from 1 to 3600" },
};

START_TEST(test_bad)
{
	tu_cfg_assert_refused(bad[_i].json, bad[_i].msg, _i);
}
END_TEST

/* Cases built at run time: lengths and counts at their caps. */
START_TEST(test_caps)
{
	struct mca_buf	 b = MCA_BUF_INIT, s = MCA_BUF_INIT;
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	size_t		 i;

	/* A string of 4096 bytes is fine, 4097 is not. */
	for (i = 0; i < 4096; i++)
		ck_assert_int_eq(mca_buf_addc(&s, 'a'), 0);
	ck_assert_int_eq(mca_buf_printf(&b, DOC(P1("") ", \"ledger_db_path\": "
	    "\"/%s\""), mca_buf_str(&s) + 1), 0);
	ck_assert_msg(tu_cfg_parse(mca_buf_str(&b), &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_uint_eq(strlen(cfg->ledger_db_path), 4096);
	mca_cfg_free(cfg);
	mca_buf_reset(&b);
	ck_assert_int_eq(mca_buf_printf(&b, DOC(P1("") ", \"ledger_db_path\": "
	    "\"/%s\""), mca_buf_str(&s)), 0);
	ck_assert_int_eq(tu_cfg_parse(mca_buf_str(&b), &cfg, &d),
	    MCA_ERR_CONFIG);
	ck_assert_str_eq(d.msg, PATH ": ledger_db_path: longer than 4096 "
	    "bytes");
	mca_buf_reset(&b);

	/* 32 EKUs are fine, 33 are not. */
	mca_buf_reset(&s);
	for (i = 0; i < 32; i++)
		ck_assert_int_eq(mca_buf_printf(&s, "%s\"1.2.3.%zu\"",
		    i ? ", " : "", i), 0);
	ck_assert_int_eq(mca_buf_printf(&b, "{" BASE ", " P1(
	    ", \"extended_key_usage_list\": [%s]") "}", mca_buf_str(&s)), 0);
	ck_assert_msg(tu_cfg_parse(mca_buf_str(&b), &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_uint_eq(cfg->profiles[0].neku, 32);
	ck_assert_str_eq(cfg->profiles[0].eku[31], "1.2.3.31");
	mca_cfg_free(cfg);
	mca_buf_reset(&b);
	ck_assert_int_eq(mca_buf_printf(&b, "{" BASE ", " P1(
	    ", \"extended_key_usage_list\": [%s, \"1.2.3.99\"]") "}",
	    mca_buf_str(&s)), 0);
	ck_assert_int_eq(tu_cfg_parse(mca_buf_str(&b), &cfg, &d),
	    MCA_ERR_CONFIG);
	ck_assert_str_eq(d.msg, PATH ": end_certificate_config_1."
	    "extended_key_usage_list: more than 32 entries");
	mca_buf_reset(&b);

	/* 256 profiles are fine, 257 are not. */
	mca_buf_reset(&s);
	for (i = 1; i <= MCA_CFG_MAX_PROFILES; i++)
		ck_assert_int_eq(mca_buf_printf(&s, ", \"end_certificate_"
		    "config_%zu\": {\"end_point_name\": \"p%zu\", "
		    "\"validity_in_days\": 1}", i, i), 0);
	ck_assert_int_eq(mca_buf_printf(&b, "{" BASE "%s}", mca_buf_str(&s)),
	    0);
	ck_assert_msg(tu_cfg_parse(mca_buf_str(&b), &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_uint_eq(cfg->nprofiles, MCA_CFG_MAX_PROFILES);
	ck_assert_str_eq(cfg->profiles[255].name, "p256");
	ck_assert_ptr_eq(mca_cfg_profile(cfg, "p200"), &cfg->profiles[199]);
	mca_cfg_free(cfg);
	mca_buf_reset(&b);
	ck_assert_int_eq(mca_buf_printf(&b, "{" BASE "%s, "
	    "\"end_certificate_config_999\": {\"end_point_name\": \"x\", "
	    "\"validity_in_days\": 1}}", mca_buf_str(&s)), 0);
	ck_assert_int_eq(tu_cfg_parse(mca_buf_str(&b), &cfg, &d),
	    MCA_ERR_CONFIG);
	ck_assert_str_eq(d.msg, PATH ": end_certificate_config_999: more "
	    "than 256 end_certificate_config_<N> blocks");

	mca_buf_free(&b);
	mca_buf_free(&s);
}
END_TEST

/* ---------------------------------------------------------------- warnings */

static const struct {
	const char	*json;
	size_t		 n;		/* how many warnings */
	const char	*msg;		/* one of them, NULL if n == 0 */
} warn[] = {
	{ MIN, 0, NULL },
	{ DOC(P1("") ", \"foo\": 1"), 1,
	    PATH ": unknown key \"foo\" ignored" },
	{ DOC(P1(", \"path_length_constraint\": 2")), 1,
	    PATH ": end_certificate_config_1.path_length_constraint: ignored "
	    "because is_ca is false" },
	{ DOC(P1(", \"key_usage\": {\"encipher_only\": true}")), 1,
	    PATH ": end_certificate_config_1.key_usage: encipher_only/"
	    "decipher_only without key_agreement have no meaning" },
	{ DOC(P1("") ", \"foo\": 1, \"bar\": {}"), 2,
	    PATH ": unknown key \"bar\" ignored" },
	{ DOC(P1("") ", \"end_certificate_config\": {}"), 1,
	    PATH ": unknown key \"end_certificate_config\" ignored" },
	{ DOC(P1("") ", \"a\\nb\\\"c\": 1"), 1,
	    PATH ": unknown key \"a?b?c\" ignored" },
	{ DOC(P1(", \"colour\": \"red\"")), 1,
	    PATH ": unknown key \"end_certificate_config_1.colour\" ignored" },
	{ DOC(P1(", \"key_usage\": {\"crl_sign\": true, \"sign_all\": 1}")),
	    1, PATH ": unknown key \"end_certificate_config_1.key_usage."
	    "sign_all\" ignored" },
	/* Inside the seed's blocks, as everywhere. */
	{ DOC(P1("") ", \"device_cert_config\": {\"anything\": 1}"), 1,
	    PATH ": unknown key \"device_cert_config.anything\" ignored" },
	{ DOC(P1("") ", \"mtls_azure_device_registration\": {\"poll\": 1, "
	    "\"poll_count\": 2}"), 1,
	    PATH ": unknown key \"mtls_azure_device_registration.poll\" "
	    "ignored" },
	{ "{" CERT ", " KEYP ", " P1("") "}", 1,
	    PATH ": mtls_ca_cert not set: only certificates this CA issued "
	    "can enroll" },
	{ DOC(P1("") ", " LABEL ", " P11LIB ", " PIN), 2,
	    PATH ": intermediate_private_key_path ignored: "
	    "intermediate_private_key_label_in_pkcs11 is set" },
	/* A label whose key rule refuses the keys /serverkeygen makes. */
	{ DOC(P1(", \"key_type\": \"ECC\", \"key_size\": 521")), 1,
	    PATH ": end_certificate_config_1: /serverkeygen makes ECC-256 "
	    "keys, which key_type/key_size refuse in CSRs" },
	{ DOC(P1(", \"key_type\": \"RSA\", \"server_key_type\": \"ECC\"")),
	    1, PATH ": end_certificate_config_1: /serverkeygen makes ECC-256 "
	    "keys, which key_type/key_size refuse in CSRs" },
	{ DOC(P1(", \"key_type\": \"ECC\", \"key_size\": 256, "
	    "\"server_key_size\": 384")), 1,
	    PATH ": end_certificate_config_1: /serverkeygen makes ECC-384 "
	    "keys, which key_type/key_size refuse in CSRs" },
	{ DOC(P1(", \"key_type\": \"ECC\", \"server_key_size\": 384")), 0,
	    NULL },
	{ DOC(P1(", \"key_type\": \"RSA\", \"key_size\": 3072")), 0, NULL },
	/* No file mode from mca_cfg_parse: no permission warning. */
	{ "{" CERT ", " MTLS ", " LABEL ", " P11LIB ", " PIN ", " P1("") "}",
	    1, PATH ": " CLEAR },
};

START_TEST(test_warn)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	size_t		 i;

	ck_assert_msg(tu_cfg_parse(warn[_i].json, &cfg, &d) == 0, "%s", d.msg);
	for (i = 0; i < cfg->nwarnings; i++)
		ck_assert_ptr_null(strchr(cfg->warnings[i], '\n'));
	ck_assert_msg(cfg->nwarnings == warn[_i].n, "case %d: %zu warnings%s%s",
	    _i, cfg->nwarnings, cfg->nwarnings ? ", first: " : "",
	    cfg->nwarnings ? cfg->warnings[0] : "");
	if (warn[_i].msg != NULL)
		ck_assert_msg(has_warning(cfg, warn[_i].msg),
		    "case %d: no warning \"%s\"", _i, warn[_i].msg);
	mca_cfg_free(cfg);
}
END_TEST

START_TEST(test_warn_cap)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	int		 i;

	ck_assert_int_eq(mca_buf_addstr(&b, "{" BASE ", " P1("")), 0);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(mca_buf_printf(&b, ", \"k%d\": 1", i), 0);
	ck_assert_int_eq(mca_buf_addstr(&b, "}"), 0);
	ck_assert_msg(tu_cfg_parse(mca_buf_str(&b), &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_uint_eq(cfg->nwarnings, 64);
	ck_assert_str_eq(cfg->warnings[0], PATH ": unknown key \"k0\" ignored");
	ck_assert_str_eq(cfg->warnings[63], PATH ": further warnings "
	    "suppressed");
	mca_cfg_free(cfg);
	mca_buf_free(&b);
}
END_TEST

/* ---------------------------------------------------------------- files */

/*
 * The PIN warning depends on the file's mode; a PIN in the clear draws
 * the CLEAR warning whatever the mode.
 */
static const struct {
	mode_t		 mode;
	int		 pin;
	int		 warns;
} perm[] = {
	{ 0644, 1, 1 },
	{ 0604, 1, 1 },
	{ 0600, 1, 0 },
	{ 0640, 1, 0 },
	{ 0644, 0, 0 },
};

START_TEST(test_file_perm)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	char		*dir, *path;
	char		 want[1024];

	dir = tu_mkdtemp("cfg");
	ck_assert_int_ne(asprintf(&path, "%s/config.json", dir), -1);
	if (perm[_i].pin)
		ck_assert_int_eq(tu_writef(path, "{" CERT ", " MTLS ", "
		    LABEL ", " P11LIB ", " PIN ", " P1("") "}"), 0);
	else
		ck_assert_int_eq(tu_writef(path, "%s", MIN), 0);
	ck_assert_int_eq(chmod(path, perm[_i].mode), 0);
	ck_assert_msg(mca_cfg_load(path, &cfg, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(cfg->path, path);
	(void)snprintf(want, sizeof(want), "%s: holds pkcs11_library_pin but "
	    "is world-readable; chmod 600 or 640", path);
	ck_assert_int_eq(has_warning(cfg, want), perm[_i].warns);
	ck_assert_int_eq(has_warning(cfg, CLEAR), perm[_i].pin);
	ck_assert_uint_eq(cfg->nwarnings, (size_t)(perm[_i].warns +
	    perm[_i].pin));
	mca_cfg_free(cfg);
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* What mca_cfg_load does with the file itself. */
enum file_case {
	FC_MISSING,
	FC_DIR,
	FC_BIG,
	FC_EXACT,
	FC_NUL,
	FC_SYNTAX,
	FC_NOPERM,
	FC_MAX
};

START_TEST(test_file)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct mca_cfg	*cfg = (struct mca_cfg *)1;
	struct mca_diag	 d;
	char		*dir, *path, want[1024];
	size_t		 len;
	int		 rc, want_rc = MCA_ERR_CONFIG;

	dir = tu_mkdtemp("cfg");
	ck_assert_int_ne(asprintf(&path, "%s/config.json", dir), -1);
	switch (_i) {
	case FC_MISSING:
		want_rc = MCA_ERR_NOTFOUND;
		(void)snprintf(want, sizeof(want), "%s: No such file or "
		    "directory", path);
		break;
	case FC_DIR:
		ck_assert_int_eq(mkdir(path, 0700), 0);
		want_rc = MCA_ERR_IO;
		(void)snprintf(want, sizeof(want), "%s: not a regular file",
		    path);
		break;
	case FC_BIG:
	case FC_EXACT:
		/*
		 * A valid document padded with spaces to the cap (+1),
		 * made in one piece: a million one-byte appends take
		 * tens of seconds under the sanitizers on a slow machine.
		 */
		len = MCA_CFG_FILE_MAX + (_i == FC_BIG);
		ck_assert_int_eq(mca_buf_reserve(&b, len), 0);
		memset(b.data, ' ', len);
		memcpy(b.data, MIN, strlen(MIN));
		b.len = len;
		b.data[len] = '\0';
		ck_assert_int_eq(tu_write(path, (const char *)b.data, b.len),
		    0);
		want_rc = _i == FC_BIG ? MCA_ERR_TOOBIG : 0;
		(void)snprintf(want, sizeof(want), "%s: larger than 1048576 "
		    "bytes", path);
		break;
	case FC_NUL:
		ck_assert_int_eq(mca_buf_addstr(&b, "{\n" BASE ","), 0);
		ck_assert_int_eq(mca_buf_add(&b, "\n\0", 2), 0);
		ck_assert_int_eq(mca_buf_addstr(&b, P1("") "}"), 0);
		ck_assert_int_eq(tu_write(path, (const char *)b.data, b.len),
		    0);
		(void)snprintf(want, sizeof(want), "%s: line 3: contains a "
		    "NUL byte", path);
		break;
	case FC_SYNTAX:
		ck_assert_int_eq(tu_writef(path, "{\n" BASE ",\n" P1("")
		    ",\n}\n"), 0);
		(void)snprintf(want, sizeof(want), "%s: line 4: invalid JSON",
		    path);
		break;
	case FC_NOPERM:
		if (geteuid() == 0) {
			/* root reads anything: nothing to test here */
			want_rc = 0;
			ck_assert_int_eq(tu_writef(path, "%s", MIN), 0);
			break;
		}
		ck_assert_int_eq(tu_writef(path, "%s", MIN), 0);
		ck_assert_int_eq(chmod(path, 0), 0);
		want_rc = MCA_ERR_IO;
		(void)snprintf(want, sizeof(want), "%s: Permission denied",
		    path);
		break;
	}
	rc = mca_cfg_load(path, &cfg, &d);
	ck_assert_msg(rc == want_rc, "case %d: rc %d, want %d (%s)", _i, rc,
	    want_rc, d.msg);
	if (want_rc == 0) {
		ck_assert_ptr_nonnull(cfg);
		ck_assert_uint_eq(cfg->nprofiles, 1);
		mca_cfg_free(cfg);
	} else {
		ck_assert_ptr_null(cfg);
		ck_assert_msg(strncmp(d.msg, want, strlen(want)) == 0,
		    "case %d: got \"%s\", want \"%s\"", _i, d.msg, want);
	}
	mca_buf_free(&b);
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* conf-examples/config.json is what users copy: it must load cleanly. */
START_TEST(test_example)
{
	struct mca_cfg			*cfg = NULL;
	struct mca_diag			 d;
	const struct mca_profile	*p;
	char				*path;
	size_t				 i;

	ck_assert_int_ne(asprintf(&path, "%s/conf-examples/config.json",
	    tu_srcdir()), -1);
	ck_assert_msg(mca_cfg_load(path, &cfg, &d) == 0, "%s", d.msg);
	/*
	 * Only the mode of the checked-out file, and the demo PIN in the
	 * clear (its token is a SoftHSM one), may draw a warning.
	 */
	for (i = 0; i < cfg->nwarnings; i++)
		ck_assert_msg(strstr(cfg->warnings[i], "world-readable") !=
		    NULL || strstr(cfg->warnings[i], CLEAR) != NULL, "%s",
		    cfg->warnings[i]);
	ck_assert_str_eq(cfg->intermediate_cert_path,
	    "/etc/microca/chain.pem");
	ck_assert_str_eq(cfg->pkcs11_library,
	    "/usr/lib/softhsm/libsofthsm2.so");
	ck_assert_str_eq(cfg->ledger_db_path, "/var/lib/microca/ledger.db");
	ck_assert_uint_eq(cfg->nprofiles, 3);
	ck_assert_ptr_nonnull(p = mca_cfg_profile(cfg, "device"));
	ck_assert_str_eq(cfg->crl_dir, "/var/lib/microca/crl");
	ck_assert_str_eq(p->crl_url, "http://ca.example.net/crl/{keyid}.crl");
	ck_assert_int_eq(p->is_device_cert, 1);
	ck_assert_uint_eq(p->neku, 1);
	ck_assert_str_eq(p->eku[0], "1.3.6.1.5.5.7.3.2");
	/* Each policy key of the README is shown once. */
	ck_assert_uint_eq(p->auth_methods, MCA_AUTH_CERTIFICATE |
	    MCA_AUTH_PASSCODE);
	ck_assert_str_eq(p->mtls_ca_cert,
	    "/etc/microca/device-bootstrap-ca.pem");
	ck_assert_uint_eq(p->nallowed_keys, 2);
	ck_assert_str_eq(p->allowed_keys[1].name, "EC-P-384");
	ck_assert_uint_eq(p->nsubject_rules, 2);
	ck_assert_int_eq(regexec(&p->subject_rules[0].re, "dev-0042", 0, NULL,
	    0), 0);
	ck_assert_ptr_nonnull(p = mca_cfg_profile(cfg, "server"));
	ck_assert_str_eq(p->eku[0], "1.3.6.1.5.5.7.3.1");
	ck_assert_uint_eq(p->auth_methods, MCA_AUTH_REMOTE_USER);
	ck_assert_int_eq(regexec(&p->subject_rules[0].re, "gw-1.site.example.com",
	    0, NULL, 0), 0);
	ck_assert_int_ne(regexec(&p->subject_rules[0].re, "gw-1.example.org",
	    0, NULL, 0), 0);
	ck_assert_ptr_nonnull(p = mca_cfg_profile(cfg, "user"));
	ck_assert_int_eq(p->key_type, MCA_KEYTYPE_RSA);
	ck_assert_uint_eq(p->auth_methods, MCA_AUTH_CERTIFICATE);
	ck_assert_ptr_nonnull(p = mca_cfg_profile(cfg, "user"));
	ck_assert_int_eq(p->server_key_type, MCA_KEYTYPE_RSA);
	ck_assert_int_eq(p->server_key_size, 2048);
	ck_assert_ptr_nonnull(p = mca_cfg_profile(cfg, "device"));
	ck_assert_int_eq(p->server_key_type, MCA_KEYTYPE_EC);
	ck_assert_int_eq(p->server_key_size, 256);
	ck_assert_str_eq(cfg->rollover_cert_path, "/etc/microca/rollover.pem");
	ck_assert_str_eq(mca_cfg_profile(cfg, "")->name, "device");
	/* Every seed block is present, typed. */
	ck_assert_int_eq(cfg->intermediate.present, 1);
	ck_assert_int_eq(cfg->device.present, 1);
	ck_assert_int_eq(cfg->renewal.present, 1);
	ck_assert_int_eq(cfg->renewal.interval_minutes, 1440);
	ck_assert_int_eq(cfg->mtls_server.present, 1);
	ck_assert_int_eq(cfg->mtls_client.present, 1);
	ck_assert_int_eq(cfg->discovery.present, 1);
	ck_assert_int_eq(cfg->discovery.interval_minutes, 30);
	ck_assert_int_eq(cfg->azure.present, 1);
	ck_assert_int_eq(cfg->azure.upstream.port, 443);
	ck_assert_str_eq(cfg->azure.azure_account, "example-azure-account");
	mca_cfg_free(cfg);
	free(path);
}
END_TEST

/* ---------------------------------------------------------------- API */

static const struct {
	const char	*label;
	int		 index;		/* 0: expect NULL */
} lookup[] = {
	{ "", 2 },			/* the default */
	{ "device", 1 },
	{ "user", 2 },
	{ "DEVICE", 0 },		/* labels are case-sensitive */
	{ "nope", 0 },
	{ "devic", 0 },
	{ NULL, 0 },
};

START_TEST(test_profile_lookup)
{
	struct mca_cfg			*cfg = NULL;
	struct mca_diag			 d;
	const struct mca_profile	*p;

	ck_assert_msg(tu_cfg_parse(DOC(P1("") ", " P2("") ", "
	    "\"default_end_point_name\": \"user\""), &cfg, &d) == 0, "%s",
	    d.msg);
	p = mca_cfg_profile(cfg, lookup[_i].label);
	if (lookup[_i].index == 0)
		ck_assert_ptr_null(p);
	else {
		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(p->index, lookup[_i].index);
	}
	ck_assert_ptr_null(mca_cfg_profile(NULL, "device"));
	mca_cfg_free(cfg);
}
END_TEST

START_TEST(test_api_edges)
{
	struct mca_cfg	*cfg = (struct mca_cfg *)1;
	struct mca_diag	 d;
	char		*big;

	mca_cfg_free(NULL);
	ck_assert_int_eq(mca_cfg_parse(PATH, MIN, strlen(MIN), NULL, &d),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_cfg_load(PATH, NULL, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_cfg_load(NULL, &cfg, &d), MCA_ERR_INVAL);
	ck_assert_ptr_null(cfg);
	cfg = (struct mca_cfg *)1;
	ck_assert_int_eq(mca_cfg_parse(PATH, NULL, 5, &cfg, &d),
	    MCA_ERR_INVAL);
	ck_assert_ptr_null(cfg);
	/* d may be NULL. */
	ck_assert_int_eq(mca_cfg_parse(PATH, "[]", 2, &cfg, NULL),
	    MCA_ERR_CONFIG);
	ck_assert_ptr_null(cfg);
	/* A buffer over the cap is refused before parsing. */
	ck_assert_ptr_nonnull(big = malloc(MCA_CFG_FILE_MAX + 1));
	memset(big, ' ', MCA_CFG_FILE_MAX + 1);
	ck_assert_int_eq(mca_cfg_parse(PATH, big, MCA_CFG_FILE_MAX + 1, &cfg,
	    &d), MCA_ERR_TOOBIG);
	ck_assert_str_eq(d.msg, PATH ": larger than 1048576 bytes");
	free(big);
	/* Parsing uses len, not the NUL: a prefix is parsed alone. */
	ck_assert_int_eq(mca_cfg_parse(PATH, MIN "garbage", strlen(MIN), &cfg,
	    &d), 0);
	mca_cfg_free(cfg);
	/* An embedded NUL in the buffer is refused, with its line. */
	ck_assert_int_eq(mca_cfg_parse(PATH, "{\n\n}\0", 5, &cfg, &d),
	    MCA_ERR_CONFIG);
	ck_assert_str_eq(d.msg, PATH ": line 3: contains a NUL byte");
	/* A null path still gives a named message. */
	ck_assert_int_eq(mca_cfg_parse(NULL, "[]", 2, &cfg, &d),
	    MCA_ERR_CONFIG);
	ck_assert_str_eq(d.msg, "config.json: the top level must be a JSON "
	    "object");
	/* A successful parse clears an old message. */
	ck_assert_int_eq(tu_cfg_parse(MIN, &cfg, &d), 0);
	ck_assert_str_eq(d.msg, "");
	mca_cfg_free(cfg);
}
END_TEST

Suite *cfg_suite(void);

Suite *
cfg_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("cfg");

	tc = tcase_create("valid");
	tcase_add_test(tc, test_seed_full);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_sorted);
	tcase_add_loop_test(tc, test_profile_ok, 0, (int)(sizeof(profile_ok) /
	    sizeof(profile_ok[0])));
	tcase_add_loop_test(tc, test_server_key_ok, 0,
	    (int)(sizeof(server_key_ok) / sizeof(server_key_ok[0])));
	tcase_add_test(tc, test_rollover_path);
	tcase_add_loop_test(tc, test_cron_ok, 0, (int)(sizeof(cron_ok) /
	    sizeof(cron_ok[0])));
	tcase_add_test(tc, test_cron_strings);
	tcase_add_test(tc, test_upstream_keys);
	tcase_add_test(tc, test_empty_label);
	tcase_add_loop_test(tc, test_not_dup, 0, (int)(sizeof(not_dup) /
	    sizeof(not_dup[0])));
	tcase_add_loop_test(tc, test_top_ok, 0, (int)(sizeof(top_ok) /
	    sizeof(top_ok[0])));
	tcase_add_loop_test(tc, test_refusal_keys, 0,
	    (int)(sizeof(refusal_keys) / sizeof(refusal_keys[0])));
	tcase_add_loop_test(tc, test_copy_sync, 0, (int)(sizeof(copy_sync) /
	    sizeof(copy_sync[0])));
	tcase_add_loop_test(tc, test_budgets, 0,
	    (int)(sizeof(budgets) / sizeof(budgets[0])));
	tcase_add_loop_test(tc, test_crl_keys, 0,
	    (int)(sizeof(crl_keys) / sizeof(crl_keys[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof(bad) /
	    sizeof(bad[0])));
	tcase_add_test(tc, test_caps);
	suite_add_tcase(s, tc);

	tc = tcase_create("warnings");
	tcase_add_loop_test(tc, test_warn, 0, (int)(sizeof(warn) /
	    sizeof(warn[0])));
	tcase_add_test(tc, test_warn_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_loop_test(tc, test_file_perm, 0, (int)(sizeof(perm) /
	    sizeof(perm[0])));
	tcase_add_loop_test(tc, test_file, 0, FC_MAX);
	tcase_add_test(tc, test_example);
	tcase_add_test(tc, test_discovery_scan);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_loop_test(tc, test_profile_lookup, 0, (int)(sizeof(lookup) /
	    sizeof(lookup[0])));
	tcase_add_test(tc, test_api_edges);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return tu_run(cfg_suite());
}
