/* mediad/ngack.h  NG replies parked until the workers applied the command */
#ifndef MEDIAD_NGACK_H
#define MEDIAD_NGACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ng.h"

/*
 * An NG command that changes a worker's state (offer, answer, delete)
 * is queued to that worker; its reply must not leave before the worker
 * has applied it, or a packet sent by a client that trusts the reply
 * meets the old state. The control thread cannot wait for that, so it
 * parks the reply here with, per worker it queued to, the sequence
 * number the worker must reach (worker_queued() after the command),
 * and sends it once ngack_release() finds every one of them applied
 * (worker_applied()).
 *
 * The table is bounded, sized once by ngack_init(): <nent> entries and
 * one reply buffer of <slotsz> bytes each. A full table, a reply over
 * <slotsz> or a command queued to more than NGACK_WAIT_MAX workers is
 * refused (ENOSPC, EMSGSIZE, E2BIG): the caller sends at once, as before
 * the acknowledgement existed, and counts it.
 *
 * Sequence numbers are free-running 32-bit counters: <seq> is reached
 * when (int32_t)(applied - seq) >= 0, right across the wrap.
 *
 * Single-threaded: the control thread owns it. The workers only publish
 * their counters (worker.h); nothing here is shared.
 */

#define NGACK_WAIT_MAX 4   /* workers one command may wait for */

struct ngack_wait {
	uint32_t worker;        /* index in the daemon's worker array */
	uint32_t seq;           /* applied count that includes the command */
};

struct ngack_ent {
	bool     used;
	uint16_t cookielen;
	uint32_t nwait;
	uint64_t t_ms;          /* when parked */
	uint64_t bodyhash;      /* ccache_hash() of the request body */
	struct ngack_wait wait[NGACK_WAIT_MAX];
	struct sockaddr_storage peer;
	socklen_t peerlen;
	uint32_t len;
	char     cookie[NG_COOKIE_MAX];
	char    *reply;         /* <len> bytes, in the table's storage */
};

/* Embed it in the owner; members are private to ngack.c and tests. */
struct ngack {
	struct ngack_ent *ent;
	char     *buf;          /* nent * slotsz bytes of replies */
	uint32_t  nent;
	uint32_t  slotsz;
	uint32_t  count;        /* entries in use */

	uint64_t  parked;
	uint64_t  released;     /* sent once applied */
	uint64_t  late;         /* sent by the timeout, not applied */
	uint64_t  dup;          /* retransmits seen while parked */
};

/* The worker's applied count, for ngack_release(). */
typedef uint32_t (ngack_applied_h)(uint32_t worker, void *arg);
/* Send the parked reply <e>: <late> when its time ran out instead. */
typedef void (ngack_send_h)(const struct ngack_ent *e, bool late, void *arg);

/* Startup only: <nent> replies of up to <slotsz> bytes. Returns 0,
 * EINVAL or ENOMEM. */
int  ngack_init(struct ngack *t, uint32_t nent, uint32_t slotsz);
/* Release the storage; parked replies are dropped. Safe on a zeroed or
 * finished table. */
void ngack_fini(struct ngack *t);

/* Whether <applied> includes command <seq>. */
static inline bool ngack_reached(uint32_t applied, uint32_t seq)
{
	return (int32_t)(applied - seq) >= 0;
}

/*
 * Park a copy of reply <reply>/<len> for request <cookie>/<cookielen>
 * with body hash <bodyhash>, from <peer>/<peerlen>, until each of the
 * <nwait> workers in <wait> reached its sequence number. Returns 0,
 * EINVAL, ENOSPC (table full), EMSGSIZE (reply over the slot size) or
 * E2BIG (nwait over NGACK_WAIT_MAX); on error nothing is kept and the
 * caller still owns the reply.
 */
int  ngack_park(struct ngack *t, const char *cookie, size_t cookielen,
		uint64_t bodyhash, const struct ngack_wait *wait,
		uint32_t nwait, const void *reply, size_t len,
		const struct sockaddr *peer, socklen_t peerlen,
		uint64_t now_ms);

/*
 * Whether a reply for <cookie>/<cookielen> and <bodyhash> is parked: a
 * retransmit of a command already run, to be ignored (the one reply
 * goes out when ready). Counted in <dup>.
 */
bool ngack_find(struct ngack *t, const char *cookie, size_t cookielen,
		uint64_t bodyhash);

/*
 * Send (through <sendh>) and free every parked reply whose workers all
 * reached their sequence numbers (asked through <appliedh>), and every
 * one parked <tmo_ms> or longer before <now_ms> (late; 0: no timeout).
 * Returns how many were sent.
 */
unsigned ngack_release(struct ngack *t, ngack_applied_h *appliedh,
		       ngack_send_h *sendh, void *arg, uint64_t now_ms,
		       uint32_t tmo_ms);

/* Replies parked now. */
uint32_t ngack_count(const struct ngack *t);

#endif
