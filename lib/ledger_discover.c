/*
 * The certificate inventory of discovery in the ledger (lib/
 * ledger_discover.h, sql/migrations/0013-discovery.sql), on the
 * ledger's connection and with its busy handler.
 *
 * A run may see a hundred thousand files. Its statements are prepared
 * once; its writes go into transactions of up to TX_OPS rows or TX_MS
 * milliseconds, whichever comes first: few disk syncs, and the write
 * lock never held long enough to keep an EST issuance waiting past the
 * ledger's busy timeout. The rescan cache is read into a hash table
 * once, so that the walker's known() costs no query per file.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "certinfo.h"
#include "discover.h"
#include "err.h"
#include "ledger.h"
#include "ledger_discover.h"
#include "ledger_int.h"

#define TX_OPS		4096	/* rows written per transaction, at most */
#define TX_MS		200	/* a transaction's age before it commits */
#define CACHE_MIN	1024	/* hash slots to start with */

enum ds_stmt {
	DS_BEGIN,
	DS_COMMIT,
	DS_RUN_NEW,
	DS_RUN_END,
	DS_CACHE,
	DS_CERT_GET,
	DS_CERT_SEEN,
	DS_CERT_PUT,
	DS_FILE_CERTS_SEEN,
	DS_FILE_SEEN,
	DS_FILE_PUT,
	DS_GONE_FILES,
	DS_GONE_ENDPOINT,
	DS_DROP_FILES,
	DS_MAX
};

static const char *const ds_what[DS_MAX] = {
	"begin",
	"commit",
	"begin discovery run",
	"end discovery run",
	"read discovered files",
	"read discovered certificate",
	"mark discovered certificate seen",
	"write discovered certificate",
	"mark a known file's certificates seen",
	"mark a known file seen",
	"write discovered file",
	"mark certificates gone",
	"mark endpoint certificates gone",
	"drop files no longer found",
};

static const char *const ds_sql[DS_MAX] = {
	/* DS_BEGIN: the write lock first, so that no write waits on it. */
	"BEGIN IMMEDIATE",
	"COMMIT",
	/* DS_RUN_NEW: ?1 now */
	"INSERT INTO discovery_runs (started_at) VALUES (?1)",
	/* DS_RUN_END: ?1 run, ?2 now, ?3.. counts */
	"UPDATE discovery_runs SET finished_at = ?2, files = ?3, certs = ?4, "
	"new_certs = ?5, changed = ?6, gone = ?7 WHERE id = ?1",
	"SELECT path, size, mtime_ns, ino, ncerts FROM discovered_files",
	/* DS_CERT_GET: ?1 location, ?2 idx */
	"SELECT id, sha256, gone_since IS NOT NULL FROM discovered_certs "
	"WHERE location = ?1 AND idx = ?2",
	/* DS_CERT_SEEN: ?1 id, ?2 now, ?3 run */
	"UPDATE discovered_certs SET last_seen = ?2, seen_run = ?3, "
	"gone_since = NULL WHERE id = ?1",
	/*
	 * DS_CERT_PUT: a new or changed certificate at (location, idx).
	 * uploaded_sha256 is kept: a place that goes back to what was
	 * uploaded is not uploaded again.
	 */
	"INSERT INTO discovered_certs (location, idx, endpoint, subject, "
	"issuer, serial, not_before, not_after, sans, key_type, key_bits, "
	"sig_alg, is_ca, sha1, sha256, der, first_seen, last_seen, seen_run, "
	"issued_by_microca) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	"?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, ?18, "
	"EXISTS (SELECT 1 FROM certificates WHERE serial = ?6 AND "
	"issuer = ?5)) "
	"ON CONFLICT (location, idx) DO UPDATE SET "
	"endpoint = excluded.endpoint, subject = excluded.subject, "
	"issuer = excluded.issuer, serial = excluded.serial, "
	"not_before = excluded.not_before, not_after = excluded.not_after, "
	"sans = excluded.sans, key_type = excluded.key_type, "
	"key_bits = excluded.key_bits, sig_alg = excluded.sig_alg, "
	"is_ca = excluded.is_ca, sha1 = excluded.sha1, "
	"sha256 = excluded.sha256, der = excluded.der, "
	"first_seen = excluded.first_seen, last_seen = excluded.last_seen, "
	"gone_since = NULL, seen_run = excluded.seen_run, "
	"issued_by_microca = excluded.issued_by_microca",
	/* DS_FILE_CERTS_SEEN: ?1 path, ?2 now, ?3 run */
	"UPDATE discovered_certs SET last_seen = ?2, seen_run = ?3 "
	"WHERE location = ?1 AND endpoint = 0 AND gone_since IS NULL",
	/* DS_FILE_SEEN: ?1 path, ?2 now, ?3 run */
	"UPDATE discovered_files SET last_seen = ?2, seen_run = ?3 "
	"WHERE path = ?1",
	/* DS_FILE_PUT: ?1 path, ?2 size, ?3 mtime_ns, ?4 ino, ?5 ncerts */
	"INSERT INTO discovered_files (path, size, mtime_ns, ino, ncerts, "
	"last_seen, seen_run) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	"ON CONFLICT (path) DO UPDATE SET size = excluded.size, "
	"mtime_ns = excluded.mtime_ns, ino = excluded.ino, "
	"ncerts = excluded.ncerts, last_seen = excluded.last_seen, "
	"seen_run = excluded.seen_run",
	/*
	 * DS_GONE_FILES: ?1 run, ?2 now, ?3 root, ?4 root "/": the rows
	 * under the root (substr, not LIKE or GLOB: a path may hold their
	 * wildcards) this run did not see.
	 */
	"UPDATE discovered_certs SET gone_since = ?2 WHERE gone_since IS NULL "
	"AND endpoint = 0 AND seen_run < ?1 AND (location = ?3 OR "
	"substr(location, 1, length(?4)) = ?4)",
	/* DS_GONE_ENDPOINT: ?1 run, ?2 now, ?3 host:port */
	"UPDATE discovered_certs SET gone_since = ?2 WHERE gone_since IS NULL "
	"AND endpoint = 1 AND seen_run < ?1 AND location = ?3",
	/* DS_DROP_FILES: ?1 run, ?3 root, ?4 root "/" (?2 unused) */
	"DELETE FROM discovered_files WHERE seen_run < ?1 AND ?2 IS NOT NULL "
	"AND (path = ?3 OR substr(path, 1, length(?4)) = ?4)",
};

/* A file of the rescan cache. */
struct ds_ent {
	char		*path;		/* NULL: a free slot */
	long long	 size;
	long long	 mtime_ns;
	long long	 ino;
	long long	 ncerts;
};

struct mca_ledger_disc {
	struct mca_ledger		*l;
	sqlite3_stmt			*st[DS_MAX];
	long long			 run;
	char				 now[MCA_TIME_MAX];
	struct ds_ent			*ent;
	size_t				 cap;	/* a power of two */
	size_t				 nent;
	int				 in_tx;
	size_t				 tx_ops;
	struct timespec			 tx_start;
	struct mca_ledger_disc_stats	 stats;
};

/* FNV-1a: paths share long prefixes; every byte counts. */
static size_t
ds_hash(const char *s)
{
	uint64_t	 h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* The slot of path: its entry, or the free slot where it would go. */
static struct ds_ent *
ds_slot(struct ds_ent *ent, size_t cap, const char *path)
{
	size_t	 i = ds_hash(path) & (cap - 1);

	while (ent[i].path != NULL && strcmp(ent[i].path, path) != 0)
		i = (i + 1) & (cap - 1);
	return &ent[i];
}

/* Room for one more entry (at most half full). 0 or MCA_ERR_NOMEM. */
static int
ds_grow(struct mca_ledger_disc *r)
{
	struct ds_ent	*n, *s;
	size_t		 cap, i;

	if (r->cap != 0 && (r->nent + 1) * 2 <= r->cap)
		return 0;
	cap = r->cap == 0 ? CACHE_MIN : r->cap * 2;
	if (cap < r->cap || cap > SIZE_MAX / sizeof(*n) ||
	    (n = calloc(cap, sizeof(*n))) == NULL)
		return MCA_ERR_NOMEM;
	for (i = 0; i < r->cap; i++)
		if (r->ent[i].path != NULL) {
			s = ds_slot(n, cap, r->ent[i].path);
			*s = r->ent[i];
		}
	free(r->ent);
	r->ent = n;
	r->cap = cap;
	return 0;
}

static long long
ds_mtime_ns(const struct stat *st)
{
	return (long long)st->st_mtim.tv_sec * 1000000000LL +
	    (long long)st->st_mtim.tv_nsec;
}

/* The end of a public function: a failure's why also into d. */
static int
ds_out(struct mca_ledger *l, struct mca_diag *d, int rc)
{
	if (rc == 0)
		mca_diag_clear(d);
	else if (rc == MCA_ERR_NOMEM)
		mca_diag(d, rc, "ledger: discovery: out of memory");
	else
		mca_diag(d, rc, "%s", mca_ledger_errmsg(l, rc));
	return rc;
}

/* Statement i, reset and unbound, prepared the first time. */
static int
ds_stmt(struct mca_ledger_disc *r, enum ds_stmt i, sqlite3_stmt **st)
{
	int	 rc;

	if (r->st[i] == NULL &&
	    (rc = mca_ledger_prepare(r->l, ds_sql[i], ds_what[i],
	    &r->st[i])) != 0)
		return rc;
	(void)sqlite3_reset(r->st[i]);
	(void)sqlite3_clear_bindings(r->st[i]);
	*st = r->st[i];
	return 0;
}

/* Runs statement i without parameters. */
static int
ds_exec(struct mca_ledger_disc *r, enum ds_stmt i)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = ds_stmt(r, i, &st)) != 0)
		return rc;
	rc = mca_ledger_stmt_done(r->l, ds_what[i], st);
	(void)sqlite3_reset(st);
	return rc;
}

static long long
ds_ms_since(const struct timespec *t0)
{
	struct timespec	 t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return ((long long)t.tv_sec - t0->tv_sec) * 1000 +
	    ((long long)t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Before a write: the run's transaction, begun if none is open. */
static int
ds_tx(struct mca_ledger_disc *r)
{
	int	 rc;

	if (r->in_tx)
		return 0;
	if ((rc = ds_exec(r, DS_BEGIN)) != 0)
		return rc;
	r->in_tx = 1;
	r->tx_ops = 0;
	(void)clock_gettime(CLOCK_MONOTONIC, &r->tx_start);
	return 0;
}

/* Commits the open transaction, if any. */
static int
ds_commit(struct mca_ledger_disc *r)
{
	int	 rc;

	if (!r->in_tx)
		return 0;
	if ((rc = ds_exec(r, DS_COMMIT)) != 0) {
		mca_ledger_rollback(r->l);
		r->in_tx = 0;
		return rc;
	}
	r->in_tx = 0;
	return 0;
}

/* After a write: commits when the transaction is big or old enough. */
static int
ds_wrote(struct mca_ledger_disc *r)
{
	if (++r->tx_ops < TX_OPS && ds_ms_since(&r->tx_start) < TX_MS)
		return 0;
	return ds_commit(r);
}

static int
ds_bind_text(struct mca_ledger_disc *r, sqlite3_stmt *st, int i,
    const char *s, enum ds_stmt what)
{
	if (mca_ledger_bind(st, i, s) != SQLITE_OK)
		return mca_ledger_bind_failed(r->l, ds_what[what]);
	return 0;
}

static int
ds_bind_int(struct mca_ledger_disc *r, sqlite3_stmt *st, int i,
    long long v, enum ds_stmt what)
{
	if (sqlite3_bind_int64(st, i, (sqlite3_int64)v) != SQLITE_OK)
		return mca_ledger_bind_failed(r->l, ds_what[what]);
	return 0;
}

/* Reads discovered_files into the hash table. */
static int
ds_cache_load(struct mca_ledger_disc *r)
{
	sqlite3_stmt		*st;
	const unsigned char	*p;
	struct ds_ent		*e;
	int			 rc, src;

	if ((rc = ds_stmt(r, DS_CACHE, &st)) != 0)
		return rc;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((p = sqlite3_column_text(st, 0)) == NULL)
			continue;
		if ((rc = ds_grow(r)) != 0)
			goto out;
		e = ds_slot(r->ent, r->cap, (const char *)p);
		if (e->path == NULL) {
			if ((e->path = strdup((const char *)p)) == NULL) {
				rc = MCA_ERR_NOMEM;
				goto out;
			}
			r->nent++;
		}
		e->size = sqlite3_column_int64(st, 1);
		e->mtime_ns = sqlite3_column_int64(st, 2);
		e->ino = sqlite3_column_int64(st, 3);
		e->ncerts = sqlite3_column_int64(st, 4);
	}
	rc = src == SQLITE_DONE ? 0 :
	    mca_ledger_sqlfail(r->l, src, ds_what[DS_CACHE]);
out:
	(void)sqlite3_reset(st);
	return rc;
}

static void
ds_free(struct mca_ledger_disc *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < DS_MAX; i++)
		sqlite3_finalize(r->st[i]);
	for (i = 0; i < r->cap; i++)
		free(r->ent[i].path);
	free(r->ent);
	free(r);
}

int
mca_ledger_disc_begin(struct mca_ledger *l, time_t now,
    struct mca_ledger_disc **out, struct mca_diag *d)
{
	struct mca_ledger_disc	*r = NULL;
	sqlite3_stmt		*st;
	int			 rc = MCA_ERR_NOMEM;

	if (out != NULL)
		*out = NULL;
	if (l == NULL || out == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "discovery: no ledger");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto out;
	r->l = l;
	if (mca_time_iso(now, r->now, sizeof(r->now)) != 0) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_INVAL,
		    "discovery: the clock reads no date");
		goto out;
	}
	if ((rc = ds_stmt(r, DS_RUN_NEW, &st)) != 0 ||
	    (rc = ds_bind_text(r, st, 1, r->now, DS_RUN_NEW)) != 0 ||
	    (rc = mca_ledger_stmt_done(l, ds_what[DS_RUN_NEW], st)) != 0)
		goto out;
	r->run = (long long)sqlite3_last_insert_rowid(mca_ledger_sqlite(l));
	if ((rc = ds_cache_load(r)) != 0)
		goto out;
	*out = r;
	r = NULL;
	rc = 0;
out:
	ds_free(r);
	return ds_out(l, d, rc);
}

int
mca_ledger_disc_known(void *arg, const char *path, const struct stat *st)
{
	struct mca_ledger_disc	*r = arg;
	const struct ds_ent	*e;

	if (r == NULL || path == NULL || st == NULL || r->cap == 0)
		return 0;
	e = ds_slot(r->ent, r->cap, path);
	return e->path != NULL && e->size == (long long)st->st_size &&
	    e->mtime_ns == ds_mtime_ns(st) && e->ino == (long long)st->st_ino;
}

int
mca_ledger_disc_file_known(struct mca_ledger_disc *r, const char *path,
    size_t *ncerts, struct mca_diag *d)
{
	const struct ds_ent	*e;
	sqlite3_stmt		*st;
	enum ds_stmt		 i;
	size_t			 n = 0;
	int			 rc;

	if (ncerts != NULL)
		*ncerts = 0;
	if (r == NULL || path == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "discovery: no run");
	if (r->cap > 0 && (e = ds_slot(r->ent, r->cap, path))->path != NULL &&
	    e->ncerts > 0)
		n = (size_t)e->ncerts;
	if ((rc = ds_tx(r)) != 0)
		goto out;
	for (i = DS_FILE_CERTS_SEEN; i <= DS_FILE_SEEN; i++) {
		if ((rc = ds_stmt(r, i, &st)) != 0 ||
		    (rc = ds_bind_text(r, st, 1, path, i)) != 0 ||
		    (rc = ds_bind_text(r, st, 2, r->now, i)) != 0 ||
		    (rc = ds_bind_int(r, st, 3, r->run, i)) != 0 ||
		    (rc = mca_ledger_stmt_done(r->l, ds_what[i], st)) != 0)
			goto out;
	}
	r->stats.known++;
	r->stats.certs += n;
	if (ncerts != NULL)
		*ncerts = n;
	rc = ds_wrote(r);
out:
	return ds_out(r->l, d, rc);
}

/* The fields a row needs are there. */
static int
ds_cert_ok(const struct mca_disc_cert *c)
{
	return c != NULL && c->location != NULL && c->location[0] != '\0' &&
	    strlen(c->location) < MCA_DISC_LOC_MAX && c->index >= 0 &&
	    strlen(c->sha1) == 40 && strlen(c->sha256) == 64 &&
	    c->der != NULL && c->der_len > 0 && c->der_len <= INT32_MAX &&
	    c->serial[0] != '\0' && c->not_after[0] != '\0';
}

/* Writes c as a new or changed certificate at its place. */
static int
ds_cert_put(struct mca_ledger_disc *r, const struct mca_disc_cert *c,
    int endpoint)
{
	sqlite3_stmt	*st;
	const char	*txt[] = { c->subject, c->issuer, c->serial,
	    c->not_before, c->not_after, c->sans, c->key_type };
	int		 rc, i;

	if ((rc = ds_stmt(r, DS_CERT_PUT, &st)) != 0 ||
	    (rc = ds_bind_text(r, st, 1, c->location, DS_CERT_PUT)) != 0 ||
	    (rc = ds_bind_int(r, st, 2, c->index, DS_CERT_PUT)) != 0 ||
	    (rc = ds_bind_int(r, st, 3, endpoint ? 1 : 0, DS_CERT_PUT)) != 0)
		return rc;
	for (i = 0; i < 7; i++)
		if ((rc = ds_bind_text(r, st, 4 + i, txt[i], DS_CERT_PUT)) != 0)
			return rc;
	if ((rc = ds_bind_int(r, st, 11, c->key_bits, DS_CERT_PUT)) != 0 ||
	    (rc = ds_bind_text(r, st, 12, c->sig_alg, DS_CERT_PUT)) != 0 ||
	    (rc = ds_bind_int(r, st, 13, c->is_ca ? 1 : 0, DS_CERT_PUT)) != 0 ||
	    (rc = ds_bind_text(r, st, 14, c->sha1, DS_CERT_PUT)) != 0 ||
	    (rc = ds_bind_text(r, st, 15, c->sha256, DS_CERT_PUT)) != 0)
		return rc;
	if (sqlite3_bind_blob(st, 16, c->der, (int)c->der_len,
	    SQLITE_TRANSIENT) != SQLITE_OK)
		return mca_ledger_bind_failed(r->l, ds_what[DS_CERT_PUT]);
	if ((rc = ds_bind_text(r, st, 17, r->now, DS_CERT_PUT)) != 0 ||
	    (rc = ds_bind_int(r, st, 18, r->run, DS_CERT_PUT)) != 0)
		return rc;
	return mca_ledger_stmt_done(r->l, ds_what[DS_CERT_PUT], st);
}

int
mca_ledger_disc_cert(struct mca_ledger_disc *r,
    const struct mca_disc_cert *c, int endpoint,
    enum mca_ledger_disc_change *change, struct mca_diag *d)
{
	enum mca_ledger_disc_change	 ch = MCA_LDISC_NEW;
	sqlite3_stmt			*st;
	const unsigned char		*sha;
	long long			 id = 0;
	int				 rc, src, gone = 0;

	if (change != NULL)
		*change = MCA_LDISC_SAME;
	if (r == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "discovery: no run");
	if (!ds_cert_ok(c))
		return mca_diag(d, MCA_ERR_INVAL, "discovery: %s: a "
		    "certificate without its place, digests or DER",
		    c != NULL && c->location != NULL ? c->location : "?");
	if ((rc = ds_tx(r)) != 0)
		goto out;
	if ((rc = ds_stmt(r, DS_CERT_GET, &st)) != 0 ||
	    (rc = ds_bind_text(r, st, 1, c->location, DS_CERT_GET)) != 0 ||
	    (rc = ds_bind_int(r, st, 2, c->index, DS_CERT_GET)) != 0)
		goto out;
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		sha = sqlite3_column_text(st, 1);
		gone = sqlite3_column_int(st, 2);
		if (sha != NULL && strcmp((const char *)sha, c->sha256) == 0)
			ch = gone ? MCA_LDISC_NEW : MCA_LDISC_SAME;
		else
			ch = gone ? MCA_LDISC_NEW : MCA_LDISC_CHANGED;
		if (sha == NULL || strcmp((const char *)sha, c->sha256) != 0)
			id = 0;		/* rewritten below */
	} else if (src != SQLITE_DONE) {
		rc = mca_ledger_sqlfail(r->l, src, ds_what[DS_CERT_GET]);
		goto out;
	}
	(void)sqlite3_reset(st);
	if (id != 0) {
		/* The same certificate: only seen (back, if it was gone). */
		if ((rc = ds_stmt(r, DS_CERT_SEEN, &st)) != 0 ||
		    (rc = ds_bind_int(r, st, 1, id, DS_CERT_SEEN)) != 0 ||
		    (rc = ds_bind_text(r, st, 2, r->now, DS_CERT_SEEN)) != 0 ||
		    (rc = ds_bind_int(r, st, 3, r->run, DS_CERT_SEEN)) != 0 ||
		    (rc = mca_ledger_stmt_done(r->l, ds_what[DS_CERT_SEEN],
		    st)) != 0)
			goto out;
	} else if ((rc = ds_cert_put(r, c, endpoint)) != 0)
		goto out;
	r->stats.certs++;
	if (ch == MCA_LDISC_NEW)
		r->stats.new_certs++;
	else if (ch == MCA_LDISC_CHANGED)
		r->stats.changed++;
	if (change != NULL)
		*change = ch;
	rc = ds_wrote(r);
out:
	return ds_out(r->l, d, rc);
}

int
mca_ledger_disc_file_done(struct mca_ledger_disc *r, const char *path,
    const struct stat *sb, size_t ncerts, struct mca_diag *d)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (r == NULL || path == NULL || sb == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "discovery: no run");
	if ((rc = ds_tx(r)) != 0 ||
	    (rc = ds_stmt(r, DS_FILE_PUT, &st)) != 0 ||
	    (rc = ds_bind_text(r, st, 1, path, DS_FILE_PUT)) != 0 ||
	    (rc = ds_bind_int(r, st, 2, (long long)sb->st_size,
	    DS_FILE_PUT)) != 0 ||
	    (rc = ds_bind_int(r, st, 3, ds_mtime_ns(sb), DS_FILE_PUT)) != 0 ||
	    (rc = ds_bind_int(r, st, 4, (long long)sb->st_ino,
	    DS_FILE_PUT)) != 0 ||
	    (rc = ds_bind_int(r, st, 5, (long long)ncerts, DS_FILE_PUT)) != 0 ||
	    (rc = ds_bind_text(r, st, 6, r->now, DS_FILE_PUT)) != 0 ||
	    (rc = ds_bind_int(r, st, 7, r->run, DS_FILE_PUT)) != 0 ||
	    (rc = mca_ledger_stmt_done(r->l, ds_what[DS_FILE_PUT], st)) != 0)
		goto out;
	r->stats.files++;
	rc = ds_wrote(r);
out:
	return ds_out(r->l, d, rc);
}

/*
 * Statement i for the place p: a root (without its trailing '/', but
 * "/" itself) and the prefix of what lies below it. *n gets the rows
 * changed.
 */
static int
ds_place(struct mca_ledger_disc *r, enum ds_stmt i, const char *p,
    int is_root, size_t *n)
{
	sqlite3_stmt	*st;
	char		*root = NULL, *below = NULL;
	size_t		 len;
	int		 rc = MCA_ERR_NOMEM;

	*n = 0;
	if ((root = strdup(p)) == NULL)
		goto out;
	if (is_root) {
		len = strlen(root);
		while (len > 1 && root[len - 1] == '/')
			root[--len] = '\0';
		if ((below = malloc(len + 2)) == NULL)
			goto out;
		(void)snprintf(below, len + 2, "%s%s", root,
		    strcmp(root, "/") == 0 ? "" : "/");
	}
	if ((rc = ds_stmt(r, i, &st)) != 0 ||
	    (rc = ds_bind_int(r, st, 1, r->run, i)) != 0 ||
	    (rc = ds_bind_text(r, st, 2, r->now, i)) != 0 ||
	    (rc = ds_bind_text(r, st, 3, root, i)) != 0 ||
	    (is_root && (rc = ds_bind_text(r, st, 4, below, i)) != 0) ||
	    (rc = mca_ledger_stmt_done(r->l, ds_what[i], st)) != 0)
		goto out;
	*n = (size_t)sqlite3_changes(mca_ledger_sqlite(r->l));
	rc = 0;
out:
	free(root);
	free(below);
	return rc;
}

int
mca_ledger_disc_finish(struct mca_ledger_disc *r, const char *const *roots,
    size_t nroots, const char *const *endpoints, size_t nendpoints,
    struct mca_ledger_disc_stats *out, struct mca_diag *d)
{
	struct mca_ledger_disc_stats	*s;
	sqlite3_stmt			*st;
	size_t				 i, n;
	int				 rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (r == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "discovery: no run");
	s = &r->stats;
	/* One transaction: the run's end is all there or not at all. */
	if ((rc = ds_commit(r)) != 0 || (rc = ds_tx(r)) != 0)
		goto out;
	for (i = 0; i < nroots; i++) {
		if (roots[i] == NULL || roots[i][0] == '\0')
			continue;
		if ((rc = ds_place(r, DS_GONE_FILES, roots[i], 1, &n)) != 0)
			goto out;
		s->gone += n;
		if ((rc = ds_place(r, DS_DROP_FILES, roots[i], 1, &n)) != 0)
			goto out;
		s->files_gone += n;
	}
	for (i = 0; i < nendpoints; i++) {
		if (endpoints[i] == NULL || endpoints[i][0] == '\0')
			continue;
		if ((rc = ds_place(r, DS_GONE_ENDPOINT, endpoints[i], 0,
		    &n)) != 0)
			goto out;
		s->gone += n;
	}
	if ((rc = ds_stmt(r, DS_RUN_END, &st)) != 0 ||
	    (rc = ds_bind_int(r, st, 1, r->run, DS_RUN_END)) != 0 ||
	    (rc = ds_bind_text(r, st, 2, r->now, DS_RUN_END)) != 0 ||
	    (rc = ds_bind_int(r, st, 3, (long long)(s->files + s->known),
	    DS_RUN_END)) != 0 ||
	    (rc = ds_bind_int(r, st, 4, (long long)s->certs, DS_RUN_END)) != 0 ||
	    (rc = ds_bind_int(r, st, 5, (long long)s->new_certs,
	    DS_RUN_END)) != 0 ||
	    (rc = ds_bind_int(r, st, 6, (long long)s->changed,
	    DS_RUN_END)) != 0 ||
	    (rc = ds_bind_int(r, st, 7, (long long)s->gone, DS_RUN_END)) != 0 ||
	    (rc = mca_ledger_stmt_done(r->l, ds_what[DS_RUN_END], st)) != 0)
		goto out;
	rc = ds_commit(r);
out:
	if (rc != 0) {
		mca_ledger_rollback(r->l);
		r->in_tx = 0;
		s->gone = s->files_gone = 0;
	}
	if (out != NULL)
		*out = *s;
	return ds_out(r->l, d, rc);
}

void
mca_ledger_disc_stats(const struct mca_ledger_disc *r,
    struct mca_ledger_disc_stats *st)
{
	if (st == NULL)
		return;
	if (r == NULL)
		memset(st, 0, sizeof(*st));
	else
		*st = r->stats;
}

void
mca_ledger_disc_end(struct mca_ledger_disc *r)
{
	if (r == NULL)
		return;
	if (ds_commit(r) != 0)
		mca_ledger_rollback(r->l);
	ds_free(r);
}

/* ---- the upload */

#define DS_DUE_SQL \
	"SELECT id, location, idx, subject, issuer, serial, not_before, " \
	"not_after, sans, key_type, key_bits, sig_alg, is_ca, sha1, sha256, " \
	"der FROM discovered_certs WHERE gone_since IS NULL AND " \
	"(uploaded_sha256 IS NULL OR uploaded_sha256 <> sha256) AND " \
	"id > ?1 ORDER BY id LIMIT ?2"

/* Column i into dst (dstsz bytes); too long is the ledger's error. */
static int
ds_column(struct mca_ledger *l, sqlite3_stmt *st, int i, char *dst,
    size_t dstsz, const char *what)
{
	const unsigned char	*s;
	size_t			 n;

	dst[0] = '\0';
	if ((s = sqlite3_column_text(st, i)) == NULL)
		return 0;
	if ((n = (size_t)sqlite3_column_bytes(st, i)) >= dstsz)
		return mca_diag(mca_ledger_diag(l), MCA_ERR_DB, "%s: column "
		    "%s of a discovered certificate is over %zu bytes", what,
		    sqlite3_column_name(st, i), dstsz - 1);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/*
 * The certificate columns from first on (location, idx, subject, ...,
 * sha256 as DS_DUE_SQL lists them) into c; location is owned by c.
 */
static int
ds_row_cert(struct mca_ledger *l, sqlite3_stmt *st, int first,
    struct mca_disc_cert *c, char **loc, const char *what)
{
	struct {
		char	*dst;
		size_t	 len;
	} txt[] = {
		{ c->subject, sizeof(c->subject) },
		{ c->issuer, sizeof(c->issuer) },
		{ c->serial, sizeof(c->serial) },
		{ c->not_before, sizeof(c->not_before) },
		{ c->not_after, sizeof(c->not_after) },
		{ c->sans, sizeof(c->sans) },
		{ c->key_type, sizeof(c->key_type) },
	};
	const unsigned char	*s;
	size_t			 i;
	int			 rc, col = first;

	if ((s = sqlite3_column_text(st, col)) == NULL ||
	    (*loc = strdup((const char *)s)) == NULL)
		return mca_diag(mca_ledger_diag(l), MCA_ERR_NOMEM, "%s: out "
		    "of memory", what);
	c->location = *loc;
	c->index = sqlite3_column_int(st, ++col);
	for (i = 0; i < sizeof(txt) / sizeof(txt[0]); i++)
		if ((rc = ds_column(l, st, ++col, txt[i].dst, txt[i].len,
		    what)) != 0)
			return rc;
	c->key_bits = sqlite3_column_int(st, ++col);
	if ((rc = ds_column(l, st, ++col, c->sig_alg, sizeof(c->sig_alg),
	    what)) != 0)
		return rc;
	c->is_ca = sqlite3_column_int(st, ++col);
	if ((rc = ds_column(l, st, ++col, c->sha1, sizeof(c->sha1),
	    what)) != 0 ||
	    (rc = ds_column(l, st, ++col, c->sha256, sizeof(c->sha256),
	    what)) != 0)
		return rc;
	return 0;
}

void
mca_ledger_disc_batch_free(struct mca_ledger_disc_batch *b)
{
	size_t	 i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		free((char *)b->certs[i].location);
		free((unsigned char *)b->certs[i].der);
	}
	free(b->certs);
	free(b->ids);
	memset(b, 0, sizeof(*b));
}

int
mca_ledger_disc_due(struct mca_ledger *l, long long after, size_t max,
    struct mca_ledger_disc_batch *b, struct mca_diag *d)
{
	const char		*what = "read discovered certificates due";
	struct mca_disc_cert	*c;
	sqlite3_stmt		*st = NULL;
	const void		*der;
	unsigned char		*copy;
	char			*loc;
	size_t			 len;
	int			 rc, src;

	if (b != NULL)
		memset(b, 0, sizeof(*b));
	if (l == NULL || b == NULL || max == 0 || max > 1000000)
		return mca_diag(d, MCA_ERR_INVAL, "discovery: bad batch");
	if ((b->certs = calloc(max, sizeof(*b->certs))) == NULL ||
	    (b->ids = calloc(max, sizeof(*b->ids))) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	if ((rc = mca_ledger_prepare(l, DS_DUE_SQL, what, &st)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)after) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)max) != SQLITE_OK) {
		rc = mca_ledger_bind_failed(l, what);
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW && b->n < max) {
		c = &b->certs[b->n];
		loc = NULL;
		rc = ds_row_cert(l, st, 1, c, &loc, what);
		b->ids[b->n++] = sqlite3_column_int64(st, 0);
		if (rc != 0)
			goto out;
		der = sqlite3_column_blob(st, 15);
		len = (size_t)sqlite3_column_bytes(st, 15);
		if (der == NULL || len == 0 || (copy = malloc(len)) == NULL) {
			rc = MCA_ERR_NOMEM;
			goto out;
		}
		memcpy(copy, der, len);
		c->der = copy;
		c->der_len = len;
	}
	if (src != SQLITE_ROW && src != SQLITE_DONE) {
		rc = mca_ledger_sqlfail(l, src, what);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	/* An empty batch holds nothing: callers stop on b->n 0. */
	if (rc != 0 || b->n == 0)
		mca_ledger_disc_batch_free(b);
	return ds_out(l, d, rc);
}

int
mca_ledger_disc_uploaded(struct mca_ledger *l,
    const struct mca_ledger_disc_batch *b, time_t now, struct mca_diag *d)
{
	const char	*what = "mark discovered certificates uploaded";
	sqlite3_stmt	*st = NULL, *tx = NULL;
	char		 when[MCA_TIME_MAX];
	size_t		 i;
	int		 rc;

	if (l == NULL || b == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "discovery: no batch");
	if (b->n == 0)
		return ds_out(l, d, 0);
	if (mca_time_iso(now, when, sizeof(when)) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "discovery: the clock reads "
		    "no date");
	if ((rc = mca_ledger_prepare(l, "BEGIN IMMEDIATE", "begin", &tx)) != 0 ||
	    (rc = mca_ledger_stmt_done(l, "begin", tx)) != 0)
		goto out;
	if ((rc = mca_ledger_prepare(l, "UPDATE discovered_certs SET "
	    "uploaded_sha256 = ?2, uploaded_at = ?3 WHERE id = ?1 AND "
	    "sha256 = ?2", what, &st)) != 0)
		goto out;
	for (i = 0; i < b->n; i++) {
		(void)sqlite3_reset(st);
		if (sqlite3_bind_int64(st, 1, (sqlite3_int64)b->ids[i]) !=
		    SQLITE_OK || mca_ledger_bind(st, 2, b->certs[i].sha256) !=
		    SQLITE_OK || mca_ledger_bind(st, 3, when) != SQLITE_OK) {
			rc = mca_ledger_bind_failed(l, what);
			goto out;
		}
		if ((rc = mca_ledger_stmt_done(l, what, st)) != 0)
			goto out;
	}
	sqlite3_finalize(tx);
	tx = NULL;
	if ((rc = mca_ledger_prepare(l, "COMMIT", "commit", &tx)) != 0 ||
	    (rc = mca_ledger_stmt_done(l, "commit", tx)) != 0)
		goto out;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(tx);
	if (rc != 0)
		mca_ledger_rollback(l);
	return ds_out(l, d, rc);
}

/* ---- the inventory */

int
mca_ledger_disc_list(struct mca_ledger *l,
    int (*cb)(void *, const struct mca_ledger_disc_row *), void *arg,
    struct mca_diag *d)
{
	const char			*what = "list discovered certificates";
	struct mca_ledger_disc_row	 row;
	sqlite3_stmt			*st = NULL;
	char				*loc = NULL;
	char				 first[MCA_TIME_MAX], last[MCA_TIME_MAX];
	char				 up[MCA_TIME_MAX];
	int				 rc, src;

	if (l == NULL || cb == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "discovery: nothing to "
		    "list with");
	if ((rc = mca_ledger_prepare(l, "SELECT id, location, idx, subject, "
	    "issuer, serial, not_before, not_after, sans, key_type, key_bits, "
	    "sig_alg, is_ca, sha1, sha256, endpoint, issued_by_microca, "
	    "first_seen, last_seen, uploaded_at FROM discovered_certs "
	    "WHERE gone_since IS NULL ORDER BY location, idx", what,
	    &st)) != 0)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		free(loc);
		loc = NULL;
		if ((rc = ds_row_cert(l, st, 1, &row.c, &loc, what)) != 0 ||
		    (rc = ds_column(l, st, 17, first, sizeof(first),
		    what)) != 0 ||
		    (rc = ds_column(l, st, 18, last, sizeof(last), what)) != 0 ||
		    (rc = ds_column(l, st, 19, up, sizeof(up), what)) != 0)
			goto out;
		row.endpoint = sqlite3_column_int(st, 15);
		row.issued_by_microca = sqlite3_column_int(st, 16);
		row.first_seen = first;
		row.last_seen = last;
		row.uploaded_at = up;
		if ((rc = cb(arg, &row)) != 0) {
			sqlite3_finalize(st);
			free(loc);
			mca_diag_clear(d);
			return rc;
		}
	}
	rc = src == SQLITE_DONE ? 0 : mca_ledger_sqlfail(l, src, what);
out:
	sqlite3_finalize(st);
	free(loc);
	return ds_out(l, d, rc);
}
