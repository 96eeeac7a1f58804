/*
 * Duplicate names in JSON objects: a scan of the text json-c has already
 * accepted (strictly), so that only strings and brackets need reading.
 * Each object's keys are unescaped into one buffer as they come; when the
 * object closes they are sorted and neighbours compared, then dropped.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsondup.h"
#include "text.h"

#define DUP_DEPTH_MAX	64	/* json-c stops at 32 */

struct dup_key {
	const char	*k;	/* unescaped, in the key buffer */
	size_t		 len;
	size_t		 pos;	/* of its opening quote in the text */
};

struct dup_frame {
	int		 array;
	size_t		 first;	/* objects: its first entry in keys */
	size_t		 index;	/* arrays: the element being read */
	/* How the parent names this one: a key entry, or an array index. */
	size_t		 name_key;	/* (size_t)-1: none */
	size_t		 name_index;
};

struct dup_scan {
	const char	*s;
	size_t		 len;
	char		*buf;	/* the unescaped keys; never moves */
	size_t		 buflen;
	struct dup_key	*keys;
	size_t		 nkeys, capkeys;
	struct dup_frame frames[DUP_DEPTH_MAX];
	size_t		 depth;
};

static int
dup_hex4(const char *p, unsigned *out)
{
	unsigned	 v = 0;
	int		 i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			v |= (unsigned)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			v |= (unsigned)(p[i] - 'a' + 10);
		else if (p[i] >= 'A' && p[i] <= 'F')
			v |= (unsigned)(p[i] - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Appends code point cp as UTF-8 (at most 4 bytes) to o. */
static size_t
dup_utf8(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Reads the string whose opening quote is at *i; *i ends past the closing
 * quote. With out, its unescaped bytes go there (never more than the
 * text's) and *olen says how many, cut at an escaped NUL as json-c does.
 * 0 or -1 (not a well-formed string).
 */
static int
dup_string(const struct dup_scan *d, size_t *i, char *out, size_t *olen)
{
	const char	*s = d->s;
	size_t		 p = *i + 1, o = 0;
	unsigned	 cp, lo;
	int		 cut = 0;
	char		 u[4];
	size_t		 n;

	for (;;) {
		if (p >= d->len)
			return -1;
		if (s[p] == '"')
			break;
		if (s[p] != '\\') {
			if (out != NULL && !cut)
				out[o++] = s[p];
			p++;
			continue;
		}
		if (p + 1 >= d->len)
			return -1;
		switch (s[p + 1]) {
		case '"': case '\\': case '/':
			u[0] = s[p + 1];
			n = 1;
			break;
		case 'b': u[0] = '\b'; n = 1; break;
		case 'f': u[0] = '\f'; n = 1; break;
		case 'n': u[0] = '\n'; n = 1; break;
		case 'r': u[0] = '\r'; n = 1; break;
		case 't': u[0] = '\t'; n = 1; break;
		case 'u':
			if (p + 6 > d->len || dup_hex4(s + p + 2, &cp) != 0)
				return -1;
			p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && p + 8 <= d->len &&
			    s[p + 2] == '\\' && s[p + 3] == 'u' &&
			    dup_hex4(s + p + 4, &lo) == 0 &&
			    lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;	/* json-c's lone surrogate */
			if (cp == 0)
				cut = 1;	/* json-c keys are C strings */
			n = dup_utf8(cp, u);
			break;
		default:
			return -1;
		}
		p += 2;
		/* An escape is never shorter than what it stands for. */
		if (out != NULL && !cut) {
			memcpy(out + o, u, n);
			o += n;
		}
	}
	*i = p + 1;
	if (olen != NULL)
		*olen = o;
	return 0;
}

static int
dup_cmp(const void *a, const void *b)
{
	const struct dup_key	*x = a, *y = b;
	size_t			 n = x->len < y->len ? x->len : y->len;
	int			 c;

	if ((c = memcmp(x->k, y->k, n)) != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The path of the object at frame f into dup->path. */
static void
dup_path(const struct dup_scan *d, size_t f, struct mca_jsondup *dup)
{
	const struct dup_frame	*fr;
	const struct dup_key	*k;
	size_t			 i, o = 0, n;
	int			 w;

	dup->path[0] = '\0';
	/* frames[1] is the document's own object: it has no name. */
	for (i = 2; i <= f; i++) {
		fr = &d->frames[i];
		if (o >= sizeof(dup->path) - 1)
			break;
		if (fr->name_key != (size_t)-1) {
			k = &d->keys[fr->name_key];
			if (o > 0)
				dup->path[o++] = '.';
			n = k->len;
			if (n > sizeof(dup->path) - 1 - o)
				n = sizeof(dup->path) - 1 - o;
			memcpy(dup->path + o, k->k, n);
			o += n;
			dup->path[o] = '\0';
		} else {
			w = snprintf(dup->path + o, sizeof(dup->path) - o,
			    "[%zu]", fr->name_index);
			if (w < 0 || (size_t)w >= sizeof(dup->path) - o)
				break;
			o += (size_t)w;
		}
	}
	dup->path[o < sizeof(dup->path) ? o : sizeof(dup->path) - 1] = '\0';
}

/* The object at the top of the stack closes: 0, or 1 with dup. */
static int
dup_close(struct dup_scan *d, struct mca_jsondup *dup)
{
	struct dup_frame	*fr = &d->frames[d->depth];
	struct dup_key		*k, *a = NULL, *b = NULL;
	size_t			 n = d->nkeys - fr->first, i;

	if (n < 2)
		return 0;
	k = d->keys + fr->first;
	qsort(k, n, sizeof(*k), dup_cmp);
	for (i = 1; i < n; i++)
		if (k[i].len == k[i - 1].len &&
		    memcmp(k[i].k, k[i - 1].k, k[i].len) == 0 &&
		    (b == NULL || k[i].pos < b->pos)) {
			a = &k[i - 1];
			b = &k[i];
			/* The first of its group, for the message. */
			while (a > k && a[-1].len == a->len &&
			    memcmp(a[-1].k, a->k, a->len) == 0)
				a--;
		}
	if (b == NULL)
		return 0;
	memset(dup, 0, sizeof(*dup));
	dup->keylen = b->len < sizeof(dup->key) - 1 ? b->len :
	    sizeof(dup->key) - 1;
	memcpy(dup->key, b->k, dup->keylen);
	dup->line = mca_text_line(d->s, b->pos);
	dup->first_line = mca_text_line(d->s, a->pos);
	/* The path needs the keys naming the frames, which sit below. */
	dup_path(d, d->depth, dup);
	return 1;
}

int
mca_jsondup_find(const char *s, size_t len, struct mca_jsondup *dup)
{
	struct dup_scan		 d;
	struct dup_frame	*fr, *up;
	struct dup_key		*nk;
	size_t			 i, j, used = 0, klen;
	int			 rc = MCA_ERR_INVAL;

	memset(&d, 0, sizeof(d));
	if (dup != NULL)
		memset(dup, 0, sizeof(*dup));
	if (s == NULL || dup == NULL)
		return MCA_ERR_INVAL;
	d.s = s;
	d.len = len;
	if ((d.buf = malloc(len + 1)) == NULL)
		return MCA_ERR_NOMEM;
	d.buflen = len + 1;
	d.frames[0].name_key = (size_t)-1;	/* outside everything */

	for (i = 0; i < len; ) {
		fr = &d.frames[d.depth];
		switch (s[i]) {
		case '{':
		case '[':
			if (d.depth + 1 == DUP_DEPTH_MAX)
				goto out;
			up = fr;
			fr = &d.frames[++d.depth];
			memset(fr, 0, sizeof(*fr));
			fr->array = s[i] == '[';
			fr->first = d.nkeys;
			fr->name_key = (size_t)-1;
			if (d.depth > 1 && !up->array)
				fr->name_key = d.nkeys - 1;
			else if (d.depth > 1)
				fr->name_index = up->index;
			i++;
			continue;
		case '}':
		case ']':
			if (d.depth == 0 || fr->array != (s[i] == ']'))
				goto out;
			if (!fr->array) {
				if ((rc = dup_close(&d, dup)) != 0)
					goto out;
				rc = MCA_ERR_INVAL;
				/* Keep the key that names this object. */
				d.nkeys = fr->first;
				used = d.nkeys > 0 ?
				    (size_t)(d.keys[d.nkeys - 1].k - d.buf) +
				    d.keys[d.nkeys - 1].len : 0;
			}
			d.depth--;
			i++;
			continue;
		case ',':
			if (fr->array)
				fr->index++;
			i++;
			continue;
		case '"':
			break;
		default:
			i++;
			continue;
		}
		/* A string: a key when ':' follows it in an object. */
		j = i;
		if (dup_string(&d, &j, NULL, NULL) != 0)
			goto out;
		while (j < len && strchr(" \t\r\n", s[j]) != NULL)
			j++;
		if (d.depth == 0 || fr->array || j >= len || s[j] != ':') {
			i = j;
			continue;
		}
		if (d.nkeys == d.capkeys) {
			klen = d.capkeys ? d.capkeys * 2 : 64;
			if ((nk = reallocarray(d.keys, klen,
			    sizeof(*nk))) == NULL) {
				rc = MCA_ERR_NOMEM;
				goto out;
			}
			d.keys = nk;
			d.capkeys = klen;
		}
		nk = &d.keys[d.nkeys];
		nk->k = d.buf + used;
		nk->pos = i;
		if (dup_string(&d, &i, d.buf + used, &nk->len) != 0)
			goto out;
		used += nk->len;
		d.nkeys++;
		i = j + 1;
	}
	rc = d.depth == 0 ? 0 : MCA_ERR_INVAL;
out:
	free(d.buf);
	free(d.keys);
	return rc;
}
