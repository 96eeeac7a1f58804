/*
 * RFC 7030 4.2.1: /simpleenroll. A bootstrap certificate (mtls_ca_cert)
 * may enroll on any label; a certificate this CA issued may enroll again
 * on the label it was issued for (RFC 7030 3.3.2 allows a previously
 * issued certificate to authenticate).
 */
#include "config.h"

#include <string.h>

#include "server.h"

/*
 * Who may enroll a new key on this label: also used by /serverkeygen,
 * which RFC 7030 4.4.1 puts under the same rules as /simpleenroll.
 */
int
mca_authz_enroll(struct mca_server *srv, struct mca_request *req,
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
	return 0;
}

void
mca_op_simpleenroll(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	if (mca_authz_enroll(srv, req, resp) != 0)
		return;
	mca_enroll(srv, req, resp, MCA_ENROLL_NEW);
}
