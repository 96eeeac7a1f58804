/*
 * config.json: the blocks of the certificates microca keeps renewed from
 * its upstream (AppViewX's EST agent): intermediate_cert_config (table 2
 * of the vendor guide), device_cert_config (table 3),
 * certificateRenewal_config (table 4), mtls_server_cert_config (table 5)
 * and mtls_client_auth_cert_config (table 6). See cfg.h.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cfg_int.h"
#include "err.h"
#include "keyspec.h"

#define CFG_DAYS_MAX		36500	/* 100 years */
#define CFG_MINUTES_MAX		525600	/* a year */
#define CFG_DEF_REENROLL	30	/* days before expiry */
#define CFG_DEF_RENEW_EVERY	1440	/* minutes; table 4 */
#define CFG_DEF_RESTART_TIMEOUT	60	/* seconds */
#define CFG_RESTART_TIMEOUT_MAX	3600

#define REQ(f)	offsetof(struct mca_cfg_certreq, f)
#define RNW(f)	offsetof(struct mca_cfg_renewal, f)
#define MTLS(f)	offsetof(struct mca_cfg_mtls, f)

/* The upstream's trust anchors and credentials (microca additions). */
#define CFG_UPSTREAM_AUTH_KEYS(M) \
	CFG_KEY("upstream_ca_cert", CFG_T_STR, M(upstream.ca_cert)), \
	CFG_KEY("upstream_username", CFG_T_STR, M(upstream.username)), \
	CFG_KEY("upstream_password", CFG_T_STR, M(upstream.password), \
	    CFG_F_SECRET)

/* The keys tables 2 and 3 share, after their first. */
#define CFG_CERTREQ_KEYS \
	CFG_KEY("common_name", CFG_T_STR, REQ(common_name)), \
	CFG_KEY("country", CFG_T_STR, REQ(country)), \
	CFG_KEY("province", CFG_T_STR, REQ(province)), \
	CFG_KEY("locality", CFG_T_STR, REQ(locality)), \
	CFG_KEY("organization", CFG_T_STR, REQ(organization)), \
	CFG_KEY("organizational_unit", CFG_T_STR, REQ(organizational_unit)), \
	CFG_KEY("appviewx_hostname", CFG_T_STR, \
	    REQ(upstream.appviewx_hostname)), \
	CFG_KEY("port", CFG_T_PORT, REQ(upstream.port)), \
	CFG_KEY("est_agent_setting_name", CFG_T_STR, \
	    REQ(upstream.est_agent_setting_name), CFG_F_EMPTY), \
	CFG_KEY("key_type", CFG_T_KEYTYPE, REQ(key_type), \
	    .def = MCA_KEYTYPE_ANY), \
	CFG_KEY("key_size", CFG_T_INT, REQ(key_size), .lo = 256, .hi = 8192), \
	CFG_KEY("hash_function", CFG_T_HASH, REQ(hash_function), \
	    .defstr = "SHA256"), \
	CFG_KEY("reenrollment_trigger_before_no_of_days_of_expiry", CFG_T_INT, \
	    REQ(reenroll_days), .lo = 1, .hi = CFG_DAYS_MAX, \
	    .def = CFG_DEF_REENROLL), \
	CFG_KEY("rekey", CFG_T_BOOL, REQ(rekey), .def = 1), \
	CFG_UPSTREAM_AUTH_KEYS(REQ)

/* intermediate_cert_config, table 2 */
static const struct cfg_key cfg_intermediate_keys[] = {
	CFG_KEY("use_est", CFG_T_BOOL, REQ(enabled)),
	CFG_CERTREQ_KEYS,
};

/* device_cert_config, table 3 */
static const struct cfg_key cfg_device_keys[] = {
	CFG_KEY("is_device_cert_required", CFG_T_BOOL, REQ(enabled)),
	CFG_CERTREQ_KEYS,
	CFG_KEY("device_cert_path", CFG_T_STR, REQ(cert_path)),
	CFG_KEY("device_key_label", CFG_T_STR, REQ(key_label)),
	CFG_KEY("device_key_path", CFG_T_STR, REQ(key_path)),
};

/* certificateRenewal_config, table 4 */
static const struct cfg_key cfg_renewal_keys[] = {
	CFG_KEY("isRenewalOfCertificatesRequired", CFG_T_BOOL, RNW(enabled)),
	CFG_KEY("renewal_check_interval_time_in_minutes", CFG_T_INT,
	    RNW(interval_minutes), .lo = 1, .hi = CFG_MINUTES_MAX,
	    .def = CFG_DEF_RENEW_EVERY),
	CFG_KEY("appviewx_hostname", CFG_T_STR, RNW(upstream.appviewx_hostname)),
	CFG_KEY("port", CFG_T_PORT, RNW(upstream.port)),
	CFG_KEY("est_agent_setting_name", CFG_T_STR,
	    RNW(upstream.est_agent_setting_name), CFG_F_EMPTY),
	CFG_UPSTREAM_AUTH_KEYS(RNW),
};

/* mtls_server_cert_config, table 5 */
static const struct cfg_key cfg_mtls_server_keys[] = {
	CFG_KEY("is_private_key_label_required", CFG_T_BOOL, MTLS(key_in_pkcs11)),
	CFG_KEY("mtls_server_cert_path", CFG_T_STR, MTLS(cert_path),
	    CFG_F_REQUIRED),
	CFG_KEY("mtls_server_key_label", CFG_T_STR, MTLS(key_label)),
	CFG_KEY("mtls_server_key_path", CFG_T_STR, MTLS(key_path)),
	CFG_KEY("reenrollment_trigger_before_no_of_days_of_expiry", CFG_T_INT,
	    MTLS(reenroll_days), .lo = 1, .hi = CFG_DAYS_MAX,
	    .def = CFG_DEF_REENROLL),
	CFG_KEY("trigger_server_restart_script", CFG_T_STR,
	    MTLS(restart_script)),
	CFG_KEY("restart_script_timeout_seconds", CFG_T_INT,
	    MTLS(restart_timeout), .lo = 1, .hi = CFG_RESTART_TIMEOUT_MAX,
	    .def = CFG_DEF_RESTART_TIMEOUT),
};

/* mtls_client_auth_cert_config, table 6 */
static const struct cfg_key cfg_mtls_client_keys[] = {
	CFG_KEY("is_private_key_label_required", CFG_T_BOOL, MTLS(key_in_pkcs11)),
	CFG_KEY("mtls_auth_cert_path", CFG_T_STR, MTLS(cert_path),
	    CFG_F_REQUIRED),
	CFG_KEY("mtls_auth_key_label", CFG_T_STR, MTLS(key_label)),
	CFG_KEY("mtls_auth_key_path", CFG_T_STR, MTLS(key_path)),
	CFG_KEY("reenrollment_trigger_before_no_of_days_of_expiry", CFG_T_INT,
	    MTLS(reenroll_days), .lo = 1, .hi = CFG_DAYS_MAX,
	    .def = CFG_DEF_REENROLL),
};

int
cfg_upstream_auth_check(struct cfg_ctx *c, const char *name,
    const struct mca_cfg_upstream *u)
{
	char	 kname[CFG_NAME_MAX];

	if (u->username != NULL && u->password == NULL)
		return cfg_err(c, cfg_name(kname, sizeof(kname), name,
		    "upstream_password"), "missing (required with "
		    "upstream_username)");
	if (u->username == NULL && u->password != NULL)
		return cfg_err(c, cfg_name(kname, sizeof(kname), name,
		    "upstream_username"), "missing (required with "
		    "upstream_password)");
	/* RFC 7617 2: the user-id cannot contain a colon. */
	if (u->username != NULL && strchr(u->username, ':') != NULL)
		return cfg_err(c, cfg_name(kname, sizeof(kname), name,
		    "upstream_username"), "must not contain ':' (RFC 7617 "
		    "2)");
	return 0;
}

/* key_size fits key_type; the upstream is there when the job runs. */
static int
cfg_certreq_check(struct cfg_ctx *c, const char *name,
    const struct mca_cfg_certreq *r, const char *why)
{
	char	 kname[CFG_NAME_MAX];
	int	 rc;

	if ((rc = cfg_upstream_auth_check(c, name, &r->upstream)) != 0)
		return rc;

	cfg_name(kname, sizeof(kname), name, "key_size");
	if (r->key_size != 0) {
		if (r->key_type == MCA_KEYTYPE_ANY)
			return cfg_err(c, kname, "needs key_type (\"RSA\" or "
			    "\"ECC\")");
		if (r->key_type == MCA_KEYTYPE_RSA &&
		    r->key_size < MCA_RSA_MIN_BITS)
			return cfg_err(c, kname, "expected an integer from "
			    "%d to %d for RSA", MCA_RSA_MIN_BITS,
			    MCA_RSA_MAX_BITS);
		if (r->key_type == MCA_KEYTYPE_EC &&
		    mca_keyspec_curve_bits(r->key_size) == NULL)
			return cfg_err(c, kname, "expected 256, 384 or 521 "
			    "for ECC");
	}
	if (r->enabled)
		return cfg_upstream_require(c, name, &r->upstream, why);
	return 0;
}

static int
cfg_intermediate_check(struct cfg_ctx *c, const char *name, void *base)
{
	return cfg_certreq_check(c, name, base, "with use_est true");
}

static int
cfg_device_check(struct cfg_ctx *c, const char *name, void *base)
{
	const struct mca_cfg_certreq	*r = base;
	char				 kname[CFG_NAME_MAX];

	/* The key goes with the certificate: one place for it. */
	if (r->key_label != NULL && r->key_path != NULL)
		return cfg_err(c, cfg_name(kname, sizeof(kname), name,
		    "device_key_path"), "not with device_key_label (the key "
		    "is in the token or in a file)");
	if (r->cert_path != NULL && r->key_label == NULL &&
	    r->key_path == NULL)
		return cfg_err(c, cfg_name(kname, sizeof(kname), name,
		    "device_key_path"), "missing (required with "
		    "device_cert_path, or set device_key_label)");
	if (r->cert_path == NULL && (r->key_label != NULL ||
	    r->key_path != NULL))
		return cfg_err(c, cfg_name(kname, sizeof(kname), name,
		    "device_cert_path"), "missing (required with %s)",
		    r->key_label != NULL ? "device_key_label" :
		    "device_key_path");
	return cfg_certreq_check(c, name, base,
	    "with is_device_cert_required true");
}

static int
cfg_renewal_check(struct cfg_ctx *c, const char *name, void *base)
{
	const struct mca_cfg_renewal	*r = base;
	int				 rc;

	if ((rc = cfg_upstream_auth_check(c, name, &r->upstream)) != 0)
		return rc;
	if (r->enabled)
		return cfg_upstream_require(c, name, &r->upstream,
		    "with isRenewalOfCertificatesRequired true");
	return 0;
}

/* The key is a label in the token, or a file. */
static int
cfg_mtls_check(struct cfg_ctx *c, const char *name, void *base,
    const char *label, const char *path)
{
	const struct mca_cfg_mtls	*m = base;
	char				 kname[CFG_NAME_MAX];

	if (m->key_in_pkcs11 && m->key_label == NULL)
		return cfg_err(c, cfg_name(kname, sizeof(kname), name, label),
		    "missing (required with is_private_key_label_required "
		    "true)");
	if (!m->key_in_pkcs11 && m->key_path == NULL)
		return cfg_err(c, cfg_name(kname, sizeof(kname), name, path),
		    "missing (required with is_private_key_label_required "
		    "false)");
	return 0;
}

static int
cfg_mtls_server_check(struct cfg_ctx *c, const char *name, void *base)
{
	return cfg_mtls_check(c, name, base, "mtls_server_key_label",
	    "mtls_server_key_path");
}

static int
cfg_mtls_client_check(struct cfg_ctx *c, const char *name, void *base)
{
	return cfg_mtls_check(c, name, base, "mtls_auth_key_label",
	    "mtls_auth_key_path");
}

const struct cfg_block cfg_intermediate_block = {
	cfg_intermediate_keys, NELEM(cfg_intermediate_keys), REQ(present),
	cfg_intermediate_check
};

const struct cfg_block cfg_device_block = {
	cfg_device_keys, NELEM(cfg_device_keys), REQ(present),
	cfg_device_check
};

const struct cfg_block cfg_renewal_block = {
	cfg_renewal_keys, NELEM(cfg_renewal_keys), RNW(present),
	cfg_renewal_check
};

const struct cfg_block cfg_mtls_server_block = {
	cfg_mtls_server_keys, NELEM(cfg_mtls_server_keys), MTLS(present),
	cfg_mtls_server_check
};

const struct cfg_block cfg_mtls_client_block = {
	cfg_mtls_client_keys, NELEM(cfg_mtls_client_keys), MTLS(present),
	cfg_mtls_client_check
};
