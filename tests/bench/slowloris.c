/*
 * microca-slowloris: slow HTTPS clients against a web server on this
 * machine, to show that it keeps answering others (make stress, and
 * tests/bench/slowloris.test at a small scale). Built by "make check";
 * never installed.
 *
 *   microca-slowloris --url https://127.0.0.1:PORT[/PATH]
 *       [--connections N] [--interval S] [--seconds T] [--rate R]
 *       [--source ADDR] [--once]
 *
 * Opens N connections (default 100, at most 5000), R new ones per second
 * at most (default 500), each with a full TLS handshake; then sends
 * "GET PATH HTTP/1.1" and a Host line, and after that one more header
 * line every S seconds (default 5), never the blank line that ends the
 * request: the server holds the connection open, waiting. A connection
 * the server closes (or answers, e.g. 408) is counted and opened again,
 * so that N stay open, unless --once. --source: the loopback address to
 * connect from (default: the kernel's choice, 127.0.0.1), so that a test
 * can tell the slow clients from the measured ones by address.
 *
 * Bounded: it stops by itself after T seconds (default 30, at most 600)
 * and closes every connection. Only loopback is accepted (127.0.0.1,
 * [::1], localhost; --source 127.0.0.0/8 or ::1). The descriptor limit
 * (RLIMIT_NOFILE) is raised to N + 64 within the hard limit, or it stops
 * before it starts. It never verifies the server (it sends nothing
 * worth protecting).
 *
 * Output: one line of key=value pairs on stdout:
 *   connections, seconds, opened (TCP connects that completed),
 *   handshakes (TLS handshakes that completed), connect_failed,
 *   handshake_failed (closed or refused before the handshake ended),
 *   closed (by the server after the handshake, with nothing sent),
 *   answered (the server sent a response, e.g. 400 or 408, and closed),
 *   lines (header lines sent), max_open (most connections open at
 *   once), dribbling_end (handshaken and waiting at the end), pending_end
 *   (still connecting or handshaking at the end), life_p50_s and
 *   life_max_s (how long the connections the server ended had lived
 *   after their handshake).
 * Exit status: 0 after a run, 2 for a usage or setup error.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mono.h"
#include "num.h"

#define PROG		"microca-slowloris"
#define CONN_MAX	5000
#define SECONDS_MAX	600
#define EX_USAGE	2
#define DEF_PATH	"/.well-known/est/cacerts"

enum state {
	ST_FREE,	/* not open */
	ST_CONNECT,	/* TCP connect under way */
	ST_HANDSHAKE,	/* TLS handshake under way */
	ST_DRIBBLE,	/* request begun, one line every interval */
};

struct conn {
	enum state	 st;
	int		 fd;
	SSL		*ssl;
	double		 since;		/* handshake end */
	double		 next;		/* next line due */
	int		 nlines;
	char		 pending[96];	/* a line to (re)send */
	int		 npending;
};

struct stats {
	unsigned long long opened, handshakes, connect_failed;
	unsigned long long handshake_failed, closed, answered, lines;
	long		 open, max_open;
	double		*life;		/* lifetimes of the ended */
	size_t		 nlife, caplife;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " --url https://127.0.0.1:PORT[/PATH] "
	    "[--connections N] [--interval S]\n"
	    "\t[--seconds T] [--rate R] [--source ADDR] [--once]\n");
	exit(EX_USAGE);
}

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(EX_USAGE);
}

static long long
num_opt(const char *name, const char *s, long long lo, long long hi)
{
	long long	 v;

	if (mca_num_parse(s, strlen(s), lo, hi, &v) != 0)
		die("--%s %s: expected a number from %lld to %lld", name, s,
		    lo, hi);
	return v;
}

/* A loopback address only; its port is set from port (0: none). */
static void
loopback(const char *what, const char *h, size_t hl, int port,
    struct sockaddr_storage *ss, socklen_t *sslen, char *host,
    size_t hostlen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 buf[64];

	memset(ss, 0, sizeof(*ss));
	if (hl >= sizeof(buf))
		die("%s: host too long", what);
	memcpy(buf, h, hl);
	buf[hl] = '\0';
	if (strcasecmp(buf, "localhost") == 0)
		(void)snprintf(buf, sizeof(buf), "127.0.0.1");
	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1 &&
	    (ntohl(sin->sin_addr.s_addr) >> 24) == 127) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*sin6);
	} else
		die("%s: \"%s\" is not loopback (127.0.0.0/8, ::1, "
		    "localhost)", what, buf);
	if (host != NULL)
		(void)snprintf(host, hostlen, "%s", buf);
}

/* --url https://HOST[:PORT][/PATH] into the address, Host line and path. */
static void
url_parse(const char *url, struct sockaddr_storage *ss, socklen_t *sslen,
    char *hosthdr, size_t hhlen, char *path, size_t pathlen)
{
	const char	*h, *he, *p, *ps;
	char		 host[64];
	long long	 port = 443;
	size_t		 i;

	if (strncasecmp(url, "https://", 8) != 0)
		die("--url %s: expected https://HOST:PORT[/PATH]", url);
	h = url + 8;
	if (*h == '[') {
		if ((he = strchr(h, ']')) == NULL)
			die("--url %s: no ']' after the address", url);
		h++;
		p = he + 1;
	} else {
		he = h + strcspn(h, ":/");
		p = he;
	}
	if (*p == ':') {
		ps = p + 1;
		p = ps + strcspn(ps, "/");
		if (mca_num_parse(ps, (size_t)(p - ps), 1, 65535, &port) != 0)
			die("--url %s: bad port", url);
	} else if (*p != '/' && *p != '\0')
		die("--url %s: expected ':' or '/' after the host", url);
	loopback("--url", h, (size_t)(he - h), (int)port, ss, sslen, host,
	    sizeof(host));
	if (*p == '\0')
		p = DEF_PATH;
	for (i = 0; p[i] != '\0'; i++)
		if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f)
			die("--url %s: spaces or controls in the path", url);
	if (strlen(p) >= pathlen)
		die("--url %s: path too long", url);
	(void)snprintf(path, pathlen, "%s", p);
	(void)snprintf(hosthdr, hhlen, ss->ss_family == AF_INET6 ?
	    "[%s]:%lld" : "%s:%lld", host, port);
}

static void
life_add(struct stats *st, double secs)
{
	double	*n;

	if (st->nlife == st->caplife) {
		st->caplife = st->caplife ? st->caplife * 2 : 1024;
		if ((n = realloc(st->life, st->caplife * sizeof(*n))) == NULL)
			die("out of memory");
		st->life = n;
	}
	st->life[st->nlife++] = secs;
}

static void
conn_close(struct conn *c, struct stats *st)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd != -1)
		(void)close(c->fd);
	if (c->st != ST_FREE)
		st->open--;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->st = ST_FREE;
}

/* Starts a non-blocking connect. 0, or -1 if the socket failed now. */
static int
conn_open(struct conn *c, struct stats *st, SSL_CTX *ctx,
    const struct sockaddr_storage *ss, socklen_t sslen,
    const struct sockaddr_storage *src, socklen_t srclen)
{
	int	 one = 1;

	c->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return -1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (srclen > 0 && bind(c->fd, (const struct sockaddr *)src,
	    srclen) == -1) {
		(void)close(c->fd);
		c->fd = -1;
		return -1;
	}
	if ((c->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		(void)close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->st = ST_CONNECT;
	st->open++;
	if (st->open > st->max_open)
		st->max_open = st->open;
	if (connect(c->fd, (const struct sockaddr *)ss, sslen) == 0 ||
	    errno == EINPROGRESS)
		return 0;
	return -1;
}

/* Sends c's pending line: 1 done, 0 try later, -1 the connection failed. */
static int
conn_flush(struct conn *c)
{
	int	 n;

	if (c->npending == 0)
		return 1;
	ERR_clear_error();
	n = SSL_write(c->ssl, c->pending, c->npending);
	if (n > 0) {
		c->npending = 0;
		return 1;
	}
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		return -1;
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "connections", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "source", required_argument, NULL, 'S' },
		{ "once", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct sockaddr_storage	 ss, src;
	socklen_t		 sslen = 0, srclen = 0;
	struct stats		 st;
	struct conn		*cs = NULL;
	struct pollfd		*pfd = NULL;
	struct rlimit		 rl;
	struct sigaction	 sa;
	SSL_CTX			*ctx = NULL;
	const char		*url = NULL;
	char			 hosthdr[96], path[256];
	long long		 nconn = 100, interval = 5, seconds = 30;
	long long		 rate = 500;
	double			 t0, now, end, budget = 0, last;
	size_t			 i, dribbling = 0, pending = 0;
	int			 ch, once = 0, n, e, err;

	memset(&st, 0, sizeof(st));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 'n':
			nconn = num_opt("connections", optarg, 1, CONN_MAX);
			break;
		case 'i':
			interval = num_opt("interval", optarg, 1, 600);
			break;
		case 's':
			seconds = num_opt("seconds", optarg, 1, SECONDS_MAX);
			break;
		case 'r':
			rate = num_opt("rate", optarg, 1, 100000);
			break;
		case 'S':
			loopback("--source", optarg, strlen(optarg), 0, &src,
			    &srclen, NULL, 0);
			break;
		case 'o':
			once = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || url == NULL)
		usage();
	url_parse(url, &ss, &sslen, hosthdr, sizeof(hosthdr), path,
	    sizeof(path));
	if (srclen > 0 && src.ss_family != ss.ss_family)
		die("--source: not of the --url address's family");

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < (rlim_t)nconn + 64) {
		if (rl.rlim_max != RLIM_INFINITY &&
		    rl.rlim_max < (rlim_t)nconn + 64)
			die("--connections %lld: the descriptor limit is %llu "
			    "(ulimit -Hn); at most %llu", nconn,
			    (unsigned long long)rl.rlim_max,
			    (unsigned long long)rl.rlim_max - 64);
		rl.rlim_cur = (rlim_t)nconn + 64;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			die("setrlimit: %s", strerror(errno));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new failed");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* Thousands of idle connections: no buffers kept between reads. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if ((cs = calloc((size_t)nconn, sizeof(*cs))) == NULL ||
	    (pfd = calloc((size_t)nconn, sizeof(*pfd))) == NULL)
		die("out of memory");
	for (i = 0; i < (size_t)nconn; i++)
		cs[i].fd = -1;

	t0 = last = mono_now();
	end = t0 + (double)seconds;
	while (!stop && (now = mono_now()) < end) {
		/* New connections, rate per second at most. */
		budget += (now - last) * (double)rate;
		if (budget > (double)rate)
			budget = (double)rate;
		last = now;
		for (i = 0; i < (size_t)nconn && budget >= 1; i++) {
			if (cs[i].st != ST_FREE || (once && cs[i].nlines < 0))
				continue;
			budget -= 1;
			if (conn_open(&cs[i], &st, ctx, &ss, sslen, &src,
			    srclen) != 0) {
				st.connect_failed++;
				conn_close(&cs[i], &st);
				if (once)
					cs[i].nlines = -1;
			}
		}
		for (i = 0; i < (size_t)nconn; i++) {
			pfd[i].fd = -1;
			pfd[i].events = 0;
			pfd[i].revents = 0;
			if (cs[i].st == ST_FREE)
				continue;
			pfd[i].fd = cs[i].fd;
			pfd[i].events = cs[i].st == ST_CONNECT ? POLLOUT :
			    POLLIN;
			if (cs[i].npending > 0)
				pfd[i].events |= POLLOUT;
		}
		if (poll(pfd, (nfds_t)nconn, 100) == -1 && errno != EINTR)
			die("poll: %s", strerror(errno));
		now = mono_now();
		for (i = 0; i < (size_t)nconn; i++) {
			struct conn	*c = &cs[i];
			char		 buf[512];
			socklen_t	 elen = sizeof(e);
			int		 gone = 0;

			if (c->st == ST_FREE)
				continue;
			if (c->st == ST_CONNECT) {
				if (!(pfd[i].revents & (POLLOUT | POLLERR |
				    POLLHUP)))
					continue;
				if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e,
				    &elen) != 0 || e != 0) {
					st.connect_failed++;
					gone = 1;
				} else {
					st.opened++;
					c->st = ST_HANDSHAKE;
				}
			}
			if (!gone && c->st == ST_HANDSHAKE) {
				ERR_clear_error();
				n = SSL_connect(c->ssl);
				if (n == 1) {
					st.handshakes++;
					c->st = ST_DRIBBLE;
					c->since = now;
					c->next = now + (double)interval;
					c->npending = snprintf(c->pending,
					    sizeof(c->pending), "GET %s "
					    "HTTP/1.1\r\nHost: %s\r\n", path,
					    hosthdr);
					if (c->npending < 0 || (size_t)
					    c->npending >= sizeof(c->pending))
						die("--url: too long");
					c->nlines = 2;
				} else {
					err = SSL_get_error(c->ssl, n);
					if (err != SSL_ERROR_WANT_READ &&
					    err != SSL_ERROR_WANT_WRITE) {
						st.handshake_failed++;
						gone = 1;
					}
				}
			}
			if (!gone && c->st == ST_DRIBBLE &&
			    (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))) {
				/* Session tickets, or the server's end. */
				ERR_clear_error();
				n = SSL_read(c->ssl, buf, sizeof(buf));
				if (n > 0) {
					st.answered++;
					life_add(&st, now - c->since);
					gone = 1;
				} else {
					err = SSL_get_error(c->ssl, n);
					if (err != SSL_ERROR_WANT_READ &&
					    err != SSL_ERROR_WANT_WRITE) {
						st.closed++;
						life_add(&st, now - c->since);
						gone = 1;
					}
				}
			}
			if (!gone && c->st == ST_DRIBBLE) {
				if (c->npending == 0 && now >= c->next) {
					c->npending = snprintf(c->pending,
					    sizeof(c->pending), "X-Slow-%d: "
					    "%d\r\n", c->nlines, c->nlines);
					c->nlines++;
					c->next = now + (double)interval;
				}
				n = c->npending;
				switch (conn_flush(c)) {
				case 1:
					if (n > 0)
						st.lines++;
					break;
				case 0:
					break;
				default:
					st.closed++;
					life_add(&st, now - c->since);
					gone = 1;
					break;
				}
			}
			if (gone) {
				conn_close(c, &st);
				if (once)
					c->nlines = -1;
			}
		}
	}
	for (i = 0; i < (size_t)nconn; i++) {
		if (cs[i].st == ST_DRIBBLE)
			dribbling++;
		else if (cs[i].st != ST_FREE)
			pending++;
		conn_close(&cs[i], &st);
	}
	qsort(st.life, st.nlife, sizeof(double), cmp_double);
	printf("connections=%lld seconds=%.1f opened=%llu handshakes=%llu "
	    "connect_failed=%llu handshake_failed=%llu closed=%llu "
	    "answered=%llu lines=%llu max_open=%ld dribbling_end=%zu "
	    "pending_end=%zu life_p50_s=%.1f life_max_s=%.1f\n", nconn,
	    mono_now() - t0, st.opened, st.handshakes, st.connect_failed,
	    st.handshake_failed, st.closed, st.answered, st.lines, st.max_open,
	    dribbling, pending, st.nlife ? st.life[st.nlife / 2] : 0.0,
	    st.nlife ? st.life[st.nlife - 1] : 0.0);
	free(st.life);
	free(cs);
	free(pfd);
	SSL_CTX_free(ctx);
	return 0;
}
