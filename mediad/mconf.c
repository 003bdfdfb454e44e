/* mediad/mconf.c  mediad.conf: the key table, defaults and cross-key checks */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mconf.h"

/* The text a config came from, for line numbers in cross-key errors. */
struct src {
	const char *name;
	const char *buf;
	size_t      len;
};

#define KEY(name, type, def, member, lo, hi, flags, doc) \
	{ name, type, def, offsetof(struct mconf, member), \
	  sizeof(((struct mconf *)0)->member), lo, hi, flags, doc }

/* One line per key: the defaults and the documentation "-h" prints and
 * conf/mediad.conf repeats. */
const struct cfg_key mconf_keys[] = {
	KEY("ng_listen", CFG_ADDR, "127.0.0.1:22222", ng_listen, 0, 0, 0,
	    "NG control socket (UDP), ip:port"),
	KEY("media_ip", CFG_IP, "127.0.0.1", media_ip, 0, 0, 0,
	    "address RTP sockets bind to"),
	KEY("advertised_ip", CFG_IP, "", advertised_ip, 0, 0, CFG_EMPTY_OK,
	    "address written into SDP (empty: media_ip)"),
	KEY("port_min", CFG_UINT, "30000", port_min, 1, 65535, 0,
	    "lowest RTP/RTCP port (even)"),
	KEY("port_max", CFG_UINT, "40000", port_max, 1, 65535, 0,
	    "highest RTP/RTCP port"),
	KEY("workers", CFG_UINT, "0", workers, 0, MCONF_WORKERS_MAX, 0,
	    "media worker threads, one io_uring each (0: one per core)"),
	KEY("shm_name", CFG_STRING, "/sbc-media", shm_name, 0, 0, 0,
	    "shared-memory segment shared with sbc (/dev/shm/NAME)"),
	KEY("media_timeout", CFG_UINT, "60", media_timeout, 1, 3600, 0,
	    "seconds without RTP before a stream is reported dead"),
	KEY("delete_delay", CFG_UINT, "30", delete_delay, 0, 3600, 0,
	    "seconds a deleted call lingers (NG delete-delay default)"),
	KEY("log_level", CFG_LOGLEVEL, "info", log_level, 0, 0, 0,
	    "error, warn, info or debug"),
	CFG_END
};

/* Line of <key> in <buf>/<len>, or 0 when the file leaves it at its
 * default. */
static unsigned key_line(const char *buf, size_t len, const char *key)
{
	size_t klen = strlen(key), i = 0;
	unsigned line = 1;

	while (i < len) {
		size_t j = i;

		while (j < len && (buf[j] == ' ' || buf[j] == '\t'))
			++j;
		if (len - j >= klen && !memcmp(buf + j, key, klen) &&
		    (j + klen == len || strchr(" \t\r\n#", buf[j + klen])))
			return line;
		while (i < len && buf[i] != '\n')
			++i;
		++i;
		++line;
	}
	return 0;
}

/* A cross-key error, "file:line: key: message" when the key is in the
 * file, "file: key: message" when it has its default. */
static int cross_err(char *err, size_t errsz, const struct src *src,
		     const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int cross_err(char *err, size_t errsz, const struct src *src,
		     const char *key, const char *fmt, ...)
{
	unsigned line = key_line(src->buf, src->len, key);
	va_list ap;
	int n;

	if (line)
		n = snprintf(err, errsz, "%s:%u: %s: ", src->name, line, key);
	else
		n = snprintf(err, errsz, "%s: %s: ", src->name, key);
	if (n >= 0 && (size_t)n < errsz) {
		va_start(ap, fmt);
		vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return EINVAL;
}

/* Rules no single key can check. <mc> is complete; resolves the
 * advertised_ip default. */
static int cross_check(struct mconf *mc, const struct src *src, char *err,
		       size_t errsz)
{
	if (mc->port_min >= mc->port_max)
		return cross_err(err, errsz, src, "port_min",
				 "%u must be below port_max %u",
				 mc->port_min, mc->port_max);
	if (mc->port_min & 1)
		return cross_err(err, errsz, src, "port_min",
				 "%u must be even: RTP takes the even port "
				 "of each RTP/RTCP pair", mc->port_min);
	if (mc->port_max - mc->port_min + 1 < 4)
		return cross_err(err, errsz, src, "port_max",
				 "range %u-%u is too small: a session needs "
				 "4 ports", mc->port_min, mc->port_max);

	if (mc->shm_name[0] != '/' || !mc->shm_name[1] ||
	    strchr(mc->shm_name + 1, '/'))
		return cross_err(err, errsz, src, "shm_name",
				 "'%s' must be '/' followed by a name "
				 "without '/'", mc->shm_name);

	if (!mc->advertised_ip.len) {
		if (cfg_addr_is_any(&mc->media_ip))
			return cross_err(err, errsz, src, "advertised_ip",
					 "must be set when media_ip is %s",
					 mc->media_ip.text);
		mc->advertised_ip = mc->media_ip;
	}
	else if (cfg_addr_is_any(&mc->advertised_ip)) {
		return cross_err(err, errsz, src, "advertised_ip",
				 "%s cannot be written into SDP",
				 mc->advertised_ip.text);
	}
	return 0;
}

int mconf_parse(struct mconf *mc, const char *name, const char *buf,
		size_t len, char *err, size_t errsz)
{
	struct src src = { name, buf, len };
	struct mconf tmp;
	int e;

	if (!mc || !name || (!buf && len))
		return EINVAL;

	memset(&tmp, 0, sizeof(tmp));
	e = cfg_parse(name, buf, len, mconf_keys, &tmp, err, errsz);
	if (!e)
		e = cross_check(&tmp, &src, err, errsz);
	if (!e)
		*mc = tmp;
	return e;
}

/* The file is read whole (cfg_read: CFG_FILE_MAX at most) so that the
 * cross-key checks can name a line too. */
int mconf_load(struct mconf *mc, const char *path, char *err, size_t errsz)
{
	char *buf = NULL;
	size_t len = 0;
	int e;

	if (!mc || !path)
		return EINVAL;

	e = cfg_read(path, &buf, &len, err, errsz);
	if (e)
		return e;
	e = mconf_parse(mc, path, buf, len, err, errsz);
	free(buf);
	return e;
}

static bool addr_eq(const struct cfg_addr *a, const struct cfg_addr *b)
{
	return a->len == b->len && !memcmp(&a->ss, &b->ss, a->len);
}

size_t mconf_restart_keys(const struct mconf *old, const struct mconf *next,
			  const char **names, size_t max)
{
	size_t n = 0;

#define DIFF(cond, key) \
	do { if (cond) { if (n < max) names[n] = key; ++n; } } while (0)
	DIFF(!addr_eq(&old->ng_listen, &next->ng_listen), "ng_listen");
	DIFF(!addr_eq(&old->media_ip, &next->media_ip), "media_ip");
	DIFF(old->port_min != next->port_min, "port_min");
	DIFF(old->port_max != next->port_max, "port_max");
	DIFF(old->workers != next->workers, "workers");
	DIFF(strcmp(old->shm_name, next->shm_name), "shm_name");
#undef DIFF
	return n;
}

uint32_t mconf_nworkers(const struct mconf *mc)
{
	long n;

	if (mc->workers)
		return mc->workers;

	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > MCONF_WORKERS_MAX ? MCONF_WORKERS_MAX : (uint32_t)n;
}

uint32_t mconf_nsessions(const struct mconf *mc)
{
	return (mc->port_max - mc->port_min + 1) / 4;
}

void mconf_print_sample(FILE *fp)
{
	cfg_print_sample(mconf_keys, fp);
}
