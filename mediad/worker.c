/* mediad/worker.c  Media worker: one thread, one io_uring, one command queue */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cmdq.h"
#include "log.h"
#include "shm.h"
#include "slot.h"
#include "relay.h"
#include "stream.h"
#include "worker.h"

#define CTL_BUDGET  64     /* commands handled per loop turn */

struct worker {
	struct io_uring ring;
	struct slot_tbl slots;
	struct cmdq q;             /* control thread -> this worker */
	pthread_t thread;
	uint32_t idx;
	uint64_t tick_ns;
	uint64_t next_tick_ns;
	bool have_ring;
	int evfd;                  /* worker_cmd() writes, the ring reads */
	struct slot *ev_slot;      /* the armed eventfd read, or NULL */
	bool stopping;
	bool stop_sent;            /* control thread: STOP is queued */
	uint32_t queued;           /* control thread: commands pushed */
	struct shm_worker *stats;  /* written only by this thread */
	struct log_limit ll;
	_Atomic uint64_t synced;
	uint32_t napplied;         /* worker: commands handled */
	_Atomic uint32_t applied;  /* napplied, published per turn */
	int wake_fd;               /* control thread's eventfd, or -1 */
	_Atomic uint64_t beat_ms;
	_Atomic uint64_t ncmds;
	struct shm_worker own;     /* when no shm counters were given */

	struct relay relay;        /* the packet path */
	bool have_relay;
	uint64_t next_scan_ns;
};

/* Counters have one writer: a relaxed load and store, no locked add. */
static inline void ctr_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
			      + v, memory_order_relaxed);
}

/* An SQE, submitting what is queued if the SQ is full; NULL if even
 * that does not free one. */
static struct io_uring_sqe *get_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

static slot_done_h ev_done;

/* Arm the eventfd read in slot <s>. Returns 0 or ENOSPC (no SQE). */
static int ev_arm(struct worker *w, struct slot *s)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return ENOSPC;

	io_uring_prep_read(sqe, w->evfd, &s->u64, sizeof(s->u64), 0);
	io_uring_sqe_set_data(sqe, s);
	return 0;
}

/*
 * The eventfd read completed: commands are waiting (the loop drains the
 * queue on every turn, so there is nothing to do here but re-arm). The
 * slot goes back once the worker is stopping, whether the read finished
 * or was cancelled, and after a failed read: the next tick arms a new
 * one, so a persistent error cannot spin the loop.
 */
static void ev_done(struct slot *s, int32_t res, uint32_t flags)
{
	struct worker *w = s->arg;

	if (res < 0 && res != -ECANCELED) {
		log_limit(&w->ll, LOG_LVL_WARN, "worker",
			  "worker %u: eventfd read: %s", w->idx,
			  strerror(-res));
	}
	if (res >= 0 && !w->stopping && !ev_arm(w, s))
		return;

	slot_put(&w->slots, s);
	w->ev_slot = NULL;
}

/* Arm a fresh eventfd read if none is (startup, or a failed re-arm:
 * meanwhile commands still run on every tick). */
static void ev_ensure(struct worker *w)
{
	struct slot *s;

	if (w->ev_slot || w->stopping)
		return;

	s = slot_get(&w->slots, ev_done, w);
	if (!s)
		return;
	if (ev_arm(w, s)) {
		slot_put(&w->slots, s);
		return;
	}
	w->ev_slot = s;
}

static void cancel_done(struct slot *s, int32_t res, uint32_t flags)
{
	struct worker *w = s->arg;

	slot_put(&w->slots, s);
}

/*
 * Leave the loop once nothing is in flight: cancel the pending requests
 * (today the eventfd read; the sockets' receives will join it). Each
 * one's CQE, -ECANCELED or its normal result if it won the race,
 * returns its slot. If the cancel cannot be queued, a write to our own
 * eventfd completes the read just as well.
 */
static void begin_stop(struct worker *w)
{
	struct io_uring_sqe *sqe;
	struct slot *s;
	uint64_t one = 1;

	if (w->stopping)
		return;

	w->stopping = true;
	relay_stop(&w->relay);
	if (!w->ev_slot)
		return;

	s = slot_get(&w->slots, cancel_done, w);
	sqe = s ? get_sqe(w) : NULL;
	if (sqe) {
		io_uring_prep_cancel(sqe, w->ev_slot, 0);
		io_uring_sqe_set_data(sqe, s);
		return;
	}
	if (s)
		slot_put(&w->slots, s);
	if (write(w->evfd, &one, sizeof(one)) != sizeof(one))
		log_err("worker", "worker %u: cannot stop: %m", w->idx);
}

/*
 * Tell the control thread that the commands up to <napplied> are in
 * effect: it holds the NG replies of the commands until then (ngack.h).
 * The release store orders every write of the handlers before it; the
 * eventfd wakes the control thread, which reads the counter after
 * reading the eventfd, so a wake-up is never lost.
 */
static void ack_publish(struct worker *w)
{
	uint64_t one = 1;

	atomic_store_explicit(&w->applied, w->napplied, memory_order_release);
	if (w->wake_fd != -1 &&
	    write(w->wake_fd, &one, sizeof(one)) != sizeof(one))
		log_limit(&w->ll, LOG_LVL_WARN, "worker",
			  "worker %u: ack wake: %s", w->idx, strerror(errno));
}

/* Handle at most <budget> commands. Returns true if more wait. */
static bool ctl_drain(struct worker *w, unsigned budget)
{
	struct cmdq_item it;
	uint32_t first = w->napplied;

	while (budget-- && cmdq_pop(&w->q, &it)) {
		++w->napplied;
		/* counted first: whoever sees a SYNC sees the count too */
		ctr_add(&w->ncmds, 1);
		switch (it.type) {

		case WORKER_CMD_STOP:
			begin_stop(w);
			break;

		case WORKER_CMD_SYNC:
			atomic_store_explicit(&w->synced, it.u64,
					      memory_order_release);
			break;

		case WORKER_CMD_STREAM_ADD:
			if (!w->stopping)
				relay_add(&w->relay, it.ptr);
			else
				atomic_store_explicit(&((struct stream *)
					it.ptr)->state, STREAM_DEAD,
					memory_order_release);
			break;

		case WORKER_CMD_STREAM_UPDATE:
			/* also for one we never had: <pending> must clear */
			relay_update(&w->relay, it.ptr);
			break;

		case WORKER_CMD_STREAM_DEL:
			relay_del(&w->relay, it.ptr);
			break;

		default:
			log_limit(&w->ll, LOG_LVL_WARN, "worker",
				  "worker %u: unknown command %u", w->idx,
				  it.type);
			break;
		}
	}
	if (w->napplied != first)
		ack_publish(w);
	return cmdq_count(&w->q) != 0;
}

/* Periodic work, like redis' serverCron: the heartbeat now; session
 * timeouts and RTCP later. */
static void timers_run(struct worker *w, uint64_t now_ns)
{
	if (now_ns < w->next_tick_ns)
		return;

	atomic_store_explicit(&w->beat_ms, now_ns / 1000000,
			      memory_order_relaxed);
	ev_ensure(w);
	if (now_ns >= w->next_scan_ns) {
		relay_scan(&w->relay, now_ns);
		w->next_scan_ns = now_ns + 1000000000ull;
	}
	w->next_tick_ns += w->tick_ns;
	if (w->next_tick_ns <= now_ns)      /* we were late: skip, no burst */
		w->next_tick_ns = now_ns + w->tick_ns;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t t_end = clock_ns(), t_wake, t;
	bool more = false;

	w->next_tick_ns = t_end;
	for (;;) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { 0, 0 };
		unsigned head, n = 0;
		int ret;

		if (!more && t_end < w->next_tick_ns) {
			uint64_t d = w->next_tick_ns - t_end;

			ts.tv_sec = (long long)(d / 1000000000);
			ts.tv_nsec = (long long)(d % 1000000000);
		}
		ret = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts,
						       NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR &&
		    ret != -EAGAIN && ret != -EBUSY) {
			log_limit(&w->ll, LOG_LVL_ERROR, "worker",
				  "worker %u: io_uring wait: %s", w->idx,
				  strerror(-ret));
		}
		t_wake = clock_ns();

		io_uring_for_each_cqe(&w->ring, head, cqe) {
			struct slot *s = io_uring_cqe_get_data(cqe);

			s->done(s, cqe->res, cqe->flags);
			++n;
		}
		io_uring_cq_advance(&w->ring, n);

		more = ctl_drain(w, CTL_BUDGET);
		timers_run(w, t_wake);
		/* the turn's recycled buffers go back in one store */
		relay_turn_end(&w->relay);
		if (w->stopping && slot_inuse(&w->slots) == 0 &&
		    relay_sends(&w->relay) == 0)
			break;

		/* busy: from the wake-up to here; loop: the whole turn */
		t = clock_ns();
		ctr_add(&w->stats->loops, 1);
		ctr_add(&w->stats->busy_ns, t - t_wake);
		ctr_add(&w->stats->loop_ns, t - t_end);
		t_end = t;
	}
	return NULL;
}

static void worker_free(struct worker *w)
{
	if (w->have_relay)
		relay_fini(&w->relay);
	if (w->have_ring)
		io_uring_queue_exit(&w->ring);
	if (w->evfd != -1)
		close(w->evfd);
	cmdq_fini(&w->q);
	slot_fini(&w->slots);
	free(w);
}

int worker_start(struct worker **wp, const struct worker_prm *prm)
{
	struct io_uring_params p;
	uint32_t entries, nslots, qsize, tick_ms, nbufs;
	sigset_t all, old;
	struct worker *w;
	char name[16];
	int err, ret;

	if (!wp || !prm)
		return EINVAL;

	entries = prm->ring_entries ? prm->ring_entries : 256;
	nslots = prm->nslots ? prm->nslots : 2 * entries;
	qsize = prm->queue_size ? prm->queue_size : 1024;
	tick_ms = prm->tick_ms ? prm->tick_ms : 100;

	/* aligned: the queue's indices sit on their own cache lines */
	w = aligned_alloc(64, (sizeof(*w) + 63) & ~(size_t)63);
	if (!w)
		return ENOMEM;
	memset(w, 0, sizeof(*w));
	w->evfd = -1;
	w->wake_fd = prm->wake_fd > 0 ? prm->wake_fd : -1;
	w->idx = prm->idx;
	w->tick_ns = (uint64_t)tick_ms * 1000000;
	w->stats = prm->stats ? prm->stats : &w->own;
	log_limit_init(&w->ll, 1000, 5);
	nbufs = prm->nbufs ? prm->nbufs : 4096;
	if (nbufs & (nbufs - 1) || nbufs > 32768) {
		err = EINVAL;
		goto out;
	}

	err = slot_init(&w->slots, nslots);
	if (err)
		goto out;
	err = cmdq_init(&w->q, qsize);
	if (err)
		goto out;

	w->evfd = eventfd(0, EFD_CLOEXEC);
	if (w->evfd == -1) {
		err = errno;
		goto out;
	}

	/* a CQ deep enough for a turn's packets and their sends; task
	 * work runs when we enter the kernel anyway (COOP_TASKRUN) */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN |
		IORING_SETUP_SUBMIT_ALL;
	p.cq_entries = 4 * nbufs;
	ret = io_uring_queue_init_params(entries, &w->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = 4 * nbufs;
		ret = io_uring_queue_init_params(entries, &w->ring, &p);
	}
	if (ret < 0) {
		err = -ret;
		log_err("worker", "worker %u: io_uring_queue_init(%u): %s%s",
			w->idx, entries, strerror(err),
			(err == ENOSYS || err == EPERM) ? " (io_uring is not "
			"available: old kernel, seccomp filter or sysctl "
			"kernel.io_uring_disabled)" : "");
		goto out;
	}
	w->have_ring = true;

	{
		struct relay_prm rp = {
			.ring = &w->ring,
			.slots = &w->slots,
			.stats = w->stats,
			.idx = w->idx,
			.sessions = prm->sessions,
			.nsessions = prm->nsessions,
			.events = prm->events,
			.timeout_s = prm->timeout_s,
			.nbufs = nbufs,
			.bufsz = prm->bufsz,
			.wake_fd = prm->wake_fd > 0 ? prm->wake_fd : -1,
		};

		err = relay_init(&w->relay, &rp);
		w->have_relay = true;
	}
	if (err) {
		log_err("worker", "worker %u: provided buffer ring: %s",
			w->idx, strerror(err));
		goto out;
	}

	/* queued now, submitted by the thread's first turn */
	ev_ensure(w);
	if (!w->ev_slot) {
		err = ENOSPC;
		goto out;
	}

	/* Workers take no signals: the control thread handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto out;

	snprintf(name, sizeof(name), "mediad-w%u", w->idx);
	pthread_setname_np(w->thread, name);
 out:
	if (err)
		worker_free(w);          /* nothing was submitted yet */
	else
		*wp = w;
	return err;
}

int worker_cmd(struct worker *w, enum worker_cmd cmd, uint64_t arg)
{
	struct cmdq_item it = { .type = cmd, .u64 = arg };
	uint64_t one = 1;
	int err;

	if (!w)
		return EINVAL;
	if (w->stop_sent)
		return ESHUTDOWN;

	err = cmdq_push(&w->q, &it);
	if (err)
		return err;
	++w->queued;
	if (cmd == WORKER_CMD_STOP)
		w->stop_sent = true;

	/* The worker re-reads the queue on every turn; this only wakes it.
	 * A blocking eventfd write fails only on counter overflow. */
	if (write(w->evfd, &one, sizeof(one)) != sizeof(one))
		log_warn("worker", "worker %u: wake: %m", w->idx);
	return 0;
}

void worker_stop(struct worker *w)
{
	struct timespec ts = { 0, 1000000 };

	if (!w)
		return;

	/* Until STOP is queued the worker runs, so a full queue drains
	 * within a turn: STOP gets in. */
	while (!w->stop_sent && worker_cmd(w, WORKER_CMD_STOP, 0) == ENOSPC)
		nanosleep(&ts, NULL);

	pthread_join(w->thread, NULL);
	worker_free(w);
}

int worker_cmd_ptr(struct worker *w, enum worker_cmd cmd, void *ptr)
{
	struct cmdq_item it = { .type = cmd, .ptr = ptr };
	uint64_t one = 1;
	int err;

	if (!w)
		return EINVAL;
	if (w->stop_sent)
		return ESHUTDOWN;

	err = cmdq_push(&w->q, &it);
	if (err)
		return err;
	++w->queued;
	if (write(w->evfd, &one, sizeof(one)) != sizeof(one))
		log_warn("worker", "worker %u: wake: %m", w->idx);
	return 0;
}

void worker_set_timeout(struct worker *w, uint32_t seconds)
{
	relay_set_timeout(&w->relay, seconds);
}

uint64_t worker_synced(const struct worker *w)
{
	return atomic_load_explicit(&w->synced, memory_order_acquire);
}

uint32_t worker_queued(const struct worker *w)
{
	return w->queued;
}

uint32_t worker_applied(const struct worker *w)
{
	return atomic_load_explicit(&w->applied, memory_order_acquire);
}

uint64_t worker_beat_ms(const struct worker *w)
{
	return atomic_load_explicit(&w->beat_ms, memory_order_relaxed);
}

uint64_t worker_timeouts(const struct worker *w)
{
	return relay_timeouts(&w->relay);
}

void worker_srtp_counters(const struct worker *w, uint64_t *auth_fail,
			  uint64_t *replay, uint64_t *error)
{
	relay_srtp_counters(&w->relay, auth_fail, replay, error);
}

bool worker_dtls_pop(struct worker *w, struct relay_dgram *d)
{
	return relay_dtls_pop(&w->relay, d);
}

void worker_webrtc_counters(const struct worker *w, struct relay_wctr *c)
{
	relay_webrtc_counters(&w->relay, c);
}

uint64_t worker_ncmds(const struct worker *w)
{
	return atomic_load_explicit(&w->ncmds, memory_order_relaxed);
}
