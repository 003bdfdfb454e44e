/* tests/unit/mediad_rtp/test_g711.c  G.711 against its formulas and librem */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rem_g711.h>    /* librem: the independent reference */

#include "g711.h"
#include "harness.h"

/*
 * The G.711 formulas written again here, plainly, so the tables in
 * g711.c are checked against something other than their generator.
 */
static int ref_udec(uint8_t c)
{
	unsigned u = (uint8_t)~c;
	unsigned seg = (u >> 4) & 7, mant = u & 0xf;
	int mag = (int)(((mant << 3) + 132) << seg) - 132;

	return (u & 0x80) ? -mag : mag;
}

static int ref_adec(uint8_t c)
{
	unsigned a = c ^ 0x55u;
	unsigned seg = (a >> 4) & 7, mant = a & 0xf;
	int mag;

	if (seg == 0)
		mag = (int)(mant << 4) + 8;
	else
		mag = (int)(((mant << 4) + 264) << (seg - 1));
	return (a & 0x80) ? mag : -mag;
}

/* Position of a code on its law's scale: -128..-1, 0..127. */
static int ulaw_step(uint8_t c)
{
	return (c & 0x80) ? 0x7f - (c & 0x7f) : -(0x80 - (c & 0x7f));
}

static int alaw_step(uint8_t c)
{
	uint8_t a = c ^ 0x55;

	return (a & 0x80) ? (a & 0x7f) : -1 - (a & 0x7f);
}

static int test_decode_tables(void)
{
	unsigned c;
	int err = 0;

	for (c = 0; c < 256; c++) {
		TEST_EQ(ref_udec((uint8_t)c), g711_ulaw_decode((uint8_t)c));
		TEST_EQ(ref_adec((uint8_t)c), g711_alaw_decode((uint8_t)c));
		TEST_EQ(g711_alaw2pcm((uint8_t)c), g711_tab_adec[c]);
		/*
		 * librem decodes mu-law's two zero codes as +-2, the middle
		 * of the 0..3 interval; G.711 Table 2 (and G.191) says 0.
		 */
		if (c == 0xff || c == 0x7f)
			TEST_EQ(c == 0xff ? 2 : -2, g711_ulaw2pcm((uint8_t)c));
		else
			TEST_EQ(g711_ulaw2pcm((uint8_t)c), g711_tab_udec[c]);
	}
	TEST_EQ(32124, g711_ulaw_decode(0x80));
	TEST_EQ(-32124, g711_ulaw_decode(0x00));
	TEST_EQ(0, g711_ulaw_decode(0xff));
	TEST_EQ(0, g711_ulaw_decode(0x7f));
	TEST_EQ(32256, g711_alaw_decode(0xaa));
	TEST_EQ(8, g711_alaw_decode(0xd5));
	TEST_EQ(-8, g711_alaw_decode(0x55));
 out:
	return err;
}

/*
 * Every 16-bit input against librem. librem codes a negative x by the
 * magnitude -x, we by ~x (ITU-T G.191), so our x is its x + 1; at -1
 * ours is the negative zero level. librem cannot take -32768.
 */
static int test_encode_vs_librem(void)
{
	int32_t x;
	int err = 0;

	for (x = -32768; x <= 32767; x++) {
		uint8_t u = g711_ulaw_encode((int16_t)x);
		uint8_t a = g711_alaw_encode((int16_t)x);

		if (x >= 0) {
			TEST_EQ(g711_pcm2ulaw((int16_t)x), u);
			TEST_EQ(g711_pcm2alaw((int16_t)x), a);
		}
		else if (x <= -2) {
			TEST_EQ(g711_pcm2ulaw((int16_t)(x + 1)), u);
			TEST_EQ(g711_pcm2alaw((int16_t)(x + 1)), a);
		}
		else {
			TEST_EQ(0x7f, u);
			TEST_EQ(0x55, a);
		}
	}
	/* the ends of the scale */
	TEST_EQ(0x80, g711_ulaw_encode(32767));
	TEST_EQ(0x00, g711_ulaw_encode(-32768));
	TEST_EQ(0xaa, g711_alaw_encode(32767));
	TEST_EQ(0x2a, g711_alaw_encode(-32768));
 out:
	return err;
}

/* Decoding then encoding gives the code back (bar mu-law's -0). */
static int test_code_roundtrip(void)
{
	unsigned c;
	int err = 0;

	for (c = 0; c < 256; c++) {
		uint8_t u = g711_ulaw_encode(g711_ulaw_decode((uint8_t)c));

		TEST_EQ(c == 0x7f ? 0xff : c, u);
		TEST_EQ(c, g711_alaw_encode(g711_alaw_decode((uint8_t)c)));
	}
 out:
	return err;
}

/*
 * The conversion tables are "decode, re-quantise the exact value with
 * the other law" (g711.h): check each entry with librem's coder on the
 * magnitude, and that they are sign-symmetric.
 */
static int test_conversion_tables(void)
{
	unsigned c;
	int err = 0;

	for (c = 0; c < 256; c++) {
		int uv = g711_ulaw2pcm((uint8_t)c);
		int av = g711_alaw2pcm((uint8_t)c);
		uint8_t a = g711_pcm2alaw((int16_t)abs(uv));
		uint8_t u = g711_pcm2ulaw((int16_t)abs(av));

		TEST_EQ((c & 0x80) ? a : (a & 0x7f), g711_tab_u2a[c]);
		TEST_EQ((c & 0x80) ? u : (u & 0x7f), g711_tab_a2u[c]);
		TEST_EQ(g711_tab_u2a[c] ^ 0x80, g711_tab_u2a[c ^ 0x80]);
		TEST_EQ(g711_tab_a2u[c] ^ 0x80, g711_tab_a2u[c ^ 0x80]);
		/* never more than one step of the target law off */
		TEST_TRUE(abs(g711_alaw2pcm(g711_tab_u2a[c]) - uv) <=
			  (abs(uv) < 2048 ? 32 : abs(uv) / 32 + 1));
	}
 out:
	return err;
}

/* Law to law and back: the code, or (16 of 256) its neighbour. */
static int test_law_roundtrip(void)
{
	unsigned c, same_a = 0, same_u = 0;
	int err = 0;

	for (c = 0; c < 256; c++) {
		uint8_t a = g711_tab_u2a[g711_tab_a2u[c]];
		uint8_t u = g711_tab_a2u[g711_tab_u2a[c]];

		TEST_TRUE(abs(alaw_step(a) - alaw_step((uint8_t)c)) <= 1);
		TEST_TRUE(abs(ulaw_step(u) - ulaw_step((uint8_t)c)) <= 1);
		/* the sign always survives */
		TEST_EQ(c & 0x80, a & 0x80);
		same_a += a == c;
		same_u += u == c;
	}
	TEST_EQ(256 - 16, same_a);
	TEST_EQ(256 - 16, same_u);
 out:
	return err;
}

static int test_buffers(void)
{
	uint8_t u[256], a[256], back[256], buf[256];
	int16_t pcm[256];
	unsigned i;
	int err = 0;

	for (i = 0; i < 256; i++)
		u[i] = (uint8_t)i;
	g711_ulaw_to_alaw(a, u, 256);
	for (i = 0; i < 256; i++)
		TEST_EQ(g711_tab_u2a[i], a[i]);
	g711_alaw_to_ulaw(back, a, 256);
	for (i = 0; i < 256; i++)
		TEST_EQ(g711_tab_a2u[a[i]], back[i]);

	/* in place */
	memcpy(buf, u, sizeof(buf));
	g711_ulaw_to_alaw(buf, buf, 256);
	TEST_EQ(0, memcmp(buf, a, sizeof(buf)));
	g711_alaw_to_ulaw(buf, buf, 256);
	TEST_EQ(0, memcmp(buf, back, sizeof(buf)));

	g711_ulaw_to_pcm(pcm, u, 256);
	g711_pcm_to_ulaw(buf, pcm, 256);
	for (i = 0; i < 256; i++)
		TEST_EQ(i == 0x7f ? 0xff : i, buf[i]);
	g711_alaw_to_pcm(pcm, u, 256);
	g711_pcm_to_alaw(buf, pcm, 256);
	TEST_EQ(0, memcmp(buf, u, sizeof(buf)));

	/* zero length touches nothing */
	g711_ulaw_to_alaw(NULL, NULL, 0);
 out:
	return err;
}

static double snr_db(const int16_t *ref, const int16_t *got, size_t n)
{
	double sig = 0, noise = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double d = (double)got[i] - ref[i];

		sig += (double)ref[i] * ref[i];
		noise += d * d;
	}
	return 10 * log10(sig / (noise ? noise : 1));
}

/*
 * A 1 kHz tone at -6 dBFS and -30 dBFS, one second at 8 kHz: PCMU,
 * transcoded to PCMA, decoded (and back to PCMU). G.711 keeps a tone
 * some 40 dB above its quantisation noise over this range; the law
 * change may cost a few dB (more at low levels, where A-law is the
 * coarser), never more.
 */
static int test_tone_snr(void)
{
	static int16_t src[8000], dst[8000];
	static uint8_t ulaw[8000], alaw[8000];
	static const double levels[] = { 0.5, 0.0316 };
	double snr_u, snr_ua, snr_uau;
	size_t i, l;
	int err = 0;

	for (l = 0; l < 2; l++) {
		for (i = 0; i < 8000; i++) {
			double ph = 2 * M_PI * 1000 * (double)i / 8000 + 0.3;

			src[i] = (int16_t)lrint(32767 * levels[l] * sin(ph));
		}
		g711_pcm_to_ulaw(ulaw, src, 8000);
		g711_ulaw_to_pcm(dst, ulaw, 8000);
		snr_u = snr_db(src, dst, 8000);

		g711_ulaw_to_alaw(alaw, ulaw, 8000);
		g711_alaw_to_pcm(dst, alaw, 8000);
		snr_ua = snr_db(src, dst, 8000);

		g711_alaw_to_ulaw(ulaw, alaw, 8000);
		g711_ulaw_to_pcm(dst, ulaw, 8000);
		snr_uau = snr_db(src, dst, 8000);

		printf("  %.1f dBFS: PCMU %.1f dB, PCMU->PCMA %.1f dB, "
		       "and back %.1f dB\n", 20 * log10(levels[l]), snr_u,
		       snr_ua, snr_uau);
		TEST_TRUE(snr_u > 35);
		TEST_TRUE(snr_ua > 30);
		TEST_TRUE(snr_uau > 30);
		TEST_TRUE(snr_u - snr_ua < 6);
	}
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_decode_tables),
	HARNESS_TEST(test_encode_vs_librem),
	HARNESS_TEST(test_code_roundtrip),
	HARNESS_TEST(test_conversion_tables),
	HARNESS_TEST(test_law_roundtrip),
	HARNESS_TEST(test_buffers),
	HARNESS_TEST(test_tone_snr),
};

HARNESS_MAIN(tests)
