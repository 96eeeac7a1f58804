/*
 * What the discovery files share among themselves (lib/discover_*.c),
 * not with the rest of lib.
 */
#ifndef MCA_DISCOVER_INT_H
#define MCA_DISCOVER_INT_H

#include <stddef.h>

#include <openssl/x509.h>

#include "buf.h"
#include "discover.h"
#include "err.h"

/*
 * mca_disc_parse_buf(), with the callback's stop value apart in *cbrc
 * (0 when it never asked to stop), so that the walker can tell it from
 * a count.
 */
int	 mca_disc_parse_int(const unsigned char *buf, size_t len,
	    const char *location, const struct mca_disc_opts *opts,
	    mca_disc_cb cb, void *arg, struct mca_diag *d, int *cbrc);

/*
 * Fills every field of c but location and index from x and its DER
 * (kept by pointer); sans is a scratch buffer. Returns 0 or
 * MCA_ERR_INVAL (the certificate cannot be hashed).
 */
int	 mca_disc_fill(struct mca_disc_cert *c, X509 *x,
	    const unsigned char *der, size_t derlen, struct mca_buf *sans);

#endif
