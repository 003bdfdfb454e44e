/* sbc/media.c  NG client toward mediad (or rtpengine): liveness and requests */
#include <string.h>

#include <re.h>

#include "arena.h"
#include "bencode.h"
#include "cfg.h"
#include "log.h"
#include "media.h"
#include "ng.h"

#define PING_INTERVAL_MS  2000
#define PING_TIMEOUT_MS   1900   /* answered before the next ping is due */
#define PING_MISSES_DOWN  2      /* about 5 s without a pong */
#define RT_FIRST_MS       500    /* first retransmission, then doubling */
#define TICK_MS           100    /* granularity of both */
#define REQ_HASH_SIZE     256
#define COOKIE_MAX        32

enum ep_state {
	EP_UNKNOWN = 0,          /* no pong yet, not yet given up on */
	EP_UP,
	EP_DOWN,
};

/* One NG endpoint from media_ng. The client's list owns it. */
struct media_ep {
	struct le         le;
	struct sa         addr;
	char              text[64];
	struct tmr        tmr_ping;
	struct media_req *ping;     /* handle of the outstanding ping */
	enum ep_state     state;
	unsigned          missed;   /* pings in a row without a pong */
	bool              removed;  /* out of the list, kept by requests */
	uint64_t          pings, pongs, requests, timeouts;
};

/*
 * One request in flight. The pending table owns it; the caller's
 * *reqp is a handle that the client clears when the request ends.
 */
struct media_req {
	struct le          he;
	struct media_req **reqp;
	struct media_ep   *ep;       /* referenced */
	struct mbuf       *mb;       /* "COOKIE SP body", as sent */
	char               cookie[COOKIE_MAX];
	size_t             cookielen;
	struct le          ple;      /* mc.pending */
	uint64_t           deadline; /* tmr_jiffies() */
	uint64_t           next_rt;  /* tmr_jiffies() of the next resend */
	uint32_t           rt_ms;
	media_resp_h      *resph;
	void              *arg;
};

static struct {
	struct udp_sock *us;
	struct list      eps;
	struct hash     *reqs;
	struct list      pending;    /* every request in flight */
	struct tmr       tmr_tick;   /* retransmissions and timeouts */
	struct le       *rr;         /* round robin over the endpoints */
	uint32_t         cookie_pfx;
	uint64_t         seq;
	uint64_t         stray;      /* replies to no request of ours */
	uint64_t         bad;        /* datagrams that did not decode */
	bool             started;
} mc;

/* Decoded replies live here while their handler runs (one thread). */
static uint8_t reply_arena[128 * 1024];

static void ping_start(struct media_ep *ep);

int media_reply_parse(struct media_reply *rep, struct arena *a,
		      const char *buf, size_t len, const char *cookie,
		      size_t cookielen)
{
	const char *c, *body, *r, *why;
	size_t clen, blen, rlen, wlen;
	struct bnode *root;

	if (!rep || !a || !buf || !cookie)
		return EINVAL;

	if (ng_split(buf, len, &c, &clen, &body, &blen))
		return EBADMSG;
	if (clen != cookielen || memcmp(c, cookie, clen))
		return ENOENT;
	if (bencode_decode(a, body, blen, &root, NULL, NULL) ||
	    root->type != BN_DICT)
		return EBADMSG;
	if (!bnode_get_str(root, "result", &r, &rlen))
		return EPROTO;

	memset(rep, 0, sizeof(*rep));
	rep->dict = root;
	if (rlen == 2 && !memcmp(r, "ok", 2)) {
		rep->result = MEDIA_R_OK;
	}
	else if (rlen == 4 && !memcmp(r, "pong", 4)) {
		rep->result = MEDIA_R_PONG;
	}
	else {
		/* "error", and anything else ("load limit") counts as one */
		rep->result = MEDIA_R_ERROR;
		if (rlen == 5 && !memcmp(r, "error", 5) &&
		    bnode_get_str(root, "error-reason", &why, &wlen)) {
			r = why;
			rlen = wlen;
		}
		rep->reason = r;
		rep->reasonlen = rlen;
	}
	return 0;
}

static bool cookie_cmp(struct le *le, void *arg)
{
	const struct media_req *req = le->data;
	const struct pl *c = arg;

	return req->cookielen == c->l && !memcmp(req->cookie, c->p, c->l);
}

static void req_destructor(void *arg)
{
	struct media_req *req = arg;

	list_unlink(&req->ple);
	hash_unlink(&req->he);
	if (req->reqp)
		*req->reqp = NULL;
	mem_deref(req->mb);
	mem_deref(req->ep);
}

/*
 * End <req>: out of the table and its handle cleared first, so the
 * handler may start new requests or cancel others freely; then the
 * handler, then the last reference.
 */
static void req_complete(struct media_req *req, int err,
			 const struct media_reply *rep)
{
	list_unlink(&req->ple);
	hash_unlink(&req->he);
	if (req->reqp) {
		*req->reqp = NULL;
		req->reqp = NULL;
	}
	if (err == ETIMEDOUT)
		++req->ep->timeouts;

	req->resph(err, rep, req->arg);
	mem_deref(req);
}

static int req_send(struct media_req *req)
{
	req->mb->pos = 0;
	return udp_send(mc.us, &req->ep->addr, req->mb);
}

/*
 * One timer for every request in flight, not one each: libre 1.1.0 keeps
 * its timers in a sorted list, so each timer started costs a walk over
 * the others (thousands of SIP transaction timers under load). Every
 * TICK_MS the pending list is scanned: the same cookie is sent again
 * (mediad answers it from its cache) when due, and a request past its
 * deadline completes with ETIMEDOUT.
 */
static void tick_tmr(void *arg)
{
	uint64_t now = tmr_jiffies();
	struct le *le;
	int err;

	(void)arg;

 again:
	for (le = mc.pending.head; le; le = le->next) {
		struct media_req *req = le->data;

		if (now >= req->deadline) {
			/* the handler may end other requests: rescan */
			req_complete(req, ETIMEDOUT, NULL);
			goto again;
		}
		if (now < req->next_rt)
			continue;
		err = req_send(req);
		if (err)
			log_debug("media", "%s: retransmit: %s", req->ep->text,
				  strerror(err));
		req->rt_ms *= 2;
		req->next_rt = now + req->rt_ms;
	}
	if (mc.pending.head)
		tmr_start(&mc.tmr_tick, TICK_MS, tick_tmr, NULL);
}

/* Send <body>/<len> to <ep>; see media_request() for the contract. */
static int req_alloc(struct media_req **reqp, struct media_ep *ep,
		     const char *body, size_t len, uint32_t timeout_ms,
		     media_resp_h *resph, void *arg)
{
	struct media_req *req;
	int err;

	if (!mc.started)
		return ENOTCONN;
	if (!body || !len || !resph || !timeout_ms)
		return EINVAL;
	if (len + COOKIE_MAX + 1 > NG_MSG_MAX)
		return EMSGSIZE;

	req = mem_zalloc(sizeof(*req), req_destructor);
	if (!req)
		return ENOMEM;

	req->ep = mem_ref(ep);
	req->resph = resph;
	req->arg = arg;
	req->cookielen = (size_t)re_snprintf(req->cookie, sizeof(req->cookie),
					     "%08x_%llu", mc.cookie_pfx,
					     (unsigned long long)++mc.seq);

	req->mb = mbuf_alloc(req->cookielen + 1 + len);
	if (!req->mb) {
		err = ENOMEM;
		goto out;
	}
	err = mbuf_write_mem(req->mb, (const uint8_t *)req->cookie,
			     req->cookielen);
	err |= mbuf_write_u8(req->mb, ' ');
	err |= mbuf_write_mem(req->mb, (const uint8_t *)body, len);
	if (err)
		goto out;

	err = req_send(req);
	if (err)
		goto out;

	++ep->requests;
	req->deadline = tmr_jiffies() + timeout_ms;
	req->rt_ms = RT_FIRST_MS < timeout_ms ? RT_FIRST_MS : timeout_ms;
	req->next_rt = tmr_jiffies() + req->rt_ms;
	list_append(&mc.pending, &req->ple, req);
	if (!tmr_isrunning(&mc.tmr_tick))
		tmr_start(&mc.tmr_tick, TICK_MS, tick_tmr, NULL);
	hash_append(mc.reqs, hash_joaat((const uint8_t *)req->cookie,
					req->cookielen), &req->he, req);
	if (reqp) {
		req->reqp = reqp;
		*reqp = req;
	}
 out:
	if (err)
		mem_deref(req);
	return err;
}

int media_request_ep(struct media_req **reqp, struct media_ep **epp,
		     const char *body, size_t len, uint32_t timeout_ms,
		     media_resp_h *resph, void *arg)
{
	struct le *le;
	unsigned i, n;
	int err;

	if (!epp)
		return EINVAL;

	if (*epp) {
		if ((*epp)->removed)
			return ENOTCONN;
		return req_alloc(reqp, *epp, body, len, timeout_ms, resph,
				 arg);
	}

	n = list_count(&mc.eps);
	le = mc.rr ? mc.rr->next : NULL;
	for (i = 0; i < n; i++, le = le->next) {
		struct media_ep *ep;

		if (!le)
			le = mc.eps.head;
		ep = le->data;
		if (ep->state != EP_UP)
			continue;
		mc.rr = le;
		err = req_alloc(reqp, ep, body, len, timeout_ms, resph, arg);
		if (!err)
			*epp = mem_ref(ep);
		return err;
	}
	return ENOTCONN;
}

int media_request(struct media_req **reqp, const char *body, size_t len,
		  uint32_t timeout_ms, media_resp_h *resph, void *arg)
{
	struct media_ep *ep = NULL;   /* next one up, round robin */
	int err;

	err = media_request_ep(reqp, &ep, body, len, timeout_ms, resph, arg);
	mem_deref(ep);
	return err;
}

static void ping_resp(int err, const struct media_reply *rep, void *arg)
{
	struct media_ep *ep = arg;

	if (ep->removed)
		return;

	if (!err && rep->result == MEDIA_R_PONG) {
		++ep->pongs;
		ep->missed = 0;
		if (ep->state != EP_UP)
			log_info("media", "%s up", ep->text);
		ep->state = EP_UP;
		return;
	}

	if (!err)
		log_debug("media", "%s: ping answered with '%.*s'", ep->text,
			  (int)rep->reasonlen, rep->reason ? rep->reason : "");

	if (++ep->missed < PING_MISSES_DOWN || ep->state == EP_DOWN)
		return;
	if (ep->state == EP_UP)
		log_warn("media", "%s down: %u pings unanswered", ep->text,
			 ep->missed);
	else
		log_warn("media", "%s not answering (is mediad running?); "
			 "retrying every %u s", ep->text,
			 PING_INTERVAL_MS / 1000);
	ep->state = EP_DOWN;
}

static void ping_tmr(void *arg)
{
	struct media_ep *ep = arg;

	tmr_start(&ep->tmr_ping, PING_INTERVAL_MS, ping_tmr, ep);
	if (!ep->ping)
		ping_start(ep);
}

static void ping_start(struct media_ep *ep)
{
	char body[32];
	struct benc b;
	size_t len;
	int err;

	benc_init(&b, body, sizeof(body));
	benc_dict(&b);
	benc_kstr(&b, "command", "ping");
	benc_end(&b);
	err = benc_finish(&b, &len);
	if (!err)
		err = req_alloc(&ep->ping, ep, body, len, PING_TIMEOUT_MS,
				ping_resp, ep);
	if (!err) {
		++ep->pings;
		return;
	}

	/* a send that fails (no route) is a missed ping, logged at most
	 * once per state change by ping_resp() */
	log_debug("media", "%s: ping: %s", ep->text, strerror(err));
	ping_resp(err, NULL, ep);
}

static void ep_destructor(void *arg)
{
	struct media_ep *ep = arg;

	tmr_cancel(&ep->tmr_ping);
	list_unlink(&ep->le);
}

static int ep_alloc(struct media_ep **epp, const struct cfg_addr *a)
{
	struct media_ep *ep;
	int err;

	ep = mem_zalloc(sizeof(*ep), ep_destructor);
	if (!ep)
		return ENOMEM;

	err = sa_set_sa(&ep->addr, (const struct sockaddr *)&a->ss);
	if (err) {
		mem_deref(ep);
		return err;
	}
	str_ncpy(ep->text, a->text, sizeof(ep->text));
	list_append(&mc.eps, &ep->le, ep);

	/* first ping right away: either daemon may have started first */
	tmr_start(&ep->tmr_ping, 0, ping_tmr, ep);
	*epp = ep;
	return 0;
}

/* Out of the list; requests still holding <ep> end on their own. */
static void ep_remove(struct media_ep *ep)
{
	if (mc.rr == &ep->le)
		mc.rr = NULL;
	ep->removed = true;
	tmr_cancel(&ep->tmr_ping);
	list_unlink(&ep->le);
	ep->ping = mem_deref(ep->ping);
	mem_deref(ep);
}

static struct media_ep *ep_find(const struct sa *addr)
{
	struct le *le;

	for (le = mc.eps.head; le; le = le->next) {
		struct media_ep *ep = le->data;

		if (sa_cmp(&ep->addr, addr, SA_ALL))
			return ep;
	}
	return NULL;
}

static void udp_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	const char *buf = (const char *)mbuf_buf(mb);
	size_t len = mbuf_get_left(mb);
	const char *cookie;
	size_t clen;
	struct media_reply rep;
	struct media_req *req;
	struct arena a;
	struct pl c;
	int err;

	(void)arg;

	if (ng_split(buf, len, &cookie, &clen, NULL, NULL)) {
		++mc.bad;
		return;
	}
	c.p = cookie;
	c.l = clen;
	req = list_ledata(hash_lookup(mc.reqs,
				      hash_joaat((const uint8_t *)cookie,
						 clen), cookie_cmp, &c));

	/* only the endpoint asked may answer: no spoofed replies */
	if (!req || !sa_cmp(src, &req->ep->addr, SA_ALL)) {
		++mc.stray;
		log_debug("media", "reply with unknown cookie '%.*s'",
			  (int)clen, cookie);
		return;
	}

	arena_init(&a, reply_arena, sizeof(reply_arena));
	err = media_reply_parse(&rep, &a, buf, len, req->cookie,
				req->cookielen);
	if (err) {
		/* keep waiting: a retransmission may get a good one */
		++mc.bad;
		log_warn("media", "%s: undecodable reply to %s (%s)",
			 req->ep->text, req->cookie, strerror(err));
		return;
	}

	req_complete(req, 0, &rep);
}

static bool addrlist_has(const struct cfg_addrlist *l, const struct sa *sa)
{
	unsigned i;

	for (i = 0; i < l->n; i++) {
		struct sa x;

		if (!sa_set_sa(&x, (const struct sockaddr *)&l->a[i].ss) &&
		    sa_cmp(&x, sa, SA_ALL))
			return true;
	}
	return false;
}

int media_reconfigure(const struct cfg_addrlist *eps)
{
	struct media_ep *ep;
	struct le *le;
	unsigned i;
	int err;

	if (!eps)
		return EINVAL;

	for (le = mc.eps.head; le; ) {
		ep = le->data;
		le = le->next;
		if (addrlist_has(eps, &ep->addr))
			continue;
		log_info("media", "endpoint %s removed", ep->text);
		ep_remove(ep);
	}

	/* endpoints that stay keep their state; all move to config order */
	for (i = 0; i < eps->n; i++) {
		struct sa sa;

		err = sa_set_sa(&sa, (const struct sockaddr *)&eps->a[i].ss);
		if (err)
			return err;
		ep = ep_find(&sa);
		if (ep) {
			list_unlink(&ep->le);
			list_append(&mc.eps, &ep->le, ep);
			continue;
		}
		err = ep_alloc(&ep, &eps->a[i]);
		if (err)
			return err;
		log_info("media", "endpoint %s, pinging every %u s", ep->text,
			 PING_INTERVAL_MS / 1000);
	}
	return 0;
}

int media_start(const struct cfg_addrlist *eps)
{
	int err;

	if (!eps || !eps->n)
		return EINVAL;

	list_init(&mc.eps);
	mc.cookie_pfx = rand_u32();
	mc.seq = 0;
	mc.rr = NULL;

	list_init(&mc.pending);
	tmr_init(&mc.tmr_tick);
	err = hash_alloc(&mc.reqs, REQ_HASH_SIZE);
	if (err)
		goto out;

	/* no address: both families, any port */
	err = udp_listen(&mc.us, NULL, udp_recv, NULL);
	if (err) {
		log_err("media", "cannot open the NG socket: %s",
			strerror(err));
		goto out;
	}
	udp_rxsz_set(mc.us, NG_MSG_MAX);
	mc.started = true;

	err = media_reconfigure(eps);
 out:
	if (err)
		media_stop();
	return err;
}

void media_stop(void)
{
	struct le *le;

	/* requests first: they hold references to the endpoints */
	tmr_cancel(&mc.tmr_tick);
	hash_flush(mc.reqs);
	mc.reqs = mem_deref(mc.reqs);

	while ((le = mc.eps.head) != NULL)
		ep_remove(le->data);

	mc.us = mem_deref(mc.us);
	mc.rr = NULL;
	mc.started = false;
}

bool media_up(void)
{
	struct le *le;

	for (le = mc.eps.head; le; le = le->next) {
		const struct media_ep *ep = le->data;

		if (ep->state == EP_UP)
			return true;
	}
	return false;
}

static bool count_one(struct le *le, void *arg)
{
	unsigned *n = arg;

	(void)le;
	++*n;
	return false;
}

int media_debug(struct re_printf *pf, void *unused)
{
	static const char *const names[] = { "unknown", "up", "down" };
	struct le *le;
	unsigned pending = 0;
	int err;

	(void)unused;

	if (mc.reqs)
		(void)hash_apply(mc.reqs, count_one, &pending);
	err = re_hprintf(pf, "media: pending=%u stray=%llu bad=%llu",
			 pending, (unsigned long long)mc.stray,
			 (unsigned long long)mc.bad);
	for (le = mc.eps.head; le; le = le->next) {
		const struct media_ep *ep = le->data;

		err |= re_hprintf(pf, " [%s %s pings=%llu pongs=%llu "
				  "requests=%llu timeouts=%llu]", ep->text,
				  names[ep->state],
				  (unsigned long long)ep->pings,
				  (unsigned long long)ep->pongs,
				  (unsigned long long)ep->requests,
				  (unsigned long long)ep->timeouts);
	}
	return err;
}
