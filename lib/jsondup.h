/*
 * Duplicate names in JSON objects. RFC 8259 4 says names SHOULD be
 * unique and leaves what a parser does with others open; json-c keeps
 * the last silently. A configuration that says two things must be seen,
 * so the documents we are configured from are scanned for them.
 */
#ifndef MCA_JSONDUP_H
#define MCA_JSONDUP_H

#include <stddef.h>

#define MCA_JSONDUP_KEY_MAX	128	/* bytes of the key kept */
#define MCA_JSONDUP_PATH_MAX	256	/* bytes of the path kept */

struct mca_jsondup {
	char	 key[MCA_JSONDUP_KEY_MAX];	/* unescaped, NUL-terminated, may be cut */
	size_t	 keylen;			/* bytes in key */
	char	 path[MCA_JSONDUP_PATH_MAX];	/* "" or "a.b[2]": the object it is in */
	size_t	 line;				/* 1-based, of the second one */
	size_t	 first_line;			/* of the first one */
};

/*
 * Scans s[0..len), a JSON text that json-c parsed without error, for an
 * object that names a key twice. Keys are compared as json-c stores them:
 * unescaped to UTF-8, lone surrogates as U+FFFD, cut at an escaped NUL;
 * so "a" and "\u0061" are the same key. Time O(n log n), memory O(n).
 * Returns 0 (none), 1 with *dup filled (the first object to close that
 * has one; in it, the key whose second use comes first), MCA_ERR_NOMEM,
 * or MCA_ERR_INVAL (s is not such a text).
 */
int	 mca_jsondup_find(const char *s, size_t len, struct mca_jsondup *dup);

#endif
