/*
 * RFC 7030 4.5: /csrattrs tells the client what the label wants in its
 * CSR. 4.5.1: the server SHOULD NOT require client authentication.
 *
 * It names the key and the signature algorithm (lib/est_codec.c), not
 * the subject or subjectAltName rules (subject_patterns, san_policy):
 * CsrAttrs (4.5.2) can ask for an attribute or an extension, but has no
 * way to say "DNS names matching this pattern, at most 16"; naming the
 * subjectAltName OID alone would only tell clients to send one, which a
 * label does not require. The 400 a refused CSR gets names the rule.
 */
#include "config.h"

#include "server.h"

void
mca_op_csrattrs(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp)
{
	const struct mca_buf	*b = &srv->cache[req->profile_idx].csrattrs;

	if (mca_buf_add(&resp->body, b->data, b->len) != 0) {
		(void)mca_resp_error(resp, 500, "out of memory");
		return;
	}
	resp->status = 200;
	resp->ctype = "application/csrattrs";	/* RFC 7030 4.5.2 */
	resp->cte = "base64";
}
