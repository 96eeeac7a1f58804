/*
 * An EST client (RFC 7030, RFC 8951) for microca's own certificates:
 * /cacerts and /simpleenroll, /simplereenroll with a CSR made elsewhere.
 * See estc.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "est_decode.h"
#include "estc.h"
#include "estpath.h"
#include "http.h"	/* mca_http_media_is() */
#include "httpc.h"

int
mca_estc_url(const struct mca_estc *e, const char *op, char *url,
    size_t len, struct mca_diag *d)
{
	enum mca_op	 o;
	const char	*label = e->label != NULL ? e->label : "";
	int		 r;

	if (len > 0)
		url[0] = '\0';
	if (!mca_httpc_host_ok(e->host, MCA_ESTC_HOST_MAX))
		return mca_diag(d, MCA_ERR_INVAL, "EST server host \"%.64s\": "
		    "not a host name or IP address", e->host == NULL ? "" :
		    e->host);
	if (e->port > 65535)
		return mca_diag(d, MCA_ERR_INVAL, "EST server port %u: not "
		    "1-65535", e->port);
	/* RFC 7030 3.2.2: the label is one path segment, not an operation. */
	if (*label != '\0' && (!mca_estpath_label_ok(label, strlen(label)) ||
	    mca_estpath_op(label, strlen(label), 1, &o) == 0))
		return mca_diag(d, MCA_ERR_INVAL, "EST label \"%.64s\": 1-%d "
		    "of A-Z a-z 0-9 . _ -, not starting with '.', not an "
		    "operation name", label, MCA_LABEL_MAX);
	if (op == NULL || mca_estpath_op(op, strlen(op), 0, &o) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "EST operation \"%.32s\": "
		    "unknown", op == NULL ? "" : op);
	r = snprintf(url, len, "https://%s:%u/.well-known/est/%s%s%s",
	    e->host, e->port != 0 ? e->port : 443, label,
	    *label != '\0' ? "/" : "", op);
	if (r < 0 || (size_t)r >= len) {
		if (len > 0)
			url[0] = '\0';
		return mca_diag(d, MCA_ERR_INVAL, "EST URL too long");
	}
	return 0;
}

/* The request for op on e, less method and body. */
static int
est_req(const struct mca_estc *e, const char *op, char *url, size_t len,
    char *resolve, size_t rlen, struct mca_httpc_req *req,
    struct mca_diag *d)
{
	int	 rc, r;

	memset(req, 0, sizeof(*req));
	if ((rc = mca_estc_url(e, op, url, len, d)) != 0)
		return rc;
	if (e->address != NULL) {
		if (!mca_httpc_host_ok(e->address, MCA_ESTC_HOST_MAX))
			return mca_diag(d, MCA_ERR_INVAL, "EST server address "
			    "\"%.64s\": not an IP address or host name",
			    e->address);
		r = snprintf(resolve, rlen, "%s:%u:%s", e->host,
		    e->port != 0 ? e->port : 443, e->address);
		if (r < 0 || (size_t)r >= rlen)
			return mca_diag(d, MCA_ERR_INVAL, "EST server address "
			    "too long");
		req->resolve = resolve;
	}
	req->url = url;
	req->tls = &e->tls;
	req->user = e->user;
	req->pass = e->pass;
	req->connect_timeout = e->connect_timeout;
	req->timeout = e->timeout;
	req->body_max = MCA_EST_DECODE_MAX;
	return 0;
}

/*
 * A status other than the one wanted: one line with the status and the
 * start of what the server said, printable characters only.
 */
static int
bad_status(const char *url, const struct mca_httpc_resp *resp,
    struct mca_diag *d)
{
	char	 said[121];
	size_t	 i, n = 0;
	int	 rc;
	unsigned char c;

	for (i = 0; i < resp->body.len && n < sizeof(said) - 1; i++) {
		c = resp->body.data[i];
		if (c == '\n' && n > 0)
			break;
		if (c >= 0x20 && c < 0x7f)
			said[n++] = (char)c;
	}
	said[n] = '\0';
	switch (resp->status) {
	case 401:
	case 403:
		rc = MCA_ERR_AUTH;
		break;
	case 404:
		rc = MCA_ERR_NOTFOUND;
		break;
	default:
		rc = MCA_ERR_IO;
		break;
	}
	return mca_diag(d, rc, "%.200s: HTTP %ld%s%s", url, resp->status,
	    n > 0 ? ": " : "", said);
}

/* A 200 answer's certificates (RFC 7030 4.1.3, 4.2.3). */
static int
answer_certs(const char *url, const struct mca_httpc_resp *resp,
    STACK_OF(X509) **certs, struct mca_diag *d)
{
	struct mca_diag	 why;
	int		 rc;

	if (!mca_http_media_is(resp->ctype, "application/pkcs7-mime"))
		return mca_diag(d, MCA_ERR_INVAL, "%.200s: Content-Type "
		    "\"%.64s\", not application/pkcs7-mime", url, resp->ctype);
	mca_diag_clear(&why);
	if ((rc = mca_est_decode_certs(resp->body.data, resp->body.len,
	    certs, &why)) != 0)
		return mca_diag(d, rc, "%.200s: %s", url, why.msg);
	return 0;
}

int
mca_estc_cacerts(const struct mca_estc *e, STACK_OF(X509) **certs,
    struct mca_diag *d)
{
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	char			 url[MCA_ESTC_URL_MAX];
	char			 res[MCA_ESTC_URL_MAX];
	int			 rc;

	*certs = NULL;
	memset(&resp, 0, sizeof(resp));
	if ((rc = est_req(e, "cacerts", url, sizeof(url), res, sizeof(res),
	    &req, d)) != 0)
		goto out;
	req.method = "GET";
	if ((rc = mca_httpc_do(&req, &resp, d)) != 0)
		goto out;
	if (resp.status != 200) {
		rc = bad_status(url, &resp, d);
		goto out;
	}
	rc = answer_certs(url, &resp, certs, d);
out:
	mca_httpc_resp_free(&resp);
	return rc;
}

/* Splits certs into the one for key (res->cert) and the rest. */
static int
pick_cert(const char *url, STACK_OF(X509) *certs, EVP_PKEY *key,
    struct mca_estc_result *res, struct mca_diag *d)
{
	X509	*x;
	int	 i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (res->cert == NULL &&
		    EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1) {
			res->cert = x;
			continue;
		}
		if (!sk_X509_push(res->chain, x))
			return MCA_ERR_NOMEM;
	}
	ERR_clear_error();
	if (res->cert == NULL)
		return mca_diag(d, MCA_ERR_POLICY, "%.200s: none of the %d "
		    "certificates sent is for our key", url,
		    sk_X509_num(certs));
	return 0;
}

int
mca_estc_enroll(const struct mca_estc *e, int reenroll, X509_REQ *csr,
    struct mca_estc_result *res, struct mca_diag *d)
{
	static const char *const hdrs[] = {
		/* RFC 7030 4.2.1; RFC 8951 3.2: base64 whatever it says. */
		"Content-Transfer-Encoding: base64",
		NULL
	};
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	struct mca_buf		 body = MCA_BUF_INIT;
	STACK_OF(X509)		*certs = NULL;
	EVP_PKEY		*key;
	unsigned char		*der = NULL;
	char			 url[MCA_ESTC_URL_MAX];
	char			 resolve[MCA_ESTC_URL_MAX];
	int			 n, rc;

	memset(res, 0, sizeof(*res));
	memset(&resp, 0, sizeof(resp));
	if (csr == NULL || (key = X509_REQ_get0_pubkey(csr)) == NULL) {
		rc = mca_diag(d, MCA_ERR_INVAL, "EST enroll: no CSR, or a CSR "
		    "without a public key");
		goto out;
	}
	if ((rc = est_req(e, reenroll ? "simplereenroll" : "simpleenroll",
	    url, sizeof(url), resolve, sizeof(resolve), &req, d)) != 0)
		goto out;
	if ((n = i2d_X509_REQ(csr, &der)) <= 0) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "EST enroll: cannot "
		    "encode the CSR");
		goto out;
	}
	/* RFC 7030 4.2.1: the PKCS#10 DER, base64 encoded. */
	if ((rc = mca_b64_encode(der, (size_t)n, 64, &body)) != 0) {
		mca_diag(d, rc, "EST enroll: cannot encode the CSR");
		goto out;
	}
	req.method = "POST";
	req.ctype = "application/pkcs10";
	req.headers = hdrs;
	req.body = body.data;
	req.bodylen = body.len;
	if ((rc = mca_httpc_do(&req, &resp, d)) != 0)
		goto out;
	if (resp.status == 202) {
		/* RFC 7030 4.2.3: Retry-After says when to ask again. */
		res->state = MCA_ESTC_PENDING;
		rc = mca_estc_retry_after(resp.retry_after, time(NULL),
		    &res->retry_after);
		if (rc != 0)
			mca_diag(d, rc, "%.200s: HTTP 202 with %s Retry-After "
			    "\"%.64s\"", url, rc == MCA_ERR_TOOBIG ?
			    "too long a" : "no valid", resp.retry_after);
		goto out;
	}
	if (resp.status != 200) {
		rc = bad_status(url, &resp, d);
		goto out;
	}
	if ((rc = answer_certs(url, &resp, &certs, d)) != 0)
		goto out;
	if ((res->chain = sk_X509_new_null()) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	if ((rc = pick_cert(url, certs, key, res, d)) != 0)
		goto out;
	/* res now holds the references; the stack goes without them. */
	sk_X509_free(certs);
	certs = NULL;
	res->state = MCA_ESTC_ISSUED;
	rc = 0;
out:
	if (rc != 0 && certs != NULL) {
		/* pick_cert() borrowed from certs: drop the borrowings. */
		sk_X509_free(res->chain);
		res->chain = NULL;
		res->cert = NULL;
	}
	sk_X509_pop_free(certs, X509_free);
	if (rc != 0)
		mca_estc_result_free(res);
	OPENSSL_free(der);
	mca_buf_free(&body);
	mca_httpc_resp_free(&resp);
	return rc;
}

void
mca_estc_result_free(struct mca_estc_result *res)
{
	if (res == NULL)
		return;
	X509_free(res->cert);
	sk_X509_pop_free(res->chain, X509_free);
	memset(res, 0, sizeof(*res));
}

/* ---------------------------------------------------------------- dates */

static const char *const wkday[] = {
	"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
};
static const char *const weekday[] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
	"Sunday"
};
static const char *const month[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};

/* Exactly n digits at *p: 0 with *v set and *p past them, or -1. */
static int
digits(const char **p, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

/* The literal s at *p (case-sensitive: RFC 9110 5.6.7): 0 and past, or -1. */
static int
lit(const char **p, const char *s)
{
	size_t	 n = strlen(s);

	if (strncmp(*p, s, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* One of names[0..n) at *p; its index, or -1. */
static int
name(const char **p, const char *const *names, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (lit(p, names[i]) == 0)
			return i;
	return -1;
}

/* time-of-day = hour ":" minute ":" second (RFC 9110 5.6.7). */
static int
tod(const char **p, struct tm *tm)
{
	if (digits(p, 2, &tm->tm_hour) != 0 || lit(p, ":") != 0 ||
	    digits(p, 2, &tm->tm_min) != 0 || lit(p, ":") != 0 ||
	    digits(p, 2, &tm->tm_sec) != 0)
		return -1;
	if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
		return -1;
	return 0;
}

/* An HTTP-date in one of the three forms: 0 with *t, or -1. */
static int
http_date(const char *s, time_t *t)
{
	struct tm	 tm, chk;
	const char	*p;
	int		 y, leap;

	memset(&tm, 0, sizeof(tm));
	/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	p = s;
	if (name(&p, wkday, 7) >= 0 && lit(&p, ", ") == 0) {
		if (digits(&p, 2, &tm.tm_mday) != 0 || lit(&p, " ") != 0 ||
		    (tm.tm_mon = name(&p, month, 12)) < 0 ||
		    lit(&p, " ") != 0 || digits(&p, 4, &y) != 0 ||
		    lit(&p, " ") != 0 || tod(&p, &tm) != 0 ||
		    lit(&p, " GMT") != 0 || *p != '\0')
			return -1;
		goto done;
	}
	/* rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT */
	p = s;
	if (name(&p, weekday, 7) >= 0 && lit(&p, ", ") == 0) {
		if (digits(&p, 2, &tm.tm_mday) != 0 || lit(&p, "-") != 0 ||
		    (tm.tm_mon = name(&p, month, 12)) < 0 ||
		    lit(&p, "-") != 0 || digits(&p, 2, &y) != 0 ||
		    lit(&p, " ") != 0 || tod(&p, &tm) != 0 ||
		    lit(&p, " GMT") != 0 || *p != '\0')
			return -1;
		/* RFC 9110 5.6.7 wants "no more than 50 years ahead". */
		y += y < 70 ? 2000 : 1900;
		goto done;
	}
	/* asctime-date: Sun Nov  6 08:49:37 1994 */
	p = s;
	if (name(&p, wkday, 7) >= 0 && lit(&p, " ") == 0) {
		if ((tm.tm_mon = name(&p, month, 12)) < 0 || lit(&p, " ") != 0)
			return -1;
		if (*p == ' ') {
			p++;
			if (digits(&p, 1, &tm.tm_mday) != 0)
				return -1;
		} else if (digits(&p, 2, &tm.tm_mday) != 0)
			return -1;
		if (lit(&p, " ") != 0 || tod(&p, &tm) != 0 ||
		    lit(&p, " ") != 0 || digits(&p, 4, &y) != 0 || *p != '\0')
			return -1;
		goto done;
	}
	return -1;
done:
	if (y < 1900 || tm.tm_mday < 1)
		return -1;
	tm.tm_year = y - 1900;
	/* A leap second (RFC 9110 5.6.7 allows 60) is the one before, + 1. */
	leap = tm.tm_sec == 60;
	if (leap)
		tm.tm_sec = 59;
	chk = tm;
	if ((*t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* No 31 Feb: timegm() would have moved it into March. */
	if (tm.tm_mday != chk.tm_mday || tm.tm_mon != chk.tm_mon ||
	    tm.tm_year != chk.tm_year)
		return -1;
	*t += leap;
	return 0;
}

int
mca_estc_retry_after(const char *value, time_t now, long *secs)
{
	const char	*p;
	time_t		 t;
	long		 v = 0;
	int		 big = 0;

	*secs = 0;
	if (value == NULL || *value == '\0')
		return MCA_ERR_INVAL;
	/* delta-seconds = 1*DIGIT (RFC 9110 10.2.3) */
	for (p = value; *p >= '0' && *p <= '9'; p++) {
		if (v > (MCA_ESTC_RETRY_MAX - (*p - '0')) / 10)
			big = 1;
		else
			v = v * 10 + (*p - '0');
	}
	if (p != value) {
		if (*p != '\0')
			return MCA_ERR_INVAL;
		if (big)
			return MCA_ERR_TOOBIG;
		*secs = v;
		return 0;
	}
	if (http_date(value, &t) != 0)
		return MCA_ERR_INVAL;
	if (t <= now)
		return 0;
	if (t - now > MCA_ESTC_RETRY_MAX)
		return MCA_ERR_TOOBIG;
	*secs = (long)(t - now);
	return 0;
}
