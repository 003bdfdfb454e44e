/* mediad/worker.h  Media worker: one thread, one io_uring, one command queue */
#ifndef MEDIAD_WORKER_H
#define MEDIAD_WORKER_H

#include <stdint.h>

struct worker;
struct shm_worker;

/*
 * A worker owns its ring, its slot table and (later) its sessions and
 * their sockets; nothing of it is shared except the command queue,
 * which only the control thread writes, and the counters in shm, which
 * only the worker writes. It sleeps in io_uring_submit_and_wait_timeout()
 * and wakes on a completion, on its tick, or on a command: worker_cmd()
 * queues the command and writes the worker's eventfd, on which a read
 * is always armed in the ring.
 */

enum worker_cmd {
	WORKER_CMD_NONE = 0,
	WORKER_CMD_STOP,      /* cancel every request, reap, leave the loop */
	WORKER_CMD_SYNC,      /* publish <arg>: worker_synced() returns it */
	WORKER_CMD_STREAM_ADD,    /* ptr: struct stream, now the worker's */
	WORKER_CMD_STREAM_UPDATE, /* ptr: its <next> config is ready */
	WORKER_CMD_STREAM_DEL,    /* ptr: stop; STREAM_DEAD when let go */
};

struct worker_prm {
	uint32_t idx;             /* worker number, for logs */
	uint32_t ring_entries;    /* SQ entries; 0: 256 */
	uint32_t nslots;          /* requests in flight; 0: 2 * entries */
	uint32_t queue_size;      /* commands, a power of two; 0: 1024 */
	uint32_t tick_ms;         /* timer granularity; 0: 100 */
	struct shm_worker *stats; /* counters in shm; NULL: private ones */
	struct shm_session *sessions; /* per-call counters, [nsessions] */
	uint32_t nsessions;
	struct shm_ring *events;  /* this worker's event ring, or NULL */
	uint32_t timeout_s;       /* media timeout; 0: none */
	uint32_t nbufs;           /* packet buffers, power of two; 0: 4096 */
	uint32_t bufsz;           /* bytes each; 0: 2048 */
	int      wake_fd;         /* the control thread's eventfd, written
	                             when DTLS datagrams are queued
	                             (relay.h) and when commands were
	                             applied (ngack.h); -1 or 0: none */
};

/*
 * Set up a worker from <prm> (ring, slots, queue, eventfd: every
 * allocation it will ever make) and start its thread, with all signals
 * blocked. Returns 0 and *wp, or an errno with nothing left behind:
 * ENOSYS or EPERM mean io_uring is not available here (old kernel,
 * seccomp, kernel.io_uring_disabled).
 */
int  worker_start(struct worker **wp, const struct worker_prm *prm);

/*
 * Control thread only (the queue has one producer): queue <cmd> with
 * <arg> and wake the worker. Returns 0, ENOSPC when the queue is full
 * (the caller refuses the work rather than wait), or ESHUTDOWN once
 * WORKER_CMD_STOP has been queued.
 */
int  worker_cmd(struct worker *w, enum worker_cmd cmd, uint64_t arg);

/*
 * Control thread only: queue stream command <cmd> about <ptr> (a
 * struct stream, see stream.h for who owns what when). Returns 0,
 * ENOSPC (queue full: refuse the call) or ESHUTDOWN.
 */
int  worker_cmd_ptr(struct worker *w, enum worker_cmd cmd, void *ptr);

/* Media timeout in seconds from now on (config reload). */
void worker_set_timeout(struct worker *w, uint32_t seconds);

/*
 * Stop <w>: queue WORKER_CMD_STOP, join the thread (the worker cancels
 * and reaps every request first, so the kernel writes into nothing we
 * free), then free it. Safe on NULL.
 */
void worker_stop(struct worker *w);

/*
 * Acknowledgement of commands: the worker counts the commands it has
 * handled and publishes the count (release) at the end of each loop
 * turn that handled any, then writes <wake_fd>. Command n (from 1) is
 * in effect once worker_applied() has reached n, compared as in
 * ngack_reached() (both counters wrap).
 *
 * worker_queued(): control thread only, the commands queued so far, so
 * the last one queued is number worker_queued(). worker_applied(): any
 * thread, with acquire: what the command's handler wrote is visible.
 */
uint32_t worker_queued(const struct worker *w);
uint32_t worker_applied(const struct worker *w);
/* The last WORKER_CMD_SYNC argument the worker has handled. */
uint64_t worker_synced(const struct worker *w);
/* clock_ms() of the worker's last tick: a stuck worker stops moving it. */
uint64_t worker_beat_ms(const struct worker *w);
/* Calls the worker reported as timed out (media_timeout). */
uint64_t worker_timeouts(const struct worker *w);
/* SRTP packets dropped: failed authentication, replays, the rest. */
void     worker_srtp_counters(const struct worker *w, uint64_t *auth_fail,
			      uint64_t *replay, uint64_t *error);
struct relay_dgram;
struct relay_wctr;
/* Control thread: the oldest DTLS datagram the worker queued. */
bool     worker_dtls_pop(struct worker *w, struct relay_dgram *d);
void     worker_webrtc_counters(const struct worker *w,
				struct relay_wctr *c);
/* Commands the worker has handled. */
uint64_t worker_ncmds(const struct worker *w);

#endif
