/*
 * The CRL keys of config.json (microca-crl, lib/crl.h): the URL of the
 * CRL distribution point that issued certificates carry, at the top
 * level and per label (the label's wins), with at most one "{keyid}"
 * in its path, which lib/issue.c replaces with the issuing CA's key
 * identifier (lib/crl.h). crl_dir and crl_validity_hours are plain
 * entries of lib/cfg.c's table.
 *
 * Only http:// URLs are taken. RFC 5280 4.2.1.13 names HTTP (and LDAP)
 * as the schemes a relying party fetches a CRL by; a CRL is signed, so
 * TLS adds nothing to its integrity, and an https:// distribution point
 * makes fetching the CRL depend on validating (and revocation-checking)
 * the web server's own certificate: a loop RFC 5280 8 and CA/Browser
 * Forum practice avoid. OpenSSL's -crl_download and most embedded TLS
 * stacks fetch plain HTTP only. LDAP is not offered: microca serves
 * its CRLs as files behind the same web server as EST.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "cfg.h"
#include "cfg_int.h"
#include "crl.h"
#include "err.h"

#define HTTP_PREFIX	"http://"

int
cfg_crl_url_check(struct cfg_ctx *c, const char *name, const char *url)
{
	char		 show[CFG_SHOW_MAX + 8];
	const char	*host, *end, *var;
	size_t		 len = strlen(url), i;

	cfg_show(url, len, show, sizeof(show));
	if (len > MCA_CRL_URL_MAX)
		return cfg_err(c, name, "longer than %d bytes",
		    MCA_CRL_URL_MAX);
	/* RFC 5280 4.2.1.13: an IA5String URI; no space (RFC 3986 2). */
	for (i = 0; i < len; i++)
		if (url[i] <= 0x20 || url[i] >= 0x7f)
			return cfg_err(c, name, "\"%s\": only printable ASCII "
			    "without spaces (RFC 3986)", show);
	if (strncasecmp(url, HTTP_PREFIX, strlen(HTTP_PREFIX)) != 0)
		return cfg_err(c, name, "\"%s\": expected an http:// URL "
		    "(RFC 5280 4.2.1.13: a CRL is fetched over plain HTTP; "
		    "it is signed, and https would need the server's own "
		    "certificate checked first)", show);
	host = url + strlen(HTTP_PREFIX);
	end = host + strcspn(host, "/?#");
	if (end == host || *host == ':' || *host == '@' ||
	    memchr(host, '@', (size_t)(end - host)) != NULL)
		return cfg_err(c, name, "\"%s\": expected a host name after "
		    "http:// (and no user name)", show);
	if (strchr(url, '#') != NULL)
		return cfg_err(c, name, "\"%s\": a fragment (#) has no "
		    "place in a distribution point", show);
	/* Braces: only the one placeholder, once, after the host. */
	var = strstr(url, MCA_CRL_KEYID_VAR);
	for (i = 0; i < len; i++)
		if ((url[i] == '{' || url[i] == '}') && (var == NULL ||
		    url + i < var || url + i >= var +
		    strlen(MCA_CRL_KEYID_VAR) ||
		    strstr(var + 1, MCA_CRL_KEYID_VAR) != NULL ||
		    var < end))
			return cfg_err(c, name, "\"%s\": a brace other than "
			    "the one placeholder " MCA_CRL_KEYID_VAR " in the "
			    "path", show);
	return 0;
}

int
cfg_parse_crl(struct cfg_ctx *c, const char *prefix, struct json_object *blk,
    struct mca_profile *p)
{
	char	 name[CFG_NAME_MAX];
	int	 rc;

	cfg_name(name, sizeof(name), prefix, "crl_distribution_point_url");
	if ((rc = cfg_get_str(c, blk, name, "crl_distribution_point_url", 0,
	    &p->crl_url)) != 0)
		return rc;
	if (p->crl_url != NULL)
		return cfg_crl_url_check(c, name, p->crl_url);
	if (c->cfg->crl_url != NULL &&
	    (p->crl_url = strdup(c->cfg->crl_url)) == NULL)
		return MCA_ERR_NOMEM;
	return 0;
}
