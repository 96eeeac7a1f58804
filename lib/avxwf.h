/*
 * AppViewX workflow mode of the Azure IoT Hub sync
 * (update_azure_iot_hub_from_standalone_server false): a device's new
 * certificate is handed to an AppViewX visual workflow (config.json's
 * mtls_azure_device_registration, table 8 of the vendor guide), which
 * registers it in Azure IoT Hub through the account AppViewX's
 * Integration Hub holds. Two calls of the public AppViewX Automation API
 * guides (Submit Request, Get Request Summary/Log), over lib/httpc.c with
 * the mTLS client certificate as our identity:
 *
 *  1. POST /avxapi/visualworkflow-submit-request?gwsource=external
 *     {"payload": {"header": {"workflowName": W},
 *       "data": {"input": {"azure_account", "device_id",
 *         "primary_thumbprint", ["secondary_thumbprint"],
 *         "thumbprint_algorithm", "certificate"}}}}
 *     the answer's "response" names the request (requestId).
 *  2. GET /avxapi/visualworkflow-request-logs?gwsource=external&ids=ID
 *     poll_count times, poll_interval seconds apart: the request's
 *     "status" says whether the workflow succeeded, failed or still runs.
 *
 * What the guides leave open (the input field names, which statuses are
 * final, where the request id is in the answer) is written down in
 * microca.json(5), "AppViewX workflow calls". Answers are judged by
 * lib/avxjson.c, as lib/avx.c judges its own. Nothing here prints, exits
 * or touches the ledger: the caller records the request id.
 */
#ifndef MCA_AVXWF_H
#define MCA_AVXWF_H

#include <stddef.h>

#include "err.h"
#include "httpc.h"

#define MCA_AVXWF_ID_MAX	128	/* a request id, with the NUL */
#define MCA_AVXWF_STATUS_MAX	64	/* a status as shown, with the NUL */
#define MCA_AVXWF_POLLS_MAX	1000	/* poll_count at most */
#define MCA_AVXWF_INTERVAL_MAX	3600	/* poll_interval at most, seconds */

/*
 * Where and how. Strings are borrowed.
 *  host, port	mtls_azure_device_registration's appviewx_hostname, port
 *  workflow	azure_device_registration_workflow
 *  azure_account	the account as the Integration Hub names it
 *  poll_count	1 to MCA_AVXWF_POLLS_MAX status calls after the submit
 *  poll_interval	seconds before each of them, 0 to MCA_AVXWF_INTERVAL_MAX
 *  tls		whom we trust (cafile NULL: the system store) and our mTLS
 *		client certificate with its key (a file, or an EVP_PKEY that
 *		may stay in a PKCS#11 token): required, AppViewX knows us by it
 *  resolve	NULL, or "host:port:address" (curl's --resolve; tests)
 *  timeout	seconds a call may take; 0 takes httpc's default
 *  gwkey	NULL, or the tenant key of a multi-tenant installation
 *		(APIconfig's appviewx_gwkey), sent in the query
 *  sleep_fn	waits secs seconds between polls; NULL: nanosleep()
 */
struct mca_avxwf {
	const char			*host;
	unsigned			 port;
	const char			*workflow;
	const char			*azure_account;
	int				 poll_count, poll_interval;
	const struct mca_httpc_tls	*tls;
	const char			*resolve;
	long				 timeout;
	const char			*gwkey;
	void				(*sleep_fn)(void *arg, int secs);
	void				*sleep_arg;
};

/*
 * The device and its certificate. device_id as IoT Hub names it (1 to
 * 128 printable ASCII characters); primary the new certificate's
 * thumbprint (uppercase hex of SHA-1 or SHA-256 over its DER, checked
 * against cert_pem here); secondary the renewed one's, or NULL; cert_pem
 * the new certificate, one PEM CERTIFICATE.
 */
struct mca_avxwf_req {
	const char	*device_id;
	const char	*primary;
	const char	*secondary;
	const char	*cert_pem;
};

/*
 * What happened: the request id AppViewX gave (or the one resumed; ""
 * when none was had), the last status it reported, as it spelled it ("" if
 * none), and the last HTTP status (0 when none).
 */
struct mca_avxwf_result {
	char	 request_id[MCA_AVXWF_ID_MAX];
	char	 status[MCA_AVXWF_STATUS_MAX];
	long	 http;
};

/*
 * Submits the workflow for q, then polls its status. resume_id NULL or
 * "": submit first; else poll that request (a submit made by an earlier
 * run, recorded by the caller), never submitting again. r is cleared
 * first; r->request_id is set as soon as it is known, whatever the result,
 * so that the caller can record it. Everything is checked before any
 * network call. Returns 0 (the workflow reported success), or one line
 * in d:
 *  MCA_ERR_POLICY	the workflow reported failure (its message in d), or
 *			AppViewX refused the submit (400, or an appStatusCode)
 *  MCA_ERR_BUSY	still running after poll_count polls; or 408, 429,
 *			5xx, a network failure or timeout: worth trying later
 *			(by resume_id when r->request_id is set)
 *  MCA_ERR_AUTH	HTTP 401/403: our client certificate not authorised
 *  MCA_ERR_NOTFOUND	HTTP 404 (no such API on that host)
 *  MCA_ERR_INVAL	a bad argument, or an answer that is not what the
 *			guides show (not JSON, no request id, no status)
 *  MCA_ERR_CONFIG	no client certificate, or files unreadable
 *  MCA_ERR_CRYPTO	TLS: the server not trusted, or our certificate refused
 *			(a TLS alert from the server)
 *  MCA_ERR_IO		another HTTP status (3xx, 405, 415 ...)
 *  others of mca_httpc_do() (MCA_ERR_TOOBIG, MCA_ERR_NOMEM)
 */
int	 mca_avxwf_register(const struct mca_avxwf *w,
	    const struct mca_avxwf_req *q, const char *resume_id,
	    struct mca_avxwf_result *r, struct mca_diag *d);

/*
 * What a workflow status means: 1 success, -1 failure, 0 not final
 * (still running, or a status we do not know). Compared ignoring case,
 * spaces, '_' and '-': success is "Success", "Successful", "Succeeded",
 * "Completed", "Complete"; failure is "Failed", "Failure", "Error",
 * "Rejected", "Cancelled", "Canceled", "Aborted", "Terminated",
 * "Timed Out", "Timeout".
 */
int	 mca_avxwf_status_final(const char *status);

#endif
