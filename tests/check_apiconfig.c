/*
 * APIconfig (lib/cfg_apiconfig.c): the vendor guide's sample (table 1)
 * made valid JSON, the sample as printed (refused, with its line),
 * required keys, wrong types naming the key and the file, duplicate
 * keys, unknown keys, and the secrets: wiped, and never in a message.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "apiconfig.h"
#include "err.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define API_PATH	"/etc/microca/APIconfig"

/* The guide's sample, with numbers and a boolean where it has prose. */
#define SAMPLE \
	"{\n" \
	"\"appviewx_hostname\":\"avx.example.com\",\n" \
	"\"appviewx_port_number\":5003,\n" \
	"\"ca_setting_name\" : \"PKIaaS-setting\",\n" \
	"\"template_name\" : \"SubCA\",\n" \
	"\"issuer_name\": \"Example Root CA\",\n" \
	"\"ca_name\": \"AppViewX\",\n" \
	"\"intermediate_cert_validity_in_days\": 730,\n" \
	"\"appviewx_group_name\" : \"MicroCA\",\n" \
	"\"service_account_client_id\":\"svc-microca\",\n" \
	"\"service_account_client_secret\":\"S3cr3t-Svc\",\n" \
	"\"azurehuburl\" : \"https://hub.azure-devices.net/devices/{}\",\n" \
	"\"azurehubcreds\":\"SharedAccessSignature sr=hub&sig=SIGSAS\",\n" \
	"\"azure_hub_key\": \"HubKeyB64==\",\n" \
	"\"azure_hub_policy_name\": \"registryReadWrite\",\n" \
	"\"azure_token_validity\": 3600,\n" \
	"\"update_azure_iot_hub_from_standalone_server\": true\n" \
	"}\n"

/* The sample as the guide prints it: a typographic quote, prose. */
#define SAMPLE_PRINTED \
	"{\n" \
	"\"appviewx_hostname\":\"<AppViewX-Hostname>\",\n" \
	"\"appviewx_port_number\":<Port-Number of Appviewx>,\n" \
	"\"ca_name\": \"<CA Name>\xe2\x80\x9d,\n" \
	"\"update_azure_iot_hub_from_standalone_server\": true/false\n" \
	"}\n"

static int
parse(const char *json, struct mca_apiconfig **a, struct mca_diag *d)
{
	return mca_apiconfig_parse(API_PATH, json, strlen(json), a, d);
}

START_TEST(test_sample)
{
	struct mca_apiconfig	*a = NULL;
	struct mca_diag		 d;
	int			 rc;

	rc = parse(SAMPLE, &a, &d);
	ck_assert_msg(rc == 0, "%s", d.msg);
	ck_assert_str_eq(a->path, API_PATH);
	ck_assert_str_eq(a->appviewx_hostname, "avx.example.com");
	ck_assert_int_eq(a->appviewx_port_number, 5003);
	ck_assert_str_eq(a->ca_setting_name, "PKIaaS-setting");
	ck_assert_str_eq(a->template_name, "SubCA");
	ck_assert_str_eq(a->issuer_name, "Example Root CA");
	ck_assert_str_eq(a->ca_name, "AppViewX");
	ck_assert_int_eq(a->intermediate_cert_validity_in_days, 730);
	ck_assert_str_eq(a->appviewx_group_name, "MicroCA");
	ck_assert_str_eq(a->service_account_client_id, "svc-microca");
	ck_assert_str_eq(a->service_account_client_secret, "S3cr3t-Svc");
	ck_assert_str_eq(a->azurehuburl,
	    "https://hub.azure-devices.net/devices/{}");
	ck_assert_str_eq(a->azurehubcreds,
	    "SharedAccessSignature sr=hub&sig=SIGSAS");
	ck_assert_str_eq(a->azure_hub_key, "HubKeyB64==");
	ck_assert_str_eq(a->azure_hub_policy_name, "registryReadWrite");
	ck_assert_int_eq(a->azure_token_validity, 3600);
	ck_assert_int_eq(a->update_azure_iot_hub_from_standalone_server, 1);
	ck_assert_uint_eq(a->nwarnings, 0);
	ck_assert_int_eq(mca_apiconfig_require_rest(a, &d), 0);

	/* Once used, the secrets go; twice is harmless. */
	mca_apiconfig_wipe_secrets(a);
	ck_assert_ptr_null(a->service_account_client_secret);
	ck_assert_ptr_null(a->azurehubcreds);
	ck_assert_ptr_null(a->azure_hub_key);
	ck_assert_str_eq(a->service_account_client_id, "svc-microca");
	mca_apiconfig_wipe_secrets(a);
	mca_apiconfig_wipe_secrets(NULL);
	mca_apiconfig_free(a);
	mca_apiconfig_free(NULL);
}
END_TEST

/* microca-azsync's keys: each accepted spelling. */
static const struct {
	const char	*json;
	const char	*field;
	int		 sha256, attempts, backoff;
} azkeys[] = {
	{ "\"azure_device_id_field\": \"CN\", "
	    "\"azure_thumbprint_algorithm\": \"sha1\"", "CN", 0, 50, 3600 },
	{ "\"azure_device_id_field\": \"subject:serialNumber\", "
	    "\"azure_thumbprint_algorithm\": \"sha256\", "
	    "\"azure_max_attempts\": 1, \"azure_backoff_max_seconds\": 1",
	    "subject:serialNumber", 1, 1, 1 },
	{ "\"azure_device_id_field\": \"san:dns\", "
	    "\"azure_hub_ca_cert\": \"/etc/ssl/hub.pem\", "
	    "\"azure_max_attempts\": 100000, "
	    "\"azure_backoff_max_seconds\": 86400", "san:dns", 0, 100000,
	    86400 },
	{ "\"azure_device_id_field\": \"san:uri\"", "san:uri", 0, 50, 3600 },
	{ "\"azure_device_id_field\": \"san:email\"", "san:email", 0, 50,
	    3600 },
	{ "\"azure_device_id_field\": \"subject:O\"", "subject:O", 0, 50,
	    3600 },
};

START_TEST(test_azkeys)
{
	struct mca_apiconfig	*a = NULL;
	struct mca_diag		 d;
	char			 json[1024];

	(void)snprintf(json, sizeof(json), "{\"appviewx_hostname\": \"h\", "
	    "\"appviewx_port_number\": 1, %s}", azkeys[_i].json);
	ck_assert_msg(parse(json, &a, &d) == 0, "case %d: %s", _i, d.msg);
	ck_assert_uint_eq(a->nwarnings, 0);
	ck_assert_str_eq(a->azure_device_id_field, azkeys[_i].field);
	ck_assert_int_eq(a->azure_thumbprint_sha256, azkeys[_i].sha256);
	ck_assert_int_eq(a->azure_max_attempts, azkeys[_i].attempts);
	ck_assert_int_eq(a->azure_backoff_max_seconds, azkeys[_i].backoff);
	mca_apiconfig_free(a);
}
END_TEST

/* The port as a string of digits, as config.json's blocks allow. */
START_TEST(test_minimal)
{
	struct mca_apiconfig	*a = NULL;
	struct mca_diag		 d;

	ck_assert_int_eq(parse("{\"appviewx_hostname\": \"h\", "
	    "\"appviewx_port_number\": \"443\"}", &a, &d), 0);
	ck_assert_int_eq(a->appviewx_port_number, 443);
	/* the defaults */
	ck_assert_int_eq(a->azure_token_validity,
	    MCA_APICONFIG_DEF_TOKEN_VALIDITY);
	ck_assert_int_eq(a->update_azure_iot_hub_from_standalone_server, 0);
	ck_assert_int_eq(a->intermediate_cert_validity_in_days, 0);
	ck_assert_ptr_null(a->ca_name);
	ck_assert_ptr_null(a->azure_hub_ca_cert);
	ck_assert_ptr_null(a->azure_device_id_field);
	ck_assert_ptr_null(a->azure_thumbprint_algorithm);
	ck_assert_int_eq(a->azure_thumbprint_sha256, 0);
	ck_assert_int_eq(a->azure_max_attempts,
	    MCA_APICONFIG_DEF_AZ_MAX_ATTEMPTS);
	ck_assert_int_eq(a->azure_backoff_max_seconds,
	    MCA_APICONFIG_DEF_AZ_BACKOFF_MAX);
	/* enough for EST and Azure over mTLS, not for the AppViewX API */
	ck_assert_int_eq(mca_apiconfig_require_rest(a, &d), MCA_ERR_CONFIG);
	ck_assert_str_eq(d.msg, API_PATH ": service_account_client_id: "
	    "missing (required to enroll through the AppViewX API, use_est "
	    "false)");
	mca_apiconfig_free(a);

	ck_assert_int_eq(parse("{\"appviewx_hostname\": \"h\", "
	    "\"appviewx_port_number\": 1, \"service_account_client_id\": "
	    "\"i\", \"service_account_client_secret\": \"s\", \"ca_name\": "
	    "\"c\", \"ca_setting_name\": \"cs\", \"appviewx_group_name\": "
	    "\"g\"}", &a, &d), 0);
	ck_assert_int_eq(mca_apiconfig_require_rest(a, &d), MCA_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(d.msg,
	    ": intermediate_cert_validity_in_days: missing"));
	mca_apiconfig_free(a);
	ck_assert_int_eq(mca_apiconfig_require_rest(NULL, &d), MCA_ERR_INVAL);
}
END_TEST

/* Refused: the message starts with the file, then the key, then why. */
static const struct {
	const char	*json;
	const char	*msg;
} refused[] = {
	/* required */
	{ "{}", "appviewx_hostname: missing (required)" },
	{ "{\"appviewx_hostname\": \"h\"}",
	    "appviewx_port_number: missing (required)" },
	{ "{\"appviewx_port_number\": 443}",
	    "appviewx_hostname: missing (required)" },
	/* types */
	{ "{\"appviewx_hostname\": 5, \"appviewx_port_number\": 443}",
	    "appviewx_hostname: expected a string" },
	{ "{\"appviewx_hostname\": \"\", \"appviewx_port_number\": 443}",
	    "appviewx_hostname: must not be empty" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": \"x\"}",
	    "appviewx_port_number: expected a port from 1 to 65535" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 65536}",
	    "appviewx_port_number: expected a port from 1 to 65535" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": null}",
	    "appviewx_port_number: expected a port" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"intermediate_cert_validity_in_days\": \"365\"}",
	    "intermediate_cert_validity_in_days: expected an integer from 1 "
	    "to 36500" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"intermediate_cert_validity_in_days\": 0}",
	    "intermediate_cert_validity_in_days: expected an integer" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_token_validity\": 1.5}",
	    "azure_token_validity: expected an integer from 1 to 31536000" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"update_azure_iot_hub_from_standalone_server\": \"true\"}",
	    "update_azure_iot_hub_from_standalone_server: expected true or "
	    "false" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"ca_name\": [\"x\"]}", "ca_name: expected a string" },
	/* rules across keys */
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"service_account_client_id\": \"i\"}",
	    "service_account_client_secret: missing (the service account "
	    "needs both" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"service_account_client_secret\": \"TOPSECRET\"}",
	    "service_account_client_id: missing" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"update_azure_iot_hub_from_standalone_server\": true}",
	    "azurehuburl: missing (required with "
	    "update_azure_iot_hub_from_standalone_server true)" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azurehuburl\": \"u\", "
	    "\"update_azure_iot_hub_from_standalone_server\": true}",
	    "azure_hub_key: missing (required with" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azurehuburl\": \"u\", \"azure_hub_key\": \"TOPSECRET\", "
	    "\"update_azure_iot_hub_from_standalone_server\": true}",
	    "azure_hub_policy_name: missing (required with azure_hub_key)" },
	/* microca-azsync's keys */
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_device_id_field\": \"OU\"}",
	    "azure_device_id_field: expected \"CN\", \"subject:<attribute>\"" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_device_id_field\": \"subject:\"}",
	    "azure_device_id_field: expected" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_device_id_field\": \"subject:noSuchAttribute\"}",
	    "azure_device_id_field: expected" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_device_id_field\": \"san:ip\"}",
	    "azure_device_id_field: expected" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_device_id_field\": \"\"}",
	    "azure_device_id_field: must not be empty" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_thumbprint_algorithm\": \"SHA-1\"}",
	    "azure_thumbprint_algorithm: expected \"sha1\" or \"sha256\"" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_thumbprint_algorithm\": 1}",
	    "azure_thumbprint_algorithm: expected a string" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_hub_ca_cert\": \"hub.pem\"}",
	    "azure_hub_ca_cert: expected an absolute path" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_max_attempts\": 0}",
	    "azure_max_attempts: expected an integer from 1 to 100000" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_max_attempts\": \"5\"}",
	    "azure_max_attempts: expected an integer" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1, "
	    "\"azure_backoff_max_seconds\": 86401}",
	    "azure_backoff_max_seconds: expected an integer from 1 to 86400" },
	/* the document */
	{ "{\"appviewx_hostname\": \"h\",\n\"appviewx_port_number\": 1,\n"
	    "\"appviewx_hostname\": \"TOPSECRET\"}",
	    "line 3: appviewx_hostname: duplicate key (first on line 1)" },
	{ SAMPLE_PRINTED, "line 3: invalid JSON" },
	{ "{\"appviewx_hostname\": \"h\", \"appviewx_port_number\": 1,}",
	    "line 1: invalid JSON" },
	{ "[]", "the top level must be a JSON object" },
	{ "", "line 1: invalid JSON: unexpected end of file" },
};

START_TEST(test_refused)
{
	struct mca_apiconfig	*a = (struct mca_apiconfig *)1;
	struct mca_diag		 d;
	const size_t		 plen = strlen(API_PATH ": ");
	int			 rc;

	rc = parse(refused[_i].json, &a, &d);
	ck_assert_msg(rc == MCA_ERR_CONFIG, "case %d: rc %d (%s)", _i, rc,
	    d.msg);
	ck_assert_ptr_null(a);
	ck_assert_msg(strncmp(d.msg, API_PATH ": ", plen) == 0 &&
	    strstr(d.msg + plen, refused[_i].msg) == d.msg + plen,
	    "case %d: got \"%s\", want \"%s: %s...\"", _i, d.msg, API_PATH,
	    refused[_i].msg);
	ck_assert_ptr_null(strchr(d.msg, '\n'));
	/* no secret value is ever shown */
	ck_assert_ptr_null(strstr(d.msg, "TOPSECRET"));
}
END_TEST

/* A secret of the wrong type is named, its value is not shown. */
START_TEST(test_secret_not_shown)
{
	struct mca_apiconfig	*a = NULL;
	struct mca_diag		 d;

	ck_assert_int_eq(parse("{\"appviewx_hostname\": \"h\", "
	    "\"appviewx_port_number\": 1, \"service_account_client_id\": "
	    "\"i\", \"service_account_client_secret\": 98765}", &a, &d),
	    MCA_ERR_CONFIG);
	ck_assert_str_eq(d.msg, API_PATH ": service_account_client_secret: "
	    "expected a string");
	/* placeholders: warned about by name, without the value */
	ck_assert_int_eq(parse("{\"appviewx_hostname\": \"<AppViewX-Hostname>\", "
	    "\"appviewx_port_number\": 1, \"service_account_client_id\": "
	    "\"i\", \"service_account_client_secret\": \"<TOPSECRET>\", "
	    "\"frobnicate\": 1}", &a, &d), 0);
	ck_assert_uint_eq(a->nwarnings, 3);
	ck_assert_str_eq(a->warnings[0], API_PATH ": unknown key "
	    "\"frobnicate\" ignored");
	ck_assert_str_eq(a->warnings[1], API_PATH ": appviewx_hostname: still "
	    "the sample's placeholder \"<...>\"");
	ck_assert_str_eq(a->warnings[2], API_PATH ": "
	    "service_account_client_secret: still the sample's placeholder "
	    "\"<...>\"");
	mca_apiconfig_free(a);
}
END_TEST

START_TEST(test_load)
{
	struct mca_apiconfig	*a = (struct mca_apiconfig *)1;
	struct mca_diag		 d;
	char			*dir, p[1024];

	dir = tu_mkdtemp("apiconfig");
	(void)snprintf(p, sizeof(p), "%s/APIconfig", dir);
	ck_assert_int_eq(mca_apiconfig_load(p, &a, &d), MCA_ERR_NOTFOUND);
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(strstr(d.msg, p));
	ck_assert_int_eq(tu_writef(p, "%s", SAMPLE), 0);
	ck_assert_int_eq(chmod(p, 0600), 0);
	ck_assert_msg(mca_apiconfig_load(p, &a, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(a->path, p);
	ck_assert_uint_eq(a->nwarnings, 0);
	ck_assert_str_eq(a->azure_hub_key, "HubKeyB64==");
	mca_apiconfig_free(a);
	/* secrets readable by all: a warning */
	ck_assert_int_eq(chmod(p, 0644), 0);
	ck_assert_int_eq(mca_apiconfig_load(p, &a, &d), 0);
	ck_assert_uint_eq(a->nwarnings, 1);
	ck_assert_ptr_nonnull(strstr(a->warnings[0], "holds secrets but is "
	    "world-readable"));
	mca_apiconfig_free(a);
	/* a directory; no output */
	ck_assert_int_eq(mca_apiconfig_load(dir, &a, &d), MCA_ERR_IO);
	ck_assert_ptr_nonnull(strstr(d.msg, "not a regular file"));
	ck_assert_int_eq(mca_apiconfig_load(p, NULL, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_apiconfig_load(NULL, &a, &d), MCA_ERR_INVAL);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

static Suite *
apiconfig_suite(void)
{
	Suite	*s = suite_create("apiconfig");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_sample);
	tcase_add_test(tc, test_minimal);
	tcase_add_loop_test(tc, test_azkeys, 0, NELEM(azkeys));
	tcase_add_loop_test(tc, test_refused, 0, NELEM(refused));
	tcase_add_test(tc, test_secret_not_shown);
	tcase_add_test(tc, test_load);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(apiconfig_suite());
}
