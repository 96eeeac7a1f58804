/* The one number parser for untrusted and configured text. */
#ifndef MCA_NUM_H
#define MCA_NUM_H

#include <stddef.h>

/*
 * Parses s[0..len) as a decimal integer in [min, max]: optional '-' (only
 * when min < 0), digits only, no spaces, no '+', no leading zeros beyond
 * "0" itself, nothing after. Returns 0, MCA_ERR_INVAL (not a number) or
 * MCA_ERR_TOOBIG (out of range); *out is 0 on failure.
 */
int	 mca_num_parse(const char *s, size_t len, long long min, long long max,
	    long long *out);

#endif
