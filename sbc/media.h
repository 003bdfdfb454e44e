/* sbc/media.h  NG client toward mediad (or rtpengine): liveness and requests */
#ifndef SBC_MEDIA_H
#define SBC_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct bnode;
struct cfg_addrlist;
struct re_printf;
struct media_req;
struct media_ep;

/* The "result" of an NG reply. */
enum media_result {
	MEDIA_R_OK = 1,
	MEDIA_R_PONG,
	MEDIA_R_ERROR,          /* "error", or any result we do not know */
};

/* A decoded reply; strings point into the datagram. */
struct media_reply {
	enum media_result   result;
	const struct bnode *dict;      /* the whole reply dict */
	const char         *reason;    /* error-reason (or the result) */
	size_t              reasonlen;
};

/*
 * Called once per request: <err> 0 with <rep> when a reply came (even
 * an NG "error"), ETIMEDOUT when none did after the retransmissions,
 * or the errno of a send that failed. <rep> and everything it points
 * to live only during the call.
 */
typedef void (media_resp_h)(int err, const struct media_reply *rep,
			    void *arg);

/*
 * Decode datagram <buf>/<len> as the reply to the request with cookie
 * <cookie>/<cookielen>, nodes from <a>. Returns 0 and *rep, EBADMSG for
 * a malformed datagram, ENOENT when the cookie is not <cookie>, or
 * EPROTO when the dict has no string "result".
 */
int  media_reply_parse(struct media_reply *rep, struct arena *a,
		       const char *buf, size_t len, const char *cookie,
		       size_t cookielen);

/*
 * Start the client for endpoints <eps>: one UDP socket, and a ping to
 * every endpoint every 2 s. An endpoint is up from its first "pong" and
 * down after two pings in a row go unanswered. Returns 0 or an errno.
 */
int  media_start(const struct cfg_addrlist *eps);
/* Cancel every request (no handler runs) and close the socket. */
void media_stop(void);
/* Swap in endpoint list <eps>; endpoints in both keep their state. */
int  media_reconfigure(const struct cfg_addrlist *eps);

/* True when at least one endpoint answers pings. */
bool media_up(void);

/*
 * Send NG command <body>/<len> (a bencoded dict) to an endpoint that is
 * up, retransmitting the same cookie until <timeout_ms> has passed.
 * When <reqp> is given, *reqp is a handle: mem_deref() it to cancel
 * (the handler then never runs); the client sets it to NULL before the
 * handler runs. Returns 0, ENOTCONN (no endpoint up), EMSGSIZE or
 * ENOMEM; on error the handler is not called.
 */
int  media_request(struct media_req **reqp, const char *body, size_t len,
		   uint32_t timeout_ms, media_resp_h *resph, void *arg);

/*
 * As media_request(), with endpoint affinity: every command of one
 * call must reach the mediad that holds it. When *epp is set the
 * request goes to that endpoint (ENOTCONN once a reload removed it);
 * when NULL an endpoint that is up is chosen and *epp becomes a
 * reference to it, for the call to mem_deref() when it ends.
 */
int  media_request_ep(struct media_req **reqp, struct media_ep **epp,
		      const char *body, size_t len, uint32_t timeout_ms,
		      media_resp_h *resph, void *arg);

int  media_debug(struct re_printf *pf, void *unused);

#endif
