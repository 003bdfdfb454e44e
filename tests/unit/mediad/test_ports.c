/* tests/unit/mediad/test_ports.c  Port pairs: slices, exhaustion, return */
#include <stdint.h>

#include "harness.h"
#include "ports.h"

static int test_ports_slices(void)
{
	struct ports p;
	uint16_t port;
	uint32_t i;
	int err = 0;

	TEST_ERR(ports_init(&p, 30000, 30099, 2));  /* 50 pairs */
	TEST_EQ(25, ports_free(&p, 0));
	TEST_EQ(25, ports_free(&p, 1));
	TEST_EQ(0, ports_slice_of(&p, 30000));
	TEST_EQ(0, ports_slice_of(&p, 30048));
	TEST_EQ(1, ports_slice_of(&p, 30050));
	TEST_EQ(1, ports_slice_of(&p, 30098));
	TEST_EQ(UINT32_MAX, ports_slice_of(&p, 30001));   /* odd */
	TEST_EQ(UINT32_MAX, ports_slice_of(&p, 30100));   /* past */
	TEST_EQ(UINT32_MAX, ports_slice_of(&p, 29998));

	/* every port of slice 1 is in slice 1, even, handed out once */
	for (i = 0; i < 25; i++) {
		TEST_ERR(ports_get(&p, 1, &port));
		TEST_EQ(0, port & 1);
		TEST_EQ(1, ports_slice_of(&p, port));
	}
	TEST_EQ(ENOSPC, ports_get(&p, 1, &port));
	TEST_EQ(0, ports_best(&p));
	TEST_EQ(25, ports_free(&p, 0));
 out:
	ports_fini(&p);
	return err;
}

static int test_ports_return_all(void)
{
	struct ports p;
	uint16_t got[64], port;
	uint32_t i, round;
	int err = 0;

	TEST_ERR(ports_init(&p, 40000, 40127, 1));  /* 64 pairs */
	for (round = 0; round < 100; round++) {
		for (i = 0; i < 64; i++)
			TEST_ERR(ports_get(&p, 0, &got[i]));
		TEST_EQ(ENOSPC, ports_get(&p, 0, &port));
		for (i = 0; i < 64; i++)
			TEST_ERR(ports_put(&p, got[i]));
		TEST_EQ(64, ports_free(&p, 0));
	}
	/* double free and foreign ports are refused */
	TEST_EQ(EINVAL, ports_put(&p, 40000));
	TEST_EQ(EINVAL, ports_put(&p, 40001));
	TEST_EQ(EINVAL, ports_put(&p, 50000));
	TEST_EQ(64, ports_free(&p, 0));
 out:
	ports_fini(&p);
	return err;
}

static int test_ports_fifo(void)
{
	struct ports p;
	uint16_t a, b, c;
	int err = 0;

	TEST_ERR(ports_init(&p, 30000, 30005, 1));  /* 3 pairs */
	TEST_ERR(ports_get(&p, 0, &a));
	TEST_ERR(ports_put(&p, a));
	/* a pair just returned is the last to come back */
	TEST_ERR(ports_get(&p, 0, &b));
	TEST_ERR(ports_get(&p, 0, &c));
	TEST_TRUE(b != a && c != a);
	TEST_ERR(ports_get(&p, 0, &c));
	TEST_EQ(a, c);
	TEST_EQ(EINVAL, ports_init(&p, 30001, 30005, 1));
 out:
	ports_fini(&p);
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_ports_slices),
	HARNESS_TEST(test_ports_return_all),
	HARNESS_TEST(test_ports_fifo),
};

HARNESS_MAIN(tests)
