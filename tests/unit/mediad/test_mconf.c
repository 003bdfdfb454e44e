/* tests/unit/mediad/test_mconf.c  mediad.conf keys: defaults, errors, reload */
#include <stdlib.h>

#include "harness.h"
#include "mconf.h"

static char errbuf[512];

static int parse(struct mconf *mc, const char *text)
{
	errbuf[0] = '\0';
	return mconf_parse(mc, "test.conf", text, strlen(text), errbuf,
			   sizeof(errbuf));
}

/* <text> must fail with a message starting <prefix>. */
static int rejects(const char *text, const char *prefix)
{
	struct mconf mc;

	memset(&mc, 0x5a, sizeof(mc));
	if (parse(&mc, text) != EINVAL) {
		fprintf(stderr, "  accepted: %s\n", text);
		return EINVAL;
	}
	if (strncmp(errbuf, prefix, strlen(prefix))) {
		fprintf(stderr, "  \"%s\": got \"%s\", want \"%s...\"\n",
			text, errbuf, prefix);
		return EINVAL;
	}
	/* all or nothing: the target is untouched on error */
	if (mc.port_min != 0x5a5a5a5a)
		return EINVAL;
	return 0;
}

static int test_mconf_defaults(void)
{
	struct mconf mc;
	int err = 0;

	TEST_ERR(parse(&mc, ""));
	TEST_STREQ("127.0.0.1:22222", mc.ng_listen.text);
	TEST_STREQ("127.0.0.1", mc.media_ip.text);
	TEST_STREQ("127.0.0.1", mc.advertised_ip.text);  /* = media_ip */
	TEST_EQ(30000, mc.port_min);
	TEST_EQ(40000, mc.port_max);
	TEST_EQ(0, mc.workers);
	TEST_STREQ("/sbc-media", mc.shm_name);
	TEST_EQ(60, mc.media_timeout);
	TEST_EQ(LOG_LVL_INFO, mc.log_level);
	TEST_EQ(2500, mconf_nsessions(&mc));
	TEST_TRUE(mconf_nworkers(&mc) >= 1);
	TEST_TRUE(mconf_nworkers(&mc) <= MCONF_WORKERS_MAX);
 out:
	return err;
}

static int test_mconf_values(void)
{
	struct mconf mc;
	int err = 0;

	TEST_ERR(parse(&mc,
		       "# comment\n"
		       "ng_listen [::1]:2223\n"
		       "media_ip 0.0.0.0\n"
		       "advertised_ip 192.0.2.7   # behind NAT\n"
		       "port_min 20000\n"
		       "port_max 20003\n"
		       "workers 4\n"
		       "shm_name /other\n"
		       "media_timeout 3600\n"
		       "log_level debug\n"));
	TEST_STREQ("[::1]:2223", mc.ng_listen.text);
	TEST_STREQ("192.0.2.7", mc.advertised_ip.text);
	TEST_EQ(4, mconf_nworkers(&mc));
	TEST_EQ(1, mconf_nsessions(&mc));
	TEST_STREQ("/other", mc.shm_name);
	TEST_EQ(LOG_LVL_DEBUG, mc.log_level);
 out:
	return err;
}

static int test_mconf_bad_values(void)
{
	int err = 0;

	TEST_ERR(rejects("\nbogus 1\n", "test.conf:2: "));
	TEST_ERR(rejects("port_min 0\n", "test.conf:1: port_min"));
	TEST_ERR(rejects("# x\n\nport_max 65536\n", "test.conf:3: port_max"));
	TEST_ERR(rejects("workers 65\n", "test.conf:1: workers"));
	TEST_ERR(rejects("workers -1\n", "test.conf:1: workers"));
	TEST_ERR(rejects("media_timeout 0\n", "test.conf:1: media_timeout"));
	TEST_ERR(rejects("media_timeout 3601\n",
			 "test.conf:1: media_timeout"));
	TEST_ERR(rejects("ng_listen 127.0.0.1\n", "test.conf:1: ng_listen"));
	TEST_ERR(rejects("media_ip nowhere\n", "test.conf:1: media_ip"));
	TEST_ERR(rejects("media_ip\n", "test.conf:1: media_ip"));
	TEST_ERR(rejects("log_level loud\n", "test.conf:1: log_level"));
	TEST_ERR(rejects("workers 1\nworkers 2\n", "test.conf:2: "));
	TEST_ERR(rejects("shm_name /"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaa\n", "test.conf:1: shm_name"));
 out:
	return err;
}

static int test_mconf_cross_key(void)
{
	int err = 0;

	/* keys that are in the file are named with their line */
	TEST_ERR(rejects("port_min 40000\n", "test.conf:1: port_min: "));
	TEST_ERR(rejects("port_min 30000\nport_max 30000\n",
			 "test.conf:1: port_min: "));
	TEST_ERR(rejects("port_max 100\n", "test.conf: port_min: "));
	TEST_ERR(rejects("port_min 30001\n", "test.conf:1: port_min: "));
	TEST_ERR(rejects("port_min 30000\n port_max 30002\n",
			 "test.conf:2: port_max: "));
	TEST_ERR(rejects("\nshm_name sbc-media\n", "test.conf:2: shm_name: "));
	TEST_ERR(rejects("shm_name /a/b\n", "test.conf:1: shm_name: "));
	TEST_ERR(rejects("shm_name /\n", "test.conf:1: shm_name: "));
	TEST_ERR(rejects("ng_listen 127.0.0.1:0\n",
			 "test.conf:1: ng_listen: "));
	/* a key at its default is named without a line */
	TEST_ERR(rejects("media_ip 0.0.0.0\n", "test.conf: advertised_ip: "));
	TEST_ERR(rejects("advertised_ip ::\n", "test.conf:1: advertised_ip: "));
 out:
	return err;
}

static int test_mconf_restart_keys(void)
{
	const char *names[8];
	struct mconf a, b;
	int err = 0;

	TEST_ERR(parse(&a, ""));
	TEST_ERR(parse(&b, "log_level debug\nmedia_timeout 5\n"
		       "advertised_ip 192.0.2.1\n"));
	TEST_EQ(0, mconf_restart_keys(&a, &b, names, 8));

	TEST_ERR(parse(&b, "port_min 30002\nworkers 2\nshm_name /x\n"
		       "ng_listen 127.0.0.1:1\nmedia_ip 127.0.0.2\n"
		       "port_max 40002\n"));
	TEST_EQ(6, mconf_restart_keys(&a, &b, names, 8));
	TEST_STREQ("ng_listen", names[0]);
	TEST_STREQ("shm_name", names[5]);
	/* more than fit: counted, not written past <max> */
	TEST_EQ(6, mconf_restart_keys(&a, &b, names, 2));
 out:
	return err;
}

/* conf/mediad.conf is valid and gives exactly the defaults. */
static int test_mconf_sample_file(void)
{
	const char *path = getenv("MEDIAD_CONF");
	struct mconf file, def;
	int err = 0;

	if (!path)
		return TEST_SKIP;

	err = mconf_load(&file, path, errbuf, sizeof(errbuf));
	if (err)
		fprintf(stderr, "  %s\n", errbuf);
	TEST_ERR(err);
	TEST_ERR(parse(&def, ""));
	TEST_TRUE(!memcmp(&file, &def, sizeof(def)));

	TEST_EQ(ENOENT, mconf_load(&file, "/nonexistent/mediad.conf", errbuf,
				   sizeof(errbuf)));
	TEST_STREQ("/nonexistent/mediad.conf: No such file or directory",
		   errbuf);
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_mconf_defaults),
	HARNESS_TEST(test_mconf_values),
	HARNESS_TEST(test_mconf_bad_values),
	HARNESS_TEST(test_mconf_cross_key),
	HARNESS_TEST(test_mconf_restart_keys),
	HARNESS_TEST(test_mconf_sample_file),
};

HARNESS_MAIN(tests)
