/*
 * Enrollment passcodes: one-time (or N-time) secrets that let a device
 * with no bootstrap certificate enroll over HTTP Basic, as DigiCert's
 * EST service offers.
 *
 * A passcode reads "<ID>.<SECRET>": ID is 8 characters (40 bits) and
 * public, the ledger's key for the one row to check; SECRET is 26
 * characters (130 bits). Both are Crockford base32 (digits and letters
 * without I L O U), which survives reading aloud and typing: case does
 * not matter, O reads as 0, I and L as 1, and '-' may be typed anywhere
 * to group characters. The '.' may be left out too (the ID is always 8
 * characters).
 *
 * Only a salted scrypt hash of SECRET is stored, with its parameters, in
 * the form "$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>" (base64), so
 * that the cost can be raised later without invalidating old rows.
 */
#ifndef MCA_PASSCODE_H
#define MCA_PASSCODE_H

#include <stddef.h>

#include "err.h"

#define MCA_PASSCODE_ID_LEN	8	/* 40 bits */
#define MCA_PASSCODE_SECRET_LEN	26	/* 130 bits */
/* "<ID>.<SECRET>" */
#define MCA_PASSCODE_LEN	(MCA_PASSCODE_ID_LEN + 1 + \
				    MCA_PASSCODE_SECRET_LEN)
/* Longest stored hash we write or read back. */
#define MCA_PASSCODE_HASH_MAX	256
/* Longest text handed to the parsers (typed input, Basic fields). */
#define MCA_PASSCODE_INPUT_MAX	256

/*
 * Default scrypt cost: N = 2^11, r = 8, p = 1, i.e. 2 MiB of memory and
 * about 4 ms per hash on a 2020s x86 core (8 ms at 2^12). The secret has
 * 130 bits of entropy, so the slow hash is a second line of defence for
 * a stolen ledger, not the first; what matters per request is that a
 * burst of wrong passcodes cannot tie up the workers.
 */
#define MCA_PASSCODE_SCRYPT_LN	11
#define MCA_PASSCODE_SCRYPT_R	8
#define MCA_PASSCODE_SCRYPT_P	1

/* An ID and a SECRET, both canonical (upper case, no separators). */
struct mca_passcode {
	char	 id[MCA_PASSCODE_ID_LEN + 1];
	char	 secret[MCA_PASSCODE_SECRET_LEN + 1];	/* wipe after use */
};

/*
 * Draws a new passcode from the OpenSSL DRBG (RAND_priv_bytes).
 * Returns 0 or MCA_ERR_CRYPTO.
 */
int	 mca_passcode_new(struct mca_passcode *pc);

/*
 * Writes "<ID>.<SECRET>" of pc into out (at least MCA_PASSCODE_LEN + 1
 * bytes). Returns 0 or MCA_ERR_TOOBIG.
 */
int	 mca_passcode_format(const struct mca_passcode *pc, char *out,
	    size_t outlen);

/*
 * Parses typed or received text into pc. s is a whole passcode
 * ("<ID>.<SECRET>", '.' optional); or, when user is not NULL, user may be
 * the ID and s the SECRET alone (what "curl -u ID:SECRET" sends). A user
 * given alongside a whole passcode is ignored (it may name the device).
 * Returns 0, MCA_ERR_TOOBIG (over MCA_PASSCODE_INPUT_MAX) or
 * MCA_ERR_INVAL (a character outside the alphabet, or the wrong length).
 */
int	 mca_passcode_parse(const char *user, const char *s,
	    struct mca_passcode *pc);

/*
 * Parses an ID alone (microca-admin passcode revoke ID) into id
 * (MCA_PASSCODE_ID_LEN + 1 bytes), canonical. 0, MCA_ERR_INVAL or
 * MCA_ERR_TOOBIG.
 */
int	 mca_passcode_parse_id(const char *s, char *id, size_t idlen);

/*
 * Hashes a canonical secret with a new random salt and the given scrypt
 * cost (ln = log2 N) into out, in the stored form above. Returns 0,
 * MCA_ERR_INVAL (cost out of the range verify accepts), MCA_ERR_TOOBIG
 * (out too small) or MCA_ERR_CRYPTO.
 */
int	 mca_passcode_hash(const char *secret, int ln, int r, int p,
	    char *out, size_t outlen);

/*
 * Checks a canonical secret against a stored hash, in constant time
 * (CRYPTO_memcmp). Returns 0 (it matches), MCA_ERR_AUTH (it does not),
 * MCA_ERR_INVAL (the stored form is malformed or its cost is outside
 * 2^10..2^20, r 1..32, p 1..16, 64 MiB) or MCA_ERR_CRYPTO.
 */
int	 mca_passcode_verify(const char *secret, const char *stored);

/* Wipes pc (NULL-safe). */
void	 mca_passcode_clear(struct mca_passcode *pc);

/*
 * Failure budgets: each wrong secret costs the server one scrypt hash,
 * so a client may only have so many checked. After max failures in a
 * window of window seconds opened by the first (at since), no check is
 * made until the window ends.
 */

/* Longest client address key (mca_passcode_addr_key), with its NUL. */
#define MCA_PASSCODE_ADDR_MAX	64

/*
 * Seconds to wait before a check is allowed again, 0 if it is allowed
 * now: count failures in the window opened at since (0: none open), a
 * budget of max per window seconds (max 0: no budget), at now. A window
 * in the future (the clock went back) counts as ended. Never more than
 * window.
 */
long long mca_passcode_wait(long long count, long long since, long long max,
	    long long window, long long now);

/*
 * The key a client address is counted under: an IPv4 address as it is,
 * an IPv6 address by its /64 ("2001:db8:1:2::/64": one site's network,
 * whose interface IDs a client picks at will), an IPv4-mapped IPv6
 * address as IPv4. out holds MCA_PASSCODE_ADDR_MAX bytes. Returns 0 or
 * MCA_ERR_INVAL (NULL, not a numeric address, or out too small).
 */
int	 mca_passcode_addr_key(const char *addr, char *out, size_t outlen);

#endif
