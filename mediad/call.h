/* mediad/call.h  Calls: fixed pool, call-id hash, ports, stream hand-off */
#ifndef MEDIAD_CALL_H
#define MEDIAD_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dtls.h"
#include "sdes.h"
#include "sdp.h"
#include "stream.h"

/*
 * The control thread's view of calls. Everything is allocated by
 * calls_init() from the port range: (port_max - port_min + 1) / 4
 * calls, two legs (streams) each, an RTP/RTCP port pair per leg. A call
 * is pinned to one worker: both its pairs come from that worker's
 * slice of the range, so the relay between its legs never crosses
 * threads. Control thread only; the workers see streams (stream.h).
 *
 * struct call is public because the NG handlers (ng_call.c) read and
 * fill it; allocate, find and delete only through the calls_* verbs.
 * A pointer is borrowed for the length of one NG command; anything
 * that keeps a call across time keeps a struct call_handle.
 */

#define CALL_ID_MAX   128     /* longer call-ids are refused */
#define CALL_TAG_MAX  64
#define CALL_FMT_MAX  16      /* offer formats remembered for the answer */
#define CALL_SDES_MAX 2       /* a=crypto lines mediad offers a leg */
#define CALL_MID_MAX  32
#define CALL_UFRAG_LEN 8      /* our ICE ufrag toward a leg */
#define CALL_PWD_LEN  24      /* our ICE password (RFC 8839: >= 22) */

struct calls;
struct worker;
struct shm_session;

struct call_handle {
	uint32_t idx;
	uint32_t gen;             /* 0 never names a call */
};

enum call_state {
	CALL_FREE = 0,
	CALL_ACTIVE,
	CALL_DYING,               /* deleted: waiting for the worker */
};

/* One payload format of the last offer (see sdp_codec_decide()). */
struct call_fmt {
	char     enc[24];
	char     params[32];      /* a=fmtp, truncated */
	uint32_t clock;
	uint16_t channels;
	uint8_t  pt;
	uint8_t  flags;           /* SDP_FMT_* */
};

struct call_leg {
	char     tag[CALL_TAG_MAX];    /* "" until known */
	uint16_t port;                 /* our RTP port facing this leg */
	enum sdp_dir dir;              /* its last SDP's direction */
	struct sdp_vstate vs;          /* o= version of SDP sent to it */
	union stream_addr addr;        /* its SDP RTP address */
	bool     have_sdp;
	/* SDES-SRTP toward this leg (ng_call.c) */
	enum sdp_proto proto;          /* profile of its offer (0: none) */
	bool     srtp;                 /* it speaks SRTP (offered/agreed) */
	bool     have_peer;            /* <peer>: its inbound session's key */
	bool     have_out;             /* <out_key>: our outbound session's */
	uint8_t  nours;
	struct sdes_key peer;          /* its key */
	struct sdes_key out_key;
	struct sdes_key ours[CALL_SDES_MAX]; /* offered to it; [0] agreed */
	/* WebRTC toward this leg (webrtc.c) */
	struct call *call;             /* back: the call holding this leg */
	uint8_t  idx;                  /* 0 or 1 */
	bool     ice;                  /* we are its ICE-lite peer */
	bool     dtls;                 /* DTLS-SRTP: keys from a handshake */
	bool     mux;                  /* a=rtcp-mux in what we send it */
	bool     mux_offered;          /* its own offer had a=rtcp-mux */
	bool     mux_req;              /* rtcp-mux require: muxed at once */
	bool     bundle;               /* a=group:BUNDLE in what we send it */
	bool     have_fp;              /* <fp> is its a=fingerprint */
	bool     dfail_logged;
	enum sdp_setup setup;          /* our a=setup toward it */
	enum dtls_state dstate;
	struct dtls_fp fp;
	struct dtls_conn *dc;          /* its DTLS association, or NULL */
	union stream_addr dpeer;       /* where its DTLS records come from */
	char     mid[CALL_MID_MAX];    /* a=mid in what we send it, "" none */
	char     ufrag[CALL_UFRAG_LEN + 1];  /* ours, kept across offers */
	char     pwd[CALL_PWD_LEN + 1];
	char     rufrag[STREAM_UFRAG_MAX];   /* its ufrag, "" not known */
};

struct call {
	uint32_t gen;
	uint32_t hnext;                /* hash chain, UINT32_MAX: end */
	uint32_t dnext;                /* dying list */
	uint32_t worker;
	enum call_state state;
	bool     started;              /* streams handed to the worker */
	bool     answered;
	bool     transcoding;          /* the answer's plan converts */
	uint8_t  offerer;              /* leg of the last offer: 0 or 1 */
	uint8_t  nfmt;
	char     id[CALL_ID_MAX];
	uint64_t created_ms;
	uint64_t delete_at_ms;         /* 0: not scheduled */
	struct call_leg leg[2];        /* 0: the first offer's from-tag */
	struct call_fmt fmt[CALL_FMT_MAX];
	struct calls *owner;
};

struct calls_prm {
	uint32_t port_min, port_max;
	uint32_t nworkers;
	struct worker **workers;       /* NULL: no relay (unit tests) */
	const struct sockaddr *media_ip; /* sockets bind here (port 0) */
	socklen_t media_len;
	const char *advertised;        /* written into SDP */
	struct shm_session *sessions;  /* [ncalls] or NULL */
	uint32_t delete_delay;         /* seconds, default of NG delete */
	struct dtls *dtls;             /* certificate for DTLS-SRTP; NULL:
	                                  none (UDP/TLS is refused) */
};

/* Counters for "statistics" and tests. */
struct calls_ctr {
	uint32_t ncalls;               /* pool size */
	uint32_t active;
	uint32_t dying;
	uint64_t created;
	uint64_t rejected;             /* out of ports or calls */
	uint64_t deleted;
	uint32_t transcoding;          /* active calls that transcode */
	uint32_t ports_free;           /* RTP/RTCP pairs */
	uint64_t dtls_up;              /* handshakes that gave keys */
	uint64_t dtls_failed;          /* failed, fingerprint mismatch
	                                  included: the leg is ended */
};

/* Startup only: pools for <prm>. Returns 0 and *cp, or an errno. */
int  calls_init(struct calls **cp, const struct calls_prm *prm);
/* Close every socket and free everything; the workers are stopped
 * already. Safe on NULL. */
void calls_fini(struct calls *c);

/* SDP address, delete-delay default (reload). */
void calls_set_advertised(struct calls *c, const char *addr);
const char *calls_advertised(const struct calls *c);
uint32_t calls_delete_delay(const struct calls *c);
void calls_set_delete_delay(struct calls *c, uint32_t seconds);

/* The live call named <id>/<len>, or NULL. */
struct call *calls_find(struct calls *c, const char *id, size_t len);
/*
 * A new call named <id>/<len> with both legs' ports bound, on the
 * worker with the most free ports. Returns 0 and *callp, ENOSPC (out of
 * ports or calls: "Ran out of ports"), ENAMETOOLONG, or an errno of
 * socket(). Nothing is handed to a worker until call_commit().
 */
int  call_new(struct calls *c, const char *id, size_t len,
	      struct call **callp);
/* Leg <leg>'s stream: the control thread writes only its <next>. */
struct stream *call_stream(struct calls *c, const struct call *call,
			   unsigned leg);
/* Before writing the streams' <next>: wait (bounded) until the worker
 * took the previous update. Returns 0 or EBUSY. */
int  call_edit(struct calls *c, struct call *call);
/*
 * Between call_edit() and call_commit(): set leg <leg>'s SRTP sessions
 * in its <next> (NULL: none), <srtp> whether its endpoint speaks SRTP.
 * The call owns <in> and <out> from now on (also on a failed commit);
 * the sessions they replace are freed once the worker cannot use them
 * any more. Returns 0, or EBUSY when too many replaced sessions wait
 * for the worker (nothing changed: the caller frees <in>/<out>).
 */
int  call_srtp_set(struct calls *c, struct call *call, unsigned leg,
		   bool srtp, struct srtpx *in,
		   struct srtpx *out);
/*
 * Hand both streams' <next> config to the worker: STREAM_ADD the first
 * time, STREAM_UPDATE afterwards. Returns 0 or ENOSPC/EBUSY when the
 * worker cannot take it now (refuse the command).
 */
int  call_commit(struct calls *c, struct call *call);
/*
 * Delete <call>: out of the hash at once (its call-id may start a new
 * call), its streams stopped; ports come back once the worker let go
 * (calls_tick()). <call> is dead to the caller afterwards.
 */
void call_delete(struct calls *c, struct call *call);
/* Schedule the deletion of <call> <secs> seconds from <now_ms>. */
void call_delete_at(struct calls *c, struct call *call, uint64_t at_ms);

struct call_handle call_handle(const struct calls *c,
			       const struct call *call);
/* The call behind <h>, or NULL when it is gone (stale generation). */
struct call *call_get(struct calls *c, struct call_handle h);

/* Next active call after *itp (start at 0), or NULL. */
struct call *calls_next(struct calls *c, uint32_t *itp);
/* Its counters in shm, or NULL. */
const struct shm_session *call_session(const struct calls *c,
				       const struct call *call);

/* Record whether <call> transcodes (for "statistics"). */
void call_set_transcoding(struct calls *c, struct call *call, bool on);

/* Once a second (and before allocating): scheduled deletes, and
 * reclaim calls whose streams the workers let go. */
void calls_tick(struct calls *c, uint64_t now_ms);
void calls_counters(const struct calls *c, struct calls_ctr *ctr);
/* The DTLS identity (or NULL) and the counters webrtc.c keeps. */
struct dtls *calls_dtls(const struct calls *c);
struct calls_ctr *calls_ctr_mut(struct calls *c);
/* Worker <idx> of the relay, NULL without one (unit tests). */
struct worker *calls_worker(const struct calls *c, uint32_t idx);


#endif
