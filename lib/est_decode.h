/*
 * The EST message formats we receive from an upstream EST server, as its
 * client (RFC 7030 4.1.3, 4.2.3), tolerant of what real servers send
 * (RFC 8951 3.2). The formats we produce are in est_codec.h.
 */
#ifndef MCA_EST_DECODE_H
#define MCA_EST_DECODE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "err.h"

/* No certs-only answer we accept is larger than this (as received). */
#define MCA_EST_DECODE_MAX	(1024u * 1024u)

/*
 * Decodes a certs-only CMS SignedData (a degenerate PKCS#7) as an EST
 * server sends it for /cacerts and /simpleenroll (RFC 7030 4.1.3,
 * 4.2.3): base64, wrapped or on one line, with any spaces, tabs, CRs and
 * LFs (RFC 8951 3.2: base64 whatever Content-Transfer-Encoding says); or
 * PEM ("-----BEGIN PKCS7-----" or "CMS"); or, from a server that sends
 * binary, the DER itself. The DER must be exactly one ContentInfo of
 * type signedData with at least one certificate. *out gets a new stack
 * of the certificates in the order sent. d says what is wrong. Returns
 * 0, MCA_ERR_INVAL (empty, not base64, PEM or DER, not a certs-only
 * PKCS#7, no certificate, bytes after the DER), MCA_ERR_TOOBIG (len over
 * MCA_EST_DECODE_MAX) or MCA_ERR_NOMEM.
 */
int	 mca_est_decode_certs(const unsigned char *in, size_t len,
	    STACK_OF(X509) **out, struct mca_diag *d);

#endif
