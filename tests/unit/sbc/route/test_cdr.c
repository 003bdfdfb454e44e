/* tests/unit/sbc/route/test_cdr.c  CDR queue, flush, retry and counters */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <re.h>

#include "cdr.h"
#include "db.h"
#include "harness.h"
#include "log.h"
#include "loop_wait.h"

static char dir[64];
static char path[128];
static struct db *db;

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void)
{
	int err;

	strcpy(dir, "/tmp/sbc-test-cdrXXXXXX");
	if (!mkdtemp(dir))
		return errno;
	snprintf(path, sizeof(path), "%s/sbc.db", dir);
	err = db_open(&db, path);
	if (!err)
		err = cdr_start(db_handle(db));
	return err;
}

static void teardown(void)
{
	cdr_stop();
	db = mem_deref(db);
	if (dir[0])
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

static long query_int(const char *sql)
{
	sqlite3_stmt *st = NULL;
	long v = -1;

	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static struct cdr row(const char *call_id, enum cdr_dir dir_,
		      uint16_t result)
{
	struct cdr c = {
		.call_id = call_id,
		.from = "sip:alice@example.com",
		.to = "sip:4930123@example.com",
		.dir = dir_,
		.trunk = NULL,
		.started_at = 1700000000000ull,
		.answered_at = 0,
		.ended_at = 1700000005000ull,
		.result = result,
		.hangup_side = "caller",
	};
	return c;
}

static int test_write_read(void)
{
	struct cdr c;
	sqlite3_stmt *st = NULL;
	int err = 0;

	TEST_ERR(setup());

	c = row("call-1", CDR_OUTBOUND, 200);
	c.trunk = "carrier";
	c.answered_at = 1700000001000ull;
	c.ended_at = 1700000003500ull;           /* 2.5 s: rounds to 3 */
	c.hangup_side = "callee";
	TEST_ERR(cdr_write(&c));

	c = row("call-2", CDR_INTERNAL, 486);
	c.trunk = "";                            /* "" is none, as NULL */
	TEST_ERR(cdr_write(&c));

	c = row("call-3", CDR_INBOUND, 200);
	c.answered_at = 1700000001000ull;
	c.ended_at = 1700000003499ull;           /* 2.499 s: rounds to 2 */
	c.from = NULL;
	c.hangup_side = NULL;
	TEST_ERR(cdr_write(&c));

	TEST_EQ(3, cdr_queued());
	TEST_EQ(0, query_int("SELECT count(*) FROM cdrs"));
	TEST_ERR(cdr_flush());
	TEST_EQ(0, cdr_queued());
	TEST_EQ(3, query_int("SELECT count(*) FROM cdrs"));

	TEST_EQ(SQLITE_OK, sqlite3_prepare_v2(db_handle(db),
		"SELECT call_id, from_uri, to_uri, direction, trunk, "
		"started_at, answered_at, ended_at, duration_s, result, "
		"hangup_side FROM cdrs ORDER BY id", -1, &st, NULL));

	TEST_EQ(SQLITE_ROW, sqlite3_step(st));
	TEST_STREQ("call-1", (const char *)sqlite3_column_text(st, 0));
	TEST_STREQ("sip:alice@example.com",
		   (const char *)sqlite3_column_text(st, 1));
	TEST_STREQ("sip:4930123@example.com",
		   (const char *)sqlite3_column_text(st, 2));
	TEST_STREQ("outbound", (const char *)sqlite3_column_text(st, 3));
	TEST_STREQ("carrier", (const char *)sqlite3_column_text(st, 4));
	TEST_EQ(1700000000000ll, sqlite3_column_int64(st, 5));
	TEST_EQ(1700000001000ll, sqlite3_column_int64(st, 6));
	TEST_EQ(1700000003500ll, sqlite3_column_int64(st, 7));
	TEST_EQ(3, sqlite3_column_int(st, 8));
	TEST_EQ(200, sqlite3_column_int(st, 9));
	TEST_STREQ("callee", (const char *)sqlite3_column_text(st, 10));

	TEST_EQ(SQLITE_ROW, sqlite3_step(st));
	TEST_STREQ("internal", (const char *)sqlite3_column_text(st, 3));
	TEST_EQ(SQLITE_NULL, sqlite3_column_type(st, 4));
	TEST_EQ(SQLITE_NULL, sqlite3_column_type(st, 6));
	TEST_EQ(0, sqlite3_column_int(st, 8));
	TEST_EQ(486, sqlite3_column_int(st, 9));

	TEST_EQ(SQLITE_ROW, sqlite3_step(st));
	TEST_STREQ("inbound", (const char *)sqlite3_column_text(st, 3));
	TEST_STREQ("", (const char *)sqlite3_column_text(st, 1));
	TEST_EQ(2, sqlite3_column_int(st, 8));
	TEST_STREQ("", (const char *)sqlite3_column_text(st, 10));
	TEST_EQ(SQLITE_DONE, sqlite3_step(st));

	/* a bad direction is refused before it is counted or queued */
	c = row("call-4", (enum cdr_dir)7, 200);
	TEST_EQ(EINVAL, cdr_write(&c));
	TEST_EQ(EINVAL, cdr_write(NULL));
	TEST_EQ(0, cdr_queued());
 out:
	sqlite3_finalize(st);
	teardown();
	return err;
}

static bool queue_empty(void)
{
	return cdr_queued() == 0;
}

/* The timer writes within about 200 ms, without a cdr_flush(). */
static int test_timer_flush(void)
{
	struct cdr c = row("call-t", CDR_OUTBOUND, 503);
	uint64_t t0;
	int err = 0;

	TEST_ERR(setup());
	TEST_ERR(cdr_write(&c));
	TEST_ERR(cdr_write(&c));
	t0 = tmr_jiffies();
	TEST_TRUE(loop_wait_for(queue_empty, 2000));
	TEST_TRUE(tmr_jiffies() - t0 >= 150);
	TEST_EQ(2, query_int("SELECT count(*) FROM cdrs WHERE "
			     "call_id = 'call-t'"));
 out:
	teardown();
	return err;
}

/* A locked database: the rows stay queued and go in on the retry. */
static int test_retry(void)
{
	struct cdr c = row("call-r", CDR_INBOUND, 200);
	sqlite3 *other = NULL;
	int err = 0;

	TEST_ERR(setup());
	sqlite3_busy_timeout(db_handle(db), 20);

	TEST_EQ(SQLITE_OK, sqlite3_open(path, &other));
	TEST_EQ(SQLITE_OK, sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
					NULL));
	TEST_ERR(cdr_write(&c));
	TEST_ERR(cdr_write(&c));
	TEST_EQ(EIO, cdr_flush());
	TEST_EQ(2, cdr_queued());

	/* the timer retries on its own, backing off */
	TEST_TRUE(!loop_wait_for(queue_empty, 700));
	TEST_EQ(2, cdr_queued());

	TEST_EQ(SQLITE_OK, sqlite3_exec(other, "COMMIT", NULL, NULL, NULL));
	TEST_TRUE(loop_wait_for(queue_empty, 3000));
	TEST_EQ(2, query_int("SELECT count(*) FROM cdrs"));
	TEST_EQ(0, cdr_dropped());
 out:
	sqlite3_close(other);
	teardown();
	return err;
}

/* cdr_stop() writes what is queued. */
static int test_stop_flushes(void)
{
	struct cdr c = row("call-s", CDR_OUTBOUND, 404);
	int err = 0;

	TEST_ERR(setup());
	TEST_ERR(cdr_write(&c));
	cdr_stop();
	TEST_EQ(1, query_int("SELECT count(*) FROM cdrs"));
	TEST_EQ(404, query_int("SELECT result FROM cdrs"));
 out:
	teardown();
	return err;
}

/* The queue is bounded: the row past the limit is dropped, counted. */
static int test_queue_bound(void)
{
	struct cdr c = row("call-q", CDR_OUTBOUND, 200);
	unsigned i;
	int err = 0;

	TEST_ERR(setup());
	for (i = 0; i < 100000; i++) {
		if (cdr_write(&c)) {
			TEST_FAIL_AT("write %u failed", i);
			err = EINVAL;
			goto out;
		}
	}
	TEST_EQ(ENOMEM, cdr_write(&c));
	TEST_EQ(1, cdr_dropped());
	TEST_EQ(100000, cdr_queued());
	TEST_ERR(cdr_flush());
	TEST_EQ(0, cdr_queued());
	TEST_EQ(100000, query_int("SELECT count(*) FROM cdrs"));
	TEST_ERR(cdr_write(&c));
 out:
	teardown();
	return err;
}

static int metric(const char *doc, const char *dir_, const char *res)
{
	char key[128];
	const char *p;

	snprintf(key, sizeof(key), "sbc_calls_total{direction=\"%s\","
		 "result=\"%s\"} ", dir_, res);
	p = strstr(doc, key);
	return p ? atoi(p + strlen(key)) : -1;
}

static int test_metrics(void)
{
	static const uint16_t codes[] = {
		200, 202, 486, 600, 487, 408, 480, 500, 503, 0, 404, 603, 302,
		183,
	};
	struct cdr c;
	char *doc = NULL;
	const char *p;
	unsigned i, n = 0;
	int err = 0;

	TEST_ERR(setup());
	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		c = row("call-m", CDR_OUTBOUND, codes[i]);
		TEST_ERR(cdr_write(&c));
	}
	c = row("call-m", CDR_INBOUND, 487);
	TEST_ERR(cdr_write(&c));

	TEST_ERR(re_sdprintf(&doc, "%H", cdr_metrics, NULL));
	TEST_TRUE(strstr(doc, "# TYPE sbc_calls_total counter\n") != NULL);
	TEST_TRUE(strstr(doc, "# HELP sbc_calls_total ") != NULL);
	TEST_EQ(2, metric(doc, "outbound", "answered"));
	TEST_EQ(2, metric(doc, "outbound", "busy"));
	TEST_EQ(1, metric(doc, "outbound", "cancelled"));
	TEST_EQ(2, metric(doc, "outbound", "noanswer"));
	TEST_EQ(4, metric(doc, "outbound", "failed"));     /* 500 503 0 183 */
	TEST_EQ(3, metric(doc, "outbound", "rejected"));   /* 404 603 302 */
	TEST_EQ(1, metric(doc, "inbound", "cancelled"));
	TEST_EQ(0, metric(doc, "inbound", "answered"));
	TEST_EQ(0, metric(doc, "internal", "failed"));

	/* every combination is a series, zeros included */
	for (p = doc; (p = strstr(p, "\nsbc_calls_total{")); p++)
		++n;
	TEST_EQ(18, n);

	TEST_STREQ("answered", cdr_result_name(204));
	TEST_STREQ("busy", cdr_result_name(600));
	TEST_STREQ("rejected", cdr_result_name(403));
	TEST_STREQ("failed", cdr_result_name(0));
	TEST_STREQ("outbound", cdr_dir_name(CDR_OUTBOUND));
 out:
	mem_deref(doc);
	teardown();
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_write_read),
	HARNESS_TEST(test_timer_flush),
	HARNESS_TEST(test_retry),
	HARNESS_TEST(test_stop_flushes),
	HARNESS_TEST(test_queue_bound),
	HARNESS_TEST(test_metrics),
};

int main(void)
{
	int ret;

	log_init("test_cdr", LOG_LVL_ERROR);
	if (libre_init())
		return 1;
	ret = harness_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]));
	libre_close();
	return ret;
}
