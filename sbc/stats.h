/* sbc/stats.h  SIP counters: requests by method, responses by code */
#ifndef SBC_STATS_H
#define SBC_STATS_H

#include <stdint.h>

struct pl;
struct re_printf;

/*
 * Methods get a label of their own; anything else is counted as
 * "other", so a peer cannot grow the label set (and /metrics) by
 * inventing methods.
 */
enum stats_method {
	STATS_M_INVITE = 0,
	STATS_M_ACK,
	STATS_M_BYE,
	STATS_M_CANCEL,
	STATS_M_OPTIONS,
	STATS_M_REGISTER,
	STATS_M_PRACK,
	STATS_M_UPDATE,
	STATS_M_INFO,
	STATS_M_REFER,
	STATS_M_NOTIFY,
	STATS_M_SUBSCRIBE,
	STATS_M_PUBLISH,
	STATS_M_MESSAGE,
	STATS_M_OTHER,
	STATS_M_COUNT
};

/* Count a request received with method <met>. */
void stats_sip_request(const struct pl *met);
/* Count a response sbc sent with status <scode> (100..699). */
void stats_sip_response(uint16_t scode);
/* Count a response that matched no transaction of ours. */
void stats_sip_stray(void);

enum stats_method stats_method(const struct pl *met);
const char *stats_method_name(enum stats_method m);
uint64_t stats_requests(enum stats_method m);
uint64_t stats_responses(uint16_t scode);

/* Zero every counter (tests, never at run time). */
void stats_reset(void);

/* The sbc_sip_* families in Prometheus text format 0.0.4. */
int  stats_metrics(struct re_printf *pf, void *unused);
/* One line of totals for logs and debugging. */
int  stats_debug(struct re_printf *pf, void *unused);

#endif
