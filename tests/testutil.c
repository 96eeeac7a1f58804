#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <sqlite3.h>

#include "cfg.h"
#include "err.h"
#include "ledger.h"
#include "testutil.h"

/*
 * Check's per-test limit when the environment sets none (a suite run by
 * hand; make check sets the same): far above what any test needs on a
 * busy machine, so that it only ever catches a hang. Check reads it in
 * tcase_create(), after this runs, and scales it by CK_TIMEOUT_MULTIPLIER.
 * The tests set no limits of their own.
 */
static void tu_timeout_default(void) __attribute__((constructor));

static void
tu_timeout_default(void)
{
	(void)setenv("CK_DEFAULT_TIMEOUT", TU_TIMEOUT, 0);
}

const char *
tu_srcdir(void)
{
	const char	*s = getenv("MCA_SRCDIR");

	return s != NULL && *s != '\0' ? s : ".";
}

const char *
tu_builddir(void)
{
	const char	*s = getenv("MCA_BUILDDIR");

	return s != NULL && *s != '\0' ? s : ".";
}

const char *
tu_openssl(void)
{
	const char	*s = getenv("OPENSSL");

	return s != NULL && *s != '\0' ? s : "openssl";
}

char *
tu_mkdtemp(const char *tag)
{
	const char	*t = getenv("TMPDIR");
	char		*p;

	if (t == NULL || *t == '\0')
		t = "/tmp";
	if (asprintf(&p, "%s/mca-%s-XXXXXX", t, tag) == -1)
		abort();
	if (mkdtemp(p) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return p;
}

void
tu_rmtree(const char *path)
{
	if (path == NULL || getenv("MCA_KEEP_TMP") != NULL)
		return;
	(void)tu_sh(NULL, "rm -rf '%s'", path);
}

int
tu_sh(struct mca_buf *out, const char *fmt, ...)
{
	va_list	 ap;
	char	*cmd = NULL, chunk[4096];
	FILE	*f;
	size_t	 n;
	int	 st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) == -1)
		cmd = NULL;
	va_end(ap);
	if (cmd == NULL)
		return -1;
	fflush(stdout);
	if ((f = popen(cmd, "r")) == NULL) {
		free(cmd);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (out != NULL && mca_buf_add(out, chunk, n) != 0)
			break;
	st = pclose(f);
	free(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int
tu_read(const char *path, struct mca_buf *out)
{
	FILE	*f;
	char	 chunk[4096];
	size_t	 n;
	int	 rc = 0;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (mca_buf_add(out, chunk, n) != 0)
			rc = -1;
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

int
tu_write(const char *path, const char *data, size_t len)
{
	FILE	*f;
	int	 rc = 0;

	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	if (len > 0 && fwrite(data, 1, len, f) != len)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

int
tu_writef(const char *path, const char *fmt, ...)
{
	va_list	 ap;
	char	*s = NULL;
	int	 n, rc;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	rc = tu_write(path, s, (size_t)n);
	free(s);
	return rc;
}

int
tu_mkpki(const char *dir, const char *mode)
{
	return tu_sh(NULL, "sh '%s/tests/pki/mkpki.sh' '%s' '%s' >&2",
	    tu_srcdir(), dir, mode);
}

int
tu_run(Suite *s)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

X509 *
tu_selfsigned(const char *cn, EVP_PKEY *k)
{
	X509		*x;
	X509_NAME	*n;

	ck_assert_ptr_nonnull(x = X509_new());
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	n = X509_get_subject_name(x);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	ck_assert_int_eq(X509_set_issuer_name(x, n), 1);
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	ck_assert_int_eq(X509_set_pubkey(x, k), 1);
	ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
	return x;
}

void
tu_assert_signs(EVP_PKEY *priv, EVP_PKEY *pub)
{
	EVP_MD_CTX	*ctx;
	unsigned char	 sig[1024];
	size_t		 len = sizeof(sig);

	ck_assert_ptr_nonnull(ctx = EVP_MD_CTX_new());
	ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    priv), 1);
	ck_assert_int_eq(EVP_DigestSign(ctx, sig, &len,
	    (const unsigned char *)"est", 3), 1);
	EVP_MD_CTX_free(ctx);
	ck_assert_ptr_nonnull(ctx = EVP_MD_CTX_new());
	ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
	    pub), 1);
	ck_assert_int_eq(EVP_DigestVerify(ctx, sig, len,
	    (const unsigned char *)"est", 3), 1);
	EVP_MD_CTX_free(ctx);
}

int
tu_cfg_parse(const char *json, struct mca_cfg **cfg, struct mca_diag *d)
{
	return mca_cfg_parse(TU_CFG_PATH, json, strlen(json), cfg, d);
}

void
tu_cfg_assert_refused(const char *json, const char *msg, int n)
{
	struct mca_cfg	*cfg = (struct mca_cfg *)1;
	struct mca_diag	 d;
	const size_t	 plen = strlen(TU_CFG_PATH ": ");
	int		 rc;

	rc = tu_cfg_parse(json, &cfg, &d);
	ck_assert_msg(rc == MCA_ERR_CONFIG, "case %d: rc %d (%s)", n, rc,
	    d.msg);
	ck_assert_ptr_null(cfg);
	/* The file, then the dotted key, then what is wrong. */
	ck_assert_msg(strncmp(d.msg, TU_CFG_PATH ": ", plen) == 0 &&
	    strstr(d.msg + plen, msg) == d.msg + plen,
	    "case %d: got \"%s\", want \"%s: %s...\"", n, d.msg, TU_CFG_PATH,
	    msg);
	ck_assert_ptr_null(strchr(d.msg, '\n'));
}

void
tu_csrattrs_words(const unsigned char *der, size_t len, int names,
    struct mca_buf *out)
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
			ck_assert_int_gt(OBJ_obj2txt(txt, sizeof(txt), o,
			    !names), 0);
			ck_assert_int_eq(mca_buf_addstr(out, txt), 0);
			ASN1_OBJECT_free(o);
			continue;
		}
		ck_assert_int_eq(*p, V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED);
		q = p;
		ck_assert_ptr_nonnull(a = d2i_X509_ATTRIBUTE(NULL, &p, end - p));
		ck_assert(p > q);
		ck_assert_int_gt(OBJ_obj2txt(txt, sizeof(txt),
		    X509_ATTRIBUTE_get0_object(a), !names), 0);
		ck_assert_int_eq(mca_buf_printf(out, "%s={", txt), 0);
		for (i = 0; i < X509_ATTRIBUTE_count(a); i++) {
			t = X509_ATTRIBUTE_get0_type(a, i);
			if (i > 0)
				ck_assert_int_eq(mca_buf_addc(out, ','), 0);
			if (t->type == V_ASN1_OBJECT) {
				ck_assert_int_gt(OBJ_obj2txt(txt, sizeof(txt),
				    t->value.object, !names), 0);
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

struct mca_ledger *
tu_ledger_open(const char *path, int sync_full)
{
	struct mca_ledger	*l = NULL;
	struct mca_diag		 d;
	int			 rc;

	rc = mca_ledger_open(path, sync_full, &l, &d);
	ck_assert_msg(rc == 0, "open %s: %s: %s", path, mca_strerror(rc),
	    d.msg);
	return l;
}

long long
tu_db_int(const char *path, const char *sql)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;
	long long	 v;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

void
tu_db_exec(const char *path, const char *sql)
{
	sqlite3	*db = NULL;
	char	*emsg = NULL;
	int	 rc;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, &emsg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql,
	    emsg != NULL ? emsg : "?");
	sqlite3_free(emsg);
	sqlite3_close(db);
}
