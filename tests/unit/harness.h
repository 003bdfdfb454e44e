/* tests/unit/harness.h  Minimal unit-test harness: TEST_* set err, goto out */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A test is "static int test_x(void)" returning 0 or an errno, written in
 * the same "goto out" shape as the code it tests:
 *
 *	int err = 0;
 *	TEST_EQ(3, f());
 * out:
 *	return err;
 *
 * A test program lists its tests in a table and calls harness_run(); it
 * exits 0 when all pass, 1 when one fails, 77 when every test skipped.
 * Define HARNESS_LIBRE before including to fail a test that leaks libre
 * memory (mem_get_stat() before and after each test).
 */

#define TEST_FAIL_AT(fmt, ...) \
	fprintf(stderr, "  %s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__)

#define TEST_ERR(e) do { \
		if ((e)) { \
			err = (e); \
			TEST_FAIL_AT("error %d (%s)", err, strerror(err)); \
			goto out; \
		} \
	} while (0)

#define TEST_TRUE(c) do { \
		if (!(c)) { \
			TEST_FAIL_AT("expected true: %s", #c); \
			err = EINVAL; \
			goto out; \
		} \
	} while (0)

#define TEST_EQ(exp, act) do { \
		long long e_ = (long long)(exp), a_ = (long long)(act); \
		if (e_ != a_) { \
			TEST_FAIL_AT("%s: expected %lld, got %lld", #act, e_, a_); \
			err = EINVAL; \
			goto out; \
		} \
	} while (0)

#define TEST_STREQ(exp, act) do { \
		const char *e_ = (exp), *a_ = (act); \
		if (!a_ || strcmp(e_, a_)) { \
			TEST_FAIL_AT("%s: expected \"%s\", got \"%s\"", #act, \
				     e_, a_ ? a_ : "(null)"); \
			err = EINVAL; \
			goto out; \
		} \
	} while (0)

#define TEST_MEMEQ(exp, explen, act, actlen) do { \
		size_t el_ = (explen), al_ = (actlen); \
		if (el_ != al_ || memcmp((exp), (act), el_)) { \
			TEST_FAIL_AT("%s: expected \"%.*s\", got \"%.*s\"", \
				     #act, (int)el_, (const char *)(exp), \
				     (int)al_, (const char *)(act)); \
			err = EINVAL; \
			goto out; \
		} \
	} while (0)

/* A test returns this to say "skipped" (kernel feature missing, ...). */
#define TEST_SKIP 77

struct harness_test {
	const char *name;
	int (*fn)(void);
};

#define HARNESS_TEST(f) { #f, f }

#ifdef HARNESS_LIBRE
#include <re.h>
#endif

static inline int harness_run(const char *prog,
			      const struct harness_test *tests, size_t n)
{
	size_t i, failed = 0, skipped = 0;

	for (i = 0; i < n; i++) {
		int r;
#ifdef HARNESS_LIBRE
		struct memstat before, after;
		mem_get_stat(&before);
#endif
		r = tests[i].fn();
#ifdef HARNESS_LIBRE
		mem_get_stat(&after);
		if (r == 0 && after.blocks_cur != before.blocks_cur) {
			fprintf(stderr, "  leak: %zu blocks\n",
				(size_t)(after.blocks_cur - before.blocks_cur));
			r = ENOMEM;
		}
#endif
		if (r == TEST_SKIP) {
			++skipped;
			printf("skip %s\n", tests[i].name);
		}
		else if (r) {
			++failed;
			printf("FAIL %s\n", tests[i].name);
		}
		else {
			printf("ok   %s\n", tests[i].name);
		}
	}
	printf("%s: %zu passed, %zu failed, %zu skipped\n", prog,
	       n - failed - skipped, failed, skipped);
	if (failed)
		return 1;
	return (skipped == n && n) ? 77 : 0;
}

#define HARNESS_MAIN(tests) \
	int main(void) \
	{ \
		return harness_run(__FILE__, tests, \
				   sizeof(tests) / sizeof((tests)[0])); \
	}

#endif
