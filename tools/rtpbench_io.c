/* tools/rtpbench_io.c  rtpbench workers: paced RTP over io_uring, stats */
#include <errno.h>
#include <liburing.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "g711.h"
#include "rtpbench.h"
#include "srtpx.h"

/*
 * Why io_uring: each leg needs a socket of its own (relays latch on the
 * source address), so sendmmsg/recvmmsg could batch only one packet per
 * call. A ring batches across sockets: one submit sends a chunk of
 * packets from many sockets, and one multishot recvmsg per socket feeds
 * a shared buffer ring, so reaping a thousand packets is one syscall.
 * Kernel receive timestamps (SO_TIMESTAMPNS) make the latency figure
 * independent of how quickly this process gets to the CQE.
 *
 * SRTP legs (--srtp) protect in place in the leg's own send buffer and
 * unprotect in place in the receive buffer, with sessions made before
 * the run: the packet path allocates nothing. A chunk is protected
 * before its send stamp is taken, so the crypto is not charged to the
 * relay's latency.
 */

#define BUF_SZ      512          /* recvmsg_out + cmsg + up to 464 B */
#define BUF_N       16384        /* per worker; power of two, <= 32768 */
#define BGID        1
#define SQ_SZ       1024
#define CQ_SZ       16384
#define CHUNK       16           /* sends per submit: bounds ts skew */
/*
 * Wake for the next sub-tick, not per packet: receive stamps come from
 * the kernel, so reaping late costs no accuracy, and a wake-up per
 * packet would cost more CPU than the packet. Wake early only when
 * half the buffers are waiting to be recycled.
 */
#define WAIT_NR     (BUF_N / 2)
#define UD_SEND     1ull         /* tag in user_data; legs are aligned */
#define RX_ERR_MAX  100          /* stop re-arming a leg after these */
#define READY_TMO_S 10
#define STOP_TMO_NS 1000000000ull

struct rb_worker {
	struct rb_engine *eng;
	pthread_t         tid;
	bool              started;
	unsigned          idx;
	struct rb_leg   **legs;      /* by sub-tick slot */
	unsigned          nlegs;
	unsigned          slot_start[RB_SLOTS + 1];
	struct io_uring   ring;
	bool              ring_ok;
	bool              skip_ok;   /* IOSQE_CQE_SKIP_SUCCESS usable */
	struct io_uring_buf_ring *br;
	uint8_t          *bufs;
	bool              br_ok;
	struct msghdr     rmh;       /* layout of the multishot recvmsg */
	unsigned          armed;
	struct rb_leg   **rearm;     /* multishots that ended this reap */
	unsigned          nrearm;
	bool              stopping;
	int               err;
	struct rb_stats   st;
};

struct rb_engine {
	struct rb_worker *w;
	unsigned          n;
	int               rt_prio;   /* SCHED_FIFO priority, 0: none */
	pthread_mutex_t   mtx;
	pthread_cond_t    cond;
	unsigned          ready;
	bool              go;
	bool              abort;
	int               stop;      /* atomic */
	struct rb_times   tm;
};

/* one 20 ms frame of a 1 kHz tone: period 8, so every frame is equal */
static int16_t tone_lin[RB_PAYLOAD];
static uint8_t tone_u[RB_PAYLOAD];
static uint8_t tone_a[RB_PAYLOAD];
static pthread_once_t tone_once = PTHREAD_ONCE_INIT;

#define CTR_ADD(x, v)  __atomic_store_n(&(x), (x) + (v), __ATOMIC_RELAXED)
#define CTR_INC(x)     CTR_ADD(x, 1)
#define CTR_LOAD(x)    __atomic_load_n(&(x), __ATOMIC_RELAXED)

uint64_t rb_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t rb_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void tone_init(void)
{
	unsigned i;

	for (i = 0; i < RB_PAYLOAD; i++) {
		tone_lin[i] = (int16_t)lrint(8000.0 *
					     sin(2.0 * M_PI * i / 8.0));
		tone_u[i] = g711_ulaw_encode(tone_lin[i]);
		tone_a[i] = g711_alaw_encode(tone_lin[i]);
	}
}

static const uint8_t *tone_for(uint8_t pt)
{
	return pt == RB_PT_PCMA ? tone_a : tone_u;
}

/*
 * A transcoded frame is not bit-exact (two quantisations, and a
 * transcoder may shift the phase), so decode a few samples and accept
 * them when they follow the tone at some phase within G.711's error.
 */
static bool tone_close(const uint8_t *p, uint8_t pt)
{
	int16_t r[32];
	unsigned i, shift;

	for (i = 0; i < 32; i++)
		r[i] = pt == RB_PT_PCMA ? g711_alaw_decode(p[i]) : g711_ulaw_decode(p[i]);

	for (shift = 0; shift < 8; shift++) {
		for (i = 0; i < 32; i++) {
			int x = tone_lin[(i + shift) % 8];
			int d = r[i] - x;

			if (abs(d) > abs(x) / 8 + 80)
				break;
		}
		if (i == 32)
			return true;
	}
	return false;
}

void rb_leg_prepare(struct rb_leg *leg, uint32_t ssrc)
{
	uint8_t *h = leg->pkt;

	pthread_once(&tone_once, tone_init);

	leg->ssrc = ssrc;
	leg->seq = (uint16_t)(ssrc >> 7);
	leg->ts = ssrc * 2654435761u;
	h[0] = 0x80;
	h[1] = leg->pt_tx;
	h[8] = (uint8_t)(ssrc >> 24);
	h[9] = (uint8_t)(ssrc >> 16);
	h[10] = (uint8_t)(ssrc >> 8);
	h[11] = (uint8_t)ssrc;
	memcpy(h + RB_RTP_HDR, tone_for(leg->pt_tx), RB_PAYLOAD);

	leg->iov.iov_base = leg->pkt;
	leg->iov.iov_len = RB_PKT_LEN;
	memset(&leg->mh, 0, sizeof(leg->mh));
	leg->mh.msg_name = &leg->relay;
	leg->mh.msg_namelen = sizeof(leg->relay);
	leg->mh.msg_iov = &leg->iov;
	leg->mh.msg_iovlen = 1;
}

void rb_hist_add(uint64_t *h, uint64_t ns)
{
	uint64_t us = ns / 1000;
	size_t i;

	if (us < RB_HIST_FINE)
		i = (size_t)us;
	else if (us < RB_HIST_FINE + (uint64_t)RB_HIST_COARSE * 100)
		i = RB_HIST_FINE + (size_t)((us - RB_HIST_FINE) / 100);
	else
		i = RB_HIST_N - 1;
	CTR_INC(h[i]);
}

/* Upper edge of the bucket holding percentile <pct>, in ns. */
uint64_t rb_hist_pct(const uint64_t *h, double pct)
{
	uint64_t total = 0, want, acc = 0;
	size_t i;

	for (i = 0; i < RB_HIST_N; i++)
		total += h[i];
	if (!total)
		return 0;
	want = (uint64_t)ceil((double)total * pct / 100.0);
	if (want == 0)
		want = 1;
	for (i = 0; i < RB_HIST_N; i++) {
		acc += h[i];
		if (acc >= want)
			break;
	}
	if (i < RB_HIST_FINE)
		return (uint64_t)(i + 1) * 1000;
	if (i < RB_HIST_N - 1)
		return ((uint64_t)RB_HIST_FINE +
			(uint64_t)(i - RB_HIST_FINE + 1) * 100) * 1000;
	return ((uint64_t)RB_HIST_FINE + (uint64_t)RB_HIST_COARSE * 100)
		* 1000;
}

void rb_stats_add(struct rb_stats *d, const struct rb_stats *s)
{
	size_t i;

	d->sent += CTR_LOAD(s->sent);
	d->recv += CTR_LOAD(s->recv);
	d->dup += CTR_LOAD(s->dup);
	d->reorder += CTR_LOAD(s->reorder);
	d->stray += CTR_LOAD(s->stray);
	d->bad += CTR_LOAD(s->bad);
	d->other += CTR_LOAD(s->other);
	d->nobufs += CTR_LOAD(s->nobufs);
	d->tx_err += CTR_LOAD(s->tx_err);
	d->rx_err += CTR_LOAD(s->rx_err);
	d->remap += CTR_LOAD(s->remap);
	d->auth_fail += CTR_LOAD(s->auth_fail);
	d->auth_fail_all += CTR_LOAD(s->auth_fail_all);
	d->srtp_err += CTR_LOAD(s->srtp_err);
	d->srtp_ns += CTR_LOAD(s->srtp_ns);
	d->srtp_samples += CTR_LOAD(s->srtp_samples);
	d->sent_all += CTR_LOAD(s->sent_all);
	d->recv_all += CTR_LOAD(s->recv_all);
	if (CTR_LOAD(s->lat_max_ns) > d->lat_max_ns)
		d->lat_max_ns = CTR_LOAD(s->lat_max_ns);
	if (CTR_LOAD(s->lag_max_ns) > d->lag_max_ns)
		d->lag_max_ns = CTR_LOAD(s->lag_max_ns);
	for (i = 0; i < RB_HIST_N; i++) {
		d->lat[i] += CTR_LOAD(s->lat[i]);
		d->lag[i] += CTR_LOAD(s->lag[i]);
	}
}

static struct io_uring_sqe *get_sqe(struct rb_worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

static int arm_recv(struct rb_worker *w, struct rb_leg *leg)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, leg->fd, &w->rmh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)leg);
	w->armed++;
	return 0;
}

/*
 * Ring, buffer ring and one multishot recvmsg per leg. Runs on the
 * worker thread itself: with SINGLE_ISSUER the creator is the issuer.
 */
static int worker_setup(struct rb_worker *w)
{
	struct io_uring_params p;
	struct io_uring_buf_reg reg;
	void *mem = NULL;
	unsigned i;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL |
		  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	p.cq_entries = CQ_SZ;
	ret = io_uring_queue_init_params(SQ_SZ, &w->ring, &p);
	if (ret == -EINVAL) {
		/* kernels before 6.1: no deferred task work */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
		p.cq_entries = CQ_SZ;
		ret = io_uring_queue_init_params(SQ_SZ, &w->ring, &p);
	}
	if (ret < 0)
		return -ret;
	w->ring_ok = true;
	w->skip_ok = (p.features & IORING_FEAT_CQE_SKIP) != 0;

	if (posix_memalign(&mem, 4096, BUF_N * sizeof(struct io_uring_buf)))
		return ENOMEM;
	w->br = mem;
	w->bufs = aligned_alloc(64, (size_t)BUF_N * BUF_SZ);
	if (!w->bufs)
		return ENOMEM;

	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)w->br;
	reg.ring_entries = BUF_N;
	reg.bgid = BGID;
	ret = io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (ret < 0)
		return -ret;
	w->br_ok = true;
	io_uring_buf_ring_init(w->br);
	for (i = 0; i < BUF_N; i++)
		io_uring_buf_ring_add(w->br, w->bufs + (size_t)i * BUF_SZ,
				      BUF_SZ, (unsigned short)i,
				      io_uring_buf_ring_mask(BUF_N), (int)i);
	io_uring_buf_ring_advance(w->br, BUF_N);

	memset(&w->rmh, 0, sizeof(w->rmh));
	w->rmh.msg_namelen = 0;
	w->rmh.msg_controllen = CMSG_SPACE(sizeof(struct timespec));

	for (i = 0; i < w->nlegs; i++) {
		ret = arm_recv(w, w->legs[i]);
		if (ret)
			return ret;
	}
	ret = io_uring_submit(&w->ring);
	return ret < 0 ? -ret : 0;
}

/*
 * Find the send that packet <seq> (relay numbering) answers, learning
 * the relay's sequence offset when it renumbers (transcoders may): the
 * match is then the newest unconsumed send of the peer that left
 * before the packet arrived. Returns the ring entry or NULL.
 */
static struct rb_sent *match_send(struct rb_worker *w, struct rb_leg *leg,
				  uint16_t seq, uint64_t rx_ns, bool *dupp)
{
	struct rb_leg *peer = leg->peer;
	struct rb_sent *e;
	uint16_t want = (uint16_t)(seq + leg->seq_off), s;
	unsigned k;

	*dupp = false;
	e = &peer->ring[want & (RB_RING - 1)];
	if (e->pad && e->seq == want) {
		if (e->ns) {
			leg->off_learned = true;
			leg->miss_run = 0;
			return e;
		}
		if (leg->off_learned) {
			*dupp = true;
			return NULL;
		}
	}
	if (leg->off_learned && ++leg->miss_run < 4)
		return NULL;
	if (!peer->sent_any)
		return NULL;

	s = peer->last_seq;
	for (k = 0; k < 8; k++, s--) {
		e = &peer->ring[s & (RB_RING - 1)];
		if (e->pad && e->seq == s && e->ns && e->ns <= rx_ns) {
			uint16_t off = (uint16_t)(s - seq);

			if (leg->off_learned && off != leg->seq_off)
				CTR_INC(w->st.remap);
			else if (!leg->off_learned && off != 0)
				CTR_INC(w->st.remap);
			leg->seq_off = off;
			leg->off_learned = true;
			leg->miss_run = 0;
			return e;
		}
	}
	return NULL;
}

/*
 * The thread's CPU time, for timing an srtpx call: on a shared host
 * wall time would charge it our preemptions. A syscall, hence sampled.
 */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Account one timed srtpx call that began at <t0>. */
static void srtp_sample(struct rb_worker *w, uint64_t t0)
{
	CTR_ADD(w->st.srtp_ns, thread_cpu_ns() - t0);
	CTR_INC(w->st.srtp_samples);
}

/*
 * A packet of <leg> failed SRTP authentication. Its header is in the
 * clear, so look up the send it would answer, without consuming it
 * (it stays lost, and a good copy could still come): auth_fail counts
 * those inside the window, as loss is counted; auth_fail_all all.
 */
static void count_auth_fail(struct rb_worker *w, struct rb_leg *leg,
			    const uint8_t *p)
{
	uint16_t want = (uint16_t)(((p[2] << 8) | p[3]) + leg->seq_off);
	const struct rb_sent *e = &leg->peer->ring[want & (RB_RING - 1)];

	CTR_INC(w->st.auth_fail_all);
	if (e->pad && e->seq == want && e->ns && e->in_win)
		CTR_INC(w->st.auth_fail);
}

static void on_packet(struct rb_worker *w, struct rb_leg *leg,
		      uint8_t *buf, int len)
{
	struct io_uring_recvmsg_out *o;
	struct cmsghdr *c;
	struct rb_sent *e;
	uint8_t *p;
	uint64_t rx_ns = 0, lat;
	unsigned plen;
	uint16_t seq;
	uint32_t rts;
	uint8_t pt;
	bool in_win, dup;

	o = io_uring_recvmsg_validate(buf, len, &w->rmh);
	if (!o || (o->flags & MSG_TRUNC)) {
		CTR_INC(w->st.other);
		return;
	}
	for (c = io_uring_recvmsg_cmsg_firsthdr(o, &w->rmh); c;
	     c = io_uring_recvmsg_cmsg_nexthdr(o, &w->rmh, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			rx_ns = (uint64_t)ts.tv_sec * 1000000000ull +
				(uint64_t)ts.tv_nsec;
		}
	}
	if (!rx_ns)
		rx_ns = rb_real_ns();

	p = io_uring_recvmsg_payload(o, &w->rmh);
	plen = io_uring_recvmsg_payload_length(o, len, &w->rmh);
	CTR_INC(w->st.recv_all);
	if (plen != (leg->srtp_rx ? RB_PKT_LEN + RB_SRTP_TAG : RB_PKT_LEN) ||
	    (p[0] & 0xc0) != 0x80 || (p[1] & 0x7f) >= 72) {
		CTR_INC(w->st.other);
		return;
	}
	if (leg->srtp_rx) {
		/* the buffer is ours until reap() returns it: in place */
		bool timed = (p[3] & (RB_SRTP_SAMPLE - 1)) == 0;
		uint64_t t0 = timed ? thread_cpu_ns() : 0;
		uint32_t l = plen;
		int se = srtpx_unprotect(leg->srtp_rx, p, &l, false);

		if (timed)
			srtp_sample(w, t0);

		if (se) {
			/*
			 * Unmatched, so its send stays counted as lost;
			 * a replayed index is the relay sending twice (or
			 * one older than the 64-packet window: srtpx does
			 * not tell the two apart).
			 */
			if (se == EBADMSG)
				count_auth_fail(w, leg, p);
			else if (se == EALREADY)
				CTR_INC(w->st.dup);
			else
				CTR_INC(w->st.srtp_err);
			return;
		}
		if (l != RB_PKT_LEN) {
			CTR_INC(w->st.srtp_err);
			return;
		}
	}
	pt = p[1] & 0x7f;
	seq = (uint16_t)((p[2] << 8) | p[3]);
	rts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	      (uint32_t)p[6] << 8 | p[7];

	e = match_send(w, leg, seq, rx_ns, &dup);
	if (!e) {
		if (dup)
			CTR_INC(w->st.dup);
		else
			CTR_INC(w->st.stray);
		return;
	}
	lat = rx_ns > e->ns ? rx_ns - e->ns : 0;
	in_win = e->in_win;
	e->ns = 0;

	if (!leg->rx_started) {
		leg->rx_started = true;
		leg->rx_max = seq;
	}
	else if ((int16_t)(seq - leg->rx_max) > 0) {
		leg->rx_max = seq;
	}
	else if (in_win) {
		CTR_INC(w->st.reorder);
	}
	if (!in_win)
		return;

	CTR_INC(w->st.recv);
	rb_hist_add(w->st.lat, lat);
	if (lat > w->st.lat_max_ns)
		CTR_ADD(w->st.lat_max_ns, lat - w->st.lat_max_ns);

	/* RFC 3550 A.8, arrival in timestamp units (8 kHz) */
	{
		double arr = (double)rx_ns / 125000.0;
		double transit = arr - (double)rts;

		if (leg->jit_init) {
			double d = fabs(transit - leg->transit);

			/* a 2^32 wrap of the RTP clock is not jitter */
			if (d < 4294967296.0 / 2)
				leg->jitter += (d - leg->jitter) / 16.0;
		}
		leg->transit = transit;
		leg->jit_init = true;
	}

	if (pt != leg->pt_rx) {
		CTR_INC(w->st.bad);
	}
	else if (memcmp(p + RB_RTP_HDR, tone_for(pt), RB_PAYLOAD)) {
		/* bit-exact unless a transcoder sits in between */
		if (pt == leg->peer->pt_tx || !tone_close(p + RB_RTP_HDR, pt))
			CTR_INC(w->st.bad);
	}
}

/*
 * Reap the CQEs there are (at most a CQ's worth), return the receive
 * buffers, then re-arm the multishots that ended. The order matters: a
 * multishot ends on ENOBUFS, and re-arming it before the buffers are
 * back would only end it again, in a storm that never lets the loop go.
 */
static void reap(struct rb_worker *w)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0, nbuf = 0, i;
	int mask = io_uring_buf_ring_mask(BUF_N);

	io_uring_for_each_cqe(&w->ring, head, cqe) {
		uint64_t ud = cqe->user_data;
		struct rb_leg *leg;

		if (n == CQ_SZ)
			break;
		n++;
		if (ud == 0)
			continue;               /* the stop's cancel */
		if (ud & UD_SEND) {
			if (cqe->res < 0)
				CTR_INC(w->st.tx_err);
			continue;
		}
		leg = (struct rb_leg *)(uintptr_t)ud;
		if (cqe->flags & IORING_CQE_F_BUFFER) {
			unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
			uint8_t *buf = w->bufs + (size_t)bid * BUF_SZ;

			if (cqe->res > 0)
				on_packet(w, leg, buf, cqe->res);
			io_uring_buf_ring_add(w->br, buf, BUF_SZ,
					      (unsigned short)bid, mask,
					      (int)nbuf);
			nbuf++;
		}
		else if (cqe->res == -ENOBUFS) {
			CTR_INC(w->st.nobufs);
		}
		else if (cqe->res < 0 && cqe->res != -ECANCELED) {
			CTR_INC(w->st.rx_err);
			leg->rx_errs++;
		}
		if (!(cqe->flags & IORING_CQE_F_MORE)) {
			w->armed--;
			if (!w->stopping && leg->rx_errs < RX_ERR_MAX &&
			    w->nrearm < w->nlegs)
				w->rearm[w->nrearm++] = leg;
		}
	}
	io_uring_cq_advance(&w->ring, n);
	if (nbuf)
		io_uring_buf_ring_advance(w->br, (int)nbuf);
	for (i = 0; i < w->nrearm; i++)
		arm_recv(w, w->rearm[i]);
	w->nrearm = 0;
}

/*
 * Write the next packet of <leg> into its buffer: sequence number and
 * timestamp, and for an SRTP leg the plain payload again (protection
 * encrypted the last one in place) and the transform. The sequence
 * number advances even when protection fails, so that each index is
 * protected once. Returns the length to send, 0 on failure.
 */
static unsigned build_packet(struct rb_worker *w, struct rb_leg *leg)
{
	uint8_t *h = leg->pkt;
	int len = RB_PKT_LEN;

	h[2] = (uint8_t)(leg->seq >> 8);
	h[3] = (uint8_t)leg->seq;
	h[4] = (uint8_t)(leg->ts >> 24);
	h[5] = (uint8_t)(leg->ts >> 16);
	h[6] = (uint8_t)(leg->ts >> 8);
	h[7] = (uint8_t)leg->ts;
	leg->last_seq = leg->seq;
	leg->seq++;
	leg->ts += RB_PAYLOAD;
	if (leg->srtp_tx) {
		bool timed = (h[3] & (RB_SRTP_SAMPLE - 1)) == 0;
		uint64_t t0 = timed ? thread_cpu_ns() : 0;
		uint32_t l = (uint32_t)len;
		int se;

		memcpy(h + RB_RTP_HDR, tone_for(leg->pt_tx), RB_PAYLOAD);
		se = srtpx_protect(leg->srtp_tx, h, &l, false);
		len = (int)l;
		if (timed)
			srtp_sample(w, t0);
		if (se) {
			CTR_INC(w->st.srtp_err);
			return 0;
		}
	}
	return (unsigned)len;
}

/*
 * Send the legs of sub-tick <slot>, scheduled for <sched> (monotonic).
 * A chunk is built (and protected) first, then stamped just before its
 * submit, so the stamp is at most CHUNK sends early. The packet and
 * msghdr are the leg's own and the next send of the same leg comes
 * 20 ms later.
 */
static void send_slot(struct rb_worker *w, unsigned slot, uint64_t sched,
		      uint64_t now, bool in_win)
{
	unsigned i = w->slot_start[slot], end = w->slot_start[slot + 1];

	if (in_win) {
		uint64_t lag = now > sched ? now - sched : 0;

		rb_hist_add(w->st.lag, lag);
		if (lag > w->st.lag_max_ns)
			CTR_ADD(w->st.lag_max_ns, lag - w->st.lag_max_ns);
	}

	while (i < end) {
		unsigned stop = i + CHUNK < end ? i + CHUNK : end, j;
		unsigned len[CHUNK];
		uint64_t real;

		for (j = i; j < stop; j++)
			len[j - i] = build_packet(w, w->legs[j]);
		real = rb_real_ns();

		for (j = i; j < stop; j++) {
			struct rb_leg *leg = w->legs[j];
			struct io_uring_sqe *sqe;
			struct rb_sent *e;

			if (!len[j - i])
				continue;
			sqe = get_sqe(w);
			if (!sqe) {
				CTR_INC(w->st.tx_err);
				continue;
			}
			e = &leg->ring[leg->last_seq & (RB_RING - 1)];
			e->ns = real;
			e->seq = leg->last_seq;
			e->in_win = in_win;
			e->pad = 1;

			leg->iov.iov_len = len[j - i];
			io_uring_prep_sendmsg(sqe, leg->fd, &leg->mh, 0);
			if (w->skip_ok)
				sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
			io_uring_sqe_set_data64(sqe,
				(uint64_t)(uintptr_t)leg | UD_SEND);

			leg->sent_any = true;
			CTR_INC(w->st.sent_all);
			if (in_win)
				CTR_INC(w->st.sent);
		}
		io_uring_submit(&w->ring);
		i = stop;
	}
}

static void wait_until(struct rb_worker *w, uint64_t deadline, uint64_t now)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	uint64_t d = deadline > now ? deadline - now : 0;

	ts.tv_sec = (long long)(d / 1000000000ull);
	ts.tv_nsec = (long long)(d % 1000000000ull);
	io_uring_submit_and_wait_timeout(&w->ring, &cqe, WAIT_NR, &ts, NULL);
	reap(w);
}

/*
 * The worker's loop: send what is due, sleep in the ring until the next
 * sub-tick or a completion, reap. Bounded by the schedule's drain_end
 * (or a stop plus the drain time); each turn sleeps at most one
 * sub-tick while sending.
 */
static void worker_run(struct rb_worker *w)
{
	const struct rb_times *tm = &w->eng->tm;
	const uint64_t sub = RB_PERIOD_NS / RB_SLOTS;
	uint64_t win_end = tm->win_end, drain_end = tm->drain_end;
	uint64_t k = 0, now;
	bool sending = true;

	for (;;) {
		now = rb_mono_ns();
		if (sending && __atomic_load_n(&w->eng->stop,
					       __ATOMIC_RELAXED)) {
			uint64_t drain = tm->drain_end - tm->win_end;

			if (now < win_end) {
				win_end = now;
				drain_end = now + drain;
			}
		}
		while (sending) {
			uint64_t sched = tm->t0 + k * sub;

			if (sched >= win_end) {
				sending = false;
				break;
			}
			if (sched > now)
				break;
			send_slot(w, (unsigned)(k % RB_SLOTS), sched, now,
				  sched >= tm->win_start);
			k++;
			now = rb_mono_ns();
			/*
			 * Catching up a period or more late: reap on the
			 * way, or the buffer ring runs dry and every
			 * multishot ends while we only send.
			 */
			if (k % RB_SLOTS == 0 && now > sched + RB_PERIOD_NS) {
				io_uring_get_events(&w->ring);
				reap(w);
			}
		}
		if (now >= drain_end)
			break;
		if (sending) {
			uint64_t next = tm->t0 + k * sub;

			wait_until(w, next < win_end ? next : win_end, now);
		}
		else {
			uint64_t next = now + 10000000ull;

			wait_until(w, next < drain_end ? next : drain_end,
				   now);
		}
	}
}

/*
 * Cancel the multishot receives and reap until the kernel has let go
 * of every buffer, bounded by STOP_TMO_NS; only then may the buffers
 * be freed (the caller keeps them when this times out).
 */
static bool worker_quiesce(struct rb_worker *w)
{
	struct io_uring_sqe *sqe;
	uint64_t deadline;

	w->stopping = true;
	sqe = get_sqe(w);
	if (!sqe)
		return false;
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data64(sqe, 0);
	deadline = rb_mono_ns() + STOP_TMO_NS;
	for (;;) {
		uint64_t now = rb_mono_ns();

		reap(w);
		if (w->armed == 0)
			return true;
		if (now >= deadline)
			return false;
		wait_until(w, now + 10000000ull, now);
	}
}

static void worker_finish_jitter(struct rb_worker *w)
{
	unsigned i;

	for (i = 0; i < w->nlegs; i++) {
		const struct rb_leg *leg = w->legs[i];
		double ms;

		if (!leg->jit_init)
			continue;
		ms = leg->jitter / 8.0;
		w->st.jit_sum_ms += ms;
		w->st.jit_n++;
		if (ms > w->st.jit_max_ms)
			w->st.jit_max_ms = ms;
	}
}

static void *worker_main(void *arg)
{
	struct rb_worker *w = arg;
	struct rb_engine *eng = w->eng;
	bool run, quiet = true;

	if (eng->rt_prio > 0) {
		struct sched_param sp = { .sched_priority = eng->rt_prio };

		w->err = pthread_setschedparam(pthread_self(), SCHED_FIFO,
					       &sp);
	}
	if (!w->err)
		w->err = worker_setup(w);

	pthread_mutex_lock(&eng->mtx);
	eng->ready++;
	pthread_cond_broadcast(&eng->cond);
	while (!eng->go && !eng->abort)
		pthread_cond_wait(&eng->cond, &eng->mtx);
	run = eng->go && !eng->abort;
	pthread_mutex_unlock(&eng->mtx);

	if (run && !w->err)
		worker_run(w);
	worker_finish_jitter(w);

	if (w->ring_ok) {
		if (w->armed)
			quiet = worker_quiesce(w);
		io_uring_queue_exit(&w->ring);
	}
	if (quiet) {
		free(w->bufs);
		free(w->br);
	}
	/* else: the kernel may still own them; leak rather than corrupt */
	w->bufs = NULL;
	w->br = NULL;
	return NULL;
}

/* Place stream <i>'s legs in the worker's sub-tick lists. */
static unsigned slot_of(unsigned local_stream, unsigned side)
{
	return (local_stream + side * (RB_SLOTS / 2)) % RB_SLOTS;
}

static int engine_build(struct rb_engine *eng, struct rb_leg *legs,
			unsigned nlegs)
{
	unsigned t, i, nstreams = nlegs / 2;

	for (t = 0; t < eng->n; t++) {
		struct rb_worker *w = &eng->w[t];
		unsigned cnt[RB_SLOTS] = { 0 }, pos[RB_SLOTS], s, local;

		w->eng = eng;
		w->idx = t;
		for (i = t, local = 0; i < nstreams; i += eng->n, local++) {
			cnt[slot_of(local, 0)]++;
			cnt[slot_of(local, 1)]++;
			w->nlegs += 2;
		}
		w->legs = calloc(w->nlegs ? w->nlegs : 1, sizeof(*w->legs));
		w->rearm = calloc(w->nlegs ? w->nlegs : 1, sizeof(*w->rearm));
		if (!w->legs || !w->rearm)
			return ENOMEM;
		w->slot_start[0] = 0;
		for (s = 0; s < RB_SLOTS; s++) {
			w->slot_start[s + 1] = w->slot_start[s] + cnt[s];
			pos[s] = w->slot_start[s];
		}
		for (i = t, local = 0; i < nstreams; i += eng->n, local++) {
			w->legs[pos[slot_of(local, 0)]++] = &legs[2 * i];
			w->legs[pos[slot_of(local, 1)]++] = &legs[2 * i + 1];
		}
	}
	return 0;
}

void rb_engine_free(struct rb_engine *eng)
{
	unsigned t;

	if (!eng)
		return;
	for (t = 0; t < eng->n; t++) {
		free(eng->w[t].legs);
		free(eng->w[t].rearm);
	}
	free(eng->w);
	pthread_cond_destroy(&eng->cond);
	pthread_mutex_destroy(&eng->mtx);
	free(eng);
}

int rb_engine_start(struct rb_engine **engp, struct rb_leg *legs,
		    unsigned nlegs, unsigned nthreads, int rt_prio)
{
	struct rb_engine *eng;
	struct timespec dl;
	unsigned t, created = 0;
	int err = 0;

	if (!engp || !legs || nlegs < 2 || nlegs % 2 || !nthreads)
		return EINVAL;
	if (nthreads > nlegs / 2)
		nthreads = nlegs / 2;

	eng = calloc(1, sizeof(*eng));
	if (!eng)
		return ENOMEM;
	pthread_mutex_init(&eng->mtx, NULL);
	pthread_cond_init(&eng->cond, NULL);
	eng->n = nthreads;
	eng->rt_prio = rt_prio;
	eng->w = calloc(nthreads, sizeof(*eng->w));
	if (!eng->w) {
		err = ENOMEM;
		goto out;
	}
	err = engine_build(eng, legs, nlegs);
	if (err)
		goto out;

	for (t = 0; t < nthreads; t++) {
		err = pthread_create(&eng->w[t].tid, NULL, worker_main,
				     &eng->w[t]);
		if (err)
			break;
		eng->w[t].started = true;
		created++;
	}

	/* wait for every started worker to be armed (or to have failed) */
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += READY_TMO_S;
	pthread_mutex_lock(&eng->mtx);
	while (eng->ready < created) {
		if (pthread_cond_timedwait(&eng->cond, &eng->mtx, &dl)
		    == ETIMEDOUT) {
			err = err ? err : ETIMEDOUT;
			break;
		}
	}
	for (t = 0; t < created && !err; t++)
		err = eng->w[t].err;
	if (err) {
		eng->abort = true;
		pthread_cond_broadcast(&eng->cond);
	}
	pthread_mutex_unlock(&eng->mtx);

	if (err) {
		for (t = 0; t < created; t++)
			pthread_join(eng->w[t].tid, NULL);
	}
 out:
	if (err)
		rb_engine_free(eng);
	else
		*engp = eng;
	return err;
}

void rb_engine_go(struct rb_engine *eng, const struct rb_times *tm)
{
	pthread_mutex_lock(&eng->mtx);
	eng->tm = *tm;
	eng->go = true;
	pthread_cond_broadcast(&eng->cond);
	pthread_mutex_unlock(&eng->mtx);
}

void rb_engine_stop(struct rb_engine *eng)
{
	__atomic_store_n(&eng->stop, 1, __ATOMIC_RELAXED);
}

void rb_engine_peek(struct rb_engine *eng, struct rb_stats *st)
{
	unsigned t;

	memset(st, 0, sizeof(*st));
	for (t = 0; t < eng->n; t++)
		rb_stats_add(st, &eng->w[t].st);
}

int rb_engine_join(struct rb_engine *eng, struct rb_stats *st)
{
	unsigned t;
	int err = 0;

	memset(st, 0, sizeof(*st));
	for (t = 0; t < eng->n; t++) {
		if (!eng->w[t].started)
			continue;
		pthread_join(eng->w[t].tid, NULL);
		eng->w[t].started = false;
		rb_stats_add(st, &eng->w[t].st);
		/* written by the worker at its end: read only after join */
		st->jit_sum_ms += eng->w[t].st.jit_sum_ms;
		st->jit_n += eng->w[t].st.jit_n;
		if (eng->w[t].st.jit_max_ms > st->jit_max_ms)
			st->jit_max_ms = eng->w[t].st.jit_max_ms;
		if (!err)
			err = eng->w[t].err;
	}
	return err;
}
