/* api/authlim.h  Failed API logins per source address: 429 after too many */
#ifndef API_AUTHLIM_H
#define API_AUTHLIM_H

#include <stdbool.h>
#include <stdint.h>

struct sockaddr;

#define AUTHLIM_FAILS      10       /* more failures than this ... */
#define AUTHLIM_WINDOW_MS  60000    /* ... within this window ... */
#define AUTHLIM_BLOCK_MS   60000    /* ... block the source this long */
#define AUTHLIM_SLOTS      1024     /* sources remembered at once */

/*
 * A fixed table of sources, so a flood of failures from many addresses
 * costs no memory: when it is full, a source that is not blocked and
 * was seen least recently makes room. IPv4-mapped IPv6 addresses count
 * as their IPv4 address, and IPv6 sources by their /64 (one host owns
 * a whole /64 as easily as one address). <now> is any monotonic clock
 * in ms; tests pass their own.
 */

/* Forget every source. */
void     authlim_reset(void);
/* Milliseconds <sa> stays blocked, or 0 when it may try. */
uint64_t authlim_blocked(const struct sockaddr *sa, uint64_t now);
/* Count one failure of <sa>; true when it starts a block. */
bool     authlim_fail(const struct sockaddr *sa, uint64_t now);
/* Sources blocked at <now>. */
unsigned authlim_nblocked(uint64_t now);

#endif
