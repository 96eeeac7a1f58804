/* Tests for lib/est_codec.c: certs-only CMS and CSR attributes. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "b64.h"
#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "est_codec.h"
#include "testutil.h"

Suite	*est_codec_suite(void);

#define NCERT	3

static X509	*cert[NCERT];

static const char *
openssl_cmd(void)
{
	const char	*s = getenv("OPENSSL");

	return s != NULL && *s != '\0' ? s : "openssl";
}

static void
setup(void)
{
	static const char *const cns[NCERT] = { "leaf", "sub CA", "root CA" };
	EVP_PKEY	*k;
	int		 i;

	ck_assert_ptr_nonnull(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	for (i = 0; i < NCERT; i++)
		cert[i] = tu_selfsigned(cns[i], k);
	EVP_PKEY_free(k);
}

static void
teardown(void)
{
	int	 i;

	for (i = 0; i < NCERT; i++)
		X509_free(cert[i]);
}

/* A stack of cert[] in the order given as digits ("210"). */
static STACK_OF(X509) *
stack(const char *order)
{
	STACK_OF(X509)	*sk;

	ck_assert_ptr_nonnull(sk = sk_X509_new_null());
	for (; *order != '\0'; order++)
		ck_assert_int_gt(sk_X509_push(sk, cert[*order - '0']), 0);
	return sk;
}

/* ------------------------------------------------------------ certs-only */

static const char *const orders[] = { "0", "012", "210", "" };

START_TEST(test_certs_only)
{
	struct mca_buf		 der = MCA_BUF_INIT;
	STACK_OF(X509)		*sk;
	PKCS7			*p7;
	PKCS7_SIGNED		*sd;
	const unsigned char	*p;
	const char		*o = orders[_i];
	int			 i;

	sk = stack(o);
	ck_assert_int_eq(mca_buf_addstr(&der, "pre"), 0);
	ck_assert_int_eq(mca_est_certs_only(sk, &der), 0);
	ck_assert_mem_eq(der.data, "pre", 3);
	p = der.data + 3;
	ck_assert_ptr_nonnull(p7 = d2i_PKCS7(NULL, &p, (long)der.len - 3));
	ck_assert_ptr_eq(p, der.data + der.len);	/* all of it */

	ck_assert_int_eq(OBJ_obj2nid(p7->type), NID_pkcs7_signed);
	sd = p7->d.sign;
	ck_assert_int_eq(ASN1_INTEGER_get(sd->version), 1);
	ck_assert_int_eq(sk_X509_ALGOR_num(sd->md_algs), 0);
	/* encapContentInfo: id-data, eContent absent */
	ck_assert_int_eq(OBJ_obj2nid(sd->contents->type), NID_pkcs7_data);
	ck_assert_ptr_null(sd->contents->d.data);
	ck_assert_int_eq(sk_X509_CRL_num(sd->crl), -1);		/* absent */
	ck_assert_int_eq(sk_PKCS7_SIGNER_INFO_num(sd->signer_info), 0);
	ck_assert_int_eq(sk_X509_num(sd->cert), *o != '\0' ? (int)strlen(o) :
	    -1);
	for (i = 0; o[i] != '\0'; i++)
		ck_assert_int_eq(X509_cmp(sk_X509_value(sd->cert, i),
		    cert[o[i] - '0']), 0);
	PKCS7_free(p7);
	sk_X509_free(sk);
	mca_buf_free(&der);
}
END_TEST

/* The openssl CLI reads it back, and makes the very same bytes. */
START_TEST(test_certs_only_cli)
{
	struct mca_buf	 der = MCA_BUF_INIT, out = MCA_BUF_INIT;
	struct mca_buf	 ref = MCA_BUF_INIT;
	STACK_OF(X509)	*sk;
	BIO		*b;
	char		*dir, path[1024];
	const char	*s;
	int		 i;

	dir = tu_mkdtemp("estcodec");
	sk = stack("012");
	ck_assert_int_eq(mca_est_certs_only(sk, &der), 0);
	(void)snprintf(path, sizeof(path), "%s/p7.der", dir);
	ck_assert_int_eq(tu_write(path, (char *)der.data, der.len), 0);
	ck_assert_int_eq(tu_sh(&out, "'%s' pkcs7 -inform DER -in '%s/p7.der' "
	    "-print_certs -noout", openssl_cmd(), dir), 0);
	s = mca_buf_str(&out);
	ck_assert_ptr_nonnull(s = strstr(s, "subject=CN = leaf\n"));
	ck_assert_ptr_nonnull(s = strstr(s, "subject=CN = sub CA\n"));
	ck_assert_ptr_nonnull(strstr(s, "subject=CN = root CA\n"));

	(void)snprintf(path, sizeof(path), "%s/chain.pem", dir);
	ck_assert_ptr_nonnull(b = BIO_new_file(path, "w"));
	for (i = 0; i < NCERT; i++)
		ck_assert_int_eq(PEM_write_bio_X509(b, cert[i]), 1);
	BIO_free(b);
	ck_assert_int_eq(tu_sh(NULL, "'%s' crl2pkcs7 -nocrl -certfile "
	    "'%s/chain.pem' -outform DER -out '%s/ref.der'", openssl_cmd(),
	    dir, dir), 0);
	(void)snprintf(path, sizeof(path), "%s/ref.der", dir);
	ck_assert_int_eq(tu_read(path, &ref), 0);
	ck_assert_uint_eq(der.len, ref.len);
	ck_assert_mem_eq(der.data, ref.data, der.len);

	sk_X509_free(sk);
	mca_buf_free(&ref);
	mca_buf_free(&out);
	mca_buf_free(&der);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------------ csrattrs */

/*
 * Reads a CsrAttrs back into words: each AttrOrOID as its dotted OID, an
 * Attribute as "type={value,...}", separated by spaces.
 */
static void
attrs_words(const unsigned char *der, size_t len, struct mca_buf *out)
{
	const unsigned char	*p = der, *end, *q;
	X509_ATTRIBUTE		*a;
	ASN1_OBJECT		*o;
	ASN1_TYPE		*t;
	char			 txt[128];
	long			 clen;
	int			 tag, xclass, i, r;

	r = ASN1_get_object(&p, &clen, &tag, &xclass, (long)len);
	ck_assert_int_eq(r, V_ASN1_CONSTRUCTED);
	ck_assert_int_eq(tag, V_ASN1_SEQUENCE);
	ck_assert_int_eq(xclass, V_ASN1_UNIVERSAL);
	end = p + clen;
	ck_assert_ptr_eq(end, der + len);	/* nothing after the SEQUENCE */
	while (p < end) {
		if (out->len > 0)
			ck_assert_int_eq(mca_buf_addc(out, ' '), 0);
		if (*p == V_ASN1_OBJECT) {
			ck_assert_ptr_nonnull(o = d2i_ASN1_OBJECT(NULL, &p,
			    end - p));
			ck_assert_int_gt(OBJ_obj2txt(txt, sizeof(txt), o, 1), 0);
			ck_assert_int_eq(mca_buf_addstr(out, txt), 0);
			ASN1_OBJECT_free(o);
			continue;
		}
		ck_assert_int_eq(*p, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED);
		q = p;
		ck_assert_ptr_nonnull(a = d2i_X509_ATTRIBUTE(NULL, &p, end - p));
		ck_assert(p > q);
		ck_assert_int_gt(OBJ_obj2txt(txt, sizeof(txt),
		    X509_ATTRIBUTE_get0_object(a), 1), 0);
		ck_assert_int_eq(mca_buf_printf(out, "%s={", txt), 0);
		for (i = 0; i < X509_ATTRIBUTE_count(a); i++) {
			t = X509_ATTRIBUTE_get0_type(a, i);
			if (i > 0)
				ck_assert_int_eq(mca_buf_addc(out, ','), 0);
			if (t->type == V_ASN1_OBJECT) {
				ck_assert_int_gt(OBJ_obj2txt(txt, sizeof(txt),
				    t->value.object, 1), 0);
				ck_assert_int_eq(mca_buf_addstr(out, txt), 0);
			} else if (t->type == V_ASN1_INTEGER)
				ck_assert_int_eq(mca_buf_printf(out, "%ld",
				    ASN1_INTEGER_get(t->value.integer)), 0);
			else
				ck_abort_msg("value of type %d", t->type);
		}
		ck_assert_int_eq(mca_buf_addc(out, '}'), 0);
		X509_ATTRIBUTE_free(a);
	}
}

#define ECPUB	"1.2.840.10045.2.1"
#define RSAENC	"1.2.840.113549.1.1.1"

static const struct {
	int			 noprofile;
	enum mca_keytype	 type;
	int			 size;
	const char		*md;		/* NULL: md NULL */
	int			 rc;
	const char		*want;
} acases[] = {
	{ 0, MCA_KEYTYPE_EC, 384, "SHA384", 0,
	    ECPUB "={1.3.132.0.34} 1.2.840.10045.4.3.3" },
	{ 0, MCA_KEYTYPE_RSA, 3072, "SHA256", 0,
	    RSAENC "={3072} 1.2.840.113549.1.1.11" },
	{ 0, MCA_KEYTYPE_ANY, 0, "SHA256", 0,
	    "1.2.840.10045.4.3.2 1.2.840.113549.1.1.11" },
	{ 0, MCA_KEYTYPE_EC, 0, "SHA256", 0,
	    ECPUB "={1.2.840.10045.3.1.7} 1.2.840.10045.4.3.2" },
	{ 0, MCA_KEYTYPE_EC, 256, NULL, 0,
	    ECPUB "={1.2.840.10045.3.1.7} 1.2.840.10045.4.3.2" },
	{ 0, MCA_KEYTYPE_EC, 521, "SHA512", 0,
	    ECPUB "={1.3.132.0.35} 1.2.840.10045.4.3.4" },
	{ 0, MCA_KEYTYPE_RSA, 0, "SHA512", 0,
	    RSAENC "={2048} 1.2.840.113549.1.1.13" },
	{ 0, MCA_KEYTYPE_RSA, 4096, "SHA384", 0,
	    RSAENC "={4096} 1.2.840.113549.1.1.12" },
	{ 0, MCA_KEYTYPE_ANY, 0, "SHA384", 0,
	    "1.2.840.10045.4.3.3 1.2.840.113549.1.1.12" },
	{ 1, 0, 0, "SHA512", 0, "1.2.840.10045.4.3.4 1.2.840.113549.1.1.13" },
	/* what a profile or digest cannot ask for */
	{ 0, MCA_KEYTYPE_EC, 300, "SHA256", MCA_ERR_INVAL, NULL },
	{ 0, MCA_KEYTYPE_RSA, -1, "SHA256", MCA_ERR_INVAL, NULL },
	{ 0, MCA_KEYTYPE_EC, 256, "SHA1", MCA_ERR_INVAL, NULL },
	{ 0, MCA_KEYTYPE_MAX, 0, "SHA256", MCA_ERR_INVAL, NULL },
};

START_TEST(test_csrattrs)
{
	struct mca_buf		 der = MCA_BUF_INIT, words = MCA_BUF_INIT;
	struct mca_profile	 prof;
	const EVP_MD		*md = NULL;
	int			 rc;

	memset(&prof, 0, sizeof(prof));
	prof.name = "label";
	prof.key_type = acases[_i].type;
	prof.key_size = acases[_i].size;
	if (acases[_i].md != NULL)
		ck_assert_ptr_nonnull(md = EVP_get_digestbyname(acases[_i].md));
	ck_assert_int_eq(mca_buf_addstr(&der, "pre"), 0);
	rc = mca_est_csrattrs(acases[_i].noprofile ? NULL : &prof, md, &der);
	ck_assert_int_eq(rc, acases[_i].rc);
	ck_assert_mem_eq(der.data, "pre", 3);
	if (rc == 0) {
		attrs_words(der.data + 3, der.len - 3, &words);
		ck_assert_str_eq(mca_buf_str(&words), acases[_i].want);
	} else
		ck_assert_uint_eq(der.len, 3);		/* nothing appended */
	mca_buf_free(&words);
	mca_buf_free(&der);
}
END_TEST

/*
 * Byte for byte: EC P-384 with SHA-384 is the RFC 7030 4.5.2 example
 * without its challengePassword and extensionRequest elements.
 */
START_TEST(test_csrattrs_rfc_example)
{
	static const char rfc[] =
	    "MEEGCSqGSIb3DQEJBzASBgcqhkjOPQIBMQcGBSuBBAAiMBYGCSqGSIb3DQEJDjEJ"
	    "BgcrBgEBAQEWBggqhkjOPQQDAw==";
	static const unsigned char want[] = {
		0x30, 0x1e,
		  0x30, 0x12,
		    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
		    0x31, 0x07,
		      0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
		  0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
	};
	struct mca_buf		 der = MCA_BUF_INIT, ex = MCA_BUF_INIT;
	struct mca_profile	 prof;

	memset(&prof, 0, sizeof(prof));
	prof.key_type = MCA_KEYTYPE_EC;
	prof.key_size = 384;
	ck_assert_int_eq(mca_est_csrattrs(&prof, EVP_sha384(), &der), 0);
	ck_assert_uint_eq(der.len, sizeof(want));
	ck_assert_mem_eq(der.data, want, sizeof(want));
	/* The attribute and the OID appear as such in the RFC's example. */
	ck_assert_int_eq(mca_b64_decode(rfc, strlen(rfc), &ex), 0);
	ck_assert_ptr_nonnull(memmem(ex.data, ex.len, want + 2, 20));
	ck_assert_ptr_nonnull(memmem(ex.data, ex.len, want + 22, 10));
	mca_buf_free(&ex);
	mca_buf_free(&der);
}
END_TEST

/* openssl asn1parse agrees on the structure. */
START_TEST(test_csrattrs_asn1parse)
{
	struct mca_buf		 der = MCA_BUF_INIT, out = MCA_BUF_INIT;
	struct mca_profile	 prof;
	char			*dir, path[1024];
	const char		*s;

	memset(&prof, 0, sizeof(prof));
	prof.key_type = MCA_KEYTYPE_RSA;
	prof.key_size = 3072;
	ck_assert_int_eq(mca_est_csrattrs(&prof, EVP_sha256(), &der), 0);
	dir = tu_mkdtemp("estcodec");
	(void)snprintf(path, sizeof(path), "%s/attrs.der", dir);
	ck_assert_int_eq(tu_write(path, (char *)der.data, der.len), 0);
	ck_assert_int_eq(tu_sh(&out, "'%s' asn1parse -inform DER -in '%s'",
	    openssl_cmd(), path), 0);
	s = mca_buf_str(&out);
	ck_assert_ptr_nonnull(s = strstr(s, "d=0 "));
	ck_assert_ptr_nonnull(s = strstr(s, "SEQUENCE"));
	ck_assert_ptr_nonnull(s = strstr(s, "d=1 "));
	ck_assert_ptr_nonnull(s = strstr(s, "SEQUENCE"));
	ck_assert_ptr_nonnull(s = strstr(s, ":rsaEncryption\n"));
	ck_assert_ptr_nonnull(s = strstr(s, "SET"));
	ck_assert_ptr_nonnull(s = strstr(s, "INTEGER"));
	ck_assert_ptr_nonnull(s = strstr(s, ":0C00\n"));
	ck_assert_ptr_nonnull(s = strstr(s, "d=1 "));
	ck_assert_ptr_nonnull(strstr(s, ":sha256WithRSAEncryption\n"));
	mca_buf_free(&out);
	mca_buf_free(&der);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
est_codec_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("est_codec");

	tc = tcase_create("certs_only");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_certs_only, 0,
	    (int)(sizeof(orders) / sizeof(orders[0])));
	tcase_add_test(tc, test_certs_only_cli);
	suite_add_tcase(s, tc);

	tc = tcase_create("csrattrs");
	tcase_add_loop_test(tc, test_csrattrs, 0,
	    (int)(sizeof(acases) / sizeof(acases[0])));
	tcase_add_test(tc, test_csrattrs_rfc_example);
	tcase_add_test(tc, test_csrattrs_asn1parse);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return tu_run(est_codec_suite());
}
