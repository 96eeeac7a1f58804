/* This Micro CA: its certificate, the chain above it, and its signer. */
#ifndef MCA_CA_H
#define MCA_CA_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cfg.h"
#include "certinfo.h"
#include "err.h"
#include "keystore.h"

struct mca_ca {
	X509		*cert;		/* the intermediate (first in the file) */
	STACK_OF(X509)	*chain;		/* cert, then its issuers up to the root */
	STACK_OF(X509)	*rollover;	/* rollover_cert_path, or NULL */
	const EVP_MD	*md;		/* from hash_function */
	struct mca_signer *signer;
	char		 subject[MCA_NAME_MAX];
	int		 has_root;	/* the chain ends in a self-signed cert */
};

/* rollover_cert_path holds no more certificates than this. */
#define MCA_CA_ROLLOVER_MAX	32

/*
 * Loads intermediate_cert_path, checks that each certificate is issued by
 * the next one and that the first is a CA certificate, opens the signer
 * and checks that its key matches the certificate. Refuses an expired CA
 * certificate. Loads rollover_cert_path when set (see mca_ca_rollover()).
 * Returns 0, or an MCA_ERR_* with d naming key and file.
 */
int	 mca_ca_load(const struct mca_cfg *cfg, struct mca_ca **out,
	    struct mca_diag *d);

/*
 * Judges the certificates of rollover_cert_path (RFC 7030 4.1.3: root key
 * update certificates, RFC 4210 4.4; or a new intermediate) against
 * chain. Each must be a CA certificate (basicConstraints cA TRUE) and be
 * linked to chain: issued by, or the issuer of, a certificate of chain
 * or of an already linked rollover certificate (name, key identifier and
 * signature; a certificate does not link to itself). This takes
 * NewWithOld (issued by the old root), OldWithNew (issued by the new
 * root's key) and NewWithNew (which issued OldWithNew), whether the new
 * root keeps the old name or not, and refuses an unrelated root. At most
 * MCA_CA_ROLLOVER_MAX certificates. Returns 0, or MCA_ERR_CONFIG with d
 * saying which certificate (1-based, with its subject) and why.
 */
int	 mca_ca_rollover(STACK_OF(X509) *chain, STACK_OF(X509) *rollover,
	    struct mca_diag *d);

struct mca_ca_gen;

/*
 * Loads a CA generation the ledger holds (lib/castate.h): its chain
 * judged as mca_ca_load() judges intermediate_cert_path, the key by
 * g->key_label from tok's session (no login; tok NULL: refused) or from
 * g->key_path, and proven to belong to the certificate. Digest and
 * rollover_cert_path are cfg's. Returns 0, or an MCA_ERR_* with d
 * naming the generation ("CA generation 7: ...").
 */
int	 mca_ca_load_gen(const struct mca_cfg *cfg,
	    const struct mca_ca_gen *g, struct mca_token *tok,
	    struct mca_ca **out, struct mca_diag *d);

void	 mca_ca_free(struct mca_ca *ca);

#endif
