/* The keys microca knows. See keyspec.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/obj_mac.h>

#include "keyspec.h"
#include "num.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* RFC 5480 2.1.1.1: secp256r1, secp384r1, secp521r1. */
static const struct mca_curve keyspec_curves[] = {
	{ 256, NID_X9_62_prime256v1, "P-256", 1 },
	{ 384, NID_secp384r1, "P-384", 1 },
	{ 521, NID_secp521r1, "P-521", 0 },
};

/* The RSA sizes /serverkeygen makes. */
static const int keyspec_rsa_make[] = { 2048, 3072, 4096 };

const struct mca_curve *
mca_keyspec_curve_bits(int bits)
{
	size_t	 i;

	for (i = 0; i < NELEM(keyspec_curves); i++)
		if (keyspec_curves[i].bits == bits)
			return &keyspec_curves[i];
	return NULL;
}

const struct mca_curve *
mca_keyspec_curve_nid(int nid)
{
	size_t	 i;

	for (i = 0; i < NELEM(keyspec_curves); i++)
		if (keyspec_curves[i].nid == nid)
			return &keyspec_curves[i];
	return NULL;
}

int
mca_keyspec_parse(const char *s, struct mca_keyspec *k)
{
	long long	 bits;
	size_t		 i;

	memset(k, 0, sizeof(*k));
	if (strncasecmp(s, "EC-", 3) == 0) {
		for (i = 0; i < NELEM(keyspec_curves); i++)
			if (strcasecmp(s + 3, keyspec_curves[i].name) == 0) {
				k->type = MCA_KEYTYPE_EC;
				k->size = keyspec_curves[i].bits;
				(void)snprintf(k->name, sizeof(k->name),
				    "EC-%s", keyspec_curves[i].name);
				return 0;
			}
		return -1;
	}
	if (strncasecmp(s, "RSA-", 4) == 0 &&
	    mca_num_parse(s + 4, strlen(s + 4), MCA_RSA_MIN_BITS,
	    MCA_RSA_MAX_BITS, &bits) == 0) {
		k->type = MCA_KEYTYPE_RSA;
		k->size = (int)bits;
		(void)snprintf(k->name, sizeof(k->name), "RSA-%d", k->size);
		return 0;
	}
	return -1;
}

int
mca_keyspec_makeable(enum mca_keytype type, int bits)
{
	const struct mca_curve	*c;
	size_t			 i;

	if (type == MCA_KEYTYPE_EC)
		return (c = mca_keyspec_curve_bits(bits)) != NULL &&
		    c->makeable;
	if (type == MCA_KEYTYPE_RSA)
		for (i = 0; i < NELEM(keyspec_rsa_make); i++)
			if (keyspec_rsa_make[i] == bits)
				return 1;
	return 0;
}
