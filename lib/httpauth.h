/*
 * HTTP Basic credentials (RFC 7617) as the web server hands them over in
 * HTTP_AUTHORIZATION (lighttpd always; Apache with CGIPassAuth On).
 * Untrusted input: capped before it is decoded, strict base64, no control
 * characters in what comes out.
 */
#ifndef MCA_HTTPAUTH_H
#define MCA_HTTPAUTH_H

#include <stddef.h>

#include "err.h"

/* The whole header value; a passcode needs a tenth of it. */
#define MCA_BASIC_HDR_MAX	1024
/* user-id and password, each, in bytes. */
#define MCA_BASIC_FIELD_MAX	256

struct mca_basic {
	char	 user[MCA_BASIC_FIELD_MAX + 1];	/* "" when has_user is 0 */
	char	 pass[MCA_BASIC_FIELD_MAX + 1];	/* secret: mca_basic_clear() */
	int	 has_user;	/* 0: no ':' in the credentials */
};

/*
 * Parses an Authorization header value: "Basic" (any case: RFC 9110
 * 11.1), one or more spaces, then the base64 of user-id ":" password
 * (RFC 7617 2), with optional spaces or tabs around the whole value.
 * The base64 must be canonical, padded, and unbroken (token68).
 *
 * RFC 7617 2 requires the colon, but DigiCert's EST guide shows clients
 * sending the base64 of the passcode alone; so credentials without a
 * colon are accepted with has_user 0, user "" and the whole decoded
 * value in pass. The first colon splits (RFC 7617 2: a user-id cannot
 * hold one). NUL and other control characters (RFC 7617 2) are refused;
 * other bytes are kept as they are (UTF-8 or not).
 *
 * Returns 0, MCA_ERR_NOTFOUND (value NULL, empty or blank), MCA_ERR_TOOBIG
 * (value or a field over its cap), MCA_ERR_INVAL (another scheme, bad
 * base64, control characters). d says what was wrong without quoting the
 * credentials. On error *out is cleared.
 */
int	 mca_basic_parse(const char *value, struct mca_basic *out,
	    struct mca_diag *d);

/* Wipes b (NULL-safe). */
void	 mca_basic_clear(struct mca_basic *b);

#endif
