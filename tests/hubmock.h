/*
 * A mock Azure IoT Hub for the tests of lib/azhub.c (and of the drain
 * loop that uses it): a real HTTPS server on 127.0.0.1 in a child
 * process, with the test PKI's server certificate (for 127.0.0.1 and
 * localhost). It serves the identity registry as Microsoft's REST
 * reference describes it ("Devices - Get Identity", "Devices - Create Or
 * Update Identity", api-version 2021-04-12) and checks every request
 * strictly:
 *  - the target is exactly /devices/<id>?api-version=2021-04-12, the id
 *    percent-encoded with RFC 3986 unreserved characters kept and every
 *    other byte as %XX (uppercase), and once decoded a valid device id;
 *  - the method is GET (no body) or PUT (Content-Type application/json,
 *    a JSON object naming the same deviceId, only the keys a Device has,
 *    an AuthenticationMechanism of a known type; selfSigned with hex
 *    thumbprints and no symmetric keys);
 *  - If-Match: absent on a create (the reference: "should not be set when
 *    creating a device"; a PUT without it on a device that exists is 409
 *    DeviceAlreadyExists), the device's current etag, quoted (RFC 7232
 *    2.3, 3.1), on an update (else 412; unquoted: 400);
 *  - Authorization: a SharedAccessSignature whose sig it recomputes
 *    (HMAC-SHA256 keyed with the base64-decoded key over the sr value as
 *    sent, a newline and se), whose se is in the future, whose sr decodes
 *    to the hub host and whose skn is the policy; else 401.
 * It keeps the devices with etags (a new one at each change) in a JSON
 * state file, with a count of the PUTs that changed each device, and
 * logs each request as "METHOD ID STATUS" lines. The parent scripts
 * faults through the same file, between requests.
 */
#ifndef MCA_HUBMOCK_H
#define MCA_HUBMOCK_H

#include <sys/types.h>

#include "buf.h"

#define HM_API_VERSION	"2021-04-12"

/* What the mock does besides answering, for the race tests. */
enum hubmock_trick {
	HM_BUMP,		/* after a GET 200: someone changes it */
	HM_CREATE_BEHIND,	/* after a GET 404: someone creates it */
	HM_BIG,			/* a GET 200 with a body over 64 KiB */
	HM_TRICK_MAX
};

struct hubmock {
	/* set by the caller */
	const char	*pki;		/* tests/pki/mkpki.sh's dir */
	const char	*dir;		/* state, log */
	const char	*host;		/* the hub's host name: sr */
	const char	*key_b64;	/* the policy's key */
	const char	*policy;	/* skn */
	/* set by hubmock_start() */
	pid_t		 pid;
	unsigned	 port;		/* 0 before the first start */
};

/*
 * Starts the mock (asserts): on a free port the first time, on the same
 * port again after hubmock_stop() ("the hub is back"). The state (devices,
 * counts, faults) lives on in m->dir across stops.
 */
void	hubmock_start(struct hubmock *m);

/* Stops it: the listener is closed (NULL-safe, twice harmless). */
void	hubmock_stop(struct hubmock *m);

/*
 * The next count requests (of method, or any when NULL) are answered
 * status, with Retry-After: retry_after when not NULL, once the token is
 * checked and good (a bad token's 401 leaves the faults waiting).
 */
void	hubmock_fault(struct hubmock *m, const char *method, long status,
	    int count, const char *retry_after);

/* The next count occasions of trick t. */
void	hubmock_trick(struct hubmock *m, enum hubmock_trick t, int count);

/*
 * Registers a device as it stands: json is its identity ("deviceId" and
 * "authentication" at least); the mock gives it an etag.
 */
void	hubmock_seed(struct hubmock *m, const char *json);

/*
 * The device's primary and secondary thumbprints ("-" for none), its
 * authentication type and etag, as "TYPE PRIMARY SECONDARY ETAG" in out
 * (reset); "" when there is no such device.
 */
void	hubmock_device(struct hubmock *m, const char *id, struct mca_buf *out);

/* The value of top-level key of device id as JSON text ("" if none). */
void	hubmock_field(struct hubmock *m, const char *id, const char *key,
	    struct mca_buf *out);

/* How many PUTs changed device id. */
int	hubmock_puts(struct hubmock *m, const char *id);

/* The request log, "METHOD ID STATUS\n" per request (appended to out). */
void	hubmock_log(struct hubmock *m, struct mca_buf *out);

#endif
