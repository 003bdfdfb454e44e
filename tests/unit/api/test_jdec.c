/* tests/unit/api/test_jdec.c  strict JSON decoding: golden trees, rejections */
#include <stdint.h>

#include "arena.h"
#include "harness.h"
#include "jdec.h"

static _Alignas(16) uint8_t arena_buf[64 * 1024];
static char text[4096];

/* Decode a copy of <s> (the decoder writes into its input). */
static int decode(struct arena *a, const char *s, size_t len,
		  struct jnode **rootp, const char **whyp, size_t *offp)
{
	if (len > sizeof(text))
		return E2BIG;
	memcpy(text, s, len);
	arena_init(a, arena_buf, sizeof(arena_buf));
	return jdec_decode(a, text, len, rootp, whyp, offp);
}

#define DEC(s, rootp) decode(&a, (s), sizeof(s) - 1, (rootp), &why, &off)

/* Expect <s> to fail with <experr>, reason <expwhy> at offset <expoff>. */
#define REJECT(s, experr, expwhy, expoff) do { \
		struct jnode *r_ = NULL; \
		TEST_EQ((experr), DEC(s, &r_)); \
		TEST_STREQ((expwhy), why); \
		TEST_EQ((expoff), off); \
	} while (0)

static int test_object(void)
{
	struct arena a;
	struct jnode *root;
	const struct jnode *m;
	const char *why;
	size_t off;
	int err = 0;

	TEST_ERR(DEC(" {\"name\": \"t1\", \"port\": 5060, \"tls\": true,\n"
		     "\t\"x\": null, \"l\": [1, \"a\", [], {}], \"f\": -1.5e3,"
		     " \"n\": false}\r\n", &root));
	TEST_EQ(JN_OBJ, root->type);
	TEST_EQ(7, root->v.c.n);
	TEST_TRUE(why == NULL);

	m = jdec_get(root, "name");
	TEST_TRUE(m && m->type == JN_STR);
	TEST_MEMEQ("t1", 2, m->v.s.p, m->v.s.len);
	TEST_EQ('\0', m->v.s.p[m->v.s.len]);

	m = jdec_get(root, "port");
	TEST_TRUE(m && m->type == JN_INT);
	TEST_EQ(5060, m->v.i);

	m = jdec_get(root, "tls");
	TEST_TRUE(m && m->type == JN_BOOL && m->v.b);
	m = jdec_get(root, "n");
	TEST_TRUE(m && m->type == JN_BOOL && !m->v.b);
	m = jdec_get(root, "x");
	TEST_TRUE(m && m->type == JN_NULL);

	m = jdec_get(root, "l");
	TEST_TRUE(m && m->type == JN_ARR);
	TEST_EQ(4, m->v.c.n);
	TEST_EQ(JN_INT, m->v.c.head->type);
	TEST_EQ(JN_STR, m->v.c.head->next->type);
	TEST_EQ(JN_ARR, m->v.c.head->next->next->type);
	TEST_EQ(0, m->v.c.head->next->next->v.c.n);
	TEST_EQ(JN_OBJ, m->v.c.head->next->next->next->type);
	TEST_TRUE(m->v.c.head->key == NULL);

	m = jdec_get(root, "f");
	TEST_TRUE(m && m->type == JN_NUM);
	TEST_MEMEQ("-1.5e3", 6, m->v.s.p, m->v.s.len);

	TEST_TRUE(jdec_get(root, "nam") == NULL);
	TEST_TRUE(jdec_get(root, "names") == NULL);
	TEST_TRUE(jdec_get(m, "f") == NULL);
 out:
	return err;
}

static int test_scalars(void)
{
	struct arena a;
	struct jnode *root;
	const char *why;
	size_t off;
	int err = 0;

	TEST_ERR(DEC("42", &root));
	TEST_EQ(JN_INT, root->type);
	TEST_EQ(42, root->v.i);
	TEST_ERR(DEC("-0", &root));
	TEST_EQ(JN_INT, root->type);
	TEST_EQ(0, root->v.i);
	TEST_ERR(DEC("9223372036854775807", &root));
	TEST_EQ(JN_INT, root->type);
	TEST_EQ(INT64_MAX, root->v.i);
	TEST_ERR(DEC("-9223372036854775808", &root));
	TEST_EQ(JN_INT, root->type);
	TEST_EQ(INT64_MIN, root->v.i);
	/* out of int64: still a number, never a wrapped integer */
	TEST_ERR(DEC("9223372036854775808", &root));
	TEST_EQ(JN_NUM, root->type);
	TEST_ERR(DEC("-9223372036854775809", &root));
	TEST_EQ(JN_NUM, root->type);
	TEST_ERR(DEC("99999999999999999999999", &root));
	TEST_EQ(JN_NUM, root->type);
	TEST_ERR(DEC("1.0", &root));
	TEST_EQ(JN_NUM, root->type);
	TEST_ERR(DEC("1E+2", &root));
	TEST_EQ(JN_NUM, root->type);
	TEST_ERR(DEC("\"\"", &root));
	TEST_EQ(JN_STR, root->type);
	TEST_EQ(0, root->v.s.len);
	TEST_ERR(DEC("null", &root));
	TEST_EQ(JN_NULL, root->type);
 out:
	return err;
}

static int test_strings(void)
{
	struct arena a;
	struct jnode *root;
	const char *why;
	size_t off;
	int err = 0;

	TEST_ERR(DEC("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", &root));
	TEST_MEMEQ("a\"b\\c/d\b\f\n\r\t", 12, root->v.s.p, root->v.s.len);

	/* \u escapes to UTF-8, a surrogate pair to 4 bytes */
	TEST_ERR(DEC("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", &root));
	TEST_MEMEQ("A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10, root->v.s.p,
		   root->v.s.len);

	/* raw UTF-8 passes through */
	TEST_ERR(DEC("\"M\xc3\xbcller \xe2\x82\xac \xf4\x8f\xbf\xbf\"",
		     &root));
	TEST_EQ(16, root->v.s.len);

	/* an injection attempt is only text */
	TEST_ERR(DEC("{\"d\": \"x'); DROP TABLE trunks;--\"}", &root));
	TEST_STREQ("x'); DROP TABLE trunks;--", jdec_get(root, "d")->v.s.p);

	/* escaped member names are unescaped and compared decoded */
	TEST_ERR(DEC("{\"n\\u0061me\": 1}", &root));
	TEST_TRUE(jdec_get(root, "name") != NULL);
 out:
	return err;
}

static int test_reject_syntax(void)
{
	struct arena a;
	const char *why;
	size_t off;
	int err = 0;

	REJECT("", EINVAL, "expected a value", 0);
	REJECT("   ", EINVAL, "expected a value", 3);
	REJECT("{", EINVAL, "expected a member name", 1);
	REJECT("{\"a\" 1}", EINVAL, "expected ':'", 5);
	REJECT("{\"a\": 1,}", EINVAL, "expected a member name", 8);
	REJECT("{\"a\": 1 \"b\": 2}", EINVAL, "expected ',' or '}'", 8);
	REJECT("{a: 1}", EINVAL, "expected a member name", 1);
	REJECT("[1, 2", EINVAL, "unterminated array", 5);
	REJECT("[1 2]", EINVAL, "expected ',' or ']'", 3);
	REJECT("[1,]", EINVAL, "expected a value", 3);
	REJECT("{} {}", EINVAL, "trailing bytes after the value", 3);
	REJECT("TRUE", EINVAL, "expected a value", 0);
	REJECT("tru", EINVAL, "unknown literal", 0);
	REJECT("nul", EINVAL, "unknown literal", 0);
	REJECT("'a'", EINVAL, "expected a value", 0);
	REJECT("{\"a\": 1, \"a\": 2}", EINVAL, "duplicate member name", 9);
	REJECT("{\"a\": 1, \"\\u0061\": 2}", EINVAL,
	       "duplicate member name", 9);
	REJECT("\xef\xbb\xbf{}", EINVAL, "expected a value", 0);
	REJECT("{\"a\":1}\x00", EINVAL, "trailing bytes after the value", 7);
 out:
	return err;
}

static int test_reject_numbers(void)
{
	struct arena a;
	const char *why;
	size_t off;
	int err = 0;

	REJECT("01", EINVAL, "leading zero in a number", 0);
	REJECT("-", EINVAL, "bad number", 0);
	REJECT("1.", EINVAL, "bad number", 0);
	REJECT(".5", EINVAL, "expected a value", 0);
	REJECT("1e", EINVAL, "bad number", 0);
	REJECT("1e+", EINVAL, "bad number", 0);
	REJECT("+1", EINVAL, "expected a value", 0);
	REJECT("0x10", EINVAL, "trailing bytes after the value", 1);
	REJECT("NaN", EINVAL, "expected a value", 0);
	REJECT("-Infinity", EINVAL, "bad number", 0);
 out:
	return err;
}

static int test_reject_strings(void)
{
	struct arena a;
	const char *why;
	size_t off;
	int err = 0;

	REJECT("\"abc", EINVAL, "unterminated string", 0);
	REJECT("\"a\\", EINVAL, "unterminated string", 2);
	REJECT("\"a\nb\"", EINVAL, "control character in a string", 2);
	REJECT("\"a\tb\"", EINVAL, "control character in a string", 2);
	REJECT("\"\\x41\"", EINVAL, "bad escape in a string", 1);
	REJECT("\"\\u12\"", EINVAL, "bad \\u escape in a string", 1);
	REJECT("\"\\u12G4\"", EINVAL, "bad \\u escape in a string", 1);
	REJECT("\"\\u0000\"", EINVAL, "\\u0000 in a string", 1);
	REJECT("\"\\udc00\"", EINVAL, "lone surrogate in a string", 1);
	REJECT("\"\\ud800\"", EINVAL, "lone surrogate in a string", 1);
	REJECT("\"\\ud800\\u0041\"", EINVAL, "lone surrogate in a string",
	       1);
	REJECT("\"\\ud800x\"", EINVAL, "lone surrogate in a string", 1);
	/* bad UTF-8: stray continuation, overlong, surrogate, too big, cut */
	REJECT("\"a\x80\"", EINVAL, "invalid UTF-8", 2);
	REJECT("\"\xc0\xaf\"", EINVAL, "invalid UTF-8", 1);
	REJECT("\"\xe0\x80\xaf\"", EINVAL, "invalid UTF-8", 1);
	REJECT("\"\xed\xa0\x80\"", EINVAL, "invalid UTF-8", 1);
	REJECT("\"\xf4\x90\x80\x80\"", EINVAL, "invalid UTF-8", 1);
	REJECT("\"\xf8\x88\x80\x80\x80\"", EINVAL, "invalid UTF-8", 1);
	REJECT("\"\xe2\x82", EINVAL, "invalid UTF-8", 1);
	REJECT("\"\xff\"", EINVAL, "invalid UTF-8", 1);
 out:
	return err;
}

static int test_limits(void)
{
	struct arena a;
	struct jnode *root;
	char deep[2 * JDEC_MAX_DEPTH + 8];
	const char *why;
	size_t off, i, n;
	int err = 0;

	/* exactly JDEC_MAX_DEPTH levels pass, one more does not */
	for (n = 0; n < JDEC_MAX_DEPTH; n++)
		deep[n] = '[';
	for (i = 0; i < JDEC_MAX_DEPTH; i++)
		deep[n++] = ']';
	TEST_ERR(decode(&a, deep, n, &root, &why, &off));

	for (n = 0; n <= JDEC_MAX_DEPTH; n++)
		deep[n] = '[';
	for (i = 0; i <= JDEC_MAX_DEPTH; i++)
		deep[n++] = ']';
	TEST_EQ(E2BIG, decode(&a, deep, n, &root, &why, &off));
	TEST_STREQ("nested too deeply", why);
	TEST_EQ(JDEC_MAX_DEPTH, off);

	/* an arena too small for the values: ENOMEM, never a crash */
	memcpy(text, "[1,2,3,4]", 9);
	arena_init(&a, arena_buf, 3 * sizeof(struct jnode));
	TEST_EQ(ENOMEM, jdec_decode(&a, text, 9, &root, &why, &off));
	TEST_STREQ("too many values", why);

	/* nothing past <len> is read: a value cut short stays cut */
	memcpy(text, "123456", 6);
	arena_init(&a, arena_buf, sizeof(arena_buf));
	TEST_ERR(jdec_decode(&a, text, 3, &root, &why, &off));
	TEST_EQ(123, root->v.i);
	memcpy(text, "\"abc\"", 5);
	TEST_EQ(EINVAL, jdec_decode(&a, text, 4, &root, &why, &off));
	memcpy(text, "true", 4);
	TEST_EQ(EINVAL, jdec_decode(&a, text, 3, &root, &why, &off));

	TEST_EQ(EINVAL, jdec_decode(NULL, text, 1, &root, &why, &off));
	TEST_EQ(EINVAL, jdec_decode(&a, NULL, 1, &root, &why, &off));
 out:
	return err;
}

static int test_type_names(void)
{
	int err = 0;

	TEST_STREQ("a string", jdec_type_name(JN_STR));
	TEST_STREQ("an integer", jdec_type_name(JN_INT));
	TEST_STREQ("a number", jdec_type_name(JN_NUM));
	TEST_STREQ("a boolean", jdec_type_name(JN_BOOL));
	TEST_STREQ("null", jdec_type_name(JN_NULL));
	TEST_STREQ("an array", jdec_type_name(JN_ARR));
	TEST_STREQ("an object", jdec_type_name(JN_OBJ));
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_object),
	HARNESS_TEST(test_scalars),
	HARNESS_TEST(test_strings),
	HARNESS_TEST(test_reject_syntax),
	HARNESS_TEST(test_reject_numbers),
	HARNESS_TEST(test_reject_strings),
	HARNESS_TEST(test_limits),
	HARNESS_TEST(test_type_names),
};

HARNESS_MAIN(tests)
