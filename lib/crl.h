/*
 * Certificate revocation lists (RFC 5280 5), one per CA key, from the
 * ledger's revocations (lib/revoke.h): what microca-crl and
 * "microca-admin crl" run. Each CRL is a complete v2 CRL for the
 * certificates the CA issued (no delta CRLs, no indirect CRL), signed
 * with that CA's key where it is kept (the token, or a key file), and
 * written atomically to crl_dir as DER and PEM. Its cRLNumber and the
 * revocations it covered are kept in crl_state
 * (sql/migrations/0011-crl.sql). No function here exits or prints.
 */
#ifndef MCA_CRL_H
#define MCA_CRL_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "err.h"

struct mca_ca;
struct mca_cfg;
struct mca_ledger;

/*
 * The files in crl_dir: <name>.crl (DER, what a distribution point
 * serves, RFC 5280 4.2.1.13) and <name>.crl.pem. name is
 * "gen-<id>" for a CA generation of the ledger (lib/castate.h),
 * "config" for config.json's intermediate; each CRL is also written
 * under its CA's key identifier (<KEYID>.crl, MCA_CRL_KEYID_VAR), and
 * the active CA's as MCA_CRL_ACTIVE.
 */
#define MCA_CRL_ACTIVE		"microca"
#define MCA_CRL_NAME_MAX	64
#define MCA_CRL_FILE_MAX	(16u * 1024u * 1024u)	/* read back: cap */

/*
 * The placeholder of crl_distribution_point_url that lib/issue.c
 * replaces with the issuing CA's key identifier, so that a certificate
 * names its own CA's CRL, <KEYID>.crl, whichever intermediate is active
 * later.
 */
#define MCA_CRL_KEYID_VAR	"{keyid}"
#define MCA_CRL_KEYID_MAX	128	/* hex digits of a key identifier */

/*
 * The key identifier of a CA certificate in uppercase hex: its
 * subjectKeyIdentifier, else the SHA-1 of its public key (RFC 5280
 * 4.2.1.2 method 1), as the authorityKeyIdentifier of what it issues
 * and of its CRLs has it. hex holds MCA_CRL_KEYID_MAX + 1 bytes.
 * Returns 0 or MCA_ERR_CRYPTO.
 */
int	 mca_crl_keyid(X509 *cert, char *hex, size_t len);

/* What became of one CA's CRL in a run. */
enum mca_crl_outcome {
	MCA_CRL_WRITTEN,	/* a new CRL was written */
	MCA_CRL_CURRENT,	/* the last one is still good: nothing done */
	MCA_CRL_WOULD,		/* --dry-run: would be written */
	MCA_CRL_SKIPPED,	/* no CRL for this CA (why says) */
	MCA_CRL_FAILED,		/* could not (why says) */
	MCA_CRL_OUTCOME_MAX
};

struct mca_crl_event {
	enum mca_crl_outcome outcome;
	char		 name[MCA_CRL_NAME_MAX + 1];
	const char	*issuer;	/* the CA's subject, RFC 2253 */
	int		 active;	/* also written as MCA_CRL_ACTIVE */
	long long	 number;	/* cRLNumber written, or the last one */
	size_t		 entries;	/* certificates listed */
	time_t		 this_update, next_update;
	char		 why[MCA_DIAG_LEN];	/* the reason, or the error */
};

/* One CA to make a CRL for. */
struct mca_crl_ca {
	struct mca_ca	*ca;		/* signer and certificate */
	const char	*name;		/* file name stem, MCA_CRL_NAME_MAX */
	int		 active;	/* also MCA_CRL_ACTIVE */
};

struct mca_crl_opts {
	const char	*dir;		/* crl_dir */
	int		 hours;		/* crl_validity_hours */
	time_t		 now;
	int		 force;		/* write whatever the rules say */
	/* and these CRLs: names, MCA_CRL_ACTIVE for the active one, "all" */
	const char *const *force_names;
	size_t		 nforce;
	int		 dry_run;	/* decide only: nothing signed, written */
};

/*
 * Makes ca's CRL if it is due (or o->force): when there is none yet,
 * its DER file is missing, a revocation event of one of its
 * certificates came after the last one, half of the last one's span
 * (thisUpdate to nextUpdate) has passed, or the clock is before its
 * thisUpdate. In one IMMEDIATE transaction: the revoked certificates
 * of this issuer name and key (authorityKeyIdentifier), the next
 * cRLNumber (above the ledger's and above the one the file in dir
 * carries, so that a run killed after the rename and before the commit
 * never makes a number twice), the CRL signed, the files written, the
 * row recorded, committed. *ev says what happened (also for a failure).
 * Returns 0 (written, current or would), or an MCA_ERR_* with d and
 * ev->why saying why: nothing recorded (files may have been replaced by
 * a CRL with a higher number, which is harmless).
 */
int	 mca_crl_issue(struct mca_ledger *l, const struct mca_crl_ca *c,
	    const struct mca_crl_opts *o, struct mca_crl_event *ev,
	    struct mca_diag *d);

/*
 * Builds (does not sign) the CRL of ca at number from the ledger, as of
 * this_update: version 2; issuer ca's subject; thisUpdate, nextUpdate
 * (UTCTime until 2049, RFC 5280 5.1.2.4); each revoked certificate
 * issued by ca (issuer name, and key when the certificate names it),
 * whose notAfter is not before keep_after (RFC 5280 5.1.2.6: an entry
 * stays until one CRL issued after the certificate expired listed it),
 * with its revocationDate, a reasonCode unless unspecified (5.3.1) and
 * its invalidityDate when known (5.3.2); authorityKeyIdentifier (5.2.1)
 * and cRLNumber (5.2.3), not critical. *n is the count of entries.
 * Returns 0, MCA_ERR_NOMEM, MCA_ERR_CRYPTO or the ledger's error.
 */
int	 mca_crl_build(struct mca_ledger *l, const struct mca_ca *ca,
	    long long number, time_t this_update, time_t next_update,
	    time_t keep_after, X509_CRL **out, size_t *n, struct mca_diag *d);

/* A run's counts. */
struct mca_crl_stats {
	size_t		 written, current, would, skipped, failed;
};

/*
 * One run over every CA that may still have valid certificates: the
 * active one (the ledger's active generation, else config.json's
 * intermediate), the retired generations not yet expired, and
 * config.json's intermediate when a generation replaced it and it has
 * not expired; one CRL per CA key (a key kept across generations has
 * one CRL, the newest generation's). Generation keys in the token are
 * opened on one login. report (may be NULL) is called for each CA.
 * Returns 0 when every CRL is written or current (st says how many),
 * MCA_ERR_CONFIG when no CA can be loaded at all, or the ledger's error
 * with d set; a CA that failed counts in st->failed and does not stop
 * the others.
 */
int	 mca_crl_run(const struct mca_cfg *cfg, struct mca_ledger *l,
	    const struct mca_crl_opts *o,
	    void (*report)(void *, const struct mca_crl_event *), void *arg,
	    struct mca_crl_stats *st, struct mca_diag *d);

#endif
