/*
 * For the modules that keep their own tables in the ledger file
 * (lib/castate.c) on the ledger's one connection: no second connection,
 * the same busy handler, and their failures told by mca_ledger_errmsg().
 * Not for cgi/ or cron/: they go through the modules' functions.
 */
#ifndef MCA_LEDGER_INT_H
#define MCA_LEDGER_INT_H

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

#endif
