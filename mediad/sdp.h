/* mediad/sdp.h  Strict SDP parser, writer and offer/answer rewrites for NG */
#ifndef MEDIAD_SDP_H
#define MEDIAD_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct bnode;

/*
 * An SDP body (RFC 8866) parsed into the NG command's arena. Unlike most
 * modules the structs are public: a session is a value that the offer
 * and answer handlers read directly. Change it through the sdp_*
 * helpers, which keep the pieces consistent (a format and its rtpmap,
 * a port and its a=rtcp) and copy what they store into the arena.
 *
 * Lifetime: everything, strings included, lives in the arena given to
 * sdp_parse() (or is a string constant); nothing points into the input
 * buffer. Nothing outlives arena_reset(). One session is used by one
 * thread at a time.
 *
 * Strings are NUL-terminated. A NULL pointer means "absent", an empty
 * string means "present but empty". Attributes that this file does not
 * interpret are kept verbatim, in order, in the <attrs> list of their
 * level. sdp_print() writes the known ones in a fixed order followed by
 * the unknown ones, so parse -> print -> parse -> print is stable.
 */

#define SDP_MAX_LEN     65536  /* bytes of SDP text */
#define SDP_MAX_LINES   1024
#define SDP_MAX_MEDIA   16     /* m= sections */
#define SDP_MAX_FMTS    64     /* per m=: recent Chrome video offers ~40 */

enum sdp_proto {
	SDP_PROTO_OTHER = 0,        /* see <proto_name> */
	SDP_PROTO_RTP_AVP,
	SDP_PROTO_RTP_SAVP,
	SDP_PROTO_RTP_AVPF,
	SDP_PROTO_RTP_SAVPF,
	SDP_PROTO_UDP_TLS_RTP_SAVP,
	SDP_PROTO_UDP_TLS_RTP_SAVPF,
};

enum sdp_dir {
	SDP_DIR_NONE = 0,           /* no attribute at this level */
	SDP_DIR_SENDRECV,
	SDP_DIR_SENDONLY,
	SDP_DIR_RECVONLY,
	SDP_DIR_INACTIVE,
};

enum sdp_setup {
	SDP_SETUP_NONE = 0,
	SDP_SETUP_ACTIVE,
	SDP_SETUP_PASSIVE,
	SDP_SETUP_ACTPASS,
	SDP_SETUP_HOLDCONN,
};

/* A parse or rewrite error, for the NG reply's error-reason. */
struct sdp_err {
	unsigned line;              /* 0: not about one line */
	char     msg[160];          /* "line 5: m= port 'x' is not a number" */
};

struct sdp_line {                   /* a line kept verbatim */
	struct sdp_line *next;
	const char *text;
};

struct sdp_attr {                   /* a=<name>[:<value>] not interpreted */
	struct sdp_attr *next;
	const char *name;
	const char *value;          /* NULL: property attribute */
};

struct sdp_conn {                   /* c=<nettype> <addrtype> <addr> */
	const char *nettype;
	const char *addrtype;
	const char *addr;           /* as written, "/ttl" included */
};

struct sdp_bw {                     /* b=<type>:<value> */
	struct sdp_bw *next;
	const char *type;
	uint32_t value;
};

struct sdp_time {                   /* t=<start> <stop>, then its r= lines */
	struct sdp_time *next;
	uint64_t start;
	uint64_t stop;
	struct sdp_line *repeats;
};

struct sdp_origin {                 /* o= */
	const char *username;
	const char *sess_id;        /* digits, kept as text */
	uint64_t    version;
	const char *nettype;
	const char *addrtype;
	const char *addr;
};

struct sdp_cand {                   /* a=candidate (RFC 8839 section 5.1) */
	struct sdp_cand *next;
	const char *foundation;
	uint32_t    priority;
	uint16_t    component;
	uint16_t    port;
	const char *transport;
	const char *addr;
	const char *type;           /* host, srflx, prflx, relay */
	const char *ext;            /* "raddr ... generation 0", or NULL */
};

struct sdp_ice {                    /* ICE attributes of one level */
	const char *ufrag;
	const char *pwd;
	const char *options;
	struct sdp_cand *cands;     /* media level only */
	bool eoc;                   /* a=end-of-candidates */
};

struct sdp_crypto {                 /* a=crypto (RFC 4568) */
	struct sdp_crypto *next;
	uint32_t    tag;
	const char *suite;
	const char *params;         /* key params and session params */
};

struct sdp_fp {                     /* a=fingerprint (RFC 8122) */
	struct sdp_fp *next;
	const char *hash;
	const char *value;
};

struct sdp_ssrc {                   /* a=ssrc (RFC 5576) */
	struct sdp_ssrc *next;
	uint32_t    id;
	const char *attr;           /* "cname:x" */
};

struct sdp_group {                  /* a=group (RFC 5888) */
	struct sdp_group *next;
	const char *semantics;
	const char *tags;           /* "0 1", or NULL */
};

#define SDP_FMT_RTPMAP     0x01     /* an a=rtpmap line is written */
#define SDP_FMT_MASKED     0x02     /* accepted here, not offered on */
#define SDP_FMT_TRANSCODE  0x04     /* added: the relay produces it */

/* One RTP payload format of an m= line, with its attributes. */
struct sdp_fmt {
	const char *enc;            /* NULL: dynamic PT without rtpmap */
	const char *params;         /* a=fmtp value, or NULL */
	struct sdp_line *fb;        /* a=rtcp-fb values after "<pt> " */
	uint32_t    clock;
	uint16_t    channels;       /* 0: not given (one) */
	uint8_t     pt;
	uint8_t     flags;          /* SDP_FMT_* */
};

struct sdp_rtcp {                   /* a=rtcp (RFC 3605) */
	bool        set;
	uint16_t    port;
	const char *nettype;        /* NULL: port only */
	const char *addrtype;
	const char *addr;
};

struct sdp_media {
	const char     *type;       /* audio, video, application, ... */
	const char     *proto_name; /* as written */
	enum sdp_proto  proto;
	bool            rtp;        /* formats are RTP payload types */
	uint16_t        port;
	uint16_t        nports;     /* 0: no "/<n>" */
	unsigned        line;       /* line of the m= (for errors) */

	struct sdp_fmt *fmts;       /* RTP: in m= order */
	unsigned        nfmt;
	const char     *fmt_text;   /* not RTP: the format list verbatim */

	const char     *info;       /* i= */
	const char     *key;        /* k= */
	struct sdp_conn *conn;      /* NULL: session level applies */
	struct sdp_bw  *bw;

	const char     *mid;
	uint32_t        ptime;      /* ms, 0: absent */
	uint32_t        maxptime;
	enum sdp_dir    dir;        /* NONE: the session's applies */
	bool            rtcp_mux;
	struct sdp_rtcp rtcp;
	struct sdp_ice  ice;
	struct sdp_crypto *crypto;
	struct sdp_fp  *fp;
	enum sdp_setup  setup;
	struct sdp_ssrc *ssrc;
	struct sdp_attr *attrs;     /* unknown, in order */
};

struct sdp_session {
	struct arena     *arena;    /* where helpers allocate */
	struct sdp_origin origin;
	const char       *name;     /* s= */
	const char       *info;     /* i= */
	const char       *uri;      /* u= */
	struct sdp_line  *emails;   /* e= */
	struct sdp_line  *phones;   /* p= */
	struct sdp_conn  *conn;
	struct sdp_bw    *bw;
	struct sdp_time  *times;
	const char       *zone;     /* z= */
	const char       *key;      /* k= */

	enum sdp_dir      dir;
	bool              ice_lite;
	struct sdp_ice    ice;
	struct sdp_fp    *fp;
	enum sdp_setup    setup;
	struct sdp_group *groups;
	struct sdp_attr  *attrs;    /* unknown, in order */

	struct sdp_media *media[SDP_MAX_MEDIA];
	unsigned          nmedia;
};

/*
 * Parse <len> bytes of SDP at <buf> into a session allocated from <a>.
 * Lines end in CRLF or LF; the last may lack one. Strict: line order
 * and multiplicity per RFC 8866 section 5, every known field checked,
 * no NUL or control bytes, each m= covered by a c= unless rejected
 * (port 0). Never reads outside <buf>/<len>.
 * Returns 0 and *sessp, or EINVAL (malformed), E2BIG (a limit above)
 * or ENOMEM (arena full); <e> (optional) then says which line and why.
 * On error the arena may hold a partial parse: reset it.
 */
int sdp_parse(struct sdp_session **sessp, struct arena *a,
	      const char *buf, size_t len, struct sdp_err *e);

/*
 * Write <s> as SDP into <buf> of <size> bytes, NUL-terminated, CRLF
 * line ends, in canonical order: v o s i u e p c b t r z k a..., then
 * each m= with i c b k a.... Formats flagged SDP_FMT_MASKED are left
 * out. Returns 0 and the length (without the NUL) in *lenp, ENOSPC
 * when <buf> is too small (its content is then undefined), or EINVAL
 * when an RTP m= would have no format left to write.
 */
int sdp_print(const struct sdp_session *s, char *buf, size_t size,
	      size_t *lenp);

/* Name of <p> as written in m= lines ("RTP/AVP"), "" for OTHER. */
const char *sdp_proto_name(enum sdp_proto p);
/* Parse a transport-protocol value; EINVAL when not one of the enum. */
int sdp_proto_parse(const char *p, size_t len, enum sdp_proto *protop);
/* Attribute name of <d> ("sendonly"), NULL for NONE. */
const char *sdp_dir_name(enum sdp_dir d);
/* Parse a direction name; EINVAL when unknown. */
int sdp_dir_parse(const char *p, size_t len, enum sdp_dir *dirp);
/* Value of a=setup for <st> ("actpass"), NULL for NONE. */
const char *sdp_setup_name(enum sdp_setup st);

/* Direction in effect for <m>: its own, else the session's, else sendrecv. */
enum sdp_dir sdp_media_dir(const struct sdp_session *s,
			   const struct sdp_media *m);
/* Connection in effect for <m>: its own, else the session's (or NULL). */
const struct sdp_conn *sdp_media_conn(const struct sdp_session *s,
				      const struct sdp_media *m);
/* Format <pt> of <m>, or NULL. */
struct sdp_fmt *sdp_fmt_find(const struct sdp_media *m, unsigned pt);
/* True when <f>'s encoding is <enc> (case-insensitive, RFC 4855). */
bool sdp_fmt_is(const struct sdp_fmt *f, const char *enc);

/*
 * Rewrites. Each works on the parsed struct, copies what it keeps into
 * <s>'s arena and returns 0, EINVAL (bad argument: the session is
 * unchanged) or ENOMEM (arena full: the session may be half-changed,
 * reject the command). <m> always belongs to <s>.
 */

/*
 * Set the c= of <m> (NULL: the session level) to <addr>, an IPv4 or
 * IPv6 literal; nettype becomes IN and addrtype IP4 or IP6. Creates the
 * line when the level had none.
 */
int sdp_conn_set(struct sdp_session *s, struct sdp_media *m,
		 const char *addr);
/*
 * Point every c= of <s> at <addr>: the session one, created if absent,
 * and each media one that exists (the others inherit).
 */
int sdp_conn_set_all(struct sdp_session *s, const char *addr);

/*
 * Set the m= port of <m> to <port> and its a=rtcp to <rtcp_port>, in
 * the short form (same address as c=, RFC 3605). The a=rtcp goes away
 * when <m> has a=rtcp-mux or <rtcp_port> is 0.
 */
void sdp_media_ports_set(struct sdp_media *m, uint16_t port,
			 uint16_t rtcp_port);
/*
 * Set the transport protocol of <m> (NG transport-protocol); EINVAL for
 * SDP_PROTO_OTHER or a non-RTP m= (its formats are not payload types).
 */
int sdp_media_proto_set(struct sdp_media *m, enum sdp_proto proto);
/* Set the direction of <m> (NULL: the session default). */
void sdp_dir_set(struct sdp_session *s, struct sdp_media *m, enum sdp_dir d);

/*
 * What one side remembers of the last SDP it was sent, so re-offers
 * keep the o= line's version honest (RFC 3264 section 8): start it
 * zeroed, keep it with the call.
 */
struct sdp_vstate {
	uint64_t hash;              /* FNV-1a of the body without o= */
	uint64_t version;           /* sess-version last sent */
	bool     valid;
};

/*
 * Replace the o= address with <addr> (NG replace: origin; NULL keeps
 * it). With a valid <vs>, sess-version becomes the one last sent, plus
 * one when anything besides the o= line differs from that SDP;
 * otherwise the offerer's version is kept. <vs> is then updated. Call
 * it last, after every other rewrite.
 */
int sdp_origin_replace(struct sdp_session *s, const char *addr,
		       struct sdp_vstate *vs);

/*
 * Remove every ICE attribute (NG ICE=remove): ufrag, pwd, options,
 * candidates, end-of-candidates, ice-lite and the unknown ICE ones
 * (remote-candidates, ice-mismatch, ice-pacing), at every level.
 */
void sdp_ice_remove(struct sdp_session *s);
/* Remove every a=crypto of <m> (NULL: of all media). */
void sdp_crypto_remove(struct sdp_session *s, struct sdp_media *m);
/* Keep only the a=crypto of <m> with <tag>; ENOENT when there is none. */
int sdp_crypto_keep(struct sdp_media *m, uint32_t tag);

/*
 * Codec manipulation, per the NG "codec" dictionary. Names are encoding
 * names, optionally "/clock[/channels]", matched case-insensitively;
 * strip, mask and except also take payload type numbers; strip and
 * mask take "all" (or "full").
 *   strip      remove the formats
 *   mask       hide them from the other side but still accept them
 *              from this one (they stay in the struct, SDP_FMT_MASKED)
 *   except     exempt from strip/mask "all"
 *   offer      as except, and put them first in this order
 *   transcode  add the codec when missing: the relay will produce it
 *              (PCMU, PCMA from the other law; telephone-event)
 * The values point into the NG message (not NUL-terminated).
 */
#define SDP_CODEC_LIST_MAX  16

struct sdp_codec_list {
	struct {
		const char *p;
		size_t      len;
	} v[SDP_CODEC_LIST_MAX];
	unsigned n;
};

struct sdp_codec_ops {
	struct sdp_codec_list strip;
	struct sdp_codec_list mask;
	struct sdp_codec_list except;
	struct sdp_codec_list offer;
	struct sdp_codec_list transcode;
};

/*
 * Fill <ops> (zero it first) from the NG "codec" dict <codec>: each of
 * strip, mask, consume (= mask), except, offer and transcode holds a
 * string or a list of strings; other keys are ignored. Returns 0,
 * EINVAL (not a dict, or a value not a string) or E2BIG; <e> says which.
 */
int sdp_codec_ops_ng(struct sdp_codec_ops *ops, const struct bnode *codec,
		     struct sdp_err *e);
/*
 * Take one NG flag of the form "codec-<op>-<name>" into <ops>.
 * Returns 0, ENOENT when <p>/<len> is not a codec flag, or E2BIG.
 */
int sdp_codec_ops_flag(struct sdp_codec_ops *ops, const char *p, size_t len);

/*
 * Apply <ops> to the formats of <m> (an RTP media; others are left as
 * they are). All or nothing: on error <m> is unchanged. Returns 0,
 * ENOTSUP (transcode to a codec the relay cannot produce), EPROTO
 * (nothing would be left to offer, or nothing to transcode from) or
 * ENOMEM; <e> names the codec.
 */
int sdp_codec_apply(struct sdp_session *s, struct sdp_media *m,
		    const struct sdp_codec_ops *ops, struct sdp_err *e);

enum sdp_codec_mode {
	SDP_CODEC_PASS = 1,         /* same codec, payload types may differ */
	SDP_CODEC_TRANSCODE,        /* PCMU <-> PCMA */
};

struct sdp_codec_side {
	const char *enc;
	uint32_t    clock;
	int         pt;             /* media payload type this side uses */
	int         te_pt;          /* telephone-event, -1: not mapped */
};

/* How the relay moves one stream pair, decided at answer time. */
struct sdp_codec_plan {
	enum sdp_codec_mode   mode;
	struct sdp_codec_side a;    /* the offerer */
	struct sdp_codec_side b;    /* the answerer */
};

/*
 * Decide how to relay between the offerer, whose formats are <offer>
 * (as it was after sdp_codec_apply(): masked formats count, ones added
 * by transcode do not) and the answerer, whose formats are <answer>.
 * The answerer's first codec that the offerer has natively is passed
 * through; failing that, its first PCMU/PCMA against the offerer's
 * other law is transcoded. telephone-event is mapped when both sides
 * have it at the codec's clock rate, whatever each one numbers it.
 * Returns 0 and <plan>, or EPROTO when there is no common codec and no
 * pair to transcode; <e> says so.
 */
int sdp_codec_decide(struct sdp_codec_plan *plan,
		     const struct sdp_media *offer,
		     const struct sdp_media *answer, struct sdp_err *e);

/*
 * Rewrite the formats of answer media <m> (from the answerer, about to
 * go to the offerer) to what the offerer will see under <plan>: its
 * own payload type for the codec, and its telephone-event when mapped.
 * <offer> is the offerer's media as for sdp_codec_decide().
 */
int sdp_codec_answer(struct sdp_session *s, struct sdp_media *m,
		     const struct sdp_media *offer,
		     const struct sdp_codec_plan *plan);

#endif
