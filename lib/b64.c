#include "config.h"

#include <stddef.h>

#include "b64.h"
#include "err.h"

static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
mca_b64_encode(const unsigned char *in, size_t inlen, unsigned line_len,
    struct mca_buf *out)
{
	size_t		 i, enc, col = 0, lines;
	unsigned char	 q[4];
	unsigned	 v;
	int		 rc, k;

	if (line_len % 4 != 0)
		return MCA_ERR_INVAL;
	if (inlen > MCA_BUF_MAX / 2)
		return MCA_ERR_TOOBIG;
	enc = (inlen + 2) / 3 * 4;
	lines = line_len ? enc / line_len + 1 : 0;
	if ((rc = mca_buf_reserve(out, enc + lines)) != 0)
		return rc;
	for (i = 0; i < inlen; i += 3) {
		v = (unsigned)in[i] << 16;
		if (i + 1 < inlen)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < inlen)
			v |= in[i + 2];
		q[0] = b64_alpha[(v >> 18) & 63];
		q[1] = b64_alpha[(v >> 12) & 63];
		q[2] = i + 1 < inlen ? b64_alpha[(v >> 6) & 63] : '=';
		q[3] = i + 2 < inlen ? b64_alpha[v & 63] : '=';
		for (k = 0; k < 4; k++)
			out->data[out->len++] = q[k];
		col += 4;
		if (line_len && col == line_len) {
			out->data[out->len++] = '\n';
			col = 0;
		}
	}
	if (line_len && col != 0)
		out->data[out->len++] = '\n';
	out->data[out->len] = '\0';
	return 0;
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
mca_b64_decode(const char *in, size_t inlen, struct mca_buf *out)
{
	size_t		 i, n = 0, start;
	unsigned	 acc = 0;
	int		 v, pad = 0, rc;
	unsigned char	 c;

	start = out->len;
	if ((rc = mca_buf_reserve(out, inlen / 4 * 3 + 3)) != 0)
		return rc;
	for (i = 0; i < inlen; i++) {
		c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			/* Only at the end, at most two, in the last quad. */
			if (n % 4 < 2 || ++pad > 2)
				goto bad;
			n++;
			continue;
		}
		if (pad || (v = b64_val(c)) < 0)
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		n++;
		if (n % 4 == 0) {
			out->data[out->len++] = (acc >> 16) & 0xff;
			out->data[out->len++] = (acc >> 8) & 0xff;
			out->data[out->len++] = acc & 0xff;
			acc = 0;
		}
	}
	if (n == 0 || n % 4 != 0)
		goto bad;
	if (pad) {
		/* Last quad held 4 - pad characters of data. */
		acc <<= 6 * pad;
		out->data[out->len++] = (acc >> 16) & 0xff;
		if (pad == 1)
			out->data[out->len++] = (acc >> 8) & 0xff;
		/* The bits the padding hides must be zero (canonical). */
		if ((pad == 2 && (acc & 0xffff) != 0) ||
		    (pad == 1 && (acc & 0xff) != 0))
			goto bad;
	}
	out->data[out->len] = '\0';
	return 0;
bad:
	out->len = start;
	if (out->data != NULL)
		out->data[out->len] = '\0';
	return MCA_ERR_INVAL;
}
