/*
 * The harness of the microca-renew integration suites (check_renew,
 * check_rotate): an upstream microca behind lighttpd (scripts/microca-web)
 * on loopback, its CA key in a file, with an is_ca label ("subca") that
 * issues intermediates to clients with a certificate, and a label that
 * does not ("device"); the Micro CA under test, a microca behind another
 * lighttpd with its keys in a SoftHSMv2 token; and what the tests ask of
 * them. Every failure is a Check assertion.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "renewweb.h"
#include "testutil.h"

struct web	 W;

char *
path(const char *name)
{
	static char	 p[64][1024];
	static int	 i;

	i = (i + 1) % 64;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", W.dir, name);
	return p[i];
}

void
dn_defaults(struct dn *c)
{
	c->port = W.up_port;
	c->label = "subca";
	c->anchors = "up/root.pem";
	c->cert = "up/boot.pem";
	c->key = "up/boot.key";
	c->enabled = 1;
	c->reenroll = 30;
	c->rlabel = NULL;
	c->extra = "";
}

void
write_dn(const struct dn *c)
{
	ck_assert_int_eq(tu_writef(path("dn.json"),
	    "{\n"
	    " \"new_intermediate_cert\": true,\n"
	    " \"intermediate_cert_config\": {\n"
	    "  \"use_est\": true, \"common_name\": \"renewed intermediate\",\n"
	    "  \"organization\": \"microca test\", \"country\": \"DE\",\n"
	    "  \"key_type\": \"ECC\", \"key_size\": 256,\n"
	    "  \"hash_function\": \"SHA256\",\n"
	    "  \"appviewx_hostname\": \"localhost\", \"port\": %u,\n"
	    "  \"est_agent_setting_name\": \"%s\",\n"
	    "  \"reenrollment_trigger_before_no_of_days_of_expiry\": %d },\n"
	    " \"certificateRenewal_config\": {\n"
	    "  \"isRenewalOfCertificatesRequired\": %s,\n"
	    "  \"renewal_check_interval_time_in_minutes\": 1440,\n"
	    "  \"appviewx_hostname\": \"localhost\", \"port\": %u,\n"
	    "  \"est_agent_setting_name\": \"%s\" },\n"
	    " \"upstream_ca_cert\": \"%s/%s\",\n"
	    " \"upstream_connect_timeout_seconds\": 30,\n"
	    " \"upstream_timeout_seconds\": 120,\n"
	    " \"mtls_client_auth_cert_config\": {\n"
	    "  \"is_private_key_label_required\": false,\n"
	    "  \"mtls_auth_cert_path\": \"%s/%s\",\n"
	    "  \"mtls_auth_key_path\": \"%s/%s\" }%s,\n"
	    " \"intermediate_cert_path\": \"%s/dn-int.pem\",\n"
	    " \"intermediate_private_key_label_in_pkcs11\": \"microca-ca\",\n"
	    " \"pkcs11_library\": \"%s\",\n"
	    " \"pkcs11_library_pin\": \"1234\",\n"
	    " \"mtls_ca_cert\": \"%s/dn/boot-ca.pem\",\n"
	    " \"ledger_db_path\": \"%s/dn-db/ledger.db\",\n"
	    " \"issued_certs_dir\": \"%s/dn-issued\",\n"
	    " \"end_certificate_config_1\": {\n"
	    "  \"end_point_name\": \"device\", \"validity_in_days\": 30,\n"
	    "  \"extended_key_usage_list\": [\"1.3.6.1.5.5.7.3.2\"],\n"
	    "  \"key_usage\": { \"digital_signature\": true } }\n"
	    "}\n", c->port, c->label, c->reenroll, c->enabled ? "true" :
	    "false", c->port, c->rlabel != NULL ? c->rlabel : c->label, W.dir,
	    c->anchors, W.dir, c->cert, W.dir, c->key, c->extra, W.dir,
	    getenv("SOFTHSM2_MODULE"), W.dir, W.dir, W.dir), 0);
	ck_assert_int_eq(chmod(path("dn.json"), 0600), 0);
	if (W.root)
		ck_assert_int_eq(tu_sh(NULL, "chown www-data: '%s'",
		    path("dn.json")), 0);
}

void
write_up(void)
{
	ck_assert_int_eq(tu_writef(path("up.json"),
	    "{\n"
	    " \"intermediate_cert_path\": \"%s/up/chain.pem\",\n"
	    " \"intermediate_private_key_path\": \"%s/up/ca.key\",\n"
	    " \"mtls_ca_cert\": \"%s/up/boot-ca.pem\",\n"
	    " \"ledger_db_path\": \"%s/up-db/ledger.db\",\n"
	    " \"issued_certs_dir\": \"%s/up-issued\",\n"
	    " \"default_end_point_name\": \"device\",\n"
	    " \"end_certificate_config_1\": {\n"
	    "  \"end_point_name\": \"device\", \"validity_in_days\": 30,\n"
	    "  \"extended_key_usage_list\": [\"1.3.6.1.5.5.7.3.2\"],\n"
	    "  \"key_usage\": { \"digital_signature\": true } },\n"
	    " \"end_certificate_config_2\": {\n"
	    "  \"end_point_name\": \"subca\", \"validity_in_days\": 365,\n"
	    "  \"is_ca\": true, \"path_length_constraint\": 0,\n"
	    "  \"key_usage\": { \"key_cert_sign\": true, \"crl_sign\": true,\n"
	    "   \"digital_signature\": true } },\n"
	    " \"end_certificate_config_3\": {\n"
	    "  \"end_point_name\": \"tls\", \"validity_in_days\": 30,\n"
	    "  \"extended_key_usage_list\": [\"1.3.6.1.5.5.7.3.1\",\n"
	    "   \"1.3.6.1.5.5.7.3.2\"],\n"
	    "  \"key_usage\": { \"digital_signature\": true,\n"
	    "   \"key_encipherment\": true } }\n"
	    "}\n", W.dir, W.dir, W.dir, W.dir, W.dir), 0);
	ck_assert_int_eq(chmod(path("up.json"), 0600), 0);
}

/* Starts microca-web in dir/<name>; the port. */
unsigned
web(const char *name, const char *config, const char *pki,
    const char *clientca, const char *softhsm)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	const char	*p;
	char		*end, env[1200];
	unsigned long	 port;
	int		 rc;

	env[0] = '\0';
	if (softhsm != NULL)
		(void)snprintf(env, sizeof(env), "SOFTHSM2_CONF='%s' ",
		    softhsm);
	rc = tu_sh(&out,
	    "%sMICROCA_EST='%s/microca-est' MICROCA_EST_ARGS='--logFile "
	    "%s/%s.log --debugMode' MICROCA_CONFIG='%s' "
	    "MCA_WEB_TLS_CERT='%s/%s/server.pem' "
	    "MCA_WEB_TLS_KEY='%s/%s/server.key' "
	    "MCA_WEB_CLIENT_CA='%s' MCA_WEB_WORKERS=%d "
	    "MCA_WEB_OWNER_PID=%ld MCA_WEB_CONF_DIR='%s/conf-examples' "
	    "sh '%s/scripts/microca-web' start lighttpd '%s/%s'",
	    env, W.root ? path("bin") : tu_builddir(), W.dir, name, config,
	    W.dir, pki, W.dir, pki, clientca, W.workers > 0 ? W.workers : 1,
	    (long)getpid(), tu_srcdir(),
	    tu_srcdir(), W.dir, name);
	ck_assert_msg(rc == 0, "microca-web start %s failed (%d)", name, rc);
	ck_assert_ptr_nonnull(p = strrchr(mca_buf_str(&out), ':'));
	port = strtoul(p + 1, &end, 10);
	ck_assert_msg(port > 0 && port < 65536, "url: %s", mca_buf_str(&out));
	mca_buf_free(&out);
	return (unsigned)port;
}

void
setup(void)
{
	const char	*mod = getenv("SOFTHSM2_MODULE");
	struct dn	 c;
	int		 workers = W.workers;

	memset(&W, 0, sizeof(W));
	W.workers = workers;
	W.dir = tu_mkdtemp("renew");
	W.root = geteuid() == 0;
	ck_assert_msg(mod != NULL && *mod != '\0', "SOFTHSM2_MODULE not set");
	ck_assert_int_eq(tu_mkpki(path("up"), "file"), 0);
	ck_assert_int_eq(tu_mkpki(path("dn"), "hsm-ec"), 0);
	ck_assert_int_eq(tu_sh(NULL, "cd '%s' && mkdir up-db dn-db && "
	    "cp dn/chain.pem dn-int.pem && cat up/boot-ca.pem up/chain.pem > "
	    "up-clients.pem && cat dn/boot-ca.pem dn/chain.pem > "
	    "dn-clients.pem", W.dir), 0);
	write_up();
	if (W.root)
		ck_assert_int_eq(tu_sh(NULL, "mkdir '%s/bin' && cp "
		    "'%s/microca-est' '%s/microca-renew' '%s/bin/' && "
		    "chmod 755 '%s' && chown -R www-data: '%s'", W.dir,
		    tu_builddir(), tu_builddir(), W.dir, W.dir, W.dir), 0);
	W.up_port = web("upweb", path("up.json"), "up", path("up-clients.pem"),
	    NULL);
	dn_defaults(&c);
	write_dn(&c);
	W.dn_port = web("dnweb", path("dn.json"), "dn", path("dn-clients.pem"),
	    path("dn/softhsm2.conf"));
}

void
teardown(void)
{
	if (W.dir == NULL)
		return;
	(void)tu_sh(NULL, "sh '%s/scripts/microca-web' stop '%s/upweb'",
	    tu_srcdir(), W.dir);
	(void)tu_sh(NULL, "sh '%s/scripts/microca-web' stop '%s/dnweb'",
	    tu_srcdir(), W.dir);
	tu_rmtree(W.dir);
	free(W.dir);
	W.dir = NULL;
}

/* ---------------------------------------------------------------- helpers */

/*
 * Runs microca-renew with args, as the ledger's owner, with env (words
 * VAR=value, or "") in its environment; its exit status.
 */
int
renew_env(struct mca_buf *out, const char *env, const char *args)
{
	int	 rc;

	mca_buf_reset(out);
	rc = tu_sh(out, "cd '%s' && %s env SOFTHSM2_CONF='%s' %s "
	    "'%s/microca-renew' --config '%s' %s 2>&1", W.dir,
	    W.root ? "runuser -u www-data --" : "", path("dn/softhsm2.conf"),
	    env, W.root ? path("bin") : tu_builddir(), path("dn.json"), args);
	/* the run's output, for whoever reads the log */
	fprintf(stderr, "microca-renew %s -> %d:\n%s", args, rc,
	    mca_buf_str(out));
	return rc;
}

/* Runs microca-renew with args, as the ledger's owner; its exit status. */
int
renew(struct mca_buf *out, const char *args)
{
	return renew_env(out, "", args);
}

/* One value from the Micro CA's ledger (sqlite3 -batch), trimmed. */
void
sql(const char *q, char *val, size_t len)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	const char	*s;

	ck_assert_int_eq(tu_sh(&out, "'%s' -batch '%s' \"%s\"",
	    getenv("SQLITE3") != NULL ? getenv("SQLITE3") : "sqlite3",
	    path("dn-db/ledger.db"), q), 0);
	s = mca_buf_str(&out);
	(void)snprintf(val, len, "%.*s", (int)strcspn(s, "\n"), s);
	mca_buf_free(&out);
}

int
sql_int(const char *q)
{
	char	 v[64];

	sql(q, v, sizeof(v));
	return atoi(v);
}

/* SHA-256 of a file, in hex, for "nothing changed". */
void
file_hash(const char *p, char *out, size_t len)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0, i;

	ck_assert_int_eq(tu_read(p, &b), 0);
	ck_assert_int_eq(EVP_Digest(b.data, b.len, md, &n, EVP_sha256(),
	    NULL), 1);
	out[0] = '\0';
	for (i = 0; i < n && 2 * i + 3 <= len; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", md[i]);
	mca_buf_free(&b);
}

/* A new EC key and a CSR for it. */
X509_REQ *
new_csr(EVP_PKEY **k, const char *cn)
{
	X509_REQ	*r;

	ck_assert_ptr_nonnull(*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	ck_assert_ptr_nonnull(r = X509_REQ_new());
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(
	    r), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0), 1);
	ck_assert_int_eq(X509_REQ_set_pubkey(r, *k), 1);
	ck_assert_int_gt(X509_REQ_sign(r, *k, EVP_sha256()), 0);
	return r;
}
