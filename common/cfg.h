/* common/cfg.h  Line-oriented config loader: "key value", '#' comments */
#ifndef COMMON_CFG_H
#define COMMON_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/*
 * Grammar (libre conf format): one "key value" per line, separated by
 * spaces or tabs; the value is the rest of the line with surrounding
 * blanks removed; '#' starts a comment anywhere a token may start; blank
 * lines are ignored. A key may appear once. An unknown key, a repeated
 * key or a bad value fails the whole load with "file:line: message" in
 * the caller's buffer and leaves the target struct holding the defaults
 * only where the caller had not filled it (callers load into a scratch
 * struct and copy on success: all or nothing).
 */

enum cfg_type {
	CFG_STRING = 1,     /* char[size] */
	CFG_UINT,           /* uint32_t, checked against min..max */
	CFG_BOOL,           /* bool: yes/no, true/false, on/off, 1/0 */
	CFG_LOGLEVEL,       /* enum log_level */
	CFG_ADDR,           /* struct cfg_addr: "ip:port", "[v6]:port" */
	CFG_IP,             /* struct cfg_addr: bare ip, port 0 */
	CFG_ADDR_LIST,      /* struct cfg_addrlist: space separated ip:port */
};

enum cfg_flags {
	CFG_EMPTY_OK = 1 << 0,  /* empty value allowed: means unset/disabled */
};

struct cfg_addr {
	struct sockaddr_storage ss;
	socklen_t len;          /* 0 when unset */
	char text[64];          /* as written, normalised "ip:port" */
};

#define CFG_ADDR_MAX 8
struct cfg_addrlist {
	unsigned n;
	struct cfg_addr a[CFG_ADDR_MAX];
};

struct cfg_key {
	const char   *name;
	enum cfg_type type;
	const char   *def;      /* default, in file syntax ("" for empty) */
	size_t        off;      /* offsetof() into the target struct */
	size_t        size;     /* CFG_STRING: buffer size incl. NUL */
	uint32_t      min, max; /* CFG_UINT bounds */
	unsigned      flags;    /* enum cfg_flags */
	const char   *doc;      /* one line, used by "-h" and conf/ */
};

/* Terminates a key table. */
#define CFG_END { NULL, 0, NULL, 0, 0, 0, 0, 0, NULL }

/* Fill <dst> with every key's default. Returns 0 or EINVAL (bad table). */
int cfg_defaults(const struct cfg_key *keys, void *dst, char *err,
		 size_t errsz);

/*
 * Load <path> into <dst>: defaults first, then the file's lines.
 * Returns 0, ENOENT/EACCES (file unreadable: err says so) or EINVAL
 * (err holds "path:line: message").
 */
int cfg_load(const char *path, const struct cfg_key *keys, void *dst,
	     char *err, size_t errsz);

/*
 * Read config file <path> whole (at most CFG_FILE_MAX bytes) into a
 * malloc'd, NUL-terminated buffer: the caller frees *bufp. Returns 0,
 * an errno from open/read, EISDIR or EFBIG; err then says
 * "path: reason". For daemons that parse the buffer themselves (their
 * cross-key checks name lines too).
 */
#define CFG_FILE_MAX (1 << 20)
int cfg_read(const char *path, char **bufp, size_t *lenp, char *err,
	     size_t errsz);

/* As cfg_load() on a buffer; <name> stands for the file in messages. */
int cfg_parse(const char *name, const char *buf, size_t len,
	      const struct cfg_key *keys, void *dst, char *err,
	      size_t errsz);

/* Parse one "ip:port" / "[v6]:port" (port required when <need_port>). */
int cfg_addr_parse(struct cfg_addr *a, const char *s, bool need_port);

/* True when <a> is set and is 0.0.0.0 or ::. */
bool cfg_addr_is_any(const struct cfg_addr *a);

/* Print the key table as a commented sample config to <fp>. */
void cfg_print_sample(const struct cfg_key *keys, FILE *fp);

#endif
