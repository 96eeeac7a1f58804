#include "config.h"

#include <stdarg.h>
#include <stdio.h>

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
