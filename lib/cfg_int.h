/*
 * The inside of the cfg module (lib/cfg*.c): the context, diagnostics and
 * typed getters that the files reading each part of config.json share.
 * Not for use outside lib/cfg*.c.
 */
#ifndef MCA_CFG_INT_H
#define MCA_CFG_INT_H

#include <sys/types.h>

#include <stddef.h>

#include <regex.h>

#include <json-c/json.h>

#include "cfg.h"
#include "err.h"

#define CFG_STR_MAX		4096	/* any string value, in bytes */
#define CFG_WARN_MAX		64	/* kept warnings, the last one "more" */
#define CFG_SHOW_MAX		64	/* file text quoted in messages */
#define CFG_NAME_MAX		128	/* a dotted key name */
#define CFG_PATTERN_MAX		1024	/* a regex, in bytes */
#define CFG_PREFIX		"end_certificate_config_"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct cfg_ctx {
	const char	*path;
	struct mca_cfg	*cfg;
	struct mca_diag	*d;
	/* where cfg_warn() appends; NULL: cfg->warnings */
	char		***warnings;
	size_t		*nwarnings;
};

/* One end_certificate_config_<N> block before sorting. */
struct cfg_ent {
	int			 n;
	struct json_object	*obj;
};

/*
 * Copies text from the file into buf for a message: printable ASCII only
 * (others, '"' and '\\' become '?'), cut at CFG_SHOW_MAX with "...".
 * buf should hold CFG_SHOW_MAX + 8 bytes.
 */
const char	*cfg_show(const char *s, size_t len, char *buf, size_t buflen);

/*
 * Clears c and sets it up for loading path: cfg the config being built
 * (NULL for a file that is not config.json), warnings and nwarnings where
 * cfg_warn() appends, d where errors go.
 */
void	 cfg_ctx_init(struct cfg_ctx *c, const char *path, struct mca_cfg *cfg,
	    char ***warnings, size_t *nwarnings, struct mca_diag *d);

/* Writes "<path>: <key>: <what>" into c->d; returns MCA_ERR_CONFIG. */
int	 cfg_err(struct cfg_ctx *c, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Appends "<path>: <what>" to the warnings. After CFG_WARN_MAX - 1
 * lines, one last line says the rest was suppressed.
 * Returns 0 or MCA_ERR_NOMEM.
 */
int	 cfg_warn(struct cfg_ctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* 1 and *v set if obj has key (*v is NULL for JSON null), else 0. */
int	 cfg_lookup(struct json_object *obj, const char *key,
	    struct json_object **v);

/*
 * Checks that v is a usable string: non-empty, at most CFG_STR_MAX bytes,
 * no NUL. Returns 0 or MCA_ERR_CONFIG naming name.
 */
int	 cfg_check_str(struct cfg_ctx *c, const char *name,
	    struct json_object *v);

/*
 * Copies the string at obj.key into *out (left alone if absent); name is
 * the dotted name for messages. Returns 0, MCA_ERR_CONFIG (wrong, or
 * missing and required) or MCA_ERR_NOMEM.
 */
int	 cfg_get_str(struct cfg_ctx *c, struct json_object *obj,
	    const char *name, const char *key, int required, char **out);

/* *out is the boolean at obj.key, 0 if absent. 0 or MCA_ERR_CONFIG. */
int	 cfg_get_bool(struct cfg_ctx *c, struct json_object *obj,
	    const char *name, const char *key, int *out);

/*
 * *out is the integer at obj.key, which must lie in [lo, hi]; *present
 * says whether the key is there (JSON null counts as there and wrong).
 * Returns 0 or MCA_ERR_CONFIG.
 */
int	 cfg_get_int(struct cfg_ctx *c, struct json_object *obj,
	    const char *name, const char *key, long long lo, long long hi,
	    long long *out, int *present);

/*
 * Checks that obj.key is an array of 1..max strings; *arr is it, or NULL
 * when absent; what names the strings for messages. 0 or MCA_ERR_CONFIG.
 */
int	 cfg_get_strarray(struct cfg_ctx *c, struct json_object *obj,
	    const char *name, const char *key, size_t max, const char *what,
	    struct json_object **arr);

/*
 * obj.key as an array of distinct names out of names[0..nnames) (at most
 * 32), in any case if fold: *bits gets 1 << i for names[i], and is left
 * alone when the key is absent. kind says what a name is, with the
 * choices ("an authentication method (...)"); what lists them for
 * cfg_get_strarray(). 0 or MCA_ERR_CONFIG.
 */
int	 cfg_get_names(struct cfg_ctx *c, struct json_object *obj,
	    const char *name, const char *key, const char *const *names,
	    size_t nnames, int fold, const char *kind, const char *what,
	    unsigned *bits);

/*
 * A key type as the seed spells it: "RSA" or "ECC" (also "EC"), in any
 * case, into *out. 0 or MCA_ERR_CONFIG naming name.
 */
int	 cfg_keytype(struct cfg_ctx *c, const char *name, const char *s,
	    enum mca_keytype *out);

/* Writes "prefix.key" (or "key" for an empty prefix) into buf. */
const char	*cfg_name(char *buf, size_t len, const char *prefix,
	    const char *key);

/*
 * The key tables: one declaration per key says its name, its type, where
 * its value goes (an offset into the struct the table fills), whether it
 * is required or secret, and its default. One engine (cfg.c) parses,
 * warns about unknown keys, applies defaults and frees from them.
 */
enum cfg_type {
	CFG_T_STR,	/* char *: a string (cfg_check_str) */
	CFG_T_BOOL,	/* int: true or false */
	CFG_T_INT,	/* int: an integer from lo to hi */
	CFG_T_PORT,	/* int: 1-65535, as a number or a string of digits */
	CFG_T_WORD,	/* int: 1 for "FULL", 0 for word0; any case */
	CFG_T_KEYTYPE,	/* enum mca_keytype: "RSA" or "ECC" ("EC") */
	CFG_T_HASH,	/* char *: a digest mca_md_by_name() knows */
	CFG_T_BLOCK,	/* an object: a struct read by its own table */
	CFG_T_STRS,	/* struct mca_cfg_strs: an array of at most hi
			   strings ([] allowed), each as CFG_T_STR */
	CFG_T_MAX
};

#define CFG_F_REQUIRED	0x1	/* missing: an error */
#define CFG_F_SECRET	0x2	/* wiped, in the JSON too; never shown */
#define CFG_F_EMPTY	0x4	/* STR: "" is a value of its own */

struct cfg_block;

struct cfg_key {
	const char		*name;
	enum cfg_type		 type;
	size_t			 off;	/* of the field in the struct */
	unsigned		 flags;
	long long		 lo, hi;	/* CFG_T_INT; STRS: hi */
	long long		 def;	/* BOOL, INT, WORD, KEYTYPE default */
	const char		*defstr; /* STR, HASH default; WORD: word0 */
	const struct cfg_block	*block;	/* CFG_T_BLOCK */
};

/* A JSON object read into a struct by a key table. */
struct cfg_block {
	const struct cfg_key	*keys;
	size_t			 nkeys;	/* at most 64 */
	size_t			 present; /* offset of an int set to 1, or (size_t)-1 */
	/* Rules across keys, run when the block is there; may be NULL. */
	int			(*check)(struct cfg_ctx *, const char *name,
				    void *base);
};

#define CFG_NO_PRESENT	((size_t)-1)

/* One entry of a key table: name, type, offset, then designated extras. */
#define CFG_KEY(n, t, o, ...) \
	{ .name = (n), .type = (t), .off = (o), __VA_ARGS__ }

/*
 * Keys of obj that are not in the table: 0 when taken, 1 to have them
 * warned about as unknown, or an error.
 */
typedef int (*cfg_other_fn)(struct cfg_ctx *, const char *key,
    struct json_object *v, void *arg);

/*
 * Reads obj into base by b's table, in file order; name is the block's
 * dotted name ("" at the top level). obj NULL: the block is absent, and
 * only the defaults are set. other (may be NULL) is given the keys that
 * are not in the table. 0, MCA_ERR_CONFIG or MCA_ERR_NOMEM.
 */
int	 cfg_block_parse(struct cfg_ctx *c, const char *name,
	    struct json_object *obj, const struct cfg_block *b, void *base,
	    cfg_other_fn other, void *arg);

/* Frees what b's table put into base (not base); wipes the secrets. */
void	 cfg_block_free(const struct cfg_block *b, void *base);

/* Wipes in place json-c's copies of the secret strings of obj, by b. */
void	 cfg_block_wipe_json(const struct cfg_block *b,
	    struct json_object *obj);

/*
 * Rules shared by the blocks: when the block is enabled, the upstream
 * keys (appviewx_hostname, port, est_agent_setting_name) are required;
 * why says when ("with use_est true"). 0 or MCA_ERR_CONFIG.
 */
int	 cfg_upstream_require(struct cfg_ctx *c, const char *name,
	    const struct mca_cfg_upstream *u, const char *why);

/*
 * upstream_username and upstream_password of the upstream u in block
 * name: both or neither, and no ':' in the user-id. 0 or MCA_ERR_CONFIG.
 */
int	 cfg_upstream_auth_check(struct cfg_ctx *c, const char *name,
	    const struct mca_cfg_upstream *u);

/* The blocks' tables: lib/cfg_renewal.c, cfg_discovery.c, cfg_azure.c */
extern const struct cfg_block cfg_intermediate_block;
extern const struct cfg_block cfg_device_block;
extern const struct cfg_block cfg_renewal_block;
extern const struct cfg_block cfg_mtls_server_block;
extern const struct cfg_block cfg_mtls_client_block;
extern const struct cfg_block cfg_discovery_block;
extern const struct cfg_block cfg_azure_block;

struct json_tokener;
struct mca_buf;

/*
 * Reads a config file (config.json, APIconfig) of at most
 * MCA_CFG_FILE_MAX bytes into b, and its mode into *mode. Returns 0, or
 * MCA_ERR_NOTFOUND, MCA_ERR_IO or MCA_ERR_TOOBIG with d naming path.
 */
int	 cfg_file_read(const char *path, struct mca_buf *b, mode_t *mode,
	    struct mca_diag *d);

/*
 * Parses json[0..len) strictly: at most MCA_CFG_FILE_MAX bytes, no NUL,
 * valid UTF-8, no trailing commas or comments, no key twice
 * (lib/jsondup.c), a JSON object at the top level. *tokp and *rootp are
 * set even on failure: the caller wipes the secrets in *rootp
 * (cfg_block_wipe_json()), then frees it (json_object_put()) and *tokp
 * (cfg_tokener_free()). Returns 0, MCA_ERR_CONFIG or MCA_ERR_TOOBIG
 * with d naming path (and the line), or MCA_ERR_NOMEM.
 */
int	 cfg_doc_parse(const char *path, const char *json, size_t len,
	    struct json_tokener **tokp, struct json_object **rootp,
	    struct mca_diag *d);

/* Frees tok after wiping its scratch buffer (every string parsed). */
void	 cfg_tokener_free(struct json_tokener *tok);

/* lib/cfg_profile.c */

/*
 * The end_certificate_config_<N> blocks, sorted by N, into
 * c->cfg->profiles; checks that no two share an end_point_name.
 * 0, MCA_ERR_CONFIG or MCA_ERR_NOMEM.
 */
int	 cfg_profiles_build(struct cfg_ctx *c, const struct cfg_ent *ents,
	    size_t nents);

/* Frees what a profile holds (not p itself). */
void	 cfg_profile_free(struct mca_profile *p);

/*
 * Compiles the string v, named name, as a POSIX extended regex into re
 * (REG_EXTENDED | REG_NOSUB) after the cost guard; warns if it is not
 * anchored at both ends. *pattern is a copy of the text once re is
 * compiled, else NULL (re is then not to be freed).
 * 0, MCA_ERR_CONFIG or MCA_ERR_NOMEM.
 */
int	 cfg_compile_pattern(struct cfg_ctx *c, const char *name,
	    struct json_object *v, regex_t *re, char **pattern);

/*
 * An attribute -> regex object at blk.key (subject_patterns,
 * ra_subject_patterns) into *rules, *nrules.
 * 0, MCA_ERR_CONFIG or MCA_ERR_NOMEM.
 */
int	 cfg_parse_rules(struct cfg_ctx *c, const char *prefix,
	    struct json_object *blk, const char *key,
	    struct mca_subject_rule **rules, size_t *nrules);

/* Frees rules[0..nrules) and rules. */
void	 cfg_rules_free(struct mca_subject_rule *rules, size_t nrules);

/* lib/cfg_crl.c */

/*
 * Judges url, the value of the key name, as a CRL distribution point:
 * "http://host[:port]/path", printable ASCII without spaces, at most
 * MCA_CRL_URL_MAX bytes. 0 or MCA_ERR_CONFIG naming name.
 */
int	 cfg_crl_url_check(struct cfg_ctx *c, const char *name,
	    const char *url);

/*
 * A label's crl_distribution_point_url into p->crl_url: its own (judged),
 * else a copy of the top-level one, else NULL. 0, MCA_ERR_CONFIG or
 * MCA_ERR_NOMEM.
 */
int	 cfg_parse_crl(struct cfg_ctx *c, const char *prefix,
	    struct json_object *blk, struct mca_profile *p);

/* lib/cfg_policy.c */

/*
 * A label's identity rules, after subject_patterns: subject_unlisted,
 * san_policy, ra_subject_patterns and reenroll_grace_seconds (whose
 * default is c->cfg->reenroll_grace). 0, MCA_ERR_CONFIG or MCA_ERR_NOMEM.
 */
int	 cfg_parse_identity(struct cfg_ctx *c, const char *prefix,
	    struct json_object *blk, struct mca_profile *p);

/* Frees what cfg_parse_identity() put into p. */
void	 cfg_identity_free(struct mca_profile *p);

#endif
