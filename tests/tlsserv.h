/*
 * A small HTTPS server side for tests: a loopback listener, a TLS
 * handshake with the test PKI's server certificate, one HTTP/1.1 request
 * read whole (headers, and a body by Content-Length). What the canned
 * responder of tests/integration/check_estc.c and the AppViewX mock
 * (tests/avxmock.c) stand on. The child-side functions never assert:
 * they run in a process forked from a Check test.
 */
#ifndef MCA_TLSSERV_H
#define MCA_TLSSERV_H

#include <stddef.h>

#include <openssl/ssl.h>

/* The largest request ts_read_request() takes (headers and body). */
#define TS_REQ_MAX	(256u * 1024u)

/*
 * Listens on a free port of 127.0.0.1; returns the socket and the port
 * in *port. Asserts (parent side).
 */
int		 ts_listen(unsigned *port);

/* A server context with certfile (a PEM chain) and keyfile; or NULL. */
SSL_CTX		*ts_server_ctx(const char *certfile, const char *keyfile);

/*
 * Accepts one connection on s and does the TLS handshake: the SSL, with
 * the socket in *fd; NULL on failure (the socket closed).
 */
SSL		*ts_accept(int s, SSL_CTX *ctx, int *fd);

/*
 * Reads one request into buf (cap bytes, NUL-terminated: cap - 1 at most)
 * until the end of its headers and Content-Length more bytes. Returns
 * the length, or -1 (connection closed early, over cap, bad length).
 * *body (if not NULL) is the offset of the body.
 */
long		 ts_read_request(SSL *ssl, char *buf, size_t cap, size_t *body);

/* Writes all of p[0..n); 0 or -1. */
int		 ts_write(SSL *ssl, const void *p, size_t n);

/* Shuts the connection down and frees it (NULL-safe). */
void		 ts_close(SSL *ssl, int fd);

#endif
