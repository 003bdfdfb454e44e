/* tests/unit/sbc/test_media.c  NG client: reply parsing, pings, requests */
#include <string.h>

#include <re.h>

#include "arena.h"
#include "bencode.h"
#include "cfg.h"
#include "harness.h"
#include "loop_wait.h"
#include "log.h"
#include "media.h"
#include "ng.h"

static uint8_t abuf[8192];

static int parse(struct media_reply *rep, const char *dgram,
		 const char *cookie)
{
	struct arena a;

	arena_init(&a, abuf, sizeof(abuf));
	return media_reply_parse(rep, &a, dgram, strlen(dgram), cookie,
				 strlen(cookie));
}

static int test_parse_pong(void)
{
	struct media_reply rep;
	int err = 0;

	TEST_ERR(parse(&rep, "5f3a_17 d6:result4:ponge", "5f3a_17"));
	TEST_EQ(MEDIA_R_PONG, rep.result);
	TEST_TRUE(rep.dict != NULL);
 out:
	return err;
}

static int test_parse_ok(void)
{
	struct media_reply rep;
	const char *sdp;
	size_t len;
	int err = 0;

	TEST_ERR(parse(&rep, "c1 d3:sdp7:v=0\r\no=6:result2:oke", "c1"));
	TEST_EQ(MEDIA_R_OK, rep.result);
	TEST_TRUE(bnode_get_str(rep.dict, "sdp", &sdp, &len));
	TEST_MEMEQ("v=0\r\no=", 7, sdp, len);
 out:
	return err;
}

static int test_parse_error(void)
{
	struct media_reply rep;
	int err = 0;

	TEST_ERR(parse(&rep, "c1 d12:error-reason15:Unknown call-id6:result"
		       "5:errore", "c1"));
	TEST_EQ(MEDIA_R_ERROR, rep.result);
	TEST_MEMEQ("Unknown call-id", 15, rep.reason, rep.reasonlen);

	/* an error without a reason names itself */
	TEST_ERR(parse(&rep, "c1 d6:result5:errore", "c1"));
	TEST_EQ(MEDIA_R_ERROR, rep.result);
	TEST_MEMEQ("error", 5, rep.reason, rep.reasonlen);

	/* a result we do not know is an error named after it */
	TEST_ERR(parse(&rep, "c1 d6:result10:load limit7:message4:busye",
		       "c1"));
	TEST_EQ(MEDIA_R_ERROR, rep.result);
	TEST_MEMEQ("load limit", 10, rep.reason, rep.reasonlen);
 out:
	return err;
}

static int test_parse_bad(void)
{
	struct media_reply rep;
	int err = 0;

	TEST_EQ(ENOENT, parse(&rep, "c2 d6:result4:ponge", "c1"));
	TEST_EQ(ENOENT, parse(&rep, "c11 d6:result4:ponge", "c1"));
	TEST_EQ(EBADMSG, parse(&rep, "c1", "c1"));
	TEST_EQ(EBADMSG, parse(&rep, "c1 ", "c1"));
	TEST_EQ(EBADMSG, parse(&rep, "c1 d6:result4:pong", "c1"));
	TEST_EQ(EBADMSG, parse(&rep, "c1 d6:result4:pongee", "c1"));
	TEST_EQ(EBADMSG, parse(&rep, "c1 l4:ponge", "c1"));
	TEST_EQ(EBADMSG, parse(&rep, "c1 i1e", "c1"));
	TEST_EQ(EPROTO, parse(&rep, "c1 de", "c1"));
	TEST_EQ(EPROTO, parse(&rep, "c1 d6:resulti1ee", "c1"));
 out:
	return err;
}

/*
 * A fake mediad on a libre UDP socket: answers "ping" with "pong" and
 * "echo" with "ok" unless muted, and counts what it receives.
 */
static struct {
	struct udp_sock *us;
	struct sa        addr;
	bool             mute;
	unsigned         rx;
	char             last_cookie[NG_COOKIE_MAX + 1];
	unsigned         same_cookie;   /* repeats of the last cookie */
} fk;

static void fake_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	const char *buf = (const char *)mbuf_buf(mb), *c, *body;
	size_t len = mbuf_get_left(mb), clen, blen;
	struct mbuf *out;

	(void)arg;

	if (ng_split(buf, len, &c, &clen, &body, &blen))
		return;
	++fk.rx;
	if (strlen(fk.last_cookie) == clen &&
	    !memcmp(fk.last_cookie, c, clen)) {
		++fk.same_cookie;
	}
	else {
		memcpy(fk.last_cookie, c, clen);
		fk.last_cookie[clen] = '\0';
		fk.same_cookie = 0;
	}
	if (fk.mute)
		return;

	out = mbuf_alloc(128);
	if (!out)
		return;
	mbuf_write_mem(out, (const uint8_t *)c, clen);
	if (blen == 17 && !memcmp(body, "d7:command4:pinge", blen))
		mbuf_write_str(out, " d6:result4:ponge");
	else
		mbuf_write_str(out, " d4:echo3:yes6:result2:oke");
	out->pos = 0;
	udp_send(fk.us, src, out);
	mem_deref(out);
}

static bool is_up(void)
{
	return media_up();
}

static bool is_down(void)
{
	return !media_up();
}

static struct {
	bool     done;
	int      err;
	enum media_result result;
	bool     echoed;
} resp;

static bool resp_done(void)
{
	return resp.done;
}

static void resp_h(int err, const struct media_reply *rep, void *arg)
{
	const char *v;
	size_t len;

	(void)arg;

	resp.done = true;
	resp.err = err;
	if (!err) {
		resp.result = rep->result;
		resp.echoed = bnode_get_str(rep->dict, "echo", &v, &len) &&
			len == 3 && !memcmp(v, "yes", 3);
	}
}

static int fake_start(struct cfg_addrlist *l)
{
	struct sa local;
	char text[64];
	int err;

	memset(&fk, 0, sizeof(fk));
	sa_set_str(&local, "127.0.0.1", 0);
	err = udp_listen(&fk.us, &local, fake_recv, NULL);
	if (err)
		return err;
	err = udp_local_get(fk.us, &fk.addr);
	if (err)
		return err;

	memset(l, 0, sizeof(*l));
	re_snprintf(text, sizeof(text), "127.0.0.1:%u", sa_port(&fk.addr));
	l->n = 1;
	return cfg_addr_parse(&l->a[0], text, true);
}

static const char echo[] = "d7:command4:echoe";

/* Up on the first pong; a request and its reply; cancel; timeout. */
static int test_client_requests(void)
{
	struct cfg_addrlist l;
	struct media_req *req = NULL;
	unsigned rx;
	int err = 0;

	TEST_ERR(fake_start(&l));
	TEST_ERR(media_start(&l));

	/* nothing is up before the first pong */
	TEST_EQ(ENOTCONN, media_request(NULL, echo, sizeof(echo) - 1, 500,
					resp_h, NULL));
	TEST_TRUE(loop_wait_for(is_up, 3000));

	memset(&resp, 0, sizeof(resp));
	TEST_ERR(media_request(&req, echo, sizeof(echo) - 1, 1000, resp_h,
			       NULL));
	TEST_TRUE(req != NULL);
	TEST_TRUE(loop_wait_for(resp_done, 2000));
	TEST_TRUE(req == NULL);             /* the handle is cleared */
	TEST_EQ(0, resp.err);
	TEST_EQ(MEDIA_R_OK, resp.result);
	TEST_TRUE(resp.echoed);

	/* a cancelled request never calls back */
	memset(&resp, 0, sizeof(resp));
	fk.mute = true;
	TEST_ERR(media_request(&req, echo, sizeof(echo) - 1, 300, resp_h,
			       NULL));
	req = mem_deref(req);
	TEST_TRUE(!loop_wait_for(resp_done, 500));

	/* no answer: the same cookie again, then ETIMEDOUT */
	rx = fk.rx;
	TEST_ERR(media_request(NULL, echo, sizeof(echo) - 1, 1200, resp_h,
			       NULL));
	TEST_TRUE(loop_wait_for(resp_done, 3000));
	TEST_EQ(ETIMEDOUT, resp.err);
	TEST_TRUE(fk.rx - rx >= 2);
 out:
	media_stop();
	fk.us = mem_deref(fk.us);
	return err;
}

/* Down about 5 s after mediad stops answering, up again when it is back. */
static int test_client_up_down(void)
{
	struct cfg_addrlist l;
	int err = 0;

	TEST_ERR(fake_start(&l));
	TEST_ERR(media_start(&l));
	TEST_TRUE(loop_wait_for(is_up, 3000));

	fk.mute = true;
	TEST_TRUE(!loop_wait_for(is_down, 3500));   /* one missed ping is not down */
	TEST_TRUE(loop_wait_for(is_down, 4000));

	fk.mute = false;
	TEST_TRUE(loop_wait_for(is_up, 3000));

	/* the same endpoint again keeps its state; a new one starts unknown */
	TEST_ERR(media_reconfigure(&l));
	TEST_TRUE(media_up());
 out:
	media_stop();
	fk.us = mem_deref(fk.us);
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_parse_pong),
	HARNESS_TEST(test_parse_ok),
	HARNESS_TEST(test_parse_error),
	HARNESS_TEST(test_parse_bad),
	HARNESS_TEST(test_client_requests),
	HARNESS_TEST(test_client_up_down),
};

int main(void)
{
	int ret;

	log_init("test_media", LOG_LVL_WARN);
	if (libre_init())
		return 1;
	ret = harness_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]));
	libre_close();
	return ret;
}
