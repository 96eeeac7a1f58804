/*
 * The AppViewX discovery upload. See avxdisc.h for the call and its
 * payload, and microca.json(5), "AppViewX discovery upload", for what the
 * vendor guide leaves open and how microca fills it in.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apiconfig.h"
#include "avx.h"	/* mca_avx_token(), MCA_AVX_HOST_MAX, _TOKEN_MAX */
#include "avxdisc.h"
#include "avxjson.h"
#include "b64.h"
#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "httpc.h"
#include "mtls.h"
#include "text.h"

#define DISC_URL_MAX	768
#define DISC_GWKEY_MAX	65	/* 64 bytes and the NUL, as lib/avx.c */
#define DISC_CERT_JSON	160	/* a certificate's JSON besides its data */

/*
 * The length of the valid UTF-8 sequence at s[0..len) (RFC 3629 4: no
 * overlong form, no surrogate, nothing past U+10FFFF), or 0.
 */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	unsigned	 cp;
	size_t		 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	cp = s[0] & (0x7fu >> n);	/* the lead byte's payload bits */
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* 1 if s is 1 to max - 1 bytes of UTF-8 without a control character. */
static int
name_ok(const char *s, size_t max)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len, i, k;

	if (s == NULL || (len = strlen(s)) == 0 || len >= max ||
	    mca_text_ctl_span(s, len, 0) != len)
		return 0;
	for (i = 0; i < len; i += k)
		if ((k = utf8_seq(u + i, len - i)) == 0)
			return 0;
	return 1;
}

/*
 * "location#index" into out (reset first) as valid UTF-8: a byte that is
 * not part of a UTF-8 sequence (a file name in Latin-1, say) becomes '?',
 * since a JSON text is UTF-8 (RFC 8259 8.1). The location is a hint for
 * whoever reads the inventory, not a key. 0 or MCA_ERR_NOMEM.
 */
static int
location(const struct mca_disc_cert *c, struct mca_buf *out)
{
	const unsigned char	*u = (const unsigned char *)c->location;
	size_t			 len = strlen(c->location), i, k;
	int			 rc;

	mca_buf_reset(out);
	for (i = 0; i < len; i += k) {
		if ((k = utf8_seq(u + i, len - i)) == 0) {
			k = 1;
			rc = mca_buf_addc(out, '?');
		} else
			rc = mca_buf_add(out, u + i, k);
		if (rc != 0)
			return rc;
	}
	return mca_buf_printf(out, "#%d", c->index);
}

/* Checks one certificate before anything is sent. See avxdisc.h. */
int
mca_avxdisc_cert_ok(const struct mca_disc_cert *c, size_t i,
    struct mca_diag *d)
{
	const unsigned char	*p;
	unsigned char		 h[EVP_MAX_MD_SIZE];
	char			 hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int		 hl = 0, k;
	X509			*x = NULL;
	int			 rc = MCA_ERR_INVAL;

	mca_diag_clear(d);
	if (c == NULL || c->location == NULL || c->location[0] == '\0') {
		rc = mca_diag(d, MCA_ERR_INVAL, "AppViewX discovery upload: "
		    "certificate %zu: no certificate or no location", i);
		goto out;
	}
	if (c->der == NULL || c->der_len == 0 ||
	    c->der_len > MCA_AVXDISC_DER_MAX) {
		rc = mca_diag(d, MCA_ERR_INVAL, "AppViewX discovery upload: "
		    "%.200s#%d: the certificate is empty or over %u bytes",
		    c->location, c->index, MCA_AVXDISC_DER_MAX);
		goto out;
	}
	p = c->der;
	if ((x = d2i_X509(NULL, &p, (long)c->der_len)) == NULL ||
	    p != c->der + c->der_len) {
		rc = mca_diag(d, MCA_ERR_INVAL, "AppViewX discovery upload: "
		    "%.200s#%d: the DER is not one certificate", c->location,
		    c->index);
		goto out;
	}
	if (EVP_Digest(c->der, c->der_len, h, &hl, EVP_sha256(), NULL) != 1) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "AppViewX discovery "
		    "upload: %.200s#%d: SHA-256", c->location, c->index);
		goto out;
	}
	for (k = 0; k < hl; k++)
		(void)snprintf(hex + 2 * k, sizeof(hex) - 2 * k, "%02X", h[k]);
	if (strcmp(hex, c->sha256) != 0) {
		rc = mca_diag(d, MCA_ERR_INVAL, "AppViewX discovery upload: "
		    "%.200s#%d: sha256 is not the SHA-256 of the DER",
		    c->location, c->index);
		goto out;
	}
	rc = 0;
out:
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/* Everything checked before the request is built. */
static int
upload_check(const struct mca_avxdisc *conn, const char *token,
    const char *name, const char *group,
    const struct mca_disc_cert *const *certs, size_t n, struct mca_diag *d)
{
	size_t	 i, tl;
	int	 rc;

	if (!mca_httpc_host_ok(conn->host, MCA_AVX_HOST_MAX))
		return mca_diag(d, MCA_ERR_CONFIG, "AppViewX discovery upload: "
		    "appviewx_hostname \"%.64s\": not a host name or IP "
		    "address", conn->host == NULL ? "" : conn->host);
	if (conn->port == 0 || conn->port > 65535)
		return mca_diag(d, MCA_ERR_CONFIG, "AppViewX discovery upload: "
		    "port %u: not 1-65535", conn->port);
	if (conn->gwkey != NULL && !mca_avxj_word_ok(conn->gwkey,
	    DISC_GWKEY_MAX))
		return mca_diag(d, MCA_ERR_CONFIG, "AppViewX discovery upload: "
		    "gwkey: 1-64 of A-Z a-z 0-9 . _ -");
	if (conn->agent != NULL && conn->agent[0] != '\0' &&
	    !name_ok(conn->agent, MCA_AVXDISC_NAME_MAX))
		return mca_diag(d, MCA_ERR_CONFIG, "AppViewX discovery upload: "
		    "est_agent_setting_name: not 1-%d bytes of UTF-8 text",
		    MCA_AVXDISC_NAME_MAX - 1);
	/* AppViewX knows us by the mTLS client certificate. */
	if (conn->tls.certfile == NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "AppViewX discovery upload: "
		    "no mTLS client certificate (mtls_client_auth_cert_config) "
		    "to authenticate with");
	if (!name_ok(name, MCA_AVXDISC_NAME_MAX))
		return mca_diag(d, MCA_ERR_INVAL, "AppViewX discovery upload: "
		    "discovery_name: missing, or not 1-%d bytes of UTF-8 text",
		    MCA_AVXDISC_NAME_MAX - 1);
	if (!name_ok(group, MCA_AVXDISC_NAME_MAX))
		return mca_diag(d, MCA_ERR_INVAL, "AppViewX discovery upload: "
		    "groupName: missing, or not 1-%d bytes of UTF-8 text",
		    MCA_AVXDISC_NAME_MAX - 1);
	if (token != NULL) {
		/* one header-safe word, as lib/avx.c sends it */
		tl = strlen(token);
		if (tl == 0 || tl > MCA_AVX_TOKEN_MAX)
			return mca_diag(d, MCA_ERR_INVAL, "AppViewX discovery "
			    "upload: token empty or over %u bytes",
			    MCA_AVX_TOKEN_MAX);
		for (i = 0; i < tl; i++)
			if (token[i] <= 0x20 || token[i] >= 0x7f)
				return mca_diag(d, MCA_ERR_INVAL, "AppViewX "
				    "discovery upload: token not one word of "
				    "printable ASCII");
	}
	if (certs == NULL || n == 0 || n > MCA_AVXDISC_BATCH_MAX)
		return mca_diag(d, MCA_ERR_INVAL, "AppViewX discovery upload: "
		    "%zu certificates: 1 to %d in one request", certs == NULL ?
		    0 : n, MCA_AVXDISC_BATCH_MAX);
	for (i = 0; i < n; i++)
		if ((rc = mca_avxdisc_cert_ok(certs[i], i, d)) != 0)
			return rc;
	return 0;
}

/*
 * The request body into out:
 * {"payload": {"discoveryName", "groupName", "source",
 *   ["estAgentSettingName"], "certificates": [{"certificate", "location",
 *   "sha256"}, ...]}}
 * Its size is reckoned before anything is built, and checked again after.
 */
static int
upload_body(const struct mca_avxdisc *conn, const char *name,
    const char *group, const struct mca_disc_cert *const *certs, size_t n,
    struct mca_buf *out, struct mca_diag *d)
{
	struct json_object	*o = NULL, *p = NULL, *arr, *e;
	struct mca_buf		 b64 = MCA_BUF_INIT, loc = MCA_BUF_INIT;
	size_t			 i, want = 512;
	int			 rc;

	for (i = 0; i < n; i++)
		want += (certs[i]->der_len + 2) / 3 * 4 +
		    strlen(certs[i]->location) + DISC_CERT_JSON;
	if (want > MCA_AVXDISC_BODY_MAX)
		goto toobig;
	rc = MCA_ERR_NOMEM;
	if ((p = json_object_new_object()) == NULL ||
	    mca_avxj_add_str(p, "discoveryName", name) != 0 ||
	    mca_avxj_add_str(p, "groupName", group) != 0 ||
	    mca_avxj_add_str(p, "source", MCA_AVXDISC_SOURCE) != 0 ||
	    (conn->agent != NULL && conn->agent[0] != '\0' &&
	    mca_avxj_add_str(p, "estAgentSettingName", conn->agent) != 0) ||
	    mca_avxj_add_obj(p, "certificates",
	    arr = json_object_new_array_ext((int)n)) != 0)
		goto nomem;
	for (i = 0; i < n; i++) {
		mca_buf_reset(&b64);
		/* RFC 4648 4, one line: a JSON string holds no line break */
		if ((rc = mca_b64_encode(certs[i]->der, certs[i]->der_len, 0,
		    &b64)) != 0 || (rc = location(certs[i], &loc)) != 0)
			goto nomem;
		rc = MCA_ERR_NOMEM;
		if ((e = json_object_new_object()) == NULL)
			goto nomem;
		if (json_object_array_add(arr, e) != 0) {
			json_object_put(e);
			goto nomem;
		}
		if (mca_avxj_add_obj(e, "certificate",
		    json_object_new_string_len((const char *)b64.data,
		    (int)b64.len)) != 0 ||
		    mca_avxj_add_obj(e, "location", json_object_new_string_len(
		    (const char *)loc.data, (int)loc.len)) != 0 ||
		    mca_avxj_add_str(e, "sha256", certs[i]->sha256) != 0)
			goto nomem;
	}
	o = mca_avxj_wrap(p);
	p = NULL;
	if (o == NULL || (rc = mca_avxj_out(o, out)) != 0)
		goto nomem;
	if (out->len > MCA_AVXDISC_BODY_MAX)
		goto toobig;
	rc = 0;
	goto out;
toobig:
	rc = mca_diag(d, MCA_ERR_TOOBIG, "AppViewX discovery upload: %zu "
	    "certificates make a request over %u bytes; send fewer at once",
	    n, MCA_AVXDISC_BODY_MAX);
	goto out;
nomem:
	rc = mca_diag(d, rc == MCA_ERR_TOOBIG ? rc : MCA_ERR_NOMEM,
	    "AppViewX discovery upload: cannot build the request");
out:
	json_object_put(o);
	json_object_put(p);
	mca_buf_free(&b64);
	mca_buf_free(&loc);
	return rc;
}

/* What an HTTP status but 200 means here. */
static int
disc_status_rc(long status)
{
	if (status == 400)
		return MCA_ERR_POLICY;
	if (status == 401 || status == 403)
		return MCA_ERR_AUTH;
	if (status == 404)
		return MCA_ERR_NOTFOUND;
	if (status == 408 || status == 429 || status >= 500)
		return MCA_ERR_BUSY;
	return MCA_ERR_IO;
}

int
mca_avxdisc_judge(const char *url, long status, const unsigned char *body,
    size_t len, const char *secret, struct mca_avxdisc_result *res,
    struct mca_diag *d)
{
	struct mca_httpc_resp	 resp;
	struct mca_avxj_call	 call;
	struct json_object	*root = NULL, *msg;
	int			 rc;

	mca_diag_clear(d);
	res->http = status;
	res->message[0] = '\0';
	if (url == NULL)
		url = "";
	if (len > MCA_AVXDISC_ANSWER_MAX)
		return mca_diag(d, MCA_ERR_TOOBIG, "POST %.200s: HTTP %ld with "
		    "an answer over %u bytes", url, status,
		    MCA_AVXDISC_ANSWER_MAX);
	memset(&resp, 0, sizeof(resp));
	resp.status = status;
	/* mca_avxj_judge() only reads the body: borrowed, never freed */
	resp.body.data = (unsigned char *)(uintptr_t)body;
	resp.body.len = body != NULL ? len : 0;
	resp.body.cap = resp.body.len;
	memset(&call, 0, sizeof(call));
	call.method = "POST";
	call.url = url;
	call.ok = 200;
	call.status_rc = disc_status_rc;
	call.want_json = 1;
	call.secret[0] = secret;
	if ((rc = mca_avxj_judge(&call, &resp, &root, d)) != 0)
		return rc;
	if ((msg = mca_avxj_member(root, "message", json_type_string)) != NULL)
		mca_avxj_said(res->message, sizeof(res->message),
		    json_object_get_string(msg),
		    (size_t)json_object_get_string_len(msg), secret, NULL);
	json_object_put(root);
	return 0;
}

int
mca_avxdisc_upload(const struct mca_avxdisc *conn, const char *token,
    const char *discovery_name, const char *group,
    const struct mca_disc_cert *const *certs, size_t n,
    struct mca_avxdisc_result *res, struct mca_diag *d)
{
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	struct mca_buf		 body = MCA_BUF_INIT, tokh = MCA_BUF_INIT;
	struct mca_diag		 sub;
	const char		*hdrs[3] = { "Accept: application/json", NULL,
				    NULL };
	char			 url[DISC_URL_MAX];
	int			 rc, r;

	memset(res, 0, sizeof(*res));
	memset(&resp, 0, sizeof(resp));
	mca_buf_init(&resp.body);
	mca_diag_clear(d);
	if (conn == NULL) {
		rc = mca_diag(d, MCA_ERR_INTERNAL, "AppViewX discovery upload: "
		    "no connection");
		goto out;
	}
	if ((rc = upload_check(conn, token, discovery_name, group, certs, n,
	    d)) != 0 ||
	    (rc = upload_body(conn, discovery_name, group, certs, n, &body,
	    d)) != 0)
		goto out;
	r = snprintf(url, sizeof(url), "https://%s:%u%s?gwsource=external%s%s",
	    conn->host, conn->port, MCA_AVXDISC_PATH, conn->gwkey != NULL ?
	    "&gwkey=" : "", conn->gwkey != NULL ? conn->gwkey : "");
	if (r < 0 || (size_t)r >= sizeof(url)) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "AppViewX discovery upload: "
		    "URL too long");
		goto out;
	}
	if (token != NULL) {
		/* lib/avx.c's header: "token: <token>" */
		if (mca_buf_addstr(&tokh, "token: ") != 0 ||
		    mca_buf_addstr(&tokh, token) != 0) {
			rc = mca_diag(d, MCA_ERR_NOMEM, "AppViewX discovery "
			    "upload: out of memory");
			goto out;
		}
		hdrs[1] = mca_buf_str(&tokh);
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.ctype = "application/json";
	req.headers = hdrs;
	req.body = body.data;
	req.bodylen = body.len;
	req.tls = &conn->tls;
	req.resolve = conn->resolve;
	req.connect_timeout = conn->connect_timeout;
	req.timeout = conn->timeout;
	req.body_max = MCA_AVXDISC_ANSWER_MAX;
	mca_diag_clear(&sub);
	rc = mca_httpc_do(&req, &resp, &sub);
	res->http = resp.status;
	/*
	 * As lib/avxwf.c: a TLS alert is a refusal, not a broken line (in
	 * TLS 1.3 the server judges our certificate after our side of the
	 * handshake is done, so its alert comes as a read error); any other
	 * I/O failure (refused, unreachable, timed out) is worth trying
	 * again later.
	 */
	if (rc == MCA_ERR_IO)
		rc = strstr(sub.msg, " alert ") != NULL ? MCA_ERR_CRYPTO :
		    MCA_ERR_BUSY;
	if (rc != 0) {
		(void)mca_diag(d, rc, "%s", sub.msg);
		goto out;
	}
	if ((rc = mca_avxdisc_judge(url, resp.status, resp.body.data,
	    resp.body.len, token, res, d)) != 0)
		goto out;
	res->sent = n;
	rc = 0;
out:
	mca_httpc_resp_free(&resp);
	mca_buf_free_secret(&tokh);
	mca_buf_free(&body);
	return rc;
}

/* First of a, b that is not NULL. */
static const char *
first(const char *a, const char *b)
{
	return a != NULL ? a : b;
}

int
mca_avxdisc_from_cfg(struct mca_avxdisc *conn, const struct mca_cfg *cfg,
    const struct mca_apiconfig *api, struct mca_p11 *p, EVP_PKEY **tlskey,
    struct mca_diag *d)
{
	const struct mca_cfg_discovery	*s = &cfg->discovery;
	const struct mca_cfg_mtls	*m = &cfg->mtls_client;

	memset(conn, 0, sizeof(*conn));
	*tlskey = NULL;
	mca_diag_clear(d);
	if (s->upstream.appviewx_hostname == NULL || s->upstream.port <= 0)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: discover_certificate_"
		    "config: appviewx_hostname and port: missing (required "
		    "to upload what is found)", cfg->path);
	if (!m->present || m->cert_path == NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: mtls_client_auth_cert_"
		    "config: missing (the discovery upload goes over mTLS "
		    "with it)", cfg->path);
	conn->host = s->upstream.appviewx_hostname;
	conn->port = (unsigned)s->upstream.port;
	conn->agent = s->upstream.est_agent_setting_name;
	conn->gwkey = api != NULL ? api->appviewx_gwkey : NULL;
	/* The trust anchors of the other AppViewX calls (cron/azsync.c). */
	conn->tls.cafile = first(cfg->renewal.upstream.ca_cert,
	    cfg->upstream.ca_cert);
	conn->connect_timeout = cfg->upstream_connect_timeout;
	conn->timeout = cfg->upstream_timeout;
	return mca_mtls_client_tls(cfg, p, NULL, &conn->tls, tlskey, d);
}

int
mca_avxdisc_token(const struct mca_avxdisc *conn,
    const struct mca_apiconfig *api, struct mca_buf *token,
    struct mca_diag *d)
{
	struct mca_avx	 a;

	mca_diag_clear(d);
	mca_buf_reset(token);
	if (api == NULL || api->service_account_client_id == NULL ||
	    api->service_account_client_secret == NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: service_account_client_"
		    "id and service_account_client_secret: missing (required "
		    "for a token for the discovery upload)", api != NULL &&
		    api->path != NULL ? api->path : "APIconfig");
	memset(&a, 0, sizeof(a));
	a.host = api->appviewx_hostname;
	a.port = (unsigned)api->appviewx_port_number;
	a.gwkey = api->appviewx_gwkey;
	a.tls = conn->tls;
	a.client_id = api->service_account_client_id;
	a.client_secret = api->service_account_client_secret;
	a.grant = api->appviewx_token_request != NULL &&
	    strcmp(api->appviewx_token_request, "form") == 0 ?
	    MCA_AVX_GRANT_FORM : MCA_AVX_GRANT_JSON;
	a.connect_timeout = conn->connect_timeout;
	a.timeout = conn->timeout;
	return mca_avx_token(&a, token, d);
}
