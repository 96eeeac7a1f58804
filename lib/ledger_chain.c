/*
 * The ledger's tamper-evident chain: the hash of a row (the encoding is
 * documented in sql/migrations/0014-chain-in-rows.sql and
 * microca-admin(8), and below), the chaining of a ledger's rows when the
 * migration comes, and the verifier.
 *
 * The encoding, for an auditor recomputing it with another tool:
 *
 *   hash(seq) = SHA-256(F("microca-ledger-chain-1") || F(seq) || F(tbl) ||
 *                       F(col 1) || ... || F(col n) || F(chain_prev))
 *
 * F(x) = x's length in bytes as a 4-byte big-endian number, then x; F of
 * SQL NULL = FF FF FF FF alone. seq in decimal ASCII; tbl the table's
 * name; the columns (MCA_CHAIN_*_COLS in lib/ledger_int.h, the id first)
 * as the text SQLite gives for them: text as stored (UTF-8), integers in
 * decimal. chain_prev: the 32 bytes of hash(seq - 1), 32 zero bytes for
 * seq 1. Length prefixes keep "ab","c" and "a","bc" apart, and NULL
 * apart from "". Each row keeps its chain_seq, chain_prev and
 * chain_hash in its own columns.
 *
 * The verifier streams: one statement over each table by id, side by
 * side, taking the row of the lower chain_seq each time (each table's
 * rows are chained in id order, since ids only grow), so a row is never
 * looked up; one digest context, one DER buffer and one file buffer for
 * all rows.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "buf.h"
#include "certinfo.h"
#include "err.h"
#include "ledger.h"
#include "ledger_chain.h"
#include "ledger_int.h"
#include "pem.h"

#define CHAIN_TAG	"microca-ledger-chain-1"
#define CHAIN_NULL	0xffffffffu

/* The chained tables; index 0 must be certificates (the pem checks). */
static const struct {
	const char	*name;
	const char	*cols;
	int		 ncols;
} mca_chain_tables[] = {
	{ "certificates", MCA_CHAIN_CERT_COLS, MCA_CHAIN_CERT_NCOLS },
	{ "revocations", MCA_CHAIN_REV_COLS, MCA_CHAIN_REV_NCOLS },
};
#define CHAIN_NTABLES \
	(sizeof(mca_chain_tables) / sizeof(mca_chain_tables[0]))

/* The certificates columns the pem is checked against (MCA_CHAIN_CERT_COLS). */
enum {
	COL_ID = 0,
	COL_SERIAL = 1,
	COL_SUBJECT = 2,
	COL_SHA1 = 13,
	COL_SHA256 = 14,
	COL_PEM = 17
};

/* F(x): the length, 4 bytes big-endian (CHAIN_NULL: NULL), then x. */
static int
chain_field(EVP_MD_CTX *ctx, const void *p, size_t n, int null)
{
	unsigned char	 len[4];
	uint32_t	 v = null ? CHAIN_NULL : (uint32_t)n;

	if (!null && n >= CHAIN_NULL)
		return MCA_ERR_TOOBIG;
	len[0] = (unsigned char)(v >> 24);
	len[1] = (unsigned char)(v >> 16);
	len[2] = (unsigned char)(v >> 8);
	len[3] = (unsigned char)v;
	if (!EVP_DigestUpdate(ctx, len, sizeof(len)) ||
	    (!null && n > 0 && !EVP_DigestUpdate(ctx, p, n)))
		return MCA_ERR_CRYPTO;
	return 0;
}

int
mca_chain_hash(EVP_MD_CTX *ctx, const EVP_MD *md, long long seq,
    const char *tbl, sqlite3_stmt *st, int ncols, const unsigned char *prev,
    unsigned char *out)
{
	const unsigned char	*t;
	char			 num[24];
	unsigned int		 n = 0;
	int			 i, rc;

	if (!EVP_DigestInit_ex(ctx, md, NULL))
		return MCA_ERR_CRYPTO;
	(void)snprintf(num, sizeof(num), "%lld", seq);
	if ((rc = chain_field(ctx, CHAIN_TAG, strlen(CHAIN_TAG), 0)) != 0 ||
	    (rc = chain_field(ctx, num, strlen(num), 0)) != 0 ||
	    (rc = chain_field(ctx, tbl, strlen(tbl), 0)) != 0)
		return rc;
	for (i = 0; i < ncols; i++) {
		if (sqlite3_column_type(st, i) == SQLITE_NULL) {
			rc = chain_field(ctx, NULL, 0, 1);
		} else {
			/* NULL here for a value: SQLite ran out of memory. */
			if ((t = sqlite3_column_text(st, i)) == NULL)
				return MCA_ERR_NOMEM;
			rc = chain_field(ctx, t,
			    (size_t)sqlite3_column_bytes(st, i), 0);
		}
		if (rc != 0)
			return rc;
	}
	if ((rc = chain_field(ctx, prev, MCA_CHAIN_HASH_LEN, 0)) != 0)
		return rc;
	if (!EVP_DigestFinal_ex(ctx, out, &n) || n != MCA_CHAIN_HASH_LEN)
		return MCA_ERR_CRYPTO;
	return 0;
}

int
mca_chain_read_head(sqlite3_stmt *st, sqlite3_int64 *seq, unsigned char *hash)
{
	const void	*p;
	sqlite3_int64	 s;
	int		 src;

	*seq = 0;
	memset(hash, 0, MCA_CHAIN_HASH_LEN);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((s = sqlite3_column_int64(st, 0)) <= *seq)
			continue;
		*seq = s;
		p = sqlite3_column_blob(st, 1);
		if (p == NULL || sqlite3_column_bytes(st, 1) !=
		    MCA_CHAIN_HASH_LEN) {
			src = SQLITE_MISMATCH;
			break;
		}
		memcpy(hash, p, MCA_CHAIN_HASH_LEN);
	}
	sqlite3_reset(st);
	return src;
}

/* ---- the rows not chained yet */

/* Rows hashed before their stamps are written (no update mid-scan). */
#define CHAIN_BATCH	256

struct chain_stamp {
	sqlite3_int64	 id;
	sqlite3_int64	 seq;
	unsigned char	 prev[MCA_CHAIN_HASH_LEN];
	unsigned char	 hash[MCA_CHAIN_HASH_LEN];
};

/*
 * Stamps table t's rows after id *after, from seq *seq and hash prev
 * on, moving all three along. 0, or an SQLite code with *why set.
 */
static int
chain_fill_table(sqlite3 *db, size_t t, EVP_MD_CTX *ctx, const EVP_MD *md,
    struct chain_stamp *b, sqlite3_int64 *seq, unsigned char *prev,
    const char **why)
{
	sqlite3_stmt	*rows = NULL, *upd = NULL;
	char		 sql[768];
	sqlite3_int64	 after = 0;
	size_t		 n, i;
	int		 src;

	*why = NULL;
	(void)snprintf(sql, sizeof(sql), "SELECT coalesce((SELECT id FROM %s "
	    "WHERE chain_seq IS NOT NULL ORDER BY id DESC LIMIT 1), 0)",
	    mca_chain_tables[t].name);
	if ((src = sqlite3_prepare_v2(db, sql, -1, &rows, NULL)) != SQLITE_OK)
		goto out;
	if ((src = sqlite3_step(rows)) != SQLITE_ROW)
		goto out;
	after = sqlite3_column_int64(rows, 0);
	sqlite3_finalize(rows);
	rows = NULL;
	(void)snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE id > ?1 "
	    "ORDER BY id LIMIT %d", mca_chain_tables[t].cols,
	    mca_chain_tables[t].name, CHAIN_BATCH);
	if ((src = sqlite3_prepare_v2(db, sql, -1, &rows, NULL)) != SQLITE_OK)
		goto out;
	(void)snprintf(sql, sizeof(sql), "UPDATE %s SET chain_seq = ?1, "
	    "chain_prev = ?2, chain_hash = ?3 WHERE id = ?4",
	    mca_chain_tables[t].name);
	if ((src = sqlite3_prepare_v2(db, sql, -1, &upd, NULL)) != SQLITE_OK)
		goto out;
	do {
		if ((src = sqlite3_bind_int64(rows, 1, after)) != SQLITE_OK)
			goto out;
		for (n = 0; n < CHAIN_BATCH &&
		    (src = sqlite3_step(rows)) == SQLITE_ROW; n++) {
			b[n].id = after = sqlite3_column_int64(rows, 0);
			b[n].seq = ++*seq;
			memcpy(b[n].prev, prev, MCA_CHAIN_HASH_LEN);
			if (mca_chain_hash(ctx, md, b[n].seq,
			    mca_chain_tables[t].name, rows,
			    mca_chain_tables[t].ncols, prev, b[n].hash) != 0) {
				*why = "cannot hash a row";
				src = SQLITE_ERROR;
				goto out;
			}
			memcpy(prev, b[n].hash, MCA_CHAIN_HASH_LEN);
		}
		if (src != SQLITE_ROW && src != SQLITE_DONE)
			goto out;
		sqlite3_reset(rows);
		for (i = 0; i < n; i++) {
			if ((src = sqlite3_bind_int64(upd, 1, b[i].seq)) !=
			    SQLITE_OK || (src = sqlite3_bind_blob(upd, 2,
			    b[i].prev, MCA_CHAIN_HASH_LEN, SQLITE_STATIC)) !=
			    SQLITE_OK || (src = sqlite3_bind_blob(upd, 3,
			    b[i].hash, MCA_CHAIN_HASH_LEN, SQLITE_STATIC)) !=
			    SQLITE_OK || (src = sqlite3_bind_int64(upd, 4,
			    b[i].id)) != SQLITE_OK ||
			    (src = sqlite3_step(upd)) != SQLITE_DONE)
				goto out;
			sqlite3_reset(upd);
		}
	} while (n == CHAIN_BATCH);
	src = SQLITE_OK;
out:
	sqlite3_finalize(rows);
	sqlite3_finalize(upd);
	return src;
}

int
mca_chain_backfill(sqlite3 *db, const char *path, struct mca_diag *d)
{
	EVP_MD_CTX		*ctx = NULL;
	EVP_MD			*md = NULL;
	sqlite3_stmt		*head = NULL;
	struct chain_stamp	*b = NULL;
	unsigned char		 prev[MCA_CHAIN_HASH_LEN];
	const char		*why = NULL;
	sqlite3_int64		 seq = 0;
	size_t			 t;
	int			 src = SQLITE_OK, rc = MCA_ERR_DB;

	if (path == NULL)
		path = "ledger";
	if ((b = calloc(CHAIN_BATCH, sizeof(*b))) == NULL) {
		rc = mca_diag(d, MCA_ERR_NOMEM, "%s: the chain: out of memory",
		    path);
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		rc = mca_diag(d, MCA_ERR_CRYPTO, "%s: the chain: cannot set up "
		    "SHA-256", path);
		goto out;
	}
	/* Idempotent: from the head on, whatever is there already. */
	if ((src = sqlite3_prepare_v2(db, MCA_CHAIN_HEAD_SQL, -1, &head,
	    NULL)) != SQLITE_OK)
		goto fail;
	if ((src = mca_chain_read_head(head, &seq, prev)) == SQLITE_MISMATCH) {
		rc = mca_diag(d, MCA_ERR_DB, "%s: the chain's head (chain_seq "
		    "%lld) has no 32-byte chain_hash", path, (long long)seq);
		goto out;
	}
	if (src != SQLITE_DONE)
		goto fail;
	/* certificates first, then revocations: each in id order. */
	for (t = 0; t < CHAIN_NTABLES; t++)
		if ((src = chain_fill_table(db, t, ctx, md, b, &seq, prev,
		    &why)) != SQLITE_OK)
			goto fail;
	rc = 0;
	goto out;
fail:
	rc = (src & 0xff) == SQLITE_BUSY || (src & 0xff) == SQLITE_LOCKED ?
	    MCA_ERR_BUSY : why != NULL ? MCA_ERR_CRYPTO : MCA_ERR_DB;
	mca_diag(d, rc, "%s: chaining the ledger's rows: %s", path,
	    why != NULL ? why : sqlite3_errmsg(db));
out:
	sqlite3_finalize(head);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	free(b);
	return rc;
}

/* ---- verify */

struct chain_walk {
	struct mca_ledger		*l;
	const struct mca_chain_verify	*o;
	struct mca_chain_report		*r;
	sqlite3_stmt			*tab[CHAIN_NTABLES];
	int				 have[CHAIN_NTABLES]; /* on a row */
	sqlite3_int64			 id[CHAIN_NTABLES];
	EVP_MD_CTX			*ctx;
	EVP_MD				*sha256, *sha1;
	struct mca_buf			 der, file;
	char				 name[MCA_NAME_MAX];
	char				 path[PATH_MAX];
};

static void
hex_lower(const unsigned char *p, size_t n, char *out)
{
	static const char	 hx[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* 64 hex digits (any case) into 32 bytes. 0 or -1. */
static int
unhex32(const char *s, unsigned char *out)
{
	size_t	 i;
	int	 hi, lo;

	if (strlen(s) != 2 * MCA_CHAIN_HASH_LEN)
		return -1;
	for (i = 0; i < MCA_CHAIN_HASH_LEN; i++) {
		hi = OPENSSL_hexchar2int((unsigned char)s[2 * i]);
		lo = OPENSSL_hexchar2int((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/*
 * The first broken row: table t (-1: none) row id, what is wrong.
 * Returns 0: the walk ends there, with r->broken set.
 */
static int
chain_broken(struct chain_walk *w, long long seq, int t, long long id,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
chain_broken(struct chain_walk *w, long long seq, int t, long long id,
    const char *fmt, ...)
{
	struct mca_chain_report	*r = w->r;
	const unsigned char	*s = NULL;
	va_list			 ap;
	size_t			 i;

	r->broken = 1;
	r->bad_seq = seq;
	r->bad_id = id;
	if (t >= 0) {
		(void)snprintf(r->bad_table, sizeof(r->bad_table), "%s",
		    mca_chain_tables[t].name);
		/* The serial of the row the table cursor stands on, if so. */
		if (w->have[t] && w->id[t] == id)
			s = sqlite3_column_text(w->tab[t], COL_SERIAL);
	}
	if (s != NULL) {
		(void)snprintf(r->bad_serial, sizeof(r->bad_serial), "%s",
		    (const char *)s);
		/* A tampered serial may hold anything: printable only. */
		for (i = 0; r->bad_serial[i] != '\0'; i++)
			if (r->bad_serial[i] < 0x21 || r->bad_serial[i] > 0x7e)
				r->bad_serial[i] = '?';
	}
	va_start(ap, fmt);
	(void)vsnprintf(r->what, sizeof(r->what), fmt, ap);
	va_end(ap);
	return 0;
}

/* Steps table t's cursor. 0, or our code with l's diag set. */
static int
chain_next(struct chain_walk *w, size_t t)
{
	int	 src;

	switch ((src = sqlite3_step(w->tab[t]))) {
	case SQLITE_ROW:
		w->have[t] = 1;
		w->id[t] = sqlite3_column_int64(w->tab[t], COL_ID);
		return 0;
	case SQLITE_DONE:
		w->have[t] = 0;
		return 0;
	default:
		w->have[t] = 0;
		return mca_ledger_sqlfail(w->l, src, mca_chain_tables[t].name);
	}
}

/*
 * One DER TLV at *p (end: the end of its container): its tag into *tag,
 * its contents into *c and *clen, *p moved past it. Definite lengths of
 * at most 4 bytes (X.690 8.1.3). 0, or -1 if it does not fit.
 */
static int
der_next(const unsigned char **p, const unsigned char *end, int *tag,
    const unsigned char **c, size_t *clen)
{
	const unsigned char	*q = *p;
	size_t			 len = 0, n;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	if ((*tag & 0x1f) == 0x1f)
		return -1;	/* high tag numbers: not in a certificate */
	if (*q < 0x80)
		len = *q++;
	else {
		n = *q++ & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return -1;
		while (n-- > 0)
			len = len << 8 | *q++;
	}
	if ((size_t)(end - q) < len)
		return -1;
	*c = q;
	*clen = len;
	*p = q + len;
	return 0;
}

/*
 * The serial (uppercase hex as mca_asn1int_hex() spells it) and the
 * subject's DER (*subj, *subjlen) of the certificate der: its structure
 * walked (RFC 5280 4.1), not decoded. Decoding the whole certificate
 * decodes its public key too, through OpenSSL 3's decoders: about ten
 * times the cost of all the rest of a row. A tampered ledger's pem may
 * hold anything: this is a parser of hostile bytes (fuzz_chainder).
 * 0, or -1 if der is not a certificate.
 */
int
mca_chain_der_serial_subject(const unsigned char *der, size_t len, char *hex,
    size_t hexlen, const unsigned char **subj, size_t *subjlen)
{
	static const char	 hx[] = "0123456789ABCDEF";
	const unsigned char	*p = der, *end = der + len, *c, *tend, *s;
	size_t			 clen, o = 0;
	int			 tag, i;

	/* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ... } ... } */
	if (der_next(&p, end, &tag, &c, &clen) != 0 || tag != 0x30 ||
	    p != end)
		return -1;
	p = c;
	end = c + clen;
	if (der_next(&p, end, &tag, &c, &clen) != 0 || tag != 0x30)
		return -1;
	p = c;
	tend = c + clen;
	/* [0] EXPLICIT version, if there. */
	if (der_next(&p, tend, &tag, &c, &clen) != 0 || (tag == 0xa0 &&
	    der_next(&p, tend, &tag, &c, &clen) != 0))
		return -1;
	/* serialNumber INTEGER: a positive one (RFC 5280 4.1.2.2). */
	if (tag != 0x02 || clen == 0 || (c[0] & 0x80) != 0)
		return -1;
	while (clen > 1 && c[0] == 0) {
		c++;
		clen--;
	}
	if (2 * clen + 1 > hexlen)
		return -1;
	if (clen == 1 && c[0] == 0)
		hex[o++] = '0';
	else
		for (; clen > 0; clen--, c++) {
			hex[o++] = hx[*c >> 4];
			hex[o++] = hx[*c & 15];
		}
	hex[o] = '\0';
	/* signature, issuer, validity: SEQUENCEs passed over; subject. */
	for (i = 0; i < 4; i++) {
		s = p;
		if (der_next(&p, tend, &tag, &c, &clen) != 0 || tag != 0x30)
			return -1;
	}
	*subj = s;
	*subjlen = (size_t)(p - s);
	return 0;
}

/* Uppercase hex of md(der) into out (129 bytes). 0 or MCA_ERR_CRYPTO. */
static int
chain_thumb(struct chain_walk *w, const EVP_MD *md, char *out)
{
	static const char	 hx[] = "0123456789ABCDEF";
	unsigned char		 h[EVP_MAX_MD_SIZE];
	unsigned int		 n = 0, i;

	if (!EVP_DigestInit_ex(w->ctx, md, NULL) ||
	    !EVP_DigestUpdate(w->ctx, w->der.data, w->der.len) ||
	    !EVP_DigestFinal_ex(w->ctx, h, &n))
		return MCA_ERR_CRYPTO;
	for (i = 0; i < n; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

/* Column i of table cursor st as a C string ("" for NULL). */
static const char *
chain_text(sqlite3_stmt *st, int i)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

/*
 * The certificates row at seq: its pem parses to its serial, subject and
 * thumbprints (the DER's SHA-1 and SHA-256), and its IssuedCerts file,
 * if there, is its pem. 0 (r->broken set if not), or our code.
 */
static int
chain_check_cert(struct chain_walk *w, long long seq)
{
	sqlite3_stmt		*st = w->tab[0];
	const char		*pem, *serial, *s;
	const unsigned char	*p, *subj = NULL;
	X509_NAME		*name = NULL;
	size_t			 subjlen = 0;
	struct stat		 sb;
	char			 hex[MCA_HEX_MAX];
	size_t			 len, i;
	ssize_t			 got;
	int			 fd = -1, rc = 0;
	long long		 id = w->id[0];

	pem = chain_text(st, COL_PEM);
	len = (size_t)sqlite3_column_bytes(st, COL_PEM);
	serial = chain_text(st, COL_SERIAL);
	mca_buf_reset(&w->der);
	if (len > MCA_PEM_MAX || mca_pem_decode(pem, len, "CERTIFICATE",
	    &w->der, NULL) != 0)
		return chain_broken(w, seq, 0, id, "its pem is not a PEM "
		    "certificate");
	if (mca_chain_der_serial_subject(w->der.data, w->der.len, hex,
	    sizeof(hex), &subj, &subjlen) != 0)
		return chain_broken(w, seq, 0, id, "its pem is not an X.509 "
		    "certificate");
	if (strcmp(hex, serial) != 0)
		return chain_broken(w, seq, 0, id, "its pem's serial is %s",
		    hex);
	p = subj;
	if ((name = d2i_X509_NAME(NULL, &p, (long)subjlen)) == NULL ||
	    p != subj + subjlen) {
		rc = chain_broken(w, seq, 0, id, "its pem's subject does not "
		    "parse");
		goto out;
	}
	if ((rc = mca_name_string(name, w->name, sizeof(w->name))) != 0) {
		rc = mca_diag(mca_ledger_diag(w->l), rc, "certificates id "
		    "%lld: cannot print the subject of its pem", id);
		goto out;
	}
	if (strcmp(w->name, chain_text(st, COL_SUBJECT)) != 0) {
		rc = chain_broken(w, seq, 0, id, "its pem's subject is "
		    "\"%.200s\"", w->name);
		goto out;
	}
	if ((rc = chain_thumb(w, w->sha1, hex)) != 0)
		goto out;
	if (strcmp(hex, chain_text(st, COL_SHA1)) != 0) {
		rc = chain_broken(w, seq, 0, id, "its pem's SHA-1 thumbprint "
		    "is %s, not its sha1", hex);
		goto out;
	}
	if ((rc = chain_thumb(w, w->sha256, hex)) != 0)
		goto out;
	if (strcmp(hex, chain_text(st, COL_SHA256)) != 0) {
		rc = chain_broken(w, seq, 0, id, "its pem's SHA-256 "
		    "thumbprint is %s, not its sha256", hex);
		goto out;
	}
	if (w->o->issued_dir == NULL)
		goto out;
	/* cgi/enroll.c names the file SERIAL.pem; the CHECK keeps it hex. */
	for (s = serial, i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			goto out;
	if (snprintf(w->path, sizeof(w->path), "%s/%s.pem",
	    w->o->issued_dir, serial) >= (int)sizeof(w->path))
		goto out;
	if ((fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT)
			goto out;	/* not kept: nothing to compare */
		rc = chain_broken(w, seq, 0, id, "its IssuedCerts file %s "
		    "cannot be read: %s", w->path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size != len) {
		rc = chain_broken(w, seq, 0, id, "its IssuedCerts file %s "
		    "differs from its pem (%lld bytes, the pem %zu)",
		    w->path, (long long)sb.st_size, len);
		goto out;
	}
	mca_buf_reset(&w->file);
	if (mca_buf_reserve(&w->file, len + 1) != 0) {
		rc = mca_diag(mca_ledger_diag(w->l), MCA_ERR_NOMEM, "out of "
		    "memory");
		goto out;
	}
	/* One byte more than the pem: a file that grew meanwhile differs. */
	for (i = 0; i < len + 1; i += (size_t)got)
		if ((got = read(fd, w->file.data + i, len + 1 - i)) <= 0)
			break;
	w->r->files++;
	if (i != len || memcmp(w->file.data, pem, len) != 0)
		rc = chain_broken(w, seq, 0, id, "its IssuedCerts file %s "
		    "differs from its pem", w->path);
out:
	if (fd != -1)
		(void)close(fd);
	X509_NAME_free(name);
	return rc;
}

/* Where table t's chain columns are in its cursor: after the hashed ones. */
#define C_SEQ(t)	(mca_chain_tables[t].ncols)
#define C_PREV(t)	(mca_chain_tables[t].ncols + 1)
#define C_HASH(t)	(mca_chain_tables[t].ncols + 2)

/*
 * The cursor of the next row on the chain: of the lower chain_seq (into
 * *seq). 0 (*t -1: no rows left), or 1 with r->broken set: a row
 * without a chain_seq.
 */
static int
chain_pick(struct chain_walk *w, long long next, int *t, long long *seq)
{
	sqlite3_int64	 s;
	size_t		 u;

	*t = -1;
	*seq = 0;
	for (u = 0; u < CHAIN_NTABLES; u++) {
		if (!w->have[u])
			continue;
		if (sqlite3_column_type(w->tab[u], C_SEQ(u)) == SQLITE_NULL) {
			(void)chain_broken(w, next, (int)u, w->id[u], "the row "
			    "is not on the chain (written outside microca, or "
			    "its chain_seq removed)");
			return 1;
		}
		s = sqlite3_column_int64(w->tab[u], C_SEQ(u));
		if (*t < 0 || s < *seq) {
			*t = (int)u;
			*seq = s;
		}
	}
	return 0;
}

/* The walk proper, inside the read transaction. 0 or our code. */
static int
chain_walk(struct chain_walk *w, long long from, const unsigned char *expect)
{
	sqlite3_stmt		*st;
	unsigned char		 prev[MCA_CHAIN_HASH_LEN];
	unsigned char		 hash[MCA_CHAIN_HASH_LEN];
	const unsigned char	*ph, *h;
	long long		 seq, next = from, id;
	size_t			 u;
	int			 rc, t, met = 0;

	memset(prev, 0, sizeof(prev));
	if (expect != NULL && from == 1 && memcmp(expect, prev,
	    sizeof(prev)) == 0)
		met = 1;
	for (u = 0; u < CHAIN_NTABLES; u++)
		if ((rc = chain_next(w, u)) != 0)
			return rc;
	for (;;) {
		if (chain_pick(w, next, &t, &seq) != 0)
			return 0;
		if (t < 0)
			break;
		st = w->tab[t];
		id = w->id[t];
		ph = sqlite3_column_blob(st, C_PREV(t));
		if (ph == NULL || sqlite3_column_bytes(st, C_PREV(t)) !=
		    MCA_CHAIN_HASH_LEN)
			return chain_broken(w, seq, t, id, "its chain_prev is "
			    "not 32 bytes");
		h = sqlite3_column_blob(st, C_HASH(t));
		if (h == NULL || sqlite3_column_bytes(st, C_HASH(t)) !=
		    MCA_CHAIN_HASH_LEN)
			return chain_broken(w, seq, t, id, "its chain_hash is "
			    "not 32 bytes");
		if (seq == from && from > 1) {
			/* Taken on trust: where this walk starts. */
			memcpy(prev, ph, sizeof(prev));
			if (expect != NULL && memcmp(expect, prev,
			    sizeof(prev)) == 0)
				met = 1;
		}
		if (seq > next)
			return chain_broken(w, seq, t, id, "its chain_seq is "
			    "%lld where %lld belongs: rows before it were "
			    "deleted, or rows renumbered", seq, next);
		if (seq < next)
			return chain_broken(w, seq, t, id, "its chain_seq %lld "
			    "comes again after %lld: a row copied, or rows "
			    "renumbered", seq, next - 1);
		if (memcmp(ph, prev, sizeof(prev)) != 0)
			return chain_broken(w, seq, t, id, "its chain_prev is "
			    "not the chain_hash of chain row %lld: rows before "
			    "it were changed, removed or put in", seq - 1);
		if ((rc = mca_chain_hash(w->ctx, w->sha256, seq,
		    mca_chain_tables[t].name, st, mca_chain_tables[t].ncols,
		    prev, hash)) != 0)
			return mca_diag(mca_ledger_diag(w->l), rc, "chain row "
			    "%lld: cannot hash it", seq);
		if (memcmp(hash, h, sizeof(hash)) != 0)
			return chain_broken(w, seq, t, id, "the row does not "
			    "match its chain_hash: a field was changed after "
			    "it was written");
		if (t == 0 && (rc = chain_check_cert(w, seq)) != 0)
			return rc;
		if (w->r->broken)
			return 0;
		memcpy(prev, hash, sizeof(prev));
		if (expect != NULL && memcmp(expect, hash, sizeof(hash)) == 0)
			met = 1;
		w->r->rows++;
		w->r->seq = seq;
		next = seq + 1;
		if ((rc = chain_next(w, (size_t)t)) != 0)
			return rc;
	}
	if (from > 1 && next == from)
		return mca_diag(mca_ledger_diag(w->l), MCA_ERR_NOTFOUND,
		    "no chain row %lld", from);
	hex_lower(prev, sizeof(prev), w->r->head);
	if (expect != NULL && !met)
		return chain_broken(w, 0, -1, 0, "the expected head %s is "
		    "not on the chain (or lies before --from)",
		    w->o->expect_head);
	return 0;
}

int
mca_ledger_chain_verify(struct mca_ledger *l,
    const struct mca_chain_verify *o, struct mca_chain_report *r)
{
	static const struct mca_chain_verify	 none;
	struct chain_walk	 w;
	sqlite3			*db = mca_ledger_sqlite(l);
	unsigned char		 expect[MCA_CHAIN_HASH_LEN];
	char			 sql[768];
	long long		 from;
	size_t			 t;
	int			 src, rc = MCA_ERR_DB, intx = 0;

	if (r != NULL)
		memset(r, 0, sizeof(*r));
	if (l == NULL || r == NULL)
		return MCA_ERR_INVAL;
	if (o == NULL)
		o = &none;
	memset(&w, 0, sizeof(w));
	w.l = l;
	w.o = o;
	w.r = r;
	mca_buf_init(&w.der);
	mca_buf_init(&w.file);
	mca_diag_clear(mca_ledger_diag(l));
	from = o->from > 1 ? o->from : 1;
	if (o->from < 0) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_INVAL, "--from: "
		    "chain rows count from 1");
		goto out;
	}
	if (o->expect_head != NULL && unhex32(o->expect_head, expect) != 0) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_INVAL, "expected "
		    "head \"%.80s\": not 64 hex digits", o->expect_head);
		goto out;
	}
	if ((w.ctx = EVP_MD_CTX_new()) == NULL ||
	    (w.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (w.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL)) == NULL) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_CRYPTO, "cannot set "
		    "up SHA-256 and SHA-1");
		goto out;
	}
	/* One snapshot: the writers go on, the walk sees one state. */
	if ((src = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK) {
		rc = mca_ledger_sqlfail(l, src, "begin");
		goto out;
	}
	intx = 1;
	for (t = 0; t < CHAIN_NTABLES; t++) {
		/*
		 * From row from on: the table's rows after the last one
		 * chained before it, found from the end (all of them, from
		 * the start).
		 */
		if (from == 1)
			(void)snprintf(sql, sizeof(sql), "SELECT %s, "
			    "chain_seq, chain_prev, chain_hash FROM %s ORDER "
			    "BY id",
			    mca_chain_tables[t].cols, mca_chain_tables[t].name);
		else
			(void)snprintf(sql, sizeof(sql), "SELECT %s, "
			    "chain_seq, chain_prev, chain_hash FROM %s WHERE "
			    "id > coalesce((SELECT id FROM %s WHERE chain_seq "
			    "< ?1 ORDER BY id DESC LIMIT 1), 0) ORDER BY id",
			    mca_chain_tables[t].cols, mca_chain_tables[t].name,
			    mca_chain_tables[t].name);
		if ((rc = mca_ledger_prepare(l, sql, mca_chain_tables[t].name,
		    &w.tab[t])) != 0)
			goto out;
		if (from > 1 && sqlite3_bind_int64(w.tab[t], 1, from) !=
		    SQLITE_OK) {
			rc = mca_ledger_bind_failed(l,
			    mca_chain_tables[t].name);
			goto out;
		}
	}
	if ((rc = chain_walk(&w, from, o->expect_head != NULL ? expect :
	    NULL)) != 0)
		goto out;
	rc = 0;
out:
	for (t = 0; t < CHAIN_NTABLES; t++)
		sqlite3_finalize(w.tab[t]);
	if (intx)
		(void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	EVP_MD_CTX_free(w.ctx);
	EVP_MD_free(w.sha256);
	EVP_MD_free(w.sha1);
	mca_buf_free(&w.der);
	mca_buf_free(&w.file);
	return rc;
}

int
mca_ledger_chain_head(struct mca_ledger *l, char *hex, size_t hexlen,
    long long *seq)
{
	unsigned char	 hash[MCA_CHAIN_HASH_LEN];
	sqlite3_stmt	*st = NULL;
	sqlite3_int64	 s = 0;
	int		 src, rc;

	if (hexlen > 0)
		hex[0] = '\0';
	if (seq != NULL)
		*seq = 0;
	if (l == NULL || hexlen < MCA_CHAIN_HEX_MAX)
		return MCA_ERR_INVAL;
	mca_diag_clear(mca_ledger_diag(l));
	if ((rc = mca_ledger_prepare(l, MCA_CHAIN_HEAD_SQL, "read the chain's "
	    "head", &st)) != 0)
		return rc;
	switch ((src = mca_chain_read_head(st, &s, hash))) {
	case SQLITE_DONE:
		hex_lower(hash, sizeof(hash), hex);
		if (seq != NULL)
			*seq = s;
		break;
	case SQLITE_MISMATCH:
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_DB, "the chain's "
		    "head (chain_seq %lld) has no 32-byte chain_hash",
		    (long long)s);
		break;
	default:
		rc = mca_ledger_sqlfail(l, src, "read the chain's head");
		break;
	}
	sqlite3_finalize(st);
	return rc;
}
