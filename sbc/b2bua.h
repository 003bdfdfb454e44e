/* sbc/b2bua.h  The back-to-back user agent: calls of two dialogs each */
#ifndef SBC_B2BUA_H
#define SBC_B2BUA_H

#include <stdbool.h>
#include <stdint.h>

struct re_printf;
struct sip_msg;

int  b2bua_start(void);
/* End every live call (BYE on both legs, CDRs written) and stop. */
void b2bua_stop(void);

/*
 * A request that matched no transaction and is not REGISTER/OPTIONS:
 * new INVITEs, in-dialog requests of our legs, ACKs of 2xx, stray
 * CANCELs. Returns true when the request was handled (answered or
 * absorbed).
 */
bool b2bua_request(const struct sip_msg *msg);

unsigned b2bua_calls_active(void);
/* Hang up every live call now (drain timeout). */
void b2bua_hangup_all(void);

/* sbc_calls_active{direction} in Prometheus text format. */
int  b2bua_metrics(struct re_printf *pf, void *unused);
int  b2bua_debug(struct re_printf *pf, void *unused);

#endif
