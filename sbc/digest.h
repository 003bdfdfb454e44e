/* sbc/digest.h  SIP digest (RFC 3261 MD5, RFC 8760 SHA-256): pure logic */
#ifndef SBC_DIGEST_H
#define SBC_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

enum digest_alg {
	DIGEST_ALG_MD5 = 0,
	DIGEST_ALG_SHA256,
};

/* Sizes of the decoded fields, NUL included; a longer value is refused. */
#define DIGEST_FIELD_SIZE  256
#define DIGEST_URI_SIZE    1024
#define DIGEST_RESP_SIZE   65      /* SHA-256 in hex */
#define DIGEST_NC_SIZE     9       /* 8 hex digits */

/*
 * The nonces this module makes: 16 hex digits of time, then 32 of
 * HMAC-SHA256(secret, time ":" realm). DIGEST_NONCE_TTL seconds old is
 * stale.
 */
#define DIGEST_NONCE_LEN   48
#define DIGEST_NONCE_TTL   300

/*
 * The credentials of an Authorization or Proxy-Authorization header
 * (RFC 2617 section 3.2.2, RFC 7616 section 3.4), unescaped and NUL
 * ended. <response> is lower case. nc and cnonce are set when <qop> is.
 */
struct digest_cred {
	enum digest_alg alg;
	bool qop;                           /* qop=auth; else RFC 2069 */
	char username[DIGEST_FIELD_SIZE];
	char realm[DIGEST_FIELD_SIZE];
	char nonce[DIGEST_FIELD_SIZE];
	char uri[DIGEST_URI_SIZE];
	char response[DIGEST_RESP_SIZE];
	char cnonce[DIGEST_FIELD_SIZE];
	char opaque[DIGEST_FIELD_SIZE];
	char nc[DIGEST_NC_SIZE];
};

/*
 * Decode header value <p>/<len> ("Digest username=..., ...") into <c>.
 * Parameters come in any order; unknown ones are skipped; a known one
 * given twice is an error. Never reads outside <p>/<len>. Returns 0,
 * EPROTONOSUPPORT (another scheme, e.g. Basic), ENOTSUP (an algorithm
 * or qop we do not offer, -sess included) or EBADMSG (malformed, a
 * required field missing, a value too long or holding a NUL).
 */
int  digest_cred_decode(struct digest_cred *c, const char *p, size_t len);

/*
 * The response <c> should carry for method <met>/<metlen> and HA1
 * <ha1> (hex of <c>'s algorithm), in lower-case hex into <out> of
 * <sz> bytes. Returns 0, EINVAL (HA1 of the wrong length) or ENOSPC.
 */
int  digest_response(char *out, size_t sz, const struct digest_cred *c,
		     const char *ha1, const char *met, size_t metlen);

/* True when <c>'s response is right for <ha1> and <met>; constant time. */
bool digest_verify(const struct digest_cred *c, const char *ha1,
		   const char *met, size_t metlen);

/*
 * A nonce for <realm> at monotonic time <now> (seconds) into <out> of
 * DIGEST_NONCE_LEN + 1 bytes. The key is drawn at random on first use,
 * so the nonces of an earlier process are refused. Returns 0, EINVAL
 * or EIO (no randomness).
 */
int  digest_nonce_make(char *out, const char *realm, uint64_t now);

/*
 * Is <nonce> one of ours for <realm>? 0 when fresh, ESTALE when older
 * than DIGEST_NONCE_TTL (or from the future), EBADMSG when not ours
 * (malformed, other realm, forged, earlier process), EIO.
 */
int  digest_nonce_check(const char *nonce, const char *realm, uint64_t now);

/*
 * A challenge header value: Digest realm="<realm>", nonce="<nonce>",
 * qop="auth", algorithm=<alg>[, stale=true], into <out> of <sz> bytes.
 * Returns 0, EINVAL or ENOSPC.
 */
int  digest_challenge(char *out, size_t sz, enum digest_alg alg,
		      const char *realm, const char *nonce, bool stale);

const char *digest_alg_name(enum digest_alg alg);

#endif
