/* Unit tests for lib/fileio.c. */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "testutil.h"

Suite	*fileio_suite(void);

static char	*dir;

/* The writer under test: both must behave the same, but for the fsync. */
static int	(*write_fn)(const char *, const char *, const void *, size_t,
		    mode_t) = mca_file_write_atomic;

/*
 * Every fsync(2) of this process comes here first (the executable's
 * symbol is found before libc's), and the path of what it flushes is
 * kept: the tests see which files and directories were made durable,
 * without strace.
 */
#define SYNCED_MAX	8
static char	 synced[SYNCED_MAX][PATH_MAX];
static int	 nsynced;

int
fsync(int fd)
{
	static int	(*real)(int);
	char		 link[64];
	ssize_t		 n;

	if (real == NULL &&
	    (real = (int (*)(int))dlsym(RTLD_NEXT, "fsync")) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (nsynced < SYNCED_MAX) {
		(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, synced[nsynced], sizeof(synced[0]) - 1);
		synced[nsynced][n > 0 ? n : 0] = '\0';
		nsynced++;
	}
	return real(fd);
}

static void
setup(void)
{
	dir = tu_mkdtemp("fileio");
	write_fn = mca_file_write_atomic;
	nsynced = 0;
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(dir);
	dir = NULL;
}

/* dir/name, in a static buffer. */
static const char *
path(const char *name)
{
	static char	 p[PATH_MAX];

	(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* Number of entries in d other than "." and "..". */
static int
count_entries(const char *d)
{
	DIR		*dp;
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(dp = opendir(d));
	while ((de = readdir(dp)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(dp);
	return n;
}

/* ------------------------------------------------------------- read */

static const struct read_case {
	size_t		 size;
	size_t		 cap;
	int		 rc;
} read_cases[] = {
	{ 0, 0, 0 },
	{ 0, 100, 0 },
	{ 1, 1, 0 },
	{ 1, 0, MCA_ERR_TOOBIG },
	{ 100, 100, 0 },
	{ 100, 99, MCA_ERR_TOOBIG },
	{ 4095, 4096, 0 },
	{ 4096, 4096, 0 },
	{ 4097, 4096, MCA_ERR_TOOBIG },
	{ 8192, 8192, 0 },
	{ 100000, 1024 * 1024, 0 },
	{ 100000, 99999, MCA_ERR_TOOBIG },
};

START_TEST(test_read)
{
	const struct read_case	*t = &read_cases[_i];
	struct mca_buf		 out = MCA_BUF_INIT;
	char			*data;
	mode_t			 mode = 0777;
	size_t			 i;

	ck_assert_ptr_nonnull(data = malloc(t->size + 1));
	for (i = 0; i < t->size; i++)
		data[i] = (char)(i * 31 + 7);
	ck_assert_int_eq(tu_write(path("f"), data, t->size), 0);
	ck_assert_int_eq(chmod(path("f"), 0640), 0);
	/* reads append */
	ck_assert_int_eq(mca_buf_addstr(&out, "pre"), 0);
	ck_assert_int_eq(mca_file_read(path("f"), t->cap, &out, &mode), t->rc);
	if (t->rc == 0) {
		ck_assert_uint_eq(out.len, 3 + t->size);
		ck_assert_int_eq(memcmp(out.data, "pre", 3), 0);
		if (t->size > 0)
			ck_assert_int_eq(memcmp(out.data + 3, data, t->size), 0);
		ck_assert_int_eq(out.data[out.len], '\0');
		ck_assert_uint_eq(mode, 0640);
	} else {
		ck_assert_uint_eq(out.len, 3);
		ck_assert_str_eq(mca_buf_str(&out), "pre");
		ck_assert_uint_eq(mode, 0);
	}
	/* mode may be NULL */
	mca_buf_reset(&out);
	ck_assert_int_eq(mca_file_read(path("f"), t->cap, &out, NULL), t->rc);
	free(data);
	mca_buf_free(&out);
}
END_TEST

START_TEST(test_read_missing)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	mode_t		 mode = 0777;

	ck_assert_int_eq(mca_file_read(path("nope"), 100, &out, &mode),
	    MCA_ERR_NOTFOUND);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_uint_eq(mode, 0);
	/* a dangling symlink is missing too */
	ck_assert_int_eq(symlink("nope", path("link")), 0);
	ck_assert_int_eq(mca_file_read(path("link"), 100, &out, NULL),
	    MCA_ERR_NOTFOUND);
	/* a missing directory on the way */
	ck_assert_int_eq(mca_file_read(path("no/such"), 100, &out, NULL),
	    MCA_ERR_NOTFOUND);
	mca_buf_free(&out);
}
END_TEST

START_TEST(test_read_symlink)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	ck_assert_int_eq(tu_write(path("real"), "abc", 3), 0);
	ck_assert_int_eq(symlink("real", path("link")), 0);
	ck_assert_int_eq(mca_file_read(path("link"), 100, &out, NULL), 0);
	ck_assert_str_eq(mca_buf_str(&out), "abc");
	mca_buf_free(&out);
}
END_TEST

/*
 * Not regular files: a directory, a device, a FIFO (with no writer: the
 * read must not hang waiting for one) and a symlink to a directory.
 */
static const char *const notreg[] = { "dir", "/dev/null", "fifo",
    "dirlink" };

START_TEST(test_read_not_regular)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	const char	*p;

	ck_assert_int_eq(mkdir(path("dir"), 0700), 0);
	ck_assert_int_eq(mkfifo(path("fifo"), 0600), 0);
	ck_assert_int_eq(symlink("dir", path("dirlink")), 0);
	p = notreg[_i][0] == '/' ? notreg[_i] : path(notreg[_i]);
	ck_assert_int_eq(mca_buf_addstr(&out, "pre"), 0);
	/* A hang here ends in Check's timeout, which names this test. */
	ck_assert_int_eq(mca_file_read(p, 100, &out, NULL), MCA_ERR_INVAL);
	ck_assert_str_eq(mca_buf_str(&out), "pre");
	mca_buf_free(&out);
}
END_TEST

START_TEST(test_read_unreadable)
{
	struct mca_buf	 out = MCA_BUF_INIT;

	if (geteuid() == 0)
		return;		/* root reads anything */
	ck_assert_int_eq(tu_write(path("secret"), "x", 1), 0);
	ck_assert_int_eq(chmod(path("secret"), 0), 0);
	ck_assert_int_eq(mca_file_read(path("secret"), 100, &out, NULL),
	    MCA_ERR_IO);
	ck_assert_uint_eq(out.len, 0);
	mca_buf_free(&out);
}
END_TEST

/* A file as large as a buffer may be is read whole. */
START_TEST(test_read_buf_max)
{
	struct mca_buf	 out = MCA_BUF_INIT;
	char		*data;

	ck_assert_ptr_nonnull(data = malloc(MCA_BUF_MAX));
	memset(data, 'm', MCA_BUF_MAX);
	ck_assert_int_eq(tu_write(path("big"), data, MCA_BUF_MAX - 100), 0);
	ck_assert_int_eq(mca_file_read(path("big"), MCA_BUF_MAX, &out, NULL),
	    0);
	ck_assert_uint_eq(out.len, MCA_BUF_MAX - 100);
	mca_buf_free(&out);
	ck_assert_int_eq(tu_write(path("big"), data, MCA_BUF_MAX), 0);
	ck_assert_int_eq(mca_file_read(path("big"), MCA_BUF_MAX, &out, NULL),
	    0);
	ck_assert_uint_eq(out.len, MCA_BUF_MAX);
	ck_assert_int_eq(memcmp(out.data, data, MCA_BUF_MAX), 0);
	mca_buf_free(&out);
	free(data);
}
END_TEST

/* ------------------------------------------------------------ write */

static const struct write_case {
	const char	*data;
	size_t		 len;
	mode_t		 mode;
} write_cases[] = {
	{ "", 0, 0600 },
	{ "hello\n", 6, 0644 },
	{ "a\0b", 3, 0400 },
	{ "-----BEGIN CERTIFICATE-----\n", 28, 0640 },
	{ "x", 1, 0 },
};

START_TEST(test_write)
{
	const struct write_case	*t = &write_cases[_i];
	struct mca_buf		 got = MCA_BUF_INIT;
	struct stat		 st;
	mode_t			 old;

	/* the mode is exact, whatever the umask */
	old = umask(077);
	ck_assert_int_eq(write_fn(dir, "out.pem", t->data, t->len,
	    t->mode), 0);
	umask(old);
	ck_assert_int_eq(stat(path("out.pem"), &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, t->mode);
	ck_assert_int_eq(tu_read(path("out.pem"), &got), 0);
	ck_assert_uint_eq(got.len, t->len);
	if (t->len > 0)
		ck_assert_int_eq(memcmp(got.data, t->data, t->len), 0);
	/* no temporary file left behind */
	ck_assert_int_eq(count_entries(dir), 1);
	mca_buf_free(&got);
}
END_TEST

START_TEST(test_write_replace)
{
	struct mca_buf	 got = MCA_BUF_INIT;
	struct stat	 st;

	ck_assert_int_eq(tu_write(path("f"), "old contents, longer", 20), 0);
	ck_assert_int_eq(chmod(path("f"), 0666), 0);
	ck_assert_int_eq(write_fn(dir, "f", "new", 3, 0600), 0);
	ck_assert_int_eq(tu_read(path("f"), &got), 0);
	ck_assert_str_eq(mca_buf_str(&got), "new");
	ck_assert_int_eq(stat(path("f"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(count_entries(dir), 1);
	mca_buf_free(&got);
}
END_TEST

static const char *const bad_names[] = { "", "/", "a/b", "/etc/passwd",
    "../x", "x/", ".", ".." };

START_TEST(test_write_bad_name)
{
	ck_assert_int_eq(write_fn(dir, bad_names[_i], "x", 1,
	    0600), MCA_ERR_INVAL);
	ck_assert_int_eq(count_entries(dir), 0);
}
END_TEST

START_TEST(test_write_long_name)
{
	char	 name[PATH_MAX + 10];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(write_fn(dir, name, "x", 1, 0600),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(count_entries(dir), 0);
}
END_TEST

/* A directory we cannot write to: an error, and nothing left anywhere. */
START_TEST(test_write_bad_dir)
{
	ck_assert_int_eq(write_fn(path("missing"), "f", "x", 1,
	    0600), MCA_ERR_IO);
	ck_assert_int_eq(tu_write(path("file"), "", 0), 0);
	ck_assert_int_eq(write_fn(path("file"), "f", "x", 1,
	    0600), MCA_ERR_IO);
	ck_assert_int_eq(count_entries(dir), 1);
	if (geteuid() != 0) {
		ck_assert_int_eq(mkdir(path("ro"), 0500), 0);
		ck_assert_int_eq(write_fn(path("ro"), "f", "x", 1,
		    0600), MCA_ERR_IO);
		ck_assert_int_eq(count_entries(path("ro")), 0);
		ck_assert_int_eq(chmod(path("ro"), 0700), 0);
	}
}
END_TEST

/* The rename fails (a directory is in the way): the temp file goes. */
START_TEST(test_write_rename_fails)
{
	ck_assert_int_eq(mkdir(path("target"), 0700), 0);
	ck_assert_int_eq(mkdir(path("target/sub"), 0700), 0);
	ck_assert_int_eq(write_fn(dir, "target", "x", 1, 0600),
	    MCA_ERR_IO);
	ck_assert_int_eq(count_entries(dir), 1);
	ck_assert_int_eq(count_entries(path("target")), 1);
}
END_TEST

/*
 * The write itself fails half-way (file size limit): the old file stays
 * whole, and no partial temp file is left.
 */
START_TEST(test_write_partial)
{
	struct mca_buf	 got = MCA_BUF_INIT;
	struct rlimit	 rl, old;
	char		 data[8192];

	ck_assert_int_eq(tu_write(path("f"), "old", 3), 0);
	memset(data, 'd', sizeof(data));
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = 4096;
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(write_fn(dir, "f", data, sizeof(data),
	    0600), MCA_ERR_IO);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	ck_assert_int_eq(tu_read(path("f"), &got), 0);
	ck_assert_str_eq(mca_buf_str(&got), "old");
	ck_assert_int_eq(count_entries(dir), 1);
	mca_buf_free(&got);
}
END_TEST

/*
 * mca_file_write_atomic flushes the file before its rename, and the
 * directory after it: the new name survives a power cut too (6b of
 * issue 11). mca_file_write_copy (issued_certs_synchronous "OFF")
 * flushes nothing.
 */
START_TEST(test_write_synced)
{
	char	 real[PATH_MAX], tmp[PATH_MAX + 16];

	ck_assert_ptr_nonnull(realpath(dir, real));
	nsynced = 0;
	ck_assert_int_eq(write_fn(dir, "f.pem", "x", 1, 0644), 0);
	if (write_fn == mca_file_write_copy) {
		ck_assert_int_eq(nsynced, 0);
		return;
	}
	ck_assert_int_eq(nsynced, 2);
	/* first the temporary file, by the name it had then */
	(void)snprintf(tmp, sizeof(tmp), "%s/.f.pem.", real);
	ck_assert_msg(strncmp(synced[0], tmp, strlen(tmp)) == 0,
	    "first fsync: %s", synced[0]);
	/* then the directory that now names it f.pem */
	ck_assert_str_eq(synced[1], real);
}
END_TEST

/* What was written atomically reads back through mca_file_read. */
START_TEST(test_write_read)
{
	struct mca_buf	 got = MCA_BUF_INIT;
	unsigned char	 data[10000];
	mode_t		 mode;
	size_t		 i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i ^ (i >> 8));
	ck_assert_int_eq(write_fn(dir, "rt", data, sizeof(data),
	    0604), 0);
	ck_assert_int_eq(mca_file_read(path("rt"), sizeof(data), &got, &mode),
	    0);
	ck_assert_uint_eq(got.len, sizeof(data));
	ck_assert_int_eq(memcmp(got.data, data, sizeof(data)), 0);
	ck_assert_uint_eq(mode, 0604);
	mca_buf_free(&got);
}
END_TEST

static void
setup_copy(void)
{
	setup();
	write_fn = mca_file_write_copy;
}

static void	 write_tests(TCase *);

Suite *
fileio_suite(void)
{
	Suite	*s = suite_create("fileio");
	TCase	*tc;

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_read, 0,
	    sizeof(read_cases) / sizeof(read_cases[0]));
	tcase_add_test(tc, test_read_missing);
	tcase_add_test(tc, test_read_symlink);
	tcase_add_loop_test(tc, test_read_not_regular, 0,
	    sizeof(notreg) / sizeof(notreg[0]));
	tcase_add_test(tc, test_read_unreadable);
	tcase_add_test(tc, test_read_buf_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_checked_fixture(tc, setup, teardown);
	write_tests(tc);
	suite_add_tcase(s, tc);

	/* mca_file_write_copy(): the same tests (a new process each). */
	tc = tcase_create("write_copy");
	tcase_add_checked_fixture(tc, setup_copy, teardown);
	write_tests(tc);
	suite_add_tcase(s, tc);
	return s;
}

static void
write_tests(TCase *tc)
{
	tcase_add_loop_test(tc, test_write, 0,
	    sizeof(write_cases) / sizeof(write_cases[0]));
	tcase_add_test(tc, test_write_replace);
	tcase_add_loop_test(tc, test_write_bad_name, 0,
	    sizeof(bad_names) / sizeof(bad_names[0]));
	tcase_add_test(tc, test_write_long_name);
	tcase_add_test(tc, test_write_bad_dir);
	tcase_add_test(tc, test_write_rename_fails);
	tcase_add_test(tc, test_write_partial);
	tcase_add_test(tc, test_write_read);
	tcase_add_test(tc, test_write_synced);
}

int
main(void)
{
	return tu_run(fileio_suite());
}
