/* mediad/webrtc.c  WebRTC legs: ICE-lite, DTLS-SRTP, rtcp-mux, mid/BUNDLE in offers and answers */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/rand.h>

#include "arena.h"
#include "log.h"
#include "call.h"
#include "dtls.h"
#include "relay.h"
#include "sdes.h"
#include "webrtc.h"
#include "worker.h"

/* RFC 8445 section 5.1.2.1: type preference 126 (host), local
 * preference 65535, 256 - component */
#define HOST_PRIO(comp)  ((126u << 24) | (65535u << 8) | (256u - (comp)))

bool webrtc_proto_dtls(enum sdp_proto p)
{
	return p == SDP_PROTO_UDP_TLS_RTP_SAVP ||
		p == SDP_PROTO_UDP_TLS_RTP_SAVPF;
}

bool webrtc_mux_value(struct webrtc_opts *w, const char *p, size_t len)
{
	static const struct {
		const char *name;
		unsigned bit;
	} v[] = {
		{ "offer", WEBRTC_MUX_OFFER },
		{ "require", WEBRTC_MUX_REQUIRE },
		{ "demux", WEBRTC_MUX_DEMUX },
		{ "accept", WEBRTC_MUX_ACCEPT },
		{ "reject", WEBRTC_MUX_REJECT },
	};
	size_t i;

	/* Kamailio's flag spelling: "rtcp-mux-demux" */
	if (len > 9 && !memcmp(p, "rtcp-mux-", 9)) {
		p += 9;
		len -= 9;
	}
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (strlen(v[i].name) == len && !memcmp(v[i].name, p, len)) {
			w->mux |= v[i].bit;
			return true;
		}
	}
	return false;
}

const char *webrtc_dtls_state(const struct call_leg *lg)
{
	static const char *const names[] = {
		"none", "handshake", "up", "failed", "closed",
	};

	if (!lg->dtls)
		return "none";
	return (unsigned)lg->dstate < 5 ? names[lg->dstate] : "none";
}

/* <n> random characters of [A-Za-z0-9] (ice-char minus "+/"). */
static int rand_chars(char *out, size_t n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t r[64];
	size_t i;

	if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1)
		return EIO;
	for (i = 0; i < n; i++)
		out[i] = set[r[i] % 62];
	out[n] = '\0';
	return 0;
}

static int ice_creds(struct call_leg *lg)
{
	if (lg->ufrag[0])
		return 0;
	if (rand_chars(lg->ufrag, CALL_UFRAG_LEN) ||
	    rand_chars(lg->pwd, CALL_PWD_LEN))
		return EIO;
	return 0;
}

_Static_assert(CALL_UFRAG_LEN <= STREAM_OWN_UFRAG_MAX &&
	       CALL_PWD_LEN <= STREAM_OWN_PWD_MAX,
	       "our ICE credentials fit the worker's config");
_Static_assert(STREAM_UFRAG_MAX <= 256, "rufrag_len is a uint8_t");

/* What the worker needs of <lg>'s WebRTC state. */
static void cfg_fill(const struct call_leg *lg, struct stream_cfg *cfg)
{
	cfg->ice = lg->ice;
	cfg->dtls = lg->dtls;
	cfg->ufrag_len = (uint8_t)strlen(lg->ufrag);
	cfg->pwd_len = (uint8_t)strlen(lg->pwd);
	cfg->rufrag_len = (uint8_t)strlen(lg->rufrag);
	memcpy(cfg->ufrag, lg->ufrag, cfg->ufrag_len);
	memcpy(cfg->pwd, lg->pwd, cfg->pwd_len);
	cfg->rufrag_h = stream_ufrag_hash(lg->rufrag, cfg->rufrag_len);
	if (lg->mux_req)
		cfg->rtcp_mux = true;
}

static void dstate_set(struct call_leg *lg, enum dtls_state st);

static void srtp_none(struct calls *c, struct call *call, unsigned leg,
		      bool srtp)
{
	/* EBUSY (retired list full) only delays the free to reclaim */
	if (call_srtp_set(c, call, leg, srtp, NULL, NULL))
		call_stream(c, call, leg)->next.srtp = srtp;
}

/* Leg <i> speaks DTLS-SRTP from now on: nothing is relayed to or from
 * it until a handshake gives keys. */
static void dtls_on(struct calls *c, struct call *call, unsigned i)
{
	struct call_leg *lg = &call->leg[i];

	if (lg->dtls)
		return;
	lg->dtls = true;
	lg->dstate = DTLS_NONE;
	lg->have_fp = false;
	lg->dfail_logged = false;
	memset(&lg->dpeer, 0, sizeof(lg->dpeer));
	srtp_none(c, call, i, true);
}

/* A new association is due (the peer's fingerprint changed): the old
 * one and its keys go. */
static void dtls_restart(struct calls *c, struct call *call, unsigned i)
{
	struct call_leg *lg = &call->leg[i];

	dtls_conn_free(lg->dc);
	lg->dc = NULL;
	lg->dstate = DTLS_NONE;
	lg->dfail_logged = false;
	srtp_none(c, call, i, true);
}

static void dtls_off(struct calls *c, struct call *call, unsigned i)
{
	struct call_leg *lg = &call->leg[i];

	if (!lg->dtls)
		return;
	dtls_conn_free(lg->dc);
	lg->dc = NULL;
	lg->dtls = lg->have_fp = false;
	lg->dstate = DTLS_NONE;
	srtp_none(c, call, i, false);
}

/* The keys of <lg>'s verified association become its SRTP sessions. */
static void keys_install(struct call_leg *lg)
{
	struct call *call = lg->call;
	struct calls *c = call->owner;
	struct srtpx *in = NULL, *out = NULL;
	struct sdes_key kin, kout;
	int err;

	err = dtls_conn_keys(lg->dc, &kin, &kout);
	if (!err)
		err = sdes_session_new(&in, &kin, true);
	if (!err)
		err = sdes_session_new(&out, &kout, false);
	OPENSSL_cleanse(&kin, sizeof(kin));
	OPENSSL_cleanse(&kout, sizeof(kout));
	if (!err)
		err = call_edit(c, call);
	if (!err)
		err = call_srtp_set(c, call, lg->idx, true, in, out);
	if (err) {
		sdes_session_free(in);
		sdes_session_free(out);
		log_warn("dtls", "[%s] leg %u: cannot install SRTP keys: %s",
			 call->id, lg->idx, strerror(err));
		return;
	}
	err = call_commit(c, call);
	if (err)
		log_warn("dtls", "[%s] leg %u: keys not handed to the "
			 "worker: %s", call->id, lg->idx, strerror(err));
	else if (calls_worker(c, call->worker))
		/* our Finished leaves once the worker has the keys */
		dtls_conn_release_at(lg->dc, call->worker, worker_queued(
					     calls_worker(c, call->worker)));
	++calls_ctr_mut(c)->dtls_up;
	log_debug("dtls", "[%s] leg %u: DTLS-SRTP up (%s)", call->id,
		  lg->idx, dtls_conn_client(lg->dc) ? "client" : "server");
}

static void dstate_set(struct call_leg *lg, enum dtls_state st)
{
	struct call *call = lg->call;

	lg->dstate = st;
	if (st == DTLS_FAILED && !lg->dfail_logged) {
		lg->dfail_logged = true;
		++calls_ctr_mut(call->owner)->dtls_failed;
		log_warn("dtls", "[%s] leg %u: DTLS handshake failed: %s; "
			 "the leg's media is not relayed", call->id, lg->idx,
			 lg->dc ? dtls_conn_why(lg->dc) : "?");
	}
	else if (st == DTLS_CLOSED) {
		log_info("dtls", "[%s] leg %u: DTLS closed by the peer",
			 call->id, lg->idx);
	}
}

static void on_state(struct dtls_conn *dc, enum dtls_state st, void *arg)
{
	struct call_leg *lg = arg;

	(void)dc;
	dstate_set(lg, st);
	if (st == DTLS_UP && dtls_conn_verified(lg->dc))
		keys_install(lg);
}

/* A record of <lg>'s association goes out of its RTP socket to where
 * its DTLS comes from, else where it was latched, else its SDP. */
static void on_send(const uint8_t *p, size_t len, void *arg)
{
	struct call_leg *lg = arg;
	struct call *call = lg->call;
	struct stream *st = call_stream(call->owner, call, lg->idx);
	union stream_addr to;
	socklen_t tl;

	if (lg->dpeer.sa.sa_family)
		to = lg->dpeer;
	else if (!stream_latched(st, &to))
		to = lg->addr;
	if (!to.sa.sa_family)
		return;
	tl = to.sa.sa_family == AF_INET6 ? sizeof(to.in6) : sizeof(to.in);
	if (sendto(st->fd_rtp, p, len, 0, &to.sa, tl) == -1)
		log_debug("dtls", "[%s] leg %u: sendto: %m", call->id,
			  lg->idx);
}

static int conn_start(struct call_leg *lg, bool client)
{
	struct dtls *d = calls_dtls(lg->call->owner);
	int err;

	err = dtls_conn_new(&lg->dc, d, client, lg->have_fp ? &lg->fp : NULL,
			    on_send, on_state, lg);
	if (err)
		return err;
	if (lg->dc && lg->dstate != DTLS_FAILED && lg->dstate != DTLS_UP)
		lg->dstate = dtls_conn_state(lg->dc);
	return 0;
}

/* The peer's fingerprint changed or arrived: check what we have. */
static void fp_learn(struct calls *c, struct call *call, unsigned i,
		     const struct dtls_fp *fp)
{
	struct call_leg *lg = &call->leg[i];

	if (lg->have_fp && !dtls_fp_eq(&lg->fp, fp) && lg->dc &&
	    dtls_conn_verified(lg->dc)) {
		dtls_restart(c, call, i);  /* a new certificate: new keys */
	}
	lg->fp = *fp;
	lg->have_fp = true;
	if (!lg->dc || dtls_conn_verified(lg->dc) ||
	    lg->dstate == DTLS_FAILED)
		return;
	/* the handshake ran ahead of this SDP */
	if (!dtls_conn_check_fp(lg->dc, fp) && lg->dstate == DTLS_UP)
		keys_install(lg);
}

/* The first a=fingerprint of a hash we do (media level first). */
static const char *fp_pick(const struct sdp_session *s,
			   const struct sdp_media *m, struct dtls_fp *fp)
{
	const struct sdp_fp *f;
	int err;

	for (f = m->fp ? m->fp : s->fp; f; f = f->next) {
		err = dtls_fp_parse(fp, f->hash, f->value);
		if (!err)
			return NULL;
		if (err == EINVAL)
			return "Bad a=fingerprint";
	}
	return "No usable a=fingerprint (sha-256 or sha-1) in UDP/TLS media";
}

static bool group_has(const struct sdp_session *s, const char *sem,
		      const char *mid)
{
	const struct sdp_group *g;
	size_t ml = strlen(mid);

	for (g = s->groups; g && ml; g = g->next) {
		const char *p = g->tags;

		if (strcmp(g->semantics, sem) || !p)
			continue;
		while (*p) {
			size_t l = strcspn(p, " ");

			if (l == ml && !memcmp(p, mid, l))
				return true;
			p += l;
			p += strspn(p, " ");
		}
	}
	return false;
}

static const char *ufrag_of(const struct sdp_session *s,
			    const struct sdp_media *m)
{
	return m->ice.ufrag ? m->ice.ufrag : s->ice.ufrag;
}

static enum sdp_setup setup_of(const struct sdp_session *s,
			       const struct sdp_media *m)
{
	return m->setup ? m->setup : s->setup;
}

/* Our a=setup answering the peer's <peer> (RFC 5763 section 5). */
static enum sdp_setup setup_answer(const struct call_leg *lg,
				   enum sdp_setup peer)
{
	if (lg->dc && dtls_conn_state(lg->dc) != DTLS_FAILED)
		return dtls_conn_client(lg->dc) ? SDP_SETUP_ACTIVE :
			SDP_SETUP_PASSIVE;       /* keep the association */
	return peer == SDP_SETUP_PASSIVE ? SDP_SETUP_ACTIVE :
		SDP_SETUP_PASSIVE;
}

static const char *rufrag_set(struct call_leg *lg, const char *ufrag)
{
	size_t l = ufrag ? strlen(ufrag) : 0;

	if (l >= sizeof(lg->rufrag))
		return "ICE ufrag too long";
	memcpy(lg->rufrag, ufrag ? ufrag : "", l);
	lg->rufrag[l] = '\0';
	return NULL;
}

const char *webrtc_offer(struct calls *c, struct call *call, unsigned ol,
			 const struct sdp_session *s,
			 const struct sdp_media *m, enum sdp_proto out,
			 const struct webrtc_opts *w)
{
	struct call_leg *from = &call->leg[ol], *to = &call->leg[1 - ol];
	struct stream *sf = call_stream(c, call, ol);
	struct stream *st = call_stream(c, call, 1 - ol);
	const char *ufrag = ufrag_of(s, m), *why;
	bool t_dtls = webrtc_proto_dtls(out);
	struct dtls_fp fp;

	if ((webrtc_proto_dtls(m->proto) || t_dtls) &&
	    w->dtls == WEBRTC_DTLS_OFF)
		return "DTLS=off with UDP/TLS media";
	if ((webrtc_proto_dtls(m->proto) || t_dtls) && !calls_dtls(c))
		return "DTLS-SRTP is not available";

	/* the offerer's side: what it is, and what the answer will say */
	if (webrtc_proto_dtls(m->proto)) {
		why = fp_pick(s, m, &fp);
		if (why)
			return why;
		dtls_on(c, call, ol);
		fp_learn(c, call, ol, &fp);
		from->setup = setup_answer(from, setup_of(s, m));
	}
	else {
		dtls_off(c, call, ol);
	}
	why = rufrag_set(from, ufrag);
	if (why)
		return why;
	from->ice = ufrag != NULL;
	if (from->ice && ice_creds(from))
		return "Cannot generate ICE credentials";
	from->mux_offered = m->rtcp_mux;
	from->mux = m->rtcp_mux && !(w->mux & WEBRTC_MUX_REJECT);
	snprintf(from->mid, sizeof(from->mid), "%s", m->mid ? m->mid : "");
	from->bundle = m->mid && group_has(s, "BUNDLE", m->mid);

	/* the recipient's */
	if (t_dtls) {
		dtls_on(c, call, 1 - ol);
		to->setup = w->dtls == WEBRTC_DTLS_PASSIVE ?
			SDP_SETUP_PASSIVE : SDP_SETUP_ACTPASS;
	}
	else {
		dtls_off(c, call, 1 - ol);
	}
	to->ice = w->ice == WEBRTC_ICE_FORCE || (w->ice == WEBRTC_ICE_DEFAULT &&
						 (ufrag || t_dtls));
	if (to->ice && ice_creds(to))
		return "Cannot generate ICE credentials";
	to->mux_req = (w->mux & WEBRTC_MUX_REQUIRE) != 0;
	to->mux = (m->rtcp_mux && !(w->mux & (WEBRTC_MUX_DEMUX |
					       WEBRTC_MUX_REJECT))) ||
		(w->mux & (WEBRTC_MUX_OFFER | WEBRTC_MUX_REQUIRE));
	if (m->mid)
		snprintf(to->mid, sizeof(to->mid), "%s", m->mid);
	else if (to->ice || to->dtls || w->generate_mid)
		snprintf(to->mid, sizeof(to->mid), "0");
	else
		to->mid[0] = '\0';
	to->bundle = (to->ice || to->dtls) && to->mid[0];

	cfg_fill(from, &sf->next);
	cfg_fill(to, &st->next);
	/* ICE: the peer is where its checks come from, not its c= */
	if (from->ice)
		sf->next.send = from->dir != SDP_DIR_SENDONLY &&
			from->dir != SDP_DIR_INACTIVE;
	return NULL;
}

const char *webrtc_answer(struct calls *c, struct call *call, unsigned ol,
			  const struct sdp_session *s,
			  const struct sdp_media *m, enum sdp_proto in,
			  enum sdp_proto out, const struct webrtc_opts *w)
{
	struct call_leg *to = &call->leg[ol], *from = &call->leg[1 - ol];
	struct stream *so = call_stream(c, call, ol);
	struct stream *sr = call_stream(c, call, 1 - ol);
	const char *ufrag = ufrag_of(s, m), *why;
	struct dtls_fp fp;

	/* the answerer's side */
	if (from->dtls && webrtc_proto_dtls(in)) {
		enum sdp_setup ps = setup_of(s, m);

		why = fp_pick(s, m, &fp);
		if (why)
			return why;
		fp_learn(c, call, 1 - ol, &fp);
		from->setup = setup_answer(from, ps);
		if (from->setup == SDP_SETUP_ACTIVE && !from->dc &&
		    from->dstate != DTLS_FAILED && conn_start(from, true))
			return "Cannot start DTLS";
	}
	else if (webrtc_proto_dtls(in)) {
		return "UDP/TLS answer to an offer without DTLS";
	}
	else {
		dtls_off(c, call, 1 - ol);
	}
	why = rufrag_set(from, ufrag);
	if (why)
		return why;
	from->mux = m->rtcp_mux || from->mux_req;

	/* the offerer's: the answer it gets */
	if (to->dtls && !webrtc_proto_dtls(out))
		dtls_off(c, call, ol);
	else if (!to->dtls && webrtc_proto_dtls(out))
		return "Cannot answer UDP/TLS to an offer without DTLS";
	if (w->ice == WEBRTC_ICE_REMOVE)
		to->ice = false;
	else if (w->ice == WEBRTC_ICE_FORCE)
		to->ice = true;
	if (to->ice && ice_creds(to))
		return "Cannot generate ICE credentials";
	to->mux = to->mux_offered && !(w->mux & WEBRTC_MUX_REJECT) &&
		(m->rtcp_mux || (w->mux & WEBRTC_MUX_ACCEPT) || to->ice ||
		 to->dtls);
	if (to->dtls && to->setup == SDP_SETUP_ACTIVE && !to->dc &&
	    to->dstate != DTLS_FAILED && conn_start(to, true))
		return "Cannot start DTLS";

	cfg_fill(to, &so->next);
	cfg_fill(from, &sr->next);
	so->next.rtcp_mux = to->mux;
	sr->next.rtcp_mux = from->mux;
	if (from->ice)
		sr->next.send = from->dir != SDP_DIR_SENDONLY &&
			from->dir != SDP_DIR_INACTIVE;
	return NULL;
}

static char *sdup(struct sdp_session *s, const char *p)
{
	return arena_strndup(s->arena, p, strlen(p));
}

int webrtc_sdp(struct calls *c, const struct call_leg *to,
	       struct sdp_session *s, struct sdp_media *m)
{
	const char *adv = calls_advertised(c);
	unsigned i, ncomp = to->mux ? 1 : 2;
	struct sdp_group **gp;

	sdp_ice_remove(s);
	s->fp = NULL;
	s->setup = SDP_SETUP_NONE;
	/* BUNDLE is ours to decide (one relayed m=); other groups stay */
	for (gp = &s->groups; *gp; ) {
		if (!strcmp((*gp)->semantics, "BUNDLE"))
			*gp = (*gp)->next;
		else
			gp = &(*gp)->next;
	}
	for (i = 0; i < s->nmedia; i++) {
		s->media[i]->fp = NULL;
		s->media[i]->setup = SDP_SETUP_NONE;
	}
	m->mid = to->mid[0] ? sdup(s, to->mid) : NULL;
	m->rtcp_mux = to->mux;
	if (to->mid[0] && !m->mid)
		return ENOMEM;

	if (to->bundle) {
		struct sdp_group *g = arena_alloc(s->arena, sizeof(*g));

		if (!g)
			return ENOMEM;
		g->next = s->groups;
		g->semantics = "BUNDLE";
		g->tags = m->mid;
		s->groups = g;
	}
	if (to->ice) {
		struct sdp_cand **pp = &m->ice.cands;

		s->ice_lite = true;
		m->ice.ufrag = to->ufrag;
		m->ice.pwd = to->pwd;
		for (i = 1; i <= ncomp; i++) {
			struct sdp_cand *cd = arena_alloc(s->arena,
							  sizeof(*cd));

			if (!cd)
				return ENOMEM;
			memset(cd, 0, sizeof(*cd));
			cd->foundation = "1";
			cd->component = (uint16_t)i;
			cd->transport = "UDP";
			cd->priority = HOST_PRIO(i);
			cd->addr = adv;
			cd->port = (uint16_t)(to->port + i - 1);
			cd->type = "host";
			*pp = cd;
			pp = &cd->next;
		}
	}
	if (to->dtls) {
		struct sdp_fp *f = arena_alloc(s->arena, sizeof(*f));

		if (!f)
			return ENOMEM;
		f->next = NULL;
		f->hash = "sha-256";
		f->value = dtls_fingerprint(calls_dtls(c));
		m->fp = f;
		m->setup = to->setup;
	}
	return 0;
}

void webrtc_input(struct calls *c, const struct relay_dgram *d)
{
	struct call_handle h = { d->st->call_idx, d->call_gen };
	struct call *call = call_get(c, h);
	struct call_leg *lg;

	if (!call)
		return;                       /* deleted meanwhile */
	lg = &call->leg[d->st->leg & 1];
	if (!lg->dtls || lg->dstate == DTLS_FAILED)
		return;
	lg->dpeer = d->src;
	if (!lg->dc) {
		/* only a ClientHello (handshake record, type 1) makes us
		 * a server; as the client we start at the answer */
		if (lg->setup == SDP_SETUP_ACTIVE || d->len < 26 ||
		    d->data[0] != 22 || d->data[13] != 1)
			return;
		if (conn_start(lg, false)) {
			log_warn("dtls", "[%s] leg %u: cannot start DTLS",
				 call->id, lg->idx);
			return;
		}
	}
	lg->dstate = dtls_conn_input(lg->dc, d->data, d->len);
}

static uint32_t applied_of(uint32_t worker, void *arg)
{
	struct calls *c = arg;

	return worker_applied(calls_worker(c, worker));
}

int webrtc_tick(struct calls *c)
{
	struct dtls *d = calls_dtls(c);

	if (!d)
		return -1;
	if (calls_worker(c, 0))
		dtls_release(d, applied_of, c);
	return dtls_tick(d);
}
