/* tests/unit/sbc/loop_wait.h  Run libre's loop until a condition holds */
#ifndef TESTS_LOOP_WAIT_H
#define TESTS_LOOP_WAIT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Run re_main() until <cond>() returns true (polled every 20 ms) or <ms>
 * milliseconds pass. Returns true if the condition held. Not reentrant:
 * one wait at a time, on the thread that owns the libre loop.
 */
bool loop_wait_for(bool (*cond)(void), uint64_t ms);

#endif
