/*
 * Azure IoT Hub, the parts that are pure functions: SAS tokens, the expiry
 * of a static token, certificate thumbprints, the device id a certificate
 * stands for and the device URL. No I/O; lib/azhub.c talks to the hub.
 *
 * SAS tokens as Microsoft's IoT Hub security documentation ("Control
 * access to IoT Hub using Shared Access Signatures", security tokens) and
 * its SDKs and CLI write them; tests/check_azure.c checks them against
 * the vectors of their unit tests.
 */
#ifndef MCA_AZURE_H
#define MCA_AZURE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "err.h"

#define MCA_AZ_THUMB_MAX	65	/* 64 hex digits + NUL */
#define MCA_AZ_DEVID_MAX	129	/* IoT Hub device ids: 128 chars */
#define MCA_AZ_API_VERSION	"2021-04-12"

/* The latest expiry taken: 9999-12-31T23:59:59Z. */
#define MCA_AZ_EXPIRY_MAX	253402300799LL
/* The longest resource uri signed (a host name and a device path fit). */
#define MCA_AZ_URI_MAX		2048

/*
 * Uppercase hex of SHA-1 (sha256 == 0) or SHA-256 over the DER of x, as
 * IoT Hub and the Azure CLI show thumbprints. Returns 0, or
 * MCA_ERR_INVAL (x NULL) or MCA_ERR_CRYPTO with d; out is "" then.
 */
int	 mca_az_thumbprint(X509 *x, int sha256, char out[MCA_AZ_THUMB_MAX],
	    struct mca_diag *d);

/*
 * SharedAccessSignature sr=<enc uri>&sig=<enc b64 HMAC-SHA256>&se=<expiry>
 * [&skn=<enc policy>]: HMAC-SHA256 keyed with base64-decode(key_b64) over
 * "<url-encoded uri>\n<expiry>"; "enc" is percent-encoding with only the
 * RFC 3986 2.3 unreserved characters kept (so '/' is %2F, '+' %2B, '='
 * %3D). policy NULL or "" omits skn. *out is malloc'd (the caller wipes
 * and frees it: it is a credential); the decoded key is wiped.
 * Returns 0, MCA_ERR_INVAL (empty uri, key not base64, expiry not in
 * 1..MCA_AZ_EXPIRY_MAX, control characters), MCA_ERR_TOOBIG (uri over
 * MCA_AZ_URI_MAX), MCA_ERR_NOMEM or MCA_ERR_CRYPTO, with d (never the key).
 */
int	 mca_az_sas(const char *uri, const char *key_b64, const char *policy,
	    long long expiry, char **out, struct mca_diag *d);

/*
 * The se= of a static token ("SharedAccessSignature ..." as given):
 * "SharedAccessSignature", one space, then name=value fields joined by
 * '&', with sr, sig and se each exactly once, skn at most once and no
 * other name, se a decimal number in 0..MCA_AZ_EXPIRY_MAX. Returns 0,
 * or MCA_ERR_INVAL if it has none or it is malformed, with d (which
 * never quotes the signature); *expiry is 0 then.
 */
int	 mca_az_sas_expiry(const char *token, long long *expiry,
	    struct mca_diag *d);

/*
 * Device id of x by field: NULL/"" or "CN" = subject commonName;
 * "subject:<sn>" any subject attribute by OpenSSL short or long name or
 * dotted OID (e.g. "subject:serialNumber"); "san:dns", "san:uri",
 * "san:email" = the first SAN of that type (field names are matched
 * without regard to case). A subject attribute present more than once is
 * ambiguous and refused. Must be a valid IoT Hub device id (<= 128 chars
 * of ASCII letters, digits and - . + % _ # * ? ! ( ) , : = @ $ ') else
 * MCA_ERR_POLICY, as is a certificate without that field. An unknown
 * field is MCA_ERR_CONFIG; len under the id's length + 1 MCA_ERR_TOOBIG.
 * out is "" on failure; d says why in one line.
 */
int	 mca_az_device_id(X509 *x, const char *field, char *out, size_t len,
	    struct mca_diag *d);

/* 1 if id is a valid IoT Hub device id (see above), else 0. */
int	 mca_az_devid_ok(const char *id);

/*
 * The device URL: tmpl with its placeholder ({deviceId}; also accepted and
 * documented: {deviceid}, {device_id}, {DeviceId}) replaced by the
 * percent-encoded (RFC 3986 unreserved kept) device id. A template without
 * a placeholder is https://host[:port][/...] and gets "/devices/<id>" and
 * "?api-version=2021-04-12" when it has no query. Must be https. Also
 * returns the resource uri for the SAS (the host name, lowercase, without
 * the port, as the Azure CLI signs service tokens) in *sr (malloc'd, may
 * be NULL if not wanted).
 * The placeholder may stand once, in the path; a template with another
 * "{...}", a fragment, user information, spaces or control characters is
 * refused. Returns 0, MCA_ERR_CONFIG (the template), MCA_ERR_POLICY
 * (devid is not a valid device id), MCA_ERR_NOMEM; d says why.
 */
int	 mca_az_device_url(const char *tmpl, const char *devid, char **url,
	    char **sr, struct mca_diag *d);

#endif
