/* sbc/route.c  Routing lookups in the provisioning tables */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <sqlite3.h>
#include <re.h>

#include "config.h"
#include "log.h"
#include "route.h"
#include "sbc.h"
#include "trunk.h"

/*
 * Every lookup runs its statement at call time, so what the API (or an
 * operator with the sqlite3 shell) wrote is seen by the next call. The
 * statements are prepared once, persistent, and reset before returning:
 * no read transaction stays open between two turns of the loop.
 */
enum route_stmt {
	ST_DOMAIN = 0,
	ST_SUBSCRIBER,
	ST_TRUNK,
	ST_SOURCES,
	ST_DID,
	ST_ROUTE,
	ST_ROUTE_TRUNKS,
	ST_BLOCK_NUMBER,
	ST_BLOCK_NETS,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_DOMAIN] =
	"SELECT 1 FROM domains WHERE name = ?1",

	/* user parts are case-sensitive (RFC 3261 19.1.4), domains not */
	[ST_SUBSCRIBER] =
	"SELECT ha1_md5, ha1_sha256, display_name, caller_id, enabled "
	"FROM subscribers WHERE username = ?1 AND domain = ?2",

	[ST_TRUNK] =
	"SELECT name, host, port, transport, register, username, password, "
	"realm, max_calls, max_cps, media, enabled FROM trunks "
	"WHERE name = ?1",

	/* one row per (enabled trunk, inbound_cidrs element); a value
	 * that is no JSON array gives one row with no element */
	[ST_SOURCES] =
	"SELECT t.name, t.host, j.value, j.type, "
	"  json_type(t.inbound_cidrs) = 'array' FROM trunks t "
	"LEFT JOIN json_each(CASE json_type(t.inbound_cidrs) "
	"  WHEN 'array' THEN t.inbound_cidrs ELSE '[]' END) j "
	"WHERE t.enabled = 1 ORDER BY t.priority, t.name, j.id",

	[ST_DID] =
	"SELECT number, target, coalesce(trunk, '') FROM dids "
	"WHERE number = ?1",

	/* every prefix of ?1, longest first, each an index lookup */
	[ST_ROUTE] =
	"WITH RECURSIVE p(n) AS (SELECT 0 UNION ALL "
	"  SELECT n + 1 FROM p WHERE n < length(?1)) "
	"SELECT r.id, r.strip, r.prepend FROM p "
	"JOIN routes r ON r.prefix = substr(?1, 1, p.n) "
	"ORDER BY p.n DESC, r.priority, r.id LIMIT 1",

	[ST_ROUTE_TRUNKS] =
	"SELECT t.name FROM route_trunks r JOIN trunks t ON t.name = r.trunk "
	"WHERE r.route_id = ?1 AND t.enabled = 1 ORDER BY r.pos",

	[ST_BLOCK_NUMBER] =
	"SELECT reason FROM blocklist WHERE entry IN (?1, '+' || ?1) LIMIT 1",

	/* addresses have a '.' or a ':', numbers neither */
	[ST_BLOCK_NETS] =
	"SELECT entry, reason FROM blocklist WHERE entry GLOB '*[.:]*'",
};

static struct {
	sqlite3          *db;
	sqlite3_stmt     *st[ST_COUNT];
	struct log_limit  ll;        /* bad rows: a few lines a minute */
} rt;

int route_start(struct sqlite3 *db)
{
	unsigned i;
	int rc;

	if (!db)
		return EINVAL;

	route_stop();
	rt.db = db;
	log_limit_init(&rt.ll, 60000, 5);

	for (i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(db, stmt_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &rt.st[i],
					NULL);
		if (rc != SQLITE_OK) {
			log_err("route", "cannot prepare statement %u: %s", i,
				sqlite3_errmsg(db));
			route_stop();
			return EIO;
		}
	}
	return 0;
}

void route_stop(void)
{
	unsigned i;

	for (i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(rt.st[i]);
		rt.st[i] = NULL;
	}
	rt.db = NULL;
}

/* Statement <i>, reset and unbound, or NULL before route_start(). */
static sqlite3_stmt *stmt(enum route_stmt i)
{
	sqlite3_stmt *st = rt.st[i];

	if (!st)
		return NULL;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Step <st>: 1 for a row, 0 when done, -1 after logging an error. */
static int step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	log_limit(&rt.ll, LOG_LVL_ERROR, "route", "%s: %s",
		  sqlite3_sql(st), sqlite3_errmsg(rt.db));
	return -1;
}

/* Map a step() result to 0, ENOENT or EIO. */
static int found(int r)
{
	return r > 0 ? 0 : r == 0 ? ENOENT : EIO;
}

static int bind_pl(sqlite3_stmt *st, int i, const struct pl *pl)
{
	/* SQLITE_STATIC: every caller resets <st> before <pl> goes */
	return sqlite3_bind_text(st, i, pl->p, (int)pl->l, SQLITE_STATIC) ==
		SQLITE_OK ? 0 : EINVAL;
}

/*
 * Copy column <col> into <dst> of <sz> bytes. Returns true when it did
 * not fit: a cut host, target or password would do the wrong thing
 * quietly, so callers refuse such a row instead.
 */
static bool col_copy(char *dst, size_t sz, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);

	if (!t)
		len = 0;
	if (len >= sz) {
		dst[0] = '\0';
		return true;
	}
	if (len)
		memcpy(dst, t, len);
	dst[len] = '\0';
	return false;
}

/* A reason only informs: cut to fit. */
static void reason_copy(char *dst, size_t sz, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	if (dst && sz)
		str_ncpy(dst, t ? (const char *)t : "", sz);
}

static int too_long(const char *table, const char *key)
{
	log_limit(&rt.ll, LOG_LVL_WARN, "route", "%s '%s': a value is longer "
		  "than sbc supports; row ignored", table, key);
	return ENAMETOOLONG;
}

/* <src> without a leading '+' into <dst>: false when empty or too long. */
static bool number_copy(char *dst, size_t sz, const struct pl *src)
{
	struct pl n;

	if (!pl_isset(src))
		return false;
	n = *src;
	if (n.p[0] == '+') {
		++n.p;
		--n.l;
	}
	if (!n.l || n.l >= sz)
		return false;
	memcpy(dst, n.p, n.l);
	dst[n.l] = '\0';
	return true;
}

static bool dialable(const char *s)
{
	for (; *s; s++) {
		if ((*s < '0' || *s > '9') && *s != '*' && *s != '#')
			return false;
	}
	return true;
}

/* Is <domain> one of the space separated names in <list>? */
static bool in_list(const char *list, const struct pl *domain)
{
	struct pl tok;
	const char *p = list;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			++p;
		tok.p = p;
		while (*p && *p != ' ' && *p != '\t')
			++p;
		tok.l = (size_t)(p - tok.p);
		if (tok.l && !pl_casecmp(&tok, domain))
			return true;
	}
	return false;
}

bool route_domain_served(const struct pl *domain)
{
	const struct sbc_config *cfg = sbc_config();
	sqlite3_stmt *st;
	int r;

	if (!pl_isset(domain))
		return false;
	if (cfg && in_list(cfg->domains, domain))
		return true;

	st = stmt(ST_DOMAIN);
	if (!st || bind_pl(st, 1, domain))
		return false;
	r = step(st);
	sqlite3_reset(st);
	return r > 0;
}

int route_subscriber(struct route_subscriber *s, const struct pl *user,
		     const struct pl *domain)
{
	sqlite3_stmt *st;
	bool cut;
	int err;

	if (!s || !pl_isset(user) || !pl_isset(domain))
		return EINVAL;
	st = stmt(ST_SUBSCRIBER);
	if (!st)
		return ENOENT;
	if (bind_pl(st, 1, user) || bind_pl(st, 2, domain)) {
		err = EINVAL;
		goto out;
	}
	err = found(step(st));
	if (err)
		goto out;

	memset(s, 0, sizeof(*s));
	cut  = col_copy(s->ha1_md5, sizeof(s->ha1_md5), st, 0);
	cut |= col_copy(s->ha1_sha256, sizeof(s->ha1_sha256), st, 1);
	cut |= col_copy(s->display_name, sizeof(s->display_name), st, 2);
	cut |= col_copy(s->caller_id, sizeof(s->caller_id), st, 3);
	s->enabled = sqlite3_column_int(st, 4) != 0;
	if (cut) {
		char aor[128];

		re_snprintf(aor, sizeof(aor), "%r@%r", user, domain);
		err = too_long("subscriber", aor);
	}
 out:
	sqlite3_reset(st);
	return err;
}

static enum sip_transp transp_of(const char *s)
{
	if (!str_casecmp(s, "tcp"))
		return SIP_TRANSP_TCP;
	if (!str_casecmp(s, "tls"))
		return SIP_TRANSP_TLS;
	return SIP_TRANSP_UDP;
}

int route_trunk(struct route_trunk *t, const char *name)
{
	sqlite3_stmt *st;
	char tp[8], media[16];
	bool cut;
	int err;

	if (!t || !name || !*name)
		return EINVAL;
	st = stmt(ST_TRUNK);
	if (!st)
		return ENOENT;
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
		err = EINVAL;
		goto out;
	}
	err = found(step(st));
	if (err)
		goto out;

	memset(t, 0, sizeof(*t));
	cut  = col_copy(t->name, sizeof(t->name), st, 0);
	cut |= col_copy(t->host, sizeof(t->host), st, 1);
	t->port = (uint16_t)sqlite3_column_int(st, 2);
	(void)col_copy(tp, sizeof(tp), st, 3);
	t->tp = transp_of(tp);
	t->reg = sqlite3_column_int(st, 4) != 0;
	cut |= col_copy(t->username, sizeof(t->username), st, 5);
	cut |= col_copy(t->password, sizeof(t->password), st, 6);
	cut |= col_copy(t->realm, sizeof(t->realm), st, 7);
	t->max_calls = (uint32_t)sqlite3_column_int64(st, 8);
	t->max_cps = (uint32_t)sqlite3_column_int64(st, 9);
	(void)col_copy(media, sizeof(media), st, 10);
	t->srtp = !strcmp(media, "srtp-sdes");
	t->enabled = sqlite3_column_int(st, 11) != 0;
	if (cut)
		err = too_long("trunk", name);
 out:
	sqlite3_reset(st);
	return err;
}

int route_cidr_parse(struct route_cidr *c, const struct pl *s)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash, *d, *end;
	unsigned bits = 0, max, i;
	size_t alen;

	if (!c || !pl_isset(s))
		return EINVAL;

	slash = memchr(s->p, '/', s->l);
	alen = slash ? (size_t)(slash - s->p) : s->l;
	if (!alen || alen >= sizeof(buf))
		return EINVAL;
	memcpy(buf, s->p, alen);
	buf[alen] = '\0';

	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->af = AF_INET;
		max = 32;
	}
	else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->af = AF_INET6;
		max = 128;
	}
	else {
		return EINVAL;
	}

	if (slash) {
		d = slash + 1;
		end = s->p + s->l;
		if (d == end || end - d > 3)
			return EINVAL;
		for (; d < end; d++) {
			if (*d < '0' || *d > '9')
				return EINVAL;
			bits = bits * 10 + (unsigned)(*d - '0');
		}
		if (bits > max)
			return EINVAL;
	}
	else {
		bits = max;
	}
	c->bits = (uint8_t)bits;

	/* clear the host bits so matching is a plain compare */
	for (i = 0; i < 16; i++) {
		if (i * 8 >= bits)
			c->addr[i] = 0;
		else if (i * 8 + 8 > bits)
			c->addr[i] &= (uint8_t)(0xff << (8 - (bits - i * 8)));
	}
	return 0;
}

bool route_cidr_match(const struct route_cidr *c, const struct sa *sa)
{
	static const uint8_t v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	uint8_t a[16];
	unsigned full, rest;
	uint32_t v4;
	int af;

	if (!c || !sa)
		return false;

	af = sa_af(sa);
	if (af == AF_INET) {
		v4 = htonl(sa_in(sa));
		memcpy(a, &v4, 4);
	}
	else if (af == AF_INET6) {
		sa_in6(sa, a);
		if (!memcmp(a, v4mapped, sizeof(v4mapped))) {
			memmove(a, a + 12, 4);
			af = AF_INET;
		}
	}
	else {
		return false;
	}
	if (af != c->af)
		return false;

	full = c->bits / 8;
	rest = c->bits % 8;
	if (memcmp(a, c->addr, full))
		return false;
	if (!rest)
		return true;
	return (a[full] & (uint8_t)(0xff << (8 - rest))) == c->addr[full];
}

/* <host> as an address block when it is an IP literal ([v6] too). */
static bool host_literal(struct route_cidr *c, const char *host)
{
	struct pl h;

	pl_set_str(&h, host);
	if (h.l > 2 && h.p[0] == '[' && h.p[h.l - 1] == ']') {
		++h.p;
		h.l -= 2;
	}
	if (memchr(h.p, '/', h.l))
		return false;
	return route_cidr_parse(c, &h) == 0;
}

int route_trunk_by_source(struct route_trunk *t, const struct sa *src)
{
	char best[ROUTE_NAME_MAX] = "", prev[ROUTE_NAME_MAX] = "";
	struct route_cidr c;
	sqlite3_stmt *st;
	const char *name;
	int best_bits = -1, r, err;

	if (!t || !src)
		return EINVAL;
	st = stmt(ST_SOURCES);
	if (!st)
		return ENOENT;

	while ((r = step(st)) > 0) {
		const char *cname = (const char *)sqlite3_column_text(st, 0);
		const char *host = (const char *)sqlite3_column_text(st, 1);
		const char *val = (const char *)sqlite3_column_text(st, 2);
		const char *type = (const char *)sqlite3_column_text(st, 3);
		struct pl v;

		if (!cname || strlen(cname) >= sizeof(best))
			continue;

		/* the host once per trunk, on its first row */
		if (strcmp(cname, prev)) {
			str_ncpy(prev, cname, sizeof(prev));
			if (host && host_literal(&c, host) &&
			    route_cidr_match(&c, src) && c.bits > best_bits) {
				best_bits = c.bits;
				str_ncpy(best, cname, sizeof(best));
			}
		}

		if (!sqlite3_column_int(st, 4)) {
			log_limit(&rt.ll, LOG_LVL_WARN, "route", "trunk '%s': "
				  "inbound_cidrs is not a JSON array; "
				  "ignored", cname);
			continue;
		}
		if (!type)
			continue;          /* an empty list */
		if (strcmp(type, "text") || !val) {
			log_limit(&rt.ll, LOG_LVL_WARN, "route", "trunk '%s': "
				  "inbound_cidrs holds a %s, not an address "
				  "string; skipped", cname, type);
			continue;
		}
		pl_set_str(&v, val);
		if (route_cidr_parse(&c, &v)) {
			log_limit(&rt.ll, LOG_LVL_WARN, "route", "trunk '%s': "
				  "bad inbound_cidrs entry '%s' skipped",
				  cname, val);
			continue;
		}
		if (route_cidr_match(&c, src) && c.bits > best_bits) {
			best_bits = c.bits;
			str_ncpy(best, cname, sizeof(best));
		}
	}
	sqlite3_reset(st);
	if (r < 0)
		return EIO;

	if (best[0])
		return route_trunk(t, best);

	/* a trunk given by name: the address its probes were answered from */
	name = trunk_by_addr(src);
	if (!name)
		return ENOENT;
	err = route_trunk(t, name);
	if (!err && !t->enabled)
		err = ENOENT;
	return err;
}

int route_did(struct route_did *d, const struct pl *number)
{
	char num[ROUTE_NUMBER_MAX];
	sqlite3_stmt *st;
	bool cut;
	int err;

	if (!d || !number)
		return EINVAL;
	if (!number_copy(num, sizeof(num), number))
		return ENOENT;
	st = stmt(ST_DID);
	if (!st)
		return ENOENT;
	if (sqlite3_bind_text(st, 1, num, -1, SQLITE_STATIC) != SQLITE_OK) {
		err = EINVAL;
		goto out;
	}
	err = found(step(st));
	if (err)
		goto out;

	memset(d, 0, sizeof(*d));
	cut  = col_copy(d->number, sizeof(d->number), st, 0);
	cut |= col_copy(d->target, sizeof(d->target), st, 1);
	cut |= col_copy(d->trunk, sizeof(d->trunk), st, 2);
	if (cut)
		err = too_long("did", num);
 out:
	sqlite3_reset(st);
	return err;
}

/* The enabled trunks of route <id> into <r>, in failover order. */
static int route_trunks(struct route_out *r)
{
	sqlite3_stmt *st = stmt(ST_ROUTE_TRUNKS);
	int n, err = 0;

	if (!st)
		return ENOENT;
	sqlite3_bind_int64(st, 1, r->id);
	while ((n = step(st)) > 0) {
		if (r->ntrunks == ROUTE_TRUNKS_MAX) {
			log_limit(&rt.ll, LOG_LVL_WARN, "route", "route %lld: "
				  "more than %u trunks; the rest are not "
				  "tried", (long long)r->id, ROUTE_TRUNKS_MAX);
			break;
		}
		if (col_copy(r->trunks[r->ntrunks], ROUTE_NAME_MAX, st, 0))
			continue;   /* a name the table cannot hold */
		++r->ntrunks;
	}
	if (n < 0)
		err = EIO;
	sqlite3_reset(st);
	return err;
}

int route_outbound(struct route_out *r, const struct pl *number)
{
	char num[ROUTE_NUMBER_MAX], prepend[ROUTE_NUMBER_MAX];
	sqlite3_stmt *st;
	const char *rest;
	int64_t strip;
	size_t len;
	int err;

	if (!r || !number)
		return EINVAL;
	if (!number_copy(num, sizeof(num), number) || !dialable(num))
		return ENOENT;
	st = stmt(ST_ROUTE);
	if (!st)
		return ENOENT;
	if (sqlite3_bind_text(st, 1, num, -1, SQLITE_STATIC) != SQLITE_OK) {
		err = EINVAL;
		goto out;
	}
	err = found(step(st));
	if (err)
		goto out;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	strip = sqlite3_column_int64(st, 1);
	if (col_copy(prepend, sizeof(prepend), st, 2)) {
		err = too_long("route prepend of", num);
		goto out;
	}

	len = strlen(num);
	rest = num + (strip < 0 ? 0 : (uint64_t)strip > len ? len :
		      (size_t)strip);
	if (strlen(prepend) + strlen(rest) >= sizeof(r->number)) {
		err = too_long("route result for", num);
		goto out;
	}
	re_snprintf(r->number, sizeof(r->number), "%s%s", prepend, rest);
	sqlite3_reset(st);

	err = route_trunks(r);
 out:
	sqlite3_reset(st);
	return err;
}

bool route_blocked(const struct pl *number, const struct sa *src,
		   char *reason, size_t sz)
{
	char num[ROUTE_NUMBER_MAX];
	struct route_cidr c;
	sqlite3_stmt *st;
	bool hit = false;
	int r;

	if (reason && sz)
		reason[0] = '\0';

	if (number && number_copy(num, sizeof(num), number)) {
		st = stmt(ST_BLOCK_NUMBER);
		if (st && sqlite3_bind_text(st, 1, num, -1, SQLITE_STATIC) ==
		    SQLITE_OK && step(st) > 0) {
			hit = true;
			reason_copy(reason, sz, st, 0);
		}
		if (st)
			sqlite3_reset(st);
		if (hit)
			return true;
	}

	if (!src || !sa_isset(src, SA_ADDR))
		return false;
	st = stmt(ST_BLOCK_NETS);
	if (!st)
		return false;
	while ((r = step(st)) > 0) {
		const char *e = (const char *)sqlite3_column_text(st, 0);
		struct pl v;

		if (!e)
			continue;
		pl_set_str(&v, e);
		if (route_cidr_parse(&c, &v)) {
			log_limit(&rt.ll, LOG_LVL_WARN, "route", "blocklist "
				  "entry '%s' is neither a number nor an "
				  "IP/CIDR; skipped", e);
			continue;
		}
		if (!route_cidr_match(&c, src))
			continue;
		hit = true;
		reason_copy(reason, sz, st, 1);
		break;
	}
	sqlite3_reset(st);
	return hit;
}
