/* tests/unit/mediad/test_ngcmd.c  NG dispatcher: golden replies, errors */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "arena.h"
#include "bencode.h"
#include "ngcmd.h"

static uint8_t arena_mem[1 << 20];
static char out[8192];

/* Run <req> through a fresh dispatcher state <nc>; the reply in out. */
static int run(struct ngcmd *nc, const char *req, size_t len,
	       size_t *outlenp)
{
	struct arena a;
	struct benc b;

	arena_init(&a, arena_mem, sizeof(arena_mem));
	benc_init(&b, out, sizeof(out));
	ngcmd_handle(nc, &a, req, len, &b);
	return benc_finish(&b, outlenp);
}

#define RUN(nc, req) run(nc, req, strlen(req), &len)

static void fake_stats(struct ngcmd_stats *st, void *arg)
{
	int *calls = arg;

	++*calls;
	st->uptime_s = 42;
	st->workers = 3;
	st->packets_in = 1000;
	st->packets_dropped = 7;
	st->packet_rate = 50;
}

/* The reply in out, decoded. */
static const struct bnode *decoded(size_t len)
{
	static uint8_t mem[1 << 16];
	struct arena a;
	struct bnode *root = NULL;

	arena_init(&a, mem, sizeof(mem));
	if (bencode_decode(&a, out, len, &root, NULL, NULL))
		return NULL;
	return root;
}

static int64_t get_int(const struct bnode *d, const char *k)
{
	const struct bnode *n = bnode_get(d, k);

	return n && n->type == BN_INT ? n->v.i : -1;
}

static int test_ngcmd_ping(void)
{
	struct ngcmd nc;
	size_t len = 0;
	int err = 0;

	ngcmd_init(&nc, NULL, NULL);
	TEST_ERR(RUN(&nc, "d7:command4:pinge"));
	TEST_MEMEQ("d6:result4:ponge", 16, out, len);
	TEST_EQ(1, nc.count[0]);
	TEST_STREQ("ping", ngcmd_name(0));
	TEST_TRUE(ngcmd_name(NGCMD_MAX) == NULL);

	/* other keys are ignored, as rtpengine does */
	TEST_ERR(RUN(&nc, "d4:call3:abc7:command4:ping5:flagsl1:xee"));
	TEST_MEMEQ("d6:result4:ponge", 16, out, len);
	TEST_EQ(2, nc.count[0]);
	TEST_EQ(0, nc.errors);
 out:
	return err;
}

static int test_ngcmd_statistics(void)
{
	const struct bnode *root, *st, *cur, *tot, *ctl, *md;
	const char *p;
	size_t len = 0, plen;
	struct ngcmd nc;
	int calls = 0, err = 0;

	ngcmd_init(&nc, fake_stats, &calls);
	TEST_ERR(RUN(&nc, "d7:command4:pinge"));
	TEST_ERR(RUN(&nc, "d7:command10:statisticse"));
	TEST_EQ(1, calls);

	root = decoded(len);
	TEST_TRUE(root && root->type == BN_DICT);
	TEST_TRUE(bnode_get_str(root, "result", &p, &plen));
	TEST_MEMEQ("ok", 2, p, plen);

	st = bnode_get(root, "statistics");
	TEST_TRUE(st && st->type == BN_DICT);
	cur = bnode_get(st, "currentstatistics");
	tot = bnode_get(st, "totalstatistics");
	ctl = bnode_get(st, "controlstatistics");
	md = bnode_get(st, "mediad");
	TEST_TRUE(cur && tot && ctl && md);

	TEST_EQ(0, get_int(cur, "sessionsown"));
	TEST_EQ(0, get_int(cur, "sessionsforeign"));
	TEST_EQ(0, get_int(cur, "sessionstotal"));
	TEST_EQ(0, get_int(cur, "transcodedmedia"));
	TEST_EQ(50, get_int(cur, "packetrate"));
	TEST_EQ(0, get_int(cur, "byterate"));
	TEST_EQ(0, get_int(cur, "errorrate"));

	TEST_TRUE(bnode_get_str(tot, "uptime", &p, &plen));
	TEST_MEMEQ("42", 2, p, plen);
	TEST_EQ(0, get_int(tot, "managedsessions"));
	TEST_EQ(1000, get_int(tot, "relayedpackets"));
	TEST_EQ(7, get_int(tot, "relayedpacketerrors"));

	TEST_EQ(1, get_int(ctl, "totalpingcount"));
	TEST_EQ(1, get_int(ctl, "totalstatistics"));
	TEST_EQ(0, get_int(ctl, "totalerrorcount"));
	TEST_EQ(3, get_int(md, "workers"));
 out:
	return err;
}

#define ERR_REPLY(reason) \
	"d6:result5:error12:error-reason" reason "e"

static int test_ngcmd_unknown(void)
{
	const char exp[] = ERR_REPLY("26:Unrecognized command 'xyz'");
	struct ngcmd nc;
	size_t len = 0;
	int err = 0;

	ngcmd_init(&nc, NULL, NULL);
	TEST_ERR(RUN(&nc, "d7:command3:xyze"));
	TEST_MEMEQ(exp, sizeof(exp) - 1, out, len);
	TEST_EQ(1, nc.unknown);
	TEST_EQ(1, nc.errors);

	/* case matters, as in rtpengine */
	TEST_ERR(RUN(&nc, "d7:command4:PINGe"));
	TEST_MEMEQ(ERR_REPLY("27:Unrecognized command 'PING'"),
		   sizeof(ERR_REPLY("27:Unrecognized command 'PING'")) - 1,
		   out, len);

	/* a long, binary name is cut and made printable in the reason */
	TEST_ERR(RUN(&nc, "d7:command100:\x01\x02xxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxe"));
	TEST_ERR(RUN(&nc, "d7:command0:e"));
	TEST_EQ(4, nc.unknown);
 out:
	return err;
}

/* The reason of the error reply in out, NUL-terminated in <buf>. */
static int reason_of(size_t len, char *buf, size_t bufsz)
{
	const struct bnode *root = decoded(len);
	const char *p;
	size_t plen;

	if (!root || !bnode_get_str(root, "result", &p, &plen) ||
	    plen != 5 || memcmp(p, "error", 5))
		return EPROTO;
	if (!bnode_get_str(root, "error-reason", &p, &plen) ||
	    plen >= bufsz)
		return EPROTO;
	memcpy(buf, p, plen);
	buf[plen] = '\0';
	return 0;
}

static int test_ngcmd_broken_bencode(void)
{
	static const char *bad[] = {
		"d7:command4:ping",        /* unterminated */
		"d7:command4:pingee",      /* trailing byte */
		"d7:command99:pinge",      /* string past the end */
		"di1e4:pinge",             /* integer key */
		"i01e",
		"x",
	};
	char reason[256];
	struct ngcmd nc;
	size_t len = 0, i;
	int err = 0;

	ngcmd_init(&nc, NULL, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		TEST_ERR(RUN(&nc, bad[i]));
		TEST_ERR(reason_of(len, reason, sizeof(reason)));
		TEST_TRUE(!strncmp(reason, "Invalid bencode: ", 17));
		TEST_TRUE(strstr(reason, " at offset ") != NULL);
	}
	TEST_ERR(run(&nc, "", 0, &len));
	TEST_ERR(reason_of(len, reason, sizeof(reason)));
	TEST_TRUE(!strncmp(reason, "Invalid bencode", 15));

	TEST_ERR(RUN(&nc, "{\"command\":\"ping\"}"));
	TEST_ERR(reason_of(len, reason, sizeof(reason)));
	TEST_STREQ("JSON requests are not supported, use bencode", reason);
	TEST_EQ(sizeof(bad) / sizeof(bad[0]) + 2, nc.errors);
 out:
	return err;
}

static int test_ngcmd_not_dict_missing_command(void)
{
	char reason[256];
	struct ngcmd nc;
	size_t len = 0;
	int err = 0;

	ngcmd_init(&nc, NULL, NULL);
	TEST_ERR(RUN(&nc, "l7:command4:pinge"));
	TEST_ERR(reason_of(len, reason, sizeof(reason)));
	TEST_STREQ("Message is not a bencoded dictionary", reason);

	TEST_ERR(RUN(&nc, "4:ping"));
	TEST_ERR(reason_of(len, reason, sizeof(reason)));
	TEST_STREQ("Message is not a bencoded dictionary", reason);

	TEST_ERR(RUN(&nc, "de"));
	TEST_ERR(reason_of(len, reason, sizeof(reason)));
	TEST_STREQ("Missing key 'command'", reason);

	TEST_ERR(RUN(&nc, "d3:cmd4:pinge"));
	TEST_ERR(reason_of(len, reason, sizeof(reason)));
	TEST_STREQ("Missing key 'command'", reason);

	TEST_ERR(RUN(&nc, "d7:commandi1ee"));
	TEST_ERR(reason_of(len, reason, sizeof(reason)));
	TEST_STREQ("Key 'command' is not a string", reason);
	TEST_EQ(5, nc.errors);
 out:
	return err;
}

/* A reply buffer too small is reported by benc_finish(), never
 * overrun. */
static int test_ngcmd_small_buffer(void)
{
	struct ngcmd nc;
	struct arena a;
	struct benc b;
	char small[24];
	size_t len;
	int err = 0;

	ngcmd_init(&nc, NULL, NULL);
	memset(small, 'Z', sizeof(small));
	arena_init(&a, arena_mem, sizeof(arena_mem));
	benc_init(&b, small, 10);
	ngcmd_handle(&nc, &a, "d7:command10:statisticse", 24, &b);
	TEST_TRUE(benc_finish(&b, &len) != 0);
	TEST_EQ('Z', small[10]);
 out:
	return err;
}

/* Mutated and random requests: every one gets a reply that decodes to
 * a dict with a result, nothing crashes (ASan/UBSan build checks the
 * rest). */
static int test_ngcmd_mutations(void)
{
	static const char *seeds[] = {
		"d7:command4:pinge",
		"d7:command10:statisticse",
		"d7:command5:offer7:call-id3:abc3:sdp10:v=0\r\no=- 1e",
		"d5:flagsl5:trust7:symmete7:command6:deletee",
	};
	char req[128];
	struct ngcmd nc;
	size_t len = 0, n;
	unsigned seed = 1, i;
	int err = 0;

	ngcmd_init(&nc, NULL, NULL);
	for (i = 0; i < 20000; i++) {
		const char *s = seeds[i % 4];
		unsigned k, flips = 1 + rand_r(&seed) % 4;

		n = strlen(s);
		memcpy(req, s, n);
		if (i % 5 == 0)
			n = (size_t)rand_r(&seed) % (n + 1);   /* truncate */
		for (k = 0; k < flips && n; k++)
			req[rand_r(&seed) % n] = (char)rand_r(&seed);

		TEST_ERR(run(&nc, req, n, &len));
		TEST_TRUE(decoded(len) != NULL);
		TEST_TRUE(bnode_get(decoded(len), "result") != NULL);
	}
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_ngcmd_ping),
	HARNESS_TEST(test_ngcmd_statistics),
	HARNESS_TEST(test_ngcmd_unknown),
	HARNESS_TEST(test_ngcmd_broken_bencode),
	HARNESS_TEST(test_ngcmd_not_dict_missing_command),
	HARNESS_TEST(test_ngcmd_small_buffer),
	HARNESS_TEST(test_ngcmd_mutations),
};

HARNESS_MAIN(tests)
