/* tests/unit/mediad/test_call.c  Call pool: hash, handles, ports back */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>

#include "harness.h"
#include "call.h"
#include "shm.h"

/* 41000-41039: 10 calls, one slice; no workers (streams die at once) */
static int setup(struct calls **cp, uint32_t nworkers)
{
	static struct sockaddr_in sin;

	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct calls_prm prm = {
		.port_min = 41000, .port_max = 41039,
		.nworkers = nworkers,
		.media_ip = (const struct sockaddr *)&sin,
		.media_len = sizeof(sin),
		.advertised = "127.0.0.1",
	};

	return calls_init(cp, &prm);
}

static int test_call_hash_handles(void)
{
	struct calls *c = NULL;
	struct call *a, *b, *x;
	struct call_handle ha, hb;
	int err = 0;

	TEST_ERR(setup(&c, 1));
	TEST_ERR(call_new(c, "alpha", 5, &a));
	TEST_ERR(call_new(c, "beta", 4, &b));
	TEST_TRUE(calls_find(c, "alpha", 5) == a);
	TEST_TRUE(calls_find(c, "beta", 4) == b);
	TEST_TRUE(calls_find(c, "alph", 4) == NULL);
	TEST_TRUE(calls_find(c, "gamma", 5) == NULL);
	TEST_TRUE(a->leg[0].port != a->leg[1].port);
	TEST_EQ(0, a->leg[0].port & 1);

	ha = call_handle(c, a);
	hb = call_handle(c, b);
	TEST_TRUE(call_get(c, ha) == a);
	call_delete(c, a);
	TEST_TRUE(call_get(c, ha) == NULL);          /* stale now */
	TEST_TRUE(calls_find(c, "alpha", 5) == NULL);
	TEST_TRUE(call_get(c, hb) == b);

	/* the slot comes back with a new generation */
	TEST_ERR(call_new(c, "alpha", 5, &x));
	TEST_TRUE(call_get(c, ha) == NULL);
	TEST_TRUE(call_get(c, call_handle(c, x)) == x);
	TEST_EQ(ENAMETOOLONG, call_new(c, "x", CALL_ID_MAX, &x));
 out:
	calls_fini(c);
	return err;
}

static int test_call_exhaustion(void)
{
	struct calls *c = NULL;
	struct call *v[11];
	struct calls_ctr ctr;
	char id[16];
	unsigned i, round;
	int err = 0;

	TEST_ERR(setup(&c, 2));
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 10; i++) {
			snprintf(id, sizeof(id), "c%u", i);
			TEST_ERR(call_new(c, id, strlen(id), &v[i]));
		}
		TEST_EQ(ENOSPC, call_new(c, "more", 4, &v[10]));
		calls_counters(c, &ctr);
		TEST_EQ(10, ctr.active);
		TEST_EQ(0, ctr.ports_free);
		for (i = 0; i < 10; i++)
			call_delete(c, v[i]);
		calls_counters(c, &ctr);
		TEST_EQ(0, ctr.active);
		TEST_EQ(0, ctr.dying);
		TEST_EQ(20, ctr.ports_free);
	}
	/* scheduled delete: gone after its time */
	TEST_ERR(call_new(c, "later", 5, &v[0]));
	call_delete_at(c, v[0], 5000);
	calls_tick(c, 4999);
	TEST_TRUE(calls_find(c, "later", 5) == v[0]);
	calls_tick(c, 5000);
	TEST_TRUE(calls_find(c, "later", 5) == NULL);
 out:
	calls_fini(c);
	return err;
}

/*
 * What an idle allocated leg costs in mediad's own memory: half a call
 * (two legs and the saved offer formats), its stream, half its shm
 * session. Issue 3's target is under 2 KiB; sockets are the kernel's.
 */
static int test_call_leg_memory(void)
{
	size_t leg = sizeof(struct call) / 2 + sizeof(struct stream) +
		sizeof(struct shm_session) / 2;
	int err = 0;

	printf("# per idle leg: call %zu/2 + stream %zu + shm_session %zu/2 "
	       "= %zu bytes\n", sizeof(struct call), sizeof(struct stream),
	       sizeof(struct shm_session), leg);
	TEST_TRUE(leg < 2048);
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_call_leg_memory),
	HARNESS_TEST(test_call_hash_handles),
	HARNESS_TEST(test_call_exhaustion),
};

HARNESS_MAIN(tests)
