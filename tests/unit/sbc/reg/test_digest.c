/* tests/unit/sbc/reg/test_digest.c  digest: RFC vectors, nonces, decoding */
#include <string.h>

#include "digest.h"
#include "harness.h"

/* RFC 2617 section 3.5 */
#define RFC2617_HDR \
	"Digest username=\"Mufasa\",\r\n" \
	"                 realm=\"testrealm@host.com\",\r\n" \
	"                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n" \
	"                 uri=\"/dir/index.html\",\r\n" \
	"                 qop=auth,\r\n" \
	"                 nc=00000001,\r\n" \
	"                 cnonce=\"0a4f113b\",\r\n" \
	"                 response=\"6629fae49393a05397450978507c4ef1\",\r\n" \
	"                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""

/* RFC 7616 section 3.9.1, the SHA-256 request */
#define RFC7616_SHA256_HDR \
	"Digest username=\"Mufasa\", realm=\"http-auth@example.org\", " \
	"uri=\"/dir/index.html\", algorithm=SHA-256, " \
	"nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", " \
	"nc=00000001, " \
	"cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", " \
	"qop=auth, response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496" \
	"794697cf8db5856cb6c1\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAF" \
	"RtzCUYo5tdS\""

/* the same request with MD5 */
#define RFC7616_MD5_HDR \
	"Digest username=\"Mufasa\", realm=\"http-auth@example.org\", " \
	"uri=\"/dir/index.html\", algorithm=MD5, " \
	"nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", " \
	"nc=00000001, " \
	"cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", " \
	"qop=auth, response=\"8ca523f5e9506fed4657c9700eebdbec\", " \
	"opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""

static struct digest_cred cred;   /* 2.5 KiB: not on every stack frame */

static int decode(const char *s)
{
	return digest_cred_decode(&cred, s, strlen(s));
}

static int test_ha1(void)
{
	char md5[33], sha[65];
	int err = 0;

	TEST_ERR(digest_ha1_md5(md5, "Mufasa", "testrealm@host.com",
				"Circle Of Life"));
	TEST_STREQ("939e7578ed9e3c518a452acee763bce9", md5);
	TEST_ERR(digest_ha1_md5(md5, "Mufasa", "http-auth@example.org",
				"Circle of Life"));
	TEST_STREQ("3d78807defe7de2157e2b0b6573a855f", md5);
	TEST_ERR(digest_ha1_sha256(sha, "Mufasa", "http-auth@example.org",
				   "Circle of Life"));
	TEST_STREQ("7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7"
		   "b4794232", sha);
	TEST_EQ(EINVAL, digest_ha1_md5(md5, NULL, "r", "p"));
	TEST_EQ(EINVAL, digest_ha1_sha256(sha, "u", "r", NULL));
 out:
	return err;
}

static int test_rfc2617(void)
{
	char ha1[33], resp[DIGEST_RESP_SIZE];
	int err = 0;

	TEST_ERR(decode(RFC2617_HDR));
	TEST_EQ(DIGEST_ALG_MD5, cred.alg);
	TEST_TRUE(cred.qop);
	TEST_STREQ("Mufasa", cred.username);
	TEST_STREQ("testrealm@host.com", cred.realm);
	TEST_STREQ("dcd98b7102dd2f0e8b11d0f600bfb0c093", cred.nonce);
	TEST_STREQ("/dir/index.html", cred.uri);
	TEST_STREQ("00000001", cred.nc);
	TEST_STREQ("0a4f113b", cred.cnonce);
	TEST_STREQ("5ccc069c403ebaf9f0171e9517f40e41", cred.opaque);

	TEST_ERR(digest_ha1_md5(ha1, "Mufasa", "testrealm@host.com",
				"Circle Of Life"));
	TEST_ERR(digest_response(resp, sizeof(resp), &cred, ha1, "GET", 3));
	TEST_STREQ("6629fae49393a05397450978507c4ef1", resp);
	TEST_TRUE(digest_verify(&cred, ha1, "GET", 3));

	/* any change to method, password, nc or cnonce breaks it */
	TEST_TRUE(!digest_verify(&cred, ha1, "PUT", 3));
	TEST_ERR(digest_ha1_md5(ha1, "Mufasa", "testrealm@host.com",
				"Circle of Life"));
	TEST_TRUE(!digest_verify(&cred, ha1, "GET", 3));
	TEST_ERR(digest_ha1_md5(ha1, "Mufasa", "testrealm@host.com",
				"Circle Of Life"));
	cred.nc[7] = '2';
	TEST_TRUE(!digest_verify(&cred, ha1, "GET", 3));
	cred.nc[7] = '1';
	cred.cnonce[0] = '1';
	TEST_TRUE(!digest_verify(&cred, ha1, "GET", 3));

	/* HA1 of the wrong length or algorithm is refused, not used */
	TEST_EQ(EINVAL, digest_response(resp, sizeof(resp), &cred, "abc",
					"GET", 3));
	TEST_EQ(ENOSPC, digest_response(resp, 32, &cred, ha1, "GET", 3));
 out:
	return err;
}

static int test_rfc7616(void)
{
	char md5[33], sha[65];
	int err = 0;

	TEST_ERR(digest_ha1_md5(md5, "Mufasa", "http-auth@example.org",
				"Circle of Life"));
	TEST_ERR(digest_ha1_sha256(sha, "Mufasa", "http-auth@example.org",
				   "Circle of Life"));

	TEST_ERR(decode(RFC7616_SHA256_HDR));
	TEST_EQ(DIGEST_ALG_SHA256, cred.alg);
	TEST_TRUE(digest_verify(&cred, sha, "GET", 3));
	TEST_TRUE(!digest_verify(&cred, md5, "GET", 3));

	TEST_ERR(decode(RFC7616_MD5_HDR));
	TEST_EQ(DIGEST_ALG_MD5, cred.alg);
	TEST_TRUE(digest_verify(&cred, md5, "GET", 3));
	TEST_TRUE(!digest_verify(&cred, sha, "GET", 3));

	/* upper-case hex in the response is the same number */
	TEST_ERR(decode("Digest username=\"Mufasa\", realm=\"http-auth@"
			"example.org\", uri=\"/dir/index.html\", algorithm=md5,"
			" nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
			"\", nc=00000001, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/"
			"H5QzzpXusqGemxURZJ\", qop=\"auth\", response=\"8CA523"
			"F5E9506FED4657C9700EEBDBEC\""));
	TEST_STREQ("8ca523f5e9506fed4657c9700eebdbec", cred.response);
	TEST_TRUE(digest_verify(&cred, md5, "GET", 3));
 out:
	return err;
}

/*
 * Without qop (RFC 2069, which RFC 3261 22.4 keeps): response =
 * H(HA1:nonce:HA2). RFC 2069's own example is known to be wrong, so the
 * expected value was computed apart, with Python's hashlib.
 */
static int test_rfc2069(void)
{
	char ha1[33];
	int err = 0;

	TEST_ERR(decode("Digest username=\"Mufasa\", realm=\"testrealm@host."
			"com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
			"uri=\"/dir/index.html\", response=\"670fd8c2df070c60"
			"b045671b8b24ff02\", nc=00000001, cnonce=\"x\""));
	TEST_TRUE(!cred.qop);
	TEST_STREQ("", cred.nc);              /* meaningless without qop */
	TEST_ERR(digest_ha1_md5(ha1, "Mufasa", "testrealm@host.com",
				"Circle Of Life"));
	TEST_TRUE(digest_verify(&cred, ha1, "GET", 3));
 out:
	return err;
}

/* A SIP REGISTER as sipp and most phones send it. */
static int test_sip_register(void)
{
	char ha1[33], resp[DIGEST_RESP_SIZE];
	int err = 0;

	TEST_ERR(decode("Digest username=\"alice\",realm=\"example.com\","
			"nonce=\"abc\",uri=\"sip:example.com\",response=\""
			"00000000000000000000000000000000\",algorithm=MD5"));
	TEST_TRUE(!cred.qop);
	TEST_ERR(digest_ha1_md5(ha1, "alice", "example.com", "secret"));
	TEST_ERR(digest_response(resp, sizeof(resp), &cred, ha1,
				 "REGISTER", 8));
	/* H(H(alice:example.com:secret):abc:H(REGISTER:sip:example.com)) */
	TEST_STREQ("dbe98f00688a08a2dbda0b12e8c71319", resp);
	TEST_TRUE(!digest_verify(&cred, ha1, "REGISTER", 8));
	memcpy(cred.response, resp, sizeof(resp));
	TEST_TRUE(digest_verify(&cred, ha1, "REGISTER", 8));
 out:
	return err;
}

static int test_decode_forms(void)
{
	int err = 0;

	/* any order, odd spacing, case of names and scheme, empty items */
	TEST_ERR(decode("  digest ,,RESPONSE = \"0123456789abcdef0123456789a"
			"bcdef\" ,  uri=\"sip:a@b;x=\\\"y\\\"\",NONCE=n\t, "
			"realm=\"r\\\\s\",username=\"a\\\"b\", foo=bar, "
			"baz=\"q,u=o\\\"te\" , "));
	TEST_STREQ("a\"b", cred.username);
	TEST_STREQ("r\\s", cred.realm);
	TEST_STREQ("n", cred.nonce);
	TEST_STREQ("sip:a@b;x=\"y\"", cred.uri);
	TEST_EQ(DIGEST_ALG_MD5, cred.alg);

	/* UTF-8 is fine in a quoted-string; an empty username decodes */
	TEST_ERR(decode("Digest username=\"J\xc3\xb6rg\", realm=\"\", nonce="
			"\"n\", uri=\"u\", response=\"0123456789abcdef012345"
			"6789abcdef\""));
	TEST_STREQ("J\xc3\xb6rg", cred.username);
	TEST_STREQ("", cred.realm);
 out:
	return err;
}

#define GOOD_TAIL "realm=\"r\", nonce=\"n\", uri=\"u\", " \
	"response=\"0123456789abcdef0123456789abcdef\""

static int test_decode_refused(void)
{
	static const char *const bad[] = {
		"",
		"   ",
		"Digest",
		"Digest ",
		"Digest username=\"a\"",
		/* each required field missing in turn */
		"Digest realm=\"r\", nonce=\"n\", uri=\"u\", response=\"0123"
			"456789abcdef0123456789abcdef\"",
		"Digest username=\"a\", nonce=\"n\", uri=\"u\", response=\""
			"0123456789abcdef0123456789abcdef\"",
		"Digest username=\"a\", realm=\"r\", uri=\"u\", response=\""
			"0123456789abcdef0123456789abcdef\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", response=\""
			"0123456789abcdef0123456789abcdef\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\"",
		/* syntax */
		"Digest username=\"a, " GOOD_TAIL,
		"Digest username=\"a\\",
		"Digest username=\"a\" x " GOOD_TAIL,
		"Digest username \"a\", " GOOD_TAIL,
		"Digest username=, " GOOD_TAIL,
		"Digest =\"a\", " GOOD_TAIL,
		"Digest username=\"a\"\"b\", " GOOD_TAIL,
		"Digest username=a\"b, " GOOD_TAIL,
		"Digest username=\"a\", username=\"b\", " GOOD_TAIL,
		"Digest username=\"a\", nonce=\"\", realm=\"r\", uri=\"u\", "
			"response=\"0123456789abcdef0123456789abcdef\"",
		"Digest username=\"a\x01\", " GOOD_TAIL,
		"Digest username=\"a\\\x01\", " GOOD_TAIL,
		/* response: length per algorithm, hex only */
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
			"response=\"0123456789abcdef0123456789abcde\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
			"response=\"0123456789abcdef0123456789abcdeg\"",
		"Digest username=\"a\", algorithm=SHA-256, " GOOD_TAIL,
		/* qop without nc / cnonce, bad nc */
		"Digest username=\"a\", qop=auth, cnonce=\"c\", " GOOD_TAIL,
		"Digest username=\"a\", qop=auth, nc=00000001, " GOOD_TAIL,
		"Digest username=\"a\", qop=auth, nc=00000001, cnonce=\"\", "
			GOOD_TAIL,
		"Digest username=\"a\", qop=auth, nc=0000001, cnonce=\"c\", "
			GOOD_TAIL,
		"Digest username=\"a\", qop=auth, nc=0000000x, cnonce=\"c\", "
			GOOD_TAIL,
	};
	static const char nul[] = "Digest username=\"a\0b\", " GOOD_TAIL;
	char big[DIGEST_URI_SIZE + 200];
	size_t i;
	int err = 0, r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = decode(bad[i]);
		if (r != EBADMSG) {
			TEST_FAIL_AT("bad[%zu] \"%s\": %d", i, bad[i], r);
			err = EINVAL;
			goto out;
		}
	}

	TEST_EQ(EPROTONOSUPPORT, decode("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
	TEST_EQ(EPROTONOSUPPORT, decode("Digestx " GOOD_TAIL));
	TEST_EQ(EPROTONOSUPPORT, decode("Digest\"a\" " GOOD_TAIL));
	TEST_EQ(ENOTSUP, decode("Digest username=\"a\", algorithm=MD5-sess, "
				GOOD_TAIL));
	TEST_EQ(ENOTSUP, decode("Digest username=\"a\", algorithm=SHA-512-"
				"256, " GOOD_TAIL));
	TEST_EQ(ENOTSUP, decode("Digest username=\"a\", qop=auth-int, nc=0000"
				"0001, cnonce=\"c\", " GOOD_TAIL));

	/* a value longer than its field; a NUL inside a value */
	memset(big, 0, sizeof(big));
	strcpy(big, "Digest username=\"a\", " GOOD_TAIL ", uri2=\"x\", "
	       "opaque=\"");
	memset(big + strlen(big), 'o', DIGEST_FIELD_SIZE);
	strcat(big, "\"");
	TEST_EQ(EBADMSG, decode(big));
	TEST_EQ(EBADMSG, digest_cred_decode(&cred, nul, sizeof(nul) - 1));

	/* the length bounds the read: a cut header is incomplete */
	strcpy(big, "Digest username=\"a\", " GOOD_TAIL);
	TEST_ERR(digest_cred_decode(&cred, big, strlen(big)));
	TEST_EQ(EBADMSG, digest_cred_decode(&cred, big, strlen(big) - 1));
	TEST_EQ(EBADMSG, digest_cred_decode(&cred, big, 30));
	TEST_EQ(EINVAL, digest_cred_decode(&cred, NULL, 3));
 out:
	return err;
}

static int test_nonce(void)
{
	char n[DIGEST_NONCE_LEN + 1], m[DIGEST_NONCE_LEN + 1];
	const uint64_t t = 1000;
	int err = 0;

	TEST_ERR(digest_nonce_make(n, "example.com", t));
	TEST_EQ(DIGEST_NONCE_LEN, strlen(n));
	TEST_ERR(digest_nonce_check(n, "example.com", t));
	TEST_ERR(digest_nonce_check(n, "example.com", t + DIGEST_NONCE_TTL));

	/* age: stale after the TTL, and from the future */
	TEST_EQ(ESTALE, digest_nonce_check(n, "example.com",
					   t + DIGEST_NONCE_TTL + 1));
	TEST_EQ(ESTALE, digest_nonce_check(n, "example.com", t - 1));

	/* not ours: other realm, any changed digit, other length */
	TEST_EQ(EBADMSG, digest_nonce_check(n, "example.net", t));
	TEST_EQ(EBADMSG, digest_nonce_check(n, "EXAMPLE.COM", t));
	memcpy(m, n, sizeof(m));
	m[DIGEST_NONCE_LEN - 1] = m[DIGEST_NONCE_LEN - 1] == '0' ? '1' : '0';
	TEST_EQ(EBADMSG, digest_nonce_check(m, "example.com", t));

	/* a forged time: fresher, same MAC */
	memcpy(m, n, sizeof(m));
	m[15] = m[15] == '8' ? '9' : '8';
	TEST_EQ(EBADMSG, digest_nonce_check(m, "example.com", t));
	m[DIGEST_NONCE_LEN - 1] = '\0';
	TEST_EQ(EBADMSG, digest_nonce_check(m, "example.com", t));
	TEST_EQ(EBADMSG, digest_nonce_check("", "example.com", t));
	memcpy(m, n, sizeof(m));
	m[3] = 'A';                           /* upper case is not ours */
	TEST_EQ(EBADMSG, digest_nonce_check(m, "example.com", t));

	/* two nonces of the same second are the same; another second not */
	TEST_ERR(digest_nonce_make(m, "example.com", t));
	TEST_STREQ(n, m);
	TEST_ERR(digest_nonce_make(m, "example.com", t + 1));
	TEST_TRUE(strcmp(n, m) != 0);
	TEST_ERR(digest_nonce_check(m, "example.com", t + 1));
 out:
	return err;
}

static int test_challenge(void)
{
	char buf[256];
	int err = 0;

	TEST_ERR(digest_challenge(buf, sizeof(buf), DIGEST_ALG_MD5,
				  "example.com", "abc", false));
	TEST_STREQ("Digest realm=\"example.com\", nonce=\"abc\", qop=\"auth\","
		   " algorithm=MD5", buf);
	TEST_ERR(digest_challenge(buf, sizeof(buf), DIGEST_ALG_SHA256,
				  "a\"b\\c", "n", true));
	TEST_STREQ("Digest realm=\"a\\\"b\\\\c\", nonce=\"n\", qop=\"auth\","
		   " algorithm=SHA-256, stale=true", buf);

	/* what we print, we decode to the same realm */
	TEST_ERR(decode(strcat(buf, ", username=\"u\", uri=\"x\", nc=00000001"
			       ", cnonce=\"c\", response="
			       "\"0123456789abcdef0123456789abcdef0123456789ab"
			       "cd"
			       "ef0123456789abcdef\"")));
	TEST_STREQ("a\"b\\c", cred.realm);
	TEST_EQ(DIGEST_ALG_SHA256, cred.alg);

	TEST_EQ(ENOSPC, digest_challenge(buf, 20, DIGEST_ALG_MD5,
					 "example.com", "abc", false));
	TEST_STREQ("", buf);
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_ha1),
	HARNESS_TEST(test_rfc2617),
	HARNESS_TEST(test_rfc7616),
	HARNESS_TEST(test_rfc2069),
	HARNESS_TEST(test_sip_register),
	HARNESS_TEST(test_decode_forms),
	HARNESS_TEST(test_decode_refused),
	HARNESS_TEST(test_nonce),
	HARNESS_TEST(test_challenge),
};

HARNESS_MAIN(tests)
