/*
 * The Micro CA's own certificates in the ledger (lib/castate.h,
 * sql/migrations/0008-ca-state.sql), on the ledger's connection. The
 * statements are prepared per call: the busiest caller, a worker asking
 * for the active id, does so at most once a second.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "castate.h"
#include "err.h"
#include "ledger.h"
#include "ledger_int.h"

/* The CHECKs of the tables, checked here first to say which field. */
#define CS_PATH_MAX	4096
#define CS_CSR_MAX	65536
#define CS_SERIAL_MAX	64
#define CS_SHA256_LEN	64

enum cs_stmt {
	CS_BEGIN,
	CS_COMMIT,
	CS_ACTIVE_ID,
	CS_ACTIVE,
	CS_RETIRED,
	CS_ACTIVE_KEYS,
	CS_RETIRE,
	CS_INSERT_GEN,
	CS_SUPERSEDE,
	CS_UNSUPERSEDE,
	CS_PENDING_GET,
	CS_PENDING_PUT,
	CS_PENDING_WAIT,
	CS_PENDING_CLEAR,
	CS_KEYS_UNUSED,
	CS_KEY_REMOVED,
	CS_MAX
};

/* What each statement does, for the detail of a failure. */
static const char *const cs_what[CS_MAX] = {
	"begin",
	"commit",
	"read active CA generation id",
	"read active CA generation",
	"read retired CA generations",
	"read active CA key",
	"retire CA generation",
	"insert CA generation",
	"record superseded key",
	"forget superseded key",
	"read pending renewal",
	"record pending renewal",
	"postpone pending renewal",
	"clear pending renewal",
	"list unused superseded keys",
	"forget removed key",
};

/* The columns struct mca_ca_gen is read from, in cs_gen_row()'s order. */
#define GEN_SELECT \
	"SELECT id, state, key_label, key_path, chain_pem, serial, sha256, " \
	"not_before, not_after, installed_at FROM ca_generations "

static const char *const cs_sql[CS_MAX] = {
	/* CS_BEGIN: the write lock first, so two installs cannot race. */
	"BEGIN IMMEDIATE",
	"COMMIT",
	/* CS_ACTIVE_ID: the index (state, id) answers it alone. */
	"SELECT id FROM ca_generations WHERE state = 'active' "
	"ORDER BY id DESC LIMIT 1",
	/* CS_ACTIVE */
	GEN_SELECT "WHERE state = 'active' ORDER BY id DESC LIMIT 1",
	/* CS_RETIRED: ?1 now, ?2 how many */
	GEN_SELECT "WHERE state = 'retired' AND not_after > ?1 "
	"ORDER BY id DESC LIMIT ?2",
	/* CS_ACTIVE_KEYS: the labels the rows retired next were using. */
	"SELECT key_label FROM ca_generations WHERE state = 'active' AND "
	"key_label IS NOT NULL",
	/* CS_RETIRE */
	"UPDATE ca_generations SET state = 'retired' WHERE state = 'active'",
	/* CS_INSERT_GEN */
	"INSERT INTO ca_generations (state, key_label, key_path, chain_pem, "
	"serial, sha256, not_before, not_after, installed_at) "
	"VALUES ('active', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	/* CS_SUPERSEDE: ?1 label, ?2 now; the first date is kept. */
	"INSERT INTO key_superseded (key_label, since) VALUES (?1, ?2) "
	"ON CONFLICT (key_label) DO NOTHING",
	/* CS_UNSUPERSEDE: a label taken into use again is no longer spare. */
	"DELETE FROM key_superseded WHERE key_label = ?1",
	/* CS_PENDING_GET */
	"SELECT job, key_label, key_path, csr_pem, created_at, retry_at, "
	"attempts FROM renew_pending WHERE job = ?1",
	/* CS_PENDING_PUT: a new attempt starts from nothing. */
	"INSERT INTO renew_pending (job, key_label, key_path, csr_pem, "
	"created_at, retry_at, attempts) VALUES (?1, ?2, ?3, ?4, ?5, NULL, 0) "
	"ON CONFLICT (job) DO UPDATE SET key_label = excluded.key_label, "
	"key_path = excluded.key_path, csr_pem = excluded.csr_pem, "
	"created_at = excluded.created_at, retry_at = NULL, attempts = 0",
	/* CS_PENDING_WAIT */
	"UPDATE renew_pending SET attempts = attempts + 1, retry_at = ?2 "
	"WHERE job = ?1",
	/* CS_PENDING_CLEAR */
	"DELETE FROM renew_pending WHERE job = ?1",
	/*
	 * CS_KEYS_UNUSED: ?1 now, ?2 how many. A label any generation still
	 * signs or verifies with, or an attempt still holds, stays.
	 */
	"SELECT s.key_label FROM key_superseded AS s WHERE NOT EXISTS "
	"(SELECT 1 FROM ca_generations AS g WHERE g.key_label = s.key_label "
	"AND (g.state = 'active' OR g.not_after > ?1)) AND NOT EXISTS "
	"(SELECT 1 FROM renew_pending AS p WHERE p.key_label = s.key_label) "
	"ORDER BY s.since, s.rowid LIMIT ?2",
	/* CS_KEY_REMOVED */
	"DELETE FROM key_superseded WHERE key_label = ?1",
};

/* Prepares statement i on l's connection. 0, or our code with l's diag. */
static int
cs_prepare(struct mca_ledger *l, enum cs_stmt i, sqlite3_stmt **st)
{
	return mca_ledger_prepare(l, cs_sql[i], cs_what[i], st);
}

/* A bind of statement i failed. */
static int
cs_bind_fail(struct mca_ledger *l, enum cs_stmt i)
{
	return mca_ledger_bind_failed(l, cs_what[i]);
}

/* Steps st (statement i) to its end. 0, or our code with l's diag. */
static int
cs_done(struct mca_ledger *l, enum cs_stmt i, sqlite3_stmt *st)
{
	return mca_ledger_stmt_done(l, cs_what[i], st);
}

/* Runs statement i, which takes no parameters and returns no rows. */
static int
cs_exec(struct mca_ledger *l, enum cs_stmt i)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if ((rc = cs_prepare(l, i, &st)) == 0)
		rc = cs_done(l, i, st);
	sqlite3_finalize(st);
	return rc;
}

/* A copy of column i, or NULL for SQL NULL. 0 or MCA_ERR_NOMEM. */
static int
cs_column_dup(struct mca_ledger *l, sqlite3_stmt *st, int i, char **out)
{
	const unsigned char	*s;

	*out = NULL;
	if ((s = sqlite3_column_text(st, i)) == NULL) {
		if (sqlite3_column_type(st, i) == SQLITE_NULL)
			return 0;
		return mca_diag(mca_ledger_diag(l), MCA_ERR_NOMEM,
		    "castate: out of memory");
	}
	if ((*out = strdup((const char *)s)) == NULL)
		return mca_diag(mca_ledger_diag(l), MCA_ERR_NOMEM,
		    "castate: out of memory");
	return 0;
}

/* Column i into dst (dstsz bytes), cut if longer. */
static void
cs_column(sqlite3_stmt *st, int i, char *dst, size_t dstsz)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	(void)snprintf(dst, dstsz, "%s", s != NULL ? (const char *)s : "");
}

void
mca_ca_gen_free(struct mca_ca_gen *g)
{
	if (g == NULL)
		return;
	free(g->key_label);
	free(g->key_path);
	free(g->chain_pem);
	g->key_label = g->key_path = g->chain_pem = NULL;
}

void
mca_renew_pending_free(struct mca_renew_pending *p)
{
	if (p == NULL)
		return;
	free(p->job);
	free(p->key_label);
	free(p->key_path);
	free(p->csr_pem);
	p->job = p->key_label = p->key_path = p->csr_pem = NULL;
}

/* The row st is on (GEN_SELECT) into *g. 0 or MCA_ERR_NOMEM. */
static int
cs_gen_row(struct mca_ledger *l, sqlite3_stmt *st, struct mca_ca_gen *g)
{
	const unsigned char	*state;
	int			 rc;

	memset(g, 0, sizeof(*g));
	g->id = sqlite3_column_int64(st, 0);
	state = sqlite3_column_text(st, 1);
	g->active = state != NULL &&
	    strcmp((const char *)state, "active") == 0;
	if ((rc = cs_column_dup(l, st, 2, &g->key_label)) != 0 ||
	    (rc = cs_column_dup(l, st, 3, &g->key_path)) != 0 ||
	    (rc = cs_column_dup(l, st, 4, &g->chain_pem)) != 0) {
		mca_ca_gen_free(g);
		return rc;
	}
	cs_column(st, 5, g->serial, sizeof(g->serial));
	cs_column(st, 6, g->sha256, sizeof(g->sha256));
	g->not_before = (time_t)sqlite3_column_int64(st, 7);
	g->not_after = (time_t)sqlite3_column_int64(st, 8);
	g->installed_at = (time_t)sqlite3_column_int64(st, 9);
	return 0;
}

/* ---- checks of the arguments, each saying which one is wrong */

/* s is set and 1 to max bytes. */
static int
cs_len_ok(const char *s, size_t max)
{
	return s != NULL && *s != '\0' && strlen(s) <= max;
}

/* One of the four jobs the table knows. */
static int
cs_job_ok(const char *job)
{
	static const char *const jobs[] = {
		MCA_JOB_INTERMEDIATE, MCA_JOB_DEVICE, MCA_JOB_MTLS_SERVER,
		MCA_JOB_MTLS_CLIENT,
	};
	size_t	 i;

	if (job == NULL)
		return 0;
	for (i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
		if (strcmp(job, jobs[i]) == 0)
			return 1;
	return 0;
}

/* Exactly one of label and path, each within the table's bounds. */
static int
cs_key_ok(struct mca_diag *d, const char *what, const char *label,
    const char *path)
{
	if ((label == NULL) == (path == NULL))
		return mca_diag(d, MCA_ERR_INVAL, "%s: exactly one of key "
		    "label and key path must be given", what);
	if (label != NULL && !cs_len_ok(label, MCA_CASTATE_LABEL_MAX))
		return mca_diag(d, MCA_ERR_INVAL, "%s: key label must be 1 "
		    "to %d bytes", what, MCA_CASTATE_LABEL_MAX);
	if (path != NULL && !cs_len_ok(path, CS_PATH_MAX))
		return mca_diag(d, MCA_ERR_INVAL, "%s: key path must be 1 "
		    "to %d bytes", what, CS_PATH_MAX);
	return 0;
}

static int
cs_hex_ok(const char *s, size_t len)
{
	size_t	 i;

	if (s == NULL || strlen(s) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return 0;
	return 1;
}

/* ---- generations */

int
mca_castate_active_id(struct mca_ledger *l, long long *id)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, src;

	if (id != NULL)
		*id = 0;
	if (l == NULL || id == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(mca_ledger_diag(l));
	if ((rc = cs_prepare(l, CS_ACTIVE_ID, &st)) != 0)
		goto out;
	if ((src = sqlite3_step(st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else if (src != SQLITE_DONE) {
		rc = mca_ledger_sqlfail(l, src, cs_what[CS_ACTIVE_ID]);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
mca_castate_active(struct mca_ledger *l, struct mca_ca_gen *g)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, src;

	if (g != NULL)
		memset(g, 0, sizeof(*g));
	if (l == NULL || g == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(mca_ledger_diag(l));
	if ((rc = cs_prepare(l, CS_ACTIVE, &st)) != 0)
		goto out;
	if ((src = sqlite3_step(st)) == SQLITE_DONE) {
		rc = MCA_ERR_NOTFOUND;
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = mca_ledger_sqlfail(l, src, cs_what[CS_ACTIVE]);
		goto out;
	}
	rc = cs_gen_row(l, st, g);
out:
	sqlite3_finalize(st);
	return rc;
}

int
mca_castate_retired(struct mca_ledger *l, time_t now,
    struct mca_ca_gen *gens, size_t max, size_t *n)
{
	sqlite3_stmt	*st = NULL;
	size_t		 i, got = 0;
	int		 rc, src = SQLITE_DONE;

	if (n != NULL)
		*n = 0;
	if (gens != NULL)
		for (i = 0; i < max; i++)
			memset(&gens[i], 0, sizeof(gens[i]));
	if (l == NULL || n == NULL || (gens == NULL && max > 0))
		return MCA_ERR_INVAL;
	mca_diag_clear(mca_ledger_diag(l));
	if (max == 0)
		return 0;
	if ((rc = cs_prepare(l, CS_RETIRED, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)max) != SQLITE_OK) {
		rc = cs_bind_fail(l, CS_RETIRED);
		goto out;
	}
	while (got < max && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = cs_gen_row(l, st, &gens[got])) != 0)
			goto out;
		got++;
	}
	if (got < max && src != SQLITE_DONE) {
		rc = mca_ledger_sqlfail(l, src, cs_what[CS_RETIRED]);
		goto out;
	}
	*n = got;
	got = 0;
	rc = 0;
out:
	/* On failure, nothing is handed out. */
	for (i = 0; i < got; i++)
		mca_ca_gen_free(&gens[i]);
	sqlite3_finalize(st);
	return rc;
}

/*
 * Records label as superseded at now (a NULL label: nothing), unless it
 * is keep, the label taken into use instead. Inside the caller's
 * transaction.
 */
static int
cs_supersede(struct mca_ledger *l, const char *label, const char *keep,
    time_t now)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if (label == NULL || (keep != NULL && strcmp(label, keep) == 0))
		return 0;
	if ((rc = cs_prepare(l, CS_SUPERSEDE, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, label) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)now) != SQLITE_OK) {
		rc = cs_bind_fail(l, CS_SUPERSEDE);
		goto out;
	}
	rc = cs_done(l, CS_SUPERSEDE, st);
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * A label taken into use (again) is no longer a spare key to remove
 * (a NULL label: nothing). Inside the caller's transaction.
 */
static int
cs_unsupersede(struct mca_ledger *l, const char *label)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if (label == NULL)
		return 0;
	if ((rc = cs_prepare(l, CS_UNSUPERSEDE, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, label) != SQLITE_OK) {
		rc = cs_bind_fail(l, CS_UNSUPERSEDE);
		goto out;
	}
	rc = cs_done(l, CS_UNSUPERSEDE, st);
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * The key label of job's attempt into *label (NULL: no attempt, or one
 * with a key file), inside the caller's transaction.
 */
static int
cs_pending_label(struct mca_ledger *l, const char *job, char **label)
{
	struct mca_renew_pending	 p;
	int				 rc;

	*label = NULL;
	if ((rc = mca_castate_pending_get(l, job, &p)) == MCA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	*label = p.key_label;
	p.key_label = NULL;
	mca_renew_pending_free(&p);
	return 0;
}

/*
 * The previous active generations' key labels that differ from keep go
 * to key_superseded; inside the caller's transaction.
 */
static int
cs_supersede_active(struct mca_ledger *l, const char *keep, time_t now)
{
	sqlite3_stmt	*st = NULL;
	char		*label = NULL;
	int		 rc, src;

	if ((rc = cs_prepare(l, CS_ACTIVE_KEYS, &st)) != 0)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = cs_column_dup(l, st, 0, &label)) != 0 ||
		    (rc = cs_supersede(l, label, keep, now)) != 0)
			goto out;
		free(label);
		label = NULL;
	}
	if (src != SQLITE_DONE) {
		rc = mca_ledger_sqlfail(l, src, cs_what[CS_ACTIVE_KEYS]);
		goto out;
	}
	rc = 0;
out:
	free(label);
	sqlite3_finalize(st);
	return rc;
}

int
mca_castate_install(struct mca_ledger *l, const char *key_label,
    const char *key_path, const char *chain_pem, const char *serial,
    const char *sha256, time_t not_before, time_t not_after, long long *id)
{
	struct mca_diag	*d;
	sqlite3_stmt	*st = NULL;
	char		*plabel = NULL;
	time_t		 now;
	int		 rc, intx = 0;

	if (id != NULL)
		*id = 0;
	if (l == NULL || id == NULL)
		return MCA_ERR_INVAL;
	d = mca_ledger_diag(l);
	mca_diag_clear(d);
	if ((rc = cs_key_ok(d, "install CA generation", key_label,
	    key_path)) != 0)
		return rc;
	if (!cs_len_ok(chain_pem, MCA_CASTATE_CHAIN_MAX))
		return mca_diag(d, MCA_ERR_INVAL, "install CA generation: "
		    "chain must be 1 to %d bytes", MCA_CASTATE_CHAIN_MAX);
	if (!cs_len_ok(serial, CS_SERIAL_MAX))
		return mca_diag(d, MCA_ERR_INVAL, "install CA generation: "
		    "serial must be 1 to %d bytes", CS_SERIAL_MAX);
	if (!cs_hex_ok(sha256, CS_SHA256_LEN))
		return mca_diag(d, MCA_ERR_INVAL, "install CA generation: "
		    "sha256 must be %d hex digits", CS_SHA256_LEN);
	if (not_after <= not_before)
		return mca_diag(d, MCA_ERR_INVAL, "install CA generation: "
		    "notAfter is not after notBefore");

	if ((rc = cs_exec(l, CS_BEGIN)) != 0)
		goto out;
	intx = 1;
	/* Once the lock is ours: installed_at grows with the id. */
	now = time(NULL);
	/* The keys given up: the active one's, an abandoned attempt's. */
	if ((rc = cs_supersede_active(l, key_label, now)) != 0 ||
	    (rc = cs_pending_label(l, MCA_JOB_INTERMEDIATE, &plabel)) != 0 ||
	    (rc = cs_supersede(l, plabel, key_label, now)) != 0 ||
	    (rc = cs_unsupersede(l, key_label)) != 0)
		goto out;
	if ((rc = cs_exec(l, CS_RETIRE)) != 0)
		goto out;
	if ((rc = cs_prepare(l, CS_INSERT_GEN, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, key_label) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, key_path) != SQLITE_OK ||
	    mca_ledger_bind(st, 3, chain_pem) != SQLITE_OK ||
	    mca_ledger_bind(st, 4, serial) != SQLITE_OK ||
	    mca_ledger_bind(st, 5, sha256) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)not_before) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, (sqlite3_int64)not_after) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 8, (sqlite3_int64)now) != SQLITE_OK) {
		rc = cs_bind_fail(l, CS_INSERT_GEN);
		goto out;
	}
	if ((rc = cs_done(l, CS_INSERT_GEN, st)) != 0)
		goto out;
	*id = sqlite3_last_insert_rowid(mca_ledger_sqlite(l));
	if ((rc = mca_castate_pending_clear(l, MCA_JOB_INTERMEDIATE)) != 0 ||
	    (rc = cs_exec(l, CS_COMMIT)) != 0)
		goto out;
	intx = 0;
	rc = 0;
out:
	if (rc != 0) {
		*id = 0;
		if (intx)
			mca_ledger_rollback(l);
	}
	free(plabel);
	sqlite3_finalize(st);
	return rc;
}

/* ---- attempts in flight */

int
mca_castate_pending_get(struct mca_ledger *l, const char *job,
    struct mca_renew_pending *p)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, src;

	if (p != NULL)
		memset(p, 0, sizeof(*p));
	if (l == NULL || p == NULL)
		return MCA_ERR_INVAL;
	/* Not cleared: inside a transaction, the caller's failure stays. */
	if (!cs_job_ok(job))
		return mca_diag(mca_ledger_diag(l), MCA_ERR_INVAL,
		    "read pending renewal: unknown job %s",
		    job != NULL ? job : "(none)");
	if ((rc = cs_prepare(l, CS_PENDING_GET, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, job) != SQLITE_OK) {
		rc = cs_bind_fail(l, CS_PENDING_GET);
		goto out;
	}
	if ((src = sqlite3_step(st)) == SQLITE_DONE) {
		rc = MCA_ERR_NOTFOUND;
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = mca_ledger_sqlfail(l, src, cs_what[CS_PENDING_GET]);
		goto out;
	}
	if ((rc = cs_column_dup(l, st, 0, &p->job)) != 0 ||
	    (rc = cs_column_dup(l, st, 1, &p->key_label)) != 0 ||
	    (rc = cs_column_dup(l, st, 2, &p->key_path)) != 0 ||
	    (rc = cs_column_dup(l, st, 3, &p->csr_pem)) != 0) {
		mca_renew_pending_free(p);
		goto out;
	}
	p->created_at = (time_t)sqlite3_column_int64(st, 4);
	p->retry_at = (time_t)sqlite3_column_int64(st, 5);
	p->attempts = sqlite3_column_int(st, 6);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
mca_castate_pending_put(struct mca_ledger *l, const char *job,
    const char *key_label, const char *key_path, const char *csr_pem,
    time_t now)
{
	struct mca_diag	*d;
	sqlite3_stmt	*st = NULL;
	char		*plabel = NULL;
	int		 rc, intx = 0;

	if (l == NULL)
		return MCA_ERR_INVAL;
	d = mca_ledger_diag(l);
	mca_diag_clear(d);
	if (!cs_job_ok(job))
		return mca_diag(d, MCA_ERR_INVAL, "record pending renewal: "
		    "unknown job %s", job != NULL ? job : "(none)");
	if ((rc = cs_key_ok(d, "record pending renewal", key_label,
	    key_path)) != 0)
		return rc;
	if (!cs_len_ok(csr_pem, CS_CSR_MAX))
		return mca_diag(d, MCA_ERR_INVAL, "record pending renewal: "
		    "CSR must be 1 to %d bytes", CS_CSR_MAX);

	if ((rc = cs_exec(l, CS_BEGIN)) != 0)
		goto out;
	intx = 1;
	if ((rc = cs_pending_label(l, job, &plabel)) != 0 ||
	    (rc = cs_supersede(l, plabel, key_label, now)) != 0 ||
	    (rc = cs_unsupersede(l, key_label)) != 0)
		goto out;
	if ((rc = cs_prepare(l, CS_PENDING_PUT, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, job) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, key_label) != SQLITE_OK ||
	    mca_ledger_bind(st, 3, key_path) != SQLITE_OK ||
	    mca_ledger_bind(st, 4, csr_pem) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, (sqlite3_int64)now) != SQLITE_OK) {
		rc = cs_bind_fail(l, CS_PENDING_PUT);
		goto out;
	}
	if ((rc = cs_done(l, CS_PENDING_PUT, st)) != 0 ||
	    (rc = cs_exec(l, CS_COMMIT)) != 0)
		goto out;
	intx = 0;
	rc = 0;
out:
	if (intx)
		mca_ledger_rollback(l);
	free(plabel);
	sqlite3_finalize(st);
	return rc;
}

int
mca_castate_pending_wait(struct mca_ledger *l, const char *job,
    time_t retry_at)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if (l == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(mca_ledger_diag(l));
	if (!cs_job_ok(job))
		return mca_diag(mca_ledger_diag(l), MCA_ERR_INVAL,
		    "postpone pending renewal: unknown job %s",
		    job != NULL ? job : "(none)");
	if ((rc = cs_prepare(l, CS_PENDING_WAIT, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, job) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)retry_at) != SQLITE_OK) {
		rc = cs_bind_fail(l, CS_PENDING_WAIT);
		goto out;
	}
	if ((rc = cs_done(l, CS_PENDING_WAIT, st)) != 0)
		goto out;
	if (sqlite3_changes(mca_ledger_sqlite(l)) != 1) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_NOTFOUND,
		    "postpone pending renewal: no attempt of %s", job);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
mca_castate_pending_clear(struct mca_ledger *l, const char *job)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if (l == NULL)
		return MCA_ERR_INVAL;
	/* Not cleared: inside a transaction, the caller's failure stays. */
	if (!cs_job_ok(job))
		return mca_diag(mca_ledger_diag(l), MCA_ERR_INVAL,
		    "clear pending renewal: unknown job %s",
		    job != NULL ? job : "(none)");
	if ((rc = cs_prepare(l, CS_PENDING_CLEAR, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, job) != SQLITE_OK) {
		rc = cs_bind_fail(l, CS_PENDING_CLEAR);
		goto out;
	}
	rc = cs_done(l, CS_PENDING_CLEAR, st);
out:
	sqlite3_finalize(st);
	return rc;
}

int
mca_castate_pending_done(struct mca_ledger *l, const char *job,
    const char *const *superseded, size_t n, time_t now)
{
	struct mca_diag	*d;
	char		*plabel = NULL;
	size_t		 i;
	int		 rc, intx = 0;

	if (l == NULL || (superseded == NULL && n > 0))
		return MCA_ERR_INVAL;
	d = mca_ledger_diag(l);
	mca_diag_clear(d);
	if (!cs_job_ok(job) || strcmp(job, MCA_JOB_INTERMEDIATE) == 0)
		return mca_diag(d, MCA_ERR_INVAL, "end pending renewal: job "
		    "%s", job != NULL ? job : "(none)");
	for (i = 0; i < n; i++)
		if (!cs_len_ok(superseded[i], MCA_CASTATE_LABEL_MAX))
			return mca_diag(d, MCA_ERR_INVAL, "end pending "
			    "renewal: key label must be 1 to %d bytes",
			    MCA_CASTATE_LABEL_MAX);
	if ((rc = cs_exec(l, CS_BEGIN)) != 0)
		goto out;
	intx = 1;
	if ((rc = cs_pending_label(l, job, &plabel)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((rc = cs_supersede(l, superseded[i], plabel, now)) != 0)
			goto out;
	if ((rc = mca_castate_pending_clear(l, job)) != 0 ||
	    (rc = cs_exec(l, CS_COMMIT)) != 0)
		goto out;
	intx = 0;
	rc = 0;
out:
	if (intx)
		mca_ledger_rollback(l);
	free(plabel);
	return rc;
}

/* ---- superseded keys */

int
mca_castate_keys_unused(struct mca_ledger *l, time_t now,
    char labels[][MCA_CASTATE_LABEL_MAX + 1], size_t max, size_t *n)
{
	sqlite3_stmt		*st = NULL;
	const unsigned char	*s;
	size_t			 got = 0;
	int			 rc, src = SQLITE_DONE;

	if (n != NULL)
		*n = 0;
	if (l == NULL || n == NULL || (labels == NULL && max > 0))
		return MCA_ERR_INVAL;
	mca_diag_clear(mca_ledger_diag(l));
	if (max == 0)
		return 0;
	if ((rc = cs_prepare(l, CS_KEYS_UNUSED, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)max) != SQLITE_OK) {
		rc = cs_bind_fail(l, CS_KEYS_UNUSED);
		goto out;
	}
	while (got < max && (src = sqlite3_step(st)) == SQLITE_ROW) {
		/* The table's CHECK keeps a label within the buffer. */
		if ((s = sqlite3_column_text(st, 0)) == NULL ||
		    (size_t)sqlite3_column_bytes(st, 0) >
		    MCA_CASTATE_LABEL_MAX) {
			rc = mca_diag(mca_ledger_diag(l), MCA_ERR_DB,
			    "%s: a label over %d bytes",
			    cs_what[CS_KEYS_UNUSED], MCA_CASTATE_LABEL_MAX);
			goto out;
		}
		(void)snprintf(labels[got], MCA_CASTATE_LABEL_MAX + 1, "%s",
		    (const char *)s);
		got++;
	}
	if (got < max && src != SQLITE_DONE) {
		rc = mca_ledger_sqlfail(l, src, cs_what[CS_KEYS_UNUSED]);
		goto out;
	}
	*n = got;
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
mca_castate_key_removed(struct mca_ledger *l, const char *label)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if (l == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(mca_ledger_diag(l));
	if (!cs_len_ok(label, MCA_CASTATE_LABEL_MAX))
		return mca_diag(mca_ledger_diag(l), MCA_ERR_INVAL,
		    "forget removed key: key label must be 1 to %d bytes",
		    MCA_CASTATE_LABEL_MAX);
	if ((rc = cs_prepare(l, CS_KEY_REMOVED, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, label) != SQLITE_OK) {
		rc = cs_bind_fail(l, CS_KEY_REMOVED);
		goto out;
	}
	rc = cs_done(l, CS_KEY_REMOVED, st);
out:
	sqlite3_finalize(st);
	return rc;
}

int
mca_castate_key_intended(struct mca_ledger *l, const char *label,
    time_t now)
{
	if (l == NULL)
		return MCA_ERR_INVAL;
	mca_diag_clear(mca_ledger_diag(l));
	if (!cs_len_ok(label, MCA_CASTATE_LABEL_MAX))
		return mca_diag(mca_ledger_diag(l), MCA_ERR_INVAL,
		    "record superseded key: key label must be 1 to %d bytes",
		    MCA_CASTATE_LABEL_MAX);
	return cs_supersede(l, label, NULL, now);
}
