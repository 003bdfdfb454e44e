/* tests/unit/sbc/route/test_route.c  Routing lookups on a real SQLite file */
#include <arpa/inet.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <re.h>

#include "config.h"
#include "db.h"
#include "harness.h"
#include "log.h"
#include "route.h"
#include "sbc.h"
#include "trunk.h"

static char dir[64];
static struct db *db;
static struct sbc_config cfg;

/* route.c reads the running config's domains through this */
const struct sbc_config *sbc_config(void)
{
	return &cfg;
}

/*
 * trunk.c's answer for trunks given by hostname. Defined here, so this
 * program links no SIP stack, and so the fallback can be driven: the
 * trunk named <by_addr_name> answered from <by_addr_ip>.
 */
static const char *by_addr_name;
static struct sa by_addr_ip;

const char *trunk_by_addr(const struct sa *src)
{
	if (by_addr_name && sa_cmp(&by_addr_ip, src, SA_ADDR))
		return by_addr_name;
	return NULL;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int exec(const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db_handle(db), sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	fprintf(stderr, "  sql: %s: %s\n", sql, msg);
	sqlite3_free(msg);
	return EIO;
}

/* A fresh database with <sql> in it, and route_start() on it. */
static int setup(const char *sql)
{
	char path[128];
	int err;

	memset(&cfg, 0, sizeof(cfg));
	strcpy(dir, "/tmp/sbc-test-routeXXXXXX");
	if (!mkdtemp(dir))
		return errno;
	snprintf(path, sizeof(path), "%s/sbc.db", dir);
	err = db_open(&db, path);
	if (!err && sql)
		err = exec(sql);
	if (!err)
		err = route_start(db_handle(db));
	return err;
}

static void teardown(void)
{
	route_stop();
	db = mem_deref(db);
	if (dir[0])
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

static struct sa *addr(const char *ip, uint16_t port)
{
	static struct sa sa;

	if (sa_set_str(&sa, ip, port))
		memset(&sa, 0, sizeof(sa));
	return &sa;
}

static struct pl *pl(const char *s)
{
	static struct pl p[4];
	static unsigned i;

	pl_set_str(&p[i % 4], s);
	return &p[i++ % 4];
}

static bool cidr_has(const char *cidr, const char *ip)
{
	struct route_cidr c;

	if (route_cidr_parse(&c, pl(cidr)))
		return false;
	return route_cidr_match(&c, addr(ip, 5060));
}

static int test_cidr_parse(void)
{
	static const char *const bad[] = {
		"", "/24", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
		"10.0.0.0/+8", "10.0.0.0/8 ", " 10.0.0.0/8", "10.0.0/8",
		"10.0.0.0.0", "256.0.0.1", "10.0.0.0/1000", "2001:db8::/129",
		"2001:db8:::1", "[2001:db8::1]", "example.com", "10.0.0.0/8/8",
		"10.0.0.0/a",
	};
	struct route_cidr c;
	unsigned i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (route_cidr_parse(&c, pl(bad[i])) != EINVAL) {
			TEST_FAIL_AT("accepted \"%s\"", bad[i]);
			err = EINVAL;
			goto out;
		}
	}
	TEST_EQ(EINVAL, route_cidr_parse(&c, NULL));

	TEST_ERR(route_cidr_parse(&c, pl("10.1.2.3")));
	TEST_EQ(AF_INET, c.af);
	TEST_EQ(32, c.bits);
	TEST_ERR(route_cidr_parse(&c, pl("2001:db8::/32")));
	TEST_EQ(AF_INET6, c.af);
	TEST_EQ(32, c.bits);
	TEST_ERR(route_cidr_parse(&c, pl("::1")));
	TEST_EQ(128, c.bits);
	TEST_ERR(route_cidr_parse(&c, pl("0.0.0.0/0")));
	TEST_EQ(0, c.bits);
	/* host bits past the prefix are cleared */
	TEST_ERR(route_cidr_parse(&c, pl("10.1.2.3/12")));
	TEST_EQ(10, c.addr[0]);
	TEST_EQ(0, c.addr[1]);
	TEST_EQ(0, c.addr[3]);
 out:
	return err;
}

static int test_cidr_match(void)
{
	int err = 0;

	TEST_TRUE(cidr_has("10.0.0.0/8", "10.255.1.2"));
	TEST_TRUE(!cidr_has("10.0.0.0/8", "11.0.0.1"));
	TEST_TRUE(cidr_has("192.0.2.128/25", "192.0.2.200"));
	TEST_TRUE(!cidr_has("192.0.2.128/25", "192.0.2.127"));
	TEST_TRUE(cidr_has("192.0.2.7", "192.0.2.7"));
	TEST_TRUE(!cidr_has("192.0.2.7", "192.0.2.6"));
	TEST_TRUE(cidr_has("0.0.0.0/0", "203.0.113.9"));
	TEST_TRUE(!cidr_has("0.0.0.0/0", "2001:db8::1"));
	TEST_TRUE(cidr_has("10.1.2.3/12", "10.15.0.1"));
	TEST_TRUE(!cidr_has("10.1.2.3/12", "10.16.0.1"));

	TEST_TRUE(cidr_has("2001:db8::/32", "2001:db8:ffff::1"));
	TEST_TRUE(!cidr_has("2001:db8::/32", "2001:db9::1"));
	TEST_TRUE(cidr_has("2001:db8:0:8000::/49", "2001:db8:0:8001::1"));
	TEST_TRUE(!cidr_has("2001:db8:0:8000::/49", "2001:db8:0:7fff::1"));
	TEST_TRUE(cidr_has("::/0", "::1"));
	TEST_TRUE(!cidr_has("2001:db8::/32", "10.0.0.1"));

	/* a v4-mapped source is its IPv4 address */
	TEST_TRUE(cidr_has("10.0.0.0/8", "::ffff:10.9.8.7"));
	TEST_TRUE(!cidr_has("10.0.0.0/8", "::ffff:11.9.8.7"));
 out:
	return err;
}

static int test_domain(void)
{
	int err = 0;

	TEST_ERR(setup("INSERT INTO domains VALUES ('db.example');"));
	strcpy(cfg.domains, "example.com  Other.ORG");

	TEST_TRUE(route_domain_served(pl("example.com")));
	TEST_TRUE(route_domain_served(pl("EXAMPLE.COM")));
	TEST_TRUE(route_domain_served(pl("other.org")));
	TEST_TRUE(route_domain_served(pl("DB.Example")));
	TEST_TRUE(!route_domain_served(pl("example")));
	TEST_TRUE(!route_domain_served(pl("example.co")));
	TEST_TRUE(!route_domain_served(pl("evil.example.com")));
	TEST_TRUE(!route_domain_served(pl("")));
	TEST_TRUE(!route_domain_served(NULL));

	/* the table is read at call time */
	TEST_ERR(exec("INSERT INTO domains VALUES ('new.example')"));
	TEST_TRUE(route_domain_served(pl("new.example")));
	TEST_ERR(exec("DELETE FROM domains WHERE name = 'db.example'"));
	TEST_TRUE(!route_domain_served(pl("db.example")));
 out:
	teardown();
	return err;
}

static int test_subscriber(void)
{
	struct route_subscriber s;
	int err = 0;

	TEST_ERR(setup("INSERT INTO subscribers (username, domain, ha1_md5, "
		       "ha1_sha256, display_name, caller_id, enabled) VALUES "
		       "('alice', 'example.com', "
		       "'0123456789abcdef0123456789abcdef', "
		       "'0123456789abcdef0123456789abcdef"
		       "0123456789abcdef0123456789abcdef', 'Alice A', "
		       "'4930111', 1),"
		       "('bob', 'example.com', 'x', 'y', '', '', 0);"));

	TEST_ERR(route_subscriber(&s, pl("alice"), pl("Example.COM")));
	TEST_STREQ("0123456789abcdef0123456789abcdef", s.ha1_md5);
	TEST_EQ(64, strlen(s.ha1_sha256));
	TEST_STREQ("Alice A", s.display_name);
	TEST_STREQ("4930111", s.caller_id);
	TEST_TRUE(s.enabled);

	TEST_ERR(route_subscriber(&s, pl("bob"), pl("example.com")));
	TEST_TRUE(!s.enabled);

	/* the user part is case-sensitive */
	TEST_EQ(ENOENT, route_subscriber(&s, pl("Alice"), pl("example.com")));
	TEST_EQ(ENOENT, route_subscriber(&s, pl("alice"), pl("example.org")));
	TEST_EQ(EINVAL, route_subscriber(&s, pl(""), pl("example.org")));
 out:
	teardown();
	return err;
}

static int test_trunk(void)
{
	struct route_trunk t;
	int err = 0;

	TEST_ERR(setup("INSERT INTO trunks (name, host, port, transport, "
		       "register, username, password, realm, max_calls, "
		       "max_cps, media, enabled) VALUES "
		       "('carrier', 'sip.example.net', 5080, 'tcp', 1, 'u1', "
		       "'p1', 'r1', 30, 5, 'srtp-sdes', 1),"
		       "('plain', '192.0.2.1', 5060, 'udp', 0, '', '', '', 0, "
		       "0, 'rtp', 0);"));

	TEST_ERR(route_trunk(&t, "carrier"));
	TEST_STREQ("carrier", t.name);
	TEST_STREQ("sip.example.net", t.host);
	TEST_EQ(5080, t.port);
	TEST_EQ(SIP_TRANSP_TCP, t.tp);
	TEST_TRUE(t.reg);
	TEST_STREQ("u1", t.username);
	TEST_STREQ("p1", t.password);
	TEST_STREQ("r1", t.realm);
	TEST_EQ(30, t.max_calls);
	TEST_EQ(5, t.max_cps);
	TEST_TRUE(t.srtp);
	TEST_TRUE(t.enabled);

	TEST_ERR(route_trunk(&t, "plain"));
	TEST_EQ(SIP_TRANSP_UDP, t.tp);
	TEST_TRUE(!t.reg && !t.srtp && !t.enabled);
	TEST_EQ(ENOENT, route_trunk(&t, "Carrier"));
	TEST_EQ(EINVAL, route_trunk(&t, ""));
 out:
	teardown();
	return err;
}

static int by_source(char *name, size_t sz, const char *ip)
{
	struct route_trunk t;
	int err;

	name[0] = '\0';
	err = route_trunk_by_source(&t, addr(ip, 5062));
	if (!err)
		str_ncpy(name, t.name, sz);
	return err;
}

static int test_trunk_by_source(void)
{
	char n[ROUTE_NAME_MAX];
	int err = 0;

	TEST_ERR(setup(
		"INSERT INTO trunks (name, host, inbound_cidrs, priority, "
		"enabled) VALUES "
		"('a', '192.0.2.10', '[\"10.0.0.0/8\"]', 0, 1),"
		"('b', 'sip.example.net', '[\"bad/99\", 5, \"10.1.0.0/16\", "
		"\"2001:db8::/32\"]', 0, 1),"
		"('c', '198.51.100.1', '[\"192.0.2.0/24\"]', 0, 0),"
		"('d', '[2001:db8::5]', '[]', 0, 1),"
		"('e', 'e.example', '[\"172.16.0.0/12\"]', 5, 1),"
		"('f', 'f.example', '[\"172.16.0.0/12\"]', 1, 1),"
		"('g', 'g.example', '{\"x\": \"203.0.113.0/24\"}', 0, 1);"));

	TEST_ERR(by_source(n, sizeof(n), "192.0.2.10"));
	TEST_STREQ("a", n);
	TEST_ERR(by_source(n, sizeof(n), "10.2.3.4"));
	TEST_STREQ("a", n);
	/* the more specific block wins, and a bad entry is only skipped */
	TEST_ERR(by_source(n, sizeof(n), "10.1.2.3"));
	TEST_STREQ("b", n);
	TEST_ERR(by_source(n, sizeof(n), "::ffff:10.1.0.1"));
	TEST_STREQ("b", n);
	TEST_ERR(by_source(n, sizeof(n), "2001:db8::1"));
	TEST_STREQ("b", n);
	TEST_ERR(by_source(n, sizeof(n), "2001:db8::5"));
	TEST_STREQ("d", n);
	/* equal blocks: the lower priority value */
	TEST_ERR(by_source(n, sizeof(n), "172.20.0.1"));
	TEST_STREQ("f", n);
	/* disabled: its host and blocks do not count */
	TEST_EQ(ENOENT, by_source(n, sizeof(n), "192.0.2.11"));
	TEST_EQ(ENOENT, by_source(n, sizeof(n), "198.51.100.1"));
	/* g's inbound_cidrs is an object, not a list: ignored */
	TEST_EQ(ENOENT, by_source(n, sizeof(n), "203.0.113.1"));
	TEST_EQ(ENOENT, by_source(n, sizeof(n), "8.8.8.8"));
 out:
	teardown();
	return err;
}

static int test_trunk_by_source_live(void)
{
	char n[ROUTE_NAME_MAX];
	int err = 0;

	TEST_ERR(setup("INSERT INTO trunks (name, host) VALUES "
		       "('a', '192.0.2.10');"));
	TEST_EQ(ENOENT, by_source(n, sizeof(n), "198.51.100.7"));
	TEST_ERR(exec("UPDATE trunks SET inbound_cidrs = "
		      "'[\"198.51.100.0/24\"]' WHERE name = 'a'"));
	TEST_ERR(by_source(n, sizeof(n), "198.51.100.7"));
	TEST_STREQ("a", n);
	TEST_ERR(exec("UPDATE trunks SET enabled = 0"));
	TEST_EQ(ENOENT, by_source(n, sizeof(n), "198.51.100.7"));
	TEST_EQ(ENOENT, by_source(n, sizeof(n), "192.0.2.10"));
 out:
	teardown();
	return err;
}

/* A trunk given by hostname: matched by the address its probes were
 * answered from, while it is enabled. */
static int test_trunk_by_source_hostname(void)
{
	char n[ROUTE_NAME_MAX];
	int err = 0;

	TEST_ERR(setup("INSERT INTO trunks (name, host) VALUES "
		       "('named', 'sip.example.net'), "
		       "('lit', '192.0.2.10');"));
	TEST_EQ(ENOENT, by_source(n, sizeof(n), "198.51.100.7"));

	by_addr_name = "named";
	TEST_ERR(sa_set_str(&by_addr_ip, "198.51.100.7", 5060));
	TEST_ERR(by_source(n, sizeof(n), "198.51.100.7"));
	TEST_STREQ("named", n);
	/* a literal or a CIDR match comes first */
	TEST_ERR(sa_set_str(&by_addr_ip, "192.0.2.10", 5060));
	TEST_ERR(by_source(n, sizeof(n), "192.0.2.10"));
	TEST_STREQ("lit", n);

	TEST_ERR(sa_set_str(&by_addr_ip, "198.51.100.7", 5060));
	TEST_ERR(exec("UPDATE trunks SET enabled = 0 WHERE name = 'named'"));
	TEST_EQ(ENOENT, by_source(n, sizeof(n), "198.51.100.7"));
 out:
	by_addr_name = NULL;
	teardown();
	return err;
}

static int test_did(void)
{
	struct route_did d;
	int err = 0;

	TEST_ERR(setup("INSERT INTO trunks (name, host) VALUES "
		       "('carrier', '192.0.2.1');"
		       "INSERT INTO dids (number, target, trunk) VALUES "
		       "('4930123', 'alice@example.com', NULL),"
		       "('4930124', 'sip:bob@10.0.0.5:5060', 'carrier');"));

	TEST_ERR(route_did(&d, pl("+4930123")));
	TEST_STREQ("4930123", d.number);
	TEST_STREQ("alice@example.com", d.target);
	TEST_STREQ("", d.trunk);
	TEST_ERR(route_did(&d, pl("4930124")));
	TEST_STREQ("sip:bob@10.0.0.5:5060", d.target);
	TEST_STREQ("carrier", d.trunk);

	TEST_EQ(ENOENT, route_did(&d, pl("493012")));
	TEST_EQ(ENOENT, route_did(&d, pl("+")));
	TEST_EQ(ENOENT, route_did(&d, pl("")));
	TEST_EQ(ENOENT, route_did(&d, pl("++4930123")));
 out:
	teardown();
	return err;
}

static int test_too_long(void)
{
	char sql[1024], target[400];
	struct route_did d;
	int err = 0;

	memset(target, 'a', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	snprintf(sql, sizeof(sql), "INSERT INTO dids (number, target) VALUES "
		 "('1', '%s'), ('2', '%.*s');", target, ROUTE_TARGET_MAX - 1,
		 target);
	TEST_ERR(setup(sql));
	/* a cut target would route somewhere else: refused */
	TEST_EQ(ENAMETOOLONG, route_did(&d, pl("1")));
	TEST_ERR(route_did(&d, pl("2")));
	TEST_EQ(ROUTE_TARGET_MAX - 1, strlen(d.target));
 out:
	teardown();
	return err;
}

static const char routes_sql[] =
	"INSERT INTO trunks (name, host, enabled) VALUES "
	"('t1', '192.0.2.1', 1), ('t2', '192.0.2.2', 0), "
	"('t3', '192.0.2.3', 1), ('t4', '192.0.2.4', 1);"
	"INSERT INTO routes (id, prefix, strip, prepend, priority) VALUES "
	"(1, '', 0, '', 0),"
	"(2, '49', 0, '00', 0),"
	"(3, '4930', 0, '', 5),"
	"(4, '4930', 2, '0', 1),"
	"(5, '44', 0, '', 0),"
	"(6, '44', 0, '', 0),"
	"(7, '1', 10, '', 0),"
	"(8, '33', 0, '', 0);"
	"INSERT INTO route_trunks (route_id, pos, trunk) VALUES "
	"(1, 0, 't4'),"
	"(2, 0, 't1'), (2, 1, 't2'),"
	"(3, 0, 't3'),"
	"(4, 2, 't1'), (4, 0, 't3'), (4, 1, 't2'),"
	"(5, 0, 't1'), (6, 0, 't3'),"
	"(7, 0, 't1'),"
	"(8, 0, 't2');";

static int test_outbound(void)
{
	struct route_out r;
	int err = 0;

	TEST_ERR(setup(routes_sql));

	/* longest prefix, then lower priority; strip 2, prepend "0";
	 * trunks by pos with the disabled t2 left out */
	TEST_ERR(route_outbound(&r, pl("+493012345")));
	TEST_EQ(4, r.id);
	TEST_STREQ("03012345", r.number);
	TEST_EQ(2, r.ntrunks);
	TEST_STREQ("t3", r.trunks[0]);
	TEST_STREQ("t1", r.trunks[1]);

	TEST_ERR(route_outbound(&r, pl("4940111")));
	TEST_EQ(2, r.id);
	TEST_STREQ("004940111", r.number);
	TEST_EQ(1, r.ntrunks);
	TEST_STREQ("t1", r.trunks[0]);

	/* the prefix is the whole number */
	TEST_ERR(route_outbound(&r, pl("4930")));
	TEST_EQ(4, r.id);
	TEST_STREQ("030", r.number);

	/* same prefix, same priority: lower id */
	TEST_ERR(route_outbound(&r, pl("4420")));
	TEST_EQ(5, r.id);
	TEST_STREQ("t1", r.trunks[0]);

	/* strip beyond the end leaves nothing */
	TEST_ERR(route_outbound(&r, pl("12345")));
	TEST_EQ(7, r.id);
	TEST_STREQ("", r.number);

	/* the empty prefix is the default route */
	TEST_ERR(route_outbound(&r, pl("9999")));
	TEST_EQ(1, r.id);
	TEST_STREQ("9999", r.number);
	TEST_STREQ("t4", r.trunks[0]);
	TEST_ERR(route_outbound(&r, pl("*99#")));
	TEST_EQ(1, r.id);

	/* every trunk disabled: the route, with none to try */
	TEST_ERR(route_outbound(&r, pl("3312")));
	TEST_EQ(8, r.id);
	TEST_EQ(0, r.ntrunks);

	TEST_EQ(ENOENT, route_outbound(&r, pl("alice")));
	TEST_EQ(ENOENT, route_outbound(&r, pl("49 30")));
	TEST_EQ(ENOENT, route_outbound(&r, pl("")));

	/* no default route: no match */
	TEST_ERR(exec("DELETE FROM routes WHERE id = 1"));
	TEST_EQ(ENOENT, route_outbound(&r, pl("9999")));

	/* a change applies on the next call */
	TEST_ERR(exec("UPDATE trunks SET enabled = 1 WHERE name = 't2'"));
	TEST_ERR(route_outbound(&r, pl("4940111")));
	TEST_EQ(2, r.ntrunks);
	TEST_STREQ("t2", r.trunks[1]);
	TEST_ERR(exec("UPDATE routes SET priority = 9 WHERE id = 4"));
	TEST_ERR(route_outbound(&r, pl("493012345")));
	TEST_EQ(3, r.id);
	TEST_STREQ("493012345", r.number);
 out:
	teardown();
	return err;
}

static int test_outbound_many_trunks(void)
{
	char sql[256];
	struct route_out r;
	unsigned i;
	int err = 0;

	TEST_ERR(setup("INSERT INTO routes (id, prefix) VALUES (1, '7');"));
	for (i = 0; i < ROUTE_TRUNKS_MAX + 2; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO trunks (name, host) "
			 "VALUES ('t%u', '192.0.2.%u'); INSERT INTO "
			 "route_trunks VALUES (1, %u, 't%u');", i, i + 1,
			 20 - i, i);
		TEST_ERR(exec(sql));
	}
	TEST_ERR(route_outbound(&r, pl("71")));
	TEST_EQ(ROUTE_TRUNKS_MAX, r.ntrunks);
	/* highest i has the lowest pos */
	snprintf(sql, sizeof(sql), "t%u", ROUTE_TRUNKS_MAX + 1);
	TEST_STREQ(sql, r.trunks[0]);
 out:
	teardown();
	return err;
}

static int test_blocked(void)
{
	char reason[64];
	int err = 0;

	TEST_ERR(setup("INSERT INTO blocklist (entry, reason) VALUES "
		       "('4915555', 'spam'),"
		       "('+4916666', 'plus'),"
		       "('198.51.100.0/24', 'scanner'),"
		       "('203.0.113.9', 'one host'),"
		       "('2001:db8:bad::/48', 'v6 net'),"
		       "('999.1.1.1/8', 'bad entry');"));

	TEST_TRUE(route_blocked(pl("+4915555"), NULL, reason,
				sizeof(reason)));
	TEST_STREQ("spam", reason);
	TEST_TRUE(route_blocked(pl("4915555"), addr("192.0.2.1", 5060),
				reason, sizeof(reason)));
	TEST_TRUE(route_blocked(pl("4916666"), NULL, reason, sizeof(reason)));
	TEST_STREQ("plus", reason);
	/* equal, not a prefix */
	TEST_TRUE(!route_blocked(pl("49155551"), NULL, reason,
				 sizeof(reason)));
	TEST_STREQ("", reason);
	TEST_TRUE(!route_blocked(pl("491555"), NULL, NULL, 0));

	TEST_TRUE(route_blocked(pl("4930"), addr("198.51.100.77", 5060),
				reason, sizeof(reason)));
	TEST_STREQ("scanner", reason);
	TEST_TRUE(route_blocked(NULL, addr("203.0.113.9", 1), reason,
				sizeof(reason)));
	TEST_STREQ("one host", reason);
	TEST_TRUE(!route_blocked(NULL, addr("203.0.113.10", 1), NULL, 0));
	TEST_TRUE(route_blocked(NULL, addr("2001:db8:bad:1::1", 1), reason,
				sizeof(reason)));
	TEST_STREQ("v6 net", reason);
	TEST_TRUE(!route_blocked(NULL, addr("2001:db8:bae::1", 1), NULL, 0));
	/* the bad entry is skipped, not a match for everything */
	TEST_TRUE(!route_blocked(pl("4930"), addr("10.1.1.1", 1), NULL, 0));
	TEST_TRUE(!route_blocked(NULL, NULL, NULL, 0));

	/* a short buffer gets a cut reason, never an overflow */
	TEST_TRUE(route_blocked(pl("4915555"), NULL, reason, 3));
	TEST_STREQ("sp", reason);
 out:
	teardown();
	return err;
}

static int test_not_started(void)
{
	struct route_trunk t;
	struct route_out r;
	int err = 0;

	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.domains, "example.com");
	TEST_TRUE(route_domain_served(pl("example.com")));
	TEST_TRUE(!route_domain_served(pl("example.org")));
	TEST_EQ(ENOENT, route_trunk(&t, "x"));
	TEST_EQ(ENOENT, route_outbound(&r, pl("49")));
	TEST_TRUE(!route_blocked(pl("49"), addr("10.0.0.1", 1), NULL, 0));
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_cidr_parse),
	HARNESS_TEST(test_cidr_match),
	HARNESS_TEST(test_domain),
	HARNESS_TEST(test_subscriber),
	HARNESS_TEST(test_trunk),
	HARNESS_TEST(test_trunk_by_source),
	HARNESS_TEST(test_trunk_by_source_live),
	HARNESS_TEST(test_trunk_by_source_hostname),
	HARNESS_TEST(test_did),
	HARNESS_TEST(test_too_long),
	HARNESS_TEST(test_outbound),
	HARNESS_TEST(test_outbound_many_trunks),
	HARNESS_TEST(test_blocked),
	HARNESS_TEST(test_not_started),
};

int main(void)
{
	int ret;

	log_init("test_route", LOG_LVL_ERROR);
	if (libre_init())
		return 1;
	ret = harness_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]));
	libre_close();
	return ret;
}
