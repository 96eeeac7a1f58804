/*
 * Wiping allocation functions for OpenSSL, and its secure heap. See
 * secmem.h.
 */
#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "err.h"
#include "secmem.h"

/* The size the allocator gave p: what may hold the secret. */
static void
wipe_block(void *p)
{
	size_t	 n;

	if (p != NULL && (n = malloc_usable_size(p)) > 0)
		OPENSSL_cleanse(p, n);
}

static void *
wipe_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	/* As CRYPTO_malloc: nothing for nothing. */
	return n == 0 ? NULL : malloc(n);
}

static void
wipe_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	wipe_block(p);
	free(p);
}

/* Never realloc(): it may leave the old block's bytes behind. */
static void *
wipe_realloc(void *p, size_t n, const char *file, int line)
{
	void	*q;
	size_t	 old;

	if (p == NULL)
		return wipe_malloc(n, file, line);
	if (n == 0) {
		wipe_free(p, file, line);
		return NULL;
	}
	if ((q = malloc(n)) == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	wipe_free(p, file, line);
	return q;
}

int
mca_secmem_init(size_t heap, int *locked)
{
	int	 rc;

	if (locked != NULL)
		*locked = 0;
	if (!CRYPTO_set_mem_functions(wipe_malloc, wipe_realloc, wipe_free))
		return MCA_ERR_INTERNAL;
	if (heap == 0)
		return 0;
	/*
	 * 16: the smallest block. With the heap on, OpenSSL allocates the
	 * private numbers of the keys it makes there (BN_secure_new: the EC
	 * scalar; RSA d, p, q, dP, dQ, qInv), and clears them on free.
	 * 2: the heap works but mlock() failed.
	 */
	if ((rc = CRYPTO_secure_malloc_init(heap, 16)) == 0)
		return MCA_ERR_NOMEM;
	if (locked != NULL)
		*locked = rc == 1;
	return 0;
}
