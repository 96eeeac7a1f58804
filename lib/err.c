#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "err.h"

static const char *const mca_err_names[] = {
	"success",
	"internal error",
	"out of memory",
	"malformed input",
	"input too large",
	"I/O error",
	"configuration error",
	"cryptographic operation failed",
	"not found",
	"already exists",
	"database error",
	"PKCS#11 error",
	"refused by policy",
	"database busy",
	"authentication failed",
};

const char *
mca_strerror(int rc)
{
	if (rc > 0 || rc <= MCA_ERR_MAX)
		return "unknown error";
	return mca_err_names[-rc];
}

int
mca_diag(struct mca_diag *d, int rc, const char *fmt, ...)
{
	va_list	 ap;

	if (d == NULL)
		return rc;
	va_start(ap, fmt);
	(void)vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return rc;
}

void
mca_diag_clear(struct mca_diag *d)
{
	if (d != NULL)
		d->msg[0] = '\0';
}

int
mca_diag_crypto(struct mca_diag *d, int rc, const char *fmt, ...)
{
	va_list		 ap;
	unsigned long	 e;
	const char	*data = NULL;
	char		 reason[256];
	size_t		 n;
	int		 flags = 0, first = 1;

	if (d == NULL) {
		ERR_clear_error();
		return rc;
	}
	va_start(ap, fmt);
	(void)vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		/*
		 * microca uses no engine: a system openssl.cnf naming one
		 * that is not installed leaves these in the queue whenever
		 * libp11 starts, before the reason that matters.
		 */
		if (ERR_GET_LIB(e) == ERR_LIB_DSO ||
		    ERR_GET_LIB(e) == ERR_LIB_ENGINE)
			continue;
		n = strlen(d->msg);
		if (n + 1 >= sizeof(d->msg))
			continue;	/* full: drain the rest */
		ERR_error_string_n(e, reason, sizeof(reason));
		/* e.g. the name of the file or of the provider's algorithm */
		if (!(flags & ERR_TXT_STRING) || data == NULL || *data == '\0')
			data = NULL;
		(void)snprintf(d->msg + n, sizeof(d->msg) - n, "%s%s%s%s%s",
		    first ? ": " : "; ", reason, data != NULL ? " (" : "",
		    data != NULL ? data : "", data != NULL ? ")" : "");
		first = 0;
	}
	return rc;
}
