/*
 * Base64 as EST uses it (RFC 7030 4, RFC 8951 3.2): bodies are base64
 * whatever Content-Transfer-Encoding says, and senders break lines
 * anywhere.
 */
#ifndef MCA_B64_H
#define MCA_B64_H

#include <stddef.h>

#include "buf.h"

/*
 * Appends the base64 of in[0..inlen) to out. line_len 0 writes one line
 * with no line break at all (strongSwan's pki --est needs that); otherwise
 * a "\n" follows every line_len characters and the last line. line_len
 * must be a multiple of 4 or 0. Returns 0, MCA_ERR_INVAL, MCA_ERR_NOMEM or
 * MCA_ERR_TOOBIG (inlen over MCA_BUF_MAX / 2, or out would pass its cap).
 */
int	 mca_b64_encode(const unsigned char *in, size_t inlen,
	    unsigned line_len, struct mca_buf *out);

/*
 * Appends the decoded bytes of in[0..inlen) to out. Spaces, tabs, CR and
 * LF anywhere are skipped; any other character outside the alphabet, a
 * NUL, misplaced '=' or a length that is not a whole number of quads is
 * MCA_ERR_INVAL. Empty input (after whitespace) is MCA_ERR_INVAL too.
 */
int	 mca_b64_decode(const char *in, size_t inlen, struct mca_buf *out);

#endif
