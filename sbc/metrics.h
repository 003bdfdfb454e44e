/* sbc/metrics.h  Prometheus text format 0.0.4 helpers and process_* metrics */
#ifndef SBC_METRICS_H
#define SBC_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct re_printf;

/* "# HELP <name> <help>" and "# TYPE <name> <type>" lines. */
int metrics_head(struct re_printf *pf, const char *name, const char *type,
		 const char *help);
/* %H handler: label value <s> with '\\', '"' and newline escaped. */
int metrics_escape(struct re_printf *pf, const char *s);

/* What the process_* families report. */
struct metrics_proc {
	uint64_t start_unix_ms;   /* process start, wall clock */
	uint64_t rss_bytes;       /* resident set */
	uint64_t cpu_ms;          /* user + system */
	uint64_t open_fds;
	uint64_t max_fds;
};

/*
 * Parsers of the /proc files, pure so they can be tested on fixed text.
 * <buf>/<len> is the file's content. Return 0 or EINVAL.
 */
int metrics_parse_statm(const char *buf, size_t len, uint64_t pagesize,
			uint64_t *rssp);
int metrics_parse_stat(const char *buf, size_t len, uint64_t clk_tck,
		       uint64_t *cpu_msp);

/*
 * Fill <p> from /proc/self (start_unix_ms is the caller's). A file that
 * cannot be read leaves its fields 0. Returns 0 or the first errno.
 */
int metrics_proc_read(struct metrics_proc *p);
/* The process_* families for <p>. */
int metrics_proc_print(struct re_printf *pf, const struct metrics_proc *p);

#endif
