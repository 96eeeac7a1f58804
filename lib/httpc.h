/*
 * The client side of HTTP: one HTTPS request over libcurl, as the cron
 * tools make them towards an upstream EST server or REST API. (lib/http.c
 * is the server side, the EST program's.) Every request has a connect and
 * a total timeout, speaks HTTPS only, follows no redirect, verifies the
 * server's certificate and host name, and reads the response into capped
 * buffers: a body over its cap is an error, never a truncated body.
 */
#ifndef MCA_HTTPC_H
#define MCA_HTTPC_H

#include <stddef.h>

#include <openssl/evp.h>

#include "buf.h"
#include "err.h"

#define MCA_HTTPC_CONNECT_TIMEOUT	15	/* seconds, when 0 is given */
#define MCA_HTTPC_TIMEOUT		120	/* seconds, when 0 is given */
#define MCA_HTTPC_BODY_MAX	(1024u * 1024u)	/* when 0 is given */
#define MCA_HTTPC_HEADERS_MAX	(64u * 1024u)	/* all response headers */
#define MCA_HTTPC_VALUE_MAX	256	/* a captured header value, with NUL */

/*
 * Who we are and whom we trust, for TLS.
 *  cafile	PEM bundle of the trust anchors the server must chain to;
 *		NULL: the system store. The host name is always checked.
 *  certfile	our client certificate (PEM; more certificates after it are
 *		sent as its chain); NULL: no client authentication.
 *  keyfile	its private key (PEM), or
 *  key		the private key as an object, e.g. one that stays inside a
 *		PKCS#11 token (borrowed, not freed). Exactly one of keyfile
 *		and key goes with certfile.
 */
struct mca_httpc_tls {
	const char	*cafile;
	const char	*certfile;
	const char	*keyfile;
	EVP_PKEY	*key;
};

/*
 * One request. method "GET", "POST" or "PUT" (a PUT's body goes as a
 * POST's: from memory, with its Content-Length). url must be https://; user
 * information in it ("user@host") is refused, credentials go in user and
 * pass (HTTP Basic, RFC 7617), both or neither. headers: extra "Name:
 * value" lines, NULL-terminated, or NULL. resolve: NULL or one
 * "HOST:PORT:ADDRESS" entry, connecting there instead of asking DNS
 * (curl's --resolve; the host name is still what the certificate must
 * name). Timeouts in seconds and body_max in bytes: 0 takes the default.
 */
struct mca_httpc_req {
	const char		 *method;
	const char		 *url;
	const char		 *ctype;	/* request Content-Type or NULL */
	const char *const	 *headers;
	const unsigned char	 *body;
	size_t			  bodylen;
	const char		 *user;
	const char		 *pass;
	const struct mca_httpc_tls *tls;
	const char		 *resolve;
	long			  connect_timeout;
	long			  timeout;
	size_t			  body_max;
};

/*
 * The response: status, the body, and the headers a caller needs, each
 * "" when absent (a value over MCA_HTTPC_VALUE_MAX - 1 is an error).
 */
struct mca_httpc_resp {
	long		 status;
	char		 ctype[MCA_HTTPC_VALUE_MAX];	/* Content-Type */
	char		 cte[MCA_HTTPC_VALUE_MAX];	/* C.-Transfer-Encoding */
	char		 retry_after[MCA_HTTPC_VALUE_MAX];
	char		 location[MCA_HTTPC_VALUE_MAX];
	struct mca_buf	 body;
};

/*
 * Performs req; fills resp (cleared on entry; free it with
 * mca_httpc_resp_free() whatever the result). Any HTTP status is a
 * success here: the caller judges it. d gets one line naming the method
 * and URL and what went wrong, with curl's own message; never a
 * credential. The Basic credentials are built into a header of our own,
 * which is wiped after the request (what libcurl copies of a header into
 * its send buffer it frees without wiping). Returns 0, MCA_ERR_INVAL (a
 * bad request: not https, user information in the URL, a header with a
 * line break), MCA_ERR_CRYPTO (TLS: the server not trusted, its name not
 * matching, our certificate or key refused), MCA_ERR_IO (cannot connect,
 * timed out, connection broken), MCA_ERR_TOOBIG (body or headers over
 * their cap), MCA_ERR_CONFIG (a certificate, key or CA file unreadable)
 * or MCA_ERR_NOMEM/INTERNAL.
 */
int	 mca_httpc_do(const struct mca_httpc_req *req,
	    struct mca_httpc_resp *resp, struct mca_diag *d);

/* Frees what resp holds (NULL-safe) and clears it. */
void	 mca_httpc_resp_free(struct mca_httpc_resp *resp);

/*
 * 1 if h is a host name as RFC 1123 2.1 allows (letters, digits, '-' and
 * '.', not starting with '-' or '.') or an IP literal in brackets (RFC
 * 3986 3.2.2: hex digits, ':' and '.'), 1 to max bytes long; 0 otherwise,
 * and for NULL. Safe to put in a URL and a message.
 */
int	 mca_httpc_host_ok(const char *h, size_t max);

#endif
