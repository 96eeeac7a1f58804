/*
 * Secrets at rest: enc:v1 values, AES-256-GCM under a key file. See
 * secret.h for the format.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "secret.h"

#define PREFIX_LEN	(sizeof(MCA_SECRET_PREFIX) - 1)
#define BLOB_MIN	(MCA_SECRET_NONCE_LEN + 1 + MCA_SECRET_TAG_LEN)
#define BLOB_MAX	(MCA_SECRET_NONCE_LEN + MCA_SECRET_PLAIN_MAX + \
	MCA_SECRET_TAG_LEN)

/* The keys that may hold an enc:v1 value (issue 13, "Secrets at rest"). */
static const char *const secret_names[] = {
	"pkcs11_library_pin",			/* config.json */
	"upstream_password",			/* config.json */
	"scan_p12_passwords",			/* config.json, each */
	"service_account_client_secret",	/* APIconfig */
	"azure_hub_key",			/* APIconfig */
	"azurehubcreds",			/* APIconfig */
};

int
mca_secret_is_enc(const char *s, size_t len)
{
	return s != NULL && len >= PREFIX_LEN &&
	    memcmp(s, MCA_SECRET_PREFIX, PREFIX_LEN) == 0;
}

int
mca_secret_name_known(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return 0;
	for (i = 0; i < sizeof(secret_names) / sizeof(secret_names[0]); i++)
		if (strcmp(name, secret_names[i]) == 0)
			return 1;
	return 0;
}

/* A key name as associated data: 1 to MCA_SECRET_NAME_MAX of [A-Za-z0-9_.-]. */
static int
secret_name_ok(const char *name)
{
	size_t	 i, len;

	if (name == NULL || (len = strlen(name)) == 0 ||
	    len > MCA_SECRET_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '_' || name[i] == '.' || name[i] == '-'))
			return 0;
	return 1;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
mca_secret_key_clear(struct mca_secret_key *key)
{
	if (key == NULL)
		return;
	OPENSSL_cleanse(key->k, sizeof(key->k));
	key->loaded = 0;
}

int
mca_secret_key_load(const char *path, struct mca_secret_key *key,
    struct mca_diag *d)
{
	unsigned char	 buf[MCA_SECRET_KEYFILE_MAX + 1];
	struct stat	 st;
	size_t		 len = 0, i;
	ssize_t		 n;
	int		 fd = -1, rc = MCA_ERR_IO, hi, lo, serrno;

	mca_diag_clear(d);
	if (key != NULL)
		mca_secret_key_clear(key);
	if (key == NULL || path == NULL || *path == '\0')
		return mca_diag(d, MCA_ERR_INVAL, "no key file");
	/* O_NONBLOCK: a FIFO without a writer cannot hang us in open(2). */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		serrno = errno;
		if (serrno == ELOOP)
			rc = mca_diag(d, MCA_ERR_POLICY, "%s: is a symbolic "
			    "link; name the key file itself", path);
		else
			rc = mca_diag(d, serrno == ENOENT ? MCA_ERR_NOTFOUND :
			    MCA_ERR_IO, "%s: %s", path, strerror(serrno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		rc = mca_diag(d, MCA_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = mca_diag(d, MCA_ERR_POLICY, "%s: not a regular file",
		    path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = mca_diag(d, MCA_ERR_POLICY, "%s: mode %04o: a key file "
		    "must not be open to group or others (chmod 600)", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		rc = mca_diag(d, MCA_ERR_POLICY, "%s: owned by uid %ld: a key "
		    "file must belong to root or to the user reading it "
		    "(uid %ld)", path, (long)st.st_uid, (long)geteuid());
		goto out;
	}
	if (st.st_size > MCA_SECRET_KEYFILE_MAX) {
		rc = mca_diag(d, MCA_ERR_TOOBIG, "%s: larger than %d bytes: "
		    "not a key file", path, MCA_SECRET_KEYFILE_MAX);
		goto out;
	}
	/* One byte past the cap tells a file that grew since fstat. */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = mca_diag(d, MCA_ERR_IO, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > MCA_SECRET_KEYFILE_MAX) {
		rc = mca_diag(d, MCA_ERR_TOOBIG, "%s: larger than %d bytes: "
		    "not a key file", path, MCA_SECRET_KEYFILE_MAX);
		goto out;
	}
	rc = MCA_ERR_INVAL;
	if (len == MCA_SECRET_KEY_LEN)
		memcpy(key->k, buf, MCA_SECRET_KEY_LEN);
	else if (len == 2 * MCA_SECRET_KEY_LEN ||
	    (len == 2 * MCA_SECRET_KEY_LEN + 1 && buf[len - 1] == '\n')) {
		for (i = 0; i < MCA_SECRET_KEY_LEN; i++) {
			if ((hi = hexval(buf[2 * i])) < 0 ||
			    (lo = hexval(buf[2 * i + 1])) < 0)
				break;
			key->k[i] = (unsigned char)(hi << 4 | lo);
		}
		if (i < MCA_SECRET_KEY_LEN)
			goto bad;
	} else
		goto bad;
	key->loaded = 1;
	rc = 0;
	goto out;
bad:
	rc = mca_diag(d, MCA_ERR_INVAL, "%s: not a key file (expected %d "
	    "bytes, or %d hexadecimal digits and a newline)", path,
	    MCA_SECRET_KEY_LEN, 2 * MCA_SECRET_KEY_LEN);
out:
	if (rc != 0 && key != NULL)
		mca_secret_key_clear(key);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (fd != -1)
		(void)close(fd);
	return rc;
}

/* fsync(2) of the directory dir. 0 or -1. */
static int
secret_dir_sync(const char *dir)
{
	int	 fd, rc = -1;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fsync(fd) == 0)
		rc = 0;
	(void)close(fd);
	return rc;
}

int
mca_secret_keygen(const char *path, struct mca_diag *d)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 raw[MCA_SECRET_KEY_LEN];
	char			 text[2 * MCA_SECRET_KEY_LEN + 1];
	char			 tmp[PATH_MAX], dir[PATH_MAX];
	char			*slash;
	const char		*p;
	struct stat		 st;
	size_t			 i, left;
	ssize_t			 w;
	int			 fd = -1, rc = MCA_ERR_IO, n;

	mca_diag_clear(d);
	tmp[0] = '\0';
	if (path == NULL || *path == '\0' ||
	    path[strlen(path) - 1] == '/')
		return mca_diag(d, MCA_ERR_INVAL, "no key file name");
	n = snprintf(dir, sizeof(dir), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return mca_diag(d, MCA_ERR_INVAL, "%s: name too long", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (lstat(path, &st) == 0)
		return mca_diag(d, MCA_ERR_EXISTS, "%s: exists; a key file is "
		    "never replaced (the values made with it would be lost)",
		    path);
	if (errno != ENOENT)
		return mca_diag(d, MCA_ERR_IO, "%s: %s", path,
		    strerror(errno));
	n = snprintf(tmp, sizeof(tmp), "%s/.microca-key.XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		tmp[0] = '\0';
		rc = mca_diag(d, MCA_ERR_INVAL, "%s: name too long", path);
		goto out;
	}
	if (RAND_priv_bytes(raw, sizeof(raw)) != 1) {
		tmp[0] = '\0';
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "%s: no random bytes",
		    path);
		goto out;
	}
	for (i = 0; i < sizeof(raw); i++) {
		text[2 * i] = hex[raw[i] >> 4];
		text[2 * i + 1] = hex[raw[i] & 0xf];
	}
	text[sizeof(text) - 1] = '\n';
	/* mkstemp(3) creates the file 0600 whatever the umask. */
	if ((fd = mkstemp(tmp)) == -1) {
		rc = mca_diag(d, MCA_ERR_IO, "%s: cannot create a file in %s: "
		    "%s", path, dir, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	for (p = text, left = sizeof(text); left > 0; ) {
		w = write(fd, p, left);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = mca_diag(d, MCA_ERR_IO, "%s: write: %s", tmp,
			    w == 0 ? "no progress" : strerror(errno));
			goto out;
		}
		p += w;
		left -= (size_t)w;
	}
	if (fchmod(fd, S_IRUSR | S_IWUSR) == -1 || fsync(fd) == -1) {
		rc = mca_diag(d, MCA_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = mca_diag(d, MCA_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	/* link(2), unlike rename(2), never replaces what is there. */
	if (link(tmp, path) == -1) {
		rc = mca_diag(d, errno == EEXIST ? MCA_ERR_EXISTS : MCA_ERR_IO,
		    "%s: %s", path, errno == EEXIST ? "exists; a key file "
		    "is never replaced" : strerror(errno));
		goto out;
	}
	if (secret_dir_sync(dir) == -1) {
		rc = mca_diag(d, MCA_ERR_IO, "%s: written, but its directory "
		    "%s could not be flushed: %s", path, dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(text, sizeof(text));
	if (fd != -1)
		(void)close(fd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	return rc;
}

int
mca_secret_encrypt(const struct mca_secret_key *key, const char *name,
    const char *plain, size_t len, char **out, struct mca_diag *d)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	unsigned char	 blob[BLOB_MAX];
	struct mca_buf	 b = MCA_BUF_INIT;
	int		 n, m, rc = MCA_ERR_INTERNAL;

	mca_diag_clear(d);
	if (out != NULL)
		*out = NULL;
	if (key == NULL || !key->loaded || out == NULL || plain == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "no key, value or output");
	if (!secret_name_ok(name))
		return mca_diag(d, MCA_ERR_INVAL, "the name must be 1 to %d "
		    "letters, digits, '_', '.' or '-'", MCA_SECRET_NAME_MAX);
	if (len == 0)
		return mca_diag(d, MCA_ERR_INVAL, "the value is empty");
	if (len > MCA_SECRET_PLAIN_MAX)
		return mca_diag(d, MCA_ERR_TOOBIG, "the value is longer than "
		    "%d bytes", MCA_SECRET_PLAIN_MAX);
	if (memchr(plain, '\0', len) != NULL)
		return mca_diag(d, MCA_ERR_INVAL, "the value contains a NUL "
		    "byte");

	/* SP 800-38D 8.2.2: a random 96-bit IV, never reused by chance. */
	if (RAND_bytes(blob, MCA_SECRET_NONCE_LEN) != 1) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "no random bytes");
		goto out;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
	    MCA_SECRET_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key->k, blob) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)name,
	    (int)strlen(name)) != 1 ||
	    EVP_EncryptUpdate(ctx, blob + MCA_SECRET_NONCE_LEN, &n,
	    (const unsigned char *)plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, blob + MCA_SECRET_NONCE_LEN + n,
	    &m) != 1 || (size_t)n + (size_t)m != len ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, MCA_SECRET_TAG_LEN,
	    blob + MCA_SECRET_NONCE_LEN + len) != 1) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "AES-256-GCM "
		    "encryption failed");
		goto out;
	}
	if ((rc = mca_buf_addstr(&b, MCA_SECRET_PREFIX)) != 0 ||
	    (rc = mca_b64_encode(blob, MCA_SECRET_NONCE_LEN + len +
	    MCA_SECRET_TAG_LEN, 0, &b)) != 0) {
		rc = mca_diag(d, rc, "%s", mca_strerror(rc));
		goto out;
	}
	*out = (char *)b.data;
	b.data = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	mca_buf_free(&b);
	OPENSSL_cleanse(blob, sizeof(blob));
	return rc;
}

int
mca_secret_decrypt(const struct mca_secret_key *key, const char *name,
    const char *enc, size_t len, char **out, size_t *outlen,
    struct mca_diag *d)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	struct mca_buf	 blob = MCA_BUF_INIT;
	unsigned char	*pt = NULL, tag[MCA_SECRET_TAG_LEN];
	const char	*body;
	size_t		 blen, i, ptlen = 0;
	int		 n, m, rc = MCA_ERR_INTERNAL;

	mca_diag_clear(d);
	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (key == NULL || !key->loaded || out == NULL || enc == NULL)
		return mca_diag(d, MCA_ERR_INVAL, "no key, value or output");
	if (!secret_name_ok(name))
		return mca_diag(d, MCA_ERR_INVAL, "the name must be 1 to %d "
		    "letters, digits, '_', '.' or '-'", MCA_SECRET_NAME_MAX);
	if (!mca_secret_is_enc(enc, len))
		return mca_diag(d, MCA_ERR_INVAL, "not an " MCA_SECRET_PREFIX
		    " value");
	if (len > MCA_SECRET_ENC_MAX)
		return mca_diag(d, MCA_ERR_TOOBIG, "longer than %zu bytes: "
		    "not an " MCA_SECRET_PREFIX " value", MCA_SECRET_ENC_MAX);
	body = enc + PREFIX_LEN;
	blen = len - PREFIX_LEN;
	/* One line of the base64 alphabet: no whitespace, nothing else. */
	for (i = 0; i < blen; i++)
		if (!((body[i] >= 'A' && body[i] <= 'Z') ||
		    (body[i] >= 'a' && body[i] <= 'z') ||
		    (body[i] >= '0' && body[i] <= '9') || body[i] == '+' ||
		    body[i] == '/' || body[i] == '='))
			break;
	if (i < blen || mca_b64_decode(body, blen, &blob) != 0) {
		rc = mca_diag(d, MCA_ERR_INVAL, "not an " MCA_SECRET_PREFIX
		    " value (bad base64)");
		goto out;
	}
	if (blob.len < BLOB_MIN || blob.len > BLOB_MAX) {
		rc = mca_diag(d, MCA_ERR_INVAL, "not an " MCA_SECRET_PREFIX
		    " value (%zu bytes after base64; %d to %d expected)",
		    blob.len, (int)BLOB_MIN, (int)BLOB_MAX);
		goto out;
	}
	ptlen = blob.len - MCA_SECRET_NONCE_LEN - MCA_SECRET_TAG_LEN;
	memcpy(tag, blob.data + blob.len - MCA_SECRET_TAG_LEN, sizeof(tag));
	if ((pt = malloc(ptlen + 1)) == NULL) {
		rc = mca_diag(d, MCA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
	    MCA_SECRET_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key->k, blob.data) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)name,
	    (int)strlen(name)) != 1 ||
	    EVP_DecryptUpdate(ctx, pt, &n, blob.data + MCA_SECRET_NONCE_LEN,
	    (int)ptlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, MCA_SECRET_TAG_LEN,
	    tag) != 1) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "AES-256-GCM "
		    "decryption failed");
		goto out;
	}
	/* SP 800-38D 7.2: nothing of the plaintext counts until the tag does. */
	if (EVP_DecryptFinal_ex(ctx, pt + n, &m) != 1 ||
	    (size_t)n + (size_t)m != ptlen) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "the value does not "
		    "verify: encrypted with another key or for another name, "
		    "or altered");
		goto out;
	}
	if (memchr(pt, '\0', ptlen) != NULL) {
		rc = mca_diag(d, MCA_ERR_INVAL, "the value contains a NUL "
		    "byte");
		goto out;
	}
	pt[ptlen] = '\0';
	*out = (char *)pt;
	pt = NULL;
	if (outlen != NULL)
		*outlen = ptlen;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (pt != NULL) {
		OPENSSL_cleanse(pt, ptlen + 1);
		free(pt);
	}
	mca_buf_free(&blob);
	OPENSSL_cleanse(tag, sizeof(tag));
	return rc;
}
