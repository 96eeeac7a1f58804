#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "err.h"

static int
hex_upper(const unsigned char *p, size_t n, char *out, size_t outlen)
{
	static const char	 hx[] = "0123456789ABCDEF";
	size_t			 i;

	if (outlen == 0 || n > (outlen - 1) / 2) {
		if (outlen > 0)
			out[0] = '\0';
		return MCA_ERR_TOOBIG;
	}
	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

int
mca_asn1int_hex(const ASN1_INTEGER *ai, char *out, size_t outlen)
{
	BIGNUM	*bn = NULL;
	char	*h = NULL;
	int	 rc = MCA_ERR_CRYPTO;

	if (outlen > 0)
		out[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL ||
	    (h = BN_bn2hex(bn)) == NULL)
		goto out;
	/* Serials are positive (RFC 5280 4.1.2.2); a negative one is shown as is. */
	if (strlen(h) + 1 > outlen) {
		rc = MCA_ERR_TOOBIG;
		goto out;
	}
	memcpy(out, h, strlen(h) + 1);
	rc = 0;
out:
	OPENSSL_free(h);
	BN_free(bn);
	return rc;
}

int
mca_cert_serial_hex(const X509 *x, char *out, size_t outlen)
{
	return mca_asn1int_hex(X509_get0_serialNumber(x), out, outlen);
}

int
mca_cert_thumbprint(const X509 *x, const EVP_MD *md, char *out,
    size_t outlen)
{
	unsigned char	 d[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0;

	if (outlen > 0)
		out[0] = '\0';
	if (!X509_digest(x, md, d, &n))
		return MCA_ERR_CRYPTO;
	return hex_upper(d, n, out, outlen);
}

int
mca_name_string(const X509_NAME *n, char *out, size_t outlen)
{
	BIO	*b = NULL;
	char	*p = NULL;
	long	 len;
	int	 rc = MCA_ERR_CRYPTO;

	if (outlen == 0)
		return MCA_ERR_TOOBIG;
	out[0] = '\0';
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return MCA_ERR_NOMEM;
	if (X509_NAME_print_ex(b, n, 0,
	    (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT) < 0)
		goto out;
	len = BIO_get_mem_data(b, &p);
	if (len < 0)
		goto out;
	if ((size_t)len < outlen) {
		memcpy(out, p, (size_t)len);
		out[len] = '\0';
	} else {
		/* Too long for a log line or ledger column: say so. */
		memcpy(out, p, outlen - 1);
		out[outlen - 1] = '\0';
		if (outlen > 4)
			memcpy(out + outlen - 4, "...", 4);
	}
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

int
mca_cert_san_string(const X509 *x, struct mca_buf *out)
{
	GENERAL_NAMES	*gens = NULL;
	int		 rc, crit = -1;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL)
		return crit == -2 ? MCA_ERR_INVAL : 0;
	rc = mca_gens_string(gens, out);
	GENERAL_NAMES_free(gens);
	return rc;
}

int
mca_gens_string(const GENERAL_NAMES *gens, struct mca_buf *out)
{
	const GENERAL_NAME	*g;
	const unsigned char	*ip;
	char			 ipbuf[64];
	int			 i, n, rc = 0;
	const char		*sep = "";

	n = sk_GENERAL_NAME_num(gens);
	for (i = 0; i < n && rc == 0; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		switch (g->type) {
		case GEN_DNS:
			rc = mca_buf_printf(out, "%sDNS:%.*s", sep,
			    g->d.dNSName->length, g->d.dNSName->data);
			break;
		case GEN_EMAIL:
			rc = mca_buf_printf(out, "%semail:%.*s", sep,
			    g->d.rfc822Name->length, g->d.rfc822Name->data);
			break;
		case GEN_URI:
			rc = mca_buf_printf(out, "%sURI:%.*s", sep,
			    g->d.uniformResourceIdentifier->length,
			    g->d.uniformResourceIdentifier->data);
			break;
		case GEN_IPADD:
			ip = g->d.iPAddress->data;
			if (g->d.iPAddress->length == 4)
				(void)snprintf(ipbuf, sizeof(ipbuf),
				    "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
			else if (g->d.iPAddress->length == 16)
				(void)snprintf(ipbuf, sizeof(ipbuf),
				    "%X:%X:%X:%X:%X:%X:%X:%X",
				    ip[0] << 8 | ip[1], ip[2] << 8 | ip[3],
				    ip[4] << 8 | ip[5], ip[6] << 8 | ip[7],
				    ip[8] << 8 | ip[9], ip[10] << 8 | ip[11],
				    ip[12] << 8 | ip[13], ip[14] << 8 | ip[15]);
			else
				(void)snprintf(ipbuf, sizeof(ipbuf), "?");
			rc = mca_buf_printf(out, "%sIP:%s", sep, ipbuf);
			break;
		case GEN_DIRNAME:
			rc = mca_buf_printf(out, "%sDirName", sep);
			break;
		case GEN_RID:
			rc = mca_buf_printf(out, "%sRID", sep);
			break;
		default:
			rc = mca_buf_printf(out, "%sothername", sep);
			break;
		}
		sep = ", ";
	}
	return rc;
}

int
mca_time_iso(time_t t, char *out, size_t outlen)
{
	struct tm	 tm;

	if (outlen > 0)
		out[0] = '\0';
	if (gmtime_r(&t, &tm) == NULL)
		return MCA_ERR_INVAL;
	if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return MCA_ERR_TOOBIG;
	return 0;
}

int
mca_asn1time_iso(const ASN1_TIME *t, char *out, size_t outlen)
{
	struct tm	 tm;

	if (outlen > 0)
		out[0] = '\0';
	if (!ASN1_TIME_to_tm(t, &tm))
		return MCA_ERR_INVAL;
	if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return MCA_ERR_TOOBIG;
	return 0;
}

int
mca_key_describe(const EVP_PKEY *k, char *out, size_t outlen)
{
	char		 grp[64];
	size_t		 glen = 0;
	const char	*nist;
	int		 nid, n;

	if (outlen > 0)
		out[0] = '\0';
	if (k == NULL)
		return MCA_ERR_INVAL;
	if (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS"))
		n = snprintf(out, outlen, "%s-%d",
		    EVP_PKEY_is_a(k, "RSA") ? "RSA" : "RSA-PSS", EVP_PKEY_get_bits(k));
	else if (EVP_PKEY_is_a(k, "EC")) {
		if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
		    grp, sizeof(grp), &glen))
			(void)snprintf(grp, sizeof(grp), "explicit");
		nid = OBJ_txt2nid(grp);
		nist = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
		n = snprintf(out, outlen, "EC-%s", nist != NULL ? nist : grp);
	} else if (EVP_PKEY_is_a(k, "DSA"))
		n = snprintf(out, outlen, "DSA-%d", EVP_PKEY_get_bits(k));
	else
		n = snprintf(out, outlen, "%s", EVP_PKEY_get0_type_name(k) != NULL ?
		    EVP_PKEY_get0_type_name(k) : "unknown");
	if (n < 0 || (size_t)n >= outlen)
		return MCA_ERR_TOOBIG;
	return 0;
}

const EVP_MD *
mca_md_by_name(const char *name)
{
	static const struct {
		const char	*name;
		const EVP_MD	*(*md)(void);
	} mds[] = {
		{ "SHA256", EVP_sha256 },
		{ "SHA-256", EVP_sha256 },
		{ "SHA384", EVP_sha384 },
		{ "SHA-384", EVP_sha384 },
		{ "SHA512", EVP_sha512 },
		{ "SHA-512", EVP_sha512 },
	};
	size_t	 i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(mds) / sizeof(mds[0]); i++)
		if (strcasecmp(name, mds[i].name) == 0)
			return mds[i].md();
	return NULL;
}
