/*
 * config.json in the format of the AppViewX "EST Micro CA" guide (tables
 * 2-10), plus microca's own keys. Parsed once at start-up; everything
 * after that reads these structs, never the JSON: no JSON document
 * outlives mca_cfg_load().
 *
 * lib/cfg.c loads the file and holds the top-level key table;
 * lib/cfg_profile.c reads end_certificate_config_<N>; lib/cfg_renewal.c
 * the renewal blocks (tables 2-6); lib/cfg_discovery.c
 * discover_certificate_config; lib/cfg_azure.c
 * mtls_azure_device_registration.
 */
#ifndef MCA_CFG_H
#define MCA_CFG_H

#include <stddef.h>

#include <regex.h>

#include "err.h"
#include "estpath.h"	/* MCA_LABEL_MAX */
#include "keyspec.h"	/* enum mca_keytype, struct mca_keyspec */

#define MCA_CFG_FILE_MAX	(1024u * 1024u)	/* config.json cap */
#define MCA_CFG_MAX_PROFILES	256
#define MCA_CFG_MAX_EKU		32

/* key_usage flags, in the seed's names. Bit values are ours. */
enum mca_ku {
	MCA_KU_DIGITAL_SIGNATURE = 1 << 0,
	MCA_KU_NON_REPUDIATION = 1 << 1,
	MCA_KU_KEY_ENCIPHERMENT = 1 << 2,
	MCA_KU_DATA_ENCIPHERMENT = 1 << 3,
	MCA_KU_KEY_AGREEMENT = 1 << 4,
	MCA_KU_KEY_CERT_SIGN = 1 << 5,
	MCA_KU_CRL_SIGN = 1 << 6,
	MCA_KU_ENCIPHER_ONLY = 1 << 7,
	MCA_KU_DECIPHER_ONLY = 1 << 8,
	MCA_KU_MAX = 1 << 9
};

/* auth_methods: how a client may prove itself on /simpleenroll. */
enum mca_auth {
	MCA_AUTH_CERTIFICATE = 1 << 0,	/* "certificate": TLS client cert */
	MCA_AUTH_PASSCODE = 1 << 1,	/* "passcode": HTTP Basic passcode */
	MCA_AUTH_REMOTE_USER = 1 << 2,	/* "remote_user": web server's Basic */
	MCA_AUTH_MAX = 1 << 3
};

#define MCA_CFG_MAX_KEYS	16	/* allowed_keys entries */
#define MCA_CFG_MAX_SUBJECT	16	/* subject_patterns entries */

/* One entry of subject_patterns: attribute -> POSIX extended regex. */
struct mca_subject_rule {
	int		 nid;		/* the attribute type */
	char		*attr;		/* as configured ("CN") */
	char		*pattern;	/* as configured */
	regex_t		 re;		/* REG_EXTENDED | REG_NOSUB */
};

/*
 * subjectAltName types a label may allow (san_policy.allowed_types):
 * the names lib/issue.c copies. Any other type is always refused.
 */
enum mca_san_type {
	MCA_SAN_DNS,
	MCA_SAN_IP,
	MCA_SAN_URI,
	MCA_SAN_EMAIL,
	MCA_SAN_MAX
};

#define MCA_SAN_MAX_NAMES	1024	/* san_policy.max_names bound */
#define MCA_SAN_DEF_NAMES	16	/* its default */
#define MCA_REENROLL_GRACE_MAX	86400	/* reenroll_grace_seconds bound */
#define MCA_REENROLL_GRACE_DEF	300	/* its default */
#define MCA_CRL_VALIDITY_MAX	8760	/* crl_validity_hours bound: a year */
#define MCA_CRL_VALIDITY_DEF	24	/* its default */
#define MCA_CRL_URL_MAX		1024	/* crl_distribution_point_url bytes */

/*
 * san_policy (microca addition): which names a CSR's subjectAltName may
 * hold on a label. Without the key: DNS and IP, at most 16, no wildcard.
 */
struct mca_san_policy {
	unsigned	 types;		/* 1 << enum mca_san_type */
	regex_t		 re[MCA_SAN_MAX];	/* a pattern per type */
	char		*pattern[MCA_SAN_MAX];	/* as configured, or NULL */
	int		 allow_wildcard;	/* "*.example.com" DNS names */
	int		 max_names;	/* 1..MCA_SAN_MAX_NAMES */
	int		 dns_equals_cn;	/* each DNS name is a CN of the subject */
};

/* One end_certificate_config_<N> block: an EST label's profile. */
struct mca_profile {
	char		*name;		/* end_point_name: the EST label */
	int		 index;		/* the N of end_certificate_config_N */
	int		 validity_days;	/* validity_in_days: 1..36500; 0 when unlimited and absent */
	char		**eku;		/* extended_key_usage_list: dotted OIDs */
	size_t		 neku;
	unsigned	 key_usage;	/* enum mca_ku bits */
	int		 is_device_cert;
	int		 is_unlimited_validity;
	int		 is_ca;
	int		 path_len;	/* path_length_constraint; -1 = null */
	/* microca additions */
	int		 b64_line_length; /* base64_line_length: 0 or 4k; default 64 */
	enum mca_keytype key_type;	/* key_type: "RSA" or "ECC"; ANY if absent */
	int		 key_size;	/* key_size: RSA bits or EC curve bits; 0 = any */
	/*
	 * /serverkeygen keys (microca additions): server_key_type "RSA" or
	 * "ECC", server_key_size RSA 2048/3072/4096 or ECC 256/384. Default:
	 * key_type (else RSA), and key_size when it is one of those sizes
	 * (else 2048 or 256). Never MCA_KEYTYPE_ANY.
	 */
	enum mca_keytype server_key_type;
	int		 server_key_size;
	/* microca additions: authentication and CSR policy */
	unsigned	 auth_methods;	/* enum mca_auth bits */
	char		*mtls_ca_cert;	/* the label's own bundle, or NULL */
	/* allowed_keys; none: key_type/key_size decide */
	struct mca_keyspec *allowed_keys;
	size_t		 nallowed_keys;
	struct mca_subject_rule *subject_rules;	/* subject_patterns */
	size_t		 nsubject_rules;
	/* subject_unlisted "refuse": attributes not in subject_patterns */
	int		 subject_unlisted_refuse;
	struct mca_san_policy san;	/* san_policy, or its default */
	/*
	 * ra_subject_patterns: certificates of ours whose subject matches
	 * may enroll any subject (an RA, RFC 7030 3.3.2); others only their
	 * own. None: no certificate of ours is an RA.
	 */
	struct mca_subject_rule *ra_rules;
	size_t		 nra_rules;
	/* reenroll_grace_seconds: the label's, else the top-level one */
	int		 reenroll_grace;
	/*
	 * crl_distribution_point_url: the label's, else the top-level one,
	 * else NULL (no cRLDistributionPoints extension). lib/cfg_crl.c.
	 */
	char		*crl_url;
};

/*
 * The blocks of config.json the cron tools read (tables 2-8 of the guide).
 * Each is parsed and checked at load like the rest; a block that is not in
 * the file has present 0 and its defaults.
 */

/* The upstream EST service (AppViewX's EST agent) a block talks to. */
struct mca_cfg_upstream {
	char		*appviewx_hostname;
	int		 port;		/* 1-65535; 0 when not set */
	char		*est_agent_setting_name; /* "": no label segment */
	/*
	 * microca additions, read in intermediate_cert_config,
	 * device_cert_config, certificateRenewal_config and at the top
	 * level (the block's value, else certificateRenewal_config's, else
	 * the top level's): upstream_ca_cert, a PEM bundle of the
	 * upstream's trust anchors (NULL: the system store), and
	 * upstream_username and upstream_password, HTTP Basic credentials
	 * (RFC 7030 3.2.3; both or neither; the password a secret).
	 */
	char		*ca_cert;
	char		*username;
	char		*password;
};

/*
 * intermediate_cert_config (table 2) and device_cert_config (table 3): a
 * certificate microca requests for itself from upstream.
 */
struct mca_cfg_certreq {
	int		 present;
	/* use_est (table 2), is_device_cert_required (table 3) */
	int		 enabled;
	char		*common_name;
	char		*country;
	char		*province;
	char		*locality;
	char		*organization;
	char		*organizational_unit;
	struct mca_cfg_upstream upstream;
	enum mca_keytype key_type;	/* ANY when not set */
	int		 key_size;	/* 0 when not set */
	char		*hash_function;	/* default "SHA256" */
	int		 reenroll_days;	/* reenrollment_trigger_before_no_of_days_of_expiry, default 30 */
	int		 rekey;		/* rekey (microca): a new key each renewal, default 1 */
	/*
	 * device_cert_config only (microca additions): where the device
	 * certificate goes, and its key: a label in the token, else a
	 * PEM file (0600). No device_cert_path: microca-renew does not
	 * keep one.
	 */
	char		*cert_path;	/* device_cert_path */
	char		*key_label;	/* device_key_label */
	char		*key_path;	/* device_key_path */
};

/* certificateRenewal_config (table 4). */
struct mca_cfg_renewal {
	int		 present;
	int		 enabled;	/* isRenewalOfCertificatesRequired */
	int		 interval_minutes; /* renewal_check_interval_time_in_minutes, default 1440 */
	struct mca_cfg_upstream upstream;
};

/*
 * mtls_server_cert_config (table 5) and mtls_client_auth_cert_config
 * (table 6): a TLS certificate microca keeps renewed.
 */
struct mca_cfg_mtls {
	int		 present;
	int		 key_in_pkcs11;	/* is_private_key_label_required */
	char		*cert_path;	/* mtls_server_cert_path, mtls_auth_cert_path */
	char		*key_label;	/* mtls_server_key_label, mtls_auth_key_label */
	char		*key_path;	/* mtls_server_key_path, mtls_auth_key_path */
	int		 reenroll_days;	/* default 30 */
	char		*restart_script; /* trigger_server_restart_script (server only) */
	int		 restart_timeout; /* restart_script_timeout_seconds (server only), default 60 */
};

/* An array of strings of config.json. */
struct mca_cfg_strs {
	char		**v;
	size_t		 n;
	int		 set;	/* the key was there ([] included) */
};

/*
 * discover_certificate_config (table 7), and microca's scan_* keys:
 * where an unset key's default is lib/discover.h's.
 */
struct mca_cfg_discovery {
	int		 present;
	int		 enabled;	/* is_discovery_required */
	int		 interval_minutes; /* scan_interval_time_in_minutes, default 30 */
	char		*discovery_name;
	char		*group_name;	/* groupName */
	struct mca_cfg_upstream upstream;
	/* microca additions */
	struct mca_cfg_strs scan_paths;		/* absolute paths */
	struct mca_cfg_strs scan_exclude;	/* fnmatch(3) globs */
	struct mca_cfg_strs scan_extensions;	/* without the dot */
	struct mca_cfg_strs scan_endpoints;	/* host:port, [v6]:port */
	struct mca_cfg_strs scan_p12_passwords;	/* secrets: wiped on free */
	int		 scan_max_file_size;	/* bytes, default 16 MiB */
	int		 endpoint_timeout;	/* scan_endpoint_timeout_seconds, default 5 */
	int		 upload_batch_size;	/* default 100 */
};

/* mtls_azure_device_registration (table 8). */
struct mca_cfg_azure {
	int		 present;
	struct mca_cfg_upstream upstream;
	char		*workflow;	/* azure_device_registration_workflow */
	int		 poll_count;	/* default 6 */
	int		 poll_interval;	/* seconds, default 3 */
	char		*azure_account;
};

struct mca_cfg {
	char		*path;		/* the file this came from */
	/* seed keys (table 9) */
	char		*intermediate_cert_path;	/* required */
	char		*intermediate_private_key_label_in_pkcs11; /* or NULL */
	char		*pkcs11_library;	/* required with the label */
	char		*pkcs11_library_pin;	/* secret: wiped on free */
	char		*mtls_ca_cert;		/* bootstrap CA bundle, or NULL */
	int		 new_intermediate_cert;
	int		 port;			/* 0 when not set */
	char		*encryption_key_file_path;
	/* seed blocks (tables 2-8) */
	struct mca_cfg_certreq	 intermediate;	/* intermediate_cert_config */
	struct mca_cfg_certreq	 device;	/* device_cert_config */
	struct mca_cfg_renewal	 renewal;	/* certificateRenewal_config */
	struct mca_cfg_mtls	 mtls_server;	/* mtls_server_cert_config */
	struct mca_cfg_mtls	 mtls_client;	/* mtls_client_auth_cert_config */
	struct mca_cfg_discovery discovery;	/* discover_certificate_config */
	struct mca_cfg_azure	 azure;		/* mtls_azure_device_registration */
	/* microca additions */
	char		*intermediate_private_key_path;	/* PEM key when no label */
	char		*ledger_db_path;	/* default /var/lib/microca/ledger.db */
	char		*issued_certs_dir;	/* default /var/lib/microca/IssuedCerts */
	char		*default_end_point_name; /* default: profile with lowest N */
	char		*rollover_cert_path;	/* more CA certs for /cacerts */
	int		 ledger_synchronous_full; /* ledger_synchronous: "FULL" (1, default) or "NORMAL" (0) */
	int		 issued_certs_sync; /* issued_certs_synchronous: "FULL" (1, default) or "OFF" (0) */
	/*
	 * Failure budgets of enrollment passcodes (cgi/basicauth.c): wrong
	 * secrets per passcode (passcode_failures_max, default 10) and
	 * failures per client address (passcode_address_failures_max,
	 * default 100) within passcode_failure_window_seconds (default
	 * 900); a budget of 0 is none.
	 */
	int		 passcode_failures_max;
	int		 passcode_address_failures_max;
	int		 passcode_failure_window;
	int		 refusals_keep_days;	/* default 30 */
	int		 refusals_per_minute_max; /* default 600; 0: counts only */
	int		 reenroll_grace; /* reenroll_grace_seconds, default 300 */
	/*
	 * CRLs (microca-crl, lib/crl.h; lib/cfg_crl.c): crl_dir, where
	 * they are written (default /var/lib/microca/crl);
	 * crl_validity_hours, thisUpdate to nextUpdate (default 24);
	 * crl_distribution_point_url, the labels' default URL (or NULL).
	 */
	char		*crl_dir;
	int		 crl_validity_hours;
	char		*crl_url;
	/*
	 * The upstream EST service (microca-renew): upstream_ca_cert,
	 * upstream_username, upstream_password at the top level (only those
	 * fields of the struct), and the timeouts of every request, in
	 * seconds: upstream_connect_timeout_seconds (default 15) and
	 * upstream_timeout_seconds (default 120).
	 */
	struct mca_cfg_upstream upstream;
	int		 upstream_connect_timeout;
	int		 upstream_timeout;
	/* end_certificate_config_<N>, sorted by N */
	struct mca_profile *profiles;
	size_t		 nprofiles;
	/* Start-up warnings (unknown keys, readable PIN): one line each. */
	char		**warnings;
	size_t		 nwarnings;
};

/*
 * Parses and validates the config file at path. On error returns
 * MCA_ERR_NOTFOUND / MCA_ERR_IO (unreadable), MCA_ERR_TOOBIG, or
 * MCA_ERR_CONFIG, and d says, in one line, the file and the key:
 *   "/etc/microca/config.json: end_certificate_config_2.validity_in_days:
 *    expected an integer from 1 to 36500"
 * *out is NULL on error.
 */
int	 mca_cfg_load(const char *path, struct mca_cfg **out,
	    struct mca_diag *d);

/* Same from a memory buffer; path is only used in messages. */
int	 mca_cfg_parse(const char *path, const char *json, size_t len,
	    struct mca_cfg **out, struct mca_diag *d);

/* Frees (NULL-safe); wipes the secrets (the PIN). */
void	 mca_cfg_free(struct mca_cfg *cfg);

/*
 * Wipes and forgets pkcs11_library_pin once the token is logged in and
 * nothing needs it (NULL-safe).
 */
void	 mca_cfg_wipe_pin(struct mca_cfg *cfg);

/* The profile for an EST label, or NULL. "" means the default profile. */
const struct mca_profile *mca_cfg_profile(const struct mca_cfg *cfg,
	    const char *label);

/*
 * 1 if s is a scan endpoint as scan_endpoints wants it: "host:port" or
 * "[IPv6]:port" (RFC 3986 3.2.2), port 1-65535; else 0.
 */
int	 mca_cfg_endpoint_ok(const char *s);

#endif
