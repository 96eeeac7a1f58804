/* A small HTTPS server side for tests. See tlsserv.h. */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "num.h"
#include "testutil.h"
#include "tlsserv.h"

/*
 * Listens on 127.0.0.1:*port (0: a free one, written back); reuse sets
 * SO_REUSEADDR. Asserts.
 */
static int
ts_bind(unsigned *port, int reuse)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	int			 s, one = 1;

	ck_assert_int_ge(s = socket(AF_INET, SOCK_STREAM, 0), 0);
	if (reuse)
		ck_assert_int_eq(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)*port);
	ck_assert_msg(bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "bind 127.0.0.1:%u", *port);
	ck_assert_int_eq(listen(s, 16), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sin, &slen), 0);
	*port = ntohs(sin.sin_port);
	return s;
}

int
ts_listen(unsigned *port)
{
	*port = 0;
	return ts_bind(port, 0);
}

SSL_CTX *
ts_server_ctx(const char *certfile, const char *keyfile)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL *
ts_accept(int s, SSL_CTX *ctx, int *fd)
{
	SSL	*ssl = NULL;

	if ((*fd = accept(s, NULL, NULL)) < 0)
		return NULL;
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, *fd) != 1 ||
	    SSL_accept(ssl) != 1) {
		SSL_free(ssl);
		close(*fd);
		*fd = -1;
		return NULL;
	}
	return ssl;
}

long
ts_read_request(SSL *ssl, char *buf, size_t cap, size_t *body)
{
	const char	*h, *cl, *e;
	size_t		 got = 0, want = 0, hlen = 0;
	long long	 n;
	int		 r;

	if (cap < 2)
		return -1;
	buf[0] = '\0';
	for (;;) {
		if (hlen > 0 && got >= want)
			break;
		if (got >= cap - 1)
			return -1;
		if ((r = SSL_read(ssl, buf + got, (int)(cap - 1 - got))) <= 0)
			return -1;
		got += (size_t)r;
		buf[got] = '\0';
		if (hlen > 0 || (h = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		hlen = (size_t)(h + 4 - buf);
		want = hlen;
		if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL &&
		    cl < h) {
			cl += 17;
			while (*cl == ' ')
				cl++;
			e = cl + strcspn(cl, "\r");
			if (mca_num_parse(cl, (size_t)(e - cl), 0, (long long)cap,
			    &n) != 0)
				return -1;
			want += (size_t)n;
		}
	}
	if (body != NULL)
		*body = hlen;
	return (long)got;
}

int
ts_write(SSL *ssl, const void *p, size_t n)
{
	const char	*c = p;
	int		 r;

	while (n > 0) {
		if ((r = SSL_write(ssl, c, n > 65536 ? 65536 : (int)n)) <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

void
ts_close(SSL *ssl, int fd)
{
	if (ssl != NULL) {
		(void)SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
}

/* The child of ts_fork(): serves until killed or its life is over. */
static void
ts_child(struct ts_server *t, int s)
{
	SSL_CTX	*ctx;
	SSL	*ssl;
	char	 cert[1024], key[1024];
	int	 fd;

	alarm(t->life > 0 ? (unsigned)t->life : 600);
	/* A client that gave up before the answer must not end the mock. */
	(void)signal(SIGPIPE, SIG_IGN);
	if (t->certfile == NULL) {
		if (t->pki == NULL || (size_t)snprintf(cert, sizeof(cert),
		    "%s/server.pem", t->pki) >= sizeof(cert) ||
		    (size_t)snprintf(key, sizeof(key), "%s/server.key",
		    t->pki) >= sizeof(key))
			_exit(2);
		t->certfile = cert;
		t->keyfile = key;
	}
	if ((ctx = ts_server_ctx(t->certfile, t->keyfile)) == NULL ||
	    (t->tls12 && SSL_CTX_set_max_proto_version(ctx,
	    TLS1_2_VERSION) != 1))
		_exit(2);
	if (t->client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, t->client_ca,
		    NULL) != 1)
			_exit(2);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	if (t->init != NULL && t->init(t->arg) != 0)
		_exit(2);
	for (;;) {
		if ((ssl = ts_accept(s, ctx, &fd)) == NULL) {
			if (t->refused != NULL)
				t->refused(t->arg);
			continue;
		}
		/* kept open: neither freed nor closed before _exit() */
		if (t->serve(t->arg, ssl, fd) == 0)
			ts_close(ssl, fd);
	}
}

static void
ts_fork_child(void *arg, int s)
{
	ts_child(arg, s);
}

void
ts_fork(struct ts_server *t)
{
	/*
	 * Always SO_REUSEADDR: a later ts_fork() on the same port binds past
	 * this server's connections in TIME_WAIT only when their listener
	 * had it too.
	 */
	t->pid = ts_spawn(ts_bind(&t->port, 1), ts_fork_child, t);
}

void
ts_stop(struct ts_server *t)
{
	if (t != NULL)
		ts_reap(&t->pid);
}

pid_t
ts_spawn(int s, void (*child)(void *arg, int s), void *arg)
{
	sigset_t	 set, old;
	pid_t		 pid;

	/* No SIGTERM reaches the child before it has its own handling. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &set, &old), 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		(void)signal(SIGTERM, SIG_DFL);
		(void)signal(SIGINT, SIG_DFL);
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		child(arg, s);
		_exit(0);
	}
	ck_assert_int_eq(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	close(s);
	return pid;
}

void
ts_reap(pid_t *pid)
{
	int	 st;

	if (*pid <= 0)
		return;
	(void)kill(*pid, SIGTERM);
	(void)waitpid(*pid, &st, 0);
	*pid = 0;
}

int
ts_parse(char *buf, size_t len, size_t off, struct ts_req *r)
{
	char	*sp, *eol;

	memset(r, 0, sizeof(*r));
	if (off < 4 || off > len || (eol = strstr(buf, "\r\n")) == NULL ||
	    (size_t)(eol - buf) + 2 > off)
		return -1;
	*eol = '\0';
	r->method = buf;
	if ((sp = strchr(buf, ' ')) == NULL)
		return -1;
	*sp = '\0';
	r->target = sp + 1;
	if ((sp = strchr(r->target, ' ')) == NULL ||
	    strcmp(sp + 1, "HTTP/1.1") != 0)
		return -1;
	*sp = '\0';
	r->head = eol + 2;
	buf[off - 2] = '\0';
	r->body = buf + off;
	r->bodylen = len - off;
	return 0;
}

const char *
ts_header(const struct ts_req *r, const char *name, char *out, size_t len)
{
	const char	*p = r->head, *e, *v, *found = NULL;
	size_t		 n = strlen(name);

	while (p != NULL && *p != '\0') {
		if ((e = strstr(p, "\r\n")) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) > n && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			if (found != NULL)
				return NULL;
			for (v = p + n + 1; *v == ' ' || *v == '\t'; v++)
				;
			found = v;
			(void)snprintf(out, len, "%.*s", (int)(e - v), v);
		}
		p = *e != '\0' ? e + 2 : e;
	}
	return found != NULL ? out : NULL;
}

int
ts_respond(SSL *ssl, int status, const char *ctype, const void *body,
    size_t len)
{
	return ts_respond_with(ssl, status, ctype, NULL, body, len);
}

int
ts_respond_with(SSL *ssl, int status, const char *ctype, const char *extra,
    const void *body, size_t len)
{
	char	 head[512];
	int	 n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: %s"
	    "\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
	    status, ctype, len, extra != NULL ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(head) || ts_write(ssl, head,
	    (size_t)n) != 0)
		return -1;
	return len > 0 ? ts_write(ssl, body, len) : 0;
}
