/*
 * libFuzzer harness for lib/num.c. The first 16 bytes (if any) choose
 * the range; the rest is the text. Checked: what parses is in range and
 * prints back as the same text; a canonical decimal in range parses; a
 * non-canonical one never does.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "num.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 if s[0..len) is -?(0|[1-9][0-9]*). */
static int
canonical(const char *s, size_t len)
{
	size_t	 i = 0;

	if (len > 0 && s[0] == '-')
		i = 1;
	if (i == len)
		return 0;
	if (s[i] == '0')
		return len - i == 1;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long long	 min = LLONG_MIN, max = LLONG_MAX, t, v = 42, ref;
	const char	*s;
	char		*z, out[32];
	size_t		 len;
	int		 rc;

	if (size >= 16) {
		memcpy(&min, data, sizeof(min));
		memcpy(&max, data + 8, sizeof(max));
		if (min > max) {
			t = min;
			min = max;
			max = t;
		}
		data += 16;
		size -= 16;
	}
	s = (const char *)data;
	len = size;
	rc = mca_num_parse(size ? s : NULL, len, min, max, &v);
	if (rc != 0 && v != 0)
		abort();
	if (rc != 0 && rc != MCA_ERR_INVAL && rc != MCA_ERR_TOOBIG)
		abort();
	if (!canonical(s, len)) {
		if (rc == 0)
			abort();
		return 0;
	}
	if (rc == 0) {
		if (v < min || v > max)
			abort();
		(void)snprintf(out, sizeof(out), "%lld", v);
		if (!(strlen(out) == len && memcmp(out, s, len) == 0) &&
		    !(len == 2 && memcmp(s, "-0", 2) == 0))
			abort();
	}
	/* A reference answer from strtoll for canonical text. */
	if ((z = malloc(len + 1)) == NULL)
		return 0;
	memcpy(z, s, len);
	z[len] = '\0';
	errno = 0;
	ref = strtoll(z, NULL, 10);
	free(z);
	if (errno == ERANGE || ref < min || ref > max) {
		if (rc != MCA_ERR_TOOBIG)
			abort();
	} else if (rc != 0 && !(s[0] == '-' && min >= 0 && ref == 0)) {
		abort();
	} else if (rc == 0 && v != ref)
		abort();
	return 0;
}
