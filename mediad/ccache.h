/* mediad/ccache.h  NG cookie cache: replies kept for retransmitted requests */
#ifndef MEDIAD_CCACHE_H
#define MEDIAD_CCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "ng.h"

/*
 * An NG client that misses a reply resends the same datagram with the
 * same cookie; it must get the same reply, not a second execution of
 * the command (a repeated "offer" would allocate new ports).
 *
 * The cache is bounded twice, both sized at ccache_init(): a ring of
 * <nent> entries and a byte ring of <bufsz> bytes holding the replies.
 * Entries leave in insertion order, which is also expiry order because
 * every entry lives <ttl_ms>: when either ring is full the oldest entry
 * goes first, even if it has not expired yet. A request matches an
 * entry when the cookie and a hash of the body are equal, so a client
 * that reuses a cookie for a different request (a restarted proxy
 * counting from 1 again) gets a fresh answer, not a stale one.
 *
 * Single-threaded: the control thread owns it.
 */

struct ccache_ent {
	uint64_t t_ms;          /* when stored */
	uint64_t bodyhash;
	uint32_t off;           /* reply bytes in the byte ring */
	uint32_t len;
	uint32_t chash;         /* cookie hash: its bucket */
	int32_t  hnext;         /* next entry in the bucket, -1 ends */
	uint16_t cookielen;
	char     cookie[NG_COOKIE_MAX];
};

/* Embed it in the owner; members are private to ccache.c and tests. */
struct ccache {
	struct ccache_ent *ent;     /* ring of nent entries */
	int32_t  *bucket;           /* nent * 2 chain heads, -1 = empty */
	uint8_t  *buf;              /* byte ring for the replies */
	size_t    bufsz;
	size_t    wpos;             /* next reply goes here (or at 0) */
	uint32_t  nent;             /* power of two */
	uint32_t  first;            /* oldest entry */
	uint32_t  count;
	uint32_t  ttl_ms;

	/* counters, for "statistics" and ccache tests */
	uint64_t  hits;
	uint64_t  stored;
	uint64_t  evicted;          /* dropped before expiry: cache full */
	uint64_t  expired;
	uint64_t  toolarge;         /* reply over bufsz / 2: not cached */
};

/* Startup only: <nent> entries (a power of two), <bufsz> bytes of
 * replies, each kept <ttl_ms>. Returns 0, EINVAL or ENOMEM. */
int  ccache_init(struct ccache *c, uint32_t nent, size_t bufsz,
		 uint32_t ttl_ms);
/* Release the storage. Safe on a zeroed or finished cache. */
void ccache_fini(struct ccache *c);

/* Hash of a request body, for ccache_find() / ccache_put(). */
uint64_t ccache_hash(const void *p, size_t len);

/*
 * The reply stored for <cookie>/<cookielen> and <bodyhash>, unexpired at
 * <now_ms>: a pointer into the cache and its length in *lenp, valid
 * until the next ccache_put() or ccache_expire(). NULL on a miss.
 */
const void *ccache_find(struct ccache *c, const char *cookie,
			size_t cookielen, uint64_t bodyhash, uint64_t now_ms,
			size_t *lenp);

/*
 * Store a copy of reply <p>/<len> under <cookie> and <bodyhash>, evicting
 * the oldest entries as needed. Returns 0, EINVAL (bad cookie) or
 * EMSGSIZE (reply too large to cache: counted, the caller still sends).
 */
int  ccache_put(struct ccache *c, const char *cookie, size_t cookielen,
		uint64_t bodyhash, const void *p, size_t len,
		uint64_t now_ms);

/* Drop every entry older than the TTL at <now_ms>. */
void ccache_expire(struct ccache *c, uint64_t now_ms);

/* Entries held. */
uint32_t ccache_count(const struct ccache *c);

#endif
