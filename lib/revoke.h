/*
 * Certificate revocation in the ledger (sql/migrations/0010-revocations.sql):
 * an append-only log of revoke and unrevoke events, one row per
 * certificate per event; a certificate's state is its latest event. Used
 * by "microca-admin revoke/unrevoke/list", by the EST server (a revoked
 * certificate renews no more) and by whatever publishes CRLs.
 *
 * Every function takes the ledger's one connection (lib/ledger.h); the
 * writers run in one BEGIN IMMEDIATE transaction each, so that a
 * revocation and a concurrent /simplereenroll of the same certificate
 * (lib/ledger.c, mca_ledger_insert_renewal) are ordered by SQLite's
 * write lock: a renewal either committed before the revocation (and a
 * --follow revokes the new certificate too) or sees it and is refused.
 * d (NULL-safe) says why a call failed, one line.
 */
#ifndef MCA_REVOKE_H
#define MCA_REVOKE_H

#include <stddef.h>

#include "err.h"

struct mca_ledger;

/* CRLReason codes, RFC 5280 5.3.1 (7 is not used). */
enum mca_revoke_reason {
	MCA_REVOKE_UNSPECIFIED = 0,
	MCA_REVOKE_KEY_COMPROMISE = 1,
	MCA_REVOKE_CA_COMPROMISE = 2,
	MCA_REVOKE_AFFILIATION_CHANGED = 3,
	MCA_REVOKE_SUPERSEDED = 4,
	MCA_REVOKE_CESSATION_OF_OPERATION = 5,
	MCA_REVOKE_CERTIFICATE_HOLD = 6,
	MCA_REVOKE_REMOVE_FROM_CRL = 8,
	MCA_REVOKE_PRIVILEGE_WITHDRAWN = 9,
	MCA_REVOKE_AA_COMPROMISE = 10,
	MCA_REVOKE_REASON_MAX
};

/*
 * The one table of reason names (as RFC 5280 5.3.1 spells them, as the
 * ledger stores them in revocations.reason) and their codes, in code
 * order. ledger != 0 for the reasons a certificate is revoked with;
 * removeFromCRL (delta CRLs only) and aACompromise (attribute
 * certificates) are listed for a CRL writer's sake but never stored.
 */
struct mca_revoke_reason_name {
	const char	*name;
	int		 code;
	int		 ledger;
};
extern const struct mca_revoke_reason_name mca_revoke_reasons[];
extern const size_t mca_revoke_nreasons;

/* The code of reason name (exact spelling), or -1. */
int		 mca_revoke_reason_code(const char *name);

/* The name of reason code, or NULL (7, out of range). */
const char	*mca_revoke_reason_name(int code);

/* 1 if code is a reason a certificate is revoked with (ledger), else 0. */
int		 mca_revoke_reason_revocable(int code);

/* Hex digits a serial may have (RFC 5280 4.1.2.2: at most 20 octets). */
#define MCA_REVOKE_SERIAL_MAX	40
/* Bytes of a time field, ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ" and NUL. */
#define MCA_REVOKE_TIME_LEN	21
/* Bytes of revoked_by. */
#define MCA_REVOKE_BY_MAX	256

/*
 * A serial as typed by an operator ("0e", "00:0E", "0x0E" is refused)
 * to the ledger's spelling, which is BN_bn2hex()'s (lib/certinfo.c):
 * uppercase, no colons, no leading zero octets, an even number of
 * digits. Colons may separate octets anywhere. Returns 0, or
 * MCA_ERR_INVAL (empty, not hex, zero, over MCA_REVOKE_SERIAL_MAX
 * digits) with d saying why.
 */
int	 mca_revoke_serial_norm(const char *in, char *out, size_t outsz,
	    struct mca_diag *d);

/*
 * An ISO 8601 UTC time as the ledger keeps it: "YYYY-MM-DDTHH:MM:SSZ",
 * or a date "YYYY-MM-DD" (midnight UTC), a real calendar time. Into out
 * (MCA_REVOKE_TIME_LEN bytes). Returns 0 or MCA_ERR_INVAL.
 */
int	 mca_revoke_time_norm(const char *in, char *out, size_t outsz);

/* A revocation to write. */
struct mca_revoke_req {
	const char	*serial;	/* the ledger's spelling */
	int		 reason;	/* enum mca_revoke_reason, ledger != 0 */
	const char	*invalidity_date; /* ISO 8601 UTC, or NULL */
	const char	*by;		/* who: one line, 1..MCA_REVOKE_BY_MAX */
	int		 follow;	/* the device's whole renewal chain */
};

/*
 * Revokes r->serial now, in one IMMEDIATE transaction, all rows with the
 * same revoked_at. With r->follow, every certificate of its renewal
 * chain too (replaces_serial, both ways, to the end: the certificates
 * it renewed, those that renewed it, and grace renewals beside them).
 * Each certificate considered gets a row unless it is revoked already:
 * a revocation is final (RFC 5280 5.3.1), except that one on hold
 * (certificateHold) may be made final with another reason. cb (may be
 * NULL) is called for each serial given a row, before the commit, for
 * the caller's report; a non-zero return aborts all of it. *n (may be
 * NULL) says how many rows were written.
 * Returns 0, MCA_ERR_NOTFOUND (no such serial), MCA_ERR_EXISTS (no row
 * to write: already revoked, and with follow the rest of the chain
 * too), MCA_ERR_INVAL (a bad serial, reason, date (also one in the
 * future, RFC 5280 5.3.2) or by), cb's value, MCA_ERR_BUSY or
 * MCA_ERR_DB. On any error nothing was written.
 */
int	 mca_revoke_cert(struct mca_ledger *l, const struct mca_revoke_req *r,
	    int (*cb)(void *, const char *serial), void *arg, size_t *n,
	    struct mca_diag *d);

/*
 * Releases a certificate from hold now (an 'unrevoke' row by whom), in
 * one IMMEDIATE transaction. Only a certificate whose current state is
 * revoked with reason certificateHold (RFC 5280 5.3.1). Returns 0,
 * MCA_ERR_NOTFOUND (no such serial), MCA_ERR_POLICY (not revoked, or
 * revoked for another reason: nothing written), MCA_ERR_INVAL,
 * MCA_ERR_BUSY or MCA_ERR_DB.
 */
int	 mca_revoke_unrevoke(struct mca_ledger *l, const char *serial,
	    const char *by, struct mca_diag *d);

/* The current revocation state of a certificate. */
struct mca_revoke_state {
	int		 revoked;	/* 1: revoked now (hold included) */
	int		 reason;	/* its code; -1 when not revoked */
	char		 revoked_at[MCA_REVOKE_TIME_LEN];	/* "" */
	char		 invalidity_date[MCA_REVOKE_TIME_LEN];	/* "" none */
};

/*
 * The state of serial (the ledger's spelling) into *s. A certificate
 * never revoked, or released from hold, is not revoked. Reads only;
 * inside a caller's transaction it sees that transaction's state.
 * Returns 0, MCA_ERR_NOTFOUND (no such certificate), MCA_ERR_INVAL or
 * MCA_ERR_DB.
 */
int	 mca_revoke_status(struct mca_ledger *l, const char *serial,
	    struct mca_revoke_state *s, struct mca_diag *d);

/*
 * ---- for a CRL: what one CA revoked
 */

/* One entry of a CRL (RFC 5280 5.1.2.6). */
struct mca_revoke_entry {
	char		 serial[MCA_REVOKE_SERIAL_MAX + 1];
	int		 reason;	/* code */
	char		 revoked_at[MCA_REVOKE_TIME_LEN];	/* revocationDate */
	char		 invalidity_date[MCA_REVOKE_TIME_LEN];	/* "" none */
	char		 not_after[MCA_REVOKE_TIME_LEN];	/* of the cert */
};

/*
 * Calls cb for each certificate issued by issuer (RFC 2253, as the
 * ledger's certificates.issuer has it) that is revoked now (view
 * revoked_now), in the order they were revoked, in one read
 * transaction. Expired ones are included: whether to drop them
 * (RFC 5280 3.3) is the CRL writer's choice, by not_after. A non-zero
 * return from cb stops the walk and is returned. Returns 0, cb's value,
 * MCA_ERR_INVAL, MCA_ERR_BUSY or MCA_ERR_DB.
 */
int	 mca_revoke_list_issuer(struct mca_ledger *l, const char *issuer,
	    int (*cb)(void *, const struct mca_revoke_entry *), void *arg,
	    struct mca_diag *d);

/*
 * ---- for "microca-admin list"
 */

struct mca_revoke_filter {
	const char	*label;		/* NULL: all labels */
	const char	*subject_glob;	/* SQLite GLOB on subject, or NULL */
	/* >= 0: not expired and ending within this many days; -1: any */
	long long	 expiring_days;
	int		 revoked_only;	/* only those revoked now */
	long long	 limit;		/* at most this many rows (>= 1) */
};

/* A certificate as "list" shows it. */
struct mca_revoke_row {
	char		 serial[MCA_REVOKE_SERIAL_MAX + 1];
	char		 subject[257];	/* RFC 2253, cut if longer */
	char		 label[65];
	char		 not_after[MCA_REVOKE_TIME_LEN];
	/* "valid", "expired", "revoked" or "superseded" (renewed), now */
	char		 state[16];
	int		 reason;	/* code when revoked, else -1 */
};

/*
 * Calls cb for each certificate f selects, oldest issue first, at most
 * f->limit of them, in one read transaction; *more (may be NULL) is set
 * to 1 when more matched than were shown. A certificate is "revoked"
 * when its latest event is a revoke, else "expired" after its
 * not_after, else "superseded" when a renewal replaced it, else
 * "valid". A non-zero return from cb stops the walk and is returned.
 * Returns 0, cb's value, MCA_ERR_INVAL, MCA_ERR_BUSY or MCA_ERR_DB.
 */
int	 mca_revoke_list(struct mca_ledger *l, const struct mca_revoke_filter *f,
	    int (*cb)(void *, const struct mca_revoke_row *), void *arg,
	    int *more, struct mca_diag *d);

#endif
