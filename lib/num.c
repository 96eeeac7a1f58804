#include "config.h"

#include <stddef.h>

#include "err.h"
#include "num.h"

int
mca_num_parse(const char *s, size_t len, long long min, long long max,
    long long *out)
{
	size_t			 i = 0;
	int			 neg = 0;
	unsigned long long	 v = 0, lim;
	unsigned		 d;

	*out = 0;
	if (s == NULL || len == 0)
		return MCA_ERR_INVAL;
	if (s[0] == '-') {
		if (min >= 0 && len > 1 && s[1] >= '0' && s[1] <= '9')
			return MCA_ERR_TOOBIG;
		neg = 1;
		i = 1;
	}
	if (i == len)
		return MCA_ERR_INVAL;
	if (s[i] == '0' && len - i > 1)
		return MCA_ERR_INVAL;
	/*
	 * Largest magnitude we can represent in the sign we have. With
	 * min >= 0 no negative number is in range ("-0" and "-x" go on to
	 * their own answers): -(min + 1) would overflow for LLONG_MAX.
	 */
	if (neg)
		lim = min >= 0 ? 0 : (unsigned long long)(-(min + 1)) + 1;
	else
		lim = (unsigned long long)(max < 0 ? 0 : max);
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return MCA_ERR_INVAL;
		d = (unsigned)(s[i] - '0');
		if (v > lim / 10 || (v == lim / 10 && d > lim % 10))
			return MCA_ERR_TOOBIG;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == 0 ? 0 : -(long long)(v - 1) - 1;
	else
		*out = (long long)v;
	if (*out < min || *out > max) {
		*out = 0;
		return MCA_ERR_TOOBIG;
	}
	return 0;
}
