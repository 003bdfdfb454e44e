/* sbc/digest.c  SIP digest (RFC 3261 MD5, RFC 8760 SHA-256): pure logic */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "digest.h"

#define DIGEST_TIME_HEX 16        /* hex digits of time in a nonce */
#define DIGEST_MAC_HEX  32        /* hex digits of HMAC in a nonce */
#define DIGEST_KEY_SIZE 32

_Static_assert(DIGEST_TIME_HEX + DIGEST_MAC_HEX == DIGEST_NONCE_LEN,
	       "a nonce is time then MAC");

/*
 * The nonce key: drawn once per process, never stored, so a restart
 * invalidates every nonce handed out before (clients get a fresh
 * challenge with stale=true and retry without asking their user).
 */
static struct {
	unsigned char key[DIGEST_KEY_SIZE];
	bool          keyed;
} dg;

/* Bits of the parameters digest_cred_decode() keeps. */
enum {
	P_USERNAME  = 1u << 0,
	P_REALM     = 1u << 1,
	P_NONCE     = 1u << 2,
	P_URI       = 1u << 3,
	P_RESPONSE  = 1u << 4,
	P_ALGORITHM = 1u << 5,
	P_QOP       = 1u << 6,
	P_NC        = 1u << 7,
	P_CNONCE    = 1u << 8,
	P_OPAQUE    = 1u << 9,
};

#define P_REQUIRED (P_USERNAME | P_REALM | P_NONCE | P_URI | P_RESPONSE)

/* Pieces hashed with ':' between them. */
struct part {
	const char *p;
	size_t      len;
};

static const char hexdig[] = "0123456789abcdef";

static size_t alg_hexlen(enum digest_alg alg)
{
	return alg == DIGEST_ALG_SHA256 ? 64 : 32;
}

const char *digest_alg_name(enum digest_alg alg)
{
	return alg == DIGEST_ALG_SHA256 ? "SHA-256" : "MD5";
}

static void hex_encode(char *out, const unsigned char *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i]     = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		(ch >= 'A' && ch <= 'F');
}

static char lower(char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

/*
 * H(parts joined by ':') in lower-case hex into <out>, which holds
 * alg_hexlen(alg) + 1 bytes. Returns 0 or ENOMEM/EIO from OpenSSL.
 */
static int hash_hex(char *out, enum digest_alg alg, const struct part *pv,
		    size_t n)
{
	const EVP_MD *md = alg == DIGEST_ALG_SHA256 ? EVP_sha256() :
		EVP_md5();
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	EVP_MD_CTX *ctx;
	int ok;
	size_t i;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return ENOMEM;

	ok = EVP_DigestInit_ex(ctx, md, NULL);
	for (i = 0; ok && i < n; i++) {
		if (i)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok && pv[i].len)
			ok = EVP_DigestUpdate(ctx, pv[i].p, pv[i].len);
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, h, &hlen);
	EVP_MD_CTX_free(ctx);
	if (!ok || hlen * 2 != alg_hexlen(alg))
		return EIO;

	hex_encode(out, h, hlen);
	return 0;
}

static int ha1(char *out, enum digest_alg alg, const char *user,
	       const char *realm, const char *password)
{
	struct part pv[3];

	if (!out || !user || !realm || !password)
		return EINVAL;

	pv[0] = (struct part){ user, strlen(user) };
	pv[1] = (struct part){ realm, strlen(realm) };
	pv[2] = (struct part){ password, strlen(password) };
	return hash_hex(out, alg, pv, 3) ? EINVAL : 0;
}

int digest_ha1_md5(char out[33], const char *user, const char *realm,
		   const char *password)
{
	return ha1(out, DIGEST_ALG_MD5, user, realm, password);
}

int digest_ha1_sha256(char out[65], const char *user, const char *realm,
		      const char *password)
{
	return ha1(out, DIGEST_ALG_SHA256, user, realm, password);
}

/* Whitespace of a header value, folding included (RFC 3261 25.1 LWS). */
static bool is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* RFC 3261 section 25.1 token characters. */
static bool is_tchar(char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return true;
	return ch && strchr("-.!%*_+`'~", ch) != NULL;
}

static void skip_ws(const char *p, size_t len, size_t *ip)
{
	while (*ip < len && is_ws(p[*ip]))
		++*ip;
}

/* Value bytes we keep: no NUL, no control but HTAB, no DEL. */
static bool value_ok(char ch)
{
	unsigned char u = (unsigned char)ch;

	return (u >= 0x20 && u != 0x7f) || u == '\t';
}

/*
 * The quoted-string starting at p[*ip] (the opening quote), unescaped
 * into <dst> of <dsz> bytes (NULL: checked and skipped). *ip ends after
 * the closing quote. Returns 0 or EBADMSG.
 */
static int get_quoted(const char *p, size_t len, size_t *ip, char *dst,
		      size_t dsz)
{
	size_t i = *ip + 1, n = 0;
	char ch;

	for (;;) {
		if (i >= len)
			return EBADMSG;           /* no closing quote */
		ch = p[i++];
		if (ch == '"')
			break;
		if (ch == '\\') {                 /* quoted-pair */
			if (i >= len)
				return EBADMSG;
			ch = p[i++];
		}
		if (!value_ok(ch))
			return EBADMSG;
		if (dst) {
			if (n + 1 >= dsz)
				return EBADMSG;
			dst[n++] = ch;
		}
	}
	if (dst)
		dst[n] = '\0';
	*ip = i;
	return 0;
}

/*
 * An unquoted value (a token, leniently: anything visible up to
 * whitespace or a comma) into <dst> (NULL: skipped). Empty is EBADMSG.
 */
static int get_bare(const char *p, size_t len, size_t *ip, char *dst,
		    size_t dsz)
{
	size_t i = *ip, n = 0;

	while (i < len && !is_ws(p[i]) && p[i] != ',') {
		if (!value_ok(p[i]) || p[i] == '"')
			return EBADMSG;
		if (dst) {
			if (n + 1 >= dsz)
				return EBADMSG;
			dst[n++] = p[i];
		}
		++i;
	}
	if (i == *ip)
		return EBADMSG;
	if (dst)
		dst[n] = '\0';
	*ip = i;
	return 0;
}

/* Scratch for the parameters checked after the whole header is read. */
struct scratch {
	char alg[16];
	char qop[16];
};

/* Where parameter <name>/<nlen> goes, its bit; NULL for unknown ones. */
static char *field(struct digest_cred *c, struct scratch *s,
		   const char *name, size_t nlen, size_t *szp, unsigned *bitp)
{
	static const struct {
		const char *name;
		unsigned    bit;
	} tab[] = {
		{ "username", P_USERNAME }, { "realm", P_REALM },
		{ "nonce", P_NONCE },       { "uri", P_URI },
		{ "response", P_RESPONSE }, { "algorithm", P_ALGORITHM },
		{ "qop", P_QOP },           { "nc", P_NC },
		{ "cnonce", P_CNONCE },     { "opaque", P_OPAQUE },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strlen(tab[i].name) == nlen &&
		    !strncasecmp(tab[i].name, name, nlen))
			break;
	}
	if (i == sizeof(tab) / sizeof(tab[0]))
		return NULL;

	*bitp = tab[i].bit;
	switch (tab[i].bit) {

	case P_USERNAME:  *szp = sizeof(c->username); return c->username;
	case P_REALM:     *szp = sizeof(c->realm);    return c->realm;
	case P_NONCE:     *szp = sizeof(c->nonce);    return c->nonce;
	case P_URI:       *szp = sizeof(c->uri);      return c->uri;
	case P_RESPONSE:  *szp = sizeof(c->response); return c->response;
	case P_ALGORITHM: *szp = sizeof(s->alg);      return s->alg;
	case P_QOP:       *szp = sizeof(s->qop);      return s->qop;
	case P_NC:        *szp = sizeof(c->nc);       return c->nc;
	case P_CNONCE:    *szp = sizeof(c->cnonce);   return c->cnonce;
	default:          *szp = sizeof(c->opaque);   return c->opaque;
	}
}

/* The checks that need the whole header: algorithm, qop, nc, response. */
static int finish(struct digest_cred *c, const struct scratch *s,
		  unsigned seen)
{
	size_t i, n;

	if ((seen & P_REQUIRED) != P_REQUIRED)
		return EBADMSG;
	if (!c->nonce[0] || !c->uri[0])
		return EBADMSG;

	if (!(seen & P_ALGORITHM) || !strcasecmp(s->alg, "MD5"))
		c->alg = DIGEST_ALG_MD5;
	else if (!strcasecmp(s->alg, "SHA-256"))
		c->alg = DIGEST_ALG_SHA256;
	else
		return ENOTSUP;           /* -sess, SHA-512-256, ... */

	if (seen & P_QOP) {
		if (strcasecmp(s->qop, "auth"))
			return ENOTSUP;   /* auth-int: we offer auth only */
		c->qop = true;
		if (!(seen & P_NC) || !(seen & P_CNONCE) || !c->cnonce[0])
			return EBADMSG;
		if (strlen(c->nc) != DIGEST_NC_SIZE - 1)
			return EBADMSG;
		for (i = 0; c->nc[i]; i++) {
			if (!is_hex(c->nc[i]))
				return EBADMSG;
		}
	}
	else {
		/* RFC 2069 style: nc and cnonce mean nothing without qop */
		c->nc[0] = '\0';
		c->cnonce[0] = '\0';
	}

	n = strlen(c->response);
	if (n != alg_hexlen(c->alg))
		return EBADMSG;
	for (i = 0; i < n; i++) {
		if (!is_hex(c->response[i]))
			return EBADMSG;
		c->response[i] = lower(c->response[i]);
	}
	return 0;
}

int digest_cred_decode(struct digest_cred *c, const char *p, size_t len)
{
	struct scratch s;
	unsigned seen = 0;
	size_t i = 0, start;
	int err;

	if (!c || (!p && len))
		return EINVAL;
	memset(c, 0, sizeof(*c));
	memset(&s, 0, sizeof(s));

	skip_ws(p, len, &i);
	start = i;
	while (i < len && is_tchar(p[i]))
		++i;
	if (i == start)
		return EBADMSG;
	if (i - start != 6 || strncasecmp(p + start, "Digest", 6) ||
	    (i < len && !is_ws(p[i])))
		return EPROTONOSUPPORT;

	for (;;) {
		const char *name;
		size_t nlen, dsz = 0;
		unsigned bit = 0;
		char *dst;

		/* empty list elements are allowed (RFC 3261 7.3.1) */
		while (i < len && (is_ws(p[i]) || p[i] == ','))
			++i;
		if (i == len)
			break;

		name = p + i;
		start = i;
		while (i < len && is_tchar(p[i]))
			++i;
		nlen = i - start;
		if (!nlen)
			return EBADMSG;

		skip_ws(p, len, &i);
		if (i == len || p[i] != '=')
			return EBADMSG;
		++i;
		skip_ws(p, len, &i);
		if (i == len)
			return EBADMSG;

		dst = field(c, &s, name, nlen, &dsz, &bit);
		if (dst) {
			if (seen & bit)
				return EBADMSG;
			seen |= bit;
		}

		if (p[i] == '"')
			err = get_quoted(p, len, &i, dst, dsz);
		else
			err = get_bare(p, len, &i, dst, dsz);
		if (err)
			return err;

		skip_ws(p, len, &i);
		if (i < len && p[i] != ',')
			return EBADMSG;
	}

	return finish(c, &s, seen);
}

int digest_response(char *out, size_t sz, const struct digest_cred *c,
		    const char *ha1hex, const char *met, size_t metlen)
{
	char h1[DIGEST_RESP_SIZE], h2[DIGEST_RESP_SIZE];
	struct part pv[6];
	size_t hexlen, i;
	int err;

	if (!out || !c || !ha1hex || !met)
		return EINVAL;
	hexlen = alg_hexlen(c->alg);
	if (strlen(ha1hex) != hexlen)
		return EINVAL;
	if (sz < hexlen + 1)
		return ENOSPC;

	for (i = 0; i < hexlen; i++)
		h1[i] = lower(ha1hex[i]);
	h1[hexlen] = '\0';

	/* RFC 2617 3.2.2.3: A2 = Method ":" digest-uri-value (qop=auth) */
	pv[0] = (struct part){ met, metlen };
	pv[1] = (struct part){ c->uri, strlen(c->uri) };
	err = hash_hex(h2, c->alg, pv, 2);
	if (err)
		return err;

	pv[0] = (struct part){ h1, hexlen };
	pv[1] = (struct part){ c->nonce, strlen(c->nonce) };
	if (c->qop) {
		pv[2] = (struct part){ c->nc, strlen(c->nc) };
		pv[3] = (struct part){ c->cnonce, strlen(c->cnonce) };
		pv[4] = (struct part){ "auth", 4 };
		pv[5] = (struct part){ h2, hexlen };
		return hash_hex(out, c->alg, pv, 6);
	}
	pv[2] = (struct part){ h2, hexlen };
	return hash_hex(out, c->alg, pv, 3);
}

bool digest_verify(const struct digest_cred *c, const char *ha1hex,
		   const char *met, size_t metlen)
{
	char exp[DIGEST_RESP_SIZE];
	size_t hexlen;

	if (!c || digest_response(exp, sizeof(exp), c, ha1hex, met, metlen))
		return false;
	hexlen = alg_hexlen(c->alg);
	if (strlen(c->response) != hexlen)
		return false;
	return CRYPTO_memcmp(exp, c->response, hexlen) == 0;
}

static int key_init(void)
{
	if (dg.keyed)
		return 0;
	if (RAND_bytes(dg.key, sizeof(dg.key)) != 1)
		return EIO;
	dg.keyed = true;
	return 0;
}

/* HMAC-SHA256(key, <t> ":" <realm>), truncated, in hex into <out>. */
static int nonce_mac(char out[DIGEST_MAC_HEX + 1], const char *t,
		     const char *realm)
{
	unsigned char buf[DIGEST_TIME_HEX + 1 + DIGEST_FIELD_SIZE];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t rlen = strlen(realm);
	int err;

	if (rlen >= DIGEST_FIELD_SIZE)
		return EINVAL;
	err = key_init();
	if (err)
		return err;

	memcpy(buf, t, DIGEST_TIME_HEX);
	buf[DIGEST_TIME_HEX] = ':';
	memcpy(buf + DIGEST_TIME_HEX + 1, realm, rlen);
	if (!HMAC(EVP_sha256(), dg.key, sizeof(dg.key), buf,
		  DIGEST_TIME_HEX + 1 + rlen, md, &mdlen) ||
	    mdlen * 2 < DIGEST_MAC_HEX)
		return EIO;
	hex_encode(out, md, DIGEST_MAC_HEX / 2);
	return 0;
}

int digest_nonce_make(char *out, const char *realm, uint64_t now)
{
	char t[DIGEST_TIME_HEX + 1], mac[DIGEST_MAC_HEX + 1];
	int err;

	if (!out || !realm)
		return EINVAL;

	snprintf(t, sizeof(t), "%016llx", (unsigned long long)now);
	err = nonce_mac(mac, t, realm);
	if (err)
		return err;
	memcpy(out, t, DIGEST_TIME_HEX);
	memcpy(out + DIGEST_TIME_HEX, mac, DIGEST_MAC_HEX + 1);
	return 0;
}

int digest_nonce_check(const char *nonce, const char *realm, uint64_t now)
{
	char mac[DIGEST_MAC_HEX + 1];
	uint64_t t = 0;
	size_t i;
	int err;

	if (!nonce || !realm)
		return EINVAL;
	if (strnlen(nonce, DIGEST_NONCE_LEN + 1) != DIGEST_NONCE_LEN)
		return EBADMSG;

	/* our own spelling only: lower-case hex */
	for (i = 0; i < DIGEST_NONCE_LEN; i++) {
		char ch = nonce[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return EBADMSG;
		if (i < DIGEST_TIME_HEX)
			t = t << 4 | (uint64_t)(ch <= '9' ? ch - '0' :
						ch - 'a' + 10);
	}

	err = nonce_mac(mac, nonce, realm);
	if (err)
		return err == EINVAL ? EBADMSG : err;
	if (CRYPTO_memcmp(mac, nonce + DIGEST_TIME_HEX, DIGEST_MAC_HEX))
		return EBADMSG;

	if (t > now || now - t > DIGEST_NONCE_TTL)
		return ESTALE;
	return 0;
}

/* Append to a bounded string; remembers overflow. */
struct sbuf {
	char  *p;
	size_t sz;
	size_t len;
	bool   full;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->full || b->len + n >= b->sz) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* <s> as a quoted-string: '"' and '\' escaped (RFC 3261 25.1). */
static void sb_quoted(struct sbuf *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sb_add(b, "\\", 1);
		sb_add(b, s, 1);
	}
	sb_add(b, "\"", 1);
}

int digest_challenge(char *out, size_t sz, enum digest_alg alg,
		     const char *realm, const char *nonce, bool stale)
{
	struct sbuf b = { out, sz, 0, false };

	if (!out || !sz || !realm || !nonce)
		return EINVAL;
	out[0] = '\0';

	sb_str(&b, "Digest realm=");
	sb_quoted(&b, realm);
	sb_str(&b, ", nonce=");
	sb_quoted(&b, nonce);
	sb_str(&b, ", qop=\"auth\", algorithm=");
	sb_str(&b, digest_alg_name(alg));
	if (stale)
		sb_str(&b, ", stale=true");
	if (b.full) {
		out[0] = '\0';
		return ENOSPC;
	}
	return 0;
}
