/* Helpers shared by the Check suites. */
#ifndef MCA_TESTUTIL_H
#define MCA_TESTUTIL_H

#include <check.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"

struct mca_cfg;
struct mca_diag;
struct mca_ledger;

/* Check's per-test limit, in seconds, unless CK_DEFAULT_TIMEOUT says. */
#define TU_TIMEOUT	"600"

/* $MCA_SRCDIR / $MCA_BUILDDIR (set by make check), else "." */
const char	*tu_srcdir(void);
const char	*tu_builddir(void);

/* A fresh directory under $TMPDIR (or /tmp); caller frees. Aborts on failure. */
char		*tu_mkdtemp(const char *tag);
/* rm -rf path (NULL-safe). Kept when $MCA_KEEP_TMP is set, for debugging. */
void		 tu_rmtree(const char *path);

/*
 * Runs a shell command made from fmt. Returns its exit status (or -1).
 * If out is not NULL, stdout is appended to it; stderr goes to the log.
 */
int		 tu_sh(struct mca_buf *out, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* Reads a whole file into out (appends); 0 or -1. */
int		 tu_read(const char *path, struct mca_buf *out);
/* Writes a whole file; 0 or -1. */
int		 tu_write(const char *path, const char *data, size_t len);
/* tu_write of a formatted string. */
int		 tu_writef(const char *path, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * Makes the test PKI in dir with tests/pki/mkpki.sh; mode is "file",
 * "file-rsa", "hsm-ec" or "hsm-rsa". Returns the script's exit status.
 */
int		 tu_mkpki(const char *dir, const char *mode);

/* A self-signed certificate for k with CN=cn, valid one hour. */
X509		*tu_selfsigned(const char *cn, EVP_PKEY *k);

/* Asserts that priv signs a message (SHA-256) and pub verifies it. */
void		 tu_assert_signs(EVP_PKEY *priv, EVP_PKEY *pub);

/* The openssl program to run: $OPENSSL (set by make check), else "openssl". */
const char	*tu_openssl(void);

/* The config file name tu_cfg_parse() gives mca_cfg_parse(). */
#define TU_CFG_PATH	"/etc/microca/config.json"

/* mca_cfg_parse() of the string json as TU_CFG_PATH; returns what it does. */
int		 tu_cfg_parse(const char *json, struct mca_cfg **cfg,
		    struct mca_diag *d);

/*
 * Asserts that json is refused as every config error must be: rc
 * MCA_ERR_CONFIG, *cfg NULL, and one line "TU_CFG_PATH: " that goes on
 * with msg (the dotted key, then what is wrong). n numbers the case in
 * failure messages.
 */
void		 tu_cfg_assert_refused(const char *json, const char *msg,
		    int n);

/*
 * Appends a DER CsrAttrs (RFC 7030 4.5.2) to out in words, asserting its
 * shape on the way: one SEQUENCE and nothing after it; each AttrOrOID as
 * its OID, an Attribute as "type={value,...}" with OID or INTEGER values;
 * separated by spaces. OIDs are dotted, or short names when names is set
 * ("id-ecPublicKey={prime256v1} ecdsa-with-SHA256").
 */
void		 tu_csrattrs_words(const unsigned char *der, size_t len,
		    int names, struct mca_buf *out);

/* Runs s (TAP output through CK_TAP_LOG_FILE_NAME); returns exit code. */
/*
 * The ledger at path, opened (created, migrated) by the library, or the
 * test fails with the reason.
 */
struct mca_ledger *tu_ledger_open(const char *path, int sync_full);
/* The integer of sql's first row, on a connection of the test's own. */
long long	 tu_db_int(const char *path, const char *sql);
/* Runs sql on a connection of the test's own, or the test fails. */
void		 tu_db_exec(const char *path, const char *sql);

int		 tu_run(Suite *s);

#endif
