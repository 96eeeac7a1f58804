/*
 * For the modules that keep their own tables in the ledger file
 * (lib/castate.c) on the ledger's one connection: no second connection,
 * the same busy handler, and their failures told by mca_ledger_errmsg().
 * Not for cgi/ or cron/: they go through the modules' functions.
 */
#ifndef MCA_LEDGER_INT_H
#define MCA_LEDGER_INT_H

#include <openssl/evp.h>
#include <sqlite3.h>

#include "err.h"

struct mca_ledger;

/* The connection; NULL for a NULL l. */
sqlite3		*mca_ledger_sqlite(struct mca_ledger *l);

/* Where the why of the last failure on l goes (mca_ledger_errmsg()). */
struct mca_diag	*mca_ledger_diag(struct mca_ledger *l);

/*
 * A failed SQLite call (src its result code) in what ("install CA
 * generation"): the line into l's diag, as the ledger's own failures
 * read. Returns MCA_ERR_BUSY, MCA_ERR_EXISTS (a UNIQUE or PRIMARY KEY
 * refused) or MCA_ERR_DB.
 */
int		 mca_ledger_sqlfail(struct mca_ledger *l, int src,
		    const char *what);

/* Binds s to parameter i of st, or SQL NULL for a NULL s; SQLite's code. */
int		 mca_ledger_bind(sqlite3_stmt *st, int i, const char *s);
/*
 * Copies column i into dst, cut to fit before a partial UTF-8 sequence,
 * always NUL-terminated; SQL NULL becomes "".
 */
void		 mca_ledger_column(sqlite3_stmt *st, int i, char *dst,
		    size_t dstsz);

/*
 * Prepares sql (one statement, what names it) on l's connection into
 * *st (NULL on failure). 0, or mca_ledger_sqlfail()'s code.
 */
int		 mca_ledger_prepare(struct mca_ledger *l, const char *sql,
		    const char *what, sqlite3_stmt **st);

/* A bind of statement what failed: mca_ledger_sqlfail()'s code. */
int		 mca_ledger_bind_failed(struct mca_ledger *l, const char *what);

/* Steps st (statement what) to its end. 0, or mca_ledger_sqlfail()'s. */
int		 mca_ledger_stmt_done(struct mca_ledger *l, const char *what,
		    sqlite3_stmt *st);

/*
 * Ends the failed transaction open on l's connection, if any; l's diag
 * keeps the first failure.
 */
void		 mca_ledger_rollback(struct mca_ledger *l);

/*
 * ---- the tamper-evident chain (lib/ledger_chain.c,
 * sql/migrations/0014-chain-in-rows.sql, which documents the encoding)
 *
 * The columns of each chained table that the hash covers, in its order,
 * the id first: an INSERT ... RETURNING these, or a SELECT of them, is
 * what mca_ledger_chain_row() and the verifier read.
 */
#define MCA_CHAIN_HASH_LEN	32
#define MCA_CHAIN_CERT_COLS \
	"id, serial, subject, san, issuer, not_before, not_after, label, " \
	"operation, requester_subject, requester_serial, requester_issuer, " \
	"remote_addr, sha1, sha256, key_type, key_origin, pem, " \
	"replaces_serial, issued_at, auth_method, requester_user, passcode_id"
#define MCA_CHAIN_CERT_NCOLS	23
#define MCA_CHAIN_REV_COLS \
	"id, serial, action, reason, revoked_at, invalidity_date, revoked_by"
#define MCA_CHAIN_REV_NCOLS	7

/*
 * The chain's head: the last chained row of each table, by the rowid (no
 * scan, but over rows left unchained at the end), the greater chain_seq
 * of the two. A row inserted but not chained yet is passed over.
 */
#define MCA_CHAIN_HEAD_SQL \
	"SELECT chain_seq, chain_hash FROM (SELECT chain_seq, chain_hash " \
	"FROM certificates WHERE chain_seq IS NOT NULL ORDER BY id DESC " \
	"LIMIT 1) UNION ALL SELECT chain_seq, chain_hash FROM (SELECT " \
	"chain_seq, chain_hash FROM revocations WHERE chain_seq IS NOT NULL " \
	"ORDER BY id DESC LIMIT 1)"

/*
 * Steps st (MCA_CHAIN_HEAD_SQL) to its end and resets it: the head's seq
 * into *seq and its chain_hash into hash (0 and zeros: an empty chain).
 * SQLITE_DONE, SQLite's code, or SQLITE_MISMATCH for a head whose
 * chain_hash is not 32 bytes (*seq names it).
 */
int		 mca_chain_read_head(sqlite3_stmt *st, sqlite3_int64 *seq,
		    unsigned char *hash);

/*
 * hash of the chain's row seq for the row st stands on (its first ncols
 * columns, in the order above) of table tbl, after the row whose hash is
 * prev, into out. ctx and md are the caller's (reused over many rows).
 * 0, MCA_ERR_CRYPTO, MCA_ERR_NOMEM (SQLite's text) or MCA_ERR_TOOBIG (a
 * value of 4 GB).
 */
int		 mca_chain_hash(EVP_MD_CTX *ctx, const EVP_MD *md,
		    long long seq, const char *tbl, sqlite3_stmt *st,
		    int ncols, const unsigned char *prev, unsigned char *out);

/*
 * Links the row st stands on (after a step that returned SQLITE_ROW of
 * an INSERT ... RETURNING MCA_CHAIN_*_COLS, or of a SELECT of them) of
 * table tbl ("certificates", "revocations") to the chain: reads the head
 * (the last rows before it), hashes, stamps the row's chain columns.
 * Must run inside the caller's BEGIN IMMEDIATE transaction that wrote
 * the row, so that the head read is the head written on (the chain
 * stays linear across workers). Rows before it left unstamped (written
 * outside microca, or by an older one) stay so: verify names them.
 * 0, MCA_ERR_INVAL, MCA_ERR_CRYPTO, MCA_ERR_BUSY or MCA_ERR_DB with l's
 * diag set.
 */
int		 mca_ledger_chain_row(struct mca_ledger *l, const char *tbl,
		    sqlite3_stmt *st, int ncols);

/*
 * The serial of the certificate der (uppercase hex, whole octets, no 00
 * pad: the ledger's spelling) into hex, and where its subject's DER is
 * (*subj, *subjlen, inside der), by walking the DER (RFC 5280 4.1) as
 * the verifier does. 0, or -1 if der is not a certificate with a
 * positive serial that fits hexlen.
 */
int		 mca_chain_der_serial_subject(const unsigned char *der,
		    size_t len, char *hex, size_t hexlen,
		    const unsigned char **subj, size_t *subjlen);

/*
 * Chains the rows of db after the last chained row of each table
 * (certificates by id, then revocations by id), inside the caller's
 * write transaction: run by mca_ledger_open() in the transaction that
 * applies 0014-chain-in-rows.sql. 0, MCA_ERR_CRYPTO, MCA_ERR_NOMEM,
 * MCA_ERR_BUSY or MCA_ERR_DB with d set (path names the file).
 */
int		 mca_chain_backfill(sqlite3 *db, const char *path,
		    struct mca_diag *d);

#endif
