/* tests/unit/common/test_bencode.c  golden bencode, strict rejections */
#include <stdint.h>

#include "arena.h"
#include "bencode.h"
#include "harness.h"

static _Alignas(16) uint8_t arena_buf[64 * 1024];

static int decode(struct arena *a, const char *s, size_t len,
		  struct bnode **rootp, const char **whyp, size_t *offp)
{
	arena_init(a, arena_buf, sizeof(arena_buf));
	return bencode_decode(a, s, len, rootp, whyp, offp);
}

#define DEC(s, rootp) decode(&a, (s), sizeof(s) - 1, (rootp), &why, &off)

/* Expect <s> to fail with <experr>, reason <expwhy> at offset <expoff>. */
#define REJECT(s, experr, expwhy, expoff) do { \
		struct bnode *r_ = NULL; \
		TEST_EQ((experr), DEC(s, &r_)); \
		TEST_STREQ((expwhy), why); \
		TEST_EQ((expoff), off); \
	} while (0)

static int test_decode_ping(void)
{
	struct arena a;
	struct bnode *root;
	const char *why;
	size_t off;
	int err = 0;

	TEST_ERR(DEC("d4:pingi1ee", &root));
	TEST_EQ(BN_DICT, root->type);
	TEST_EQ(1, root->v.c.n);
	TEST_EQ(BN_INT, root->v.c.head->type);
	TEST_EQ(1, root->v.c.head->v.i);
	TEST_MEMEQ("ping", 4, root->v.c.head->key, root->v.c.head->keylen);
	TEST_TRUE(why == NULL);
	TEST_EQ(11, off);

	TEST_ERR(DEC("d7:command4:pinge", &root));
	TEST_TRUE(bnode_str_eq(bnode_get(root, "command"), "ping"));
	TEST_TRUE(!bnode_str_eq(bnode_get(root, "command"), "pin"));
	TEST_TRUE(!bnode_str_eq(bnode_get(root, "command"), "pingg"));
	TEST_TRUE(bnode_get(root, "comman") == NULL);
	TEST_TRUE(bnode_get(root->v.c.head, "command") == NULL);
 out:
	return err;
}

static int test_decode_offer(void)
{
	static const char msg[] =
		"d3:sdp47:v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n"
		"s=-\r\nc=IN IP4 x\r\n"
		"7:call-id8:abc@host8:from-tag3:ft17:command5:offer"
		"5:flagsl13:trust-address9:symmetrice"
		"7:replacel6:origin18:session-connectione"
		"9:direction" "l8:external8:internale"
		"4:sizei-42ee";
	struct arena a;
	struct bnode *root;
	const struct bnode *n;
	const char *why, *p;
	size_t off, len;
	int err = 0;

	TEST_ERR(DEC(msg, &root));
	TEST_EQ(BN_DICT, root->type);
	TEST_EQ(8, root->v.c.n);
	TEST_TRUE(bnode_get_str(root, "sdp", &p, &len));
	TEST_EQ(47, len);
	TEST_TRUE(!memcmp(p, "v=0\r\n", 5));
	TEST_TRUE(p > msg && p < msg + sizeof(msg));   /* no copy */
	TEST_TRUE(bnode_get_str(root, "call-id", &p, &len));
	TEST_MEMEQ("abc@host", 8, p, len);
	TEST_TRUE(bnode_str_eq(bnode_get(root, "command"), "offer"));
	n = bnode_get(root, "flags");
	TEST_TRUE(n && n->type == BN_LIST);
	TEST_EQ(2, n->v.c.n);
	TEST_TRUE(bnode_list_has(n, "trust-address"));
	TEST_TRUE(bnode_list_has(n, "symmetric"));
	TEST_TRUE(!bnode_list_has(n, "symmetri"));
	TEST_TRUE(!bnode_list_has(root, "symmetric"));
	TEST_TRUE(bnode_list_has(bnode_get(root, "replace"),
				 "session-connection"));
	TEST_TRUE(!bnode_get_str(root, "flags", &p, &len));
	TEST_TRUE(!bnode_get_str(root, "nope", &p, &len));
	n = bnode_get(root, "size");
	TEST_TRUE(n && n->type == BN_INT);
	TEST_EQ(-42, n->v.i);
 out:
	return err;
}

static int test_decode_scalars(void)
{
	struct arena a;
	struct bnode *root;
	const char *why;
	size_t off;
	int err = 0;

	TEST_ERR(DEC("i0e", &root));
	TEST_EQ(0, root->v.i);
	TEST_ERR(DEC("i9223372036854775807e", &root));
	TEST_EQ(INT64_MAX, root->v.i);
	TEST_ERR(DEC("i-9223372036854775808e", &root));
	TEST_TRUE(root->v.i == INT64_MIN);
	TEST_ERR(DEC("0:", &root));
	TEST_EQ(BN_STR, root->type);
	TEST_EQ(0, root->v.s.len);
	TEST_ERR(DEC("le", &root));
	TEST_EQ(BN_LIST, root->type);
	TEST_EQ(0, root->v.c.n);
	TEST_TRUE(root->v.c.head == NULL);
	TEST_ERR(DEC("de", &root));
	TEST_EQ(BN_DICT, root->type);
	TEST_ERR(DEC("d0:i1ee", &root));           /* empty key is a key */
	TEST_ERR(DEC("3:a\0b", &root));            /* binary-safe */
	TEST_EQ(3, root->v.s.len);
	TEST_ERR(DEC("li1ei2ei3ee", &root));
	TEST_EQ(3, root->v.c.n);
	TEST_EQ(3, root->v.c.head->next->next->v.i);
	TEST_TRUE(root->v.c.head->next->next->next == NULL);
 out:
	return err;
}

static int test_reject_integers(void)
{
	struct arena a;
	const char *why;
	size_t off;
	int err = 0;

	REJECT("i01e", EINVAL, "leading zero in integer", 1);
	REJECT("i00e", EINVAL, "leading zero in integer", 1);
	REJECT("i-01e", EINVAL, "leading zero in integer", 2);
	REJECT("i-0e", EINVAL, "negative zero", 0);
	REJECT("i-e", EINVAL, "integer without digits", 2);
	REJECT("ie", EINVAL, "integer without digits", 1);
	REJECT("i--1e", EINVAL, "integer without digits", 2);
	REJECT("i1", EINVAL, "truncated integer", 2);
	REJECT("i", EINVAL, "truncated integer", 1);
	REJECT("i1xe", EINVAL, "unexpected byte 'x'", 2);
	REJECT("i+1e", EINVAL, "integer without digits", 1);
	REJECT("i9223372036854775808e", EINVAL, "integer overflow", 0);
	REJECT("i-9223372036854775809e", EINVAL, "integer overflow", 0);
	REJECT("i99999999999999999999999e", EINVAL, "integer overflow", 0);
	REJECT("i 1e", EINVAL, "integer without digits", 1);
 out:
	return err;
}

static int test_reject_strings(void)
{
	struct arena a;
	const char *why;
	size_t off;
	int err = 0;

	REJECT("4:abc", EINVAL, "truncated string", 0);
	REJECT("4", EINVAL, "truncated string", 1);
	REJECT("01:a", EINVAL, "leading zero in length", 0);
	REJECT("00:", EINVAL, "leading zero in length", 0);
	REJECT("1x", EINVAL, "unexpected byte 'x'", 1);
	REJECT("1048577:", E2BIG, "string too long", 0);
	REJECT("99999999999999999999999999999:", E2BIG, "string too long", 0);
	REJECT("18446744073709551617:a", E2BIG, "string too long", 0);
	REJECT("1048576:x", EINVAL, "truncated string", 0);
	REJECT("-1:a", EINVAL, "unexpected byte '-'", 0);
 out:
	return err;
}

static int test_reject_structure(void)
{
	struct arena a;
	const char *why;
	size_t off;
	int err = 0;

	REJECT("", EINVAL, "truncated input", 0);
	REJECT("x", EINVAL, "unexpected byte 'x'", 0);
	REJECT("\xff", EINVAL, "unexpected byte 0xff", 0);
	REJECT(" ", EINVAL, "unexpected byte 0x20", 0);
	REJECT("e", EINVAL, "unexpected byte 'e'", 0);
	REJECT("i1ei2e", EINVAL, "trailing bytes", 3);
	REJECT("d4:pingi1eee", EINVAL, "trailing bytes", 11);
	REJECT("d4:pingi1ee\n", EINVAL, "trailing bytes", 11);
	REJECT("di1ei2ee", EINVAL, "dict key not a string", 1);
	REJECT("dlei2ee", EINVAL, "dict key not a string", 1);
	REJECT("d1:ae", EINVAL, "dict key without value", 4);
	REJECT("d1:a", EINVAL, "truncated dict", 4);
	REJECT("d", EINVAL, "truncated dict", 1);
	REJECT("l", EINVAL, "truncated list", 1);
	REJECT("li1e", EINVAL, "truncated list", 4);
	REJECT("l1:a", EINVAL, "truncated list", 4);
	REJECT("lx", EINVAL, "unexpected byte 'x'", 1);
 out:
	return err;
}

static int test_depth(void)
{
	char buf[2 * (BENCODE_MAX_DEPTH + 1)];
	struct arena a;
	struct bnode *root;
	const char *why;
	size_t off, i;
	int err = 0;

	/* exactly BENCODE_MAX_DEPTH nested lists: fine */
	for (i = 0; i < BENCODE_MAX_DEPTH; i++) {
		buf[i] = 'l';
		buf[2 * BENCODE_MAX_DEPTH - 1 - i] = 'e';
	}
	TEST_ERR(decode(&a, buf, 2 * BENCODE_MAX_DEPTH, &root, &why, &off));

	/* one more: refused at the opening byte of the extra level */
	for (i = 0; i < BENCODE_MAX_DEPTH + 1; i++) {
		buf[i] = 'l';
		buf[2 * BENCODE_MAX_DEPTH + 1 - i] = 'e';
	}
	TEST_EQ(E2BIG, decode(&a, buf, sizeof(buf), &root, &why, &off));
	TEST_STREQ("nesting too deep", why);
	TEST_EQ(BENCODE_MAX_DEPTH, off);
 out:
	return err;
}

static int test_deep_dicts(void)
{
	/* d1:a d1:a ... e e: dict nesting counts the same as lists */
	char buf[(BENCODE_MAX_DEPTH + 1) * 4 + BENCODE_MAX_DEPTH + 8];
	struct arena a;
	struct bnode *root;
	const char *why;
	size_t off, len = 0, i;
	int err = 0;

	for (i = 0; i < BENCODE_MAX_DEPTH; i++) {
		memcpy(buf + len, "d1:a", 4);
		len += 4;
	}
	memcpy(buf + len, "i7e", 3);
	len += 3;
	for (i = 0; i < BENCODE_MAX_DEPTH; i++)
		buf[len++] = 'e';
	TEST_ERR(decode(&a, buf, len, &root, &why, &off));

	len = 0;
	for (i = 0; i < BENCODE_MAX_DEPTH + 1; i++) {
		memcpy(buf + len, "d1:a", 4);
		len += 4;
	}
	TEST_EQ(E2BIG, decode(&a, buf, len, &root, &why, &off));
	TEST_STREQ("nesting too deep", why);
	TEST_EQ(BENCODE_MAX_DEPTH * 4, off);
 out:
	return err;
}

/* Every strict prefix of a valid message fails cleanly: EINVAL, no crash,
 * offset within the prefix. Run under ASan/valgrind this also proves no
 * byte past the prefix is read (each prefix is copied to its own block). */
static int test_every_prefix_fails(void)
{
	static const char *const msgs[] = {
		"d7:command4:pinge",
		"d4:pingi1ee",
		("d3:sdp10:v=0\r\no=- 17:call-id3:abc5:flagsl3:fooi-12ee"
		 "4:dictd1:ali1eeee"),
		"li-9223372036854775808e0:de1:xe",
	};
	struct arena a;
	struct bnode *root;
	const char *why;
	size_t off, i, n;
	int err = 0;

	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		size_t len = strlen(msgs[i]);

		TEST_ERR(decode(&a, msgs[i], len, &root, &why, &off));
		for (n = 0; n < len; n++) {
			char *copy = malloc(n ? n : 1);
			int r;

			TEST_TRUE(copy != NULL);
			memcpy(copy, msgs[i], n);
			r = decode(&a, copy, n, &root, &why, &off);
			free(copy);
			if (r != EINVAL || !why || off > n) {
				TEST_FAIL_AT("msg %zu prefix %zu: %d %s", i, n,
					     r, why ? why : "(null)");
				err = EINVAL;
				goto out;
			}
		}
	}
 out:
	return err;
}

static int test_arena_exhaustion(void)
{
	static const char msg[] = "d7:command5:offer5:flagsl1:a1:b1:cee";
	_Alignas(16) uint8_t small[16 * 1024];
	struct arena a;
	struct bnode *root;
	const char *why;
	size_t off, sz, need = 0;
	int r, err = 0;

	/* find the exact size needed, then every smaller one is ENOMEM */
	for (sz = 0; sz <= sizeof(small); sz += 8) {
		arena_init(&a, small, sz);
		r = bencode_decode(&a, msg, sizeof(msg) - 1, &root, &why, &off);
		if (r == 0) {
			need = sz;
			break;
		}
		TEST_EQ(ENOMEM, r);
		TEST_STREQ("arena full", why);
	}
	TEST_TRUE(need > 0);
	TEST_TRUE(need >= 6 * sizeof(struct bnode));  /* 6 nodes */
 out:
	return err;
}

static int test_args(void)
{
	struct arena a;
	struct bnode *root;
	const char *why;
	size_t off;
	int err = 0;

	arena_init(&a, arena_buf, sizeof(arena_buf));
	TEST_EQ(EINVAL, bencode_decode(NULL, "i1e", 3, &root, &why, &off));
	TEST_EQ(EINVAL, bencode_decode(&a, "i1e", 3, NULL, &why, &off));
	TEST_EQ(EINVAL, bencode_decode(&a, NULL, 3, &root, &why, &off));
	TEST_ERR(bencode_decode(&a, "i1e", 3, &root, NULL, NULL));
	TEST_EQ(EINVAL, bencode_decode(&a, "i1", 2, &root, NULL, NULL));
	TEST_TRUE(bnode_get(NULL, "x") == NULL);
	TEST_TRUE(!bnode_str_eq(NULL, "x"));
	TEST_TRUE(!bnode_list_has(NULL, "x"));
 out:
	return err;
}

static int test_encode_golden(void)
{
	char buf[256];
	struct benc b;
	size_t len;
	int err = 0;

	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	benc_kint(&b, "ping", 1);
	benc_end(&b);
	TEST_ERR(benc_finish(&b, &len));
	TEST_MEMEQ("d4:pingi1ee", 11, buf, len);
	TEST_STREQ("d4:pingi1ee", buf);

	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	benc_kstr(&b, "command", "ping");
	benc_end(&b);
	TEST_ERR(benc_finish(&b, &len));
	TEST_MEMEQ("d7:command4:pinge", 17, buf, len);

	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	benc_kstr(&b, "result", "ok");
	benc_kstrn(&b, "sdp", "v=0\r\nxyz", 5);
	benc_klist(&b, "flags");
	benc_str(&b, "a");
	benc_strn(&b, "", 0);
	benc_int(&b, INT64_MIN);
	benc_int(&b, 0);
	benc_end(&b);
	benc_kdict(&b, "totals");
	benc_kint(&b, "max", INT64_MAX);
	benc_end(&b);
	benc_end(&b);
	TEST_ERR(benc_finish(&b, &len));
	TEST_STREQ("d6:result2:ok3:sdp5:v=0\r\n5:flagsl1:a0:"
		   "i-9223372036854775808ei0ee6:totalsd3:max"
		   "i9223372036854775807eee", buf);
	TEST_EQ(strlen(buf), len);
 out:
	return err;
}

static int test_encode_errors(void)
{
	char buf[16];
	struct benc b;
	size_t len = 99;
	int err = 0;

	/* open container at finish */
	benc_init(&b, buf, sizeof(buf));
	benc_dict(&b);
	TEST_EQ(EINVAL, benc_finish(&b, &len));
	TEST_EQ(99, len);

	/* unbalanced end latches EINVAL; later calls are no-ops */
	benc_init(&b, buf, sizeof(buf));
	benc_int(&b, 1);
	benc_end(&b);
	TEST_EQ(EINVAL, b.err);
	benc_int(&b, 2);
	TEST_EQ(3, b.len);
	TEST_EQ(EINVAL, benc_finish(&b, &len));

	/* full: ENOSPC latched, nothing partial written past the size */
	benc_init(&b, buf, sizeof(buf));
	benc_list(&b);
	benc_str(&b, "0123456789");    /* 13 bytes: fits (14) */
	benc_str(&b, "x");             /* 3 more: does not */
	benc_end(&b);
	TEST_EQ(ENOSPC, benc_finish(&b, &len));
	TEST_TRUE(b.len <= sizeof(buf));

	/* exact fit: 16 bytes, no room for the NUL, still fine */
	benc_init(&b, buf, sizeof(buf));
	benc_list(&b);
	benc_str(&b, "0123456789a");
	benc_end(&b);
	TEST_ERR(benc_finish(&b, &len));
	TEST_EQ(16, len);
	TEST_MEMEQ("l11:0123456789ae", 16, buf, len);

	/* zero-size buffer */
	benc_init(&b, NULL, 0);
	benc_int(&b, 1);
	TEST_EQ(ENOSPC, benc_finish(&b, &len));
	TEST_EQ(EINVAL, benc_finish(NULL, &len));
 out:
	return err;
}

/* Decode, re-encode the tree, compare byte for byte with the input. */
static void reencode(struct benc *b, const struct bnode *n)
{
	const struct bnode *c;

	switch (n->type) {
	case BN_INT:
		benc_int(b, n->v.i);
		break;
	case BN_STR:
		benc_strn(b, n->v.s.p, n->v.s.len);
		break;
	case BN_LIST:
	case BN_DICT:
		if (n->type == BN_LIST)
			benc_list(b);
		else
			benc_dict(b);
		for (c = n->v.c.head; c; c = c->next) {
			if (n->type == BN_DICT)
				benc_strn(b, c->key, c->keylen);
			reencode(b, c);
		}
		benc_end(b);
		break;
	}
}

static int test_roundtrip(void)
{
	static const char *const msgs[] = {
		"d7:command4:pinge",
		"d6:result4:pong",
		"d3:sdp3:v=07:command5:offer5:flagsl0:2:ABe3:numi-7ee",
		"ll1:aed0:i1eei0ee",
	};
	char out[512];
	struct arena a;
	struct bnode *root;
	struct benc b;
	const char *why;
	size_t off, i, len;
	int err = 0;

	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		int r = decode(&a, msgs[i], strlen(msgs[i]), &root, &why,
			       &off);

		if (i == 1) {       /* missing 'e': the odd one out */
			TEST_EQ(EINVAL, r);
			continue;
		}
		TEST_ERR(r);
		benc_init(&b, out, sizeof(out));
		reencode(&b, root);
		TEST_ERR(benc_finish(&b, &len));
		TEST_MEMEQ(msgs[i], strlen(msgs[i]), out, len);
	}
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_decode_ping),
	HARNESS_TEST(test_decode_offer),
	HARNESS_TEST(test_decode_scalars),
	HARNESS_TEST(test_reject_integers),
	HARNESS_TEST(test_reject_strings),
	HARNESS_TEST(test_reject_structure),
	HARNESS_TEST(test_depth),
	HARNESS_TEST(test_deep_dicts),
	HARNESS_TEST(test_every_prefix_fails),
	HARNESS_TEST(test_arena_exhaustion),
	HARNESS_TEST(test_args),
	HARNESS_TEST(test_encode_golden),
	HARNESS_TEST(test_encode_errors),
	HARNESS_TEST(test_roundtrip),
};

HARNESS_MAIN(tests)
