/*
 * One request: route on REQUEST_URI (Apache and lighttpd split
 * SCRIPT_NAME and PATH_INFO differently; the URI is the same for both),
 * check the method, hand over to the operation, and account for the
 * outcome in the log and, for refused enrollments, in the ledger.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "request.h"
#include "server.h"

/* RFC 7030 3.2.2 / 4: which method each operation takes. */
static const char *const op_method[MCA_OP_MAX] = {
	"GET",		/* cacerts */
	"POST",		/* simpleenroll */
	"POST",		/* simplereenroll */
	"GET",		/* csrattrs */
	"POST",		/* serverkeygen */
	"POST",		/* fullcmc */
};

static int
is_enrollment(enum mca_op op)
{
	return op == MCA_OP_SIMPLEENROLL || op == MCA_OP_SIMPLEREENROLL ||
	    op == MCA_OP_SERVERKEYGEN;
}

/* Refused enrollments are evidence: the ledger keeps who tried what. */
static void
record_refusal(struct mca_server *srv, const struct mca_request *req,
    const struct mca_resp *resp)
{
	struct mca_ledger_refusal	 r;
	const struct mca_client		*c = &req->client;
	int				 rc;

	memset(&r, 0, sizeof(r));
	r.label = req->profile != NULL ? req->profile->name : req->label;
	r.operation = mca_op_name(req->op);
	r.req_subject = c->cert != NULL ? c->subject : NULL;
	r.req_serial = c->cert != NULL ? c->serial : NULL;
	r.req_issuer = c->cert != NULL ? c->issuer : NULL;
	r.remote_addr = req->remote_addr;
	r.status = resp->status;
	/* The ledger may hear more than the client (basicauth.c). */
	r.reason = req->audit[0] != '\0' ? req->audit : resp->reason;
	r.req_user = req->remote_user[0] != '\0' ? req->remote_user : NULL;
	r.passcode_id = req->passcode_id[0] != '\0' ? req->passcode_id : NULL;
	/* Never more than a moment: on failure, say why and go on. */
	if ((rc = mca_ledger_insert_refusal(srv->ledger, &r)) != 0)
		mca_log_err("ledger: cannot record a refusal: %s",
		    mca_ledger_errmsg(srv->ledger, rc));
}

static void
dispatch(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	const char	*want, *allow;

	req->uri = mca_req_env(req, "REQUEST_URI");
	req->method = mca_req_env(req, "REQUEST_METHOD");
	if (req->uri == NULL || mca_http_route(req->uri, req->label,
	    sizeof(req->label), &req->op) != 0) {
		(void)mca_resp_error(resp, 404, "not an EST resource");
		return;
	}
	if ((req->profile = mca_cfg_profile(srv->cfg, req->label)) == NULL) {
		(void)mca_resp_error(resp, 404, "unknown EST label \"%s\"",
		    req->label);
		return;
	}
	req->profile_idx = (size_t)(req->profile - srv->cfg->profiles);
	want = op_method[req->op];
	/* RFC 9110 9.3.2: HEAD wherever GET is; mca_serve drops the body. */
	allow = strcmp(want, "GET") == 0 ? "GET, HEAD" : want;
	if (req->method == NULL || (strcmp(req->method, want) != 0 &&
	    (allow == want || strcmp(req->method, "HEAD") != 0))) {
		(void)mca_resp_error(resp, 405, "%s takes %s only",
		    mca_op_name(req->op), allow);
		(void)mca_resp_header(resp, "Allow", allow);
		return;
	}
	switch (req->op) {
	case MCA_OP_CACERTS:
		mca_op_cacerts(srv, req, resp);
		break;
	case MCA_OP_CSRATTRS:
		mca_op_csrattrs(srv, req, resp);
		break;
	case MCA_OP_SIMPLEENROLL:
		mca_op_simpleenroll(srv, req, resp);
		break;
	case MCA_OP_SIMPLEREENROLL:
		mca_op_simplereenroll(srv, req, resp);
		break;
	case MCA_OP_SERVERKEYGEN:
		mca_op_serverkeygen(srv, req, resp);
		break;
	case MCA_OP_FULLCMC:
	default:
		/* RFC 7030 4.3: full CMC is optional; we do not offer it. */
		(void)mca_resp_error(resp, 501, "fullcmc is not implemented");
		break;
	}
}

void
mca_serve(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	const struct mca_client	*c = &req->client;
	const char		*who;
	char			 pc[MCA_PASSCODE_ID_LEN + 16];

	/* A new intermediate from microca-renew, at most once a second. */
	mca_server_refresh(srv);
	req->remote_addr = mca_req_remote_addr(req);
	dispatch(srv, req, resp);
	if (resp->status == 0)
		(void)mca_resp_error(resp, 500, "internal error");
	/* RFC 9110 9.3.2: an answer to HEAD, whatever it is, has no content. */
	resp->head = req->method != NULL && strcmp(req->method, "HEAD") == 0;
	if (c->cert != NULL)
		who = c->subject;
	else if (req->passcode_id[0] != '\0') {
		(void)snprintf(pc, sizeof(pc), "passcode %s", req->passcode_id);
		who = pc;
	} else if (req->remote_user[0] != '\0')
		who = req->remote_user;
	else
		who = "(no client certificate)";
	if (resp->status < 400) {
		if (req->issued_serial[0] != '\0')
			mca_log_info("%s label=%s serial=%s client=\"%s\" "
			    "from=%s", mca_op_name(req->op), req->profile->name,
			    req->issued_serial, who, req->remote_addr ?
			    req->remote_addr : "-");
		else
			mca_log_debug("%s label=%s from=%s: %d",
			    mca_op_name(req->op), req->profile->name,
			    req->remote_addr ? req->remote_addr : "-",
			    resp->status);
		return;
	}
	mca_log_warn("refused %s %s client=\"%s\" from=%s: %d %s",
	    req->method ? req->method : "-", req->uri ? req->uri : "-", who,
	    req->remote_addr ? req->remote_addr : "-", resp->status,
	    req->audit[0] != '\0' ? req->audit : resp->reason);
	if (req->profile != NULL && is_enrollment(req->op))
		record_refusal(srv, req, resp);
}
