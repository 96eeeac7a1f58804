/*
 * Per-label policy (microca additions to end_certificate_config_<N>):
 * auth_methods, mtls_ca_cert, allowed_keys and subject_patterns, from the
 * config file through the CSR checks (lib/csr.c) to what /csrattrs says
 * (lib/est_codec.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "cfg.h"
#include "csr.h"
#include "err.h"
#include "est_codec.h"
#include "testutil.h"

#define PATH	TU_CFG_PATH	/* the name tu_cfg_parse() gives */
#define BASE	"\"intermediate_cert_path\": \"/etc/microca/chain.pem\", " \
		"\"intermediate_private_key_path\": \"/etc/microca/ca.key\", " \
		"\"mtls_ca_cert\": \"/etc/microca/clients.pem\""
#define NOMTLS	"\"intermediate_cert_path\": \"/etc/microca/chain.pem\", " \
		"\"intermediate_private_key_path\": \"/etc/microca/ca.key\""
#define DEV	"\"end_point_name\": \"dev\", \"validity_in_days\": 30"
#define P1(x)	"\"end_certificate_config_1\": {" DEV x "}"
#define DOC(x)	"{" BASE ", " P1(x) "}"
#define K1	"end_certificate_config_1."

/* ------------------------------------------------------------ config */

#define CERT	MCA_AUTH_CERTIFICATE
#define PASS	MCA_AUTH_PASSCODE
#define RUSER	MCA_AUTH_REMOTE_USER

static const struct {
	const char	*json;
	unsigned	 auth;
	const char	*mtls;		/* the label's own, or NULL */
	const char	*keys;		/* allowed_keys names, ' '-joined */
	size_t		 nrules;
} good[] = {
	/* Defaults: certificates only, no policy beyond key_type/size. */
	{ DOC(""), CERT, NULL, "", 0 },
	{ DOC(", \"auth_methods\": [\"passcode\"]"), PASS, NULL, "", 0 },
	{ DOC(", \"auth_methods\": [\"certificate\", \"passcode\", "
	    "\"remote_user\"]"), CERT | PASS | RUSER, NULL, "", 0 },
	{ DOC(", \"auth_methods\": [\"remote_user\", \"certificate\"]"),
	    CERT | RUSER, NULL, "", 0 },
	{ DOC(", \"mtls_ca_cert\": \"/etc/microca/dev-boot.pem\""), CERT,
	    "/etc/microca/dev-boot.pem", "", 0 },
	/* Key names in any case, stored as mca_key_describe() spells them. */
	{ DOC(", \"allowed_keys\": [\"EC-P-256\"]"), CERT, NULL, "EC-P-256",
	    0 },
	{ DOC(", \"allowed_keys\": [\"ec-p-384\", \"rsa-3072\", \"RSA-2048\", "
	    "\"EC-P-521\", \"RSA-8192\", \"RSA-4096\"]"), CERT, NULL,
	    "EC-P-384 RSA-3072 RSA-2048 EC-P-521 RSA-8192 RSA-4096", 0 },
	{ DOC(", \"subject_patterns\": {}"), CERT, NULL, "", 0 },
	/* Intervals within bounds, classes, literal braces. */
	{ DOC(", \"subject_patterns\": {\"CN\": "
	    "\"^[a-z]{1,63}(\\\\.[a-z]{1,63}){1,10}$\", "
	    "\"O\": \"^[[:alnum:]]{1,255}[]x]+ ?$\", \"OU\": \"^a{2}b+c?d*$\", "
	    "\"L\": \"^(a{1,32}){1,32}$\", \"ST\": \"^x{,3}$\"}"),
	    CERT, NULL, "", 5 },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^dev-[0-9]+$\", "
	    "\"O\": \"^Example Corp$\", \"serialNumber\": \"^[0-9A-F]{8}$\", "
	    "\"emailAddress\": \"^.+@example\\\\.com$\", "
	    "\"ST\": \"^(CA|NY)$\", \"organizationalUnitName\": \"^(a|b)$\", \"c\": \"^[A-Z]{2}$\"}"),
	    CERT, NULL, "", 7 },
};

START_TEST(test_good)
{
	struct mca_cfg			*cfg = NULL;
	struct mca_diag			 d;
	const struct mca_profile	*p;
	struct mca_buf			 names = MCA_BUF_INIT;
	size_t				 i;
	int				 rc;

	rc = tu_cfg_parse(good[_i].json, &cfg, &d);
	ck_assert_msg(rc == 0, "case %d: %s", _i, d.msg);
	p = &cfg->profiles[0];
	ck_assert_uint_eq(p->auth_methods, good[_i].auth);
	if (good[_i].mtls == NULL)
		ck_assert_ptr_null(p->mtls_ca_cert);
	else
		ck_assert_str_eq(p->mtls_ca_cert, good[_i].mtls);
	for (i = 0; i < p->nallowed_keys; i++)
		ck_assert_int_eq(mca_buf_printf(&names, "%s%s", i ? " " : "",
		    p->allowed_keys[i].name), 0);
	ck_assert_str_eq(mca_buf_str(&names), good[_i].keys);
	ck_assert_uint_eq(p->nsubject_rules, good[_i].nrules);
	mca_buf_free(&names);
	mca_cfg_free(cfg);
}
END_TEST

static const struct {
	const char	*json;
	const char	*msg;	/* what follows "<PATH>: " */
} bad[] = {
	/* auth_methods */
	{ DOC(", \"auth_methods\": \"passcode\""),
	    K1 "auth_methods: expected an array of \"certificate\", "
	    "\"passcode\", \"remote_user\"" },
	{ DOC(", \"auth_methods\": []"),
	    K1 "auth_methods: must name at least one of" },
	{ DOC(", \"auth_methods\": [\"password\"]"),
	    K1 "auth_methods[0]: \"password\" is not an authentication "
	    "method" },
	{ DOC(", \"auth_methods\": [\"Passcode\"]"),
	    K1 "auth_methods[0]: \"Passcode\" is not an authentication "
	    "method" },
	{ DOC(", \"auth_methods\": [\"passcode\", \"passcode\"]"),
	    K1 "auth_methods[1]: \"passcode\" is listed twice" },
	{ DOC(", \"auth_methods\": [\"passcode\", 1]"),
	    K1 "auth_methods[1]: expected a string" },
	{ DOC(", \"auth_methods\": [\"passcode\", \"\"]"),
	    K1 "auth_methods[1]: must not be empty" },
	{ DOC(", \"auth_methods\": [\"certificate\", \"passcode\", "
	    "\"remote_user\", \"certificate\"]"),
	    K1 "auth_methods: more than 3 entries" },
	{ DOC(", \"auth_methods\": null"),
	    K1 "auth_methods: expected an array" },
	/* mtls_ca_cert */
	{ DOC(", \"mtls_ca_cert\": 1"), K1 "mtls_ca_cert: expected a string" },
	{ DOC(", \"mtls_ca_cert\": \"\""),
	    K1 "mtls_ca_cert: must not be empty" },
	/* allowed_keys */
	{ DOC(", \"allowed_keys\": \"EC-P-256\""),
	    K1 "allowed_keys: expected an array of key names" },
	{ DOC(", \"allowed_keys\": []"),
	    K1 "allowed_keys: must name at least one of key names" },
	{ DOC(", \"allowed_keys\": [\"EC-P-256\", \"P-384\"]"),
	    K1 "allowed_keys[1]: \"P-384\" is not a key name" },
	{ DOC(", \"allowed_keys\": [\"RSA-1024\"]"),
	    K1 "allowed_keys[0]: \"RSA-1024\" is not a key name" },
	{ DOC(", \"allowed_keys\": [\"RSA-8193\"]"),
	    K1 "allowed_keys[0]: \"RSA-8193\" is not a key name" },
	{ DOC(", \"allowed_keys\": [\"RSA-02048\"]"),
	    K1 "allowed_keys[0]: \"RSA-02048\" is not a key name" },
	{ DOC(", \"allowed_keys\": [\"EC-secp256k1\"]"),
	    K1 "allowed_keys[0]: \"EC-secp256k1\" is not a key name" },
	{ DOC(", \"allowed_keys\": [\"ED25519\"]"),
	    K1 "allowed_keys[0]: \"ED25519\" is not a key name" },
	{ DOC(", \"allowed_keys\": [\"EC-P-256\", \"ec-p-256\"]"),
	    K1 "allowed_keys[1]: \"EC-P-256\" is listed twice" },
	{ DOC(", \"allowed_keys\": [2048]"),
	    K1 "allowed_keys[0]: expected a string" },
	/* One way to say it. */
	{ DOC(", \"key_type\": \"ECC\", \"allowed_keys\": [\"EC-P-256\"]"),
	    K1 "allowed_keys: cannot be combined with key_type/key_size" },
	{ DOC(", \"allowed_keys\": [\"EC-P-256\"], \"key_type\": \"ECC\", "
	    "\"key_size\": 256"),
	    K1 "allowed_keys: cannot be combined with key_type/key_size" },
	/* subject_patterns */
	{ DOC(", \"subject_patterns\": [\"CN\"]"),
	    K1 "subject_patterns: expected an object" },
	{ DOC(", \"subject_patterns\": {\"XX\": \"^a$\"}"),
	    K1 "subject_patterns.XX: not a subject attribute" },
	{ DOC(", \"subject_patterns\": {\"sha256\": \"^a$\"}"),
	    K1 "subject_patterns.sha256: not a subject attribute" },
	{ DOC(", \"subject_patterns\": {\"2.5.4.3\": \"^a$\"}"),
	    K1 "subject_patterns.2.5.4.3: not a subject attribute" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^a$\", "
	    "\"commonName\": \"^b$\"}"),
	    K1 "subject_patterns.commonName: same attribute as \"CN\"" },
	{ DOC(", \"subject_patterns\": {\"CN\": 5}"),
	    K1 "subject_patterns.CN: expected a string" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"\"}"),
	    K1 "subject_patterns.CN: must not be empty" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^dev-[0-9+$\"}"),
	    K1 "subject_patterns.CN: \"^dev-[0-9+$\" is not a POSIX extended "
	    "regular expression: " },
	{ DOC(", \"subject_patterns\": {\"O\": \"^(a|b$\"}"),
	    K1 "subject_patterns.O: \"^(a|b$\" is not a POSIX extended "
	    "regular expression: " },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^a{2,1}$\"}"),
	    K1 "subject_patterns.CN: \"^a{2,1}$\" is not a POSIX extended " },
	/* What glibc's regcomp would spend gigabytes on. */
	{ DOC(", \"subject_patterns\": {\"CN\": \"^a++$\"}"),
	    K1 "subject_patterns.CN: \"^a++$\" is refused: a repetition of "
	    "a repetition" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^(ab)*{2}$\"}"),
	    K1 "subject_patterns.CN: \"^(ab)*{2}$\" is refused: a repetition" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^a{2}?$\"}"),
	    K1 "subject_patterns.CN: \"^a{2}?$\" is refused: a repetition" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^a{1,256}$\"}"),
	    K1 "subject_patterns.CN: \"^a{1,256}$\" is refused: an interval "
	    "bound over 255" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^a{,300}$\"}"),
	    K1 "subject_patterns.CN: \"^a{,300}$\" is refused: an interval "
	    "bound over 255" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^a{300,}$\"}"),
	    K1 "subject_patterns.CN: \"^a{300,}$\" is refused: an interval" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^((a{1,100})x){1,11}$\"}"),
	    K1 "subject_patterns.CN: \"^((a{1,100})x){1,11}$\" is refused: "
	    "nested intervals repeat more than 1024 times" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^(a{1,100}|b){1,11}$\"}"),
	    K1 "subject_patterns.CN: \"^(a{1,100}|b){1,11}$\" is refused: "
	    "nested" },
	{ DOC(", \"subject_patterns\": {\"CN\": "
	    "\"(((((((((((((((((((((((((((((((((a"
	    ")))))))))))))))))))))))))))))))))\"}"),
	    K1 "subject_patterns.CN: \"((((((((((((((((((((((((((((((((("
	    "a))))))))))))))))))))))))))))))...\" is refused: groups nested "
	    "too deep" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^a\\u0000b$\"}"),
	    K1 "subject_patterns.CN: contains a NUL character" },
	/* subject_unlisted */
	{ DOC(", \"subject_unlisted\": \"deny\""),
	    K1 "subject_unlisted: \"deny\": expected \"allow\" or \"refuse\"" },
	{ DOC(", \"subject_unlisted\": true"),
	    K1 "subject_unlisted: expected a string" },
	/* san_policy */
	{ DOC(", \"san_policy\": [\"DNS\"]"),
	    K1 "san_policy: expected an object" },
	{ DOC(", \"san_policy\": {\"allow_wildcards\": true}"),
	    K1 "san_policy.allow_wildcards: unknown key" },
	{ DOC(", \"san_policy\": {\"allowed_types\": []}"),
	    K1 "san_policy.allowed_types: must name at least one of" },
	{ DOC(", \"san_policy\": {\"allowed_types\": [\"otherName\"]}"),
	    K1 "san_policy.allowed_types[0]: \"otherName\" is not a "
	    "subjectAltName type this CA issues" },
	{ DOC(", \"san_policy\": {\"allowed_types\": [\"DNS\", \"dns\"]}"),
	    K1 "san_policy.allowed_types[1]: \"dns\" is listed twice" },
	{ DOC(", \"san_policy\": {\"max_names\": 1025}"),
	    K1 "san_policy.max_names: expected an integer from 0 to 1024" },
	{ DOC(", \"san_policy\": {\"max_names\": \"16\"}"),
	    K1 "san_policy.max_names: expected an integer" },
	{ DOC(", \"san_policy\": {\"allow_wildcard\": 1}"),
	    K1 "san_policy.allow_wildcard: expected true or false" },
	{ DOC(", \"san_policy\": {\"URI\": \"^spiffe://$\"}"),
	    K1 "san_policy.URI: a pattern for a type that allowed_types does "
	    "not allow" },
	{ DOC(", \"san_policy\": {\"DNS\": \"^a$\", \"dns\": \"^b$\"}"),
	    K1 "san_policy.dns: same type as another key (\"DNS\")" },
	{ DOC(", \"san_policy\": {\"DNS\": \"^(a$\"}"),
	    K1 "san_policy.DNS: \"^(a$\" is not a POSIX extended regular "
	    "expression" },
	{ DOC(", \"san_policy\": {\"DNS\": \"^a++$\"}"),
	    K1 "san_policy.DNS: \"^a++$\" is refused: a repetition" },
	{ DOC(", \"san_policy\": {\"IP\": 10}"),
	    K1 "san_policy.IP: expected a string" },
	{ DOC(", \"san_policy\": {\"allowed_types\": [\"IP\"], "
	    "\"dns_equals_cn\": true}"),
	    K1 "san_policy.dns_equals_cn: DNS is not in allowed_types" },
	{ DOC(", \"san_policy\": {\"allowed_types\": [\"IP\"], "
	    "\"allow_wildcard\": true}"),
	    K1 "san_policy.allow_wildcard: DNS is not in allowed_types" },
	/* ra_subject_patterns: as subject_patterns */
	{ DOC(", \"ra_subject_patterns\": {\"XX\": \"^a$\"}"),
	    K1 "ra_subject_patterns.XX: not a subject attribute" },
	{ DOC(", \"ra_subject_patterns\": \"^ra-$\""),
	    K1 "ra_subject_patterns: expected an object" },
	/* reenroll_grace_seconds */
	{ DOC(", \"reenroll_grace_seconds\": -1"),
	    K1 "reenroll_grace_seconds: expected an integer from 0 to 86400" },
	{ DOC(", \"reenroll_grace_seconds\": 86401"),
	    K1 "reenroll_grace_seconds: expected an integer" },
	{ "{" BASE ", \"reenroll_grace_seconds\": \"300\", " P1("") "}",
	    "reenroll_grace_seconds: expected an integer from 0 to 86400" },
};

START_TEST(test_bad)
{
	tu_cfg_assert_refused(bad[_i].json, bad[_i].msg, _i);
}
END_TEST

#define DNSIP	(1u << MCA_SAN_DNS | 1u << MCA_SAN_IP)

/* The identity keys as parsed, and their defaults. */
static const struct {
	const char	*json;
	unsigned	 types;
	int		 max, wild, eqcn, refuse, grace;
	size_t		 nra;
	const char	*dns;		/* the DNS pattern, or NULL */
} ident[] = {
	{ DOC(""), DNSIP, 16, 0, 0, 0, 300, 0, NULL },
	{ DOC(", \"san_policy\": {}"), DNSIP, 16, 0, 0, 0, 300, 0, NULL },
	{ DOC(", \"san_policy\": {\"allowed_types\": [\"uri\", \"Email\"], "
	    "\"max_names\": 0}"), 1u << MCA_SAN_URI | 1u << MCA_SAN_EMAIL, 0,
	    0, 0, 0, 300, 0, NULL },
	{ DOC(", \"san_policy\": {\"allowed_types\": [\"DNS\"], "
	    "\"DNS\": \"^[a-z]+\\\\.example\\\\.com$\", \"allow_wildcard\": "
	    "true, \"dns_equals_cn\": true, \"max_names\": 1024}, "
	    "\"subject_unlisted\": \"refuse\", \"subject_patterns\": "
	    "{\"CN\": \"^a$\"}"), 1u << MCA_SAN_DNS, 1024, 1, 1, 1, 300, 0,
	    "^[a-z]+\\.example\\.com$" },
	{ DOC(", \"subject_unlisted\": \"allow\", \"ra_subject_patterns\": "
	    "{\"CN\": \"^ra-[0-9]+$\", \"O\": \"^Example$\"}, "
	    "\"reenroll_grace_seconds\": 0"), DNSIP, 16, 0, 0, 0, 0, 2, NULL },
	/* The top-level grace is the labels' default. */
	{ "{" BASE ", \"reenroll_grace_seconds\": 86400, " P1("") "}", DNSIP,
	    16, 0, 0, 0, 86400, 0, NULL },
	{ "{" BASE ", \"reenroll_grace_seconds\": 0, "
	    P1(", \"reenroll_grace_seconds\": 60") "}", DNSIP, 16, 0, 0, 0, 60,
	    0, NULL },
};

START_TEST(test_identity_keys)
{
	struct mca_cfg			*cfg = NULL;
	struct mca_diag			 d;
	const struct mca_profile	*p;

	ck_assert_msg(tu_cfg_parse(ident[_i].json, &cfg, &d) == 0, "case %d: "
	    "%s", _i, d.msg);
	p = &cfg->profiles[0];
	ck_assert_uint_eq(p->san.types, ident[_i].types);
	ck_assert_int_eq(p->san.max_names, ident[_i].max);
	ck_assert_int_eq(p->san.allow_wildcard, ident[_i].wild);
	ck_assert_int_eq(p->san.dns_equals_cn, ident[_i].eqcn);
	ck_assert_int_eq(p->subject_unlisted_refuse, ident[_i].refuse);
	ck_assert_int_eq(p->reenroll_grace, ident[_i].grace);
	ck_assert_uint_eq(p->nra_rules, ident[_i].nra);
	if (ident[_i].dns == NULL)
		ck_assert_ptr_null(p->san.pattern[MCA_SAN_DNS]);
	else
		ck_assert_str_eq(p->san.pattern[MCA_SAN_DNS], ident[_i].dns);
	mca_cfg_free(cfg);
}
END_TEST

/* Too many entries of each list. */
START_TEST(test_caps)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	int		 i;

	ck_assert_int_eq(mca_buf_addstr(&b, "{" BASE ", "
	    "\"end_certificate_config_1\": {" DEV ", \"allowed_keys\": ["), 0);
	for (i = 0; i < 17; i++)
		ck_assert_int_eq(mca_buf_printf(&b, "%s\"RSA-%d\"",
		    i ? ", " : "", 2048 + i), 0);
	ck_assert_int_eq(mca_buf_addstr(&b, "]}}"), 0);
	ck_assert_int_eq(tu_cfg_parse(mca_buf_str(&b), &cfg, &d),
	    MCA_ERR_CONFIG);
	ck_assert_str_eq(d.msg, PATH ": " K1 "allowed_keys: more than 16 "
	    "entries");

	mca_buf_reset(&b);
	ck_assert_int_eq(mca_buf_addstr(&b, "{" BASE ", "
	    "\"end_certificate_config_1\": {" DEV ", \"subject_patterns\": {"),
	    0);
	for (i = 0; i < 17; i++)
		ck_assert_int_eq(mca_buf_printf(&b, "%s\"k%d\": \"^a$\"",
		    i ? ", " : "", i), 0);
	ck_assert_int_eq(mca_buf_addstr(&b, "}}}"), 0);
	ck_assert_int_eq(tu_cfg_parse(mca_buf_str(&b), &cfg, &d),
	    MCA_ERR_CONFIG);
	ck_assert_str_eq(d.msg, PATH ": " K1 "subject_patterns: more than 16 "
	    "entries");

	/* A 1025-byte regex. */
	mca_buf_reset(&b);
	ck_assert_int_eq(mca_buf_addstr(&b, "{" BASE ", "
	    "\"end_certificate_config_1\": {" DEV ", \"subject_patterns\": "
	    "{\"CN\": \"^"), 0);
	for (i = 0; i < 1023; i++)
		ck_assert_int_eq(mca_buf_addc(&b, 'a'), 0);
	ck_assert_int_eq(mca_buf_addstr(&b, "$\"}}}"), 0);
	ck_assert_int_eq(tu_cfg_parse(mca_buf_str(&b), &cfg, &d),
	    MCA_ERR_CONFIG);
	ck_assert_str_eq(d.msg, PATH ": " K1 "subject_patterns.CN: longer "
	    "than 1024 bytes");
	mca_buf_free(&b);
}
END_TEST

static const struct {
	const char	*json;
	const char	*warning;	/* NULL: none at all */
} warn[] = {
	{ DOC(", \"auth_methods\": [\"passcode\"], \"mtls_ca_cert\": "
	    "\"/etc/x.pem\""),
	    PATH ": " K1 "mtls_ca_cert: ignored: auth_methods does not "
	    "include \"certificate\"" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"dev-[0-9]+\"}"),
	    PATH ": " K1 "subject_patterns.CN: not anchored with ^ and $: it "
	    "matches anywhere in the value" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^dev-[0-9]+\"}"),
	    PATH ": " K1 "subject_patterns.CN: not anchored" },
	{ DOC(", \"subject_patterns\": {\"CN\": \"^dev-[0-9]+$\"}"), NULL },
	{ DOC(", \"san_policy\": {\"DNS\": \"\\\\.example\\\\.com$\"}"),
	    PATH ": " K1 "san_policy.DNS: not anchored with ^ and $" },
	{ DOC(", \"subject_unlisted\": \"refuse\""),
	    PATH ": " K1 "subject_unlisted: no subject_patterns: only an empty "
	    "subject is accepted" },
	{ DOC(", \"auth_methods\": [\"passcode\"], \"ra_subject_patterns\": "
	    "{\"CN\": \"^ra$\"}"),
	    PATH ": " K1 "ra_subject_patterns: ignored: auth_methods does not "
	    "include \"certificate\"" },
	/* No top-level bundle: fine when no label takes bootstrap certs. */
	{ "{" NOMTLS ", " P1(", \"auth_methods\": [\"passcode\"]") "}", NULL },
	{ "{" NOMTLS ", " P1(", \"mtls_ca_cert\": \"/etc/d.pem\"") "}", NULL },
	{ "{" NOMTLS ", " P1("") "}",
	    PATH ": mtls_ca_cert not set: only certificates this CA issued "
	    "can enroll" },
};

START_TEST(test_warn)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	ck_assert_msg(tu_cfg_parse(warn[_i].json, &cfg, &d) == 0, "%s", d.msg);
	if (warn[_i].warning == NULL)
		ck_assert_msg(cfg->nwarnings == 0, "case %d: %s", _i,
		    cfg->warnings[0]);
	else {
		ck_assert_uint_eq(cfg->nwarnings, 1);
		ck_assert_msg(strncmp(cfg->warnings[0], warn[_i].warning,
		    strlen(warn[_i].warning)) == 0, "case %d: %s", _i,
		    cfg->warnings[0]);
	}
	mca_cfg_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ keys */

enum { K_P256, K_P384, K_P521, K_RSA2048, K_RSA3072, K_MAX };
static X509_REQ	*kreq[K_MAX];

static void
keys_setup(void)
{
	EVP_PKEY	*k;
	X509_NAME	*n;
	int		 i;

	for (i = 0; i < K_MAX; i++) {
		switch (i) {
		case K_P256:
			k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
			break;
		case K_P384:
			k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
			break;
		case K_P521:
			k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
			break;
		case K_RSA2048:
			k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
			break;
		default:
			k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
			break;
		}
		if (k == NULL || (kreq[i] = X509_REQ_new()) == NULL ||
		    (n = X509_NAME_new()) == NULL)
			abort();
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		    (const unsigned char *)"dev-1", -1, -1, 0);
		if (!X509_REQ_set_subject_name(kreq[i], n) ||
		    !X509_REQ_set_pubkey(kreq[i], k) ||
		    X509_REQ_sign(kreq[i], k, EVP_sha256()) <= 0)
			abort();
		X509_NAME_free(n);
		EVP_PKEY_free(k);
	}
}

static void
keys_teardown(void)
{
	int	 i;

	for (i = 0; i < K_MAX; i++)
		X509_REQ_free(kreq[i]);
}

static const struct {
	const char	*keys;	/* the allowed_keys array's inside */
	int		 key;
	const char	*diag;	/* "" = accepted */
} kcases[] = {
	{ "\"EC-P-256\"", K_P256, "" },
	{ "\"EC-P-256\"", K_P384, "key EC-P-384 is not allowed on label "
	    "\"dev\" (allowed: EC-P-256)" },
	{ "\"EC-P-256\", \"EC-P-384\"", K_P384, "" },
	{ "\"EC-P-256\", \"EC-P-384\"", K_P521, "key EC-P-521 is not allowed "
	    "on label \"dev\" (allowed: EC-P-256, EC-P-384)" },
	{ "\"EC-P-256\", \"EC-P-384\"", K_RSA2048, "key RSA-2048 is not "
	    "allowed on label \"dev\" (allowed: EC-P-256, EC-P-384)" },
	{ "\"RSA-3072\", \"ec-p-521\"", K_P521, "" },
	{ "\"RSA-3072\", \"ec-p-521\"", K_RSA3072, "" },
	{ "\"RSA-3072\", \"ec-p-521\"", K_RSA2048, "key RSA-2048 is not "
	    "allowed on label \"dev\" (allowed: RSA-3072, EC-P-521)" },
	{ "\"RSA-2048\"", K_RSA2048, "" },
};

START_TEST(test_allowed_keys)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	char		 json[1024];
	int		 rc;

	(void)snprintf(json, sizeof(json), "{" BASE ", "
	    "\"end_certificate_config_1\": {" DEV ", \"allowed_keys\": [%s]}}",
	    kcases[_i].keys);
	ck_assert_msg(tu_cfg_parse(json, &cfg, &d) == 0, "%s", d.msg);
	rc = mca_csr_check(kreq[kcases[_i].key], &cfg->profiles[0], &d);
	ck_assert_int_eq(rc, kcases[_i].diag[0] ? MCA_ERR_POLICY : 0);
	ck_assert_str_eq(d.msg, kcases[_i].diag);
	mca_cfg_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ subject */

/*
 * The subject: "A=v" pairs separated by '/', values UTF8String; "\\0"
 * in a value is a NUL byte.
 */
static X509_NAME *
name_of(const char *spec)
{
	X509_NAME	*n = X509_NAME_new();
	char		*s = strdup(spec), *p, *next, *eq, val[2048];
	size_t		 o;

	ck_assert_ptr_nonnull(n);
	for (p = s; p != NULL && *p != '\0'; p = next) {
		if ((next = strchr(p, '/')) != NULL)
			*next++ = '\0';
		ck_assert_ptr_nonnull(eq = strchr(p, '='));
		*eq++ = '\0';
		for (o = 0; *eq != '\0' && o < sizeof(val); eq++) {
			if (eq[0] == '\\' && eq[1] == '0') {
				val[o++] = '\0';
				eq++;
			} else
				val[o++] = *eq;
		}
		/* A plain UTF8String: no upper bounds (X.520) applied. */
		ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, p,
		    V_ASN1_UTF8STRING, (const unsigned char *)val, (int)o, -1,
		    0), 1);
	}
	free(s);
	return n;
}

#define RULES	"{\"CN\": \"^dev-[0-9]+$\", \"O\": \"^(Acme|Example) Corp$\"}"

static const struct {
	const char	*rules;
	const char	*subject;
	const char	*diag;		/* "" = accepted */
} scases[] = {
	{ RULES, "CN=dev-1/O=Acme Corp", "" },
	{ RULES, "O=Example Corp/CN=dev-123456/OU=anything at all", "" },
	/* Every value of the attribute must match. */
	{ RULES, "CN=dev-1/CN=dev-2/O=Acme Corp", "" },
	{ RULES, "CN=dev-1/CN=foo/O=Acme Corp",
	    "subject CN \"foo\" does not match ^dev-[0-9]+$" },
	{ RULES, "CN=foo/O=Acme Corp",
	    "subject CN \"foo\" does not match ^dev-[0-9]+$" },
	{ RULES, "CN=dev-1/O=Acme Corp Ltd",
	    "subject O \"Acme Corp Ltd\" does not match "
	    "^(Acme|Example) Corp$" },
	/* Case matters; the operator's anchors hold. */
	{ RULES, "CN=DEV-1/O=Acme Corp",
	    "subject CN \"DEV-1\" does not match ^dev-[0-9]+$" },
	{ RULES, "CN=xdev-1/O=Acme Corp",
	    "subject CN \"xdev-1\" does not match ^dev-[0-9]+$" },
	/* Listed means required. */
	{ RULES, "O=Acme Corp", "subject has no CN (label \"dev\" requires one "
	    "matching ^dev-[0-9]+$)" },
	{ RULES, "CN=dev-1", "subject has no O (label \"dev\" requires one "
	    "matching ^(Acme|Example) Corp$)" },
	{ RULES, "", "subject has no CN" },
	/* A NUL cannot hide the rest of a value from the regex. */
	{ RULES, "CN=dev-1\\0evil/O=Acme Corp",
	    "subject CN is over 1024 bytes or holds a NUL" },
	/* Quoting is safe and short. */
	{ RULES, "CN=a\"b\nc/O=Acme Corp",
	    "subject CN \"a?b?c\" does not match" },
	{ RULES, "CN=0123456789012345678901234567890123456789012345678901234567"
	    "89012345678901234567890123456789/O=Acme Corp",
	    "subject CN \"01234567890123456789012345678901234567890123456789"
	    "01234567890123...\" does not match" },
	/* Names, long or short, and serialNumber apart from surname. */
	{ "{\"serialNumber\": \"^[0-9]{4}$\", \"SN\": \"^Doe$\"}",
	    "serialNumber=1234/SN=Doe", "" },
	{ "{\"serialNumber\": \"^[0-9]{4}$\"}", "SN=1234",
	    "subject has no serialNumber" },
	{ "{\"commonName\": \"^[a-z]+$\"}", "CN=Abc",
	    "subject commonName \"Abc\" does not match ^[a-z]+$" },
	/* UTF-8 values are matched as UTF-8. */
	{ "{\"L\": \"^M\xc3\xbcnchen$\"}", "L=M\xc3\xbcnchen", "" },
	/* No rules: anything goes. */
	{ "{}", "", "" },
};

START_TEST(test_subject)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	X509_NAME	*n;
	char		 json[1024];
	int		 rc;

	(void)snprintf(json, sizeof(json), "{" BASE ", "
	    "\"end_certificate_config_1\": {" DEV ", \"subject_patterns\": "
	    "%s}}", scases[_i].rules);
	ck_assert_msg(tu_cfg_parse(json, &cfg, &d) == 0, "%s", d.msg);
	n = name_of(scases[_i].subject);
	rc = mca_csr_check_subject(n, &cfg->profiles[0], &d);
	ck_assert_msg(rc == (scases[_i].diag[0] ? MCA_ERR_POLICY : 0),
	    "case %d: rc %d (%s)", _i, rc, d.msg);
	if (scases[_i].diag[0] == '\0')
		ck_assert_str_eq(d.msg, "");
	else
		ck_assert_msg(strncmp(d.msg, scases[_i].diag,
		    strlen(scases[_i].diag)) == 0, "case %d: got \"%s\"", _i,
		    d.msg);
	X509_NAME_free(n);
	mca_cfg_free(cfg);
}
END_TEST

START_TEST(test_subject_long)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	X509_NAME	*n = X509_NAME_new();
	unsigned char	 v[1025];

	ck_assert_int_eq(tu_cfg_parse(DOC(", \"subject_patterns\": {\"OU\": "
	    "\"^a+$\"}"), &cfg, &d), 0);
	memset(v, 'a', sizeof(v));
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "OU", V_ASN1_UTF8STRING,
	    v, 1024, -1, 0), 1);
	ck_assert_int_eq(mca_csr_check_subject(n, &cfg->profiles[0], &d), 0);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "OU", V_ASN1_UTF8STRING,
	    v, 1025, -1, 0), 1);
	ck_assert_int_eq(mca_csr_check_subject(n, &cfg->profiles[0], &d),
	    MCA_ERR_POLICY);
	ck_assert_str_eq(d.msg, "subject OU is over 1024 bytes or holds a NUL");
	/* No profile, or a NULL name with no rules: nothing to judge. */
	ck_assert_int_eq(mca_csr_check_subject(n, NULL, &d), 0);
	ck_assert_int_eq(mca_csr_check_subject(NULL, &cfg->profiles[0], &d),
	    MCA_ERR_POLICY);
	X509_NAME_free(n);
	mca_cfg_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ san */

/* GeneralNames from openssl's "DNS:a, IP:b" form ("" is none). */
static GENERAL_NAMES *
san_of(const char *conf)
{
	X509_EXTENSION	*e;
	GENERAL_NAMES	*g;

	if (conf[0] == '\0')
		return NULL;
	e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, conf);
	ck_assert_msg(e != NULL, "%s", conf);
	g = X509V3_EXT_d2i(e);
	ck_assert_ptr_nonnull(g);
	X509_EXTENSION_free(e);
	return g;
}

#define SP(x)	", \"san_policy\": {" x "}"

static const struct {
	const char	*policy;	/* the label block's keys */
	const char	*subject;	/* name_of() form */
	const char	*san;
	const char	*diag;		/* "" = accepted */
} sancases[] = {
	/* The default: DNS and IP, 16 names, no wildcard, no pattern. */
	{ "", "CN=dev-1", "", "" },
	{ "", "CN=dev-1", "DNS:www.google.com, IP:10.0.0.1, IP:2001:db8::1",
	    "" },
	{ "", "CN=dev-1", "DNS:*.example.com", "subjectAltName DNS "
	    "\"*.example.com\" is a wildcard, which this label does not allow" },
	{ "", "CN=dev-1", "URI:spiffe://prod/ns/admin/sa/root",
	    "subjectAltName URI is not allowed on label \"dev\" (allowed: "
	    "DNS, IP)" },
	{ "", "CN=dev-1", "email:ceo@example.com", "subjectAltName email is "
	    "not allowed" },
	{ "", "CN=dev-1", "RID:1.2.3.4", "subjectAltName registeredID is not "
	    "allowed" },
	{ "", "CN=dev-1", "otherName:1.2.3.4;UTF8:x", "subjectAltName "
	    "otherName is not allowed" },
	/* DNS syntax (RFC 1034 3.5, RFC 1123 2.1). */
	{ "", "CN=dev-1", "DNS:3com.example", "" },
	{ "", "CN=dev-1", "DNS:Upper.Example.COM", "" },
	{ "", "CN=dev-1", "DNS:a_b.example.com", "is not a host name" },
	{ "", "CN=dev-1", "DNS:a..example.com", "has an empty label" },
	{ "", "CN=dev-1", "DNS:example.com.", "has an empty label" },
	{ "", "CN=dev-1", "DNS:-a.example.com", "starts or ends with '-'" },
	{ "", "CN=dev-1", "DNS:a-.example.com", "starts or ends with '-'" },
	{ "", "CN=dev-1", "DNS:a b.example", "is empty, over 1024 bytes, or "
	    "holds a character other than printable ASCII" },
	{ "", "CN=dev-1", "DNS:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaa.example", "has a label over 63 characters" },
	/* Wildcards, when allowed: the whole leftmost label only. */
	{ SP("\"allow_wildcard\": true"), "CN=dev-1", "DNS:*.example.com",
	    "" },
	{ SP("\"allow_wildcard\": true"), "CN=dev-1", "DNS:*.com",
	    "is a wildcard for a whole top-level domain" },
	{ SP("\"allow_wildcard\": true"), "CN=dev-1", "DNS:w*.example.com",
	    "has a wildcard that is not the whole leftmost label" },
	{ SP("\"allow_wildcard\": true"), "CN=dev-1", "DNS:a.*.example.com",
	    "has a wildcard that is not the whole leftmost label" },
	{ SP("\"allow_wildcard\": true"), "CN=dev-1", "DNS:*",
	    "has a wildcard that is not the whole leftmost label" },
	/* Patterns per type. */
	{ SP("\"DNS\": \"\\\\.example\\\\.com$\""), "CN=dev-1",
	    "DNS:a.example.com, DNS:b.c.example.com", "" },
	{ SP("\"DNS\": \"\\\\.example\\\\.com$\""), "CN=dev-1",
	    "DNS:a.example.com, DNS:www.google.com", "subjectAltName DNS "
	    "\"www.google.com\" does not match \\.example\\.com$" },
	{ SP("\"IP\": \"^10\\\\.\""), "CN=dev-1", "IP:10.1.2.3", "" },
	{ SP("\"IP\": \"^10\\\\.\""), "CN=dev-1", "IP:192.168.1.1",
	    "subjectAltName IP \"192.168.1.1\" does not match ^10\\." },
	{ SP("\"IP\": \"^2001:db8:\""), "CN=dev-1", "IP:2001:DB8:0:0:0:0:0:1",
	    "" },
	{ SP("\"allowed_types\": [\"URI\"], \"URI\": \"^spiffe://prod/ns/dev/\""),
	    "CN=dev-1", "URI:spiffe://prod/ns/dev/sa/x", "" },
	{ SP("\"allowed_types\": [\"URI\"], \"URI\": \"^spiffe://prod/ns/dev/\""),
	    "CN=dev-1", "URI:spiffe://prod/ns/admin/sa/root", "subjectAltName "
	    "URI \"spiffe://prod/ns/admin/sa/root\" does not match" },
	{ SP("\"allowed_types\": [\"email\"]"), "CN=dev-1",
	    "email:ops@example.com", "" },
	{ SP("\"allowed_types\": [\"email\"]"), "CN=dev-1",
	    "email:ops.example.com", "is not local-part@domain" },
	{ SP("\"allowed_types\": [\"email\"]"), "CN=dev-1",
	    "email:a@b@c", "is not local-part@domain" },
	{ SP("\"allowed_types\": [\"email\"], \"email\": \"@example\\\\.com$\""),
	    "CN=dev-1", "email:ceo@evil.com", "does not match" },
	/* DNS names that must be the CN. */
	{ SP("\"dns_equals_cn\": true"), "CN=dev-1.example.com",
	    "DNS:DEV-1.example.com", "" },
	{ SP("\"dns_equals_cn\": true"), "CN=a.example/CN=b.example",
	    "DNS:a.example, DNS:b.example", "" },
	{ SP("\"dns_equals_cn\": true"), "CN=dev-1.example.com",
	    "DNS:dev-2.example.com", "subjectAltName DNS \"dev-2.example.com\" "
	    "is not the subject's CN" },
	{ SP("\"dns_equals_cn\": true"), "", "DNS:dev-2.example.com",
	    "is not the subject's CN" },
	/* Counts. */
	{ SP("\"max_names\": 2"), "CN=dev-1", "DNS:a.example, DNS:b.example",
	    "" },
	{ SP("\"max_names\": 2"), "CN=dev-1", "DNS:a.example, DNS:b.example, "
	    "IP:10.0.0.1", "subjectAltName has 3 names; label \"dev\" allows "
	    "at most 2" },
	{ SP("\"max_names\": 0"), "CN=dev-1", "", "" },
	{ SP("\"max_names\": 0"), "CN=dev-1", "IP:10.0.0.1", "has 1 names" },
};

START_TEST(test_san)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	GENERAL_NAMES	*g;
	X509_NAME	*n;
	char		 json[2048];
	int		 rc;

	(void)snprintf(json, sizeof(json), DOC("%s"), sancases[_i].policy);
	ck_assert_msg(tu_cfg_parse(json, &cfg, &d) == 0, "%s", d.msg);
	n = name_of(sancases[_i].subject);
	g = san_of(sancases[_i].san);
	rc = mca_csr_check_san(n, g, &cfg->profiles[0], &d);
	ck_assert_msg(rc == (sancases[_i].diag[0] ? MCA_ERR_POLICY : 0),
	    "case %d: rc %d (%s)", _i, rc, d.msg);
	ck_assert_msg(strstr(d.msg, sancases[_i].diag) != NULL &&
	    (sancases[_i].diag[0] != '\0' || d.msg[0] == '\0'),
	    "case %d: got \"%s\"", _i, d.msg);
	GENERAL_NAMES_free(g);
	X509_NAME_free(n);
	mca_cfg_free(cfg);
}
END_TEST

/* What a CSR cannot say in openssl's SAN syntax. */
START_TEST(test_san_raw)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	GENERAL_NAMES	*g = sk_GENERAL_NAME_new_null();
	GENERAL_NAME	*gn = GENERAL_NAME_new();
	ASN1_OCTET_STRING *ip = ASN1_OCTET_STRING_new();
	ASN1_IA5STRING	*dns = ASN1_IA5STRING_new();
	unsigned char	 five[5] = { 10, 0, 0, 1, 9 };
	int		 i;

	ck_assert_int_eq(tu_cfg_parse(DOC(""), &cfg, &d), 0);
	/* An IP address of five octets. */
	ck_assert_int_eq(ASN1_OCTET_STRING_set(ip, five, 5), 1);
	GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
	ck_assert_int_eq(sk_GENERAL_NAME_push(g, gn), 1);
	ck_assert_int_eq(mca_csr_check_san(NULL, g, &cfg->profiles[0], &d),
	    MCA_ERR_POLICY);
	ck_assert_str_eq(d.msg, "subjectAltName IP has 5 octets, not 4 or 16");
	/* A DNS name with a NUL in it cannot hide its tail. */
	sk_GENERAL_NAME_pop_free(g, GENERAL_NAME_free);
	g = sk_GENERAL_NAME_new_null();
	gn = GENERAL_NAME_new();
	ck_assert_int_eq(ASN1_STRING_set(dns, "a.example\0.evil", 15), 1);
	GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
	ck_assert_int_eq(sk_GENERAL_NAME_push(g, gn), 1);
	ck_assert_int_eq(mca_csr_check_san(NULL, g, &cfg->profiles[0], &d),
	    MCA_ERR_POLICY);
	ck_assert_ptr_nonnull(strstr(d.msg, "other than printable ASCII"));
	/* 17 names against the default of 16; 16 pass. */
	sk_GENERAL_NAME_pop_free(g, GENERAL_NAME_free);
	g = sk_GENERAL_NAME_new_null();
	for (i = 0; i < 17; i++) {
		gn = GENERAL_NAME_new();
		dns = ASN1_IA5STRING_new();
		ck_assert_int_eq(ASN1_STRING_set(dns, "a.example", -1), 1);
		GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
		ck_assert_int_eq(sk_GENERAL_NAME_push(g, gn), i + 1);
		ck_assert_int_eq(mca_csr_check_san(NULL, g,
		    &cfg->profiles[0], &d), i < 16 ? 0 : MCA_ERR_POLICY);
	}
	ck_assert_str_eq(d.msg, "subjectAltName has 17 names; label \"dev\" "
	    "allows at most 16");
	/* No profile: nothing to judge. */
	ck_assert_int_eq(mca_csr_check_san(NULL, g, NULL, &d), 0);
	sk_GENERAL_NAME_pop_free(g, GENERAL_NAME_free);
	mca_cfg_free(cfg);
}
END_TEST

/* subject_unlisted "refuse". */
static const struct {
	const char	*rules;
	const char	*subject;
	const char	*diag;
} ucases[] = {
	{ "{\"CN\": \"^dev-[0-9]+$\"}", "CN=dev-1", "" },
	{ "{\"CN\": \"^dev-[0-9]+$\"}", "CN=dev-1/OU=admins",
	    "subject attribute OU is not allowed on label \"dev\" (allowed: "
	    "CN)" },
	{ "{\"CN\": \"^dev-[0-9]+$\", \"O\": \"^Acme$\"}",
	    "CN=dev-1/O=Acme/emailAddress=ceo@example.com",
	    "subject attribute emailAddress is not allowed on label \"dev\" "
	    "(allowed: CN, O)" },
	{ "{\"commonName\": \"^dev-[0-9]+$\"}", "CN=dev-1/CN=dev-2", "" },
	/* The patterns are judged first. */
	{ "{\"CN\": \"^dev-[0-9]+$\"}", "CN=x/OU=y", "subject CN \"x\" does "
	    "not match" },
	{ "{}", "", "" },
	{ "{}", "CN=dev-1", "subject attribute CN is not allowed on label "
	    "\"dev\" (allowed: none)" },
};

START_TEST(test_unlisted)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	X509_NAME	*n;
	char		 json[1024];
	int		 rc;

	(void)snprintf(json, sizeof(json), DOC(", \"subject_unlisted\": "
	    "\"refuse\", \"subject_patterns\": %s"), ucases[_i].rules);
	ck_assert_msg(tu_cfg_parse(json, &cfg, &d) == 0, "%s", d.msg);
	n = name_of(ucases[_i].subject);
	rc = mca_csr_check_subject(n, &cfg->profiles[0], &d);
	ck_assert_msg(rc == (ucases[_i].diag[0] ? MCA_ERR_POLICY : 0),
	    "case %d: rc %d (%s)", _i, rc, d.msg);
	ck_assert_msg(strncmp(d.msg, ucases[_i].diag,
	    strlen(ucases[_i].diag)) == 0 &&
	    (ucases[_i].diag[0] != '\0' || d.msg[0] == '\0'),
	    "case %d: got \"%s\"", _i, d.msg);
	X509_NAME_free(n);
	mca_cfg_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ identity */

/*
 * A certificate for subject/san (any key: only names are compared), and
 * a CSR asking for subject/san.
 */
static X509 *
cert_of(const char *subject, const char *san)
{
	X509		*x = X509_new();
	X509_NAME	*n = name_of(subject);
	GENERAL_NAMES	*g = san_of(san);

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_set_subject_name(x, n), 1);
	if (g != NULL)
		ck_assert_int_eq(X509_add1_ext_i2d(x, NID_subject_alt_name, g,
		    0, X509V3_ADD_REPLACE), 1);
	GENERAL_NAMES_free(g);
	X509_NAME_free(n);
	return x;
}

static X509_REQ *
req_of(const char *subject, const char *san)
{
	X509_REQ			*r = X509_REQ_new();
	X509_NAME			*n = name_of(subject);
	STACK_OF(X509_EXTENSION)	*exts = sk_X509_EXTENSION_new_null();

	ck_assert_int_eq(X509_REQ_set_subject_name(r, n), 1);
	if (san[0] != '\0') {
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
		    NID_subject_alt_name, san));
		ck_assert_int_eq(X509_REQ_add_extensions(r, exts), 1);
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	return r;
}

static const struct {
	const char	*cert_subject, *cert_san;
	const char	*req_subject, *req_san;
	const char	*diag;
} icases[] = {
	{ "CN=dev-0001", "DNS:dev-0001.example.com, IP:192.0.2.1",
	    "CN=dev-0001", "DNS:dev-0001.example.com, IP:192.0.2.1", "" },
	/* A subset of its names, in any order, or none. */
	{ "CN=dev-0001", "DNS:dev-0001.example.com, IP:192.0.2.1",
	    "CN=dev-0001", "IP:192.0.2.1", "" },
	{ "CN=dev-0001", "DNS:dev-0001.example.com", "CN=dev-0001", "", "" },
	/* X509_NAME_cmp compares canonically: case and spaces fold. */
	{ "CN=Dev-0001", "", "CN=dev-0001", "", "" },
	{ "CN=dev-0001", "", "CN=dev-7777", "", "a certificate of this CA may "
	    "enroll only its own subject (\"CN=dev-0001\"), not "
	    "\"CN=dev-7777\"" },
	{ "CN=dev-0001", "", "CN=dev-0001/O=Acme", "", "may enroll only its "
	    "own subject" },
	{ "CN=dev-0001/O=Acme", "", "CN=dev-0001", "", "may enroll only its "
	    "own subject" },
	{ "CN=dev-0001", "DNS:dev-0001.example.com", "CN=dev-0001",
	    "DNS:dev-0001.example.com, DNS:www.google.com", "a certificate of "
	    "this CA may enroll only its own subjectAltNames; DNS "
	    "\"www.google.com\" is not one of them" },
	{ "CN=dev-0001", "", "CN=dev-0001", "IP:10.0.0.1", "own "
	    "subjectAltNames; IP is not one of them" },
	{ "CN=dev-0001", "URI:urn:a", "CN=dev-0001", "URI:urn:b",
	    "URI \"urn:b\" is not one of them" },
};

START_TEST(test_own_identity)
{
	struct mca_diag	 d;
	X509		*x = cert_of(icases[_i].cert_subject, icases[_i].cert_san);
	X509_REQ	*r = req_of(icases[_i].req_subject, icases[_i].req_san);
	int		 rc;

	rc = mca_csr_check_own_identity(r, x, &d);
	ck_assert_msg(rc == (icases[_i].diag[0] ? MCA_ERR_POLICY : 0),
	    "case %d: rc %d (%s)", _i, rc, d.msg);
	ck_assert_msg(strstr(d.msg, icases[_i].diag) != NULL,
	    "case %d: got \"%s\"", _i, d.msg);
	X509_REQ_free(r);
	X509_free(x);
}
END_TEST

/* ra_subject_patterns: all rules must hold; none makes no RA. */
static const struct {
	const char	*rules;		/* NULL: the key is absent */
	const char	*subject;
	int		 ra;
} racases[] = {
	{ NULL, "CN=ra-1", 0 },
	{ "{\"CN\": \"^ra-[0-9]+$\"}", "CN=ra-1", 1 },
	{ "{\"CN\": \"^ra-[0-9]+$\"}", "CN=dev-1", 0 },
	{ "{\"CN\": \"^ra-[0-9]+$\"}", "O=x", 0 },
	{ "{\"CN\": \"^ra-[0-9]+$\"}", "CN=ra-1/CN=dev-1", 0 },
	{ "{\"CN\": \"^ra-[0-9]+$\", \"O\": \"^Acme$\"}", "CN=ra-1/O=Acme",
	    1 },
	{ "{\"CN\": \"^ra-[0-9]+$\", \"O\": \"^Acme$\"}", "CN=ra-1", 0 },
};

START_TEST(test_ra)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	X509_NAME	*n;
	char		 json[1024];

	if (racases[_i].rules == NULL)
		(void)snprintf(json, sizeof(json), DOC(""));
	else
		(void)snprintf(json, sizeof(json), DOC(", "
		    "\"ra_subject_patterns\": %s"), racases[_i].rules);
	ck_assert_msg(tu_cfg_parse(json, &cfg, &d) == 0, "%s", d.msg);
	n = name_of(racases[_i].subject);
	ck_assert_int_eq(mca_csr_is_ra(n, &cfg->profiles[0]), racases[_i].ra);
	ck_assert_int_eq(mca_csr_is_ra(NULL, &cfg->profiles[0]), 0);
	ck_assert_int_eq(mca_csr_is_ra(n, NULL), 0);
	X509_NAME_free(n);
	mca_cfg_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ csrattrs */

static const struct {
	const char	*keys;
	const char	*md;
	const char	*want;
} acases[] = {
	{ "\"EC-P-256\"", "SHA256",
	    "id-ecPublicKey={prime256v1} ecdsa-with-SHA256" },
	/* DER sorts the SET: shorter encodings first. */
	{ "\"EC-P-256\", \"EC-P-384\"", "SHA384",
	    "id-ecPublicKey={secp384r1,prime256v1} ecdsa-with-SHA384" },
	{ "\"RSA-4096\", \"RSA-2048\", \"RSA-3072\"", "SHA256",
	    "rsaEncryption={2048,3072,4096} sha256WithRSAEncryption" },
	/* Both types: EC first, then RSA, each with its signature. */
	{ "\"RSA-2048\", \"EC-P-521\"", "SHA512",
	    "id-ecPublicKey={secp521r1} ecdsa-with-SHA512 "
	    "rsaEncryption={2048} sha512WithRSAEncryption" },
};

START_TEST(test_csrattrs)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;
	struct mca_buf	 der = MCA_BUF_INIT, words = MCA_BUF_INIT;
	char		 json[1024];

	(void)snprintf(json, sizeof(json), "{" BASE ", "
	    "\"end_certificate_config_1\": {" DEV ", \"allowed_keys\": [%s]}}",
	    acases[_i].keys);
	ck_assert_msg(tu_cfg_parse(json, &cfg, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(mca_est_csrattrs(&cfg->profiles[0],
	    EVP_get_digestbyname(acases[_i].md), &der), 0);
	tu_csrattrs_words(der.data, der.len, 1, &words);
	ck_assert_str_eq(mca_buf_str(&words), acases[_i].want);
	mca_buf_free(&der);
	mca_buf_free(&words);
	mca_cfg_free(cfg);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("policy");

	tc = tcase_create("config");
	tcase_add_loop_test(tc, test_good, 0,
	    (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_loop_test(tc, test_bad, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_caps);
	tcase_add_loop_test(tc, test_identity_keys, 0,
	    (int)(sizeof(ident) / sizeof(ident[0])));
	tcase_add_loop_test(tc, test_warn, 0,
	    (int)(sizeof(warn) / sizeof(warn[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("csr");
	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	tcase_add_loop_test(tc, test_allowed_keys, 0,
	    (int)(sizeof(kcases) / sizeof(kcases[0])));
	tcase_add_loop_test(tc, test_subject, 0,
	    (int)(sizeof(scases) / sizeof(scases[0])));
	tcase_add_test(tc, test_subject_long);
	tcase_add_loop_test(tc, test_san, 0,
	    (int)(sizeof(sancases) / sizeof(sancases[0])));
	tcase_add_test(tc, test_san_raw);
	tcase_add_loop_test(tc, test_unlisted, 0,
	    (int)(sizeof(ucases) / sizeof(ucases[0])));
	tcase_add_loop_test(tc, test_own_identity, 0,
	    (int)(sizeof(icases) / sizeof(icases[0])));
	tcase_add_loop_test(tc, test_ra, 0,
	    (int)(sizeof(racases) / sizeof(racases[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("csrattrs");
	tcase_add_loop_test(tc, test_csrattrs, 0,
	    (int)(sizeof(acases) / sizeof(acases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(policy_suite());
}
