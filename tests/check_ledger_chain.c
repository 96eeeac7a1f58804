/*
 * The ledger's tamper-evident chain (lib/ledger_chain.c): rows chained
 * as they are written, by the documented encoding; every kind of change
 * an auditor must catch, made with SQLite as an intruder would, caught
 * and named; --from and --expect-head; the chaining of an older ledger's
 * rows by the migration; workers writing while verify reads; and
 * microca-admin ledger verify|head end to end.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "buf.h"
#include "certinfo.h"
#include "err.h"
#include "ledger.h"
#include "ledger_chain.h"
#include "pem.h"
#include "revoke.h"
#include "testutil.h"

#define ISSUER	"CN=microca Test Issuing CA,O=microca"
#define NCERTS	64	/* certificates made once for the suite */
#define WORKERS	4
#define PER_WORKER 8

/* A real certificate and the row fields cgi/enroll.c would write. */
struct cert {
	char		 serial[MCA_HEX_MAX];
	char		 subject[MCA_NAME_MAX];
	char		 sha1[MCA_HEX_MAX];
	char		 sha256[MCA_HEX_MAX];
	char		 nb[MCA_TIME_MAX], na[MCA_TIME_MAX];
	struct mca_buf	 pem;
};

static struct cert	 certs[NCERTS];
static char		*tmpdir;
static char		 path[1024], issued[1024];

/*
 * NCERTS certificates, serial 0x1000 + 2i (one bit changed in the last
 * digit is no other's serial), CN=dev-i, one throwaway key.
 */
static void
make_certs(void)
{
	EVP_PKEY	*k;
	X509		*x;
	char		 cn[32];
	int		 i;

	ck_assert_ptr_nonnull(k = EVP_EC_gen("P-256"));
	for (i = 0; i < NCERTS; i++) {
		(void)snprintf(cn, sizeof(cn), "dev-%d", i);
		x = tu_selfsigned(cn, k);
		ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x),
		    0x1000 + 2 * i), 1);
		ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
		mca_buf_init(&certs[i].pem);
		ck_assert_int_eq(mca_cert_serial_hex(x, certs[i].serial,
		    sizeof(certs[i].serial)), 0);
		ck_assert_int_eq(mca_name_string(X509_get_subject_name(x),
		    certs[i].subject, sizeof(certs[i].subject)), 0);
		ck_assert_int_eq(mca_cert_thumbprint(x, EVP_sha1(),
		    certs[i].sha1, sizeof(certs[i].sha1)), 0);
		ck_assert_int_eq(mca_cert_thumbprint(x, EVP_sha256(),
		    certs[i].sha256, sizeof(certs[i].sha256)), 0);
		ck_assert_int_eq(mca_asn1time_iso(X509_get0_notBefore(x),
		    certs[i].nb, sizeof(certs[i].nb)), 0);
		ck_assert_int_eq(mca_asn1time_iso(X509_get0_notAfter(x),
		    certs[i].na, sizeof(certs[i].na)), 0);
		ck_assert_int_eq(mca_pem_write_cert(x, &certs[i].pem), 0);
		X509_free(x);
	}
	EVP_PKEY_free(k);
}

static void
setup(void)
{
	if (certs[0].pem.len == 0)
		make_certs();
	tmpdir = tu_mkdtemp("chain");
	(void)snprintf(path, sizeof(path), "%s/ledger.db", tmpdir);
	(void)snprintf(issued, sizeof(issued), "%s/IssuedCerts", tmpdir);
	ck_assert_int_eq(mkdir(issued, 0755), 0);
}

static void
teardown(void)
{
	tu_rmtree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

static struct mca_ledger *
ledger_open(void)
{
	return tu_ledger_open(path, 0);
}

/* The row of certs[i] as cgi/enroll.c fills it. */
static void
row_of(int i, struct mca_ledger_cert *c)
{
	memset(c, 0, sizeof(*c));
	c->serial = certs[i].serial;
	c->subject = certs[i].subject;
	c->issuer = ISSUER;
	c->not_before = certs[i].nb;
	c->not_after = certs[i].na;
	c->label = "device";
	c->operation = "enroll";
	c->remote_addr = "192.0.2.7";
	c->sha1 = certs[i].sha1;
	c->sha256 = certs[i].sha256;
	c->key_type = "EC-P-256";
	c->pem = mca_buf_str(&certs[i].pem);
	c->auth_method = "certificate";
	c->req_subject = "CN=bootstrap";
	c->req_serial = "01";
	c->req_issuer = ISSUER;
}

/* Inserts certs[i] and writes its IssuedCerts file, as cgi/enroll.c. */
static void
add(struct mca_ledger *l, int i)
{
	struct mca_ledger_cert	 c;
	char			 f[1200];
	int			 rc;

	row_of(i, &c);
	rc = mca_ledger_insert_cert(l, &c);
	ck_assert_msg(rc == 0, "insert %d: %s", i, mca_ledger_errmsg(l, rc));
	(void)snprintf(f, sizeof(f), "%s/%s.pem", issued, certs[i].serial);
	ck_assert_int_eq(tu_write(f, (const char *)certs[i].pem.data,
	    certs[i].pem.len), 0);
}

/* A fresh ledger with certs 0 .. n-1. */
static void
fill(int n)
{
	struct mca_ledger	*l = ledger_open();
	int			 i;

	for (i = 0; i < n; i++)
		add(l, i);
	mca_ledger_close(l);
}

/* Verifies the ledger at path into *r with o (NULL: from the start). */
static void
verify(const struct mca_chain_verify *o, struct mca_chain_report *r)
{
	struct mca_ledger	*l = ledger_open();
	struct mca_chain_verify	 def;
	int			 rc;

	memset(&def, 0, sizeof(def));
	def.issued_dir = issued;
	rc = mca_ledger_chain_verify(l, o != NULL ? o : &def, r);
	ck_assert_msg(rc == 0, "verify: %s", mca_ledger_errmsg(l, rc));
	mca_ledger_close(l);
}

static void
assert_ok(long long rows)
{
	struct mca_chain_report	 r;

	verify(NULL, &r);
	ck_assert_msg(!r.broken, "broken at %lld: %s id %lld: %s", r.bad_seq,
	    r.bad_table, r.bad_id, r.what);
	ck_assert_int_eq(r.rows, rows);
}

/* Verify must find the chain broken at seq, table, id, with what. */
static void
assert_broken(long long seq, const char *table, long long id,
    const char *what)
{
	struct mca_chain_report	 r;

	verify(NULL, &r);
	ck_assert_msg(r.broken, "not detected (%s id %lld: %s)", table, id,
	    what);
	ck_assert_msg(r.bad_seq == seq && strcmp(r.bad_table, table) == 0 &&
	    r.bad_id == id && strstr(r.what, what) != NULL,
	    "expected chain row %lld, %s id %lld, \"%s\"; got %lld, %s id "
	    "%lld, \"%s\"", seq, table, id, what, r.bad_seq, r.bad_table,
	    r.bad_id, r.what);
}

/* Runs sql on our own connection, CHECKs off: an intruder's edits. */
static void
tamper(const char *sql)
{
	sqlite3	*db = NULL;
	char	*err = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, "PRAGMA ignore_check_constraints = ON; "
	    "PRAGMA foreign_keys = OFF;", NULL, NULL, &err) == SQLITE_OK &&
	    sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK,
	    "%s: %s", sql, err != NULL ? err : "?");
	sqlite3_close(db);
}

static sqlite3_int64
db_int(const char *sql)
{
	return tu_db_int(path, sql);
}

/* ---- the encoding, recomputed from the documentation */

static void
F(EVP_MD_CTX *ctx, const void *p, size_t n, int null)
{
	unsigned char	 len[4] = { 0xff, 0xff, 0xff, 0xff };

	if (!null) {
		len[0] = (unsigned char)(n >> 24);
		len[1] = (unsigned char)(n >> 16);
		len[2] = (unsigned char)(n >> 8);
		len[3] = (unsigned char)n;
	}
	ck_assert_int_eq(EVP_DigestUpdate(ctx, len, 4), 1);
	if (!null && n > 0)
		ck_assert_int_eq(EVP_DigestUpdate(ctx, p, n), 1);
}

/*
 * The hash of certificates row id at chain row seq after prev, into out,
 * as 0014-chain-in-rows.sql documents it (not through lib/).
 */
static void
doc_hash(sqlite3 *db, long long id, long long seq, const unsigned char *prev,
    unsigned char *out)
{
	static const char *const cols[] = { "id", "serial", "subject", "san",
	    "issuer", "not_before", "not_after", "label", "operation",
	    "requester_subject", "requester_serial", "requester_issuer",
	    "remote_addr", "sha1", "sha256", "key_type", "key_origin", "pem",
	    "replaces_serial", "issued_at", "auth_method", "requester_user",
	    "passcode_id" };
	sqlite3_stmt	*st = NULL;
	EVP_MD_CTX	*ctx;
	char		 q[512], seqs[24];
	unsigned int	 n;
	size_t		 k;

	ck_assert_ptr_nonnull(ctx = EVP_MD_CTX_new());
	ck_assert_int_eq(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
	F(ctx, "microca-ledger-chain-1", 22, 0);
	(void)snprintf(seqs, sizeof(seqs), "%lld", seq);
	F(ctx, seqs, strlen(seqs), 0);
	F(ctx, "certificates", 12, 0);
	for (k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
		(void)snprintf(q, sizeof(q), "SELECT %s FROM certificates "
		    "WHERE id = %lld", cols[k], id);
		ck_assert_int_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL),
		    SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			F(ctx, NULL, 0, 1);
		else
			F(ctx, sqlite3_column_text(st, 0),
			    (size_t)sqlite3_column_bytes(st, 0), 0);
		sqlite3_finalize(st);
	}
	F(ctx, prev, 32, 0);
	ck_assert_int_eq(EVP_DigestFinal_ex(ctx, out, &n), 1);
	ck_assert_int_eq(n, 32);
	EVP_MD_CTX_free(ctx);
}

START_TEST(test_encoding)
{
	struct mca_chain_report	 r;
	struct mca_ledger	*l;
	sqlite3			*db = NULL;
	unsigned char		 prev[32], h[32];
	char			 hex[65], head[65];
	size_t			 i;
	long long		 seq;

	fill(3);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	memset(prev, 0, sizeof(prev));
	for (seq = 1; seq <= 3; seq++) {
		doc_hash(db, seq, seq, prev, h);
		memcpy(prev, h, 32);
	}
	sqlite3_close(db);
	for (i = 0; i < 32; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", h[i]);
	l = ledger_open();
	ck_assert_int_eq(mca_ledger_chain_head(l, head, sizeof(head), &seq), 0);
	mca_ledger_close(l);
	ck_assert_str_eq(head, hex);
	ck_assert_int_eq(seq, 3);
	verify(NULL, &r);
	ck_assert(!r.broken);
	ck_assert_str_eq(r.head, hex);
	ck_assert_int_eq(r.rows, 3);
	ck_assert_int_eq(r.files, 3);
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates WHERE "
	    "chain_seq = id"), 3);
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates AS a JOIN "
	    "certificates AS b ON b.chain_seq = a.chain_seq + 1 WHERE "
	    "b.chain_prev = a.chain_hash"), 2);
	ck_assert_int_eq(db_int("SELECT chain_prev = zeroblob(32) FROM "
	    "certificates WHERE chain_seq = 1"), 1);
}
END_TEST

/*
 * Each hashed column of row 2 in turn changed by one byte (a NULL made
 * "x"), CHECKs off as an intruder would: caught at row 2.
 */
static const char *const fields[] = {
	"serial", "subject", "san", "issuer", "not_before", "not_after",
	"label", "operation", "requester_subject", "requester_serial",
	"requester_issuer", "remote_addr", "sha1", "sha256", "key_type",
	"key_origin", "pem", "replaces_serial", "issued_at", "auth_method",
	"requester_user", "passcode_id",
};

START_TEST(test_field)
{
	char	 q[512];
	const char *f = fields[_i];

	fill(3);
	assert_ok(3);
	/* The last byte XOR 1: c + 1 - 2 * (c & 1). */
	(void)snprintf(q, sizeof(q), "UPDATE certificates SET %s = CASE WHEN "
	    "%s IS NULL THEN 'x' ELSE substr(%s, 1, length(%s) - 1) || "
	    "char(unicode(substr(%s, -1)) + 1 - 2 * (unicode(substr(%s, -1)) "
	    "& 1)) END WHERE id = 2", f, f, f, f, f, f);
	tamper(q);
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates"), 3);
	assert_broken(2, "certificates", 2, "does not match its chain_hash");
}
END_TEST

START_TEST(test_id)
{
	fill(3);
	/* Row 2 renumbered (its stamp with it): row 3 comes where 2 was. */
	tamper("UPDATE certificates SET id = 7 WHERE id = 2");
	assert_broken(3, "certificates", 3, "where 2 belongs");
}
END_TEST

START_TEST(test_delete)
{
	fill(4);
	tamper("DELETE FROM certificates WHERE id = 3");
	assert_broken(4, "certificates", 4, "where 3 belongs");
}
END_TEST

START_TEST(test_delete_last)
{
	fill(4);
	/* The last row gone: the head moved back, see expect. */
	tamper("DELETE FROM certificates WHERE id = 4");
	assert_ok(3);
}
END_TEST

/* A row put in after the last chained one, and one between. */
START_TEST(test_insert)
{
	struct mca_ledger	*l;

	fill(3);
	tamper("INSERT INTO certificates (serial, subject, issuer, "
	    "not_before, not_after, operation, sha1, sha256, key_origin, pem) "
	    "SELECT 'AB' || serial, subject, issuer, not_before, not_after, "
	    "operation, sha1, sha256, key_origin, pem FROM certificates "
	    "WHERE id = 1");
	assert_broken(4, "certificates", 4, "not on the chain");
	/* The next enrollment chains itself after row 3, not row 4. */
	l = ledger_open();
	add(l, 3);
	mca_ledger_close(l);
	ck_assert_int_eq(db_int("SELECT chain_seq FROM certificates WHERE "
	    "id = 5"), 4);
	assert_broken(4, "certificates", 4, "not on the chain");
}
END_TEST

/* Two rows' ids swapped: the order of issue rewritten. */
START_TEST(test_reorder)
{
	fill(3);
	tamper("UPDATE certificates SET id = 100 WHERE id = 1; "
	    "UPDATE certificates SET id = 1 WHERE id = 3; "
	    "UPDATE certificates SET id = 3 WHERE id = 100");
	assert_broken(3, "certificates", 1, "where 1 belongs");
}
END_TEST

START_TEST(test_swap_pem)
{
	fill(3);
	tamper("CREATE TEMP TABLE p AS SELECT id, pem FROM certificates; "
	    "UPDATE certificates SET pem = (SELECT pem FROM p WHERE "
	    "p.id = 5 - certificates.id) WHERE id IN (2, 3)");
	assert_broken(2, "certificates", 2, "does not match its chain_hash");
}
END_TEST

/* The chain's own columns (their guard dropped first). */
#define UNGUARD_CERT	"DROP TRIGGER certificates_chain_once; "

START_TEST(test_chain_rows)
{
	static const struct {
		const char	*sql;
		long long	 seq, id;
		const char	*what;
	} t[] = {
		{ "UPDATE certificates SET chain_hash = zeroblob(32) "
		    "WHERE id = 2", 2, 2, "does not match its chain_hash" },
		{ "UPDATE certificates SET chain_prev = zeroblob(32) "
		    "WHERE id = 3", 3, 3, "chain_prev is not the chain_hash" },
		{ "UPDATE certificates SET chain_seq = NULL, chain_prev = "
		    "NULL, chain_hash = NULL WHERE id = 2", 2, 2,
		    "not on the chain" },
		{ "UPDATE certificates SET chain_hash = x'00' WHERE id = 2", 2,
		    2, "chain_hash is not 32 bytes" },
		{ "UPDATE certificates SET chain_seq = 7 WHERE id = 2", 7, 2,
		    "where 2 belongs" },
		{ "UPDATE certificates SET chain_seq = 2 WHERE id = 3", 2, 3,
		    "comes again after 2" },
	};
	char	 q[300];

	fill(4);
	(void)snprintf(q, sizeof(q), UNGUARD_CERT "%s", t[_i].sql);
	tamper(q);
	assert_broken(t[_i].seq, "certificates", t[_i].id, t[_i].what);
}
END_TEST

static void	 revoke_row(int, int);

/*
 * What the triggers refuse without being dropped: a second stamp on a
 * chained row, any change to a revocation's row or stamp.
 */
static int
refused(const char *sql)
{
	sqlite3	*db = NULL;
	int	 src;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	src = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return src == SQLITE_CONSTRAINT;
}

START_TEST(test_guards)
{
	fill(2);
	ck_assert(refused("UPDATE certificates SET chain_hash = zeroblob(32) "
	    "WHERE id = 1"));
	ck_assert(refused("UPDATE certificates SET chain_seq = NULL "
	    "WHERE id = 2"));
	/* What does change after the insert still can. */
	ck_assert(!refused("UPDATE certificates SET azure_sync = 'pending' "
	    "WHERE id = 1"));
	revoke_row(0, MCA_REVOKE_CERTIFICATE_HOLD);
	ck_assert(refused("UPDATE revocations SET chain_hash = zeroblob(32) "
	    "WHERE id = 1"));
	ck_assert(refused("UPDATE revocations SET revoked_by = 'x' "
	    "WHERE id = 1"));
	ck_assert(refused("DELETE FROM revocations WHERE id = 1"));
	assert_ok(3);
}
END_TEST

/*
 * A row chained with a pem that is not its certificate (serial,
 * subject, SHA-1, SHA-256 each wrong in turn): the hash holds, the pem
 * check does not.
 */
START_TEST(test_pem_fields)
{
	static const char *const what[] = { "serial is", "subject is",
	    "SHA-1 thumbprint", "SHA-256 thumbprint", "not a PEM",
	    "not an X.509 certificate", "not an X.509 certificate" };
	struct mca_ledger	*l;
	struct mca_ledger_cert	 c;

	l = ledger_open();
	add(l, 0);
	row_of(1, &c);
	switch (_i) {
	case 0:
		c.pem = mca_buf_str(&certs[2].pem);
		c.subject = certs[2].subject;
		c.sha1 = certs[2].sha1;
		c.sha256 = certs[2].sha256;
		break;
	case 1:
		c.subject = "CN=dev-99";
		break;
	case 2:
		c.sha1 = certs[2].sha1;
		break;
	case 3:
		c.sha256 = certs[2].sha256;
		break;
	case 4:
		c.pem = "not a certificate";
		break;
	case 5:
		/* SEQUENCE { INTEGER 1 } */
		c.pem = "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n"
		    "-----END CERTIFICATE-----\n";
		break;
	default:
		/* A certificate's first 200 bytes: cut short. */
		c.pem = "-----BEGIN CERTIFICATE-----\n"
		    "MIIBfzCCASWgAwIBAgICEAIwCgYIKoZI"
		    "zj0EAwIwEDEOMAwGA1UEAwwFZGV2LTEw\n"
		    "HhcNMjYxMjA2MDgzMDAwWhcNMjYxMjA2"
		    "MDkzMDAwWjAQMQ4wDAYDVQQDDAVkZXYt\n"
		    "-----END CERTIFICATE-----\n";
		break;
	}
	ck_assert_int_eq(mca_ledger_insert_cert(l, &c), 0);
	mca_ledger_close(l);
	assert_broken(2, "certificates", 2, what[_i]);
}
END_TEST

START_TEST(test_issued_file)
{
	char	 f[1200];
	FILE	*fp;

	fill(3);
	(void)snprintf(f, sizeof(f), "%s/%s.pem", issued, certs[1].serial);
	/* One byte changed, the size kept. */
	ck_assert_ptr_nonnull(fp = fopen(f, "r+"));
	ck_assert_int_eq(fseek(fp, 40, SEEK_SET), 0);
	ck_assert_int_ne(fputc(certs[1].pem.data[40] ^ 1, fp), EOF);
	ck_assert_int_eq(fclose(fp), 0);
	assert_broken(2, "certificates", 2, "IssuedCerts file");
	/* A file not kept is no fault. */
	ck_assert_int_eq(unlink(f), 0);
	assert_ok(3);
}
END_TEST

START_TEST(test_from)
{
	struct mca_chain_verify	 o;
	struct mca_chain_report	 r;
	struct mca_ledger	*l;

	fill(5);
	tamper("UPDATE certificates SET label = 'x' WHERE id = 1");
	assert_broken(1, "certificates", 1, "does not match its chain_hash");
	memset(&o, 0, sizeof(o));
	o.from = 2;
	verify(&o, &r);
	ck_assert_msg(!r.broken, "%s", r.what);
	ck_assert_int_eq(r.rows, 4);
	ck_assert_int_eq(r.seq, 5);
	/* From 4: a change at 4 is caught, one at 3 is before it. */
	tamper("UPDATE certificates SET label = 'x' WHERE id = 4");
	o.from = 3;
	verify(&o, &r);
	ck_assert(r.broken && r.bad_seq == 4 && r.bad_id == 4);
	o.from = 5;
	verify(&o, &r);
	ck_assert(!r.broken && r.rows == 1);
	o.from = 9;
	l = ledger_open();
	ck_assert_int_eq(mca_ledger_chain_verify(l, &o, &r), MCA_ERR_NOTFOUND);
	mca_ledger_close(l);
}
END_TEST

START_TEST(test_expect_head)
{
	struct mca_chain_verify	 o;
	struct mca_chain_report	 r;
	struct mca_ledger	*l;
	char			 h3[65], h5[65], bad[65];
	long long		 seq;

	fill(3);
	l = ledger_open();
	ck_assert_int_eq(mca_ledger_chain_head(l, h3, sizeof(h3), &seq), 0);
	add(l, 3);
	add(l, 4);
	ck_assert_int_eq(mca_ledger_chain_head(l, h5, sizeof(h5), &seq), 0);
	mca_ledger_close(l);
	memset(&o, 0, sizeof(o));
	o.issued_dir = issued;
	/* Any case: an auditor copies it from anywhere. */
	for (seq = 0; h3[seq] != '\0'; seq++)
		bad[seq] = (char)(h3[seq] >= 'a' ? h3[seq] - 32 : h3[seq]);
	bad[seq] = '\0';
	o.expect_head = bad;
	verify(&o, &r);
	ck_assert_msg(!r.broken, "%s", r.what);
	ck_assert_str_eq(r.head, h5);
	o.expect_head = h5;
	verify(&o, &r);
	ck_assert(!r.broken);
	/* A head never seen. */
	memcpy(bad, h3, sizeof(bad));
	bad[0] = bad[0] == '0' ? '1' : '0';
	o.expect_head = bad;
	verify(&o, &r);
	ck_assert(r.broken);
	ck_assert_ptr_nonnull(strstr(r.what, "expected head"));
	/*
	 * The chain rewritten from row 2 on (hashes recomputed by an
	 * intruder: here, rows 2.. deleted and written again): h3 is gone.
	 */
	tamper("DELETE FROM certificates WHERE id >= 2");
	l = ledger_open();
	add(l, 1 + 10);
	add(l, 2);
	mca_ledger_close(l);
	o.expect_head = h3;
	verify(&o, &r);
	ck_assert(r.broken);
	ck_assert_ptr_nonnull(strstr(r.what, "expected head"));
	/* Not a hash. */
	o.expect_head = "abc";
	l = ledger_open();
	ck_assert_int_eq(mca_ledger_chain_verify(l, &o, &r), MCA_ERR_INVAL);
	mca_ledger_close(l);
}
END_TEST

/*
 * A ledger with every migration but those named (skip, NULL-ended)
 * applied, and certs 0 .. n-1 in certificates as an older microca wrote
 * them (no chain stamps). Left open in *db.
 */
static void
old_ledger(const char *const *skip, int n, sqlite3 **db)
{
	struct mca_ledger_cert	 c;
	sqlite3_stmt		*st = NULL;
	char			*err = NULL, q[64];
	size_t			 i, j;
	int			 v = 0, k, skipped;

	ck_assert_int_eq(sqlite3_open(path, db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(*db, "PRAGMA journal_mode = WAL", NULL,
	    NULL, NULL), SQLITE_OK);
	for (i = 0; i < mca_sql_nmigrations; i++) {
		for (skipped = 0, j = 0; skip[j] != NULL; j++)
			if (strcmp(mca_sql_migrations[i].name, skip[j]) == 0)
				skipped = 1;
		if (skipped)
			continue;
		ck_assert_msg(sqlite3_exec(*db, mca_sql_migrations[i].sql,
		    NULL, NULL, &err) == SQLITE_OK, "%s: %s",
		    mca_sql_migrations[i].name, err);
		v++;
	}
	(void)snprintf(q, sizeof(q), "PRAGMA user_version = %d", v);
	ck_assert_int_eq(sqlite3_exec(*db, q, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(*db, "INSERT INTO certificates "
	    "(serial, subject, issuer, not_before, not_after, label, "
	    "operation, sha1, sha256, key_origin, pem, auth_method) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, 'device', 'enroll', ?6, ?7, 'client', ?8, "
	    "'certificate')", -1, &st, NULL), SQLITE_OK);
	for (k = 0; k < n; k++) {
		row_of(k, &c);
		ck_assert_int_eq(sqlite3_bind_text(st, 1, c.serial, -1,
		    SQLITE_STATIC), SQLITE_OK);
		ck_assert_int_eq(sqlite3_bind_text(st, 2, c.subject, -1,
		    SQLITE_STATIC), SQLITE_OK);
		ck_assert_int_eq(sqlite3_bind_text(st, 3, c.issuer, -1,
		    SQLITE_STATIC), SQLITE_OK);
		ck_assert_int_eq(sqlite3_bind_text(st, 4, c.not_before, -1,
		    SQLITE_STATIC), SQLITE_OK);
		ck_assert_int_eq(sqlite3_bind_text(st, 5, c.not_after, -1,
		    SQLITE_STATIC), SQLITE_OK);
		ck_assert_int_eq(sqlite3_bind_text(st, 6, c.sha1, -1,
		    SQLITE_STATIC), SQLITE_OK);
		ck_assert_int_eq(sqlite3_bind_text(st, 7, c.sha256, -1,
		    SQLITE_STATIC), SQLITE_OK);
		ck_assert_int_eq(sqlite3_bind_text(st, 8, c.pem, -1,
		    SQLITE_STATIC), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
}

/*
 * A ledger made before the chain (0012 and 0014 not applied): opening it
 * chains its rows, in id order, once.
 */
START_TEST(test_migration)
{
	static const char *const skip[] = { "0012-ledger-chain.sql",
	    "0014-chain-in-rows.sql", NULL };
	struct mca_ledger	*l;
	sqlite3			*db = NULL;

	old_ledger(skip, 5, &db);
	/* Ids out of issue order on purpose: the chain follows ids. */
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE certificates SET id = 9 "
	    "WHERE id = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	l = ledger_open();
	mca_ledger_close(l);
	ck_assert_int_eq(db_int("SELECT count(*) FROM certificates WHERE "
	    "chain_seq IS NOT NULL"), 5);
	ck_assert_int_eq(db_int("SELECT id FROM certificates WHERE "
	    "chain_seq = 5"), 9);
	ck_assert_int_eq(db_int("SELECT count(*) FROM schema_migrations WHERE "
	    "name IN ('0012-ledger-chain.sql', '0014-chain-in-rows.sql')"), 2);
	ck_assert_int_eq(db_int("SELECT count(*) FROM sqlite_schema WHERE "
	    "name = 'ledger_chain'"), 0);
	assert_ok(5);
	/* Opened again: nothing chained twice; new rows go on the chain. */
	l = ledger_open();
	add(l, 5);
	mca_ledger_close(l);
	ck_assert_int_eq(db_int("SELECT chain_seq FROM certificates WHERE "
	    "id = 10"), 6);
	assert_ok(6);
}
END_TEST

/*
 * A ledger of the previous release: its chain in the table ledger_chain
 * of 0012, hashed there (here by the documented encoding), and a last
 * row an older worker never chained. 0014 moves each link into its row,
 * unchanged (the head an auditor wrote down still verifies), chains the
 * last row, and drops the table.
 */
START_TEST(test_migration_0012)
{
	static const char *const skip[] = { "0014-chain-in-rows.sql", NULL };
	struct mca_chain_verify	 o;
	struct mca_chain_report	 r;
	sqlite3			*db = NULL;
	sqlite3_stmt		*st = NULL;
	unsigned char		 prev[32], h[32];
	char			 head[65];
	long long		 id;
	size_t			 i;

	old_ledger(skip, 4, &db);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO ledger_chain "
	    "(seq, tbl, row_id, prev_hash, hash) VALUES (?1, 'certificates', "
	    "?1, ?2, ?3)", -1, &st, NULL), SQLITE_OK);
	memset(prev, 0, sizeof(prev));
	for (id = 1; id <= 3; id++) {
		doc_hash(db, id, id, prev, h);
		ck_assert_int_eq(sqlite3_bind_int64(st, 1, id), SQLITE_OK);
		ck_assert_int_eq(sqlite3_bind_blob(st, 2, prev, 32,
		    SQLITE_STATIC), SQLITE_OK);
		ck_assert_int_eq(sqlite3_bind_blob(st, 3, h, 32,
		    SQLITE_STATIC), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
		memcpy(prev, h, 32);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	for (i = 0; i < 32; i++)
		(void)snprintf(head + 2 * i, 3, "%02x", h[i]);
	memset(&o, 0, sizeof(o));
	o.expect_head = head;
	verify(&o, &r);
	ck_assert_msg(!r.broken, "%s", r.what);
	ck_assert_int_eq(r.rows, 4);
	ck_assert_int_eq(db_int("SELECT chain_seq FROM certificates WHERE "
	    "id = 4"), 4);
	ck_assert_int_eq(db_int("SELECT count(*) FROM sqlite_schema WHERE "
	    "name = 'ledger_chain'"), 0);
}
END_TEST

/*
 * WORKERS processes insert while this one verifies, again and again: each
 * walk sees a whole chain, and in the end the chain is linear: no two
 * rows share a predecessor.
 */
START_TEST(test_concurrent)
{
	struct mca_chain_report	 r;
	pid_t			 pid[WORKERS];
	int			 w, k, st, walks = 0;

	fill(1);
	for (w = 0; w < WORKERS; w++) {
		ck_assert_int_ne(pid[w] = fork(), -1);
		if (pid[w] == 0) {
			struct mca_ledger	*l = NULL;
			struct mca_ledger_cert	 c;
			struct mca_diag		 d;

			if (mca_ledger_open(path, 0, &l, &d) != 0)
				_exit(1);
			for (k = 0; k < PER_WORKER; k++) {
				row_of(1 + w * PER_WORKER + k, &c);
				if (mca_ledger_insert_cert(l, &c) != 0)
					_exit(2);
			}
			mca_ledger_close(l);
			_exit(0);
		}
	}
	/* Until every row is in (bounded: a row a walk at the least). */
	do {
		verify(NULL, &r);
		ck_assert_msg(!r.broken, "walk %d: chain row %lld: %s", walks,
		    r.bad_seq, r.what);
		walks++;
	} while (r.rows < 1 + WORKERS * PER_WORKER &&
	    walks < 10 * WORKERS * PER_WORKER);
	for (w = 0; w < WORKERS; w++) {
		ck_assert_int_eq(waitpid(pid[w], &st, 0), pid[w]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "worker %d: status %d", w, st);
	}
	assert_ok(1 + WORKERS * PER_WORKER);
	ck_assert_int_eq(db_int("SELECT count(*) FROM (SELECT chain_prev FROM "
	    "certificates GROUP BY chain_prev HAVING count(*) > 1)"), 0);
	ck_assert_int_eq(db_int("SELECT count(DISTINCT chain_seq) FROM "
	    "certificates"), 1 + WORKERS * PER_WORKER);
}
END_TEST

/* ---- revocations, on the same chain */

/* Revokes certs[i] (reason), or takes its hold back (reason < 0). */
static void
revoke_row(int i, int reason)
{
	struct mca_ledger	*l = ledger_open();
	struct mca_revoke_req	 q;
	struct mca_diag		 d;
	size_t			 n = 0;
	int			 rc;

	memset(&q, 0, sizeof(q));
	q.serial = certs[i].serial;
	q.reason = reason;
	q.by = "auditor";
	if (reason < 0)
		rc = mca_revoke_unrevoke(l, certs[i].serial, "auditor", &d);
	else
		rc = mca_revoke_cert(l, &q, NULL, NULL, &n, &d);
	ck_assert_msg(rc == 0, "revoke %d: %s", i, d.msg);
	mca_ledger_close(l);
}

/* certs 0-2, a hold on 1, 3, its release, a revocation of 0: 7 rows. */
static void
fill_revoked(void)
{
	struct mca_ledger	*l;

	fill(2);
	revoke_row(1, MCA_REVOKE_CERTIFICATE_HOLD);
	l = ledger_open();
	add(l, 2);
	add(l, 3);
	mca_ledger_close(l);
	revoke_row(1, -1);
	revoke_row(0, MCA_REVOKE_KEY_COMPROMISE);
}

START_TEST(test_revocations)
{
	fill_revoked();
	assert_ok(7);
	/* In the order written, across both tables. */
	ck_assert_int_eq(db_int("SELECT count(*) FROM revocations WHERE "
	    "chain_seq IS NOT NULL"), 3);
	ck_assert_int_eq(db_int("SELECT group_concat(t || id, ' ') = "
	    "'c1 c2 r1 c3 c4 r2 r3' FROM (SELECT 'c' AS t, id, chain_seq "
	    "FROM certificates UNION ALL SELECT 'r', id, chain_seq FROM "
	    "revocations ORDER BY chain_seq)"), 1);
}
END_TEST

/* An intruder drops the append-only triggers first. */
#define UNGUARD	"DROP TRIGGER revocations_no_update; " \
		"DROP TRIGGER revocations_no_delete; "

static const char *const rfields[] = {
	"serial", "action", "reason", "revoked_at", "invalidity_date",
	"revoked_by",
};

START_TEST(test_revocation_field)
{
	char		 q[600];
	const char	*f = rfields[_i];

	fill_revoked();
	(void)snprintf(q, sizeof(q), UNGUARD "UPDATE revocations SET %s = "
	    "CASE WHEN %s IS NULL THEN 'x' ELSE substr(%s, 1, length(%s) - 1) "
	    "|| char(unicode(substr(%s, -1)) + 1 - 2 * "
	    "(unicode(substr(%s, -1)) & 1)) END WHERE id = 2",
	    f, f, f, f, f, f);
	tamper(q);
	assert_broken(6, "revocations", 2, "does not match its chain_hash");
}
END_TEST

START_TEST(test_revocation_rows)
{
	fill_revoked();
	switch (_i) {
	case 0:
		tamper(UNGUARD "DELETE FROM revocations WHERE id = 1");
		assert_broken(4, "certificates", 3, "where 3 belongs");
		break;
	case 1:
		/* A revocation back-dated into the log, unchained. */
		tamper("INSERT INTO revocations (serial, action, reason, "
		    "revoked_at, revoked_by) SELECT serial, 'revoke', "
		    "'keyCompromise', '2020-01-01T00:00:00Z', 'x' FROM "
		    "certificates WHERE id = 4");
		assert_broken(8, "revocations", 4, "not on the chain");
		break;
	default:
		/* Two events swapped: ids exchanged. */
		tamper(UNGUARD "UPDATE revocations SET id = 100 WHERE id = 2; "
		    "UPDATE revocations SET id = 2 WHERE id = 3; "
		    "UPDATE revocations SET id = 3 WHERE id = 100");
		assert_broken(7, "revocations", 2, "where 6 belongs");
		break;
	}
}
END_TEST

/* ---- microca-admin ledger verify|head */

static void
write_config(void)
{
	char	 f[1200];

	(void)snprintf(f, sizeof(f), "%s/config.json", tmpdir);
	ck_assert_int_eq(tu_writef(f, "{\n"
	    " \"intermediate_cert_config\":\n"
	    "  { \"hash_function\": \"SHA256\" },\n"
	    " \"intermediate_cert_path\": \"%s/chain.pem\",\n"
	    " \"intermediate_private_key_path\": \"%s/key.pem\",\n"
	    " \"mtls_ca_cert\": \"%s/boot-ca.pem\",\n"
	    " \"ledger_db_path\": \"%s\",\n"
	    " \"issued_certs_dir\": \"%s\",\n"
	    " \"default_end_point_name\": \"device\",\n"
	    " \"end_certificate_config_1\": {\n"
	    "  \"end_point_name\": \"device\", \"validity_in_days\": 30,\n"
	    "  \"extended_key_usage_list\": [\"1.3.6.1.5.5.7.3.2\"],\n"
	    "  \"key_usage\": { \"digital_signature\": true } }\n"
	    "}\n", tmpdir, tmpdir, tmpdir, path, issued), 0);
	ck_assert_int_eq(chmod(f, 0600), 0);
}

/* microca-admin --config ... ledger args: exit status, stdout+stderr. */
static int
admin(struct mca_buf *out, const char *args)
{
	mca_buf_reset(out);
	return tu_sh(out, "'%s/microca-admin' --config '%s/config.json' "
	    "ledger %s 2>&1", tu_builddir(), tmpdir, args);
}

START_TEST(test_admin)
{
	struct mca_buf	 out;
	char		 head[65], args[200], line[300];
	long long	 seq;
	struct mca_ledger *l;

	mca_buf_init(&out);
	fill(3);
	write_config();
	l = ledger_open();
	ck_assert_int_eq(mca_ledger_chain_head(l, head, sizeof(head), &seq), 0);
	mca_ledger_close(l);
	ck_assert_int_eq(admin(&out, "head"), 0);
	(void)snprintf(line, sizeof(line), "%s\n", head);
	ck_assert_str_eq(mca_buf_str(&out), line);
	ck_assert_int_eq(admin(&out, "verify"), 0);
	(void)snprintf(line, sizeof(line), "3 rows verified, head %s", head);
	ck_assert_msg(strstr(mca_buf_str(&out), line) != NULL, "%s",
	    mca_buf_str(&out));
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out),
	    "3 IssuedCerts files compared"));
	(void)snprintf(args, sizeof(args), "verify --expect-head %s", head);
	ck_assert_int_eq(admin(&out, args), 0);
	ck_assert_int_eq(admin(&out, "verify --expect-head "
	    "00000000000000000000000000000000000000000000000000000000000000ff"),
	    1);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "expected head"));
	ck_assert_int_eq(admin(&out, "verify --expect-head nothex"), 1);
	ck_assert_int_eq(admin(&out, "verify --from 0"), 2);
	ck_assert_int_eq(admin(&out, "verify extra"), 2);
	ck_assert_int_eq(admin(&out, "head extra"), 2);
	tamper("UPDATE certificates SET subject = 'CN=evil' WHERE id = 2");
	ck_assert_int_eq(admin(&out, "verify"), 1);
	(void)snprintf(line, sizeof(line), "chain row 2: certificates id 2 "
	    "serial %s: the row does not match its chain_hash",
	    certs[1].serial);
	ck_assert_msg(strstr(mca_buf_str(&out), line) != NULL, "%s",
	    mca_buf_str(&out));
	ck_assert_int_eq(admin(&out, "verify --from 3"), 0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&out), "1 rows verified"));
	mca_buf_free(&out);
}
END_TEST

static Suite *
ledger_chain_suite(void)
{
	Suite	*s = suite_create("ledger_chain");
	TCase	*tc;

	tc = tcase_create("chain");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_encoding);
	tcase_add_loop_test(tc, test_field, 0,
	    (int)(sizeof(fields) / sizeof(fields[0])));
	tcase_add_test(tc, test_id);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_delete_last);
	tcase_add_test(tc, test_insert);
	tcase_add_test(tc, test_reorder);
	tcase_add_test(tc, test_swap_pem);
	tcase_add_loop_test(tc, test_chain_rows, 0, 6);
	tcase_add_test(tc, test_guards);
	tcase_add_loop_test(tc, test_pem_fields, 0, 7);
	tcase_add_test(tc, test_issued_file);
	tcase_add_test(tc, test_from);
	tcase_add_test(tc, test_expect_head);
	tcase_add_test(tc, test_migration);
	tcase_add_test(tc, test_migration_0012);
	tcase_add_test(tc, test_concurrent);
	tcase_add_test(tc, test_admin);
	tcase_add_test(tc, test_revocations);
	tcase_add_loop_test(tc, test_revocation_field, 0,
	    (int)(sizeof(rfields) / sizeof(rfields[0])));
	tcase_add_loop_test(tc, test_revocation_rows, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(ledger_chain_suite());
}
