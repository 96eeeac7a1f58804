/*
 * The request's environment: what the web server says about the client.
 * Nothing here decides whether a credential is good (auth.c, basicauth.c);
 * this file only reads, bounds and hands over. It calls no other file of
 * cgi/ (request.h shows the order of the calls between them).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "pem.h"
#include "request.h"
#include "server.h"
#include "text.h"

const char *
mca_req_env(const struct mca_request *req, const char *name)
{
	return req->getenv(req->arg, name);
}

const char *
mca_req_remote_addr(const struct mca_request *req)
{
	return mca_req_env(req, "REMOTE_ADDR");
}

int
mca_req_has_cert(const struct mca_request *req)
{
	const char	*pem, *verify;

	/*
	 * The same tests mca_auth_client() starts with. lighttpd hands over
	 * no certificate when its own check failed, only FAILED: the client
	 * did present one, which decides (403), as behind Apache, which
	 * hands the certificate over.
	 */
	pem = mca_req_env(req, "SSL_CLIENT_CERT");
	verify = mca_req_env(req, "SSL_CLIENT_VERIFY");
	if (verify != NULL && strncmp(verify, "FAILED", 6) == 0)
		return 1;
	return pem != NULL && *pem != '\0' &&
	    (verify == NULL || strcmp(verify, "NONE") != 0);
}

int
mca_req_has_remote_user(const struct mca_request *req)
{
	const char	*user, *type;

	/* Only the web server's own Basic login, not SSLUserName & co. */
	user = mca_req_env(req, "REMOTE_USER");
	type = mca_req_env(req, "AUTH_TYPE");
	return user != NULL && *user != '\0' && type != NULL &&
	    strcasecmp(type, "Basic") == 0;
}

int
mca_req_has_authorization(const struct mca_request *req)
{
	const char	*h = mca_req_env(req, "HTTP_AUTHORIZATION");

	return h != NULL && *h != '\0';
}

int
mca_req_remote_user(const struct mca_request *req, char *out, size_t max)
{
	const char	*user;
	size_t		 len;

	out[0] = '\0';
	if (!mca_req_has_remote_user(req))
		return MCA_ERR_NOTFOUND;
	user = mca_req_env(req, "REMOTE_USER");
	len = strnlen(user, max + 1);
	if (len > max || mca_text_ctl_span(user, len, 0) < len)
		return MCA_ERR_INVAL;
	memcpy(out, user, len);
	out[len] = '\0';
	return 0;
}

int
mca_req_client_cert(const struct mca_request *req, struct mca_req_cert *out,
    struct mca_diag *d)
{
	char		 name[40];
	const char	*v;
	size_t		 i, len;

	memset(out, 0, sizeof(*out));
	/*
	 * The environment hands over C strings: a NUL inside a value ends
	 * it, and the text cut short fails to parse (no END line).
	 */
	if ((v = mca_req_env(req, "SSL_CLIENT_CERT")) == NULL || *v == '\0')
		return mca_diag(d, MCA_ERR_NOTFOUND, "no SSL_CLIENT_CERT");
	if ((len = strnlen(v, MCA_PEM_MAX + 1)) > MCA_PEM_MAX)
		return mca_diag(d, MCA_ERR_TOOBIG, "SSL_CLIENT_CERT is over "
		    "%u bytes", MCA_PEM_MAX);
	out->pem = v;
	out->len = len;
	for (i = 0; i <= MCA_REQ_CHAIN_MAX; i++) {
		(void)snprintf(name, sizeof(name), "SSL_CLIENT_CERT_CHAIN_%zu",
		    i);
		if ((v = mca_req_env(req, name)) == NULL || *v == '\0')
			break;
		if (i == MCA_REQ_CHAIN_MAX)
			return mca_diag(d, MCA_ERR_TOOBIG, "more than %d "
			    "certificates in SSL_CLIENT_CERT_CHAIN_n",
			    MCA_REQ_CHAIN_MAX);
		if ((len = strnlen(v, MCA_PEM_MAX + 1)) > MCA_PEM_MAX)
			return mca_diag(d, MCA_ERR_TOOBIG, "%s is over %u "
			    "bytes", name, MCA_PEM_MAX);
		out->chain[i] = v;
		out->chain_len[i] = len;
		out->nchain = i + 1;
	}
	return 0;
}
