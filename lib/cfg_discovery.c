/*
 * config.json: discover_certificate_config (table 7 of the vendor guide),
 * the job that finds certificates on the host and uploads them to
 * AppViewX. See cfg.h.
 */
#include "config.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cfg_int.h"
#include "discover.h"
#include "err.h"
#include "num.h"

#define CFG_MINUTES_MAX		525600	/* a year */
#define CFG_DEF_SCAN_EVERY	30	/* minutes; table 7 */
#define CFG_SCAN_LIST_MAX	256	/* strings in a scan_* array */
#define CFG_DEF_EP_TIMEOUT	5	/* seconds per endpoint */
#define CFG_EP_TIMEOUT_MAX	300
#define CFG_DEF_BATCH		100	/* certificates per upload */
#define CFG_BATCH_MAX		200	/* MCA_AVXDISC_BATCH_MAX */
#define CFG_EXT_MAX		16	/* bytes of an extension */

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
	/* microca additions: what is scanned, how, and the upload */
	CFG_KEY("scan_paths", CFG_T_STRS, DSC(scan_paths),
	    .hi = CFG_SCAN_LIST_MAX),
	CFG_KEY("scan_exclude", CFG_T_STRS, DSC(scan_exclude),
	    .hi = CFG_SCAN_LIST_MAX),
	CFG_KEY("scan_extensions", CFG_T_STRS, DSC(scan_extensions),
	    .hi = CFG_SCAN_LIST_MAX),
	CFG_KEY("scan_endpoints", CFG_T_STRS, DSC(scan_endpoints),
	    .hi = CFG_SCAN_LIST_MAX),
	CFG_KEY("scan_p12_passwords", CFG_T_STRS, DSC(scan_p12_passwords),
	    .hi = CFG_SCAN_LIST_MAX, .flags = CFG_F_SECRET),
	CFG_KEY("scan_max_file_size", CFG_T_INT, DSC(scan_max_file_size),
	    .lo = 1, .hi = INT_MAX, .def = MCA_DISC_DEF_MAX_FILE_SIZE),
	CFG_KEY("scan_endpoint_timeout_seconds", CFG_T_INT,
	    DSC(endpoint_timeout), .lo = 1, .hi = CFG_EP_TIMEOUT_MAX,
	    .def = CFG_DEF_EP_TIMEOUT),
	CFG_KEY("upload_batch_size", CFG_T_INT, DSC(upload_batch_size),
	    .lo = 1, .hi = CFG_BATCH_MAX, .def = CFG_DEF_BATCH),
};

/*
 * A scan endpoint: "host:port" or "[v6]:port" (RFC 3986 3.2.2), a
 * host of letters, digits, '-' and '.' (or an IPv6 literal in
 * brackets), a port from 1 to 65535. 1 if s is one.
 */
int
mca_cfg_endpoint_ok(const char *s)
{
	const char	*colon, *h, *e;
	long long	 port;
	size_t		 hlen, i;

	if (s == NULL || strlen(s) >= MCA_DISC_LOC_MAX)
		return 0;
	if (s[0] == '[') {
		if ((e = strchr(s, ']')) == NULL || e[1] != ':')
			return 0;
		h = s + 1;
		hlen = (size_t)(e - h);
		colon = e + 1;
		if (hlen < 2 || strspn(h, "0123456789abcdefABCDEF:.") < hlen ||
		    memchr(h, ':', hlen) == NULL)
			return 0;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return 0;
		h = s;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen > 253 || h[0] == '-' || h[0] == '.')
			return 0;
		for (i = 0; i < hlen; i++)
			if (!((h[i] >= 'a' && h[i] <= 'z') ||
			    (h[i] >= 'A' && h[i] <= 'Z') ||
			    (h[i] >= '0' && h[i] <= '9') ||
			    h[i] == '-' || h[i] == '.'))
				return 0;
	}
	return mca_num_parse(colon + 1, strlen(colon + 1), 1, 65535,
	    &port) == 0;
}

/* The scan_* strings, each as its key wants it. */
static int
cfg_discovery_scan_check(struct cfg_ctx *c, const char *name,
    const struct mca_cfg_discovery *s)
{
	char		 kname[CFG_NAME_MAX], show[CFG_SHOW_MAX + 8];
	const char	*v;
	size_t		 i;

	for (i = 0; i < s->scan_paths.n; i++) {
		v = s->scan_paths.v[i];
		if (v[0] != '/')
			return cfg_err(c, cfg_name(kname, sizeof(kname), name,
			    "scan_paths"), "\"%s\" is not an absolute path",
			    cfg_show(v, strlen(v), show, sizeof(show)));
	}
	for (i = 0; i < s->scan_extensions.n; i++) {
		v = s->scan_extensions.v[i];
		if (v[0] == '.' || strlen(v) > CFG_EXT_MAX ||
		    strchr(v, '/') != NULL)
			return cfg_err(c, cfg_name(kname, sizeof(kname), name,
			    "scan_extensions"), "\"%s\" is not an extension "
			    "(write \"pem\", not \".pem\"; at most %d bytes)",
			    cfg_show(v, strlen(v), show, sizeof(show)),
			    CFG_EXT_MAX);
	}
	for (i = 0; i < s->scan_endpoints.n; i++) {
		v = s->scan_endpoints.v[i];
		if (!mca_cfg_endpoint_ok(v))
			return cfg_err(c, cfg_name(kname, sizeof(kname), name,
			    "scan_endpoints"), "\"%s\" is not host:port or "
			    "[IPv6]:port (port 1-65535)",
			    cfg_show(v, strlen(v), show, sizeof(show)));
	}
	return 0;
}

/* A discovery that runs needs its name, its group and the upstream. */
static int
cfg_discovery_check(struct cfg_ctx *c, const char *name, void *base)
{
	const struct mca_cfg_discovery	*s = base;
	char				 kname[CFG_NAME_MAX];
	const char			*miss = NULL;
	int				 rc;

	if ((rc = cfg_discovery_scan_check(c, name, s)) != 0)
		return rc;
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
