/* tests/unit/mediad/test_relay.c  Worker relay end to end over loopback */
#include <arpa/inet.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "alloc_count.h"
#include "arena.h"
#include "bencode.h"
#include "call.h"
#include "g711.h"
#include "ngcmd.h"
#include "shm.h"
#include "worker.h"

static uint8_t arena_mem[1 << 20];
static uint8_t dec_mem[1 << 16];
static char req[8192];
static char out[16384];

/* The m= port of the reply to request <r>/<len>, or 0. */
static unsigned ng_port(struct ngcmd *nc, size_t len)
{
	struct arena a;
	struct benc b;
	struct bnode *root = NULL;
	const char *p, *m;
	size_t olen, slen;
	char sdp[2048];

	arena_init(&a, arena_mem, sizeof(arena_mem));
	benc_init(&b, out, sizeof(out));
	ngcmd_handle(nc, &a, req, len, &b);
	if (benc_finish(&b, &olen))
		return 0;
	arena_init(&a, dec_mem, sizeof(dec_mem));
	if (bencode_decode(&a, out, olen, &root, NULL, NULL) ||
	    !bnode_get_str(root, "sdp", &p, &slen) || slen >= sizeof(sdp))
		return 0;
	memcpy(sdp, p, slen);
	sdp[slen] = '\0';
	m = strstr(sdp, "m=audio ");
	return m ? (unsigned)atoi(m + 8) : 0;
}

/*
 * What ngsrv does before it answers (ngack.h): wait until <w> applied
 * every command queued so far. Bounded; returns 0 or ETIMEDOUT.
 */
static int applied_wait(const struct worker *w)
{
	struct timespec ts = { 0, 100000 };
	unsigned i;

	for (i = 0; i < 20000; i++) {
		if (worker_applied(w) == worker_queued(w))
			return 0;
		nanosleep(&ts, NULL);
	}
	return ETIMEDOUT;
}

static size_t mkreq(const char *cmd, const char *ttag, unsigned port,
		    const char *fmt)
{
	char sdp[512];
	struct benc b;
	size_t len = 0;

	snprintf(sdp, sizeof(sdp), "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\n"
		 "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP %s\r\n", port, fmt);
	benc_init(&b, req, sizeof(req));
	benc_dict(&b);
	benc_kstr(&b, "command", cmd);
	benc_kstr(&b, "call-id", "relay-1");
	benc_kstr(&b, "from-tag", "ta");
	if (ttag)
		benc_kstr(&b, "to-tag", ttag);
	benc_kstr(&b, "sdp", sdp);
	benc_kint(&b, "delete-delay", 0);
	benc_end(&b);
	benc_finish(&b, &len);
	return len;
}

static int usock(uint16_t *portp)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl))
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*portp = ntohs(sin.sin_port);
	return fd;
}

static int sendto_port(int fd, const uint8_t *p, size_t len, unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	return sendto(fd, p, len, 0, (struct sockaddr *)&sin, sizeof(sin)) ==
		(ssize_t)len ? 0 : errno;
}

static void rtp_mk(uint8_t *p, uint8_t pt, uint16_t seq, uint8_t fill)
{
	memset(p, 0, 172);
	p[0] = 0x80;
	p[1] = pt;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[7] = (uint8_t)seq;
	p[11] = 7;
	memset(p + 12, fill, 160);
}

/*
 * PCMU offerer, PCMA answerer: the worker relays both ways, converts
 * the payload in place, keeps seq and SSRC, maps the payload type, and
 * allocates nothing from the offer to the delete.
 */
static int test_relay_transcode(void)
{
	static struct shm_session sess[10];
	struct worker_prm prm = { .idx = 0, .sessions = sess,
				  .nsessions = 10, .nbufs = 256 };
	static struct sockaddr_in sin;
	struct worker *w = NULL;
	struct calls *c = NULL;
	struct calls_ctr ctr;
	struct ngcmd nc;
	uint8_t pkt[172], got[2048], alaw[160], uf = 0xa5;
	uint16_t pa, pb;
	unsigned rb, ra, i;
	unsigned long before;
	int fa = -1, fb = -1, err = 0;
	ssize_t n;

	err = worker_start(&w, &prm);
	if (err == ENOSYS || err == EPERM)
		return TEST_SKIP;
	TEST_ERR(err);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct calls_prm cp = {
		.port_min = 41400, .port_max = 41439, .nworkers = 1,
		.workers = &w, .media_ip = (struct sockaddr *)&sin,
		.media_len = sizeof(sin), .advertised = "127.0.0.1",
		.sessions = sess,
	};
	TEST_ERR(calls_init(&c, &cp));
	ngcmd_init(&nc, NULL, NULL);
	ngcmd_set_calls(&nc, c);
	fa = usock(&pa);
	fb = usock(&pb);
	TEST_TRUE(fa != -1 && fb != -1);

	before = alloc_count();
	/* rb: where B sends (the offer's SDP, for B); ra: where A sends */
	rb = ng_port(&nc, mkreq("offer", NULL, pa, "0"));
	TEST_TRUE(rb != 0);
	TEST_ERR(applied_wait(w));
	ra = ng_port(&nc, mkreq("answer", "tb", pb, "8"));
	TEST_TRUE(ra != 0);
	/* mediad's NG reply would leave only now */
	TEST_ERR(applied_wait(w));

	g711_ulaw_to_alaw(alaw, (uint8_t[160]){ [0 ... 159] = 0xa5 }, 160);
	for (i = 0; i < 5; i++) {
		rtp_mk(pkt, 0, (uint16_t)(100 + i), uf);
		TEST_ERR(sendto_port(fa, pkt, sizeof(pkt), ra));
		n = recv(fb, got, sizeof(got), 0);
		TEST_EQ(172, n);
		TEST_EQ(8, got[1] & 0x7f);                  /* PCMA */
		TEST_EQ(100 + i, got[2] << 8 | got[3]);     /* seq kept */
		TEST_EQ(7, got[11]);                        /* SSRC kept */
		TEST_TRUE(!memcmp(got + 12, alaw, 160));

		rtp_mk(pkt, 8, (uint16_t)(200 + i), alaw[0]);
		TEST_ERR(sendto_port(fb, pkt, sizeof(pkt), rb));
		n = recv(fa, got, sizeof(got), 0);
		TEST_EQ(172, n);
		TEST_EQ(0, got[1] & 0x7f);                  /* PCMU */
	}
	/* per-leg counters of the call (pool index 0) */
	TEST_EQ(5, atomic_load(&sess[0].packets[0]));
	TEST_EQ(5, atomic_load(&sess[0].packets[1]));
	TEST_EQ(5 * 172, atomic_load(&sess[0].bytes[1]));
	/* not RTP: dropped, not relayed */
	TEST_ERR(sendto_port(fa, (const uint8_t *)"hello", 5, ra));
	(void)ng_port(&nc, mkreq("delete", NULL, 0, "0"));
	TEST_EQ(before, alloc_count());

	/* the worker lets go; the ports come back */
	for (i = 0; i < 200; i++) {
		struct timespec ts = { 0, 5000000 };

		calls_tick(c, 0);
		calls_counters(c, &ctr);
		if (ctr.dying == 0)
			break;
		nanosleep(&ts, NULL);
	}
	TEST_EQ(0, ctr.dying);
	TEST_EQ(20, ctr.ports_free);
 out:
	worker_stop(w);
	calls_fini(c);
	if (fa != -1)
		close(fa);
	if (fb != -1)
		close(fb);
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_relay_transcode),
};

HARNESS_MAIN(tests)
