/* tests/unit/api/test_authlim.c  failed-auth counting, blocking per source */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "authlim.h"
#include "harness.h"

static struct sockaddr_in v4(const char *ip)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

static struct sockaddr_in6 v6(const char *ip)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &sin6.sin6_addr);
	return sin6;
}

#define SA(x) ((const struct sockaddr *)&(x))

/* More than AUTHLIM_FAILS failures in the window block for a while. */
static int test_block_after_limit(void)
{
	struct sockaddr_in a = v4("192.0.2.1"), b = v4("192.0.2.2");
	uint64_t t = 1000000;
	unsigned i;
	int err = 0;

	authlim_reset();
	for (i = 0; i < AUTHLIM_FAILS; i++) {
		TEST_TRUE(!authlim_fail(SA(a), t + i));
		TEST_EQ(0, authlim_blocked(SA(a), t + i));
	}
	TEST_TRUE(authlim_fail(SA(a), t + 100));
	TEST_EQ(AUTHLIM_BLOCK_MS, authlim_blocked(SA(a), t + 100));
	TEST_EQ(AUTHLIM_BLOCK_MS - 5000, authlim_blocked(SA(a), t + 5100));
	TEST_EQ(1, authlim_nblocked(t + 100));

	/* another source is not affected */
	TEST_EQ(0, authlim_blocked(SA(b), t + 100));

	/* failures while blocked neither extend nor restart the block */
	TEST_TRUE(!authlim_fail(SA(a), t + 200));
	TEST_EQ(AUTHLIM_BLOCK_MS - 100, authlim_blocked(SA(a), t + 200));

	/* the block ends; the count starts afresh */
	t += 100 + AUTHLIM_BLOCK_MS;
	TEST_EQ(0, authlim_blocked(SA(a), t));
	TEST_EQ(0, authlim_nblocked(t));
	for (i = 0; i < AUTHLIM_FAILS; i++)
		TEST_TRUE(!authlim_fail(SA(a), t + i));
	TEST_TRUE(authlim_fail(SA(a), t + 20));
 out:
	return err;
}

/* Failures spread wider than the window never block. */
static int test_window(void)
{
	struct sockaddr_in a = v4("198.51.100.9");
	uint64_t t = 5000;
	unsigned i;
	int err = 0;

	authlim_reset();
	for (i = 0; i < 5 * AUTHLIM_FAILS; i++) {
		TEST_TRUE(!authlim_fail(SA(a), t));
		t += AUTHLIM_WINDOW_MS / AUTHLIM_FAILS + 1;
	}
	TEST_EQ(0, authlim_blocked(SA(a), t));
 out:
	return err;
}

/* IPv4-mapped IPv6 is its IPv4 address; IPv6 counts per /64. */
static int test_keys(void)
{
	struct sockaddr_in a = v4("203.0.113.5");
	struct sockaddr_in6 m = v6("::ffff:203.0.113.5");
	struct sockaddr_in6 x1 = v6("2001:db8:1:2::1");
	struct sockaddr_in6 x2 = v6("2001:db8:1:2:ffff::7");
	struct sockaddr_in6 y = v6("2001:db8:1:3::1");
	struct sockaddr bad;
	unsigned i;
	int err = 0;

	authlim_reset();
	for (i = 0; i <= AUTHLIM_FAILS; i++)
		(void)authlim_fail(i % 2 ? SA(a) : SA(m), 10 + i);
	TEST_TRUE(authlim_blocked(SA(a), 100) > 0);
	TEST_TRUE(authlim_blocked(SA(m), 100) > 0);

	for (i = 0; i <= AUTHLIM_FAILS; i++)
		(void)authlim_fail(i % 2 ? SA(x1) : SA(x2), 10 + i);
	TEST_TRUE(authlim_blocked(SA(x1), 100) > 0);
	TEST_TRUE(authlim_blocked(SA(x2), 100) > 0);
	TEST_EQ(0, authlim_blocked(SA(y), 100));

	/* no address, or an unknown family: never counted */
	memset(&bad, 0, sizeof(bad));
	bad.sa_family = AF_UNIX;
	TEST_TRUE(!authlim_fail(&bad, 10));
	TEST_TRUE(!authlim_fail(NULL, 10));
	TEST_EQ(0, authlim_blocked(NULL, 10));
 out:
	return err;
}

/*
 * A flood of failing sources cannot evict a blocked one: the table
 * recycles the least recently seen unblocked slot instead.
 */
static int test_table_full(void)
{
	struct sockaddr_in a = v4("192.0.2.99");
	uint64_t t = 100;
	unsigned i;
	int err = 0;

	authlim_reset();
	for (i = 0; i <= AUTHLIM_FAILS; i++)
		(void)authlim_fail(SA(a), t);
	TEST_TRUE(authlim_blocked(SA(a), t) > 0);

	for (i = 0; i < 4 * AUTHLIM_SLOTS; i++) {
		struct sockaddr_in s = v4("10.0.0.0");

		s.sin_addr.s_addr = htonl(0x0a000000u + i);
		(void)authlim_fail(SA(s), t + 1 + i / 1000);
	}
	TEST_TRUE(authlim_blocked(SA(a), t + 10) > 0);
	TEST_EQ(1, authlim_nblocked(t + 10));
	authlim_reset();
	TEST_EQ(0, authlim_blocked(SA(a), t + 10));
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_block_after_limit),
	HARNESS_TEST(test_window),
	HARNESS_TEST(test_keys),
	HARNESS_TEST(test_table_full),
};

HARNESS_MAIN(tests)
