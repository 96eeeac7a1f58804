/*
 * lib/avxdisc.c, the AppViewX discovery upload, against tests/discmock.c:
 * a real HTTPS server on loopback that requires a client certificate of
 * the test PKI (mTLS) and checks every upload strictly, recording the
 * SHA-256 of each certificate it took. A batch of the test PKI's real
 * certificates (hashed by openssl, not by us), with and without token,
 * agent and gwkey, the key as a file or as an EVP_PKEY, TLS 1.2 and 1.3;
 * each way the server fails (one line, no token in it); no client
 * certificate, one the server does not trust; a server of another name,
 * a server we do not trust, one that never answers, none at all; bad
 * arguments refused before any call; the answer judge on its own; and
 * the mock's own strictness, so that a lax client could not pass.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "apiconfig.h"
#include "avxdisc.h"
#include "b64.h"
#include "buf.h"
#include "cfg.h"
#include "discmock.h"
#include "discover.h"
#include "err.h"
#include "httpc.h"
#include "keyspec.h"
#include "p11.h"
#include "testutil.h"
#include "tlsserv.h"

Suite	*avxdisc_suite(void);

#define DISC_NAME	"nightly scan, edge-7"
#define GROUP		"Edge Gateways"
#define AGENT		"est-agent-edge"
#define TOKEN		"eyJhbGciOiJSUzI1NiJ9.discmock.c2VjcmV0"
#define GWKEY		"tenant-7"

/* The test PKI's certificates: the batch that is uploaded. */
static const char *const names[] = {
	"root", "ca", "boot-ca", "boot", "boot-expired", "foreign-ca",
	"foreign", "maker-root", "maker-int", "maker-dev", "maker-fake-int",
	"maker-fake", "server",
};
#define NCERTS	(sizeof(names) / sizeof(names[0]))

static char			*dir;
static struct mca_buf		 ders[NCERTS];
static struct mca_disc_cert	 certs[NCERTS];
static const struct mca_disc_cert *cptr[NCERTS];
static char			 locs[NCERTS][256];
static struct mca_buf		 want_hashes = MCA_BUF_INIT;

static char *
path(const char *name)
{
	static char	 p[8][1024];
	static int	 i;

	i = (i + 1) % 8;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* openssl's SHA-256 fingerprint of file, without colons, into out. */
static void
fingerprint(const char *file, char *out, size_t len)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	const char	*s;
	size_t		 n = 0;

	ck_assert_int_eq(tu_sh(&b, "'%s' x509 -in '%s' -noout -fingerprint "
	    "-sha256", tu_openssl(), file), 0);
	ck_assert_ptr_nonnull(s = strchr(mca_buf_str(&b), '='));
	for (s++; *s != '\0' && *s != '\n'; s++)
		if (*s != ':' && n + 1 < len)
			out[n++] = *s;
	out[n] = '\0';
	mca_buf_free(&b);
}

static void
setup(void)
{
	size_t	 i;

	dir = tu_mkdtemp("avxdisc");
	/* hsm-ec: a SoftHSMv2 token beside, for the mTLS key in a token */
	ck_assert_int_eq(tu_mkpki(path("pki"), "hsm-ec"), 0);
	setenv("SOFTHSM2_CONF", path("pki/softhsm2.conf"), 1);
	mca_buf_reset(&want_hashes);
	for (i = 0; i < NCERTS; i++) {
		mca_buf_init(&ders[i]);
		(void)snprintf(locs[i], sizeof(locs[i]), "%s/pki/%s.pem", dir,
		    names[i]);
		ck_assert_int_eq(tu_sh(&ders[i], "'%s' x509 -in '%s' -outform "
		    "DER", tu_openssl(), locs[i]), 0);
		memset(&certs[i], 0, sizeof(certs[i]));
		fingerprint(locs[i], certs[i].sha256, sizeof(certs[i].sha256));
		ck_assert_uint_eq(strlen(certs[i].sha256), 64);
		certs[i].location = locs[i];
		certs[i].index = (int)i % 3;
		certs[i].der = ders[i].data;
		certs[i].der_len = ders[i].len;
		cptr[i] = &certs[i];
		(void)mca_buf_printf(&want_hashes, "%s%s", i > 0 ? " " : "",
		    certs[i].sha256);
	}
	/* A file name in Latin-1: not UTF-8, sent as '?' in valid JSON. */
	(void)snprintf(locs[1], sizeof(locs[1]), "%s/pki/caf\xe9.pem", dir);
}

static void
teardown(void)
{
	size_t	 i;

	for (i = 0; i < NCERTS; i++)
		mca_buf_free(&ders[i]);
	mca_buf_free(&want_hashes);
	tu_rmtree(dir);
	free(dir);
	dir = NULL;
}

/* Everything one test needs. */
struct fx {
	struct discmock_opts	 o;
	struct discmock		 m;
	struct mca_avxdisc	 c;
	char			 resolve[128];
	char			 log[1024], scert[1024], skey[1024];
	char			 cca[1024], ca[1024], cert[1024], key[1024];
};

/* Our identity: the test PKI's name.pem and name.key. */
static void
identity(struct fx *f, const char *name)
{
	(void)snprintf(f->cert, sizeof(f->cert), "%s/pki/%s.pem", dir, name);
	(void)snprintf(f->key, sizeof(f->key), "%s/pki/%s.key", dir, name);
	f->c.tls.certfile = f->cert;
	f->c.tls.keyfile = f->key;
	f->c.tls.key = NULL;
}

/* A mock in mode and a client for it with the bootstrap identity. */
static void
prep(struct fx *f, enum discmock_mode mode)
{
	memset(f, 0, sizeof(*f));
	(void)snprintf(f->log, sizeof(f->log), "%s/discmock.log", dir);
	(void)unlink(f->log);
	(void)snprintf(f->scert, sizeof(f->scert), "%s/pki/server.pem", dir);
	(void)snprintf(f->skey, sizeof(f->skey), "%s/pki/server.key", dir);
	(void)snprintf(f->cca, sizeof(f->cca), "%s/pki/boot-ca.pem", dir);
	(void)snprintf(f->ca, sizeof(f->ca), "%s/pki/root.pem", dir);
	f->o.certfile = f->scert;
	f->o.keyfile = f->skey;
	f->o.client_ca = f->cca;
	f->o.log = f->log;
	f->o.discovery_name = DISC_NAME;
	f->o.group = GROUP;
	f->o.mode = mode;
	f->c.host = "localhost";
	f->c.tls.cafile = f->ca;
	identity(f, "boot");
	f->c.resolve = f->resolve;
	f->c.connect_timeout = 30;
	f->c.timeout = 120;
}

/* Starts the mock set up by prep() and the test's changes. */
static void
go(struct fx *f)
{
	f->c.port = discmock_start(&f->m, &f->o);
	(void)snprintf(f->resolve, sizeof(f->resolve), "%s:%u:127.0.0.1",
	    f->c.host, f->c.port);
}

/* d is one line that holds want. */
static void
assert_line(const struct mca_diag *d, const char *want)
{
	ck_assert_msg(strstr(d->msg, want) != NULL, "\"%s\" not in \"%s\"",
	    want, d->msg);
	ck_assert_ptr_null(strchr(d->msg, '\n'));
	ck_assert_ptr_null(strchr(d->msg, '\r'));
}

/* The upload of the whole batch. */
static int
upload(struct fx *f, const char *token, struct mca_avxdisc_result *r,
    struct mca_diag *d)
{
	return mca_avxdisc_upload(&f->c, token, DISC_NAME, GROUP, cptr, NCERTS,
	    r, d);
}

/* ---------------------------------------------------------------- tests */

/*
 * The batch is taken: the mock saw every certificate, in order, with the
 * hashes openssl computes. Plain; with token, agent and gwkey; the key as
 * an EVP_PKEY (as one in the token is given); over TLS 1.2.
 */
START_TEST(test_success)
{
	struct fx			 f;
	struct mca_avxdisc_result	 r;
	struct discmock_seen		 s;
	struct mca_diag			 d;
	EVP_PKEY			*k = NULL;
	FILE				*fp;

	prep(&f, DM_OK);
	if (_i == 1) {
		f.o.token = TOKEN;
		f.o.agent = f.c.agent = AGENT;
		f.o.gwkey = f.c.gwkey = GWKEY;
	}
	if (_i == 2) {
		ck_assert_ptr_nonnull(fp = fopen(f.key, "r"));
		ck_assert_ptr_nonnull(k = PEM_read_PrivateKey(fp, NULL, NULL,
		    NULL));
		fclose(fp);
		f.c.tls.keyfile = NULL;
		f.c.tls.key = k;
	}
	f.o.tls12 = _i == 3;
	go(&f);
	ck_assert_msg(upload(&f, _i == 1 ? TOKEN : NULL, &r, &d) == 0, "%s",
	    d.msg);
	ck_assert_int_eq(r.http, 200);
	ck_assert_uint_eq(r.sent, NCERTS);
	ck_assert_str_eq(r.message, "Success");
	discmock_seen(&f.m, &s);
	ck_assert_int_eq(s.uploads, 1);
	ck_assert_int_eq(s.accepted, 1);
	ck_assert_int_eq(s.refused, 0);
	ck_assert_int_eq(s.tls_refused, 0);
	ck_assert_int_eq(s.counts[0], (int)NCERTS);
	ck_assert_str_eq(s.sha256, mca_buf_str(&want_hashes));
	free(s.sha256);
	/* One certificate alone, and again: two more uploads. */
	ck_assert_msg(mca_avxdisc_upload(&f.c, _i == 1 ? TOKEN : NULL,
	    DISC_NAME, GROUP, cptr + 3, 1, &r, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(r.sent, 1);
	discmock_seen(&f.m, &s);
	ck_assert_int_eq(s.accepted, 2);
	ck_assert_int_eq(s.counts[1], 1);
	free(s.sha256);
	discmock_stop(&f.m);
	EVP_PKEY_free(k);
}
END_TEST

/* Each way the server fails: its code, one line, no token in it. */
static const struct fault {
	enum discmock_mode	 mode;
	int			 rc;
	const char		*line;
} faults[] = {
	{ DM_500, MCA_ERR_BUSY,
	    "HTTP 500: <html><body>Internal Server Error</body></html>" },
	{ DM_401, MCA_ERR_AUTH, "HTTP 401, appStatusCode AUTH_1002: Client "
	    "certificate is not mapped to an EST agent" },
	{ DM_APPSTATUS, MCA_ERR_POLICY, "HTTP 200, appStatusCode "
	    DM_APPSTATUS_CODE ": " DM_APPSTATUS_MSG " (token ***)" },
	{ DM_GARBAGE, MCA_ERR_INVAL, "HTTP 200 with a body that is not a "
	    "JSON object" },
};

START_TEST(test_faults)
{
	const struct fault		*t = &faults[_i];
	struct fx			 f;
	struct mca_avxdisc_result	 r;
	struct discmock_seen		 s;
	struct mca_diag			 d;

	prep(&f, t->mode);
	f.o.token = TOKEN;
	go(&f);
	ck_assert_int_eq(upload(&f, TOKEN, &r, &d), t->rc);
	assert_line(&d, t->line);
	assert_line(&d, "POST https://localhost:");
	assert_line(&d, "/avxapi/certificate/discovery/upload?gwsource="
	    "external");
	ck_assert_ptr_null(strstr(d.msg, TOKEN));
	ck_assert_ptr_null(strstr(d.msg, "eyJ"));
	ck_assert_uint_eq(r.sent, 0);
	discmock_seen(&f.m, &s);
	ck_assert_int_eq(s.uploads, 1);
	ck_assert_int_eq(s.accepted, 0);
	ck_assert_int_eq(s.refused, 0);
	free(s.sha256);
	discmock_stop(&f.m);
}
END_TEST

/* A 500 once: worth trying again, and the second try is taken. */
START_TEST(test_retry)
{
	struct fx			 f;
	struct mca_avxdisc_result	 r;
	struct discmock_seen		 s;
	struct mca_diag			 d;

	prep(&f, DM_500);
	f.o.faults = 1;
	go(&f);
	ck_assert_int_eq(upload(&f, NULL, &r, &d), MCA_ERR_BUSY);
	ck_assert_int_eq(r.http, 500);
	ck_assert_msg(upload(&f, NULL, &r, &d) == 0, "%s", d.msg);
	discmock_seen(&f.m, &s);
	ck_assert_int_eq(s.uploads, 2);
	ck_assert_int_eq(s.accepted, 1);
	free(s.sha256);
	discmock_stop(&f.m);
}
END_TEST

/*
 * mTLS: no client certificate is refused here before any call; one of a
 * CA the server does not know is refused in the handshake (TLS 1.2:
 * inside it, an alert, MCA_ERR_CRYPTO; TLS 1.3: after our side is done,
 * the alert or a broken line, which is a matter of timing). The mock
 * really requires one: lib/httpc.c without a certificate is refused too.
 */
START_TEST(test_mtls)
{
	struct fx			 f;
	struct mca_avxdisc_result	 r;
	struct discmock_seen		 s;
	struct mca_diag			 d;
	struct mca_httpc_req		 req;
	struct mca_httpc_resp		 resp;
	struct mca_httpc_tls		 anon;
	char				 url[256];
	int				 rc;

	prep(&f, DM_OK);
	f.o.tls12 = _i == 0;
	go(&f);
	f.c.tls.certfile = NULL;
	f.c.tls.keyfile = NULL;
	ck_assert_int_eq(upload(&f, NULL, &r, &d), MCA_ERR_CONFIG);
	assert_line(&d, "no mTLS client certificate "
	    "(mtls_client_auth_cert_config)");
	ck_assert_int_eq(r.http, 0);
	identity(&f, "foreign");
	rc = upload(&f, NULL, &r, &d);
	if (_i == 0) {
		ck_assert_msg(rc == MCA_ERR_CRYPTO, "%d %s", rc, d.msg);
		assert_line(&d, "alert");
	} else
		ck_assert_msg(rc == MCA_ERR_CRYPTO || rc == MCA_ERR_BUSY,
		    "%d %s", rc, d.msg);
	assert_line(&d, "POST https://localhost:");
	/* The mock serves one connection after the other: logged by now. */
	identity(&f, "boot");
	ck_assert_msg(upload(&f, NULL, &r, &d) == 0, "%s", d.msg);
	memset(&req, 0, sizeof(req));
	memset(&anon, 0, sizeof(anon));
	anon.cafile = f.ca;
	req.method = "POST";
	req.url = url;
	req.ctype = "application/json";
	req.body = (const unsigned char *)"{}";
	req.bodylen = 2;
	req.tls = &anon;
	req.resolve = f.resolve;
	(void)snprintf(url, sizeof(url), "https://localhost:%u"
	    MCA_AVXDISC_PATH "?gwsource=external", f.c.port);
	ck_assert_int_ne(mca_httpc_do(&req, &resp, &d), 0);
	mca_httpc_resp_free(&resp);
	ck_assert_msg(upload(&f, NULL, &r, &d) == 0, "%s", d.msg);
	discmock_seen(&f.m, &s);
	ck_assert_int_eq(s.tls_refused, 2);
	ck_assert_int_eq(s.uploads, 2);
	ck_assert_int_eq(s.accepted, 2);
	free(s.sha256);
	discmock_stop(&f.m);
}
END_TEST

/*
 * Whom we talk to: a server whose certificate does not name the host we
 * asked for, one that chains to an anchor we do not hold. Both refused
 * in the handshake; nothing is uploaded.
 */
START_TEST(test_server)
{
	struct fx			 f;
	struct mca_avxdisc_result	 r;
	struct discmock_seen		 s;
	struct mca_diag			 d;
	char				 foreign[1024];

	prep(&f, DM_OK);
	if (_i == 0)
		f.c.host = "avx.example";
	else {
		(void)snprintf(foreign, sizeof(foreign),
		    "%s/pki/foreign-ca.pem", dir);
		f.c.tls.cafile = foreign;
	}
	go(&f);
	ck_assert_int_eq(upload(&f, NULL, &r, &d), MCA_ERR_CRYPTO);
	assert_line(&d, _i == 0 ? "POST https://avx.example:" :
	    "POST https://localhost:");
	ck_assert_int_eq(r.http, 0);
	discmock_seen(&f.m, &s);
	ck_assert_int_eq(s.uploads, 0);
	free(s.sha256);
	discmock_stop(&f.m);
}
END_TEST

/*
 * A server that takes the request and never answers: the call ends by
 * the connection's timeout (a short one: the assertion is on the error,
 * not on the time), worth trying again. Then a port nobody listens on.
 */
START_TEST(test_unreachable)
{
	struct fx			 f;
	struct mca_avxdisc_result	 r;
	struct mca_diag			 d;
	unsigned			 port;
	int				 sock;

	prep(&f, DM_SILENT);
	f.c.timeout = 2;
	go(&f);
	ck_assert_int_eq(upload(&f, NULL, &r, &d), MCA_ERR_BUSY);
	assert_line(&d, "POST https://localhost:");
	assert_line(&d, "imed out");
	/*
	 * Not read: how far the mock got before the client gave up (the
	 * request read or not) is a matter of speed.
	 */
	discmock_stop(&f.m);
	/* closed: a port that was free a moment ago */
	sock = ts_listen(&port);
	close(sock);
	f.c.port = port;
	(void)snprintf(f.resolve, sizeof(f.resolve), "localhost:%u:127.0.0.1",
	    port);
	ck_assert_int_eq(upload(&f, NULL, &r, &d), MCA_ERR_BUSY);
	assert_line(&d, "POST https://localhost:");
	ck_assert_int_eq(r.http, 0);
}
END_TEST

/* Bad arguments and certificates: refused before any call, each named. */
START_TEST(test_bad_args)
{
	struct fx			 f;
	struct mca_avxdisc_result	 r;
	struct discmock_seen		 s;
	struct mca_diag			 d;
	struct mca_disc_cert		 bad;
	const struct mca_disc_cert	*one[1] = { &bad };
	const struct mca_disc_cert	*many[MCA_AVXDISC_BATCH_MAX + 1];
	unsigned char			 junk[4] = { 0x30, 0x02, 0x05, 0x00 };
	struct mca_buf			 trail = MCA_BUF_INIT;
	size_t				 i;

	prep(&f, DM_OK);
	f.o.group = NULL;	/* any */
	go(&f);
#define REFUSED(rc_, want_) do {					\
	ck_assert_int_eq(mca_avxdisc_upload(&f.c, NULL, DISC_NAME, GROUP, \
	    one, 1, &r, &d), (rc_));					\
	assert_line(&d, (want_));					\
} while (0)
	/* a certificate whose sha256 is another's */
	bad = certs[0];
	memcpy(bad.sha256, certs[1].sha256, sizeof(bad.sha256));
	REFUSED(MCA_ERR_INVAL, "pki/root.pem#0: sha256 is not the SHA-256 of "
	    "the DER");
	/* lowercase hex is not what discover.h gives */
	bad = certs[0];
	for (i = 0; i < 64; i++)
		if (bad.sha256[i] >= 'A')
			bad.sha256[i] = (char)(bad.sha256[i] + 32);
	REFUSED(MCA_ERR_INVAL, "sha256 is not");
	/* not a certificate; one followed by a byte more; none; too big */
	bad = certs[0];
	bad.der = junk;
	bad.der_len = sizeof(junk);
	REFUSED(MCA_ERR_INVAL, "the DER is not one certificate");
	ck_assert_int_eq(mca_buf_add(&trail, ders[0].data, ders[0].len), 0);
	ck_assert_int_eq(mca_buf_addc(&trail, 0), 0);
	bad.der = trail.data;
	bad.der_len = trail.len;
	REFUSED(MCA_ERR_INVAL, "the DER is not one certificate");
	bad.der = NULL;
	bad.der_len = 0;
	REFUSED(MCA_ERR_INVAL, "the certificate is empty or over 65536");
	bad = certs[0];
	bad.der_len = MCA_AVXDISC_DER_MAX + 1;
	REFUSED(MCA_ERR_INVAL, "the certificate is empty or over 65536");
	bad = certs[0];
	bad.location = "";
	REFUSED(MCA_ERR_INVAL, "certificate 0: no certificate or no location");
	one[0] = NULL;
	REFUSED(MCA_ERR_INVAL, "certificate 0: no certificate");
	one[0] = &bad;
	/* the same judgement, on its own, for a caller that sets aside */
	ck_assert_int_eq(mca_avxdisc_cert_ok(&bad, 7, &d), MCA_ERR_INVAL);
	assert_line(&d, "certificate 7: no certificate or no location");
	ck_assert_int_eq(mca_avxdisc_cert_ok(&certs[2], 0, &d), 0);
	ck_assert_str_eq(d.msg, "");
	/* batch sizes */
	ck_assert_int_eq(mca_avxdisc_upload(&f.c, NULL, DISC_NAME, GROUP, cptr,
	    0, &r, &d), MCA_ERR_INVAL);
	assert_line(&d, "0 certificates: 1 to 200 in one request");
	for (i = 0; i < MCA_AVXDISC_BATCH_MAX + 1; i++)
		many[i] = &certs[i % NCERTS];
	ck_assert_int_eq(mca_avxdisc_upload(&f.c, NULL, DISC_NAME, GROUP, many,
	    MCA_AVXDISC_BATCH_MAX + 1, &r, &d), MCA_ERR_INVAL);
	assert_line(&d, "201 certificates: 1 to 200");
	/* names: missing, a control character, not UTF-8, too long */
	bad = certs[0];
	ck_assert_int_eq(mca_avxdisc_upload(&f.c, NULL, NULL, GROUP, one, 1,
	    &r, &d), MCA_ERR_INVAL);
	assert_line(&d, "discovery_name: missing");
	ck_assert_int_eq(mca_avxdisc_upload(&f.c, NULL, "a\nb", GROUP, one, 1,
	    &r, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_avxdisc_upload(&f.c, NULL, DISC_NAME, "caf\xe9",
	    one, 1, &r, &d), MCA_ERR_INVAL);
	assert_line(&d, "groupName: missing, or not 1-255 bytes of UTF-8");
	ck_assert_int_eq(mca_avxdisc_upload(&f.c, NULL, DISC_NAME,
	    "\xed\xa0\x80", one, 1, &r, &d), MCA_ERR_INVAL);	/* surrogate */
	/* the token: one word */
	ck_assert_int_eq(mca_avxdisc_upload(&f.c, "two words", DISC_NAME,
	    GROUP, one, 1, &r, &d), MCA_ERR_INVAL);
	assert_line(&d, "token not one word");
	ck_assert_ptr_null(strstr(d.msg, "two words"));
	/* the connection */
	f.c.host = "bad host";
	REFUSED(MCA_ERR_CONFIG, "appviewx_hostname \"bad host\"");
	f.c.host = "localhost";
	f.c.port = 0;
	REFUSED(MCA_ERR_CONFIG, "port 0: not 1-65535");
	f.c.port = 70000;
	REFUSED(MCA_ERR_CONFIG, "port 70000");
	f.c.port = f.m.ts.port;
	f.c.gwkey = "a&b=c";
	REFUSED(MCA_ERR_CONFIG, "gwkey");
	f.c.gwkey = NULL;
	f.c.agent = "agent\t1";
	REFUSED(MCA_ERR_CONFIG, "est_agent_setting_name");
	f.c.agent = "";		/* empty: not sent, fine */
	ck_assert_msg(mca_avxdisc_upload(&f.c, NULL, DISC_NAME, GROUP, one, 1,
	    &r, &d) == 0, "%s", d.msg);
	/* UTF-8 of two, three and four bytes is text */
	ck_assert_msg(mca_avxdisc_upload(&f.c, NULL, DISC_NAME,
	    "Ger\xc3\xa4te \xe2\x82\xac \xf0\x9f\x94\x92", one, 1, &r,
	    &d) == 0, "%s", d.msg);
	ck_assert_int_eq(mca_avxdisc_upload(NULL, NULL, DISC_NAME, GROUP, one,
	    1, &r, &d), MCA_ERR_INTERNAL);
#undef REFUSED
	/* Only the last two good ones reached the server. */
	discmock_seen(&f.m, &s);
	ck_assert_int_eq(s.uploads, 2);
	ck_assert_int_eq(s.refused, 0);
	free(s.sha256);
	mca_buf_free(&trail);
	discmock_stop(&f.m);
}
END_TEST

/* The answer judge on its own (what the fuzzer drives). */
static const struct judged {
	long		 status;
	const char	*body;
	int		 rc;
	const char	*line;		/* in d, or the message on success */
} judged[] = {
	{ 200, "{\"response\": {\"accepted\": 3}, \"message\": \"Success\", "
	    "\"appStatusCode\": null}", 0, "Success" },
	{ 200, "{\"response\": null}", 0, "" },
	{ 200, " {\"message\": \"ok\\u0007 \\n done\"} \r\n", 0, "ok done" },
	{ 200, "{\"response\": 1} x", MCA_ERR_INVAL, "not a JSON object" },
	{ 200, "[]", MCA_ERR_INVAL, "not a JSON object" },
	{ 200, "", MCA_ERR_INVAL, "not a JSON object" },
	{ 200, "{\"message\": \"a\", \"message\": 1", MCA_ERR_INVAL,
	    "not a JSON object" },
	{ 200, "{\"appStatusCode\": 7, \"message\": \"no\"}", MCA_ERR_POLICY,
	    "HTTP 200, appStatusCode 7: no" },
	{ 200, "{\"appStatusCode\": \"X\", \"message\": \"token "
	    "SECRETTOKEN1 bad\"}", MCA_ERR_POLICY, "appStatusCode X: token *** "
	    "bad" },
	{ 400, "{\"appStatusCode\": \"BAD\"}", MCA_ERR_POLICY,
	    "HTTP 400, appStatusCode BAD" },
	{ 400, "plain words", MCA_ERR_POLICY, "HTTP 400: plain words" },
	{ 401, "", MCA_ERR_AUTH, "HTTP 401" },
	{ 403, "{\"message\": \"forbidden\"}", MCA_ERR_AUTH,
	    "HTTP 403: forbidden" },
	{ 404, "<html>", MCA_ERR_NOTFOUND, "HTTP 404: <html>" },
	{ 408, "", MCA_ERR_BUSY, "HTTP 408" },
	{ 429, "", MCA_ERR_BUSY, "HTTP 429" },
	{ 503, "SECRETTOKEN1", MCA_ERR_BUSY, "HTTP 503: ***" },
	{ 201, "{}", MCA_ERR_IO, "HTTP 201" },
	{ 302, "", MCA_ERR_IO, "HTTP 302" },
	{ 0, "", MCA_ERR_IO, "HTTP 0" },
};

START_TEST(test_judge)
{
	const struct judged		*t = &judged[_i];
	struct mca_avxdisc_result	 r;
	struct mca_diag			 d;
	int				 rc;

	rc = mca_avxdisc_judge("https://avx.example:443/x", t->status,
	    (const unsigned char *)t->body, strlen(t->body), "SECRETTOKEN1",
	    &r, &d);
	ck_assert_msg(rc == t->rc, "case %d: %d %s", _i, rc, d.msg);
	ck_assert_int_eq(r.http, t->status);
	if (rc == 0)
		ck_assert_str_eq(r.message, t->line);
	else {
		assert_line(&d, t->line);
		assert_line(&d, "POST https://avx.example:443/x: HTTP");
	}
	ck_assert_ptr_null(strstr(d.msg, "SECRETTOKEN1"));
	ck_assert_ptr_null(strstr(r.message, "SECRETTOKEN1"));
}
END_TEST

/* An embedded NUL, and an answer over the cap. */
START_TEST(test_judge_caps)
{
	struct mca_avxdisc_result	 r;
	struct mca_diag			 d;
	static unsigned char		 big[MCA_AVXDISC_ANSWER_MAX + 1];
	static const unsigned char	 nul[] = "{\"message\": \"a\"}\0";

	ck_assert_int_eq(mca_avxdisc_judge("u", 200, nul, sizeof(nul) - 1,
	    NULL, &r, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_avxdisc_judge("u", 200, nul, sizeof(nul) - 2,
	    NULL, &r, &d), 0);
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	ck_assert_int_eq(mca_avxdisc_judge("u", 200, big, sizeof(big), NULL,
	    &r, &d), MCA_ERR_TOOBIG);
	assert_line(&d, "over 65536 bytes");
	ck_assert_int_eq(mca_avxdisc_judge("u", 200, big, sizeof(big) - 1,
	    NULL, &r, &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_avxdisc_judge(NULL, 200, NULL, 0, NULL, &r, &d),
	    MCA_ERR_INVAL);
}
END_TEST

/*
 * The mock is strict: what a lax client might send is refused, each with
 * its status, and no upload is recorded. Sent with lib/httpc.c directly.
 */
static const struct lax {
	const char	*target;
	const char	*method;
	const char	*ctype;
	const char	*token;
	const char	*body;	/* %s: a good certificate element */
	long		 status;
	const char	*why;
} lax[] = {
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    TOKEN, "{\"payload\": {\"discoveryName\": \"" DISC_NAME "\", "
	    "\"groupName\": \"" GROUP "\", \"source\": \"microca\", "
	    "\"certificates\": [%s]}}", 200, "" },
	{ "/avxapi/certificate/discovery/uploads?gwsource=external", "POST",
	    "application/json", TOKEN, "{}", 404, "no such API" },
	{ MCA_AVXDISC_PATH, "POST", "application/json", TOKEN, "{}", 400,
	    "gwsource is mandatory" },
	{ MCA_AVXDISC_PATH "?gwsource=external&gwkey=x", "POST",
	    "application/json", TOKEN, "{}", 400,
	    "query \"gwsource=external&gwkey=x\"" },
	{ MCA_AVXDISC_PATH "?gwsource=external", "PUT", "application/json",
	    TOKEN, "{}", 405, "POST only" },
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "text/plain", TOKEN,
	    "{}", 415, "Content-Type" },
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    NULL, "{}", 401, "token is invalid" },
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    "eyJwrong", "{}", 401, "token is invalid" },
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    TOKEN, "{\"payload\": {}} x", 400, "not one JSON text" },
	/* unwrapped */
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    TOKEN, "{\"discoveryName\": \"" DISC_NAME "\", \"groupName\": \""
	    GROUP "\", \"source\": \"microca\", \"certificates\": [%s]}", 400,
	    "body.discoveryName: not a known field" },
	/* a field missing, one unknown, a wrong name, a wrong type */
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    TOKEN, "{\"payload\": {\"discoveryName\": \"" DISC_NAME "\", "
	    "\"source\": \"microca\", \"certificates\": [%s]}}", 400,
	    "payload: 3 fields, 4 wanted" },
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    TOKEN, "{\"payload\": {\"discoveryName\": \"" DISC_NAME "\", "
	    "\"groupName\": \"" GROUP "\", \"source\": \"microca\", "
	    "\"estAgentSettingName\": \"a\", \"certificates\": [%s]}}", 400,
	    "payload.estAgentSettingName: not a known field" },
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    TOKEN, "{\"payload\": {\"discoveryName\": \"other\", "
	    "\"groupName\": \"" GROUP "\", \"source\": \"microca\", "
	    "\"certificates\": [%s]}}", 400,
	    "payload.discoveryName: \"other\"" },
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    TOKEN, "{\"payload\": {\"discoveryName\": \"" DISC_NAME "\", "
	    "\"groupName\": \"" GROUP "\", \"source\": \"microca\", "
	    "\"certificates\": {}}}", 400,
	    "payload.certificates: not an array" },
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    TOKEN, "{\"payload\": {\"discoveryName\": \"" DISC_NAME "\", "
	    "\"groupName\": \"" GROUP "\", \"source\": \"microca\", "
	    "\"certificates\": []}}", 400,
	    "payload.certificates: not an array" },
	/* certificate elements */
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    TOKEN, "{\"payload\": {\"discoveryName\": \"" DISC_NAME "\", "
	    "\"groupName\": \"" GROUP "\", \"source\": \"microca\", "
	    "\"certificates\": [%s, {\"certificate\": \"MAUCAwQF\", "
	    "\"location\": \"/a#0\", \"sha256\": \"00\"}]}}", 400,
	    "certificates[1].certificate: not one DER certificate" },
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    TOKEN, "{\"payload\": {\"discoveryName\": \"" DISC_NAME "\", "
	    "\"groupName\": \"" GROUP "\", \"source\": \"microca\", "
	    "\"certificates\": [{\"certificate\": \"MA UC\", "
	    "\"location\": \"/a#0\", \"sha256\": \"00\"}]}}", 400,
	    "certificates[0].certificate: not base64" },
	{ MCA_AVXDISC_PATH "?gwsource=external", "POST", "application/json",
	    TOKEN, "{\"payload\": {\"discoveryName\": \"" DISC_NAME "\", "
	    "\"groupName\": \"" GROUP "\", \"source\": \"microca\", "
	    "\"certificates\": [{\"location\": \"/a#0\", \"sha256\": "
	    "\"00\"}]}}", 400, "certificates[0]: 2 fields, 3 wanted" },
};

/* tmpl into b, its "%s" (if any) replaced by el. */
static void
fill(struct mca_buf *b, const char *tmpl, const struct mca_buf *el)
{
	const char	*p;

	mca_buf_reset(b);
	if ((p = strstr(tmpl, "%s")) == NULL) {
		ck_assert_int_eq(mca_buf_addstr(b, tmpl), 0);
		return;
	}
	ck_assert_int_eq(mca_buf_add(b, tmpl, (size_t)(p - tmpl)), 0);
	ck_assert_int_eq(mca_buf_add(b, el->data, el->len), 0);
	ck_assert_int_eq(mca_buf_addstr(b, p + 2), 0);
}

/* %s in the lax bodies: the element for certs[3], its sha256 as given */
static void
good_element(struct mca_buf *b, const char *sha)
{
	(void)mca_buf_addstr(b, "{\"certificate\": \"");
	ck_assert_int_eq(mca_b64_encode(ders[3].data, ders[3].len, 0, b), 0);
	(void)mca_buf_printf(b, "\", \"location\": \"/etc/ssl/x.pem#2\", "
	    "\"sha256\": \"%s\"}", sha);
}

START_TEST(test_mock_strict)
{
	const struct lax		*t = &lax[_i];
	struct fx			 f;
	struct discmock_seen		 s;
	struct mca_diag			 d;
	struct mca_httpc_req		 req;
	struct mca_httpc_resp		 resp;
	struct mca_buf			 el = MCA_BUF_INIT, body = MCA_BUF_INIT;
	struct mca_buf			 th = MCA_BUF_INIT;
	const char			*hdrs[2] = { NULL, NULL };
	char				 url[512];

	prep(&f, DM_OK);
	f.o.token = TOKEN;
	go(&f);
	good_element(&el, certs[3].sha256);
	fill(&body, t->body, &el);
	if (t->token != NULL) {
		(void)mca_buf_printf(&th, "token: %s", t->token);
		hdrs[0] = mca_buf_str(&th);
	}
	(void)snprintf(url, sizeof(url), "https://localhost:%u%s", f.c.port,
	    t->target);
	memset(&req, 0, sizeof(req));
	req.method = t->method;
	req.url = url;
	req.ctype = t->ctype;
	req.headers = hdrs;
	req.body = body.data;
	req.bodylen = body.len;
	req.tls = &f.c.tls;
	req.resolve = f.resolve;
	ck_assert_msg(mca_httpc_do(&req, &resp, &d) == 0, "%s", d.msg);
	ck_assert_msg(resp.status == t->status, "case %d: HTTP %ld %s", _i,
	    resp.status, mca_buf_str(&resp.body));
	discmock_seen(&f.m, &s);
	if (t->status == 200) {
		ck_assert_int_eq(s.accepted, 1);
		ck_assert_str_eq(s.sha256, certs[3].sha256);
	} else {
		ck_assert_int_eq(s.uploads, 0);
		ck_assert_int_eq(s.refused, 1);
		ck_assert_msg(strstr(s.last_refusal, t->why) != NULL,
		    "case %d: \"%s\" not in \"%s\"", _i, t->why,
		    s.last_refusal);
	}
	free(s.sha256);
	mca_httpc_resp_free(&resp);
	/* the same good element with another certificate's hash */
	if (_i == 0) {
		mca_buf_reset(&el);
		good_element(&el, certs[4].sha256);
		fill(&body, t->body, &el);
		req.body = body.data;
		req.bodylen = body.len;
		ck_assert_msg(mca_httpc_do(&req, &resp, &d) == 0, "%s", d.msg);
		ck_assert_int_eq(resp.status, 400);
		discmock_seen(&f.m, &s);
		ck_assert_ptr_nonnull(strstr(s.last_refusal,
		    "certificates[0].sha256: not the certificate's"));
		free(s.sha256);
		mca_httpc_resp_free(&resp);
	}
	mca_buf_free(&el);
	mca_buf_free(&body);
	mca_buf_free(&th);
	discmock_stop(&f.m);
}
END_TEST

/*
 * A service token from APIconfig's account (the mock serves the token
 * call), then the upload with it; a wrong secret: MCA_ERR_AUTH, the secret
 * in no message.
 */
START_TEST(test_token)
{
	struct fx			 f;
	struct mca_apiconfig		 api;
	struct mca_avxdisc_result	 r;
	struct discmock_seen		 s;
	struct mca_diag			 d;
	struct mca_buf			 tok = MCA_BUF_INIT;
	char				 secret[] = "s3cr3t-Zq9";

	prep(&f, DM_OK);
	f.o.token = TOKEN;
	f.o.client_id = "microca-disc";
	f.o.client_secret = "s3cr3t-Zq9";
	go(&f);
	memset(&api, 0, sizeof(api));
	api.path = "/etc/microca/APIconfig";
	api.appviewx_hostname = "localhost";
	api.appviewx_port_number = (int)f.c.port;
	ck_assert_int_eq(mca_avxdisc_token(&f.c, &api, &tok, &d),
	    MCA_ERR_CONFIG);
	assert_line(&d, "/etc/microca/APIconfig: service_account_client_id");
	api.service_account_client_id = "microca-disc";
	api.service_account_client_secret = secret;
	ck_assert_msg(mca_avxdisc_token(&f.c, &api, &tok, &d) == 0, "%s",
	    d.msg);
	ck_assert_str_eq(mca_buf_str(&tok), TOKEN);
	ck_assert_msg(upload(&f, mca_buf_str(&tok), &r, &d) == 0, "%s", d.msg);
	/* without the token: 401 from the mock */
	ck_assert_int_eq(upload(&f, NULL, &r, &d), MCA_ERR_AUTH);
	assert_line(&d, "HTTP 401, appStatusCode TOKEN_INVALID");
	secret[0] = 'S';
	ck_assert_int_eq(mca_avxdisc_token(&f.c, &api, &tok, &d),
	    MCA_ERR_AUTH);
	ck_assert_ptr_null(strstr(d.msg, secret));
	discmock_seen(&f.m, &s);
	ck_assert_int_eq(s.tokens, 2);
	ck_assert_int_eq(s.accepted, 1);
	ck_assert_int_eq(s.refused, 1);
	free(s.sha256);
	mca_buf_free_secret(&tok);
	discmock_stop(&f.m);
}
END_TEST

/* config.json to a connection: what goes where, and what is missing. */
#define CFG_BASE "\"intermediate_cert_path\": \"/etc/microca/chain.pem\", " \
	"\"intermediate_private_key_path\": \"/etc/microca/ca.key\", " \
	"\"mtls_ca_cert\": \"/etc/microca/clients.pem\", " \
	"\"end_certificate_config_1\": {\"end_point_name\": \"device\", " \
	"\"validity_in_days\": 30}, \"upstream_timeout_seconds\": 77, " \
	"\"upstream_connect_timeout_seconds\": 7, " \
	"\"certificateRenewal_config\": {\"upstream_ca_cert\": " \
	"\"/etc/microca/avx-ca.pem\"}"
#define CFG_DISC "\"discover_certificate_config\": {" \
	"\"is_discovery_required\": true, \"discovery_name\": \"d1\", " \
	"\"groupName\": \"g1\", \"appviewx_hostname\": \"avx.example\", " \
	"\"port\": \"8443\", \"est_agent_setting_name\": \"edge\"}"
#define CFG_MTLS(k) "\"mtls_client_auth_cert_config\": {" \
	"\"mtls_auth_cert_path\": \"/etc/microca/auth.pem\", " k "}"

START_TEST(test_from_cfg)
{
	static const char *const docs[] = {
		"{" CFG_BASE ", " CFG_DISC ", "
		    CFG_MTLS("\"mtls_auth_key_path\": "
		    "\"/etc/microca/auth.key\"") "}",
		"{" CFG_BASE ", " CFG_DISC "}",
		"{" CFG_BASE ", " CFG_MTLS("\"mtls_auth_key_path\": "
		    "\"/etc/microca/auth.key\"") "}",
		"{" CFG_BASE ", " CFG_DISC ", \"pkcs11_library\": "
		    "\"/usr/lib/softhsm/libsofthsm2.so\", "
		    "\"pkcs11_library_pin\": \"1234\", "
		    CFG_MTLS("\"is_private_key_label_required\": true, "
		    "\"mtls_auth_key_label\": \"auth\"") "}",
	};
	static const char *const lines[] = {
		"",
		TU_CFG_PATH ": mtls_client_auth_cert_config: missing",
		TU_CFG_PATH ": discover_certificate_config: appviewx_hostname "
		    "and port: missing",
		TU_CFG_PATH ": mtls_client_auth_cert_config: the key is in "
		    "the token, which is not open",
	};
	struct mca_cfg		*cfg = NULL;
	struct mca_apiconfig	 api;
	struct mca_avxdisc	 c;
	struct mca_diag		 d;
	EVP_PKEY		*k = (EVP_PKEY *)&c;	/* the call clears it */

	ck_assert_msg(tu_cfg_parse(docs[_i], &cfg, &d) == 0, "%s", d.msg);
	memset(&api, 0, sizeof(api));
	api.appviewx_gwkey = GWKEY;
	if (_i > 0) {
		ck_assert_int_eq(mca_avxdisc_from_cfg(&c, cfg, &api, NULL, &k,
		    &d), MCA_ERR_CONFIG);
		assert_line(&d, lines[_i]);
		ck_assert_ptr_null(k);
		mca_cfg_free(cfg);
		return;
	}
	ck_assert_msg(mca_avxdisc_from_cfg(&c, cfg, &api, NULL, &k, &d) == 0,
	    "%s", d.msg);
	ck_assert_ptr_null(k);
	ck_assert_str_eq(c.host, "avx.example");
	ck_assert_uint_eq(c.port, 8443);
	ck_assert_str_eq(c.agent, "edge");
	ck_assert_str_eq(c.gwkey, GWKEY);
	ck_assert_str_eq(c.tls.cafile, "/etc/microca/avx-ca.pem");
	ck_assert_str_eq(c.tls.certfile, "/etc/microca/auth.pem");
	ck_assert_str_eq(c.tls.keyfile, "/etc/microca/auth.key");
	ck_assert_ptr_null(c.tls.key);
	ck_assert_int_eq(c.connect_timeout, 7);
	ck_assert_int_eq(c.timeout, 77);
	ck_assert_ptr_null(c.resolve);
	ck_assert_msg(mca_avxdisc_from_cfg(&c, cfg, NULL, NULL, &k, &d) == 0,
	    "%s", d.msg);
	ck_assert_ptr_null(c.gwkey);
	mca_cfg_free(cfg);
}
END_TEST

/*
 * As microca-discover runs: config.json names the host, the mTLS client
 * certificate and its key by label in the PKCS#11 token; the key never
 * leaves the token, and the upload goes through.
 */
START_TEST(test_token_key)
{
	struct fx			 f;
	struct mca_cfg			*cfg = NULL;
	struct mca_p11			*p = NULL;
	struct mca_avxdisc_result	 r;
	struct discmock_seen		 s;
	struct mca_diag			 d;
	struct mca_buf			 json = MCA_BUF_INIT;
	EVP_PKEY			*pub = NULL, *k = NULL;
	const char			*mod = getenv("SOFTHSM2_MODULE");
	FILE				*fp;

	prep(&f, DM_OK);
	f.o.agent = AGENT;
	go(&f);
	if (mod == NULL || *mod == '\0')
		mod = "/usr/lib/softhsm/libsofthsm2.so";
	ck_assert_msg(mca_p11_session(mod, NULL, "1234", &p, &d) == 0, "%s",
	    d.msg);
	ck_assert_msg(mca_p11_keygen(p, MCA_KEYTYPE_EC, 256, "mtls-client",
	    NULL, &pub, &d) == 0, "%s", d.msg);
	/* its certificate from the bootstrap CA (a throw-away key signs
	 * the CSR; the certificate gets the token's public key) */
	ck_assert_ptr_nonnull(fp = fopen(path("auth-pub.pem"), "w"));
	ck_assert_int_eq(PEM_write_PUBKEY(fp, pub), 1);
	fclose(fp);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s/pki' && '%s' req -new -key "
	    "foreign.key -subj '/O=microca test/CN=microca-discover' -config "
	    "req.cnf -out auth.csr && '%s' x509 -req -in auth.csr -CA "
	    "boot-ca.pem -CAkey boot-ca.key -CAcreateserial -extfile exts.cnf "
	    "-extensions client -days 2 -sha256 -force_pubkey ../auth-pub.pem "
	    "-out ../auth.pem 2>/dev/null", dir, tu_openssl(), tu_openssl()),
	    0);
	(void)mca_buf_printf(&json, "{" CFG_BASE ", "
	    "\"pkcs11_library\": \"%s\", \"pkcs11_library_pin\": \"1234\", "
	    "\"upstream_ca_cert\": \"%s/pki/root.pem\", "
	    "\"discover_certificate_config\": {\"is_discovery_required\": "
	    "true, \"discovery_name\": \"" DISC_NAME "\", \"groupName\": \""
	    GROUP "\", \"appviewx_hostname\": \"localhost\", \"port\": %u, "
	    "\"est_agent_setting_name\": \"" AGENT "\"}, "
	    "\"mtls_client_auth_cert_config\": {\"mtls_auth_cert_path\": "
	    "\"%s/auth.pem\", \"is_private_key_label_required\": true, "
	    "\"mtls_auth_key_label\": \"mtls-client\"}}", mod, dir, f.c.port,
	    dir);
	ck_assert_msg(tu_cfg_parse(mca_buf_str(&json), &cfg, &d) == 0, "%s",
	    d.msg);
	ck_assert_msg(mca_avxdisc_from_cfg(&f.c, cfg, NULL, p, &k, &d) == 0,
	    "%s", d.msg);
	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_eq(f.c.tls.key, k);
	ck_assert_ptr_null(f.c.tls.keyfile);
	/* certificateRenewal_config's anchor comes first: not this one */
	ck_assert_str_eq(f.c.tls.cafile, "/etc/microca/avx-ca.pem");
	f.c.tls.cafile = f.ca;
	f.c.resolve = f.resolve;
	ck_assert_msg(upload(&f, NULL, &r, &d) == 0, "%s", d.msg);
	discmock_seen(&f.m, &s);
	ck_assert_int_eq(s.accepted, 1);
	ck_assert_str_eq(s.sha256, mca_buf_str(&want_hashes));
	ck_assert_int_eq(s.tls_refused, 0);
	free(s.sha256);
	discmock_stop(&f.m);
	EVP_PKEY_free(k);
	EVP_PKEY_free(pub);
	mca_p11_close(p);
	mca_cfg_free(cfg);
	mca_buf_free(&json);
}
END_TEST

Suite *
avxdisc_suite(void)
{
	Suite	*s = suite_create("avxdisc");
	TCase	*tc = tcase_create("upload");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_success, 0, 4);
	tcase_add_loop_test(tc, test_faults, 0, (int)(sizeof(faults) /
	    sizeof(faults[0])));
	tcase_add_test(tc, test_retry);
	tcase_add_loop_test(tc, test_mtls, 0, 2);
	tcase_add_loop_test(tc, test_server, 0, 2);
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_bad_args);
	tcase_add_loop_test(tc, test_judge, 0, (int)(sizeof(judged) /
	    sizeof(judged[0])));
	tcase_add_test(tc, test_judge_caps);
	tcase_add_loop_test(tc, test_mock_strict, 0, (int)(sizeof(lax) /
	    sizeof(lax[0])));
	tcase_add_test(tc, test_token);
	tcase_add_loop_test(tc, test_from_cfg, 0, 4);
	tcase_add_test(tc, test_token_key);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(avxdisc_suite());
}
