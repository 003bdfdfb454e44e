/* tests/unit/mediad/test_worker.c  workers: real io_uring, commands, stop */
#include <liburing.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"
#include "shm.h"
#include "slot.h"
#include "worker.h"

/* Start worker <idx>; TEST_SKIP when this kernel or sandbox has no
 * io_uring. */
static int start(struct worker **wp, uint32_t idx, uint32_t tick_ms,
		 struct shm_worker *stats)
{
	struct worker_prm prm = {
		.idx = idx,
		.ring_entries = 64,
		.queue_size = 16,
		.tick_ms = tick_ms,
		.stats = stats,
	};
	int err = worker_start(wp, &prm);

	if (err == ENOSYS || err == EPERM) {
		printf("  io_uring unavailable (%s): skipped\n",
		       strerror(err));
		return TEST_SKIP;
	}
	return err;
}

/* Wait up to <ms> for worker_synced(w) to reach <seq>. */
static bool wait_synced(const struct worker *w, uint64_t seq, unsigned ms)
{
	uint64_t end = clock_ms() + ms;
	struct timespec ts = { 0, 200000 };

	while (worker_synced(w) != seq) {
		if (clock_ms() > end)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

static int test_slot_table(void)
{
	struct slot_tbl t = { 0 };
	struct slot *s[4];
	int i, err = 0;

	TEST_EQ(EINVAL, slot_init(&t, 0));
	TEST_ERR(slot_init(&t, 4));
	for (i = 0; i < 4; i++) {
		s[i] = slot_get(&t, NULL, &t);
		TEST_TRUE(s[i] != NULL);
		TEST_TRUE(s[i]->arg == &t);
	}
	TEST_EQ(4, slot_inuse(&t));
	TEST_TRUE(slot_get(&t, NULL, NULL) == NULL);   /* full: refused */
	slot_put(&t, s[2]);
	TEST_EQ(3, slot_inuse(&t));
	TEST_TRUE(slot_get(&t, NULL, NULL) == s[2]);   /* reused */
	for (i = 0; i < 4; i++)
		slot_put(&t, s[i]);
	TEST_EQ(0, slot_inuse(&t));
 out:
	slot_fini(&t);
	return err;
}

/* Two workers with their own rings take commands, beyond the size of
 * their queues, and stop cleanly. */
static int test_worker_commands(void)
{
	static struct shm_worker stats[2];
	struct worker *w[2] = { NULL, NULL };
	uint64_t seq, loops;
	int i, err = 0;

	memset(stats, 0, sizeof(stats));
	for (i = 0; i < 2; i++) {
		err = start(&w[i], (uint32_t)i, 50, &stats[i]);
		if (err)
			goto out;
	}

	/* 1000 commands through a 16-slot queue: ENOSPC is back-pressure */
	for (seq = 1; seq <= 1000; seq++) {
		for (i = 0; i < 2; i++) {
			while (worker_cmd(w[i], WORKER_CMD_SYNC, seq) == ENOSPC)
				;
		}
	}
	for (i = 0; i < 2; i++) {
		TEST_TRUE(wait_synced(w[i], 1000, 5000));
		TEST_EQ(1000, worker_ncmds(w[i]));
	}

	/* an unknown command is counted and ignored */
	TEST_ERR(worker_cmd(w[0], (enum worker_cmd)77, 0));
	TEST_ERR(worker_cmd(w[0], WORKER_CMD_SYNC, 1001));
	TEST_TRUE(wait_synced(w[0], 1001, 5000));

	/* the loop turns on its tick and keeps its counters in shm */
	loops = atomic_load(&stats[1].loops);
	TEST_TRUE(wait_synced(w[1], 1000, 0));
	{
		struct timespec ts = { 0, 200 * 1000000 };

		nanosleep(&ts, NULL);
	}
	TEST_TRUE(atomic_load(&stats[1].loops) > loops);
	TEST_TRUE(atomic_load(&stats[1].loop_ns) >=
		  atomic_load(&stats[1].busy_ns));
	TEST_TRUE(worker_beat_ms(w[1]) + 1000 > clock_ms());
 out:
	for (i = 0; i < 2; i++)
		worker_stop(w[i]);
	return err;
}

/* A command wakes a sleeping worker through its eventfd long before the
 * tick, and stop is quick. */
static int test_worker_wakeup_and_stop(void)
{
	struct worker *w = NULL;
	uint64_t t0, dt;
	int err = 0;

	err = start(&w, 0, 5000, NULL);
	if (err)
		goto out;

	/* let it go to sleep in the kernel first */
	{
		struct timespec ts = { 0, 50 * 1000000 };

		nanosleep(&ts, NULL);
	}
	t0 = clock_ms();
	TEST_ERR(worker_cmd(w, WORKER_CMD_SYNC, 7));
	TEST_TRUE(wait_synced(w, 7, 2000));
	dt = clock_ms() - t0;
	TEST_TRUE(dt < 500);         /* woken, not waiting for the tick */

	t0 = clock_ms();
	worker_stop(w);
	w = NULL;
	TEST_TRUE(clock_ms() - t0 < 1000);
 out:
	worker_stop(w);
	return err;
}

/*
 * The acknowledgement (ngack.h): worker_applied() reaches
 * worker_queued() once the commands ran, and the worker writes the
 * wake-up eventfd after publishing it, so a reader that reads the
 * eventfd first, then the counter, sees the count.
 */
static int test_worker_applied(void)
{
	struct worker_prm prm = {
		.idx = 0, .ring_entries = 64, .queue_size = 16,
		.tick_ms = 5000,
	};
	struct worker *w = NULL;
	struct pollfd pfd;
	uint32_t i, q;
	uint64_t v;
	int efd, err = 0;

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	TEST_TRUE(efd != -1);
	prm.wake_fd = efd;
	err = worker_start(&w, &prm);
	if (err == ENOSYS || err == EPERM) {
		err = TEST_SKIP;
		goto out;
	}
	TEST_ERR(err);
	TEST_EQ(0, worker_queued(w));
	TEST_EQ(0, worker_applied(w));

	for (i = 1; i <= 100; i++) {
		TEST_ERR(worker_cmd(w, WORKER_CMD_SYNC, i));
		q = worker_queued(w);
		TEST_EQ(i, q);
		/* woken by the worker, never by a timeout */
		while (worker_applied(w) != q) {
			pfd.fd = efd;
			pfd.events = POLLIN;
			TEST_EQ(1, poll(&pfd, 1, 2000));
			TEST_EQ(sizeof(v), read(efd, &v, sizeof(v)));
		}
		TEST_EQ(i, worker_synced(w));
	}
	/* a refused command is not counted */
	TEST_ERR(worker_cmd(w, WORKER_CMD_STOP, 0));
	TEST_EQ(ESHUTDOWN, worker_cmd(w, WORKER_CMD_SYNC, 1));
	TEST_EQ(101, worker_queued(w));
 out:
	worker_stop(w);
	if (efd != -1)
		close(efd);
	return err;
}

/* Start and stop at once, many times: no command is lost, nothing
 * leaks (ASan), every request is reaped before the ring goes. */
static int test_worker_start_stop_loop(void)
{
	struct worker *w = NULL;
	int i, err = 0;

	for (i = 0; i < 50; i++) {
		err = start(&w, (uint32_t)i, 100, NULL);
		if (err)
			goto out;
		worker_stop(w);
		w = NULL;
	}
 out:
	worker_stop(w);
	return err;
}

/* After STOP nothing more is queued; stop after that still joins. */
static int test_worker_stop_sent(void)
{
	struct worker *w = NULL;
	int err = 0;

	err = start(&w, 0, 100, NULL);
	if (err)
		goto out;
	TEST_ERR(worker_cmd(w, WORKER_CMD_SYNC, 1));
	TEST_ERR(worker_cmd(w, WORKER_CMD_STOP, 0));
	TEST_EQ(ESHUTDOWN, worker_cmd(w, WORKER_CMD_SYNC, 2));
	TEST_EQ(ESHUTDOWN, worker_cmd(w, WORKER_CMD_STOP, 0));
	TEST_TRUE(wait_synced(w, 1, 2000));
 out:
	worker_stop(w);
	return err;
}

static int test_worker_args(void)
{
	struct worker_prm prm = { .queue_size = 3 };
	struct worker *w = NULL;
	int err = 0;

	TEST_EQ(EINVAL, worker_start(NULL, &prm));
	TEST_EQ(EINVAL, worker_start(&w, NULL));
	TEST_EQ(EINVAL, worker_start(&w, &prm));      /* not a power of 2 */
	TEST_TRUE(w == NULL);
	TEST_EQ(EINVAL, worker_cmd(NULL, WORKER_CMD_SYNC, 1));
	worker_stop(NULL);
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_slot_table),
	HARNESS_TEST(test_worker_args),
	HARNESS_TEST(test_worker_commands),
	HARNESS_TEST(test_worker_wakeup_and_stop),
	HARNESS_TEST(test_worker_applied),
	HARNESS_TEST(test_worker_start_stop_loop),
	HARNESS_TEST(test_worker_stop_sent),
};

int main(void)
{
	struct io_uring ring;
	int ret;

	/* no io_uring here (old kernel, seccomp, sysctl): skip it all */
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret == -ENOSYS || ret == -EPERM) {
		printf("%s: io_uring unavailable (%s): skipped\n", __FILE__,
		       strerror(-ret));
		return TEST_SKIP;
	}
	if (!ret)
		io_uring_queue_exit(&ring);

	log_init("test_worker", LOG_LVL_ERROR);
	return harness_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]));
}
