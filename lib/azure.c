/*
 * Azure IoT Hub: SAS tokens, static-token expiry, thumbprints, device ids
 * and device URLs (azure.h). Pure functions: no I/O, no clock.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "azure.h"
#include "b64.h"
#include "buf.h"
#include "certinfo.h"
#include "num.h"
#include "text.h"

#define SAS_PREFIX	"SharedAccessSignature "
#define SAS_TOKEN_MAX	8192	/* a static token longer than this is junk */

/* The spellings of the device id placeholder in azurehuburl. */
static const char *const az_placeholders[] = {
	"{deviceId}", "{deviceid}", "{device_id}", "{DeviceId}"
};
#define NPLACEHOLDERS	(sizeof(az_placeholders) / sizeof(az_placeholders[0]))

/* RFC 3986 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~" */
static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/*
 * Appends s[0..n) percent-encoded (RFC 3986 2.1, uppercase hex digits):
 * every octet but the unreserved ones. 0 or MCA_ERR_NOMEM/TOOBIG.
 */
static int
pct_encode(struct mca_buf *out, const char *s, size_t n)
{
	static const char	 hx[] = "0123456789ABCDEF";
	unsigned char		 c, e[3];
	size_t			 i;
	int			 rc;

	if ((rc = mca_buf_reserve(out, n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (unreserved(c)) {
			rc = mca_buf_addc(out, c);
		} else {
			e[0] = '%';
			e[1] = hx[c >> 4];
			e[2] = hx[c & 15];
			rc = mca_buf_add(out, e, sizeof(e));
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* 1 if s has a control character (C0 or DEL), else 0. */
static int
has_ctl(const char *s)
{
	size_t	 n = strlen(s);

	return mca_text_ctl_span(s, n, 0) < n;
}

int
mca_az_thumbprint(X509 *x, int sha256, char out[MCA_AZ_THUMB_MAX],
    struct mca_diag *d)
{
	out[0] = '\0';
	if (x == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "thumbprint: no certificate");
	if (mca_cert_thumbprint(x, sha256 ? EVP_sha256() : EVP_sha1(), out,
	    MCA_AZ_THUMB_MAX) != 0) {
		out[0] = '\0';
		return mca_diag_crypto(d, MCA_ERR_CRYPTO, "cannot compute the "
		    "%s thumbprint", sha256 ? "SHA-256" : "SHA-1");
	}
	return 0;
}

int
mca_az_sas(const char *uri, const char *key_b64, const char *policy,
    long long expiry, char **out, struct mca_diag *d)
{
	struct mca_buf	 key = MCA_BUF_INIT, sign = MCA_BUF_INIT;
	struct mca_buf	 sig = MCA_BUF_INIT, tok = MCA_BUF_INIT;
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	size_t		 ulen;
	int		 rc = MCA_ERR_INTERNAL;

	*out = NULL;
	if (uri == NULL || *uri == '\0') {
		rc = mca_diag(d, MCA_ERR_INVAL, "SAS token: no resource uri");
		goto out;
	}
	if ((ulen = strlen(uri)) > MCA_AZ_URI_MAX) {
		rc = mca_diag(d, MCA_ERR_TOOBIG, "SAS token: the resource uri "
		    "is longer than %d bytes", MCA_AZ_URI_MAX);
		goto out;
	}
	if (has_ctl(uri)) {
		rc = mca_diag(d, MCA_ERR_INVAL, "SAS token: the resource uri "
		    "holds a control character");
		goto out;
	}
	if (policy != NULL && (strlen(policy) > MCA_AZ_URI_MAX ||
	    has_ctl(policy))) {
		rc = mca_diag(d, MCA_ERR_INVAL, "SAS token: the policy name is "
		    "longer than %d bytes or holds a control character",
		    MCA_AZ_URI_MAX);
		goto out;
	}
	if (expiry < 1 || expiry > MCA_AZ_EXPIRY_MAX) {
		rc = mca_diag(d, MCA_ERR_INVAL, "SAS token: expiry %lld is not "
		    "a Unix time from 1 to %lld", expiry, MCA_AZ_EXPIRY_MAX);
		goto out;
	}
	/* The key is never quoted, not even in part. */
	if (key_b64 == NULL ||
	    (rc = mca_b64_decode(key_b64, strlen(key_b64), &key)) != 0) {
		rc = mca_diag(d, rc == MCA_ERR_NOMEM ? rc : MCA_ERR_INVAL,
		    "SAS token: the key is not base64 (the primary or "
		    "secondary key of a shared access policy is)");
		goto out;
	}
	/* "<url-encoded uri>\n<expiry>" */
	if ((rc = pct_encode(&sign, uri, ulen)) != 0 ||
	    (rc = mca_buf_printf(&sign, "\n%lld", expiry)) != 0)
		goto nomem;
	if (HMAC(EVP_sha256(), key.data, (int)key.len, sign.data, sign.len,
	    mac, &maclen) == NULL) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "SAS token: "
		    "HMAC-SHA256 failed");
		goto out;
	}
	if ((rc = mca_b64_encode(mac, maclen, 0, &sig)) != 0 ||
	    (rc = mca_buf_addstr(&tok, SAS_PREFIX "sr=")) != 0 ||
	    (rc = pct_encode(&tok, uri, ulen)) != 0 ||
	    (rc = mca_buf_addstr(&tok, "&sig=")) != 0 ||
	    (rc = pct_encode(&tok, (const char *)sig.data, sig.len)) != 0 ||
	    (rc = mca_buf_printf(&tok, "&se=%lld", expiry)) != 0)
		goto nomem;
	if (policy != NULL && *policy != '\0' &&
	    ((rc = mca_buf_addstr(&tok, "&skn=")) != 0 ||
	    (rc = pct_encode(&tok, policy, strlen(policy))) != 0))
		goto nomem;
	*out = (char *)tok.data;
	mca_buf_init(&tok);
	rc = 0;
	goto out;
nomem:
	rc = mca_diag(d, rc, "SAS token: %s", mca_strerror(rc));
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	mca_buf_free_secret(&key);
	mca_buf_free(&sign);
	mca_buf_free_secret(&sig);
	mca_buf_free_secret(&tok);
	return rc;
}

int
mca_az_sas_expiry(const char *token, long long *expiry, struct mca_diag *d)
{
	const char	*f, *eq, *end;
	long long	 se = 0;
	size_t		 n, nl, fl;
	int		 nf = 0, nsr = 0, nsig = 0, nse = 0, nskn = 0;

	*expiry = 0;
	if (token == NULL || *token == '\0')
		return mca_diag(d, MCA_ERR_INVAL, "static SAS token: empty");
	if ((n = strlen(token)) > SAS_TOKEN_MAX)
		return mca_diag(d, MCA_ERR_INVAL, "static SAS token: longer "
		    "than %d bytes", SAS_TOKEN_MAX);
	if (strncmp(token, SAS_PREFIX, strlen(SAS_PREFIX)) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "static SAS token: does not "
		    "begin with \"" SAS_PREFIX "\"");
	/* name=value&name=value..., no empty field, no space. */
	for (f = token + strlen(SAS_PREFIX); ; f = end + 1) {
		nf++;
		if ((end = strchr(f, '&')) == NULL)
			end = token + n;
		fl = (size_t)(end - f);
		if ((eq = memchr(f, '=', fl)) == NULL || eq == f ||
		    eq + 1 == end)
			return mca_diag(d, MCA_ERR_INVAL, "static SAS token: "
			    "field %d is not name=value", nf);
		if (mca_text_ctl_span(f, fl, 0) < fl ||
		    memchr(f, ' ', fl) != NULL)
			return mca_diag(d, MCA_ERR_INVAL, "static SAS token: "
			    "field %d holds a space or control character", nf);
		nl = (size_t)(eq - f);
		if (nl == 2 && memcmp(f, "sr", 2) == 0)
			nsr++;
		else if (nl == 3 && memcmp(f, "sig", 3) == 0)
			nsig++;
		else if (nl == 2 && memcmp(f, "se", 2) == 0) {
			if (nse++ == 0 && mca_num_parse(eq + 1,
			    (size_t)(end - eq - 1), 0, MCA_AZ_EXPIRY_MAX,
			    &se) != 0)
				return mca_diag(d, MCA_ERR_INVAL, "static SAS "
				    "token: se=%.*s is not a Unix time from 0 "
				    "to %lld", (int)(end - eq - 1 > 24 ? 24 :
				    end - eq - 1), eq + 1, MCA_AZ_EXPIRY_MAX);
		} else if (nl == 3 && memcmp(f, "skn", 3) == 0)
			nskn++;
		else
			/* as the Azure IoT SDKs, which know no others */
			return mca_diag(d, MCA_ERR_INVAL, "static SAS token: "
			    "field %d is not one of sr, sig, se and skn", nf);
		if (*end == '\0')
			break;
	}
	if (nse == 0)
		return mca_diag(d, MCA_ERR_INVAL, "static SAS token: no expiry "
		    "(se=)");
	if (nse > 1 || nsr != 1 || nsig != 1 || nskn > 1)
		return mca_diag(d, MCA_ERR_INVAL, "static SAS token: needs "
		    "sr=, sig= and se= once each, skn= at most once");
	*expiry = se;
	return 0;
}

/* IoT Hub device ids: up to 128 case-sensitive ASCII letters, digits and
 * - . + % _ # * ? ! ( ) , : = @ $ ' (IoT Hub identity registry, "Device
 * identity properties"). */
int
mca_az_devid_ok(const char *id)
{
	size_t	 i;
	char	 c;

	if (id == NULL || *id == '\0')
		return 0;
	for (i = 0; (c = id[i]) != '\0'; i++) {
		if (i >= MCA_AZ_DEVID_MAX - 1)
			return 0;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (strchr("-.+%_#*?!(),:=@$'", c) == NULL)
			return 0;
	}
	return 1;
}

/*
 * Copies v[0..n) to out after judging it as a device id: from names the
 * field in messages. 0, MCA_ERR_POLICY or MCA_ERR_TOOBIG with d.
 */
static int
devid_take(const char *v, size_t n, const char *from, char *out, size_t len,
    struct mca_diag *d)
{
	char	 id[MCA_AZ_DEVID_MAX];

	if (n == 0)
		return mca_diag(d, MCA_ERR_POLICY, "device id: %s is empty",
		    from);
	if (memchr(v, '\0', n) != NULL)
		return mca_diag(d, MCA_ERR_POLICY, "device id: %s holds a NUL",
		    from);
	if (n > MCA_AZ_DEVID_MAX - 1)
		return mca_diag(d, MCA_ERR_POLICY, "device id: %s is %zu "
		    "characters long, over IoT Hub's %d", from, n,
		    MCA_AZ_DEVID_MAX - 1);
	memcpy(id, v, n);
	id[n] = '\0';
	if (!mca_az_devid_ok(id))
		return mca_diag(d, MCA_ERR_POLICY, "device id: %s is not a "
		    "valid IoT Hub device id (ASCII letters, digits and "
		    "-.+%%_#*?!(),:=@$' only)", from);
	if (n + 1 > len)
		return mca_diag(d, MCA_ERR_TOOBIG, "device id: no room for "
		    "%zu characters", n);
	memcpy(out, id, n + 1);
	return 0;
}

/* The subject attribute nid of x as the device id. */
static int
devid_subject(X509 *x, int nid, const char *from, char *out, size_t len,
    struct mca_diag *d)
{
	const X509_NAME		*nm = X509_get_subject_name(x);
	const ASN1_STRING	*s;
	unsigned char		*u = NULL;
	int			 i, n, rc;

	if ((i = X509_NAME_get_index_by_NID(nm, nid, -1)) < 0)
		return mca_diag(d, MCA_ERR_POLICY, "device id: the subject "
		    "has no %s", from);
	if (X509_NAME_get_index_by_NID(nm, nid, i) >= 0)
		return mca_diag(d, MCA_ERR_POLICY, "device id: the subject "
		    "has more than one %s", from);
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i));
	if ((n = ASN1_STRING_to_UTF8(&u, s)) < 0)
		return mca_diag_crypto(d, MCA_ERR_POLICY, "device id: the "
		    "subject's %s cannot be read", from);
	rc = devid_take((const char *)u, (size_t)n, from, out, len, d);
	OPENSSL_free(u);
	return rc;
}

/* The first SubjectAltName of type (GEN_DNS, GEN_URI, GEN_EMAIL). */
static int
devid_san(X509 *x, int type, const char *from, char *out, size_t len,
    struct mca_diag *d)
{
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*g;
	const ASN1_IA5STRING	*s = NULL;
	int			 i, crit = -1, rc;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL && crit == -2)
		return mca_diag(d, MCA_ERR_POLICY, "device id: the certificate "
		    "has more than one subjectAltName extension");
	if (gens == NULL && crit >= 0)
		return mca_diag_crypto(d, MCA_ERR_POLICY, "device id: the "
		    "subjectAltName extension cannot be read");
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == type) {
			s = g->d.ia5;
			break;
		}
	}
	if (s == NULL)
		rc = mca_diag(d, MCA_ERR_POLICY, "device id: the certificate "
		    "has no %s", from);
	else
		rc = devid_take((const char *)ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s), from, out, len, d);
	GENERAL_NAMES_free(gens);
	return rc;
}

int
mca_az_device_id(X509 *x, const char *field, char *out, size_t len,
    struct mca_diag *d)
{
	const char	*sn;
	int		 nid, rc;

	if (len > 0)
		out[0] = '\0';
	if (x == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "device id: no certificate");
	if (field == NULL || *field == '\0' || strcasecmp(field, "CN") == 0)
		rc = devid_subject(x, NID_commonName, "commonName (CN)", out,
		    len, d);
	else if (strcasecmp(field, "san:dns") == 0)
		rc = devid_san(x, GEN_DNS, "dNSName SAN", out, len, d);
	else if (strcasecmp(field, "san:uri") == 0)
		rc = devid_san(x, GEN_URI, "URI SAN", out, len, d);
	else if (strcasecmp(field, "san:email") == 0)
		rc = devid_san(x, GEN_EMAIL, "rfc822Name (email) SAN", out, len,
		    d);
	else if (strncasecmp(field, "subject:", 8) == 0) {
		sn = field + 8;
		if (*sn == '\0' || has_ctl(sn) ||
		    (nid = OBJ_txt2nid(sn)) == NID_undef) {
			ERR_clear_error();
			return mca_diag(d, MCA_ERR_CONFIG, "device id field "
			    "\"%.64s\": \"%.64s\" is not an attribute name "
			    "OpenSSL knows (e.g. subject:serialNumber)", field,
			    sn);
		}
		rc = devid_subject(x, nid, OBJ_nid2sn(nid), out, len, d);
	} else
		return mca_diag(d, MCA_ERR_CONFIG, "device id field \"%.64s\": "
		    "expected CN, subject:<attribute>, san:dns, san:uri or "
		    "san:email", field);
	if (rc != 0 && len > 0)
		out[0] = '\0';
	return rc;
}

/* Where placeholder spelling k stands in s, or NULL. */
static const char *
find_placeholder(const char *s, size_t *k)
{
	const char	*p, *best = NULL;
	size_t		 i;

	for (i = 0; i < NPLACEHOLDERS; i++)
		if ((p = strstr(s, az_placeholders[i])) != NULL &&
		    (best == NULL || p < best)) {
			best = p;
			*k = i;
		}
	return best;
}

/* The parts of an azurehuburl, pointers into it. */
struct url_tmpl {
	const char	*host, *hend;	/* the host, no port */
	const char	*path;		/* after the authority */
	const char	*ph;		/* the placeholder, or NULL */
	size_t		 phlen;
};

/*
 * Judges the template tmpl (see mca_az_device_url()) into *t. 0 or
 * MCA_ERR_CONFIG with d.
 */
static int
url_template(const char *tmpl, struct url_tmpl *t, struct mca_diag *d)
{
	const char	*auth, *aend, *c;
	long long	 port;
	size_t		 k = 0;

	memset(t, 0, sizeof(*t));
	if (tmpl == NULL || *tmpl == '\0')
		return mca_diag(d, MCA_ERR_CONFIG, "azurehuburl: not set");
	if (strlen(tmpl) > MCA_AZ_URI_MAX || has_ctl(tmpl) ||
	    strchr(tmpl, ' ') != NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "azurehuburl: longer than "
		    "%d bytes, or holds a space or control character",
		    MCA_AZ_URI_MAX);
	/* RFC 3986 3.1: the scheme is case-insensitive. */
	if (strncasecmp(tmpl, "https://", 8) != 0)
		return mca_diag(d, MCA_ERR_CONFIG, "azurehuburl \"%.128s\": "
		    "must begin with https:// (the hub is only reached over "
		    "TLS)", tmpl);
	if (strchr(tmpl, '#') != NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "azurehuburl \"%.128s\": a "
		    "fragment (#) has no place in it", tmpl);
	auth = tmpl + 8;
	aend = auth + strcspn(auth, "/?");
	/* RFC 3986 3.2: userinfo "@" host ":" port */
	if (memchr(auth, '@', (size_t)(aend - auth)) != NULL ||
	    memchr(auth, '{', (size_t)(aend - auth)) != NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "azurehuburl \"%.128s\": "
		    "the host part may hold neither user information nor a "
		    "placeholder", tmpl);
	/* The host without the port; an IPv6 literal keeps its brackets. */
	if (*auth != '[')
		c = memchr(auth, ':', (size_t)(aend - auth));
	else if ((c = memchr(auth, ']', (size_t)(aend - auth))) != NULL)
		c++;
	else
		c = auth;
	if (c == NULL)
		c = aend;
	if (c == auth || (c < aend && *c != ':'))
		return mca_diag(d, MCA_ERR_CONFIG, "azurehuburl \"%.128s\": no "
		    "host name", tmpl);
	if (c < aend && mca_num_parse(c + 1, (size_t)(aend - c - 1), 1,
	    65535, &port) != 0)
		return mca_diag(d, MCA_ERR_CONFIG, "azurehuburl \"%.128s\": "
		    "the port is not a number from 1 to 65535", tmpl);
	t->host = auth;
	t->hend = c;
	t->path = aend;
	if ((t->ph = find_placeholder(aend, &k)) != NULL) {
		t->phlen = strlen(az_placeholders[k]);
		if (find_placeholder(t->ph + t->phlen, &k) != NULL)
			return mca_diag(d, MCA_ERR_CONFIG, "azurehuburl "
			    "\"%.128s\": more than one placeholder", tmpl);
	}
	/* A brace left over is a placeholder misspelled. */
	for (c = aend; *c != '\0'; c++) {
		if (c == t->ph)
			c += t->phlen - 1;
		else if (*c == '{' || *c == '}')
			return mca_diag(d, MCA_ERR_CONFIG, "azurehuburl "
			    "\"%.128s\": unknown placeholder at \"%.24s\" "
			    "(write {deviceId})", tmpl, c);
	}
	return 0;
}

int
mca_az_device_url(const char *tmpl, const char *devid, char **url,
    char **sr, struct mca_diag *d)
{
	struct mca_buf	 u = MCA_BUF_INIT, h = MCA_BUF_INIT;
	struct url_tmpl	 t;
	const char	*q;
	size_t		 n, i;
	char		 shown[MCA_AZ_DEVID_MAX];
	int		 rc = MCA_ERR_INTERNAL;

	*url = NULL;
	if (sr != NULL)
		*sr = NULL;
	if ((rc = url_template(tmpl, &t, d)) != 0)
		goto out;
	if (!mca_az_devid_ok(devid)) {
		/* Shown as far as it fits, all but printable ASCII as '?'. */
		(void)snprintf(shown, sizeof(shown), "%s",
		    devid != NULL ? devid : "");
		for (i = 0; shown[i] != '\0'; i++)
			if (shown[i] < 0x20 || shown[i] > 0x7e)
				shown[i] = '?';
		rc = mca_diag(d, MCA_ERR_POLICY, "device id \"%s\": not a "
		    "valid IoT Hub device id (up to %d ASCII letters, digits "
		    "and -.+%%_#*?!(),:=@$')", shown, MCA_AZ_DEVID_MAX - 1);
		goto out;
	}
	if (t.ph != NULL) {
		if ((rc = mca_buf_add(&u, tmpl, (size_t)(t.ph - tmpl))) != 0 ||
		    (rc = pct_encode(&u, devid, strlen(devid))) != 0 ||
		    (rc = mca_buf_addstr(&u, t.ph + t.phlen)) != 0)
			goto nomem;
	} else {
		/* https://host[:port][/prefix][?query] */
		q = t.path + strcspn(t.path, "?");
		n = (size_t)(q - tmpl);
		while (n > (size_t)(t.path - tmpl) && tmpl[n - 1] == '/')
			n--;
		if ((rc = mca_buf_add(&u, tmpl, n)) != 0 ||
		    (rc = mca_buf_addstr(&u, "/devices/")) != 0 ||
		    (rc = pct_encode(&u, devid, strlen(devid))) != 0)
			goto nomem;
		if (*q == '\0')
			rc = mca_buf_addstr(&u, "?api-version="
			    MCA_AZ_API_VERSION);
		else
			rc = mca_buf_addstr(&u, q);
		if (rc != 0)
			goto nomem;
	}
	if (sr != NULL) {
		if ((rc = mca_buf_add(&h, t.host,
		    (size_t)(t.hend - t.host))) != 0)
			goto nomem;
		for (i = 0; i < h.len; i++)
			if (h.data[i] >= 'A' && h.data[i] <= 'Z')
				h.data[i] = (unsigned char)(h.data[i] -
				    'A' + 'a');
		*sr = (char *)h.data;
		mca_buf_init(&h);
	}
	*url = (char *)u.data;
	mca_buf_init(&u);
	rc = 0;
	goto out;
nomem:
	rc = mca_diag(d, rc, "device URL: %s", mca_strerror(rc));
out:
	mca_buf_free(&u);
	mca_buf_free(&h);
	return rc;
}
