/* sbc/stats.c  SIP counters: requests by method, responses by code */
#include <string.h>

#include <re.h>

#include "metrics.h"
#include "stats.h"

#define SCODE_MIN 100
#define SCODE_MAX 699

/*
 * Plain counters: sbc is one thread, so no atomics. /metrics and the
 * API read these directly; nothing keeps a second copy.
 */
static struct {
	uint64_t req[STATS_M_COUNT];
	uint64_t resp[SCODE_MAX - SCODE_MIN + 1];
	uint64_t stray;
} st;

static const char *const method_names[STATS_M_COUNT] = {
	[STATS_M_INVITE]    = "INVITE",
	[STATS_M_ACK]       = "ACK",
	[STATS_M_BYE]       = "BYE",
	[STATS_M_CANCEL]    = "CANCEL",
	[STATS_M_OPTIONS]   = "OPTIONS",
	[STATS_M_REGISTER]  = "REGISTER",
	[STATS_M_PRACK]     = "PRACK",
	[STATS_M_UPDATE]    = "UPDATE",
	[STATS_M_INFO]      = "INFO",
	[STATS_M_REFER]     = "REFER",
	[STATS_M_NOTIFY]    = "NOTIFY",
	[STATS_M_SUBSCRIBE] = "SUBSCRIBE",
	[STATS_M_PUBLISH]   = "PUBLISH",
	[STATS_M_MESSAGE]   = "MESSAGE",
	[STATS_M_OTHER]     = "other",
};

/* Methods are case-sensitive (RFC 3261 section 7.1). */
enum stats_method stats_method(const struct pl *met)
{
	unsigned i;

	if (!met)
		return STATS_M_OTHER;
	for (i = 0; i < STATS_M_OTHER; i++) {
		if (!pl_strcmp(met, method_names[i]))
			return (enum stats_method)i;
	}
	return STATS_M_OTHER;
}

const char *stats_method_name(enum stats_method m)
{
	return (unsigned)m < STATS_M_COUNT ? method_names[m] : "?";
}

void stats_sip_request(const struct pl *met)
{
	++st.req[stats_method(met)];
}

void stats_sip_response(uint16_t scode)
{
	if (scode >= SCODE_MIN && scode <= SCODE_MAX)
		++st.resp[scode - SCODE_MIN];
}

void stats_sip_stray(void)
{
	++st.stray;
}

uint64_t stats_requests(enum stats_method m)
{
	return (unsigned)m < STATS_M_COUNT ? st.req[m] : 0;
}

uint64_t stats_responses(uint16_t scode)
{
	if (scode < SCODE_MIN || scode > SCODE_MAX)
		return 0;
	return st.resp[scode - SCODE_MIN];
}

void stats_reset(void)
{
	memset(&st, 0, sizeof(st));
}

/*
 * Every method is printed, zero or not, so a rate() over a method that
 * has not been seen yet starts from a sample instead of from nothing.
 * Codes are printed once seen: 600 zero lines help nobody.
 */
int stats_metrics(struct re_printf *pf, void *unused)
{
	unsigned i;
	int err;

	(void)unused;

	err = metrics_head(pf, "sbc_sip_requests_total", "counter",
			   "SIP requests received, by method.");
	for (i = 0; i < STATS_M_COUNT; i++)
		err |= re_hprintf(pf, "sbc_sip_requests_total{method=\"%s\"}"
				  " %llu\n", method_names[i],
				  (unsigned long long)st.req[i]);

	err |= metrics_head(pf, "sbc_sip_responses_total", "counter",
			    "SIP responses sent by sbc, by status code.");
	for (i = 0; i <= SCODE_MAX - SCODE_MIN; i++) {
		if (!st.resp[i])
			continue;
		err |= re_hprintf(pf, "sbc_sip_responses_total{code=\"%u\"}"
				  " %llu\n", i + SCODE_MIN,
				  (unsigned long long)st.resp[i]);
	}
	return err;
}

int stats_debug(struct re_printf *pf, void *unused)
{
	uint64_t req = 0, resp = 0;
	unsigned i;

	(void)unused;

	for (i = 0; i < STATS_M_COUNT; i++)
		req += st.req[i];
	for (i = 0; i <= SCODE_MAX - SCODE_MIN; i++)
		resp += st.resp[i];
	return re_hprintf(pf, "requests=%llu responses=%llu stray=%llu",
			  (unsigned long long)req, (unsigned long long)resp,
			  (unsigned long long)st.stray);
}
