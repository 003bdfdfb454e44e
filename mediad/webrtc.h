/* mediad/webrtc.h  WebRTC legs: ICE-lite, DTLS-SRTP, rtcp-mux, mid/BUNDLE in offers and answers */
#ifndef MEDIAD_WEBRTC_H
#define MEDIAD_WEBRTC_H

#include <stdbool.h>

#include "sdp.h"

struct calls;
struct call;
struct call_leg;
struct relay_dgram;
struct arena;

/*
 * Control thread only. The NG handlers call webrtc_offer() and
 * webrtc_answer() after the SDES step (ng_call.c) to decide, per leg,
 * ICE-lite, DTLS-SRTP, rtcp-mux, a=mid and BUNDLE, and write the
 * stream config the worker needs (ICE credentials, DTLS forwarding);
 * webrtc_sdp() then writes our attributes into the SDP going to a leg.
 * DTLS records come from the workers' queues through webrtc_input();
 * webrtc_tick() runs the handshakes' timers. A handshake that ends
 * with verified keys gives the leg its SRTP sessions through
 * call_srtp_set()/call_commit(), the path SDES keys take; our last
 * flight (the Finished of a server) is held until the worker applied
 * that commit, and webrtc_tick() releases it (dtls.h).
 */

enum webrtc_ice {
	WEBRTC_ICE_DEFAULT = 0,        /* ICE toward a leg that spoke ICE
	                                  (or is UDP/TLS) */
	WEBRTC_ICE_REMOVE,
	WEBRTC_ICE_FORCE,
};

enum webrtc_dtls {
	WEBRTC_DTLS_DEFAULT = 0,
	WEBRTC_DTLS_OFF,               /* UDP/TLS media is an error */
	WEBRTC_DTLS_PASSIVE,           /* offer a=setup:passive */
};

/* NG "rtcp-mux" list values (rtpengine's meanings) */
#define WEBRTC_MUX_OFFER    0x01   /* offer it to the recipient */
#define WEBRTC_MUX_REQUIRE  0x02   /* offer it, and mux at once */
#define WEBRTC_MUX_DEMUX    0x04   /* do not pass the offerer's on */
#define WEBRTC_MUX_ACCEPT   0x08   /* accept the offerer's anyway */
#define WEBRTC_MUX_REJECT   0x10   /* refuse the offerer's */

struct webrtc_opts {
	enum webrtc_ice  ice;
	enum webrtc_dtls dtls;
	unsigned         mux;          /* WEBRTC_MUX_* */
	bool             generate_mid;
};

/* NG flag or rtcp-mux value <p>/<len> into <w>; false when it is none
 * of ours. */
bool webrtc_mux_value(struct webrtc_opts *w, const char *p, size_t len);

/*
 * Offer from leg <ol> in <s>/<m> (its SDP, before any rewrite), going
 * to the other leg as profile <out>. Returns NULL or the NG error.
 */
const char *webrtc_offer(struct calls *c, struct call *call, unsigned ol,
			 const struct sdp_session *s,
			 const struct sdp_media *m, enum sdp_proto out,
			 const struct webrtc_opts *w);
/* Answer from leg 1 - <ol> in <s>/<m>, whose own profile was <in>
 * (the SDES step already set <m>'s to the offerer's), going to the
 * offerer <ol> as profile <out>. */
const char *webrtc_answer(struct calls *c, struct call *call, unsigned ol,
			  const struct sdp_session *s,
			  const struct sdp_media *m, enum sdp_proto in,
			  enum sdp_proto out, const struct webrtc_opts *w);
/*
 * Rewrite <s>/<m> for leg <to>: every ICE, DTLS (a=fingerprint,
 * a=setup) and a=group attribute of the input goes; ours come in
 * when <to> is an ICE or DTLS leg; a=mid and a=rtcp-mux as decided.
 * Returns 0 or ENOMEM.
 */
int  webrtc_sdp(struct calls *c, const struct call_leg *to,
		struct sdp_session *s, struct sdp_media *m);

/* A DTLS datagram a worker queued. */
void webrtc_input(struct calls *c, const struct relay_dgram *d);
/* Handshake timers and held flights; ms until the next one is due,
 * -1: none pending. */
int  webrtc_tick(struct calls *c);

/* "none", "handshake", "up", "failed", "closed" for query. */
const char *webrtc_dtls_state(const struct call_leg *lg);

bool webrtc_proto_dtls(enum sdp_proto p);

#endif
