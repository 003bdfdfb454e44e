/* mediad/srtpx.c  SRTP and SRTCP (RFC 3711) on OpenSSL, no allocation per packet */
/*
 * Why not libsrtp2: Debian 12's libsrtp2 2.5.0 is built against NSS,
 * not OpenSSL, and each protect or unprotect makes about eight
 * allocations (NSS contexts made and dropped per packet) and takes
 * 5-16 us. mediad's packet path allocates nothing and takes no lock.
 *
 * Why the low-level SHA1_Init/Update/Final (deprecated in OpenSSL 3.0,
 * hence OPENSSL_SUPPRESS_DEPRECATED here and nowhere else): HMAC wants
 * the states after the key's inner and outer pads computed once and
 * copied per packet. OpenSSL 3.0's EVP_MAC_CTX_dup and
 * EVP_MD_CTX_copy_ex both duplicate a provider context, a malloc per
 * packet; a SHA_CTX is a plain struct, so a copy is an assignment, and
 * SHA1_Update still runs OpenSSL's SHA-NI/AVX code. Writing SHA-1's
 * compression ourselves (as stun.c does for its rare messages) would
 * lose that speed.
 *
 * AES-CM is EVP_aes_128_ctr on a context keyed at creation; per packet
 * only the IV is set (EVP_EncryptInit_ex with no cipher and no key
 * resets the provider's counter state in place, no fetch, no
 * allocation: test_srtpx counts allocations to hold us to that). The
 * SRTP counter is the IV plus the block number in its low 16 bits,
 * which is what a 128-bit big-endian counter starting at an IV whose
 * low 16 bits are zero produces for packets under 2^20 bytes.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "srtpx.h"

enum label {                       /* RFC 3711 section 4.3.2 */
	LABEL_RTP_ENC = 0,
	LABEL_RTP_AUTH,
	LABEL_RTP_SALT,
	LABEL_RTCP_ENC,
	LABEL_RTCP_AUTH,
	LABEL_RTCP_SALT,
};

#define AUTH_KEY_LEN   20          /* n_a, HMAC-SHA1's 160 bits */
#define TAG_80         10
#define TAG_32         4
#define RTP_HDR        12
#define RTCP_HDR       8           /* V/P/RC, PT, length, sender SSRC */
#define SRTCP_E        0x80000000u
#define INDEX_MAX      0x7fffffffu /* SRTCP index, 31 bits */

/* HMAC-SHA1 keyed once: the states after (key ^ ipad) and (key ^ opad) */
struct hmac {
	SHA_CTX inner;
	SHA_CTX outer;
};

/* The session keys of RTP or of RTCP */
struct keys {
	EVP_CIPHER_CTX *aes;       /* keyed with the session key */
	uint8_t salt[SRTPX_SALT_LEN];
	uint32_t tag_len;
	struct hmac mac;
};

/*
 * One SSRC. RTP: <hi> is the highest packet index accepted (inbound)
 * or sent (outbound), ROC << 16 | SEQ. RTCP: the highest SRTCP index
 * accepted (inbound), or the next one to send (outbound). <win> bit n:
 * index <hi> - n was accepted (inbound only).
 */
struct slot {
	uint64_t used;             /* LRU stamp; 0: free */
	uint64_t hi;
	uint64_t win;
	uint32_t ssrc;
};

struct srtpx {
	bool inbound;
	uint64_t clock;            /* LRU stamps, one tick per packet */
	struct keys rtp;
	struct keys rtcp;
	struct slot rtp_ssrc[SRTPX_SSRC_MAX];
	struct slot rtcp_ssrc[SRTPX_SSRC_MAX];
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 3711 section 4.1.1: IV = (salt << 16) ^ (SSRC << 64) ^ (i << 16) */
static void make_iv(uint8_t *iv, const uint8_t *salt, uint32_t ssrc,
		    uint64_t index)
{
	unsigned i;

	memcpy(iv, salt, SRTPX_SALT_LEN);
	iv[14] = iv[15] = 0;
	for (i = 0; i < 4; i++)
		iv[4 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
	for (i = 0; i < 6; i++)
		iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

/* XOR <n> bytes at <p> with the keystream of <c> from <iv>, in place. */
static int ctr_xor(EVP_CIPHER_CTX *c, const uint8_t *iv, uint8_t *p,
		   size_t n)
{
	int outl;

	if (!n)
		return 0;
	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(c, p, &outl, p, (int)n) != 1)
		return EINVAL;
	return 0;
}

/* One-shot AES-CM for the KDF and the tests: a context per call. */
static int ctr_once(const uint8_t *key, const uint8_t *iv, uint8_t *out,
		    size_t len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int err;

	if (!c)
		return ENOMEM;
	memset(out, 0, len);
	if (EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, NULL) != 1)
		err = ENOMEM;
	else
		err = ctr_xor(c, iv, out, len);
	EVP_CIPHER_CTX_free(c);
	return err;
}

/*
 * RFC 3711 section 4.3.1 with kdr 0: r = 0, so
 * x = (label << 48) ^ master_salt and the key is AES-CM under the
 * master key from IV x << 16. The label lands in the salt's byte 7.
 */
int srtpx_kdf(const uint8_t *master_key, const uint8_t *master_salt,
	      uint8_t label, uint8_t *out, size_t len)
{
	uint8_t iv[16];

	memcpy(iv, master_salt, SRTPX_SALT_LEN);
	iv[14] = iv[15] = 0;
	iv[7] ^= label;
	return ctr_once(master_key, iv, out, len);
}

int srtpx_keystream(const uint8_t *key, const uint8_t *salt,
		    uint32_t ssrc, uint64_t index, uint8_t *out, size_t len)
{
	uint8_t iv[16];

	make_iv(iv, salt, ssrc, index);
	return ctr_once(key, iv, out, len);
}

static void hmac_init(struct hmac *m, const uint8_t *key)
{
	uint8_t pad[64];
	unsigned i;

	memset(pad, 0, sizeof(pad));
	memcpy(pad, key, AUTH_KEY_LEN);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36;
	SHA1_Init(&m->inner);
	SHA1_Update(&m->inner, pad, sizeof(pad));
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	SHA1_Init(&m->outer);
	SHA1_Update(&m->outer, pad, sizeof(pad));
	OPENSSL_cleanse(pad, sizeof(pad));
}

/* HMAC-SHA1 of <p>/<n>, then <tail>/<tn> (the ROC, or nothing). */
static void hmac_tag(const struct hmac *m, const uint8_t *p, size_t n,
		     const uint8_t *tail, size_t tn,
		     uint8_t out[SHA_DIGEST_LENGTH])
{
	SHA_CTX c = m->inner;

	SHA1_Update(&c, p, n);
	if (tn)
		SHA1_Update(&c, tail, tn);
	SHA1_Final(out, &c);
	c = m->outer;
	SHA1_Update(&c, out, SHA_DIGEST_LENGTH);
	SHA1_Final(out, &c);
}

/* Session keys of RTP (<label> 0) or RTCP (<label> 3). */
static int keys_init(struct keys *k, const uint8_t *mk, const uint8_t *ms,
		     uint8_t label, uint32_t tag_len)
{
	uint8_t ek[SRTPX_KEY_LEN], ak[AUTH_KEY_LEN];
	int err;

	k->tag_len = tag_len;
	err = srtpx_kdf(mk, ms, label, ek, sizeof(ek));
	if (!err)
		err = srtpx_kdf(mk, ms, (uint8_t)(label + 1), ak, sizeof(ak));
	if (!err)
		err = srtpx_kdf(mk, ms, (uint8_t)(label + 2), k->salt,
				sizeof(k->salt));
	if (err)
		goto out;
	hmac_init(&k->mac, ak);
	k->aes = EVP_CIPHER_CTX_new();
	if (!k->aes ||
	    EVP_EncryptInit_ex(k->aes, EVP_aes_128_ctr(), NULL, ek, NULL) != 1)
		err = ENOMEM;
 out:
	OPENSSL_cleanse(ek, sizeof(ek));
	OPENSSL_cleanse(ak, sizeof(ak));
	return err;
}

int srtpx_new(struct srtpx **sp, enum srtpx_suite suite,
	      const uint8_t *keysalt, bool inbound)
{
	struct srtpx *s;
	uint32_t tag;
	int err;

	if (!sp || !keysalt)
		return EINVAL;
	switch (suite) {
	case SRTPX_AES_CM_128_HMAC_SHA1_80:
		tag = TAG_80;
		break;
	case SRTPX_AES_CM_128_HMAC_SHA1_32:
		tag = TAG_32;
		break;
	default:
		return EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->inbound = inbound;
	err = keys_init(&s->rtp, keysalt, keysalt + SRTPX_KEY_LEN,
			LABEL_RTP_ENC, tag);
	if (!err)
		err = keys_init(&s->rtcp, keysalt, keysalt + SRTPX_KEY_LEN,
				LABEL_RTCP_ENC, TAG_80);
	if (err) {
		srtpx_free(s);           /* never hand out a half-built one */
		return err;
	}
	*sp = s;
	return 0;
}

void srtpx_free(struct srtpx *s)
{
	if (!s)
		return;
	EVP_CIPHER_CTX_free(s->rtp.aes);
	EVP_CIPHER_CTX_free(s->rtcp.aes);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

static struct slot *slot_find(struct slot *t, uint32_t ssrc)
{
	unsigned i;

	for (i = 0; i < SRTPX_SSRC_MAX; i++) {
		if (t[i].used && t[i].ssrc == ssrc)
			return &t[i];
	}
	return NULL;
}

/* A free slot, else the least recently used one, reset for <ssrc>. */
static struct slot *slot_take(struct slot *t, uint32_t ssrc)
{
	struct slot *v = &t[0];
	unsigned i;

	for (i = 0; i < SRTPX_SSRC_MAX; i++) {
		if (!t[i].used) {
			v = &t[i];
			break;
		}
		if (t[i].used < v->used)
			v = &t[i];
	}
	memset(v, 0, sizeof(*v));
	v->ssrc = ssrc;
	return v;
}

/*
 * RFC 3711 section 3.3.1 and Appendix A: the index of <seq> given the
 * highest index <hi> so far. Negative when the guess is ROC - 1 with a
 * ROC of 0: a packet from before the stream began, never valid.
 */
static int64_t rtp_index(uint64_t hi, uint16_t seq)
{
	int64_t roc = (int64_t)(hi >> 16), v = roc;
	int s_l = (int)(hi & 0xffff);

	if (s_l < 32768) {
		if ((int)seq - s_l > 32768)
			v = roc - 1;
	}
	else if (s_l - 32768 > (int)seq)
		v = roc + 1;
	return v * 65536 + seq;
}

/* Inbound: may <idx> be accepted against <sl>? 0 or EALREADY. */
static int replay_check(const struct slot *sl, int64_t idx)
{
	int64_t delta = idx - (int64_t)sl->hi;

	if (delta > 0)
		return 0;
	if (-delta >= SRTPX_WINDOW || (sl->win >> -delta) & 1)
		return EALREADY;
	return 0;
}

/* Inbound, after the tag verified: record <idx> in <sl>. */
static void replay_add(struct slot *sl, int64_t idx)
{
	int64_t delta = idx - (int64_t)sl->hi;

	if (delta > 0) {
		sl->win = delta >= SRTPX_WINDOW ? 1 : sl->win << delta | 1;
		sl->hi = (uint64_t)idx;
	}
	else
		sl->win |= 1ull << -delta;
}

static void slot_touch(struct srtpx *s, struct slot *sl)
{
	sl->used = ++s->clock;
}

/* Bytes of RTP header in <p>/<len>, with CSRCs and extension. */
static int rtp_hdr_len(const uint8_t *p, uint32_t len, uint32_t *hlp)
{
	uint32_t hl;

	if (len < RTP_HDR || (p[0] >> 6) != 2)
		return EINVAL;
	hl = RTP_HDR + 4u * (p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (len < hl + 4)
			return EINVAL;
		hl += 4 + 4u * ((uint32_t)p[hl + 2] << 8 | p[hl + 3]);
	}
	if (hl > len)
		return EINVAL;
	*hlp = hl;
	return 0;
}

static int rtp_protect(struct srtpx *s, uint8_t *p, uint32_t *lenp)
{
	const struct keys *k = &s->rtp;
	uint8_t iv[16], roc[4], tag[SHA_DIGEST_LENGTH];
	uint32_t len = *lenp, hl, ssrc;
	struct slot *sl;
	uint16_t seq;
	int64_t idx;
	int err;

	err = rtp_hdr_len(p, len, &hl);
	if (err)
		return err;
	seq = (uint16_t)(p[2] << 8 | p[3]);
	ssrc = rd32(p + 8);
	sl = slot_find(s->rtp_ssrc, ssrc);
	if (sl) {
		idx = rtp_index(sl->hi, seq);
		if (idx < 0)
			return EALREADY;
	}
	else
		idx = seq;               /* our first packet: ROC 0 */

	make_iv(iv, k->salt, ssrc, (uint64_t)idx);
	err = ctr_xor(k->aes, iv, p + hl, len - hl);
	if (err)
		return err;
	wr32(roc, (uint32_t)(idx >> 16));
	hmac_tag(&k->mac, p, len, roc, sizeof(roc), tag);
	memcpy(p + len, tag, k->tag_len);
	*lenp = len + k->tag_len;

	/* the relay forwards what its source repeats or reorders: an
	 * index at or below <hi> is protected again, not refused */
	if (!sl) {
		sl = slot_take(s->rtp_ssrc, ssrc);
		sl->hi = (uint64_t)idx;
	}
	else if ((uint64_t)idx > sl->hi)
		sl->hi = (uint64_t)idx;
	slot_touch(s, sl);
	return 0;
}

static int rtp_unprotect(struct srtpx *s, uint8_t *p, uint32_t *lenp)
{
	const struct keys *k = &s->rtp;
	uint8_t iv[16], roc[4], tag[SHA_DIGEST_LENGTH];
	uint32_t len = *lenp, mlen, hl, ssrc;
	struct slot *sl;
	uint16_t seq;
	int64_t idx;
	int err;

	if (len < RTP_HDR + k->tag_len)
		return EINVAL;
	mlen = len - k->tag_len;
	err = rtp_hdr_len(p, mlen, &hl);
	if (err)
		return err;
	seq = (uint16_t)(p[2] << 8 | p[3]);
	ssrc = rd32(p + 8);
	sl = slot_find(s->rtp_ssrc, ssrc);
	if (sl) {
		idx = rtp_index(sl->hi, seq);
		if (idx < 0 || replay_check(sl, idx))
			return EALREADY;
	}
	else
		idx = seq;               /* section 3.3.1: s_l = SEQ, ROC 0 */

	wr32(roc, (uint32_t)(idx >> 16));
	hmac_tag(&k->mac, p, mlen, roc, sizeof(roc), tag);
	if (CRYPTO_memcmp(tag, p + mlen, k->tag_len))
		return EBADMSG;
	make_iv(iv, k->salt, ssrc, (uint64_t)idx);
	err = ctr_xor(k->aes, iv, p + hl, mlen - hl);
	if (err)
		return err;

	/* only a verified packet moves the ROC and the window, and only
	 * a verified new SSRC may push another out of the table */
	if (!sl) {
		sl = slot_take(s->rtp_ssrc, ssrc);
		sl->hi = (uint64_t)idx;
		sl->win = 1;
	}
	else
		replay_add(sl, idx);
	slot_touch(s, sl);
	*lenp = mlen;
	return 0;
}

/* RFC 3711 section 3.4: E || SRTCP index and the tag after the packet;
 * everything after the first 8 bytes is encrypted. */
static int rtcp_protect(struct srtpx *s, uint8_t *p, uint32_t *lenp)
{
	const struct keys *k = &s->rtcp;
	uint8_t iv[16], tag[SHA_DIGEST_LENGTH];
	uint32_t len = *lenp, ssrc, index;
	struct slot *sl;
	int err;

	if (len < RTCP_HDR || (p[0] >> 6) != 2)
		return EINVAL;
	ssrc = rd32(p + 4);
	sl = slot_find(s->rtcp_ssrc, ssrc);
	index = sl ? (uint32_t)sl->hi : 0;   /* section 3.3.2: from 0 */

	make_iv(iv, k->salt, ssrc, index);
	err = ctr_xor(k->aes, iv, p + RTCP_HDR, len - RTCP_HDR);
	if (err)
		return err;
	wr32(p + len, SRTCP_E | index);
	hmac_tag(&k->mac, p, len + 4, NULL, 0, tag);
	memcpy(p + len + 4, tag, k->tag_len);
	*lenp = len + 4 + k->tag_len;

	if (!sl)
		sl = slot_take(s->rtcp_ssrc, ssrc);
	sl->hi = (index + 1) & INDEX_MAX;
	slot_touch(s, sl);
	return 0;
}

static int rtcp_unprotect(struct srtpx *s, uint8_t *p, uint32_t *lenp)
{
	const struct keys *k = &s->rtcp;
	uint8_t iv[16], tag[SHA_DIGEST_LENGTH];
	uint32_t len = *lenp, mlen, ssrc, ei, index;
	struct slot *sl;
	int err;

	if (len < RTCP_HDR + 4 + k->tag_len || (p[0] >> 6) != 2)
		return EINVAL;
	mlen = len - k->tag_len - 4;
	ei = rd32(p + mlen);
	index = ei & INDEX_MAX;
	ssrc = rd32(p + 4);
	sl = slot_find(s->rtcp_ssrc, ssrc);
	if (sl && replay_check(sl, index))
		return EALREADY;

	hmac_tag(&k->mac, p, mlen + 4, NULL, 0, tag);
	if (CRYPTO_memcmp(tag, p + mlen + 4, k->tag_len))
		return EBADMSG;
	if (ei & SRTCP_E) {              /* E clear: sent unencrypted */
		make_iv(iv, k->salt, ssrc, index);
		err = ctr_xor(k->aes, iv, p + RTCP_HDR, mlen - RTCP_HDR);
		if (err)
			return err;
	}

	if (!sl) {
		sl = slot_take(s->rtcp_ssrc, ssrc);
		sl->hi = index;
		sl->win = 1;
	}
	else
		replay_add(sl, index);
	slot_touch(s, sl);
	*lenp = mlen;
	return 0;
}

int srtpx_protect(struct srtpx *s, uint8_t *pkt, uint32_t *lenp, bool rtcp)
{
	if (!s || !pkt || !lenp || s->inbound)
		return EINVAL;
	return rtcp ? rtcp_protect(s, pkt, lenp) : rtp_protect(s, pkt, lenp);
}

int srtpx_unprotect(struct srtpx *s, uint8_t *pkt, uint32_t *lenp,
		    bool rtcp)
{
	if (!s || !pkt || !lenp || !s->inbound)
		return EINVAL;
	return rtcp ? rtcp_unprotect(s, pkt, lenp) :
		rtp_unprotect(s, pkt, lenp);
}
