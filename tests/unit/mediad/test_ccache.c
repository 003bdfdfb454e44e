/* tests/unit/mediad/test_ccache.c  cookie cache: hit, expiry, eviction */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "harness.h"
#include "ccache.h"

#define TTL 30000

static int put_s(struct ccache *c, const char *cookie, uint64_t h,
		 const char *reply, uint64_t now)
{
	return ccache_put(c, cookie, strlen(cookie), h, reply, strlen(reply),
			  now);
}

/* True when <cookie>/<h> finds exactly <reply>. */
static bool has(struct ccache *c, const char *cookie, uint64_t h,
		const char *reply, uint64_t now)
{
	const void *p;
	size_t len = 0;

	p = ccache_find(c, cookie, strlen(cookie), h, now, &len);
	return p && len == strlen(reply) && !memcmp(p, reply, len);
}

static bool absent(struct ccache *c, const char *cookie, uint64_t h,
		   uint64_t now)
{
	size_t len;

	return !ccache_find(c, cookie, strlen(cookie), h, now, &len);
}

static int test_ccache_hit(void)
{
	struct ccache c = { 0 };
	uint64_t h = ccache_hash("d7:command4:pinge", 17);
	int err = 0;

	TEST_ERR(ccache_init(&c, 16, 4096, TTL));
	TEST_TRUE(absent(&c, "abc", h, 1000));
	TEST_ERR(put_s(&c, "abc", h, "abc d6:result4:ponge", 1000));
	TEST_TRUE(has(&c, "abc", h, "abc d6:result4:ponge", 1000));
	TEST_TRUE(has(&c, "abc", h, "abc d6:result4:ponge", 1000 + TTL - 1));
	TEST_EQ(2, c.hits);

	/* same cookie, other body: a new request, not a retransmit */
	TEST_TRUE(absent(&c, "abc", h + 1, 1000));
	/* prefix and extension of the cookie do not match */
	TEST_TRUE(absent(&c, "ab", h, 1000));
	TEST_TRUE(absent(&c, "abcd", h, 1000));

	/* the newer entry of a reused cookie wins */
	TEST_ERR(put_s(&c, "abc", h + 1, "abc second", 2000));
	TEST_TRUE(has(&c, "abc", h + 1, "abc second", 2000));
	TEST_TRUE(has(&c, "abc", h, "abc d6:result4:ponge", 2000) == false);
	TEST_EQ(2, ccache_count(&c));

	/* bad arguments */
	TEST_EQ(EINVAL, ccache_put(&c, "", 0, h, "x", 1, 1));
	TEST_EQ(EINVAL, ccache_put(&c, "x", NG_COOKIE_MAX + 1, h, "x", 1, 1));
 out:
	ccache_fini(&c);
	return err;
}

static int test_ccache_expiry(void)
{
	struct ccache c = { 0 };
	int err = 0;

	TEST_ERR(ccache_init(&c, 16, 4096, TTL));
	TEST_ERR(put_s(&c, "a", 1, "a r1", 0));
	TEST_ERR(put_s(&c, "b", 2, "b r2", 10000));

	TEST_TRUE(absent(&c, "a", 1, TTL));          /* exactly TTL: gone */
	TEST_TRUE(has(&c, "b", 2, "b r2", TTL));
	TEST_EQ(2, ccache_count(&c));                /* lazy until expire */

	ccache_expire(&c, TTL);
	TEST_EQ(1, ccache_count(&c));
	TEST_EQ(1, c.expired);
	ccache_expire(&c, 10000 + TTL);
	TEST_EQ(0, ccache_count(&c));
	TEST_TRUE(absent(&c, "b", 2, 10000 + TTL));

	/* empty again: the byte ring starts over */
	TEST_ERR(put_s(&c, "c", 3, "c r3", 50000));
	TEST_TRUE(has(&c, "c", 3, "c r3", 50000));
	TEST_EQ(0, c.evicted);
 out:
	ccache_fini(&c);
	return err;
}

/* More entries than slots: the oldest goes first. */
static int test_ccache_evict_entries(void)
{
	struct ccache c = { 0 };
	char ck[16], rep[32];
	int i, err = 0;

	TEST_ERR(ccache_init(&c, 4, 4096, TTL));
	for (i = 0; i < 6; i++) {
		snprintf(ck, sizeof(ck), "k%d", i);
		snprintf(rep, sizeof(rep), "k%d reply%d", i, i);
		TEST_ERR(put_s(&c, ck, (uint64_t)i, rep, 100));
	}
	TEST_EQ(4, ccache_count(&c));
	TEST_EQ(2, c.evicted);
	TEST_TRUE(absent(&c, "k0", 0, 100));
	TEST_TRUE(absent(&c, "k1", 1, 100));
	for (i = 2; i < 6; i++) {
		snprintf(ck, sizeof(ck), "k%d", i);
		snprintf(rep, sizeof(rep), "k%d reply%d", i, i);
		TEST_TRUE(has(&c, ck, (uint64_t)i, rep, 100));
	}
 out:
	ccache_fini(&c);
	return err;
}

/* Replies that exceed the byte ring push the oldest out, and every
 * entry still held reads back intact while the ring wraps many times. */
static int test_ccache_evict_bytes_wrap(void)
{
	struct ccache c = { 0 };
	char ck[16], rep[200];
	int i, j, lo = 0, err = 0;

	TEST_ERR(ccache_init(&c, 64, 1024, TTL));
	TEST_EQ(EMSGSIZE, ccache_put(&c, "big", 3, 1, rep, 513, 1));
	TEST_EQ(1, c.toolarge);

	for (i = 0; i < 500; i++) {
		size_t n = 20 + (size_t)(i * 37) % 170;

		snprintf(ck, sizeof(ck), "c%d", i);
		memset(rep, 'a' + i % 26, n);
		rep[n] = '\0';
		TEST_ERR(put_s(&c, ck, (uint64_t)i, rep, 5));

		/* the live entries are the newest ones, all readable */
		TEST_TRUE(ccache_count(&c) >= 1);
		lo = i + 1 - (int)ccache_count(&c);
		for (j = lo; j <= i; j++) {
			size_t m = 20 + (size_t)(j * 37) % 170, len = 0, k;
			const char *p;

			snprintf(ck, sizeof(ck), "c%d", j);
			p = ccache_find(&c, ck, strlen(ck), (uint64_t)j, 5,
					&len);
			TEST_TRUE(p != NULL);
			TEST_EQ(m, len);
			for (k = 0; k < m; k++)
				TEST_EQ('a' + j % 26, p[k]);
		}
		if (lo > 0) {
			snprintf(ck, sizeof(ck), "c%d", lo - 1);
			TEST_TRUE(absent(&c, ck, (uint64_t)(lo - 1), 5));
		}
	}
	/* 1 KiB holds several ~100-byte replies, never all 500 */
	TEST_TRUE(ccache_count(&c) >= 4);
	TEST_TRUE(c.evicted > 400);
 out:
	ccache_fini(&c);
	return err;
}

static int test_ccache_init_args(void)
{
	struct ccache c = { 0 };
	int err = 0;

	TEST_EQ(EINVAL, ccache_init(&c, 3, 4096, TTL));
	TEST_EQ(EINVAL, ccache_init(&c, 0, 4096, TTL));
	TEST_EQ(EINVAL, ccache_init(&c, 4, 8, TTL));
	TEST_EQ(EINVAL, ccache_init(&c, 4, 4096, 0));
	ccache_fini(&c);
	TEST_EQ(0, ccache_count(&c));
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_ccache_init_args),
	HARNESS_TEST(test_ccache_hit),
	HARNESS_TEST(test_ccache_expiry),
	HARNESS_TEST(test_ccache_evict_entries),
	HARNESS_TEST(test_ccache_evict_bytes_wrap),
};

HARNESS_MAIN(tests)
