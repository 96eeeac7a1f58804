/*
 * The client side of EST (RFC 7030, RFC 8951): what microca asks of an
 * upstream EST server for its own certificates. Over lib/httpc.c.
 */
#ifndef MCA_ESTC_H
#define MCA_ESTC_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "err.h"
#include "httpc.h"

/* The longest URL we build. */
#define MCA_ESTC_URL_MAX	512
/* A host name: RFC 1035 2.3.4 (253 characters in text). */
#define MCA_ESTC_HOST_MAX	253
/* No wait from Retry-After is longer than this (seconds). */
#define MCA_ESTC_RETRY_MAX	2147483647L

/*
 * An upstream EST server and how we talk to it.
 *  host	DNS name or IPv4 address, or an IPv6 address in brackets
 *  port	0 is 443
 *  label	NULL or "": no label segment (RFC 7030 3.2.2)
 *  tls		whom we trust, who we are (httpc.h); cafile NULL is the
 *		system store
 *  user, pass	HTTP Basic credentials (RFC 7030 3.2.3), both or neither
 *  address	NULL, or the address to connect to instead of asking DNS
 *		for host (the certificate must still name host)
 *  timeouts	seconds; 0 takes httpc's defaults
 */
struct mca_estc {
	const char		*host;
	unsigned		 port;
	const char		*label;
	struct mca_httpc_tls	 tls;
	const char		*user;
	const char		*pass;
	const char		*address;
	long			 connect_timeout;
	long			 timeout;
};

/*
 * Writes "https://<host>:<port>/.well-known/est/[<label>/]<op>" into url
 * (len at least MCA_ESTC_URL_MAX). The host must be letters, digits,
 * '-' and '.' (not starting with '-' or '.'), or hex digits, ':' and '.'
 * inside brackets; the label 1 to 64 of [A-Za-z0-9._-], not starting with
 * '.', not an operation name; op an RFC 7030 operation name. Nothing
 * that could end or change the path ('/', '?', '#', '@', whitespace,
 * control characters) gets in. Returns 0 or MCA_ERR_INVAL with d naming
 * what is wrong.
 */
int	 mca_estc_url(const struct mca_estc *e, const char *op, char *url,
	    size_t len, struct mca_diag *d);

/*
 * GET /cacerts (RFC 7030 4.1): the certificates the server sends, in its
 * order, into a new stack *certs. Not verified here: trusting them is the
 * caller's decision (RFC 7030 4.1.3). Returns 0, or a negative MCA_ERR_*
 * with one line in d: those of mca_httpc_do(), and for the answer
 * MCA_ERR_AUTH (401, 403), MCA_ERR_NOTFOUND (404: no such label),
 * MCA_ERR_IO (any other status but 200), MCA_ERR_INVAL (not
 * application/pkcs7-mime, or not a certs-only PKCS#7).
 */
int	 mca_estc_cacerts(const struct mca_estc *e, STACK_OF(X509) **certs,
	    struct mca_diag *d);

enum mca_estc_state {
	MCA_ESTC_ISSUED,	/* cert (and chain) set */
	MCA_ESTC_PENDING,	/* 202: ask again after retry_after seconds */
	MCA_ESTC_STATE_MAX
};

struct mca_estc_result {
	enum mca_estc_state	 state;
	X509			*cert;	/* the certificate for the CSR's key */
	STACK_OF(X509)		*chain;	/* what else was sent (maybe none) */
	long			 retry_after;	/* PENDING only */
};

/*
 * POST /simpleenroll, or /simplereenroll when reenroll is set (RFC 7030
 * 4.2.1, 4.2.2): csr as base64 of its DER, Content-Type
 * application/pkcs10. A 200 answer is decoded as a certs-only PKCS#7
 * (mca_est_decode_certs(): RFC 8951's tolerance); the certificate whose
 * public key is the CSR's becomes res->cert, the others res->chain. A 202
 * (RFC 7030 4.2.3) is res->state MCA_ESTC_PENDING with the Retry-After
 * wait in res->retry_after: the caller waits within its own bound, or
 * keeps the key and CSR for a later run. The result is cleared on entry;
 * free it with mca_estc_result_free(). Returns 0 (ISSUED or PENDING), or
 * as mca_estc_cacerts(), and MCA_ERR_POLICY when no certificate sent is
 * for the CSR's key, MCA_ERR_INVAL for a 202 without a valid Retry-After,
 * MCA_ERR_TOOBIG for a wait over MCA_ESTC_RETRY_MAX.
 */
int	 mca_estc_enroll(const struct mca_estc *e, int reenroll,
	    X509_REQ *csr, struct mca_estc_result *res, struct mca_diag *d);

/* Frees what res holds (NULL-safe) and clears it. */
void	 mca_estc_result_free(struct mca_estc_result *res);

/*
 * Parses a Retry-After value (RFC 9110 10.2.3): delta-seconds, or an
 * HTTP-date in any of the three forms a recipient must accept (RFC 9110
 * 5.6.7: IMF-fixdate, RFC 850, asctime), turned into seconds from now (0
 * when it is past). Returns 0 with *secs set, MCA_ERR_INVAL (empty,
 * neither form, a date that does not exist) or MCA_ERR_TOOBIG (over
 * MCA_ESTC_RETRY_MAX seconds).
 */
int	 mca_estc_retry_after(const char *value, time_t now, long *secs);

#endif
