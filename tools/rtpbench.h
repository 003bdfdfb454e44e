/* tools/rtpbench.h  Types shared by the parts of the rtpbench load generator */
#ifndef TOOLS_RTPBENCH_H
#define TOOLS_RTPBENCH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define RB_PAYLOAD    160                      /* 20 ms of G.711 */
#define RB_RTP_HDR    12
#define RB_PKT_LEN    (RB_RTP_HDR + RB_PAYLOAD)
#define RB_PERIOD_NS  20000000ull              /* one packet per leg */
#define RB_SLOTS      20                       /* 1 ms sub-ticks */
#define RB_RING       256                      /* send times kept per leg */
#define RB_PT_PCMU    0
#define RB_PT_PCMA    8

/*
 * SDES-SRTP (--srtp): AES_CM_128_HMAC_SHA1_80 on leg A. A packet grows
 * by the 10-byte tag; a leg's send buffer keeps room for the largest
 * SRTP trailer (checked against SRTPX_TAILROOM in rtpbench_srtp.c).
 */
#define RB_SRTP_KEYLEN  30                     /* 128-bit key, 112-bit salt */
#define RB_SRTP_B64LEN  40                     /* the key in a=crypto */
#define RB_SRTP_TAG     10
#define RB_PKT_ROOM     (RB_PKT_LEN + 160)
#define RB_SRTP_SAMPLE  64                     /* time 1 srtpx call in 64 */

/*
 * Latency histogram: 1 us buckets below 10 ms, 100 us buckets up to
 * 1 s, one overflow bucket. Fine where the criterion lives (p99 < 5 ms),
 * coarse where only "it was bad" matters.
 */
#define RB_HIST_FINE    10000
#define RB_HIST_COARSE  9900
#define RB_HIST_N       (RB_HIST_FINE + RB_HIST_COARSE + 1)

/* Send time of one packet, looked up by RTP sequence number on receipt. */
struct rb_sent {
	uint64_t ns;           /* CLOCK_REALTIME; 0: slot free or consumed */
	uint16_t seq;
	uint8_t  in_win;       /* sent inside the measured window */
	uint8_t  pad;
};

/*
 * One side of a call. A leg owns its socket, bound on 127.0.0.1 at a
 * port of its own, because a relay latches each side on its source
 * address. Both legs of a stream belong to the same worker thread, so
 * the receiver reads its peer's send ring without locks.
 */
struct srtpx;

struct rb_leg {
	int      fd;
	uint16_t lport;
	uint8_t  side;         /* 0: A (caller), 1: B (callee) */
	uint8_t  pt_tx;        /* payload type this leg sends */
	uint8_t  pt_rx;        /* payload type it must receive */
	uint32_t stream;
	struct sockaddr_in relay;   /* where this leg sends */
	struct rb_leg *peer;

	/*
	 * SRTP sessions, NULL on a plain leg. Both are used only by the
	 * leg's worker; made before the workers start, freed after join.
	 */
	struct srtpx *srtp_tx;
	struct srtpx *srtp_rx;

	/* sender; <mh>/<iov>/<pkt> stay valid while a send is in flight */
	uint32_t ssrc;
	uint16_t seq;          /* next sequence number */
	uint16_t last_seq;     /* last one sent */
	uint32_t ts;
	bool     sent_any;
	struct msghdr mh;
	struct iovec  iov;
	uint8_t  pkt[RB_PKT_ROOM];

	/* receiver */
	bool     rx_started;
	bool     off_learned;
	uint8_t  miss_run;
	uint16_t rx_max;       /* highest sequence number received */
	uint16_t seq_off;      /* relay seq + off = our seq (0 if kept) */
	uint32_t rx_errs;
	bool     jit_init;
	double   transit;      /* RFC 3550 A.8, in timestamp units */
	double   jitter;

	struct rb_sent ring[RB_RING];
};

/* Counters of one worker. One writer (the worker), racy readers. */
struct rb_stats {
	uint64_t sent;         /* sent in the window */
	uint64_t recv;         /* of those, received once */
	uint64_t dup;
	uint64_t reorder;
	uint64_t stray;        /* RTP we could not match to a send */
	uint64_t bad;          /* wrong payload type or garbled payload */
	uint64_t other;        /* not RTP of our size (RTCP, ...) */
	uint64_t nobufs;       /* receive buffer ring ran dry */
	uint64_t tx_err;
	uint64_t rx_err;
	uint64_t remap;        /* relay rewrote sequence numbers */
	uint64_t auth_fail;    /* SRTP tag did not verify, send in the window */
	uint64_t auth_fail_all;   /* same, warm-up and unmatched included */
	uint64_t srtp_err;     /* other unprotect/protect failures */
	uint64_t srtp_ns;      /* time in srtpx, 1 call in RB_SRTP_SAMPLE */
	uint64_t srtp_samples;
	uint64_t sent_all;     /* every packet, warm-up included */
	uint64_t recv_all;
	uint64_t lat_max_ns;
	uint64_t lag_max_ns;
	double   jit_sum_ms;   /* filled at the end */
	double   jit_max_ms;
	uint64_t jit_n;
	uint64_t lat[RB_HIST_N];
	uint64_t lag[RB_HIST_N];   /* how late sends left vs. schedule */
};

/* Schedule of one run, CLOCK_MONOTONIC ns, fixed before workers go. */
struct rb_times {
	uint64_t t0;           /* first sub-tick */
	uint64_t win_start;    /* warm-up over */
	uint64_t win_end;      /* last packet sent before this */
	uint64_t drain_end;    /* workers stop */
};

struct rb_engine;

/*
 * Start <nthreads> workers over <legs>/<nlegs> (pairs: leg 2i is A and
 * 2i+1 is B of stream i), at SCHED_FIFO priority <rt_prio> when it is
 * above 0. Each worker sets up its io_uring and arms the receives; the
 * call returns once all are ready or one failed.
 * On success *engp owns the workers; the legs stay the caller's and
 * must outlive rb_engine_free(). Returns 0 or an errno.
 */
int  rb_engine_start(struct rb_engine **engp, struct rb_leg *legs,
		     unsigned nlegs, unsigned nthreads, int rt_prio);
/* Let the workers run the schedule <tm>. */
void rb_engine_go(struct rb_engine *eng, const struct rb_times *tm);
/* Ask the workers to stop sending now and drain (signal, soak end). */
void rb_engine_stop(struct rb_engine *eng);
/* Racy sum of the live counters into <st> (progress lines). */
void rb_engine_peek(struct rb_engine *eng, struct rb_stats *st);
/*
 * Join the workers, sum their final counters into <st>, release the
 * rings. Returns the first worker error (0 if none).
 */
int  rb_engine_join(struct rb_engine *eng, struct rb_stats *st);
void rb_engine_free(struct rb_engine *eng);

void     rb_hist_add(uint64_t *h, uint64_t ns);
uint64_t rb_hist_pct(const uint64_t *h, double pct);
/* Add counters and histograms of <src> (not the jitter: join does). */
void     rb_stats_add(struct rb_stats *dst, const struct rb_stats *src);

/* Prepare <leg>'s packet template and tone for payload type <pt_tx>. */
void rb_leg_prepare(struct rb_leg *leg, uint32_t ssrc);

uint64_t rb_mono_ns(void);
uint64_t rb_real_ns(void);

/* NG client (rtpbench_ng.c) */
struct rb_ng;

/*
 * Open an NG client toward <addr>. <tmo_ms> is one try's timeout, and
 * a command is sent up to three times with the same cookie.
 */
int  rb_ng_open(struct rb_ng **ngp, const struct sockaddr_in *addr,
		unsigned tmo_ms);
void rb_ng_close(struct rb_ng *ng);
/* 0 on "pong"; else an errno and <err> says why. */
int  rb_ng_ping(struct rb_ng *ng, char *err, size_t errsz);

struct rb_call_prm {
	const char *callid;
	const char *from_tag;
	const char *to_tag;
	uint16_t    port_a;        /* where A receives */
	uint16_t    port_b;
	uint8_t     pt_a;          /* codec A offers */
	uint8_t     pt_b;          /* codec B answers */
	bool        transcode;     /* ask the relay to add pt_b toward B */
	/*
	 * SDES on leg A: offer RTP/SAVP with a=crypto <key_a> and ask for
	 * plain RTP/AVP toward B (transport-protocol, rtpengine's flag).
	 */
	bool        srtp;
	const uint8_t *key_a;      /* RB_SRTP_KEYLEN bytes, with srtp */
};

/*
 * Offer then answer one call. On success <relay_a> is where A must
 * send and <relay_b> where B must send; with prm->srtp, <rkey_a>
 * (RB_SRTP_KEYLEN bytes) receives the relay's key for what it sends
 * to A. Returns 0; EPROTO when the relay answered an error (reason in
 * <err>); ETIMEDOUT, EBADMSG, ... otherwise. <refusedp> is set when
 * the offer itself was refused (or the relay cannot do what we asked:
 * a missing codec, RTP/SAVP kept toward B).
 */
int  rb_ng_call(struct rb_ng *ng, const struct rb_call_prm *prm,
		struct sockaddr_in *relay_a, struct sockaddr_in *relay_b,
		uint8_t *rkey_a, bool *refusedp, char *err, size_t errsz);
/* Delete call <callid>; errors are only counted by the caller. */
int  rb_ng_delete(struct rb_ng *ng, const char *callid,
		  const char *from_tag);

/* SDES keys and sessions (rtpbench_srtp.c) */

/* Once, before any session (nothing to do now). Returns 0. */
int  rb_srtp_init(void);
/* Fill <key> with RB_SRTP_KEYLEN random bytes. Returns 0 or an errno. */
int  rb_srtp_keygen(uint8_t *key);
/* <key> in base64 into <out> (at least RB_SRTP_B64LEN + 1 bytes). */
void rb_srtp_key_print(const uint8_t *key, char *out);
/*
 * Parse the key-params of an a=crypto line, "inline:<b64>[|life]":
 * one key, no MKI. Returns 0 and <key>, or EINVAL / ENOTSUP with <why>.
 */
int  rb_srtp_key_parse(const char *params, uint8_t *key, char *why,
		       size_t whysz);
/*
 * Sessions of SRTP leg <leg>: it protects with <tx_key> and its own
 * SSRC, and unprotects with <rx_key>; the stream for the SSRC the peer
 * sends (<rx_ssrc>, which a relay normally keeps) is made now, so a
 * packet allocates nothing, and another SSRC is cloned from a template
 * once. On error the leg has no sessions. Returns 0 or an errno.
 */
int  rb_srtp_leg_open(struct rb_leg *leg, const uint8_t *tx_key,
		      const uint8_t *rx_key, uint32_t rx_ssrc);
void rb_srtp_leg_close(struct rb_leg *leg);

#endif
