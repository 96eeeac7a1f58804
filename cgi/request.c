/*
 * The request's environment: what the web server says about the client.
 * Nothing here decides whether a credential is good (auth.c, basicauth.c);
 * this file only reads, bounds and hands over. It calls no other file of
 * cgi/ (request.h shows the order of the calls between them).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "err.h"
#include "request.h"
#include "server.h"

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
	size_t		 i, len;

	out[0] = '\0';
	if (!mca_req_has_remote_user(req))
		return MCA_ERR_NOTFOUND;
	user = mca_req_env(req, "REMOTE_USER");
	len = strnlen(user, max + 1);
	for (i = 0; i < len; i++)
		if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
			break;
	if (len > max || i < len)
		return MCA_ERR_INVAL;
	memcpy(out, user, len);
	out[len] = '\0';
	return 0;
}
