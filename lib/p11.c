#include "config.h"

#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libp11.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "err.h"
#include "p11.h"

struct mca_p11 {
	PKCS11_CTX	*ctx;
	PKCS11_SLOT	*slots;
	unsigned int	 nslots;
	int		 loaded;
};

/*
 * Web servers start all their workers at once, and each one loads the
 * module and logs in. SoftHSMv2 reads its token files without a lock of
 * its own, so processes doing this together see half-written files and
 * fail to list slots or tokens. The opening is serialised across
 * processes by a lock on the module file itself, which every user of
 * the module can read. Waits at most 10 s, then goes on without it (an
 * unrelated process holding the lock must not stop the CA).
 * Returns the locked descriptor, or -1.
 */
static int
open_lock(const char *module)
{
	struct timespec	 step = { 0, 2 * 1000 * 1000 };
	int		 fd, i;

	if ((fd = open(module, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (i = 0; i < 5000; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		nanosleep(&step, NULL);
	}
	close(fd);
	return -1;
}

/* 1 if token has an object of this kind labelled label. */
static int
token_has_key(PKCS11_TOKEN *tok, const char *label, int private,
    PKCS11_KEY **found)
{
	PKCS11_KEY	*keys = NULL;
	unsigned int	 n = 0, i;
	int		 r;

	*found = NULL;
	r = private ? PKCS11_enumerate_keys(tok, &keys, &n) :
	    PKCS11_enumerate_public_keys(tok, &keys, &n);
	if (r != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (keys[i].label != NULL && strcmp(keys[i].label, label) == 0) {
			*found = &keys[i];
			return 1;
		}
	return 0;
}

int
mca_p11_open(const char *module, const char *label, const char *pin,
    struct mca_p11 **out, EVP_PKEY **key, struct mca_diag *d)
{
	struct mca_p11	*p = NULL;
	PKCS11_SLOT	*slot = NULL, *s;
	PKCS11_KEY	*k = NULL;
	unsigned int	 i, ntok = 0;
	int		 rc = MCA_ERR_PKCS11, lock = -1;

	*out = NULL;
	*key = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return MCA_ERR_NOMEM;
	lock = open_lock(module);
	/* Failures below append libp11's reason from the queue. */
	ERR_clear_error();
	if ((p->ctx = PKCS11_CTX_new()) == NULL) {
		rc = mca_diag_crypto(d, MCA_ERR_NOMEM, "PKCS#11 context");
		goto out;
	}
	if (PKCS11_CTX_load(p->ctx, module) != 0) {
		rc = mca_diag_crypto(d, MCA_ERR_PKCS11,
		    "cannot load PKCS#11 module %s", module);
		goto out;
	}
	p->loaded = 1;
	if (PKCS11_enumerate_slots(p->ctx, &p->slots, &p->nslots) != 0) {
		rc = mca_diag_crypto(d, MCA_ERR_PKCS11,
		    "%s: cannot list slots", module);
		goto out;
	}
	/*
	 * Pick the token by the key's public half, which is visible without
	 * logging in: a PIN tried on the wrong token counts against that
	 * token's retry limit, and enough of those lock it.
	 */
	for (i = 0; i < p->nslots; i++) {
		s = &p->slots[i];
		if (s->token == NULL || !s->token->initialized)
			continue;
		ntok++;
		if (slot == NULL && token_has_key(s->token, label, 0, &k))
			slot = s;
	}
	if (ntok == 0) {
		rc = mca_diag(d, MCA_ERR_NOTFOUND,
		    "%s: no initialised token in any slot", module);
		goto out;
	}
	if (slot == NULL) {
		/* No public object: only guess when there is one token. */
		if (ntok > 1) {
			rc = mca_diag(d, MCA_ERR_NOTFOUND, "%s: no token has a "
			    "public key labelled \"%s\"; with %u tokens, "
			    "refusing to try the PIN on each", module, label,
			    ntok);
			goto out;
		}
		for (i = 0; i < p->nslots && slot == NULL; i++)
			if (p->slots[i].token != NULL &&
			    p->slots[i].token->initialized)
				slot = &p->slots[i];
	}
	if (PKCS11_open_session(slot, 0) != 0) {
		rc = mca_diag_crypto(d, MCA_ERR_PKCS11, "%s: token \"%s\": "
		    "cannot open a session", module, slot->token->label);
		goto out;
	}
	if (slot->token->loginRequired && PKCS11_login(slot, 0, pin) != 0) {
		rc = mca_diag_crypto(d, MCA_ERR_PKCS11, "%s: token \"%s\": "
		    "login failed (wrong pkcs11_library_pin?)", module,
		    slot->token->label);
		goto out;
	}
	if (!token_has_key(slot->token, label, 1, &k)) {
		rc = mca_diag(d, MCA_ERR_NOTFOUND, "%s: token \"%s\" has no "
		    "private key labelled \"%s\"", module,
		    slot->token->label, label);
		goto out;
	}
	if ((*key = PKCS11_get_private_key(k)) == NULL) {
		rc = mca_diag_crypto(d, MCA_ERR_PKCS11, "%s: token \"%s\": "
		    "cannot use private key \"%s\"", module,
		    slot->token->label, label);
		goto out;
	}
	*out = p;
	p = NULL;
	rc = 0;
out:
	/* What the walk over slots and keys queued is no failure of ours. */
	ERR_clear_error();
	mca_p11_close(p);
	if (lock != -1)
		close(lock);
	return rc;
}

void
mca_p11_close(struct mca_p11 *p)
{
	if (p == NULL)
		return;
	if (p->slots != NULL)
		PKCS11_release_all_slots(p->ctx, p->slots, p->nslots);
	if (p->loaded)
		PKCS11_CTX_unload(p->ctx);
	if (p->ctx != NULL)
		PKCS11_CTX_free(p->ctx);
	free(p);
}
