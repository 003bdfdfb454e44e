/* mediad/g711.h  G.711 mu-law and A-law coding, law-to-law conversion */
#ifndef MEDIAD_G711_H
#define MEDIAD_G711_H

#include <stddef.h>
#include <stdint.h>

/*
 * Everything here runs on the packet path: no allocation, no state, no
 * init call. Decoding and law-to-law conversion are one load from a
 * 256-entry table in .rodata (g711.c); encoding is a few shifts with no
 * data-dependent branch.
 *
 * Linear samples are 16-bit two's complement, full scale. A negative
 * sample x is coded by the magnitude ~x (= -x - 1), as the ITU-T G.191
 * reference coder does: the quantiser is then symmetric around -0.5 and
 * -32768 needs no special case. librem codes -x instead, so the two
 * differ by one input step on negative decision boundaries only
 * (test_g711.c checks exactly that).
 *
 * Law-to-law conversion is "decode with one law, quantise the exact
 * reconstruction value with the other": the result a decode/encode
 * transcoder would give, sign-symmetric by construction. It differs
 * from the conversion tables printed in G.711 (Tables 3 and 4) by one
 * step in the few entries whose value lies on a decision level of the
 * other law. A->u->A and u->A->u return the original code for all but
 * 16 of 256 codes, and those come back one step away.
 */

extern const int16_t g711_tab_udec[256];  /* mu-law code -> linear */
extern const int16_t g711_tab_adec[256];  /* A-law code -> linear */
extern const uint8_t g711_tab_u2a[256];   /* mu-law code -> A-law code */
extern const uint8_t g711_tab_a2u[256];   /* A-law code -> mu-law code */

/* Decode one mu-law code. */
static inline int16_t g711_ulaw_decode(uint8_t u)
{
	return g711_tab_udec[u];
}

/* Decode one A-law code. */
static inline int16_t g711_alaw_decode(uint8_t a)
{
	return g711_tab_adec[a];
}

/*
 * Encode one sample as mu-law (G.711 section 2). The 14-bit magnitude
 * is biased by 33 so that the segment is the position of its leading
 * one: segment = bit length - 6, mantissa = the four bits below it.
 * The code is sent inverted, sign bit set for x >= 0.
 */
static inline uint8_t g711_ulaw_encode(int16_t x)
{
	uint32_t mag = (uint32_t)(x < 0 ? ~x : x);
	uint32_t b = (mag >> 2) + 33;
	uint32_t seg, mant;

	b = b > 0x1fff ? 0x1fff : b;                     /* clip at 8158 */
	seg = 26 - (uint32_t)__builtin_clz(b);           /* 0..7 */
	mant = (b >> (seg + 1)) & 0xf;
	return (uint8_t)((0x7f ^ (seg << 4 | mant)) | (uint32_t)(x >= 0) << 7);
}

/*
 * Encode one sample as A-law (G.711 section 3). The 12-bit magnitude
 * has segments 0 and 1 sharing one step size; above that the segment is
 * bit length - 4. Even bits are inverted (xor 0x55), sign bit set for
 * x >= 0.
 */
static inline uint8_t g711_alaw_encode(int16_t x)
{
	uint32_t mag = (uint32_t)(x < 0 ? ~x : x) >> 4;  /* 0..2047 */
	uint32_t seg = 28 - (uint32_t)__builtin_clz(mag | 0x10);  /* 1..7 */
	uint32_t mant = (mag >> (seg - 1)) & 0xf;

	seg -= (mag < 0x10);                              /* segment 0 */
	return (uint8_t)(((seg << 4 | mant) | (uint32_t)(x >= 0) << 7) ^ 0x55);
}

/* Convert <n> mu-law codes at <src> to A-law at <dst> (may equal <src>). */
static inline void g711_ulaw_to_alaw(uint8_t *dst, const uint8_t *src,
				     size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = g711_tab_u2a[src[i]];
}

/* Convert <n> A-law codes at <src> to mu-law at <dst> (may equal <src>). */
static inline void g711_alaw_to_ulaw(uint8_t *dst, const uint8_t *src,
				     size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = g711_tab_a2u[src[i]];
}

/* Decode <n> mu-law codes at <src> into <dst>. */
static inline void g711_ulaw_to_pcm(int16_t *dst, const uint8_t *src,
				    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = g711_tab_udec[src[i]];
}

/* Decode <n> A-law codes at <src> into <dst>. */
static inline void g711_alaw_to_pcm(int16_t *dst, const uint8_t *src,
				    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = g711_tab_adec[src[i]];
}

/* Encode <n> samples at <src> as mu-law into <dst>. */
static inline void g711_pcm_to_ulaw(uint8_t *dst, const int16_t *src,
				    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = g711_ulaw_encode(src[i]);
}

/* Encode <n> samples at <src> as A-law into <dst>. */
static inline void g711_pcm_to_alaw(uint8_t *dst, const int16_t *src,
				    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = g711_alaw_encode(src[i]);
}

#endif
