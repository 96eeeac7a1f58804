/*
 * Discovery: the walk over the configured files and directories.
 *
 * The calling thread walks (readdir, fstatat, known()) and hands each
 * file to be read to a small pool of reader threads, which open, read
 * and parse it into a result kept with the file's job; the calling
 * thread then delivers every report itself, so that the callback runs
 * in one thread only (discover.h). A file's reports come together and
 * in order (its certificates, then FILE_DONE or SKIP); the reports of
 * different files may interleave with directory SKIPs and FILE_KNOWN.
 *
 * Untrusted tree: no symlink leads into a loop or twice into the same
 * directory ((dev, ino) of every directory entered are kept); FIFOs,
 * sockets and devices are never opened (the type is judged by stat, and
 * again by fstat after an O_NONBLOCK open, so that a file swapped for a
 * FIFO in between is caught without blocking); a file larger than
 * max_file_size is not opened at all.
 *
 * A file that changed between the stat known() saw and the end of the
 * read (another size or mtime, or not the same inode) is reported SKIP
 * "changed during the scan" and not read again: its FILE_DONE is left
 * out, so the next scan reads it whole, by then settled.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "discover.h"
#include "discover_int.h"
#include "err.h"

#define DISC_DEPTH_MAX		64	/* directory levels under a path */
#define DISC_SMALL		(64u * 1024u)	/* the thread's read buffer */
#define DISC_RING		256	/* files in flight */
#define DISC_THREADS		2	/* reader threads: the cores we have */
#define DISC_MSG_MAX		MCA_DIAG_LEN

const char *const	mca_disc_default_paths[] = {
	"/etc/ssl", "/etc/microca", "/var/lib/microca/IssuedCerts"
};
const size_t		mca_disc_ndefault_paths =
    sizeof(mca_disc_default_paths) / sizeof(mca_disc_default_paths[0]);
const char *const	mca_disc_default_extensions[] = {
	"pem", "crt", "cer", "der", "p7b", "p7c", "p12", "pfx"
};
const size_t		mca_disc_ndefault_extensions =
    sizeof(mca_disc_default_extensions) /
    sizeof(mca_disc_default_extensions[0]);

/* One report a reader thread kept for the calling thread. */
struct jev {
	enum mca_disc_event	 event;
	struct mca_disc_cert	 c;	/* CERT: der is an offset in job.der */
	size_t			 deroff;
};

struct job {
	char			*path;
	size_t			 pathcap;
	struct stat		 st;
	int			 done;	/* the reader has finished it */
	struct jev		*ev;
	size_t			 nev, evcap;
	struct mca_buf		 der;
	size_t			 ncerts;
	char			 msg[DISC_MSG_MAX];	/* SKIP, if set */
};

struct dirid {
	dev_t	 dev;
	ino_t	 ino;
};

struct walk {
	const struct mca_disc_opts *o;
	mca_disc_cb		 cb;
	void			*arg;
	struct mca_diag		*d;
	int			 stop;	/* the callback's value, or an error */
	off_t			 maxsize;

	/* Every directory entered: an open-addressing set. */
	struct dirid		*seen;
	size_t			 nseen, seencap;

	/* The ring of files in flight. */
	struct job		 ring[DISC_RING];
	size_t			 head;	/* next to deliver */
	size_t			 take;	/* next for a reader */
	size_t			 tail;	/* next to fill */
	int			 quit;
	int			 nthreads;
	pthread_t		 threads[DISC_THREADS];
	pthread_mutex_t		 mu;
	pthread_cond_t		 work;	/* a job to take, or quit */
	pthread_cond_t		 done;	/* a job finished */
};

/* ---------------------------------------------------------------- read */

static int
job_addev(struct job *j, enum mca_disc_event ev)
{
	struct jev	*n;
	size_t		 cap;

	if (j->nev == j->evcap) {
		cap = j->evcap == 0 ? 4 : j->evcap * 2;
		if ((n = realloc(j->ev, cap * sizeof(*n))) == NULL)
			return MCA_ERR_NOMEM;
		j->ev = n;
		j->evcap = cap;
	}
	j->ev[j->nev].event = ev;
	j->nev++;
	return 0;
}

/* The parser's callback in a reader thread: keep it for delivery. */
static int
collect(void *arg, const struct mca_disc_report *r)
{
	struct job	*j = arg;
	struct jev	*e;

	if (r->event == MCA_DISC_SKIP) {
		(void)snprintf(j->msg, sizeof(j->msg), "%s", r->msg);
		return 0;
	}
	if (r->event != MCA_DISC_CERT || job_addev(j, MCA_DISC_CERT) != 0)
		return MCA_ERR_NOMEM;
	e = &j->ev[j->nev - 1];
	e->c = *r->c;
	e->deroff = j->der.len;
	if (mca_buf_add(&j->der, r->c->der, r->c->der_len) != 0) {
		j->nev--;
		return MCA_ERR_NOMEM;
	}
	j->ncerts++;
	return 0;
}

static void
job_skip(struct job *j, const char *why)
{
	j->nev = 0;
	j->ncerts = 0;
	mca_buf_reset(&j->der);
	(void)snprintf(j->msg, sizeof(j->msg), "%s", why);
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Opens, reads and parses j->path (a reader thread, or the caller when
 * there are none). small is DISC_SMALL + 1 bytes of the thread's own, or
 * NULL (then each file gets an allocation of its size).
 */
static void
job_run(const struct mca_disc_opts *o, struct job *j, unsigned char *small)
{
	struct stat	 st, st2;
	struct mca_diag	 d;
	unsigned char	*buf = small, *big = NULL;
	size_t		 cap = small != NULL ? DISC_SMALL + 1 : 0, got = 0;
	ssize_t		 n;
	int		 fd = -1, rc, cbrc;

	j->nev = 0;
	j->ncerts = 0;
	j->msg[0] = '\0';
	mca_buf_reset(&j->der);
	/*
	 * O_NONBLOCK: a FIFO put here since the stat opens at once (and is
	 * then refused by fstat) instead of waiting for a writer.
	 */
	if ((fd = open(j->path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		job_skip(j, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		job_skip(j, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		job_skip(j, "not a regular file (changed during the "
		    "scan)");
		goto out;
	}
	if (!same_file(&st, &j->st)) {
		job_skip(j, "changed during the scan");
		goto out;
	}
	if ((size_t)st.st_size >= cap) {
		cap = (size_t)st.st_size + 1;
		if ((big = malloc(cap)) == NULL) {
			job_skip(j, "out of memory");
			goto out;
		}
		buf = big;
	}
	/* One byte more than the size: a file that grew is seen. */
	while (got < cap) {
		n = read(fd, buf + got, cap - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			job_skip(j, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != (size_t)j->st.st_size || fstat(fd, &st2) == -1 ||
	    !same_file(&st2, &j->st)) {
		job_skip(j, "changed during the scan");
		goto out;
	}
	rc = mca_disc_parse_int(buf, got, j->path, o, collect, j, &d, &cbrc);
	if (cbrc != 0)
		job_skip(j, cbrc == MCA_ERR_NOMEM ? "out of memory" :
		    "cannot keep its certificates");
	else if (rc < 0) {
		/* The certificates before the fault stay reported. */
		(void)snprintf(j->msg, sizeof(j->msg), "%s", d.msg);
	}
out:
	if (fd != -1)
		(void)close(fd);
	free(big);
}

static void *
reader(void *arg)
{
	struct walk	*w = arg;
	struct job	*j;
	unsigned char	*small;

	/* Without its buffer a reader allocates one for each file. */
	small = malloc(DISC_SMALL + 1);
	(void)pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->quit && w->take == w->tail)
			(void)pthread_cond_wait(&w->work, &w->mu);
		if (w->quit)
			break;
		j = &w->ring[w->take++ % DISC_RING];
		(void)pthread_mutex_unlock(&w->mu);
		job_run(w->o, j, small);
		(void)pthread_mutex_lock(&w->mu);
		j->done = 1;
		(void)pthread_cond_broadcast(&w->done);
	}
	(void)pthread_mutex_unlock(&w->mu);
	free(small);
	return NULL;
}

/* ---------------------------------------------------------------- deliver */

static int
deliver(struct walk *w, struct mca_disc_report *r)
{
	int	 rc;

	if (w->stop != 0)
		return w->stop;
	if ((rc = w->cb(w->arg, r)) != 0)
		w->stop = rc;
	return rc;
}

static int
skip(struct walk *w, const char *path, const char *why)
{
	struct mca_disc_report	 r;

	memset(&r, 0, sizeof(r));
	r.event = MCA_DISC_SKIP;
	r.path = path;
	r.msg = why;
	return deliver(w, &r);
}

/* Delivers the reports of a finished job, in their order. */
static int
job_deliver(struct walk *w, struct job *j)
{
	struct mca_disc_report	 r;
	struct jev		*e;
	size_t			 i;

	for (i = 0; i < j->nev && w->stop == 0; i++) {
		e = &j->ev[i];
		e->c.location = j->path;
		e->c.der = j->der.data + e->deroff;
		memset(&r, 0, sizeof(r));
		r.event = MCA_DISC_CERT;
		r.path = j->path;
		r.c = &e->c;
		(void)deliver(w, &r);
	}
	if (w->stop != 0)
		return w->stop;
	if (j->msg[0] != '\0')
		return skip(w, j->path, j->msg);
	memset(&r, 0, sizeof(r));
	r.event = MCA_DISC_FILE_DONE;
	r.path = j->path;
	r.st = &j->st;
	r.ncerts = j->ncerts;
	return deliver(w, &r);
}

/*
 * Delivers finished jobs from the head; with wait, waits for the head
 * one at least. Called with the mutex not held.
 */
static void
drain(struct walk *w, int wait)
{
	struct job	*j;

	for (;;) {
		(void)pthread_mutex_lock(&w->mu);
		if (w->head == w->tail) {
			(void)pthread_mutex_unlock(&w->mu);
			return;
		}
		j = &w->ring[w->head % DISC_RING];
		while (wait && !j->done)
			(void)pthread_cond_wait(&w->done, &w->mu);
		if (!j->done) {
			(void)pthread_mutex_unlock(&w->mu);
			return;
		}
		(void)pthread_mutex_unlock(&w->mu);
		(void)job_deliver(w, j);
		(void)pthread_mutex_lock(&w->mu);
		j->done = 0;
		w->head++;
		(void)pthread_mutex_unlock(&w->mu);
		wait = 0;
	}
}

/* Queues path (known() said no) for a reader, or reads it now. */
static int
submit(struct walk *w, const char *path, const struct stat *st)
{
	struct job	*j;
	size_t		 len = strlen(path) + 1;
	char		*p;

	drain(w, w->tail - w->head == DISC_RING);
	if (w->stop != 0)
		return w->stop;
	j = &w->ring[w->tail % DISC_RING];
	if (len > j->pathcap) {
		if ((p = realloc(j->path, len)) == NULL)
			return w->stop = mca_diag(w->d, MCA_ERR_NOMEM,
			    "discovery: out of memory");
		j->path = p;
		j->pathcap = len;
	}
	memcpy(j->path, path, len);
	j->st = *st;
	j->done = 0;
	if (w->nthreads == 0) {
		unsigned char	*small = malloc(DISC_SMALL + 1);

		job_run(w->o, j, small);
		free(small);
		(void)job_deliver(w, j);
		return w->stop;
	}
	(void)pthread_mutex_lock(&w->mu);
	w->tail++;
	(void)pthread_cond_signal(&w->work);
	(void)pthread_mutex_unlock(&w->mu);
	return 0;
}

/* ---------------------------------------------------------------- walk */

static int
excluded(const struct walk *w, const char *path)
{
	size_t	 i;

	for (i = 0; i < w->o->nexclude; i++)
		if (w->o->exclude[i] != NULL &&
		    fnmatch(w->o->exclude[i], path, 0) == 0)
			return 1;
	return 0;
}

/* The name ends in ".<one of the extensions>", in any case. */
static int
ext_ok(const struct walk *w, const char *name)
{
	const char	*dot;
	size_t		 i;

	if (w->o->extensions == NULL)
		return 1;
	if ((dot = strrchr(name, '.')) == NULL)
		return 0;
	for (i = 0; i < w->o->nextensions; i++)
		if (w->o->extensions[i] != NULL &&
		    strcasecmp(dot + 1, w->o->extensions[i]) == 0)
			return 1;
	return 0;
}

static size_t
seen_slot(const struct walk *w, dev_t dev, ino_t ino)
{
	size_t	 h;

	h = ((size_t)ino * 0x9e3779b97f4a7c15ull) ^ (size_t)dev;
	h &= w->seencap - 1;
	while ((w->seen[h].dev != 0 || w->seen[h].ino != 0) &&
	    (w->seen[h].dev != dev || w->seen[h].ino != ino))
		h = (h + 1) & (w->seencap - 1);
	return h;
}

/* Adds (dev, ino); returns 1 if it was there, 0 if new, or an error. */
static int
seen_add(struct walk *w, dev_t dev, ino_t ino)
{
	struct dirid	*old = w->seen;
	size_t		 i, oldcap = w->seencap, h;

	if (w->nseen + 1 > w->seencap / 2) {
		w->seencap = oldcap == 0 ? 64 : oldcap * 2;
		if ((w->seen = calloc(w->seencap, sizeof(*old))) == NULL) {
			w->seen = old;
			w->seencap = oldcap;
			return MCA_ERR_NOMEM;
		}
		for (i = 0; i < oldcap; i++)
			if (old[i].dev != 0 || old[i].ino != 0)
				w->seen[seen_slot(w, old[i].dev,
				    old[i].ino)] = old[i];
		free(old);
	}
	h = seen_slot(w, dev, ino);
	if (w->seen[h].dev == dev && w->seen[h].ino == ino &&
	    (dev != 0 || ino != 0))
		return 1;
	w->seen[h].dev = dev;
	w->seen[h].ino = ino;
	w->nseen++;
	return 0;
}

static int	walk_dir(struct walk *, int, const char *, const struct stat *,
		    int);

/* A regular file found by stat st at path. */
static int
file(struct walk *w, const char *path, const struct stat *st)
{
	struct mca_disc_report	 r;
	char			 msg[96];

	if (w->o->known != NULL && w->o->known(w->o->arg, path, st) == 1) {
		memset(&r, 0, sizeof(r));
		r.event = MCA_DISC_FILE_KNOWN;
		r.path = path;
		r.st = st;
		return deliver(w, &r);
	}
	if (st->st_size > w->maxsize) {
		(void)snprintf(msg, sizeof(msg), "larger than max_file_size "
		    "(%lld > %lld bytes): not read", (long long)st->st_size,
		    (long long)w->maxsize);
		return skip(w, path, msg);
	}
	return submit(w, path, st);
}

/*
 * One place, by its path and its stat (symlinks followed). A directory
 * is entered once, whatever leads to it.
 */
static int
place(struct walk *w, const char *path, const struct stat *st, int depth,
    int explicit)
{
	int	 fd, r;

	if (S_ISREG(st->st_mode))
		return file(w, path, st);
	if (!S_ISDIR(st->st_mode))
		return skip(w, path, explicit ? "not a regular file or "
		    "directory: not opened" : "not a regular file: not opened");
	if (depth >= DISC_DEPTH_MAX)
		return skip(w, path, "too deep: not entered");
	if ((r = seen_add(w, st->st_dev, st->st_ino)) < 0)
		return w->stop = mca_diag(w->d, r, "discovery: out of memory");
	if (r == 1)
		return 0;	/* a loop, or a second way in */
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return skip(w, path, strerror(errno));
	return walk_dir(w, fd, path, st, depth);
}

/* The entries of the directory open on fd (closed here). */
static int
walk_dir(struct walk *w, int fd, const char *path, const struct stat *want,
    int depth)
{
	struct stat	 st;
	DIR		*dir;
	struct dirent	*de;
	char		*sub = NULL;
	size_t		 plen = strlen(path), nlen;
	int		 follow;

	/* "/etc/ssl/" and "/" name their entries without a double slash. */
	if (plen > 0 && path[plen - 1] == '/')
		plen--;
	if (fstat(fd, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_dev != want->st_dev || st.st_ino != want->st_ino) {
		(void)close(fd);
		return skip(w, path, "changed during the scan");
	}
	if ((dir = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return skip(w, path, strerror(errno));
	}
	if ((sub = malloc(MCA_DISC_LOC_MAX)) == NULL) {
		(void)closedir(dir);
		return w->stop = mca_diag(w->d, MCA_ERR_NOMEM,
		    "discovery: out of memory");
	}
	while (w->stop == 0) {
		errno = 0;
		if ((de = readdir(dir)) == NULL) {
			if (errno != 0)
				(void)skip(w, path, strerror(errno));
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		/* Cheap first: a regular file of another extension. */
		if (de->d_type != DT_DIR && de->d_type != DT_LNK &&
		    de->d_type != DT_UNKNOWN && !ext_ok(w, de->d_name))
			continue;
		nlen = strlen(de->d_name);
		if (plen + 1 + nlen >= MCA_DISC_LOC_MAX) {
			(void)skip(w, path, "an entry's path is too long: "
			    "not read");
			continue;
		}
		memcpy(sub, path, plen);
		sub[plen] = '/';
		memcpy(sub + plen + 1, de->d_name, nlen + 1);
		if (excluded(w, sub))
			continue;
		follow = de->d_type == DT_LNK || de->d_type == DT_UNKNOWN;
		if (fstatat(dirfd(dir), de->d_name, &st,
		    follow ? 0 : AT_SYMLINK_NOFOLLOW) == -1) {
			/* A dangling symlink is no certificate. */
			if (errno != ENOENT)
				(void)skip(w, sub, strerror(errno));
			continue;
		}
		if (!S_ISDIR(st.st_mode) && !ext_ok(w, de->d_name))
			continue;
		(void)place(w, sub, &st, depth + 1, 0);
	}
	free(sub);
	(void)closedir(dir);
	return w->stop;
}

/* ---------------------------------------------------------------- entry */

int
mca_disc_scan_files(const struct mca_disc_opts *opts, mca_disc_cb cb,
    void *arg, struct mca_diag *d)
{
	struct walk	*w = NULL;
	struct stat	 st;
	size_t		 i;
	int		 rc = MCA_ERR_NOMEM, locked = 0;

	mca_diag_clear(d);
	if (opts == NULL || cb == NULL || (opts->npaths > 0 &&
	    opts->paths == NULL))
		return mca_diag(d, MCA_ERR_INVAL, "discovery: no options");
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return mca_diag(d, MCA_ERR_NOMEM, "discovery: out of memory");
	w->o = opts;
	w->cb = cb;
	w->arg = arg;
	w->d = d;
	w->maxsize = opts->max_file_size > 0 ? opts->max_file_size :
	    MCA_DISC_DEF_MAX_FILE_SIZE;
	if (pthread_mutex_init(&w->mu, NULL) != 0)
		goto out;
	locked = 1;
	if (pthread_cond_init(&w->work, NULL) != 0) {
		locked = 2;
		goto out;
	}
	if (pthread_cond_init(&w->done, NULL) != 0) {
		locked = 3;
		goto out;
	}
	locked = 4;
	for (i = 0; i < DISC_THREADS; i++) {
		if (pthread_create(&w->threads[i], NULL, reader, w) != 0)
			break;	/* fewer readers; none: the caller reads */
		w->nthreads++;
	}
	for (i = 0; i < opts->npaths && w->stop == 0; i++) {
		if (opts->paths[i] == NULL || opts->paths[i][0] == '\0')
			continue;
		if (strlen(opts->paths[i]) >= MCA_DISC_LOC_MAX) {
			(void)skip(w, opts->paths[i], "path too long");
			continue;
		}
		if (excluded(w, opts->paths[i]))
			continue;
		/* A path given is followed if it is a symlink. */
		if (stat(opts->paths[i], &st) == -1) {
			(void)skip(w, opts->paths[i], strerror(errno));
			continue;
		}
		(void)place(w, opts->paths[i], &st, 0, 1);
	}
	if (w->nthreads > 0)
		while (w->stop == 0 && w->head != w->tail)
			drain(w, 1);
	rc = w->stop;
out:
	if (locked == 4) {
		(void)pthread_mutex_lock(&w->mu);
		w->quit = 1;
		(void)pthread_cond_broadcast(&w->work);
		(void)pthread_mutex_unlock(&w->mu);
		for (i = 0; i < (size_t)w->nthreads; i++)
			(void)pthread_join(w->threads[i], NULL);
	}
	if (locked >= 4)
		(void)pthread_cond_destroy(&w->done);
	if (locked >= 3)
		(void)pthread_cond_destroy(&w->work);
	if (locked >= 1)
		(void)pthread_mutex_destroy(&w->mu);
	if (rc == MCA_ERR_NOMEM && locked < 4)
		(void)mca_diag(d, rc, "discovery: out of resources");
	for (i = 0; i < DISC_RING; i++) {
		free(w->ring[i].path);
		free(w->ring[i].ev);
		mca_buf_free(&w->ring[i].der);
	}
	free(w->seen);
	free(w);
	return rc;
}
