/* common/bencode.c  Strict bencode decoder and bounded encoder for NG */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "bencode.h"

/*
 * Decoder state. <p>/<end> bound every read; <err>/<why>/<off> hold the
 * first failure. The parser is recursive, one frame per open container,
 * and refuses to open container BENCODE_MAX_DEPTH + 1, so the stack it
 * needs is bounded whatever the input.
 */
struct bdec {
	struct arena *a;
	const char   *buf;
	const char   *p;
	const char   *end;
	const char   *why;
	size_t        off;
	int           err;
};

/* Room for "unexpected byte 'x'" or "unexpected byte 0xff". */
static _Thread_local char unexpected_msg[32];

static int fail(struct bdec *d, int err, const char *why, const char *at)
{
	d->err = err;
	d->why = why;
	d->off = (size_t)(at - d->buf);
	return err;
}

static int fail_byte(struct bdec *d, const char *at)
{
	unsigned char c = (unsigned char)*at;

	if (c > 0x20 && c < 0x7f && c != '\'')
		snprintf(unexpected_msg, sizeof(unexpected_msg),
			 "unexpected byte '%c'", c);
	else
		snprintf(unexpected_msg, sizeof(unexpected_msg),
			 "unexpected byte 0x%02x", c);
	return fail(d, EINVAL, unexpected_msg, at);
}

static struct bnode *node_new(struct bdec *d, enum bnode_type t)
{
	struct bnode *n = arena_alloc(d->a, sizeof(*n));

	if (!n) {
		fail(d, ENOMEM, "arena full", d->p);
		return NULL;
	}
	n->type = t;
	return n;
}

/* "i" [ "-" ] ( "0" | [1-9][0-9]* ) "e", fitting int64_t; "-0" refused. */
static int dec_int(struct bdec *d, int64_t *ip)
{
	const char *start = d->p;
	uint64_t v = 0, lim;
	bool neg = false;
	size_t ndig = 0;

	++d->p;                                 /* 'i' */
	if (d->p < d->end && *d->p == '-') {
		neg = true;
		++d->p;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

	for (; d->p < d->end && *d->p >= '0' && *d->p <= '9'; ++d->p) {
		unsigned dig = (unsigned)(*d->p - '0');

		if (ndig == 1 && v == 0)
			return fail(d, EINVAL, "leading zero in integer",
				    d->p - 1);
		if (v > (lim - dig) / 10)
			return fail(d, EINVAL, "integer overflow", start);
		v = v * 10 + dig;
		++ndig;
	}
	if (d->p >= d->end)
		return fail(d, EINVAL, "truncated integer", d->p);
	if (!ndig)
		return fail(d, EINVAL, "integer without digits", d->p);
	if (*d->p != 'e')
		return fail_byte(d, d->p);
	if (neg && v == 0)
		return fail(d, EINVAL, "negative zero", start);
	++d->p;                                 /* 'e' */

	if (neg)
		*ip = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*ip = (int64_t)v;
	return 0;
}

/*
 * ( "0" | [1-9][0-9]* ) ":" bytes. The length is bounded while it is
 * read (never past BENCODE_MAX_STR, so it cannot overflow) and then
 * against the bytes that remain.
 */
static int dec_str(struct bdec *d, const char **sp, size_t *lenp)
{
	const char *start = d->p;
	size_t v = 0, ndig = 0;

	for (; d->p < d->end && *d->p >= '0' && *d->p <= '9'; ++d->p) {
		if (ndig == 1 && v == 0)
			return fail(d, EINVAL, "leading zero in length",
				    start);
		v = v * 10 + (size_t)(*d->p - '0');
		++ndig;
		if (v > BENCODE_MAX_STR)
			return fail(d, E2BIG, "string too long", start);
	}
	if (d->p >= d->end)
		return fail(d, EINVAL, "truncated string", d->p);
	if (*d->p != ':')
		return fail_byte(d, d->p);
	++d->p;
	if (v > (size_t)(d->end - d->p))
		return fail(d, EINVAL, "truncated string", start);

	*sp   = d->p;
	*lenp = v;
	d->p += v;
	return 0;
}

static int dec_value(struct bdec *d, unsigned depth, struct bnode **np);

/* The members of a list or dict, up to and including its 'e'. */
static int dec_container(struct bdec *d, struct bnode *c, unsigned depth)
{
	const bool dict = c->type == BN_DICT;
	struct bnode **tailp = &c->v.c.head;
	int err;

	++d->p;                                 /* 'l' or 'd' */
	for (;;) {
		const char *key = NULL;
		size_t keylen = 0;
		struct bnode *n;

		if (d->p >= d->end)
			return fail(d, EINVAL, dict ? "truncated dict" :
				    "truncated list", d->p);
		if (*d->p == 'e') {
			++d->p;
			return 0;
		}
		if (dict) {
			if (*d->p < '0' || *d->p > '9')
				return fail(d, EINVAL,
					    "dict key not a string", d->p);
			err = dec_str(d, &key, &keylen);
			if (err)
				return err;
			if (d->p >= d->end)
				return fail(d, EINVAL, "truncated dict",
					    d->p);
			if (*d->p == 'e')
				return fail(d, EINVAL, "dict key without value",
					    d->p);
		}
		err = dec_value(d, depth, &n);
		if (err)
			return err;
		n->key    = key;
		n->keylen = keylen;
		*tailp = n;
		tailp  = &n->next;
		++c->v.c.n;
	}
}

static int dec_value(struct bdec *d, unsigned depth, struct bnode **np)
{
	struct bnode *n;
	int err;

	if (d->p >= d->end)
		return fail(d, EINVAL, "truncated input", d->p);

	switch (*d->p) {

	case 'i':
		n = node_new(d, BN_INT);
		if (!n)
			return d->err;
		err = dec_int(d, &n->v.i);
		break;

	case 'l':
	case 'd':
		if (depth >= BENCODE_MAX_DEPTH)
			return fail(d, E2BIG, "nesting too deep", d->p);
		n = node_new(d, *d->p == 'l' ? BN_LIST : BN_DICT);
		if (!n)
			return d->err;
		err = dec_container(d, n, depth + 1);
		break;

	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		n = node_new(d, BN_STR);
		if (!n)
			return d->err;
		err = dec_str(d, &n->v.s.p, &n->v.s.len);
		break;

	default:
		return fail_byte(d, d->p);
	}

	if (err)
		return err;
	*np = n;
	return 0;
}

/*
 * Decode the single value filling <buf>/<len>. Nodes come from <a>; on
 * error the arena keeps whatever was allocated (the caller resets it
 * per command). *errp may point at thread-local storage that the next
 * call in this thread overwrites.
 */
int bencode_decode(struct arena *a, const char *buf, size_t len,
		   struct bnode **rootp, const char **errp, size_t *offp)
{
	struct bdec d;
	struct bnode *root = NULL;
	int err;

	if (!a || !rootp || (!buf && len)) {
		if (errp)
			*errp = "invalid argument";
		if (offp)
			*offp = 0;
		return EINVAL;
	}

	memset(&d, 0, sizeof(d));
	d.a   = a;
	d.buf = buf ? buf : "";
	d.p   = d.buf;
	d.end = d.buf + len;

	err = dec_value(&d, 0, &root);
	if (!err && d.p != d.end)
		err = fail(&d, EINVAL, "trailing bytes", d.p);

	if (err) {
		if (errp)
			*errp = d.why;
		if (offp)
			*offp = d.off;
		return err;
	}

	*rootp = root;
	if (errp)
		*errp = NULL;
	if (offp)
		*offp = len;
	return 0;
}

const struct bnode *bnode_get(const struct bnode *d, const char *key)
{
	const struct bnode *n;
	size_t klen;

	if (!d || !key || d->type != BN_DICT)
		return NULL;

	klen = strlen(key);
	for (n = d->v.c.head; n; n = n->next) {
		if (n->keylen == klen && !memcmp(n->key, key, klen))
			return n;
	}
	return NULL;
}

bool bnode_get_str(const struct bnode *d, const char *key,
		   const char **p, size_t *len)
{
	const struct bnode *n = bnode_get(d, key);

	if (!n || n->type != BN_STR)
		return false;
	if (p)
		*p = n->v.s.p;
	if (len)
		*len = n->v.s.len;
	return true;
}

bool bnode_str_eq(const struct bnode *n, const char *s)
{
	size_t len;

	if (!n || !s || n->type != BN_STR)
		return false;
	len = strlen(s);
	return n->v.s.len == len && !memcmp(n->v.s.p, s, len);
}

bool bnode_list_has(const struct bnode *l, const char *s)
{
	const struct bnode *n;

	if (!l || l->type != BN_LIST)
		return false;
	for (n = l->v.c.head; n; n = n->next) {
		if (bnode_str_eq(n, s))
			return true;
	}
	return false;
}

/*
 * Encoder. The output is NUL-terminated whenever a byte is left for it,
 * which is handy for logging but never counted in the length.
 */
void benc_init(struct benc *b, char *buf, size_t size)
{
	if (!b)
		return;
	b->buf   = buf;
	b->size  = buf ? size : 0;
	b->len   = 0;
	b->err   = 0;
	b->depth = 0;
	if (b->size)
		b->buf[0] = '\0';
}

static void put(struct benc *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (n > b->size - b->len) {
		b->err = ENOSPC;
		return;
	}
	if (n)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
	if (b->len < b->size)
		b->buf[b->len] = '\0';
}

void benc_dict(struct benc *b)
{
	if (!b)
		return;
	put(b, "d", 1);
	if (!b->err)
		++b->depth;
}

void benc_list(struct benc *b)
{
	if (!b)
		return;
	put(b, "l", 1);
	if (!b->err)
		++b->depth;
}

void benc_end(struct benc *b)
{
	if (!b || b->err)
		return;
	if (!b->depth) {
		b->err = EINVAL;
		return;
	}
	put(b, "e", 1);
	if (!b->err)
		--b->depth;
}

void benc_strn(struct benc *b, const char *p, size_t len)
{
	char pre[24];
	int n;

	if (!b || b->err)
		return;
	if (!p && len) {
		b->err = EINVAL;
		return;
	}
	n = snprintf(pre, sizeof(pre), "%zu:", len);
	put(b, pre, (size_t)n);
	put(b, p, len);
}

void benc_str(struct benc *b, const char *s)
{
	benc_strn(b, s, s ? strlen(s) : 0);
}

void benc_int(struct benc *b, int64_t i)
{
	char num[24];
	int n;

	if (!b || b->err)
		return;
	n = snprintf(num, sizeof(num), "i%" PRId64 "e", i);
	put(b, num, (size_t)n);
}

void benc_kstr(struct benc *b, const char *k, const char *s)
{
	benc_str(b, k);
	benc_str(b, s);
}

void benc_kstrn(struct benc *b, const char *k, const char *p, size_t len)
{
	benc_str(b, k);
	benc_strn(b, p, len);
}

void benc_kint(struct benc *b, const char *k, int64_t i)
{
	benc_str(b, k);
	benc_int(b, i);
}

void benc_kdict(struct benc *b, const char *k)
{
	benc_str(b, k);
	benc_dict(b);
}

void benc_klist(struct benc *b, const char *k)
{
	benc_str(b, k);
	benc_list(b);
}

int benc_finish(struct benc *b, size_t *lenp)
{
	if (!b)
		return EINVAL;
	if (b->err)
		return b->err;
	if (b->depth)
		return EINVAL;
	if (lenp)
		*lenp = b->len;
	return 0;
}
