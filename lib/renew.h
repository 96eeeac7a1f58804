/*
 * What microca-renew does, step by step, for the certificates the Micro
 * CA keeps for itself (issue 13): which is due, the key and CSR made and
 * recorded as pending before anything is sent, the enrollment over EST
 * (RFC 7030 4.2), the check of what comes back, and its installation
 * (lib/castate.h for the intermediate). Every step's progress is in the
 * ledger before the next starts, so that a run killed anywhere is
 * finished by the next one. Nothing here prints or exits: each function
 * returns 0 or an MCA_ERR_* with one line in d, and the program logs.
 */
#ifndef MCA_RENEW_H
#define MCA_RENEW_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "castate.h"
#include "certinfo.h"
#include "cfg.h"
#include "err.h"

struct mca_apiconfig;
struct mca_ledger;
struct mca_p11;
struct mca_estc;

/* The managed certificates, in the order a run takes them. */
enum mca_renew_job {
	MCA_RENEW_INTERMEDIATE,
	MCA_RENEW_DEVICE,
	MCA_RENEW_MTLS_SERVER,
	MCA_RENEW_MTLS_CLIENT,
	MCA_RENEW_JOB_MAX
};

/* "intermediate", "device", "mtls_server", "mtls_client" (castate.h). */
const char	*mca_renew_job_name(enum mca_renew_job job);

/* The job named name; MCA_RENEW_JOB_MAX when none. */
enum mca_renew_job mca_renew_job_by_name(const char *name);

/*
 * No certificate from upstream may begin later than this after our
 * clock (seconds): clocks differ a little, never by much.
 */
#define MCA_RENEW_SKEW		300
#define MCA_RENEW_WHERE_MAX	4200	/* "token:LABEL" or "file:PATH" */
#define MCA_RENEW_WHY_MAX	256

/* Where a managed certificate stands. */
struct mca_renew_status {
	enum mca_renew_job job;
	int		 managed;	/* microca-renew enrolls and renews it */
	int		 present;	/* a certificate is there */
	char		 subject[MCA_NAME_MAX];	/* RFC 2253, or "" */
	time_t		 not_after;
	long long	 days_left;	/* whole days to not_after (< 0: past) */
	int		 due;		/* managed, and missing or near its end */
	char		 key[MCA_RENEW_WHERE_MAX]; /* "token:L", "file:P", or "" */
	char		 why[MCA_RENEW_WHY_MAX];	/* one line: due or not, why */
	int		 pending;	/* an attempt is in flight */
	time_t		 retry_at;	/* of that attempt (0: none) */
};

/*
 * Where job stands at now: its certificate (for the intermediate the
 * active generation in the ledger, else intermediate_cert_path), its
 * key, whether it is due, and an attempt in flight. A certificate file
 * that cannot be read or parsed is "missing" (present 0) and, when
 * managed, due. Returns 0, or the ledger's error with d.
 */
int	 mca_renew_status(const struct mca_cfg *cfg, struct mca_ledger *l,
	    enum mca_renew_job job, time_t now, struct mca_renew_status *st,
	    struct mca_diag *d);

/*
 * Judges a certificate an upstream sent before anything is changed:
 *  - it is for pub (the key the CSR was made for);
 *  - with want_ca, basicConstraints cA TRUE (RFC 5280 4.2.1.9) and
 *    keyUsage with keyCertSign (RFC 5280 4.2.1.3);
 *  - notBefore no later than now + MCA_RENEW_SKEW, notAfter after now
 *    and after notBefore, and not after the issuer's notAfter;
 *  - it chains, through untrusted (what the server sent, may be NULL),
 *    to a trust anchor of the PEM bundle anchors (NULL: the system
 *    store); an anchor need not be self-signed.
 * *chain (may be NULL) gets the verified chain, cert first, anchor last.
 * Returns 0, MCA_ERR_POLICY with d saying what is wrong, MCA_ERR_CONFIG
 * (anchors unreadable) or MCA_ERR_NOMEM/CRYPTO.
 */
int	 mca_renew_check(X509 *cert, STACK_OF(X509) *untrusted,
	    EVP_PKEY *pub, int want_ca, const char *anchors, time_t now,
	    STACK_OF(X509) **chain, struct mca_diag *d);

/*
 * The upstream of job as the blocks configure it (the job's block, then
 * certificateRenewal_config, then the top level; lib/cfg.h), with the
 * mTLS client certificate as our TLS identity, into *e. Strings point
 * into cfg; a token key is taken from p (opened by the caller when the
 * client key is a label) into *tlskey, which the caller frees with
 * EVP_PKEY_free() after the requests. reenroll: job is the mTLS client
 * certificate renewing itself (it is then its own identity anyway).
 * Returns 0, MCA_ERR_CONFIG (no upstream configured) or p11's error.
 */
int	 mca_renew_upstream(const struct mca_cfg *cfg, enum mca_renew_job job,
	    struct mca_p11 *p, struct mca_estc *e, EVP_PKEY **tlskey,
	    struct mca_diag *d);

/* What a run of one job did. */
enum mca_renew_outcome {
	MCA_RENEW_INSTALLED,	/* a new certificate is in place */
	MCA_RENEW_PENDING,	/* the upstream answered 202: asked again later */
	MCA_RENEW_WAITING,	/* an earlier 202's Retry-After is not over */
	MCA_RENEW_OUTCOME_MAX
};

struct mca_renew_result {
	enum mca_renew_outcome outcome;
	int		 resumed;	/* the key and CSR of an earlier attempt */
	char		 key_label[MCA_CASTATE_LABEL_MAX + 1]; /* or "" */
	char		 key_path[MCA_RENEW_WHERE_MAX];	      /* or "" */
	char		 serial[MCA_HEX_MAX];	/* INSTALLED */
	char		 subject[MCA_NAME_MAX];	/* INSTALLED */
	time_t		 not_after;		/* INSTALLED */
	long long	 generation;		/* INSTALLED intermediate */
	time_t		 retry_at;		/* PENDING, WAITING */
	size_t		 keys_removed;		/* superseded token keys */
	char		 warning[MCA_DIAG_LEN + 64]; /* done, but: "" or a line */
	int		 completed;	/* mca_renew_finish() ended an install */
	/* mtls_server: trigger_server_restart_script after the install */
	int		 hook_ran;
	int		 hook_failed;	/* the run fails; the certificate stays */
	char		 hook[MCA_DIAG_LEN + 64];	/* how it ended */
};

/*
 * One run of job at now: resumes the attempt in flight or starts one
 * (a new key unless rekey is false, the CSR, recorded as pending before
 * it is sent), enrolls it, checks what comes back (mca_renew_check())
 * and installs it. p is the token session, or NULL when no key of the
 * job is in a token. api is the APIconfig (mca_renew_avx_load()) for the
 * intermediate when it is enrolled through the AppViewX REST API
 * (mca_renew_avx_wanted()), else NULL; its secrets are wiped once used.
 * Whatever fails, the certificate in use stays and the attempt stays
 * recorded for the next run. Returns 0 with r filled, or an MCA_ERR_*
 * with one line in d (MCA_ERR_POLICY: the upstream's answer was refused).
 */
int	 mca_renew_run(const struct mca_cfg *cfg, struct mca_ledger *l,
	    struct mca_p11 *p, enum mca_renew_job job, time_t now,
	    struct mca_apiconfig *api, struct mca_renew_result *r,
	    struct mca_diag *d);

/*
 * Completes job's install that a run stopped in the middle of (device,
 * mtls_server, mtls_client): the attempt in renew_pending whose new
 * certificate is there (a key file: KEY.new and CERT.new, renamed key
 * first, then certificate; a token key: the certificate file is for the
 * attempt's key) is ended, and the keys it replaced are superseded. For
 * mtls_server the restart script then runs (r->hook*). r->completed
 * says whether there was one to complete; an attempt still in flight is
 * left alone. Returns 0, or an MCA_ERR_* with d (files that disagree).
 */
int	 mca_renew_finish(const struct mca_cfg *cfg, struct mca_ledger *l,
	    struct mca_p11 *p, enum mca_renew_job job, time_t now,
	    struct mca_renew_result *r, struct mca_diag *d);

/*
 * Makes intermediate_cert_path hold the active generation's chain when
 * it does not (an earlier run stopped between the ledger and the file).
 * *written is 1 when the file was written. No generation: nothing.
 */
int	 mca_renew_sync_file(const struct mca_cfg *cfg, struct mca_ledger *l,
	    int *written, struct mca_diag *d);

/*
 * Removes from the token the superseded keys nothing refers to any more
 * (mca_castate_keys_unused()), and records each removal. *n is how many
 * went. Returns 0 or the first error (the keys before it are gone).
 */
int	 mca_renew_sweep_keys(struct mca_ledger *l, struct mca_p11 *p,
	    time_t now, size_t *n, struct mca_diag *d);

/*
 * A new key label: the UTC time of now as "YYYYMMDDHHMMSS" (the seed's
 * form), with "-2" ... "-99" after it when the token has that label
 * already (two runs in one second). Returns 0 or MCA_ERR_EXISTS.
 */
int	 mca_renew_new_label(struct mca_p11 *p, time_t now, char *out,
	    size_t len, struct mca_diag *d);

#endif
