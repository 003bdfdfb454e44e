/* mediad/ngsrv.c  NG server: UDP socket, cookie cache, request framing */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arena.h"
#include "bencode.h"
#include "cfg.h"
#include "log.h"
#include "ng.h"
#include "ccache.h"
#include "ngack.h"
#include "ngsrv.h"
#include "worker.h"

/*
 * Cookie cache size. rtpengine keeps replies 30 s; with 8192 entries
 * that holds for up to ~270 requests/s, beyond that the oldest go
 * first (a retransmit comes within a few seconds). 4 MiB of replies is
 * 2 KiB a reply on average, an offer's SDP.
 */
#define CACHE_ENTRIES  8192
#define CACHE_BYTES    (4u << 20)
#define CACHE_TTL_MS   30000

/*
 * Replies waiting for their workers (ngack.h). A worker applies a
 * command within a loop turn, microseconds, so few wait at once: one
 * NG_BUDGET burst (64) fits four times. A slot holds the largest
 * datagram; only the pages a reply touches are ever backed. A reply
 * that waits ACK_TMO_MS (a stuck worker) is sent anyway.
 */
#define ACK_ENTRIES    256
#define ACK_TMO_MS     1000

/* sndbuf/rcvbuf for bursts of NG traffic; best effort */
#define SOCK_BUF       (1 << 20)

struct ngsrv {
	int fd;
	struct ngcmd cmd;
	struct ccache cache;
	struct arena arena;
	void *arena_mem;
	struct ngsrv_ctr ctr;
	struct log_limit ll;
	struct ngack ack;
	struct worker **workers;   /* NULL: nothing to wait for */
	uint32_t nworkers;
	uint32_t *queued;          /* [nworkers]: worker_queued() before */
	char rx[NG_MSG_MAX + 1];   /* +1: MSG_TRUNC shows an oversize one */
	char tx[NG_MSG_MAX];
};

/*
 * The arena must hold the tree of any datagram that fits NG_MSG_MAX, so
 * that no valid request is refused for want of memory: at worst every
 * two bytes ("0:") are a node.
 */
static size_t arena_size(void)
{
	size_t node = (sizeof(struct bnode) + 15) & ~(size_t)15;

	return (NG_MSG_MAX / 2 + 1) * node + 16384;
}

static const char *peer_str(const struct sockaddr_storage *ss, char *buf,
			    size_t sz)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, sz, "%s:%u", ip, ntohs(sin->sin_port));
	}
	else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, sz, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	}
	else {
		snprintf(buf, sz, "?");
	}
	return buf;
}

int ngsrv_start(struct ngsrv **sp, const struct cfg_addr *listen,
		ngcmd_stats_h *statsh, void *arg)
{
	struct ngsrv *s;
	int err = 0, bufsz = SOCK_BUF;

	if (!sp || !listen || !listen->len)
		return EINVAL;

	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->fd = -1;
	ngcmd_init(&s->cmd, statsh, arg);
	log_limit_init(&s->ll, 1000, 10);

	s->arena_mem = malloc(arena_size());
	if (!s->arena_mem) {
		err = ENOMEM;
		goto out;
	}
	arena_init(&s->arena, s->arena_mem, arena_size());

	err = ccache_init(&s->cache, CACHE_ENTRIES, CACHE_BYTES,
			  CACHE_TTL_MS);
	if (err)
		goto out;
	err = ngack_init(&s->ack, ACK_ENTRIES, NG_MSG_MAX);
	if (err)
		goto out;

	s->fd = socket(listen->ss.ss_family,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		err = errno;
		log_err("ng", "socket: %m");
		goto out;
	}
	/* No SO_REUSEADDR: on Linux it lets a second UDP socket share the
	 * port, and two daemons would split the NG traffic. UDP has no
	 * TIME_WAIT, so a restart gets the port back anyway. */
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));

	if (bind(s->fd, (const struct sockaddr *)&listen->ss,
		 listen->len) == -1) {
		err = errno;
		log_err("ng", "bind %s: %m", listen->text);
		goto out;
	}
 out:
	if (err)
		ngsrv_stop(s);
	else
		*sp = s;
	return err;
}

void ngsrv_stop(struct ngsrv *s)
{
	if (!s)
		return;

	if (s->fd != -1)
		close(s->fd);
	ccache_fini(&s->cache);
	ngack_fini(&s->ack);
	free(s->queued);
	free(s->arena_mem);
	free(s);
}

int ngsrv_fd(const struct ngsrv *s)
{
	return s->fd;
}

/* What process() made of a datagram. */
enum verdict {
	V_REPLY = 0,      /* send *replyp */
	V_BAD,            /* no valid cookie: drop */
	V_PARKED,         /* retransmit of a parked command: its reply
	                     goes out once the workers applied it */
};

/* ngsrv_process(), also telling the request's cookie and body hash. */
static size_t process(struct ngsrv *s, const char *msg, size_t len,
		      uint64_t now_ms, const char **replyp, enum verdict *vp,
		      const char **cookiep, size_t *clenp, uint64_t *hashp)
{
	const char *cookie, *body;
	size_t clen, blen, rlen;
	const void *hit;
	struct benc b;
	uint64_t h;

	*replyp = NULL;
	if (ng_split(msg, len, &cookie, &clen, &body, &blen)) {
		++s->ctr.dropped;
		*vp = V_BAD;
		return 0;
	}

	h = ccache_hash(body, blen);
	*cookiep = cookie;
	*clenp = clen;
	*hashp = h;
	/* before the cache: a parked reply is cached already, but must
	 * not leave before the workers applied its command */
	if (ngack_find(&s->ack, cookie, clen, h)) {
		++s->ctr.parkeddup;
		*vp = V_PARKED;
		return 0;
	}
	*vp = V_REPLY;
	hit = ccache_find(&s->cache, cookie, clen, h, now_ms, &rlen);
	if (hit) {
		++s->ctr.cached;
		*replyp = hit;
		return rlen;
	}

	memcpy(s->tx, cookie, clen);
	s->tx[clen] = ' ';
	benc_init(&b, s->tx + clen + 1, sizeof(s->tx) - clen - 1);
	ngcmd_handle(&s->cmd, &s->arena, body, blen, &b);
	arena_reset(&s->arena);
	if (benc_finish(&b, &rlen)) {
		++s->ctr.toolarge;
		rlen = ng_error_reply(s->tx, sizeof(s->tx), cookie, clen,
				      "Reply too large");
	}
	else {
		rlen += clen + 1;
	}

	/* too large to cache: still answered, a retransmit runs again */
	ccache_put(&s->cache, cookie, clen, h, s->tx, rlen, now_ms);
	*replyp = s->tx;
	return rlen;
}

size_t ngsrv_process(struct ngsrv *s, const char *msg, size_t len,
		     uint64_t now_ms, const char **replyp)
{
	const char *cookie;
	enum verdict v;
	uint64_t h;
	size_t clen;

	return process(s, msg, len, now_ms, replyp, &v, &cookie, &clen, &h);
}

static void send_reply(struct ngsrv *s, const char *reply, size_t len,
		       const struct sockaddr *peer, socklen_t peerlen)
{
	char pbuf[INET6_ADDRSTRLEN + 8];

	if (sendto(s->fd, reply, len, 0, peer, peerlen) == -1) {
		int e = errno;

		++s->ctr.senderr;
		log_limit(&s->ll, LOG_LVL_WARN, "ng", "sendto %s (%zu bytes): "
			  "%s", peer_str((const struct sockaddr_storage *)
					 (const void *)peer, pbuf,
					 sizeof(pbuf)), len, strerror(e));
	}
}

static uint32_t applied_of(uint32_t worker, void *arg)
{
	struct ngsrv *s = arg;

	return worker_applied(s->workers[worker]);
}

static void send_parked(const struct ngack_ent *e, bool late, void *arg)
{
	struct ngsrv *s = arg;

	if (late) {
		++s->ctr.acklate;
		log_limit(&s->ll, LOG_LVL_WARN, "ng", "reply to %.*s sent "
			  "after %u ms: a worker has not applied the command",
			  (int)e->cookielen, e->cookie, ACK_TMO_MS);
	}
	send_reply(s, e->reply, e->len, (const struct sockaddr *)&e->peer,
		   e->peerlen);
}

/*
 * Send the reply of the command just handled to <peer>, or park it
 * until the workers it was queued to (those whose worker_queued() moved
 * since s->queued was taken) have applied it. When it cannot be parked
 * it goes now, as before the acknowledgement, and is counted.
 */
static void reply_or_park(struct ngsrv *s, const char *cookie, size_t clen,
			  uint64_t h, const char *reply, size_t len,
			  const struct sockaddr *peer, socklen_t peerlen,
			  uint64_t now_ms)
{
	struct ngack_wait wait[NGACK_WAIT_MAX];
	uint32_t i, n = 0, q;
	bool all = true;

	for (i = 0; i < s->nworkers; i++) {
		q = worker_queued(s->workers[i]);
		if (q == s->queued[i])
			continue;
		if (n == NGACK_WAIT_MAX) {
			all = false;
			break;
		}
		wait[n].worker = i;
		wait[n].seq = q;
		++n;
	}
	/* nothing queued, or the workers were quicker than we are */
	for (i = 0; all && i < n; i++) {
		if (!ngack_reached(worker_applied(s->workers[wait[i].worker]),
				   wait[i].seq))
			all = false;
	}
	if (all) {
		send_reply(s, reply, len, peer, peerlen);
		return;
	}
	if (ngack_park(&s->ack, cookie, clen, h, wait, n, reply, len, peer,
		       peerlen, now_ms)) {
		++s->ctr.ackfull;
		send_reply(s, reply, len, peer, peerlen);
	}
}

unsigned ngsrv_recv(struct ngsrv *s, unsigned budget)
{
	struct sockaddr_storage peer;
	socklen_t peerlen;
	const char *reply, *cookie = NULL;
	char pbuf[INET6_ADDRSTRLEN + 8];
	enum verdict v;
	uint64_t h = 0, now;
	size_t len, clen = 0;
	unsigned n;
	uint32_t i;
	ssize_t r;

	for (n = 0; n < budget; n++) {
		peerlen = sizeof(peer);
		r = recvfrom(s->fd, s->rx, sizeof(s->rx), MSG_TRUNC,
			     (struct sockaddr *)&peer, &peerlen);
		if (r == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_limit(&s->ll, LOG_LVL_WARN, "ng",
					  "recvfrom: %m");
			break;
		}
		++s->ctr.received;

		if ((size_t)r > NG_MSG_MAX) {
			++s->ctr.dropped;
			log_limit(&s->ll, LOG_LVL_WARN, "ng",
				  "dropped %zd-byte datagram from %s: over "
				  "%u bytes", r,
				  peer_str(&peer, pbuf, sizeof(pbuf)),
				  NG_MSG_MAX);
			continue;
		}

		for (i = 0; i < s->nworkers; i++)
			s->queued[i] = worker_queued(s->workers[i]);
		now = clock_ms();
		len = process(s, s->rx, (size_t)r, now, &reply, &v, &cookie,
			      &clen, &h);
		if (v == V_BAD) {
			log_limit(&s->ll, LOG_LVL_WARN, "ng",
				  "dropped datagram from %s: no valid cookie",
				  peer_str(&peer, pbuf, sizeof(pbuf)));
			continue;
		}
		if (v == V_PARKED || !len)
			continue;

		reply_or_park(s, cookie, clen, h, reply, len,
			      (const struct sockaddr *)&peer, peerlen, now);
	}
	return n;
}

unsigned ngsrv_ack(struct ngsrv *s, uint64_t now_ms)
{
	if (!s || !ngack_count(&s->ack))
		return 0;
	return ngack_release(&s->ack, applied_of, send_parked, s, now_ms,
			     ACK_TMO_MS);
}

int ngsrv_set_workers(struct ngsrv *s, struct worker **workers,
		      uint32_t n)
{
	uint32_t *q;

	if (!s || (n && !workers))
		return EINVAL;

	q = n ? calloc(n, sizeof(*q)) : NULL;
	if (n && !q)
		return ENOMEM;
	free(s->queued);
	s->queued = q;
	s->workers = n ? workers : NULL;
	s->nworkers = n;
	return 0;
}

void ngsrv_tick(struct ngsrv *s, uint64_t now_ms)
{
	ccache_expire(&s->cache, now_ms);
}

void ngsrv_counters(const struct ngsrv *s, struct ngsrv_ctr *c)
{
	*c = s->ctr;
	c->parked = s->ack.parked;
}

const struct ngcmd *ngsrv_cmd(const struct ngsrv *s)
{
	return &s->cmd;
}

void ngsrv_set_calls(struct ngsrv *s, struct calls *calls)
{
	ngcmd_set_calls(&s->cmd, calls);
}
