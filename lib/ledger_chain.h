/*
 * The ledger's tamper-evident chain (issue 16): every row of
 * certificates and of revocations is linked to the row written before it
 * by a SHA-256 hash, kept in the row itself (chain_seq, chain_prev,
 * chain_hash; sql/migrations/0014-chain-in-rows.sql says exactly what
 * is hashed, so that an auditor can recompute it with other tools).
 * The writers link
 * each row in its own transaction (lib/ledger_int.h); this is what
 * "microca-admin ledger verify" and "ledger head" call.
 */
#ifndef MCA_LEDGER_CHAIN_H
#define MCA_LEDGER_CHAIN_H

#include "err.h"
#include "ledger.h"

/* 64 hex digits and a NUL. */
#define MCA_CHAIN_HEX_MAX	65

/* What to verify. */
struct mca_chain_verify {
	/*
	 * The first chain row (chain_seq) to verify, its chain_prev taken on
	 * trust; 0 or 1: from the start.
	 */
	long long	 from;
	/*
	 * A head hash seen before (64 hex digits, any case), or NULL: it
	 * must be the hash of a verified row (or, with from, the chain_prev
	 * of row from), else the chain does not verify.
	 */
	const char	*expect_head;
	/* issued_certs_dir: each row's SERIAL.pem there, if there, must
	 * be its pem byte for byte. NULL: no files compared. */
	const char	*issued_dir;
};

/* What the walk found. */
struct mca_chain_report {
	int		 broken;	/* 1: the chain does not verify */
	long long	 rows;		/* chain rows verified */
	long long	 seq;		/* the head's seq, 0 when empty */
	char		 head[MCA_CHAIN_HEX_MAX];	/* lowercase hex */
	long long	 files;		/* IssuedCerts files compared */
	/* The first broken row, when broken (table "" and id 0: none). */
	long long	 bad_seq;
	char		 bad_table[16];
	long long	 bad_id;
	char		 bad_serial[129];
	char		 what[512];	/* what is wrong, one line */
};

/*
 * Walks the chain from o->from (NULL o: all of it, no files) in one read
 * transaction, concurrent writers notwithstanding, and checks that:
 * the chain_seqs of both tables, merged, follow one another from 1 (from
 * o->from); each row's chain_prev is the chain_hash of the row before,
 * and the row hashes to its chain_hash; every row of certificates and
 * revocations is on the chain, once; each
 * certificate's pem parses to its serial, subject and thumbprints; each
 * IssuedCerts file is the pem (o->issued_dir); o->expect_head was met.
 * Returns 0 with *r filled (r->broken says whether it verified) or, when
 * the walk could not be made, MCA_ERR_INVAL (a bad expect_head or from),
 * MCA_ERR_NOTFOUND (no chain row o->from), MCA_ERR_NOMEM,
 * MCA_ERR_CRYPTO, MCA_ERR_BUSY or MCA_ERR_DB with
 * mca_ledger_errmsg(l).
 */
int	 mca_ledger_chain_verify(struct mca_ledger *l,
	    const struct mca_chain_verify *o, struct mca_chain_report *r);

/*
 * The stored hash of the chain's last row, in lowercase hex, and its seq
 * (64 zeros and 0 for an empty chain). Not verified: see above.
 * Returns 0, MCA_ERR_INVAL or MCA_ERR_DB with mca_ledger_errmsg(l).
 */
int	 mca_ledger_chain_head(struct mca_ledger *l, char *hex,
	    size_t hexlen, long long *seq);

#endif
