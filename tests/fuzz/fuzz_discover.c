/*
 * libFuzzer harness for lib/discover_parse.c: the scanner reads every
 * file it finds, so each byte is hostile. Checks what the callback is
 * promised (strings terminated within their fields, indexes in order, a
 * SKIP with one non-empty line) and what the caller is (a count equal to
 * the certificates reported, or MCA_ERR_INVAL with one line).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct st {
	int		 n;
	unsigned	 sum;
};

#define TERMINATED(f)	(memchr((f), '\0', sizeof(f)) != NULL)

static int
cb(void *arg, const struct mca_disc_report *r)
{
	struct st			*s = arg;
	const struct mca_disc_cert	*c = r->c;

	if (r->path == NULL || strcmp(r->path, "fuzz") != 0)
		abort();
	switch (r->event) {
	case MCA_DISC_CERT:
		if (c == NULL || c->index != s->n || c->der == NULL ||
		    c->der_len == 0 || strcmp(c->location, "fuzz") != 0 ||
		    !TERMINATED(c->subject) || !TERMINATED(c->issuer) ||
		    !TERMINATED(c->serial) || !TERMINATED(c->sans) ||
		    !TERMINATED(c->not_before) || !TERMINATED(c->not_after) ||
		    !TERMINATED(c->key_type) || !TERMINATED(c->sig_alg) ||
		    strlen(c->sha1) != 40 || strlen(c->sha256) != 64 ||
		    strchr(c->subject, '\n') != NULL ||
		    strchr(c->sans, '\n') != NULL)
			abort();
		/* the DER is readable to its end (ASan says if not) */
		s->sum += ((const volatile unsigned char *)c->der)[0] +
		    ((const volatile unsigned char *)c->der)[c->der_len - 1];
		s->n++;
		break;
	case MCA_DISC_SKIP:
		if (r->msg == NULL || r->msg[0] == '\0' ||
		    strchr(r->msg, '\n') != NULL)
			abort();
		break;
	default:
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const	 pws[] = { "s3cret" };
	struct mca_disc_opts		 o;
	struct mca_diag			 d;
	struct st			 s = { 0 };
	int				 rc;

	memset(&o, 0, sizeof(o));
	o.p12_passwords = pws;
	o.np12_passwords = 1;
	rc = mca_disc_parse_buf(data, size, "fuzz", &o, cb, &s, &d);
	if (rc >= 0 && rc != s.n)
		abort();
	if (rc < 0 && (rc != MCA_ERR_INVAL || d.msg[0] == '\0' ||
	    strchr(d.msg, '\n') != NULL))
		abort();
	return 0;
}
