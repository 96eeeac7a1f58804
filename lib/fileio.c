#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"

int
mca_file_read(const char *path, size_t cap, struct mca_buf *out,
    mode_t *mode)
{
	int		 fd = -1, rc = MCA_ERR_IO, fl;
	struct stat	 st;
	ssize_t		 n;
	size_t		 start = out->len, chunk;
	unsigned char	 probe;

	if (mode != NULL)
		*mode = 0;
	/*
	 * O_NONBLOCK so that a FIFO without a writer cannot hang us in
	 * open(2); it is cleared again once we know this is a regular file.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		rc = errno == ENOENT ? MCA_ERR_NOTFOUND : MCA_ERR_IO;
		goto out;
	}
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		rc = MCA_ERR_INVAL;
		goto out;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		goto out;
	if ((size_t)st.st_size > cap) {
		rc = MCA_ERR_TOOBIG;
		goto out;
	}
	for (;;) {
		/* Never ask for more than the cap or the buffer allow. */
		chunk = cap - (out->len - start);
		if (chunk > MCA_BUF_MAX - out->len)
			chunk = MCA_BUF_MAX - out->len;
		if (chunk > 4096)
			chunk = 4096;
		if (chunk == 0) {
			/* At the limit: only the end of the file may follow. */
			n = read(fd, &probe, 1);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1) {
				rc = MCA_ERR_IO;
				goto out;
			}
			if (n > 0) {
				/* The file has grown since fstat. */
				rc = MCA_ERR_TOOBIG;
				goto out;
			}
			break;
		}
		if ((rc = mca_buf_reserve(out, chunk)) != 0)
			goto out;
		n = read(fd, out->data + out->len, chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = MCA_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	/* An empty file still leaves a NUL-terminated buffer. */
	if ((rc = mca_buf_reserve(out, 0)) != 0)
		goto out;
	out->data[out->len] = '\0';
	if (mode != NULL)
		*mode = st.st_mode & 07777;
	rc = 0;
out:
	if (rc != 0 && out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	if (fd != -1)
		(void)close(fd);
	return rc;
}

/*
 * Flushes the directory dir itself: its entry for a file just renamed
 * into it is then on disk too, not only the file's data (rename(2) is
 * atomic, not durable). 0 or -1 with errno set.
 */
static int
dir_sync(const char *dir)
{
	int	 fd, rc = -1, serrno;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fsync(fd) == 0)
		rc = 0;
	serrno = errno;
	(void)close(fd);
	errno = serrno;
	return rc;
}

/*
 * Both writers: sync says whether the file is fsync'd before the rename
 * and its directory after it.
 */
static int
file_write(const char *dir, const char *name, const void *data, size_t len,
    mode_t mode, int sync)
{
	char		 tmp[PATH_MAX], dst[PATH_MAX];
	int		 fd = -1, rc = MCA_ERR_IO, n;
	const char	*p = data;
	ssize_t		 w;

	tmp[0] = '\0';
	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return MCA_ERR_INVAL;
	n = snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(dst))
		return MCA_ERR_INVAL;
	n = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return MCA_ERR_INVAL;
	if ((fd = mkstemp(tmp)) == -1) {
		tmp[0] = '\0';
		goto out;
	}
	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, mode) == -1 || (sync && fsync(fd) == -1))
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, dst) == -1)
		goto out;
	tmp[0] = '\0';
	/*
	 * The new name is in place for every reader; after a power cut it
	 * is too only once the directory is flushed. A failure here leaves
	 * the file written and named: MCA_ERR_IO tells the caller it may
	 * not be durable.
	 */
	if (sync && dir_sync(dir) == -1)
		goto out;
	rc = 0;
out:
	if (fd != -1)
		(void)close(fd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	return rc;
}

int
mca_file_write_atomic(const char *dir, const char *name, const void *data,
    size_t len, mode_t mode)
{
	return file_write(dir, name, data, len, mode, 1);
}

int
mca_file_write_copy(const char *dir, const char *name, const void *data,
    size_t len, mode_t mode)
{
	return file_write(dir, name, data, len, mode, 0);
}
