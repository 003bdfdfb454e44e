/* tests/unit/mediad/alloc_count.h  Count allocator calls (-Wl,--wrap) */
#ifndef TESTS_ALLOC_COUNT_H
#define TESTS_ALLOC_COUNT_H

/*
 * A test linked with alloc_count.c and
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc
 * sees every allocator call of mediad's and common's objects, from any
 * thread, in alloc_count(). STYLE section 6: after start, the work path
 * never allocates, so a test reads the count before and after the work.
 */
unsigned long alloc_count(void);

#endif
