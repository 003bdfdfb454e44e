/* mediad/ccache.c  NG cookie cache: replies kept for retransmitted requests */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ccache.h"

int ccache_init(struct ccache *c, uint32_t nent, size_t bufsz,
		uint32_t ttl_ms)
{
	uint32_t i;

	if (!c || nent < 2 || nent > (1u << 24) || (nent & (nent - 1)) ||
	    bufsz < 64 || bufsz > UINT32_MAX || !ttl_ms)
		return EINVAL;

	memset(c, 0, sizeof(*c));
	c->ent = calloc(nent, sizeof(*c->ent));
	c->bucket = calloc((size_t)nent * 2, sizeof(*c->bucket));
	c->buf = malloc(bufsz);
	if (!c->ent || !c->bucket || !c->buf) {
		ccache_fini(c);
		return ENOMEM;
	}

	for (i = 0; i < nent * 2; i++)
		c->bucket[i] = -1;
	c->nent = nent;
	c->bufsz = bufsz;
	c->ttl_ms = ttl_ms;
	return 0;
}

void ccache_fini(struct ccache *c)
{
	if (!c)
		return;

	free(c->ent);
	free(c->bucket);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

/* FNV-1a, 64 bit: cheap, and collisions only cost a cache miss. */
uint64_t ccache_hash(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint32_t bucket_of(const struct ccache *c, uint32_t chash)
{
	return chash & (c->nent * 2 - 1);
}

/* Unlink the oldest entry from its chain and the rings. */
static void evict_oldest(struct ccache *c)
{
	struct ccache_ent *e = &c->ent[c->first];
	int32_t idx = (int32_t)c->first;
	int32_t *pp = &c->bucket[bucket_of(c, e->chash)];

	while (*pp != -1 && *pp != idx)
		pp = &c->ent[*pp].hnext;
	if (*pp == idx)
		*pp = e->hnext;

	c->first = (c->first + 1) & (c->nent - 1);
	if (--c->count == 0)
		c->wpos = 0;
}

static bool expired(const struct ccache *c, const struct ccache_ent *e,
		    uint64_t now_ms)
{
	return now_ms - e->t_ms >= c->ttl_ms;
}

const void *ccache_find(struct ccache *c, const char *cookie,
			size_t cookielen, uint64_t bodyhash, uint64_t now_ms,
			size_t *lenp)
{
	uint32_t chash;
	int32_t i;

	if (!c || !c->count || !cookie || !cookielen ||
	    cookielen > NG_COOKIE_MAX)
		return NULL;

	chash = (uint32_t)ccache_hash(cookie, cookielen);
	/* Newest first: a reused cookie finds its latest request. */
	for (i = c->bucket[bucket_of(c, chash)]; i != -1;
	     i = c->ent[i].hnext) {
		const struct ccache_ent *e = &c->ent[i];

		if (e->chash != chash || e->cookielen != cookielen ||
		    memcmp(e->cookie, cookie, cookielen))
			continue;
		if (e->bodyhash != bodyhash || expired(c, e, now_ms))
			return NULL;

		++c->hits;
		*lenp = e->len;
		return c->buf + e->off;
	}
	return NULL;
}

/*
 * Where <len> reply bytes fit in the byte ring without touching live
 * entries, or -1. Live bytes run from the oldest entry's offset <r> to
 * <wpos>, wrapping at the end; a wrapped write must stop short of <r>
 * so that wpos == r always means "no wrap".
 */
static long place(const struct ccache *c, size_t len)
{
	size_t r;

	if (!c->count)
		return len <= c->bufsz ? 0 : -1;

	r = c->ent[c->first].off;
	if (c->wpos >= r) {
		if (len <= c->bufsz - c->wpos)
			return (long)c->wpos;
		return len < r ? 0 : -1;
	}
	return c->wpos + len < r ? (long)c->wpos : -1;
}

int ccache_put(struct ccache *c, const char *cookie, size_t cookielen,
	       uint64_t bodyhash, const void *p, size_t len, uint64_t now_ms)
{
	struct ccache_ent *e;
	uint32_t idx, b;
	long off;

	if (!c || !cookie || !cookielen || cookielen > NG_COOKIE_MAX ||
	    (!p && len))
		return EINVAL;

	if (len > c->bufsz / 2) {
		++c->toolarge;
		return EMSGSIZE;
	}

	ccache_expire(c, now_ms);
	if (c->count == c->nent) {
		evict_oldest(c);
		++c->evicted;
	}
	while ((off = place(c, len)) < 0) {
		evict_oldest(c);
		++c->evicted;
	}

	idx = (c->first + c->count) & (c->nent - 1);
	e = &c->ent[idx];
	e->t_ms = now_ms;
	e->bodyhash = bodyhash;
	e->off = (uint32_t)off;
	e->len = (uint32_t)len;
	e->chash = (uint32_t)ccache_hash(cookie, cookielen);
	e->cookielen = (uint16_t)cookielen;
	memcpy(e->cookie, cookie, cookielen);
	if (len)
		memcpy(c->buf + off, p, len);

	b = bucket_of(c, e->chash);
	e->hnext = c->bucket[b];
	c->bucket[b] = (int32_t)idx;

	c->wpos = (size_t)off + len;
	++c->count;
	++c->stored;
	return 0;
}

void ccache_expire(struct ccache *c, uint64_t now_ms)
{
	if (!c)
		return;

	while (c->count && expired(c, &c->ent[c->first], now_ms)) {
		evict_oldest(c);
		++c->expired;
	}
}

uint32_t ccache_count(const struct ccache *c)
{
	return c ? c->count : 0;
}
