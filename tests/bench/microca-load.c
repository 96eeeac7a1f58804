/*
 * microca-load: an EST enrollment load generator for a microca running on
 * this machine (RFC 7030 4.2.1 simpleenroll over HTTPS with a client
 * certificate). Built by "make check" (tests/bench/smoke.test runs it) and
 * used by "make bench"; never installed.
 *
 *   microca-load --url https://127.0.0.1:PORT/.well-known/est[/LABEL]
 *       --cacert FILE [--cert FILE --key FILE] [--clients N] [--count M]
 *       [--mode fresh|keepalive] [--key-type ec|rsa|mix] [--pool P]
 *       [--subject TEMPLATE] [--op simpleenroll|cacerts] [--warmup K]
 *       [--max-seconds S] [--timeout T] [--full-verify] [--rate R]
 *       [--basic USER:PASSWORD]
 *
 * N client threads (default 1) each make M enrollments (default 100),
 * after K unmeasured ones (default 0). fresh (the default): a new TCP
 * connection and full TLS handshake per enrollment, no session
 * resumption, as devices do; the latency includes connect and handshake.
 * keepalive: one connection per client, opened again only when the
 * server closes it.
 *
 * --cacert is the server's trust anchor; the server certificate must
 * name the URL's host. It is verified in full on the first handshake and
 * accepted unchanged after (see verify_cached(); --full-verify: every
 * time). --cert and --key: the client certificate for mTLS (a bootstrap
 * certificate, MICROCA_BOOTSTRAP_CERT of ./quickstart); without them the
 * server sees no client certificate.
 *
 * The pool: P distinct keys (default 64; ec: P-256, rsa: 2048 bits, mix:
 * both in turn), each in a CSR whose subject is TEMPLATE with "%d" made
 * the key's number (default "/O=Example Corp/CN=dev-bench-%d", what the
 * demo's default label accepts). Keys, CSRs and the whole requests are
 * made before the clock starts, so that the measured phase spends the
 * shared CPUs on the server, not on the client.
 *
 * Every answer is checked: 200, application/pkcs7-mime, base64 of a
 * certs-only PKCS#7 with one certificate whose SubjectPublicKeyInfo is
 * the CSR's. --op cacerts: GET /cacerts instead (RFC 7030 4.1), the web
 * server and FastCGI path without a signature or a ledger write; no
 * keys, and the answer must hold one or more certificates.
 *
 * --issued FILE: appends the serial of every certificate received and
 * checked, one per line in uppercase hex (as the ledger spells it), as
 * soon as it is received: what a test that kills the server compares
 * with the ledger (check_rotate's killload).
 *
 * --basic: an HTTP Basic Authorization header (RFC 7617) on every
 * request, e.g. an enrollment passcode ("device:ID.SECRET"), which make
 * stress sends wrong in a flood.
 *
 * Failures are counted by kind: status_NNN for another status, conn
 * (connect, TLS, connection lost), timeout (nothing for --timeout
 * seconds, default 30), badhttp (not the HTTP/1.1 microca sends) and
 * badbody; the first of each kind is told on stderr.
 *
 * --rate R: at most R requests a second from all clients together in
 * the measured phase (each client starts its k-th request no earlier
 * than k * clients / R seconds in), for a load that leaves the machine
 * room: the refusal flood of make bench. Default: as fast as they go.
 *
 * Bounded: no new enrollment starts after --max-seconds (default 300);
 * one under way ends within --timeout. Only loopback is accepted
 * (127.0.0.1, [::1], localhost): this is a load on the machine it runs
 * on, against a server it shares the CPUs with.
 *
 * Output: a line for people on stderr, and one line of key=value pairs
 * on stdout (see report()). Exit status: 0 when every requested
 * enrollment succeeded, 1 when any failed or --max-seconds cut the run
 * short, 2 for a usage or setup error (the message names the option or
 * file).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "buf.h"
#include "certinfo.h"
#include "err.h"
#include "http.h"
#include "num.h"

#define PROG		"microca-load"

#define DEF_CLIENTS	1
#define DEF_COUNT	100
#define DEF_POOL	64
#define DEF_MAX_SECONDS	300
#define DEF_TIMEOUT	30
#define DEF_SUBJECT	"/O=Example Corp/CN=dev-bench-%d"
#define DEF_PATH	"/.well-known/est"

#define MAX_CLIENTS	1024
#define MAX_COUNT	1000000
/* The latency array is clients * count doubles: at most 80 MB. */
#define MAX_SAMPLES	10000000LL
#define MAX_POOL	100000
#define MAX_SECONDS	86400

#define HDR_MAX		(16 * 1024)	/* response status line and headers */
#define BODY_MAX	(256 * 1024)	/* response body */
#define SPKI_MAX	1024		/* an RSA-2048 SPKI is 294 bytes */
#define SUBJECT_MAX	1024
#define PATH_MAX_LEN	512
#define STATUS_MAX	600

/* Always in the machine line, even when 0: the server's overload answer. */
#define STATUS_BUSY	503

enum exitcode {
	EX_DONE = 0,
	EX_FAIL = 1,
	EX_USAGE = 2
};

enum mode {
	MODE_FRESH,
	MODE_KEEPALIVE,
	MODE_MAX
};

static const char *const mode_names[MODE_MAX] = { "fresh", "keepalive" };

enum keytype {
	KT_EC,
	KT_RSA,
	KT_MIX,
	KT_MAX
};

static const char *const keytype_names[KT_MAX] = { "ec", "rsa", "mix" };

/* The EST operations this load can check the answers of. */
enum op {
	OP_SIMPLEENROLL,	/* RFC 7030 4.2.1 */
	OP_CACERTS,		/* RFC 7030 4.1: no signing, a baseline */
	OP_MAX
};

static const char *const op_names[OP_MAX] = { "simpleenroll", "cacerts" };

/* What became of one enrollment. */
enum result {
	RES_OK,
	RES_STATUS,	/* an HTTP status other than 200 */
	RES_CONN,	/* connect, TLS, or the connection lost mid-answer */
	RES_TIMEOUT,	/* no progress for --timeout seconds */
	RES_BADHTTP,	/* an answer that is not HTTP/1.1 as microca sends it */
	RES_BADBODY,	/* a 200 whose body is not the certificate asked for */
	RES_EOF,	/* internal: closed cleanly; becomes RES_CONN */
	RES_MAX
};

static const char *const result_names[RES_MAX] = {
	"ok", "status", "conn", "timeout", "badhttp", "badbody", "eof"
};

struct opts {
	const char	*url;
	const char	*cacert;
	const char	*cert;
	const char	*key;
	const char	*subject;
	long long	 clients;
	long long	 count;
	long long	 pool;
	long long	 warmup;
	long long	 max_seconds;
	long long	 timeout;
	long long	 rate;		/* requests/s, all clients; 0: no pacing */
	enum mode	 mode;
	enum keytype	 keytype;
	enum op		 op;
	int		 full_verify;	/* no verify_cached() */
	const char	*basic;		/* USER:PASSWORD, or NULL */
	const char	*issued;	/* --issued FILE, or NULL */
};

/* Where to connect, from --url. */
struct target {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 host[16];	/* without brackets */
	int			 is_ip;		/* host is an address */
	char			 hosthdr[32];	/* the Host header's value */
	char			 path[PATH_MAX_LEN]; /* no trailing '/' */
};

/*
 * One pool entry: the whole request, and the key it must come back with
 * (for /cacerts: no key, spki NULL).
 */
struct csr {
	char		*req;
	size_t		 reqlen;
	unsigned char	*spki;		/* SubjectPublicKeyInfo, DER */
	size_t		 spkilen;
};

struct stats {
	unsigned long long	 n[RES_MAX];
	unsigned long long	 status[STATUS_MAX];
};

struct run {
	enum mode	 mode;
	long long	 clients;
	long long	 count;
	long long	 warmup;
	int		 timeout;
	double		 interval;	/* s between one client's starts, or 0 */
	struct timespec	 deadline;
	SSL_CTX		*ctx;
	int		 issued_fd;	/* --issued, or -1 */
	struct target	 tgt;
	struct csr	*pool;
	size_t		 npool;
	double		*lat;		/* clients * count, in ms */

	/* The gate between warm-up and the measured phase. */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	long long	 ready;
	int		 go;
	int		 abort;

	/* Under mu: the first failure of each kind is told, once. */
	int		 told[RES_MAX];
	unsigned char	 told_status[STATUS_MAX];
	/* What the first handshake agreed. */
	char		 tls_version[32];
	char		 tls_cipher[64];
	char		 tls_group[32];
};

struct client {
	struct run	*run;
	pthread_t	 tid;
	long long	 id;
	unsigned long long seq;		/* requests made: picks the CSR */
	int		 fd;
	SSL		*ssl;
	int		 broken;	/* no close_notify on this one */
	int		 noted;		/* has called tls_note() */
	unsigned long long handshakes;	/* in the measured phase */
	int		 measured;	/* in the measured phase */
	unsigned char	*rbuf;		/* HDR_MAX + BODY_MAX */
	struct mca_buf	 der;		/* the decoded body, reused */
	double		*lat;		/* this client's run->lat slice */
	long long	 nlat;
	int		 cut;		/* the deadline stopped it */
	char		 why[256];	/* the last failure, for tell() */
	struct stats	 warm;
	struct stats	 st;
};

/* An answer, pointing into the client's rbuf. */
struct resp {
	int		 status;
	const char	*ctype;
	const char	*body;
	size_t		 bodylen;
	int		 close;		/* the server closes after this one */
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: " PROG " --url https://127.0.0.1:PORT" DEF_PATH
	    "[/LABEL] --cacert FILE\n"
	    "       [--cert FILE --key FILE] [--clients N] [--count M] "
	    "[--mode fresh|keepalive]\n"
	    "       [--key-type ec|rsa|mix] [--pool P] [--subject TEMPLATE] "
	    "[--op simpleenroll|cacerts]\n"
	    "       [--warmup K] [--max-seconds S] [--timeout T] "
	    "[--full-verify] [--rate R]\n"
	    "       [--basic USER:PASSWORD] [--issued FILE]\n"
	    "defaults: --clients %d --count %d --mode fresh --key-type ec "
	    "--pool %d\n"
	    "          --subject \"%s\" --max-seconds %d --timeout %d\n",
	    DEF_CLIENTS, DEF_COUNT, DEF_POOL, DEF_SUBJECT, DEF_MAX_SECONDS,
	    DEF_TIMEOUT);
	exit(EX_USAGE);
}

static int
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "microca-load: <message>" on stderr. Returns -1. */
static int
fail(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);	/* "PROG: message" */
	va_end(ap);
	return -1;
}

/* The last OpenSSL error of this thread as text ("" if none). */
static const char *
ssl_reason(char *buf, size_t len)
{
	unsigned long	 e;

	buf[0] = '\0';
	if ((e = ERR_peek_last_error()) != 0)
		ERR_error_string_n(e, buf, len);
	return buf;
}

/*
 * Whether the file named by option opt can be opened, so that a missing
 * or unreadable file is named with the system's reason rather than
 * OpenSSL's "system lib". 0, or -1 with the message printed.
 */
static int
readable(const char *opt, const char *path)
{
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL)
		return fail("--%s %s: %s", opt, path, strerror(errno));
	(void)fclose(f);
	return 0;
}

/* Option name's integer value in [min, max], or usage error. */
static long long
optnum(const char *name, const char *s, long long min, long long max)
{
	long long	 v;

	if (mca_num_parse(s, strlen(s), min, max, &v) != 0) {
		fail("--%s %s: expected a whole number from %lld to %lld",
		    name, s, min, max);
		exit(EX_USAGE);
	}
	return v;
}

/* The index of s in names[0..n), or usage error naming the option. */
static int
optword(const char *name, const char *s, const char *const *names, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	fail("--%s %s: unknown value", name, s);
	exit(EX_USAGE);
}

static void
ts_now(struct timespec *ts)
{
	(void)clock_gettime(CLOCK_MONOTONIC, ts);
}

static double
ts_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static int
ts_past(const struct timespec *deadline)
{
	struct timespec	 now;

	ts_now(&now);
	return now.tv_sec > deadline->tv_sec ||
	    (now.tv_sec == deadline->tv_sec &&
	    now.tv_nsec >= deadline->tv_nsec);
}

/* 1 if s holds a byte that may not appear in a request target. */
static int
bad_path_byte(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '?' ||
		    *s == '#' || *s == '%' || *s == '"' || *s == '\\')
			return 1;
	return 0;
}

/*
 * Parses --url "https://HOST[:PORT][/PATH]" into t. HOST must be loopback:
 * the load shares this machine's CPUs with the server it measures, and a
 * load generator aimed elsewhere is a denial of service. Returns 0, or -1
 * with the message printed.
 */
static int
url_parse(const char *url, struct target *t)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	const char		*p, *h, *he, *ps, *last;
	enum mca_op		 op;
	long long		 port = 443;
	size_t			 hl, pl;
	int			 n;

	memset(t, 0, sizeof(*t));
	if (strncasecmp(url, "https://", 8) != 0)
		return fail("--url %s: expected https://HOST:PORT%s[/LABEL]",
		    url, DEF_PATH);
	h = url + 8;
	if (*h == '[') {
		if ((he = strchr(h, ']')) == NULL)
			return fail("--url %s: no ']' after the address", url);
		h++;
		p = he + 1;
	} else {
		he = h + strcspn(h, ":/");
		p = he;
	}
	hl = (size_t)(he - h);
	if (hl == 9 && strncmp(h, "127.0.0.1", hl) == 0) {
		(void)snprintf(t->host, sizeof(t->host), "127.0.0.1");
		t->is_ip = 1;
	} else if (hl == 3 && strncmp(h, "::1", hl) == 0 && h[-1] == '[') {
		(void)snprintf(t->host, sizeof(t->host), "::1");
		t->is_ip = 1;
	} else if (hl == 9 && strncasecmp(h, "localhost", hl) == 0) {
		(void)snprintf(t->host, sizeof(t->host), "localhost");
	} else
		return fail("--url %s: host \"%.*s\" is not loopback; only "
		    "127.0.0.1, [::1] and localhost are accepted", url,
		    (int)(hl > 64 ? 64 : hl), h);
	if (*p == ':') {
		ps = p + 1;
		p = ps + strcspn(ps, "/");
		if (mca_num_parse(ps, (size_t)(p - ps), 1, 65535, &port) != 0)
			return fail("--url %s: bad port", url);
	} else if (*p != '/' && *p != '\0')
		return fail("--url %s: expected ':' or '/' after the host",
		    url);
	if (*p == '\0')
		p = DEF_PATH;
	pl = strlen(p);
	while (pl > 1 && p[pl - 1] == '/')
		pl--;
	if (pl == 1)
		pl = 0;
	if (pl >= sizeof(t->path))
		return fail("--url %s: path longer than %zu bytes", url,
		    sizeof(t->path) - 1);
	memcpy(t->path, p, pl);
	t->path[pl] = '\0';
	if (bad_path_byte(t->path))
		return fail("--url %s: the path may not hold spaces, controls, "
		    "'?', '#', '%%', '\"' or '\\'", url);
	/* The operation is --op's: the URL stops at the label. */
	if ((last = strrchr(t->path, '/')) != NULL)
		for (op = 0; op < MCA_OP_MAX; op++)
			if (strcmp(last + 1, mca_op_name(op)) == 0)
				return fail("--url %s: ends in an operation; "
				    "give the EST base (%s[/LABEL])", url,
				    DEF_PATH);

	if (strcmp(t->host, "::1") == 0) {
		sin6 = (struct sockaddr_in6 *)&t->ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = in6addr_loopback;
		t->sslen = sizeof(*sin6);
		n = snprintf(t->hosthdr, sizeof(t->hosthdr), "[::1]:%lld",
		    port);
	} else {
		/* "localhost" is 127.0.0.1: no resolver, no surprises. */
		sin = (struct sockaddr_in *)&t->ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		t->sslen = sizeof(*sin);
		n = snprintf(t->hosthdr, sizeof(t->hosthdr), "%s:%lld",
		    t->host, port);
	}
	if (n < 0 || (size_t)n >= sizeof(t->hosthdr))
		return fail("--url %s: host too long", url);
	return 0;
}

/*
 * The server certificate that passed X509_verify_cert() (a reference), so
 * that later handshakes presenting the same one need not check its chain
 * again; see verify_cached().
 */
struct vcache {
	pthread_mutex_t	 mu;
	X509		*leaf;
};

static struct vcache vcache = { PTHREAD_MUTEX_INITIALIZER, NULL };

/*
 * Certificate verification for the client's handshakes. The first server
 * certificate is verified in full against --cacert and the URL's host;
 * a later handshake that presents the very same certificate (X509_cmp:
 * same SHA-1 of the whole certificate and same TBSCertificate bytes) is
 * accepted without checking the chain's signatures again (the bytes that
 * verified still verify; only a certificate expiring mid-run would go
 * unnoticed until the next run). The handshake itself still makes the
 * server prove it holds that certificate's key (CertificateVerify, RFC
 * 8446 4.4.3; ServerKeyExchange, RFC 5246 7.4.3). The demo's root is
 * P-384: checking its signature costs the client about 0.8 ms, nearly as
 * much as the rest of a fresh enrollment, CPU that the server under test
 * shares. --full-verify turns this off.
 */
static int
verify_cached(X509_STORE_CTX *sctx, void *arg)
{
	struct vcache	*vc = arg;
	X509		*leaf;
	int		 ok, hit;

	leaf = X509_STORE_CTX_get0_cert(sctx);
	pthread_mutex_lock(&vc->mu);
	hit = vc->leaf != NULL && leaf != NULL && X509_cmp(vc->leaf, leaf) == 0;
	pthread_mutex_unlock(&vc->mu);
	if (hit) {
		X509_STORE_CTX_set_error(sctx, X509_V_OK);
		return 1;
	}
	if ((ok = X509_verify_cert(sctx)) == 1 && leaf != NULL) {
		pthread_mutex_lock(&vc->mu);
		if (vc->leaf == NULL && X509_up_ref(leaf) == 1)
			vc->leaf = leaf;
		pthread_mutex_unlock(&vc->mu);
	}
	return ok;
}

/*
 * The client's TLS context, shared by every connection: verifies the
 * server against cacert and the URL's host, presents cert/key when given,
 * and never resumes a session (every fresh connection is a full
 * handshake, as a device's first contact is). Returns NULL with the
 * message printed.
 */
static SSL_CTX *
tls_setup(const struct opts *o, const struct target *t)
{
	SSL_CTX			*ctx = NULL, *ret = NULL;
	X509_VERIFY_PARAM	*vp;
	STACK_OF(X509_OBJECT)	*objs;
	X509			*x;
	char			 why[256];
	int			 i;

	if (readable("cacert", o->cacert) != 0 || (o->cert != NULL &&
	    (readable("cert", o->cert) != 0 || readable("key", o->key) != 0)))
		goto out;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		fail("SSL_CTX_new: %s", ssl_reason(why, sizeof(why)));
		goto out;
	}
	/* The demo and the shipped lighttpd config: MinProtocol TLSv1.2. */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		fail("TLS setup: %s", ssl_reason(why, sizeof(why)));
		goto out;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
	/*
	 * No TLS 1.2 tickets asked for; a peer's close without
	 * close_notify is read as end of stream, which HTTP framing
	 * (Content-Length) makes safe here.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_load_verify_locations(ctx, o->cacert, NULL) != 1) {
		fail("--cacert %s: cannot load: %s", o->cacert,
		    ssl_reason(why, sizeof(why)));
		goto out;
	}
	/*
	 * OpenSSL 3.0 fills in a certificate's extension cache on first use,
	 * which clients verifying at once race on (ThreadSanitizer sees it):
	 * fill it for the trust anchors now, while there is one thread.
	 */
	objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
	for (i = 0; i < sk_X509_OBJECT_num(objs); i++)
		if ((x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs,
		    i))) != NULL)
			(void)X509_check_purpose(x, -1, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (!o->full_verify)
		SSL_CTX_set_cert_verify_callback(ctx, verify_cached, &vcache);
	vp = SSL_CTX_get0_param(ctx);
	if ((t->is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, t->host) :
	    X509_VERIFY_PARAM_set1_host(vp, t->host, 0)) != 1) {
		fail("TLS setup: cannot check the name %s", t->host);
		goto out;
	}
	if (o->cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
			fail("--cert %s: cannot load: %s", o->cert,
			    ssl_reason(why, sizeof(why)));
			goto out;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, o->key,
		    SSL_FILETYPE_PEM) != 1) {
			fail("--key %s: cannot load: %s", o->key,
			    ssl_reason(why, sizeof(why)));
			goto out;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			fail("--key %s: does not match --cert %s", o->key,
			    o->cert);
			goto out;
		}
	}
	ret = ctx;
	ctx = NULL;
out:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

/*
 * Writes tmpl into out with each "%d" replaced by idx. Returns 0, or -1
 * when another '%' is used or out is too small.
 */
static int
subject_expand(const char *tmpl, long long idx, char *out, size_t outlen)
{
	char	 num[24];
	size_t	 o = 0, nl;
	int	 n;

	for (; *tmpl != '\0'; tmpl++) {
		if (*tmpl == '%') {
			if (tmpl[1] != 'd')
				return -1;
			n = snprintf(num, sizeof(num), "%lld", idx);
			if (n < 0 || (size_t)n >= sizeof(num))
				return -1;
			nl = (size_t)n;
			if (o + nl >= outlen)
				return -1;
			memcpy(out + o, num, nl);
			o += nl;
			tmpl++;
			continue;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = *tmpl;
	}
	out[o] = '\0';
	return 0;
}

/*
 * Parses "/TYPE=value/TYPE=value..." (as openssl req -subj, without
 * escapes) into a new X509_NAME. NULL if malformed or a TYPE is unknown.
 */
static X509_NAME *
subject_parse(const char *s)
{
	X509_NAME	*name = NULL, *ret = NULL;
	char		 buf[SUBJECT_MAX], *p, *next, *eq;

	if (s[0] != '/' || strlen(s) >= sizeof(buf))
		goto out;
	memcpy(buf, s + 1, strlen(s));
	if ((name = X509_NAME_new()) == NULL)
		goto out;
	for (p = buf; p != NULL; p = next) {
		if ((next = strchr(p, '/')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(p, '=')) == NULL || eq == p || eq[1] == '\0')
			goto out;
		*eq = '\0';
		if (X509_NAME_add_entry_by_txt(name, p, MBSTRING_UTF8,
		    (const unsigned char *)eq + 1, -1, -1, 0) != 1)
			goto out;
	}
	ret = name;
	name = NULL;
out:
	X509_NAME_free(name);
	return ret;
}

/* 0 if tmpl makes a good subject for any key number, else -1. */
static int
subject_ok(const char *tmpl)
{
	X509_NAME	*name;
	char		 subj[SUBJECT_MAX];

	if (subject_expand(tmpl, MAX_POOL - 1, subj, sizeof(subj)) != 0 ||
	    (name = subject_parse(subj)) == NULL)
		return -1;
	X509_NAME_free(name);
	return 0;
}

static void
csr_free(struct csr *c)
{
	if (c == NULL)
		return;
	free(c->req);
	free(c->spki);
	c->req = NULL;
	c->spki = NULL;
}

/*
 * Appends the whole o->op request to msg: POST with body[0..len) as
 * application/pkcs10, or GET when body is NULL. 0 or an MCA_ERR_*.
 */
static int
req_make(struct mca_buf *msg, const struct opts *o, const struct target *t,
    const char *body, size_t len)
{
	int	 rc;

	if ((rc = mca_buf_printf(msg, "%s %s/%s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "User-Agent: " PROG "\r\n", body != NULL ? "POST" : "GET",
	    t->path, op_names[o->op], t->hosthdr)) != 0)
		return rc;
	if (o->basic != NULL && ((rc = mca_buf_addstr(msg,
	    "Authorization: Basic ")) != 0 ||
	    (rc = mca_b64_encode((const unsigned char *)o->basic,
	    strlen(o->basic), 0, msg)) != 0 ||
	    (rc = mca_buf_addstr(msg, "\r\n")) != 0))
		return rc;
	if (body != NULL && (rc = mca_buf_printf(msg,
	    "Content-Type: application/pkcs10\r\n"
	    "Content-Length: %zu\r\n", len)) != 0)
		return rc;
	/* RFC 9112 9.6: a client that will not reuse it says so. */
	if ((rc = mca_buf_addstr(msg, o->mode == MODE_FRESH ?
	    "Connection: close\r\n\r\n" : "\r\n")) != 0)
		return rc;
	return body != NULL ? mca_buf_add(msg, body, len) : 0;
}

/*
 * The one entry of a /cacerts pool: a GET, no key (every answer is the
 * same chain). Returns 0, or -1 with the message printed.
 */
static int
cacerts_make(const struct opts *o, const struct target *t, struct csr *out)
{
	struct mca_buf	 msg = MCA_BUF_INIT;

	memset(out, 0, sizeof(*out));
	if (req_make(&msg, o, t, NULL, 0) != 0) {
		mca_buf_free(&msg);
		return fail("out of memory");
	}
	out->req = (char *)msg.data;
	out->reqlen = msg.len;
	return 0;
}

/*
 * Makes pool entry number idx: a new key of kind kt, its CSR, and the
 * whole HTTP request carrying it (RFC 7030 4.2.1: base64 DER PKCS#10,
 * application/pkcs10). The private key is not kept: the answer is
 * checked against the public key alone. Returns 0, or -1 with the
 * message printed.
 */
static int
csr_make(const struct opts *o, const struct target *t, long long idx,
    enum keytype kt, struct csr *out)
{
	EVP_PKEY	*pkey = NULL;
	X509_REQ	*req = NULL;
	X509_NAME	*name = NULL;
	unsigned char	*der = NULL, *spki = NULL;
	struct mca_buf	 b64 = MCA_BUF_INIT, msg = MCA_BUF_INIT;
	char		 subj[SUBJECT_MAX], why[256];
	int		 derlen, spkilen, rc = -1;

	memset(out, 0, sizeof(*out));
	if (subject_expand(o->subject, idx, subj, sizeof(subj)) != 0 ||
	    (name = subject_parse(subj)) == NULL) {
		fail("--subject %s: expected /TYPE=value/... with at most "
		    "\"%%d\" for the key's number", o->subject);
		goto out;
	}
	pkey = kt == KT_RSA ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
	if (pkey == NULL) {
		fail("key generation: %s", ssl_reason(why, sizeof(why)));
		goto out;
	}
	if ((req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, pkey) != 1 ||
	    X509_REQ_sign(req, pkey, EVP_sha256()) <= 0 ||
	    (derlen = i2d_X509_REQ(req, &der)) <= 0 ||
	    (spkilen = i2d_PUBKEY(pkey, &spki)) <= 0) {
		fail("CSR: %s", ssl_reason(why, sizeof(why)));
		goto out;
	}
	if (spkilen > SPKI_MAX) {
		fail("CSR: public key of %d bytes", spkilen);
		goto out;
	}
	/* One line, no breaks: the shortest body EST allows (RFC 8951). */
	if (mca_b64_encode(der, (size_t)derlen, 0, &b64) != 0 ||
	    req_make(&msg, o, t, (const char *)b64.data, b64.len) != 0) {
		fail("CSR: out of memory");
		goto out;
	}
	out->req = (char *)msg.data;
	out->reqlen = msg.len;
	mca_buf_init(&msg);
	out->spki = spki;
	out->spkilen = (size_t)spkilen;
	spki = NULL;
	rc = 0;
out:
	mca_buf_free(&msg);
	mca_buf_free(&b64);
	OPENSSL_free(der);
	OPENSSL_free(spki);
	X509_REQ_free(req);
	X509_NAME_free(name);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* One of the threads that make the pool: entries from, from + step, ... */
struct maker {
	const struct opts	*o;
	const struct target	*t;
	struct csr		*pool;
	long long		 from;
	long long		 step;
	pthread_t		 tid;
	int			 started;
	int			 rc;
};

static void *
maker_main(void *arg)
{
	struct maker	*m = arg;
	enum keytype	 kt;
	long long	 i;

	for (i = m->from; i < m->o->pool; i += m->step) {
		kt = m->o->keytype == KT_MIX ? (i % 2 ? KT_RSA : KT_EC) :
		    m->o->keytype;
		if ((m->rc = csr_make(m->o, m->t, i, kt, &m->pool[i])) != 0)
			break;
	}
	return NULL;
}

/*
 * Fills pool[0..o->pool) on every CPU at once: an RSA-2048 key takes
 * a tenth of a second or more, and nothing runs yet to compete with.
 * Returns 0, or -1 with the message printed (entries already made stay
 * in pool for the caller to free).
 */
static int
pool_make(const struct opts *o, const struct target *t, struct csr *pool)
{
	struct maker	*m = NULL;
	long		 ncpu;
	long long	 n, i;
	int		 rc = -1;

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	n = ncpu < 1 ? 1 : ncpu > 64 ? 64 : ncpu;
	if (n > o->pool)
		n = o->pool;
	if ((m = calloc((size_t)n, sizeof(*m))) == NULL) {
		fail("out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		m[i].o = o;
		m[i].t = t;
		m[i].pool = pool;
		m[i].from = i;
		m[i].step = n;
	}
	/* Thread 0's share, and that of any that cannot start, run here. */
	for (i = 1; i < n; i++)
		m[i].started = pthread_create(&m[i].tid, NULL, maker_main,
		    &m[i]) == 0;
	(void)maker_main(&m[0]);
	rc = m[0].rc;
	for (i = 1; i < n; i++) {
		if (m[i].started)
			(void)pthread_join(m[i].tid, NULL);
		else
			(void)maker_main(&m[i]);
		if (m[i].rc != 0)
			rc = m[i].rc;
	}
out:
	free(m);
	return rc;
}

/*
 * Writes why the current enrollment failed into c->why, for tell() once
 * the outcome is known (a kept-alive connection's failure may yet be
 * retried).
 */
static void
explain(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
explain(struct client *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/*
 * Tells c->why on stderr for the first failure of kind r (or of HTTP
 * status st); later ones are only counted.
 */
static void
tell(struct client *c, enum result r, int st)
{
	struct run	*run = c->run;
	int		 first;

	pthread_mutex_lock(&run->mu);
	if (r == RES_STATUS && st >= 0 && st < STATUS_MAX) {
		first = !run->told_status[st];
		run->told_status[st] = 1;
	} else {
		first = !run->told[r];
		run->told[r] = 1;
	}
	if (first)
		fprintf(stderr, PROG ": first %s: %s\n",
		    r == RES_STATUS ? "status" : result_names[r],
		    c->why[0] != '\0' ? c->why : "(no detail)");
	pthread_mutex_unlock(&run->mu);
}

/*
 * What a failed SSL_* call (return value rc) means: a clean close
 * (RES_EOF), no progress within the socket timeout (RES_TIMEOUT, which a
 * blocking socket with SO_RCVTIMEO reports as "want read"), or RES_CONN.
 * Marks the connection unfit for close_notify unless it closed cleanly.
 */
static enum result
tls_failed(struct client *c, int rc, const char *what)
{
	char	 why[256];
	int	 e, saved = errno;

	e = SSL_get_error(c->ssl, rc);
	if (e == SSL_ERROR_ZERO_RETURN)
		return RES_EOF;
	c->broken = 1;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
	    (e == SSL_ERROR_SYSCALL && (saved == EAGAIN ||
	    saved == EWOULDBLOCK))) {
		explain(c, "%s: nothing for %d s", what, c->run->timeout);
		return RES_TIMEOUT;
	}
	if (e == SSL_ERROR_SYSCALL && saved == 0)
		return RES_EOF;
	if (e == SSL_ERROR_SYSCALL)
		explain(c, "%s: %s", what, strerror(saved));
	else if (SSL_get_verify_result(c->ssl) != X509_V_OK)
		explain(c, "%s: server certificate: %s", what,
		    X509_verify_cert_error_string(
		    SSL_get_verify_result(c->ssl)));
	else
		explain(c, "%s: %s", what, ssl_reason(why, sizeof(why)));
	return RES_CONN;
}

/* Closes the client's connection, if any; close_notify when it is sound. */
static void
conn_close(struct client *c)
{
	if (c->ssl != NULL) {
		if (!c->broken)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	c->broken = 0;
	ERR_clear_error();
}

/* The first handshake's protocol, cipher and key exchange group. */
static void
tls_note(struct client *c)
{
	struct run	*run = c->run;
	const char	*g;
	int		 nid;

	pthread_mutex_lock(&run->mu);
	if (run->tls_version[0] == '\0') {
		nid = SSL_get_negotiated_group(c->ssl);
		g = nid != 0 ? SSL_group_to_name(c->ssl, nid) : NULL;
		(void)snprintf(run->tls_version, sizeof(run->tls_version),
		    "%s", SSL_get_version(c->ssl));
		(void)snprintf(run->tls_cipher, sizeof(run->tls_cipher),
		    "%s", SSL_get_cipher_name(c->ssl));
		(void)snprintf(run->tls_group, sizeof(run->tls_group),
		    "%s", g != NULL ? g : "-");
	}
	pthread_mutex_unlock(&run->mu);
}

/* A new TCP connection and TLS handshake for c. RES_OK or why not. */
static enum result
conn_open(struct client *c)
{
	struct run	*run = c->run;
	struct timeval	 tv;
	enum result	 res = RES_CONN;
	int		 fd = -1, one = 1, rc;

	if ((fd = socket(run->tgt.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1) {
		explain(c, "socket: %s", strerror(errno));
		goto out;
	}
	/* Linux bounds connect() by SO_SNDTIMEO too. */
	tv.tv_sec = run->timeout;
	tv.tv_usec = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1) {
		explain(c, "setsockopt: %s", strerror(errno));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&run->tgt.ss,
	    run->tgt.sslen) == -1) {
		if (errno == EINPROGRESS) {
			res = RES_TIMEOUT;
			explain(c, "connect: nothing for %d s",
			    run->timeout);
		} else
			explain(c, "connect to %s: %s", run->tgt.hosthdr,
			    strerror(errno));
		goto out;
	}
	if ((c->ssl = SSL_new(run->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, fd) != 1 ||
	    /* RFC 6066 3: no addresses in server_name. */
	    (!run->tgt.is_ip &&
	    SSL_set_tlsext_host_name(c->ssl, run->tgt.host) != 1)) {
		explain(c, "SSL_new: out of memory");
		goto out;
	}
	c->fd = fd;
	fd = -1;
	ERR_clear_error();
	if ((rc = SSL_connect(c->ssl)) != 1) {
		res = tls_failed(c, rc, "TLS handshake");
		if (res == RES_EOF) {
			explain(c, "TLS handshake: the server closed the "
			    "connection");
			res = RES_CONN;
		}
		c->broken = 1;
		goto out;
	}
	if (!c->noted) {
		tls_note(c);
		c->noted = 1;
	}
	if (c->measured)
		c->handshakes++;
	res = RES_OK;
out:
	if (res != RES_OK)
		conn_close(c);
	if (fd != -1)
		(void)close(fd);
	return res;
}

/* Reads at most len bytes into buf; *n is how many. RES_OK or why not. */
static enum result
conn_read(struct client *c, unsigned char *buf, size_t len, size_t *n)
{
	int	 rc;

	*n = 0;
	ERR_clear_error();
	if ((rc = SSL_read(c->ssl, buf, len > INT32_MAX ? INT32_MAX :
	    (int)len)) <= 0)
		return tls_failed(c, rc, "read");
	*n = (size_t)rc;
	return RES_OK;
}

/* 1 if the Connection header value v lists the "close" option. */
static int
conn_says_close(const char *v)
{
	const char	*p = v, *e;

	/* RFC 9110 7.6.1: a comma-separated list of options. */
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		e = p + strcspn(p, ", \t");
		if ((size_t)(e - p) == 5 && strncasecmp(p, "close", 5) == 0)
			return 1;
		p = e;
	}
	return 0;
}

/*
 * Parses the status line and headers in h[0..len) (the block before the
 * blank line, with its CRLFs; changed in place: each CR becomes NUL).
 * Sets r->status, r->ctype, r->close; *cl to Content-Length or -1.
 * Returns RES_OK or RES_BADHTTP.
 */
static enum result
resp_head(struct client *c, char *h, size_t len, struct resp *r,
    long long *cl)
{
	char		*line, *end, *v, *ve;
	long long	 st;
	size_t		 n;
	int		 first = 1;

	*cl = -1;
	if (memchr(h, '\0', len) != NULL) {
		explain(c, "a NUL in the response headers");
		return RES_BADHTTP;
	}
	for (line = h; line < h + len; line = end + 2) {
		if ((end = memchr(line, '\r', (size_t)(h + len - line))) ==
		    NULL || end + 1 >= h + len || end[1] != '\n') {
			explain(c, "a header line without CRLF");
			return RES_BADHTTP;
		}
		*end = '\0';
		if (first) {
			first = 0;
			/* RFC 9112 4: HTTP-version SP 3DIGIT SP reason */
			if ((strncmp(line, "HTTP/1.1 ", 9) != 0 &&
			    strncmp(line, "HTTP/1.0 ", 9) != 0) ||
			    mca_num_parse(line + 9, 3, 100, STATUS_MAX - 1,
			    &st) != 0 || (line[12] != ' ' &&
			    line[12] != '\0')) {
				explain(c, "status line \"%.80s\"", line);
				return RES_BADHTTP;
			}
			r->status = (int)st;
			/* RFC 9112 9.3: 1.0 closes unless told otherwise. */
			r->close = line[7] == '0';
			continue;
		}
		if ((v = strchr(line, ':')) == NULL || v == line ||
		    line[0] == ' ' || line[0] == '\t') {
			explain(c, "header line \"%.80s\"", line);
			return RES_BADHTTP;
		}
		n = (size_t)(v - line);
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		for (ve = v + strlen(v); ve > v && (ve[-1] == ' ' ||
		    ve[-1] == '\t'); ve--)
			;
		*ve = '\0';
		if (n == 14 && strncasecmp(line, "Content-Length", n) == 0) {
			if (*cl != -1 || mca_http_content_length(v,
			    BODY_MAX, &n) != 0) {
				explain(c, "Content-Length \"%.40s\" (twice, "
				    "malformed or over %d)", v, BODY_MAX);
				return RES_BADHTTP;
			}
			*cl = (long long)n;
		} else if (n == 12 &&
		    strncasecmp(line, "Content-Type", n) == 0)
			r->ctype = v;
		else if (n == 10 && strncasecmp(line, "Connection", n) == 0)
			r->close |= conn_says_close(v);
		else if (n == 17 &&
		    strncasecmp(line, "Transfer-Encoding", n) == 0) {
			/* microca always sends Content-Length. */
			explain(c, "Transfer-Encoding: %.40s", v);
			return RES_BADHTTP;
		}
	}
	return RES_OK;
}

/*
 * Reads one answer into c->rbuf: headers up to HDR_MAX, then exactly
 * Content-Length bytes of body (up to BODY_MAX), or without a length on a
 * closing connection, everything up to the close. *nothing stays 1 while
 * not a byte of it has come. Returns RES_OK, or why not.
 */
static enum result
resp_read(struct client *c, struct resp *r, int *nothing)
{
	unsigned char	*b = c->rbuf, *eoh = NULL;
	size_t		 len = 0, got, hlen, from, want;
	long long	 cl;
	enum result	 res;

	memset(r, 0, sizeof(*r));
	*nothing = 1;
	while (eoh == NULL) {
		if (len >= HDR_MAX) {
			explain(c, "headers over %d bytes", HDR_MAX);
			return RES_BADHTTP;
		}
		if ((res = conn_read(c, b + len, HDR_MAX + BODY_MAX - len,
		    &got)) != RES_OK)
			return res;
		*nothing = 0;
		from = len > 3 ? len - 3 : 0;
		len += got;
		eoh = memmem(b + from, len - from, "\r\n\r\n", 4);
		if (eoh != NULL && (size_t)(eoh - b) + 4 > HDR_MAX) {
			explain(c, "headers over %d bytes", HDR_MAX);
			return RES_BADHTTP;
		}
	}
	hlen = (size_t)(eoh - b) + 2;
	if ((res = resp_head(c, (char *)b, hlen, r, &cl)) != RES_OK)
		return res;
	r->body = (const char *)eoh + 4;
	r->bodylen = len - (hlen + 2);
	if (cl == -1 && !r->close) {
		explain(c, "neither Content-Length nor Connection: close");
		return RES_BADHTTP;
	}
	want = cl == -1 ? BODY_MAX : (size_t)cl;
	if (r->bodylen > want) {
		explain(c, "%zu bytes past the end of the body (%zu)",
		    r->bodylen - want, want);
		return RES_BADHTTP;
	}
	while (r->bodylen < want) {
		res = conn_read(c, (unsigned char *)r->body + r->bodylen,
		    want - r->bodylen, &got);
		if (res == RES_EOF && cl == -1)
			break;
		if (res != RES_OK) {
			if (res == RES_EOF) {
				explain(c, "closed %zu bytes into a body of "
				    "%zu", r->bodylen, want);
				res = RES_CONN;
			}
			return res;
		}
		r->bodylen += got;
	}
	if (cl == -1 && r->bodylen == BODY_MAX) {
		explain(c, "body over %d bytes", BODY_MAX);
		return RES_BADHTTP;
	}
	return RES_OK;
}

/* DER identifier octets (X.690 8.1.2), all of low tag number form. */
#define DER_INTEGER	0x02
#define DER_BITSTRING	0x03
#define DER_OID		0x06
#define DER_SEQUENCE	0x30
#define DER_SET		0x31
#define DER_CTX0	0xa0	/* [0], constructed */
#define DER_CTX1	0xa1	/* [1], constructed */

/*
 * The next DER element in [*p, end) must have identifier octet id: *v and
 * *vlen are its contents, and *p moves past it. Definite lengths only
 * (X.690 10.1). 0 or -1.
 */
static int
der_get(const unsigned char **p, const unsigned char *end, unsigned id,
    const unsigned char **v, size_t *vlen)
{
	const unsigned char	*q = *p;
	long			 len;
	int			 tag, cls, r;

	if (q >= end || *q != id)
		return -1;
	/* ASN1_get_object() checks the length against what is left. */
	r = ASN1_get_object(&q, &len, &tag, &cls, (long)(end - q));
	if ((r & 0x80) || (r & 0x01))
		return -1;
	*v = q;
	*vlen = (size_t)len;
	*p = q + len;
	return 0;
}

/*
 * Walks a Certificate's contents, cert[0..len) (RFC 5280 4.1:
 * tbsCertificate, signatureAlgorithm and signature, nothing after; the
 * TBSCertificate's fields in order up to subjectPublicKeyInfo), and
 * points *spki at that SubjectPublicKeyInfo, whole. 0 or -1.
 */
static int
cert_spki(const unsigned char *cert, size_t len, const unsigned char **spki,
    size_t *spkilen)
{
	const unsigned char	*p = cert, *end = cert + len, *v, *tbs;
	size_t			 n, tbslen;

	if (der_get(&p, end, DER_SEQUENCE, &tbs, &tbslen) != 0 ||
	    der_get(&p, end, DER_SEQUENCE, &v, &n) != 0 ||
	    der_get(&p, end, DER_BITSTRING, &v, &n) != 0 || p != end)
		return -1;
	/* [0] version, serialNumber, signature, issuer, validity, subject */
	p = tbs;
	end = tbs + tbslen;
	if ((p < end && *p == DER_CTX0 &&
	    der_get(&p, end, DER_CTX0, &v, &n) != 0) ||
	    der_get(&p, end, DER_INTEGER, &v, &n) != 0 ||
	    der_get(&p, end, DER_SEQUENCE, &v, &n) != 0 ||
	    der_get(&p, end, DER_SEQUENCE, &v, &n) != 0 ||
	    der_get(&p, end, DER_SEQUENCE, &v, &n) != 0 ||
	    der_get(&p, end, DER_SEQUENCE, &v, &n) != 0)
		return -1;
	*spki = p;
	if (der_get(&p, end, DER_SEQUENCE, &v, &n) != 0)
		return -1;
	*spkilen = (size_t)(p - *spki);
	return 0;
}

/*
 * --issued: the serial of the certificate cert[0..len) on a line of its
 * own, in one write(2) to a file opened O_APPEND, so that the lines of
 * all clients stay whole. 0 or -1.
 */
static int
note_issued(int fd, const unsigned char *cert, size_t len)
{
	const unsigned char	*q = cert;
	X509			*x;
	char			 line[MCA_HEX_MAX + 1];
	size_t			 n;
	int			 rc = -1;

	if ((x = d2i_X509(NULL, &q, (long)len)) == NULL)
		return -1;
	if (mca_cert_serial_hex(x, line, sizeof(line) - 1) == 0) {
		n = strlen(line);
		line[n++] = '\n';
		rc = write(fd, line, n) == (ssize_t)n ? 0 : -1;
	}
	X509_free(x);
	return rc;
}

/*
 * Is r the certificate for csr? RFC 7030 4.2.3: application/pkcs7-mime,
 * base64 of a certs-only CMS SignedData (RFC 5751 3.8: no content, no
 * signers) holding only the certificate issued, whose
 * SubjectPublicKeyInfo must be the CSR's, byte for byte.
 *
 * The DER is walked here rather than handed to d2i_PKCS7(): OpenSSL 3.0
 * decodes every certificate's public key while parsing (an EC group is
 * built for it), about 0.1 ms a response, which the client would take
 * from the server it measures. The walk checks every element on the
 * way, in order, with exact lengths and nothing left over. RES_OK or
 * RES_BADBODY.
 */
static enum result
check_body(struct client *c, const struct resp *r, const struct csr *csr)
{
	/* RFC 5652 5.1, 4: id-signedData, id-data */
	static const unsigned char oid_signed[] = { 0x2a, 0x86, 0x48, 0x86,
	    0xf7, 0x0d, 0x01, 0x07, 0x02 };
	static const unsigned char oid_data[] = { 0x2a, 0x86, 0x48, 0x86,
	    0xf7, 0x0d, 0x01, 0x07, 0x01 };
	const unsigned char	*p, *end, *v, *q, *qend, *certs, *certs_end;
	const unsigned char	*spki = NULL, *cert = NULL;
	const char		*why = NULL;
	size_t			 n, m = 0, ncerts;
	enum result		 res = RES_BADBODY;

	if (!mca_http_media_is(r->ctype, "application/pkcs7-mime")) {
		explain(c, "Content-Type \"%.60s\"",
		    r->ctype != NULL ? r->ctype : "(none)");
		goto out;
	}
	mca_buf_reset(&c->der);
	if (mca_b64_decode(r->body, r->bodylen, &c->der) != 0) {
		why = "the body is not base64";
		goto out;
	}
	p = c->der.data;
	end = p + c->der.len;
	/* ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content } */
	why = "the body is not a CMS SignedData";
	if (der_get(&p, end, DER_SEQUENCE, &v, &n) != 0 || p != end)
		goto out;
	p = v;
	end = v + n;
	if (der_get(&p, end, DER_OID, &v, &n) != 0 ||
	    n != sizeof(oid_signed) || memcmp(v, oid_signed, n) != 0 ||
	    der_get(&p, end, DER_CTX0, &v, &n) != 0 || p != end)
		goto out;
	p = v;
	end = v + n;
	if (der_get(&p, end, DER_SEQUENCE, &v, &n) != 0 || p != end)
		goto out;
	/*
	 * SignedData ::= SEQUENCE { version, digestAlgorithms SET,
	 * encapContentInfo, [0] IMPLICIT certificates, [1] IMPLICIT crls
	 * OPTIONAL, signerInfos SET }
	 */
	p = v;
	end = v + n;
	why = "the SignedData is not certs-only";
	if (der_get(&p, end, DER_INTEGER, &v, &n) != 0 ||
	    der_get(&p, end, DER_SET, &v, &n) != 0 ||
	    der_get(&p, end, DER_SEQUENCE, &v, &n) != 0)
		goto out;
	/* encapContentInfo: id-data and no content */
	q = v;
	qend = v + n;
	if (der_get(&q, qend, DER_OID, &v, &m) != 0 || q != qend ||
	    m != sizeof(oid_data) || memcmp(v, oid_data, m) != 0 ||
	    der_get(&p, end, DER_CTX0, &certs, &n) != 0)
		goto out;
	certs_end = certs + n;
	if (p < end && *p == DER_CTX1 &&
	    der_get(&p, end, DER_CTX1, &v, &n) != 0)
		goto out;
	if (der_get(&p, end, DER_SET, &v, &n) != 0 || n != 0 || p != end)
		goto out;
	/*
	 * /simpleenroll: only the certificate issued (RFC 7030 4.2.3), with
	 * the CSR's key; /cacerts: the CA certificates, at least one (RFC
	 * 7030 4.1.3).
	 */
	why = "a certificate is malformed";
	for (ncerts = 0, p = certs; p < certs_end; ncerts++)
		if ((cert = p) == NULL ||
		    der_get(&p, certs_end, DER_SEQUENCE, &v, &n) != 0 ||
		    cert_spki(v, n, &spki, &m) != 0)
			goto out;
	if (ncerts == 0 || (csr->spki != NULL && ncerts != 1)) {
		explain(c, "%zu certificates, not %s", ncerts,
		    csr->spki != NULL ? "1" : "1 or more");
		why = NULL;
		goto out;
	}
	if (csr->spki != NULL && (m != csr->spkilen ||
	    memcmp(spki, csr->spki, m) != 0)) {
		why = "the certificate's key is not the CSR's";
		goto out;
	}
	if (csr->spki != NULL && c->run->issued_fd >= 0 &&
	    note_issued(c->run->issued_fd, cert, (size_t)(p - cert)) != 0) {
		why = "cannot note the certificate's serial (--issued)";
		goto out;
	}
	why = NULL;
	res = RES_OK;
out:
	if (why != NULL)
		explain(c, "%s", why);
	return res;
}

/* Writes the whole request. RES_OK or why not. */
static enum result
conn_write(struct client *c, const char *req, size_t len)
{
	int	 rc;

	ERR_clear_error();
	/* Without SSL_MODE_ENABLE_PARTIAL_WRITE: all of it, or failure. */
	if ((rc = SSL_write(c->ssl, req, (int)len)) <= 0)
		return tls_failed(c, rc, "write");
	return RES_OK;
}

/*
 * One enrollment of csr. *done is when the last byte of the answer came;
 * *status is the HTTP status (0 if none). Returns RES_OK or why not.
 */
static enum result
enroll_one(struct client *c, const struct csr *csr, struct timespec *done,
    int *status)
{
	struct resp	 r;
	enum result	 res = RES_CONN;
	size_t		 n;
	int		 attempt, reused, nothing = 1;

	*status = 0;
	for (attempt = 0; attempt < 2; attempt++) {
		reused = c->ssl != NULL;
		if (!reused && (res = conn_open(c)) != RES_OK)
			return res;
		nothing = 1;
		if ((res = conn_write(c, csr->req, csr->reqlen)) == RES_OK)
			res = resp_read(c, &r, &nothing);
		if (res == RES_OK)
			break;
		conn_close(c);
		/*
		 * A kept-alive connection that the server closed while it
		 * was idle fails at first use, before a byte of answer:
		 * the request was never read, so it goes again, once, on a
		 * new connection (RFC 9112 9.3.1).
		 */
		if (!reused || !nothing || (res != RES_EOF && res != RES_CONN))
			break;
	}
	ts_now(done);
	if (res == RES_EOF) {
		explain(c, "the server closed the connection before "
		    "answering");
		res = RES_CONN;
	}
	if (res != RES_OK)
		return res;
	if (r.close || c->run->mode == MODE_FRESH)
		conn_close(c);
	if (r.status != 200) {
		/* microca's reason is the body's first line. */
		for (n = 0; n < r.bodylen && n < 200 && r.body[n] != '\r' &&
		    r.body[n] != '\n'; n++)
			;
		*status = r.status;
		explain(c, "%d: %.*s", r.status, (int)n, r.body);
		return RES_STATUS;
	}
	return check_body(c, &r, csr);
}

/* One enrollment, counted in st; its latency kept when measured. */
static void
client_one(struct client *c, struct stats *st, int measured)
{
	struct run	*run = c->run;
	const struct csr *csr;
	struct timespec	 t0, t1;
	enum result	 res;
	int		 status;

	csr = &run->pool[(c->id + c->seq * (unsigned long long)run->clients) %
	    run->npool];
	c->seq++;
	c->why[0] = '\0';
	ts_now(&t0);
	res = enroll_one(c, csr, &t1, &status);
	if (res != RES_OK)
		tell(c, res, status);
	st->n[res]++;
	if (res == RES_STATUS)
		st->status[status]++;
	if (res == RES_OK && measured)
		c->lat[c->nlat++] = ts_ms(&t0, &t1);
}

/* Sleeps until off seconds after start (at once if that is past). */
static void
pace(const struct timespec *start, double off)
{
	struct timespec	 at;
	long long	 ns;

	ns = (long long)(off * 1e9) + start->tv_nsec;
	at.tv_sec = start->tv_sec + (time_t)(ns / 1000000000LL);
	at.tv_nsec = (long)(ns % 1000000000LL);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) ==
	    EINTR)
		;
}

static void *
client_main(void *arg)
{
	struct client	*c = arg;
	struct run	*run = c->run;
	struct timespec	 start;
	long long	 j;
	int		 abort;

	for (j = 0; j < run->warmup; j++) {
		if (ts_past(&run->deadline)) {
			c->cut = 1;
			break;
		}
		client_one(c, &c->warm, 0);
	}
	/* All clients start the measured phase together. */
	pthread_mutex_lock(&run->mu);
	run->ready++;
	pthread_cond_broadcast(&run->cv);
	while (!run->go)
		pthread_cond_wait(&run->cv, &run->mu);
	abort = run->abort;
	pthread_mutex_unlock(&run->mu);
	c->measured = 1;
	ts_now(&start);
	for (j = 0; j < run->count && !abort && !c->cut; j++) {
		if (ts_past(&run->deadline)) {
			c->cut = 1;
			break;
		}
		if (run->interval > 0)
			pace(&start, j * run->interval);
		client_one(c, &c->st, 1);
	}
	conn_close(c);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p of sorted v[0..n). */
static double
pct(const double *v, long long n, long long p)
{
	long long	 k;

	if (n == 0)
		return 0.0;
	k = (p * n + 99) / 100;
	return v[k < 1 ? 0 : k - 1];
}

static double
tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/*
 * The machine line, on stdout, in this order: mode op clients count
 * requested ok errors seconds (wall time of the measured phase) rate
 * (ok / seconds) p50_ms p95_ms p99_ms max_ms (over the enrollments that
 * succeeded) conn timeout badhttp badbody status_503 (always) and
 * status_NNN for every other status seen, warmup warmup_errors cut (1:
 * --max-seconds stopped it) handshakes (TLS connections made in the
 * measured phase) key_type pool ("-" and 0 for /cacerts) cpu_s (this
 * program's user+sys in the measured phase) cpu_ms_per_ok, and tls
 * cipher group of the first handshake ("-" if none). Returns the exit
 * code: EX_DONE only when every request asked for, warm-up included,
 * succeeded.
 */
static int
report(const struct opts *o, struct run *run, struct client *cl,
    double secs, double cpu)
{
	struct stats	 st, warm;
	long long	 i, j, n = 0, requested;
	unsigned long long errors, werrors = 0, handshakes = 0;
	double		 rate, p50, p95, p99, mx;
	int		 cut = 0, k, s;

	memset(&st, 0, sizeof(st));
	memset(&warm, 0, sizeof(warm));
	for (i = 0; i < run->clients; i++) {
		for (k = 0; k < RES_MAX; k++) {
			st.n[k] += cl[i].st.n[k];
			warm.n[k] += cl[i].warm.n[k];
		}
		for (s = 0; s < STATUS_MAX; s++)
			st.status[s] += cl[i].st.status[s];
		cut |= cl[i].cut;
		handshakes += cl[i].handshakes;
		/* Gather the latencies at the front of run->lat. */
		for (j = 0; j < cl[i].nlat; j++)
			run->lat[n++] = cl[i].lat[j];
	}
	qsort(run->lat, (size_t)n, sizeof(double), cmp_double);
	p50 = pct(run->lat, n, 50);
	p95 = pct(run->lat, n, 95);
	p99 = pct(run->lat, n, 99);
	mx = n > 0 ? run->lat[n - 1] : 0.0;
	errors = 0;
	for (k = RES_STATUS; k < RES_MAX; k++) {
		errors += st.n[k];
		werrors += warm.n[k];
	}
	requested = run->clients * run->count;
	rate = secs > 0 ? (double)st.n[RES_OK] / secs : 0.0;

	printf("mode=%s op=%s clients=%lld count=%lld requested=%lld ok=%llu "
	    "errors=%llu seconds=%.3f rate=%.1f p50_ms=%.1f p95_ms=%.1f "
	    "p99_ms=%.1f max_ms=%.1f conn=%llu timeout=%llu badhttp=%llu "
	    "badbody=%llu status_%d=%llu",
	    mode_names[run->mode], op_names[o->op], run->clients, run->count,
	    requested, st.n[RES_OK], errors, secs, rate, p50, p95, p99, mx,
	    st.n[RES_CONN], st.n[RES_TIMEOUT], st.n[RES_BADHTTP],
	    st.n[RES_BADBODY], STATUS_BUSY, st.status[STATUS_BUSY]);
	for (s = 0; s < STATUS_MAX; s++)
		if (s != STATUS_BUSY && st.status[s] != 0)
			printf(" status_%d=%llu", s, st.status[s]);
	printf(" warmup=%lld warmup_errors=%llu cut=%d handshakes=%llu "
	    "key_type=%s pool=%zu cpu_s=%.3f cpu_ms_per_ok=%.3f tls=%s "
	    "cipher=%s group=%s\n", run->warmup, werrors, cut, handshakes,
	    o->op == OP_CACERTS ? "-" : keytype_names[o->keytype],
	    o->op == OP_CACERTS ? (size_t)0 : run->npool,
	    cpu, st.n[RES_OK] > 0 ? cpu * 1e3 / (double)st.n[RES_OK] : 0.0,
	    run->tls_version[0] ? run->tls_version : "-",
	    run->tls_cipher[0] ? run->tls_cipher : "-",
	    run->tls_group[0] ? run->tls_group : "-");
	fflush(stdout);

	fprintf(stderr, PROG ": %s %s, %lld clients x %lld: %llu ok, %llu "
	    "errors%s in %.3f s = %.1f/s; p50 %.1f p95 %.1f p99 %.1f max "
	    "%.1f ms; client CPU %.3f ms per success; %s%s%s%s%s\n",
	    op_names[o->op], mode_names[run->mode], run->clients, run->count,
	    st.n[RES_OK],
	    errors, cut ? " (cut short by --max-seconds)" : "", secs, rate,
	    p50, p95, p99, mx,
	    st.n[RES_OK] > 0 ? cpu * 1e3 / (double)st.n[RES_OK] : 0.0,
	    run->tls_version[0] ? run->tls_version : "no TLS handshake",
	    run->tls_version[0] ? " " : "", run->tls_cipher,
	    run->tls_version[0] ? " " : "", run->tls_group);
	if (errors != 0 || werrors != 0 || cut ||
	    st.n[RES_OK] != (unsigned long long)requested)
		return EX_FAIL;
	return EX_DONE;
}

static void
run_free(struct run *run, struct client *cl)
{
	size_t		 i;
	long long	 j;

	if (cl != NULL) {
		for (j = 0; j < run->clients; j++) {
			free(cl[j].rbuf);
			mca_buf_free(&cl[j].der);
		}
		free(cl);
	}
	if (run->pool != NULL)
		for (i = 0; i < run->npool; i++)
			csr_free(&run->pool[i]);
	free(run->pool);
	free(run->lat);
	SSL_CTX_free(run->ctx);
	X509_free(vcache.leaf);
	vcache.leaf = NULL;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "url",		required_argument, NULL, 'u' },
		{ "cacert",		required_argument, NULL, 'A' },
		{ "cert",		required_argument, NULL, 'c' },
		{ "key",		required_argument, NULL, 'k' },
		{ "clients",		required_argument, NULL, 'n' },
		{ "count",		required_argument, NULL, 'm' },
		{ "mode",		required_argument, NULL, 'M' },
		{ "key-type",		required_argument, NULL, 't' },
		{ "pool",		required_argument, NULL, 'p' },
		{ "subject",		required_argument, NULL, 's' },
		{ "op",			required_argument, NULL, 'o' },
		{ "warmup",		required_argument, NULL, 'w' },
		{ "max-seconds",	required_argument, NULL, 'S' },
		{ "timeout",		required_argument, NULL, 'T' },
		{ "full-verify",	no_argument,	   NULL, 'F' },
		{ "basic",		required_argument, NULL, 'B' },
		{ "rate",		required_argument, NULL, 'R' },
		{ "issued",		required_argument, NULL, 'I' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL,			0,		   NULL, 0 }
	};
	struct opts	 o;
	struct run	 run;
	struct client	*cl = NULL;
	pthread_attr_t	 attr;
	struct timespec	 t0, t1;
	struct rusage	 ru0, ru1;
	long long	 i, started = 0;
	double		 cpu;
	int		 ch, rc = EX_USAGE, sync_ok = 0, attr_ok = 0;

	memset(&o, 0, sizeof(o));
	memset(&run, 0, sizeof(run));
	run.issued_fd = -1;
	o.clients = DEF_CLIENTS;
	o.count = DEF_COUNT;
	o.pool = DEF_POOL;
	o.max_seconds = DEF_MAX_SECONDS;
	o.timeout = DEF_TIMEOUT;
	o.subject = DEF_SUBJECT;
	o.op = OP_SIMPLEENROLL;
	o.mode = MODE_FRESH;
	o.keytype = KT_EC;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			o.url = optarg;
			break;
		case 'A':
			o.cacert = optarg;
			break;
		case 'c':
			o.cert = optarg;
			break;
		case 'k':
			o.key = optarg;
			break;
		case 'n':
			o.clients = optnum("clients", optarg, 1, MAX_CLIENTS);
			break;
		case 'm':
			o.count = optnum("count", optarg, 1, MAX_COUNT);
			break;
		case 'M':
			o.mode = (enum mode)optword("mode", optarg, mode_names,
			    MODE_MAX);
			break;
		case 't':
			o.keytype = (enum keytype)optword("key-type", optarg,
			    keytype_names, KT_MAX);
			break;
		case 'p':
			o.pool = optnum("pool", optarg, 1, MAX_POOL);
			break;
		case 's':
			o.subject = optarg;
			break;
		case 'o':
			o.op = (enum op)optword("op", optarg, op_names,
			    OP_MAX);
			break;
		case 'w':
			o.warmup = optnum("warmup", optarg, 0, MAX_COUNT);
			break;
		case 'S':
			o.max_seconds = optnum("max-seconds", optarg, 1,
			    MAX_SECONDS);
			break;
		case 'T':
			o.timeout = optnum("timeout", optarg, 1, 3600);
			break;
		case 'F':
			o.full_verify = 1;
			break;
		case 'B':
			if (strchr(optarg, ':') == NULL ||
			    strpbrk(optarg, "\r\n") != NULL) {
				fail("--basic %s: expected USER:PASSWORD",
				    optarg);
				usage();
			}
			o.basic = optarg;
			break;
		case 'R':
			o.rate = optnum("rate", optarg, 1, 1000000);
			break;
		case 'I':
			o.issued = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc) {
		fail("%s: unexpected argument", argv[optind]);
		usage();
	}
	if (o.url == NULL || o.cacert == NULL) {
		fail("--url and --cacert are required");
		usage();
	}
	if ((o.cert == NULL) != (o.key == NULL)) {
		fail("--cert and --key go together");
		usage();
	}
	if (o.clients * o.count > MAX_SAMPLES) {
		fail("--clients %lld x --count %lld: more than %lld "
		    "enrollments", o.clients, o.count, MAX_SAMPLES);
		usage();
	}
	if (subject_ok(o.subject) != 0) {
		fail("--subject %s: expected /TYPE=value/... (TYPE as "
		    "openssl knows it: CN, O, OU, ...), \"%%d\" for the "
		    "key's number and no other '%%'", o.subject);
		goto out;
	}

	/* A server that closes early must not kill us on write. */
	(void)signal(SIGPIPE, SIG_IGN);
	if (url_parse(o.url, &run.tgt) != 0 ||
	    (run.ctx = tls_setup(&o, &run.tgt)) == NULL)
		goto out;
	if (o.issued != NULL && (run.issued_fd = open(o.issued, O_WRONLY |
	    O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		fail("--issued %s: %s", o.issued, strerror(errno));
		goto out;
	}
	run.mode = o.mode;
	run.clients = o.clients;
	run.count = o.count;
	run.warmup = o.warmup;
	run.timeout = (int)o.timeout;
	run.interval = o.rate > 0 ? (double)o.clients / (double)o.rate : 0;

	/* Everything the clients use is made before the clock starts. */
	run.npool = o.op == OP_CACERTS ? 1 : (size_t)o.pool;
	if ((run.pool = calloc(run.npool, sizeof(*run.pool))) == NULL ||
	    (run.lat = calloc((size_t)(o.clients * o.count),
	    sizeof(double))) == NULL ||
	    (cl = calloc((size_t)o.clients, sizeof(*cl))) == NULL) {
		fail("out of memory");
		goto out;
	}
	for (i = 0; i < o.clients; i++) {
		cl[i].run = &run;
		cl[i].id = i;
		cl[i].fd = -1;
		cl[i].lat = run.lat + i * o.count;
		mca_buf_init(&cl[i].der);
		if ((cl[i].rbuf = malloc(HDR_MAX + BODY_MAX)) == NULL ||
		    mca_buf_reserve(&cl[i].der, BODY_MAX) != 0) {
			fail("out of memory");
			goto out;
		}
	}
	if (o.op == OP_CACERTS) {
		if (cacerts_make(&o, &run.tgt, &run.pool[0]) != 0)
			goto out;
	} else {
		fprintf(stderr, PROG ": making %lld %s keys and CSRs\n",
		    o.pool, keytype_names[o.keytype]);
		if (pool_make(&o, &run.tgt, run.pool) != 0)
			goto out;
	}

	if (pthread_mutex_init(&run.mu, NULL) != 0 ||
	    pthread_cond_init(&run.cv, NULL) != 0) {
		fail("pthread_mutex_init: failed");
		goto out;
	}
	sync_ok = 1;
	/* The clients need little stack: OpenSSL works on the heap. */
	if (pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setstacksize(&attr, 256 * 1024) != 0) {
		fail("pthread_attr: failed");
		goto out;
	}
	attr_ok = 1;
	ts_now(&run.deadline);
	run.deadline.tv_sec += (time_t)o.max_seconds;
	for (started = 0; started < o.clients; started++)
		if (pthread_create(&cl[started].tid, &attr, client_main,
		    &cl[started]) != 0)
			break;
	pthread_mutex_lock(&run.mu);
	if (started < o.clients)
		run.abort = 1;
	while (run.ready < started)
		pthread_cond_wait(&run.cv, &run.mu);
	ts_now(&t0);
	(void)getrusage(RUSAGE_SELF, &ru0);
	run.go = 1;
	pthread_cond_broadcast(&run.cv);
	pthread_mutex_unlock(&run.mu);
	for (i = 0; i < started; i++)
		(void)pthread_join(cl[i].tid, NULL);
	ts_now(&t1);
	(void)getrusage(RUSAGE_SELF, &ru1);
	if (run.abort) {
		fail("cannot start %lld client threads (started %lld)",
		    o.clients, started);
		goto out;
	}
	cpu = tv_s(&ru1.ru_utime) - tv_s(&ru0.ru_utime) +
	    tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_stime);
	rc = report(&o, &run, cl, ts_ms(&t0, &t1) / 1e3, cpu);
out:
	if (attr_ok)
		(void)pthread_attr_destroy(&attr);
	if (sync_ok) {
		(void)pthread_cond_destroy(&run.cv);
		(void)pthread_mutex_destroy(&run.mu);
	}
	run_free(&run, cl);
	if (run.issued_fd >= 0)
		(void)close(run.issued_fd);
	return rc;
}
