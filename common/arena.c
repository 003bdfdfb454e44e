/* common/arena.c  Bump allocator over caller storage: one per NG command */
#include <string.h>

#include "arena.h"

#define ARENA_ALIGN 16

void arena_init(struct arena *a, void *buf, size_t size)
{
	if (!a)
		return;

	a->base = buf;
	a->size = buf ? size : 0;
	a->used = 0;
}

/*
 * Hand out <sz> zeroed bytes whose address (not offset) is 16-byte
 * aligned, so a caller buffer that is itself misaligned still yields
 * aligned objects. Every size computation is checked against the space
 * left, never added first and compared later, so a huge <sz> cannot wrap.
 */
void *arena_alloc(struct arena *a, size_t sz)
{
	uintptr_t cur;
	size_t pad, left;
	uint8_t *p;

	if (!a || !a->base || a->used > a->size)
		return NULL;

	cur  = (uintptr_t)(a->base + a->used);
	pad  = (ARENA_ALIGN - (cur & (ARENA_ALIGN - 1))) & (ARENA_ALIGN - 1);
	left = a->size - a->used;
	if (pad > left || sz > left - pad)
		return NULL;

	p = a->base + a->used + pad;
	a->used += pad + sz;
	memset(p, 0, sz);
	return p;
}

char *arena_strndup(struct arena *a, const char *p, size_t len)
{
	char *s;

	if (!p && len)
		return NULL;
	if (len == SIZE_MAX)
		return NULL;

	s = arena_alloc(a, len + 1);
	if (!s)
		return NULL;

	if (len)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

void arena_reset(struct arena *a)
{
	if (a)
		a->used = 0;
}
