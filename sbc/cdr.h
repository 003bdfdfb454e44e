/* sbc/cdr.h  Call detail records: one row per call when it ends */
#ifndef SBC_CDR_H
#define SBC_CDR_H

#include <stdint.h>

struct re_printf;
struct sqlite3;

enum cdr_dir { CDR_INTERNAL = 0, CDR_INBOUND, CDR_OUTBOUND };

struct cdr {
	const char  *call_id;      /* the A leg's Call-ID */
	const char  *from;         /* caller URI */
	const char  *to;           /* callee URI (as dialled) */
	enum cdr_dir dir;
	const char  *trunk;        /* NULL or "" when none */
	uint64_t     started_at;   /* unix ms */
	uint64_t     answered_at;  /* unix ms; 0 when never answered */
	uint64_t     ended_at;     /* unix ms */
	uint16_t     result;       /* final SIP code: 200 for an answered call */
	const char  *hangup_side;  /* "caller", "callee", "sbc" */
};

/*
 * Rows are queued in memory and written in one transaction every
 * 200 ms (bounded by SQLite's busy timeout), so a burst of call ends
 * costs one commit. cdr_stop() writes what is queued. Returns 0 or an
 * errno.
 */
int  cdr_start(struct sqlite3 *db);
void cdr_stop(void);
/* Queue a row (the strings are copied). Returns 0 or ENOMEM. */
int  cdr_write(const struct cdr *c);
/* Write the queue now. Returns 0 or EIO. */
int  cdr_flush(void);
const char *cdr_dir_name(enum cdr_dir d);

/*
 * The sbc_calls_total result label of final code <scode>: "answered"
 * (2xx), "busy" (486, 600), "cancelled" (487), "noanswer" (408, 480),
 * "failed" (5xx, 0 and anything unexpected) or "rejected" (3xx and the
 * other 4xx and 6xx).
 */
const char *cdr_result_name(uint16_t scode);

/* Rows waiting for the next flush; rows dropped on a full queue. */
unsigned cdr_queued(void);
uint64_t cdr_dropped(void);

/* sbc_calls_total{direction,result} in Prometheus text format. */
int  cdr_metrics(struct re_printf *pf, void *unused);
int  cdr_debug(struct re_printf *pf, void *unused);

#endif
