/* tests/fuzz/fuzz_srtpx.c  SRTP/SRTCP protect and unprotect (srtpx.c) on any input */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "srtpx.h"

/*
 * The first byte picks RTCP (bit 0) and the 32-bit tag suite (bit 1);
 * the rest is a packet. Whatever it is:
 *  - unprotect on it returns 0, EBADMSG, EALREADY or EINVAL and reads
 *    nothing past it (the copy is exactly its size, for ASan);
 *  - protect returns 0 or EINVAL, writes at most SRTPX_TAILROOM bytes
 *    past it, and what it protected a fresh inbound session gives
 *    back byte for byte, once: the second time is a replay.
 * Sessions are fresh per input so that inputs do not depend on each
 * other's order.
 */

static const uint8_t key[SRTPX_KEYSALT_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
};

static bool known(int err)
{
	return !err || err == EBADMSG || err == EALREADY || err == EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srtpx *in = NULL, *out = NULL;
	enum srtpx_suite suite;
	uint8_t *a = NULL, *b = NULL;
	uint32_t len, l;
	bool rtcp;
	int err;

	if (size < 1 || size > 4096)
		return 0;
	rtcp = data[0] & 1;
	suite = data[0] & 2 ? SRTPX_AES_CM_128_HMAC_SHA1_32 :
		SRTPX_AES_CM_128_HMAC_SHA1_80;
	data++;
	len = (uint32_t)size - 1;
	if (srtpx_new(&in, suite, key, true) ||
	    srtpx_new(&out, suite, key, false))
		abort();
	a = malloc(len + SRTPX_TAILROOM + 1);
	b = malloc(len + SRTPX_TAILROOM + 1);
	if (!a || !b)
		abort();

	/* arbitrary bytes to unprotect, in a buffer of exactly their size */
	memcpy(b + SRTPX_TAILROOM + 1, data, len);
	l = len;
	err = srtpx_unprotect(in, b + SRTPX_TAILROOM + 1, &l, rtcp);
	if (!known(err) || l > len)
		abort();

	/* protect and back */
	memcpy(a, data, len);
	l = len;
	err = srtpx_protect(out, a, &l, rtcp);
	if (err) {
		if (err != EINVAL || l != len)
			abort();
		goto out;
	}
	if (l <= len || l > len + SRTPX_TAILROOM)
		abort();
	memcpy(b, a, l);
	srtpx_free(in);
	in = NULL;
	if (srtpx_new(&in, suite, key, true))
		abort();
	if (srtpx_unprotect(in, a, &l, rtcp) || l != len ||
	    memcmp(a, data, len))
		abort();
	l = len + (uint32_t)(rtcp ? 14 : suite == SRTPX_AES_CM_128_HMAC_SHA1_32
			     ? 4 : 10);
	if (srtpx_unprotect(in, b, &l, rtcp) != EALREADY)
		abort();
 out:
	free(a);
	free(b);
	srtpx_free(in);
	srtpx_free(out);
	return 0;
}
