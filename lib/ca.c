#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "castate.h"
#include "certinfo.h"
#include "err.h"
#include "pem.h"

/*
 * Checks that chain[i] is issued by chain[i+1] for every i (name and
 * signature), so that /cacerts hands out a chain that verifies.
 */
static int
chain_check(const char *where, STACK_OF(X509) *chain, struct mca_diag *d)
{
	X509	*x, *up;
	int	 i, n = sk_X509_num(chain);

	for (i = 0; i + 1 < n; i++) {
		x = sk_X509_value(chain, i);
		up = sk_X509_value(chain, i + 1);
		if (X509_check_issued(up, x) != X509_V_OK ||
		    X509_verify(x, X509_get0_pubkey(up)) != 1)
			return mca_diag(d, MCA_ERR_CONFIG, "%s: certificate %d "
			    "is not issued by certificate %d (order: the CA "
			    "first, then its issuers up to the root)", where,
			    i + 1, i + 2);
	}
	return 0;
}

/* 1 if up issued x: names, key identifiers, keyUsage and signature. */
static int
issued_by(X509 *up, X509 *x)
{
	EVP_PKEY	*k;

	if (up == x || X509_check_issued(up, x) != X509_V_OK ||
	    (k = X509_get0_pubkey(up)) == NULL)
		return 0;
	return X509_verify(x, k) == 1;
}

/* 1 if x is linked to any certificate of sk whose linked[] is set. */
static int
linked_to(X509 *x, STACK_OF(X509) *sk, const int *linked)
{
	X509	*y;
	int	 i;

	for (i = 0; i < sk_X509_num(sk); i++) {
		if (linked != NULL && !linked[i])
			continue;
		y = sk_X509_value(sk, i);
		if (issued_by(y, x) || issued_by(x, y))
			return 1;
	}
	return 0;
}

int
mca_ca_rollover(STACK_OF(X509) *chain, STACK_OF(X509) *rollover,
    struct mca_diag *d)
{
	X509	*x;
	char	 subj[MCA_NAME_MAX];
	int	 linked[MCA_CA_ROLLOVER_MAX];
	int	 i, n, more, rc = MCA_ERR_CONFIG;

	n = sk_X509_num(rollover);
	if (n > MCA_CA_ROLLOVER_MAX)
		return mca_diag(d, MCA_ERR_CONFIG, "more than %d certificates",
		    MCA_CA_ROLLOVER_MAX);
	memset(linked, 0, sizeof(linked));
	for (i = 0; i < n; i++) {
		x = sk_X509_value(rollover, i);
		/* RFC 5280 4.2.1.9: cA TRUE, not a v1 or keyUsage guess. */
		if (X509_check_ca(x) != 1) {
			if (mca_name_string(X509_get_subject_name(x), subj,
			    sizeof(subj)) != 0)
				subj[0] = '\0';
			rc = mca_diag(d, MCA_ERR_CONFIG, "certificate %d (%s) "
			    "is not a CA certificate (basicConstraints "
			    "CA:TRUE)", i + 1, subj);
			goto out;
		}
	}
	/* Grow the linked set until it stops growing. */
	do {
		more = 0;
		for (i = 0; i < n; i++) {
			if (linked[i])
				continue;
			x = sk_X509_value(rollover, i);
			if (linked_to(x, chain, NULL) ||
			    linked_to(x, rollover, linked)) {
				linked[i] = 1;
				more = 1;
			}
		}
	} while (more);
	for (i = 0; i < n; i++) {
		if (linked[i])
			continue;
		x = sk_X509_value(rollover, i);
		if (mca_name_string(X509_get_subject_name(x), subj,
		    sizeof(subj)) != 0)
			subj[0] = '\0';
		rc = mca_diag(d, MCA_ERR_CONFIG, "certificate %d (%s) neither "
		    "issued nor was issued by intermediate_cert_path or another "
		    "rollover certificate (RFC 7030 4.1.3: OldWithNew, "
		    "NewWithOld, NewWithNew, or a new intermediate)", i + 1,
		    subj);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	return rc;
}

/*
 * What a CA certificate and chain must be, wherever they come from
 * (where names it in d: "<config>: intermediate_cert_path: <file>"):
 * the first a CA certificate, unexpired, each issued by the next. Fills
 * the rest of ca from them and from cfg (digest, rollover).
 */
static int
ca_judge(const struct mca_cfg *cfg, const char *where, struct mca_ca *ca,
    struct mca_diag *d)
{
	struct mca_diag	 sub;
	X509		*last;
	int		 rc;

	mca_diag_clear(&sub);
	if ((ca->md = mca_md_by_name(cfg->intermediate.hash_function)) == NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: intermediate_cert_"
		    "config.hash_function: unknown \"%s\"", cfg->path,
		    cfg->intermediate.hash_function);
	ca->cert = sk_X509_value(ca->chain, 0);
	if (X509_check_ca(ca->cert) == 0)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: the first certificate "
		    "is not a CA certificate", where);
	if (X509_cmp_current_time(X509_get0_notAfter(ca->cert)) <= 0)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: the CA certificate "
		    "has expired", where);
	if ((rc = chain_check(where, ca->chain, d)) != 0)
		return rc;
	last = sk_X509_value(ca->chain, sk_X509_num(ca->chain) - 1);
	ca->has_root = X509_check_issued(last, last) == X509_V_OK;
	if ((rc = mca_name_string(X509_get_subject_name(ca->cert),
	    ca->subject, sizeof(ca->subject))) != 0)
		return rc;
	/* RFC 7030 4.1.3: what /cacerts adds for a CA key rollover. */
	if (cfg->rollover_cert_path != NULL) {
		if ((rc = mca_pem_load_certs(cfg->rollover_cert_path,
		    &ca->rollover, &sub)) != 0)
			return mca_diag(d, rc, "%s: rollover_cert_path: %s",
			    cfg->path, sub.msg);
		if ((rc = mca_ca_rollover(ca->chain, ca->rollover,
		    &sub)) != 0)
			return mca_diag(d, rc, "%s: rollover_cert_path: %s: "
			    "%s", cfg->path, cfg->rollover_cert_path, sub.msg);
	}
	return 0;
}

int
mca_ca_load(const struct mca_cfg *cfg, struct mca_ca **out,
    struct mca_diag *d)
{
	struct mca_ca	*ca = NULL;
	struct mca_diag	 sub;
	char		 where[MCA_DIAG_LEN];
	int		 rc;

	*out = NULL;
	mca_diag_clear(&sub);
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return MCA_ERR_NOMEM;
	if ((rc = mca_pem_load_certs(cfg->intermediate_cert_path, &ca->chain,
	    &sub)) != 0) {
		rc = mca_diag(d, rc, "%s: intermediate_cert_path: %s",
		    cfg->path, sub.msg);
		goto out;
	}
	(void)snprintf(where, sizeof(where), "%s: intermediate_cert_path: %s",
	    cfg->path, cfg->intermediate_cert_path);
	if ((rc = ca_judge(cfg, where, ca, d)) != 0)
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

int
mca_ca_load_gen(const struct mca_cfg *cfg, const struct mca_ca_gen *g,
    struct mca_token *tok, struct mca_ca **out, struct mca_diag *d)
{
	struct mca_ca	*ca = NULL;
	struct mca_diag	 sub;
	char		 where[64];
	int		 rc;

	*out = NULL;
	mca_diag_clear(&sub);
	if (cfg == NULL || g == NULL || g->chain_pem == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "no CA generation");
	(void)snprintf(where, sizeof(where), "CA generation %lld", g->id);
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return MCA_ERR_NOMEM;
	if ((rc = mca_pem_parse_certs(g->chain_pem, strlen(g->chain_pem),
	    where, &ca->chain, d)) != 0 ||
	    (rc = ca_judge(cfg, where, ca, d)) != 0)
		goto out;
	if (g->key_label != NULL) {
		if ((rc = mca_signer_open_token(tok, g->key_label, &ca->signer,
		    &sub)) != 0) {
			rc = mca_diag(d, rc, "%s: key \"%s\": %s", where,
			    g->key_label, sub.msg);
			goto out;
		}
	} else if ((rc = mca_signer_open_file(g->key_path, &ca->signer,
	    &sub)) != 0) {
		rc = mca_diag(d, rc, "%s: %s", where, sub.msg);
		goto out;
	}
	if ((rc = mca_signer_check_cert(ca->signer, ca->cert, ca->md,
	    &sub)) != 0) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: the key %s%s does not "
		    "belong to its certificate (%s): %s", where,
		    g->key_label != NULL ? "labelled " : "",
		    g->key_label != NULL ? g->key_label : g->key_path,
		    ca->subject, sub.msg);
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
	sk_X509_pop_free(ca->rollover, X509_free);
	free(ca);
}
