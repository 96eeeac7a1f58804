/*
 * CRLs end to end: a real microca behind lighttpd (scripts/microca-web,
 * conf-examples/lighttpd/microca-crl.conf serving crl_dir over plain
 * HTTP), the CA key in a SoftHSM token, devices enrolled with curl,
 * one revoked with microca-admin revoke, microca-crl run as the
 * ledger's owner, the CRL fetched over HTTP and used by openssl verify
 * -crl_check (given as a file, and fetched by openssl itself from the
 * certificate's CRL distribution point with -crl_download). Then the
 * numbers across runs (microca-crl and microca-admin crl), the lock,
 * and an intermediate rolled over: the new one's CRL becomes
 * microca.crl, the old one's is still signed by the old key in the
 * token, and each certificate's {keyid} distribution point still finds
 * its own CA's CRL. The same files through Apache
 * (conf-examples/apache/microca-crl.conf).
 *
 * No case depends on the machine's speed: where the workers must pick
 * up the new intermediate, the test enrolls until they have, a bounded
 * number of times.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "testutil.h"

struct stack {
	char		*dir;
	int		 root;		/* as root: the ledger is www-data's */
	int		 web;
	unsigned	 crlport;
	char		 url[128];	/* https://127.0.0.1:port */
	char		 crlurl[128];	/* http://127.0.0.1:crlport/crl */
};

static struct stack	 S;

#define ASSERT_HAS(buf, s) ck_assert_msg(strstr(mca_buf_str(buf), (s)) != \
	NULL, "\"%s\" not in:\n%s", (s), mca_buf_str(buf))
#define ASSERT_HASNT(buf, s) ck_assert_msg(strstr(mca_buf_str(buf), (s)) == \
	NULL, "\"%s\" in:\n%s", (s), mca_buf_str(buf))

static char *
path(const char *name)
{
	static char	 p[8][1024];
	static int	 i;

	i = (i + 1) % 8;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", S.dir, name);
	return p[i];
}

/* A port on 127.0.0.1 free a moment ago, for the CRL listener. */
static unsigned
free_port(void)
{
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);
	int			 fd;

	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	(void)close(fd);
	return ntohs(sa.sin_port);
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
	    " \"ledger_db_path\": \"%s/ledger.db\",\n"
	    " \"issued_certs_dir\": \"%s/IssuedCerts\",\n"
	    " \"crl_dir\": \"%s/crl\",\n"
	    " \"crl_distribution_point_url\": "
	    "\"http://127.0.0.1:%u/crl/{keyid}.crl\",\n"
	    " \"end_certificate_config_1\": {\n"
	    "  \"end_point_name\": \"device\", \"validity_in_days\": 30,\n"
	    "  \"extended_key_usage_list\": [\"1.3.6.1.5.5.7.3.2\"],\n"
	    "  \"key_usage\": { \"digital_signature\": true } }\n"
	    "}\n", S.dir, getenv("SOFTHSM2_MODULE"), S.dir, S.dir, S.dir,
	    S.dir, S.crlport), 0);
	ck_assert_int_eq(chmod(path("config.json"), 0600), 0);
}

static void
web_start(const char *kind)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	int		 rc;

	memset(&S, 0, sizeof(S));
	S.dir = tu_mkdtemp("crl-int");
	S.root = geteuid() == 0;
	S.crlport = free_port();
	ck_assert_int_eq(tu_mkpki(path("pki"), "hsm-ec"), 0);
	ck_assert_int_eq(tu_sh(NULL, "OPENSSL='%s' sh "
	    "'%s/tests/pki/mkrollover.sh' '%s' >/dev/null 2>&1",
	    getenv("OPENSSL"), tu_srcdir(), path("pki")), 0);
	ck_assert_int_eq(mkdir(path("crl"), 0755), 0);
	/* the token, for microca-crl as for the workers */
	setenv("SOFTHSM2_CONF", path("pki/softhsm2.conf"), 1);
	write_config();
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && cat pki/boot-ca.pem "
	    "pki/chain.pem > client-ca.pem", S.dir), 0);
	if (S.root)
		ck_assert_int_eq(tu_sh(NULL, "mkdir '%s/bin' && cp "
		    "'%s/microca-est' '%s/microca-crl' '%s/microca-admin' "
		    "'%s/bin/' && chmod 755 '%s' && chown -R www-data: '%s'",
		    S.dir, tu_builddir(), tu_builddir(), tu_builddir(), S.dir,
		    S.dir, S.dir), 0);
	rc = tu_sh(&out,
	    "MICROCA_EST='%s/microca-est' MICROCA_EST_ARGS='--logFile "
	    "%s/microca.log' MICROCA_CONFIG='%s/config.json' "
	    "SOFTHSM2_CONF='%s/pki/softhsm2.conf' "
	    "MCA_WEB_TLS_CERT='%s/pki/server.pem' "
	    "MCA_WEB_TLS_KEY='%s/pki/server.key' "
	    "MCA_WEB_CLIENT_CA='%s/client-ca.pem' MCA_WEB_WORKERS=1 "
	    "MCA_WEB_CRL_DIR='%s/crl' MCA_WEB_CRL_PORT=%u "
	    "MCA_WEB_OWNER_PID=%ld MCA_WEB_CONF_DIR='%s/conf-examples' "
	    "sh '%s/scripts/microca-web' start %s '%s/web'",
	    S.root ? path("bin") : tu_builddir(), S.dir, S.dir, S.dir, S.dir,
	    S.dir, S.dir, S.dir, S.crlport, (long)getpid(), tu_srcdir(),
	    tu_srcdir(), kind, S.dir);
	ck_assert_msg(rc == 0, "microca-web start %s failed (%d)", kind, rc);
	(void)snprintf(S.url, sizeof(S.url), "%.*s",
	    (int)strcspn(mca_buf_str(&out), "\n"), mca_buf_str(&out));
	(void)snprintf(S.crlurl, sizeof(S.crlurl),
	    "http://127.0.0.1:%u/crl", S.crlport);
	mca_buf_reset(&out);
	ck_assert_int_eq(tu_read(path("web/crl_url"), &out), 0);
	ck_assert_int_eq(mca_buf_addstr(&out, ""), 0);
	ck_assert_int_eq(strncmp(mca_buf_str(&out), S.crlurl,
	    strlen(S.crlurl)), 0);
	mca_buf_free(&out);
	S.web = 1;
}

static void
lighttpd_start(void)
{
	web_start("lighttpd");
}

static void
apache_start(void)
{
	web_start("apache");
}

static void
stack_stop(void)
{
	if (S.dir == NULL)
		return;
	if (S.web)
		(void)tu_sh(NULL, "sh '%s/scripts/microca-web' stop '%s/web'",
		    tu_srcdir(), S.dir);
	tu_rmtree(S.dir);
	free(S.dir);
	S.dir = NULL;
}

/* ---------------------------------------------------------------- helpers */

/* A tool of ours as the ledger's owner; its status, output into out. */
static int
tool(struct mca_buf *out, const char *prog, const char *args)
{
	mca_buf_reset(out);
	return tu_sh(out, "%s'%s/%s' --config '%s/config.json' %s 2>&1",
	    S.root ? "runuser -u www-data -- " : "", S.root ? path("bin") :
	    tu_builddir(), prog, S.dir, args);
}

static void
sql(const char *q, char *val, size_t len)
{
	struct mca_buf	 o = MCA_BUF_INIT;

	ck_assert_int_eq(tu_sh(&o, "%s'%s' '%s/ledger.db' \"%s\"", S.root ?
	    "runuser -u www-data -- " : "", getenv("SQLITE3"), S.dir, q), 0);
	if (val != NULL)
		(void)snprintf(val, len, "%.*s",
		    (int)strcspn(mca_buf_str(&o), "\n"), mca_buf_str(&o));
	mca_buf_free(&o);
}

static void
serial_of(const char *pem, char *serial, size_t len)
{
	struct mca_buf	 o = MCA_BUF_INIT;

	ck_assert_int_eq(tu_sh(&o, "'%s' x509 -in '%s' -noout -serial",
	    getenv("OPENSSL"), pem), 0);
	(void)snprintf(serial, len, "%.*s", (int)strcspn(mca_buf_str(&o) + 7,
	    "\n"), mca_buf_str(&o) + 7);
	mca_buf_free(&o);
}

/* Enrolls CN=cn with curl and the bootstrap certificate: name.pem. */
static void
enroll(const char *name, const char *cn)
{
	const char	*o = getenv("OPENSSL");

	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && '%s' ecparam -genkey "
	    "-name prime256v1 -noout -out %s.key && '%s' req -new -key %s.key "
	    "-subj '/CN=%s' -outform DER | '%s' base64 > %s.b64 && curl -sS "
	    "--fail --max-time 300 --cacert pki/root.pem --cert pki/boot.pem "
	    "--key pki/boot.key -H 'Content-Type: application/pkcs10' "
	    "--data-binary @%s.b64 '%s/.well-known/est/device/simpleenroll' | "
	    "'%s' base64 -d | '%s' pkcs7 -inform DER -print_certs -out %s.new "
	    "&& mv %s.new %s.pem", S.dir, o, name, o, name, cn, o, name, name,
	    S.url, o, o, name, name, name), 0);
}

/* microca-admin revoke SERIAL --reason reason, as the ledger's owner. */
static void
revoke_it(const char *serial, const char *reason)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 args[512];

	(void)snprintf(args, sizeof(args), "revoke %s --reason %s --by "
	    "check_crl", serial, reason);
	ck_assert_msg(tool(&out, "microca-admin", args) == 0, "%s",
	    mca_buf_str(&out));
	mca_buf_free(&out);
}

/*
 * GETs crl/file over plain HTTP into the test's directory as file;
 * returns the HTTP status, the Content-Type into ctype.
 */
static long
fetch(const char *file, char *ctype, size_t len)
{
	struct mca_buf	 o = MCA_BUF_INIT;
	long		 code;
	char		*end;

	ck_assert_int_eq(tu_sh(&o, "curl -s --max-time 60 -o '%s/got-%s' -w "
	    "'%%{http_code} %%{content_type}' '%s/%s'", S.dir, file, S.crlurl,
	    file), 0);
	code = strtol(mca_buf_str(&o), &end, 10);
	if (ctype != NULL)
		(void)snprintf(ctype, len, "%s", *end == ' ' ? end + 1 : end);
	mca_buf_free(&o);
	return code;
}

/* The cRLNumber of the DER CRL got-file. */
static long long
number_of(const char *file)
{
	struct mca_buf	 o = MCA_BUF_INIT;
	long long	 n;

	ck_assert_int_eq(tu_sh(&o, "'%s' crl -inform DER -in '%s/got-%s' "
	    "-noout -crlnumber", getenv("OPENSSL"), S.dir, file), 0);
	ck_assert_msg(strncmp(mca_buf_str(&o), "crlNumber=0x", 12) == 0,
	    "%s", mca_buf_str(&o));
	n = strtoll(mca_buf_str(&o) + 12, NULL, 16);
	mca_buf_free(&o);
	return n;
}

/*
 * openssl verify -crl_check of name.pem against chain with the CRL
 * got-crl (DER, made PEM for -CRLfile); its status, output into out.
 */
static int
verify(struct mca_buf *out, const char *chain, const char *crl,
    const char *name)
{
	const char	*o = getenv("OPENSSL");

	mca_buf_reset(out);
	ck_assert_int_eq(tu_sh(NULL, "'%s' crl -inform DER -in '%s/got-%s' "
	    "-out '%s/got-%s.pem'", o, S.dir, crl, S.dir, crl), 0);
	return tu_sh(out, "'%s' verify -crl_check -CAfile '%s' -CRLfile "
	    "'%s/got-%s.pem' '%s/%s.pem' 2>&1", o, chain, S.dir, crl, S.dir,
	    name);
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_lighttpd)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	const char	*o = getenv("OPENSSL");
	char		 s1[130], s2[130], s3[130], ct[128], q[2048], id[32];
	char		 newchain[1100], genname[64], keyid[64];
	int		 i;

	enroll("d1", "dev-1");
	enroll("d2", "dev-2");
	serial_of(path("d1.pem"), s1, sizeof(s1));
	serial_of(path("d2.pem"), s2, sizeof(s2));
	/*
	 * The certificates name the distribution point: their own CA's
	 * CRL, by its key identifier (the intermediate's SKI).
	 */
	ck_assert_int_eq(tu_sh(&out, "'%s' x509 -in '%s' -noout -ext "
	    "subjectKeyIdentifier | tail -1 | tr -d ' :\\n'", o,
	    path("pki/ca.pem")), 0);
	(void)snprintf(keyid, sizeof(keyid), "%s", mca_buf_str(&out));
	ck_assert_uint_eq(strlen(keyid), 40);
	ck_assert_int_eq(tu_sh(&out, "'%s' x509 -in '%s' -noout -ext "
	    "crlDistributionPoints", o, path("d1.pem")), 0);
	(void)snprintf(q, sizeof(q), "URI:%s/%s.crl", S.crlurl, keyid);
	ASSERT_HAS(&out, q);

	/* nothing in crl_dir yet: 404 */
	ck_assert_int_eq(fetch("microca.crl", NULL, 0), 404);
	revoke_it(s1, "keyCompromise");
	ck_assert_msg(tool(&out, "microca-crl", "") == 0, "%s",
	    mca_buf_str(&out));
	ASSERT_HAS(&out, "CRL config (microca) (");
	ASSERT_HAS(&out, "number 1, 1 revoked");
	ASSERT_HAS(&out, "1 written, 0 current, 0 failed");

	ck_assert_int_eq(fetch("microca.crl", ct, sizeof(ct)), 200);
	ck_assert_str_eq(ct, "application/pkix-crl");
	ck_assert_int_eq(number_of("microca.crl"), 1);
	/* the revoked device fails, with its reason in the CRL */
	ck_assert_int_ne(verify(&out, path("pki/chain.pem"), "microca.crl",
	    "d1"), 0);
	ASSERT_HAS(&out, "certificate revoked");
	ck_assert_int_eq(tu_sh(&out, "'%s' crl -inform DER -in '%s' -noout "
	    "-text", o, path("got-microca.crl")), 0);
	ASSERT_HAS(&out, s1);
	ASSERT_HAS(&out, "Key Compromise");
	ASSERT_HASNT(&out, s2);
	/* its sibling passes */
	ck_assert_msg(verify(&out, path("pki/chain.pem"), "microca.crl",
	    "d2") == 0, "%s", mca_buf_str(&out));
	ASSERT_HAS(&out, "d2.pem: OK");
	/* openssl fetches the CRL itself from the distribution point */
	ck_assert_int_ne(tu_sh(&out, "'%s' verify -crl_check -crl_download "
	    "-CAfile '%s' '%s' 2>&1", o, path("pki/chain.pem"),
	    path("d1.pem")), 0);
	ASSERT_HAS(&out, "certificate revoked");
	ck_assert_msg(tu_sh(&out, "'%s' verify -crl_check -crl_download "
	    "-CAfile '%s' '%s' 2>&1", o, path("pki/chain.pem"),
	    path("d2.pem")) == 0, "%s", mca_buf_str(&out));

	/* only CRL files on the plain port; EST there is refused */
	ck_assert_int_eq(fetch("config.crl.pem", ct, sizeof(ct)), 200);
	ck_assert_int_eq(fetch("..%2fledger.db", NULL, 0), 403);
	mca_buf_reset(&out);
	ck_assert_int_eq(tu_sh(&out, "curl -s -o /dev/null -w '%%{http_code}' "
	    "'http://127.0.0.1:%u/.well-known/est/cacerts'", S.crlport), 0);
	ck_assert_str_eq(mca_buf_str(&out), "403");

	/* numbers: nothing due, then forced, then microca-admin crl */
	ck_assert_int_eq(tool(&out, "microca-crl", "--debugMode"), 0);
	ASSERT_HAS(&out, "CRL 1 is current");
	ck_assert_int_eq(tool(&out, "microca-crl", "--dry-run --force all"),
	    0);
	ASSERT_HAS(&out, "would write number 2, 1 revoked");
	ck_assert_int_eq(tool(&out, "microca-crl", "--force microca"), 0);
	ASSERT_HAS(&out, "number 2, 1 revoked");
	ck_assert_int_eq(fetch("microca.crl", NULL, 0), 200);
	ck_assert_int_eq(number_of("microca.crl"), 2);
	revoke_it(s2, "superseded");
	ck_assert_msg(tool(&out, "microca-admin", "crl") == 0, "%s",
	    mca_buf_str(&out));
	ASSERT_HAS(&out, "wrote config (microca): number 3, 2 revoked");
	ck_assert_int_eq(fetch("microca.crl", NULL, 0), 200);
	ck_assert_int_eq(number_of("microca.crl"), 3);
	ck_assert_int_ne(verify(&out, path("pki/chain.pem"), "microca.crl",
	    "d2"), 0);
	ck_assert_int_eq(tool(&out, "microca-admin", "crl"), 0);
	ASSERT_HAS(&out, "config (microca): current (CRL 3 is current)");
	/* the lock: a run in progress makes the next one wait for cron */
	ck_assert_int_eq(tu_sh(&out, "%sflock '%s/microca-crl.lock' '%s/"
	    "microca-crl' --config '%s/config.json' 2>&1", S.root ?
	    "runuser -u www-data -- " : "", S.dir, S.root ? path("bin") :
	    tu_builddir(), S.dir), 75);
	ck_assert_int_eq(tool(&out, "microca-crl", "--bogus"), 2);
	ASSERT_HAS(&out, "unknown option --bogus");

	/*
	 * The intermediate rolled over: a new generation in the ledger,
	 * as microca-renew installs one (its key a file). The workers pick
	 * it up; a new device gets a certificate of the new one.
	 */
	(void)snprintf(newchain, sizeof(newchain), "%s", path("newchain.pem"));
	ck_assert_int_eq(tu_sh(NULL, "cat '%s' '%s' > '%s' && chmod 644 '%s'",
	    path("pki/rollover-inter.pem"), path("pki/root.pem"), newchain,
	    newchain), 0);
	(void)snprintf(q, sizeof(q), "UPDATE ca_generations SET state = "
	    "'retired'; INSERT INTO ca_generations (state, key_path, "
	    "chain_pem, serial, sha256, not_before, not_after, installed_at) "
	    "VALUES ('active', '%s', readfile('%s'), 'AB', "
	    "'%064d', strftime('%%s', 'now') - 86400, strftime('%%s', 'now') "
	    "+ 86400 * 3650, strftime('%%s', 'now')); SELECT max(id) FROM "
	    "ca_generations;", path("pki/inter2.key"), newchain, 0);
	sql(q, id, sizeof(id));
	(void)snprintf(genname, sizeof(genname), "gen-%s", id);
	for (i = 0; i < 50; i++) {
		enroll("d3", "dev-3");
		ck_assert_int_eq(tu_sh(&out, "'%s' x509 -in '%s' -noout "
		    "-issuer", o, path("d3.pem")), 0);
		if (strstr(mca_buf_str(&out), "intermediate G2") != NULL)
			break;
	}
	ck_assert_msg(i < 50, "the workers never used the new intermediate");
	serial_of(path("d3.pem"), s3, sizeof(s3));
	revoke_it(s3, "cessationOfOperation");
	ck_assert_msg(tool(&out, "microca-crl", "") == 0, "%s",
	    mca_buf_str(&out));
	(void)snprintf(q, sizeof(q), "CRL %s (microca) (", genname);
	ASSERT_HAS(&out, q);
	ASSERT_HAS(&out, "number 1, 1 revoked");
	/* microca.crl is now the new intermediate's, signed by its key */
	ck_assert_int_eq(fetch("microca.crl", NULL, 0), 200);
	ck_assert_int_eq(number_of("microca.crl"), 1);
	ck_assert_int_ne(verify(&out, newchain, "microca.crl", "d3"), 0);
	ASSERT_HAS(&out, "certificate revoked");
	/* the old intermediate's own CRL, made again: the old key signs */
	ck_assert_msg(tool(&out, "microca-crl", "--force config") == 0, "%s",
	    mca_buf_str(&out));
	ASSERT_HAS(&out, "CRL config (");
	ASSERT_HAS(&out, "number 4, 2 revoked");
	ck_assert_int_eq(fetch("config.crl", NULL, 0), 200);
	ck_assert_int_eq(number_of("config.crl"), 4);
	ck_assert_int_eq(tu_sh(&out, "'%s' crl -inform DER -in '%s' -noout "
	    "-CAfile '%s' 2>&1", o, path("got-config.crl"),
	    path("pki/chain.pem")), 0);
	ASSERT_HAS(&out, "verify OK");
	ck_assert_int_ne(tu_sh(&out, "'%s' crl -inform DER -in '%s' -noout "
	    "-CAfile '%s' 2>&1", o, path("got-config.crl"), newchain), 0);
	ck_assert_int_ne(verify(&out, path("pki/chain.pem"), "config.crl",
	    "d1"), 0);
	ASSERT_HAS(&out, "certificate revoked");
	(void)snprintf(q, sizeof(q), "%s.crl", genname);
	ck_assert_int_eq(fetch(q, NULL, 0), 200);
	/*
	 * Each certificate's distribution point still names its own CA's
	 * CRL: openssl fetches the old intermediate's for d1 and the new
	 * one's for d3 and d4 (both in their chain files).
	 */
	ck_assert_int_eq(tu_sh(NULL, "cat '%s' '%s' > '%s'",
	    path("pki/chain.pem"), newchain, path("both.pem")), 0);
	ck_assert_int_ne(tu_sh(&out, "'%s' verify -crl_check -crl_download "
	    "-CAfile '%s' '%s' 2>&1", o, path("both.pem"), path("d1.pem")), 0);
	ASSERT_HAS(&out, "certificate revoked");
	ck_assert_int_ne(tu_sh(&out, "'%s' verify -crl_check -crl_download "
	    "-CAfile '%s' '%s' 2>&1", o, path("both.pem"), path("d3.pem")), 0);
	ASSERT_HAS(&out, "certificate revoked");
	enroll("d4", "dev-4");
	ck_assert_msg(tu_sh(&out, "'%s' verify -crl_check -crl_download "
	    "-CAfile '%s' '%s' 2>&1", o, path("both.pem"), path("d4.pem")) ==
	    0, "%s", mca_buf_str(&out));
	mca_buf_free(&out);
}
END_TEST

/* Apache serves the same files (conf-examples/apache/microca-crl.conf). */
START_TEST(test_apache)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		 s1[130], ct[128];
	long		 code;

	enroll("d1", "dev-1");
	serial_of(path("d1.pem"), s1, sizeof(s1));
	revoke_it(s1, "affiliationChanged");
	ck_assert_msg(tool(&out, "microca-crl", "") == 0, "%s",
	    mca_buf_str(&out));
	ck_assert_int_eq(fetch("microca.crl", ct, sizeof(ct)), 200);
	ck_assert_str_eq(ct, "application/pkix-crl");
	ck_assert_int_ne(verify(&out, path("pki/chain.pem"), "microca.crl",
	    "d1"), 0);
	ASSERT_HAS(&out, "certificate revoked");
	ck_assert_int_eq(fetch("microca.crl.pem", NULL, 0), 200);
	ck_assert_int_eq(fetch("nothing.crl", NULL, 0), 404);
	code = fetch("..%2fledger.db", NULL, 0);
	ck_assert_msg(code == 403 || code == 404, "%ld", code);
	mca_buf_reset(&out);
	ck_assert_int_eq(tu_sh(&out, "curl -s -o /dev/null -w '%%{http_code}' "
	    "'http://127.0.0.1:%u/.well-known/est/cacerts'", S.crlport), 0);
	ck_assert_msg(strcmp(mca_buf_str(&out), "403") == 0 ||
	    strcmp(mca_buf_str(&out), "404") == 0, "%s", mca_buf_str(&out));
	mca_buf_free(&out);
}
END_TEST

static TCase *
tcase(const char *name, void (*start)(void), const TTest *t)
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, start, stack_stop);
	tcase_add_test(tc, t);
	return tc;
}

int
main(void)
{
	Suite	*s = suite_create("crl-web");

	suite_add_tcase(s, tcase("lighttpd", lighttpd_start, test_lighttpd));
	suite_add_tcase(s, tcase("apache", apache_start, test_apache));
	return tu_run(s);
}
