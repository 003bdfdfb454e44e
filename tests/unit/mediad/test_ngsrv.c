/* tests/unit/mediad/test_ngsrv.c  NG server: framing, cookie cache, UDP */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "cfg.h"
#include "log.h"
#include "ngsrv.h"

static int start(struct ngsrv **sp)
{
	struct cfg_addr a;
	int err;

	/* cfg wants a real port; the test binds an ephemeral one */
	err = cfg_addr_parse(&a, "127.0.0.1:1", true);
	if (err)
		return err;
	((struct sockaddr_in *)&a.ss)->sin_port = 0;
	return ngsrv_start(sp, &a, NULL, NULL);
}

#define PROC(s, msg, now) \
	ngsrv_process(s, msg, sizeof(msg) - 1, now, &reply)

static int test_ngsrv_process(void)
{
	static const char pong[] = "abc123 d6:result4:ponge";
	struct ngsrv *s = NULL;
	struct ngsrv_ctr ctr;
	const char *reply = NULL;
	char first[2048];
	size_t len, flen;
	int err = 0;

	TEST_ERR(start(&s));

	len = PROC(s, "abc123 d7:command4:pinge", 1000);
	TEST_MEMEQ(pong, sizeof(pong) - 1, reply, len);

	/* the same request again: the cached reply, byte for byte */
	len = PROC(s, "c9 d7:command10:statisticse", 1000);
	TEST_TRUE(len > 0 && len < sizeof(first));
	memcpy(first, reply, len);
	flen = len;
	len = PROC(s, "c9 d7:command10:statisticse", 2000);
	TEST_MEMEQ(first, flen, reply, len);
	ngsrv_counters(s, &ctr);
	TEST_EQ(1, ctr.cached);
	TEST_EQ(1, ngsrv_cmd(s)->count[1]);      /* ran once */

	/* after 30 s it runs again */
	len = PROC(s, "c9 d7:command10:statisticse", 1000 + 30000);
	TEST_EQ(2, ngsrv_cmd(s)->count[1]);

	/* same cookie, different body: a new request */
	len = PROC(s, "abc123 d7:command3:xyze", 1000);
	TEST_TRUE(len > 7 && !memcmp(reply, "abc123 d6:result5:error", 23));

	/* no valid cookie: dropped, counted */
	TEST_EQ(0, PROC(s, "nocookie", 1000));
	TEST_EQ(0, PROC(s, " d7:command4:pinge", 1000));
	TEST_EQ(0, PROC(s, "abc ", 1000));
	TEST_EQ(0, ngsrv_process(s, "", 0, 1000, &reply));
	ngsrv_counters(s, &ctr);
	TEST_EQ(4, ctr.dropped);

	/* a broken body still gets an error reply with the cookie */
	len = PROC(s, "k1 d7:command", 1000);
	TEST_TRUE(len > 3 && !memcmp(reply, "k1 d6:result5:error", 19));
 out:
	ngsrv_stop(s);
	return err;
}

/* Over a real socket: request, retransmit, garbage, and it still serves. */
static int test_ngsrv_udp(void)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct ngsrv *s = NULL;
	struct pollfd pfd;
	char buf[512];
	ssize_t n;
	int c = -1, i, err = 0;
	static const char *msgs[] = {
		"p1 d7:command4:pinge",
		"p1 d7:command4:pinge",
		"\x01\x02garbage",
		"p2 d7:command4:pinge",
	};
	static const char *want[] = {
		"p1 d6:result4:ponge",
		"p1 d6:result4:ponge",
		NULL,
		"p2 d6:result4:ponge",
	};

	TEST_ERR(start(&s));
	TEST_TRUE(getsockname(ngsrv_fd(s), (struct sockaddr *)&sa,
			      &salen) == 0);
	c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	TEST_TRUE(c != -1);

	for (i = 0; i < 4; i++) {
		TEST_TRUE(sendto(c, msgs[i], strlen(msgs[i]), 0,
				 (struct sockaddr *)&sa, salen) > 0);
		pfd.fd = ngsrv_fd(s);
		pfd.events = POLLIN;
		TEST_EQ(1, poll(&pfd, 1, 2000));
		TEST_EQ(1, ngsrv_recv(s, 8));
		if (!want[i])
			continue;
		pfd.fd = c;
		TEST_EQ(1, poll(&pfd, 1, 2000));
		n = recv(c, buf, sizeof(buf), 0);
		TEST_MEMEQ(want[i], strlen(want[i]), buf, (size_t)n);
	}
	/* nothing was sent for the garbage */
	TEST_EQ(-1, recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	TEST_EQ(0, ngsrv_recv(s, 8));            /* nothing waiting */
 out:
	if (c != -1)
		close(c);
	ngsrv_stop(s);
	return err;
}

static int test_ngsrv_bind_error(void)
{
	struct ngsrv *a = NULL, *b = NULL;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct cfg_addr addr;
	char text[64];
	int err = 0;

	TEST_ERR(start(&a));
	TEST_TRUE(getsockname(ngsrv_fd(a), (struct sockaddr *)&sa,
			      &salen) == 0);
	snprintf(text, sizeof(text), "127.0.0.1:%u", ntohs(sa.sin_port));
	TEST_ERR(cfg_addr_parse(&addr, text, true));
	TEST_EQ(EADDRINUSE, ngsrv_start(&b, &addr, NULL, NULL));
	TEST_TRUE(b == NULL);
 out:
	ngsrv_stop(a);
	ngsrv_stop(b);
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_ngsrv_process),
	HARNESS_TEST(test_ngsrv_udp),
	HARNESS_TEST(test_ngsrv_bind_error),
};

int main(void)
{
	log_init("test_ngsrv", LOG_LVL_ERROR);
	return harness_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]));
}
