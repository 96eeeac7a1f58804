/*
 * syncrate: how many fdatasync() calls per second the disk under a
 * directory takes, the bound on durable ledger commits (SQLite in WAL
 * mode with synchronous=FULL syncs the WAL once per commit).
 *
 * Like a WAL that is being reused after a checkpoint, it overwrites
 * 4 KiB pages of a preallocated 4 MiB file in order, one fdatasync each,
 * for a fixed time. The file is removed at the end.
 *
 * usage: syncrate DIR [SECONDS]
 * Prints one line: "syncs=N seconds=S rate=R". Exit 0, or 1.
 */
#include "config.h"

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mono.h"
#include "num.h"

#define PAGE	4096
#define PAGES	1024

int
main(int argc, char *argv[])
{
	char		 path[4096], page[PAGE];
	long long	 secs = 3;
	long		 n;
	double		 t0, end;
	int		 fd, i;

	if (argc < 2 || argc > 3)
		errx(1, "usage: syncrate DIR [SECONDS]");
	if (argc == 3 && mca_num_parse(argv[2], strlen(argv[2]), 1, 600,
	    &secs) != 0)
		errx(1, "SECONDS: 1 to 600");
	if (snprintf(path, sizeof(path), "%s/syncrate.XXXXXX", argv[1]) >=
	    (int)sizeof(path))
		errx(1, "%s: path too long", argv[1]);
	if ((fd = mkstemp(path)) == -1)
		err(1, "%s", argv[1]);
	memset(page, 'w', sizeof(page));
	for (i = 0; i < PAGES; i++)
		if (write(fd, page, sizeof(page)) != sizeof(page))
			goto fail;
	if (fsync(fd) == -1)
		goto fail;

	t0 = mono_now();
	end = t0 + secs;
	for (n = 0; mono_now() < end; n++) {
		page[0] = (char)n;
		if (pwrite(fd, page, sizeof(page),
		    (off_t)(n % PAGES) * PAGE) != sizeof(page) ||
		    fdatasync(fd) == -1)
			goto fail;
	}
	t0 = mono_now() - t0;
	close(fd);
	unlink(path);
	printf("syncs=%ld seconds=%.3f rate=%.0f\n", n, t0, n / t0);
	return 0;
fail:
	warn("%s", path);
	close(fd);
	unlink(path);
	return 1;
}
