/*
 * RFC 7030 4.4: /serverkeygen. The same clients as /simpleenroll may ask
 * (4.4.1: "the same as for /simpleenroll"); the server makes the key
 * pair the label's server_key_type/server_key_size name and answers with
 * the private key and the certificate (4.4.2). Key generation and the
 * answer are in enroll.c and lib/keygen.c.
 */
#include "config.h"

#include "server.h"

void
mca_op_serverkeygen(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	/*
	 * The answer holds a private key: no cache on the way may keep it
	 * (RFC 9111 5.2.2.5). Errors too: one header for the resource.
	 */
	if (mca_resp_header(resp, "Cache-Control", "no-store") != 0) {
		(void)mca_resp_error(resp, 500, "cannot build the answer");
		return;
	}
	if (mca_authz_enroll(srv, req, resp) != 0)
		return;
	mca_enroll(srv, req, resp, MCA_ENROLL_KEYGEN);
}
