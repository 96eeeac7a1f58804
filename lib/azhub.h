/*
 * Azure IoT Hub, direct mode: brings one device identity's X.509
 * thumbprints up to date through the hub's service REST API (the
 * identity registry: "Devices - Get Identity" and "Devices - Create Or
 * Update Identity", api-version 2021-04-12, learn.microsoft.com/rest/api/
 * iothub/service/devices/). The sequence:
 *
 *  GET  <url>  (Authorization: the SAS token from the auth callback)
 *   200 the identity. If its authentication is already selfSigned with
 *       the wanted primary and secondary thumbprints, done without a PUT:
 *       a run killed after its PUT and run again changes nothing.
 *       Else PUT <url> that identity with only "authentication" replaced
 *       and If-Match: "<etag>" (RFC 7232 3.1; the hub's etag is weak, as
 *       its reference says, and is sent as it gave it).
 *   404 PUT <url> a new device, {"deviceId", "status": "enabled",
 *       "authentication"}, without If-Match (the reference: "should not
 *       be set when creating a device").
 *  PUT 200/201 with the thumbprints as sent: done. 412 (the etag moved:
 *       error 412001) or 409 (created meanwhile: 409001
 *       DeviceAlreadyExists): GET again and redo, at most max_conflicts
 *       times.
 *  Any request: 401 asks the callback for a fresh token, once per update,
 *       and repeats that request; 429 and 5xx are "later", with the
 *       hub's Retry-After (RFC 9110 10.2.3: seconds or an HTTP-date).
 *
 * The authentication sent (IoT Hub's AuthenticationMechanism):
 *   {"type": "selfSigned", "x509Thumbprint": {"primaryThumbprint": P,
 *    "secondaryThumbprint": S}}
 * with no "symmetricKey" (a selfSigned device has no keys; a device that
 * had SAS keys loses them, as with "az iot hub device-identity update
 * --am x509_thumbprint"). S is the secondary given; else the hub's
 * current primary when it is not P; else, when the hub's primary already
 * is P, the hub's current secondary (kept); else JSON null (no
 * secondary: a new device, or one that had no thumbprint).
 * Thumbprints are uppercase hex: 40 digits (SHA-1), or 64 with sha256 set;
 * IoT Hub keeps either kind in the same two fields. The hub's are compared
 * without regard to case.
 */
#ifndef MCA_AZHUB_H
#define MCA_AZHUB_H

#include "err.h"

#define MCA_AZHUB_CONFLICTS	3		/* max_conflicts when 0 */
#define MCA_AZHUB_BODY_MAX	(64u * 1024u)	/* an answer's body */
#define MCA_AZHUB_ETAG_MAX	128		/* with its NUL */

/*
 * Gives the Authorization header value (a SAS token). renew: 1 after a
 * 401, asking for a fresh one (once per update). *value malloc'd, wiped
 * and freed by the caller. Returns 0 or an MCA_ERR_* (which
 * mca_azhub_update() returns as it is).
 */
typedef int (*mca_azhub_auth_fn)(void *arg, int renew, char **value,
    struct mca_diag *d);

struct mca_azhub {
	const char		*url;		/* full device URL, from
						   mca_az_device_url() */
	const char		*cafile;	/* azure_hub_ca_cert; NULL =
						   system store */
	const char		*resolve;	/* tests: "host:port:127.0.0.1";
						   NULL */
	long			 timeout;	/* seconds; 0 default */
	int			 max_conflicts;	/* 412/409 re-GET rounds; 0
						   default 3 */
	mca_azhub_auth_fn	 auth;
	void			*auth_arg;
};

struct mca_azhub_update {
	const char	*device_id;
	const char	*primary;	/* new cert's thumbprint */
	const char	*secondary;	/* renewed cert's thumbprint, or NULL:
					   the hub's current primary (on a
					   new device: none) */
	int		 sha256;	/* thumbprints are SHA-256
					   (x509Thumbprint fields are the
					   same; documented) */
};

struct mca_azhub_result {
	long		 status;	/* last HTTP status, 0 none */
	long long	 retry_after;	/* seconds the hub asked to wait,
					   -1 none */
	char		 etag[128];	/* device etag after a successful
					   PUT (or in place) */
	int		 created;	/* 1: device was created (404 then
					   PUT) */
};

/*
 * Runs the sequence for one device. Returns 0 when the hub confirmed
 * (PUT 200/201 with the thumbprints as sent, or GET showed them already
 * in place: then no PUT at all, and r->etag is the device's current
 * etag), MCA_ERR_BUSY when worth retrying later (429, 5xx, 408, network,
 * timeout, conflicts past the bound; r->retry_after set from
 * Retry-After), MCA_ERR_AUTH (401 even after a fresh token; 403),
 * MCA_ERR_POLICY (a permanent refusal: 400/404 on PUT/other 4xx, a
 * redirect; r->status says which), MCA_ERR_INVAL (bad arguments, before
 * any request; or an answer that is not a device identity, or a PUT
 * answered with other thumbprints than sent), MCA_ERR_CRYPTO (the hub's
 * TLS certificate not trusted or not for its name), MCA_ERR_TOOBIG (an
 * answer over MCA_AZHUB_BODY_MAX), MCA_ERR_CONFIG (cafile unreadable),
 * or what the auth callback returned. r is cleared on entry. d: one
 * line naming the method, URL and status, and the hub's own message if
 * it sent one; never the token.
 */
int	mca_azhub_update(const struct mca_azhub *h,
	    const struct mca_azhub_update *u, struct mca_azhub_result *r,
	    struct mca_diag *d);

#endif
