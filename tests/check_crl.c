/*
 * CRLs (lib/crl.c): a SoftHSM token holds the intermediate's key (the
 * test PKI of tests/pki/mkpki.sh, hsm-ec), certificates it really
 * issued are in a real ledger, revoked through lib/revoke.c; each CRL
 * is read back with OpenSSL (in C and with openssl crl) for its fields,
 * entries, extensions and signature. Then the rules of when a new CRL
 * is made, the numbers, expired entries, a failure that records
 * nothing, and a rolled-over intermediate whose CRL the old key signs.
 * Times are given to lib/crl.c, never waited for.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "buf.h"
#include "ca.h"
#include "castate.h"
#include "certinfo.h"
#include "cfg.h"
#include "crl.h"
#include "err.h"
#include "fileio.h"
#include "keystore.h"
#include "ledger.h"
#include "pem.h"
#include "revoke.h"
#include "testutil.h"

#define HOUR	3600
#define DAY	86400

static char	*pki;		/* the PKI and token, once for the suite */
static char	*tmp;		/* each test's ledger, config, crl_dir */
static char	 crldir[1024], ledger_path[1024], cfg_path[1024];

static const char *
module(void)
{
	const char	*m = getenv("SOFTHSM2_MODULE");

	return m != NULL && *m != '\0' ? m : "/usr/lib/softhsm/libsofthsm2.so";
}

static void
suite_setup(void)
{
	char	 conf[1024];

	pki = tu_mkdtemp("crl-pki");
	if (tu_mkpki(pki, "hsm-ec") != 0 ||
	    tu_sh(NULL, "OPENSSL='%s' sh '%s/tests/pki/mkrollover.sh' '%s' "
	    ">/dev/null 2>&1", tu_openssl(), tu_srcdir(), pki) != 0)
		abort();
	(void)snprintf(conf, sizeof(conf), "%s/softhsm2.conf", pki);
	setenv("SOFTHSM2_CONF", conf, 1);
}

static void
suite_teardown(void)
{
	tu_rmtree(pki);
	free(pki);
}

/* A config.json for the token key, with crl_validity_hours hours. */
static void
setup(void)
{
	tmp = tu_mkdtemp("crl");
	(void)snprintf(crldir, sizeof(crldir), "%s/crl", tmp);
	(void)snprintf(ledger_path, sizeof(ledger_path), "%s/ledger.db", tmp);
	(void)snprintf(cfg_path, sizeof(cfg_path), "%s/config.json", tmp);
	ck_assert_int_eq(tu_writef(cfg_path, "{\"intermediate_cert_path\": "
	    "\"%s/chain.pem\", \"intermediate_private_key_label_in_pkcs11\": "
	    "\"microca-ca\", \"pkcs11_library\": \"%s\", "
	    "\"pkcs11_library_pin\": \"1234\", \"mtls_ca_cert\": "
	    "\"%s/boot-ca.pem\", \"ledger_db_path\": \"%s\", \"crl_dir\": "
	    "\"%s\", \"crl_validity_hours\": 24, \"end_certificate_config_1\": "
	    "{\"end_point_name\": \"device\", \"validity_in_days\": 30}}",
	    pki, module(), pki, ledger_path, crldir), 0);
	(void)chmod(cfg_path, 0600);
}

static void
teardown(void)
{
	tu_rmtree(tmp);
	free(tmp);
}

static struct mca_cfg *
cfg_load(void)
{
	struct mca_cfg	*cfg = NULL;
	struct mca_diag	 d;

	ck_assert_msg(mca_cfg_load(cfg_path, &cfg, &d) == 0, "%s", d.msg);
	return cfg;
}

static struct mca_ledger *
ledger_open(void)
{
	return tu_ledger_open(ledger_path, 1);
}

/*
 * A certificate ca issues (signed on the token), valid from nb to na,
 * recorded in the ledger; its serial into serial.
 */
static void
issue(struct mca_ledger *l, struct mca_ca *ca, time_t nb, time_t na,
    char *serial, size_t len)
{
	struct mca_ledger_cert	 row;
	struct mca_buf		 pem = MCA_BUF_INIT;
	X509			*x;
	X509_NAME		*n;
	X509_EXTENSION		*e;
	X509V3_CTX		 ctx;
	EVP_PKEY		*k;
	BIGNUM			*bn;
	char			 subj[MCA_NAME_MAX], nbs[MCA_TIME_MAX];
	char			 nas[MCA_TIME_MAX], sha1[MCA_HEX_MAX];
	char			 sha256[MCA_HEX_MAX];
	int			 rc;

	ck_assert_ptr_nonnull(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	ck_assert_ptr_nonnull(x = X509_new());
	ck_assert_ptr_nonnull(bn = BN_new());
	ck_assert_int_eq(BN_rand(bn, 120, BN_RAND_TOP_ONE,
	    BN_RAND_BOTTOM_ANY), 1);
	ck_assert_ptr_nonnull(BN_to_ASN1_INTEGER(bn,
	    X509_get_serialNumber(x)));
	BN_free(bn);
	X509_set_version(x, 2);
	n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"crl test device", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_NAME_free(n);
	X509_set_issuer_name(x, X509_get_subject_name(ca->cert));
	ASN1_TIME_set(X509_getm_notBefore(x), nb);
	ASN1_TIME_set(X509_getm_notAfter(x), na);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
	ck_assert_ptr_nonnull(e = X509V3_EXT_conf_nid(NULL, &ctx,
	    NID_authority_key_identifier, "keyid:always"));
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ck_assert_int_eq(mca_signer_sign_cert(ca->signer, x, EVP_sha256()), 0);

	ck_assert_int_eq(mca_cert_serial_hex(x, serial, len), 0);
	ck_assert_int_eq(mca_name_string(X509_get_subject_name(x), subj,
	    sizeof(subj)), 0);
	ck_assert_int_eq(mca_asn1time_iso(X509_get0_notBefore(x), nbs,
	    sizeof(nbs)), 0);
	ck_assert_int_eq(mca_asn1time_iso(X509_get0_notAfter(x), nas,
	    sizeof(nas)), 0);
	ck_assert_int_eq(mca_cert_thumbprint(x, EVP_sha1(), sha1,
	    sizeof(sha1)), 0);
	ck_assert_int_eq(mca_cert_thumbprint(x, EVP_sha256(), sha256,
	    sizeof(sha256)), 0);
	ck_assert_int_eq(mca_pem_write_cert(x, &pem), 0);
	memset(&row, 0, sizeof(row));
	row.serial = serial;
	row.subject = subj;
	row.issuer = ca->subject;
	row.not_before = nbs;
	row.not_after = nas;
	row.label = "device";
	row.operation = "enroll";
	row.sha1 = sha1;
	row.sha256 = sha256;
	row.key_type = "EC-P-256";
	row.pem = mca_buf_str(&pem);
	rc = mca_ledger_insert_cert(l, &row);
	ck_assert_msg(rc == 0, "insert: %s", mca_ledger_errmsg(l, rc));
	mca_buf_free(&pem);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* config.json's CA (the token key), for issuing. */
static struct mca_ca *
ca_load(const struct mca_cfg *cfg)
{
	struct mca_ca	*ca = NULL;
	struct mca_diag	 d;

	ck_assert_msg(mca_ca_load(cfg, &ca, &d) == 0, "%s", d.msg);
	return ca;
}

static void
revoke_it(struct mca_ledger *l, const char *serial, int reason,
    const char *invalidity)
{
	struct mca_revoke_req	 r;
	struct mca_diag		 d;
	int			 rc;

	memset(&r, 0, sizeof(r));
	r.serial = serial;
	r.reason = reason;
	r.invalidity_date = invalidity;
	r.by = "check_crl";
	rc = mca_revoke_cert(l, &r, NULL, NULL, NULL, &d);
	ck_assert_msg(rc == 0, "revoke %s: %s", serial, d.msg);
}

/* What a run reported, by CRL name. */
struct seen {
	struct mca_crl_event	 ev[8];
	size_t			 n;
};

static void
record(void *arg, const struct mca_crl_event *ev)
{
	struct seen	*s = arg;

	if (s->n < 8)
		s->ev[s->n++] = *ev;
}

static const struct mca_crl_event *
seen(const struct seen *s, const char *name)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->ev[i].name, name) == 0)
			return &s->ev[i];
	ck_abort_msg("no event for CRL %s", name);
	return NULL;
}

/* A run at now; force: "all" or NULL. Returns the stats. */
static struct mca_crl_stats
run(const struct mca_cfg *cfg, struct mca_ledger *l, time_t now,
    const char *force, int dry, struct seen *s)
{
	struct mca_crl_opts	 o;
	struct mca_crl_stats	 st;
	struct mca_diag		 d;
	const char		*names[1];
	int			 rc;

	memset(&o, 0, sizeof(o));
	memset(s, 0, sizeof(*s));
	o.dir = cfg->crl_dir;
	o.hours = cfg->crl_validity_hours;
	o.now = now;
	o.dry_run = dry;
	if (force != NULL) {
		names[0] = force;
		o.force_names = names;
		o.nforce = 1;
	}
	rc = mca_crl_run(cfg, l, &o, record, s, &st, &d);
	ck_assert_msg(rc == 0, "run: %s", d.msg);
	return st;
}

/* crl_dir/file as a CRL (DER). */
static X509_CRL *
crl_read(const char *file)
{
	struct mca_buf		 b = MCA_BUF_INIT;
	const unsigned char	*p;
	X509_CRL		*crl;
	char			 path[1100];

	(void)snprintf(path, sizeof(path), "%s/%s", crldir, file);
	ck_assert_msg(mca_file_read(path, MCA_CRL_FILE_MAX, &b, NULL) == 0,
	    "%s", path);
	p = (const unsigned char *)b.data;
	crl = d2i_X509_CRL(NULL, &p, (long)b.len);
	ck_assert_msg(crl != NULL, "%s: not a DER CRL", path);
	ck_assert_ptr_eq(p, (const unsigned char *)b.data + b.len);
	mca_buf_free(&b);
	return crl;
}

static long long
crl_number(X509_CRL *crl)
{
	ASN1_INTEGER	*n;
	int64_t		 v = -1;
	int		 crit = -1;

	ck_assert_ptr_nonnull(n = X509_CRL_get_ext_d2i(crl, NID_crl_number,
	    &crit, NULL));
	ck_assert_int_eq(crit, 0);
	ck_assert_int_eq(ASN1_INTEGER_get_int64(&v, n), 1);
	ASN1_INTEGER_free(n);
	return (long long)v;
}

/* The entry for serial (hex), or NULL. */
static X509_REVOKED *
entry(X509_CRL *crl, const char *serial)
{
	STACK_OF(X509_REVOKED)	*sk = X509_CRL_get_REVOKED(crl);
	char			 hex[MCA_HEX_MAX];
	int			 i;

	for (i = 0; i < sk_X509_REVOKED_num(sk); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(sk, i);

		ck_assert_int_eq(mca_asn1int_hex(
		    X509_REVOKED_get0_serialNumber(r), hex, sizeof(hex)), 0);
		if (strcmp(hex, serial) == 0)
			return r;
	}
	return NULL;
}

static X509 *
pem_cert(const char *file)
{
	char	 p[1100];
	FILE	*f;
	X509	*x;

	(void)snprintf(p, sizeof(p), "%s/%s", pki, file);
	ck_assert_ptr_nonnull(f = fopen(p, "r"));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	return x;
}

static int
exists(const char *file)
{
	char		 p[1100];
	struct stat	 sb;

	ck_assert_int_lt(snprintf(p, sizeof(p), "%s/%s", crldir, file),
	    (int)sizeof(p));
	return stat(p, &sb) == 0;
}

/* One integer from the ledger, through a connection of the test's own. */
static long long
db_int(const char *sql)
{
	return tu_db_int(ledger_path, sql);
}

/*
 * The fields of a CRL: v2, issuer, times, AKI, number, the entries with
 * their reason (none for unspecified) and invalidity date, the
 * signature by the token key, the PEM copy and the active name; and
 * what openssl crl prints of it.
 */
START_TEST(t_fields)
{
	struct mca_cfg		*cfg = cfg_load();
	struct mca_ledger	*l = ledger_open();
	struct mca_ca		*ca = ca_load(cfg);
	struct mca_buf		 out = MCA_BUF_INIT, a = MCA_BUF_INIT;
	struct mca_buf		 b = MCA_BUF_INIT;
	struct mca_crl_stats	 st;
	struct seen		 s;
	X509_CRL		*crl;
	X509_REVOKED		*r;
	X509			*cert = pem_cert("ca.pem");
	AUTHORITY_KEYID		*aki;
	ASN1_ENUMERATED		*reason;
	ASN1_GENERALIZEDTIME	*inv;
	const ASN1_TIME		*t;
	time_t			 now = time(NULL);
	char			 kc[64], un[64], ok[64], hold[64], iso[64];
	char			 p1[1100], p2[1400];
	int			 crit;

	issue(l, ca, now - DAY, now + 30 * DAY, kc, sizeof(kc));
	issue(l, ca, now - DAY, now + 30 * DAY, un, sizeof(un));
	issue(l, ca, now - DAY, now + 30 * DAY, ok, sizeof(ok));
	issue(l, ca, now - DAY, now + 30 * DAY, hold, sizeof(hold));
	mca_ca_free(ca);
	revoke_it(l, kc, MCA_REVOKE_KEY_COMPROMISE, "2026-01-02T03:04:05Z");
	revoke_it(l, un, MCA_REVOKE_UNSPECIFIED, NULL);
	revoke_it(l, hold, MCA_REVOKE_CERTIFICATE_HOLD, NULL);

	st = run(cfg, l, now, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 1);
	ck_assert_uint_eq(st.failed, 0);
	ck_assert_int_eq(s.ev[0].outcome, MCA_CRL_WRITTEN);
	ck_assert_str_eq(s.ev[0].name, "config");
	ck_assert_int_eq(s.ev[0].active, 1);
	ck_assert_int_eq(s.ev[0].number, 1);
	ck_assert_uint_eq(s.ev[0].entries, 3);
	ck_assert_str_eq(s.ev[0].why, "the first CRL of this CA");

	crl = crl_read("config.crl");
	ck_assert_int_eq(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	ck_assert_int_eq(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(cert)), 0);
	/* signed by the token's key: the intermediate's public key says so */
	ck_assert_int_eq(X509_CRL_verify(crl, X509_get0_pubkey(cert)), 1);
	ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl),
	    now), 0);
	ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl),
	    now + 24 * HOUR), 0);
	/* RFC 5280 5.1.2.4: UTCTime before 2050 */
	ck_assert_int_eq(ASN1_STRING_type(X509_CRL_get0_lastUpdate(crl)),
	    V_ASN1_UTCTIME);
	ck_assert_ptr_nonnull(aki = X509_CRL_get_ext_d2i(crl,
	    NID_authority_key_identifier, &crit, NULL));
	ck_assert_int_eq(crit, 0);
	ck_assert_int_eq(ASN1_OCTET_STRING_cmp(aki->keyid,
	    X509_get0_subject_key_id(cert)), 0);
	AUTHORITY_KEYID_free(aki);
	ck_assert_int_eq(crl_number(crl), 1);
	ck_assert_int_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 3);
	ck_assert_ptr_null(entry(crl, ok));

	ck_assert_ptr_nonnull(r = entry(crl, kc));
	ck_assert_ptr_nonnull(reason = X509_REVOKED_get_ext_d2i(r,
	    NID_crl_reason, &crit, NULL));
	ck_assert_int_eq(ASN1_ENUMERATED_get(reason), 1);
	ASN1_ENUMERATED_free(reason);
	ck_assert_ptr_nonnull(inv = X509_REVOKED_get_ext_d2i(r,
	    NID_invalidity_date, &crit, NULL));
	ck_assert_int_eq(ASN1_STRING_type(inv), V_ASN1_GENERALIZEDTIME);
	ck_assert_int_eq(mca_asn1time_iso(inv, iso, sizeof(iso)), 0);
	ck_assert_str_eq(iso, "2026-01-02T03:04:05Z");
	ASN1_GENERALIZEDTIME_free(inv);
	/* revocationDate: when it was revoked (within this test) */
	t = X509_REVOKED_get0_revocationDate(r);
	ck_assert_int_ge(ASN1_TIME_cmp_time_t(t, now - 5), 0);
	ck_assert_int_le(ASN1_TIME_cmp_time_t(t, time(NULL) + 1), 0);
	/* RFC 5280 5.3.1: unspecified is left out */
	ck_assert_ptr_nonnull(r = entry(crl, un));
	ck_assert_ptr_null(X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit,
	    NULL));
	ck_assert_int_eq(crit, -1);
	ck_assert_ptr_null(X509_REVOKED_get_ext_d2i(r, NID_invalidity_date,
	    &crit, NULL));
	ck_assert_ptr_nonnull(r = entry(crl, hold));
	ck_assert_ptr_nonnull(reason = X509_REVOKED_get_ext_d2i(r,
	    NID_crl_reason, &crit, NULL));
	ck_assert_int_eq(ASN1_ENUMERATED_get(reason), 6);
	ASN1_ENUMERATED_free(reason);
	X509_CRL_free(crl);

	/* microca.crl is the same bytes; the PEM files hold them too */
	(void)snprintf(p1, sizeof(p1), "%s/config.crl", crldir);
	(void)snprintf(p2, sizeof(p2), "%s/microca.crl", crldir);
	ck_assert_int_eq(tu_read(p1, &a), 0);
	ck_assert_int_eq(tu_read(p2, &b), 0);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
	ck_assert(exists("config.crl.pem"));
	ck_assert(exists("microca.crl.pem"));
	/* and under the key identifier, for {keyid} distribution points */
	{
		const ASN1_OCTET_STRING	*ski = X509_get0_subject_key_id(cert);
		char			 kf[300];
		int			 i, o = 0;

		for (i = 0; i < ASN1_STRING_length(ski); i++)
			o += snprintf(kf + o, sizeof(kf) - (size_t)o, "%02X",
			    ASN1_STRING_get0_data(ski)[i]);
		(void)snprintf(kf + o, sizeof(kf) - (size_t)o, ".crl");
		(void)snprintf(p2, sizeof(p2), "%s/%s", crldir, kf);
		mca_buf_reset(&b);
		ck_assert_int_eq(tu_read(p2, &b), 0);
		ck_assert_uint_eq(a.len, b.len);
		ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
		(void)snprintf(kf + o, sizeof(kf) - (size_t)o, ".crl.pem");
		ck_assert(exists(kf));
	}
	ck_assert_int_eq(tu_sh(&out, "'%s' crl -in '%s/microca.crl.pem' "
	    "-outform DER | cmp - '%s'", tu_openssl(), crldir, p1), 0);

	/* what OpenSSL's own reader makes of it */
	ck_assert_int_eq(tu_sh(&out, "'%s' crl -inform DER -in '%s' -noout "
	    "-text -CAfile '%s/chain.pem' 2>&1", tu_openssl(), p1, pki), 0);
	ck_assert_int_eq(mca_buf_addstr(&out, ""), 0);
	ck_assert_msg(strstr(mca_buf_str(&out), "verify OK") != NULL, "%s",
	    mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "X509v3 CRL Number: \n"
	    "                1\n") != NULL, "%s", mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "Key Compromise") != NULL,
	    "%s", mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "Certificate Hold") != NULL,
	    "%s", mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "Invalidity Date: \n"
	    "                Jan  2 03:04:05 2026 GMT") != NULL, "%s",
	    mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "Version 2 (0x1)") != NULL,
	    "%s", mca_buf_str(&out));

	ck_assert_int_eq(db_int("SELECT crl_number FROM crl_state WHERE "
	    "name = 'config'"), 1);
	ck_assert_int_eq(db_int("SELECT entries FROM crls"), 3);
	mca_buf_free(&out);
	mca_buf_free(&a);
	mca_buf_free(&b);
	X509_free(cert);
	mca_ledger_close(l);
	mca_cfg_free(cfg);
}
END_TEST

/*
 * When a new CRL is made: first; not again at once nor before half of
 * its validity; at half; after a revocation and after a release from
 * hold; when its file is gone; when forced by name. --dry-run says so
 * and changes nothing. Numbers grow by one each time.
 */
START_TEST(t_rules)
{
	struct mca_cfg		*cfg = cfg_load();
	struct mca_ledger	*l = ledger_open();
	struct mca_ca		*ca = ca_load(cfg);
	struct mca_crl_stats	 st;
	struct mca_diag		 d;
	struct seen		 s;
	X509_CRL		*crl;
	time_t			 t0 = time(NULL), t;
	char			 a[64], b[64], p[1100];

	issue(l, ca, t0 - DAY, t0 + 30 * DAY, a, sizeof(a));
	issue(l, ca, t0 - DAY, t0 + 30 * DAY, b, sizeof(b));
	mca_ca_free(ca);

	st = run(cfg, l, t0, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 1);
	ck_assert_uint_eq(s.ev[0].entries, 0);
	/* at once, and just before half of 24 hours: nothing */
	st = run(cfg, l, t0, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 0);
	ck_assert_uint_eq(st.current, 1);
	ck_assert_int_eq(seen(&s, "config")->outcome, MCA_CRL_CURRENT);
	ck_assert_int_eq(seen(&s, "config")->number, 1);
	st = run(cfg, l, t0 + 12 * HOUR - 1, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 0);
	/* dry run at half: would, and nothing written */
	st = run(cfg, l, t0 + 12 * HOUR, NULL, 1, &s);
	ck_assert_uint_eq(st.would, 1);
	ck_assert_int_eq(seen(&s, "config")->number, 2);
	crl = crl_read("config.crl");
	ck_assert_int_eq(crl_number(crl), 1);
	X509_CRL_free(crl);
	ck_assert_int_eq(db_int("SELECT crl_number FROM crl_state"), 1);
	/* half of the validity */
	t = t0 + 12 * HOUR;
	st = run(cfg, l, t, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 1);
	ck_assert_str_eq(seen(&s, "config")->why, "half of the last CRL's "
	    "validity has passed");
	ck_assert_int_eq(seen(&s, "config")->number, 2);
	/* a revocation: at once */
	revoke_it(l, a, MCA_REVOKE_CERTIFICATE_HOLD, NULL);
	st = run(cfg, l, t + 1, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 1);
	ck_assert_str_eq(seen(&s, "config")->why, "a revocation event since "
	    "CRL 2");
	ck_assert_uint_eq(seen(&s, "config")->entries, 1);
	crl = crl_read("microca.crl");
	ck_assert_int_eq(crl_number(crl), 3);
	ck_assert_ptr_nonnull(entry(crl, a));
	X509_CRL_free(crl);
	st = run(cfg, l, t + 2, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 0);
	/* released from hold: the entry goes */
	ck_assert_msg(mca_revoke_unrevoke(l, a, "check_crl", &d) == 0, "%s",
	    d.msg);
	st = run(cfg, l, t + 3, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 1);
	ck_assert_uint_eq(seen(&s, "config")->entries, 0);
	crl = crl_read("microca.crl");
	ck_assert_int_eq(crl_number(crl), 4);
	ck_assert_ptr_null(entry(crl, a));
	X509_CRL_free(crl);
	/* the file removed: made again */
	(void)snprintf(p, sizeof(p), "%s/config.crl", crldir);
	ck_assert_int_eq(unlink(p), 0);
	st = run(cfg, l, t + 4, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 1);
	ck_assert_str_eq(seen(&s, "config")->why, "its file is missing");
	/* forced, by the active CRL's fixed name and by its own */
	st = run(cfg, l, t + 5, "microca", 0, &s);
	ck_assert_uint_eq(st.written, 1);
	ck_assert_str_eq(seen(&s, "config")->why, "forced");
	st = run(cfg, l, t + 6, "config", 0, &s);
	ck_assert_uint_eq(st.written, 1);
	st = run(cfg, l, t + 7, "gen-9", 0, &s);
	ck_assert_uint_eq(st.written, 0);
	/* the clock went back */
	st = run(cfg, l, t0 - HOUR, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 1);
	crl = crl_read("config.crl");
	ck_assert_int_eq(crl_number(crl), 8);
	X509_CRL_free(crl);
	ck_assert_int_eq(db_int("SELECT crl_number FROM crl_state"), 8);
	mca_ledger_close(l);
	mca_cfg_free(cfg);
}
END_TEST

/*
 * The number is above the ledger's and above the file's: a run killed
 * after renaming the file but before its commit (the ledger's row is
 * missing here) does not hand the file's number out again. The ledger
 * itself refuses a lower number.
 */
START_TEST(t_numbers)
{
	struct mca_cfg		*cfg = cfg_load();
	struct mca_ledger	*l = ledger_open();
	struct mca_crl_stats	 st;
	struct seen		 s;
	X509_CRL		*crl;
	sqlite3			*db;
	time_t			 t0 = time(NULL);

	st = run(cfg, l, t0, "all", 0, &s);
	st = run(cfg, l, t0 + 1, "all", 0, &s);
	ck_assert_uint_eq(st.written, 1);
	ck_assert_int_eq(seen(&s, "config")->number, 2);
	mca_ledger_close(l);
	ck_assert_int_eq(sqlite3_open(ledger_path, &db), SQLITE_OK);
	ck_assert_int_ne(sqlite3_exec(db, "UPDATE crl_state SET crl_number = "
	    "1", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM crl_state", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	l = ledger_open();
	st = run(cfg, l, t0 + 2, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 1);
	ck_assert_int_eq(seen(&s, "config")->number, 3);
	crl = crl_read("config.crl");
	ck_assert_int_eq(crl_number(crl), 3);
	X509_CRL_free(crl);
	mca_ledger_close(l);
	mca_cfg_free(cfg);
}
END_TEST

/*
 * RFC 5280 5.1.2.6: an expired certificate stays on the next CRL made
 * after it expired, then goes; one already expired before the first
 * CRL never shows.
 */
START_TEST(t_expired)
{
	struct mca_cfg		*cfg = cfg_load();
	struct mca_ledger	*l = ledger_open();
	struct mca_ca		*ca = ca_load(cfg);
	struct mca_crl_stats	 st;
	struct seen		 s;
	X509_CRL		*crl;
	time_t			 t0 = time(NULL);
	char			 old[64], soon[64], live[64];

	issue(l, ca, t0 - 2 * DAY, t0 - DAY, old, sizeof(old));
	issue(l, ca, t0 - DAY, t0 + HOUR, soon, sizeof(soon));
	issue(l, ca, t0 - DAY, t0 + 30 * DAY, live, sizeof(live));
	mca_ca_free(ca);
	revoke_it(l, old, MCA_REVOKE_SUPERSEDED, NULL);
	revoke_it(l, soon, MCA_REVOKE_AFFILIATION_CHANGED, NULL);
	revoke_it(l, live, MCA_REVOKE_PRIVILEGE_WITHDRAWN, NULL);

	st = run(cfg, l, t0, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 1);
	crl = crl_read("config.crl");
	ck_assert_ptr_null(entry(crl, old));
	ck_assert_ptr_nonnull(entry(crl, soon));
	ck_assert_ptr_nonnull(entry(crl, live));
	X509_CRL_free(crl);
	/* soon expired at t0 + 1h: still on the CRL made at t0 + 2h */
	st = run(cfg, l, t0 + 2 * HOUR, "all", 0, &s);
	crl = crl_read("config.crl");
	ck_assert_ptr_nonnull(entry(crl, soon));
	ck_assert_int_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
	X509_CRL_free(crl);
	/* and off the one after */
	st = run(cfg, l, t0 + 3 * HOUR, "all", 0, &s);
	ck_assert_uint_eq(seen(&s, "config")->entries, 1);
	crl = crl_read("config.crl");
	ck_assert_ptr_null(entry(crl, soon));
	ck_assert_ptr_nonnull(entry(crl, live));
	X509_CRL_free(crl);
	mca_ledger_close(l);
	mca_cfg_free(cfg);
}
END_TEST

/* crl_dir cannot be written: failed, and the ledger records nothing. */
START_TEST(t_write_fails)
{
	struct mca_cfg		*cfg;
	struct mca_ledger	*l;
	struct mca_crl_stats	 st;
	struct seen		 s;

	ck_assert_int_eq(tu_writef(crldir, "a file, not a directory\n"), 0);
	cfg = cfg_load();
	l = ledger_open();
	st = run(cfg, l, time(NULL), NULL, 0, &s);
	ck_assert_uint_eq(st.written, 0);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_int_eq(seen(&s, "config")->outcome, MCA_CRL_FAILED);
	ck_assert_msg(strstr(seen(&s, "config")->why, "crl_dir: ") != NULL,
	    "%s", seen(&s, "config")->why);
	ck_assert_int_eq(db_int("SELECT count(*) FROM crl_state"), 0);
	mca_ledger_close(l);
	mca_cfg_free(cfg);
}
END_TEST

/*
 * An intermediate rolled over (a new generation in the ledger, its key
 * a file): the new one is active and its CRL is microca.crl; the old
 * one, config.json's, keeps its own CRL, signed by the old key in the
 * token, listing only what it issued.
 */
START_TEST(t_rollover)
{
	struct mca_cfg		*cfg = cfg_load();
	struct mca_ledger	*l = ledger_open();
	struct mca_ca		*old = ca_load(cfg), *gen = NULL;
	struct mca_ca_gen	 g;
	struct mca_buf		 chain = MCA_BUF_INIT, root = MCA_BUF_INIT;
	struct mca_buf		 a = MCA_BUF_INIT, b = MCA_BUF_INIT;
	struct mca_crl_stats	 st;
	struct mca_diag		 d;
	struct seen		 s;
	X509_CRL		*crl;
	X509			*oldc = pem_cert("ca.pem");
	X509			*newc = pem_cert("rollover-inter.pem");
	time_t			 t0 = time(NULL);
	long long		 id = 0;
	char			 p[1100], keyp[1100], ro[64], rn[64], vn[64];

	issue(l, old, t0 - DAY, t0 + 30 * DAY, ro, sizeof(ro));
	st = run(cfg, l, t0, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 1);

	(void)snprintf(p, sizeof(p), "%s/rollover-inter.pem", pki);
	ck_assert_int_eq(tu_read(p, &chain), 0);
	(void)snprintf(p, sizeof(p), "%s/root.pem", pki);
	ck_assert_int_eq(tu_read(p, &root), 0);
	ck_assert_int_eq(mca_buf_add(&chain, root.data, root.len), 0);
	(void)snprintf(keyp, sizeof(keyp), "%s/inter2.key", pki);
	ck_assert_int_eq(mca_cert_serial_hex(newc, p, sizeof(p)), 0);
	ck_assert_int_eq(mca_cert_thumbprint(newc, EVP_sha256(), keyp + 600,
	    100), 0);
	ck_assert_int_eq(mca_castate_install(l, NULL, keyp,
	    mca_buf_str(&chain), p, keyp + 600, t0 - DAY, t0 + 365 * DAY,
	    &id), 0);
	ck_assert_int_eq(mca_castate_active(l, &g), 0);
	ck_assert_msg(mca_ca_load_gen(cfg, &g, NULL, &gen, &d) == 0, "%s",
	    d.msg);
	issue(l, gen, t0 - DAY, t0 + 30 * DAY, rn, sizeof(rn));
	issue(l, gen, t0 - DAY, t0 + 30 * DAY, vn, sizeof(vn));
	revoke_it(l, ro, MCA_REVOKE_KEY_COMPROMISE, NULL);
	revoke_it(l, rn, MCA_REVOKE_CESSATION_OF_OPERATION, NULL);

	st = run(cfg, l, t0 + 1, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 2);
	ck_assert_uint_eq(st.failed, 0);
	(void)snprintf(p, sizeof(p), "gen-%lld", id);
	ck_assert_int_eq(seen(&s, p)->active, 1);
	ck_assert_int_eq(seen(&s, p)->number, 1);
	ck_assert_int_eq(seen(&s, "config")->active, 0);
	ck_assert_int_eq(seen(&s, "config")->number, 2);

	/* the new intermediate's CRL: its key, its certificates */
	(void)snprintf(p, sizeof(p), "gen-%lld.crl", id);
	crl = crl_read(p);
	ck_assert_int_eq(X509_CRL_verify(crl, X509_get0_pubkey(newc)), 1);
	ck_assert_int_eq(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(newc)), 0);
	ck_assert_ptr_nonnull(entry(crl, rn));
	ck_assert_ptr_null(entry(crl, ro));
	ck_assert_ptr_null(entry(crl, vn));
	X509_CRL_free(crl);
	/* the old one's: signed by the old key, in the token */
	crl = crl_read("config.crl");
	ck_assert_int_eq(X509_CRL_verify(crl, X509_get0_pubkey(oldc)), 1);
	ck_assert_int_ne(X509_CRL_verify(crl, X509_get0_pubkey(newc)), 1);
	ck_assert_int_eq(crl_number(crl), 2);
	ck_assert_ptr_nonnull(entry(crl, ro));
	ck_assert_ptr_null(entry(crl, rn));
	X509_CRL_free(crl);
	/* microca.crl follows the active intermediate */
	(void)snprintf(p, sizeof(p), "%s/gen-%lld.crl", crldir, id);
	ck_assert_int_eq(tu_read(p, &a), 0);
	(void)snprintf(p, sizeof(p), "%s/microca.crl", crldir);
	ck_assert_int_eq(tu_read(p, &b), 0);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
	/* and nothing is due right after */
	st = run(cfg, l, t0 + 2, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 0);
	ck_assert_uint_eq(st.current, 2);

	mca_buf_free(&a);
	mca_buf_free(&b);
	mca_buf_free(&chain);
	mca_buf_free(&root);
	mca_ca_gen_free(&g);
	mca_ca_free(gen);
	mca_ca_free(old);
	mca_ledger_close(l);
	mca_cfg_free(cfg);
	X509_free(oldc);
	X509_free(newc);
}
END_TEST

/* The private key in pki/file (PEM). */
static EVP_PKEY *
pem_key(const char *file)
{
	char		 p[1100];
	FILE		*f;
	EVP_PKEY	*k;

	(void)snprintf(p, sizeof(p), "%s/%s", pki, file);
	ck_assert_ptr_nonnull(f = fopen(p, "r"));
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(k);
	return k;
}

/*
 * The common renewal: a new intermediate with the old one's very name
 * and a new key. Its certificates and the old one's share an issuer
 * name; each CRL lists only those its key issued (their
 * authorityKeyIdentifier), and each is signed by its own key.
 */
START_TEST(t_same_name)
{
	struct mca_cfg		*cfg = cfg_load();
	struct mca_ledger	*l = ledger_open();
	struct mca_ca		*old = ca_load(cfg), *gen = NULL;
	struct mca_ca_gen	 g;
	struct mca_buf		 chain = MCA_BUF_INIT, root = MCA_BUF_INIT;
	struct mca_crl_stats	 st;
	struct mca_diag		 d;
	struct seen		 s;
	X509_CRL		*crl;
	X509			*oldc = pem_cert("ca.pem");
	X509			*rootc = pem_cert("root.pem");
	X509			*newc;
	X509_EXTENSION		*e;
	X509V3_CTX		 ctx;
	EVP_PKEY		*rootk = pem_key("root.key");
	EVP_PKEY		*newk = pem_key("inter2.key");
	time_t			 t0 = time(NULL);
	long long		 id = 0;
	char			 p[1100], keyp[1100], sha[MCA_HEX_MAX];
	char			 ro[64], rn[64], vo[64], vn[64];
	static const char *const exts[][2] = {
		{ "basicConstraints", "critical,CA:TRUE,pathlen:0" },
		{ "keyUsage", "critical,keyCertSign,cRLSign" },
		{ "subjectKeyIdentifier", "hash" },
		{ "authorityKeyIdentifier", "keyid:always" },
	};
	size_t			 i;

	/* the new intermediate: the old subject, the new key */
	ck_assert_ptr_nonnull(newc = X509_new());
	X509_set_version(newc, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(newc), 4242);
	X509_set_subject_name(newc, X509_get_subject_name(oldc));
	X509_set_issuer_name(newc, X509_get_subject_name(rootc));
	ASN1_TIME_set(X509_getm_notBefore(newc), t0 - DAY);
	ASN1_TIME_set(X509_getm_notAfter(newc), t0 + 365 * DAY);
	X509_set_pubkey(newc, newk);
	X509V3_set_ctx(&ctx, rootc, newc, NULL, NULL, 0);
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		ck_assert_ptr_nonnull(e = X509V3_EXT_conf(NULL, &ctx,
		    exts[i][0], exts[i][1]));
		X509_add_ext(newc, e, -1);
		X509_EXTENSION_free(e);
	}
	ck_assert_int_gt(X509_sign(newc, rootk, EVP_sha384()), 0);
	ck_assert_int_eq(mca_pem_write_cert(newc, &chain), 0);
	(void)snprintf(p, sizeof(p), "%s/root.pem", pki);
	ck_assert_int_eq(tu_read(p, &root), 0);
	ck_assert_int_eq(mca_buf_add(&chain, root.data, root.len), 0);
	ck_assert_int_eq(mca_buf_addstr(&chain, ""), 0);
	ck_assert_int_eq(mca_cert_thumbprint(newc, EVP_sha256(), sha,
	    sizeof(sha)), 0);
	(void)snprintf(keyp, sizeof(keyp), "%s/inter2.key", pki);

	issue(l, old, t0 - DAY, t0 + 30 * DAY, ro, sizeof(ro));
	issue(l, old, t0 - DAY, t0 + 30 * DAY, vo, sizeof(vo));
	ck_assert_int_eq(mca_castate_install(l, NULL, keyp,
	    mca_buf_str(&chain), "1092", sha, t0 - DAY, t0 + 365 * DAY, &id),
	    0);
	ck_assert_int_eq(mca_castate_active(l, &g), 0);
	ck_assert_msg(mca_ca_load_gen(cfg, &g, NULL, &gen, &d) == 0, "%s",
	    d.msg);
	ck_assert_str_eq(gen->subject, old->subject);
	issue(l, gen, t0 - DAY, t0 + 30 * DAY, rn, sizeof(rn));
	issue(l, gen, t0 - DAY, t0 + 30 * DAY, vn, sizeof(vn));
	revoke_it(l, ro, MCA_REVOKE_KEY_COMPROMISE, NULL);
	revoke_it(l, rn, MCA_REVOKE_SUPERSEDED, NULL);

	st = run(cfg, l, t0, NULL, 0, &s);
	ck_assert_uint_eq(st.written, 2);
	ck_assert_uint_eq(seen(&s, "config")->entries, 1);
	(void)snprintf(p, sizeof(p), "gen-%lld", id);
	ck_assert_uint_eq(seen(&s, p)->entries, 1);
	crl = crl_read("config.crl");
	ck_assert_int_eq(X509_CRL_verify(crl, X509_get0_pubkey(oldc)), 1);
	ck_assert_ptr_nonnull(entry(crl, ro));
	ck_assert_ptr_null(entry(crl, rn));
	X509_CRL_free(crl);
	(void)snprintf(p, sizeof(p), "gen-%lld.crl", id);
	crl = crl_read(p);
	ck_assert_int_eq(X509_CRL_verify(crl, X509_get0_pubkey(newc)), 1);
	ck_assert_ptr_nonnull(entry(crl, rn));
	ck_assert_ptr_null(entry(crl, ro));
	X509_CRL_free(crl);

	mca_buf_free(&chain);
	mca_buf_free(&root);
	mca_ca_gen_free(&g);
	mca_ca_free(gen);
	mca_ca_free(old);
	mca_ledger_close(l);
	mca_cfg_free(cfg);
	X509_free(oldc);
	X509_free(rootc);
	X509_free(newc);
	EVP_PKEY_free(rootk);
	EVP_PKEY_free(newk);
	(void)vo;
	(void)vn;
}
END_TEST

static Suite *
crl_suite(void)
{
	Suite	*s = suite_create("crl");
	TCase	*tc = tcase_create("token");

	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_fields);
	tcase_add_test(tc, t_rules);
	tcase_add_test(tc, t_numbers);
	tcase_add_test(tc, t_expired);
	tcase_add_test(tc, t_write_fails);
	tcase_add_test(tc, t_rollover);
	tcase_add_test(tc, t_same_name);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(crl_suite());
}
