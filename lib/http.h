/*
 * The server side of HTTP for EST, with no I/O: routing a REQUEST_URI,
 * judging request headers, and building responses that the program
 * writes out. The client side (requests to an upstream) is lib/httpc.c.
 */
#ifndef MCA_HTTP_H
#define MCA_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "cfg.h"
#include "estpath.h"	/* enum mca_op, mca_op_name(), MCA_LABEL_MAX */

/*
 * Routes a REQUEST_URI (RFC 7030 3.2.2): "/.well-known/est/<op>" or
 * "/.well-known/est/<label>/<op>", or the alias
 * "/est/<label>/.well-known/est/<op>" for clients that append the
 * well-known path to their URL; query string ignored. label gets the
 * label ("" when absent); it must be 1-64 of [A-Za-z0-9._-] and not
 * start with '.'. Returns 0, or MCA_ERR_NOTFOUND for anything else
 * (unknown operation, bad label, extra segments, percent escapes, a
 * label both in the alias and after the well-known path).
 */
int	 mca_http_route(const char *uri, char *label, size_t labellen,
	    enum mca_op *op);

/*
 * Parses CONTENT_LENGTH against cap. Returns 0 with *len set,
 * MCA_ERR_NOTFOUND (missing or empty), MCA_ERR_INVAL (not a number), or
 * MCA_ERR_TOOBIG (over cap).
 */
int	 mca_http_content_length(const char *value, size_t cap, size_t *len);

/*
 * 1 if a Content-Type value's media type is media (case-insensitive,
 * parameters after ';' ignored, surrounding spaces ignored), else 0.
 */
int	 mca_http_media_is(const char *ctype, const char *media);

/* Reason phrase for a status ("Not Found"); "Unknown" if we never send it. */
const char	*mca_http_reason(int status);

#define MCA_RESP_HDR_MAX	4

/* A response, built whole before anything is written. */
struct mca_resp {
	int		 status;
	const char	*ctype;		/* Content-Type; static string */
	const char	*cte;		/* Content-Transfer-Encoding or NULL */
	/* extra headers: name and value, copied in */
	char		 hname[MCA_RESP_HDR_MAX][32];
	char		 hval[MCA_RESP_HDR_MAX][256];
	size_t		 nhdr;
	struct mca_buf	 body;
	char		 reason[256];	/* error reason, also for logs/ledger */
	/* serverkeygen: a Content-Type made per response, and a secret body */
	char		 ctype_buf[128]; /* see mca_resp_ctype() */
	int		 secret;	/* body holds a private key: wiped */
	/* an answer to HEAD (RFC 9110 9.3.2): GET's headers, no content */
	int		 head;
};

void	 mca_resp_init(struct mca_resp *r);
/* Frees the body (wiping it first when r->secret is set). */
void	 mca_resp_free(struct mca_resp *r);

/*
 * Makes r an error: status, text/plain, body = one line (the formatted
 * reason, control characters turned into spaces, and "\n"); the reason
 * is also kept in r->reason. Headers already added stay; a secret body
 * is wiped first. Returns 0 or MCA_ERR_NOMEM.
 */
int	 mca_resp_error(struct mca_resp *r, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Adds a header (Allow, WWW-Authenticate, ...). Returns 0, MCA_ERR_TOOBIG
 * (no room) or MCA_ERR_INVAL (name not a token, control characters such
 * as CR/LF in the value, or a header that serialize writes itself).
 */
int	 mca_resp_header(struct mca_resp *r, const char *name,
	    const char *value);

/*
 * Sets a Content-Type that is not a static string (a multipart boundary,
 * RFC 2046 5.1.1): value is copied into r->ctype_buf and r->ctype points
 * there. Returns 0, MCA_ERR_TOOBIG, or MCA_ERR_INVAL (empty, or a control
 * character such as CR/LF).
 */
int	 mca_resp_ctype(struct mca_resp *r, const char *value);

/*
 * Appends the CGI/FastCGI form of r to out: "Status: 200 OK", the headers
 * with exactly these spellings (Content-Type, Content-Transfer-Encoding,
 * Content-Length, then extras), a blank line, and the body. Content-Length
 * is always set: to the length of the body, also when r->head leaves the
 * body out (RFC 9110 8.6: the length GET would have sent). Returns 0, MCA_ERR_NOMEM/TOOBIG, or MCA_ERR_INTERNAL for
 * a status outside 100-599 or a control character in ctype/cte.
 */
int	 mca_resp_serialize(const struct mca_resp *r, struct mca_buf *out);

#endif
