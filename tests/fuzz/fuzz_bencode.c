/* tests/fuzz/fuzz_bencode.c  decoder: reject cleanly or round-trip */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bencode.h"
#include "fuzz.h"
#include "ng.h"

#define ARENA_SIZE (16 * 1024)

static _Alignas(16) uint8_t arena1[ARENA_SIZE];
static _Alignas(16) uint8_t arena2[ARENA_SIZE];
static char out[NG_MSG_MAX + 64];

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void encode(struct benc *b, const struct bnode *n)
{
	const struct bnode *c;

	switch (n->type) {
	case BN_INT:
		benc_int(b, n->v.i);
		return;
	case BN_STR:
		benc_strn(b, n->v.s.p, n->v.s.len);
		return;
	case BN_LIST:
		benc_list(b);
		break;
	case BN_DICT:
		benc_dict(b);
		break;
	default:
		abort();
	}
	for (c = n->v.c.head; c; c = c->next) {
		if (n->type == BN_DICT)
			benc_strn(b, c->key, c->keylen);
		else
			CHECK(c->key == NULL);
		encode(b, c);
	}
	benc_end(b);
}

/* Structural equality, with a count check on every container. */
static void same(const struct bnode *x, const struct bnode *y)
{
	const struct bnode *a, *b;
	size_t n = 0;

	CHECK(x->type == y->type);
	CHECK(x->keylen == y->keylen);
	CHECK(!x->keylen || !memcmp(x->key, y->key, x->keylen));
	switch (x->type) {
	case BN_INT:
		CHECK(x->v.i == y->v.i);
		return;
	case BN_STR:
		CHECK(x->v.s.len == y->v.s.len);
		CHECK(!x->v.s.len || !memcmp(x->v.s.p, y->v.s.p, x->v.s.len));
		return;
	default:
		break;
	}
	CHECK(x->v.c.n == y->v.c.n);
	for (a = x->v.c.head, b = y->v.c.head; a && b; a = a->next,
	     b = b->next) {
		same(a, b);
		++n;
	}
	CHECK(!a && !b && n == x->v.c.n);
}

/* NG framing on the same bytes: cheap, and ng_split() sees input too. */
static void ng(const uint8_t *data, size_t size)
{
	const char *cookie, *body;
	size_t clen, blen, i, n;

	if (ng_split((const char *)data, size, &cookie, &clen, &body, &blen))
		return;
	CHECK(clen >= 1 && clen <= NG_COOKIE_MAX);
	CHECK(clen + 1 + blen == size && blen > 0);
	for (i = 0; i < clen; i++)
		CHECK(cookie[i] > 0x20 && cookie[i] < 0x7f);
	n = ng_error_reply(out, sizeof(out), cookie, clen, "fuzz");
	CHECK(n > clen && !memcmp(out, cookie, clen));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a1, a2;
	struct bnode *r1, *r2;
	const char *why = NULL;
	struct benc b;
	size_t off = 0, len;
	int err;

	if (size > NG_MSG_MAX)
		return 0;
	ng(data, size);

	arena_init(&a1, arena1, sizeof(arena1));
	err = bencode_decode(&a1, (const char *)data, size, &r1, &why, &off);
	if (err) {
		CHECK(err == EINVAL || err == E2BIG || err == ENOMEM);
		CHECK(why != NULL && *why);
		CHECK(off <= size);
		return 0;
	}
	CHECK(r1 != NULL && a1.used <= a1.size);

	/* strict input has one spelling: re-encoding gives it back */
	benc_init(&b, out, sizeof(out));
	encode(&b, r1);
	CHECK(benc_finish(&b, &len) == 0);
	CHECK(len == size && !memcmp(out, data, size));

	arena_init(&a2, arena2, sizeof(arena2));
	CHECK(bencode_decode(&a2, out, len, &r2, &why, &off) == 0);
	same(r1, r2);

	/* lookups never fail on a decoded tree */
	(void)bnode_get(r1, "command");
	(void)bnode_str_eq(bnode_get(r1, "command"), "offer");
	(void)bnode_list_has(bnode_get(r1, "flags"), "symmetric");
	return 0;
}
