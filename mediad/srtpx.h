/* mediad/srtpx.h  SRTP and SRTCP (RFC 3711) on OpenSSL, no allocation per packet */
#ifndef MEDIAD_SRTPX_H
#define MEDIAD_SRTPX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A session is one direction of one key: either it protects what we
 * send (outbound) or it unprotects what a peer sends (inbound), RTP and
 * RTCP alike, any SSRC. It is made on the control thread (the only
 * allocation: the session and its two OpenSSL cipher contexts), used
 * by one worker at a time, and freed on the control thread once no
 * worker uses it.
 *
 * Transform: AES-128 counter mode and HMAC-SHA1 (RFC 3711 sections
 * 4.1.1 and 4.2), key derivation rate 0 (section 4.3: the six session
 * keys are derived once, at creation), no MKI. Suites:
 *   SRTPX_AES_CM_128_HMAC_SHA1_80  80-bit RTP tag
 *   SRTPX_AES_CM_128_HMAC_SHA1_32  32-bit RTP tag
 * SRTCP carries the 80-bit tag with either (RFC 4568 section 6.2.2,
 * RFC 5764's SRTP_AES128_CM_HMAC_SHA1_32 profile) and is always sent
 * encrypted (E bit set).
 *
 * Per SSRC state lives in fixed tables inside the session, one for RTP
 * and one for RTCP, SRTPX_SSRC_MAX slots each; a new SSRC takes a free
 * slot or the least recently used one, so a new SSRC never allocates.
 * An inbound SSRC that lost its slot starts over on its next packet.
 */

enum srtpx_suite {
	SRTPX_SUITE_NONE = 0,
	SRTPX_AES_CM_128_HMAC_SHA1_80,
	SRTPX_AES_CM_128_HMAC_SHA1_32,
};

#define SRTPX_KEY_LEN      16
#define SRTPX_SALT_LEN     14
#define SRTPX_KEYSALT_LEN  (SRTPX_KEY_LEN + SRTPX_SALT_LEN)
#define SRTPX_SSRC_MAX     8
#define SRTPX_WINDOW       64      /* replay window, packets */
/* Bytes srtpx_protect() may add: SRTCP's E bit and index, then an
 * 80-bit tag (SRTP adds 10 or 4). */
#define SRTPX_TAILROOM     (4 + 10)

struct srtpx;

/*
 * Control thread: a session of <suite> from <keysalt> (master key then
 * master salt, SRTPX_KEYSALT_LEN bytes); <inbound> for unprotecting.
 * Returns 0 and *<sp>, EINVAL (no such suite) or ENOMEM. The session
 * keeps no copy of the master key.
 */
int  srtpx_new(struct srtpx **sp, enum srtpx_suite suite,
	       const uint8_t *keysalt, bool inbound);
/* Control thread, once no worker uses <s>. Safe on NULL. */
void srtpx_free(struct srtpx *s);

/*
 * Worker: in place on <pkt> of *<lenp> bytes, RTP or (<rtcp>) RTCP;
 * *<lenp> is updated. srtpx_protect() needs SRTPX_TAILROOM bytes free
 * after the packet; it on an outbound session, srtpx_unprotect() on an
 * inbound one. Returns 0, EBADMSG (the tag does not verify), EALREADY
 * (a replay, or older than the window) or EINVAL (not a packet of the
 * session's direction that SRTP can take: too short, not version 2).
 * On error the packet may be changed (protect) or left as it was
 * (unprotect) and no per-SSRC state moves.
 */
int  srtpx_protect(struct srtpx *s, uint8_t *pkt, uint32_t *lenp,
		   bool rtcp);
int  srtpx_unprotect(struct srtpx *s, uint8_t *pkt, uint32_t *lenp,
		     bool rtcp);

/*
 * The two primitives underneath, for RFC 3711 Appendix B's test
 * vectors; they make an OpenSSL context per call (startup or tests
 * only). srtpx_kdf(): <len> bytes of the key with <label> (section
 * 4.3.1, kdr 0) from <master_key> and <master_salt>.
 * srtpx_keystream(): <len> bytes of AES-CM keystream (section 4.1.1)
 * under session key <key> and session salt <salt> for <ssrc> and
 * packet index <index>. Return 0 or ENOMEM.
 */
int  srtpx_kdf(const uint8_t *master_key, const uint8_t *master_salt,
	       uint8_t label, uint8_t *out, size_t len);
int  srtpx_keystream(const uint8_t *key, const uint8_t *salt,
		     uint32_t ssrc, uint64_t index, uint8_t *out,
		     size_t len);

#endif
