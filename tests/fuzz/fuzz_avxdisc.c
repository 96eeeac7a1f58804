/*
 * libFuzzer harness for the judge of lib/avxdisc.c: what AppViewX
 * answers to a discovery upload. The input is "STATUS\nBODY" (no
 * newline: status 200, all of it the body). Checked: the code follows
 * the status (any status but 200 is exactly what avxdisc.h says it
 * means, 200 is success, a refusal or a bad answer), the line in d is one
 * line, the token is never in it nor in the message kept, and the
 * message kept is printable ASCII within its cap.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "avxdisc.h"
#include "err.h"

#define SECRET	"eyJfuzzTOKEN42"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What avxdisc.h says a status but 200 means. */
static int
status_rc(long st)
{
	if (st == 400)
		return MCA_ERR_POLICY;
	if (st == 401 || st == 403)
		return MCA_ERR_AUTH;
	if (st == 404)
		return MCA_ERR_NOTFOUND;
	if (st == 408 || st == 429 || st >= 500)
		return MCA_ERR_BUSY;
	return MCA_ERR_IO;
}

/* 1 if s is printable ASCII only. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mca_avxdisc_result	 res;
	struct mca_diag			 d;
	const uint8_t			*nl, *body = data;
	size_t				 len = size, i;
	long				 st = 200;
	int				 rc;

	if ((nl = memchr(data, '\n', size < 4 ? size : 4)) != NULL) {
		st = 0;
		for (i = 0; data + i < nl; i++)
			st = st * 10 + (data[i] >= '0' && data[i] <= '9' ?
			    data[i] - '0' : 0);
		body = nl + 1;
		len = size - (size_t)(body - data);
	}
	rc = mca_avxdisc_judge("https://avx.example:443/avxapi/certificate/"
	    "discovery/upload?gwsource=external", st, body, len, SECRET, &res,
	    &d);
	if (res.http != st)
		abort();
	if (st != 200 && len <= MCA_AVXDISC_ANSWER_MAX && rc != status_rc(st))
		abort();
	if (st == 200 && rc != 0 && rc != MCA_ERR_POLICY &&
	    rc != MCA_ERR_INVAL && rc != MCA_ERR_TOOBIG)
		abort();
	if (rc == 0 && (d.msg[0] != '\0' || st != 200))
		abort();
	if (rc != 0 && (d.msg[0] == '\0' || res.message[0] != '\0'))
		abort();
	if (strchr(d.msg, '\n') != NULL || strchr(d.msg, '\r') != NULL)
		abort();
	if (strstr(d.msg, SECRET) != NULL || strstr(res.message,
	    SECRET) != NULL)
		abort();
	if (strlen(res.message) >= sizeof(res.message) ||
	    !printable(res.message))
		abort();
	return 0;
}
