/*
 * libFuzzer harness for lib/pem.c: PEM blocks in hostile text, as
 * SSL_CLIENT_CERT may carry them. Walks a bundle with the end offset and
 * parses the input as one certificate.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/x509.h>

#include "buf.h"
#include "err.h"
#include "pem.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data;
	struct mca_buf	 der = MCA_BUF_INIT;
	X509		*x = NULL;
	size_t		 off = 0, end, n;

	/* Walk every CERTIFICATE block; end must always move forward. */
	for (n = 0; n < 64 && off < size; n++) {
		end = (size_t)-1;
		mca_buf_reset(&der);
		if (mca_pem_decode(in + off, size - off, "CERTIFICATE", &der,
		    &end) != 0)
			break;
		if (end == 0 || end > size - off)
			abort();
		off += end;
	}
	mca_buf_reset(&der);
	(void)mca_pem_decode(in, size, "CERTIFICATE REQUEST", &der, NULL);

	if (mca_pem_parse_cert(in, size, &x) == 0) {
		if (x == NULL)
			abort();
		mca_buf_reset(&der);
		if (mca_pem_write_cert(x, &der) != 0)
			abort();
	}
	X509_free(x);
	mca_buf_free(&der);
	return 0;
}
