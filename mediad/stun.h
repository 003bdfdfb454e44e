/* mediad/stun.h  STUN (RFC 5389) Binding for ICE-lite: parse, check, build */
#ifndef MEDIAD_STUN_H
#define MEDIAD_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Just enough STUN for an ICE-lite agent (RFC 8445 section 2.5): it
 * answers Binding requests and never sends one. Everything works on
 * caller-owned bytes, with no allocation and no library: SHA-1, HMAC
 * and CRC-32 are done here (the packet path may use them: no malloc,
 * no lock). The test peer and the unit tests use the request builder.
 *
 * The parser keeps pointers into the datagram; it checks the header
 * (first two bits 0, magic cookie, length a multiple of 4 that matches
 * the datagram), every attribute's bounds, and the position rules of
 * RFC 5389 section 15.4/15.5: only FINGERPRINT may follow
 * MESSAGE-INTEGRITY, nothing may follow FINGERPRINT (the rest is
 * ignored, as the RFC says for attributes after MESSAGE-INTEGRITY).
 */

#define STUN_HDR_LEN        20
#define STUN_MAGIC          0x2112a442u
#define STUN_TID_LEN        12
#define STUN_HMAC_LEN       20
#define STUN_FP_XOR         0x5354554eu

/* message types (method | class) */
#define STUN_BINDING_REQ    0x0001
#define STUN_BINDING_IND    0x0011
#define STUN_BINDING_OK     0x0101
#define STUN_BINDING_ERR    0x0111

/* attributes */
#define STUN_A_MAPPED       0x0001
#define STUN_A_USERNAME     0x0006
#define STUN_A_MI           0x0008
#define STUN_A_ERROR        0x0009
#define STUN_A_UNKNOWN      0x000a
#define STUN_A_XOR_MAPPED   0x0020
#define STUN_A_PRIORITY     0x0024
#define STUN_A_USE_CAND     0x0025
#define STUN_A_SOFTWARE     0x8022
#define STUN_A_FINGERPRINT  0x8028
#define STUN_A_CONTROLLED   0x8029
#define STUN_A_CONTROLLING  0x802a

/* Room a response needs: header, XOR-MAPPED-ADDRESS (IPv6), ERROR-CODE
 * with a short reason, MESSAGE-INTEGRITY, FINGERPRINT. */
#define STUN_RESP_MAX       160

struct stun_msg {
	uint16_t type;
	uint16_t len;                  /* body bytes, from the header */
	const uint8_t *tid;            /* 12 bytes */
	const uint8_t *user;           /* USERNAME value, or NULL */
	uint16_t ulen;
	uint16_t mi_off;               /* MESSAGE-INTEGRITY attribute, 0:
	                                  none */
	uint16_t fp_off;               /* FINGERPRINT attribute, 0: none */
	bool     use_cand;
	bool     controlling, controlled;
	bool     have_prio;
	uint32_t prio;
	uint64_t tiebreak;
	uint16_t err_code;             /* responses: ERROR-CODE, 0: none */
	bool     have_xaddr;           /* responses: XOR-MAPPED-ADDRESS */
	struct sockaddr_storage xaddr;
	uint16_t unknown_req;          /* a comprehension-required attribute
	                                  we do not know (first one), 0 */
};

/* RFC 7983 demultiplexing: first byte 0..3 may be STUN. */
static inline bool stun_first_byte(uint8_t b)
{
	return b <= 3;
}

/*
 * Parse <len> bytes at <p> into <m>. Returns 0, or EBADMSG when it is
 * not a well-formed STUN message. Never reads outside <p>/<len>.
 */
int  stun_parse(struct stun_msg *m, const uint8_t *p, size_t len);
/*
 * The MESSAGE-INTEGRITY of parsed <m> (from <p>) against short-term
 * key <key>/<klen> (the ICE password, RFC 8445 section 7.2.2).
 * Returns 0, ENOENT (no MESSAGE-INTEGRITY) or EACCES (wrong).
 */
int  stun_check_mi(const struct stun_msg *m, const uint8_t *p,
		   const void *key, size_t klen);
/* FINGERPRINT of parsed <m>: 0, ENOENT (none) or EBADMSG (wrong). */
int  stun_check_fp(const struct stun_msg *m, const uint8_t *p);

/*
 * Build a Binding success response for transaction <tid> into <out>
 * (<size> bytes, STUN_RESP_MAX is always enough): XOR-MAPPED-ADDRESS
 * <mapped>, MESSAGE-INTEGRITY with <key>/<klen>, FINGERPRINT.
 * Returns the length, or 0 when it does not fit or <mapped> is neither
 * IPv4 nor IPv6. <out> may overlap the request that held <tid>.
 */
size_t stun_build_success(uint8_t *out, size_t size, const uint8_t *tid,
			  const struct sockaddr *mapped, const void *key,
			  size_t klen);
/* A Binding error response <code> ("Unauthorized" for 401) with
 * FINGERPRINT and no MESSAGE-INTEGRITY (RFC 5389 section 10.1.2). */
size_t stun_build_error(uint8_t *out, size_t size, const uint8_t *tid,
			uint16_t code);

/* What a Binding request carries (tests and the test peer). */
struct stun_req {
	const uint8_t *tid;            /* 12 bytes */
	const char *user;              /* "theirs:ours", or NULL */
	uint32_t prio;                 /* 0: no PRIORITY */
	bool     use_cand;
	bool     controlling;
	uint64_t tiebreak;
	const void *key;               /* NULL: no MESSAGE-INTEGRITY */
	size_t   klen;
	bool     fingerprint;
};
/* Build request <r> into <out>. Returns the length or 0. */
size_t stun_build_request(uint8_t *out, size_t size,
			  const struct stun_req *r);

/* The primitives, exported for the unit tests. */
void     stun_sha1(const void *data, size_t len, uint8_t out[20]);
void     stun_hmac_sha1(const void *key, size_t klen, const void *data,
			size_t len, uint8_t out[20]);
uint32_t stun_crc32(const void *data, size_t len);

#endif
