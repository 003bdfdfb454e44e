/* tests/unit/mediad/test_sdes.c  a=crypto parser and printer, SRTP sessions, SDES offer/answer over NG */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>

#include "harness.h"
#include "arena.h"
#include "bencode.h"
#include "call.h"
#include "ngcmd.h"
#include "sdes.h"

/* RFC 4568 section 8.1's example key: 30 bytes, 40 characters */
#define KEY_A "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
#define KEY_B "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

static int test_sdes_parse_ok(void)
{
	struct sdes_key k;
	char why[96];
	int err = 0;

	TEST_ERR(sdes_parse(&k, 1, "AES_CM_128_HMAC_SHA1_80",
			    "inline:" KEY_A, why, sizeof(why)));
	TEST_EQ(1, k.tag);
	TEST_EQ(SDES_AES_CM_128_HMAC_SHA1_80, k.suite);
	TEST_EQ('=', k.keysalt[0]);   /* "PS1u" -> 0x3d 0x2d 0x6e */
	TEST_EQ(0x2d, k.keysalt[1]);
	TEST_EQ(0x6e, k.keysalt[2]);

	/* lifetime in both spellings: checked, ignored */
	TEST_ERR(sdes_parse(&k, 7, "AES_CM_128_HMAC_SHA1_32",
			    "inline:" KEY_A "|2^20", NULL, 0));
	TEST_EQ(SDES_AES_CM_128_HMAC_SHA1_32, k.suite);
	TEST_EQ(7, k.tag);
	TEST_ERR(sdes_parse(&k, 2, "AES_CM_128_HMAC_SHA1_80",
			    "inline:" KEY_A "|1048576", NULL, 0));
	/* window size hint: ignored */
	TEST_ERR(sdes_parse(&k, 2, "AES_CM_128_HMAC_SHA1_80",
			    "inline:" KEY_A " WSH=64", NULL, 0));
 out:
	return err;
}

static int test_sdes_parse_refused(void)
{
	static const struct {
		const char *suite, *params;
		int err;
	} v[] = {
		/* not done: skip the line */
		{ "AES_256_CM_HMAC_SHA1_80", "inline:" KEY_A, ENOTSUP },
		{ "F8_128_HMAC_SHA1_80", "inline:" KEY_A, ENOTSUP },
		{ "aes_cm_128_hmac_sha1_80", "inline:" KEY_A, ENOTSUP },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A "|2^20|1:4",
		  ENOTSUP },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A "|1:4", ENOTSUP },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A "|2^20|1:32;"
		  "inline:" KEY_B "|2^20|2:32", ENOTSUP },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A " KDR=1",
		  ENOTSUP },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A
		  " UNENCRYPTED_SRTP", ENOTSUP },
		/* malformed: reject the SDP */
		{ "AES_CM_128_HMAC_SHA1_80", "", EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80", "KEY:" KEY_A, EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:", EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80",
		  "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB", EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80",
		  "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRAAAA",
		  EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80",
		  "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaV==", EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80",
		  "inline:PS1uQCVeeCFCanVmcjkpPywjNWhc-D0mXXtxaVBR", EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A "|", EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A "|2^", EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A "|x", EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A "|20|30",
		  EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A "|1:0", EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A "|1:129",
		  EINVAL },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" KEY_A "|1:4|20",
		  EINVAL },
	};
	struct sdes_key k;
	char why[96];
	unsigned i;
	int err = 0;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		why[0] = '\0';
		if (sdes_parse(&k, 1, v[i].suite, v[i].params, why,
			       sizeof(why)) != v[i].err) {
			TEST_FAIL_AT("case %u '%s': want %d", i, v[i].params,
				     v[i].err);
			err = EINVAL;
			goto out;
		}
		TEST_TRUE(why[0] != '\0');
	}
 out:
	return err;
}

static int test_sdes_print(void)
{
	struct sdes_key k, k2;
	char buf[SDES_PARAMS_MAX];
	int err = 0;

	TEST_ERR(sdes_parse(&k, 3, "AES_CM_128_HMAC_SHA1_80",
			    "inline:" KEY_B, NULL, 0));
	TEST_ERR(sdes_params_print(&k, buf, sizeof(buf)));
	TEST_STREQ("inline:" KEY_B, buf);
	TEST_EQ(ENOSPC, sdes_params_print(&k, buf, 47));

	/* fresh keys: random, and they go round the printer and parser */
	TEST_ERR(sdes_keygen(&k, SDES_AES_CM_128_HMAC_SHA1_32, 2));
	TEST_ERR(sdes_keygen(&k2, SDES_AES_CM_128_HMAC_SHA1_32, 2));
	TEST_TRUE(!sdes_key_eq(&k, &k2));
	TEST_ERR(sdes_params_print(&k, buf, sizeof(buf)));
	TEST_ERR(sdes_parse(&k2, 2, sdes_suite_name(k.suite), buf, NULL, 0));
	TEST_TRUE(sdes_key_eq(&k, &k2));
	TEST_EQ(EINVAL, sdes_keygen(&k, SDES_SUITE_NONE, 1));
 out:
	return err;
}

/* A 172-byte PCMU packet, seq <seq>. */
static uint32_t mkrtp(uint8_t *p, uint16_t seq)
{
	unsigned i;

	memset(p, 0, 12);
	p[0] = 0x80;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[8] = 0x12;
	p[11] = 0x34;
	for (i = 12; i < 172; i++)
		p[i] = (uint8_t)i;
	return 172;
}

static int session_pair(enum sdes_suite suite, unsigned tag_len)
{
	struct srtpx *out = NULL, *in = NULL;
	uint8_t pkt[172 + SDES_TAILROOM], ref[172 + SDES_TAILROOM];
	struct sdes_key k;
	uint32_t len;
	int err = 0;

	TEST_ERR(sdes_keygen(&k, suite, 1));
	TEST_ERR(sdes_session_new(&out, &k, false));
	TEST_ERR(sdes_session_new(&in, &k, true));

	len = mkrtp(pkt, 1000);
	mkrtp(ref, 1000);
	TEST_ERR(srtpx_protect(out, pkt, &len, false));
	TEST_EQ(172 + tag_len, len);
	TEST_TRUE(memcmp(pkt + 12, ref + 12, 160) != 0);
	TEST_ERR(srtpx_unprotect(in, pkt, &len, false));
	TEST_EQ(172, len);
	TEST_TRUE(!memcmp(pkt, ref, 172));

	/* one bit flipped: authentication fails */
	len = mkrtp(pkt, 1001);
	TEST_ERR(srtpx_protect(out, pkt, &len, false));
	pkt[40] ^= 1;
	TEST_EQ(EBADMSG, srtpx_unprotect(in, pkt, &len, false));

	/* the same packet twice: the second is a replay */
	len = mkrtp(pkt, 1002);
	TEST_ERR(srtpx_protect(out, pkt, &len, false));
	memcpy(ref, pkt, len);
	{
		uint32_t l2 = len;

		TEST_ERR(srtpx_unprotect(in, pkt, &len, false));
		TEST_EQ(EALREADY, srtpx_unprotect(in, ref, &l2, false));
	}

	/* SRTCP: index and 80-bit tag whatever the suite */
	{
		uint8_t rtcp[28 + SDES_TAILROOM] = {
			0x80, 200, 0, 6, 0, 0, 0x12, 0x34,
		};

		len = 28;
		TEST_ERR(srtpx_protect(out, rtcp, &len, true));
		TEST_EQ(28 + 4 + 10, len);
		TEST_ERR(srtpx_unprotect(in, rtcp, &len, true));
		TEST_EQ(28, len);
	}
 out:
	sdes_session_free(out);
	sdes_session_free(in);
	return err;
}

static int test_sdes_sessions(void)
{
	int err = 0;

	TEST_ERR(sdes_global_init());
	TEST_ERR(session_pair(SDES_AES_CM_128_HMAC_SHA1_80, 10));
	TEST_ERR(session_pair(SDES_AES_CM_128_HMAC_SHA1_32, 4));
 out:
	return err;
}

/* --- NG offer/answer with SDES ------------------------------------ */

static uint8_t arena_mem[1 << 20];
static uint8_t dec_mem[1 << 18];
static char req[16384];
static char out[65536];
static size_t outlen;

static const char sdp_savp[] =
	"v=0\r\n"
	"o=alice 1 1 IN IP4 192.0.2.10\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.10\r\n"
	"t=0 0\r\n"
	"m=audio 49170 RTP/SAVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:"
	"PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRPS1uQCVeeCFCanVmcjkpPywj\r\n"
	"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY_A "|2^20\r\n"
	"a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "\r\n";

static const char sdp_avp[] =
	"v=0\r\n"
	"o=bob 1 1 IN IP4 198.51.100.7\r\n"
	"s=-\r\n"
	"c=IN IP4 198.51.100.7\r\n"
	"t=0 0\r\n"
	"m=audio 5004 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n";

static struct calls *mk_calls(void)
{
	static struct sockaddr_in sin;
	struct calls *c = NULL;
	struct calls_prm prm = {
		.port_min = 41500, .port_max = 41539,
		.nworkers = 1,
		.media_ip = (const struct sockaddr *)&sin,
		.media_len = sizeof(sin),
		.advertised = "203.0.113.5",
		.delete_delay = 0,
	};

	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (calls_init(&c, &prm))
		return NULL;
	return c;
}

static const struct bnode *ng(struct ngcmd *nc, size_t len)
{
	struct arena a;
	struct benc b;
	struct bnode *root = NULL;

	arena_init(&a, arena_mem, sizeof(arena_mem));
	benc_init(&b, out, sizeof(out));
	ngcmd_handle(nc, &a, req, len, &b);
	if (benc_finish(&b, &outlen))
		return NULL;
	arena_init(&a, dec_mem, sizeof(dec_mem));
	if (bencode_decode(&a, out, outlen, &root, NULL, NULL))
		return NULL;
	return root;
}

/* <cmd> with <sdp>, transport-protocol <proto> (NULL: none) and flags
 * <flag> (NULL: none). */
static size_t mkreq(const char *cmd, const char *sdp, const char *proto,
		    const char *flag)
{
	struct benc b;
	size_t len = 0;

	benc_init(&b, req, sizeof(req));
	benc_dict(&b);
	benc_kstr(&b, "command", cmd);
	benc_kstr(&b, "call-id", "srtp1");
	benc_kstr(&b, "from-tag", "ta");
	if (!strcmp(cmd, "answer"))
		benc_kstr(&b, "to-tag", "tb");
	if (sdp)
		benc_kstr(&b, "sdp", sdp);
	if (proto)
		benc_kstr(&b, "transport-protocol", proto);
	if (flag) {
		benc_klist(&b, "flags");
		benc_str(&b, flag);
		benc_end(&b);
	}
	benc_end(&b);
	benc_finish(&b, &len);
	return len;
}

static const char *sdp_of(const struct bnode *r, char *buf, size_t sz)
{
	const char *p;
	size_t len;

	if (!r || !bnode_get_str(r, "sdp", &p, &len) || len >= sz)
		return NULL;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

static const char *reason(const struct bnode *r)
{
	static char buf[300];
	const char *p;
	size_t len;

	if (!r)
		return "(no reply)";
	if (!bnode_get_str(r, "error-reason", &p, &len) ||
	    len >= sizeof(buf))
		return "";
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

static unsigned count(const char *s, const char *what)
{
	unsigned n = 0;

	while (s && (s = strstr(s, what))) {
		++n;
		s += strlen(what);
	}
	return n;
}

/* Our key from the a=crypto line with <tag> and <suite> in <sdp>. */
static int key_of(const char *sdp, unsigned tag, const char *suite,
		  struct sdes_key *k)
{
	char line[96], params[64];
	const char *p;

	snprintf(line, sizeof(line), "a=crypto:%u %s ", tag, suite);
	p = strstr(sdp, line);
	if (!p)
		return ENOENT;
	p += strlen(line);
	snprintf(params, sizeof(params), "%.*s", (int)strcspn(p, "\r\n"),
		 p);
	return sdes_parse(k, tag, suite, params, NULL, 0);
}

static int test_ng_savp_to_avp(void)
{
	struct calls *c = mk_calls();
	const struct bnode *r;
	struct call *call;
	struct ngcmd nc;
	struct sdes_key k;
	char sdp[4096];
	int err = 0;

	TEST_TRUE(c != NULL);
	ngcmd_init(&nc, NULL, NULL);
	ngcmd_set_calls(&nc, c);

	r = ng(&nc, mkreq("offer", sdp_savp, "RTP/AVP", NULL));
	TEST_STREQ("", reason(r));
	TEST_TRUE(sdp_of(r, sdp, sizeof(sdp)) != NULL);
	TEST_TRUE(strstr(sdp, " RTP/AVP 0\r\n") != NULL);
	TEST_EQ(0, count(sdp, "a=crypto"));
	call = calls_find(c, "srtp1", 5);
	TEST_TRUE(call != NULL);
	/* the first usable line (tag 2, _32) is A's key */
	TEST_TRUE(call->leg[0].srtp && call->leg[0].have_peer);
	TEST_EQ(2, call->leg[0].peer.tag);
	TEST_EQ(SDES_AES_CM_128_HMAC_SHA1_32, call->leg[0].peer.suite);
	TEST_TRUE(call_stream(c, call, 0)->cfg.srtp_in != NULL);
	TEST_TRUE(call_stream(c, call, 0)->cfg.srtp_out != NULL);
	TEST_TRUE(!call_stream(c, call, 1)->cfg.srtp);

	r = ng(&nc, mkreq("answer", sdp_avp, NULL, NULL));
	TEST_STREQ("", reason(r));
	TEST_TRUE(sdp_of(r, sdp, sizeof(sdp)) != NULL);
	TEST_TRUE(strstr(sdp, " RTP/SAVP 0\r\n") != NULL);
	TEST_EQ(1, count(sdp, "a=crypto"));
	TEST_ERR(key_of(sdp, 2, "AES_CM_128_HMAC_SHA1_32", &k));
	TEST_TRUE(sdes_key_eq(&k, &call->leg[0].out_key));
	TEST_TRUE(!sdes_key_eq(&k, &call->leg[0].peer));

	/* a re-offer with the same key keeps the sessions */
	{
		struct srtpx *in = call_stream(c, call, 0)->cfg.srtp_in;

		r = ng(&nc, mkreq("offer", sdp_savp, "RTP/AVP", NULL));
		TEST_STREQ("", reason(r));
		TEST_TRUE(call_stream(c, call, 0)->cfg.srtp_in == in);
	}
 out:
	calls_fini(c);
	return err;
}

static int test_ng_avp_to_savp(void)
{
	struct calls *c = mk_calls();
	const struct bnode *r;
	struct call *call;
	struct ngcmd nc;
	struct sdes_key k80, k32;
	char sdp[4096], ans[1024];
	int err = 0;

	TEST_TRUE(c != NULL);
	ngcmd_init(&nc, NULL, NULL);
	ngcmd_set_calls(&nc, c);

	r = ng(&nc, mkreq("offer", sdp_avp, "RTP/SAVP", NULL));
	TEST_STREQ("", reason(r));
	TEST_TRUE(sdp_of(r, sdp, sizeof(sdp)) != NULL);
	TEST_TRUE(strstr(sdp, " RTP/SAVP 0\r\n") != NULL);
	TEST_EQ(2, count(sdp, "a=crypto"));
	TEST_ERR(key_of(sdp, 1, "AES_CM_128_HMAC_SHA1_80", &k80));
	TEST_ERR(key_of(sdp, 2, "AES_CM_128_HMAC_SHA1_32", &k32));
	TEST_TRUE(strstr(sdp, "_80") < strstr(sdp, "_32"));
	call = calls_find(c, "srtp1", 5);
	TEST_TRUE(call != NULL);
	/* B's leg: SRTP, nothing relayed until the answer */
	TEST_TRUE(call_stream(c, call, 1)->cfg.srtp);
	TEST_TRUE(call_stream(c, call, 1)->cfg.srtp_in == NULL);

	/* B answers with the _32 line and its own key */
	snprintf(ans, sizeof(ans), "v=0\r\no=bob 1 1 IN IP4 198.51.100.7\r\n"
		 "s=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
		 "m=audio 5004 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
		 "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:%s\r\n", KEY_A);
	r = ng(&nc, mkreq("answer", ans, NULL, NULL));
	TEST_STREQ("", reason(r));
	TEST_TRUE(sdp_of(r, sdp, sizeof(sdp)) != NULL);
	TEST_TRUE(strstr(sdp, " RTP/AVP 0\r\n") != NULL);
	TEST_EQ(0, count(sdp, "a=crypto"));
	TEST_TRUE(sdes_key_eq(&k32, &call->leg[1].out_key));
	TEST_TRUE(call_stream(c, call, 1)->cfg.srtp_in != NULL);
	TEST_TRUE(call_stream(c, call, 1)->cfg.srtp_out != NULL);
	TEST_TRUE(!call_stream(c, call, 0)->cfg.srtp);

	/* an answer naming a tag we never offered */
	snprintf(ans, sizeof(ans), "v=0\r\no=bob 1 2 IN IP4 198.51.100.7\r\n"
		 "s=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
		 "m=audio 5004 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
		 "a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n", KEY_A);
	/* a re-offer offers the agreed key again */
	r = ng(&nc, mkreq("offer", sdp_avp, "RTP/SAVP", NULL));
	TEST_STREQ("", reason(r));
	TEST_EQ(2, count(sdp_of(r, sdp, sizeof(sdp)), "a=crypto"));
	TEST_ERR(key_of(sdp, 2, "AES_CM_128_HMAC_SHA1_32", &k80));
	TEST_TRUE(sdes_key_eq(&k80, &k32));
	r = ng(&nc, mkreq("offer", sdp_avp, "RTP/SAVP",
			  "SDES-no-AES_CM_128_HMAC_SHA1_32"));
	TEST_STREQ("", reason(r));
	TEST_EQ(1, count(sdp_of(r, sdp, sizeof(sdp)), "a=crypto"));
	TEST_ERR(key_of(sdp, 1, "AES_CM_128_HMAC_SHA1_80", &k32));
	r = ng(&nc, mkreq("answer", ans, NULL, NULL));
	TEST_TRUE(strstr(reason(r), "tag 9") != NULL);
 out:
	calls_fini(c);
	return err;
}

static int test_ng_sdes_errors(void)
{
	static const char bad[] =
		"v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
		"c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/SAVP 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:tooshort\r\n";
	static const char mki[] =
		"v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
		"c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/SAVP 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A
		"|2^31|1:1\r\n";
	struct calls *c = mk_calls();
	struct calls_ctr ctr;
	const struct bnode *r;
	struct ngcmd nc;
	int err = 0;

	TEST_TRUE(c != NULL);
	ngcmd_init(&nc, NULL, NULL);
	ngcmd_set_calls(&nc, c);

	r = ng(&nc, mkreq("offer", bad, NULL, NULL));
	TEST_TRUE(strstr(reason(r), "Bad a=crypto tag 1") != NULL);
	r = ng(&nc, mkreq("offer", mki, NULL, NULL));
	TEST_TRUE(strstr(reason(r), "No usable a=crypto") != NULL);
	r = ng(&nc, mkreq("offer", sdp_avp, "TCP/RTP/AVP", NULL));
	TEST_STREQ("Unsupported value 'TCP/RTP/AVP' for key "
		   "'transport-protocol'", reason(r));
	/* these calls have no DTLS identity (test_webrtc.c has one) */
	r = ng(&nc, mkreq("offer", sdp_avp, "UDP/TLS/RTP/SAVP", NULL));
	TEST_STREQ("DTLS-SRTP is not available", reason(r));
	r = ng(&nc, mkreq("offer", sdp_avp, "RTP/SAVP", "SDES-off"));
	TEST_TRUE(strstr(reason(r), "SDES-off") != NULL);
	r = ng(&nc, mkreq("offer", sdp_avp, "RTP/SAVP",
			  "SDES-only-AES_256_CM_HMAC_SHA1_80"));
	TEST_STREQ("", reason(r));   /* an unknown suite: all of ours */
	r = ng(&nc, mkreq("answer", sdp_avp, "RTP/SAVP", NULL));
	TEST_TRUE(strstr(reason(r), "without a=crypto") != NULL);
	calls_counters(c, &ctr);
	TEST_EQ(1, ctr.active);      /* failed fresh offers left nothing */
 out:
	calls_fini(c);
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_sdes_parse_ok),
	HARNESS_TEST(test_sdes_parse_refused),
	HARNESS_TEST(test_sdes_print),
	HARNESS_TEST(test_sdes_sessions),
	HARNESS_TEST(test_ng_savp_to_avp),
	HARNESS_TEST(test_ng_avp_to_savp),
	HARNESS_TEST(test_ng_sdes_errors),
};

HARNESS_MAIN(tests)
