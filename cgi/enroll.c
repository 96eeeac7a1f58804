/*
 * The shared issuance path of /simpleenroll, /simplereenroll and
 * /serverkeygen, after the client is authorised: read the body under a
 * cap, judge the CSR, build the certificate, sign it, commit it to the
 * ledger, and only then answer. The three differ only in the key the
 * certificate carries (the CSR's, or one made here) and in the shape of
 * the answer (certs-only, or multipart with the private key). Parsing
 * and judging happen before the signer is touched.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "b64.h"
#include "csr.h"
#include "est_codec.h"
#include "fileio.h"
#include "issue.h"
#include "keygen.h"
#include "keystore.h"
#include "log.h"
#include "pem.h"
#include "request.h"
#include "server.h"

/* A serial collision in 126 random bits is a broken RNG, not bad luck. */
#define SERIAL_TRIES	3

/* Reads the body: Content-Length first, capped, then exactly that much. */
static int
read_body(struct mca_request *req, struct mca_resp *resp,
    struct mca_buf *body)
{
	size_t	 len = 0;
	ssize_t	 n;
	int	 rc;

	rc = mca_http_content_length(mca_req_env(req, "CONTENT_LENGTH"),
	    MCA_CSR_BODY_MAX, &len);
	if (rc == 0 && len == 0)
		rc = MCA_ERR_INVAL;
	switch (rc) {
	case 0:
		break;
	case MCA_ERR_NOTFOUND:
		(void)mca_resp_error(resp, 411, "Content-Length is required");
		return rc;
	case MCA_ERR_TOOBIG:
		(void)mca_resp_error(resp, 413, "request body is over %u bytes",
		    MCA_CSR_BODY_MAX);
		return rc;
	default:
		(void)mca_resp_error(resp, 400, "Content-Length is not a "
		    "positive number");
		return rc;
	}
	if ((rc = mca_buf_reserve(body, len)) != 0) {
		(void)mca_resp_error(resp, 500, "out of memory");
		return rc;
	}
	while (body->len < len) {
		n = req->read(req->arg, body->data + body->len,
		    len - body->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			(void)mca_resp_error(resp, 400, "request body is "
			    "shorter than Content-Length");
			return MCA_ERR_INVAL;
		}
		body->len += (size_t)n;
	}
	body->data[body->len] = '\0';
	return 0;
}

/* The ledger row for x; strings live in the caller's buffers. */
struct row_text {
	char		 serial[MCA_HEX_MAX], subject[MCA_NAME_MAX];
	char		 nb[MCA_TIME_MAX], na[MCA_TIME_MAX];
	char		 sha1[MCA_HEX_MAX], sha256[MCA_HEX_MAX], key[64];
	struct mca_buf	 san, pem;
};

static int
row_fill(struct mca_server *srv, struct mca_request *req, X509 *x,
    const EVP_PKEY *pub, enum mca_enroll_kind kind, struct row_text *t,
    struct mca_ledger_cert *row)
{
	static const char *const op[MCA_ENROLL_MAX] = {
		"enroll", "reenroll", "serverkeygen",
	};
	const struct mca_client	*c = &req->client;
	int			 rc;

	mca_buf_reset(&t->san);
	mca_buf_reset(&t->pem);
	if ((rc = mca_cert_serial_hex(x, t->serial, sizeof(t->serial))) ||
	    (rc = mca_name_string(X509_get_subject_name(x), t->subject,
	    sizeof(t->subject))) ||
	    (rc = mca_asn1time_iso(X509_get0_notBefore(x), t->nb,
	    sizeof(t->nb))) ||
	    (rc = mca_asn1time_iso(X509_get0_notAfter(x), t->na,
	    sizeof(t->na))) ||
	    (rc = mca_cert_thumbprint(x, EVP_sha1(), t->sha1,
	    sizeof(t->sha1))) ||
	    (rc = mca_cert_thumbprint(x, EVP_sha256(), t->sha256,
	    sizeof(t->sha256))) ||
	    (rc = mca_key_describe(pub, t->key,
	    sizeof(t->key))) ||
	    (rc = mca_cert_san_string(x, &t->san)) ||
	    (rc = mca_pem_write_cert(x, &t->pem)))
		return rc;
	memset(row, 0, sizeof(*row));
	row->serial = t->serial;
	row->subject = t->subject;
	row->san = t->san.len > 0 ? mca_buf_str(&t->san) : NULL;
	row->issuer = srv->ca->subject;
	row->not_before = t->nb;
	row->not_after = t->na;
	row->label = req->profile->name;
	row->operation = op[kind];
	row->req_subject = c->cert != NULL ? c->subject : NULL;
	row->req_serial = c->cert != NULL ? c->serial : NULL;
	row->req_issuer = c->cert != NULL ? c->issuer : NULL;
	row->remote_addr = req->remote_addr;
	row->sha1 = t->sha1;
	row->sha256 = t->sha256;
	row->key_type = t->key;
	row->pem = mca_buf_str(&t->pem);
	row->replaces_serial = kind == MCA_ENROLL_RENEW ? c->serial : NULL;
	/* key_origin 'server': auditors tell these certificates apart. */
	row->server_keygen = kind == MCA_ENROLL_KEYGEN;
	row->azure_pending = req->profile->is_device_cert;
	/* pass: how the requester authenticated; a passcode is spent here. */
	switch (req->authn) {
	case MCA_AUTHN_PASSCODE:
		row->auth_method = "passcode";
		row->passcode_id = req->passcode_id;
		break;
	case MCA_AUTHN_REMOTE_USER:
		row->auth_method = "remote_user";
		row->req_user = req->remote_user;
		break;
	default:
		/* simplereenroll always authenticates by certificate. */
		if (req->authn == MCA_AUTHN_CERTIFICATE ||
		    kind == MCA_ENROLL_RENEW)
			row->auth_method = "certificate";
		break;
	}
	return 0;
}

/* The key of a /serverkeygen certificate, made here for the client. */
struct made_key {
	EVP_PKEY	*pair;		/* never leaves this file but as pkcs8 */
	EVP_PKEY	*pub;		/* its public half: the certificate's */
	struct mca_buf	 pkcs8;		/* PrivateKeyInfo DER: a secret */
};

/* RFC 7030 4.4: the label's server_key_type and server_key_size. */
static int
make_key(const struct mca_profile *p, struct made_key *k)
{
	int	 rc;

	if ((rc = mca_keygen(p->server_key_type, p->server_key_size,
	    &k->pair)) != 0 ||
	    (rc = mca_keygen_public(k->pair, &k->pub)) != 0 ||
	    (rc = mca_keygen_pkcs8(k->pair, &k->pkcs8)) != 0)
		return rc;
	return 0;
}

static void
made_key_free(struct made_key *k)
{
	/* OpenSSL clears the private numbers when it frees a key. */
	EVP_PKEY_free(k->pair);
	EVP_PKEY_free(k->pub);
	mca_buf_free_secret(&k->pkcs8);
}

/*
 * The answer, into out (a secret for serverkeygen: the caller wipes it).
 * RFC 7030 4.2.3: a certs-only message holding the new certificate.
 * RFC 7030 4.4.2: multipart/mixed, the PKCS#8 private key first, then
 * the same certs-only message; its boundary goes into bnd.
 */
static int
encode_reply(X509 *x, const struct made_key *k, unsigned line_len,
    struct mca_buf *out, char *bnd, size_t bndlen)
{
	STACK_OF(X509)		*sk;
	struct mca_buf		 der = MCA_BUF_INIT;
	struct mca_est_part	 parts[2];
	int			 rc = MCA_ERR_NOMEM;

	mca_buf_free_secret(out);
	if ((sk = sk_X509_new_null()) == NULL || !sk_X509_push(sk, x))
		goto out;
	if ((rc = mca_est_certs_only(sk, &der)) != 0)
		goto out;
	if (k == NULL) {
		rc = mca_b64_encode(der.data, der.len, line_len, out);
		goto out;
	}
	parts[0].ctype = "application/pkcs8";
	parts[0].der = k->pkcs8.data;
	parts[0].len = k->pkcs8.len;
	parts[1].ctype = "application/pkcs7-mime; smime-type=certs-only";
	parts[1].der = der.data;
	parts[1].len = der.len;
	rc = mca_est_multipart(parts, 2, line_len, NULL, bnd, bndlen, out);
out:
	sk_X509_free(sk);	/* x is not ours to free here */
	mca_buf_free(&der);
	return rc;
}

void
mca_enroll(struct mca_server *srv, struct mca_request *req,
    struct mca_resp *resp, enum mca_enroll_kind kind)
{
	struct mca_buf		 body = MCA_BUF_INIT, reply = MCA_BUF_INIT;
	struct made_key		 key;
	struct row_text		 t;
	struct mca_ledger_cert	 row;
	struct mca_ledger_found	 prior;
	struct mca_issue_in	 in;
	struct mca_diag		 d;
	const char		*ctype;
	char			 fname[MCA_HEX_MAX + 8];
	char			 bnd[MCA_EST_BOUNDARY_MAX];
	char			 mctype[sizeof(resp->ctype_buf)];
	X509_REQ		*csr = NULL;
	X509			*x = NULL;
	GENERAL_NAMES		*san = NULL;
	int			 rc, tries;

	memset(&t, 0, sizeof(t));
	memset(&key, 0, sizeof(key));
	mca_diag_clear(&d);
	/* RFC 7030 4.2.1: application/pkcs10; DigiCert clients send PEM as text/plain. */
	ctype = mca_req_env(req, "CONTENT_TYPE");
	if (!mca_http_media_is(ctype, "application/pkcs10") &&
	    !mca_http_media_is(ctype, "text/plain")) {
		(void)mca_resp_error(resp, 415, "Content-Type must be "
		    "application/pkcs10 (or text/plain with a PEM CSR)");
		goto out;
	}
	if (read_body(req, resp, &body) != 0)
		goto out;
	if ((rc = mca_csr_decode(body.data, body.len, &csr, &d)) != 0) {
		(void)mca_resp_error(resp, rc == MCA_ERR_TOOBIG ? 413 : 400,
		    "%s", d.msg[0] ? d.msg : "CSR cannot be decoded");
		goto out;
	}
	/*
	 * RFC 7030 3.3.2: a certificate this CA issued authenticates its
	 * holder, who may ask for its own identity again; only a
	 * registration authority (ra_subject_patterns) enrolls others.
	 * Bootstrap certificates, passcodes and logins are not bound to an
	 * identity here: the label's rules below judge what they ask for.
	 */
	if (kind != MCA_ENROLL_RENEW && req->authn == MCA_AUTHN_CERTIFICATE &&
	    req->client.ours && !req->ra &&
	    (rc = mca_csr_check_own_identity(csr, req->client.cert,
	    &d)) != 0) {
		(void)mca_resp_error(resp, rc == MCA_ERR_POLICY ? 403 : 400,
		    "%s", d.msg[0] ? d.msg : "CSR refused");
		goto out;
	}
	/*
	 * RFC 7030 4.4.1: for /serverkeygen "the server MUST ignore the
	 * public key values and signature in the CSR"; they are there only
	 * so that clients can reuse their CSR code (RFC 8951 leaves 4.4.1
	 * as it is). So neither the label's key rule nor proof of
	 * possession applies: the certificate carries our key, never the
	 * CSR's, and the client is known by its TLS certificate.
	 * subject_patterns and san_policy judge every identity taken from
	 * a CSR; a renewal keeps the identity it has (RFC 7030 4.2.2).
	 */
	if ((kind != MCA_ENROLL_KEYGEN &&
	    (rc = mca_csr_check(csr, req->profile, &d)) != 0) ||
	    (kind != MCA_ENROLL_RENEW && ((rc = mca_csr_check_subject(
	    X509_REQ_get_subject_name(csr), req->profile, &d)) != 0 ||
	    (rc = mca_csr_san(csr, &san, &d)) != 0 ||
	    (rc = mca_csr_check_san(X509_REQ_get_subject_name(csr), san,
	    req->profile, &d)) != 0))) {
		(void)mca_resp_error(resp, 400, "%s", d.msg[0] ? d.msg :
		    "CSR refused");
		goto out;
	}
	/* RFC 7030 4.4.1.1, 4.4.1.2: no clear key to who asked otherwise. */
	if (kind == MCA_ENROLL_KEYGEN &&
	    (rc = mca_csr_keygen_check(csr, &d)) != 0) {
		if (rc == MCA_ERR_POLICY)
			(void)mca_resp_error(resp, 501, "%s", d.msg);
		else
			(void)mca_resp_error(resp, 500, "cannot judge the CSR");
		goto out;
	}
	if (kind == MCA_ENROLL_KEYGEN &&
	    (rc = make_key(req->profile, &key)) != 0) {
		mca_log_err("label=%s: cannot make a key for serverkeygen: %s",
		    req->profile->name, mca_strerror(rc));
		(void)mca_resp_error(resp, 500, "cannot generate the key");
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.profile = req->profile;
	in.csr = csr;
	in.key = key.pub;
	in.identity = kind == MCA_ENROLL_RENEW ? req->client.cert : NULL;
	in.issuer = srv->ca->cert;
	in.now = time(NULL);
	if ((rc = mca_issue_build(&in, &x, &d)) != 0) {
		if (rc == MCA_ERR_POLICY)
			(void)mca_resp_error(resp, 400, "%s", d.msg);
		else {
			/* OpenSSL's reason is for the log only. */
			mca_log_err("label=%s: %s", req->profile->name,
			    d.msg[0] != '\0' ? d.msg : mca_strerror(rc));
			(void)mca_resp_error(resp, 500, "cannot build the "
			    "certificate");
		}
		goto out;
	}
	for (tries = 0; ; tries++) {
		if ((rc = mca_signer_sign_cert(srv->ca->signer, x,
		    srv->ca->md)) != 0) {
			mca_log_err("label=%s: the CA key failed to sign: %s",
			    req->profile->name,
			    mca_signer_errmsg(srv->ca->signer, rc));
			(void)mca_resp_error(resp, 500, "signing failed");
			goto out;
		}
		/*
		 * The certificate's key is the CSR's (or ours), as encoded
		 * there: x has no decoded copy (lib/issue.c).
		 */
		if ((rc = row_fill(srv, req, x, in.key != NULL ? in.key :
		    X509_REQ_get0_pubkey(csr), kind, &t, &row)) != 0 ||
		    (rc = encode_reply(x, kind == MCA_ENROLL_KEYGEN ? &key :
		    NULL, (unsigned)req->profile->b64_line_length, &reply,
		    bnd, sizeof(bnd))) != 0) {
			(void)mca_resp_error(resp, 500, "cannot encode the "
			    "certificate");
			goto out;
		}
		/* RFC 7030 4.4.2; the boundary is a token: no quotes. */
		if (kind == MCA_ENROLL_KEYGEN &&
		    (snprintf(mctype, sizeof(mctype), "multipart/mixed; "
		    "boundary=%s", bnd) >= (int)sizeof(mctype) ||
		    mca_resp_ctype(resp, mctype) != 0)) {
			(void)mca_resp_error(resp, 500, "cannot encode the "
			    "answer");
			goto out;
		}
		/*
		 * The row commits before the client sees a certificate. A
		 * renewal is judged again under the ledger's write lock, so
		 * that of two racing with one certificate the rule holds.
		 */
		if (kind == MCA_ENROLL_RENEW)
			rc = mca_ledger_insert_renewal(srv->ledger, &row,
			    req->profile->reenroll_grace, &prior);
		else
			rc = mca_ledger_insert_cert(srv->ledger, &row);
		if (rc != MCA_ERR_EXISTS || tries + 1 >= SERIAL_TRIES)
			break;
		mca_log_warn("serial %s already in the ledger; drawing "
		    "another", t.serial);
		if (mca_issue_serial(x) != 0) {
			(void)mca_resp_error(resp, 500, "cannot draw a serial");
			goto out;
		}
	}
	if (rc == MCA_ERR_BUSY) {
		mca_log_err("ledger: label=%s: cannot record serial %s, "
		    "certificate not issued: %s", req->profile->name, t.serial,
		    mca_ledger_errmsg(srv->ledger, rc));
		(void)mca_resp_error(resp, 503, "the ledger is busy; retry "
		    "later");
		(void)mca_resp_header(resp, "Retry-After", "5");
		goto out;
	}
	if (kind == MCA_ENROLL_RENEW && rc == MCA_ERR_POLICY) {
		/* Renewed by a request served meanwhile. */
		mca_renew_refused(req, &prior, resp);
		goto out;
	}
	if (kind == MCA_ENROLL_RENEW && rc == MCA_ERR_NOTFOUND) {
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "(serial %s) is not in this CA's ledger",
		    req->client.serial);
		goto out;
	}
	if (rc == MCA_ERR_AUTH) {
		/* The passcode was spent, revoked or expired meanwhile. */
		(void)mca_resp_error(resp, 401, "enrollment passcode %s is no "
		    "longer usable (spent, revoked or expired while this "
		    "request was served)", req->passcode_id);
		(void)mca_auth_challenge(req, resp);
		goto out;
	}
	if (rc == MCA_ERR_POLICY && req->client.ours) {
		/*
		 * Revoked after it was judged (simpleenroll.c): the ledger's
		 * trigger refused the row in the INSERT itself.
		 */
		(void)mca_resp_error(resp, 403, "the client certificate "
		    "(serial %s) was revoked while this request was served",
		    req->client.serial);
		goto out;
	}
	if (rc != 0) {
		mca_log_err("ledger: label=%s: cannot record serial %s, "
		    "certificate not issued: %s", req->profile->name, t.serial,
		    mca_ledger_errmsg(srv->ledger, rc));
		(void)mca_resp_error(resp, 500, "the certificate could not be "
		    "recorded; nothing was issued");
		goto out;
	}
	/*
	 * The ledger holds the truth; the file is a copy for operators. It
	 * is the certificate only: a private key made here is never written
	 * anywhere but into the answer. Its fsyncs, of the file and then of
	 * the directory that names it (so that after a power cut the file
	 * the ledger promises is there), are a second flush per enrollment
	 * (a new file: a journal commit), about a quarter of an
	 * enrollment's CPU here and much more on SD cards:
	 * issued_certs_synchronous "OFF" skips them.
	 */
	(void)snprintf(fname, sizeof(fname), "%s.pem", t.serial);
	if ((srv->cfg->issued_certs_sync ? mca_file_write_atomic :
	    mca_file_write_copy)(srv->cfg->issued_certs_dir, fname,
	    t.pem.data, t.pem.len, 0644) != 0)
		mca_log_err("%s/%s: cannot write: %s (the ledger has it)",
		    srv->cfg->issued_certs_dir, fname, strerror(errno));
	(void)snprintf(req->issued_serial, sizeof(req->issued_serial), "%s",
	    t.serial);
	if (kind == MCA_ENROLL_KEYGEN)
		resp->cte = NULL;	/* RFC 2045 6.4: not on multipart */
	else {
		resp->ctype = "application/pkcs7-mime; smime-type=certs-only";
		resp->cte = "base64";
	}
	mca_buf_free(&resp->body);
	resp->body = reply;
	resp->secret = kind == MCA_ENROLL_KEYGEN;
	mca_buf_init(&reply);
	resp->status = 200;
out:
	ERR_clear_error();
	mca_buf_free(&t.san);
	mca_buf_free(&t.pem);
	mca_buf_free_secret(&reply);
	made_key_free(&key);
	mca_buf_free(&body);
	X509_free(x);
	GENERAL_NAMES_free(san);
	X509_REQ_free(csr);
}
