/*
 * scanrate: files per second of the discovery scan (lib/discover_walk.c)
 * over a generated tree, first scan and rescan.
 *
 * The tree: NFILES files, 100 to a directory, in this mix per 200:
 *   70 PEM certificates (.pem/.crt; every fifth a chain of three with
 *      its key block), 30 DER certificates (.cer/.der), 6 PKCS#7 (.p7b),
 *      1 PKCS#12 (.p12, the empty password), 20 PEM private keys (.pem:
 *      read, no certificate), 3 corrupt PEM (.crt), and 70 files of
 *      other extensions (.txt/.conf/.so: passed over by name).
 * The certificates come from a pool of 32 (EC P-256 and RSA-2048 leaves
 * of one CA), so writing the tree costs seconds, not minutes.
 *
 * The first scan has an empty known() cache (every certificate file is
 * opened, read and parsed) and fills it from FILE_DONE; the rescan finds
 * every file there with the same size and mtime (nothing opened). Each
 * is run ROUNDS times on a warm page cache (the tree was just written
 * and scanned once unmeasured), the median reported.
 *
 * usage: scanrate [-n NFILES] [-d DIR] [-r ROUNDS] [-k]
 *   -d DIR  use (or make) the tree in DIR, kept; default a temporary
 *           directory, removed at the end unless -k
 * Prints one line: "files=N parsed=P certs=C skipped=S first_s=... (wall)
 * first_rate=... rescan_s=... rescan_rate=... ratio=...".
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "buf.h"
#include "discover.h"
#include "err.h"
#include "mono.h"
#include "num.h"

#define POOL		32
#define PER_DIR		100
#define ROUNDS_MAX	9

/* ---------------------------------------------------------------- cache */

struct ent {
	char		*path;
	off_t		 size;
	struct timespec	 mtime;
};

struct cache {
	struct ent	*e;
	size_t		 n, cap;
};

static uint64_t
fnv(const char *s)
{
	uint64_t	 h = 1469598103934665603ull;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct ent *
cache_slot(struct cache *c, const char *path)
{
	size_t	 h = (size_t)fnv(path) & (c->cap - 1);

	while (c->e[h].path != NULL && strcmp(c->e[h].path, path) != 0)
		h = (h + 1) & (c->cap - 1);
	return &c->e[h];
}

static void
cache_put(struct cache *c, const char *path, const struct stat *st)
{
	struct ent	*old = c->e, *e;
	size_t		 i, oldcap = c->cap;

	if (c->n + 1 > c->cap / 2) {
		c->cap = oldcap == 0 ? 1024 : oldcap * 2;
		if ((c->e = calloc(c->cap, sizeof(*c->e))) == NULL)
			err(1, "calloc");
		for (i = 0; i < oldcap; i++)
			if (old[i].path != NULL)
				*cache_slot(c, old[i].path) = old[i];
		free(old);
	}
	e = cache_slot(c, path);
	if (e->path == NULL) {
		if ((e->path = strdup(path)) == NULL)
			err(1, "strdup");
		c->n++;
	}
	e->size = st->st_size;
	e->mtime = st->st_mtim;
}

static void
cache_free(struct cache *c)
{
	size_t	 i;

	for (i = 0; i < c->cap; i++)
		free(c->e[i].path);
	free(c->e);
	memset(c, 0, sizeof(*c));
}

static int
known(void *arg, const char *path, const struct stat *st)
{
	struct cache	*c = arg;
	struct ent	*e;

	if (c->cap == 0)
		return 0;
	e = cache_slot(c, path);
	return e->path != NULL && e->size == st->st_size &&
	    e->mtime.tv_sec == st->st_mtim.tv_sec &&
	    e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

struct tally {
	struct cache	*cache;
	size_t		 certs, done, knownn, skipped;
};

static int
cb(void *arg, const struct mca_disc_report *r)
{
	struct tally	*t = arg;

	switch (r->event) {
	case MCA_DISC_CERT:
		t->certs++;
		break;
	case MCA_DISC_FILE_DONE:
		t->done++;
		cache_put(t->cache, r->path, r->st);
		break;
	case MCA_DISC_FILE_KNOWN:
		t->knownn++;
		break;
	case MCA_DISC_SKIP:
		t->skipped++;
		break;
	}
	return 0;
}

/* ---------------------------------------------------------------- tree */

struct pool {
	struct mca_buf	 pem[POOL], der[POOL], key[POOL], chain[POOL];
	struct mca_buf	 p7, p12;
};

static void
bio_to(BIO *b, struct mca_buf *out)
{
	char	*p;
	long	 n = BIO_get_mem_data(b, &p);

	if (n <= 0 || mca_buf_add(out, p, (size_t)n) != 0)
		errx(1, "BIO");
}

static X509 *
mkcert(EVP_PKEY *k, EVP_PKEY *ca, X509 *cax, int i)
{
	X509		*x;
	X509_NAME	*n;
	char		 cn[64];

	(void)snprintf(cn, sizeof(cn), "host-%d.bench.example", i);
	if ((x = X509_new()) == NULL)
		errx(1, "X509_new");
	(void)X509_set_version(x, 2);
	(void)ASN1_INTEGER_set(X509_get_serialNumber(x), 1000 + i);
	n = X509_get_subject_name(x);
	(void)X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"Bench Corp", -1, -1, 0);
	(void)X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	(void)X509_set_issuer_name(x, cax != NULL ?
	    X509_get_subject_name(cax) : n);
	(void)X509_gmtime_adj(X509_getm_notBefore(x), 0);
	(void)X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	(void)X509_set_pubkey(x, k);
	if (X509_sign(x, ca, EVP_sha256()) <= 0)
		errx(1, "X509_sign");
	return x;
}

static void
mkpool(struct pool *p)
{
	EVP_PKEY	*ca, *k;
	X509		*cax, *x;
	STACK_OF(X509)	*sk;
	PKCS7		*p7;
	PKCS12		*p12;
	BIO		*b;
	unsigned char	*der;
	int		 i, n;

	memset(p, 0, sizeof(*p));
	if ((ca = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		errx(1, "keygen");
	cax = mkcert(ca, ca, NULL, 0);
	for (i = 0; i < POOL; i++) {
		k = i % 4 == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)2048) :
		    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (k == NULL)
			errx(1, "keygen");
		x = mkcert(k, ca, cax, i + 1);
		b = BIO_new(BIO_s_mem());
		(void)PEM_write_bio_X509(b, x);
		bio_to(b, &p->pem[i]);
		(void)BIO_reset(b);
		(void)PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
		bio_to(b, &p->key[i]);
		BIO_free(b);
		der = NULL;
		if ((n = i2d_X509(x, &der)) <= 0 ||
		    mca_buf_add(&p->der[i], der, (size_t)n) != 0)
			errx(1, "i2d");
		OPENSSL_free(der);
		(void)mca_buf_add(&p->chain[i], p->pem[i].data, p->pem[i].len);
		(void)mca_buf_add(&p->chain[i], p->key[i].data, p->key[i].len);
		b = BIO_new(BIO_s_mem());
		(void)PEM_write_bio_X509(b, cax);
		bio_to(b, &p->chain[i]);
		BIO_free(b);
		if (i == 0) {
			/* certs-only, as "openssl crl2pkcs7 -nocrl" */
			if ((p7 = PKCS7_new()) == NULL ||
			    !PKCS7_set_type(p7, NID_pkcs7_signed) ||
			    !PKCS7_content_new(p7, NID_pkcs7_data) ||
			    !PKCS7_add_certificate(p7, x) ||
			    !PKCS7_add_certificate(p7, cax))
				errx(1, "PKCS7");
			der = NULL;
			if ((n = i2d_PKCS7(p7, &der)) <= 0)
				errx(1, "i2d_PKCS7");
			(void)mca_buf_add(&p->p7, der, (size_t)n);
			OPENSSL_free(der);
			PKCS7_free(p7);
			/* OpenSSL's defaults: what "openssl pkcs12" writes */
			sk = sk_X509_new_null();
			(void)sk_X509_push(sk, cax);
			if ((p12 = PKCS12_create("", "bench", k, x, sk, 0, 0,
			    0, 0, 0)) == NULL)
				errx(1, "PKCS12_create");
			der = NULL;
			n = i2d_PKCS12(p12, &der);
			(void)mca_buf_add(&p->p12, der, (size_t)n);
			OPENSSL_free(der);
			PKCS12_free(p12);
			sk_X509_free(sk);
		}
		X509_free(x);
		EVP_PKEY_free(k);
	}
	/* The third of each chain: the next one's certificate. */
	for (i = 0; i < POOL; i++)
		if (mca_buf_add(&p->chain[i], p->pem[(i + 1) % POOL].data,
		    p->pem[(i + 1) % POOL].len) != 0)
			errx(1, "chain");
	X509_free(cax);
	EVP_PKEY_free(ca);
}

static void
pool_free(struct pool *p)
{
	int	 i;

	for (i = 0; i < POOL; i++) {
		mca_buf_free(&p->pem[i]);
		mca_buf_free(&p->der[i]);
		mca_buf_free(&p->key[i]);
		mca_buf_free(&p->chain[i]);
	}
	mca_buf_free(&p->p7);
	mca_buf_free(&p->p12);
}

static void
put(const char *path, const void *p, size_t n)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    write(fd, p, n) != (ssize_t)n || close(fd) == -1)
		err(1, "%s", path);
}

/* The i-th file of the mix (see the top): its extension and bytes. */
static void
mkfile(const struct pool *p, const char *dir, long i)
{
	static const char	 junk[] = "# not a certificate\n"
	    "key = value\nanother = line of configuration\n";
	static const char	 bad[] = "-----BEGIN CERTIFICATE-----\n"
	    "MIIB!!corrupt\n-----END CERTIFICATE-----\n";
	char			 path[4096];
	const struct mca_buf	*b;
	const char		*ext;
	int			 m = (int)(i % 200), k = (int)(i % POOL);

	if (m < 70) {
		ext = m % 2 ? "pem" : "crt";
		b = m % 5 == 0 ? &p->chain[k] : &p->pem[k];
	} else if (m < 100) {
		ext = m % 2 ? "cer" : "der";
		b = &p->der[k];
	} else if (m < 106) {
		ext = "p7b";
		b = &p->p7;
	} else if (m < 107) {
		ext = "p12";
		b = &p->p12;
	} else if (m < 127) {
		ext = "pem";
		b = &p->key[k];
	} else if (m < 130) {
		ext = "crt";
		b = NULL;
	} else {
		ext = m % 3 == 0 ? "txt" : m % 3 == 1 ? "conf" : "so";
		b = NULL;
	}
	if (snprintf(path, sizeof(path), "%s/f%07ld.%s", dir, i, ext) >=
	    (int)sizeof(path))
		errx(1, "%s: path too long", dir);
	if (b != NULL)
		put(path, b->data, b->len);
	else if (m < 130)
		put(path, bad, sizeof(bad) - 1);
	else
		put(path, junk, sizeof(junk) - 1);
}

static void
mktree(const char *root, long nfiles)
{
	struct pool	 p;
	char		 dir[4096];
	long		 i;

	mkpool(&p);
	for (i = 0; i < nfiles; i++) {
		if (snprintf(dir, sizeof(dir), "%s/d%04ld", root,
		    i / PER_DIR) >= (int)sizeof(dir))
			errx(1, "%s: path too long", root);
		if (i % PER_DIR == 0 && mkdir(dir, 0755) == -1 &&
		    errno != EEXIST)
			err(1, "%s", dir);
		mkfile(&p, dir, i);
	}
	pool_free(&p);
}

/* ---------------------------------------------------------------- main */

/* CPU seconds of the process so far, all threads. */
static double
cpu_now(void)
{
	struct rusage	 ru;

	(void)getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double	 scan_cpu;	/* of the last scan() */

static double
scan(const char *root, struct cache *c, int use_known, struct tally *t)
{
	static const char *const	 exts[] = {
		"pem", "crt", "cer", "der", "p7b", "p7c", "p12", "pfx"
	};
	const char			*paths[1];
	struct mca_disc_opts		 o;
	struct mca_diag			 d;
	double				 t0, c0;
	int				 rc;

	memset(&o, 0, sizeof(o));
	paths[0] = root;
	o.paths = paths;
	o.npaths = 1;
	o.extensions = exts;
	o.nextensions = sizeof(exts) / sizeof(exts[0]);
	o.max_file_size = MCA_DISC_DEF_MAX_FILE_SIZE;
	o.known = use_known ? known : NULL;
	o.arg = c;
	memset(t, 0, sizeof(*t));
	t->cache = c;
	c0 = cpu_now();
	t0 = mono_now();
	if ((rc = mca_disc_scan_files(&o, cb, t, &d)) != 0)
		errx(1, "scan: %s: %s", mca_strerror(rc), d.msg);
	t0 = mono_now() - t0;
	scan_cpu = cpu_now() - c0;
	return t0;
}

static int
dcmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	struct cache	 c = { 0 };
	struct tally	 t, t1;
	char		 tmpl[] = "/tmp/scanrate.XXXXXX", cmd[4200];
	const char	*root = NULL;
	double		 first[ROUNDS_MAX], again[ROUNDS_MAX], f, a;
	double		 fcpu[ROUNDS_MAX], acpu[ROUNDS_MAX];
	long long	 nfiles = 100000, rounds = 3;
	int		 ch, keep = 0, made = 0, i;
	struct stat	 st;

	while ((ch = getopt(argc, argv, "n:d:r:k")) != -1) {
		switch (ch) {
		case 'n':
			if (mca_num_parse(optarg, strlen(optarg), 1, 10000000,
			    &nfiles) != 0)
				errx(1, "-n: 1 to 10000000");
			break;
		case 'd':
			root = optarg;
			break;
		case 'r':
			if (mca_num_parse(optarg, strlen(optarg), 1, ROUNDS_MAX,
			    &rounds) != 0)
				errx(1, "-r: 1 to %d", ROUNDS_MAX);
			break;
		case 'k':
			keep = 1;
			break;
		default:
			errx(1, "usage: scanrate [-n NFILES] [-d DIR] "
			    "[-r ROUNDS] [-k]");
		}
	}
	if (root == NULL) {
		if ((root = mkdtemp(tmpl)) == NULL)
			err(1, "mkdtemp");
		made = 1;
	} else {
		keep = 1;
		if (mkdir(root, 0755) == -1 && errno != EEXIST)
			err(1, "%s", root);
	}
	(void)snprintf(cmd, sizeof(cmd), "%s/d0000", root);
	if (stat(cmd, &st) == -1) {
		fprintf(stderr, "scanrate: writing %lld files in %s\n", nfiles,
		    root);
		mktree(root, (long)nfiles);
	}
	/* Warm: every inode and page in the cache, as it will be. */
	(void)scan(root, &c, 0, &t);
	cache_free(&c);
	for (i = 0; i < rounds; i++) {
		cache_free(&c);
		first[i] = scan(root, &c, 1, &t1);
		fcpu[i] = scan_cpu;
		again[i] = scan(root, &c, 1, &t);
		acpu[i] = scan_cpu;
		if (t.knownn != t1.done || t.certs != 0)
			errx(1, "rescan: %zu known of %zu, %zu certificates",
			    t.knownn, t1.done, t.certs);
	}
	qsort(first, (size_t)rounds, sizeof(double), dcmp);
	qsort(again, (size_t)rounds, sizeof(double), dcmp);
	qsort(fcpu, (size_t)rounds, sizeof(double), dcmp);
	qsort(acpu, (size_t)rounds, sizeof(double), dcmp);
	f = first[rounds / 2];
	a = again[rounds / 2];
	printf("files=%lld parsed=%zu certs=%zu skipped=%zu first_s=%.3f "
	    "first_rate=%.0f first_cpu_s=%.3f rescan_s=%.3f rescan_rate=%.0f "
	    "rescan_cpu_s=%.3f ratio=%.1f\n", nfiles, t1.done, t1.certs,
	    t1.skipped, f, nfiles / f, fcpu[rounds / 2], a, nfiles / a,
	    acpu[rounds / 2], f / a);
	cache_free(&c);
	if (made && !keep) {
		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			warnx("%s: not removed", root);
	} else if (made)
		fprintf(stderr, "scanrate: tree kept in %s\n", root);
	return 0;
}
