/*
 * Error codes shared by all of lib/. Functions return 0 or a negative
 * MCA_ERR_* value; mca_strerror() names it. Where a caller needs to know
 * *what* was wrong (which config key, which CSR rule), the function also
 * takes a struct mca_diag and writes one line into it. An object that
 * lives across requests (the ledger, the signer) keeps the detail of its
 * last failure in a struct mca_diag of its own, read with
 * mca_ledger_errmsg() or mca_signer_errmsg(): the why goes to the log,
 * never into an HTTP answer.
 */
#ifndef MCA_ERR_H
#define MCA_ERR_H

#include <stddef.h>

enum mca_err {
	MCA_OK = 0,
	MCA_ERR_INTERNAL = -1,	/* a bug or an unexpected library failure */
	MCA_ERR_NOMEM = -2,
	MCA_ERR_INVAL = -3,	/* malformed input */
	MCA_ERR_TOOBIG = -4,	/* input over its cap */
	MCA_ERR_IO = -5,	/* file or socket I/O */
	MCA_ERR_CONFIG = -6,	/* configuration is wrong */
	MCA_ERR_CRYPTO = -7,	/* OpenSSL refused */
	MCA_ERR_NOTFOUND = -8,
	MCA_ERR_EXISTS = -9,	/* unique key already present */
	MCA_ERR_DB = -10,	/* SQLite failure */
	MCA_ERR_PKCS11 = -11,	/* token, login or key failure */
	MCA_ERR_POLICY = -12,	/* well-formed but refused by policy */
	MCA_ERR_BUSY = -13,	/* database locked past the timeout */
	MCA_ERR_AUTH = -14,	/* credentials missing or wrong */
	MCA_ERR_MAX = -15	/* end marker, not an error */
};

/* Returns a static string naming rc (0 or a negative MCA_ERR_*). */
const char	*mca_strerror(int rc);

/* One line of detail for the caller, e.g. the config key that is wrong. */
#define MCA_DIAG_LEN 512
struct mca_diag {
	char	 msg[MCA_DIAG_LEN];
};

/*
 * Writes a formatted line into d (NULL-safe: d may be NULL). Always
 * returns rc so that callers can write "return mca_diag(d, rc, ...)".
 */
int	 mca_diag(struct mca_diag *d, int rc, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Clears d (NULL-safe). */
void	 mca_diag_clear(struct mca_diag *d);

/*
 * As mca_diag(), then ": " and why OpenSSL failed: each entry of its
 * error queue, oldest (the cause) first, as ERR_error_string_n() writes
 * it, "; " between them. libp11 queues the token's CKR_* reasons there
 * too. Empties the queue, also when d is NULL. Nothing is appended when
 * the queue was empty. Returns rc.
 */
int	 mca_diag_crypto(struct mca_diag *d, int rc, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
