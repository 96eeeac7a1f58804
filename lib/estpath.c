/* EST path words: labels and operation names. See estpath.h. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "err.h"
#include "estpath.h"

/* RFC 7030 3.2.2, table of operation path components; case-sensitive. */
static const char *const mca_op_names[MCA_OP_MAX] = {
	"cacerts",
	"simpleenroll",
	"simplereenroll",
	"csrattrs",
	"serverkeygen",
	"fullcmc",
};

const char *
mca_op_name(enum mca_op op)
{
	if ((int)op < 0 || op >= MCA_OP_MAX)
		return "unknown";
	return mca_op_names[op];
}

int
mca_estpath_op(const char *s, size_t len, int nocase, enum mca_op *op)
{
	size_t	 i;

	for (i = 0; i < MCA_OP_MAX; i++) {
		if (strlen(mca_op_names[i]) != len)
			continue;
		if (nocase ? strncasecmp(mca_op_names[i], s, len) == 0 :
		    memcmp(mca_op_names[i], s, len) == 0) {
			*op = (enum mca_op)i;
			return 0;
		}
	}
	return MCA_ERR_NOTFOUND;
}

int
mca_estpath_label_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > MCA_LABEL_MAX || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}
