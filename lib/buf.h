/*
 * A growable byte buffer. Always NUL-terminated past len (so that text can
 * be handed to C string functions), with a hard upper bound on size.
 */
#ifndef MCA_BUF_H
#define MCA_BUF_H

#include <stddef.h>

/* No buffer grows past this: 16 MiB is far above any EST message. */
#define MCA_BUF_MAX	(16u * 1024u * 1024u)

struct mca_buf {
	unsigned char	*data;
	size_t		 len;
	size_t		 cap;
};

#define MCA_BUF_INIT	{ NULL, 0, 0 }

void	 mca_buf_init(struct mca_buf *b);
/* Ensures room for extra more bytes (plus the NUL). 0 or MCA_ERR_NOMEM/TOOBIG. */
int	 mca_buf_reserve(struct mca_buf *b, size_t extra);
/* Appends. 0 or MCA_ERR_NOMEM/TOOBIG. */
int	 mca_buf_add(struct mca_buf *b, const void *p, size_t n);
int	 mca_buf_addstr(struct mca_buf *b, const char *s);
int	 mca_buf_addc(struct mca_buf *b, unsigned char c);
int	 mca_buf_printf(struct mca_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Empties without freeing. */
void	 mca_buf_reset(struct mca_buf *b);
/* Frees (NULL-safe) and re-initialises. */
void	 mca_buf_free(struct mca_buf *b);
/* Wipes the whole allocation, then frees: for keys and PINs. */
void	 mca_buf_free_secret(struct mca_buf *b);
/* Returns the data as a C string ("" when empty). */
const char *mca_buf_str(const struct mca_buf *b);

#endif
