/*
 * The AppViewX REST client: what microca asks of AppViewX CERT+ for its
 * own intermediate when use_est is false (APIconfig, microca-apiconfig(5)),
 * over lib/httpc.c. Three calls, as the public AppViewX API guides
 * describe them:
 *
 *  1. POST /avxapi/acctmgmt-get-service-token?gwsource=external, HTTP
 *     Basic with the service account's client ID and secret, grant_type
 *     client_credentials: the answer's "response" is the token.
 *  2. POST /avxapi/certificate/create?gwsource=external&isSync=true with
 *     header "token", our own CSR (csrGenerationSource uploadCSR): the
 *     answer's "response" names the certificate (resourceId).
 *  3. POST /avxapi/certificate/download/format?gwsource=external with
 *     header "token": the certificate and its chain, PEM.
 *
 * Every answer is wrapped as {"response", "message", "appStatusCode"}; a
 * non-null appStatusCode is a failure whose message (capped, control
 * characters removed) goes into the one line of the error. No secret
 * (the client secret, the token) is ever in a message. Answers are read
 * through capped buffers and walked with explicit types; nothing here
 * touches a private key.
 */
#ifndef MCA_AVX_H
#define MCA_AVX_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "httpc.h"

struct mca_apiconfig;

#define MCA_AVX_BODY_MAX	(256u * 1024u)	/* an answer, when 0 is given */
#define MCA_AVX_TOKEN_MAX	8192	/* bytes of a token */
#define MCA_AVX_ID_MAX		128	/* a resourceId, with the NUL */
#define MCA_AVX_MSG_MAX		200	/* bytes of AppViewX's message shown */
#define MCA_AVX_HOST_MAX	253	/* RFC 1035 2.3.4 */
#define MCA_AVX_DEF_CATEGORY	"Server"

/*
 * How the token request carries grant_type. The guides differ: the oAuth
 * page and the 2026 guide send Content-Type application/json with
 * {"payload": {"grant_type": "client_credentials"}}, the 2021 guide a
 * form (application/x-www-form-urlencoded, grant_type=client_credentials).
 */
enum mca_avx_grant {
	MCA_AVX_GRANT_JSON,	/* the default */
	MCA_AVX_GRANT_FORM,
	MCA_AVX_GRANT_MAX
};

/*
 * An AppViewX instance and what we ask it for. Strings are borrowed.
 *  host, port	the gateway (appviewx_hostname, appviewx_port_number)
 *  address	NULL, or the address to connect to instead of asking DNS
 *		for host (the certificate must still name host)
 *  gwkey	NULL, or the tenant key of a multi-tenant installation
 *  tls		whom we trust (cafile NULL: the system store), and an
 *		optional TLS client certificate (httpc.h)
 *  client_id, client_secret	the service account (HTTP Basic)
 *  ca_name	caConnectorInfo.certificateAuthority (required)
 *  ca_setting_name	caConnectorInfo.caSettingName (required)
 *  validity_days	caConnectorInfo.validityInDays (1-36500, required)
 *  template_name, issuer_name	NULL, or sent in
 *		caConnectorInfo.vendorSpecificDetails as templateName and
 *		issuerName, for the CAs that need them
 *  group_name	NULL (AppViewX's "Default" group), or certificateGroup.name
 *  category	uploadCsrDetails.category; NULL is MCA_AVX_DEF_CATEGORY
 *  timeouts	seconds; 0 takes httpc's defaults
 *  body_max	bytes of an answer; 0 is MCA_AVX_BODY_MAX
 */
struct mca_avx {
	const char		*host;
	unsigned		 port;
	const char		*address;
	const char		*gwkey;
	struct mca_httpc_tls	 tls;
	const char		*client_id;
	const char		*client_secret;
	enum mca_avx_grant	 grant;
	const char		*ca_name;
	const char		*ca_setting_name;
	int			 validity_days;
	const char		*template_name;
	const char		*issuer_name;
	const char		*group_name;
	const char		*category;
	long			 connect_timeout;
	long			 timeout;
	size_t			 body_max;
};

/*
 * Fills conn (cleared first) from an APIconfig: the host, port, service
 * account, CA, group, validity, and the microca keys of
 * microca-apiconfig(5) (appviewx_gwkey, appviewx_token_request,
 * appviewx_certificate_category). The strings stay a's: conn lives no
 * longer than a, and the secret only until mca_apiconfig_wipe_secrets().
 * TLS, address and timeouts are left for the caller. Returns 0, or
 * MCA_ERR_CONFIG with d naming the file and the key missing
 * (mca_apiconfig_require_rest()).
 */
int	 mca_avx_from_apiconfig(struct mca_avx *conn,
	    const struct mca_apiconfig *a, struct mca_diag *d);

/*
 * Step 1: a service token for conn's service account into token (reset
 * first; wipe it with mca_buf_free_secret()). The Basic credentials
 * live only in a header that httpc wipes. Returns 0, or one line in d and
 * those of mca_httpc_do(), or: MCA_ERR_AUTH (credentials refused: HTTP
 * 401 or 403, or 400 with an appStatusCode, as AppViewX answers a wrong
 * ID or secret), MCA_ERR_IO (another status), MCA_ERR_POLICY (HTTP 200
 * with an appStatusCode), MCA_ERR_INVAL (not JSON, no token, a token
 * that is not one header-safe word), MCA_ERR_TOOBIG.
 */
int	 mca_avx_token(const struct mca_avx *conn, struct mca_buf *token,
	    struct mca_diag *d);

/*
 * Step 2: asks for a certificate for csr_pem (one PEM CERTIFICATE REQUEST,
 * its signature checked here first) in sync mode; the resourceId AppViewX
 * names it by goes into id (idlen at least MCA_AVX_ID_MAX). Returns 0, or
 * one line in d: MCA_ERR_INVAL (a bad CSR or answer), MCA_ERR_CONFIG
 * (ca_name, ca_setting_name or validity_days missing), MCA_ERR_AUTH (HTTP
 * 401/403: the token refused or expired), MCA_ERR_POLICY (refused with an
 * appStatusCode), MCA_ERR_NOTFOUND (404), MCA_ERR_IO (another status:
 * 202, 5xx ...), those of mca_httpc_do().
 */
int	 mca_avx_create(const struct mca_avx *conn, const char *token,
	    const char *csr_pem, char *id, size_t idlen, struct mca_diag *d);

/*
 * Step 3: the certificate id with its chain, as PEM certificates (each
 * parsed, written again; nothing else kept) into chain_pem (reset first),
 * in the order AppViewX sends them. Returns 0, or one line in d, with the
 * codes of mca_avx_create(); MCA_ERR_INVAL also for an answer that holds
 * no certificate or anything but certificates.
 */
int	 mca_avx_download(const struct mca_avx *conn, const char *token,
	    const char *id, struct mca_buf *chain_pem, struct mca_diag *d);

/*
 * The three steps for the renewal tool: token, create, download. What
 * comes back must hold a certificate for the CSR's public key; it is put
 * first in chain_pem (reset first), the rest follow in AppViewX's order.
 * Whether it is a CA, chains to the trust anchor and has sane dates is the
 * caller's to check. The token is wiped before this returns. Returns 0, or
 * the codes above with one line in d; MCA_ERR_POLICY also when no
 * certificate is for the CSR's key.
 */
int	 mca_avx_enroll(const struct mca_avx *conn, const char *csr_pem,
	    struct mca_buf *chain_pem, struct mca_diag *d);

#endif
