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


#define CFG_DEF_LEDGER		"/var/lib/microca/ledger.db"
#define CFG_DEF_ISSUED		"/var/lib/microca/IssuedCerts"
#define CFG_DEF_HASH		"SHA256"

/* What a known top-level key must hold. */
enum cfg_kind {
	CFG_K_STR,
	CFG_K_BOOL,
	CFG_K_PORT,
	CFG_K_OBJ,
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
	char			 show[CFG_SHOW_MAX + 8];
	size_t			 nents = 0, i;
	int			 rc = MCA_ERR_INTERNAL;

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

	/* The profiles, by N. */
	if ((rc = cfg_profiles_build(c, ents, nents)) != 0)
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
	size_t	 i;

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
	for (i = 0; i < cfg->nprofiles; i++)
		cfg_profile_free(&cfg->profiles[i]);
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
