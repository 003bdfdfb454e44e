/* sbc/shmc.c  Consumer side of mediad's shared-memory segment */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <re.h>

#include "log.h"
#include "shm.h"
#include "shmc.h"

#define CHECK_MS      2000
#define DRAIN_MS      100
#define DRAIN_BUDGET  1024     /* records per ring per drain */
#define REC_MAX       1024     /* payload we accept per record */
#define RINGS_MAX     256      /* workers + control, with room to spare */

static struct {
	char           name[SHM_NAME_MAX];
	struct shm_seg seg;
	bool           attached;
	int            last_err;   /* of the last failed attach: log once */
	struct tmr     tmr_check;
	struct tmr     tmr_drain;
	uint64_t       attaches;
	uint64_t       events[SHM_EV_MAX];
	uint64_t       bad;        /* records shmring_pop() rejected */
	shmc_event_h  *evh;
	void          *evarg;
	/* the last scrape's busy/loop times, for a busy ratio per window */
	uint64_t       prev_busy[RINGS_MAX];
	uint64_t       prev_loop[RINGS_MAX];
	uint32_t       prev_gen;
	/* call-id -> session index + 1 (0: empty), open addressing; a hint
	 * checked against the segment on every use, refilled by one scan */
	uint32_t      *idx;
	uint32_t       idxmask;
} sc;

static const char *const ev_names[SHM_EV_MAX] = {
	[SHM_EV_NONE]          = "none",
	[SHM_EV_DTMF]          = "dtmf",
	[SHM_EV_MEDIA_TIMEOUT] = "media-timeout",
	[SHM_EV_SSRC_CHANGE]   = "ssrc-change",
	[SHM_EV_CALL_STATS]    = "call-stats",
	[SHM_EV_CFG_DONE]      = "cfg-done",
};

static void detach(const char *why)
{
	if (!sc.attached)
		return;
	log_info("shm", "detached from %s (%s)", sc.name, why);
	tmr_cancel(&sc.tmr_drain);
	shm_detach(&sc.seg);
	memset(&sc.seg, 0, sizeof(sc.seg));
	sc.idx = mem_deref(sc.idx);
	sc.idxmask = 0;
	sc.attached = false;
	sc.last_err = 0;
}

/*
 * Take what the rings hold, each ring at most DRAIN_BUDGET records per
 * turn so a flooding producer cannot stall the loop. Events are counted
 * and handed to the handler (the B2BUA ends calls on media timeout).
 */
static void drain(void)
{
	uint8_t buf[REC_MAX];
	uint32_t i, nrings = sc.seg.hdr->nrings;

	if (nrings > RINGS_MAX)
		nrings = RINGS_MAX;

	for (i = 0; i < nrings; i++) {
		struct shm_ring *r = shm_ring(&sc.seg, i);
		unsigned n;

		if (!r)
			continue;
		for (n = 0; n < DRAIN_BUDGET; n++) {
			uint32_t before = shmring_count(r);
			uint16_t type = 0;
			size_t len = 0;
			int err;

			err = shmring_pop(r, &type, buf, sizeof(buf), &len);
			if (err == ENOENT)
				break;
			if (err) {
				/* a skipped record is counted; a ring that
				 * does not move on is left for next time */
				++sc.bad;
				if (shmring_count(r) >= before)
					break;
				continue;
			}
			if (type < SHM_EV_MAX)
				++sc.events[type];
			if (sc.evh)
				sc.evh(type, buf, len, sc.evarg);
			log_debug("shm", "ring %u: event %s (%zu bytes)", i,
				  type < SHM_EV_MAX ? ev_names[type] : "?",
				  len);
		}
	}
}

static void drain_tmr(void *arg)
{
	(void)arg;

	if (!sc.attached)
		return;
	drain();
	tmr_start(&sc.tmr_drain, DRAIN_MS, drain_tmr, NULL);
}

static void try_attach(void)
{
	const char *why = NULL;
	int err;

	err = shm_attach(&sc.seg, sc.name, &why);
	if (err) {
		/* once per kind of failure, not every 2 s */
		if (err != sc.last_err)
			log_info("shm", "%s not attached (%s); retrying every "
				 "%u s", sc.name, why ? why : strerror(err),
				 CHECK_MS / 1000);
		sc.last_err = err;
		memset(&sc.seg, 0, sizeof(sc.seg));
		return;
	}

	{
		/* twice the sessions, a power of two: short probe runs */
		uint32_t sz = 64;

		while (sz < 2 * sc.seg.hdr->nsessions && sz < (1u << 24))
			sz <<= 1;
		sc.idx = mem_zalloc(sz * sizeof(*sc.idx), NULL);
		sc.idxmask = sc.idx ? sz - 1 : 0;
	}
	sc.attached = true;
	sc.last_err = 0;
	++sc.attaches;
	log_info("shm", "attached to %s: mediad pid %d generation %u, "
		 "%u workers, %u rings", sc.name, (int)sc.seg.pid,
		 sc.seg.generation, sc.seg.hdr->nworkers,
		 sc.seg.hdr->nrings);
	tmr_start(&sc.tmr_drain, 0, drain_tmr, NULL);
}

static void check_tmr(void *arg)
{
	(void)arg;

	tmr_start(&sc.tmr_check, CHECK_MS, check_tmr, NULL);

	if (sc.attached && shm_check(&sc.seg) == ESTALE) {
		/* what is left in the rings is from a dead producer: the
		 * mapping stays valid, so take it before letting go */
		drain();
		detach("stale: mediad gone or restarted");
	}
	if (!sc.attached)
		try_attach();
}

void shmc_set_handler(shmc_event_h *h, void *arg)
{
	sc.evh = h;
	sc.evarg = arg;
}

static uint32_t idx_hash(const char *callid, size_t n)
{
	uint32_t h = 2166136261u;     /* FNV-1a */
	size_t i;

	for (i = 0; i < n && callid[i]; i++)
		h = (h ^ (uint8_t)callid[i]) * 16777619u;
	return h;
}

static const struct shm_session *sess_active(uint32_t i,
					     const char *callid)
{
	const struct shm_session *ss = shm_session(&sc.seg, i);

	if (!ss || atomic_load_explicit(&ss->state, memory_order_acquire) !=
	    SHM_SESS_ACTIVE)
		return NULL;
	if (callid && strncmp(ss->callid, callid, sizeof(ss->callid)))
		return NULL;
	return ss;
}

/* Empty the index and put every active session in it: one scan. */
static void idx_rebuild(void)
{
	uint32_t i, n = sc.seg.hdr->nsessions;

	memset(sc.idx, 0, (sc.idxmask + 1) * sizeof(*sc.idx));
	for (i = 0; i < n; i++) {
		const struct shm_session *ss = sess_active(i, NULL);
		uint32_t h;

		if (!ss)
			continue;
		h = idx_hash(ss->callid, sizeof(ss->callid)) & sc.idxmask;
		while (sc.idx[h])
			h = (h + 1) & sc.idxmask;
		sc.idx[h] = i + 1;
	}
}

/* The active session of <callid>, through the index. */
static const struct shm_session *idx_find(const char *callid)
{
	uint32_t h = idx_hash(callid, SIZE_MAX) & sc.idxmask;
	uint32_t probes;

	for (probes = 0; probes <= sc.idxmask && sc.idx[h]; probes++) {
		const struct shm_session *ss = sess_active(sc.idx[h] - 1,
							   callid);

		if (ss)
			return ss;
		h = (h + 1) & sc.idxmask;
	}
	return NULL;
}

bool shmc_session(const char *callid, struct shmc_session *out)
{
	const struct shm_session *ss = NULL;
	uint32_t i, n;
	unsigned leg;

	if (!sc.attached || !callid || !out)
		return false;

	/*
	 * Sessions come and go under mediad's hand, so the index is a
	 * hint: a hit is checked against the segment; a miss rebuilds it
	 * once (a scan, as before, that serves the lookups that follow).
	 */
	if (sc.idx) {
		ss = idx_find(callid);
		if (!ss) {
			idx_rebuild();
			ss = idx_find(callid);
		}
	}
	else {
		n = sc.seg.hdr->nsessions;
		for (i = 0; i < n && !ss; i++)
			ss = sess_active(i, callid);
	}
	if (!ss)
		return false;

	for (leg = 0; leg < 2; leg++) {
		out->packets[leg] = atomic_load_explicit(
			&ss->packets[leg], memory_order_relaxed);
		out->bytes[leg] = atomic_load_explicit(
			&ss->bytes[leg], memory_order_relaxed);
		out->lost[leg] = atomic_load_explicit(
			&ss->lost[leg], memory_order_relaxed);
		out->jitter_us[leg] = atomic_load_explicit(
			&ss->jitter_us[leg], memory_order_relaxed);
	}
	return true;
}

static uint64_t ld(const _Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* One family's HELP and TYPE lines. */
static int family(struct re_printf *pf, const char *name, const char *type,
		  const char *help)
{
	return re_hprintf(pf, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			  name, type);
}

int shmc_metrics(struct re_printf *pf, void *unused)
{
	uint64_t sess = 0, pin = 0, pout = 0, bin = 0, bout = 0, lost = 0;
	uint64_t tc = 0, drop = 0;
	uint32_t i, nw = 0;
	bool on = sc.attached;
	int err;

	(void)unused;

	if (on) {
		nw = sc.seg.hdr->nworkers;
		if (nw > RINGS_MAX)
			nw = RINGS_MAX;
		if (sc.prev_gen != sc.seg.generation) {
			memset(sc.prev_busy, 0, sizeof(sc.prev_busy));
			memset(sc.prev_loop, 0, sizeof(sc.prev_loop));
			sc.prev_gen = sc.seg.generation;
		}
	}
	for (i = 0; i < nw; i++) {
		struct shm_worker *w = shm_worker(&sc.seg, i);

		if (!w)
			continue;
		sess += ld(&w->sessions);
		pin += ld(&w->packets_in);
		pout += ld(&w->packets_out);
		bin += ld(&w->bytes_in);
		bout += ld(&w->bytes_out);
		lost += ld(&w->packets_lost);
		tc += ld(&w->transcoded);
		drop += ld(&w->packets_dropped);
	}

	err = family(pf, "mediad_sessions_active", "gauge",
		     "Media sessions (calls) mediad holds.");
	if (on)
		err |= re_hprintf(pf, "mediad_sessions_active %llu\n",
				  (unsigned long long)sess);
	err |= family(pf, "mediad_packets_total", "counter",
		      "RTP/RTCP packets received (in) and sent (out).");
	if (on)
		err |= re_hprintf(pf, "mediad_packets_total{dir=\"in\"} %llu\n"
				  "mediad_packets_total{dir=\"out\"} %llu\n",
				  (unsigned long long)pin,
				  (unsigned long long)pout);
	err |= family(pf, "mediad_bytes_total", "counter",
		      "RTP/RTCP bytes received (in) and sent (out).");
	if (on)
		err |= re_hprintf(pf, "mediad_bytes_total{dir=\"in\"} %llu\n"
				  "mediad_bytes_total{dir=\"out\"} %llu\n",
				  (unsigned long long)bin,
				  (unsigned long long)bout);
	err |= family(pf, "mediad_packets_lost_total", "counter",
		      "RTP packets lost (sequence gaps).");
	if (on)
		err |= re_hprintf(pf, "mediad_packets_lost_total %llu\n",
				  (unsigned long long)lost);
	err |= family(pf, "mediad_packets_dropped_total", "counter",
		      "Packets dropped (not RTP/RTCP, strict-source, ...).");
	if (on)
		err |= re_hprintf(pf, "mediad_packets_dropped_total %llu\n",
				  (unsigned long long)drop);
	err |= family(pf, "mediad_transcoded_packets_total", "counter",
		      "Packets transcoded (PCMU<->PCMA).");
	if (on)
		err |= re_hprintf(pf, "mediad_transcoded_packets_total %llu\n",
				  (unsigned long long)tc);
	err |= family(pf, "mediad_worker_busy_ratio", "gauge",
		      "Share of a worker's time spent on packets since the "
		      "last scrape.");
	for (i = 0; i < nw; i++) {
		struct shm_worker *w = shm_worker(&sc.seg, i);
		uint64_t busy, loop, db, dl;

		if (!w)
			continue;
		busy = ld(&w->busy_ns);
		loop = ld(&w->loop_ns);
		db = busy >= sc.prev_busy[i] ? busy - sc.prev_busy[i] : busy;
		dl = loop >= sc.prev_loop[i] ? loop - sc.prev_loop[i] : loop;
		sc.prev_busy[i] = busy;
		sc.prev_loop[i] = loop;
		err |= re_hprintf(pf, "mediad_worker_busy_ratio{worker=\"%u\"} "
				  "%.4f\n", i, dl ? (double)db / (double)dl :
				  0.0);
	}
	return err;
}

int shmc_start(const char *name)
{
	if (!name || !*name || strlen(name) >= sizeof(sc.name))
		return EINVAL;

	memset(&sc, 0, sizeof(sc));
	str_ncpy(sc.name, name, sizeof(sc.name));
	tmr_init(&sc.tmr_check);
	tmr_init(&sc.tmr_drain);
	try_attach();
	tmr_start(&sc.tmr_check, CHECK_MS, check_tmr, NULL);
	return 0;
}

void shmc_stop(void)
{
	tmr_cancel(&sc.tmr_check);
	tmr_cancel(&sc.tmr_drain);
	if (sc.attached) {
		shm_detach(&sc.seg);
		sc.attached = false;
	}
	sc.idx = mem_deref(sc.idx);
	sc.idxmask = 0;
}

bool shmc_attached(void)
{
	return sc.attached;
}

const struct shm_seg *shmc_seg(void)
{
	return sc.attached ? &sc.seg : NULL;
}

uint64_t shmc_events(unsigned ev)
{
	return ev < SHM_EV_MAX ? sc.events[ev] : 0;
}

uint64_t shmc_bad(void)
{
	return sc.bad;
}

int shmc_debug(struct re_printf *pf, void *unused)
{
	uint64_t ev = 0;
	unsigned i;

	(void)unused;

	for (i = 0; i < SHM_EV_MAX; i++)
		ev += sc.events[i];
	if (!sc.attached)
		return re_hprintf(pf, "shm: %s detached attaches=%llu "
				  "events=%llu bad=%llu", sc.name,
				  (unsigned long long)sc.attaches,
				  (unsigned long long)ev,
				  (unsigned long long)sc.bad);
	return re_hprintf(pf, "shm: %s attached pid=%d gen=%u attaches=%llu "
			  "events=%llu bad=%llu", sc.name, (int)sc.seg.pid,
			  sc.seg.generation, (unsigned long long)sc.attaches,
			  (unsigned long long)ev, (unsigned long long)sc.bad);
}
