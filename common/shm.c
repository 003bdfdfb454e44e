/* common/shm.c  Shared-memory segment between mediad (producer) and sbc */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "shm.h"

#define SHM_ALIGN      64u
#define SHM_SLOTS_MAX  (1u << 24)
#define SHM_MODE       0660

#define ALIGN64(x) (((x) + (SHM_ALIGN - 1)) & ~(uint64_t)(SHM_ALIGN - 1))

/* shm_attach()'s reasons that carry a number */
static _Thread_local char why_buf[64];

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static uint32_t round_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v && p < SHM_SLOTS_MAX)
		p <<= 1;
	return p;
}

/* Header fields another process may rewrite while we read them. */
static uint64_t load_magic(const struct shm_hdr *h)
{
	return __atomic_load_n(&h->magic, __ATOMIC_RELAXED);
}

bool shm_pid_alive(int32_t pid)
{
	if (pid <= 0)
		return false;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static bool name_ok(const char *name)
{
	size_t len;

	if (!name || name[0] != '/')
		return false;
	len = strlen(name);
	return len > 1 && len < SHM_NAME_MAX && !strchr(name + 1, '/');
}

size_t shmring_size(uint32_t slots, uint32_t slot_size)
{
	return (size_t)ALIGN64(sizeof(struct shm_ring) +
			       (uint64_t)slots * slot_size);
}

static bool ring_params_ok(uint32_t slots, uint32_t slot_size)
{
	return is_pow2(slots) && slots <= SHM_SLOTS_MAX &&
		slot_size >= sizeof(struct shm_rec) + 8 &&
		slot_size <= sizeof(struct shm_rec) + UINT16_MAX &&
		slot_size % 8 == 0;
}

/*
 * <slots> must be a power of two and <slot_size> a multiple of 8 that
 * holds a record header plus at least 8 bytes. Not atomic: nobody may
 * use the ring yet.
 */
int shmring_init(struct shm_ring *r, uint32_t slots, uint32_t slot_size)
{
	if (!r || !ring_params_ok(slots, slot_size))
		return EINVAL;

	memset(r, 0, shmring_size(slots, slot_size));
	atomic_store_explicit(&r->head, 0, memory_order_relaxed);
	atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
	atomic_store_explicit(&r->dropped, 0, memory_order_relaxed);
	atomic_store_explicit(&r->bad, 0, memory_order_relaxed);
	r->nslots    = slots;
	r->slot_size = slot_size;
	return 0;
}

/*
 * Producer side. The tail is loaded with acquire so the consumer's
 * reads of a slot happen before we overwrite it; the head is stored
 * with release so the consumer sees the record before the new head.
 */
int shmring_push(struct shm_ring *r, uint16_t type, const void *data,
		 size_t len)
{
	struct shm_rec rec;
	uint32_t head, tail;
	uint8_t *slot;

	if (!r || (!data && len) || type >= SHM_EV_MAX)
		return EINVAL;
	if (len > r->slot_size - sizeof(rec))
		return EMSGSIZE;

	head = atomic_load_explicit(&r->head, memory_order_relaxed);
	tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (head - tail >= r->nslots) {
		atomic_fetch_add_explicit(&r->dropped, 1,
					  memory_order_relaxed);
		return ENOSPC;
	}

	slot = r->slots + (size_t)(head & (r->nslots - 1)) * r->slot_size;
	rec.type = type;
	rec.len  = (uint16_t)len;
	rec.seq  = head;
	memcpy(slot, &rec, sizeof(rec));
	if (len)
		memcpy(slot + sizeof(rec), data, len);

	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return 0;
}

/*
 * Consumer side, mirror of push. The record header is copied out once
 * and validated on the copy: the producer is another process whose
 * memory we do not trust. A head more than <nslots> ahead of the tail
 * can only be corruption: the whole backlog is dropped as one bad
 * record rather than reading slots the producer may be rewriting.
 */
int shmring_pop(struct shm_ring *r, uint16_t *typep, void *buf,
		size_t bufsz, size_t *lenp)
{
	struct shm_rec rec;
	uint32_t head, tail, nslots, slot_size;
	const uint8_t *slot;
	int err = 0;

	if (!r)
		return EINVAL;

	nslots    = r->nslots;
	slot_size = r->slot_size;
	if (!ring_params_ok(nslots, slot_size))
		return EBADMSG;

	tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (head == tail)
		return ENOENT;
	if (head - tail > nslots) {
		atomic_fetch_add_explicit(&r->bad, 1, memory_order_relaxed);
		atomic_store_explicit(&r->tail, head, memory_order_release);
		return EBADMSG;
	}

	slot = r->slots + (size_t)(tail & (nslots - 1)) * slot_size;
	memcpy(&rec, slot, sizeof(rec));

	if (rec.len > slot_size - sizeof(rec) || rec.type >= SHM_EV_MAX) {
		atomic_fetch_add_explicit(&r->bad, 1, memory_order_relaxed);
		err = EBADMSG;
	}
	else if (rec.len > bufsz || (!buf && rec.len)) {
		if (lenp)
			*lenp = rec.len;
		err = EMSGSIZE;
	}
	else {
		if (rec.len)
			memcpy(buf, slot + sizeof(rec), rec.len);
		if (typep)
			*typep = rec.type;
		if (lenp)
			*lenp = rec.len;
	}

	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return err;
}

uint32_t shmring_count(const struct shm_ring *r)
{
	uint32_t head, tail, n;

	if (!r)
		return 0;
	tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	head = atomic_load_explicit(&r->head, memory_order_acquire);
	n = head - tail;
	return n > r->nslots ? r->nslots : n;
}

/*
 * Offsets of <lay> (already normalised); returns the total size, or 0
 * when it does not fit in 64 bits. Each table is at most 2^32 entries of
 * under 2^8 bytes, so only the rings can overflow.
 */
static uint64_t layout(const struct shm_layout *lay, struct shm_hdr *h)
{
	h->workers_off  = ALIGN64(sizeof(struct shm_hdr));
	h->sessions_off = ALIGN64(h->workers_off +
				  (uint64_t)lay->nworkers *
				  sizeof(struct shm_worker));
	h->rings_off    = ALIGN64(h->sessions_off +
				  (uint64_t)lay->nsessions *
				  sizeof(struct shm_session));
	h->ring_stride  = shmring_size(lay->ring_slots, lay->slot_size);
	if (lay->nrings &&
	    h->ring_stride > (UINT64_MAX - h->rings_off) / lay->nrings)
		return 0;
	return h->rings_off + (uint64_t)lay->nrings * h->ring_stride;
}

/*
 * Look at what is already under <name>. Returns EEXIST when a live
 * producer other than us owns it, else 0 with *genp the generation to
 * carry over (0 when the old header was unreadable or foreign).
 */
static int probe_old(const char *name, uint32_t *genp)
{
	const struct shm_hdr *h;
	struct stat st;
	void *p;
	int fd, err = 0;

	*genp = 0;
	fd = shm_open(name, O_RDONLY, 0);
	if (fd == -1)
		return 0;       /* absent, or not ours to read: replaced */

	if (fstat(fd, &st) == -1 || st.st_size < (off_t)sizeof(*h)) {
		close(fd);
		return 0;
	}
	p = mmap(NULL, sizeof(*h), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 0;

	h = p;
	if (load_magic(h) == SHM_MAGIC) {
		*genp = h->generation;
		if (h->version == SHM_VERSION && shm_pid_alive(h->pid) &&
		    h->pid != (int32_t)getpid())
			err = EEXIST;
	}
	munmap(p, sizeof(*h));
	return err;
}

/*
 * Build the segment completely, then publish it with one release store
 * of <ready>: a consumer that sees ready == 1 sees every field before
 * it. The memory is fresh from ftruncate(), hence already zero: the
 * worker and session tables need no clearing. On error nothing is left
 * under <name> and <seg> is zeroed.
 */
int shm_create(struct shm_seg *seg, const char *name,
	       const struct shm_layout *lay)
{
	struct shm_layout l;
	struct shm_hdr *h;
	uint64_t total;
	uint32_t gen, i;
	void *base = MAP_FAILED;
	int fd = -1, err;

	if (!seg)
		return EINVAL;
	memset(seg, 0, sizeof(*seg));
	if (!name_ok(name) || !lay)
		return EINVAL;

	l = *lay;
	l.ring_slots = round_pow2(l.ring_slots ? l.ring_slots : 1);
	l.slot_size  = (l.slot_size + 7u) & ~7u;
	if (!ring_params_ok(l.ring_slots, l.slot_size))
		return EINVAL;

	{
		struct shm_hdr tmp;

		memset(&tmp, 0, sizeof(tmp));
		total = layout(&l, &tmp);
	}
	if (!total || total > (uint64_t)SIZE_MAX / 2 ||
	    total > (uint64_t)INT64_MAX)
		return EFBIG;

	err = probe_old(name, &gen);
	if (err)
		return err;
	if (shm_unlink(name) == -1 && errno != ENOENT)
		return errno;

	/* O_EXCL: a second producer racing us loses here, not later */
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, SHM_MODE);
	if (fd == -1)
		return errno;
	if (ftruncate(fd, (off_t)total) == -1) {
		err = errno;
		goto out;
	}
	base = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
	if (base == MAP_FAILED) {
		err = errno;
		goto out;
	}

	h = base;
	h->magic        = SHM_MAGIC;
	h->version      = SHM_VERSION;
	h->hdr_size     = sizeof(*h);
	h->total_size   = total;
	h->pid          = (int32_t)getpid();
	h->generation   = gen + 1 ? gen + 1 : 1;
	h->started_unix = (uint64_t)time(NULL);
	h->nworkers     = l.nworkers;
	h->nsessions    = l.nsessions;
	h->nrings       = l.nrings;
	h->ring_slots   = l.ring_slots;
	h->slot_size    = l.slot_size;
	layout(&l, h);
	atomic_store_explicit(&h->heartbeat_ms, clock_ms(),
			      memory_order_relaxed);

	for (i = 0; i < l.nrings; i++) {
		struct shm_ring *r = (struct shm_ring *)((uint8_t *)base +
			h->rings_off + (uint64_t)i * h->ring_stride);

		err = shmring_init(r, l.ring_slots, l.slot_size);
		if (err)
			goto out;
	}

	atomic_store_explicit(&h->ready, 1, memory_order_release);

	seg->base       = base;
	seg->size       = (size_t)total;
	seg->hdr        = h;
	seg->owner      = true;
	seg->generation = h->generation;
	seg->pid        = h->pid;
	snprintf(seg->name, sizeof(seg->name), "%s", name);
 out:
	if (fd != -1)
		close(fd);
	if (err) {
		if (base != MAP_FAILED)
			munmap(base, (size_t)total);
		shm_unlink(name);
	}
	return err;
}

/*
 * Clear magic and ready before unmapping so a consumer still mapped
 * notices at its next shm_check() even while our pid lives on.
 */
void shm_destroy(struct shm_seg *seg)
{
	if (!seg)
		return;

	if (seg->base && seg->owner && seg->hdr) {
		atomic_store_explicit(&seg->hdr->ready, 0,
				      memory_order_relaxed);
		__atomic_store_n(&seg->hdr->magic, 0, __ATOMIC_RELEASE);
	}
	if (seg->base)
		munmap(seg->base, seg->size);
	if (seg->owner && seg->name[0])
		shm_unlink(seg->name);
	memset(seg, 0, sizeof(*seg));
}

static int stale(const char **whyp, const char *why)
{
	if (whyp)
		*whyp = why;
	return ESTALE;
}

/* Every table lies inside <size> and every ring matches the header. */
static const char *check_layout(const struct shm_hdr *h, uint8_t *base,
				uint64_t size)
{
	uint32_t i;

	if (h->workers_off % SHM_ALIGN || h->sessions_off % SHM_ALIGN ||
	    h->rings_off % SHM_ALIGN || h->ring_stride % SHM_ALIGN)
		return "misaligned offsets";
	if (!ring_params_ok(h->ring_slots, h->slot_size) ||
	    h->ring_stride < shmring_size(h->ring_slots, h->slot_size))
		return "bad ring geometry";

	if (h->workers_off < sizeof(*h) || h->workers_off > size ||
	    (size - h->workers_off) / sizeof(struct shm_worker) < h->nworkers)
		return "workers outside segment";
	if (h->sessions_off < sizeof(*h) || h->sessions_off > size ||
	    (size - h->sessions_off) / sizeof(struct shm_session) <
	    h->nsessions)
		return "sessions outside segment";
	if (h->rings_off < sizeof(*h) || h->rings_off > size ||
	    (h->nrings && (size - h->rings_off) / h->ring_stride < h->nrings))
		return "rings outside segment";

	for (i = 0; i < h->nrings; i++) {
		const struct shm_ring *r = (const struct shm_ring *)
			(base + h->rings_off + (uint64_t)i * h->ring_stride);

		if (r->nslots != h->ring_slots ||
		    r->slot_size != h->slot_size)
			return "ring header mismatch";
	}
	return NULL;
}

/*
 * Map <name> read-write and check it before handing it out. The header
 * is checked for readiness (acquire) before anything it describes is
 * trusted; the producer pid last, since the rest is cheap to recheck.
 * On error nothing stays mapped and <seg> is zeroed.
 */
int shm_attach(struct shm_seg *seg, const char *name, const char **whyp)
{
	const struct shm_hdr *h;
	const char *why;
	struct stat st;
	void *base;
	int fd, err;

	if (whyp)
		*whyp = NULL;
	if (!seg)
		return EINVAL;
	memset(seg, 0, sizeof(*seg));
	if (!name_ok(name)) {
		if (whyp)
			*whyp = "bad name";
		return EINVAL;
	}

	fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	if (fd == -1) {
		err = errno;
		if (whyp)
			*whyp = err == ENOENT ? "no segment" : "cannot open";
		return err;
	}
	if (fstat(fd, &st) == -1) {
		err = errno;
		close(fd);
		if (whyp)
			*whyp = "cannot stat";
		return err;
	}
	if (st.st_size < (off_t)sizeof(struct shm_hdr)) {
		close(fd);
		if (whyp)
			*whyp = "not ready";    /* being created */
		return EAGAIN;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
	err = base == MAP_FAILED ? errno : 0;
	close(fd);
	if (err) {
		if (whyp)
			*whyp = "cannot map";
		return err;
	}

	h = base;
	if (load_magic(h) != SHM_MAGIC) {
		err = stale(whyp, "bad magic");
		goto out;
	}
	if (h->version != SHM_VERSION) {
		snprintf(why_buf, sizeof(why_buf), "version %u, want %u",
			 h->version, SHM_VERSION);
		err = stale(whyp, why_buf);
		goto out;
	}
	if (!atomic_load_explicit(&h->ready, memory_order_acquire)) {
		if (whyp)
			*whyp = "not ready";
		err = EAGAIN;
		goto out;
	}
	if (h->hdr_size != sizeof(*h)) {
		snprintf(why_buf, sizeof(why_buf), "header size %u, want %zu",
			 h->hdr_size, sizeof(*h));
		err = stale(whyp, why_buf);
		goto out;
	}
	if (h->total_size != (uint64_t)st.st_size) {
		snprintf(why_buf, sizeof(why_buf),
			 "size %llu, segment has %llu",
			 (unsigned long long)h->total_size,
			 (unsigned long long)st.st_size);
		err = stale(whyp, why_buf);
		goto out;
	}
	why = check_layout(h, base, (uint64_t)st.st_size);
	if (why) {
		err = stale(whyp, why);
		goto out;
	}
	if (!shm_pid_alive(h->pid)) {
		snprintf(why_buf, sizeof(why_buf), "producer pid %d gone",
			 (int)h->pid);
		err = stale(whyp, why_buf);
		goto out;
	}

	seg->base       = base;
	seg->size       = (size_t)st.st_size;
	seg->hdr        = base;
	seg->owner      = false;
	seg->generation = h->generation;
	seg->pid        = h->pid;
	snprintf(seg->name, sizeof(seg->name), "%s", name);
	err = 0;
 out:
	if (err)
		munmap(base, (size_t)st.st_size);
	return err;
}

int shm_check(const struct shm_seg *seg)
{
	const struct shm_hdr *h;

	if (!seg || !seg->hdr)
		return ESTALE;
	h = seg->hdr;
	if (load_magic(h) != SHM_MAGIC ||
	    !atomic_load_explicit(&h->ready, memory_order_acquire))
		return ESTALE;
	if (__atomic_load_n(&h->generation, __ATOMIC_RELAXED) !=
	    seg->generation ||
	    __atomic_load_n(&h->pid, __ATOMIC_RELAXED) != seg->pid)
		return ESTALE;
	if (!shm_pid_alive(seg->pid))
		return ESTALE;
	return 0;
}

void shm_detach(struct shm_seg *seg)
{
	if (!seg)
		return;
	if (seg->base)
		munmap(seg->base, seg->size);
	memset(seg, 0, sizeof(*seg));
}

/*
 * Element <i> of a table at <off> with <n> entries <stride> bytes apart,
 * each <sz> bytes long, or NULL when past <n> or past the mapping. The
 * header lives in shared memory and is read afresh on every call, so
 * the mapping's size (ours, not the header's) is the final bound: a
 * producer that scribbles over its header cannot send us outside it.
 */
static void *seg_elem(const struct shm_seg *seg, uint64_t off,
		      uint32_t n, uint64_t stride, uint64_t sz, uint32_t i)
{
	uint64_t size, at;

	if (i >= n || !stride)
		return NULL;
	size = seg->size;
	if (off > size || i > (size - off) / stride)
		return NULL;
	at = off + (uint64_t)i * stride;
	if (sz > size - at)
		return NULL;
	return seg->base + at;
}

struct shm_worker *shm_worker(const struct shm_seg *seg, uint32_t i)
{
	const struct shm_hdr *h;

	if (!seg || !seg->hdr)
		return NULL;
	h = seg->hdr;
	return seg_elem(seg, h->workers_off, h->nworkers,
			sizeof(struct shm_worker), sizeof(struct shm_worker),
			i);
}

struct shm_session *shm_session(const struct shm_seg *seg, uint32_t i)
{
	const struct shm_hdr *h;

	if (!seg || !seg->hdr)
		return NULL;
	h = seg->hdr;
	return seg_elem(seg, h->sessions_off, h->nsessions,
			sizeof(struct shm_session), sizeof(struct shm_session),
			i);
}

/* The ring's own geometry must fit the mapping too: shmring_pop() trusts
 * <nslots> and <slot_size> once they pass its sanity check. */
struct shm_ring *shm_ring(const struct shm_seg *seg, uint32_t i)
{
	const struct shm_hdr *h;
	struct shm_ring *r;
	uint64_t used;

	if (!seg || !seg->hdr)
		return NULL;
	h = seg->hdr;
	r = seg_elem(seg, h->rings_off, h->nrings, h->ring_stride,
		     sizeof(struct shm_ring), i);
	if (!r)
		return NULL;
	used = shmring_size(r->nslots, r->slot_size);
	if (used > seg->size - (uint64_t)((uint8_t *)r - seg->base))
		return NULL;
	return r;
}

/*
 * Record codec: fixed-width little-endian fields, whatever the host.
 * The first failure latches and every later call is a no-op returning
 * zero, so a reader checks <err> once after the last get.
 */
void msg_init(struct shm_msg *m, void *buf, size_t size)
{
	if (!m)
		return;
	m->buf  = buf;
	m->size = buf ? size : 0;
	m->pos  = 0;
	m->err  = 0;
}

static void add_le(struct shm_msg *m, uint64_t v, size_t n)
{
	size_t i;

	if (!m || m->err)
		return;
	if (n > m->size - m->pos) {
		m->err = EMSGSIZE;
		return;
	}
	for (i = 0; i < n; i++)
		m->buf[m->pos++] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(struct shm_msg *m, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (!m || m->err)
		return 0;
	if (n > m->size - m->pos) {
		m->err = EBADMSG;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)m->buf[m->pos++] << (8 * i);
	return v;
}

void msg_add_u8(struct shm_msg *m, uint8_t v)   { add_le(m, v, 1); }
void msg_add_u16(struct shm_msg *m, uint16_t v) { add_le(m, v, 2); }
void msg_add_u32(struct shm_msg *m, uint32_t v) { add_le(m, v, 4); }
void msg_add_u64(struct shm_msg *m, uint64_t v) { add_le(m, v, 8); }

uint8_t  msg_get_u8(struct shm_msg *m)  { return (uint8_t)get_le(m, 1); }
uint16_t msg_get_u16(struct shm_msg *m) { return (uint16_t)get_le(m, 2); }
uint32_t msg_get_u32(struct shm_msg *m) { return (uint32_t)get_le(m, 4); }
uint64_t msg_get_u64(struct shm_msg *m) { return get_le(m, 8); }

/* A string longer than 65535 bytes fails with EMSGSIZE; NULL is "". */
void msg_add_str(struct shm_msg *m, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (!m || m->err)
		return;
	if (len > UINT16_MAX || 2 + len > m->size - m->pos) {
		m->err = EMSGSIZE;
		return;
	}
	add_le(m, len, 2);
	memcpy(m->buf + m->pos, s ? s : "", len);
	m->pos += len;
}

void msg_get_str(struct shm_msg *m, char *out, size_t outsz)
{
	size_t len;

	if (out && outsz)
		out[0] = '\0';
	if (!m || m->err)
		return;
	len = get_le(m, 2);
	if (m->err)
		return;
	if (!out || len >= outsz || len > m->size - m->pos) {
		m->err = EBADMSG;
		return;
	}
	memcpy(out, m->buf + m->pos, len);
	out[len] = '\0';
	m->pos += len;
}
