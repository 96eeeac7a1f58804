/*
 * discover_*.c: the certificate scanner of microca-discover. A fixture
 * tree made here with the openssl program (every container the scanner
 * reads, and the traps: a corrupt PEM, a 1 GiB sparse file, a symlink
 * loop, a FIFO, an unreadable directory, a file changed under the scan),
 * the fields checked against what "openssl x509" says of the same
 * certificates, and TLS endpoints on loopback.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include <netinet/in.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "discover.h"
#include "err.h"
#include "testutil.h"
#include "tlsserv.h"

Suite	*discover_suite(void);

static char	*fx;		/* the fixture directory */

/* What a scan reported. */
struct rec {
	enum mca_disc_event	 event;
	char			*path;
	char			*msg;
	size_t			 ncerts;
	struct mca_disc_cert	 c;
};

struct seen {
	struct rec	*r;
	size_t		 n, cap;
	int		 stop_after;	/* >0: return 7 at that report */
};

static int
seen_cb(void *arg, const struct mca_disc_report *r)
{
	struct seen	*s = arg;
	struct rec	*e;

	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 32 : s->cap * 2;
		ck_assert_ptr_nonnull(s->r = realloc(s->r,
		    s->cap * sizeof(*s->r)));
	}
	e = &s->r[s->n++];
	memset(e, 0, sizeof(*e));
	e->event = r->event;
	ck_assert_ptr_nonnull(r->path);
	ck_assert_ptr_nonnull(e->path = strdup(r->path));
	if (r->event == MCA_DISC_SKIP) {
		ck_assert_ptr_nonnull(r->msg);
		ck_assert_msg(r->msg[0] != '\0' && strchr(r->msg, '\n') ==
		    NULL, "%s: SKIP message \"%s\"", r->path, r->msg);
		ck_assert_ptr_nonnull(e->msg = strdup(r->msg));
	}
	if (r->event == MCA_DISC_FILE_DONE || r->event == MCA_DISC_FILE_KNOWN)
		ck_assert_ptr_nonnull(r->st);
	if (r->event == MCA_DISC_FILE_DONE)
		e->ncerts = r->ncerts;
	if (r->event == MCA_DISC_CERT) {
		ck_assert_ptr_nonnull(r->c);
		ck_assert_str_eq(r->c->location, r->path);
		ck_assert_ptr_nonnull(r->c->der);
		ck_assert_uint_gt(r->c->der_len, 0);
		e->c = *r->c;
		e->c.der = NULL;
	}
	if (s->stop_after > 0 && (int)s->n == s->stop_after)
		return 7;
	return 0;
}

static void
seen_free(struct seen *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++) {
		free(s->r[i].path);
		free(s->r[i].msg);
	}
	free(s->r);
	memset(s, 0, sizeof(*s));
}

/* The fixture's path of name. */
static const char *
fxp(const char *name)
{
	static char	 p[8][1024];
	static int	 i;

	i = (i + 1) % 8;
	(void)snprintf(p[i], sizeof(p[i]), "%s/%s", fx, name);
	return p[i];
}

/* Reports of event at path (NULL: any path). */
static size_t
count(const struct seen *s, enum mca_disc_event ev, const char *path)
{
	size_t	 i, n = 0;

	for (i = 0; i < s->n; i++)
		if (s->r[i].event == ev && (path == NULL ||
		    strcmp(s->r[i].path, path) == 0))
			n++;
	return n;
}

static const struct rec *
find(const struct seen *s, enum mca_disc_event ev, const char *path)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (s->r[i].event == ev && strcmp(s->r[i].path, path) == 0)
			return &s->r[i];
	return NULL;
}

static const char *const	 fixture_sh =
    "set -e; cd '%s'; O='%s'; exec 2>fixture.err\n"
    "$O req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
    " -keyout ca.key -out ca.pem -subj '/CN=Disc Test CA/O=Example'"
    " -days 30\n"
    "$O req -new -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr"
    " -subj '/CN=leaf.example/O=Example, Inc.'\n"
    "printf 'subjectAltName=DNS:leaf.example,DNS:www.leaf.example,"
    "IP:192.0.2.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf\n"
    "$O x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial"
    " 0x00F1E2D3C4B5A69788 -out leaf.pem -days 10 -extfile ext.cnf\n"
    "$O req -x509 -newkey ed25519 -nodes -keyout ed.key -out ed.pem"
    " -subj '/CN=ed' -days 5\n"
    "$O req -x509 -newkey rsa:2048 -sha384 -nodes -keyout rsa.key"
    " -out rsa.pem -subj '/CN=rsa self' -days 5\n"
    "mkdir t t/sub t/excluded\n"
    "cat leaf.pem leaf.key ca.pem ed.pem > t/bundle.pem\n"
    "$O x509 -in leaf.pem -outform DER -out t/leaf.der\n"
    "$O crl2pkcs7 -nocrl -certfile leaf.pem -certfile ca.pem -outform DER"
    " -out t/chain.p7b\n"
    "$O crl2pkcs7 -nocrl -certfile leaf.pem -certfile ca.pem -out t/chain.p7c\n"
    "$O pkcs12 -export -in leaf.pem -inkey leaf.key -certfile ca.pem"
    " -passout pass: -out t/empty.p12\n"
    "$O pkcs12 -export -in rsa.pem -inkey rsa.key -passout pass:s3cret"
    " -out t/pw.pfx\n"
    "$O pkcs12 -export -in ed.pem -inkey ed.key -passout pass:nobody-knows"
    " -out t/unknown.p12\n"
    "$O pkcs12 -export -in ed.pem -inkey ed.key -passout pass: -iter 200000"
    " -out t/slow.p12\n"
    "$O x509 -in ca.pem -trustout -addtrust serverAuth -out t/trusted.crt\n"
    "printf -- '-----BEGIN CERTIFICATE-----\\nMIIB!!notbase64\\n"
    "-----END CERTIFICATE-----\\n' > t/corrupt.pem\n"
    "truncate -s 1G t/big.crt\n"
    "ln -s .. t/sub/up\n"
    "ln -s ../leaf.der t/sub/alias.cer\n"
    "mkfifo t/fifo.pem\n"
    "cp ca.pem t/notes.txt\n"
    "cp ca.pem t/excluded/x.pem\n"
    "cp ed.pem t/UPPER.PEM\n"
    "cat leaf.pem ca.pem > chain.pem\n"
    "chmod 755 . t t/sub t/excluded\n";

static void
fixture_up(void)
{
	fx = tu_mkdtemp("discover");
	if (tu_sh(NULL, fixture_sh, fx, tu_openssl()) != 0) {
		(void)tu_sh(NULL, "cat '%s/fixture.err' >&2", fx);
		ck_abort_msg("the fixture could not be made");
	}
}

static void
fixture_down(void)
{
	tu_rmtree(fx);
	free(fx);
	fx = NULL;
}

static const char *const	 exts[] = {
	"pem", "crt", "cer", "der", "p7b", "p7c", "p12", "pfx"
};
static const char *const	 pws[] = { "wrong", "s3cret" };

static void
tree_opts(struct mca_disc_opts *o, const char *const *paths, size_t npaths)
{
	static const char *const	 excl[] = { "*/excluded" };

	memset(o, 0, sizeof(*o));
	o->paths = paths;
	o->npaths = npaths;
	o->exclude = excl;
	o->nexclude = 1;
	o->extensions = exts;
	o->nextensions = sizeof(exts) / sizeof(exts[0]);
	o->max_file_size = MCA_DISC_DEF_MAX_FILE_SIZE;
	o->p12_passwords = pws;
	o->np12_passwords = 2;
}

static void
read_file(const char *name, struct mca_buf *b)
{
	mca_buf_reset(b);
	ck_assert_int_eq(tu_read(fxp(name), b), 0);
}

/* ---------------------------------------------------------------- parse */

static const struct {
	const char	*file;	/* in the fixture, or NULL: text below */
	const char	*text;
	int		 want;	/* certificates, or an MCA_ERR_* */
	const char	*msg;	/* in d, for an error, or in a SKIP */
} pcases[] = {
	{ "t/bundle.pem", NULL, 3, NULL },
	{ "t/leaf.der", NULL, 1, NULL },
	{ "t/chain.p7b", NULL, 2, NULL },
	{ "t/chain.p7c", NULL, 2, NULL },
	{ "t/empty.p12", NULL, 2, NULL },
	{ "t/pw.pfx", NULL, 1, NULL },
	{ "t/unknown.p12", NULL, 0, "neither the empty password nor the 2 "
	    "configured ones open it" },
	{ "t/trusted.crt", NULL, 1, NULL },
	{ "t/slow.p12", NULL, 0, "PKCS#12: a key derivation over 100000 "
	    "iterations, or not PBKDF2: not opened" },
	{ "t/corrupt.pem", NULL, MCA_ERR_INVAL,
	    "x: PEM block 1 (CERTIFICATE): bad base64" },
	{ "leaf.key", NULL, 0, NULL },
	{ "leaf.csr", NULL, 0, NULL },
	{ NULL, "", 0, NULL },
	{ NULL, "hello, world\n", 0, NULL },
	{ NULL, "-----BEGIN CERTIFICATE-----\nMIIB\n", MCA_ERR_INVAL,
	    "x: PEM block 1 (CERTIFICATE): no END line" },
	{ NULL, "-----BEGIN CERTIFICATE\n", MCA_ERR_INVAL,
	    "x: PEM block 1: a BEGIN line without its label" },
	{ NULL, "-----BEGIN CERTIFICATE-----\nMIIBAA==\n"
	    "-----END CERTIFICATE-----\n", MCA_ERR_INVAL,
	    "x: PEM block 1 (CERTIFICATE): not a valid certificate" },
	{ NULL, "-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\n",
	    MCA_ERR_INVAL, "x: PEM block 1 (PKCS7): not a valid PKCS#7" },
	/* A DER SEQUENCE { SEQUENCE { [0] ... } } that is no certificate */
	{ NULL, "\x30\x07\x30\x05\xa0\x03\x02\x01\x02", MCA_ERR_INVAL,
	    "x: DER: not a valid certificate" },
	/* SEQUENCE { OID signedData, [0] { INTEGER 1 } } */
	{ NULL, "\x30\x10\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"
	    "\xa0\x03\x02\x01\x01",
	    MCA_ERR_INVAL, "x: DER: not a valid PKCS#7" },
	/* SEQUENCE { INTEGER 3, SEQUENCE {} }: PKCS#12's shape only */
	{ NULL, "\x30\x05\x02\x01\x03\x30\x00", MCA_ERR_INVAL,
	    "x: not a valid PKCS#12" },
};

/* Cut short: the DER containers are corrupt, not "no certificate". */
static const char *const	 truncs[] = {
	"t/leaf.der", "t/chain.p7b", "t/empty.p12"
};

START_TEST(t_parse)
{
	struct mca_disc_opts	 o;
	struct mca_buf		 b = MCA_BUF_INIT;
	struct mca_diag		 d;
	struct seen		 s = { 0 };
	const struct rec	*sk;
	int			 rc;

	tree_opts(&o, NULL, 0);
	if (pcases[_i].file != NULL)
		read_file(pcases[_i].file, &b);
	else
		ck_assert_int_eq(mca_buf_add(&b, pcases[_i].text,
		    pcases[_i].text[0] == '\x30' ? (size_t)2 +
		    (unsigned char)pcases[_i].text[1] :
		    strlen(pcases[_i].text)), 0);
	rc = mca_disc_parse_buf(b.data != NULL ? b.data :
	    (const unsigned char *)"", b.len, "x", &o, seen_cb, &s, &d);
	ck_assert_msg(rc == pcases[_i].want, "%s: %d (%s), want %d",
	    pcases[_i].file != NULL ? pcases[_i].file : pcases[_i].text, rc,
	    d.msg, pcases[_i].want);
	if (rc >= 0)
		ck_assert_uint_eq(count(&s, MCA_DISC_CERT, "x"), (size_t)rc);
	if (rc < 0) {
		ck_assert_str_eq(d.msg, pcases[_i].msg);
	} else if (pcases[_i].msg != NULL) {
		ck_assert_ptr_nonnull(sk = find(&s, MCA_DISC_SKIP, "x"));
		ck_assert_msg(strstr(sk->msg, pcases[_i].msg) != NULL, "%s",
		    sk->msg);
	} else
		ck_assert_uint_eq(count(&s, MCA_DISC_SKIP, NULL), 0);
	seen_free(&s);
	mca_buf_free(&b);
}
END_TEST

START_TEST(t_parse_truncated)
{
	struct mca_disc_opts	 o;
	struct mca_buf		 b = MCA_BUF_INIT;
	struct mca_diag		 d;
	struct seen		 s = { 0 };
	size_t			 l;
	int			 rc;

	tree_opts(&o, NULL, 0);
	read_file(truncs[_i], &b);
	/* The outer length no longer fits: quietly not a container. */
	rc = mca_disc_parse_buf(b.data, b.len - 1, "x", &o, seen_cb, &s, &d);
	ck_assert_int_eq(rc, 0);
	/*
	 * 16 bytes cut and the outer length made to fit again: an inner
	 * length overruns, a container of ours is corrupt.
	 */
	ck_assert_int_eq(b.data[1], 0x82);
	l = ((size_t)b.data[2] << 8 | b.data[3]) - 16;
	b.data[2] = (unsigned char)(l >> 8);
	b.data[3] = (unsigned char)l;
	rc = mca_disc_parse_buf(b.data, b.len - 16, "x", &o, seen_cb, &s, &d);
	ck_assert_msg(rc == MCA_ERR_INVAL, "%s: %d", truncs[_i], rc);
	ck_assert_str_eq(d.msg, _i == 0 ? "x: DER: not a valid certificate" :
	    _i == 1 ? "x: DER: not a valid PKCS#7" : "x: not a valid PKCS#12");
	ck_assert_uint_eq(count(&s, MCA_DISC_CERT, NULL), 0);
	seen_free(&s);
	mca_buf_free(&b);
}
END_TEST

/* The callback's stop value comes back, and nothing more is reported. */
START_TEST(t_parse_stop)
{
	struct mca_disc_opts	 o;
	struct mca_buf		 b = MCA_BUF_INIT;
	struct mca_diag		 d;
	struct seen		 s = { 0 };

	tree_opts(&o, NULL, 0);
	read_file("t/bundle.pem", &b);
	s.stop_after = 2;
	ck_assert_int_eq(mca_disc_parse_buf(b.data, b.len, "x", &o, seen_cb,
	    &s, &d), 7);
	ck_assert_uint_eq(s.n, 2);
	seen_free(&s);
	mca_buf_free(&b);
}
END_TEST

/* ---------------------------------------------------------------- fields */

/* One line of "openssl x509" about file (PEM), sed expression sx. */
static void
x509_says(const char *file, const char *args, const char *sx, char *out,
    size_t outlen)
{
	struct mca_buf	 b = MCA_BUF_INIT;

	ck_assert_int_eq(tu_sh(&b, "'%s' x509 -in '%s' -noout %s | sed -n "
	    "'%s' | head -n 1 | tr -d '\\n'", tu_openssl(), fxp(file), args,
	    sx), 0);
	ck_assert_uint_lt(b.len, outlen);
	(void)snprintf(out, outlen, "%s", mca_buf_str(&b));
	mca_buf_free(&b);
}

struct want {
	char	 sha256[128], serial[128], subject[512], issuer[512];
	char	 sans[512], nb[64], na[64], keyalg[64], bits[16];
	char	 sigalg[64], ca[16];
};

static void
want_of(const char *file, struct want *w)
{
	char	*p, *q;

	x509_says(file, "-fingerprint -sha256", "s/^.*Fingerprint=//p",
	    w->sha256, sizeof(w->sha256));
	for (p = q = w->sha256; *p != '\0'; p++)
		if (*p != ':')
			*q++ = *p;
	*q = '\0';
	x509_says(file, "-serial", "s/^serial=//p", w->serial,
	    sizeof(w->serial));
	x509_says(file, "-subject -nameopt RFC2253", "s/^subject=//p",
	    w->subject, sizeof(w->subject));
	x509_says(file, "-issuer -nameopt RFC2253", "s/^issuer=//p",
	    w->issuer, sizeof(w->issuer));
	x509_says(file, "-ext subjectAltName",
	    "s/^ *\\(DNS:.*\\)/\\1/p", w->sans, sizeof(w->sans));
	for (p = w->sans; (p = strstr(p, "IP Address:")) != NULL; )
		memmove(p + 2, p + 10, strlen(p + 10) + 1);
	x509_says(file, "-startdate -dateopt iso_8601", "s/^notBefore=//p",
	    w->nb, sizeof(w->nb));
	x509_says(file, "-enddate -dateopt iso_8601", "s/^notAfter=//p",
	    w->na, sizeof(w->na));
	if ((p = strchr(w->nb, ' ')) != NULL)
		*p = 'T';
	if ((p = strchr(w->na, ' ')) != NULL)
		*p = 'T';
	x509_says(file, "-text", "s/^ *Public Key Algorithm: //p",
	    w->keyalg, sizeof(w->keyalg));
	x509_says(file, "-text", "s/^ *Public-Key: (\\([0-9]*\\) bit)/\\1/p",
	    w->bits, sizeof(w->bits));
	x509_says(file, "-text", "s/^ *Signature Algorithm: //p",
	    w->sigalg, sizeof(w->sigalg));
	x509_says(file, "-text", "s/^ *CA:\\(TRUE\\|FALSE\\).*/\\1/p",
	    w->ca, sizeof(w->ca));
}

/* The key type mca_key_describe() gives for openssl's words. */
static void
check_key(const struct mca_disc_cert *c, const struct want *w)
{
	char	 k[64];

	if (strcmp(w->keyalg, "rsaEncryption") == 0)
		(void)snprintf(k, sizeof(k), "RSA-%s", w->bits);
	else if (strcmp(w->keyalg, "id-ecPublicKey") == 0)
		(void)snprintf(k, sizeof(k), "EC-P-%s", w->bits);
	else
		(void)snprintf(k, sizeof(k), "%s", w->keyalg);
	ck_assert_str_eq(c->key_type, k);
	if (w->bits[0] != '\0')
		ck_assert_int_eq(c->key_bits, atoi(w->bits));
	else	/* ED25519: openssl prints no size; EVP_PKEY_get_bits 256 */
		ck_assert_int_eq(c->key_bits, 256);
}

static const char *const	 srcs[] = {
	"leaf.pem", "ca.pem", "ed.pem", "rsa.pem"
};

/*
 * Every certificate of the tree scan, from every kind of container, is
 * one of srcs: each field equals what openssl x509 says of it.
 */
START_TEST(t_fields)
{
	struct mca_disc_opts	 o;
	struct mca_diag		 d;
	struct seen		 s = { 0 };
	struct want		 w[4];
	const struct mca_disc_cert *c;
	const char		*paths[1];
	size_t			 i, k, nk[4] = { 0 };

	for (k = 0; k < 4; k++)
		want_of(srcs[k], &w[k]);
	paths[0] = fxp("t");
	/* The fixture is what it is meant to be. */
	ck_assert_str_eq(w[0].serial, "F1E2D3C4B5A69788");
	ck_assert_str_eq(w[0].ca, "FALSE");
	ck_assert_str_eq(w[1].ca, "TRUE");
	ck_assert_str_eq(w[3].sigalg, "sha384WithRSAEncryption");
	tree_opts(&o, paths, 1);
	ck_assert_int_eq(mca_disc_scan_files(&o, seen_cb, &s, &d), 0);
	for (i = 0; i < s.n; i++) {
		if (s.r[i].event != MCA_DISC_CERT)
			continue;
		c = &s.r[i].c;
		for (k = 0; k < 4; k++)
			if (strcmp(c->sha256, w[k].sha256) == 0)
				break;
		ck_assert_msg(k < 4, "%s #%d: %s is none of ours", c->location,
		    c->index, c->sha256);
		nk[k]++;
		ck_assert_str_eq(c->serial, w[k].serial);
		ck_assert_str_eq(c->subject, w[k].subject);
		ck_assert_str_eq(c->issuer, w[k].issuer);
		ck_assert_str_eq(c->sans, w[k].sans);
		ck_assert_str_eq(c->not_before, w[k].nb);
		ck_assert_str_eq(c->not_after, w[k].na);
		ck_assert_str_eq(c->sig_alg, w[k].sigalg);
		ck_assert_int_eq(c->is_ca, strcmp(w[k].ca, "TRUE") == 0);
		ck_assert_uint_eq(strlen(c->sha1), 40);
		check_key(c, &w[k]);
	}
	/* leaf: bundle, der, 2 p7, p12, alias; ca: bundle, 2 p7, p12,
	   trusted */
	ck_assert_uint_eq(nk[0], 6);
	ck_assert_uint_eq(nk[1], 5);
	ck_assert_uint_eq(nk[2], 2);	/* bundle, UPPER.PEM */
	ck_assert_uint_eq(nk[3], 1);	/* pw.pfx */
	ck_assert_str_eq(w[0].sans,
	    "DNS:leaf.example, DNS:www.leaf.example, IP:192.0.2.1");
	seen_free(&s);
}
END_TEST

/* ---------------------------------------------------------------- walk */

static const struct {
	const char	*path;
	int		 certs;	/* FILE_DONE with this many; -1: SKIP */
	const char	*msg;	/* in the SKIP */
} wcases[] = {
	{ "t/bundle.pem", 3, NULL },
	{ "t/leaf.der", 1, NULL },
	{ "t/chain.p7b", 2, NULL },
	{ "t/chain.p7c", 2, NULL },
	{ "t/empty.p12", 2, NULL },
	{ "t/pw.pfx", 1, NULL },
	{ "t/trusted.crt", 1, NULL },
	{ "t/UPPER.PEM", 1, NULL },
	{ "t/sub/alias.cer", 1, NULL },
	{ "t/unknown.p12", -1, "PKCS#12: neither the empty password nor the "
	    "2 configured ones open it" },
	{ "t/slow.p12", -1, "PKCS#12: a key derivation over 100000 " },
	{ "t/corrupt.pem", -1, "/t/corrupt.pem: PEM block 1 (CERTIFICATE): "
	    "bad base64" },
	{ "t/big.crt", -1, "larger than max_file_size (1073741824 > 16777216 "
	    "bytes): not read" },
	{ "t/fifo.pem", -1, "not a regular file: not opened" },
};

START_TEST(t_walk)
{
	struct mca_disc_opts	 o;
	struct mca_diag		 d;
	struct seen		 s = { 0 };
	const struct rec	*r;
	const char		*paths[] = { fxp("t") };
	size_t			 i, j, reported = 0;

	tree_opts(&o, paths, 1);
	ck_assert_int_eq(mca_disc_scan_files(&o, seen_cb, &s, &d), 0);
	for (i = 0; i < sizeof(wcases) / sizeof(wcases[0]); i++) {
		const char	*p = fxp(wcases[i].path);

		if (wcases[i].certs >= 0) {
			ck_assert_msg((r = find(&s, MCA_DISC_FILE_DONE, p)) !=
			    NULL, "%s: no FILE_DONE", p);
			ck_assert_uint_eq(r->ncerts, (size_t)wcases[i].certs);
			ck_assert_uint_eq(count(&s, MCA_DISC_CERT, p),
			    (size_t)wcases[i].certs);
			ck_assert_uint_eq(count(&s, MCA_DISC_SKIP, p), 0);
		} else {
			ck_assert_msg((r = find(&s, MCA_DISC_SKIP, p)) != NULL,
			    "%s: no SKIP", p);
			ck_assert_msg(strstr(r->msg, wcases[i].msg) != NULL,
			    "%s: %s", p, r->msg);
			ck_assert_uint_eq(count(&s, MCA_DISC_FILE_DONE, p), 0);
			ck_assert_uint_eq(count(&s, MCA_DISC_SKIP, p), 1);
		}
		reported += count(&s, MCA_DISC_FILE_DONE, p) +
		    count(&s, MCA_DISC_SKIP, p);
		/* Indexes 0..n-1, each once: the loop gave nothing twice. */
		for (j = 0; j < s.n; j++)
			if (s.r[j].event == MCA_DISC_CERT &&
			    strcmp(s.r[j].path, p) == 0)
				ck_assert_int_lt(s.r[j].c.index,
				    wcases[i].certs);
	}
	/*
	 * Nothing else: not notes.txt (extension), not excluded/ (glob),
	 * nothing through sub/up (a loop back to t).
	 */
	ck_assert_uint_eq(count(&s, MCA_DISC_FILE_DONE, NULL) +
	    count(&s, MCA_DISC_SKIP, NULL), reported);
	ck_assert_uint_eq(count(&s, MCA_DISC_CERT, NULL), 14);
	for (j = 0; j < s.n; j++)
		ck_assert_msg(strstr(s.r[j].path, "/up/") == NULL &&
		    strstr(s.r[j].path, "excluded") == NULL &&
		    strstr(s.r[j].path, "notes") == NULL, "%s", s.r[j].path);
	seen_free(&s);
}
END_TEST

/*
 * A path given as a file is read whatever its extension; one given
 * twice, or through the loop, is a directory entered once.
 */
START_TEST(t_walk_explicit)
{
	struct mca_disc_opts	 o;
	struct mca_diag		 d;
	struct seen		 s = { 0 };
	const char		*paths[] = { fxp("t/notes.txt"), fxp("t/sub"),
	    fxp("t/sub/up/sub"), fxp("nonexistent"), fxp("t/fifo.pem") };

	tree_opts(&o, paths, 5);
	ck_assert_int_eq(mca_disc_scan_files(&o, seen_cb, &s, &d), 0);
	ck_assert_uint_eq(count(&s, MCA_DISC_CERT, fxp("t/notes.txt")), 1);
	ck_assert_uint_eq(count(&s, MCA_DISC_CERT, fxp("t/sub/alias.cer")), 1);
	/* t/sub/up leads to t, entered this once */
	ck_assert_uint_eq(count(&s, MCA_DISC_FILE_DONE,
	    fxp("t/sub/up/bundle.pem")), 1);
	ck_assert_uint_eq(count(&s, MCA_DISC_CERT, NULL), 1 + 14);
	ck_assert_ptr_nonnull(find(&s, MCA_DISC_SKIP, fxp("nonexistent")));
	ck_assert_str_eq(find(&s, MCA_DISC_SKIP, fxp("nonexistent"))->msg,
	    "No such file or directory");
	ck_assert_str_eq(find(&s, MCA_DISC_SKIP, fxp("t/fifo.pem"))->msg,
	    "not a regular file or directory: not opened");
	seen_free(&s);
}
END_TEST

/* known() says yes to all: nothing is opened, every file FILE_KNOWN. */
static int
known_all(void *arg, const char *path, const struct stat *st)
{
	size_t	*n = arg;

	(void)path;
	ck_assert(S_ISREG(st->st_mode));
	(*n)++;
	return 1;
}

START_TEST(t_known)
{
	struct mca_disc_opts	 o;
	struct mca_diag		 d;
	struct seen		 s = { 0 };
	const char		*paths[] = { fxp("t") };
	size_t			 nknown = 0;

	tree_opts(&o, paths, 1);
	o.known = known_all;
	o.arg = &nknown;
	ck_assert_int_eq(mca_disc_scan_files(&o, seen_cb, &s, &d), 0);
	ck_assert_uint_eq(count(&s, MCA_DISC_CERT, NULL), 0);
	ck_assert_uint_eq(count(&s, MCA_DISC_FILE_DONE, NULL), 0);
	/* 13 regular files of the wanted extensions (not the FIFO) */
	ck_assert_uint_eq(count(&s, MCA_DISC_FILE_KNOWN, NULL), 13);
	ck_assert_uint_eq(nknown, 13);
	ck_assert_uint_eq(count(&s, MCA_DISC_SKIP, NULL), 1);	/* FIFO */
	ck_assert_ptr_nonnull(find(&s, MCA_DISC_FILE_KNOWN, fxp("t/big.crt")));
	seen_free(&s);
}
END_TEST

/* The callback's stop value ends the scan and is returned. */
START_TEST(t_walk_stop)
{
	struct mca_disc_opts	 o;
	struct mca_diag		 d;
	struct seen		 s = { 0 };
	const char		*paths[] = { fxp("t") };

	tree_opts(&o, paths, 1);
	s.stop_after = 3;
	ck_assert_int_eq(mca_disc_scan_files(&o, seen_cb, &s, &d), 7);
	ck_assert_uint_eq(s.n, 3);
	seen_free(&s);
}
END_TEST

/*
 * known() as the hook between the stat and the open: the file is
 * rewritten (another size), or replaced by a FIFO. The first is
 * "changed during the scan"; the second is never read (the scan would
 * hang on a FIFO opened without O_NONBLOCK).
 */
struct swap {
	const char	*target;
	int		 fifo;
	int		 done;
};

static int
known_swap(void *arg, const char *path, const struct stat *st)
{
	struct swap	*w = arg;

	(void)st;
	if (strcmp(path, w->target) != 0)
		return 0;
	ck_assert_int_eq(unlink(path), 0);
	if (w->fifo)
		ck_assert_int_eq(mkfifo(path, 0644), 0);
	else
		ck_assert_int_eq(tu_writef(path, "%s", "not a cert now\n"), 0);
	w->done++;
	return 0;
}

START_TEST(t_changed)
{
	struct mca_disc_opts	 o;
	struct mca_diag		 d;
	struct seen		 s = { 0 };
	struct swap		 w = { 0 };
	char			*dir;
	const char		*paths[1];
	char			 target[1024];
	const struct rec	*r;

	dir = tu_mkdtemp("discover-changed");
	ck_assert_int_eq(tu_sh(NULL, "cp '%s' '%s/a.pem' && cp '%s' "
	    "'%s/b.pem'", fxp("ca.pem"), dir, fxp("leaf.pem"), dir), 0);
	paths[0] = dir;
	tree_opts(&o, paths, 1);
	(void)snprintf(target, sizeof(target), "%s/%s", dir,
	    _i == 0 ? "a.pem" : "b.pem");
	w.target = target;
	w.fifo = _i;
	o.known = known_swap;
	o.arg = &w;
	ck_assert_int_eq(mca_disc_scan_files(&o, seen_cb, &s, &d), 0);
	ck_assert_int_eq(w.done, 1);
	ck_assert_ptr_nonnull(r = find(&s, MCA_DISC_SKIP, target));
	ck_assert_str_eq(r->msg, _i == 0 ? "changed during the scan" :
	    "not a regular file (changed during the scan)");
	ck_assert_uint_eq(count(&s, MCA_DISC_CERT, target), 0);
	ck_assert_uint_eq(count(&s, MCA_DISC_FILE_DONE, target), 0);
	/* the other file is read */
	ck_assert_uint_eq(count(&s, MCA_DISC_CERT, NULL), 1);
	seen_free(&s);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * An unreadable directory and file, for a user who may not read them:
 * the tests run as root, so a forked child becomes nobody (65534).
 * One SKIP each; the rest of the tree is read.
 */
START_TEST(t_unreadable)
{
	struct mca_disc_opts	 o;
	struct mca_diag		 d;
	struct seen		 s = { 0 };
	char			*dir, sub[1024], f[1024];
	const char		*paths[1];
	const struct rec	*r;
	pid_t			 pid;
	int			 st, bad = 0;

	if (geteuid() != 0) {
		fprintf(stderr, "t_unreadable: not root, cannot become "
		    "another user: passed over\n");
		return;
	}
	dir = tu_mkdtemp("discover-perm");
	(void)snprintf(sub, sizeof(sub), "%s/closed", dir);
	(void)snprintf(f, sizeof(f), "%s/secret.pem", dir);
	ck_assert_int_eq(tu_sh(NULL, "chmod 755 '%s' && mkdir '%s' && "
	    "cp '%s' '%s/in.pem' && cp '%s' '%s' && cp '%s' '%s/open.pem' && "
	    "chmod 700 '%s' && chmod 600 '%s' && chmod 644 '%s/open.pem'",
	    dir, sub, fxp("ca.pem"), sub, fxp("ca.pem"), f, fxp("leaf.pem"),
	    dir, sub, f, dir), 0);
	paths[0] = dir;
	tree_opts(&o, paths, 1);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
		    setuid(65534) != 0)
			_exit(2);
		if (mca_disc_scan_files(&o, seen_cb, &s, &d) != 0)
			_exit(3);
		if ((r = find(&s, MCA_DISC_SKIP, sub)) == NULL ||
		    strcmp(r->msg, "Permission denied") != 0)
			bad |= 4;
		if ((r = find(&s, MCA_DISC_SKIP, f)) == NULL ||
		    strcmp(r->msg, "Permission denied") != 0)
			bad |= 8;
		if (count(&s, MCA_DISC_SKIP, NULL) != 2)
			bad |= 16;
		if (count(&s, MCA_DISC_CERT, NULL) != 1)
			bad |= 32;
		_exit(bad);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child: status %d", st);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* ---------------------------------------------------------------- TLS */

#define TLS_MS	2000	/* every endpoint call: a bound, never asserted */

/* The server's SNI: "localhost" gets the ED25519 certificate alone. */
static int
sni_cb(SSL *ssl, int *al, void *arg)
{
	const char	*name;

	(void)al;
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name != NULL && strcmp(name, "localhost") == 0)
		(void)SSL_set_SSL_CTX(ssl, arg);
	return SSL_TLSEXT_ERR_OK;
}

/*
 * A child that serves handshakes on s until killed: the chain leaf, CA
 * by default. The parent kills it with SIGTERM.
 */
static pid_t
serve(int s)
{
	SSL_CTX		*def, *ed;
	SSL		*ssl;
	sigset_t	 set, old;
	pid_t		 pid;
	int		 fd;

	/*
	 * Check's runner kills its process group on SIGTERM and the child
	 * inherits that handler: no SIGTERM reaches the child before it has
	 * the default one (as tests/avxmock.c does).
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &set, &old), 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid > 0) {
		ck_assert_int_eq(sigprocmask(SIG_SETMASK, &old, NULL), 0);
		(void)close(s);
		return pid;
	}
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGINT, SIG_DFL);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	def = ts_server_ctx(fxp("chain.pem"), fxp("leaf.key"));
	ed = ts_server_ctx(fxp("ed.pem"), fxp("ed.key"));
	if (def == NULL || ed == NULL)
		_exit(1);
	SSL_CTX_set_tlsext_servername_callback(def, sni_cb);
	SSL_CTX_set_tlsext_servername_arg(def, ed);
	for (;;)
		if ((ssl = ts_accept(s, def, &fd)) != NULL)
			ts_close(ssl, fd);
}

static void
unserve(pid_t pid)
{
	int	 st;

	(void)kill(pid, SIGTERM);
	(void)waitpid(pid, &st, 0);
}

/* sha256 of the one certificate of a fixture PEM file. */
static void
sha_of(const char *name, char *out, size_t outlen)
{
	struct mca_buf	 b = MCA_BUF_INIT;
	struct mca_diag	 d;
	struct seen	 s = { 0 };

	read_file(name, &b);
	ck_assert_int_eq(mca_disc_parse_buf(b.data, b.len, name, NULL,
	    seen_cb, &s, &d), 1);
	(void)snprintf(out, outlen, "%s", s.r[0].c.sha256);
	seen_free(&s);
	mca_buf_free(&b);
}

/* 127.0.0.1 (no SNI: the chain), localhost (SNI: the ED25519 one). */
START_TEST(t_tls_chain)
{
	struct mca_diag	 d;
	struct seen	 s = { 0 };
	char		 hp[64], leaf[65], ca[65], ed[65];
	unsigned	 port;
	pid_t		 pid;
	int		 rc;

	sha_of("leaf.pem", leaf, sizeof(leaf));
	sha_of("ca.pem", ca, sizeof(ca));
	sha_of("ed.pem", ed, sizeof(ed));
	pid = serve(ts_listen(&port));
	(void)snprintf(hp, sizeof(hp), "%s:%u", _i == 0 ? "127.0.0.1" :
	    "localhost", port);
	rc = mca_disc_scan_endpoint(hp, TLS_MS, seen_cb, &s, &d);
	unserve(pid);
	ck_assert_msg(rc == (_i == 0 ? 2 : 1), "%s: %d: %s", hp, rc, d.msg);
	ck_assert_uint_eq(s.n, (size_t)rc);
	ck_assert_str_eq(s.r[0].path, hp);
	ck_assert_str_eq(s.r[0].c.location, hp);
	ck_assert_int_eq(s.r[0].c.index, 0);
	ck_assert_str_eq(s.r[0].c.sha256, _i == 0 ? leaf : ed);
	if (_i == 0) {
		ck_assert_int_eq(s.r[1].c.index, 1);
		ck_assert_str_eq(s.r[1].c.sha256, ca);
		ck_assert_str_eq(s.r[0].c.key_type, "RSA-2048");
		ck_assert_str_eq(s.r[1].c.key_type, "EC-P-256");
	}
	seen_free(&s);
}
END_TEST

/* [::1]:port, when this machine has IPv6 loopback. */
START_TEST(t_tls_v6)
{
	struct sockaddr_in6	 sin;
	socklen_t		 slen = sizeof(sin);
	struct mca_diag		 d;
	struct seen		 s = { 0 };
	char			 hp[64];
	pid_t			 pid;
	int			 fd, rc;

	ck_assert_int_ge(fd = socket(AF_INET6, SOCK_STREAM, 0), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin6_family = AF_INET6;
	sin.sin6_addr = in6addr_loopback;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		fprintf(stderr, "t_tls_v6: no IPv6 loopback here (%s): "
		    "passed over\n", strerror(errno));
		(void)close(fd);
		return;
	}
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	(void)snprintf(hp, sizeof(hp), "[::1]:%u", ntohs(sin.sin6_port));
	pid = serve(fd);
	rc = mca_disc_scan_endpoint(hp, TLS_MS, seen_cb, &s, &d);
	unserve(pid);
	ck_assert_msg(rc == 2, "%s: %d: %s", hp, rc, d.msg);
	ck_assert_str_eq(s.r[1].c.location, hp);
	seen_free(&s);
}
END_TEST

/* A port nobody listens on: refused, at once. */
START_TEST(t_tls_refused)
{
	struct mca_diag	 d;
	struct seen	 s = { 0 };
	char		 hp[64], want[128];
	unsigned	 port;

	(void)close(ts_listen(&port));
	(void)snprintf(hp, sizeof(hp), "127.0.0.1:%u", port);
	ck_assert_int_eq(mca_disc_scan_endpoint(hp, TLS_MS, seen_cb, &s, &d),
	    MCA_ERR_IO);
	(void)snprintf(want, sizeof(want), "%s: connection refused", hp);
	ck_assert_str_eq(d.msg, want);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

/*
 * A listening socket nobody reads: the kernel completes the connect,
 * the ClientHello goes unanswered, the deadline ends it.
 */
START_TEST(t_tls_silent)
{
	struct mca_diag	 d;
	struct seen	 s = { 0 };
	char		 hp[64], want[128];
	unsigned	 port;
	int		 l;

	l = ts_listen(&port);
	(void)snprintf(hp, sizeof(hp), "127.0.0.1:%u", port);
	ck_assert_int_eq(mca_disc_scan_endpoint(hp, TLS_MS, seen_cb, &s, &d),
	    MCA_ERR_IO);
	(void)close(l);
	(void)snprintf(want, sizeof(want), "%s: no TLS answer within %d ms",
	    hp, TLS_MS);
	ck_assert_str_eq(d.msg, want);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

static const char *const	 badhp[] = {
	"", "nohost", "host:", "host:0", "host:65536", "host:12x", ":443",
	"[::1]443", "::1:443", "[::1:443", "[]:443", "host: 443",
};

START_TEST(t_tls_bad)
{
	struct mca_diag	 d;
	struct seen	 s = { 0 };

	ck_assert_int_eq(mca_disc_scan_endpoint(badhp[_i], TLS_MS, seen_cb,
	    &s, &d), MCA_ERR_INVAL);
	ck_assert_msg(strstr(d.msg, "not host:port") != NULL, "%s", d.msg);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

Suite *
discover_suite(void)
{
	Suite	*s = suite_create("discover");
	TCase	*tc;

	tc = tcase_create("scan");
	tcase_add_unchecked_fixture(tc, fixture_up, fixture_down);
	tcase_add_loop_test(tc, t_parse, 0, sizeof(pcases) / sizeof(pcases[0]));
	tcase_add_loop_test(tc, t_parse_truncated, 0,
	    sizeof(truncs) / sizeof(truncs[0]));
	tcase_add_test(tc, t_parse_stop);
	tcase_add_test(tc, t_fields);
	tcase_add_test(tc, t_walk);
	tcase_add_test(tc, t_walk_explicit);
	tcase_add_test(tc, t_known);
	tcase_add_test(tc, t_walk_stop);
	tcase_add_loop_test(tc, t_changed, 0, 2);
	tcase_add_test(tc, t_unreadable);
	tcase_add_loop_test(tc, t_tls_chain, 0, 2);
	tcase_add_test(tc, t_tls_v6);
	tcase_add_test(tc, t_tls_refused);
	tcase_add_test(tc, t_tls_silent);
	tcase_add_loop_test(tc, t_tls_bad, 0, sizeof(badhp) / sizeof(badhp[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(discover_suite());
}
