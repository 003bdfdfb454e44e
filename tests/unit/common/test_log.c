/* tests/unit/common/test_log.c  format, filtering, truncation, limits */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"

static char tmpl[64];
static int saved_fd = -1;
static int cap_fd = -1;

/* Send stderr to a fresh temp file until capture_end(). */
static int capture_begin(void)
{
	snprintf(tmpl, sizeof(tmpl), "/tmp/test_log-%d-XXXXXX", (int)getpid());
	cap_fd = mkstemp(tmpl);
	if (cap_fd == -1)
		return errno;
	unlink(tmpl);
	fflush(stderr);
	saved_fd = dup(STDERR_FILENO);
	if (saved_fd == -1 || dup2(cap_fd, STDERR_FILENO) == -1)
		return errno;
	return 0;
}

/* Restore stderr; returns what was written (malloc'd, NUL-terminated). */
static char *capture_end(size_t *lenp)
{
	char *buf = NULL;
	off_t size;

	if (saved_fd != -1) {
		dup2(saved_fd, STDERR_FILENO);
		close(saved_fd);
		saved_fd = -1;
	}
	if (cap_fd == -1)
		return NULL;
	size = lseek(cap_fd, 0, SEEK_END);
	if (size >= 0)
		buf = malloc((size_t)size + 1);
	if (buf && pread(cap_fd, buf, (size_t)size, 0) == size) {
		buf[size] = '\0';
		if (lenp)
			*lenp = (size_t)size;
	}
	else {
		free(buf);
		buf = NULL;
	}
	close(cap_fd);
	cap_fd = -1;
	return buf;
}

static bool is_digits(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
	}
	return true;
}

/* "2026-11-24T10:00:00.123Z " then the rest; returns the rest or NULL. */
static const char *check_stamp(const char *l)
{
	if (!is_digits(l, 4) || l[4] != '-' || !is_digits(l + 5, 2) ||
	    l[7] != '-' || !is_digits(l + 8, 2) || l[10] != 'T' ||
	    !is_digits(l + 11, 2) || l[13] != ':' || !is_digits(l + 14, 2) ||
	    l[16] != ':' || !is_digits(l + 17, 2) || l[19] != '.' ||
	    !is_digits(l + 20, 3) || l[23] != 'Z' || l[24] != ' ')
		return NULL;
	return l + 25;
}

static int test_format(void)
{
	char exp[128];
	const char *rest;
	char *out = NULL;
	size_t len = 0;
	int err = 0;

	log_init("testprog", LOG_LVL_INFO);
	TEST_ERR(capture_begin());
	log_info("ng", "listening addr=%s:%d", "127.0.0.1", 22222);
	out = capture_end(&len);
	TEST_TRUE(out != NULL);
	rest = check_stamp(out);
	TEST_TRUE(rest != NULL);
	snprintf(exp, sizeof(exp), "testprog[%d] info ng: listening "
		 "addr=127.0.0.1:22222\n", (int)getpid());
	TEST_STREQ(exp, rest);
	free(out);

	/* no module: no "mod: " */
	TEST_ERR(capture_begin());
	log_msg(LOG_LVL_ERROR, NULL, "bare");
	out = capture_end(&len);
	TEST_TRUE(out && check_stamp(out));
	snprintf(exp, sizeof(exp), "testprog[%d] error bare\n", (int)getpid());
	TEST_STREQ(exp, check_stamp(out));
 out:
	capture_end(NULL);
	free(out);
	return err;
}

static int test_levels(void)
{
	char *out = NULL;
	size_t len = 0;
	enum log_level l;
	int err = 0;

	log_init("testprog", LOG_LVL_WARN);
	TEST_EQ(LOG_LVL_WARN, log_get_level());
	TEST_TRUE(log_enabled(LOG_LVL_ERROR));
	TEST_TRUE(log_enabled(LOG_LVL_WARN));
	TEST_TRUE(!log_enabled(LOG_LVL_INFO));

	TEST_ERR(capture_begin());
	log_err("m", "one");
	log_warn("m", "two");
	log_info("m", "three");
	log_debug("m", "four");
	log_set_level(LOG_LVL_DEBUG);
	log_debug("m", "five");
	out = capture_end(&len);
	TEST_TRUE(out != NULL);
	TEST_TRUE(strstr(out, " error m: one\n") != NULL);
	TEST_TRUE(strstr(out, " warn m: two\n") != NULL);
	TEST_TRUE(strstr(out, "three") == NULL);
	TEST_TRUE(strstr(out, "four") == NULL);
	TEST_TRUE(strstr(out, " debug m: five\n") != NULL);

	TEST_ERR(log_level_parse("debug", &l));
	TEST_EQ(LOG_LVL_DEBUG, l);
	TEST_ERR(log_level_parse("ERROR", &l));
	TEST_EQ(LOG_LVL_ERROR, l);
	TEST_ERR(log_level_parse("warning", &l));
	TEST_EQ(LOG_LVL_WARN, l);
	TEST_ERR(log_level_parse("info", &l));
	TEST_EQ(LOG_LVL_INFO, l);
	TEST_EQ(EINVAL, log_level_parse("verbose", &l));
	TEST_EQ(EINVAL, log_level_parse("", &l));
	TEST_EQ(EINVAL, log_level_parse(NULL, &l));
	TEST_STREQ("warn", log_level_name(LOG_LVL_WARN));
	TEST_STREQ("?", log_level_name((enum log_level)17));
 out:
	capture_end(NULL);
	free(out);
	log_set_level(LOG_LVL_INFO);
	return err;
}

static int test_truncation_and_sanitize(void)
{
	char *big = NULL, *out = NULL;
	size_t len = 0;
	int err = 0;

	big = malloc(10000);
	TEST_TRUE(big != NULL);
	memset(big, 'x', 9999);
	big[9999] = '\0';

	log_init("testprog", LOG_LVL_INFO);
	TEST_ERR(capture_begin());
	log_info("big", "%s", big);
	log_info("inj", "a\r\nfake line\x1b[0m\tend");
	errno = ENOENT;
	log_info("errno", "open: %m");
	out = capture_end(&len);
	TEST_TRUE(out != NULL);

	/* first line: cut at 2 KiB, ends with "...\n" */
	{
		const char *nl = strchr(out, '\n');

		TEST_TRUE(nl != NULL);
		TEST_TRUE(nl - out + 1 <= 2048);
		TEST_TRUE(nl - out + 1 >= 2000);
		TEST_TRUE(!memcmp(nl - 3, "...", 3));
	}
	TEST_TRUE(strstr(out, " info inj: a..fake line.[0m\tend\n") != NULL);
	TEST_TRUE(strstr(out, "open: No such file or directory\n") != NULL);
	/* exactly three lines */
	{
		size_t n = 0, i;

		for (i = 0; i < len; i++)
			n += out[i] == '\n';
		TEST_EQ(3, n);
	}
 out:
	capture_end(NULL);
	free(out);
	free(big);
	return err;
}

static int test_limit(void)
{
	struct log_limit ll;
	char *out = NULL;
	size_t len = 0, n = 0, i;
	int err = 0;

	log_init("testprog", LOG_LVL_INFO);
	log_limit_init(&ll, 60000, 2);
	TEST_ERR(capture_begin());
	for (i = 0; i < 5; i++)
		log_limit(&ll, LOG_LVL_WARN, "rtp", "drop %zu", i);
	TEST_EQ(3, ll.suppressed);
	/* age the window: the next line passes and reports the three */
	ll.window_start_ms -= 60000;
	log_limit(&ll, LOG_LVL_WARN, "rtp", "drop %d", 5);
	TEST_EQ(0, ll.suppressed);
	/* filtered by level: neither logged nor counted */
	log_limit(&ll, LOG_LVL_DEBUG, "rtp", "hidden");
	TEST_EQ(0, ll.suppressed);
	out = capture_end(&len);
	TEST_TRUE(out != NULL);
	for (i = 0; i < len; i++)
		n += out[i] == '\n';
	TEST_EQ(3, n);
	TEST_TRUE(strstr(out, "rtp: drop 0\n") != NULL);
	TEST_TRUE(strstr(out, "rtp: drop 1\n") != NULL);
	TEST_TRUE(strstr(out, "rtp: drop 2") == NULL);
	TEST_TRUE(strstr(out, "rtp: drop 5 (3 suppressed)\n") != NULL);
 out:
	capture_end(NULL);
	free(out);
	return err;
}

#define NTHREADS 4
#define NLINES   2000

static void *log_thread(void *arg)
{
	int id = (int)(intptr_t)arg, i;

	for (i = 0; i < NLINES; i++)
		log_info("thr", "thread %d line %d %s", id, i,
			 "padding padding padding padding padding padding");
	return NULL;
}

/* Lines from several threads never interleave: each is one write(2). */
static int test_threads(void)
{
	pthread_t th[NTHREADS];
	char *out = NULL, *line, *save = NULL;
	size_t len = 0, nlines = 0;
	int i, err = 0;

	log_init("testprog", LOG_LVL_INFO);
	TEST_ERR(capture_begin());
	for (i = 0; i < NTHREADS; i++) {
		if (pthread_create(&th[i], NULL, log_thread,
				   (void *)(intptr_t)i)) {
			err = EAGAIN;
			while (i--)
				pthread_join(th[i], NULL);
			goto out;
		}
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	out = capture_end(&len);
	TEST_TRUE(out != NULL);

	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *rest = check_stamp(line);
		int t, l, n = 0;

		TEST_TRUE(rest != NULL);
		TEST_TRUE(sscanf(rest, "testprog[%*d] info thr: thread %d "
				 "line %d padding%n", &t, &l, &n) == 2);
		TEST_TRUE(n > 0);
		TEST_TRUE(!strcmp(rest + n, " padding padding padding padding "
				  "padding"));
		++nlines;
	}
	TEST_EQ(NTHREADS * NLINES, nlines);
 out:
	capture_end(NULL);
	free(out);
	return err;
}

static int test_clock(void)
{
	uint64_t ms0, ns0, ms1, ns1;
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	int err = 0;

	ms0 = clock_ms();
	ns0 = clock_ns();
	nanosleep(&ts, NULL);
	ms1 = clock_ms();
	ns1 = clock_ns();
	TEST_TRUE(ns1 > ns0);
	TEST_TRUE(ns1 - ns0 >= 2000000);
	TEST_TRUE(ms1 >= ms0 + 1);
	TEST_TRUE(ms1 - ms0 < 10000);
	TEST_TRUE(ns0 / 1000000 >= ms0);
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_format),
	HARNESS_TEST(test_levels),
	HARNESS_TEST(test_truncation_and_sanitize),
	HARNESS_TEST(test_limit),
	HARNESS_TEST(test_threads),
	HARNESS_TEST(test_clock),
};

HARNESS_MAIN(tests)
