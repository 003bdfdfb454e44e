/* tests/unit/common/test_arena.c  bump allocator: alignment, zeroing, limits */
#include <stdint.h>

#include "arena.h"
#include "harness.h"

static int test_alloc_aligned_zeroed(void)
{
	_Alignas(16) uint8_t buf[256];
	struct arena a;
	uint8_t *p, *q;
	int err = 0;

	memset(buf, 0xaa, sizeof(buf));
	arena_init(&a, buf, sizeof(buf));

	p = arena_alloc(&a, 3);
	TEST_TRUE(p != NULL);
	TEST_EQ(0, (uintptr_t)p % 16);
	TEST_EQ(0, p[0] | p[1] | p[2]);

	q = arena_alloc(&a, 20);
	TEST_TRUE(q != NULL);
	TEST_EQ(0, (uintptr_t)q % 16);
	TEST_EQ(16, q - p);
	TEST_EQ(36, a.used);
 out:
	return err;
}

static int test_misaligned_base(void)
{
	_Alignas(16) uint8_t buf[64];
	struct arena a;
	uint8_t *p;
	int err = 0;

	arena_init(&a, buf + 1, sizeof(buf) - 1);
	p = arena_alloc(&a, 8);
	TEST_TRUE(p != NULL);
	TEST_EQ(0, (uintptr_t)p % 16);
	TEST_TRUE(p == buf + 16);

	/* 63 bytes from buf+1: 16..63 left after the first pad */
	p = arena_alloc(&a, 40);
	TEST_TRUE(p == NULL);
	p = arena_alloc(&a, 32);
	TEST_TRUE(p == buf + 32);
 out:
	return err;
}

static int test_full_and_reset(void)
{
	_Alignas(16) uint8_t buf[64];
	struct arena a;
	int err = 0;

	arena_init(&a, buf, sizeof(buf));
	TEST_TRUE(arena_alloc(&a, 64) != NULL);
	TEST_TRUE(arena_alloc(&a, 1) == NULL);
	TEST_TRUE(arena_alloc(&a, 0) != NULL);  /* none left, none asked */
	TEST_TRUE(arena_alloc(&a, SIZE_MAX) == NULL);

	arena_reset(&a);
	TEST_EQ(0, a.used);
	TEST_TRUE(arena_alloc(&a, SIZE_MAX) == NULL);
	TEST_TRUE(arena_alloc(&a, SIZE_MAX - 8) == NULL);
	TEST_TRUE(arena_alloc(&a, 65) == NULL);
	TEST_TRUE(arena_alloc(&a, 64) == buf);
 out:
	return err;
}

static int test_strndup(void)
{
	_Alignas(16) uint8_t buf[32];
	struct arena a;
	char *s;
	int err = 0;

	arena_init(&a, buf, sizeof(buf));
	s = arena_strndup(&a, "hello world", 5);
	TEST_STREQ("hello", s);
	s = arena_strndup(&a, "", 0);
	TEST_STREQ("", s);
	TEST_TRUE(arena_strndup(&a, "0123456789abcdef", 16) == NULL);
	TEST_TRUE(arena_strndup(&a, "x", SIZE_MAX) == NULL);
 out:
	return err;
}

static int test_empty_arena(void)
{
	struct arena a;
	int err = 0;

	arena_init(&a, NULL, 100);
	TEST_TRUE(arena_alloc(&a, 1) == NULL);
	TEST_TRUE(arena_strndup(&a, "a", 1) == NULL);
	TEST_TRUE(arena_alloc(NULL, 1) == NULL);
	arena_reset(NULL);
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_alloc_aligned_zeroed),
	HARNESS_TEST(test_misaligned_base),
	HARNESS_TEST(test_full_and_reset),
	HARNESS_TEST(test_strndup),
	HARNESS_TEST(test_empty_arena),
};

HARNESS_MAIN(tests)
