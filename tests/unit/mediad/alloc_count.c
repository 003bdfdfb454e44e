/* tests/unit/mediad/alloc_count.c  Allocator wrappers that count calls */
#include <stdatomic.h>
#include <stddef.h>

#include "alloc_count.h"

void *__real_malloc(size_t sz);
void *__real_calloc(size_t n, size_t sz);
void *__real_realloc(void *p, size_t sz);
void *__real_aligned_alloc(size_t al, size_t sz);
void *__wrap_malloc(size_t sz);
void *__wrap_calloc(size_t n, size_t sz);
void *__wrap_realloc(void *p, size_t sz);
void *__wrap_aligned_alloc(size_t al, size_t sz);

static _Atomic unsigned long nalloc;

unsigned long alloc_count(void)
{
	return atomic_load(&nalloc);
}

void *__wrap_malloc(size_t sz)
{
	atomic_fetch_add(&nalloc, 1);
	return __real_malloc(sz);
}

void *__wrap_calloc(size_t n, size_t sz)
{
	atomic_fetch_add(&nalloc, 1);
	return __real_calloc(n, sz);
}

void *__wrap_realloc(void *p, size_t sz)
{
	atomic_fetch_add(&nalloc, 1);
	return __real_realloc(p, sz);
}

void *__wrap_aligned_alloc(size_t al, size_t sz)
{
	atomic_fetch_add(&nalloc, 1);
	return __real_aligned_alloc(al, sz);
}
