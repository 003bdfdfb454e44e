/* mediad/ports.c  RTP/RTCP port pairs, one slice of the range per worker */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ports.h"

int ports_init(struct ports *p, uint32_t min, uint32_t max, uint32_t nslices)
{
	uint32_t i, s, per, extra, first = 0;

	if (!p || (min & 1) || min >= max || max > 65535 || !nslices)
		return EINVAL;

	memset(p, 0, sizeof(*p));
	p->base = (uint16_t)min;
	p->npairs = (max - min + 1) / 2;
	if (p->npairs < nslices)
		return EINVAL;
	p->nslices = nslices;
	p->fifo = calloc(p->npairs, sizeof(*p->fifo));
	p->used = calloc(p->npairs, 1);
	p->slice = calloc(nslices, sizeof(*p->slice));
	if (!p->fifo || !p->used || !p->slice) {
		ports_fini(p);
		return ENOMEM;
	}

	per = p->npairs / nslices;
	extra = p->npairs % nslices;
	for (s = 0; s < nslices; s++) {
		struct ports_slice *sl = &p->slice[s];

		sl->first = first;
		sl->n = per + (s < extra ? 1 : 0);
		sl->head = 0;
		sl->count = sl->n;
		for (i = 0; i < sl->n; i++)
			p->fifo[first + i] = first + i;
		first += sl->n;
	}
	return 0;
}

void ports_fini(struct ports *p)
{
	if (!p)
		return;
	free(p->fifo);
	free(p->used);
	free(p->slice);
	memset(p, 0, sizeof(*p));
}

uint32_t ports_free(const struct ports *p, uint32_t s)
{
	return s < p->nslices ? p->slice[s].count : 0;
}

uint32_t ports_best(const struct ports *p)
{
	uint32_t s, best = 0;

	for (s = 1; s < p->nslices; s++) {
		if (p->slice[s].count > p->slice[best].count)
			best = s;
	}
	return best;
}

int ports_get(struct ports *p, uint32_t s, uint16_t *portp)
{
	struct ports_slice *sl;
	uint32_t pair;

	if (s >= p->nslices)
		return EINVAL;
	sl = &p->slice[s];
	if (!sl->count)
		return ENOSPC;

	pair = p->fifo[sl->first + sl->head % sl->n];
	++sl->head;
	--sl->count;
	p->used[pair] = 1;
	*portp = (uint16_t)(p->base + 2 * pair);
	return 0;
}

uint32_t ports_slice_of(const struct ports *p, uint16_t port)
{
	uint32_t pair, s;

	if (port < p->base || ((port - p->base) & 1))
		return UINT32_MAX;
	pair = (uint32_t)(port - p->base) / 2;
	if (pair >= p->npairs)
		return UINT32_MAX;
	for (s = 0; s < p->nslices; s++) {
		if (pair < p->slice[s].first + p->slice[s].n)
			return s;
	}
	return UINT32_MAX;
}

int ports_put(struct ports *p, uint16_t port)
{
	struct ports_slice *sl;
	uint32_t s = ports_slice_of(p, port), pair;

	if (s == UINT32_MAX)
		return EINVAL;
	pair = (uint32_t)(port - p->base) / 2;
	if (!p->used[pair])
		return EINVAL;

	sl = &p->slice[s];
	p->used[pair] = 0;
	p->fifo[sl->first + (sl->head + sl->count) % sl->n] = pair;
	++sl->count;
	return 0;
}
