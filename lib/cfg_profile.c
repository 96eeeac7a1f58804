/*
 * config.json: the end_certificate_config_<N> blocks (table 10 of the
 * vendor guide), one EST label each, with microca's policy keys
 * (auth_methods, allowed_keys, subject_patterns, ...). See cfg.h.
 */
#include "config.h"

#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "cfg.h"
#include "cfg_int.h"
#include "err.h"
#include "estpath.h"
#include "keyspec.h"
#include "num.h"

#define CFG_VALIDITY_MAX	36500	/* validity_in_days: 100 years */
#define CFG_OID_MAX		256	/* a dotted OID in the EKU list */
#define CFG_DEF_B64		64

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
	/* lib/cfg_crl.c */
	"crl_distribution_point_url",
};

/* auth_methods names, by bit: MCA_AUTH_CERTIFICATE is 1 << 0, ... */
static const char *const cfg_auth[] = {
	"certificate", "passcode", "remote_user",
};


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


/*
 * Checks an EST label: 1-64 characters of [A-Za-z0-9._-], not starting
 * with '.' (no "." or ".." path segments), not an operation name.
 * Returns 0 or MCA_ERR_CONFIG.
 */
static int
cfg_check_label(struct cfg_ctx *c, const char *name, const char *s)
{
	char		 show[CFG_SHOW_MAX + 8];
	size_t		 len = strlen(s);
	enum mca_op	 op;

	if (!mca_estpath_label_ok(s, len))
		return cfg_err(c, name, "\"%s\" is not a valid EST label "
		    "(1 to %d characters of A-Z a-z 0-9 . _ -, "
		    "not starting with '.')",
		    cfg_show(s, len, show, sizeof(show)), MCA_LABEL_MAX);
	/* A label must not shadow an operation path (RFC 7030 3.2.2). */
	if (mca_estpath_op(s, len, 1, &op) == 0)
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
		if ((rc = cfg_get_int(c, blk, sname, "key_size",
		    MCA_RSA_MIN_BITS, MCA_RSA_MAX_BITS,
		    &n, &present)) != 0)
			goto out;
	} else if (strcasecmp(kt, "ECC") == 0 || strcasecmp(kt, "EC") == 0) {
		p->key_type = MCA_KEYTYPE_EC;
		if ((rc = cfg_get_int(c, blk, sname, "key_size", 0, INT_MAX,
		    &n, &present)) != 0 ||
		    (present && mca_keyspec_curve_bits((int)n) == NULL)) {
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
		if (rc != 0 || (present &&
		    !mca_keyspec_makeable(MCA_KEYTYPE_RSA, (int)n))) {
			rc = cfg_err(c, sname, "expected 2048, 3072 or 4096 "
			    "(server keys are RSA)");
			goto out;
		}
	} else if (rc != 0 || (present &&
	    !mca_keyspec_makeable(MCA_KEYTYPE_EC, (int)n))) {
		rc = cfg_err(c, sname, "expected 256 or 384 (server keys are "
		    "ECC)");
		goto out;
	}
	if (present)
		p->server_key_size = (int)n;
	else if (p->server_key_type == p->key_type &&
	    mca_keyspec_makeable(p->key_type, p->key_size))
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

/* auth_methods: default ["certificate"]. */
static int
cfg_parse_auth(struct cfg_ctx *c, const char *prefix, struct json_object *blk,
    struct mca_profile *p)
{
	char	 name[CFG_NAME_MAX];

	cfg_name(name, sizeof(name), prefix, "auth_methods");
	p->auth_methods = MCA_AUTH_CERTIFICATE;
	return cfg_get_names(c, blk, name, "auth_methods", cfg_auth,
	    NELEM(cfg_auth), 0, "an authentication method (\"certificate\", "
	    "\"passcode\" or \"remote_user\")", "\"certificate\", "
	    "\"passcode\", \"remote_user\"", &p->auth_methods);
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
		if (mca_keyspec_parse(s, &k) != 0)
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
	if ((rc = cfg_parse_server_key(c, prefix, blk, p)) != 0 ||
	    (rc = cfg_parse_crl(c, prefix, blk, p)) != 0)
		return rc;
	return cfg_parse_policy(c, prefix, blk, p);
}
int
cfg_profiles_build(struct cfg_ctx *c, const struct cfg_ent *ents,
    size_t nents)
{
	struct mca_cfg	*cfg = c->cfg;
	char		 name[CFG_NAME_MAX];
	size_t		 i, j;
	int		 rc;

	if (nents == 0)
		return cfg_err(c, CFG_PREFIX "<N>", "missing (at least one "
		    "block is required)");
	if ((cfg->profiles = calloc(nents, sizeof(*cfg->profiles))) == NULL)
		return MCA_ERR_NOMEM;
	cfg->nprofiles = nents;
	for (i = 0; i < nents; i++) {
		if ((rc = cfg_parse_profile(c, &ents[i],
		    &cfg->profiles[i])) != 0)
			return rc;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->profiles[j].name,
			    cfg->profiles[i].name) == 0) {
				(void)snprintf(name, sizeof(name),
				    CFG_PREFIX "%d.end_point_name",
				    cfg->profiles[i].index);
				return cfg_err(c, name, "\"%s\" is already "
				    "used by " CFG_PREFIX "%d",
				    cfg->profiles[i].name,
				    cfg->profiles[j].index);
			}
	}
	return 0;
}

void
cfg_profile_free(struct mca_profile *p)
{
	size_t	 j;

	if (p == NULL)
		return;
	free(p->name);
	for (j = 0; j < p->neku; j++)
		free(p->eku[j]);
	free(p->eku);
	free(p->mtls_ca_cert);
	free(p->crl_url);
	free(p->allowed_keys);
	cfg_rules_free(p->subject_rules, p->nsubject_rules);
	cfg_identity_free(p);
}
