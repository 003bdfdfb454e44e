/* mediad/relay.h  The packet path: receive, latch, rewrite, send */
#ifndef MEDIAD_RELAY_H
#define MEDIAD_RELAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"

struct io_uring;
struct io_uring_buf_ring;
struct slot_tbl;
struct shm_worker;
struct shm_session;
struct shm_ring;
struct stream;
struct sendctx;

#include "stream.h"

/*
 * A DTLS datagram a worker hands to the control thread (which runs the
 * handshakes, dtls.h). The queue is per worker, single producer (the
 * worker) and single consumer (the control thread), RELAY_DTLSQ
 * entries, copied in and out; full means the datagram is dropped and
 * counted (DTLS retransmits). The worker writes <wake_fd> (an eventfd
 * the control thread polls) once per loop turn that queued something.
 */
#define RELAY_DTLSQ       256
#define RELAY_DGRAM_MAX   1500

struct relay_dgram {
	struct stream *st;         /* the leg it came in on */
	uint32_t call_gen;         /* st->call_gen at the time */
	uint16_t len;
	union stream_addr src;
	uint8_t  data[RELAY_DGRAM_MAX];
};

/*
 * One worker's relay: its provided-buffer ring (4096 x 2048 bytes by
 * default), one send context per buffer, and the streams handed to the
 * worker (stream.h). Everything runs on the worker's thread, on the
 * worker's io_uring and slot table; nothing allocates after
 * relay_init(). Each socket of a live stream has a multishot recvmsg
 * armed (IOSQE_BUFFER_SELECT); a received datagram is checked, its
 * source latched, rewritten in place and sent from the other leg's
 * socket with sendmsg from the very same buffer, which goes back to
 * the ring from the send's completion. Buffers recycled during a loop
 * turn are published at its end (relay_turn_end()).
 *
 * Embed it in the worker; members are private to relay.c.
 */
struct relay {
	struct io_uring *ring;
	struct slot_tbl *slots;
	struct shm_worker *stats;
	uint32_t idx;
	struct log_limit ll;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;             /* nbufs x bufsz, the ring's buffers */
	uint32_t nbufs, bufsz;
	uint32_t br_adds;          /* recycled this turn, not yet published */
	bool have_br;
	struct sendctx *sends;     /* [nbufs] */
	uint32_t nsends;           /* sends in flight */
	struct stream *live;       /* streams relayed */
	struct stream *rearm;      /* receives ended by -ENOBUFS */
	struct shm_session *sess;  /* [nsess], per call */
	uint32_t nsess;
	struct shm_ring *events;   /* the worker's ring to sbc, or NULL */
	_Atomic uint32_t timeout_s;
	_Atomic uint64_t timeouts; /* calls reported timed out */
	_Atomic uint64_t srtp_auth_fail;  /* SRTP/SRTCP failing its tag */
	_Atomic uint64_t srtp_replay;     /* replayed or too old */
	_Atomic uint64_t srtp_error;      /* no session yet, no tailroom */
	_Atomic uint64_t stun_ok;         /* Binding requests answered */
	_Atomic uint64_t stun_fail;       /* refused: 400/401, dropped */
	_Atomic uint64_t dtls_in;         /* DTLS records queued to control */
	_Atomic uint64_t dtls_drop;       /* not for DTLS, or queue full */
	_Atomic uint64_t demux_drop;      /* first byte neither STUN, DTLS
	                                     nor RTP/RTCP (RFC 7983) */
	struct relay_dgram *dq;    /* [RELAY_DTLSQ] */
	_Atomic uint32_t dq_head;  /* consumer: next to read */
	_Atomic uint32_t dq_tail;  /* producer: next to write */
	int      wake_fd;
	bool     wake;             /* queued this turn: write wake_fd */
};

struct relay_prm {
	struct io_uring *ring;     /* the worker's */
	struct slot_tbl *slots;    /* the worker's */
	struct shm_worker *stats;
	uint32_t idx;              /* for logs */
	struct shm_session *sessions;
	uint32_t nsessions;
	struct shm_ring *events;
	uint32_t timeout_s;        /* media timeout; 0: none */
	uint32_t nbufs;            /* power of two; 0: 4096 */
	uint32_t bufsz;            /* 0: 2048 */
	int      wake_fd;          /* DTLS queue wake-up; -1: none */
};

/* Startup only: allocate the buffers and register them with <ring> as
 * buffer group 0. Returns 0 or an errno; relay_fini() undoes either. */
int  relay_init(struct relay *r, const struct relay_prm *prm);
/* After the ring has no request in flight: unregister and free. */
void relay_fini(struct relay *r);

/* WORKER_CMD_STREAM_ADD: <st> becomes the worker's; its receives are
 * armed. */
void relay_add(struct relay *r, struct stream *st);
/* WORKER_CMD_STREAM_UPDATE: take <st>'s <next> config. */
void relay_update(struct relay *r, struct stream *st);
/* WORKER_CMD_STREAM_DEL: stop relaying <st>; STREAM_DEAD once nothing
 * of it is in flight. At leg 0 the call's SHM_EV_CALL_STATS goes out. */
void relay_del(struct relay *r, struct stream *st);
/* Stopping: relay_del() every live stream. */
void relay_stop(struct relay *r);

/* End of a loop turn: publish recycled buffers, re-arm what -ENOBUFS
 * ended. */
void relay_turn_end(struct relay *r);
/* Once a second: shm lost/jitter, media timeouts, failed re-arms. */
void relay_scan(struct relay *r, uint64_t now_ns);

uint32_t relay_sends(const struct relay *r);
void     relay_set_timeout(struct relay *r, uint32_t seconds);
uint64_t relay_timeouts(const struct relay *r);

/* Control thread: the oldest queued DTLS datagram into *<d>; false
 * when the queue is empty. */
bool     relay_dtls_pop(struct relay *r, struct relay_dgram *d);

struct relay_wctr {
	uint64_t stun_ok, stun_fail, dtls_in, dtls_drop, demux_drop;
};
/* WebRTC counters (any thread: relaxed loads). */
void     relay_webrtc_counters(const struct relay *r, struct relay_wctr *w);
/* SRTP drops (any thread: relaxed loads). */
void     relay_srtp_counters(const struct relay *r, uint64_t *auth_fail,
			     uint64_t *replay, uint64_t *error);

#endif
