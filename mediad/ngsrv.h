/* mediad/ngsrv.h  NG server: UDP socket, cookie cache, request framing */
#ifndef MEDIAD_NGSRV_H
#define MEDIAD_NGSRV_H

#include <stddef.h>
#include <stdint.h>

#include "ngcmd.h"

struct ngsrv;
struct cfg_addr;
struct worker;

/*
 * The control thread's NG endpoint. Each datagram is "COOKIE SP body":
 * a datagram without a valid cookie cannot be answered and is dropped
 * (counted); a cookie seen within the last 30 s with the same body gets
 * the cached reply again, byte for byte; anything else is decoded into
 * a per-request arena, dispatched by ngcmd and answered, and the arena
 * is reset. Every buffer is allocated by ngsrv_start().
 */

struct ngsrv_ctr {
	uint64_t received;    /* datagrams read */
	uint64_t dropped;     /* no valid cookie, or over NG_MSG_MAX */
	uint64_t cached;      /* answered from the cookie cache */
	uint64_t toolarge;    /* reply did not fit: error sent instead */
	uint64_t senderr;     /* sendto() failed */
	uint64_t parked;      /* replies held until the workers applied */
	uint64_t parkeddup;   /* retransmits ignored while held */
	uint64_t ackfull;     /* sent at once: no room to hold them */
	uint64_t acklate;     /* sent after ACK_TMO_MS, not applied */
};

/*
 * Bind a UDP socket to <listen> (port 0: any, for tests) and set up the
 * dispatcher, whose "statistics" calls <statsh> with <arg>. Returns 0
 * and *sp, or an errno (logged) with nothing left behind.
 */
int  ngsrv_start(struct ngsrv **sp, const struct cfg_addr *listen,
		 ngcmd_stats_h *statsh, void *arg);
/* Close the socket and free everything. Safe on NULL. */
void ngsrv_stop(struct ngsrv *s);

/* The socket, for the control thread's poll(). */
int  ngsrv_fd(const struct ngsrv *s);

/* Read and answer up to <budget> waiting datagrams (non-blocking).
 * Returns how many were read. */
unsigned ngsrv_recv(struct ngsrv *s, unsigned budget);

/*
 * Answer datagram <msg>/<len> received at <now_ms>: the reply in
 * *replyp (inside <s>, valid until the next call) and its length, or 0
 * when the datagram must be dropped or is a retransmit of a command
 * whose reply is parked (ngsrv_set_workers()). ngsrv_recv() uses it
 * and parks or sends the reply; tests call it directly.
 */
size_t ngsrv_process(struct ngsrv *s, const char *msg, size_t len,
		     uint64_t now_ms, const char **replyp);

/*
 * Answer each command only once the workers it was queued to have
 * applied it (ngack.h): ngsrv_recv() notes worker_queued() of each of
 * the <n> <workers> (owned by the caller, who keeps them until
 * ngsrv_stop()) around every command and parks the reply of one that
 * queued anything. Startup only. Returns 0, EINVAL or ENOMEM.
 */
int  ngsrv_set_workers(struct ngsrv *s, struct worker **workers,
		       uint32_t n);

/*
 * Send the parked replies whose commands the workers have applied, and
 * those held too long. Call it when a worker's wake-up eventfd fires
 * (after reading it) and on the tick. Returns how many were sent.
 */
unsigned ngsrv_ack(struct ngsrv *s, uint64_t now_ms);

/* Once a second: expire cookie-cache entries. */
void ngsrv_tick(struct ngsrv *s, uint64_t now_ms);

void ngsrv_counters(const struct ngsrv *s, struct ngsrv_ctr *c);
/* Serve offer/answer/delete/query/list from <calls>. */
void ngsrv_set_calls(struct ngsrv *s, struct calls *calls);
/* The dispatcher's counters (requests per command, errors). */
const struct ngcmd *ngsrv_cmd(const struct ngsrv *s);

#endif
