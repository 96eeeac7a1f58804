#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "err.h"

void
mca_buf_init(struct mca_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

int
mca_buf_reserve(struct mca_buf *b, size_t extra)
{
	size_t		 need, ncap;
	unsigned char	*p;

	if (extra > MCA_BUF_MAX || b->len > MCA_BUF_MAX - extra)
		return MCA_ERR_TOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	/* need is at most MCA_BUF_MAX + 1: do not round past it. */
	if (ncap > MCA_BUF_MAX + 1)
		ncap = MCA_BUF_MAX + 1;
	if ((p = realloc(b->data, ncap)) == NULL)
		return MCA_ERR_NOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
mca_buf_add(struct mca_buf *b, const void *p, size_t n)
{
	int	 rc;

	if ((rc = mca_buf_reserve(b, n)) != 0)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
mca_buf_addstr(struct mca_buf *b, const char *s)
{
	return mca_buf_add(b, s, strlen(s));
}

int
mca_buf_addc(struct mca_buf *b, unsigned char c)
{
	return mca_buf_add(b, &c, 1);
}

int
mca_buf_printf(struct mca_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MCA_ERR_INTERNAL;
	if ((rc = mca_buf_reserve(b, (size_t)n)) != 0)
		return rc;
	va_start(ap, fmt);
	(void)vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
mca_buf_reset(struct mca_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
mca_buf_free(struct mca_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	mca_buf_init(b);
}

void
mca_buf_free_secret(struct mca_buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	mca_buf_free(b);
}

const char *
mca_buf_str(const struct mca_buf *b)
{
	return b->data != NULL ? (const char *)b->data : "";
}
