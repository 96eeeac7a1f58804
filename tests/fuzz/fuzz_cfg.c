/*
 * libFuzzer harness for lib/cfg.c: config.json from memory. A config
 * that loads must answer profile look-ups and free cleanly; one that does
 * not must say why.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cfg.h"
#include "err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mca_cfg		*cfg = NULL;
	struct mca_diag		 d;
	size_t			 i;
	int			 rc;

	mca_diag_clear(&d);
	rc = mca_cfg_parse("fuzz.json", (const char *)data, size, &cfg, &d);
	if (rc == 0) {
		if (cfg == NULL)
			abort();
		(void)mca_cfg_profile(cfg, "");
		(void)mca_cfg_profile(cfg, "no-such-label");
		for (i = 0; i < cfg->nprofiles; i++)
			if (cfg->profiles[i].name != NULL &&
			    mca_cfg_profile(cfg, cfg->profiles[i].name) == NULL)
				abort();
	} else {
		if (cfg != NULL || d.msg[0] == '\0')
			abort();
	}
	mca_cfg_free(cfg);
	return 0;
}
