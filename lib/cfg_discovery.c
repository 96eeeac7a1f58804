/*
 * config.json: discover_certificate_config (table 7 of the vendor guide),
 * the job that finds certificates on the host and uploads them to
 * AppViewX. See cfg.h.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>

#include "cfg.h"
#include "cfg_int.h"
#include "err.h"

#define CFG_MINUTES_MAX		525600	/* a year */
#define CFG_DEF_SCAN_EVERY	30	/* minutes; table 7 */

#define DSC(f)	offsetof(struct mca_cfg_discovery, f)

static const struct cfg_key cfg_discovery_keys[] = {
	CFG_KEY("is_discovery_required", CFG_T_BOOL, DSC(enabled)),
	CFG_KEY("scan_interval_time_in_minutes", CFG_T_INT, DSC(interval_minutes),
	    .lo = 1, .hi = CFG_MINUTES_MAX, .def = CFG_DEF_SCAN_EVERY),
	CFG_KEY("discovery_name", CFG_T_STR, DSC(discovery_name)),
	CFG_KEY("groupName", CFG_T_STR, DSC(group_name)),
	CFG_KEY("appviewx_hostname", CFG_T_STR, DSC(upstream.appviewx_hostname)),
	CFG_KEY("port", CFG_T_PORT, DSC(upstream.port)),
	CFG_KEY("est_agent_setting_name", CFG_T_STR,
	    DSC(upstream.est_agent_setting_name)),
};

/* A discovery that runs needs its name, its group and the upstream. */
static int
cfg_discovery_check(struct cfg_ctx *c, const char *name, void *base)
{
	const struct mca_cfg_discovery	*s = base;
	char				 kname[CFG_NAME_MAX];
	const char			*miss = NULL;

	if (!s->enabled)
		return 0;
	if (s->discovery_name == NULL)
		miss = "discovery_name";
	else if (s->group_name == NULL)
		miss = "groupName";
	if (miss != NULL)
		return cfg_err(c, cfg_name(kname, sizeof(kname), name, miss),
		    "missing (required with is_discovery_required true)");
	return cfg_upstream_require(c, name, &s->upstream,
	    "with is_discovery_required true");
}

const struct cfg_block cfg_discovery_block = {
	cfg_discovery_keys, NELEM(cfg_discovery_keys), DSC(present),
	cfg_discovery_check
};
