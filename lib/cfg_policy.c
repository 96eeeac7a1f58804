/*
 * A label's identity rules (microca additions to end_certificate_config_<N>):
 * which subject attributes and subjectAltNames a request may ask for,
 * which certificates of ours may enroll for others, and how long a
 * renewed certificate may renew once more. lib/csr.c applies them.
 */
#include "config.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "cfg.h"
#include "cfg_int.h"
#include "err.h"

/* san_policy type names, by enum mca_san_type; matched in any case. */
static const char *const cfg_san_names[MCA_SAN_MAX] = {
	"DNS", "IP", "URI", "email",
};

/* The keys of san_policy besides the type names. */
static const char *const cfg_san_keys[] = {
	"allowed_types", "allow_wildcard", "max_names", "dns_equals_cn",
};

/* The enum mca_san_type of a type name, or MCA_SAN_MAX. */
static int
cfg_san_type(const char *s)
{
	int	 i;

	for (i = 0; i < MCA_SAN_MAX; i++)
		if (strcasecmp(s, cfg_san_names[i]) == 0)
			return i;
	return MCA_SAN_MAX;
}

/* subject_unlisted: "allow" (default) or "refuse". */
static int
cfg_parse_unlisted(struct cfg_ctx *c, const char *prefix,
    struct json_object *blk, struct mca_profile *p)
{
	struct json_object	*v;
	char			 name[CFG_NAME_MAX], show[CFG_SHOW_MAX + 8];
	const char		*s;
	int			 rc;

	cfg_name(name, sizeof(name), prefix, "subject_unlisted");
	p->subject_unlisted_refuse = 0;
	if (!cfg_lookup(blk, "subject_unlisted", &v))
		return 0;
	if ((rc = cfg_check_str(c, name, v)) != 0)
		return rc;
	s = json_object_get_string(v);
	if (strcmp(s, "refuse") == 0)
		p->subject_unlisted_refuse = 1;
	else if (strcmp(s, "allow") != 0)
		return cfg_err(c, name, "\"%s\": expected \"allow\" or "
		    "\"refuse\"", cfg_show(s, strlen(s), show, sizeof(show)));
	if (p->subject_unlisted_refuse && p->nsubject_rules == 0)
		return cfg_warn(c, "%s: no subject_patterns: only an empty "
		    "subject is accepted", name);
	return 0;
}

/*
 * san_policy: { "allowed_types": [...], "<type>": "<regex>",
 * "allow_wildcard": bool, "max_names": 0..1024, "dns_equals_cn": bool }.
 * Unknown keys stop start-up: a misspelt rule must not pass for none.
 */
static int
cfg_parse_san(struct cfg_ctx *c, const char *prefix, struct json_object *blk,
    struct mca_profile *p)
{
	struct mca_san_policy		*sp = &p->san;
	struct json_object_iterator	 it, end;
	struct json_object		*pol, *v;
	char				 name[CFG_NAME_MAX];
	char				 ename[CFG_NAME_MAX + CFG_SHOW_MAX + 8];
	char				 show[CFG_SHOW_MAX + 8];
	const char			*k;
	long long			 n;
	size_t				 i;
	int				 rc, t, present;

	/* The default: DNS and IP, at most 16, no wildcard. */
	sp->types = 1u << MCA_SAN_DNS | 1u << MCA_SAN_IP;
	sp->max_names = MCA_SAN_DEF_NAMES;
	cfg_name(name, sizeof(name), prefix, "san_policy");
	if (!cfg_lookup(blk, "san_policy", &pol))
		return 0;
	if (pol == NULL || !json_object_is_type(pol, json_type_object))
		return cfg_err(c, name, "expected an object (e.g. "
		    "{\"allowed_types\": [\"DNS\"], \"DNS\": "
		    "\"^[a-z0-9-]+\\\\.example\\\\.com$\"})");
	it = json_object_iter_begin(pol);
	end = json_object_iter_end(pol);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		k = json_object_iter_peek_name(&it);
		for (i = 0; i < NELEM(cfg_san_keys); i++)
			if (strcmp(k, cfg_san_keys[i]) == 0)
				break;
		if (i < NELEM(cfg_san_keys) || cfg_san_type(k) != MCA_SAN_MAX)
			continue;
		(void)snprintf(ename, sizeof(ename), "%s.%s", name,
		    cfg_show(k, strlen(k), show, sizeof(show)));
		return cfg_err(c, ename, "unknown key (allowed_types, DNS, "
		    "IP, URI, email, allow_wildcard, max_names, "
		    "dns_equals_cn)");
	}

	(void)snprintf(ename, sizeof(ename), "%s.allowed_types", name);
	if ((rc = cfg_get_names(c, pol, ename, "allowed_types", cfg_san_names,
	    MCA_SAN_MAX, 1, "a subjectAltName type this CA issues (\"DNS\", "
	    "\"IP\", \"URI\" or \"email\")", "\"DNS\", \"IP\", \"URI\", "
	    "\"email\"", &sp->types)) != 0)
		return rc;
	(void)snprintf(ename, sizeof(ename), "%s.allow_wildcard", name);
	if ((rc = cfg_get_bool(c, pol, ename, "allow_wildcard",
	    &sp->allow_wildcard)) != 0)
		return rc;
	(void)snprintf(ename, sizeof(ename), "%s.dns_equals_cn", name);
	if ((rc = cfg_get_bool(c, pol, ename, "dns_equals_cn",
	    &sp->dns_equals_cn)) != 0)
		return rc;
	(void)snprintf(ename, sizeof(ename), "%s.max_names", name);
	if ((rc = cfg_get_int(c, pol, ename, "max_names", 0,
	    MCA_SAN_MAX_NAMES, &n, &present)) != 0)
		return rc;
	if (present)
		sp->max_names = (int)n;

	/* The patterns, one per type, each for a type that is allowed. */
	it = json_object_iter_begin(pol);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		k = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		if ((t = cfg_san_type(k)) == MCA_SAN_MAX)
			continue;
		(void)snprintf(ename, sizeof(ename), "%s.%s", name, k);
		if (sp->pattern[t] != NULL)
			return cfg_err(c, ename, "same type as another key "
			    "(\"%s\")", cfg_san_names[t]);
		if (!(sp->types & (1u << t)))
			return cfg_err(c, ename, "a pattern for a type that "
			    "allowed_types does not allow");
		if ((rc = cfg_compile_pattern(c, ename, v, &sp->re[t],
		    &sp->pattern[t])) != 0)
			return rc;
	}
	if (sp->dns_equals_cn && !(sp->types & (1u << MCA_SAN_DNS)))
		return cfg_err(c, cfg_name(ename, sizeof(ename), name,
		    "dns_equals_cn"), "DNS is not in allowed_types");
	if (sp->allow_wildcard && !(sp->types & (1u << MCA_SAN_DNS)))
		return cfg_err(c, cfg_name(ename, sizeof(ename), name,
		    "allow_wildcard"), "DNS is not in allowed_types");
	return 0;
}

int
cfg_parse_identity(struct cfg_ctx *c, const char *prefix,
    struct json_object *blk, struct mca_profile *p)
{
	char		 name[CFG_NAME_MAX];
	long long	 n;
	int		 rc, present;

	if ((rc = cfg_parse_unlisted(c, prefix, blk, p)) != 0 ||
	    (rc = cfg_parse_san(c, prefix, blk, p)) != 0 ||
	    (rc = cfg_parse_rules(c, prefix, blk, "ra_subject_patterns",
	    &p->ra_rules, &p->nra_rules)) != 0)
		return rc;
	cfg_name(name, sizeof(name), prefix, "ra_subject_patterns");
	if (p->nra_rules > 0 && !(p->auth_methods & MCA_AUTH_CERTIFICATE) &&
	    (rc = cfg_warn(c, "%s: ignored: auth_methods does not include "
	    "\"certificate\"", name)) != 0)
		return rc;
	cfg_name(name, sizeof(name), prefix, "reenroll_grace_seconds");
	if ((rc = cfg_get_int(c, blk, name, "reenroll_grace_seconds", 0,
	    MCA_REENROLL_GRACE_MAX, &n, &present)) != 0)
		return rc;
	p->reenroll_grace = present ? (int)n : c->cfg->reenroll_grace;
	return 0;
}

void
cfg_identity_free(struct mca_profile *p)
{
	int	 t;

	if (p == NULL)
		return;
	for (t = 0; t < MCA_SAN_MAX; t++) {
		if (p->san.pattern[t] == NULL)
			continue;
		regfree(&p->san.re[t]);
		free(p->san.pattern[t]);
		p->san.pattern[t] = NULL;
	}
	cfg_rules_free(p->ra_rules, p->nra_rules);
	p->ra_rules = NULL;
	p->nra_rules = 0;
}
