/* tests/unit/mediad_sdp/test_sdp.c  SDP parse, print, rewrites, codecs */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "bencode.h"
#include "harness.h"
#include "sdp.h"

static uint8_t arena_mem[512 * 1024];
static struct arena arena;
static char out[SDP_MAX_LEN + 1];
static char out2[SDP_MAX_LEN + 1];

/* A desk phone's offer (Polycom/Yealink style): static PTs with rtpmap. */
static const char sdp_phone[] =
	"v=0\r\n"
	"o=- 20045 20045 IN IP4 192.168.1.50\r\n"
	"s=SDP data\r\n"
	"c=IN IP4 192.168.1.50\r\n"
	"t=0 0\r\n"
	"m=audio 11780 RTP/AVP 9 0 8 18 101\r\n"
	"a=rtpmap:9 G722/8000\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:18 G729/8000\r\n"
	"a=fmtp:18 annexb=no\r\n"
	"a=ptime:20\r\n"
	"a=sendrecv\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-15\r\n";

/* A browser offer: ICE, DTLS, BUNDLE, rtcp-mux, extmap, ssrc, data. */
static const char sdp_chrome[] =
	"v=0\r\n"
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0 1 2\r\n"
	"a=extmap-allow-mixed\r\n"
	"a=msid-semantic: WMS stream1\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host "
	"generation 0 network-id 1\r\n"
	"a=candidate:435653019 1 tcp 1845501695 203.0.113.7 9 typ srflx "
	"raddr 192.168.0.196 rport 9 tcptype active generation 0\r\n"
	"a=ice-ufrag:Oyef\r\n"
	"a=ice-pwd:7mHZ5b9aDl8JVn1y6Wr8Z1c7\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:"
	"D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:E7:43:91:73:23:5E\r\n"
	"a=setup:actpass\r\n"
	"a=mid:0\r\n"
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	"a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/"
	"abs-send-time\r\n"
	"a=sendrecv\r\n"
	"a=msid:stream1 track1\r\n"
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
	"a=ssrc:3735928559 cname:4TOk42mSjXCkVIa6\r\n"
	"a=ssrc:3735928559 msid:stream1 track1\r\n"
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
	"a=ice-ufrag:Oyef\r\n"
	"a=ice-pwd:7mHZ5b9aDl8JVn1y6Wr8Z1c7\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:"
	"D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:E7:43:91:73:23:5E\r\n"
	"a=setup:actpass\r\n"
	"a=mid:1\r\n"
	"a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
	"a=sendrecv\r\n"
	"a=msid:stream1 track2\r\n"
	"a=rtcp-mux\r\n"
	"a=rtcp-rsize\r\n"
	"a=rtpmap:96 VP8/90000\r\n"
	"a=rtcp-fb:96 goog-remb\r\n"
	"a=rtcp-fb:96 transport-cc\r\n"
	"a=rtcp-fb:96 ccm fir\r\n"
	"a=rtcp-fb:96 nack\r\n"
	"a=rtcp-fb:96 nack pli\r\n"
	"a=rtpmap:97 rtx/90000\r\n"
	"a=fmtp:97 apt=96\r\n"
	"a=ssrc-group:FID 2882400001 2882400002\r\n"
	"a=ssrc:2882400001 cname:4TOk42mSjXCkVIa6\r\n"
	"a=ssrc:2882400002 cname:4TOk42mSjXCkVIa6\r\n"
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=ice-ufrag:Oyef\r\n"
	"a=ice-pwd:7mHZ5b9aDl8JVn1y6Wr8Z1c7\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:"
	"D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:E7:43:91:73:23:5E\r\n"
	"a=setup:actpass\r\n"
	"a=mid:2\r\n"
	"a=sctp-port:5000\r\n"
	"a=max-message-size:262144\r\n";

/* sipp's built-in uac offer, with bare LF line ends. */
static const char sdp_sipp[] =
	"v=0\n"
	"o=user1 53655765 2353687637 IN IP4 127.0.0.1\n"
	"s=-\n"
	"c=IN IP4 127.0.0.1\n"
	"t=0 0\n"
	"m=audio 6000 RTP/AVP 0\n"
	"a=rtpmap:0 PCMU/8000\n";

/* An answer as rtpengine writes it; already in our canonical order. */
static const char sdp_rtpengine[] =
	"v=0\r\n"
	"o=- 1545997027 1 IN IP4 203.0.113.1\r\n"
	"s=-\r\n"
	"c=IN IP4 203.0.113.1\r\n"
	"t=0 0\r\n"
	"m=audio 30000 RTP/AVP 8 101\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-15\r\n"
	"a=ptime:20\r\n"
	"a=sendrecv\r\n"
	"a=rtcp:30001\r\n";

static int parse(struct sdp_session **sp, const char *sdp)
{
	struct sdp_err e;
	int err;

	arena_init(&arena, arena_mem, sizeof(arena_mem));
	err = sdp_parse(sp, &arena, sdp, strlen(sdp), &e);
	if (err)
		fprintf(stderr, "  parse: %s\n", e.msg);
	return err;
}

/* parse -> print -> parse -> print gives the same text twice. */
static int roundtrip(const char *sdp, size_t *lenp)
{
	struct sdp_session *s;
	struct sdp_err e;
	size_t l1, l2;
	int err = 0;

	TEST_ERR(parse(&s, sdp));
	TEST_ERR(sdp_print(s, out, sizeof(out), &l1));
	TEST_EQ(strlen(out), l1);
	TEST_ERR(sdp_parse(&s, &arena, out, l1, &e));
	TEST_ERR(sdp_print(s, out2, sizeof(out2), &l2));
	TEST_MEMEQ(out, l1, out2, l2);
	if (lenp)
		*lenp = l1;
 out:
	return err;
}

static int test_phone_offer(void)
{
	struct sdp_session *s;
	struct sdp_media *m;
	int err = 0;

	TEST_ERR(parse(&s, sdp_phone));
	TEST_STREQ("-", s->origin.username);
	TEST_STREQ("20045", s->origin.sess_id);
	TEST_EQ(20045, s->origin.version);
	TEST_STREQ("192.168.1.50", s->origin.addr);
	TEST_STREQ("SDP data", s->name);
	TEST_STREQ("IP4", s->conn->addrtype);
	TEST_EQ(1, s->nmedia);
	m = s->media[0];
	TEST_STREQ("audio", m->type);
	TEST_EQ(11780, m->port);
	TEST_EQ(SDP_PROTO_RTP_AVP, m->proto);
	TEST_EQ(5, m->nfmt);
	TEST_EQ(9, m->fmts[0].pt);
	TEST_STREQ("G722", m->fmts[0].enc);
	TEST_EQ(18, m->fmts[3].pt);
	TEST_STREQ("annexb=no", m->fmts[3].params);
	TEST_STREQ("telephone-event", m->fmts[4].enc);
	TEST_EQ(8000, m->fmts[4].clock);
	TEST_STREQ("0-15", m->fmts[4].params);
	TEST_EQ(20, m->ptime);
	TEST_EQ(SDP_DIR_SENDRECV, m->dir);
	TEST_EQ(SDP_DIR_SENDRECV, sdp_media_dir(s, m));
	TEST_TRUE(!m->attrs);
	TEST_ERR(roundtrip(sdp_phone, NULL));
 out:
	return err;
}

static int test_chrome_offer(void)
{
	struct sdp_session *s;
	struct sdp_media *a, *v, *d;
	struct sdp_cand *cd;
	struct sdp_fmt *f;
	int err = 0;

	TEST_ERR(parse(&s, sdp_chrome));
	TEST_STREQ("4611731400430051336", s->origin.sess_id);
	TEST_EQ(2, s->origin.version);
	TEST_TRUE(!s->conn);
	TEST_STREQ("BUNDLE", s->groups->semantics);
	TEST_STREQ("0 1 2", s->groups->tags);
	TEST_STREQ("extmap-allow-mixed", s->attrs->name);
	TEST_TRUE(!s->attrs->value);
	TEST_STREQ("msid-semantic", s->attrs->next->name);
	TEST_STREQ(" WMS stream1", s->attrs->next->value);
	TEST_EQ(3, s->nmedia);

	a = s->media[0];
	TEST_EQ(SDP_PROTO_UDP_TLS_RTP_SAVPF, a->proto);
	TEST_EQ(8, a->nfmt);
	TEST_STREQ("0", a->mid);
	TEST_TRUE(a->rtcp_mux);
	TEST_TRUE(a->rtcp.set);
	TEST_EQ(9, a->rtcp.port);
	TEST_STREQ("0.0.0.0", a->rtcp.addr);
	TEST_STREQ("Oyef", a->ice.ufrag);
	TEST_STREQ("7mHZ5b9aDl8JVn1y6Wr8Z1c7", a->ice.pwd);
	TEST_STREQ("trickle", a->ice.options);
	cd = a->ice.cands;
	TEST_TRUE(cd && cd->next && !cd->next->next);
	TEST_STREQ("1467250027", cd->foundation);
	TEST_EQ(1, cd->component);
	TEST_STREQ("udp", cd->transport);
	TEST_EQ(2122260223u, cd->priority);
	TEST_STREQ("192.168.0.196", cd->addr);
	TEST_EQ(46243, cd->port);
	TEST_STREQ("host", cd->type);
	TEST_STREQ("generation 0 network-id 1", cd->ext);
	TEST_STREQ("srflx", cd->next->type);
	TEST_STREQ("sha-256", a->fp->hash);
	TEST_EQ(SDP_SETUP_ACTPASS, a->setup);
	TEST_EQ(3735928559u, a->ssrc->id);
	TEST_STREQ("msid:stream1 track1", a->ssrc->next->attr);
	f = sdp_fmt_find(a, 111);
	TEST_TRUE(f);
	TEST_STREQ("opus", f->enc);
	TEST_EQ(48000, f->clock);
	TEST_EQ(2, f->channels);
	TEST_STREQ("minptime=10;useinbandfec=1", f->params);
	TEST_STREQ("transport-cc", f->fb->text);
	TEST_STREQ("extmap", a->attrs->name);
	TEST_STREQ("1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
		   a->attrs->value);

	v = s->media[1];
	f = sdp_fmt_find(v, 96);
	TEST_TRUE(f && f->fb);
	TEST_STREQ("nack pli", f->fb->next->next->next->next->text);
	TEST_STREQ("apt=96", sdp_fmt_find(v, 97)->params);

	d = s->media[2];
	TEST_TRUE(!d->rtp);
	TEST_STREQ("UDP/DTLS/SCTP", d->proto_name);
	TEST_STREQ("webrtc-datachannel", d->fmt_text);
	TEST_EQ(0, d->nfmt);
	TEST_STREQ("2", d->mid);

	TEST_ERR(roundtrip(sdp_chrome, NULL));
 out:
	return err;
}

static int test_sipp_offer(void)
{
	static const char canon[] =
		"v=0\r\n"
		"o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
		"s=-\r\n"
		"c=IN IP4 127.0.0.1\r\n"
		"t=0 0\r\n"
		"m=audio 6000 RTP/AVP 0\r\n"
		"a=rtpmap:0 PCMU/8000\r\n";
	size_t len;
	int err = 0;

	TEST_ERR(roundtrip(sdp_sipp, &len));
	TEST_MEMEQ(canon, sizeof(canon) - 1, out, len);
 out:
	return err;
}

static int test_rtpengine_answer(void)
{
	struct sdp_session *s;
	size_t len;
	int err = 0;

	TEST_ERR(parse(&s, sdp_rtpengine));
	TEST_EQ(30001, s->media[0]->rtcp.port);
	TEST_TRUE(!s->media[0]->rtcp.addr);
	TEST_ERR(roundtrip(sdp_rtpengine, &len));
	TEST_MEMEQ(sdp_rtpengine, sizeof(sdp_rtpengine) - 1, out, len);
 out:
	return err;
}

static int test_static_pts(void)
{
	static const char sdp[] =
		"v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\n"
		"t=0 0\nm=audio 4000 RTP/AVP 0 8 3 9 18 13 96\n";
	struct sdp_session *s;
	struct sdp_media *m;
	int err = 0;

	TEST_ERR(parse(&s, sdp));
	m = s->media[0];
	TEST_STREQ("PCMU", m->fmts[0].enc);
	TEST_EQ(8000, m->fmts[0].clock);
	TEST_STREQ("PCMA", m->fmts[1].enc);
	TEST_STREQ("GSM", m->fmts[2].enc);
	TEST_STREQ("G722", m->fmts[3].enc);
	TEST_EQ(8000, m->fmts[3].clock);
	TEST_STREQ("G729", m->fmts[4].enc);
	TEST_STREQ("CN", m->fmts[5].enc);
	TEST_TRUE(!m->fmts[6].enc);
	TEST_EQ(0, m->fmts[0].flags & SDP_FMT_RTPMAP);
	/* no rtpmap was given, none is invented */
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(!strstr(out, "a=rtpmap"));
 out:
	return err;
}

static int test_line_ends(void)
{
	static const char mixed[] =
		"v=0\r\no=- 1 1 IN IP4 10.0.0.1\ns=-\r\nc=IN IP4 10.0.0.1\n"
		"t=0 0\r\nm=audio 4000 RTP/AVP 0";
	static const char trailing[] =
		"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
		"t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n\r\n\r\n";
	static const char blanks[] =
		"v=0\no=-  1   1 IN\tIP4 10.0.0.1\ns=\nc=IN IP4 10.0.0.1\n"
		"t=0 0\nm=audio  4000 RTP/AVP 0 \na=sendrecv \n";
	struct sdp_session *s;
	int err = 0;

	TEST_ERR(parse(&s, mixed));
	TEST_EQ(4000, s->media[0]->port);
	TEST_ERR(roundtrip(mixed, NULL));
	TEST_ERR(parse(&s, trailing));
	TEST_ERR(parse(&s, blanks));
	TEST_STREQ("", s->name);
	TEST_EQ(SDP_DIR_SENDRECV, s->media[0]->dir);
	TEST_ERR(roundtrip(blanks, NULL));
	/* "s=" comes back as "s= " (RFC 8866 5.3), stable from there */
	TEST_TRUE(strstr(out, "\r\ns= \r\n"));
 out:
	return err;
}

static int test_session_level(void)
{
	static const char sdp[] =
		"v=0\r\n"
		"o=alice 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
		"s=Seminar\r\n"
		"i=A Seminar on the session description protocol\r\n"
		"u=http://www.example.com/seminars/sdp.pdf\r\n"
		"e=j.doe@example.com (Jane Doe)\r\n"
		"p=+1 617 555-6011\r\n"
		"c=IN IP4 224.2.17.12/127\r\n"
		"b=AS:2000\r\n"
		"t=2873397496 2873404696\r\n"
		"r=7d 1h 0 25h\r\n"
		"t=0 0\r\n"
		"z=2882844526 -1h 2898848070 0\r\n"
		"k=prompt\r\n"
		"a=recvonly\r\n"
		"m=audio 49170/2 RTP/AVP 0\r\n"
		"i=voice\r\n"
		"b=TIAS:64000\r\n"
		"b=RR:0\r\n"
		"k=prompt\r\n"
		"a=maxptime:40\r\n"
		"m=video 0 RTP/AVP 31\r\n";
	struct sdp_session *s;
	struct sdp_media *m;
	size_t len;
	int err = 0;

	TEST_ERR(parse(&s, sdp));
	TEST_STREQ("A Seminar on the session description protocol", s->info);
	TEST_STREQ("j.doe@example.com (Jane Doe)", s->emails->text);
	TEST_STREQ("+1 617 555-6011", s->phones->text);
	TEST_STREQ("224.2.17.12/127", s->conn->addr);
	TEST_STREQ("AS", s->bw->type);
	TEST_EQ(2000, s->bw->value);
	TEST_EQ(2873397496u, s->times->start);
	TEST_STREQ("7d 1h 0 25h", s->times->repeats->text);
	TEST_TRUE(s->times->next && !s->times->next->repeats);
	TEST_STREQ("2882844526 -1h 2898848070 0", s->zone);
	TEST_EQ(SDP_DIR_RECVONLY, s->dir);
	m = s->media[0];
	TEST_EQ(49170, m->port);
	TEST_EQ(2, m->nports);
	TEST_STREQ("voice", m->info);
	TEST_EQ(64000, m->bw->value);
	TEST_EQ(40, m->maxptime);
	TEST_EQ(SDP_DIR_NONE, m->dir);
	TEST_EQ(SDP_DIR_RECVONLY, sdp_media_dir(s, m));
	TEST_STREQ("224.2.17.12/127", sdp_media_conn(s, m)->addr);
	/* a rejected m= needs no c= of its own */
	TEST_EQ(0, s->media[1]->port);
	TEST_ERR(roundtrip(sdp, &len));
	TEST_MEMEQ(sdp, sizeof(sdp) - 1, out, len);
 out:
	return err;
}

static int test_unknown_kept(void)
{
	static const char sdp[] =
		"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
		"t=0 0\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"m=audio 4000 RTP/AVP 0\r\n"
		"a=x-b:2\r\n"
		"a=rtpmap:99 foo/8000\r\n"
		"a=x-a\r\n"
		"a=x-c:\r\n"
		"a=rtcp-fb:* nack\r\n"
		"m=image 5000 udptl t38\r\n"
		"a=T38FaxVersion:0\r\n"
		"a=rtpmap:0 PCMU/8000\r\n";
	struct sdp_session *s;
	struct sdp_attr *at;
	int err = 0;

	TEST_ERR(parse(&s, sdp));
	/* rtpmap at session level is not interpreted, just kept */
	TEST_STREQ("rtpmap", s->attrs->name);
	at = s->media[0]->attrs;
	TEST_STREQ("x-b", at->name);
	TEST_STREQ("2", at->value);
	at = at->next;
	TEST_STREQ("rtpmap", at->name);   /* PT 99 is not in the m= line */
	TEST_STREQ("99 foo/8000", at->value);
	at = at->next;
	TEST_STREQ("x-a", at->name);
	TEST_TRUE(!at->value);
	at = at->next;
	TEST_STREQ("x-c", at->name);
	TEST_STREQ("", at->value);
	TEST_STREQ("rtcp-fb", at->next->name);
	TEST_STREQ("* nack", at->next->value);
	TEST_TRUE(!s->media[1]->rtp);
	TEST_STREQ("t38", s->media[1]->fmt_text);
	TEST_STREQ("rtpmap", s->media[1]->attrs->next->name);
	TEST_ERR(roundtrip(sdp, NULL));
	TEST_TRUE(strstr(out, "a=x-b:2\r\na=rtpmap:99 foo/8000\r\na=x-a\r\n"
			 "a=x-c:\r\na=rtcp-fb:* nack\r\n"));
 out:
	return err;
}

/* Every rejection, with its line number and reason. */
static int test_rejects(void)
{
	static const struct {
		const char *sdp;
		int         err;
		const char *msg;
	} cases[] = {
#define H "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\n"
		{ "", EINVAL, "empty SDP" },
		{ "\r\n", EINVAL, "empty SDP" },
		{ "o=- 1 1 IN IP4 1.2.3.4\n", EINVAL,
		  "line 1: SDP must start with v=" },
		{ "v=1\n", EINVAL, "line 1: v= must be 0" },
		{ "v=0\n", EINVAL, "o= is missing" },
		{ "v=0\ns=-\n", EINVAL, "line 2: o= is missing before 's='" },
		{ "v=0\no=- 1 1 IN IP4\n", EINVAL,
		  "line 2: o= address is missing" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4 x\n", EINVAL,
		  "line 2: o= has more than 6 fields" },
		{ "v=0\no=- abc 1 IN IP4 1.2.3.4\n", EINVAL,
		  "line 2: o= sess-id 'abc' is not a number" },
		{ "v=0\no=- 1 99999999999999999999 IN IP4 1.2.3.4\n", EINVAL,
		  "line 2: o= sess-version '99999999999999999999' is not a "
		  "number" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\nt=0 0\n", EINVAL,
		  "line 3: s= is missing before 't='" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\n", EINVAL,
		  "t= is missing" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nm=audio 1 RTP/AVP 0\n",
		  EINVAL, "line 4: t= is missing before the first m=" },
		{ H "c=IN IP4 1.2.3.4\n", EINVAL,
		  "line 6: 'c=' is out of order (after 't=')" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\ns=x\n", EINVAL,
		  "line 4: second 's=' line" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nr=1d 1h 0\n", EINVAL,
		  "line 4: r= must follow t=" },
		{ H "x=1\n", EINVAL, "line 6: unknown line type 'x='" },
		{ H "hello\n", EINVAL,
		  "line 6: 'hello' is not <letter>=<value>" },
		{ H "A=1\n", EINVAL, "line 6: 'A=1' is not <letter>=<value>" },
		{ H "\nm=audio 1 RTP/AVP 0\n", EINVAL, "line 6: empty line" },
		{ H "a=x\rb\n", EINVAL, "line 6: CR without LF" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=\001\n", EINVAL,
		  "line 3: control byte 0x01" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=a\0b\n", EINVAL,
		  "line 3: control byte 0x00" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4\n", EINVAL,
		  "line 4: c= address is missing" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nb=AS\n", EINVAL,
		  "line 4: b= 'AS' is not <type>:<value>" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nb=AS:x\n", EINVAL,
		  "line 4: b= value 'x' is not a number" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0\n", EINVAL,
		  "line 4: t= must be <start> <stop>" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=now 0\n", EINVAL,
		  "line 4: t= time 'now' is not a number" },
		{ H "m=audio abc RTP/AVP 0\n", EINVAL,
		  "line 6: m= port 'abc' is not a number" },
		{ H "m=audio 70000 RTP/AVP 0\n", EINVAL,
		  "line 6: m= port 70000 is out of range" },
		{ H "m=audio 1/x RTP/AVP 0\n", EINVAL,
		  "line 6: m= port count 'x' is not a number" },
		{ H "m=audio 1\n", EINVAL, "line 6: m= proto is missing" },
		{ H "m=audio 1 RTP/AVP\n", EINVAL, "line 6: m= has no format" },
		{ H "m=audio 1 RTP/AVP 0 pcmu\n", EINVAL,
		  "line 6: m= format 'pcmu' is not a payload type" },
		{ H "m=audio 1 RTP/AVP 128\n", EINVAL,
		  "line 6: m= payload type 128 is out of range" },
		{ H "m=audio 1 RTP/AVP 0 8 0\n", EINVAL,
		  "line 6: m= payload type 0 listed twice" },
		{ H "m=audio 1 RTP/AVP 0\no=- 1 1 IN IP4 1.2.3.4\n", EINVAL,
		  "line 7: 'o=' is not allowed in a media section" },
		{ H "m=audio 1 RTP/AVP 0\na=sendrecv\nc=IN IP4 1.2.3.4\n",
		  EINVAL, "line 8: 'c=' is out of order (after 'a=')" },
		{ H "m=audio 1 RTP/AVP 0\ni=a\ni=b\n", EINVAL,
		  "line 8: second 'i=' line" },
		{ "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n"
		  "m=audio 1 RTP/AVP 0\n", EINVAL,
		  "line 5: m=audio has no c= line and there is no "
		  "session-level c=" },
		{ H "a=\n", EINVAL, "line 6: a= attribute name is empty" },
		{ H "a=:x\n", EINVAL, "line 6: a= attribute name is empty" },
		{ H "a=a b:c\n", EINVAL,
		  "line 6: a= attribute name 'a b' is not a token" },
		{ H "a=sendrecv\na=inactive\n", EINVAL,
		  "line 7: second direction attribute a=inactive" },
		{ H "a=sendonly:x\n", EINVAL,
		  "line 6: a=sendonly takes no value" },
		{ H "a=setup:both\n", EINVAL,
		  "line 6: a=setup 'both' is not active, passive, actpass or "
		  "holdconn" },
		{ H "a=ice-ufrag:a b\n", EINVAL,
		  "line 6: a=ice-ufrag: unexpected 'b'" },
		{ H "a=ice-pwd\n", EINVAL, "line 6: a=ice-pwd is missing" },
		{ H "a=fingerprint:sha-1\n", EINVAL,
		  "line 6: a=fingerprint value is missing" },
		{ H "m=audio 1 RTP/AVP 0\na=rtpmap:x PCMU/8000\n", EINVAL,
		  "line 7: a=rtpmap payload type 'x' is not a number" },
		{ H "m=audio 1 RTP/AVP 0\na=rtpmap:0 PCMU\n", EINVAL,
		  "line 7: a=rtpmap 'PCMU' is not <encoding>/<clock>" },
		{ H "m=audio 1 RTP/AVP 0\na=rtpmap:0 PCMU/fast\n", EINVAL,
		  "line 7: a=rtpmap clock rate 'fast' is not a number" },
		{ H "m=audio 1 RTP/AVP 0\na=rtpmap:0 PCMU/8000/x\n", EINVAL,
		  "line 7: a=rtpmap channels 'x' is not a number" },
		{ H "m=audio 1 RTP/AVP 0\na=rtpmap:0 PCMU/8000 x\n", EINVAL,
		  "line 7: a=rtpmap: unexpected 'x'" },
		{ H "m=audio 1 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
		  "a=rtpmap:0 PCMU/8000\n", EINVAL,
		  "line 8: second a=rtpmap for payload type 0" },
		{ H "m=audio 1 RTP/AVP 0\na=fmtp:0 a\na=fmtp:0 b\n", EINVAL,
		  "line 8: second a=fmtp for payload type 0" },
		{ H "m=audio 1 RTP/AVP 0\na=rtcp-fb:0\n", EINVAL,
		  "line 7: a=rtcp-fb value is missing" },
		{ H "m=audio 1 RTP/AVP 0\na=ptime:abc\n", EINVAL,
		  "line 7: a=ptime value 'abc' is not a number" },
		{ H "m=audio 1 RTP/AVP 0\na=ptime:20\na=ptime:30\n", EINVAL,
		  "line 8: second a=ptime" },
		{ H "m=audio 1 RTP/AVP 0\na=rtcp:x\n", EINVAL,
		  "line 7: a=rtcp port 'x' is not a number" },
		{ H "m=audio 1 RTP/AVP 0\na=rtcp:1 IN IP4\n", EINVAL,
		  "line 7: a=rtcp must be <port> [<nettype> <addrtype> "
		  "<address>]" },
		{ H "m=audio 1 RTP/AVP 0\na=mid:a\na=mid:b\n", EINVAL,
		  "line 8: second a=mid" },
		{ H "m=audio 1 RTP/AVP 0\n"
		  "a=candidate:1 1 udp 1 1.2.3.4 5 typ\n",
		  EINVAL, "line 7: a=candidate type is missing" },
		{ H "m=audio 1 RTP/AVP 0\n"
		  "a=candidate:1 0 udp 1 1.2.3.4 5 typ host\n", EINVAL,
		  "line 7: a=candidate component '0' is not 1-256" },
		{ H "m=audio 1 RTP/AVP 0\n"
		  "a=candidate:1 1 udp high 1.2.3.4 5 typ host\n", EINVAL,
		  "line 7: a=candidate priority 'high' is not a number" },
		{ H "m=audio 1 RTP/AVP 0\n"
		  "a=candidate:1 1 udp 1 1.2.3.4 5 type host\n", EINVAL,
		  "line 7: a=candidate: 'typ' expected, not 'type'" },
		{ H "m=audio 1 RTP/AVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80\n",
		  EINVAL, "line 7: a=crypto key-params are missing" },
		{ H "m=audio 1 RTP/AVP 0\na=crypto:x AES inline:k\n", EINVAL,
		  "line 7: a=crypto tag 'x' is not a number" },
		{ H "m=audio 1 RTP/AVP 0\na=ssrc:-1 cname:x\n", EINVAL,
		  "line 7: a=ssrc id is not a 32-bit number" },
		{ H "m=audio 1 RTP/AVP 0\na=ssrc:1\n", EINVAL,
		  "line 7: a=ssrc attribute is missing" },
		{ H "m=audio 1 RTP/AVP 0\na=rtcp-mux:1\n", EINVAL,
		  "line 7: a=rtcp-mux takes no value" },
		{ H "a=group\n", EINVAL,
		  "line 6: a=group semantics is missing" },
#undef H
	};
	struct sdp_session *s;
	struct sdp_err e;
	size_t i, len;
	int err = 0, r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *sdp = cases[i].sdp;

		/* one case holds a NUL: measure up to the final newline */
		len = strlen(sdp);
		if (strstr(cases[i].msg, "0x00"))
			len = strlen(sdp) + 1 + strlen(sdp + strlen(sdp) + 1);
		arena_init(&arena, arena_mem, sizeof(arena_mem));
		s = NULL;
		r = sdp_parse(&s, &arena, sdp, len, &e);
		if (r != cases[i].err || strcmp(e.msg, cases[i].msg)) {
			fprintf(stderr, "  case %zu: got %d \"%s\"\n", i, r,
				e.msg);
		}
		TEST_EQ(cases[i].err, r);
		TEST_STREQ(cases[i].msg, e.msg);
	}
 out:
	return err;
}

static int test_limits(void)
{
	static char big[SDP_MAX_LEN + 64];
	struct sdp_session *s;
	struct sdp_err e;
	size_t n, i;
	int err = 0;

	n = (size_t)snprintf(big, sizeof(big),
			     "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\n"
			     "c=IN IP4 1.2.3.4\nt=0 0\n");
	for (i = 0; i <= SDP_MAX_MEDIA; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
				      "m=audio %zu RTP/AVP 0\n", 1000 + i);
	arena_init(&arena, arena_mem, sizeof(arena_mem));
	TEST_EQ(E2BIG, sdp_parse(&s, &arena, big, n, &e));
	TEST_STREQ("line 22: more than 16 m= sections", e.msg);

	n = (size_t)snprintf(big, sizeof(big),
			     "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\n"
			     "c=IN IP4 1.2.3.4\nt=0 0\nm=audio 1 RTP/AVP");
	for (i = 0; i <= SDP_MAX_FMTS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, " %zu", i);
	arena_init(&arena, arena_mem, sizeof(arena_mem));
	TEST_EQ(E2BIG, sdp_parse(&s, &arena, big, n, &e));
	TEST_STREQ("line 6: m= lists more than 64 formats", e.msg);

	/* 64 formats are fine */
	n -= 3;
	arena_init(&arena, arena_mem, sizeof(arena_mem));
	TEST_ERR(sdp_parse(&s, &arena, big, n, &e));
	TEST_EQ(SDP_MAX_FMTS, s->media[0]->nfmt);

	n = (size_t)snprintf(big, sizeof(big),
			     "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\n"
			     "c=IN IP4 1.2.3.4\nt=0 0\n");
	for (i = 5; i < SDP_MAX_LINES; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "a=x\n");
	arena_init(&arena, arena_mem, sizeof(arena_mem));
	TEST_ERR(sdp_parse(&s, &arena, big, n, &e));
	n += (size_t)snprintf(big + n, sizeof(big) - n, "a=x\n");
	arena_init(&arena, arena_mem, sizeof(arena_mem));
	TEST_EQ(E2BIG, sdp_parse(&s, &arena, big, n, &e));
	TEST_STREQ("line 1025: more than 1024 lines", e.msg);

	memset(big, 'a', sizeof(big));
	arena_init(&arena, arena_mem, sizeof(arena_mem));
	TEST_EQ(E2BIG, sdp_parse(&s, &arena, big, SDP_MAX_LEN + 1, &e));
	TEST_STREQ("SDP of 65537 bytes is over the limit of 65536", e.msg);
 out:
	return err;
}

/* Every arena size short of enough fails cleanly with ENOMEM. */
static int test_arena_exhaustion(void)
{
	static uint8_t small[64 * 1024];
	struct sdp_session *s;
	struct sdp_err e;
	struct arena a;
	size_t sz;
	int err = 0, r;

	for (sz = 0; sz < sizeof(small); sz += 16) {
		arena_init(&a, small, sz);
		r = sdp_parse(&s, &a, sdp_chrome, sizeof(sdp_chrome) - 1, &e);
		if (!r)
			break;
		TEST_EQ(ENOMEM, r);
		TEST_STREQ("arena full", strstr(e.msg, "arena full"));
	}
	TEST_TRUE(sz < sizeof(small));
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
 out:
	return err;
}

static int test_print_bounds(void)
{
	struct sdp_session *s;
	size_t len, i;
	int err = 0;

	TEST_ERR(parse(&s, sdp_phone));
	TEST_ERR(sdp_print(s, out, sizeof(out), &len));
	TEST_EQ(ENOSPC, sdp_print(s, out2, len, NULL));
	TEST_ERR(sdp_print(s, out2, len + 1, NULL));
	TEST_STREQ(out, out2);
	for (i = 0; i < len; i += 7)
		TEST_EQ(ENOSPC, sdp_print(s, out2, i, NULL));
 out:
	return err;
}

static int test_conn_set(void)
{
	struct sdp_session *s;
	const struct sdp_conn *c;
	int err = 0;

	TEST_ERR(parse(&s, sdp_chrome));
	TEST_EQ(EINVAL, sdp_conn_set(s, NULL, "example.com"));
	TEST_EQ(EINVAL, sdp_conn_set(s, NULL, "1.2.3"));
	TEST_TRUE(!s->conn);
	TEST_ERR(sdp_conn_set_all(s, "203.0.113.10"));
	TEST_STREQ("203.0.113.10", s->conn->addr);
	TEST_STREQ("IP4", s->conn->addrtype);
	TEST_STREQ("IN", s->conn->nettype);
	TEST_STREQ("203.0.113.10", s->media[1]->conn->addr);
	TEST_ERR(sdp_conn_set(s, s->media[0], "2001:db8::1"));
	c = sdp_media_conn(s, s->media[0]);
	TEST_STREQ("IP6", c->addrtype);
	TEST_STREQ("2001:db8::1", c->addr);
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "t=0 0\r\n") > strstr(out, "c=IN IP4 "
						     "203.0.113.10\r\n"));
	TEST_TRUE(strstr(out, "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 "
			 "110 126\r\nc=IN IP6 2001:db8::1\r\n"));
	TEST_ERR(roundtrip(out, NULL));
 out:
	return err;
}

static int test_ports_set(void)
{
	struct sdp_session *s;
	struct sdp_media *m;
	int err = 0;

	TEST_ERR(parse(&s, sdp_rtpengine));
	m = s->media[0];
	sdp_media_ports_set(m, 40000, 40001);
	TEST_EQ(40000, m->port);
	TEST_TRUE(m->rtcp.set);
	TEST_EQ(40001, m->rtcp.port);
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "m=audio 40000 RTP/AVP 8 101\r\n"));
	TEST_TRUE(strstr(out, "a=rtcp:40001\r\n"));

	/* the long form goes too: the address would be the old one */
	TEST_ERR(parse(&s, sdp_chrome));
	m = s->media[0];
	m->rtcp_mux = false;
	sdp_media_ports_set(m, 40002, 40003);
	TEST_TRUE(!m->rtcp.addr);
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "a=rtcp:40003\r\n"));

	/* rtcp-mux: no a=rtcp */
	m = s->media[1];
	sdp_media_ports_set(m, 40004, 40005);
	TEST_TRUE(!m->rtcp.set);
	/* port 0 for RTCP: none */
	m = s->media[0];
	sdp_media_ports_set(m, 40002, 0);
	TEST_TRUE(!m->rtcp.set);
 out:
	return err;
}

static int test_dir_proto_set(void)
{
	struct sdp_session *s;
	struct sdp_media *m;
	enum sdp_proto p;
	enum sdp_dir d;
	int err = 0;

	TEST_ERR(parse(&s, sdp_phone));
	m = s->media[0];
	sdp_dir_set(s, m, SDP_DIR_SENDONLY);
	TEST_EQ(SDP_DIR_SENDONLY, sdp_media_dir(s, m));
	sdp_dir_set(s, m, SDP_DIR_NONE);
	sdp_dir_set(s, NULL, SDP_DIR_INACTIVE);
	TEST_EQ(SDP_DIR_INACTIVE, sdp_media_dir(s, m));
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "t=0 0\r\na=inactive\r\nm=audio"));
	TEST_TRUE(!strstr(out, "sendrecv"));

	TEST_ERR(sdp_dir_parse("recvonly", 8, &d));
	TEST_EQ(SDP_DIR_RECVONLY, d);
	TEST_EQ(EINVAL, sdp_dir_parse("recv", 4, &d));

	TEST_ERR(sdp_proto_parse("RTP/SAVP", 8, &p));
	TEST_EQ(SDP_PROTO_RTP_SAVP, p);
	TEST_EQ(EINVAL, sdp_proto_parse("RTP/AV", 6, &p));
	TEST_ERR(sdp_media_proto_set(m, SDP_PROTO_RTP_SAVPF));
	TEST_STREQ("RTP/SAVPF", m->proto_name);
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "m=audio 11780 RTP/SAVPF 9 0 8 18 101\r\n"));

	TEST_ERR(parse(&s, sdp_chrome));
	TEST_EQ(EINVAL, sdp_media_proto_set(s->media[2], SDP_PROTO_RTP_AVP));
	TEST_EQ(EINVAL, sdp_media_proto_set(s->media[0], SDP_PROTO_OTHER));
 out:
	return err;
}

static int test_origin_replace(void)
{
	struct sdp_vstate vs;
	struct sdp_session *s;
	int err = 0;

	memset(&vs, 0, sizeof(vs));

	/* first SDP of the dialog: the offerer's version stands */
	TEST_ERR(parse(&s, sdp_phone));
	TEST_EQ(EINVAL, sdp_origin_replace(s, "not-an-ip", &vs));
	TEST_ERR(sdp_origin_replace(s, "203.0.113.1", &vs));
	TEST_STREQ("203.0.113.1", s->origin.addr);
	TEST_STREQ("IP4", s->origin.addrtype);
	TEST_EQ(20045, s->origin.version);
	TEST_TRUE(vs.valid);
	TEST_EQ(20045, vs.version);

	/* the same body again (a refresh): same version */
	TEST_ERR(parse(&s, sdp_phone));
	s->origin.version = 7;            /* whatever the phone says */
	TEST_ERR(sdp_origin_replace(s, "203.0.113.1", &vs));
	TEST_EQ(20045, s->origin.version);

	/* a change (hold): one more */
	TEST_ERR(parse(&s, sdp_phone));
	sdp_dir_set(s, s->media[0], SDP_DIR_SENDONLY);
	TEST_ERR(sdp_origin_replace(s, "203.0.113.1", &vs));
	TEST_EQ(20046, s->origin.version);
	TEST_EQ(20046, vs.version);

	/* and back (resume): one more again, not back to the old one */
	TEST_ERR(parse(&s, sdp_phone));
	TEST_ERR(sdp_origin_replace(s, "2001:db8::5", &vs));
	TEST_EQ(20047, s->origin.version);
	TEST_STREQ("IP6", s->origin.addrtype);
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "o=- 20045 20047 IN IP6 2001:db8::5\r\n"));

	/* only the address asked for, no version bookkeeping */
	TEST_ERR(parse(&s, sdp_phone));
	TEST_ERR(sdp_origin_replace(s, "10.1.1.1", NULL));
	TEST_EQ(20045, s->origin.version);
 out:
	return err;
}

static int test_ice_remove(void)
{
	static const char lite[] =
		"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
		"t=0 0\r\na=ice-lite\r\na=ice-ufrag:abcd\r\n"
		"a=ice-pwd:0123456789012345678901\r\n"
		"m=audio 4000 RTP/AVP 0\r\n"
		"a=remote-candidates:1 10.0.0.2 5000\r\n"
		"a=candidate:1 1 UDP 2130706431 10.0.0.1 4000 typ host\r\n"
		"a=end-of-candidates\r\n";
	struct sdp_session *s;
	unsigned i;
	int err = 0;

	TEST_ERR(parse(&s, sdp_chrome));
	sdp_ice_remove(s);
	for (i = 0; i < s->nmedia; i++) {
		TEST_TRUE(!s->media[i]->ice.ufrag);
		TEST_TRUE(!s->media[i]->ice.cands);
	}
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(!strstr(out, "ice-"));
	TEST_TRUE(!strstr(out, "candidate"));
	TEST_TRUE(strstr(out, "a=fingerprint:"));

	TEST_ERR(parse(&s, lite));
	TEST_TRUE(s->ice_lite);
	TEST_STREQ("abcd", s->ice.ufrag);
	TEST_TRUE(s->media[0]->ice.eoc);
	sdp_ice_remove(s);
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(!strstr(out, "ice"));
	TEST_TRUE(!strstr(out, "candidate"));
 out:
	return err;
}

static int test_crypto(void)
{
	static const char sdes[] =
		"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
		"t=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
		"inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n"
		"a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
		"inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32 "
		"UNENCRYPTED_SRTCP\r\n";
	struct sdp_session *s;
	struct sdp_media *m;
	size_t len;
	int err = 0;

	TEST_ERR(parse(&s, sdes));
	m = s->media[0];
	TEST_EQ(1, m->crypto->tag);
	TEST_STREQ("AES_CM_128_HMAC_SHA1_80", m->crypto->suite);
	TEST_STREQ("inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
		   m->crypto->params);
	TEST_EQ(2, m->crypto->next->tag);
	TEST_ERR(roundtrip(sdes, &len));
	TEST_MEMEQ(sdes, sizeof(sdes) - 1, out, len);

	TEST_ERR(parse(&s, sdes));
	m = s->media[0];
	TEST_EQ(ENOENT, sdp_crypto_keep(m, 3));
	TEST_ERR(sdp_crypto_keep(m, 2));
	TEST_TRUE(m->crypto && !m->crypto->next);
	TEST_EQ(2, m->crypto->tag);
	sdp_crypto_remove(s, NULL);
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(!strstr(out, "crypto"));
 out:
	return err;
}

/* "m=... 0 8 101" and friends, as text, for the codec tests. */
static const char *fmt_list(const struct sdp_media *m)
{
	static char buf[256];
	size_t n = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < m->nfmt; i++) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%u%s%s",
				      i ? " " : "", m->fmts[i].pt,
				      (m->fmts[i].flags & SDP_FMT_MASKED) ?
				      "m" : "",
				      (m->fmts[i].flags & SDP_FMT_TRANSCODE) ?
				      "t" : "");
	}
	return buf;
}

static void ops_add(struct sdp_codec_list *l, const char *name)
{
	l->v[l->n].p = name;
	l->v[l->n].len = strlen(name);
	l->n++;
}

static int test_codec_strip_mask_offer(void)
{
	struct sdp_codec_ops ops;
	struct sdp_session *s;
	struct sdp_media *m;
	struct sdp_err e;
	int err = 0;

	/* strip by name, by name/clock, by payload type; case-insensitive */
	TEST_ERR(parse(&s, sdp_phone));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.strip, "g722");
	ops_add(&ops.strip, "G729/8000");
	ops_add(&ops.strip, "101");
	TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("0 8", fmt_list(m));
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "m=audio 11780 RTP/AVP 0 8\r\n"));
	TEST_TRUE(!strstr(out, "G729") && !strstr(out, "annexb") &&
		  !strstr(out, "telephone-event"));

	/* a clock rate that does not match strips nothing */
	TEST_ERR(parse(&s, sdp_phone));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.strip, "PCMU/16000");
	TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("9 0 8 18 101", fmt_list(m));

	/* strip all but what is offered, in the offer's order */
	TEST_ERR(parse(&s, sdp_phone));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.strip, "all");
	ops_add(&ops.offer, "PCMA");
	ops_add(&ops.offer, "telephone-event");
	ops_add(&ops.offer, "PCMU");
	TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("8 101 0", fmt_list(m));

	/* except keeps the original order */
	TEST_ERR(parse(&s, sdp_phone));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.strip, "all");
	ops_add(&ops.except, "PCMA");
	ops_add(&ops.except, "PCMU");
	TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("0 8", fmt_list(m));

	/* offer alone reorders */
	TEST_ERR(parse(&s, sdp_phone));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.offer, "G729");
	TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("18 9 0 8 101", fmt_list(m));

	/* mask: kept for this side, not printed for the other */
	TEST_ERR(parse(&s, sdp_phone));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.mask, "G722");
	ops_add(&ops.mask, "PCMU");
	TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("9m 0m 8 18 101", fmt_list(m));
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "m=audio 11780 RTP/AVP 8 18 101\r\n"));
	TEST_TRUE(!strstr(out, "G722") && !strstr(out, "PCMU"));
	TEST_ERR(roundtrip(out, NULL));

	/* nothing left: an error, and the media is untouched */
	TEST_ERR(parse(&s, sdp_phone));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.strip, "all");
	TEST_EQ(EPROTO, sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("codec options leave nothing to offer in m=audio", e.msg);
	TEST_EQ(6, e.line);
	TEST_STREQ("9 0 8 18 101", fmt_list(m));
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.mask, "full");
	TEST_EQ(EPROTO, sdp_codec_apply(s, m, &ops, &e));

	/* bad values */
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.strip, "300");
	TEST_EQ(EINVAL, sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("codec strip: payload type 300 is out of range", e.msg);
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.offer, "all");
	TEST_EQ(EINVAL, sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("codec offer: 'all' is not allowed here", e.msg);
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.strip, "PCMU/x");
	TEST_EQ(EINVAL, sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("codec strip: clock rate in 'PCMU/x' is not a number",
		   e.msg);
 out:
	return err;
}

static int test_codec_transcode(void)
{
	struct sdp_codec_ops ops;
	struct sdp_session *s;
	struct sdp_media *m;
	struct sdp_err e;
	struct sdp_fmt *f;
	int err = 0;

	/* PCMU only, PCMA and DTMF added; static 8 is free */
	TEST_ERR(parse(&s, sdp_sipp));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.transcode, "PCMA");
	ops_add(&ops.transcode, "telephone-event");
	TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("0 8t 101t", fmt_list(m));
	f = sdp_fmt_find(m, 101);
	TEST_STREQ("0-15", f->params);
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "m=audio 6000 RTP/AVP 0 8 101\r\n"
			 "a=rtpmap:0 PCMU/8000\r\n"
			 "a=rtpmap:8 PCMA/8000\r\n"
			 "a=rtpmap:101 telephone-event/8000\r\n"
			 "a=fmtp:101 0-15\r\n"));

	/* mask the original: only the transcoded codec is offered */
	TEST_ERR(parse(&s, sdp_sipp));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.mask, "PCMU");
	ops_add(&ops.transcode, "PCMA");
	TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("0m 8t", fmt_list(m));
	TEST_ERR(sdp_print(s, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "m=audio 6000 RTP/AVP 8\r\n"));

	/* already there: nothing added, no transcoding */
	TEST_ERR(parse(&s, sdp_phone));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.transcode, "pcma");
	TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("9 0 8 18 101", fmt_list(m));

	/* strip=all with transcode naming an offered codec restores it */
	TEST_ERR(parse(&s, sdp_phone));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.strip, "all");
	ops_add(&ops.transcode, "PCMA");
	TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("8", fmt_list(m));

	/* PT 8 taken by something else: a dynamic one */
	TEST_ERR(parse(&s, "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\n"
		       "c=IN IP4 1.2.3.4\nt=0 0\nm=audio 1 RTP/AVP 0 8 96\n"
		       "a=rtpmap:8 G726-32/8000\na=rtpmap:96 foo/8000\n"));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.transcode, "PCMA");
	TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("0 8 96 97t", fmt_list(m));

	/* 8 and all of 96-127 taken: the unassigned range browsers use */
	{
		static char sdp[2048];
		size_t n;
		unsigned pt;

		n = (size_t)snprintf(sdp, sizeof(sdp), "v=0\no=- 1 1 IN IP4 "
				     "1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\n"
				     "m=audio 1 RTP/AVP 0 8");
		for (pt = 96; pt <= 127; pt++)
			n += (size_t)snprintf(sdp + n, sizeof(sdp) - n, " %u",
					      pt);
		snprintf(sdp + n, sizeof(sdp) - n,
			 "\na=rtpmap:8 G726-32/8000\n");
		TEST_ERR(parse(&s, sdp));
		m = s->media[0];
		memset(&ops, 0, sizeof(ops));
		ops_add(&ops.transcode, "PCMA");
		TEST_ERR(sdp_codec_apply(s, m, &ops, &e));
		TEST_EQ(35, m->fmts[m->nfmt - 1].pt);

		/* 64 formats already: no room for one more */
		n = (size_t)snprintf(sdp, sizeof(sdp), "v=0\no=- 1 1 IN IP4 "
				     "1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\n"
				     "m=audio 1 RTP/AVP 0");
		for (pt = 1; pt <= 64; pt++) {
			if (pt != 8)
				n += (size_t)snprintf(sdp + n, sizeof(sdp) - n,
						      " %u", pt);
		}
		TEST_ERR(parse(&s, sdp));
		m = s->media[0];
		TEST_EQ(SDP_MAX_FMTS, m->nfmt);
		TEST_EQ(E2BIG, sdp_codec_apply(s, m, &ops, &e));
		TEST_STREQ("codec options leave more than 64 formats in "
			   "m=audio", e.msg);
		TEST_EQ(SDP_MAX_FMTS, m->nfmt);
	}

	/* nothing to transcode from */
	TEST_ERR(parse(&s, "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\n"
		       "c=IN IP4 1.2.3.4\nt=0 0\nm=audio 1 RTP/AVP 18\n"));
	m = s->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.transcode, "PCMU");
	TEST_EQ(EPROTO, sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("codec transcode 'PCMU': m=audio offers no PCMU or PCMA "
		   "to transcode from", e.msg);
	TEST_STREQ("18", fmt_list(m));

	/* a codec the relay cannot produce */
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.transcode, "opus/48000/2");
	TEST_EQ(ENOTSUP, sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("codec transcode 'opus/48000/2' is not supported (PCMU, "
		   "PCMA, telephone-event)", e.msg);
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.transcode, "8");
	TEST_EQ(EINVAL, sdp_codec_apply(s, m, &ops, &e));
	TEST_STREQ("codec transcode '8' must be a codec name", e.msg);

	/* non-RTP media are left alone */
	TEST_ERR(parse(&s, sdp_chrome));
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.strip, "all");
	TEST_ERR(sdp_codec_apply(s, s->media[2], &ops, &e));
 out:
	return err;
}

static int test_codec_ops_ng(void)
{
	static const char dict[] =
		"d5:stripl4:G7224:G729e4:mask4:PCMU6:accepti1e"
		"9:transcodel4:PCMA15:telephone-evente5:offer4:PCMUe";
	static const char bad[] = "d5:stripli1eee";
	struct sdp_codec_ops ops;
	const struct bnode *root;
	struct bnode *r;
	struct sdp_err e;
	int err = 0;

	arena_init(&arena, arena_mem, sizeof(arena_mem));
	TEST_ERR(bencode_decode(&arena, dict, sizeof(dict) - 1, &r, NULL,
				NULL));
	root = r;
	memset(&ops, 0, sizeof(ops));
	TEST_ERR(sdp_codec_ops_ng(&ops, root, &e));
	TEST_EQ(2, ops.strip.n);
	TEST_MEMEQ("G729", 4, ops.strip.v[1].p, ops.strip.v[1].len);
	TEST_EQ(1, ops.mask.n);
	TEST_EQ(2, ops.transcode.n);
	TEST_MEMEQ("telephone-event", 15, ops.transcode.v[1].p,
		   ops.transcode.v[1].len);
	TEST_EQ(1, ops.offer.n);

	TEST_ERR(bencode_decode(&arena, bad, sizeof(bad) - 1, &r, NULL, NULL));
	memset(&ops, 0, sizeof(ops));
	TEST_EQ(EINVAL, sdp_codec_ops_ng(&ops, r, &e));
	TEST_STREQ("codec strip must be a list of strings", e.msg);

	memset(&ops, 0, sizeof(ops));
	TEST_ERR(sdp_codec_ops_flag(&ops, "codec-strip-PCMU", 16));
	TEST_ERR(sdp_codec_ops_flag(&ops, "codec-mask-all", 14));
	TEST_ERR(sdp_codec_ops_flag(&ops, "codec-transcode-PCMA", 20));
	TEST_EQ(ENOENT, sdp_codec_ops_flag(&ops, "trust-address", 13));
	TEST_EQ(ENOENT, sdp_codec_ops_flag(&ops, "codec-set-opus", 14));
	TEST_EQ(ENOENT, sdp_codec_ops_flag(&ops, "codec-strip-", 12));
	TEST_EQ(1, ops.strip.n);
	TEST_MEMEQ("PCMU", 4, ops.strip.v[0].p, ops.strip.v[0].len);
	TEST_MEMEQ("all", 3, ops.mask.v[0].p, ops.mask.v[0].len);
 out:
	return err;
}

/* Parse an answer's first m= into <mp>, keeping the offer's arena. */
static int parse_more(struct sdp_session **sp, const char *sdp)
{
	struct sdp_err e;
	int err;

	err = sdp_parse(sp, &arena, sdp, strlen(sdp), &e);
	if (err)
		fprintf(stderr, "  parse: %s\n", e.msg);
	return err;
}

#define ANSWER_HEAD "v=0\r\no=- 5 5 IN IP4 10.9.9.9\r\ns=-\r\n" \
	"c=IN IP4 10.9.9.9\r\nt=0 0\r\n"

static int test_codec_decide(void)
{
	struct sdp_session *so, *sa;
	struct sdp_codec_ops ops;
	struct sdp_codec_plan p;
	struct sdp_media *mo, *ma;
	struct sdp_err e;
	int err = 0;

	/* passthrough of a common codec, DTMF 101 on both */
	TEST_ERR(parse(&so, sdp_phone));
	TEST_ERR(parse_more(&sa, ANSWER_HEAD
			    "m=audio 5000 RTP/AVP 8 101\r\n"
			    "a=rtpmap:101 telephone-event/8000\r\n"));
	mo = so->media[0];
	ma = sa->media[0];
	TEST_ERR(sdp_codec_decide(&p, mo, ma, &e));
	TEST_EQ(SDP_CODEC_PASS, p.mode);
	TEST_EQ(8, p.a.pt);
	TEST_EQ(8, p.b.pt);
	TEST_STREQ("PCMA", p.b.enc);
	TEST_EQ(101, p.a.te_pt);
	TEST_EQ(101, p.b.te_pt);

	/* the answerer's preference wins, skipping CN and DTMF */
	TEST_ERR(parse_more(&sa, ANSWER_HEAD
			    "m=audio 5000 RTP/AVP 13 101 18 0\r\n"
			    "a=rtpmap:101 telephone-event/8000\r\n"));
	TEST_ERR(sdp_codec_decide(&p, mo, sa->media[0], &e));
	TEST_EQ(SDP_CODEC_PASS, p.mode);
	TEST_EQ(18, p.a.pt);

	/* PCMU offered, PCMA added by transcode and chosen */
	TEST_ERR(parse(&so, sdp_sipp));
	mo = so->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.transcode, "PCMA");
	TEST_ERR(sdp_codec_apply(so, mo, &ops, &e));
	TEST_ERR(parse_more(&sa, ANSWER_HEAD "m=audio 5000 RTP/AVP 8\r\n"));
	ma = sa->media[0];
	TEST_ERR(sdp_codec_decide(&p, mo, ma, &e));
	TEST_EQ(SDP_CODEC_TRANSCODE, p.mode);
	TEST_STREQ("PCMU", p.a.enc);
	TEST_EQ(0, p.a.pt);
	TEST_STREQ("PCMA", p.b.enc);
	TEST_EQ(8, p.b.pt);
	TEST_EQ(-1, p.a.te_pt);
	TEST_EQ(-1, p.b.te_pt);
	/* the offerer is answered with its own codec */
	TEST_ERR(sdp_codec_answer(sa, ma, mo, &p));
	TEST_STREQ("0", fmt_list(ma));
	TEST_ERR(sdp_print(sa, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "m=audio 5000 RTP/AVP 0\r\n"
			 "a=rtpmap:0 PCMU/8000\r\n"));

	/* a stray rtpmap of the answerer for that number goes */
	TEST_ERR(parse_more(&sa, ANSWER_HEAD "m=audio 5000 RTP/AVP 8\r\n"
			    "a=rtpmap:0 FOO/8000\r\na=fmtp:0 x=1\r\n"
			    "a=rtpmap:5 BAR/8000\r\n"));
	ma = sa->media[0];
	TEST_ERR(sdp_codec_decide(&p, mo, ma, &e));
	TEST_ERR(sdp_codec_answer(sa, ma, mo, &p));
	TEST_ERR(sdp_print(sa, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "m=audio 5000 RTP/AVP 0\r\n"
			 "a=rtpmap:0 PCMU/8000\r\n"
			 "a=rtpmap:5 BAR/8000\r\n"));
	TEST_TRUE(!strstr(out, "FOO") && !strstr(out, "x=1"));
	TEST_ERR(roundtrip(out, NULL));

	/* the other way round, without any codec option: PCMA vs PCMU */
	TEST_ERR(parse(&so, ANSWER_HEAD "m=audio 4000 RTP/AVP 8 96\r\n"
		       "a=rtpmap:96 telephone-event/8000\r\n"
		       "a=fmtp:96 0-16\r\n"));
	TEST_ERR(parse_more(&sa, ANSWER_HEAD
			    "m=audio 5000 RTP/AVP 0 101\r\n"
			    "a=rtpmap:101 telephone-event/8000\r\n"
			    "a=fmtp:101 0-15\r\n"));
	mo = so->media[0];
	ma = sa->media[0];
	TEST_ERR(sdp_codec_decide(&p, mo, ma, &e));
	TEST_EQ(SDP_CODEC_TRANSCODE, p.mode);
	TEST_EQ(8, p.a.pt);
	TEST_EQ(0, p.b.pt);
	/* telephone-event numbered differently on each side */
	TEST_EQ(96, p.a.te_pt);
	TEST_EQ(101, p.b.te_pt);
	TEST_ERR(sdp_codec_answer(sa, ma, mo, &p));
	TEST_STREQ("8 96", fmt_list(ma));
	TEST_ERR(sdp_print(sa, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "m=audio 5000 RTP/AVP 8 96\r\n"
			 "a=rtpmap:8 PCMA/8000\r\n"
			 "a=rtpmap:96 telephone-event/8000\r\n"
			 "a=fmtp:96 0-16\r\n"));
	TEST_TRUE(!strstr(out, "101"));

	/* DTMF on one side only: not mapped */
	TEST_ERR(parse(&so, sdp_sipp));
	TEST_ERR(parse_more(&sa, ANSWER_HEAD
			    "m=audio 5000 RTP/AVP 0 101\r\n"
			    "a=rtpmap:101 telephone-event/8000\r\n"));
	TEST_ERR(sdp_codec_decide(&p, so->media[0], sa->media[0], &e));
	TEST_EQ(SDP_CODEC_PASS, p.mode);
	TEST_EQ(-1, p.a.te_pt);
	TEST_EQ(-1, p.b.te_pt);

	/* passthrough of a dynamic codec under different numbers */
	TEST_ERR(parse(&so, sdp_chrome));
	TEST_ERR(parse_more(&sa, ANSWER_HEAD
			    "m=audio 5000 RTP/AVP 96 97\r\n"
			    "a=rtpmap:96 OPUS/48000/2\r\n"
			    "a=fmtp:96 useinbandfec=1\r\n"
			    "a=rtpmap:97 telephone-event/48000\r\n"));
	mo = so->media[0];
	ma = sa->media[0];
	TEST_ERR(sdp_codec_decide(&p, mo, ma, &e));
	TEST_EQ(SDP_CODEC_PASS, p.mode);
	TEST_EQ(111, p.a.pt);
	TEST_EQ(96, p.b.pt);
	TEST_EQ(110, p.a.te_pt);
	TEST_EQ(97, p.b.te_pt);
	TEST_ERR(sdp_codec_answer(sa, ma, mo, &p));
	TEST_STREQ("111 110", fmt_list(ma));
	TEST_ERR(sdp_print(sa, out, sizeof(out), NULL));
	TEST_TRUE(strstr(out, "a=rtpmap:111 OPUS/48000/2\r\n"
			 "a=fmtp:111 useinbandfec=1\r\n"
			 "a=rtpmap:110 telephone-event/48000\r\n"));

	/* no common codec, no G.711 pair */
	TEST_ERR(parse(&so, ANSWER_HEAD "m=audio 4000 RTP/AVP 18 0\r\n"));
	TEST_ERR(parse_more(&sa, ANSWER_HEAD "m=audio 5000 RTP/AVP 9 3\r\n"));
	TEST_EQ(EPROTO, sdp_codec_decide(&p, so->media[0], sa->media[0], &e));
	TEST_STREQ("m=audio: no common codec and no PCMU/PCMA pair to "
		   "transcode", e.msg);

	/* a transcode-added codec is not the offerer's own */
	TEST_ERR(parse(&so, sdp_sipp));
	mo = so->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.transcode, "telephone-event");
	TEST_ERR(sdp_codec_apply(so, mo, &ops, &e));
	TEST_ERR(parse_more(&sa, ANSWER_HEAD
			    "m=audio 5000 RTP/AVP 0 101\r\n"
			    "a=rtpmap:101 telephone-event/8000\r\n"));
	TEST_ERR(sdp_codec_decide(&p, mo, sa->media[0], &e));
	TEST_EQ(-1, p.a.te_pt);

	/* a masked codec is still the offerer's own */
	TEST_ERR(parse(&so, sdp_phone));
	mo = so->media[0];
	memset(&ops, 0, sizeof(ops));
	ops_add(&ops.mask, "PCMA");
	TEST_ERR(sdp_codec_apply(so, mo, &ops, &e));
	TEST_ERR(parse_more(&sa, ANSWER_HEAD "m=audio 5000 RTP/AVP 8\r\n"));
	TEST_ERR(sdp_codec_decide(&p, mo, sa->media[0], &e));
	TEST_EQ(SDP_CODEC_PASS, p.mode);
	TEST_EQ(8, p.a.pt);
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_phone_offer),
	HARNESS_TEST(test_chrome_offer),
	HARNESS_TEST(test_sipp_offer),
	HARNESS_TEST(test_rtpengine_answer),
	HARNESS_TEST(test_static_pts),
	HARNESS_TEST(test_line_ends),
	HARNESS_TEST(test_session_level),
	HARNESS_TEST(test_unknown_kept),
	HARNESS_TEST(test_rejects),
	HARNESS_TEST(test_limits),
	HARNESS_TEST(test_arena_exhaustion),
	HARNESS_TEST(test_print_bounds),
	HARNESS_TEST(test_conn_set),
	HARNESS_TEST(test_ports_set),
	HARNESS_TEST(test_dir_proto_set),
	HARNESS_TEST(test_origin_replace),
	HARNESS_TEST(test_ice_remove),
	HARNESS_TEST(test_crypto),
	HARNESS_TEST(test_codec_strip_mask_offer),
	HARNESS_TEST(test_codec_transcode),
	HARNESS_TEST(test_codec_ops_ng),
	HARNESS_TEST(test_codec_decide),
};

HARNESS_MAIN(tests)
