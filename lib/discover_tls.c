/*
 * Discovery: the certificate chain a TLS endpoint presents. An inventory
 * takes what is shown and judges nothing: the chain is never verified,
 * every protocol version and security level OpenSSL still speaks is
 * offered so that old servers are seen too, and nothing is sent but the
 * ClientHello. The connect and the handshake share one deadline.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "discover.h"
#include "discover_int.h"
#include "err.h"
#include "num.h"

#define DISC_HOST_MAX	255	/* RFC 1035 2.3.4 */
#define DISC_CHAIN_MAX	64	/* certificates taken from one chain */

const char *const	mca_disc_default_endpoints[] = { "127.0.0.1:443" };
const size_t		mca_disc_ndefault_endpoints =
    sizeof(mca_disc_default_endpoints) /
    sizeof(mca_disc_default_endpoints[0]);

static long long
now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline, 0 when none. */
static int
left_ms(long long deadline)
{
	long long	 l = deadline - now_ms();

	return l > 0 ? (int)l : 0;
}

/*
 * "host:port", "[v6]:port": host into host (no brackets), port into
 * port (its digits). Returns 0 or -1.
 */
static int
split_hostport(const char *hp, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char	*colon, *h = hp, *he;
	long long	 n;

	if (hp[0] == '[') {
		if ((he = strchr(hp, ']')) == NULL || he[1] != ':')
			return -1;
		h = hp + 1;
		colon = he + 1;
	} else {
		if ((colon = strrchr(hp, ':')) == NULL ||
		    memchr(hp, ':', (size_t)(colon - hp)) != NULL)
			return -1;	/* a bare IPv6 address needs [] */
		he = colon;
	}
	if (he == h || (size_t)(he - h) >= hostlen ||
	    (size_t)(he - h) > DISC_HOST_MAX ||
	    mca_num_parse(colon + 1, strlen(colon + 1), 1, 65535, &n) != 0 ||
	    strlen(colon + 1) >= portlen)
		return -1;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	(void)snprintf(port, portlen, "%lld", n);
	return 0;
}

/*
 * A non-blocking connect to one address within the deadline. Returns
 * the socket, or -1 with *err the errno (ETIMEDOUT for the deadline).
 */
static int
connect_one(const struct addrinfo *ai, long long deadline, int *err)
{
	struct pollfd	 pfd;
	socklen_t	 elen = sizeof(*err);
	int		 fd, r;

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol)) == -1) {
		*err = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*err = errno;
		goto fail;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	for (;;) {
		r = poll(&pfd, 1, left_ms(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			*err = errno;
			goto fail;
		}
		if (r == 0) {
			*err = ETIMEDOUT;
			goto fail;
		}
		break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &elen) == -1)
		*err = errno;
	if (*err == 0)
		return fd;
fail:
	(void)close(fd);
	return -1;
}

/*
 * A peer that resets the connection while OpenSSL writes would raise
 * SIGPIPE, which kills a program that has not ignored it; lib must not
 * change the program's dispositions. SIGPIPE is blocked in this thread
 * for the call, and one raised meanwhile is taken back before it is
 * unblocked (what libcurl does where MSG_NOSIGNAL cannot reach: here,
 * OpenSSL's own write()).
 */
struct nopipe {
	sigset_t	 old;
	int		 was_pending;
};

static void
nopipe_on(struct nopipe *np)
{
	sigset_t	 set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	(void)pthread_sigmask(SIG_BLOCK, &set, &np->old);
	np->was_pending = sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGPIPE) == 1;
}

static void
nopipe_off(struct nopipe *np)
{
	const struct timespec	 zero = { 0, 0 };
	sigset_t		 set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!np->was_pending && sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGPIPE) == 1)
		while (sigtimedwait(&set, NULL, &zero) == -1 &&
		    errno == EINTR)
			;
	(void)pthread_sigmask(SIG_SETMASK, &np->old, NULL);
}

int
mca_disc_scan_endpoint(const char *hostport, int timeout_ms, mca_disc_cb cb,
    void *arg, struct mca_diag *d)
{
	struct addrinfo		 hints, *res = NULL, *ai;
	struct mca_disc_report	 r;
	struct mca_disc_cert	 c;
	struct mca_buf		 sans = MCA_BUF_INIT;
	struct pollfd		 pfd;
	struct nopipe		 np;
	unsigned char		 addr[sizeof(struct in6_addr)];
	char			 host[DISC_HOST_MAX + 1], port[8];
	SSL_CTX			*ctx = NULL;
	SSL			*ssl = NULL;
	STACK_OF(X509)		*chain;
	unsigned char		*der = NULL;
	long long		 deadline;
	int			 fd = -1, err = 0, e, i, n, len, rc;

	mca_diag_clear(d);
	if (hostport == NULL || cb == NULL || strlen(hostport) >=
	    MCA_DISC_LOC_MAX || split_hostport(hostport, host, sizeof(host),
	    port, sizeof(port)) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "%s: not host:port (an IPv6 "
		    "address as [::1]:443)", hostport != NULL ? hostport : "");
	if (timeout_ms <= 0)
		return mca_diag(d, MCA_ERR_INVAL, "%s: timeout %d ms", hostport,
		    timeout_ms);
	deadline = now_ms() + timeout_ms;
	nopipe_on(&np);

	/*
	 * The resolver keeps its own timeouts (resolv.conf); the endpoints
	 * of a host's inventory are mostly addresses, resolved at once.
	 */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		rc = mca_diag(d, MCA_ERR_IO, "%s: cannot resolve: %s",
		    hostport, gai_strerror(e));
		goto out;
	}
	for (ai = res; ai != NULL && fd == -1 && left_ms(deadline) > 0;
	    ai = ai->ai_next)
		fd = connect_one(ai, deadline, &err);
	if (fd == -1) {
		if (err == ECONNREFUSED)
			rc = mca_diag(d, MCA_ERR_IO, "%s: connection refused",
			    hostport);
		else if (err == ETIMEDOUT || err == 0)
			rc = mca_diag(d, MCA_ERR_IO, "%s: no connection within "
			    "%d ms", hostport, timeout_ms);
		else
			rc = mca_diag(d, MCA_ERR_IO, "%s: %s", hostport,
			    strerror(err));
		goto out;
	}

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (ssl = SSL_new(ctx)) == NULL) {
		rc = mca_diag_crypto(d, MCA_ERR_NOMEM, "%s: TLS", hostport);
		goto out;
	}
	/* Inventory, not trust: see every server, old ones too. */
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	SSL_set_security_level(ssl, 0);
	(void)SSL_set_min_proto_version(ssl, TLS1_VERSION);
	/* RFC 6066 3: SNI for names only, never for address literals. */
	if (inet_pton(AF_INET, host, addr) != 1 &&
	    inet_pton(AF_INET6, host, addr) != 1 &&
	    SSL_set_tlsext_host_name(ssl, host) != 1) {
		rc = mca_diag_crypto(d, MCA_ERR_INVAL, "%s: SNI", hostport);
		goto out;
	}
	if (SSL_set_fd(ssl, fd) != 1) {
		rc = mca_diag_crypto(d, MCA_ERR_INTERNAL, "%s: TLS", hostport);
		goto out;
	}
	pfd.fd = fd;
	for (;;) {
		ERR_clear_error();
		if ((n = SSL_connect(ssl)) == 1)
			break;
		switch (SSL_get_error(ssl, n)) {
		case SSL_ERROR_WANT_READ:
			pfd.events = POLLIN;
			break;
		case SSL_ERROR_WANT_WRITE:
			pfd.events = POLLOUT;
			break;
		case SSL_ERROR_SYSCALL:
			if (ERR_peek_error() == 0) {
				rc = mca_diag(d, MCA_ERR_IO, "%s: no TLS "
				    "answer (the connection %s)", hostport,
				    errno != 0 ? strerror(errno) :
				    "was closed");
				goto out;
			}
			/* FALLTHROUGH */
		default:
			rc = mca_diag_crypto(d, MCA_ERR_IO, "%s: TLS handshake "
			    "failed", hostport);
			goto out;
		}
		do {
			n = poll(&pfd, 1, left_ms(deadline));
		} while (n == -1 && errno == EINTR);
		if (n <= 0) {
			rc = mca_diag(d, MCA_ERR_IO, "%s: no TLS answer within "
			    "%d ms", hostport, timeout_ms);
			goto out;
		}
	}

	/* The client side's chain has the server's certificate first. */
	chain = SSL_get_peer_cert_chain(ssl);
	rc = 0;
	for (i = 0; i < sk_X509_num(chain) && i < DISC_CHAIN_MAX; i++) {
		if ((len = i2d_X509(sk_X509_value(chain, i), &der)) <= 0 ||
		    mca_disc_fill(&c, sk_X509_value(chain, i), der,
		    (size_t)len, &sans) != 0) {
			rc = mca_diag_crypto(d, MCA_ERR_INVAL, "%s: "
			    "certificate %d of the chain: unreadable",
			    hostport, i);
			goto out;
		}
		c.location = hostport;
		c.index = i;
		memset(&r, 0, sizeof(r));
		r.event = MCA_DISC_CERT;
		r.path = hostport;
		r.c = &c;
		if ((e = cb(arg, &r)) != 0) {
			rc = e;
			goto out;
		}
		OPENSSL_free(der);
		der = NULL;
		rc++;
	}
out:
	OPENSSL_free(der);
	if (ssl != NULL && SSL_is_init_finished(ssl))
		(void)SSL_shutdown(ssl);	/* close_notify; not awaited */
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd != -1)
		(void)close(fd);
	if (res != NULL)
		freeaddrinfo(res);
	mca_buf_free(&sans);
	ERR_clear_error();
	nopipe_off(&np);
	return rc;
}
