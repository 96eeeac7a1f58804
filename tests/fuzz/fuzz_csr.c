/*
 * libFuzzer harness for lib/csr.c: request bodies as clients send them
 * (base64 with any whitespace, PEM, raw DER). A decoded request is also
 * judged against an open profile, as simpleenroll would.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/x509.h>

#include "cfg.h"
#include "csr.h"
#include "err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	X509_REQ		*req = NULL;
	struct mca_diag		 d;
	struct mca_profile	 p = { 0 };
	int			 rc;

	mca_diag_clear(&d);
	rc = mca_csr_decode(data, size, &req, &d);
	if (rc == 0) {
		if (req == NULL)
			abort();
		p.name = (char *)"fuzz";
		p.validity_days = 1;
		p.path_len = -1;
		p.b64_line_length = 64;
		p.key_type = MCA_KEYTYPE_ANY;
		(void)mca_csr_check(req, &p, &d);
	} else if (req != NULL)
		abort();
	X509_REQ_free(req);
	return 0;
}
