/*
 * libFuzzer harness for lib/cfg*.c and lib/jsondup.c: config.json from
 * memory. A config that loads must answer profile look-ups, have no
 * duplicate key, and free cleanly; one that does not must say why. The
 * duplicate-key scanner also gets every input raw, well-formed or not.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cfg.h"
#include "err.h"
#include "jsondup.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mca_cfg		*cfg = NULL;
	struct mca_diag		 d;
	struct mca_jsondup	 dup;
	size_t			 i;
	int			 rc, drc;

	mca_diag_clear(&d);
	drc = mca_jsondup_find((const char *)data, size, &dup);
	if (drc != 0 && drc != 1 && drc != MCA_ERR_INVAL &&
	    drc != MCA_ERR_NOMEM)
		abort();
	rc = mca_cfg_parse("fuzz.json", (const char *)data, size, &cfg, &d);
	if (rc == 0) {
		if (cfg == NULL || drc != 0)
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
