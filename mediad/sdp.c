/* mediad/sdp.c  Strict SDP parser (RFC 8866) into an NG command's arena */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "sdp.h"

/*
 * The parser walks the text once, line by line, with every read bounded
 * by the line's end. A line is split into tokens on runs of blanks;
 * typed fields are checked and copied into the arena, unknown ones are
 * copied verbatim. The first problem stops the parse with its line
 * number, so the NG error reply can say exactly what to fix.
 */

/* Parser state for one sdp_parse() call. */
struct pctx {
	struct arena       *a;
	struct sdp_session *s;
	struct sdp_media   *m;        /* current m= section, NULL before */
	struct sdp_err     *e;
	unsigned            line;
	int                 rank;     /* order rank of the previous line */
	char                prev;     /* type of the previous line */
	uint32_t            seen;     /* line types seen in this section */
	char                quote[48];
};

/* A cursor over the text of one line after "x=". */
struct cur {
	const char *p;
	const char *end;
};

/*
 * Static payload types (RFC 3551 section 6), known without a=rtpmap.
 * Channels 0 is "not given", which means one, as in an rtpmap.
 */
static const struct {
	uint8_t     pt;
	uint8_t     channels;
	uint32_t    clock;
	const char *enc;
} static_pts[] = {
	{  0, 0,  8000, "PCMU" },
	{  3, 0,  8000, "GSM" },
	{  4, 0,  8000, "G723" },
	{  5, 0,  8000, "DVI4" },
	{  6, 0, 16000, "DVI4" },
	{  7, 0,  8000, "LPC" },
	{  8, 0,  8000, "PCMA" },
	{  9, 0,  8000, "G722" },
	{ 10, 2, 44100, "L16" },
	{ 11, 0, 44100, "L16" },
	{ 12, 0,  8000, "QCELP" },
	{ 13, 0,  8000, "CN" },
	{ 14, 0, 90000, "MPA" },
	{ 15, 0,  8000, "G728" },
	{ 16, 0, 11025, "DVI4" },
	{ 17, 0, 22050, "DVI4" },
	{ 18, 0,  8000, "G729" },
	{ 25, 0, 90000, "CelB" },
	{ 26, 0, 90000, "JPEG" },
	{ 28, 0, 90000, "nv" },
	{ 31, 0, 90000, "H261" },
	{ 32, 0, 90000, "MPV" },
	{ 33, 0, 90000, "MP2T" },
	{ 34, 0, 90000, "H263" },
};

static const char *const proto_names[] = {
	[SDP_PROTO_OTHER]             = "",
	[SDP_PROTO_RTP_AVP]           = "RTP/AVP",
	[SDP_PROTO_RTP_SAVP]          = "RTP/SAVP",
	[SDP_PROTO_RTP_AVPF]          = "RTP/AVPF",
	[SDP_PROTO_RTP_SAVPF]         = "RTP/SAVPF",
	[SDP_PROTO_UDP_TLS_RTP_SAVP]  = "UDP/TLS/RTP/SAVP",
	[SDP_PROTO_UDP_TLS_RTP_SAVPF] = "UDP/TLS/RTP/SAVPF",
};

static const char *const dir_names[] = {
	[SDP_DIR_NONE]     = NULL,
	[SDP_DIR_SENDRECV] = "sendrecv",
	[SDP_DIR_SENDONLY] = "sendonly",
	[SDP_DIR_RECVONLY] = "recvonly",
	[SDP_DIR_INACTIVE] = "inactive",
};

static const char *const setup_names[] = {
	[SDP_SETUP_NONE]     = NULL,
	[SDP_SETUP_ACTIVE]   = "active",
	[SDP_SETUP_PASSIVE]  = "passive",
	[SDP_SETUP_ACTPASS]  = "actpass",
	[SDP_SETUP_HOLDCONN] = "holdconn",
};

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))

/* Append <node> to the singly linked list at <headp>. */
#define LIST_APPEND(headp, node) do { \
		__typeof__(node) *pp_ = (headp); \
		while (*pp_) \
			pp_ = &(*pp_)->next; \
		*pp_ = (node); \
	} while (0)

const char *sdp_proto_name(enum sdp_proto p)
{
	if ((unsigned)p >= ARRAY_SIZE(proto_names))
		return "";
	return proto_names[p];
}

int sdp_proto_parse(const char *p, size_t len, enum sdp_proto *protop)
{
	size_t i;

	if (!p)
		return EINVAL;
	for (i = 1; i < ARRAY_SIZE(proto_names); i++) {
		if (strlen(proto_names[i]) == len &&
		    !memcmp(proto_names[i], p, len)) {
			*protop = (enum sdp_proto)i;
			return 0;
		}
	}
	return EINVAL;
}

const char *sdp_dir_name(enum sdp_dir d)
{
	if ((unsigned)d >= ARRAY_SIZE(dir_names))
		return NULL;
	return dir_names[d];
}

int sdp_dir_parse(const char *p, size_t len, enum sdp_dir *dirp)
{
	size_t i;

	if (!p)
		return EINVAL;
	for (i = 1; i < ARRAY_SIZE(dir_names); i++) {
		if (strlen(dir_names[i]) == len &&
		    !memcmp(dir_names[i], p, len)) {
			*dirp = (enum sdp_dir)i;
			return 0;
		}
	}
	return EINVAL;
}

const char *sdp_setup_name(enum sdp_setup st)
{
	if ((unsigned)st >= ARRAY_SIZE(setup_names))
		return NULL;
	return setup_names[st];
}

enum sdp_dir sdp_media_dir(const struct sdp_session *s,
			   const struct sdp_media *m)
{
	if (m && m->dir != SDP_DIR_NONE)
		return m->dir;
	if (s && s->dir != SDP_DIR_NONE)
		return s->dir;
	return SDP_DIR_SENDRECV;
}

const struct sdp_conn *sdp_media_conn(const struct sdp_session *s,
				      const struct sdp_media *m)
{
	if (m && m->conn)
		return m->conn;
	return s ? s->conn : NULL;
}

struct sdp_fmt *sdp_fmt_find(const struct sdp_media *m, unsigned pt)
{
	unsigned i;

	if (!m)
		return NULL;
	for (i = 0; i < m->nfmt; i++) {
		if (m->fmts[i].pt == pt)
			return &m->fmts[i];
	}
	return NULL;
}

bool sdp_fmt_is(const struct sdp_fmt *f, const char *enc)
{
	return f && f->enc && enc && !strcasecmp(f->enc, enc);
}

/* Error reporting */

/* <p>/<len> made printable and short enough for a message. */
static const char *quoted(struct pctx *c, const char *p, size_t len)
{
	size_t i, max = sizeof(c->quote) - 4;

	for (i = 0; i < len && i < max; i++) {
		unsigned char ch = (unsigned char)p[i];

		c->quote[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (len > max) {
		memcpy(c->quote + i, "...", 3);
		i += 3;
	}
	c->quote[i] = '\0';
	return c->quote;
}

static int fail(struct pctx *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct pctx *c, int err, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!c->e)
		return err;

	c->e->line = c->line;
	if (c->line)
		n = snprintf(c->e->msg, sizeof(c->e->msg), "line %u: ",
			     c->line);
	if (n < 0 || (size_t)n >= sizeof(c->e->msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(c->e->msg + n, sizeof(c->e->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

static int nomem(struct pctx *c)
{
	return fail(c, ENOMEM, "arena full");
}

/* Tokens */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static void skip_blanks(struct cur *k)
{
	while (k->p < k->end && is_blank(*k->p))
		k->p++;
}

/* Next blank-separated token into <p>/<len>; false at the end. */
static bool next_tok(struct cur *k, const char **p, size_t *len)
{
	const char *s;

	skip_blanks(k);
	if (k->p == k->end)
		return false;
	s = k->p;
	while (k->p < k->end && !is_blank(*k->p))
		k->p++;
	*p = s;
	*len = (size_t)(k->p - s);
	return true;
}

/* The rest of the line without leading and trailing blanks. */
static void rest(struct cur *k, const char **p, size_t *len)
{
	const char *e = k->end;

	skip_blanks(k);
	while (e > k->p && is_blank(e[-1]))
		e--;
	*p = k->p;
	*len = (size_t)(e - k->p);
	k->p = k->end;
}

static bool at_end(struct cur *k)
{
	skip_blanks(k);
	return k->p == k->end;
}

/* Decimal digits only, at most 20 of them, value <= <max>. */
static bool num(const char *p, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (len == 0 || len > 20)
		return false;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)p[i] - '0';

		if (d > 9)
			return false;
		if (x > (max - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

/* RFC 8866 token characters (section 9, "token-char"). */
static bool is_token(const char *p, size_t len)
{
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch <= 0x20 || ch >= 0x7f)
			return false;
		if (strchr("\"(),/:;<=>?@[\\]", ch))
			return false;
	}
	return true;
}

static const char *dup(struct pctx *c, const char *p, size_t len)
{
	return arena_strndup(c->a, p, len);
}

/* Exactly one more token, nothing after it, copied. */
static int last_tok(struct pctx *c, struct cur *k, const char *what,
		    const char **outp)
{
	const char *p;
	size_t len;

	if (!next_tok(k, &p, &len))
		return fail(c, EINVAL, "%s is missing", what);
	if (!at_end(k))
		return fail(c, EINVAL, "%s: unexpected '%s'", what,
			    quoted(c, k->p, (size_t)(k->end - k->p)));
	*outp = dup(c, p, len);
	return *outp ? 0 : nomem(c);
}

/* Session-level lines */

static int parse_origin(struct pctx *c, struct cur *k)
{
	static const char *const names[] = {
		"username", "sess-id", "sess-version", "nettype", "addrtype",
		"address",
	};
	struct sdp_origin *o = &c->s->origin;
	const char *f[6];
	size_t fl[6];
	const char **dst[6] = {
		&o->username, &o->sess_id, NULL, &o->nettype, &o->addrtype,
		&o->addr,
	};
	unsigned n = 0, i;
	uint64_t v;

	while (n < 6 && next_tok(k, &f[n], &fl[n]))
		n++;
	if (n < 6)
		return fail(c, EINVAL, "o= %s is missing", names[n]);
	if (!at_end(k))
		return fail(c, EINVAL, "o= has more than 6 fields");

	if (!num(f[1], fl[1], UINT64_MAX, &v))
		return fail(c, EINVAL, "o= sess-id '%s' is not a number",
			    quoted(c, f[1], fl[1]));
	if (!num(f[2], fl[2], UINT64_MAX, &o->version))
		return fail(c, EINVAL, "o= sess-version '%s' is not a number",
			    quoted(c, f[2], fl[2]));

	for (i = 0; i < 6; i++) {
		if (!dst[i])
			continue;
		*dst[i] = dup(c, f[i], fl[i]);
		if (!*dst[i])
			return nomem(c);
	}
	return 0;
}

static int parse_conn(struct pctx *c, struct cur *k, struct sdp_conn **connp)
{
	static const char *const names[] = { "nettype", "addrtype", "address" };
	struct sdp_conn *cn;
	const char *f[3];
	size_t fl[3];
	unsigned n = 0;

	while (n < 3 && next_tok(k, &f[n], &fl[n]))
		n++;
	if (n < 3)
		return fail(c, EINVAL, "c= %s is missing", names[n]);
	if (!at_end(k))
		return fail(c, EINVAL, "c= has more than 3 fields");

	cn = arena_alloc(c->a, sizeof(*cn));
	if (!cn)
		return nomem(c);
	cn->nettype  = dup(c, f[0], fl[0]);
	cn->addrtype = dup(c, f[1], fl[1]);
	cn->addr     = dup(c, f[2], fl[2]);
	if (!cn->nettype || !cn->addrtype || !cn->addr)
		return nomem(c);
	*connp = cn;
	return 0;
}

static int parse_bw(struct pctx *c, struct cur *k, struct sdp_bw **listp)
{
	const char *p, *colon;
	struct sdp_bw *bw;
	size_t len;
	uint64_t v;

	if (!next_tok(k, &p, &len) || !at_end(k))
		return fail(c, EINVAL, "b= must be <type>:<value>");
	colon = memchr(p, ':', len);
	if (!colon || !is_token(p, (size_t)(colon - p)))
		return fail(c, EINVAL, "b= '%s' is not <type>:<value>",
			    quoted(c, p, len));
	if (!num(colon + 1, (size_t)(p + len - colon - 1), UINT32_MAX, &v))
		return fail(c, EINVAL, "b= value '%s' is not a number",
			    quoted(c, colon + 1,
				   (size_t)(p + len - colon - 1)));

	bw = arena_alloc(c->a, sizeof(*bw));
	if (!bw)
		return nomem(c);
	bw->type = dup(c, p, (size_t)(colon - p));
	if (!bw->type)
		return nomem(c);
	bw->value = (uint32_t)v;
	LIST_APPEND(listp, bw);
	return 0;
}

static int parse_time(struct pctx *c, struct cur *k)
{
	struct sdp_time *t;
	const char *p;
	size_t len;
	uint64_t v[2];
	unsigned i;

	for (i = 0; i < 2; i++) {
		if (!next_tok(k, &p, &len))
			return fail(c, EINVAL, "t= must be <start> <stop>");
		if (!num(p, len, UINT64_MAX, &v[i]))
			return fail(c, EINVAL, "t= time '%s' is not a number",
				    quoted(c, p, len));
	}
	if (!at_end(k))
		return fail(c, EINVAL, "t= has more than 2 fields");

	t = arena_alloc(c->a, sizeof(*t));
	if (!t)
		return nomem(c);
	t->start = v[0];
	t->stop = v[1];
	LIST_APPEND(&c->s->times, t);
	return 0;
}

/* A line kept as text: i=, u=, e=, p=, r=, z=, k=. */
static int verbatim(struct pctx *c, struct cur *k, const char **outp)
{
	*outp = dup(c, k->p, (size_t)(k->end - k->p));
	return *outp ? 0 : nomem(c);
}

static int verbatim_list(struct pctx *c, struct cur *k,
			 struct sdp_line **listp)
{
	struct sdp_line *l = arena_alloc(c->a, sizeof(*l));

	if (!l)
		return nomem(c);
	l->text = dup(c, k->p, (size_t)(k->end - k->p));
	if (!l->text)
		return nomem(c);
	LIST_APPEND(listp, l);
	return 0;
}

/* m= */

static bool proto_is_rtp(const char *p, size_t len)
{
	size_t i = 0;

	/* "RTP" as one of the '/'-separated parts: TCP/RTP/AVP too. */
	while (i < len) {
		size_t j = i;

		while (j < len && p[j] != '/')
			j++;
		if (j - i == 3 && !memcmp(p + i, "RTP", 3))
			return true;
		i = j + 1;
	}
	return false;
}

static const struct sdp_fmt *static_fmt(unsigned pt, struct sdp_fmt *f)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(static_pts); i++) {
		if (static_pts[i].pt != pt)
			continue;
		f->enc = static_pts[i].enc;
		f->clock = static_pts[i].clock;
		f->channels = static_pts[i].channels;
		return f;
	}
	return NULL;
}

static int parse_media(struct pctx *c, struct cur *k)
{
	struct sdp_session *s = c->s;
	struct sdp_media *m;
	const char *p, *slash;
	size_t len;
	uint64_t v;
	uint8_t pts[SDP_MAX_FMTS];
	unsigned n = 0, i;

	if (s->nmedia >= SDP_MAX_MEDIA)
		return fail(c, E2BIG, "more than %u m= sections",
			    SDP_MAX_MEDIA);

	m = arena_alloc(c->a, sizeof(*m));
	if (!m)
		return nomem(c);
	m->line = c->line;

	if (!next_tok(k, &p, &len))
		return fail(c, EINVAL, "m= media type is missing");
	if (!is_token(p, len))
		return fail(c, EINVAL, "m= media type '%s' is not a token",
			    quoted(c, p, len));
	m->type = dup(c, p, len);
	if (!m->type)
		return nomem(c);

	if (!next_tok(k, &p, &len))
		return fail(c, EINVAL, "m= port is missing");
	slash = memchr(p, '/', len);
	if (!num(p, slash ? (size_t)(slash - p) : len, UINT64_MAX, &v))
		return fail(c, EINVAL, "m= port '%s' is not a number",
			    quoted(c, p, slash ? (size_t)(slash - p) : len));
	if (v > UINT16_MAX)
		return fail(c, EINVAL, "m= port %llu is out of range",
			    (unsigned long long)v);
	m->port = (uint16_t)v;
	if (slash) {
		size_t nl = (size_t)(p + len - slash - 1);

		if (!num(slash + 1, nl, UINT16_MAX, &v) || v == 0)
			return fail(c, EINVAL,
				    "m= port count '%s' is not a number",
				    quoted(c, slash + 1, nl));
		m->nports = (uint16_t)v;
	}

	if (!next_tok(k, &p, &len))
		return fail(c, EINVAL, "m= proto is missing");
	if (sdp_proto_parse(p, len, &m->proto))
		m->proto = SDP_PROTO_OTHER;
	m->rtp = m->proto != SDP_PROTO_OTHER || proto_is_rtp(p, len);
	m->proto_name = dup(c, p, len);
	if (!m->proto_name)
		return nomem(c);

	if (!m->rtp) {
		rest(k, &p, &len);
		if (!len)
			return fail(c, EINVAL, "m= has no format");
		m->fmt_text = dup(c, p, len);
		if (!m->fmt_text)
			return nomem(c);
		goto out;
	}

	while (next_tok(k, &p, &len)) {
		if (!num(p, len, UINT64_MAX, &v))
			return fail(c, EINVAL,
				    "m= format '%s' is not a payload type",
				    quoted(c, p, len));
		if (v > 127)
			return fail(c, EINVAL,
				    "m= payload type %llu is out of range",
				    (unsigned long long)v);
		for (i = 0; i < n; i++) {
			if (pts[i] == v)
				return fail(c, EINVAL,
					    "m= payload type %u listed twice",
					    (unsigned)v);
		}
		if (n == SDP_MAX_FMTS)
			return fail(c, E2BIG, "m= lists more than %u formats",
				    SDP_MAX_FMTS);
		pts[n++] = (uint8_t)v;
	}
	if (!n)
		return fail(c, EINVAL, "m= has no format");

	m->fmts = arena_alloc(c->a, n * sizeof(*m->fmts));
	if (!m->fmts)
		return nomem(c);
	m->nfmt = n;
	for (i = 0; i < n; i++) {
		m->fmts[i].pt = pts[i];
		static_fmt(pts[i], &m->fmts[i]);
	}
 out:
	s->media[s->nmedia++] = m;
	c->m = m;
	return 0;
}

/* a= */

enum attr_id {
	A_UNKNOWN = 0,
	A_SENDRECV,
	A_SENDONLY,
	A_RECVONLY,
	A_INACTIVE,
	A_GROUP,
	A_ICE_LITE,
	A_ICE_UFRAG,
	A_ICE_PWD,
	A_ICE_OPTIONS,
	A_FINGERPRINT,
	A_SETUP,
	A_RTPMAP,
	A_FMTP,
	A_RTCP_FB,
	A_PTIME,
	A_MAXPTIME,
	A_RTCP,
	A_RTCP_MUX,
	A_MID,
	A_CANDIDATE,
	A_EOC,
	A_CRYPTO,
	A_SSRC,
};

#define LV_S   0x01  /* interpreted at session level */
#define LV_M   0x02  /* interpreted at media level */
#define LV_RTP 0x04  /* only in RTP media */
#define LV_FLAG 0x08 /* takes no value */

/*
 * The attributes this file interprets, and where. Elsewhere (rtpmap at
 * session level, candidate in a datachannel m=) an attribute is kept
 * verbatim like any unknown one: not our business to reject it.
 */
static const struct {
	const char  *name;
	enum attr_id id;
	uint8_t      where;
} attr_tab[] = {
	{ "sendrecv",          A_SENDRECV,    LV_S | LV_M | LV_FLAG },
	{ "sendonly",          A_SENDONLY,    LV_S | LV_M | LV_FLAG },
	{ "recvonly",          A_RECVONLY,    LV_S | LV_M | LV_FLAG },
	{ "inactive",          A_INACTIVE,    LV_S | LV_M | LV_FLAG },
	{ "group",             A_GROUP,       LV_S },
	{ "ice-lite",          A_ICE_LITE,    LV_S | LV_FLAG },
	{ "ice-ufrag",         A_ICE_UFRAG,   LV_S | LV_M },
	{ "ice-pwd",           A_ICE_PWD,     LV_S | LV_M },
	{ "ice-options",       A_ICE_OPTIONS, LV_S | LV_M },
	{ "fingerprint",       A_FINGERPRINT, LV_S | LV_M },
	{ "setup",             A_SETUP,       LV_S | LV_M },
	{ "rtpmap",            A_RTPMAP,      LV_M | LV_RTP },
	{ "fmtp",              A_FMTP,        LV_M | LV_RTP },
	{ "rtcp-fb",           A_RTCP_FB,     LV_M | LV_RTP },
	{ "ptime",             A_PTIME,       LV_M },
	{ "maxptime",          A_MAXPTIME,    LV_M },
	{ "rtcp",              A_RTCP,        LV_M },
	{ "rtcp-mux",          A_RTCP_MUX,    LV_M | LV_FLAG },
	{ "mid",               A_MID,         LV_M },
	{ "candidate",         A_CANDIDATE,   LV_M },
	{ "end-of-candidates", A_EOC,         LV_S | LV_M | LV_FLAG },
	{ "crypto",            A_CRYPTO,      LV_M },
	{ "ssrc",              A_SSRC,        LV_M },
};

/* The attribute fields both levels have. */
struct lvl {
	enum sdp_dir     *dir;
	struct sdp_ice   *ice;
	struct sdp_fp   **fp;
	enum sdp_setup   *setup;
	struct sdp_attr **attrs;
};

static void level(struct pctx *c, struct lvl *l)
{
	if (c->m) {
		l->dir   = &c->m->dir;
		l->ice   = &c->m->ice;
		l->fp    = &c->m->fp;
		l->setup = &c->m->setup;
		l->attrs = &c->m->attrs;
	}
	else {
		l->dir   = &c->s->dir;
		l->ice   = &c->s->ice;
		l->fp    = &c->s->fp;
		l->setup = &c->s->setup;
		l->attrs = &c->s->attrs;
	}
}

static int attr_unknown(struct pctx *c, struct lvl *l, const char *name,
			size_t nlen, const char *val, size_t vlen, bool hasval)
{
	struct sdp_attr *at = arena_alloc(c->a, sizeof(*at));

	if (!at)
		return nomem(c);
	at->name = dup(c, name, nlen);
	if (!at->name)
		return nomem(c);
	if (hasval) {
		at->value = dup(c, val, vlen);
		if (!at->value)
			return nomem(c);
	}
	LIST_APPEND(l->attrs, at);
	return 0;
}

/* "<pt> ..." of rtpmap/fmtp/rtcp-fb: the format it is about, or NULL. */
static int attr_pt(struct pctx *c, struct cur *k, const char *name,
		   struct sdp_fmt **fp)
{
	const char *p;
	size_t len;
	uint64_t v;

	*fp = NULL;
	if (!next_tok(k, &p, &len))
		return fail(c, EINVAL, "a=%s payload type is missing", name);
	if (len == 1 && *p == '*' && !strcmp(name, "rtcp-fb"))
		return 0;
	if (!num(p, len, 127, &v))
		return fail(c, EINVAL, "a=%s payload type '%s' is not a number",
			    name, quoted(c, p, len));
	*fp = sdp_fmt_find(c->m, (unsigned)v);
	return 0;
}

static int attr_rtpmap(struct pctx *c, struct cur *k, struct sdp_fmt *f)
{
	const char *p, *s1, *s2, *end;
	size_t len, cl;
	uint64_t clock, ch = 0;

	if (f->flags & SDP_FMT_RTPMAP)
		return fail(c, EINVAL, "second a=rtpmap for payload type %u",
			    f->pt);
	if (!next_tok(k, &p, &len))
		return fail(c, EINVAL, "a=rtpmap encoding is missing");
	if (!at_end(k))
		return fail(c, EINVAL, "a=rtpmap: unexpected '%s'",
			    quoted(c, k->p, (size_t)(k->end - k->p)));
	end = p + len;
	s1 = memchr(p, '/', len);
	if (!s1 || s1 == p)
		return fail(c, EINVAL,
			    "a=rtpmap '%s' is not <encoding>/<clock>",
			    quoted(c, p, len));
	s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1));
	cl = (size_t)((s2 ? s2 : end) - s1 - 1);
	if (!num(s1 + 1, cl, UINT32_MAX, &clock) || clock == 0)
		return fail(c, EINVAL,
			    "a=rtpmap clock rate '%s' is not a number",
			    quoted(c, s1 + 1, cl));
	if (s2 && (!num(s2 + 1, (size_t)(end - s2 - 1), UINT16_MAX, &ch) ||
		   ch == 0))
		return fail(c, EINVAL, "a=rtpmap channels '%s' is not a number",
			    quoted(c, s2 + 1, (size_t)(end - s2 - 1)));

	f->enc = dup(c, p, (size_t)(s1 - p));
	if (!f->enc)
		return nomem(c);
	f->clock = (uint32_t)clock;
	f->channels = (uint16_t)ch;
	f->flags |= SDP_FMT_RTPMAP;
	return 0;
}

static int attr_rtcp(struct pctx *c, struct cur *k)
{
	struct sdp_rtcp *r = &c->m->rtcp;
	const char *f[4];
	size_t fl[4];
	unsigned n = 0;
	uint64_t v;

	if (r->set)
		return fail(c, EINVAL, "second a=rtcp");
	while (n < 4 && next_tok(k, &f[n], &fl[n]))
		n++;
	if (n == 0)
		return fail(c, EINVAL, "a=rtcp port is missing");
	if (!at_end(k) || (n != 1 && n != 4))
		return fail(c, EINVAL, "a=rtcp must be <port> [<nettype> "
			    "<addrtype> <address>]");
	if (!num(f[0], fl[0], UINT16_MAX, &v))
		return fail(c, EINVAL, "a=rtcp port '%s' is not a number",
			    quoted(c, f[0], fl[0]));
	r->port = (uint16_t)v;
	if (n == 4) {
		r->nettype  = dup(c, f[1], fl[1]);
		r->addrtype = dup(c, f[2], fl[2]);
		r->addr     = dup(c, f[3], fl[3]);
		if (!r->nettype || !r->addrtype || !r->addr)
			return nomem(c);
	}
	r->set = true;
	return 0;
}

/*
 * a=candidate:<foundation> <component> <transport> <priority> <address>
 *             <port> typ <type> [<extensions>]      (RFC 8839 5.1)
 */
static int attr_candidate(struct pctx *c, struct cur *k)
{
	static const char *const names[] = {
		"foundation", "component", "transport", "priority", "address",
		"port", "'typ'", "type",
	};
	struct sdp_cand *cd;
	const char *f[8], *p;
	size_t fl[8], len;
	unsigned n = 0;
	uint64_t v;

	while (n < 8 && next_tok(k, &f[n], &fl[n]))
		n++;
	if (n < 8)
		return fail(c, EINVAL, "a=candidate %s is missing", names[n]);

	cd = arena_alloc(c->a, sizeof(*cd));
	if (!cd)
		return nomem(c);
	if (fl[0] > 32)
		return fail(c, EINVAL, "a=candidate foundation is too long");
	if (!num(f[1], fl[1], 256, &v) || v == 0)
		return fail(c, EINVAL,
			    "a=candidate component '%s' is not 1-256",
			    quoted(c, f[1], fl[1]));
	cd->component = (uint16_t)v;
	if (!num(f[3], fl[3], UINT32_MAX, &v))
		return fail(c, EINVAL,
			    "a=candidate priority '%s' is not a number",
			    quoted(c, f[3], fl[3]));
	cd->priority = (uint32_t)v;
	if (!num(f[5], fl[5], UINT16_MAX, &v))
		return fail(c, EINVAL, "a=candidate port '%s' is not a number",
			    quoted(c, f[5], fl[5]));
	cd->port = (uint16_t)v;
	if (fl[6] != 3 || memcmp(f[6], "typ", 3))
		return fail(c, EINVAL, "a=candidate: 'typ' expected, not '%s'",
			    quoted(c, f[6], fl[6]));

	cd->foundation = dup(c, f[0], fl[0]);
	cd->transport  = dup(c, f[2], fl[2]);
	cd->addr       = dup(c, f[4], fl[4]);
	cd->type       = dup(c, f[7], fl[7]);
	if (!cd->foundation || !cd->transport || !cd->addr || !cd->type)
		return nomem(c);
	rest(k, &p, &len);
	if (len) {
		cd->ext = dup(c, p, len);
		if (!cd->ext)
			return nomem(c);
	}
	LIST_APPEND(&c->m->ice.cands, cd);
	return 0;
}

static int attr_crypto(struct pctx *c, struct cur *k)
{
	struct sdp_crypto *cr;
	const char *f[2], *p;
	size_t fl[2], len;
	uint64_t v;

	if (!next_tok(k, &f[0], &fl[0]) || !next_tok(k, &f[1], &fl[1]))
		return fail(c, EINVAL, "a=crypto must be <tag> <suite> "
			    "<key-params>");
	if (fl[0] > 9 || !num(f[0], fl[0], UINT32_MAX, &v))
		return fail(c, EINVAL, "a=crypto tag '%s' is not a number",
			    quoted(c, f[0], fl[0]));
	rest(k, &p, &len);
	if (!len)
		return fail(c, EINVAL, "a=crypto key-params are missing");

	cr = arena_alloc(c->a, sizeof(*cr));
	if (!cr)
		return nomem(c);
	cr->tag = (uint32_t)v;
	cr->suite = dup(c, f[1], fl[1]);
	cr->params = dup(c, p, len);
	if (!cr->suite || !cr->params)
		return nomem(c);
	LIST_APPEND(&c->m->crypto, cr);
	return 0;
}

static int attr_ssrc(struct pctx *c, struct cur *k)
{
	struct sdp_ssrc *ss;
	const char *p;
	size_t len;
	uint64_t v;

	if (!next_tok(k, &p, &len) || !num(p, len, UINT32_MAX, &v))
		return fail(c, EINVAL, "a=ssrc id is not a 32-bit number");
	ss = arena_alloc(c->a, sizeof(*ss));
	if (!ss)
		return nomem(c);
	ss->id = (uint32_t)v;
	rest(k, &p, &len);
	if (!len)
		return fail(c, EINVAL, "a=ssrc attribute is missing");
	ss->attr = dup(c, p, len);
	if (!ss->attr)
		return nomem(c);
	LIST_APPEND(&c->m->ssrc, ss);
	return 0;
}

static int attr_u32(struct pctx *c, struct cur *k, const char *name,
		    uint32_t *vp)
{
	const char *p, *dot;
	size_t len;
	uint64_t v;

	if (*vp)
		return fail(c, EINVAL, "second a=%s", name);
	if (!next_tok(k, &p, &len) || !at_end(k))
		return fail(c, EINVAL, "a=%s must be one number", name);
	/* "20.5" happens; keep whole milliseconds. */
	dot = memchr(p, '.', len);
	if (dot && !num(dot + 1, (size_t)(p + len - dot - 1), UINT64_MAX, &v))
		dot = p;
	if (!num(p, dot ? (size_t)(dot - p) : len, UINT32_MAX, &v) || !v)
		return fail(c, EINVAL, "a=%s value '%s' is not a number", name,
			    quoted(c, p, len));
	*vp = (uint32_t)v;
	return 0;
}

static int attr_known(struct pctx *c, struct lvl *l, enum attr_id id,
		      const char *name, struct cur *k)
{
	const char *p;
	size_t len;
	int err, i;

	switch (id) {

	case A_SENDRECV:
	case A_SENDONLY:
	case A_RECVONLY:
	case A_INACTIVE:
		if (*l->dir != SDP_DIR_NONE)
			return fail(c, EINVAL, "second direction attribute "
				    "a=%s", name);
		*l->dir = (enum sdp_dir)(SDP_DIR_SENDRECV + (id - A_SENDRECV));
		return 0;

	case A_ICE_LITE:
		c->s->ice_lite = true;
		return 0;

	case A_RTCP_MUX:
		c->m->rtcp_mux = true;
		return 0;

	case A_EOC:
		l->ice->eoc = true;
		return 0;

	case A_ICE_UFRAG:
		if (l->ice->ufrag)
			return fail(c, EINVAL, "second a=ice-ufrag");
		return last_tok(c, k, "a=ice-ufrag", &l->ice->ufrag);

	case A_ICE_PWD:
		if (l->ice->pwd)
			return fail(c, EINVAL, "second a=ice-pwd");
		return last_tok(c, k, "a=ice-pwd", &l->ice->pwd);

	case A_MID:
		if (c->m->mid)
			return fail(c, EINVAL, "second a=mid");
		return last_tok(c, k, "a=mid", &c->m->mid);

	case A_ICE_OPTIONS:
		if (l->ice->options)
			return fail(c, EINVAL, "second a=ice-options");
		rest(k, &p, &len);
		if (!len)
			return fail(c, EINVAL, "a=ice-options is empty");
		l->ice->options = dup(c, p, len);
		return l->ice->options ? 0 : nomem(c);

	case A_SETUP:
		if (*l->setup != SDP_SETUP_NONE)
			return fail(c, EINVAL, "second a=setup");
		if (!next_tok(k, &p, &len) || !at_end(k))
			return fail(c, EINVAL, "a=setup must be one word");
		for (i = SDP_SETUP_ACTIVE; i <= SDP_SETUP_HOLDCONN; i++) {
			if (strlen(setup_names[i]) == len &&
			    !memcmp(setup_names[i], p, len)) {
				*l->setup = (enum sdp_setup)i;
				return 0;
			}
		}
		return fail(c, EINVAL, "a=setup '%s' is not active, passive, "
			    "actpass or holdconn", quoted(c, p, len));

	case A_FINGERPRINT: {
		struct sdp_fp *fp = arena_alloc(c->a, sizeof(*fp));
		const char *h;
		size_t hl;

		if (!fp)
			return nomem(c);
		if (!next_tok(k, &h, &hl))
			return fail(c, EINVAL, "a=fingerprint hash is missing");
		fp->hash = dup(c, h, hl);
		if (!fp->hash)
			return nomem(c);
		err = last_tok(c, k, "a=fingerprint value", &fp->value);
		if (err)
			return err;
		LIST_APPEND(l->fp, fp);
		return 0;
	}

	case A_GROUP: {
		struct sdp_group *g = arena_alloc(c->a, sizeof(*g));

		if (!g)
			return nomem(c);
		if (!next_tok(k, &p, &len))
			return fail(c, EINVAL, "a=group semantics is missing");
		g->semantics = dup(c, p, len);
		if (!g->semantics)
			return nomem(c);
		rest(k, &p, &len);
		if (len) {
			g->tags = dup(c, p, len);
			if (!g->tags)
				return nomem(c);
		}
		LIST_APPEND(&c->s->groups, g);
		return 0;
	}

	case A_RTPMAP:
	case A_FMTP:
	case A_RTCP_FB:
		/* handled by the caller */
		return 0;

	case A_PTIME:
		return attr_u32(c, k, name, &c->m->ptime);

	case A_MAXPTIME:
		return attr_u32(c, k, name, &c->m->maxptime);

	case A_RTCP:
		return attr_rtcp(c, k);

	case A_CANDIDATE:
		return attr_candidate(c, k);

	case A_CRYPTO:
		return attr_crypto(c, k);

	case A_SSRC:
		return attr_ssrc(c, k);

	case A_UNKNOWN:
		break;
	}
	return 0;
}

/* rtpmap, fmtp and rtcp-fb attach to their format when it is listed. */
static int attr_fmt(struct pctx *c, struct lvl *l, enum attr_id id,
		    const char *name, size_t nlen, struct cur *k)
{
	struct cur k0 = *k;
	struct sdp_fmt *f;
	struct sdp_line *fb;
	const char *p;
	size_t len;
	int err;

	err = attr_pt(c, k, name, &f);
	if (err)
		return err;
	if (!f)
		return attr_unknown(c, l, name, nlen, k0.p,
				    (size_t)(k0.end - k0.p), true);

	switch (id) {

	case A_RTPMAP:
		return attr_rtpmap(c, k, f);

	case A_FMTP:
		if (f->params)
			return fail(c, EINVAL, "second a=fmtp for payload "
				    "type %u", f->pt);
		rest(k, &p, &len);
		f->params = dup(c, p, len);
		return f->params ? 0 : nomem(c);

	default:
		rest(k, &p, &len);
		if (!len)
			return fail(c, EINVAL, "a=rtcp-fb value is missing");
		fb = arena_alloc(c->a, sizeof(*fb));
		if (!fb)
			return nomem(c);
		fb->text = dup(c, p, len);
		if (!fb->text)
			return nomem(c);
		LIST_APPEND(&f->fb, fb);
		return 0;
	}
}

static int parse_attr(struct pctx *c, const char *p, const char *end)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));
	const char *nend = colon ? colon : end;
	uint8_t lv = c->m ? LV_M : LV_S;
	enum attr_id id = A_UNKNOWN;
	struct cur k;
	struct lvl l;
	char name[24];
	size_t nlen, i;

	/* "a=sendrecv " happens: a flag's trailing blanks are not its name. */
	if (!colon)
		while (nend > p && is_blank(nend[-1]))
			nend--;
	nlen = (size_t)(nend - p);
	if (!nlen)
		return fail(c, EINVAL, "a= attribute name is empty");
	if (!is_token(p, nlen))
		return fail(c, EINVAL, "a= attribute name '%s' is not a token",
			    quoted(c, p, nlen));

	level(c, &l);
	k.p = colon ? colon + 1 : end;
	k.end = end;

	for (i = 0; i < ARRAY_SIZE(attr_tab); i++) {
		if (strlen(attr_tab[i].name) != nlen ||
		    memcmp(attr_tab[i].name, p, nlen))
			continue;
		if (!(attr_tab[i].where & lv))
			break;
		if ((attr_tab[i].where & LV_RTP) && !c->m->rtp)
			break;
		id = attr_tab[i].id;
		if ((attr_tab[i].where & LV_FLAG) && colon)
			return fail(c, EINVAL, "a=%s takes no value",
				    attr_tab[i].name);
		break;
	}
	if (id == A_UNKNOWN)
		return attr_unknown(c, &l, p, nlen, k.p,
				    (size_t)(k.end - k.p), colon != NULL);

	/* Known names are short: a bounded copy for messages and lookups. */
	memcpy(name, p, nlen);
	name[nlen] = '\0';
	if (id == A_RTPMAP || id == A_FMTP || id == A_RTCP_FB)
		return attr_fmt(c, &l, id, name, nlen, &k);
	return attr_known(c, &l, id, name, &k);
}

/* Line order (RFC 8866 section 5): ranks and who may repeat. */
static const char sess_order[]  = "vosiuepcbtzka";
static const char media_order[] = "micbka";
static const char sess_repeat[] = "epbtra";
static const char media_repeat[] = "ba";

static unsigned type_bit(char t)
{
	return 1u << (t - 'a');
}

/* Check that line type <t> may come now, and note it. */
static int check_order(struct pctx *c, char t)
{
	const char *order = c->m ? media_order : sess_order;
	const char *repeat = c->m ? media_repeat : sess_repeat;
	const char *pos;
	int rank;

	if (t == 'm') {
		if (!(c->seen & type_bit('t')) && !c->m)
			return fail(c, EINVAL, "t= is missing before the "
				    "first m=");
		return 0;
	}
	pos = strchr(order, t == 'r' ? 't' : t);
	if (!pos)
		return fail(c, EINVAL, "'%c=' is not allowed in a media "
			    "section", t);
	rank = (int)(pos - order);

	if (!c->m) {
		if (t != 'v' && !(c->seen & type_bit('v')))
			return fail(c, EINVAL, "SDP must start with v=");
		if (rank > 1 && !(c->seen & type_bit('o')))
			return fail(c, EINVAL, "o= is missing before '%c='",
				    t);
		if (rank > 2 && !(c->seen & type_bit('s')))
			return fail(c, EINVAL, "s= is missing before '%c='",
				    t);
		if (t == 'r' && c->prev != 't' && c->prev != 'r')
			return fail(c, EINVAL, "r= must follow t=");
	}
	if (rank < c->rank)
		return fail(c, EINVAL, "'%c=' is out of order (after '%c=')",
			    t, c->prev);
	if ((c->seen & type_bit(t)) && !strchr(repeat, t))
		return fail(c, EINVAL, "second '%c=' line", t);

	c->rank = rank;
	c->seen |= type_bit(t);
	return 0;
}

static int parse_line(struct pctx *c, const char *p, size_t len)
{
	struct sdp_session *s = c->s;
	struct sdp_media *m = c->m;
	struct cur k;
	char t;
	int err;

	if (len < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z')
		return fail(c, EINVAL, "'%s' is not <letter>=<value>",
			    quoted(c, p, len < 8 ? len : 8));
	t = p[0];
	if (!strchr("vosiuepcbtrzkam", t))
		return fail(c, EINVAL, "unknown line type '%c='", t);

	err = check_order(c, t);
	if (err)
		return err;

	k.p = p + 2;
	k.end = p + len;

	switch (t) {

	case 'v':
		if (!next_tok(&k, &p, &len) || len != 1 || *p != '0' ||
		    !at_end(&k))
			return fail(c, EINVAL, "v= must be 0");
		return 0;

	case 'o':
		return parse_origin(c, &k);

	case 's':
		return verbatim(c, &k, &s->name);

	case 'i':
		return verbatim(c, &k, m ? &m->info : &s->info);

	case 'u':
		return verbatim(c, &k, &s->uri);

	case 'e':
		return verbatim_list(c, &k, &s->emails);

	case 'p':
		return verbatim_list(c, &k, &s->phones);

	case 'c':
		return parse_conn(c, &k, m ? &m->conn : &s->conn);

	case 'b':
		return parse_bw(c, &k, m ? &m->bw : &s->bw);

	case 't':
		return parse_time(c, &k);

	case 'r': {
		struct sdp_time *tl = s->times;

		while (tl->next)
			tl = tl->next;
		return verbatim_list(c, &k, &tl->repeats);
	}

	case 'z':
		return verbatim(c, &k, &s->zone);

	case 'k':
		return verbatim(c, &k, m ? &m->key : &s->key);

	case 'a':
		return parse_attr(c, k.p, k.end);

	case 'm':
		err = parse_media(c, &k);
		if (err)
			return err;
		c->rank = 0;
		c->seen = type_bit('m');
		return 0;
	}
	return 0;
}

/* Control bytes are never valid in SDP; tabs are tolerated as blanks. */
static int check_bytes(struct pctx *c, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch >= 0x20 || ch == '\t')
			continue;
		if (ch == '\r')
			return fail(c, EINVAL, "CR without LF");
		return fail(c, EINVAL, "control byte 0x%02x", ch);
	}
	return 0;
}

int sdp_parse(struct sdp_session **sessp, struct arena *a,
	      const char *buf, size_t len, struct sdp_err *e)
{
	struct pctx c;
	const char *p, *end;
	unsigned i;
	int err;

	if (e) {
		e->line = 0;
		e->msg[0] = '\0';
	}
	memset(&c, 0, sizeof(c));
	c.a = a;
	c.e = e;
	c.rank = -1;

	if (!sessp || !a || (!buf && len))
		return fail(&c, EINVAL, "no SDP");
	if (len > SDP_MAX_LEN)
		return fail(&c, E2BIG, "SDP of %zu bytes is over the limit "
			    "of %u", len, SDP_MAX_LEN);

	c.s = arena_alloc(a, sizeof(*c.s));
	if (!c.s)
		return nomem(&c);
	c.s->arena = a;

	p = buf;
	end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;

		if (le > p && le[-1] == '\r' && nl)
			le--;
		c.line++;
		if (c.line > SDP_MAX_LINES)
			return fail(&c, E2BIG, "more than %u lines",
				    SDP_MAX_LINES);

		err = check_bytes(&c, p, (size_t)(le - p));
		if (err)
			return err;

		if (le == p) {
			/* Blank lines may only trail the description. */
			const char *q = next;

			while (q < end && (*q == '\r' || *q == '\n' ||
					   is_blank(*q)))
				q++;
			if (q != end)
				return fail(&c, EINVAL, "empty line");
			break;
		}

		err = parse_line(&c, p, (size_t)(le - p));
		if (err)
			return err;
		c.prev = *p;
		p = next;
	}

	c.line = 0;
	if (!(c.s->nmedia || (c.seen & type_bit('v'))))
		return fail(&c, EINVAL, "empty SDP");
	if (!c.m) {
		if (!(c.seen & type_bit('o')))
			return fail(&c, EINVAL, "o= is missing");
		if (!(c.seen & type_bit('s')))
			return fail(&c, EINVAL, "s= is missing");
		if (!(c.seen & type_bit('t')))
			return fail(&c, EINVAL, "t= is missing");
	}

	/* RFC 8866 5.7: every used m= needs a c= at one level. */
	for (i = 0; i < c.s->nmedia; i++) {
		const struct sdp_media *m = c.s->media[i];

		if (m->port && !m->conn && !c.s->conn) {
			c.line = m->line;
			return fail(&c, EINVAL, "m=%s has no c= line and there "
				    "is no session-level c=", m->type);
		}
	}

	*sessp = c.s;
	return 0;
}
