/* tests/fuzz/fuzz_json.c  REST body decoder: reject cleanly or round-trip */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fuzz.h"
#include "jdec.h"

#define INPUT_MAX  (64 * 1024)
#define OUT_MAX    (8 * INPUT_MAX)     /* \u00XX: 6 bytes per input byte */
#define NODES      1024

static _Alignas(16) uint8_t arena1[NODES * sizeof(struct jnode)];
static _Alignas(16) uint8_t arena2[NODES * sizeof(struct jnode)];
static char in[INPUT_MAX];
static char out1[OUT_MAX];
static char out2[OUT_MAX];        /* decoded in place: not an output */
static char out3[OUT_MAX];

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct out {
	char  *buf;
	size_t len;
};

static void put(struct out *o, const char *p, size_t n)
{
	CHECK(o->len + n <= OUT_MAX);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put_str(struct out *o, const char *p, size_t n)
{
	size_t i;

	/* decoded strings are NUL ended and hold no NUL of their own */
	CHECK(p[n] == '\0');
	CHECK(memchr(p, '\0', n) == NULL);
	put(o, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		}
		else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(o, esc, 6);
		}
		else {
			put(o, (const char *)&p[i], 1);
		}
	}
	put(o, "\"", 1);
}

static void encode(struct out *o, const struct jnode *n)
{
	const struct jnode *c;
	char num[24];
	size_t k = 0;

	switch (n->type) {
	case JN_NULL:
		put(o, "null", 4);
		return;
	case JN_BOOL:
		put(o, n->v.b ? "true" : "false", n->v.b ? 4 : 5);
		return;
	case JN_INT:
		put(o, num, (size_t)snprintf(num, sizeof(num), "%lld",
					     (long long)n->v.i));
		return;
	case JN_NUM:
		put(o, n->v.s.p, n->v.s.len);
		return;
	case JN_STR:
		put_str(o, n->v.s.p, n->v.s.len);
		return;
	case JN_ARR:
	case JN_OBJ:
		break;
	default:
		abort();
	}

	put(o, n->type == JN_ARR ? "[" : "{", 1);
	for (c = n->v.c.head; c; c = c->next, k++) {
		if (k)
			put(o, ",", 1);
		if (n->type == JN_OBJ) {
			CHECK(c->key != NULL);
			put_str(o, c->key, c->keylen);
			put(o, ":", 1);
		}
		else {
			CHECK(c->key == NULL);
		}
		encode(o, c);
	}
	CHECK(k == n->v.c.n);
	put(o, n->type == JN_ARR ? "]" : "}", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a1, a2;
	struct jnode *r1, *r2;
	struct out o1 = { out1, 0 }, o2 = { out3, 0 };
	const char *why;
	size_t off, len;
	int err;

	if (size > INPUT_MAX)
		return 0;
	memcpy(in, data, size);

	arena_init(&a1, arena1, sizeof(arena1));
	err = jdec_decode(&a1, in, size, &r1, &why, &off);
	if (err) {
		CHECK(why != NULL);
		CHECK(off <= size);
		return 0;
	}
	CHECK(why == NULL && off == size);

	/* what we print decodes again to the same text */
	encode(&o1, r1);
	len = o1.len;
	memcpy(out2, out1, len);
	arena_init(&a2, arena2, sizeof(arena2));
	err = jdec_decode(&a2, out2, len, &r2, &why, &off);
	CHECK(err == 0);
	encode(&o2, r2);
	CHECK(o2.len == len);
	CHECK(!memcmp(out1, out3, len));
	return 0;
}
