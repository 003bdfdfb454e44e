/* api/field.c  Request body fields: schemas, syntax checks, canonical forms */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "field.h"
#include "jdec.h"

#define E164_MAX   15
#define HOST_MAX   253
#define LABEL_MAX  63
#define ADDR_TXT   64     /* longest address text we look at, plus NUL */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
	}
	return true;
}

const char *field_text(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return "must not hold control characters";
	}
	return NULL;
}

const char *field_e164(const char *s)
{
	size_t len = strlen(s);

	if (s[0] == '+')
		return "must be E.164 digits without the leading '+'";
	if (!len || len > E164_MAX || !all_digits(s, len))
		return "must be 1 to 15 digits (E.164, no '+')";
	return NULL;
}

const char *field_prefix(const char *s)
{
	size_t len = strlen(s);

	if (len > E164_MAX || !all_digits(s, len))
		return "must be up to 15 digits (E.164, no '+')";
	return NULL;
}

/* A DNS name (RFC 1123 section 2.1) whose last label is not numeric. */
static bool dns_name(const char *s, size_t len)
{
	size_t i, label = 0;
	bool numeric = true;

	if (!len || len > HOST_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';

		if (c == '.') {
			if (!label || s[i - 1] == '-')
				return false;
			if (i == len)
				break;
			label = 0;
			numeric = true;
			continue;
		}
		if (!is_alnum(c) && c != '-')
			return false;
		if (c == '-' && !label)
			return false;
		if (!is_digit(c))
			numeric = false;
		if (++label > LABEL_MAX)
			return false;
	}
	return !numeric;
}

/* <s>/<len> as an IPv4 or IPv6 literal: its family, or 0. */
static int ip_literal(const char *s, size_t len, void *addr)
{
	char buf[ADDR_TXT];
	unsigned char tmp[16];

	if (!len || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, addr ? addr : tmp) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, buf, addr ? addr : tmp) == 1)
		return AF_INET6;
	return 0;
}

static bool host_ok(const char *s, size_t len)
{
	return ip_literal(s, len, NULL) || dns_name(s, len);
}

const char *field_host(const char *s)
{
	if (!host_ok(s, strlen(s)))
		return "must be an IP address or a DNS name";
	return NULL;
}

/*
 * Parse CIDR <s> into <addr> (16 bytes), its family and prefix length
 * (the whole address when none is given). 0, or a problem phrase.
 */
static const char *cidr_parse(const char *s, unsigned char *addr, int *afp,
			      unsigned *plenp)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned plen = 0, bits, i;
	int af;

	memset(addr, 0, 16);
	af = ip_literal(s, alen, addr);
	if (!af)
		return "must be an IP address or CIDR (e.g. 192.0.2.0/24)";
	bits = af == AF_INET ? 32 : 128;

	if (!slash) {
		plen = bits;
	}
	else {
		const char *p = slash + 1;

		if (!*p || strlen(p) > 3 || !all_digits(p, strlen(p)) ||
		    (p[0] == '0' && p[1]))
			return "has a bad prefix length";
		for (; *p; p++)
			plen = plen * 10 + (unsigned)(*p - '0');
		if (plen > bits)
			return "has a prefix length past the address size";
	}

	for (i = plen; i < bits; i++) {
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return "has host bits set past its prefix length";
	}
	*afp = af;
	*plenp = plen;
	return NULL;
}

const char *field_cidr(const char *s)
{
	unsigned char addr[16];
	unsigned plen;
	int af;

	return cidr_parse(s, addr, &af, &plen);
}

const char *field_entry(const char *s)
{
	size_t len = strlen(s);

	if (len && all_digits(s, len))
		return field_e164(s);
	if (field_cidr(s))
		return "must be an E.164 number (digits, no '+') or an IP "
			"address or CIDR";
	return NULL;
}

int field_cidr_canon(const char *s, char *buf, size_t sz)
{
	char txt[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	unsigned plen;
	int af, n;

	if (!s || !buf || cidr_parse(s, addr, &af, &plen))
		return EINVAL;
	if (!inet_ntop(af, addr, txt, sizeof(txt)))
		return EINVAL;
	if (plen == (af == AF_INET ? 32u : 128u))
		n = snprintf(buf, sz, "%s", txt);
	else
		n = snprintf(buf, sz, "%s/%u", txt, plen);
	return n < 0 || (size_t)n >= sz ? ENOSPC : 0;
}

int field_entry_canon(const char *s, char *buf, size_t sz)
{
	size_t len;

	if (!s || !buf)
		return EINVAL;
	len = strlen(s);
	if (len && all_digits(s, len)) {
		if (len >= sz)
			return ENOSPC;
		memcpy(buf, s, len + 1);
		return 0;
	}
	return field_cidr_canon(s, buf, sz);
}

const char *field_name(const char *s)
{
	size_t len = strlen(s), i;

	if (!len || len > LABEL_MAX)
		return "must be 1 to 63 letters, digits, '.', '_' or '-'";
	for (i = 0; i < len; i++) {
		if (!is_alnum(s[i]) && !strchr("._-", s[i]))
			return "must be 1 to 63 letters, digits, '.', '_' "
				"or '-'";
	}
	return NULL;
}

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 3261 section 25.1: user = 1*( unreserved / escaped / user-unreserved ) */
static bool user_ok(const char *s, size_t len)
{
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (is_alnum(c) || (c && strchr("-_.!~*'()&=+$,;?/", c)))
			continue;
		if (c == '%' && i + 2 < len &&
		    hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			i += 2;
			continue;
		}
		return false;
	}
	return true;
}

const char *field_user(const char *s)
{
	if (!user_ok(s, strlen(s)))
		return "must be a SIP user part (letters, digits and "
			"-_.!~*'()&=+$,;?/ or %XX escapes)";
	return NULL;
}

/* The host of a sip: URI's <rest> (after the scheme) is sound. */
static bool uri_ok(const char *rest)
{
	const char *p, *at, *host, *end;

	for (p = rest; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("<>\"\\{}|^`", c))
			return false;
	}
	end = rest + strcspn(rest, ";?");
	at = NULL;
	for (p = rest; p < end; p++) {
		if (*p == '@')
			at = p;
	}
	if (at && !user_ok(rest, (size_t)(at - rest)))
		return false;
	host = at ? at + 1 : rest;

	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(end - host));

		if (!rb || ip_literal(host + 1, (size_t)(rb - host - 1),
				      NULL) != AF_INET6)
			return false;
		p = rb + 1;
	}
	else {
		p = host + strcspn(host, ":;?");
		if (p > end)
			p = end;
		if (!host_ok(host, (size_t)(p - host)))
			return false;
	}
	if (p < end && *p == ':') {
		const char *port = p + 1;
		size_t n = (size_t)(end - port);
		unsigned v = 0;

		if (!n || n > 5 || !all_digits(port, n))
			return false;
		for (; port < end; port++)
			v = v * 10 + (unsigned)(*port - '0');
		if (v < 1 || v > 65535)
			return false;
		p = end;
	}
	return p == end;
}

const char *field_target(const char *s)
{
	static const char *const bad = "must be user@domain or a sip: URI";
	const char *at;

	if (!strncasecmp(s, "sip:", 4))
		return uri_ok(s + 4) ? NULL : bad;
	if (!strncasecmp(s, "sips:", 5))
		return uri_ok(s + 5) ? NULL : bad;

	at = strrchr(s, '@');
	if (!at || !user_ok(s, (size_t)(at - s)) || !host_ok(at + 1,
							   strlen(at + 1)))
		return bad;
	return NULL;
}

static const struct field *field_find(const struct field *f, size_t n,
				      const char *key, size_t keylen,
				      size_t *idx)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strlen(f[i].name) == keylen &&
		    !memcmp(f[i].name, key, keylen)) {
			*idx = i;
			return &f[i];
		}
	}
	return NULL;
}

/* "udp, tcp, tls" into <buf>. */
static void enum_list(const char *const *e, char *buf, size_t sz)
{
	size_t len = 0;

	buf[0] = '\0';
	for (; *e && len < sz; e++) {
		int n = snprintf(buf + len, sz - len, "%s%s", len ? ", " : "",
				 *e);

		if (n < 0)
			break;
		len += (size_t)n;
	}
}

static int str_value(const struct field *f, const char *s, size_t len,
		     char *why, size_t sz)
{
	const char *bad;

	if (f->enums) {
		const char *const *e;
		char list[128];

		for (e = f->enums; *e; e++) {
			if (!strcmp(*e, s))
				return 0;
		}
		enum_list(f->enums, list, sizeof(list));
		snprintf(why, sz, "field '%s' must be one of %s", f->name,
			 list);
		return EINVAL;
	}
	if (len > f->maxlen) {
		snprintf(why, sz, "field '%s' must be at most %zu bytes long",
			 f->name, f->maxlen);
		return EINVAL;
	}
	if (!len && (f->flags & FIELD_REQUIRED)) {
		snprintf(why, sz, "field '%s' must not be empty", f->name);
		return EINVAL;
	}
	bad = field_text(s);
	if (!bad && len && f->check)
		bad = f->check(s);
	if (bad) {
		snprintf(why, sz, "field '%s' %s", f->name, bad);
		return EINVAL;
	}
	return 0;
}

static int list_value(const struct field *f, const struct jnode *arr,
		      char *why, size_t sz)
{
	const struct jnode *e, *o;
	unsigned k = 0;
	const char *bad;

	if (f->max && arr->v.c.n > (size_t)f->max) {
		snprintf(why, sz, "field '%s' holds at most %lld entries",
			 f->name, (long long)f->max);
		return EINVAL;
	}
	if (!arr->v.c.n && (f->flags & FIELD_NONEMPTY)) {
		snprintf(why, sz, "field '%s' needs at least one entry",
			 f->name);
		return EINVAL;
	}
	for (e = arr->v.c.head; e; e = e->next) {
		++k;
		if (e->type != JN_STR) {
			snprintf(why, sz, "field '%s' entry %u must be a "
				 "string, not %s", f->name, k,
				 jdec_type_name(e->type));
			return EINVAL;
		}
		if (!e->v.s.len || e->v.s.len > f->maxlen) {
			snprintf(why, sz, "field '%s' entry %u must be 1 to "
				 "%zu bytes long", f->name, k, f->maxlen);
			return EINVAL;
		}
		bad = field_text(e->v.s.p);
		if (!bad && f->check)
			bad = f->check(e->v.s.p);
		if (bad) {
			snprintf(why, sz, "field '%s' entry %u %s", f->name, k,
				 bad);
			return EINVAL;
		}
		if (!(f->flags & FIELD_UNIQUE))
			continue;
		for (o = arr->v.c.head; o != e; o = o->next) {
			if (o->v.s.len == e->v.s.len &&
			    !memcmp(o->v.s.p, e->v.s.p, e->v.s.len)) {
				snprintf(why, sz, "field '%s' lists \"%s\" "
					 "twice", f->name, e->v.s.p);
				return EINVAL;
			}
		}
	}
	return 0;
}

static const char *kind_name(enum field_kind k)
{
	switch (k) {
	case FIELD_STR:  return "a string";
	case FIELD_INT:  return "an integer";
	case FIELD_BOOL: return "true or false";
	case FIELD_LIST: return "an array of strings";
	default:         return "a value";
	}
}

/* Member <m> for field <f> into <v>. */
static int member_value(const struct field *f, const struct jnode *m,
			struct field_val *v, char *why, size_t sz)
{
	static const enum jnode_type want[] = {
		[FIELD_STR] = JN_STR, [FIELD_INT] = JN_INT,
		[FIELD_BOOL] = JN_BOOL, [FIELD_LIST] = JN_ARR,
	};
	int err;

	if (m->type == JN_NULL && (f->flags & FIELD_NULLABLE)) {
		v->null = true;
		return 0;
	}
	if (m->type != want[f->kind]) {
		if (f->kind == FIELD_INT && m->type == JN_NUM)
			snprintf(why, sz, "field '%s' must be an integer from "
				 "%lld to %lld", f->name, (long long)f->min,
				 (long long)f->max);
		else
			snprintf(why, sz, "field '%s' must be %s, not %s",
				 f->name, kind_name(f->kind),
				 jdec_type_name(m->type));
		return EINVAL;
	}

	switch (f->kind) {
	case FIELD_STR:
		err = str_value(f, m->v.s.p, m->v.s.len, why, sz);
		if (err)
			return err;
		v->s = m->v.s.p;
		v->len = m->v.s.len;
		break;
	case FIELD_INT:
		if (m->v.i < f->min || m->v.i > f->max) {
			snprintf(why, sz, "field '%s' must be an integer from "
				 "%lld to %lld", f->name, (long long)f->min,
				 (long long)f->max);
			return EINVAL;
		}
		v->i = m->v.i;
		break;
	case FIELD_BOOL:
		v->i = m->v.b;
		break;
	case FIELD_LIST:
		err = list_value(f, m, why, sz);
		if (err)
			return err;
		v->list = m;
		break;
	}
	v->present = true;
	return 0;
}

int field_decode(const struct field *f, size_t n, const struct jnode *obj,
		 struct field_val *vals, char *why, size_t sz)
{
	const struct jnode *m;
	size_t i;
	int err;

	if (!f || !vals || !why || !sz)
		return EINVAL;
	memset(vals, 0, n * sizeof(*vals));

	if (!obj || obj->type != JN_OBJ) {
		snprintf(why, sz, "the body must be a JSON object");
		return EINVAL;
	}

	for (m = obj->v.c.head; m; m = m->next) {
		const struct field *fd = field_find(f, n, m->key, m->keylen,
						    &i);

		if (!fd) {
			snprintf(why, sz, "unknown field '%.64s'", m->key);
			return EINVAL;
		}
		if (fd->flags & FIELD_READONLY)
			continue;
		err = member_value(fd, m, &vals[i], why, sz);
		if (err)
			return err;
	}

	for (i = 0; i < n; i++) {
		if ((f[i].flags & FIELD_REQUIRED) && !vals[i].present) {
			snprintf(why, sz, "field '%s' is required", f[i].name);
			return EINVAL;
		}
	}
	return 0;
}
