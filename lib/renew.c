/*
 * microca-renew's steps (renew.h): status, the check of what an upstream
 * sends, and the run of one managed certificate over EST.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "castate.h"
#include "certinfo.h"
#include "cfg.h"
#include "csrgen.h"
#include "err.h"
#include "estc.h"
#include "fileio.h"
#include "ledger.h"
#include "p11.h"
#include "pem.h"
#include "renew.h"
#include "renew_avx.h"

#define DAY		86400LL
#define CERT_FILE_MAX	MCA_CASTATE_CHAIN_MAX
#define LABEL_TRIES	99
/* Defaults when key_type/key_size are not configured. */
#define DEF_RSA_BITS	2048
#define DEF_EC_BITS	256

static const char *const job_names[MCA_RENEW_JOB_MAX] = {
	MCA_JOB_INTERMEDIATE,
	MCA_JOB_DEVICE,
	MCA_JOB_MTLS_SERVER,
	MCA_JOB_MTLS_CLIENT,
};

const char *
mca_renew_job_name(enum mca_renew_job job)
{
	if ((int)job < 0 || job >= MCA_RENEW_JOB_MAX)
		return "?";
	return job_names[job];
}

enum mca_renew_job
mca_renew_job_by_name(const char *name)
{
	int	 i;

	if (name == NULL)
		return MCA_RENEW_JOB_MAX;
	for (i = 0; i < MCA_RENEW_JOB_MAX; i++)
		if (strcmp(name, job_names[i]) == 0)
			return (enum mca_renew_job)i;
	return MCA_RENEW_JOB_MAX;
}

/* ---------------------------------------------------------------- helpers */

/* An ASN1_TIME as Unix seconds. 0 or MCA_ERR_INVAL. */
static int
asn1_time_t(const ASN1_TIME *a, time_t *t)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
		return MCA_ERR_INVAL;
	if ((*t = timegm(&tm)) == (time_t)-1)
		return MCA_ERR_INVAL;
	return 0;
}

/* The certificates of PEM text, in order, into a new stack. */
static int
pem_certs(const char *pem, size_t len, STACK_OF(X509) **out)
{
	STACK_OF(X509)	*sk = NULL;
	BIO		*b = NULL;
	X509		*x;
	int		 rc = MCA_ERR_NOMEM;

	*out = NULL;
	if (len > INT_MAX)
		return MCA_ERR_TOOBIG;
	if ((sk = sk_X509_new_null()) == NULL ||
	    (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		goto out;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			goto out;
		}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		rc = MCA_ERR_INVAL;
		goto out;
	}
	*out = sk;
	sk = NULL;
	rc = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);
	return rc;
}

/* The certificates of a PEM file (at most CERT_FILE_MAX bytes). */
static int
file_certs(const char *path, STACK_OF(X509) **out)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	int		 rc;

	*out = NULL;
	if ((rc = mca_file_read(path, CERT_FILE_MAX, &b, NULL)) == 0)
		rc = pem_certs((const char *)b.data, b.len, out);
	mca_buf_free(&b);
	return rc;
}

/* The PEM of every certificate of sk, in order, appended to out. */
static int
chain_pem(STACK_OF(X509) *sk, struct mca_buf *out)
{
	int	 i, rc;

	for (i = 0; i < sk_X509_num(sk); i++)
		if ((rc = mca_pem_write_cert(sk_X509_value(sk, i), out)) != 0)
			return rc;
	return 0;
}

/* Splits path into its directory and file name. 0 or MCA_ERR_INVAL. */
static int
split_path(const char *path, char *dir, size_t dirlen, const char **name)
{
	const char	*slash;
	int		 n;

	if ((slash = strrchr(path, '/')) == NULL) {
		(void)snprintf(dir, dirlen, ".");
		*name = path;
	} else {
		n = snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
		if (n < 0 || (size_t)n >= dirlen)
			return MCA_ERR_TOOBIG;
		if (slash == path)
			(void)snprintf(dir, dirlen, "/");
		*name = slash + 1;
	}
	return **name == '\0' ? MCA_ERR_INVAL : 0;
}

/* Writes data to path atomically and durably (lib/fileio.h). */
static int
write_file(const char *path, const void *data, size_t len, mode_t mode,
    struct mca_diag *d)
{
	char		 dir[PATH_MAX];
	const char	*name;
	int		 rc;

	if ((rc = split_path(path, dir, sizeof(dir), &name)) != 0)
		return mca_diag(d, rc, "%s: not a file path", path);
	errno = 0;
	if ((rc = mca_file_write_atomic(dir, name, data, len, mode)) != 0)
		return mca_diag(d, rc, "%s: cannot write: %s", path,
		    errno != 0 ? strerror(errno) : mca_strerror(rc));
	return 0;
}

/* A CSR from its PEM. 0 or MCA_ERR_INVAL. */
static int
csr_from_pem(const char *pem, X509_REQ **out)
{
	BIO	*b;

	*out = NULL;
	if ((b = BIO_new_mem_buf(pem, -1)) == NULL)
		return MCA_ERR_NOMEM;
	*out = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return *out == NULL ? MCA_ERR_INVAL : 0;
}

/* ---------------------------------------------------------------- status */

/* The block's certificate and key, as configured. */
static void
job_files(const struct mca_cfg *cfg, enum mca_renew_job job,
    const char **cert, const char **label, const char **keypath,
    int *managed, const char **why)
{
	const struct mca_cfg_mtls	*m;

	*cert = *label = *keypath = NULL;
	*managed = 0;
	*why = "";
	switch (job) {
	case MCA_RENEW_INTERMEDIATE:
		*cert = cfg->intermediate_cert_path;
		*label = cfg->intermediate_private_key_label_in_pkcs11;
		*keypath = cfg->intermediate_private_key_path;
		*managed = cfg->new_intermediate_cert;
		if (!*managed)
			*why = "not managed (new_intermediate_cert false)";
		break;
	case MCA_RENEW_DEVICE:
		*why = cfg->device.enabled ? "not managed (microca-renew "
		    "does not keep a device certificate yet)" :
		    "not managed (is_device_cert_required false)";
		break;
	case MCA_RENEW_MTLS_SERVER:
	case MCA_RENEW_MTLS_CLIENT:
		m = job == MCA_RENEW_MTLS_SERVER ? &cfg->mtls_server :
		    &cfg->mtls_client;
		if (!m->present) {
			*why = "not configured";
			break;
		}
		*cert = m->cert_path;
		if (m->key_in_pkcs11)
			*label = m->key_label;
		else
			*keypath = m->key_path;
		*managed = 1;
		break;
	default:
		break;
	}
}

int
mca_renew_status(const struct mca_cfg *cfg, struct mca_ledger *l,
    enum mca_renew_job job, time_t now, struct mca_renew_status *st,
    struct mca_diag *d)
{
	struct mca_ca_gen	 g;
	struct mca_renew_pending p;
	STACK_OF(X509)		*sk = NULL;
	X509			*x;
	const char		*cert, *label, *keypath, *why, *days;
	int			 rc, reenroll = 0, have_gen = 0;

	memset(&g, 0, sizeof(g));
	memset(&p, 0, sizeof(p));
	memset(st, 0, sizeof(*st));
	mca_diag_clear(d);
	st->job = job;
	if ((int)job < 0 || job >= MCA_RENEW_JOB_MAX)
		return mca_diag(d, MCA_ERR_INVAL, "no such job");
	job_files(cfg, job, &cert, &label, &keypath, &st->managed, &why);

	if (job == MCA_RENEW_INTERMEDIATE) {
		reenroll = cfg->intermediate.reenroll_days;
		rc = mca_castate_active(l, &g);
		if (rc == 0) {
			have_gen = 1;
			if (g.key_label != NULL)
				label = g.key_label, keypath = NULL;
			else
				keypath = g.key_path, label = NULL;
			if (pem_certs(g.chain_pem, strlen(g.chain_pem),
			    &sk) != 0)
				sk = NULL;
		} else if (rc != MCA_ERR_NOTFOUND) {
			rc = mca_diag(d, rc, "ledger: %s",
			    mca_ledger_errmsg(l, rc));
			goto out;
		}
	} else if (job == MCA_RENEW_MTLS_SERVER)
		reenroll = cfg->mtls_server.reenroll_days;
	else if (job == MCA_RENEW_MTLS_CLIENT)
		reenroll = cfg->mtls_client.reenroll_days;

	if (!have_gen && cert != NULL && file_certs(cert, &sk) != 0)
		sk = NULL;
	if (label != NULL)
		(void)snprintf(st->key, sizeof(st->key), "token:%s", label);
	else if (keypath != NULL)
		(void)snprintf(st->key, sizeof(st->key), "file:%s", keypath);

	if (sk != NULL && (x = sk_X509_value(sk, 0)) != NULL &&
	    asn1_time_t(X509_get0_notAfter(x), &st->not_after) == 0) {
		st->present = 1;
		(void)mca_name_string(X509_get_subject_name(x), st->subject,
		    sizeof(st->subject));
		/* whole days left, rounded down; negative once past */
		st->days_left = (long long)(st->not_after - now) / DAY;
		if (st->not_after < now && (st->not_after - now) % DAY != 0)
			st->days_left--;
	}

	if (job != MCA_RENEW_DEVICE) {
		rc = mca_castate_pending_get(l, job_names[job], &p);
		if (rc == 0) {
			st->pending = 1;
			st->retry_at = p.retry_at;
		} else if (rc != MCA_ERR_NOTFOUND) {
			rc = mca_diag(d, rc, "ledger: %s",
			    mca_ledger_errmsg(l, rc));
			goto out;
		}
	}

	if (!st->managed)
		(void)snprintf(st->why, sizeof(st->why), "%s", why);
	else if (!st->present) {
		st->due = 1;
		(void)snprintf(st->why, sizeof(st->why), "due: %s",
		    cert == NULL && !have_gen ? "no certificate" :
		    "certificate missing or unreadable");
	} else if (st->not_after <= now) {
		st->due = 1;
		(void)snprintf(st->why, sizeof(st->why), "due: expired");
	} else {
		days = reenroll == 1 ? "day" : "days";
		st->due = (long long)st->not_after - (long long)now <
		    (long long)reenroll * DAY;
		(void)snprintf(st->why, sizeof(st->why), "%s: %lld days "
		    "left, renewed %d %s before expiry", st->due ? "due" :
		    "not due", st->days_left, reenroll, days);
	}
	if (st->pending && st->managed) {
		st->due = 1;
		(void)snprintf(st->why, sizeof(st->why), "due: an attempt is "
		    "pending");
	}
	rc = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	mca_ca_gen_free(&g);
	mca_renew_pending_free(&p);
	return rc;
}

/* ---------------------------------------------------------------- check */

int
mca_renew_check(X509 *cert, STACK_OF(X509) *untrusted, EVP_PKEY *pub,
    int want_ca, const char *anchors, time_t now, STACK_OF(X509) **chain,
    struct mca_diag *d)
{
	X509_STORE	*st = NULL;
	X509_STORE_CTX	*ctx = NULL;
	STACK_OF(X509)	*got = NULL;
	X509		*issuer;
	uint32_t	 flags;
	time_t		 nb, na, ina;
	char		 when[MCA_TIME_MAX], iwhen[MCA_TIME_MAX];
	int		 rc = MCA_ERR_NOMEM, err;

	mca_diag_clear(d);
	if (chain != NULL)
		*chain = NULL;
	if (cert == NULL || pub == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "no certificate or key");

	/* For our key: whoever else holds that certificate cannot use it. */
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), pub) != 1) {
		ERR_clear_error();
		return mca_diag(d, MCA_ERR_POLICY, "the certificate is for "
		    "another public key than our request's");
	}
	if (want_ca) {
		flags = X509_get_extension_flags(cert);
		if ((flags & EXFLAG_INVALID) != 0)
			return mca_diag(d, MCA_ERR_POLICY, "the certificate "
			    "has invalid or duplicate extensions");
		if ((flags & EXFLAG_BCONS) == 0 || (flags & EXFLAG_CA) == 0)
			return mca_diag(d, MCA_ERR_POLICY, "not a CA "
			    "certificate: basicConstraints cA TRUE missing "
			    "(RFC 5280 4.2.1.9)");
		if ((flags & EXFLAG_KUSAGE) == 0 ||
		    (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0)
			return mca_diag(d, MCA_ERR_POLICY, "not a CA "
			    "certificate: keyUsage keyCertSign missing "
			    "(RFC 5280 4.2.1.3)");
	}

	/* RFC 5280 4.1.2.5 */
	if (asn1_time_t(X509_get0_notBefore(cert), &nb) != 0 ||
	    asn1_time_t(X509_get0_notAfter(cert), &na) != 0)
		return mca_diag(d, MCA_ERR_POLICY, "the certificate's validity "
		    "cannot be read");
	(void)mca_time_iso(nb, when, sizeof(when));
	if (nb > now + MCA_RENEW_SKEW)
		return mca_diag(d, MCA_ERR_POLICY, "the certificate is not "
		    "valid before %s, later than our clock allows", when);
	(void)mca_time_iso(na, when, sizeof(when));
	if (na <= now)
		return mca_diag(d, MCA_ERR_POLICY, "the certificate expired "
		    "at %s", when);
	if (na <= nb)
		return mca_diag(d, MCA_ERR_POLICY, "the certificate ends "
		    "before it begins");

	/* It chains to the upstream's trust anchors (RFC 5280 6.1). */
	if ((st = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) ==
	    NULL)
		goto out;
	if (anchors != NULL) {
		if (X509_STORE_load_file(st, anchors) != 1) {
			rc = mca_diag_crypto(d, MCA_ERR_CONFIG, "upstream_ca_cert "
			    "%s: cannot be loaded", anchors);
			goto out;
		}
	} else if (X509_STORE_set_default_paths(st) != 1) {
		rc = mca_diag_crypto(d, MCA_ERR_CONFIG, "the system's trust "
		    "store cannot be loaded");
		goto out;
	}
	/* An anchor is trusted as it is, root or not (RFC 5280 6.1.1 d). */
	(void)X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_STORE_CTX_init(ctx, st, cert, untrusted) != 1)
		goto out;
	/* within the skew, judged at its notBefore (checked above) */
	X509_STORE_CTX_set_time(ctx, 0, nb > now ? nb : now);
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		ERR_clear_error();
		rc = mca_diag(d, MCA_ERR_POLICY, "the certificate does not "
		    "chain to %s: %s", anchors != NULL ? anchors :
		    "the system's trust store",
		    X509_verify_cert_error_string(err));
		goto out;
	}
	if ((got = X509_STORE_CTX_get1_chain(ctx)) == NULL)
		goto out;
	if (sk_X509_num(got) > 1) {
		issuer = sk_X509_value(got, 1);
		if (asn1_time_t(X509_get0_notAfter(issuer), &ina) != 0) {
			rc = mca_diag(d, MCA_ERR_POLICY, "the issuer's validity "
			    "cannot be read");
			goto out;
		}
		if (na > ina) {
			(void)mca_time_iso(ina, iwhen, sizeof(iwhen));
			rc = mca_diag(d, MCA_ERR_POLICY, "the certificate "
			    "outlives its issuer (notAfter %s, the issuer's "
			    "%s)", when, iwhen);
			goto out;
		}
	}
	if (chain != NULL) {
		*chain = got;
		got = NULL;
	}
	rc = 0;
out:
	if (rc == MCA_ERR_NOMEM)
		(void)mca_diag_crypto(d, rc, "verifying the certificate");
	sk_X509_pop_free(got, X509_free);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rc;
}

/* ---------------------------------------------------------------- upstream */

/* First of a, b, c that is not NULL. */
static const char *
first(const char *a, const char *b, const char *c)
{
	return a != NULL ? a : b != NULL ? b : c;
}

int
mca_renew_upstream(const struct mca_cfg *cfg, enum mca_renew_job job,
    struct mca_p11 *p, struct mca_estc *e, EVP_PKEY **tlskey,
    struct mca_diag *d)
{
	const struct mca_cfg_upstream	*own = NULL, *rnw = &cfg->renewal.upstream,
					*top = &cfg->upstream, *hp, *auth;
	const struct mca_cfg_mtls	*m = &cfg->mtls_client;
	int				 rc;

	mca_diag_clear(d);
	memset(e, 0, sizeof(*e));
	*tlskey = NULL;
	if (job == MCA_RENEW_INTERMEDIATE)
		own = &cfg->intermediate.upstream;
	else if (job == MCA_RENEW_DEVICE)
		own = &cfg->device.upstream;

	/* host, port and label come together, from one block */
	if (own != NULL && own->appviewx_hostname != NULL)
		hp = own;
	else if (rnw->appviewx_hostname != NULL)
		hp = rnw;
	else
		return mca_diag(d, MCA_ERR_CONFIG, "%s: no upstream: set "
		    "appviewx_hostname, port and est_agent_setting_name in "
		    "%s or certificateRenewal_config", cfg->path,
		    job == MCA_RENEW_DEVICE ? "device_cert_config" :
		    "intermediate_cert_config");
	e->host = hp->appviewx_hostname;
	e->port = hp->port > 0 ? (unsigned)hp->port : 0;
	e->label = hp->est_agent_setting_name;

	e->tls.cafile = first(own != NULL ? own->ca_cert : NULL, rnw->ca_cert,
	    top->ca_cert);
	/* the user name and the password, together */
	if (own != NULL && own->username != NULL)
		auth = own;
	else if (rnw->username != NULL)
		auth = rnw;
	else
		auth = top;
	e->user = auth->username;
	e->pass = auth->password;
	e->connect_timeout = cfg->upstream_connect_timeout;
	e->timeout = cfg->upstream_timeout;

	/* Our TLS identity: the mTLS client certificate (table 6). */
	if (m->present) {
		e->tls.certfile = m->cert_path;
		if (m->key_in_pkcs11) {
			if (p == NULL)
				return mca_diag(d, MCA_ERR_CONFIG, "%s: "
				    "mtls_client_auth_cert_config: the key is "
				    "in the token, which is not open",
				    cfg->path);
			if ((rc = mca_p11_key(p, m->key_label, tlskey,
			    d)) != 0)
				return rc;
			e->tls.key = *tlskey;
		} else
			e->tls.keyfile = m->key_path;
	}
	return 0;
}

/* ---------------------------------------------------------------- keys */

int
mca_renew_new_label(struct mca_p11 *p, time_t now, char *out, size_t len,
    struct mca_diag *d)
{
	struct mca_diag	 sub;
	struct tm	 tm;
	EVP_PKEY	*k = NULL;
	char		 ts[32];
	int		 i, rc;

	mca_diag_clear(d);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y%m%d%H%M%S", &tm) == 0)
		return mca_diag(d, MCA_ERR_INTERNAL, "the time cannot be "
		    "written");
	for (i = 1; i <= LABEL_TRIES; i++) {
		if (i == 1)
			rc = snprintf(out, len, "%s", ts);
		else
			rc = snprintf(out, len, "%s-%d", ts, i);
		if (rc < 0 || (size_t)rc >= len)
			return mca_diag(d, MCA_ERR_TOOBIG, "label too long");
		rc = mca_p11_key(p, out, &k, &sub);
		EVP_PKEY_free(k);
		k = NULL;
		if (rc == MCA_ERR_NOTFOUND)
			return 0;
		if (rc != 0 && rc != MCA_ERR_EXISTS)
			return mca_diag(d, rc, "%s", sub.msg);
	}
	return mca_diag(d, MCA_ERR_EXISTS, "the token has keys labelled %s "
	    "to %s-%d already", ts, ts, LABEL_TRIES);
}

int
mca_renew_sweep_keys(struct mca_ledger *l, struct mca_p11 *p, time_t now,
    size_t *n, struct mca_diag *d)
{
	char		 labels[16][MCA_CASTATE_LABEL_MAX + 1];
	size_t		 i, got = 0;
	int		 rc;

	mca_diag_clear(d);
	*n = 0;
	if ((rc = mca_castate_keys_unused(l, now, labels, 16, &got)) != 0)
		return mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
	for (i = 0; i < got; i++) {
		rc = mca_p11_delete(p, labels[i], d);
		/* Gone already (removed by hand, or by a run killed here). */
		if (rc != 0 && rc != MCA_ERR_NOTFOUND)
			return rc;
		if ((rc = mca_castate_key_removed(l, labels[i])) != 0)
			return mca_diag(d, rc, "ledger: %s",
			    mca_ledger_errmsg(l, rc));
		(*n)++;
	}
	return 0;
}

/* Key type and size of a block, with the defaults. */
static void
key_spec(const struct mca_cfg_certreq *r, enum mca_keytype *type, int *bits)
{
	*type = r->key_type == MCA_KEYTYPE_ANY ? MCA_KEYTYPE_RSA : r->key_type;
	*bits = r->key_size != 0 ? r->key_size :
	    *type == MCA_KEYTYPE_RSA ? DEF_RSA_BITS : DEF_EC_BITS;
}

/* ---------------------------------------------------------------- run */

int
mca_renew_sync_file(const struct mca_cfg *cfg, struct mca_ledger *l,
    int *written, struct mca_diag *d)
{
	struct mca_ca_gen	 g;
	struct mca_buf		 cur = MCA_BUF_INIT;
	size_t			 len;
	int			 rc;

	memset(&g, 0, sizeof(g));
	mca_diag_clear(d);
	*written = 0;
	rc = mca_castate_active(l, &g);
	if (rc == MCA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
	len = strlen(g.chain_pem);
	rc = mca_file_read(cfg->intermediate_cert_path, CERT_FILE_MAX, &cur,
	    NULL);
	if (rc == 0 && cur.len == len && memcmp(cur.data, g.chain_pem,
	    len) == 0)
		goto out;
	if ((rc = write_file(cfg->intermediate_cert_path, g.chain_pem, len,
	    0644, d)) != 0)
		goto out;
	*written = 1;
out:
	mca_buf_free(&cur);
	mca_ca_gen_free(&g);
	return rc;
}

/*
 * The key and CSR of the intermediate's attempt: the one in flight when
 * it is whole (its key still in the token, the CSR for it), else a new
 * one, recorded before it is sent. *csr and *pub are the caller's.
 */
static int
intermediate_attempt(const struct mca_cfg *cfg, struct mca_ledger *l,
    struct mca_p11 *p, time_t now, X509_REQ **csr, EVP_PKEY **pub,
    struct mca_renew_result *r, struct mca_diag *d)
{
	const struct mca_cfg_certreq	*ic = &cfg->intermediate;
	struct mca_renew_pending	 pend;
	struct mca_ca_gen		 g;
	struct mca_csr_subject		 subj;
	struct mca_buf			 pem = MCA_BUF_INIT;
	struct mca_diag			 sub;
	EVP_PKEY			*key = NULL;
	enum mca_keytype		 type;
	const char			*cur;
	char				 label[MCA_CASTATE_LABEL_MAX + 1];
	int				 rc, bits, made = 0;

	memset(&pend, 0, sizeof(pend));
	memset(&g, 0, sizeof(g));
	*csr = NULL;
	*pub = NULL;

	rc = mca_castate_pending_get(l, MCA_JOB_INTERMEDIATE, &pend);
	if (rc != 0 && rc != MCA_ERR_NOTFOUND) {
		rc = mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
		goto out;
	}
	if (rc == 0 && pend.key_label != NULL &&
	    mca_p11_pubkey(p, pend.key_label, pub, &sub) == 0 &&
	    csr_from_pem(pend.csr_pem, csr) == 0 &&
	    EVP_PKEY_eq(X509_REQ_get0_pubkey(*csr), *pub) == 1) {
		r->resumed = 1;
		(void)snprintf(r->key_label, sizeof(r->key_label), "%s",
		    pend.key_label);
		if (pend.retry_at > now) {
			r->outcome = MCA_RENEW_WAITING;
			r->retry_at = pend.retry_at;
		}
		rc = 0;
		goto out;
	}
	ERR_clear_error();
	X509_REQ_free(*csr);
	EVP_PKEY_free(*pub);
	*csr = NULL;
	*pub = NULL;

	if (ic->rekey) {
		key_spec(ic, &type, &bits);
		if ((rc = mca_renew_new_label(p, now, label, sizeof(label),
		    d)) != 0)
			goto out;
		/*
		 * Spare until the attempt below records it: a run killed in
		 * between leaves a key the next sweep removes, not an orphan.
		 */
		if ((rc = mca_castate_key_intended(l, label, now)) != 0) {
			rc = mca_diag(d, rc, "ledger: %s",
			    mca_ledger_errmsg(l, rc));
			goto out;
		}
		if ((rc = mca_p11_keygen(p, type, bits, label, &key, pub,
		    d)) != 0)
			goto out;
		made = 1;
	} else {
		/* The key in use: the active generation's, else config's. */
		rc = mca_castate_active(l, &g);
		if (rc != 0 && rc != MCA_ERR_NOTFOUND) {
			rc = mca_diag(d, rc, "ledger: %s",
			    mca_ledger_errmsg(l, rc));
			goto out;
		}
		cur = rc == 0 ? g.key_label :
		    cfg->intermediate_private_key_label_in_pkcs11;
		if (cur == NULL) {
			rc = mca_diag(d, MCA_ERR_CONFIG, "%s: "
			    "intermediate_cert_config.rekey is false but the "
			    "intermediate's key is not in the token",
			    cfg->path);
			goto out;
		}
		(void)snprintf(label, sizeof(label), "%s", cur);
		if ((rc = mca_p11_key(p, label, &key, d)) != 0 ||
		    (rc = mca_p11_pubkey(p, label, pub, d)) != 0)
			goto out;
	}
	mca_csrgen_subject(ic, &subj);
	if (subj.common_name == NULL && subj.organization == NULL &&
	    subj.organizational_unit == NULL && subj.country == NULL &&
	    subj.province == NULL && subj.locality == NULL) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: intermediate_cert_config: "
		    "no subject field (common_name, organization, ...)",
		    cfg->path);
		goto out;
	}
	if ((rc = mca_csrgen(&subj, key, *pub, ic->hash_function,
	    MCA_CSRGEN_CA, csr, d)) != 0)
		goto out;
	if ((rc = mca_csrgen_pem(*csr, &pem)) != 0) {
		rc = mca_diag(d, rc, "the request cannot be written");
		goto out;
	}
	/* Recorded before it is sent: a killed run resumes with it. */
	if ((rc = mca_castate_pending_put(l, MCA_JOB_INTERMEDIATE, label,
	    NULL, mca_buf_str(&pem), now)) != 0) {
		rc = mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
		goto out;
	}
	made = 0;
	(void)snprintf(r->key_label, sizeof(r->key_label), "%s", label);
	rc = 0;
out:
	EVP_PKEY_free(key);
	if (made) {
		/* Nothing refers to the key we just made: take it back. */
		EVP_PKEY_free(*pub);
		*pub = NULL;
		(void)mca_p11_delete(p, label, NULL);
	}
	if (rc != 0) {
		X509_REQ_free(*csr);
		EVP_PKEY_free(*pub);
		*csr = NULL;
		*pub = NULL;
	}
	mca_buf_free(&pem);
	mca_renew_pending_free(&pend);
	mca_ca_gen_free(&g);
	return rc;
}

static int
run_intermediate(const struct mca_cfg *cfg, struct mca_ledger *l,
    struct mca_p11 *p, time_t now, struct mca_apiconfig *api,
    struct mca_renew_result *r, struct mca_diag *d)
{
	struct mca_estc		 e;
	struct mca_estc_result	 res;
	struct mca_diag		 sub;
	struct mca_buf		 pem = MCA_BUF_INIT;
	STACK_OF(X509)		*cacerts = NULL, *untrusted = NULL,
				*chain = NULL;
	X509_REQ		*csr = NULL;
	EVP_PKEY		*pub = NULL, *tlskey = NULL;
	X509			*x;
	char			 sha[MCA_HEX_MAX];
	time_t			 nb;
	int			 i, rc;

	memset(&res, 0, sizeof(res));
	if (p == NULL) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: pkcs11_library: needed "
		    "with new_intermediate_cert true (the key is made inside "
		    "the token)", cfg->path);
		goto out;
	}
	/* use_est false: the AppViewX REST API (lib/renew_avx.c) */
	if ((rc = mca_renew_avx_wanted(cfg) ? mca_renew_avx_upstream(cfg, api,
	    p, &e, &tlskey, d) : mca_renew_upstream(cfg,
	    MCA_RENEW_INTERMEDIATE, p, &e, &tlskey, d)) != 0)
		goto out;
	if ((rc = intermediate_attempt(cfg, l, p, now, &csr, &pub, r,
	    d)) != 0)
		goto out;
	if (r->outcome == MCA_RENEW_WAITING)
		goto out;

	/* RFC 7030 4.2.1: a CA's request through /simpleenroll. */
	if ((rc = mca_renew_avx_wanted(cfg) ? mca_renew_avx_enroll(&e, api,
	    csr, &res, d) : mca_estc_enroll(&e, 0, csr, &res, d)) != 0)
		goto out;
	if (res.state == MCA_ESTC_PENDING) {
		/* RFC 7030 4.2.3: the same request again, not before then. */
		r->outcome = MCA_RENEW_PENDING;
		r->retry_at = now + (time_t)res.retry_after;
		if ((rc = mca_castate_pending_wait(l, MCA_JOB_INTERMEDIATE,
		    r->retry_at)) != 0)
			rc = mca_diag(d, rc, "ledger: %s",
			    mca_ledger_errmsg(l, rc));
		goto out;
	}

	/* What the server sent with it, and its /cacerts (RFC 7030 4.1). */
	if ((untrusted = sk_X509_new_null()) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	for (i = 0; res.chain != NULL && i < sk_X509_num(res.chain); i++)
		if (!sk_X509_push(untrusted, sk_X509_value(res.chain, i))) {
			rc = MCA_ERR_NOMEM;
			goto out;
		}
	if (mca_renew_avx_wanted(cfg))
		;	/* AppViewX sent its chain with the certificate */
	else if (mca_estc_cacerts(&e, &cacerts, &sub) == 0) {
		for (i = 0; i < sk_X509_num(cacerts); i++)
			if (!sk_X509_push(untrusted, sk_X509_value(cacerts,
			    i))) {
				rc = MCA_ERR_NOMEM;
				goto out;
			}
	} else
		(void)snprintf(r->warning, sizeof(r->warning), "/cacerts: %s",
		    sub.msg);

	/* Checked before anything changes. */
	if ((rc = mca_renew_check(res.cert, untrusted, pub, 1,
	    e.tls.cafile, now, &chain, &sub)) != 0) {
		rc = mca_diag(d, rc, "%s%s:%u: the certificate sent for %s "
		    "is refused: %s", mca_renew_avx_wanted(cfg) ? "AppViewX " :
		    "", e.host, e.port, r->key_label, sub.msg);
		goto out;
	}
	x = sk_X509_value(chain, 0);
	if ((rc = chain_pem(chain, &pem)) != 0 ||
	    (rc = mca_cert_serial_hex(x, r->serial, sizeof(r->serial))) != 0 ||
	    (rc = mca_cert_thumbprint(x, EVP_sha256(), sha,
	    sizeof(sha))) != 0 ||
	    (rc = mca_name_string(X509_get_subject_name(x), r->subject,
	    sizeof(r->subject))) != 0 ||
	    (rc = asn1_time_t(X509_get0_notBefore(x), &nb)) != 0 ||
	    (rc = asn1_time_t(X509_get0_notAfter(x), &r->not_after)) != 0) {
		rc = mca_diag(d, rc, "the certificate cannot be recorded");
		goto out;
	}

	/*
	 * The ledger first: the workers sign with the active generation,
	 * key and chain together. The file is a copy; a run stopped
	 * before it is written writes it next time (mca_renew_sync_file).
	 */
	if ((rc = mca_castate_install(l, r->key_label, NULL, mca_buf_str(&pem),
	    r->serial, sha, nb, r->not_after, &r->generation)) != 0) {
		rc = mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
		goto out;
	}
	r->outcome = MCA_RENEW_INSTALLED;
	if ((rc = write_file(cfg->intermediate_cert_path, pem.data, pem.len,
	    0644, &sub)) != 0) {
		rc = mca_diag(d, rc, "generation %lld is installed in the "
		    "ledger, but intermediate_cert_path %s", r->generation,
		    sub.msg);
		goto out;
	}
	if ((rc = mca_renew_sweep_keys(l, p, now, &r->keys_removed,
	    &sub)) != 0) {
		(void)snprintf(r->warning, sizeof(r->warning), "removing "
		    "superseded keys: %s", sub.msg);
		rc = 0;
	}
	rc = 0;
out:
	mca_estc_result_free(&res);
	sk_X509_free(untrusted);	/* borrowed certificates */
	sk_X509_pop_free(cacerts, X509_free);
	sk_X509_pop_free(chain, X509_free);
	X509_REQ_free(csr);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(tlskey);
	mca_buf_free(&pem);
	return rc;
}

int
mca_renew_run(const struct mca_cfg *cfg, struct mca_ledger *l,
    struct mca_p11 *p, enum mca_renew_job job, time_t now,
    struct mca_apiconfig *api, struct mca_renew_result *r,
    struct mca_diag *d)
{
	mca_diag_clear(d);
	memset(r, 0, sizeof(*r));
	switch (job) {
	case MCA_RENEW_INTERMEDIATE:
		return run_intermediate(cfg, l, p, now, api, r, d);
	default:
		return mca_diag(d, MCA_ERR_CONFIG, "%s: microca-renew does not "
		    "renew the %s certificate yet", cfg->path,
		    mca_renew_job_name(job));
	}
}
