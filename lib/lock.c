/*
 * The run lock of a cron tool. See lock.h.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "lock.h"
#include "num.h"

#define LOCK_MODE	0600
#define LOCK_PATH_MAX	4096	/* bytes of a lock file's path */
#define LOCK_PID_MAX	32	/* bytes of the PID line read back */

struct mca_lock {
	int	 fd;
};

int
mca_lock_path(const char *ledger, const char *tool, char *buf, size_t len)
{
	const char	*slash;
	int		 n, dirlen;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	if (ledger == NULL || *ledger == '\0' || tool == NULL ||
	    *tool == '\0' || *tool == '.' || strchr(tool, '/') != NULL ||
	    buf == NULL)
		return MCA_ERR_INVAL;
	if ((slash = strrchr(ledger, '/')) == NULL)
		n = snprintf(buf, len, "%s.lock", tool);
	else {
		/* "/ledger.db" lives in "/" */
		dirlen = slash == ledger ? 1 : (int)(slash - ledger);
		n = snprintf(buf, len, "%.*s%s%s.lock", dirlen, ledger,
		    dirlen == 1 && *ledger == '/' ? "" : "/", tool);
	}
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return MCA_ERR_TOOBIG;
	}
	return 0;
}

/* The PID the holder wrote into fd, or 0 if it says none. */
static long long
lock_holder(int fd)
{
	char		 buf[LOCK_PID_MAX];
	ssize_t		 n;
	long long	 pid;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (mca_num_parse(buf, (size_t)n, 1, 0x7fffffff, &pid) != 0)
		return 0;
	return pid;
}

int
mca_lock_take(const char *path, struct mca_lock **out, struct mca_diag *d)
{
	struct mca_lock	*l = NULL;
	struct stat	 st;
	char		 pid[LOCK_PID_MAX];
	long long	 holder;
	int		 fd = -1, n, rc = MCA_ERR_INTERNAL;

	mca_diag_clear(d);
	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_lock_take: no %s",
		    path == NULL ? "path" : "output");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    LOCK_MODE)) == -1) {
		rc = mca_diag(d, MCA_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		rc = mca_diag(d, MCA_ERR_IO, "%s: not a regular file", path);
		goto out;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			if ((holder = lock_holder(fd)) > 0)
				rc = mca_diag(d, MCA_ERR_BUSY, "%s: another run "
				    "holds the lock (pid %lld)", path, holder);
			else
				rc = mca_diag(d, MCA_ERR_BUSY, "%s: another run "
				    "holds the lock", path);
		} else
			rc = mca_diag(d, MCA_ERR_IO, "%s: flock: %s", path,
			    strerror(errno));
		goto out;
	}
	/* Who holds it: a courtesy, so a failure here is not one. */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (n > 0 && ftruncate(fd, 0) == 0 &&
	    pwrite(fd, pid, (size_t)n, 0) != (ssize_t)n) {
		/* nothing: the lock is what counts */
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		rc = mca_diag(d, MCA_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	l->fd = fd;
	fd = -1;
	*out = l;
	rc = 0;
out:
	if (fd != -1)
		(void)close(fd);
	return rc;
}

int
mca_lock_beside(const char *cfgpath, const char *ledger, const char *tool,
    struct mca_lock **out, struct mca_diag *d)
{
	char	 path[LOCK_PATH_MAX];

	mca_diag_clear(d);
	if (out != NULL)
		*out = NULL;
	if (mca_lock_path(ledger, tool, path, sizeof(path)) != 0)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: ledger_db_path: no "
		    "place for the lock file", cfgpath != NULL ? cfgpath :
		    "(config)");
	return mca_lock_take(path, out, d);
}

void
mca_lock_release(struct mca_lock *l)
{
	if (l == NULL)
		return;
	/* close() releases it; the next holder writes its own PID. */
	(void)close(l->fd);
	free(l);
}
