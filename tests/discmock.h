/*
 * A mock AppViewX discovery upload endpoint for the tests of
 * lib/avxdisc.c and microca-discover: a real HTTPS server on 127.0.0.1
 * in a child process (tests/tlsserv.c's ts_fork()) that REQUIRES a client
 * certificate chaining to client_ca (mTLS), and checks each upload
 * strictly against what avxdisc.h defines:
 *
 *  - POST, the path /avxapi/certificate/discovery/upload, the query
 *    gwsource=external (and &gwkey= exactly when gwkey is set);
 *  - Content-Type application/json; the "token" header exactly when
 *    token is set, with that value;
 *  - {"payload": {...}} with exactly discoveryName, groupName, source
 *    ("microca"), certificates, and estAgentSettingName exactly when
 *    agent is set (its value compared); the names compared when set;
 *  - each certificate an object of exactly "certificate" (base64 that
 *    decodes to one DER certificate), "location" (a string ending in
 *    "#<index>") and "sha256" (64 uppercase hex digits, the SHA-256 of
 *    that DER); 1 to 200 of them.
 *
 * A request it refuses gets 400 (415 for the Content-Type, 401 for the
 * token, 404/405 for path and method) with an appStatusCode naming what
 * is wrong, as AppViewX answers. With client_id set it also serves the
 * service token call (POST /avxapi/acctmgmt-get-service-token, HTTP Basic
 * client_id:client_secret), answering token.
 *
 * Everything is recorded in the log file, one line per event:
 *   UPLOAD <answer> <n> <sha256> ... <sha256>   a well-formed upload,
 *	<answer> the mode that answered it: ok 500 401 appstatus garbage
 *	silent
 *   REFUSED <http status> <why>                       a refused request
 *   TOKEN <http status>                               a token call
 *   TLS refused                                       a refused handshake
 * read back with discmock_seen().
 */
#ifndef MCA_DISCMOCK_H
#define MCA_DISCMOCK_H

#include <stddef.h>

#include "tlsserv.h"

/* How a well-formed upload is answered. */
enum discmock_mode {
	DM_OK,		/* 200 {"response": {"accepted": n}, "message":
			   "Success", "appStatusCode": null} */
	DM_500,		/* 500, an HTML page */
	DM_401,		/* 401 with an appStatusCode */
	DM_APPSTATUS,	/* 200 with appStatusCode "DISCOVERY_1001" and a
			   message that holds the token, if any */
	DM_GARBAGE,	/* 200, not JSON */
	DM_SILENT,	/* the request read, never answered */
	DM_MAX
};

#define DM_APPSTATUS_CODE	"DISCOVERY_1001"
#define DM_APPSTATUS_MSG	"Discovery group is locked"

struct discmock_opts {
	const char		*certfile, *keyfile;	/* the server's */
	const char		*client_ca;	/* mTLS: required, PEM */
	const char		*log;		/* the record, appended to */
	const char		*gwkey;		/* NULL: none in the query */
	const char		*token;		/* NULL: no token header */
	const char		*agent;		/* NULL: no
						   estAgentSettingName */
	const char		*discovery_name;	/* NULL: any */
	const char		*group;		/* NULL: any */
	const char		*client_id;	/* NULL: no token call */
	const char		*client_secret;
	enum discmock_mode	 mode;
	int			 faults;	/* mode for the first faults
						   well-formed uploads, then
						   DM_OK; 0: always mode */
	int			 tls12;		/* TLS 1.2 at most */
};

struct discmock {
	struct discmock_opts	 o;	/* copied; strings still borrowed */
	struct ts_server	 ts;
	int			 uploads;	/* the child's count */
};

/* Starts the mock (asserts); returns its port. m->ts.pid is the child. */
unsigned	 discmock_start(struct discmock *m,
		    const struct discmock_opts *o);

/* Stops it (NULL-safe, twice harmless). */
void		 discmock_stop(struct discmock *m);

#define DM_SEEN_MAX	64	/* uploads recorded by discmock_seen() */

/* What the log says, read after the client's calls have returned. */
struct discmock_seen {
	int	 uploads;		/* UPLOAD lines, whatever answered */
	int	 accepted;		/* of them answered "ok" (DM_OK) */
	int	 refused;		/* REFUSED lines */
	int	 tokens;		/* TOKEN lines */
	int	 tls_refused;		/* TLS refused lines */
	int	 counts[DM_SEEN_MAX];	/* certificates in upload i */
	char	*sha256;		/* all UPLOAD lines' hashes, in order,
					   space-separated; free() it */
	char	 last_refusal[512];	/* the last REFUSED line's why */
};

/* Reads o->log into s (asserts). Free s->sha256. */
void		 discmock_seen(const struct discmock *m,
		    struct discmock_seen *s);

#endif
