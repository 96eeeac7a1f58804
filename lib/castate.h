/*
 * The Micro CA's own certificates as microca-renew keeps them in the
 * ledger (sql/migrations/0008-ca-state.sql): the generations of the
 * intermediate the EST workers sign with, and the renewal attempts in
 * flight. No function here exits or prints; each returns 0 or an
 * MCA_ERR_* value, with mca_ledger_errmsg(l, rc) saying why.
 */
#ifndef MCA_CASTATE_H
#define MCA_CASTATE_H

#include <time.h>

#include "err.h"

struct mca_ledger;

/* The managed certificates, by the job name the tables use. */
#define MCA_JOB_INTERMEDIATE	"intermediate"
#define MCA_JOB_DEVICE		"device"
#define MCA_JOB_MTLS_SERVER	"mtls_server"
#define MCA_JOB_MTLS_CLIENT	"mtls_client"

#define MCA_CASTATE_LABEL_MAX	128
#define MCA_CASTATE_CHAIN_MAX	262144

/* One row of ca_generations. Strings are owned; mca_ca_gen_free(). */
struct mca_ca_gen {
	long long	 id;		/* grows with each install */
	int		 active;	/* 1 active, 0 retired */
	char		*key_label;	/* PKCS#11 label, or NULL */
	char		*key_path;	/* PEM key file, or NULL */
	char		*chain_pem;	/* intermediate first, then issuers */
	char		 serial[65];	/* hex, as the ledger stores serials */
	char		 sha256[65];	/* of the intermediate's DER, hex */
	time_t		 not_before, not_after, installed_at;
};

void	 mca_ca_gen_free(struct mca_ca_gen *g);	/* the strings; NULL-safe */

/*
 * The id of the active generation, 0 when none (config.json's
 * intermediate is in use). One indexed read: a worker calls it before
 * each request (or once a second) and reloads when it changed.
 */
int	 mca_castate_active_id(struct mca_ledger *l, long long *id);

/* The active generation; MCA_ERR_NOTFOUND when none. */
int	 mca_castate_active(struct mca_ledger *l, struct mca_ca_gen *g);

/*
 * The retired generations whose not_after is after now, newest first,
 * at most max of them: still trusted to sign a client's renewal
 * request. *n is how many were filled.
 */
int	 mca_castate_retired(struct mca_ledger *l, time_t now,
	    struct mca_ca_gen *gens, size_t max, size_t *n);

/*
 * Installs a new active generation in one IMMEDIATE transaction: the
 * previous active row becomes retired, its key label (when it differs)
 * goes to key_superseded, and the pending attempt of "intermediate"
 * is cleared. Exactly one of key_label and key_path is set. The caller
 * has checked the chain (lib/renew.c); this only records it. *id is
 * the new generation's id.
 */
int	 mca_castate_install(struct mca_ledger *l, const char *key_label,
	    const char *key_path, const char *chain_pem, const char *serial,
	    const char *sha256, time_t not_before, time_t not_after,
	    long long *id);

/* An attempt in flight (renew_pending). Strings owned. */
struct mca_renew_pending {
	char		*job;
	char		*key_label;	/* or NULL */
	char		*key_path;	/* or NULL */
	char		*csr_pem;
	time_t		 created_at;
	time_t		 retry_at;	/* 0: none */
	int		 attempts;
};

void	 mca_renew_pending_free(struct mca_renew_pending *p);

/* The attempt of job; MCA_ERR_NOTFOUND when none. */
int	 mca_castate_pending_get(struct mca_ledger *l, const char *job,
	    struct mca_renew_pending *p);

/*
 * Records a new attempt for job, replacing any earlier one in the same
 * transaction; the earlier attempt's key label, when it differs, goes
 * to key_superseded.
 */
int	 mca_castate_pending_put(struct mca_ledger *l, const char *job,
	    const char *key_label, const char *key_path, const char *csr_pem,
	    time_t now);

/* After an EST 202: attempts + 1, and not before retry_at. */
int	 mca_castate_pending_wait(struct mca_ledger *l, const char *job,
	    time_t retry_at);

/*
 * Ends job's attempt (after its certificate is installed, for jobs
 * other than the intermediate). The key stays: it is now in use.
 * Returns 0 also when there was none, so that a resumed run may repeat
 * it.
 */
int	 mca_castate_pending_clear(struct mca_ledger *l, const char *job);

/*
 * Ends job's attempt once its certificate is in place (a job other
 * than the intermediate), and records the n token key labels it
 * replaced as superseded (removed from the token by a later run once
 * nothing refers to them), in one transaction. A label of the attempt
 * itself is never recorded. Returns 0 also when there was no attempt
 * (a resumed run repeats it; n labels are still recorded).
 */
int	 mca_castate_pending_done(struct mca_ledger *l, const char *job,
	    const char *const *superseded, size_t n, time_t now);

/*
 * The superseded token keys that nothing refers to any more (no
 * generation, active or retired and unexpired, no pending attempt):
 * up to max labels into labels[] (each MCA_CASTATE_LABEL_MAX + 1
 * bytes), for the caller to remove from the token, and then
 * mca_castate_key_removed() each.
 */
int	 mca_castate_keys_unused(struct mca_ledger *l, time_t now,
	    char labels[][MCA_CASTATE_LABEL_MAX + 1], size_t max, size_t *n);
int	 mca_castate_key_removed(struct mca_ledger *l, const char *label);

/*
 * Records label, a token key about to be made, as superseded (spare)
 * before it exists: a run killed after the key is made but before
 * mca_castate_pending_put() records its attempt (which takes the label
 * back out) leaves a key the next sweep removes, not one nothing knows
 * of. Its own transaction.
 */
int	 mca_castate_key_intended(struct mca_ledger *l, const char *label,
	    time_t now);

#endif
