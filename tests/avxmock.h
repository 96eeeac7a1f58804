/*
 * A mock AppViewX gateway for the tests of lib/avx.c: a real HTTPS server
 * on 127.0.0.1 in a child process, with the test PKI's server certificate.
 * It checks what the public AppViewX guides say a client sends (method,
 * path and query, Content-Type, the Basic credentials and grant_type of
 * the token call, the "token" header of the others, the JSON body's
 * required fields and their types), answers as the guides show
 * ({"response", "message", "appStatusCode"}), and issues the certificate
 * by signing the uploaded CSR with the test PKI's intermediate (ca.key),
 * so that what comes back is real. A request it refuses gets the answer
 * the service gives (400 with an appStatusCode naming what is wrong, 401
 * for a token it did not issue), never a crash.
 *
 * Each request is logged as one line "METHOD TARGET STATUS" to log.
 */
#ifndef MCA_AVXMOCK_H
#define MCA_AVXMOCK_H

#include <sys/types.h>

/* What the mock does wrong, for the fault tests. */
enum avxmock_fault {
	AM_NONE,
	AM_TOKEN_401,		/* the token call: 401 */
	AM_TOKEN_ECHO,		/* 400 whose message repeats the secret */
	AM_TOKEN_NULL,		/* 200, "response": null */
	AM_EXPIRED,		/* every token expired at once: 401 later */
	AM_STATUS_CODE,		/* create: 200 with an appStatusCode */
	AM_500,			/* create: 500 with an HTML page */
	AM_GARBAGE,		/* create: 200, not JSON */
	AM_NO_ID,		/* create: "response" without resourceId */
	AM_ID_TYPE,		/* create: resourceId a number */
	AM_BAD_ID,		/* create: resourceId "../x y" */
	AM_BIG,			/* download: 200 with a body over 256 KiB */
	AM_EMPTY_CHAIN,		/* download: 200, empty */
	AM_NOT_PEM,		/* download: 200, text that is not PEM */
	AM_OTHER_KEY,		/* download: certificates for other keys */
	AM_DL_404,		/* download: 404 NO_RECORDS_FOUND */
	AM_JSON_CHAIN,		/* download: the PEM in a JSON "response" */
	AM_SILENT,		/* accepts connections, never answers */
	AM_NOT_CA,		/* create: an end-entity certificate (CA:FALSE) */
	AM_MAX
};

struct avxmock {
	/* set by the caller */
	const char		*pki;		/* tests/pki/mkpki.sh's dir */
	const char		*log;		/* request log file */
	const char		*client_id;
	const char		*client_secret;
	const char		*ca_name;
	const char		*ca_setting_name;
	const char		*group;		/* the one group there is */
	enum avxmock_fault	 fault;
	/* set by avxmock_start() */
	pid_t			 pid;
	unsigned		 port;
};

/* Starts the mock (asserts); m->pid and m->port are set. */
void	avxmock_start(struct avxmock *m);

/* Stops it (NULL-safe, twice harmless). */
void	avxmock_stop(struct avxmock *m);

#endif
