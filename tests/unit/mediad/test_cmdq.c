/* tests/unit/mediad/test_cmdq.c  control queue: order, full, wrap, SPSC */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness.h"
#include "cmdq.h"

static int test_cmdq_init_args(void)
{
	struct cmdq q = { 0 };
	int err = 0;

	TEST_EQ(EINVAL, cmdq_init(&q, 0));
	TEST_EQ(EINVAL, cmdq_init(&q, 1));
	TEST_EQ(EINVAL, cmdq_init(&q, 3));
	TEST_EQ(EINVAL, cmdq_init(&q, 1u << 17));
	TEST_EQ(0, cmdq_init(&q, 4));
	cmdq_fini(&q);
	cmdq_fini(&q);          /* twice is harmless */
 out:
	return err;
}

static int test_cmdq_fifo_and_full(void)
{
	struct cmdq q = { 0 };
	struct cmdq_item it = { 0 };
	uint32_t i;
	int err = 0;

	TEST_ERR(cmdq_init(&q, 8));
	TEST_TRUE(!cmdq_pop(&q, &it));

	for (i = 0; i < 8; i++) {
		it.type = 1;
		it.u64 = i;
		TEST_EQ(0, cmdq_push(&q, &it));
	}
	TEST_EQ(8, cmdq_count(&q));
	it.u64 = 99;
	TEST_EQ(ENOSPC, cmdq_push(&q, &it));
	TEST_EQ(8, cmdq_count(&q));

	for (i = 0; i < 8; i++) {
		TEST_TRUE(cmdq_pop(&q, &it));
		TEST_EQ(i, it.u64);
	}
	TEST_TRUE(!cmdq_pop(&q, &it));
	TEST_EQ(0, cmdq_count(&q));

	/* room again after a pop */
	TEST_EQ(0, cmdq_push(&q, &it));
 out:
	cmdq_fini(&q);
	return err;
}

/* The free-running 32-bit indices cross UINT32_MAX. */
static int test_cmdq_wraparound(void)
{
	struct cmdq q = { 0 };
	struct cmdq_item it = { 0 };
	uint64_t next_in = 0, next_out = 0;
	uint32_t round;
	int err = 0;

	TEST_ERR(cmdq_init(&q, 4));
	atomic_store(&q.head, UINT32_MAX - 5);
	atomic_store(&q.tail, UINT32_MAX - 5);

	for (round = 0; round < 10; round++) {
		while (1) {
			it.u64 = next_in;
			if (cmdq_push(&q, &it) == ENOSPC)
				break;
			++next_in;
		}
		TEST_EQ(4, cmdq_count(&q));
		/* take three, leaving one across the boundary */
		for (int k = 0; k < 3; k++) {
			TEST_TRUE(cmdq_pop(&q, &it));
			TEST_EQ(next_out, it.u64);
			++next_out;
		}
		TEST_EQ(1, cmdq_count(&q));
	}
	TEST_TRUE(atomic_load(&q.head) < 100);   /* it did wrap */
 out:
	cmdq_fini(&q);
	return err;
}

#define SPSC_N 2000000u

struct spsc {
	struct cmdq q;
	_Atomic bool abort;
};

static void *producer(void *arg)
{
	struct spsc *sp = arg;
	struct cmdq_item it = { 0 };
	uint64_t i;

	for (i = 0; i < SPSC_N; i++) {
		it.u64 = i;
		while (cmdq_push(&sp->q, &it) == ENOSPC) {
			if (atomic_load(&sp->abort))
				return NULL;
			sched_yield();  /* valgrind runs one thread at a time */
		}
	}
	return NULL;
}

/* One producer thread, one consumer: every item arrives once, in order. */
static int test_cmdq_spsc_threads(void)
{
	static struct spsc sp;
	struct cmdq_item it;
	pthread_t th;
	uint64_t expect = 0;
	bool started = false;
	int err = 0;

	atomic_store(&sp.abort, false);
	TEST_ERR(cmdq_init(&sp.q, 64));
	TEST_ERR(pthread_create(&th, NULL, producer, &sp));
	started = true;

	while (expect < SPSC_N) {
		if (!cmdq_pop(&sp.q, &it)) {
			sched_yield();
			continue;
		}
		TEST_EQ(expect, it.u64);
		++expect;
	}
 out:
	if (started) {
		atomic_store(&sp.abort, true);
		pthread_join(th, NULL);
	}
	cmdq_fini(&sp.q);
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_cmdq_init_args),
	HARNESS_TEST(test_cmdq_fifo_and_full),
	HARNESS_TEST(test_cmdq_wraparound),
	HARNESS_TEST(test_cmdq_spsc_threads),
};

HARNESS_MAIN(tests)
