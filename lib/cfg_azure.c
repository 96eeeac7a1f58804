/*
 * config.json: mtls_azure_device_registration (table 8 of the vendor
 * guide), the registration of devices in Azure IoT Hub through an
 * AppViewX workflow. See cfg.h.
 */
#include "config.h"

#include <stddef.h>

#include "cfg.h"
#include "cfg_int.h"

#define CFG_DEF_POLL_COUNT	6
#define CFG_DEF_POLL_INTERVAL	3	/* seconds */

#define AZR(f)	offsetof(struct mca_cfg_azure, f)

static const struct cfg_key cfg_azure_keys[] = {
	CFG_KEY("appviewx_hostname", CFG_T_STR, AZR(upstream.appviewx_hostname)),
	CFG_KEY("port", CFG_T_PORT, AZR(upstream.port)),
	CFG_KEY("est_agent_setting_name", CFG_T_STR,
	    AZR(upstream.est_agent_setting_name)),
	CFG_KEY("azure_device_registration_workflow", CFG_T_STR, AZR(workflow)),
	CFG_KEY("poll_count", CFG_T_INT, AZR(poll_count), .lo = 1, .hi = 1000,
	    .def = CFG_DEF_POLL_COUNT),
	CFG_KEY("poll_interval", CFG_T_INT, AZR(poll_interval), .lo = 1,
	    .hi = 3600, .def = CFG_DEF_POLL_INTERVAL),
	CFG_KEY("azure_account", CFG_T_STR, AZR(azure_account)),
};

const struct cfg_block cfg_azure_block = {
	cfg_azure_keys, NELEM(cfg_azure_keys), AZR(present), NULL
};
