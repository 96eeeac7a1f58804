/*
 * RFC 7030 4.2.1: /simpleenroll. A bootstrap certificate (mtls_ca_cert,
 * or the label's own) may enroll on any label; a certificate this CA
 * issued may enroll again on the label it was issued for (RFC 7030 3.3.2
 * allows a previously issued certificate to authenticate), for its own
 * identity only (enroll.c) unless the label's ra_subject_patterns make
 * it a registration authority; a certificate that was renewed enrolls
 * no more. Labels may also take passcodes or the web server's login
 * (auth_methods).
 */
#include "config.h"

#include <string.h>

#include "request.h"
#include "csr.h"
#include "server.h"

/* auth_methods "certificate": a bootstrap certificate, or one of ours. */
static int
authz_certificate(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	const struct mca_client	*c = &req->client;
	int			 rc;

	if ((rc = mca_auth_client(srv, req, resp)) != 0)
		return rc;
	if (c->ours && !c->in_ledger) {
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "(serial %s) is not in this CA's ledger", c->serial);
		return MCA_ERR_AUTH;
	}
	if (c->ours && strcmp(c->found.label, req->profile->name) != 0) {
		(void)mca_resp_error(resp, 403, "the client certificate was "
		    "issued for label \"%s\", not \"%s\"", c->found.label,
		    req->profile->name);
		return MCA_ERR_AUTH;
	}
	/*
	 * Revoked, or on hold: it obtains nothing (RFC 5280 5.3.1). The
	 * ledger's trigger certificates_revoked refuses the row too, should
	 * a revocation commit while this request is served.
	 */
	if (c->ours && c->found.revoked[0] != '\0') {
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "(serial %s) is revoked (%s): it enrolls no more",
		    c->serial, c->found.revoked);
		return MCA_ERR_AUTH;
	}
	/* Replaced: a copy of it must not keep working (simplereenroll.c). */
	if (c->ours && (c->found.replaced_by[0] != '\0' ||
	    c->found.superseded_by[0] != '\0')) {
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "(serial %s) was replaced by serial %s: it enrolls no "
		    "more", c->serial, c->found.superseded_by[0] != '\0' ?
		    c->found.superseded_by : c->found.replaced_by);
		return MCA_ERR_AUTH;
	}
	/* RFC 7030 3.3.2: an RA may enroll for others; a device may not. */
	req->ra = c->ours && mca_csr_is_ra(X509_get_subject_name(c->cert),
	    req->profile);
	req->authn = MCA_AUTHN_CERTIFICATE;
	return 0;
}

/*
 * Who may enroll a new key on this label: also used by /serverkeygen,
 * which RFC 7030 4.4.1 puts under the same rules as /simpleenroll. The
 * label's auth_methods say which credentials count, tried in this order:
 * a client certificate, when one is presented, decides alone; then the
 * web server's own Basic login (REMOTE_USER); then a passcode in
 * Authorization. A label that takes certificates only answers as it
 * always did.
 */
int
mca_authz_enroll(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	unsigned	 m = req->profile->auth_methods;

	if ((m & MCA_AUTH_CERTIFICATE) &&
	    (m == MCA_AUTH_CERTIFICATE || mca_req_has_cert(req)))
		return authz_certificate(srv, req, resp);
	if ((m & MCA_AUTH_REMOTE_USER) && mca_req_has_remote_user(req))
		return mca_auth_remote_user(srv, req, resp);
	if ((m & MCA_AUTH_PASSCODE) && mca_req_has_authorization(req))
		return mca_auth_passcode(srv, req, resp);
	return mca_auth_none(srv, req, resp);
}

void
mca_op_simpleenroll(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	if (mca_authz_enroll(srv, req, resp) != 0)
		return;
	mca_enroll(srv, req, resp, MCA_ENROLL_NEW);
}
