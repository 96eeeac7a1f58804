/*
 * The run lock of a cron tool: flock(2) on a lock file next to the
 * ledger, taken without waiting. Two runs of one tool (a slow run and
 * the next cron tick) never overlap; the kernel drops the lock when its
 * holder exits or is killed, so a crash never leaves a stale lock.
 */
#ifndef MCA_LOCK_H
#define MCA_LOCK_H

#include <stddef.h>

#include "err.h"

struct mca_lock;

/*
 * The lock file of tool beside the ledger: "<dir of ledger>/<tool>.lock"
 * into buf. Returns 0, or MCA_ERR_INVAL (no ledger, a tool name that is
 * not a plain file name) or MCA_ERR_TOOBIG (buf too small).
 */
int	 mca_lock_path(const char *ledger, const char *tool, char *buf,
	    size_t len);

/*
 * Takes the lock on path, creating the file (0600) if needed, and
 * writes our process ID into it for whoever wonders who holds it. The
 * descriptor is close-on-exec: a restart script we run does not keep
 * it. Returns 0 with *out, MCA_ERR_BUSY when another open of the file
 * holds it (d names the holder's PID when the file says), or MCA_ERR_IO
 * with d saying why.
 */
int	 mca_lock_take(const char *path, struct mca_lock **out,
	    struct mca_diag *d);

/*
 * Takes tool's run lock beside the ledger: mca_lock_path(), then
 * mca_lock_take(). Returns 0 with *out; MCA_ERR_CONFIG when ledger
 * leaves no place for the lock file (d: "<cfgpath>: ledger_db_path: no
 * place for the lock file"); else mca_lock_take()'s code and diag
 * (MCA_ERR_BUSY: another run holds it).
 */
int	 mca_lock_beside(const char *cfgpath, const char *ledger,
	    const char *tool, struct mca_lock **out, struct mca_diag *d);

/* Releases the lock and closes its file; NULL-safe. The file stays. */
void	 mca_lock_release(struct mca_lock *l);

#endif
