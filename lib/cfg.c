/*
 * config.json: the AppViewX "EST Micro CA" format (tables 2-10 of the
 * vendor guide) plus microca's own keys. See cfg.h.
 *
 * The file is parsed in two passes over the top-level object. The first
 * checks the type of every known key in file order, warns about unknown
 * keys and collects the end_certificate_config_<N> blocks. The second
 * copies the values into struct mca_cfg and checks the rules that span
 * keys (key source, profiles, default label).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "buf.h"
#include "certinfo.h"
#include "cfg.h"
#include "cfg_int.h"
#include "err.h"
#include "fileio.h"
#include "num.h"

#define CFG_STR_MAX		4096	/* any string value, in bytes */
#define CFG_VALIDITY_MAX	36500	/* validity_in_days: 100 years */
#define CFG_WARN_MAX		64	/* kept warnings, the last one "more" */
#define CFG_OID_MAX		256	/* a dotted OID in the EKU list */
#define CFG_PREFIX		"end_certificate_config_"

#define CFG_DEF_LEDGER		"/var/lib/microca/ledger.db"
#define CFG_DEF_ISSUED		"/var/lib/microca/IssuedCerts"
#define CFG_DEF_HASH		"SHA256"
#define CFG_DEF_B64		64

/* What a known top-level key must hold. */
enum cfg_kind {
	CFG_K_STR,
	CFG_K_BOOL,
	CFG_K_PORT,
	CFG_K_OBJ,
	CFG_K_SECS,	/* reenroll_grace_seconds: 0..MCA_REENROLL_GRACE_MAX */
	CFG_K_MAX
};

static const struct {
	const char	*name;
	enum cfg_kind	 kind;
} cfg_top[] = {
	/* seed, table 9 */
	{ "intermediate_cert_path", CFG_K_STR },
	{ "intermediate_private_key_label_in_pkcs11", CFG_K_STR },
	{ "pkcs11_library", CFG_K_STR },
	{ "pkcs11_library_pin", CFG_K_STR },
	{ "mtls_ca_cert", CFG_K_STR },
	{ "new_intermediate_cert", CFG_K_BOOL },
	{ "port", CFG_K_PORT },
	{ "encryption_key_file_path", CFG_K_STR },
	/* seed blocks, tables 2-8: kept in root for the cron tools */
	{ "intermediate_cert_config", CFG_K_OBJ },
	{ "device_cert_config", CFG_K_OBJ },
	{ "certificateRenewal_config", CFG_K_OBJ },
	{ "mtls_server_cert_config", CFG_K_OBJ },
	{ "mtls_client_auth_cert_config", CFG_K_OBJ },
	{ "discover_certificate_config", CFG_K_OBJ },
	{ "mtls_azure_device_registration", CFG_K_OBJ },
	/* microca */
	{ "intermediate_private_key_path", CFG_K_STR },
	{ "ledger_db_path", CFG_K_STR },
	{ "issued_certs_dir", CFG_K_STR },
	{ "default_end_point_name", CFG_K_STR },
	{ "ledger_synchronous", CFG_K_STR },
	{ "issued_certs_synchronous", CFG_K_STR },
	{ "rollover_cert_path", CFG_K_STR },
	{ "reenroll_grace_seconds", CFG_K_SECS },
};

/* Keys of an end_certificate_config_<N> block (table 10, plus ours). */
static const char *const cfg_profile_keys[] = {
	"end_point_name",
	"validity_in_days",
	"extended_key_usage_list",
	"key_usage",
	"is_device_cert",
	"is_unlimited_validity",
	"is_ca",
	"path_length_constraint",
	"base64_line_length",
	"key_type",
	"key_size",
	"server_key_type",
	"server_key_size",
	"auth_methods",
	"mtls_ca_cert",
	"allowed_keys",
	"subject_patterns",
	/* lib/cfg_policy.c */
	"subject_unlisted",
	"san_policy",
	"ra_subject_patterns",
	"reenroll_grace_seconds",
};

/* auth_methods names. */
static const struct {
	const char	*name;
	unsigned	 bit;
} cfg_auth[] = {
	{ "certificate", MCA_AUTH_CERTIFICATE },
	{ "passcode", MCA_AUTH_PASSCODE },
	{ "remote_user", MCA_AUTH_REMOTE_USER },
};

/* allowed_keys: the curves, as mca_key_describe() names them. */
static const struct {
	const char	*name;
	int		 bits;
} cfg_curves[] = {
	{ "EC-P-256", 256 },
	{ "EC-P-384", 384 },
	{ "EC-P-521", 521 },
};
#define CFG_RSA_MIN	2048	/* the sizes csr.c accepts at all */
#define CFG_RSA_MAX	8192

/* subject_patterns: the attribute types a subject DN may be held to. */
static const int cfg_subject_nids[] = {
	NID_commonName, NID_countryName, NID_localityName,
	NID_stateOrProvinceName, NID_organizationName,
	NID_organizationalUnitName, NID_serialNumber, NID_pkcs9_emailAddress,
	NID_domainComponent, NID_userId, NID_title, NID_surname,
	NID_givenName, NID_initials, NID_pseudonym, NID_streetAddress,
	NID_postalCode, NID_name, NID_dnQualifier, NID_generationQualifier,
	NID_organizationIdentifier,
};

static const struct {
	const char	*name;
	unsigned	 bit;
} cfg_ku[] = {
	{ "digital_signature", MCA_KU_DIGITAL_SIGNATURE },
	{ "non_repudiation", MCA_KU_NON_REPUDIATION },
	{ "key_encipherment", MCA_KU_KEY_ENCIPHERMENT },
	{ "data_encipherment", MCA_KU_DATA_ENCIPHERMENT },
	{ "key_agreement", MCA_KU_KEY_AGREEMENT },
	{ "key_cert_sign", MCA_KU_KEY_CERT_SIGN },
	{ "crl_sign", MCA_KU_CRL_SIGN },
	{ "encipher_only", MCA_KU_ENCIPHER_ONLY },
	{ "decipher_only", MCA_KU_DECIPHER_ONLY },
};

/* A label must not shadow an operation path (RFC 7030 3.2.2). */
static const char *const cfg_est_ops[] = {
	"cacerts", "simpleenroll", "simplereenroll", "csrattrs",
	"serverkeygen", "fullcmc",
};


/* One end_certificate_config_<N> block before sorting. */
struct cfg_ent {
	int			 n;
	struct json_object	*obj;
};

/*
 * Copies text from the file into buf for a message: printable ASCII only
 * (others, '"' and '\\' become '?'), cut at CFG_SHOW_MAX with "...".
 */
const char *
cfg_show(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t	 i, o = 0;

	for (i = 0; i < len && o + 4 < buflen; i++) {
		if (i == CFG_SHOW_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			buf[o++] = '?';
		else
			buf[o++] = s[i];
	}
	buf[o] = '\0';
	return buf;
}

/* Writes "<path>: <key>: <what>" into d; returns MCA_ERR_CONFIG. */
int
cfg_err(struct cfg_ctx *c, const char *key, const char *fmt, ...)
{
	va_list	 ap;
	char	 what[MCA_DIAG_LEN];

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (key == NULL)
		return mca_diag(c->d, MCA_ERR_CONFIG, "%s: %s", c->path, what);
	return mca_diag(c->d, MCA_ERR_CONFIG, "%s: %s: %s", c->path, key,
	    what);
}

/*
 * Appends "<path>: <what>" to cfg->warnings. After CFG_WARN_MAX - 1
 * lines, one last line says the rest was suppressed.
 * Returns 0 or MCA_ERR_NOMEM.
 */
int
cfg_warn(struct cfg_ctx *c, const char *fmt, ...)
{
	struct mca_cfg	*cfg = c->cfg;
	va_list		 ap;
	char		 what[MCA_DIAG_LEN], line[MCA_DIAG_LEN];
	char		**nw, *s;

	if (cfg->nwarnings >= CFG_WARN_MAX)
		return 0;
	if (cfg->nwarnings == CFG_WARN_MAX - 1)
		(void)snprintf(what, sizeof(what),
		    "further warnings suppressed");
	else {
		va_start(ap, fmt);
		(void)vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
	}
	/* A line cut at MCA_DIAG_LEN is still worth keeping. */
	if (snprintf(line, sizeof(line), "%s: %s", c->path, what) < 0 ||
	    (s = strdup(line)) == NULL)
		return MCA_ERR_NOMEM;
	nw = reallocarray(cfg->warnings, cfg->nwarnings + 1, sizeof(*nw));
	if (nw == NULL) {
		free(s);
		return MCA_ERR_NOMEM;
	}
	cfg->warnings = nw;
	cfg->warnings[cfg->nwarnings++] = s;
	return 0;
}

/* 1 and *v set if obj has key (*v is NULL for JSON null), else 0. */
int
cfg_lookup(struct json_object *obj, const char *key, struct json_object **v)
{
	*v = NULL;
	return json_object_object_get_ex(obj, key, v) ? 1 : 0;
}

/*
 * Checks that v is a usable string: non-empty, at most CFG_STR_MAX bytes,
 * no NUL. Returns 0 or MCA_ERR_CONFIG naming name.
 */
int
cfg_check_str(struct cfg_ctx *c, const char *name, struct json_object *v)
{
	const char	*s;
	size_t		 len;

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return cfg_err(c, name, "expected a string");
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0)
		return cfg_err(c, name, "must not be empty");
	if (len > CFG_STR_MAX)
		return cfg_err(c, name, "longer than %d bytes", CFG_STR_MAX);
	if (memchr(s, '\0', len) != NULL)
		return cfg_err(c, name, "contains a NUL character");
	return 0;
}

/*
 * Copies the string at obj.key into *out (left alone if absent).
 * Returns 0, MCA_ERR_CONFIG (wrong, or missing and required) or
 * MCA_ERR_NOMEM.
 */
static int
cfg_get_str(struct cfg_ctx *c, struct json_object *obj, const char *name,
    const char *key, int required, char **out)
{
	struct json_object	*v;
	int			 rc;

	if (!cfg_lookup(obj, key, &v)) {
		if (required)
			return cfg_err(c, name, "missing (required)");
		return 0;
	}
	if ((rc = cfg_check_str(c, name, v)) != 0)
		return rc;
	free(*out);
	if ((*out = strdup(json_object_get_string(v))) == NULL)
		return MCA_ERR_NOMEM;
	return 0;
}

/*
 * The ..._synchronous keys: *out is 1 for "FULL" or when v is absent, 0
 * for the word off ("NORMAL", "OFF"), in any case. 0 or MCA_ERR_CONFIG.
 */
static int
cfg_sync_word(struct cfg_ctx *c, const char *key, const char *v,
    const char *off, int *out)
{
	char	 show[CFG_SHOW_MAX + 8];

	*out = 1;
	if (v == NULL || strcasecmp(v, "FULL") == 0)
		return 0;
	if (strcasecmp(v, off) == 0) {
		*out = 0;
		return 0;
	}
	return cfg_err(c, key, "\"%s\": expected \"FULL\" or \"%s\"",
	    cfg_show(v, strlen(v), show, sizeof(show)), off);
}

/* *out is the boolean at obj.key, 0 if absent. 0 or MCA_ERR_CONFIG. */
int
cfg_get_bool(struct cfg_ctx *c, struct json_object *obj, const char *name,
    const char *key, int *out)
{
	struct json_object	*v;

	*out = 0;
	if (!cfg_lookup(obj, key, &v))
		return 0;
	if (v == NULL || !json_object_is_type(v, json_type_boolean))
		return cfg_err(c, name, "expected true or false");
	*out = json_object_get_boolean(v) ? 1 : 0;
	return 0;
}

/*
 * *out is the integer at obj.key, which must lie in [lo, hi]; *present
 * says whether the key is there (JSON null counts as there and wrong).
 * Returns 0 or MCA_ERR_CONFIG.
 */
int
cfg_get_int(struct cfg_ctx *c, struct json_object *obj, const char *name,
    const char *key, long long lo, long long hi, long long *out,
    int *present)
{
	struct json_object	*v;
	long long		 n;

	*out = 0;
	*present = cfg_lookup(obj, key, &v);
	if (!*present)
		return 0;
	/* json-c saturates integers beyond int64 at INT64_MIN/MAX. */
	if (v == NULL || !json_object_is_type(v, json_type_int) ||
	    (n = json_object_get_int64(v)) < lo || n > hi)
		return cfg_err(c, name, "expected an integer from %lld to %lld",
		    lo, hi);
	*out = n;
	return 0;
}

/* Writes "prefix.key" (or "key" for an empty prefix) into buf. */
const char *
cfg_name(char *buf, size_t len, const char *prefix, const char *key)
{
	int	 n;

	/* Our names fit; a cut one would still point at the key. */
	if (prefix == NULL || *prefix == '\0')
		n = snprintf(buf, len, "%s", key);
	else
		n = snprintf(buf, len, "%s.%s", prefix, key);
	if (n < 0 && len > 0)
		buf[0] = '\0';
	return buf;
}

/*
 * Checks an EST label: 1-64 characters of [A-Za-z0-9._-], not starting
 * with '.' (no "." or ".." path segments), not an operation name.
 * Returns 0 or MCA_ERR_CONFIG.
 */
static int
cfg_check_label(struct cfg_ctx *c, const char *name, const char *s)
{
	char	 show[CFG_SHOW_MAX + 8];
	size_t	 i, len = strlen(s);

	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			break;
	if (len > MCA_LABEL_MAX || i < len || s[0] == '.')
		return cfg_err(c, name, "\"%s\" is not a valid EST label "
		    "(1 to %d characters of A-Z a-z 0-9 . _ -, "
		    "not starting with '.')",
		    cfg_show(s, len, show, sizeof(show)), MCA_LABEL_MAX);
	for (i = 0; i < NELEM(cfg_est_ops); i++)
		if (strcasecmp(s, cfg_est_ops[i]) == 0)
			return cfg_err(c, name, "\"%s\" is an EST operation "
			    "name, not usable as a label", s);
	return 0;
}

/*
 * 1 if s is dotted decimal: two arcs or more, digits only, no empty arc,
 * no leading zero. OBJ_txt2obj() checks the rest (first arcs, X.660).
 */
static int
cfg_oid_syntax(const char *s)
{
	size_t	 arcs = 0, digits = 0;

	for (;; s++) {
		if (*s >= '0' && *s <= '9') {
			if (digits == 1 && s[-1] == '0')
				return 0;
			digits++;
			continue;
		}
		if ((*s != '.' && *s != '\0') || digits == 0)
			return 0;
		arcs++;
		digits = 0;
		if (*s == '\0')
			break;
	}
	return arcs >= 2;
}

/* extended_key_usage_list: dotted OIDs, stored in canonical form. */
static int
cfg_parse_eku(struct cfg_ctx *c, const char *prefix, struct json_object *blk,
    struct mca_profile *p)
{
	struct json_object	*arr, *v;
	ASN1_OBJECT		*oid = NULL;
	char			 name[CFG_NAME_MAX], ename[CFG_NAME_MAX + 16];
	char			 show[CFG_SHOW_MAX + 8], txt[CFG_OID_MAX + 1];
	const char		*s;
	size_t			 i, n, len;
	int			 rc = MCA_ERR_INTERNAL, tlen;

	cfg_name(name, sizeof(name), prefix, "extended_key_usage_list");
	if (!cfg_lookup(blk, "extended_key_usage_list", &arr))
		return 0;
	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return cfg_err(c, name, "expected an array of OID strings");
	n = json_object_array_length(arr);
	if (n > MCA_CFG_MAX_EKU)
		return cfg_err(c, name, "more than %d entries",
		    MCA_CFG_MAX_EKU);
	if (n == 0)
		return 0;
	if ((p->eku = calloc(n, sizeof(*p->eku))) == NULL)
		return MCA_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		(void)snprintf(ename, sizeof(ename), "%s[%zu]", name, i);
		v = json_object_array_get_idx(arr, i);
		if ((rc = cfg_check_str(c, ename, v)) != 0)
			goto out;
		s = json_object_get_string(v);
		len = strlen(s);
		if (len > CFG_OID_MAX || !cfg_oid_syntax(s) ||
		    (oid = OBJ_txt2obj(s, 1)) == NULL ||
		    (tlen = OBJ_obj2txt(txt, sizeof(txt), oid, 1)) <= 0 ||
		    (size_t)tlen >= sizeof(txt)) {
			ERR_clear_error();
			rc = cfg_err(c, ename, "\"%s\" is not a dotted OID",
			    cfg_show(s, len, show, sizeof(show)));
			goto out;
		}
		ASN1_OBJECT_free(oid);
		oid = NULL;
		if ((p->eku[i] = strdup(txt)) == NULL) {
			rc = MCA_ERR_NOMEM;
			goto out;
		}
		p->neku = i + 1;
	}
	rc = 0;
out:
	ASN1_OBJECT_free(oid);
	return rc;
}

/* key_usage: an object of the 9 booleans; missing flags are false. */
static int
cfg_parse_ku(struct cfg_ctx *c, const char *prefix, struct json_object *blk,
    struct mca_profile *p)
{
	struct json_object_iterator	 it, end;
	struct json_object		*obj, *v;
	char				 name[CFG_NAME_MAX];
	char				 fname[CFG_NAME_MAX];
	char				 show[CFG_SHOW_MAX + 8];
	const char			*k;
	size_t				 i;
	int				 rc;

	cfg_name(name, sizeof(name), prefix, "key_usage");
	p->key_usage = 0;
	if (!cfg_lookup(blk, "key_usage", &obj))
		return 0;
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return cfg_err(c, name, "expected an object of true/false "
		    "flags");
	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		k = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		for (i = 0; i < NELEM(cfg_ku); i++)
			if (strcmp(k, cfg_ku[i].name) == 0)
				break;
		if (i == NELEM(cfg_ku)) {
			if ((rc = cfg_warn(c, "unknown key \"%s.%s\" ignored",
			    name, cfg_show(k, strlen(k), show,
			    sizeof(show)))) != 0)
				return rc;
			continue;
		}
		cfg_name(fname, sizeof(fname), name, k);
		if (v == NULL || !json_object_is_type(v, json_type_boolean))
			return cfg_err(c, fname, "expected true or false");
		if (json_object_get_boolean(v))
			p->key_usage |= cfg_ku[i].bit;
	}
	return 0;
}

/* key_type and key_size (microca additions). */
static int
cfg_parse_key(struct cfg_ctx *c, const char *prefix, struct json_object *blk,
    struct mca_profile *p)
{
	struct json_object	*v;
	char		 name[CFG_NAME_MAX], sname[CFG_NAME_MAX];
	char		 show[CFG_SHOW_MAX + 8];
	char		*kt = NULL;
	long long	 n;
	int		 rc = MCA_ERR_INTERNAL, present;

	p->key_type = MCA_KEYTYPE_ANY;
	p->key_size = 0;
	cfg_name(name, sizeof(name), prefix, "key_type");
	cfg_name(sname, sizeof(sname), prefix, "key_size");
	if ((rc = cfg_get_str(c, blk, name, "key_type", 0, &kt)) != 0)
		goto out;
	if (kt == NULL) {
		if (cfg_lookup(blk, "key_size", &v))
			rc = cfg_err(c, sname, "needs key_type (\"RSA\" or "
			    "\"ECC\")");
		goto out;
	}
	/* The seed spells EC keys "ECC". */
	if (strcasecmp(kt, "RSA") == 0) {
		p->key_type = MCA_KEYTYPE_RSA;
		if ((rc = cfg_get_int(c, blk, sname, "key_size", 2048, 8192,
		    &n, &present)) != 0)
			goto out;
	} else if (strcasecmp(kt, "ECC") == 0 || strcasecmp(kt, "EC") == 0) {
		p->key_type = MCA_KEYTYPE_EC;
		if ((rc = cfg_get_int(c, blk, sname, "key_size", 0, INT_MAX,
		    &n, &present)) != 0 ||
		    (present && n != 256 && n != 384 && n != 521)) {
			rc = cfg_err(c, sname, "expected 256, 384 or 521 "
			    "for ECC");
			goto out;
		}
	} else {
		rc = cfg_err(c, name, "\"%s\" is not a key type (\"RSA\" or "
		    "\"ECC\")", cfg_show(kt, strlen(kt), show, sizeof(show)));
		goto out;
	}
	p->key_size = present ? (int)n : 0;
	rc = 0;
out:
	free(kt);
	return rc;
}

/*
 * server_key_type and server_key_size (microca additions): the key pair
 * /serverkeygen makes (RFC 7030 4.4). The sizes are those lib/keygen.c
 * makes; check_keygen holds the two lists together. Runs after
 * cfg_parse_key(), whose key_type/key_size give the defaults.
 */
static int
cfg_parse_server_key(struct cfg_ctx *c, const char *prefix,
    struct json_object *blk, struct mca_profile *p)
{
	char		 name[CFG_NAME_MAX], sname[CFG_NAME_MAX];
	char		 show[CFG_SHOW_MAX + 8];
	char		*kt = NULL;
	long long	 n;
	int		 rc = MCA_ERR_INTERNAL, present;

	cfg_name(name, sizeof(name), prefix, "server_key_type");
	cfg_name(sname, sizeof(sname), prefix, "server_key_size");
	if ((rc = cfg_get_str(c, blk, name, "server_key_type", 0, &kt)) != 0)
		goto out;
	if (kt == NULL)
		p->server_key_type = p->key_type != MCA_KEYTYPE_ANY ?
		    p->key_type : MCA_KEYTYPE_RSA;
	else if (strcasecmp(kt, "RSA") == 0)
		p->server_key_type = MCA_KEYTYPE_RSA;
	else if (strcasecmp(kt, "ECC") == 0 || strcasecmp(kt, "EC") == 0)
		p->server_key_type = MCA_KEYTYPE_EC;
	else {
		rc = cfg_err(c, name, "\"%s\" is not a key type (\"RSA\" or "
		    "\"ECC\")", cfg_show(kt, strlen(kt), show, sizeof(show)));
		goto out;
	}
	rc = cfg_get_int(c, blk, sname, "server_key_size", 0, INT_MAX, &n,
	    &present);
	if (p->server_key_type == MCA_KEYTYPE_RSA) {
		if (rc != 0 || (present && n != 2048 && n != 3072 &&
		    n != 4096)) {
			rc = cfg_err(c, sname, "expected 2048, 3072 or 4096 "
			    "(server keys are RSA)");
			goto out;
		}
	} else if (rc != 0 || (present && n != 256 && n != 384)) {
		rc = cfg_err(c, sname, "expected 256 or 384 (server keys are "
		    "ECC)");
		goto out;
	}
	if (present)
		p->server_key_size = (int)n;
	else if (p->server_key_type == p->key_type &&
	    ((p->key_type == MCA_KEYTYPE_RSA && (p->key_size == 2048 ||
	    p->key_size == 3072 || p->key_size == 4096)) ||
	    (p->key_type == MCA_KEYTYPE_EC && (p->key_size == 256 ||
	    p->key_size == 384))))
		p->server_key_size = p->key_size;
	else
		p->server_key_size =
		    p->server_key_type == MCA_KEYTYPE_RSA ? 2048 : 256;

	/* A label whose own key rule would refuse the keys it makes. */
	if (p->key_type != MCA_KEYTYPE_ANY &&
	    (p->server_key_type != p->key_type ||
	    (p->key_size != 0 && p->server_key_size != p->key_size)) &&
	    (rc = cfg_warn(c, "%s: /serverkeygen makes %s-%d keys, which "
	    "key_type/key_size refuse in CSRs", prefix,
	    p->server_key_type == MCA_KEYTYPE_RSA ? "RSA" : "ECC",
	    p->server_key_size)) != 0)
		goto out;
	rc = 0;
out:
	free(kt);
	return rc;
}

/*
 * Checks that obj.key is an array of 1..max strings; *arr is it, or NULL
 * when absent. 0 or MCA_ERR_CONFIG.
 */
int
cfg_get_strarray(struct cfg_ctx *c, struct json_object *obj,
    const char *name, const char *key, size_t max, const char *what,
    struct json_object **arr)
{
	struct json_object	*v;
	char			 ename[CFG_NAME_MAX + 16];
	size_t			 i, n;
	int			 rc;

	*arr = NULL;
	if (!cfg_lookup(obj, key, &v))
		return 0;
	if (v == NULL || !json_object_is_type(v, json_type_array))
		return cfg_err(c, name, "expected an array of %s", what);
	n = json_object_array_length(v);
	if (n == 0)
		return cfg_err(c, name, "must name at least one of %s", what);
	if (n > max)
		return cfg_err(c, name, "more than %zu entries", max);
	for (i = 0; i < n; i++) {
		(void)snprintf(ename, sizeof(ename), "%s[%zu]", name, i);
		if ((rc = cfg_check_str(c, ename,
		    json_object_array_get_idx(v, i))) != 0)
			return rc;
	}
	*arr = v;
	return 0;
}

/* auth_methods: default ["certificate"]. */
static int
cfg_parse_auth(struct cfg_ctx *c, const char *prefix, struct json_object *blk,
    struct mca_profile *p)
{
	struct json_object	*arr;
	char			 name[CFG_NAME_MAX], ename[CFG_NAME_MAX + 16];
	char			 show[CFG_SHOW_MAX + 8];
	const char		*s;
	size_t			 i, j, n;
	int			 rc;

	cfg_name(name, sizeof(name), prefix, "auth_methods");
	p->auth_methods = MCA_AUTH_CERTIFICATE;
	if ((rc = cfg_get_strarray(c, blk, name, "auth_methods",
	    NELEM(cfg_auth), "\"certificate\", \"passcode\", "
	    "\"remote_user\"", &arr)) != 0 || arr == NULL)
		return rc;
	p->auth_methods = 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		(void)snprintf(ename, sizeof(ename), "%s[%zu]", name, i);
		s = json_object_get_string(json_object_array_get_idx(arr, i));
		for (j = 0; j < NELEM(cfg_auth); j++)
			if (strcmp(s, cfg_auth[j].name) == 0)
				break;
		if (j == NELEM(cfg_auth))
			return cfg_err(c, ename, "\"%s\" is not an "
			    "authentication method (\"certificate\", "
			    "\"passcode\" or \"remote_user\")",
			    cfg_show(s, strlen(s), show, sizeof(show)));
		if (p->auth_methods & cfg_auth[j].bit)
			return cfg_err(c, ename, "\"%s\" is listed twice", s);
		p->auth_methods |= cfg_auth[j].bit;
	}
	return 0;
}

/*
 * One allowed_keys name into k: "RSA-<bits>" (2048-8192) or
 * "EC-P-256/384/521", any case, stored as mca_key_describe() spells it.
 * 0 or -1.
 */
static int
cfg_keyspec(const char *s, struct mca_keyspec *k)
{
	long long	 bits;
	size_t		 i;

	memset(k, 0, sizeof(*k));
	for (i = 0; i < NELEM(cfg_curves); i++)
		if (strcasecmp(s, cfg_curves[i].name) == 0) {
			k->type = MCA_KEYTYPE_EC;
			k->size = cfg_curves[i].bits;
			(void)snprintf(k->name, sizeof(k->name), "%s",
			    cfg_curves[i].name);
			return 0;
		}
	if (strncasecmp(s, "RSA-", 4) == 0 &&
	    mca_num_parse(s + 4, strlen(s + 4), CFG_RSA_MIN, CFG_RSA_MAX,
	    &bits) == 0) {
		k->type = MCA_KEYTYPE_RSA;
		k->size = (int)bits;
		(void)snprintf(k->name, sizeof(k->name), "RSA-%d", k->size);
		return 0;
	}
	return -1;
}

/* allowed_keys: the exact keys a CSR may carry on this label. */
static int
cfg_parse_allowed(struct cfg_ctx *c, const char *prefix,
    struct json_object *blk, struct mca_profile *p)
{
	struct json_object	*arr, *v;
	struct mca_keyspec	 k;
	char			 name[CFG_NAME_MAX], ename[CFG_NAME_MAX + 16];
	char			 show[CFG_SHOW_MAX + 8];
	const char		*s;
	size_t			 i, j, n;
	int			 rc;

	cfg_name(name, sizeof(name), prefix, "allowed_keys");
	if ((rc = cfg_get_strarray(c, blk, name, "allowed_keys",
	    MCA_CFG_MAX_KEYS, "key names (\"EC-P-256\", \"RSA-2048\", ...)",
	    &arr)) != 0 || arr == NULL)
		return rc;
	/* One way to say it: key_type/key_size is the shorthand. */
	if (cfg_lookup(blk, "key_type", &v) || cfg_lookup(blk, "key_size", &v))
		return cfg_err(c, name, "cannot be combined with key_type/"
		    "key_size (use one or the other)");
	n = json_object_array_length(arr);
	if ((p->allowed_keys = calloc(n, sizeof(*p->allowed_keys))) == NULL)
		return MCA_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		(void)snprintf(ename, sizeof(ename), "%s[%zu]", name, i);
		s = json_object_get_string(json_object_array_get_idx(arr, i));
		if (cfg_keyspec(s, &k) != 0)
			return cfg_err(c, ename, "\"%s\" is not a key name "
			    "(\"RSA-<2048 to 8192>\", \"EC-P-256\", "
			    "\"EC-P-384\" or \"EC-P-521\")",
			    cfg_show(s, strlen(s), show, sizeof(show)));
		for (j = 0; j < p->nallowed_keys; j++)
			if (strcmp(p->allowed_keys[j].name, k.name) == 0)
				return cfg_err(c, ename, "\"%s\" is listed "
				    "twice", k.name);
		p->allowed_keys[p->nallowed_keys++] = k;
	}
	return 0;
}

/* The NID of a subject attribute name ("CN", "commonName"), or NID_undef. */
static int
cfg_subject_nid(const char *s)
{
	size_t	 i;
	int	 nid;

	for (i = 0; i < NELEM(cfg_subject_nids); i++) {
		nid = cfg_subject_nids[i];
		if (strcasecmp(s, OBJ_nid2sn(nid)) == 0 ||
		    strcasecmp(s, OBJ_nid2ln(nid)) == 0)
			return nid;
	}
	return NID_undef;
}

/*
 * Reads an interval "{m}", "{m,}", "{m,n}" or "{,n}" at s; *len is its length
 * and *max its upper bound (m when unbounded). 0, or -1 if s is not an
 * interval (regcomp decides what it is then).
 */
static int
cfg_interval(const char *s, size_t *len, long long *max)
{
	const char	*p = s + 1, *q;
	long long	 m, n;

	/* glibc also reads "{,n}" as "{0,n}". */
	for (q = p; *q >= '0' && *q <= '9'; q++)
		continue;
	m = 0;
	if ((q == p && *q != ',') || (q > p &&
	    mca_num_parse(p, (size_t)(q - p), 0, INT_MAX, &m) != 0))
		return -1;
	n = m;
	if (*q == ',') {
		for (p = ++q; *q >= '0' && *q <= '9'; q++)
			continue;
		if (q > p && mca_num_parse(p, (size_t)(q - p), 0, INT_MAX,
		    &n) != 0)
			return -1;
		if (q == p)
			n = m;
	}
	if (*q != '}')
		return -1;
	*len = (size_t)(q - s) + 1;
	*max = n > m ? n : m;
	return 0;
}

/*
 * Checks a regex for what glibc's regcomp() would spend gigabytes on:
 * a repetition of a repetition ("a++", "a*{2}": POSIX XBD 9.4.6 leaves
 * them undefined), an interval bound over RE_DUP_MAX (255), and nested
 * intervals that multiply to more than CFG_REGEX_COPIES copies of their
 * operand (regcomp expands intervals). NULL if fine, else why not.
 */
#define CFG_REGEX_COPIES	1024
#define CFG_REGEX_DEPTH		32

static const char *
cfg_regex_cost(const char *s)
{
	long long	 inner[CFG_REGEX_DEPTH + 1], last = 0, max, prod;
	size_t		 i, len, depth = 0;
	int		 quant = 0;	/* the previous token repeats */

	inner[0] = 1;
	for (i = 0; s[i] != '\0'; ) {
		switch (s[i]) {
		case '\\':
			last = 1;
			quant = 0;
			i += s[i + 1] != '\0' ? 2 : 1;
			continue;
		case '[':
			/* A bracket expression: one atom, ']' first is literal. */
			i++;
			if (s[i] == '^')
				i++;
			if (s[i] == ']')
				i++;
			while (s[i] != '\0' && s[i] != ']') {
				if (s[i] == '[' && (s[i + 1] == ':' ||
				    s[i + 1] == '.' || s[i + 1] == '=') &&
				    (len = strcspn(s + i + 2, "]")) > 0 &&
				    s[i + 2 + len] != '\0')
					i += len + 3;
				else
					i++;
			}
			if (s[i] == ']')
				i++;
			last = 1;
			quant = 0;
			continue;
		case '(':
			if (depth == CFG_REGEX_DEPTH)
				return "groups nested too deep";
			inner[++depth] = 1;
			last = 0;
			quant = 0;
			i++;
			continue;
		case ')':
			/* The group is one operand; its cost counts outside. */
			last = 1;
			if (depth > 0) {
				last = inner[depth--];
				if (last > inner[depth])
					inner[depth] = last;
			}
			quant = 0;
			i++;
			continue;
		case '|':
		case '^':
		case '$':
			last = 0;
			quant = 0;
			i++;
			continue;
		case '*':
		case '+':
		case '?':
		case '{':
			max = s[i] == '+' ? 2 : 1;
			len = 1;
			if (s[i] == '{' && cfg_interval(s + i, &len, &max) != 0) {
				/* Not an interval: a literal, or regcomp's error. */
				last = 1;
				quant = 0;
				i++;
				continue;
			}
			if (quant)
				return "a repetition of a repetition (\"a++\", "
				    "\"a*{2}\": POSIX leaves them undefined)";
			if (max > 255)
				return "an interval bound over 255 (RE_DUP_MAX)";
			prod = (last > 0 ? last : 1) * (max > 0 ? max : 1);
			if (prod > CFG_REGEX_COPIES)
				return "nested intervals repeat more than 1024 "
				    "times";
			if (prod > inner[depth])
				inner[depth] = prod;
			last = prod;
			quant = 1;
			i += len;
			continue;
		default:
			last = 1;
			quant = 0;
			i++;
			continue;
		}
	}
	return NULL;
}

int
cfg_compile_pattern(struct cfg_ctx *c, const char *name,
    struct json_object *v, regex_t *re, char **pattern)
{
	char		 show[CFG_SHOW_MAX + 8], err[128];
	const char	*s, *why;
	size_t		 len;
	int		 rc, ec;

	*pattern = NULL;
	if ((rc = cfg_check_str(c, name, v)) != 0)
		return rc;
	s = json_object_get_string(v);
	len = strlen(s);
	if (len > CFG_PATTERN_MAX)
		return cfg_err(c, name, "longer than %d bytes",
		    CFG_PATTERN_MAX);
	if ((why = cfg_regex_cost(s)) != NULL)
		return cfg_err(c, name, "\"%s\" is refused: %s",
		    cfg_show(s, len, show, sizeof(show)), why);
	if ((ec = regcomp(re, s, REG_EXTENDED | REG_NOSUB)) != 0) {
		(void)regerror(ec, re, err, sizeof(err));
		return cfg_err(c, name, "\"%s\" is not a POSIX "
		    "extended regular expression: %s",
		    cfg_show(s, len, show, sizeof(show)), err);
	}
	if ((*pattern = strdup(s)) == NULL) {
		regfree(re);
		return MCA_ERR_NOMEM;
	}
	/* Anchors are the operator's choice; say when they are off. */
	if (s[0] != '^' || s[len - 1] != '$')
		return cfg_warn(c, "%s: not anchored with ^ and $: it "
		    "matches anywhere in the value", name);
	return 0;
}

/* subject_patterns, ra_subject_patterns: attribute -> POSIX ERE. */
int
cfg_parse_rules(struct cfg_ctx *c, const char *prefix,
    struct json_object *blk, const char *key,
    struct mca_subject_rule **rules, size_t *nrules)
{
	struct json_object_iterator	 it, end;
	struct json_object		*obj, *v;
	struct mca_subject_rule		*r;
	char				 name[CFG_NAME_MAX];
	char				 ename[CFG_NAME_MAX + CFG_SHOW_MAX + 8];
	char				 show[CFG_SHOW_MAX + 8];
	const char			*k;
	size_t				 i, n;
	int				 rc, nid;

	cfg_name(name, sizeof(name), prefix, key);
	if (!cfg_lookup(blk, key, &obj))
		return 0;
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return cfg_err(c, name, "expected an object of attribute: "
		    "regex (e.g. {\"CN\": \"^dev-[0-9]+$\"})");
	n = (size_t)json_object_object_length(obj);
	if (n > MCA_CFG_MAX_SUBJECT)
		return cfg_err(c, name, "more than %d entries",
		    MCA_CFG_MAX_SUBJECT);
	if (n == 0)
		return 0;
	if ((*rules = calloc(n, sizeof(**rules))) == NULL)
		return MCA_ERR_NOMEM;
	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		k = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		(void)snprintf(ename, sizeof(ename), "%s.%s", name,
		    cfg_show(k, strlen(k), show, sizeof(show)));
		if ((nid = cfg_subject_nid(k)) == NID_undef)
			return cfg_err(c, ename, "not a subject attribute "
			    "(CN, O, OU, C, L, ST, serialNumber, "
			    "emailAddress, DC, UID, ...)");
		for (i = 0; i < *nrules; i++)
			if ((*rules)[i].nid == nid)
				return cfg_err(c, ename, "same attribute as "
				    "\"%s\"", (*rules)[i].attr);
		r = &(*rules)[*nrules];
		if ((r->attr = strdup(k)) == NULL)
			return MCA_ERR_NOMEM;
		if ((rc = cfg_compile_pattern(c, ename, v, &r->re,
		    &r->pattern)) != 0 && r->pattern == NULL) {
			free(r->attr);
			r->attr = NULL;
			return rc;
		}
		r->nid = nid;
		(*nrules)++;
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
cfg_rules_free(struct mca_subject_rule *rules, size_t nrules)
{
	size_t	 i;

	for (i = 0; i < nrules; i++) {
		regfree(&rules[i].re);
		free(rules[i].attr);
		free(rules[i].pattern);
	}
	free(rules);
}

/*
 * The policy keys of a label (microca additions): auth_methods,
 * mtls_ca_cert, allowed_keys, subject_patterns, then those of
 * lib/cfg_policy.c.
 */
static int
cfg_parse_policy(struct cfg_ctx *c, const char *prefix,
    struct json_object *blk, struct mca_profile *p)
{
	char	 name[CFG_NAME_MAX];
	int	 rc;

	if ((rc = cfg_parse_auth(c, prefix, blk, p)) != 0)
		return rc;
	cfg_name(name, sizeof(name), prefix, "mtls_ca_cert");
	if ((rc = cfg_get_str(c, blk, name, "mtls_ca_cert", 0,
	    &p->mtls_ca_cert)) != 0)
		return rc;
	if (p->mtls_ca_cert != NULL &&
	    !(p->auth_methods & MCA_AUTH_CERTIFICATE) &&
	    (rc = cfg_warn(c, "%s: ignored: auth_methods does not include "
	    "\"certificate\"", name)) != 0)
		return rc;
	if ((rc = cfg_parse_allowed(c, prefix, blk, p)) != 0 ||
	    (rc = cfg_parse_rules(c, prefix, blk, "subject_patterns",
	    &p->subject_rules, &p->nsubject_rules)) != 0)
		return rc;
	return cfg_parse_identity(c, prefix, blk, p);
}

/* One end_certificate_config_<N> block into p. */
static int
cfg_parse_profile(struct cfg_ctx *c, const struct cfg_ent *e,
    struct mca_profile *p)
{
	struct json_object_iterator	 it, end;
	struct json_object		*blk = e->obj, *v;
	char				 prefix[CFG_NAME_MAX];
	char				 name[CFG_NAME_MAX];
	char				 show[CFG_SHOW_MAX + 8];
	const char			*k;
	long long			 n;
	size_t				 i;
	int				 rc, present;

	(void)snprintf(prefix, sizeof(prefix), CFG_PREFIX "%d", e->n);
	p->index = e->n;
	p->path_len = -1;
	p->b64_line_length = CFG_DEF_B64;
	if (blk == NULL || !json_object_is_type(blk, json_type_object))
		return cfg_err(c, prefix, "expected an object");

	it = json_object_iter_begin(blk);
	end = json_object_iter_end(blk);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		k = json_object_iter_peek_name(&it);
		for (i = 0; i < NELEM(cfg_profile_keys); i++)
			if (strcmp(k, cfg_profile_keys[i]) == 0)
				break;
		if (i == NELEM(cfg_profile_keys) &&
		    (rc = cfg_warn(c, "unknown key \"%s.%s\" ignored", prefix,
		    cfg_show(k, strlen(k), show, sizeof(show)))) != 0)
			return rc;
	}

	cfg_name(name, sizeof(name), prefix, "end_point_name");
	if ((rc = cfg_get_str(c, blk, name, "end_point_name", 1,
	    &p->name)) != 0 ||
	    (rc = cfg_check_label(c, name, p->name)) != 0)
		return rc;

	if ((rc = cfg_get_bool(c, blk, cfg_name(name, sizeof(name), prefix,
	    "is_unlimited_validity"), "is_unlimited_validity",
	    &p->is_unlimited_validity)) != 0)
		return rc;
	cfg_name(name, sizeof(name), prefix, "validity_in_days");
	if ((rc = cfg_get_int(c, blk, name, "validity_in_days", 1,
	    CFG_VALIDITY_MAX, &n, &present)) != 0)
		return rc;
	if (!present && !p->is_unlimited_validity)
		return cfg_err(c, name, "missing (required unless "
		    "is_unlimited_validity is true)");
	/* 0: unlimited and not given; the issuer uses 99991231235959Z. */
	p->validity_days = (int)n;

	if ((rc = cfg_parse_eku(c, prefix, blk, p)) != 0 ||
	    (rc = cfg_parse_ku(c, prefix, blk, p)) != 0)
		return rc;
	if ((rc = cfg_get_bool(c, blk, cfg_name(name, sizeof(name), prefix,
	    "is_device_cert"), "is_device_cert", &p->is_device_cert)) != 0 ||
	    (rc = cfg_get_bool(c, blk, cfg_name(name, sizeof(name), prefix,
	    "is_ca"), "is_ca", &p->is_ca)) != 0)
		return rc;

	/* The seed writes null for "no constraint". */
	cfg_name(name, sizeof(name), prefix, "path_length_constraint");
	if (!cfg_lookup(blk, "path_length_constraint", &v) || v == NULL)
		p->path_len = -1;
	else {
		if ((rc = cfg_get_int(c, blk, name, "path_length_constraint",
		    0, 255, &n, &present)) != 0)
			return rc;
		p->path_len = (int)n;
	}

	/*
	 * RFC 5280 4.2.1.3: keyCertSign only with cA; refuse rather than
	 * issue certificates that relying parties reject or misread.
	 */
	if ((p->key_usage & MCA_KU_KEY_CERT_SIGN) && !p->is_ca)
		return cfg_err(c, cfg_name(name, sizeof(name), prefix,
		    "key_usage.key_cert_sign"), "needs is_ca true "
		    "(RFC 5280 4.2.1.3)");
	/* RFC 5280 4.2.1.9: pathLen means nothing without cA. */
	if (p->path_len >= 0 && !p->is_ca &&
	    (rc = cfg_warn(c, "%s: ignored because is_ca is false",
	    cfg_name(name, sizeof(name), prefix,
	    "path_length_constraint"))) != 0)
		return rc;
	/* RFC 5280 4.2.1.3: encipherOnly/decipherOnly qualify keyAgreement. */
	if ((p->key_usage & (MCA_KU_ENCIPHER_ONLY | MCA_KU_DECIPHER_ONLY)) &&
	    !(p->key_usage & MCA_KU_KEY_AGREEMENT) &&
	    (rc = cfg_warn(c, "%s: encipher_only/decipher_only without "
	    "key_agreement have no meaning", cfg_name(name, sizeof(name),
	    prefix, "key_usage"))) != 0)
		return rc;

	cfg_name(name, sizeof(name), prefix, "base64_line_length");
	if ((rc = cfg_get_int(c, blk, name, "base64_line_length", 0, 4096,
	    &n, &present)) != 0 || (present && n % 4 != 0))
		return cfg_err(c, name, "expected 0 (one line) or a multiple "
		    "of 4 from 4 to 4096");
	if (present)
		p->b64_line_length = (int)n;

	if ((rc = cfg_parse_key(c, prefix, blk, p)) != 0)
		return rc;
	if ((rc = cfg_parse_server_key(c, prefix, blk, p)) != 0)
		return rc;
	return cfg_parse_policy(c, prefix, blk, p);
}

static int
cfg_ent_cmp(const void *a, const void *b)
{
	const struct cfg_ent	*x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

/*
 * Pass 1: the type of each known top-level key, warnings for unknown
 * ones, and the end_certificate_config_<N> blocks into *ents (sorted).
 */
static int
cfg_scan(struct cfg_ctx *c, struct json_object *root, struct cfg_ent **ents,
    size_t *nents)
{
	struct json_object_iterator	 it, end;
	struct json_object		*v;
	struct cfg_ent			*e = NULL;
	char				 show[CFG_SHOW_MAX + 8];
	const char			*k;
	size_t				 i, n = 0, cap;
	long long			 num;
	int				 rc = MCA_ERR_INTERNAL, present;

	*ents = NULL;
	*nents = 0;
	cap = (size_t)json_object_object_length(root);
	if (cap > 0 && (e = calloc(cap, sizeof(*e))) == NULL)
		return MCA_ERR_NOMEM;

	it = json_object_iter_begin(root);
	end = json_object_iter_end(root);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		k = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		if (strncmp(k, CFG_PREFIX, strlen(CFG_PREFIX)) == 0) {
			if (mca_num_parse(k + strlen(CFG_PREFIX),
			    strlen(k + strlen(CFG_PREFIX)), 1, INT_MAX,
			    &num) != 0) {
				rc = cfg_err(c, cfg_show(k, strlen(k), show,
				    sizeof(show)), "the suffix must be a "
				    "positive decimal integer without leading "
				    "zeros");
				goto out;
			}
			if (n == MCA_CFG_MAX_PROFILES) {
				rc = cfg_err(c, k, "more than %d "
				    CFG_PREFIX "<N> blocks",
				    MCA_CFG_MAX_PROFILES);
				goto out;
			}
			e[n].n = (int)num;
			e[n].obj = v;
			n++;
			continue;
		}
		for (i = 0; i < NELEM(cfg_top); i++)
			if (strcmp(k, cfg_top[i].name) == 0)
				break;
		if (i == NELEM(cfg_top)) {
			if ((rc = cfg_warn(c, "unknown key \"%s\" ignored",
			    cfg_show(k, strlen(k), show, sizeof(show)))) != 0)
				goto out;
			continue;
		}
		switch (cfg_top[i].kind) {
		case CFG_K_STR:
			rc = cfg_check_str(c, k, v);
			break;
		case CFG_K_BOOL:
			rc = cfg_get_bool(c, root, k, k, &present);
			break;
		case CFG_K_PORT:
			rc = cfg_get_int(c, root, k, k, 1, 65535, &num,
			    &present);
			break;
		case CFG_K_OBJ:
			rc = v != NULL &&
			    json_object_is_type(v, json_type_object) ? 0 :
			    cfg_err(c, k, "expected an object");
			break;
		case CFG_K_SECS:
			rc = cfg_get_int(c, root, k, k, 0,
			    MCA_REENROLL_GRACE_MAX, &num, &present);
			break;
		default:
			rc = MCA_ERR_INTERNAL;
			break;
		}
		if (rc != 0)
			goto out;
	}
	if (n > 1)
		qsort(e, n, sizeof(*e), cfg_ent_cmp);
	*ents = e;
	*nents = n;
	e = NULL;
	rc = 0;
out:
	free(e);
	return rc;
}

/* Pass 2: everything into c->cfg. */
static int
cfg_build(struct cfg_ctx *c, struct json_object *root)
{
	struct mca_cfg		*cfg = c->cfg;
	struct json_object	*icc;
	struct cfg_ent		*ents = NULL;
	char			*sync = NULL, *copysync = NULL;
	char			 show[CFG_SHOW_MAX + 8], name[CFG_NAME_MAX];
	size_t			 nents = 0, i, j;
	long long		 num;
	int			 rc = MCA_ERR_INTERNAL, present;

	if ((rc = cfg_scan(c, root, &ents, &nents)) != 0)
		goto out;

	if ((rc = cfg_get_str(c, root, "intermediate_cert_path",
	    "intermediate_cert_path", 1, &cfg->intermediate_cert_path)) != 0 ||
	    (rc = cfg_get_str(c, root,
	    "intermediate_private_key_label_in_pkcs11",
	    "intermediate_private_key_label_in_pkcs11", 0,
	    &cfg->intermediate_private_key_label_in_pkcs11)) != 0 ||
	    (rc = cfg_get_str(c, root, "pkcs11_library", "pkcs11_library", 0,
	    &cfg->pkcs11_library)) != 0 ||
	    (rc = cfg_get_str(c, root, "pkcs11_library_pin",
	    "pkcs11_library_pin", 0, &cfg->pkcs11_library_pin)) != 0 ||
	    (rc = cfg_get_str(c, root, "mtls_ca_cert", "mtls_ca_cert", 0,
	    &cfg->mtls_ca_cert)) != 0 ||
	    (rc = cfg_get_str(c, root, "intermediate_private_key_path",
	    "intermediate_private_key_path", 0,
	    &cfg->intermediate_private_key_path)) != 0 ||
	    (rc = cfg_get_str(c, root, "ledger_db_path", "ledger_db_path", 0,
	    &cfg->ledger_db_path)) != 0 ||
	    (rc = cfg_get_str(c, root, "issued_certs_dir", "issued_certs_dir",
	    0, &cfg->issued_certs_dir)) != 0 ||
	    (rc = cfg_get_str(c, root, "default_end_point_name",
	    "default_end_point_name", 0, &cfg->default_end_point_name)) != 0 ||
	    (rc = cfg_get_str(c, root, "ledger_synchronous",
	    "ledger_synchronous", 0, &sync)) != 0 ||
	    (rc = cfg_get_str(c, root, "issued_certs_synchronous",
	    "issued_certs_synchronous", 0, &copysync)) != 0 ||
	    (rc = cfg_get_str(c, root, "rollover_cert_path",
	    "rollover_cert_path", 0, &cfg->rollover_cert_path)) != 0)
		goto out;

	/* The key: a PKCS#11 label, or a PEM file. */
	if (cfg->intermediate_private_key_label_in_pkcs11 != NULL) {
		if (cfg->pkcs11_library == NULL) {
			rc = cfg_err(c, "pkcs11_library", "missing (required "
			    "with intermediate_private_key_label_in_pkcs11)");
			goto out;
		}
		if (cfg->pkcs11_library_pin == NULL) {
			rc = cfg_err(c, "pkcs11_library_pin", "missing "
			    "(required with "
			    "intermediate_private_key_label_in_pkcs11)");
			goto out;
		}
		if (cfg->intermediate_private_key_path != NULL) {
			free(cfg->intermediate_private_key_path);
			cfg->intermediate_private_key_path = NULL;
			if ((rc = cfg_warn(c, "intermediate_private_key_path "
			    "ignored: intermediate_private_key_label_in_pkcs11 "
			    "is set")) != 0)
				goto out;
		}
	} else if (cfg->intermediate_private_key_path == NULL) {
		rc = cfg_err(c, "intermediate_private_key_label_in_pkcs11",
		    "missing (required, or set intermediate_private_key_path)");
		goto out;
	}

	if ((rc = cfg_sync_word(c, "ledger_synchronous", sync, "NORMAL",
	    &cfg->ledger_synchronous_full)) != 0 ||
	    (rc = cfg_sync_word(c, "issued_certs_synchronous", copysync, "OFF",
	    &cfg->issued_certs_sync)) != 0)
		goto out;

	/* The type of intermediate_cert_config was checked in cfg_scan. */
	if (cfg_lookup(root, "intermediate_cert_config", &icc) &&
	    (rc = cfg_get_str(c, icc, "intermediate_cert_config.hash_function",
	    "hash_function", 0, &cfg->hash_function)) != 0)
		goto out;
	if (cfg->hash_function == NULL &&
	    (cfg->hash_function = strdup(CFG_DEF_HASH)) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	if (mca_md_by_name(cfg->hash_function) == NULL) {
		rc = cfg_err(c, "intermediate_cert_config.hash_function",
		    "\"%s\" is not supported (SHA256, SHA384 or SHA512)",
		    cfg_show(cfg->hash_function, strlen(cfg->hash_function),
		    show, sizeof(show)));
		goto out;
	}

	if ((cfg->ledger_db_path == NULL &&
	    (cfg->ledger_db_path = strdup(CFG_DEF_LEDGER)) == NULL) ||
	    (cfg->issued_certs_dir == NULL &&
	    (cfg->issued_certs_dir = strdup(CFG_DEF_ISSUED)) == NULL)) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}

	/* Before the profiles: it is their default. */
	cfg->reenroll_grace = MCA_REENROLL_GRACE_DEF;
	if ((rc = cfg_get_int(c, root, "reenroll_grace_seconds",
	    "reenroll_grace_seconds", 0, MCA_REENROLL_GRACE_MAX, &num,
	    &present)) != 0)
		goto out;
	if (present)
		cfg->reenroll_grace = (int)num;

	/* The profiles, by N. */
	if (nents == 0) {
		rc = cfg_err(c, CFG_PREFIX "<N>", "missing (at least one "
		    "block is required)");
		goto out;
	}
	if ((cfg->profiles = calloc(nents, sizeof(*cfg->profiles))) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	cfg->nprofiles = nents;
	for (i = 0; i < nents; i++) {
		if ((rc = cfg_parse_profile(c, &ents[i],
		    &cfg->profiles[i])) != 0)
			goto out;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->profiles[j].name,
			    cfg->profiles[i].name) == 0) {
				(void)snprintf(name, sizeof(name),
				    CFG_PREFIX "%d.end_point_name",
				    cfg->profiles[i].index);
				rc = cfg_err(c, name, "\"%s\" is already "
				    "used by " CFG_PREFIX "%d",
				    cfg->profiles[i].name,
				    cfg->profiles[j].index);
				goto out;
			}
	}

	if (cfg->default_end_point_name == NULL) {
		if ((cfg->default_end_point_name =
		    strdup(cfg->profiles[0].name)) == NULL) {
			rc = MCA_ERR_NOMEM;
			goto out;
		}
	} else if (mca_cfg_profile(cfg, cfg->default_end_point_name) ==
	    NULL) {
		rc = cfg_err(c, "default_end_point_name", "\"%s\" is not the "
		    "end_point_name of any " CFG_PREFIX "<N> block",
		    cfg_show(cfg->default_end_point_name,
		    strlen(cfg->default_end_point_name), show, sizeof(show)));
		goto out;
	}

	/* Labels that take certificates and have no bundle of their own. */
	for (i = 0; cfg->mtls_ca_cert == NULL && i < cfg->nprofiles; i++)
		if ((cfg->profiles[i].auth_methods & MCA_AUTH_CERTIFICATE) &&
		    cfg->profiles[i].mtls_ca_cert == NULL)
			break;
	if (cfg->mtls_ca_cert == NULL && i < cfg->nprofiles &&
	    (rc = cfg_warn(c, "mtls_ca_cert not set: only certificates this "
	    "CA issued can enroll")) != 0)
		goto out;
	rc = 0;
out:
	free(sync);
	free(copysync);
	free(ents);
	return rc;
}

/* The 1-based line of byte offset off in s. */
static size_t
cfg_line(const char *s, size_t off)
{
	size_t	 i, line = 1;

	for (i = 0; i < off; i++)
		if (s[i] == '\n')
			line++;
	return line;
}

/* Wipes the string obj.key in place (json-c's copy of the PIN). */
static void
cfg_wipe_json_str(struct json_object *obj, const char *key)
{
	struct json_object	*v = NULL;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || v == NULL ||
	    !json_object_is_type(v, json_type_string))
		return;
	OPENSSL_cleanse((char *)json_object_get_string(v),
	    (size_t)json_object_get_string_len(v));
}

/*
 * Frees the tokener after wiping its scratch buffer, which held every
 * string of the document (the PIN too) while it was being parsed. The
 * field is marked internal in json-c 0.16 but is still in the header.
 */
static void
cfg_tokener_free(struct json_tokener *tok)
{
	if (tok == NULL)
		return;
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		OPENSSL_cleanse(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
}

static int
cfg_parse(const char *path, const char *json, size_t len, const mode_t *mode,
    struct mca_cfg **out, struct mca_diag *d)
{
	struct cfg_ctx		 c;
	struct mca_cfg		*cfg = NULL;
	struct json_tokener	*tok = NULL;
	enum json_tokener_error	 jerr;
	const char		*p, *what;
	size_t			 off;
	int			 rc = MCA_ERR_INTERNAL;

	if (json == NULL)
		json = "";
	if (len > MCA_CFG_FILE_MAX)
		return mca_diag(d, MCA_ERR_TOOBIG, "%s: larger than %u bytes",
		    path, MCA_CFG_FILE_MAX);
	if ((p = memchr(json, '\0', len)) != NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: line %zu: contains a "
		    "NUL byte", path, cfg_line(json, (size_t)(p - json)));
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->path = strdup(path)) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	c.path = path;
	c.cfg = cfg;
	c.d = d;

	if ((tok = json_tokener_new()) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	/* Strict: no trailing commas, comments or text after the object. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	cfg->root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (off > len)
		off = len;
	if (jerr == json_tokener_continue) {
		/*
		 * A bare top-level number or literal ("42", "null") is only
		 * complete once a delimiter follows: feed the end of input.
		 */
		cfg->root = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) == json_tokener_success)
			jerr = json_tokener_success;
		off = len;
	}
	if (jerr == json_tokener_success)
		for (; off < len; off++)
			if (strchr(" \t\r\n", json[off]) == NULL) {
				jerr = json_tokener_error_parse_unexpected;
				break;
			}
	if (jerr != json_tokener_success) {
		what = jerr == json_tokener_continue ?
		    "unexpected end of file" : json_tokener_error_desc(jerr);
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: line %zu: invalid JSON: "
		    "%s", path, cfg_line(json, off), what);
		goto out;
	}
	if (cfg->root == NULL ||
	    !json_object_is_type(cfg->root, json_type_object)) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: the top level must be a "
		    "JSON object", path);
		goto out;
	}

	if ((rc = cfg_build(&c, cfg->root)) != 0)
		goto out;

	if (mode != NULL && (*mode & S_IROTH) &&
	    cfg->pkcs11_library_pin != NULL &&
	    (rc = cfg_warn(&c, "holds pkcs11_library_pin but is "
	    "world-readable; chmod 600 or 640")) != 0)
		goto out;
	rc = 0;
out:
	cfg_tokener_free(tok);
	if (rc == MCA_ERR_NOMEM)
		(void)mca_diag(d, rc, "%s: out of memory", path);
	if (rc != 0)
		mca_cfg_free(cfg);
	else
		*out = cfg;
	return rc;
}

int
mca_cfg_parse(const char *path, const char *json, size_t len,
    struct mca_cfg **out, struct mca_diag *d)
{
	mca_diag_clear(d);
	if (out == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_cfg_parse: no output");
	*out = NULL;
	if (path == NULL)
		path = "config.json";
	if (json == NULL && len > 0)
		return mca_diag(d, MCA_ERR_INVAL, "%s: no input", path);
	return cfg_parse(path, json, len, NULL, out, d);
}

int
mca_cfg_load(const char *path, struct mca_cfg **out, struct mca_diag *d)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	mode_t		 mode = 0;
	int		 rc, serrno;

	mca_diag_clear(d);
	if (out != NULL)
		*out = NULL;
	if (out == NULL || path == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_cfg_load: no %s",
		    out == NULL ? "output" : "path");
	errno = 0;
	rc = mca_file_read(path, MCA_CFG_FILE_MAX, &b, &mode);
	serrno = errno;
	switch (rc) {
	case 0:
		rc = cfg_parse(path, (const char *)b.data, b.len, &mode, out,
		    d);
		break;
	case MCA_ERR_TOOBIG:
		(void)mca_diag(d, rc, "%s: larger than %u bytes", path,
		    MCA_CFG_FILE_MAX);
		break;
	case MCA_ERR_INVAL:
		rc = mca_diag(d, MCA_ERR_IO, "%s: not a regular file", path);
		break;
	case MCA_ERR_NOTFOUND:
	case MCA_ERR_IO:
		(void)mca_diag(d, rc, "%s: %s", path,
		    serrno != 0 ? strerror(serrno) : "read error");
		break;
	default:
		(void)mca_diag(d, rc, "%s: %s", path, mca_strerror(rc));
		break;
	}
	mca_buf_free_secret(&b);
	return rc;
}

void
mca_cfg_free(struct mca_cfg *cfg)
{
	struct mca_profile	*p;
	size_t			 i, j;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->intermediate_cert_path);
	free(cfg->intermediate_private_key_label_in_pkcs11);
	free(cfg->pkcs11_library);
	if (cfg->pkcs11_library_pin != NULL) {
		OPENSSL_cleanse(cfg->pkcs11_library_pin,
		    strlen(cfg->pkcs11_library_pin));
		free(cfg->pkcs11_library_pin);
	}
	free(cfg->mtls_ca_cert);
	free(cfg->hash_function);
	free(cfg->intermediate_private_key_path);
	free(cfg->ledger_db_path);
	free(cfg->issued_certs_dir);
	free(cfg->default_end_point_name);
	free(cfg->rollover_cert_path);
	for (i = 0; i < cfg->nprofiles; i++) {
		p = &cfg->profiles[i];
		free(p->name);
		for (j = 0; j < p->neku; j++)
			free(p->eku[j]);
		free(p->eku);
		free(p->mtls_ca_cert);
		free(p->allowed_keys);
		cfg_rules_free(p->subject_rules, p->nsubject_rules);
		cfg_identity_free(p);
	}
	free(cfg->profiles);
	cfg_wipe_json_str(cfg->root, "pkcs11_library_pin");
	json_object_put(cfg->root);
	for (i = 0; i < cfg->nwarnings; i++)
		free(cfg->warnings[i]);
	free(cfg->warnings);
	free(cfg);
}

const struct mca_profile *
mca_cfg_profile(const struct mca_cfg *cfg, const char *label)
{
	size_t	 i;

	if (cfg == NULL || label == NULL)
		return NULL;
	if (*label == '\0' && (label = cfg->default_end_point_name) == NULL)
		return NULL;
	for (i = 0; i < cfg->nprofiles; i++)
		if (cfg->profiles[i].name != NULL &&
		    strcmp(cfg->profiles[i].name, label) == 0)
			return &cfg->profiles[i];
	return NULL;
}
