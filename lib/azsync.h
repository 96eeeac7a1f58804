/*
 * The drain of the Azure IoT Hub queue (issue 14): microca-azsync's
 * steps. The ledger's pending rows (certificates.azure_sync, lib/ledger.h)
 * are taken in issue order, a batch at a time; each certificate's device
 * ID and thumbprints (lib/azure.h) go to the hub, either directly over its
 * REST API with SAS tokens (lib/azhub.h) or through an AppViewX workflow
 * over mTLS (lib/avxwf.h); and each row's outcome is written to the
 * ledger before the next row is begun, so that a run killed anywhere is
 * finished by the next one (the hub sequence itself is idempotent: a
 * device that already shows the thumbprints is not written again).
 *
 * Nothing here prints or logs: each row's outcome goes to a report
 * callback, and no message holds a key or a token.
 */
#ifndef MCA_AZSYNC_H
#define MCA_AZSYNC_H

#include <signal.h>
#include <stddef.h>

#include "err.h"

#define MCA_AZSYNC_BATCH	100	/* rows per ledger read */
#define MCA_AZSYNC_BACKOFF_MIN	15	/* seconds: the first wait */
#define MCA_AZSYNC_RETRY_AFTER_MAX 86400 /* the longest Retry-After taken */
#define MCA_AZSYNC_DRYRUN_MAX	1000	/* rows --dry-run shows */

struct mca_apiconfig;
struct mca_avxwf;
struct mca_cfg;
struct mca_ledger;

enum mca_azsync_outcome {
	MCA_AZSYNC_SYNCED,	/* the hub confirmed: 'synced' */
	MCA_AZSYNC_DEFERRED,	/* still 'pending', next_attempt set */
	MCA_AZSYNC_FAILED,	/* 'failed': refused, or out of attempts */
	MCA_AZSYNC_WOULD,	/* --dry-run: what would be sent */
	MCA_AZSYNC_OUTCOME_MAX
};

/* One row's outcome, for the caller's log; strings valid in the call. */
struct mca_azsync_event {
	enum mca_azsync_outcome	 outcome;
	const char		*serial;
	const char		*label;
	const char		*device_id;	/* "" when not known */
	const char		*primary;	/* "" when not known */
	const char		*secondary;	/* "" none (the hub's own kept) */
	const char		*target;	/* the device URL or workflow */
	int			 created;	/* a new device in the hub */
	long			 status;	/* last HTTP status, 0 none */
	int			 attempts;	/* failed attempts so far */
	long long		 next_attempt;	/* DEFERRED: not before */
	const char		*msg;		/* why; "" when synced */
};

typedef void (*mca_azsync_report_fn)(void *arg,
    const struct mca_azsync_event *ev);

struct mca_azsync {
	struct mca_ledger	*ledger;
	int			 direct;	/* update_azure_iot_hub_from_standalone_server */
	/* direct mode (APIconfig; the secrets in the clear) */
	const char		*url_template;	/* azurehuburl */
	const char		*cafile;	/* azure_hub_ca_cert or NULL */
	const char		*hub_key;	/* azure_hub_key, or NULL: */
	const char		*static_token;	/* azurehubcreds as given */
	const char		*policy;	/* azure_hub_policy_name */
	int			 token_validity; /* seconds */
	const char		*resolve;	/* tests: "host:port:addr" */
	long			 timeout;	/* seconds per request; 0 default */
	/* AppViewX mode */
	const struct mca_avxwf	*avxwf;
	/* both */
	const char		*device_id_field; /* NULL: CN */
	int			 sha256;	/* thumbprints: SHA-256 */
	int			 max_attempts;	/* then 'failed' */
	long long		 backoff_max;	/* seconds */
	size_t			 batch;		/* 0: MCA_AZSYNC_BATCH */
	int			 dry_run;
	volatile sig_atomic_t	*stop;		/* set: stop after the row */
	mca_azsync_report_fn	 report;
	void			*report_arg;
};

struct mca_azsync_stats {
	size_t		 synced, deferred, failed, would;
	int		 halted;	/* the hub was down, throttling or
					   refused our credentials: the rest
					   of the rows wait for the next pass */
	long long	 hub_wait;	/* seconds the hub asked for, 0 none */
	long long	 next_due;	/* earliest next_attempt put, 0 none */
};

/*
 * The APIconfig at path for microca-azsync: loaded (lib/apiconfig.h),
 * what the mode needs checked (direct: azurehuburl and azure_hub_key or
 * azurehubcreds), and its enc:v1 secrets (azure_hub_key, azurehubcreds)
 * decrypted with cfg's encryption_key_file_path, the key's name as
 * associated data (lib/secret.h). Returns 0, or MCA_ERR_NOTFOUND,
 * MCA_ERR_IO, MCA_ERR_CONFIG (the line names the file and the key, never
 * a secret) or MCA_ERR_NOMEM; *out NULL then.
 */
int	 mca_azsync_load_api(const struct mca_cfg *cfg, const char *path,
	    int direct, struct mca_apiconfig **out, struct mca_diag *d);

/*
 * What s needs before any request, at now: the URL template makes a
 * device URL (mca_az_device_url()), the CA bundle can be read, and a
 * static token (azurehubcreds without azure_hub_key) has not expired.
 * Returns 0 or MCA_ERR_CONFIG with d saying which key, and why.
 */
int	 mca_azsync_check(const struct mca_azsync *s, long long now,
	    struct mca_diag *d);

/*
 * The wait in seconds after a failed attempt when attempts had failed
 * before it: MCA_AZSYNC_BACKOFF_MIN doubled per earlier failure, at most
 * max (at least 1), and no less than retry_after (the hub's Retry-After;
 * negative: none; at most MCA_AZSYNC_RETRY_AFTER_MAX).
 */
long long mca_azsync_backoff(int attempts, long long max,
	    long long retry_after);

/*
 * One pass of the drain: the rows due at its start, in issue order,
 * until none is left, s->stop is set, or the hub is down, throttling or
 * refuses the credentials (st->halted: that row is put off, the others
 * are not touched). Each row: synced, put off with a backoff (the hub's
 * Retry-After honoured) and its last status and error, or failed (a
 * permanent refusal, a certificate without a usable device ID, or
 * max_attempts reached); each reported. With s->dry_run nothing is sent
 * or written: up to MCA_AZSYNC_DRYRUN_MAX due rows are reported as
 * MCA_AZSYNC_WOULD. Returns 0 (whatever the rows' outcomes, counted in
 * *st), or the ledger's error (or MCA_ERR_NOMEM) with d.
 */
int	 mca_azsync_pass(const struct mca_azsync *s,
	    struct mca_azsync_stats *st, struct mca_diag *d);

/* "synced", "deferred", "failed", "would". */
const char	*mca_azsync_outcome_name(enum mca_azsync_outcome o);

#endif
