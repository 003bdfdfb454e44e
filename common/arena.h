/* common/arena.h  Bump allocator over caller storage: one per NG command */
#ifndef COMMON_ARENA_H
#define COMMON_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct arena {
	uint8_t *base;
	size_t   size;
	size_t   used;
};

/* Use <size> bytes at <buf> (the caller owns them) as the arena. */
void  arena_init(struct arena *a, void *buf, size_t size);
/* <sz> bytes, 16-byte aligned, zeroed; NULL when the arena is full. */
void *arena_alloc(struct arena *a, size_t sz);
/* Copy of <p>/<len> plus a NUL; NULL when full. */
char *arena_strndup(struct arena *a, const char *p, size_t len);
/* Forget every allocation: nothing may outlive the reply. */
void  arena_reset(struct arena *a);

#endif
