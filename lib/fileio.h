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
 * Writes data to dir/name atomically and durably: a temporary file in
 * dir, written, fchmod'ed to mode, fsync'd, renamed over name, then dir
 * itself fsync'd, so that after a power cut name is there with all of
 * data. A reader sees the old file or the whole new one, never a part.
 * name must not contain '/'. Returns 0, MCA_ERR_INVAL or MCA_ERR_IO
 * (errno tells more; when only the directory's fsync failed, the new
 * file is in place but may not survive a power cut).
 */
int	 mca_file_write_atomic(const char *dir, const char *name,
	    const void *data, size_t len, mode_t mode);

/*
 * The same without either fsync, for copies of what is kept durably
 * elsewhere: a reader still never sees part of the file, but after a
 * power cut the file may be missing or empty. Same returns.
 */
int	 mca_file_write_copy(const char *dir, const char *name,
	    const void *data, size_t len, mode_t mode);

#endif
