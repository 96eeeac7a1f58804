/*
 * PKCS#10 requests from untrusted clients. This code never sees the CA
 * key: it only decodes and judges what the client sent.
 */
#ifndef MCA_CSR_H
#define MCA_CSR_H

#include <stddef.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

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
 * not judged, unless the label says subject_unlisted "refuse": then
 * each is refused ("subject attribute OU is not allowed on label ...").
 * Returns 0 or MCA_ERR_POLICY with d naming the rule broken
 * ("subject CN "foo" does not match ^dev-[0-9]+$").
 */
int	 mca_csr_check_subject(const X509_NAME *name,
	    const struct mca_profile *p, struct mca_diag *d);

/*
 * The subjectAltName a CSR asks for, into *out (NULL when it asks for
 * none). Returns 0, or MCA_ERR_INVAL when the extension is there but
 * cannot be decoded, or is there twice (RFC 5280 4.2).
 */
int	 mca_csr_san(X509_REQ *req, GENERAL_NAMES **out, struct mca_diag *d);

/*
 * Judges the subjectAltName names (NULL: none) against the label's
 * san_policy (cfg.h; its default when the label has none): at most
 * max_names names; each of a type in allowed_types (DNS, IP, URI,
 * email: any other type is refused); DNS names in the preferred name
 * syntax (RFC 5280 4.2.1.6, RFC 1034 3.5: letters, digits, hyphens,
 * labels of 1-63, at most 253 in all), "*." as the whole leftmost label
 * only with allow_wildcard (RFC 6125 6.4.3) and equal to a CN of subj
 * (ASCII case ignored) with dns_equals_cn; IP addresses of 4 or 16
 * octets; URI and email printable ASCII, email with one '@'; each name
 * (IP as inet_ntop writes it) matching its type's pattern. Returns 0 or
 * MCA_ERR_POLICY, d naming the rule ("subjectAltName DNS
 * "www.google.com" does not match ...").
 */
int	 mca_csr_check_san(const X509_NAME *subj, const GENERAL_NAMES *names,
	    const struct mca_profile *p, struct mca_diag *d);

/*
 * 1 if the subject matches every rule of the label's
 * ra_subject_patterns (a registration authority, RFC 7030 3.3.2), 0 if
 * not or the label has none.
 */
int	 mca_csr_is_ra(const X509_NAME *subj, const struct mca_profile *p);

/*
 * For a client that authenticated with a certificate of ours and is not
 * an RA: the CSR may only ask for the client's own identity, the same
 * subject (X509_NAME_cmp) and subjectAltNames that are all in the
 * certificate's. Returns 0, or MCA_ERR_POLICY with d saying what
 * differs ("a certificate of this CA may enroll only its own subject
 * ..."); MCA_ERR_INVAL for an undecodable SAN.
 */
int	 mca_csr_check_own_identity(X509_REQ *req, const X509 *cert,
	    struct mca_diag *d);

#endif
