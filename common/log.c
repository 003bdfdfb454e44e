/* common/log.c  Leveled, timestamped logging to stderr for both daemons */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* One line, truncated beyond this; the tail is always "...\n". */
#define LOG_LINE_MAX 2048

static const char *log_prog = "sbc";
static _Atomic int log_level = LOG_LVL_INFO;

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN]  = "warn",
	[LOG_LVL_INFO]  = "info",
	[LOG_LVL_DEBUG] = "debug",
};

/*
 * Call once from main() before any thread starts: <prog> is stored
 * without synchronisation and read by every later log call.
 */
void log_init(const char *prog, enum log_level lvl)
{
	if (prog && *prog)
		log_prog = prog;
	log_set_level(lvl);
}

void log_set_level(enum log_level lvl)
{
	if ((int)lvl < LOG_LVL_ERROR)
		lvl = LOG_LVL_ERROR;
	if ((int)lvl > LOG_LVL_DEBUG)
		lvl = LOG_LVL_DEBUG;
	atomic_store_explicit(&log_level, (int)lvl, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&log_level,
						    memory_order_relaxed);
}

bool log_enabled(enum log_level lvl)
{
	return (int)lvl <= atomic_load_explicit(&log_level,
						memory_order_relaxed);
}

/* Accepts the four names in any case, plus "warning" and "err". */
int log_level_parse(const char *s, enum log_level *lvlp)
{
	enum log_level l;

	if (!s || !lvlp)
		return EINVAL;

	if (!strcasecmp(s, "error") || !strcasecmp(s, "err"))
		l = LOG_LVL_ERROR;
	else if (!strcasecmp(s, "warn") || !strcasecmp(s, "warning"))
		l = LOG_LVL_WARN;
	else if (!strcasecmp(s, "info"))
		l = LOG_LVL_INFO;
	else if (!strcasecmp(s, "debug"))
		l = LOG_LVL_DEBUG;
	else
		return EINVAL;

	*lvlp = l;
	return 0;
}

const char *log_level_name(enum log_level lvl)
{
	if ((int)lvl < LOG_LVL_ERROR || (int)lvl > LOG_LVL_DEBUG)
		return "?";
	return level_names[lvl];
}

/* "2026-11-24T10:00:00.123Z" into <buf>; returns its length. */
static size_t fmt_time(char *buf, size_t sz)
{
	struct timespec ts = { 0, 0 };
	struct tm tm;
	int n;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    !gmtime_r(&ts.tv_sec, &tm))
		memset(&tm, 0, sizeof(tm));

	n = snprintf(buf, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	if (n < 0)
		return 0;
	return (size_t)n < sz ? (size_t)n : sz - 1;
}

/*
 * Write the whole line with one write(2): O_APPEND-less stderr writes of
 * a few KiB from several threads do not interleave within one call.
 * A short write is retried for the rest (a pipe may be full); EINTR too.
 */
static void write_all(const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(STDERR_FILENO, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		p   += n;
		len -= (size_t)n;
	}
}

/*
 * Control characters in the message (a CR/LF smuggled in through a SIP
 * header, say) are replaced by '.' so one call is always one line.
 */
static void sanitize(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			p[i] = '.';
	}
}

static void vmsg(enum log_level lvl, const char *mod, const char *fmt,
		 va_list ap, uint32_t suppressed)
{
	char line[LOG_LINE_MAX];
	const size_t room = sizeof(line) - 1;   /* keep one for '\n' */
	size_t len, start;
	int n;
	int saved = errno;

	len = fmt_time(line, room);
	n = snprintf(line + len, room - len, " %s[%ld] %s %s%s", log_prog,
		     (long)getpid(), log_level_name(lvl), mod ? mod : "",
		     mod ? ": " : "");
	if (n > 0)
		len += (size_t)n < room - len ? (size_t)n : room - len - 1;

	start = len;
	errno = saved;          /* so "%m" names the caller's error */
	n = vsnprintf(line + len, room - len, fmt ? fmt : "", ap);
	if (n > 0)
		len += (size_t)n < room - len ? (size_t)n : room - len - 1;
	if (suppressed && len < room - 1) {
		n = snprintf(line + len, room - len, " (%u suppressed)",
			     suppressed);
		if (n > 0)
			len += (size_t)n < room - len ? (size_t)n :
				room - len - 1;
	}
	sanitize(line + start, len - start);

	if (len >= room - 1)
		memcpy(line + room - 4, "...", 3);
	line[len++] = '\n';

	write_all(line, len);
	errno = saved;
}

void log_vmsg(enum log_level lvl, const char *mod, const char *fmt,
	      va_list ap)
{
	if (!log_enabled(lvl))
		return;
	vmsg(lvl, mod, fmt, ap, 0);
}

void log_msg(enum log_level lvl, const char *mod, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	vmsg(lvl, mod, fmt, ap, 0);
	va_end(ap);
}

void log_limit_init(struct log_limit *ll, uint32_t interval_ms,
		    uint32_t burst)
{
	if (!ll)
		return;
	memset(ll, 0, sizeof(*ll));
	ll->interval_ms = interval_ms;
	ll->burst       = burst;
}

/*
 * A window opens at the first line after the previous one expired; the
 * lines suppressed in the old window are reported on the first line
 * that passes, so nothing disappears without a trace.
 */
void log_limit(struct log_limit *ll, enum log_level lvl, const char *mod,
	       const char *fmt, ...)
{
	uint64_t now;
	uint32_t supp;
	va_list ap;

	if (!ll || !log_enabled(lvl))
		return;

	now = clock_ms();
	if (ll->used == 0 || now - ll->window_start_ms >= ll->interval_ms) {
		ll->window_start_ms = now;
		ll->used = 0;
	}
	if (ll->used >= ll->burst) {
		if (ll->suppressed < UINT32_MAX)
			++ll->suppressed;
		return;
	}
	++ll->used;
	supp = ll->suppressed;
	ll->suppressed = 0;

	va_start(ap, fmt);
	vmsg(lvl, mod, fmt, ap, supp);
	va_end(ap);
}

uint64_t clock_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t clock_ms(void)
{
	return clock_ns() / 1000000u;
}
