/*
 * microca-est: the request as the web server handed it over, read
 * through one door. The CGI variables (RFC 3875 4.1) and the TLS client's
 * variables (mod_ssl's SSL_CLIENT_*, which lighttpd copies) are untrusted
 * input like a body: every other file of cgi/ reads them through here,
 * and request.c calls no other file of cgi/, so the calls between the
 * files all point one way (no circle):
 *
 *	main -> route, server, auth
 *	route -> cacerts, csrattrs, simpleenroll, simplereenroll,
 *	    serverkeygen, request
 *	serverkeygen -> simpleenroll, enroll
 *	simpleenroll -> auth, basicauth, enroll, request
 *	simplereenroll -> auth, enroll
 *	enroll -> basicauth, request
 *	server -> auth
 *	auth, basicauth -> request
 *	request, cacerts, csrattrs -> (none)
 */
#ifndef MCA_REQUEST_H
#define MCA_REQUEST_H

#include <stddef.h>

#include "err.h"

struct mca_request;

/*
 * At most this many certificates in SSL_CLIENT_CERT_CHAIN_0..n: a device
 * maker's intermediates, perhaps a root. Each is capped like the leaf,
 * at MCA_PEM_MAX bytes of PEM.
 */
#define MCA_REQ_CHAIN_MAX	8

/*
 * The client certificate as the web server handed it over, as text:
 * SSL_CLIENT_CERT, and the chain the client sent with it. Apache
 * (SSLOptions +ExportCertData) exports the chain as
 * SSL_CLIENT_CERT_CHAIN_0, _1, ... without the leaf; lighttpd 1.4.69
 * exports the leaf only. The texts point into the request's environment.
 */
struct mca_req_cert {
	const char	*pem;				/* SSL_CLIENT_CERT */
	size_t		 len;
	const char	*chain[MCA_REQ_CHAIN_MAX];	/* _CHAIN_0 .. */
	size_t		 chain_len[MCA_REQ_CHAIN_MAX];
	size_t		 nchain;
};

/* The value of a request variable, or NULL when it is not set. */
const char *mca_req_env(const struct mca_request *req, const char *name);

/* REMOTE_ADDR, the client's address (RFC 3875 4.1.8), or NULL. */
const char *mca_req_remote_addr(const struct mca_request *req);

/* 1 if req carries a client certificate, REMOTE_USER, Authorization. */
int	 mca_req_has_cert(const struct mca_request *req);
int	 mca_req_has_remote_user(const struct mca_request *req);
int	 mca_req_has_authorization(const struct mca_request *req);

/*
 * The web server's own Basic login (REMOTE_USER, RFC 3875 4.1.11) into
 * out (max + 1 bytes): at most max bytes, no control characters. Returns 0,
 * MCA_ERR_NOTFOUND (no such login: mca_req_has_remote_user() is 0) or
 * MCA_ERR_INVAL (too long, or a control character); out is "" unless 0.
 */
int	 mca_req_remote_user(const struct mca_request *req, char *out,
	    size_t max);


/*
 * Fills out with the client certificate's texts, bounded: each at most
 * MCA_PEM_MAX bytes, at most MCA_REQ_CHAIN_MAX chain certificates, read
 * from _CHAIN_0 up to the first one not set (web servers number them
 * without a gap). Nothing is parsed here (auth.c does). Returns 0,
 * MCA_ERR_NOTFOUND (no SSL_CLIENT_CERT) or MCA_ERR_TOOBIG (a text or the
 * chain over its cap), d saying which variable is wrong.
 */
int	 mca_req_client_cert(const struct mca_request *req,
	    struct mca_req_cert *out, struct mca_diag *d);

#endif
