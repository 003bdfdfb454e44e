/* common/shm.h  Shared-memory segment between mediad (producer) and sbc */
#ifndef COMMON_SHM_H
#define COMMON_SHM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Layout (all offsets from the segment base, each 64-byte aligned):
 *
 *   struct shm_hdr                        magic, version, pid, generation
 *   struct shm_worker   [nworkers]        live counters, one per worker
 *   struct shm_session  [nsessions]       live counters, one per session
 *   struct shm_ring + slots  [nrings]     SPSC event rings mediad -> sbc
 *
 * mediad creates the segment and is the only writer of counters and the
 * only producer of every ring; ring i has one producing thread (worker
 * i, the last ring belongs to the control thread). sbc maps it
 * read-write (it moves the rings' tails) and never trusts it blindly:
 * shm_attach() checks magic, version, sizes, readiness and that the
 * producer pid is alive, and shm_check() repeats the cheap part of that
 * so a restarted mediad (new generation) is noticed.
 */

#define SHM_MAGIC    0x314d48534342534eULL   /* "NSBCSHM1" little-endian */
#define SHM_VERSION  1
#define SHM_NAME_MAX 64

struct shm_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;        /* sizeof(struct shm_hdr) */
	uint64_t total_size;      /* bytes mapped */
	int32_t  pid;             /* producer */
	uint32_t generation;      /* +1 on every create over a previous one */
	uint64_t started_unix;    /* producer start, seconds since epoch */
	uint32_t nworkers;
	uint32_t nsessions;
	uint32_t nrings;
	uint32_t ring_slots;      /* per ring, power of two */
	uint32_t slot_size;       /* bytes per record incl. its header */
	uint32_t pad0;
	uint64_t workers_off;
	uint64_t sessions_off;
	uint64_t rings_off;       /* first ring; ring i at rings_off + i*ring_stride */
	uint64_t ring_stride;
	_Atomic uint64_t heartbeat_ms;  /* producer's clock_ms(), every second */
	_Atomic uint32_t ready;         /* 1 once fully built (release) */
	uint32_t pad1;
};

/* Counters of one media worker. Written by that worker only (relaxed). */
struct shm_worker {
	_Atomic uint64_t packets_in;
	_Atomic uint64_t packets_out;
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t bytes_out;
	_Atomic uint64_t packets_dropped;   /* not RTP/RTCP, strict-source, ... */
	_Atomic uint64_t packets_lost;      /* sequence gaps seen */
	_Atomic uint64_t transcoded;
	_Atomic uint64_t nobufs;            /* -ENOBUFS / pool exhausted */
	_Atomic uint64_t busy_ns;           /* time spent handling CQEs */
	_Atomic uint64_t loop_ns;           /* wall time of the loop */
	_Atomic uint64_t sessions;          /* live sessions on this worker */
	_Atomic uint64_t loops;
	uint8_t pad[32];
} __attribute__((aligned(64)));

enum shm_session_state {
	SHM_SESS_FREE = 0,
	SHM_SESS_ACTIVE,
};

/* Live counters of one session (a call's two legs) for /api/v1/calls. */
struct shm_session {
	_Atomic uint32_t state;             /* enum shm_session_state */
	uint32_t gen;                       /* bumped on reuse */
	char     callid[96];                /* NUL-terminated, truncated */
	_Atomic uint64_t packets[2];        /* per leg, received */
	_Atomic uint64_t bytes[2];
	_Atomic uint64_t lost[2];
	_Atomic uint32_t jitter_us[2];
	uint64_t created_ms;
} __attribute__((aligned(64)));

/* Single-producer/single-consumer ring of fixed-size records. */
struct shm_ring {
	_Atomic uint32_t head __attribute__((aligned(64)));  /* producer */
	_Atomic uint32_t tail __attribute__((aligned(64)));  /* consumer */
	uint32_t nslots __attribute__((aligned(64)));       /* power of two */
	uint32_t slot_size;
	_Atomic uint64_t dropped;           /* pushes refused: ring full */
	_Atomic uint64_t bad;               /* records the consumer rejected */
	uint8_t  slots[] __attribute__((aligned(64)));
};

/* Every record starts with this; <len> bytes of payload follow. */
struct shm_rec {
	uint16_t type;                      /* enum shm_ev */
	uint16_t len;
	uint32_t seq;                       /* producer's running count */
};

enum shm_ev {
	SHM_EV_NONE = 0,
	SHM_EV_DTMF,
	SHM_EV_MEDIA_TIMEOUT,
	SHM_EV_SSRC_CHANGE,
	SHM_EV_CALL_STATS,
	SHM_EV_CFG_DONE,
	SHM_EV_MAX,
};

struct shm_layout {
	uint32_t nworkers;
	uint32_t nsessions;
	uint32_t nrings;
	uint32_t ring_slots;        /* rounded up to a power of two */
	uint32_t slot_size;         /* >= sizeof(struct shm_rec) + 8 */
};

struct shm_seg {
	uint8_t        *base;
	size_t          size;
	struct shm_hdr *hdr;
	char            name[SHM_NAME_MAX];
	bool            owner;      /* producer: unlinks on destroy */
	uint32_t        generation; /* consumer: as seen at attach */
	int32_t         pid;        /* consumer: as seen at attach */
};

/*
 * Producer. Create segment <name> ("/sbc-media") sized for <lay>. An
 * existing segment whose producer is alive and is not us fails with
 * EEXIST (another mediad runs); any other existing segment (stale,
 * foreign, wrong version) is unlinked and replaced, its generation + 1
 * carried over when it was readable. Returns 0 or an errno.
 */
int  shm_create(struct shm_seg *seg, const char *name,
		const struct shm_layout *lay);
/* Producer: unmap and unlink. Safe on a zeroed or destroyed seg. */
void shm_destroy(struct shm_seg *seg);

/*
 * Consumer. Map <name> and validate it. Returns 0, ENOENT (absent),
 * EAGAIN (not ready yet) or ESTALE (bad magic/version/size, or the
 * producer pid is gone); *whyp (if given) then holds a short reason.
 */
int  shm_attach(struct shm_seg *seg, const char *name, const char **whyp);
/* Consumer: 0 while the producer seen at attach is alive and current,
 * else ESTALE (then shm_detach() and attach again later). */
int  shm_check(const struct shm_seg *seg);
/* Consumer: unmap. Safe on a zeroed or detached seg. */
void shm_detach(struct shm_seg *seg);

/* True when process <pid> exists. */
bool shm_pid_alive(int32_t pid);

struct shm_worker  *shm_worker(const struct shm_seg *seg, uint32_t i);
struct shm_session *shm_session(const struct shm_seg *seg, uint32_t i);
struct shm_ring    *shm_ring(const struct shm_seg *seg, uint32_t i);

/* Bytes a ring with <slots> x <slot_size> occupies, 64-byte aligned. */
size_t shmring_size(uint32_t slots, uint32_t slot_size);
/* Initialise a ring in place (memory of shmring_size() bytes). */
int  shmring_init(struct shm_ring *r, uint32_t slots, uint32_t slot_size);
/*
 * Producer: append a record. Returns 0, ENOSPC (full: counted in
 * <dropped>) or EMSGSIZE (payload over slot_size - header).
 */
int  shmring_push(struct shm_ring *r, uint16_t type, const void *data,
		  size_t len);
/*
 * Consumer: take the oldest record. Returns 0 with type, payload copied
 * to <buf> and its length, ENOENT when empty, or EBADMSG for a record
 * that is malformed (length over the slot, unknown type): it is skipped
 * and counted in <bad>. A record longer than <bufsz> is EMSGSIZE and
 * skipped too.
 */
int  shmring_pop(struct shm_ring *r, uint16_t *typep, void *buf,
		 size_t bufsz, size_t *lenp);
/* Records waiting (consumer's view). */
uint32_t shmring_count(const struct shm_ring *r);

/*
 * Typed, bounds-checked record building and reading. A failed add
 * latches <err> (EMSGSIZE); a failed get latches EBADMSG; check once.
 */
struct shm_msg {
	uint8_t *buf;
	size_t   size;
	size_t   pos;
	int      err;
};

void msg_init(struct shm_msg *m, void *buf, size_t size);
void msg_add_u8(struct shm_msg *m, uint8_t v);
void msg_add_u16(struct shm_msg *m, uint16_t v);
void msg_add_u32(struct shm_msg *m, uint32_t v);
void msg_add_u64(struct shm_msg *m, uint64_t v);
void msg_add_str(struct shm_msg *m, const char *s);    /* u16 len + bytes */
uint8_t  msg_get_u8(struct shm_msg *m);
uint16_t msg_get_u16(struct shm_msg *m);
uint32_t msg_get_u32(struct shm_msg *m);
uint64_t msg_get_u64(struct shm_msg *m);
/* Copy a string into <out>/<outsz> (NUL-terminated); EBADMSG if it does
 * not fit or runs past the record. */
void msg_get_str(struct shm_msg *m, char *out, size_t outsz);

#endif
