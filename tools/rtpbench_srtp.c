/* tools/rtpbench_srtp.c  SDES keys and SRTP sessions of the SRTP legs */
/*
 * rtpbench is a peer of the relay, not a copy of it: it keeps its own
 * a=crypto key handling (RFC 4568 section 9.1: "inline:" base64 of key
 * and salt, optional lifetime, no MKI) rather than mediad's sdes.c, so
 * a misreading in one does not hide the same misreading in the other.
 * The transform is mediad's own srtpx.c, compiled in: Debian's
 * libsrtp2 (built on NSS, several allocations per packet) cost the
 * load tool more CPU than the relay, so the bench measured itself.
 * With the transform shared, a bug in it would not show here as
 * loss: test_srtpx is what checks srtpx against libsrtp2.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "rtpbench.h"
#include "srtpx.h"

_Static_assert(RB_PKT_ROOM >= RB_PKT_LEN + SRTPX_TAILROOM,
	       "send buffer too small for the SRTP trailer");
_Static_assert(RB_SRTP_KEYLEN == SRTPX_KEYSALT_LEN,
	       "key length of AES_CM_128");

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int rb_srtp_init(void)
{
	return 0;              /* srtpx needs no global set-up */
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
	srtpx_free(leg->srtp_tx);
	srtpx_free(leg->srtp_rx);
	leg->srtp_tx = leg->srtp_rx = NULL;
}

int rb_srtp_leg_open(struct rb_leg *leg, const uint8_t *tx_key,
		     const uint8_t *rx_key, uint32_t rx_ssrc)
{
	int err;

	(void)rx_ssrc;         /* srtpx takes any SSRC, state preallocated */
	leg->srtp_tx = leg->srtp_rx = NULL;
	err = srtpx_new(&leg->srtp_tx, SRTPX_AES_CM_128_HMAC_SHA1_80, tx_key,
			false);
	if (!err)
		err = srtpx_new(&leg->srtp_rx, SRTPX_AES_CM_128_HMAC_SHA1_80,
				rx_key, true);
	if (err)
		rb_srtp_leg_close(leg);
	return err;
}
