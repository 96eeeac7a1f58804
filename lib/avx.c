/*
 * The AppViewX REST client. See avx.h, and microca-apiconfig(5) for what
 * is sent and what the public AppViewX guides leave open.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "apiconfig.h"
#include "avx.h"
#include "avx_int.h"
#include "avxjson.h"
#include "buf.h"
#include "err.h"
#include "http.h"	/* mca_http_media_is() */
#include "httpc.h"
#include "pem.h"

#define AVX_URL_MAX	512
#define AVX_CERTS_MAX	16	/* certificates in a chain */

#define OP_TOKEN	"acctmgmt-get-service-token"
#define OP_CREATE	"certificate/create"
#define OP_DOWNLOAD	"certificate/download/format"

/* "https://host:port/avxapi/<op>?gwsource=external[&gwkey=K][&extra]" */
static int
avx_url(const struct mca_avx *c, const char *op, const char *extra,
    char *url, size_t len, struct mca_diag *d)
{
	int	 r;

	url[0] = '\0';
	if (!mca_httpc_host_ok(c->host, MCA_AVX_HOST_MAX))
		return mca_diag(d, MCA_ERR_INVAL, "AppViewX host \"%.64s\": "
		    "not a host name or IP address", c->host == NULL ? "" :
		    c->host);
	if (c->port == 0 || c->port > 65535)
		return mca_diag(d, MCA_ERR_INVAL, "AppViewX port %u: not "
		    "1-65535", c->port);
	if (c->gwkey != NULL && !mca_avxj_word_ok(c->gwkey, 65))
		return mca_diag(d, MCA_ERR_INVAL, "AppViewX gwkey: 1-64 of "
		    "A-Z a-z 0-9 . _ -");
	r = snprintf(url, len, "https://%s:%u/avxapi/%s?gwsource=external%s%s"
	    "%s%s", c->host, c->port, op, c->gwkey != NULL ? "&gwkey=" : "",
	    c->gwkey != NULL ? c->gwkey : "", extra != NULL ? "&" : "",
	    extra != NULL ? extra : "");
	if (r < 0 || (size_t)r >= len) {
		url[0] = '\0';
		return mca_diag(d, MCA_ERR_INVAL, "AppViewX URL too long");
	}
	return 0;
}

/* The parts of a request every call shares. */
static int
avx_req(const struct mca_avx *c, const char *url, char *resolve,
    size_t rlen, struct mca_httpc_req *req, struct mca_diag *d)
{
	int	 r;

	memset(req, 0, sizeof(*req));
	if (c->address != NULL) {
		if (!mca_httpc_host_ok(c->address, MCA_AVX_HOST_MAX))
			return mca_diag(d, MCA_ERR_INVAL, "AppViewX address "
			    "\"%.64s\": not an IP address or host name",
			    c->address);
		r = snprintf(resolve, rlen, "%s:%u:%s", c->host, c->port,
		    c->address);
		if (r < 0 || (size_t)r >= rlen)
			return mca_diag(d, MCA_ERR_INVAL, "AppViewX address "
			    "too long");
		req->resolve = resolve;
	}
	req->method = "POST";
	req->url = url;
	req->tls = &c->tls;
	req->connect_timeout = c->connect_timeout;
	req->timeout = c->timeout;
	req->body_max = c->body_max != 0 ? c->body_max : MCA_AVX_BODY_MAX;
	return 0;
}

/* What an HTTP status means for us: the token call, the others. */
static int
status_rc(long status, int token)
{
	switch (status) {
	case 401:
	case 403:
		return MCA_ERR_AUTH;
	case 400:
		return token ? MCA_ERR_AUTH : MCA_ERR_POLICY;
	case 404:
		return MCA_ERR_NOTFOUND;
	default:
		return MCA_ERR_IO;
	}
}

static int
status_rc_token(long status)
{
	return status_rc(status, 1);
}

static int
status_rc_call(long status)
{
	return status_rc(status, 0);
}

/* See avx_int.h. */
int
mca_avx_judge(const struct mca_avx *c, const char *url,
    const struct mca_httpc_resp *resp, long ok, int token_call,
    int want_json, const char *tok, struct json_object **root,
    struct mca_diag *d)
{
	struct mca_avxj_call	 call;

	memset(&call, 0, sizeof(call));
	call.method = "POST";
	call.url = url;
	call.ok = ok;
	call.status_rc = token_call ? status_rc_token : status_rc_call;
	call.want_json = want_json;
	call.secret[0] = c->client_secret;
	call.secret[1] = tok;
	return mca_avxj_judge(&call, resp, root, d);
}

/* "token: <tok>" into h, after checking tok is one header-safe word. */
static int
token_header(const char *tok, struct mca_buf *h, struct mca_diag *d)
{
	size_t	 i, n;

	n = tok != NULL ? strlen(tok) : 0;
	if (n == 0 || n > MCA_AVX_TOKEN_MAX)
		return mca_diag(d, MCA_ERR_INVAL, "AppViewX token: missing "
		    "or over %u bytes", MCA_AVX_TOKEN_MAX);
	for (i = 0; i < n; i++)
		if (tok[i] <= 0x20 || tok[i] >= 0x7f)
			return mca_diag(d, MCA_ERR_INVAL, "AppViewX token: "
			    "not one word of printable ASCII");
	mca_buf_reset(h);
	if (mca_buf_addstr(h, "token: ") != 0 || mca_buf_add(h, tok, n) != 0)
		return MCA_ERR_NOMEM;
	return 0;
}

int
mca_avx_from_apiconfig(struct mca_avx *conn, const struct mca_apiconfig *a,
    struct mca_diag *d)
{
	int	 rc;

	memset(conn, 0, sizeof(*conn));
	if ((rc = mca_apiconfig_require_rest(a, d)) != 0)
		return rc;
	conn->host = a->appviewx_hostname;
	conn->port = (unsigned)a->appviewx_port_number;
	conn->gwkey = a->appviewx_gwkey;
	conn->client_id = a->service_account_client_id;
	conn->client_secret = a->service_account_client_secret;
	conn->grant = a->appviewx_token_request != NULL &&
	    strcmp(a->appviewx_token_request, "form") == 0 ?
	    MCA_AVX_GRANT_FORM : MCA_AVX_GRANT_JSON;
	conn->ca_name = a->ca_name;
	conn->ca_setting_name = a->ca_setting_name;
	conn->validity_days = a->intermediate_cert_validity_in_days;
	conn->template_name = a->template_name;
	conn->issuer_name = a->issuer_name;
	conn->group_name = a->appviewx_group_name;
	conn->category = a->appviewx_certificate_category;
	return 0;
}

/* See avx_int.h. */
int
mca_avx_token_answer(struct json_object *root, const char *url,
    struct mca_buf *token, struct mca_diag *d)
{
	struct json_object	*t;
	const char		*s;
	size_t			 n, i;
	int			 rc;

	/* {"response": "<token>", "message": null, "appStatusCode": null} */
	if ((t = mca_avxj_member(root, "response", json_type_string)) == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "POST %.200s: no token: "
		    "\"response\" is not a string", url);
	s = json_object_get_string(t);
	n = (size_t)json_object_get_string_len(t);
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			break;
	if (n == 0 || n > MCA_AVX_TOKEN_MAX || i < n)
		return mca_diag(d, MCA_ERR_INVAL, "POST %.200s: the token is "
		    "empty, over %u bytes or not one word of printable ASCII",
		    url, MCA_AVX_TOKEN_MAX);
	if ((rc = mca_buf_add(token, s, n)) != 0)
		return mca_diag(d, rc, "AppViewX service token: out of memory");
	return 0;
}

int
mca_avx_token(const struct mca_avx *conn, struct mca_buf *token,
    struct mca_diag *d)
{
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	struct mca_buf		 body = MCA_BUF_INIT;
	struct json_object	*o = NULL, *p = NULL, *root = NULL, *t;
	char			 url[AVX_URL_MAX], resolve[AVX_URL_MAX];
	int			 rc = MCA_ERR_INTERNAL;

	memset(&resp, 0, sizeof(resp));
	mca_buf_init(&resp.body);
	mca_buf_free_secret(token);
	mca_diag_clear(d);
	if (conn->client_id == NULL || conn->client_secret == NULL ||
	    conn->client_id[0] == '\0' || conn->client_secret[0] == '\0') {
		rc = mca_diag(d, MCA_ERR_CONFIG, "AppViewX service token: "
		    "no service account client ID or secret");
		goto out;
	}
	if ((rc = avx_url(conn, OP_TOKEN, NULL, url, sizeof(url), d)) != 0 ||
	    (rc = avx_req(conn, url, resolve, sizeof(resolve), &req, d)) != 0)
		goto out;
	/* The client ID and secret as HTTP Basic (RFC 7617). */
	req.user = conn->client_id;
	req.pass = conn->client_secret;
	if (conn->grant == MCA_AVX_GRANT_FORM) {
		/* RFC 6749 4.4.2, as the 2021 guide sends it */
		req.ctype = "application/x-www-form-urlencoded";
		rc = mca_buf_addstr(&body, "grant_type=client_credentials");
	} else {
		req.ctype = "application/json";
		rc = MCA_ERR_NOMEM;
		if ((p = json_object_new_object()) != NULL &&
		    mca_avxj_add_str(p, "grant_type",
		    "client_credentials") == 0) {
			o = mca_avxj_wrap(p);
			p = NULL;
			if (o != NULL)
				rc = mca_avxj_out(o, &body);
		}
	}
	if (rc != 0) {
		mca_diag(d, rc, "AppViewX service token: cannot build the "
		    "request");
		goto out;
	}
	req.body = body.data;
	req.bodylen = body.len;
	if ((rc = mca_httpc_do(&req, &resp, d)) != 0)
		goto out;
	if ((rc = mca_avx_judge(conn, url, &resp, 200, 1, 1, NULL, &root,
	    d)) != 0 ||
	    (rc = mca_avx_token_answer(root, url, token, d)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		mca_buf_free_secret(token);
	/* The token is in the answer, and json-c's copy of it. */
	if (root != NULL && (t = mca_avxj_member(root, "response",
	    json_type_string)) != NULL)
		OPENSSL_cleanse((char *)json_object_get_string(t),
		    (size_t)json_object_get_string_len(t));
	json_object_put(root);
	json_object_put(o);
	json_object_put(p);
	OPENSSL_cleanse(resp.body.data, resp.body.cap);
	mca_httpc_resp_free(&resp);
	mca_buf_free(&body);
	return rc;
}

/* Parses one PEM CSR and checks its signature; *out or NULL. */
static int
parse_csr(const char *pem, X509_REQ **out, struct mca_diag *d)
{
	BIO		*b = NULL;
	EVP_PKEY	*k;
	size_t		 n;
	int		 rc = MCA_ERR_INVAL;

	*out = NULL;
	n = pem != NULL ? strlen(pem) : 0;
	if (n == 0 || n > MCA_PEM_MAX) {
		rc = mca_diag(d, MCA_ERR_INVAL, "AppViewX enroll: no CSR, or "
		    "a CSR over %u bytes", MCA_PEM_MAX);
		goto out;
	}
	if ((b = BIO_new_mem_buf(pem, (int)n)) == NULL) {
		rc = mca_diag(d, MCA_ERR_NOMEM, "AppViewX enroll: out of "
		    "memory");
		goto out;
	}
	if ((*out = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL)) == NULL) {
		rc = mca_diag_crypto(d, MCA_ERR_INVAL, "AppViewX enroll: the "
		    "CSR is not a PEM CERTIFICATE REQUEST");
		goto out;
	}
	if ((k = X509_REQ_get0_pubkey(*out)) == NULL ||
	    X509_REQ_verify(*out, k) != 1) {
		rc = mca_diag_crypto(d, MCA_ERR_INVAL, "AppViewX enroll: the "
		    "CSR's signature does not verify");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		X509_REQ_free(*out);
		*out = NULL;
	}
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

/*
 * POSTs body, a JSON text, through req (made by avx_req()) with the token
 * header hdr, and judges the answer with judge() (a 200 wanted; with
 * want_json a JSON object in *root). resp is the caller's to free.
 */
static int
post_json(const struct mca_avx *conn, const char *url, const char *token,
    struct mca_httpc_req *req, const struct mca_buf *hdr,
    const struct mca_buf *body, int want_json, struct mca_httpc_resp *resp,
    struct json_object **root, struct mca_diag *d)
{
	const char	*hdrs[2] = { NULL, NULL };
	int		 rc;

	hdrs[0] = mca_buf_str(hdr);
	req->headers = hdrs;
	req->ctype = "application/json";
	req->body = body->data;
	req->bodylen = body->len;
	rc = mca_httpc_do(req, resp, d);
	req->headers = NULL;	/* hdrs goes out of scope */
	if (rc != 0)
		return rc;
	return mca_avx_judge(conn, url, resp, 200, 0, want_json, token, root,
	    d);
}

/* What the create call needs of conn (the guides' mandatory fields). */
static int
create_conf(const struct mca_avx *conn, struct mca_diag *d)
{
	if (conn->ca_name != NULL && conn->ca_setting_name != NULL &&
	    conn->validity_days >= 1 && conn->validity_days <= 36500)
		return 0;
	return mca_diag(d, MCA_ERR_CONFIG, "AppViewX create: %s missing",
	    conn->ca_name == NULL ? "ca_name" :
	    conn->ca_setting_name == NULL ? "ca_setting_name" :
	    "intermediate_cert_validity_in_days (1-36500)");
}

/* See avx_int.h. */
int
mca_avx_create_answer(struct json_object *root, const char *url, char *id,
    size_t idlen, struct mca_diag *d)
{
	struct json_object	*r, *v;

	id[0] = '\0';
	/* {"response": {"resourceId": "...", ...}} */
	if ((r = mca_avxj_member(root, "response", json_type_object)) == NULL ||
	    (v = mca_avxj_member(r, "resourceId", json_type_string)) == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "POST %.200s: no "
		    "response.resourceId (a string) in the answer", url);
	if (!mca_avxj_word_ok(json_object_get_string(v), MCA_AVX_ID_MAX))
		return mca_diag(d, MCA_ERR_INVAL, "POST %.200s: response."
		    "resourceId: not 1-%d of A-Z a-z 0-9 . _ -", url,
		    MCA_AVX_ID_MAX - 1);
	(void)snprintf(id, idlen, "%s", json_object_get_string(v));
	return 0;
}

int
mca_avx_create(const struct mca_avx *conn, const char *token,
    const char *csr_pem, char *id, size_t idlen, struct mca_diag *d)
{
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	struct mca_buf		 body = MCA_BUF_INIT, hdr = MCA_BUF_INIT;
	struct json_object	*p = NULL, *o = NULL, *root = NULL;
	struct json_object	*up, *ca, *vs = NULL, *grp;
	X509_REQ		*csr = NULL;
	BIO			*b = NULL;
	BUF_MEM			*bm;
	char			 url[AVX_URL_MAX], resolve[AVX_URL_MAX];
	int			 rc = MCA_ERR_INTERNAL;

	memset(&resp, 0, sizeof(resp));
	mca_buf_init(&resp.body);
	mca_diag_clear(d);
	if (id == NULL || idlen < MCA_AVX_ID_MAX)
		return mca_diag(d, MCA_ERR_INTERNAL, "AppViewX create: no "
		    "room for the resourceId");
	id[0] = '\0';
	if ((rc = create_conf(conn, d)) != 0)
		goto out;
	if ((rc = parse_csr(csr_pem, &csr, d)) != 0)
		goto out;
	if ((rc = avx_url(conn, OP_CREATE, "isSync=true", url, sizeof(url),
	    d)) != 0 ||
	    (rc = avx_req(conn, url, resolve, sizeof(resolve), &req, d)) != 0 ||
	    (rc = token_header(token, &hdr, d)) != 0)
		goto out;
	/* The CSR as PEM again: what we checked is what we send. */
	rc = MCA_ERR_NOMEM;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_REQ(b, csr) != 1)
		goto nomem;
	BIO_get_mem_ptr(b, &bm);
	/*
	 * {"payload": {"csrGenerationSource": "uploadCSR",
	 *   "uploadCsrDetails": {"category", "csrContent"},
	 *   "caConnectorInfo": {"certificateAuthority", "caSettingName",
	 *     "validityInDays", ["vendorSpecificDetails"]},
	 *   ["certificateGroup": {"name"}]}}
	 */
	if ((p = json_object_new_object()) == NULL ||
	    mca_avxj_add_str(p, "csrGenerationSource", "uploadCSR") != 0)
		goto nomem;
	if (mca_avxj_add_obj(p, "uploadCsrDetails",
	    up = json_object_new_object()) != 0 ||
	    mca_avxj_add_str(up, "category", conn->category != NULL ?
	    conn->category : MCA_AVX_DEF_CATEGORY) != 0 ||
	    mca_avxj_add_obj(up, "csrContent",
	    json_object_new_string_len(bm->data, (int)bm->length)) != 0)
		goto nomem;
	if (mca_avxj_add_obj(p, "caConnectorInfo",
	    ca = json_object_new_object()) != 0 ||
	    mca_avxj_add_str(ca, "certificateAuthority", conn->ca_name) != 0 ||
	    mca_avxj_add_str(ca, "caSettingName", conn->ca_setting_name) != 0 ||
	    mca_avxj_add_obj(ca, "validityInDays",
	    json_object_new_int(conn->validity_days)) != 0)
		goto nomem;
	if (conn->template_name != NULL || conn->issuer_name != NULL) {
		if (mca_avxj_add_obj(ca, "vendorSpecificDetails",
		    vs = json_object_new_object()) != 0 ||
		    (conn->template_name != NULL && mca_avxj_add_str(vs,
		    "templateName", conn->template_name) != 0) ||
		    (conn->issuer_name != NULL && mca_avxj_add_str(vs,
		    "issuerName", conn->issuer_name) != 0))
			goto nomem;
	}
	if (conn->group_name != NULL && (mca_avxj_add_obj(p, "certificateGroup",
	    grp = json_object_new_object()) != 0 ||
	    mca_avxj_add_str(grp, "name", conn->group_name) != 0))
		goto nomem;
	o = mca_avxj_wrap(p);
	p = NULL;
	if (o == NULL || (rc = mca_avxj_out(o, &body)) != 0)
		goto nomem;
	if ((rc = post_json(conn, url, token, &req, &hdr, &body, 1, &resp,
	    &root, d)) != 0)
		goto out;
	rc = mca_avx_create_answer(root, url, id, idlen, d);
	goto out;
nomem:
	rc = mca_diag(d, MCA_ERR_NOMEM, "AppViewX create: cannot build the "
	    "request");
out:
	json_object_put(root);
	json_object_put(o);
	json_object_put(p);
	mca_httpc_resp_free(&resp);
	mca_buf_free(&body);
	mca_buf_free_secret(&hdr);
	BIO_free(b);
	X509_REQ_free(csr);
	ERR_clear_error();
	return rc;
}

/*
 * The certificates of a PEM text, each parsed and written again into out;
 * anything but CERTIFICATE blocks and whitespace between them is refused.
 */
static int
pem_certs(const char *url, const char *s, size_t len, struct mca_buf *out,
    struct mca_diag *d)
{
	struct mca_buf		 der = MCA_BUF_INIT;
	const unsigned char	*p;
	const char		*b;
	X509			*x = NULL;
	size_t			 off = 0, end, i;
	int			 rc = MCA_ERR_INVAL, n = 0;

	if (len > 0 && memchr(s, '\0', len) != NULL) {
		rc = mca_diag(d, MCA_ERR_INVAL, "POST %.200s: the answer "
		    "holds a NUL byte", url);
		goto out;
	}
	for (;;) {
		for (i = off; i < len && strchr(" \t\r\n", s[i]) != NULL; i++)
			;
		if (i == len)
			break;
		b = s + i;
#define BEGIN	"-----BEGIN CERTIFICATE-----"
		if (len - i < strlen(BEGIN) ||
		    memcmp(b, BEGIN, strlen(BEGIN)) != 0) {
			rc = mca_diag(d, MCA_ERR_INVAL, "POST %.200s: the "
			    "answer holds something other than PEM "
			    "certificates (at byte %zu)", url, i);
			goto out;
		}
		if (++n > AVX_CERTS_MAX) {
			rc = mca_diag(d, MCA_ERR_TOOBIG, "POST %.200s: more "
			    "than %d certificates", url, AVX_CERTS_MAX);
			goto out;
		}
		mca_buf_reset(&der);
		if ((rc = mca_pem_decode(b, len - i, "CERTIFICATE", &der,
		    &end)) != 0) {
			rc = mca_diag(d, MCA_ERR_INVAL, "POST %.200s: "
			    "certificate %d: bad PEM", url, n);
			goto out;
		}
		p = der.data;
		if ((x = d2i_X509(NULL, &p, (long)der.len)) == NULL ||
		    p != der.data + der.len) {
			rc = mca_diag_crypto(d, MCA_ERR_INVAL, "POST %.200s: "
			    "certificate %d: not one DER certificate", url, n);
			goto out;
		}
		if ((rc = mca_pem_write_cert(x, out)) != 0) {
			mca_diag(d, rc, "POST %.200s: cannot write certificate "
			    "%d", url, n);
			goto out;
		}
		X509_free(x);
		x = NULL;
		off = i + end;
	}
	if (n == 0) {
		rc = mca_diag(d, MCA_ERR_INVAL, "POST %.200s: the answer "
		    "holds no certificate", url);
		goto out;
	}
	rc = 0;
out:
	X509_free(x);
	mca_buf_free(&der);
	ERR_clear_error();
	return rc;
}

/* See avx_int.h. */
int
mca_avx_download_answer(struct json_object *root, const struct mca_buf *body,
    const char *url, struct mca_buf *chain_pem, struct mca_diag *d)
{
	struct json_object	*r;

	/*
	 * The guides say the file itself (application/octet-stream); a JSON
	 * wrapper whose "response" is the PEM text is taken too.
	 */
	if (root == NULL)
		return pem_certs(url, (const char *)body->data, body->len,
		    chain_pem, d);
	if ((r = mca_avxj_member(root, "response", json_type_string)) == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "POST %.200s: a JSON "
		    "answer without the certificate (\"response\" is not a "
		    "string)", url);
	return pem_certs(url, json_object_get_string(r),
	    (size_t)json_object_get_string_len(r), chain_pem, d);
}

int
mca_avx_download(const struct mca_avx *conn, const char *token,
    const char *id, struct mca_buf *chain_pem, struct mca_diag *d)
{
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	struct mca_buf		 body = MCA_BUF_INIT, hdr = MCA_BUF_INIT;
	struct json_object	*o = NULL, *p = NULL, *root = NULL;
	char			 url[AVX_URL_MAX], resolve[AVX_URL_MAX];
	int			 rc = MCA_ERR_INTERNAL;

	memset(&resp, 0, sizeof(resp));
	mca_buf_init(&resp.body);
	mca_buf_reset(chain_pem);
	mca_diag_clear(d);
	if (!mca_avxj_word_ok(id, MCA_AVX_ID_MAX)) {
		rc = mca_diag(d, MCA_ERR_INVAL, "AppViewX download: "
		    "resourceId: not 1-%d of A-Z a-z 0-9 . _ -",
		    MCA_AVX_ID_MAX - 1);
		goto out;
	}
	if ((rc = avx_url(conn, OP_DOWNLOAD, NULL, url, sizeof(url), d)) !=
	    0 ||
	    (rc = avx_req(conn, url, resolve, sizeof(resolve), &req, d)) != 0 ||
	    (rc = token_header(token, &hdr, d)) != 0)
		goto out;
	/* {"payload": {"resourceId", "format": "PEM", "isChainRequired"}} */
	rc = MCA_ERR_NOMEM;
	if ((p = json_object_new_object()) == NULL ||
	    mca_avxj_add_str(p, "resourceId", id) != 0 ||
	    mca_avxj_add_str(p, "format", "PEM") != 0 ||
	    mca_avxj_add_obj(p, "isChainRequired",
	    json_object_new_boolean(1)) != 0) {
		mca_diag(d, rc, "AppViewX download: cannot build the request");
		goto out;
	}
	o = mca_avxj_wrap(p);
	p = NULL;
	if (o == NULL || (rc = mca_avxj_out(o, &body)) != 0) {
		rc = mca_diag(d, MCA_ERR_NOMEM, "AppViewX download: cannot "
		    "build the request");
		goto out;
	}
	if ((rc = post_json(conn, url, token, &req, &hdr, &body, 0, &resp,
	    &root, d)) != 0)
		goto out;
	rc = mca_avx_download_answer(root, &resp.body, url, chain_pem, d);
out:
	if (rc != 0)
		mca_buf_reset(chain_pem);
	json_object_put(root);
	json_object_put(o);
	json_object_put(p);
	mca_httpc_resp_free(&resp);
	mca_buf_free(&body);
	mca_buf_free_secret(&hdr);
	return rc;
}

/*
 * Puts the certificate of chain (PEM) for req's key first into out, the
 * others after it in their order. MCA_ERR_POLICY when none is.
 */
static int
key_first(const struct mca_buf *chain, X509_REQ *csr, struct mca_buf *out,
    struct mca_diag *d)
{
	STACK_OF(X509_INFO)	*infos = NULL;
	X509_INFO		*xi;
	EVP_PKEY		*k = X509_REQ_get0_pubkey(csr);
	BIO			*b = NULL;
	int			 i, leaf = -1, rc = MCA_ERR_NOMEM;

	mca_buf_reset(out);
	if ((b = BIO_new_mem_buf(chain->data, (int)chain->len)) == NULL ||
	    (infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL)) == NULL) {
		rc = mca_diag_crypto(d, MCA_ERR_INTERNAL, "AppViewX enroll: "
		    "cannot read the chain again");
		goto out;
	}
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		xi = sk_X509_INFO_value(infos, i);
		if (xi->x509 != NULL && k != NULL &&
		    EVP_PKEY_eq(X509_get0_pubkey(xi->x509), k) == 1) {
			leaf = i;
			break;
		}
	}
	if (leaf < 0) {
		rc = mca_diag(d, MCA_ERR_POLICY, "AppViewX enroll: none of "
		    "the %d certificates AppViewX sent is for the CSR's key",
		    sk_X509_INFO_num(infos));
		goto out;
	}
	if ((rc = mca_pem_write_cert(sk_X509_INFO_value(infos, leaf)->x509,
	    out)) != 0)
		goto fail;
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		xi = sk_X509_INFO_value(infos, i);
		if (i != leaf && xi->x509 != NULL &&
		    (rc = mca_pem_write_cert(xi->x509, out)) != 0)
			goto fail;
	}
	rc = 0;
	goto out;
fail:
	mca_diag(d, rc, "AppViewX enroll: cannot write the chain");
out:
	if (rc != 0)
		mca_buf_reset(out);
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

int
mca_avx_enroll(const struct mca_avx *conn, const char *csr_pem,
    struct mca_buf *chain_pem, struct mca_diag *d)
{
	struct mca_buf	 tok = MCA_BUF_INIT, got = MCA_BUF_INIT;
	X509_REQ	*csr = NULL;
	char		 id[MCA_AVX_ID_MAX];
	int		 rc;

	mca_buf_reset(chain_pem);
	mca_diag_clear(d);
	/* What we would refuse is refused before any network call. */
	if ((rc = create_conf(conn, d)) != 0 ||
	    (rc = parse_csr(csr_pem, &csr, d)) != 0)
		goto out;
	if ((rc = mca_avx_token(conn, &tok, d)) != 0 ||
	    (rc = mca_avx_create(conn, mca_buf_str(&tok), csr_pem, id,
	    sizeof(id), d)) != 0 ||
	    (rc = mca_avx_download(conn, mca_buf_str(&tok), id, &got, d)) !=
	    0)
		goto out;
	rc = key_first(&got, csr, chain_pem, d);
out:
	mca_buf_free_secret(&tok);
	mca_buf_free(&got);
	X509_REQ_free(csr);
	return rc;
}
