/* keystore.c and p11.c: the CA key in a real SoftHSMv2 token or a file. */
#include "config.h"

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "keystore.h"
#include "testutil.h"

static char	*dir_ec, *dir_rsa, *dir_file;

static const char *
module(void)
{
	const char	*m = getenv("SOFTHSM2_MODULE");

	return m != NULL && *m != '\0' ? m : "/usr/lib/softhsm/libsofthsm2.so";
}

static void
setup(void)
{
	dir_ec = tu_mkdtemp("ks-ec");
	dir_rsa = tu_mkdtemp("ks-rsa");
	dir_file = tu_mkdtemp("ks-file");
	if (tu_mkpki(dir_ec, "hsm-ec") != 0 || tu_mkpki(dir_rsa, "hsm-rsa") != 0 ||
	    tu_mkpki(dir_file, "file") != 0)
		abort();
}

static void
teardown(void)
{
	tu_rmtree(dir_ec);
	tu_rmtree(dir_rsa);
	tu_rmtree(dir_file);
	free(dir_ec);
	free(dir_rsa);
	free(dir_file);
}

static void
use_token(const char *dir)
{
	char	 conf[1024];

	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", conf, 1);
}

static X509 *
load_cert(const char *dir, const char *name)
{
	char	 p[1024];
	FILE	*f;
	X509	*x;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(p, "r"));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	return x;
}

/* Signs a throw-away certificate and checks it with the CA's key. */
static void
sign_and_verify(struct mca_signer *s, X509 *ca)
{
	X509	*x = X509_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_set_issuer_name(x, X509_get_subject_name(ca));
	X509_set_subject_name(x, X509_get_subject_name(ca));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 60);
	X509_set_pubkey(x, X509_get0_pubkey(ca));
	ck_assert_int_eq(mca_signer_sign_cert(s, x, EVP_sha384()), 0);
	ck_assert_int_eq(X509_verify(x, X509_get0_pubkey(ca)), 1);
	X509_free(x);
}

START_TEST(t_token)
{
	const char		*dir = _i == 0 ? dir_ec : dir_rsa;
	struct mca_signer	*s = NULL;
	struct mca_diag		 d;
	X509			*ca, *other;

	use_token(dir);
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_signer_open_pkcs11(module(), "microca-ca", "1234",
	    &s, &d), 0);
	ca = load_cert(dir, "ca.pem");
	ck_assert_int_eq(mca_signer_check_cert(s, ca, EVP_sha256(), &d), 0);
	sign_and_verify(s, ca);
	/* the token key does not match another CA's certificate */
	other = load_cert(dir, "boot-ca.pem");
	ck_assert_int_eq(mca_signer_check_cert(s, other, EVP_sha256(), &d),
	    MCA_ERR_CRYPTO);
	ck_assert_ptr_nonnull(strstr(d.msg, "does not match"));
	X509_free(other);
	X509_free(ca);
	mca_signer_free(s);
}
END_TEST

/*
 * Web servers start every worker at once, and each opens the token:
 * SoftHSM then reads and rewrites the token's files from several
 * processes together. Eight processes, five rounds: every one opens,
 * logs in and signs.
 */
START_TEST(t_token_together)
{
	enum { NPROC = 8, ROUNDS = 5 };
	pid_t	 pid[NPROC];
	int	 i, r, st, failed = 0;
	X509	*ca;

	use_token(dir_ec);
	ca = load_cert(dir_ec, "ca.pem");
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < NPROC; i++) {
			ck_assert_int_ge(pid[i] = fork(), 0);
			if (pid[i] == 0) {
				struct mca_signer	*s = NULL;
				struct mca_diag		 d;

				mca_diag_clear(&d);
				if (mca_signer_open_pkcs11(module(),
				    "microca-ca", "1234", &s, &d) != 0 ||
				    mca_signer_check_cert(s, ca, EVP_sha256(),
				    &d) != 0) {
					fprintf(stderr, "# %s\n", d.msg);
					_exit(1);
				}
				mca_signer_free(s);
				_exit(0);
			}
		}
		for (i = 0; i < NPROC; i++) {
			ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				failed++;
		}
	}
	X509_free(ca);
	ck_assert_int_eq(failed, 0);
}
END_TEST

/*
 * The key object goes from the token while a worker holds its handle
 * (another process deletes it): signing fails, and the signer says why
 * in the token's words, for the log (issue 11 part 5).
 */
START_TEST(t_token_key_gone)
{
	struct mca_signer	*s = NULL;
	struct mca_diag		 d;
	const char		*why;
	char			*dir;
	X509			*ca, *x;

	dir = tu_mkdtemp("ks-gone");
	ck_assert_int_eq(tu_mkpki(dir, "hsm-ec"), 0);
	use_token(dir);
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_signer_open_pkcs11(module(), "microca-ca", "1234",
	    &s, &d), 0);
	ca = load_cert(dir, "ca.pem");
	/* nothing failed yet: the generic text */
	ck_assert_str_eq(mca_signer_errmsg(s, MCA_ERR_CRYPTO),
	    mca_strerror(MCA_ERR_CRYPTO));
	ck_assert_int_eq(tu_sh(NULL, "pkcs11-tool --module '%s' --token-label "
	    "microca --login --pin 1234 --delete-object --type privkey "
	    "--label microca-ca >&2", module()), 0);
	x = X509_new();
	X509_set_version(x, 2);
	X509_set_issuer_name(x, X509_get_subject_name(ca));
	X509_set_subject_name(x, X509_get_subject_name(ca));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 60);
	X509_set_pubkey(x, X509_get0_pubkey(ca));
	ck_assert_int_eq(mca_signer_sign_cert(s, x, EVP_sha256()),
	    MCA_ERR_CRYPTO);
	why = mca_signer_errmsg(s, MCA_ERR_CRYPTO);
	ck_assert_msg(strncmp(why, "X509_sign: error:", 17) == 0, "%s", why);
	/* the token's CKR_OBJECT_HANDLE_INVALID, as libp11 queues it */
	ck_assert_msg(strstr(why, "PKCS#11 module::Object handle invalid") !=
	    NULL, "%s", why);
	/* and nothing is left on OpenSSL's queue for the next caller */
	ck_assert_uint_eq(ERR_peek_error(), 0);
	X509_free(x);
	X509_free(ca);
	mca_signer_free(s);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* A key file asked to sign with no digest at all. */
START_TEST(t_file_sign_fails)
{
	struct mca_signer	*s = NULL;
	struct mca_diag		 d;
	const char		*why;
	char			 p[1024];
	X509			*ca, *x;

	snprintf(p, sizeof(p), "%s/ca.key", dir_file);
	ck_assert_int_eq(mca_signer_open_file(p, &s, &d), 0);
	ca = load_cert(dir_file, "ca.pem");
	ck_assert_ptr_nonnull(x = X509_dup(ca));
	/* the null digest is no digest: OpenSSL queues why */
	ck_assert_int_eq(mca_signer_sign_cert(s, x, EVP_md_null()),
	    MCA_ERR_CRYPTO);
	why = mca_signer_errmsg(s, MCA_ERR_CRYPTO);
	ck_assert_msg(strncmp(why, "X509_sign: error:", 17) == 0 &&
	    strstr(why, "no digest set") != NULL, "%s", why);
	ck_assert_uint_eq(ERR_peek_error(), 0);
	/* a good signature after it: the detail is the last call's */
	sign_and_verify(s, ca);
	ck_assert_str_eq(mca_signer_errmsg(s, MCA_ERR_CRYPTO),
	    mca_strerror(MCA_ERR_CRYPTO));
	ck_assert_str_eq(mca_signer_errmsg(NULL, MCA_ERR_CRYPTO),
	    mca_strerror(MCA_ERR_CRYPTO));
	X509_free(x);
	X509_free(ca);
	mca_signer_free(s);
}
END_TEST

static const struct {
	const char	*module;	/* NULL: the real one */
	const char	*label;
	const char	*pin;
	int		 rc;
	const char	*msg;
} bad[] = {
	/* with the token's own reason (CKR_PIN_INCORRECT) */
	{ NULL, "microca-ca", "9999", MCA_ERR_PKCS11,
	    "login failed (wrong pkcs11_library_pin?): error:" },
	{ NULL, "no-such-key", "1234", MCA_ERR_NOTFOUND, "no-such-key" },
	{ "/nonexistent/libpkcs11.so", "microca-ca", "1234", MCA_ERR_PKCS11,
	    "cannot load" },
};

START_TEST(t_token_bad)
{
	struct mca_signer	*s = NULL;
	struct mca_diag		 d;

	use_token(dir_ec);
	mca_diag_clear(&d);
	ck_assert_int_eq(mca_signer_open_pkcs11(bad[_i].module ? bad[_i].module :
	    module(), bad[_i].label, bad[_i].pin, &s, &d), bad[_i].rc);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(d.msg, bad[_i].msg) != NULL, "%s", d.msg);
	/* the PIN never appears in a message */
	ck_assert_ptr_null(strstr(d.msg, bad[_i].pin));
}
END_TEST

START_TEST(t_file)
{
	struct mca_signer	*s = NULL;
	struct mca_diag		 d;
	char			 p[1024];
	X509			*ca;

	snprintf(p, sizeof(p), "%s/ca.key", dir_file);
	ck_assert_int_eq(mca_signer_open_file(p, &s, &d), 0);
	ca = load_cert(dir_file, "ca.pem");
	ck_assert_int_eq(mca_signer_check_cert(s, ca, EVP_sha256(), &d), 0);
	sign_and_verify(s, ca);
	X509_free(ca);
	mca_signer_free(s);
	mca_signer_free(NULL);
}
END_TEST

START_TEST(t_file_bad)
{
	struct mca_signer	*s = NULL;
	struct mca_diag		 d;
	char			 p[1024];

	snprintf(p, sizeof(p), "%s/nonexistent.key", dir_file);
	ck_assert_int_eq(mca_signer_open_file(p, &s, &d), MCA_ERR_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(d.msg, "nonexistent.key"));
	/* a certificate is not a key */
	snprintf(p, sizeof(p), "%s/ca.pem", dir_file);
	ck_assert_int_eq(mca_signer_open_file(p, &s, &d), MCA_ERR_CRYPTO);
	/* an encrypted key: nobody can type a passphrase for a daemon */
	snprintf(p, sizeof(p), "%s/enc.key", dir_file);
	ck_assert_int_eq(tu_sh(NULL, "openssl pkey -in '%s/ca.key' -aes256 "
	    "-passout pass:secret -out '%s'", dir_file, p), 0);
	ck_assert_int_eq(mca_signer_open_file(p, &s, &d), MCA_ERR_CRYPTO);
	ck_assert_ptr_null(s);
}
END_TEST

static Suite *
keystore_suite(void)
{
	Suite	*s = suite_create("keystore");
	TCase	*tc = tcase_create("keystore");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, t_token, 0, 2);
	tcase_add_loop_test(tc, t_token_bad, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, t_token_together);
	tcase_add_test(tc, t_file);
	tcase_add_test(tc, t_file_bad);
	tcase_add_test(tc, t_token_key_gone);
	tcase_add_test(tc, t_file_sign_fails);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(keystore_suite());
}
