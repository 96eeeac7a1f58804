/*
 * microca-azsync's drain of the Azure IoT Hub queue. See azsync.h.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "apiconfig.h"
#include "avxwf.h"
#include "azhub.h"
#include "azsync.h"
#include "azure.h"
#include "certinfo.h"
#include "cfg.h"
#include "err.h"
#include "ledger.h"
#include "revoke.h"
#include "secret.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define AZ_PROBE_ID	"microca-probe"	/* a device ID to try the template */

static const char *const outcome_names[MCA_AZSYNC_OUTCOME_MAX] = {
	"synced", "deferred", "failed", "would",
};

const char *
mca_azsync_outcome_name(enum mca_azsync_outcome o)
{
	if ((int)o < 0 || o >= MCA_AZSYNC_OUTCOME_MAX)
		return "?";
	return outcome_names[o];
}

/* ---------------------------------------------------------------- APIconfig */

/*
 * The enc:v1 value of *sp, stored under name, replaced by its plaintext
 * (key loaded once into key). A value in the clear is kept.
 */
static int
open_secret(const struct mca_cfg *cfg, const struct mca_apiconfig *a,
    const char *name, char **sp, struct mca_secret_key *key,
    struct mca_diag *d)
{
	struct mca_diag	 sub;
	const char	*kf = cfg->encryption_key_file_path;
	char		*plain = NULL;
	int		 rc;

	if (*sp == NULL || !mca_secret_is_enc(*sp, strlen(*sp)))
		return 0;
	if (kf == NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: %s: is encrypted ("
		    MCA_SECRET_PREFIX ") but %s does not set "
		    "encryption_key_file_path", a->path, name, cfg->path);
	if (!key->loaded && (rc = mca_secret_key_load(kf, key, &sub)) != 0)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: %s: cannot be "
		    "decrypted: encryption_key_file_path: %s", a->path, name,
		    sub.msg);
	if ((rc = mca_secret_decrypt(key, name, *sp, strlen(*sp), &plain,
	    NULL, &sub)) != 0)
		return mca_diag(d, rc == MCA_ERR_NOMEM ? rc : MCA_ERR_CONFIG,
		    "%s: %s: cannot be decrypted with the key in %s: %s",
		    a->path, name, kf, sub.msg);
	OPENSSL_cleanse(*sp, strlen(*sp));
	free(*sp);
	*sp = plain;
	return 0;
}

int
mca_azsync_load_api(const struct mca_cfg *cfg, const char *path, int direct,
    struct mca_apiconfig **out, struct mca_diag *d)
{
	struct mca_apiconfig	*a = NULL;
	struct mca_secret_key	 key;
	int			 rc;

	memset(&key, 0, sizeof(key));
	mca_diag_clear(d);
	if (out == NULL || cfg == NULL || path == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_azsync_load_api: no "
		    "input");
	*out = NULL;
	if ((rc = mca_apiconfig_load(path, &a, d)) != 0)
		return rc;
	if (direct && !a->update_azure_iot_hub_from_standalone_server) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: "
		    "update_azure_iot_hub_from_standalone_server: not true",
		    a->path);
		goto out;
	}
	/* (lib/cfg_apiconfig.c has checked the keys direct mode needs) */
	if ((rc = open_secret(cfg, a, "azure_hub_key", &a->azure_hub_key,
	    &key, d)) != 0 ||
	    (rc = open_secret(cfg, a, "azurehubcreds", &a->azurehubcreds,
	    &key, d)) != 0)
		goto out;
	/* AppViewX mode uses no Azure secret: none is kept. */
	if (!a->update_azure_iot_hub_from_standalone_server)
		mca_apiconfig_wipe_secrets(a);
	rc = 0;
out:
	mca_secret_key_clear(&key);
	if (rc != 0)
		mca_apiconfig_free(a);
	else
		*out = a;
	return rc;
}

/* ---------------------------------------------------------------- checks */

int
mca_azsync_check(const struct mca_azsync *s, long long now,
    struct mca_diag *d)
{
	struct mca_diag	 sub;
	char		*url = NULL, *sr = NULL, when[MCA_TIME_MAX];
	long long	 se;
	FILE		*f;
	int		 rc;

	mca_diag_clear(d);
	if (s == NULL || s->ledger == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_azsync_check: no input");
	if (s->max_attempts < 1)
		return mca_diag(d, MCA_ERR_CONFIG, "azure_max_attempts: must "
		    "be at least 1");
	if (!s->direct) {
		if (s->avxwf == NULL)
			return mca_diag(d, MCA_ERR_CONFIG, "AppViewX mode "
			    "without its workflow settings");
		return 0;
	}
	if (s->url_template == NULL)
		return mca_diag(d, MCA_ERR_CONFIG, "azurehuburl: missing");
	if ((rc = mca_az_device_url(s->url_template, AZ_PROBE_ID, &url, &sr,
	    &sub)) != 0) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "azurehuburl: %s", sub.msg);
		goto out;
	}
	if (s->cafile != NULL) {
		if ((f = fopen(s->cafile, "r")) == NULL) {
			rc = mca_diag(d, MCA_ERR_CONFIG, "azure_hub_ca_cert: "
			    "%s: cannot be read", s->cafile);
			goto out;
		}
		(void)fclose(f);
	}
	if (s->hub_key == NULL) {
		if (s->static_token == NULL) {
			rc = mca_diag(d, MCA_ERR_CONFIG, "azure_hub_key: "
			    "missing, and no azurehubcreds either");
			goto out;
		}
		if ((rc = mca_az_sas_expiry(s->static_token, &se,
		    &sub)) != 0) {
			/* (sub never quotes the token) */
			rc = mca_diag(d, MCA_ERR_CONFIG, "azurehubcreds: not "
			    "a usable SAS token: %s", sub.msg);
			goto out;
		}
		if (se <= now) {
			if (mca_time_iso((time_t)se, when, sizeof(when)) != 0)
				(void)snprintf(when, sizeof(when), "se=%lld",
				    se);
			rc = mca_diag(d, MCA_ERR_CONFIG, "azurehubcreds: the "
			    "SAS token expired at %s (se=%lld): make a new "
			    "one (microca-admin azure-sas) or set "
			    "azure_hub_key and azure_hub_policy_name", when,
			    se);
			goto out;
		}
	} else if (s->token_validity < 1) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "azure_token_validity: must "
		    "be at least 1");
		goto out;
	}
	rc = 0;
out:
	free(url);
	free(sr);
	return rc;
}

long long
mca_azsync_backoff(int attempts, long long max, long long retry_after)
{
	long long	 w = MCA_AZSYNC_BACKOFF_MIN;
	int		 i;

	if (max < 1)
		max = 1;
	for (i = 0; i < attempts && w < max; i++)
		w *= 2;
	if (w > max)
		w = max;
	if (retry_after > MCA_AZSYNC_RETRY_AFTER_MAX)
		retry_after = MCA_AZSYNC_RETRY_AFTER_MAX;
	if (retry_after > w)
		w = retry_after;
	return w;
}

/* ---------------------------------------------------------------- one row */

/* The SAS tokens of direct mode: made from the key, or the static one. */
struct auth_ctx {
	const struct mca_azsync	*s;
	const char		*sr;	/* the resource the token signs */
};

static int
auth_token(void *arg, int renew, char **value, struct mca_diag *d)
{
	struct auth_ctx	*a = arg;
	long long	 now = (long long)time(NULL);

	(void)renew;	/* each call makes a fresh token anyway */
	*value = NULL;
	if (a->s->hub_key == NULL) {
		if ((*value = strdup(a->s->static_token)) == NULL)
			return mca_diag(d, MCA_ERR_NOMEM, "out of memory");
		return 0;
	}
	return mca_az_sas(a->sr, a->s->hub_key, a->s->policy,
	    now + a->s->token_validity, value, d);
}

/* What one row is: its certificate's device ID and thumbprints. */
struct row_ctx {
	char		 devid[MCA_AZ_DEVID_MAX];
	char		 primary[MCA_AZ_THUMB_MAX];
	char		 secondary[MCA_AZ_THUMB_MAX];
	char		*url;
	char		*sr;
};

static X509 *
pem_cert(const char *pem)
{
	BIO	*b;
	X509	*x;

	if (pem == NULL || (b = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return x;
}

/*
 * The device ID, thumbprints and (direct mode) URL of row into rc_.
 * 0, MCA_ERR_POLICY (the certificate cannot be synced: no device ID, a
 * PEM that does not parse), or a local error; d says why.
 */
static int
row_prepare(const struct mca_azsync *s, const struct mca_ledger_azrow *row,
    struct row_ctx *c, struct mca_diag *d)
{
	struct mca_diag	 sub;
	X509		*x = NULL, *prev = NULL;
	int		 rc;

	memset(c, 0, sizeof(*c));
	if ((x = pem_cert(row->pem)) == NULL) {
		rc = mca_diag(d, MCA_ERR_POLICY, "the ledger's certificate "
		    "does not parse");
		goto out;
	}
	if ((rc = mca_az_device_id(x, s->device_id_field, c->devid,
	    sizeof(c->devid), &sub)) != 0) {
		rc = mca_diag(d, rc, "no device ID (azure_device_id_field "
		    "%s): %s", s->device_id_field != NULL ?
		    s->device_id_field : "CN", sub.msg);
		goto out;
	}
	if ((rc = mca_az_thumbprint(x, s->sha256, c->primary, d)) != 0)
		goto out;
	/* The certificate it renews stays valid in the hub until it switches. */
	if (row->prev_pem != NULL) {
		if ((prev = pem_cert(row->prev_pem)) == NULL) {
			rc = mca_diag(d, MCA_ERR_POLICY, "the ledger's "
			    "certificate it replaces does not parse");
			goto out;
		}
		if ((rc = mca_az_thumbprint(prev, s->sha256, c->secondary,
		    d)) != 0)
			goto out;
		/* (a renewal with the same certificate: nothing to keep) */
		if (strcmp(c->secondary, c->primary) == 0)
			c->secondary[0] = '\0';
	}
	if (s->direct && (rc = mca_az_device_url(s->url_template, c->devid,
	    &c->url, &c->sr, &sub)) != 0) {
		rc = mca_diag(d, rc == MCA_ERR_NOMEM ? rc : MCA_ERR_POLICY,
		    "device ID \"%s\": azurehuburl: %s", c->devid, sub.msg);
		goto out;
	}
	rc = 0;
out:
	X509_free(x);
	X509_free(prev);
	return rc;
}

static void
row_clear(struct row_ctx *c)
{
	free(c->url);
	free(c->sr);
	c->url = c->sr = NULL;
}

/* What the hub (or the workflow) said about one row. */
struct row_result {
	int		 rc;		/* 0, MCA_ERR_BUSY, _AUTH, _POLICY, ... */
	long		 status;
	long long	 retry_after;	/* -1 none */
	char		 etag[128];
	char		 request_id[128];
	int		 created;
	int		 halt;		/* the hub as a whole is unwell */
	char		 msg[MCA_DIAG_LEN];
};

static void
row_direct(const struct mca_azsync *s, const struct row_ctx *c,
    struct row_result *res)
{
	struct mca_azhub		 h;
	struct mca_azhub_update		 u;
	struct mca_azhub_result		 r;
	struct auth_ctx			 a;
	struct mca_diag			 d;

	memset(&h, 0, sizeof(h));
	memset(&u, 0, sizeof(u));
	memset(&r, 0, sizeof(r));
	a.s = s;
	a.sr = c->sr;
	h.url = c->url;
	h.cafile = s->cafile;
	h.resolve = s->resolve;
	h.timeout = s->timeout;
	h.auth = auth_token;
	h.auth_arg = &a;
	u.device_id = c->devid;
	u.primary = c->primary;
	u.secondary = c->secondary[0] != '\0' ? c->secondary : NULL;
	u.sha256 = s->sha256;
	r.retry_after = -1;
	mca_diag_clear(&d);
	res->rc = mca_azhub_update(&h, &u, &r, &d);
	res->status = r.status;
	res->retry_after = r.retry_after;
	res->created = r.created;
	(void)snprintf(res->etag, sizeof(res->etag), "%s", r.etag);
	(void)snprintf(res->msg, sizeof(res->msg), "%s", d.msg);
	/* Throttled, down, unreachable, or our credentials refused. */
	res->halt = res->rc == MCA_ERR_AUTH || (res->rc == MCA_ERR_BUSY &&
	    (r.status == 0 || r.status == 429 || r.status >= 500));
}

static void
row_avxwf(const struct mca_azsync *s, const struct mca_ledger_azrow *row,
    const struct row_ctx *c, struct row_result *res)
{
	struct mca_avxwf_req	 q;
	struct mca_avxwf_result	 r;
	struct mca_diag		 d;

	memset(&q, 0, sizeof(q));
	memset(&r, 0, sizeof(r));
	q.device_id = c->devid;
	q.primary = c->primary;
	q.secondary = c->secondary[0] != '\0' ? c->secondary : NULL;
	q.cert_pem = row->pem;
	mca_diag_clear(&d);
	res->rc = mca_avxwf_register(s->avxwf, &q, row->request_id[0] !=
	    '\0' ? row->request_id : NULL, &r, &d);
	res->status = r.http;
	res->retry_after = -1;
	(void)snprintf(res->request_id, sizeof(res->request_id), "%s",
	    r.request_id);
	(void)snprintf(res->msg, sizeof(res->msg), "%s", d.msg);
	res->halt = res->rc == MCA_ERR_AUTH || (res->rc == MCA_ERR_BUSY &&
	    (r.http == 0 || r.http == 429 || r.http >= 500));
}

static void
report(const struct mca_azsync *s, struct mca_azsync_event *ev)
{
	if (s->report != NULL)
		s->report(s->report_arg, ev);
}

/*
 * Whether row's certificate is revoked now (lib/revoke.h): 1 with
 * res->msg saying so, 0 if not (or it is not in the ledger: the queue
 * judges that), or the ledger's error (< 0) with res->msg.
 */
static int
row_revoked(const struct mca_azsync *s, const struct mca_ledger_azrow *row,
    struct row_result *res)
{
	struct mca_revoke_state	 st;
	struct mca_diag		 d;
	int			 rc;

	rc = mca_revoke_status(s->ledger, row->serial, &st, &d);
	if (rc == MCA_ERR_NOTFOUND)
		return 0;
	if (rc != 0) {
		(void)snprintf(res->msg, sizeof(res->msg), "%s", d.msg);
		return rc;
	}
	if (!st.revoked)
		return 0;
	(void)snprintf(res->msg, sizeof(res->msg), "the certificate is "
	    "revoked (%s, at %s): its thumbprint is not pushed%s",
	    mca_revoke_reason_name(st.reason) != NULL ?
	    mca_revoke_reason_name(st.reason) : "?", st.revoked_at,
	    st.reason == MCA_REVOKE_CERTIFICATE_HOLD ? "; after \"microca-"
	    "admin unrevoke\", queue it with \"microca-admin azure retry\"" :
	    "");
	return 1;
}

/*
 * One row from prepare to its outcome in the ledger. 0 (whatever the
 * outcome; *halt set when the pass should stop) or the ledger's error.
 */
static int
row_sync(const struct mca_azsync *s, const struct mca_ledger_azrow *row,
    struct mca_azsync_stats *st, int *halt, struct mca_diag *d)
{
	struct mca_azsync_event	 ev;
	struct row_ctx		 c;
	struct row_result	 res;
	struct mca_diag		 pd;
	long long		 now, next = 0;
	int			 rc, failed;

	*halt = 0;
	memset(&ev, 0, sizeof(ev));
	memset(&res, 0, sizeof(res));
	ev.serial = row->serial;
	ev.label = row->label;
	ev.attempts = row->attempts;
	res.retry_after = -1;
	/*
	 * A revoked certificate (on hold too) is not pushed to the hub: its
	 * thumbprint would let the device in. The row fails for good, with
	 * the reason as its last error, so that it is logged once and not
	 * tried on every run; a hold lifted later is queued again with
	 * "microca-admin azure retry" (microca-azsync(8)).
	 */
	memset(&c, 0, sizeof(c));
	if ((rc = row_revoked(s, row, &res)) < 0) {
		rc = mca_diag(d, rc, "%s", res.msg);
		goto out;
	}
	if (rc > 0)
		res.rc = MCA_ERR_POLICY;
	else if ((res.rc = row_prepare(s, row, &c, &pd)) != 0)
		(void)snprintf(res.msg, sizeof(res.msg), "%s", pd.msg);
	ev.device_id = c.devid;
	ev.primary = c.primary;
	ev.secondary = c.secondary;
	ev.target = s->direct ? (c.url != NULL ? c.url : "") :
	    (s->avxwf != NULL && s->avxwf->workflow != NULL ?
	    s->avxwf->workflow : "");
	if (res.rc == 0 && s->dry_run) {
		ev.outcome = MCA_AZSYNC_WOULD;
		ev.msg = row->request_id[0] != '\0' ? "the workflow request "
		    "in flight is polled" : "";
		st->would++;
		report(s, &ev);
		rc = 0;
		goto out;
	}
	if (s->dry_run) {
		ev.outcome = MCA_AZSYNC_WOULD;
		ev.msg = res.msg;
		st->would++;
		report(s, &ev);
		rc = 0;
		goto out;
	}
	if (res.rc == 0) {
		if (s->direct)
			row_direct(s, &c, &res);
		else
			row_avxwf(s, row, &c, &res);
	}
	now = (long long)time(NULL);
	ev.status = res.status;
	ev.created = res.created;
	if (res.rc == 0) {
		if ((rc = mca_ledger_azure_synced(s->ledger, row->id, now,
		    res.status, res.etag[0] != '\0' ? res.etag : NULL,
		    d)) != 0)
			goto out;
		ev.outcome = MCA_AZSYNC_SYNCED;
		ev.msg = "";
		st->synced++;
		report(s, &ev);
		goto out;
	}
	/*
	 * A refusal that another attempt cannot change, or the last attempt
	 * allowed: 'failed', until microca-admin azure retry.
	 */
	failed = res.rc == MCA_ERR_POLICY ||
	    row->attempts + 1 >= s->max_attempts;
	if (!failed) {
		next = now + mca_azsync_backoff(row->attempts, s->backoff_max,
		    res.retry_after);
		if (st->next_due == 0 || next < st->next_due)
			st->next_due = next;
	}
	if (res.halt) {
		*halt = 1;
		if (res.retry_after > st->hub_wait)
			st->hub_wait = res.retry_after >
			    MCA_AZSYNC_RETRY_AFTER_MAX ?
			    MCA_AZSYNC_RETRY_AFTER_MAX : res.retry_after;
	}
	if (res.msg[0] == '\0')
		(void)snprintf(res.msg, sizeof(res.msg), "%s",
		    mca_strerror(res.rc));
	if ((rc = mca_ledger_azure_defer(s->ledger, row->id, now, next,
	    res.status, res.msg, res.request_id[0] != '\0' ? res.request_id :
	    NULL, failed, d)) != 0)
		goto out;
	ev.outcome = failed ? MCA_AZSYNC_FAILED : MCA_AZSYNC_DEFERRED;
	ev.attempts = row->attempts + 1;
	ev.next_attempt = next;
	ev.msg = res.msg;
	if (failed)
		st->failed++;
	else
		st->deferred++;
	report(s, &ev);
	rc = 0;
out:
	row_clear(&c);
	return rc;
}

/* ---------------------------------------------------------------- the pass */

int
mca_azsync_pass(const struct mca_azsync *s, struct mca_azsync_stats *st,
    struct mca_diag *d)
{
	struct mca_ledger_azrow	*rows = NULL;
	size_t			 n = 0, i, batch;
	long long		 start, last = LLONG_MIN;
	int			 rc, halt = 0;

	mca_diag_clear(d);
	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (s == NULL || st == NULL || s->ledger == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "mca_azsync_pass: no input");
	batch = s->batch > 0 ? s->batch : MCA_AZSYNC_BATCH;
	if (s->dry_run)
		batch = MCA_AZSYNC_DRYRUN_MAX;
	/*
	 * The rows due when the pass began: a row put off in it has its
	 * next attempt after start, so it is not met again.
	 */
	start = (long long)time(NULL);
	for (;;) {
		if (s->stop != NULL && *s->stop)
			break;
		if ((rc = mca_ledger_azure_due(s->ledger, start, batch, &rows,
		    &n, d)) != 0)
			goto out;
		if (n == 0)
			break;
		/*
		 * Each row handed out is moved on, so the next batch starts
		 * after the last; one before it was put back meanwhile
		 * (microca-admin azure retry): it waits for the next pass.
		 */
		if (rows[0].id <= last)
			break;
		for (i = 0; i < n; i++) {
			if (s->stop != NULL && *s->stop)
				break;
			if ((rc = row_sync(s, &rows[i], st, &halt, d)) != 0)
				goto out;
			last = rows[i].id;
			if (halt) {
				st->halted = 1;
				break;
			}
		}
		mca_ledger_azrows_free(rows, n);
		rows = NULL;
		if (halt || s->dry_run || i < n)
			break;
	}
	rc = 0;
out:
	mca_ledger_azrows_free(rows, n);
	return rc;
}
