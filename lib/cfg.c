/*
 * config.json: the AppViewX "EST Micro CA" format (tables 2-10 of the
 * vendor guide) plus microca's own keys. See cfg.h.
 *
 * This file loads the document (strictly, refusing duplicate keys), holds
 * the top-level key table and the engine that reads every key table, the
 * typed getters and the diagnostics. The top-level object is read in one
 * pass in file order: each key of the table into struct mca_cfg (the
 * blocks of tables 2-8 by their own tables, in cfg_renewal.c,
 * cfg_discovery.c, cfg_azure.c), the end_certificate_config_<N> blocks
 * collected for cfg_profile.c, unknown keys warned about. Then the rules
 * that span keys (key source, profiles, default label). The JSON tree is
 * freed, its secrets wiped, before mca_cfg_load() returns.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
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
#include "jsondup.h"
#include "num.h"
#include "secret.h"
#include "text.h"


#define CFG_DEF_LEDGER		"/var/lib/microca/ledger.db"
#define CFG_DEF_ISSUED		"/var/lib/microca/IssuedCerts"
#define CFG_DEF_CRL_DIR		"/var/lib/microca/crl"
/* Failure budgets of enrollment passcodes (cgi/basicauth.c). */
#define CFG_DEF_PC_FAILURES	10
#define CFG_DEF_PC_ADDR_FAILURES 100
#define CFG_DEF_PC_WINDOW	900
#define CFG_PC_FAILURES_MAX	1000000
#define CFG_PC_WINDOW_MAX	86400

/* Requests to the upstream (microca-renew), seconds. */
#define CFG_DEF_UP_CONNECT	15
#define CFG_DEF_UP_TOTAL	120
#define CFG_UP_CONNECT_MAX	300
#define CFG_UP_TOTAL_MAX	3600

/* The same as the ledger's own (MCA_LEDGER_REFUSALS_*). */
#define CFG_DEF_REFUSAL_DAYS	30
#define CFG_DEF_REFUSAL_RATE	600

#define TOP(f)	offsetof(struct mca_cfg, f)

/* The top level: one line per key. */
static const struct cfg_key cfg_top[] = {
	/* seed, table 9 */
	CFG_KEY("intermediate_cert_path", CFG_T_STR, TOP(intermediate_cert_path),
	    CFG_F_REQUIRED),
	CFG_KEY("intermediate_private_key_label_in_pkcs11", CFG_T_STR,
	    TOP(intermediate_private_key_label_in_pkcs11)),
	CFG_KEY("pkcs11_library", CFG_T_STR, TOP(pkcs11_library)),
	CFG_KEY("pkcs11_library_pin", CFG_T_STR, TOP(pkcs11_library_pin),
	    CFG_F_SECRET),
	CFG_KEY("mtls_ca_cert", CFG_T_STR, TOP(mtls_ca_cert)),
	CFG_KEY("new_intermediate_cert", CFG_T_BOOL, TOP(new_intermediate_cert)),
	CFG_KEY("port", CFG_T_INT, TOP(port), .lo = 1, .hi = 65535),
	CFG_KEY("encryption_key_file_path", CFG_T_STR,
	    TOP(encryption_key_file_path)),
	/* seed blocks, tables 2-8 */
	CFG_KEY("intermediate_cert_config", CFG_T_BLOCK, TOP(intermediate),
	    .block = &cfg_intermediate_block),
	CFG_KEY("device_cert_config", CFG_T_BLOCK, TOP(device),
	    .block = &cfg_device_block),
	CFG_KEY("certificateRenewal_config", CFG_T_BLOCK, TOP(renewal),
	    .block = &cfg_renewal_block),
	CFG_KEY("mtls_server_cert_config", CFG_T_BLOCK, TOP(mtls_server),
	    .block = &cfg_mtls_server_block),
	CFG_KEY("mtls_client_auth_cert_config", CFG_T_BLOCK, TOP(mtls_client),
	    .block = &cfg_mtls_client_block),
	CFG_KEY("discover_certificate_config", CFG_T_BLOCK, TOP(discovery),
	    .block = &cfg_discovery_block),
	CFG_KEY("mtls_azure_device_registration", CFG_T_BLOCK, TOP(azure),
	    .block = &cfg_azure_block),
	/* microca */
	CFG_KEY("intermediate_private_key_path", CFG_T_STR,
	    TOP(intermediate_private_key_path)),
	CFG_KEY("ledger_db_path", CFG_T_STR, TOP(ledger_db_path),
	    .defstr = CFG_DEF_LEDGER),
	CFG_KEY("issued_certs_dir", CFG_T_STR, TOP(issued_certs_dir),
	    .defstr = CFG_DEF_ISSUED),
	CFG_KEY("default_end_point_name", CFG_T_STR, TOP(default_end_point_name)),
	CFG_KEY("ledger_synchronous", CFG_T_WORD, TOP(ledger_synchronous_full),
	    .def = 1, .defstr = "NORMAL"),
	CFG_KEY("issued_certs_synchronous", CFG_T_WORD, TOP(issued_certs_sync),
	    .def = 1, .defstr = "OFF"),
	CFG_KEY("rollover_cert_path", CFG_T_STR, TOP(rollover_cert_path)),
	CFG_KEY("passcode_failures_max", CFG_T_INT, TOP(passcode_failures_max),
	    .lo = 0, .hi = CFG_PC_FAILURES_MAX, .def = CFG_DEF_PC_FAILURES),
	CFG_KEY("passcode_address_failures_max", CFG_T_INT,
	    TOP(passcode_address_failures_max), .lo = 0, .hi = CFG_PC_FAILURES_MAX,
	    .def = CFG_DEF_PC_ADDR_FAILURES),
	CFG_KEY("passcode_failure_window_seconds", CFG_T_INT,
	    TOP(passcode_failure_window), .lo = 1, .hi = CFG_PC_WINDOW_MAX,
	    .def = CFG_DEF_PC_WINDOW),
	/* the refusals table under a flood (lib/ledger.h) */
	CFG_KEY("refusals_keep_days", CFG_T_INT, TOP(refusals_keep_days),
	    .lo = 1, .hi = 36500, .def = CFG_DEF_REFUSAL_DAYS),
	CFG_KEY("refusals_per_minute_max", CFG_T_INT,
	    TOP(refusals_per_minute_max), .lo = 0, .hi = 1000000,
	    .def = CFG_DEF_REFUSAL_RATE),
	/* the labels' default: read before them whatever the file order */
	CFG_KEY("reenroll_grace_seconds", CFG_T_INT, TOP(reenroll_grace),
	    .lo = 0, .hi = MCA_REENROLL_GRACE_MAX,
	    .def = MCA_REENROLL_GRACE_DEF),
	/* CRLs (microca-crl); the URL is the labels' default, judged in
	 * lib/cfg_crl.c */
	CFG_KEY("crl_dir", CFG_T_STR, TOP(crl_dir), .defstr = CFG_DEF_CRL_DIR),
	CFG_KEY("crl_validity_hours", CFG_T_INT, TOP(crl_validity_hours),
	    .lo = 1, .hi = MCA_CRL_VALIDITY_MAX, .def = MCA_CRL_VALIDITY_DEF),
	CFG_KEY("crl_distribution_point_url", CFG_T_STR, TOP(crl_url)),
	/* the upstream of microca-renew, for every block */
	CFG_KEY("upstream_ca_cert", CFG_T_STR, TOP(upstream.ca_cert)),
	CFG_KEY("upstream_username", CFG_T_STR, TOP(upstream.username)),
	CFG_KEY("upstream_password", CFG_T_STR, TOP(upstream.password),
	    CFG_F_SECRET),
	CFG_KEY("upstream_connect_timeout_seconds", CFG_T_INT,
	    TOP(upstream_connect_timeout), .lo = 1, .hi = CFG_UP_CONNECT_MAX,
	    .def = CFG_DEF_UP_CONNECT),
	CFG_KEY("upstream_timeout_seconds", CFG_T_INT, TOP(upstream_timeout),
	    .lo = 1, .hi = CFG_UP_TOTAL_MAX, .def = CFG_DEF_UP_TOTAL),
};

static int	cfg_top_check(struct cfg_ctx *, const char *, void *);

static const struct cfg_block cfg_top_block = {
	cfg_top, NELEM(cfg_top), CFG_NO_PRESENT, cfg_top_check
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

void
cfg_ctx_init(struct cfg_ctx *c, const char *path, struct mca_cfg *cfg,
    char ***warnings, size_t *nwarnings, struct mca_diag *d)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	c->cfg = cfg;
	c->d = d;
	c->warnings = warnings;
	c->nwarnings = nwarnings;
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
 * Appends "<path>: <what>" to c->warnings (c->cfg's when NULL). After CFG_WARN_MAX - 1
 * lines, one last line says the rest was suppressed.
 * Returns 0 or MCA_ERR_NOMEM.
 */
int
cfg_warn(struct cfg_ctx *c, const char *fmt, ...)
{
	char		***wv = c->warnings;
	size_t		*wn = c->nwarnings;
	va_list		 ap;
	char		 what[MCA_DIAG_LEN], line[MCA_DIAG_LEN];
	char		**nw, *s;

	if (wv == NULL || wn == NULL) {
		wv = &c->cfg->warnings;
		wn = &c->cfg->nwarnings;
	}
	if (*wn >= CFG_WARN_MAX)
		return 0;
	if (*wn == CFG_WARN_MAX - 1)
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
	nw = reallocarray(*wv, *wn + 1, sizeof(*nw));
	if (nw == NULL) {
		free(s);
		return MCA_ERR_NOMEM;
	}
	*wv = nw;
	(*wv)[(*wn)++] = s;
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
int
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
	char			 ename[CFG_NAME_MAX + 24];
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

/* obj.key as names out of names[], into *bits. 0 or MCA_ERR_CONFIG. */
int
cfg_get_names(struct cfg_ctx *c, struct json_object *obj, const char *name,
    const char *key, const char *const *names, size_t nnames, int fold,
    const char *kind, const char *what, unsigned *bits)
{
	struct json_object	*arr;
	char			 ename[CFG_NAME_MAX + CFG_SHOW_MAX + 32];
	char			 show[CFG_SHOW_MAX + 8];
	const char		*s;
	size_t			 i, j, n;
	int			 rc;

	if ((rc = cfg_get_strarray(c, obj, name, key, nnames, what,
	    &arr)) != 0 || arr == NULL)
		return rc;
	*bits = 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		(void)snprintf(ename, sizeof(ename), "%s[%zu]", name, i);
		s = json_object_get_string(json_object_array_get_idx(arr, i));
		for (j = 0; j < nnames; j++)
			if ((fold ? strcasecmp(s, names[j]) :
			    strcmp(s, names[j])) == 0)
				break;
		if (j == nnames)
			return cfg_err(c, ename, "\"%s\" is not %s",
			    cfg_show(s, strlen(s), show, sizeof(show)), kind);
		if (*bits & (1u << j))
			return cfg_err(c, ename, "\"%s\" is listed twice", s);
		*bits |= 1u << j;
	}
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


/* The field of key k in the struct at base. */
#define CFG_FIELD(base, k, type) \
	((type *)(void *)((char *)(base) + (k)->off))

/* Frees a string, wiping it first when it is a secret. */
static void
cfg_str_free(char **sp, int secret)
{
	if (*sp == NULL)
		return;
	if (secret)
		OPENSSL_cleanse(*sp, strlen(*sp));
	free(*sp);
	*sp = NULL;
}

/* Frees an array of strings, wiping them first when they are secrets. */
static void
cfg_strs_free(struct mca_cfg_strs *a, int secret)
{
	size_t	 i;

	for (i = 0; i < a->n; i++)
		cfg_str_free(&a->v[i], secret);
	free(a->v);
	a->v = NULL;
	a->n = 0;
	a->set = 0;
}

/*
 * An array of at most max strings, each as cfg_check_str() wants it,
 * into a (freed first). [] is a value: none. 0, MCA_ERR_CONFIG or
 * MCA_ERR_NOMEM.
 */
static int
cfg_strs(struct cfg_ctx *c, const char *name, struct json_object *v,
    long long max, int secret, struct mca_cfg_strs *a)
{
	char	 ename[CFG_NAME_MAX + 24];
	size_t	 n, i;
	int	 rc;

	cfg_strs_free(a, secret);
	if (v == NULL || !json_object_is_type(v, json_type_array))
		return cfg_err(c, name, "expected an array of strings");
	n = json_object_array_length(v);
	if ((long long)n > max)
		return cfg_err(c, name, "more than %lld strings", max);
	if (n > 0 && (a->v = calloc(n, sizeof(*a->v))) == NULL)
		return MCA_ERR_NOMEM;
	a->set = 1;
	for (i = 0; i < n; i++) {
		(void)snprintf(ename, sizeof(ename), "%s[%zu]", name, i);
		if ((rc = cfg_check_str(c, ename,
		    json_object_array_get_idx(v, i))) != 0)
			return rc;
		if ((a->v[i] = strdup(json_object_get_string(
		    json_object_array_get_idx(v, i)))) == NULL)
			return MCA_ERR_NOMEM;
		a->n = i + 1;
	}
	return 0;
}

/*
 * A port of a seed block: an integer, or a string of digits as the seed
 * writes it ("port": "443"). 0 or MCA_ERR_CONFIG.
 */
static int
cfg_port(struct cfg_ctx *c, const char *name, struct json_object *v,
    int *out)
{
	long long	 n;

	if (v != NULL && json_object_is_type(v, json_type_int) &&
	    (n = json_object_get_int64(v)) >= 1 && n <= 65535) {
		*out = (int)n;
		return 0;
	}
	if (v != NULL && json_object_is_type(v, json_type_string) &&
	    mca_num_parse(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), 1, 65535, &n) == 0) {
		*out = (int)n;
		return 0;
	}
	return cfg_err(c, name, "expected a port from 1 to 65535 (a number "
	    "or a string of digits)");
}

/*
 * A key type as the seed spells it: "RSA" or "ECC" (also "EC"), in any
 * case. 0 or MCA_ERR_CONFIG.
 */
int
cfg_keytype(struct cfg_ctx *c, const char *name, const char *s,
    enum mca_keytype *out)
{
	char	 show[CFG_SHOW_MAX + 8];

	if (strcasecmp(s, "RSA") == 0)
		*out = MCA_KEYTYPE_RSA;
	else if (strcasecmp(s, "ECC") == 0 || strcasecmp(s, "EC") == 0)
		*out = MCA_KEYTYPE_EC;
	else
		return cfg_err(c, name, "\"%s\" is not a key type (\"RSA\" or "
		    "\"ECC\")", cfg_show(s, strlen(s), show, sizeof(show)));
	return 0;
}

/* One key's value v into base, by k. */
static int
cfg_key_set(struct cfg_ctx *c, const char *prefix, const struct cfg_key *k,
    struct json_object *v, void *base)
{
	char		 name[CFG_NAME_MAX], show[CFG_SHOW_MAX + 8];
	const char	*s;
	char		**sp;
	long long	 n;
	int		 rc;

	cfg_name(name, sizeof(name), prefix, k->name);
	switch (k->type) {
	case CFG_T_STR:
	case CFG_T_HASH:
		if ((k->flags & CFG_F_EMPTY) && v != NULL &&
		    json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) == 0)
			;	/* "" allowed: the key says what it means */
		else if ((rc = cfg_check_str(c, name, v)) != 0)
			return rc;
		s = json_object_get_string(v);
		if (k->type == CFG_T_HASH && mca_md_by_name(s) == NULL)
			return cfg_err(c, name, "\"%s\" is not supported "
			    "(SHA256, SHA384 or SHA512)",
			    cfg_show(s, strlen(s), show, sizeof(show)));
		sp = CFG_FIELD(base, k, char *);
		cfg_str_free(sp, k->flags & CFG_F_SECRET);
		if ((*sp = strdup(s)) == NULL)
			return MCA_ERR_NOMEM;
		return 0;
	case CFG_T_BOOL:
		if (v == NULL || !json_object_is_type(v, json_type_boolean))
			return cfg_err(c, name, "expected true or false");
		*CFG_FIELD(base, k, int) = json_object_get_boolean(v) ? 1 : 0;
		return 0;
	case CFG_T_INT:
		/* json-c saturates integers beyond int64 at INT64_MIN/MAX. */
		if (v == NULL || !json_object_is_type(v, json_type_int) ||
		    (n = json_object_get_int64(v)) < k->lo || n > k->hi)
			return cfg_err(c, name, "expected an integer from %lld "
			    "to %lld", k->lo, k->hi);
		*CFG_FIELD(base, k, int) = (int)n;
		return 0;
	case CFG_T_PORT:
		return cfg_port(c, name, v, CFG_FIELD(base, k, int));
	case CFG_T_WORD:
		if ((rc = cfg_check_str(c, name, v)) != 0)
			return rc;
		return cfg_sync_word(c, name, json_object_get_string(v),
		    k->defstr, CFG_FIELD(base, k, int));
	case CFG_T_KEYTYPE:
		if ((rc = cfg_check_str(c, name, v)) != 0)
			return rc;
		return cfg_keytype(c, name, json_object_get_string(v),
		    CFG_FIELD(base, k, enum mca_keytype));
	case CFG_T_BLOCK:
		if (v == NULL || !json_object_is_type(v, json_type_object))
			return cfg_err(c, name, "expected an object");
		return cfg_block_parse(c, name, v, k->block,
		    CFG_FIELD(base, k, char), NULL, NULL);
	case CFG_T_STRS:
		return cfg_strs(c, name, v, k->hi, k->flags & CFG_F_SECRET,
		    CFG_FIELD(base, k, struct mca_cfg_strs));
	default:
		return MCA_ERR_INTERNAL;
	}
}

/* An absent key's default into base, by k. */
static int
cfg_key_default(struct cfg_ctx *c, const char *prefix,
    const struct cfg_key *k, void *base)
{
	char	 name[CFG_NAME_MAX];
	char	**sp;

	switch (k->type) {
	case CFG_T_STR:
	case CFG_T_HASH:
		sp = CFG_FIELD(base, k, char *);
		if (k->defstr != NULL && *sp == NULL &&
		    (*sp = strdup(k->defstr)) == NULL)
			return MCA_ERR_NOMEM;
		return 0;
	case CFG_T_BOOL:
	case CFG_T_INT:
	case CFG_T_PORT:
	case CFG_T_WORD:
		*CFG_FIELD(base, k, int) = (int)k->def;
		return 0;
	case CFG_T_KEYTYPE:
		*CFG_FIELD(base, k, enum mca_keytype) =
		    (enum mca_keytype)k->def;
		return 0;
	case CFG_T_BLOCK:
		cfg_name(name, sizeof(name), prefix, k->name);
		return cfg_block_parse(c, name, NULL, k->block,
		    CFG_FIELD(base, k, char), NULL, NULL);
	case CFG_T_STRS:	/* none: the user of the key knows its default */
		return 0;
	default:
		return MCA_ERR_INTERNAL;
	}
}

int
cfg_block_parse(struct cfg_ctx *c, const char *name, struct json_object *obj,
    const struct cfg_block *b, void *base, cfg_other_fn other, void *arg)
{
	struct json_object_iterator	 it, end;
	struct json_object		*v;
	char				 show[CFG_SHOW_MAX + 8];
	char				 kname[CFG_NAME_MAX];
	const char			*k;
	uint64_t			 seen = 0;
	size_t				 i;
	int				 rc;

	if (b->nkeys > 64)
		return MCA_ERR_INTERNAL;
	if (obj != NULL) {
		if (b->present != CFG_NO_PRESENT)
			*(int *)(void *)((char *)base + b->present) = 1;
		it = json_object_iter_begin(obj);
		end = json_object_iter_end(obj);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			k = json_object_iter_peek_name(&it);
			v = json_object_iter_peek_value(&it);
			for (i = 0; i < b->nkeys; i++)
				if (strcmp(k, b->keys[i].name) == 0)
					break;
			if (i < b->nkeys) {
				seen |= (uint64_t)1 << i;
				if ((rc = cfg_key_set(c, name, &b->keys[i], v,
				    base)) != 0)
					return rc;
				continue;
			}
			rc = other != NULL ? other(c, k, v, arg) : 1;
			if (rc == 1)
				rc = cfg_warn(c, "unknown key \"%s%s%s\" "
				    "ignored", name, *name != '\0' ? "." : "",
				    cfg_show(k, strlen(k), show,
				    sizeof(show)));
			if (rc != 0)
				return rc;
		}
	}
	for (i = 0; i < b->nkeys; i++) {
		if (seen & ((uint64_t)1 << i))
			continue;
		if (obj != NULL && (b->keys[i].flags & CFG_F_REQUIRED))
			return cfg_err(c, cfg_name(kname, sizeof(kname), name,
			    b->keys[i].name), "missing (required)");
		if ((rc = cfg_key_default(c, name, &b->keys[i], base)) != 0)
			return rc;
	}
	if (obj != NULL && b->check != NULL)
		return b->check(c, name, base);
	return 0;
}

void
cfg_block_free(const struct cfg_block *b, void *base)
{
	const struct cfg_key	*k;
	size_t			 i;

	if (base == NULL)
		return;
	for (i = 0; i < b->nkeys; i++) {
		k = &b->keys[i];
		if (k->type == CFG_T_STR || k->type == CFG_T_HASH)
			cfg_str_free(CFG_FIELD(base, k, char *),
			    k->flags & CFG_F_SECRET);
		else if (k->type == CFG_T_BLOCK)
			cfg_block_free(k->block, CFG_FIELD(base, k, char));
		else if (k->type == CFG_T_STRS)
			cfg_strs_free(CFG_FIELD(base, k, struct mca_cfg_strs),
			    k->flags & CFG_F_SECRET);
	}
}

/* Wipes json-c's copies of the strings of the array v. */
static void
cfg_wipe_json_strs(struct json_object *v)
{
	struct json_object	*e;
	size_t			 i, n = json_object_array_length(v);

	for (i = 0; i < n; i++)
		if ((e = json_object_array_get_idx(v, i)) != NULL &&
		    json_object_is_type(e, json_type_string))
			OPENSSL_cleanse((char *)json_object_get_string(e),
			    (size_t)json_object_get_string_len(e));
}

void
cfg_block_wipe_json(const struct cfg_block *b, struct json_object *obj)
{
	const struct cfg_key	*k;
	struct json_object	*v;
	size_t			 i;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return;
	for (i = 0; i < b->nkeys; i++) {
		k = &b->keys[i];
		if (!json_object_object_get_ex(obj, k->name, &v) || v == NULL)
			continue;
		if (k->type == CFG_T_BLOCK)
			cfg_block_wipe_json(k->block, v);
		else if ((k->flags & CFG_F_SECRET) &&
		    json_object_is_type(v, json_type_string))
			OPENSSL_cleanse((char *)json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
		else if ((k->flags & CFG_F_SECRET) &&
		    json_object_is_type(v, json_type_array))
			cfg_wipe_json_strs(v);
	}
}

int
cfg_upstream_require(struct cfg_ctx *c, const char *name,
    const struct mca_cfg_upstream *u, const char *why)
{
	char		 kname[CFG_NAME_MAX];
	const char	*miss = NULL;

	if (u->appviewx_hostname == NULL)
		miss = "appviewx_hostname";
	else if (u->port == 0)
		miss = "port";
	else if (u->est_agent_setting_name == NULL)
		miss = "est_agent_setting_name";
	if (miss == NULL)
		return 0;
	return cfg_err(c, cfg_name(kname, sizeof(kname), name, miss),
	    "missing (required %s)", why);
}

static int
cfg_ent_cmp(const void *a, const void *b)
{
	const struct cfg_ent	*x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

/* The end_certificate_config_<N> blocks, as they are met. */
struct cfg_ents {
	struct cfg_ent	*e;
	size_t		 n, cap;
};

/* Top-level keys not in cfg_top: the end_certificate_config_<N>. */
static int
cfg_top_other(struct cfg_ctx *c, const char *k, struct json_object *v,
    void *arg)
{
	struct cfg_ents	*ents = arg;
	char		 show[CFG_SHOW_MAX + 8];
	size_t		 plen = strlen(CFG_PREFIX);
	long long	 num;

	if (strncmp(k, CFG_PREFIX, plen) != 0)
		return 1;
	if (mca_num_parse(k + plen, strlen(k + plen), 1, INT_MAX, &num) != 0)
		return cfg_err(c, cfg_show(k, strlen(k), show, sizeof(show)),
		    "the suffix must be a positive decimal integer without "
		    "leading zeros");
	if (ents->n == MCA_CFG_MAX_PROFILES)
		return cfg_err(c, k, "more than %d " CFG_PREFIX "<N> blocks",
		    MCA_CFG_MAX_PROFILES);
	if (ents->n == ents->cap)
		return MCA_ERR_INTERNAL;
	ents->e[ents->n].n = (int)num;
	ents->e[ents->n].obj = v;
	ents->n++;
	return 0;
}

/* The rules that span top-level keys and blocks. */
/* Whether two of the labels given (NULL: none) are the same. */
static int
cfg_labels_clash(const char *a, const char *b, const char *c)
{
	return (a != NULL && b != NULL && strcmp(a, b) == 0) ||
	    (a != NULL && c != NULL && strcmp(a, c) == 0) ||
	    (b != NULL && c != NULL && strcmp(b, c) == 0);
}

static int
cfg_top_check(struct cfg_ctx *c, const char *name, void *base)
{
	struct mca_cfg	*cfg = base;
	int		 rc;

	if ((rc = cfg_upstream_auth_check(c, name, &cfg->upstream)) != 0)
		return rc;
	if (cfg->crl_url != NULL && (rc = cfg_crl_url_check(c,
	    "crl_distribution_point_url", cfg->crl_url)) != 0)
		return rc;
	/* The key: a PKCS#11 label, or a PEM file. */
	if (cfg->intermediate_private_key_label_in_pkcs11 != NULL) {
		if (cfg->pkcs11_library == NULL)
			return cfg_err(c, "pkcs11_library", "missing (required "
			    "with intermediate_private_key_label_in_pkcs11)");
		if (cfg->pkcs11_library_pin == NULL)
			return cfg_err(c, "pkcs11_library_pin", "missing "
			    "(required with "
			    "intermediate_private_key_label_in_pkcs11)");
		if (cfg->intermediate_private_key_path != NULL) {
			free(cfg->intermediate_private_key_path);
			cfg->intermediate_private_key_path = NULL;
			if ((rc = cfg_warn(c, "intermediate_private_key_path "
			    "ignored: intermediate_private_key_label_in_pkcs11 "
			    "is set")) != 0)
				return rc;
		}
	} else if (cfg->intermediate_private_key_path == NULL)
		return cfg_err(c, "intermediate_private_key_label_in_pkcs11",
		    "missing (required, or set intermediate_private_key_path)");

	/* Keys in the token need the token. */
	if (cfg->pkcs11_library == NULL &&
	    ((cfg->mtls_server.key_in_pkcs11 &&
	    cfg->mtls_server.key_label != NULL) ||
	    (cfg->mtls_client.key_in_pkcs11 &&
	    cfg->mtls_client.key_label != NULL)))
		return cfg_err(c, "pkcs11_library", "missing (required with "
		    "is_private_key_label_required true)");
	/* One label, one certificate's keys (lib/renew.c supersedes). */
	if (cfg_labels_clash(cfg->mtls_server.key_in_pkcs11 ?
	    cfg->mtls_server.key_label : NULL, cfg->mtls_client.key_in_pkcs11 ?
	    cfg->mtls_client.key_label : NULL, cfg->device.key_label))
		return cfg_err(c, "mtls_server_cert_config", "the key labels "
		    "of mtls_server_cert_config, mtls_client_auth_cert_config "
		    "and device_cert_config must differ");
	if (cfg->pkcs11_library == NULL && cfg->device.key_label != NULL)
		return cfg_err(c, "pkcs11_library", "missing (required with "
		    "device_cert_config.device_key_label)");
	return 0;
}

/* Everything into c->cfg. */
static int
cfg_build(struct cfg_ctx *c, struct json_object *root)
{
	struct mca_cfg	*cfg = c->cfg;
	struct cfg_ents	 ents = { NULL, 0, 0 };
	char		 show[CFG_SHOW_MAX + 8];
	size_t		 i;
	int		 rc = MCA_ERR_INTERNAL;

	ents.cap = (size_t)json_object_object_length(root);
	if (ents.cap > 0 &&
	    (ents.e = calloc(ents.cap, sizeof(*ents.e))) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	if ((rc = cfg_block_parse(c, "", root, &cfg_top_block, cfg,
	    cfg_top_other, &ents)) != 0)
		goto out;

	/* The profiles, by N. */
	if (ents.n > 1)
		qsort(ents.e, ents.n, sizeof(*ents.e), cfg_ent_cmp);
	if ((rc = cfg_profiles_build(c, ents.e, ents.n)) != 0)
		goto out;

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
	free(ents.e);
	return rc;
}

/*
 * One secret string *sp of key kname (its dotted name name): an enc:v1
 * value (lib/secret.h) is replaced by its plaintext, decrypted with the
 * key of encryption_key_file_path, loaded into key the first time one
 * is met; its associated data is the key's own name. A value in the
 * clear is kept, with a warning. 0, MCA_ERR_CONFIG or MCA_ERR_NOMEM.
 */
static int
cfg_secret_open(struct cfg_ctx *c, const char *name, const char *kname,
    char **sp, struct mca_secret_key *key)
{
	const char		*kf = c->cfg->encryption_key_file_path;
	struct mca_diag		 kd;
	char			*plain = NULL;
	int			 rc;

	if (*sp == NULL)
		return 0;
	if (!mca_secret_is_enc(*sp, strlen(*sp)))
		return cfg_warn(c, "%s is stored in the clear; encrypt it "
		    "(microca-admin secret encrypt %s) and set "
		    "encryption_key_file_path", name, kname);
	if (kf == NULL)
		return cfg_err(c, name, "is encrypted (" MCA_SECRET_PREFIX
		    ") but encryption_key_file_path is not set");
	if (!key->loaded && mca_secret_key_load(kf, key, &kd) != 0)
		return cfg_err(c, name, "cannot be decrypted: "
		    "encryption_key_file_path: %s", kd.msg);
	rc = mca_secret_decrypt(key, kname, *sp, strlen(*sp), &plain, NULL,
	    &kd);
	if (rc == MCA_ERR_NOMEM)
		return rc;
	if (rc != 0)
		return cfg_err(c, name, "cannot be decrypted with the key in "
		    "%s: %s", kf, kd.msg);
	cfg_str_free(sp, 1);
	*sp = plain;
	return 0;
}

/*
 * The secrets of b's table in base (CFG_F_SECRET strings and arrays of
 * strings, in the blocks too), by cfg_secret_open(); each string of an
 * array is encrypted with the array key's name. Messages name the key
 * and the key file, never a value. 0, MCA_ERR_CONFIG or MCA_ERR_NOMEM.
 */
static int
cfg_secrets_open(struct cfg_ctx *c, const char *prefix,
    const struct cfg_block *b, void *base, struct mca_secret_key *key)
{
	const struct cfg_key	*k;
	struct mca_cfg_strs	*a;
	char			 name[CFG_NAME_MAX], ename[CFG_NAME_MAX + 24];
	size_t			 i, j;
	int			 rc;

	for (i = 0; i < b->nkeys; i++) {
		k = &b->keys[i];
		cfg_name(name, sizeof(name), prefix, k->name);
		if (k->type == CFG_T_BLOCK) {
			if ((rc = cfg_secrets_open(c, name, k->block,
			    CFG_FIELD(base, k, char), key)) != 0)
				return rc;
			continue;
		}
		if (!(k->flags & CFG_F_SECRET))
			continue;
		if (k->type == CFG_T_STR) {
			if ((rc = cfg_secret_open(c, name, k->name,
			    CFG_FIELD(base, k, char *), key)) != 0)
				return rc;
		} else if (k->type == CFG_T_STRS) {
			a = CFG_FIELD(base, k, struct mca_cfg_strs);
			for (j = 0; j < a->n; j++) {
				(void)snprintf(ename, sizeof(ename), "%s[%zu]",
				    name, j);
				if ((rc = cfg_secret_open(c, ename, k->name,
				    &a->v[j], key)) != 0)
					return rc;
			}
		}
	}
	return 0;
}

/*
 * Frees the tokener after wiping its scratch buffer, which held every
 * string of the document (the PIN too) while it was being parsed. The
 * field is marked internal in json-c 0.16 but is still in the header.
 */
void
cfg_tokener_free(struct json_tokener *tok)
{
	if (tok == NULL)
		return;
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		OPENSSL_cleanse(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
}

int
cfg_doc_parse(const char *path, const char *json, size_t len,
    struct json_tokener **tokp, struct json_object **rootp,
    struct mca_diag *d)
{
	struct json_tokener	*tok = NULL;
	struct json_object	*root = NULL;
	struct mca_jsondup	 dup;
	enum json_tokener_error	 jerr;
	char			 show[CFG_SHOW_MAX + 8];
	char			 pshow[CFG_SHOW_MAX + 8];
	const char		*p, *what;
	size_t			 off;
	int			 rc = MCA_ERR_INTERNAL;

	*tokp = NULL;
	*rootp = NULL;
	if (json == NULL)
		json = "";
	if (len > MCA_CFG_FILE_MAX)
		return mca_diag(d, MCA_ERR_TOOBIG, "%s: larger than %u bytes",
		    path, MCA_CFG_FILE_MAX);
	if ((p = memchr(json, '\0', len)) != NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: line %zu: contains a "
		    "NUL byte", path, mca_text_line(json, (size_t)(p - json)));
	if ((tok = json_tokener_new()) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	/* Strict: no trailing commas, comments or text after the object. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (off > len)
		off = len;
	if (jerr == json_tokener_continue) {
		/*
		 * A bare top-level number or literal ("42", "null") is only
		 * complete once a delimiter follows: feed the end of input.
		 */
		root = json_tokener_parse_ex(tok, "", 1);
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
		    "%s", path, mca_text_line(json, off), what);
		goto out;
	}
	/* A key named twice (json-c keeps the last silently) is refused. */
	if ((rc = mca_jsondup_find(json, len, &dup)) == 1) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: line %zu: %s%s%s: "
		    "duplicate key (first on line %zu)", path, dup.line,
		    cfg_show(dup.path, strlen(dup.path), pshow, sizeof(pshow)),
		    dup.path[0] != '\0' ? "." : "",
		    cfg_show(dup.key, dup.keylen, show, sizeof(show)),
		    dup.first_line);
		goto out;
	}
	if (rc == MCA_ERR_INVAL)
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: invalid JSON", path);
	if (rc != 0)
		goto out;
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: the top level must be a "
		    "JSON object", path);
		goto out;
	}
	rc = 0;
out:
	/* The caller wipes the secrets of root, then frees both. */
	*tokp = tok;
	*rootp = root;
	return rc;
}

static int
cfg_parse(const char *path, const char *json, size_t len, const mode_t *mode,
    struct mca_cfg **out, struct mca_diag *d)
{
	struct cfg_ctx		 c;
	struct mca_cfg		*cfg = NULL;
	struct json_tokener	*tok = NULL;
	struct json_object	*root = NULL;
	struct mca_secret_key	 key;
	int			 rc = MCA_ERR_INTERNAL, pin_clear;

	memset(&key, 0, sizeof(key));
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->path = strdup(path)) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	cfg_ctx_init(&c, path, cfg, &cfg->warnings, &cfg->nwarnings, d);

	if ((rc = cfg_doc_parse(path, json, len, &tok, &root, d)) != 0)
		goto out;
	if ((rc = cfg_build(&c, root)) != 0)
		goto out;

	pin_clear = cfg->pkcs11_library_pin != NULL &&
	    !mca_secret_is_enc(cfg->pkcs11_library_pin,
	    strlen(cfg->pkcs11_library_pin));
	if ((rc = cfg_secrets_open(&c, "", &cfg_top_block, cfg, &key)) != 0)
		goto out;

	/* An encrypted PIN is no secret without the key file. */
	if (mode != NULL && (*mode & S_IROTH) && pin_clear &&
	    (rc = cfg_warn(&c, "holds pkcs11_library_pin but is "
	    "world-readable; chmod 600 or 640")) != 0)
		goto out;
	rc = 0;
out:
	/* No JSON outlives loading; json-c's copies of secrets are wiped. */
	cfg_block_wipe_json(&cfg_top_block, root);
	json_object_put(root);
	cfg_tokener_free(tok);
	mca_secret_key_clear(&key);
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
cfg_file_read(const char *path, struct mca_buf *b, mode_t *mode,
    struct mca_diag *d)
{
	int	 rc, serrno;

	errno = 0;
	rc = mca_file_read(path, MCA_CFG_FILE_MAX, b, mode);
	serrno = errno;
	switch (rc) {
	case 0:
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
	return rc;
}

int
mca_cfg_load(const char *path, struct mca_cfg **out, struct mca_diag *d)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	mode_t		 mode = 0;
	int		 rc;

	mca_diag_clear(d);
	if (out != NULL)
		*out = NULL;
	if (out == NULL || path == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_cfg_load: no %s",
		    out == NULL ? "output" : "path");
	if ((rc = cfg_file_read(path, &b, &mode, d)) == 0)
		rc = cfg_parse(path, (const char *)b.data, b.len, &mode, out,
		    d);
	mca_buf_free_secret(&b);
	return rc;
}

void
mca_cfg_wipe_pin(struct mca_cfg *cfg)
{
	if (cfg == NULL)
		return;
	if (cfg->pkcs11_library_pin != NULL) {
		OPENSSL_cleanse(cfg->pkcs11_library_pin,
		    strlen(cfg->pkcs11_library_pin));
		free(cfg->pkcs11_library_pin);
		cfg->pkcs11_library_pin = NULL;
	}
}

void
mca_cfg_free(struct mca_cfg *cfg)
{
	size_t	 i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	cfg_block_free(&cfg_top_block, cfg);
	for (i = 0; i < cfg->nprofiles; i++)
		cfg_profile_free(&cfg->profiles[i]);
	free(cfg->profiles);
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
