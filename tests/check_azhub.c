/*
 * lib/azhub.c, the IoT Hub identity sequence, against tests/hubmock.c: a
 * real HTTPS server on loopback that keeps devices with etags and checks
 * each request (target, method, Content-Type, If-Match, the Device JSON,
 * the SAS token's HMAC). Create, update with rollover, already in place
 * (no PUT: a rerun after kill -9 changes nothing), the etag race (412),
 * a device created meanwhile (409), throttling and server errors with
 * Retry-After, the hub down and back, 401 and a fresh token, a wrong
 * key, a hub we do not trust, an answer over the cap, bad arguments.
 *
 * The tokens are made here with OpenSSL, as the IoT Hub security guide
 * says (HMAC-SHA256 keyed with the base64-decoded key over the
 * URL-encoded resource URI, a newline and the expiry): lib/azure.c is
 * not this branch's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "azhub.h"
#include "buf.h"
#include "err.h"
#include "hubmock.h"
#include "testutil.h"

Suite	*azhub_suite(void);

#define HOST	"localhost"
#define POLICY	"registryReadWrite"
/* base64 of 32 bytes, as the portal shows a policy's key */
#define KEY	"c2VjcmV0LWtleS1mb3ItdGhlLWh1Yi10ZXN0cy0xMjM="
#define KEY2	"b3RoZXIta2V5LW5vYm9keS1zaG91bGQtdXNlLWl0LTE="

#define T1	"1111111111111111111111111111111111111111"
#define T2	"2222222222222222222222222222222222222222"
#define T3	"3333333333333333333333333333333333333333"
#define TX	"ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD"
#define TBEE	"0000000000000000000000000000000000000BEE"
#define S1	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define S2	"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" \
		"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static char	*dir;

static char *
path(const char *name)
{
	static char	 p[8][1024];
	static int	 i;

	i = (i + 1) % 8;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void
setup(void)
{
	dir = tu_mkdtemp("azhub");
	ck_assert_int_eq(tu_mkpki(path("pki"), "file"), 0);
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(dir);
	dir = NULL;
}

/* ------------------------------------------------------------ the token */

/* RFC 3986 percent-encoding, unreserved kept, uppercase hex. */
static void
pct(const char *s, struct mca_buf *out)
{
	for (; *s != '\0'; s++)
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s) != NULL)
			ck_assert_int_eq(mca_buf_addc(out, (unsigned char)*s),
			    0);
		else
			ck_assert_int_eq(mca_buf_printf(out, "%%%02X",
			    (unsigned char)*s), 0);
}

/* SharedAccessSignature sr=&sig=&se=&skn= for uri, signed with key_b64. */
static char *
sas(const char *uri, const char *key_b64, const char *policy,
    long long expiry)
{
	struct mca_buf	 sr = MCA_BUF_INIT, tosign = MCA_BUF_INIT;
	struct mca_buf	 tok = MCA_BUF_INIT;
	unsigned char	 key[64], mac[EVP_MAX_MD_SIZE];
	char		 b64[128];
	unsigned int	 maclen = 0;
	size_t		 kl = strlen(key_b64);
	int		 len;
	char		*s;

	pct(uri, &sr);
	ck_assert_int_eq(mca_buf_printf(&tosign, "%s\n%lld", mca_buf_str(&sr),
	    expiry), 0);
	ck_assert_int_le(kl / 4 * 3, sizeof(key));
	ck_assert_int_gt(len = EVP_DecodeBlock(key,
	    (const unsigned char *)key_b64, (int)kl), 0);
	len -= (key_b64[kl - 1] == '=') + (key_b64[kl - 2] == '=');
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, len, tosign.data,
	    tosign.len, mac, &maclen));
	(void)EVP_EncodeBlock((unsigned char *)b64, mac, (int)maclen);
	ck_assert_int_eq(mca_buf_printf(&tok, "SharedAccessSignature sr=%s&"
	    "sig=", mca_buf_str(&sr)), 0);
	pct(b64, &tok);
	ck_assert_int_eq(mca_buf_printf(&tok, "&se=%lld", expiry), 0);
	if (policy != NULL)
		ck_assert_int_eq(mca_buf_printf(&tok, "&skn=%s", policy), 0);
	ck_assert_ptr_nonnull(s = strdup(mca_buf_str(&tok)));
	OPENSSL_cleanse(key, sizeof(key));
	mca_buf_free(&sr);
	mca_buf_free(&tosign);
	mca_buf_free(&tok);
	return s;
}

/* What the test's token callback gives. */
struct tokens {
	const char	*key;		/* first token's key */
	const char	*key2;		/* a fresh one's key (NULL: key) */
	const char	*host;		/* sr (NULL: HOST) */
	const char	*policy;	/* skn (NULL: POLICY; "": none) */
	long long	 life;		/* first token's: se = now + life */
	int		 calls, renews;
	int		 fail;		/* return this instead */
	char		 last[512];	/* the last token given */
};

static int
auth_cb(void *arg, int renew, char **value, struct mca_diag *d)
{
	struct tokens	*t = arg;
	long long	 now = (long long)time(NULL);

	t->calls++;
	t->renews += renew;
	if (t->fail != 0)
		return mca_diag(d, t->fail, "no token today");
	*value = sas(t->host != NULL ? t->host : HOST,
	    renew && t->key2 != NULL ? t->key2 : t->key,
	    t->policy == NULL ? POLICY : t->policy[0] == '\0' ? NULL :
	    t->policy, renew ? now + 3600 : now + t->life);
	(void)snprintf(t->last, sizeof(t->last), "%s", *value);
	return 0;
}

/* ------------------------------------------------------------- fixture */

struct fx {
	struct hubmock		 m;
	struct mca_azhub	 h;
	struct tokens		 t;
	struct mca_buf		 url;
	char			 state[1024];
};

/* The device URL for id on the mock's port. */
static void
set_url(struct fx *f, const char *id)
{
	mca_buf_reset(&f->url);
	ck_assert_int_eq(mca_buf_printf(&f->url, "https://%s:%u/devices/",
	    HOST, f->m.port), 0);
	pct(id, &f->url);
	ck_assert_int_eq(mca_buf_addstr(&f->url, "?api-version="
	    HM_API_VERSION), 0);
	f->h.url = mca_buf_str(&f->url);
}

/* A fresh mock (its own state) and a client for device id. */
static void
start(struct fx *f, const char *id)
{
	memset(f, 0, sizeof(*f));
	mca_buf_init(&f->url);
	/* Each test runs in a process of its own: a directory of its own. */
	(void)snprintf(f->state, sizeof(f->state), "%s/hubXXXXXX", dir);
	ck_assert_ptr_nonnull(mkdtemp(f->state));
	f->m.pki = path("pki");
	f->m.dir = f->state;
	f->m.host = HOST;
	f->m.key_b64 = KEY;
	f->m.policy = POLICY;
	hubmock_start(&f->m);
	f->t.key = KEY;
	f->t.life = 3600;
	f->h.cafile = path("pki/root.pem");
	f->h.timeout = 60;
	f->h.auth = auth_cb;
	f->h.auth_arg = &f->t;
	set_url(f, id);
}

static void
stop(struct fx *f)
{
	hubmock_stop(&f->m);
	mca_buf_free(&f->url);
}

/* Asserts the device's "TYPE PRIMARY SECONDARY" (etag aside). */
static void
assert_dev(struct fx *f, const char *id, const char *want)
{
	struct mca_buf	 b = MCA_BUF_INIT;

	hubmock_device(&f->m, id, &b);
	ck_assert_msg(strncmp(mca_buf_str(&b), want, strlen(want)) == 0 &&
	    b.data[strlen(want)] == ' ', "device %s: \"%s\", want \"%s\"", id,
	    mca_buf_str(&b), want);
	mca_buf_free(&b);
}

/* The device's etag as the mock has it. */
static void
dev_etag(struct fx *f, const char *id, char *out, size_t len)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	const char	*sp;

	hubmock_device(&f->m, id, &b);
	ck_assert_ptr_nonnull(sp = strrchr(mca_buf_str(&b), ' '));
	(void)snprintf(out, len, "%s", sp + 1);
	mca_buf_free(&b);
}

/* Asserts the request log is exactly want. */
static void
assert_log(struct fx *f, const char *want)
{
	struct mca_buf	 b = MCA_BUF_INIT;

	hubmock_log(&f->m, &b);
	ck_assert_msg(strcmp(mca_buf_str(&b), want) == 0, "log:\n%s\nwant:\n%s",
	    mca_buf_str(&b), want);
	mca_buf_free(&b);
}

/* Asserts the line d names what, and holds no token. */
static void
assert_line(const struct fx *f, const struct mca_diag *d, const char *what)
{
	ck_assert_msg(strstr(d->msg, what) != NULL, "\"%s\" not in \"%s\"",
	    what, d->msg);
	ck_assert_ptr_null(strchr(d->msg, '\n'));
	ck_assert_ptr_null(strstr(d->msg, "sig="));
	ck_assert_ptr_null(strstr(d->msg, "SharedAccessSignature"));
	if (f->t.last[0] != '\0')
		ck_assert_ptr_null(strstr(d->msg, f->t.last));
}

/* Runs an update of id to primary p, secondary s; returns its rc. */
static int
run(struct fx *f, const char *id, const char *p, const char *s, int sha256,
    struct mca_azhub_result *r, struct mca_diag *d)
{
	struct mca_azhub_update	 u;

	memset(&u, 0, sizeof(u));
	u.device_id = id;
	u.primary = p;
	u.secondary = s;
	u.sha256 = sha256;
	mca_diag_clear(d);
	return mca_azhub_update(&f->h, &u, r, d);
}

/* A selfSigned device's identity, with what the portal also shows. */
static void
seed(struct fx *f, const char *id, const char *p, const char *s)
{
	struct mca_buf	 b = MCA_BUF_INIT;

	ck_assert_int_eq(mca_buf_printf(&b, "{\"deviceId\": \"%s\", "
	    "\"status\": \"disabled\", \"statusReason\": \"on the bench\", "
	    "\"capabilities\": {\"iotEdge\": false}, "
	    "\"cloudToDeviceMessageCount\": 0, "
	    "\"authentication\": {\"type\": \"selfSigned\", "
	    "\"symmetricKey\": {\"primaryKey\": null, \"secondaryKey\": null}, "
	    "\"x509Thumbprint\": {\"primaryThumbprint\": \"%s\", "
	    "\"secondaryThumbprint\": %s%s%s}}}", id, p, s != NULL ? "\"" : "",
	    s != NULL ? s : "null", s != NULL ? "\"" : ""), 0);
	hubmock_seed(&f->m, mca_buf_str(&b));
	mca_buf_free(&b);
}

/* ---------------------------------------------------------------- tests */

static const struct {
	const char	*id;
	const char	*p, *s;
	int		 sha256;
	const char	*want;
} creates[] = {
	{ "dev-1", T1, NULL, 0, "selfSigned " T1 " -" },
	{ "dev-2", T1, T2, 0, "selfSigned " T1 " " T2 },
	{ "meter:7@plant(b)$'x", T3, NULL, 0, "selfSigned " T3 " -" },
	{ "dev.sha256", S1, S2, 1, "selfSigned " S1 " " S2 },
};

/* No device: GET 404, then a new selfSigned one, without If-Match. */
START_TEST(test_create)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	struct mca_buf		 want = MCA_BUF_INIT, st = MCA_BUF_INIT;
	char			 etag[128];
	int			 rc;

	start(&f, creates[_i].id);
	rc = run(&f, creates[_i].id, creates[_i].p, creates[_i].s,
	    creates[_i].sha256, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.created, 1);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.retry_after, -1);
	assert_dev(&f, creates[_i].id, creates[_i].want);
	dev_etag(&f, creates[_i].id, etag, sizeof(etag));
	ck_assert_str_eq(r.etag, etag);
	ck_assert_int_eq(hubmock_puts(&f.m, creates[_i].id), 1);
	hubmock_field(&f.m, creates[_i].id, "status", &st);
	ck_assert_str_eq(mca_buf_str(&st), "\"enabled\"");
	ck_assert_int_eq(mca_buf_printf(&want, "GET %s 404\nPUT %s 200\n",
	    creates[_i].id, creates[_i].id), 0);
	assert_log(&f, mca_buf_str(&want));
	ck_assert_int_eq(f.t.calls, 1);
	/* Again: in place, no PUT. */
	rc = run(&f, creates[_i].id, creates[_i].p, creates[_i].s,
	    creates[_i].sha256, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.created, 0);
	ck_assert_str_eq(r.etag, etag);
	ck_assert_int_eq(hubmock_puts(&f.m, creates[_i].id), 1);
	mca_buf_free(&want);
	mca_buf_free(&st);
	stop(&f);
}
END_TEST

/*
 * Rollover: the hub's primary becomes the secondary; everything else of
 * the identity (status, statusReason, capabilities) stays as it was.
 */
START_TEST(test_rollover)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	struct mca_buf		 b = MCA_BUF_INIT;
	char			 old[128], etag[128];
	int			 rc;

	start(&f, "dev-r");
	seed(&f, "dev-r", T1, NULL);
	dev_etag(&f, "dev-r", old, sizeof(old));
	rc = run(&f, "dev-r", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.created, 0);
	assert_dev(&f, "dev-r", "selfSigned " T2 " " T1);
	dev_etag(&f, "dev-r", etag, sizeof(etag));
	ck_assert_str_ne(etag, old);
	ck_assert_str_eq(r.etag, etag);
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-r"), 1);
	hubmock_field(&f.m, "dev-r", "status", &b);
	ck_assert_str_eq(mca_buf_str(&b), "\"disabled\"");
	hubmock_field(&f.m, "dev-r", "statusReason", &b);
	ck_assert_str_eq(mca_buf_str(&b), "\"on the bench\"");
	hubmock_field(&f.m, "dev-r", "capabilities", &b);
	ck_assert_str_eq(mca_buf_str(&b), "{\"iotEdge\":false}");
	assert_log(&f, "GET dev-r 200\nPUT dev-r 200\n");

	/* The next renewal, naming the certificate it renews. */
	rc = run(&f, "dev-r", T3, T2, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	assert_dev(&f, "dev-r", "selfSigned " T3 " " T2);
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-r"), 2);
	/* The secondary given wins over the hub's. */
	rc = run(&f, "dev-r", T1, TX, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	assert_dev(&f, "dev-r", "selfSigned " T1 " " TX);
	mca_buf_free(&b);
	stop(&f);
}
END_TEST

/*
 * Already in place (a run killed after its PUT, run again): GET only,
 * no PUT, the current etag. Also when the hub spells hex in lowercase,
 * and when the secondary is left to the hub (kept, not cleared).
 */
START_TEST(test_in_place)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	char			 etag[128];
	int			 rc;

	start(&f, "dev-p");
	seed(&f, "dev-p", T2, T1);
	dev_etag(&f, "dev-p", etag, sizeof(etag));
	rc = run(&f, "dev-p", T2, T1, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_str_eq(r.etag, etag);
	ck_assert_int_eq(r.status, 200);
	rc = run(&f, "dev-p", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_str_eq(r.etag, etag);
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-p"), 0);
	assert_log(&f, "GET dev-p 200\nGET dev-p 200\n");
	assert_dev(&f, "dev-p", "selfSigned " T2 " " T1);
	stop(&f);

	start(&f, "dev-lc");
	seed(&f, "dev-lc", "abcdefabcdefabcdefabcdefabcdefabcdefabcd",
	    "abcdefabcdefabcdefabcdefabcdefabcdefab00");
	rc = run(&f, "dev-lc", TX, "ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFAB00",
	    0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-lc"), 0);
	stop(&f);
}
END_TEST

/* The primary in place, another secondary wanted: a PUT. */
START_TEST(test_secondary_only)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev-s");
	seed(&f, "dev-s", T2, TX);
	rc = run(&f, "dev-s", T2, T1, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	assert_dev(&f, "dev-s", "selfSigned " T2 " " T1);
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-s"), 1);
	stop(&f);
}
END_TEST

/* A SAS device becomes selfSigned: its keys are not sent back. */
START_TEST(test_from_sas)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev-k");
	hubmock_seed(&f.m, "{\"deviceId\": \"dev-k\", \"status\": \"enabled\", "
	    "\"authentication\": {\"type\": \"sas\", \"symmetricKey\": "
	    "{\"primaryKey\": \"cHJpbWFyeQ==\", \"secondaryKey\": "
	    "\"c2Vjb25kYXJ5\"}, \"x509Thumbprint\": {\"primaryThumbprint\": "
	    "null, \"secondaryThumbprint\": null}}}");
	rc = run(&f, "dev-k", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	assert_dev(&f, "dev-k", "selfSigned " T1 " -");
	stop(&f);
}
END_TEST

/*
 * The etag race: someone changes the device between our GET and PUT;
 * the PUT gets 412, we GET again and PUT on the new etag, keeping their
 * change. Past max_conflicts rounds: BUSY, nothing changed.
 */
START_TEST(test_etag_race)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	struct mca_buf		 b = MCA_BUF_INIT;
	int			 rc;

	start(&f, "dev-e");
	seed(&f, "dev-e", T1, NULL);
	hubmock_trick(&f.m, HM_BUMP, 1);
	rc = run(&f, "dev-e", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	assert_dev(&f, "dev-e", "selfSigned " T2 " " T1);
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-e"), 1);
	hubmock_field(&f.m, "dev-e", "statusReason", &b);
	ck_assert_str_eq(mca_buf_str(&b), "\"changed by someone else\"");
	assert_log(&f, "GET dev-e 200\nPUT dev-e 412\nGET dev-e 200\n"
	    "PUT dev-e 200\n");
	stop(&f);

	start(&f, "dev-e2");
	seed(&f, "dev-e2", T1, NULL);
	hubmock_trick(&f.m, HM_BUMP, 100);
	f.h.max_conflicts = 2;
	rc = run(&f, "dev-e2", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_BUSY, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.status, 412);
	ck_assert_int_eq(r.retry_after, -1);
	assert_line(&f, &d, "HTTP 412 3 times");
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-e2"), 0);
	assert_dev(&f, "dev-e2", "selfSigned " T1 " -");
	assert_log(&f, "GET dev-e2 200\nPUT dev-e2 412\nGET dev-e2 200\n"
	    "PUT dev-e2 412\nGET dev-e2 200\nPUT dev-e2 412\n");
	mca_buf_free(&b);
	stop(&f);
}
END_TEST

/*
 * 409: the device was created by someone else between our GET (404) and
 * our PUT; GET again and update it (their primary becomes our secondary).
 * And a 409 the hub gives on an update: GET again too.
 */
START_TEST(test_conflict)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev-c");
	hubmock_trick(&f.m, HM_CREATE_BEHIND, 1);
	rc = run(&f, "dev-c", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.created, 0);
	assert_dev(&f, "dev-c", "selfSigned " T1 " " TBEE);
	assert_log(&f, "GET dev-c 404\nPUT dev-c 409\nGET dev-c 200\n"
	    "PUT dev-c 200\n");
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-c"), 1);
	stop(&f);

	start(&f, "dev-c2");
	seed(&f, "dev-c2", T1, NULL);
	hubmock_fault(&f.m, "PUT", 409, 1, NULL);
	rc = run(&f, "dev-c2", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	assert_dev(&f, "dev-c2", "selfSigned " T2 " " T1);
	assert_log(&f, "GET dev-c2 200\nPUT dev-c2 409\nGET dev-c2 200\n"
	    "PUT dev-c2 200\n");
	stop(&f);
}
END_TEST

/* An HTTP-date 120 s from now (RFC 9110 5.6.7 IMF-fixdate). */
static const char *
date_in(long secs)
{
	static char	 s[64];
	time_t		 t = time(NULL) + secs;
	struct tm	 tm;

	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	ck_assert_uint_gt(strftime(s, sizeof(s), "%a, %d %b %Y %H:%M:%S GMT",
	    &tm), 0);
	return s;
}

static const struct {
	const char	*method;
	long		 status;
	const char	*retry_after;	/* "DATE": 120 s from now */
	long long	 lo, hi;	/* r.retry_after */
	const char	*msg;
} busy[] = {
	{ "GET", 429, "7", 7, 7, "HTTP 429, Retry-After 7 s: "
	    "ErrorCode:Scripted;" },
	{ "GET", 429, "DATE", 1, 120, "HTTP 429, Retry-After " },
	{ "GET", 429, NULL, -1, -1, "HTTP 429: ErrorCode:Scripted" },
	{ "GET", 429, "soon", -1, -1, "HTTP 429: ErrorCode:Scripted" },
	{ "GET", 500, NULL, -1, -1, "HTTP 500: ErrorCode:Scripted" },
	{ "GET", 503, "30", 30, 30, "HTTP 503, Retry-After 30 s" },
	{ "PUT", 429, "60", 60, 60, "PUT https://localhost:" },
	{ "PUT", 500, NULL, -1, -1, "HTTP 500" },
};

/* Throttled or failing: BUSY, the wait the hub asked for, no change. */
START_TEST(test_busy)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	const char		*ra = busy[_i].retry_after;
	int			 rc;

	start(&f, "dev-b");
	seed(&f, "dev-b", T1, NULL);
	if (ra != NULL && strcmp(ra, "DATE") == 0)
		ra = date_in(120);
	hubmock_fault(&f.m, busy[_i].method, busy[_i].status, 1, ra);
	rc = run(&f, "dev-b", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_BUSY, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.status, busy[_i].status);
	ck_assert_msg(r.retry_after >= busy[_i].lo &&
	    r.retry_after <= busy[_i].hi, "retry_after %lld", r.retry_after);
	assert_line(&f, &d, busy[_i].msg);
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-b"), 0);
	assert_dev(&f, "dev-b", "selfSigned " T1 " -");
	/* Later: it goes through, once. */
	rc = run(&f, "dev-b", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.retry_after, -1);
	assert_dev(&f, "dev-b", "selfSigned " T2 " " T1);
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-b"), 1);
	stop(&f);
}
END_TEST

/* The hub away (connection refused): BUSY; back: done, once. */
START_TEST(test_hub_down)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev-d");
	hubmock_stop(&f.m);
	rc = run(&f, "dev-d", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_BUSY, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(r.retry_after, -1);
	assert_line(&f, &d, "GET https://localhost:");
	rc = run(&f, "dev-d", T1, NULL, 0, &r, &d);
	ck_assert_int_eq(rc, MCA_ERR_BUSY);
	hubmock_start(&f.m);
	rc = run(&f, "dev-d", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.created, 1);
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-d"), 1);
	assert_log(&f, "GET dev-d 404\nPUT dev-d 200\n");
	stop(&f);
}
END_TEST

/* An expired token: 401, a fresh one (asked for once), then through. */
START_TEST(test_401_renew)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev-a");
	seed(&f, "dev-a", T1, NULL);
	f.t.life = -60;
	rc = run(&f, "dev-a", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_int_eq(f.t.calls, 2);
	ck_assert_int_eq(f.t.renews, 1);
	assert_log(&f, "GET dev-a 401\nGET dev-a 200\nPUT dev-a 200\n");
	assert_dev(&f, "dev-a", "selfSigned " T2 " " T1);
	stop(&f);

	/* The 401 on the PUT: the PUT again, with the fresh token. */
	start(&f, "dev-a2");
	seed(&f, "dev-a2", T1, NULL);
	hubmock_fault(&f.m, "PUT", 401, 1, NULL);
	rc = run(&f, "dev-a2", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_int_eq(f.t.renews, 1);
	assert_log(&f, "GET dev-a2 200\nPUT dev-a2 401\nPUT dev-a2 200\n");
	stop(&f);
}
END_TEST

/* 401 again with the fresh token: AUTH, no third try, no token shown. */
START_TEST(test_401_twice)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev-u");
	seed(&f, "dev-u", T1, NULL);
	hubmock_fault(&f.m, NULL, 401, 2, NULL);
	rc = run(&f, "dev-u", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_AUTH, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.status, 401);
	ck_assert_int_eq(f.t.calls, 2);
	assert_line(&f, &d, "HTTP 401 even with a fresh token: "
	    "ErrorCode:Scripted");
	assert_log(&f, "GET dev-u 401\nGET dev-u 401\n");
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-u"), 0);
	stop(&f);

	/* 403: no renewal. */
	start(&f, "dev-u2");
	hubmock_fault(&f.m, NULL, 403, 1, NULL);
	rc = run(&f, "dev-u2", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_AUTH, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.status, 403);
	ck_assert_int_eq(f.t.calls, 1);
	stop(&f);
}
END_TEST

/* The wrong key: the mock's HMAC differs, 401 twice, AUTH. */
START_TEST(test_wrong_key)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev-w");
	f.t.key = KEY2;
	rc = run(&f, "dev-w", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_AUTH, "%d: %s", rc, d.msg);
	assert_line(&f, &d, "IotHubUnauthorizedAccess;the signature does "
	    "not verify");
	assert_log(&f, "GET dev-w 401\nGET dev-w 401\n");
	ck_assert_int_eq(f.t.renews, 1);
	/* A fresh token with the right key: through. */
	f.t.key2 = KEY;
	f.t.calls = f.t.renews = 0;
	rc = run(&f, "dev-w", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == 0, "%d: %s", rc, d.msg);
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-w"), 1);
	stop(&f);
}
END_TEST

/*
 * The mock refuses a token for another hub, under another policy or none:
 * the checks the tests above rely on are real.
 */
static const struct {
	const char	*host, *policy, *msg;
} tokens_bad[] = {
	{ "otherhub.azure-devices.net", NULL, "the token is for "
	    "otherhub.azure-devices.net" },
	{ NULL, "iothubowner", "rule 'iothubowner' is unknown" },
	{ NULL, "", "rule '' is unknown" },
};

START_TEST(test_token_checked)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev-tk");
	f.t.host = tokens_bad[_i].host;
	f.t.policy = tokens_bad[_i].policy;
	rc = run(&f, "dev-tk", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_AUTH, "%d: %s", rc, d.msg);
	assert_line(&f, &d, tokens_bad[_i].msg);
	assert_log(&f, "GET dev-tk 401\nGET dev-tk 401\n");
	stop(&f);
}
END_TEST

/* Permanent refusals: POLICY, with the status. */
START_TEST(test_refused)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev-x");
	hubmock_fault(&f.m, "PUT", 400, 1, NULL);
	rc = run(&f, "dev-x", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_POLICY, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.status, 400);
	assert_line(&f, &d, "PUT https://localhost:");
	hubmock_fault(&f.m, "PUT", 404, 1, NULL);
	rc = run(&f, "dev-x", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_POLICY, "%d: %s", rc, d.msg);
	ck_assert_int_eq(r.status, 404);
	hubmock_fault(&f.m, "GET", 400, 1, NULL);
	rc = run(&f, "dev-x", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_POLICY, "%d: %s", rc, d.msg);
	assert_line(&f, &d, "GET https://localhost:");
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-x"), 0);
	/* An api-version the hub does not serve: refused by it. */
	mca_buf_reset(&f.url);
	ck_assert_int_eq(mca_buf_printf(&f.url, "https://%s:%u/devices/dev-x"
	    "?api-version=2016-02-03", HOST, f.m.port), 0);
	f.h.url = mca_buf_str(&f.url);
	rc = run(&f, "dev-x", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_POLICY, "%d: %s", rc, d.msg);
	assert_line(&f, &d, "InvalidProtocolVersion");
	stop(&f);
}
END_TEST

/* A hub whose certificate chains to another CA: nothing is sent. */
START_TEST(test_untrusted)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev-t");
	f.h.cafile = path("pki/foreign-ca.pem");
	rc = run(&f, "dev-t", T1, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_CRYPTO, "%d: %s", rc, d.msg);
	assert_line(&f, &d, "SSL certificate problem");
	assert_log(&f, "");
	/* The right CA, but a name the certificate does not carry. */
	f.h.cafile = path("pki/root.pem");
	mca_buf_reset(&f.url);
	ck_assert_int_eq(mca_buf_printf(&f.url, "https://hub.example.net:%u/"
	    "devices/dev-t?api-version=" HM_API_VERSION, f.m.port), 0);
	f.h.url = mca_buf_str(&f.url);
	{
		char	 res[128];

		(void)snprintf(res, sizeof(res), "hub.example.net:%u:"
		    "127.0.0.1", f.m.port);
		f.h.resolve = res;
		rc = run(&f, "dev-t", T1, NULL, 0, &r, &d);
		f.h.resolve = NULL;
	}
	ck_assert_msg(rc == MCA_ERR_CRYPTO, "%d: %s", rc, d.msg);
	assert_line(&f, &d, "hub.example.net");
	assert_log(&f, "");
	stop(&f);
}
END_TEST

/* An answer over MCA_AZHUB_BODY_MAX: TOOBIG, no PUT. */
START_TEST(test_big)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev-g");
	seed(&f, "dev-g", T1, NULL);
	hubmock_trick(&f.m, HM_BIG, 1);
	rc = run(&f, "dev-g", T2, NULL, 0, &r, &d);
	ck_assert_msg(rc == MCA_ERR_TOOBIG, "%d: %s", rc, d.msg);
	assert_line(&f, &d, "response body over its cap");
	ck_assert_int_eq(hubmock_puts(&f.m, "dev-g"), 0);
	stop(&f);
}
END_TEST

static const struct {
	const char	*id, *p, *s;
	int		 sha256;
	const char	*msg;
} bad[] = {
	{ "dev", "1111111111111111111111111111111111111111a", NULL, 0,
	    "not 40 uppercase hex" },
	{ "dev", "abcdefabcdefabcdefabcdefabcdefabcdefabcd", NULL, 0,
	    "not 40 uppercase hex" },
	{ "dev", T1, NULL, 1, "not 64 uppercase hex digits (SHA-256)" },
	{ "dev", S1, NULL, 0, "not 40 uppercase hex" },
	{ "dev", T1, "XYZ", 0, "not 40 uppercase hex" },
	{ "dev", NULL, NULL, 0, "not 40 uppercase hex" },
	{ "dev", T1, T1, 0, "the secondary thumbprint is the primary" },
	{ NULL, T1, NULL, 0, "device id empty" },
	{ "", T1, NULL, 0, "device id empty" },
};

/* Bad arguments: INVAL before any request or token. */
START_TEST(test_bad_args)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev");
	rc = run(&f, bad[_i].id, bad[_i].p, bad[_i].s, bad[_i].sha256, &r, &d);
	ck_assert_msg(rc == MCA_ERR_INVAL, "%d: %s", rc, d.msg);
	assert_line(&f, &d, bad[_i].msg);
	ck_assert_int_eq(f.t.calls, 0);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(r.retry_after, -1);
	assert_log(&f, "");
	stop(&f);
}
END_TEST

/* The callback's failure is the update's, nothing sent. */
START_TEST(test_auth_fails)
{
	struct fx		 f;
	struct mca_azhub_result	 r;
	struct mca_diag		 d;
	int			 rc;

	start(&f, "dev");
	f.t.fail = MCA_ERR_CONFIG;
	rc = run(&f, "dev", T1, NULL, 0, &r, &d);
	ck_assert_int_eq(rc, MCA_ERR_CONFIG);
	assert_line(&f, &d, "no token today");
	f.h.auth = NULL;
	rc = run(&f, "dev", T1, NULL, 0, &r, &d);
	ck_assert_int_eq(rc, MCA_ERR_INVAL);
	assert_log(&f, "");
	stop(&f);
}
END_TEST

Suite *
azhub_suite(void)
{
	Suite	*s = suite_create("azhub");
	TCase	*tc = tcase_create("mock");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_create, 0,
	    (int)(sizeof(creates) / sizeof(creates[0])));
	tcase_add_test(tc, test_rollover);
	tcase_add_test(tc, test_in_place);
	tcase_add_test(tc, test_secondary_only);
	tcase_add_test(tc, test_from_sas);
	tcase_add_test(tc, test_etag_race);
	tcase_add_test(tc, test_conflict);
	tcase_add_loop_test(tc, test_busy, 0,
	    (int)(sizeof(busy) / sizeof(busy[0])));
	tcase_add_test(tc, test_hub_down);
	tcase_add_test(tc, test_401_renew);
	tcase_add_test(tc, test_401_twice);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_loop_test(tc, test_token_checked, 0,
	    (int)(sizeof(tokens_bad) / sizeof(tokens_bad[0])));
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_untrusted);
	tcase_add_test(tc, test_big);
	tcase_add_loop_test(tc, test_bad_args, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_auth_fails);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(azhub_suite());
}
