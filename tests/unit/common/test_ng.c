/* tests/unit/common/test_ng.c  NG framing: cookie split and error replies */
#include <stdint.h>

#include "arena.h"
#include "bencode.h"
#include "harness.h"
#include "ng.h"

#define SPLIT(s) ng_split((s), sizeof(s) - 1, &cookie, &clen, &body, &blen)

static int test_split_ok(void)
{
	static const char msg[] = "5323_1 d7:command4:pinge";
	const char *cookie = NULL, *body = NULL;
	size_t clen = 0, blen = 0;
	int err = 0;

	TEST_ERR(SPLIT(msg));
	TEST_TRUE(cookie == msg);
	TEST_MEMEQ("5323_1", 6, cookie, clen);
	TEST_TRUE(body == msg + 7);
	TEST_MEMEQ("d7:command4:pinge", 17, body, blen);

	/* only the first space splits; the body may hold more */
	TEST_ERR(SPLIT("c  x"));
	TEST_MEMEQ("c", 1, cookie, clen);
	TEST_MEMEQ(" x", 2, body, blen);

	/* all optional outputs may be NULL */
	TEST_ERR(ng_split("a b", 3, NULL, NULL, NULL, NULL));
 out:
	return err;
}

static int test_split_cookie_limits(void)
{
	char buf[NG_COOKIE_MAX + 8];
	const char *cookie, *body;
	size_t clen, blen;
	int err = 0;

	memset(buf, 'k', sizeof(buf));
	buf[NG_COOKIE_MAX] = ' ';
	buf[NG_COOKIE_MAX + 1] = 'd';
	buf[NG_COOKIE_MAX + 2] = 'e';
	TEST_ERR(ng_split(buf, NG_COOKIE_MAX + 3, &cookie, &clen, &body,
			  &blen));
	TEST_EQ(NG_COOKIE_MAX, clen);
	TEST_EQ(2, blen);

	memset(buf, 'k', sizeof(buf));
	buf[NG_COOKIE_MAX + 1] = ' ';
	TEST_EQ(EINVAL, ng_split(buf, NG_COOKIE_MAX + 4, &cookie, &clen,
				 &body, &blen));
	/* no space at all, long */
	memset(buf, 'k', sizeof(buf));
	TEST_EQ(EINVAL, ng_split(buf, sizeof(buf), &cookie, &clen, &body,
				 &blen));
 out:
	return err;
}

static int test_split_rejects(void)
{
	const char *cookie, *body;
	size_t clen, blen;
	char *huge = NULL;
	int err = 0;

	TEST_EQ(EINVAL, SPLIT(""));
	TEST_EQ(EINVAL, SPLIT(" d7:command4:pinge"));     /* empty cookie */
	TEST_EQ(EINVAL, SPLIT("abc"));                    /* no space */
	TEST_EQ(EINVAL, SPLIT("abc "));                   /* no body */
	TEST_EQ(EINVAL, SPLIT("a\tb de"));                /* tab in cookie */
	TEST_EQ(EINVAL, SPLIT("a\nb de"));
	TEST_EQ(EINVAL, SPLIT("a\0b de"));
	TEST_EQ(EINVAL, SPLIT("a\x7f de"));
	TEST_EQ(EINVAL, SPLIT("\xc3\xa9 de"));             /* not ASCII */
	TEST_EQ(EINVAL, ng_split(NULL, 4, &cookie, &clen, &body, &blen));

	huge = malloc(NG_MSG_MAX + 1);
	TEST_TRUE(huge != NULL);
	memset(huge, 'e', NG_MSG_MAX + 1);
	huge[0] = 'c';
	huge[1] = ' ';
	TEST_ERR(ng_split(huge, NG_MSG_MAX, &cookie, &clen, &body, &blen));
	TEST_EQ(NG_MSG_MAX - 2, blen);
	TEST_EQ(EINVAL, ng_split(huge, NG_MSG_MAX + 1, &cookie, &clen, &body,
				 &blen));
 out:
	free(huge);
	return err;
}

static int test_error_reply(void)
{
	static const char exp[] =
		"5323_1 d6:result5:error12:error-reason15:Unknown commande";
	_Alignas(16) uint8_t mem[1024];
	char out[128];
	struct arena a;
	struct bnode *root;
	const char *cookie, *body, *why;
	size_t n, clen, blen, off;
	int err = 0;

	n = ng_error_reply(out, sizeof(out), "5323_1", 6, "Unknown command");
	TEST_EQ(sizeof(exp) - 1, n);
	TEST_MEMEQ(exp, sizeof(exp) - 1, out, n);
	TEST_EQ('\0', out[n]);

	/* the reply is itself a valid NG message */
	TEST_ERR(ng_split(out, n, &cookie, &clen, &body, &blen));
	arena_init(&a, mem, sizeof(mem));
	TEST_ERR(bencode_decode(&a, body, blen, &root, &why, &off));
	TEST_TRUE(bnode_str_eq(bnode_get(root, "result"), "error"));
	TEST_TRUE(bnode_str_eq(bnode_get(root, "error-reason"),
			       "Unknown command"));

	/* cookie is copied byte for byte, not NUL-terminated input */
	n = ng_error_reply(out, sizeof(out), "abcdef", 3, NULL);
	TEST_MEMEQ("abc d6:result5:error12:error-reason5:errore", 43, out, n);

	/* exact fit works, one byte less does not */
	n = ng_error_reply(out, sizeof(exp) - 1, "5323_1", 6,
			   "Unknown command");
	TEST_EQ(sizeof(exp) - 1, n);
	TEST_MEMEQ(exp, sizeof(exp) - 1, out, n);
	TEST_EQ(0, ng_error_reply(out, sizeof(exp) - 2, "5323_1", 6,
				  "Unknown command"));
	TEST_EQ(0, ng_error_reply(out, 3, "5323_1", 6, "x"));
	TEST_EQ(0, ng_error_reply(out, 0, "5323_1", 6, "x"));
	TEST_EQ(0, ng_error_reply(NULL, 100, "5323_1", 6, "x"));
	TEST_EQ(0, ng_error_reply(out, sizeof(out), "", 0, "x"));
	TEST_EQ(0, ng_error_reply(out, sizeof(out), NULL, 3, "x"));
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_split_ok),
	HARNESS_TEST(test_split_cookie_limits),
	HARNESS_TEST(test_split_rejects),
	HARNESS_TEST(test_error_reply),
};

HARNESS_MAIN(tests)
