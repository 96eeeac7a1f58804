/*
 * libFuzzer harness for what microca's EST client (lib/estc.c) reads of
 * an upstream server's answers: the certs-only PKCS#7 of /cacerts and
 * /simpleenroll in every form RFC 8951 3.2 asks us to take (base64 on
 * one line or wrapped, PEM PKCS7 or CMS, binary DER), through
 * lib/est_decode.c; and a 202's Retry-After (RFC 9110 10.2.3), through
 * mca_estc_retry_after(). Every input goes to both. Checked: a decoded
 * answer has certificates and nothing else is returned on failure, with
 * a reason; a Retry-After read is a wait from 0 to MCA_ESTC_RETRY_MAX.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "err.h"
#include "est_decode.h"
#include "estc.h"
#include "httpc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed now, so that a date's wait does not depend on the clock. */
#define FUZZ_NOW	((time_t)1767225600)	/* 2026-01-01 00:00:00 UTC */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509)	*sk = NULL;
	struct mca_diag	 d;
	char		 ra[MCA_HTTPC_VALUE_MAX];
	unsigned char	*der = NULL;
	long		 secs;
	int		 rc, i, n;

	mca_diag_clear(&d);
	rc = mca_est_decode_certs(data, size, &sk, &d);
	if (rc == 0) {
		if (sk == NULL || sk_X509_num(sk) < 1)
			abort();
		for (i = 0; i < sk_X509_num(sk); i++) {
			if ((n = i2d_X509(sk_X509_value(sk, i), &der)) <= 0)
				abort();
			OPENSSL_free(der);
			der = NULL;
		}
	} else if (sk != NULL || d.msg[0] == '\0')
		abort();
	sk_X509_pop_free(sk, X509_free);

	/* A header value as lib/httpc.c keeps it: capped, NUL-ended. */
	n = size < sizeof(ra) - 1 ? (int)size : (int)sizeof(ra) - 1;
	memcpy(ra, data, (size_t)n);
	ra[n] = '\0';
	secs = -7;
	rc = mca_estc_retry_after(ra, FUZZ_NOW, &secs);
	if (rc == 0 && (secs < 0 || secs > MCA_ESTC_RETRY_MAX))
		abort();
	if (rc != 0 && rc != MCA_ERR_INVAL && rc != MCA_ERR_TOOBIG)
		abort();
	return 0;
}
