/*
 * Certificate revocation in the ledger (lib/revoke.h,
 * sql/migrations/0010-revocations.sql), on the ledger's connection and
 * with its busy handler (lib/ledger_int.h). The statements are prepared
 * per call: revocations are made by hand and looked up once per renewal.
 *
 * Every row of revocations is written by revoke_append(), inside the
 * writer's BEGIN IMMEDIATE transaction: the one place a hash chain over
 * the rows (or any other per-row bookkeeping) hooks in.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "certinfo.h"
#include "cli.h"
#include "err.h"
#include "ledger.h"
#include "ledger_int.h"
#include "revoke.h"
#include "text.h"

/* RFC 5280 5.3.1, in code order; 7 is not used. */
const struct mca_revoke_reason_name mca_revoke_reasons[] = {
	{ "unspecified", MCA_REVOKE_UNSPECIFIED, 1 },
	{ "keyCompromise", MCA_REVOKE_KEY_COMPROMISE, 1 },
	{ "cACompromise", MCA_REVOKE_CA_COMPROMISE, 1 },
	{ "affiliationChanged", MCA_REVOKE_AFFILIATION_CHANGED, 1 },
	{ "superseded", MCA_REVOKE_SUPERSEDED, 1 },
	{ "cessationOfOperation", MCA_REVOKE_CESSATION_OF_OPERATION, 1 },
	{ "certificateHold", MCA_REVOKE_CERTIFICATE_HOLD, 1 },
	{ "removeFromCRL", MCA_REVOKE_REMOVE_FROM_CRL, 0 },
	{ "privilegeWithdrawn", MCA_REVOKE_PRIVILEGE_WITHDRAWN, 1 },
	{ "aACompromise", MCA_REVOKE_AA_COMPROMISE, 0 },
};
const size_t mca_revoke_nreasons =
    sizeof(mca_revoke_reasons) / sizeof(mca_revoke_reasons[0]);

/* Serial digits accepted as typed: a 20-octet serial with a 00 pad. */
#define RV_SERIAL_IN_MAX	(MCA_REVOKE_SERIAL_MAX + 8)
/* Most certificates one --follow revokes: a device renewing daily. */
#define RV_CHAIN_MAX		100000

enum rv_stmt {
	RV_BEGIN,
	RV_COMMIT,
	RV_CHAIN,
	RV_ONE,
	RV_APPEND,
	RV_STATUS,
	RV_ISSUER,
	RV_LIST,
	RV_MAX
};

/* What each statement does, for the detail of a failure. */
static const char *const rv_what[RV_MAX] = {
	"begin",
	"commit",
	"find renewal chain",
	"find certificate",
	"insert into revocations",
	"read revocation state",
	"list revoked certificates",
	"list certificates",
};

/*
 * The latest event of certificate c (alias c): the revocations row
 * with the highest id, by index revocations_serial.
 */
#define RV_LATEST(c) \
	"(SELECT max(e.id) FROM revocations AS e WHERE e.serial = " c ")"
#define RV_ISO_NOW	"strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

static const char *const rv_sql[RV_MAX] = {
	/* RV_BEGIN: the write lock first: the check and the write agree. */
	"BEGIN IMMEDIATE",
	"COMMIT",
	/*
	 * RV_CHAIN: ?1 and every certificate linked to it by
	 * replaces_serial, both ways, transitively: the older ones it
	 * renewed, the newer ones that renewed it, and a grace renewal's
	 * sibling. UNION (not UNION ALL) ends the walk on a loop. Each
	 * with its latest event; in issue order.
	 */
	"WITH RECURSIVE chain(serial) AS (SELECT ?1 "
	"UNION SELECT c.replaces_serial FROM certificates AS c "
	"JOIN chain ON c.serial = chain.serial "
	"WHERE c.replaces_serial IS NOT NULL "
	"UNION SELECT c.serial FROM certificates AS c "
	"JOIN chain ON c.replaces_serial = chain.serial) "
	"SELECT c.serial, r.action, r.reason FROM certificates AS c "
	"LEFT JOIN revocations AS r ON r.id = " RV_LATEST("c.serial") " "
	"WHERE c.serial IN (SELECT serial FROM chain) ORDER BY c.id",
	/* RV_ONE: the same for ?1 alone */
	"SELECT c.serial, r.action, r.reason FROM certificates AS c "
	"LEFT JOIN revocations AS r ON r.id = " RV_LATEST("c.serial") " "
	"WHERE c.serial = ?1",
	/* RV_APPEND: ?1 serial, ?2 action, ?3 reason, ?4 at, ?5 inv, ?6 by */
	"INSERT INTO revocations (serial, action, reason, revoked_at, "
	"invalidity_date, revoked_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	/* The row as stored, for the chain's hash (lib/ledger_chain.c). */
	"RETURNING " MCA_CHAIN_REV_COLS,
	/* RV_STATUS: a certificate with its latest event, if any */
	"SELECT r.action, r.reason, r.revoked_at, r.invalidity_date "
	"FROM certificates AS c "
	"LEFT JOIN revocations AS r ON r.id = " RV_LATEST("c.serial") " "
	"WHERE c.serial = ?1",
	/* RV_ISSUER */
	"SELECT serial, reason, revoked_at, invalidity_date, not_after "
	"FROM revoked_now WHERE issuer = ?1",
	/*
	 * RV_LIST: ?1 label, ?2 subject GLOB, ?3 expiring days (< 0: any),
	 * ?4 revoked only, ?5 limit (one more is read to tell "more").
	 */
	"SELECT c.serial, c.subject, c.label, c.not_after, r.action, "
	"r.reason, c.not_after <= " RV_ISO_NOW ", "
	"c.superseded_by IS NOT NULL OR EXISTS (SELECT 1 FROM certificates "
	"AS n WHERE n.replaces_serial = c.serial) "
	"FROM certificates AS c "
	"LEFT JOIN revocations AS r ON r.id = " RV_LATEST("c.serial") " "
	"WHERE (?1 IS NULL OR c.label = ?1) "
	"AND (?2 IS NULL OR c.subject GLOB ?2) "
	"AND (?3 < 0 OR (c.not_after > " RV_ISO_NOW " AND c.not_after <= "
	"strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+' || ?3 || ' days'))) "
	"AND (NOT ?4 OR r.action IS 'revoke') "
	"ORDER BY c.id LIMIT ?5 + 1",
};

/* One event, as revoke_append() writes it. */
struct rv_event {
	const char	*serial;
	const char	*action;	/* "revoke" or "unrevoke" */
	const char	*reason;	/* name; NULL for "unrevoke" */
	const char	*at;		/* ISO 8601 UTC */
	const char	*invalidity_date; /* or NULL */
	const char	*by;
};

/* A certificate of a chain, with its latest event. */
struct rv_member {
	char		 serial[MCA_REVOKE_SERIAL_MAX + 1];
	int		 revoked;	/* latest event is a revoke */
	int		 hold;		/* ... with certificateHold */
};

int
mca_revoke_reason_code(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return -1;
	for (i = 0; i < mca_revoke_nreasons; i++)
		if (strcmp(mca_revoke_reasons[i].name, name) == 0)
			return mca_revoke_reasons[i].code;
	return -1;
}

const char *
mca_revoke_reason_name(int code)
{
	size_t	 i;

	for (i = 0; i < mca_revoke_nreasons; i++)
		if (mca_revoke_reasons[i].code == code)
			return mca_revoke_reasons[i].name;
	return NULL;
}

int
mca_revoke_reason_revocable(int code)
{
	size_t	 i;

	for (i = 0; i < mca_revoke_nreasons; i++)
		if (mca_revoke_reasons[i].code == code)
			return mca_revoke_reasons[i].ledger;
	return 0;
}

int
mca_revoke_serial_norm(const char *in, char *out, size_t outsz,
    struct mca_diag *d)
{
	char		 hex[RV_SERIAL_IN_MAX + 1];
	size_t		 n = 0, z = 0, len;
	unsigned char	 c;

	if (outsz > 0)
		out[0] = '\0';
	if (in == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "no serial");
	for (; *in != '\0'; in++) {
		if ((c = (unsigned char)*in) == ':')
			continue;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')))
			return mca_diag(d, MCA_ERR_INVAL, "not a serial: "
			    "hexadecimal digits, colons between octets "
			    "allowed");
		if (n >= RV_SERIAL_IN_MAX)
			return mca_diag(d, MCA_ERR_INVAL, "not a serial: over "
			    "%d hexadecimal digits", MCA_REVOKE_SERIAL_MAX);
		hex[n++] = (char)(c >= 'a' ? c - 'a' + 'A' : c);
	}
	while (z < n && hex[z] == '0')
		z++;
	if (n == 0 || z == n)
		return mca_diag(d, MCA_ERR_INVAL, "not a serial: %s",
		    n == 0 ? "empty" : "zero (RFC 5280 4.1.2.2: positive)");
	/* BN_bn2hex()'s spelling: whole octets, none of them a 00 pad. */
	len = n - z;
	if (len > MCA_REVOKE_SERIAL_MAX)
		return mca_diag(d, MCA_ERR_INVAL, "not a serial: over %d "
		    "hexadecimal digits (RFC 5280 4.1.2.2: 20 octets)",
		    MCA_REVOKE_SERIAL_MAX);
	if (len % 2 + len + 1 > outsz)
		return mca_diag(d, MCA_ERR_TOOBIG, "serial: no room");
	if (len % 2 != 0)
		*out++ = '0';
	memcpy(out, hex + z, len);
	out[len] = '\0';
	return 0;
}

int
mca_revoke_time_norm(const char *in, char *out, size_t outsz)
{
	char	 full[32];
	time_t	 t;

	if (outsz > 0)
		out[0] = '\0';
	if (in == NULL)
		return MCA_ERR_INVAL;
	if (strlen(in) == 10)
		(void)snprintf(full, sizeof(full), "%sT00:00:00Z", in);
	else if (strlen(in) == 20)
		(void)snprintf(full, sizeof(full), "%s", in);
	else
		return MCA_ERR_INVAL;
	if (mca_cli_time(full, &t, NULL) != 0 || outsz < MCA_REVOKE_TIME_LEN)
		return MCA_ERR_INVAL;
	return mca_time_iso(t, out, outsz) != 0 ? MCA_ERR_INVAL : 0;
}

/* s is a serial in the ledger's spelling. */
static int
rv_serial_ok(const char *s)
{
	size_t	 n;

	if (s == NULL || (n = strlen(s)) == 0 || n > MCA_REVOKE_SERIAL_MAX)
		return 0;
	return strspn(s, "0123456789ABCDEF") == n;
}

/* by is one line of 1..MCA_REVOKE_BY_MAX bytes. */
static int
rv_by_ok(const char *by)
{
	size_t	 n;

	if (by == NULL || (n = strlen(by)) == 0 || n > MCA_REVOKE_BY_MAX)
		return 0;
	return mca_text_ctl_span(by, n, 0) == n;
}

static int
rv_prepare(struct mca_ledger *l, enum rv_stmt i, sqlite3_stmt **st)
{
	return mca_ledger_prepare(l, rv_sql[i], rv_what[i], st);
}

/* Runs statement i, which takes no parameters and returns no rows. */
static int
rv_exec(struct mca_ledger *l, enum rv_stmt i)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if ((rc = rv_prepare(l, i, &st)) == 0)
		rc = mca_ledger_stmt_done(l, rv_what[i], st);
	sqlite3_finalize(st);
	return rc;
}

/* The end of a public function: a failure's why also into d. Returns rc. */
static int
rv_out(struct mca_ledger *l, struct mca_diag *d, int rc)
{
	if (rc == 0)
		mca_diag_clear(d);
	else
		mca_diag(d, rc, "%s", mca_ledger_errmsg(l, rc));
	return rc;
}

/* The reason code of column i (a name), or -1 for NULL or unknown. */
static int
rv_column_reason(sqlite3_stmt *st, int i)
{
	return mca_revoke_reason_code((const char *)sqlite3_column_text(st,
	    i));
}

/* Now, as the ledger writes times. */
static int
rv_now(struct mca_ledger *l, char *out, size_t outsz)
{
	if (mca_time_iso(time(NULL), out, outsz) != 0)
		return mca_diag(mca_ledger_diag(l), MCA_ERR_INTERNAL,
		    "revocation: cannot write the time");
	return 0;
}

/*
 * Appends event e to revocations, inside the caller's IMMEDIATE
 * transaction. The only writer of that table: the triggers of
 * 0010-revocations.sql check the state change once more. The row is
 * linked to the ledger's chain in the same transaction
 * (0014-chain-in-rows.sql). 0, or the ledger's code with its diag.
 */
static int
revoke_append(struct mca_ledger *l, const struct rv_event *e)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, src;

	if ((rc = rv_prepare(l, RV_APPEND, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, e->serial) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, e->action) != SQLITE_OK ||
	    mca_ledger_bind(st, 3, e->reason) != SQLITE_OK ||
	    mca_ledger_bind(st, 4, e->at) != SQLITE_OK ||
	    mca_ledger_bind(st, 5, e->invalidity_date) != SQLITE_OK ||
	    mca_ledger_bind(st, 6, e->by) != SQLITE_OK) {
		rc = mca_ledger_bind_failed(l, rv_what[RV_APPEND]);
		goto out;
	}
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		rc = mca_ledger_sqlfail(l, src == SQLITE_DONE ? SQLITE_ERROR :
		    src, rv_what[RV_APPEND]);
		goto out;
	}
	if ((rc = mca_ledger_chain_row(l, "revocations", st,
	    MCA_CHAIN_REV_NCOLS)) != 0)
		goto out;
	rc = mca_ledger_stmt_done(l, rv_what[RV_APPEND], st);
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * The certificates to consider for serial (all of its chain with
 * follow) into *m (*n of them), inside the caller's transaction.
 * 0, MCA_ERR_NOTFOUND (serial not in the ledger), MCA_ERR_NOMEM,
 * MCA_ERR_TOOBIG or the ledger's code.
 */
static int
rv_members(struct mca_ledger *l, const char *serial, int follow,
    struct rv_member **m, size_t *n)
{
	enum rv_stmt		 i = follow ? RV_CHAIN : RV_ONE;
	sqlite3_stmt		*st = NULL;
	struct rv_member	*v = NULL, *nv;
	const unsigned char	*s;
	size_t			 cap = 0, k = 0;
	int			 rc, src, seen = 0;

	*m = NULL;
	*n = 0;
	if ((rc = rv_prepare(l, i, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, serial) != SQLITE_OK) {
		rc = mca_ledger_bind_failed(l, rv_what[i]);
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == RV_CHAIN_MAX) {
			rc = mca_diag(mca_ledger_diag(l), MCA_ERR_TOOBIG,
			    "%s: over %d certificates", rv_what[i],
			    RV_CHAIN_MAX);
			goto out;
		}
		if (k == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = mca_diag(mca_ledger_diag(l),
				    MCA_ERR_NOMEM, "%s: out of memory",
				    rv_what[i]);
				goto out;
			}
			v = nv;
		}
		s = sqlite3_column_text(st, 0);
		if (s == NULL || !rv_serial_ok((const char *)s)) {
			rc = mca_diag(mca_ledger_diag(l), MCA_ERR_DB, "%s: "
			    "a serial in the ledger is not uppercase hex of "
			    "at most %d digits", rv_what[i],
			    MCA_REVOKE_SERIAL_MAX);
			goto out;
		}
		(void)snprintf(v[k].serial, sizeof(v[k].serial), "%s", s);
		s = sqlite3_column_text(st, 1);
		v[k].revoked = s != NULL && strcmp((const char *)s,
		    "revoke") == 0;
		v[k].hold = v[k].revoked && rv_column_reason(st, 2) ==
		    MCA_REVOKE_CERTIFICATE_HOLD;
		if (strcmp(v[k].serial, serial) == 0)
			seen = 1;
		k++;
	}
	if (src != SQLITE_DONE) {
		rc = mca_ledger_sqlfail(l, src, rv_what[i]);
		goto out;
	}
	if (!seen) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_NOTFOUND, "no "
		    "certificate with serial %s in the ledger", serial);
		goto out;
	}
	*m = v;
	v = NULL;
	*n = k;
	rc = 0;
out:
	free(v);
	sqlite3_finalize(st);
	return rc;
}

int
mca_revoke_cert(struct mca_ledger *l, const struct mca_revoke_req *r,
    int (*cb)(void *, const char *), void *arg, size_t *n,
    struct mca_diag *d)
{
	struct rv_member	*m = NULL;
	struct rv_event		 e;
	const char		*held = NULL;
	char			 now[MCA_REVOKE_TIME_LEN];
	char			 inv[MCA_REVOKE_TIME_LEN];
	size_t			 nm = 0, i, done = 0;
	int			 rc, intx = 0, final;

	if (n != NULL)
		*n = 0;
	if (l == NULL || r == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "revoke: no ledger or no "
		    "request");
	mca_diag_clear(mca_ledger_diag(l));
	memset(&e, 0, sizeof(e));
	if (!rv_serial_ok(r->serial))
		return mca_diag(d, MCA_ERR_INVAL, "revoke: the serial is not "
		    "uppercase hex of 1 to %d digits", MCA_REVOKE_SERIAL_MAX);
	if (!mca_revoke_reason_revocable(r->reason))
		return mca_diag(d, MCA_ERR_INVAL, "revoke: reason %d is not "
		    "one a certificate is revoked with (RFC 5280 5.3.1)",
		    r->reason);
	if (!rv_by_ok(r->by))
		return mca_diag(d, MCA_ERR_INVAL, "revoke: who revokes must "
		    "be one line of 1 to %d bytes", MCA_REVOKE_BY_MAX);
	if ((rc = rv_now(l, now, sizeof(now))) != 0)
		return rv_out(l, d, rc);
	if (r->invalidity_date != NULL) {
		if (mca_revoke_time_norm(r->invalidity_date, inv,
		    sizeof(inv)) != 0 || strcmp(inv, r->invalidity_date) != 0)
			return mca_diag(d, MCA_ERR_INVAL, "revoke: invalidity "
			    "date %.32s is not YYYY-MM-DDTHH:MM:SSZ",
			    r->invalidity_date);
		/* RFC 5280 5.3.2: when the key was (suspected) compromised. */
		if (strcmp(inv, now) > 0)
			return mca_diag(d, MCA_ERR_INVAL, "revoke: invalidity "
			    "date %s lies in the future (RFC 5280 5.3.2)",
			    inv);
	}
	e.action = "revoke";
	e.reason = mca_revoke_reason_name(r->reason);
	e.at = now;
	e.invalidity_date = r->invalidity_date;
	e.by = r->by;
	final = r->reason != MCA_REVOKE_CERTIFICATE_HOLD;

	if ((rc = rv_exec(l, RV_BEGIN)) != 0)
		goto out;
	intx = 1;
	if ((rc = rv_members(l, r->serial, r->follow, &m, &nm)) != 0)
		goto out;
	for (i = 0; i < nm; i++) {
		/*
		 * RFC 5280 5.3.1: a revocation is final, but a hold may be
		 * made final with another reason.
		 */
		if (m[i].revoked && !(m[i].hold && final)) {
			if (strcmp(m[i].serial, r->serial) == 0)
				held = m[i].hold ? "on hold" : "revoked";
			continue;
		}
		e.serial = m[i].serial;
		if ((rc = revoke_append(l, &e)) != 0)
			goto out;
		if (cb != NULL && (rc = cb(arg, m[i].serial)) != 0)
			goto out;
		done++;
	}
	if (done == 0) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_EXISTS, "certificate "
		    "%s is already %s%s", r->serial, held != NULL ? held :
		    "revoked", r->follow ? ", and so is the rest of its "
		    "renewal chain" : "");
		goto out;
	}
	if ((rc = rv_exec(l, RV_COMMIT)) != 0)
		goto out;
	intx = 0;
	if (n != NULL)
		*n = done;
	rc = 0;
out:
	if (intx)
		mca_ledger_rollback(l);
	free(m);
	return rv_out(l, d, rc);
}

/*
 * The state of serial into *s, and whether the certificate exists,
 * inside the caller's transaction if any. 0, MCA_ERR_NOTFOUND or the
 * ledger's code.
 */
static int
rv_status(struct mca_ledger *l, const char *serial,
    struct mca_revoke_state *s)
{
	sqlite3_stmt		*st = NULL;
	const unsigned char	*a;
	int			 rc, src;

	if ((rc = rv_prepare(l, RV_STATUS, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, serial) != SQLITE_OK) {
		rc = mca_ledger_bind_failed(l, rv_what[RV_STATUS]);
		goto out;
	}
	if ((src = sqlite3_step(st)) == SQLITE_DONE) {
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_NOTFOUND, "no "
		    "certificate with serial %s in the ledger", serial);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = mca_ledger_sqlfail(l, src, rv_what[RV_STATUS]);
		goto out;
	}
	a = sqlite3_column_text(st, 0);
	if (a != NULL && strcmp((const char *)a, "revoke") == 0) {
		s->revoked = 1;
		s->reason = rv_column_reason(st, 1);
		mca_ledger_column(st, 2, s->revoked_at, sizeof(s->revoked_at));
		mca_ledger_column(st, 3, s->invalidity_date,
		    sizeof(s->invalidity_date));
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int
mca_revoke_status(struct mca_ledger *l, const char *serial,
    struct mca_revoke_state *s, struct mca_diag *d)
{
	int	 rc;

	if (s != NULL) {
		memset(s, 0, sizeof(*s));
		s->reason = -1;
	}
	if (l == NULL || s == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "revocation state: no "
		    "ledger or no result");
	mca_diag_clear(mca_ledger_diag(l));
	if (!rv_serial_ok(serial))
		return mca_diag(d, MCA_ERR_INVAL, "revocation state: the "
		    "serial is not uppercase hex of 1 to %d digits",
		    MCA_REVOKE_SERIAL_MAX);
	rc = rv_status(l, serial, s);
	return rv_out(l, d, rc);
}

int
mca_revoke_unrevoke(struct mca_ledger *l, const char *serial,
    const char *by, struct mca_diag *d)
{
	struct mca_revoke_state	 s;
	struct rv_event		 e;
	char			 now[MCA_REVOKE_TIME_LEN];
	const char		*why;
	int			 rc, intx = 0;

	memset(&s, 0, sizeof(s));
	memset(&e, 0, sizeof(e));
	if (l == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "unrevoke: no ledger");
	mca_diag_clear(mca_ledger_diag(l));
	if (!rv_serial_ok(serial))
		return mca_diag(d, MCA_ERR_INVAL, "unrevoke: the serial is not "
		    "uppercase hex of 1 to %d digits", MCA_REVOKE_SERIAL_MAX);
	if (!rv_by_ok(by))
		return mca_diag(d, MCA_ERR_INVAL, "unrevoke: who unrevokes "
		    "must be one line of 1 to %d bytes", MCA_REVOKE_BY_MAX);
	if ((rc = rv_now(l, now, sizeof(now))) != 0)
		return rv_out(l, d, rc);
	if ((rc = rv_exec(l, RV_BEGIN)) != 0)
		goto out;
	intx = 1;
	if ((rc = rv_status(l, serial, &s)) != 0)
		goto out;
	/* RFC 5280 5.3.1: only certificateHold is temporary. */
	if (!s.revoked || s.reason != MCA_REVOKE_CERTIFICATE_HOLD) {
		why = mca_revoke_reason_name(s.reason);
		rc = mca_diag(mca_ledger_diag(l), MCA_ERR_POLICY, "certificate "
		    "%s %s%s: only a certificateHold is lifted (RFC 5280 "
		    "5.3.1)", serial, s.revoked ? "is revoked for " :
		    "is not revoked", s.revoked && why != NULL ? why : "");
		goto out;
	}
	e.serial = serial;
	e.action = "unrevoke";
	e.at = now;
	e.by = by;
	if ((rc = revoke_append(l, &e)) != 0)
		goto out;
	if ((rc = rv_exec(l, RV_COMMIT)) != 0)
		goto out;
	intx = 0;
	rc = 0;
out:
	if (intx)
		mca_ledger_rollback(l);
	return rv_out(l, d, rc);
}

int
mca_revoke_list_issuer(struct mca_ledger *l, const char *issuer,
    int (*cb)(void *, const struct mca_revoke_entry *), void *arg,
    struct mca_diag *d)
{
	struct mca_revoke_entry	 e;
	sqlite3_stmt		*st = NULL;
	const unsigned char	*s;
	int			 rc, src;

	if (l == NULL || issuer == NULL || cb == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "%s: no ledger, issuer or "
		    "callback", rv_what[RV_ISSUER]);
	mca_diag_clear(mca_ledger_diag(l));
	if ((rc = rv_prepare(l, RV_ISSUER, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, issuer) != SQLITE_OK) {
		rc = mca_ledger_bind_failed(l, rv_what[RV_ISSUER]);
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		s = sqlite3_column_text(st, 0);
		/* A serial cut short would name another certificate. */
		if (s == NULL || !rv_serial_ok((const char *)s)) {
			rc = mca_diag(mca_ledger_diag(l), MCA_ERR_DB, "%s: "
			    "a serial in the ledger is not uppercase hex of "
			    "at most %d digits", rv_what[RV_ISSUER],
			    MCA_REVOKE_SERIAL_MAX);
			goto out;
		}
		(void)snprintf(e.serial, sizeof(e.serial), "%s", s);
		e.reason = rv_column_reason(st, 1);
		mca_ledger_column(st, 2, e.revoked_at, sizeof(e.revoked_at));
		mca_ledger_column(st, 3, e.invalidity_date, sizeof(e.invalidity_date));
		mca_ledger_column(st, 4, e.not_after, sizeof(e.not_after));
		/* The caller's verdict, not a failure of ours. */
		if ((rc = cb(arg, &e)) != 0) {
			sqlite3_finalize(st);
			mca_diag_clear(d);
			return rc;
		}
	}
	rc = src == SQLITE_DONE ? 0 : mca_ledger_sqlfail(l, src,
	    rv_what[RV_ISSUER]);
out:
	sqlite3_finalize(st);
	return rv_out(l, d, rc);
}

int
mca_revoke_list(struct mca_ledger *l, const struct mca_revoke_filter *f,
    int (*cb)(void *, const struct mca_revoke_row *), void *arg,
    int *more, struct mca_diag *d)
{
	struct mca_revoke_row	 row;
	sqlite3_stmt		*st = NULL;
	const unsigned char	*a;
	long long		 k = 0;
	int			 rc, src;

	if (more != NULL)
		*more = 0;
	if (l == NULL || f == NULL || cb == NULL || f->limit < 1 ||
	    f->limit > 1000000000LL || f->expiring_days > 1000000LL)
		return mca_diag(d, MCA_ERR_INVAL, "%s: no ledger, filter or "
		    "callback, or a limit out of range", rv_what[RV_LIST]);
	mca_diag_clear(mca_ledger_diag(l));
	if ((rc = rv_prepare(l, RV_LIST, &st)) != 0)
		goto out;
	if (mca_ledger_bind(st, 1, f->label) != SQLITE_OK ||
	    mca_ledger_bind(st, 2, f->subject_glob) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, f->expiring_days < 0 ? -1 :
	    f->expiring_days) != SQLITE_OK ||
	    sqlite3_bind_int(st, 4, f->revoked_only != 0) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, f->limit) != SQLITE_OK) {
		rc = mca_ledger_bind_failed(l, rv_what[RV_LIST]);
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (k++ == f->limit) {
			if (more != NULL)
				*more = 1;
			break;
		}
		memset(&row, 0, sizeof(row));
		row.reason = -1;
		mca_ledger_column(st, 0, row.serial, sizeof(row.serial));
		mca_ledger_column(st, 1, row.subject, sizeof(row.subject));
		mca_ledger_column(st, 2, row.label, sizeof(row.label));
		mca_ledger_column(st, 3, row.not_after, sizeof(row.not_after));
		a = sqlite3_column_text(st, 4);
		if (a != NULL && strcmp((const char *)a, "revoke") == 0) {
			(void)snprintf(row.state, sizeof(row.state),
			    "revoked");
			row.reason = rv_column_reason(st, 5);
		} else if (sqlite3_column_int(st, 6))
			(void)snprintf(row.state, sizeof(row.state),
			    "expired");
		else if (sqlite3_column_int(st, 7))
			(void)snprintf(row.state, sizeof(row.state),
			    "superseded");
		else
			(void)snprintf(row.state, sizeof(row.state), "valid");
		if ((rc = cb(arg, &row)) != 0) {
			sqlite3_finalize(st);
			mca_diag_clear(d);
			return rc;
		}
	}
	if (src != SQLITE_ROW && src != SQLITE_DONE) {
		rc = mca_ledger_sqlfail(l, src, rv_what[RV_LIST]);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rv_out(l, d, rc);
}
