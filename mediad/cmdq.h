/* mediad/cmdq.h  Bounded single-producer/single-consumer command queue */
#ifndef MEDIAD_CMDQ_H
#define MEDIAD_CMDQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * One queue carries commands from the control thread (the only producer)
 * to one worker (the only consumer). The storage is sized once by
 * cmdq_init(); a full queue refuses the push and never grows, so the
 * caller turns it into an error reply ("worker busy") instead of
 * blocking the NG socket.
 *
 * Head and tail are free-running 32-bit counters; the slot is
 * counter & mask, so wraparound needs no special case. The producer
 * publishes an item with a release store of <head>, the consumer frees
 * it with a release store of <tail> (liburing's barrier.h discipline).
 */

struct cmdq_item {
	uint32_t type;     /* meaning chosen by the consumer (worker.h) */
	uint32_t u32;
	uint64_t u64;
	void    *ptr;
};

/* Embed it in the owner; members are private to cmdq.c and tests. */
struct cmdq {
	_Atomic uint32_t head __attribute__((aligned(64)));  /* producer */
	_Atomic uint32_t tail __attribute__((aligned(64)));  /* consumer */
	uint32_t mask __attribute__((aligned(64)));
	struct cmdq_item *items;
};

/* Startup only: room for <size> items (a power of two, 2..65536).
 * Returns 0, EINVAL or ENOMEM. */
int  cmdq_init(struct cmdq *q, uint32_t size);
/* Release the storage. Safe on a zeroed or finished queue. */
void cmdq_fini(struct cmdq *q);
/* Producer: append a copy of <it>. Returns 0 or ENOSPC when full. */
int  cmdq_push(struct cmdq *q, const struct cmdq_item *it);
/* Consumer: take the oldest item into <it>. False when empty. */
bool cmdq_pop(struct cmdq *q, struct cmdq_item *it);
/* Items waiting; exact for the consumer, a snapshot for others. */
uint32_t cmdq_count(const struct cmdq *q);

#endif
