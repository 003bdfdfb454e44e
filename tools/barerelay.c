/* tools/barerelay.c  Baseline relay for rtpbench: epoll + recvmmsg/sendmmsg */
/*
 *   barerelay --ports LO-HI [--ip 127.0.0.1] [--transcode] [--max-time S]
 *
 * The simplest relay that can carry rtpbench's traffic, as a yardstick
 * for mediad and rtpengine: it binds every port of LO-HI (an even
 * count), pairs port LO+2k with LO+2k+1, and forwards whatever arrives
 * on one to the peer latched on the other. The peer of a socket is the
 * source of the packets it receives: the first packet latches it and a
 * later source replaces it (rtpbench reopens its sockets per step).
 * Nothing is parsed, except with --transcode: then RTP payload type 0
 * (PCMU) becomes 8 (PCMA) and back, the payload converted byte by byte
 * through ITU-T G.711 tables built at start.
 *
 * It prints "barerelay: ready ..." on stderr once every port is bound,
 * and its counters on SIGTERM/SIGINT or after --max-time (default one
 * day): every loop here is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "g711.h"

#define BATCH       32           /* datagrams per recvmmsg/sendmmsg */
#define ROUNDS      4            /* recvmmsg calls per ready socket */
#define PKT_MAX     2048
#define EVENTS      256
#define MAX_PORTS   40000

struct rsock {
	int      fd;
	bool     latched;
	struct sockaddr_in peer;
};

struct relay {
	struct rsock *s;
	unsigned      n;
	bool          transcode;
	uint64_t      rx, tx, unlatched, tx_drop, relatch, converted;
	struct mmsghdr     in[BATCH], out[BATCH];
	struct iovec       in_iov[BATCH], out_iov[BATCH];
	struct sockaddr_in src[BATCH];
	uint8_t            buf[BATCH][PKT_MAX];
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* Convert RTP packet <p>/<len> between PCMU and PCMA in place. */
static bool transcode(uint8_t *p, size_t len)
{
	const uint8_t *tab;
	size_t off, i;
	uint8_t pt;

	if (len < 12 || (p[0] & 0xc0) != 0x80)
		return false;
	off = 12 + 4 * (size_t)(p[0] & 0x0f);
	if ((p[0] & 0x10) && off + 4 <= len)
		off += 4 + 4 * (size_t)((p[off + 2] << 8) | p[off + 3]);
	if (off > len)
		return false;
	pt = p[1] & 0x7f;
	if (pt == 0)
		tab = g711_tab_u2a;
	else if (pt == 8)
		tab = g711_tab_a2u;
	else
		return false;
	for (i = off; i < len; i++)
		p[i] = tab[p[i]];
	p[1] = (uint8_t)((p[1] & 0x80) | (pt == 0 ? 8 : 0));
	return true;
}

/*
 * Drain socket <idx> in batches and forward to the peer latched on its
 * pair. A packet arriving before the other side has spoken has nowhere
 * to go: it is counted and dropped, as a latching relay would.
 */
static void relay_one(struct relay *r, unsigned idx)
{
	struct rsock *in = &r->s[idx], *out = &r->s[idx ^ 1];
	unsigned round;

	for (round = 0; round < ROUNDS; round++) {
		int n, sent, i;

		for (i = 0; i < BATCH; i++) {
			r->in_iov[i].iov_base = r->buf[i];
			r->in_iov[i].iov_len = PKT_MAX;
			memset(&r->in[i].msg_hdr, 0, sizeof(r->in[i].msg_hdr));
			r->in[i].msg_hdr.msg_iov = &r->in_iov[i];
			r->in[i].msg_hdr.msg_iovlen = 1;
			r->in[i].msg_hdr.msg_name = &r->src[i];
			r->in[i].msg_hdr.msg_namelen = sizeof(r->src[i]);
		}
		n = recvmmsg(in->fd, r->in, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		r->rx += (uint64_t)n;

		if (!in->latched ||
		    memcmp(&in->peer, &r->src[n - 1], sizeof(in->peer))) {
			if (in->latched)
				r->relatch++;
			in->peer = r->src[n - 1];
			in->latched = true;
		}
		if (!out->latched) {
			r->unlatched += (uint64_t)n;
			if (n < BATCH)
				return;
			continue;
		}

		for (i = 0; i < n; i++) {
			size_t len = r->in[i].msg_len;

			if (r->transcode && transcode(r->buf[i], len))
				r->converted++;
			r->out_iov[i].iov_base = r->buf[i];
			r->out_iov[i].iov_len = len;
			memset(&r->out[i].msg_hdr, 0,
			       sizeof(r->out[i].msg_hdr));
			r->out[i].msg_hdr.msg_iov = &r->out_iov[i];
			r->out[i].msg_hdr.msg_iovlen = 1;
			r->out[i].msg_hdr.msg_name = &out->peer;
			r->out[i].msg_hdr.msg_namelen = sizeof(out->peer);
		}
		sent = sendmmsg(out->fd, r->out, (unsigned)n, MSG_DONTWAIT);
		if (sent < 0)
			sent = 0;
		r->tx += (uint64_t)sent;
		r->tx_drop += (uint64_t)(n - sent);
		if (n < BATCH)
			return;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: barerelay --ports LO-HI [--ip 127.0.0.1] [--transcode]\n"
"                 [--max-time S]\n"
"  pairs LO+2k with LO+2k+1 and forwards between their latched peers;\n"
"  --transcode converts RTP PCMU (PT 0) <-> PCMA (PT 8)\n");
}

static int parse_ports(const char *s, unsigned *lo, unsigned *hi)
{
	char *end;
	unsigned long a, b;

	a = strtoul(s, &end, 10);
	if (*end != '-')
		return EINVAL;
	b = strtoul(end + 1, &end, 10);
	if (*end || a < 1024 || b > 65535 || b < a || (b - a + 1) % 2 ||
	    b - a + 1 > MAX_PORTS)
		return EINVAL;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ports",     required_argument, NULL, 'p' },
		{ "ip",        required_argument, NULL, 'i' },
		{ "transcode", no_argument,       NULL, 't' },
		{ "max-time",  required_argument, NULL, 'm' },
		{ "help",      no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct epoll_event evs[EVENTS];
	struct sigaction sa;
	struct in_addr ip;
	struct rlimit rl;
	struct relay *r;
	unsigned lo = 0, hi = 0, i;
	unsigned long max_time = 86400;
	uint64_t t_end;
	int opt, ep = -1, rc = 1;
	bool tc = false;

	inet_pton(AF_INET, "127.0.0.1", &ip);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_ports(optarg, &lo, &hi)) {
				fprintf(stderr, "barerelay: bad --ports %s "
					"(LO-HI, even count, >= 1024)\n",
					optarg);
				return 2;
			}
			break;
		case 'i':
			if (inet_pton(AF_INET, optarg, &ip) != 1 ||
			    (ntohl(ip.s_addr) >> 24) != 127) {
				fprintf(stderr, "barerelay: --ip must be a "
					"loopback address\n");
				return 2;
			}
			break;
		case 't':
			tc = true;
			break;
		case 'm':
			max_time = strtoul(optarg, NULL, 10);
			if (max_time == 0 || max_time > 7 * 86400) {
				fprintf(stderr, "barerelay: bad --max-time\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!lo) {
		usage(stderr);
		return 2;
	}

	r = calloc(1, sizeof(*r));
	if (!r)
		return 1;
	r->n = hi - lo + 1;
	r->s = calloc(r->n, sizeof(*r->s));
	if (!r->s)
		goto out_free;
	for (i = 0; i < r->n; i++)
		r->s[i].fd = -1;
	r->transcode = tc;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < r->n + 64ul) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep == -1) {
		perror("barerelay: epoll_create1");
		goto out_free;
	}
	for (i = 0; i < r->n; i++) {
		struct sockaddr_in a;
		struct epoll_event ev;

		r->s[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
				    SOCK_CLOEXEC, 0);
		if (r->s[i].fd == -1) {
			fprintf(stderr, "barerelay: socket %u: %s\n", i,
				strerror(errno));
			goto out;
		}
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr = ip;
		a.sin_port = htons((uint16_t)(lo + i));
		if (bind(r->s[i].fd, (struct sockaddr *)&a, sizeof(a))
		    == -1) {
			fprintf(stderr, "barerelay: bind port %u: %s\n",
				lo + i, strerror(errno));
			goto out;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, r->s[i].fd, &ev) == -1) {
			perror("barerelay: epoll_ctl");
			goto out;
		}
	}
	fprintf(stderr, "barerelay: ready ports=%u-%u pairs=%u "
		"transcode=%d pid=%d\n", lo, hi, r->n / 2, r->transcode,
		(int)getpid());

	t_end = mono_s() + max_time;
	while (!g_stop && mono_s() < t_end) {
		int n = epoll_wait(ep, evs, EVENTS, 200), k;

		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("barerelay: epoll_wait");
			goto out;
		}
		for (k = 0; k < n; k++)
			relay_one(r, evs[k].data.u32);
	}
	rc = 0;
	fprintf(stderr, "barerelay: rx=%llu tx=%llu unlatched=%llu "
		"tx_drop=%llu relatch=%llu converted=%llu\n",
		(unsigned long long)r->rx, (unsigned long long)r->tx,
		(unsigned long long)r->unlatched,
		(unsigned long long)r->tx_drop,
		(unsigned long long)r->relatch,
		(unsigned long long)r->converted);
 out:
	for (i = 0; i < r->n; i++)
		if (r->s[i].fd != -1)
			close(r->s[i].fd);
	if (ep != -1)
		close(ep);
 out_free:
	free(r->s);
	free(r);
	return rc;
}
