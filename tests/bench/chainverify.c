/*
 * chainverify: the time of "microca-admin ledger verify" over a large
 * ledger (issue 16: 1,000,000 rows in under 30 s).
 *
 *   chainverify LEDGER ROWS
 *
 * First fills LEDGER up to ROWS certificates, if it has fewer: each one
 * a real certificate, made and signed here (a throwaway EC P-256 key,
 * serial and CN distinct for each row, so that every row's pem parses
 * to its own serial, subject and thumbprints, as verify checks), and
 * recorded through mca_ledger_insert_cert(), the server's own path,
 * chain included (synchronous=NORMAL: filling is not what is measured).
 * Then times mca_ledger_chain_verify() over the whole ledger, twice (the
 * first walk reads the file from disk, the second from the page cache),
 * and prints one line: rows=N open_s=S fill_s=S verify_s=S verify2_s=S
 * us_row=U. open_s is the open's, which includes the migrations a ledger
 * written by an earlier microca still needs (0014 rewrites every row).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "certinfo.h"
#include "err.h"
#include "ledger.h"
#include "ledger_chain.h"
#include "num.h"
#include "pem.h"
#include "mono.h"

#define ISSUER	"CN=chainverify throwaway CA"

/* The rows on the chain. */
static long long
count_rows(struct mca_ledger *l)
{
	char		 head[MCA_CHAIN_HEX_MAX];
	long long	 seq = 0;

	if (mca_ledger_chain_head(l, head, sizeof(head), &seq) != 0)
		return -1;
	return seq;
}

/* Makes certificate n (serial 0x10000000 + n, CN=dev-n) and records it. */
static int
add_one(struct mca_ledger *l, EVP_PKEY *k, X509_NAME *issuer, long long n,
    struct mca_buf *pem)
{
	struct mca_ledger_cert	 c;
	X509			*x = NULL;
	X509_NAME		*name = NULL;
	char			 cn[32], serial[MCA_HEX_MAX];
	char			 subject[MCA_NAME_MAX], sha1[MCA_HEX_MAX];
	char			 sha256[MCA_HEX_MAX], nb[MCA_TIME_MAX];
	char			 na[MCA_TIME_MAX];
	int			 rc = -1;

	(void)snprintf(cn, sizeof(cn), "dev-%07lld", n);
	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL ||
	    !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set_int64(X509_get_serialNumber(x),
	    0x10000000LL + n) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"Example Devices", -1, -1, 0) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, issuer) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) == NULL ||
	    !X509_set_pubkey(x, k) || !X509_sign(x, k, EVP_sha256()))
		goto out;
	mca_buf_reset(pem);
	if (mca_cert_serial_hex(x, serial, sizeof(serial)) != 0 ||
	    mca_name_string(X509_get_subject_name(x), subject,
	    sizeof(subject)) != 0 ||
	    mca_cert_thumbprint(x, EVP_sha1(), sha1, sizeof(sha1)) != 0 ||
	    mca_cert_thumbprint(x, EVP_sha256(), sha256, sizeof(sha256)) != 0 ||
	    mca_asn1time_iso(X509_get0_notBefore(x), nb, sizeof(nb)) != 0 ||
	    mca_asn1time_iso(X509_get0_notAfter(x), na, sizeof(na)) != 0 ||
	    mca_pem_write_cert(x, pem) != 0)
		goto out;
	memset(&c, 0, sizeof(c));
	c.serial = serial;
	c.subject = subject;
	c.san = "DNS:device.example";
	c.issuer = ISSUER;
	c.not_before = nb;
	c.not_after = na;
	c.label = "device";
	c.operation = "enroll";
	c.req_subject = "CN=bootstrap";
	c.req_serial = "01";
	c.req_issuer = ISSUER;
	c.remote_addr = "192.0.2.7";
	c.sha1 = sha1;
	c.sha256 = sha256;
	c.key_type = "EC-P-256";
	c.pem = mca_buf_str(pem);
	c.auth_method = "certificate";
	if ((rc = mca_ledger_insert_cert(l, &c)) != 0)
		fprintf(stderr, "chainverify: row %lld: %s\n", n,
		    mca_ledger_errmsg(l, rc));
out:
	X509_NAME_free(name);
	X509_free(x);
	return rc == 0 ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	struct mca_ledger	*l = NULL;
	struct mca_chain_report	 r;
	struct mca_diag		 d;
	struct mca_buf		 pem;
	X509_NAME		*issuer = NULL;
	EVP_PKEY		*k = NULL;
	long long		 want, have, n;
	double			 t0, topen, fill = 0, v1, v2;
	int			 rc;

	if (argc != 3 || mca_num_parse(argv[2], strlen(argv[2]), 1,
	    100000000, &want) != 0) {
		fprintf(stderr, "usage: chainverify LEDGER ROWS\n");
		return 2;
	}
	mca_buf_init(&pem);
	t0 = mono_now();
	if (mca_ledger_open(argv[1], 0, &l, &d) != 0) {
		fprintf(stderr, "chainverify: %s\n", d.msg);
		return 1;
	}
	topen = mono_now() - t0;
	if ((have = count_rows(l)) < 0) {
		fprintf(stderr, "chainverify: %s\n", mca_ledger_errmsg(l, -1));
		return 1;
	}
	if (have < want) {
		if ((k = EVP_EC_gen("P-256")) == NULL ||
		    (issuer = X509_NAME_new()) == NULL ||
		    !X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC,
		    (const unsigned char *)"chainverify throwaway CA", -1, -1,
		    0)) {
			fprintf(stderr, "chainverify: cannot make a key\n");
			return 1;
		}
		t0 = mono_now();
		for (n = have; n < want; n++) {
			if (add_one(l, k, issuer, n, &pem) != 0)
				return 1;
			if (n % 100000 == 99999)
				fprintf(stderr, "chainverify: %lld rows, "
				    "%.0f/s\n", n + 1, (n + 1 - have) /
				    (mono_now() - t0));
		}
		fill = mono_now() - t0;
	}
	t0 = mono_now();
	rc = mca_ledger_chain_verify(l, NULL, &r);
	v1 = mono_now() - t0;
	if (rc != 0 || r.broken) {
		fprintf(stderr, "chainverify: %s\n", rc != 0 ?
		    mca_ledger_errmsg(l, rc) : r.what);
		return 1;
	}
	t0 = mono_now();
	rc = mca_ledger_chain_verify(l, NULL, &r);
	v2 = mono_now() - t0;
	if (rc != 0 || r.broken) {
		fprintf(stderr, "chainverify: %s\n", rc != 0 ?
		    mca_ledger_errmsg(l, rc) : r.what);
		return 1;
	}
	printf("rows=%lld open_s=%.2f fill_s=%.1f verify_s=%.2f "
	    "verify2_s=%.2f us_row=%.1f\n", r.rows, topen, fill, v1, v2,
	    v2 * 1e6 / (double)r.rows);
	mca_ledger_close(l);
	EVP_PKEY_free(k);
	X509_NAME_free(issuer);
	mca_buf_free(&pem);
	return 0;
}
