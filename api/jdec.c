/* api/jdec.c  Strict RFC 8259 JSON decoder for request bodies */
#include <errno.h>
#include <string.h>

#include "arena.h"
#include "jdec.h"

/*
 * A recursive descent parser over one buffer. The first failure is
 * latched with its offset; every function returns at once after it.
 * Recursion is bounded by JDEC_MAX_DEPTH, and every node comes from the
 * caller's arena, so a hostile body costs at most the arena and 32
 * stack frames.
 */
struct dec {
	struct arena *a;
	char         *buf;
	size_t        len;
	size_t        pos;
	int           err;
	const char   *why;
	size_t        errpos;
};

static int parse_value(struct dec *d, struct jnode *n, unsigned depth);

static int fail(struct dec *d, int err, const char *why, size_t pos)
{
	if (!d->err) {
		d->err = err;
		d->why = why;
		d->errpos = pos;
	}
	return d->err;
}

static void skip_ws(struct dec *d)
{
	while (d->pos < d->len) {
		char c = d->buf[d->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		++d->pos;
	}
}

static struct jnode *node_new(struct dec *d)
{
	struct jnode *n = arena_alloc(d->a, sizeof(*n));

	if (!n)
		fail(d, ENOMEM, "too many values", d->pos);
	return n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 4 hex digits at <r> (a "\u" escape's body), or -1. */
static long hex4(const struct dec *d, size_t r)
{
	long v = 0;
	size_t i;

	if (r + 4 > d->len)
		return -1;
	for (i = 0; i < 4; i++) {
		int h = hexval(d->buf[r + i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * Length of the well-formed UTF-8 sequence of 2 to 4 bytes at <r>
 * (RFC 3629 section 4: no overlong forms, no surrogates, nothing past
 * U+10FFFF), or 0.
 */
static size_t utf8_len(const struct dec *d, size_t r)
{
	const unsigned char *p = (const unsigned char *)d->buf + r;
	size_t left = d->len - r, n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;

	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;

	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return n;
}

/* Write code point <cp> as UTF-8 at buf[*w]. */
static void put_utf8(char *buf, size_t *w, unsigned long cp)
{
	unsigned char *o = (unsigned char *)buf + *w;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		*w += 1;
	}
	else if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		*w += 2;
	}
	else if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		*w += 3;
	}
	else {
		o[0] = (unsigned char)(0xf0 | (cp >> 18));
		o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (unsigned char)(0x80 | (cp & 0x3f));
		*w += 4;
	}
}

/*
 * The escape at buf[*r] (just after the backslash) into buf[*w]. An
 * escape is never shorter than what it stands for ("\uXXXX" is 6
 * bytes for at most 3, a surrogate pair 12 for 4), so writing can
 * never overtake reading.
 */
static int unescape(struct dec *d, size_t *r, size_t *w)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[]   = "\"\\/\b\f\n\r\t";
	const char *e;
	size_t at = *r - 1;
	long cp, lo;

	if (*r >= d->len)
		return fail(d, EINVAL, "unterminated string", at);

	e = d->buf[*r] ? strchr(from, d->buf[*r]) : NULL;
	if (e) {
		d->buf[(*w)++] = to[e - from];
		*r += 1;
		return 0;
	}
	if (d->buf[*r] != 'u')
		return fail(d, EINVAL, "bad escape in a string", at);

	cp = hex4(d, *r + 1);
	if (cp < 0)
		return fail(d, EINVAL, "bad \\u escape in a string", at);
	*r += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(d, EINVAL, "lone surrogate in a string", at);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (*r + 1 >= d->len || d->buf[*r] != '\\' ||
		    d->buf[*r + 1] != 'u')
			return fail(d, EINVAL, "lone surrogate in a string",
				    at);
		lo = hex4(d, *r + 2);
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(d, EINVAL, "lone surrogate in a string",
				    at);
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		*r += 6;
	}
	if (cp == 0)
		return fail(d, EINVAL, "\\u0000 in a string", at);
	put_utf8(d->buf, w, (unsigned long)cp);
	return 0;
}

/*
 * The string whose opening quote is at d->pos: unescaped in place and
 * NUL ended on its closing quote's side, into <p>/<lenp>.
 */
static int parse_string(struct dec *d, const char **p, size_t *lenp)
{
	size_t start = d->pos + 1, r = start, w = start;

	for (;;) {
		unsigned char c;
		size_t n;

		if (r >= d->len)
			return fail(d, EINVAL, "unterminated string",
				    d->pos);
		c = (unsigned char)d->buf[r];

		if (c == '"')
			break;
		if (c == '\\') {
			++r;
			if (unescape(d, &r, &w))
				return d->err;
			continue;
		}
		if (c < 0x20)
			return fail(d, EINVAL,
				    "control character in a string", r);
		if (c < 0x80) {
			d->buf[w++] = (char)c;
			++r;
			continue;
		}
		n = utf8_len(d, r);
		if (!n)
			return fail(d, EINVAL, "invalid UTF-8", r);
		memmove(d->buf + w, d->buf + r, n);
		w += n;
		r += n;
	}

	d->buf[w] = '\0';
	*p = d->buf + start;
	*lenp = w - start;
	d->pos = r + 1;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 8259 section 6; an integer that fits int64 becomes JN_INT. */
static int parse_number(struct dec *d, struct jnode *n)
{
	size_t start = d->pos, i = d->pos;
	bool neg = false, integer = true;
	uint64_t v = 0, lim;

	if (i < d->len && d->buf[i] == '-') {
		neg = true;
		++i;
	}
	if (i >= d->len || !is_digit(d->buf[i]))
		return fail(d, EINVAL, "bad number", start);
	if (d->buf[i] == '0') {
		++i;
		if (i < d->len && is_digit(d->buf[i]))
			return fail(d, EINVAL, "leading zero in a number",
				    start);
	}
	else {
		while (i < d->len && is_digit(d->buf[i]))
			++i;
	}
	if (i < d->len && d->buf[i] == '.') {
		integer = false;
		++i;
		if (i >= d->len || !is_digit(d->buf[i]))
			return fail(d, EINVAL, "bad number", start);
		while (i < d->len && is_digit(d->buf[i]))
			++i;
	}
	if (i < d->len && (d->buf[i] == 'e' || d->buf[i] == 'E')) {
		integer = false;
		++i;
		if (i < d->len && (d->buf[i] == '+' || d->buf[i] == '-'))
			++i;
		if (i >= d->len || !is_digit(d->buf[i]))
			return fail(d, EINVAL, "bad number", start);
		while (i < d->len && is_digit(d->buf[i]))
			++i;
	}

	n->v.s.p = d->buf + start;
	n->v.s.len = i - start;
	d->pos = i;

	n->type = JN_NUM;
	if (!integer)
		return 0;

	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (i = start + neg; i < d->pos; i++) {
		unsigned dg = (unsigned)(d->buf[i] - '0');

		if (v > (lim - dg) / 10)
			return 0;            /* too big: stays JN_NUM */
		v = v * 10 + dg;
	}
	n->type = JN_INT;
	if (neg)
		n->v.i = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
			-(int64_t)v;
	else
		n->v.i = (int64_t)v;
	return 0;
}

static bool literal(struct dec *d, const char *word)
{
	size_t n = strlen(word);

	if (d->len - d->pos < n || memcmp(d->buf + d->pos, word, n))
		return false;
	d->pos += n;
	return true;
}

static int parse_array(struct dec *d, struct jnode *n, unsigned depth)
{
	struct jnode **tail = &n->v.c.head;

	n->type = JN_ARR;
	++d->pos;
	skip_ws(d);
	if (d->pos < d->len && d->buf[d->pos] == ']') {
		++d->pos;
		return 0;
	}
	for (;;) {
		struct jnode *c = node_new(d);

		if (!c)
			return d->err;
		if (parse_value(d, c, depth + 1))
			return d->err;
		*tail = c;
		tail = &c->next;
		++n->v.c.n;

		skip_ws(d);
		if (d->pos >= d->len)
			return fail(d, EINVAL, "unterminated array", d->pos);
		if (d->buf[d->pos] == ']') {
			++d->pos;
			return 0;
		}
		if (d->buf[d->pos] != ',')
			return fail(d, EINVAL, "expected ',' or ']'", d->pos);
		++d->pos;
		skip_ws(d);
	}
}

static bool has_member(const struct jnode *o, const char *key, size_t len)
{
	const struct jnode *c;

	for (c = o->v.c.head; c; c = c->next) {
		if (c->keylen == len && !memcmp(c->key, key, len))
			return true;
	}
	return false;
}

static int parse_object(struct dec *d, struct jnode *n, unsigned depth)
{
	struct jnode **tail = &n->v.c.head;

	n->type = JN_OBJ;
	++d->pos;
	skip_ws(d);
	if (d->pos < d->len && d->buf[d->pos] == '}') {
		++d->pos;
		return 0;
	}
	for (;;) {
		const char *key;
		size_t keylen, at = d->pos;
		struct jnode *c;

		if (d->pos >= d->len || d->buf[d->pos] != '"')
			return fail(d, EINVAL, "expected a member name",
				    d->pos);
		if (parse_string(d, &key, &keylen))
			return d->err;
		if (has_member(n, key, keylen))
			return fail(d, EINVAL, "duplicate member name", at);

		skip_ws(d);
		if (d->pos >= d->len || d->buf[d->pos] != ':')
			return fail(d, EINVAL, "expected ':'", d->pos);
		++d->pos;
		skip_ws(d);

		c = node_new(d);
		if (!c)
			return d->err;
		if (parse_value(d, c, depth + 1))
			return d->err;
		c->key = key;
		c->keylen = keylen;
		*tail = c;
		tail = &c->next;
		++n->v.c.n;

		skip_ws(d);
		if (d->pos >= d->len)
			return fail(d, EINVAL, "unterminated object", d->pos);
		if (d->buf[d->pos] == '}') {
			++d->pos;
			return 0;
		}
		if (d->buf[d->pos] != ',')
			return fail(d, EINVAL, "expected ',' or '}'", d->pos);
		++d->pos;
		skip_ws(d);
	}
}

/* The value at d->pos (whitespace already skipped) into <n>. */
static int parse_value(struct dec *d, struct jnode *n, unsigned depth)
{
	char c;

	if (depth > JDEC_MAX_DEPTH)
		return fail(d, E2BIG, "nested too deeply", d->pos);
	if (d->pos >= d->len)
		return fail(d, EINVAL, "expected a value", d->pos);

	c = d->buf[d->pos];
	switch (c) {
	case '{':
		return parse_object(d, n, depth);
	case '[':
		return parse_array(d, n, depth);
	case '"':
		n->type = JN_STR;
		return parse_string(d, &n->v.s.p, &n->v.s.len);
	case 't':
	case 'f':
	case 'n':
		if (literal(d, "true") || literal(d, "false")) {
			n->type = JN_BOOL;
			n->v.b = c == 't';
			return 0;
		}
		if (literal(d, "null")) {
			n->type = JN_NULL;
			return 0;
		}
		return fail(d, EINVAL, "unknown literal", d->pos);
	default:
		if (c == '-' || is_digit(c))
			return parse_number(d, n);
		return fail(d, EINVAL, "expected a value", d->pos);
	}
}

int jdec_decode(struct arena *a, char *buf, size_t len,
		struct jnode **rootp, const char **errp, size_t *offp)
{
	struct dec d;
	struct jnode *root;

	if (!a || (!buf && len) || !rootp)
		return EINVAL;

	memset(&d, 0, sizeof(d));
	d.a = a;
	d.buf = buf;
	d.len = len;

	skip_ws(&d);
	root = node_new(&d);
	if (root && !parse_value(&d, root, 1)) {
		skip_ws(&d);
		if (d.pos != d.len)
			fail(&d, EINVAL, "trailing bytes after the value",
			     d.pos);
	}

	if (errp)
		*errp = d.err ? d.why : NULL;
	if (offp)
		*offp = d.err ? d.errpos : d.pos;
	if (!d.err)
		*rootp = root;
	return d.err;
}

const struct jnode *jdec_get(const struct jnode *o, const char *key)
{
	const struct jnode *c;
	size_t len;

	if (!o || o->type != JN_OBJ || !key)
		return NULL;
	len = strlen(key);
	for (c = o->v.c.head; c; c = c->next) {
		if (c->keylen == len && !memcmp(c->key, key, len))
			return c;
	}
	return NULL;
}

const char *jdec_type_name(enum jnode_type t)
{
	switch (t) {
	case JN_NULL: return "null";
	case JN_BOOL: return "a boolean";
	case JN_INT:  return "an integer";
	case JN_NUM:  return "a number";
	case JN_STR:  return "a string";
	case JN_ARR:  return "an array";
	case JN_OBJ:  return "an object";
	default:        return "a value";
	}
}
