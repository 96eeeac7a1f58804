/*
 * Enrollment passcodes: drawing, typing-proof parsing, and the stored
 * scrypt hash (see passcode.h). The secret is wiped wherever a copy of
 * it is made.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "num.h"
#include "passcode.h"

#define SCRYPT_PREFIX	"$scrypt$"
#define SALT_LEN	16
#define HASH_LEN	32
/* What verify accepts from a stored row (ours or raised later). */
#define LN_MIN		10
#define LN_MAX		20
#define R_MAX		32
#define P_MAX		16
#define SALT_MIN	8
#define DK_MIN		16
#define DK_MAX		64
#define SCRYPT_MAXMEM	(64u * 1024u * 1024u)

/* Crockford base32: no I, L, O, U. */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/*
 * The canonical character for a typed one, '\0' to skip it (the group
 * separator '-' and the ID separator '.'), or -1 if it is not ours.
 */
static int
canon(unsigned char c)
{
	if (c == '-' || c == '.')
		return '\0';
	if (c >= 'a' && c <= 'z')
		c = (unsigned char)(c - 'a' + 'A');
	if (c == 'O')
		return '0';
	if (c == 'I' || c == 'L')
		return '1';
	if (c == 'U' || c == '\0' || strchr(crockford, c) == NULL)
		return -1;
	return c;
}

/*
 * Canonical form of s into out (room for cap characters and a NUL);
 * *n is its length. 0, MCA_ERR_TOOBIG or MCA_ERR_INVAL.
 */
static int
normalise(const char *s, char *out, size_t cap, size_t *n)
{
	size_t	 i, len;
	int	 c;

	*n = 0;
	out[0] = '\0';
	if ((len = strnlen(s, MCA_PASSCODE_INPUT_MAX + 1)) >
	    MCA_PASSCODE_INPUT_MAX)
		return MCA_ERR_TOOBIG;
	for (i = 0; i < len; i++) {
		if ((c = canon((unsigned char)s[i])) == -1)
			return MCA_ERR_INVAL;
		if (c == '\0')
			continue;
		if (*n >= cap)
			return MCA_ERR_INVAL;	/* too long to be ours */
		out[(*n)++] = (char)c;
	}
	out[*n] = '\0';
	return 0;
}

void
mca_passcode_clear(struct mca_passcode *pc)
{
	if (pc != NULL)
		OPENSSL_cleanse(pc, sizeof(*pc));
}

int
mca_passcode_new(struct mca_passcode *pc)
{
	unsigned char	 r[MCA_PASSCODE_ID_LEN + MCA_PASSCODE_SECRET_LEN];
	size_t		 i;
	int		 rc = MCA_ERR_CRYPTO;

	memset(pc, 0, sizeof(*pc));
	/* One byte per character: 256 is a multiple of 32, so no bias. */
	if (RAND_priv_bytes(r, sizeof(r)) != 1) {
		ERR_clear_error();
		goto out;
	}
	for (i = 0; i < MCA_PASSCODE_ID_LEN; i++)
		pc->id[i] = crockford[r[i] & 31];
	for (i = 0; i < MCA_PASSCODE_SECRET_LEN; i++)
		pc->secret[i] = crockford[r[MCA_PASSCODE_ID_LEN + i] & 31];
	rc = 0;
out:
	OPENSSL_cleanse(r, sizeof(r));
	return rc;
}

int
mca_passcode_format(const struct mca_passcode *pc, char *out, size_t outlen)
{
	int	 n;

	n = snprintf(out, outlen, "%s.%s", pc->id, pc->secret);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			OPENSSL_cleanse(out, outlen);
		return MCA_ERR_TOOBIG;
	}
	return 0;
}

int
mca_passcode_parse_id(const char *s, char *id, size_t idlen)
{
	char	 buf[MCA_PASSCODE_ID_LEN + 1];
	size_t	 n;
	int	 rc;

	if (idlen > 0)
		id[0] = '\0';
	if (s == NULL || idlen < sizeof(buf))
		return MCA_ERR_INVAL;
	if ((rc = normalise(s, buf, MCA_PASSCODE_ID_LEN, &n)) != 0)
		return rc;
	if (n != MCA_PASSCODE_ID_LEN)
		return MCA_ERR_INVAL;
	memcpy(id, buf, sizeof(buf));
	return 0;
}

int
mca_passcode_parse(const char *user, const char *s, struct mca_passcode *pc)
{
	char	 buf[MCA_PASSCODE_ID_LEN + MCA_PASSCODE_SECRET_LEN + 1];
	size_t	 n;
	int	 rc;

	mca_passcode_clear(pc);
	if (s == NULL)
		return MCA_ERR_INVAL;
	if ((rc = normalise(s, buf, sizeof(buf) - 1, &n)) != 0)
		goto out;
	if (n == MCA_PASSCODE_ID_LEN + MCA_PASSCODE_SECRET_LEN) {
		/* A whole passcode: any user-id is the client's business. */
		memcpy(pc->id, buf, MCA_PASSCODE_ID_LEN);
		memcpy(pc->secret, buf + MCA_PASSCODE_ID_LEN,
		    MCA_PASSCODE_SECRET_LEN);
	} else if (n == MCA_PASSCODE_SECRET_LEN && user != NULL) {
		/* user-id = ID, password = SECRET. */
		memcpy(pc->secret, buf, MCA_PASSCODE_SECRET_LEN);
		if ((rc = mca_passcode_parse_id(user, pc->id,
		    sizeof(pc->id))) != 0)
			goto out;
	} else {
		rc = MCA_ERR_INVAL;
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc != 0)
		mca_passcode_clear(pc);
	return rc;
}

/* 1 if the cost is one verify accepts (and so one we may write). */
static int
cost_ok(long long ln, long long r, long long p)
{
	if (ln < LN_MIN || ln > LN_MAX || r < 1 || r > R_MAX || p < 1 ||
	    p > P_MAX)
		return 0;
	/* scrypt needs about 128 * r * (N + p) bytes. */
	return 128ULL * (unsigned long long)r *
	    ((1ULL << ln) + (unsigned long long)p) <= SCRYPT_MAXMEM;
}

/* scrypt(secret, salt) into dk[0..dklen). 0 or MCA_ERR_CRYPTO. */
static int
derive(const char *secret, const unsigned char *salt, size_t saltlen,
    int ln, int r, int p, unsigned char *dk, size_t dklen)
{
	EVP_KDF		*kdf = NULL;
	EVP_KDF_CTX	*ctx = NULL;
	OSSL_PARAM	 params[7];
	uint64_t	 n = (uint64_t)1 << ln, maxmem = SCRYPT_MAXMEM;
	uint32_t	 ur = (uint32_t)r, up = (uint32_t)p;
	int		 rc = MCA_ERR_CRYPTO;

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	    (void *)secret, strlen(secret));
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, saltlen);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &ur);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &up);
	params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM,
	    &maxmem);
	params[6] = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_derive(ctx, dk, dklen, params) != 1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		ERR_clear_error();
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int
mca_passcode_hash(const char *secret, int ln, int r, int p, char *out,
    size_t outlen)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	unsigned char	 salt[SALT_LEN], dk[HASH_LEN];
	int		 rc = MCA_ERR_INVAL;

	if (outlen > 0)
		out[0] = '\0';
	if (secret == NULL || !cost_ok(ln, r, p))
		goto out;
	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		ERR_clear_error();
		rc = MCA_ERR_CRYPTO;
		goto out;
	}
	if ((rc = derive(secret, salt, sizeof(salt), ln, r, p, dk,
	    sizeof(dk))) != 0)
		goto out;
	if ((rc = mca_buf_printf(&b, SCRYPT_PREFIX "ln=%d,r=%d,p=%d$", ln, r,
	    p)) != 0 ||
	    (rc = mca_b64_encode(salt, sizeof(salt), 0, &b)) != 0 ||
	    (rc = mca_buf_addc(&b, '$')) != 0 ||
	    (rc = mca_b64_encode(dk, sizeof(dk), 0, &b)) != 0)
		goto out;
	if (b.len >= outlen) {
		rc = MCA_ERR_TOOBIG;
		goto out;
	}
	memcpy(out, b.data, b.len + 1);
	rc = 0;
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	mca_buf_free(&b);
	return rc;
}

/*
 * Reads "<key>=<number>" at *s, followed by the character sep, and moves
 * *s past sep. 0 or MCA_ERR_INVAL.
 */
static int
param(const char **s, const char *key, char sep, long long max,
    long long *v)
{
	const char	*e;
	size_t		 klen = strlen(key);

	if (strncmp(*s, key, klen) != 0 || (*s)[klen] != '=')
		return MCA_ERR_INVAL;
	*s += klen + 1;
	if ((e = strchr(*s, sep)) == NULL ||
	    mca_num_parse(*s, (size_t)(e - *s), 0, max, v) != 0)
		return MCA_ERR_INVAL;
	*s = e + 1;
	return 0;
}

int
mca_passcode_verify(const char *secret, const char *stored)
{
	struct mca_buf	 salt = MCA_BUF_INIT, want = MCA_BUF_INIT;
	unsigned char	 dk[DK_MAX];
	const char	*s, *e;
	long long	 ln, r, p;
	int		 rc = MCA_ERR_INVAL;

	if (secret == NULL || stored == NULL ||
	    strnlen(stored, MCA_PASSCODE_HASH_MAX) >= MCA_PASSCODE_HASH_MAX ||
	    strpbrk(stored, " \t\r\n") != NULL ||
	    strncmp(stored, SCRYPT_PREFIX, strlen(SCRYPT_PREFIX)) != 0)
		goto out;
	s = stored + strlen(SCRYPT_PREFIX);
	if (param(&s, "ln", ',', LN_MAX, &ln) != 0 ||
	    param(&s, "r", ',', R_MAX, &r) != 0 ||
	    param(&s, "p", '$', P_MAX, &p) != 0 || !cost_ok(ln, r, p))
		goto out;
	if ((e = strchr(s, '$')) == NULL ||
	    mca_b64_decode(s, (size_t)(e - s), &salt) != 0 ||
	    salt.len < SALT_MIN || salt.len > DK_MAX)
		goto out;
	s = e + 1;
	/* mca_b64_decode skips blanks: refused above, with any other '$'. */
	if (strchr(s, '$') != NULL ||
	    mca_b64_decode(s, strlen(s), &want) != 0 ||
	    want.len < DK_MIN || want.len > DK_MAX)
		goto out;
	if ((rc = derive(secret, salt.data, salt.len, (int)ln, (int)r,
	    (int)p, dk, want.len)) != 0)
		goto out;
	rc = CRYPTO_memcmp(dk, want.data, want.len) == 0 ? 0 : MCA_ERR_AUTH;
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	mca_buf_free(&salt);
	mca_buf_free(&want);
	return rc;
}

long long
mca_passcode_wait(long long count, long long since, long long max,
    long long window, long long now)
{
	if (max <= 0 || window <= 0 || count < max || since <= 0 ||
	    since > now || now - since >= window)
		return 0;
	return since + window - now;
}

int
mca_passcode_addr_key(const char *addr, char *out, size_t outlen)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	const char	*r;
	size_t		 n;

	if (outlen > 0)
		out[0] = '\0';
	if (addr == NULL || outlen < MCA_PASSCODE_ADDR_MAX ||
	    strnlen(addr, MCA_PASSCODE_ADDR_MAX) >= MCA_PASSCODE_ADDR_MAX)
		return MCA_ERR_INVAL;
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		r = inet_ntop(AF_INET, &a4, out, (socklen_t)outlen);
		return r != NULL ? 0 : MCA_ERR_INVAL;
	}
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return MCA_ERR_INVAL;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
		r = inet_ntop(AF_INET, &a4, out, (socklen_t)outlen);
		return r != NULL ? 0 : MCA_ERR_INVAL;
	}
	/* RFC 4291 2.5.1: the low 64 bits are the interface ID. */
	memset(&a6.s6_addr[8], 0, 8);
	if (inet_ntop(AF_INET6, &a6, out, (socklen_t)(outlen - 3)) == NULL)
		return MCA_ERR_INVAL;
	/* At most 39 characters and "/64": room was left. */
	n = strlen(out);
	(void)snprintf(out + n, outlen - n, "/64");
	return 0;
}
