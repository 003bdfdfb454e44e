/* tests/unit/mediad/test_ng_call.c  NG offer/answer/delete/query/list */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>

#include "harness.h"
#include "arena.h"
#include "bencode.h"
#include "call.h"
#include "ngcmd.h"

static uint8_t arena_mem[1 << 20];
static uint8_t dec_mem[1 << 18];
static char req[16384];
static char out[65536];
static size_t outlen;

static const char sdp_a[] =
	"v=0\r\n"
	"o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.10\r\n"
	"t=0 0\r\n"
	"a=ice-ufrag:F7gI\r\n"
	"a=ice-pwd:x9cml/YzichV2+XlhiMu8g\r\n"
	"m=audio 49170 RTP/AVP 0 101\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-16\r\n"
	"a=candidate:1 1 UDP 2130706431 192.0.2.10 49170 typ host\r\n"
	"a=sendrecv\r\n";

static const char sdp_b_pcma[] =
	"v=0\r\n"
	"o=bob 2808844564 2808844564 IN IP4 198.51.100.7\r\n"
	"s=-\r\n"
	"c=IN IP4 198.51.100.7\r\n"
	"t=0 0\r\n"
	"m=audio 5004 RTP/AVP 8 100\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:100 telephone-event/8000\r\n"
	"a=fmtp:100 0-16\r\n";

static struct calls *mk_calls(void)
{
	static struct sockaddr_in sin;
	struct calls *c = NULL;
	struct calls_prm prm = {
		.port_min = 41100, .port_max = 41139,   /* 10 calls */
		.nworkers = 2,
		.media_ip = (const struct sockaddr *)&sin,
		.media_len = sizeof(sin),
		.advertised = "203.0.113.5",
		.delete_delay = 30,
	};

	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (calls_init(&c, &prm))
		return NULL;
	return c;
}

/* Send request <r>/<len> through <nc>; the decoded reply. */
static const struct bnode *ng(struct ngcmd *nc, const char *r, size_t len)
{
	struct arena a;
	struct benc b;
	struct bnode *root = NULL;

	arena_init(&a, arena_mem, sizeof(arena_mem));
	benc_init(&b, out, sizeof(out));
	ngcmd_handle(nc, &a, r, len, &b);
	if (benc_finish(&b, &outlen))
		return NULL;
	arena_init(&a, dec_mem, sizeof(dec_mem));
	if (bencode_decode(&a, out, outlen, &root, NULL, NULL))
		return NULL;
	return root;
}

/* An offer/answer request; <extra> adds members (may be NULL). */
static size_t mkreq(const char *cmd, const char *callid, const char *ftag,
		    const char *ttag, const char *sdp, bool transcode,
		    int64_t delay)
{
	struct benc b;
	size_t len = 0;

	benc_init(&b, req, sizeof(req));
	benc_dict(&b);
	benc_kstr(&b, "command", cmd);
	if (callid)
		benc_kstr(&b, "call-id", callid);
	if (ftag)
		benc_kstr(&b, "from-tag", ftag);
	if (ttag)
		benc_kstr(&b, "to-tag", ttag);
	if (sdp)
		benc_kstr(&b, "sdp", sdp);
	benc_kstr(&b, "ICE", "remove");
	benc_klist(&b, "replace");
	benc_str(&b, "origin");
	benc_str(&b, "session-connection");
	benc_end(&b);
	benc_klist(&b, "flags");
	benc_str(&b, "trust-address");
	benc_end(&b);
	if (transcode) {
		benc_kdict(&b, "codec");
		benc_klist(&b, "transcode");
		benc_str(&b, "PCMA");
		benc_end(&b);
		benc_end(&b);
	}
	if (delay >= 0)
		benc_kint(&b, "delete-delay", delay);
	benc_end(&b);
	benc_finish(&b, &len);
	return len;
}

static const char *sdp_of(const struct bnode *r, char *buf, size_t sz)
{
	const char *p;
	size_t len;

	if (!bnode_get_str(r, "sdp", &p, &len) || len >= sz)
		return NULL;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

static bool has(const char *sdp, const char *s)
{
	return sdp && strstr(sdp, s) != NULL;
}

static const char *reason(const struct bnode *r)
{
	static char buf[300];
	const char *p;
	size_t len;

	if (!r || !bnode_get_str(r, "error-reason", &p, &len) ||
	    len >= sizeof(buf))
		return "";
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

/* m=audio port of <sdp>, or 0. */
static unsigned mport(const char *sdp)
{
	const char *m = sdp ? strstr(sdp, "m=audio ") : NULL;

	return m ? (unsigned)atoi(m + 8) : 0;
}

static int test_ng_offer_answer(void)
{
	struct calls *c = mk_calls();
	const struct bnode *r;
	struct ngcmd nc;
	char sdp[4096], line[128];
	struct calls_ctr ctr;
	unsigned pb, pa;
	int err = 0;

	TEST_TRUE(c != NULL);
	ngcmd_init(&nc, NULL, NULL);
	ngcmd_set_calls(&nc, c);

	r = ng(&nc, req, mkreq("offer", "call1", "ta", NULL, sdp_a, false,
			       -1));
	TEST_TRUE(r && bnode_str_eq(bnode_get(r, "result"), "ok"));
	TEST_TRUE(sdp_of(r, sdp, sizeof(sdp)) != NULL);
	TEST_TRUE(has(sdp, "c=IN IP4 203.0.113.5\r\n"));
	TEST_TRUE(has(sdp, "o=alice 2890844526 2890844526 IN IP4 "
		      "203.0.113.5\r\n"));
	TEST_TRUE(!has(sdp, "192.0.2.10"));
	TEST_TRUE(!has(sdp, "candidate") && !has(sdp, "ice-"));
	pb = mport(sdp);
	TEST_TRUE(pb >= 41100 && pb <= 41138 && !(pb & 1));
	snprintf(line, sizeof(line), "a=rtcp:%u\r\n", pb + 1);
	TEST_TRUE(has(sdp, line));
	TEST_TRUE(has(sdp, "a=rtpmap:0 PCMU/8000\r\n"));

	/* the same offer again (re-INVITE): same port */
	r = ng(&nc, req, mkreq("offer", "call1", "ta", NULL, sdp_a, false,
			       -1));
	TEST_TRUE(r && bnode_str_eq(bnode_get(r, "result"), "ok"));
	TEST_EQ(pb, mport(sdp_of(r, sdp, sizeof(sdp))));

	r = ng(&nc, req, mkreq("answer", "call1", "ta", "tb", sdp_b_pcma,
			       false, -1));
	TEST_TRUE(r != NULL);
	TEST_STREQ("", reason(r));
	TEST_TRUE(sdp_of(r, sdp, sizeof(sdp)) != NULL);
	pa = mport(sdp);
	TEST_TRUE(pa != pb && pa >= 41100 && pa <= 41138);
	TEST_TRUE(has(sdp, "c=IN IP4 203.0.113.5\r\n"));
	TEST_TRUE(has(sdp, "IN IP4 203.0.113.5\r\n"));
	TEST_TRUE(!has(sdp, "198.51.100.7"));
	/* no common codec, G.711 pair: the offerer gets its PCMU back and
	 * its own telephone-event number */
	snprintf(line, sizeof(line), "m=audio %u RTP/AVP 0 101\r\n", pa);
	TEST_TRUE(has(sdp, line));
	calls_counters(c, &ctr);
	TEST_EQ(1, ctr.transcoding);

	/* query: both tags, rtpengine's shape */
	r = ng(&nc, req, mkreq("query", "call1", NULL, NULL, NULL, false,
			       -1));
	TEST_TRUE(r && bnode_str_eq(bnode_get(r, "result"), "ok"));
	TEST_TRUE(bnode_get(bnode_get(r, "tags"), "ta") != NULL);
	TEST_TRUE(bnode_get(bnode_get(r, "tags"), "tb") != NULL);
	TEST_TRUE(bnode_get(bnode_get(r, "totals"), "RTP") != NULL);

	r = ng(&nc, req, mkreq("list", NULL, NULL, NULL, NULL, false, -1));
	TEST_TRUE(r && bnode_get(r, "calls") &&
		  bnode_list_has(bnode_get(r, "calls"), "call1"));

	r = ng(&nc, req, mkreq("delete", "call1", "ta", NULL, NULL, false,
			       0));
	TEST_TRUE(r && bnode_str_eq(bnode_get(r, "result"), "ok"));
	r = ng(&nc, req, mkreq("list", NULL, NULL, NULL, NULL, false, -1));
	TEST_TRUE(r && !bnode_list_has(bnode_get(r, "calls"), "call1"));
	r = ng(&nc, req, mkreq("query", "call1", NULL, NULL, NULL, false,
			       -1));
	TEST_STREQ("Unknown call-id", reason(r));
 out:
	calls_fini(c);
	return err;
}

static int test_ng_transcode_offer(void)
{
	struct calls *c = mk_calls();
	const struct bnode *r;
	struct ngcmd nc;
	char sdp[4096];
	int err = 0;

	TEST_TRUE(c != NULL);
	ngcmd_init(&nc, NULL, NULL);
	ngcmd_set_calls(&nc, c);
	r = ng(&nc, req, mkreq("offer", "tc", "ta", NULL, sdp_a, true, -1));
	TEST_TRUE(sdp_of(r, sdp, sizeof(sdp)) != NULL);
	TEST_TRUE(has(sdp, "a=rtpmap:8 PCMA/8000\r\n"));
	TEST_TRUE(has(sdp, "a=rtpmap:0 PCMU/8000\r\n"));
 out:
	calls_fini(c);
	return err;
}

static int test_ng_errors(void)
{
	struct calls *c = mk_calls();
	const struct bnode *r;
	struct calls_ctr ctr;
	struct ngcmd nc;
	char id[32];
	unsigned i;
	int err = 0;

	TEST_TRUE(c != NULL);
	ngcmd_init(&nc, NULL, NULL);
	ngcmd_set_calls(&nc, c);

	r = ng(&nc, req, mkreq("answer", "nope", "ta", "tb", sdp_b_pcma,
			       false, -1));
	TEST_STREQ("Unknown call-id", reason(r));
	/* as rtpengine: ok with a warning (error only with "fatal") */
	r = ng(&nc, req, mkreq("delete", "nope", "ta", NULL, NULL, false,
			       -1));
	TEST_TRUE(r && bnode_str_eq(bnode_get(r, "result"), "ok"));
	TEST_TRUE(bnode_get(r, "warning") != NULL);
	r = ng(&nc, req, mkreq("offer", NULL, "ta", NULL, sdp_a, false, -1));
	TEST_STREQ("No call-id in message", reason(r));
	r = ng(&nc, req, mkreq("offer", "x", "ta", NULL, NULL, false, -1));
	TEST_STREQ("No SDP body in message", reason(r));
	r = ng(&nc, req, mkreq("offer", "x", "ta", NULL, "v=0\r\nbogus\r\n",
			       false, -1));
	TEST_TRUE(strstr(reason(r), "Failed to parse SDP: line 2") != NULL);

	/* ten calls fit, the eleventh is refused */
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "c%u", i);
		r = ng(&nc, req, mkreq("offer", id, "ta", NULL, sdp_a, false,
				       -1));
		TEST_STREQ("", reason(r));
	}
	r = ng(&nc, req, mkreq("offer", "c10", "ta", NULL, sdp_a, false,
			       -1));
	TEST_STREQ("Ran out of ports", reason(r));

	/* delete-delay 30 (the default) keeps them; 0 frees at once */
	r = ng(&nc, req, mkreq("delete", "c0", "ta", NULL, NULL, false, -1));
	TEST_TRUE(r && bnode_str_eq(bnode_get(r, "result"), "ok"));
	TEST_TRUE(calls_find(c, "c0", 2) != NULL);
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "c%u", i);
		r = ng(&nc, req, mkreq("delete", id, "ta", NULL, NULL, false,
				       0));
		TEST_STREQ("", reason(r));
	}
	calls_counters(c, &ctr);
	TEST_EQ(20, ctr.ports_free);
 out:
	calls_fini(c);
	return err;
}

/* P4: 10 000 offer + delete cycles give every port back. */
static int test_ng_cycles(void)
{
	struct calls *c = mk_calls();
	const struct bnode *r;
	struct calls_ctr ctr;
	struct ngcmd nc;
	char id[32];
	unsigned i;
	int err = 0;

	TEST_TRUE(c != NULL);
	ngcmd_init(&nc, NULL, NULL);
	ngcmd_set_calls(&nc, c);
	for (i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "cycle-%u", i);
		r = ng(&nc, req, mkreq("offer", id, "ta", NULL, sdp_a, false,
				       -1));
		TEST_STREQ("", reason(r));
		r = ng(&nc, req, mkreq("delete", id, "ta", NULL, NULL, false,
				       0));
		TEST_STREQ("", reason(r));
	}
	calls_counters(c, &ctr);
	TEST_EQ(0, ctr.active);
	TEST_EQ(20, ctr.ports_free);
	TEST_EQ(10000, ctr.created);
 out:
	calls_fini(c);
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_ng_offer_answer),
	HARNESS_TEST(test_ng_transcode_offer),
	HARNESS_TEST(test_ng_errors),
	HARNESS_TEST(test_ng_cycles),
};

HARNESS_MAIN(tests)
