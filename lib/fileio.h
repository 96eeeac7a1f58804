/* Whole-file reads with a cap, and atomic whole-file writes. */
#ifndef MCA_FILEIO_H
#define MCA_FILEIO_H

#include <sys/types.h>
#include <stddef.h>

#include "buf.h"

/*
 * Reads the whole of path into out (appending). Refuses files over cap
 * bytes (MCA_ERR_TOOBIG) and anything but a regular file (MCA_ERR_INVAL).
 * Returns 0, MCA_ERR_NOTFOUND, MCA_ERR_IO, MCA_ERR_TOOBIG or MCA_ERR_INVAL.
 * If mode is not NULL, the file's permission bits are stored there.
 */
int	 mca_file_read(const char *path, size_t cap, struct mca_buf *out,
	    mode_t *mode);

/*
 * Writes data to dir/name atomically: a temporary file in dir, written,
 * fsync'd, fchmod'ed to mode, then renamed over name. A reader sees the
 * old file or the whole new one, never a part. name must not contain '/'.
 * Returns 0, MCA_ERR_INVAL or MCA_ERR_IO (errno tells more).
 */
int	 mca_file_write_atomic(const char *dir, const char *name,
	    const void *data, size_t len, mode_t mode);

/*
 * The same without the fsync, for copies of what is kept durably
 * elsewhere: a reader still never sees part of the file, but after a
 * power cut the file may be missing or empty. Same returns.
 */
int	 mca_file_write_copy(const char *dir, const char *name,
	    const void *data, size_t len, mode_t mode);

#endif
