/* mediad/rtp.h  RTP/RTCP header checks, rewrites, RFC 3550 receive stats */
#ifndef MEDIAD_RTP_H
#define MEDIAD_RTP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Packet-path code: no allocation, no lock, no syscall, no logging. The
 * parsers only read the datagram they are given, within <len>, and
 * return a view into it; the rewrite helpers change a datagram that
 * rtp_parse() accepted, in place. Statistics live in a fixed struct the
 * caller embeds in its stream; the functions count, the caller decides
 * what to report.
 */

#define RTP_HDR_LEN       12
#define RTP_VERSION       2
#define RTP_RTCP_HDR_LEN  4

enum rtp_rtcp_pt {
	RTP_RTCP_SR    = 200,
	RTP_RTCP_RR    = 201,
	RTP_RTCP_SDES  = 202,
	RTP_RTCP_BYE   = 203,
	RTP_RTCP_APP   = 204,
	RTP_RTCP_RTPFB = 205,
	RTP_RTCP_PSFB  = 206,
	RTP_RTCP_XR    = 207,
};

/* A parsed RTP header; <payload> points into the datagram. */
struct rtp_hdr {
	const uint8_t *payload;
	uint32_t ts;
	uint32_t ssrc;
	uint16_t seq;
	uint16_t hdrlen;       /* fixed part + CSRCs + extension */
	uint16_t paylen;       /* payload bytes, padding excluded */
	uint16_t ext_profile;  /* "defined by profile" word, 0 without X */
	uint16_t ext_len;      /* extension data bytes, after its 4-byte head */
	uint8_t  pt;
	uint8_t  cc;
	uint8_t  padlen;       /* padding bytes including the count byte */
	bool     marker;
	bool     ext;
};

static inline uint16_t rtp_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rtp_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static inline void rtp_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void rtp_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Parse the RTP header of the <len>-byte datagram <buf> into <h>
 * (RFC 3550 section 5.1). Every length is checked against <len>: the
 * CSRC list, the extension (section 5.3.1) and the padding, whose count
 * byte must be 1..(bytes after the header). Returns 0, EPROTO when the
 * version is not 2 (not RTP: STUN, DTLS or garbage), or EBADMSG when a
 * length does not fit. <h> is undefined on error.
 */
static inline int rtp_parse(struct rtp_hdr *h, const uint8_t *buf, size_t len)
{
	size_t hl, left;

	if (len < RTP_HDR_LEN || len > UINT16_MAX)
		return EBADMSG;
	if (buf[0] >> 6 != RTP_VERSION)
		return EPROTO;

	h->cc     = buf[0] & 0x0f;
	h->ext    = buf[0] & 0x10;
	h->marker = buf[1] >> 7;
	h->pt     = buf[1] & 0x7f;
	h->seq    = rtp_rd16(buf + 2);
	h->ts     = rtp_rd32(buf + 4);
	h->ssrc   = rtp_rd32(buf + 8);

	hl = RTP_HDR_LEN + 4 * (size_t)h->cc;
	if (hl > len)
		return EBADMSG;

	h->ext_profile = 0;
	h->ext_len = 0;
	if (h->ext) {
		if (hl + 4 > len)
			return EBADMSG;
		h->ext_profile = rtp_rd16(buf + hl);
		h->ext_len = (uint16_t)(4 * rtp_rd16(buf + hl + 2));
		hl += 4;
		if (h->ext_len > len - hl)
			return EBADMSG;
		hl += h->ext_len;
	}
	left = len - hl;

	h->padlen = 0;
	if (buf[0] & 0x20) {
		if (!left)
			return EBADMSG;
		h->padlen = buf[len - 1];
		if (h->padlen == 0 || h->padlen > left)
			return EBADMSG;
		left -= h->padlen;
	}

	h->hdrlen  = (uint16_t)hl;
	h->paylen  = (uint16_t)left;
	h->payload = buf + hl;
	return 0;
}

/*
 * True when the datagram is RTCP rather than RTP on an rtcp-mux port:
 * version 2 and a second byte (marker + PT for RTP, packet type for
 * RTCP) in 192..223 (RFC 5761 section 4). The caller has already sent
 * STUN and DTLS elsewhere by the first byte (RFC 7983).
 */
static inline bool rtp_is_rtcp(const uint8_t *buf, size_t len)
{
	return len >= 2 && buf[0] >> 6 == RTP_VERSION &&
		buf[1] >= 192 && buf[1] <= 223;
}

/* In-place rewrites of a datagram rtp_parse() accepted. */
static inline void rtp_set_pt(uint8_t *buf, uint8_t pt)
{
	buf[1] = (uint8_t)((buf[1] & 0x80) | (pt & 0x7f));
}

static inline void rtp_set_marker(uint8_t *buf, bool marker)
{
	buf[1] = (uint8_t)((buf[1] & 0x7f) | (marker ? 0x80 : 0));
}

static inline void rtp_set_seq(uint8_t *buf, uint16_t seq)
{
	rtp_wr16(buf + 2, seq);
}

static inline void rtp_set_ts(uint8_t *buf, uint32_t ts)
{
	rtp_wr32(buf + 4, ts);
}

static inline void rtp_set_ssrc(uint8_t *buf, uint32_t ssrc)
{
	rtp_wr32(buf + 8, ssrc);
}

/* What rtp_rtcp_parse() learnt from a compound packet. */
struct rtp_rtcp {
	uint64_t sr_ntp;       /* SR: NTP timestamp (RFC 3550 6.4.1) */
	uint32_t sr_rtp_ts;
	uint32_t sr_packets;
	uint32_t sr_octets;
	uint32_t ssrc;         /* sender SSRC of the first packet */
	uint8_t  first_pt;     /* packet type of the first packet */
	uint8_t  count;        /* packets in the compound (saturates) */
	bool     has_sr;       /* sr_* are set */
};

/*
 * Validate the plain (already SRTCP-unprotected) RTCP datagram <buf> of
 * <len> bytes per RFC 3550 appendix A.2: every packet version 2, the
 * length fields add up to exactly <len>, padding only in the last
 * packet, and the first packet an SR or RR without padding whose report
 * blocks fit. With <rsize> the first packet may be any RTCP type
 * (reduced-size RTCP, RFC 5506). Fills <r> (optional). Returns 0,
 * EPROTO (not version 2) or EBADMSG.
 */
int rtp_rtcp_parse(struct rtp_rtcp *r, const uint8_t *buf, size_t len,
		   bool rsize);

/*
 * Receive statistics of one SSRC, RFC 3550 appendix A.1 (sequence
 * validation) and A.8 (interarrival jitter). Zero it (or call
 * rtp_stats_init()) for a new source; the first packets are on
 * probation until RTP_MIN_SEQUENTIAL arrive in sequence.
 *
 * One deviation from A.1: a packet whose sequence number was already
 * seen among the last 64 is counted in <dups> and not in <received>, so
 * a duplicated packet cannot hide a lost one. Older late packets are
 * counted as received (A.1 cannot tell them apart either).
 */
#define RTP_MIN_SEQUENTIAL  2
#define RTP_MAX_DROPOUT     3000
#define RTP_MAX_MISORDER    100

struct rtp_stats {
	uint64_t seen;            /* bit i: seq max_seq - i was received */
	uint32_t cycles;          /* wraps of seq, times 65536 */
	uint32_t base_seq;
	uint32_t bad_seq;         /* seq + 1 of a jump, awaiting a second */
	uint32_t received;
	uint32_t expected_prior;
	uint32_t received_prior;
	uint32_t transit;         /* last arrival - RTP timestamp */
	uint32_t jitter;          /* times 16, as in A.8 */
	uint32_t dups;
	uint32_t reordered;       /* arrived after a higher seq */
	uint32_t restarts;        /* re-syncs after a confirmed jump */
	uint32_t bad;             /* not counted: a jump, or on probation */
	uint16_t max_seq;
	uint8_t  probation;
	uint8_t  flags;           /* private to rtp.c */
};

enum rtp_seq_verdict {
	RTP_SEQ_OK = 0,     /* in order (gaps allowed), counted */
	RTP_SEQ_LATE,       /* reordered, counted */
	RTP_SEQ_DUP,        /* seen before, not counted */
	RTP_SEQ_PROBATION,  /* new source not yet confirmed, not counted */
	RTP_SEQ_BAD,        /* jump not (yet) confirmed, not counted */
};

void rtp_stats_init(struct rtp_stats *s);

/*
 * Account for one packet with sequence number <seq> and RTP timestamp
 * <ts> that arrived at <arrival>, in units of the stream's RTP clock
 * (the caller converts its monotonic clock). Returns the verdict; the
 * relay forwards the packet whatever it is.
 */
enum rtp_seq_verdict rtp_stats_update(struct rtp_stats *s, uint16_t seq,
				      uint32_t ts, uint32_t arrival);

/* Extended highest sequence number received (A.3). */
static inline uint32_t rtp_stats_ext_max(const struct rtp_stats *s)
{
	return s->cycles + s->max_seq;
}

/* Packets expected since the first counted one (A.3). */
static inline uint32_t rtp_stats_expected(const struct rtp_stats *s)
{
	if (!s->received)
		return 0;
	return rtp_stats_ext_max(s) - s->base_seq + 1;
}

/*
 * Cumulative packets lost (A.3): expected - received, clamped to the
 * signed 24 bits of a report block.
 */
int32_t rtp_stats_lost(const struct rtp_stats *s);

/*
 * Fraction lost since the previous call, in 1/256 (A.3), as put into
 * the next report block; starts a new interval.
 */
uint8_t rtp_stats_fraction(struct rtp_stats *s);

/* Interarrival jitter in RTP timestamp units (A.8). */
static inline uint32_t rtp_stats_jitter(const struct rtp_stats *s)
{
	return s->jitter >> 4;
}

#endif
