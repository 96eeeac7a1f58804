/* Control characters in text. See text.h. */
#include "config.h"

#include <stddef.h>

#include "text.h"

int
mca_text_is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

size_t
mca_text_ctl_span(const void *s, size_t len, unsigned flags)
{
	const unsigned char	*p = s;
	size_t			 i;

	for (i = 0; i < len; i++)
		if (mca_text_is_ctl(p[i]) &&
		    !(p[i] == '\t' && (flags & MCA_TEXT_TAB_OK)))
			break;
	return i;
}

void
mca_text_ctl_replace(char *s, char rep)
{
	for (; *s != '\0'; s++)
		if (mca_text_is_ctl((unsigned char)*s))
			*s = rep;
}

size_t
mca_text_line(const char *s, size_t off)
{
	size_t	 i, line = 1;

	for (i = 0; i < off; i++)
		if (s[i] == '\n')
			line++;
	return line;
}
