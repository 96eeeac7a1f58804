/*
 * CRLs from the ledger (lib/crl.h, sql/migrations/0011-crl.sql), on the
 * ledger's one connection (lib/ledger_int.h).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "buf.h"
#include "ca.h"
#include "castate.h"
#include "certinfo.h"
#include "cfg.h"
#include "cli.h"
#include "crl.h"
#include "err.h"
#include "fileio.h"
#include "keystore.h"
#include "ledger.h"
#include "ledger_int.h"
#include "revoke.h"

#define KEYID_MAX	64		/* bytes of a key identifier */
#define GENS_MAX	16		/* retired generations taken */
#define CAS_MAX		(GENS_MAX + 2)
#define CERT_PEM_MAX	65536

static const char sql_state[] =
    "SELECT crl_number, this_update, next_update, last_event_id "
    "FROM crl_state WHERE issuer_key_id = ?1";
/* Events of this issuer name's certificates; revoke and unrevoke alike. */
static const char sql_events[] =
    "SELECT coalesce(max(r.id), 0) FROM revocations AS r "
    "JOIN certificates AS c ON c.serial = r.serial WHERE c.issuer = ?1";
static const char sql_entries[] =
    "SELECT v.serial, v.reason, v.revoked_at, v.invalidity_date, "
    "c.pem FROM revoked_now AS v JOIN certificates AS c "
    "ON c.serial = v.serial WHERE v.issuer = ?1 AND v.not_after >= ?2";
static const char sql_put[] =
    "INSERT INTO crl_state (issuer_key_id, issuer, name, crl_number, "
    "this_update, next_update, last_event_id, entries, sha256) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (issuer_key_id) DO UPDATE SET issuer = ?2, name = ?3, "
    "crl_number = ?4, this_update = ?5, next_update = ?6, "
    "last_event_id = ?7, entries = ?8, sha256 = ?9";

/* The CA's key identifier (its SKI, else RFC 5280 4.2.1.2 method 1). */
static int
ca_keyid(X509 *cert, unsigned char *id, size_t *len)
{
	const ASN1_OCTET_STRING	*ski;
	unsigned int		 mdlen = 0;

	if ((ski = X509_get0_subject_key_id(cert)) != NULL) {
		if (ASN1_STRING_length(ski) <= 0 ||
		    ASN1_STRING_length(ski) > KEYID_MAX)
			return MCA_ERR_CRYPTO;
		*len = (size_t)ASN1_STRING_length(ski);
		memcpy(id, ASN1_STRING_get0_data(ski), *len);
		return 0;
	}
	if (!X509_pubkey_digest(cert, EVP_sha1(), id, &mdlen))
		return MCA_ERR_CRYPTO;
	*len = mdlen;
	return 0;
}

static void
hex(const unsigned char *b, size_t n, char *out)
{
	static const char	 digits[] = "0123456789ABCDEF";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int
mca_crl_keyid(X509 *cert, char *out, size_t len)
{
	unsigned char	 id[EVP_MAX_MD_SIZE > KEYID_MAX ? EVP_MAX_MD_SIZE :
			    KEYID_MAX];
	size_t		 idlen = 0;

	if (len < 2 * KEYID_MAX + 1 || ca_keyid(cert, id, &idlen) != 0 ||
	    idlen > KEYID_MAX) {
		ERR_clear_error();
		return MCA_ERR_CRYPTO;
	}
	hex(id, idlen, out);
	return 0;
}

/* An ISO 8601 UTC time of the ledger as an ASN1_TIME (generalized: g). */
static ASN1_TIME *
iso_time(const char *s, int g)
{
	struct mca_diag	 d;
	time_t		 t;

	if (s == NULL || mca_cli_time(s, &t, &d) != 0)
		return NULL;
	return g ? ASN1_GENERALIZEDTIME_set(NULL, t) : ASN1_TIME_set(NULL, t);
}

/*
 * 1 if the certificate in pem may be listed on the CRL of the key id:
 * its authorityKeyIdentifier names that key, or it names none (the
 * issuer name matched already). 0 for another key of the same name.
 */
static int
same_key(const char *pem, const unsigned char *id, size_t idlen)
{
	const ASN1_OCTET_STRING	*aki;
	BIO			*b = NULL;
	X509			*x = NULL;
	size_t			 len;
	int			 ok = 1;

	if (pem == NULL || (len = strlen(pem)) == 0 || len > CERT_PEM_MAX)
		return 1;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		goto out;
	if ((aki = X509_get0_authority_key_id(x)) != NULL)
		ok = (size_t)ASN1_STRING_length(aki) == idlen &&
		    memcmp(ASN1_STRING_get0_data(aki), id, idlen) == 0;
out:
	ERR_clear_error();
	X509_free(x);
	BIO_free(b);
	return ok;
}

/* One CRL entry (RFC 5280 5.1.2.6, 5.3.1, 5.3.2) onto crl. */
static int
add_entry(X509_CRL *crl, const char *serial, const char *reason,
    const char *revoked_at, const char *invalidity)
{
	X509_REVOKED	*r = NULL;
	BIGNUM		*bn = NULL;
	ASN1_INTEGER	*sn = NULL;
	ASN1_TIME	*t = NULL, *inv = NULL;
	ASN1_ENUMERATED	*e = NULL;
	int		 code, rc = MCA_ERR_CRYPTO;

	code = reason != NULL ? mca_revoke_reason_code(reason) : -1;
	if (code < 0 || strlen(serial) > MCA_REVOKE_SERIAL_MAX ||
	    BN_hex2bn(&bn, serial) != (int)strlen(serial))
		goto out;
	if ((r = X509_REVOKED_new()) == NULL ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_REVOKED_set_serialNumber(r, sn) ||
	    (t = iso_time(revoked_at, 0)) == NULL ||
	    !X509_REVOKED_set_revocationDate(r, t))
		goto out;
	/* RFC 5280 5.3.1: reasonCode unspecified SHOULD be absent. */
	if (code != MCA_REVOKE_UNSPECIFIED) {
		if ((e = ASN1_ENUMERATED_new()) == NULL ||
		    !ASN1_ENUMERATED_set(e, code) ||
		    !X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0))
			goto out;
	}
	/* RFC 5280 5.3.2: invalidityDate is a GeneralizedTime. */
	if (invalidity != NULL) {
		if ((inv = iso_time(invalidity, 1)) == NULL ||
		    !X509_REVOKED_add1_ext_i2d(r, NID_invalidity_date, inv,
		    0, 0))
			goto out;
	}
	if (!X509_CRL_add0_revoked(crl, r))
		goto out;
	r = NULL;
	rc = 0;
out:
	X509_REVOKED_free(r);
	BN_free(bn);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	ASN1_TIME_free(inv);
	ASN1_ENUMERATED_free(e);
	return rc;
}

/* The revoked certificates of ca onto crl; *n counts them. */
static int
add_entries(struct mca_ledger *l, const struct mca_ca *ca, time_t keep_after,
    const unsigned char *id, size_t idlen, X509_CRL *crl, size_t *n,
    struct mca_diag *d)
{
	sqlite3_stmt	*st = NULL;
	char		 after[MCA_TIME_MAX];
	const char	*serial, *pem;
	int		 rc, src;

	*n = 0;
	if (mca_time_iso(keep_after, after, sizeof(after)) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "time out of range");
	if ((rc = mca_ledger_prepare(l, sql_entries, "read revoked "
	    "certificates", &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, ca->subject) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, after) != SQLITE_OK) {
		rc = mca_ledger_bind_failed(l, "read revoked certificates");
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		serial = (const char *)sqlite3_column_text(st, 0);
		pem = (const char *)sqlite3_column_text(st, 4);
		if (serial == NULL || !same_key(pem, id, idlen))
			continue;
		if ((rc = add_entry(crl, serial,
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    (const char *)sqlite3_column_text(st, 3))) != 0) {
			rc = mca_diag_crypto(d, rc, "serial %s: cannot make "
			    "its CRL entry", serial);
			goto out;
		}
		(*n)++;
	}
	if (src != SQLITE_DONE) {
		rc = mca_ledger_sqlfail(l, src, "read revoked certificates");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && d->msg[0] == '\0')
		(void)mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
	sqlite3_finalize(st);
	return rc;
}

int
mca_crl_build(struct mca_ledger *l, const struct mca_ca *ca, long long number,
    time_t this_update, time_t next_update, time_t keep_after,
    X509_CRL **out, size_t *n, struct mca_diag *d)
{
	X509_CRL	*crl = NULL;
	ASN1_TIME	*t = NULL;
	ASN1_INTEGER	*num = NULL;
	AUTHORITY_KEYID	*aki = NULL;
	unsigned char	 id[EVP_MAX_MD_SIZE > KEYID_MAX ? EVP_MAX_MD_SIZE :
			    KEYID_MAX];
	size_t		 idlen = 0;
	int		 rc = MCA_ERR_CRYPTO;

	*out = NULL;
	*n = 0;
	mca_diag_clear(d);
	ERR_clear_error();
	if ((rc = ca_keyid(ca->cert, id, &idlen)) != 0) {
		(void)mca_diag_crypto(d, rc, "the CA certificate's key "
		    "identifier");
		goto out;
	}
	rc = MCA_ERR_CRYPTO;
	/* RFC 5280 5.1.2.1: v2, as the CRL has extensions. */
	if ((crl = X509_CRL_new()) == NULL ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)))
		goto fail;
	/* RFC 5280 5.1.2.4, 5.1.2.5: UTCTime through 2049. */
	if ((t = ASN1_TIME_set(NULL, this_update)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, t))
		goto fail;
	ASN1_TIME_free(t);
	if ((t = ASN1_TIME_set(NULL, next_update)) == NULL ||
	    !X509_CRL_set1_nextUpdate(crl, t))
		goto fail;
	if ((rc = add_entries(l, ca, keep_after, id, idlen, crl, n, d)) != 0)
		goto out;
	rc = MCA_ERR_CRYPTO;
	/* RFC 5280 5.2.1: the keyIdentifier of the signing key. */
	if ((aki = AUTHORITY_KEYID_new()) == NULL ||
	    (aki->keyid = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(aki->keyid, id, (int)idlen) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0,
	    X509V3_ADD_REPLACE))
		goto fail;
	/* RFC 5280 5.2.3: cRLNumber, non-critical. */
	if ((num = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set_int64(num, number) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0,
	    X509V3_ADD_REPLACE))
		goto fail;
	*out = crl;
	crl = NULL;
	rc = 0;
	goto out;
fail:
	(void)mca_diag_crypto(d, rc, "cannot build the CRL");
out:
	ERR_clear_error();
	X509_CRL_free(crl);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(aki);
	return rc;
}

/*
 * The cRLNumber of the CRL in dir/name.crl when it is this CA's (issuer
 * name and key identifier), else 0.
 */
static long long
file_number(const char *dir, const char *name, X509 *cert,
    const unsigned char *id, size_t idlen)
{
	struct mca_buf		 b = MCA_BUF_INIT;
	X509_CRL		*crl = NULL;
	AUTHORITY_KEYID		*aki = NULL;
	ASN1_INTEGER		*num = NULL;
	const unsigned char	*p;
	char			 path[4096];
	int64_t			 v = 0;

	if (snprintf(path, sizeof(path), "%s/%s.crl", dir, name) >=
	    (int)sizeof(path) ||
	    mca_file_read(path, MCA_CRL_FILE_MAX, &b, NULL) != 0 ||
	    b.len == 0 || b.len > (size_t)INT32_MAX)
		goto out;
	p = (const unsigned char *)b.data;
	if ((crl = d2i_X509_CRL(NULL, &p, (long)b.len)) == NULL ||
	    X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(cert)) != 0 ||
	    (aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier,
	    NULL, NULL)) == NULL || aki->keyid == NULL ||
	    (size_t)ASN1_STRING_length(aki->keyid) != idlen ||
	    memcmp(ASN1_STRING_get0_data(aki->keyid), id, idlen) != 0 ||
	    (num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL,
	    NULL)) == NULL || !ASN1_INTEGER_get_int64(&v, num) || v < 0)
		v = 0;
out:
	ERR_clear_error();
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(aki);
	X509_CRL_free(crl);
	mca_buf_free(&b);
	return (long long)v;
}

/* DER and PEM of crl as name.crl and name.crl.pem in dir. */
static int
write_files(const char *dir, const char *name, const unsigned char *der,
    size_t derlen, const char *pem, size_t pemlen, struct mca_diag *d)
{
	char	 f[2 * KEYID_MAX + 16];

	(void)snprintf(f, sizeof(f), "%s.crl", name);
	if (mca_file_write_atomic(dir, f, der, derlen, 0644) != 0)
		return mca_diag(d, MCA_ERR_IO, "crl_dir: %s/%s: %s", dir, f,
		    strerror(errno));
	(void)snprintf(f, sizeof(f), "%s.crl.pem", name);
	if (mca_file_write_atomic(dir, f, pem, pemlen, 0644) != 0)
		return mca_diag(d, MCA_ERR_IO, "crl_dir: %s/%s: %s", dir, f,
		    strerror(errno));
	return 0;
}

/* The last CRL of a key, as crl_state has it. */
struct crl_last {
	int		 found;
	long long	 number, this_update, next_update, event_id;
};

static int
read_state(struct mca_ledger *l, const char *keyid, const char *issuer,
    struct crl_last *last, long long *events)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, src;

	memset(last, 0, sizeof(*last));
	*events = 0;
	if ((rc = mca_ledger_prepare(l, sql_state, "read CRL state",
	    &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, keyid) != SQLITE_OK) {
		rc = mca_ledger_bind_failed(l, "read CRL state");
		goto out;
	}
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		last->found = 1;
		last->number = sqlite3_column_int64(st, 0);
		last->this_update = sqlite3_column_int64(st, 1);
		last->next_update = sqlite3_column_int64(st, 2);
		last->event_id = sqlite3_column_int64(st, 3);
	} else if (src != SQLITE_DONE) {
		rc = mca_ledger_sqlfail(l, src, "read CRL state");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = mca_ledger_prepare(l, sql_events, "read revocation events",
	    &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, issuer) != SQLITE_OK) {
		rc = mca_ledger_bind_failed(l, "read revocation events");
		goto out;
	}
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		rc = mca_ledger_sqlfail(l, src, "read revocation events");
		goto out;
	}
	*events = sqlite3_column_int64(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int
put_state(struct mca_ledger *l, const char *keyid, const char *issuer,
    const char *name, long long number, time_t tu, time_t nu,
    long long events, size_t entries, const char *sha256)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if ((rc = mca_ledger_prepare(l, sql_put, "record CRL", &st)) != 0)
		return rc;
	if (mca_ledger_bind(st, 1, keyid) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, issuer) != SQLITE_OK ||
	    mca_ledger_bind(st, 3, name) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, number) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, (sqlite3_int64)tu) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)nu) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, events) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 8, (sqlite3_int64)entries) != SQLITE_OK ||
	    mca_ledger_bind(st, 9, sha256) != SQLITE_OK)
		rc = mca_ledger_bind_failed(l, "record CRL");
	else
		rc = mca_ledger_stmt_done(l, "record CRL", st);
	sqlite3_finalize(st);
	return rc;
}

/* Why a new CRL is due, or NULL when the last one is still good. */
static const char *
due(const struct mca_crl_opts *o, const struct crl_last *last,
    long long events, const char *name, char *buf, size_t len)
{
	struct stat	 sb;
	char		 path[4096];

	if (o->force)
		return "forced";
	if (!last->found)
		return "the first CRL of this CA";
	(void)snprintf(path, sizeof(path), "%s/%s.crl", o->dir, name);
	if (stat(path, &sb) != 0)
		return "its file is missing";
	if (events > last->event_id) {
		(void)snprintf(buf, len, "a revocation event since CRL %lld",
		    last->number);
		return buf;
	}
	if ((long long)o->now < last->this_update)
		return "the clock is before the last CRL's thisUpdate";
	/* Half the span: relying parties fetch before nextUpdate. */
	if ((long long)o->now - last->this_update >=
	    (last->next_update - last->this_update) / 2)
		return "half of the last CRL's validity has passed";
	return NULL;
}

int
mca_crl_issue(struct mca_ledger *l, const struct mca_crl_ca *c,
    const struct mca_crl_opts *o, struct mca_crl_event *ev,
    struct mca_diag *d)
{
	sqlite3			*db = mca_ledger_sqlite(l);
	const struct mca_ca	*ca = c->ca;
	struct crl_last		 last;
	X509_CRL		*crl = NULL;
	BIO			*bio = NULL;
	unsigned char		 id[EVP_MAX_MD_SIZE > KEYID_MAX ?
				    EVP_MAX_MD_SIZE : KEYID_MAX];
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned char		*der = NULL;
	char			 keyid[2 * KEYID_MAX + 1], sha[65];
	char			 buf[128];
	const char		*why;
	char			*pem = NULL;
	size_t			 idlen = 0, n = 0;
	unsigned int		 mdlen = 0;
	long long		 events = 0, number, onfile;
	long			 pemlen;
	time_t			 keep_after;
	int			 derlen, rc = MCA_ERR_INTERNAL, in_tx = 0;

	memset(ev, 0, sizeof(*ev));
	mca_diag_clear(d);
	(void)snprintf(ev->name, sizeof(ev->name), "%s", c->name);
	ev->issuer = ca->subject;
	ev->active = c->active;
	ev->outcome = MCA_CRL_FAILED;
	if (db == NULL || o->dir == NULL || o->hours < 1 ||
	    strlen(c->name) > MCA_CRL_NAME_MAX ||
	    strchr(c->name, '/') != NULL) {
		rc = mca_diag(d, MCA_ERR_INVAL, "CRL %s: bad arguments",
		    c->name);
		goto out;
	}
	if (ca_keyid(ca->cert, id, &idlen) != 0 || idlen > KEYID_MAX) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "CRL %s: the CA "
		    "certificate's key identifier", c->name);
		goto out;
	}
	hex(id, idlen, keyid);
	/*
	 * The write lock first: the number, the entries and the row are
	 * one consistent state (a revocation commits before or after).
	 */
	if ((rc = sqlite3_exec(db, o->dry_run ? "BEGIN" : "BEGIN IMMEDIATE",
	    NULL, NULL, NULL)) != SQLITE_OK) {
		rc = mca_ledger_sqlfail(l, rc, "begin");
		goto dberr;
	}
	in_tx = 1;
	if ((rc = read_state(l, keyid, ca->subject, &last, &events)) != 0)
		goto dberr;
	ev->number = last.number;
	ev->this_update = (time_t)last.this_update;
	ev->next_update = (time_t)last.next_update;
	if ((why = due(o, &last, events, c->name, buf, sizeof(buf))) == NULL) {
		ev->outcome = MCA_CRL_CURRENT;
		(void)snprintf(ev->why, sizeof(ev->why), "CRL %lld is "
		    "current", last.number);
		rc = 0;
		goto out;
	}
	(void)snprintf(ev->why, sizeof(ev->why), "%s", why);
	/* RFC 5280 5.2.3: above every number this CA used, on file too. */
	onfile = file_number(o->dir, c->name, ca->cert, id, idlen);
	number = (last.number > onfile ? last.number : onfile) + 1;
	/*
	 * RFC 5280 5.1.2.6: an entry stays until it appeared on one CRL
	 * issued after the certificate expired, i.e. on the last one when
	 * that came after its notAfter.
	 */
	keep_after = last.found && last.this_update <= (long long)o->now ?
	    (time_t)last.this_update : o->now;
	ev->number = number;
	ev->this_update = o->now;
	ev->next_update = o->now + (time_t)o->hours * 3600;
	if ((rc = mca_crl_build(l, ca, number, ev->this_update,
	    ev->next_update, keep_after, &crl, &n, d)) != 0)
		goto out;
	ev->entries = n;
	if (o->dry_run) {
		ev->outcome = MCA_CRL_WOULD;
		rc = 0;
		goto out;
	}
	if ((rc = mca_signer_sign_crl(ca->signer, crl, ca->md)) != 0) {
		rc = mca_diag(d, rc, "signing with the CA key: %s",
		    mca_signer_errmsg(ca->signer, rc));
		goto out;
	}
	rc = MCA_ERR_CRYPTO;
	if ((derlen = i2d_X509_CRL(crl, &der)) <= 0 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509_CRL(bio, crl) ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0 ||
	    !EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL)) {
		rc = mca_diag_crypto(d, rc, "cannot encode the CRL");
		goto out;
	}
	hex(md, mdlen, sha);
	if (mkdir(o->dir, 0755) != 0 && errno != EEXIST) {
		rc = mca_diag(d, MCA_ERR_IO, "crl_dir: %s: %s", o->dir,
		    strerror(errno));
		goto out;
	}
	if ((rc = write_files(o->dir, c->name, der, (size_t)derlen, pem,
	    (size_t)pemlen, d)) != 0 ||
	    (rc = write_files(o->dir, keyid, der, (size_t)derlen, pem,
	    (size_t)pemlen, d)) != 0 ||
	    (c->active && (rc = write_files(o->dir, MCA_CRL_ACTIVE, der,
	    (size_t)derlen, pem, (size_t)pemlen, d)) != 0))
		goto out;
	if ((rc = put_state(l, keyid, ca->subject, c->name, number,
	    ev->this_update, ev->next_update, events, n, sha)) != 0)
		goto dberr;
	if ((rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
		rc = mca_ledger_sqlfail(l, rc, "commit");
		goto dberr;
	}
	in_tx = 0;
	ev->outcome = MCA_CRL_WRITTEN;
	rc = 0;
	goto out;
dberr:
	(void)mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
out:
	if (in_tx) {
		if (rc == 0)
			(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		else
			mca_ledger_rollback(l);
	}
	if (rc != 0) {
		ev->outcome = MCA_CRL_FAILED;
		(void)snprintf(ev->why, sizeof(ev->why), "%s", d->msg);
	}
	ERR_clear_error();
	OPENSSL_free(der);
	BIO_free(bio);
	X509_CRL_free(crl);
	return rc;
}

/* ---- a run over every CA */

struct crl_set {
	struct mca_crl_ca	 c[CAS_MAX];
	char			 names[CAS_MAX][MCA_CRL_NAME_MAX + 1];
	unsigned char		 ids[CAS_MAX][KEYID_MAX];
	size_t			 idlens[CAS_MAX];
	size_t			 n;
};

/* Adds ca (taken) unless a CA with its key is in s already. */
static void
set_add(struct crl_set *s, struct mca_ca *ca, const char *name, int active)
{
	unsigned char	 id[EVP_MAX_MD_SIZE > KEYID_MAX ? EVP_MAX_MD_SIZE :
			    KEYID_MAX];
	size_t		 i, idlen = 0;

	if (s->n == CAS_MAX || ca_keyid(ca->cert, id, &idlen) != 0 ||
	    idlen > KEYID_MAX) {
		mca_ca_free(ca);
		return;
	}
	for (i = 0; i < s->n; i++)
		if (s->idlens[i] == idlen &&
		    memcmp(s->ids[i], id, idlen) == 0) {
			mca_ca_free(ca);
			return;
		}
	(void)snprintf(s->names[s->n], sizeof(s->names[s->n]), "%s", name);
	memcpy(s->ids[s->n], id, idlen);
	s->idlens[s->n] = idlen;
	s->c[s->n].ca = ca;
	s->c[s->n].name = s->names[s->n];
	s->c[s->n].active = active;
	s->n++;
}

/* 1 if c is among o's names to force. */
static int
forced(const struct mca_crl_opts *o, const struct mca_crl_ca *c)
{
	size_t	 i;

	for (i = 0; i < o->nforce; i++)
		if (strcmp(o->force_names[i], "all") == 0 ||
		    strcmp(o->force_names[i], c->name) == 0 ||
		    (c->active && strcmp(o->force_names[i],
		    MCA_CRL_ACTIVE) == 0))
			return 1;
	return 0;
}

static void
skipped(void (*report)(void *, const struct mca_crl_event *), void *arg,
    struct mca_crl_stats *st, const char *name, const char *why)
{
	struct mca_crl_event	 ev;

	st->skipped++;
	if (report == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.outcome = MCA_CRL_SKIPPED;
	(void)snprintf(ev.name, sizeof(ev.name), "%s", name);
	ev.issuer = "";
	(void)snprintf(ev.why, sizeof(ev.why), "%s", why);
	report(arg, &ev);
}

int
mca_crl_run(const struct mca_cfg *cfg, struct mca_ledger *l,
    const struct mca_crl_opts *o,
    void (*report)(void *, const struct mca_crl_event *), void *arg,
    struct mca_crl_stats *st, struct mca_diag *d)
{
	struct crl_set		 set;
	struct mca_ca_gen	 active, gens[GENS_MAX];
	struct mca_crl_event	 ev;
	struct mca_crl_opts	 one;
	struct mca_token	*tok = NULL;
	struct mca_ca		*base = NULL, *ca = NULL;
	struct mca_diag		 why, sub;
	char			 name[MCA_CRL_NAME_MAX + 1];
	long long		 id = 0;
	size_t			 i, ngens = 0;
	int			 rc, base_rc;

	memset(st, 0, sizeof(*st));
	memset(&set, 0, sizeof(set));
	memset(&active, 0, sizeof(active));
	memset(gens, 0, sizeof(gens));
	mca_diag_clear(&why);
	if ((rc = mca_castate_active_id(l, &id)) != 0) {
		rc = mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
		goto out;
	}
	/* config.json's intermediate: required while no generation is. */
	if ((base_rc = mca_ca_load(cfg, &base, &why)) != 0 && id == 0) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s", why.msg);
		goto out;
	}
	if (base != NULL)
		tok = mca_signer_token(base->signer);
	if (tok == NULL && id != 0 && base_rc != MCA_ERR_PKCS11 &&
	    cfg->pkcs11_library != NULL && cfg->pkcs11_library_pin != NULL &&
	    mca_token_open(cfg->pkcs11_library, cfg->pkcs11_library_pin, &tok,
	    &sub) != 0)
		skipped(report, arg, st, "token", sub.msg);
	if (id != 0) {
		if ((rc = mca_castate_active(l, &active)) != 0) {
			rc = mca_diag(d, rc, "ledger: %s",
			    mca_ledger_errmsg(l, rc));
			goto out;
		}
		(void)snprintf(name, sizeof(name), "gen-%lld", active.id);
		if (mca_ca_load_gen(cfg, &active, tok, &ca, &sub) != 0) {
			st->failed++;
			if (report != NULL) {
				memset(&ev, 0, sizeof(ev));
				ev.outcome = MCA_CRL_FAILED;
				(void)snprintf(ev.name, sizeof(ev.name), "%s",
				    name);
				ev.issuer = "";
				ev.active = 1;
				(void)snprintf(ev.why, sizeof(ev.why), "%s",
				    sub.msg);
				report(arg, &ev);
			}
		} else
			set_add(&set, ca, name, 1);
		ca = NULL;
	} else {
		set_add(&set, base, "config", 1);
		base = NULL;
	}
	if ((rc = mca_castate_retired(l, o->now, gens, GENS_MAX,
	    &ngens)) != 0) {
		rc = mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
		goto out;
	}
	for (i = 0; i < ngens; i++) {
		(void)snprintf(name, sizeof(name), "gen-%lld", gens[i].id);
		if (mca_ca_load_gen(cfg, &gens[i], tok, &ca, &sub) != 0) {
			st->failed++;
			if (report != NULL) {
				memset(&ev, 0, sizeof(ev));
				ev.outcome = MCA_CRL_FAILED;
				(void)snprintf(ev.name, sizeof(ev.name), "%s",
				    name);
				ev.issuer = "";
				(void)snprintf(ev.why, sizeof(ev.why), "%s",
				    sub.msg);
				report(arg, &ev);
			}
			continue;
		}
		set_add(&set, ca, name, 0);
		ca = NULL;
	}
	/* Replaced by a generation; its certificates may still be valid. */
	if (base != NULL) {
		set_add(&set, base, "config", 0);
		base = NULL;
	} else if (id != 0 && base_rc != 0)
		skipped(report, arg, st, "config", why.msg);
	for (i = 0; i < set.n; i++) {
		one = *o;
		one.force = o->force || forced(o, &set.c[i]);
		rc = mca_crl_issue(l, &set.c[i], &one, &ev, &sub);
		switch (ev.outcome) {
		case MCA_CRL_WRITTEN:
			st->written++;
			break;
		case MCA_CRL_CURRENT:
			st->current++;
			break;
		case MCA_CRL_WOULD:
			st->would++;
			break;
		default:
			st->failed++;
			break;
		}
		if (report != NULL)
			report(arg, &ev);
	}
	if (set.n == 0 && st->failed > 0) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "no CA could be loaded");
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < set.n; i++)
		mca_ca_free(set.c[i].ca);
	for (i = 0; i < GENS_MAX; i++)
		mca_ca_gen_free(&gens[i]);
	mca_ca_gen_free(&active);
	mca_ca_free(ca);
	mca_ca_free(base);
	mca_token_free(tok);
	return rc;
}
