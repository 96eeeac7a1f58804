/*
 * The harness of the microca-renew integration suites
 * (tests/integration/renewweb.c): two microca behind lighttpd, the
 * upstream and the Micro CA under test with its keys in SoftHSMv2.
 */
#ifndef MCA_RENEWWEB_H
#define MCA_RENEWWEB_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"

#define WEB_TIMEOUT	600
#define POLL_MAX	60000	/* ms: the workers' pickup of a generation */
#define POLL_STEP	100	/* ms */

struct web {
	char		*dir;
	unsigned	 up_port;	/* the upstream */
	unsigned	 dn_port;	/* the Micro CA under test */
	int		 root;
	int		 workers;	/* the Micro CA's FastCGI workers; 0: 1 */
};

extern struct web	 W;

/* The Micro CA's config.json, with what each test varies. */
struct dn {
	unsigned	 port;		/* the upstream's */
	const char	*label;		/* est_agent_setting_name */
	const char	*anchors;	/* upstream_ca_cert */
	const char	*cert, *key;	/* the mTLS client identity */
	int		 enabled;	/* isRenewalOfCertificatesRequired */
	int		 reenroll;	/* days */
	const char	*rlabel;	/* certificateRenewal_config's label */
	const char	*extra;		/* more blocks: ", \"...\": {...}" */
};

/* dir/name, in one of 64 rotating buffers. */
char		*path(const char *name);
void		 dn_defaults(struct dn *c);
void		 write_dn(const struct dn *c);
void		 write_up(void);
/* Starts microca-web in dir/<name>; the port. */
unsigned	 web(const char *name, const char *config, const char *pki,
		    const char *clientca, const char *softhsm);
/* Both PKIs and both web servers (W.workers set before, if wanted). */
void		 setup(void);
void		 teardown(void);
int		 renew(struct mca_buf *out, const char *args);
int		 renew_env(struct mca_buf *out, const char *env,
		    const char *args);
/* One value from the Micro CA's ledger (sqlite3 -batch), trimmed. */
void		 sql(const char *q, char *val, size_t len);
int		 sql_int(const char *q);
/* SHA-256 of a file, in hex. */
void		 file_hash(const char *p, char *out, size_t len);
/* A new EC key and a CSR for it. */
X509_REQ	*new_csr(EVP_PKEY **k, const char *cn);

#define ASSERT_HAS(buf, s) ck_assert_msg(strstr(mca_buf_str(buf), (s)) != \
	NULL, "\"%s\" not in:\n%s", (s), mca_buf_str(buf))

#endif
