/* tests/unit/mediad/test_dtls.c  DTLS-SRTP handshakes in memory: keys, fingerprints, failures */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "harness.h"
#include "dtls.h"

/* Datagrams in flight toward one side: the other side's sendh fills
 * it, the pump feeds it. */
struct pipe {
	uint8_t  d[32][1600];
	size_t   len[32];
	unsigned n;
	unsigned sent;                 /* datagrams ever sent */
	bool     drop_next;
};

struct side {
	struct dtls_conn *c;
	struct pipe *to_peer;
	enum dtls_state last;
	unsigned changes;
	bool     hold;                 /* on UP: dtls_conn_release_at() */
	uint32_t hold_seq;
};

static uint32_t applied;           /* the "worker's" applied count */

static uint32_t applied_h(uint32_t worker, void *arg)
{
	(void)arg;
	return worker == 3 ? applied : 0;
}

static void sendh(const uint8_t *p, size_t len, void *arg)
{
	struct side *s = arg;
	struct pipe *q = s->to_peer;

	++q->sent;
	if (q->drop_next) {
		q->drop_next = false;
		return;
	}
	if (q->n < 32 && len <= sizeof(q->d[0])) {
		memcpy(q->d[q->n], p, len);
		q->len[q->n++] = len;
	}
}

static void stateh(struct dtls_conn *c, enum dtls_state st, void *arg)
{
	struct side *s = arg;

	s->last = st;
	++s->changes;
	if (st == DTLS_UP && s->hold)
		dtls_conn_release_at(c, 3, s->hold_seq);
}

static void drain(struct pipe *q, struct side *to)
{
	uint8_t d[32][1600];
	size_t len[32];
	unsigned i, n = q->n;

	memcpy(d, q->d, sizeof(d));
	memcpy(len, q->len, sizeof(len));
	q->n = 0;
	for (i = 0; i < n; i++)
		dtls_conn_input(to->c, d[i], len[i]);
}

static void pump(struct pipe *ab, struct pipe *ba, struct side *a,
		 struct side *b)
{
	unsigned i;

	for (i = 0; i < 20 && (ab->n || ba->n); i++) {
		drain(ab, b);
		drain(ba, a);
	}
}

static struct pipe p_ab, p_ba;

static int fp_of(struct dtls_fp *fp, const struct dtls *d)
{
	return dtls_fp_parse(fp, "sha-256", dtls_fingerprint(d));
}

/* Two identities (server <ds>, client <dc>) and their fingerprints. */
static int two_ids(struct dtls **ds, struct dtls **dc, struct dtls_fp *fs,
		   struct dtls_fp *fc)
{
	int err;

	err = dtls_init(ds);
	if (!err)
		err = dtls_init(dc);
	if (!err)
		err = fp_of(fs, *ds);
	if (!err)
		err = fp_of(fc, *dc);
	return err;
}

static void teardown(struct side *s, struct side *c, struct dtls *ds,
		     struct dtls *dc)
{
	dtls_conn_free(s->c);
	dtls_conn_free(c->c);
	dtls_fini(ds);
	dtls_fini(dc);
}

/* Empty pipes; server side <s> sends into p_ab, client <c> into p_ba. */
static void sides_reset(struct side *s, struct side *c)
{
	memset(&p_ab, 0, sizeof(p_ab));
	memset(&p_ba, 0, sizeof(p_ba));
	memset(s, 0, sizeof(*s));
	memset(c, 0, sizeof(*c));
	s->to_peer = &p_ab;
	c->to_peer = &p_ba;
}

static int test_dtls_fp_parse(void)
{
	struct dtls_fp a, b;
	int err = 0;

	TEST_ERR(dtls_fp_parse(&a, "SHA-1", "4A:AD:B9:B1:3F:82:18:3B:54:02:"
			       "12:DF:3E:5D:49:6B:19:E5:7C:AB"));
	TEST_EQ(DTLS_HASH_SHA1, a.hash);
	TEST_EQ(20, a.len);
	TEST_EQ(0x4a, a.v[0]);
	TEST_EQ(0xab, a.v[19]);
	TEST_ERR(dtls_fp_parse(&b, "sha-1", "4a:ad:b9:b1:3f:82:18:3b:54:02:"
			       "12:df:3e:5d:49:6b:19:e5:7c:ab"));
	TEST_TRUE(dtls_fp_eq(&a, &b));
	TEST_EQ(ENOTSUP, dtls_fp_parse(&a, "sha-512", "AA"));
	TEST_EQ(EINVAL, dtls_fp_parse(&a, "sha-1", "4A:AD"));
	TEST_EQ(EINVAL, dtls_fp_parse(&a, "sha-256", ""));
	TEST_EQ(EINVAL, dtls_fp_parse(&a, "sha-1", "4A:AD:B9:B1:3F:82:18:3B:"
				      "54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:"));
	TEST_EQ(EINVAL, dtls_fp_parse(&a, "sha-1", "4AAD:B9:B1:3F:82:18:3B:"
				      "54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB"));
	TEST_EQ(EINVAL, dtls_fp_parse(&a, "sha-1", "4G:AD:B9:B1:3F:82:18:3B:"
				      "54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB"));
 out:
	return err;
}

/* A mediad-like server against a browser-like client, each its own
 * certificate; <sfp>/<cfp>: what each believes of the other (NULL:
 * unknown). */
static int handshake(struct dtls *ds, struct dtls *dc,
		     const struct dtls_fp *sfp, const struct dtls_fp *cfp,
		     struct side *s, struct side *c)
{
	int err;

	sides_reset(s, c);
	err = dtls_conn_new(&s->c, ds, false, sfp, sendh, stateh, s);
	if (err)
		return err;
	err = dtls_conn_new(&c->c, dc, true, cfp, sendh, stateh, c);
	if (err)
		return err;
	pump(&p_ba, &p_ab, c, s);
	return 0;
}

static int test_dtls_handshake_keys(void)
{
	struct dtls *ds = NULL, *dc = NULL;
	struct side s, c;
	struct dtls_fp fs, fc;
	struct sdes_key sin, sout, cin, cout;
	int err = 0;

	sides_reset(&s, &c);
	TEST_ERR(two_ids(&ds, &dc, &fs, &fc));
	TEST_EQ(32 * 3 - 1, strlen(dtls_fingerprint(ds)));
	TEST_TRUE(strcmp(dtls_fingerprint(ds), dtls_fingerprint(dc)));

	TEST_ERR(handshake(ds, dc, &fc, &fs, &s, &c));
	TEST_EQ(DTLS_UP, dtls_conn_state(s.c));
	TEST_EQ(DTLS_UP, dtls_conn_state(c.c));
	TEST_EQ(DTLS_UP, s.last);
	TEST_EQ(1, s.changes);
	TEST_TRUE(dtls_conn_verified(s.c) && dtls_conn_verified(c.c));
	TEST_TRUE(!dtls_conn_client(s.c) && dtls_conn_client(c.c));
	TEST_ERR(dtls_conn_keys(s.c, &sin, &sout));
	TEST_ERR(dtls_conn_keys(c.c, &cin, &cout));
	TEST_EQ(SDES_AES_CM_128_HMAC_SHA1_80, sin.suite);
	TEST_TRUE(sdes_key_eq(&sin, &cout));
	TEST_TRUE(sdes_key_eq(&sout, &cin));
	TEST_TRUE(!sdes_key_eq(&sin, &sout));

	/* a retransmitted client flight after the handshake is absorbed */
	TEST_EQ(DTLS_UP, dtls_conn_input(s.c, (const uint8_t *)
					 "\x16\xfe\xfd\0\0\0\0\0\0\0\x09\0\x01"
					 "x", 14));
	/* close_notify from the client */
	dtls_conn_free(c.c);
	c.c = NULL;
 out:
	teardown(&s, &c, ds, dc);
	return err;
}

static int test_dtls_wrong_fingerprint(void)
{
	struct dtls *ds = NULL, *dc = NULL, *dx = NULL;
	struct side s, c;
	struct dtls_fp fs, fx;
	int err = 0;

	memset(&s, 0, sizeof(s));
	memset(&c, 0, sizeof(c));
	TEST_ERR(dtls_init(&ds));
	TEST_ERR(dtls_init(&dc));
	TEST_ERR(dtls_init(&dx));
	TEST_ERR(fp_of(&fs, ds));
	TEST_ERR(fp_of(&fx, dx));       /* not the client's */

	TEST_ERR(handshake(ds, dc, &fx, &fs, &s, &c));
	TEST_EQ(DTLS_FAILED, dtls_conn_state(s.c));
	TEST_EQ(DTLS_FAILED, s.last);
	TEST_STREQ("fingerprint mismatch", dtls_conn_why(s.c));
	TEST_TRUE(dtls_conn_state(c.c) != DTLS_UP);
	{
		struct sdes_key a, b;

		TEST_EQ(EAGAIN, dtls_conn_keys(s.c, &a, &b));
	}
	/* a failed association ignores what else comes */
	TEST_EQ(DTLS_FAILED, dtls_conn_input(s.c, (const uint8_t *)"\x16", 1));
 out:
	dtls_conn_free(s.c);
	dtls_conn_free(c.c);
	dtls_fini(ds);
	dtls_fini(dc);
	dtls_fini(dx);
	return err;
}

/* The browser's answer comes after its handshake: decided then. */
static int test_dtls_late_fingerprint(void)
{
	struct dtls *ds = NULL, *dc = NULL;
	struct side s, c;
	struct dtls_fp fs, fc, bad;
	int err = 0;

	sides_reset(&s, &c);
	TEST_ERR(two_ids(&ds, &dc, &fs, &fc));

	TEST_ERR(handshake(ds, dc, NULL, &fs, &s, &c));
	TEST_EQ(DTLS_UP, dtls_conn_state(s.c));
	TEST_TRUE(!dtls_conn_verified(s.c));
	TEST_ERR(dtls_conn_check_fp(s.c, &fc));
	TEST_TRUE(dtls_conn_verified(s.c));
	dtls_conn_free(s.c);
	dtls_conn_free(c.c);
	s.c = c.c = NULL;

	TEST_ERR(handshake(ds, dc, NULL, &fs, &s, &c));
	bad = fc;
	bad.v[5] ^= 1;
	TEST_EQ(EACCES, dtls_conn_check_fp(s.c, &bad));
	TEST_EQ(DTLS_FAILED, dtls_conn_state(s.c));
	TEST_TRUE(!dtls_conn_verified(s.c));
 out:
	teardown(&s, &c, ds, dc);
	return err;
}

/* A lost ClientHello: the client's timer resends it. */
static int test_dtls_retransmit(void)
{
	struct dtls *ds = NULL, *dc = NULL;
	struct side s, c;
	struct dtls_fp fs, fc;
	int err = 0, ms, i;

	sides_reset(&s, &c);
	TEST_ERR(two_ids(&ds, &dc, &fs, &fc));
	p_ba.drop_next = true;
	TEST_ERR(dtls_conn_new(&s.c, ds, false, &fc, sendh, stateh, &s));
	TEST_ERR(dtls_conn_new(&c.c, dc, true, &fs, sendh, stateh, &c));
	TEST_EQ(1, p_ba.sent);
	TEST_EQ(0, p_ba.n);
	ms = dtls_tick(dc);
	TEST_TRUE(ms > 0 && ms <= 1001);
	for (i = 0; i < 30 && !p_ba.n; i++) {
		struct timespec ts = { 0, 50000000 };

		nanosleep(&ts, NULL);
		dtls_tick(dc);
	}
	TEST_EQ(1, p_ba.n);
	pump(&p_ba, &p_ab, &c, &s);
	TEST_EQ(DTLS_UP, dtls_conn_state(s.c));
	TEST_EQ(DTLS_UP, dtls_conn_state(c.c));
	TEST_EQ(-1, dtls_tick(dc));
	TEST_EQ(-1, dtls_tick(ds));
 out:
	teardown(&s, &c, ds, dc);
	return err;
}

/*
 * The server's last flight is held until the "worker" applied the keys
 * (release_at), or DTLS_HOLD_MS passed; with no release_at it goes at
 * once (the other tests).
 */
static int test_dtls_hold(void)
{
	struct dtls *ds = NULL, *dc = NULL;
	struct side s, c;
	struct dtls_fp fs, fc;
	struct sdes_key sin, sout, cin, cout;
	struct timespec ts = { 0, (DTLS_HOLD_MS + 60) * 1000000L };
	int err = 0, ms, round;

	sides_reset(&s, &c);
	TEST_ERR(two_ids(&ds, &dc, &fs, &fc));
	for (round = 0; round < 2; round++) {
		sides_reset(&s, &c);
		s.hold = true;
		s.hold_seq = 0xfffffffeu;  /* across the wrap */
		applied = 0xfffffffdu;
		TEST_ERR(dtls_conn_new(&s.c, ds, false, &fc, sendh, stateh,
				       &s));
		TEST_ERR(dtls_conn_new(&c.c, dc, true, &fs, sendh, stateh,
				       &c));
		pump(&p_ba, &p_ab, &c, &s);
		/* the server is up, its CCS + Finished held: the client
		 * waits */
		TEST_EQ(DTLS_UP, dtls_conn_state(s.c));
		TEST_EQ(DTLS_HANDSHAKE, dtls_conn_state(c.c));
		TEST_TRUE(dtls_conn_held(s.c) >= 1);
		TEST_EQ(0, p_ab.n);
		TEST_EQ(0, dtls_release(ds, applied_h, NULL));
		TEST_EQ(0, p_ab.n);
		ms = dtls_tick(ds);
		TEST_TRUE(ms > 0 && ms <= DTLS_HOLD_MS + 1);
		if (round == 0) {
			applied = 0xffffffffu;      /* past it */
		}
		else {
			/* never applied: the timeout lets it go */
			nanosleep(&ts, NULL);
			TEST_EQ(0, dtls_tick(ds));
		}
		TEST_EQ(1, dtls_release(ds, applied_h, NULL));
		TEST_EQ(0, dtls_conn_held(s.c));
		TEST_TRUE(p_ab.n >= 1);
		TEST_EQ(0, dtls_release(ds, applied_h, NULL));
		TEST_EQ(-1, dtls_tick(ds));
		pump(&p_ab, &p_ba, &s, &c);
		TEST_EQ(DTLS_UP, dtls_conn_state(c.c));
		TEST_ERR(dtls_conn_keys(s.c, &sin, &sout));
		TEST_ERR(dtls_conn_keys(c.c, &cin, &cout));
		TEST_TRUE(sdes_key_eq(&sin, &cout));
		TEST_TRUE(sdes_key_eq(&sout, &cin));
		dtls_conn_free(s.c);
		dtls_conn_free(c.c);
		s.c = c.c = NULL;
	}
	/* freed while holding: nothing sent, nothing left on the list */
	sides_reset(&s, &c);
	s.hold = true;
	s.hold_seq = 5;
	applied = 0;
	TEST_ERR(dtls_conn_new(&s.c, ds, false, &fc, sendh, stateh, &s));
	TEST_ERR(dtls_conn_new(&c.c, dc, true, &fs, sendh, stateh, &c));
	pump(&p_ba, &p_ab, &c, &s);
	TEST_TRUE(dtls_conn_held(s.c) >= 1);
	dtls_conn_free(s.c);
	s.c = NULL;
	TEST_EQ(-1, dtls_tick(ds));
	TEST_EQ(0, dtls_release(ds, applied_h, NULL));
	TEST_EQ(0, p_ab.n);
 out:
	teardown(&s, &c, ds, dc);
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_dtls_fp_parse),
	HARNESS_TEST(test_dtls_handshake_keys),
	HARNESS_TEST(test_dtls_wrong_fingerprint),
	HARNESS_TEST(test_dtls_late_fingerprint),
	HARNESS_TEST(test_dtls_retransmit),
	HARNESS_TEST(test_dtls_hold),
};

HARNESS_MAIN(tests)
