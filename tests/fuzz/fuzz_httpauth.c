/*
 * libFuzzer harness for lib/httpauth.c and the passcode reader in
 * lib/passcode.c: what the web server hands over in HTTP_AUTHORIZATION,
 * all the way to an ID and a SECRET. Checked: what parses holds no
 * control character, each field is within its cap, a passcode that
 * parses is canonical, and re-encoding the credentials parses back to
 * the same fields.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "buf.h"
#include "err.h"
#include "httpauth.h"
#include "passcode.h"

#define ALPHABET	"0123456789ABCDEFGHJKMNPQRSTVWXYZ"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_field(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len > MCA_BASIC_FIELD_MAX)
		abort();
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mca_basic	 b, b2;
	struct mca_passcode	 pc;
	struct mca_buf		 raw = MCA_BUF_INIT, hdr = MCA_BUF_INIT;
	char			*s;
	int			 rc;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = mca_basic_parse(s, &b, NULL);
	free(s);
	if (rc != 0) {
		if (rc != MCA_ERR_INVAL && rc != MCA_ERR_TOOBIG &&
		    rc != MCA_ERR_NOTFOUND)
			abort();
		if (b.has_user || b.user[0] != '\0' || b.pass[0] != '\0')
			abort();
		return 0;
	}
	check_field(b.user);
	check_field(b.pass);
	if (!b.has_user && b.user[0] != '\0')
		abort();

	/* Round trip: encode what came out, parse it again. */
	if (b.has_user && (mca_buf_addstr(&raw, b.user) != 0 ||
	    mca_buf_addc(&raw, ':') != 0))
		goto out;
	if (mca_buf_addstr(&raw, b.pass) != 0 ||
	    mca_buf_addstr(&hdr, "Basic ") != 0)
		goto out;
	if (raw.len > 0) {
		if (mca_b64_encode(raw.data, raw.len, 0, &hdr) != 0)
			goto out;
		if (hdr.len <= MCA_BASIC_HDR_MAX) {
			if (mca_basic_parse(mca_buf_str(&hdr), &b2, NULL) !=
			    0 || b2.has_user != b.has_user ||
			    strcmp(b2.user, b.user) != 0 ||
			    strcmp(b2.pass, b.pass) != 0)
				abort();
		}
	}

	rc = mca_passcode_parse(b.has_user ? b.user : NULL, b.pass, &pc);
	if (rc == 0) {
		if (strlen(pc.id) != MCA_PASSCODE_ID_LEN ||
		    strlen(pc.secret) != MCA_PASSCODE_SECRET_LEN ||
		    strspn(pc.id, ALPHABET) != MCA_PASSCODE_ID_LEN ||
		    strspn(pc.secret, ALPHABET) != MCA_PASSCODE_SECRET_LEN)
			abort();
	} else if (pc.id[0] != '\0' || pc.secret[0] != '\0')
		abort();
out:
	mca_buf_free(&raw);
	mca_buf_free(&hdr);
	mca_basic_clear(&b);
	return 0;
}
