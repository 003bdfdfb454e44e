/* sbc/shmc.h  Consumer side of mediad's shared-memory segment */
#ifndef SBC_SHMC_H
#define SBC_SHMC_H

#include <stdbool.h>
#include <stddef.h>
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

/*
 * Called on the loop for every well-formed event record taken from the
 * rings: <type> is an SHM_EV_*, <buf>/<len> its payload (read it with
 * msg_get_*()), valid during the call only. One handler; NULL removes.
 */
typedef void (shmc_event_h)(uint16_t type, const uint8_t *buf, size_t len,
			    void *arg);
void shmc_set_handler(shmc_event_h *h, void *arg);

/*
 * Live counters of mediad's session for NG call-id <callid>: true and
 * *out filled (a snapshot), false when attached to no segment or no
 * session has that call-id.
 */
struct shmc_session {
	uint64_t packets[2];
	uint64_t bytes[2];
	uint64_t lost[2];
	uint32_t jitter_us[2];
};
bool shmc_session(const char *callid, struct shmc_session *out);

/*
 * The mediad_* families of /metrics from the segment's worker counters
 * (no NG round trip): sessions, packets and bytes by dir, lost, dropped,
 * transcoded, and each worker's busy ratio since the previous scrape.
 * Families without samples while no segment is attached.
 */
int  shmc_metrics(struct re_printf *pf, void *unused);

int  shmc_debug(struct re_printf *pf, void *unused);

#endif
