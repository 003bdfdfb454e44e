/* mediad/ngcmd.h  NG command table: a request dict in, a reply dict out */
#ifndef MEDIAD_NGCMD_H
#define MEDIAD_NGCMD_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct benc;
struct bnode;
struct calls;

/*
 * What "statistics" reports, filled by the daemon on demand (it sums the
 * workers' shm counters). Rates are per second over the last second.
 */
struct ngcmd_stats {
	uint64_t uptime_s;
	uint32_t workers;
	uint64_t sessions_own;        /* live, on this mediad */
	uint64_t sessions_managed;    /* created since start */
	uint64_t sessions_rejected;   /* refused: pool or ports exhausted */
	uint64_t sessions_timeout;    /* ended by media_timeout */
	uint64_t packets_in;
	uint64_t packets_out;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t packets_dropped;
	uint64_t packets_lost;
	uint64_t transcoded;          /* packets */
	uint64_t transcoded_media;    /* live calls that transcode */
	uint64_t nobufs;
	uint64_t srtp_auth_fail;       /* SRTP packets failing their tag */
	uint64_t srtp_replay;
	uint64_t srtp_error;           /* not negotiated yet, no room */
	uint64_t stun_ok;              /* ICE checks answered */
	uint64_t stun_fail;            /* refused (400/401) or dropped */
	uint64_t dtls_in;              /* DTLS records to the control thread */
	uint64_t dtls_drop;
	uint64_t demux_drop;           /* not STUN, DTLS, RTP nor RTCP */
	uint64_t dtls_up;              /* handshakes that gave keys */
	uint64_t dtls_failed;          /* legs ended by a failed handshake */
	uint64_t packet_rate;
	uint64_t byte_rate;
	uint64_t error_rate;
	uint64_t ng_dropped;          /* datagrams without a valid cookie */
	uint64_t ng_cached;           /* answered from the cookie cache */
	uint64_t ng_parked;           /* replies held for the workers' ack */
	uint64_t ng_ackfull;          /* sent unacknowledged: table full */
	uint64_t ng_acklate;          /* sent unacknowledged: timeout */
};

/* Fill <st> with a current snapshot. */
typedef void (ngcmd_stats_h)(struct ngcmd_stats *st, void *arg);

#define NGCMD_MAX 16   /* room in the counters for the command table */

/* Dispatcher state: embed it in the owner; counters are read-only. */
struct ngcmd {
	ngcmd_stats_h *statsh;
	void     *arg;
	uint64_t  count[NGCMD_MAX];   /* requests per command, table order */
	uint64_t  unknown;            /* unrecognised command names */
	uint64_t  errors;             /* error replies of every kind */
	struct calls *calls;          /* offer/answer/...; NULL: refused */
};

/*
 * A command handler reads request <req> (a dict) and writes the members
 * of the reply dict, "result" included, into <b>; the dispatcher opens
 * and closes the dict. Returns NULL, or an error reason: then whatever
 * the handler wrote is discarded and an error dict is sent instead.
 * Strings may come from <a>.
 */
typedef const char *(ng_cmd_h)(struct ngcmd *nc, const struct bnode *req,
				struct arena *a, struct benc *b);

/* Set up <nc>; "statistics" calls <statsh> with <arg>. */
void ngcmd_init(struct ngcmd *nc, ngcmd_stats_h *statsh, void *arg);

/*
 * Decode request body <body>/<len> into arena <a>, run its command and
 * encode the reply dict (without the cookie) into <b>, which the caller
 * has initialised over its buffer. A malformed request, an unknown or
 * missing command and a failed command all produce an error dict with
 * "error-reason"; nothing a peer sends makes this fail. Check
 * benc_finish() for a reply that did not fit. Everything taken from <a>
 * is dead once the caller has sent the reply and reset the arena.
 */
void ngcmd_handle(struct ngcmd *nc, struct arena *a, const char *body,
		  size_t len, struct benc *b);

/* Serve the call commands from <calls> (owned by the caller). */
void ngcmd_set_calls(struct ngcmd *nc, struct calls *calls);

/* Name of table entry <i> (for counters), or NULL past the end. */
const char *ngcmd_name(unsigned i);

#endif
