/* tools/rtpbench_ng.c  NG client of rtpbench: ping, offer/answer, delete */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "bencode.h"
#include "rtpbench.h"

#define NG_TRIES      3
#define NG_MAX_STALE  64      /* foreign datagrams skipped per try */

/*
 * One client, one outstanding command at a time: the relay is set up
 * before traffic starts, so a round trip per command costs little and
 * keeps retransmission simple (same cookie, same body).
 */
struct rb_ng {
	int          fd;
	unsigned     tmo_ms;
	unsigned     seq;
	size_t       cookielen;
	struct arena arena;
	char         tx[8192];
	char         rx[65536];
	uint8_t      mem[256 * 1024];
};

static const char *codec_name(uint8_t pt)
{
	return pt == RB_PT_PCMA ? "PCMA" : "PCMU";
}

int rb_ng_open(struct rb_ng **ngp, const struct sockaddr_in *addr,
	       unsigned tmo_ms)
{
	struct rb_ng *ng;
	int err = 0;

	if (!ngp || !addr)
		return EINVAL;

	ng = calloc(1, sizeof(*ng));
	if (!ng)
		return ENOMEM;

	ng->tmo_ms = tmo_ms ? tmo_ms : 1000;
	arena_init(&ng->arena, ng->mem, sizeof(ng->mem));
	ng->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ng->fd == -1) {
		err = errno;
		goto out;
	}
	/* connected: an ICMP "port unreachable" shows as ECONNREFUSED */
	if (connect(ng->fd, (const struct sockaddr *)addr,
		    sizeof(*addr)) == -1)
		err = errno;
 out:
	if (err) {
		if (ng->fd != -1)
			close(ng->fd);
		free(ng);
	}
	else {
		*ngp = ng;
	}
	return err;
}

void rb_ng_close(struct rb_ng *ng)
{
	if (!ng)
		return;
	if (ng->fd != -1)
		close(ng->fd);
	free(ng);
}

/* Write a fresh cookie into the send buffer and aim <b> just after it. */
static void ng_begin(struct rb_ng *ng, struct benc *b)
{
	int n;

	n = snprintf(ng->tx, sizeof(ng->tx), "%u_%u ", (unsigned)getpid(),
		     ++ng->seq);
	ng->cookielen = (size_t)n - 1;
	benc_init(b, ng->tx + n, sizeof(ng->tx) - (size_t)n);
}

static int remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/*
 * Send the command built in <b> and wait for the reply carrying our
 * cookie; decode it into the client's arena (valid until the next
 * command). A reply with result "error" gives EPROTO and its reason in
 * <err>. Returns 0 and *rootp, or an errno.
 */
static int ng_exchange(struct rb_ng *ng, struct benc *b,
		       const struct bnode **rootp, char *err, size_t errsz)
{
	const char *why = NULL, *res, *reason;
	size_t bodylen, reslen, reasonlen;
	struct bnode *root;
	int e, try;

	e = benc_finish(b, &bodylen);
	if (e) {
		snprintf(err, errsz, "command too large");
		return e;
	}

	for (try = 0; try < NG_TRIES; try++) {
		struct timespec deadline;
		unsigned stale;

		if (send(ng->fd, ng->tx, ng->cookielen + 1 + bodylen, 0)
		    == -1) {
			e = errno;
			snprintf(err, errsz, "send: %s", strerror(e));
			return e;
		}

		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += ng->tmo_ms / 1000;
		deadline.tv_nsec += (long)(ng->tmo_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}

		for (stale = 0; stale < NG_MAX_STALE; stale++) {
			struct pollfd pfd = { .fd = ng->fd, .events = POLLIN };
			ssize_t n;
			int ms = remaining_ms(&deadline);

			if (ms == 0 || poll(&pfd, 1, ms) != 1)
				break;

			n = recv(ng->fd, ng->rx, sizeof(ng->rx), 0);
			if (n == -1) {
				e = errno;
				if (e == EINTR || e == EAGAIN)
					continue;
				snprintf(err, errsz, "recv: %s", strerror(e));
				return e;
			}
			/* a reply to an earlier try or command: skip it */
			if ((size_t)n <= ng->cookielen + 1 ||
			    memcmp(ng->rx, ng->tx, ng->cookielen + 1))
				continue;

			arena_reset(&ng->arena);
			e = bencode_decode(&ng->arena,
					   ng->rx + ng->cookielen + 1,
					   (size_t)n - ng->cookielen - 1,
					   &root, &why, NULL);
			if (e || root->type != BN_DICT) {
				snprintf(err, errsz, "bad reply: %s",
					 why ? why : "not a dict");
				return EBADMSG;
			}
			if (!bnode_get_str(root, "result", &res, &reslen)) {
				snprintf(err, errsz, "reply without result");
				return EBADMSG;
			}
			if (reslen == 5 && !memcmp(res, "error", 5)) {
				if (!bnode_get_str(root, "error-reason",
						   &reason, &reasonlen)) {
					reason = "(no reason)";
					reasonlen = strlen(reason);
				}
				snprintf(err, errsz, "%.*s", (int)reasonlen,
					 reason);
				return EPROTO;
			}
			*rootp = root;
			return 0;
		}
	}

	snprintf(err, errsz, "no reply after %d tries", NG_TRIES);
	return ETIMEDOUT;
}

int rb_ng_ping(struct rb_ng *ng, char *err, size_t errsz)
{
	const struct bnode *root;
	struct benc b;
	int e;

	ng_begin(ng, &b);
	benc_dict(&b);
	benc_kstr(&b, "command", "ping");
	benc_end(&b);

	e = ng_exchange(ng, &b, &root, err, errsz);
	if (e)
		return e;
	if (!bnode_str_eq(bnode_get(root, "result"), "pong")) {
		snprintf(err, errsz, "ping answered without pong");
		return EBADMSG;
	}
	return 0;
}

/*
 * SDP of one leg at <port> with codec <pt>; with <key> (SRTP) it is
 * RTP/SAVP with one a=crypto line, tag 1, AES_CM_128_HMAC_SHA1_80.
 */
static void sdp_make(char *buf, size_t sz, uint16_t port, uint8_t pt,
		     const uint8_t *key)
{
	char crypto[96] = "";

	if (key) {
		char b64[RB_SRTP_B64LEN + 1];

		rb_srtp_key_print(key, b64);
		snprintf(crypto, sizeof(crypto), "a=crypto:1 "
			 "AES_CM_128_HMAC_SHA1_80 inline:%s\r\n", b64);
	}
	snprintf(buf, sz,
		 "v=0\r\n"
		 "o=- %u 1 IN IP4 127.0.0.1\r\n"
		 "s=rtpbench\r\n"
		 "c=IN IP4 127.0.0.1\r\n"
		 "t=0 0\r\n"
		 "m=audio %u %s %u\r\n"
		 "a=rtpmap:%u %s/8000\r\n"
		 "a=ptime:20\r\n"
		 "a=sendrecv\r\n"
		 "%s",
		 (unsigned)port, (unsigned)port, key ? "RTP/SAVP" : "RTP/AVP",
		 (unsigned)pt, (unsigned)pt, codec_name(pt), crypto);
}

/*
 * Find where to send in SDP <p>/<len>: the first audio m= line's port
 * and the c= that applies to it (media level wins over session level).
 * <pt> must be among the formats of that m= line. Only loopback
 * addresses are accepted: rtpbench sends nowhere else.
 * The profile must be RTP/SAVP when <key> is given, and that media's
 * first a=crypto line of suite AES_CM_128_HMAC_SHA1_80 fills <key>;
 * without <key> it must be RTP/AVP (ENOTSUP otherwise: the relay did
 * not do the profile we asked for).
 */
static int sdp_target(const char *p, size_t len, uint8_t pt,
		      uint8_t *key, struct sockaddr_in *sa, char *err,
		      size_t errsz)
{
	char sess_ip[64] = "", media_ip[64] = "", proto[32] = "";
	const char *end = p + len;
	bool in_audio = false, seen_audio = false, has_pt = false;
	bool has_key = false;
	unsigned port = 0;
	int e;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t l = eol ? (size_t)(eol - p) : (size_t)(end - p);
		char line[256];

		if (l && p[l - 1] == '\r')
			l--;
		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, p, l);
		line[l] = '\0';
		p = eol ? eol + 1 : end;

		if (!strncmp(line, "m=", 2)) {
			if (seen_audio) {
				in_audio = false;
				continue;
			}
			if (strncmp(line, "m=audio ", 8))
				continue;
			seen_audio = in_audio = true;
			{
				char *s = line + 8, *tok, *save = NULL;

				port = (unsigned)strtoul(s, &s, 10);
				tok = strtok_r(s, " ", &save); /* proto */
				if (tok)
					snprintf(proto, sizeof(proto), "%s",
						 tok);
				while (tok && (tok = strtok_r(NULL, " ",
							      &save))) {
					if ((unsigned)atoi(tok) == pt)
						has_pt = true;
				}
			}
		}
		else if (in_audio && key && !has_key &&
			 !strncmp(line, "a=crypto:", 9)) {
			char suite[64], params[160];
			unsigned tag;

			if (sscanf(line + 9, "%u %63s %159s", &tag, suite,
				   params) != 3 ||
			    strcmp(suite, "AES_CM_128_HMAC_SHA1_80"))
				continue;
			e = rb_srtp_key_parse(params, key, err, errsz);
			if (e)
				return e;
			has_key = true;
		}
		else if (!strncmp(line, "c=IN IP4 ", 9)) {
			char *ip = seen_audio ? media_ip : sess_ip;

			if (seen_audio && !in_audio)
				continue;
			{
				size_t il = strcspn(line + 9, "/ ");

				if (il >= sizeof(sess_ip))
					il = sizeof(sess_ip) - 1;
				memcpy(ip, line + 9, il);
				ip[il] = '\0';
			}
		}
	}

	if (!seen_audio || port == 0 || port > 65535) {
		snprintf(err, errsz, "SDP without an audio port");
		return EBADMSG;
	}
	if (!has_pt) {
		snprintf(err, errsz, "SDP lacks payload type %u (%s)",
			 (unsigned)pt, codec_name(pt));
		return ENOTSUP;
	}
	if (strcmp(proto, key ? "RTP/SAVP" : "RTP/AVP")) {
		snprintf(err, errsz, "SDP has %s, not %s", proto,
			 key ? "RTP/SAVP" : "RTP/AVP");
		return ENOTSUP;
	}
	if (key && !has_key) {
		snprintf(err, errsz, "RTP/SAVP without an a=crypto line of "
			 "AES_CM_128_HMAC_SHA1_80");
		return ENOTSUP;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, media_ip[0] ? media_ip : sess_ip,
		      &sa->sin_addr) != 1) {
		snprintf(err, errsz, "SDP without a usable IPv4 c= line");
		return EBADMSG;
	}
	if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127) {
		snprintf(err, errsz, "relay address %s is not loopback",
			 media_ip[0] ? media_ip : sess_ip);
		return EPERM;
	}
	return 0;
}

/* The members every offer and answer carry, as rtpengine clients send. */
static void put_common(struct benc *b, const struct rb_call_prm *prm,
		       const char *sdp)
{
	benc_kstr(b, "call-id", prm->callid);
	benc_kstr(b, "from-tag", prm->from_tag);
	benc_kstr(b, "sdp", sdp);
	benc_klist(b, "replace");
	benc_str(b, "origin");
	benc_str(b, "session-connection");
	benc_end(b);
	benc_kstr(b, "ICE", "remove");
	benc_klist(b, "flags");
	benc_str(b, "trust-address");
	benc_end(b);
}

int rb_ng_call(struct rb_ng *ng, const struct rb_call_prm *prm,
	       struct sockaddr_in *relay_a, struct sockaddr_in *relay_b,
	       uint8_t *rkey_a, bool *refusedp, char *err, size_t errsz)
{
	const struct bnode *root;
	const char *sdp;
	size_t sdplen;
	char mysdp[512], why[200];
	struct benc b;
	int e;

	*refusedp = false;
	if (prm->srtp && (!prm->key_a || !rkey_a))
		return EINVAL;

	/* offer: A's SDP in, the SDP for B (where B sends) out */
	sdp_make(mysdp, sizeof(mysdp), prm->port_a, prm->pt_a,
		 prm->srtp ? prm->key_a : NULL);
	ng_begin(ng, &b);
	benc_dict(&b);
	benc_kstr(&b, "command", "offer");
	put_common(&b, prm, mysdp);
	/* the profile of the side the offer goes to: B stays plain */
	if (prm->srtp)
		benc_kstr(&b, "transport-protocol", "RTP/AVP");
	if (prm->transcode) {
		benc_kdict(&b, "codec");
		benc_klist(&b, "transcode");
		benc_str(&b, codec_name(prm->pt_b));
		benc_end(&b);
		benc_end(&b);
	}
	benc_end(&b);

	e = ng_exchange(ng, &b, &root, why, sizeof(why));
	if (e) {
		*refusedp = (e == EPROTO);
		snprintf(err, errsz, "offer: %s", why);
		return e;
	}
	if (!bnode_get_str(root, "sdp", &sdp, &sdplen)) {
		snprintf(err, errsz, "offer: reply without sdp");
		return EBADMSG;
	}
	e = sdp_target(sdp, sdplen, prm->transcode ? prm->pt_b : prm->pt_a,
		       NULL, relay_b, why, sizeof(why));
	if (e) {
		/* no codec or SAVP kept toward B: the relay cannot do it */
		*refusedp = (e == ENOTSUP);
		snprintf(err, errsz, "offer: %s", why);
		return e;
	}

	/* answer: B's SDP in, the SDP for A (where A sends) out */
	sdp_make(mysdp, sizeof(mysdp), prm->port_b, prm->pt_b, NULL);
	ng_begin(ng, &b);
	benc_dict(&b);
	benc_kstr(&b, "command", "answer");
	benc_kstr(&b, "to-tag", prm->to_tag);
	put_common(&b, prm, mysdp);
	benc_end(&b);

	e = ng_exchange(ng, &b, &root, why, sizeof(why));
	if (e) {
		snprintf(err, errsz, "answer: %s", why);
		return e;
	}
	if (!bnode_get_str(root, "sdp", &sdp, &sdplen)) {
		snprintf(err, errsz, "answer: reply without sdp");
		return EBADMSG;
	}
	e = sdp_target(sdp, sdplen, prm->pt_a, prm->srtp ? rkey_a : NULL,
		       relay_a, why, sizeof(why));
	if (e) {
		snprintf(err, errsz, "answer: %s", why);
		return e;
	}
	return 0;
}

int rb_ng_delete(struct rb_ng *ng, const char *callid, const char *from_tag)
{
	const struct bnode *root;
	char why[200];
	struct benc b;

	ng_begin(ng, &b);
	benc_dict(&b);
	benc_kstr(&b, "command", "delete");
	benc_kstr(&b, "call-id", callid);
	benc_kstr(&b, "from-tag", from_tag);
	/* free the ports now: the next find-max step needs them */
	benc_kint(&b, "delete-delay", 0);
	benc_end(&b);

	return ng_exchange(ng, &b, &root, why, sizeof(why));
}
