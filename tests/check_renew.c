/*
 * lib/renew.c: the check of what an upstream sends (mca_renew_check),
 * table-driven over certificates made here, and the job names.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "renew.h"
#include "testutil.h"

#define DAY	86400L

static EVP_PKEY	*root_key, *int_key, *our_key, *other_key;
static X509	*root, *inter;
static char	*dir, *anchors, *int_anchor, *foreign;
static time_t	 now;

/* What a certificate of the table looks like. */
struct shape {
	const char	*bc;	/* basicConstraints value or NULL */
	const char	*ku;	/* keyUsage value or NULL */
	long		 nb, na;	/* seconds from now */
};

static void
ext(X509 *x, X509 *issuer, int nid, const char *val)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ck_assert_ptr_nonnull(e = X509V3_EXT_conf_nid(NULL, &ctx, nid, val));
	ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A certificate for key named cn, issued by issuer (NULL: itself). */
static X509 *
mk(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
    const struct shape *s)
{
	X509		*x;
	static long	 serial = 1;

	ck_assert_ptr_nonnull(x = X509_new());
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x),
	    serial++), 1);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(X509_get_subject_name(x),
	    "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0), 1);
	ck_assert_int_eq(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : X509_get_subject_name(x)), 1);
	ck_assert_ptr_nonnull(X509_time_adj_ex(X509_getm_notBefore(x), 0,
	    s->nb, &now));
	ck_assert_ptr_nonnull(X509_time_adj_ex(X509_getm_notAfter(x), 0,
	    s->na, &now));
	ck_assert_int_eq(X509_set_pubkey(x, key), 1);
	if (s->bc != NULL)
		ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
		    s->bc);
	if (s->ku != NULL)
		ext(x, issuer != NULL ? issuer : x, NID_key_usage, s->ku);
	ck_assert_int_gt(X509_sign(x, ikey != NULL ? ikey : key,
	    EVP_sha256()), 0);
	return x;
}

static EVP_PKEY *
eckey(void)
{
	EVP_PKEY	*k;

	ck_assert_ptr_nonnull(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	return k;
}

static char *
write_pem(const char *name, X509 *x)
{
	char	*p = NULL;
	FILE	*f;

	ck_assert_int_ne(asprintf(&p, "%s/%s", dir, name), -1);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	ck_assert_int_eq(fclose(f), 0);
	return p;
}

static void
setup(void)
{
	static const struct shape ca = { "critical,CA:TRUE",
	    "critical,keyCertSign,cRLSign", -DAY, 3650 * DAY };
	EVP_PKEY	*fk;
	X509		*f;

	now = time(NULL);
	dir = tu_mkdtemp("renew");
	root_key = eckey();
	int_key = eckey();
	our_key = eckey();
	other_key = eckey();
	root = mk(root_key, "upstream root", NULL, NULL, &ca);
	inter = mk(int_key, "upstream issuing CA", root, root_key, &ca);
	anchors = write_pem("root.pem", root);
	int_anchor = write_pem("int.pem", inter);
	fk = eckey();
	f = mk(fk, "foreign root", NULL, NULL, &ca);
	foreign = write_pem("foreign.pem", f);
	X509_free(f);
	EVP_PKEY_free(fk);
}

static void
teardown(void)
{
	X509_free(root);
	X509_free(inter);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(our_key);
	EVP_PKEY_free(other_key);
	free(anchors);
	free(int_anchor);
	free(foreign);
	tu_rmtree(dir);
	free(dir);
}

#define CA_BC	"critical,CA:TRUE,pathlen:0"
#define CA_KU	"critical,keyCertSign,cRLSign,digitalSignature"
#define Y	(365 * DAY)

enum anchor { A_ROOT, A_INT, A_FOREIGN };

static const struct {
	struct shape	 s;
	int		 other;		/* for another key */
	int		 want_ca;
	int		 send_int;	/* the issuing CA among "untrusted" */
	enum anchor	 anchor;
	int		 rc;
	const char	*msg;		/* in d when refused */
	int		 chain_len;	/* when accepted */
} cases[] = {
	/* accepted: a CA for our key, chained by what the server sent */
	{ { CA_BC, CA_KU, -60, Y }, 0, 1, 1, A_ROOT, 0, NULL, 3 },
	/* the issuing CA as the anchor: no root needed */
	{ { CA_BC, CA_KU, -60, Y }, 0, 1, 0, A_INT, 0, NULL, 2 },
	/* a few minutes ahead of our clock: within the skew */
	{ { CA_BC, CA_KU, 120, Y }, 0, 1, 1, A_ROOT, 0, NULL, 3 },
	/* an end-entity certificate when no CA is wanted */
	{ { "critical,CA:FALSE", "critical,digitalSignature", -60, Y }, 0, 0,
	    1, A_ROOT, 0, NULL, 3 },
	/* refused */
	{ { CA_BC, CA_KU, -60, Y }, 1, 1, 1, A_ROOT, MCA_ERR_POLICY,
	    "another public key", 0 },
	{ { "critical,CA:FALSE", CA_KU, -60, Y }, 0, 1, 1, A_ROOT,
	    MCA_ERR_POLICY, "basicConstraints cA TRUE missing", 0 },
	{ { NULL, CA_KU, -60, Y }, 0, 1, 1, A_ROOT, MCA_ERR_POLICY,
	    "basicConstraints cA TRUE missing", 0 },
	{ { CA_BC, "critical,digitalSignature", -60, Y }, 0, 1, 1, A_ROOT,
	    MCA_ERR_POLICY, "keyUsage keyCertSign missing", 0 },
	{ { CA_BC, NULL, -60, Y }, 0, 1, 1, A_ROOT, MCA_ERR_POLICY,
	    "keyUsage keyCertSign missing", 0 },
	{ { CA_BC, CA_KU, 3600, Y }, 0, 1, 1, A_ROOT, MCA_ERR_POLICY,
	    "not valid before", 0 },
	{ { CA_BC, CA_KU, -2 * DAY, -DAY }, 0, 1, 1, A_ROOT, MCA_ERR_POLICY,
	    "expired at", 0 },
	{ { CA_BC, CA_KU, -60, 4000 * DAY }, 0, 1, 1, A_ROOT, MCA_ERR_POLICY,
	    "outlives its issuer", 0 },
	/* the issuing CA not sent: no path to the root */
	{ { CA_BC, CA_KU, -60, Y }, 0, 1, 0, A_ROOT, MCA_ERR_POLICY,
	    "does not chain to", 0 },
	{ { CA_BC, CA_KU, -60, Y }, 0, 1, 1, A_FOREIGN, MCA_ERR_POLICY,
	    "does not chain to", 0 },
};

START_TEST(test_check)
{
	STACK_OF(X509)	*untrusted, *chain = NULL;
	struct mca_diag	 d;
	X509		*x;
	const char	*a;
	int		 rc;

	x = mk(cases[_i].other ? other_key : our_key, "renewed", inter,
	    int_key, &cases[_i].s);
	ck_assert_ptr_nonnull(untrusted = sk_X509_new_null());
	if (cases[_i].send_int)
		ck_assert_int_gt(sk_X509_push(untrusted, inter), 0);
	a = cases[_i].anchor == A_ROOT ? anchors : cases[_i].anchor == A_INT ?
	    int_anchor : foreign;
	rc = mca_renew_check(x, untrusted, our_key, cases[_i].want_ca, a, now,
	    &chain, &d);
	ck_assert_msg(rc == cases[_i].rc, "case %d: %d (%s)", _i, rc, d.msg);
	if (rc == 0) {
		ck_assert_int_eq(sk_X509_num(chain), cases[_i].chain_len);
		ck_assert_int_eq(X509_cmp(sk_X509_value(chain, 0), x), 0);
	} else {
		ck_assert_ptr_null(chain);
		ck_assert_msg(strstr(d.msg, cases[_i].msg) != NULL,
		    "case %d: \"%s\" not in \"%s\"", _i, cases[_i].msg, d.msg);
	}
	sk_X509_pop_free(chain, X509_free);
	sk_X509_free(untrusted);
	X509_free(x);
}
END_TEST

/* An anchors file that is not there: a configuration error, named. */
START_TEST(test_check_anchors)
{
	static const struct shape ok = { CA_BC, CA_KU, -60, Y };
	struct mca_diag	 d;
	X509		*x;
	char		*p = NULL;

	ck_assert_int_ne(asprintf(&p, "%s/nonesuch.pem", dir), -1);
	x = mk(our_key, "renewed", inter, int_key, &ok);
	ck_assert_int_eq(mca_renew_check(x, NULL, our_key, 1, p, now, NULL,
	    &d), MCA_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(d.msg, "nonesuch.pem"));
	ck_assert_int_eq(mca_renew_check(NULL, NULL, our_key, 1, anchors, now,
	    NULL, &d), MCA_ERR_INVAL);
	X509_free(x);
	free(p);
}
END_TEST

START_TEST(test_job_names)
{
	int	 i;

	for (i = 0; i < MCA_RENEW_JOB_MAX; i++)
		ck_assert_int_eq(mca_renew_job_by_name(mca_renew_job_name(
		    (enum mca_renew_job)i)), i);
	ck_assert_str_eq(mca_renew_job_name(MCA_RENEW_INTERMEDIATE),
	    MCA_JOB_INTERMEDIATE);
	ck_assert_str_eq(mca_renew_job_name(MCA_RENEW_MTLS_CLIENT),
	    MCA_JOB_MTLS_CLIENT);
	ck_assert_int_eq(mca_renew_job_by_name("Intermediate"),
	    MCA_RENEW_JOB_MAX);
	ck_assert_int_eq(mca_renew_job_by_name(""), MCA_RENEW_JOB_MAX);
	ck_assert_int_eq(mca_renew_job_by_name(NULL), MCA_RENEW_JOB_MAX);
	ck_assert_str_eq(mca_renew_job_name(MCA_RENEW_JOB_MAX), "?");
}
END_TEST

static Suite *
renew_suite(void)
{
	Suite	*s = suite_create("renew");
	TCase	*tc = tcase_create("check");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_check, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_check_anchors);
	tcase_add_test(tc, test_job_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(renew_suite());
}
