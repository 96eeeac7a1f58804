/*
 * Inside the config parser: what lib/cfg.c shares with the files that
 * parse parts of a label's block (lib/cfg_policy.c). Not for other
 * modules: they read struct mca_cfg (cfg.h).
 */
#ifndef MCA_CFG_INT_H
#define MCA_CFG_INT_H

#include <stddef.h>

#include <regex.h>

#include <json-c/json.h>

#include "cfg.h"
#include "err.h"

#define CFG_SHOW_MAX		64	/* file text quoted in messages */
#define CFG_NAME_MAX		128	/* a dotted key name */
#define CFG_PATTERN_MAX		1024	/* a regex, in bytes */

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct cfg_ctx {
	const char	*path;
	struct mca_cfg	*cfg;
	struct mca_diag	*d;
};

/* Writes "<path>: <key>: <what>" into d; returns MCA_ERR_CONFIG. */
int	 cfg_err(struct cfg_ctx *c, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Appends "<path>: <what>" to the warnings. 0 or MCA_ERR_NOMEM. */
int	 cfg_warn(struct cfg_ctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Printable ASCII of s for a message, cut at CFG_SHOW_MAX. */
const char *cfg_show(const char *s, size_t len, char *buf, size_t buflen);
/* "prefix.key" into buf. */
const char *cfg_name(char *buf, size_t len, const char *prefix,
	    const char *key);
/* 1 and *v set if obj has key (*v NULL for JSON null), else 0. */
int	 cfg_lookup(struct json_object *obj, const char *key,
	    struct json_object **v);
/* v is a non-empty string without NUL, at most 4096 bytes. */
int	 cfg_check_str(struct cfg_ctx *c, const char *name,
	    struct json_object *v);
/* obj.key as a boolean, 0 if absent. */
int	 cfg_get_bool(struct cfg_ctx *c, struct json_object *obj,
	    const char *name, const char *key, int *out);
/* obj.key as an integer in [lo, hi]; *present says if it is there. */
int	 cfg_get_int(struct cfg_ctx *c, struct json_object *obj,
	    const char *name, const char *key, long long lo, long long hi,
	    long long *out, int *present);
/* obj.key as an array of 1..max strings, or *arr NULL if absent. */
int	 cfg_get_strarray(struct cfg_ctx *c, struct json_object *obj,
	    const char *name, const char *key, size_t max, const char *what,
	    struct json_object **arr);
/*
 * Compiles the string v, named name, as a POSIX extended regex into re
 * (REG_EXTENDED | REG_NOSUB) after the cost guard; warns if it is not
 * anchored at both ends. On success *pattern is a copy of the text.
 * 0, MCA_ERR_CONFIG or MCA_ERR_NOMEM; re is compiled only on success.
 */
int	 cfg_compile_pattern(struct cfg_ctx *c, const char *name,
	    struct json_object *v, regex_t *re, char **pattern);
/*
 * An attribute -> regex object at blk.key (subject_patterns,
 * ra_subject_patterns) into *rules, *nrules.
 */
int	 cfg_parse_rules(struct cfg_ctx *c, const char *prefix,
	    struct json_object *blk, const char *key,
	    struct mca_subject_rule **rules, size_t *nrules);
void	 cfg_rules_free(struct mca_subject_rule *rules, size_t nrules);

/*
 * lib/cfg_policy.c: a label's identity rules, after subject_patterns:
 * subject_unlisted, san_policy, ra_subject_patterns and
 * reenroll_grace_seconds (whose default is c->cfg->reenroll_grace).
 */
int	 cfg_parse_identity(struct cfg_ctx *c, const char *prefix,
	    struct json_object *blk, struct mca_profile *p);
void	 cfg_identity_free(struct mca_profile *p);

#endif
