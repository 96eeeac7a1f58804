/*
 * The issuance ledger: every certificate this CA hands out, and every
 * refused enrollment, in one SQLite file. The row commits before the
 * client sees a certificate.
 */
#ifndef MCA_LEDGER_H
#define MCA_LEDGER_H

#include <stddef.h>

#include "err.h"

/* The compiled-in schema (sql/schema.sql = version 1, then migrations). */
struct mca_sql_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};
extern const struct mca_sql_migration mca_sql_migrations[];
extern const size_t mca_sql_nmigrations;

#define MCA_LEDGER_BUSY_MS	5000

struct mca_ledger;

/*
 * Opens (creating if needed) the ledger at path: WAL journal, busy
 * timeout MCA_LEDGER_BUSY_MS, synchronous=FULL (or NORMAL when
 * sync_full is 0), foreign keys on; applies pending migrations in one
 * IMMEDIATE transaction each, so concurrent openers are safe. Refuses a
 * database whose user_version is newer than this binary knows.
 * Returns 0, MCA_ERR_DB or MCA_ERR_IO with d saying why; MCA_ERR_INVAL
 * for NULL arguments, MCA_ERR_NOMEM, or MCA_ERR_INTERNAL when the
 * compiled-in migrations are misnumbered.
 */
int	 mca_ledger_open(const char *path, int sync_full,
	    struct mca_ledger **out, struct mca_diag *d);

void	 mca_ledger_close(struct mca_ledger *l);

/* schema version in the file (PRAGMA user_version). */
int	 mca_ledger_version(struct mca_ledger *l, int *version);

/* One issued certificate. Strings are UTF-8; NULL means SQL NULL. */
struct mca_ledger_cert {
	const char	*serial;	/* uppercase hex, unique */
	const char	*subject;	/* RFC 2253 */
	const char	*san;		/* "DNS:a, IP:b", or NULL */
	const char	*issuer;	/* RFC 2253 */
	const char	*not_before;	/* ISO 8601 UTC */
	const char	*not_after;
	const char	*label;		/* end_point_name */
	const char	*operation;	/* "enroll", "reenroll", "serverkeygen" */
	const char	*req_subject;	/* who asked: client certificate */
	const char	*req_serial;
	const char	*req_issuer;
	const char	*remote_addr;
	const char	*sha1;		/* uppercase hex thumbprints */
	const char	*sha256;
	const char	*key_type;	/* mca_key_describe() */
	const char	*pem;
	const char	*replaces_serial; /* reenroll: the serial renewed */
	int		 server_keygen;	/* key made by the server */
	int		 azure_pending;	/* is_device_cert: azure_sync='pending' */
};

/*
 * Inserts and commits one certificate row. Returns 0, MCA_ERR_EXISTS if
 * the serial is already there (the caller draws a new one), MCA_ERR_BUSY
 * or MCA_ERR_DB. On any error nothing was written.
 */
int	 mca_ledger_insert_cert(struct mca_ledger *l,
	    const struct mca_ledger_cert *c);

/* One refused enrollment attempt. */
struct mca_ledger_refusal {
	const char	*label;
	const char	*operation;
	const char	*req_subject;	/* NULL when no client certificate */
	const char	*req_serial;
	const char	*req_issuer;
	const char	*remote_addr;
	int		 status;	/* the HTTP status answered */
	const char	*reason;	/* the one-line reason sent */
};

int	 mca_ledger_insert_refusal(struct mca_ledger *l,
	    const struct mca_ledger_refusal *r);

/* What the ledger knows of a certificate this CA issued. */
struct mca_ledger_found {
	char		 label[65];
	char		 not_after[32];
	char		 replaced_by[129];	/* serial of a newer row that replaces it, or "" */
};

/*
 * Finds the certificate with this serial and issuer. Returns 0 with *f
 * filled, MCA_ERR_NOTFOUND, or MCA_ERR_DB.
 */
int	 mca_ledger_find(struct mca_ledger *l, const char *serial,
	    const char *issuer, struct mca_ledger_found *f);

#endif
