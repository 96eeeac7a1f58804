/*
 * What the ledger and the logs say about a certificate: serial and
 * thumbprints in uppercase hex (the form Azure IoT Hub uses), names in
 * RFC 2253 form, times in ISO 8601 UTC.
 */
#ifndef MCA_CERTINFO_H
#define MCA_CERTINFO_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"

/* Room for a 20-octet serial (RFC 5280 4.1.2.2) in hex, or a SHA-512. */
#define MCA_HEX_MAX	129
#define MCA_NAME_MAX	1024
#define MCA_TIME_MAX	32	/* "YYYY-MM-DDTHH:MM:SSZ" */

/* Uppercase hex of the serial, no separators, no leading "00" pad. */
int	 mca_cert_serial_hex(const X509 *x, char *out, size_t outlen);
/* Same for a bare ASN1_INTEGER. */
int	 mca_asn1int_hex(const ASN1_INTEGER *ai, char *out, size_t outlen);

/* Uppercase hex of md(DER of x). */
int	 mca_cert_thumbprint(const X509 *x, const EVP_MD *md, char *out,
	    size_t outlen);

/* RFC 2253 string of n, UTF-8, truncated to outlen with "..." if longer. */
int	 mca_name_string(const X509_NAME *n, char *out, size_t outlen);

/*
 * Appends the SubjectAltName of x as "DNS:a, IP:192.0.2.1, URI:u,
 * email:e" (other types as "othername" etc.). Appends nothing if absent.
 */
int	 mca_cert_san_string(const X509 *x, struct mca_buf *out);
/* The same of a decoded SubjectAltName (lib/discover_parse.c). */
int	 mca_gens_string(const GENERAL_NAMES *gens, struct mca_buf *out);

/* ISO 8601 UTC ("2026-11-23T18:00:00Z") of t, or of a time_t. */
int	 mca_asn1time_iso(const ASN1_TIME *t, char *out, size_t outlen);
int	 mca_time_iso(time_t t, char *out, size_t outlen);

/*
 * Names the key: "RSA-2048", "EC-P-256", "EC-P-384", "EC-P-521", or
 * "<type>" for others ("ED25519", "DSA-1024", "EC-secp256k1").
 */
int	 mca_key_describe(const EVP_PKEY *k, char *out, size_t outlen);

/*
 * The digest for a configured hash_function: "SHA256", "SHA384", "SHA512"
 * (any case, with or without a dash: "sha-384"). NULL if unknown.
 */
const EVP_MD	*mca_md_by_name(const char *name);

#endif
