/* common/cfg.c  Line-oriented config loader: "key value", '#' comments */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"

#define CFG_VALUE_MAX 4096        /* longest value on one line */

/* Where an error is reported: "name:line: " or "defaults: ". */
struct cfg_ctx {
	const char *name;
	unsigned    line;       /* 0: while applying defaults */
	char       *err;
	size_t      errsz;
};

static int cfg_fail(const struct cfg_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int cfg_fail(const struct cfg_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errsz)
		return EINVAL;

	if (c->line)
		n = snprintf(c->err, c->errsz, "%s:%u: ", c->name, c->line);
	else
		n = snprintf(c->err, c->errsz, "defaults: ");
	if (n < 0 || (size_t)n >= c->errsz)
		return EINVAL;

	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return EINVAL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int parse_u32(const char *s, uint32_t *vp)
{
	uint64_t v = 0;

	if (!*s)
		return EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return EINVAL;
	}
	*vp = (uint32_t)v;
	return 0;
}

static int parse_bool(const char *s, bool *bp)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[]  = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*bp = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*bp = false;
			return 0;
		}
	}
	return EINVAL;
}

/* Numeric address <s> (no port) into <a>; <port> in host order. */
static int set_ip(struct cfg_addr *a, const char *s, uint16_t port,
		  bool bracket)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	char host[INET6_ADDRSTRLEN];

	memset(a, 0, sizeof(*a));
	if (!bracket && inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port   = htons(port);
		a->len = sizeof(*sin);
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
	}
	else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port   = htons(port);
		a->len = sizeof(*sin6);
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
	}
	else {
		memset(a, 0, sizeof(*a));
		return EINVAL;
	}

	if (a->ss.ss_family == AF_INET6 && port)
		snprintf(a->text, sizeof(a->text), "[%s]:%u", host, port);
	else if (port)
		snprintf(a->text, sizeof(a->text), "%s:%u", host, port);
	else
		snprintf(a->text, sizeof(a->text), "%s", host);
	return 0;
}

/*
 * Accepted: "1.2.3.4:5060", "[::1]:5060", and when no port is needed
 * also "1.2.3.4", "::1" and "[::1]". Only numeric addresses: a name
 * would need a resolver at load time, which a config check must not do.
 * <want_port>: 1 required, 0 optional, -1 forbidden.
 */
static int addr_parse(struct cfg_addr *a, const char *s, int want_port)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *h, *colon = NULL;
	size_t hlen;
	uint32_t port = 0;
	bool bracket = false;

	if (!a || !s)
		return EINVAL;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return EINVAL;
		bracket = true;
		h = s + 1;
		hlen = (size_t)(rb - h);
		if (rb[1] == ':')
			colon = rb + 1;
		else if (rb[1] != '\0')
			return EINVAL;
	}
	else {
		const char *last = strrchr(s, ':');

		h = s;
		hlen = strlen(s);
		/* one colon: ipv4:port; more: a bare IPv6 address */
		if (last && last == strchr(s, ':')) {
			colon = last;
			hlen = (size_t)(last - s);
		}
	}

	if (colon) {
		if (want_port < 0 || parse_u32(colon + 1, &port) ||
		    port < 1 || port > 65535)
			return EINVAL;
	}
	else if (want_port > 0) {
		return EINVAL;
	}

	if (hlen == 0 || hlen >= sizeof(host))
		return EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	return set_ip(a, host, (uint16_t)port, bracket);
}

int cfg_addr_parse(struct cfg_addr *a, const char *s, bool need_port)
{
	int err = addr_parse(a, s, need_port ? 1 : 0);

	if (err && a)
		memset(a, 0, sizeof(*a));
	return err;
}

/* Quote at most this much of a bad value in a message. */
#define Q(v) (int)(strlen(v) > 64 ? 64 : strlen(v)), (v)

/*
 * Store value <v> of key <k> into <dst>. <v> has no surrounding blanks
 * and no comment. Only the key's own field is written, and only when
 * the whole value is valid.
 */
static int set_value(const struct cfg_ctx *c, const struct cfg_key *k,
		     void *dst, const char *v)
{
	uint8_t *field = (uint8_t *)dst + k->off;
	size_t len = strlen(v);

	if (!len && !(k->flags & CFG_EMPTY_OK))
		return cfg_fail(c, "%s: empty value", k->name);

	switch (k->type) {

	case CFG_STRING:
		if (len >= k->size)
			return cfg_fail(c, "%s: value too long (max %zu bytes)",
					k->name, k->size - 1);
		memcpy(field, v, len + 1);
		return 0;

	case CFG_UINT: {
		uint32_t u;

		if (!len) {
			memset(field, 0, sizeof(uint32_t));
			return 0;
		}
		if (parse_u32(v, &u) || u < k->min || u > k->max)
			return cfg_fail(c, "%s: '%.*s' is not a number in "
					"%u..%u", k->name, Q(v), k->min,
					k->max);
		memcpy(field, &u, sizeof(u));
		return 0;
	}

	case CFG_BOOL: {
		bool b = false;

		if (len && parse_bool(v, &b))
			return cfg_fail(c, "%s: '%.*s' is not a boolean "
					"(yes/no)", k->name, Q(v));
		memcpy(field, &b, sizeof(b));
		return 0;
	}

	case CFG_LOGLEVEL: {
		enum log_level l = LOG_LVL_INFO;

		if (len && log_level_parse(v, &l))
			return cfg_fail(c, "%s: '%.*s' is not a log level "
					"(error, warn, info, debug)",
					k->name, Q(v));
		memcpy(field, &l, sizeof(l));
		return 0;
	}

	case CFG_ADDR:
	case CFG_IP: {
		struct cfg_addr a;

		memset(&a, 0, sizeof(a));
		if (len && addr_parse(&a, v, k->type == CFG_ADDR ? 1 : -1)) {
			if (k->type == CFG_ADDR)
				return cfg_fail(c, "%s: '%.*s': expected "
						"ip:port", k->name, Q(v));
			return cfg_fail(c, "%s: '%.*s' is not an IP address",
					k->name, Q(v));
		}
		memcpy(field, &a, sizeof(a));
		return 0;
	}

	case CFG_ADDR_LIST: {
		struct cfg_addrlist *l = malloc(sizeof(*l));
		char tok[CFG_VALUE_MAX];
		const char *p = v;
		int err = 0;

		if (!l)
			return cfg_fail(c, "%s: out of memory", k->name);
		memset(l, 0, sizeof(*l));
		while (*p) {
			size_t n = 0;

			while (is_blank(*p))
				++p;
			if (!*p)
				break;
			while (p[n] && !is_blank(p[n]))
				++n;
			memcpy(tok, p, n);
			tok[n] = '\0';
			p += n;
			if (l->n == CFG_ADDR_MAX) {
				err = cfg_fail(c, "%s: more than %d addresses",
					       k->name, CFG_ADDR_MAX);
				break;
			}
			if (addr_parse(&l->a[l->n], tok, 1)) {
				err = cfg_fail(c, "%s: '%.*s': expected "
					       "ip:port", k->name, Q(tok));
				break;
			}
			++l->n;
		}
		if (!err)
			memcpy(field, l, sizeof(*l));
		free(l);
		return err;
	}
	}

	return cfg_fail(c, "%s: bad key type %d", k->name, (int)k->type);
}

/* Table sanity, so a programming error reads as one at startup. */
static int check_key(const struct cfg_ctx *c, const struct cfg_key *k)
{
	switch (k->type) {

	case CFG_STRING:
		if (!k->size)
			return cfg_fail(c, "%s: string key without size",
					k->name);
		return 0;

	case CFG_UINT:
		if (k->min > k->max)
			return cfg_fail(c, "%s: min %u > max %u", k->name,
					k->min, k->max);
		return 0;

	case CFG_BOOL:
	case CFG_LOGLEVEL:
	case CFG_ADDR:
	case CFG_IP:
	case CFG_ADDR_LIST:
		return 0;
	}

	return cfg_fail(c, "%s: bad key type %d", k->name, (int)k->type);
}

static int apply_defaults(const struct cfg_ctx *c,
			  const struct cfg_key *keys, void *dst)
{
	const struct cfg_key *k;
	int err;

	for (k = keys; k->name; k++) {
		err = check_key(c, k);
		if (!err)
			err = set_value(c, k, dst, k->def ? k->def : "");
		if (err)
			return err;
	}
	return 0;
}

int cfg_defaults(const struct cfg_key *keys, void *dst, char *err,
		 size_t errsz)
{
	const struct cfg_ctx c = { "defaults", 0, err, errsz };

	if (err && errsz)
		err[0] = '\0';
	if (!keys || !dst)
		return EINVAL;
	return apply_defaults(&c, keys, dst);
}

static const struct cfg_key *find_key(const struct cfg_key *keys,
				      const char *name, size_t len)
{
	const struct cfg_key *k;

	for (k = keys; k->name; k++) {
		if (strlen(k->name) == len && !memcmp(k->name, name, len))
			return k;
	}
	return NULL;
}

/*
 * One line, without its '\n' (a trailing '\r' is dropped here). A '#'
 * at the start of a token begins a comment; one inside a token (a
 * password, a URI fragment) is part of the value.
 */
static int parse_line(struct cfg_ctx *c, const struct cfg_key *keys,
		      void *dst, bool *seen, const char *p, size_t len)
{
	char val[CFG_VALUE_MAX];
	const struct cfg_key *k;
	size_t i = 0, klen, vstart, vend;

	if (len && p[len - 1] == '\r')
		--len;
	if (memchr(p, '\0', len))
		return cfg_fail(c, "NUL byte in line");

	while (i < len && is_blank(p[i]))
		++i;
	if (i == len || p[i] == '#')
		return 0;

	klen = 0;
	while (i + klen < len && !is_blank(p[i + klen]))
		++klen;
	k = find_key(keys, p + i, klen);
	if (!k)
		return cfg_fail(c, "unknown key '%.*s'",
				(int)(klen > 64 ? 64 : klen), p + i);
	if (seen[k - keys])
		return cfg_fail(c, "duplicate key '%s'", k->name);
	seen[k - keys] = true;

	vstart = i + klen;
	while (vstart < len && is_blank(p[vstart]))
		++vstart;
	for (vend = vstart; vend < len; vend++) {
		if (p[vend] == '#' && (vend == vstart ||
				       is_blank(p[vend - 1])))
			break;
	}
	while (vend > vstart && is_blank(p[vend - 1]))
		--vend;

	if (vend - vstart >= sizeof(val))
		return cfg_fail(c, "%s: value too long", k->name);
	memcpy(val, p + vstart, vend - vstart);
	val[vend - vstart] = '\0';

	return set_value(c, k, dst, val);
}

int cfg_parse(const char *name, const char *buf, size_t len,
	      const struct cfg_key *keys, void *dst, char *err,
	      size_t errsz)
{
	struct cfg_ctx c = { name ? name : "(config)", 0, err, errsz };
	const char *p = buf, *end = buf + len;
	size_t nkeys = 0;
	bool *seen;
	int ret;

	if (err && errsz)
		err[0] = '\0';
	if (!keys || !dst || (!buf && len))
		return EINVAL;

	ret = apply_defaults(&c, keys, dst);
	if (ret)
		return ret;

	while (keys[nkeys].name)
		++nkeys;
	seen = calloc(nkeys + 1, sizeof(*seen));
	if (!seen)
		return ENOMEM;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);

		++c.line;
		ret = parse_line(&c, keys, dst, seen, p, llen);
		if (ret)
			break;
		p += llen + (nl ? 1 : 0);
	}

	free(seen);
	return ret;
}

/*
 * Read the whole file first (bounded), then parse: a file that changes
 * while it is read is either seen complete or refused.
 */
int cfg_read(const char *path, char **bufp, size_t *lenp, char *err,
	     size_t errsz)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, ret;

	if (!path || !bufp || !lenp)
		return EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		ret = errno;
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		ret = errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = EISDIR;
		goto fail;
	}

	buf = malloc(CFG_FILE_MAX + 1);
	if (!buf) {
		ret = ENOMEM;
		goto fail;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, CFG_FILE_MAX + 1 - len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			ret = errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CFG_FILE_MAX) {
			if (err && errsz)
				snprintf(err, errsz, "%s: file larger than "
					 "%d bytes", path, CFG_FILE_MAX);
			ret = EFBIG;
			goto out;
		}
	}
	buf[len] = '\0';
	close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;

 fail:
	if (err && errsz)
		snprintf(err, errsz, "%s: %s", path, strerror(ret));
 out:
	if (fd != -1)
		close(fd);
	free(buf);
	return ret;
}

int cfg_load(const char *path, const struct cfg_key *keys, void *dst,
	     char *err, size_t errsz)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (err && errsz)
		err[0] = '\0';
	if (!path || !keys || !dst)
		return EINVAL;

	/* so <dst> holds the defaults even when the file is unreadable */
	ret = cfg_defaults(keys, dst, err, errsz);
	if (ret)
		return ret;

	ret = cfg_read(path, &buf, &len, err, errsz);
	if (ret)
		return ret == EFBIG ? EINVAL : ret;

	ret = cfg_parse(path, buf, len, keys, dst, err, errsz);
	free(buf);
	return ret;
}

void cfg_print_sample(const struct cfg_key *keys, FILE *fp)
{
	const struct cfg_key *k;

	if (!keys || !fp)
		return;

	for (k = keys; k->name; k++) {
		const char *def = k->def ? k->def : "";

		if (k != keys)
			fputc('\n', fp);
		if (k->doc && *k->doc)
			fprintf(fp, "# %s\n", k->doc);
		if (*def)
			fprintf(fp, "#%s %s\n", k->name, def);
		else
			fprintf(fp, "#%s\n", k->name);
	}
}

bool cfg_addr_is_any(const struct cfg_addr *a)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (!a || !a->len)
		return false;
	sin = (const void *)&a->ss;
	sin6 = (const void *)&a->ss;
	if (a->ss.ss_family == AF_INET)
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	return false;
}
