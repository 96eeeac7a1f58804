/*
 * azure.c: SAS tokens against Microsoft's published test vectors, the
 * expiry of static tokens, thumbprints against openssl(1), device ids and
 * device URLs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "azure.h"
#include "buf.h"
#include "err.h"
#include "testutil.h"

Suite	*azure_suite(void);

/* Every refusal is one line with something in it. */
static void
assert_one_line(const struct mca_diag *d)
{
	ck_assert_msg(d->msg[0] != '\0', "no message");
	ck_assert_msg(strchr(d->msg, '\n') == NULL, "not one line: %s",
	    d->msg);
}

/* The key of the Azure CLI vectors below. */
#define CLI_KEY	"+XLy+MVZ+aTeOnVzN2kLeB16O+kSxmz6g3rS6fAf6rw="

static const struct {
	const char	*uri, *key, *policy;
	long long	 expiry;
	const char	*want;
} vectors[] = {
	/*
	 * Azure/azure-iot-cli-extension,
	 * azext_iot/tests/iothub/core/test_iot_ext_unit.py (earlier
	 * azext_iot/tests/test_iot_ext_unit.py), TestSasTokenAuth.
	 * test_generate_sas_token: a device uri, no policy (no skn).
	 */
	{ "iot-hub-for-test.azure-devices.net/devices/iot-device-for-test",
	    CLI_KEY, NULL, 1471940363,
	    "SharedAccessSignature "
	    "sr=iot-hub-for-test.azure-devices.net%2Fdevices%2F"
	    "iot-device-for-test"
	    "&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D"
	    "&se=1471940363" },
	/* The same test: the hub's host name with the policy iothubowner. */
	{ "iot-hub-for-test.azure-devices.net", CLI_KEY, "iothubowner",
	    1471940363,
	    "SharedAccessSignature sr=iot-hub-for-test.azure-devices.net"
	    "&sig=770sPjjYxRYpNz8%2FhEN7XR5XU5KDGYGTinSP8YyeTXw%3D"
	    "&se=1471940363&skn=iothubowner" },
	/* The same test: a module uri with the policy. */
	{ "iot-hub-for-test.azure-devices.net/devices/iot-device-for-test/"
	    "modules/module-for-test", CLI_KEY, "iothubowner", 1471940363,
	    "SharedAccessSignature "
	    "sr=iot-hub-for-test.azure-devices.net%2Fdevices%2F"
	    "iot-device-for-test%2Fmodules%2Fmodule-for-test"
	    "&sig=JwAxBBBPYA0E%2FTHdnrXzUfBfuZ7deH6pppCniJ23Uu0%3D"
	    "&se=1471940363&skn=iothubowner" },
	/*
	 * Azure/azure-iot-sdk-node, common/core/test/_authorization_test.js,
	 * Token#toString "returns a signature token": key base64("password"),
	 * the policy name encode('Me') percent-encoded.
	 */
	{ "uri", "cGFzc3dvcmQ=", "encode('Me')", 12345,
	    "SharedAccessSignature sr=uri"
	    "&sig=kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk%3D&se=12345"
	    "&skn=encode%28%27Me%27%29" },
	/*
	 * Azure/azure-iot-sdk-node, common/core/test/
	 * _shared_access_signature_test.js, #toString "does not include the
	 * skn segment if the skn property wasn't defined".
	 */
	{ "uri", "cGFzc3dvcmQ=", NULL, 12345,
	    "SharedAccessSignature sr=uri"
	    "&sig=kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk%3D&se=12345" },
	/* An empty policy omits skn too. */
	{ "uri", "cGFzc3dvcmQ=", "", 12345,
	    "SharedAccessSignature sr=uri"
	    "&sig=kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk%3D&se=12345" },
};

START_TEST(t_sas_vectors)
{
	struct mca_diag	 d;
	char		*tok = NULL;
	long long	 se;

	ck_assert_int_eq(mca_az_sas(vectors[_i].uri, vectors[_i].key,
	    vectors[_i].policy, vectors[_i].expiry, &tok, &d), 0);
	ck_assert_str_eq(tok, vectors[_i].want);
	/* and a token we make is a static token we can read */
	ck_assert_int_eq(mca_az_sas_expiry(tok, &se, &d), 0);
	ck_assert_int_eq(se, vectors[_i].expiry);
	free(tok);
}
END_TEST

/*
 * The uri and the signature are percent-encoded with only the RFC 3986
 * unreserved characters kept, and the HMAC is over the encoded uri: the
 * signature is recomputed here with OpenSSL's EVP_Q_mac() and
 * EVP_EncodeBlock(), and was computed with Python's hmac, base64 and
 * urllib.parse.quote(safe="") (as the Azure IoT Python SDK signs) for the
 * literal below. This expiry gives a signature with '+', '/' and '='.
 */
START_TEST(t_sas_encoding)
{
	static const char	 uri[] = "a b/c#d+e=f~g_h.i-j%k";
	static const char	 enc[] = "a%20b%2Fc%23d%2Be%3Df~g_h.i-j%25k";
	static const char	 raw_sig[] =
	    "hSxyCaw+8GmuVBwTu1/Ov+bJq4uTl18zCEizLwdubC8=";
	unsigned char		 key[64], mac[32], b64[64];
	char			 msg[128], want[512], encsig[128], *p, *tok;
	struct mca_diag		 d;
	size_t			 maclen = 0, i;
	int			 keylen;

	keylen = EVP_DecodeBlock(key, (const unsigned char *)CLI_KEY,
	    (int)strlen(CLI_KEY));
	ck_assert_int_eq(keylen, 33);	/* one '=': 32 bytes and a pad */
	(void)snprintf(msg, sizeof(msg), "%s\n%d", enc, 1700000005);
	ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL,
	    key, 32, (unsigned char *)msg, strlen(msg), mac, sizeof(mac),
	    &maclen));
	ck_assert_int_eq(maclen, 32);
	ck_assert_int_eq(EVP_EncodeBlock(b64, mac, 32), 44);
	ck_assert_str_eq((char *)b64, raw_sig);
	/* the base64 alphabet's three non-alphanumerics */
	for (i = 0, p = encsig; b64[i] != '\0'; i++)
		if (b64[i] == '+' || b64[i] == '/' || b64[i] == '=')
			p += sprintf(p, "%%%02X", b64[i]);
		else
			*p++ = (char)b64[i];
	*p = '\0';
	ck_assert_str_eq(encsig,
	    "hSxyCaw%2B8GmuVBwTu1%2FOv%2BbJq4uTl18zCEizLwdubC8%3D");
	(void)snprintf(want, sizeof(want), "SharedAccessSignature sr=%s&sig=%s"
	    "&se=1700000005&skn=a%%2Fb%%20c", enc, encsig);
	ck_assert_int_eq(mca_az_sas(uri, CLI_KEY, "a/b c", 1700000005, &tok,
	    &d), 0);
	ck_assert_str_eq(tok, want);
	free(tok);
	OPENSSL_cleanse(key, sizeof(key));
}
END_TEST

static const struct {
	const char	*uri, *key;
	long long	 expiry;
	int		 rc;
	const char	*msg;	/* in the message */
} sas_bad[] = {
	{ NULL, "cGFzc3dvcmQ=", 1, MCA_ERR_INVAL, "no resource uri" },
	{ "", "cGFzc3dvcmQ=", 1, MCA_ERR_INVAL, "no resource uri" },
	{ "h\n", "cGFzc3dvcmQ=", 1, MCA_ERR_INVAL, "control character" },
	{ "h", NULL, 1, MCA_ERR_INVAL, "not base64" },
	{ "h", "", 1, MCA_ERR_INVAL, "not base64" },
	{ "h", "cGFzc3dvcmQ", 1, MCA_ERR_INVAL, "not base64" },
	{ "h", "cGFz$3dvcmQ=", 1, MCA_ERR_INVAL, "not base64" },
	{ "h", "cGFzc3dvcmQ==", 1, MCA_ERR_INVAL, "not base64" },
	{ "h", "SECRETKEY%%%", 1, MCA_ERR_INVAL, "not base64" },
	{ "h", "cGFzc3dvcmQ=", 0, MCA_ERR_INVAL, "expiry 0" },
	{ "h", "cGFzc3dvcmQ=", -5, MCA_ERR_INVAL, "expiry -5" },
	{ "h", "cGFzc3dvcmQ=", MCA_AZ_EXPIRY_MAX + 1, MCA_ERR_INVAL,
	    "expiry 253402300800" },
};

START_TEST(t_sas_bad)
{
	struct mca_diag	 d;
	char		*tok = (char *)"x";

	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(mca_az_sas(sas_bad[_i].uri, sas_bad[_i].key, NULL,
	    sas_bad[_i].expiry, &tok, &d), sas_bad[_i].rc);
	ck_assert_ptr_null(tok);
	assert_one_line(&d);
	ck_assert_msg(strstr(d.msg, sas_bad[_i].msg) != NULL, "%s", d.msg);
	/* the key is never quoted */
	ck_assert_ptr_null(strstr(d.msg, "SECRETKEY"));
}
END_TEST

START_TEST(t_sas_long)
{
	struct mca_diag	 d;
	char		*uri, *tok = NULL;

	ck_assert_ptr_nonnull(uri = malloc(MCA_AZ_URI_MAX + 2));
	memset(uri, 'h', MCA_AZ_URI_MAX + 1);
	uri[MCA_AZ_URI_MAX + 1] = '\0';
	ck_assert_int_eq(mca_az_sas(uri, "cGFzc3dvcmQ=", NULL, 1, &tok, &d),
	    MCA_ERR_TOOBIG);
	assert_one_line(&d);
	uri[MCA_AZ_URI_MAX] = '\0';
	ck_assert_int_eq(mca_az_sas(uri, "cGFzc3dvcmQ=", NULL, 1, &tok, &d),
	    0);
	free(tok);
	free(uri);
}
END_TEST

/* Static tokens (azurehubcreds) and their expiry. */
static const struct {
	const char	*token;
	long long	 se;	/* -1: refused */
} expiries[] = {
	/* Azure/azure-iot-sdk-python, azure-iot-device/tests/common/auth/
	 * test_sastoken.py: the tokens NonRenewableSasToken accepts ... */
	{ "SharedAccessSignature sr=some%2Fresource%2Flocation"
	    "&sig=ajsc8nLKacIjGsYyB4iYDFCZaRMmmDrUuY5lncYDYPI%3D&se=12321312",
	    12321312 },
	{ "SharedAccessSignature sr=some%2Fresource%2Flocation"
	    "&sig=ajsc8nLKacIjGsYyB4iYDFCZaRMmmDrUuY5lncYDYPI%3D&se=12321312"
	    "&skn=fakekeyname", 12321312 },
	/* ... and those it refuses (test_raises_error_invalid_token_string) */
	{ "sr=some%2Fresource%2Flocation&sig=ajsc8nLKacIjGsYyB4iYDFCZaRMmmDr"
	    "UuY5lncYDYPI=&se=12321312", -1 },
	{ "SharedERRORSignature sr=some%2Fresource%2Flocation&sig=ajsc8nLKac"
	    "IjGsYyB4iYDFCZaRMmmDrUuY5lncYDYPI=&se=12321312", -1 },
	{ "SharedAccessignature sr=some%2Fresource%2Flocationsig=ajsc8nLKacI"
	    "jGsYyB4iYDFCZaRMmmDrUuY5lncYDYPI=&se12321312", -1 },
	{ "SharedAccessSignature sig=ajsc8nLKacIjGsYyB4iYDFCZaRMmmDrUuY5lncY"
	    "DYPI=&se=12321312", -1 },
	{ "SharedAccessSignature sr=some%2Fresource%2Flocation&se=12321312",
	    -1 },
	{ "SharedAccessSignature sr=some%2Fresource%2Flocation&sig=ajsc8nLKa"
	    "cIjGsYyB4iYDFCZaRMmmDrUuY5lncYDYPI=", -1 },
	{ "SharedAccessSignature sr=some%2Fresource%2Flocation&sig=ajsc8nLKa"
	    "cIjGsYyB4iYDFCZaRMmmDrUuY5lncYDYPI=&se=12321312"
	    "&foovalue=nonsense", -1 },
	/* Ours: any field order, the largest expiry, 0 (long expired). */
	{ "SharedAccessSignature se=253402300799&skn=p&sig=s&sr=h",
	    253402300799 },
	{ "SharedAccessSignature sr=h&sig=s&se=0", 0 },
	/* junk, overflow, sign, empty, leading zero, space */
	{ "SharedAccessSignature sr=h&sig=s&se=12a", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=0x10", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=99999999999999999999", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=9223372036854775808", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=253402300800", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=-1", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=+1", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=01", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=1 ", -1 },
	{ "SharedAccessSignature  sr=h&sig=s&se=1", -1 },
	{ " SharedAccessSignature sr=h&sig=s&se=1", -1 },
	{ "sharedaccesssignature sr=h&sig=s&se=1", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=1\n", -1 },
	/* shape: missing se, twice, empty fields, no name */
	{ "SharedAccessSignature sr=h&sig=s", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=1&se=1", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=1&skn=a&skn=b", -1 },
	{ "SharedAccessSignature sr=h&sr=h&sig=s&se=1", -1 },
	{ "SharedAccessSignature sr=h&sig=s&se=1&", -1 },
	{ "SharedAccessSignature &sr=h&sig=s&se=1", -1 },
	{ "SharedAccessSignature sr=h&&sig=s&se=1", -1 },
	{ "SharedAccessSignature sr=h&=x&sig=s&se=1", -1 },
	{ "SharedAccessSignature sr=h&sig&se=1", -1 },
	{ "SharedAccessSignature ", -1 },
	{ "SharedAccessSignature", -1 },
	{ "", -1 },
	{ NULL, -1 },
};

START_TEST(t_sas_expiry)
{
	struct mca_diag	 d;
	long long	 se = 42;
	int		 rc;

	memset(&d, 0, sizeof(d));
	rc = mca_az_sas_expiry(expiries[_i].token, &se, &d);
	if (expiries[_i].se >= 0) {
		ck_assert_msg(rc == 0, "%s", d.msg);
		ck_assert_int_eq(se, expiries[_i].se);
	} else {
		ck_assert_int_eq(rc, MCA_ERR_INVAL);
		ck_assert_int_eq(se, 0);
		assert_one_line(&d);
		/* a signature is never quoted */
		ck_assert_ptr_null(strstr(d.msg, "ajsc8"));
	}
}
END_TEST

START_TEST(t_sas_expiry_long)
{
	struct mca_diag	 d;
	struct mca_buf	 b = MCA_BUF_INIT;
	long long	 se;

	ck_assert_int_eq(mca_buf_addstr(&b, "SharedAccessSignature sr="), 0);
	while (b.len < 9000)
		ck_assert_int_eq(mca_buf_addc(&b, 'h'), 0);
	ck_assert_int_eq(mca_buf_addstr(&b, "&sig=s&se=1"), 0);
	ck_assert_int_eq(mca_az_sas_expiry(mca_buf_str(&b), &se, &d),
	    MCA_ERR_INVAL);
	assert_one_line(&d);
	mca_buf_free(&b);
}
END_TEST

/* openssl x509 -fingerprint of pem, colons stripped: "AB12...". */
static void
openssl_fingerprint(const char *pem, const char *alg, char *out, size_t len)
{
	struct mca_buf	 o = MCA_BUF_INIT;
	const char	*eq;
	size_t		 n = 0;

	ck_assert_int_eq(tu_sh(&o, "'%s' x509 -noout -fingerprint -%s -in "
	    "'%s'", tu_openssl(), alg, pem), 0);
	/* "SHA1 Fingerprint=AB:CD:...\n" */
	ck_assert_ptr_nonnull(eq = strchr(mca_buf_str(&o), '='));
	for (eq++; *eq != '\0' && *eq != '\n'; eq++)
		if (*eq != ':') {
			ck_assert_uint_lt(n + 1, len);
			out[n++] = *eq;
		}
	out[n] = '\0';
	mca_buf_free(&o);
}

START_TEST(t_thumbprint)
{
	EVP_PKEY	*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509		*x;
	FILE		*f;
	struct mca_diag	 d;
	char		*dir, pem[512];
	char		 t[MCA_AZ_THUMB_MAX], want[MCA_AZ_THUMB_MAX];

	ck_assert_ptr_nonnull(k);
	x = tu_selfsigned("thumb-device", k);
	dir = tu_mkdtemp("azure");
	(void)snprintf(pem, sizeof(pem), "%s/c.pem", dir);
	ck_assert_ptr_nonnull(f = fopen(pem, "w"));
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	ck_assert_int_eq(fclose(f), 0);

	ck_assert_int_eq(mca_az_thumbprint(x, 0, t, &d), 0);
	openssl_fingerprint(pem, "sha1", want, sizeof(want));
	ck_assert_uint_eq(strlen(want), 40);
	ck_assert_str_eq(t, want);

	ck_assert_int_eq(mca_az_thumbprint(x, 1, t, &d), 0);
	openssl_fingerprint(pem, "sha256", want, sizeof(want));
	ck_assert_uint_eq(strlen(want), 64);
	ck_assert_str_eq(t, want);
	/* uppercase hex only, as IoT Hub shows them */
	ck_assert_uint_eq(strspn(t, "0123456789ABCDEF"), 64);

	ck_assert_int_eq(mca_az_thumbprint(NULL, 0, t, &d), MCA_ERR_INVAL);
	ck_assert_str_eq(t, "");
	assert_one_line(&d);

	tu_rmtree(dir);
	free(dir);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

/*
 * A certificate with subject entries ("CN=a", "serialNumber=b", ... in
 * order; a value is taken as UTF-8 bytes as they are, with no length
 * limit) and, unless san is NULL, a SubjectAltName ("DNS:a,URI:b").
 */
static X509 *
mkcert(const char *const *subj, const char *san)
{
	EVP_PKEY	*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509		*x;
	X509_NAME	*n;
	X509_EXTENSION	*e;
	const char	*eq;
	char		 field[64];

	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(x = X509_new());
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	n = X509_get_subject_name(x);
	for (; *subj != NULL; subj++) {
		ck_assert_ptr_nonnull(eq = strchr(*subj, '='));
		(void)snprintf(field, sizeof(field), "%.*s",
		    (int)(eq - *subj), *subj);
		/* A plain string type: OpenSSL's size table is not applied. */
		ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, field,
		    V_ASN1_UTF8STRING, (const unsigned char *)eq + 1, -1, -1,
		    0), 1);
	}
	ck_assert_int_eq(X509_set_issuer_name(x, n), 1);
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	ck_assert_int_eq(X509_set_pubkey(x, k), 1);
	if (san != NULL) {
		ck_assert_ptr_nonnull(e = X509V3_EXT_conf_nid(NULL, NULL,
		    NID_subject_alt_name, san));
		ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
	EVP_PKEY_free(k);
	return x;
}

#define L128 \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *const subj_full[] = {
	"C=DE", "O=Example", "CN=dev-0001", "serialNumber=SN:42-x", NULL
};
static const char *const subj_none[] = { "O=Example", NULL };
static const char *const subj_space[] = { "CN=dev 0001", NULL };
static const char *const subj_utf8[] = { "CN=d\xc3\xa9vice", NULL };
static const char *const subj_slash[] = { "CN=a/b", NULL };
static const char *const subj_128[] = { "CN=" L128, NULL };
static const char *const subj_129[] = { "CN=" L128 "x", NULL };
static const char *const subj_two[] = { "CN=a", "CN=b", NULL };
static const char *const subj_all[] = {
	"CN=A-z.0+%_#*?!(),:=@$'", NULL
};

static const struct {
	const char *const	*subj;
	const char		*san, *field, *want;
	int			 rc;
} devids[] = {
	{ subj_full, NULL, NULL, "dev-0001", 0 },
	{ subj_full, NULL, "", "dev-0001", 0 },
	{ subj_full, NULL, "CN", "dev-0001", 0 },
	{ subj_full, NULL, "cn", "dev-0001", 0 },
	{ subj_full, NULL, "subject:serialNumber", "SN:42-x", 0 },
	{ subj_full, NULL, "subject:2.5.4.5", "SN:42-x", 0 },
	{ subj_full, NULL, "subject:O", "Example", 0 },
	{ subj_full, NULL, "subject:organizationName", "Example", 0 },
	{ subj_full, "DNS:d1.example.com,DNS:d2.example.com,"
	    "URI:urn:dev:0001,email:dev@example.com", "san:dns",
	    "d1.example.com", 0 },
	{ subj_full, "email:dev@example.com,URI:urn:dev:0001,DNS:d1",
	    "san:uri", "urn:dev:0001", 0 },
	{ subj_full, "DNS:d1,email:dev@example.com", "SAN:Email",
	    "dev@example.com", 0 },
	{ subj_all, NULL, NULL, "A-z.0+%_#*?!(),:=@$'", 0 },
	{ subj_128, NULL, NULL, L128, 0 },
	{ subj_none, "URI:" L128, "san:uri", L128, 0 },
	/* absent */
	{ subj_none, NULL, NULL, "", MCA_ERR_POLICY },
	{ subj_full, NULL, "subject:title", "", MCA_ERR_POLICY },
	{ subj_full, NULL, "san:dns", "", MCA_ERR_POLICY },
	{ subj_full, "DNS:d1", "san:uri", "", MCA_ERR_POLICY },
	/* not a valid IoT Hub device id, or ambiguous */
	{ subj_space, NULL, NULL, "", MCA_ERR_POLICY },
	{ subj_utf8, NULL, NULL, "", MCA_ERR_POLICY },
	{ subj_slash, NULL, NULL, "", MCA_ERR_POLICY },
	{ subj_129, NULL, NULL, "", MCA_ERR_POLICY },
	{ subj_none, "URI:" L128 "x", "san:uri", "", MCA_ERR_POLICY },
	{ subj_none, "URI:https://example.com/dev", "san:uri", "",
	    MCA_ERR_POLICY },
	{ subj_two, NULL, NULL, "", MCA_ERR_POLICY },
	/* fields we do not know */
	{ subj_full, NULL, "subject:", "", MCA_ERR_CONFIG },
	{ subj_full, NULL, "subject:noSuchAttribute", "", MCA_ERR_CONFIG },
	{ subj_full, NULL, "san:ip", "", MCA_ERR_CONFIG },
	{ subj_full, NULL, "commonName", "", MCA_ERR_CONFIG },
	{ subj_full, NULL, "CN ", "", MCA_ERR_CONFIG },
};

START_TEST(t_device_id)
{
	X509		*x = mkcert(devids[_i].subj, devids[_i].san);
	struct mca_diag	 d;
	char		 id[MCA_AZ_DEVID_MAX];
	int		 rc;

	memset(&d, 0, sizeof(d));
	memset(id, 'z', sizeof(id));
	rc = mca_az_device_id(x, devids[_i].field, id, sizeof(id), &d);
	ck_assert_msg(rc == devids[_i].rc, "rc %d: %s", rc, d.msg);
	ck_assert_str_eq(id, devids[_i].want);
	if (rc != 0)
		assert_one_line(&d);
	X509_free(x);
}
END_TEST

START_TEST(t_device_id_misc)
{
	static const char *const	 s[] = { "CN=dev-0001", NULL };
	X509				*x = mkcert(s, NULL);
	struct mca_diag			 d;
	char				 id[MCA_AZ_DEVID_MAX];

	/* too small a buffer is an error, not a cut id */
	ck_assert_int_eq(mca_az_device_id(x, NULL, id, 8, &d),
	    MCA_ERR_TOOBIG);
	ck_assert_str_eq(id, "");
	ck_assert_int_eq(mca_az_device_id(x, NULL, id, 9, &d), 0);
	ck_assert_str_eq(id, "dev-0001");
	ck_assert_int_eq(mca_az_device_id(NULL, NULL, id, sizeof(id), &d),
	    MCA_ERR_INVAL);
	assert_one_line(&d);
	X509_free(x);

	ck_assert_int_eq(mca_az_devid_ok(L128), 1);
	ck_assert_int_eq(mca_az_devid_ok(L128 "x"), 0);
	ck_assert_int_eq(mca_az_devid_ok(""), 0);
	ck_assert_int_eq(mca_az_devid_ok(NULL), 0);
	ck_assert_int_eq(mca_az_devid_ok("a;b"), 0);
	ck_assert_int_eq(mca_az_devid_ok("a~b"), 0);
	ck_assert_int_eq(mca_az_devid_ok("a\tb"), 0);
}
END_TEST

#define HUB	"https://myhub.azure-devices.net"
#define APIV	"?api-version=2021-04-12"

static const struct {
	const char	*tmpl, *devid, *url, *sr;
	int		 rc;
} urls[] = {
	/* the placeholder, in each spelling */
	{ HUB "/devices/{deviceId}" APIV, "dev-1", HUB "/devices/dev-1" APIV,
	    "myhub.azure-devices.net", 0 },
	{ HUB "/devices/{deviceid}" APIV, "dev-1", HUB "/devices/dev-1" APIV,
	    "myhub.azure-devices.net", 0 },
	{ HUB "/devices/{device_id}" APIV, "dev-1", HUB "/devices/dev-1" APIV,
	    "myhub.azure-devices.net", 0 },
	{ HUB "/devices/{DeviceId}" APIV, "dev-1", HUB "/devices/dev-1" APIV,
	    "myhub.azure-devices.net", 0 },
	/* kept as written, with no api-version added */
	{ HUB "/devices/{deviceId}", "dev-1", HUB "/devices/dev-1",
	    "myhub.azure-devices.net", 0 },
	/* the SAS resource: the host, lowercase, no port */
	{ "HTTPS://MyHub.Azure-Devices.NET:8443/devices/{deviceId}" APIV,
	    "Dev-1", "HTTPS://MyHub.Azure-Devices.NET:8443/devices/Dev-1" APIV,
	    "myhub.azure-devices.net", 0 },
	{ "https://[::1]:8443/devices/{deviceId}" APIV, "d",
	    "https://[::1]:8443/devices/d" APIV, "[::1]", 0 },
	{ "https://127.0.0.1:4443/devices/{deviceId}" APIV, "d",
	    "https://127.0.0.1:4443/devices/d" APIV, "127.0.0.1", 0 },
	/* no placeholder: /devices/<id> and the api-version added */
	{ HUB, "dev-1", HUB "/devices/dev-1" APIV, "myhub.azure-devices.net",
	    0 },
	{ HUB "/", "dev-1", HUB "/devices/dev-1" APIV,
	    "myhub.azure-devices.net", 0 },
	{ HUB "/prefix//", "dev-1", HUB "/prefix/devices/dev-1" APIV,
	    "myhub.azure-devices.net", 0 },
	{ HUB "?api-version=2020-03-13", "dev-1",
	    HUB "/devices/dev-1?api-version=2020-03-13",
	    "myhub.azure-devices.net", 0 },
	{ HUB "/?api-version=2020-03-13", "dev-1",
	    HUB "/devices/dev-1?api-version=2020-03-13",
	    "myhub.azure-devices.net", 0 },
	/* percent-encoding of the id: RFC 3986 unreserved kept */
	{ HUB "/devices/{deviceId}" APIV, "a#b", HUB "/devices/a%23b" APIV,
	    "myhub.azure-devices.net", 0 },
	{ HUB "/devices/{deviceId}" APIV, "user@site.example",
	    HUB "/devices/user%40site.example" APIV,
	    "myhub.azure-devices.net", 0 },
	{ HUB, "a%b", HUB "/devices/a%25b" APIV, "myhub.azure-devices.net",
	    0 },
	{ HUB, "A-z.0+%_#*?!(),:=@$'", HUB "/devices/"
	    "A-z.0%2B%25_%23%2A%3F%21%28%29%2C%3A%3D%40%24%27" APIV,
	    "myhub.azure-devices.net", 0 },
	/* ids IoT Hub does not take: '/', ' ', empty, too long */
	{ HUB, "a/b", NULL, NULL, MCA_ERR_POLICY },
	{ HUB, "a b", NULL, NULL, MCA_ERR_POLICY },
	{ HUB, "", NULL, NULL, MCA_ERR_POLICY },
	{ HUB, NULL, NULL, NULL, MCA_ERR_POLICY },
	{ HUB, L128 "x", NULL, NULL, MCA_ERR_POLICY },
	{ HUB, "d\xc3\xa9vice", NULL, NULL, MCA_ERR_POLICY },
	{ HUB, "a\nb", NULL, NULL, MCA_ERR_POLICY },
	/* templates refused */
	{ "http://myhub.azure-devices.net/devices/{deviceId}", "d", NULL,
	    NULL, MCA_ERR_CONFIG },
	{ "ftp://myhub.azure-devices.net", "d", NULL, NULL, MCA_ERR_CONFIG },
	{ "myhub.azure-devices.net", "d", NULL, NULL, MCA_ERR_CONFIG },
	{ "", "d", NULL, NULL, MCA_ERR_CONFIG },
	{ NULL, "d", NULL, NULL, MCA_ERR_CONFIG },
	{ "https://", "d", NULL, NULL, MCA_ERR_CONFIG },
	{ "https:///devices/{deviceId}", "d", NULL, NULL, MCA_ERR_CONFIG },
	{ "https://:443/devices/{deviceId}", "d", NULL, NULL,
	    MCA_ERR_CONFIG },
	{ HUB ":0/devices/{deviceId}", "d", NULL, NULL, MCA_ERR_CONFIG },
	{ HUB ":65536/devices/{deviceId}", "d", NULL, NULL, MCA_ERR_CONFIG },
	{ HUB ":44x/devices/{deviceId}", "d", NULL, NULL, MCA_ERR_CONFIG },
	{ "https://[::1/devices/{deviceId}", "d", NULL, NULL,
	    MCA_ERR_CONFIG },
	{ "https://[::1]x/devices/{deviceId}", "d", NULL, NULL,
	    MCA_ERR_CONFIG },
	{ "https://user:pw@myhub.azure-devices.net/devices/{deviceId}", "d",
	    NULL, NULL, MCA_ERR_CONFIG },
	{ "https://{deviceId}.azure-devices.net/", "d", NULL, NULL,
	    MCA_ERR_CONFIG },
	{ HUB "/devices/{deviceID}" APIV, "d", NULL, NULL, MCA_ERR_CONFIG },
	{ HUB "/devices/{deviceId}/x/{deviceId}", "d", NULL, NULL,
	    MCA_ERR_CONFIG },
	{ HUB "/devices/{deviceId}/x/{device_id}", "d", NULL, NULL,
	    MCA_ERR_CONFIG },
	{ HUB "/devices/{deviceId}#frag", "d", NULL, NULL, MCA_ERR_CONFIG },
	{ HUB "/devices/{deviceId} ", "d", NULL, NULL, MCA_ERR_CONFIG },
	{ HUB "/devices/{deviceId}\n", "d", NULL, NULL, MCA_ERR_CONFIG },
	{ HUB "/devices/}", "d", NULL, NULL, MCA_ERR_CONFIG },
};

START_TEST(t_device_url)
{
	struct mca_diag	 d;
	char		*url = (char *)"x", *sr = (char *)"x";
	int		 rc;

	memset(&d, 0, sizeof(d));
	rc = mca_az_device_url(urls[_i].tmpl, urls[_i].devid, &url, &sr, &d);
	ck_assert_msg(rc == urls[_i].rc, "rc %d: %s", rc, d.msg);
	if (rc == 0) {
		ck_assert_str_eq(url, urls[_i].url);
		ck_assert_str_eq(sr, urls[_i].sr);
	} else {
		ck_assert_ptr_null(url);
		ck_assert_ptr_null(sr);
		assert_one_line(&d);
	}
	free(url);
	free(sr);
	/* sr is optional */
	rc = mca_az_device_url(urls[_i].tmpl, urls[_i].devid, &url, NULL, &d);
	ck_assert_int_eq(rc, urls[_i].rc);
	if (rc == 0)
		ck_assert_str_eq(url, urls[_i].url);
	free(url);
}
END_TEST

Suite *
azure_suite(void)
{
	Suite	*s = suite_create("azure");
	TCase	*tc;

	tc = tcase_create("sas");
	tcase_add_loop_test(tc, t_sas_vectors, 0,
	    (int)(sizeof(vectors) / sizeof(vectors[0])));
	tcase_add_test(tc, t_sas_encoding);
	tcase_add_loop_test(tc, t_sas_bad, 0,
	    (int)(sizeof(sas_bad) / sizeof(sas_bad[0])));
	tcase_add_test(tc, t_sas_long);
	tcase_add_loop_test(tc, t_sas_expiry, 0,
	    (int)(sizeof(expiries) / sizeof(expiries[0])));
	tcase_add_test(tc, t_sas_expiry_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("cert");
	tcase_add_test(tc, t_thumbprint);
	tcase_add_loop_test(tc, t_device_id, 0,
	    (int)(sizeof(devids) / sizeof(devids[0])));
	tcase_add_test(tc, t_device_id_misc);
	suite_add_tcase(s, tc);

	tc = tcase_create("url");
	tcase_add_loop_test(tc, t_device_url, 0,
	    (int)(sizeof(urls) / sizeof(urls[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(azure_suite());
}
