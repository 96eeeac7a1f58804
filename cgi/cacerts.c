/* RFC 7030 4.1: /cacerts, no client authentication (4.1.1). */
#include "config.h"

#include "server.h"

void
mca_op_cacerts(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	const struct mca_buf	*b = &srv->cache[req->profile_idx].cacerts;

	/* Encoded once at start-up: the chain does not change under us. */
	if (mca_buf_add(&resp->body, b->data, b->len) != 0) {
		(void)mca_resp_error(resp, 500, "out of memory");
		return;
	}
	resp->status = 200;
	/* RFC 7030 4.1.3; RFC 8951 3.2: base64, whatever else is said. */
	resp->ctype = "application/pkcs7-mime; smime-type=certs-only";
	resp->cte = "base64";
}
