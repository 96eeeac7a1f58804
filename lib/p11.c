#include "config.h"

#include <sys/file.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libp11.h>
#include <p11-kit/pkcs11.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "err.h"
#include "keyspec.h"
#include "p11.h"

#define LABEL_MAX	127	/* bytes of a label we make or list */
#define ID_LEN		20	/* bytes of a CKA_ID we make */
#define ATTR_MAX	(16u * 1024u)	/* bytes of one attribute we read */

struct mca_p11 {
	PKCS11_CTX	*ctx;
	PKCS11_SLOT	*slots;
	unsigned int	 nslots;
	int		 loaded;
	PKCS11_SLOT	*slot;		/* the token's, once logged in */
	char		*module;
	/* The raw PKCS#11 calls: the same module, its own session. */
	void		*dl;
	CK_FUNCTION_LIST_PTR f;
	CK_SESSION_HANDLE sess;
	int		 sess_rw;
};

/*
 * Web servers start all their workers at once, and each one loads the
 * module and logs in. SoftHSMv2 reads its token files without a lock of
 * its own, so processes doing this together see half-written files and
 * fail to list slots or tokens. The opening (and every change to the
 * token) is serialised across processes by a lock on the module file
 * itself, which every user of the module can read. Waits at most 10 s,
 * then goes on without it (an unrelated process holding the lock must
 * not stop the CA).
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

static void
close_lock(int fd)
{
	if (fd != -1)
		close(fd);
}

/* The CKR_* names of what tokens say most, for the log. */
static const struct {
	CK_RV		 rv;
	const char	*name;
} ckrs[] = {
	{ CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR" },
	{ CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED" },
	{ CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD" },
	{ CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE" },
	{ CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID" },
	{ CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID" },
	{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR" },
	{ CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY" },
	{ CKR_DOMAIN_PARAMS_INVALID, "CKR_DOMAIN_PARAMS_INVALID" },
	{ CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE" },
	{ CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID" },
	{ CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID" },
	{ CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY" },
	{ CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE" },
	{ CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT" },
	{ CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED" },
	{ CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN" },
	{ CKR_CURVE_NOT_SUPPORTED, "CKR_CURVE_NOT_SUPPORTED" },
};

/* As mca_diag(), then ": " and the token's CKR_* for rv. Returns rc. */
static int
ckr_diag(struct mca_diag *d, int rc, CK_RV rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
ckr_diag(struct mca_diag *d, int rc, CK_RV rv, const char *fmt, ...)
{
	char		 what[MCA_DIAG_LEN];
	const char	*name = NULL;
	va_list		 ap;
	size_t		 i;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	for (i = 0; i < sizeof(ckrs) / sizeof(ckrs[0]); i++)
		if (ckrs[i].rv == rv)
			name = ckrs[i].name;
	if (name != NULL)
		return mca_diag(d, rc, "%s: %s", what, name);
	return mca_diag(d, rc, "%s: CKR 0x%lx", what, (unsigned long)rv);
}

/* The token's label, for messages. */
static const char *
toklabel(const struct mca_p11 *p)
{
	if (p->slot == NULL || p->slot->token == NULL ||
	    p->slot->token->label == NULL)
		return "?";
	return p->slot->token->label;
}

/*
 * A session of our own on the token, read-write if rw, for the calls
 * libp11 0.4 has not. It goes through the module libp11 loaded and
 * initialised (PKCS11_CTX_load calls C_Initialize): RTLD_NOLOAD makes
 * sure it is that very one, so the login libp11 made holds for it too
 * (PKCS#11 2.40 5.6: all sessions of an application share the login).
 * Returns 0 or MCA_ERR_PKCS11.
 */
static int
raw_session(struct mca_p11 *p, int rw, struct mca_diag *d)
{
	CK_C_GetFunctionList	 gfl;
	CK_FLAGS		 fl = CKF_SERIAL_SESSION;
	CK_RV			 rv;

	if (p->slot == NULL)
		return mca_diag(d, MCA_ERR_INTERNAL, "%s: not logged in",
		    p->module);
	if (p->f == NULL) {
		p->dl = dlopen(p->module, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
		if (p->dl == NULL)
			return mca_diag(d, MCA_ERR_PKCS11, "%s: module not "
			    "loaded: %s", p->module, dlerror());
		*(void **)&gfl = dlsym(p->dl, "C_GetFunctionList");
		if (gfl == NULL)
			return mca_diag(d, MCA_ERR_PKCS11, "%s: no "
			    "C_GetFunctionList", p->module);
		if ((rv = gfl(&p->f)) != CKR_OK || p->f == NULL) {
			p->f = NULL;
			return ckr_diag(d, MCA_ERR_PKCS11, rv,
			    "%s: C_GetFunctionList", p->module);
		}
	}
	if (p->sess != CK_INVALID_HANDLE && (p->sess_rw || !rw))
		return 0;
	if (p->sess != CK_INVALID_HANDLE) {
		(void)p->f->C_CloseSession(p->sess);
		p->sess = CK_INVALID_HANDLE;
	}
	if (rw)
		fl |= CKF_RW_SESSION;
	rv = p->f->C_OpenSession(PKCS11_get_slotid_from_slot(p->slot), fl,
	    NULL, NULL, &p->sess);
	if (rv != CKR_OK) {
		p->sess = CK_INVALID_HANDLE;
		return ckr_diag(d, MCA_ERR_PKCS11, rv, "%s: token \"%s\": "
		    "cannot open a %s session", p->module, toklabel(p),
		    rw ? "read-write" : "read-only");
	}
	p->sess_rw = rw;
	return 0;
}

/*
 * The objects of class cls (with label, unless NULL) into a malloc'd
 * *h of *n handles. Returns 0, MCA_ERR_PKCS11 or MCA_ERR_NOMEM.
 */
static int
raw_find(struct mca_p11 *p, CK_OBJECT_CLASS cls, const char *label,
    CK_OBJECT_HANDLE **h, size_t *n, struct mca_diag *d)
{
	CK_ATTRIBUTE	 t[2];
	CK_OBJECT_HANDLE *all = NULL, *na;
	CK_ULONG	 got, nt = 1;
	CK_RV		 rv;
	size_t		 cap = 0, len = 0;
	int		 rc = MCA_ERR_PKCS11;

	*h = NULL;
	*n = 0;
	t[0].type = CKA_CLASS;
	t[0].pValue = &cls;
	t[0].ulValueLen = sizeof(cls);
	if (label != NULL) {
		t[1].type = CKA_LABEL;
		t[1].pValue = (void *)(uintptr_t)label;
		t[1].ulValueLen = strlen(label);
		nt = 2;
	}
	if ((rv = p->f->C_FindObjectsInit(p->sess, t, nt)) != CKR_OK)
		return ckr_diag(d, MCA_ERR_PKCS11, rv, "%s: token \"%s\": "
		    "C_FindObjectsInit", p->module, toklabel(p));
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((na = reallocarray(all, cap, sizeof(*all))) ==
			    NULL) {
				rc = MCA_ERR_NOMEM;
				goto out;
			}
			all = na;
		}
		rv = p->f->C_FindObjects(p->sess, all + len, cap - len, &got);
		if (rv != CKR_OK) {
			rc = ckr_diag(d, MCA_ERR_PKCS11, rv, "%s: token "
			    "\"%s\": C_FindObjects", p->module, toklabel(p));
			goto out;
		}
		if (got == 0)
			break;
		len += got;
	}
	*h = all;
	all = NULL;
	*n = len;
	rc = 0;
out:
	(void)p->f->C_FindObjectsFinal(p->sess);
	free(all);
	return rc;
}

/*
 * Attribute t of object h into a malloc'd *val of *len bytes, NUL
 * terminated for labels. Returns the token's CKR_* (CKR_ATTRIBUTE_SENSITIVE
 * for a secret it keeps), or CKR_HOST_MEMORY.
 */
static CK_RV
raw_attr(struct mca_p11 *p, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
    unsigned char **val, size_t *len)
{
	CK_ATTRIBUTE	 a;
	CK_RV		 rv;

	*val = NULL;
	*len = 0;
	a.type = t;
	a.pValue = NULL;
	a.ulValueLen = 0;
	if ((rv = p->f->C_GetAttributeValue(p->sess, h, &a, 1)) != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    a.ulValueLen > ATTR_MAX)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if ((a.pValue = calloc(1, a.ulValueLen + 1)) == NULL)
		return CKR_HOST_MEMORY;
	if ((rv = p->f->C_GetAttributeValue(p->sess, h, &a, 1)) != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

/* A CK_BBOOL or CK_ULONG attribute. */
static CK_RV
raw_bool(struct mca_p11 *p, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
    int *v)
{
	CK_BBOOL	 b = CK_FALSE;
	CK_ATTRIBUTE	 a = { t, &b, sizeof(b) };
	CK_RV		 rv;

	rv = p->f->C_GetAttributeValue(p->sess, h, &a, 1);
	*v = rv == CKR_OK && b != CK_FALSE;
	return rv;
}

static CK_RV
raw_ulong(struct mca_p11 *p, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
    CK_ULONG *v)
{
	CK_ATTRIBUTE	 a = { t, v, sizeof(*v) };

	*v = 0;
	return p->f->C_GetAttributeValue(p->sess, h, &a, 1);
}

/* The NID of a DER OID in CKA_EC_PARAMS, or NID_undef. */
static int
ec_params_nid(const unsigned char *der, size_t len)
{
	const unsigned char	*q = der;
	ASN1_OBJECT		*o;
	int			 nid;

	if ((o = d2i_ASN1_OBJECT(NULL, &q, (long)len)) == NULL)
		return NID_undef;
	nid = q == der + len ? OBJ_obj2nid(o) : NID_undef;
	ASN1_OBJECT_free(o);
	return nid;
}

/*
 * A plain OpenSSL public key from the token's public (or private) key
 * object h: RSA from CKA_MODULUS and CKA_PUBLIC_EXPONENT, EC from
 * CKA_EC_PARAMS and CKA_EC_POINT (a DER OCTET STRING, PKCS#11 2.40
 * 2.3.3; some tokens give the bare point). Returns 0, MCA_ERR_PKCS11 or
 * MCA_ERR_CRYPTO.
 */
static int
raw_pubkey(struct mca_p11 *p, CK_OBJECT_HANDLE h, const char *label,
    EVP_PKEY **out, struct mca_diag *d)
{
	OSSL_PARAM_BLD		*bld = NULL;
	OSSL_PARAM		*params = NULL;
	EVP_PKEY_CTX		*pc = NULL;
	ASN1_OCTET_STRING	*os = NULL;
	BIGNUM			*bn_n = NULL, *bn_e = NULL;
	unsigned char		*a = NULL, *b = NULL;
	const unsigned char	*q, *pt;
	size_t			 alen = 0, blen = 0, ptlen;
	CK_ULONG		 kt;
	CK_RV			 rv;
	int			 rc = MCA_ERR_CRYPTO, nid, rsa;

	*out = NULL;
	ERR_clear_error();
	if ((rv = raw_ulong(p, h, CKA_KEY_TYPE, &kt)) != CKR_OK) {
		rc = ckr_diag(d, MCA_ERR_PKCS11, rv, "%s: key \"%s\": "
		    "CKA_KEY_TYPE", p->module, label);
		goto out;
	}
	if (kt != CKK_RSA && kt != CKK_EC) {
		rc = mca_diag(d, MCA_ERR_PKCS11, "%s: key \"%s\" is neither "
		    "RSA nor EC (CKK 0x%lx)", p->module, label,
		    (unsigned long)kt);
		goto out;
	}
	rsa = kt == CKK_RSA;
	if ((rv = raw_attr(p, h, rsa ? CKA_MODULUS : CKA_EC_PARAMS, &a,
	    &alen)) != CKR_OK ||
	    (rv = raw_attr(p, h, rsa ? CKA_PUBLIC_EXPONENT : CKA_EC_POINT, &b,
	    &blen)) != CKR_OK) {
		rc = ckr_diag(d, MCA_ERR_PKCS11, rv, "%s: key \"%s\": cannot "
		    "read its public half", p->module, label);
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (rsa) {
		if ((bn_n = BN_bin2bn(a, (int)alen, NULL)) == NULL ||
		    (bn_e = BN_bin2bn(b, (int)blen, NULL)) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
			goto out;
	} else {
		if ((nid = ec_params_nid(a, alen)) == NID_undef) {
			rc = mca_diag(d, MCA_ERR_PKCS11, "%s: key \"%s\": "
			    "CKA_EC_PARAMS names no curve we know",
			    p->module, label);
			goto out;
		}
		q = b;
		pt = b;
		ptlen = blen;
		if ((os = d2i_ASN1_OCTET_STRING(NULL, &q, (long)blen)) !=
		    NULL && q == b + blen) {
			pt = ASN1_STRING_get0_data(os);
			ptlen = (size_t)ASN1_STRING_length(os);
		}
		if (!OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(nid), 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, ptlen))
			goto out;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pc = EVP_PKEY_CTX_new_from_name(NULL, rsa ? "RSA" : "EC",
	    NULL)) == NULL)
		goto out;
	if (EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "%s: key \"%s\": "
		    "its public half is no valid key", p->module, label);
		goto out;
	}
	rc = 0;
out:
	if (rc == MCA_ERR_CRYPTO && d != NULL && d->msg[0] == '\0')
		rc = mca_diag_crypto(d, rc, "%s: key \"%s\": public key",
		    p->module, label);
	ERR_clear_error();
	ASN1_OCTET_STRING_free(os);
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	free(a);
	free(b);
	return rc;
}

/*
 * libp11's EVP_PKEY of the private key with this label and CKA_ID. Its
 * key list only grows (removed objects stay in it), so the match is on
 * both, from what the token itself said.
 */
static int
p11_evp(struct mca_p11 *p, const char *label, const unsigned char *id,
    size_t idlen, EVP_PKEY **key, struct mca_diag *d)
{
	PKCS11_KEY	*keys = NULL;
	unsigned int	 n = 0, i;

	ERR_clear_error();
	if (PKCS11_enumerate_keys(p->slot->token, &keys, &n) != 0)
		return mca_diag_crypto(d, MCA_ERR_PKCS11, "%s: token \"%s\": "
		    "cannot list keys", p->module, toklabel(p));
	for (i = 0; i < n; i++) {
		if (keys[i].label == NULL || strcmp(keys[i].label, label) != 0 ||
		    keys[i].id_len != idlen ||
		    (idlen > 0 && memcmp(keys[i].id, id, idlen) != 0))
			continue;
		if ((*key = PKCS11_get_private_key(&keys[i])) == NULL)
			return mca_diag_crypto(d, MCA_ERR_PKCS11, "%s: token "
			    "\"%s\": cannot use private key \"%s\"",
			    p->module, toklabel(p), label);
		ERR_clear_error();
		return 0;
	}
	ERR_clear_error();
	return mca_diag(d, MCA_ERR_NOTFOUND, "%s: token \"%s\": libp11 "
	    "does not see private key \"%s\"", p->module, toklabel(p), label);
}

/*
 * The one object of class cls labelled label into *h. Returns 0,
 * MCA_ERR_NOTFOUND (none, or more than one), MCA_ERR_PKCS11 or
 * MCA_ERR_NOMEM.
 */
static int
find_one(struct mca_p11 *p, CK_OBJECT_CLASS cls, const char *label,
    CK_OBJECT_HANDLE *h, struct mca_diag *d)
{
	CK_OBJECT_HANDLE	*all = NULL;
	size_t			 n = 0;
	int			 rc;

	*h = CK_INVALID_HANDLE;
	if ((rc = raw_session(p, 0, d)) != 0 ||
	    (rc = raw_find(p, cls, label, &all, &n, d)) != 0)
		return rc;
	if (n == 1)
		*h = all[0];
	free(all);
	if (n == 0)
		return mca_diag(d, MCA_ERR_NOTFOUND, "%s: token \"%s\" has no "
		    "%s key labelled \"%s\"", p->module, toklabel(p),
		    cls == CKO_PRIVATE_KEY ? "private" : "public", label);
	if (n > 1)
		return mca_diag(d, MCA_ERR_NOTFOUND, "%s: token \"%s\" has %zu "
		    "%s keys labelled \"%s\": which one is meant?", p->module,
		    toklabel(p), n,
		    cls == CKO_PRIVATE_KEY ? "private" : "public", label);
	return 0;
}

int
mca_p11_key(struct mca_p11 *p, const char *label, EVP_PKEY **key,
    struct mca_diag *d)
{
	CK_OBJECT_HANDLE	 h;
	unsigned char		*id = NULL;
	size_t			 idlen = 0;
	CK_RV			 rv;
	int			 rc;

	*key = NULL;
	if ((rc = find_one(p, CKO_PRIVATE_KEY, label, &h, d)) != 0)
		return rc;
	rv = raw_attr(p, h, CKA_ID, &id, &idlen);
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID)
		return ckr_diag(d, MCA_ERR_PKCS11, rv, "%s: key \"%s\": "
		    "CKA_ID", p->module, label);
	rc = p11_evp(p, label, id, idlen, key, d);
	free(id);
	return rc;
}

int
mca_p11_pubkey(struct mca_p11 *p, const char *label, EVP_PKEY **pub,
    struct mca_diag *d)
{
	CK_OBJECT_HANDLE	 h;
	int			 rc;

	*pub = NULL;
	if ((rc = find_one(p, CKO_PUBLIC_KEY, label, &h, d)) != 0)
		return rc;
	return raw_pubkey(p, h, label, pub, d);
}

/* 0 if label is one we make: 1 to LABEL_MAX printable bytes. */
static int
label_ok(const char *label)
{
	size_t	 i, len;

	if (label == NULL || (len = strlen(label)) == 0 || len > LABEL_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
			return -1;
	return 0;
}

/* Destroys the objects h[0..n-1]; the first failure into d. */
static int
raw_destroy(struct mca_p11 *p, const CK_OBJECT_HANDLE *h, size_t n,
    const char *label, struct mca_diag *d)
{
	CK_RV	 rv;
	size_t	 i;
	int	 rc = 0;

	for (i = 0; i < n; i++)
		if ((rv = p->f->C_DestroyObject(p->sess, h[i])) != CKR_OK &&
		    rc == 0)
			rc = ckr_diag(d, MCA_ERR_PKCS11, rv, "%s: token \"%s\": "
			    "cannot remove key \"%s\"", p->module, toklabel(p),
			    label);
	return rc;
}

int
mca_p11_keygen(struct mca_p11 *p, enum mca_keytype type, int bits,
    const char *label, EVP_PKEY **key, EVP_PKEY **pub, struct mca_diag *d)
{
	static CK_BBOOL		 yes = CK_TRUE, no = CK_FALSE;
	static CK_BYTE		 e65537[] = { 0x01, 0x00, 0x01 };
	CK_MECHANISM		 mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE	 hpub = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE	 hpriv = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE	*old = NULL;
	CK_OBJECT_CLASS		 cpub = CKO_PUBLIC_KEY, cpriv = CKO_PRIVATE_KEY;
	CK_ULONG		 mbits = (CK_ULONG)bits, llen;
	CK_ATTRIBUTE		 tpub[9], tpriv[12];
	CK_ULONG		 npub = 0, npriv = 0;
	const struct mca_curve	*curve = NULL;
	unsigned char		 id[ID_LEN], *ecp = NULL;
	EVP_PKEY		*k = NULL, *pk = NULL;
	CK_RV			 rv;
	size_t			 nold = 0, c;
	int			 rc = MCA_ERR_PKCS11, lock = -1, eclen = 0;

#define ATTR(t, n, ty, v, l)	do { (t)[(n)].type = (ty);		\
	(t)[(n)].pValue = (void *)(v); (t)[(n)].ulValueLen = (l); (n)++; }	\
	while (0)
	if (key != NULL)
		*key = NULL;
	if (pub != NULL)
		*pub = NULL;
	if (label_ok(label) != 0)
		return mca_diag(d, MCA_ERR_INVAL, "key label must be 1 to %d "
		    "printable bytes", LABEL_MAX);
	if (type == MCA_KEYTYPE_RSA) {
		if (bits != 2048 && bits != 3072 && bits != 4096)
			return mca_diag(d, MCA_ERR_INVAL, "RSA-%d: the token "
			    "makes RSA keys of 2048, 3072 or 4096 bits", bits);
	} else if (type == MCA_KEYTYPE_EC) {
		if ((curve = mca_keyspec_curve_bits(bits)) == NULL)
			return mca_diag(d, MCA_ERR_INVAL, "EC-%d: the token "
			    "makes EC keys on P-256, P-384 or P-521", bits);
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		if ((eclen = i2d_ASN1_OBJECT(OBJ_nid2obj(curve->nid),
		    &ecp)) <= 0)
			return mca_diag_crypto(d, MCA_ERR_CRYPTO, "EC "
			    "parameters of %s", curve->name);
	} else
		return mca_diag(d, MCA_ERR_INVAL, "key type %d: the token "
		    "makes RSA or EC keys", (int)type);
	if (RAND_bytes(id, sizeof(id)) != 1) {
		rc = mca_diag_crypto(d, MCA_ERR_CRYPTO, "key id");
		goto out;
	}
	llen = strlen(label);
	ATTR(tpub, npub, CKA_CLASS, &cpub, sizeof(cpub));
	ATTR(tpub, npub, CKA_TOKEN, &yes, sizeof(yes));
	ATTR(tpub, npub, CKA_PRIVATE, &no, sizeof(no));
	ATTR(tpub, npub, CKA_VERIFY, &yes, sizeof(yes));
	ATTR(tpub, npub, CKA_LABEL, label, llen);
	ATTR(tpub, npub, CKA_ID, id, sizeof(id));
	if (curve == NULL) {
		ATTR(tpub, npub, CKA_MODULUS_BITS, &mbits, sizeof(mbits));
		ATTR(tpub, npub, CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537));
	} else
		ATTR(tpub, npub, CKA_EC_PARAMS, ecp, (CK_ULONG)eclen);
	/* Private, sensitive and never extractable: PKCS#11 2.40 4.9. */
	ATTR(tpriv, npriv, CKA_CLASS, &cpriv, sizeof(cpriv));
	ATTR(tpriv, npriv, CKA_TOKEN, &yes, sizeof(yes));
	ATTR(tpriv, npriv, CKA_PRIVATE, &yes, sizeof(yes));
	ATTR(tpriv, npriv, CKA_SENSITIVE, &yes, sizeof(yes));
	ATTR(tpriv, npriv, CKA_EXTRACTABLE, &no, sizeof(no));
	ATTR(tpriv, npriv, CKA_SIGN, &yes, sizeof(yes));
	ATTR(tpriv, npriv, CKA_DECRYPT, &no, sizeof(no));
	ATTR(tpriv, npriv, CKA_UNWRAP, &no, sizeof(no));
	ATTR(tpriv, npriv, CKA_DERIVE, &no, sizeof(no));
	ATTR(tpriv, npriv, CKA_LABEL, label, llen);
	ATTR(tpriv, npriv, CKA_ID, id, sizeof(id));
#undef ATTR

	lock = open_lock(p->module);
	if ((rc = raw_session(p, 1, d)) != 0)
		goto out;
	/* A label names one key: the renewal tool finds it by that. */
	for (c = 0; c < 2; c++) {
		if ((rc = raw_find(p, c == 0 ? CKO_PRIVATE_KEY :
		    CKO_PUBLIC_KEY, label, &old, &nold, d)) != 0)
			goto out;
		free(old);
		old = NULL;
		if (nold > 0) {
			rc = mca_diag(d, MCA_ERR_EXISTS, "%s: token \"%s\" "
			    "already has a key labelled \"%s\"", p->module,
			    toklabel(p), label);
			goto out;
		}
	}
	rv = p->f->C_GenerateKeyPair(p->sess, &mech, tpub, npub, tpriv, npriv,
	    &hpub, &hpriv);
	if (rv != CKR_OK) {
		hpub = hpriv = CK_INVALID_HANDLE;
		rc = ckr_diag(d, MCA_ERR_PKCS11, rv, "%s: token \"%s\": cannot "
		    "make a %s-%d key", p->module, toklabel(p),
		    curve == NULL ? "RSA" : "EC", bits);
		goto out;
	}
	close_lock(lock);
	lock = -1;
	if ((rc = raw_pubkey(p, hpub, label, &pk, d)) != 0)
		goto out;
	if (key != NULL && (rc = p11_evp(p, label, id, sizeof(id), &k, d)) != 0)
		goto out;
	if (key != NULL) {
		*key = k;
		k = NULL;
	}
	if (pub != NULL) {
		*pub = pk;
		pk = NULL;
	}
	rc = 0;
out:
	/* What cannot be handed back does not stay on the token. */
	if (rc != 0 && hpriv != CK_INVALID_HANDLE) {
		CK_OBJECT_HANDLE	 both[2] = { hpriv, hpub };

		(void)raw_destroy(p, both, 2, label, NULL);
	}
	close_lock(lock);
	EVP_PKEY_free(k);
	EVP_PKEY_free(pk);
	OPENSSL_free(ecp);
	return rc;
}

int
mca_p11_delete(struct mca_p11 *p, const char *label, struct mca_diag *d)
{
	CK_OBJECT_HANDLE	*priv = NULL, *pub = NULL;
	size_t			 npriv = 0, npub = 0;
	int			 rc, lock;

	if (label == NULL || *label == '\0')
		return mca_diag(d, MCA_ERR_INVAL, "no key label to remove");
	lock = open_lock(p->module);
	if ((rc = raw_session(p, 1, d)) != 0 ||
	    (rc = raw_find(p, CKO_PRIVATE_KEY, label, &priv, &npriv, d)) != 0 ||
	    (rc = raw_find(p, CKO_PUBLIC_KEY, label, &pub, &npub, d)) != 0)
		goto out;
	if (npriv == 0) {
		rc = mca_diag(d, MCA_ERR_NOTFOUND, "%s: token \"%s\" has no "
		    "private key labelled \"%s\"", p->module, toklabel(p),
		    label);
		goto out;
	}
	if ((rc = raw_destroy(p, priv, npriv, label, d)) != 0)
		goto out;
	rc = raw_destroy(p, pub, npub, label, d);
out:
	close_lock(lock);
	free(priv);
	free(pub);
	return rc;
}

int
mca_p11_list(struct mca_p11 *p, struct mca_p11_keyinfo **out, size_t *n,
    struct mca_diag *d)
{
	struct mca_p11_keyinfo	*ki = NULL, *k;
	const struct mca_curve	*cv;
	CK_OBJECT_HANDLE	*h = NULL;
	unsigned char		*v = NULL;
	size_t			 nh = 0, i, j, vlen;
	CK_ULONG		 kt;
	int			 rc;

	*out = NULL;
	*n = 0;
	if ((rc = raw_session(p, 0, d)) != 0 ||
	    (rc = raw_find(p, CKO_PRIVATE_KEY, NULL, &h, &nh, d)) != 0)
		goto out;
	if (nh > 0 && (ki = calloc(nh, sizeof(*ki))) == NULL) {
		rc = MCA_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < nh; i++) {
		k = &ki[i];
		if (raw_attr(p, h[i], CKA_LABEL, &v, &vlen) == CKR_OK)
			snprintf(k->label, sizeof(k->label), "%.*s",
			    (int)strnlen((char *)v, vlen), (char *)v);
		free(v);
		v = NULL;
		if (raw_attr(p, h[i], CKA_ID, &v, &vlen) == CKR_OK)
			for (j = 0; j < vlen && j < (sizeof(k->id) - 1) / 2;
			    j++)
				snprintf(k->id + 2 * j, 3, "%02x", v[j]);
		free(v);
		v = NULL;
		(void)raw_bool(p, h[i], CKA_SENSITIVE, &k->sensitive);
		(void)raw_bool(p, h[i], CKA_EXTRACTABLE, &k->extractable);
		(void)raw_bool(p, h[i], CKA_NEVER_EXTRACTABLE,
		    &k->never_extractable);
		k->type = MCA_KEYTYPE_ANY;
		if (raw_ulong(p, h[i], CKA_KEY_TYPE, &kt) != CKR_OK)
			continue;
		if (kt == CKK_RSA) {
			k->type = MCA_KEYTYPE_RSA;
			if (raw_attr(p, h[i], CKA_MODULUS, &v, &vlen) ==
			    CKR_OK) {
				for (j = 0; j < vlen && v[j] == 0; j++)
					;
				k->bits = (int)((vlen - j) * 8);
			}
		} else if (kt == CKK_EC) {
			k->type = MCA_KEYTYPE_EC;
			if (raw_attr(p, h[i], CKA_EC_PARAMS, &v, &vlen) ==
			    CKR_OK && (cv = mca_keyspec_curve_nid(
			    ec_params_nid(v, vlen))) != NULL)
				k->bits = cv->bits;
		}
		free(v);
		v = NULL;
	}
	*out = ki;
	ki = NULL;
	*n = nh;
	rc = 0;
out:
	free(ki);
	free(h);
	return rc;
}

/* 1 if token has an object of this kind labelled label. */
static int
token_has_key(PKCS11_TOKEN *tok, const char *label, int private)
{
	PKCS11_KEY	*keys = NULL;
	unsigned int	 n = 0, i;
	int		 r;

	r = private ? PKCS11_enumerate_keys(tok, &keys, &n) :
	    PKCS11_enumerate_public_keys(tok, &keys, &n);
	if (r != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (keys[i].label != NULL && strcmp(keys[i].label, label) == 0)
			return 1;
	return 0;
}

/* Loads module into a fresh *out and lists its slots. */
static int
load(const char *module, struct mca_p11 **out, struct mca_diag *d)
{
	struct mca_p11	*p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->module = strdup(module)) == NULL) {
		free(p);
		return mca_diag(d, MCA_ERR_NOMEM, "PKCS#11 context");
	}
	p->sess = CK_INVALID_HANDLE;
	*out = p;
	/* Failures below append libp11's reason from the queue. */
	ERR_clear_error();
	if ((p->ctx = PKCS11_CTX_new()) == NULL)
		return mca_diag_crypto(d, MCA_ERR_NOMEM, "PKCS#11 context");
	if (PKCS11_CTX_load(p->ctx, module) != 0)
		return mca_diag_crypto(d, MCA_ERR_PKCS11,
		    "cannot load PKCS#11 module %s (or it did not initialize: "
		    "for SoftHSMv2, is SOFTHSM2_CONF set, and its token "
		    "directory readable by this user?)", module);
	p->loaded = 1;
	if (PKCS11_enumerate_slots(p->ctx, &p->slots, &p->nslots) != 0)
		return mca_diag_crypto(d, MCA_ERR_PKCS11,
		    "%s: cannot list slots", module);
	return 0;
}

/* Opens a session on slot and logs in with pin. */
static int
login(struct mca_p11 *p, PKCS11_SLOT *slot, const char *pin,
    struct mca_diag *d)
{
	ERR_clear_error();
	if (PKCS11_open_session(slot, 0) != 0)
		return mca_diag_crypto(d, MCA_ERR_PKCS11, "%s: token \"%s\": "
		    "cannot open a session", p->module, slot->token->label);
	if (slot->token->loginRequired && PKCS11_login(slot, 0, pin) != 0)
		return mca_diag_crypto(d, MCA_ERR_PKCS11, "%s: token \"%s\": "
		    "login failed (wrong pkcs11_library_pin?)", p->module,
		    slot->token->label);
	p->slot = slot;
	return 0;
}

static int
usable(const PKCS11_SLOT *s)
{
	return s->token != NULL && s->token->initialized;
}

int
mca_p11_session(const char *module, const char *token, const char *pin,
    struct mca_p11 **out, struct mca_diag *d)
{
	struct mca_p11	*p = NULL;
	PKCS11_SLOT	*slot = NULL;
	unsigned int	 i, ntok = 0;
	int		 rc, lock;

	*out = NULL;
	lock = open_lock(module);
	if ((rc = load(module, &p, d)) != 0)
		goto out;
	for (i = 0; i < p->nslots; i++) {
		if (!usable(&p->slots[i]))
			continue;
		ntok++;
		if (slot == NULL && (token == NULL ||
		    strcmp(p->slots[i].token->label, token) == 0))
			slot = &p->slots[i];
	}
	rc = MCA_ERR_NOTFOUND;
	if (ntok == 0) {
		rc = mca_diag(d, rc, "%s: no initialised token in any slot",
		    module);
		goto out;
	}
	if (slot == NULL) {
		rc = mca_diag(d, rc, "%s: no token labelled \"%s\"", module,
		    token);
		goto out;
	}
	if (token == NULL && ntok > 1) {
		rc = mca_diag(d, rc, "%s: %u tokens and none named; refusing "
		    "to try the PIN on each", module, ntok);
		goto out;
	}
	if ((rc = login(p, slot, pin, d)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	/* What the walk over slots queued is no failure of ours. */
	ERR_clear_error();
	mca_p11_close(p);
	close_lock(lock);
	return rc;
}

int
mca_p11_open(const char *module, const char *label, const char *pin,
    struct mca_p11 **out, EVP_PKEY **key, struct mca_diag *d)
{
	struct mca_p11	*p = NULL;
	PKCS11_SLOT	*slot = NULL, *s;
	unsigned int	 i, ntok = 0;
	int		 rc, lock;

	*out = NULL;
	*key = NULL;
	lock = open_lock(module);
	if ((rc = load(module, &p, d)) != 0)
		goto out;
	/*
	 * Pick the token by the key's public half, which is visible without
	 * logging in: a PIN tried on the wrong token counts against that
	 * token's retry limit, and enough of those lock it.
	 */
	for (i = 0; i < p->nslots; i++) {
		s = &p->slots[i];
		if (!usable(s))
			continue;
		ntok++;
		if (slot == NULL && token_has_key(s->token, label, 0))
			slot = s;
	}
	rc = MCA_ERR_NOTFOUND;
	if (ntok == 0) {
		rc = mca_diag(d, rc, "%s: no initialised token in any slot",
		    module);
		goto out;
	}
	if (slot == NULL) {
		/* No public object: only guess when there is one token. */
		if (ntok > 1) {
			rc = mca_diag(d, rc, "%s: no token has a "
			    "public key labelled \"%s\"; with %u tokens, "
			    "refusing to try the PIN on each", module, label,
			    ntok);
			goto out;
		}
		for (i = 0; i < p->nslots && slot == NULL; i++)
			if (usable(&p->slots[i]))
				slot = &p->slots[i];
	}
	if ((rc = login(p, slot, pin, d)) != 0 ||
	    (rc = mca_p11_key(p, label, key, d)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	ERR_clear_error();
	mca_p11_close(p);
	close_lock(lock);
	return rc;
}

void
mca_p11_close(struct mca_p11 *p)
{
	if (p == NULL)
		return;
	if (p->f != NULL && p->sess != CK_INVALID_HANDLE)
		(void)p->f->C_CloseSession(p->sess);
	if (p->slots != NULL)
		PKCS11_release_all_slots(p->ctx, p->slots, p->nslots);
	if (p->loaded)
		PKCS11_CTX_unload(p->ctx);
	if (p->ctx != NULL)
		PKCS11_CTX_free(p->ctx);
	if (p->dl != NULL)
		dlclose(p->dl);
	free(p->module);
	free(p);
}
