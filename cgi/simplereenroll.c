/*
 * RFC 7030 4.2.2: /simplereenroll. Only a certificate this CA issued (its
 * serial is in the ledger) renews, on the label it was issued for. The
 * new certificate keeps the Subject and SubjectAltName of the presented
 * one; identity fields in the CSR are ignored. Same key (renew) and new
 * key (rekey) both work.
 */
#include "config.h"

#include <string.h>

#include "server.h"

void
mca_op_simplereenroll(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	const struct mca_client	*c = &req->client;

	if (mca_auth_client(srv, req, resp) != 0)
		return;
	if (!c->ours) {
		(void)mca_resp_error(resp, 403, "simplereenroll needs a "
		    "certificate issued by this CA");
		return;
	}
	if (!c->in_ledger) {
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "(serial %s) is not in this CA's ledger", c->serial);
		return;
	}
	if (strcmp(c->found.label, req->profile->name) != 0) {
		(void)mca_resp_error(resp, 403, "the client certificate was "
		    "issued for label \"%s\", not \"%s\"", c->found.label,
		    req->profile->name);
		return;
	}
	mca_enroll(srv, req, resp, MCA_ENROLL_RENEW);
}
