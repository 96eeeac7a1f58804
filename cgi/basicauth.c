/*
 * Enrollment without a client certificate, on labels whose auth_methods
 * allow it: an enrollment passcode sent over HTTP Basic (RFC 7617), as
 * DigiCert's EST service takes them, or HTTP Basic done by the web
 * server itself (REMOTE_USER). RFC 7030 3.2.3 allows HTTP-based client
 * authentication; the web server must still terminate TLS (RFC 7030 3.3).
 *
 * Every refusal is a 401 with WWW-Authenticate: Basic realm="<label>".
 * The client hears "wrong enrollment passcode" for both an unknown ID and
 * a wrong secret; the ledger's refusal row says which (req->audit). Once
 * the secret is right, the client is told why the passcode no longer
 * works. The secret is never logged, recorded or echoed.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "request.h"
#include "server.h"

#define WRONG	"wrong enrollment passcode"

int
mca_auth_challenge(const struct mca_request *req, struct mca_resp *resp)
{
	char	 v[MCA_LABEL_MAX + 32];

	/* Labels are [A-Za-z0-9._-]: nothing to quote (RFC 9110 5.6.4). */
	(void)snprintf(v, sizeof(v), "Basic realm=\"%s\"",
	    req->profile != NULL ? req->profile->name : "");
	return mca_resp_header(resp, "WWW-Authenticate", v);
}

/* 401 with the challenge; returns MCA_ERR_AUTH. */
static int
unauthorized(const struct mca_request *req, struct mca_resp *resp,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
unauthorized(const struct mca_request *req, struct mca_resp *resp,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[sizeof(resp->reason)];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)mca_resp_error(resp, 401, "%s", msg);
	(void)mca_auth_challenge(req, resp);
	return MCA_ERR_AUTH;
}

int
mca_auth_passcode(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	struct mca_ledger_passcode	 row;
	struct mca_basic		 b;
	struct mca_passcode		 pc;
	struct mca_diag			 d;
	const char			*label = req->profile->name;
	char				 junk[MCA_PASSCODE_HASH_MAX];
	int				 rc;

	memset(&pc, 0, sizeof(pc));
	if ((rc = mca_basic_parse(mca_req_env(req, "HTTP_AUTHORIZATION"), &b,
	    &d)) != 0) {
		rc = unauthorized(req, resp, "enrollment passcode: %s", d.msg);
		goto out;
	}
	if (mca_passcode_parse(b.has_user ? b.user : NULL, b.pass, &pc) !=
	    0) {
		rc = unauthorized(req, resp, "enrollment passcode: the Basic "
		    "credentials do not hold a passcode (ID.SECRET)");
		goto out;
	}
	(void)snprintf(req->passcode_id, sizeof(req->passcode_id), "%s",
	    pc.id);

	/* One row by its public ID: the slow hash runs once per request. */
	rc = mca_ledger_passcode_get(srv->ledger, pc.id, &row);
	if (rc == MCA_ERR_NOTFOUND) {
		/* The same work as a wrong secret, so timing tells nothing. */
		(void)mca_passcode_hash(pc.secret, MCA_PASSCODE_SCRYPT_LN,
		    MCA_PASSCODE_SCRYPT_R, MCA_PASSCODE_SCRYPT_P, junk,
		    sizeof(junk));
		(void)snprintf(req->audit, sizeof(req->audit), "enrollment "
		    "passcode %s: unknown ID", pc.id);
		rc = unauthorized(req, resp, WRONG);
		goto out;
	}
	if (rc != 0) {
		mca_log_err("ledger: passcode %s: lookup failed: %s", pc.id,
		    mca_strerror(rc));
		(void)mca_resp_error(resp, 500, "ledger lookup failed");
		goto out;
	}
	rc = mca_passcode_verify(pc.secret, row.hash);
	if (rc == MCA_ERR_AUTH) {
		(void)snprintf(req->audit, sizeof(req->audit), "enrollment "
		    "passcode %s: wrong secret", pc.id);
		rc = unauthorized(req, resp, WRONG);
		goto out;
	}
	if (rc != 0) {
		mca_log_err("ledger: passcode %s: stored hash is unusable: %s",
		    pc.id, mca_strerror(rc));
		(void)mca_resp_error(resp, 500, "the passcode cannot be "
		    "checked");
		goto out;
	}

	/* The holder of the secret may know why it no longer works. */
	if (strcmp(row.label, label) != 0)
		rc = unauthorized(req, resp, "enrollment passcode %s is for "
		    "label \"%s\", not \"%s\"", pc.id, row.label, label);
	else if (strcmp(row.state, "revoked") == 0)
		rc = unauthorized(req, resp, "enrollment passcode %s was "
		    "revoked at %s", pc.id, row.revoked_at);
	else if (strcmp(row.state, "used") == 0)
		rc = unauthorized(req, resp, "enrollment passcode %s is used "
		    "up (%lld use%s)", pc.id, row.uses_total,
		    row.uses_total == 1 ? "" : "s");
	else if (strcmp(row.state, "expired") == 0)
		rc = unauthorized(req, resp, "enrollment passcode %s expired "
		    "at %s", pc.id, row.expires_at);
	else if (strcmp(row.state, "active") != 0)
		rc = unauthorized(req, resp, "enrollment passcode %s is not "
		    "active", pc.id);
	else {
		/* The use is spent with the certificate (mca_enroll). */
		req->authn = MCA_AUTHN_PASSCODE;
		rc = 0;
	}
out:
	mca_basic_clear(&b);
	mca_passcode_clear(&pc);
	OPENSSL_cleanse(junk, sizeof(junk));
	return rc;
}

int
mca_auth_remote_user(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	int	 rc;

	(void)srv;
	rc = mca_req_remote_user(req, req->remote_user,
	    sizeof(req->remote_user) - 1);
	if (rc == MCA_ERR_NOTFOUND)
		return unauthorized(req, resp, "HTTP Basic authentication by "
		    "the web server is required");
	if (rc != 0)
		return unauthorized(req, resp, "REMOTE_USER is longer than %d "
		    "bytes or holds control characters", MCA_BASIC_FIELD_MAX);
	req->authn = MCA_AUTHN_REMOTE_USER;
	return 0;
}

int
mca_auth_none(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	static const struct {
		unsigned	 bit;
		const char	*what;
	} ways[] = {
		{ MCA_AUTH_CERTIFICATE, "a client certificate" },
		{ MCA_AUTH_PASSCODE, "an enrollment passcode (HTTP Basic)" },
		{ MCA_AUTH_REMOTE_USER, "an HTTP Basic login" },
	};
	unsigned	 m = req->profile->auth_methods;
	char		 msg[256];
	size_t		 i, o = 0;
	int		 n;

	(void)srv;
	msg[0] = '\0';
	for (i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		if (!(m & ways[i].bit))
			continue;
		n = snprintf(msg + o, sizeof(msg) - o, "%s%s",
		    o > 0 ? " or " : "", ways[i].what);
		if (n < 0 || (size_t)n >= sizeof(msg) - o)
			break;
		o += (size_t)n;
	}
	(void)mca_resp_error(resp, 401, "%s is required", msg);
	/* RFC 7235 3.1: a 401 names the schemes that would do. */
	if (m & (MCA_AUTH_PASSCODE | MCA_AUTH_REMOTE_USER))
		(void)mca_auth_challenge(req, resp);
	return MCA_ERR_AUTH;
}
