/*
 * The issuance ledger: every certificate this CA hands out, and the
 * refused enrollments (row by row up to a rate, counted beyond it), in
 * one SQLite file. The row commits before the client sees a certificate.
 */
#ifndef MCA_LEDGER_H
#define MCA_LEDGER_H

#include <stddef.h>

#include "err.h"

/*
 * The compiled-in schema (sql/schema.sql = version 1, then migrations,
 * in Makefile.am's order). Each migration's SQL records its name in the
 * table schema_migrations, which mca_sql_migrations_table creates; a
 * ledger's user_version is the number of migrations it has.
 */
struct mca_sql_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};
extern const struct mca_sql_migration mca_sql_migrations[];
extern const size_t mca_sql_nmigrations;
extern const char mca_sql_migrations_table[];

#define MCA_LEDGER_BUSY_MS	5000
/* A refusal waits for the write lock no longer than this. */
#define MCA_LEDGER_REFUSAL_BUSY_MS	20
/* Defaults of refusals_keep_days and refusals_per_minute_max. */
#define MCA_LEDGER_REFUSALS_KEEP_DAYS	30
#define MCA_LEDGER_REFUSALS_PER_MINUTE	600

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

/* Writes the refusal counts still in memory, then closes (NULL-safe). */
void	 mca_ledger_close(struct mca_ledger *l);

/*
 * Why the last call on l failed, one line for the log, never for a
 * client: SQLite's message with its result code by name and number,
 * and the extended code when it says more ("insert into certificates:
 * database is locked (SQLITE_BUSY 5)"). When l has nothing to say (or
 * is NULL): mca_strerror(rc). Valid until the next call on l.
 */
const char *mca_ledger_errmsg(const struct mca_ledger *l, int rc);

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
	/* schema 2 */
	const char	*auth_method;	/* "certificate", "passcode", "remote_user" */
	const char	*req_user;	/* REMOTE_USER, or NULL */
	const char	*passcode_id;	/* the passcode to spend, or NULL */
};

/*
 * Inserts and commits one certificate row. With a passcode_id, one use
 * of that passcode is spent in the same transaction: if it is not
 * active on this label (revoked, used up, expired, another label, or
 * gone), nothing is written and the result is MCA_ERR_AUTH. Returns 0,
 * MCA_ERR_EXISTS if the serial is already there (the caller draws a new
 * one), MCA_ERR_AUTH, MCA_ERR_BUSY or MCA_ERR_DB. On any error nothing
 * was written.
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
	/* schema 2 */
	const char	*req_user;	/* REMOTE_USER, or NULL */
	const char	*passcode_id;	/* the passcode tried, or NULL */
};

/*
 * Records a refusal, and keeps the record bounded against a flood:
 *  - a row while the current minute (UTC) has fewer than per_minute_max
 *    rows, across all workers; beyond that, one more in refusal_counts
 *    for (minute, label, status) instead. Those counts gather in memory
 *    and are written in one transaction by the first refusal a second
 *    or more after the last write, and by mca_ledger_close(): an idle
 *    worker's last counts wait for its next refusal or its end, and a
 *    worker killed outright (SIGKILL) loses them.
 *  - rows (and counts) older than keep_days are deleted, by at most one
 *    refusal a minute in each worker, oldest first, a bounded batch.
 * It waits for the write lock at most MCA_LEDGER_REFUSAL_BUSY_MS: a
 * refusal must not cost more than the request it refuses. A row that
 * cannot be written so soon is counted instead (flushed later).
 * Returns 0, MCA_ERR_BUSY or MCA_ERR_DB with mca_ledger_errmsg().
 */
int	 mca_ledger_insert_refusal(struct mca_ledger *l,
	    const struct mca_ledger_refusal *r);

/*
 * refusals_keep_days (>= 1) and refusals_per_minute_max (>= 0; 0: only
 * counts, no rows). Out of range: the defaults above. NULL-safe.
 */
void	 mca_ledger_refusal_limits(struct mca_ledger *l, int keep_days,
	    int per_minute_max);

/*
 * Writes the refusal counts kept in memory now, with the ordinary busy
 * timeout. 0, MCA_ERR_BUSY or MCA_ERR_DB with mca_ledger_errmsg().
 */
int	 mca_ledger_refusals_flush(struct mca_ledger *l);

/* What the ledger knows of a certificate this CA issued. */
struct mca_ledger_found {
	char		 label[65];
	char		 not_after[32];
	char		 replaced_by[129];	/* serial of a newer row that replaces it, or "" */
	/* superseded_by (schema 0005-superseded.sql) */
	char		 superseded_by[129];	/* its grace renewal's serial, or "" */
	char		 renewed_at[32];	/* its first renewal, or "" */
	long long	 renewed_secs;	/* seconds since then; -1: never renewed */
	/* revocations (schema 0010-revocations.sql) */
	char		 revoked[32];	/* RFC 5280 reason if revoked now, or "" */
};

/*
 * Finds the certificate with this serial and issuer. Returns 0 with *f
 * filled, MCA_ERR_NOTFOUND, or MCA_ERR_DB.
 */
int	 mca_ledger_find(struct mca_ledger *l, const char *serial,
	    const char *issuer, struct mca_ledger_found *f);

/*
 * 1 if the certificate f describes may be renewed now: it is not
 * revoked (on hold included), and it was neither superseded nor
 * renewed, or its first renewal is less than grace seconds old (a
 * device that lost the answer asks again). 0 if not: grace 0 means a
 * certificate renews once. The one rule both the early
 * check and mca_ledger_insert_renewal() apply.
 */
int	 mca_ledger_may_renew(const struct mca_ledger_found *f, int grace);

/*
 * Records a renewal (RFC 7030 4.2.2): c->replaces_serial is the serial
 * of the certificate renewed, c->req_issuer its issuer. In one
 * IMMEDIATE transaction, so that of workers racing with the same
 * certificate exactly the rule below decides: looks the renewed
 * certificate up (into *prior, as mca_ledger_find() fills it); if
 * mca_ledger_may_renew(prior, grace) says no, writes nothing; else
 * inserts c and, for a renewal within the grace period, marks each
 * earlier renewal of the same certificate not yet superseded as
 * superseded by c->serial (superseded_by, superseded_at), so that the
 * ledger says which one is current. Returns 0, MCA_ERR_POLICY (revoked
 * (prior->revoked says why), already renewed or superseded: nothing
 * written), MCA_ERR_NOTFOUND (not in the
 * ledger), MCA_ERR_EXISTS (the new serial is taken), MCA_ERR_INVAL,
 * MCA_ERR_BUSY or MCA_ERR_DB.
 */
int	 mca_ledger_insert_renewal(struct mca_ledger *l,
	    const struct mca_ledger_cert *c, int grace,
	    struct mca_ledger_found *prior);

/* ---- enrollment passcodes (schema 2, sql/migrations/0002-passcodes.sql) */

#define MCA_LEDGER_COMMENT_MAX	256

/* A passcode as the ledger keeps it (never the secret). */
struct mca_ledger_passcode {
	char		 id[16];
	char		 label[65];
	char		 hash[256];
	long long	 uses_total;
	long long	 uses_left;
	char		 expires_at[32];
	/* "active", "used", "expired" or "revoked", as of now */
	char		 state[16];
	char		 created_at[32];
	char		 created_by[65];
	char		 comment[MCA_LEDGER_COMMENT_MAX + 1];
	char		 revoked_at[32];	/* "" if not revoked */
	char		 last_used_at[32];	/* "" if never used */
	long long	 issued;	/* certificates it paid for */
};

/*
 * Adds a passcode row: id, label, hash, uses (uses_total = uses_left),
 * expires_at (ISO 8601 UTC), created_by and comment (NULL allowed) are
 * taken from p; the other fields are ignored. Returns 0, MCA_ERR_EXISTS
 * (the ID is taken: draw another), MCA_ERR_BUSY or MCA_ERR_DB (a CHECK
 * refused a value).
 */
int	 mca_ledger_passcode_add(struct mca_ledger *l,
	    const struct mca_ledger_passcode *p);

/*
 * Fetches one passcode by its canonical ID, with its state as of now.
 * Returns 0, MCA_ERR_NOTFOUND or MCA_ERR_DB.
 */
int	 mca_ledger_passcode_get(struct mca_ledger *l, const char *id,
	    struct mca_ledger_passcode *p);

/*
 * Revokes a passcode now. *already is set to 1 if it was revoked before
 * (and nothing changed). Returns 0, MCA_ERR_NOTFOUND, MCA_ERR_BUSY or
 * MCA_ERR_DB.
 */
int	 mca_ledger_passcode_revoke(struct mca_ledger *l, const char *id,
	    int *already);

/*
 * Calls cb for each passcode, oldest first: on label (or all labels for
 * NULL), only the active ones unless all is set. A non-zero return from
 * cb stops the walk and is returned. Returns 0, cb's value or MCA_ERR_DB.
 */
int	 mca_ledger_passcode_list(struct mca_ledger *l, const char *label,
	    int all, int (*cb)(void *, const struct mca_ledger_passcode *),
	    void *arg);

/*
 * ---- failure budgets (schema 6, sql/migrations/0006-failure-budgets.sql)
 *
 * Wrong enrollment passcodes counted per passcode and per client address,
 * so that all workers see one count (cgi/basicauth.c decides with
 * mca_passcode_wait()). Times are Unix seconds.
 */

/* Most client addresses kept at once; beyond, the oldest windows go. */
#define MCA_LEDGER_ADDR_ROWS	4096

/* One budget's count: failures in the window opened at since (0: none). */
struct mca_ledger_failures {
	long long	 count;
	long long	 since;
};

/*
 * Reads the counts of passcode id and of client address addr (either may
 * be NULL, or unknown: that count is 0). Writes nothing. Returns 0,
 * MCA_ERR_INVAL or MCA_ERR_DB.
 */
int	 mca_ledger_failures_get(struct mca_ledger *l, const char *id,
	    const char *addr, struct mca_ledger_failures *by_id,
	    struct mca_ledger_failures *by_addr);

/*
 * Counts one failure at now against passcode id (NULL, or an ID with no
 * row: not counted) and address addr (NULL: not counted), in one
 * transaction. A window older than window seconds is replaced by a new
 * one; address rows of ended windows are deleted, and the oldest beyond
 * MCA_LEDGER_ADDR_ROWS. Returns 0, MCA_ERR_INVAL, MCA_ERR_BUSY or
 * MCA_ERR_DB.
 */
int	 mca_ledger_failures_add(struct mca_ledger *l, const char *id,
	    const char *addr, long long now, long long window);

/*
 * ---- cron state (schema 7, sql/migrations/0007-cron-state.sql)
 *
 * The last check of each job of each cron tool, for the interval gate
 * (mca_cli_due() in lib/cli.h). Times are Unix seconds.
 */

#define MCA_LEDGER_CRON_NAME_MAX	64	/* bytes of a tool or job name */
#define MCA_LEDGER_CRON_MSG_MAX		512	/* bytes of last_message */
#define MCA_LEDGER_CRON_OK		"ok"
#define MCA_LEDGER_CRON_FAILED		"failed"
#define MCA_LEDGER_CRON_PENDING		"pending"

struct mca_ledger_cron {
	long long	 last_check;
	char		 result[16];	/* MCA_LEDGER_CRON_* */
	char		 message[MCA_LEDGER_CRON_MSG_MAX + 1]; /* "" if none */
};

/*
 * The state of job of tool into *c. Returns 0, MCA_ERR_NOTFOUND (never
 * checked), MCA_ERR_INVAL (a name empty or over
 * MCA_LEDGER_CRON_NAME_MAX) or MCA_ERR_DB, with mca_ledger_errmsg().
 */
int	 mca_ledger_cron_get(struct mca_ledger *l, const char *tool,
	    const char *job, struct mca_ledger_cron *c);

/*
 * Records that job of tool was checked at when with result (one of
 * MCA_LEDGER_CRON_*) and message (NULL for none; one line, never a
 * secret; cut at MCA_LEDGER_CRON_MSG_MAX bytes), replacing the last
 * record. Returns 0, MCA_ERR_INVAL, MCA_ERR_BUSY or MCA_ERR_DB.
 */
int	 mca_ledger_cron_set(struct mca_ledger *l, const char *tool,
	    const char *job, long long when, const char *result,
	    const char *message);

/*
 * ---- Azure IoT Hub sync queue (schema 9, lib/ledger_azure.c,
 * sql/migrations/0009-azure-sync.sql)
 *
 * certificates.azure_sync is the queue: 'pending' (written with the row
 * for is_device_cert labels), 'synced' once the hub confirmed it,
 * 'failed' when the hub refused it for good, 'none' for other labels.
 * azure_sync_state keeps each queued row's attempts. Each function is
 * one transaction (the writers BEGIN IMMEDIATE) with the ledger's busy
 * handling; d (NULL-safe) and mca_ledger_errmsg() say why one failed.
 * Times are Unix seconds.
 */

#define MCA_LEDGER_AZ_SERIAL_MAX	128	/* hex digits of a serial */
#define MCA_LEDGER_AZ_LABEL_MAX		64	/* bytes of a label */
#define MCA_LEDGER_AZ_ERROR_MAX		512	/* bytes of last_error */
#define MCA_LEDGER_AZ_TAG_MAX		127	/* bytes of etag, request_id */

/* A pending row handed to the sync job. Owned: mca_ledger_azrows_free(). */
struct mca_ledger_azrow {
	long long	 id;		/* certificates.id: issue order */
	/* the serial as the ledger spells it (uppercase hex) */
	char		 serial[MCA_LEDGER_AZ_SERIAL_MAX + 1];
	char		 label[MCA_LEDGER_AZ_LABEL_MAX + 1];
	char		*pem;		/* the certificate */
	char		*prev_pem;	/* replaces_serial's PEM, or NULL */
	int		 attempts;
	long long	 next_attempt;	/* 0: never put off */
	char		 request_id[MCA_LEDGER_AZ_TAG_MAX + 1];	/* "" none */
};

/*
 * The pending rows due at now (next_attempt <= now, or never tried), in
 * issue order, at most max of them, into *rows (*n of them; NULL and 0
 * when none). Failed and synced rows never come back. Returns 0,
 * MCA_ERR_INVAL, MCA_ERR_NOMEM, MCA_ERR_BUSY or MCA_ERR_DB (also for a
 * row whose serial or label is longer than the fields above).
 */
int	 mca_ledger_azure_due(struct mca_ledger *l, long long now, size_t max,
	    struct mca_ledger_azrow **rows, size_t *n, struct mca_diag *d);

/* Frees the rows of mca_ledger_azure_due() (NULL-safe). */
void	 mca_ledger_azrows_free(struct mca_ledger_azrow *rows, size_t n);

/*
 * The hub confirmed row id at now: azure_sync='synced', synced_at now,
 * etag (NULL or "": none) and last_status (the HTTP status, 0: none)
 * recorded, last_error cleared; attempts and request_id are kept.
 * Returns 0, MCA_ERR_NOTFOUND (no such row, or it is not pending:
 * nothing written), MCA_ERR_INVAL (etag over MCA_LEDGER_AZ_TAG_MAX or
 * with a control character, a status not 0 or 100-599, a negative
 * time), MCA_ERR_BUSY or MCA_ERR_DB.
 */
int	 mca_ledger_azure_synced(struct mca_ledger *l, long long id,
	    long long now, long status, const char *etag, struct mca_diag *d);

/*
 * Row id did not sync now: attempts + 1, next_attempt, last_status
 * (0: none), last_error (one line of at most MCA_LEDGER_AZ_ERROR_MAX
 * bytes, never a secret; NULL or "": none) and request_id (NULL: kept,
 * "": cleared) recorded; failed != 0 also sets azure_sync='failed' (no
 * more automatic attempts until "microca-admin azure retry"). Returns
 * 0, MCA_ERR_NOTFOUND (no such row, or it is not pending: nothing
 * written), MCA_ERR_INVAL (a string over its cap or with a control
 * character, a bad status or time: nothing written), MCA_ERR_BUSY or
 * MCA_ERR_DB.
 */
int	 mca_ledger_azure_defer(struct mca_ledger *l, long long id,
	    long long now, long long next_attempt, long status,
	    const char *error, const char *request_id, int failed,
	    struct mca_diag *d);

/* A queued row as "microca-admin azure status" shows it. */
struct mca_ledger_azstatus {
	long long	 id;
	char		 serial[MCA_LEDGER_AZ_SERIAL_MAX + 1];
	char		 label[MCA_LEDGER_AZ_LABEL_MAX + 1];
	char		 subject[1025];	/* RFC 2253, cut if longer */
	const char	*pem;		/* valid during the callback only */
	char		 state[16];	/* "pending", "failed", "synced" */
	int		 attempts;
	long long	 next_attempt;	/* 0: at once */
	long		 last_status;	/* 0: none */
	char		 last_error[MCA_LEDGER_AZ_ERROR_MAX + 1]; /* "" none */
	char		 etag[MCA_LEDGER_AZ_TAG_MAX + 1];
	char		 request_id[MCA_LEDGER_AZ_TAG_MAX + 1];
	long long	 synced_at;	/* 0: not synced */
	char		 issued_at[32];	/* ISO 8601 UTC */
};

/*
 * Calls cb for each pending and failed row (all != 0: synced ones too),
 * in issue order, in one read transaction. A non-zero return from cb
 * stops the walk and is returned. Returns 0, cb's value, MCA_ERR_INVAL,
 * MCA_ERR_BUSY or MCA_ERR_DB.
 */
int	 mca_ledger_azure_list(struct mca_ledger *l, int all,
	    int (*cb)(void *, const struct mca_ledger_azstatus *), void *arg,
	    struct mca_diag *d);

/*
 * Puts rows back in the queue at now: the certificate with this serial
 * (uppercase hex, as the ledger spells it), or with serial NULL every
 * failed row. Each goes back to 'pending' with next_attempt 0, its
 * attempts kept; a failed row's request_id is dropped (its workflow
 * ended: the next try submits anew). *n says how many rows. Returns 0,
 * MCA_ERR_NOTFOUND (no certificate with that serial), MCA_ERR_POLICY
 * (it is not pending or failed: its label is not a device label, or it
 * is synced already; d says which; nothing written), MCA_ERR_INVAL,
 * MCA_ERR_BUSY or MCA_ERR_DB.
 */
int	 mca_ledger_azure_retry(struct mca_ledger *l, const char *serial,
	    long long now, size_t *n, struct mca_diag *d);

#endif
