/*
 * The mock AppViewX gateway. See avxmock.h. What it checks follows the
 * AppViewX API guides (get-service-token, certificate create in sync mode
 * with uploadCSR, download by format); microca-apiconfig(5) says which.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "avxmock.h"
#include "b64.h"
#include "buf.h"
#include "testutil.h"
#include "tlsserv.h"

#define AM_TOKENS	16
#define AM_CERTS	16

#define P_TOKEN		"/avxapi/acctmgmt-get-service-token?gwsource=external"
#define P_CREATE	"/avxapi/certificate/create?gwsource=external&isSync=true"
#define P_DOWNLOAD	"/avxapi/certificate/download/format?gwsource=external"

/* The child's state: across the connections of one mock. */
struct am {
	const struct avxmock	*m;
	char			*tokens[AM_TOKENS];
	int			 ntokens;
	char			 ids[AM_CERTS][32];
	X509			*certs[AM_CERTS];
	int			 ncerts;
	X509			*ca;
	EVP_PKEY		*cakey;
	struct mca_buf		 ca_pem, root_pem;
};

/* One answer. */
struct am_resp {
	int		 status;
	const char	*ctype;
	struct mca_buf	 body;
};

static char *
am_path(const struct am *a, const char *name)
{
	static char	 p[4][1024];
	static int	 i;

	i = (i + 1) % 4;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", a->m->pki, name);
	return p[i];
}

/* Sets an answer: status, and a JSON object in AppViewX's wrapper. */
static void
am_json(struct am_resp *w, int status, struct json_object *response,
    const char *message, const char *code)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "response", response);
	json_object_object_add(o, "message", message != NULL ?
	    json_object_new_string(message) : NULL);
	json_object_object_add(o, "appStatusCode", code != NULL ?
	    json_object_new_string(code) : NULL);
	json_object_object_add(o, "tags", json_object_new_object());
	json_object_object_add(o, "headers", NULL);
	w->status = status;
	w->ctype = "application/json";
	mca_buf_reset(&w->body);
	(void)mca_buf_addstr(&w->body, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void	am_refuse(struct am_resp *, int, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));

/* A refusal with an appStatusCode and a message made from fmt. */
static void
am_refuse(struct am_resp *w, int status, const char *code,
    const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	am_json(w, status, NULL, msg, code);
}

/* The request body as one JSON object; NULL (and w set) if not. */
static struct json_object *
am_body_json(const struct ts_req *r, struct am_resp *w)
{
	struct json_object	*o;
	struct json_tokener	*tok = json_tokener_new();
	char			 ct[256];

	if (ts_header(r, "Content-Type", ct, sizeof(ct)) == NULL ||
	    strcasecmp(ct, "application/json") != 0) {
		json_tokener_free(tok);
		am_refuse(w, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type "
		    "must be application/json");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, r->body, (int)r->bodylen);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != r->bodylen ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
		am_refuse(w, 400, "INVALID_JSON", "Request body is not a JSON "
		    "object");
	}
	json_tokener_free(tok);
	return o;
}

/* o.key with type t, else NULL and w set to a 400 naming it. */
static struct json_object *
am_need(struct json_object *o, const char *key, enum json_type t,
    const char *where, struct am_resp *w)
{
	struct json_object	*v;

	if (w->status != 0)
		return NULL;
	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, t)) {
		am_refuse(w, 400, "CERT_INVALID_PAYLOAD", "%s%s: missing or "
		    "not a %s", where, key, json_type_to_name(t));
		return NULL;
	}
	return v;
}

/* The keys of o must all be in the NULL-terminated list keys. */
static void
am_only(struct json_object *o, const char *const *keys, const char *where,
    struct am_resp *w)
{
	size_t	 i;

	if (w->status != 0 || o == NULL)
		return;
	json_object_object_foreach(o, k, v) {
		(void)v;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (keys[i] == NULL) {
			am_refuse(w, 400, "CERT_INVALID_PAYLOAD", "%s%s: not "
			    "a known field", where, k);
			return;
		}
	}
}

/* The "token" header: one this mock issued and not expired. */
static int
am_token_ok(struct am *a, const struct ts_req *r, struct am_resp *w)
{
	char	 t[8192];
	int	 i;

	if (ts_header(r, "token", t, sizeof(t)) != NULL &&
	    a->m->fault != AM_EXPIRED)
		for (i = 0; i < a->ntokens; i++)
			if (strcmp(a->tokens[i], t) == 0)
				return 1;
	am_refuse(w, 401, "ACCT_TOKEN_INVALID", "Authentication failed. The "
	    "token is invalid or expired");
	return 0;
}

/* POST /avxapi/acctmgmt-get-service-token */
static void
am_token(struct am *a, const struct ts_req *r, struct am_resp *w)
{
	struct mca_buf		 dec = MCA_BUF_INIT;
	struct json_object	*o = NULL, *p, *g;
	const char		*colon;
	char			 auth[1024], ct[256], tok[128];
	unsigned char		 rnd[16];
	int			 i;

	if (a->m->fault == AM_TOKEN_401) {
		am_refuse(w, 401, NULL, "Authentication failed. The reason - "
		    "Invalid Credentials.");
		return;
	}
	/* Authorization: Basic base64(<client id>:<client secret>) */
	if (ts_header(r, "Authorization", auth, sizeof(auth)) == NULL ||
	    strncmp(auth, "Basic ", 6) != 0 ||
	    mca_b64_decode(auth + 6, strlen(auth + 6), &dec) != 0 ||
	    (colon = memchr(dec.data, ':', dec.len)) == NULL) {
		am_refuse(w, 401, NULL, "Authentication failed. The reason - "
		    "Invalid Credentials.");
		goto out;
	}
	if ((size_t)(colon - (char *)dec.data) != strlen(a->m->client_id) ||
	    memcmp(dec.data, a->m->client_id, strlen(a->m->client_id)) != 0) {
		am_refuse(w, 400, "ACCT_SA_003", "Service account is "
		    "invalid/not found::[Service account not found in the "
		    "database]");
		goto out;
	}
	if (strcmp(colon + 1, a->m->client_secret) != 0 ||
	    a->m->fault == AM_TOKEN_ECHO) {
		am_refuse(w, 400, "OAUTH_CLNT_015", "Client Password is "
		    "incorrect::[Invalid Client credential %s]", colon + 1);
		goto out;
	}
	/* grant_type client_credentials, as JSON or as a form */
	if (ts_header(r, "Content-Type", ct, sizeof(ct)) != NULL &&
	    strcasecmp(ct, "application/x-www-form-urlencoded") == 0) {
		if (r->bodylen != strlen("grant_type=client_credentials") ||
		    memcmp(r->body, "grant_type=client_credentials",
		    r->bodylen) != 0) {
			am_refuse(w, 400, "ACCT_SA_001", "Invalid Request::"
			    "[grant_type]");
			goto out;
		}
	} else {
		if ((o = am_body_json(r, w)) == NULL)
			goto out;
		p = am_need(o, "payload", json_type_object, "", w);
		g = am_need(p, "grant_type", json_type_string, "payload.", w);
		if (w->status != 0)
			goto out;
		if (strcmp(json_object_get_string(g), "client_credentials")
		    != 0) {
			am_refuse(w, 400, "ACCT_SA_001", "Invalid Request::"
			    "[grant_type]");
			goto out;
		}
	}
	if (a->m->fault == AM_TOKEN_NULL) {
		am_json(w, 200, NULL, NULL, NULL);
		goto out;
	}
	/* A JWT-shaped token, different each time. */
	(void)RAND_bytes(rnd, sizeof(rnd));
	i = snprintf(tok, sizeof(tok), "eyJmock.%d.", a->ntokens);
	for (size_t k = 0; k < sizeof(rnd); k++)
		i += snprintf(tok + i, sizeof(tok) - (size_t)i, "%02x", rnd[k]);
	if (a->ntokens < AM_TOKENS)
		a->tokens[a->ntokens++] = strdup(tok);
	am_json(w, 200, json_object_new_string(tok), NULL, NULL);
out:
	json_object_put(o);
	mca_buf_free(&dec);
}

/*
 * Signs csr as a sub-CA for days with the test intermediate (AM_NOT_CA:
 * as an end entity).
 */
static X509 *
am_sign(struct am *a, X509_REQ *csr, int days)
{
	X509		*x = X509_new();
	X509V3_CTX	 v;
	X509_EXTENSION	*e;
	BIGNUM		*bn = BN_new();
	static const struct am_ext { int nid; const char *val; } ca_ext[] = {
		{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign,"
		    "digitalSignature" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	}, ee_ext[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_key_usage, "critical,digitalSignature" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	};
	const struct am_ext *ext = a->m->fault == AM_NOT_CA ? ee_ext : ca_ext;
	size_t		 i;

	if (x == NULL || bn == NULL || !BN_rand(bn, 127, BN_RAND_TOP_ONE,
	    BN_RAND_BOTTOM_ANY) ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_version(x, 2) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(a->ca)) != 1 ||
	    X509_set_subject_name(x, X509_REQ_get_subject_name(csr)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) ==
	    NULL || X509_set_pubkey(x, X509_REQ_get0_pubkey(csr)) != 1)
		goto fail;
	X509V3_set_ctx(&v, a->ca, x, NULL, NULL, 0);
	for (i = 0; i < sizeof(ca_ext) / sizeof(ca_ext[0]); i++) {
		if ((e = X509V3_EXT_conf_nid(NULL, &v, ext[i].nid,
		    ext[i].val)) == NULL || X509_add_ext(x, e, -1) != 1) {
			X509_EXTENSION_free(e);
			goto fail;
		}
		X509_EXTENSION_free(e);
	}
	if (X509_sign(x, a->cakey, EVP_sha256()) <= 0)
		goto fail;
	BN_free(bn);
	return x;
fail:
	BN_free(bn);
	X509_free(x);
	return NULL;
}

/* POST /avxapi/certificate/create?gwsource=external&isSync=true */
static void
am_create(struct am *a, const struct ts_req *r, struct am_resp *w)
{
	static const char *const pkeys[] = { "csrGenerationSource",
	    "caConnectorInfo", "certificateGroup", "deviceDetails",
	    "certificateHSMDetails", "uploadCsrDetails", "certificateFormat",
	    NULL };
	static const char *const ckeys[] = { "certificateAuthority",
	    "caSettingName", "validityInDays", "vendorSpecificDetails",
	    "certificateProfileName", "description", "genericFields",
	    "name", NULL };
	struct json_object	*o = NULL, *p, *src, *up, *cat, *csrc, *ca;
	struct json_object	*auth, *set, *val, *vs, *grp, *gn, *resp;
	X509_REQ		*csr = NULL;
	X509			*x = NULL;
	BIO			*b = NULL;
	const char		*c;
	char			 id[32], cn[256], serial[128];
	unsigned char		 rnd[12];
	BIGNUM			*bn = NULL;
	char			*hex = NULL;
	int			 days, i;

	if (!am_token_ok(a, r, w) || (o = am_body_json(r, w)) == NULL)
		goto out;
	p = am_need(o, "payload", json_type_object, "", w);
	am_only(p, pkeys, "payload.", w);
	src = am_need(p, "csrGenerationSource", json_type_string, "payload.",
	    w);
	up = am_need(p, "uploadCsrDetails", json_type_object, "payload.", w);
	cat = am_need(up, "category", json_type_string,
	    "payload.uploadCsrDetails.", w);
	csrc = am_need(up, "csrContent", json_type_string,
	    "payload.uploadCsrDetails.", w);
	ca = am_need(p, "caConnectorInfo", json_type_object, "payload.", w);
	am_only(ca, ckeys, "payload.caConnectorInfo.", w);
	auth = am_need(ca, "certificateAuthority", json_type_string,
	    "payload.caConnectorInfo.", w);
	set = am_need(ca, "caSettingName", json_type_string,
	    "payload.caConnectorInfo.", w);
	val = am_need(ca, "validityInDays", json_type_int,
	    "payload.caConnectorInfo.", w);
	if (w->status != 0)
		goto out;
	if (strcmp(json_object_get_string(src), "uploadCSR") != 0) {
		am_refuse(w, 400, "CERT_INVALID_PAYLOAD", "csrGenerationSource "
		    "must be uploadCSR here");
		goto out;
	}
	c = json_object_get_string(cat);
	if (strcmp(c, "Server") != 0 && strcmp(c, "Client") != 0 &&
	    strcmp(c, "Code Signing") != 0) {
		am_refuse(w, 400, "CERT_INVALID_PAYLOAD", "category: possible "
		    "values are Server, Client, Code Signing");
		goto out;
	}
	if (strcmp(json_object_get_string(auth), a->m->ca_name) != 0 ||
	    strcmp(json_object_get_string(set), a->m->ca_setting_name) != 0) {
		am_refuse(w, 400, "CERT_CA_NOT_FOUND", "CA setting not found "
		    "for the given certificate authority");
		goto out;
	}
	days = json_object_get_int(val);
	if (days < 1 || days > 36500) {
		am_refuse(w, 400, "CERT_INVALID_PAYLOAD", "validityInDays out "
		    "of range");
		goto out;
	}
	if (json_object_object_get_ex(ca, "vendorSpecificDetails", &vs)) {
		if (!json_object_is_type(vs, json_type_object)) {
			am_refuse(w, 400, "CERT_INVALID_PAYLOAD",
			    "vendorSpecificDetails: not an object");
			goto out;
		}
		json_object_object_foreach(vs, k, v) {
			(void)k;
			if (!json_object_is_type(v, json_type_string)) {
				am_refuse(w, 400, "CERT_INVALID_PAYLOAD",
				    "vendorSpecificDetails: not all strings");
				goto out;
			}
		}
	}
	if (json_object_object_get_ex(p, "certificateGroup", &grp)) {
		gn = am_need(grp, "name", json_type_string,
		    "payload.certificateGroup.", w);
		if (w->status != 0)
			goto out;
		if (strcmp(json_object_get_string(gn), a->m->group) != 0) {
			am_refuse(w, 400, "CERT_GROUP_NOT_FOUND", "The group "
			    "name is not available");
			goto out;
		}
	}
	/* The CSR: PEM, one request, its signature good. */
	if ((b = BIO_new_mem_buf(json_object_get_string(csrc),
	    json_object_get_string_len(csrc))) == NULL ||
	    (csr = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL)) == NULL ||
	    X509_REQ_verify(csr, X509_REQ_get0_pubkey(csr)) != 1) {
		am_refuse(w, 400, "CERT_INVALID_CSR", "Invalid CSR content");
		goto out;
	}
	switch (a->m->fault) {
	case AM_STATUS_CODE:
		am_refuse(w, 200, "CERT_CA_ERROR", "CA \001refused:\r\n the "
		    "request\t%0300d", 7);
		goto out;
	case AM_500:
		w->status = 500;
		w->ctype = "text/html";
		(void)mca_buf_addstr(&w->body, "<html><body>Internal Server "
		    "Error</body></html>\n");
		goto out;
	case AM_GARBAGE:
		w->status = 200;
		w->ctype = "application/json";
		(void)mca_buf_addstr(&w->body, "{\"response\": {\"resourceId\"");
		goto out;
	default:
		break;
	}
	if (a->ncerts >= AM_CERTS || (x = am_sign(a, csr, days)) == NULL) {
		am_refuse(w, 500, "CERT_CA_ERROR", "The CA could not issue");
		goto out;
	}
	(void)RAND_bytes(rnd, sizeof(rnd));
	for (i = 0; i < (int)sizeof(rnd); i++)
		(void)snprintf(id + 2 * i, sizeof(id) - 2 * (size_t)i, "%02x",
		    rnd[i]);
	cn[0] = '\0';
	(void)X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn));
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	(void)snprintf(serial, sizeof(serial), "%s", hex != NULL ? hex : "");
	memcpy(a->ids[a->ncerts], id, sizeof(id));
	a->certs[a->ncerts++] = x;
	x = NULL;
	resp = json_object_new_object();
	switch (a->m->fault) {
	case AM_NO_ID:
		json_object_object_add(resp, "requestId",
		    json_object_new_string(id));
		break;
	case AM_ID_TYPE:
		json_object_object_add(resp, "resourceId",
		    json_object_new_int(42));
		break;
	case AM_BAD_ID:
		json_object_object_add(resp, "resourceId",
		    json_object_new_string("../x y"));
		break;
	default:
		json_object_object_add(resp, "resourceId",
		    json_object_new_string(id));
		break;
	}
	json_object_object_add(resp, "commonName", json_object_new_string(cn));
	json_object_object_add(resp, "serialNumber",
	    json_object_new_string(serial));
	am_json(w, 200, resp, "Certificate created successfully", NULL);
out:
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	X509_REQ_free(csr);
	BIO_free(b);
	json_object_put(o);
}

/* POST /avxapi/certificate/download/format?gwsource=external */
static void
am_download(struct am *a, const struct ts_req *r, struct am_resp *w)
{
	static const char *const keys[] = { "resourceId", "commonName",
	    "serialNumber", "format", "password", "isChainRequired",
	    "isKeyEncryptionRequired", NULL };
	struct json_object	*o = NULL, *p, *id, *fmt, *chain;
	struct mca_buf		 pem = MCA_BUF_INIT;
	int			 i, with_chain = 0;

	if (!am_token_ok(a, r, w) || (o = am_body_json(r, w)) == NULL)
		goto out;
	p = am_need(o, "payload", json_type_object, "", w);
	am_only(p, keys, "payload.", w);
	id = am_need(p, "resourceId", json_type_string, "payload.", w);
	fmt = am_need(p, "format", json_type_string, "payload.", w);
	if (w->status != 0)
		goto out;
	if (json_object_object_get_ex(p, "isChainRequired", &chain)) {
		if (!json_object_is_type(chain, json_type_boolean)) {
			am_refuse(w, 400, "CERT_INVALID_PAYLOAD",
			    "isChainRequired: not a boolean");
			goto out;
		}
		with_chain = json_object_get_boolean(chain);
	}
	if (strcmp(json_object_get_string(fmt), "PEM") != 0) {
		am_refuse(w, 400, "CERT_INVALID_PAYLOAD", "format: the mock "
		    "serves PEM only");
		goto out;
	}
	for (i = 0; i < a->ncerts; i++)
		if (strcmp(a->ids[i], json_object_get_string(id)) == 0)
			break;
	if (i == a->ncerts || a->m->fault == AM_DL_404) {
		am_refuse(w, 404, "NO_RECORDS_FOUND", "No matching records "
		    "found.");
		goto out;
	}
	if (a->m->fault == AM_OTHER_KEY)
		(void)mca_buf_add(&pem, a->ca_pem.data, a->ca_pem.len);
	else {
		BIO		*b = BIO_new(BIO_s_mem());
		BUF_MEM		*bm;

		if (b == NULL || PEM_write_bio_X509(b, a->certs[i]) != 1) {
			BIO_free(b);
			am_refuse(w, 500, "CERT_ERROR", "cannot write");
			goto out;
		}
		BIO_get_mem_ptr(b, &bm);
		(void)mca_buf_add(&pem, bm->data, bm->length);
		BIO_free(b);
		if (with_chain)
			(void)mca_buf_add(&pem, a->ca_pem.data, a->ca_pem.len);
	}
	if (with_chain)
		(void)mca_buf_add(&pem, a->root_pem.data, a->root_pem.len);
	w->status = 200;
	w->ctype = "application/octet-stream";
	switch (a->m->fault) {
	case AM_BIG:
		while (w->body.len <= 300u * 1024u)
			(void)mca_buf_add(&w->body, pem.data, pem.len);
		break;
	case AM_EMPTY_CHAIN:
		break;
	case AM_NOT_PEM:
		(void)mca_buf_addstr(&w->body, "Certificate: see attachment\n");
		break;
	case AM_JSON_CHAIN:
		am_json(w, 200, json_object_new_string(mca_buf_str(&pem)),
		    NULL, NULL);
		break;
	default:
		(void)mca_buf_add(&w->body, pem.data, pem.len);
		break;
	}
out:
	mca_buf_free(&pem);
	json_object_put(o);
}

/* ts_server's serve(): one request, one answer. */
static int
am_serve(void *arg, SSL *ssl, int fd)
{
	static char	 buf[TS_REQ_MAX];
	struct am	*a = arg;
	struct ts_req	 r;
	struct am_resp	 w;
	size_t		 off;
	long		 n;
	FILE		*f;

	(void)fd;
	memset(&w, 0, sizeof(w));
	mca_buf_init(&w.body);
	if ((n = ts_read_request(ssl, buf, sizeof(buf), &off)) < 0)
		return 0;
	if (ts_parse(buf, (size_t)n, off, &r) != 0)
		am_refuse(&w, 400, "BAD_REQUEST", "Malformed request");
	else if (strcmp(r.target, P_TOKEN) != 0 &&
	    strcmp(r.target, P_CREATE) != 0 &&
	    strcmp(r.target, P_DOWNLOAD) != 0)
		am_refuse(&w, 404, "NOT_FOUND", "No such API");
	else if (strcmp(r.method, "POST") != 0)
		am_refuse(&w, 405, "METHOD_NOT_ALLOWED", "POST only");
	else if (strcmp(r.target, P_TOKEN) == 0)
		am_token(a, &r, &w);
	else if (strcmp(r.target, P_CREATE) == 0)
		am_create(a, &r, &w);
	else
		am_download(a, &r, &w);
	if ((f = fopen(a->m->log, "a")) != NULL) {
		fprintf(f, "%s %s %d\n", r.method != NULL ? r.method : "?",
		    r.target != NULL ? r.target : "?", w.status);
		fclose(f);
	}
	(void)ts_respond(ssl, w.status, w.ctype != NULL ? w.ctype :
	    "application/json", w.body.data, w.body.len);
	mca_buf_free(&w.body);
	return 0;
}

/* ts_server's init(): the CA that signs, in the child. */
static int
am_init(void *arg)
{
	struct am	*a = arg;
	FILE		*f;

	/* The kernel takes connections into the backlog; no handshake. */
	if (a->m->fault == AM_SILENT)
		for (;;)
			pause();
	if (tu_read(am_path(a, "ca.pem"), &a->ca_pem) != 0 ||
	    tu_read(am_path(a, "root.pem"), &a->root_pem) != 0 ||
	    (f = fopen(am_path(a, "ca.pem"), "r")) == NULL)
		return -1;
	a->ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (a->ca == NULL || (f = fopen(am_path(a, "ca.key"), "r")) == NULL)
		return -1;
	a->cakey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return a->cakey != NULL ? 0 : -1;
}

void
avxmock_start(struct avxmock *m)
{
	struct am		 a;
	struct ts_server	 t;

	/* a is the child's: it never returns from ts_fork(). */
	memset(&a, 0, sizeof(a));
	a.m = m;
	memset(&t, 0, sizeof(t));
	t.pki = m->pki;
	t.init = am_init;
	t.serve = am_serve;
	t.arg = &a;
	ts_fork(&t);
	m->pid = t.pid;
	m->port = t.port;
}

void
avxmock_stop(struct avxmock *m)
{
	if (m != NULL)
		ts_reap(&m->pid);
}
