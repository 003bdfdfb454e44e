/* sbc/digest.h  SIP digest (RFC 3261 MD5, RFC 8760 SHA-256): pure logic */
#ifndef SBC_DIGEST_H
#define SBC_DIGEST_H

#include <stddef.h>

/*
 * HA1 = H(user ":" realm ":" password) in lower-case hex, NUL ended:
 * <out> holds 33 bytes for MD5, 65 for SHA-256. Subscribers are stored
 * this way (realm = their domain); the password itself never is.
 * Returns 0 or EINVAL.
 */
int digest_ha1_md5(char out[33], const char *user, const char *realm,
		   const char *password);
int digest_ha1_sha256(char out[65], const char *user, const char *realm,
		      const char *password);

#endif
