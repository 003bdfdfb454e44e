/* tests/fuzz/fuzz_stun.c  The STUN parser and checks (ICE-lite) on any input */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "stun.h"

/*
 * Whatever the datagram, stun_parse() returns 0 or EBADMSG and reads
 * only inside it; for a parsed one the integrity and fingerprint checks
 * return one of their documented values, and an answer built in place
 * over the input (as the relay does) parses back with a good
 * MESSAGE-INTEGRITY and FINGERPRINT.
 */

static uint8_t buf[2048];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char key[] = "fuzzfuzzfuzzfuzzfuzzfuzz";
	struct stun_msg m, m2;
	struct sockaddr_in sin;
	uint8_t *copy;
	size_t n;
	int err;

	/* an exact-size heap copy: ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	err = stun_parse(&m, copy, size);
	if (err && err != EBADMSG)
		abort();
	if (err)
		goto out;
	err = stun_check_mi(&m, copy, key, sizeof(key) - 1);
	if (err && err != ENOENT && err != EACCES)
		abort();
	err = stun_check_fp(&m, copy);
	if (err && err != ENOENT && err != EBADMSG)
		abort();
	if (m.user && (m.ulen > size || m.user < copy ||
		       m.user + m.ulen > copy + size))
		abort();

	if (size > sizeof(buf))
		goto out;
	memcpy(buf, copy, size);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5004);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	n = stun_build_success(buf, sizeof(buf), buf + 8,
			       (struct sockaddr *)&sin, key, sizeof(key) - 1);
	if (!n || stun_parse(&m2, buf, n) ||
	    stun_check_mi(&m2, buf, key, sizeof(key) - 1) ||
	    stun_check_fp(&m2, buf) || memcmp(buf + 8, copy + 8, 12) ||
	    !m2.have_xaddr)
		abort();
 out:
	free(copy);
	return 0;
}
