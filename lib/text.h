/*
 * Control characters in text: the one test of what may not go on a log
 * line, a header line, a ledger row or a Basic credential. A control
 * character is a C0 code or DEL (RFC 5234 B.1, CTL).
 */
#ifndef MCA_TEXT_H
#define MCA_TEXT_H

#include <stddef.h>

#define MCA_TEXT_TAB_OK	0x1	/* HTAB is not counted (RFC 9110 5.5) */

/* 1 if the byte c is a control character, else 0. */
int	 mca_text_is_ctl(unsigned char c);

/*
 * The offset of the first control character in s[0..len), or len when
 * there is none; flags may be MCA_TEXT_TAB_OK.
 */
size_t	 mca_text_ctl_span(const void *s, size_t len, unsigned flags);

/* The 1-based line of byte offset off in s (for messages). */
size_t	 mca_text_line(const char *s, size_t off);

/* Replaces each control character of the string s with rep. */
void	 mca_text_ctl_replace(char *s, char rep);

#endif
