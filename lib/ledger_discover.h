/*
 * The certificate inventory of discovery in the ledger
 * (sql/migrations/0013-discovery.sql; microca-discover, issue 15).
 *
 * A run: mca_ledger_disc_begin(), then for what the scanner reports
 * (lib/discover.h) _known() as its known() callback, _file_known(),
 * _cert() and _file_done(), then _finish() once the whole scan went
 * through, which marks gone what this run did not find where it looked.
 * Writes are grouped into transactions of many rows (a commit per file
 * would cost a disk sync per file), each short enough that the EST
 * program's issuances are not kept waiting.
 *
 * The upload: _due() hands out present rows not uploaded as they are,
 * in id order, after a cursor; _uploaded() marks what AppViewX took.
 */
#ifndef MCA_LEDGER_DISCOVER_H
#define MCA_LEDGER_DISCOVER_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>
#include <time.h>

#include "discover.h"
#include "err.h"

struct mca_ledger;
struct mca_ledger_disc;

/* What _cert() found a certificate to be. */
enum mca_ledger_disc_change {
	MCA_LDISC_SAME,		/* as last seen there */
	MCA_LDISC_NEW,		/* nothing there before, or it was gone */
	MCA_LDISC_CHANGED,	/* another certificate there before */
	MCA_LDISC_MAX
};

struct mca_ledger_disc_stats {
	size_t	 files;		/* parsed (FILE_DONE) */
	size_t	 known;		/* unchanged, not opened (FILE_KNOWN) */
	size_t	 certs;		/* reported by the scan (CERT), and
				   those of the files known */
	size_t	 new_certs;
	size_t	 changed;
	size_t	 gone;		/* marked gone by _finish() */
	size_t	 files_gone;	/* cache rows dropped by _finish() */
};

/*
 * Begins a run at now on l: a discovery_runs row, and the rescan cache
 * (discovered_files) read into memory once, so that _known() is a hash
 * look-up. Returns 0 with *out, or MCA_ERR_DB / MCA_ERR_BUSY /
 * MCA_ERR_NOMEM with d saying why.
 */
int	 mca_ledger_disc_begin(struct mca_ledger *l, time_t now,
	    struct mca_ledger_disc **out, struct mca_diag *d);

/*
 * The scanner's known() (struct mca_disc_opts; arg is the run): 1 when
 * the cache holds path with st's size, mtime (to the nanosecond) and
 * inode, else 0.
 */
int	 mca_ledger_disc_known(void *arg, const char *path,
	    const struct stat *st);

/*
 * FILE_KNOWN: the rows of path's certificates are marked seen by this
 * run, and its cache row too; *ncerts (may be NULL) gets how many
 * certificates the file held when it was parsed, and they count in the
 * run's certs. 0 or the ledger's error with d.
 */
int	 mca_ledger_disc_file_known(struct mca_ledger_disc *r,
	    const char *path, size_t *ncerts, struct mca_diag *d);

/*
 * CERT: c at its location and index, from an endpoint (1) or a file
 * (0), written new, changed or only seen; *change (may be NULL) says
 * which. 0, MCA_ERR_INVAL (c incomplete) or the ledger's error, with d.
 */
int	 mca_ledger_disc_cert(struct mca_ledger_disc *r,
	    const struct mca_disc_cert *c, int endpoint,
	    enum mca_ledger_disc_change *change, struct mca_diag *d);

/*
 * FILE_DONE: path was parsed with st and held ncerts certificates; its
 * cache row is written. 0 or the ledger's error with d.
 */
int	 mca_ledger_disc_file_done(struct mca_ledger_disc *r,
	    const char *path, const struct stat *st, size_t ncerts,
	    struct mca_diag *d);

/*
 * Ends a complete scan: what this run did not see is marked gone, but
 * only where it looked: certificate rows of files under one of roots
 * (the path itself, or below it), and of the endpoints in endpoints,
 * which the caller gives only those that answered (an endpoint that
 * could not be reached keeps its rows as they were: a server down for
 * a while did not lose its certificates). A root or endpoint taken out of config.json leaves
 * its rows alone: the config changed, not the machine. Cache rows of
 * files no longer found under roots are dropped. Commits, and writes
 * the run's counts. *st (may be NULL) gets them. 0 or the ledger's
 * error with d.
 */
int	 mca_ledger_disc_finish(struct mca_ledger_disc *r,
	    const char *const *roots, size_t nroots,
	    const char *const *endpoints, size_t nendpoints,
	    struct mca_ledger_disc_stats *st, struct mca_diag *d);

/* The counts so far (after _finish(), with gone). */
void	 mca_ledger_disc_stats(const struct mca_ledger_disc *r,
	    struct mca_ledger_disc_stats *st);

/*
 * Ends a run: what is not committed yet is committed (the rows written
 * are true whether or not the scan went on; nothing is marked gone
 * without _finish()). NULL-safe.
 */
void	 mca_ledger_disc_end(struct mca_ledger_disc *r);

/* ---- the upload */

/* A batch of rows due for upload: certs[i] is row ids[i]. */
struct mca_ledger_disc_batch {
	struct mca_disc_cert	*certs;	/* location and der owned */
	long long		*ids;
	size_t			 n;
};

/*
 * Up to max present rows whose certificate was not uploaded as it is
 * now, with id > after, in id order, into *b (cleared first). The
 * caller moves after to the last id it got, so a batch that failed is
 * not asked for again in the same run. 0 (b->n 0: no more, and b holds
 * nothing) or the ledger's error with d.
 */
int	 mca_ledger_disc_due(struct mca_ledger *l, long long after,
	    size_t max, struct mca_ledger_disc_batch *b, struct mca_diag *d);

/*
 * Marks b's rows uploaded at now, each only if it still holds the
 * certificate that was sent. One transaction. 0 or the ledger's error.
 */
int	 mca_ledger_disc_uploaded(struct mca_ledger *l,
	    const struct mca_ledger_disc_batch *b, time_t now,
	    struct mca_diag *d);

/* Frees what b holds; NULL-safe. */
void	 mca_ledger_disc_batch_free(struct mca_ledger_disc_batch *b);

/* ---- the inventory */

/* A present row as mca_ledger_disc_list() hands it out. */
struct mca_ledger_disc_row {
	struct mca_disc_cert	 c;	/* der not set */
	int			 endpoint;
	int			 issued_by_microca;
	const char		*first_seen;
	const char		*last_seen;
	const char		*uploaded_at;	/* "" if never */
};

/*
 * Calls cb with each present row (gone_since NULL), by location and
 * index. cb returns 0 to go on. 0, cb's non-zero value, or the
 * ledger's error with d.
 */
int	 mca_ledger_disc_list(struct mca_ledger *l,
	    int (*cb)(void *, const struct mca_ledger_disc_row *), void *arg,
	    struct mca_diag *d);

#endif
