/* mediad/rtp.c  RTCP compound validation and RFC 3550 receive statistics */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rtp.h"

#define RTP_SEQ_MOD   (1u << 16)
#define SEEN_BITS     64

#define ST_ACTIVE     0x01  /* a packet of this source was seen */
#define ST_TRANSIT    0x02  /* <transit> holds a previous value */

#define SR_LEN        28    /* header, SSRC, sender info */
#define RR_LEN        8     /* header, SSRC */
#define RB_LEN        24    /* one report block */

int rtp_rtcp_parse(struct rtp_rtcp *r, const uint8_t *buf, size_t len,
		   bool rsize)
{
	struct rtp_rtcp tmp;
	size_t off = 0;

	if (!buf || len < RTP_RTCP_HDR_LEN + 4)
		return EBADMSG;
	if (!r)
		r = &tmp;
	memset(r, 0, sizeof(*r));

	while (off < len) {
		const uint8_t *p = buf + off;
		size_t plen, left = len - off;
		unsigned rc;
		uint8_t pt;

		if (left < RTP_RTCP_HDR_LEN)
			return EBADMSG;
		if (p[0] >> 6 != RTP_VERSION)
			return EPROTO;

		pt = p[1];
		rc = p[0] & 0x1f;
		plen = 4 * ((size_t)rtp_rd16(p + 2) + 1);
		if (plen > left)
			return EBADMSG;

		/* Only the last packet of a compound may be padded. */
		if (p[0] & 0x20) {
			uint8_t pad = p[plen - 1];

			if (off + plen != len)
				return EBADMSG;
			if (pad == 0 || pad > plen - RTP_RTCP_HDR_LEN)
				return EBADMSG;
		}

		if (off == 0) {
			if (!rsize && pt != RTP_RTCP_SR && pt != RTP_RTCP_RR)
				return EBADMSG;
			if (pt < 192 || pt > 223)
				return EBADMSG;
			if (!rsize && (p[0] & 0x20))
				return EBADMSG;
			if (pt == RTP_RTCP_SR &&
			    plen < SR_LEN + (size_t)rc * RB_LEN)
				return EBADMSG;
			if (pt == RTP_RTCP_RR &&
			    plen < RR_LEN + (size_t)rc * RB_LEN)
				return EBADMSG;
			r->first_pt = pt;
			if (plen >= RTP_RTCP_HDR_LEN + 4)
				r->ssrc = rtp_rd32(p + 4);
			if (pt == RTP_RTCP_SR) {
				r->has_sr     = true;
				r->sr_ntp     = (uint64_t)rtp_rd32(p + 8) << 32;
				r->sr_ntp    |= rtp_rd32(p + 12);
				r->sr_rtp_ts  = rtp_rd32(p + 16);
				r->sr_packets = rtp_rd32(p + 20);
				r->sr_octets  = rtp_rd32(p + 24);
			}
		}
		if (r->count < UINT8_MAX)
			++r->count;
		off += plen;
	}

	return 0;
}

/* A.1 init_seq(): <seq> becomes the base of a fresh count. */
static void init_seq(struct rtp_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1;
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
	s->seen = 1;
	s->flags &= (uint8_t)~ST_TRANSIT;
}

void rtp_stats_init(struct rtp_stats *s)
{
	memset(s, 0, sizeof(*s));
}

/*
 * A.8: J += (|D| - J) / 16, kept times 16 so the division is a shift.
 * Done for every counted packet, late ones included, as the RFC's
 * receiver does. Computed in 64 bits so a timestamp jump cannot wrap
 * the estimate; it decays from there like any other spike.
 */
static void jitter_update(struct rtp_stats *s, uint32_t ts, uint32_t arrival)
{
	uint32_t transit = arrival - ts;
	uint64_t j;
	int32_t d;
	uint32_t ad;

	if (s->flags & ST_TRANSIT) {
		d = (int32_t)(transit - s->transit);
		ad = d < 0 ? (uint32_t)0 - (uint32_t)d : (uint32_t)d;
		j = (uint64_t)s->jitter + ad - ((s->jitter + 8ull) >> 4);
		s->jitter = j > UINT32_MAX ? UINT32_MAX : (uint32_t)j;
	}
	s->transit = transit;
	s->flags |= ST_TRANSIT;
}

/* Record <seq>, <udelta> ahead of max_seq, in the duplicate window. */
static void seen_advance(struct rtp_stats *s, uint32_t udelta)
{
	s->seen = udelta >= SEEN_BITS ? 1 : (s->seen << udelta) | 1;
}

enum rtp_seq_verdict rtp_stats_update(struct rtp_stats *s, uint16_t seq,
				      uint32_t ts, uint32_t arrival)
{
	uint16_t udelta;

	if (!(s->flags & ST_ACTIVE)) {
		/* A.1: a new source starts on probation. */
		init_seq(s, seq);
		s->max_seq = (uint16_t)(seq - 1);
		s->probation = RTP_MIN_SEQUENTIAL;
		s->flags |= ST_ACTIVE;
	}

	udelta = (uint16_t)(seq - s->max_seq);

	if (s->probation) {
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				init_seq(s, seq);
				s->received++;
				jitter_update(s, ts, arrival);
				return RTP_SEQ_OK;
			}
		}
		else {
			s->probation = RTP_MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		s->bad++;
		return RTP_SEQ_PROBATION;
	}

	if (udelta == 0) {
		s->dups++;
		return RTP_SEQ_DUP;
	}

	if (udelta < RTP_MAX_DROPOUT) {
		/* In order, with a permissible gap. */
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD;
		s->max_seq = seq;
		seen_advance(s, udelta);
	}
	else if (udelta <= RTP_SEQ_MOD - RTP_MAX_MISORDER) {
		/*
		 * A very large jump. Two in sequence mean the sender
		 * restarted without telling us: re-sync on the second.
		 */
		if (seq != s->bad_seq) {
			s->bad_seq = (seq + 1u) & (RTP_SEQ_MOD - 1);
			s->bad++;
			return RTP_SEQ_BAD;
		}
		init_seq(s, seq);
		s->restarts++;
	}
	else {
		/* Behind max_seq: duplicate or reordered. */
		uint16_t back = (uint16_t)(s->max_seq - seq);

		if (back < SEEN_BITS) {
			uint64_t bit = 1ull << back;

			if (s->seen & bit) {
				s->dups++;
				return RTP_SEQ_DUP;
			}
			s->seen |= bit;
		}
		s->reordered++;
		s->received++;
		jitter_update(s, ts, arrival);
		return RTP_SEQ_LATE;
	}

	s->received++;
	jitter_update(s, ts, arrival);
	return RTP_SEQ_OK;
}

int32_t rtp_stats_lost(const struct rtp_stats *s)
{
	int64_t lost = (int64_t)rtp_stats_expected(s) - s->received;

	if (lost > 0x7fffff)
		return 0x7fffff;
	if (lost < -0x800000)
		return -0x800000;
	return (int32_t)lost;
}

uint8_t rtp_stats_fraction(struct rtp_stats *s)
{
	uint32_t expected = rtp_stats_expected(s);
	uint32_t exp_int = expected - s->expected_prior;
	uint32_t rcv_int = s->received - s->received_prior;
	int64_t lost_int = (int64_t)exp_int - rcv_int;

	s->expected_prior = expected;
	s->received_prior = s->received;

	if (exp_int == 0 || lost_int <= 0)
		return 0;
	/* Everything lost would be 256/256: report 255, not 0. */
	if ((uint64_t)lost_int >= exp_int)
		return 255;
	return (uint8_t)(((uint64_t)lost_int << 8) / exp_int);
}
