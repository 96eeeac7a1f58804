/*
 * The EST message formats we produce (RFC 7030 4.1.3, 4.2.3, 4.4.2,
 * 4.5.2).
 */
#ifndef MCA_EST_CODEC_H
#define MCA_EST_CODEC_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cfg.h"

/*
 * Appends the DER of a certs-only CMS SignedData (a degenerate PKCS#7:
 * no content, no signers) holding certs in order (RFC 7030 4.1.3, 4.2.3;
 * RFC 5652 5). Returns 0 or MCA_ERR_CRYPTO/NOMEM.
 */
int	 mca_est_certs_only(STACK_OF(X509) *certs, struct mca_buf *der);

/*
 * Appends the DER of a CsrAttrs (RFC 7030 4.5.2) saying what the label
 * wants: for key_type EC an attribute id-ecPublicKey with the curve OID,
 * for RSA an attribute rsaEncryption with the modulus size (RFC 9908 3.3
 * style), then the signature algorithm OID(s) for md (ecdsa-with-SHAx
 * and/or shaxWithRSAEncryption, by key type). A profile with
 * allowed_keys gets one attribute per key type, its SET holding every
 * curve OID (or modulus size) allowed, each followed by that type's
 * signature OID; key_type/key_size are then not looked at. p NULL is
 * key_type ANY;
 * md NULL is SHA-256. Returns 0, MCA_ERR_INVAL (md not SHA-256/384/512,
 * an EC key_size other than 0/256/384/521, a negative RSA key_size) or
 * MCA_ERR_CRYPTO/NOMEM.
 */
int	 mca_est_csrattrs(const struct mca_profile *p, const EVP_MD *md,
	    struct mca_buf *der);

/* RFC 2046 5.1.1: a boundary is 1 to 70 characters; plus the NUL. */
#define MCA_EST_BOUNDARY_MAX	71

/* One body part of a multipart/mixed answer. */
struct mca_est_part {
	const char		*ctype;	/* its Content-Type */
	const unsigned char	*der;	/* its content, sent as base64 */
	size_t			 len;
};

/*
 * Appends a multipart/mixed body (RFC 2046 5.1.1) laid out as RFC 7030
 * 4.4.2 shows it, every line ending in CRLF:
 *
 *	--<boundary>
 *	Content-Type: <ctype>
 *	Content-Transfer-Encoding: base64
 *	(empty line)
 *	<base64 of der, lines of line_len characters; 0 = one line>
 *	... the same for every part ...
 *	--<boundary>--
 *
 * boundary NULL draws a random one ("microca-" and 32 hex digits, from
 * RAND_bytes), drawn again should it occur in a part; a boundary given
 * must be 1 to 70 characters of A-Z a-z 0-9 ' + _ - . (a token: the
 * Content-Type header needs no quotes) and must not occur in any part.
 * The boundary used is copied to bnd (bndlen at least
 * MCA_EST_BOUNDARY_MAX) for the Content-Type header.
 *
 * Parts may hold a secret (a PKCS#8 private key): out is grown to its
 * final size before any part is written, so no reallocation leaves a
 * copy behind, and on error whatever was appended is wiped and out is
 * as it was. Returns 0, MCA_ERR_INVAL (no parts, a bad boundary or
 * line_len, a ctype with a control character), MCA_ERR_EXISTS (the
 * boundary given occurs in a part), MCA_ERR_CRYPTO (no random bytes),
 * MCA_ERR_NOMEM or MCA_ERR_TOOBIG.
 */
int	 mca_est_multipart(const struct mca_est_part *parts, size_t nparts,
	    unsigned line_len, const char *boundary, char *bnd, size_t bndlen,
	    struct mca_buf *out);

#endif
