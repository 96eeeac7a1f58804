/*
 * RFC 7030 4.2.1: /simpleenroll. A bootstrap certificate (mtls_ca_cert)
 * may enroll on any label; a certificate this CA issued may enroll again
 * on the label it was issued for (RFC 7030 3.3.2 allows a previously
 * issued certificate to authenticate).
 */
#include "config.h"

#include <string.h>

#include "server.h"

void
mca_op_simpleenroll(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	const struct mca_client	*c = &req->client;

	if (mca_auth_client(srv, req, resp) != 0)
		return;
	if (c->ours && !c->in_ledger) {
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "(serial %s) is not in this CA's ledger", c->serial);
		return;
	}
	if (c->ours && strcmp(c->found.label, req->profile->name) != 0) {
		(void)mca_resp_error(resp, 403, "the client certificate was "
		    "issued for label \"%s\", not \"%s\"", c->found.label,
		    req->profile->name);
		return;
	}
	mca_enroll(srv, req, resp, NULL);
}
