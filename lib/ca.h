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
	const EVP_MD	*md;		/* from hash_function */
	struct mca_signer *signer;
	char		 subject[MCA_NAME_MAX];
	int		 has_root;	/* the chain ends in a self-signed cert */
};

/*
 * Loads intermediate_cert_path, checks that each certificate is issued by
 * the next one and that the first is a CA certificate, opens the signer
 * and checks that its key matches the certificate. Refuses an expired CA
 * certificate. Returns 0, or an MCA_ERR_* with d naming key and file.
 */
int	 mca_ca_load(const struct mca_cfg *cfg, struct mca_ca **out,
	    struct mca_diag *d);

void	 mca_ca_free(struct mca_ca *ca);

#endif
