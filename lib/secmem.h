/*
 * Memory hygiene for a process that makes private keys (/serverkeygen,
 * RFC 7030 4.4): no copy of a key may outlive the answer that carries
 * it. OpenSSL's encoders copy a key's octets into temporary buffers
 * (EVP_PKEY2PKCS8, i2d_ECPrivateKey, BIO memory) that they free without
 * wiping; mca_secmem_init() makes every buffer OpenSSL frees or moves
 * wiped first, and keeps private key numbers in OpenSSL's secure heap
 * (locked in memory, out of core dumps, cleared on free).
 */
#ifndef MCA_SECMEM_H
#define MCA_SECMEM_H

#include <stddef.h>

/*
 * The secure heap a worker sets aside. A key uses a few KiB of it while
 * it lives (RSA 4096: about 3 KiB for d, p, q and the CRT numbers; EC:
 * the scalar), as does the random generator's state.
 */
#define MCA_SECMEM_HEAP	(64u * 1024u)

/*
 * Installs OpenSSL allocation functions that wipe each block before it
 * is freed or moved, and an OpenSSL secure heap of heap bytes (a power
 * of two; 0: none). Must run before anything allocates through OpenSSL:
 * the first statement of main(). *locked (may be NULL) tells whether
 * the secure heap could be locked in memory (RLIMIT_MEMLOCK). Returns 0,
 * MCA_ERR_INTERNAL (OpenSSL has already allocated: too late), or
 * MCA_ERR_NOMEM (no secure heap).
 */
int	 mca_secmem_init(size_t heap, int *locked);

#endif
