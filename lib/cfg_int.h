/*
 * The inside of the cfg module (lib/cfg*.c): the context, diagnostics and
 * typed getters that the files reading each part of config.json share.
 * Not for use outside lib/cfg*.c.
 */
#ifndef MCA_CFG_INT_H
#define MCA_CFG_INT_H

#include <stddef.h>

#include <json-c/json.h>

#include "cfg.h"
#include "err.h"

#define CFG_STR_MAX		4096	/* any string value, in bytes */
#define CFG_WARN_MAX		64	/* kept warnings, the last one "more" */
#define CFG_SHOW_MAX		64	/* file text quoted in messages */
#define CFG_NAME_MAX		128	/* a dotted key name */
#define CFG_PREFIX		"end_certificate_config_"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct cfg_ctx {
	const char	*path;
	struct mca_cfg	*cfg;
	struct mca_diag	*d;
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

/* Writes "prefix.key" (or "key" for an empty prefix) into buf. */
const char	*cfg_name(char *buf, size_t len, const char *prefix,
	    const char *key);

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

#endif
