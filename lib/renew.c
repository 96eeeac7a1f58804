/*
 * microca-renew's steps (renew.h): status, the check of what an upstream
 * sends, and the run of one managed certificate over EST.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
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
#include "hook.h"
#include "keygen.h"
#include "keyspec.h"
#include "ledger.h"
#include "mtls.h"
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
#define KEY_FILE_MAX	65536
#define NEW_SUFFIX	".new"	/* key and certificate before they are in place */
#define LABELS_MAX	16	/* token keys of one job superseded at once */

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
		*cert = cfg->device.cert_path;
		*label = cfg->device.key_label;
		*keypath = cfg->device.key_path;
		*managed = cfg->device.enabled && *cert != NULL;
		if (!cfg->device.enabled)
			*why = "not managed (is_device_cert_required false)";
		else if (*cert == NULL)
			*why = "not managed (device_cert_config has no "
			    "device_cert_path)";
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
	} else if (job == MCA_RENEW_DEVICE)
		reenroll = cfg->device.reenroll_days;
	else if (job == MCA_RENEW_MTLS_SERVER)
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

	rc = mca_castate_pending_get(l, job_names[job], &p);
	if (rc == 0) {
		st->pending = 1;
		st->retry_at = p.retry_at;
	} else if (rc != MCA_ERR_NOTFOUND) {
		rc = mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
		goto out;
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

/* ---------------------------------------------------------------- keys of a job */

/*
 * Whether label is base or one of its renewals: base "-" YYYYMMDDHHMMSS,
 * maybe with "-2" ... "-99" (mca_renew_new_label()).
 */
static int
label_ours(const char *base, const char *label)
{
	size_t	 n = strlen(base), k;

	if (strcmp(label, base) == 0)
		return 1;
	if (strncmp(label, base, n) != 0 || label[n] != '-')
		return 0;
	label += n + 1;
	if (strspn(label, "0123456789") != 14)
		return 0;
	label += 14;
	if (*label == '\0')
		return 1;
	if (*label++ != '-')
		return 0;
	k = strspn(label, "0123456789");
	return k >= 1 && k <= 2 && label[k] == '\0' && *label != '0';
}

/*
 * The labels on the token of base and its renewals into labels[] (at
 * most max), but skip. Returns 0 or p11's error.
 */
static int
token_labels(struct mca_p11 *p, const char *base, const char *skip,
    char labels[][MCA_CASTATE_LABEL_MAX + 1], size_t max, size_t *n,
    struct mca_diag *d)
{
	struct mca_p11_keyinfo	*ki = NULL;
	size_t			 i, got = 0;
	int			 rc;

	*n = 0;
	if ((rc = mca_p11_list(p, &ki, &got, d)) != 0)
		return rc;
	for (i = 0; i < got && *n < max; i++) {
		if (!label_ours(base, ki[i].label) ||
		    (skip != NULL && strcmp(ki[i].label, skip) == 0))
			continue;
		(void)snprintf(labels[*n], MCA_CASTATE_LABEL_MAX + 1, "%s",
		    ki[i].label);
		(*n)++;
	}
	free(ki);
	return 0;
}

/*
 * The label of the token key, base or one of its renewals, whose public
 * key is pub into out. Returns 0, MCA_ERR_NOTFOUND or p11's error.
 */
static int
token_key_for(struct mca_p11 *p, const char *base, EVP_PKEY *pub,
    char *out, size_t len, struct mca_diag *d)
{
	char		 labels[LABELS_MAX][MCA_CASTATE_LABEL_MAX + 1];
	struct mca_diag	 sub;
	EVP_PKEY	*k = NULL;
	size_t		 i, n = 0;
	int		 rc;

	if ((rc = token_labels(p, base, NULL, labels, LABELS_MAX, &n,
	    d)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (mca_p11_pubkey(p, labels[i], &k, &sub) != 0)
			continue;
		rc = EVP_PKEY_eq(k, pub);
		EVP_PKEY_free(k);
		k = NULL;
		if (rc == 1) {
			if (strlen(labels[i]) >= len)
				return mca_diag(d, MCA_ERR_INTERNAL, "key "
				    "label %s is too long", labels[i]);
			memcpy(out, labels[i], strlen(labels[i]) + 1);
			return 0;
		}
	}
	ERR_clear_error();
	return mca_diag(d, MCA_ERR_NOTFOUND, "no key labelled %s (or %s-"
	    "<time>) in the token is the certificate's", base, base);
}

/* The first certificate of a PEM file; NULL when none can be read. */
static X509 *
file_cert(const char *path)
{
	STACK_OF(X509)	*sk = NULL;
	X509		*x = NULL;

	if (path != NULL && file_certs(path, &sk) == 0) {
		x = sk_X509_shift(sk);
		sk_X509_pop_free(sk, X509_free);
	}
	return x;
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
	X509				*cur = NULL;
	const char			*key_label = NULL;	/* NULL: m's */
	char				 label[MCA_CASTATE_LABEL_MAX + 1];

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

	/*
	 * Our TLS identity: the mTLS client certificate (table 6), with
	 * its key: the file, or the token key among mtls_auth_key_label
	 * and its renewals that is the certificate's. No certificate yet
	 * (its first enrollment): none.
	 */
	if (!m->present)
		return 0;
	if ((cur = file_cert(m->cert_path)) == NULL &&
	    access(m->cert_path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if (m->key_in_pkcs11 && p != NULL && cur != NULL &&
	    token_key_for(p, m->key_label, X509_get0_pubkey(cur), label,
	    sizeof(label), NULL) == 0)
		key_label = label;
	X509_free(cur);
	return mca_mtls_client_tls(cfg, p, key_label, &e->tls, tlskey, d);
}

/* ---------------------------------------------------------------- keys */

/* As mca_renew_new_label(), after base and "-" when base is not NULL. */
static int
new_label(struct mca_p11 *p, const char *base, time_t now, char *out,
    size_t len, struct mca_diag *d)
{
	struct mca_diag	 sub;
	struct tm	 tm;
	EVP_PKEY	*k = NULL;
	char		 t[32], ts[MCA_CASTATE_LABEL_MAX + 1];
	int		 i, rc;

	mca_diag_clear(d);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(t, sizeof(t), "%Y%m%d%H%M%S", &tm) == 0)
		return mca_diag(d, MCA_ERR_INTERNAL, "the time cannot be "
		    "written");
	rc = snprintf(ts, sizeof(ts), "%s%s%s", base != NULL ? base : "",
	    base != NULL ? "-" : "", t);
	/* room for "-99" */
	if (rc < 0 || (size_t)rc + 3 >= sizeof(ts))
		return mca_diag(d, MCA_ERR_TOOBIG, "key label %s: too long "
		    "for a renewal's label (at most %d bytes)", base,
		    MCA_CASTATE_LABEL_MAX - 18);
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
mca_renew_new_label(struct mca_p11 *p, time_t now, char *out, size_t len,
    struct mca_diag *d)
{
	return new_label(p, NULL, now, out, len, d);
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

/* The private key of a PEM file (a secret: the buffer is wiped). */
static int
key_file_read(const char *path, EVP_PKEY **out)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	BIO		*bio = NULL;
	int		 rc;

	*out = NULL;
	if ((rc = mca_file_read(path, KEY_FILE_MAX, &b, NULL)) != 0)
		goto out;
	rc = MCA_ERR_NOMEM;
	if ((bio = BIO_new_mem_buf(b.data, (int)b.len)) == NULL)
		goto out;
	rc = (*out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL ?
	    MCA_ERR_INVAL : 0;
out:
	ERR_clear_error();
	BIO_free(bio);
	mca_buf_free_secret(&b);
	return rc;
}

/* Frees a request and its public key (NULL-safe) and clears both. */
static void
req_drop(X509_REQ **csr, EVP_PKEY **pub)
{
	X509_REQ_free(*csr);
	EVP_PKEY_free(*pub);
	*csr = NULL;
	*pub = NULL;
}

/*
 * The attempt of job in flight, when it is whole: its key still there
 * (in the token, or its file) and its CSR for that key. Then 1, with
 * *csr, *pub (the public key; for a key file the key itself) and r's
 * key_label or key_path, and r->outcome WAITING while its Retry-After
 * runs. An attempt whose key is not where config now keeps the job's
 * key (token, or file when intoken is 0) is not resumed. 0: none to
 * resume (the caller makes a new one); < 0: the ledger's error.
 */
static int
attempt_resume(struct mca_ledger *l, struct mca_p11 *p,
    enum mca_renew_job job, int intoken, time_t now, X509_REQ **csr,
    EVP_PKEY **pub, struct mca_renew_result *r, struct mca_diag *d)
{
	struct mca_renew_pending	 pend;
	struct mca_diag			 sub;
	int				 rc, whole = 0;

	memset(&pend, 0, sizeof(pend));
	*csr = NULL;
	*pub = NULL;
	rc = mca_castate_pending_get(l, job_names[job], &pend);
	if (rc == MCA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
	if (pend.key_label != NULL && intoken)
		whole = p != NULL && mca_p11_pubkey(p, pend.key_label, pub,
		    &sub) == 0;
	else if (pend.key_path != NULL && !intoken)
		whole = key_file_read(pend.key_path, pub) == 0;
	whole = whole && csr_from_pem(pend.csr_pem, csr) == 0 &&
	    EVP_PKEY_eq(X509_REQ_get0_pubkey(*csr), *pub) == 1;
	ERR_clear_error();
	if (!whole) {
		req_drop(csr, pub);
		mca_renew_pending_free(&pend);
		return 0;
	}
	r->resumed = 1;
	if (pend.key_label != NULL)
		(void)snprintf(r->key_label, sizeof(r->key_label), "%s",
		    pend.key_label);
	else
		(void)snprintf(r->key_path, sizeof(r->key_path), "%s",
		    pend.key_path);
	if (pend.retry_at > now) {
		r->outcome = MCA_RENEW_WAITING;
		r->retry_at = pend.retry_at;
	}
	mca_renew_pending_free(&pend);
	return 1;
}

/* Records the attempt before its CSR is sent: a killed run resumes it. */
static int
attempt_record(struct mca_ledger *l, enum mca_renew_job job,
    const char *label, const char *path, X509_REQ *csr, time_t now,
    struct mca_diag *d)
{
	struct mca_buf	 pem = MCA_BUF_INIT;
	int		 rc;

	if ((rc = mca_csrgen_pem(csr, &pem)) != 0)
		rc = mca_diag(d, rc, "the request cannot be written");
	else if ((rc = mca_castate_pending_put(l, job_names[job], label, path,
	    mca_buf_str(&pem), now)) != 0)
		rc = mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
	mca_buf_free(&pem);
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
	struct mca_ca_gen		 g;
	struct mca_csr_subject		 subj;
	EVP_PKEY			*key = NULL;
	enum mca_keytype		 type;
	const char			*cur;
	char				 label[MCA_CASTATE_LABEL_MAX + 1];
	int				 rc, bits, made = 0;

	memset(&g, 0, sizeof(g));
	*csr = NULL;
	*pub = NULL;

	if ((rc = attempt_resume(l, p, MCA_RENEW_INTERMEDIATE, 1, now, csr,
	    pub, r, d)) != 0) {
		if (rc > 0)
			rc = 0;
		goto out;
	}

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
	if ((rc = attempt_record(l, MCA_RENEW_INTERMEDIATE, label, NULL, *csr,
	    now, d)) != 0)
		goto out;
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
	if (rc != 0)
		req_drop(csr, pub);
	mca_ca_gen_free(&g);
	return rc;
}

/*
 * The enrollment every job shares (RFC 7030 4.2): csr sent to e's
 * /simpleenroll, or /simplereenroll with reenroll (or, with api, to the
 * AppViewX certificate API, lib/renew_avx.c); a 202 leaves the
 * attempt pending (r->outcome PENDING, *chain NULL); a certificate is
 * judged by mca_renew_check() (want_ca) before anything changes, with
 * what the server sent and its /cacerts as the untrusted issuers. Then
 * *chain is the verified chain (certificate first) and r's serial,
 * subject and not_after, *nb its notBefore. what names the key for
 * messages.
 */
static int
enroll_checked(struct mca_ledger *l, enum mca_renew_job job,
    const struct mca_estc *e, struct mca_apiconfig *api, int reenroll, X509_REQ *csr, EVP_PKEY *pub,
    int want_ca, const char *what, time_t now, struct mca_renew_result *r,
    STACK_OF(X509) **chain, time_t *nb, struct mca_diag *d)
{
	struct mca_estc_result	 res;
	struct mca_diag		 sub;
	STACK_OF(X509)		*cacerts = NULL, *untrusted = NULL;
	X509			*x;
	int			 i, rc;

	memset(&res, 0, sizeof(res));
	*chain = NULL;
	*nb = 0;
	if ((rc = api != NULL ? mca_renew_avx_enroll(e, api, csr, &res, d) :
	    mca_estc_enroll(e, reenroll, csr, &res, d)) != 0)
		goto out;
	if (res.state == MCA_ESTC_PENDING) {
		/* RFC 7030 4.2.3: the same request again, not before then. */
		r->outcome = MCA_RENEW_PENDING;
		r->retry_at = now + (time_t)res.retry_after;
		if ((rc = mca_castate_pending_wait(l, job_names[job],
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
	if (api != NULL)
		;	/* AppViewX sent its chain with the certificate */
	else if (mca_estc_cacerts(e, &cacerts, &sub) == 0) {
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
	if ((rc = mca_renew_check(res.cert, untrusted, pub, want_ca,
	    e->tls.cafile, now, chain, &sub)) != 0) {
		rc = mca_diag(d, rc, "%s%s:%u: the certificate sent for %s "
		    "is refused: %s", api != NULL ? "AppViewX " : "", e->host,
		    e->port, what, sub.msg);
		goto out;
	}
	x = sk_X509_value(*chain, 0);
	if ((rc = mca_cert_serial_hex(x, r->serial, sizeof(r->serial))) != 0 ||
	    (rc = mca_name_string(X509_get_subject_name(x), r->subject,
	    sizeof(r->subject))) != 0 ||
	    (rc = asn1_time_t(X509_get0_notBefore(x), nb)) != 0 ||
	    (rc = asn1_time_t(X509_get0_notAfter(x), &r->not_after)) != 0) {
		rc = mca_diag(d, rc, "the certificate cannot be recorded");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		sk_X509_pop_free(*chain, X509_free);
		*chain = NULL;
	}
	mca_estc_result_free(&res);
	sk_X509_free(untrusted);	/* borrowed certificates */
	sk_X509_pop_free(cacerts, X509_free);
	return rc;
}

static int
run_intermediate(const struct mca_cfg *cfg, struct mca_ledger *l,
    struct mca_p11 *p, time_t now, struct mca_apiconfig *api,
    struct mca_renew_result *r, struct mca_diag *d)
{
	struct mca_estc		 e;
	struct mca_diag		 sub;
	struct mca_buf		 pem = MCA_BUF_INIT;
	STACK_OF(X509)		*chain = NULL;
	X509_REQ		*csr = NULL;
	EVP_PKEY		*pub = NULL, *tlskey = NULL;
	X509			*x;
	char			 sha[MCA_HEX_MAX];
	time_t			 nb;
	int			 rc;

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
	if ((rc = enroll_checked(l, MCA_RENEW_INTERMEDIATE, &e,
	    mca_renew_avx_wanted(cfg) ? api : NULL, 0, csr, pub, 1,
	    r->key_label, now, r, &chain, &nb, d)) != 0 ||
	    r->outcome == MCA_RENEW_PENDING)
		goto out;
	x = sk_X509_value(chain, 0);
	if ((rc = chain_pem(chain, &pem)) != 0 ||
	    (rc = mca_cert_thumbprint(x, EVP_sha256(), sha,
	    sizeof(sha))) != 0) {
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
	sk_X509_pop_free(chain, X509_free);
	X509_REQ_free(csr);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(tlskey);
	mca_buf_free(&pem);
	return rc;
}

/* ---------------------------------------------------------------- leaves */

/*
 * What differs between the device, the mTLS server and the mTLS client
 * certificate: where certificate and key are, what the certificate is
 * for, and how it renews.
 */
struct leaf {
	enum mca_renew_job job;
	const char	*block;		/* its config block, for messages */
	const char	*cert;		/* the certificate (and chain) file */
	const char	*label;		/* the key in the token: this label */
	const char	*keypath;	/* or this file */
	const struct mca_cfg_certreq *req; /* device: subject, key, hash */
	int		 eku;		/* XKU_SSL_SERVER, XKU_SSL_CLIENT, 0 */
	int		 self;		/* renews with itself (simplereenroll) */
};

/* The leaf job's places; MCA_ERR_CONFIG when it is not managed. */
static int
leaf_of(const struct mca_cfg *cfg, enum mca_renew_job job, struct leaf *f,
    struct mca_diag *d)
{
	const char	*why;
	int		 managed;

	memset(f, 0, sizeof(*f));
	f->job = job;
	job_files(cfg, job, &f->cert, &f->label, &f->keypath, &managed, &why);
	if (!managed)
		return mca_diag(d, MCA_ERR_CONFIG, "%s: %s: %s", cfg->path,
		    mca_renew_job_name(job), why);
	switch (job) {
	case MCA_RENEW_DEVICE:
		f->block = "device_cert_config";
		f->req = &cfg->device;
		break;
	case MCA_RENEW_MTLS_SERVER:
	case MCA_RENEW_MTLS_CLIENT:
		f->block = job == MCA_RENEW_MTLS_SERVER ?
		    "mtls_server_cert_config" : "mtls_client_auth_cert_config";
		f->eku = job == MCA_RENEW_MTLS_SERVER ? XKU_SSL_SERVER :
		    XKU_SSL_CLIENT;
		f->self = job == MCA_RENEW_MTLS_CLIENT;
		break;
	default:
		return mca_diag(d, MCA_ERR_INVAL, "%s: not a leaf certificate",
		    mca_renew_job_name(job));
	}
	return 0;
}

/* path + NEW_SUFFIX into out. */
static int
new_name(const char *path, char *out, size_t len, struct mca_diag *d)
{
	int	 n;

	n = snprintf(out, len, "%s%s", path, NEW_SUFFIX);
	if (n < 0 || (size_t)n >= len)
		return mca_diag(d, MCA_ERR_TOOBIG, "%s: path too long", path);
	return 0;
}

/* Renames from over to and makes it durable (the directory's fsync). */
static int
rename_durable(const char *from, const char *to, struct mca_diag *d)
{
	char		 dir[PATH_MAX];
	const char	*name;
	int		 fd;

	if (rename(from, to) == -1)
		return mca_diag(d, MCA_ERR_IO, "rename %s to %s: %s", from, to,
		    strerror(errno));
	if (split_path(to, dir, sizeof(dir), &name) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "%s: not a file path", to);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		if (fd != -1)
			(void)close(fd);
		return mca_diag(d, MCA_ERR_IO, "%s: fsync: %s", dir,
		    strerror(errno));
	}
	(void)close(fd);
	return 0;
}

/* Writes k to path, PEM (PKCS#8), mode 0600, atomically; wiped after. */
static int
key_file_write(const char *path, EVP_PKEY *k, struct mca_diag *d)
{
	BIO	*b = NULL;
	char	*data;
	long	 n;
	int	 rc = MCA_ERR_CRYPTO;

	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(b, &data)) <= 0) {
		rc = mca_diag_crypto(d, rc, "%s: the key cannot be written",
		    path);
		goto out;
	}
	rc = write_file(path, data, (size_t)n, 0600, d);
out:
	BIO_free(b);	/* a secure-heap BIO: cleared when freed */
	return rc;
}

/*
 * The key a new leaf key is made like: the device's key_type and
 * key_size; else the current certificate's kind and size; else EC P-256.
 */
static void
leaf_key_spec(const struct leaf *f, X509 *cur, enum mca_keytype *type,
    int *bits)
{
	EVP_PKEY	*k;

	if (f->req != NULL) {
		key_spec(f->req, type, bits);
		return;
	}
	*type = MCA_KEYTYPE_EC;
	*bits = DEF_EC_BITS;
	if (cur == NULL || (k = X509_get0_pubkey(cur)) == NULL)
		return;
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA) {
		*type = MCA_KEYTYPE_RSA;
		*bits = EVP_PKEY_get_bits(k);
	} else if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	    mca_keyspec_curve_bits(EVP_PKEY_get_bits(k)) != NULL)
		*bits = EVP_PKEY_get_bits(k);
}

/* A key pair in memory (for a key file). */
static int
mem_keygen(enum mca_keytype type, int bits, EVP_PKEY **out,
    struct mca_diag *d)
{
	const struct mca_curve	*c;

	*out = NULL;
	if (type == MCA_KEYTYPE_RSA)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	else if ((c = mca_keyspec_curve_bits(bits)) != NULL)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", c->name);
	if (*out == NULL)
		return mca_diag_crypto(d, MCA_ERR_CRYPTO, "cannot make a %s "
		    "key of %d bits", type == MCA_KEYTYPE_RSA ? "RSA" : "EC",
		    bits);
	return 0;
}

/*
 * The leaf's attempt: the one in flight when whole, else a new key (in
 * the token under a new label, or in KEY.new) and its CSR, recorded
 * before it is sent. The CSR repeats the certificate in place (subject,
 * subjectAltName), or for the device names config's subject.
 */
static int
leaf_attempt(struct mca_ledger *l, struct mca_p11 *p, const struct leaf *f,
    X509 *cur, time_t now, X509_REQ **csr, EVP_PKEY **pub,
    struct mca_renew_result *r, struct mca_diag *d)
{
	struct mca_csr_subject	 subj;
	struct mca_diag		 sub;
	EVP_PKEY		*key = NULL;
	enum mca_keytype	 type;
	char			 label[MCA_CASTATE_LABEL_MAX + 1];
	char			 path[PATH_MAX], host[256];
	int			 rc, bits, made = 0;

	if ((rc = attempt_resume(l, p, f->job, f->label != NULL, now, csr,
	    pub, r, d)) != 0)
		return rc > 0 ? 0 : rc;

	leaf_key_spec(f, cur, &type, &bits);
	if (f->label != NULL) {
		if ((rc = new_label(p, f->label, now, label, sizeof(label),
		    d)) != 0 ||
		    (rc = mca_p11_keygen(p, type, bits, label, &key, pub,
		    d)) != 0)
			goto out;
		made = 1;
	} else {
		if ((rc = new_name(f->keypath, path, sizeof(path), d)) != 0 ||
		    (rc = mem_keygen(type, bits, &key, d)) != 0 ||
		    (rc = key_file_write(path, key, d)) != 0)
			goto out;
		made = 1;
		if ((rc = mca_keygen_public(key, pub)) != 0) {
			rc = mca_diag(d, rc, "the new key has no public half");
			goto out;
		}
	}
	if (f->req != NULL) {
		mca_csrgen_subject(f->req, &subj);
		rc = mca_csrgen(&subj, key, *pub, f->req->hash_function,
		    MCA_CSRGEN_PLAIN, csr, &sub);
	} else {
		/* The first one names this host (gethostname(2)). */
		if (gethostname(host, sizeof(host)) != 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		rc = mca_csrgen_like(cur, host, key, *pub, "SHA256", csr,
		    &sub);
	}
	if (rc != 0) {
		rc = mca_diag(d, rc, "%s: the request: %s", f->block, sub.msg);
		goto out;
	}
	if ((rc = attempt_record(l, f->job, f->label != NULL ? label : NULL,
	    f->label != NULL ? NULL : path, *csr, now, d)) != 0)
		goto out;
	made = 0;
	if (f->label != NULL)
		(void)snprintf(r->key_label, sizeof(r->key_label), "%s", label);
	else
		(void)snprintf(r->key_path, sizeof(r->key_path), "%s", path);
	rc = 0;
out:
	EVP_PKEY_free(key);
	if (made) {
		/* Nothing refers to the key just made: it goes again. */
		EVP_PKEY_free(*pub);
		*pub = NULL;
		if (f->label != NULL)
			(void)mca_p11_delete(p, label, NULL);
		else
			(void)unlink(path);
	}
	if (rc != 0)
		req_drop(csr, pub);
	return rc;
}

/*
 * What a leaf must be besides mca_renew_check(): no CA (RFC 5280
 * 4.2.1.9), and with an extendedKeyUsage, the purpose it is for (RFC
 * 5280 4.2.1.12).
 */
static int
leaf_check(X509 *x, int eku, struct mca_diag *d)
{
	uint32_t	 flags, xku;

	flags = X509_get_extension_flags(x);
	if ((flags & EXFLAG_INVALID) != 0)
		return mca_diag(d, MCA_ERR_POLICY, "the certificate has "
		    "invalid or duplicate extensions");
	if ((flags & EXFLAG_CA) != 0)
		return mca_diag(d, MCA_ERR_POLICY, "a CA certificate "
		    "(basicConstraints cA TRUE), not one for a TLS end "
		    "entity (RFC 5280 4.2.1.9)");
	if (eku != 0 && (flags & EXFLAG_XKUSAGE) != 0) {
		xku = X509_get_extended_key_usage(x);
		if ((xku & (uint32_t)(eku | XKU_ANYEKU)) == 0)
			return mca_diag(d, MCA_ERR_POLICY, "extendedKeyUsage "
			    "without %s (RFC 5280 4.2.1.12)",
			    eku == XKU_SSL_SERVER ? "serverAuth" :
			    "clientAuth");
	}
	return 0;
}

/* The PEM of chain without a self-signed anchor at its end. */
static int
leaf_pem(STACK_OF(X509) *chain, struct mca_buf *out)
{
	X509	*x;
	int	 i, n = sk_X509_num(chain), rc;

	if (n > 1 && (x = sk_X509_value(chain, n - 1)) != NULL &&
	    (X509_get_extension_flags(x) & EXFLAG_SS) != 0)
		n--;
	for (i = 0; i < n; i++)
		if ((rc = mca_pem_write_cert(sk_X509_value(chain, i),
		    out)) != 0)
			return rc;
	return 0;
}

/* The token keys of f other than keep go to key_superseded. */
static int
leaf_supersede(struct mca_ledger *l, struct mca_p11 *p, const struct leaf *f,
    const char *keep, time_t now, struct mca_diag *d)
{
	char		 labels[LABELS_MAX][MCA_CASTATE_LABEL_MAX + 1];
	const char	*ptr[LABELS_MAX];
	size_t		 i, n = 0;
	int		 rc;

	if (f->label == NULL || p == NULL)
		return 0;
	if ((rc = token_labels(p, f->label, keep, labels, LABELS_MAX, &n,
	    d)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		ptr[i] = labels[i];
	if ((rc = mca_castate_pending_done(l, job_names[f->job], ptr, n,
	    now)) != 0)
		return mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
	return 0;
}

/*
 * trigger_server_restart_script, once the new certificate is in place:
 * its outcome in r (the certificate stays, whatever it does).
 */
static void
leaf_restart(const struct mca_cfg *cfg, const struct leaf *f,
    const char *key, struct mca_renew_result *r)
{
	struct mca_hook_result	 hr;
	struct mca_diag		 hd;
	char			 e_job[64], e_cert[PATH_MAX + 32],
				 e_key[MCA_RENEW_WHERE_MAX + 32];
	char *const		 env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", e_job, e_cert, e_key,
		NULL
	};

	if (f->job != MCA_RENEW_MTLS_SERVER ||
	    cfg->mtls_server.restart_script == NULL)
		return;
	(void)snprintf(e_job, sizeof(e_job), "MICROCA_RENEW_JOB=%s",
	    mca_renew_job_name(f->job));
	(void)snprintf(e_cert, sizeof(e_cert), "MICROCA_CERT_PATH=%s",
	    f->cert);
	(void)snprintf(e_key, sizeof(e_key), "MICROCA_KEY=%s", key);
	r->hook_ran = 1;
	if (mca_hook_run(cfg->mtls_server.restart_script, env,
	    cfg->mtls_server.restart_timeout, &hr, &hd) != 0) {
		r->hook_failed = 1;
		(void)snprintf(r->hook, sizeof(r->hook), "%s", hd.msg);
	} else
		(void)snprintf(r->hook, sizeof(r->hook), "exited with status "
		    "0 after %ld ms", hr.ms);
}

/* The public key of the certificate in file path equals k. */
static int
cert_is_for(const char *path, EVP_PKEY *k)
{
	X509	*x;
	int	 ok;

	if ((x = file_cert(path)) == NULL)
		return 0;
	ok = EVP_PKEY_eq(X509_get0_pubkey(x), k) == 1;
	ERR_clear_error();
	X509_free(x);
	return ok;
}

/* The key in file path is k's private half. */
static int
key_is(const char *path, EVP_PKEY *k)
{
	EVP_PKEY	*x = NULL;
	int		 ok;

	if (key_file_read(path, &x) != 0)
		return 0;
	ok = EVP_PKEY_eq(x, k) == 1;
	ERR_clear_error();
	EVP_PKEY_free(x);
	return ok;
}

int
mca_renew_finish(const struct mca_cfg *cfg, struct mca_ledger *l,
    struct mca_p11 *p, enum mca_renew_job job, time_t now,
    struct mca_renew_result *r, struct mca_diag *d)
{
	struct mca_renew_pending pend;
	struct leaf		 f;
	struct mca_diag		 sub;
	X509_REQ		*csr = NULL;
	X509			*x = NULL;
	EVP_PKEY		*want;
	char			 cnew[PATH_MAX], where[MCA_RENEW_WHERE_MAX];
	int			 rc;

	memset(&pend, 0, sizeof(pend));
	mca_diag_clear(d);
	r->completed = 0;
	if (leaf_of(cfg, job, &f, &sub) != 0)
		return 0;	/* not managed: nothing of it to finish */
	rc = mca_castate_pending_get(l, job_names[job], &pend);
	if (rc == MCA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return mca_diag(d, rc, "ledger: %s", mca_ledger_errmsg(l, rc));
	/* Not where config keeps the key now, or no CSR: replaced. */
	if ((pend.key_label != NULL) != (f.label != NULL) ||
	    csr_from_pem(pend.csr_pem, &csr) != 0 ||
	    (want = X509_REQ_get0_pubkey(csr)) == NULL) {
		rc = 0;
		goto out;
	}

	if (pend.key_label != NULL) {
		/* In the token: the certificate file is all there is to do. */
		if (!cert_is_for(f.cert, want)) {
			rc = 0;
			goto out;
		}
		(void)snprintf(where, sizeof(where), "token:%s",
		    pend.key_label);
		if ((rc = mca_castate_pending_done(l, job_names[job], NULL, 0,
		    now)) != 0) {
			rc = mca_diag(d, rc, "ledger: %s",
			    mca_ledger_errmsg(l, rc));
			goto out;
		}
	} else {
		/* KEY.new and CERT.new: the key first, then the certificate. */
		if ((rc = new_name(f.cert, cnew, sizeof(cnew), d)) != 0)
			goto out;
		if (cert_is_for(cnew, want)) {
			if (pend.key_path != NULL &&
			    access(pend.key_path, F_OK) == 0) {
				if (!key_is(pend.key_path, want)) {
					rc = mca_diag(d, MCA_ERR_INVAL, "%s: "
					    "not the key of %s", pend.key_path,
					    cnew);
					goto out;
				}
				if ((rc = rename_durable(pend.key_path,
				    f.keypath, d)) != 0)
					goto out;
			}
			if (!key_is(f.keypath, want)) {
				rc = mca_diag(d, MCA_ERR_INVAL, "%s: not the "
				    "key of %s (%s is gone)", f.keypath, cnew,
				    pend.key_path);
				goto out;
			}
			if ((rc = rename_durable(cnew, f.cert, d)) != 0)
				goto out;
		} else if (!cert_is_for(f.cert, want) ||
		    !key_is(f.keypath, want)) {
			rc = 0;		/* still in flight */
			goto out;
		}
		(void)snprintf(where, sizeof(where), "file:%s", f.keypath);
		if ((rc = mca_castate_pending_done(l, job_names[job], NULL, 0,
		    now)) != 0) {
			rc = mca_diag(d, rc, "ledger: %s",
			    mca_ledger_errmsg(l, rc));
			goto out;
		}
	}
	r->completed = 1;
	r->outcome = MCA_RENEW_INSTALLED;
	if ((x = file_cert(f.cert)) != NULL) {
		(void)mca_cert_serial_hex(x, r->serial, sizeof(r->serial));
		(void)mca_name_string(X509_get_subject_name(x), r->subject,
		    sizeof(r->subject));
		(void)asn1_time_t(X509_get0_notAfter(x), &r->not_after);
	}
	leaf_restart(cfg, &f, where, r);
	/*
	 * The keys replaced: removed from the token by a later run. The
	 * web server's old key stays while it may still use it (its
	 * restart failed); the next renewal supersedes it.
	 */
	if (pend.key_label != NULL && !r->hook_failed &&
	    leaf_supersede(l, p, &f, pend.key_label, now, &sub) != 0)
		(void)snprintf(r->warning, sizeof(r->warning), "superseding "
		    "the old keys: %s", sub.msg);
	rc = 0;
out:
	X509_free(x);
	X509_REQ_free(csr);
	mca_renew_pending_free(&pend);
	return rc;
}

static int
run_leaf(const struct mca_cfg *cfg, struct mca_ledger *l, struct mca_p11 *p,
    enum mca_renew_job job, time_t now, struct mca_renew_result *r,
    struct mca_diag *d)
{
	struct leaf		 f;
	struct mca_estc		 e;
	struct mca_diag		 sub;
	struct mca_buf		 pem = MCA_BUF_INIT;
	STACK_OF(X509)		*chain = NULL;
	X509_REQ		*csr = NULL;
	EVP_PKEY		*pub = NULL, *tlskey = NULL;
	X509			*cur = NULL;
	char			 cnew[PATH_MAX];
	time_t			 nb;
	int			 rc, reenroll;

	if ((rc = leaf_of(cfg, job, &f, d)) != 0)
		goto out;
	if (f.label != NULL && p == NULL) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: %s: the key is in the "
		    "token, which is not open", cfg->path, f.block);
		goto out;
	}
	if (f.req != NULL && !f.req->rekey) {
		rc = mca_diag(d, MCA_ERR_CONFIG, "%s: %s.rekey false: the "
		    "device certificate gets a new key with each renewal",
		    cfg->path, f.block);
		goto out;
	}
	/* An install a killed run left half done: completed, no more. */
	if ((rc = mca_renew_finish(cfg, l, p, job, now, r, d)) != 0 ||
	    r->completed)
		goto out;

	cur = file_cert(f.cert);
	if ((rc = mca_renew_upstream(cfg, job, p, &e, &tlskey, d)) != 0 ||
	    (rc = leaf_attempt(l, p, &f, cur, now, &csr, &pub, r, d)) != 0 ||
	    r->outcome == MCA_RENEW_WAITING)
		goto out;

	/*
	 * RFC 7030 4.2.2: the mTLS client certificate renews itself,
	 * authenticated by itself (the pair in place until the new one
	 * is). The others, and its first one, through /simpleenroll.
	 */
	reenroll = f.self && e.tls.certfile != NULL;
	if ((rc = enroll_checked(l, job, &e, NULL, reenroll, csr, pub, 0,
	    r->key_label[0] != '\0' ? r->key_label : r->key_path, now, r,
	    &chain, &nb, d)) != 0 || r->outcome == MCA_RENEW_PENDING)
		goto out;
	if ((rc = leaf_check(sk_X509_value(chain, 0), f.eku, &sub)) != 0) {
		rc = mca_diag(d, rc, "%s:%u: the certificate sent for %s is "
		    "refused: %s", e.host, e.port, r->key_label[0] != '\0' ?
		    r->key_label : r->key_path, sub.msg);
		goto out;
	}
	if ((rc = leaf_pem(chain, &pem)) != 0) {
		rc = mca_diag(d, rc, "the certificate cannot be written");
		goto out;
	}

	/*
	 * In place: with a token key the certificate file alone; with a
	 * key file CERT.new first, then (mca_renew_finish()) the key and
	 * the certificate renamed, the key first. A run stopped anywhere
	 * is completed by the next, and the pair in place is always one.
	 */
	if (f.label != NULL)
		rc = write_file(f.cert, pem.data, pem.len, 0644, d);
	else if ((rc = new_name(f.cert, cnew, sizeof(cnew), d)) == 0)
		rc = write_file(cnew, pem.data, pem.len, 0644, d);
	if (rc != 0)
		goto out;
	if ((rc = mca_renew_finish(cfg, l, p, job, now, r, d)) != 0)
		goto out;
	if (!r->completed) {
		rc = mca_diag(d, MCA_ERR_INTERNAL, "%s: the new certificate "
		    "is not for the attempt's key", f.cert);
		goto out;
	}
	r->completed = 0;
	rc = 0;
out:
	sk_X509_pop_free(chain, X509_free);
	X509_REQ_free(csr);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(tlskey);
	X509_free(cur);
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
	case MCA_RENEW_DEVICE:
	case MCA_RENEW_MTLS_SERVER:
	case MCA_RENEW_MTLS_CLIENT:
		return run_leaf(cfg, l, p, job, now, r, d);
	default:
		return mca_diag(d, MCA_ERR_INVAL, "no such job");
	}
}
