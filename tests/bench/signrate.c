/*
 * signrate: the CA key's sign rate, one of the limits `make bench` puts
 * next to the enrollment rate. Opens the key the way microca-est does
 * (lib/p11.c: libp11 over the configured PKCS#11 module), then signs
 * SHA-256 digests for a fixed time in P processes at once, each with its
 * own login, as the FastCGI workers do.
 *
 * usage: signrate --module SO --label L --pin PIN [--procs P] [--seconds S]
 * Prints one line: "signs=N seconds=S procs=P rate=R" (signatures/s).
 * Exit 0, or 1 with a one-line reason on stderr.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/wait.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "err.h"
#include "mono.h"
#include "num.h"
#include "p11.h"

#define MAX_PROCS 64

/* Signs for secs seconds; returns the count, or -1 with a message. */
static long
sign_loop(const char *module, const char *label, const char *pin,
    double secs)
{
	struct mca_p11	*p = NULL;
	struct mca_diag	 d;
	EVP_PKEY	*key = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	unsigned char	 md[32], sig[1024];
	size_t		 siglen;
	long		 n = -1;
	double		 end;

	mca_diag_clear(&d);
	if (mca_p11_open(module, label, pin, &p, &key, &d) != 0) {
		warnx("%s", d.msg);
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new(key, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0 ||
	    RAND_bytes(md, sizeof(md)) != 1) {
		warnx("%s: cannot set up signing", label);
		goto out;
	}
	end = mono_now() + secs;
	for (n = 0; mono_now() < end; n++) {
		siglen = sizeof(sig);
		md[n % sizeof(md)] ^= 1;
		if (EVP_PKEY_sign(ctx, sig, &siglen, md, sizeof(md)) <= 0) {
			warnx("%s: signing failed after %ld signatures",
			    label, n);
			n = -1;
			goto out;
		}
	}
out:
	EVP_PKEY_CTX_free(ctx);
	mca_p11_close(p);
	return n;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "label", required_argument, NULL, 'l' },
		{ "pin", required_argument, NULL, 'p' },
		{ "procs", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*module = NULL, *label = NULL, *pin = NULL;
	long long	 procs = 1, secs = 3;
	long		*counts, total = 0;
	pid_t		 pid[MAX_PROCS];
	int		 c, i, st, bad = 0;
	double		 t0, t1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': module = optarg; break;
		case 'l': label = optarg; break;
		case 'p': pin = optarg; break;
		case 'n':
			if (mca_num_parse(optarg, strlen(optarg), 1,
			    MAX_PROCS, &procs) != 0)
				errx(1, "--procs: 1 to %d", MAX_PROCS);
			break;
		case 's':
			if (mca_num_parse(optarg, strlen(optarg), 1, 600,
			    &secs) != 0)
				errx(1, "--seconds: 1 to 600");
			break;
		default:
			errx(1, "usage: signrate --module SO --label L "
			    "--pin PIN [--procs P] [--seconds S]");
		}
	}
	if (module == NULL || label == NULL || pin == NULL)
		errx(1, "--module, --label and --pin are required");

	/* One slot per process, shared, for the counts. */
	counts = mmap(NULL, sizeof(long) * MAX_PROCS, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED)
		err(1, "mmap");
	t0 = mono_now();
	for (i = 0; i < procs; i++) {
		if ((pid[i] = fork()) == -1)
			err(1, "fork");
		if (pid[i] == 0) {
			counts[i] = sign_loop(module, label, pin, secs);
			_exit(counts[i] < 0);
		}
	}
	for (i = 0; i < procs; i++) {
		if (waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			bad++;
		else
			total += counts[i];
	}
	t1 = mono_now();
	if (bad)
		errx(1, "%d of %lld signing processes failed", bad, procs);
	printf("signs=%ld seconds=%.3f procs=%lld rate=%.0f\n", total,
	    t1 - t0, procs, total / (double)secs);
	return 0;
}
