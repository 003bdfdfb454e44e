/* tests/unit/mediad/test_no_alloc.c  after start: no allocation per command */
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "alloc_count.h"
#include "cfg.h"
#include "log.h"
#include "ngsrv.h"
#include "worker.h"

static void stats(struct ngcmd_stats *st, void *arg)
{
	st->workers = 1;
}

/* The wrapper is live: start does allocate. */
static int test_no_alloc_counts(void)
{
	struct worker_prm prm = { .idx = 0 };
	struct worker *w = NULL;
	unsigned long before = alloc_count();
	int err;

	err = worker_start(&w, &prm);
	if (err == ENOSYS || err == EPERM)
		return TEST_SKIP;
	TEST_ERR(err);
	TEST_TRUE(alloc_count() > before);
 out:
	worker_stop(w);
	return err;
}

static int test_no_alloc_ng(void)
{
	static const char *reqs[] = {
		"a%u d7:command4:pinge",
		"b%u d7:command10:statisticse",
		"c%u d7:command3:xyze",
		"d%u d7:command",
		"e%u li1ee",
		"f%u de",
		"nocookie",
	};
	struct ngsrv *s = NULL;
	struct cfg_addr a;
	const char *reply;
	unsigned long before;
	char msg[64];
	unsigned i;
	int err = 0;

	TEST_ERR(cfg_addr_parse(&a, "127.0.0.1:1", true));
	((struct sockaddr_in *)&a.ss)->sin_port = 0;    /* ephemeral */
	TEST_ERR(ngsrv_start(&s, &a, stats, NULL));

	before = alloc_count();
	for (i = 0; i < 20000; i++) {
		int n = snprintf(msg, sizeof(msg), reqs[i % 7], i / 2);

		/* each cookie twice: every other one is a cache hit */
		ngsrv_process(s, msg, (size_t)n, 1000 + i, &reply);
		if (i % 1000 == 0)
			ngsrv_tick(s, 1000 + i);
	}
	TEST_EQ(before, alloc_count());
 out:
	ngsrv_stop(s);
	return err;
}

static int test_no_alloc_worker(void)
{
	struct worker_prm prm = { .idx = 0, .tick_ms = 1 };
	struct worker *w = NULL;
	struct timespec ts = { 0, 100000 };
	unsigned long before;
	uint64_t seq, end;
	int err;

	err = worker_start(&w, &prm);
	if (err == ENOSYS || err == EPERM)
		return TEST_SKIP;
	TEST_ERR(err);

	/* let the thread settle (its own start-up is not the loop) */
	nanosleep(&ts, NULL);
	TEST_ERR(worker_cmd(w, WORKER_CMD_SYNC, 1));
	end = clock_ms() + 5000;
	while (worker_synced(w) != 1 && clock_ms() < end)
		nanosleep(&ts, NULL);

	before = alloc_count();
	for (seq = 2; seq <= 20000; seq++) {
		while (worker_cmd(w, WORKER_CMD_SYNC, seq) == ENOSPC)
			;
	}
	end = clock_ms() + 5000;
	while (worker_synced(w) != 20000 && clock_ms() < end)
		nanosleep(&ts, NULL);
	TEST_EQ(20000, worker_synced(w));
	TEST_EQ(before, alloc_count());
 out:
	worker_stop(w);
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_no_alloc_counts),
	HARNESS_TEST(test_no_alloc_ng),
	HARNESS_TEST(test_no_alloc_worker),
};

int main(void)
{
	log_init("test_no_alloc", LOG_LVL_ERROR);
	return harness_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]));
}
