/*
 * The mock IoT Hub. See hubmock.h. What it checks follows Microsoft's
 * IoT Hub service REST reference (Devices - Get Identity, Create Or
 * Update Identity; the common error codes page for the statuses and
 * "ErrorCode:" messages) and the IoT Hub security guide for the SAS
 * token. Written on its own: the token check does not use lib/.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "hubmock.h"
#include "testutil.h"
#include "tlsserv.h"

#define HM_DEVID_MAX	128

/* One request, parsed: what tlsserv.c split, and the device id. */
struct hm_req {
	struct ts_req	 t;
	char		 id[HM_DEVID_MAX + 1];	/* decoded device id */
};

/* One answer. */
struct hm_resp {
	long		 status;
	char		 retry_after[128];
	struct mca_buf	 body;
};

static const char *const trick_names[HM_TRICK_MAX] = {
	"bump", "create_behind", "big"
};

/* ---------------------------------------------------------------- state */

static char *
hm_path(const struct hubmock *m, const char *name)
{
	static char	 p[4][1024];
	static int	 i;

	i = (i + 1) % 4;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", m->dir, name);
	return p[i];
}

/* The state ({} when there is none yet); NULL if unreadable. */
static struct json_object *
hm_load(const struct hubmock *m)
{
	struct mca_buf		 b = MCA_BUF_INIT;
	struct json_object	*o;

	if (tu_read(hm_path(m, "hub.json"), &b) != 0) {
		mca_buf_free(&b);
		return json_object_new_object();
	}
	o = json_tokener_parse(mca_buf_str(&b));
	mca_buf_free(&b);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* Writes the state (temp file, rename); 0 or -1. */
static int
hm_save(const struct hubmock *m, struct json_object *st)
{
	const char	*s;

	s = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY);
	if (tu_write(hm_path(m, "hub.json.tmp"), s, strlen(s)) != 0)
		return -1;
	return rename(hm_path(m, "hub.json.tmp"), hm_path(m, "hub.json"));
}

/* st.key as an object, made when absent. */
static struct json_object *
hm_obj(struct json_object *st, const char *key)
{
	struct json_object	*o;

	if (json_object_object_get_ex(st, key, &o) &&
	    json_object_is_type(o, json_type_object))
		return o;
	o = json_object_new_object();
	json_object_object_add(st, key, o);
	return o;
}

/* st.key as an array, made when absent. */
static struct json_object *
hm_arr(struct json_object *st, const char *key)
{
	struct json_object	*o;

	if (json_object_object_get_ex(st, key, &o) &&
	    json_object_is_type(o, json_type_array))
		return o;
	o = json_object_new_array();
	json_object_object_add(st, key, o);
	return o;
}

/* A new etag, as IoT Hub's look: base64 of a counter. */
static void
hm_new_etag(struct json_object *st, struct json_object *dev)
{
	struct json_object	*seq;
	char			 num[32], b64[64];
	int64_t			 n = 1;
	int			 len;

	if (json_object_object_get_ex(st, "seq", &seq))
		n = json_object_get_int64(seq) + 1;
	json_object_object_add(st, "seq", json_object_new_int64(n));
	len = snprintf(num, sizeof(num), "%lld", (long long)n);
	(void)EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)num, len);
	json_object_object_add(dev, "etag", json_object_new_string(b64));
}

/* The trick t's remaining count is above 0: takes one. */
static int
hm_take_trick(struct json_object *st, enum hubmock_trick t)
{
	struct json_object	*tr = hm_obj(st, "tricks"), *c;
	int			 n;

	if (!json_object_object_get_ex(tr, trick_names[t], &c) ||
	    (n = json_object_get_int(c)) <= 0)
		return 0;
	json_object_object_add(tr, trick_names[t], json_object_new_int(n - 1));
	return 1;
}

/* ------------------------------------------------------------- answers */

static void	hm_error(struct hm_resp *, long, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));

/* IoT Hub's error shape: {"Message": "ErrorCode:<code>;<text>", ...} */
static void
hm_error(struct hm_resp *w, long status, const char *code,
    const char *fmt, ...)
{
	struct json_object	*o = json_object_new_object();
	char			 text[512], msg[700];
	va_list			 ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	(void)snprintf(msg, sizeof(msg), "ErrorCode:%s;%s", code, text);
	json_object_object_add(o, "Message", json_object_new_string(msg));
	json_object_object_add(o, "ExceptionMessage", json_object_new_string(
	    "Tracking ID:0000-G:0-TimeStamp:01/01/2024 00:00:00"));
	w->status = status;
	mca_buf_reset(&w->body);
	(void)mca_buf_addstr(&w->body, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void
hm_json(struct hm_resp *w, long status, struct json_object *o)
{
	w->status = status;
	mca_buf_reset(&w->body);
	(void)mca_buf_addstr(&w->body, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
}

/* ------------------------------------------------------ request checks */

static int
hm_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Percent-decodes s[0..n) into out (cap bytes with NUL); strict: only
 * RFC 3986 2.3 unreserved bytes raw, every other as %XX with uppercase
 * hex (2.1). 0 or -1.
 */
static int
hm_pct_decode(const char *s, size_t n, char *out, size_t cap, int upper)
{
	size_t	 i, o = 0;
	int	 hi, lo;

	for (i = 0; i < n; i++) {
		if (o + 1 >= cap)
			return -1;
		if (s[i] == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = hm_hex(s[i + 1])) < 0 ||
			    (lo = hm_hex(s[i + 2])) < 0)
				return -1;
			if (upper && ((s[i + 1] >= 'a' && s[i + 1] <= 'f') ||
			    (s[i + 2] >= 'a' && s[i + 2] <= 'f')))
				return -1;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '.' || s[i] == '_' || s[i] == '~')
			out[o++] = s[i];
		else
			return -1;
	}
	out[o] = '\0';
	return 0;
}

/* A device id IoT Hub takes: 1-128 of letters, digits, -.+%_#*?!(),:=@$' */
static int
hm_devid_ok(const char *id)
{
	size_t	 i, n = strlen(id);

	if (n == 0 || n > HM_DEVID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= 'a' &&
		    id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') ||
		    strchr("-.+%_#*?!(),:=@$'", id[i]) != NULL))
			return 0;
	return 1;
}

/* The target: /devices/<id>?api-version=2021-04-12. 0 or -1 (w set). */
static int
hm_target(struct hm_req *r, struct hm_resp *w)
{
	const char	*p = r->t.target, *q;
	static const char suffix[] = "?api-version=" HM_API_VERSION;

	if (strncmp(p, "/devices/", 9) != 0 ||
	    (q = strchr(p + 9, '?')) == NULL) {
		hm_error(w, 404, "InvalidOperation", "no such API: %.200s", p);
		return -1;
	}
	if (strcmp(q, suffix) != 0) {
		hm_error(w, 400, "InvalidProtocolVersion", "the query must be "
		    "exactly %s", suffix);
		return -1;
	}
	if (hm_pct_decode(p + 9, (size_t)(q - p - 9), r->id, sizeof(r->id),
	    1) != 0 || !hm_devid_ok(r->id)) {
		hm_error(w, 400, "ArgumentInvalid", "the device id in the path "
		    "is not percent-encoded as RFC 3986 says, or not a valid "
		    "device id");
		return -1;
	}
	return 0;
}

/*
 * The SAS token (IoT Hub security guide): "SharedAccessSignature " then
 * sr, sig, se and skn, each once, joined by '&'. 0 or -1 (w set: 401).
 */
static int
hm_sas(const struct hubmock *m, const struct hm_req *r, struct hm_resp *w)
{
	char		 hdr[2048], *p, *kv, *save = NULL;
	char		 sr_raw[512] = "", sr[512], sig[256], se[32] = "";
	char		 skn[256] = "", want[128], tosign[600];
	unsigned char	 key[256], mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	size_t		 kl, n;
	int		 have_sig = 0, len, pad = 0;
	long long	 exp;
	char		*end;

	if (ts_header(&r->t, "Authorization", hdr, sizeof(hdr)) == NULL) {
		hm_error(w, 401, "IotHubUnauthorizedAccess", "no Authorization "
		    "header (or two)");
		return -1;
	}
	if (strncmp(hdr, "SharedAccessSignature ", 22) != 0)
		goto bad;
	for (kv = strtok_r(hdr + 22, "&", &save); kv != NULL;
	    kv = strtok_r(NULL, "&", &save)) {
		if ((p = strchr(kv, '=')) == NULL)
			goto bad;
		*p++ = '\0';
		if (strcmp(kv, "sr") == 0 && sr_raw[0] == '\0' &&
		    strlen(p) < sizeof(sr_raw))
			(void)snprintf(sr_raw, sizeof(sr_raw), "%s", p);
		else if (strcmp(kv, "sig") == 0 && !have_sig &&
		    hm_pct_decode(p, strlen(p), sig, sizeof(sig), 0) == 0)
			have_sig = 1;
		else if (strcmp(kv, "se") == 0 && se[0] == '\0' &&
		    strlen(p) < sizeof(se) && *p != '\0')
			(void)snprintf(se, sizeof(se), "%s", p);
		else if (strcmp(kv, "skn") == 0 && skn[0] == '\0' &&
		    strlen(p) < sizeof(skn) && *p != '\0')
			(void)snprintf(skn, sizeof(skn), "%s", p);
		else
			goto bad;
	}
	if (sr_raw[0] == '\0' || !have_sig || se[0] == '\0' ||
	    hm_pct_decode(sr_raw, strlen(sr_raw), sr, sizeof(sr), 0) != 0)
		goto bad;
	/* The hub's host name, as the Azure CLI signs service tokens. */
	if (strcmp(sr, m->host) != 0) {
		hm_error(w, 401, "IotHubUnauthorizedAccess", "the token is for "
		    "%.200s, not this hub", sr);
		return -1;
	}
	if (m->policy != NULL ? strcmp(skn, m->policy) != 0 : skn[0] != '\0') {
		hm_error(w, 401, "IotHubUnauthorizedAccess", "Authorization "
		    "rule '%.100s' is unknown", skn);
		return -1;
	}
	exp = strtoll(se, &end, 10);
	if (*end != '\0' || se[0] < '0' || se[0] > '9')
		goto bad;
	if (exp <= (long long)time(NULL)) {
		hm_error(w, 401, "IotHubUnauthorizedAccess", "the token has "
		    "expired");
		return -1;
	}
	/* HMAC-SHA256, keyed with the decoded key, over "<sr>\n<se>". */
	kl = strlen(m->key_b64);
	if (kl == 0 || kl % 4 != 0 || kl / 4 * 3 > sizeof(key))
		goto bad;
	if ((len = EVP_DecodeBlock(key, (const unsigned char *)m->key_b64,
	    (int)kl)) < 0)
		goto bad;
	if (m->key_b64[kl - 1] == '=')
		pad++;
	if (m->key_b64[kl - 2] == '=')
		pad++;
	n = (size_t)snprintf(tosign, sizeof(tosign), "%s\n%s", sr_raw, se);
	if (HMAC(EVP_sha256(), key, len - pad, (unsigned char *)tosign, n,
	    mac, &maclen) == NULL)
		goto bad;
	OPENSSL_cleanse(key, sizeof(key));
	(void)EVP_EncodeBlock((unsigned char *)want, mac, (int)maclen);
	if (strcmp(want, sig) != 0) {
		hm_error(w, 401, "IotHubUnauthorizedAccess", "the signature "
		    "does not verify");
		return -1;
	}
	return 0;
bad:
	OPENSSL_cleanse(key, sizeof(key));
	hm_error(w, 401, "IotHubUnauthorizedAccess", "malformed "
	    "SharedAccessSignature");
	return -1;
}

/* A thumbprint: 40 or 64 hex digits. */
static int
hm_thumb_ok(struct json_object *v)
{
	const char	*s;
	size_t		 i, n;

	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	n = strlen(s);
	if (n != 40 && n != 64)
		return 0;
	for (i = 0; i < n; i++)
		if (hm_hex(s[i]) < 0)
			return 0;
	return 1;
}

/*
 * The Device of a PUT: only a Device's keys, deviceId the path's, a
 * known status, an AuthenticationMechanism that holds together. NULL and
 * w set when not.
 */
static struct json_object *
hm_device_body(const struct hm_req *r, struct hm_resp *w)
{
	static const char *const keys[] = { "deviceId", "generationId",
	    "etag", "connectionState", "status", "statusReason",
	    "connectionStateUpdatedTime", "statusUpdatedTime",
	    "lastActivityTime", "cloudToDeviceMessageCount",
	    "authentication", "capabilities", "deviceScope", "parentScopes",
	    NULL };
	struct json_tokener	*tok;
	struct json_object	*o, *v, *a, *t, *xt, *sk, *p, *s;
	char			 ct[256];
	const char		*type;
	size_t			 i;

	if (ts_header(&r->t, "Content-Type", ct, sizeof(ct)) == NULL ||
	    strcmp(ct, "application/json") != 0) {
		hm_error(w, 400, "InvalidContentEncodingOrType", "Content-Type "
		    "must be application/json");
		return NULL;
	}
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, r->t.body, (int)r->t.bodylen);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != r->t.bodylen ||
	    !json_object_is_type(o, json_type_object)) {
		json_tokener_free(tok);
		json_object_put(o);
		hm_error(w, 400, "ArgumentInvalid", "the body is not a JSON "
		    "object");
		return NULL;
	}
	json_tokener_free(tok);
	json_object_object_foreach(o, k, val) {
		(void)val;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (keys[i] == NULL) {
			hm_error(w, 400, "ArgumentInvalid", "a Device has no "
			    "%.100s", k);
			goto fail;
		}
	}
	if (!json_object_object_get_ex(o, "deviceId", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), r->id) != 0) {
		hm_error(w, 400, "ArgumentInvalid", "deviceId is not the "
		    "path's");
		goto fail;
	}
	if (json_object_object_get_ex(o, "status", &v) && (v == NULL ||
	    !json_object_is_type(v, json_type_string) ||
	    (strcmp(json_object_get_string(v), "enabled") != 0 &&
	    strcmp(json_object_get_string(v), "disabled") != 0))) {
		hm_error(w, 400, "ArgumentInvalid", "status is enabled or "
		    "disabled");
		goto fail;
	}
	if (!json_object_object_get_ex(o, "authentication", &a) ||
	    !json_object_is_type(a, json_type_object) ||
	    !json_object_object_get_ex(a, "type", &t) ||
	    !json_object_is_type(t, json_type_string)) {
		hm_error(w, 400, "ArgumentInvalid", "authentication.type "
		    "missing");
		goto fail;
	}
	json_object_object_foreach(a, ak, av) {
		(void)av;
		if (strcmp(ak, "type") != 0 &&
		    strcmp(ak, "symmetricKey") != 0 &&
		    strcmp(ak, "x509Thumbprint") != 0) {
			hm_error(w, 400, "ArgumentInvalid", "an "
			    "AuthenticationMechanism has no %.100s", ak);
			goto fail;
		}
	}
	type = json_object_get_string(t);
	if (strcmp(type, "sas") != 0 && strcmp(type, "selfSigned") != 0 &&
	    strcmp(type, "certificateAuthority") != 0 &&
	    strcmp(type, "none") != 0) {
		hm_error(w, 400, "ArgumentInvalid", "authentication.type "
		    "%.64s unknown", type);
		goto fail;
	}
	if (strcmp(type, "selfSigned") == 0) {
		if (!json_object_object_get_ex(a, "x509Thumbprint", &xt) ||
		    !json_object_is_type(xt, json_type_object) ||
		    !json_object_object_get_ex(xt, "primaryThumbprint", &p) ||
		    !hm_thumb_ok(p)) {
			hm_error(w, 400, "ArgumentInvalid", "a selfSigned "
			    "device needs a primary thumbprint");
			goto fail;
		}
		json_object_object_foreach(xt, xk, xv) {
			(void)xv;
			if (strcmp(xk, "primaryThumbprint") != 0 &&
			    strcmp(xk, "secondaryThumbprint") != 0) {
				hm_error(w, 400, "ArgumentInvalid", "an "
				    "X509Thumbprint has no %.100s", xk);
				goto fail;
			}
		}
		if (json_object_object_get_ex(xt, "secondaryThumbprint", &s) &&
		    s != NULL && !hm_thumb_ok(s)) {
			hm_error(w, 400, "ArgumentInvalid", "the secondary "
			    "thumbprint is not 40 or 64 hex digits");
			goto fail;
		}
		/* No keys with thumbprints. */
		if (json_object_object_get_ex(a, "symmetricKey", &sk) &&
		    sk != NULL) {
			hm_error(w, 400, "ArgumentInvalid", "a selfSigned "
			    "device has no symmetric keys");
			goto fail;
		}
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/* The stored identity made from a PUT's Device: what the hub adds. */
static struct json_object *
hm_store(struct json_object *st, struct json_object *body,
    struct json_object *old)
{
	struct json_object	*dev = body, *a, *xt, *v;

	json_object_object_del(dev, "etag");
	if (old != NULL && json_object_object_get_ex(old, "generationId", &v))
		json_object_object_add(dev, "generationId",
		    json_object_get(v));
	else
		json_object_object_add(dev, "generationId",
		    json_object_new_string("638000000000000000"));
	if (!json_object_object_get_ex(dev, "status", &v))
		json_object_object_add(dev, "status",
		    json_object_new_string("enabled"));
	json_object_object_add(dev, "connectionState",
	    json_object_new_string("Disconnected"));
	json_object_object_get_ex(dev, "authentication", &a);
	if (!json_object_object_get_ex(a, "x509Thumbprint", &xt) ||
	    xt == NULL) {
		xt = json_object_new_object();
		json_object_object_add(a, "x509Thumbprint", xt);
	}
	if (!json_object_object_get_ex(xt, "primaryThumbprint", &v))
		json_object_object_add(xt, "primaryThumbprint", NULL);
	if (!json_object_object_get_ex(xt, "secondaryThumbprint", &v))
		json_object_object_add(xt, "secondaryThumbprint", NULL);
	if (!json_object_object_get_ex(a, "symmetricKey", &v) || v == NULL) {
		v = json_object_new_object();
		json_object_object_add(v, "primaryKey", NULL);
		json_object_object_add(v, "secondaryKey", NULL);
		json_object_object_add(a, "symmetricKey", v);
	}
	hm_new_etag(st, dev);
	return dev;
}

/* The scripted fault for method, if one is due: taken and answered. */
static int
hm_fault(struct json_object *st, const struct hm_req *r, struct hm_resp *w)
{
	struct json_object	*fa = hm_arr(st, "faults"), *f, *v;
	size_t			 i;
	int			 n;

	for (i = 0; i < json_object_array_length(fa); i++) {
		f = json_object_array_get_idx(fa, i);
		if (!json_object_object_get_ex(f, "count", &v) ||
		    (n = json_object_get_int(v)) <= 0)
			continue;
		if (json_object_object_get_ex(f, "method", &v) && v != NULL &&
		    strcmp(json_object_get_string(v), r->t.method) != 0)
			continue;
		json_object_object_add(f, "count", json_object_new_int(n - 1));
		json_object_object_get_ex(f, "status", &v);
		hm_error(w, json_object_get_int(v), "Scripted", "a fault the "
		    "test asked for");
		if (json_object_object_get_ex(f, "retry_after", &v) &&
		    v != NULL)
			(void)snprintf(w->retry_after, sizeof(w->retry_after),
			    "%s", json_object_get_string(v));
		return 1;
	}
	return 0;
}

static void
hm_get(const struct hubmock *m, struct json_object *st, struct hm_req *r,
    struct hm_resp *w)
{
	struct json_object	*devs = hm_obj(st, "devices"), *dev, *o;
	size_t			 pad;

	(void)m;
	if (!json_object_object_get_ex(devs, r->id, &dev)) {
		hm_error(w, 404, "DeviceNotFound", "Device %s not registered",
		    r->id);
		if (hm_take_trick(st, HM_CREATE_BEHIND)) {
			/* Someone else registers it, with their thumbprint. */
			o = json_tokener_parse("{\"authentication\": {\"type\":"
			    " \"selfSigned\", \"x509Thumbprint\": "
			    "{\"primaryThumbprint\": "
			    "\"0000000000000000000000000000000000000BEE\"}}}");
			json_object_object_add(o, "deviceId",
			    json_object_new_string(r->id));
			json_object_object_add(devs, r->id, hm_store(st, o,
			    NULL));
		}
		return;
	}
	hm_json(w, 200, dev);
	if (hm_take_trick(st, HM_BIG)) {
		/* Valid JSON, but over 64 KiB: spaces before the brace. */
		mca_buf_reset(&w->body);
		for (pad = 0; pad < 70 * 1024; pad++)
			(void)mca_buf_addc(&w->body, ' ');
		(void)mca_buf_addstr(&w->body, json_object_to_json_string_ext(
		    dev, JSON_C_TO_STRING_PLAIN));
	}
	if (hm_take_trick(st, HM_BUMP)) {
		/* Someone else changes the device meanwhile. */
		json_object_object_add(dev, "statusReason",
		    json_object_new_string("changed by someone else"));
		hm_new_etag(st, dev);
	}
}

static void
hm_put(const struct hubmock *m, struct json_object *st, struct hm_req *r,
    struct hm_resp *w)
{
	struct json_object	*devs = hm_obj(st, "devices"), *dev = NULL;
	struct json_object	*body, *etag = NULL, *n;
	struct json_object	*puts = hm_obj(st, "puts");
	char			 im[256], want[256];
	int			 exists;

	(void)m;
	if ((body = hm_device_body(r, w)) == NULL)
		return;
	exists = json_object_object_get_ex(devs, r->id, &dev);
	if (ts_header(&r->t, "If-Match", im, sizeof(im)) == NULL) {
		if (exists) {
			hm_error(w, 409, "DeviceAlreadyExists", "A device with "
			    "ID '%s' is already registered.", r->id);
			json_object_put(body);
			return;
		}
	} else {
		/* RFC 7232 3.1: an entity-tag is quoted. */
		if (im[0] != '"' || strlen(im) < 3 ||
		    im[strlen(im) - 1] != '"') {
			hm_error(w, 400, "ArgumentInvalid", "If-Match is not a "
			    "quoted entity-tag");
			json_object_put(body);
			return;
		}
		/* RFC 9110 13.1.1: no current representation: false. */
		json_object_object_get_ex(dev, "etag", &etag);
		(void)snprintf(want, sizeof(want), "\"%s\"", exists ?
		    json_object_get_string(etag) : "");
		if (!exists || strcmp(im, want) != 0) {
			hm_error(w, 412, "PreconditionFailed", "The etag in "
			    "the request does not match the etag of the "
			    "existing resource, as per RFC7232.");
			json_object_put(body);
			return;
		}
	}
	dev = hm_store(st, body, exists ? dev : NULL);
	json_object_object_add(devs, r->id, dev);
	n = NULL;
	json_object_object_get_ex(puts, r->id, &n);
	json_object_object_add(puts, r->id, json_object_new_int(
	    (n != NULL ? json_object_get_int(n) : 0) + 1));
	hm_json(w, 200, dev);
}

/* ts_server's serve(): one request, one answer. */
static int
hm_serve(void *arg, SSL *ssl, int fd)
{
	static char		 buf[TS_REQ_MAX];
	const struct hubmock	*m = arg;
	struct hm_req		 r;
	struct hm_resp		 w;
	struct json_object	*st = NULL;
	char			 extra[256];
	size_t			 off;
	long			 n;
	FILE			*f;

	(void)fd;
	memset(&w, 0, sizeof(w));
	mca_buf_init(&w.body);
	memset(&r, 0, sizeof(r));
	if ((n = ts_read_request(ssl, buf, sizeof(buf), &off)) < 0)
		return 0;
	if (ts_parse(buf, (size_t)n, off, &r.t) != 0)
		hm_error(&w, 400, "BadRequest", "malformed request");
	else if ((st = hm_load(m)) == NULL)
		hm_error(&w, 500, "ServerError", "the mock's state is "
		    "unreadable");
	else if (hm_target(&r, &w) != 0)
		;
	else if (strcmp(r.t.method, "GET") != 0 &&
	    strcmp(r.t.method, "PUT") != 0)
		hm_error(&w, 405, "InvalidOperation", "GET or PUT");
	else if (strcmp(r.t.method, "GET") == 0 && r.t.bodylen != 0)
		hm_error(&w, 400, "ArgumentInvalid", "a GET has no body");
	else if (hm_sas(m, &r, &w) != 0)
		;	/* 401: the faults wait for a good token */
	else if (hm_fault(st, &r, &w))
		;
	else if (strcmp(r.t.method, "GET") == 0)
		hm_get(m, st, &r, &w);
	else
		hm_put(m, st, &r, &w);
	/* The state is written before the answer leaves. */
	if (st != NULL && hm_save(m, st) != 0)
		hm_error(&w, 500, "ServerError", "cannot save the state");
	json_object_put(st);
	if ((f = fopen(hm_path(m, "hub.log"), "a")) != NULL) {
		fprintf(f, "%s %s %ld\n", r.t.method != NULL ? r.t.method :
		    "?", r.id[0] != '\0' ? r.id : "?", w.status);
		fclose(f);
	}
	extra[0] = '\0';
	if (w.retry_after[0] != '\0')
		(void)snprintf(extra, sizeof(extra), "Retry-After: %s\r\n",
		    w.retry_after);
	(void)ts_respond_with(ssl, (int)w.status, "application/json; "
	    "charset=utf-8", extra, w.body.data, w.body.len);
	mca_buf_free(&w.body);
	return 0;
}

/*
 * On a free port the first time, on the same one after a stop: m->port
 * is ts_server's port in and out.
 */
void
hubmock_start(struct hubmock *m)
{
	struct ts_server	 t;

	memset(&t, 0, sizeof(t));
	t.pki = m->pki;
	t.serve = hm_serve;
	t.arg = m;
	t.port = m->port;
	ts_fork(&t);
	m->pid = t.pid;
	m->port = t.port;
}

void
hubmock_stop(struct hubmock *m)
{
	if (m != NULL)
		ts_reap(&m->pid);
}

/* ------------------------------------------------ the parent's scripts */

void
hubmock_fault(struct hubmock *m, const char *method, long status, int count,
    const char *retry_after)
{
	struct json_object	*st, *f;

	ck_assert_ptr_nonnull(st = hm_load(m));
	f = json_object_new_object();
	json_object_object_add(f, "method", method != NULL ?
	    json_object_new_string(method) : NULL);
	json_object_object_add(f, "status", json_object_new_int((int)status));
	json_object_object_add(f, "count", json_object_new_int(count));
	json_object_object_add(f, "retry_after", retry_after != NULL ?
	    json_object_new_string(retry_after) : NULL);
	json_object_array_add(hm_arr(st, "faults"), f);
	ck_assert_int_eq(hm_save(m, st), 0);
	json_object_put(st);
}

void
hubmock_trick(struct hubmock *m, enum hubmock_trick t, int count)
{
	struct json_object	*st;

	ck_assert_ptr_nonnull(st = hm_load(m));
	json_object_object_add(hm_obj(st, "tricks"), trick_names[t],
	    json_object_new_int(count));
	ck_assert_int_eq(hm_save(m, st), 0);
	json_object_put(st);
}

void
hubmock_seed(struct hubmock *m, const char *json)
{
	struct json_object	*st, *o, *id;

	ck_assert_ptr_nonnull(st = hm_load(m));
	ck_assert_ptr_nonnull(o = json_tokener_parse(json));
	ck_assert(json_object_object_get_ex(o, "deviceId", &id));
	json_object_object_add(hm_obj(st, "devices"),
	    json_object_get_string(id), hm_store(st, o, NULL));
	ck_assert_int_eq(hm_save(m, st), 0);
	json_object_put(st);
}

/* The device id's identity in st, or NULL. */
static struct json_object *
hm_dev(struct json_object *st, const char *id)
{
	struct json_object	*dev;

	if (!json_object_object_get_ex(hm_obj(st, "devices"), id, &dev))
		return NULL;
	return dev;
}

void
hubmock_device(struct hubmock *m, const char *id, struct mca_buf *out)
{
	struct json_object	*st, *dev, *a = NULL, *xt = NULL, *t = NULL;
	struct json_object	*p = NULL, *s = NULL, *e = NULL;

	mca_buf_reset(out);
	ck_assert_ptr_nonnull(st = hm_load(m));
	if ((dev = hm_dev(st, id)) != NULL) {
		json_object_object_get_ex(dev, "authentication", &a);
		json_object_object_get_ex(a, "type", &t);
		json_object_object_get_ex(a, "x509Thumbprint", &xt);
		json_object_object_get_ex(xt, "primaryThumbprint", &p);
		json_object_object_get_ex(xt, "secondaryThumbprint", &s);
		json_object_object_get_ex(dev, "etag", &e);
		(void)mca_buf_printf(out, "%s %s %s %s",
		    t != NULL ? json_object_get_string(t) : "-",
		    p != NULL ? json_object_get_string(p) : "-",
		    s != NULL ? json_object_get_string(s) : "-",
		    e != NULL ? json_object_get_string(e) : "-");
	}
	json_object_put(st);
}

void
hubmock_field(struct hubmock *m, const char *id, const char *key,
    struct mca_buf *out)
{
	struct json_object	*st, *dev, *v;

	mca_buf_reset(out);
	ck_assert_ptr_nonnull(st = hm_load(m));
	if ((dev = hm_dev(st, id)) != NULL &&
	    json_object_object_get_ex(dev, key, &v))
		(void)mca_buf_addstr(out, json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
	json_object_put(st);
}

int
hubmock_puts(struct hubmock *m, const char *id)
{
	struct json_object	*st, *n;
	int			 r = 0;

	ck_assert_ptr_nonnull(st = hm_load(m));
	if (json_object_object_get_ex(hm_obj(st, "puts"), id, &n))
		r = json_object_get_int(n);
	json_object_put(st);
	return r;
}

void
hubmock_log(struct hubmock *m, struct mca_buf *out)
{
	(void)tu_read(hm_path(m, "hub.log"), out);
}
