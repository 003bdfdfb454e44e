/* sbc/b2bua.c  The back-to-back user agent: calls of two dialogs each */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <re.h>

#include "arena.h"
#include "auth.h"
#include "b2bua.h"
#include "bencode.h"
#include "cdr.h"
#include "log.h"
#include "media.h"
#include "registrar.h"
#include "route.h"
#include "sbc.h"
#include "shm.h"
#include "shmc.h"
#include "config.h"
#include "sipsrv.h"
#include "stats.h"
#include "trunk.h"

/*
 * A call is two (or, while forking, more) dialogs: the A leg, where we
 * are the UAS toward the caller, and B legs, where we are the UAC toward
 * the callee's contacts or a trunk. Nothing of one leg is copied into
 * another: each has its own Call-ID, tags, CSeq, Via (libre's) and
 * Contact (ours), and the SDP each side sees is mediad's.
 *
 * Ownership: b2b.calls holds one reference to each live call; a call
 * holds its legs. A leg points back to its call without a reference.
 * Every libre or NG callback takes a reference to the call for its
 * duration, so ending a call inside a handler is safe.
 */

#define LEG_HASH          4096
#define NG_TIMEOUT_MS     3000   /* retransmitted within, then given up */
#define NG_BODY_MAX       (24 * 1024)
#define ATTEMPT_MS        6000   /* no answer at all from a B target */
#define NOANSWER_MS       120000 /* ringing without an answer */
#define T1_MS             500
#define T2_MS             4000
#define ACK_WAIT_MS       (64 * T1_MS)
#define MAXFWD_DEFAULT    70
#define AUTH_TRIES        2
#define FORKS_MAX         16
#define TICK_MS           100    /* granularity of the B2BUA's timers */

#define ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO"

enum call_state {
	CS_ROUTING = 0,     /* offer to mediad in flight */
	CS_CALLING,         /* B legs out, nothing final */
	CS_ANSWERING,       /* a B leg answered; mediad's answer in flight */
	CS_CONFIRMED,       /* 2xx sent to A */
	CS_ENDED,
};

enum dir { DIR_INTERNAL = 0, DIR_INBOUND, DIR_OUTBOUND, DIR_COUNT };

enum target_kind { TGT_PHONE, TGT_TRUNK, TGT_URI };

/*
 * The media profile of a leg: what mediad is asked to give that side.
 * KEEP leaves the offerer's transport as it is (a phone's own choice).
 */
enum mprof { MP_KEEP = 0, MP_RTP, MP_SDES, MP_WEBRTC };

struct call;

struct leg {
	struct le    he;           /* b2b.legs by Call-ID */
	struct le    le;           /* call->forks (B legs) */
	struct call *call;         /* borrowed */
	bool         uas;          /* the A leg */
	char        *callid;
	char        *ltag;         /* ours */
	char        *rtag;         /* theirs; NULL until known */
	char        *lhdr;         /* our From/To value, without the tag */
	char        *rhdr;         /* theirs, without the tag */
	char        *rtarget;      /* Request-URI of in-dialog requests */
	char        *routes;       /* "Route: ...\r\n" lines, or NULL */
	char        *dest;         /* next hop, "sip:host:port;transport=x" */
	uint32_t     lseq;
	uint32_t     rseq;
	bool         confirmed;    /* the dialog is established */
	bool         bye_sent;
	enum mprof   prof;         /* media profile of this side */

	/* A leg: the INVITE and its transaction */
	struct sip_msg    *inv;    /* referenced until the 2xx is ACKed */
	struct sip_strans *st;     /* until the final reply */
	bool               final_sent;
	char              *sdp2xx; /* the 2xx's body, for resending it */
	char              *xhdrs2xx;
	bool               is2xx;  /* the final answer was a 2xx */
	uint64_t           due2xx; /* next resend (tick), 0: none */
	uint32_t           ival2xx;
	uint64_t           t2xx;   /* when the 2xx was first sent */

	/* B leg: our INVITE */
	struct sip_request *req;
	struct sip_auth    *auth;
	unsigned            auth_tries;
	struct mbuf        *ack;   /* the ACK of its 2xx, sent again */
	uint32_t            ack_cseq;
	struct sa           ack_dst;
	enum sip_transp     ack_tp;
	char               *ruri;  /* Request-URI of the INVITE */
	char               *xhdrs; /* X- headers toward the inside */
	char               *trunk; /* trunk name, or NULL */
	bool                trunk_counted;
	bool                responded;
	uint64_t            due_attempt; /* no answer by then (tick) */
};

struct call {
	struct le        le;        /* b2b.calls */
	uint64_t         id;
	enum dir         dir;
	enum call_state  state;
	char            *ngid;      /* the call-id given to mediad */
	struct media_ep *ep;        /* mediad holding the call */
	struct media_req *ngreq;    /* offer or answer in flight */
	struct media_req *ngearly;  /* answer of an early SDP in flight */
	bool             offered;   /* mediad knows the call */
	char            *sdp_b;     /* SDP for the B side (mediad's offer) */
	enum mprof       bprof;     /* the profile sdp_b was made for */
	char            *from;      /* for the CDR and API */
	char            *to;
	char            *trunk;     /* trunk used, or NULL */
	uint64_t         started_at;
	uint64_t         answered_at;
	struct leg      *a;
	struct list      forks;     /* B legs, pending or answered */
	struct leg      *b;         /* the B leg that answered */
	struct tmr       tmr_noanswer;

	/* what to try next */
	enum target_kind kind;
	struct route_out route;     /* outbound: trunks in failover order */
	unsigned         next_trunk;
	char             target[ROUTE_TARGET_MAX];  /* user@domain or URI */
	char             from_user[64];
	char             from_dname[128];
	char             from_domain[AUTH_DOMAIN_MAX];
	char             to_hdr[320];
	char             xhdrs[512];
	unsigned         maxfwd;

	/* the best final answer seen from failed B legs */
	uint16_t         best_scode;
	char             best_reason[64];

	/* a re-INVITE being relayed (one at a time: glare gets 491) */
	struct reinvite *reinv;
};

struct reinvite {
	struct call       *call;    /* borrowed */
	struct leg        *from;    /* who sent it */
	struct leg        *to;      /* who gets ours */
	struct sip_msg    *msg;     /* the request (referenced) */
	struct sip_strans *st;
	struct sip_request *req;    /* ours, toward <to> */
	struct media_req  *ngreq;
	char              *sdp_out; /* mediad's offer toward <to> */
	bool               has_sdp;
};

static struct {
	bool        started;
	struct hash *legs;
	struct list calls;
	uint64_t    next_id;
	unsigned    active[DIR_COUNT];
	unsigned    byes;           /* BYEs waiting for their response */
	uint64_t    blocked_list;
	uint64_t    blocked_limit;
	uint64_t    blocked_source;
	uint64_t    media_failed;
	uint64_t    media_timeouts;
	struct tmr  tmr_tick;
} b2b;

static const char *const dir_names[DIR_COUNT] = {
	"internal", "inbound", "outbound",
};

static void call_end(struct call *c, uint16_t scode, const char *reason,
		     const char *side);
static void call_hangup(struct call *c, const char *side);
static void fork_next(struct call *c);

static uint64_t unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct sip *sip(void)
{
	return sipsrv_sip();
}

/* ---- small text helpers ----------------------------------------------- */

/* Keep what is safe in a SIP user part; anything else makes "anonymous". */
static void user_copy(char *dst, size_t sz, const struct pl *src)
{
	size_t i;

	if (!src || !pl_isset(src) || src->l >= sz)
		goto anon;
	for (i = 0; i < src->l; i++) {
		char ch = src->p[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || strchr("+-_.*#!~", ch)))
			goto anon;
	}
	pl_strcpy(src, dst, sz);
	return;
 anon:
	str_ncpy(dst, "anonymous", sz);
}

/* A display name without quotes, backslashes or control characters. */
static void dname_copy(char *dst, size_t sz, const struct pl *src)
{
	size_t i, n = 0;

	if (!sz)
		return;
	for (i = 0; src && i < src->l && n + 1 < sz; i++) {
		unsigned char ch = (unsigned char)src->p[i];

		if (ch < 0x20 || ch == '"' || ch == '\\' || ch == 0x7f)
			continue;
		dst[n++] = (char)ch;
	}
	dst[n] = '\0';
}

/* Is <num> a dialable number: digits, with an optional leading '+'? */
static bool is_number(const struct pl *num)
{
	size_t i = 0;

	if (!pl_isset(num))
		return false;
	if (num->p[0] == '+')
		i = 1;
	if (i == num->l)
		return false;
	for (; i < num->l; i++) {
		char ch = num->p[i];

		if ((ch < '0' || ch > '9') && ch != '*' && ch != '#')
			return false;
	}
	return true;
}

static bool msg_sdp(const struct sip_msg *msg, struct pl *sdp)
{
	if (!msg || !mbuf_get_left(msg->mb))
		return false;
	if (msg_ctype_cmp(&msg->ctyp, "application", "sdp") == false)
		return false;
	sdp->p = (const char *)mbuf_buf(msg->mb);
	sdp->l = mbuf_get_left(msg->mb);
	return true;
}

/* "sip:ip:port;transport=x" for a source address. */
static int dest_from_sa(char **dp, const struct sa *sa, enum sip_transp tp)
{
	return re_sdprintf(dp, "sip:%J%s", sa,
			   sip_transp_param(tp));
}

static int uri_from_str(struct uri *uri, const char *s)
{
	struct pl pl;

	pl_set_str(&pl, s);
	return uri_decode(uri, &pl);
}

/* libre's send handler: our Contact, with the address it sends from. */
static int contact_handler(enum sip_transp tp, const struct sa *src,
			   const struct sa *dst, struct mbuf *mb, void *arg)
{
	const struct sbc_config *cfg = sbc_config();
	struct sa a = *src;

	(void)dst;
	(void)arg;

	if (cfg && cfg->advertised_ip.len) {
		struct sa adv;

		if (!sa_set_sa(&adv, (const struct sockaddr *)
			       &cfg->advertised_ip.ss)) {
			sa_set_port(&adv, sa_port(src));
			a = adv;
		}
	}
	return mbuf_printf(mb, "Contact: <sip:sbc@%J%s>\r\n", &a,
			   sip_transp_param(tp));
}

/* Our Contact in a reply to <msg>: the address it came in on. */
static int msg_contact(struct re_printf *pf, const struct sip_msg *msg)
{
	const struct sbc_config *cfg = sbc_config();
	struct sa addr = msg->dst;

	if (cfg && cfg->advertised_ip.len) {
		struct sa adv;

		if (!sa_set_sa(&adv, (const struct sockaddr *)
			       &cfg->advertised_ip.ss)) {
			sa_set_port(&adv, sa_port(&msg->dst));
			addr = adv;
		}
	}
	return re_hprintf(pf, "<sip:sbc@%J%s>", &addr,
			  sip_transp_param(msg->tp));
}

/* ---- legs --------------------------------------------------------------- */

static void leg_destructor(void *arg)
{
	struct leg *l = arg;

	hash_unlink(&l->he);
	list_unlink(&l->le);
	mem_deref(l->req);         /* cancels a pending INVITE */
	mem_deref(l->st);
	mem_deref(l->inv);
	mem_deref(l->sdp2xx);
	mem_deref(l->xhdrs2xx);
	mem_deref(l->auth);
	mem_deref(l->ack);
	mem_deref(l->callid);
	mem_deref(l->ltag);
	mem_deref(l->rtag);
	mem_deref(l->lhdr);
	mem_deref(l->rhdr);
	mem_deref(l->rtarget);
	mem_deref(l->routes);
	mem_deref(l->dest);
	mem_deref(l->ruri);
	mem_deref(l->xhdrs);
	mem_deref(l->trunk);
}

static struct leg *leg_alloc(struct call *c, bool uas)
{
	struct leg *l = mem_zalloc(sizeof(*l), leg_destructor);

	if (!l)
		return NULL;
	l->call = c;
	l->uas = uas;
	return l;
}

static bool leg_cmp(struct le *le, void *arg)
{
	const struct sip_msg *msg = arg;
	const struct leg *l = le->data;

	if (pl_strcmp(&msg->callid, l->callid))
		return false;
	if (msg->req) {
		if (pl_strcmp(&msg->to.tag, l->ltag))
			return false;
		return !l->rtag || !pl_strcmp(&msg->from.tag, l->rtag);
	}
	return !pl_strcmp(&msg->from.tag, l->ltag);
}

/* An A leg whose INVITE <msg> retransmits (same Call-ID, tag, CSeq). */
static bool a_retrans_cmp(struct le *le, void *arg)
{
	const struct sip_msg *msg = arg;
	const struct leg *l = le->data;

	return l->uas && l->inv && l->inv->cseq.num == msg->cseq.num &&
		!pl_strcmp(&msg->callid, l->callid) &&
		!pl_strcmp(&msg->from.tag, l->rtag);
}

static struct leg *leg_find(const struct sip_msg *msg)
{
	return list_ledata(hash_lookup(b2b.legs, hash_joaat_pl(&msg->callid),
				       leg_cmp, (void *)msg));
}

/* Route set from the Record-Route headers of <msg>, as "Route:" lines. */
struct rr_walk {
	struct mbuf *mb;
	bool         reverse;
	int          err;
	char        *first;
};

static bool rr_handler(const struct sip_hdr *hdr, const struct sip_msg *msg,
		       void *arg)
{
	struct rr_walk *w = arg;
	struct sip_addr addr;

	(void)msg;

	if (sip_addr_decode(&addr, &hdr->val)) {
		w->err = EBADMSG;
		return true;
	}
	w->err |= mbuf_printf(w->mb, "Route: %r\r\n", &hdr->val);
	if (!w->first || w->reverse) {
		w->first = mem_deref(w->first);
		w->err |= pl_strdup(&w->first, &addr.auri);
	}
	return false;
}

static int leg_routes(struct leg *l, const struct sip_msg *msg, bool uac)
{
	struct rr_walk w;
	int err = 0;

	if (!sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE))
		return 0;

	memset(&w, 0, sizeof(w));
	w.mb = mbuf_alloc(256);
	if (!w.mb)
		return ENOMEM;
	w.reverse = uac;
	/* a UAC's route set is the Record-Route list reversed */
	(void)sip_msg_hdr_apply(msg, !uac, SIP_HDR_RECORD_ROUTE, rr_handler,
				&w);
	err = w.err;
	if (!err && w.first) {
		w.mb->pos = 0;
		l->routes = mem_deref(l->routes);
		err = mbuf_strdup(w.mb, &l->routes, w.mb->end);
		if (!err) {
			mem_deref(l->dest);
			l->dest = mem_ref(w.first);
		}
	}
	mem_deref(w.first);
	mem_deref(w.mb);
	return err;
}

/* The remote target: the Contact URI of <msg>. */
static int leg_target(struct leg *l, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr addr;

	if (!hdr || sip_addr_decode(&addr, &hdr->val))
		return EBADMSG;
	l->rtarget = mem_deref(l->rtarget);
	return pl_strdup(&l->rtarget, &addr.auri);
}

/*
 * An in-dialog request on leg <l> (BYE, re-INVITE, INFO), with our
 * headers only. <reqp>/<resph> may be NULL (fire and forget).
 */
static int leg_request(struct sip_request **reqp, struct leg *l,
		       const char *met, const char *ctype,
		       const char *body, size_t blen, sip_resp_h *resph,
		       void *arg)
{
	struct uri route;
	int err;

	if (!l->rtarget || !l->dest)
		return EINVAL;
	err = uri_from_str(&route, l->dest);
	if (err)
		return err;

	++l->lseq;
	return sip_requestf(reqp, sip(), true, met, l->rtarget, &route, NULL,
			    contact_handler, resph, arg,
			    "From: %s;tag=%s\r\n"
			    "To: %s%s%s\r\n"
			    "Call-ID: %s\r\n"
			    "CSeq: %u %s\r\n"
			    "%s"
			    "Allow: " ALLOW "\r\n"
			    "%s%s%s"
			    "Content-Length: %zu\r\n"
			    "\r\n"
			    "%b",
			    l->lhdr, l->ltag,
			    l->rhdr, l->rtag ? ";tag=" : "",
			    l->rtag ? l->rtag : "",
			    l->callid, l->lseq, met,
			    l->routes ? l->routes : "",
			    ctype ? "Content-Type: " : "", ctype ? ctype : "",
			    ctype ? "\r\n" : "", body ? blen : 0,
			    body ? body : "", body ? blen : 0);
}

static void bye_resp(int err, const struct sip_msg *msg, void *arg)
{
	(void)err;
	(void)msg;
	(void)arg;

	if (b2b.byes)
		--b2b.byes;
}

static void leg_bye(struct leg *l)
{
	int err;

	if (!l || l->bye_sent || !l->confirmed)
		return;
	l->bye_sent = true;
	err = leg_request(NULL, l, "BYE", NULL, NULL, 0, bye_resp, NULL);
	if (err)
		log_warn("b2b", "call %llu: BYE toward %s failed: %s",
			 (unsigned long long)l->call->id, l->dest,
			 strerror(err));
	else
		++b2b.byes;
}

/* The transport a "sip:host:port;transport=x" URI names. */
static enum sip_transp uri_transp(const struct uri *u)
{
	struct pl v;

	if (msg_param_decode(&u->params, "transport", &v))
		return SIP_TRANSP_UDP;
	if (!pl_strcasecmp(&v, "tcp"))
		return SIP_TRANSP_TCP;
	if (!pl_strcasecmp(&v, "tls"))
		return SIP_TRANSP_TLS;
	if (!pl_strcasecmp(&v, "ws"))
		return SIP_TRANSP_WS;
	if (!pl_strcasecmp(&v, "wss"))
		return SIP_TRANSP_WSS;
	return SIP_TRANSP_UDP;
}

/*
 * ACK for the 2xx of our INVITE. A retransmitted 2xx gets the very same
 * ACK again (RFC 3261 13.2.2.4), so it is built here, kept, and sent
 * with sip_send(). A next hop given by name (DNS) goes through libre's
 * request path instead, which resolves it (and makes a new ACK).
 */
static int leg_ack(struct leg *l, uint32_t cseq)
{
	struct sa dst, laddr;
	enum sip_transp tp;
	struct uri route;
	struct mbuf *mb;
	int err;

	if (l->ack && l->ack_cseq == cseq)
		return sip_send(sip(), NULL, l->ack_tp, &l->ack_dst, l->ack);

	err = uri_from_str(&route, l->dest);
	if (err)
		return err;
	tp = uri_transp(&route);
	if (sa_set(&dst, &route.host, route.port ? route.port :
		   (tp == SIP_TRANSP_TLS ? 5061 : 5060)))
		return sip_requestf(NULL, sip(), false, "ACK", l->rtarget,
				    &route, NULL, NULL, NULL, NULL,
				    "From: %s;tag=%s\r\n"
				    "To: %s;tag=%s\r\n"
				    "Call-ID: %s\r\n"
				    "CSeq: %u ACK\r\n"
				    "%s"
				    "Content-Length: 0\r\n"
				    "\r\n",
				    l->lhdr, l->ltag, l->rhdr,
				    l->rtag ? l->rtag : "", l->callid, cseq,
				    l->routes ? l->routes : "");

	err = sip_transp_laddr(sip(), &laddr, tp, &dst);
	if (err)
		return err;
	mb = mbuf_alloc(512);
	if (!mb)
		return ENOMEM;
	err = mbuf_printf(mb,
			  "ACK %s SIP/2.0\r\n"
			  "Via: SIP/2.0/%s %J;branch=z9hG4bK%016llx;rport\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: %s;tag=%s\r\n"
			  "To: %s;tag=%s\r\n"
			  "Call-ID: %s\r\n"
			  "CSeq: %u ACK\r\n"
			  "%s"
			  "Content-Length: 0\r\n"
			  "\r\n",
			  l->rtarget, sip_transp_name(tp), &laddr,
			  (unsigned long long)rand_u64(), l->lhdr, l->ltag,
			  l->rhdr, l->rtag ? l->rtag : "", l->callid, cseq,
			  l->routes ? l->routes : "");
	if (!err) {
		mb->pos = 0;
		err = sip_send(sip(), NULL, tp, &dst, mb);
	}
	if (err) {
		mem_deref(mb);
		return err;
	}
	mem_deref(l->ack);
	l->ack = mb;
	l->ack_cseq = cseq;
	l->ack_dst = dst;
	l->ack_tp = tp;
	return 0;
}

/* ---- the A leg's replies ------------------------------------------------ */

/* The caller's Record-Route headers, echoed in a 2xx (RFC 3261 12.1.1). */
static bool rr_echo(const struct sip_hdr *hdr, const struct sip_msg *msg,
		    void *arg)
{
	(void)msg;

	return re_hprintf(arg, "Record-Route: %r\r\n", &hdr->val) != 0;
}

static int rr_print(struct re_printf *pf, const struct sip_msg *msg)
{
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_RECORD_ROUTE, rr_echo, pf);
	return 0;
}

/*
 * The 2xx to the caller, stateless (sent again from the tick until the
 * ACK). libre would keep an INVITE server transaction in its Accepted
 * state for 32 s after a 2xx, one more entry in its sorted timer list
 * per call; we absorb the retransmitted INVITEs ourselves instead.
 */
static int a_send_2xx(struct leg *a)
{
	size_t blen = a->sdp2xx ? strlen(a->sdp2xx) : 0;

	return sip_replyf(sip(), a->inv, 200, "OK",
			  "%H"
			  "Contact: %H\r\n"
			  "Allow: " ALLOW "\r\n"
			  "%s"
			  "%s"
			  "Content-Length: %zu\r\n"
			  "\r\n"
			  "%b",
			  rr_print, a->inv, msg_contact, a->inv,
			  a->xhdrs2xx ? a->xhdrs2xx : "",
			  a->sdp2xx ? "Content-Type: application/sdp\r\n" : "",
			  blen, a->sdp2xx ? a->sdp2xx : "", blen);
}

static int a_reply(struct call *c, uint16_t scode, const char *reason,
		   const char *sdp, const char *xhdrs)
{
	struct leg *a = c->a;
	size_t blen = sdp ? strlen(sdp) : 0;
	int err;

	if (!a || a->final_sent)
		return EALREADY;

	if (scode >= 200 && scode < 300) {
		err = str_dup(&a->sdp2xx, sdp ? sdp : "");
		if (!err && xhdrs)
			err = str_dup(&a->xhdrs2xx, xhdrs);
		if (!err)
			err = a_send_2xx(a);
		if (!err) {
			/* the provisional transaction ends here */
			a->st = mem_deref(a->st);
			a->is2xx = true;
		}
	}
	else {
		err = sip_treplyf(&a->st, NULL, sip(), a->inv, true, scode,
				  reason,
				  "%s%H%s"
				  "Allow: " ALLOW "\r\n"
				  "%s"
				  "%s"
				  "Content-Length: %zu\r\n"
				  "\r\n"
				  "%b",
				  scode > 100 ? "Contact: " : "",
				  scode > 100 ? msg_contact : NULL, a->inv,
				  scode > 100 ? "\r\n" : "",
				  xhdrs ? xhdrs : "",
				  sdp ? "Content-Type: application/sdp\r\n" :
				  "", blen, sdp ? sdp : "", blen);
	}
	if (err) {
		log_warn("b2b", "call %llu: %u toward the caller failed: %s",
			 (unsigned long long)c->id, scode, strerror(err));
		return err;
	}
	stats_sip_response(scode);
	if (scode >= 200)
		a->final_sent = true;
	return 0;
}

/*
 * The 2xx goes out again (T1 doubling to T2, UDP only) until the ACK
 * comes; without one in 64*T1 the call is hung up. Run from the tick.
 */
static void a_2xx_due(struct leg *a, uint64_t now)
{
	struct call *c = a->call;

	if (now - a->t2xx >= ACK_WAIT_MS) {
		log_info("b2b", "call %llu: no ACK for the 2xx in %u s: "
			 "hanging up", (unsigned long long)c->id,
			 ACK_WAIT_MS / 1000);
		a->due2xx = 0;
		a->confirmed = true;
		call_hangup(c, "sbc");
		return;
	}
	if (a->inv->tp == SIP_TRANSP_UDP)
		(void)a_send_2xx(a);
	a->ival2xx = a->ival2xx * 2 > T2_MS ? T2_MS : a->ival2xx * 2;
	a->due2xx = now + a->ival2xx;
}

static void a_2xx_start(struct leg *a)
{
	a->t2xx = tmr_jiffies();
	a->confirmed = true;      /* the caller may send BYE from now on */
	/* over TCP/TLS/WS only the wait for the ACK counts */
	a->ival2xx = a->inv->tp == SIP_TRANSP_UDP ? T1_MS : T2_MS;
	a->due2xx = a->t2xx + a->ival2xx;
}

/* ---- NG (mediad) -------------------------------------------------------- */

static const char *leg_ngtag(const struct leg *l)
{
	return l && l->rtag ? l->rtag : "";
}

/*
 * The flags that give the side receiving mediad's SDP the profile
 * <prof>: on an offer that side is the answerer, on an answer the
 * offerer (mediad gives the offerer its own transport back; only ICE is
 * said again, since an answer without ICE toward a browser is dead).
 */
static void ng_profile(struct benc *b, enum mprof prof, bool offer)
{
	const char *proto = NULL;

	if (prof == MP_WEBRTC) {
		if (offer) {
			benc_kstr(b, "transport-protocol",
				  "UDP/TLS/RTP/SAVPF");
			benc_klist(b, "rtcp-mux");
			benc_str(b, "offer");
			benc_str(b, "require");
			benc_end(b);
			benc_klist(b, "flags");
			benc_str(b, "generate-mid");
			benc_end(b);
		}
		benc_kstr(b, "ICE", "force");
		return;
	}
	benc_kstr(b, "ICE", "remove");
	if (!offer)
		return;
	if (prof == MP_RTP)
		proto = "RTP/AVP";
	else if (prof == MP_SDES)
		proto = "RTP/SAVP";
	if (proto) {
		benc_kstr(b, "transport-protocol", proto);
		benc_klist(b, "rtcp-mux");
		benc_str(b, "demux");
		benc_end(b);
	}
}

/*
 * Encode an NG offer or answer for the SDP of <sdp> into a fresh buffer.
 * Offer: from-tag is the offerer's. Answer: from-tag is still the
 * offerer's, to-tag the answerer's. <prof> is the profile of the side
 * that gets the SDP of the reply. Without <sdp>: a delete.
 */
static int ng_encode(char **bufp, size_t *lenp, const char *cmd,
		     const char *ngid, const char *ftag, const char *ttag,
		     const struct pl *sdp, enum mprof prof)
{
	struct benc b;
	char *buf;
	int err;

	buf = mem_alloc(NG_BODY_MAX, NULL);
	if (!buf)
		return ENOMEM;

	benc_init(&b, buf, NG_BODY_MAX);
	benc_dict(&b);
	benc_kstr(&b, "command", cmd);
	benc_kstr(&b, "call-id", ngid);
	if (ftag)
		benc_kstr(&b, "from-tag", ftag);
	if (ttag && ttag[0])
		benc_kstr(&b, "to-tag", ttag);
	if (sdp) {
		benc_kstrn(&b, "sdp", sdp->p, sdp->l);
		benc_klist(&b, "replace");
		benc_str(&b, "origin");
		benc_str(&b, "session-connection");
		benc_end(&b);
		ng_profile(&b, prof, !strcmp(cmd, "offer"));
	}
	else {
		benc_kint(&b, "delete-delay", 0);
	}
	benc_end(&b);
	err = benc_finish(&b, lenp);
	if (err) {
		mem_deref(buf);
		return err;
	}
	*bufp = buf;
	return 0;
}

static int ng_send(struct call *c, struct media_req **reqp, const char *cmd,
		   const char *ftag, const char *ttag, const struct pl *sdp,
		   enum mprof prof, media_resp_h *h, void *arg)
{
	char *body = NULL;
	size_t len = 0;
	int err;

	err = ng_encode(&body, &len, cmd, c->ngid, ftag, ttag, sdp, prof);
	if (err)
		return err;
	err = media_request_ep(reqp, &c->ep, body, len, NG_TIMEOUT_MS, h,
			       arg);
	mem_deref(body);
	return err;
}

/* The profile an SDP offer or answer of a leg shows: its first m= line. */
static enum mprof sdp_prof(const struct pl *sdp)
{
	struct pl proto;

	if (re_regex(sdp->p, sdp->l, "m=[a-z]+ [0-9/]+ [^ \r\n]+", NULL,
		     NULL, &proto))
		return MP_RTP;
	if (proto.l >= 16 && !strncasecmp(proto.p, "UDP/TLS/RTP/SAVP", 16))
		return MP_WEBRTC;
	if (proto.l >= 8 && !strncasecmp(proto.p, "RTP/SAVP", 8))
		return MP_SDES;
	return MP_RTP;
}

/* The SDP of an NG reply, copied; NULL with a logged reason on error. */
static char *ng_sdp(struct call *c, const char *what, int err,
		    const struct media_reply *rep)
{
	const char *p;
	size_t l;
	char *sdp = NULL;

	if (err) {
		log_warn("b2b", "call %llu: mediad %s: %s",
			 (unsigned long long)c->id, what, strerror(err));
		return NULL;
	}
	if (rep->result != MEDIA_R_OK) {
		log_warn("b2b", "call %llu: mediad refused the %s: %.*s",
			 (unsigned long long)c->id, what,
			 (int)rep->reasonlen, rep->reason ? rep->reason : "");
		return NULL;
	}
	if (!bnode_get_str(rep->dict, "sdp", &p, &l) || !l) {
		log_warn("b2b", "call %llu: mediad's %s has no SDP",
			 (unsigned long long)c->id, what);
		return NULL;
	}
	sdp = mem_alloc(l + 1, NULL);
	if (!sdp)
		return NULL;
	memcpy(sdp, p, l);
	sdp[l] = '\0';
	return sdp;
}

static void ng_delete_resp(int err, const struct media_reply *rep, void *arg)
{
	(void)arg;

	if (err)
		log_debug("b2b", "mediad delete: %s", strerror(err));
	else if (rep->result != MEDIA_R_OK)
		log_debug("b2b", "mediad delete: %.*s", (int)rep->reasonlen,
			  rep->reason ? rep->reason : "");
}

/* ---- calls -------------------------------------------------------------- */

static void call_destructor(void *arg)
{
	struct call *c = arg;

	tmr_cancel(&c->tmr_noanswer);
	list_unlink(&c->le);
	mem_deref(c->ngreq);
	mem_deref(c->ngearly);
	mem_deref(c->reinv);
	list_flush(&c->forks);
	mem_deref(c->a);
	mem_deref(c->ep);
	mem_deref(c->ngid);
	mem_deref(c->sdp_b);
	mem_deref(c->from);
	mem_deref(c->to);
	mem_deref(c->trunk);
}

static const char *call_state_name(enum call_state s)
{
	switch (s) {
	case CS_ROUTING:    return "routing";
	case CS_CALLING:    return "ringing";
	case CS_ANSWERING:  return "answering";
	case CS_CONFIRMED:  return "answered";
	default:            return "ending";
	}
}

static void fork_release(struct leg *b)
{
	if (b->trunk && b->trunk_counted) {
		trunk_call_end(b->trunk);
		b->trunk_counted = false;
	}
}

/*
 * End call <c>: the caller gets <scode> if it has no final answer yet,
 * pending B legs are cancelled, mediad forgets the call, a CDR is
 * queued. BYEs are the caller's business (call_hangup()).
 */
static void call_end(struct call *c, uint16_t scode, const char *reason,
		     const char *side)
{
	struct cdr cdr;
	struct le *le;
	uint16_t result;

	if (c->state == CS_ENDED)
		return;

	tmr_cancel(&c->tmr_noanswer);
	c->ngreq = mem_deref(c->ngreq);
	c->ngearly = mem_deref(c->ngearly);
	c->reinv = mem_deref(c->reinv);

	for (le = c->forks.head; le; le = le->next) {
		struct leg *b = le->data;

		b->due_attempt = 0;
		if (b->req && b != c->b)
			sip_request_cancel(b->req);
		fork_release(b);
	}

	if (c->a && !c->a->final_sent)
		(void)a_reply(c, scode, reason, NULL, NULL);
	else if (c->a && c->a->confirmed)
		leg_bye(c->a);
	if (c->b && c->b->confirmed)
		leg_bye(c->b);
	if (c->a) {
		c->a->due2xx = 0;
		fork_release(c->a);
	}

	if (c->offered) {
		char *body = NULL;
		size_t len = 0;

		if (!ng_encode(&body, &len, "delete", c->ngid, NULL, NULL,
			       NULL, MP_KEEP))
			(void)media_request_ep(NULL, &c->ep, body, len,
					       NG_TIMEOUT_MS, ng_delete_resp,
					       NULL);
		mem_deref(body);
	}

	result = c->answered_at ? 200 : scode;
	memset(&cdr, 0, sizeof(cdr));
	cdr.call_id = c->a ? c->a->callid : c->ngid;
	cdr.from = c->from ? c->from : "";
	cdr.to = c->to ? c->to : "";
	cdr.dir = c->dir == DIR_INBOUND ? CDR_INBOUND :
		c->dir == DIR_OUTBOUND ? CDR_OUTBOUND : CDR_INTERNAL;
	cdr.trunk = c->trunk;
	cdr.started_at = c->started_at;
	cdr.answered_at = c->answered_at;
	cdr.ended_at = unix_ms();
	cdr.result = result;
	cdr.hangup_side = side;
	if (cdr_write(&cdr))
		log_warn("b2b", "call %llu: CDR lost (out of memory)",
			 (unsigned long long)c->id);

	log_info("b2b", "call %llu ended: %u by %s (%s %s -> %s)",
		 (unsigned long long)c->id, result, side, dir_names[c->dir],
		 c->from ? c->from : "", c->to ? c->to : "");

	c->state = CS_ENDED;
	if (b2b.active[c->dir])
		--b2b.active[c->dir];
	list_unlink(&c->le);
	mem_deref(c);               /* the list's reference */
}

/* End the call from our side: BYE, CANCEL or a 503 as each leg needs. */
static void call_hangup(struct call *c, const char *side)
{
	call_end(c, 503, "Service Unavailable", side);
}

static void noanswer_tmr(void *arg)
{
	struct call *c = arg;

	mem_ref(c);
	log_info("b2b", "call %llu: no answer in %u s",
		 (unsigned long long)c->id, NOANSWER_MS / 1000);
	call_end(c, 480, "Temporarily Unavailable", "sbc");
	mem_deref(c);
}

/* Remember the most telling failure of the B legs (RFC 3261 16.7). */
static void best_note(struct call *c, uint16_t scode, const struct pl *reason)
{
	bool better;

	if (!c->best_scode)
		better = true;
	else if (scode >= 600)
		better = c->best_scode < 600;
	else if (c->best_scode >= 600)
		better = false;
	else if (scode / 100 != c->best_scode / 100)
		better = scode / 100 < c->best_scode / 100;
	else
		better = c->best_scode == 408 || c->best_scode == 480;

	if (!better)
		return;
	c->best_scode = scode;
	if (reason && pl_isset(reason))
		(void)pl_strcpy(reason, c->best_reason,
				sizeof(c->best_reason));
	else
		str_ncpy(c->best_reason, "Failed", sizeof(c->best_reason));
}

/* ---- B legs ------------------------------------------------------------- */

static void b_resp(int err, const struct sip_msg *msg, void *arg);

static int b_auth_handler(char **user, char **pass, const char *realm,
			  void *arg)
{
	struct leg *b = arg;
	struct route_trunk t;

	(void)realm;

	if (!b->trunk || route_trunk(&t, b->trunk) || !t.username[0])
		return EAUTH;
	if (str_dup(user, t.username) || str_dup(pass, t.password))
		return ENOMEM;
	return 0;
}

static int b_send_invite(struct leg *b)
{
	struct call *c = b->call;
	struct mbuf *mb;
	struct uri route;
	char *msg = NULL;
	size_t blen = c->sdp_b ? strlen(c->sdp_b) : 0;
	int err;

	err = uri_from_str(&route, b->dest);
	if (err)
		return err;

	/* everything after Via and Max-Forwards, the same either way */
	++b->lseq;
	err = re_sdprintf(&msg,
			  "From: %s;tag=%s\r\n"
			  "To: %s\r\n"
			  "Call-ID: %s\r\n"
			  "CSeq: %u INVITE\r\n"
			  "Allow: " ALLOW "\r\n"
			  "%s"
			  "Content-Type: application/sdp\r\n"
			  "Content-Length: %zu\r\n"
			  "\r\n"
			  "%b",
			  b->lhdr, b->ltag, b->rhdr, b->callid, b->lseq,
			  b->xhdrs ? b->xhdrs : "", blen, c->sdp_b, blen);
	if (err)
		return err;

	if (b->auth) {
		/*
		 * Toward a trunk with credentials: libre's sip_requestf()
		 * answers challenges (and writes Max-Forwards: 70 itself).
		 */
		err = sip_requestf(&b->req, sip(), true, "INVITE", b->ruri,
				   &route, b->auth, contact_handler, b_resp, b,
				   "%s", msg);
		mem_deref(msg);
		return err;
	}

	/* else the caller's Max-Forwards, less one, stops loops */
	mb = mbuf_alloc(64 + strlen(msg));
	if (!mb) {
		mem_deref(msg);
		return ENOMEM;
	}
	err = mbuf_printf(mb, "Max-Forwards: %u\r\n%s", c->maxfwd, msg);
	if (!err) {
		mb->pos = 0;
		err = sip_request(&b->req, sip(), true, "INVITE", -1, b->ruri,
				  -1, &route, mb, (size_t)rand_u32(),
				  contact_handler, b_resp, b);
	}
	mem_deref(mb);
	mem_deref(msg);
	return err;
}

static void attempt_due(struct leg *b)
{
	struct call *c = b->call;

	/* nothing at all came back: give the target up (as a 408) */
	b->due_attempt = 0;
	mem_ref(c);
	mem_ref(b);
	log_info("b2b", "call %llu: no response from %s in %u s",
		 (unsigned long long)b->call->id, b->dest, ATTEMPT_MS / 1000);
	b->req = mem_deref(b->req);     /* cancels it, no handler */
	b_resp(ETIMEDOUT, NULL, b);
	mem_deref(b);
	mem_deref(c);
}

/*
 * Start a B leg toward <ruri> via <dest>. <to> is the To header value;
 * the From is the call's caller identity. 0 or an errno (nothing left
 * behind).
 */
static int b_start(struct call *c, const char *ruri, const char *dest,
		   const char *to, const char *trunk, bool trunk_auth)
{
	struct leg *b;
	int err;

	b = leg_alloc(c, false);
	if (!b)
		return ENOMEM;

	err  = re_sdprintf(&b->callid, "%016llx%08x@sbc", rand_u64(),
			   rand_u32());
	err |= re_sdprintf(&b->ltag, "%016llx", rand_u64());
	err |= re_sdprintf(&b->lhdr, "\"%s\" <sip:%s@%s>",
			   c->from_dname[0] ? c->from_dname : c->from_user,
			   c->from_user, c->from_domain);
	err |= str_dup(&b->rhdr, to);
	err |= str_dup(&b->ruri, ruri);
	err |= str_dup(&b->rtarget, ruri);
	err |= str_dup(&b->dest, dest);
	/* X- headers go toward the inside only, never to a trunk */
	if (c->xhdrs[0] && c->kind != TGT_TRUNK)
		err |= str_dup(&b->xhdrs, c->xhdrs);
	if (trunk)
		err |= str_dup(&b->trunk, trunk);
	if (err)
		goto out;
	if (trunk_auth) {
		err = sip_auth_alloc(&b->auth, b_auth_handler, b, false);
		if (err)
			goto out;
	}
	b->trunk_counted = trunk != NULL;
	b->prof = c->bprof;

	hash_append(b2b.legs, hash_joaat_str(b->callid), &b->he, b);
	list_append(&c->forks, &b->le, b);

	err = b_send_invite(b);
	if (err) {
		log_warn("b2b", "call %llu: INVITE toward %s failed: %s",
			 (unsigned long long)c->id, dest, strerror(err));
		b->trunk_counted = false;
		goto out;
	}
	b->due_attempt = tmr_jiffies() + ATTEMPT_MS;
	log_debug("b2b", "call %llu: INVITE %s via %s",
		  (unsigned long long)c->id, ruri, dest);
	return 0;
 out:
	mem_deref(b);
	return err ? err : ENOMEM;
}

static enum mprof trunk_prof(const struct route_trunk *t)
{
	return t->srtp ? MP_SDES : MP_RTP;
}

static int trunk_next(struct call *c);
static char *ng_sdp(struct call *c, const char *what, int err,
		    const struct media_reply *rep);

static void reoffer_resp(int err, const struct media_reply *rep, void *arg)
{
	struct call *c = arg;
	char *sdp;

	mem_ref(c);
	if (c->state != CS_CALLING)
		goto out;
	sdp = ng_sdp(c, "offer (other profile)", err, rep);
	if (!sdp) {
		++b2b.media_failed;
		if (!c->forks.head)
			call_end(c, 503, "Service Unavailable", "sbc");
		goto out;
	}
	mem_deref(c->sdp_b);
	c->sdp_b = sdp;
	if (trunk_next(c) && !c->forks.head)
		call_end(c, c->best_scode ? c->best_scode : 503,
			 c->best_scode ? c->best_reason :
			 "Service Unavailable", "sbc");
 out:
	mem_deref(c);
}

/*
 * The next trunk wants another media profile than mediad's offer has:
 * offer the caller's SDP again for it; trunk_next() goes on from the
 * reply. 0 while that is under way, else an errno.
 */
static int reoffer(struct call *c, enum mprof prof)
{
	struct pl sdp;
	int err;

	if (c->ngreq || !msg_sdp(c->a->inv, &sdp))
		return EBUSY;
	log_debug("b2b", "call %llu: new offer for the next trunk's media",
		  (unsigned long long)c->id);
	c->bprof = prof;
	err = ng_send(c, &c->ngreq, "offer", leg_ngtag(c->a), NULL, &sdp,
		      prof, reoffer_resp, c);
	return err;
}

/* Outbound: the next trunk of the route that admits the call. */
static int trunk_next(struct call *c)
{
	while (c->next_trunk < c->route.ntrunks) {
		const char *name = c->route.trunks[c->next_trunk++];
		struct route_trunk t;
		char ruri[512], dest[512], to[384];
		int err;

		if (route_trunk(&t, name) || !t.enabled)
			continue;
		if (c->offered && trunk_prof(&t) != c->bprof) {
			/* mediad's offer was for another media profile */
			--c->next_trunk;
			return reoffer(c, trunk_prof(&t));
		}
		if (!trunk_call_begin(name)) {
			++b2b.blocked_limit;
			log_info("b2b", "call %llu: trunk %s is at its limit",
				 (unsigned long long)c->id, name);
			continue;
		}

		re_snprintf(ruri, sizeof(ruri), "sip:%s@%s:%u%s",
			    c->route.number, t.host, t.port,
			    sip_transp_param(t.tp));
		re_snprintf(dest, sizeof(dest), "sip:%s:%u%s",
			    t.host, t.port, sip_transp_param(t.tp));
		re_snprintf(to, sizeof(to), "<sip:%s@%s>", c->route.number,
			    t.host);
		str_ncpy(c->from_domain, t.host, sizeof(c->from_domain));

		err = b_start(c, ruri, dest, to, name, t.username[0] != 0);
		if (err) {
			trunk_call_end(name);
			continue;
		}
		c->trunk = mem_deref(c->trunk);
		(void)str_dup(&c->trunk, name);
		return 0;
	}
	return ENOENT;
}

/* A B leg failed with <scode>; try what is left, or give up. */
static void b_failed(struct leg *b, uint16_t scode, const struct pl *reason)
{
	struct call *c = b->call;

	b->due_attempt = 0;
	fork_release(b);
	best_note(c, scode, reason);
	/* out of the forks now (a handler may still hold a reference) */
	list_unlink(&b->le);
	hash_unlink(&b->he);
	mem_deref(b);

	if (c->state != CS_CALLING)
		return;

	if (scode >= 600) {
		/* a global failure ends the search (RFC 3261 16.7) */
		call_end(c, c->best_scode, c->best_reason, "callee");
		return;
	}

	if (c->kind == TGT_TRUNK && (scode == 408 || scode / 100 == 5) &&
	    !c->forks.head) {
		if (!trunk_next(c))
			return;
	}

	if (!c->forks.head)
		call_end(c, c->best_scode ? c->best_scode : 480,
			 c->best_scode ? c->best_reason :
			 "Temporarily Unavailable", "callee");
}

static void early_answer_resp(int err, const struct media_reply *rep,
			      void *arg);

struct early {
	struct call *call;
	uint16_t     scode;
	char         reason[64];
};

static void b_provisional(struct leg *b, const struct sip_msg *msg)
{
	struct call *c = b->call;
	struct pl sdp;
	char reason[64];

	if (c->state != CS_CALLING)
		return;
	if (pl_isset(&msg->to.tag) && !b->rtag)
		(void)pl_strdup(&b->rtag, &msg->to.tag);
	pl_strcpy(&msg->reason, reason, sizeof(reason));

	if (msg->scode == 100)
		return;

	if (msg_sdp(msg, &sdp) && b->rtag) {
		int err;

		c->ngearly = mem_deref(c->ngearly);
		err = ng_send(c, &c->ngearly, "answer", leg_ngtag(c->a),
			      b->rtag, &sdp, c->a->prof, early_answer_resp,
			      c);
		if (!err) {
			/* the 18x goes out with mediad's SDP when it comes */
			return;
		}
		log_warn("b2b", "call %llu: early media not anchored: %s",
			 (unsigned long long)c->id, strerror(err));
	}
	(void)a_reply(c, msg->scode, reason, NULL,
		      c->dir == DIR_OUTBOUND ? c->xhdrs : NULL);
}

static void early_answer_resp(int err, const struct media_reply *rep,
			      void *arg)
{
	struct call *c = arg;
	char *sdp;

	mem_ref(c);
	sdp = ng_sdp(c, "answer (early media)", err, rep);
	if (sdp && c->state == CS_CALLING)
		(void)a_reply(c, 183, "Session Progress", sdp,
			      c->dir == DIR_OUTBOUND ? c->xhdrs : NULL);
	else if (c->state == CS_CALLING)
		(void)a_reply(c, 180, "Ringing", NULL, NULL);
	mem_deref(sdp);
	mem_deref(c);
}

static void answer_resp(int err, const struct media_reply *rep, void *arg)
{
	struct call *c = arg;
	char *sdp;

	mem_ref(c);
	sdp = ng_sdp(c, "answer", err, rep);
	if (c->state != CS_ANSWERING)
		goto out;
	if (!sdp) {
		++b2b.media_failed;
		if (c->b)
			leg_bye(c->b);
		call_end(c, 503, "Service Unavailable", "sbc");
		goto out;
	}
	if (a_reply(c, 200, "OK", sdp,
		    c->dir == DIR_OUTBOUND ? c->xhdrs : NULL)) {
		if (c->b)
			leg_bye(c->b);
		call_end(c, 500, "Server Internal Error", "sbc");
		goto out;
	}
	c->state = CS_CONFIRMED;
	c->answered_at = unix_ms();
	a_2xx_start(c->a);
	log_info("b2b", "call %llu answered", (unsigned long long)c->id);
 out:
	mem_deref(sdp);
	mem_deref(c);
}

/* A 2xx from B leg <b>. */
static void b_answered(struct leg *b, const struct sip_msg *msg)
{
	struct call *c = b->call;
	struct le *le;
	struct pl sdp;
	int err;

	b->due_attempt = 0;

	if (!b->rtag && pl_isset(&msg->to.tag))
		(void)pl_strdup(&b->rtag, &msg->to.tag);
	(void)leg_target(b, msg);
	(void)leg_routes(b, msg, true);
	b->confirmed = true;
	(void)leg_ack(b, msg->cseq.num);

	if (c->state != CS_CALLING || c->b) {
		/* another fork won, or the call is over: this one goes */
		leg_bye(b);
		fork_release(b);
		return;
	}

	c->b = b;
	c->state = CS_ANSWERING;
	tmr_cancel(&c->tmr_noanswer);
	for (le = c->forks.head; le; le = le->next) {
		struct leg *o = le->data;

		if (o == b)
			continue;
		o->due_attempt = 0;
		if (o->req)
			sip_request_cancel(o->req);
	}

	if (!msg_sdp(msg, &sdp)) {
		log_warn("b2b", "call %llu: the callee's 2xx has no SDP",
			 (unsigned long long)c->id);
		leg_bye(b);
		call_end(c, 502, "Bad Gateway", "callee");
		return;
	}
	c->ngearly = mem_deref(c->ngearly);
	err = ng_send(c, &c->ngreq, "answer", leg_ngtag(c->a), b->rtag, &sdp,
		      c->a->prof, answer_resp, c);
	if (err) {
		++b2b.media_failed;
		leg_bye(b);
		call_end(c, 503, "Service Unavailable", "sbc");
	}
}

static void b_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct leg *b = arg;
	struct call *c = b->call;

	mem_ref(c);
	mem_ref(b);

	if (msg)
		b->responded = true;
	if (msg && msg->scode < 200) {
		b->due_attempt = 0;
		b_provisional(b, msg);
		goto out;
	}
	if (msg && msg->scode < 300) {
		b_answered(b, msg);
		goto out;
	}

	if (msg && (msg->scode == 401 || msg->scode == 407) && b->auth &&
	    b->auth_tries < AUTH_TRIES && c->state == CS_CALLING) {
		++b->auth_tries;
		if (!sip_auth_authenticate(b->auth, msg) &&
		    !b_send_invite(b))
			goto out;
	}

	if (msg) {
		log_debug("b2b", "call %llu: %u from %s",
			  (unsigned long long)c->id, msg->scode, b->dest);
		b_failed(b, msg->scode, &msg->reason);
	}
	else {
		struct pl r;

		pl_set_str(&r, err == ETIMEDOUT ? "Request Timeout" :
			   "Service Unavailable");
		b_failed(b, err == ETIMEDOUT ? 408 : 503, &r);
	}
 out:
	mem_deref(b);
	mem_deref(c);
}

/* ---- forking to the targets --------------------------------------------- */

/*
 * Walk the registered contacts of a phone target ("user@domain").
 * ENOENT when the target is not of that form.
 */
static int target_lookup(const struct call *c, registrar_contact_h *h,
			 void *arg)
{
	char u[128], d[AUTH_DOMAIN_MAX];
	struct pl user, domain;
	const char *at = strchr(c->target, '@');

	if (!at)
		return ENOENT;
	user.p = c->target;
	user.l = (size_t)(at - c->target);
	pl_set_str(&domain, at + 1);
	pl_strcpy(&user, u, sizeof(u));
	pl_strcpy(&domain, d, sizeof(d));
	(void)registrar_lookup(u, d, h, arg);
	return 0;
}

struct fork_ctx {
	struct call *call;
	unsigned     n;
	int          err;
};

static bool fork_contact(const struct registrar_contact *rc, void *arg)
{
	struct fork_ctx *f = arg;
	struct call *c = f->call;
	char *dest = NULL;
	int err;

	if (f->n >= FORKS_MAX)
		return true;
	/*
	 * mediad gives the B side one profile: a phone with browsers and
	 * desk phones registered at once is reached on its desk phones.
	 */
	if ((c->bprof == MP_WEBRTC) !=
	    (rc->tp == SIP_TRANSP_WS || rc->tp == SIP_TRANSP_WSS)) {
		log_debug("b2b", "call %llu: contact %s skipped: other media",
			  (unsigned long long)c->id, rc->uri);
		return false;
	}
	err = dest_from_sa(&dest, &rc->src, rc->tp);
	if (!err)
		err = b_start(c, rc->uri, dest, c->to_hdr, NULL, false);
	mem_deref(dest);
	if (err)
		f->err = err;
	else
		++f->n;
	return false;
}

/* The offer is back from mediad: send the INVITE(s). */
static void fork_start(struct call *c)
{
	if (c->kind == TGT_TRUNK) {
		if (trunk_next(c))
			call_end(c, 503, "Service Unavailable", "sbc");
		return;
	}
	if (c->kind == TGT_URI) {
		struct uri u;
		char dest[512];

		if (uri_from_str(&u, c->target)) {
			call_end(c, 404, "Not Found", "sbc");
			return;
		}
		re_snprintf(dest, sizeof(dest), "sip:%r:%u%r", &u.host,
			    u.port ? u.port : 5060, &u.params);
		if (b_start(c, c->target, dest, c->to_hdr, NULL, false))
			call_end(c, 503, "Service Unavailable", "sbc");
		return;
	}
	fork_next(c);
}

static void fork_next(struct call *c)
{
	struct fork_ctx f;

	memset(&f, 0, sizeof(f));
	f.call = c;

	if (target_lookup(c, fork_contact, &f) == ENOENT) {
		call_end(c, 404, "Not Found", "sbc");
		return;
	}
	if (!f.n)
		call_end(c, 480, "Temporarily Unavailable", "sbc");
}

static void offer_resp(int err, const struct media_reply *rep, void *arg)
{
	struct call *c = arg;

	mem_ref(c);
	if (c->state != CS_ROUTING)
		goto out;
	if (!err)
		c->offered = true;   /* even an error: delete to be sure */
	c->sdp_b = ng_sdp(c, "offer", err, rep);
	if (!c->sdp_b) {
		/*
		 * mediad refusing the caller's SDP (or its codecs) is the
		 * caller's 488; anything else is ours (503).
		 */
		bool refused = !err && rep->result == MEDIA_R_ERROR &&
			rep->reason &&
			(memmem(rep->reason, rep->reasonlen, "SDP", 3) ||
			 memmem(rep->reason, rep->reasonlen, "odec", 4));

		++b2b.media_failed;
		call_end(c, refused ? 488 : 503, refused ?
			 "Not Acceptable Here" : "Service Unavailable", "sbc");
		goto out;
	}
	c->state = CS_CALLING;
	tmr_start(&c->tmr_noanswer, NOANSWER_MS, noanswer_tmr, c);
	fork_start(c);
 out:
	mem_deref(c);
}

/* ---- a new INVITE ------------------------------------------------------- */

static void a_cancel_handler(void *arg)
{
	struct leg *a = arg;
	struct call *c = a->call;

	mem_ref(c);
	log_info("b2b", "call %llu: cancelled by the caller",
		 (unsigned long long)c->id);
	call_end(c, 487, "Request Terminated", "caller");
	mem_deref(c);
}

static int call_alloc(struct call **cp, const struct sip_msg *msg,
		      enum dir dir)
{
	struct call *c;
	struct leg *a;
	int err;

	c = mem_zalloc(sizeof(*c), call_destructor);
	if (!c)
		return ENOMEM;
	c->id = ++b2b.next_id;
	c->dir = dir;
	c->started_at = unix_ms();
	tmr_init(&c->tmr_noanswer);
	list_init(&c->forks);

	a = leg_alloc(c, true);
	if (!a) {
		mem_deref(c);
		return ENOMEM;
	}
	c->a = a;
	a->inv = mem_ref((void *)msg);
	a->rseq = msg->cseq.num;
	a->lseq = 100;
	err  = pl_strdup(&a->callid, &msg->callid);
	err |= re_sdprintf(&a->ltag, "%016llx", (unsigned long long)msg->tag);
	err |= pl_strdup(&a->rtag, &msg->from.tag);
	err |= pl_strdup(&a->lhdr, &msg->to.val);
	err |= re_sdprintf(&a->rhdr, "%r", &msg->from.val);
	err |= re_sdprintf(&c->ngid, "sbc-%llu-%016llx",
			   (unsigned long long)c->id, rand_u64());
	err |= re_sdprintf(&c->from, "%r", &msg->from.auri);
	err |= re_sdprintf(&c->to, "%r", &msg->ruri);
	if (!err)
		err = leg_target(a, msg);
	if (!err)
		err = dest_from_sa(&a->dest, &msg->src, msg->tp);
	if (!err)
		err = leg_routes(a, msg, false);
	if (err) {
		mem_deref(c);
		return err;
	}

	/*
	 * The To and From we print in our own requests on this leg: our
	 * side is the INVITE's To (plus our tag), theirs its From (which
	 * carries their tag already, so rhdr is used without it).
	 */
	{
		char *p = strstr(a->rhdr, ";tag=");

		if (p) {
			/* drop the tag parameter; leg_request adds it */
			char *e = p + 5;

			while (*e && *e != ';')
				++e;
			memmove(p, e, strlen(e) + 1);
		}
	}

	hash_append(b2b.legs, hash_joaat_pl(&msg->callid), &a->he, a);
	list_append(&b2b.calls, &c->le, c);
	++b2b.active[dir];
	*cp = c;
	return 0;
}

struct prof_ctx {
	unsigned web;     /* contacts over WS/WSS: browsers */
	unsigned other;
};

static bool prof_contact(const struct registrar_contact *rc, void *arg)
{
	struct prof_ctx *p = arg;

	if (rc->tp == SIP_TRANSP_WS || rc->tp == SIP_TRANSP_WSS)
		++p->web;
	else
		++p->other;
	return false;
}

/*
 * The media profile of the B side, before mediad is asked: a trunk's
 * configured one (the first trunk that may take the call), WebRTC for a
 * phone whose contacts are all browsers (WS/WSS), plain RTP for anyone
 * else when the caller is a browser, and otherwise the caller's own.
 */
static enum mprof target_prof(struct call *c)
{
	struct prof_ctx p;
	unsigned i;

	switch (c->kind) {

	case TGT_TRUNK:
		for (i = c->next_trunk; i < c->route.ntrunks; ++i) {
			struct route_trunk t;

			if (!route_trunk(&t, c->route.trunks[i]) &&
			    t.enabled)
				return trunk_prof(&t);
		}
		return MP_RTP;

	case TGT_PHONE:
		memset(&p, 0, sizeof(p));
		(void)target_lookup(c, prof_contact, &p);
		if (p.web && !p.other)
			return MP_WEBRTC;
		break;

	default:
		break;
	}
	return c->a->prof == MP_WEBRTC ? MP_RTP : MP_KEEP;
}

/* Send mediad the caller's offer; the INVITE(s) go when it answers. */
static void call_route(struct call *c, const struct sip_msg *msg)
{
	struct pl sdp;
	int err;

	if (!msg_sdp(msg, &sdp)) {
		/* no offer in the INVITE: we need one to anchor media */
		call_end(c, 488, "Not Acceptable Here", "sbc");
		return;
	}
	c->a->prof = sdp_prof(&sdp);
	c->bprof = target_prof(c);
	err = ng_send(c, &c->ngreq, "offer", leg_ngtag(c->a), NULL, &sdp,
		      c->bprof, offer_resp, c);
	if (err) {
		log_warn("b2b", "call %llu: no media: %s",
			 (unsigned long long)c->id,
			 err == ENOTCONN ? "mediad is down" : strerror(err));
		++b2b.media_failed;
		call_end(c, 503, "Service Unavailable", "sbc");
	}
}

static void invite_new(const struct sip_msg *msg)
{
	struct route_trunk trunk;
	struct auth_user u;
	struct call *c = NULL;
	char reason[128];
	bool from_trunk;
	unsigned maxfwd = MAXFWD_DEFAULT;
	int err;

	if (pl_isset(&msg->maxfwd)) {
		maxfwd = pl_u32(&msg->maxfwd);
		if (maxfwd == 0) {
			(void)sipsrv_replyf(msg, 483, "Too Many Hops", NULL);
			return;
		}
		--maxfwd;
		if (maxfwd > MAXFWD_DEFAULT)
			maxfwd = MAXFWD_DEFAULT;
	}
	if (sip_msg_hdr_has_value(msg, SIP_HDR_REQUIRE, "100rel") ||
	    sip_msg_hdr_has_value(msg, SIP_HDR_REQUIRE, "timer")) {
		(void)sipsrv_replyf(msg, 420, "Bad Extension",
				    "Unsupported: 100rel, timer\r\n");
		return;
	}

	from_trunk = !route_trunk_by_source(&trunk, &msg->src);
	memset(&u, 0, sizeof(u));
	if (!from_trunk && auth_request(msg, &u))
		return;              /* challenged or refused */

	if (from_trunk ?
	    route_blocked(&msg->from.uri.user, &msg->src, reason,
			  sizeof(reason)) :
	    route_blocked(&msg->uri.user, &msg->src, reason,
			  sizeof(reason))) {
		++b2b.blocked_list;
		log_info("b2b", "blocked %.*s -> %.*s: %s",
			 (int)msg->from.auri.l, msg->from.auri.p,
			 (int)msg->ruri.l, msg->ruri.p, reason);
		(void)sipsrv_replyf(msg, 403, "Forbidden", NULL);
		return;
	}

	if (from_trunk) {
		struct route_did did;

		/*
		 * The DID is the Request-URI user; a carrier that we
		 * register with sends to our Contact user instead and puts
		 * the DID in To.
		 */
		err = route_did(&did, &msg->uri.user);
		if (err)
			err = route_did(&did, &msg->to.uri.user);
		if (err || (did.trunk[0] && strcmp(did.trunk, trunk.name))) {
			(void)sipsrv_replyf(msg, 404, "Not Found", NULL);
			return;
		}
		if (!trunk_call_begin(trunk.name)) {
			++b2b.blocked_limit;
			(void)sipsrv_replyf(msg, 503, "Service Unavailable",
					    NULL);
			return;
		}
		err = call_alloc(&c, msg, DIR_INBOUND);
		if (err) {
			trunk_call_end(trunk.name);
			(void)sipsrv_replyf(msg, err == EBADMSG ? 400 : 500,
					    err == EBADMSG ? "Bad Request" :
					    "Server Internal Error", NULL);
			return;
		}
		(void)str_dup(&c->trunk, trunk.name);
		c->a->trunk = mem_ref(c->trunk);
		c->a->trunk_counted = true;
		user_copy(c->from_user, sizeof(c->from_user),
			  &msg->from.uri.user);
		dname_copy(c->from_dname, sizeof(c->from_dname),
			   &msg->from.dname);
		re_snprintf(c->xhdrs, sizeof(c->xhdrs),
			    "X-Inbound-Trunk: %s\r\nX-Original-DID: %s\r\n",
			    trunk.name, did.number);
		if (!strncmp(did.target, "sip:", 4) ||
		    !strncmp(did.target, "sips:", 5)) {
			c->kind = TGT_URI;
			str_ncpy(c->target, did.target, sizeof(c->target));
			re_snprintf(c->to_hdr, sizeof(c->to_hdr), "<%s>",
				    did.target);
			str_ncpy(c->from_domain, "sbc.invalid",
				 sizeof(c->from_domain));
		}
		else {
			const char *at = strchr(did.target, '@');

			c->kind = TGT_PHONE;
			str_ncpy(c->target, did.target, sizeof(c->target));
			re_snprintf(c->to_hdr, sizeof(c->to_hdr), "<sip:%s>",
				    did.target);
			str_ncpy(c->from_domain, at ? at + 1 : "sbc.invalid",
				 sizeof(c->from_domain));
		}
	}
	else {
		struct route_subscriber sub;
		struct pl dom;
		bool internal;

		if (route_domain_served(&msg->uri.host))
			dom = msg->uri.host;
		else
			pl_set_str(&dom, u.domain);
		internal = !route_subscriber(&sub, &msg->uri.user, &dom) &&
			sub.enabled;

		err = call_alloc(&c, msg, internal ? DIR_INTERNAL :
				 DIR_OUTBOUND);
		if (err) {
			if (err == EBADMSG)
				(void)sipsrv_replyf(msg, 400, "Bad Request",
						    NULL);
			else
				(void)sipsrv_replyf(msg, 500,
						    "Server Internal Error",
						    NULL);
			return;
		}
		if (u.display_name[0])
			str_ncpy(c->from_dname, u.display_name,
				 sizeof(c->from_dname));
		else
			dname_copy(c->from_dname, sizeof(c->from_dname),
				   &msg->from.dname);
		if (internal) {
			c->kind = TGT_PHONE;
			str_ncpy(c->from_user, u.user, sizeof(c->from_user));
			str_ncpy(c->from_domain, u.domain,
				 sizeof(c->from_domain));
			re_snprintf(c->target, sizeof(c->target), "%r@%r",
				    &msg->uri.user, &dom);
			re_snprintf(c->to_hdr, sizeof(c->to_hdr),
				    "<sip:%r@%r>", &msg->uri.user, &dom);
			str_ncpy(c->xhdrs, "X-Internal-Call: yes\r\n",
				 sizeof(c->xhdrs));
		}
		else {
			if (!is_number(&msg->uri.user) ||
			    route_outbound(&c->route, &msg->uri.user)) {
				call_end(c, 404, "Not Found", "sbc");
				return;
			}
			c->kind = TGT_TRUNK;
			str_ncpy(c->from_user, u.caller_id[0] ? u.caller_id :
				 u.user, sizeof(c->from_user));
			re_snprintf(c->xhdrs, sizeof(c->xhdrs),
				    "X-Outbound-Call: yes\r\n");
		}
	}
	c->maxfwd = maxfwd;

	log_info("b2b", "call %llu: %s %s -> %s", (unsigned long long)c->id,
		 dir_names[c->dir], c->from, c->to);
	log_debug("b2b", "call %llu: A leg [%s] tags %s/%s",
		  (unsigned long long)c->id, c->a->callid, c->a->ltag,
		  c->a->rtag);

	/* 100 Trying at once: the caller stops retransmitting */
	err = sip_strans_alloc(&c->a->st, sip(), msg, a_cancel_handler, c->a);
	if (err) {
		call_end(c, 500, "Server Internal Error", "sbc");
		return;
	}
	(void)a_reply(c, 100, "Trying", NULL, NULL);

	mem_ref(c);
	call_route(c, msg);
	mem_deref(c);
}

/* ---- re-INVITE ---------------------------------------------------------- */

static void reinv_destructor(void *arg)
{
	struct reinvite *r = arg;

	if (r->st) {
		/* never leave the requester without a final answer */
		(void)sip_treplyf(&r->st, NULL, sip(), r->msg, false, 500,
				  "Server Internal Error",
				  "Content-Length: 0\r\n\r\n");
		mem_deref(r->st);
	}
	mem_deref(r->req);
	mem_deref(r->ngreq);
	mem_deref(r->msg);
	mem_deref(r->sdp_out);
}

static void reinv_reply(struct reinvite *r, uint16_t scode,
			const char *reason, const char *sdp)
{
	size_t blen = sdp ? strlen(sdp) : 0;
	int err;

	if (!r->st)
		return;
	err = sip_treplyf(&r->st, NULL, sip(), r->msg, true, scode, reason,
			  "Contact: %H\r\n"
			  "Allow: " ALLOW "\r\n"
			  "%s"
			  "Content-Length: %zu\r\n"
			  "\r\n"
			  "%b",
			  msg_contact, r->msg,
			  sdp ? "Content-Type: application/sdp\r\n" : "",
			  blen, sdp ? sdp : "", blen);
	if (!err)
		stats_sip_response(scode);
}

static void reinv_done(struct call *c)
{
	c->reinv = mem_deref(c->reinv);
}

static void reinv_answer_resp(int err, const struct media_reply *rep,
			      void *arg)
{
	struct reinvite *r = arg;
	struct call *c = r->call;
	char *sdp;

	mem_ref(c);
	sdp = ng_sdp(c, "answer (re-INVITE)", err, rep);
	if (sdp)
		reinv_reply(r, 200, "OK", sdp);
	else
		reinv_reply(r, 500, "Server Internal Error", NULL);
	mem_deref(sdp);
	reinv_done(c);
	mem_deref(c);
}

static void reinv_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct reinvite *r = arg;
	struct call *c = r->call;
	struct pl sdp;
	char reason[64];

	if (msg && msg->scode < 200)
		return;

	mem_ref(c);
	if (err || !msg) {
		reinv_reply(r, 500, "Server Internal Error", NULL);
		reinv_done(c);
		goto out;
	}
	if (msg->scode >= 300) {
		pl_strcpy(&msg->reason, reason, sizeof(reason));
		reinv_reply(r, msg->scode, reason, NULL);
		reinv_done(c);
		if (msg->scode == 481 || msg->scode == 408)
			call_hangup(c, r->to == c->a ? "caller" : "callee");
		goto out;
	}

	(void)leg_ack(r->to, msg->cseq.num);
	if (!r->has_sdp || !msg_sdp(msg, &sdp)) {
		reinv_reply(r, 200, "OK", NULL);
		reinv_done(c);
		goto out;
	}
	err = ng_send(c, &r->ngreq, "answer", leg_ngtag(r->from),
		      leg_ngtag(r->to), &sdp, r->from->prof,
		      reinv_answer_resp, r);
	if (err) {
		reinv_reply(r, 500, "Server Internal Error", NULL);
		reinv_done(c);
	}
 out:
	mem_deref(c);
}

static void reinv_forward(struct reinvite *r)
{
	size_t blen = r->sdp_out ? strlen(r->sdp_out) : 0;
	int err;

	err = leg_request(&r->req, r->to, "INVITE",
			  r->sdp_out ? "application/sdp" : NULL, r->sdp_out,
			  blen, reinv_resp, r);
	if (err) {
		reinv_reply(r, 500, "Server Internal Error", NULL);
		reinv_done(r->call);
	}
}

static void reinv_offer_resp(int err, const struct media_reply *rep,
			     void *arg)
{
	struct reinvite *r = arg;
	struct call *c = r->call;

	mem_ref(c);
	r->sdp_out = ng_sdp(c, "offer (re-INVITE)", err, rep);
	if (!r->sdp_out) {
		reinv_reply(r, 488, "Not Acceptable Here", NULL);
		reinv_done(c);
	}
	else {
		reinv_forward(r);
	}
	mem_deref(c);
}

static void reinvite(struct leg *l, const struct sip_msg *msg)
{
	struct call *c = l->call;
	struct leg *other = l == c->a ? c->b : c->a;
	struct reinvite *r;
	struct pl sdp;
	int err;

	if (c->state != CS_CONFIRMED || !other || !other->confirmed) {
		(void)sipsrv_replyf(msg, 491, "Request Pending",
				    "Retry-After: 1\r\n");
		return;
	}
	if (c->reinv) {
		(void)sipsrv_replyf(msg, 491, "Request Pending", NULL);
		return;
	}

	r = mem_zalloc(sizeof(*r), reinv_destructor);
	if (!r) {
		(void)sipsrv_replyf(msg, 500, "Server Internal Error", NULL);
		return;
	}
	r->call = c;
	r->from = l;
	r->to = other;
	r->msg = mem_ref((void *)msg);
	c->reinv = r;

	err = sip_strans_alloc(&r->st, sip(), msg, NULL, NULL);
	if (err) {
		r->st = NULL;
		reinv_done(c);
		(void)sipsrv_replyf(msg, 500, "Server Internal Error", NULL);
		return;
	}
	(void)leg_target(l, msg);  /* a new Contact is the new target */
	(void)sip_treplyf(&r->st, NULL, sip(), msg, false, 100, "Trying",
			  "Content-Length: 0\r\n\r\n");

	if (msg_sdp(msg, &sdp)) {
		r->has_sdp = true;
		err = ng_send(c, &r->ngreq, "offer", leg_ngtag(l),
			      leg_ngtag(other), &sdp, other->prof,
			      reinv_offer_resp, r);
		if (err) {
			reinv_reply(r, 500, "Server Internal Error", NULL);
			reinv_done(c);
		}
		return;
	}
	/* an offerless re-INVITE is relayed as one; no SDP comes back */
	reinv_forward(r);
}

/* ---- in-dialog requests ------------------------------------------------- */

static void info_resp(int err, const struct sip_msg *msg, void *arg)
{
	(void)err;
	(void)msg;
	(void)arg;
}

static void in_dialog(struct leg *l, const struct sip_msg *msg)
{
	struct call *c = l->call;
	struct leg *other = l == c->a ? c->b : c->a;

	if (!pl_strcmp(&msg->met, "ACK")) {
		if (l == c->a && l->due2xx)
			l->due2xx = 0;   /* the 2xx is ACKed */
		return;
	}

	/* CSeq must grow (RFC 3261 12.2.2) */
	if (msg->cseq.num < l->rseq ||
	    (msg->cseq.num == l->rseq && pl_strcmp(&msg->met, "ACK"))) {
		(void)sipsrv_replyf(msg, 500, "Server Internal Error",
				    "Retry-After: 1\r\n");
		return;
	}
	l->rseq = msg->cseq.num;

	if (!pl_strcmp(&msg->met, "BYE")) {
		(void)sipsrv_replyf(msg, 200, "OK", NULL);
		l->confirmed = false;       /* no BYE back to the sender */
		l->bye_sent = true;
		if (other && other->confirmed)
			leg_bye(other);
		call_end(c, 200, "OK", l == c->a ? "caller" : "callee");
		return;
	}
	if (!pl_strcmp(&msg->met, "INVITE")) {
		reinvite(l, msg);
		return;
	}
	if (!pl_strcmp(&msg->met, "OPTIONS")) {
		(void)sipsrv_replyf(msg, 200, "OK", "Allow: " ALLOW "\r\n");
		return;
	}
	if (!pl_strcmp(&msg->met, "INFO") && other && other->confirmed) {
		char ctype[128];
		size_t blen = mbuf_get_left(msg->mb);

		/* DTMF (application/dtmf-relay) and friends pass through */
		re_snprintf(ctype, sizeof(ctype), "%r/%r", &msg->ctyp.type,
			    &msg->ctyp.subtype);
		(void)leg_request(NULL, other, "INFO", blen ? ctype : NULL,
				  blen ? (const char *)mbuf_buf(msg->mb) :
				  NULL, blen, info_resp, NULL);
		(void)sipsrv_replyf(msg, 200, "OK", NULL);
		return;
	}
	(void)sipsrv_replyf(msg, 501, "Not Implemented",
			    "Allow: " ALLOW "\r\n");
}

/* ---- entry points ------------------------------------------------------- */

bool b2bua_request(const struct sip_msg *msg)
{
	struct leg *l;

	if (!b2b.started || !msg)
		return false;

	if (pl_isset(&msg->to.tag)) {
		l = leg_find(msg);
		if (!l) {
			log_debug("b2b", "no dialog for %.*s [%.*s] to-tag "
				  "%.*s from-tag %.*s", (int)msg->met.l,
				  msg->met.p, (int)msg->callid.l,
				  msg->callid.p, (int)msg->to.tag.l,
				  msg->to.tag.p, (int)msg->from.tag.l,
				  msg->from.tag.p);
			if (!pl_strcmp(&msg->met, "ACK"))
				return true;
			(void)sipsrv_replyf(msg, 481,
					    "Call/Transaction Does Not Exist",
					    NULL);
			return true;
		}
		mem_ref(l->call);
		{
			struct call *c = l->call;

			in_dialog(l, msg);
			mem_deref(c);
		}
		return true;
	}

	if (!pl_strcmp(&msg->met, "ACK"))
		return true;

	if (!pl_strcmp(&msg->met, "INVITE")) {
		l = list_ledata(hash_lookup(b2b.legs,
					    hash_joaat_pl(&msg->callid),
					    a_retrans_cmp, (void *)msg));
		if (l) {
			/* our 2xx went out statelessly: answer it again */
			if (l->is2xx && l->inv && l->call->state != CS_ENDED)
				(void)a_send_2xx(l);
			return true;
		}
		if (sipsrv_draining()) {
			(void)sipsrv_replyf(msg, 503, "Service Unavailable",
					    "Retry-After: 30\r\n");
			return true;
		}
		invite_new(msg);
		return true;
	}
	if (!pl_strcmp(&msg->met, "BYE")) {
		(void)sipsrv_replyf(msg, 481,
				    "Call/Transaction Does Not Exist", NULL);
		return true;
	}
	return false;
}

bool b2bua_response(const struct sip_msg *msg)
{
	struct leg *l;

	if (!b2b.started || !msg || msg->scode < 200 || msg->scode >= 300 ||
	    pl_strcmp(&msg->cseq.met, "INVITE"))
		return false;
	l = leg_find(msg);
	if (!l || l->uas || !l->confirmed)
		return false;
	(void)leg_ack(l, msg->cseq.num);
	return true;
}

unsigned b2bua_calls_active(void)
{
	return list_count(&b2b.calls);
}

unsigned b2bua_busy(void)
{
	return list_count(&b2b.calls) + b2b.byes;
}

void b2bua_hangup_all(void)
{
	struct le *le;

	le = b2b.calls.head;
	while (le) {
		struct call *c = le->data;

		le = le->next;
		mem_ref(c);
		call_hangup(c, "sbc");
		mem_deref(c);
	}
}

unsigned b2bua_foreach(b2bua_call_h *h, void *arg)
{
	struct le *le;
	unsigned n = 0;

	for (le = b2b.calls.head; le; le = le->next) {
		const struct call *c = le->data;
		struct b2bua_call_info ci;

		ci.id = c->id;
		ci.from = c->from ? c->from : "";
		ci.to = c->to ? c->to : "";
		ci.direction = dir_names[c->dir];
		ci.trunk = c->trunk ? c->trunk : "";
		ci.state = call_state_name(c->state);
		ci.ngid = c->ngid;
		ci.started_at = c->started_at;
		ci.answered_at = c->answered_at;
		++n;
		if (h && h(&ci, arg))
			break;
	}
	return n;
}

int b2bua_hangup(uint64_t id)
{
	struct le *le;

	for (le = b2b.calls.head; le; le = le->next) {
		struct call *c = le->data;

		if (c->id != id)
			continue;
		mem_ref(c);
		call_hangup(c, "sbc");
		mem_deref(c);
		return 0;
	}
	return ENOENT;
}

/*
 * The B2BUA's own timers (a B target that never answers, the 2xx to
 * the caller until its ACK) are deadlines checked here every TICK_MS,
 * not libre timers: libre 1.1.0 keeps timers in one sorted list, and
 * each tmr_start() walks past every later one (under load thousands of
 * transaction timers), which made timers the top CPU cost per call.
 */
static void tick_tmr(void *arg)
{
	uint64_t now = tmr_jiffies();
	struct call *c;

	(void)arg;

	tmr_start(&b2b.tmr_tick, TICK_MS, tick_tmr, NULL);

	c = b2b.calls.head ? mem_ref(b2b.calls.head->data) : NULL;
	while (c) {
		/* hold the next one too: handlers below may end calls */
		struct call *next = c->le.next ? mem_ref(c->le.next->data) :
			NULL;
		struct le *fl = c->forks.head;

		while (fl && c->state != CS_ENDED) {
			struct leg *b = fl->data;

			fl = fl->next;
			if (b->due_attempt && now >= b->due_attempt)
				attempt_due(b);
		}
		if (c->state != CS_ENDED && c->a && c->a->due2xx &&
		    now >= c->a->due2xx)
			a_2xx_due(c->a, now);
		mem_deref(c);
		c = next;
	}
}

/* mediad saw no packet on a call for media_timeout: end it. */
static void shm_event(uint16_t type, const uint8_t *buf, size_t len,
		      void *arg)
{
	char callid[128];
	struct shm_msg m;
	struct le *le;

	(void)arg;

	if (type != SHM_EV_MEDIA_TIMEOUT)
		return;
	msg_init(&m, (void *)buf, len);
	msg_get_str(&m, callid, sizeof(callid));
	if (m.err)
		return;
	for (le = b2b.calls.head; le; le = le->next) {
		struct call *c = le->data;

		if (strcmp(c->ngid, callid))
			continue;
		log_info("b2b", "call %llu: no media for media_timeout: "
			 "hanging up", (unsigned long long)c->id);
		++b2b.media_timeouts;
		mem_ref(c);
		call_hangup(c, "sbc");
		mem_deref(c);
		return;
	}
}

int b2bua_start(void)
{
	int err;

	if (b2b.started)
		return EALREADY;
	memset(&b2b, 0, sizeof(b2b));
	err = hash_alloc(&b2b.legs, LEG_HASH);
	if (err)
		return err;
	list_init(&b2b.calls);
	tmr_init(&b2b.tmr_tick);
	tmr_start(&b2b.tmr_tick, TICK_MS, tick_tmr, NULL);
	shmc_set_handler(shm_event, NULL);
	b2b.started = true;
	return 0;
}

void b2bua_stop(void)
{
	if (!b2b.started)
		return;
	shmc_set_handler(NULL, NULL);
	tmr_cancel(&b2b.tmr_tick);
	b2bua_hangup_all();
	list_flush(&b2b.calls);
	b2b.legs = mem_deref(b2b.legs);
	b2b.started = false;
}

int b2bua_metrics(struct re_printf *pf, void *unused)
{
	int err;
	unsigned i;

	(void)unused;

	err = re_hprintf(pf, "# HELP sbc_calls_active Calls in progress, "
			 "by direction.\n# TYPE sbc_calls_active gauge\n");
	for (i = 0; i < DIR_COUNT; i++)
		err |= re_hprintf(pf, "sbc_calls_active{direction=\"%s\"} "
				  "%u\n", dir_names[i], b2b.active[i]);
	err |= re_hprintf(pf, "# HELP sbc_blocked_total Requests refused "
			  "by policy, by reason.\n"
			  "# TYPE sbc_blocked_total counter\n"
			  "sbc_blocked_total{reason=\"blocklist\"} %llu\n"
			  "sbc_blocked_total{reason=\"limit\"} %llu\n",
			  (unsigned long long)b2b.blocked_list,
			  (unsigned long long)b2b.blocked_limit);
	err |= re_hprintf(pf, "# HELP sbc_media_setup_failures_total Calls "
			  "refused because mediad could not anchor them.\n"
			  "# TYPE sbc_media_setup_failures_total counter\n"
			  "sbc_media_setup_failures_total %llu\n",
			  (unsigned long long)b2b.media_failed);
	return err;
}

int b2bua_debug(struct re_printf *pf, void *unused)
{
	(void)unused;

	return re_hprintf(pf, "b2bua: calls=%u (internal %u, inbound %u, "
			  "outbound %u) byes=%u media_failed=%llu",
			  list_count(&b2b.calls), b2b.active[DIR_INTERNAL],
			  b2b.active[DIR_INBOUND], b2b.active[DIR_OUTBOUND],
			  b2b.byes, (unsigned long long)b2b.media_failed);
}
