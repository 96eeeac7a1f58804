/* The EST message formats we produce (RFC 7030 4.1.3, 4.2.3, 4.5.2). */
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

#endif
