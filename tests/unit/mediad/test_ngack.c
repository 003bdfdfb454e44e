/* tests/unit/mediad/test_ngack.c  parked NG replies: release, full, wrap */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness.h"
#include "ngack.h"

/* Fake workers: applied counts set by the test; sent replies recorded. */
struct fake {
	uint32_t applied[4];
	unsigned nsent;
	unsigned nlate;
	char last[64];
	size_t lastlen;
};

static uint32_t fake_applied(uint32_t worker, void *arg)
{
	struct fake *f = arg;

	return f->applied[worker];
}

static void fake_send(const struct ngack_ent *e, bool late, void *arg)
{
	struct fake *f = arg;

	++f->nsent;
	if (late)
		++f->nlate;
	f->lastlen = e->len < sizeof(f->last) ? e->len : sizeof(f->last);
	memcpy(f->last, e->reply, f->lastlen);
}

static const struct sockaddr_in peer = { .sin_family = AF_INET };

static int park(struct ngack *t, const char *cookie, uint64_t h,
		uint32_t worker, uint32_t seq, const char *reply)
{
	struct ngack_wait w = { worker, seq };

	return ngack_park(t, cookie, strlen(cookie), h, &w, 1, reply,
			  strlen(reply), (const struct sockaddr *)&peer,
			  sizeof(peer), 1000);
}

static int test_ngack_args(void)
{
	struct ngack t = { 0 };
	struct ngack_wait w[NGACK_WAIT_MAX + 1] = { { 0, 1 } };
	int err = 0;

	TEST_EQ(EINVAL, ngack_init(&t, 0, 16));
	TEST_EQ(EINVAL, ngack_init(&t, 4, 0));
	TEST_ERR(ngack_init(&t, 4, 16));
	TEST_EQ(EINVAL, ngack_park(&t, "", 0, 1, w, 1, "r", 1,
				   (const struct sockaddr *)&peer,
				   sizeof(peer), 0));
	TEST_EQ(E2BIG, ngack_park(&t, "c", 1, 1, w, NGACK_WAIT_MAX + 1,
				  "r", 1, (const struct sockaddr *)&peer,
				  sizeof(peer), 0));
	/* over the slot size: the caller sends at once */
	TEST_EQ(EMSGSIZE, ngack_park(&t, "c", 1, 1, w, 1,
				     "0123456789abcdefX", 17,
				     (const struct sockaddr *)&peer,
				     sizeof(peer), 0));
	TEST_EQ(0, ngack_count(&t));
	ngack_fini(&t);
	ngack_fini(&t);         /* twice is harmless */
 out:
	ngack_fini(&t);
	return err;
}

/* A reply leaves once its worker reached its sequence number, not
 * before; one waiting for another worker stays. */
static int test_ngack_release_in_order(void)
{
	struct ngack t = { 0 };
	struct fake f = { .nsent = 0 };
	int err = 0;

	TEST_ERR(ngack_init(&t, 8, 64));
	TEST_ERR(park(&t, "c1", 11, 0, 1, "r1"));
	TEST_ERR(park(&t, "c2", 22, 0, 2, "r2"));
	TEST_ERR(park(&t, "c3", 33, 1, 1, "r3"));
	TEST_EQ(3, ngack_count(&t));

	TEST_EQ(0, ngack_release(&t, fake_applied, fake_send, &f, 1000, 0));
	f.applied[0] = 1;
	TEST_EQ(1, ngack_release(&t, fake_applied, fake_send, &f, 1000, 0));
	TEST_MEMEQ("r1", 2, f.last, f.lastlen);
	f.applied[0] = 5;        /* past it counts too */
	TEST_EQ(1, ngack_release(&t, fake_applied, fake_send, &f, 1000, 0));
	TEST_MEMEQ("r2", 2, f.last, f.lastlen);
	TEST_EQ(1, ngack_count(&t));
	f.applied[1] = 1;
	TEST_EQ(1, ngack_release(&t, fake_applied, fake_send, &f, 1000, 0));
	TEST_MEMEQ("r3", 2, f.last, f.lastlen);
	TEST_EQ(0, ngack_count(&t));
	TEST_EQ(3, t.released);
	TEST_EQ(0, f.nlate);
 out:
	ngack_fini(&t);
	return err;
}

/* A command queued to two workers waits for both. */
static int test_ngack_two_workers(void)
{
	struct ngack t = { 0 };
	struct fake f = { .nsent = 0 };
	struct ngack_wait w[2] = { { 0, 3 }, { 2, 7 } };
	int err = 0;

	TEST_ERR(ngack_init(&t, 2, 64));
	TEST_ERR(ngack_park(&t, "c", 1, 5, w, 2, "r", 1,
			    (const struct sockaddr *)&peer, sizeof(peer), 0));
	f.applied[0] = 3;
	TEST_EQ(0, ngack_release(&t, fake_applied, fake_send, &f, 0, 0));
	f.applied[2] = 7;
	TEST_EQ(1, ngack_release(&t, fake_applied, fake_send, &f, 0, 0));
 out:
	ngack_fini(&t);
	return err;
}

/* Sequence numbers are free-running: UINT32_MAX, then 0. */
static int test_ngack_wrap(void)
{
	struct ngack t = { 0 };
	struct fake f = { .applied = { UINT32_MAX - 1 } };
	int err = 0;

	TEST_TRUE(ngack_reached(0, UINT32_MAX));
	TEST_TRUE(ngack_reached(5, 5));
	TEST_TRUE(!ngack_reached(UINT32_MAX, 0));
	TEST_TRUE(!ngack_reached(4, 5));

	TEST_ERR(ngack_init(&t, 2, 64));
	TEST_ERR(park(&t, "c", 1, 0, 1, "r"));     /* after the wrap */
	f.applied[0] = UINT32_MAX;
	TEST_EQ(0, ngack_release(&t, fake_applied, fake_send, &f, 0, 0));
	f.applied[0] = 0;
	TEST_EQ(0, ngack_release(&t, fake_applied, fake_send, &f, 0, 0));
	f.applied[0] = 1;
	TEST_EQ(1, ngack_release(&t, fake_applied, fake_send, &f, 0, 0));
 out:
	ngack_fini(&t);
	return err;
}

/* Full: ENOSPC, nothing lost; a slot comes back after a release. */
static int test_ngack_full(void)
{
	struct ngack t = { 0 };
	struct fake f = { .nsent = 0 };
	int err = 0;

	TEST_ERR(ngack_init(&t, 2, 64));
	TEST_ERR(park(&t, "a", 1, 0, 1, "ra"));
	TEST_ERR(park(&t, "b", 2, 0, 2, "rb"));
	TEST_EQ(ENOSPC, park(&t, "c", 3, 0, 3, "rc"));
	TEST_EQ(2, ngack_count(&t));
	f.applied[0] = 1;
	TEST_EQ(1, ngack_release(&t, fake_applied, fake_send, &f, 1000, 0));
	TEST_ERR(park(&t, "c", 3, 0, 3, "rc"));
	TEST_TRUE(ngack_find(&t, "c", 1, 3));
	TEST_TRUE(!ngack_find(&t, "a", 1, 1));
 out:
	ngack_fini(&t);
	return err;
}

/* A retransmit finds its parked command (same cookie and body only). */
static int test_ngack_find(void)
{
	struct ngack t = { 0 };
	int err = 0;

	TEST_ERR(ngack_init(&t, 4, 64));
	TEST_TRUE(!ngack_find(&t, "c1", 2, 11));
	TEST_ERR(park(&t, "c1", 11, 0, 1, "r1"));
	TEST_TRUE(ngack_find(&t, "c1", 2, 11));
	TEST_TRUE(!ngack_find(&t, "c1", 2, 12));   /* another body */
	TEST_TRUE(!ngack_find(&t, "c10", 3, 11));
	TEST_TRUE(!ngack_find(&t, "c", 1, 11));
	TEST_EQ(1, t.dup);
 out:
	ngack_fini(&t);
	return err;
}

/* A worker that never applies: the reply goes after the timeout,
 * flagged late; a younger one stays. */
static int test_ngack_timeout(void)
{
	struct ngack t = { 0 };
	struct fake f = { .nsent = 0 };
	struct ngack_wait w = { 0, 1 };
	int err = 0;

	TEST_ERR(ngack_init(&t, 4, 64));
	TEST_ERR(ngack_park(&t, "old", 3, 1, &w, 1, "r-old", 5,
			    (const struct sockaddr *)&peer, sizeof(peer),
			    1000));
	TEST_ERR(ngack_park(&t, "new", 3, 2, &w, 1, "r-new", 5,
			    (const struct sockaddr *)&peer, sizeof(peer),
			    1900));
	TEST_EQ(0, ngack_release(&t, fake_applied, fake_send, &f, 1999,
				 1000));
	TEST_EQ(1, ngack_release(&t, fake_applied, fake_send, &f, 2000,
				 1000));
	TEST_EQ(1, f.nlate);
	TEST_MEMEQ("r-old", 5, f.last, f.lastlen);
	TEST_EQ(1, t.late);
	TEST_EQ(1, ngack_count(&t));
	/* applied, even past its time: released, not late */
	f.applied[0] = 1;
	TEST_EQ(1, ngack_release(&t, fake_applied, fake_send, &f, 5000,
				 1000));
	TEST_EQ(1, f.nlate);
 out:
	ngack_fini(&t);
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_ngack_args),
	HARNESS_TEST(test_ngack_release_in_order),
	HARNESS_TEST(test_ngack_two_workers),
	HARNESS_TEST(test_ngack_wrap),
	HARNESS_TEST(test_ngack_full),
	HARNESS_TEST(test_ngack_find),
	HARNESS_TEST(test_ngack_timeout),
};

HARNESS_MAIN(tests)
