/*
 * A mock AppViewX workflow gateway for the tests of lib/avxwf.c: a real
 * HTTPS server on 127.0.0.1 in a child process (tests/tlsserv.c) that
 * REQUIRES a client certificate issued by the test PKI's bootstrap CA
 * (boot-ca.pem): mTLS, as AppViewX knows microca by its mTLS client
 * certificate. It serves the two calls of the AppViewX Automation API
 * guides lib/avxwf.c makes, and checks them strictly: the method, the path
 * and query (gwsource=external, gwkey when one is expected, ids=),
 * Content-Type application/json, and every field of the submit payload
 * (no field missing, none unknown, each of the right type and value; the
 * certificate compared as a certificate). A request it refuses gets the
 * answer the service gives (400 with an appStatusCode naming what is
 * wrong), never a crash.
 *
 * Each request is logged as one line "METHOD TARGET STATUS" to log, and a
 * handshake it refuses as "TLS - refused", so that tests can count submits
 * and polls.
 */
#ifndef MCA_AVXWFMOCK_H
#define MCA_AVXWFMOCK_H

#include <sys/types.h>

/* How the workflow behaves. */
enum avxwfmock_mode {
	WM_SUCCESS,		/* "In Progress" for polls_before polls, then
				   "Success" */
	WM_FAIL,		/* "In Progress" for polls_before, then
				   "Failed" with fail_message */
	WM_NEVER,		/* "In Progress" forever */
	WM_SUBMIT_500,		/* submit: 500 with an HTML page */
	WM_SUBMIT_GARBAGE,	/* submit: 200, not JSON */
	WM_SUBMIT_REFUSED,	/* submit: 400 with an appStatusCode */
	WM_POLL_GARBAGE,	/* status: 200, not JSON */
	WM_POLL_503_FIRST,	/* the first status call: 503; then as
				   WM_SUCCESS */
	WM_MAX
};

struct avxwfmock {
	/* set by the caller */
	const char		*pki;		/* tests/pki/mkpki.sh's dir */
	const char		*log;		/* request log file */
	const char		*gwkey;		/* expected in the query, or NULL */
	const char		*workflow;	/* expected workflowName */
	const char		*azure_account;
	const char		*device_id;
	const char		*primary;
	const char		*secondary;	/* NULL: must be absent */
	const char		*cert_pem;	/* the device certificate */
	const char		*request_id;	/* the id the submit gives */
	int			 preexisting;	/* request_id exists already
						   (submitted by an earlier
						   run) */
	int			 id_in_message;	/* the id only in the submit
						   answer's message */
	int			 status_object;	/* status "response" an object
						   (default: an array) */
	int			 tls12;		/* TLS 1.2 at most: the client
						   certificate is judged inside
						   the handshake */
	int			 polls_before;	/* K */
	const char		*fail_message;
	enum avxwfmock_mode	 mode;
	/* set by avxwfmock_start() */
	pid_t			 pid;
	unsigned		 port;
};

/* Starts the mock (asserts); m->pid and m->port are set. */
void	avxwfmock_start(struct avxwfmock *m);

/* Stops it (NULL-safe, twice harmless). */
void	avxwfmock_stop(struct avxwfmock *m);

#endif
