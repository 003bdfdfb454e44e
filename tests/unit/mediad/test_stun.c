/* tests/unit/mediad/test_stun.c  STUN for ICE-lite: RFC 5769 vectors, builders, malformed input */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>

#include "harness.h"
#include "stun.h"

/* RFC 5769 section 2: the three short-term samples (the software name
 * padding bytes are the RFC's, spaces) */
static const char pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

static const uint8_t req5769[108] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x10, 'S', 'T', 'U', 'N', ' ', 't', 'e', 's',
	't', ' ', 'c', 'l', 'i', 'e', 'n', 't',
	0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, 'e', 'v', 't', 'j', ':', 'h', '6', 'v',
	'Y', 0x20, 0x20, 0x20,
	0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56,
	0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2,
	0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

static const uint8_t resp4[80] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b, 't', 'e', 's', 't', ' ', 'v', 'e', 'c',
	't', 'o', 'r', 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

static const uint8_t resp6[92] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b, 't', 'e', 's', 't', ' ', 'v', 'e', 'c',
	't', 'o', 'r', 0x20,
	0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47,
	0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
	0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static int hex_eq(const uint8_t *b, const char *hex)
{
	char s[3];
	size_t i;

	for (i = 0; hex[2 * i]; i++) {
		snprintf(s, sizeof(s), "%02x", b[i]);
		if (s[0] != hex[2 * i] || s[1] != hex[2 * i + 1])
			return 0;
	}
	return 1;
}

static int test_stun_primitives(void)
{
	uint8_t out[20], key[20];
	int err = 0;

	stun_sha1("abc", 3, out);
	TEST_TRUE(hex_eq(out, "a9993e364706816aba3e25717850c26c9cd0d89d"));
	stun_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  56, out);
	TEST_TRUE(hex_eq(out, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"));
	/* RFC 2202 test cases 1 and 6 (a key longer than a block) */
	memset(key, 0x0b, sizeof(key));
	stun_hmac_sha1(key, 20, "Hi There", 8, out);
	TEST_TRUE(hex_eq(out, "b617318655057264e28bc0b6fb378c8ef146be00"));
	{
		uint8_t big[80];

		memset(big, 0xaa, sizeof(big));
		stun_hmac_sha1(big, 80, "Test Using Larger Than Block-Size "
			       "Key - Hash Key First", 54, out);
		TEST_TRUE(hex_eq(out,
				 "aa4ae5e15272d00e95705637ce8a3b55ed402112"));
	}
	TEST_EQ(0xcbf43926u, stun_crc32("123456789", 9));
	TEST_EQ(0, stun_crc32("", 0));
 out:
	return err;
}

static int test_stun_rfc5769_request(void)
{
	struct stun_msg m;
	uint8_t t[sizeof(req5769)];
	int err = 0;

	TEST_ERR(stun_parse(&m, req5769, sizeof(req5769)));
	TEST_EQ(STUN_BINDING_REQ, m.type);
	TEST_EQ(9, m.ulen);
	TEST_TRUE(!memcmp(m.user, "evtj:h6vY", 9));
	TEST_TRUE(m.have_prio);
	TEST_EQ(0x6e0001ffu, m.prio);
	TEST_TRUE(m.controlled && !m.controlling && !m.use_cand);
	TEST_EQ(0x932ff9b151263b36ull, m.tiebreak);
	TEST_EQ(0, m.unknown_req);
	TEST_ERR(stun_check_mi(&m, req5769, pwd, strlen(pwd)));
	TEST_ERR(stun_check_fp(&m, req5769));
	TEST_EQ(EACCES, stun_check_mi(&m, req5769, "VOkJxbRl1RmTxUk/WvJxBT",
				      22));

	/* one bit anywhere before MESSAGE-INTEGRITY breaks both checks */
	memcpy(t, req5769, sizeof(t));
	t[30] ^= 1;
	TEST_ERR(stun_parse(&m, t, sizeof(t)));
	TEST_EQ(EACCES, stun_check_mi(&m, t, pwd, strlen(pwd)));
	TEST_EQ(EBADMSG, stun_check_fp(&m, t));
 out:
	return err;
}

static int test_stun_rfc5769_responses(void)
{
	const struct sockaddr_in *in;
	const struct sockaddr_in6 *in6;
	struct stun_msg m;
	char buf[64];
	int err = 0;

	TEST_ERR(stun_parse(&m, resp4, sizeof(resp4)));
	TEST_EQ(STUN_BINDING_OK, m.type);
	TEST_TRUE(m.have_xaddr);
	in = (const struct sockaddr_in *)&m.xaddr;
	TEST_EQ(AF_INET, in->sin_family);
	TEST_EQ(32853, ntohs(in->sin_port));
	inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
	TEST_STREQ("192.0.2.1", buf);
	TEST_ERR(stun_check_mi(&m, resp4, pwd, strlen(pwd)));
	TEST_ERR(stun_check_fp(&m, resp4));

	TEST_ERR(stun_parse(&m, resp6, sizeof(resp6)));
	in6 = (const struct sockaddr_in6 *)&m.xaddr;
	TEST_EQ(AF_INET6, in6->sin6_family);
	TEST_EQ(32853, ntohs(in6->sin6_port));
	inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
	TEST_STREQ("2001:db8:1234:5678:11:2233:4455:6677", buf);
	TEST_ERR(stun_check_mi(&m, resp6, pwd, strlen(pwd)));
	TEST_ERR(stun_check_fp(&m, resp6));
 out:
	return err;
}

/* Our success response to the RFC's request: the XOR-MAPPED-ADDRESS
 * bytes are the RFC's, integrity and fingerprint check, and it is
 * built over the request itself (the relay answers in place). */
static int test_stun_build_success(void)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct stun_msg m;
	uint8_t buf[256];
	size_t n;
	int err = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(32853);
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	memcpy(buf, req5769, sizeof(req5769));
	n = stun_build_success(buf, sizeof(buf), buf + 8,
			       (struct sockaddr *)&sin, pwd, strlen(pwd));
	TEST_EQ(20 + 12 + 24 + 8, n);
	TEST_TRUE(!memcmp(buf + 8, req5769 + 8, STUN_TID_LEN));
	TEST_TRUE(!memcmp(buf + 20, resp4 + 36, 12));
	TEST_ERR(stun_parse(&m, buf, n));
	TEST_EQ(STUN_BINDING_OK, m.type);
	TEST_ERR(stun_check_mi(&m, buf, pwd, strlen(pwd)));
	TEST_ERR(stun_check_fp(&m, buf));

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(32853);
	inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677",
		  &sin6.sin6_addr);
	n = stun_build_success(buf, sizeof(buf), req5769 + 8,
			       (struct sockaddr *)&sin6, pwd, strlen(pwd));
	TEST_EQ(20 + 24 + 24 + 8, n);
	TEST_TRUE(!memcmp(buf + 20, resp6 + 36, 24));
	TEST_ERR(stun_parse(&m, buf, n));
	TEST_ERR(stun_check_mi(&m, buf, pwd, strlen(pwd)));
	TEST_ERR(stun_check_fp(&m, buf));

	/* too small a buffer: 0, never a partial message */
	TEST_EQ(0, stun_build_success(buf, 40, req5769 + 8,
				      (struct sockaddr *)&sin, pwd, 22));
 out:
	return err;
}

static int test_stun_build_error_and_request(void)
{
	static const uint8_t tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
					 12 };
	struct stun_req r;
	struct stun_msg m;
	uint8_t buf[256];
	size_t n;
	int err = 0;

	n = stun_build_error(buf, sizeof(buf), tid, 401);
	TEST_TRUE(n > 0);
	TEST_ERR(stun_parse(&m, buf, n));
	TEST_EQ(STUN_BINDING_ERR, m.type);
	TEST_EQ(401, m.err_code);
	TEST_EQ(0, m.mi_off);
	TEST_ERR(stun_check_fp(&m, buf));

	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.user = "abcd:efgh";
	r.prio = 1853824767;
	r.use_cand = true;
	r.controlling = true;
	r.tiebreak = 0x0102030405060708ull;
	r.key = "secretsecretsecretsecret";
	r.klen = 24;
	r.fingerprint = true;
	n = stun_build_request(buf, sizeof(buf), &r);
	TEST_TRUE(n > 0);
	TEST_ERR(stun_parse(&m, buf, n));
	TEST_EQ(STUN_BINDING_REQ, m.type);
	TEST_TRUE(m.use_cand && m.controlling && m.have_prio);
	TEST_EQ(1853824767u, m.prio);
	TEST_EQ(9, m.ulen);
	TEST_ERR(stun_check_mi(&m, buf, r.key, r.klen));
	TEST_ERR(stun_check_fp(&m, buf));
	TEST_EQ(EACCES, stun_check_mi(&m, buf, "x", 1));

	/* no integrity asked: ENOENT from the check */
	r.key = NULL;
	n = stun_build_request(buf, sizeof(buf), &r);
	TEST_ERR(stun_parse(&m, buf, n));
	TEST_EQ(ENOENT, stun_check_mi(&m, buf, "x", 1));
 out:
	return err;
}

static int test_stun_malformed(void)
{
	uint8_t t[sizeof(req5769) + 8];
	struct stun_msg m;
	size_t n;
	int err = 0;

	/* every prefix of a valid message is refused */
	for (n = 0; n < sizeof(req5769); n++)
		TEST_EQ(EBADMSG, stun_parse(&m, req5769, n));
	/* top bits set (RTP), bad cookie, length not matching */
	memcpy(t, req5769, sizeof(req5769));
	t[0] = 0x80;
	TEST_EQ(EBADMSG, stun_parse(&m, t, sizeof(req5769)));
	memcpy(t, req5769, sizeof(req5769));
	t[4] = 0;
	TEST_EQ(EBADMSG, stun_parse(&m, t, sizeof(req5769)));
	memcpy(t, req5769, sizeof(req5769));
	t[3] = 0x54;
	TEST_EQ(EBADMSG, stun_parse(&m, t, sizeof(req5769)));
	/* an attribute after FINGERPRINT */
	memcpy(t, req5769, sizeof(req5769));
	t[3] = 0x60;
	memcpy(t + sizeof(req5769), "\x80\x22\x00\x04" "abcd", 8);
	TEST_EQ(EBADMSG, stun_parse(&m, t, sizeof(t)));
	/* an attribute running past the end */
	memcpy(t, req5769, sizeof(req5769));
	t[22] = 0x01;
	TEST_EQ(EBADMSG, stun_parse(&m, t, sizeof(req5769)));
	/* a wrong-sized MESSAGE-INTEGRITY */
	memcpy(t, req5769, sizeof(req5769));
	t[79] = 0x10;
	TEST_EQ(EBADMSG, stun_parse(&m, t, sizeof(req5769)));
	TEST_TRUE(stun_first_byte(0) && stun_first_byte(3) &&
		  !stun_first_byte(20) && !stun_first_byte(0x80));
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_stun_primitives),
	HARNESS_TEST(test_stun_rfc5769_request),
	HARNESS_TEST(test_stun_rfc5769_responses),
	HARNESS_TEST(test_stun_build_success),
	HARNESS_TEST(test_stun_build_error_and_request),
	HARNESS_TEST(test_stun_malformed),
};

HARNESS_MAIN(tests)
