/* sbc/shmc.h  Consumer side of mediad's shared-memory segment */
#ifndef SBC_SHMC_H
#define SBC_SHMC_H

#include <stdbool.h>
#include <stdint.h>

struct re_printf;
struct shm_seg;

/*
 * Attach to segment <name> now if it is there and every 2 s until it
 * is; while attached, check it every 2 s (a restarted mediad makes a
 * new generation: detach and attach again) and drain its event rings
 * every 100 ms. Never fails because mediad is absent. Returns 0 or an
 * errno for bad arguments.
 */
int  shmc_start(const char *name);
void shmc_stop(void);

bool shmc_attached(void);
/* The segment while attached, else NULL. Borrowed: valid until the
 * next turn of the loop (a check may detach it). */
const struct shm_seg *shmc_seg(void);

/* Events of type <ev> taken from the rings since start. */
uint64_t shmc_events(unsigned ev);
/* Records the rings held that were malformed or too long. */
uint64_t shmc_bad(void);

int  shmc_debug(struct re_printf *pf, void *unused);

#endif
