/*
 * libFuzzer harness for lib/cfg_apiconfig.c: an APIconfig file (the
 * AppViewX and Azure IoT Hub settings, microca-apiconfig(5)) from
 * memory. fuzz_cfg covers config.json; this file has its own key table,
 * secrets and checks. A file that loads must free cleanly, after its
 * secrets are wiped and after the REST requirements are judged; one
 * that does not must say why.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "apiconfig.h"
#include "err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mca_apiconfig	*a = NULL;
	struct mca_diag		 d;
	size_t			 i;
	int			 rc;

	mca_diag_clear(&d);
	rc = mca_apiconfig_parse("fuzz.APIconfig", (const char *)data, size,
	    &a, &d);
	if (rc != 0) {
		if (a != NULL || d.msg[0] == '\0')
			abort();
		return 0;
	}
	if (a == NULL || a->appviewx_hostname == NULL)
		abort();
	for (i = 0; i < a->nwarnings; i++)
		if (a->warnings[i] == NULL)
			abort();
	mca_diag_clear(&d);
	if (mca_apiconfig_require_rest(a, &d) != 0 && d.msg[0] == '\0')
		abort();
	mca_apiconfig_wipe_secrets(a);
	if (a->service_account_client_secret != NULL ||
	    a->azurehubcreds != NULL || a->azure_hub_key != NULL)
		abort();
	mca_apiconfig_wipe_secrets(a);
	mca_apiconfig_free(a);
	return 0;
}
