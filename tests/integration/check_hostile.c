/*
 * Hostile requests through a real lighttpd in front of microca-est (CA
 * key in a SoftHSMv2 token, started once by scripts/microca-web through
 * tests/integration/renewweb.c), sent byte for byte by a small TLS client
 * of our own: bodies, headers, paths, methods and credentials that are
 * wrong in every way the table below names. After each case:
 *
 *  - the status is the one doc/microca-est.8 (DIAGNOSTICS) gives for it,
 *    or lighttpd's own where lighttpd refuses the request before
 *    microca-est sees it (marked WEB: then the body is lighttpd's);
 *  - an answer of microca-est's is one line of text/plain;
 *  - the ledger holds no new certificate and no other new state (the
 *    passcodes' uses, renewals, CA generations, sync state: a digest of
 *    them is compared), and issued_certs_dir no new file;
 *  - a good GET /cacerts still answers 200 (the workers are alive).
 *
 * The refusals are recorded in the ledger's refusals table, on purpose
 * (microca-est(8)); that table is not part of the digest. The last cases
 * are good enrollments, which must add exactly one certificate each: the
 * checks above can see a change.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <dirent.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "b64.h"
#include "buf.h"
#include "renewweb.h"
#include "testutil.h"

#define P	"/.well-known/est/"

/* Who answers a case. */
enum src { MCA, WEB };

/* What the client presents in the TLS handshake. */
enum cert { C_NONE, C_BOOT, C_FOREIGN, C_EXPIRED, C_MAX };

/* The Authorization header a case sends (A_RAW: in its headers). */
enum auth {
	A_NONE,		/* none */
	A_PC,		/* the good passcode of "dev" */
	A_PC_WRONG,	/* its ID, another secret */
	A_PC_UNKNOWN,	/* an ID nobody made */
	A_PC_OTHER,	/* a good passcode of label "other" */
	A_PC_REVOKED,	/* a revoked one */
	A_PC_USED,	/* one whose only use is spent */
	A_LOCK_WRONG,	/* the "lock" passcode with a wrong secret */
	A_LOCK,		/* the "lock" passcode, right, once it is locked */
	A_MAX
};

/* The body a case sends (B_LIT: lit, litlen). */
enum body {
	B_NONE,
	B_LIT,
	B_CSR,		/* a good CSR, base64 of its DER */
	B_CSR_PEM,	/* the same as PEM */
	B_CSR_DER,	/* the DER itself */
	B_CSR_DER_TRUNC, /* half of it */
	B_CSR_DER_BADSIG, /* the DER with its signature spoilt */
	B_CSR_B64URL,	/* base64url of it */
	B_CSR_NUL,	/* base64 with a NUL in the middle */
	B_CSR_TRUNC,	/* base64 of half the DER */
	B_CSR_BADSIG,	/* base64 of the DER with its signature spoilt */
	B_CSR_TRAIL,	/* base64 of the DER and two bytes after it */
	B_CSR_CHUNKED,	/* a good CSR in chunked transfer coding */
	B_CSR_RSA1024,	/* a key too small */
	B_CSR_P192,	/* a curve not allowed */
	B_CSR_NONAME,	/* no subject, no subjectAltName */
	B_CSR_WILDCARD,	/* a wildcard DNS name */
	B_CSR_MANYSAN,	/* 17 DNS names */
	B_CSR_URISAN,	/* a URI name only: not an allowed type */
	B_ZEROS_B64,	/* 60000 bytes of base64 zeros: not DER */
	B_70K,		/* 70000 bytes: over microca's 65536 */
	B_2M,		/* 2 MiB: over lighttpd's max-request-size */
	B_RANDOM,	/* 4096 random bytes */
	B_MAX
};

/*
 * One case. cl: NULL sends the body's length, "" no Content-Length,
 * else the header line(s) given. hdrs: more header lines, each ending
 * in CRLF. status 0 takes any status of src (lighttpd's choices that
 * no document fixes, as for an over-long header); grow 1 for the good
 * enrollments at the end.
 */
struct hcase {
	const char	*name;
	const char	*method;
	const char	*path;
	const char	*hdrs;
	enum body	 body;
	const char	*lit;
	size_t		 litlen;
	const char	*cl;
	enum auth	 auth;
	enum cert	 cert;
	int		 status;
	enum src	 src;
	int		 grow;
};

#define CT	"Content-Type: application/pkcs10\r\n"
#define ENR	P "dev/simpleenroll"
#define LIT(s)	B_LIT, (s), sizeof(s) - 1

/* ------------------------------------------------------------ the table */

static const struct hcase cases[] = {
	/* Paths */
	{ "root", "GET", "/", "", B_NONE, NULL, 0, NULL, A_NONE, C_NONE,
	    403, WEB, 0 },
	{ "unknown-op", "GET", P "nosuchop", "", B_NONE, NULL, 0, NULL,
	    A_NONE, C_NONE, 404, MCA, 0 },
	{ "unknown-label", "GET", P "nolabel/cacerts", "", B_NONE, NULL, 0,
	    NULL, A_NONE, C_NONE, 404, MCA, 0 },
	{ "label-65", "GET", P "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa/cacerts", "", B_NONE, NULL, 0, NULL, A_NONE,
	    C_NONE, 404, MCA, 0 },
	{ "label-dot", "GET", P ".dev/cacerts", "", B_NONE, NULL, 0, NULL,
	    A_NONE, C_NONE, 404, MCA, 0 },
	{ "label-case", "GET", P "DEV/cacerts", "", B_NONE, NULL, 0, NULL,
	    A_NONE, C_NONE, 404, MCA, 0 },
	{ "op-case", "GET", P "CACERTS", "", B_NONE, NULL, 0, NULL, A_NONE,
	    C_NONE, 404, MCA, 0 },
	{ "traversal-in", "GET", P "../est/cacerts", "", B_NONE, NULL, 0, NULL,
	    A_NONE, C_NONE, 404, MCA, 0 },
	{ "traversal-out", "GET", P "../../etc/passwd", "", B_NONE, NULL, 0,
	    NULL, A_NONE, C_NONE, 404, WEB, 0 },
	{ "traversal-enroll", "POST", P "dev/../dev/simpleenroll", CT, B_CSR,
	    NULL, 0, NULL, A_PC, C_NONE, 404, MCA, 0 },
	{ "double-slash", "GET", "/.well-known/est//cacerts", "", B_NONE, NULL,
	    0, NULL, A_NONE, C_NONE, 404, MCA, 0 },
	{ "double-slash-label", "POST", P "dev//simpleenroll", CT, B_CSR,
	    NULL, 0, NULL, A_PC, C_NONE, 404, MCA, 0 },
	{ "pct-op", "GET", P "%63acerts", "", B_NONE, NULL, 0, NULL, A_NONE,
	    C_NONE, 404, MCA, 0 },
	{ "pct-slash", "POST", P "dev%2Fsimpleenroll", CT, B_CSR, NULL, 0,
	    NULL, A_PC, C_NONE, 404, MCA, 0 },
	{ "pct-nul", "GET", P "cacerts%00", "", B_NONE, NULL, 0, NULL,
	    A_NONE, C_NONE, 0, WEB, 0 },
	{ "ctl-in-path", "GET", P "cac\001erts", "", B_NONE, NULL, 0, NULL,
	    A_NONE, C_NONE, 400, WEB, 0 },
	/* lighttpd rewrites only a well-formed alias (conf-examples) */
	{ "alias-no-op", "GET", "/est/dev/.well-known/est/", "", B_NONE, NULL,
	    0, NULL, A_NONE, C_NONE, 404, WEB, 0 },
	{ "alias-trailing", "GET", "/est/dev/.well-known/est/cacerts/x", "",
	    B_NONE, NULL, 0, NULL, A_NONE, C_NONE, 404, WEB, 0 },
	{ "alias-two-labels", "GET", "/est/dev/.well-known/est/dev/cacerts",
	    "", B_NONE, NULL, 0, NULL, A_NONE, C_NONE, 404, WEB, 0 },
	{ "alias-unknown-label", "GET", "/est/nolabel/.well-known/est/cacerts",
	    "", B_NONE, NULL, 0, NULL, A_NONE, C_NONE, 404, MCA, 0 },
	{ "op-trailing-slash", "POST", ENR "/", CT, B_CSR, NULL, 0, NULL,
	    A_PC, C_NONE, 404, MCA, 0 },
	/* Methods and the request line */
	{ "post-cacerts", "POST", P "cacerts", CT, B_CSR, NULL, 0, NULL,
	    A_NONE, C_NONE, 405, MCA, 0 },
	{ "get-enroll", "GET", ENR, "", B_NONE, NULL, 0, NULL, A_PC, C_NONE,
	    405, MCA, 0 },
	{ "put-enroll", "PUT", ENR, CT, B_CSR, NULL, 0, NULL, A_PC, C_NONE,
	    405, MCA, 0 },
	{ "delete-cacerts", "DELETE", P "cacerts", "", B_NONE, NULL, 0, NULL,
	    A_NONE, C_NONE, 405, MCA, 0 },
	{ "fullcmc", "POST", P "dev/fullcmc", "Content-Type: "
	    "application/pkcs7-mime\r\n", LIT("MIIB"), NULL, A_PC, C_NONE,
	    501, MCA, 0 },
	{ "unknown-method", "FROB", P "cacerts", "", B_NONE, NULL, 0, NULL,
	    A_NONE, C_NONE, 501, WEB, 0 },
	{ "bad-version", "GET", P "cacerts HTTP/9.9\r\nX-Ignore: x", "",
	    B_NONE, NULL, 0, NULL, A_NONE, C_NONE, 505, WEB, 0 },
	/* Content-Length */
	{ "no-length", "POST", ENR, CT, B_NONE, NULL, 0, "", A_PC, C_NONE,
	    411, WEB, 0 },
	{ "length-zero", "POST", ENR, CT, B_NONE, NULL, 0, NULL, A_PC, C_NONE,
	    400, MCA, 0 },
	{ "length-negative", "POST", ENR, CT, B_CSR, NULL, 0,
	    "Content-Length: -1\r\n", A_PC, C_NONE, 400, WEB, 0 },
	{ "length-text", "POST", ENR, CT, B_CSR, NULL, 0,
	    "Content-Length: abc\r\n", A_PC, C_NONE, 400, WEB, 0 },
	{ "length-twice", "POST", ENR, CT, B_CSR, NULL, 0,
	    "Content-Length: 10\r\nContent-Length: 20\r\n", A_PC, C_NONE, 400,
	    WEB, 0 },
	{ "length-huge", "POST", ENR, CT, B_NONE, NULL, 0,
	    "Content-Length: 99999999999\r\n", A_PC, C_NONE, 413, WEB, 0 },
	{ "length-short", "POST", ENR, CT, B_CSR, NULL, 0,
	    "Content-Length: 100\r\n", A_PC, C_NONE, 400, MCA, 0 },
	{ "body-70k", "POST", ENR, CT, B_70K, NULL, 0, NULL, A_PC, C_NONE,
	    413, MCA, 0 },
	{ "body-2m", "POST", ENR, CT, B_2M, NULL, 0, NULL, A_PC, C_NONE,
	    413, WEB, 0 },
	{ "chunked-bad", "POST", ENR, CT "Transfer-Encoding: chunked\r\n",
	    LIT("zz\r\nMIIB\r\n0\r\n\r\n"), "", A_PC, C_NONE, 400, WEB, 0 },
	{ "chunked-and-length", "POST", ENR, CT "Transfer-Encoding: "
	    "chunked\r\n", LIT("4\r\nMIIB\r\n0\r\n\r\n"),
	    "Content-Length: 5\r\n", A_PC, C_NONE, 400, WEB, 0 },
	{ "chunked-garbage", "POST", ENR, CT "Transfer-Encoding: chunked\r\n",
	    LIT("6\r\n!!!!!!\r\n0\r\n\r\n"), "", A_PC, C_NONE, 400, MCA, 0 },
	/* Content-Type */
	{ "ctype-none", "POST", ENR, "", B_CSR, NULL, 0, NULL, A_PC, C_NONE,
	    415, MCA, 0 },
	{ "ctype-json", "POST", ENR, "Content-Type: application/json\r\n",
	    B_CSR, NULL, 0, NULL, A_PC, C_NONE, 415, MCA, 0 },
	{ "ctype-prefix", "POST", ENR, "Content-Type: application/pkcs10x\r\n",
	    B_CSR, NULL, 0, NULL, A_PC, C_NONE, 415, MCA, 0 },
	{ "ctype-multipart", "POST", ENR, "Content-Type: multipart/form-data; "
	    "boundary=x\r\n", B_CSR, NULL, 0, NULL, A_PC, C_NONE, 415, MCA,
	    0 },
	{ "ctype-empty", "POST", ENR, "Content-Type: \r\n", B_CSR, NULL, 0,
	    NULL, A_PC, C_NONE, 415, MCA, 0 },
	/* Bodies */
	{ "body-crlf", "POST", ENR, CT, LIT("\r\n"), NULL, A_PC, C_NONE, 400,
	    MCA, 0 },
	{ "body-not-b64", "POST", ENR, CT, LIT("!!!!****"), NULL, A_PC, C_NONE,
	    400, MCA, 0 },
	{ "body-b64-hello", "POST", ENR, CT, LIT("aGVsbG8="), NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "body-b64url", "POST", ENR, CT, B_CSR_B64URL, NULL, 0, NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "body-nul", "POST", ENR, CT, B_CSR_NUL, NULL, 0, NULL, A_PC, C_NONE,
	    400, MCA, 0 },
	{ "body-binary-trunc", "POST", ENR, CT, B_CSR_DER_TRUNC, NULL, 0, NULL,
	    A_PC, C_NONE, 400, MCA, 0 },
	{ "body-binary-badsig", "POST", ENR, CT, B_CSR_DER_BADSIG, NULL, 0,
	    NULL, A_PC, C_NONE, 400, MCA, 0 },
	{ "body-random", "POST", ENR, CT, B_RANDOM, NULL, 0, NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "body-zeros", "POST", ENR, CT, B_ZEROS_B64, NULL, 0, NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "csr-truncated", "POST", ENR, CT, B_CSR_TRUNC, NULL, 0, NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "csr-bad-signature", "POST", ENR, CT, B_CSR_BADSIG, NULL, 0, NULL,
	    A_PC, C_NONE, 400, MCA, 0 },
	{ "csr-trailing", "POST", ENR, CT, B_CSR_TRAIL, NULL, 0, NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "pem-text-garbage", "POST", ENR, "Content-Type: text/plain\r\n",
	    LIT("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n"
	    "-----END CERTIFICATE REQUEST-----\n"), NULL, A_PC, C_NONE, 400,
	    MCA, 0 },
	{ "csr-rsa1024", "POST", ENR, CT, B_CSR_RSA1024, NULL, 0, NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "csr-p192", "POST", ENR, CT, B_CSR_P192, NULL, 0, NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "csr-no-name", "POST", ENR, CT, B_CSR_NONAME, NULL, 0, NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "csr-wildcard", "POST", ENR, CT, B_CSR_WILDCARD, NULL, 0, NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "csr-17-names", "POST", ENR, CT, B_CSR_MANYSAN, NULL, 0, NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "csr-uri-name", "POST", ENR, CT, B_CSR_URISAN, NULL, 0, NULL, A_PC,
	    C_NONE, 400, MCA, 0 },
	{ "serverkeygen-garbage", "POST", P "dev/serverkeygen", CT,
	    LIT("!!!!"), NULL, A_PC, C_NONE, 400, MCA, 0 },
	/* Authentication */
	{ "no-auth", "POST", ENR, CT, B_CSR, NULL, 0, NULL, A_NONE, C_NONE,
	    401, MCA, 0 },
	{ "cert-label-no-cert", "POST", P "cert/simpleenroll", CT, B_CSR,
	    NULL, 0, NULL, A_PC, C_NONE, 401, MCA, 0 },
	{ "auth-bearer", "POST", ENR, CT "Authorization: Bearer abc.def\r\n",
	    B_CSR, NULL, 0, NULL, A_NONE, C_NONE, 401, MCA, 0 },
	{ "auth-bad-b64", "POST", ENR, CT "Authorization: Basic !!!!\r\n",
	    B_CSR, NULL, 0, NULL, A_NONE, C_NONE, 401, MCA, 0 },
	{ "auth-no-colon", "POST", ENR, CT "Authorization: Basic "
	    "bm9jb2xvbg==\r\n", B_CSR, NULL, 0, NULL, A_NONE, C_NONE, 401, MCA,
	    0 },
	{ "auth-empty", "POST", ENR, CT "Authorization: Basic\r\n", B_CSR,
	    NULL, 0, NULL, A_NONE, C_NONE, 401, MCA, 0 },
	{ "auth-nul", "POST", ENR, CT "Authorization: Basic "
	    "eDpBQUFBQUFBQS4AQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==\r\n", B_CSR,
	    NULL, 0, NULL, A_NONE, C_NONE, 401, MCA, 0 },
	{ "wrong-secret", "POST", ENR, CT, B_CSR, NULL, 0, NULL, A_PC_WRONG,
	    C_NONE, 401, MCA, 0 },
	{ "unknown-id", "POST", ENR, CT, B_CSR, NULL, 0, NULL, A_PC_UNKNOWN,
	    C_NONE, 401, MCA, 0 },
	{ "other-label", "POST", ENR, CT, B_CSR, NULL, 0, NULL, A_PC_OTHER,
	    C_NONE, 401, MCA, 0 },
	{ "revoked", "POST", ENR, CT, B_CSR, NULL, 0, NULL, A_PC_REVOKED,
	    C_NONE, 401, MCA, 0 },
	{ "used-up", "POST", ENR, CT, B_CSR, NULL, 0, NULL, A_PC_USED, C_NONE,
	    401, MCA, 0 },
	{ "lock-1", "POST", ENR, CT, B_CSR, NULL, 0, NULL, A_LOCK_WRONG,
	    C_NONE, 401, MCA, 0 },
	{ "lock-2", "POST", ENR, CT, B_CSR, NULL, 0, NULL, A_LOCK_WRONG,
	    C_NONE, 401, MCA, 0 },
	{ "lock-3", "POST", ENR, CT, B_CSR, NULL, 0, NULL, A_LOCK_WRONG,
	    C_NONE, 401, MCA, 0 },
	{ "locked-right-secret", "POST", ENR, CT, B_CSR, NULL, 0, NULL, A_LOCK,
	    C_NONE, 429, MCA, 0 },
	{ "reenroll-no-cert", "POST", P "dev/simplereenroll", CT, B_CSR, NULL,
	    0, NULL, A_PC, C_NONE, 401, MCA, 0 },
	{ "reenroll-bootstrap", "POST", P "cert/simplereenroll", CT, B_CSR,
	    NULL, 0, NULL, A_NONE, C_BOOT, 403, MCA, 0 },
	{ "cert-foreign", "POST", P "cert/simpleenroll", CT, B_CSR, NULL, 0,
	    NULL, A_NONE, C_FOREIGN, 403, MCA, 0 },
	{ "cert-expired", "POST", P "cert/simpleenroll", CT, B_CSR, NULL, 0,
	    NULL, A_NONE, C_EXPIRED, 403, MCA, 0 },
	/* Header syntax: lighttpd's to refuse */
	{ "header-nul", "GET", P "cacerts", "", B_NONE, NULL, 0,
	    NULL, A_NONE, C_NONE, 400, WEB, 0 },
	{ "header-bare-cr", "POST", ENR, CT "X-A: b\rAuthorization: Basic "
	    "eDp5\r\n", B_CSR, NULL, 0, NULL, A_NONE, C_NONE, 400, WEB, 0 },
	/* lighttpd unfolds it: microca-est sees one odd Content-Type */
	{ "header-fold", "POST", ENR, "Content-Type: application/json\r\n "
	    "Content-Type: application/pkcs10\r\n", B_CSR, NULL, 0, NULL, A_PC,
	    C_NONE, 415, MCA, 0 },
	{ "header-no-colon", "GET", P "cacerts", "NoColonHere\r\n", B_NONE,
	    NULL, 0, NULL, A_NONE, C_NONE, 400, WEB, 0 },
	{ "header-huge", "GET", P "cacerts", NULL, B_NONE, NULL, 0, NULL,
	    A_NONE, C_NONE, 0, WEB, 0 },
	{ "no-host", "GET", P "cacerts", NULL, B_NONE, NULL, 0, NULL, A_NONE,
	    C_NONE, 400, WEB, 0 },
	/* Good requests: no change */
	{ "head-cacerts", "HEAD", P "cacerts", "", B_NONE, NULL, 0, NULL,
	    A_NONE, C_NONE, 200, MCA, 0 },
	{ "csrattrs", "GET", P "dev/csrattrs", "", B_NONE, NULL, 0, NULL,
	    A_NONE, C_NONE, 200, MCA, 0 },
	{ "cacerts-query", "GET", P "cacerts?x=1&y=2", "", B_NONE, NULL, 0,
	    NULL, A_NONE, C_NONE, 200, MCA, 0 },
	{ "query-pct-nul", "GET", P "cacerts?x=%00", "", B_NONE, NULL, 0,
	    NULL, A_NONE, C_NONE, 400, WEB, 0 },
	/* Good enrollments: exactly one certificate each */
	{ "good-passcode", "POST", ENR, CT, B_CSR, NULL, 0, NULL, A_PC,
	    C_NONE, 200, MCA, 1 },
	{ "good-chunked", "POST", ENR, CT "Transfer-Encoding: chunked\r\n",
	    B_CSR_CHUNKED, NULL, 0, "", A_PC, C_NONE, 200, MCA, 1 },
	{ "good-cert", "POST", P "cert/simpleenroll", CT, B_CSR, NULL, 0,
	    NULL, A_NONE, C_BOOT, 200, MCA, 1 },
	/* Odd but documented (lib/csr.h): raw DER, PEM as pkcs10 */
	{ "good-binary-der", "POST", ENR, CT, B_CSR_DER, NULL, 0, NULL, A_PC,
	    C_NONE, 200, MCA, 1 },
	{ "good-pem-as-pkcs10", "POST", ENR, CT, B_CSR_PEM, NULL, 0, NULL,
	    A_PC, C_NONE, 200, MCA, 1 },
};

#define NCASES	((int)(sizeof(cases) / sizeof(cases[0])))

/* ------------------------------------------------------------ the server */

static struct {
	SSL_CTX		*ctx[C_MAX];
	char		 pc[A_MAX][64];		/* ID.SECRET per auth */
	struct mca_buf	 csr_der;		/* the good CSR */
	struct mca_buf	 bodies[B_MAX];		/* made once */
} H;

/* microca-admin with the config, as the ledger's owner; stdout in out. */
static int
admin(struct mca_buf *out, const char *args)
{
	mca_buf_reset(out);
	return tu_sh(out, "%s'%s/microca-admin' --config '%s' %s 2>&1",
	    W.root ? "runuser -u www-data -- " : "",
	    W.root ? path("bin") : tu_builddir(), path("config.json"), args);
}

/*
 * The passcodes, made at once (each costs an scrypt hash): "ID.SECRET"
 * of each into H.pc.
 */
static void
make_passcodes(void)
{
	static const struct {
		enum auth	 a;
		const char	*label, *opts;
	} pcs[] = {
		{ A_PC, "dev", "--uses 100" },
		{ A_PC_OTHER, "other", "" },
		{ A_PC_REVOKED, "dev", "" },
		{ A_PC_USED, "dev", "--uses 1" },
		{ A_LOCK, "dev", "" },
	};
	struct mca_buf	 cmd = MCA_BUF_INIT, out = MCA_BUF_INIT;
	const char	*p;
	size_t		 i;

	for (i = 0; i < sizeof(pcs) / sizeof(pcs[0]); i++)
		ck_assert_int_eq(mca_buf_printf(&cmd, "%s'%s/microca-admin' "
		    "--config '%s' passcode add --label %s %s >'%s/pc%zu.out' "
		    "2>&1 & ", W.root ? "runuser -u www-data -- " : "",
		    W.root ? path("bin") : tu_builddir(), path("config.json"),
		    pcs[i].label, pcs[i].opts, W.dir, i), 0);
	ck_assert_int_eq(mca_buf_addstr(&cmd, "wait"), 0);
	ck_assert_int_eq(tu_sh(NULL, "%s", mca_buf_str(&cmd)), 0);
	for (i = 0; i < sizeof(pcs) / sizeof(pcs[0]); i++) {
		mca_buf_reset(&out);
		(void)snprintf(H.pc[pcs[i].a], sizeof(H.pc[0]), "pc%zu.out", i);
		ck_assert_int_eq(tu_read(path(H.pc[pcs[i].a]), &out), 0);
		ck_assert_msg((p = strstr(mca_buf_str(&out), "\npasscode ")) !=
		    NULL, "microca-admin passcode add: %s", mca_buf_str(&out));
		p += strlen("\npasscode ");
		(void)snprintf(H.pc[pcs[i].a], sizeof(H.pc[0]), "%.*s",
		    (int)strcspn(p, "\n"), p);
		ck_assert_ptr_nonnull(strchr(H.pc[pcs[i].a], '.'));
	}
	mca_buf_free(&cmd);
	mca_buf_free(&out);
}

static void
write_config(void)
{
	ck_assert_int_eq(tu_writef(path("config.json"),
	    "{\n"
	    " \"intermediate_cert_path\": \"%s/pki/chain.pem\",\n"
	    " \"intermediate_private_key_label_in_pkcs11\": \"microca-ca\",\n"
	    " \"pkcs11_library\": \"%s\",\n"
	    " \"pkcs11_library_pin\": \"1234\",\n"
	    " \"mtls_ca_cert\": \"%s/pki/boot-ca.pem\",\n"
	    " \"ledger_db_path\": \"%s/db/ledger.db\",\n"
	    " \"issued_certs_dir\": \"%s/IssuedCerts\",\n"
	    " \"default_end_point_name\": \"cert\",\n"
	    " \"passcode_failures_max\": 3,\n"
	    " \"passcode_address_failures_max\": 0,\n"
	    " \"end_certificate_config_1\": {\n"
	    "  \"end_point_name\": \"cert\", \"validity_in_days\": 30 },\n"
	    " \"end_certificate_config_2\": {\n"
	    "  \"end_point_name\": \"dev\", \"validity_in_days\": 30,\n"
	    "  \"auth_methods\": [\"certificate\", \"passcode\"] },\n"
	    " \"end_certificate_config_3\": {\n"
	    "  \"end_point_name\": \"other\", \"validity_in_days\": 30,\n"
	    "  \"auth_methods\": [\"passcode\"] }\n"
	    "}\n", W.dir, getenv("SOFTHSM2_MODULE"), W.dir, W.dir, W.dir), 0);
	ck_assert_int_eq(chmod(path("config.json"), 0600), 0);
}

/* A TLS client context presenting pem/key (NULL: none). */
static SSL_CTX *
client_ctx(const char *pem, const char *key)
{
	SSL_CTX	*c;

	ck_assert_ptr_nonnull(c = SSL_CTX_new(TLS_client_method()));
	ck_assert_int_eq(SSL_CTX_load_verify_locations(c, path("pki/root.pem"),
	    NULL), 1);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	if (pem != NULL) {
		ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(c,
		    path(pem)), 1);
		ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(c, path(key),
		    SSL_FILETYPE_PEM), 1);
	}
	return c;
}

/* ------------------------------------------------------------ the bodies */

static X509_REQ *
csr_with(EVP_PKEY *k, const char *cn, const char *san)
{
	X509_REQ		*r;
	STACK_OF(X509_EXTENSION) *exts;
	X509_EXTENSION		*e;

	ck_assert_ptr_nonnull(r = X509_REQ_new());
	if (cn != NULL)
		ck_assert_int_eq(X509_NAME_add_entry_by_txt(
		    X509_REQ_get_subject_name(r), "CN", MBSTRING_ASC,
		    (const unsigned char *)cn, -1, -1, 0), 1);
	if (san != NULL) {
		ck_assert_ptr_nonnull(exts = sk_X509_EXTENSION_new_null());
		ck_assert_ptr_nonnull(e = X509V3_EXT_conf_nid(NULL, NULL,
		    NID_subject_alt_name, san));
		ck_assert_int_gt(sk_X509_EXTENSION_push(exts, e), 0);
		ck_assert_int_eq(X509_REQ_add_extensions(r, exts), 1);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	ck_assert_int_eq(X509_REQ_set_pubkey(r, k), 1);
	ck_assert_int_gt(X509_REQ_sign(r, k, EVP_sha256()), 0);
	return r;
}

static void
csr_der(X509_REQ *r, struct mca_buf *der)
{
	unsigned char	*p = NULL;
	int		 n;

	ck_assert_int_gt(n = i2d_X509_REQ(r, &p), 0);
	mca_buf_reset(der);
	ck_assert_int_eq(mca_buf_add(der, p, (size_t)n), 0);
	OPENSSL_free(p);
}

static void
b64(const unsigned char *in, size_t len, struct mca_buf *out)
{
	mca_buf_reset(out);
	ck_assert_int_eq(mca_b64_encode(in, len, 64, out), 0);
}

/* base64 of a CSR for a new key of type/param with cn and san. */
static void
csr_b64(const char *type, const char *param, const char *cn,
    const char *san, struct mca_buf *out)
{
	struct mca_buf	 der = MCA_BUF_INIT;
	EVP_PKEY	*k;
	X509_REQ	*r;

	if (strcmp(type, "RSA") == 0)
		ck_assert_ptr_nonnull(k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)atoi(param)));
	else
		ck_assert_ptr_nonnull(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    param));
	r = csr_with(k, cn, san);
	csr_der(r, &der);
	b64(der.data, der.len, out);
	mca_buf_free(&der);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
}

/* n bytes of base64 zeros ("AAAA"), a line break every 65th. */
static void
fill(struct mca_buf *b, size_t n)
{
	size_t	 i;

	ck_assert_int_eq(mca_buf_reserve(b, n), 0);
	memset(b->data, 'A', n);
	for (i = 64; i < n; i += 65)
		b->data[i] = '\n';
	b->len = n;
	b->data[n] = '\0';
}

static void
make_bodies(void)
{
	struct mca_buf	*b = H.bodies, t = MCA_BUF_INIT;
	EVP_PKEY	*k;
	X509_REQ	*r;
	BIO		*bio;
	char		*mem;
	long		 n;
	size_t		 i;
	FILE		*f;

	ck_assert_ptr_nonnull(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	r = csr_with(k, "hostile-1", "DNS:hostile-1.example.com");
	csr_der(r, &H.csr_der);
	b64(H.csr_der.data, H.csr_der.len, &b[B_CSR]);
	ck_assert_ptr_nonnull(bio = BIO_new(BIO_s_mem()));
	ck_assert_int_eq(PEM_write_bio_X509_REQ(bio, r), 1);
	n = BIO_get_mem_data(bio, &mem);
	ck_assert_int_eq(mca_buf_add(&b[B_CSR_PEM], mem, (size_t)n), 0);
	BIO_free(bio);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
	ck_assert_int_eq(mca_buf_add(&b[B_CSR_DER], H.csr_der.data,
	    H.csr_der.len), 0);
	/* base64url: '-' and '_' for '+' and '/', no padding */
	b64(H.csr_der.data, H.csr_der.len, &b[B_CSR_B64URL]);
	for (i = 0; i < b[B_CSR_B64URL].len; i++) {
		unsigned char *c = &b[B_CSR_B64URL].data[i];

		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c == '=' ? '\n' : *c;
	}
	/* Make sure it has a character base64 does not know. */
	b[B_CSR_B64URL].data[10] = '_';
	ck_assert_int_eq(mca_buf_add(&b[B_CSR_NUL], b[B_CSR].data, 40), 0);
	ck_assert_int_eq(mca_buf_add(&b[B_CSR_NUL], "\0", 1), 0);
	ck_assert_int_eq(mca_buf_add(&b[B_CSR_NUL], b[B_CSR].data + 40,
	    b[B_CSR].len - 40), 0);
	b64(H.csr_der.data, H.csr_der.len / 2, &b[B_CSR_TRUNC]);
	ck_assert_int_eq(mca_buf_add(&t, H.csr_der.data, H.csr_der.len), 0);
	t.data[t.len - 3] ^= 0x55;	/* inside the signature's value */
	b64(t.data, t.len, &b[B_CSR_BADSIG]);
	ck_assert_int_eq(mca_buf_add(&b[B_CSR_DER_BADSIG], t.data, t.len), 0);
	ck_assert_int_eq(mca_buf_add(&b[B_CSR_DER_TRUNC], H.csr_der.data,
	    H.csr_der.len / 2), 0);
	mca_buf_reset(&t);
	ck_assert_int_eq(mca_buf_add(&t, H.csr_der.data, H.csr_der.len), 0);
	ck_assert_int_eq(mca_buf_add(&t, "\0\0", 2), 0);
	b64(t.data, t.len, &b[B_CSR_TRAIL]);
	/* Chunked: the base64 in three chunks, sizes in hex. */
	mca_buf_reset(&t);
	n = (long)b[B_CSR].len / 3;
	for (i = 0; i < 3; i++) {
		size_t	 off = i * (size_t)n;
		size_t	 len = i < 2 ? (size_t)n : b[B_CSR].len - off;
		char	 hdr[32];

		(void)snprintf(hdr, sizeof(hdr), "%zx\r\n", len);
		ck_assert_int_eq(mca_buf_addstr(&t, hdr), 0);
		ck_assert_int_eq(mca_buf_add(&t, b[B_CSR].data + off, len), 0);
		ck_assert_int_eq(mca_buf_addstr(&t, "\r\n"), 0);
	}
	ck_assert_int_eq(mca_buf_addstr(&t, "0\r\n\r\n"), 0);
	ck_assert_int_eq(mca_buf_add(&b[B_CSR_CHUNKED], t.data, t.len), 0);
	csr_b64("RSA", "1024", "hostile-rsa", NULL, &b[B_CSR_RSA1024]);
	csr_b64("EC", "prime192v1", "hostile-p192", NULL, &b[B_CSR_P192]);
	csr_b64("EC", "P-256", NULL, NULL, &b[B_CSR_NONAME]);
	csr_b64("EC", "P-256", "hostile-w", "DNS:*.example.com",
	    &b[B_CSR_WILDCARD]);
	csr_b64("EC", "P-256", "hostile-m", "DNS:a1.example.com,"
	    "DNS:a2.example.com,DNS:a3.example.com,DNS:a4.example.com,"
	    "DNS:a5.example.com,DNS:a6.example.com,DNS:a7.example.com,"
	    "DNS:a8.example.com,DNS:a9.example.com,DNS:a10.example.com,"
	    "DNS:a11.example.com,DNS:a12.example.com,DNS:a13.example.com,"
	    "DNS:a14.example.com,DNS:a15.example.com,DNS:a16.example.com,"
	    "DNS:a17.example.com", &b[B_CSR_MANYSAN]);
	csr_b64("EC", "P-256", NULL, "URI:https://hostile.example.com/",
	    &b[B_CSR_URISAN]);
	fill(&b[B_ZEROS_B64], 60000);
	fill(&b[B_70K], 70000);
	fill(&b[B_2M], 2u * 1024u * 1024u);
	/* Random bytes, from the kernel: different each run, any byte. */
	ck_assert_ptr_nonnull(f = fopen("/dev/urandom", "rb"));
	ck_assert_int_eq(mca_buf_reserve(&b[B_RANDOM], 4096), 0);
	ck_assert_uint_eq(fread(b[B_RANDOM].data, 1, 4096, f), 4096);
	b[B_RANDOM].len = 4096;
	fclose(f);
	mca_buf_free(&t);
}

/* ------------------------------------------------------------ the client */

struct answer {
	int		 status;
	struct mca_buf	 raw;		/* all that came back */
	const char	*body;		/* into raw */
	size_t		 bodylen;
	char		 ctype[128];
};

/*
 * Sends req, byte for byte, over one TLS connection with ctx to the
 * server, and reads until the server closes. 0, or -1 when the
 * connection failed before any answer.
 */
static int
send_raw(SSL_CTX *ctx, const unsigned char *req, size_t len,
    struct answer *a)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv;
	SSL			*ssl = NULL;
	char			 buf[16384];
	const char		*s, *e, *h;
	size_t			 off;
	int			 fd, n, rc = -1;

	memset(a, 0, sizeof(*a));
	mca_buf_init(&a->raw);
	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	/* A bound on a server that would hang, not a measure of speed. */
	tv.tv_sec = WEB_TIMEOUT;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)W.dn_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		goto out;
	ck_assert_ptr_nonnull(ssl = SSL_new(ctx));
	SSL_set_fd(ssl, fd);
	ck_assert_int_eq(SSL_set_tlsext_host_name(ssl, "localhost"), 1);
	if (SSL_connect(ssl) != 1)
		goto out;
	/* What the server refuses early it may close on: keep reading. */
	for (off = 0; off < len; off += (size_t)n)
		if ((n = SSL_write(ssl, req + off, (int)(len - off > 16384 ?
		    16384 : len - off))) <= 0)
			break;
	while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(mca_buf_add(&a->raw, buf, (size_t)n), 0);
	rc = 0;
out:
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	if (rc != 0 || a->raw.len < 12)
		return rc;
	s = mca_buf_str(&a->raw);
	if (strncmp(s, "HTTP/1.", 7) != 0)
		return 0;
	a->status = atoi(s + 9);
	if ((e = strstr(s, "\r\n\r\n")) == NULL)
		return 0;
	a->body = e + 4;
	a->bodylen = a->raw.len - (size_t)(a->body - s);
	for (h = s; h != NULL && h < e; h = strstr(h, "\r\n"))
		if (strncasecmp(h += 2, "Content-Type:", 13) == 0)
			(void)snprintf(a->ctype, sizeof(a->ctype), "%.*s",
			    (int)strcspn(h + 13, "\r"), h + 13);
	return 0;
}

static const char *
basic(enum auth au, char *line, size_t len)
{
	struct mca_buf	 cred = MCA_BUF_INIT, enc = MCA_BUF_INIT;

	line[0] = '\0';
	if (au == A_NONE)
		return line;
	ck_assert_int_eq(mca_buf_addstr(&cred, "hostile:"), 0);
	ck_assert_int_eq(mca_buf_addstr(&cred, H.pc[au]), 0);
	ck_assert_int_eq(mca_b64_encode(cred.data, cred.len, 0, &enc), 0);
	(void)snprintf(line, len, "Authorization: Basic %s\r\n",
	    mca_buf_str(&enc));
	mca_buf_free(&cred);
	mca_buf_free(&enc);
	return line;
}

/* The request of case c. */
static void
build(const struct hcase *c, struct mca_buf *req)
{
	const struct mca_buf	*b = NULL;
	const unsigned char	*body = NULL;
	char			 line[512], authl[512];
	size_t			 blen = 0, i;

	if (c->body == B_LIT) {
		body = (const unsigned char *)c->lit;
		blen = c->litlen;
	} else if (c->body != B_NONE) {
		b = &H.bodies[c->body];
		body = b->data;
		blen = b->len;
	}
	mca_buf_reset(req);
	(void)snprintf(line, sizeof(line), "%s %s HTTP/1.1\r\n", c->method,
	    c->path);
	ck_assert_int_eq(mca_buf_addstr(req, line), 0);
	if (strcmp(c->name, "no-host") != 0)
		ck_assert_int_eq(mca_buf_addstr(req, "Host: localhost\r\n"), 0);
	ck_assert_int_eq(mca_buf_addstr(req, basic(c->auth, authl,
	    sizeof(authl))), 0);
	if (c->hdrs != NULL)
		ck_assert_int_eq(mca_buf_addstr(req, c->hdrs), 0);
	/* A C string cannot hold the NUL of this one. */
	if (strcmp(c->name, "header-nul") == 0)
		ck_assert_int_eq(mca_buf_add(req, "X-A: b\0c\r\n", 10), 0);
	if (strcmp(c->name, "header-huge") == 0) {
		ck_assert_int_eq(mca_buf_addstr(req, "X-Huge: "), 0);
		for (i = 0; i < 70000; i++)
			ck_assert_int_eq(mca_buf_add(req, "x", 1), 0);
		ck_assert_int_eq(mca_buf_addstr(req, "\r\n"), 0);
	}
	if (c->cl == NULL && (body != NULL || strcmp(c->method, "POST") == 0)) {
		(void)snprintf(line, sizeof(line), "Content-Length: %zu\r\n",
		    blen);
		ck_assert_int_eq(mca_buf_addstr(req, line), 0);
	} else if (c->cl != NULL)
		ck_assert_int_eq(mca_buf_addstr(req, c->cl), 0);
	ck_assert_int_eq(mca_buf_addstr(req, "Connection: close\r\n\r\n"), 0);
	if (blen > 0)
		ck_assert_int_eq(mca_buf_add(req, body, blen), 0);
}

/* ------------------------------------------------------------ the state */

/* What must not change: one line of counts and sums. */
static void
state(char *out, size_t len)
{
	static const char *const q =
	    "SELECT (SELECT count(*) FROM certificates) || ' ' ||"
	    " (SELECT count(*) FROM passcodes) || ' ' ||"
	    " (SELECT total(uses_left) FROM passcodes) || ' ' ||"
	    " (SELECT count(*) FROM passcodes WHERE revoked_at IS NOT NULL)"
	    " || ' ' || (SELECT count(*) FROM renew_pending) || ' ' ||"
	    " (SELECT count(*) FROM ca_generations) || ' ' ||"
	    " (SELECT count(*) FROM key_superseded) || ' ' ||"
	    " (SELECT count(*) FROM azure_sync_state) || ' ' ||"
	    " (SELECT count(*) FROM cron_state) || ' ' ||"
	    " (SELECT coalesce(max(id), 0) FROM certificates)";
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path("db/ledger.db"), &db,
	    SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 60000);
	ck_assert_msg(sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK,
	    "%s", sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	(void)snprintf(out, len, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static int
certs(void)
{
	char	 s[256];

	state(s, sizeof(s));
	return atoi(s);
}

static int
issued_files(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir(path("IssuedCerts"))) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A good GET /cacerts: 200 and a body. */
static void
alive(const char *after)
{
	struct mca_buf	 req = MCA_BUF_INIT;
	struct answer	 a;

	ck_assert_int_eq(mca_buf_addstr(&req, "GET " P "cacerts HTTP/1.1\r\n"
	    "Host: localhost\r\nConnection: close\r\n\r\n"), 0);
	ck_assert_int_eq(send_raw(H.ctx[C_NONE], req.data, req.len, &a), 0);
	ck_assert_msg(a.status == 200 && a.bodylen > 100, "after %s: GET "
	    "/cacerts answered %d", after, a.status);
	mca_buf_free(&a.raw);
	mca_buf_free(&req);
}

/* ------------------------------------------------------------ setup */

static void
hostile_setup(void)
{
	const char	*mod = getenv("SOFTHSM2_MODULE");
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 s[32];
	char		*dot;

	memset(&W, 0, sizeof(W));
	memset(&H, 0, sizeof(H));
	W.dir = tu_mkdtemp("hostile");
	W.root = geteuid() == 0;
	W.workers = 2;
	ck_assert_msg(mod != NULL && *mod != '\0', "SOFTHSM2_MODULE not set");
	ck_assert_int_eq(tu_mkpki(path("pki"), "hsm-ec"), 0);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && mkdir db && cat "
	    "pki/boot-ca.pem pki/chain.pem > clients.pem", W.dir), 0);
	write_config();
	if (W.root)
		ck_assert_int_eq(tu_sh(NULL, "mkdir '%s/bin' && cp "
		    "'%s/microca-est' '%s/microca-admin' '%s/bin/' && "
		    "chmod 755 '%s' && chown -R www-data: '%s'", W.dir,
		    tu_builddir(), tu_builddir(), W.dir, W.dir, W.dir), 0);
	W.dn_port = web("web", path("config.json"), "pki", path("clients.pem"),
	    path("pki/softhsm2.conf"));
	H.ctx[C_NONE] = client_ctx(NULL, NULL);
	H.ctx[C_BOOT] = client_ctx("pki/boot.pem", "pki/boot.key");
	H.ctx[C_FOREIGN] = client_ctx("pki/foreign.pem", "pki/foreign.key");
	H.ctx[C_EXPIRED] = client_ctx("pki/boot-expired.pem",
	    "pki/boot-expired.key");
	make_bodies();
	/* The passcodes (the server made the ledger on start). */
	make_passcodes();
	(void)snprintf(H.pc[A_PC_WRONG], sizeof(H.pc[A_PC_WRONG]), "%s",
	    H.pc[A_PC]);
	dot = strchr(H.pc[A_PC_WRONG], '.');
	dot[1] = dot[1] == 'A' ? 'B' : 'A';
	(void)snprintf(H.pc[A_PC_UNKNOWN], sizeof(H.pc[A_PC_UNKNOWN]), "%s",
	    H.pc[A_PC]);
	/* An ID nobody made (as good as certain: 40 random bits) */
	H.pc[A_PC_UNKNOWN][0] = H.pc[A_PC_UNKNOWN][0] == 'Z' ? 'Y' : 'Z';
	H.pc[A_PC_UNKNOWN][1] = H.pc[A_PC_UNKNOWN][1] == 'Z' ? 'Y' : 'Z';
	(void)snprintf(s, sizeof(s), "passcode revoke %.8s",
	    H.pc[A_PC_REVOKED]);
	ck_assert_msg(admin(&out, s) == 0, "%s", mca_buf_str(&out));
	(void)snprintf(H.pc[A_LOCK_WRONG], sizeof(H.pc[A_LOCK_WRONG]), "%s",
	    H.pc[A_LOCK]);
	dot = strchr(H.pc[A_LOCK_WRONG], '.');
	dot[1] = dot[1] == 'A' ? 'B' : 'A';
	mca_buf_free(&out);
	/* Spend the --uses 1 passcode on a good enrollment. */
	{
		struct hcase	 c = { "spend", "POST", ENR, CT, B_CSR, NULL,
		    0, NULL, A_PC_USED, C_NONE, 200, MCA, 1 };
		struct mca_buf	 req = MCA_BUF_INIT;
		struct answer	 a;

		build(&c, &req);
		ck_assert_int_eq(send_raw(H.ctx[C_NONE], req.data, req.len,
		    &a), 0);
		ck_assert_msg(a.status == 200, "spending a passcode: %d\n%s",
		    a.status, mca_buf_str(&a.raw));
		mca_buf_free(&a.raw);
		mca_buf_free(&req);
	}
}

static void
hostile_teardown(void)
{
	int	 i;

	for (i = 0; i < C_MAX; i++)
		SSL_CTX_free(H.ctx[i]);
	for (i = 0; i < B_MAX; i++)
		mca_buf_free(&H.bodies[i]);
	mca_buf_free(&H.csr_der);
	if (W.dir == NULL)
		return;
	(void)tu_sh(NULL, "sh '%s/scripts/microca-web' stop '%s/web'",
	    tu_srcdir(), W.dir);
	tu_rmtree(W.dir);
	free(W.dir);
	W.dir = NULL;
}

/* ------------------------------------------------------------ the test */

START_TEST(test_case)
{
	const struct hcase	*c = &cases[_i];
	struct mca_buf		 req = MCA_BUF_INIT;
	struct answer		 a;
	char			 before[256], after[256];
	const char		*nl;
	int			 files, n0;

	state(before, sizeof(before));
	n0 = certs();
	files = issued_files();
	build(c, &req);
	ck_assert_int_eq(send_raw(H.ctx[c->cert], req.data, req.len, &a), 0);
	fprintf(stderr, "%-22s %3d %.*s\n", c->name, a.status,
	    (int)(a.bodylen < 100 && c->src == MCA ? a.bodylen : 0), a.body);
	if (c->status != 0)
		ck_assert_msg(a.status == c->status, "%s: status %d, wanted "
		    "%d:\n%.600s", c->name, a.status, c->status,
		    mca_buf_str(&a.raw));
	else
		ck_assert_msg(a.status >= 400 && a.status < 500, "%s: status "
		    "%d:\n%.600s", c->name, a.status, mca_buf_str(&a.raw));
	/* microca-est's refusals: one line of text/plain (DIAGNOSTICS) */
	if (c->src == MCA && a.status >= 400) {
		ck_assert_msg(strncmp(a.ctype, " text/plain", 11) == 0,
		    "%s: Content-Type%s", c->name, a.ctype);
		ck_assert_msg(a.bodylen > 1 && a.body[a.bodylen - 1] == '\n' &&
		    (nl = memchr(a.body, '\n', a.bodylen)) == a.body +
		    a.bodylen - 1 && memchr(a.body, '\r', a.bodylen) == NULL,
		    "%s: not one line: %.*s", c->name, (int)a.bodylen, a.body);
	}
	state(after, sizeof(after));
	if (c->grow) {
		ck_assert_int_eq(certs(), n0 + 1);
		ck_assert_int_eq(issued_files(), files + 1);
	} else {
		ck_assert_msg(strcmp(before, after) == 0, "%s: the ledger "
		    "changed: %s -> %s", c->name, before, after);
		ck_assert_int_eq(issued_files(), files);
	}
	alive(c->name);
	mca_buf_free(&a.raw);
	mca_buf_free(&req);
}
END_TEST

static Suite *
hostile_suite(void)
{
	Suite	*s = suite_create("hostile");
	TCase	*tc = tcase_create("lighttpd");

	tcase_add_unchecked_fixture(tc, hostile_setup, hostile_teardown);
	tcase_add_loop_test(tc, test_case, 0, NCASES);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	/*
	 * A server that refuses a request early may close before the
	 * client has written all of it: the write fails (EPIPE) and the
	 * answer is read, instead of SIGPIPE ending the test.
	 */
	(void)signal(SIGPIPE, SIG_IGN);
	return tu_run(hostile_suite());
}
