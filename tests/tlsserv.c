/* A small HTTPS server side for tests. See tlsserv.h. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "num.h"
#include "testutil.h"
#include "tlsserv.h"

int
ts_listen(unsigned *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	int			 s;

	ck_assert_int_ge(s = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(s, 16), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sin, &slen), 0);
	*port = ntohs(sin.sin_port);
	return s;
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
