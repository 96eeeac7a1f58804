#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "keystore.h"
#include "p11.h"

#define KEYFILE_MAX	(64u * 1024u)

/* One logged-in token session, shared by the signers of its keys. */
struct mca_token {
	struct mca_p11	*p11;
	int		 refs;
};

struct mca_signer {
	EVP_PKEY	*key;
	struct mca_token *tok;	/* NULL for a key file */
	struct mca_diag	 err;	/* why the last call failed */
};

/* A new token holding p (its one reference), or NULL: out of memory. */
static struct mca_token *
token_new(struct mca_p11 *p)
{
	struct mca_token	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->p11 = p;
	t->refs = 1;
	return t;
}

int
mca_token_open(const char *module, const char *pin, struct mca_token **out,
    struct mca_diag *d)
{
	struct mca_p11	*p = NULL;
	int		 rc;

	*out = NULL;
	if (module == NULL || pin == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "no PKCS#11 module or PIN");
	if ((rc = mca_p11_session(module, NULL, pin, &p, d)) != 0)
		return rc;
	if ((*out = token_new(p)) == NULL) {
		mca_p11_close(p);
		return MCA_ERR_NOMEM;
	}
	return 0;
}

void
mca_token_free(struct mca_token *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	mca_p11_close(t->p11);
	free(t);
}

struct mca_token *
mca_signer_token(struct mca_signer *s)
{
	if (s == NULL || s->tok == NULL)
		return NULL;
	s->tok->refs++;
	return s->tok;
}

int
mca_signer_open_token(struct mca_token *t, const char *label,
    struct mca_signer **out, struct mca_diag *d)
{
	struct mca_signer	*s = NULL;
	int			 rc;

	*out = NULL;
	if (t == NULL || label == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "no token session to take "
		    "key \"%s\" from", label != NULL ? label : "");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MCA_ERR_NOMEM;
	if ((rc = mca_p11_key(t->p11, label, &s->key, d)) != 0) {
		free(s);
		return rc;
	}
	s->tok = t;
	t->refs++;
	*out = s;
	return 0;
}

int
mca_signer_open_file(const char *path, struct mca_signer **out,
    struct mca_diag *d)
{
	struct mca_signer	*s = NULL;
	struct mca_buf		 pem = MCA_BUF_INIT;
	BIO			*b = NULL;
	int			 rc;

	*out = NULL;
	if ((rc = mca_file_read(path, KEYFILE_MAX, &pem, NULL)) != 0) {
		rc = mca_diag(d, rc, "%s: cannot read key: %s", path,
		    mca_strerror(rc));
		goto out;
	}
	rc = MCA_ERR_NOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (b = BIO_new_mem_buf(pem.data, (int)pem.len)) == NULL)
		goto out;
	/* No passphrase prompt: a daemon has nobody to ask. */
	if ((s->key = PEM_read_bio_PrivateKey(b, NULL, NULL, "")) == NULL) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "%s: not an "
		    "unencrypted PEM private key", path);
		goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	mca_buf_free_secret(&pem);
	mca_signer_free(s);
	return rc;
}

int
mca_signer_open_pkcs11(const char *module, const char *label,
    const char *pin, struct mca_signer **out, struct mca_diag *d)
{
	struct mca_signer	*s;
	struct mca_p11		*p = NULL;
	int			 rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MCA_ERR_NOMEM;
	if ((rc = mca_p11_open(module, label, pin, &p, &s->key, d)) != 0) {
		mca_p11_close(p);
		mca_signer_free(s);
		return rc;
	}
	if ((s->tok = token_new(p)) == NULL) {
		EVP_PKEY_free(s->key);
		s->key = NULL;
		mca_p11_close(p);
		mca_signer_free(s);
		return MCA_ERR_NOMEM;
	}
	*out = s;
	return 0;
}

int
mca_signer_open(const struct mca_cfg *cfg, struct mca_signer **out,
    struct mca_diag *d)
{
	struct mca_diag	 sub;
	int		 rc;

	mca_diag_clear(&sub);
	if (cfg->intermediate_private_key_label_in_pkcs11 != NULL) {
		rc = mca_signer_open_pkcs11(cfg->pkcs11_library,
		    cfg->intermediate_private_key_label_in_pkcs11,
		    cfg->pkcs11_library_pin, out, &sub);
		if (rc != 0)
			return mca_diag(d, rc, "%s: "
			    "intermediate_private_key_label_in_pkcs11: %s",
			    cfg->path, sub.msg);
		return 0;
	}
	if (cfg->intermediate_private_key_path == NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: no CA key configured",
		    cfg->path);
	rc = mca_signer_open_file(cfg->intermediate_private_key_path, out,
	    &sub);
	if (rc != 0)
		return mca_diag(d, rc, "%s: intermediate_private_key_path: %s",
		    cfg->path, sub.msg);
	return 0;
}

/* EdDSA keys sign without a separate digest. */
static const EVP_MD *
sign_md(EVP_PKEY *key, const EVP_MD *md)
{
	if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448"))
		return NULL;
	return md;
}

int
mca_signer_sign_cert(struct mca_signer *s, X509 *x, const EVP_MD *md)
{
	mca_diag_clear(&s->err);
	/* Only this call's reasons, not a caller's leftovers. */
	ERR_clear_error();
	if (X509_sign(x, s->key, sign_md(s->key, md)) <= 0)
		return mca_diag_crypto(&s->err, MCA_ERR_CRYPTO, "X509_sign");
	return 0;
}

int
mca_signer_sign_crl(struct mca_signer *s, X509_CRL *crl, const EVP_MD *md)
{
	mca_diag_clear(&s->err);
	ERR_clear_error();
	if (X509_CRL_sign(crl, s->key, sign_md(s->key, md)) <= 0)
		return mca_diag_crypto(&s->err, MCA_ERR_CRYPTO,
		    "X509_CRL_sign");
	return 0;
}

const char *
mca_signer_errmsg(const struct mca_signer *s, int rc)
{
	if (s == NULL || s->err.msg[0] == '\0')
		return mca_strerror(rc);
	return s->err.msg;
}

int
mca_signer_check_cert(struct mca_signer *s, X509 *cert, const EVP_MD *md,
    struct mca_diag *d)
{
	unsigned char	 msg[32], sig[2048];
	size_t		 siglen = sizeof(sig);
	EVP_MD_CTX	*mc = NULL;
	EVP_PKEY	*pub;
	int		 rc = MCA_ERR_CRYPTO;

	ERR_clear_error();
	if ((pub = X509_get0_pubkey(cert)) == NULL) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "certificate has no "
		    "usable public key");
		goto out;
	}
	if (RAND_bytes(msg, sizeof(msg)) != 1 ||
	    (mc = EVP_MD_CTX_new()) == NULL) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "cannot make a test "
		    "message");
		goto out;
	}
	if (EVP_DigestSignInit(mc, NULL, sign_md(s->key, md), NULL,
	    s->key) != 1 ||
	    EVP_DigestSign(mc, sig, &siglen, msg, sizeof(msg)) != 1) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "the CA key cannot "
		    "sign");
		goto out;
	}
	EVP_MD_CTX_free(mc);
	if ((mc = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestVerifyInit(mc, NULL, sign_md(s->key, md), NULL,
	    pub) != 1 ||
	    EVP_DigestVerify(mc, sig, siglen, msg, sizeof(msg)) != 1) {
		rc = mca_diag(d, MCA_ERR_CRYPTO, "the CA key does not match "
		    "the CA certificate's public key");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(mc);
	return rc;
}

void
mca_signer_free(struct mca_signer *s)
{
	if (s == NULL)
		return;
	/* The EVP_PKEY of a token key refers to the token: free it first. */
	EVP_PKEY_free(s->key);
	mca_token_free(s->tok);
	free(s);
}
