/* tests/unit/mediad/test_webrtc.c  WebRTC offer/answer conversions over NG: golden SDP, re-offers, errors */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>

#include "harness.h"
#include "arena.h"
#include "bencode.h"
#include "call.h"
#include "dtls.h"
#include "ngcmd.h"

/*
 * The SDP mediad returns is compared with a golden text in which
 * @FP@, @UFRAG@ and @PWD@ stand for what is random per run: our
 * certificate's fingerprint and the ICE credentials of the leg.
 */

static uint8_t arena_mem[1 << 20];
static uint8_t dec_mem[1 << 18];
static char req[32768];
static char out[65536];
static size_t outlen;
static struct dtls *dtls;

/* Chrome 120's audio offer, one m=, host candidates only */
static const char chrome_offer[] =
	"v=0\r\n"
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0\r\n"
	"a=extmap-allow-mixed\r\n"
	"a=msid-semantic: WMS 5dbe0b49\r\n"
	"m=audio 50000 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
	"c=IN IP4 192.0.2.33\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=candidate:2442328011 1 udp 2122260223 192.0.2.33 50000 typ host "
	"generation 0 network-id 1\r\n"
	"a=candidate:3621337307 1 tcp 1518280447 192.0.2.33 9 typ host "
	"tcptype active generation 0 network-id 1\r\n"
	"a=ice-ufrag:Qx7f\r\n"
	"a=ice-pwd:b1RowSeRpAsSwOrD0123456\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:"
	"99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
	"a=setup:actpass\r\n"
	"a=mid:0\r\n"
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	"a=sendrecv\r\n"
	"a=msid:5dbe0b49 2a1b1c4e\r\n"
	"a=rtcp-mux\r\n"
	"a=rtpmap:111 opus/48000/2\r\n"
	"a=rtcp-fb:111 transport-cc\r\n"
	"a=fmtp:111 minptime=10;useinbandfec=1\r\n"
	"a=rtpmap:63 red/48000/2\r\n"
	"a=fmtp:63 111/111\r\n"
	"a=rtpmap:9 G722/8000\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:13 CN/8000\r\n"
	"a=rtpmap:110 telephone-event/48000\r\n"
	"a=rtpmap:126 telephone-event/8000\r\n"
	"a=ssrc:3735928559 cname:7pR0bWq1yF3xQm2K\r\n"
	"a=ssrc:3735928559 msid:5dbe0b49 2a1b1c4e\r\n";

static const char phone[] =
	"v=0\r\n"
	"o=bob 1 1 IN IP4 198.51.100.7\r\n"
	"s=-\r\n"
	"c=IN IP4 198.51.100.7\r\n"
	"t=0 0\r\n"
	"m=audio 5004 RTP/AVP 0 101\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-16\r\n";

/* Chrome's answer to mediad's offer */
static const char chrome_answer[] =
	"v=0\r\n"
	"o=- 7216193017389925716 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0\r\n"
	"a=msid-semantic: WMS\r\n"
	"m=audio 50002 UDP/TLS/RTP/SAVPF 0 101\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=candidate:1 1 udp 2122260223 192.0.2.33 50002 typ host\r\n"
	"a=ice-ufrag:Zz9y\r\n"
	"a=ice-pwd:AnsWeRpAsSwOrD012345678\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:"
	"99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
	"a=setup:active\r\n"
	"a=mid:0\r\n"
	"a=sendrecv\r\n"
	"a=msid:- 7a0b1c2d\r\n"
	"a=rtcp-mux\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=ssrc:12345678 cname:answererCname1234\r\n";

static struct calls *mk_calls(void)
{
	static struct sockaddr_in sin;
	struct calls *c = NULL;
	struct calls_prm prm = {
		.port_min = 41300, .port_max = 41339,
		.nworkers = 1,
		.media_ip = (const struct sockaddr *)&sin,
		.media_len = sizeof(sin),
		.advertised = "203.0.113.5",
		.delete_delay = 0,
		.dtls = dtls,
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

/* <cmd> with <sdp> and up to four "key=value" settings in <kv> (NULL
 * ends; "rtcp-mux" and "flags" become one-element lists). */
static size_t mkreq(const char *cmd, const char *ftag, const char *ttag,
		    const char *sdp, const char *const *kv)
{
	struct benc b;
	size_t len = 0;
	unsigned i;

	benc_init(&b, req, sizeof(req));
	benc_dict(&b);
	benc_kstr(&b, "command", cmd);
	benc_kstr(&b, "call-id", "webrtc1");
	benc_kstr(&b, "from-tag", ftag);
	if (ttag)
		benc_kstr(&b, "to-tag", ttag);
	if (sdp)
		benc_kstr(&b, "sdp", sdp);
	for (i = 0; kv && kv[i]; i += 2) {
		if (!strcmp(kv[i], "rtcp-mux") || !strcmp(kv[i], "flags")) {
			benc_klist(&b, kv[i]);
			benc_str(&b, kv[i + 1]);
			benc_end(&b);
		}
		else
			benc_kstr(&b, kv[i], kv[i + 1]);
	}
	benc_end(&b);
	benc_finish(&b, &len);
	return len;
}

static const char *sdp_of(const struct bnode *r)
{
	static char buf[16384];
	const char *p;
	size_t len;

	if (!r || !bnode_get_str(r, "sdp", &p, &len) || len >= sizeof(buf))
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
	if (!bnode_get_str(r, "error-reason", &p, &len))
		return "";
	snprintf(buf, sizeof(buf), "%.*s", (int)len, p);
	return buf;
}

/* The value of "a=<name>:" in <sdp>, into <buf>. */
static const char *attr_of(const char *sdp, const char *name, char *buf,
			   size_t sz)
{
	char key[64];
	const char *p;
	size_t l;

	snprintf(key, sizeof(key), "a=%s:", name);
	p = sdp ? strstr(sdp, key) : NULL;
	if (!p)
		return NULL;
	p += strlen(key);
	l = strcspn(p, "\r\n");
	if (l >= sz)
		return NULL;
	memcpy(buf, p, l);
	buf[l] = '\0';
	return buf;
}

/* <golden> with @FP@, @UFRAG@, @PWD@ filled from <got> (ours) equals
 * <got>. */
static int golden(const char *golden_txt, const char *got)
{
	static char want[16384];
	char uf[64] = "", pw[64] = "";
	const char *g = golden_txt;
	size_t n = 0;

	if (!got)
		return EINVAL;
	attr_of(got, "ice-ufrag", uf, sizeof(uf));
	attr_of(got, "ice-pwd", pw, sizeof(pw));
	while (*g && n < sizeof(want) - 128) {
		const char *rep = NULL;
		size_t skip = 0;

		if (!strncmp(g, "@FP@", 4)) {
			rep = dtls_fingerprint(dtls);
			skip = 4;
		}
		else if (!strncmp(g, "@UFRAG@", 7)) {
			rep = uf;
			skip = 7;
		}
		else if (!strncmp(g, "@PWD@", 5)) {
			rep = pw;
			skip = 5;
		}
		if (rep) {
			n += (size_t)snprintf(want + n, sizeof(want) - n, "%s",
					      rep);
			g += skip;
		}
		else
			want[n++] = *g++;
	}
	want[n] = '\0';
	if (strcmp(want, got)) {
		fprintf(stderr, "--- want\n%s--- got\n%s---\n", want, got);
		return EINVAL;
	}
	return 0;
}

static const char golden_w2p_offer[] =
	"v=0\r\n"
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"c=IN IP4 203.0.113.5\r\n"
	"t=0 0\r\n"
	"a=extmap-allow-mixed\r\n"
	"a=msid-semantic: WMS 5dbe0b49\r\n"
	"m=audio 41302 RTP/AVP 111 63 9 0 8 13 110 126\r\n"
	"c=IN IP4 203.0.113.5\r\n"
	"a=mid:0\r\n"
	"a=rtpmap:111 opus/48000/2\r\n"
	"a=fmtp:111 minptime=10;useinbandfec=1\r\n"
	"a=rtcp-fb:111 transport-cc\r\n"
	"a=rtpmap:63 red/48000/2\r\n"
	"a=fmtp:63 111/111\r\n"
	"a=rtpmap:9 G722/8000\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:13 CN/8000\r\n"
	"a=rtpmap:110 telephone-event/48000\r\n"
	"a=rtpmap:126 telephone-event/8000\r\n"
	"a=sendrecv\r\n"
	"a=rtcp:41303\r\n"
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	"a=msid:5dbe0b49 2a1b1c4e\r\n"
	"a=ssrc:3735928559 cname:7pR0bWq1yF3xQm2K\r\n"
	"a=ssrc:3735928559 msid:5dbe0b49 2a1b1c4e\r\n";
static const char golden_w2p_answer[] =
	"v=0\r\n"
	"o=bob 1 1 IN IP4 198.51.100.7\r\n"
	"s=-\r\n"
	"c=IN IP4 203.0.113.5\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0\r\n"
	"a=ice-lite\r\n"
	"m=audio 41300 UDP/TLS/RTP/SAVPF 0 126\r\n"
	"a=mid:0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:126 telephone-event/8000\r\n"
	"a=rtcp-mux\r\n"
	"a=ice-ufrag:@UFRAG@\r\n"
	"a=ice-pwd:@PWD@\r\n"
	"a=candidate:1 1 UDP 2130706431 203.0.113.5 41300 typ host\r\n"
	"a=fingerprint:sha-256 @FP@\r\n"
	"a=setup:passive\r\n";
static const char golden_p2w_offer[] =
	"v=0\r\n"
	"o=bob 1 1 IN IP4 198.51.100.7\r\n"
	"s=-\r\n"
	"c=IN IP4 203.0.113.5\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0\r\n"
	"a=ice-lite\r\n"
	"m=audio 41302 UDP/TLS/RTP/SAVPF 0 101\r\n"
	"a=mid:0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-16\r\n"
	"a=rtcp-mux\r\n"
	"a=ice-ufrag:@UFRAG@\r\n"
	"a=ice-pwd:@PWD@\r\n"
	"a=candidate:1 1 UDP 2130706431 203.0.113.5 41302 typ host\r\n"
	"a=fingerprint:sha-256 @FP@\r\n"
	"a=setup:actpass\r\n";
static const char golden_p2w_answer[] =
	"v=0\r\n"
	"o=- 7216193017389925716 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"c=IN IP4 203.0.113.5\r\n"
	"t=0 0\r\n"
	"a=msid-semantic: WMS\r\n"
	"m=audio 41300 RTP/AVP 0 101\r\n"
	"c=IN IP4 203.0.113.5\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-16\r\n"
	"a=sendrecv\r\n"
	"a=rtcp:41301\r\n"
	"a=msid:- 7a0b1c2d\r\n"
	"a=ssrc:12345678 cname:answererCname1234\r\n";

/* A browser calls a phone: what rtpengine's users send (sbc (a)). */
static int test_webrtc_to_plain(void)
{
	static const char *const off[] = {
		"transport-protocol", "RTP/AVP", "ICE", "remove",
		"rtcp-mux", "demux", NULL,
	};
	static const char *const ans[] = { "ICE", "force", NULL };
	struct calls *c = mk_calls();
	const struct bnode *r;
	struct ngcmd nc;
	struct call *call;
	char uf[64], pw[64], uf2[64], pw2[64];
	int err = 0;

	TEST_TRUE(c != NULL);
	ngcmd_init(&nc, NULL, NULL);
	ngcmd_set_calls(&nc, c);

	r = ng(&nc, mkreq("offer", "tb", NULL, chrome_offer, off));
	TEST_STREQ("", reason(r));
	TEST_ERR(golden(golden_w2p_offer, sdp_of(r)));
	r = ng(&nc, mkreq("answer", "tb", "tp", phone, ans));
	TEST_STREQ("", reason(r));
	TEST_ERR(golden(golden_w2p_answer, sdp_of(r)));

	call = calls_find(c, "webrtc1", 7);
	TEST_TRUE(call && call->leg[0].dtls && call->leg[0].ice);
	TEST_EQ(SDP_SETUP_PASSIVE, call->leg[0].setup);
	TEST_TRUE(call->leg[0].have_fp && !call->leg[1].dtls);
	TEST_EQ(DTLS_NONE, call->leg[0].dstate);
	TEST_TRUE(call_stream(c, call, 0)->cfg.ice &&
		  call_stream(c, call, 0)->cfg.dtls &&
		  call_stream(c, call, 0)->cfg.srtp &&
		  !call_stream(c, call, 0)->cfg.srtp_in);
	TEST_STREQ("Qx7f", call->leg[0].rufrag);
	TEST_TRUE(!call_stream(c, call, 1)->cfg.rtcp_mux);
	TEST_TRUE(call_stream(c, call, 0)->cfg.rtcp_mux);

	/* re-INVITE: same fingerprint, ufrag and pwd */
	attr_of(sdp_of(r), "ice-ufrag", uf, sizeof(uf));
	attr_of(sdp_of(r), "ice-pwd", pw, sizeof(pw));
	r = ng(&nc, mkreq("offer", "tb", NULL, chrome_offer, off));
	TEST_STREQ("", reason(r));
	r = ng(&nc, mkreq("answer", "tb", "tp", phone, ans));
	TEST_STREQ("", reason(r));
	TEST_STREQ(uf, attr_of(sdp_of(r), "ice-ufrag", uf2, sizeof(uf2)));
	TEST_STREQ(pw, attr_of(sdp_of(r), "ice-pwd", pw2, sizeof(pw2)));
	TEST_ERR(golden(golden_w2p_answer, sdp_of(r)));

	r = ng(&nc, mkreq("delete", "tb", NULL, NULL, NULL));
	TEST_STREQ("", reason(r));
 out:
	calls_fini(c);
	return err;
}

/* A phone calls a browser (sbc (b)); the browser answers active. */
static int test_plain_to_webrtc(void)
{
	static const char *const off[] = {
		"transport-protocol", "UDP/TLS/RTP/SAVPF", "ICE", "force",
		"rtcp-mux", "offer", NULL,
	};
	static const char *const ans[] = { "ICE", "remove", NULL };
	struct calls *c = mk_calls();
	const struct bnode *r;
	struct ngcmd nc;
	struct call *call;
	int err = 0;

	TEST_TRUE(c != NULL);
	ngcmd_init(&nc, NULL, NULL);
	ngcmd_set_calls(&nc, c);

	r = ng(&nc, mkreq("offer", "tp", NULL, phone, off));
	TEST_STREQ("", reason(r));
	TEST_ERR(golden(golden_p2w_offer, sdp_of(r)));
	call = calls_find(c, "webrtc1", 7);
	TEST_TRUE(call && call->leg[1].dtls && call->leg[1].ice);
	TEST_EQ(SDP_SETUP_ACTPASS, call->leg[1].setup);
	TEST_STREQ("", call->leg[1].rufrag);

	r = ng(&nc, mkreq("answer", "tp", "tb", chrome_answer, ans));
	TEST_STREQ("", reason(r));
	TEST_ERR(golden(golden_p2w_answer, sdp_of(r)));
	TEST_EQ(SDP_SETUP_PASSIVE, call->leg[1].setup);
	TEST_STREQ("Zz9y", call->leg[1].rufrag);
	TEST_TRUE(call_stream(c, call, 1)->cfg.rtcp_mux);
	TEST_TRUE(call_stream(c, call, 1)->cfg.send);   /* c=0.0.0.0: ICE */
	TEST_TRUE(call->leg[1].dc == NULL);   /* server: waits for a hello */
 out:
	calls_fini(c);
	return err;
}

static int test_webrtc_errors(void)
{
	static const char *const dtls_off[] = {
		"transport-protocol", "RTP/AVP", "DTLS", "off", NULL,
	};
	static const char *const bad_mux[] = { "rtcp-mux", "sideways", NULL };
	static const char *const bad_ice[] = { "ICE", "force-relay", NULL };
	static const char *const dtls_active[] = { "DTLS", "active", NULL };
	static char nofp[sizeof(chrome_offer)];
	struct calls *c = mk_calls();
	const struct bnode *r;
	struct ngcmd nc;
	char *p, *e;
	int err = 0;

	TEST_TRUE(c != NULL);
	ngcmd_init(&nc, NULL, NULL);
	ngcmd_set_calls(&nc, c);

	r = ng(&nc, mkreq("offer", "tb", NULL, chrome_offer, dtls_off));
	TEST_STREQ("DTLS=off with UDP/TLS media", reason(r));
	r = ng(&nc, mkreq("offer", "tb", NULL, chrome_offer, bad_mux));
	TEST_STREQ("Unsupported value 'sideways' for key 'rtcp-mux'",
		   reason(r));
	r = ng(&nc, mkreq("offer", "tb", NULL, chrome_offer, bad_ice));
	TEST_STREQ("Unsupported value 'force-relay' for key 'ICE'", reason(r));
	r = ng(&nc, mkreq("offer", "tb", NULL, chrome_offer, dtls_active));
	TEST_STREQ("Unsupported value 'active' for key 'DTLS'", reason(r));

	/* UDP/TLS without a fingerprint cannot be keyed */
	memcpy(nofp, chrome_offer, sizeof(nofp));
	p = strstr(nofp, "a=fingerprint:");
	e = strstr(p, "\r\n") + 2;
	memmove(p, e, strlen(e) + 1);
	r = ng(&nc, mkreq("offer", "tb", NULL, nofp, NULL));
	TEST_TRUE(strstr(reason(r), "No usable a=fingerprint") != NULL);
	/* nothing was left behind: a good offer for the same call-id */
	r = ng(&nc, mkreq("offer", "tb", NULL, chrome_offer, NULL));
	TEST_STREQ("", reason(r));
 out:
	calls_fini(c);
	return err;
}

static int setup_dtls(void)
{
	return dtls_init(&dtls);
}

static int test_webrtc_all(void)
{
	int err = setup_dtls();

	if (err)
		return err;
	err = test_webrtc_to_plain();
	if (!err)
		err = test_plain_to_webrtc();
	if (!err)
		err = test_webrtc_errors();
	dtls_fini(dtls);
	dtls = NULL;
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_webrtc_all),
};

HARNESS_MAIN(tests)
