/* issue.c: the certificate a profile asks for, built from a CSR. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "issue.h"
#include "testutil.h"

static EVP_PKEY	*ca_key;
static X509	*ca_cert;

/* A self-signed CA valid for days from now. */
static X509 *
make_ca(EVP_PKEY *k, int days, int with_ski)
{
	X509		*x = X509_new();
	X509_NAME	*n = X509_NAME_new();
	X509V3_CTX	 ctx;
	X509_EXTENSION	*e;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"test CA", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (with_ski) {
		e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier,
		    "hash");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_sign(x, k, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

static X509_REQ *
make_req(const char *cn, const char *san)
{
	X509_REQ			*r = X509_REQ_new();
	X509_NAME			*n = X509_NAME_new();
	EVP_PKEY			*k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256");
	STACK_OF(X509_EXTENSION)	*exts = sk_X509_EXTENSION_new_null();

	if (cn != NULL)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
		    (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(r, n);
	X509_REQ_set_pubkey(r, k);
	if (san != NULL) {
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
		    NID_subject_alt_name, san));
		X509_REQ_add_extensions(r, exts);
	}
	X509_REQ_sign(r, k, EVP_sha256());
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	return r;
}

static void
setup(void)
{
	ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ca_cert = make_ca(ca_key, 3650, 1);
}

static void
teardown(void)
{
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
}

static struct mca_profile
profile(void)
{
	struct mca_profile	 p;

	memset(&p, 0, sizeof(p));
	p.name = "t";
	p.validity_days = 30;
	p.path_len = -1;
	p.b64_line_length = 64;
	return p;
}

static EVP_PKEY	*alt_key;	/* key of an issuer other than ca_cert */

static X509 *
build(struct mca_profile *p, X509_REQ *req, const X509 *identity,
    const X509 *issuer, int want_rc)
{
	struct mca_issue_in	 in;
	struct mca_diag		 d;
	X509			*x = NULL;

	memset(&in, 0, sizeof(in));
	in.profile = p;
	in.csr = req;
	in.identity = identity;
	in.issuer = issuer != NULL ? issuer : ca_cert;
	in.now = time(NULL);
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_issue_build(&in, &x, &d), want_rc);
	if (want_rc == 0) {
		ck_assert_ptr_nonnull(x);
		ck_assert_int_gt(X509_sign(x, issuer != NULL ? alt_key : ca_key,
		    EVP_sha256()), 0);
		ck_assert_int_eq(X509_verify(x, X509_get0_pubkey(in.issuer)), 1);
	} else {
		ck_assert_ptr_null(x);
		ck_assert(d.msg[0] != '\0');
	}
	return x;
}

/* x's SubjectPublicKeyInfo is r's, byte for byte. */
static void
assert_same_spki(const X509 *x, X509_REQ *r)
{
	unsigned char	*a = NULL, *b = NULL;
	int		 alen, blen;

	alen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &a);
	blen = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(r), &b);
	ck_assert_int_gt(alen, 0);
	ck_assert_int_eq(alen, blen);
	ck_assert_mem_eq(a, b, (size_t)alen);
	OPENSSL_free(a);
	OPENSSL_free(b);
}

/* Key usage flags map onto RFC 5280 4.2.1.3 bit numbers. */
static const struct {
	unsigned	 flag;
	int		 bit;
} ku_map[] = {
	{ MCA_KU_DIGITAL_SIGNATURE, 0 }, { MCA_KU_NON_REPUDIATION, 1 },
	{ MCA_KU_KEY_ENCIPHERMENT, 2 }, { MCA_KU_DATA_ENCIPHERMENT, 3 },
	{ MCA_KU_KEY_AGREEMENT, 4 }, { MCA_KU_KEY_CERT_SIGN, 5 },
	{ MCA_KU_CRL_SIGN, 6 }, { MCA_KU_ENCIPHER_ONLY, 7 },
	{ MCA_KU_DECIPHER_ONLY, 8 },
};

START_TEST(t_key_usage_bits)
{
	struct mca_profile	 p = profile();
	X509_REQ		*r = make_req("ku", NULL);
	X509			*x;
	ASN1_BIT_STRING		*ku;
	int			 b;

	p.key_usage = ku_map[_i].flag;
	x = build(&p, r, NULL, NULL, 0);
	ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
	ck_assert_ptr_nonnull(ku);
	for (b = 0; b < 9; b++)
		ck_assert_int_eq(ASN1_BIT_STRING_get_bit(ku, b), b == ku_map[_i].bit);
	ck_assert_int_eq(X509_EXTENSION_get_critical(X509_get_ext(x,
	    X509_get_ext_by_NID(x, NID_key_usage, -1))), 1);
	ASN1_BIT_STRING_free(ku);
	X509_free(x);
	X509_REQ_free(r);
}
END_TEST

START_TEST(t_no_key_usage)
{
	struct mca_profile	 p = profile();
	X509_REQ		*r = make_req("none", NULL);
	X509			*x = build(&p, r, NULL, NULL, 0);

	ck_assert_int_lt(X509_get_ext_by_NID(x, NID_key_usage, -1), 0);
	ck_assert_int_lt(X509_get_ext_by_NID(x, NID_ext_key_usage, -1), 0);
	X509_free(x);
	X509_REQ_free(r);
}
END_TEST

START_TEST(t_basic_constraints)
{
	static const struct {
		int	 is_ca, path_len, want_ca;
		long	 want_pl;	/* -1: absent */
	} t[] = {
		{ 0, -1, 0, -1 }, { 0, 5, 0, -1 }, { 1, -1, 1, -1 },
		{ 1, 0, 1, 0 }, { 1, 10, 1, 10 },
	};
	struct mca_profile	 p = profile();
	X509_REQ		*r = make_req("bc", NULL);
	X509			*x;
	BASIC_CONSTRAINTS	*bc;

	p.is_ca = t[_i].is_ca;
	p.path_len = t[_i].path_len;
	x = build(&p, r, NULL, NULL, 0);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	ck_assert_ptr_nonnull(bc);
	ck_assert_int_eq(bc->ca != 0, t[_i].want_ca);
	if (t[_i].want_pl < 0)
		ck_assert_ptr_null(bc->pathlen);
	else
		ck_assert_int_eq(ASN1_INTEGER_get(bc->pathlen), t[_i].want_pl);
	ck_assert_int_eq(X509_EXTENSION_get_critical(X509_get_ext(x,
	    X509_get_ext_by_NID(x, NID_basic_constraints, -1))), 1);
	BASIC_CONSTRAINTS_free(bc);
	X509_free(x);
	X509_REQ_free(r);
}
END_TEST

START_TEST(t_validity)
{
	struct mca_profile	 p = profile();
	X509_REQ		*r = make_req("v", NULL);
	X509			*x, *shortca;
	EVP_PKEY		*k;
	int			 days, secs;

	/* days + the backdate */
	x = build(&p, r, NULL, NULL, 0);
	ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x));
	ck_assert_int_eq(days, 30);
	ck_assert_int_eq(secs, MCA_ISSUE_BACKDATE);
	X509_free(x);
	/* never past the issuer */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	shortca = make_ca(k, 10, 1);
	alt_key = k;
	x = build(&p, r, NULL, shortca, 0);
	ck_assert_int_eq(ASN1_TIME_compare(X509_get0_notAfter(x),
	    X509_get0_notAfter(shortca)), 0);
	X509_free(x);
	/* unlimited */
	p.is_unlimited_validity = 1;
	x = build(&p, r, NULL, NULL, 0);
	ck_assert_str_eq((const char *)ASN1_STRING_get0_data(
	    X509_get0_notAfter(x)), "99991231235959Z");
	X509_free(x);
	X509_free(shortca);
	EVP_PKEY_free(k);
	X509_REQ_free(r);
}
END_TEST

START_TEST(t_san)
{
	struct mca_profile	 p = profile();
	X509_REQ		*r;
	X509			*x;
	GENERAL_NAMES		*g;
	int			 i, idx;

	/* RID and dirName are dropped; DNS, IP, URI, email kept */
	r = make_req("s", "DNS:a.example, IP:10.0.0.1, URI:urn:x, "
	    "email:a@b.c, RID:1.2.3.4");
	x = build(&p, r, NULL, NULL, 0);
	g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	ck_assert_int_eq(sk_GENERAL_NAME_num(g), 4);
	for (i = 0; i < 4; i++)
		ck_assert_int_ne(sk_GENERAL_NAME_value(g, i)->type, GEN_RID);
	idx = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
	ck_assert_int_eq(X509_EXTENSION_get_critical(X509_get_ext(x, idx)), 0);
	GENERAL_NAMES_free(g);
	X509_free(x);
	X509_REQ_free(r);
	/* empty subject: SAN critical (RFC 5280 4.2.1.6) */
	r = make_req(NULL, "DNS:only.example");
	x = build(&p, r, NULL, NULL, 0);
	idx = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
	ck_assert_int_eq(X509_EXTENSION_get_critical(X509_get_ext(x, idx)), 1);
	X509_free(x);
	X509_REQ_free(r);
	/* nothing at all to name the subject: refused */
	r = make_req(NULL, "RID:1.2.3.4");
	build(&p, r, NULL, NULL, MCA_ERR_POLICY);
	X509_REQ_free(r);
}
END_TEST

START_TEST(t_identity_wins)
{
	struct mca_profile	 p = profile();
	X509_REQ		*r1 = make_req("original", "DNS:orig.example");
	X509_REQ		*r2 = make_req("attacker", "DNS:evil.example");
	X509			*old, *x;
	GENERAL_NAMES		*g;
	GENERAL_NAME		*n;

	old = build(&p, r1, NULL, NULL, 0);
	x = build(&p, r2, old, NULL, 0);
	ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_subject_name(old)), 0);
	g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	n = sk_GENERAL_NAME_value(g, 0);
	ck_assert_str_eq((const char *)ASN1_STRING_get0_data(n->d.dNSName),
	    "orig.example");
	/* the key is the CSR's (rekey) */
	assert_same_spki(x, r2);
	GENERAL_NAMES_free(g);
	X509_free(old);
	X509_free(x);
	X509_REQ_free(r1);
	X509_REQ_free(r2);
}
END_TEST

START_TEST(t_key_ids_and_eku)
{
	struct mca_profile	 p = profile();
	char			*eku[] = { "1.3.6.1.5.5.7.3.1", "1.2.3.4.5" };
	X509_REQ		*r = make_req("ids", NULL);
	X509			*x, *noski;
	EXTENDED_KEY_USAGE	*e;
	EVP_PKEY		*k;
	char			 oid[64];

	p.eku = eku;
	p.neku = 2;
	x = build(&p, r, NULL, NULL, 0);
	ck_assert_int_eq(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(ca_cert)), 0);
	ck_assert_ptr_nonnull(X509_get0_subject_key_id(x));
	e = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	ck_assert_int_eq(sk_ASN1_OBJECT_num(e), 2);
	OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(e, 1), 1);
	ck_assert_str_eq(oid, "1.2.3.4.5");
	sk_ASN1_OBJECT_pop_free(e, ASN1_OBJECT_free);
	X509_free(x);
	/* an issuer without SKI still gives an AKI */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	noski = make_ca(k, 100, 0);
	alt_key = k;
	x = build(&p, r, NULL, noski, 0);
	ck_assert_ptr_nonnull(X509_get0_authority_key_id(x));
	X509_free(x);
	X509_free(noski);
	EVP_PKEY_free(k);
	X509_REQ_free(r);
}
END_TEST

/*
 * crl_distribution_point_url: one fullName URI, non-critical (RFC 5280
 * 4.2.1.13), as openssl x509 -text shows it; none without the key.
 */
START_TEST(t_crl_dp)
{
	struct mca_profile	 p = profile();
	struct mca_buf		 out = MCA_BUF_INIT;
	X509_REQ		*r = make_req("cdp", NULL);
	X509			*x;
	CRL_DIST_POINTS		*cdp;
	DIST_POINT		*dp;
	GENERAL_NAME		*gn;
	FILE			*f;
	char			*dir, *path;
	int			 crit = -1;

	x = build(&p, r, NULL, NULL, 0);
	ck_assert_ptr_null(X509_get_ext_d2i(x, NID_crl_distribution_points,
	    NULL, NULL));
	X509_free(x);
	p.crl_url = "http://ca.example.net/crl/microca.crl";
	x = build(&p, r, NULL, NULL, 0);
	cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, &crit, NULL);
	ck_assert_ptr_nonnull(cdp);
	ck_assert_int_eq(crit, 0);
	ck_assert_int_eq(sk_DIST_POINT_num(cdp), 1);
	dp = sk_DIST_POINT_value(cdp, 0);
	ck_assert_ptr_null(dp->reasons);
	ck_assert_ptr_null(dp->CRLissuer);
	ck_assert_int_eq(dp->distpoint->type, 0);
	ck_assert_int_eq(sk_GENERAL_NAME_num(dp->distpoint->name.fullname), 1);
	gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
	ck_assert_int_eq(gn->type, GEN_URI);
	ck_assert_str_eq((const char *)ASN1_STRING_get0_data(
	    gn->d.uniformResourceIdentifier), p.crl_url);
	sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);

	/* What OpenSSL's own printer makes of it. */
	dir = tu_mkdtemp("issue");
	ck_assert_int_ne(asprintf(&path, "%s/c.pem", dir), -1);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(tu_sh(&out, "'%s' x509 -noout -text -in '%s'",
	    tu_openssl(), path), 0);
	ck_assert_int_eq(mca_buf_addstr(&out, ""), 0);
	ck_assert_msg(strstr(mca_buf_str(&out), "X509v3 CRL Distribution "
	    "Points: \n") != NULL, "%s", mca_buf_str(&out));
	ck_assert_msg(strstr(mca_buf_str(&out), "Full Name:\n"
	    "                  URI:http://ca.example.net/crl/microca.crl\n")
	    != NULL, "%s", mca_buf_str(&out));
	mca_buf_free(&out);
	tu_rmtree(dir);
	free(path);
	free(dir);
	X509_free(x);

	/* {keyid}: the issuer's subjectKeyIdentifier in uppercase hex */
	p.crl_url = "http://ca.example.net/crl/{keyid}.crl";
	x = build(&p, r, NULL, NULL, 0);
	cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	ck_assert_ptr_nonnull(cdp);
	dp = sk_DIST_POINT_value(cdp, 0);
	gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
	{
		const ASN1_OCTET_STRING	*ski = X509_get0_subject_key_id(
		    ca_cert);
		char			 want[256];
		int			 i, o;

		o = snprintf(want, sizeof(want), "http://ca.example.net/crl/");
		for (i = 0; i < ASN1_STRING_length(ski); i++)
			o += snprintf(want + o, sizeof(want) - (size_t)o,
			    "%02X", ASN1_STRING_get0_data(ski)[i]);
		(void)snprintf(want + o, sizeof(want) - (size_t)o, ".crl");
		ck_assert_str_eq((const char *)ASN1_STRING_get0_data(
		    gn->d.uniformResourceIdentifier), want);
	}
	sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);
	X509_free(x);
	X509_REQ_free(r);
}
END_TEST

START_TEST(t_serial)
{
	X509		*x = X509_new(), *y = X509_new();
	BIGNUM		*a, *b;

	ck_assert_int_eq(mca_issue_serial(x), 0);
	ck_assert_int_eq(mca_issue_serial(y), 0);
	a = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	b = ASN1_INTEGER_to_BN(X509_get0_serialNumber(y), NULL);
	ck_assert(!BN_is_negative(a));
	ck_assert_int_eq(BN_num_bytes(a), 16);
	ck_assert_int_eq(BN_num_bits(a), 127);
	ck_assert_int_ne(BN_cmp(a, b), 0);
	BN_free(a);
	BN_free(b);
	X509_free(x);
	X509_free(y);
}
END_TEST

/*
 * The certificate carries the CSR's public key exactly as the CSR
 * encoded it (issue.c copies the SubjectPublicKeyInfo), for each kind of
 * key; the CSR comes from DER, as a client sends it.
 */
static const struct {
	const char	*type;
	const char	*param;
	size_t		 bits;
} copied[] = {
	{ "EC", "P-256", 0 },
	{ "EC", "P-384", 0 },
	{ "EC", "P-521", 0 },
	{ "RSA", NULL, 2048 },
};

START_TEST(t_key_copied)
{
	struct mca_profile	 p = profile();
	EVP_PKEY		*k;
	X509_REQ		*r = X509_REQ_new(), *sent;
	X509_NAME		*n = X509_NAME_new();
	X509			*x, *back;
	unsigned char		*der = NULL;
	const unsigned char	*q;
	int			 len;

	k = copied[_i].param != NULL ?
	    EVP_PKEY_Q_keygen(NULL, NULL, copied[_i].type, copied[_i].param) :
	    EVP_PKEY_Q_keygen(NULL, NULL, copied[_i].type, copied[_i].bits);
	ck_assert_ptr_nonnull(k);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"copied", -1, -1, 0);
	X509_REQ_set_subject_name(r, n);
	X509_REQ_set_pubkey(r, k);
	ck_assert_int_gt(X509_REQ_sign(r, k, EVP_sha256()), 0);
	ck_assert_int_gt(len = i2d_X509_REQ(r, &der), 0);
	q = der;
	ck_assert_ptr_nonnull(sent = d2i_X509_REQ(NULL, &q, len));

	x = build(&p, sent, NULL, NULL, 0);
	OPENSSL_free(der);
	der = NULL;
	ck_assert_int_gt(len = i2d_X509(x, &der), 0);
	q = der;
	ck_assert_ptr_nonnull(back = d2i_X509(NULL, &q, len));
	ck_assert_int_eq(X509_check_private_key(back, k), 1);
	assert_same_spki(back, sent);
	ck_assert_int_eq(X509_verify(back, X509_get0_pubkey(ca_cert)), 1);

	OPENSSL_free(der);
	X509_free(back);
	X509_free(x);
	X509_REQ_free(sent);
	X509_REQ_free(r);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
}
END_TEST

static Suite *
issue_suite(void)
{
	Suite	*s = suite_create("issue");
	TCase	*tc = tcase_create("build");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, t_key_usage_bits, 0,
	    (int)(sizeof(ku_map) / sizeof(ku_map[0])));
	tcase_add_test(tc, t_no_key_usage);
	tcase_add_loop_test(tc, t_basic_constraints, 0, 5);
	tcase_add_test(tc, t_validity);
	tcase_add_test(tc, t_san);
	tcase_add_test(tc, t_identity_wins);
	tcase_add_test(tc, t_key_ids_and_eku);
	tcase_add_test(tc, t_serial);
	tcase_add_test(tc, t_crl_dp);
	tcase_add_loop_test(tc, t_key_copied, 0,
	    (int)(sizeof(copied) / sizeof(copied[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(issue_suite());
}
