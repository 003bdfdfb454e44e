/* sbc/b2bua.h  The back-to-back user agent: calls of two dialogs each */
#ifndef SBC_B2BUA_H
#define SBC_B2BUA_H

#include <stdbool.h>
#include <stdint.h>

struct re_printf;
struct sip_msg;

int  b2bua_start(void);
/* End every live call (BYE on both legs, CDRs queued) and stop. */
void b2bua_stop(void);

/*
 * A request that matched no transaction and is not REGISTER/OPTIONS:
 * new INVITEs, in-dialog requests of our legs, ACKs of 2xx, BYEs and
 * re-INVITEs. Returns true when the request was handled (answered or
 * absorbed), false when it is not the B2BUA's (the caller answers).
 */
bool b2bua_request(const struct sip_msg *msg);

/*
 * A response that matched no client transaction: a retransmitted 2xx
 * to one of our INVITEs gets its ACK again. True when it was ours.
 */
bool b2bua_response(const struct sip_msg *msg);

unsigned b2bua_calls_active(void);
/* Calls plus BYEs still waiting for their answer (for a clean exit). */
unsigned b2bua_busy(void);
/* Hang up every live call now (BYE, CANCEL or 503; CDRs queued). */
void b2bua_hangup_all(void);

/* A live call, for the API; strings borrowed during the callback. */
struct b2bua_call_info {
	uint64_t    id;
	const char *from;
	const char *to;
	const char *direction;     /* internal, inbound, outbound */
	const char *trunk;         /* "" when none */
	const char *state;         /* routing, ringing, answered, ending */
	const char *ngid;          /* the call-id given to mediad */
	uint64_t    started_at;    /* unix ms */
	uint64_t    answered_at;   /* unix ms, 0 when not answered */
};
typedef bool (b2bua_call_h)(const struct b2bua_call_info *ci, void *arg);
/* Walk the live calls (return true to stop); returns how many. */
unsigned b2bua_foreach(b2bua_call_h *h, void *arg);
/* Hang up call <id> (both legs). 0 or ENOENT. */
int  b2bua_hangup(uint64_t id);

/* sbc_calls_active{direction}, sbc_blocked_total{reason}. */
int  b2bua_metrics(struct re_printf *pf, void *unused);
int  b2bua_debug(struct re_printf *pf, void *unused);

#endif
