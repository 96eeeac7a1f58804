/*
 * Builds the certificate a profile asks for, from a judged CSR. No key is
 * touched here: the result is unsigned, and the signer (keystore.h) signs
 * it. That seam is where a separate signing process would go.
 */
#ifndef MCA_ISSUE_H
#define MCA_ISSUE_H

#include <time.h>

#include <openssl/x509.h>

#include "cfg.h"
#include "err.h"

/* Clock skew allowance: notBefore is this far in the past. */
#define MCA_ISSUE_BACKDATE	(5 * 60)

struct mca_issue_in {
	const struct mca_profile *profile;
	X509_REQ	*csr;		/* public key; subject and SAN if identity is NULL */
	/* serverkeygen: the public key, not the CSR's (RFC 7030 4.4.1) */
	EVP_PKEY	*key;
	const X509	*identity;	/* simplereenroll: subject and SAN come from here
					 * (RFC 7030 4.2.2); CSR identity is ignored */
	const X509	*issuer;	/* the CA certificate */
	time_t		 now;
};

/*
 * Builds an unsigned v3 certificate:
 *  - serial: mca_issue_serial();
 *  - notBefore now - MCA_ISSUE_BACKDATE; notAfter now + validity_in_days,
 *    never past the issuer's notAfter, or 99991231235959Z when
 *    is_unlimited_validity (RFC 5280 4.1.2.5);
 *  - the public key of in->key, else the CSR's;
 *  - subject from identity or CSR; SAN (DNS, IP, URI, email only) from
 *    identity or CSR, critical when the subject is empty (RFC 5280 4.2.1.6);
 *  - basicConstraints (critical): CA from is_ca, pathLen when is_ca and
 *    path_len >= 0; keyUsage (critical) from the flags, omitted when none;
 *    extendedKeyUsage from the OID list, omitted when empty;
 *  - subjectKeyIdentifier (SHA-1 of the key, RFC 5280 4.2.1.2 method 1),
 *    authorityKeyIdentifier = the issuer's SKI;
 *  - cRLDistributionPoints with the profile's crl_url as its one
 *    fullName URI, when set (RFC 5280 4.2.1.13).
 * Every other extension the CSR asks for is ignored.
 * Returns 0, MCA_ERR_POLICY (e.g. subject and SAN both empty) with d set
 * for the client, or MCA_ERR_CRYPTO/NOMEM with OpenSSL's reason in d (for
 * the log only).
 */
int	 mca_issue_build(const struct mca_issue_in *in, X509 **out,
	    struct mca_diag *d);

/*
 * Gives x a fresh serial: 16 random octets, top bit clear and second bit
 * set so the DER is always 16 octets and positive (RFC 5280 4.1.2.2 asks
 * for at most 20 octets; CA/B forum for at least 64 random bits).
 */
int	 mca_issue_serial(X509 *x);

#endif
