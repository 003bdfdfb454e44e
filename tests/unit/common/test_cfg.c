/* tests/unit/common/test_cfg.c  grammar, every type, exact error lines */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <unistd.h>

#include "cfg.h"
#include "harness.h"
#include "log.h"

struct tconf {
	char     name[16];
	char     opt[8];
	uint32_t workers;
	uint32_t port_min;
	uint32_t opt_num;
	bool     debug;
	bool     opt_bool;
	enum log_level level;
	struct cfg_addr sip_udp;
	struct cfg_addr ng;
	struct cfg_addr public_ip;
	struct cfg_addrlist peers;
};

#define OFF(f) offsetof(struct tconf, f)
#define SZ(f)  sizeof(((struct tconf *)0)->f)

static const struct cfg_key keys[] = {
	{ "name", CFG_STRING, "sbc1", OFF(name), SZ(name), 0, 0, 0,
	  "node name" },
	{ "opt", CFG_STRING, "", OFF(opt), SZ(opt), 0, 0, CFG_EMPTY_OK,
	  "optional string" },
	{ "workers", CFG_UINT, "4", OFF(workers), 0, 1, 64, 0,
	  "media worker threads" },
	{ "port_min", CFG_UINT, "30000", OFF(port_min), 0, 1, 65535, 0,
	  "lowest RTP port" },
	{ "opt_num", CFG_UINT, "", OFF(opt_num), 0, 5, 10, CFG_EMPTY_OK,
	  "optional number" },
	{ "debug", CFG_BOOL, "no", OFF(debug), 0, 0, 0, 0, "debug mode" },
	{ "opt_bool", CFG_BOOL, "", OFF(opt_bool), 0, 0, 0, CFG_EMPTY_OK,
	  NULL },
	{ "log_level", CFG_LOGLEVEL, "info", OFF(level), 0, 0, 0, 0,
	  "error, warn, info or debug" },
	{ "sip_udp", CFG_ADDR, "0.0.0.0:5060", OFF(sip_udp), 0, 0, 0, 0,
	  "SIP over UDP" },
	{ "ng", CFG_ADDR, "", OFF(ng), 0, 0, 0, CFG_EMPTY_OK,
	  "NG listener, empty: off" },
	{ "public_ip", CFG_IP, "", OFF(public_ip), 0, 0, 0, CFG_EMPTY_OK,
	  "address announced in SDP" },
	{ "peers", CFG_ADDR_LIST, "", OFF(peers), 0, 0, 0, CFG_EMPTY_OK,
	  "trusted peers" },
	CFG_END
};

static struct tconf c;
static char err_buf[256];

static int parse(const char *name, const char *text)
{
	memset(&c, 0x5a, sizeof(c));
	return cfg_parse(name, text, strlen(text), keys, &c, err_buf,
			 sizeof(err_buf));
}

/* Expect <text> to fail with exactly <msg>. */
#define BAD(name, text, msg) do { \
		TEST_EQ(EINVAL, parse((name), (text))); \
		TEST_STREQ((msg), err_buf); \
	} while (0)

static int test_defaults(void)
{
	int err = 0;

	memset(&c, 0x5a, sizeof(c));
	TEST_ERR(cfg_defaults(keys, &c, err_buf, sizeof(err_buf)));
	TEST_STREQ("sbc1", c.name);
	TEST_STREQ("", c.opt);
	TEST_EQ(4, c.workers);
	TEST_EQ(30000, c.port_min);
	TEST_EQ(0, c.opt_num);
	TEST_EQ(false, c.debug);
	TEST_EQ(false, c.opt_bool);
	TEST_EQ(LOG_LVL_INFO, c.level);
	TEST_STREQ("0.0.0.0:5060", c.sip_udp.text);
	TEST_EQ(sizeof(struct sockaddr_in), c.sip_udp.len);
	TEST_EQ(0, c.ng.len);
	TEST_STREQ("", c.ng.text);
	TEST_EQ(0, c.public_ip.len);
	TEST_EQ(0, c.peers.n);

	/* an empty file is the defaults */
	TEST_ERR(parse("x.conf", ""));
	TEST_EQ(4, c.workers);
	TEST_STREQ("sbc1", c.name);
 out:
	return err;
}

static int test_bad_defaults(void)
{
	static const struct cfg_key bad_uint[] = {
		{ "port_min", CFG_UINT, "70000", 0, 0, 1, 65535, 0, NULL },
		CFG_END
	};
	static const struct cfg_key bad_addr[] = {
		{ "listen", CFG_ADDR, "localhost:5060", 0, 0, 0, 0, 0, NULL },
		CFG_END
	};
	static const struct cfg_key bad_empty[] = {
		{ "listen", CFG_ADDR, "", 0, 0, 0, 0, 0, NULL },
		CFG_END
	};
	static const struct cfg_key bad_size[] = {
		{ "s", CFG_STRING, "x", 0, 0, 0, 0, 0, NULL },
		CFG_END
	};
	static const struct cfg_key bad_range[] = {
		{ "n", CFG_UINT, "3", 0, 0, 9, 2, 0, NULL },
		CFG_END
	};
	static const struct cfg_key bad_type[] = {
		{ "t", (enum cfg_type)99, "3", 0, 0, 0, 0, 0, NULL },
		CFG_END
	};
	struct tconf t;
	int err = 0;

	TEST_EQ(EINVAL, cfg_defaults(bad_uint, &t, err_buf, sizeof(err_buf)));
	TEST_STREQ("defaults: port_min: '70000' is not a number in 1..65535",
		   err_buf);
	TEST_EQ(EINVAL, cfg_defaults(bad_addr, &t, err_buf, sizeof(err_buf)));
	TEST_STREQ("defaults: listen: 'localhost:5060': expected ip:port",
		   err_buf);
	TEST_EQ(EINVAL, cfg_defaults(bad_empty, &t, err_buf,
				     sizeof(err_buf)));
	TEST_STREQ("defaults: listen: empty value", err_buf);
	TEST_EQ(EINVAL, cfg_defaults(bad_size, &t, err_buf, sizeof(err_buf)));
	TEST_STREQ("defaults: s: string key without size", err_buf);
	TEST_EQ(EINVAL, cfg_defaults(bad_range, &t, err_buf,
				     sizeof(err_buf)));
	TEST_STREQ("defaults: n: min 9 > max 2", err_buf);
	TEST_EQ(EINVAL, cfg_defaults(bad_type, &t, err_buf, sizeof(err_buf)));
	TEST_STREQ("defaults: t: bad key type 99", err_buf);

	/* cfg_parse() applies the same defaults and fails the same way */
	TEST_EQ(EINVAL, cfg_parse("a.conf", "", 0, bad_uint, &t, err_buf,
				  sizeof(err_buf)));
	TEST_STREQ("defaults: port_min: '70000' is not a number in 1..65535",
		   err_buf);
 out:
	return err;
}

static int test_every_type(void)
{
	static const char text[] =
		"# full config\n"
		"\n"
		"name   edge-7\n"
		"opt\tabc\n"
		"workers 64\n"
		"port_min  1   # lowest allowed\n"
		"opt_num 5\n"
		"debug YES\n"
		"opt_bool on\n"
		"log_level debug\n"
		"sip_udp [2001:DB8::1]:5080\n"
		"ng 127.0.0.1:22222\n"
		"public_ip ::ffff:192.0.2.1\n"
		"peers 192.0.2.1:5060  [::1]:5061\t10.0.0.1:1\n";
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;
	int err = 0;

	TEST_ERR(parse("t.conf", text));
	TEST_STREQ("edge-7", c.name);
	TEST_STREQ("abc", c.opt);
	TEST_EQ(64, c.workers);
	TEST_EQ(1, c.port_min);
	TEST_EQ(5, c.opt_num);
	TEST_EQ(true, c.debug);
	TEST_EQ(true, c.opt_bool);
	TEST_EQ(LOG_LVL_DEBUG, c.level);

	TEST_STREQ("[2001:db8::1]:5080", c.sip_udp.text);
	TEST_EQ(sizeof(struct sockaddr_in6), c.sip_udp.len);
	sin6 = (const struct sockaddr_in6 *)&c.sip_udp.ss;
	TEST_EQ(AF_INET6, sin6->sin6_family);
	TEST_EQ(5080, ntohs(sin6->sin6_port));

	TEST_STREQ("127.0.0.1:22222", c.ng.text);
	sin = (const struct sockaddr_in *)&c.ng.ss;
	TEST_EQ(AF_INET, sin->sin_family);
	TEST_EQ(22222, ntohs(sin->sin_port));
	TEST_EQ(htonl(INADDR_LOOPBACK), sin->sin_addr.s_addr);

	TEST_STREQ("::ffff:192.0.2.1", c.public_ip.text);
	TEST_EQ(AF_INET6, c.public_ip.ss.ss_family);

	TEST_EQ(3, c.peers.n);
	TEST_STREQ("192.0.2.1:5060", c.peers.a[0].text);
	TEST_STREQ("[::1]:5061", c.peers.a[1].text);
	TEST_STREQ("10.0.0.1:1", c.peers.a[2].text);
 out:
	return err;
}

static int test_booleans(void)
{
	static const char *const yes[] = { "yes", "true", "on", "1", "Yes" };
	static const char *const no[]  = { "no", "false", "off", "0", "OFF" };
	char line[64];
	size_t i;
	int err = 0;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(line, sizeof(line), "debug %s\n", yes[i]);
		TEST_ERR(parse("b.conf", line));
		TEST_EQ(true, c.debug);
		snprintf(line, sizeof(line), "debug %s\n", no[i]);
		TEST_ERR(parse("b.conf", line));
		TEST_EQ(false, c.debug);
	}
	BAD("b.conf", "debug 2\n", "b.conf:1: debug: '2' is not a boolean "
	    "(yes/no)");
	BAD("b.conf", "debug\n", "b.conf:1: debug: empty value");
	TEST_ERR(parse("b.conf", "opt_bool\n"));
	TEST_EQ(false, c.opt_bool);
 out:
	return err;
}

static int test_loglevels(void)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char line[64];
	size_t i;
	int err = 0;

	for (i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "log_level %s", names[i]);
		TEST_ERR(parse("l.conf", line));
		TEST_EQ(i, c.level);
	}
	BAD("l.conf", "\nlog_level verbose\n", "l.conf:2: log_level: "
	    "'verbose' is not a log level (error, warn, info, debug)");
 out:
	return err;
}

static int test_numbers(void)
{
	int err = 0;

	BAD("mediad.conf", "workers 2\n\n# x\nport_min 70000\n",
	    "mediad.conf:4: port_min: '70000' is not a number in 1..65535");
	BAD("m.conf", "port_min 0", "m.conf:1: port_min: '0' is not a number "
	    "in 1..65535");
	BAD("m.conf", "port_min -1", "m.conf:1: port_min: '-1' is not a "
	    "number in 1..65535");
	BAD("m.conf", "port_min 0x10", "m.conf:1: port_min: '0x10' is not a "
	    "number in 1..65535");
	BAD("m.conf", "port_min 12 34", "m.conf:1: port_min: '12 34' is not "
	    "a number in 1..65535");
	BAD("m.conf", "port_min 99999999999999999999", "m.conf:1: port_min: "
	    "'99999999999999999999' is not a number in 1..65535");
	BAD("m.conf", "opt_num 4", "m.conf:1: opt_num: '4' is not a number "
	    "in 5..10");
	BAD("m.conf", "workers", "m.conf:1: workers: empty value");
	TEST_ERR(parse("m.conf", "port_min 65535\nworkers 007"));
	TEST_EQ(65535, c.port_min);
	TEST_EQ(7, c.workers);
	TEST_ERR(parse("m.conf", "opt_num"));
	TEST_EQ(0, c.opt_num);
 out:
	return err;
}

static int test_strings(void)
{
	int err = 0;

	TEST_ERR(parse("s.conf", "name  a b\t c  \n"));
	TEST_STREQ("a b\t c", c.name);
	TEST_ERR(parse("s.conf", "name 123456789012345\n"));   /* 15: fits */
	TEST_STREQ("123456789012345", c.name);
	BAD("s.conf", "name 1234567890123456\n",
	    "s.conf:1: name: value too long (max 15 bytes)");
	BAD("s.conf", "name\n", "s.conf:1: name: empty value");
	TEST_ERR(parse("s.conf", "opt\n"));
	TEST_STREQ("", c.opt);
	/* '#' inside a token belongs to it; at a token start it comments */
	TEST_ERR(parse("s.conf", "name pass#word # the rest\n"));
	TEST_STREQ("pass#word", c.name);
	TEST_ERR(parse("s.conf", "name x#\n"));
	TEST_STREQ("x#", c.name);
	TEST_ERR(parse("s.conf", "opt #nothing\n"));
	TEST_STREQ("", c.opt);
 out:
	return err;
}

static int test_addresses(void)
{
	struct cfg_addr a;
	int err = 0;

	TEST_ERR(cfg_addr_parse(&a, "1.2.3.4:5060", true));
	TEST_STREQ("1.2.3.4:5060", a.text);
	TEST_ERR(cfg_addr_parse(&a, "[::1]:5060", true));
	TEST_STREQ("[::1]:5060", a.text);
	TEST_EQ(sizeof(struct sockaddr_in6), a.len);
	TEST_ERR(cfg_addr_parse(&a, "1.2.3.4", false));
	TEST_STREQ("1.2.3.4", a.text);
	TEST_ERR(cfg_addr_parse(&a, "fe80::1", false));
	TEST_STREQ("fe80::1", a.text);
	TEST_ERR(cfg_addr_parse(&a, "[fe80::1]", false));
	TEST_ERR(cfg_addr_parse(&a, "1.2.3.4:99", false));
	TEST_STREQ("1.2.3.4:99", a.text);

	TEST_EQ(EINVAL, cfg_addr_parse(&a, "1.2.3.4", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "::1", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "localhost:5060", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "1.2.3.4:0", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "1.2.3.4:65536", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "1.2.3.4:", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "1.2.3.4:50x", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "[::1]5060", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "[::1:5060", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "[1.2.3.4]:5060", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "1.2.3:5060", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "", false));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, ":5060", true));
	TEST_EQ(EINVAL, cfg_addr_parse(&a, "[]:5060", true));
	TEST_EQ(0, a.len);

	BAD("sbc.conf", "sip_udp example.com:5060",
	    "sbc.conf:1: sip_udp: 'example.com:5060': expected ip:port");
	BAD("sbc.conf", "sip_udp 10.0.0.1",
	    "sbc.conf:1: sip_udp: '10.0.0.1': expected ip:port");
	BAD("sbc.conf", "sip_udp", "sbc.conf:1: sip_udp: empty value");
	TEST_ERR(parse("sbc.conf", "ng\n"));
	TEST_EQ(0, c.ng.len);

	BAD("sbc.conf", "public_ip 1.2.3.4:5060",
	    "sbc.conf:1: public_ip: '1.2.3.4:5060' is not an IP address");
	BAD("sbc.conf", "public_ip host", "sbc.conf:1: public_ip: 'host' is "
	    "not an IP address");
	TEST_ERR(parse("sbc.conf", "public_ip 203.0.113.9"));
	TEST_STREQ("203.0.113.9", c.public_ip.text);
	TEST_EQ(0, ((struct sockaddr_in *)&c.public_ip.ss)->sin_port);
 out:
	return err;
}

static int test_addr_is_any(void)
{
	struct cfg_addr a;
	int err = 0;

	memset(&a, 0, sizeof(a));
	TEST_TRUE(!cfg_addr_is_any(&a));         /* unset */
	TEST_TRUE(!cfg_addr_is_any(NULL));
	TEST_ERR(cfg_addr_parse(&a, "0.0.0.0:5060", true));
	TEST_TRUE(cfg_addr_is_any(&a));
	TEST_ERR(cfg_addr_parse(&a, "[::]:5060", true));
	TEST_TRUE(cfg_addr_is_any(&a));
	TEST_ERR(cfg_addr_parse(&a, "127.0.0.1", false));
	TEST_TRUE(!cfg_addr_is_any(&a));
	TEST_ERR(cfg_addr_parse(&a, "::1", false));
	TEST_TRUE(!cfg_addr_is_any(&a));
 out:
	return err;
}

static int test_addr_list(void)
{
	int err = 0;

	TEST_ERR(parse("p.conf", "peers 1.1.1.1:1 1.1.1.2:2 1.1.1.3:3 "
		       "1.1.1.4:4 1.1.1.5:5 1.1.1.6:6 1.1.1.7:7 [::8]:8"));
	TEST_EQ(CFG_ADDR_MAX, c.peers.n);
	TEST_STREQ("[::8]:8", c.peers.a[7].text);
	BAD("p.conf", "peers 1.1.1.1:1 1.1.1.2:2 1.1.1.3:3 1.1.1.4:4 "
	    "1.1.1.5:5 1.1.1.6:6 1.1.1.7:7 1.1.1.8:8 1.1.1.9:9",
	    "p.conf:1: peers: more than 8 addresses");
	BAD("p.conf", "peers 1.1.1.1:1 nope:5",
	    "p.conf:1: peers: 'nope:5': expected ip:port");
	BAD("p.conf", "peers 1.1.1.1:1,1.1.1.2:2",
	    "p.conf:1: peers: '1.1.1.1:1,1.1.1.2:2': expected ip:port");
	TEST_ERR(parse("p.conf", "peers"));
	TEST_EQ(0, c.peers.n);
 out:
	return err;
}

static int test_unknown_duplicate(void)
{
	int err = 0;

	BAD("sbc.conf", "# sbc\n\n\n\n\n\n\n\n\n\n\nsip_udpp 1.2.3.4:5060\n",
	    "sbc.conf:12: unknown key 'sip_udpp'");
	BAD("x.conf", "workers 2\n# again\nworkers 3\n",
	    "x.conf:3: duplicate key 'workers'");
	BAD("x.conf", "Workers 2", "x.conf:1: unknown key 'Workers'");
	BAD("x.conf", "  workers2 2", "x.conf:1: unknown key 'workers2'");
	BAD("x.conf", "workers 2\nbad\x01key 1",
	    "x.conf:2: unknown key 'bad\x01key'");
 out:
	return err;
}

static int test_crlf_comments_blanks(void)
{
	int err = 0;

	TEST_ERR(parse("w.conf", "# windows\r\n\r\nworkers 9\r\n"
		       "name  crlf \r\n  \t \r\n\t# indented comment\r\n"
		       "debug on"));
	TEST_EQ(9, c.workers);
	TEST_STREQ("crlf", c.name);
	TEST_EQ(true, c.debug);
	BAD("w.conf", "workers 9\r\nport_min 0\r\n",
	    "w.conf:2: port_min: '0' is not a number in 1..65535");
	/* a NUL byte is refused with its line number */
	TEST_EQ(EINVAL, cfg_parse("n.conf", "workers 1\nna\0me x\n", 18, keys,
				  &c, err_buf, sizeof(err_buf)));
	TEST_STREQ("n.conf:2: NUL byte in line", err_buf);
 out:
	return err;
}

static int test_small_err_buffer(void)
{
	char small[12];
	int err = 0;

	TEST_EQ(EINVAL, cfg_parse("sbc.conf", "foo 1", 5, keys, &c, small,
				  sizeof(small)));
	TEST_STREQ("sbc.conf:1:", small);
	TEST_EQ(EINVAL, cfg_parse("sbc.conf", "foo 1", 5, keys, &c, NULL, 0));
 out:
	return err;
}

static int write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (!fp)
		return errno;
	fputs(text, fp);
	return fclose(fp) ? errno : 0;
}

static int test_load_file(void)
{
	char path[64], big[64];
	FILE *fp;
	size_t i;
	int err = 0;

	snprintf(path, sizeof(path), "/tmp/test_cfg-%d.conf", (int)getpid());
	snprintf(big, sizeof(big), "/tmp/test_cfg-%d-big.conf", (int)getpid());

	TEST_ERR(write_file(path, "workers 12\nlog_level warn\n"));
	memset(&c, 0, sizeof(c));
	TEST_ERR(cfg_load(path, keys, &c, err_buf, sizeof(err_buf)));
	TEST_EQ(12, c.workers);
	TEST_EQ(LOG_LVL_WARN, c.level);
	TEST_STREQ("sbc1", c.name);

	TEST_ERR(write_file(path, "workers 12\nworkers 13\n"));
	TEST_EQ(EINVAL, cfg_load(path, keys, &c, err_buf, sizeof(err_buf)));
	{
		char exp[128];

		snprintf(exp, sizeof(exp), "%s:2: duplicate key 'workers'",
			 path);
		TEST_STREQ(exp, err_buf);
	}

	/* over 1 MiB of comments: refused */
	fp = fopen(big, "w");
	TEST_TRUE(fp != NULL);
	for (i = 0; i < (1 << 20) / 64 + 1; i++)
		fprintf(fp, "# %061zu\n", i);
	fclose(fp);
	TEST_EQ(EINVAL, cfg_load(big, keys, &c, err_buf, sizeof(err_buf)));
	TEST_TRUE(strstr(err_buf, "file larger than") != NULL);

	TEST_EQ(ENOENT, cfg_load("/nonexistent/sbc.conf", keys, &c, err_buf,
				 sizeof(err_buf)));
	TEST_STREQ("/nonexistent/sbc.conf: No such file or directory",
		   err_buf);
	/* defaults are in place even so */
	TEST_EQ(4, c.workers);

	TEST_EQ(EISDIR, cfg_load("/tmp", keys, &c, err_buf, sizeof(err_buf)));
	TEST_STREQ("/tmp: Is a directory", err_buf);

	/* cfg_read hands the whole file back, NUL-terminated */
	{
		char *buf = NULL;
		size_t len = 0;

		TEST_ERR(write_file(path, "workers 7\n"));
		TEST_ERR(cfg_read(path, &buf, &len, err_buf,
				  sizeof(err_buf)));
		TEST_EQ(10, len);
		TEST_STREQ("workers 7\n", buf);
		free(buf);
		TEST_EQ(EFBIG, cfg_read(big, &buf, &len, err_buf,
					sizeof(err_buf)));
	}
 out:
	unlink(path);
	unlink(big);
	return err;
}

static int test_print_sample(void)
{
	static const struct cfg_key few[] = {
		{ "workers", CFG_UINT, "4", 0, 0, 1, 64, 0, "worker threads" },
		{ "ng", CFG_ADDR, "", 0, 0, 0, 0, CFG_EMPTY_OK, "NG listener" },
		{ "x", CFG_BOOL, "no", 0, 0, 0, 0, 0, NULL },
		CFG_END
	};
	char *text = NULL;
	size_t size = 0;
	FILE *fp;
	int err = 0;

	fp = open_memstream(&text, &size);
	TEST_TRUE(fp != NULL);
	cfg_print_sample(few, fp);
	fclose(fp);
	TEST_STREQ("# worker threads\n#workers 4\n\n# NG listener\n#ng\n\n"
		   "#x no\n", text);
 out:
	free(text);
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_defaults),
	HARNESS_TEST(test_bad_defaults),
	HARNESS_TEST(test_every_type),
	HARNESS_TEST(test_booleans),
	HARNESS_TEST(test_loglevels),
	HARNESS_TEST(test_numbers),
	HARNESS_TEST(test_strings),
	HARNESS_TEST(test_addresses),
	HARNESS_TEST(test_addr_is_any),
	HARNESS_TEST(test_addr_list),
	HARNESS_TEST(test_unknown_duplicate),
	HARNESS_TEST(test_crlf_comments_blanks),
	HARNESS_TEST(test_small_err_buffer),
	HARNESS_TEST(test_load_file),
	HARNESS_TEST(test_print_sample),
};

HARNESS_MAIN(tests)
