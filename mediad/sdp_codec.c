/* mediad/sdp_codec.c  NG codec options on SDP formats; the codec plan */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "bencode.h"
#include "sdp.h"

/*
 * The relay transcodes G.711 only, so "transcode" can add PCMU when
 * PCMA is there (and the reverse) and telephone-event; everything else
 * is passthrough. Options follow rtpengine's NG "codec" dictionary
 * (docs/ng_control_protocol.md there) so Kamailio configs carry over.
 */

/* One entry of a codec list, parsed. */
struct cspec {
	const char *name;        /* NULL for a payload type or "all" */
	size_t      nlen;
	uint32_t    clock;       /* 0: any */
	uint16_t    channels;    /* 0: any */
	int         pt;          /* >= 0: a payload type number */
	bool        all;
	const char *text;        /* the option as given, for messages */
	size_t      tlen;
};

struct cspecs {
	struct cspec v[SDP_CODEC_LIST_MAX];
	unsigned     n;
	bool         all;
};

static int efail(struct sdp_err *e, unsigned line, int err,
		 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int efail(struct sdp_err *e, unsigned line, int err,
		 const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return err;
	e->line = line;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return err;
}

/* Length of <p>/<len> that is safe to print in a message. */
static int plen(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < 40; i++) {
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] >= 0x7f)
			break;
	}
	return (int)i;
}

static bool digits(const char *p, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (!len || len > 10)
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	if (x > max)
		return false;
	*v = x;
	return true;
}

/*
 * "all", "full", "<pt>" or "<name>[/<clock>[/<channels>[/...]]]".
 * Parts past the channels (bitrate, ptime, fmtp in rtpengine) are
 * accepted and ignored.
 */
static int spec_parse(struct cspec *cs, const char *p, size_t len,
		      const char *op, struct sdp_err *e)
{
	const char *s1, *s2, *end = p + len;
	uint64_t v;

	memset(cs, 0, sizeof(*cs));
	cs->pt = -1;
	cs->text = p;
	cs->tlen = len;

	if ((len == 3 && !memcmp(p, "all", 3)) ||
	    (len == 4 && !memcmp(p, "full", 4))) {
		cs->all = true;
		return 0;
	}
	if (digits(p, len, UINT32_MAX, &v)) {
		if (v > 127)
			return efail(e, 0, EINVAL, "codec %s: payload type "
				     "%llu is out of range", op,
				     (unsigned long long)v);
		cs->pt = (int)v;
		return 0;
	}

	s1 = memchr(p, '/', len);
	cs->name = p;
	cs->nlen = s1 ? (size_t)(s1 - p) : len;
	if (!cs->nlen)
		return efail(e, 0, EINVAL, "codec %s: '%.*s' has no name", op,
			     plen(p, len), p);
	if (!s1)
		return 0;
	s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1));
	if (s2 != s1 + 1 &&
	    !digits(s1 + 1, (size_t)((s2 ? s2 : end) - s1 - 1), UINT32_MAX,
		    &v))
		return efail(e, 0, EINVAL, "codec %s: clock rate in '%.*s' "
			     "is not a number", op, plen(p, len), p);
	cs->clock = s2 == s1 + 1 ? 0 : (uint32_t)v;
	if (s2) {
		const char *s3 = memchr(s2 + 1, '/', (size_t)(end - s2 - 1));
		size_t cl = (size_t)((s3 ? s3 : end) - s2 - 1);

		if (cl && !digits(s2 + 1, cl, UINT16_MAX, &v))
			return efail(e, 0, EINVAL, "codec %s: channels in "
				     "'%.*s' are not a number", op,
				     plen(p, len), p);
		cs->channels = cl ? (uint16_t)v : 0;
	}
	return 0;
}

static int specs_parse(struct cspecs *ss, const struct sdp_codec_list *l,
		       const char *op, bool all_ok, struct sdp_err *e)
{
	unsigned i;
	int err;

	memset(ss, 0, sizeof(*ss));
	for (i = 0; i < l->n && i < SDP_CODEC_LIST_MAX; i++) {
		err = spec_parse(&ss->v[i], l->v[i].p, l->v[i].len, op, e);
		if (err)
			return err;
		if (ss->v[i].all && !all_ok)
			return efail(e, 0, EINVAL, "codec %s: 'all' is not "
				     "allowed here", op);
		ss->all |= ss->v[i].all;
	}
	ss->n = i;
	return 0;
}

static bool spec_match(const struct cspec *cs, const struct sdp_fmt *f)
{
	uint16_t ch = f->channels ? f->channels : 1;

	if (cs->all)
		return true;
	if (cs->pt >= 0)
		return f->pt == cs->pt;
	if (!f->enc || strlen(f->enc) != cs->nlen ||
	    strncasecmp(f->enc, cs->name, cs->nlen))
		return false;
	if (cs->clock && cs->clock != f->clock)
		return false;
	if (cs->channels && cs->channels != ch)
		return false;
	return true;
}

/* True when a named (not "all") entry of <ss> matches <f>. */
static bool named_match(const struct cspecs *ss, const struct sdp_fmt *f)
{
	unsigned i;

	for (i = 0; i < ss->n; i++) {
		if (!ss->v[i].all && spec_match(&ss->v[i], f))
			return true;
	}
	return false;
}

static bool is_g711(const struct sdp_fmt *f)
{
	return (sdp_fmt_is(f, "PCMU") || sdp_fmt_is(f, "PCMA")) &&
		f->clock == 8000 && f->channels <= 1;
}

static bool pt_used(const struct sdp_fmt *v, unsigned n, unsigned pt)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (v[i].pt == pt)
			return true;
	}
	return false;
}

/*
 * A payload type for a format we add: <pref> when free, else the first
 * free dynamic one (RFC 3551 section 3), else one from the unassigned
 * static range browsers also use. -1 when all are taken.
 */
static int pt_pick(const struct sdp_fmt *v, unsigned n, int pref)
{
	unsigned pt;

	if (pref >= 0 && !pt_used(v, n, (unsigned)pref))
		return pref;
	for (pt = 96; pt <= 127; pt++) {
		if (!pt_used(v, n, pt))
			return (int)pt;
	}
	for (pt = 35; pt <= 63; pt++) {
		if (!pt_used(v, n, pt))
			return (int)pt;
	}
	return -1;
}

/* Add the format <t> asks for to <v>, which holds <*np> of <cap>. */
static int transcode_add(struct sdp_fmt *v, unsigned *np, unsigned cap,
			 const struct cspec *t, const struct sdp_media *m,
			 struct sdp_err *e)
{
	const char *name = NULL;
	struct sdp_fmt f;
	int pref = -1, pt;
	unsigned i;

	memset(&f, 0, sizeof(f));
	if (t->nlen == 4 && !strncasecmp(t->name, "PCMU", 4)) {
		name = "PCMU";
		pref = 0;
	}
	else if (t->nlen == 4 && !strncasecmp(t->name, "PCMA", 4)) {
		name = "PCMA";
		pref = 8;
	}
	else if (t->nlen == 15 &&
		 !strncasecmp(t->name, "telephone-event", 15)) {
		name = "telephone-event";
		pref = 101;
		f.params = "0-15";
	}
	if (!name || (t->channels && t->channels != 1) ||
	    (pref != 101 && t->clock && t->clock != 8000))
		return efail(e, m->line, ENOTSUP, "codec transcode '%.*s' is "
			     "not supported (PCMU, PCMA, telephone-event)",
			     plen(t->text, t->tlen), t->text);

	if (pref != 101) {
		/* Only from the other G.711 law that this side speaks. */
		for (i = 0; i < *np; i++) {
			if (is_g711(&v[i]) && !(v[i].flags & SDP_FMT_TRANSCODE))
				break;
		}
		if (i == *np)
			return efail(e, m->line, EPROTO, "codec transcode "
				     "'%s': m=%s offers no PCMU or PCMA to "
				     "transcode from", name, m->type);
	}

	pt = pt_pick(v, *np, pref);
	if (pt < 0 || *np >= cap)
		return efail(e, m->line, E2BIG, "codec transcode '%s': no "
			     "free payload type in m=%s", name, m->type);

	f.enc = name;
	f.clock = t->clock ? t->clock : 8000;
	f.pt = (uint8_t)pt;
	f.flags = SDP_FMT_RTPMAP | SDP_FMT_TRANSCODE;
	v[(*np)++] = f;
	return 0;
}

/*
 * A verbatim a=rtpmap, a=fmtp or a=rtcp-fb is one whose payload type was
 * not in the m= line. Once the format list changes, such a line may
 * name a listed format and would contradict (or duplicate) the one the
 * writer produces from the format itself: drop it.
 */
static void drop_stale_fmt_attrs(struct sdp_media *m)
{
	struct sdp_attr **pp = &m->attrs;

	while (*pp) {
		const struct sdp_attr *at = *pp;
		uint64_t pt;
		size_t n = 0;

		if (at->value && (!strcmp(at->name, "rtpmap") ||
				  !strcmp(at->name, "fmtp") ||
				  !strcmp(at->name, "rtcp-fb"))) {
			while (at->value[n] >= '0' && at->value[n] <= '9')
				n++;
			if (digits(at->value, n, 127, &pt) &&
			    sdp_fmt_find(m, (unsigned)pt)) {
				*pp = at->next;
				continue;
			}
		}
		pp = &(*pp)->next;
	}
}

int sdp_codec_apply(struct sdp_session *s, struct sdp_media *m,
		    const struct sdp_codec_ops *ops, struct sdp_err *e)
{
	enum { CAP = SDP_MAX_FMTS + SDP_CODEC_LIST_MAX };
	struct cspecs strip, mask, exc, off, tc;
	struct sdp_fmt work[CAP], sorted[CAP];
	bool taken[CAP];
	unsigned i, j, n = 0, k;
	struct sdp_fmt *fmts;
	int err;

	if (!s || !m || !ops)
		return EINVAL;
	if (!m->rtp)
		return 0;

	err = specs_parse(&strip, &ops->strip, "strip", true, e);
	if (!err)
		err = specs_parse(&mask, &ops->mask, "mask", true, e);
	if (!err)
		err = specs_parse(&exc, &ops->except, "except", false, e);
	if (!err)
		err = specs_parse(&off, &ops->offer, "offer", false, e);
	if (!err)
		err = specs_parse(&tc, &ops->transcode, "transcode", false, e);
	if (err)
		return err;
	for (i = 0; i < tc.n; i++) {
		if (!tc.v[i].name)
			return efail(e, 0, EINVAL, "codec transcode '%.*s' "
				     "must be a codec name",
				     plen(tc.v[i].text, tc.v[i].tlen),
				     tc.v[i].text);
	}

	/* strip and mask, with except/offer (and transcode, for "all") */
	for (i = 0; i < m->nfmt; i++) {
		const struct sdp_fmt *f = &m->fmts[i];
		bool listed = named_match(&exc, f) || named_match(&off, f) ||
			((strip.all || mask.all) && named_match(&tc, f));

		if (named_match(&strip, f) || (strip.all && !listed))
			continue;
		work[n] = *f;
		if (named_match(&mask, f) || (mask.all && !listed))
			work[n].flags |= SDP_FMT_MASKED;
		n++;
	}

	/* offer: these first, in the order given */
	if (off.n) {
		memset(taken, 0, sizeof(taken));
		k = 0;
		for (j = 0; j < off.n; j++) {
			for (i = 0; i < n; i++) {
				if (taken[i] ||
				    !spec_match(&off.v[j], &work[i]))
					continue;
				sorted[k++] = work[i];
				taken[i] = true;
			}
		}
		for (i = 0; i < n; i++) {
			if (!taken[i])
				sorted[k++] = work[i];
		}
		memcpy(work, sorted, n * sizeof(work[0]));
	}

	/* transcode: present (maybe masked) or added */
	for (j = 0; j < tc.n; j++) {
		bool have = false;

		for (i = 0; i < n; i++) {
			if (spec_match(&tc.v[j], &work[i])) {
				work[i].flags &= (uint8_t)~SDP_FMT_MASKED;
				have = true;
			}
		}
		if (have)
			continue;
		err = transcode_add(work, &n, CAP, &tc.v[j], m, e);
		if (err)
			return err;
	}

	for (i = 0; i < n; i++) {
		if (!(work[i].flags & SDP_FMT_MASKED))
			break;
	}
	if (i == n)
		return efail(e, m->line, EPROTO, "codec options leave nothing "
			     "to offer in m=%s", m->type);
	if (n > SDP_MAX_FMTS)
		return efail(e, m->line, E2BIG, "codec options leave more "
			     "than %u formats in m=%s", SDP_MAX_FMTS, m->type);

	fmts = arena_alloc(s->arena, n * sizeof(*fmts));
	if (!fmts)
		return efail(e, m->line, ENOMEM, "arena full");
	memcpy(fmts, work, n * sizeof(*fmts));
	m->fmts = fmts;
	m->nfmt = n;
	drop_stale_fmt_attrs(m);
	return 0;
}

/* NG options */

static int list_add(struct sdp_codec_list *l, const char *p, size_t len)
{
	if (l->n >= SDP_CODEC_LIST_MAX)
		return E2BIG;
	l->v[l->n].p = p;
	l->v[l->n].len = len;
	l->n++;
	return 0;
}

/* The options we act on, and where they go; "consume" is mask here. */
static struct sdp_codec_list *ops_list(struct sdp_codec_ops *ops,
				       const char *k, size_t klen)
{
	static const struct {
		const char *key;
		size_t      off;
	} keys[] = {
		{ "strip",     offsetof(struct sdp_codec_ops, strip) },
		{ "mask",      offsetof(struct sdp_codec_ops, mask) },
		{ "consume",   offsetof(struct sdp_codec_ops, mask) },
		{ "except",    offsetof(struct sdp_codec_ops, except) },
		{ "offer",     offsetof(struct sdp_codec_ops, offer) },
		{ "transcode", offsetof(struct sdp_codec_ops, transcode) },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i].key) == klen &&
		    !memcmp(keys[i].key, k, klen))
			return (struct sdp_codec_list *)
				((char *)ops + keys[i].off);
	}
	return NULL;
}

int sdp_codec_ops_ng(struct sdp_codec_ops *ops, const struct bnode *codec,
		     struct sdp_err *e)
{
	const struct bnode *n, *v;
	struct sdp_codec_list *l;

	if (!ops)
		return EINVAL;
	if (!codec)
		return 0;
	if (codec->type != BN_DICT)
		return efail(e, 0, EINVAL, "codec must be a dictionary");

	for (n = codec->v.c.head; n; n = n->next) {
		l = ops_list(ops, n->key, n->keylen);
		if (!l)
			continue;
		if (n->type == BN_STR) {
			if (list_add(l, n->v.s.p, n->v.s.len))
				goto big;
			continue;
		}
		if (n->type != BN_LIST)
			goto bad;
		for (v = n->v.c.head; v; v = v->next) {
			if (v->type != BN_STR)
				goto bad;
			if (list_add(l, v->v.s.p, v->v.s.len))
				goto big;
		}
	}
	return 0;

 bad:
	return efail(e, 0, EINVAL, "codec %.*s must be a list of strings",
		     plen(n->key, n->keylen), n->key);
 big:
	return efail(e, 0, E2BIG, "codec %.*s lists more than %u codecs",
		     plen(n->key, n->keylen), n->key, SDP_CODEC_LIST_MAX);
}

int sdp_codec_ops_flag(struct sdp_codec_ops *ops, const char *p, size_t len)
{
	const char *dash;
	struct sdp_codec_list *l;

	if (!ops || !p || len < 7 || memcmp(p, "codec-", 6))
		return ENOENT;
	p += 6;
	len -= 6;
	dash = memchr(p, '-', len);
	if (!dash || dash + 1 == p + len)
		return ENOENT;
	l = ops_list(ops, p, (size_t)(dash - p));
	if (!l)
		return ENOENT;
	return list_add(l, dash + 1, (size_t)(p + len - dash - 1));
}

/* Offer/answer */

/* Formats that are not a codec of their own. */
static bool is_aux(const struct sdp_fmt *f)
{
	return sdp_fmt_is(f, "telephone-event") || sdp_fmt_is(f, "CN") ||
		sdp_fmt_is(f, "red") || sdp_fmt_is(f, "rtx") ||
		sdp_fmt_is(f, "ulpfec") || sdp_fmt_is(f, "flexfec");
}

static bool same_codec(const struct sdp_fmt *a, const struct sdp_fmt *b)
{
	return a->enc && b->enc && !strcasecmp(a->enc, b->enc) &&
		a->clock == b->clock &&
		(a->channels ? a->channels : 1) ==
		(b->channels ? b->channels : 1);
}

/* telephone-event of <m> at <clock>, native only; -1 when none. */
static int te_find(const struct sdp_media *m, uint32_t clock)
{
	unsigned i;

	for (i = 0; i < m->nfmt; i++) {
		const struct sdp_fmt *f = &m->fmts[i];

		if (sdp_fmt_is(f, "telephone-event") && f->clock == clock &&
		    !(f->flags & SDP_FMT_TRANSCODE))
			return f->pt;
	}
	return -1;
}

static void side_set(struct sdp_codec_side *sd, const struct sdp_fmt *f)
{
	sd->enc = f->enc;
	sd->clock = f->clock;
	sd->pt = f->pt;
}

int sdp_codec_decide(struct sdp_codec_plan *plan,
		     const struct sdp_media *offer,
		     const struct sdp_media *answer, struct sdp_err *e)
{
	const struct sdp_fmt *fa = NULL, *fb = NULL;
	enum sdp_codec_mode mode = SDP_CODEC_PASS;
	unsigned i, j;

	if (!plan || !offer || !answer)
		return EINVAL;

	/* The answerer's first codec that the offerer speaks itself. */
	for (j = 0; j < answer->nfmt && !fa; j++) {
		fb = &answer->fmts[j];
		if (is_aux(fb))
			continue;
		for (i = 0; i < offer->nfmt; i++) {
			const struct sdp_fmt *f = &offer->fmts[i];

			if (!(f->flags & SDP_FMT_TRANSCODE) &&
			    same_codec(f, fb)) {
				fa = f;
				break;
			}
		}
	}

	/* Failing that, its first G.711 against the offerer's other law. */
	for (j = 0; j < answer->nfmt && !fa; j++) {
		fb = &answer->fmts[j];
		if (!is_g711(fb))
			continue;
		for (i = 0; i < offer->nfmt; i++) {
			const struct sdp_fmt *f = &offer->fmts[i];

			if (!(f->flags & SDP_FMT_TRANSCODE) && is_g711(f) &&
			    strcasecmp(f->enc, fb->enc)) {
				fa = f;
				mode = SDP_CODEC_TRANSCODE;
				break;
			}
		}
	}

	if (!fa)
		return efail(e, answer->line, EPROTO, "m=%s: no common codec "
			     "and no PCMU/PCMA pair to transcode",
			     answer->type);

	memset(plan, 0, sizeof(*plan));
	plan->mode = mode;
	side_set(&plan->a, fa);
	side_set(&plan->b, fb);
	plan->a.te_pt = te_find(offer, fa->clock);
	plan->b.te_pt = te_find(answer, fb->clock);
	if (plan->a.te_pt < 0 || plan->b.te_pt < 0)
		plan->a.te_pt = plan->b.te_pt = -1;
	return 0;
}

int sdp_codec_answer(struct sdp_session *s, struct sdp_media *m,
		     const struct sdp_media *offer,
		     const struct sdp_codec_plan *plan)
{
	const struct sdp_fmt *src, *te = NULL;
	struct sdp_fmt *fmts;
	unsigned n = 1, i;

	if (!s || !m || !offer || !plan)
		return EINVAL;

	/*
	 * Passthrough keeps the answerer's format (its fmtp says what it
	 * wants to receive) under the offerer's number; transcoding gives
	 * the offerer back its own format.
	 */
	if (plan->mode == SDP_CODEC_PASS)
		src = sdp_fmt_find(m, (unsigned)plan->b.pt);
	else
		src = sdp_fmt_find(offer, (unsigned)plan->a.pt);
	if (!src)
		return EINVAL;
	if (plan->a.te_pt >= 0) {
		te = sdp_fmt_find(offer, (unsigned)plan->a.te_pt);
		if (!te)
			return EINVAL;
		n++;
	}

	fmts = arena_alloc(s->arena, n * sizeof(*fmts));
	if (!fmts)
		return ENOMEM;
	fmts[0] = *src;
	fmts[0].pt = (uint8_t)plan->a.pt;
	if (te)
		fmts[1] = *te;
	/*
	 * Write the rtpmap even for a static number: the format may come
	 * from the other side, where that number could have meant
	 * something else.
	 */
	for (i = 0; i < n; i++) {
		fmts[i].flags &= (uint8_t)~(SDP_FMT_MASKED | SDP_FMT_TRANSCODE);
		if (fmts[i].enc)
			fmts[i].flags |= SDP_FMT_RTPMAP;
	}
	m->fmts = fmts;
	m->nfmt = n;
	drop_stale_fmt_attrs(m);
	return 0;
}
