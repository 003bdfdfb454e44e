/* tests/unit/sbc/test_metrics.c  Prometheus text: SIP counters, process_* */
#include <string.h>

#include <re.h>

#include "harness.h"
#include "metrics.h"
#include "stats.h"

/* Print handler <h> into a NUL-terminated string (caller frees). */
static char *print(re_printf_h *h, void *arg)
{
	struct mbuf *mb = mbuf_alloc(1024);
	char *s = NULL;

	if (!mb)
		return NULL;
	if (!mbuf_printf(mb, "%H", h, arg)) {
		mb->pos = 0;
		(void)mbuf_strdup(mb, &s, mb->end);
	}
	mem_deref(mb);
	return s;
}

static int test_stats_text(void)
{
	static const char want[] =
		"# HELP sbc_sip_requests_total SIP requests received, "
		"by method.\n"
		"# TYPE sbc_sip_requests_total counter\n"
		"sbc_sip_requests_total{method=\"INVITE\"} 1\n"
		"sbc_sip_requests_total{method=\"ACK\"} 0\n"
		"sbc_sip_requests_total{method=\"BYE\"} 0\n"
		"sbc_sip_requests_total{method=\"CANCEL\"} 0\n"
		"sbc_sip_requests_total{method=\"OPTIONS\"} 3\n"
		"sbc_sip_requests_total{method=\"REGISTER\"} 0\n"
		"sbc_sip_requests_total{method=\"PRACK\"} 0\n"
		"sbc_sip_requests_total{method=\"UPDATE\"} 0\n"
		"sbc_sip_requests_total{method=\"INFO\"} 0\n"
		"sbc_sip_requests_total{method=\"REFER\"} 0\n"
		"sbc_sip_requests_total{method=\"NOTIFY\"} 0\n"
		"sbc_sip_requests_total{method=\"SUBSCRIBE\"} 0\n"
		"sbc_sip_requests_total{method=\"PUBLISH\"} 0\n"
		"sbc_sip_requests_total{method=\"MESSAGE\"} 0\n"
		"sbc_sip_requests_total{method=\"other\"} 2\n"
		"# HELP sbc_sip_responses_total SIP responses sent by sbc, "
		"by status code.\n"
		"# TYPE sbc_sip_responses_total counter\n"
		"sbc_sip_responses_total{code=\"200\"} 3\n"
		"sbc_sip_responses_total{code=\"501\"} 1\n";
	struct pl options = PL("OPTIONS"), invite = PL("INVITE");
	struct pl lower = PL("options"), junk = PL("X-FLOOD-1");
	char *text = NULL;
	int err = 0;

	stats_reset();
	stats_sip_request(&options);
	stats_sip_request(&options);
	stats_sip_request(&options);
	stats_sip_request(&invite);
	stats_sip_request(&lower);       /* methods are case-sensitive */
	stats_sip_request(&junk);
	stats_sip_response(200);
	stats_sip_response(200);
	stats_sip_response(200);
	stats_sip_response(501);
	stats_sip_response(99);          /* out of range: ignored */
	stats_sip_response(700);

	TEST_EQ(3, stats_requests(STATS_M_OPTIONS));
	TEST_EQ(2, stats_requests(STATS_M_OTHER));
	TEST_EQ(3, stats_responses(200));
	TEST_EQ(0, stats_responses(700));

	text = print(stats_metrics, NULL);
	TEST_TRUE(text != NULL);
	TEST_STREQ(want, text);
 out:
	mem_deref(text);
	stats_reset();
	return err;
}

static int test_escape(void)
{
	char *text = NULL;
	int err = 0;

	text = print((re_printf_h *)metrics_escape, "a\"b\\c\nd");
	TEST_TRUE(text != NULL);
	TEST_STREQ("a\\\"b\\\\c\\nd", text);
 out:
	mem_deref(text);
	return err;
}

static int test_parse_statm(void)
{
	static const char statm[] = "12345 678 90 12 0 345 0\n";
	uint64_t rss = 0;
	int err = 0;

	TEST_ERR(metrics_parse_statm(statm, sizeof(statm) - 1, 4096, &rss));
	TEST_EQ(678ull * 4096, rss);
	TEST_EQ(EINVAL, metrics_parse_statm("12345", 5, 4096, &rss));
	TEST_EQ(EINVAL, metrics_parse_statm("x 1", 3, 4096, &rss));
 out:
	return err;
}

static int test_parse_stat(void)
{
	/* comm with spaces and a ')' of its own */
	static const char stat[] =
		"4242 (sbc (x) y) S 1 4242 4242 0 -1 4194560 1234 0 0 0 "
		"250 150 0 0 20 0 1 0 98765 123456789 678 "
		"18446744073709551615\n";
	uint64_t cpu = 0;
	int err = 0;

	TEST_ERR(metrics_parse_stat(stat, sizeof(stat) - 1, 100, &cpu));
	TEST_EQ(4000, cpu);                 /* (250 + 150) / 100 s */
	TEST_EQ(EINVAL, metrics_parse_stat("4242 (sbc) S 1 2", 16, 100, &cpu));
	TEST_EQ(EINVAL, metrics_parse_stat("no paren", 8, 100, &cpu));
 out:
	return err;
}

static int test_proc_text(void)
{
	static const char want[] =
		"# HELP process_start_time_seconds Start time of the process "
		"since unix epoch in seconds.\n"
		"# TYPE process_start_time_seconds gauge\n"
		"process_start_time_seconds 1700000000.042\n"
		"# HELP process_cpu_seconds_total Total user and system CPU "
		"time spent in seconds.\n"
		"# TYPE process_cpu_seconds_total counter\n"
		"process_cpu_seconds_total 12.005\n"
		"# HELP process_resident_memory_bytes Resident memory size "
		"in bytes.\n"
		"# TYPE process_resident_memory_bytes gauge\n"
		"process_resident_memory_bytes 8388608\n"
		"# HELP process_open_fds Number of open file descriptors.\n"
		"# TYPE process_open_fds gauge\n"
		"process_open_fds 17\n"
		"# HELP process_max_fds Maximum number of open file "
		"descriptors.\n"
		"# TYPE process_max_fds gauge\n"
		"process_max_fds 1024\n";
	const struct metrics_proc p = {
		.start_unix_ms = 1700000000042ull,
		.rss_bytes = 8388608,
		.cpu_ms = 12005,
		.open_fds = 17,
		.max_fds = 1024,
	};
	char *text = NULL;
	int err = 0;

	text = print((re_printf_h *)metrics_proc_print, (void *)&p);
	TEST_TRUE(text != NULL);
	TEST_STREQ(want, text);
 out:
	mem_deref(text);
	return err;
}

static int test_proc_read(void)
{
	struct metrics_proc p;
	int err = 0;

	memset(&p, 0, sizeof(p));
	TEST_ERR(metrics_proc_read(&p));
	TEST_TRUE(p.rss_bytes > 0);
	TEST_TRUE(p.open_fds >= 3);
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_stats_text),
	HARNESS_TEST(test_escape),
	HARNESS_TEST(test_parse_statm),
	HARNESS_TEST(test_parse_stat),
	HARNESS_TEST(test_proc_text),
	HARNESS_TEST(test_proc_read),
};

HARNESS_MAIN(tests)
