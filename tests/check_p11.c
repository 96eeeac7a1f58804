/*
 * p11.c and csrgen.c: one session on a real SoftHSMv2 token, several keys
 * by label, keys made inside the token, signing certificates and
 * requests, TLS client authentication with a token key, removal, listing.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <p11-kit/pkcs11.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "certinfo.h"
#include "csrgen.h"
#include "p11.h"
#include "testutil.h"

static char	*dir;

static const char *
module(void)
{
	const char	*m = getenv("SOFTHSM2_MODULE");

	return m != NULL && *m != '\0' ? m : "/usr/lib/softhsm/libsofthsm2.so";
}

static void
setup(void)
{
	char	 conf[1024];

	dir = tu_mkdtemp("p11");
	if (tu_mkpki(dir, "hsm-ec") != 0)
		abort();
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", conf, 1);
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(dir);
}

static struct mca_p11 *
session(void)
{
	struct mca_p11	*p = NULL;
	struct mca_diag	 d;

	mca_diag_clear(&d);
	ck_assert_msg(mca_p11_session(module(), NULL, "1234", &p, &d) == 0,
	    "%s", d.msg);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* A certificate for pub with CN=cn, signed by key (with subject issuer). */
static X509 *
cert_for(const char *cn, EVP_PKEY *pub, EVP_PKEY *key, const EVP_MD *md)
{
	X509		*x;
	X509_NAME	*n;
	X509V3_CTX	 ctx;
	X509_EXTENSION	*e;

	ck_assert_ptr_nonnull(x = X509_new());
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), 9), 1);
	n = X509_get_subject_name(x);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	ck_assert_int_eq(X509_set_issuer_name(x, n), 1);
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	ck_assert_int_eq(X509_set_pubkey(x, pub), 1);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ck_assert_ptr_nonnull(e = X509V3_EXT_conf_nid(NULL, &ctx,
	    NID_basic_constraints, "critical,CA:TRUE"));
	ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
	ck_assert_int_gt(X509_sign(x, key, md), 0);
	return x;
}

/*
 * Asks the token, from a PKCS#11 application of our own (not libp11, not
 * p11.c), for the secret of the private key labelled label: the value
 * (EC) or private exponent (RSA) must be refused as sensitive, the key
 * must not be made extractable again, and a wrap with a fresh AES key
 * must be refused; its label (the control) reads. Runs where no other
 * user of the module is left in this process.
 */
static void
assert_secret(const char *label)
{
	CK_C_GetFunctionList	 gfl;
	CK_FUNCTION_LIST_PTR	 f = NULL;
	CK_SLOT_ID		 slots[8];
	CK_ULONG		 ns = 8, got = 0, kt = 0, wlen = 0, i;
	CK_TOKEN_INFO		 ti;
	CK_SESSION_HANDLE	 h;
	CK_OBJECT_HANDLE	 o, aes;
	CK_OBJECT_CLASS		 cls = CKO_PRIVATE_KEY;
	CK_BBOOL		 yes = CK_TRUE;
	CK_ULONG		 aeslen = 32;
	unsigned char		 buf[1024];
	CK_ATTRIBUTE		 find[2] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
	};
	CK_ATTRIBUTE		 a = { CKA_LABEL, buf, sizeof(buf) };
	CK_ATTRIBUTE		 ktype = { CKA_KEY_TYPE, &kt, sizeof(kt) };
	CK_ATTRIBUTE		 ext = { CKA_EXTRACTABLE, &yes, sizeof(yes) };
	CK_ATTRIBUTE		 akey[2] = {
		{ CKA_VALUE_LEN, &aeslen, sizeof(aeslen) },
		{ CKA_WRAP, &yes, sizeof(yes) },
	};
	CK_MECHANISM		 gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_MECHANISM		 wrap = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	void			*dl;

	ck_assert_ptr_nonnull(dl = dlopen(module(), RTLD_NOW | RTLD_LOCAL));
	ck_assert_ptr_nonnull(*(void **)&gfl = dlsym(dl,
	    "C_GetFunctionList"));
	ck_assert_int_eq(gfl(&f), CKR_OK);
	ck_assert_int_eq(f->C_Initialize(NULL), CKR_OK);
	ck_assert_int_eq(f->C_GetSlotList(CK_TRUE, slots, &ns), CKR_OK);
	/* SoftHSM offers a fresh token besides ours: the initialised one */
	for (i = 0; i < ns; i++) {
		ck_assert_int_eq(f->C_GetTokenInfo(slots[i], &ti), CKR_OK);
		if (ti.flags & CKF_TOKEN_INITIALIZED)
			break;
	}
	ck_assert_uint_lt(i, ns);
	ck_assert_int_eq(f->C_OpenSession(slots[i], CKF_SERIAL_SESSION |
	    CKF_RW_SESSION, NULL, NULL, &h), CKR_OK);
	ck_assert_int_eq(f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)"1234", 4),
	    CKR_OK);
	ck_assert_int_eq(f->C_FindObjectsInit(h, find, 2), CKR_OK);
	ck_assert_int_eq(f->C_FindObjects(h, &o, 1, &got), CKR_OK);
	ck_assert_int_eq(f->C_FindObjectsFinal(h), CKR_OK);
	ck_assert_uint_eq(got, 1);
	/* the control: what is not secret reads */
	ck_assert_int_eq(f->C_GetAttributeValue(h, o, &a, 1), CKR_OK);
	ck_assert_uint_eq(a.ulValueLen, strlen(label));
	ck_assert_int_eq(f->C_GetAttributeValue(h, o, &ktype, 1), CKR_OK);
	a.type = kt == CKK_RSA ? CKA_PRIVATE_EXPONENT : CKA_VALUE;
	a.ulValueLen = sizeof(buf);
	ck_assert_int_eq(f->C_GetAttributeValue(h, o, &a, 1),
	    CKR_ATTRIBUTE_SENSITIVE);
	ck_assert_uint_eq(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	if (kt == CKK_RSA) {
		a.type = CKA_PRIME_1;
		a.ulValueLen = sizeof(buf);
		ck_assert_int_eq(f->C_GetAttributeValue(h, o, &a, 1),
		    CKR_ATTRIBUTE_SENSITIVE);
	}
	/* CKA_EXTRACTABLE goes from true to false only (PKCS#11 2.40 4.9) */
	ck_assert_int_ne(f->C_SetAttributeValue(h, o, &ext, 1), CKR_OK);
	ck_assert_int_eq(f->C_GenerateKey(h, &gen, akey, 2, &aes), CKR_OK);
	wlen = sizeof(buf);
	ck_assert_int_eq(f->C_WrapKey(h, &wrap, aes, o, buf, &wlen),
	    CKR_KEY_UNEXTRACTABLE);
	ck_assert_int_eq(f->C_DestroyObject(h, aes), CKR_OK);
	ck_assert_int_eq(f->C_CloseSession(h), CKR_OK);
	ck_assert_int_eq(f->C_Finalize(NULL), CKR_OK);
	dlclose(dl);
}

static const struct {
	enum mca_keytype type;
	int		 bits;
	const char	*hash;
} gen[] = {
	{ MCA_KEYTYPE_RSA, 2048, "SHA256" },
	{ MCA_KEYTYPE_EC, 256, "SHA256" },
	{ MCA_KEYTYPE_EC, 384, "SHA384" },
	{ MCA_KEYTYPE_EC, 521, "SHA512" },
};

/*
 * Each kind of key made in the token: it signs a certificate and a CSR
 * that its public half verifies, it stays private, sensitive and not
 * extractable, and a later session finds it by its label.
 */
START_TEST(t_keygen)
{
	struct mca_csr_subject	 subj = { "microca test " "intermediate",
	    "DE", "Bayern", "Muenchen", "microca test", "CA" };
	struct mca_p11_keyinfo	*ki = NULL;
	struct mca_p11		*p;
	struct mca_diag		 d;
	struct mca_buf		 pem = MCA_BUF_INIT, der = MCA_BUF_INIT;
	EVP_PKEY		*key = NULL, *pub = NULL, *pub2 = NULL;
	const unsigned char	*q;
	X509_REQ		*req = NULL, *req2;
	X509			*x;
	BASIC_CONSTRAINTS	*bc;
	STACK_OF(X509_EXTENSION) *exts;
	BIGNUM			*bn = NULL;
	char			 label[64];
	size_t			 n = 0, i, seen = 0;
	int			 mdnid = NID_undef;

	snprintf(label, sizeof(label), "2025111123021%d", _i);
	p = session();
	mca_diag_clear(&d);
	ck_assert_msg(mca_p11_keygen(p, gen[_i].type, gen[_i].bits, label,
	    &key, &pub, &d) == 0, "%s", d.msg);
	ck_assert_ptr_nonnull(key);
	ck_assert_ptr_nonnull(pub);
	ck_assert_int_eq(EVP_PKEY_get_bits(pub), gen[_i].bits);
	ck_assert_int_eq(EVP_PKEY_get_base_id(pub), gen[_i].type ==
	    MCA_KEYTYPE_RSA ? EVP_PKEY_RSA : EVP_PKEY_EC);
	/* the public half holds nothing private */
	ck_assert_int_ne(EVP_PKEY_get_bn_param(pub, gen[_i].type ==
	    MCA_KEYTYPE_RSA ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY,
	    &bn), 1);
	ck_assert_ptr_null(bn);
	ERR_clear_error();
	tu_assert_signs(key, pub);

	/* a certificate signed on the token */
	x = cert_for("token key", pub, key, mca_md_by_name(gen[_i].hash));
	ck_assert_int_eq(X509_verify(x, pub), 1);
	X509_free(x);

	/* a CA request signed on the token, verified with the public key */
	ck_assert_msg(mca_csrgen(&subj, key, pub, gen[_i].hash, MCA_CSRGEN_CA,
	    &req, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(X509_REQ_verify(req, pub), 1);
	ck_assert_int_eq(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), pub), 1);
	ck_assert_ptr_nonnull(exts = X509_REQ_get_extensions(req));
	ck_assert_ptr_nonnull(bc = X509V3_get_d2i(exts, NID_basic_constraints,
	    NULL, NULL));
	ck_assert_int_ne(bc->ca, 0);
	BASIC_CONSTRAINTS_free(bc);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ck_assert_int_eq(mca_csrgen_pem(req, &pem), 0);
	ck_assert_ptr_nonnull(strstr(mca_buf_str(&pem),
	    "-----BEGIN CERTIFICATE REQUEST-----"));
	ck_assert_int_eq(mca_csrgen_der(req, &der), 0);
	q = der.data;
	ck_assert_ptr_nonnull(req2 = d2i_X509_REQ(NULL, &q, (long)der.len));
	ck_assert_int_eq(X509_REQ_verify(req2, pub), 1);
	ck_assert_int_eq(X509_NAME_cmp(X509_REQ_get_subject_name(req2),
	    X509_REQ_get_subject_name(req)), 0);
	X509_REQ_free(req2);
	/* signed with the hash asked for */
	ck_assert_int_eq(OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req),
	    &mdnid, NULL), 1);
	ck_assert_int_eq(mdnid, EVP_MD_get_type(mca_md_by_name(gen[_i].hash)));

	/* the token says so: private, sensitive, never extractable */
	ck_assert_int_eq(mca_p11_list(p, &ki, &n, &d), 0);
	for (i = 0; i < n; i++) {
		if (strcmp(ki[i].label, label) != 0)
			continue;
		seen++;
		ck_assert_int_eq(ki[i].type, gen[_i].type);
		ck_assert_int_eq(ki[i].bits, gen[_i].bits);
		ck_assert_int_eq(ki[i].sensitive, 1);
		ck_assert_int_eq(ki[i].extractable, 0);
		ck_assert_int_eq(ki[i].never_extractable, 1);
		ck_assert_uint_eq(strlen(ki[i].id), 40);
	}
	ck_assert_uint_eq(seen, 1);
	free(ki);
	EVP_PKEY_free(key);
	mca_p11_close(p);

	/* from outside: the secret does not leave the token */
	assert_secret(label);

	/* a new session finds it by label, with the same public key */
	p = session();
	ck_assert_msg(mca_p11_key(p, label, &key, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(mca_p11_pubkey(p, label, &pub2, &d), 0);
	ck_assert_int_eq(EVP_PKEY_eq(pub, pub2), 1);
	tu_assert_signs(key, pub);
	EVP_PKEY_free(key);
	mca_p11_close(p);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(pub2);
	X509_REQ_free(req);
	mca_buf_free(&pem);
	mca_buf_free(&der);
}
END_TEST

/*
 * Three keys in one session: the one mkpki.sh made and two made here;
 * one is removed, the others go on signing; a label names one key.
 */
START_TEST(t_several)
{
	struct mca_p11_keyinfo	*ki = NULL;
	struct mca_p11		*p;
	struct mca_diag		 d;
	EVP_PKEY		*ka = NULL, *kb = NULL, *kc = NULL, *pa = NULL;
	EVP_PKEY		*pb = NULL, *pc = NULL, *k = NULL;
	size_t			 n = 0, i;
	int			 a = 0, b = 0, c = 0;

	p = session();
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_p11_keygen(p, MCA_KEYTYPE_EC, 256, "mtls-server",
	    NULL, &pa, &d), 0);
	ck_assert_int_eq(mca_p11_keygen(p, MCA_KEYTYPE_RSA, 2048,
	    "mtls-client", &kb, &pb, &d), 0);
	ck_assert_int_eq(mca_p11_key(p, "mtls-server", &ka, &d), 0);
	ck_assert_int_eq(mca_p11_key(p, "microca-ca", &kc, &d), 0);
	ck_assert_int_eq(mca_p11_pubkey(p, "microca-ca", &pc, &d), 0);
	tu_assert_signs(ka, pa);
	tu_assert_signs(kb, pb);
	tu_assert_signs(kc, pc);
	/* a label already taken */
	ck_assert_int_eq(mca_p11_keygen(p, MCA_KEYTYPE_EC, 256, "mtls-client",
	    &k, NULL, &d), MCA_ERR_EXISTS);
	ck_assert_ptr_null(k);
	ck_assert_msg(strstr(d.msg, "already has a key labelled "
	    "\"mtls-client\"") != NULL, "%s", d.msg);

	/* remove one: gone from the token, the others still sign */
	EVP_PKEY_free(ka);
	ck_assert_int_eq(mca_p11_delete(p, "mtls-server", &d), 0);
	ck_assert_int_eq(mca_p11_key(p, "mtls-server", &ka, &d),
	    MCA_ERR_NOTFOUND);
	ck_assert_ptr_null(ka);
	ck_assert_msg(strstr(d.msg, "no private key labelled "
	    "\"mtls-server\"") != NULL, "%s", d.msg);
	ck_assert_int_eq(mca_p11_pubkey(p, "mtls-server", &k, &d),
	    MCA_ERR_NOTFOUND);
	ck_assert_int_eq(mca_p11_delete(p, "mtls-server", &d),
	    MCA_ERR_NOTFOUND);
	tu_assert_signs(kb, pb);
	tu_assert_signs(kc, pc);
	/* and the label can be used again: the new key, not the old one */
	ck_assert_int_eq(mca_p11_keygen(p, MCA_KEYTYPE_EC, 384, "mtls-server",
	    &ka, NULL, &d), 0);
	ck_assert_int_eq(EVP_PKEY_get_bits(ka), 384);
	tu_assert_signs(ka, ka);
	EVP_PKEY_free(k);
	ck_assert_int_eq(mca_p11_key(p, "mtls-server", &k, &d), 0);
	ck_assert_int_eq(EVP_PKEY_get_bits(k), 384);

	ck_assert_int_eq(mca_p11_list(p, &ki, &n, &d), 0);
	for (i = 0; i < n; i++) {
		a += strcmp(ki[i].label, "mtls-server") == 0;
		b += strcmp(ki[i].label, "mtls-client") == 0;
		c += strcmp(ki[i].label, "microca-ca") == 0;
	}
	ck_assert_int_eq(a, 1);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(c, 1);
	free(ki);
	EVP_PKEY_free(k);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	EVP_PKEY_free(kc);
	ck_assert_int_eq(mca_p11_delete(p, "mtls-server", &d), 0);
	ck_assert_int_eq(mca_p11_delete(p, "mtls-client", &d), 0);
	mca_p11_close(p);
	EVP_PKEY_free(pa);
	EVP_PKEY_free(pb);
	EVP_PKEY_free(pc);
	mca_p11_close(NULL);
}
END_TEST

/* Drives both ends of a TLS handshake over a BIO pair to its end. */
static void
handshake(SSL *c, SSL *s)
{
	int	 cdone = 0, sdone = 0, i, r, e;

	for (i = 0; i < 64 && (!cdone || !sdone); i++) {
		if (!cdone) {
			if ((r = SSL_do_handshake(c)) == 1)
				cdone = 1;
			else {
				e = SSL_get_error(c, r);
				ck_assert_msg(e == SSL_ERROR_WANT_READ ||
				    e == SSL_ERROR_WANT_WRITE, "client: %d %s",
				    e, ERR_error_string(ERR_get_error(), NULL));
			}
		}
		if (!sdone) {
			if ((r = SSL_do_handshake(s)) == 1)
				sdone = 1;
			else {
				e = SSL_get_error(s, r);
				ck_assert_msg(e == SSL_ERROR_WANT_READ ||
				    e == SSL_ERROR_WANT_WRITE, "server: %d %s",
				    e, ERR_error_string(ERR_get_error(), NULL));
			}
		}
	}
	ck_assert(cdone && sdone);
}

static const struct {
	enum mca_keytype type;
	int		 bits;
	int		 tls;
} tls[] = {
	{ MCA_KEYTYPE_EC, 256, TLS1_3_VERSION },
	{ MCA_KEYTYPE_RSA, 2048, TLS1_3_VERSION },	/* RSA-PSS */
	{ MCA_KEYTYPE_EC, 384, TLS1_2_VERSION },
	{ MCA_KEYTYPE_RSA, 2048, TLS1_2_VERSION },
};

/*
 * The mTLS client path: the token key goes to SSL_CTX_use_PrivateKey,
 * the server asks for a client certificate and verifies it, and the
 * client's CertificateVerify is signed inside the token.
 */
START_TEST(t_tls_client)
{
	struct mca_p11	*p;
	struct mca_diag	 d;
	EVP_PKEY	*key = NULL, *pub = NULL;
	X509		*cert, *peer;
	X509_STORE	*st;
	SSL_CTX		*cc, *sc;
	SSL		*c, *s;
	BIO		*bc, *bs;
	char		 path[1024], label[32];

	snprintf(label, sizeof(label), "tls-%d", _i);
	p = session();
	mca_diag_clear(&d);
	ck_assert_msg(mca_p11_keygen(p, tls[_i].type, tls[_i].bits, label,
	    &key, &pub, &d) == 0, "%s", d.msg);
	cert = cert_for("mtls client", pub, key, EVP_sha256());

	ck_assert_ptr_nonnull(cc = SSL_CTX_new(TLS_client_method()));
	ck_assert_ptr_nonnull(sc = SSL_CTX_new(TLS_server_method()));
	ck_assert_int_eq(SSL_CTX_set_min_proto_version(cc, tls[_i].tls), 1);
	ck_assert_int_eq(SSL_CTX_set_max_proto_version(cc, tls[_i].tls), 1);
	ck_assert_int_eq(SSL_CTX_use_certificate(cc, cert), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(cc, key), 1);
	ck_assert_int_eq(SSL_CTX_check_private_key(cc), 1);
	snprintf(path, sizeof(path), "%s/server.pem", dir);
	ck_assert_int_eq(SSL_CTX_use_certificate_file(sc, path,
	    SSL_FILETYPE_PEM), 1);
	snprintf(path, sizeof(path), "%s/server.key", dir);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(sc, path,
	    SSL_FILETYPE_PEM), 1);
	/* the server trusts exactly the client's certificate */
	SSL_CTX_set_verify(sc, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	ck_assert_ptr_nonnull(st = SSL_CTX_get_cert_store(sc));
	ck_assert_int_eq(X509_STORE_add_cert(st, cert), 1);

	ck_assert_ptr_nonnull(c = SSL_new(cc));
	ck_assert_ptr_nonnull(s = SSL_new(sc));
	ck_assert_int_eq(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	handshake(c, s);
	ck_assert_int_eq(SSL_version(s), tls[_i].tls);
	ck_assert_int_eq(SSL_get_verify_result(s), X509_V_OK);
	ck_assert_ptr_nonnull(peer = SSL_get1_peer_certificate(s));
	ck_assert_int_eq(X509_cmp(peer, cert), 0);
	X509_free(peer);

	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cc);
	SSL_CTX_free(sc);
	X509_free(cert);
	EVP_PKEY_free(key);
	ck_assert_int_eq(mca_p11_delete(p, label, &d), 0);
	mca_p11_close(p);
	EVP_PKEY_free(pub);
}
END_TEST

/* A wrong key for the public key given: the request does not verify. */
START_TEST(t_csr_mismatch)
{
	struct mca_csr_subject	 subj = { .common_name = "x" };
	struct mca_p11		*p;
	struct mca_diag		 d;
	EVP_PKEY		*ka = NULL, *pb = NULL, *pa = NULL;
	X509_REQ		*req = NULL;

	p = session();
	ck_assert_int_eq(mca_p11_keygen(p, MCA_KEYTYPE_EC, 256, "mm-a", &ka,
	    &pa, &d), 0);
	ck_assert_int_eq(mca_p11_keygen(p, MCA_KEYTYPE_EC, 256, "mm-b", NULL,
	    &pb, &d), 0);
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_csrgen(&subj, ka, pb, "SHA256", MCA_CSRGEN_PLAIN,
	    &req, &d), MCA_ERR_CRYPTO);
	ck_assert_ptr_null(req);
	ck_assert_msg(strstr(d.msg, "does not verify") != NULL, "%s", d.msg);
	/* with its own public key it does, and asks for no extensions */
	ck_assert_int_eq(mca_csrgen(&subj, ka, pa, "SHA256", MCA_CSRGEN_PLAIN,
	    &req, &d), 0);
	ck_assert_int_eq(X509_REQ_get_attr_count(req), 0);
	X509_REQ_free(req);
	EVP_PKEY_free(ka);
	ck_assert_int_eq(mca_p11_delete(p, "mm-a", &d), 0);
	ck_assert_int_eq(mca_p11_delete(p, "mm-b", &d), 0);
	mca_p11_close(p);
	EVP_PKEY_free(pa);
	EVP_PKEY_free(pb);
}
END_TEST

/* A key from a file signs requests too (pub NULL: its own half). */
START_TEST(t_csr_file)
{
	struct mca_csr_subject	 subj = { .common_name = "file key",
	    .organization = "microca test" };
	struct mca_diag		 d;
	EVP_PKEY		*k = NULL;
	X509_REQ		*req = NULL;
	char			 path[1024];
	FILE			*f;

	snprintf(path, sizeof(path), "%s/boot.key", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(k = PEM_read_PrivateKey(f, NULL, NULL, NULL));
	fclose(f);
	ck_assert_int_eq(mca_csrgen(&subj, k, NULL, "sha-384",
	    MCA_CSRGEN_PLAIN, &req, &d), 0);
	ck_assert_int_eq(X509_REQ_verify(req, k), 1);
	ck_assert_int_eq(X509_REQ_get_signature_nid(req),
	    EVP_PKEY_get_base_id(k) == EVP_PKEY_EC ? NID_ecdsa_with_SHA384 :
	    NID_sha384WithRSAEncryption);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
}
END_TEST

static const struct {
	struct mca_csr_subject	 s;
	const char		*hash;
	int			 kind;
	const char		*msg;
} badcsr[] = {
	{ { .common_name = "x" }, "MD5", 0, "hash_function: unknown \"MD5\"" },
	{ { .common_name = "x" }, NULL, 0, "hash_function: unknown" },
	{ { .common_name = "" }, "SHA256", 0, "the subject has no fields" },
	{ { .common_name = "x", .country = "Germany" }, "SHA256", 0,
	    "country: \"Germany\" is not a two-letter code" },
	{ { .common_name = "x", .country = "de" }, "SHA256", 0,
	    "country: \"de\" is not a two-letter code" },
	{ { .common_name = "01234567890123456789012345678901234567890123456789"
	    "0123456789abcdef" }, "SHA256", 0, "common_name: \"0123" },
	{ { .common_name = "x" }, "SHA256", 7, "request kind 7" },
};

START_TEST(t_csr_bad)
{
	struct mca_diag	 d;
	EVP_PKEY	*k = NULL;
	X509_REQ	*req = (X509_REQ *)1;
	char		 path[1024];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/boot.key", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(k = PEM_read_PrivateKey(f, NULL, NULL, NULL));
	fclose(f);
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_csrgen(&badcsr[_i].s, k, NULL, badcsr[_i].hash,
	    (enum mca_csrgen_kind)badcsr[_i].kind, &req, &d), MCA_ERR_INVAL);
	ck_assert_ptr_null(req);
	ck_assert_msg(strstr(d.msg, badcsr[_i].msg) == d.msg, "%s", d.msg);
	ck_assert_uint_eq(ERR_peek_error(), 0);
	EVP_PKEY_free(k);
}
END_TEST

/*
 * SoftHSMv2 without its configuration (SOFTHSM2_CONF unset for the user
 * who runs us): the message says where to look, and carries the
 * module's reason, not OpenSSL's complaints about engines.
 */
START_TEST(t_noconf)
{
	struct mca_p11	*p = (struct mca_p11 *)1;
	struct mca_diag	 d;

	ck_assert_int_eq(setenv("SOFTHSM2_CONF", "/nonexistent/softhsm2.conf",
	    1), 0);
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_p11_session(module(), NULL, "1234", &p, &d),
	    MCA_ERR_PKCS11);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(d.msg, "is SOFTHSM2_CONF set") != NULL, "%s",
	    d.msg);
	ck_assert_msg(strstr(d.msg, "DSO") == NULL &&
	    strstr(d.msg, "engine") == NULL, "%s", d.msg);
	ck_assert_uint_eq(ERR_peek_error(), 0);
}
END_TEST

/* Wrong PIN, wrong token, bad key requests: clear errors. */
START_TEST(t_bad)
{
	struct mca_p11	*p = (struct mca_p11 *)1;
	struct mca_diag	 d;
	EVP_PKEY	*k = (EVP_PKEY *)1, *pub = (EVP_PKEY *)1;

	mca_diag_clear(&d);
	ck_assert_int_eq(mca_p11_session(module(), NULL, "9999", &p, &d),
	    MCA_ERR_PKCS11);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(d.msg, "login failed (wrong "
	    "pkcs11_library_pin?): error:") != NULL, "%s", d.msg);
	ck_assert_ptr_null(strstr(d.msg, "9999"));
	ck_assert_int_eq(mca_p11_session(module(), "no-such-token", "1234",
	    &p, &d), MCA_ERR_NOTFOUND);
	ck_assert_msg(strstr(d.msg, "no token labelled \"no-such-token\"") !=
	    NULL, "%s", d.msg);
	ck_assert_int_eq(mca_p11_session("/nonexistent/libpkcs11.so", NULL,
	    "1234", &p, &d), MCA_ERR_PKCS11);
	ck_assert_msg(strstr(d.msg, "cannot load") != NULL, "%s", d.msg);

	/* by name, the token there is */
	ck_assert_int_eq(mca_p11_session(module(), "microca", "1234", &p, &d),
	    0);
	ck_assert_int_eq(mca_p11_key(p, "no-such-key", &k, &d),
	    MCA_ERR_NOTFOUND);
	ck_assert_ptr_null(k);
	ck_assert_msg(strstr(d.msg, "token \"microca\" has no private key "
	    "labelled \"no-such-key\"") != NULL, "%s", d.msg);
	ck_assert_int_eq(mca_p11_pubkey(p, "no-such-key", &pub, &d),
	    MCA_ERR_NOTFOUND);
	ck_assert_ptr_null(pub);
	ck_assert_int_eq(mca_p11_keygen(p, MCA_KEYTYPE_RSA, 1024, "k", &k,
	    &pub, &d), MCA_ERR_INVAL);
	ck_assert_msg(strstr(d.msg, "RSA-1024") == d.msg, "%s", d.msg);
	ck_assert_int_eq(mca_p11_keygen(p, MCA_KEYTYPE_EC, 255, "k", &k, &pub,
	    &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_p11_keygen(p, MCA_KEYTYPE_ANY, 256, "k", &k, &pub,
	    &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_p11_keygen(p, MCA_KEYTYPE_EC, 256, "", &k, &pub,
	    &d), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_p11_keygen(p, MCA_KEYTYPE_EC, 256, "a\nb", &k,
	    &pub, &d), MCA_ERR_INVAL);
	ck_assert_ptr_null(k);
	ck_assert_ptr_null(pub);
	ck_assert_int_eq(mca_p11_delete(p, "", &d), MCA_ERR_INVAL);
	mca_p11_close(p);
}
END_TEST

static Suite *
p11_suite(void)
{
	Suite	*s = suite_create("p11");
	TCase	*tc = tcase_create("p11");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, t_keygen, 0, (int)(sizeof(gen) /
	    sizeof(gen[0])));
	tcase_add_test(tc, t_several);
	tcase_add_loop_test(tc, t_tls_client, 0, (int)(sizeof(tls) /
	    sizeof(tls[0])));
	tcase_add_test(tc, t_csr_mismatch);
	tcase_add_test(tc, t_csr_file);
	tcase_add_loop_test(tc, t_csr_bad, 0, (int)(sizeof(badcsr) /
	    sizeof(badcsr[0])));
	tcase_add_test(tc, t_bad);
	tcase_add_test(tc, t_noconf);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(p11_suite());
}
