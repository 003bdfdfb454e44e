/* tests/fuzz_mediad/fuzz_sdp.c  SDP: parse, print, re-parse, rewrite, agree */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fuzz.h"
#include "sdp.h"

/*
 * Whatever the input, sdp_parse() returns (ASan and UBSan watch the
 * reads). When it accepts the input, its canonical print must parse
 * back to a session that prints the same text; that must stay true
 * after the rewrites the NG offer/answer handlers apply.
 *
 * Input: the SDP, optionally followed by a NUL and NG codec flags
 * ("codec-strip-G729 codec-transcode-PCMA"); without them a few bits of
 * the SDP pick one of four typical option sets.
 */

static uint8_t mem[16 * 1024 * 1024];
/* Printing turns LF into CRLF and "s=" into "s= ": room for that. */
static char out1[2 * SDP_MAX_LEN + 16];
static char out2[2 * SDP_MAX_LEN + 16];

static void check_err(int err, const struct sdp_err *e)
{
	if (err != EINVAL && err != E2BIG && err != ENOMEM)
		abort();
	if (!memchr(e->msg, '\0', sizeof(e->msg)) || !e->msg[0])
		abort();
}

/* Print <s>, parse that, print again: the two prints are equal. */
static void stable(const struct sdp_session *s, struct arena *a)
{
	struct sdp_session *s2;
	struct sdp_err e;
	size_t l1, l2;

	if (sdp_print(s, out1, sizeof(out1), &l1))
		abort();
	if (strlen(out1) != l1)
		abort();
	if (sdp_parse(&s2, a, out1, l1, &e))
		abort();
	if (sdp_print(s2, out2, sizeof(out2), &l2))
		abort();
	if (l1 != l2 || memcmp(out1, out2, l1))
		abort();
}

static void name(struct sdp_codec_list *l, const char *n)
{
	l->v[l->n].p = n;
	l->v[l->n].len = strlen(n);
	l->n++;
}

/* Codec options from the flags after the NUL: space-separated words. */
static void flags_parse(struct sdp_codec_ops *ops, const char *p,
			const char *end)
{
	while (p < end) {
		const char *w = p;

		while (p < end && *p != ' ')
			p++;
		/* ENOENT (not a codec flag) and E2BIG are fine here */
		sdp_codec_ops_flag(ops, w, (size_t)(p - w));
		if (p < end)
			p++;
	}
}

/* The offer path: what sbc's default flags make mediad do. */
static void rewrite_offer(struct sdp_session *s, unsigned pick,
			  const char *flags, const char *fend)
{
	struct sdp_codec_ops ops;
	struct sdp_vstate vs;
	struct sdp_err e;
	unsigned i;

	memset(&ops, 0, sizeof(ops));
	memset(&vs, 0, sizeof(vs));
	if (flags)
		flags_parse(&ops, flags, fend);
	else switch (pick % 4) {
	case 0:
		name(&ops.transcode, "PCMA");
		name(&ops.transcode, "telephone-event");
		break;
	case 1:
		name(&ops.mask, "PCMU");
		name(&ops.transcode, "PCMA");
		break;
	case 2:
		name(&ops.strip, "all");
		name(&ops.offer, "PCMU");
		name(&ops.offer, "pcma");
		break;
	default:
		name(&ops.strip, "G729");
		name(&ops.strip, "101");
		name(&ops.transcode, "PCMU/8000");
		break;
	}

	if (pick & 4)
		sdp_ice_remove(s);
	if (pick & 8)
		sdp_crypto_remove(s, NULL);
	if (sdp_conn_set_all(s, (pick & 16) ? "2001:db8::1" : "192.0.2.1"))
		abort();
	for (i = 0; i < s->nmedia; i++) {
		struct sdp_media *m = s->media[i];

		sdp_media_ports_set(m, (uint16_t)(30000 + 2 * i),
				    (uint16_t)(30001 + 2 * i));
		sdp_dir_set(s, m, (enum sdp_dir)(pick % 5));
		if (m->rtp) {
			/* an error leaves the media as it was */
			sdp_codec_apply(s, m, &ops, &e);
			if (pick & 32)
				sdp_media_proto_set(m, SDP_PROTO_RTP_AVP);
		}
	}
	if (sdp_origin_replace(s, "192.0.2.1", &vs))
		abort();
}

/* The answer path: the session answers itself, media by media. */
static void rewrite_answer(struct sdp_session *s, const struct sdp_session *o)
{
	struct sdp_codec_plan p;
	struct sdp_err e;
	unsigned i;

	for (i = 0; i < s->nmedia && i < o->nmedia; i++) {
		struct sdp_media *m = s->media[i];

		if (!m->rtp || !o->media[i]->rtp)
			continue;
		if (sdp_codec_decide(&p, o->media[i], m, &e))
			continue;
		if (p.a.pt < 0 || p.a.pt > 127 || p.b.pt < 0 || p.b.pt > 127)
			abort();
		if (sdp_codec_answer(s, m, o->media[i], &p))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *sdp = (const char *)data, *flags = NULL, *fend = NULL;
	const uint8_t *nul = memchr(data, '\0', size);
	struct sdp_session *s, *o;
	struct arena a;
	struct sdp_err e;
	unsigned pick;
	size_t len = size;
	int err;

	if (nul) {
		len = (size_t)(nul - data);
		flags = (const char *)nul + 1;
		fend = (const char *)data + size;
	}

	arena_init(&a, mem, sizeof(mem));
	err = sdp_parse(&s, &a, sdp, len, &e);
	if (err) {
		check_err(err, &e);
		return 0;
	}
	stable(s, &a);

	/* a few bits of the input choose the rewrites */
	pick = len ? data[len / 2] : 0;
	rewrite_offer(s, pick, flags, fend);
	stable(s, &a);

	if (sdp_parse(&o, &a, sdp, len, &e))
		abort();
	rewrite_answer(s, o);
	stable(s, &a);
	return 0;
}
