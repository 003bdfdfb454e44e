/* mediad/sdes.c  SDES keys (RFC 4568 a=crypto) and the SRTP sessions built from them */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "sdes.h"

_Static_assert(SRTPX_KEYSALT_LEN == SDES_KEYSALT_LEN,
	       "AES_CM_128 key and salt length");

static const char *const suite_names[] = {
	[SDES_SUITE_NONE]              = "",
	[SDES_AES_CM_128_HMAC_SHA1_80] = "AES_CM_128_HMAC_SHA1_80",
	[SDES_AES_CM_128_HMAC_SHA1_32] = "AES_CM_128_HMAC_SHA1_32",
};

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

enum sdes_suite sdes_suite_parse(const char *p, size_t len)
{
	unsigned i;

	for (i = 1; i < sizeof(suite_names) / sizeof(suite_names[0]); i++) {
		if (strlen(suite_names[i]) == len &&
		    !memcmp(suite_names[i], p, len))
			return (enum sdes_suite)i;
	}
	return SDES_SUITE_NONE;
}

const char *sdes_suite_name(enum sdes_suite s)
{
	if ((unsigned)s >= sizeof(suite_names) / sizeof(suite_names[0]))
		return "";
	return suite_names[s];
}

static int b64_val(char ch)
{
	const char *p;

	if (!ch)
		return -1;
	p = strchr(b64_alpha, ch);
	return p ? (int)(p - b64_alpha) : -1;
}

/* Strict: exactly <n> bytes from 4*ceil(n/3) characters; 30 bytes have
 * no padding, so none is accepted. */
static int b64_decode(uint8_t *out, size_t n, const char *s, size_t len)
{
	size_t i, o = 0;

	if (n % 3 || len != n / 3 * 4)
		return EINVAL;
	for (i = 0; i < len; i += 4) {
		int v0 = b64_val(s[i]), v1 = b64_val(s[i + 1]);
		int v2 = b64_val(s[i + 2]), v3 = b64_val(s[i + 3]);

		if (v0 < 0 || v1 < 0 || v2 < 0 || v3 < 0)
			return EINVAL;
		out[o++] = (uint8_t)(v0 << 2 | v1 >> 4);
		out[o++] = (uint8_t)((v1 & 0xf) << 4 | v2 >> 2);
		out[o++] = (uint8_t)((v2 & 0x3) << 6 | v3);
	}
	return 0;
}

static void b64_encode(char *out, const uint8_t *in, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*out++ = b64_alpha[in[i] >> 2];
		*out++ = b64_alpha[(in[i] & 0x3) << 4 | in[i + 1] >> 4];
		*out++ = b64_alpha[(in[i + 1] & 0xf) << 2 | in[i + 2] >> 6];
		*out++ = b64_alpha[in[i + 2] & 0x3f];
	}
	*out = '\0';
}

static bool all_digits(const char *p, size_t len, size_t max)
{
	size_t i;

	if (!len || len > max)
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
	}
	return true;
}

static int why_set(char *why, size_t wsz, int err, const char *msg)
{
	if (why && wsz)
		snprintf(why, wsz, "%s", msg);
	return err;
}

/* "2^31" or "4294967296": RFC 4568 section 9.2 lifetime. */
static bool lifetime_ok(const char *p, size_t len)
{
	if (len > 2 && p[0] == '2' && p[1] == '^')
		return all_digits(p + 2, len - 2, 2);
	return all_digits(p, len, 20);
}

/* "<value>:<length>", length 1..128 (bytes of MKI in each packet). */
static bool mki_ok(const char *p, size_t len)
{
	const char *c = memchr(p, ':', len);
	size_t vl, ll;
	unsigned v = 0, i;

	if (!c)
		return false;
	vl = (size_t)(c - p);
	ll = len - vl - 1;
	if (!all_digits(p, vl, 40) || !all_digits(c + 1, ll, 3))
		return false;
	for (i = 0; i < ll; i++)
		v = v * 10 + (unsigned)(c[1 + i] - '0');
	return v >= 1 && v <= 128;
}

/* Session parameters after the key-params: WSH is a hint, the rest
 * would change the transform. */
static int sess_params(const char *p, char *why, size_t wsz)
{
	while (*p) {
		size_t l;

		if (*p == ' ' || *p == '\t') {
			++p;
			continue;
		}
		l = strcspn(p, " \t");
		if (l > 4 && !memcmp(p, "WSH=", 4) &&
		    all_digits(p + 4, l - 4, 10)) {
			p += l;
			continue;
		}
		return why_set(why, wsz, ENOTSUP,
			       "a=crypto session parameter not supported");
	}
	return 0;
}

int sdes_parse(struct sdes_key *k, uint32_t tag, const char *suite,
	       const char *params, char *why, size_t wsz)
{
	const char *p, *end, *f;
	bool have_life = false;
	size_t kl;

	if (!k || !suite || !params)
		return EINVAL;
	memset(k, 0, sizeof(*k));
	k->suite = sdes_suite_parse(suite, strlen(suite));
	if (k->suite == SDES_SUITE_NONE)
		return why_set(why, wsz, ENOTSUP, "a=crypto suite not "
			       "supported");
	k->tag = tag;

	if (strncmp(params, "inline:", 7))
		return why_set(why, wsz, EINVAL, "a=crypto key method is "
			       "not inline:");
	p = params + 7;
	end = p + strcspn(p, " \t");     /* the key-params end here */
	if (memchr(p, ';', (size_t)(end - p)))
		return why_set(why, wsz, ENOTSUP, "a=crypto with several "
			       "keys is not supported");

	kl = strcspn(p, "| \t");
	if (b64_decode(k->keysalt, sizeof(k->keysalt), p, kl))
		return why_set(why, wsz, EINVAL, "a=crypto key is not 40 "
			       "base64 characters (key and salt)");
	p += kl;
	while (p < end) {                /* at a '|' */
		size_t fl;

		f = ++p;
		fl = strcspn(f, "| \t");
		p = f + fl;
		if (memchr(f, ':', fl)) {
			if (!mki_ok(f, fl))
				return why_set(why, wsz, EINVAL, "a=crypto "
					       "MKI is malformed");
			if (p < end)
				return why_set(why, wsz, EINVAL, "a=crypto "
					       "MKI must come last");
			return why_set(why, wsz, ENOTSUP, "a=crypto MKI "
				       "is not supported");
		}
		if (have_life || !lifetime_ok(f, fl))
			return why_set(why, wsz, EINVAL, "a=crypto "
				       "lifetime is malformed");
		have_life = true;        /* checked, then ignored */
	}
	return sess_params(end, why, wsz);
}

int sdes_params_print(const struct sdes_key *k, char *buf, size_t size)
{
	if (!k || !buf || size < 7 + SDES_B64_LEN + 1)
		return ENOSPC;
	memcpy(buf, "inline:", 7);
	b64_encode(buf + 7, k->keysalt, sizeof(k->keysalt));
	return 0;
}

int sdes_keygen(struct sdes_key *k, enum sdes_suite suite, uint32_t tag)
{
	if (!k || suite == SDES_SUITE_NONE || !*sdes_suite_name(suite))
		return EINVAL;
	k->suite = suite;
	k->tag = tag;
	if (RAND_bytes(k->keysalt, sizeof(k->keysalt)) != 1)
		return EIO;
	return 0;
}

bool sdes_key_eq(const struct sdes_key *a, const struct sdes_key *b)
{
	return a->suite == b->suite &&
		!memcmp(a->keysalt, b->keysalt, sizeof(a->keysalt));
}

int sdes_global_init(void)
{
	return 0;
}

int sdes_session_new(struct srtpx **sp, const struct sdes_key *k,
		     bool inbound)
{
	enum srtpx_suite suite;

	if (!sp || !k)
		return EINVAL;
	switch (k->suite) {
	case SDES_AES_CM_128_HMAC_SHA1_80:
		suite = SRTPX_AES_CM_128_HMAC_SHA1_80;
		break;
	case SDES_AES_CM_128_HMAC_SHA1_32:
		suite = SRTPX_AES_CM_128_HMAC_SHA1_32;
		break;
	default:
		return EINVAL;
	}
	return srtpx_new(sp, suite, k->keysalt, inbound);
}

void sdes_session_free(struct srtpx *s)
{
	srtpx_free(s);
}
