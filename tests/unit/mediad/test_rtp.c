/* tests/unit/mediad_rtp/test_rtp.c  RTP/RTCP checks, rewrites, receive stats */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "rtp.h"

static uint8_t pkt[1500];

/* An RTP header at <pkt>: V=2, <b0> ORed into byte 0, then the rest. */
static size_t rtp_build(uint8_t b0, uint8_t b1, uint16_t seq, uint32_t ts,
			uint32_t ssrc)
{
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = (uint8_t)(0x80 | b0);
	pkt[1] = b1;
	rtp_wr16(pkt + 2, seq);
	rtp_wr32(pkt + 4, ts);
	rtp_wr32(pkt + 8, ssrc);
	return RTP_HDR_LEN;
}

static int test_rtp_valid(void)
{
	struct rtp_hdr h;
	int err = 0;

	rtp_build(0, 0x80 | 8, 0xfffe, 0xdeadbeef, 0x01020304);
	TEST_ERR(rtp_parse(&h, pkt, RTP_HDR_LEN));
	TEST_EQ(8, h.pt);
	TEST_TRUE(h.marker);
	TEST_EQ(0xfffe, h.seq);
	TEST_EQ(0xdeadbeef, h.ts);
	TEST_EQ(0x01020304, h.ssrc);
	TEST_EQ(12, h.hdrlen);
	TEST_EQ(0, h.paylen);
	TEST_EQ(0, h.cc);
	TEST_TRUE(!h.ext);

	/* 20 ms of G.711 */
	memset(pkt + 12, 0xd5, 160);
	TEST_ERR(rtp_parse(&h, pkt, 172));
	TEST_EQ(160, h.paylen);
	TEST_TRUE(h.payload == pkt + 12);
	pkt[1] = 8;
	TEST_ERR(rtp_parse(&h, pkt, 172));
	TEST_TRUE(!h.marker);
	TEST_EQ(8, h.pt);
 out:
	return err;
}

static int test_rtp_csrc_ext_pad(void)
{
	struct rtp_hdr h;
	int err = 0;

	/* two CSRCs */
	rtp_build(0x02, 0, 1, 2, 3);
	TEST_ERR(rtp_parse(&h, pkt, 20));
	TEST_EQ(2, h.cc);
	TEST_EQ(20, h.hdrlen);
	TEST_ERR(rtp_parse(&h, pkt, 30));
	TEST_EQ(10, h.paylen);
	TEST_EQ(EBADMSG, rtp_parse(&h, pkt, 19));

	/* fifteen CSRCs need 72 bytes */
	rtp_build(0x0f, 0, 1, 2, 3);
	TEST_ERR(rtp_parse(&h, pkt, 72));
	TEST_EQ(EBADMSG, rtp_parse(&h, pkt, 71));

	/* one-byte header extension (RFC 8285), one word of data */
	rtp_build(0x10, 0, 1, 2, 3);
	rtp_wr16(pkt + 12, 0xbede);
	rtp_wr16(pkt + 14, 1);
	TEST_ERR(rtp_parse(&h, pkt, 20));
	TEST_TRUE(h.ext);
	TEST_EQ(0xbede, h.ext_profile);
	TEST_EQ(4, h.ext_len);
	TEST_EQ(20, h.hdrlen);
	TEST_EQ(0, h.paylen);
	TEST_EQ(EBADMSG, rtp_parse(&h, pkt, 19));
	TEST_EQ(EBADMSG, rtp_parse(&h, pkt, 15));   /* no room for its head */
	rtp_wr16(pkt + 14, 0xffff);                  /* 256 KiB of it */
	TEST_EQ(EBADMSG, rtp_parse(&h, pkt, 1500));

	/* CSRCs and extension together */
	rtp_build(0x11, 0, 1, 2, 3);
	rtp_wr16(pkt + 16, 0x1000);
	rtp_wr16(pkt + 18, 2);
	TEST_ERR(rtp_parse(&h, pkt, 40));
	TEST_EQ(28, h.hdrlen);
	TEST_EQ(12, h.paylen);

	/* padding: 4 bytes, count byte included */
	rtp_build(0x20, 0, 1, 2, 3);
	pkt[12 + 20 - 1] = 4;
	TEST_ERR(rtp_parse(&h, pkt, 32));
	TEST_EQ(4, h.padlen);
	TEST_EQ(16, h.paylen);
	/* all of the payload is padding */
	pkt[31] = 20;
	TEST_ERR(rtp_parse(&h, pkt, 32));
	TEST_EQ(0, h.paylen);
	/* more padding than bytes, a zero count, no byte for the count */
	pkt[31] = 21;
	TEST_EQ(EBADMSG, rtp_parse(&h, pkt, 32));
	pkt[31] = 0;
	TEST_EQ(EBADMSG, rtp_parse(&h, pkt, 32));
	TEST_EQ(EBADMSG, rtp_parse(&h, pkt, 12));
 out:
	return err;
}

static int test_rtp_invalid(void)
{
	struct rtp_hdr h;
	int err = 0;

	rtp_build(0, 0, 1, 2, 3);
	TEST_EQ(EBADMSG, rtp_parse(&h, pkt, 0));
	TEST_EQ(EBADMSG, rtp_parse(&h, pkt, 11));
	TEST_EQ(EBADMSG, rtp_parse(&h, pkt, 65536));
	pkt[0] = 0x00;                   /* version 0 */
	TEST_EQ(EPROTO, rtp_parse(&h, pkt, 12));
	pkt[0] = 0x40;                   /* version 1 */
	TEST_EQ(EPROTO, rtp_parse(&h, pkt, 12));
	pkt[0] = 0xc0;                   /* version 3 */
	TEST_EQ(EPROTO, rtp_parse(&h, pkt, 12));
	/* a STUN binding request starts with 0x00 0x01 */
	pkt[0] = 0x00;
	pkt[1] = 0x01;
	TEST_EQ(EPROTO, rtp_parse(&h, pkt, 20));
 out:
	return err;
}

static int test_rtp_rewrite(void)
{
	struct rtp_hdr h;
	int err = 0;

	rtp_build(0, 0x80 | 0, 100, 1000, 0xaaaaaaaa);
	memset(pkt + 12, 0xff, 160);
	rtp_set_pt(pkt, 8);
	rtp_set_seq(pkt, 0x1234);
	rtp_set_ts(pkt, 0x89abcdef);
	rtp_set_ssrc(pkt, 0x55667788);
	TEST_ERR(rtp_parse(&h, pkt, 172));
	TEST_EQ(8, h.pt);
	TEST_TRUE(h.marker);            /* kept */
	TEST_EQ(0x1234, h.seq);
	TEST_EQ(0x89abcdef, h.ts);
	TEST_EQ(0x55667788, h.ssrc);
	TEST_EQ(0x80, pkt[0]);          /* byte 0 untouched */
	rtp_set_marker(pkt, false);
	rtp_set_pt(pkt, 0xff);          /* masked to 7 bits */
	TEST_ERR(rtp_parse(&h, pkt, 172));
	TEST_TRUE(!h.marker);
	TEST_EQ(127, h.pt);
	TEST_EQ(0xff, pkt[12]);         /* payload untouched */
 out:
	return err;
}

static int test_is_rtcp(void)
{
	static const struct {
		uint8_t b0, b1;
		bool    rtcp;
	} cases[] = {
		{ 0x80, 200, true },     /* SR */
		{ 0x81, 201, true },     /* RR */
		{ 0x80, 192, true },     /* bottom of the RFC 5761 range */
		{ 0x80, 223, true },     /* top */
		{ 0x80, 191, false },    /* RTP PT 63 with marker */
		{ 0x80, 224, false },    /* RTP PT 96 with marker */
		{ 0x80, 0x60, false },   /* RTP PT 96 */
		{ 0x80, 0x00, false },   /* RTP PCMU */
		{ 0x40, 200, false },    /* version 1 */
		{ 0x00, 200, false },
	};
	uint8_t b[2];
	size_t i;
	int err = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b[0] = cases[i].b0;
		b[1] = cases[i].b1;
		TEST_EQ(cases[i].rtcp, rtp_is_rtcp(b, 2));
	}
	TEST_TRUE(!rtp_is_rtcp(b, 1));
	TEST_TRUE(!rtp_is_rtcp(b, 0));
 out:
	return err;
}

/* Append an RTCP packet of type <pt>, count <rc>, <words> after the header. */
static size_t rtcp_add(size_t off, uint8_t flags, uint8_t rc, uint8_t pt,
		       uint16_t words, uint32_t ssrc)
{
	pkt[off] = (uint8_t)(0x80 | flags | rc);
	pkt[off + 1] = pt;
	rtp_wr16(pkt + off + 2, words);
	if (words)
		rtp_wr32(pkt + off + 4, ssrc);
	return off + 4 + 4u * words;
}

static int test_rtcp_compound(void)
{
	struct rtp_rtcp r;
	size_t len;
	int err = 0;

	/* SR without report blocks, then SDES */
	memset(pkt, 0, sizeof(pkt));
	len = rtcp_add(0, 0, 0, RTP_RTCP_SR, 6, 0x11223344);
	rtp_wr32(pkt + 8, 0xe0000000);
	rtp_wr32(pkt + 12, 0x80000000);
	rtp_wr32(pkt + 16, 160000);
	rtp_wr32(pkt + 20, 1000);
	rtp_wr32(pkt + 24, 160000);
	len = rtcp_add(len, 0, 1, RTP_RTCP_SDES, 3, 0x11223344);
	TEST_ERR(rtp_rtcp_parse(&r, pkt, len, false));
	TEST_EQ(2, r.count);
	TEST_EQ(RTP_RTCP_SR, r.first_pt);
	TEST_EQ(0x11223344, r.ssrc);
	TEST_TRUE(r.has_sr);
	TEST_EQ(0xe000000080000000ull, r.sr_ntp);
	TEST_EQ(160000, r.sr_rtp_ts);
	TEST_EQ(1000, r.sr_packets);
	TEST_EQ(160000, r.sr_octets);
	TEST_TRUE(rtp_is_rtcp(pkt, len));

	/* trailing bytes, a short datagram, an overlong length */
	TEST_EQ(EBADMSG, rtp_rtcp_parse(&r, pkt, len + 2, false));
	TEST_EQ(EBADMSG, rtp_rtcp_parse(&r, pkt, len - 4, false));
	TEST_EQ(EBADMSG, rtp_rtcp_parse(&r, pkt, 7, false));
	TEST_EQ(EBADMSG, rtp_rtcp_parse(NULL, pkt, 0, false));

	/* an SR claiming a report block it has no room for */
	memset(pkt, 0, sizeof(pkt));
	len = rtcp_add(0, 0, 1, RTP_RTCP_SR, 6, 1);
	TEST_EQ(EBADMSG, rtp_rtcp_parse(&r, pkt, len, false));
	len = rtcp_add(0, 0, 1, RTP_RTCP_SR, 12, 1);
	TEST_ERR(rtp_rtcp_parse(&r, pkt, len, false));

	/* RR with one block, then BYE; the empty RR is 8 bytes */
	memset(pkt, 0, sizeof(pkt));
	len = rtcp_add(0, 0, 1, RTP_RTCP_RR, 7, 0x55);
	len = rtcp_add(len, 0, 1, RTP_RTCP_BYE, 1, 0x55);
	TEST_ERR(rtp_rtcp_parse(&r, pkt, len, false));
	TEST_EQ(RTP_RTCP_RR, r.first_pt);
	TEST_TRUE(!r.has_sr);
	len = rtcp_add(0, 0, 0, RTP_RTCP_RR, 1, 0x55);
	TEST_ERR(rtp_rtcp_parse(&r, pkt, len, false));
	len = rtcp_add(0, 0, 1, RTP_RTCP_RR, 1, 0x55);
	TEST_EQ(EBADMSG, rtp_rtcp_parse(&r, pkt, len, false));

	/* first packet not SR/RR: only with reduced-size RTCP */
	memset(pkt, 0, sizeof(pkt));
	len = rtcp_add(0, 0, 1, RTP_RTCP_PSFB, 2, 0x66);
	TEST_EQ(EBADMSG, rtp_rtcp_parse(&r, pkt, len, false));
	TEST_ERR(rtp_rtcp_parse(&r, pkt, len, true));
	TEST_EQ(RTP_RTCP_PSFB, r.first_pt);
	TEST_EQ(1, r.count);
	/* and even then in the RTCP range */
	len = rtcp_add(0, 0, 0, 72, 1, 0x66);
	TEST_EQ(EBADMSG, rtp_rtcp_parse(&r, pkt, len, true));

	/* padding: only in the last packet, count 1..length */
	memset(pkt, 0, sizeof(pkt));
	len = rtcp_add(0, 0, 0, RTP_RTCP_RR, 1, 0x77);
	len = rtcp_add(len, 0x20, 0, RTP_RTCP_APP, 3, 0x77);
	pkt[len - 1] = 4;
	TEST_ERR(rtp_rtcp_parse(&r, pkt, len, false));
	pkt[len - 1] = 0;
	TEST_EQ(EBADMSG, rtp_rtcp_parse(&r, pkt, len, false));
	pkt[len - 1] = 13;
	TEST_EQ(EBADMSG, rtp_rtcp_parse(&r, pkt, len, false));
	memset(pkt, 0, sizeof(pkt));
	len = rtcp_add(0, 0x20, 0, RTP_RTCP_RR, 1, 0x77);
	pkt[len - 1] = 4;
	len = rtcp_add(len, 0, 0, RTP_RTCP_BYE, 1, 0x77);
	TEST_EQ(EBADMSG, rtp_rtcp_parse(&r, pkt, len, false));
	/* a padded first packet that is also the last: not without rsize */
	len = rtcp_add(0, 0x20, 0, RTP_RTCP_RR, 1, 0x77);
	pkt[len - 1] = 4;
	TEST_EQ(EBADMSG, rtp_rtcp_parse(&r, pkt, len, false));
	TEST_ERR(rtp_rtcp_parse(&r, pkt, len, true));

	/* a later packet of another version */
	memset(pkt, 0, sizeof(pkt));
	len = rtcp_add(0, 0, 0, RTP_RTCP_RR, 1, 0x77);
	len = rtcp_add(len, 0, 0, RTP_RTCP_BYE, 1, 0x77);
	pkt[8] = 0x40 | 1;
	TEST_EQ(EPROTO, rtp_rtcp_parse(&r, pkt, len, false));
	pkt[0] = 0x00;
	TEST_EQ(EPROTO, rtp_rtcp_parse(&r, pkt, len, false));
 out:
	return err;
}

/* Feed seq <seq> with RTP timestamp seq*160 arriving right on time. */
static enum rtp_seq_verdict feed(struct rtp_stats *s, uint16_t seq)
{
	uint32_t ts = (uint32_t)seq * 160;

	return rtp_stats_update(s, seq, ts, ts + 1000);
}

static int test_stats_clean(void)
{
	struct rtp_stats s;
	uint16_t seq;
	int err = 0;

	rtp_stats_init(&s);
	TEST_EQ(0, rtp_stats_expected(&s));
	TEST_EQ(RTP_SEQ_PROBATION, feed(&s, 1000));
	TEST_EQ(0, s.received);
	for (seq = 1001; seq < 1100; seq++)
		TEST_EQ(RTP_SEQ_OK, feed(&s, seq));
	/* the first packet was probation: counting starts at 1001 */
	TEST_EQ(99, s.received);
	TEST_EQ(99, rtp_stats_expected(&s));
	TEST_EQ(0, rtp_stats_lost(&s));
	TEST_EQ(1099, rtp_stats_ext_max(&s));
	TEST_EQ(0, rtp_stats_jitter(&s));
	TEST_EQ(0, rtp_stats_fraction(&s));
	TEST_EQ(0, s.dups);
	TEST_EQ(0, s.reordered);
 out:
	return err;
}

static int test_stats_loss(void)
{
	struct rtp_stats s;
	uint16_t seq;
	int err = 0;

	rtp_stats_init(&s);
	feed(&s, 0);
	for (seq = 1; seq <= 100; seq++) {
		if (seq % 10 == 0)
			continue;               /* every tenth is lost */
		TEST_EQ(RTP_SEQ_OK, feed(&s, seq));
	}
	/* 1..99 expected (100 is lost and not yet known), 90 received */
	TEST_EQ(99, rtp_stats_expected(&s));
	TEST_EQ(90, s.received);
	TEST_EQ(9, rtp_stats_lost(&s));
	TEST_EQ(9 * 256 / 99, rtp_stats_fraction(&s));
	/* next interval: nothing lost */
	for (seq = 101; seq <= 150; seq++)
		feed(&s, seq);
	TEST_EQ(10, rtp_stats_lost(&s));
	TEST_EQ(256 / 51, rtp_stats_fraction(&s));
	TEST_EQ(0, rtp_stats_fraction(&s));
	/* a gap within MAX_DROPOUT is loss, not a restart */
	TEST_EQ(RTP_SEQ_OK, feed(&s, 150 + 2999));
	TEST_EQ(10 + 2998, rtp_stats_lost(&s));
	TEST_EQ(255, rtp_stats_fraction(&s));
	TEST_EQ(0, s.restarts);
 out:
	return err;
}

static int test_stats_reorder_dup(void)
{
	struct rtp_stats s;
	int err = 0;

	rtp_stats_init(&s);
	feed(&s, 9);
	TEST_EQ(RTP_SEQ_OK, feed(&s, 10));
	TEST_EQ(RTP_SEQ_OK, feed(&s, 12));
	TEST_EQ(RTP_SEQ_LATE, feed(&s, 11));
	TEST_EQ(RTP_SEQ_OK, feed(&s, 13));
	TEST_EQ(1, s.reordered);
	TEST_EQ(0, rtp_stats_lost(&s));

	/* duplicates: of the newest, and of an older one */
	TEST_EQ(RTP_SEQ_DUP, feed(&s, 13));
	TEST_EQ(RTP_SEQ_DUP, feed(&s, 11));
	TEST_EQ(RTP_SEQ_DUP, feed(&s, 10));
	TEST_EQ(3, s.dups);
	TEST_EQ(4, s.received);
	TEST_EQ(0, rtp_stats_lost(&s));

	/* a hole filled late is no longer lost */
	TEST_EQ(RTP_SEQ_OK, feed(&s, 16));
	TEST_EQ(2, rtp_stats_lost(&s));
	TEST_EQ(RTP_SEQ_LATE, feed(&s, 14));
	TEST_EQ(RTP_SEQ_LATE, feed(&s, 15));
	TEST_EQ(0, rtp_stats_lost(&s));
	TEST_EQ(RTP_SEQ_DUP, feed(&s, 15));

	/* late beyond the duplicate window: counted as received, reordered */
	for (int i = 17; i < 100; i++)
		feed(&s, (uint16_t)i);
	TEST_EQ(RTP_SEQ_LATE, feed(&s, 20));
	TEST_EQ(4, s.reordered);
 out:
	return err;
}

static int test_stats_wrap(void)
{
	struct rtp_stats s;
	uint32_t i;
	int err = 0;

	rtp_stats_init(&s);
	feed(&s, 65525);
	for (i = 65526; i < 65536 + 20; i++) {
		if (i == 65536 + 1)
			continue;           /* seq 1 comes late */
		TEST_EQ(RTP_SEQ_OK, feed(&s, (uint16_t)i));
	}
	TEST_EQ(65536, s.cycles);
	TEST_EQ(65536 + 19, rtp_stats_ext_max(&s));
	TEST_EQ(1, rtp_stats_lost(&s));
	TEST_EQ(RTP_SEQ_LATE, feed(&s, 1));
	TEST_EQ(0, rtp_stats_lost(&s));
	TEST_EQ(65536, s.cycles);
	/* late from before the wrap */
	TEST_EQ(RTP_SEQ_DUP, feed(&s, 65535));
	TEST_EQ(30, rtp_stats_expected(&s));
	TEST_EQ(30, s.received);

	/* many wraps */
	for (i = 0; i < 3 * 65536; i++)
		feed(&s, (uint16_t)(20 + i));
	TEST_EQ(4u * 65536, s.cycles);
	TEST_EQ(0, rtp_stats_lost(&s));
 out:
	return err;
}

static int test_stats_jump_probation(void)
{
	struct rtp_stats s;
	int err = 0;

	/* a jump confirmed by a second packet: the sender restarted */
	rtp_stats_init(&s);
	feed(&s, 1000);
	feed(&s, 1001);
	feed(&s, 1002);
	TEST_EQ(RTP_SEQ_BAD, feed(&s, 20000));
	TEST_EQ(RTP_SEQ_OK, feed(&s, 20001));
	TEST_EQ(1, s.restarts);
	TEST_EQ(1, s.received);
	TEST_EQ(1, rtp_stats_expected(&s));
	TEST_EQ(RTP_SEQ_OK, feed(&s, 20002));
	TEST_EQ(0, rtp_stats_lost(&s));

	/* stray packets far off are ignored (and counted) */
	rtp_stats_init(&s);
	feed(&s, 1000);
	feed(&s, 1001);
	TEST_EQ(RTP_SEQ_BAD, feed(&s, 40000));
	TEST_EQ(RTP_SEQ_OK, feed(&s, 1002));
	TEST_EQ(RTP_SEQ_BAD, feed(&s, 40005));
	TEST_EQ(RTP_SEQ_OK, feed(&s, 1003));
	TEST_EQ(0, s.restarts);
	TEST_EQ(3, s.received);
	TEST_EQ(3, s.bad);                 /* probation counts too */
	/* A.1 keeps the awaited seq across good packets: 40006 re-syncs */
	TEST_EQ(RTP_SEQ_OK, feed(&s, 40006));
	TEST_EQ(1, s.restarts);

	/* probation: two in sequence before counting starts */
	rtp_stats_init(&s);
	TEST_EQ(RTP_SEQ_PROBATION, feed(&s, 100));
	TEST_EQ(RTP_SEQ_PROBATION, feed(&s, 200));
	TEST_EQ(RTP_SEQ_PROBATION, feed(&s, 300));
	TEST_EQ(RTP_SEQ_OK, feed(&s, 301));
	TEST_EQ(1, s.received);
	TEST_EQ(301, s.base_seq);
	TEST_EQ(RTP_SEQ_OK, feed(&s, 302));
	/* probation across the wrap */
	rtp_stats_init(&s);
	TEST_EQ(RTP_SEQ_PROBATION, feed(&s, 65535));
	TEST_EQ(RTP_SEQ_OK, feed(&s, 0));
	TEST_EQ(0, s.cycles);
 out:
	return err;
}

static int test_stats_jitter(void)
{
	struct rtp_stats s;
	uint32_t i, ts, arr;
	int err = 0;

	/* constant transit: no jitter, whatever the offset */
	rtp_stats_init(&s);
	for (i = 0; i < 200; i++) {
		ts = 0xfffff000u + i * 160;          /* wraps the timestamp */
		rtp_stats_update(&s, (uint16_t)i, ts, ts + 123456);
	}
	TEST_EQ(0, rtp_stats_jitter(&s));

	/* arrivals alternately 0 and 80 units late: |D| = 80 each time */
	rtp_stats_init(&s);
	for (i = 0; i < 400; i++) {
		ts = i * 160;
		arr = ts + (i & 1 ? 80 : 0);
		rtp_stats_update(&s, (uint16_t)i, ts, arr);
	}
	TEST_TRUE(rtp_stats_jitter(&s) >= 78 && rtp_stats_jitter(&s) <= 80);

	/* one spike raises it by |D|/16, then it decays */
	rtp_stats_init(&s);
	for (i = 0; i < 10; i++)
		rtp_stats_update(&s, (uint16_t)i, i * 160, i * 160);
	rtp_stats_update(&s, 10, 1600, 1600 + 1600);
	TEST_EQ(100, rtp_stats_jitter(&s));
	for (i = 11; i < 200; i++)
		rtp_stats_update(&s, (uint16_t)i, i * 160, i * 160 + 1600);
	TEST_TRUE(rtp_stats_jitter(&s) < 2);

	/* a huge timestamp jump saturates instead of wrapping */
	rtp_stats_init(&s);
	for (i = 0; i < 40; i++)
		rtp_stats_update(&s, (uint16_t)i, (i & 1) ? 0x80000000u : 0, 0);
	TEST_TRUE(s.jitter > 0x70000000u);
 out:
	return err;
}

static int test_stats_lost_clamp(void)
{
	struct rtp_stats s;
	int err = 0;

	rtp_stats_init(&s);
	feed(&s, 0);
	feed(&s, 1);
	s.cycles = 200u * 65536;               /* 13 million expected */
	TEST_EQ(0x7fffff, rtp_stats_lost(&s));
	s.cycles = 0;
	s.received = 0x1000000;
	TEST_EQ(-0x800000, rtp_stats_lost(&s));
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_rtp_valid),
	HARNESS_TEST(test_rtp_csrc_ext_pad),
	HARNESS_TEST(test_rtp_invalid),
	HARNESS_TEST(test_rtp_rewrite),
	HARNESS_TEST(test_is_rtcp),
	HARNESS_TEST(test_rtcp_compound),
	HARNESS_TEST(test_stats_clean),
	HARNESS_TEST(test_stats_loss),
	HARNESS_TEST(test_stats_reorder_dup),
	HARNESS_TEST(test_stats_wrap),
	HARNESS_TEST(test_stats_jump_probation),
	HARNESS_TEST(test_stats_jitter),
	HARNESS_TEST(test_stats_lost_clamp),
};

HARNESS_MAIN(tests)
