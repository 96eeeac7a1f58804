/*
 * The AppViewX discovery upload (microca-discover, issue 15): the
 * certificates lib/discover.c found are handed to AppViewX's inventory,
 * config.json's discover_certificate_config (table 7 of the vendor guide)
 * naming where (appviewx_hostname, port), as what (discovery_name) and
 * into which group (groupName). One call, over lib/httpc.c, with the mTLS
 * client certificate of mtls_client_auth_cert_config as our identity (its
 * key a file, or an EVP_PKEY that stays in the PKCS#11 token):
 *
 *   POST /avxapi/certificate/discovery/upload?gwsource=external[&gwkey=K]
 *   Content-Type: application/json
 *   token: <service token>		only when the caller has one
 *
 *   {"payload": {
 *     "discoveryName": "<discovery_name>",
 *     "groupName": "<groupName>",
 *     "source": "microca",
 *     "estAgentSettingName": "<est_agent_setting_name>",  if not ""
 *     "certificates": [
 *       {"certificate": "<base64 of the DER, RFC 4648 4, no line breaks>",
 *        "location": "/etc/ssl/a.pem#0",     location "#" index
 *        "sha256": "<64 uppercase hex digits over the DER>"}, ...]}}
 *
 * The vendor guide names the endpoint's host, port and the three names
 * but not the payload; the AppViewX API guides wrap every request in
 * {"payload": ...} and every answer in {"response", "message",
 * "appStatusCode"} (lib/avxjson.c). What is left open is defined here,
 * conservatively, and written down in microca.json(5): the field names
 * above, est_agent_setting_name in the payload (the gateway knows the
 * agent by our client certificate; the workflow client, lib/avxwf.c,
 * sends no agent name at all), the token in the header lib/avx.c sends
 * it in. Success is HTTP 200 with a JSON object whose appStatusCode is
 * null or absent; anything else is a failure in one line, AppViewX's
 * message cleaned and capped, the token never shown.
 *
 * Nothing here prints, exits, or touches the ledger: which certificates
 * are new and what was uploaded is the caller's to record.
 */
#ifndef MCA_AVXDISC_H
#define MCA_AVXDISC_H

#include <stddef.h>

#include <openssl/evp.h>

#include "avxjson.h"
#include "buf.h"
#include "discover.h"
#include "err.h"
#include "httpc.h"

struct mca_apiconfig;
struct mca_cfg;
struct mca_p11;

#define MCA_AVXDISC_PATH	"/avxapi/certificate/discovery/upload"
#define MCA_AVXDISC_SOURCE	"microca"
#define MCA_AVXDISC_BATCH_MAX	200	/* certificates in one request */
#define MCA_AVXDISC_DER_MAX	(64u * 1024u)	/* bytes of one certificate */
#define MCA_AVXDISC_BODY_MAX	(8u * 1024u * 1024u)	/* request body */
#define MCA_AVXDISC_ANSWER_MAX	(64u * 1024u)	/* bytes of an answer */
#define MCA_AVXDISC_NAME_MAX	256	/* discoveryName, groupName, agent */

/*
 * Where and how. Strings are borrowed.
 *  host, port	discover_certificate_config's appviewx_hostname, port
 *  agent	its est_agent_setting_name; NULL or "": not sent
 *  gwkey	NULL, or APIconfig's appviewx_gwkey (multi-tenant), in the
 *		query
 *  tls		whom we trust (cafile NULL: the system store) and our mTLS
 *		client certificate with its key (keyfile, or key, e.g. in a
 *		PKCS#11 token): required, AppViewX knows us by it
 *  resolve	NULL, or "host:port:address" (curl's --resolve; tests)
 *  connect_timeout, timeout	seconds; 0 takes httpc's defaults
 */
struct mca_avxdisc {
	const char		*host;
	unsigned		 port;
	const char		*agent;
	const char		*gwkey;
	struct mca_httpc_tls	 tls;
	const char		*resolve;
	long			 connect_timeout;
	long			 timeout;
};

/*
 * What happened: the HTTP status (0 when none came), how many
 * certificates the request AppViewX accepted held (0 unless 0 is
 * returned), and on success AppViewX's "message", cleaned ("" if none).
 */
struct mca_avxdisc_result {
	long	 http;
	size_t	 sent;
	char	 message[MCA_AVXJ_MSG_MAX];
};

/*
 * Fills conn (cleared first) from config.json: host, port and agent from
 * discover_certificate_config; the trust anchors as the other AppViewX
 * calls take them (certificateRenewal_config's upstream_ca_cert, else the
 * top level's; NULL: the system store); the upstream timeouts; gwkey from
 * api (may be NULL); and mtls_client_auth_cert_config as the TLS client
 * identity, its key from the open token p into *tlskey (the caller frees
 * it with EVP_PKEY_free()) when it is a label, else its key file. Strings
 * point into cfg and api. Returns 0, or MCA_ERR_CONFIG with d naming the
 * file and the key (no host or port, no mtls_client_auth_cert_config, the
 * key in a token that is not open), or p11's error.
 */
int	 mca_avxdisc_from_cfg(struct mca_avxdisc *conn,
	    const struct mca_cfg *cfg, const struct mca_apiconfig *api,
	    struct mca_p11 *p, EVP_PKEY **tlskey, struct mca_diag *d);

/*
 * A service token for APIconfig's service account (lib/avx.c's
 * mca_avx_token() on api's appviewx_hostname and appviewx_port_number,
 * with conn's TLS identity, trust anchors and timeouts) into token (reset
 * first; wipe it with mca_buf_free_secret()). For an AppViewX that asks
 * for one on the upload; the caller decides (api has a service account).
 * Returns 0, MCA_ERR_CONFIG (api NULL, or without
 * service_account_client_id and its secret), or mca_avx_token()'s codes,
 * with one line in d that never holds the secret.
 */
int	 mca_avxdisc_token(const struct mca_avxdisc *conn,
	    const struct mca_apiconfig *api, struct mca_buf *token,
	    struct mca_diag *d);

/*
 * 0 if c can be uploaded: a location, a DER of 1 to MCA_AVXDISC_DER_MAX
 * bytes that is exactly one certificate, whose SHA-256 is c->sha256
 * (uppercase hex). Else MCA_ERR_INVAL with one line in d naming it by
 * location and index (i numbers it when it has none). mca_avxdisc_upload()
 * refuses a batch holding such a certificate; a caller can set it aside
 * first, so that one odd certificate does not hold up the others.
 */
int	 mca_avxdisc_cert_ok(const struct mca_disc_cert *c, size_t i,
	    struct mca_diag *d);

/*
 * Uploads certs[0..n) (1 to MCA_AVXDISC_BATCH_MAX of them) as the
 * discovery discovery_name into group (each 1 to MCA_AVXDISC_NAME_MAX - 1
 * bytes of printable text), with the header "token: <token>" unless token
 * is NULL. Every certificate is checked before anything is sent: its DER
 * (1 to MCA_AVXDISC_DER_MAX bytes) must be one certificate whose SHA-256
 * is c->sha256, its location set; a caller with more certificates makes
 * more calls. res is cleared first. Returns 0 (AppViewX took them), or
 * one line in d, never holding the token:
 *  MCA_ERR_INVAL	a bad argument or certificate (named by location and
 *			index), or an answer that is not a JSON object
 *  MCA_ERR_CONFIG	no client certificate, a bad host, port, agent or
 *			gwkey; files unreadable
 *  MCA_ERR_AUTH	HTTP 401/403: our certificate or the token refused
 *  MCA_ERR_POLICY	AppViewX refused the upload: HTTP 400, or an
 *			appStatusCode (with its message)
 *  MCA_ERR_NOTFOUND	HTTP 404 (no such API on that host)
 *  MCA_ERR_BUSY	408, 429, 5xx; refused, unreachable, broken or timed
 *			out: worth trying again later
 *  MCA_ERR_CRYPTO	TLS: the server not trusted or not named host, or our
 *			certificate refused (a TLS alert from the server)
 *  MCA_ERR_IO		another HTTP status (2xx but 200, 3xx, 405, 415 ...)
 *  MCA_ERR_TOOBIG	the request over MCA_AVXDISC_BODY_MAX, the answer over
 *			MCA_AVXDISC_ANSWER_MAX
 *  MCA_ERR_NOMEM
 */
int	 mca_avxdisc_upload(const struct mca_avxdisc *conn, const char *token,
	    const char *discovery_name, const char *group,
	    const struct mca_disc_cert *const *certs, size_t n,
	    struct mca_avxdisc_result *res, struct mca_diag *d);

/*
 * How an answer to the upload is judged, on its own for the fuzzer:
 * status and body[0..len) as they came from url (for the message);
 * secret (NULL-safe) never shown. res->http and res->message are set.
 * Returns 0 or the HTTP codes of mca_avxdisc_upload() with one line in d.
 */
int	 mca_avxdisc_judge(const char *url, long status,
	    const unsigned char *body, size_t len, const char *secret,
	    struct mca_avxdisc_result *res, struct mca_diag *d);

#endif
