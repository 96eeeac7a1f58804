/*
 * PKCS#10 requests from untrusted clients. This code never sees the CA
 * key: it only decodes and judges what the client sent.
 */
#ifndef MCA_CSR_H
#define MCA_CSR_H

#include <stddef.h>

#include <openssl/x509.h>

#include "cfg.h"
#include "err.h"

#define MCA_CSR_BODY_MAX	(64u * 1024u)	/* request body cap */

/*
 * Decodes a request body into a CSR: base64 DER with any whitespace
 * (RFC 7030 4.2.1, RFC 8951 3.2), a PEM "CERTIFICATE REQUEST" or "NEW
 * CERTIFICATE REQUEST" block (DigiCert's text/plain curl examples), or raw
 * DER as a last resort. Rejects bodies over MCA_CSR_BODY_MAX, NULs outside
 * DER, trailing bytes after the DER. Returns 0, MCA_ERR_INVAL or
 * MCA_ERR_TOOBIG; d says what was wrong in words fit for the client.
 */
int	 mca_csr_decode(const unsigned char *body, size_t len, X509_REQ **out,
	    struct mca_diag *d);

/*
 * Judges a decoded CSR for a label: the signature must verify with the
 * CSR's own key (proof of possession); the key must be RSA 2048-8192 or
 * EC P-256/P-384/P-521, and be one of the profile's allowed_keys if set
 * ("key EC-P-384 is not allowed on label "x" (allowed: EC-P-256)"), else
 * match its key_type/key_size if set. Returns 0, MCA_ERR_INVAL (bad
 * signature) or MCA_ERR_POLICY; d names the refused key ("key
 * EC-secp256k1 refused: ...").
 */
int	 mca_csr_check(X509_REQ *req, const struct mca_profile *p,
	    struct mca_diag *d);

/*
 * For /serverkeygen: 0 unless the CSR asks for the private key to come
 * encrypted, with a DecryptKeyIdentifier (RFC 7030 4.4.1.1) or an
 * AsymmetricDecryptKeyIdentifier (4.4.1.2) attribute. We hold no such
 * keys, and both sections say to end the request with an error then,
 * rather than send the key in the clear: MCA_ERR_POLICY, d saying which.
 */
int	 mca_csr_keygen_check(X509_REQ *req, struct mca_diag *d);

/*
 * Judges a subject against the profile's subject_patterns: each listed
 * attribute must be present, and each of its values (as UTF-8, at most
 * 1024 bytes, no NUL) must match the regex. Attributes not listed are
 * not judged. Returns 0 or MCA_ERR_POLICY with d naming the rule broken
 * ("subject CN "foo" does not match ^dev-[0-9]+$").
 */
int	 mca_csr_check_subject(const X509_NAME *name,
	    const struct mca_profile *p, struct mca_diag *d);

#endif
