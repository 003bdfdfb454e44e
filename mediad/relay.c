/* mediad/relay.c  The packet path: receive, latch, rewrite, send */
#include <errno.h>
#include <liburing.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "g711.h"
#include "sdes.h"
#include "log.h"
#include "shm.h"
#include "slot.h"
#include "stream.h"
#include "stun.h"
#include "relay.h"

#define BGID        0      /* the provided-buffer group of the ring */
#define RELATCH_NS  2000000000ull  /* quiet gap before re-latching */

/*
 * A send in flight. There is one per packet buffer: a received packet
 * goes to one sink, from the very buffer it arrived in, so the buffer
 * id indexes its send and the buffer returns to the ring only from the
 * send's completion.
 */
struct sendctx {
	struct slot s;             /* first: the CQE dispatches through it */
	struct stream *st;         /* whose socket sends */
	struct iovec iov;
	struct msghdr msg;
	union stream_addr dst;
	uint16_t bid;
};

/* Counters have one writer: a relaxed load and store, no locked add. */
static inline void ctr_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
			      + v, memory_order_relaxed);
}

/* An SQE, submitting what is queued if the SQ is full; NULL if even
 * that does not free one. */
static struct io_uring_sqe *get_sqe(struct relay *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(r->ring);

	if (!sqe) {
		io_uring_submit(r->ring);
		sqe = io_uring_get_sqe(r->ring);
	}
	return sqe;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Give buffer <bid> back; published once per loop turn. */
static inline void buf_recycle(struct relay *r, uint16_t bid)
{
	io_uring_buf_ring_add(r->br, r->bufs + (size_t)bid * r->bufsz,
			      r->bufsz, bid, io_uring_buf_ring_mask(r->nbufs),
			      (int)r->br_adds);
	++r->br_adds;
}

static void stream_dead(struct relay *r, struct stream *st)
{
	if (st->leg == 0)           /* a session is a call: count leg 0 */
		ctr_add(&r->stats->sessions, (uint64_t)-1);
	atomic_store_explicit(&st->state, STREAM_DEAD, memory_order_release);
}

/* Let <st> go once it is deleted and nothing of it is left anywhere. */
static void maybe_dead(struct relay *r, struct stream *st)
{
	if (st->dying && !st->inflight && !st->rearm)
		stream_dead(r, st);
}

static slot_done_h rx_done;

/* Arm the multishot receive of socket <which> (0 RTP, 1 RTCP) of <st>.
 * On failure the tick tries again. */
static void rx_arm(struct relay *r, struct stream *st, unsigned which)
{
	struct io_uring_sqe *sqe;
	struct slot *s;

	if (st->rslot[which] || st->dying)
		return;
	s = slot_get(r->slots, rx_done, st);
	if (!s)
		return;
	sqe = get_sqe(r);
	if (!sqe) {
		slot_put(r->slots, s);
		return;
	}
	s->u64 = which;
	io_uring_prep_recvmsg_multishot(sqe, which ? st->fd_rtcp : st->fd_rtp,
					&st->rmsg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data(sqe, s);
	st->rslot[which] = s;
	++st->inflight;
}

static bool addr_eq(const union stream_addr *a, const union stream_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
			a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->in6.sin6_port == b->in6.sin6_port &&
			!memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16);
	return false;
}

static socklen_t addr_len(const union stream_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

/*
 * Symmetric latching of the source <src> of a packet on <st>: the first
 * packet teaches where the peer is; another source takes over only
 * after RELATCH_NS of silence from the latched one, and never with
 * strict-source. Returns false when the packet must be dropped.
 */
static bool latch(struct stream *st, union stream_addr *peer, bool *latched,
		  const union stream_addr *src, uint64_t now)
{
	const struct stream_cfg *c = &st->cfg;

	if (c->asymmetric) {
		const union stream_addr *want = peer == &st->peer_rtp ?
			&c->sdp_rtp : &c->sdp_rtcp;

		return !c->strict || addr_eq(want, src);
	}
	if (*latched && addr_eq(peer, src)) {
		st->latch_ns = now;
		return true;
	}
	if (!*latched || (!c->strict && now - st->latch_ns > RELATCH_NS)) {
		*peer = *src;
		*latched = true;
		st->latch_ns = now;
		if (peer == &st->peer_rtp)
			stream_latch_publish(st, src);
		return true;
	}
	return !c->strict;
}

/* Where <o> receives RTP (<rtcp> false) or RTCP, and from which of its
 * sockets we send; NULL when it is not known yet. */
static const union stream_addr *dest_of(const struct stream *o, bool rtcp,
					int *fdp)
{
	const struct stream_cfg *c = &o->cfg;

	if (!rtcp || c->rtcp_mux) {
		*fdp = o->fd_rtp;
		if (o->latched && !c->asymmetric)
			return &o->peer_rtp;
		return c->sdp_rtp.sa.sa_family ? &c->sdp_rtp : NULL;
	}
	*fdp = o->fd_rtcp;
	if (o->latched_rtcp && !c->asymmetric)
		return &o->peer_rtcp;
	return c->sdp_rtcp.sa.sa_family ? &c->sdp_rtcp : NULL;
}

/* The RTP rewrite of one packet from <st>: payload type mapping and
 * G.711 transcoding in place (same size, seq/ts/SSRC kept). */
static void rtp_rewrite(struct relay *r, const struct stream_cfg *c,
			uint8_t *pkt, const struct rtp_hdr *h)
{
	uint8_t *pl = pkt + h->hdrlen;

	if (h->pt == c->te_in && c->te_out != STREAM_PT_ANY) {
		rtp_set_pt(pkt, c->te_out);
		return;
	}
	if (h->pt != c->pt_in || c->pt_in == STREAM_PT_ANY)
		return;
	if (c->pt_out != c->pt_in)
		rtp_set_pt(pkt, c->pt_out);
	if (c->xc == STREAM_XC_U2A) {
		g711_ulaw_to_alaw(pl, pl, h->paylen);
		ctr_add(&r->stats->transcoded, 1);
	}
	else if (c->xc == STREAM_XC_A2U) {
		g711_alaw_to_ulaw(pl, pl, h->paylen);
		ctr_add(&r->stats->transcoded, 1);
	}
}

/* Unprotect <pkt> from <st>'s SRTP peer in place. False: drop it (not
 * negotiated yet, authentication or replay check failed: counted). */
static bool srtp_in(struct relay *r, struct stream *st, uint8_t *pkt,
		    uint32_t *lenp, bool rtcp)
{
	int err;

	if (!st->cfg.srtp_in)
		return false;
	err = srtpx_unprotect(st->cfg.srtp_in, pkt, lenp, rtcp);
	if (!err)
		return true;
	if (err == EBADMSG)
		ctr_add(&r->srtp_auth_fail, 1);
	else if (err == EALREADY)
		ctr_add(&r->srtp_replay, 1);
	else
		ctr_add(&r->srtp_error, 1);
	return false;
}

/* Protect <pkt> for <to>'s SRTP endpoint in place; <room> bytes of the
 * buffer from <pkt> on. */
static bool srtp_out(struct relay *r, struct stream *to, uint8_t *pkt,
		     uint32_t *lenp, bool rtcp, uint32_t room)
{
	if (!to->cfg.srtp_out || *lenp + SDES_TAILROOM > room ||
	    srtpx_protect(to->cfg.srtp_out, pkt, lenp, rtcp)) {
		ctr_add(&r->srtp_error, 1);
		return false;
	}
	return true;
}

static slot_done_h tx_done;

/* Send <len> bytes at <pkt> (in buffer <bid>) from socket <fd> of <st>
 * to <dst>. Returns false when no SQE was to be had (the caller
 * recycles the buffer). */
static bool send_buf(struct relay *r, struct stream *st, int fd,
		     uint16_t bid, uint8_t *pkt, uint32_t len,
		     const union stream_addr *dst)
{
	struct io_uring_sqe *sqe = get_sqe(r);
	struct sendctx *ctx;

	if (!sqe)
		return false;
	ctx = &r->sends[bid];
	ctx->s.done = tx_done;
	ctx->s.arg = r;
	ctx->st = st;
	ctx->bid = bid;
	ctx->dst = *dst;
	ctx->iov.iov_base = pkt;
	ctx->iov.iov_len = len;
	memset(&ctx->msg, 0, sizeof(ctx->msg));
	ctx->msg.msg_name = &ctx->dst;
	ctx->msg.msg_namelen = addr_len(dst);
	ctx->msg.msg_iov = &ctx->iov;
	ctx->msg.msg_iovlen = 1;
	io_uring_prep_sendmsg(sqe, fd, &ctx->msg, 0);
	io_uring_sqe_set_data(sqe, &ctx->s);
	++st->inflight;
	++r->nsends;
	return true;
}

/*
 * A STUN message on socket <which> of ICE-lite leg <st> (RFC 8445
 * section 7.3, as the controlled agent). A Binding request whose
 * USERNAME is ours and whose MESSAGE-INTEGRITY verifies with our
 * password gets a success response, built in place over the request,
 * and latches its source: always with USE-CANDIDATE (the controlling
 * agent nominated it), otherwise only while nothing is latched. A
 * request we cannot authenticate gets 401 (unknown USERNAME, bad
 * MESSAGE-INTEGRITY) or 400 (either missing), never a success (RFC
 * 5389 section 10.1.2). Indications and responses are dropped.
 * Returns true when the buffer went to a send.
 */
static bool stun_in(struct relay *r, struct stream *st, unsigned which,
		    uint16_t bid, uint8_t *pkt, uint32_t len, uint32_t room,
		    const union stream_addr *src, uint64_t now)
{
	const struct stream_cfg *c = &st->cfg;
	struct stun_msg m;
	uint16_t code = 0;
	size_t n;

	if (stun_parse(&m, pkt, len) || m.type != STUN_BINDING_REQ ||
	    stun_check_fp(&m, pkt) == EBADMSG) {
		ctr_add(&r->stun_fail, 1);
		return false;
	}
	if (!m.user || !m.mi_off)
		code = 400;
	else if (m.ulen <= c->ufrag_len || m.user[c->ufrag_len] != ':' ||
		 memcmp(m.user, c->ufrag, c->ufrag_len) ||
		 (c->rufrag_len && (m.ulen - c->ufrag_len - 1 !=
				    c->rufrag_len ||
				    stream_ufrag_hash(m.user + c->ufrag_len + 1,
						      c->rufrag_len) !=
				    c->rufrag_h)))
		code = 401;
	else if (stun_check_mi(&m, pkt, c->pwd, c->pwd_len))
		code = 401;

	if (code) {
		ctr_add(&r->stun_fail, 1);
		n = stun_build_error(pkt, room, pkt + 8, code);
	}
	else {
		union stream_addr *peer = which ? &st->peer_rtcp :
			&st->peer_rtp;
		bool *latched = which ? &st->latched_rtcp : &st->latched;

		ctr_add(&r->stun_ok, 1);
		if (!c->asymmetric && (m.use_cand || !*latched) &&
		    (!*latched || !addr_eq(peer, src))) {
			*peer = *src;
			*latched = true;
			if (!which)
				stream_latch_publish(st, src);
		}
		if (*latched && addr_eq(peer, src))
			st->latch_ns = now;
		n = stun_build_success(pkt, room, pkt + 8, &src->sa, c->pwd,
				       c->pwd_len);
	}
	if (!n)
		return false;
	return send_buf(r, st, which ? st->fd_rtcp : st->fd_rtp, bid, pkt,
			(uint32_t)n, src);
}

/* A DTLS record from <st>: a copy goes to the control thread. */
static void dtls_in(struct relay *r, struct stream *st, unsigned which,
		    const uint8_t *pkt, uint32_t len,
		    const union stream_addr *src)
{
	uint32_t head = atomic_load_explicit(&r->dq_head,
					     memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&r->dq_tail,
					     memory_order_relaxed);
	struct relay_dgram *d;

	/* DTLS-SRTP runs on the RTP component only (rtcp-mux, as
	 * browsers do) */
	if (!st->cfg.dtls || which || len > RELAY_DGRAM_MAX || !r->dq ||
	    tail - head >= RELAY_DTLSQ) {
		ctr_add(&r->dtls_drop, 1);
		return;
	}
	d = &r->dq[tail & (RELAY_DTLSQ - 1)];
	d->st = st;
	d->call_gen = st->call_gen;
	d->len = (uint16_t)len;
	d->src = *src;
	memcpy(d->data, pkt, len);
	atomic_store_explicit(&r->dq_tail, tail + 1, memory_order_release);
	ctr_add(&r->dtls_in, 1);
	r->wake = true;
}

/*
 * One datagram in buffer <bid> received on socket <which> of <st>.
 * Returns true when it was handed to a send, which recycles the buffer;
 * false when the caller recycles it now.
 */
static bool rx_packet(struct relay *r, struct stream *st, unsigned which,
		      uint16_t bid, int32_t res, uint64_t now)
{
	uint8_t *buf = r->bufs + (size_t)bid * r->bufsz;
	struct io_uring_recvmsg_out *o;
	const union stream_addr *dst;
	union stream_addr src;
	struct stream *peer = st->peer;
	struct shm_session *ss = NULL;
	struct rtp_hdr h;
	uint8_t *pkt;
	uint32_t len;
	bool rtcp;
	int fd;

	o = io_uring_recvmsg_validate(buf, res, &st->rmsg);
	if (!o || (o->flags & MSG_TRUNC) || o->namelen > sizeof(src))
		goto drop;
	pkt = io_uring_recvmsg_payload(o, &st->rmsg);
	len = io_uring_recvmsg_payload_length(o, res, &st->rmsg);
	memset(&src, 0, sizeof(src));
	memcpy(&src, io_uring_recvmsg_name(o), o->namelen);

	ctr_add(&r->stats->packets_in, 1);
	ctr_add(&r->stats->bytes_in, len);
	if (st->call_idx < r->nsess) {
		ss = &r->sess[st->call_idx];
		ctr_add(&ss->packets[st->leg], 1);
		ctr_add(&ss->bytes[st->leg], len);
	}
	st->last_rx_ns = now;

	/*
	 * RFC 7983 by the first byte: 128..191 RTP/RTCP (the hot path,
	 * tested first), 0..3 STUN, 20..63 DTLS, anything else dropped
	 */
	if (len && (pkt[0] < 128 || pkt[0] > 191)) {
		if (stun_first_byte(pkt[0]) && st->cfg.ice)
			return stun_in(r, st, which, bid, pkt, len,
				       (uint32_t)(buf + r->bufsz - pkt),
				       &src, now);
		if (pkt[0] >= 20 && pkt[0] <= 63) {
			dtls_in(r, st, which, pkt, len, &src);
			return false;
		}
		ctr_add(&r->demux_drop, 1);
		goto drop;
	}

	rtcp = which == 1 || (st->cfg.rtcp_mux && rtp_is_rtcp(pkt, len));
	/* SRTP first: nothing unauthenticated may latch or be counted
	 * as media */
	if (st->cfg.srtp && !srtp_in(r, st, pkt, &len, rtcp))
		goto drop;
	if (rtcp) {
		if (len < RTP_RTCP_HDR_LEN || pkt[0] >> 6 != RTP_VERSION)
			goto drop;
		if (which == 1 && !latch(st, &st->peer_rtcp,
					 &st->latched_rtcp, &src, now))
			goto drop;
		if (which == 0 && !latch(st, &st->peer_rtp, &st->latched,
					 &src, now))
			goto drop;
	}
	else {
		if (rtp_parse(&h, pkt, len))
			goto drop;
		if (!latch(st, &st->peer_rtp, &st->latched, &src, now))
			goto drop;
		if (!st->have_ssrc || h.ssrc != st->ssrc) {
			rtp_stats_init(&st->stats);
			st->lost_pub = 0;
			st->ssrc = h.ssrc;
			st->have_ssrc = true;
		}
		rtp_stats_update(&st->stats, h.seq, h.ts, (uint32_t)
				 (now / 1000 * (st->cfg.clock ?
				  st->cfg.clock : 8000) / 1000000));
		rtp_rewrite(r, &st->cfg, pkt, &h);
	}

	if (!peer || peer->dying || !peer->cfg.send)
		goto drop;
	dst = dest_of(peer, rtcp, &fd);
	if (!dst)
		goto drop;
	if (peer->cfg.srtp && !srtp_out(r, peer, pkt, &len, rtcp,
					(uint32_t)(buf + r->bufsz - pkt)))
		goto drop;
	if (!send_buf(r, peer, fd, bid, pkt, len, dst))
		goto drop;
	return true;
 drop:
	ctr_add(&r->stats->packets_dropped, 1);
	return false;
}

static void tx_done(struct slot *s, int32_t res, uint32_t flags)
{
	struct sendctx *ctx = (struct sendctx *)s;
	struct relay *r = s->arg;
	struct stream *st = ctx->st;

	(void)flags;
	if (res < 0) {
		ctr_add(&r->stats->packets_dropped, 1);
	}
	else {
		ctr_add(&r->stats->packets_out, 1);
		ctr_add(&r->stats->bytes_out, (uint64_t)res);
	}
	buf_recycle(r, ctx->bid);
	--r->nsends;
	--st->inflight;
	maybe_dead(r, st);
}

/*
 * A completion of a multishot receive. Each one with
 * IORING_CQE_F_BUFFER carries a datagram in a ring buffer. Without
 * IORING_CQE_F_MORE the request is over (-ENOBUFS when the ring ran
 * dry, -ECANCELED on delete): re-armed at once unless the stream is
 * going away.
 */
static void rx_done(struct slot *s, int32_t res, uint32_t flags)
{
	struct stream *st = s->arg;
	struct relay *r = st->wk;
	unsigned which = (unsigned)s->u64;

	if (flags & IORING_CQE_F_BUFFER) {
		uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);

		if (res <= 0 || st->dying ||
		    !rx_packet(r, st, which, bid, res, now_ns()))
			buf_recycle(r, bid);
	}
	else if (res == -ENOBUFS) {
		ctr_add(&r->stats->nobufs, 1);
	}
	else if (res < 0 && res != -ECANCELED) {
		log_limit(&r->ll, LOG_LVL_WARN, "relay",
			  "worker %u: recvmsg: %s", r->idx, strerror(-res));
	}
	if (flags & IORING_CQE_F_MORE)
		return;

	/* the request is over */
	st->rslot[which] = NULL;
	slot_put(r->slots, s);
	--st->inflight;
	if (st->dying) {
		maybe_dead(r, st);
		return;
	}
	/*
	 * The ring ran dry: re-arm at the end of the turn, once the
	 * buffers recycled meanwhile are back (at once would fail again
	 * and spin). A hard error waits for the once-a-second scan.
	 */
	if (res == -ENOBUFS) {
		if (!st->rearm) {
			st->rnext = r->rearm;
			r->rearm = st;
		}
		st->rearm |= (uint8_t)(1u << which);
	}
	else if (res >= 0) {
		rx_arm(r, st, which);
	}
}

/* End of a turn, buffers published: the receives -ENOBUFS ended. */
static void rearm_run(struct relay *r)
{
	struct stream *st = r->rearm;

	r->rearm = NULL;
	while (st) {
		struct stream *next = st->rnext;
		uint8_t bits = st->rearm;

		st->rnext = NULL;
		st->rearm = 0;
		if (st->dying) {
			maybe_dead(r, st);
		}
		else {
			if (bits & 1)
				rx_arm(r, st, 0);
			if (bits & 2)
				rx_arm(r, st, 1);
		}
		st = next;
	}
}

static void cancel_done(struct slot *s, int32_t res, uint32_t flags)
{
	struct relay *r = s->arg;

	slot_put(r->slots, s);
}

/* Cancel the receive in <rs> (an armed slot). If no cancel can be
 * queued the receive ends with the socket's close anyway. */
static void rx_cancel(struct relay *r, struct slot *rs)
{
	struct io_uring_sqe *sqe;
	struct slot *s;

	s = slot_get(r->slots, cancel_done, r);
	sqe = s ? get_sqe(r) : NULL;
	if (!sqe) {
		slot_put(r->slots, s);
		return;
	}
	io_uring_prep_cancel(sqe, rs, 0);
	io_uring_sqe_set_data(sqe, s);
}

static void live_unlink(struct relay *r, struct stream *st)
{
	if (st->lprev)
		st->lprev->lnext = st->lnext;
	else if (r->live == st)
		r->live = st->lnext;
	if (st->lnext)
		st->lnext->lprev = st->lprev;
	st->lnext = st->lprev = NULL;
}

static void cfg_take(struct stream *st)
{
	st->cfg = st->next;
	atomic_store_explicit(&st->pending, 0, memory_order_release);
}

/* WORKER_CMD_STREAM_ADD: <st> becomes ours. */
void relay_add(struct relay *r, struct stream *st)
{
	st->wk = r;
	cfg_take(st);
	memset(&st->peer_rtp, 0, sizeof(st->peer_rtp));
	memset(&st->peer_rtcp, 0, sizeof(st->peer_rtcp));
	memset(&st->rmsg, 0, sizeof(st->rmsg));
	st->rmsg.msg_namelen = sizeof(union stream_addr);
	rtp_stats_init(&st->stats);
	st->rslot[0] = st->rslot[1] = NULL;
	st->last_rx_ns = now_ns();
	st->latch_ns = 0;
	st->inflight = 0;
	st->ssrc = 0;
	st->lost_pub = 0;
	st->latched = st->latched_rtcp = st->have_ssrc = false;
	stream_latch_publish(st, &st->peer_rtp);     /* none */
	st->dying = st->timed_out = false;
	st->rearm = 0;
	st->rnext = NULL;
	atomic_store_explicit(&st->state, STREAM_LIVE, memory_order_relaxed);

	st->lprev = NULL;
	st->lnext = r->live;
	if (r->live)
		r->live->lprev = st;
	r->live = st;
	if (st->leg == 0)
		ctr_add(&r->stats->sessions, 1);

	rx_arm(r, st, 0);
	rx_arm(r, st, 1);
}

/* WORKER_CMD_STREAM_UPDATE: new signalling (re-INVITE). A new SDP
 * address means a new peer: learn it again. */
void relay_update(struct relay *r, struct stream *st)
{
	bool moved = !addr_eq(&st->cfg.sdp_rtp, &st->next.sdp_rtp);

	(void)r;
	cfg_take(st);
	/* an ICE leg's peer is where its checks come from, whatever its
	 * c= says (often 0.0.0.0 or an mDNS name's default) */
	if (moved && !st->cfg.ice) {
		st->latched = st->latched_rtcp = false;
		st->timed_out = false;
		memset(&st->peer_rtp, 0, sizeof(st->peer_rtp));
		stream_latch_publish(st, &st->peer_rtp);
	}
}

/* Push event <type> about the call of <st>: its call-id first. */
static void call_event(struct relay *r, const struct stream *st,
		       uint16_t type)
{
	const struct shm_session *ss;
	struct shm_msg m;
	uint8_t buf[240];
	unsigned i;

	if (!r->events || st->call_idx >= r->nsess)
		return;
	ss = &r->sess[st->call_idx];
	msg_init(&m, buf, sizeof(buf));
	msg_add_str(&m, ss->callid);
	if (type == SHM_EV_CALL_STATS) {
		for (i = 0; i < 2; i++) {
			msg_add_u64(&m, atomic_load_explicit(&ss->packets[i],
					memory_order_relaxed));
			msg_add_u64(&m, atomic_load_explicit(&ss->bytes[i],
					memory_order_relaxed));
			msg_add_u64(&m, atomic_load_explicit(&ss->lost[i],
					memory_order_relaxed));
		}
	}
	/* a full ring is counted in its <dropped>: normal when no sbc
	 * reads it, so not worth more than a debug line */
	if (m.err || shmring_push(r->events, type, buf, m.pos))
		log_limit(&r->ll, LOG_LVL_DEBUG, "relay", "worker %u: event "
			  "%u not queued", r->idx, type);
}

/* Lost packets and jitter of <st> into its call's shm counters. */
static void stream_publish(struct relay *r, struct stream *st)
{
	struct shm_session *ss;
	int32_t lost;
	uint32_t clock = st->cfg.clock ? st->cfg.clock : 8000;

	lost = rtp_stats_lost(&st->stats);
	if (lost > 0 && (uint32_t)lost > st->lost_pub) {
		ctr_add(&r->stats->packets_lost, (uint32_t)lost - st->lost_pub);
		st->lost_pub = (uint32_t)lost;
	}
	if (st->call_idx >= r->nsess)
		return;
	ss = &r->sess[st->call_idx];
	atomic_store_explicit(&ss->lost[st->leg], lost > 0 ? (uint64_t)lost
			      : 0, memory_order_relaxed);
	atomic_store_explicit(&ss->jitter_us[st->leg], (uint32_t)
			      ((uint64_t)rtp_stats_jitter(&st->stats) *
			       1000000 / clock), memory_order_relaxed);
}

/* WORKER_CMD_STREAM_DEL: stop relaying <st>, cancel its receives; it
 * is handed back (STREAM_DEAD) once nothing of it is in flight. */
void relay_del(struct relay *r, struct stream *st)
{
	/* one we never had (its ADD was refused): nothing to stop */
	if (atomic_load_explicit(&st->state, memory_order_relaxed) !=
	    STREAM_LIVE) {
		atomic_store_explicit(&st->state, STREAM_DEAD,
				      memory_order_release);
		return;
	}
	if (st->dying)
		return;
	stream_publish(r, st);
	if (st->leg == 0) {
		if (st->peer)
			stream_publish(r, st->peer);
		call_event(r, st, SHM_EV_CALL_STATS);
	}
	st->dying = true;
	live_unlink(r, st);
	if (st->rslot[0])
		rx_cancel(r, st->rslot[0]);
	if (st->rslot[1])
		rx_cancel(r, st->rslot[1]);
	maybe_dead(r, st);
}

/* Once a second: counters for query, media timeouts, receives whose
 * re-arm failed. */
void relay_scan(struct relay *r, uint64_t now)
{
	uint64_t tmo = (uint64_t)atomic_load_explicit(&r->timeout_s,
			memory_order_relaxed) * 1000000000ull;
	struct stream *st;

	for (st = r->live; st; st = st->lnext) {
		stream_publish(r, st);
		if (!st->rslot[0])
			rx_arm(r, st, 0);
		if (!st->rslot[1])
			rx_arm(r, st, 1);
		if (st->leg != 0 || !st->peer || st->timed_out || !tmo)
			continue;
		/* no subtraction: <now> was read at the top of the loop
		 * turn, so a packet of this turn is stamped later than it */
		if (now > st->last_rx_ns + tmo &&
		    now > st->peer->last_rx_ns + tmo) {
			st->timed_out = true;
			ctr_add(&r->timeouts, 1);
			call_event(r, st, SHM_EV_MEDIA_TIMEOUT);
		}
	}
}
/*
 * The provided-buffer ring: <nbufs> buffers of <bufsz> bytes, all given
 * to the kernel now, and one send context per buffer. Startup only.
 */
static int bufs_start(struct relay *r)
{
	struct io_uring_buf_reg reg;
	size_t ringsz = r->nbufs * sizeof(struct io_uring_buf);
	uint32_t i;
	int ret;

	r->br = aligned_alloc(4096, (ringsz + 4095) & ~(size_t)4095);
	r->bufs = aligned_alloc(4096, (size_t)r->nbufs * r->bufsz);
	r->sends = calloc(r->nbufs, sizeof(*r->sends));
	if (!r->br || !r->bufs || !r->sends)
		return ENOMEM;

	io_uring_buf_ring_init(r->br);
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)r->br;
	reg.ring_entries = r->nbufs;
	reg.bgid = BGID;
	ret = io_uring_register_buf_ring(r->ring, &reg, 0);
	if (ret < 0)
		return -ret;
	r->have_br = true;

	for (i = 0; i < r->nbufs; i++)
		buf_recycle(r, (uint16_t)i);
	io_uring_buf_ring_advance(r->br, (int)r->br_adds);
	r->br_adds = 0;
	return 0;
}

int relay_init(struct relay *r, const struct relay_prm *prm)
{
	memset(r, 0, sizeof(*r));
	r->ring = prm->ring;
	r->slots = prm->slots;
	r->stats = prm->stats;
	r->idx = prm->idx;
	r->sess = prm->sessions;
	r->nsess = prm->sessions ? prm->nsessions : 0;
	r->events = prm->events;
	r->nbufs = prm->nbufs ? prm->nbufs : 4096;
	r->bufsz = prm->bufsz ? prm->bufsz : 2048;
	atomic_init(&r->timeout_s, prm->timeout_s);
	atomic_init(&r->timeouts, 0);
	atomic_init(&r->srtp_auth_fail, 0);
	atomic_init(&r->srtp_replay, 0);
	atomic_init(&r->srtp_error, 0);
	atomic_init(&r->stun_ok, 0);
	atomic_init(&r->stun_fail, 0);
	atomic_init(&r->dtls_in, 0);
	atomic_init(&r->dtls_drop, 0);
	atomic_init(&r->demux_drop, 0);
	atomic_init(&r->dq_head, 0);
	atomic_init(&r->dq_tail, 0);
	r->wake_fd = prm->wake_fd;
	log_limit_init(&r->ll, 1000, 5);
	if (r->nbufs & (r->nbufs - 1) || r->nbufs > 32768 || r->bufsz < 256)
		return EINVAL;
	r->dq = calloc(RELAY_DTLSQ, sizeof(*r->dq));
	if (!r->dq)
		return ENOMEM;
	return bufs_start(r);
}

void relay_fini(struct relay *r)
{
	if (r->have_br)
		io_uring_unregister_buf_ring(r->ring, BGID);
	free(r->br);
	free(r->bufs);
	free(r->sends);
	free(r->dq);
	r->dq = NULL;
	r->br = NULL;
	r->bufs = NULL;
	r->sends = NULL;
	r->have_br = false;
}

void relay_stop(struct relay *r)
{
	while (r->live)
		relay_del(r, r->live);
}

void relay_turn_end(struct relay *r)
{
	if (r->br_adds) {
		io_uring_buf_ring_advance(r->br, (int)r->br_adds);
		r->br_adds = 0;
	}
	if (r->rearm)
		rearm_run(r);
	if (r->wake) {
		uint64_t one = 1;

		r->wake = false;
		if (r->wake_fd != -1 &&
		    write(r->wake_fd, &one, sizeof(one)) != sizeof(one))
			log_limit(&r->ll, LOG_LVL_WARN, "relay", "worker %u: "
				  "DTLS wake-up: %s", r->idx, strerror(errno));
	}
}

bool relay_dtls_pop(struct relay *r, struct relay_dgram *d)
{
	uint32_t head = atomic_load_explicit(&r->dq_head,
					     memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&r->dq_tail,
					     memory_order_acquire);
	const struct relay_dgram *e;

	if (!r->dq || head == tail)
		return false;
	e = &r->dq[head & (RELAY_DTLSQ - 1)];
	d->st = e->st;
	d->call_gen = e->call_gen;
	d->len = e->len;
	d->src = e->src;
	memcpy(d->data, e->data, e->len);
	atomic_store_explicit(&r->dq_head, head + 1, memory_order_release);
	return true;
}

void relay_webrtc_counters(const struct relay *r, struct relay_wctr *w)
{
	w->stun_ok = atomic_load_explicit(&r->stun_ok, memory_order_relaxed);
	w->stun_fail = atomic_load_explicit(&r->stun_fail,
					    memory_order_relaxed);
	w->dtls_in = atomic_load_explicit(&r->dtls_in, memory_order_relaxed);
	w->dtls_drop = atomic_load_explicit(&r->dtls_drop,
					    memory_order_relaxed);
	w->demux_drop = atomic_load_explicit(&r->demux_drop,
					     memory_order_relaxed);
}

uint32_t relay_sends(const struct relay *r)
{
	return r->nsends;
}

void relay_set_timeout(struct relay *r, uint32_t seconds)
{
	atomic_store_explicit(&r->timeout_s, seconds, memory_order_relaxed);
}

void relay_srtp_counters(const struct relay *r, uint64_t *auth_fail,
			 uint64_t *replay, uint64_t *error)
{
	*auth_fail = atomic_load_explicit(&r->srtp_auth_fail,
					  memory_order_relaxed);
	*replay = atomic_load_explicit(&r->srtp_replay, memory_order_relaxed);
	*error = atomic_load_explicit(&r->srtp_error, memory_order_relaxed);
}

uint64_t relay_timeouts(const struct relay *r)
{
	return atomic_load_explicit(&r->timeouts, memory_order_relaxed);
}
