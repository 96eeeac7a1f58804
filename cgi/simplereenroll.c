/*
 * RFC 7030 4.2.2: /simplereenroll. Only a certificate this CA issued (its
 * serial is in the ledger) renews, on the label it was issued for. The
 * new certificate keeps the Subject and SubjectAltName of the presented
 * one; identity fields in the CSR are ignored. Same key (renew) and new
 * key (rekey) both work.
 *
 * A certificate renews once: after that it is replaced, and a second
 * renewal with it is refused, so that a copy of an old certificate
 * stops working once the device has renewed. Only within the label's
 * reenroll_grace_seconds of the first renewal may it renew again (the
 * device lost the answer); the ledger then marks the earlier renewal
 * superseded (lib/ledger.h, mca_ledger_insert_renewal, which decides
 * again inside the transaction that records the new certificate).
 *
 * A revoked certificate renews never, not even on hold (RFC 5280 5.3.1:
 * a held certificate is not to be used until released): the same rule,
 * mca_ledger_may_renew(), decides early and again under the write lock,
 * which "microca-admin revoke" takes too, so that no renewal slips in
 * between a revocation's check and its commit.
 */
#include "config.h"

#include <string.h>

#include "server.h"

void
mca_renew_refused(const struct mca_request *req,
    const struct mca_ledger_found *f, struct mca_resp *resp)
{
	const struct mca_client	*c = &req->client;

	if (f->revoked[0] != '\0')
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "(serial %s) is revoked (%s): it renews no more",
		    c->serial, f->revoked);
	else if (f->superseded_by[0] != '\0')
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "(serial %s) was superseded by serial %s: it renews no "
		    "more", c->serial, f->superseded_by);
	else
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "(serial %s) was already renewed (serial %s at %s); "
		    "renew with that one (reenroll_grace_seconds %d on label "
		    "\"%s\")", c->serial, f->replaced_by, f->renewed_at,
		    req->profile->reenroll_grace, req->profile->name);
}

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
	/* Cheap and early; enroll.c asks again under the write lock. */
	if (!mca_ledger_may_renew(&c->found, req->profile->reenroll_grace)) {
		mca_renew_refused(req, &c->found, resp);
		return;
	}
	mca_enroll(srv, req, resp, MCA_ENROLL_RENEW);
}
