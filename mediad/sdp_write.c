/* mediad/sdp_write.c  SDP writer (canonical order) and session rewrites */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "arena.h"
#include "sdp.h"

/*
 * One writer serves two uses: rendering into the caller's buffer, and
 * hashing the body (without o=) to tell whether a re-offer changed
 * anything. With <buf> NULL the bytes only feed the hash, so the check
 * needs no memory.
 */
struct pbuf {
	char    *buf;
	size_t   size;
	size_t   len;
	uint64_t hash;
	int      err;
	bool     no_origin;
};

#define FNV_OFFSET  0xcbf29ce484222325ull
#define FNV_PRIME   0x100000001b3ull

static void put(struct pbuf *b, const char *s, size_t n)
{
	size_t i;

	if (b->err)
		return;
	if (!b->buf) {
		for (i = 0; i < n; i++) {
			b->hash ^= (unsigned char)s[i];
			b->hash *= FNV_PRIME;
		}
		b->len += n;
		return;
	}
	/* Keep one byte for the NUL. */
	if (b->len >= b->size || n >= b->size - b->len) {
		b->err = ENOSPC;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

static void puts_(struct pbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putu(struct pbuf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(b, tmp + i, sizeof(tmp) - i);
}

static void eol(struct pbuf *b)
{
	put(b, "\r\n", 2);
}

/* "<type>=<text>\r\n", skipped when <text> is NULL. */
static void line(struct pbuf *b, const char *type, const char *text)
{
	if (!text)
		return;
	puts_(b, type);
	puts_(b, text);
	eol(b);
}

static void lines(struct pbuf *b, const char *type, const struct sdp_line *l)
{
	for (; l; l = l->next)
		line(b, type, l->text);
}

static void conn(struct pbuf *b, const struct sdp_conn *c)
{
	if (!c)
		return;
	puts_(b, "c=");
	puts_(b, c->nettype);
	put(b, " ", 1);
	puts_(b, c->addrtype);
	put(b, " ", 1);
	puts_(b, c->addr);
	eol(b);
}

static void bws(struct pbuf *b, const struct sdp_bw *bw)
{
	for (; bw; bw = bw->next) {
		puts_(b, "b=");
		puts_(b, bw->type);
		put(b, ":", 1);
		putu(b, bw->value);
		eol(b);
	}
}

/* a=<name>[:<value>] */
static void attr(struct pbuf *b, const char *name, const char *value)
{
	puts_(b, "a=");
	puts_(b, name);
	if (value) {
		put(b, ":", 1);
		puts_(b, value);
	}
	eol(b);
}

static void attr_u(struct pbuf *b, const char *name, uint64_t v)
{
	puts_(b, "a=");
	puts_(b, name);
	put(b, ":", 1);
	putu(b, v);
	eol(b);
}

static void unknown(struct pbuf *b, const struct sdp_attr *at)
{
	for (; at; at = at->next)
		attr(b, at->name, at->value);
}

static void ice(struct pbuf *b, const struct sdp_ice *ic)
{
	const struct sdp_cand *cd;

	if (ic->ufrag)
		attr(b, "ice-ufrag", ic->ufrag);
	if (ic->pwd)
		attr(b, "ice-pwd", ic->pwd);
	if (ic->options)
		attr(b, "ice-options", ic->options);
	for (cd = ic->cands; cd; cd = cd->next) {
		puts_(b, "a=candidate:");
		puts_(b, cd->foundation);
		put(b, " ", 1);
		putu(b, cd->component);
		put(b, " ", 1);
		puts_(b, cd->transport);
		put(b, " ", 1);
		putu(b, cd->priority);
		put(b, " ", 1);
		puts_(b, cd->addr);
		put(b, " ", 1);
		putu(b, cd->port);
		puts_(b, " typ ");
		puts_(b, cd->type);
		if (cd->ext) {
			put(b, " ", 1);
			puts_(b, cd->ext);
		}
		eol(b);
	}
	if (ic->eoc)
		attr(b, "end-of-candidates", NULL);
}

static void dtls(struct pbuf *b, const struct sdp_fp *fp, enum sdp_setup st)
{
	for (; fp; fp = fp->next) {
		puts_(b, "a=fingerprint:");
		puts_(b, fp->hash);
		put(b, " ", 1);
		puts_(b, fp->value);
		eol(b);
	}
	if (st != SDP_SETUP_NONE && sdp_setup_name(st))
		attr(b, "setup", sdp_setup_name(st));
}

static void dir(struct pbuf *b, enum sdp_dir d)
{
	if (sdp_dir_name(d))
		attr(b, sdp_dir_name(d), NULL);
}

/* a=rtpmap, a=fmtp and a=rtcp-fb of one format. */
static void fmt_attrs(struct pbuf *b, const struct sdp_fmt *f)
{
	const struct sdp_line *fb;

	if ((f->flags & SDP_FMT_RTPMAP) && f->enc) {
		puts_(b, "a=rtpmap:");
		putu(b, f->pt);
		put(b, " ", 1);
		puts_(b, f->enc);
		put(b, "/", 1);
		putu(b, f->clock);
		if (f->channels) {
			put(b, "/", 1);
			putu(b, f->channels);
		}
		eol(b);
	}
	if (f->params) {
		puts_(b, "a=fmtp:");
		putu(b, f->pt);
		if (*f->params) {
			put(b, " ", 1);
			puts_(b, f->params);
		}
		eol(b);
	}
	for (fb = f->fb; fb; fb = fb->next) {
		puts_(b, "a=rtcp-fb:");
		putu(b, f->pt);
		put(b, " ", 1);
		puts_(b, fb->text);
		eol(b);
	}
}

static void media(struct pbuf *b, const struct sdp_media *m)
{
	const struct sdp_crypto *cr;
	const struct sdp_ssrc *ss;
	unsigned i, n = 0;

	puts_(b, "m=");
	puts_(b, m->type);
	put(b, " ", 1);
	putu(b, m->port);
	if (m->nports) {
		put(b, "/", 1);
		putu(b, m->nports);
	}
	put(b, " ", 1);
	puts_(b, m->proto_name);
	if (m->rtp) {
		for (i = 0; i < m->nfmt; i++) {
			if (m->fmts[i].flags & SDP_FMT_MASKED)
				continue;
			put(b, " ", 1);
			putu(b, m->fmts[i].pt);
			n++;
		}
		/* An m= without a format would not parse back. */
		if (!n && !b->err)
			b->err = EINVAL;
	}
	else {
		put(b, " ", 1);
		puts_(b, m->fmt_text);
	}
	eol(b);

	line(b, "i=", m->info);
	conn(b, m->conn);
	bws(b, m->bw);
	line(b, "k=", m->key);

	if (m->mid)
		attr(b, "mid", m->mid);
	for (i = 0; m->rtp && i < m->nfmt; i++) {
		if (!(m->fmts[i].flags & SDP_FMT_MASKED))
			fmt_attrs(b, &m->fmts[i]);
	}
	if (m->ptime)
		attr_u(b, "ptime", m->ptime);
	if (m->maxptime)
		attr_u(b, "maxptime", m->maxptime);
	dir(b, m->dir);
	if (m->rtcp.set) {
		puts_(b, "a=rtcp:");
		putu(b, m->rtcp.port);
		if (m->rtcp.nettype) {
			put(b, " ", 1);
			puts_(b, m->rtcp.nettype);
			put(b, " ", 1);
			puts_(b, m->rtcp.addrtype);
			put(b, " ", 1);
			puts_(b, m->rtcp.addr);
		}
		eol(b);
	}
	if (m->rtcp_mux)
		attr(b, "rtcp-mux", NULL);
	ice(b, &m->ice);
	for (cr = m->crypto; cr; cr = cr->next) {
		puts_(b, "a=crypto:");
		putu(b, cr->tag);
		put(b, " ", 1);
		puts_(b, cr->suite);
		put(b, " ", 1);
		puts_(b, cr->params);
		eol(b);
	}
	dtls(b, m->fp, m->setup);
	unknown(b, m->attrs);
	for (ss = m->ssrc; ss; ss = ss->next) {
		puts_(b, "a=ssrc:");
		putu(b, ss->id);
		put(b, " ", 1);
		puts_(b, ss->attr);
		eol(b);
	}
}

static void session(struct pbuf *b, const struct sdp_session *s)
{
	const struct sdp_origin *o = &s->origin;
	const struct sdp_group *g;
	const struct sdp_time *t;
	unsigned i;

	puts_(b, "v=0\r\n");
	if (!b->no_origin) {
		puts_(b, "o=");
		puts_(b, o->username);
		put(b, " ", 1);
		puts_(b, o->sess_id);
		put(b, " ", 1);
		putu(b, o->version);
		put(b, " ", 1);
		puts_(b, o->nettype);
		put(b, " ", 1);
		puts_(b, o->addrtype);
		put(b, " ", 1);
		puts_(b, o->addr);
		eol(b);
	}
	/* RFC 8866 5.3: an empty name is written as one space. */
	line(b, "s=", s->name && *s->name ? s->name : " ");
	line(b, "i=", s->info);
	line(b, "u=", s->uri);
	lines(b, "e=", s->emails);
	lines(b, "p=", s->phones);
	conn(b, s->conn);
	bws(b, s->bw);
	for (t = s->times; t; t = t->next) {
		puts_(b, "t=");
		putu(b, t->start);
		put(b, " ", 1);
		putu(b, t->stop);
		eol(b);
		lines(b, "r=", t->repeats);
	}
	line(b, "z=", s->zone);
	line(b, "k=", s->key);

	for (g = s->groups; g; g = g->next) {
		puts_(b, "a=group:");
		puts_(b, g->semantics);
		if (g->tags) {
			put(b, " ", 1);
			puts_(b, g->tags);
		}
		eol(b);
	}
	if (s->ice_lite)
		attr(b, "ice-lite", NULL);
	ice(b, &s->ice);
	dtls(b, s->fp, s->setup);
	dir(b, s->dir);
	unknown(b, s->attrs);

	for (i = 0; i < s->nmedia; i++)
		media(b, s->media[i]);
}

int sdp_print(const struct sdp_session *s, char *buf, size_t size,
	      size_t *lenp)
{
	struct pbuf b;

	if (!s || !buf || !size)
		return !s ? EINVAL : ENOSPC;

	memset(&b, 0, sizeof(b));
	b.buf = buf;
	b.size = size;
	session(&b, s);
	if (b.err)
		return b.err;

	buf[b.len] = '\0';
	if (lenp)
		*lenp = b.len;
	return 0;
}

/* Rewrites */

/* "IP4" or "IP6" for an address literal, NULL for anything else. */
static const char *addr_type(const char *addr)
{
	unsigned char tmp[16];

	if (!addr)
		return NULL;
	if (inet_pton(AF_INET, addr, tmp) == 1)
		return "IP4";
	if (inet_pton(AF_INET6, addr, tmp) == 1)
		return "IP6";
	return NULL;
}

static const char *sdup(struct sdp_session *s, const char *str)
{
	return arena_strndup(s->arena, str, strlen(str));
}

int sdp_conn_set(struct sdp_session *s, struct sdp_media *m,
		 const char *addr)
{
	struct sdp_conn **cp, *c;
	const char *type = addr_type(addr);
	const char *a;

	if (!s || !type)
		return EINVAL;

	a = sdup(s, addr);
	if (!a)
		return ENOMEM;
	cp = m ? &m->conn : &s->conn;
	c = *cp;
	if (!c) {
		c = arena_alloc(s->arena, sizeof(*c));
		if (!c)
			return ENOMEM;
		*cp = c;
	}
	c->nettype = "IN";
	c->addrtype = type;
	c->addr = a;
	return 0;
}

int sdp_conn_set_all(struct sdp_session *s, const char *addr)
{
	unsigned i;
	int err;

	err = sdp_conn_set(s, NULL, addr);
	for (i = 0; !err && i < s->nmedia; i++) {
		if (s->media[i]->conn)
			err = sdp_conn_set(s, s->media[i], addr);
	}
	return err;
}

void sdp_media_ports_set(struct sdp_media *m, uint16_t port,
			 uint16_t rtcp_port)
{
	m->port = port;
	memset(&m->rtcp, 0, sizeof(m->rtcp));
	if (!m->rtcp_mux && rtcp_port) {
		m->rtcp.set = true;
		m->rtcp.port = rtcp_port;
	}
}

int sdp_media_proto_set(struct sdp_media *m, enum sdp_proto proto)
{
	/* Formats of a non-RTP m= are not payload types: no way across. */
	if (!m || !m->rtp || proto == SDP_PROTO_OTHER ||
	    !*sdp_proto_name(proto))
		return EINVAL;
	m->proto = proto;
	m->proto_name = sdp_proto_name(proto);
	return 0;
}

void sdp_dir_set(struct sdp_session *s, struct sdp_media *m, enum sdp_dir d)
{
	if (m)
		m->dir = d;
	else
		s->dir = d;
}

/* Unknown attributes that belong to ICE too (RFC 8839, 8445). */
static bool is_ice_attr(const char *name)
{
	static const char *const names[] = {
		"candidate", "remote-candidates", "ice-mismatch",
		"ice-pacing", "ice-lite", "ice-ufrag", "ice-pwd",
		"ice-options", "end-of-candidates",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i]))
			return true;
	}
	return false;
}

static void drop_ice_attrs(struct sdp_attr **pp)
{
	while (*pp) {
		if (is_ice_attr((*pp)->name))
			*pp = (*pp)->next;
		else
			pp = &(*pp)->next;
	}
}

void sdp_ice_remove(struct sdp_session *s)
{
	unsigned i;

	s->ice_lite = false;
	memset(&s->ice, 0, sizeof(s->ice));
	drop_ice_attrs(&s->attrs);
	for (i = 0; i < s->nmedia; i++) {
		memset(&s->media[i]->ice, 0, sizeof(s->media[i]->ice));
		drop_ice_attrs(&s->media[i]->attrs);
	}
}

void sdp_crypto_remove(struct sdp_session *s, struct sdp_media *m)
{
	unsigned i;

	if (m) {
		m->crypto = NULL;
		return;
	}
	for (i = 0; i < s->nmedia; i++)
		s->media[i]->crypto = NULL;
}

int sdp_crypto_keep(struct sdp_media *m, uint32_t tag)
{
	struct sdp_crypto *cr;

	for (cr = m->crypto; cr; cr = cr->next) {
		if (cr->tag == tag) {
			cr->next = NULL;
			m->crypto = cr;
			return 0;
		}
	}
	return ENOENT;
}

/* FNV-1a of everything sdp_print() would write except the o= line. */
static uint64_t body_hash(const struct sdp_session *s)
{
	struct pbuf b;

	memset(&b, 0, sizeof(b));
	b.hash = FNV_OFFSET;
	b.no_origin = true;
	session(&b, s);
	return b.hash;
}

int sdp_origin_replace(struct sdp_session *s, const char *addr,
		       struct sdp_vstate *vs)
{
	uint64_t h;

	if (!s)
		return EINVAL;
	if (addr) {
		const char *type = addr_type(addr);
		const char *a;

		if (!type)
			return EINVAL;
		a = sdup(s, addr);
		if (!a)
			return ENOMEM;
		s->origin.nettype = "IN";
		s->origin.addrtype = type;
		s->origin.addr = a;
	}
	if (!vs)
		return 0;

	h = body_hash(s);
	if (vs->valid)
		s->origin.version = vs->version + (h != vs->hash);
	vs->hash = h;
	vs->version = s->origin.version;
	vs->valid = true;
	return 0;
}
