/* tests/unit/sbc/test_shmc.c  shm consumer: attach late, drain, stale */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <re.h>

#include "harness.h"
#include "loop_wait.h"
#include "log.h"
#include "shm.h"
#include "shmc.h"

static const struct shm_layout lay = {
	.nworkers   = 1,
	.nsessions  = 4,
	.nrings     = 2,
	.ring_slots = 8,
	.slot_size  = 64,
};

static bool attached(void)
{
	return shmc_attached();
}

static bool detached(void)
{
	return !shmc_attached();
}

static bool five_events(void)
{
	return shmc_events(SHM_EV_DTMF) + shmc_events(SHM_EV_CALL_STATS) == 5;
}

/*
 * sbc first, mediad later; events drained; a mediad that goes away is
 * noticed and the next one attached.
 */
static int test_attach_drain_stale(void)
{
	struct shm_seg prod;
	char name[SHM_NAME_MAX];
	unsigned i;
	int err = 0;

	memset(&prod, 0, sizeof(prod));
	snprintf(name, sizeof(name), "/sbc-test-shmc-%d", (int)getpid());
	shm_unlink(name);

	TEST_ERR(shmc_start(name));
	TEST_TRUE(!shmc_attached());
	TEST_TRUE(shmc_seg() == NULL);

	TEST_ERR(shm_create(&prod, name, &lay));
	TEST_TRUE(loop_wait_for(attached, 3000));
	TEST_TRUE(shmc_seg() != NULL);

	for (i = 0; i < 3; i++)
		TEST_ERR(shmring_push(shm_ring(&prod, 0), SHM_EV_DTMF, "1",
				      1));
	for (i = 0; i < 2; i++)
		TEST_ERR(shmring_push(shm_ring(&prod, 1), SHM_EV_CALL_STATS,
				      "0123456789", 10));
	TEST_TRUE(loop_wait_for(five_events, 1000));
	TEST_EQ(3, shmc_events(SHM_EV_DTMF));
	TEST_EQ(0, shmc_bad());

	shm_destroy(&prod);
	TEST_TRUE(loop_wait_for(detached, 3000));

	TEST_ERR(shm_create(&prod, name, &lay));
	TEST_TRUE(loop_wait_for(attached, 3000));
 out:
	shmc_stop();
	shm_destroy(&prod);
	return err;
}

static int test_bad_name(void)
{
	int err = 0;

	TEST_EQ(EINVAL, shmc_start(""));
	TEST_EQ(EINVAL, shmc_start(NULL));
 out:
	shmc_stop();
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_attach_drain_stale),
	HARNESS_TEST(test_bad_name),
};

int main(void)
{
	int ret;

	log_init("test_shmc", LOG_LVL_WARN);
	if (libre_init())
		return 1;
	ret = harness_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]));
	libre_close();
	return ret;
}
