/* sbc/sbc.h  The daemon's lifecycle (start, drain, reload, stop) and health */
#ifndef SBC_SBC_H
#define SBC_SBC_H

#include <stdbool.h>
#include <stdint.h>

struct re_printf;
struct sbc_config;
struct sqlite3;

/*
 * Start the modules in dependency order: stats, db, media, shm, sip,
 * api. <cfg> is copied; <path> is kept (by copy) for SIGHUP; <verbose>
 * is how many -v were given, added to log_level. All or nothing: on
 * error what was started is stopped again. Returns 0 or an errno.
 */
int  sbc_start(const struct sbc_config *cfg, const char *path,
	       unsigned verbose);
/* Stop every module in the reverse order. Safe after a failed start. */
void sbc_stop(void);

/*
 * SIGTERM/SIGINT. The first call starts a drain: new dialogs get 503,
 * live calls may go on for drain_timeout seconds, then re_cancel().
 * Without live calls (or with drain_timeout 0) that is at once. A
 * second call stops at once.
 */
void sbc_shutdown(void);

/*
 * SIGHUP: load and validate the whole file again. On any error the
 * running config stays; else the keys that can change live are applied
 * and the others are logged as needing a restart. Returns 0 or an
 * errno.
 */
int  sbc_reload(void);

/* The SQLite connection (provisioning, registrations, CDRs). Borrowed;
 * NULL before start. */
struct sqlite3 *sbc_dbh(void);

/* The running configuration. Borrowed; valid until the next reload. */
const struct sbc_config *sbc_config(void);

struct sbc_health {
	bool     mediad_up;      /* an NG endpoint answers pings */
	bool     shm_attached;
	bool     draining;
	uint64_t uptime_s;
};
void sbc_health(struct sbc_health *h);

/* The whole /metrics document (Prometheus text format 0.0.4). */
int  sbc_metrics(struct re_printf *pf, void *unused);

/* One line per module: the daemon's state at a glance. */
int  sbc_debug(struct re_printf *pf, void *unused);

#endif
