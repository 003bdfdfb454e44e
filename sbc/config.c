/* sbc/config.c  sbc.conf: the key table, loading, validation and reload diff */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"


#define OFF(f)  offsetof(struct sbc_config, f)
#define SZ(f)   sizeof(((struct sbc_config *)0)->f)

const struct cfg_key config_keys[CONFIG_K_COUNT + 1] = {
	[CONFIG_K_SIP_UDP] = { "sip_udp", CFG_ADDR, "0.0.0.0:5060",
		OFF(sip_udp), 0, 0, 0, CFG_EMPTY_OK,
		"SIP over UDP listener (ip:port); empty disables" },
	[CONFIG_K_SIP_TCP] = { "sip_tcp", CFG_ADDR, "0.0.0.0:5060",
		OFF(sip_tcp), 0, 0, 0, CFG_EMPTY_OK,
		"SIP over TCP listener (ip:port); empty disables" },
	[CONFIG_K_SIP_TLS] = { "sip_tls", CFG_ADDR, "", OFF(sip_tls),
		0, 0, 0, CFG_EMPTY_OK,
		"SIP over TLS listener, e.g. 0.0.0.0:5061 (needs tls_cert)" },
	[CONFIG_K_SIP_WS] = { "sip_ws", CFG_ADDR, "0.0.0.0:8080", OFF(sip_ws),
		0, 0, 0, CFG_EMPTY_OK,
		"SIP over WebSocket (RFC 7118) listener; empty disables" },
	[CONFIG_K_SIP_WSS] = { "sip_wss", CFG_ADDR, "", OFF(sip_wss),
		0, 0, 0, CFG_EMPTY_OK,
		"SIP over secure WebSocket listener (needs tls_cert)" },
	[CONFIG_K_TLS_CERT] = { "tls_cert", CFG_STRING, "", OFF(tls_cert),
		SZ(tls_cert), 0, 0, CFG_EMPTY_OK,
		"PEM file holding the private key and certificate chain" },
	[CONFIG_K_ADVERTISED_IP] = { "advertised_ip", CFG_IP, "",
		OFF(advertised_ip), 0, 0, 0, CFG_EMPTY_OK,
		"address put in Via/Contact/SDP toward the outside; "
		"empty: automatic" },
	[CONFIG_K_DB_PATH] = { "db_path", CFG_STRING, "var/sbc.db",
		OFF(db_path), SZ(db_path), 0, 0, 0,
		"SQLite database, created and migrated on start" },
	[CONFIG_K_API_LISTEN] = { "api_listen", CFG_ADDR, "127.0.0.1:8000",
		OFF(api_listen), 0, 0, 0, CFG_EMPTY_OK,
		"REST API, /health and /metrics (ip:port); empty disables" },
	[CONFIG_K_API_TOKEN] = { "api_token", CFG_STRING, "", OFF(api_token),
		SZ(api_token), 0, 0, CFG_EMPTY_OK,
		"bearer token of the REST API; empty: every call but "
		"/health and /metrics is refused" },
	[CONFIG_K_METRICS_AUTH] = { "metrics_auth", CFG_BOOL, "no",
		OFF(metrics_auth), 0, 0, 0, 0,
		"yes: /metrics needs the bearer token too" },
	[CONFIG_K_MEDIA_NG] = { "media_ng", CFG_ADDR_LIST, "127.0.0.1:22222",
		OFF(media_ng), 0, 0, 0, 0,
		"NG endpoint(s) of mediad or rtpengine, space separated" },
	[CONFIG_K_SHM_NAME] = { "shm_name", CFG_STRING, "/sbc-media",
		OFF(shm_name), SZ(shm_name), 0, 0, 0,
		"shared-memory segment of mediad (its shm_name)" },
	[CONFIG_K_DOMAINS] = { "domains", CFG_STRING, "", OFF(domains),
		SZ(domains), 0, 0, CFG_EMPTY_OK,
		"SIP domains served, space separated (the API adds more)" },
	[CONFIG_K_DRAIN_TIMEOUT] = { "drain_timeout", CFG_UINT, "0",
		OFF(drain_timeout), 0, 0, 86400, 0,
		"seconds live calls may continue after SIGTERM" },
	[CONFIG_K_LOG_LEVEL] = { "log_level", CFG_LOGLEVEL, "info",
		OFF(log_level), 0, 0, 0, 0,
		"error, warn, info or debug (-v raises it)" },
	[CONFIG_K_COUNT] = CFG_END,
};

/*
 * What a SIGHUP applies. The rest is bound at start (sockets, files,
 * the shared-memory name) and is only reported as "needs restart".
 */
static const bool key_live[CONFIG_K_COUNT] = {
	[CONFIG_K_ADVERTISED_IP] = true,
	[CONFIG_K_API_TOKEN]     = true,
	[CONFIG_K_METRICS_AUTH]  = true,
	[CONFIG_K_MEDIA_NG]      = true,
	[CONFIG_K_DOMAINS]       = true,
	[CONFIG_K_DRAIN_TIMEOUT] = true,
	[CONFIG_K_LOG_LEVEL]     = true,
};

/* Where a cross-check error is reported. */
struct vctx {
	const char *name;
	const char *buf;
	size_t      len;
	char       *err;
	size_t      errsz;
};

/* Line of the first non-comment line that sets <key>, or 0. */
static unsigned key_line(const struct vctx *v, const char *key)
{
	const char *p = v->buf, *end = v->buf + v->len;
	size_t klen = strlen(key);
	unsigned line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		++line;
		while (p < e && (*p == ' ' || *p == '\t'))
			++p;
		if ((size_t)(e - p) >= klen && !memcmp(p, key, klen) &&
		    (p + klen == e || p[klen] == ' ' || p[klen] == '\t' ||
		     p[klen] == '\r'))
			return line;
		p = e + 1;
	}
	return 0;
}

static int vfail(const struct vctx *v, unsigned k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "name:line: key: message", naming the line that set key <k>. */
static int vfail(const struct vctx *v, unsigned k, const char *fmt, ...)
{
	unsigned line = key_line(v, config_keys[k].name);
	va_list ap;
	int n;

	if (!v->err || !v->errsz)
		return EINVAL;
	if (line)
		n = snprintf(v->err, v->errsz, "%s:%u: %s: ", v->name, line,
			     config_keys[k].name);
	else
		n = snprintf(v->err, v->errsz, "%s: %s: ", v->name,
			     config_keys[k].name);
	if (n < 0 || (size_t)n >= v->errsz)
		return EINVAL;
	va_start(ap, fmt);
	vsnprintf(v->err + n, v->errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return EINVAL;
}

static uint16_t addr_port(const struct cfg_addr *a)
{
	const struct sockaddr_in *sin = (const void *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const void *)&a->ss;

	if (a->ss.ss_family == AF_INET)
		return ntohs(sin->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(sin6->sin6_port);
	return 0;
}

/* True when binding both <a> and <b> (same protocol) would collide. */
static bool addr_overlap(const struct cfg_addr *a, const struct cfg_addr *b)
{
	const struct sockaddr_in *a4 = (const void *)&a->ss;
	const struct sockaddr_in *b4 = (const void *)&b->ss;
	const struct sockaddr_in6 *a6 = (const void *)&a->ss;
	const struct sockaddr_in6 *b6 = (const void *)&b->ss;

	if (!a->len || !b->len || a->ss.ss_family != b->ss.ss_family)
		return false;
	if (addr_port(a) != addr_port(b))
		return false;
	if (cfg_addr_is_any(a) || cfg_addr_is_any(b))
		return true;
	if (a->ss.ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return !memcmp(&a6->sin6_addr, &b6->sin6_addr,
		       sizeof(a6->sin6_addr));
}

/* The TCP listeners: two of them on one port would fail at bind time. */
static int check_tcp_ports(const struct vctx *v, const struct sbc_config *c)
{
	const struct {
		unsigned k;
		const struct cfg_addr *a;
	} l[] = {
		{ CONFIG_K_SIP_TCP,    &c->sip_tcp },
		{ CONFIG_K_SIP_TLS,    &c->sip_tls },
		{ CONFIG_K_SIP_WS,     &c->sip_ws },
		{ CONFIG_K_SIP_WSS,    &c->sip_wss },
		{ CONFIG_K_API_LISTEN, &c->api_listen },
	};
	size_t i, j, n = sizeof(l) / sizeof(l[0]);

	for (i = 1; i < n; i++) {
		for (j = 0; j < i; j++) {
			if (addr_overlap(l[i].a, l[j].a))
				return vfail(v, l[i].k, "%s collides with "
					     "%s %s (both TCP)", l[i].a->text,
					     config_keys[l[j].k].name,
					     l[j].a->text);
		}
	}
	return 0;
}

/* Host names and IP literals: letters, digits, '-', '.', and ":[]". */
static int check_domains(const struct vctx *v, const char *s)
{
	const char *p = s;

	while (*p) {
		size_t n = 0, i;

		while (*p == ' ' || *p == '\t')
			++p;
		if (!*p)
			break;
		while (p[n] && p[n] != ' ' && p[n] != '\t')
			++n;
		if (n > 253)
			return vfail(v, CONFIG_K_DOMAINS, "'%.32s...' is "
				     "longer than a domain name can be", p);
		for (i = 0; i < n; i++) {
			char c = p[i];

			if (!((c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') ||
			      c == '-' || c == '.' || c == ':' ||
			      c == '[' || c == ']'))
				return vfail(v, CONFIG_K_DOMAINS, "'%.*s' is "
					     "not a domain name", (int)n, p);
		}
		p += n;
	}
	return 0;
}

/* RFC 6750 b64token: what a client can put after "Bearer ". */
static int check_token(const struct vctx *v, const char *s)
{
	const char *p;

	for (p = s; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("-._~+/=", c)))
			return vfail(v, CONFIG_K_API_TOKEN, "only letters, "
				     "digits and -._~+/= may appear in a "
				     "bearer token");
	}
	return 0;
}

/* Checks that span keys or that the generic parser cannot make. */
static int validate(const struct vctx *v, const struct sbc_config *c)
{
	int err;

	if (c->sip_tls.len && !c->tls_cert[0])
		return vfail(v, CONFIG_K_SIP_TLS, "needs tls_cert");
	if (c->sip_wss.len && !c->tls_cert[0])
		return vfail(v, CONFIG_K_SIP_WSS, "needs tls_cert");
	if (c->tls_cert[0] && access(c->tls_cert, R_OK) == -1)
		return vfail(v, CONFIG_K_TLS_CERT, "cannot read '%s': %s",
			     c->tls_cert, strerror(errno));

	err = check_tcp_ports(v, c);
	if (err)
		return err;

	if (c->shm_name[0] != '/' || !c->shm_name[1] ||
	    strchr(c->shm_name + 1, '/'))
		return vfail(v, CONFIG_K_SHM_NAME, "'%s' must be '/' and a "
			     "name without another '/'", c->shm_name);

	err = check_domains(v, c->domains);
	if (err)
		return err;

	return check_token(v, c->api_token);
}

int config_defaults(struct sbc_config *cfg)
{
	if (!cfg)
		return EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	return cfg_defaults(config_keys, cfg, NULL, 0);
}

int config_parse(struct sbc_config *cfg, const char *name, const char *buf,
		 size_t len, char *err, size_t errsz)
{
	const struct vctx v = { name, buf, len, err, errsz };
	struct sbc_config *tmp;
	int ret;

	if (!cfg || !name || (!buf && len))
		return EINVAL;

	/* scratch first: <cfg> changes only when everything passed */
	tmp = calloc(1, sizeof(*tmp));
	if (!tmp)
		return ENOMEM;

	ret = cfg_parse(name, buf, len, config_keys, tmp, err, errsz);
	if (!ret)
		ret = validate(&v, tmp);
	if (!ret)
		*cfg = *tmp;

	free(tmp);
	return ret;
}

int config_load(struct sbc_config *cfg, const char *path, char *err,
		size_t errsz)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (!cfg || !path)
		return EINVAL;

	ret = cfg_read(path, &buf, &len, err, errsz);
	if (ret)
		return ret;
	ret = config_parse(cfg, path, buf, len, err, errsz);
	free(buf);
	return ret;
}

static bool key_equal(const struct cfg_key *k, const void *a, const void *b)
{
	const uint8_t *fa = (const uint8_t *)a + k->off;
	const uint8_t *fb = (const uint8_t *)b + k->off;

	switch (k->type) {

	case CFG_STRING:
		return !strcmp((const char *)fa, (const char *)fb);

	case CFG_UINT:
		return !memcmp(fa, fb, sizeof(uint32_t));

	case CFG_BOOL:
		return *(const bool *)fa == *(const bool *)fb;

	case CFG_LOGLEVEL:
		return !memcmp(fa, fb, sizeof(enum log_level));

	case CFG_ADDR:
	case CFG_IP: {
		const struct cfg_addr *x = (const void *)fa;
		const struct cfg_addr *y = (const void *)fb;

		return x->len == y->len && !strcmp(x->text, y->text);
	}

	case CFG_ADDR_LIST: {
		const struct cfg_addrlist *x = (const void *)fa;
		const struct cfg_addrlist *y = (const void *)fb;
		unsigned i;

		if (x->n != y->n)
			return false;
		for (i = 0; i < x->n; i++) {
			if (strcmp(x->a[i].text, y->a[i].text))
				return false;
		}
		return true;
	}
	}

	return false;
}

void config_diff(struct config_diff *d, const struct sbc_config *cur,
		 const struct sbc_config *next)
{
	unsigned i;

	if (!d)
		return;
	d->live = d->restart = 0;
	if (!cur || !next)
		return;

	for (i = 0; i < CONFIG_K_COUNT; i++) {
		if (key_equal(&config_keys[i], cur, next))
			continue;
		if (key_live[i])
			d->live |= 1u << i;
		else
			d->restart |= 1u << i;
	}
}

/* Bytes a key of type <t> occupies in the struct. */
static size_t key_size(const struct cfg_key *k)
{
	switch (k->type) {

	case CFG_STRING:    return k->size;
	case CFG_UINT:      return sizeof(uint32_t);
	case CFG_BOOL:      return sizeof(bool);
	case CFG_LOGLEVEL:  return sizeof(enum log_level);
	case CFG_ADDR:
	case CFG_IP:        return sizeof(struct cfg_addr);
	case CFG_ADDR_LIST: return sizeof(struct cfg_addrlist);
	}
	return 0;
}

void config_apply_live(struct sbc_config *cur, const struct sbc_config *next)
{
	unsigned i;

	if (!cur || !next)
		return;
	for (i = 0; i < CONFIG_K_COUNT; i++) {
		const struct cfg_key *k = &config_keys[i];

		if (key_live[i])
			memcpy((uint8_t *)cur + k->off,
			       (const uint8_t *)next + k->off, key_size(k));
	}
}

const char *config_key_name(enum config_key k)
{
	return (unsigned)k < CONFIG_K_COUNT ? config_keys[k].name : "?";
}

bool config_key_live(enum config_key k)
{
	return (unsigned)k < CONFIG_K_COUNT && key_live[k];
}

void config_print_keys(FILE *fp)
{
	const struct cfg_key *k;

	for (k = config_keys; k->name; k++) {
		fprintf(fp, "  %-14s %-16s %s%s\n", k->name,
			k->def && *k->def ? k->def : "(empty)", k->doc,
			key_live[k - config_keys] ? "" : " [restart]");
	}
}

unsigned config_domain_count(const struct sbc_config *cfg)
{
	const char *p;
	unsigned n = 0;
	bool in = false;

	if (!cfg)
		return 0;
	for (p = cfg->domains; *p; p++) {
		bool blank = *p == ' ' || *p == '\t';

		if (!blank && !in)
			++n;
		in = !blank;
	}
	return n;
}
