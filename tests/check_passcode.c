/*
 * Tests for lib/passcode.c: drawing passcodes, reading them back as
 * people type them, and the stored scrypt hash; the failure budgets, in
 * their arithmetic and as the ledger keeps them for all workers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "ledger.h"
#include "passcode.h"
#include "testutil.h"

#define ALPHABET	"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#define ID		"PG1D6EK3"
#define SECRET		"BQ5Z8HMTDWNGG9S9CS53QY50ZZ"

static int
in_alphabet(const char *s)
{
	return strspn(s, ALPHABET) == strlen(s);
}

START_TEST(test_new)
{
	struct mca_passcode	 a, b;
	char			 s[MCA_PASSCODE_LEN + 1];
	size_t			 j;
	int			 i, seen[32];

	ck_assert_int_eq(mca_passcode_new(&a), 0);
	ck_assert_int_eq(mca_passcode_new(&b), 0);
	ck_assert_uint_eq(strlen(a.id), MCA_PASSCODE_ID_LEN);
	ck_assert_uint_eq(strlen(a.secret), MCA_PASSCODE_SECRET_LEN);
	ck_assert(in_alphabet(a.id) && in_alphabet(a.secret));
	ck_assert_str_ne(a.id, b.id);
	ck_assert_str_ne(a.secret, b.secret);
	ck_assert_int_eq(mca_passcode_format(&a, s, sizeof(s)), 0);
	ck_assert_uint_eq(strlen(s), MCA_PASSCODE_LEN);
	ck_assert_int_eq(s[MCA_PASSCODE_ID_LEN], '.');
	ck_assert_int_eq(mca_passcode_format(&a, s, MCA_PASSCODE_LEN),
	    MCA_ERR_TOOBIG);
	/* Every character of the alphabet turns up in 200 draws. */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(mca_passcode_new(&a), 0);
		for (j = 0; j < MCA_PASSCODE_SECRET_LEN; j++)
			seen[strchr(ALPHABET, a.secret[j]) - ALPHABET] = 1;
	}
	for (i = 0; i < 32; i++)
		ck_assert_msg(seen[i], "never drew %c", ALPHABET[i]);
	mca_passcode_clear(&a);
	ck_assert_str_eq(a.secret, "");
	mca_passcode_clear(NULL);
}
END_TEST

/* What people type, what clients send. */
static const struct {
	const char	*user;	/* NULL: no user-id */
	const char	*s;
	int		 rc;
	const char	*id;
	const char	*secret;
} pcases[] = {
	{ NULL, ID "." SECRET, 0, ID, SECRET },
	/* Any case; O for 0, I and L for 1; '-' groups; '.' optional. */
	{ NULL, "pg1d6ek3.bq5z8hmtdwngg9s9cs53qy50zz", 0, ID, SECRET },
	{ NULL, "PGID6EK3.BQ5Z8HMTDWNGG9S9CS53QY5OZZ", 0, ID, SECRET },
	{ NULL, "PGlD6EK3.BQ5Z8HMTDWNGG9S9CS53QY5ozz", 0, ID, SECRET },
	{ NULL, "PG1D-6EK3-BQ5Z8-HMTDW-NGG9S-9CS53-QY50Z-Z", 0, ID, SECRET },
	{ NULL, ID SECRET, 0, ID, SECRET },
	{ NULL, ID "-" SECRET, 0, ID, SECRET },
	/* A user-id alongside a whole passcode is the client's business. */
	{ "device-42", ID "." SECRET, 0, ID, SECRET },
	{ "", ID "." SECRET, 0, ID, SECRET },
	/* user-id = ID, password = SECRET (curl -u ID:SECRET). */
	{ ID, SECRET, 0, ID, SECRET },
	{ "pg1d-6ek3", "bq5z8hmtdwngg9s9cs53qy50zz", 0, ID, SECRET },
	/* Wrong. */
	{ NULL, SECRET, MCA_ERR_INVAL, "", "" },	/* no ID anywhere */
	{ "dev42", SECRET, MCA_ERR_INVAL, "", "" },
	/* "device-4" reads as the ID DEV1CE4 plus one: wrong length. */
	{ "device-4", SECRET, MCA_ERR_INVAL, "", "" },
	{ "PG1D6EK", SECRET, MCA_ERR_INVAL, "", "" },
	{ NULL, ID "." SECRET "0", MCA_ERR_INVAL, "", "" },
	{ NULL, ID "." "BQ5Z8HMTDWNGG9S9CS53QY50Z", MCA_ERR_INVAL, "", "" },
	{ NULL, ID "." "BQ5Z8HMTDWNGG9S9CS53QY50ZU", MCA_ERR_INVAL, "", "" },
	{ NULL, ID " " SECRET, MCA_ERR_INVAL, "", "" },
	{ NULL, ID ":" SECRET, MCA_ERR_INVAL, "", "" },
	{ NULL, "", MCA_ERR_INVAL, "", "" },
	{ NULL, "wTvQtkUGcU81AhVmodGE", MCA_ERR_INVAL, "", "" },
	{ NULL, ID ".\xc3\xa9" SECRET, MCA_ERR_INVAL, "", "" },
};

START_TEST(test_parse)
{
	struct mca_passcode	 pc;
	int			 rc;

	memset(&pc, 'x', sizeof(pc));
	rc = mca_passcode_parse(pcases[_i].user, pcases[_i].s, &pc);
	ck_assert_msg(rc == pcases[_i].rc, "case %d: rc %d", _i, rc);
	ck_assert_str_eq(pc.id, pcases[_i].id);
	ck_assert_str_eq(pc.secret, pcases[_i].secret);
}
END_TEST

START_TEST(test_parse_edges)
{
	struct mca_passcode	 pc;
	char			 big[MCA_PASSCODE_INPUT_MAX + 2], id[9];

	ck_assert_int_eq(mca_passcode_parse(NULL, NULL, &pc), MCA_ERR_INVAL);
	/* Hyphens do not count, but the input cap does. */
	memset(big, '-', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, ID SECRET, strlen(ID SECRET));
	ck_assert_int_eq(mca_passcode_parse(NULL, big, &pc), MCA_ERR_TOOBIG);
	big[MCA_PASSCODE_INPUT_MAX] = '\0';
	ck_assert_int_eq(mca_passcode_parse(NULL, big, &pc), 0);

	ck_assert_int_eq(mca_passcode_parse_id("pg1d-6ek3", id, sizeof(id)), 0);
	ck_assert_str_eq(id, ID);
	ck_assert_int_eq(mca_passcode_parse_id(ID "." SECRET, id, sizeof(id)),
	    MCA_ERR_INVAL);
	ck_assert_str_eq(id, "");
	ck_assert_int_eq(mca_passcode_parse_id("PG1D6EK", id, sizeof(id)),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_passcode_parse_id("PG1D6EKU", id, sizeof(id)),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_passcode_parse_id(ID, id, 8), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_passcode_parse_id(NULL, id, sizeof(id)),
	    MCA_ERR_INVAL);
}
END_TEST

START_TEST(test_hash_verify)
{
	char		 h1[MCA_PASSCODE_HASH_MAX], h2[MCA_PASSCODE_HASH_MAX];
	char		 other[] = SECRET;

	ck_assert_int_eq(mca_passcode_hash(SECRET, MCA_PASSCODE_SCRYPT_LN,
	    MCA_PASSCODE_SCRYPT_R, MCA_PASSCODE_SCRYPT_P, h1, sizeof(h1)), 0);
	/*
	 * The cost is in the parameters, not in a stopwatch (that would
	 * fail on a busy machine): N = 2^11, r = 8, p = 1 is 2 MiB and a
	 * few ms of work.
	 */
	ck_assert_msg(strncmp(h1, "$scrypt$ln=11,r=8,p=1$", 22) == 0, "%s", h1);
	ck_assert_ptr_null(strstr(h1, SECRET));
	/* 16-byte salt, 32-byte hash, in base64. */
	ck_assert_uint_eq(strlen(h1), 22 + 24 + 1 + 44);

	ck_assert_int_eq(mca_passcode_verify(SECRET, h1), 0);
	/* A new salt each time. */
	ck_assert_int_eq(mca_passcode_hash(SECRET, MCA_PASSCODE_SCRYPT_LN,
	    MCA_PASSCODE_SCRYPT_R, MCA_PASSCODE_SCRYPT_P, h2, sizeof(h2)), 0);
	ck_assert_str_ne(h1, h2);
	ck_assert_int_eq(mca_passcode_verify(SECRET, h2), 0);
	/* One character off, or none at all. */
	other[25] = 'Y';
	ck_assert_int_eq(mca_passcode_verify(other, h1), MCA_ERR_AUTH);
	ck_assert_int_eq(mca_passcode_verify("", h1), MCA_ERR_AUTH);
	/* A cost raised later still verifies: it is read from the row. */
	ck_assert_int_eq(mca_passcode_hash(SECRET, 12, 8, 2, h2, sizeof(h2)),
	    0);
	ck_assert_msg(strncmp(h2, "$scrypt$ln=12,r=8,p=2$", 22) == 0, "%s", h2);
	ck_assert_int_eq(mca_passcode_verify(SECRET, h2), 0);
	ck_assert_int_eq(mca_passcode_verify(other, h2), MCA_ERR_AUTH);
	/* Costs outside what verify accepts are not written. */
	ck_assert_int_eq(mca_passcode_hash(SECRET, 9, 8, 1, h2, sizeof(h2)),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_passcode_hash(SECRET, 20, 32, 1, h2, sizeof(h2)),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_passcode_hash(SECRET, 11, 8, 1, h2, 40),
	    MCA_ERR_TOOBIG);
	ck_assert_int_eq(mca_passcode_hash(NULL, 11, 8, 1, h2, sizeof(h2)),
	    MCA_ERR_INVAL);
}
END_TEST

/* RFC 7914 12, third vector, through the stored form. */
START_TEST(test_rfc7914)
{
	static const unsigned char dk[64] = {
		0x70, 0x23, 0xbd, 0xcb, 0x3a, 0xfd, 0x73, 0x48,
		0x46, 0x1c, 0x06, 0xcd, 0x81, 0xfd, 0x38, 0xeb,
		0xfd, 0xa8, 0xfb, 0xba, 0x90, 0x4f, 0x8e, 0x3e,
		0xa9, 0xb5, 0x43, 0xf6, 0x54, 0x5d, 0xa1, 0xf2,
		0xd5, 0x43, 0x29, 0x55, 0x61, 0x3f, 0x0f, 0xcf,
		0x62, 0xd4, 0x97, 0x05, 0x24, 0x2a, 0x9a, 0xf9,
		0xe6, 0x1e, 0x85, 0xdc, 0x0d, 0x65, 0x1e, 0x40,
		0xdf, 0xcf, 0x01, 0x7b, 0x45, 0x57, 0x58, 0x87,
	};
	struct mca_buf	 s = MCA_BUF_INIT;

	ck_assert_int_eq(mca_buf_addstr(&s, "$scrypt$ln=14,r=8,p=1$"), 0);
	ck_assert_int_eq(mca_b64_encode((const unsigned char *)"SodiumChloride",
	    14, 0, &s), 0);
	ck_assert_int_eq(mca_buf_addc(&s, '$'), 0);
	ck_assert_int_eq(mca_b64_encode(dk, sizeof(dk), 0, &s), 0);
	ck_assert_int_eq(mca_passcode_verify("pleaseletmein", mca_buf_str(&s)),
	    0);
	ck_assert_int_eq(mca_passcode_verify("pleaseletmeim", mca_buf_str(&s)),
	    MCA_ERR_AUTH);
	mca_buf_free(&s);
}
END_TEST

/* Stored forms verify must refuse as malformed, not as a mismatch. */
static const char *const bad_stored[] = {
	"",
	"$scrypt$",
	"$pbkdf2$i=1000$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=11,r=8$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=11,r=8,p=1$c2FsdHNhbHQ=",
	"$scrypt$ln=11,r=8,p=1$$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=11,r=8,p=1$c2FsdHNhbHQ=$",
	/* A 4-byte salt; a 14-byte hash. */
	"$scrypt$ln=11,r=8,p=1$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=11,r=8,p=1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAA=",
	"$scrypt$ln=11,r=8,p=1$c2FsdHNhbHQ=$AAAA AAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=11,r=8,p=1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==$",
	"$scrypt$ln=11,r=8,p=1$c2Fsd!NhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=9,r=8,p=1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=21,r=8,p=1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=011,r=8,p=1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=11,r=0,p=1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=11,r=8,p=0$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=11,r=8,p=17$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=11,r=33,p=1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	/* Over the 64 MiB memory cap. */
	"$scrypt$ln=20,r=8,p=1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$ln=11,r=8,p=-1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$scrypt$r=8,ln=11,p=1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
	"$SCRYPT$ln=11,r=8,p=1$c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA==",
};

START_TEST(test_bad_stored)
{
	ck_assert_int_eq(mca_passcode_verify(SECRET, bad_stored[_i]),
	    MCA_ERR_INVAL);
}
END_TEST

START_TEST(test_tampered)
{
	char	 h[MCA_PASSCODE_HASH_MAX];
	size_t	 len;

	ck_assert_int_eq(mca_passcode_hash(SECRET, MCA_PASSCODE_SCRYPT_LN,
	    MCA_PASSCODE_SCRYPT_R, MCA_PASSCODE_SCRYPT_P, h, sizeof(h)), 0);
	ck_assert_int_eq(mca_passcode_verify(NULL, h), MCA_ERR_INVAL);
	ck_assert_int_eq(mca_passcode_verify(SECRET, NULL), MCA_ERR_INVAL);
	/* A changed hash byte, a changed salt byte: no match. */
	len = strlen(h);
	h[len - 3] = h[len - 3] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(mca_passcode_verify(SECRET, h), MCA_ERR_AUTH);
	ck_assert_int_eq(mca_passcode_hash(SECRET, MCA_PASSCODE_SCRYPT_LN,
	    MCA_PASSCODE_SCRYPT_R, MCA_PASSCODE_SCRYPT_P, h, sizeof(h)), 0);
	h[23] = h[23] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(mca_passcode_verify(SECRET, h), MCA_ERR_AUTH);
}
END_TEST

/* ---- failure budgets */

static const struct {
	long long	 count, since, max, window, now, wait;
} wcases[] = {
	/* under the budget: go on */
	{ 0, 0, 5, 900, 1000, 0 },
	{ 4, 1000, 5, 900, 1000, 0 },
	/* at it: wait for the window's end */
	{ 5, 1000, 5, 900, 1000, 900 },
	{ 5, 1000, 5, 900, 1899, 1 },
	{ 50, 1000, 5, 900, 1500, 400 },
	/* the window has ended */
	{ 5, 1000, 5, 900, 1900, 0 },
	{ 5, 1000, 5, 900, 99999, 0 },
	/* no budget, no window, a bad window */
	{ 500, 1000, 0, 900, 1000, 0 },
	{ 5, 0, 5, 900, 1000, 0 },
	{ 5, 1000, 5, 0, 1000, 0 },
	/* a window in the future: the clock went back; never over window */
	{ 5, 5000, 5, 900, 1000, 0 },
	{ 1, 1000, 1, 1, 1000, 1 },
};

START_TEST(test_wait)
{
	ck_assert_int_eq(mca_passcode_wait(wcases[_i].count, wcases[_i].since,
	    wcases[_i].max, wcases[_i].window, wcases[_i].now),
	    wcases[_i].wait);
}
END_TEST

static const struct {
	const char	*in;
	const char	*key;	/* NULL: MCA_ERR_INVAL */
} acases[] = {
	{ "127.0.0.1", "127.0.0.1" },
	{ "192.0.2.200", "192.0.2.200" },
	{ "::ffff:192.0.2.7", "192.0.2.7" },
	/* an IPv6 address by its /64: the interface ID is the client's */
	{ "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64" },
	{ "2001:DB8:1:2::1", "2001:db8:1:2::/64" },
	{ "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64" },
	{ "::1", "::/64" },
	{ "", NULL },
	{ "localhost", NULL },
	{ "127.0.0.1 ", NULL },
	{ "127.0.0.1:443", NULL },
	{ "fe80::1%eth0", NULL },
	{ "1.2.3.4.5", NULL },
	{ "2001:db8::1::2", NULL },
	{ "0000000000000000000000000000000000000000000000000000000000000000"
	    "1", NULL },
};

START_TEST(test_addr_key)
{
	char	 k[MCA_PASSCODE_ADDR_MAX];

	if (acases[_i].key == NULL) {
		ck_assert_int_eq(mca_passcode_addr_key(acases[_i].in, k,
		    sizeof(k)), MCA_ERR_INVAL);
		ck_assert_str_eq(k, "");
		return;
	}
	ck_assert_int_eq(mca_passcode_addr_key(acases[_i].in, k, sizeof(k)),
	    0);
	ck_assert_str_eq(k, acases[_i].key);
}
END_TEST

START_TEST(test_addr_key_edges)
{
	char	 k[MCA_PASSCODE_ADDR_MAX];

	ck_assert_int_eq(mca_passcode_addr_key(NULL, k, sizeof(k)),
	    MCA_ERR_INVAL);
	/* out must hold any key */
	ck_assert_int_eq(mca_passcode_addr_key("127.0.0.1", k, 16),
	    MCA_ERR_INVAL);
}
END_TEST

/* A fresh ledger in a new directory, with passcode ID on label "pass". */
static struct mca_ledger *
budget_ledger(char **dir)
{
	struct mca_ledger_passcode	 p;
	struct mca_ledger		*l = NULL;
	struct mca_diag			 d;
	char				 path[1024];

	*dir = tu_mkdtemp("budget");
	(void)snprintf(path, sizeof(path), "%s/ledger.db", *dir);
	ck_assert_msg(mca_ledger_open(path, 0, &l, &d) == 0, "%s", d.msg);
	memset(&p, 0, sizeof(p));
	(void)snprintf(p.id, sizeof(p.id), "%s", ID);
	(void)snprintf(p.label, sizeof(p.label), "pass");
	(void)snprintf(p.hash, sizeof(p.hash), "$scrypt$ln=11,r=8,p=1$x$y");
	p.uses_total = 1;
	(void)snprintf(p.expires_at, sizeof(p.expires_at),
	    "2999-01-01T00:00:00Z");
	ck_assert_int_eq(mca_ledger_passcode_add(l, &p), 0);
	return l;
}

/*
 * The budget as the workers use it: count, then wait. K failures on a
 * passcode and it is refused unchecked for the rest of the window; the
 * next window starts afresh; other passcodes and addresses are untouched.
 */
START_TEST(test_budget_ledger)
{
	struct mca_ledger_failures	 fid, fa;
	struct mca_ledger		*l;
	char				*dir;
	const long long			 t0 = 1700000000, w = 900, k = 5;
	long long			 i;

	l = budget_ledger(&dir);
	ck_assert_int_eq(mca_ledger_failures_get(l, ID, "192.0.2.1", &fid,
	    &fa), 0);
	ck_assert_int_eq(fid.count + fid.since + fa.count + fa.since, 0);
	for (i = 0; i < k; i++) {
		ck_assert_int_eq(mca_ledger_failures_get(l, ID, "192.0.2.1",
		    &fid, &fa), 0);
		/* under the budget: the secret is checked (and wrong) */
		ck_assert_int_eq(mca_passcode_wait(fid.count, fid.since, k, w,
		    t0 + i), 0);
		ck_assert_int_eq(mca_ledger_failures_add(l, ID, "192.0.2.1",
		    t0 + i, w), 0);
	}
	ck_assert_int_eq(mca_ledger_failures_get(l, ID, "192.0.2.1", &fid,
	    &fa), 0);
	ck_assert_int_eq(fid.count, k);
	ck_assert_int_eq(fid.since, t0);
	ck_assert_int_eq(fa.count, k);
	ck_assert_int_eq(fa.since, t0);
	/* over it: wait until the window opened at t0 ends */
	ck_assert_int_eq(mca_passcode_wait(fid.count, fid.since, k, w,
	    t0 + 10), w - 10);
	/* other addresses and IDs have their own counts */
	ck_assert_int_eq(mca_ledger_failures_get(l, "ZZZZZZZZ", "192.0.2.2",
	    &fid, &fa), 0);
	ck_assert_int_eq(fid.count + fa.count, 0);
	/* an unknown ID is not counted (there is no row for it) */
	ck_assert_int_eq(mca_ledger_failures_add(l, "ZZZZZZZZ", NULL, t0, w),
	    0);
	ck_assert_int_eq(mca_ledger_failures_get(l, "ZZZZZZZZ", NULL, &fid,
	    &fa), 0);
	ck_assert_int_eq(fid.count, 0);
	/* NULL for both counts nothing; a bad window is refused */
	ck_assert_int_eq(mca_ledger_failures_add(l, NULL, NULL, t0, w), 0);
	ck_assert_int_eq(mca_ledger_failures_add(l, ID, NULL, t0, 0),
	    MCA_ERR_INVAL);
	ck_assert_int_eq(mca_ledger_failures_get(l, ID, NULL, NULL, &fa),
	    MCA_ERR_INVAL);
	/* after the window: a new one, opened by the next failure */
	ck_assert_int_eq(mca_ledger_failures_add(l, ID, "192.0.2.1", t0 + w,
	    w), 0);
	ck_assert_int_eq(mca_ledger_failures_get(l, ID, "192.0.2.1", &fid,
	    &fa), 0);
	ck_assert_int_eq(fid.count, 1);
	ck_assert_int_eq(fid.since, t0 + w);
	ck_assert_int_eq(fa.count, 1);
	ck_assert_int_eq(fa.since, t0 + w);
	ck_assert_int_eq(mca_passcode_wait(fid.count, fid.since, k, w,
	    t0 + w), 0);
	/* the clock went back: the window from the future is replaced */
	ck_assert_int_eq(mca_ledger_failures_add(l, ID, NULL, t0, w), 0);
	ck_assert_int_eq(mca_ledger_failures_get(l, ID, NULL, &fid, &fa), 0);
	ck_assert_int_eq(fid.count, 1);
	ck_assert_int_eq(fid.since, t0);
	mca_ledger_close(l);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Address rows are bounded: ended windows go, then the oldest. */
START_TEST(test_budget_rows)
{
	struct mca_ledger_failures	 fid, fa;
	struct mca_ledger		*l;
	struct mca_buf			 out = MCA_BUF_INIT;
	char				*dir, a[32];
	const long long			 t0 = 1700000000, w = 60;
	int				 i;

	l = budget_ledger(&dir);
	for (i = 0; i < MCA_LEDGER_ADDR_ROWS + 10; i++) {
		(void)snprintf(a, sizeof(a), "10.0.%d.%d", i / 256, i % 256);
		ck_assert_int_eq(mca_ledger_failures_add(l, NULL, a,
		    t0 + i / 100, w), 0);
	}
	ck_assert_int_eq(tu_sh(&out, "'%s' '%s/ledger.db' 'SELECT count(*), "
	    "min(since) FROM address_failures'", getenv("SQLITE3"), dir), 0);
	ck_assert_str_eq(mca_buf_str(&out), "4096|1700000000\n");
	/* the first ten went, the newest is there */
	ck_assert_int_eq(mca_ledger_failures_get(l, NULL, "10.0.0.9", &fid,
	    &fa), 0);
	ck_assert_int_eq(fa.count, 0);
	ck_assert_int_eq(mca_ledger_failures_get(l, NULL, "10.0.0.10", &fid,
	    &fa), 0);
	ck_assert_int_eq(fa.count, 1);
	/* a failure after every window has ended leaves one row */
	ck_assert_int_eq(mca_ledger_failures_add(l, NULL, "10.9.9.9",
	    t0 + 10000, w), 0);
	mca_buf_reset(&out);
	ck_assert_int_eq(tu_sh(&out, "'%s' '%s/ledger.db' 'SELECT count(*) "
	    "FROM address_failures'", getenv("SQLITE3"), dir), 0);
	ck_assert_str_eq(mca_buf_str(&out), "1\n");
	mca_buf_free(&out);
	mca_ledger_close(l);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

static Suite *
passcode_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("passcode");
	tc = tcase_create("passcode");
	tcase_add_test(tc, test_new);
	tcase_add_loop_test(tc, test_parse, 0,
	    (int)(sizeof(pcases) / sizeof(pcases[0])));
	tcase_add_test(tc, test_parse_edges);
	tcase_add_test(tc, test_hash_verify);
	tcase_add_test(tc, test_rfc7914);
	tcase_add_loop_test(tc, test_bad_stored, 0,
	    (int)(sizeof(bad_stored) / sizeof(bad_stored[0])));
	tcase_add_test(tc, test_tampered);
	suite_add_tcase(s, tc);

	tc = tcase_create("budget");
	tcase_add_loop_test(tc, test_wait, 0,
	    (int)(sizeof(wcases) / sizeof(wcases[0])));
	tcase_add_loop_test(tc, test_addr_key, 0,
	    (int)(sizeof(acases) / sizeof(acases[0])));
	tcase_add_test(tc, test_addr_key_edges);
	tcase_add_test(tc, test_budget_ledger);
	tcase_add_test(tc, test_budget_rows);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(passcode_suite());
}
