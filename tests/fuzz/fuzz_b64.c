/*
 * libFuzzer harness for lib/b64.c. The decoder is strict (whole quads,
 * padding only at the end, zero bits under it), so whatever it accepts
 * must be exactly the encoding of what it returns, once whitespace is
 * taken out: decode and encode are checked against each other.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "buf.h"
#include "err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mca_buf	 dec = MCA_BUF_INIT, enc = MCA_BUF_INIT;
	struct mca_buf	 strip = MCA_BUF_INIT, again = MCA_BUF_INIT;
	size_t		 i;
	unsigned	 line_len;
	int		 rc;

	rc = mca_b64_decode((const char *)data, size, &dec);
	if (rc != 0 && rc != MCA_ERR_INVAL)
		abort();
	if (rc == 0) {
		for (i = 0; i < size; i++)
			if (data[i] != ' ' && data[i] != '\t' &&
			    data[i] != '\r' && data[i] != '\n' &&
			    mca_buf_addc(&strip, data[i]) != 0)
				abort();
		if (mca_b64_encode(dec.data, dec.len, 0, &enc) != 0)
			abort();
		if (enc.len != strip.len ||
		    memcmp(enc.data, strip.data, enc.len) != 0)
			abort();
	} else if (dec.len != 0)
		abort();	/* nothing appended on failure */

	/* Any bytes encode, with any legal line length, and come back. */
	line_len = size > 0 ? (data[0] % 20) * 4 : 64;
	mca_buf_reset(&enc);
	if (mca_b64_encode(data, size, line_len, &enc) != 0)
		abort();
	if (strlen(mca_buf_str(&enc)) != enc.len)
		abort();
	if (size > 0) {
		if (mca_b64_decode(mca_buf_str(&enc), enc.len, &again) != 0)
			abort();
		if (again.len != size || memcmp(again.data, data, size) != 0)
			abort();
	}
	mca_buf_free(&dec);
	mca_buf_free(&enc);
	mca_buf_free(&strip);
	mca_buf_free(&again);
	return 0;
}
