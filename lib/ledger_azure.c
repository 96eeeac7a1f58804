/*
 * The Azure IoT Hub sync queue in the ledger (lib/ledger.h,
 * sql/migrations/0009-azure-sync.sql), on the ledger's connection and
 * with its busy handler. The queue is certificates.azure_sync; what
 * each attempt learned is in azure_sync_state, one row per queued
 * certificate, made by its first attempt. The statements are prepared
 * per call: the sync job runs once a minute, the admin by hand.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "ledger.h"
#include "ledger_int.h"
#include "text.h"

enum az_stmt {
	AZ_BEGIN,
	AZ_COMMIT,
	AZ_DUE,
	AZ_STATE,
	AZ_SYNCED_CERT,
	AZ_SYNCED_STATE,
	AZ_DEFER_CERT,
	AZ_DEFER_STATE,
	AZ_LIST,
	AZ_LIST_ALL,
	AZ_FIND,
	AZ_RETRY_CERT,
	AZ_RETRY_STATE,
	AZ_RETRY_ALL_STATE,
	AZ_RETRY_ALL_CERT,
	AZ_MAX
};

/* What each statement does, for the detail of a failure. */
static const char *const az_what[AZ_MAX] = {
	"begin",
	"commit",
	"read Azure sync queue",
	"read Azure sync state",
	"mark certificate synced to Azure",
	"record Azure sync",
	"put off Azure sync",
	"record Azure sync attempt",
	"list Azure sync queue",
	"list Azure sync queue",
	"find certificate",
	"queue certificate for Azure again",
	"reset Azure sync attempt",
	"reset failed Azure sync attempts",
	"queue failed Azure syncs again",
};

/* The columns of struct mca_ledger_azstatus, in az_status_row()'s order. */
#define AZ_STATUS_SELECT \
	"SELECT c.id, c.serial, c.label, c.subject, c.pem, c.azure_sync, " \
	"coalesce(s.attempts, 0), coalesce(s.next_attempt, 0), " \
	"coalesce(s.last_status, 0), s.last_error, s.etag, s.request_id, " \
	"coalesce(s.synced_at, 0), c.issued_at FROM certificates AS c " \
	"LEFT JOIN azure_sync_state AS s ON s.cert_id = c.id "

static const char *const az_sql[AZ_MAX] = {
	/* AZ_BEGIN: the write lock first: the check and the write agree. */
	"BEGIN IMMEDIATE",
	"COMMIT",
	/*
	 * AZ_DUE: ?1 now, ?2 how many. The partial index of pending rows
	 * holds them in id order: issue order, without a sort.
	 */
	"SELECT c.id, c.serial, c.label, c.pem, p.pem, "
	"coalesce(s.attempts, 0), coalesce(s.next_attempt, 0), s.request_id "
	"FROM certificates AS c "
	"LEFT JOIN azure_sync_state AS s ON s.cert_id = c.id "
	"LEFT JOIN certificates AS p ON p.serial = c.replaces_serial "
	"WHERE c.azure_sync = 'pending' AND coalesce(s.next_attempt, 0) <= ?1 "
	"ORDER BY c.id LIMIT ?2",
	/* AZ_STATE: why a row was not pending */
	"SELECT azure_sync FROM certificates WHERE id = ?1",
	/* AZ_SYNCED_CERT: only a pending row */
	"UPDATE certificates SET azure_sync = 'synced' "
	"WHERE id = ?1 AND azure_sync = 'pending'",
	/* AZ_SYNCED_STATE: ?1 id, ?2 status, ?3 etag, ?4 now */
	"INSERT INTO azure_sync_state (cert_id, attempts, next_attempt, "
	"last_status, last_error, etag, synced_at, updated_at) "
	"VALUES (?1, 0, 0, ?2, NULL, ?3, ?4, ?4) "
	"ON CONFLICT (cert_id) DO UPDATE SET "
	"last_status = excluded.last_status, last_error = NULL, "
	"etag = excluded.etag, synced_at = excluded.synced_at, "
	"updated_at = excluded.updated_at",
	/*
	 * AZ_DEFER_CERT: ?2 failed. Matches (and so counts as changed) a
	 * pending row, whether or not it becomes failed.
	 */
	"UPDATE certificates SET azure_sync = CASE WHEN ?2 THEN 'failed' "
	"ELSE 'pending' END WHERE id = ?1 AND azure_sync = 'pending'",
	/*
	 * AZ_DEFER_STATE: ?1 id, ?2 next_attempt, ?3 status, ?4 error,
	 * ?5 request_id (NULL: kept, '': cleared), ?6 now.
	 */
	"INSERT INTO azure_sync_state (cert_id, attempts, next_attempt, "
	"last_status, last_error, request_id, updated_at) "
	"VALUES (?1, 1, ?2, ?3, ?4, nullif(?5, ''), ?6) "
	"ON CONFLICT (cert_id) DO UPDATE SET attempts = attempts + 1, "
	"next_attempt = excluded.next_attempt, "
	"last_status = excluded.last_status, "
	"last_error = excluded.last_error, "
	"request_id = CASE WHEN ?5 IS NULL THEN request_id "
	"ELSE nullif(?5, '') END, updated_at = excluded.updated_at",
	/*
	 * AZ_LIST: each half by its partial index (a single IN would scan
	 * every certificate).
	 */
	"SELECT * FROM (" AZ_STATUS_SELECT "WHERE c.azure_sync = 'pending' "
	"UNION ALL " AZ_STATUS_SELECT "WHERE c.azure_sync = 'failed') "
	"ORDER BY 1",
	/* AZ_LIST_ALL: synced rows too, ever more of them: a scan */
	AZ_STATUS_SELECT "WHERE c.azure_sync <> 'none' ORDER BY c.id",
	/* AZ_FIND */
	"SELECT id, azure_sync, label FROM certificates WHERE serial = ?1",
	/* AZ_RETRY_CERT: ?1 id */
	"UPDATE certificates SET azure_sync = 'pending' "
	"WHERE id = ?1 AND azure_sync IN ('pending', 'failed')",
	/* AZ_RETRY_STATE: ?1 id, ?2 drop request_id, ?3 now */
	"UPDATE azure_sync_state SET next_attempt = 0, "
	"request_id = CASE WHEN ?2 THEN NULL ELSE request_id END, "
	"updated_at = ?3 WHERE cert_id = ?1",
	/* AZ_RETRY_ALL_STATE: ?1 now; before the rows stop being failed */
	"UPDATE azure_sync_state SET next_attempt = 0, request_id = NULL, "
	"updated_at = ?1 WHERE cert_id IN "
	"(SELECT id FROM certificates WHERE azure_sync = 'failed')",
	/* AZ_RETRY_ALL_CERT */
	"UPDATE certificates SET azure_sync = 'pending' "
	"WHERE azure_sync = 'failed'",
};

/* Prepares statement i on l's connection. 0, or our code with l's diag. */
static int
az_prepare(struct mca_ledger *l, enum az_stmt i, sqlite3_stmt **st)
{
	return mca_ledger_prepare(l, az_sql[i], az_what[i], st);
}

/* A bind of statement i failed. */
static int
az_bind_fail(struct mca_ledger *l, enum az_stmt i)
{
	return mca_ledger_bind_failed(l, az_what[i]);
}

/* Binds an HTTP status, SQL NULL for 0 (none). */
static int
az_bind_status(sqlite3_stmt *st, int i, long status)
{
	if (status == 0)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_int64(st, i, (sqlite3_int64)status);
}

/* Steps st (statement i) to its end. 0, or our code with l's diag. */
static int
az_done(struct mca_ledger *l, enum az_stmt i, sqlite3_stmt *st)
{
	return mca_ledger_stmt_done(l, az_what[i], st);
}

/* Runs statement i, which takes no parameters and returns no rows. */
static int
az_exec(struct mca_ledger *l, enum az_stmt i)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if ((rc = az_prepare(l, i, &st)) == 0)
		rc = az_done(l, i, st);
	sqlite3_finalize(st);
	return rc;
}

/* The end of a public function: a failure's why also into d. Returns rc. */
static int
az_out(struct mca_ledger *l, struct mca_diag *d, int rc)
{
	if (rc == 0)
		mca_diag_clear(d);
	else
		mca_diag(d, rc, "%s", mca_ledger_errmsg(l, rc));
	return rc;
}

/*
 * Column i into dst (dstsz bytes). A value that does not fit is an
 * error (MCA_ERR_DB with l's diag naming what), not a cut: a serial cut
 * short would name another certificate. SQL NULL becomes "".
 */
static int
az_column(struct mca_ledger *l, sqlite3_stmt *st, int i, char *dst,
    size_t dstsz, const char *what)
{
	const unsigned char	*s;
	size_t			 n;

	dst[0] = '\0';
	if ((s = sqlite3_column_text(st, i)) == NULL)
		return 0;
	if ((n = (size_t)sqlite3_column_bytes(st, i)) >= dstsz)
		return mca_diag(mca_ledger_diag(l), MCA_ERR_DB, "%s: %s of "
		    "certificate %lld is over %zu bytes", az_what[AZ_DUE],
		    what, (long long)sqlite3_column_int64(st, 0), dstsz - 1);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* A copy of column i, or NULL for SQL NULL. 0 or MCA_ERR_NOMEM. */
static int
az_column_dup(struct mca_ledger *l, sqlite3_stmt *st, int i, char **out)
{
	const unsigned char	*s;

	*out = NULL;
	if ((s = sqlite3_column_text(st, i)) == NULL) {
		if (sqlite3_column_type(st, i) == SQLITE_NULL)
			return 0;
		return mca_diag(mca_ledger_diag(l), MCA_ERR_NOMEM,
		    "%s: out of memory", az_what[AZ_DUE]);
	}
	if ((*out = strdup((const char *)s)) == NULL)
		return mca_diag(mca_ledger_diag(l), MCA_ERR_NOMEM,
		    "%s: out of memory", az_what[AZ_DUE]);
	return 0;
}

/*
 * s (NULL: none) is at most max bytes of text on one line: no control
 * character (RFC 5234 B.1), tabs included.
 */
static int
az_text_ok(const char *s, size_t max)
{
	size_t	 n;

	if (s == NULL)
		return 1;
	n = strlen(s);
	return n <= max && mca_text_ctl_span(s, n, 0) == n;
}

/* An HTTP status as recorded: 0 (none) or 100 to 599 (RFC 9110 15). */
static int
az_status_ok(long status)
{
	return status == 0 || (status >= 100 && status <= 599);
}

/*
 * Why row id is not pending, inside the transaction that found it so:
 * MCA_ERR_NOTFOUND with l's diag saying its state, or another code.
 */
static int
az_not_pending(struct mca_ledger *l, const char *what, long long id)
{
	sqlite3_stmt		*st = NULL;
	const unsigned char	*s;
	int			 rc, src;

	if ((rc = az_prepare(l, AZ_STATE, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)id) != SQLITE_OK) {
		rc = az_bind_fail(l, AZ_STATE);
		goto out;
	}
	if ((src = sqlite3_step(st)) == SQLITE_DONE) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_NOTFOUND, "%s: no "
		    "certificate with id %lld", what, id);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = mca_ledger_sqlfail(l, src, az_what[AZ_STATE]);
		goto out;
	}
	s = sqlite3_column_text(st, 0);
	rc = mca_diag(mca_ledger_diag(l), MCA_ERR_NOTFOUND, "%s: certificate "
	    "%lld is not pending (azure_sync is %s)", what, id,
	    s != NULL ? (const char *)s : "NULL");
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- the sync job */

void
mca_ledger_azrows_free(struct mca_ledger_azrow *rows, size_t n)
{
	size_t	 i;

	if (rows == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(rows[i].pem);
		free(rows[i].prev_pem);
	}
	free(rows);
}

/* The row st is on (AZ_DUE) into *r. 0, MCA_ERR_DB or MCA_ERR_NOMEM. */
static int
az_due_row(struct mca_ledger *l, sqlite3_stmt *st, struct mca_ledger_azrow *r)
{
	int	 rc;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	if ((rc = az_column(l, st, 1, r->serial, sizeof(r->serial),
	    "serial")) != 0 ||
	    (rc = az_column(l, st, 2, r->label, sizeof(r->label),
	    "label")) != 0 ||
	    (rc = az_column(l, st, 7, r->request_id, sizeof(r->request_id),
	    "request_id")) != 0 ||
	    (rc = az_column_dup(l, st, 3, &r->pem)) != 0 ||
	    (rc = az_column_dup(l, st, 4, &r->prev_pem)) != 0)
		return rc;
	r->attempts = sqlite3_column_int(st, 5);
	r->next_attempt = sqlite3_column_int64(st, 6);
	return 0;
}

int
mca_ledger_azure_due(struct mca_ledger *l, long long now, size_t max,
    struct mca_ledger_azrow **rows, size_t *n, struct mca_diag *d)
{
	struct mca_ledger_azrow	*v = NULL, *nv;
	sqlite3_stmt		*st = NULL;
	size_t			 got = 0, cap = 0;
	int			 rc, src = SQLITE_DONE;

	if (rows != NULL)
		*rows = NULL;
	if (n != NULL)
		*n = 0;
	if (l == NULL || rows == NULL || n == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "Azure sync queue: no "
		    "ledger or no place for the rows");
	mca_diag_clear(mca_ledger_diag(l));
	if (max == 0)
		return az_out(l, d, 0);
	if ((rc = az_prepare(l, AZ_DUE, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, max > (size_t)INT64_MAX ? INT64_MAX :
	    (sqlite3_int64)max) != SQLITE_OK) {
		rc = az_bind_fail(l, AZ_DUE);
		goto out;
	}
	while (got < max && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if (got == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if (cap > max)
				cap = max;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = mca_diag(mca_ledger_diag(l),
				    MCA_ERR_NOMEM, "%s: out of memory",
				    az_what[AZ_DUE]);
				goto out;
			}
			v = nv;
		}
		/* Counted first: a half-filled row is freed with the rest. */
		got++;
		if ((rc = az_due_row(l, st, &v[got - 1])) != 0)
			goto out;
	}
	if (got < max && src != SQLITE_DONE) {
		rc = mca_ledger_sqlfail(l, src, az_what[AZ_DUE]);
		goto out;
	}
	*rows = v;
	*n = got;
	v = NULL;
	got = 0;
	rc = 0;
out:
	/* On failure, nothing is handed out. */
	mca_ledger_azrows_free(v, got);
	sqlite3_finalize(st);
	return az_out(l, d, rc);
}

int
mca_ledger_azure_synced(struct mca_ledger *l, long long id, long long now,
    long status, const char *etag, struct mca_diag *d)
{
	static const char	 what[] = "mark certificate synced to Azure";
	struct mca_diag		*ld;
	sqlite3_stmt		*st = NULL;
	int			 rc, intx = 0;

	if (l == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "%s: no ledger", what);
	ld = mca_ledger_diag(l);
	mca_diag_clear(ld);
	if (etag != NULL && *etag == '\0')
		etag = NULL;
	if (id < 1 || now < 0)
		rc = mca_diag(ld, MCA_ERR_INVAL, "%s: bad id %lld or time "
		    "%lld", what, id, now);
	else if (!az_status_ok(status))
		rc = mca_diag(ld, MCA_ERR_INVAL, "%s: HTTP status %ld is not "
		    "0 or 100 to 599", what, status);
	else if (!az_text_ok(etag, MCA_LEDGER_AZ_TAG_MAX))
		rc = mca_diag(ld, MCA_ERR_INVAL, "%s: etag must be at most "
		    "%d bytes without control characters", what,
		    MCA_LEDGER_AZ_TAG_MAX);
	else
		rc = 0;
	if (rc != 0)
		return az_out(l, d, rc);

	if ((rc = az_exec(l, AZ_BEGIN)) != 0)
		goto out;
	intx = 1;
	if ((rc = az_prepare(l, AZ_SYNCED_CERT, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)id) != SQLITE_OK) {
		rc = az_bind_fail(l, AZ_SYNCED_CERT);
		goto out;
	}
	if ((rc = az_done(l, AZ_SYNCED_CERT, st)) != 0)
		goto out;
	if (sqlite3_changes(mca_ledger_sqlite(l)) != 1) {
		rc = az_not_pending(l, what, id);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = az_prepare(l, AZ_SYNCED_STATE, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)id) != SQLITE_OK ||
	    az_bind_status(st, 2, status) != SQLITE_OK ||
	    mca_ledger_bind(st, 3, etag) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)now) != SQLITE_OK) {
		rc = az_bind_fail(l, AZ_SYNCED_STATE);
		goto out;
	}
	if ((rc = az_done(l, AZ_SYNCED_STATE, st)) != 0 ||
	    (rc = az_exec(l, AZ_COMMIT)) != 0)
		goto out;
	intx = 0;
	rc = 0;
out:
	if (intx)
		mca_ledger_rollback(l);
	sqlite3_finalize(st);
	return az_out(l, d, rc);
}

int
mca_ledger_azure_defer(struct mca_ledger *l, long long id, long long now,
    long long next_attempt, long status, const char *error,
    const char *request_id, int failed, struct mca_diag *d)
{
	static const char	 what[] = "put off Azure sync";
	struct mca_diag		*ld;
	sqlite3_stmt		*st = NULL;
	int			 rc, intx = 0;

	if (l == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "%s: no ledger", what);
	ld = mca_ledger_diag(l);
	mca_diag_clear(ld);
	if (error != NULL && *error == '\0')
		error = NULL;
	if (id < 1 || now < 0 || next_attempt < 0)
		rc = mca_diag(ld, MCA_ERR_INVAL, "%s: bad id %lld or time "
		    "%lld or %lld", what, id, now, next_attempt);
	else if (!az_status_ok(status))
		rc = mca_diag(ld, MCA_ERR_INVAL, "%s: HTTP status %ld is not "
		    "0 or 100 to 599", what, status);
	else if (!az_text_ok(error, MCA_LEDGER_AZ_ERROR_MAX))
		rc = mca_diag(ld, MCA_ERR_INVAL, "%s: the error must be one "
		    "line of at most %d bytes", what, MCA_LEDGER_AZ_ERROR_MAX);
	else if (!az_text_ok(request_id, MCA_LEDGER_AZ_TAG_MAX))
		rc = mca_diag(ld, MCA_ERR_INVAL, "%s: request id must be at "
		    "most %d bytes without control characters", what,
		    MCA_LEDGER_AZ_TAG_MAX);
	else
		rc = 0;
	if (rc != 0)
		return az_out(l, d, rc);

	if ((rc = az_exec(l, AZ_BEGIN)) != 0)
		goto out;
	intx = 1;
	if ((rc = az_prepare(l, AZ_DEFER_CERT, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)id) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, failed != 0) != SQLITE_OK) {
		rc = az_bind_fail(l, AZ_DEFER_CERT);
		goto out;
	}
	if ((rc = az_done(l, AZ_DEFER_CERT, st)) != 0)
		goto out;
	if (sqlite3_changes(mca_ledger_sqlite(l)) != 1) {
		rc = az_not_pending(l, what, id);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = az_prepare(l, AZ_DEFER_STATE, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)next_attempt) !=
	    SQLITE_OK ||
	    az_bind_status(st, 3, status) != SQLITE_OK ||
	    mca_ledger_bind(st, 4, error) != SQLITE_OK ||
	    mca_ledger_bind(st, 5, request_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)now) != SQLITE_OK) {
		rc = az_bind_fail(l, AZ_DEFER_STATE);
		goto out;
	}
	if ((rc = az_done(l, AZ_DEFER_STATE, st)) != 0 ||
	    (rc = az_exec(l, AZ_COMMIT)) != 0)
		goto out;
	intx = 0;
	rc = 0;
out:
	if (intx)
		mca_ledger_rollback(l);
	sqlite3_finalize(st);
	return az_out(l, d, rc);
}

/* ---- the admin */

/* The row st is on (AZ_STATUS_SELECT) into *s. */
static void
az_status_row(sqlite3_stmt *st, struct mca_ledger_azstatus *s)
{
	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(st, 0);
	mca_ledger_column(st, 1, s->serial, sizeof(s->serial));
	mca_ledger_column(st, 2, s->label, sizeof(s->label));
	mca_ledger_column(st, 3, s->subject, sizeof(s->subject));
	s->pem = (const char *)sqlite3_column_text(st, 4);
	mca_ledger_column(st, 5, s->state, sizeof(s->state));
	s->attempts = sqlite3_column_int(st, 6);
	s->next_attempt = sqlite3_column_int64(st, 7);
	s->last_status = (long)sqlite3_column_int64(st, 8);
	mca_ledger_column(st, 9, s->last_error, sizeof(s->last_error));
	mca_ledger_column(st, 10, s->etag, sizeof(s->etag));
	mca_ledger_column(st, 11, s->request_id, sizeof(s->request_id));
	s->synced_at = sqlite3_column_int64(st, 12);
	mca_ledger_column(st, 13, s->issued_at, sizeof(s->issued_at));
}

int
mca_ledger_azure_list(struct mca_ledger *l, int all,
    int (*cb)(void *, const struct mca_ledger_azstatus *), void *arg,
    struct mca_diag *d)
{
	struct mca_ledger_azstatus	*s = NULL;
	enum az_stmt			 i = all ? AZ_LIST_ALL : AZ_LIST;
	sqlite3_stmt			*st = NULL;
	int				 rc, src;

	if (l == NULL || cb == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "list Azure sync queue: no "
		    "ledger or no callback");
	mca_diag_clear(mca_ledger_diag(l));
	/* Some 2 KiB: on the heap, not on a caller's stack. */
	if ((s = malloc(sizeof(*s))) == NULL) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_NOMEM, "%s: out of "
		    "memory", az_what[i]);
		goto out;
	}
	if ((rc = az_prepare(l, i, &st)) != 0)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		az_status_row(st, s);
		/* The caller's verdict, not a failure of ours. */
		if ((rc = cb(arg, s)) != 0) {
			sqlite3_finalize(st);
			free(s);
			mca_diag_clear(d);
			return rc;
		}
	}
	rc = src == SQLITE_DONE ? 0 : mca_ledger_sqlfail(l, src, az_what[i]);
out:
	free(s);
	sqlite3_finalize(st);
	return az_out(l, d, rc);
}

/*
 * Puts the certificate with serial back in the queue, inside the
 * caller's transaction. *n is 1 when done.
 */
static int
az_retry_one(struct mca_ledger *l, const char *serial, long long now,
    size_t *n)
{
	static const char	 what[] = "retry Azure sync";
	sqlite3_stmt		*st = NULL;
	char			 state[16], label[MCA_LEDGER_AZ_LABEL_MAX + 1];
	long long		 id;
	int			 rc, src, wasfailed;

	if ((rc = az_prepare(l, AZ_FIND, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, serial) != SQLITE_OK) {
		rc = az_bind_fail(l, AZ_FIND);
		goto out;
	}
	if ((src = sqlite3_step(st)) == SQLITE_DONE) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_NOTFOUND, "no "
		    "certificate with serial %s in the ledger", serial);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = mca_ledger_sqlfail(l, src, az_what[AZ_FIND]);
		goto out;
	}
	id = sqlite3_column_int64(st, 0);
	mca_ledger_column(st, 1, state, sizeof(state));
	mca_ledger_column(st, 2, label, sizeof(label));
	if (strcmp(state, "none") == 0) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_POLICY, "%s: "
		    "certificate %s is not queued for Azure IoT Hub: its "
		    "label \"%s\" was not a device label (is_device_cert) "
		    "when it was issued", what, serial,
		    label[0] != '\0' ? label : "-");
		goto out;
	}
	if (strcmp(state, "synced") == 0) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_POLICY, "%s: "
		    "certificate %s is synced to Azure IoT Hub already",
		    what, serial);
		goto out;
	}
	wasfailed = strcmp(state, "failed") == 0;
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = az_prepare(l, AZ_RETRY_CERT, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)id) != SQLITE_OK) {
		rc = az_bind_fail(l, AZ_RETRY_CERT);
		goto out;
	}
	if ((rc = az_done(l, AZ_RETRY_CERT, st)) != 0)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = az_prepare(l, AZ_RETRY_STATE, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)id) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, wasfailed) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (sqlite3_int64)now) != SQLITE_OK) {
		rc = az_bind_fail(l, AZ_RETRY_STATE);
		goto out;
	}
	if ((rc = az_done(l, AZ_RETRY_STATE, st)) != 0)
		goto out;
	*n = 1;
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Puts every failed row back, inside the caller's transaction. */
static int
az_retry_all(struct mca_ledger *l, long long now, size_t *n)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if ((rc = az_prepare(l, AZ_RETRY_ALL_STATE, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)now) != SQLITE_OK) {
		rc = az_bind_fail(l, AZ_RETRY_ALL_STATE);
		goto out;
	}
	if ((rc = az_done(l, AZ_RETRY_ALL_STATE, st)) != 0)
		goto out;
	if ((rc = az_exec(l, AZ_RETRY_ALL_CERT)) != 0)
		goto out;
	*n = (size_t)sqlite3_changes(mca_ledger_sqlite(l));
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
mca_ledger_azure_retry(struct mca_ledger *l, const char *serial,
    long long now, size_t *n, struct mca_diag *d)
{
	struct mca_diag	*ld;
	size_t		 got = 0;
	int		 rc, intx = 0;

	if (n != NULL)
		*n = 0;
	if (l == NULL || n == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "retry Azure sync: no "
		    "ledger");
	ld = mca_ledger_diag(l);
	mca_diag_clear(ld);
	if (serial != NULL && (*serial == '\0' ||
	    strlen(serial) > MCA_LEDGER_AZ_SERIAL_MAX ||
	    strspn(serial, "0123456789ABCDEF") != strlen(serial)))
		return az_out(l, d, mca_diag(ld, MCA_ERR_INVAL, "retry Azure "
		    "sync: a serial is 1 to %d uppercase hex digits",
		    MCA_LEDGER_AZ_SERIAL_MAX));
	if (now < 0)
		return az_out(l, d, mca_diag(ld, MCA_ERR_INVAL, "retry Azure "
		    "sync: bad time %lld", now));

	if ((rc = az_exec(l, AZ_BEGIN)) != 0)
		goto out;
	intx = 1;
	if (serial != NULL)
		rc = az_retry_one(l, serial, now, &got);
	else
		rc = az_retry_all(l, now, &got);
	if (rc != 0 || (rc = az_exec(l, AZ_COMMIT)) != 0)
		goto out;
	intx = 0;
	*n = got;
	rc = 0;
out:
	if (intx)
		mca_ledger_rollback(l);
	return az_out(l, d, rc);
}
