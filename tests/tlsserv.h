/*
 * A small HTTPS server side for tests: a loopback listener, a TLS
 * handshake with the test PKI's server certificate, one HTTP/1.1 request
 * read whole (headers, and a body by Content-Length). What the canned
 * responder of tests/integration/check_estc.c and the mocks (AppViewX,
 * its workflow and discovery gateways, the IoT Hub) stand on. The
 * child-side functions never assert: they run in a process forked from a
 * Check test.
 */
#ifndef MCA_TLSSERV_H
#define MCA_TLSSERV_H

#include <stddef.h>

#include <sys/types.h>

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

/*
 * A server in a child process, for the mocks: the accept loop written
 * once. ts_fork() listens on 127.0.0.1 and forks; the child does the
 * handshake of each connection with certfile and keyfile (when certfile
 * is NULL: pki/server.pem and pki/server.key, the test PKI's), and, when
 * client_ca is set, requires a client certificate that chains to it (mTLS:
 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT). tls12 caps the version at TLS 1.2,
 * where the client certificate is judged inside the handshake. Before the
 * first connection the child calls init(arg) (may be NULL), which sets up
 * what lives across connections and returns 0, or -1 to end the child. A
 * refused handshake calls refused(arg) (may be NULL); a good one calls
 * serve(arg, ssl, fd), which returns 0 to have the connection closed, 1 to
 * keep it open, unanswered, until the child ends. The child lives life
 * seconds at most (0: 600) or until ts_stop(). The callbacks run in the
 * child only, and the child never returns from ts_fork(): arg may point
 * into the frame of ts_fork()'s caller, and what they change is the
 * child's own copy.
 *
 * port is 0 for a free port, set by ts_fork(); left as it is after
 * ts_stop(), the next ts_fork() listens on the same port again ("the
 * server is back"), which SO_REUSEADDR allows while the old connections
 * linger in TIME_WAIT.
 */
struct ts_server {
	const char	*certfile, *keyfile;
	const char	*pki;
	const char	*client_ca;
	int		 tls12;
	int		 life;
	int		(*init)(void *arg);
	int		(*serve)(void *arg, SSL *ssl, int fd);
	void		(*refused)(void *arg);
	void		*arg;
	unsigned	 port;
	/* set by ts_fork() */
	pid_t		 pid;
};

/* Starts the child (asserts); s->pid and s->port are set. */
void		 ts_fork(struct ts_server *s);

/* Stops it: SIGTERM, then waits (NULL-safe, twice harmless). */
void		 ts_stop(struct ts_server *s);

/*
 * For every mock: forks a child that runs child(arg, s) on the listening
 * socket s and then exits; the parent closes s. SIGTERM reaches the child
 * only once it is in child(). Returns the child's pid (asserts).
 */
pid_t		 ts_spawn(int s, void (*child)(void *arg, int s), void *arg);

/* SIGTERM to *pid, then waits; *pid is 0 after (<= 0: nothing to do). */
void		 ts_reap(pid_t *pid);

/* One request, split by ts_parse() in place: pointers into its buffer. */
struct ts_req {
	char		*method, *target;
	char		*head;		/* header lines, "\r\n" between */
	const char	*body;
	size_t		 bodylen;
};

/*
 * Splits what ts_read_request() read (buf, len bytes, body at off) into
 * r: an HTTP/1.1 request line, then headers. 0, or -1 when malformed.
 */
int		 ts_parse(char *buf, size_t len, size_t off, struct ts_req *r);

/*
 * The value of header name (case-insensitive) into out, when it is there
 * exactly once; NULL when it is absent or repeated.
 */
const char	*ts_header(const struct ts_req *r, const char *name, char *out,
		    size_t len);

/* Answers status with ctype and body[0..len), "Connection: close". */
int		 ts_respond(SSL *ssl, int status, const char *ctype,
		    const void *body, size_t len);

/*
 * The same, with the header lines extra (each ending in "\r\n", at most
 * 256 bytes in all; NULL: none) before "Connection: close".
 */
int		 ts_respond_with(SSL *ssl, int status, const char *ctype,
		    const char *extra, const void *body, size_t len);

#endif
