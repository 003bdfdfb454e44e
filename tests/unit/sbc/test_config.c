/* tests/unit/sbc/test_config.c  sbc.conf keys, cross-checks, reload diff */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"

static struct sbc_config c;
static char msg[512];

static int parse(const char *text)
{
	msg[0] = '\0';
	return config_parse(&c, "t.conf", text, strlen(text), msg,
			    sizeof(msg));
}

/* <prefix> starts the error message. */
static int msg_starts(const char *prefix)
{
	if (strncmp(msg, prefix, strlen(prefix))) {
		fprintf(stderr, "  message: \"%s\"\n  wanted:  \"%s...\"\n",
			msg, prefix);
		return EINVAL;
	}
	return 0;
}

static int test_defaults(void)
{
	int err = 0;

	TEST_ERR(config_defaults(&c));
	TEST_STREQ("0.0.0.0:5060", c.sip_udp.text);
	TEST_STREQ("0.0.0.0:5060", c.sip_tcp.text);
	TEST_EQ(0, c.sip_tls.len);
	TEST_STREQ("0.0.0.0:8080", c.sip_ws.text);
	TEST_EQ(0, c.sip_wss.len);
	TEST_STREQ("", c.tls_cert);
	TEST_EQ(0, c.advertised_ip.len);
	TEST_STREQ("var/sbc.db", c.db_path);
	TEST_STREQ("127.0.0.1:8000", c.api_listen.text);
	TEST_STREQ("", c.api_token);
	TEST_EQ(false, c.metrics_auth);
	TEST_EQ(1, c.media_ng.n);
	TEST_STREQ("127.0.0.1:22222", c.media_ng.a[0].text);
	TEST_STREQ("/sbc-media", c.shm_name);
	TEST_STREQ("", c.domains);
	TEST_EQ(0, c.drain_timeout);
	TEST_EQ(LOG_LVL_INFO, c.log_level);
 out:
	return err;
}

/* conf/sbc.conf is valid and sets every key to its default. */
static int test_sample_is_defaults(void)
{
	struct sbc_config def;
	struct config_diff d;
	int err = 0;

	TEST_ERR(config_defaults(&def));
	err = config_load(&c, SBC_SAMPLE_CONF, msg, sizeof(msg));
	if (err)
		fprintf(stderr, "  %s\n", msg);
	TEST_ERR(err);
	config_diff(&d, &def, &c);
	TEST_EQ(0, d.live);
	TEST_EQ(0, d.restart);
 out:
	return err;
}

static int test_values(void)
{
	int err = 0;

	TEST_ERR(parse("# a comment\n"
		       "sip_udp [::1]:5070   # trailing comment\n"
		       "sip_tcp\n"
		       "advertised_ip 192.0.2.7\n"
		       "media_ng 127.0.0.1:22222 127.0.0.2:22223\n"
		       "domains example.com  voip.example.net\n"
		       "api_token abc-123_xyz.~+/=\n"
		       "metrics_auth yes\n"
		       "drain_timeout 86400\n"
		       "log_level debug\n"));
	TEST_STREQ("[::1]:5070", c.sip_udp.text);
	TEST_EQ(0, c.sip_tcp.len);
	TEST_STREQ("192.0.2.7", c.advertised_ip.text);
	TEST_EQ(2, c.media_ng.n);
	TEST_STREQ("127.0.0.2:22223", c.media_ng.a[1].text);
	TEST_EQ(2, config_domain_count(&c));
	TEST_STREQ("abc-123_xyz.~+/=", c.api_token);
	TEST_EQ(true, c.metrics_auth);
	TEST_EQ(86400, c.drain_timeout);
	TEST_EQ(LOG_LVL_DEBUG, c.log_level);
 out:
	return err;
}

/* Errors name the file and the line, and leave the target untouched. */
static int test_bad_lines(void)
{
	struct sbc_config before;
	int err = 0;

	TEST_ERR(config_defaults(&c));
	strcpy(c.domains, "untouched.example");
	before = c;

	TEST_EQ(EINVAL, parse("sip_udp 127.0.0.1:5060\nbogus 1\n"));
	TEST_ERR(msg_starts("t.conf:2: unknown key 'bogus'"));
	TEST_EQ(EINVAL, parse("\n\ndrain_timeout 86401\n"));
	TEST_ERR(msg_starts("t.conf:3: drain_timeout"));
	TEST_EQ(EINVAL, parse("sip_udp 127.0.0.1\n"));
	TEST_ERR(msg_starts("t.conf:1: sip_udp"));
	TEST_EQ(EINVAL, parse("log_level loud\n"));
	TEST_ERR(msg_starts("t.conf:1: log_level"));
	TEST_EQ(EINVAL, parse("metrics_auth maybe\n"));
	TEST_ERR(msg_starts("t.conf:1: metrics_auth"));
	TEST_EQ(EINVAL, parse("media_ng\n"));
	TEST_ERR(msg_starts("t.conf:1: media_ng"));
	TEST_EQ(EINVAL, parse("db_path\n"));
	TEST_ERR(msg_starts("t.conf:1: db_path"));
	TEST_EQ(EINVAL, parse("domains a.example\ndomains b.example\n"));
	TEST_ERR(msg_starts("t.conf:2: duplicate key 'domains'"));

	TEST_EQ(0, memcmp(&before, &c, sizeof(c)));
 out:
	return err;
}

static int test_tls_needs_cert(void)
{
	int err = 0;

	TEST_EQ(EINVAL, parse("# tls\nsip_tls 0.0.0.0:5061\n"));
	TEST_ERR(msg_starts("t.conf:2: sip_tls: needs tls_cert"));
	TEST_EQ(EINVAL, parse("sip_ws\n\nsip_wss 0.0.0.0:8443\n"));
	TEST_ERR(msg_starts("t.conf:3: sip_wss: needs tls_cert"));
	TEST_EQ(EINVAL, parse("sip_tls 0.0.0.0:5061\n"
			      "tls_cert /nonexistent/sbc.pem\n"));
	TEST_ERR(msg_starts("t.conf:2: tls_cert: cannot read"));
 out:
	return err;
}

static int test_tls_with_cert(void)
{
	char path[] = "/tmp/sbc-test-certXXXXXX";
	char text[256];
	int fd, err = 0;

	fd = mkstemp(path);
	TEST_TRUE(fd != -1);
	close(fd);
	snprintf(text, sizeof(text), "sip_tls 0.0.0.0:5061\n"
		 "sip_wss 0.0.0.0:8443\ntls_cert %s\n", path);
	err = parse(text);
	if (err)
		fprintf(stderr, "  %s\n", msg);
	TEST_ERR(err);
	TEST_STREQ(path, c.tls_cert);
 out:
	unlink(path);
	return err;
}

/* Two TCP-based listeners on one port cannot both bind. */
static int test_tcp_collision(void)
{
	int err = 0;

	TEST_EQ(EINVAL, parse("sip_ws 0.0.0.0:5060\n"));
	TEST_ERR(msg_starts("t.conf:1: sip_ws: 0.0.0.0:5060 collides with "
			    "sip_tcp"));
	TEST_EQ(EINVAL, parse("api_listen 127.0.0.1:8080\n"));
	TEST_ERR(msg_starts("t.conf:1: api_listen: 127.0.0.1:8080 collides "
			    "with sip_ws"));
	/* UDP and TCP may share a port; distinct addresses may too */
	TEST_ERR(parse("sip_udp 127.0.0.1:5060\nsip_tcp 127.0.0.1:5060\n"
		       "sip_ws 127.0.0.1:8080\napi_listen 127.0.0.2:8080\n"));
 out:
	return err;
}

static int test_checks(void)
{
	int err = 0;

	TEST_EQ(EINVAL, parse("shm_name sbc-media\n"));
	TEST_ERR(msg_starts("t.conf:1: shm_name"));
	TEST_EQ(EINVAL, parse("shm_name /a/b\n"));
	TEST_ERR(msg_starts("t.conf:1: shm_name"));
	TEST_EQ(EINVAL, parse("domains ok.example bad_domain!\n"));
	TEST_ERR(msg_starts("t.conf:1: domains: 'bad_domain!'"));
	TEST_EQ(EINVAL, parse("api_token has space\n"));
	TEST_ERR(msg_starts("t.conf:1: api_token"));
	TEST_ERR(parse("domains 192.0.2.1 [2001:db8::1] a-b.example\n"));
	TEST_EQ(3, config_domain_count(&c));
 out:
	return err;
}

static int test_load_errors(void)
{
	int err = 0;

	TEST_EQ(ENOENT, config_load(&c, "/nonexistent/sbc.conf", msg,
				    sizeof(msg)));
	TEST_ERR(msg_starts("/nonexistent/sbc.conf: "));
	TEST_EQ(EISDIR, config_load(&c, "/tmp", msg, sizeof(msg)));
	TEST_ERR(msg_starts("/tmp: Is a directory"));
 out:
	return err;
}

static int test_diff(void)
{
	static const char text[] = "log_level debug\napi_token t0ken\n"
		"media_ng 127.0.0.1:1\nsip_udp 127.0.0.1:5070\n"
		"db_path /tmp/other.db\n";
	struct sbc_config cur, next;
	struct config_diff d;
	int err = 0;

	TEST_ERR(config_defaults(&cur));
	next = cur;
	config_diff(&d, &cur, &next);
	TEST_EQ(0, d.live | d.restart);

	TEST_ERR(config_parse(&next, "n.conf", text, strlen(text), msg,
			      sizeof(msg)));
	config_diff(&d, &cur, &next);
	TEST_EQ(CONFIG_BIT(CONFIG_K_LOG_LEVEL) |
		CONFIG_BIT(CONFIG_K_API_TOKEN) |
		CONFIG_BIT(CONFIG_K_MEDIA_NG), d.live);
	TEST_EQ(CONFIG_BIT(CONFIG_K_SIP_UDP) |
		CONFIG_BIT(CONFIG_K_DB_PATH), d.restart);

	/* live keys move, the others keep what the sockets use */
	config_apply_live(&cur, &next);
	TEST_EQ(LOG_LVL_DEBUG, cur.log_level);
	TEST_STREQ("t0ken", cur.api_token);
	TEST_STREQ("127.0.0.1:1", cur.media_ng.a[0].text);
	TEST_STREQ("0.0.0.0:5060", cur.sip_udp.text);
	TEST_STREQ("var/sbc.db", cur.db_path);
	config_diff(&d, &cur, &next);
	TEST_EQ(0, d.live);

	TEST_TRUE(config_key_live(CONFIG_K_DOMAINS));
	TEST_TRUE(!config_key_live(CONFIG_K_SIP_TCP));
	TEST_STREQ("drain_timeout", config_key_name(CONFIG_K_DRAIN_TIMEOUT));
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_defaults),
	HARNESS_TEST(test_sample_is_defaults),
	HARNESS_TEST(test_values),
	HARNESS_TEST(test_bad_lines),
	HARNESS_TEST(test_tls_needs_cert),
	HARNESS_TEST(test_tls_with_cert),
	HARNESS_TEST(test_tcp_collision),
	HARNESS_TEST(test_checks),
	HARNESS_TEST(test_load_errors),
	HARNESS_TEST(test_diff),
};

HARNESS_MAIN(tests)
