/*
 * microca-est: state kept for the life of a worker process, and one
 * request's view of the world. main.c fills a request from FastCGI or
 * plain CGI; everything else is the same code for both.
 */
#ifndef MCA_SERVER_H
#define MCA_SERVER_H

#include <sys/types.h>

#include <time.h>

#include <openssl/x509.h>

#include "buf.h"
#include "ca.h"
#include "certinfo.h"
#include "cfg.h"
#include "http.h"
#include "httpauth.h"
#include "ledger.h"
#include "passcode.h"

/* What a label serves without work per request. */
struct mca_label_cache {
	struct mca_buf	 cacerts;	/* base64 certs-only: chain, rollover */
	struct mca_buf	 csrattrs;	/* base64 CsrAttrs */
};

struct mca_server {
	struct mca_cfg		*cfg;
	struct mca_ca		*ca;		/* in use: gen, else base */
	struct mca_ledger	*ledger;
	X509_STORE		*bootstrap;	/* mtls_ca_cert, or NULL */
	/*
	 * This CA's chains, for a client's renewal: the one in use, the
	 * retired generations not yet expired, config.json's while valid.
	 */
	X509_STORE		*own;
	/*
	 * The generations of the intermediate (lib/castate.h): base is
	 * config.json's (NULL if it could not be loaded but a generation
	 * could), gen the ledger's active one; gen_id its id, 0 for base.
	 */
	struct mca_ca		*base;
	struct mca_ca		*gen;
	long long		 gen_id;
	struct mca_token	*token;		/* for generations' token keys */
	struct timespec		 gen_checked;	/* monotonic: last look */
	char			 gen_why[MCA_DIAG_LEN]; /* last failure logged */
	struct mca_label_cache	*cache;		/* one per cfg->profiles[] */
	/* per cfg->profiles[]: the label's own mtls_ca_cert, or NULL */
	X509_STORE		**label_bootstrap;
	struct mca_client_memo	*client_memo;	/* auth.c */
};

/* How the client of an enrollment proved who it is (auth_methods). */
enum mca_authn {
	MCA_AUTHN_NONE,
	MCA_AUTHN_CERTIFICATE,
	MCA_AUTHN_PASSCODE,
	MCA_AUTHN_REMOTE_USER,
	MCA_AUTHN_MAX
};

/* The client, as its TLS certificate (handed over by the web server) says. */
struct mca_client {
	X509		*cert;		/* NULL: no certificate */
	char		 subject[MCA_NAME_MAX];
	char		 serial[MCA_HEX_MAX];
	char		 issuer[MCA_NAME_MAX];
	int		 bootstrap;	/* verified against mtls_ca_cert */
	int		 ours;		/* verified against this CA's chain */
	int		 in_ledger;	/* ours, and the ledger has it */
	struct mca_ledger_found found;	/* when in_ledger */
};

struct mca_request {
	/* I/O, set by main.c */
	const char	*(*getenv)(void *arg, const char *name);
	ssize_t		 (*read)(void *arg, unsigned char *buf, size_t len);
	void		*arg;
	/* filled by mca_serve() as it goes */
	const char	*method;
	const char	*uri;
	const char	*remote_addr;
	char		 label[MCA_LABEL_MAX + 1];
	enum mca_op	 op;
	size_t		 profile_idx;
	const struct mca_profile *profile;
	struct mca_client client;
	char		 issued_serial[MCA_HEX_MAX]; /* on success */
	/* basicauth.c: passcodes and REMOTE_USER */
	enum mca_authn	 authn;		/* set once authorised */
	/*
	 * simpleenroll.c: the client certificate is ours and matches the
	 * label's ra_subject_patterns: it may enroll any subject.
	 */
	int		 ra;
	/* the passcode used, or tried */
	char		 passcode_id[MCA_PASSCODE_ID_LEN + 1];
	char		 remote_user[MCA_BASIC_FIELD_MAX + 1];
	/* the ledger's reason, when it may say more than the client hears */
	char		 audit[256];
};

/* server.c */
int	 mca_server_open(const char *config_path, struct mca_server **out,
	    struct mca_diag *d);
void	 mca_server_close(struct mca_server *srv);
/*
 * Before a request: at most once a second, asks the ledger for the
 * active CA generation and, when it changed, loads it and swaps it in
 * (CA, /cacerts, /csrattrs, the store of own issuers). On failure the
 * CA in use stays, with one log line per distinct failure.
 */
void	 mca_server_refresh(struct mca_server *srv);

/* route.c: serves one request into resp; never fails to fill resp. */
void	 mca_serve(struct mca_server *srv, struct mca_request *req,
	    struct mca_resp *resp);

/* auth.c: 0 with req->client filled, or an error response in resp. */
int	 mca_auth_client(struct mca_server *srv, struct mca_request *req,
	    struct mca_resp *resp);
void	 mca_client_clear(struct mca_client *c);
/* Frees the worker's memo of its last good client certificate (NULL-safe). */
void	 mca_client_memo_free(struct mca_client_memo *m);

/*
 * basicauth.c: a client with no certificate, on a label whose
 * auth_methods allow it. Each returns 0 with req->authn set, or an error
 * response (401 with WWW-Authenticate) in resp. mca_auth_none answers a
 * request that brought no usable credentials at all.
 */
int	 mca_auth_passcode(struct mca_server *srv, struct mca_request *req,
	    struct mca_resp *resp);
int	 mca_auth_remote_user(struct mca_server *srv, struct mca_request *req,
	    struct mca_resp *resp);
int	 mca_auth_none(struct mca_server *srv, struct mca_request *req,
	    struct mca_resp *resp);
/* Adds WWW-Authenticate: Basic realm="<label>" (RFC 7617 2). */
int	 mca_auth_challenge(const struct mca_request *req,
	    struct mca_resp *resp);

/*
 * simpleenroll.c: 0 when the client may enroll a new key on req's label
 * (simpleenroll, serverkeygen), by one of the label's auth_methods, else
 * an error response in resp.
 */
int	 mca_authz_enroll(struct mca_server *srv, struct mca_request *req,
	    struct mca_resp *resp);

/*
 * simplereenroll.c: the 403 for a certificate of ours that was renewed
 * or superseded (f is what the ledger knows of it), on req's label.
 */
void	 mca_renew_refused(const struct mca_request *req,
	    const struct mca_ledger_found *f, struct mca_resp *resp);

/* One file per operation. */
void	 mca_op_cacerts(struct mca_server *, struct mca_request *,
	    struct mca_resp *);
void	 mca_op_csrattrs(struct mca_server *, struct mca_request *,
	    struct mca_resp *);
void	 mca_op_simpleenroll(struct mca_server *, struct mca_request *,
	    struct mca_resp *);
void	 mca_op_simplereenroll(struct mca_server *, struct mca_request *,
	    struct mca_resp *);
void	 mca_op_serverkeygen(struct mca_server *, struct mca_request *,
	    struct mca_resp *);

/* How the operations that issue differ (enroll.c). */
enum mca_enroll_kind {
	MCA_ENROLL_NEW,		/* simpleenroll: the CSR's key and identity */
	MCA_ENROLL_RENEW,	/* simplereenroll: the identity of req->client */
	MCA_ENROLL_KEYGEN,	/* serverkeygen: a key made here, multipart */
	MCA_ENROLL_MAX
};

/*
 * enroll.c: the shared part of simpleenroll, simplereenroll and
 * serverkeygen, after authorisation: read and judge the CSR, issue,
 * record, answer.
 */
void	 mca_enroll(struct mca_server *srv, struct mca_request *req,
	    struct mca_resp *resp, enum mca_enroll_kind kind);

#endif
