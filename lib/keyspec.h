/*
 * The keys microca knows: their types, the RSA sizes and named curves it
 * accepts in requests (RFC 5480 2.1.1.1 names the curves), which of them
 * /serverkeygen makes, and the names config.json and the ledger give
 * them ("RSA-2048", "EC-P-256"). One table for cfg, csr, est_codec and
 * keygen.
 */
#ifndef MCA_KEYSPEC_H
#define MCA_KEYSPEC_H

#include <stddef.h>

#define MCA_RSA_MIN_BITS	2048	/* the RSA sizes accepted at all */
#define MCA_RSA_MAX_BITS	8192

/* A key type a label asks for in CSRs (and later generates). */
enum mca_keytype {
	MCA_KEYTYPE_ANY = 0,	/* not configured: any key we accept */
	MCA_KEYTYPE_RSA,
	MCA_KEYTYPE_EC,
	MCA_KEYTYPE_MAX
};

/* One entry of allowed_keys, spelt as mca_key_describe() spells keys. */
struct mca_keyspec {
	enum mca_keytype type;		/* RSA or EC */
	int		 size;		/* RSA bits, or EC curve bits */
	char		 name[16];	/* "RSA-2048", "EC-P-256" */
};

/* A named curve we accept. */
struct mca_curve {
	int		 bits;		/* its size, as key_size says it */
	int		 nid;		/* OpenSSL's NID of its OID */
	const char	*name;		/* "P-256": NIST's and OpenSSL's name */
	int		 makeable;	/* /serverkeygen makes keys on it */
};

/* The curve of that size, or NULL. */
const struct mca_curve	*mca_keyspec_curve_bits(int bits);

/* The curve of that NID, or NULL. */
const struct mca_curve	*mca_keyspec_curve_nid(int nid);

/*
 * An allowed_keys name into k: "RSA-<bits>" (MCA_RSA_MIN_BITS to
 * MCA_RSA_MAX_BITS) or "EC-P-256/384/521", any case, stored as
 * mca_key_describe() spells it. 0 or -1.
 */
int	 mca_keyspec_parse(const char *s, struct mca_keyspec *k);

/*
 * 1 if /serverkeygen makes keys of this type and size (RSA 2048, 3072,
 * 4096 with e = 65537; EC P-256, P-384), else 0.
 */
int	 mca_keyspec_makeable(enum mca_keytype type, int bits);

#endif
