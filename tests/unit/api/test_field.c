/* tests/unit/api/test_field.c  field syntax checks, canonical forms, schemas */
#include <stdint.h>

#include "arena.h"
#include "field.h"
#include "harness.h"
#include "jdec.h"

static _Alignas(16) uint8_t arena_buf[16 * 1024];
static char text[1024];

static struct jnode *parse(const char *s)
{
	struct arena a;
	struct jnode *root = NULL;
	size_t len = strlen(s);

	if (len >= sizeof(text))
		return NULL;
	memcpy(text, s, len + 1);
	arena_init(&a, arena_buf, sizeof(arena_buf));
	if (jdec_decode(&a, text, len, &root, NULL, NULL))
		return NULL;
	return root;
}

#define OK(fn, s)  TEST_TRUE(fn(s) == NULL)
#define BAD(fn, s) TEST_TRUE(fn(s) != NULL)

static int test_e164(void)
{
	int err = 0;

	OK(field_e164, "4930123456");
	OK(field_e164, "1");
	OK(field_e164, "123456789012345");
	BAD(field_e164, "");
	BAD(field_e164, "1234567890123456");
	BAD(field_e164, "+4930123456");
	BAD(field_e164, "49 30");
	BAD(field_e164, "49-30");
	BAD(field_e164, "4930x");
	TEST_STREQ("must be E.164 digits without the leading '+'",
		   field_e164("+1"));

	OK(field_prefix, "");
	OK(field_prefix, "49");
	BAD(field_prefix, "+49");
	BAD(field_prefix, "1234567890123456");
	BAD(field_prefix, "4*");
 out:
	return err;
}

static int test_host(void)
{
	int err = 0;

	OK(field_host, "sip.carrier.net");
	OK(field_host, "localhost");
	OK(field_host, "a-b.example");
	OK(field_host, "192.0.2.1");
	OK(field_host, "2001:db8::1");
	OK(field_host, "::1");
	OK(field_host, "xn--mller-kva.example");
	BAD(field_host, "");
	BAD(field_host, "-a.example");
	BAD(field_host, "a-.example");
	BAD(field_host, "a..example");
	BAD(field_host, ".example");
	BAD(field_host, "example.");
	BAD(field_host, "exa mple.com");
	BAD(field_host, "exa_mple.com");
	BAD(field_host, "192.0.2.256");       /* numeric last label */
	BAD(field_host, "1.2.3");
	BAD(field_host, "[2001:db8::1]");
	BAD(field_host, "host:5060");
	BAD(field_host, "a;b");
	BAD(field_host, "1234567890123456789012345678901234567890123456789"
	    "0123456789012345.example");         /* a 64-byte label */
 out:
	return err;
}

static int test_cidr(void)
{
	char buf[64];
	int err = 0;

	OK(field_cidr, "192.0.2.0/24");
	OK(field_cidr, "192.0.2.1");
	OK(field_cidr, "192.0.2.1/32");
	OK(field_cidr, "0.0.0.0/0");
	OK(field_cidr, "2001:db8::/32");
	OK(field_cidr, "::/0");
	OK(field_cidr, "::1/128");
	BAD(field_cidr, "192.0.2.1/24");      /* host bits */
	BAD(field_cidr, "2001:db8::1/32");
	BAD(field_cidr, "192.0.2.0/33");
	BAD(field_cidr, "::/129");
	BAD(field_cidr, "192.0.2.0/");
	BAD(field_cidr, "192.0.2.0/024");
	BAD(field_cidr, "192.0.2.0/2a");
	BAD(field_cidr, "192.0.2.0/-1");
	BAD(field_cidr, "192.0.2/24");
	BAD(field_cidr, "192.0.02.0/24");
	BAD(field_cidr, "example.com");
	BAD(field_cidr, "");
	TEST_STREQ("has host bits set past its prefix length",
		   field_cidr("10.1.2.3/8"));

	TEST_ERR(field_cidr_canon("2001:DB8:0:0::/32", buf, sizeof(buf)));
	TEST_STREQ("2001:db8::/32", buf);
	TEST_ERR(field_cidr_canon("192.0.2.1/32", buf, sizeof(buf)));
	TEST_STREQ("192.0.2.1", buf);
	TEST_ERR(field_cidr_canon("0:0:0:0:0:0:0:1", buf, sizeof(buf)));
	TEST_STREQ("::1", buf);
	TEST_ERR(field_cidr_canon("10.0.0.0/8", buf, sizeof(buf)));
	TEST_STREQ("10.0.0.0/8", buf);
	TEST_EQ(EINVAL, field_cidr_canon("10.0.0.1/8", buf, sizeof(buf)));
	TEST_EQ(ENOSPC, field_cidr_canon("10.0.0.0/8", buf, 5));
 out:
	return err;
}

static int test_entry(void)
{
	char buf[64];
	int err = 0;

	OK(field_entry, "4930123456");
	OK(field_entry, "192.0.2.7");
	OK(field_entry, "2001:db8::/48");
	BAD(field_entry, "+4930123456");
	BAD(field_entry, "1234567890123456");
	BAD(field_entry, "spam");
	BAD(field_entry, "");

	TEST_ERR(field_entry_canon("4930123456", buf, sizeof(buf)));
	TEST_STREQ("4930123456", buf);
	TEST_ERR(field_entry_canon("2001:DB8::/48", buf, sizeof(buf)));
	TEST_STREQ("2001:db8::/48", buf);
	TEST_EQ(ENOSPC, field_entry_canon("4930123456", buf, 5));
 out:
	return err;
}

static int test_names(void)
{
	int err = 0;

	OK(field_name, "carrier-1");
	OK(field_name, "a.b_c");
	OK(field_name, "PCMU");
	OK(field_name, "telephone-event");
	BAD(field_name, "");
	BAD(field_name, "a b");
	BAD(field_name, "a/b");
	BAD(field_name, "t'; --");
	BAD(field_name, "1234567890123456789012345678901234567890123456789"
	    "01234567890123x");                  /* 64 bytes */

	OK(field_user, "alice");
	OK(field_user, "+4930123");
	OK(field_user, "a.b-c_d!~*'()&=+$,;?/");
	OK(field_user, "al%20ice");
	BAD(field_user, "");
	BAD(field_user, "al ice");
	BAD(field_user, "a@b");
	BAD(field_user, "al%2");
	BAD(field_user, "al%zz");
	BAD(field_user, "a<b>");
	BAD(field_user, "a\"b");
 out:
	return err;
}

static int test_target(void)
{
	int err = 0;

	OK(field_target, "alice@example.com");
	OK(field_target, "alice@192.0.2.1");
	OK(field_target, "sip:alice@example.com");
	OK(field_target, "SIP:alice@example.com:5080;transport=tcp");
	OK(field_target, "sips:bob@[2001:db8::1]:5061");
	OK(field_target, "sip:pbx.example.com");
	OK(field_target, "sip:+4930@pbx.example.com;user=phone");
	BAD(field_target, "alice");
	BAD(field_target, "@example.com");
	BAD(field_target, "alice@");
	BAD(field_target, "alice@exa mple.com");
	BAD(field_target, "sip:");
	BAD(field_target, "sip:alice@");
	BAD(field_target, "sip:alice@example.com:0");
	BAD(field_target, "sip:alice@example.com:99999");
	BAD(field_target, "sip:alice@example.com:50a");
	BAD(field_target, "sip:<alice@example.com>");
	BAD(field_target, "sip:alice@example.com\r\nX: y");
	BAD(field_target, "sip:bob@[example.com]");
	BAD(field_target, "tel:+4930");
	BAD(field_target, "http://example.com");
 out:
	return err;
}

static int test_text(void)
{
	int err = 0;

	OK(field_text, "");
	OK(field_text, "x'); DROP TABLE subscribers;--");
	OK(field_text, "M\xc3\xbcller");
	BAD(field_text, "a\r\nb");
	BAD(field_text, "a\tb");
	BAD(field_text, "a\x7f");
 out:
	return err;
}

enum { F_NAME = 0, F_PORT, F_TP, F_ON, F_LIST, F_NOTE, F_RO, F_N };

static const char *const tps[] = { "udp", "tcp", "tls", NULL };

static const struct field fields[F_N] = {
	[F_NAME] = { "name", FIELD_STR, FIELD_REQUIRED, 8, 0, 0, field_name,
		     NULL },
	[F_PORT] = { "port", FIELD_INT, 0, 0, 1, 65535, NULL, NULL },
	[F_TP]   = { "transport", FIELD_STR, 0, 3, 0, 0, NULL, tps },
	[F_ON]   = { "enabled", FIELD_BOOL, 0, 0, 0, 0, NULL, NULL },
	[F_LIST] = { "cidrs", FIELD_LIST, FIELD_UNIQUE, 20, 0, 2, field_cidr,
		     NULL },
	[F_NOTE] = { "note", FIELD_STR, FIELD_NULLABLE, 10, 0, 0, NULL,
		     NULL },
	[F_RO]   = { "status", FIELD_STR, FIELD_READONLY, 0, 0, 0, NULL,
		     NULL },
};

#define DECODE_OK(s) do { \
		struct jnode *o_ = parse(s); \
		TEST_TRUE(o_ != NULL); \
		TEST_ERR(field_decode(fields, F_N, o_, v, why, \
				      sizeof(why))); \
	} while (0)

#define DECODE_BAD(s, expwhy) do { \
		struct jnode *o_ = parse(s); \
		TEST_TRUE(o_ != NULL); \
		TEST_EQ(EINVAL, field_decode(fields, F_N, o_, v, why, \
					     sizeof(why))); \
		TEST_STREQ((expwhy), why); \
	} while (0)

static int test_decode(void)
{
	struct field_val v[F_N];
	char why[256];
	int err = 0;

	DECODE_OK("{\"name\": \"t1\", \"port\": 5061, \"transport\": \"tls\","
		  " \"enabled\": false, \"cidrs\": [\"10.0.0.0/8\"],"
		  " \"note\": null, \"status\": {\"up\": true}}");
	TEST_TRUE(v[F_NAME].present);
	TEST_STREQ("t1", v[F_NAME].s);
	TEST_EQ(2, v[F_NAME].len);
	TEST_EQ(5061, v[F_PORT].i);
	TEST_STREQ("tls", v[F_TP].s);
	TEST_TRUE(v[F_ON].present);
	TEST_EQ(0, v[F_ON].i);
	TEST_EQ(1, v[F_LIST].list->v.c.n);
	TEST_TRUE(!v[F_NOTE].present && v[F_NOTE].null);
	TEST_TRUE(!v[F_RO].present);

	DECODE_OK("{\"name\": \"t1\"}");
	TEST_TRUE(!v[F_PORT].present && !v[F_ON].present && !v[F_LIST].list);

	DECODE_BAD("[]", "the body must be a JSON object");
	DECODE_BAD("\"x\"", "the body must be a JSON object");
	DECODE_BAD("{}", "field 'name' is required");
	DECODE_BAD("{\"port\": 1}", "field 'name' is required");
	DECODE_BAD("{\"name\": \"t1\", \"colour\": \"red\"}",
		   "unknown field 'colour'");
	DECODE_BAD("{\"name\": \"\"}", "field 'name' must not be empty");
	DECODE_BAD("{\"name\": null}", "field 'name' must be a string, not "
		   "null");
	DECODE_BAD("{\"name\": 7}", "field 'name' must be a string, not an "
		   "integer");
	DECODE_BAD("{\"name\": \"abcdefghi\"}", "field 'name' must be at most "
		   "8 bytes long");
	DECODE_BAD("{\"name\": \"a b\"}", "field 'name' must be 1 to 63 "
		   "letters, digits, '.', '_' or '-'");
	DECODE_BAD("{\"name\": \"a\\nb\"}", "field 'name' must not hold "
		   "control characters");
	DECODE_BAD("{\"name\": \"t\", \"port\": 0}", "field 'port' must be an "
		   "integer from 1 to 65535");
	DECODE_BAD("{\"name\": \"t\", \"port\": 65536}", "field 'port' must "
		   "be an integer from 1 to 65535");
	DECODE_BAD("{\"name\": \"t\", \"port\": 5060.0}", "field 'port' must "
		   "be an integer from 1 to 65535");
	DECODE_BAD("{\"name\": \"t\", \"port\": \"5060\"}", "field 'port' "
		   "must be an integer, not a string");
	DECODE_BAD("{\"name\": \"t\", \"port\": 99999999999999999999}",
		   "field 'port' must be an integer from 1 to 65535");
	DECODE_BAD("{\"name\": \"t\", \"transport\": \"sctp\"}", "field "
		   "'transport' must be one of udp, tcp, tls");
	DECODE_BAD("{\"name\": \"t\", \"transport\": \"UDP\"}", "field "
		   "'transport' must be one of udp, tcp, tls");
	DECODE_BAD("{\"name\": \"t\", \"enabled\": 1}", "field 'enabled' "
		   "must be true or false, not an integer");
	DECODE_BAD("{\"name\": \"t\", \"enabled\": \"true\"}", "field "
		   "'enabled' must be true or false, not a string");
	DECODE_BAD("{\"name\": \"t\", \"cidrs\": \"10.0.0.0/8\"}", "field "
		   "'cidrs' must be an array of strings, not a string");
	DECODE_BAD("{\"name\": \"t\", \"cidrs\": [1]}", "field 'cidrs' entry "
		   "1 must be a string, not an integer");
	DECODE_BAD("{\"name\": \"t\", \"cidrs\": [\"10.0.0.0/8\", \"x\"]}",
		   "field 'cidrs' entry 2 must be an IP address or CIDR (e.g. "
		   "192.0.2.0/24)");
	DECODE_BAD("{\"name\": \"t\", \"cidrs\": [\"\"]}", "field 'cidrs' "
		   "entry 1 must be 1 to 20 bytes long");
	DECODE_BAD("{\"name\": \"t\", \"cidrs\": [\"::1\", \"::2\", "
		   "\"::3\"]}", "field 'cidrs' holds at most 2 entries");
	DECODE_BAD("{\"name\": \"t\", \"cidrs\": [\"::1\", \"::1\"]}",
		   "field 'cidrs' lists \"::1\" twice");
	DECODE_BAD("{\"name\": \"t\", \"note\": 5}", "field 'note' must be a "
		   "string, not an integer");
 out:
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_e164),
	HARNESS_TEST(test_host),
	HARNESS_TEST(test_cidr),
	HARNESS_TEST(test_entry),
	HARNESS_TEST(test_names),
	HARNESS_TEST(test_target),
	HARNESS_TEST(test_text),
	HARNESS_TEST(test_decode),
};

HARNESS_MAIN(tests)
