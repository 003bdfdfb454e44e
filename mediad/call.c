/* mediad/call.c  Calls: fixed pool, call-id hash, ports, stream hand-off */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ports.h"
#include "shm.h"
#include "worker.h"
#include "sdes.h"
#include "call.h"

#define NIL          UINT32_MAX
#define BIND_TRIES   64        /* pairs skipped when a port is taken */
#define PENDING_WAIT 200       /* ms to wait for a worker's last update */

struct calls {
	struct call   *v;              /* [ncalls] */
	struct stream *streams;        /* [2 * ncalls] */
	uint32_t      *freel;          /* stack of free call indices */
	uint32_t       nfree;
	uint32_t       ncalls;
	uint32_t      *bucket;         /* [nbuckets] */
	uint32_t       nbuckets;       /* power of two */
	uint32_t       dying;          /* list head, NIL: empty */
	struct ports   ports;
	struct worker **workers;
	uint32_t       nworkers;
	struct sockaddr_storage media;
	socklen_t      media_len;
	char           advertised[64];
	struct shm_session *sess;
	uint32_t       delete_delay;
	uint32_t       gen;            /* generation source */
	struct dtls   *dtls;
	struct calls_ctr ctr;
};

static uint32_t hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;

	while (len--) {
		h ^= (uint8_t)*p++;
		h *= 16777619u;
	}
	return h;
}

int calls_init(struct calls **cp, const struct calls_prm *prm)
{
	struct calls *c;
	uint32_t i;
	int err;

	if (!cp || !prm || !prm->nworkers || !prm->media_ip ||
	    prm->media_len > sizeof(c->media))
		return EINVAL;

	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->ncalls = (prm->port_max - prm->port_min + 1) / 4;
	c->dying = NIL;
	err = ports_init(&c->ports, prm->port_min, prm->port_max,
			 prm->nworkers);
	if (err || !c->ncalls) {
		free(c);
		return err ? err : EINVAL;
	}
	for (c->nbuckets = 16; c->nbuckets < 2 * c->ncalls; c->nbuckets *= 2)
		;
	c->v = calloc(c->ncalls, sizeof(*c->v));
	c->streams = calloc(2 * (size_t)c->ncalls, sizeof(*c->streams));
	c->freel = calloc(c->ncalls, sizeof(*c->freel));
	c->bucket = malloc(c->nbuckets * sizeof(*c->bucket));
	if (!c->v || !c->streams || !c->freel || !c->bucket) {
		calls_fini(c);
		return ENOMEM;
	}
	for (i = 0; i < c->nbuckets; i++)
		c->bucket[i] = NIL;
	/* the stack pops index 0 first */
	for (i = 0; i < c->ncalls; i++) {
		c->freel[i] = c->ncalls - 1 - i;
		c->streams[2 * i].fd_rtp = c->streams[2 * i].fd_rtcp = -1;
		c->streams[2 * i + 1].fd_rtp = -1;
		c->streams[2 * i + 1].fd_rtcp = -1;
	}
	c->nfree = c->ncalls;
	c->workers = prm->workers;
	c->nworkers = prm->nworkers;
	memcpy(&c->media, prm->media_ip, prm->media_len);
	c->media_len = prm->media_len;
	calls_set_advertised(c, prm->advertised ? prm->advertised : "");
	c->sess = prm->sessions;
	c->delete_delay = prm->delete_delay;
	c->dtls = prm->dtls;
	c->ctr.ncalls = c->ncalls;
	*cp = c;
	return 0;
}

/* Every SRTP session <st> holds or retired: nothing uses them any
 * more (its worker let go, or never had it). */
static void stream_srtp_free(struct stream *st)
{
	unsigned i;

	for (i = 0; i < st->nretired; i++)
		sdes_session_free(st->retired[i]);
	st->nretired = 0;
	st->retire_armed = false;
	sdes_session_free(st->next.srtp_in);
	sdes_session_free(st->next.srtp_out);
	st->next.srtp_in = st->next.srtp_out = NULL;
	st->next.srtp = false;
	st->cfg.srtp_in = st->cfg.srtp_out = NULL;
}

static void stream_close(struct stream *st)
{
	if (st->fd_rtp != -1)
		close(st->fd_rtp);
	if (st->fd_rtcp != -1)
		close(st->fd_rtcp);
	st->fd_rtp = st->fd_rtcp = -1;
}

void calls_fini(struct calls *c)
{
	uint32_t i;

	if (!c)
		return;
	if (c->v) {
		for (i = 0; i < c->ncalls; i++) {
			dtls_conn_free(c->v[i].leg[0].dc);
			dtls_conn_free(c->v[i].leg[1].dc);
			c->v[i].leg[0].dc = c->v[i].leg[1].dc = NULL;
		}
	}
	if (c->streams) {
		for (i = 0; i < 2 * c->ncalls; i++) {
			stream_close(&c->streams[i]);
			stream_srtp_free(&c->streams[i]);
		}
	}
	ports_fini(&c->ports);
	free(c->v);
	free(c->streams);
	free(c->freel);
	free(c->bucket);
	free(c);
}

void calls_set_advertised(struct calls *c, const char *addr)
{
	snprintf(c->advertised, sizeof(c->advertised), "%s", addr);
}

const char *calls_advertised(const struct calls *c)
{
	return c->advertised;
}

uint32_t calls_delete_delay(const struct calls *c)
{
	return c->delete_delay;
}

void calls_set_delete_delay(struct calls *c, uint32_t seconds)
{
	c->delete_delay = seconds;
}

struct call *calls_find(struct calls *c, const char *id, size_t len)
{
	uint32_t i;

	if (len >= CALL_ID_MAX)
		return NULL;
	for (i = c->bucket[hash(id, len) & (c->nbuckets - 1)]; i != NIL;
	     i = c->v[i].hnext) {
		struct call *call = &c->v[i];

		if (!strncmp(call->id, id, len) && !call->id[len])
			return call;
	}
	return NULL;
}

static int sock_bind(const struct calls *c, uint16_t port, int *fdp)
{
	struct sockaddr_storage ss = c->media;
	int fd, bufsz = 256 << 10;

	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons(port);

	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd == -1)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (bind(fd, (struct sockaddr *)&ss, c->media_len) == -1) {
		int err = errno;

		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

/* A port pair of slice <w> with both sockets bound for <st>. A port
 * someone else holds is skipped (and stays out of the FIFO's way at
 * its tail). */
static int leg_open(struct calls *c, uint32_t w, struct stream *st,
		    uint16_t *portp)
{
	unsigned tries;
	uint16_t port;
	int err = ENOSPC;

	for (tries = 0; tries < BIND_TRIES; tries++) {
		err = ports_get(&c->ports, w, &port);
		if (err)
			return err;
		err = sock_bind(c, port, &st->fd_rtp);
		if (!err) {
			err = sock_bind(c, port + 1, &st->fd_rtcp);
			if (!err) {
				*portp = port;
				return 0;
			}
			close(st->fd_rtp);
			st->fd_rtp = -1;
		}
		ports_put(&c->ports, port);
		if (err != EADDRINUSE)
			return err;
	}
	return err;
}

int call_new(struct calls *c, const char *id, size_t len,
	     struct call **callp)
{
	struct stream *s0, *s1;
	struct call *call;
	uint32_t idx, w, b;
	uint16_t p0, p1;
	int err;

	if (len >= CALL_ID_MAX)
		return ENAMETOOLONG;

	w = ports_best(&c->ports);
	if (ports_free(&c->ports, w) < 2 || !c->nfree) {
		calls_tick(c, 0);   /* the workers may have let go meanwhile */
		w = ports_best(&c->ports);
	}
	if (ports_free(&c->ports, w) < 2 || !c->nfree) {
		++c->ctr.rejected;
		return ENOSPC;
	}

	idx = c->freel[c->nfree - 1];
	call = &c->v[idx];
	s0 = &c->streams[2 * idx];
	s1 = &c->streams[2 * idx + 1];

	err = leg_open(c, w, s0, &p0);
	if (err)
		goto fail;
	err = leg_open(c, w, s1, &p1);
	if (err) {
		ports_put(&c->ports, p0);
		stream_close(s0);
		goto fail;
	}
	--c->nfree;

	if (!++c->gen)
		++c->gen;
	call->gen = c->gen;
	call->state = CALL_ACTIVE;
	call->worker = w;
	call->started = call->answered = call->transcoding = false;
	call->offerer = 0;
	call->nfmt = 0;
	call->delete_at_ms = 0;
	memset(call->leg, 0, sizeof(call->leg));
	call->leg[0].port = p0;
	call->leg[1].port = p1;
	call->leg[0].call = call->leg[1].call = call;
	call->leg[1].idx = 1;
	call->owner = c;
	memcpy(call->id, id, len);
	call->id[len] = '\0';
	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		call->created_ms = (uint64_t)ts.tv_sec * 1000 +
			(uint64_t)ts.tv_nsec / 1000000;
	}

	b = hash(id, len) & (c->nbuckets - 1);
	call->hnext = c->bucket[b];
	c->bucket[b] = idx;
	call->dnext = NIL;

	s0->peer = s1;
	s1->peer = s0;
	s0->call_idx = s1->call_idx = idx;
	s0->call_gen = s1->call_gen = call->gen;
	s0->leg = 0;
	s1->leg = 1;
	memset(&s0->next, 0, sizeof(s0->next));
	memset(&s1->next, 0, sizeof(s1->next));
	atomic_store_explicit(&s0->pending, 0, memory_order_relaxed);
	atomic_store_explicit(&s1->pending, 0, memory_order_relaxed);
	atomic_store_explicit(&s0->state, STREAM_IDLE, memory_order_relaxed);
	atomic_store_explicit(&s1->state, STREAM_IDLE, memory_order_relaxed);

	if (c->sess) {
		struct shm_session *ss = &c->sess[idx];

		ss->gen = call->gen;
		size_t n = len < sizeof(ss->callid) - 1 ? len :
			sizeof(ss->callid) - 1;

		memcpy(ss->callid, call->id, n);   /* truncated, as shm.h says */
		ss->callid[n] = '\0';
		atomic_store_explicit(&ss->packets[0], 0, memory_order_relaxed);
		atomic_store_explicit(&ss->packets[1], 0, memory_order_relaxed);
		atomic_store_explicit(&ss->bytes[0], 0, memory_order_relaxed);
		atomic_store_explicit(&ss->bytes[1], 0, memory_order_relaxed);
		atomic_store_explicit(&ss->lost[0], 0, memory_order_relaxed);
		atomic_store_explicit(&ss->lost[1], 0, memory_order_relaxed);
		atomic_store_explicit(&ss->jitter_us[0], 0,
				      memory_order_relaxed);
		atomic_store_explicit(&ss->jitter_us[1], 0,
				      memory_order_relaxed);
		ss->created_ms = call->created_ms;
		atomic_store_explicit(&ss->state, SHM_SESS_ACTIVE,
				      memory_order_release);
	}
	++c->ctr.created;
	++c->ctr.active;
	*callp = call;
	return 0;
 fail:
	if (err == ENOSPC)
		++c->ctr.rejected;
	return err;
}

struct stream *call_stream(struct calls *c, const struct call *call,
			   unsigned leg)
{
	return &c->streams[2 * (size_t)(call - c->v) + (leg & 1)];
}

/* Wait (bounded) until the worker took the last update of <st>. */
static int pending_wait(const struct stream *st)
{
	struct timespec ts = { 0, 1000000 };
	unsigned i;

	for (i = 0; i < PENDING_WAIT; i++) {
		if (!atomic_load_explicit(&st->pending, memory_order_acquire))
			return 0;
		nanosleep(&ts, NULL);
	}
	return EBUSY;
}

int call_edit(struct calls *c, struct call *call)
{
	unsigned i;
	int err;

	if (!c->workers || !call->started)
		return 0;
	for (i = 0; i < 2; i++) {
		err = pending_wait(call_stream(c, call, i));
		if (err)
			return err;
	}
	/* the worker took an UPDATE that no longer names the retired
	 * sessions: nothing can use them now */
	for (i = 0; i < 2; i++) {
		struct stream *st = call_stream(c, call, i);
		unsigned j;

		if (!st->retire_armed)
			continue;
		for (j = 0; j < st->nretired; j++)
			sdes_session_free(st->retired[j]);
		st->nretired = 0;
		st->retire_armed = false;
	}
	return 0;
}

int call_srtp_set(struct calls *c, struct call *call, unsigned leg,
		  bool srtp, struct srtpx *in, struct srtpx *out)
{
	struct stream *st = call_stream(c, call, leg);
	struct srtpx *old[2] = { st->next.srtp_in, st->next.srtp_out };
	bool now = !c->workers || !call->started;
	unsigned i, n = 0;

	if (old[0] == in)
		old[0] = NULL;
	if (old[1] == out)
		old[1] = NULL;
	n = (old[0] != NULL) + (old[1] != NULL);
	if (!now && st->nretired + n > STREAM_RETIRED_MAX)
		return EBUSY;
	for (i = 0; i < 2; i++) {
		if (!old[i])
			continue;
		if (now)
			sdes_session_free(old[i]);
		else
			st->retired[st->nretired++] = old[i];
	}
	st->next.srtp = srtp;
	st->next.srtp_in = in;
	st->next.srtp_out = out;
	return 0;
}

int call_commit(struct calls *c, struct call *call)
{
	enum worker_cmd cmd = call->started ? WORKER_CMD_STREAM_UPDATE :
		WORKER_CMD_STREAM_ADD;
	struct worker *w;
	unsigned i;
	int err;

	if (!c->workers) {
		for (i = 0; i < 2; i++) {
			struct stream *st = call_stream(c, call, i);

			st->cfg = st->next;
		}
		call->started = true;
		return 0;
	}
	w = c->workers[call->worker];
	for (i = 0; i < 2; i++) {
		struct stream *st = call_stream(c, call, i);

		if (call->started) {
			atomic_store_explicit(&st->pending, 1,
					      memory_order_relaxed);
		}
		err = worker_cmd_ptr(w, cmd, st);
		if (!err && call->started && st->nretired)
			st->retire_armed = true;
		if (err) {
			if (call->started)
				atomic_store_explicit(&st->pending, 0,
						      memory_order_relaxed);
			/* after a half-done ADD, call_delete() sends both
			 * streams a DEL: the worker copes with one it never
			 * had */
			if (i == 1)
				call->started = true;
			return err;
		}
	}
	call->started = true;
	return 0;
}

static void hash_unlink(struct calls *c, struct call *call)
{
	uint32_t idx = (uint32_t)(call - c->v);
	uint32_t *pp = &c->bucket[hash(call->id, strlen(call->id)) &
				  (c->nbuckets - 1)];

	while (*pp != NIL) {
		if (*pp == idx) {
			*pp = call->hnext;
			break;
		}
		pp = &c->v[*pp].hnext;
	}
	call->hnext = NIL;
}

void call_delete(struct calls *c, struct call *call)
{
	unsigned i;

	if (call->state != CALL_ACTIVE)
		return;
	call_set_transcoding(c, call, false);
	/* DTLS lives on this thread only: gone now, its late records are
	 * dropped by the generation check */
	for (i = 0; i < 2; i++) {
		dtls_conn_free(call->leg[i].dc);
		call->leg[i].dc = NULL;
	}
	hash_unlink(c, call);
	call->state = CALL_DYING;
	call->dnext = c->dying;
	c->dying = (uint32_t)(call - c->v);
	--c->ctr.active;
	++c->ctr.dying;
	++c->ctr.deleted;

	for (i = 0; i < 2; i++) {
		struct stream *st = call_stream(c, call, i);

		if (!c->workers || !call->started) {
			atomic_store_explicit(&st->state, STREAM_DEAD,
					      memory_order_relaxed);
			continue;
		}
		/* a full queue: try again from calls_tick() */
		if (worker_cmd_ptr(c->workers[call->worker],
				   WORKER_CMD_STREAM_DEL, st))
			st->del_retry = true;
	}
	calls_tick(c, 0);
}

void call_set_transcoding(struct calls *c, struct call *call, bool on)
{
	if (call->transcoding == on)
		return;
	call->transcoding = on;
	if (on)
		++c->ctr.transcoding;
	else
		--c->ctr.transcoding;
}

void call_delete_at(struct calls *c, struct call *call, uint64_t at_ms)
{
	call->delete_at_ms = at_ms ? at_ms : 1;
}

/* Return <call>'s ports and sockets once both streams are dead. */
static bool reclaim(struct calls *c, struct call *call)
{
	uint32_t idx = (uint32_t)(call - c->v);
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct stream *st = call_stream(c, call, i);

		if (atomic_load_explicit(&st->state, memory_order_acquire)
		    != STREAM_DEAD) {
			/* a DEL the queue refused earlier */
			if (st->del_retry && !worker_cmd_ptr(
				    c->workers[call->worker],
				    WORKER_CMD_STREAM_DEL, st))
				st->del_retry = false;
			return false;
		}
	}
	for (i = 0; i < 2; i++) {
		struct stream *st = call_stream(c, call, i);

		stream_close(st);
		stream_srtp_free(st);
		st->del_retry = false;
		atomic_store_explicit(&st->state, STREAM_IDLE,
				      memory_order_relaxed);
		ports_put(&c->ports, call->leg[i].port);
	}
	if (c->sess)
		atomic_store_explicit(&c->sess[idx].state, SHM_SESS_FREE,
				      memory_order_release);
	call->state = CALL_FREE;
	call->id[0] = '\0';
	call->gen = 0;
	c->freel[c->nfree++] = idx;
	--c->ctr.dying;
	return true;
}

void calls_tick(struct calls *c, uint64_t now_ms)
{
	uint32_t *pp = &c->dying, i;

	if (now_ms) {
		for (i = 0; i < c->ncalls; i++) {
			struct call *call = &c->v[i];

			if (call->state == CALL_ACTIVE &&
			    call->delete_at_ms && call->delete_at_ms <= now_ms)
				call_delete(c, call);
		}
	}
	while (*pp != NIL) {
		struct call *call = &c->v[*pp];
		uint32_t next = call->dnext;

		if (reclaim(c, call))
			*pp = next;
		else
			pp = &call->dnext;
	}
}

struct call_handle call_handle(const struct calls *c, const struct call *call)
{
	struct call_handle h = { (uint32_t)(call - c->v), call->gen };

	return h;
}

struct call *call_get(struct calls *c, struct call_handle h)
{
	if (h.idx >= c->ncalls || !h.gen || c->v[h.idx].gen != h.gen ||
	    c->v[h.idx].state != CALL_ACTIVE)
		return NULL;
	return &c->v[h.idx];
}

struct call *calls_next(struct calls *c, uint32_t *itp)
{
	while (*itp < c->ncalls) {
		struct call *call = &c->v[(*itp)++];

		if (call->state == CALL_ACTIVE)
			return call;
	}
	return NULL;
}

const struct shm_session *call_session(const struct calls *c,
				       const struct call *call)
{
	return c->sess ? &c->sess[call - c->v] : NULL;
}

void calls_counters(const struct calls *c, struct calls_ctr *ctr)
{
	uint32_t s;

	*ctr = c->ctr;
	ctr->ports_free = 0;
	for (s = 0; s < c->ports.nslices; s++)
		ctr->ports_free += ports_free(&c->ports, s);
}

struct dtls *calls_dtls(const struct calls *c)
{
	return c->dtls;
}

struct worker *calls_worker(const struct calls *c, uint32_t idx)
{
	return c->workers && idx < c->nworkers ? c->workers[idx] : NULL;
}

struct calls_ctr *calls_ctr_mut(struct calls *c)
{
	return &c->ctr;
}
