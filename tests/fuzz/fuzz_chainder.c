/*
 * libFuzzer harness for the certificate walk of "ledger verify"
 * (mca_chain_der_serial_subject() in lib/ledger_chain.c): it reads the
 * serial and the subject of each row's pem without decoding the whole
 * certificate, and a tampered ledger's pem may hold anything. The input
 * is DER. Checked: what it takes is the ledger's spelling of a serial
 * (uppercase hex, whole octets, no 00 pad; "0" alone for zero) and a
 * subject inside the input; and when OpenSSL decodes the same bytes as
 * a certificate too, both read the same serial and the same subject
 * bytes (the verifier's shortcut agrees with the real decoder).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <sqlite3.h>

#include "certinfo.h"
#include "ledger.h"
#include "ledger_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 if hex is the ledger's spelling of a serial. */
static int
spelled(const char *hex)
{
	size_t	 n = strlen(hex), i;

	if (strcmp(hex, "0") == 0)
		return 1;
	if (n == 0 || n % 2 != 0 || (hex[0] == '0' && hex[1] == '0'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') ||
		    (hex[i] >= 'A' && hex[i] <= 'F')))
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char	*subj = NULL, *p = data;
	unsigned char		*enc = NULL;
	char			 hex[MCA_HEX_MAX], ref[MCA_HEX_MAX];
	size_t			 subjlen = 0;
	X509			*x;
	int			 rc, n;

	rc = mca_chain_der_serial_subject(data, size, hex, sizeof(hex),
	    &subj, &subjlen);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == 0) {
		if (!spelled(hex))
			abort();
		if (subj == NULL || subjlen < 2 || subj < data ||
		    subj + subjlen > data + size)
			abort();
	}
	if ((x = d2i_X509(NULL, &p, (long)size)) == NULL)
		return 0;
	/* Both read it: the same serial, the same subject bytes. */
	if (rc == 0 && p == data + size &&
	    mca_cert_serial_hex(x, ref, sizeof(ref)) == 0) {
		if (strcmp(hex, ref) != 0)
			abort();
		if ((n = i2d_X509_NAME(X509_get_subject_name(x), &enc)) < 0 ||
		    (size_t)n != subjlen || memcmp(enc, subj, subjlen) != 0)
			abort();
	}
	OPENSSL_free(enc);
	X509_free(x);
	return 0;
}
