/* sbc/sipsrv.c  The SIP stack: listeners and dispatch of incoming requests */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "config.h"
#include "b2bua.h"
#include "log.h"
#include "registrar.h"
#include "sbc.h"
#include "sipsrv.h"
#include "stats.h"

#ifndef SBC_VERSION
#define SBC_VERSION "0"
#endif

/* Hash table sizes (powers of two): transactions and connections. */
#define CTRANS_HASH   1024
#define STRANS_HASH   1024
#define CONN_HASH     256
#define LADDR_MAX     32      /* addresses one wildcard listener expands to */

/*
 * What OPTIONS advertises (RFC 3261 section 11.2). A method joins
 * Allow when its handler lands, not before: a peer that sees INVITE
 * here will send one.
 */
#define SIPSRV_ALLOW     "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER"
#define SIPSRV_ACCEPT    "application/sdp"
#define SIPSRV_SUPPORTED ""

static struct {
	struct sip      *sip;
	struct sip_lsnr *lsnr_req;
	struct sip_lsnr *lsnr_resp;
	struct tls      *tls;
	struct dnsc     *dnsc;
	const char      *tls_cert;    /* during start only */
	unsigned         nlisteners;
	bool             draining;
	bool             ws_fixups;   /* libre 1.1.0: see ws_conn_fixup() */
	uint64_t         ws_fixed;    /* WebSocket connections adopted */
} ss;

/* A wildcard listener being expanded into one per local address. */
struct expand {
	enum sip_transp tp;
	int             af;
	uint16_t        port;
	struct sa       done[LADDR_MAX];
	unsigned        n;
	int             err;
};

static int transp_add(enum sip_transp tp, const struct sa *laddr)
{
	char addr[64];
	int err;

	switch (tp) {

	case SIP_TRANSP_UDP:
	case SIP_TRANSP_TCP:
		err = sip_transp_add(ss.sip, tp, laddr);
		break;

	case SIP_TRANSP_TLS:
		err = sip_transp_add(ss.sip, tp, laddr, ss.tls);
		break;

	case SIP_TRANSP_WS:
		err = sip_transp_add_websock(ss.sip, tp, laddr, true, NULL);
		break;

	case SIP_TRANSP_WSS:
		err = sip_transp_add_websock(ss.sip, tp, laddr, true,
					     ss.tls_cert);
		break;

	default:
		err = EPROTONOSUPPORT;
		break;
	}

	re_snprintf(addr, sizeof(addr), "%J", laddr);
	if (err) {
		log_err("sip", "cannot listen on %s %s: %s",
			sip_transp_name(tp), addr, strerror(err));
		return err;
	}
	log_info("sip", "listening on %s %s", sip_transp_name(tp), addr);
	++ss.nlisteners;
	return 0;
}

static bool expand_one(const char *ifname, const struct sa *sa, void *arg)
{
	struct expand *x = arg;
	struct sa laddr;
	unsigned i;

	(void)ifname;

	if (sa_af(sa) != x->af || sa_is_linklocal(sa))
		return false;

	/* an address on two interfaces is bound once */
	for (i = 0; i < x->n; i++) {
		if (sa_cmp(&x->done[i], sa, SA_ADDR))
			return false;
	}
	if (x->n == LADDR_MAX) {
		log_warn("sip", "more than %u local addresses; the rest get no "
			 "%s listener", LADDR_MAX, sip_transp_name(x->tp));
		return true;
	}

	sa_cpy(&laddr, sa);
	sa_set_port(&laddr, x->port);
	x->err = transp_add(x->tp, &laddr);
	if (x->err)
		return true;
	x->done[x->n++] = laddr;
	return false;
}

/* Open listener <a> of transport <tp>; a disabled one (len 0) is 0. */
static int listener_add(enum sip_transp tp, const struct cfg_addr *a)
{
	struct expand *x;
	struct sa laddr;
	int err;

	if (!a->len)
		return 0;

	err = sa_set_sa(&laddr, (const struct sockaddr *)&a->ss);
	if (err)
		return err;
	if (!sa_is_any(&laddr))
		return transp_add(tp, &laddr);

	x = mem_zalloc(sizeof(*x), NULL);
	if (!x)
		return ENOMEM;
	x->tp = tp;
	x->af = sa_af(&laddr);
	x->port = sa_port(&laddr);

	err = net_getifaddrs(expand_one, x);
	if (!err)
		err = x->err;
	if (!err && !x->n) {
		log_err("sip", "%s %s: no local %s address to listen on",
			sip_transp_name(tp), a->text, net_af2name(x->af));
		err = EADDRNOTAVAIL;
	}
	mem_deref(x);
	return err;
}

int sipsrv_replyf(const struct sip_msg *msg, uint16_t scode,
		  const char *reason, const char *fmt, ...)
{
	char hdrs[2048];
	va_list ap;
	int err;

	if (!msg || !ss.sip)
		return EINVAL;

	hdrs[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		err = re_vsnprintf(hdrs, sizeof(hdrs), fmt, ap);
		va_end(ap);
		if (err < 0)
			return EINVAL;
	}

	if (!pl_strcmp(&msg->met, "INVITE") && scode >= 200)
		err = sip_treplyf(NULL, NULL, ss.sip, msg, false, scode,
				  reason, "%sContent-Length: 0\r\n\r\n",
				  hdrs);
	else
		err = sip_replyf(ss.sip, msg, scode, reason,
				 "%sContent-Length: 0\r\n\r\n", hdrs);
	if (err) {
		log_debug("sip", "%u reply to %.*s failed: %s [%.*s]", scode,
			  (int)msg->met.l, msg->met.p, strerror(err),
			  (int)msg->callid.l, msg->callid.p);
		return err;
	}
	stats_sip_response(scode);
	return 0;
}

int sipsrv_laddr(struct sa *laddr, enum sip_transp tp, const struct sa *dst)
{
	const struct sbc_config *cfg = sbc_config();
	int err;

	if (!laddr || !ss.sip)
		return EINVAL;

	err = sip_transp_laddr(ss.sip, laddr, tp, dst);
	if (err)
		return err;

	if (cfg && cfg->advertised_ip.len) {
		struct sa adv;
		uint16_t port = sa_port(laddr);

		if (!sa_set_sa(&adv, (const struct sockaddr *)
			       &cfg->advertised_ip.ss)) {
			*laddr = adv;
			sa_set_port(laddr, port);
		}
	}
	return 0;
}

/* Stateless reply, counted. INVITEs get a server transaction so the
 * final answer is retransmitted until the ACK (RFC 3261 17.2.1). */
static void reply(const struct sip_msg *msg, uint16_t scode,
		  const char *reason)
{
	int err;

	if (!pl_strcmp(&msg->met, "INVITE"))
		err = sip_treplyf(NULL, NULL, ss.sip, msg, false, scode,
				  reason, "Content-Length: 0\r\n\r\n");
	else
		err = sip_replyf(ss.sip, msg, scode, reason,
				 "Content-Length: 0\r\n\r\n");
	if (err) {
		log_debug("sip", "%u reply to %.*s failed: %s [%.*s]", scode,
			  (int)msg->met.l, msg->met.p, strerror(err),
			  (int)msg->callid.l, msg->callid.p);
		return;
	}
	stats_sip_response(scode);
}

static void reply_options(const struct sip_msg *msg)
{
	int err;

	err = sip_replyf(ss.sip, msg, 200, "OK",
			 "Allow: " SIPSRV_ALLOW "\r\n"
			 "Accept: " SIPSRV_ACCEPT "\r\n"
			 "Accept-Encoding: identity\r\n"
			 "Accept-Language: en\r\n"
			 "Supported: " SIPSRV_SUPPORTED "\r\n"
			 "Content-Length: 0\r\n"
			 "\r\n");
	if (err) {
		log_debug("sip", "OPTIONS reply failed: %s [%.*s]",
			  strerror(err), (int)msg->callid.l, msg->callid.p);
		return;
	}
	stats_sip_response(200);
}

/* ---- libre 1.1.0's WebSocket server, made usable ---------------------- */

/*
 * Three defects of libre 1.1.0's SIP-over-WebSocket server side (read in
 * its src/sip/transp.c and src/websock/websock.c) stop RFC 7118 clients:
 *
 * 1. websock_accept() answers the upgrade with a 101 that lacks
 *    "Sec-WebSocket-Protocol: sip". A browser that asked for "sip" (they
 *    all do) fails such a handshake (RFC 6455 4.1; WHATWG WebSockets).
 * 2. http_req_handler() arms the connection's 32 s accept timer and
 *    nothing re-arms or cancels it for WebSocket: every WS/WSS
 *    connection is closed 32 s after its handshake, mid-call or not.
 * 3. An accepted WebSocket connection is never marked established, so
 *    a request we send toward its peer (an INVITE to a registered
 *    browser, the ACK of its 2xx, a BYE) is queued on it and never sent.
 *
 * Later libre releases fixed 1 and 2 (websock_accept_proto(), the timer
 * removed); 3 was still there upstream when this was written. The fix
 * of 1 adds the header only where it is missing, so it is harmless on a
 * libre that sends it; those of 2 and 3 write libre's private data and
 * run with libre 1.1.0 only (checked at start).
 */

/*
 * 1: libre's websock_accept() calls http_reply() through the PLT, so this
 * definition in the executable takes its place (ELF interposition). It
 * does what libre's does -- status line, the caller's headers, one
 * tcp_send() -- and adds the subprotocol to a WebSocket 101. libre's SIP
 * transport accepts only upgrades that asked for exactly "sip", so "sip"
 * is the one to confirm. sbc serves HTTP with libmicrohttpd; libre's
 * HTTP server carries only the WebSocket listeners.
 */
int http_reply(struct http_conn *conn, uint16_t scode, const char *reason,
	       const char *fmt, ...)
{
	struct tcp_conn *tc = conn ? http_conn_tcp(conn) : NULL;
	struct mbuf *mb;
	char *hdrs = NULL;
	va_list ap;
	int err;

	if (!conn || !scode || !reason)
		return EINVAL;
	if (!tc)
		return ENOTCONN;

	if (fmt) {
		va_start(ap, fmt);
		err = re_vsdprintf(&hdrs, fmt, ap);
		va_end(ap);
		if (err)
			return err;
	}

	mb = mbuf_alloc(512);
	if (!mb) {
		mem_deref(hdrs);
		return ENOMEM;
	}
	err = mbuf_printf(mb, "HTTP/1.1 %u %s\r\n", scode, reason);
	if (!hdrs) {
		err |= mbuf_write_str(mb, "Content-Length: 0\r\n\r\n");
	}
	else if (scode == 101 && strcasestr(hdrs, "Sec-WebSocket-Accept:") &&
		 !strcasestr(hdrs, "Sec-WebSocket-Protocol:")) {
		/* the header block ends in an empty line: go in before it */
		size_t n = strlen(hdrs);

		if (n >= 2 && !strcmp(hdrs + n - 2, "\r\n"))
			n -= 2;
		err |= mbuf_write_mem(mb, (uint8_t *)hdrs, n);
		err |= mbuf_write_str(mb, "Sec-WebSocket-Protocol: sip\r\n"
				      "\r\n");
	}
	else {
		err |= mbuf_write_str(mb, hdrs);
	}
	if (!err) {
		mb->pos = 0;
		err = tcp_send(tc, mb);
	}
	mem_deref(mb);
	mem_deref(hdrs);
	return err;
}

/*
 * libre 1.1.0's private struct sip_conn (src/sip/transp.c), member for
 * member; every member type is public. Only ws_conn_fixup() reads it,
 * and only after the fields it can check against the message match.
 */
struct libre110_sip_conn {
	struct le            he;
	struct list          ql;
	struct list          kal;
	struct tmr           tmr;
	struct tmr           tmr_ka;
	struct sa            laddr;
	struct sa            paddr;
	struct tls_conn     *sc;
	struct tcp_conn     *tc;
	struct mbuf         *mb;
	struct sip          *sip;
	uint32_t             ka_interval;
	bool                 established;
	enum sip_transp      tp;
	struct websock_conn *websock_conn;
};

/*
 * 2 and 3, on the connection message <msg> came over: the first message
 * on an accepted WS/WSS connection marks it established and cancels its
 * accept timer (what later libre does: no idle timer on WebSocket; a
 * dead peer is found by libre's WebSocket pings every 15 s failing at
 * the TCP level). The fields that can be checked against <msg> are
 * checked first; on any mismatch nothing is written.
 */
static void ws_conn_fixup(const struct sip_msg *msg)
{
	struct libre110_sip_conn *c;

	if (!ss.ws_fixups || !msg->sock || (msg->tp != SIP_TRANSP_WS &&
					    msg->tp != SIP_TRANSP_WSS))
		return;

	c = msg->sock;
	if (c->established)
		return;
	if (c->sip != ss.sip || c->tp != msg->tp || c->tc || c->sc ||
	    !sip_msg_tcpconn(msg) ||
	    !sa_cmp(&c->paddr, &msg->src, SA_ALL) ||
	    !sa_cmp(&c->laddr, &msg->dst, SA_ALL)) {
		log_warn("sip", "libre's WebSocket connection object is not "
			 "laid out as in libre 1.1.0: fix-ups off; calls "
			 "toward WS/WSS phones will fail");
		ss.ws_fixups = false;
		return;
	}
	tmr_cancel(&c->tmr);
	c->established = true;
	++ss.ws_fixed;
}

/*
 * Every request that matches no transaction of libre's lands here; the
 * message is libre's and lives for this call only. Nothing is handed
 * on yet, so there is no reference to take.
 */
static bool request_handler(const struct sip_msg *msg, void *arg)
{
	(void)arg;

	ws_conn_fixup(msg);
	stats_sip_request(&msg->met);
	if (log_enabled(LOG_LVL_DEBUG)) {
		char src[64];

		re_snprintf(src, sizeof(src), "%J", &msg->src);
		log_debug("sip", "%.*s %.*s from %s/%s [%.*s]",
			  (int)msg->met.l, msg->met.p, (int)msg->ruri.l,
			  msg->ruri.p, sip_transp_name(msg->tp), src,
			  (int)msg->callid.l, msg->callid.p);
	}

	if (!pl_strcmp(&msg->met, "ACK")) {
		/* an ACK of a 2xx is the B2BUA's; none is ever answered */
		(void)b2bua_request(msg);
		return true;
	}

	if (!pl_strcmp(&msg->met, "REGISTER"))
		registrar_request(msg);
	else if (!pl_strcmp(&msg->met, "OPTIONS") && !pl_isset(&msg->to.tag))
		reply_options(msg);
	else if (!pl_strcmp(&msg->met, "CANCEL"))
		reply(msg, 481, "Call/Transaction Does Not Exist");
	else if (b2bua_request(msg))
		;                       /* answered or absorbed */
	else if (ss.draining && !pl_strcmp(&msg->met, "INVITE"))
		reply(msg, 503, "Service Unavailable");
	else
		reply(msg, 501, "Not Implemented");
	return true;
}

/* Responses that matched no client transaction: counted, dropped. */
static bool response_handler(const struct sip_msg *msg, void *arg)
{
	(void)arg;

	ws_conn_fixup(msg);
	if (b2bua_response(msg))
		return true;

	stats_sip_stray();
	if (log_enabled(LOG_LVL_DEBUG)) {
		char src[64];

		re_snprintf(src, sizeof(src), "%J", &msg->src);
		log_debug("sip", "stray %u response from %s [%.*s]",
			  msg->scode, src, (int)msg->callid.l,
			  msg->callid.p);
	}
	return true;
}

/*
 * An asynchronous DNS client on the system's resolvers, so a trunk
 * given by name is resolved (SRV, A, AAAA) without blocking the loop.
 */
static int dnsc_start(void)
{
	struct sa srvv[8];
	uint32_t n = ARRAY_SIZE(srvv);
	char domain[64] = "";
	int err;

	err = dns_srv_get(domain, sizeof(domain), srvv, &n);
	if (err || !n) {
		log_warn("sip", "no DNS resolver found (%s); trunks must be "
			 "given by IP address", strerror(err ? err : ENOENT));
		return 0;
	}
	err = dnsc_alloc(&ss.dnsc, NULL, srvv, n);
	if (err)
		log_err("sip", "cannot start the DNS client: %s",
			strerror(err));
	return err;
}

int sipsrv_start(const struct sbc_config *cfg)
{
	int err;

	if (!cfg)
		return EINVAL;

	memset(&ss, 0, sizeof(ss));
	ss.ws_fixups = !strcmp(sys_libre_version_get(), "1.1.0");
	if (!ss.ws_fixups && (cfg->sip_ws.len || cfg->sip_wss.len))
		log_warn("sip", "libre %s is not 1.1.0: its WebSocket "
			 "connections are used as they are",
			 sys_libre_version_get());

	err = dnsc_start();
	if (err)
		goto out;

	err = sip_alloc(&ss.sip, ss.dnsc, CTRANS_HASH, STRANS_HASH, CONN_HASH,
			"sbc/" SBC_VERSION, NULL, NULL);
	if (err) {
		log_err("sip", "cannot allocate the stack: %s", strerror(err));
		goto out;
	}

	if (cfg->sip_tls.len) {
		err = tls_alloc(&ss.tls, TLS_METHOD_SSLV23, cfg->tls_cert,
				NULL);
		if (err) {
			log_err("sip", "tls_cert %s: cannot load a private key "
				"and certificate from it: %s", cfg->tls_cert,
				strerror(err));
			goto out;
		}
	}
	ss.tls_cert = cfg->tls_cert;

	err = sip_listen(&ss.lsnr_req, ss.sip, true, request_handler, NULL);
	if (!err)
		err = sip_listen(&ss.lsnr_resp, ss.sip, false,
				 response_handler, NULL);
	if (err)
		goto out;

	err = listener_add(SIP_TRANSP_UDP, &cfg->sip_udp);
	if (!err)
		err = listener_add(SIP_TRANSP_TCP, &cfg->sip_tcp);
	if (!err)
		err = listener_add(SIP_TRANSP_TLS, &cfg->sip_tls);
	if (!err)
		err = listener_add(SIP_TRANSP_WS, &cfg->sip_ws);
	if (!err)
		err = listener_add(SIP_TRANSP_WSS, &cfg->sip_wss);
	if (err)
		goto out;

	if (!ss.nlisteners)
		log_warn("sip", "every listener is disabled: no SIP traffic");
 out:
	ss.tls_cert = NULL;
	if (err)
		sipsrv_stop();
	return err;
}

void sipsrv_stop(void)
{
	/* listeners first, so nothing new arrives while the rest goes */
	ss.lsnr_req = mem_deref(ss.lsnr_req);
	ss.lsnr_resp = mem_deref(ss.lsnr_resp);
	sip_close(ss.sip, true);
	ss.sip = mem_deref(ss.sip);
	ss.tls = mem_deref(ss.tls);
	ss.dnsc = mem_deref(ss.dnsc);
	ss.nlisteners = 0;
}

void sipsrv_drain(void)
{
	ss.draining = true;
}

bool sipsrv_draining(void)
{
	return ss.draining;
}

struct sip *sipsrv_sip(void)
{
	return ss.sip;
}

int sipsrv_debug(struct re_printf *pf, void *unused)
{
	(void)unused;

	return re_hprintf(pf, "sip: listeners=%u draining=%s ws_adopted=%llu",
			  ss.nlisteners, ss.draining ? "yes" : "no",
			  (unsigned long long)ss.ws_fixed);
}
