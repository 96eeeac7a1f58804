/*
 * Certificate discovery (microca-discover, issue 15): finds the
 * certificates on this machine, in files and on TLS endpoints, and
 * describes each one the way the ledger's inventory keeps it.
 *
 * The scanner only reads and describes; it keeps no state. What is new,
 * changed or gone is the inventory's business (lib/ledger_discover.c),
 * which tells the walker through known() which files it has already
 * parsed with the same size and modification time, so an unchanged tree
 * is rescanned without opening a file.
 */
#ifndef MCA_DISCOVER_H
#define MCA_DISCOVER_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>

#include "certinfo.h"
#include "err.h"

#define MCA_DISC_LOC_MAX	4096	/* a path, or "host:port" */
#define MCA_DISC_SAN_MAX	2048	/* longer SAN lists end in "..." */
#define MCA_DISC_ALG_MAX	64

/* One certificate at one place. Strings are NUL-terminated UTF-8. */
struct mca_disc_cert {
	const char	*location;	/* the file's path, or "host:port" */
	int		 index;		/* 0-based: block in the file, or
					   position in the presented chain */
	char		 subject[MCA_NAME_MAX];	/* RFC 2253 */
	char		 issuer[MCA_NAME_MAX];
	char		 serial[MCA_HEX_MAX];	/* uppercase hex */
	char		 sans[MCA_DISC_SAN_MAX];	/* "DNS:a, IP:b" or "" */
	char		 not_before[MCA_TIME_MAX];	/* ISO 8601 UTC */
	char		 not_after[MCA_TIME_MAX];
	char		 key_type[MCA_DISC_ALG_MAX];	/* mca_key_describe() */
	int		 key_bits;
	char		 sig_alg[MCA_DISC_ALG_MAX];	/* "sha256WithRSAEncryption" */
	int		 is_ca;		/* basicConstraints cA TRUE */
	char		 sha1[41];	/* uppercase hex of the DER */
	char		 sha256[65];
	const unsigned char *der;	/* the certificate, for the upload */
	size_t		 der_len;
};

/* What the walker reports besides certificates. */
enum mca_disc_event {
	MCA_DISC_CERT,		/* c is set */
	MCA_DISC_FILE_DONE,	/* a file was parsed: path, st, ncerts */
	MCA_DISC_FILE_KNOWN,	/* known() said unchanged: not opened */
	MCA_DISC_SKIP,		/* a place skipped: path and msg say why */
};

struct mca_disc_report {
	enum mca_disc_event	 event;
	const char		*path;	/* file, directory, or "host:port" */
	const struct stat	*st;	/* FILE_DONE, FILE_KNOWN */
	size_t			 ncerts;	/* FILE_DONE: certificates in it */
	const struct mca_disc_cert *c;	/* CERT */
	const char		*msg;	/* SKIP: one line, why */
};

/*
 * Called for every report, from the calling thread only, one at a time.
 * Returns 0 to go on; anything else stops the scan and is returned.
 */
typedef int (*mca_disc_cb)(void *arg, const struct mca_disc_report *r);

struct mca_disc_opts {
	const char *const	*paths;		/* files and directories */
	size_t			 npaths;
	const char *const	*exclude;	/* fnmatch(3) globs on the path */
	size_t			 nexclude;
	const char *const	*extensions;	/* without the dot; NULL: any */
	size_t			 nextensions;
	off_t			 max_file_size;	/* larger files are skipped */
	const char *const	*p12_passwords;	/* tried after the empty one */
	size_t			 np12_passwords;
	/*
	 * Returns 1 when the caller already holds this file's
	 * certificates for this size and mtime (the file is then not
	 * opened and FILE_KNOWN is reported), 0 otherwise. May be NULL.
	 * Called from the calling thread.
	 */
	int			(*known)(void *arg, const char *path,
				    const struct stat *st);
	void			*arg;		/* for known() */
};

/*
 * Walks opts->paths recursively (no symlink is followed into a loop,
 * no FIFO, socket or device is opened, unreadable places are reported
 * as SKIP and passed over) and reports each certificate of each file.
 * Returns 0, the callback's non-zero value, or MCA_ERR_INVAL /
 * MCA_ERR_NOMEM with d saying why.
 */
int	 mca_disc_scan_files(const struct mca_disc_opts *opts, mca_disc_cb cb,
	    void *arg, struct mca_diag *d);

/*
 * Reads every certificate in buf (PEM with any number of blocks, DER,
 * PKCS#7 in DER or PEM, PKCS#12 with the empty password or one of
 * opts->p12_passwords), reporting each as MCA_DISC_CERT with location.
 * Returns the number found (0: none, not an error), or MCA_ERR_INVAL
 * when buf looks like a certificate container but is corrupt.
 */
int	 mca_disc_parse_buf(const unsigned char *buf, size_t len,
	    const char *location, const struct mca_disc_opts *opts,
	    mca_disc_cb cb, void *arg, struct mca_diag *d);

/*
 * Connects to host:port (SNI host when it is a name), takes the chain
 * the server presents without judging it, and reports each certificate.
 * Every step is bounded by timeout_ms in all. Returns the number of
 * certificates, or MCA_ERR_IO (refused, unreachable, timed out, no TLS)
 * / MCA_ERR_INVAL (bad host:port) with d saying why in one line.
 */
int	 mca_disc_scan_endpoint(const char *hostport, int timeout_ms,
	    mca_disc_cb cb, void *arg, struct mca_diag *d);

/* The defaults the scan uses when config.json names none. */
extern const char *const	mca_disc_default_paths[];
extern const size_t		mca_disc_ndefault_paths;
extern const char *const	mca_disc_default_extensions[];
extern const size_t		mca_disc_ndefault_extensions;
extern const char *const	mca_disc_default_endpoints[];
extern const size_t		mca_disc_ndefault_endpoints;
#define MCA_DISC_DEF_MAX_FILE_SIZE	(16 * 1024 * 1024)

#endif
