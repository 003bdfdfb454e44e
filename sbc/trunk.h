/* sbc/trunk.h  Trunk liveness (OPTIONS probes), registration and limits */
#ifndef SBC_TRUNK_H
#define SBC_TRUNK_H

#include <stdbool.h>
#include <stdint.h>

struct re_printf;
struct sa;
struct sqlite3;

/*
 * Read the trunks table and start probing each enabled trunk with
 * OPTIONS every 30 s (any response means reachable; none in 32 s, or a
 * transport error, means not) and registering the ones with register=1
 * (libre's sipreg, answering the carrier's challenge with the trunk's
 * credentials). Returns 0 or an errno.
 */
int  trunk_start(struct sqlite3 *db);
void trunk_stop(void);
/* Re-read the trunks table now (after an API write); keeps the state
 * of trunks that did not change. */
int  trunk_reload(void);

struct trunk_status {
	bool     reachable;
	bool     registered;
	uint32_t active_calls;
	bool     probed;         /* a probe has been answered or has failed */
	uint16_t reg_scode;      /* last final REGISTER answer; 0: none */
};
/* Status of trunk <name>: 0 or ENOENT. */
int  trunk_status(const char *name, struct trunk_status *st);

/*
 * A call wants to go out through (or came in from) trunk <name>: false
 * when its max_calls or max_cps would be exceeded (the caller then
 * tries the next trunk or answers 503). On true, trunk_call_end() must
 * follow once for that call.
 */
bool trunk_call_begin(const char *name);
void trunk_call_end(const char *name);

/*
 * The enabled trunk given by hostname whose probe or REGISTER was last
 * answered from the address of <src> (any port), or NULL. Borrowed:
 * valid until the next reload. Trunks given by IP literal are matched
 * by route_trunk_by_source() itself.
 */
const char *trunk_by_addr(const struct sa *src);

/* sbc_trunk_up{trunk}, sbc_trunk_calls_active{trunk} and, for trunks
 * that register, sbc_trunk_registered{trunk}. */
int  trunk_metrics(struct re_printf *pf, void *unused);
int  trunk_debug(struct re_printf *pf, void *unused);

#endif
