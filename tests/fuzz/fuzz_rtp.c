/* tests/fuzz_mediad/fuzz_rtp.c  RTP/RTCP parsers and stats on any input */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rtp.h"

/*
 * The input is one datagram for the parsers, and also a list of
 * (seq, ts, arrival) records for the statistics, so the fuzzer steers
 * both the header checks and the sequence logic.
 */

static uint8_t copy[65536];

static void check_rtp(const uint8_t *data, size_t size)
{
	struct rtp_hdr h, h2;
	uint32_t ts, ssrc;
	uint16_t seq;
	uint8_t pt;

	if (rtp_parse(&h, data, size))
		return;
	if ((size_t)h.hdrlen + h.paylen + h.padlen != size)
		abort();
	if (h.payload != data + h.hdrlen || h.pt > 127 || h.cc > 15)
		abort();
	if (h.hdrlen != RTP_HDR_LEN + 4 * h.cc + (h.ext ? 4 + h.ext_len : 0))
		abort();

	/* the rewrites change exactly their field */
	pt = (uint8_t)(h.pt ^ 0x55);
	seq = (uint16_t)(h.seq ^ 0xffffu);
	ts = h.ts ^ 0xffffffffu;
	ssrc = h.ssrc ^ 0x12345678u;

	memcpy(copy, data, size);
	rtp_set_pt(copy, pt);
	rtp_set_seq(copy, seq);
	rtp_set_ts(copy, ts);
	rtp_set_ssrc(copy, ssrc);
	rtp_set_marker(copy, !h.marker);
	if (rtp_parse(&h2, copy, size))
		abort();
	if (h2.pt != pt || h2.seq != seq || h2.ts != ts || h2.ssrc != ssrc ||
	    h2.marker == h.marker || h2.paylen != h.paylen ||
	    h2.hdrlen != h.hdrlen || copy[0] != data[0] ||
	    memcmp(copy + 12, data + 12, size - 12))
		abort();
}

static void check_rtcp(const uint8_t *data, size_t size)
{
	struct rtp_rtcp r;
	int strict, loose;

	strict = rtp_rtcp_parse(&r, data, size, false);
	if (!strict && (!r.count || (r.first_pt != RTP_RTCP_SR &&
				     r.first_pt != RTP_RTCP_RR)))
		abort();
	loose = rtp_rtcp_parse(&r, data, size, true);
	/* reduced-size accepts everything compound does */
	if (!strict && loose)
		abort();
	/* and every valid RTCP datagram is seen as RTCP on a mux port */
	if (!loose && !rtp_is_rtcp(data, size))
		abort();
}

static void check_stats(const uint8_t *data, size_t size)
{
	struct rtp_stats s;
	uint32_t prev_rcv = 0;
	size_t i;

	rtp_stats_init(&s);
	for (i = 0; i + 10 <= size; i += 10) {
		const uint8_t *p = data + i;
		enum rtp_seq_verdict v;

		v = rtp_stats_update(&s, rtp_rd16(p), rtp_rd32(p + 2),
				     rtp_rd32(p + 6));
		switch (v) {
		case RTP_SEQ_OK:
		case RTP_SEQ_LATE:
			/* counted, unless a restart began a fresh count */
			if (s.received != prev_rcv + 1 && s.received != 1)
				abort();
			break;
		case RTP_SEQ_DUP:
		case RTP_SEQ_PROBATION:
		case RTP_SEQ_BAD:
			if (s.received != prev_rcv)
				abort();
			break;
		default:
			abort();
		}
		prev_rcv = s.received;
		if (s.received && rtp_stats_expected(&s) == 0)
			abort();
		if (rtp_stats_lost(&s) > 0x7fffff ||
		    rtp_stats_lost(&s) < -0x800000)
			abort();
		if (i % 40 == 0)
			rtp_stats_fraction(&s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_rtp(data, size);
	check_rtcp(data, size);
	check_stats(data, size);
	return 0;
}
