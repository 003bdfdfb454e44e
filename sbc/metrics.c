/* sbc/metrics.c  Prometheus text format 0.0.4 helpers and process_* metrics */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <re.h>

#include "metrics.h"

int metrics_head(struct re_printf *pf, const char *name, const char *type,
		 const char *help)
{
	return re_hprintf(pf, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			  name, type);
}

int metrics_escape(struct re_printf *pf, const char *s)
{
	const char *p, *run;
	int err = 0;

	if (!s)
		return 0;

	for (p = run = s; *p; p++) {
		const char *esc;

		switch (*p) {

		case '\\': esc = "\\\\"; break;
		case '"':  esc = "\\\""; break;
		case '\n': esc = "\\n";  break;
		default:   continue;
		}
		err |= pf->vph(run, (size_t)(p - run), pf->arg);
		err |= pf->vph(esc, strlen(esc), pf->arg);
		run = p + 1;
	}
	err |= pf->vph(run, (size_t)(p - run), pf->arg);
	return err;
}

/* Unsigned decimal at <*pp> (before <end>), advancing past it. */
static int read_u64(const char **pp, const char *end, uint64_t *vp)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (p >= end || *p < '0' || *p > '9')
		return EINVAL;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*pp = p;
	*vp = v;
	return 0;
}

/* statm: "size resident shared text lib data dt", in pages. */
int metrics_parse_statm(const char *buf, size_t len, uint64_t pagesize,
			uint64_t *rssp)
{
	const char *p = buf, *end = buf + len;
	uint64_t size, rss;

	if (!buf || !rssp || !pagesize)
		return EINVAL;
	if (read_u64(&p, end, &size) || p >= end || *p++ != ' ' ||
	    read_u64(&p, end, &rss))
		return EINVAL;
	*rssp = rss * pagesize;
	return 0;
}

/*
 * stat: "pid (comm) state ppid ...", utime and stime are fields 14 and
 * 15 (proc(5)). comm may hold spaces and ')' itself, so fields are
 * counted from the last ')'.
 */
int metrics_parse_stat(const char *buf, size_t len, uint64_t clk_tck,
		       uint64_t *cpu_msp)
{
	const char *p, *end = buf + len;
	uint64_t utime = 0, stime = 0;
	unsigned field = 2;

	if (!buf || !cpu_msp || !clk_tck)
		return EINVAL;

	for (p = end; p > buf && p[-1] != ')'; p--)
		;
	if (p == buf)
		return EINVAL;

	while (p < end && field < 15) {
		if (*p != ' ')
			return EINVAL;
		++p;
		++field;
		if (field == 14 || field == 15) {
			if (read_u64(&p, end, field == 14 ? &utime : &stime))
				return EINVAL;
			continue;
		}
		while (p < end && *p != ' ')
			++p;
	}
	if (field != 15)
		return EINVAL;

	*cpu_msp = (utime + stime) * 1000 / clk_tck;
	return 0;
}

/* Read small file <path> into <buf> (NUL-terminated); length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t sz)
{
	ssize_t n, len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	while ((size_t)len < sz - 1) {
		n = read(fd, buf + len, sz - 1 - (size_t)len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

static uint64_t count_fds(void)
{
	struct dirent *de;
	uint64_t n = 0;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			++n;
	}
	closedir(d);
	return n ? n - 1 : 0;   /* not the one opendir() holds */
}

int metrics_proc_read(struct metrics_proc *p)
{
	char buf[1024];
	struct rlimit rl;
	ssize_t n;
	long v;
	int err = 0;

	if (!p)
		return EINVAL;

	p->rss_bytes = p->cpu_ms = 0;
	n = read_small("/proc/self/statm", buf, sizeof(buf));
	v = sysconf(_SC_PAGESIZE);
	if (n <= 0 || v <= 0 ||
	    metrics_parse_statm(buf, (size_t)n, (uint64_t)v, &p->rss_bytes))
		err = err ? err : EIO;

	n = read_small("/proc/self/stat", buf, sizeof(buf));
	v = sysconf(_SC_CLK_TCK);
	if (n <= 0 || v <= 0 ||
	    metrics_parse_stat(buf, (size_t)n, (uint64_t)v, &p->cpu_ms))
		err = err ? err : EIO;

	p->open_fds = count_fds();
	p->max_fds = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		p->max_fds = (uint64_t)rl.rlim_cur;

	return err;
}

int metrics_proc_print(struct re_printf *pf, const struct metrics_proc *p)
{
	int err;

	if (!p)
		return EINVAL;

	err = metrics_head(pf, "process_start_time_seconds", "gauge",
			   "Start time of the process since unix epoch in "
			   "seconds.");
	err |= re_hprintf(pf, "process_start_time_seconds %llu.%03u\n",
			  (unsigned long long)(p->start_unix_ms / 1000),
			  (unsigned)(p->start_unix_ms % 1000));
	err |= metrics_head(pf, "process_cpu_seconds_total", "counter",
			    "Total user and system CPU time spent in "
			    "seconds.");
	err |= re_hprintf(pf, "process_cpu_seconds_total %llu.%03u\n",
			  (unsigned long long)(p->cpu_ms / 1000),
			  (unsigned)(p->cpu_ms % 1000));
	err |= metrics_head(pf, "process_resident_memory_bytes", "gauge",
			    "Resident memory size in bytes.");
	err |= re_hprintf(pf, "process_resident_memory_bytes %llu\n",
			  (unsigned long long)p->rss_bytes);
	err |= metrics_head(pf, "process_open_fds", "gauge",
			    "Number of open file descriptors.");
	err |= re_hprintf(pf, "process_open_fds %llu\n",
			  (unsigned long long)p->open_fds);
	if (p->max_fds) {
		err |= metrics_head(pf, "process_max_fds", "gauge",
				    "Maximum number of open file "
				    "descriptors.");
		err |= re_hprintf(pf, "process_max_fds %llu\n",
				  (unsigned long long)p->max_fds);
	}
	return err;
}
