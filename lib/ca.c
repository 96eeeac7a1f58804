#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "certinfo.h"
#include "err.h"
#include "pem.h"

/*
 * Checks that chain[i] is issued by chain[i+1] for every i (name and
 * signature), so that /cacerts hands out a chain that verifies.
 */
static int
chain_check(const struct mca_cfg *cfg, STACK_OF(X509) *chain,
    struct mca_diag *d)
{
	X509	*x, *up;
	int	 i, n = sk_X509_num(chain);

	for (i = 0; i + 1 < n; i++) {
		x = sk_X509_value(chain, i);
		up = sk_X509_value(chain, i + 1);
		if (X509_check_issued(up, x) != X509_V_OK ||
		    X509_verify(x, X509_get0_pubkey(up)) != 1)
			return mca_diag(d, MCA_ERR_CONFIG, "%s: "
			    "intermediate_cert_path: %s: certificate %d is not "
			    "issued by certificate %d (order: the CA first, "
			    "then its issuers up to the root)", cfg->path,
			    cfg->intermediate_cert_path, i + 1, i + 2);
	}
	return 0;
}

int
mca_ca_load(const struct mca_cfg *cfg, struct mca_ca **out,
    struct mca_diag *d)
{
	struct mca_ca	*ca = NULL;
	struct mca_diag	 sub;
	X509		*last;
	int		 rc;

	*out = NULL;
	mca_diag_clear(&sub);
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return MCA_ERR_NOMEM;
	if ((ca->md = mca_md_by_name(cfg->hash_function)) == NULL) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: intermediate_cert_config."
		    "hash_function: unknown \"%s\"", cfg->path,
		    cfg->hash_function);
		goto out;
	}
	if ((rc = mca_pem_load_certs(cfg->intermediate_cert_path, &ca->chain,
	    &sub)) != 0) {
		rc = mca_diag(d, rc, "%s: intermediate_cert_path: %s",
		    cfg->path, sub.msg);
		goto out;
	}
	ca->cert = sk_X509_value(ca->chain, 0);
	if (X509_check_ca(ca->cert) == 0) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: intermediate_cert_path: "
		    "%s: the first certificate is not a CA certificate",
		    cfg->path, cfg->intermediate_cert_path);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(ca->cert)) <= 0) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: intermediate_cert_path: "
		    "%s: the CA certificate has expired", cfg->path,
		    cfg->intermediate_cert_path);
		goto out;
	}
	if ((rc = chain_check(cfg, ca->chain, d)) != 0)
		goto out;
	last = sk_X509_value(ca->chain, sk_X509_num(ca->chain) - 1);
	ca->has_root = X509_check_issued(last, last) == X509_V_OK;
	if ((rc = mca_name_string(X509_get_subject_name(ca->cert),
	    ca->subject, sizeof(ca->subject))) != 0)
		goto out;
	if ((rc = mca_signer_open(cfg, &ca->signer, d)) != 0)
		goto out;
	/* Refuse to serve with a key that would sign unverifiable certs. */
	if ((rc = mca_signer_check_cert(ca->signer, ca->cert, ca->md,
	    &sub)) != 0) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: the CA key does not "
		    "belong to %s: %s", cfg->path, cfg->intermediate_cert_path,
		    sub.msg);
		goto out;
	}
	*out = ca;
	ca = NULL;
	rc = 0;
out:
	ERR_clear_error();
	mca_ca_free(ca);
	return rc;
}

void
mca_ca_free(struct mca_ca *ca)
{
	if (ca == NULL)
		return;
	mca_signer_free(ca->signer);
	sk_X509_pop_free(ca->chain, X509_free);
	free(ca);
}
