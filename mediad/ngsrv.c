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
#include "ngsrv.h"

/*
 * Cookie cache size. rtpengine keeps replies 30 s; with 8192 entries
 * that holds for up to ~270 requests/s, beyond that the oldest go
 * first (a retransmit comes within a few seconds). 4 MiB of replies is
 * 2 KiB a reply on average, an offer's SDP.
 */
#define CACHE_ENTRIES  8192
#define CACHE_BYTES    (4u << 20)
#define CACHE_TTL_MS   30000

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
	free(s->arena_mem);
	free(s);
}

int ngsrv_fd(const struct ngsrv *s)
{
	return s->fd;
}

size_t ngsrv_process(struct ngsrv *s, const char *msg, size_t len,
		     uint64_t now_ms, const char **replyp)
{
	const char *cookie, *body;
	size_t clen, blen, rlen;
	const void *hit;
	struct benc b;
	uint64_t h;

	if (ng_split(msg, len, &cookie, &clen, &body, &blen)) {
		++s->ctr.dropped;
		return 0;
	}

	h = ccache_hash(body, blen);
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

unsigned ngsrv_recv(struct ngsrv *s, unsigned budget)
{
	struct sockaddr_storage peer;
	socklen_t peerlen;
	const char *reply;
	char pbuf[INET6_ADDRSTRLEN + 8];
	unsigned n;
	ssize_t r;
	size_t len;

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

		len = ngsrv_process(s, s->rx, (size_t)r, clock_ms(), &reply);
		if (!len) {
			log_limit(&s->ll, LOG_LVL_WARN, "ng",
				  "dropped datagram from %s: no valid cookie",
				  peer_str(&peer, pbuf, sizeof(pbuf)));
			continue;
		}

		if (sendto(s->fd, reply, len, 0, (struct sockaddr *)&peer,
			   peerlen) == -1) {
			int e = errno;

			++s->ctr.senderr;
			log_limit(&s->ll, LOG_LVL_WARN, "ng",
				  "sendto %s (%zu bytes): %s",
				  peer_str(&peer, pbuf, sizeof(pbuf)), len,
				  strerror(e));
		}
	}
	return n;
}

void ngsrv_tick(struct ngsrv *s, uint64_t now_ms)
{
	ccache_expire(&s->cache, now_ms);
}

void ngsrv_counters(const struct ngsrv *s, struct ngsrv_ctr *c)
{
	*c = s->ctr;
}

const struct ngcmd *ngsrv_cmd(const struct ngsrv *s)
{
	return &s->cmd;
}

void ngsrv_set_calls(struct ngsrv *s, struct calls *calls)
{
	ngcmd_set_calls(&s->cmd, calls);
}
