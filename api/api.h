/* api/api.h  REST API, /health and /metrics: libmicrohttpd in sbc's loop */
#ifndef API_API_H
#define API_API_H

struct cfg_addr;
struct re_printf;

/*
 * Listen on <addr> (IPv4 or IPv6). libmicrohttpd runs without a thread
 * of its own: its epoll fd is watched by libre's loop and its timeouts
 * by a libre timer, so every handler runs on sbc's one thread. Returns
 * 0 or an errno (the reason is logged).
 */
int  api_start(const struct cfg_addr *addr);
/* Close the listener and every connection. Safe when not started. */
void api_stop(void);

/*
 * The API's own families in Prometheus text format:
 * sbc_api_requests_total, sbc_api_auth_failures_total (401s),
 * sbc_api_auth_limited_total (429s) and sbc_api_auth_blocked_sources.
 * GET /metrics appends them after sbc_metrics().
 */
int  api_metrics(struct re_printf *pf, void *unused);
int  api_debug(struct re_printf *pf, void *unused);

#endif
