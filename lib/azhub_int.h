/*
 * What lib/azhub.c makes of IoT Hub's answers, apart from the calls that
 * fetch them: for tests/fuzz/fuzz_azhub.c, which feeds them hostile
 * answers without a network. Not for cgi/ or cron/: they go through
 * azhub.h.
 */
#ifndef MCA_AZHUB_INT_H
#define MCA_AZHUB_INT_H

#include <stddef.h>

#include <json-c/json.h>

#include "azhub.h"
#include "buf.h"
#include "err.h"

/*
 * Parses body as one JSON object, strictly (see avxjson.h), at most
 * MCA_AZHUB_BODY_MAX bytes. *root is NULL unless 0 is returned. Returns
 * 0, MCA_ERR_INVAL or MCA_ERR_NOMEM.
 */
int	 mca_azhub_parse(const struct mca_buf *body, struct json_object **root);

/*
 * What an identity o says: its etag (1 to MCA_AZHUB_ETAG_MAX - 1
 * printable ASCII bytes, no quote or backslash: it goes into If-Match as
 * it is), the authentication type and thumbprints (NULL when absent or
 * null; owned by o). where starts the message. Returns 0, or
 * MCA_ERR_INVAL with d set (not device devid's identity, a bad etag, a
 * thumbprint that is not 1-64 hex digits).
 */
int	 mca_azhub_identity(struct json_object *o, const char *devid,
	    const char *where, char etag[MCA_AZHUB_ETAG_MAX],
	    const char **type, const char **p, const char **s,
	    struct mca_diag *d);

/*
 * Copies what the hub said (in[0..inlen)) into out (len > 0) for a
 * message: printable ASCII only, runs of spaces as one, the token tok
 * (NULL: none; if it were ever echoed) as "***".
 */
void	 mca_azhub_said(char *out, size_t len, const char *in, size_t inlen,
	    const char *tok);

#endif
