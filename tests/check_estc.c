/*
 * Tests for the EST client's parts that need no server: lib/est_decode.c
 * (certs-only PKCS#7 as servers send it), Retry-After, the URL builder
 * of lib/estc.c, and the requests lib/httpc.c refuses before sending.
 * The client against a real server: tests/integration/check_estc.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "b64.h"
#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "est_codec.h"
#include "est_decode.h"
#include "estc.h"
#include "httpc.h"
#include "pem.h"
#include "renew.h"
#include "testutil.h"

Suite	*estc_suite(void);

#define NCERT	3

static X509		*cert[NCERT];
static struct mca_buf	 der;		/* certs-only of cert[0..2] */

static void
setup(void)
{
	static const char *const cns[NCERT] = { "leaf", "sub CA", "root CA" };
	STACK_OF(X509)	*sk;
	EVP_PKEY	*k;
	int		 i;

	ck_assert_ptr_nonnull(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	ck_assert_ptr_nonnull(sk = sk_X509_new_null());
	for (i = 0; i < NCERT; i++) {
		cert[i] = tu_selfsigned(cns[i], k);
		ck_assert_int_gt(sk_X509_push(sk, cert[i]), 0);
	}
	mca_buf_init(&der);
	ck_assert_int_eq(mca_est_certs_only(sk, &der), 0);
	sk_X509_free(sk);
	EVP_PKEY_free(k);
}

static void
teardown(void)
{
	int	 i;

	for (i = 0; i < NCERT; i++)
		X509_free(cert[i]);
	mca_buf_free(&der);
}

/* ---------------------------------------------------------- decode: good */

/* How a server may send the DER: each a transformation of it. */
enum form {
	F_WRAPPED,	/* base64, 64 characters a line, LF */
	F_ONELINE,	/* base64, one line, no line break at all */
	F_CRLF,		/* base64, 76 a line, CRLF (RFC 2045 6.8) */
	F_PEM,		/* -----BEGIN PKCS7----- */
	F_PEM_CMS,	/* -----BEGIN CMS----- with CRLF */
	F_STRAY,	/* blanks, tabs, CRs and LFs anywhere */
	F_DER,		/* binary */
	F_MAX
};

static void
make_form(enum form f, struct mca_buf *out)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	size_t		 i;

	switch (f) {
	case F_WRAPPED:
		ck_assert_int_eq(mca_b64_encode(der.data, der.len, 64, out), 0);
		break;
	case F_ONELINE:
		ck_assert_int_eq(mca_b64_encode(der.data, der.len, 0, out), 0);
		break;
	case F_CRLF:
	case F_PEM_CMS:
		if (f == F_PEM_CMS)
			ck_assert_int_eq(mca_buf_addstr(out,
			    "-----BEGIN CMS-----\r\n"), 0);
		ck_assert_int_eq(mca_b64_encode(der.data, der.len, 76, &b), 0);
		for (i = 0; i < b.len; i++) {
			if (b.data[i] == '\n')
				ck_assert_int_eq(mca_buf_addc(out, '\r'), 0);
			ck_assert_int_eq(mca_buf_addc(out, b.data[i]), 0);
		}
		if (f == F_PEM_CMS)
			ck_assert_int_eq(mca_buf_addstr(out,
			    "-----END CMS-----\r\n"), 0);
		break;
	case F_PEM:
		ck_assert_int_eq(mca_buf_addstr(out, "-----BEGIN PKCS7-----\n"),
		    0);
		ck_assert_int_eq(mca_b64_encode(der.data, der.len, 64, out), 0);
		ck_assert_int_eq(mca_buf_addstr(out, "-----END PKCS7-----\n"),
		    0);
		break;
	case F_STRAY:
		ck_assert_int_eq(mca_b64_encode(der.data, der.len, 0, &b), 0);
		ck_assert_int_eq(mca_buf_addstr(out, "\r\n \t"), 0);
		for (i = 0; i < b.len; i++) {
			ck_assert_int_eq(mca_buf_addc(out, b.data[i]), 0);
			if (i % 7 == 3)
				ck_assert_int_eq(mca_buf_addstr(out,
				    i % 3 == 0 ? " " : i % 3 == 1 ? "\t\r\n" :
				    "\n"), 0);
		}
		ck_assert_int_eq(mca_buf_addstr(out, "  \r\n\r\n"), 0);
		break;
	case F_DER:
		ck_assert_int_eq(mca_buf_add(out, der.data, der.len), 0);
		break;
	default:
		ck_abort_msg("form %d", f);
	}
	mca_buf_free(&b);
}

START_TEST(test_decode)
{
	struct mca_buf	 in = MCA_BUF_INIT;
	struct mca_diag	 d;
	STACK_OF(X509)	*sk = NULL;
	int		 i;

	make_form((enum form)_i, &in);
	mca_diag_clear(&d);
	ck_assert_msg(mca_est_decode_certs(in.data, in.len, &sk, &d) == 0,
	    "form %d: %s", _i, d.msg);
	ck_assert_int_eq(sk_X509_num(sk), NCERT);
	/* In the order sent. */
	for (i = 0; i < NCERT; i++)
		ck_assert_int_eq(X509_cmp(sk_X509_value(sk, i), cert[i]), 0);
	sk_X509_pop_free(sk, X509_free);
	mca_buf_free(&in);
}
END_TEST

/* ----------------------------------------------------------- decode: bad */

enum bad {
	B_EMPTY,	/* no bytes */
	B_BLANK,	/* only whitespace */
	B_GARBAGE,	/* text that is neither */
	B_B64_NOT_P7,	/* good base64 of something else */
	B_TRAILING,	/* the DER and one more byte */
	B_TRUNCATED,	/* the DER less its last byte */
	B_NUL,		/* a NUL inside the base64 */
	B_OVERSIZE,	/* over MCA_EST_DECODE_MAX */
	B_PEM_NOEND,	/* BEGIN PKCS7 without END */
	B_PEM_BAD,	/* a PEM block with garbage inside */
	B_NOT_SIGNED,	/* a PKCS#7 of type data */
	B_NO_CERTS,	/* a certs-only with no certificate */
	B_MAX
};

static const struct {
	int		 rc;
	const char	*msg;
} bad_want[B_MAX] = {
	[B_EMPTY] = { MCA_ERR_INVAL, "certs-only PKCS#7: empty" },
	[B_BLANK] = { MCA_ERR_INVAL, "neither base64, PEM nor DER" },
	[B_GARBAGE] = { MCA_ERR_INVAL, "neither base64, PEM nor DER" },
	[B_B64_NOT_P7] = { MCA_ERR_INVAL, "not a PKCS#7 ContentInfo" },
	[B_TRAILING] = { MCA_ERR_INVAL, "1 bytes after the DER" },
	[B_TRUNCATED] = { MCA_ERR_INVAL, "not a PKCS#7 ContentInfo" },
	[B_NUL] = { MCA_ERR_INVAL, "neither base64, PEM nor DER" },
	[B_OVERSIZE] = { MCA_ERR_TOOBIG, "certs-only PKCS#7 over 1048576 "
	    "bytes" },
	[B_PEM_NOEND] = { MCA_ERR_INVAL, "bad PEM PKCS7 block" },
	[B_PEM_BAD] = { MCA_ERR_INVAL, "bad PEM PKCS7 block" },
	[B_NOT_SIGNED] = { MCA_ERR_INVAL, "not signedData" },
	[B_NO_CERTS] = { MCA_ERR_INVAL, "no certificate" },
};

START_TEST(test_decode_bad)
{
	struct mca_buf	 in = MCA_BUF_INIT, t = MCA_BUF_INIT;
	struct mca_diag	 d;
	STACK_OF(X509)	*sk = (STACK_OF(X509) *)&d;	/* must be cleared */
	STACK_OF(X509)	*none;
	PKCS7		*p7;
	unsigned char	*enc = NULL;
	int		 n;

	switch ((enum bad)_i) {
	case B_EMPTY:
		break;
	case B_BLANK:
		ck_assert_int_eq(mca_buf_addstr(&in, " \r\n\t\n"), 0);
		break;
	case B_GARBAGE:
		ck_assert_int_eq(mca_buf_addstr(&in, "<html>Internal error"
		    "</html>\n"), 0);
		break;
	case B_B64_NOT_P7:
		ck_assert_int_eq(mca_b64_encode((const unsigned char *)
		    "no certificates here", 20, 64, &in), 0);
		break;
	case B_TRAILING:
		ck_assert_int_eq(mca_buf_add(&t, der.data, der.len), 0);
		ck_assert_int_eq(mca_buf_addc(&t, 0), 0);
		ck_assert_int_eq(mca_b64_encode(t.data, t.len, 64, &in), 0);
		break;
	case B_TRUNCATED:
		ck_assert_int_eq(mca_b64_encode(der.data, der.len - 1, 64,
		    &in), 0);
		break;
	case B_NUL:
		ck_assert_int_eq(mca_b64_encode(der.data, der.len, 64, &in), 0);
		in.data[10] = '\0';
		break;
	case B_OVERSIZE:
		while (in.len <= MCA_EST_DECODE_MAX)
			ck_assert_int_eq(mca_buf_addstr(&in, "AAAA"), 0);
		break;
	case B_PEM_NOEND:
		ck_assert_int_eq(mca_buf_addstr(&in, "-----BEGIN PKCS7-----\n"),
		    0);
		ck_assert_int_eq(mca_b64_encode(der.data, der.len, 64, &in), 0);
		break;
	case B_PEM_BAD:
		ck_assert_int_eq(mca_buf_addstr(&in, "-----BEGIN PKCS7-----\n"
		    "not base64 at all!\n-----END PKCS7-----\n"), 0);
		break;
	case B_NOT_SIGNED:
		ck_assert_ptr_nonnull(p7 = PKCS7_new());
		ck_assert_int_eq(PKCS7_set_type(p7, NID_pkcs7_data), 1);
		ck_assert_int_gt(n = i2d_PKCS7(p7, &enc), 0);
		ck_assert_int_eq(mca_b64_encode(enc, (size_t)n, 64, &in), 0);
		OPENSSL_free(enc);
		PKCS7_free(p7);
		break;
	case B_NO_CERTS:
		ck_assert_ptr_nonnull(none = sk_X509_new_null());
		ck_assert_int_eq(mca_est_certs_only(none, &t), 0);
		ck_assert_int_eq(mca_b64_encode(t.data, t.len, 64, &in), 0);
		sk_X509_free(none);
		break;
	default:
		ck_abort_msg("case %d", _i);
	}
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_est_decode_certs(in.data, in.len, &sk, &d),
	    bad_want[_i].rc);
	ck_assert_ptr_null(sk);
	ck_assert_msg(strstr(d.msg, bad_want[_i].msg) != NULL,
	    "case %d: \"%s\" not in \"%s\"", _i, bad_want[_i].msg, d.msg);
	mca_buf_free(&in);
	mca_buf_free(&t);
}
END_TEST

/* ----------------------------------------------------------- Retry-After */

static const struct {
	const char	*value;
	int		 rc;
	long		 secs;
} retry[] = {
	{ "0", 0, 0 },
	{ "120", 0, 120 },
	{ "007", 0, 7 },
	{ "2147483647", 0, 2147483647L },
	{ "2147483648", MCA_ERR_TOOBIG, 0 },
	{ "99999999999999999999999999999", MCA_ERR_TOOBIG, 0 },
	{ "", MCA_ERR_INVAL, 0 },
	{ "-5", MCA_ERR_INVAL, 0 },
	{ "+5", MCA_ERR_INVAL, 0 },
	{ "12a", MCA_ERR_INVAL, 0 },
	{ "1.5", MCA_ERR_INVAL, 0 },
	{ " 10", MCA_ERR_INVAL, 0 },
	{ "10 ", MCA_ERR_INVAL, 0 },
	{ "soon", MCA_ERR_INVAL, 0 },
	/* now is Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110 5.6.7) */
	{ "Sun, 06 Nov 1994 08:49:37 GMT", 0, 0 },
	{ "Sun, 06 Nov 1994 08:54:37 GMT", 0, 300 },
	{ "Mon, 07 Nov 1994 08:49:37 GMT", 0, 86400 },
	{ "Sat, 05 Nov 1994 08:49:37 GMT", 0, 0 },	/* past */
	{ "Sunday, 06-Nov-94 08:51:37 GMT", 0, 120 },
	{ "Sun Nov  6 08:49:47 1994", 0, 10 },
	{ "Sun Nov 16 08:49:37 1994", 0, 864000 },
	{ "Sat, 31 Dec 1994 23:59:60 GMT", 0, 4806623 },	/* leap */
	{ "Fri, 31 Dec 9999 23:59:59 GMT", MCA_ERR_TOOBIG, 0 },
	{ "Sun, 31 Feb 1995 08:49:37 GMT", MCA_ERR_INVAL, 0 },
	{ "Sun, 06 Nov 1994 24:00:00 GMT", MCA_ERR_INVAL, 0 },
	{ "Sun, 06 Nov 1994 08:49:37 UTC", MCA_ERR_INVAL, 0 },
	{ "Sun, 06 Nov 1994 08:49:37 GMT ", MCA_ERR_INVAL, 0 },
	{ "Sun, 6 Nov 1994 08:49:37 GMT", MCA_ERR_INVAL, 0 },
	{ "Sun, 06 nov 1994 08:49:37 GMT", MCA_ERR_INVAL, 0 },
	{ "Sunday, 06 Nov 1994 08:49:37 GMT", MCA_ERR_INVAL, 0 },
	{ "Sun Nov 6 08:49:37 1994", MCA_ERR_INVAL, 0 },
	{ "Xyz, 06 Nov 1994 08:49:37 GMT", MCA_ERR_INVAL, 0 },
};

START_TEST(test_retry_after)
{
	struct tm	 tm;
	time_t		 now;
	long		 secs = -1;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 94;
	tm.tm_mon = 10;
	tm.tm_mday = 6;
	tm.tm_hour = 8;
	tm.tm_min = 49;
	tm.tm_sec = 37;
	now = timegm(&tm);
	ck_assert_msg(mca_estc_retry_after(retry[_i].value, now, &secs) ==
	    retry[_i].rc, "\"%s\"", retry[_i].value);
	ck_assert_msg(secs == retry[_i].secs, "\"%s\": %ld, not %ld",
	    retry[_i].value, secs, retry[_i].secs);
}
END_TEST

START_TEST(test_retry_after_null)
{
	long	 secs = -1;

	ck_assert_int_eq(mca_estc_retry_after(NULL, 0, &secs), MCA_ERR_INVAL);
	ck_assert_int_eq(secs, 0);
}
END_TEST

/* ------------------------------------------------------------------ URLs */

static const struct {
	const char	*host;
	unsigned	 port;
	const char	*label;
	const char	*op;
	const char	*url;		/* NULL: refused with msg */
	const char	*msg;
} urls[] = {
	{ "est.example.com", 0, NULL, "cacerts",
	    "https://est.example.com:443/.well-known/est/cacerts", NULL },
	{ "est.example.com", 8443, "", "simpleenroll",
	    "https://est.example.com:8443/.well-known/est/simpleenroll",
	    NULL },
	{ "10.0.0.1", 9443, "intermediate_ca-1", "simplereenroll",
	    "https://10.0.0.1:9443/.well-known/est/intermediate_ca-1/"
	    "simplereenroll", NULL },
	{ "[::1]", 443, "a.b", "csrattrs",
	    "https://[::1]:443/.well-known/est/a.b/csrattrs", NULL },
	{ "est/evil", 443, NULL, "cacerts", NULL, "host" },
	{ "est?x", 443, NULL, "cacerts", NULL, "host" },
	{ "est#x", 443, NULL, "cacerts", NULL, "host" },
	{ "user@est", 443, NULL, "cacerts", NULL, "host" },
	{ "est host", 443, NULL, "cacerts", NULL, "host" },
	{ "est\r\nX: y", 443, NULL, "cacerts", NULL, "host" },
	{ "est:443", 443, NULL, "cacerts", NULL, "host" },
	{ "-est", 443, NULL, "cacerts", NULL, "host" },
	{ "", 443, NULL, "cacerts", NULL, "host" },
	{ NULL, 443, NULL, "cacerts", NULL, "host" },
	{ "[::1", 443, NULL, "cacerts", NULL, "host" },
	{ "[::g]", 443, NULL, "cacerts", NULL, "host" },
	{ "est", 65536, NULL, "cacerts", NULL, "port" },
	{ "est", 443, "a/b", "cacerts", NULL, "label" },
	{ "est", 443, "a?b", "cacerts", NULL, "label" },
	{ "est", 443, "a#b", "cacerts", NULL, "label" },
	{ "est", 443, "a@b", "cacerts", NULL, "label" },
	{ "est", 443, "a b", "cacerts", NULL, "label" },
	{ "est", 443, "a\tb", "cacerts", NULL, "label" },
	{ "est", 443, "..", "cacerts", NULL, "label" },
	{ "est", 443, "%2e", "cacerts", NULL, "label" },
	{ "est", 443, "CACerts", "cacerts", NULL, "label" },
	{ "est", 443, "x0123456789012345678901234567890123456789012345678901"
	    "234567890123", "cacerts", NULL, "label" },
	{ "est", 443, NULL, "bogus", NULL, "operation" },
	{ "est", 443, NULL, "cacerts/../x", NULL, "operation" },
	{ "est", 443, NULL, NULL, NULL, "operation" },
};

START_TEST(test_url)
{
	struct mca_estc	 e;
	struct mca_diag	 d;
	char		 url[MCA_ESTC_URL_MAX];
	int		 rc;

	memset(&e, 0, sizeof(e));
	e.host = urls[_i].host;
	e.port = urls[_i].port;
	e.label = urls[_i].label;
	mca_diag_clear(&d);
	rc = mca_estc_url(&e, urls[_i].op, url, sizeof(url), &d);
	if (urls[_i].url != NULL) {
		ck_assert_msg(rc == 0, "case %d: %s", _i, d.msg);
		ck_assert_str_eq(url, urls[_i].url);
	} else {
		ck_assert_msg(rc == MCA_ERR_INVAL, "case %d: %d", _i, rc);
		ck_assert_str_eq(url, "");
		ck_assert_msg(strstr(d.msg, urls[_i].msg) != NULL,
		    "case %d: \"%s\" not in \"%s\"", _i, urls[_i].msg, d.msg);
	}
}
END_TEST

/*
 * From config.json to the URL: an empty est_agent_setting_name means no
 * label segment (RFC 7030 3.2.2), at the block's level and at
 * certificateRenewal_config's.
 */
static const struct {
	const char	*json;
	const char	*url;
} cfg_urls[] = {
	{ "\"intermediate_cert_config\": {\"use_est\": true, "
	    "\"appviewx_hostname\": \"est.example\", \"port\": 8443, "
	    "\"est_agent_setting_name\": \"\"}",
	    "https://est.example:8443/.well-known/est/simpleenroll" },
	{ "\"intermediate_cert_config\": {\"use_est\": true, "
	    "\"appviewx_hostname\": \"est.example\", \"port\": 8443, "
	    "\"est_agent_setting_name\": \"subca\"}",
	    "https://est.example:8443/.well-known/est/subca/simpleenroll" },
	{ "\"certificateRenewal_config\": {\"appviewx_hostname\": "
	    "\"rnw.example\", \"port\": 443, \"est_agent_setting_name\": "
	    "\"\"}", "https://rnw.example:443/.well-known/est/simpleenroll" },
};

START_TEST(test_cfg_url)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_estc	 e;
	struct mca_diag	 d;
	EVP_PKEY	*k = NULL;
	char		 json[2048], url[MCA_ESTC_URL_MAX];

	(void)snprintf(json, sizeof(json), "{\"intermediate_cert_path\": "
	    "\"/x/chain.pem\", \"intermediate_private_key_path\": "
	    "\"/x/ca.key\", \"ledger_db_path\": \"/x/ledger.db\", "
	    "\"issued_certs_dir\": \"/x/issued\", "
	    "\"end_certificate_config_1\": {\"end_point_name\": \"device\", "
	    "\"validity_in_days\": 30}, %s}", cfg_urls[_i].json);
	ck_assert_msg(tu_cfg_parse(json, &cfg, &d) == 0, "case %d: %s", _i,
	    d.msg);
	ck_assert_msg(mca_renew_upstream(cfg, MCA_RENEW_INTERMEDIATE, NULL, &e,
	    &k, &d) == 0, "case %d: %s", _i, d.msg);
	ck_assert_ptr_null(k);
	ck_assert_msg(mca_estc_url(&e, "simpleenroll", url, sizeof(url),
	    &d) == 0, "case %d: %s", _i, d.msg);
	ck_assert_str_eq(url, cfg_urls[_i].url);
	mca_cfg_free(cfg);
}
END_TEST

/* --------------------------------------------------- httpc: refused early */

static const char *const crlf_hdr[] = { "X-A: 1\r\nX-B: 2", NULL };
static const char *const noname_hdr[] = { "just words", NULL };

static const struct {
	const char		*method;
	const char		*url;
	const char		*user;
	const char		*pass;
	const char *const	*headers;
	const char		*msg;
} early[] = {
	{ "GET", "http://127.0.0.1:1/", NULL, NULL, NULL,
	    "only https:// URLs" },
	{ "GET", "ftp://127.0.0.1/", NULL, NULL, NULL, "only https:// URLs" },
	{ "GET", NULL, NULL, NULL, NULL, "only https:// URLs" },
	{ "DELETE", "https://127.0.0.1:1/", NULL, NULL, NULL,
	    "GET, POST or PUT" },
	{ "put", "https://127.0.0.1:1/", NULL, NULL, NULL,
	    "GET, POST or PUT" },
	{ "GET", "https://u:secret@127.0.0.1:1/", NULL, NULL, NULL,
	    "user information" },
	{ "GET", "https://127.0.0.1:1/a b", NULL, NULL, NULL, "space" },
	{ "GET", "https://127.0.0.1:1/\r\nX: y", NULL, NULL, NULL,
	    "control character" },
	{ "GET", "https:///x", NULL, NULL, NULL, "without a host" },
	{ "GET", "https://127.0.0.1:1/", "u", NULL, NULL, "both a user" },
	{ "GET", "https://127.0.0.1:1/", "u:v", "secret", NULL, "colon" },
	{ "GET", "https://127.0.0.1:1/", "u", "sec\nret", NULL, "colon" },
	{ "GET", "https://127.0.0.1:1/", NULL, NULL, crlf_hdr, "header 1" },
	{ "GET", "https://127.0.0.1:1/", NULL, NULL, noname_hdr, "header 1" },
};

START_TEST(test_httpc_refused)
{
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	struct mca_diag		 d;

	memset(&req, 0, sizeof(req));
	req.method = early[_i].method;
	req.url = early[_i].url;
	req.user = early[_i].user;
	req.pass = early[_i].pass;
	req.headers = early[_i].headers;
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_httpc_do(&req, &resp, &d), MCA_ERR_INVAL);
	ck_assert_msg(strstr(d.msg, early[_i].msg) != NULL,
	    "case %d: \"%s\" not in \"%s\"", _i, early[_i].msg, d.msg);
	/* Never a credential in the message. */
	ck_assert_ptr_null(strstr(d.msg, "secret"));
	ck_assert_int_eq(resp.status, 0);
	ck_assert_uint_eq(resp.body.len, 0);
	mca_httpc_resp_free(&resp);
}
END_TEST

/* A client certificate with a key that is not its own, or none at all. */
START_TEST(test_httpc_identity)
{
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	struct mca_httpc_tls	 tls;
	struct mca_diag		 d;
	char			*dir, cf[1024], kf[1024];
	EVP_PKEY		*k1, *k2;
	X509			*x;
	struct mca_buf		 pem = MCA_BUF_INIT;

	dir = tu_mkdtemp("estc");
	ck_assert_ptr_nonnull(k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	ck_assert_ptr_nonnull(k2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	x = tu_selfsigned("me", k1);
	ck_assert_int_eq(mca_pem_write_cert(x, &pem), 0);
	(void)snprintf(cf, sizeof(cf), "%s/me.pem", dir);
	(void)snprintf(kf, sizeof(kf), "%s/none.key", dir);
	ck_assert_int_eq(tu_write(cf, (const char *)pem.data, pem.len), 0);

	memset(&req, 0, sizeof(req));
	memset(&tls, 0, sizeof(tls));
	req.method = "GET";
	req.url = "https://127.0.0.1:1/";
	req.tls = &tls;
	tls.certfile = cf;
	tls.key = k2;
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_httpc_do(&req, &resp, &d), MCA_ERR_CONFIG);
	ck_assert_msg(strstr(d.msg, "not the certificate's") != NULL, "%s",
	    d.msg);
	/* Both a key file and a key object. */
	tls.keyfile = kf;
	ck_assert_int_eq(mca_httpc_do(&req, &resp, &d), MCA_ERR_INVAL);
	ck_assert_msg(strstr(d.msg, "either a key file or a key object") !=
	    NULL, "%s", d.msg);
	/* A key file that is not there: named. */
	tls.key = NULL;
	ck_assert_int_eq(mca_httpc_do(&req, &resp, &d), MCA_ERR_CONFIG);
	ck_assert_msg(strstr(d.msg, kf) != NULL, "%s", d.msg);
	/* The key, but no certificate file. */
	tls.certfile = NULL;
	ck_assert_int_eq(mca_httpc_do(&req, &resp, &d), MCA_ERR_INVAL);
	ck_assert_msg(strstr(d.msg, "without a certificate") != NULL, "%s",
	    d.msg);
	mca_httpc_resp_free(&resp);
	mca_buf_free(&pem);
	X509_free(x);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Nobody listens: a clear I/O error naming the URL. */
START_TEST(test_httpc_refused_connection)
{
	struct mca_httpc_req	 req;
	struct mca_httpc_resp	 resp;
	struct mca_diag		 d;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	/* Port 1 (tcpmux) on loopback: nothing listens there. */
	req.url = "https://127.0.0.1:1/.well-known/est/cacerts";
	req.connect_timeout = 30;
	req.timeout = 60;
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_httpc_do(&req, &resp, &d), MCA_ERR_IO);
	ck_assert_msg(strncmp(d.msg, "GET https://127.0.0.1:1/.well-known/"
	    "est/cacerts: ", 44) == 0 && strstr(d.msg, "onnect") != NULL,
	    "%s", d.msg);
	mca_httpc_resp_free(&resp);
}
END_TEST

Suite *
estc_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("estc");
	tc = tcase_create("decode");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_decode, 0, F_MAX);
	tcase_add_loop_test(tc, test_decode_bad, 0, B_MAX);
	suite_add_tcase(s, tc);

	tc = tcase_create("retry_after");
	tcase_add_loop_test(tc, test_retry_after, 0,
	    sizeof(retry) / sizeof(retry[0]));
	tcase_add_test(tc, test_retry_after_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("url");
	tcase_add_loop_test(tc, test_url, 0, sizeof(urls) / sizeof(urls[0]));
	tcase_add_loop_test(tc, test_cfg_url, 0,
	    sizeof(cfg_urls) / sizeof(cfg_urls[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("httpc");
	tcase_add_loop_test(tc, test_httpc_refused, 0,
	    sizeof(early) / sizeof(early[0]));
	tcase_add_test(tc, test_httpc_identity);
	tcase_add_test(tc, test_httpc_refused_connection);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return tu_run(estc_suite());
}
