/*
 * An HTTPS client over libcurl (the client side; lib/http.c is the
 * server side). One function, one request: the caps, the timeouts and the
 * error line are the same for every caller. See httpc.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "httpc.h"
#include "pem.h"

/* What the callbacks found wrong; curl only learns "write error". */
enum cb_err {
	CB_OK,
	CB_BODY_TOOBIG,
	CB_HDR_TOOBIG,
	CB_HDR_BAD,
	CB_NOMEM,
	CB_MAX
};

struct xfer {
	struct mca_httpc_resp	*resp;
	size_t			 body_max;
	size_t			 hdr_total;
	enum cb_err		 err;
	char			 errhdr[32];	/* the header at fault */
	/* TLS client authentication, for ssl_ctx_cb() */
	STACK_OF(X509)		*certs;
	EVP_PKEY		*key;
};

static size_t
body_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer	*x = arg;
	size_t		 n = size * nmemb;

	if (n > x->body_max || x->resp->body.len > x->body_max - n) {
		x->err = CB_BODY_TOOBIG;
		return 0;
	}
	if (mca_buf_add(&x->resp->body, ptr, n) != 0) {
		x->err = CB_NOMEM;
		return 0;
	}
	return n;
}

/* Copies a header value (OWS trimmed, RFC 9110 5.5) into dst. */
static int
capture(struct xfer *x, const char *name, const char *v, size_t len,
    char *dst)
{
	size_t	 i;

	while (len > 0 && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	(void)snprintf(x->errhdr, sizeof(x->errhdr), "%s", name);
	if (len >= MCA_HTTPC_VALUE_MAX) {
		x->err = CB_HDR_TOOBIG;
		return -1;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 && v[i] != '\t') {
			x->err = CB_HDR_BAD;
			return -1;
		}
		else if ((unsigned char)v[i] == 0x7f) {
			x->err = CB_HDR_BAD;
			return -1;
		}
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

/* One header line at a time, CRLF included (curl's promise). */
static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} want[] = {
		{ "Content-Type", offsetof(struct mca_httpc_resp, ctype) },
		{ "Content-Transfer-Encoding",
		    offsetof(struct mca_httpc_resp, cte) },
		{ "Retry-After", offsetof(struct mca_httpc_resp, retry_after) },
		{ "Location", offsetof(struct mca_httpc_resp, location) },
	};
	struct xfer		*x = arg;
	struct mca_httpc_resp	*r = x->resp;
	size_t			 n = size * nmemb, len = n, nl, i;

	if (n > MCA_HTTPC_HEADERS_MAX ||
	    x->hdr_total > MCA_HTTPC_HEADERS_MAX - n) {
		x->err = CB_HDR_TOOBIG;
		(void)snprintf(x->errhdr, sizeof(x->errhdr), "all");
		return 0;
	}
	x->hdr_total += n;
	while (len > 0 && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r'))
		len--;
	/* A new status line (after a 1xx): forget the interim headers. */
	if (len >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		r->ctype[0] = r->cte[0] = r->retry_after[0] = '\0';
		r->location[0] = '\0';
		return n;
	}
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		nl = strlen(want[i].name);
		if (len > nl && ptr[nl] == ':' &&
		    strncasecmp(ptr, want[i].name, nl) == 0) {
			if (capture(x, want[i].name, ptr + nl + 1,
			    len - nl - 1, (char *)r + want[i].off) != 0)
				return 0;
			break;
		}
	}
	return n;
}

/*
 * Hands our certificate (and its chain) and key to OpenSSL directly, so
 * that a key inside a token is used where it is (libcurl's SSLKEY only
 * takes files or an engine).
 */
static CURLcode
ssl_ctx_cb(CURL *curl, void *sslctx, void *arg)
{
	SSL_CTX		*ctx = sslctx;
	struct xfer	*x = arg;
	int		 i;

	(void)curl;
	if (SSL_CTX_use_certificate(ctx, sk_X509_value(x->certs, 0)) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, x->key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		return CURLE_SSL_CERTPROBLEM;
	for (i = 1; i < sk_X509_num(x->certs); i++)
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(x->certs,
		    i)) != 1)
			return CURLE_SSL_CERTPROBLEM;
	return CURLE_OK;
}

/* No passphrase prompt: an encrypted key file is refused. */
static int
nopass_cb(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Loads the client certificate (and chain) and the key into x. */
static int
load_identity(const struct mca_httpc_tls *t, struct xfer *x,
    struct mca_diag *d)
{
	BIO	*bio = NULL;
	int	 rc;

	if ((t->keyfile == NULL) == (t->key == NULL))
		return mca_diag(d, MCA_ERR_INVAL, "TLS client certificate "
		    "%s: give either a key file or a key object",
		    t->certfile);
	if ((rc = mca_pem_load_certs(t->certfile, &x->certs, d)) != 0)
		return rc == MCA_ERR_NOMEM ? rc : MCA_ERR_CONFIG;
	if (t->key != NULL) {
		if (EVP_PKEY_up_ref(t->key) != 1)
			return MCA_ERR_INTERNAL;
		x->key = t->key;
	} else {
		if ((bio = BIO_new_file(t->keyfile, "r")) == NULL)
			return mca_diag_crypto(d, MCA_ERR_CONFIG, "%s: cannot "
			    "read the TLS client key", t->keyfile);
		x->key = PEM_read_bio_PrivateKey(bio, NULL, nopass_cb, NULL);
		BIO_free(bio);
		if (x->key == NULL)
			return mca_diag_crypto(d, MCA_ERR_CONFIG, "%s: not a "
			    "PEM private key without a passphrase",
			    t->keyfile);
	}
	if (X509_check_private_key(sk_X509_value(x->certs, 0), x->key) != 1)
		return mca_diag_crypto(d, MCA_ERR_CONFIG, "%s: the TLS "
		    "client key is not the certificate's", t->certfile);
	return 0;
}

/* Control characters (CR, LF, NUL, ...) or spaces: never in a URL. */
static int
has_ctl(const char *s, int space_ok)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f ||
		    (!space_ok && *s == ' '))
			return 1;
	return 0;
}

/* Judges the request before anything is sent. */
static int
check_req(const struct mca_httpc_req *req, struct mca_diag *d)
{
	const char	*auth;
	size_t		 alen, i;

	if (req->method == NULL || (strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "POST") != 0 &&
	    strcmp(req->method, "PUT") != 0))
		return mca_diag(d, MCA_ERR_INVAL, "HTTP method must be GET, "
		    "POST or PUT");
	if (req->url == NULL || strncasecmp(req->url, "https://", 8) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "%.200s: only https:// URLs "
		    "are allowed", req->url == NULL ? "(null)" : req->url);
	if (has_ctl(req->url, 0))
		return mca_diag(d, MCA_ERR_INVAL, "URL with a space or a "
		    "control character");
	auth = req->url + 8;
	alen = strcspn(auth, "/?#");
	if (memchr(auth, '@', alen) != NULL)
		return mca_diag(d, MCA_ERR_INVAL, "URL with user information: "
		    "credentials go in user and pass");
	if (alen == 0)
		return mca_diag(d, MCA_ERR_INVAL, "URL without a host");
	if ((req->user == NULL) != (req->pass == NULL))
		return mca_diag(d, MCA_ERR_INVAL, "HTTP Basic needs both a "
		    "user and a password");
	/* RFC 7617 2: no colon in the user-id, no control characters. */
	if (req->user != NULL && (strchr(req->user, ':') != NULL ||
	    has_ctl(req->user, 1) || has_ctl(req->pass, 1)))
		return mca_diag(d, MCA_ERR_INVAL, "HTTP Basic user with a "
		    "colon, or a control character in the credentials");
	if (req->ctype != NULL && has_ctl(req->ctype, 1))
		return mca_diag(d, MCA_ERR_INVAL, "Content-Type with a control "
		    "character");
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
		if (has_ctl(req->headers[i], 1) ||
		    strchr(req->headers[i], ':') == NULL)
			return mca_diag(d, MCA_ERR_INVAL, "request header %zu is "
			    "not one \"Name: value\" line", i + 1);
	if (req->resolve != NULL && has_ctl(req->resolve, 0))
		return mca_diag(d, MCA_ERR_INVAL, "resolve entry with a space "
		    "or a control character");
	if (req->body == NULL && req->bodylen != 0)
		return mca_diag(d, MCA_ERR_INVAL, "request body missing");
	if (req->tls != NULL && req->tls->certfile == NULL &&
	    (req->tls->keyfile != NULL || req->tls->key != NULL))
		return mca_diag(d, MCA_ERR_INVAL, "TLS client key without a "
		    "certificate");
	return 0;
}

/* Wipes every string of a header list, then frees it (NULL-safe). */
static void
slist_free_secret(struct curl_slist *l)
{
	struct curl_slist	*p;

	for (p = l; p != NULL; p = p->next)
		OPENSSL_cleanse(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/* Appends s to *l; 0 or MCA_ERR_NOMEM. */
static int
slist_add(struct curl_slist **l, const char *s)
{
	struct curl_slist	*n;

	if ((n = curl_slist_append(*l, s)) == NULL)
		return MCA_ERR_NOMEM;
	*l = n;
	return 0;
}

/* Builds the request's header list: ours, then the caller's. */
static int
make_headers(const struct mca_httpc_req *req, struct curl_slist **l)
{
	struct mca_buf	 cred = MCA_BUF_INIT, hdr = MCA_BUF_INIT;
	size_t		 i;
	int		 rc;

	/* No "Expect: 100-continue" round trip on a POST. */
	if ((rc = slist_add(l, "Expect:")) != 0)
		goto out;
	if (req->ctype != NULL) {
		if ((rc = mca_buf_printf(&hdr, "Content-Type: %s",
		    req->ctype)) != 0 ||
		    (rc = slist_add(l, mca_buf_str(&hdr))) != 0)
			goto out;
		mca_buf_reset(&hdr);
	}
	if (req->user != NULL) {
		/* RFC 7617 2: base64 of user-id ":" password. */
		if ((rc = mca_buf_reserve(&cred, strlen(req->user) +
		    strlen(req->pass) + 1)) != 0 ||
		    (rc = mca_buf_printf(&cred, "%s:%s", req->user,
		    req->pass)) != 0 ||
		    (rc = mca_buf_reserve(&hdr, 32 + cred.len / 3 * 4 + 4)) != 0 ||
		    (rc = mca_buf_addstr(&hdr, "Authorization: Basic ")) != 0 ||
		    (rc = mca_b64_encode(cred.data, cred.len, 0, &hdr)) != 0 ||
		    (rc = slist_add(l, mca_buf_str(&hdr))) != 0)
			goto out;
	}
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
		if ((rc = slist_add(l, req->headers[i])) != 0)
			goto out;
	rc = 0;
out:
	mca_buf_free_secret(&cred);
	mca_buf_free_secret(&hdr);
	return rc;
}

/* Which MCA_ERR_* a curl failure is. */
static int
curl_rc(CURLcode c)
{
	switch (c) {
	case CURLE_OUT_OF_MEMORY:
		return MCA_ERR_NOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return MCA_ERR_INVAL;
	case CURLE_FILESIZE_EXCEEDED:
		return MCA_ERR_TOOBIG;
	case CURLE_SSL_CACERT_BADFILE:
		return MCA_ERR_CONFIG;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return MCA_ERR_CRYPTO;
	default:
		return MCA_ERR_IO;
	}
}

#define SETOPT(h, o, v) do {						\
	if ((cc = curl_easy_setopt((h), (o), (v))) != CURLE_OK)		\
		goto curlfail;						\
} while (0)

int
mca_httpc_do(const struct mca_httpc_req *req, struct mca_httpc_resp *resp,
    struct mca_diag *d)
{
	CURL			*h = NULL;
	struct curl_slist	*hdrs = NULL, *res = NULL;
	struct xfer		 x;
	char			 errbuf[CURL_ERROR_SIZE];
	const char		*why;
	CURLcode		 cc = CURLE_OK;
	long			 status = 0;
	int			 rc = MCA_ERR_INTERNAL;

	memset(resp, 0, sizeof(*resp));
	mca_buf_init(&resp->body);
	memset(&x, 0, sizeof(x));
	errbuf[0] = '\0';
	x.resp = resp;
	x.body_max = req->body_max != 0 ? req->body_max : MCA_HTTPC_BODY_MAX;
	if ((rc = check_req(req, d)) != 0)
		goto out;
	if (req->tls != NULL && req->tls->certfile != NULL &&
	    (rc = load_identity(req->tls, &x, d)) != 0)
		goto out;
	if ((rc = make_headers(req, &hdrs)) != 0) {
		mca_diag(d, rc, "%s %.200s: cannot build the request headers",
		    req->method, req->url);
		goto out;
	}
	if (req->resolve != NULL && (rc = slist_add(&res, req->resolve)) != 0)
		goto out;
	rc = MCA_ERR_INTERNAL;
	if ((h = curl_easy_init()) == NULL) {
		mca_diag(d, rc, "curl_easy_init failed");
		goto out;
	}
	SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_URL, req->url);
	/* HTTPS only, and no redirect is followed. */
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(h, CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	SETOPT(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
	SETOPT(h, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(h, CURLOPT_MAXREDIRS, 0L);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT, req->connect_timeout > 0 ?
	    req->connect_timeout : (long)MCA_HTTPC_CONNECT_TIMEOUT);
	SETOPT(h, CURLOPT_TIMEOUT, req->timeout > 0 ? req->timeout :
	    (long)MCA_HTTPC_TIMEOUT);
	SETOPT(h, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	/* The server's certificate and name are always checked. */
	SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->tls != NULL && req->tls->cafile != NULL)
		SETOPT(h, CURLOPT_CAINFO, req->tls->cafile);
	if (x.certs != NULL) {
		SETOPT(h, CURLOPT_SSL_CTX_DATA, &x);
		SETOPT(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	}
	if (res != NULL)
		SETOPT(h, CURLOPT_RESOLVE, res);
	SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
	SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x.body_max);
	SETOPT(h, CURLOPT_WRITEFUNCTION, body_cb);
	SETOPT(h, CURLOPT_WRITEDATA, &x);
	SETOPT(h, CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(h, CURLOPT_HEADERDATA, &x);
	if (strcmp(req->method, "GET") != 0) {
		/*
		 * POST, or PUT with the body sent as POST sends it (from
		 * memory, with a Content-Length) under the other method
		 * name: RFC 9110 9.3.4.
		 */
		SETOPT(h, CURLOPT_POST, 1L);
		SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->bodylen);
		SETOPT(h, CURLOPT_POSTFIELDS, req->bodylen > 0 ?
		    (const char *)req->body : "");
		if (strcmp(req->method, "PUT") == 0)
			SETOPT(h, CURLOPT_CUSTOMREQUEST, "PUT");
	} else
		SETOPT(h, CURLOPT_HTTPGET, 1L);

	cc = curl_easy_perform(h);
	if (x.err != CB_OK) {
		switch (x.err) {
		case CB_BODY_TOOBIG:
			rc = mca_diag(d, MCA_ERR_TOOBIG, "%s %.200s: response "
			    "body over %zu bytes", req->method, req->url,
			    x.body_max);
			break;
		case CB_HDR_TOOBIG:
			rc = mca_diag(d, MCA_ERR_TOOBIG, "%s %.200s: response "
			    "header %s over its cap", req->method, req->url,
			    x.errhdr);
			break;
		case CB_HDR_BAD:
			rc = mca_diag(d, MCA_ERR_INVAL, "%s %.200s: response "
			    "header %s with a control character", req->method,
			    req->url, x.errhdr);
			break;
		default:
			rc = mca_diag(d, MCA_ERR_NOMEM, "%s %.200s: out of "
			    "memory", req->method, req->url);
			break;
		}
		goto out;
	}
	if (cc != CURLE_OK) {
		why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc);
		rc = mca_diag(d, curl_rc(cc), "%s %.200s: %s%s", req->method,
		    req->url, cc == CURLE_FILESIZE_EXCEEDED ?
		    "response body over its cap: " : "", why);
		goto out;
	}
	if ((cc = curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status)) !=
	    CURLE_OK)
		goto curlfail;
	resp->status = status;
	rc = 0;
	goto out;
curlfail:
	rc = mca_diag(d, cc == CURLE_OUT_OF_MEMORY ? MCA_ERR_NOMEM :
	    MCA_ERR_INTERNAL, "%s %.200s: libcurl: %s", req->method, req->url,
	    curl_easy_strerror(cc));
out:
	curl_easy_cleanup(h);
	slist_free_secret(hdrs);
	curl_slist_free_all(res);
	sk_X509_pop_free(x.certs, X509_free);
	EVP_PKEY_free(x.key);
	ERR_clear_error();
	if (rc != 0)
		mca_buf_free(&resp->body);
	return rc;
}

int
mca_httpc_host_ok(const char *h, size_t max)
{
	size_t	 n, i;

	if (h == NULL || (n = strlen(h)) == 0 || n > max)
		return 0;
	if (h[0] == '[') {
		if (n < 4 || h[n - 1] != ']')
			return 0;
		for (i = 1; i < n - 1; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				return 0;
		return 1;
	}
	if (h[0] == '-' || h[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' &&
		    h[i] != '.')
			return 0;
	return 1;
}

void
mca_httpc_resp_free(struct mca_httpc_resp *resp)
{
	if (resp == NULL)
		return;
	mca_buf_free(&resp->body);
	memset(resp, 0, sizeof(*resp));
	mca_buf_init(&resp->body);
}
