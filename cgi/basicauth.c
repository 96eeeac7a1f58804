/*
 * Enrollment without a client certificate, on labels whose auth_methods
 * allow it: an enrollment passcode sent over HTTP Basic (RFC 7617), as
 * DigiCert's EST service takes them, or HTTP Basic done by the web
 * server itself (REMOTE_USER). RFC 7030 3.2.3 allows HTTP-based client
 * authentication; the web server must still terminate TLS (RFC 7030 3.3).
 *
 * Every refusal is a 401 with WWW-Authenticate: Basic realm="<label>",
 * but for a client over its failure budget (below): 429. The client
 * hears "wrong enrollment passcode" for both an unknown ID and a wrong
 * secret; the ledger's refusal row says which (req->audit). Once the
 * secret is right, the client is told why the passcode no longer works.
 * The secret is never logged, recorded or echoed.
 *
 * Failure budgets. A wrong secret costs one scrypt hash (about 8 ms of a
 * core): a flood of them kept the workers hashing and slowed real
 * enrollments fourfold. So the work an unauthenticated client can cause
 * is bounded, for all workers at once, through the ledger:
 *  - an unknown ID costs no hash at all (the ID is public and names the
 *    one row to check: there is nothing to compare the secret with; the
 *    answer's timing tells that an ID exists, which its holders are not
 *    asked to keep secret, and nothing of a secret of 130 bits);
 *  - after passcode_failures_max wrong secrets on one passcode within
 *    passcode_failure_window_seconds, it is refused unchecked until the
 *    window ends: 429 Too Many Requests with Retry-After (RFC 6585 4,
 *    RFC 9110 10.2.3), for its rightful holder too, who retries later;
 *  - after passcode_address_failures_max failures of either kind from
 *    one client address (an IPv6 address by its /64), every passcode
 *    from there is refused the same way.
 * Only checked failures are counted, one small write each; a refusal by
 * budget writes no count, so a flood adds at most the budgets' worth of
 * writes per window, however fast it comes.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "log.h"
#include "request.h"
#include "server.h"
#include "text.h"

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

/* 429 with Retry-After: wait seconds; returns MCA_ERR_AUTH. */
static int
too_many(struct mca_resp *resp, long long wait, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
too_many(struct mca_resp *resp, long long wait, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[sizeof(resp->reason)], v[32];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)mca_resp_error(resp, 429, "%s; try again in %lld s", msg, wait);
	(void)snprintf(v, sizeof(v), "%lld", wait);
	(void)mca_resp_header(resp, "Retry-After", v);
	return MCA_ERR_AUTH;
}

/* Counts a checked failure on id (NULL: none) and addr (NULL: none). */
static void
count_failure(struct mca_server *srv, const char *id, const char *addr,
    long long now)
{
	int	 rc;

	if (id == NULL && addr == NULL)
		return;
	/* Not counted is not refused: the answer is a 401 all the same. */
	if ((rc = mca_ledger_failures_add(srv->ledger, id, addr, now,
	    srv->cfg->passcode_failure_window)) != 0)
		mca_log_err("ledger: passcode %s from %s: cannot count the "
		    "failure: %s", id != NULL ? id : "-",
		    addr != NULL ? addr : "-", mca_strerror(rc));
}

int
mca_auth_passcode(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	struct mca_ledger_passcode	 row;
	struct mca_ledger_failures	 fid, faddr;
	struct mca_basic		 b;
	struct mca_passcode		 pc;
	struct mca_diag			 d;
	const struct mca_cfg		*cfg = srv->cfg;
	const char			*label = req->profile->name;
	const char			*addr = NULL, *cid = NULL;
	char				 akey[MCA_PASSCODE_ADDR_MAX];
	long long			 now, wait;
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

	/* The budgets, before any work worth bounding. */
	now = (long long)time(NULL);
	if (cfg->passcode_address_failures_max > 0 &&
	    req->remote_addr != NULL && mca_passcode_addr_key(req->remote_addr,
	    akey, sizeof(akey)) == 0)
		addr = akey;
	if (cfg->passcode_failures_max > 0)
		cid = pc.id;
	if ((rc = mca_ledger_failures_get(srv->ledger, cid, addr, &fid,
	    &faddr)) != 0) {
		mca_log_err("ledger: passcode %s: failure budget lookup "
		    "failed: %s", pc.id, mca_strerror(rc));
		(void)mca_resp_error(resp, 500, "ledger lookup failed");
		goto out;
	}
	if ((wait = mca_passcode_wait(faddr.count, faddr.since,
	    cfg->passcode_address_failures_max, cfg->passcode_failure_window,
	    now)) > 0) {
		(void)snprintf(req->audit, sizeof(req->audit), "enrollment "
		    "passcode %s: not checked: %lld failures from %s within "
		    "%d s", pc.id, faddr.count, addr,
		    cfg->passcode_failure_window);
		rc = too_many(resp, wait, "too many failed enrollment "
		    "passcodes from %s", addr);
		goto out;
	}

	/* One row by its public ID: the slow hash runs once per request. */
	rc = mca_ledger_passcode_get(srv->ledger, pc.id, &row);
	if (rc == MCA_ERR_NOTFOUND) {
		/* Nothing to compare with: no hash (see above). */
		(void)snprintf(req->audit, sizeof(req->audit), "enrollment "
		    "passcode %s: unknown ID", pc.id);
		count_failure(srv, NULL, addr, now);
		rc = unauthorized(req, resp, WRONG);
		goto out;
	}
	if (rc != 0) {
		mca_log_err("ledger: passcode %s: lookup failed: %s", pc.id,
		    mca_ledger_errmsg(srv->ledger, rc));
		(void)mca_resp_error(resp, 500, "ledger lookup failed");
		goto out;
	}
	if ((wait = mca_passcode_wait(fid.count, fid.since,
	    cfg->passcode_failures_max, cfg->passcode_failure_window,
	    now)) > 0) {
		(void)snprintf(req->audit, sizeof(req->audit), "enrollment "
		    "passcode %s: not checked: %lld wrong secrets within "
		    "%d s", pc.id, fid.count, cfg->passcode_failure_window);
		rc = too_many(resp, wait, "too many wrong secrets for "
		    "enrollment passcode %s", pc.id);
		goto out;
	}
	rc = mca_passcode_verify(pc.secret, row.hash);
	if (rc == MCA_ERR_AUTH) {
		(void)snprintf(req->audit, sizeof(req->audit), "enrollment "
		    "passcode %s: wrong secret", pc.id);
		count_failure(srv, cid, addr, now);
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
