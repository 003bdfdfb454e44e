/* mediad/slot.h  Fixed table of in-flight io_uring requests */
#ifndef MEDIAD_SLOT_H
#define MEDIAD_SLOT_H

#include <stdint.h>

/*
 * Every request a worker submits occupies one slot from its table, and
 * the SQE's user_data is the slot's address. The first member is the
 * completion handler, so a CQE is dispatched with one indirect call:
 *
 *	struct slot *s = io_uring_cqe_get_data(cqe);
 *	s->done(s, cqe->res, cqe->flags);
 *
 * The handler owns the slot while it runs. It gives it back with
 * slot_put() once the request is over (for a multishot request: when
 * IORING_CQE_F_MORE is clear), or keeps it and resubmits. A slot never
 * goes back while the kernel may still complete it, so the number of
 * slots in use is exactly the number of requests in flight.
 *
 * The table is one array sized at startup and a free list threaded
 * through it: no allocation after slot_init().
 */

struct slot;

/* Completion of the request in <s>: <res> is cqe->res (-errno on
 * failure), <flags> is cqe->flags. */
typedef void (slot_done_h)(struct slot *s, int32_t res, uint32_t flags);

struct slot {
	slot_done_h *done;         /* first: the CQE dispatches through it */
	void        *arg;          /* the request's owner */
	uint64_t     u64;          /* small per-request buffer (eventfd) */
	struct slot *next_free;
};

/* Embed it in the owner (one per worker); members are private. */
struct slot_tbl {
	struct slot *v;
	struct slot *free;
	uint32_t     n;
	uint32_t     inuse;
};

/* Startup only: a table of <n> slots. Returns 0, EINVAL or ENOMEM. */
int  slot_init(struct slot_tbl *t, uint32_t n);
/* Release the table. The caller has reaped every request first. */
void slot_fini(struct slot_tbl *t);
/* A free slot with handler <done> and owner <arg>, or NULL when all are
 * in flight (the caller refuses the work and counts it). */
struct slot *slot_get(struct slot_tbl *t, slot_done_h *done, void *arg);
/* Return <s> to the table. */
void slot_put(struct slot_tbl *t, struct slot *s);
/* Requests in flight. */
uint32_t slot_inuse(const struct slot_tbl *t);

#endif
