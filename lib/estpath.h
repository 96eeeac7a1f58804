/*
 * The two words of an EST path (RFC 7030 3.2.2): the optional label and
 * the operation. One definition for config.json's end_point_name and for
 * the router.
 */
#ifndef MCA_ESTPATH_H
#define MCA_ESTPATH_H

#include <stddef.h>

#define MCA_LABEL_MAX		64	/* end_point_name length */

enum mca_op {
	MCA_OP_CACERTS,
	MCA_OP_SIMPLEENROLL,
	MCA_OP_SIMPLEREENROLL,
	MCA_OP_CSRATTRS,
	MCA_OP_SERVERKEYGEN,
	MCA_OP_FULLCMC,
	MCA_OP_MAX
};

/* "cacerts", "simpleenroll", ...; "unknown" out of range. */
const char	*mca_op_name(enum mca_op op);

/*
 * Looks up the operation s[0..len): case-sensitive as RFC 7030 3.2.2
 * writes them, or in any case when nocase (a label must not be one in
 * any case). 0 with *op set, or MCA_ERR_NOTFOUND.
 */
int	 mca_estpath_op(const char *s, size_t len, int nocase,
	    enum mca_op *op);

/*
 * 1 if s[0..len) has the syntax of a label: 1 to MCA_LABEL_MAX of
 * [A-Za-z0-9._-], not starting with '.' (no "." or ".." segment). RFC
 * 7030 3.2.2 leaves the syntax to the server. It may still be an
 * operation name; mca_estpath_op() says.
 */
int	 mca_estpath_label_ok(const char *s, size_t len);

#endif
