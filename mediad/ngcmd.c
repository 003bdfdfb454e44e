/* mediad/ngcmd.c  NG command table: a request dict in, a reply dict out */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "bencode.h"
#include "log.h"
#include "ngcmd.h"
#include "ng_call.h"

#define CMD_NAME_SHOWN 64   /* longest command name echoed in a reason */

static ng_cmd_h ng_ping;
static ng_cmd_h ng_statistics;

/* The whole protocol surface, rtpengine's command names. */
static const struct {
	const char *name;
	ng_cmd_h   *h;
} cmds[] = {
	{ "ping",       ng_ping },
	{ "statistics", ng_statistics },
	{ "offer",      ng_offer },
	{ "answer",     ng_answer },
	{ "delete",     ng_delete },
	{ "query",      ng_query },
	{ "list",       ng_list },
};

_Static_assert(sizeof(cmds) / sizeof(cmds[0]) <= NGCMD_MAX,
	       "raise NGCMD_MAX");

enum { CMD_PING = 0, CMD_STATISTICS = 1 };

void ngcmd_init(struct ngcmd *nc, ngcmd_stats_h *statsh, void *arg)
{
	memset(nc, 0, sizeof(*nc));
	nc->statsh = statsh;
	nc->arg = arg;
}

void ngcmd_set_calls(struct ngcmd *nc, struct calls *calls)
{
	nc->calls = calls;
}

const char *ngcmd_name(unsigned i)
{
	return i < sizeof(cmds) / sizeof(cmds[0]) ? cmds[i].name : NULL;
}

static const char *ng_ping(struct ngcmd *nc, const struct bnode *req,
			   struct arena *a, struct benc *b)
{
	benc_kstr(b, "result", "pong");
	return NULL;
}

/*
 * rtpengine's "statistics" layout (its ng_control_protocol.md): one
 * "statistics" dict holding currentstatistics, totalstatistics and
 * controlstatistics, so tools written for rtpengine read ours. What
 * rtpengine has no key for goes into a "mediad" dict alongside.
 */
static const char *ng_statistics(struct ngcmd *nc, const struct bnode *req,
				 struct arena *a, struct benc *b)
{
	struct ngcmd_stats st;
	char uptime[24];

	memset(&st, 0, sizeof(st));
	if (nc->statsh)
		nc->statsh(&st, nc->arg);

	benc_kstr(b, "result", "ok");
	benc_kdict(b, "statistics");

	benc_kdict(b, "currentstatistics");
	benc_kint(b, "sessionsown", (int64_t)st.sessions_own);
	benc_kint(b, "sessionsforeign", 0);
	benc_kint(b, "sessionstotal", (int64_t)st.sessions_own);
	benc_kint(b, "transcodedmedia", (int64_t)st.transcoded_media);
	benc_kint(b, "packetrate", (int64_t)st.packet_rate);
	benc_kint(b, "byterate", (int64_t)st.byte_rate);
	benc_kint(b, "errorrate", (int64_t)st.error_rate);
	benc_end(b);

	/* rtpengine sends uptime as a decimal string */
	snprintf(uptime, sizeof(uptime), "%" PRIu64, st.uptime_s);
	benc_kdict(b, "totalstatistics");
	benc_kstr(b, "uptime", uptime);
	benc_kint(b, "managedsessions", (int64_t)st.sessions_managed);
	benc_kint(b, "rejectedsessions", (int64_t)st.sessions_rejected);
	benc_kint(b, "timeoutsessions", (int64_t)st.sessions_timeout);
	benc_kint(b, "relayedpackets", (int64_t)st.packets_in);
	benc_kint(b, "relayedpacketerrors", (int64_t)st.packets_dropped);
	benc_end(b);

	benc_kdict(b, "controlstatistics");
	benc_kint(b, "totalpingcount", (int64_t)nc->count[CMD_PING]);
	benc_kint(b, "totalstatistics", (int64_t)nc->count[CMD_STATISTICS]);
	benc_kint(b, "totalerrorcount", (int64_t)nc->errors);
	benc_end(b);

	benc_kdict(b, "mediad");
	benc_kint(b, "workers", st.workers);
	benc_kint(b, "packetsin", (int64_t)st.packets_in);
	benc_kint(b, "packetsout", (int64_t)st.packets_out);
	benc_kint(b, "bytesin", (int64_t)st.bytes_in);
	benc_kint(b, "bytesout", (int64_t)st.bytes_out);
	benc_kint(b, "packetsdropped", (int64_t)st.packets_dropped);
	benc_kint(b, "packetslost", (int64_t)st.packets_lost);
	benc_kint(b, "transcodedpackets", (int64_t)st.transcoded);
	benc_kint(b, "nobufs", (int64_t)st.nobufs);
	benc_kint(b, "srtpauthfailures", (int64_t)st.srtp_auth_fail);
	benc_kint(b, "srtpreplays", (int64_t)st.srtp_replay);
	benc_kint(b, "srtperrors", (int64_t)st.srtp_error);
	benc_kint(b, "stunanswered", (int64_t)st.stun_ok);
	benc_kint(b, "stunrefused", (int64_t)st.stun_fail);
	benc_kint(b, "dtlspackets", (int64_t)st.dtls_in);
	benc_kint(b, "dtlsdropped", (int64_t)st.dtls_drop);
	benc_kint(b, "demuxdropped", (int64_t)st.demux_drop);
	benc_kint(b, "dtlshandshakes", (int64_t)st.dtls_up);
	benc_kint(b, "dtlsfailures", (int64_t)st.dtls_failed);
	benc_kint(b, "ngdropped", (int64_t)st.ng_dropped);
	benc_kint(b, "ngcached", (int64_t)st.ng_cached);
	benc_kint(b, "ngparked", (int64_t)st.ng_parked);
	benc_kint(b, "ngackfull", (int64_t)st.ng_ackfull);
	benc_kint(b, "ngacklate", (int64_t)st.ng_acklate);
	benc_kint(b, "ngunknown", (int64_t)nc->unknown);
	benc_end(b);

	benc_end(b);
	return NULL;
}

/* printf into <a>; a fixed fallback if the arena is full. */
static const char *reason_fmt(struct arena *a, const char *fallback,
			      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static const char *reason_fmt(struct arena *a, const char *fallback,
			      const char *fmt, ...)
{
	va_list ap;
	char *s;
	const size_t sz = 160;

	s = arena_alloc(a, sz);
	if (!s)
		return fallback;

	va_start(ap, fmt);
	vsnprintf(s, sz, fmt, ap);
	va_end(ap);
	return s;
}

/* A command name as it may appear in a reason and a log line: at most
 * CMD_NAME_SHOWN bytes, unprintable bytes as '?'. */
static const char *shown_name(struct arena *a, const char *p, size_t len)
{
	char *s;
	size_t i;

	if (len > CMD_NAME_SHOWN)
		len = CMD_NAME_SHOWN;
	s = arena_strndup(a, p, len);
	if (!s)
		return "?";
	for (i = 0; i < len; i++) {
		if (!isprint((unsigned char)s[i]))
			s[i] = '?';
	}
	return s;
}

static const char *dispatch(struct ngcmd *nc, struct arena *a,
			    const char *body, size_t len, struct benc *b)
{
	const struct bnode *root = NULL, *cmd;
	struct bnode *rootw = NULL;
	const char *why = NULL, *name;
	size_t off = 0, i;
	int err;

	if (len && body[0] == '{')
		return "JSON requests are not supported, use bencode";

	err = bencode_decode(a, body, len, &rootw, &why, &off);
	if (err) {
		return reason_fmt(a, "Invalid bencode",
				  "Invalid bencode: %s at offset %zu",
				  why ? why : strerror(err), off);
	}
	root = rootw;
	if (root->type != BN_DICT)
		return "Message is not a bencoded dictionary";

	cmd = bnode_get(root, "command");
	if (!cmd)
		return "Missing key 'command'";
	if (cmd->type != BN_STR)
		return "Key 'command' is not a string";

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strlen(cmds[i].name) == cmd->v.s.len &&
		    !memcmp(cmds[i].name, cmd->v.s.p, cmd->v.s.len))
			break;
	}
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		++nc->unknown;
		name = shown_name(a, cmd->v.s.p, cmd->v.s.len);
		return reason_fmt(a, "Unrecognized command",
				  "Unrecognized command '%s'", name);
	}

	++nc->count[i];
	log_debug("ng", "command %s", cmds[i].name);
	benc_dict(b);
	why = cmds[i].h(nc, root, a, b);
	benc_end(b);
	return why;
}

void ngcmd_handle(struct ngcmd *nc, struct arena *a, const char *body,
		  size_t len, struct benc *b)
{
	char *buf = b->buf;
	size_t size = b->size;
	const char *reason;

	reason = dispatch(nc, a, body, len, b);
	if (!reason)
		return;

	++nc->errors;
	log_debug("ng", "error reply: %s", reason);
	/* discard a half-written reply: the error dict stands alone */
	benc_init(b, buf, size);
	benc_dict(b);
	benc_kstr(b, "result", "error");
	benc_kstr(b, "error-reason", reason);
	benc_end(b);
}
