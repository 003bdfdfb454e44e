/* mediad/cmdq.c  Bounded single-producer/single-consumer command queue */
#include <errno.h>
#include <stdlib.h>

#include "cmdq.h"

int cmdq_init(struct cmdq *q, uint32_t size)
{
	if (!q || size < 2 || size > 65536 || (size & (size - 1)))
		return EINVAL;

	q->items = calloc(size, sizeof(*q->items));
	if (!q->items)
		return ENOMEM;

	q->mask = size - 1;
	atomic_init(&q->head, 0);
	atomic_init(&q->tail, 0);
	return 0;
}

void cmdq_fini(struct cmdq *q)
{
	if (!q)
		return;

	free(q->items);
	q->items = NULL;
	q->mask = 0;
}

int cmdq_push(struct cmdq *q, const struct cmdq_item *it)
{
	uint32_t head, tail;

	/* Only this thread writes head; the tail it reads may be stale,
	 * which can only make the queue look fuller than it is. */
	head = atomic_load_explicit(&q->head, memory_order_relaxed);
	tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	if (head - tail > q->mask)
		return ENOSPC;

	q->items[head & q->mask] = *it;
	atomic_store_explicit(&q->head, head + 1, memory_order_release);
	return 0;
}

bool cmdq_pop(struct cmdq *q, struct cmdq_item *it)
{
	uint32_t head, tail;

	tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	head = atomic_load_explicit(&q->head, memory_order_acquire);
	if (head == tail)
		return false;

	*it = q->items[tail & q->mask];
	/* Release: the copy above is done before the producer may reuse
	 * the slot. */
	atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
	return true;
}

uint32_t cmdq_count(const struct cmdq *q)
{
	uint32_t head, tail;

	tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	head = atomic_load_explicit(&q->head, memory_order_acquire);
	return head - tail;
}
