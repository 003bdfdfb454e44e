/* mediad/stun.c  STUN (RFC 5389) Binding for ICE-lite: parse, check, build */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "stun.h"

/* SHA-1 (FIPS 180-4), streaming, no allocation */

struct sha1 {
	uint32_t h[5];
	uint64_t total;
	uint8_t  blk[64];
	size_t   n;
};

static inline uint32_t rol(uint32_t x, unsigned k)
{
	return (x << k) | (x >> (32 - k));
}

static void sha1_block(struct sha1 *s, const uint8_t *b)
{
	uint32_t w[80], a, bb, c, d, e, t;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
			(uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = s->h[0];
	bb = s->h[1];
	c = s->h[2];
	d = s->h[3];
	e = s->h[4];
	for (i = 0; i < 80; i++) {
		uint32_t f, k;

		if (i < 20) {
			f = (bb & c) | (~bb & d);
			k = 0x5a827999;
		}
		else if (i < 40) {
			f = bb ^ c ^ d;
			k = 0x6ed9eba1;
		}
		else if (i < 60) {
			f = (bb & c) | (bb & d) | (c & d);
			k = 0x8f1bbcdc;
		}
		else {
			f = bb ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(bb, 30);
		bb = a;
		a = t;
	}
	s->h[0] += a;
	s->h[1] += bb;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
}

static void sha1_init(struct sha1 *s)
{
	s->h[0] = 0x67452301;
	s->h[1] = 0xefcdab89;
	s->h[2] = 0x98badcfe;
	s->h[3] = 0x10325476;
	s->h[4] = 0xc3d2e1f0;
	s->total = 0;
	s->n = 0;
}

static void sha1_update(struct sha1 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->total += len;
	while (len) {
		size_t k = 64 - s->n < len ? 64 - s->n : len;

		memcpy(s->blk + s->n, p, k);
		s->n += k;
		p += k;
		len -= k;
		if (s->n == 64) {
			sha1_block(s, s->blk);
			s->n = 0;
		}
	}
}

static void sha1_final(struct sha1 *s, uint8_t out[20])
{
	uint64_t bits = s->total * 8;
	uint8_t pad = 0x80, zero = 0, lenb[8];
	unsigned i;

	sha1_update(s, &pad, 1);
	while (s->n != 56)
		sha1_update(s, &zero, 1);
	for (i = 0; i < 8; i++)
		lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(s, lenb, 8);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

void stun_sha1(const void *data, size_t len, uint8_t out[20])
{
	struct sha1 s;

	sha1_init(&s);
	sha1_update(&s, data, len);
	sha1_final(&s, out);
}

/* HMAC (RFC 2104) over up to three pieces, so a message can be hashed
 * with its length field replaced without copying it. */
struct piece {
	const void *p;
	size_t len;
};

static void hmac3(const void *key, size_t klen, const struct piece *pc,
		  unsigned n, uint8_t out[20])
{
	uint8_t k[64], pad[64], inner[20];
	struct sha1 s;
	unsigned i;

	memset(k, 0, sizeof(k));
	if (klen > 64)
		stun_sha1(key, klen, k);
	else if (klen)
		memcpy(k, key, klen);

	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha1_init(&s);
	sha1_update(&s, pad, 64);
	for (i = 0; i < n; i++)
		sha1_update(&s, pc[i].p, pc[i].len);
	sha1_final(&s, inner);

	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha1_init(&s);
	sha1_update(&s, pad, 64);
	sha1_update(&s, inner, 20);
	sha1_final(&s, out);
}

void stun_hmac_sha1(const void *key, size_t klen, const void *data,
		    size_t len, uint8_t out[20])
{
	struct piece pc = { data, len };

	hmac3(key, klen, &pc, 1, out);
}

/* CRC-32 (ISO-HDLC, as in RFC 5389 section 15.5), four bits a step */
static const uint32_t crc_nib[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
	0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

static uint32_t crc_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ crc_nib[crc & 15];
		crc = (crc >> 4) ^ crc_nib[crc & 15];
	}
	return crc;
}

uint32_t stun_crc32(const void *data, size_t len)
{
	return ~crc_update(0xffffffffu, data, len);
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* XOR-MAPPED-ADDRESS value <v>/<len> of message <tid> into <m>. */
static int xaddr_parse(struct stun_msg *m, const uint8_t *v, uint16_t len)
{
	uint8_t x[16];
	unsigned i;

	if (len < 4)
		return EBADMSG;
	memset(&m->xaddr, 0, sizeof(m->xaddr));
	if (v[1] == 1 && len == 8) {
		struct sockaddr_in *in = (struct sockaddr_in *)&m->xaddr;
		uint32_t a = rd32(v + 4) ^ STUN_MAGIC;

		in->sin_family = AF_INET;
		in->sin_port = htons(rd16(v + 2) ^ (uint16_t)(STUN_MAGIC >> 16));
		in->sin_addr.s_addr = htonl(a);
	}
	else if (v[1] == 2 && len == 20) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&m->xaddr;

		wr32(x, STUN_MAGIC);
		memcpy(x + 4, m->tid, STUN_TID_LEN);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(rd16(v + 2) ^
				       (uint16_t)(STUN_MAGIC >> 16));
		for (i = 0; i < 16; i++)
			in6->sin6_addr.s6_addr[i] = v[4 + i] ^ x[i];
	}
	else
		return EBADMSG;
	m->have_xaddr = true;
	return 0;
}

int stun_parse(struct stun_msg *m, const uint8_t *p, size_t len)
{
	size_t off = STUN_HDR_LEN;
	bool after_mi = false;

	memset(m, 0, sizeof(*m));
	if (!p || len < STUN_HDR_LEN || len > 65535 + STUN_HDR_LEN ||
	    (p[0] & 0xc0))
		return EBADMSG;
	m->type = rd16(p);
	m->len = rd16(p + 2);
	if ((m->len & 3) || (size_t)m->len + STUN_HDR_LEN != len ||
	    rd32(p + 4) != STUN_MAGIC)
		return EBADMSG;
	m->tid = p + 8;

	while (off + 4 <= len) {
		uint16_t at = rd16(p + off), al = rd16(p + off + 2);
		const uint8_t *v = p + off + 4;
		size_t next = off + 4 + (((size_t)al + 3) & ~(size_t)3);

		if (next > len)
			return EBADMSG;
		if (m->fp_off)
			return EBADMSG;       /* FINGERPRINT must be last */
		if (after_mi && at != STUN_A_FINGERPRINT) {
			off = next;           /* ignored (section 15.4) */
			continue;
		}
		switch (at) {

		case STUN_A_USERNAME:
			if (al > 513 || m->user)
				return EBADMSG;
			m->user = v;
			m->ulen = al;
			break;

		case STUN_A_MI:
			if (al != STUN_HMAC_LEN)
				return EBADMSG;
			m->mi_off = (uint16_t)off;
			after_mi = true;
			break;

		case STUN_A_FINGERPRINT:
			if (al != 4)
				return EBADMSG;
			m->fp_off = (uint16_t)off;
			break;

		case STUN_A_PRIORITY:
			if (al != 4)
				return EBADMSG;
			m->prio = rd32(v);
			m->have_prio = true;
			break;

		case STUN_A_USE_CAND:
			if (al != 0)
				return EBADMSG;
			m->use_cand = true;
			break;

		case STUN_A_CONTROLLING:
		case STUN_A_CONTROLLED:
			if (al != 8)
				return EBADMSG;
			m->tiebreak = (uint64_t)rd32(v) << 32 | rd32(v + 4);
			if (at == STUN_A_CONTROLLING)
				m->controlling = true;
			else
				m->controlled = true;
			break;

		case STUN_A_ERROR:
			if (al < 4)
				return EBADMSG;
			m->err_code = (uint16_t)((v[2] & 7) * 100 + v[3]);
			break;

		case STUN_A_XOR_MAPPED:
			if (xaddr_parse(m, v, al))
				return EBADMSG;
			break;

		default:
			if (at < 0x8000 && !m->unknown_req)
				m->unknown_req = at;
			break;
		}
		off = next;
	}
	return off == len ? 0 : EBADMSG;
}

int stun_check_mi(const struct stun_msg *m, const uint8_t *p,
		  const void *key, size_t klen)
{
	uint8_t lenf[2], mac[STUN_HMAC_LEN];
	struct piece pc[3];
	unsigned i, diff = 0;

	if (!m->mi_off)
		return ENOENT;
	/* the length as if MESSAGE-INTEGRITY ended the message */
	wr16(lenf, (uint16_t)(m->mi_off + 4 + STUN_HMAC_LEN - STUN_HDR_LEN));
	pc[0].p = p;
	pc[0].len = 2;
	pc[1].p = lenf;
	pc[1].len = 2;
	pc[2].p = p + 4;
	pc[2].len = (size_t)m->mi_off - 4;
	hmac3(key, klen, pc, 3, mac);
	for (i = 0; i < STUN_HMAC_LEN; i++)     /* constant time */
		diff |= mac[i] ^ p[m->mi_off + 4 + i];
	return diff ? EACCES : 0;
}

int stun_check_fp(const struct stun_msg *m, const uint8_t *p)
{
	uint8_t lenf[2];
	uint32_t crc;

	if (!m->fp_off)
		return ENOENT;
	wr16(lenf, (uint16_t)(m->fp_off + 8 - STUN_HDR_LEN));
	crc = crc_update(0xffffffffu, p, 2);
	crc = crc_update(crc, lenf, 2);
	crc = crc_update(crc, p + 4, (size_t)m->fp_off - 4);
	crc = ~crc ^ STUN_FP_XOR;
	return crc == rd32(p + m->fp_off + 4) ? 0 : EBADMSG;
}

/* A message under construction. */
struct wbuf {
	uint8_t *p;
	size_t size, len;
	bool err;
};

static uint8_t *attr_put(struct wbuf *w, uint16_t type, uint16_t len)
{
	size_t padded = ((size_t)len + 3) & ~(size_t)3;
	uint8_t *v;

	if (w->err || w->len + 4 + padded > w->size) {
		w->err = true;
		return NULL;
	}
	wr16(w->p + w->len, type);
	wr16(w->p + w->len + 2, len);
	v = w->p + w->len + 4;
	memset(v + len, 0, padded - len);
	w->len += 4 + padded;
	wr16(w->p + 2, (uint16_t)(w->len - STUN_HDR_LEN));
	return v;
}

static void hdr_put(struct wbuf *w, uint16_t type, const uint8_t *tid)
{
	uint8_t t[STUN_TID_LEN];

	if (w->size < STUN_HDR_LEN) {
		w->err = true;
		return;
	}
	memcpy(t, tid, STUN_TID_LEN);   /* <tid> may live in the output */
	wr16(w->p, type);
	wr16(w->p + 2, 0);
	wr32(w->p + 4, STUN_MAGIC);
	memcpy(w->p + 8, t, STUN_TID_LEN);
	w->len = STUN_HDR_LEN;
}

/* MESSAGE-INTEGRITY then FINGERPRINT, the last two attributes. */
static size_t finish(struct wbuf *w, const void *key, size_t klen,
		     bool fingerprint)
{
	uint8_t *v;

	if (key) {
		size_t at = w->len;

		v = attr_put(w, STUN_A_MI, STUN_HMAC_LEN);
		if (!v)
			return 0;
		stun_hmac_sha1(key, klen, w->p, at, v);
	}
	if (fingerprint) {
		size_t at = w->len;

		v = attr_put(w, STUN_A_FINGERPRINT, 4);
		if (!v)
			return 0;
		wr32(v, stun_crc32(w->p, at) ^ STUN_FP_XOR);
	}
	return w->err ? 0 : w->len;
}

size_t stun_build_success(uint8_t *out, size_t size, const uint8_t *tid,
			  const struct sockaddr *mapped, const void *key,
			  size_t klen)
{
	struct wbuf w = { out, size, 0, false };
	uint8_t *v, x[16];
	unsigned i;

	hdr_put(&w, STUN_BINDING_OK, tid);
	if (w.err)
		return 0;
	if (mapped->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)mapped;

		v = attr_put(&w, STUN_A_XOR_MAPPED, 8);
		if (!v)
			return 0;
		v[0] = 0;
		v[1] = 1;
		wr16(v + 2, ntohs(in->sin_port) ^ (uint16_t)(STUN_MAGIC >> 16));
		wr32(v + 4, ntohl(in->sin_addr.s_addr) ^ STUN_MAGIC);
	}
	else if (mapped->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)mapped;

		v = attr_put(&w, STUN_A_XOR_MAPPED, 20);
		if (!v)
			return 0;
		v[0] = 0;
		v[1] = 2;
		wr16(v + 2, ntohs(in6->sin6_port) ^
		     (uint16_t)(STUN_MAGIC >> 16));
		wr32(x, STUN_MAGIC);
		memcpy(x + 4, out + 8, STUN_TID_LEN);
		for (i = 0; i < 16; i++)
			v[4 + i] = in6->sin6_addr.s6_addr[i] ^ x[i];
	}
	else
		return 0;
	return finish(&w, key, klen, true);
}

size_t stun_build_error(uint8_t *out, size_t size, const uint8_t *tid,
			uint16_t code)
{
	struct wbuf w = { out, size, 0, false };
	const char *why = code == 401 ? "Unauthorized" :
		code == 400 ? "Bad Request" : code == 420 ?
		"Unknown Attribute" : "Error";
	size_t rl = strlen(why);
	uint8_t *v;

	hdr_put(&w, STUN_BINDING_ERR, tid);
	v = attr_put(&w, STUN_A_ERROR, (uint16_t)(4 + rl));
	if (!v)
		return 0;
	v[0] = v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, why, rl);
	return finish(&w, NULL, 0, true);
}

size_t stun_build_request(uint8_t *out, size_t size,
			  const struct stun_req *r)
{
	struct wbuf w = { out, size, 0, false };
	uint8_t *v;

	hdr_put(&w, STUN_BINDING_REQ, r->tid);
	if (r->user) {
		size_t ul = strlen(r->user);

		if (ul > 513)
			return 0;
		v = attr_put(&w, STUN_A_USERNAME, (uint16_t)ul);
		if (v)
			memcpy(v, r->user, ul);
	}
	if (r->prio) {
		v = attr_put(&w, STUN_A_PRIORITY, 4);
		if (v)
			wr32(v, r->prio);
	}
	if (r->use_cand)
		attr_put(&w, STUN_A_USE_CAND, 0);
	if (r->controlling || r->tiebreak) {
		v = attr_put(&w, r->controlling ? STUN_A_CONTROLLING :
			     STUN_A_CONTROLLED, 8);
		if (v) {
			wr32(v, (uint32_t)(r->tiebreak >> 32));
			wr32(v + 4, (uint32_t)r->tiebreak);
		}
	}
	if (w.err)
		return 0;
	return finish(&w, r->key, r->klen, r->fingerprint);
}
