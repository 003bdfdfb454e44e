/* sbc/cdr.c  Call detail records: one row per call when it ends */
#include <errno.h>
#include <string.h>

#include <sqlite3.h>
#include <re.h>

#include "cdr.h"
#include "log.h"
#include "metrics.h"

#define CDR_FLUSH_MS      200      /* how long a row may wait */
#define CDR_RETRY_MAX_MS  10000    /* back-off cap while writes fail */
#define CDR_QUEUE_MAX     100000   /* rows kept while the store fails */
#define CDR_BATCH         2000     /* rows per transaction */

enum cdr_res {
	CDR_R_ANSWERED = 0,
	CDR_R_BUSY,
	CDR_R_CANCELLED,
	CDR_R_NOANSWER,
	CDR_R_REJECTED,
	CDR_R_FAILED,
	CDR_R_COUNT
};

static const char *const res_names[CDR_R_COUNT] = {
	[CDR_R_ANSWERED]  = "answered",
	[CDR_R_BUSY]      = "busy",
	[CDR_R_CANCELLED] = "cancelled",
	[CDR_R_NOANSWER]  = "noanswer",
	[CDR_R_REJECTED]  = "rejected",
	[CDR_R_FAILED]    = "failed",
};

static const char *const dir_names[] = {
	[CDR_INTERNAL] = "internal",
	[CDR_INBOUND]  = "inbound",
	[CDR_OUTBOUND] = "outbound",
};

#define CDR_DIRS ARRAY_SIZE(dir_names)

/* A queued row; its strings live in the same allocation, after it. */
struct cdr_row {
	struct le    le;
	const char  *call_id;
	const char  *from;
	const char  *to;
	const char  *trunk;         /* NULL: none */
	const char  *hangup_side;
	enum cdr_dir dir;
	uint64_t     started_at;
	uint64_t     answered_at;
	uint64_t     ended_at;
	uint16_t     result;
};

static const char insert_sql[] =
	"INSERT INTO cdrs (call_id, from_uri, to_uri, direction, trunk, "
	"started_at, answered_at, ended_at, duration_s, result, hangup_side) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

static struct {
	sqlite3          *db;
	sqlite3_stmt     *ins;
	struct list       queue;      /* owns its cdr_rows, oldest first */
	unsigned          n;
	struct tmr        tmr;
	uint32_t          retry_ms;   /* 0: last flush worked */
	uint64_t          total[CDR_DIRS][CDR_R_COUNT];
	uint64_t          dropped;
	uint64_t          written;
	struct log_limit  ll;
} cd;

static void row_destructor(void *arg)
{
	struct cdr_row *r = arg;

	list_unlink(&r->le);
}

static enum cdr_res result_class(uint16_t scode)
{
	if (scode >= 200 && scode < 300)
		return CDR_R_ANSWERED;
	if (scode == 486 || scode == 600)
		return CDR_R_BUSY;
	if (scode == 487)
		return CDR_R_CANCELLED;
	if (scode == 408 || scode == 480)
		return CDR_R_NOANSWER;
	if (scode == 0 || (scode >= 500 && scode < 600))
		return CDR_R_FAILED;
	if (scode >= 300 && scode < 700)
		return CDR_R_REJECTED;
	return CDR_R_FAILED;
}

const char *cdr_result_name(uint16_t scode)
{
	return res_names[result_class(scode)];
}

const char *cdr_dir_name(enum cdr_dir d)
{
	return (unsigned)d < CDR_DIRS ? dir_names[d] : "?";
}

unsigned cdr_queued(void)
{
	return cd.n;
}

uint64_t cdr_dropped(void)
{
	return cd.dropped;
}

/* Append <s> (NULL: "") at <*pp> and return where it went. */
static const char *put(char **pp, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	char *dst = *pp;

	if (len)
		memcpy(dst, s, len);
	dst[len] = '\0';
	*pp += len + 1;
	return dst;
}

static struct cdr_row *row_alloc(const struct cdr *c)
{
	const char *trunk = c->trunk && *c->trunk ? c->trunk : NULL;
	struct cdr_row *r;
	size_t sz;
	char *p;

	sz = str_len(c->call_id) + str_len(c->from) + str_len(c->to) +
		str_len(trunk) + str_len(c->hangup_side) + 5;
	r = mem_zalloc(sizeof(*r) + sz, row_destructor);
	if (!r)
		return NULL;

	p = (char *)(r + 1);
	r->call_id = put(&p, c->call_id);
	r->from = put(&p, c->from);
	r->to = put(&p, c->to);
	r->trunk = trunk ? put(&p, trunk) : NULL;
	r->hangup_side = put(&p, c->hangup_side);
	r->dir = c->dir;
	r->started_at = c->started_at;
	r->answered_at = c->answered_at;
	r->ended_at = c->ended_at;
	r->result = c->result;
	return r;
}

static int64_t duration_s(const struct cdr_row *r)
{
	if (!r->answered_at || r->ended_at < r->answered_at)
		return 0;
	return (int64_t)((r->ended_at - r->answered_at + 500) / 1000);
}

/* Insert <r>; SQLITE_DONE, or the error code of the step. */
static int row_insert(const struct cdr_row *r)
{
	sqlite3_stmt *st = cd.ins;
	int rc;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_text(st, 1, r->call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, dir_names[r->dir], -1, SQLITE_STATIC);
	if (r->trunk)
		sqlite3_bind_text(st, 5, r->trunk, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)r->started_at);
	if (r->answered_at)
		sqlite3_bind_int64(st, 7, (sqlite3_int64)r->answered_at);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)r->ended_at);
	sqlite3_bind_int64(st, 9, duration_s(r));
	sqlite3_bind_int(st, 10, r->result);
	sqlite3_bind_text(st, 11, r->hangup_side, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc;
}

static int exec(const char *sql)
{
	return sqlite3_exec(cd.db, sql, NULL, NULL, NULL) == SQLITE_OK ?
		0 : EIO;
}

/*
 * Write up to <max> of the oldest rows in one transaction and free
 * them. A row the table refuses (a constraint) is dropped with a
 * warning, or it would block every later row forever; any other
 * failure rolls back and keeps every row for the next try. Returns 0
 * or EIO.
 */
static int flush_batch(unsigned max)
{
	struct le *le;
	unsigned i = 0, bad = 0;
	char why[128];
	int rc;

	if (!cd.db || !cd.ins)
		return EIO;

	/* IMMEDIATE: wait for the write lock here (busy timeout), not at
	 * COMMIT where a deferred transaction could deadlock */
	if (exec("BEGIN IMMEDIATE"))
		goto fail;

	for (le = cd.queue.head; le && i < max; le = le->next, i++) {
		const struct cdr_row *r = le->data;

		rc = row_insert(r);
		if (rc == SQLITE_DONE)
			continue;
		if ((rc & 0xff) != SQLITE_CONSTRAINT)
			goto rollback;
		log_limit(&cd.ll, LOG_LVL_WARN, "cdr", "row of call %s "
			  "refused (%s); dropped", r->call_id,
			  sqlite3_errmsg(cd.db));
		++cd.dropped;
		++bad;
	}

	if (exec("COMMIT"))
		goto rollback;

	cd.written += i - bad;
	while (i--) {
		mem_deref(cd.queue.head->data);
		--cd.n;
	}
	return 0;

 rollback:
	str_ncpy(why, sqlite3_errmsg(cd.db), sizeof(why));
	(void)exec("ROLLBACK");
	goto out;
 fail:
	str_ncpy(why, sqlite3_errmsg(cd.db), sizeof(why));
 out:
	log_limit(&cd.ll, LOG_LVL_WARN, "cdr", "cannot write %u CDRs: %s "
		  "(kept, retried)", cd.n, why);
	return EIO;
}

int cdr_flush(void)
{
	int err;

	while (cd.n) {
		err = flush_batch(CDR_BATCH);
		if (err)
			return err;
	}
	return 0;
}

/*
 * One batch per timer run, so a backlog after an outage is written in
 * slices between other events. While writes fail the wait doubles up
 * to CDR_RETRY_MAX_MS: each try may hold the loop for the whole busy
 * timeout.
 */
static void flush_tmr(void *arg)
{
	(void)arg;

	if (flush_batch(CDR_BATCH)) {
		cd.retry_ms = cd.retry_ms ? cd.retry_ms * 2 : CDR_FLUSH_MS * 2;
		if (cd.retry_ms > CDR_RETRY_MAX_MS)
			cd.retry_ms = CDR_RETRY_MAX_MS;
		tmr_start(&cd.tmr, cd.retry_ms, flush_tmr, NULL);
		return;
	}
	if (cd.retry_ms) {
		log_info("cdr", "writing CDRs again");
		cd.retry_ms = 0;
	}
	if (cd.n)
		tmr_start(&cd.tmr, 0, flush_tmr, NULL);
}

int cdr_write(const struct cdr *c)
{
	struct cdr_row *r;

	if (!c || (unsigned)c->dir >= CDR_DIRS)
		return EINVAL;

	/* the call happened whether or not its row can be kept */
	++cd.total[c->dir][result_class(c->result)];

	if (cd.n >= CDR_QUEUE_MAX) {
		++cd.dropped;
		log_limit(&cd.ll, LOG_LVL_ERROR, "cdr", "queue full (%u rows "
			  "not written yet): CDR of call %s dropped", cd.n,
			  c->call_id ? c->call_id : "");
		return ENOMEM;
	}
	r = row_alloc(c);
	if (!r) {
		++cd.dropped;
		return ENOMEM;
	}
	list_append(&cd.queue, &r->le, r);
	++cd.n;
	if (!tmr_isrunning(&cd.tmr))
		tmr_start(&cd.tmr, CDR_FLUSH_MS, flush_tmr, NULL);
	return 0;
}

int cdr_start(struct sqlite3 *db)
{
	if (!db)
		return EINVAL;
	cdr_stop();
	memset(&cd, 0, sizeof(cd));
	log_limit_init(&cd.ll, 60000, 5);

	if (sqlite3_prepare_v3(db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &cd.ins, NULL) != SQLITE_OK) {
		log_err("cdr", "cannot prepare: %s", sqlite3_errmsg(db));
		return EIO;
	}
	cd.db = db;
	return 0;
}

void cdr_stop(void)
{
	tmr_cancel(&cd.tmr);
	if (cd.n && cdr_flush())
		log_err("cdr", "%u CDRs could not be written and are lost",
			cd.n);
	list_flush(&cd.queue);
	cd.n = 0;
	sqlite3_finalize(cd.ins);
	cd.ins = NULL;
	cd.db = NULL;
}

/*
 * Every direction and result is printed, zeros included, so each
 * series exists from the start and rate() has a first sample.
 */
int cdr_metrics(struct re_printf *pf, void *unused)
{
	unsigned d, r;
	int err;

	(void)unused;

	err = metrics_head(pf, "sbc_calls_total", "counter",
			   "Calls ended, by direction and result.");
	for (d = 0; d < CDR_DIRS; d++) {
		for (r = 0; r < CDR_R_COUNT; r++)
			err |= re_hprintf(pf, "sbc_calls_total{direction="
					  "\"%s\",result=\"%s\"} %llu\n",
					  dir_names[d], res_names[r],
					  (unsigned long long)cd.total[d][r]);
	}
	err |= metrics_head(pf, "sbc_cdrs_dropped_total", "counter",
			    "CDRs lost: queue full or refused by the "
			    "database.");
	err |= re_hprintf(pf, "sbc_cdrs_dropped_total %llu\n",
			  (unsigned long long)cd.dropped);
	return err;
}

int cdr_debug(struct re_printf *pf, void *unused)
{
	(void)unused;

	return re_hprintf(pf, "cdr: queued=%u written=%llu dropped=%llu%s",
			  cd.n, (unsigned long long)cd.written,
			  (unsigned long long)cd.dropped,
			  cd.retry_ms ? " (writes failing)" : "");
}
