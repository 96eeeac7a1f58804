/*
 * APIconfig (table 1 of the vendor guide), read by the config.json
 * engine of lib/cfg.c. See apiconfig.h.
 */
#include "config.h"

#include <sys/stat.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>

#include "apiconfig.h"
#include "buf.h"
#include "cfg.h"
#include "cfg_int.h"
#include "err.h"

#define API(f)	offsetof(struct mca_apiconfig, f)

static const struct cfg_key cfg_api_keys[] = {
	/* AppViewX */
	CFG_KEY("appviewx_hostname", CFG_T_STR, API(appviewx_hostname),
	    CFG_F_REQUIRED),
	CFG_KEY("appviewx_port_number", CFG_T_PORT, API(appviewx_port_number),
	    CFG_F_REQUIRED),
	CFG_KEY("ca_setting_name", CFG_T_STR, API(ca_setting_name)),
	CFG_KEY("template_name", CFG_T_STR, API(template_name)),
	CFG_KEY("issuer_name", CFG_T_STR, API(issuer_name)),
	CFG_KEY("ca_name", CFG_T_STR, API(ca_name)),
	CFG_KEY("intermediate_cert_validity_in_days", CFG_T_INT,
	    API(intermediate_cert_validity_in_days), .lo = 1,
	    .hi = MCA_APICONFIG_VALIDITY_DAYS_MAX),
	CFG_KEY("appviewx_group_name", CFG_T_STR, API(appviewx_group_name)),
	CFG_KEY("service_account_client_id", CFG_T_STR,
	    API(service_account_client_id)),
	CFG_KEY("service_account_client_secret", CFG_T_STR,
	    API(service_account_client_secret), CFG_F_SECRET),
	/* microca's own (microca-apiconfig(5)): what the guides leave open */
	CFG_KEY("appviewx_gwkey", CFG_T_STR, API(appviewx_gwkey)),
	CFG_KEY("appviewx_token_request", CFG_T_STR,
	    API(appviewx_token_request)),
	CFG_KEY("appviewx_certificate_category", CFG_T_STR,
	    API(appviewx_certificate_category)),
	/* Azure IoT Hub */
	CFG_KEY("azurehuburl", CFG_T_STR, API(azurehuburl)),
	CFG_KEY("azurehubcreds", CFG_T_STR, API(azurehubcreds), CFG_F_SECRET),
	CFG_KEY("azure_hub_key", CFG_T_STR, API(azure_hub_key), CFG_F_SECRET),
	CFG_KEY("azure_hub_policy_name", CFG_T_STR,
	    API(azure_hub_policy_name)),
	CFG_KEY("azure_token_validity", CFG_T_INT, API(azure_token_validity),
	    .lo = 1, .hi = MCA_APICONFIG_TOKEN_VALIDITY_MAX,
	    .def = MCA_APICONFIG_DEF_TOKEN_VALIDITY),
	CFG_KEY("update_azure_iot_hub_from_standalone_server", CFG_T_BOOL,
	    API(update_azure_iot_hub_from_standalone_server)),
	/* microca's own (microca-apiconfig(5)): microca-azsync */
	CFG_KEY("azure_hub_ca_cert", CFG_T_STR, API(azure_hub_ca_cert)),
	CFG_KEY("azure_device_id_field", CFG_T_STR,
	    API(azure_device_id_field)),
	CFG_KEY("azure_thumbprint_algorithm", CFG_T_STR,
	    API(azure_thumbprint_algorithm)),
	CFG_KEY("azure_max_attempts", CFG_T_INT, API(azure_max_attempts),
	    .lo = 1, .hi = MCA_APICONFIG_AZ_MAX_ATTEMPTS_MAX,
	    .def = MCA_APICONFIG_DEF_AZ_MAX_ATTEMPTS),
	CFG_KEY("azure_backoff_max_seconds", CFG_T_INT,
	    API(azure_backoff_max_seconds), .lo = 1,
	    .hi = MCA_APICONFIG_AZ_BACKOFF_MAX_MAX,
	    .def = MCA_APICONFIG_DEF_AZ_BACKOFF_MAX),
};

static int	cfg_api_check(struct cfg_ctx *, const char *, void *);
static int	cfg_api_check_azure(struct cfg_ctx *, struct mca_apiconfig *);

static const struct cfg_block cfg_api_block = {
	cfg_api_keys, NELEM(cfg_api_keys), CFG_NO_PRESENT, cfg_api_check
};

/* The field of key k in a. */
#define API_STR(a, k) \
	(*(char **)(void *)((char *)(a) + (k)->off))

/*
 * The rules across keys: the service account whole; the Azure hub usable
 * when this host updates it itself. A value left as the sample's
 * "<placeholder>" is warned about (the tool that needs it will fail).
 */
static int
cfg_api_check(struct cfg_ctx *c, const char *name, void *base)
{
	struct mca_apiconfig	*a = base;
	const struct cfg_key	*k;
	const char		*s;
	size_t			 i, len;
	int			 rc;

	(void)name;
	for (i = 0; i < NELEM(cfg_api_keys); i++) {
		k = &cfg_api_keys[i];
		if (k->type != CFG_T_STR || (s = API_STR(a, k)) == NULL)
			continue;
		len = strlen(s);
		/* (never the value itself: it may be a secret) */
		if (len >= 2 && s[0] == '<' && s[len - 1] == '>' &&
		    (rc = cfg_warn(c, "%s: still the sample's placeholder "
		    "\"<...>\"", k->name)) != 0)
			return rc;
	}
	if (a->appviewx_token_request != NULL &&
	    strcmp(a->appviewx_token_request, "json") != 0 &&
	    strcmp(a->appviewx_token_request, "form") != 0)
		return cfg_err(c, "appviewx_token_request", "expected \"json\" "
		    "or \"form\"");
	if (a->appviewx_gwkey != NULL && (strlen(a->appviewx_gwkey) > 64 ||
	    strspn(a->appviewx_gwkey, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-") !=
	    strlen(a->appviewx_gwkey)))
		return cfg_err(c, "appviewx_gwkey", "expected 1-64 of A-Z a-z "
		    "0-9 . _ -");
	if ((a->service_account_client_id == NULL) !=
	    (a->service_account_client_secret == NULL))
		return cfg_err(c, a->service_account_client_id == NULL ?
		    "service_account_client_id" :
		    "service_account_client_secret", "missing (the service "
		    "account needs both its ID and its secret)");
	if ((rc = cfg_api_check_azure(c, a)) != 0)
		return rc;
	if (!a->update_azure_iot_hub_from_standalone_server)
		return 0;
	if (a->azurehuburl == NULL)
		return cfg_err(c, "azurehuburl", "missing (required with "
		    "update_azure_iot_hub_from_standalone_server true)");
	if (a->azurehubcreds == NULL && a->azure_hub_key == NULL)
		return cfg_err(c, "azure_hub_key", "missing (required with "
		    "update_azure_iot_hub_from_standalone_server true, "
		    "unless azurehubcreds holds a SAS token)");
	if (a->azure_hub_key != NULL && a->azure_hub_policy_name == NULL)
		return cfg_err(c, "azure_hub_policy_name", "missing (required "
		    "with azure_hub_key)");
	return 0;
}

/*
 * microca-azsync's own keys: the device ID field (what mca_az_device_id()
 * takes), the thumbprint algorithm, and the hub's CA bundle as a path.
 */
static int
cfg_api_check_azure(struct cfg_ctx *c, struct mca_apiconfig *a)
{
	const char	*f = a->azure_device_id_field;
	const char	*t = a->azure_thumbprint_algorithm;

	if (f != NULL && strcmp(f, "CN") != 0 &&
	    strcmp(f, "san:dns") != 0 && strcmp(f, "san:uri") != 0 &&
	    strcmp(f, "san:email") != 0 && (strncmp(f, "subject:", 8) != 0 ||
	    f[8] == '\0' || OBJ_sn2nid(f + 8) == NID_undef ||
	    strcmp(f + 8, "UNDEF") == 0))
		return cfg_err(c, "azure_device_id_field", "expected \"CN\", "
		    "\"subject:<attribute>\" (an OpenSSL short name such as "
		    "serialNumber), \"san:dns\", \"san:uri\" or "
		    "\"san:email\"");
	if (t != NULL && strcmp(t, "sha1") != 0 && strcmp(t, "sha256") != 0)
		return cfg_err(c, "azure_thumbprint_algorithm", "expected "
		    "\"sha1\" or \"sha256\"");
	a->azure_thumbprint_sha256 = t != NULL && strcmp(t, "sha256") == 0;
	if (a->azure_hub_ca_cert != NULL && a->azure_hub_ca_cert[0] != '/')
		return cfg_err(c, "azure_hub_ca_cert", "expected an absolute "
		    "path (a PEM bundle)");
	return 0;
}

/* 1 if a holds any secret. */
static int
cfg_api_has_secret(const struct mca_apiconfig *a)
{
	return a->service_account_client_secret != NULL ||
	    a->azurehubcreds != NULL || a->azure_hub_key != NULL;
}

static int
cfg_api_parse(const char *path, const char *json, size_t len,
    const mode_t *mode, struct mca_apiconfig **out, struct mca_diag *d)
{
	struct cfg_ctx		 c;
	struct mca_apiconfig	*a = NULL;
	struct json_tokener	*tok = NULL;
	struct json_object	*root = NULL;
	int			 rc = MCA_ERR_INTERNAL;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->path = strdup(path)) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	cfg_ctx_init(&c, path, NULL, &a->warnings, &a->nwarnings, d);
	if ((rc = cfg_doc_parse(path, json, len, &tok, &root, d)) != 0)
		goto out;
	if ((rc = cfg_block_parse(&c, "", root, &cfg_api_block, a, NULL,
	    NULL)) != 0)
		goto out;
	if (mode != NULL && (*mode & S_IROTH) && cfg_api_has_secret(a) &&
	    (rc = cfg_warn(&c, "holds secrets but is world-readable; chmod "
	    "600 or 640")) != 0)
		goto out;
	rc = 0;
out:
	/* No JSON outlives loading; json-c's copies of secrets are wiped. */
	cfg_block_wipe_json(&cfg_api_block, root);
	json_object_put(root);
	cfg_tokener_free(tok);
	if (rc == MCA_ERR_NOMEM)
		(void)mca_diag(d, rc, "%s: out of memory", path);
	if (rc != 0)
		mca_apiconfig_free(a);
	else
		*out = a;
	return rc;
}

int
mca_apiconfig_parse(const char *path, const char *json, size_t len,
    struct mca_apiconfig **out, struct mca_diag *d)
{
	mca_diag_clear(d);
	if (out == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_apiconfig_parse: no "
		    "output");
	*out = NULL;
	if (path == NULL)
		path = "APIconfig";
	if (json == NULL && len > 0)
		return mca_diag(d, MCA_ERR_INVAL, "%s: no input", path);
	return cfg_api_parse(path, json, len, NULL, out, d);
}

int
mca_apiconfig_load(const char *path, struct mca_apiconfig **out,
    struct mca_diag *d)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	mode_t		 mode = 0;
	int		 rc;

	mca_diag_clear(d);
	if (out != NULL)
		*out = NULL;
	if (out == NULL || path == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_apiconfig_load: no %s",
		    out == NULL ? "output" : "path");
	if ((rc = cfg_file_read(path, &b, &mode, d)) == 0)
		rc = cfg_api_parse(path, (const char *)b.data, b.len, &mode,
		    out, d);
	mca_buf_free_secret(&b);
	return rc;
}

int
mca_apiconfig_require_rest(const struct mca_apiconfig *a, struct mca_diag *d)
{
	const char	*miss = NULL;

	mca_diag_clear(d);
	if (a == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "no APIconfig");
	if (a->service_account_client_id == NULL)
		miss = "service_account_client_id";
	else if (a->service_account_client_secret == NULL)
		miss = "service_account_client_secret";
	else if (a->ca_name == NULL)
		miss = "ca_name";
	else if (a->ca_setting_name == NULL)
		miss = "ca_setting_name";
	else if (a->appviewx_group_name == NULL)
		miss = "appviewx_group_name";
	else if (a->intermediate_cert_validity_in_days == 0)
		miss = "intermediate_cert_validity_in_days";
	if (miss == NULL)
		return 0;
	return mca_diag(d, MCA_ERR_CONFIG, "%s: %s: missing (required to "
	    "enroll through the AppViewX API, use_est false)", a->path, miss);
}

void
mca_apiconfig_wipe_secrets(struct mca_apiconfig *a)
{
	char	**sp[3];
	size_t	 i;

	if (a == NULL)
		return;
	sp[0] = &a->service_account_client_secret;
	sp[1] = &a->azurehubcreds;
	sp[2] = &a->azure_hub_key;
	for (i = 0; i < NELEM(sp); i++) {
		if (*sp[i] == NULL)
			continue;
		OPENSSL_cleanse(*sp[i], strlen(*sp[i]));
		free(*sp[i]);
		*sp[i] = NULL;
	}
}

void
mca_apiconfig_free(struct mca_apiconfig *a)
{
	size_t	 i;

	if (a == NULL)
		return;
	free(a->path);
	cfg_block_free(&cfg_api_block, a);
	for (i = 0; i < a->nwarnings; i++)
		free(a->warnings[i]);
	free(a->warnings);
	free(a);
}
