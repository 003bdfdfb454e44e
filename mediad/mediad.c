/* mediad/mediad.c  The daemon: start in dependency order, control loop, stop */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "shm.h"
#include "mconf.h"
#include "ngsrv.h"
#include "call.h"
#include "worker.h"
#include "sdes.h"
#include "dtls.h"
#include "relay.h"
#include "webrtc.h"
#include "mediad.h"

#define RING_SLOTS      4096    /* event records per shm ring */
#define RING_SLOT_SIZE  256     /* bytes per record, header included */
#define TICK_MS         1000    /* control thread: heartbeat, rates */
#define STALL_MS        3000    /* a worker silent this long is stuck */
#define NG_BUDGET       64      /* datagrams per poll() wake-up */

struct mediad {
	struct mconf conf;            /* running config */
	char path[PATH_MAX];
	unsigned verbose;
	sigset_t sigs;                /* read through sigfd */
	sigset_t oldmask;
	int sigfd;
	struct shm_seg seg;
	bool have_seg;
	struct worker **workers;
	bool *stalled;                /* per worker, for the watchdog */
	uint32_t nworkers;
	struct ngsrv *ng;
	struct calls *calls;
	struct dtls *dtls;            /* our certificate, SSL_CTX */
	int wakefd;                   /* eventfd: workers queued DTLS
	                                 or applied commands */
	uint64_t start_ms;
	uint32_t reloads;

	/* per-second rates for "statistics", from the tick */
	uint64_t last_tick_ms;
	uint64_t last_pkts, last_bytes, last_errs;
	uint64_t rate_pkts, rate_bytes, rate_errs;
};

static enum log_level level_for(enum log_level conf, unsigned verbose)
{
	unsigned lvl = (unsigned)conf + verbose;

	return lvl > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : (enum log_level)lvl;
}

static uint64_t ld(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* Sum of every worker's counters in shm (as sbc would read them). */
static void sum_workers(const struct mediad *md, struct ngcmd_stats *st)
{
	uint32_t i;

	for (i = 0; i < md->nworkers; i++) {
		const struct shm_worker *sw = shm_worker(&md->seg, i);

		st->sessions_own += ld(&sw->sessions);
		st->packets_in += ld(&sw->packets_in);
		st->packets_out += ld(&sw->packets_out);
		st->bytes_in += ld(&sw->bytes_in);
		st->bytes_out += ld(&sw->bytes_out);
		st->packets_dropped += ld(&sw->packets_dropped);
		st->packets_lost += ld(&sw->packets_lost);
		st->transcoded += ld(&sw->transcoded);
		st->nobufs += ld(&sw->nobufs);
	}
}

/* ngcmd's "statistics": runs on the control thread. */
static void stats_fill(struct ngcmd_stats *st, void *arg)
{
	const struct mediad *md = arg;
	struct ngsrv_ctr ctr;
	uint32_t i;

	st->uptime_s = (clock_ms() - md->start_ms) / 1000;
	st->workers = md->nworkers;
	sum_workers(md, st);
	for (i = 0; i < md->nworkers; i++) {
		uint64_t af, rp, er;

		st->sessions_timeout += worker_timeouts(md->workers[i]);
		worker_srtp_counters(md->workers[i], &af, &rp, &er);
		st->srtp_auth_fail += af;
		st->srtp_replay += rp;
		st->srtp_error += er;
		{
			struct relay_wctr wc;

			worker_webrtc_counters(md->workers[i], &wc);
			st->stun_ok += wc.stun_ok;
			st->stun_fail += wc.stun_fail;
			st->dtls_in += wc.dtls_in;
			st->dtls_drop += wc.dtls_drop;
			st->demux_drop += wc.demux_drop;
		}
	}
	st->packet_rate = md->rate_pkts;
	st->byte_rate = md->rate_bytes;
	st->error_rate = md->rate_errs;
	ngsrv_counters(md->ng, &ctr);
	st->ng_dropped = ctr.dropped;
	st->ng_cached = ctr.cached;
	st->ng_parked = ctr.parked;
	st->ng_ackfull = ctr.ackfull;
	st->ng_acklate = ctr.acklate;
	if (md->calls) {
		struct calls_ctr cc;

		calls_counters(md->calls, &cc);
		st->sessions_managed = cc.created;
		st->sessions_rejected = cc.rejected;
		st->transcoded_media = cc.transcoding;
		st->dtls_up = cc.dtls_up;
		st->dtls_failed = cc.dtls_failed;
	}
}

/* The pid in the header of segment <name>, or 0 if unreadable. */
static int32_t shm_owner(const char *name)
{
	struct shm_hdr hdr;
	ssize_t n;
	int fd;

	fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
	if (fd == -1)
		return 0;
	n = pread(fd, &hdr, sizeof(hdr), 0);
	close(fd);
	if (n != (ssize_t)sizeof(hdr) || hdr.magic != SHM_MAGIC)
		return 0;
	return hdr.pid;
}

static bool shm_exists(const char *name)
{
	int fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);

	if (fd == -1)
		return false;
	close(fd);
	return true;
}

static int shm_start(struct mediad *md)
{
	struct shm_layout lay = {
		.nworkers   = md->nworkers,
		.nsessions  = mconf_nsessions(&md->conf),
		.nrings     = md->nworkers + 1,   /* last: control thread */
		.ring_slots = RING_SLOTS,
		.slot_size  = RING_SLOT_SIZE,
	};
	const char *name = md->conf.shm_name;
	bool existed = shm_exists(name);
	int err;

	err = shm_create(&md->seg, name, &lay);
	if (err == EEXIST) {
		log_err("shm", "another mediad (pid %d) owns %s",
			(int)shm_owner(name), name);
		return err;
	}
	if (err) {
		log_err("shm", "cannot create %s: %s", name, strerror(err));
		return err;
	}
	md->have_seg = true;

	if (existed)
		log_warn("shm", "replaced stale segment %s", name);
	log_info("shm", "created /dev/shm%s: %zu bytes, generation %u, "
		 "%u workers, %u sessions, %u rings of %u x %u bytes",
		 name, md->seg.size, md->seg.hdr->generation, lay.nworkers,
		 lay.nsessions, lay.nrings, lay.ring_slots, lay.slot_size);
	atomic_store_explicit(&md->seg.hdr->heartbeat_ms, clock_ms(),
			      memory_order_release);
	return 0;
}

static int workers_start(struct mediad *md)
{
	uint32_t i;
	int err;

	md->workers = calloc(md->nworkers, sizeof(*md->workers));
	md->stalled = calloc(md->nworkers, sizeof(*md->stalled));
	if (!md->workers || !md->stalled)
		return ENOMEM;

	for (i = 0; i < md->nworkers; i++) {
		struct worker_prm prm = {
			.idx = i,
			.stats = shm_worker(&md->seg, i),
			.sessions = shm_session(&md->seg, 0),
			.nsessions = mconf_nsessions(&md->conf),
			.events = shm_ring(&md->seg, i),
			.timeout_s = md->conf.media_timeout,
			/* a multishot receive per socket: two sockets per
			 * port pair of the worker's slice, plus cancels */
			.nslots = 2 * ((md->conf.port_max - md->conf.port_min
					+ 1) / 2 / md->nworkers + 1) + 1024,
			.wake_fd = md->wakefd,
		};

		err = worker_start(&md->workers[i], &prm);
		if (err) {
			log_err("worker", "cannot start worker %u: %s", i,
				strerror(err));
			return err;
		}
	}
	log_info("worker", "%u workers running, one io_uring each",
		 md->nworkers);
	return 0;
}

/* The call pools, sized by the port range. */
static int calls_start(struct mediad *md)
{
	struct calls_prm prm = {
		.port_min = md->conf.port_min,
		.port_max = md->conf.port_max,
		.nworkers = md->nworkers,
		.workers = md->workers,
		.media_ip = (const struct sockaddr *)&md->conf.media_ip.ss,
		.media_len = md->conf.media_ip.len,
		.advertised = md->conf.advertised_ip.text,
		.sessions = shm_session(&md->seg, 0),
		.delete_delay = md->conf.delete_delay,
		.dtls = md->dtls,
	};
	int err = calls_init(&md->calls, &prm);

	if (err)
		log_err("mediad", "cannot set up the call pools: %s",
			strerror(err));
	return err;
}

static int signals_start(struct mediad *md)
{
	sigemptyset(&md->sigs);
	sigaddset(&md->sigs, SIGTERM);
	sigaddset(&md->sigs, SIGINT);
	sigaddset(&md->sigs, SIGHUP);

	/* UDP never raises SIGPIPE, but a future stream socket might */
	signal(SIGPIPE, SIG_IGN);

	if (pthread_sigmask(SIG_BLOCK, &md->sigs, &md->oldmask))
		return EINVAL;

	md->sigfd = signalfd(-1, &md->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (md->sigfd == -1) {
		int err = errno;

		log_err("mediad", "signalfd: %s", strerror(err));
		return err;
	}
	return 0;
}

int mediad_start(struct mediad **mdp, const struct mconf *conf,
		 const char *path, unsigned verbose)
{
	struct mediad *md;
	int err;

	if (!mdp || !conf || !path)
		return EINVAL;

	md = calloc(1, sizeof(*md));
	if (!md)
		return ENOMEM;
	md->conf = *conf;
	snprintf(md->path, sizeof(md->path), "%s", path);
	md->verbose = verbose;
	md->sigfd = -1;
	md->wakefd = -1;
	md->start_ms = clock_ms();
	md->last_tick_ms = md->start_ms;
	md->nworkers = mconf_nworkers(conf);

	/* log first, then what the rest depends on: signals before any
	 * thread exists, shm before the workers that write into it, and
	 * NG last, once there is something to command */
	log_set_level(level_for(conf->log_level, verbose));
	log_info("mediad", "starting: pid %d, config %s", (int)getpid(),
		 md->path);

	err = signals_start(md);
	if (err)
		goto out;
	err = sdes_global_init();      /* before any NG command (no-op now) */
	if (err)
		goto out;
	/* DTLS: the certificate; the eventfd workers wake us with (DTLS
	 * records queued, commands applied) */
	err = dtls_init(&md->dtls);
	if (err) {
		log_err("dtls", "cannot make the DTLS certificate: %s",
			strerror(err));
		goto out;
	}
	log_info("dtls", "certificate fingerprint sha-256 %s",
		 dtls_fingerprint(md->dtls));
	md->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (md->wakefd == -1) {
		err = errno;
		goto out;
	}
	err = shm_start(md);
	if (err)
		goto out;
	err = workers_start(md);
	if (err)
		goto out;
	err = calls_start(md);
	if (err)
		goto out;
	err = ngsrv_start(&md->ng, &conf->ng_listen, stats_fill, md);
	if (err)
		goto out;
	ngsrv_set_calls(md->ng, md->calls);
	err = ngsrv_set_workers(md->ng, md->workers, md->nworkers);
	if (err)
		goto out;
	log_info("ng", "listening on %s (udp)", conf->ng_listen.text);

	log_info("mediad", "ready: media %s advertised %s ports %u-%u "
		 "media_timeout %us", conf->media_ip.text,
		 conf->advertised_ip.text, conf->port_min, conf->port_max,
		 conf->media_timeout);
 out:
	if (err)
		mediad_stop(md);
	else
		*mdp = md;
	return err;
}

/* Tell sbc, over the control thread's ring, that reload <seq> ended
 * with <result> (0 or an errno): OpenBSD's IMSG_CFG_DONE. */
static void cfg_done(struct mediad *md, int result, uint32_t restart)
{
	struct shm_ring *r = shm_ring(&md->seg, md->nworkers);
	uint8_t buf[16];
	struct shm_msg m;

	msg_init(&m, buf, sizeof(buf));
	msg_add_u32(&m, md->reloads);
	msg_add_u32(&m, (uint32_t)result);
	msg_add_u32(&m, restart);
	if (m.err || shmring_push(r, SHM_EV_CFG_DONE, buf, m.pos))
		log_debug("cfg", "reload %u: event ring full", md->reloads);
}

/*
 * SIGHUP: read and validate the whole file again. Keys that apply live
 * are swapped in together; keys bound at startup (sockets, threads,
 * the segment) keep their running value until a restart and are
 * named in the log. On any error nothing changes.
 */
static void reload(struct mediad *md)
{
	const char *names[8];
	struct mconf next;
	char err[512];
	size_t n, i;
	int e;

	++md->reloads;
	e = mconf_load(&next, md->path, err, sizeof(err));
	if (e) {
		log_err("cfg", "reload failed, keeping the running config: %s",
			err);
		cfg_done(md, e, 0);
		return;
	}

	n = mconf_restart_keys(&md->conf, &next, names, 8);
	for (i = 0; i < n && i < 8; i++)
		log_warn("cfg", "%s changed: needs restart, ignored", names[i]);

	md->conf.log_level = next.log_level;
	md->conf.advertised_ip = next.advertised_ip;
	md->conf.media_timeout = next.media_timeout;
	md->conf.delete_delay = next.delete_delay;
	calls_set_advertised(md->calls, next.advertised_ip.text);
	calls_set_delete_delay(md->calls, next.delete_delay);
	for (i = 0; i < md->nworkers; i++)
		worker_set_timeout(md->workers[i], next.media_timeout);
	log_set_level(level_for(next.log_level, md->verbose));
	log_info("cfg", "reloaded %s: log_level %s, advertised_ip %s, "
		 "media_timeout %us", md->path,
		 log_level_name(next.log_level), next.advertised_ip.text,
		 next.media_timeout);
	cfg_done(md, 0, (uint32_t)n);
}

/* Once a second: heartbeat for sbc, rates, cookie expiry, and a word
 * in the log when a worker stops turning its loop. */
static void tick(struct mediad *md, uint64_t now)
{
	struct ngcmd_stats st;
	uint64_t dt = now - md->last_tick_ms;
	uint32_t i;

	atomic_store_explicit(&md->seg.hdr->heartbeat_ms, now,
			      memory_order_release);

	memset(&st, 0, sizeof(st));
	sum_workers(md, &st);
	if (dt) {
		md->rate_pkts = (st.packets_in - md->last_pkts) * 1000 / dt;
		md->rate_bytes = (st.bytes_in - md->last_bytes) * 1000 / dt;
		md->rate_errs = (st.packets_dropped - md->last_errs) * 1000
				/ dt;
	}
	md->last_pkts = st.packets_in;
	md->last_bytes = st.bytes_in;
	md->last_errs = st.packets_dropped;
	md->last_tick_ms = now;

	ngsrv_tick(md->ng, now);
	ngsrv_ack(md->ng, now);         /* replies a stuck worker holds */
	calls_tick(md->calls, now);

	for (i = 0; i < md->nworkers; i++) {
		uint64_t beat = worker_beat_ms(md->workers[i]);
		bool stuck = beat && now > beat + STALL_MS;

		if (stuck && !md->stalled[i])
			log_err("worker", "worker %u: no heartbeat for %llu ms",
				i, (unsigned long long)(now - beat));
		else if (!stuck && md->stalled[i])
			log_info("worker", "worker %u: running again", i);
		md->stalled[i] = stuck;
	}
}

/* Returns true when the daemon must stop. */
static bool on_signal(struct mediad *md)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(md->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {

		case SIGHUP:
			log_info("cfg", "SIGHUP: reloading %s", md->path);
			reload(md);
			break;

		case SIGTERM:
		case SIGINT:
			log_info("mediad", "%s: stopping (a second signal "
				 "exits at once)", si.ssi_signo == SIGTERM ?
				 "SIGTERM" : "SIGINT");
			stop = true;
			break;

		default:
			break;
		}
		if (stop)
			break;
	}
	return stop;
}

/*
 * A worker woke us: DTLS datagrams it queued go to their legs'
 * handshakes, and the NG replies of the commands it applied go out.
 * The eventfd is read first: whatever a worker publishes after that
 * wakes us again.
 */
static void wake_drain(struct mediad *md)
{
	static struct relay_dgram d;      /* control thread only */
	uint64_t v;
	uint32_t i;
	unsigned n;

	if (read(md->wakefd, &v, sizeof(v)) != sizeof(v) && errno != EAGAIN)
		log_warn("dtls", "eventfd read: %m");
	for (i = 0; i < md->nworkers; i++) {
		for (n = 0; n < RELAY_DTLSQ &&
			     worker_dtls_pop(md->workers[i], &d); n++)
			webrtc_input(md->calls, &d);
	}
	ngsrv_ack(md->ng, clock_ms());
}

int mediad_run(struct mediad *md)
{
	struct pollfd pfd[3];
	uint64_t now, next_tick;
	sigset_t term;

	if (!md)
		return EINVAL;

	pfd[0].fd = ngsrv_fd(md->ng);
	pfd[0].events = POLLIN;
	pfd[1].fd = md->sigfd;
	pfd[1].events = POLLIN;
	pfd[2].fd = md->wakefd;
	pfd[2].events = POLLIN;
	next_tick = clock_ms() + TICK_MS;

	for (;;) {
		int n, wait, dt;

		now = clock_ms();
		if (now >= next_tick) {
			tick(md, now);
			next_tick += TICK_MS;
			if (next_tick <= now)
				next_tick = now + TICK_MS;
		}

		/* DTLS retransmission timers may want us sooner */
		wait = (int)(next_tick - now);
		dt = webrtc_tick(md->calls);
		if (dt >= 0 && dt < wait)
			wait = dt;
		n = poll(pfd, 3, wait);
		if (n == -1) {
			int err = errno;

			if (err == EINTR)
				continue;
			log_err("mediad", "poll: %s", strerror(err));
			return err;
		}
		if ((pfd[1].revents & POLLIN) && on_signal(md))
			break;
		if (pfd[0].revents & POLLIN)
			ngsrv_recv(md->ng, NG_BUDGET);
		if (pfd[2].revents & POLLIN)
			wake_drain(md);
	}

	/* From here SIGTERM/SIGINT take their default action: a second
	 * one ends the process even if the stop hangs. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	return 0;
}

void mediad_stop(struct mediad *md)
{
	uint32_t i;

	if (!md)
		return;

	ngsrv_stop(md->ng);

	/* all at once, then join: they wind down in parallel */
	if (md->workers) {
		for (i = 0; i < md->nworkers; i++) {
			if (md->workers[i])
				worker_cmd(md->workers[i], WORKER_CMD_STOP, 0);
		}
		for (i = 0; i < md->nworkers; i++)
			worker_stop(md->workers[i]);
		log_info("worker", "workers stopped");
	}
	/* the workers let go of every stream: sockets may close now */
	calls_fini(md->calls);
	dtls_fini(md->dtls);             /* after every association */
	if (md->wakefd != -1)
		close(md->wakefd);
	free(md->workers);
	free(md->stalled);

	if (md->have_seg) {
		shm_destroy(&md->seg);
		log_info("shm", "removed %s", md->conf.shm_name);
	}

	if (md->sigfd != -1) {
		close(md->sigfd);
		pthread_sigmask(SIG_SETMASK, &md->oldmask, NULL);
	}
	free(md);
}
