/* mediad/sdes.h  SDES keys (RFC 4568 a=crypto) and the SRTP sessions built from them */
#ifndef MEDIAD_SDES_H
#define MEDIAD_SDES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "srtpx.h"

/*
 * Two halves. The first is pure text: parse the key-params of an
 * a=crypto line into a struct sdes_key, print one back, make a fresh
 * key. The second makes the SRTP sessions of a key (srtpx.h): a
 * session is created from a key on the control thread at NG command
 * time, used by exactly one worker in its packet path (srtpx_protect /
 * srtpx_unprotect, in place, no allocation) and freed on the control
 * thread once that worker let go of it.
 *
 * Suites: AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32 (RFC
 * 4568 section 6.2). For _32, SRTCP keeps the 80-bit tag (section
 * 6.2.2 of RFC 4568 and RFC 3711's default).
 *
 * What the parser accepts (RFC 4568 section 9.2, "inline" only):
 *   inline:<base64 of 16 key + 14 salt bytes, exactly 40 characters>
 *          [|<lifetime: digits or 2^digits>]  checked, then ignored
 *          [|<MKI value>:<MKI length>]        ENOTSUP: mediad sends and
 *                                             expects no MKI field, so
 *                                             such a line is not usable
 *   one key-params only (a second ";inline:" needs MKIs: ENOTSUP)
 *   session parameters: WSH=<n> is ignored, any other one is ENOTSUP
 *   (KDR, UNENCRYPTED_SRTP, ... would change the transform).
 */

enum sdes_suite {
	SDES_SUITE_NONE = 0,
	SDES_AES_CM_128_HMAC_SHA1_80,
	SDES_AES_CM_128_HMAC_SHA1_32,
};

#define SDES_SUITE_BIT(s)  (1u << (s))
#define SDES_SUITES_ALL    (SDES_SUITE_BIT(SDES_AES_CM_128_HMAC_SHA1_80) | \
			    SDES_SUITE_BIT(SDES_AES_CM_128_HMAC_SHA1_32))

#define SDES_KEYSALT_LEN   30      /* 128-bit key, 112-bit salt */
#define SDES_B64_LEN       40      /* base64 of SDES_KEYSALT_LEN */
#define SDES_PARAMS_MAX    64      /* "inline:" + key + NUL, rounded */
/* Bytes a packet buffer must have free after the packet for
 * srtpx_protect(): the SRTCP index and an 80-bit tag. */
#define SDES_TAILROOM      SRTPX_TAILROOM

struct sdes_key {
	uint32_t tag;
	enum sdes_suite suite;
	uint8_t keysalt[SDES_KEYSALT_LEN];
};

/* Suite named by <p>/<len> (case-sensitive, as RFC 4568 writes them);
 * SDES_SUITE_NONE when mediad does not do it. */
enum sdes_suite sdes_suite_parse(const char *p, size_t len);
/* "AES_CM_128_HMAC_SHA1_80"; "" for NONE. */
const char *sdes_suite_name(enum sdes_suite s);

/*
 * Parse the a=crypto line <tag> <suite> <params> (as sdp.c split it:
 * <params> is everything after the suite) into <k>. Returns 0, ENOTSUP
 * (a suite or option mediad does not do: skip the line) or EINVAL
 * (malformed for a suite mediad knows: reject the SDP). <why> (optional,
 * <wsz> bytes) says what was wrong. Never reads past <params>' NUL.
 */
int  sdes_parse(struct sdes_key *k, uint32_t tag, const char *suite,
		const char *params, char *why, size_t wsz);
/* Write "inline:<base64>" of <k> into <buf> (at least SDES_PARAMS_MAX
 * bytes). Returns 0 or ENOSPC. */
int  sdes_params_print(const struct sdes_key *k, char *buf, size_t size);
/* A fresh random key for <suite> with <tag> (OpenSSL RAND_bytes).
 * Returns 0, EINVAL (no such suite) or EIO (no randomness). */
int  sdes_keygen(struct sdes_key *k, enum sdes_suite suite, uint32_t tag);
/* Same suite and key material (the tag does not count). */
bool sdes_key_eq(const struct sdes_key *a, const struct sdes_key *b);

/* Kept for mediad_start(): sessions need no global set-up. Returns 0. */
int  sdes_global_init(void);
/*
 * Control thread: the SRTP session (SRTP and SRTCP, any SSRC) for key
 * <k>; <inbound> for unprotecting what the peer sends (its key), else
 * for protecting what we send (our key). Returns 0 and *sp, EINVAL or
 * ENOMEM.
 */
int  sdes_session_new(struct srtpx **sp, const struct sdes_key *k,
		      bool inbound);
/* Control thread, once no worker uses it. Safe on NULL. */
void sdes_session_free(struct srtpx *s);

#endif
