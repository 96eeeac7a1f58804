/* The benchmark tools' clock: seconds on CLOCK_MONOTONIC. */
#ifndef MCA_BENCH_MONO_H
#define MCA_BENCH_MONO_H

#include <time.h>

static inline double
mono_now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
