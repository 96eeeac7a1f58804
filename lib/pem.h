/*
 * PEM as it reaches us: files we were configured with, and client
 * certificates handed over by the web server in SSL_CLIENT_CERT, where
 * some setups turn the line breaks into spaces.
 */
#ifndef MCA_PEM_H
#define MCA_PEM_H

#include <stddef.h>

#include <openssl/x509.h>

#include "buf.h"
#include "err.h"

/* No single PEM object we accept is larger than this. */
#define MCA_PEM_MAX	(64u * 1024u)

/*
 * Finds the first "-----BEGIN <label>-----" ... "-----END <label>-----"
 * block in in[0..len) and appends its decoded DER to der. Line breaks
 * inside may be LF, CRLF or single spaces. If end is not NULL it receives
 * the offset just past the END line, so that callers can walk a bundle.
 * Returns 0, MCA_ERR_NOTFOUND (no such block) or MCA_ERR_INVAL.
 */
int	 mca_pem_decode(const char *in, size_t len, const char *label,
	    struct mca_buf *der, size_t *end);

/*
 * Parses one certificate from PEM text (e.g. SSL_CLIENT_CERT). Rejects
 * input over MCA_PEM_MAX, embedded NULs, and trailing garbage after the
 * DER. Returns 0, MCA_ERR_NOTFOUND, MCA_ERR_INVAL or MCA_ERR_TOOBIG.
 */
int	 mca_pem_parse_cert(const char *in, size_t len, X509 **out);

/*
 * Loads every certificate of a PEM file, in file order, into a new stack.
 * A file with no certificate is an error. d names the file and what is
 * wrong. Returns 0, MCA_ERR_NOTFOUND, MCA_ERR_IO or MCA_ERR_INVAL.
 */
int	 mca_pem_load_certs(const char *path, STACK_OF(X509) **out,
	    struct mca_diag *d);

/*
 * As mca_pem_load_certs(), from the PEM text in[0..len) (at most 1 MiB),
 * which d calls name.
 */
int	 mca_pem_parse_certs(const char *in, size_t len, const char *name,
	    STACK_OF(X509) **out, struct mca_diag *d);

/* Appends the PEM of cert to out. 0 or MCA_ERR_CRYPTO/NOMEM. */
int	 mca_pem_write_cert(X509 *cert, struct mca_buf *out);

#endif
