/*
 * APIconfig: the AppViewX and Azure IoT Hub settings of the vendor guide
 * (table 1), beside config.json, read by the cron tools (microca-renew
 * with use_est false, microca-azsync). The same engine as config.json
 * reads it (lib/cfg.c): strict JSON, duplicate keys refused, a size cap,
 * one line naming the file and the key for anything wrong, unknown keys
 * warned about, secrets wiped. See microca-apiconfig(5).
 */
#ifndef MCA_APICONFIG_H
#define MCA_APICONFIG_H

#include <stddef.h>

#include "err.h"

#define MCA_APICONFIG_DEF_TOKEN_VALIDITY	3600	/* seconds */
#define MCA_APICONFIG_TOKEN_VALIDITY_MAX	31536000 /* a year */
#define MCA_APICONFIG_VALIDITY_DAYS_MAX		36500
#define MCA_APICONFIG_DEF_AZ_MAX_ATTEMPTS	50
#define MCA_APICONFIG_AZ_MAX_ATTEMPTS_MAX	100000
#define MCA_APICONFIG_DEF_AZ_BACKOFF_MAX	3600	/* seconds */
#define MCA_APICONFIG_AZ_BACKOFF_MAX_MAX	86400	/* a day */

struct mca_apiconfig {
	char		*path;		/* the file this came from */
	/* AppViewX */
	char		*appviewx_hostname;		/* required */
	int		 appviewx_port_number;		/* required */
	char		*ca_setting_name;
	char		*template_name;
	char		*issuer_name;
	char		*ca_name;
	int		 intermediate_cert_validity_in_days; /* 0: not set */
	char		*appviewx_group_name;
	char		*service_account_client_id;
	char		*service_account_client_secret;	/* secret */
	/* microca's own: what the AppViewX guides leave open (avx.h) */
	char		*appviewx_gwkey;		/* tenant key */
	char		*appviewx_token_request;	/* "json", "form" */
	char		*appviewx_certificate_category;	/* "Server" */
	/* Azure IoT Hub */
	char		*azurehuburl;
	char		*azurehubcreds;			/* secret (a SAS) */
	char		*azure_hub_key;			/* secret */
	char		*azure_hub_policy_name;
	int		 azure_token_validity;		/* seconds */
	int		 update_azure_iot_hub_from_standalone_server;
	/* microca's own (microca-apiconfig(5)): microca-azsync */
	char		*azure_hub_ca_cert;		/* PEM bundle; NULL: system */
	char		*azure_device_id_field;		/* NULL: "CN" */
	char		*azure_thumbprint_algorithm;	/* "sha1", "sha256" */
	int		 azure_thumbprint_sha256;	/* 1: "sha256" */
	int		 azure_max_attempts;		/* then 'failed' */
	int		 azure_backoff_max_seconds;	/* the longest wait */
	/* Warnings (unknown keys, secrets world-readable): one line each. */
	char		**warnings;
	size_t		 nwarnings;
};

/*
 * Loads the APIconfig file at path into a new *out. Returns 0, or
 * MCA_ERR_NOTFOUND, MCA_ERR_IO, MCA_ERR_TOOBIG, MCA_ERR_CONFIG (the
 * line names the file and the key; never a secret's value) or
 * MCA_ERR_NOMEM with d saying why; *out is NULL then.
 */
int	 mca_apiconfig_load(const char *path, struct mca_apiconfig **out,
	    struct mca_diag *d);

/* The same from json[0..len); path (may be NULL) names it in messages. */
int	 mca_apiconfig_parse(const char *path, const char *json, size_t len,
	    struct mca_apiconfig **out, struct mca_diag *d);

/*
 * Checks that a has what the AppViewX certificate API needs (a
 * certificate enrolled with use_est false): the service account
 * (service_account_client_id and its secret), ca_name, ca_setting_name,
 * appviewx_group_name and intermediate_cert_validity_in_days. Returns 0
 * or MCA_ERR_CONFIG with d naming the file and the first key missing.
 */
int	 mca_apiconfig_require_rest(const struct mca_apiconfig *a,
	    struct mca_diag *d);

/*
 * Wipes and frees the secrets of a (service_account_client_secret,
 * azurehubcreds, azure_hub_key), once they have been used, and sets them
 * NULL. NULL-safe; twice is harmless.
 */
void	 mca_apiconfig_wipe_secrets(struct mca_apiconfig *a);

/* Frees a, wiping its secrets first (as the key table marks them). NULL-safe. */
void	 mca_apiconfig_free(struct mca_apiconfig *a);

#endif
