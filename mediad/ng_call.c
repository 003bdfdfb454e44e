/* mediad/ng_call.c  NG offer, answer, delete, query, list */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "bencode.h"
#include "log.h"
#include "shm.h"
#include "call.h"
#include "ngcmd.h"
#include "ng_call.h"
#include "webrtc.h"

#define LIST_LIMIT  32    /* rtpengine's default for "list" */

/* What one offer/answer/delete asks for, rtpengine's keys. */
struct ng_opts {
	const char *callid, *from_tag, *to_tag, *sdp;
	size_t callid_len, from_len, to_len, sdp_len;
	bool trust_address;
	bool asymmetric;
	bool strict;
	bool fatal;
	bool replace_origin;
	bool have_proto;
	enum sdp_proto proto;
	bool sdes_off;                /* SDES-off: no a=crypto toward it */
	unsigned sdes_no;             /* SDES-no-<suite>: SDES_SUITE_BIT()s */
	unsigned sdes_only;           /* SDES-only-<suite>; 0: all */
	int64_t delete_delay;         /* -1: not given */
	struct sdp_codec_ops ops;
	struct webrtc_opts w;         /* ICE, DTLS, rtcp-mux, generate-mid */
};

static const char *fmt_reason(struct arena *a, const char *fallback,
			      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static const char *fmt_reason(struct arena *a, const char *fallback,
			      const char *fmt, ...)
{
	const size_t sz = 256;
	char *s = arena_alloc(a, sz);
	va_list ap;

	if (!s)
		return fallback;
	va_start(ap, fmt);
	vsnprintf(s, sz, fmt, ap);
	va_end(ap);
	return s;
}

static const char *unsupported(struct arena *a, const char *key,
			       const struct bnode *v)
{
	int n = v->type == BN_STR ? (int)(v->v.s.len > 64 ? 64 : v->v.s.len)
		: 1;

	return fmt_reason(a, "Unsupported value",
			  "Unsupported value '%.*s' for key '%s'", n,
			  v->type == BN_STR ? v->v.s.p : "?", key);
}

static bool str_is(const struct bnode *n, const char *s)
{
	return n->type == BN_STR && bnode_str_eq(n, s);
}

/* "SDES-no-<suite>" / "SDES-only-<suite>" into <o>; false when <p> is
 * neither. A suite mediad does not know is taken and ignored. */
static bool sdes_flag(struct ng_opts *o, const char *p, size_t len)
{
	unsigned *set;
	size_t pl;

	if (len > 8 && !memcmp(p, "SDES-no-", 8)) {
		set = &o->sdes_no;
		pl = 8;
	}
	else if (len > 10 && !memcmp(p, "SDES-only-", 10)) {
		set = &o->sdes_only;
		pl = 10;
	}
	else
		return false;
	*set |= SDES_SUITE_BIT(sdes_suite_parse(p + pl, len - pl)) &
		SDES_SUITES_ALL;
	return true;
}

/* Read the keys of <req> into <o>. <need_sdp>: offer and answer. */
static const char *opts_parse(struct ng_opts *o, const struct bnode *req,
			      struct arena *a, bool need_sdp)
{
	const struct bnode *n, *it;
	struct sdp_err e;

	memset(o, 0, sizeof(*o));
	o->delete_delay = -1;

	if (!bnode_get_str(req, "call-id", &o->callid, &o->callid_len))
		return "No call-id in message";
	if (o->callid_len >= CALL_ID_MAX)
		return "Call-id too long";
	bnode_get_str(req, "from-tag", &o->from_tag, &o->from_len);
	bnode_get_str(req, "to-tag", &o->to_tag, &o->to_len);
	if (o->from_len >= CALL_TAG_MAX || o->to_len >= CALL_TAG_MAX)
		return "Tag too long";
	if (need_sdp) {
		if (!o->from_len)
			return "No from-tag in message";
		if (!bnode_get_str(req, "sdp", &o->sdp, &o->sdp_len))
			return "No SDP body in message";
	}

	n = bnode_get(req, "flags");
	if (n && n->type == BN_LIST) {
		for (it = n->v.c.head; it; it = it->next) {
			if (it->type != BN_STR)
				continue;
			if (str_is(it, "trust-address"))
				o->trust_address = true;
			else if (str_is(it, "asymmetric"))
				o->asymmetric = true;
			else if (str_is(it, "symmetric"))
				o->asymmetric = false;
			else if (str_is(it, "strict-source"))
				o->strict = true;
			else if (str_is(it, "fatal"))
				o->fatal = true;
			else if (str_is(it, "SDES-off"))
				o->sdes_off = true;
			else if (str_is(it, "generate-mid"))
				o->w.generate_mid = true;
			else if (it->v.s.len > 9 &&
				 !memcmp(it->v.s.p, "rtcp-mux-", 9) &&
				 webrtc_mux_value(&o->w, it->v.s.p,
						  it->v.s.len))
				;
			else if (sdes_flag(o, it->v.s.p, it->v.s.len))
				;
			else if (sdp_codec_ops_flag(&o->ops, it->v.s.p,
						    it->v.s.len) == E2BIG)
				return "Too many codec flags";
			/* other flags: ignored, as rtpengine does */
		}
	}

	n = bnode_get(req, "replace");
	if (n && n->type == BN_LIST) {
		for (it = n->v.c.head; it; it = it->next) {
			if (str_is(it, "origin"))
				o->replace_origin = true;
			else if (str_is(it, "session-connection") ||
				 str_is(it, "session connection") ||
				 str_is(it, "sdp-version") ||
				 str_is(it, "SDP-version"))
				;   /* c= is always ours; o= version kept */
			else
				return unsupported(a, "replace", it);
		}
	}

	n = bnode_get(req, "ICE");
	if (n && str_is(n, "remove"))
		o->w.ice = WEBRTC_ICE_REMOVE;
	else if (n && str_is(n, "force"))
		o->w.ice = WEBRTC_ICE_FORCE;
	else if (n && !str_is(n, "default") && !str_is(n, "optional"))
		return unsupported(a, "ICE", n);

	n = bnode_get(req, "DTLS");
	if (n && (str_is(n, "off") || str_is(n, "no") ||
		  str_is(n, "disable")))
		o->w.dtls = WEBRTC_DTLS_OFF;
	else if (n && str_is(n, "passive"))
		o->w.dtls = WEBRTC_DTLS_PASSIVE;
	else if (n)
		return unsupported(a, "DTLS", n);

	n = bnode_get(req, "rtcp-mux");
	if (n && n->type == BN_LIST) {
		for (it = n->v.c.head; it; it = it->next) {
			if (it->type != BN_STR ||
			    !webrtc_mux_value(&o->w, it->v.s.p, it->v.s.len))
				return unsupported(a, "rtcp-mux", it);
		}
	}
	else if (n && (n->type != BN_STR ||
		       !webrtc_mux_value(&o->w, n->v.s.p, n->v.s.len)))
		return unsupported(a, "rtcp-mux", n);

	n = bnode_get(req, "record-call");
	if (n && !str_is(n, "no") && !str_is(n, "off"))
		return unsupported(a, "record-call", n);

	n = bnode_get(req, "transport-protocol");
	if (n) {
		if (n->type != BN_STR ||
		    sdp_proto_parse(n->v.s.p, n->v.s.len, &o->proto) ||
		    (o->proto != SDP_PROTO_RTP_AVP &&
		     o->proto != SDP_PROTO_RTP_AVPF &&
		     o->proto != SDP_PROTO_RTP_SAVP &&
		     o->proto != SDP_PROTO_RTP_SAVPF &&
		     !webrtc_proto_dtls(o->proto)))
			return unsupported(a, "transport-protocol", n);
		o->have_proto = true;
	}

	n = bnode_get(req, "codec");
	if (n) {
		memset(&e, 0, sizeof(e));
		if (sdp_codec_ops_ng(&o->ops, n, &e))
			return fmt_reason(a, "Bad codec", "Bad codec: %s",
					  e.msg);
	}

	/* rtpengine reads both spellings; Kamailio sends both */
	n = bnode_get(req, "delete-delay");
	if (!n)
		n = bnode_get(req, "delete delay");
	if (n && n->type == BN_INT && n->v.i >= 0)
		o->delete_delay = n->v.i;
	else if (n && n->type == BN_STR) {
		char tmp[16];
		size_t l = n->v.s.len < 15 ? n->v.s.len : 15;

		memcpy(tmp, n->v.s.p, l);
		tmp[l] = '\0';
		o->delete_delay = strtoll(tmp, NULL, 10);
		if (o->delete_delay < 0)
			o->delete_delay = 0;
	}
	return NULL;
}

static void tag_set(char *dst, const char *p, size_t len)
{
	memcpy(dst, p, len);
	dst[len] = '\0';
}

static bool tag_is(const char *tag, const char *p, size_t len)
{
	return tag[0] && strlen(tag) == len && !memcmp(tag, p, len);
}

/* The first RTP m= still open (port not 0): the one mediad relays.
 * The others are refused (port 0): one audio stream per call. */
static struct sdp_media *media_pick(struct sdp_session *s)
{
	struct sdp_media *pick = NULL;
	unsigned i;

	for (i = 0; i < s->nmedia; i++) {
		struct sdp_media *m = s->media[i];

		if (!pick && m->rtp && m->port)
			pick = m;
		else if (m->port)
			sdp_media_ports_set(m, 0, 0);
	}
	return pick;
}

/* What leg <lg> announced in <m>: its address (c= may be the hold
 * address 0.0.0.0: then it gets nothing) and direction, into the
 * leg and into <cfg>. */
static void leg_learn(struct call_leg *lg, struct stream_cfg *cfg,
		      const struct sdp_session *s, const struct sdp_media *m,
		      const struct ng_opts *o)
{
	const struct sdp_conn *conn = sdp_media_conn(s, m);
	union stream_addr ad;
	char ip[64];
	size_t l;

	memset(&ad, 0, sizeof(ad));
	if (conn && conn->addr) {
		l = strcspn(conn->addr, "/");
		if (l >= sizeof(ip))
			l = sizeof(ip) - 1;
		memcpy(ip, conn->addr, l);
		ip[l] = '\0';
		if (inet_pton(AF_INET, ip, &ad.in.sin_addr) == 1 &&
		    ad.in.sin_addr.s_addr != 0)
			ad.in.sin_family = AF_INET;
		else if (inet_pton(AF_INET6, ip, &ad.in6.sin6_addr) == 1 &&
			 !IN6_IS_ADDR_UNSPECIFIED(&ad.in6.sin6_addr))
			ad.in6.sin6_family = AF_INET6;
	}

	lg->dir = sdp_media_dir(s, m);
	lg->have_sdp = true;
	memset(&cfg->sdp_rtp, 0, sizeof(cfg->sdp_rtp));
	memset(&cfg->sdp_rtcp, 0, sizeof(cfg->sdp_rtcp));
	if (ad.sa.sa_family) {
		uint16_t rp = m->rtcp.set ? m->rtcp.port :
			(uint16_t)(m->port + 1);

		cfg->sdp_rtp = ad;
		cfg->sdp_rtcp = ad;
		if (ad.sa.sa_family == AF_INET) {
			cfg->sdp_rtp.in.sin_port = htons(m->port);
			cfg->sdp_rtcp.in.sin_port = htons(rp);
		}
		else {
			cfg->sdp_rtp.in6.sin6_port = htons(m->port);
			cfg->sdp_rtcp.in6.sin6_port = htons(rp);
		}
	}
	lg->addr = cfg->sdp_rtp;
	cfg->send = ad.sa.sa_family && lg->dir != SDP_DIR_SENDONLY &&
		lg->dir != SDP_DIR_INACTIVE;
	cfg->rtcp_mux = m->rtcp_mux;
	cfg->asymmetric = o->asymmetric;
	cfg->strict = o->strict;
}

/* The rewrites every SDP we send gets: our address and the port that
 * faces its receiver, no ICE, the o= line, and the text. */
static const char *sdp_out(struct sdp_session *s, struct sdp_media *m,
			   struct calls *c, struct call_leg *to,
			   const struct ng_opts *o, struct arena *a,
			   struct benc *b)
{
	char *buf;
	size_t len;
	int err;

	if (webrtc_sdp(c, to, s, m))
		return "Out of memory";
	if (sdp_conn_set_all(s, calls_advertised(c)))
		return "Cannot rewrite c=";
	sdp_media_ports_set(m, to->port, (uint16_t)(to->port + 1));
	if (o->have_proto && sdp_media_proto_set(m, o->proto))
		return "Cannot set transport-protocol";
	if (sdp_origin_replace(s, o->replace_origin ? calls_advertised(c) :
			       NULL, &to->vs))
		return "Cannot rewrite o=";

	buf = arena_alloc(a, SDP_MAX_LEN);
	if (!buf)
		return "Out of memory";
	err = sdp_print(s, buf, SDP_MAX_LEN, &len);
	if (err)
		return err == ENOSPC ? "SDP too long" :
			"No codec left to offer";
	benc_kstr(b, "result", "ok");
	benc_kstrn(b, "sdp", buf, len);
	return NULL;
}

static const char *sdp_in(struct sdp_session **sp, const struct ng_opts *o,
			  struct arena *a, struct sdp_media **mp)
{
	struct sdp_err e;

	memset(&e, 0, sizeof(e));
	if (sdp_parse(sp, a, o->sdp, o->sdp_len, &e))
		return fmt_reason(a, "Failed to parse SDP",
				  "Failed to parse SDP: %s", e.msg);
	*mp = media_pick(*sp);
	if (!*mp)
		return "No RTP media stream in SDP";
	return NULL;
}

static void fmts_save(struct call *call, const struct sdp_media *m)
{
	unsigned i;

	call->nfmt = 0;
	for (i = 0; i < m->nfmt && call->nfmt < CALL_FMT_MAX; i++) {
		const struct sdp_fmt *f = &m->fmts[i];
		struct call_fmt *cf = &call->fmt[call->nfmt++];

		snprintf(cf->enc, sizeof(cf->enc), "%s", f->enc ? f->enc : "");
		snprintf(cf->params, sizeof(cf->params), "%s",
			 f->params ? f->params : "");
		cf->clock = f->clock;
		cf->channels = f->channels;
		cf->pt = f->pt;
		cf->flags = f->flags;
	}
}

/* The offer's media as sdp_codec_decide() wants it, in <a>. */
static int fmts_media(struct sdp_media *om, const struct call *call,
		      struct arena *a)
{
	struct sdp_fmt *f;
	unsigned i;

	memset(om, 0, sizeof(*om));
	om->type = "audio";
	om->rtp = true;
	f = arena_alloc(a, (call->nfmt ? call->nfmt : 1) * sizeof(*f));
	if (!f)
		return ENOMEM;
	for (i = 0; i < call->nfmt; i++) {
		const struct call_fmt *cf = &call->fmt[i];

		f[i].enc = cf->enc[0] ? cf->enc : NULL;
		f[i].params = cf->params[0] ? cf->params : NULL;
		f[i].clock = cf->clock;
		f[i].channels = cf->channels;
		f[i].pt = cf->pt;
		f[i].flags = cf->flags;
	}
	om->fmts = f;
	om->nfmt = call->nfmt;
	return 0;
}

static bool proto_srtp(enum sdp_proto p)
{
	return p == SDP_PROTO_RTP_SAVP || p == SDP_PROTO_RTP_SAVPF;
}

/*
 * The a=crypto line of <m> mediad takes: the first one whose suite and
 * options it does (sdes.h), in the offerer's order of preference (RFC
 * 4568 section 7.1). Every line of a known suite must be well formed.
 * Returns NULL and <k>, or the error for the NG reply.
 */
static const char *crypto_pick(const struct sdp_media *m,
			       struct sdes_key *k, struct arena *a)
{
	const struct sdp_crypto *cr;
	struct sdes_key t;
	char why[96];
	bool found = false;
	int err;

	for (cr = m->crypto; cr; cr = cr->next) {
		why[0] = '\0';
		err = sdes_parse(&t, cr->tag, cr->suite, cr->params, why,
				 sizeof(why));
		if (err == EINVAL)
			return fmt_reason(a, "Bad a=crypto",
					  "Bad a=crypto tag %u: %s", cr->tag,
					  why);
		if (err || found)
			continue;
		*k = t;
		found = true;
	}
	return found ? NULL : "No usable a=crypto in RTP/SAVP media "
		"(AES_CM_128_HMAC_SHA1_80 or _32, no MKI)";
}

/* Append a=crypto <k> (tag, suite, our key) to <m>, in <s>'s arena. */
static int crypto_add(struct sdp_session *s, struct sdp_media *m,
		      const struct sdes_key *k)
{
	struct sdp_crypto *cr, **pp;
	char *params;

	cr = arena_alloc(s->arena, sizeof(*cr));
	params = arena_alloc(s->arena, SDES_PARAMS_MAX);
	if (!cr || !params)
		return ENOMEM;
	if (sdes_params_print(k, params, SDES_PARAMS_MAX))
		return ENOSPC;
	cr->next = NULL;
	cr->tag = k->tag;
	cr->suite = sdes_suite_name(k->suite);
	cr->params = params;
	for (pp = &m->crypto; *pp; pp = &(*pp)->next)
		;
	*pp = cr;
	return 0;
}

/*
 * Sessions for leg <leg> of <call>: inbound from <peer> (its key),
 * outbound from <ours>. A session whose key did not change is kept
 * (the sessions' rollover counters stay right across re-INVITEs). On
 * error nothing changed.
 */
static const char *srtp_sessions(struct calls *c, struct call *call,
				 unsigned leg, const struct sdes_key *peer,
				 const struct sdes_key *ours)
{
	struct call_leg *lg = &call->leg[leg];
	struct stream *st = call_stream(c, call, leg);
	struct srtpx *in = NULL, *out = NULL;
	int err = 0;

	if (lg->have_peer && sdes_key_eq(&lg->peer, peer))
		in = st->next.srtp_in;
	if (lg->have_out && sdes_key_eq(&lg->out_key, ours))
		out = st->next.srtp_out;
	if (!in)
		err = sdes_session_new(&in, peer, true);
	if (!err && !out)
		err = sdes_session_new(&out, ours, false);
	if (!err)
		err = call_srtp_set(c, call, leg, true, in, out);
	if (err) {
		if (in != st->next.srtp_in)
			sdes_session_free(in);
		if (out != st->next.srtp_out)
			sdes_session_free(out);
		return err == EBUSY ? "Worker busy" :
			"Cannot create SRTP session";
	}
	lg->srtp = lg->have_peer = lg->have_out = true;
	lg->peer = *peer;
	lg->out_key = *ours;
	return NULL;
}

/* Leg <leg> speaks plain RTP from now on. */
static void srtp_plain(struct calls *c, struct call *call, unsigned leg)
{
	struct call_leg *lg = &call->leg[leg];

	lg->srtp = lg->have_peer = lg->have_out = false;
	lg->nours = 0;
	/* dropping sessions never needs a retired slot it cannot get:
	 * EBUSY here only delays the free to reclaim, so retry-free */
	if (call_srtp_set(c, call, leg, false, NULL, NULL)) {
		struct stream *st = call_stream(c, call, leg);

		st->next.srtp = false;   /* sessions stay until reclaim */
	}
}

/*
 * Offer from leg <ol> in media <m>, about to go to the other leg.
 * The offerer's side: with RTP/SAVP, its first usable a=crypto is its
 * key and mediad's answer will carry a fresh key of ours, same tag and
 * suite; both sessions exist from now on (the offerer may send at
 * once). The other side gets the profile of transport-protocol, or
 * the offerer's (rtpengine's default); an SRTP one gets our a=crypto
 * lines, _80 first, one fresh key each (kept across re-offers), and
 * its sessions come with the answer.
 */
static const char *srtp_offer(struct calls *c, struct call *call,
			      unsigned ol, struct sdp_session *s,
			      struct sdp_media *m, const struct ng_opts *o,
			      struct arena *a)
{
	static const enum sdes_suite order[CALL_SDES_MAX] = {
		SDES_AES_CM_128_HMAC_SHA1_80, SDES_AES_CM_128_HMAC_SHA1_32,
	};
	struct call_leg *from = &call->leg[ol], *to = &call->leg[1 - ol];
	enum sdp_proto out = o->have_proto ? o->proto : m->proto;
	struct sdes_key ours[CALL_SDES_MAX];
	unsigned i, j, n = 0;
	const char *why;

	from->proto = m->proto;
	if (proto_srtp(m->proto)) {
		struct sdes_key k, mine;

		why = crypto_pick(m, &k, a);
		if (why)
			return why;
		if (from->have_out && from->out_key.suite == k.suite)
			mine = from->out_key;
		else if (sdes_keygen(&mine, k.suite, k.tag))
			return "Cannot generate an SRTP key";
		mine.tag = k.tag;
		why = srtp_sessions(c, call, ol, &k, &mine);
		if (why)
			return why;
		from->ours[0] = mine;
		from->nours = 1;
	}
	else if (from->srtp) {
		srtp_plain(c, call, ol);
	}

	sdp_crypto_remove(s, m);
	if (!proto_srtp(out)) {
		if (to->srtp)
			srtp_plain(c, call, 1 - ol);
		return NULL;
	}
	if (o->sdes_off)
		return "SDES-off leaves RTP/SAVP without keys";
	for (i = 0; i < CALL_SDES_MAX; i++) {
		unsigned bit = SDES_SUITE_BIT(order[i]);

		if ((o->sdes_no & bit) || (o->sdes_only && !(o->sdes_only &
							       bit)))
			continue;
		for (j = 0; j < to->nours; j++) {
			if (to->ours[j].suite == order[i])
				break;
		}
		if (j < to->nours)
			ours[n] = to->ours[j];
		else if (to->have_out && to->out_key.suite == order[i])
			ours[n] = to->out_key;   /* the agreed one */
		else if (sdes_keygen(&ours[n], order[i], 0))
			return "Cannot generate an SRTP key";
		ours[n].tag = n + 1;
		++n;
	}
	if (!n)
		return "SDES flags leave no crypto suite to offer";
	for (i = 0; i < n; i++) {
		if (crypto_add(s, m, &ours[i]))
			return "Out of memory";
	}
	memcpy(to->ours, ours, sizeof(ours));
	to->nours = (uint8_t)n;
	if (!to->srtp) {
		/* nothing is relayed to or from it until its answer */
		struct stream *st = call_stream(c, call, 1 - ol);

		to->srtp = true;
		to->have_peer = to->have_out = false;
		if (call_srtp_set(c, call, 1 - ol, true, NULL, NULL))
			st->next.srtp = true;
	}
	return NULL;
}

/*
 * Answer media <m> from the answerer (leg 1 - <ol>), about to go to
 * the offerer <ol>. The answerer's side: RTP/SAVP must pick one of the
 * a=crypto lines we offered it (same tag and suite): its key and that
 * one of ours make its sessions. The offerer's side gets its own
 * offer's profile (or transport-protocol's) and, when that is SRTP,
 * the one a=crypto line with our key for the suite it offered first.
 */
static const char *srtp_answer(struct calls *c, struct call *call,
			       unsigned ol, struct sdp_session *s,
			       struct sdp_media *m, const struct ng_opts *o,
			       struct arena *a)
{
	struct call_leg *to = &call->leg[ol], *from = &call->leg[1 - ol];
	enum sdp_proto out = o->have_proto ? o->proto : to->proto;
	const char *why;
	unsigned j;

	if (proto_srtp(m->proto)) {
		struct sdes_key k;

		if (!from->srtp || !from->nours)
			return "RTP/SAVP answer to an offer without a=crypto";
		why = crypto_pick(m, &k, a);
		if (why)
			return why;
		for (j = 0; j < from->nours; j++) {
			if (from->ours[j].tag == k.tag &&
			    from->ours[j].suite == k.suite)
				break;
		}
		if (j == from->nours)
			return fmt_reason(a, "Bad a=crypto", "a=crypto tag %u "
					  "in the answer matches no offered "
					  "one", k.tag);
		why = srtp_sessions(c, call, 1 - ol, &k, &from->ours[j]);
		if (why)
			return why;
		from->ours[0] = from->ours[j];
		from->nours = 1;
	}
	else if (from->srtp) {
		srtp_plain(c, call, 1 - ol);
	}

	sdp_crypto_remove(s, m);
	if (out != SDP_PROTO_OTHER && sdp_media_proto_set(m, out))
		return "Cannot set transport-protocol";
	if (!proto_srtp(out)) {
		if (to->srtp)
			srtp_plain(c, call, ol);
		return NULL;
	}
	if (!to->srtp || !to->nours)
		return "Cannot answer RTP/SAVP to an offer without a=crypto";
	if (crypto_add(s, m, &to->ours[0]))
		return "Out of memory";
	return NULL;
}

const char *ng_offer(struct ngcmd *nc, const struct bnode *req,
		     struct arena *a, struct benc *b)
{
	struct calls *c = nc->calls;
	struct sdp_session *s;
	struct sdp_media *m;
	struct sdp_err e;
	struct ng_opts o;
	struct call *call;
	struct stream *so;
	const char *why;
	bool fresh = false;
	unsigned ol;
	int err;

	if (!c)
		return "No media relay configured";
	why = opts_parse(&o, req, a, true);
	if (why)
		return why;
	why = sdp_in(&s, &o, a, &m);
	if (why)
		return why;

	call = calls_find(c, o.callid, o.callid_len);
	if (!call) {
		err = call_new(c, o.callid, o.callid_len, &call);
		if (err == ENOSPC)
			return "Ran out of ports";
		if (err)
			return fmt_reason(a, "Cannot create call",
					  "Cannot create call: %s",
					  strerror(err));
		fresh = true;
		tag_set(call->leg[0].tag, o.from_tag, o.from_len);
	}
	call->delete_at_ms = 0;    /* a new offer revives a pending delete */

	if (tag_is(call->leg[1].tag, o.from_tag, o.from_len))
		ol = 1;
	else {
		ol = 0;
		tag_set(call->leg[0].tag, o.from_tag, o.from_len);
	}

	if (call_edit(c, call)) {
		why = "Worker busy";
		goto fail;
	}
	memset(&e, 0, sizeof(e));
	if (sdp_codec_apply(s, m, &o.ops, &e)) {
		why = fmt_reason(a, "Codec error", "Codec error: %s", e.msg);
		goto fail;
	}
	fmts_save(call, m);

	so = call_stream(c, call, ol);
	leg_learn(&call->leg[ol], &so->next, s, m, &o);
	if (fresh) {
		struct stream *sr = call_stream(c, call, 1 - ol);

		so->next.pt_in = so->next.pt_out = STREAM_PT_ANY;
		so->next.te_in = so->next.te_out = STREAM_PT_ANY;
		sr->next.pt_in = sr->next.pt_out = STREAM_PT_ANY;
		sr->next.te_in = sr->next.te_out = STREAM_PT_ANY;
		sr->next.asymmetric = o.asymmetric;
		sr->next.strict = o.strict;
	}
	call->offerer = (uint8_t)ol;
	why = srtp_offer(c, call, ol, s, m, &o, a);
	if (why)
		goto fail;
	why = webrtc_offer(c, call, ol, s, m, o.have_proto ? o.proto :
			   m->proto, &o.w);
	if (why)
		goto fail;

	why = sdp_out(s, m, c, &call->leg[1 - ol], &o, a, b);
	if (why)
		goto fail;
	if (call_commit(c, call)) {
		why = "Worker busy";
		goto fail;
	}
	log_debug("ng", "[%s] offer: ports %u/%u", call->id,
		  call->leg[0].port, call->leg[1].port);
	return NULL;
 fail:
	if (fresh)
		call_delete(c, call);
	return why;
}

static uint8_t pt8(int pt)
{
	return pt < 0 || pt > 127 ? STREAM_PT_ANY : (uint8_t)pt;
}

/* The relay's half of <plan> for packets from side <from> to <to>. */
static void plan_apply(struct stream_cfg *cfg, const struct sdp_codec_plan *p,
		       const struct sdp_codec_side *from,
		       const struct sdp_codec_side *to)
{
	cfg->pt_in = pt8(from->pt);
	cfg->pt_out = pt8(to->pt);
	cfg->te_in = pt8(from->te_pt);
	cfg->te_out = pt8(to->te_pt);
	cfg->clock = from->clock;
	cfg->xc = STREAM_XC_NONE;
	if (p->mode == SDP_CODEC_TRANSCODE)
		cfg->xc = !strcasecmp(from->enc, "PCMU") ? STREAM_XC_U2A :
			STREAM_XC_A2U;
}

const char *ng_answer(struct ngcmd *nc, const struct bnode *req,
		      struct arena *a, struct benc *b)
{
	struct calls *c = nc->calls;
	struct sdp_codec_plan plan;
	struct sdp_session *s;
	struct sdp_media *m, om;
	struct stream *so, *sr;
	enum sdp_proto aproto;
	struct sdp_err e;
	struct ng_opts o;
	struct call *call;
	const char *why;
	unsigned ol;

	if (!c)
		return "No media relay configured";
	why = opts_parse(&o, req, a, true);
	if (why)
		return why;
	call = calls_find(c, o.callid, o.callid_len);
	if (!call)
		return "Unknown call-id";
	why = sdp_in(&s, &o, a, &m);
	if (why)
		return why;

	if (tag_is(call->leg[0].tag, o.from_tag, o.from_len))
		ol = 0;
	else if (tag_is(call->leg[1].tag, o.from_tag, o.from_len))
		ol = 1;
	else
		ol = call->offerer;
	if (o.to_len)
		tag_set(call->leg[1 - ol].tag, o.to_tag, o.to_len);

	if (fmts_media(&om, call, a))
		return "Out of memory";
	memset(&e, 0, sizeof(e));
	if (sdp_codec_decide(&plan, &om, m, &e))
		return fmt_reason(a, "Codec error", "Codec error: %s", e.msg);
	if (sdp_codec_answer(s, m, &om, &plan))
		return "Cannot rewrite the answer's codecs";
	if (call_edit(c, call))
		return "Worker busy";

	so = call_stream(c, call, ol);
	sr = call_stream(c, call, 1 - ol);
	leg_learn(&call->leg[1 - ol], &sr->next, s, m, &o);
	plan_apply(&so->next, &plan, &plan.a, &plan.b);
	plan_apply(&sr->next, &plan, &plan.b, &plan.a);
	aproto = m->proto;            /* srtp_answer() sets the offerer's */
	why = srtp_answer(c, call, ol, s, m, &o, a);
	if (why)
		return why;
	why = webrtc_answer(c, call, ol, s, m, aproto, o.have_proto ? o.proto :
			    call->leg[ol].proto, &o.w);
	if (why)
		return why;

	why = sdp_out(s, m, c, &call->leg[ol], &o, a, b);
	if (why)
		return why;
	call->answered = true;
	call_set_transcoding(c, call, plan.mode == SDP_CODEC_TRANSCODE);
	if (call_commit(c, call))
		return "Worker busy";
	log_debug("ng", "[%s] answer: %s", call->id,
		  plan.mode == SDP_CODEC_TRANSCODE ? "transcode" : "pass");
	return NULL;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *ng_delete(struct ngcmd *nc, const struct bnode *req,
		      struct arena *a, struct benc *b)
{
	struct calls *c = nc->calls;
	struct ng_opts o;
	struct call *call;
	const char *why;
	int64_t delay;

	if (!c)
		return "No media relay configured";
	why = opts_parse(&o, req, a, false);
	if (why)
		return why;
	call = calls_find(c, o.callid, o.callid_len);
	if (!call) {
		/* rtpengine: ok with a warning, an error only with the
		 * "fatal" flag (a retransmitted delete is no failure) */
		if (o.fatal)
			return "Unknown call-id";
		benc_kstr(b, "result", "ok");
		benc_kstr(b, "warning", "Call-ID not found or tags didn't "
			  "match");
		return NULL;
	}

	/* by from-tag or to-tag alike: a two-party call goes whole */
	delay = o.delete_delay >= 0 ? o.delete_delay :
		(int64_t)calls_delete_delay(c);
	if (delay == 0)
		call_delete(c, call);
	else
		call_delete_at(c, call, mono_ms() + (uint64_t)delay * 1000);
	benc_kstr(b, "result", "ok");
	return NULL;
}

static void addr_dict(struct benc *b, const char *key,
		      const union stream_addr *ad, uint16_t port,
		      const char *ip)
{
	char buf[INET6_ADDRSTRLEN] = "";

	benc_kdict(b, key);
	if (ip) {
		benc_kstr(b, "family", strchr(ip, ':') ? "IPv6" : "IPv4");
		benc_kstr(b, "address", ip);
		benc_kint(b, "port", port);
	}
	else if (ad->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &ad->in.sin_addr, buf, sizeof(buf));
		benc_kstr(b, "family", "IPv4");
		benc_kstr(b, "address", buf);
		benc_kint(b, "port", ntohs(ad->in.sin_port));
	}
	else if (ad->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &ad->in6.sin6_addr, buf, sizeof(buf));
		benc_kstr(b, "family", "IPv6");
		benc_kstr(b, "address", buf);
		benc_kint(b, "port", ntohs(ad->in6.sin6_port));
	}
	benc_end(b);
}

static uint64_t ld64(const _Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

const char *ng_query(struct ngcmd *nc, const struct bnode *req,
		     struct arena *a, struct benc *b)
{
	struct calls *c = nc->calls;
	const struct shm_session *ss;
	uint64_t pk[2] = { 0, 0 }, by[2] = { 0, 0 }, lo[2] = { 0, 0 };
	uint32_t ji[2] = { 0, 0 };
	int64_t created;
	struct ng_opts o;
	struct call *call;
	const char *why;
	unsigned i;

	if (!c)
		return "No media relay configured";
	why = opts_parse(&o, req, a, false);
	if (why)
		return why;
	call = calls_find(c, o.callid, o.callid_len);
	if (!call)
		return "Unknown call-id";

	ss = call_session(c, call);
	for (i = 0; ss && i < 2; i++) {
		pk[i] = ld64(&ss->packets[i]);
		by[i] = ld64(&ss->bytes[i]);
		lo[i] = ld64(&ss->lost[i]);
		ji[i] = atomic_load_explicit(&ss->jitter_us[i],
					     memory_order_relaxed);
	}

	created = (int64_t)time(NULL) - (int64_t)((mono_ms() -
		call->created_ms) / 1000);
	benc_kstr(b, "result", "ok");
	benc_kint(b, "created", created);
	benc_kdict(b, "totals");
	benc_kdict(b, "RTP");
	benc_kint(b, "packets", (int64_t)(pk[0] + pk[1]));
	benc_kint(b, "bytes", (int64_t)(by[0] + by[1]));
	benc_kint(b, "errors", 0);
	benc_end(b);
	benc_kdict(b, "RTCP");
	benc_kint(b, "packets", 0);
	benc_kint(b, "bytes", 0);
	benc_kint(b, "errors", 0);
	benc_end(b);
	benc_end(b);

	benc_kdict(b, "tags");
	for (i = 0; i < 2; i++) {
		const struct call_leg *lg = &call->leg[i];

		if (!lg->tag[0])
			continue;
		benc_kdict(b, lg->tag);
		benc_kstr(b, "tag", lg->tag);
		benc_kint(b, "created", created);
		if (call->leg[1 - i].tag[0])
			benc_kstr(b, "in dialogue with", call->leg[1 - i].tag);
		benc_klist(b, "medias");
		benc_dict(b);
		benc_kint(b, "index", 1);
		benc_kstr(b, "type", "audio");
		benc_kstr(b, "protocol", lg->proto ?
			  sdp_proto_name(lg->proto) : "RTP/AVP");
		benc_klist(b, "streams");
		benc_dict(b);
		benc_kint(b, "local port", lg->port);
		/* rtpengine's "endpoint" is the learned one: the latched
		 * peer once there is one, the SDP address before */
		{
			union stream_addr la;

			if (c && stream_latched(call_stream(c, call, i), &la))
				addr_dict(b, "endpoint", &la, 0, NULL);
			else
				addr_dict(b, "endpoint", &lg->addr, 0, NULL);
		}
		if (lg->ice)
			benc_kstr(b, "ICE", "lite");
		if (lg->dtls) {
			benc_kstr(b, "DTLS", webrtc_dtls_state(lg));
			if (lg->dc && lg->dstate == DTLS_FAILED)
				benc_kstr(b, "DTLS error",
					  dtls_conn_why(lg->dc));
		}
		addr_dict(b, "advertised endpoint", NULL, lg->port,
			  calls_advertised(c));
		benc_kdict(b, "stats");
		benc_kint(b, "packets", (int64_t)pk[i]);
		benc_kint(b, "bytes", (int64_t)by[i]);
		benc_kint(b, "errors", 0);
		benc_end(b);
		benc_kint(b, "lost", (int64_t)lo[i]);
		benc_kint(b, "jitter", ji[i] / 1000);   /* ms */
		benc_kint(b, "jitter_us", ji[i]);
		benc_end(b);
		benc_end(b);
		benc_end(b);
		benc_end(b);
		benc_end(b);
	}
	benc_end(b);
	return NULL;
}

const char *ng_list(struct ngcmd *nc, const struct bnode *req,
		    struct arena *a, struct benc *b)
{
	struct calls *c = nc->calls;
	const struct bnode *n = bnode_get(req, "limit");
	int64_t limit = LIST_LIMIT;
	struct call *call;
	uint32_t it = 0;

	(void)a;
	if (!c)
		return "No media relay configured";
	if (n && n->type == BN_INT && n->v.i >= 0)
		limit = n->v.i;
	benc_kstr(b, "result", "ok");
	benc_klist(b, "calls");
	while (limit-- > 0 && (call = calls_next(c, &it)))
		benc_str(b, call->id);
	benc_end(b);
	return NULL;
}
