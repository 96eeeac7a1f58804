/*
 * crashpoint.so: a test-only LD_PRELOAD shim that kills its process with
 * SIGKILL at the Nth durability-relevant call, as a power cut or kill -9
 * would stop it there (tests/integration/check_rotate.c). Never
 * installed; built by "make check" without the sanitizers.
 *
 * Counted: rename(2), unlink(2), fsync(2), fdatasync(2), and write(2),
 * pwrite(2) and pwrite64 on files. That is every step by which
 * microca-renew itself changes what it leaves behind: the ledger's
 * transactions (SQLite's WAL frames and syncs) and the atomic writes of
 * intermediate_cert_path (lib/fileio.c). Calls libc makes inside itself
 * (stdio's buffers, remove(3)) do not pass through here, and neither do
 * C_GenerateKeyPair and C_DestroyObject, reached through the module's
 * function list: the token's own writes are not crash points. (SoftHSMv2
 * could not take them anyway: it rewrites token.object in place through
 * stdio, truncated first, so a kill there loses the whole token; a real
 * HSM's operations are atomic.)
 *
 * Environment:
 *   MCA_CRASH_AT=N      raise(SIGKILL) at the Nth counted call; 0 or
 *                       unset: only count.
 *   MCA_CRASH_PATHS=P:Q count only calls on paths under these prefixes
 *                       (a descriptor's path is read from /proc/self/fd);
 *                       unset: every file (never a pipe, socket or tty).
 *   MCA_CRASH_SKIP=P:Q  but none under these.
 *   MCA_CRASH_LOG=FILE  appends "killed N FUNC PATH" before the kill, or
 *                       "completed N" (the calls counted) at a normal
 *                       exit, so that the caller can tell a kill of ours
 *                       from any other death.
 *
 * With AddressSanitizer: libasan must be the first object in the
 * process's library list, so the caller puts it before this shim in
 * LD_PRELOAD ("/path/libasan.so.8 crashpoint.so"). ASan's own
 * interceptors of write and pwrite then find ours as the next
 * definition (dlsym(RTLD_NEXT)), and ours find libc's.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/types.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The prototypes of what we define: -Wmissing-prototypes wants them. */
int	 rename(const char *, const char *);
int	 unlink(const char *);
int	 fsync(int);
int	 fdatasync(int);
ssize_t	 write(int, const void *, size_t);
ssize_t	 pwrite(int, const void *, size_t, off_t);
ssize_t	 pwrite64(int, const void *, size_t, off64_t);

static unsigned long	 counted;
static unsigned long	 crash_at;
static int		 inited;

static void
init(void)
{
	const char	*s;
	char		*end;
	unsigned long	 v;

	if (inited)
		return;
	inited = 1;
	if ((s = getenv("MCA_CRASH_AT")) != NULL && *s != '\0') {
		v = strtoul(s, &end, 10);
		if (*end == '\0')
			crash_at = v;
	}
}

static void *
next(const char *name)
{
	void	*f;

	if ((f = dlsym(RTLD_NEXT, name)) == NULL)
		abort();
	return f;
}

/* Whether path lies under one of the prefixes of list (var). */
static int
under(const char *path, const char *var)
{
	const char	*p, *q;
	size_t		 n;

	if ((p = getenv(var)) == NULL)
		return 0;
	while (*p != '\0') {
		q = strchr(p, ':');
		n = q != NULL ? (size_t)(q - p) : strlen(p);
		if (n > 0 && strncmp(path, p, n) == 0 &&
		    (path[n] == '/' || path[n] == '\0' || p[n - 1] == '/'))
			return 1;
		if (q == NULL)
			break;
		p = q + 1;
	}
	return 0;
}

/* Under MCA_CRASH_PATHS (all when unset), and not under MCA_CRASH_SKIP. */
static int
watched(const char *path)
{
	const char	*p = getenv("MCA_CRASH_PATHS");

	if (p != NULL && *p != '\0' && !under(path, "MCA_CRASH_PATHS"))
		return 0;
	return !under(path, "MCA_CRASH_SKIP");
}

/* The path of a descriptor that is a regular file or directory. */
static int
fd_path(int fd, char *buf, size_t len)
{
	struct stat	 st;
	char		 link[64];
	ssize_t		 n;

	if (fstat(fd, &st) == -1 || !(S_ISREG(st.st_mode) ||
	    S_ISDIR(st.st_mode)))
		return -1;
	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, buf, len - 1)) <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* "what N [FN PATH]" to MCA_CRASH_LOG, written with libc's write. */
static void
say(const char *what, const char *fn, const char *path)
{
	ssize_t		 (*w)(int, const void *, size_t);
	const char	*log;
	char		 line[PATH_MAX + 128];
	int		 fd, n;

	if ((log = getenv("MCA_CRASH_LOG")) == NULL || *log == '\0')
		return;
	n = snprintf(line, sizeof(line), "%s %lu%s%s%s%s\n", what, counted,
	    *fn != '\0' ? " " : "", fn, *path != '\0' ? " " : "", path);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if ((fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		return;
	w = next("write");
	(void)w(fd, line, (size_t)n);
	(void)close(fd);
}

/* Counts a call on path; the Nth is not made. */
static void
point(const char *fn, const char *path)
{
	init();
	if (path == NULL || !watched(path))
		return;
	counted++;
	if (crash_at != 0 && counted == crash_at) {
		say("killed", fn, path);
		(void)raise(SIGKILL);
	}
}

static void
point_fd(const char *fn, int fd)
{
	char	 path[PATH_MAX];

	if (fd_path(fd, path, sizeof(path)) == 0)
		point(fn, path);
}

__attribute__((destructor)) static void
done(void)
{
	init();
	say("completed", "", "");
}

int
rename(const char *from, const char *to)
{
	int	 (*f)(const char *, const char *) = next("rename");

	point("rename", to);
	return f(from, to);
}

int
unlink(const char *path)
{
	int	 (*f)(const char *) = next("unlink");

	point("unlink", path);
	return f(path);
}

int
fsync(int fd)
{
	int	 (*f)(int) = next("fsync");

	point_fd("fsync", fd);
	return f(fd);
}

int
fdatasync(int fd)
{
	int	 (*f)(int) = next("fdatasync");

	point_fd("fdatasync", fd);
	return f(fd);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	ssize_t	 (*f)(int, const void *, size_t) = next("write");

	point_fd("write", fd);
	return f(fd, buf, len);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t	 (*f)(int, const void *, size_t, off_t) = next("pwrite");

	point_fd("pwrite", fd);
	return f(fd, buf, len, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	ssize_t	 (*f)(int, const void *, size_t, off64_t) = next("pwrite64");

	point_fd("pwrite64", fd);
	return f(fd, buf, len, off);
}

