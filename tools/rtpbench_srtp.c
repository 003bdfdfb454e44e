/* tools/rtpbench_srtp.c  SDES keys and libsrtp sessions of the SRTP legs */
/*
 * rtpbench is a peer of the relay, not a copy of it: it keeps its own
 * a=crypto key handling (RFC 4568 section 9.1: "inline:" base64 of key
 * and salt, optional lifetime, no MKI) rather than mediad's sdes.c, so
 * a misreading in one does not hide the same misreading in the other.
 * The transform itself is libsrtp2's, as in mediad.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <srtp2/srtp.h>

#include "rtpbench.h"

_Static_assert(RB_PKT_ROOM >= RB_PKT_LEN + SRTP_MAX_TRAILER_LEN,
	       "send buffer too small for libsrtp's trailer");
_Static_assert(RB_SRTP_KEYLEN == SRTP_AES_ICM_128_KEY_LEN_WSALT,
	       "key length of AES_CM_128");

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int rb_srtp_init(void)
{
	static bool done;

	/* called from main() before any worker exists */
	if (done)
		return 0;
	if (srtp_init() != srtp_err_status_ok)
		return EIO;
	done = true;
	return 0;
}

int rb_srtp_keygen(uint8_t *key)
{
	size_t got = 0;
	unsigned tries;

	for (tries = 0; got < RB_SRTP_KEYLEN && tries < 16; tries++) {
		ssize_t n = getrandom(key + got, RB_SRTP_KEYLEN - got, 0);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		got += (size_t)n;
	}
	return got == RB_SRTP_KEYLEN ? 0 : EIO;
}

/* 30 bytes are ten 3-byte groups: 40 characters, no padding */
void rb_srtp_key_print(const uint8_t *key, char *out)
{
	unsigned i, o = 0;

	for (i = 0; i < RB_SRTP_KEYLEN; i += 3) {
		uint32_t v = (uint32_t)key[i] << 16 |
			     (uint32_t)key[i + 1] << 8 | key[i + 2];

		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	out[o] = '\0';
}

static int b64_val(char ch)
{
	const char *p;

	if (!ch)
		return -1;
	p = strchr(b64, ch);
	return p ? (int)(p - b64) : -1;
}

static int why_set(char *why, size_t whysz, int err, const char *msg)
{
	snprintf(why, whysz, "%s", msg);
	return err;
}

int rb_srtp_key_parse(const char *params, uint8_t *key, char *why,
		      size_t whysz)
{
	const char *p, *end;
	unsigned i, o = 0;

	if (strncmp(params, "inline:", 7))
		return why_set(why, whysz, EINVAL, "a=crypto key method is "
			       "not inline");
	p = params + 7;
	end = p + strcspn(p, "|; \t");
	if (*end == ';')
		return why_set(why, whysz, ENOTSUP, "a=crypto with several "
			       "keys");
	/* 40 characters; a padded 30-byte key would not be a multiple */
	if (end - p != RB_SRTP_B64LEN)
		return why_set(why, whysz, EINVAL, "a=crypto key is not 40 "
			       "base64 characters");
	for (i = 0; i < RB_SRTP_B64LEN; i += 4) {
		int a = b64_val(p[i]), b = b64_val(p[i + 1]);
		int c = b64_val(p[i + 2]), d = b64_val(p[i + 3]);
		uint32_t v;

		if (a < 0 || b < 0 || c < 0 || d < 0)
			return why_set(why, whysz, EINVAL, "a=crypto key is "
				       "not base64");
		v = (uint32_t)a << 18 | (uint32_t)b << 12 |
		    (uint32_t)c << 6 | (uint32_t)d;
		key[o++] = (uint8_t)(v >> 16);
		key[o++] = (uint8_t)(v >> 8);
		key[o++] = (uint8_t)v;
	}
	/* "|2^31" is a lifetime (ignored); "|1:4" an MKI we cannot use */
	while (*end == '|') {
		const char *f = end + 1;

		end = f + strcspn(f, "| \t");
		if (memchr(f, ':', (size_t)(end - f)))
			return why_set(why, whysz, ENOTSUP, "a=crypto with "
				       "an MKI");
	}
	return 0;
}

void rb_srtp_leg_close(struct rb_leg *leg)
{
	if (leg->srtp_tx)
		srtp_dealloc(leg->srtp_tx);
	if (leg->srtp_rx)
		srtp_dealloc(leg->srtp_rx);
	leg->srtp_tx = leg->srtp_rx = NULL;
}

static void policy_80(srtp_policy_t *pol, unsigned char *key)
{
	memset(pol, 0, sizeof(*pol));
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
	pol->key = key;
	pol->window_size = 128;
}

int rb_srtp_leg_open(struct rb_leg *leg, const uint8_t *tx_key,
		     const uint8_t *rx_key, uint32_t rx_ssrc)
{
	unsigned char k_tx[RB_SRTP_KEYLEN], k_rx[RB_SRTP_KEYLEN];
	srtp_policy_t tx, rx, any;
	srtp_err_status_t st;
	int err = 0;

	leg->srtp_tx = leg->srtp_rx = NULL;
	memcpy(k_tx, tx_key, sizeof(k_tx));
	memcpy(k_rx, rx_key, sizeof(k_rx));

	/* a specific SSRC: the stream exists now, not at the first send */
	policy_80(&tx, k_tx);
	tx.ssrc.type = ssrc_specific;
	tx.ssrc.value = leg->ssrc;
	st = srtp_create(&leg->srtp_tx, &tx);
	if (st != srtp_err_status_ok) {
		leg->srtp_tx = NULL;
		err = st == srtp_err_status_alloc_fail ? ENOMEM : EINVAL;
		goto out;
	}

	policy_80(&rx, k_rx);
	rx.ssrc.type = ssrc_specific;
	rx.ssrc.value = rx_ssrc;
	policy_80(&any, k_rx);
	any.ssrc.type = ssrc_any_inbound;
	rx.next = &any;
	st = srtp_create(&leg->srtp_rx, &rx);
	if (st != srtp_err_status_ok) {
		leg->srtp_rx = NULL;
		err = st == srtp_err_status_alloc_fail ? ENOMEM : EINVAL;
	}
 out:
	memset(k_tx, 0, sizeof(k_tx));
	memset(k_rx, 0, sizeof(k_rx));
	if (err)
		rb_srtp_leg_close(leg);
	return err;
}
