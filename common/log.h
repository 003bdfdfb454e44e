/* common/log.h  Leveled, timestamped logging to stderr, shared by both daemons */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/*
 * One line per call, written with a single write(2) so lines from
 * several threads never interleave:
 *   2026-11-24T10:00:00.123Z mediad[1234] info ng: listening addr=127.0.0.1:22222
 * <prog> is kept by pointer and must outlive the logger (a literal).
 */
void log_init(const char *prog, enum log_level lvl);
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
bool log_enabled(enum log_level lvl);

/* Parse "error", "warn", "info" or "debug". Returns 0 or EINVAL. */
int  log_level_parse(const char *s, enum log_level *lvlp);
const char *log_level_name(enum log_level lvl);

void log_msg(enum log_level lvl, const char *mod, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level lvl, const char *mod, const char *fmt,
	      va_list ap);

#define log_err(mod, ...)   log_msg(LOG_LVL_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_msg(LOG_LVL_WARN,  mod, __VA_ARGS__)
#define log_info(mod, ...)  log_msg(LOG_LVL_INFO,  mod, __VA_ARGS__)
#define log_debug(mod, ...) \
	do { if (log_enabled(LOG_LVL_DEBUG)) \
		log_msg(LOG_LVL_DEBUG, mod, __VA_ARGS__); } while (0)

/*
 * Rate limiter for hot paths (mediad's packet path may log only through
 * this). Not thread-safe: keep one per thread or per worker.
 * Allows <burst> lines per <interval_ms>; the suppressed count is added
 * to the next line that passes.
 */
struct log_limit {
	uint64_t window_start_ms;
	uint32_t interval_ms;
	uint32_t burst;
	uint32_t used;
	uint32_t suppressed;
};

void log_limit_init(struct log_limit *ll, uint32_t interval_ms,
		    uint32_t burst);
void log_limit(struct log_limit *ll, enum log_level lvl, const char *mod,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Monotonic clock in milliseconds / nanoseconds. */
uint64_t clock_ms(void);
uint64_t clock_ns(void);

#endif
