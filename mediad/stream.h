/* mediad/stream.h  One leg's media stream: handed from control to worker */
#ifndef MEDIAD_STREAM_H
#define MEDIAD_STREAM_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rtp.h"

struct srtpx;                         /* SRTP session (srtpx.h) */

/*
 * A stream is one leg of a call on the relay: its RTP and RTCP sockets
 * and where the leg's peer is. The control thread owns the pool (two
 * per call, allocated at start), binds the sockets and fills <cfg>;
 * WORKER_CMD_STREAM_ADD hands the stream to the call's worker, which
 * from then on owns every field below "worker only". Later changes go
 * through <next>: the control thread writes it while <pending> is 0,
 * sets <pending> and queues WORKER_CMD_STREAM_UPDATE; the worker copies
 * <next> into <cfg> and clears <pending> (release). WORKER_CMD_STREAM_DEL
 * makes the worker cancel its receives; once nothing of the stream is
 * in flight it stores STREAM_DEAD in <state> (release) and the control
 * thread, polling, may close the sockets and reuse the ports.
 *
 * The struct is public because both threads touch it, each its own
 * part; the ownership rules above are the whole contract.
 */

enum stream_state {
	STREAM_IDLE = 0,       /* control thread's */
	STREAM_LIVE,           /* the worker's */
	STREAM_DEAD,           /* the worker let go: control's again */
};

enum stream_xc {
	STREAM_XC_NONE = 0,
	STREAM_XC_U2A,         /* PCMU received here, PCMA sent on */
	STREAM_XC_A2U,
};

#define STREAM_PT_ANY  0xff    /* no payload-type mapping */
#define STREAM_UFRAG_MAX 64    /* a peer's ICE ufrag we take (RFC 8839:
                                  4..256 chars) */
#define STREAM_OWN_UFRAG_MAX 16  /* ours (call.h: CALL_UFRAG_LEN) */
#define STREAM_OWN_PWD_MAX   32  /* ours (call.h: CALL_PWD_LEN) */

union stream_addr {
	struct sockaddr     sa;
	struct sockaddr_in  in;
	struct sockaddr_in6 in6;
};

/* What the signalling says about this leg. */
/* FNV-1a 64 of a peer's ICE ufrag (stream_cfg.rufrag_h). */
static inline uint64_t stream_ufrag_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--) {
		h ^= (uint8_t)*p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

struct stream_cfg {
	union stream_addr sdp_rtp;    /* from its SDP; family 0: none yet */
	union stream_addr sdp_rtcp;
	bool     send;                /* its direction lets it receive */
	bool     asymmetric;          /* send to the SDP address, no latch */
	bool     strict;              /* strict-source: drop other sources */
	bool     rtcp_mux;            /* RTCP on its RTP port, both ways */
	uint8_t  xc;                  /* enum stream_xc, packets it sends us */
	uint8_t  pt_in, pt_out;       /* media PT it sends -> PT sent on */
	uint8_t  te_in, te_out;       /* telephone-event */
	uint32_t clock;               /* RTP clock of what it sends */
	/*
	 * SDES-SRTP (sdes.h): <srtp> says its endpoint speaks SRTP; then
	 * what it sends is unprotected with <srtp_in> (its key) and what
	 * we send it is protected with <srtp_out> (ours). NULL while not
	 * negotiated yet: its packets are dropped, none sent to it. The
	 * control thread creates the sessions and frees them only once
	 * the worker cannot use them any more (call.c: retired list).
	 */
	bool     srtp;
	struct srtpx *srtp_in, *srtp_out;
	/*
	 * WebRTC (webrtc.c). <ice>: STUN Binding requests on its sockets
	 * are answered (ICE-lite) when USERNAME is "<ufrag>:<rufrag>" (any
	 * <rufrag> while it is not known: its answer is not in yet; the
	 * peer's part is compared by length and stream_ufrag_hash(), which
	 * is enough since MESSAGE-INTEGRITY is what authenticates) and
	 * MESSAGE-INTEGRITY verifies with <pwd>; a valid check latches
	 * its source. <dtls>: DTLS records on its RTP socket go to the
	 * control thread (relay.h: the DTLS queue), which runs the
	 * handshake and sets <srtp_in>/<srtp_out> from its keys.
	 */
	bool     ice;
	bool     dtls;
	uint8_t  ufrag_len, rufrag_len, pwd_len;
	char     ufrag[STREAM_OWN_UFRAG_MAX];
	char     pwd[STREAM_OWN_PWD_MAX];
	uint64_t rufrag_h;            /* stream_ufrag_hash() of <rufrag> */
};

#define STREAM_RETIRED_MAX 8

struct stream {
	/* set by the control thread before ADD, constant afterwards */
	struct stream *peer;          /* the call's other leg */
	int      fd_rtp, fd_rtcp;
	uint32_t call_idx;            /* shm_session index */
	uint32_t call_gen;            /* its call's generation (DTLS queue) */
	uint8_t  leg;                 /* 0: offerer side, 1: answerer */
	struct stream_cfg next;       /* control writes while !pending */
	_Atomic uint32_t pending;
	_Atomic uint32_t state;       /* enum stream_state */

	/* worker only */
	void    *wk;                  /* the owning relay (relay.c) */
	struct stream_cfg cfg;
	union stream_addr peer_rtp;   /* latched, or from SDP */
	union stream_addr peer_rtcp;
	struct msghdr rmsg;           /* template of the multishot recvmsg */
	struct rtp_stats stats;
	struct stream *lnext, *lprev; /* the worker's live list */
	struct stream *rnext;         /* re-arm list (-ENOBUFS) */
	void    *rslot[2];            /* armed receives: RTP, RTCP */
	uint64_t last_rx_ns;          /* any packet */
	uint64_t latch_ns;            /* last packet from the latched peer */
	uint32_t inflight;            /* receives + sends using it */
	uint32_t ssrc;
	uint32_t lost_pub;            /* lost already added to shm_worker */
	bool     latched, latched_rtcp;
	bool     have_ssrc;
	bool     dying;
	bool     timed_out;
	uint8_t  rearm;               /* bit per socket: re-arm at turn end */

	/* the worker writes, anyone reads: the latched RTP peer, as
	 * 32-bit words under a sequence count (odd: being written) */
	_Atomic uint32_t lseq;
	_Atomic uint32_t lpub[8];     /* a union stream_addr; family 0:
	                                 none latched */

	/* control thread only */
	bool     del_retry;           /* a DEL the queue refused */
	bool     retire_armed;        /* an UPDATE that drops <retired> went */
	uint8_t  nretired;
	struct srtpx *retired[STREAM_RETIRED_MAX]; /* the worker may
	                                 still use them: freed later */
};

_Static_assert(sizeof(union stream_addr) <= 8 * sizeof(uint32_t),
	       "lpub holds a union stream_addr");

/* Worker: publish <a> (family 0: none) as the latched peer of <st>. */
static inline void stream_latch_publish(struct stream *st,
					const union stream_addr *a)
{
	uint32_t w[8] = { 0 }, seq;
	unsigned i;

	__builtin_memcpy(w, a, sizeof(*a));
	seq = atomic_load_explicit(&st->lseq, memory_order_relaxed);
	atomic_store_explicit(&st->lseq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < 8; i++)
		atomic_store_explicit(&st->lpub[i], w[i],
				      memory_order_relaxed);
	atomic_store_explicit(&st->lseq, seq + 2, memory_order_release);
}

/* Any thread: the latched peer of <st> into *<a>. False when none (or
 * the worker kept rewriting it). */
static inline bool stream_latched(const struct stream *st,
				  union stream_addr *a)
{
	uint32_t w[8], s1, s2;
	unsigned i, tries;

	for (tries = 0; tries < 8; tries++) {
		s1 = atomic_load_explicit(&st->lseq, memory_order_acquire);
		if (s1 & 1)
			continue;
		for (i = 0; i < 8; i++)
			w[i] = atomic_load_explicit(&st->lpub[i],
						    memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&st->lseq, memory_order_relaxed);
		if (s1 == s2) {
			__builtin_memcpy(a, w, sizeof(*a));
			return a->sa.sa_family != 0;
		}
	}
	return false;
}

#endif
