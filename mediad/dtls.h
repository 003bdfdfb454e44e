/* mediad/dtls.h  DTLS-SRTP (RFC 5763/5764): certificate, handshakes, SRTP keys */
#ifndef MEDIAD_DTLS_H
#define MEDIAD_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdes.h"

/*
 * Control thread only. struct dtls is the daemon's identity: one
 * self-signed ECDSA P-256 certificate made at start, its SHA-256
 * fingerprint for our SDP, and the SSL_CTX every handshake uses. A
 * struct dtls_conn is one leg's DTLS association: an OpenSSL SSL object
 * whose records come in through dtls_conn_input() (a memory BIO, one
 * datagram at a time) and go out through <sendh> (our own BIO: one
 * write is one datagram, never concatenated). Handshakes allocate
 * (OpenSSL); none of this runs in a worker.
 *
 * The peer's certificate is checked against its a=fingerprint (SHA-256
 * or SHA-1) inside the handshake: a mismatch aborts it with a
 * bad_certificate alert. A fingerprint not known yet (our offer is out,
 * the peer's answer is not in) lets the handshake finish; the
 * certificate's digests are kept and dtls_conn_check_fp() decides once
 * the answer arrives; until then no key is used.
 *
 * The SRTP profiles are SRTP_AES128_CM_SHA1_80 and _32 (RFC 5764 section
 * 4.1.2); their keys map onto the SDES suites of the same transform, so
 * the packet path is sdes.c's.
 */

#define DTLS_FP_STR_MAX  (64 * 3)  /* "AB:CD:..." of a SHA-256 and NUL */
#define DTLS_TIMEOUT_MS  30000     /* a handshake not done by then fails */

enum dtls_hash {
	DTLS_HASH_NONE = 0,
	DTLS_HASH_SHA1,
	DTLS_HASH_SHA256,
};

struct dtls_fp {
	enum dtls_hash hash;
	uint8_t len;                   /* 20 or 32 */
	uint8_t v[32];
};

enum dtls_state {
	DTLS_NONE = 0,                 /* no association */
	DTLS_HANDSHAKE,
	DTLS_UP,                       /* keys exported */
	DTLS_FAILED,                   /* handshake failed or fingerprint
	                                  mismatch: the leg is ended */
	DTLS_CLOSED,                   /* close_notify from the peer */
};

struct dtls;
struct dtls_conn;

/* Send datagram <p>/<len> to the association's peer. */
typedef void (dtls_send_h)(const uint8_t *p, size_t len, void *arg);
/* <c> changed to <st> (UP, FAILED or CLOSED), from an input or a
 * tick. The handler may not free <c>. */
typedef void (dtls_state_h)(struct dtls_conn *c, enum dtls_state st,
			    void *arg);

/* Startup: key pair, certificate, SSL_CTX. Returns 0 or EIO/ENOMEM. */
int  dtls_init(struct dtls **dp);
/* Every connection must be freed first. Safe on NULL. */
void dtls_fini(struct dtls *d);
/* Our certificate's SHA-256 fingerprint, "AB:CD:...". */
const char *dtls_fingerprint(const struct dtls *d);

/*
 * a=fingerprint's <hash> ("sha-256", "SHA-1", case-insensitive) and
 * <value> into <fp>. Returns 0, ENOTSUP (another hash: skip it) or
 * EINVAL (malformed).
 */
int  dtls_fp_parse(struct dtls_fp *fp, const char *hash, const char *value);
bool dtls_fp_eq(const struct dtls_fp *a, const struct dtls_fp *b);

/*
 * A new association of <d>, DTLS client when <client> (it sends its
 * ClientHello at once through <sendh>), else server. <fp>: the peer's
 * fingerprint, or NULL when not known yet. Returns 0 and *cp, or ENOMEM
 * / EIO.
 */
int  dtls_conn_new(struct dtls_conn **cp, struct dtls *d, bool client,
		   const struct dtls_fp *fp, dtls_send_h *sendh,
		   dtls_state_h *stateh, void *arg);
/* Close (no close_notify: the leg is going away) and free. NULL ok. */
void dtls_conn_free(struct dtls_conn *c);
/* Feed one received datagram. Returns the state afterwards. */
enum dtls_state dtls_conn_input(struct dtls_conn *c, const uint8_t *p,
				size_t len);
enum dtls_state dtls_conn_state(const struct dtls_conn *c);
bool dtls_conn_client(const struct dtls_conn *c);
/* Why it failed ("fingerprint mismatch", ...), "" otherwise. */
const char *dtls_conn_why(const struct dtls_conn *c);

/*
 * The peer's certificate against <fp> (its answer came after the
 * handshake). Returns 0 (match: from now on verified), ENOENT (no
 * certificate seen yet: <fp> is checked in the handshake) or EACCES
 * (mismatch: the association is FAILED, an alert goes out).
 */
int  dtls_conn_check_fp(struct dtls_conn *c, const struct dtls_fp *fp);
/* UP and the certificate matched a known fingerprint. */
bool dtls_conn_verified(const struct dtls_conn *c);

/*
 * The SRTP keys of an UP association (RFC 5764 section 4.2): <in> for
 * what the peer sends, <out> for what we send it, as SDES keys of the
 * negotiated suite. Returns 0 or EAGAIN (not UP) / EIO.
 */
int  dtls_conn_keys(struct dtls_conn *c, struct sdes_key *in,
		    struct sdes_key *out);

/*
 * Our last flight. When a handshake ends on our side (we are the
 * server: our ChangeCipherSpec and Finished are its last records), the
 * peer may send SRTP the instant it has our Finished; if that record
 * left before the worker had the keys, those first packets would be
 * dropped. So every record written while the handshake is driven is
 * held, and released by the owner once the keys are in effect:
 *
 *   - on the way to UP, the state handler installs the keys and calls
 *     dtls_conn_release_at() with the worker's sequence number of that
 *     command; dtls_release() sends the held records when the worker
 *     reached it (or after DTLS_HOLD_MS, whichever comes first);
 *   - in every other case (no keys installed: the fingerprint is not
 *     known yet, an error, a record of a handshake still running) the
 *     held records go out as soon as SSL_do_handshake() returns.
 *
 * At most DTLS_HOLD_MAX records are held; a further one sends what is
 * held first, then itself, so the order on the wire never changes.
 */
#define DTLS_HOLD_MAX 8
#define DTLS_HOLD_MS  500

/* Records of <c> held now. */
unsigned dtls_conn_held(const struct dtls_conn *c);
/* Send <c>'s held records once worker <worker>'s applied count reaches
 * <seq> (asked at dtls_release()). Nothing held: nothing to do. */
void dtls_conn_release_at(struct dtls_conn *c, uint32_t worker,
			  uint32_t seq);

/* The applied count of worker <worker>. */
typedef uint32_t (dtls_applied_h)(uint32_t worker, void *arg);
/* Send the held records whose worker reached its number, and those held
 * DTLS_HOLD_MS or longer. Returns how many associations were released. */
unsigned dtls_release(struct dtls *d, dtls_applied_h *appliedh, void *arg);

/*
 * Retransmission timers (DTLSv1_handle_timeout) and the handshake
 * deadline of every association in handshake. Returns the ms until the
 * next one (or a held flight's DTLS_HOLD_MS) is due, or -1 when none
 * is pending.
 */
int  dtls_tick(struct dtls *d);

#endif
