/* mediad/slot.c  Fixed table of in-flight io_uring requests */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "slot.h"

int slot_init(struct slot_tbl *t, uint32_t n)
{
	uint32_t i;

	if (!t || !n)
		return EINVAL;

	t->v = calloc(n, sizeof(*t->v));
	if (!t->v)
		return ENOMEM;

	t->n = n;
	t->inuse = 0;
	t->free = NULL;
	/* Thread the free list backwards so slot 0 is handed out first:
	 * low indices stay hot in the cache. */
	for (i = n; i-- > 0;) {
		t->v[i].next_free = t->free;
		t->free = &t->v[i];
	}
	return 0;
}

void slot_fini(struct slot_tbl *t)
{
	if (!t)
		return;

	free(t->v);
	t->v = NULL;
	t->free = NULL;
	t->n = 0;
	t->inuse = 0;
}

struct slot *slot_get(struct slot_tbl *t, slot_done_h *done, void *arg)
{
	struct slot *s = t->free;

	if (!s)
		return NULL;

	t->free = s->next_free;
	s->next_free = NULL;
	s->done = done;
	s->arg = arg;
	s->u64 = 0;
	++t->inuse;
	return s;
}

void slot_put(struct slot_tbl *t, struct slot *s)
{
	if (!s)
		return;

	s->done = NULL;        /* a stray CQE for it faults loudly */
	s->arg = NULL;
	s->next_free = t->free;
	t->free = s;
	--t->inuse;
}

uint32_t slot_inuse(const struct slot_tbl *t)
{
	return t->inuse;
}
