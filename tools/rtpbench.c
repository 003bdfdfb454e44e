/* tools/rtpbench.c  Media-plane load generator: NG set-up, streams, summary */
/*
 * rtpbench drives a media relay (mediad, or rtpengine: the same NG
 * protocol) through offer/answer, then plays N bidirectional G.711
 * streams through it and measures what comes out.
 *
 *   rtpbench --ng 127.0.0.1:22222 [--streams N | --find-max]
 *            [--duration S] [--codec pcmu|pcma] [--transcode] [--srtp]
 *            [--pid PID]
 *            [--soak HOURS] [--threads T] [--start N --step N --max N]
 *            [--rt PRIO] [--json]          (all options: rtpbench -h)
 *   rtpbench --bare BASEPORT ...     (barerelay: no NG; stream i uses
 *                                     relay ports BASE+2i and BASE+2i+1)
 *   rtpbench --ng ADDR --ping [--wait S]   (readiness probe)
 *
 * A stream is one call with legs A and B, each sending 50 packets/s of
 * 20 ms PCMU or PCMA (12-byte RTP header + 160 bytes of a 1 kHz tone),
 * so a stream is 100 packets/s through the relay. Sends are paced in
 * 1 ms sub-ticks, legs spread evenly over the 20 ms period. Every leg
 * owns a socket on 127.0.0.1 (relays latch per source address).
 *
 * Measured over a window after a warm-up (default 2 s), by send time:
 * loss (sent vs. received once), duplicates, reordering, one-way
 * latency p50/p99/max (send stamp kept per sequence number, kernel
 * receive stamp; same machine, same clock), RFC 3550 interarrival
 * jitter (mean over legs), payload check (bit-exact, or close to the
 * tone when transcoding), the relay's CPU from /proc/PID/stat and our
 * own from /proc/self/stat, and how late our sends left (send_lag).
 *
 * --srtp makes leg A SDES-SRTP and leg B plain, as a trunk that encrypts
 * facing a PBX that does not: A offers RTP/SAVP with an a=crypto key of
 * its own (AES_CM_128_HMAC_SHA1_80, fresh per call) and the offer asks
 * for RTP/AVP toward B (NG transport-protocol, as rtpengine reads it);
 * the answer toward A carries the relay's key. A protects what it sends
 * and unprotects what it receives with mediad's srtpx.c (compiled in),
 * in place, with sessions made before the run. A packet whose tag does
 * not verify is lost (it matches no send) and is also counted as
 * auth_fail; srtp_err counts other SRTP failures. The crypto is ours too: bench_cpu_pct says
 * what it cost.
 *
 * A run passes with loss < --max-loss (0.1%), p99 < --max-p99 (5 ms),
 * at most 0.1% bad payloads, and rtpbench itself keeping its schedule:
 * all packets sent and send lag p99 under --max-lag (otherwise
 * result=FAIL reason=bench-limited: the figure is ours, not the
 * relay's).
 *
 * --find-max doubles N from --start until a run fails, then bisects
 * down to --resolution; --step N makes it linear and stop at the first
 * failure. Every step is a fresh set of calls; the whole search is
 * bounded by --max-time.
 *
 * Output: one summary line on stdout (or one JSON object with --json);
 * per-step and soak progress lines go to stderr.
 * Exit: 0 pass (find-max: some N passed), 1 fail, 2 error,
 * 3 the relay refused the offer (not supported).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rtpbench.h"

#define EXIT_PASS     0
#define EXIT_FAIL     1
#define EXIT_ERROR    2
#define EXIT_REFUSED  3

#define MAX_STREAMS   16000
#define MAX_THREADS   16
#define MAX_STEPS     64

struct cfg {
	struct sockaddr_in ng;
	bool      bare;
	unsigned  bare_base;
	struct in_addr relay_ip;
	unsigned  streams;
	bool      find_max;
	unsigned  start;
	unsigned  step;              /* 0: double, then bisect */
	unsigned  max;
	unsigned  resolution;
	double    duration;
	double    warmup;
	unsigned  drain_ms;
	uint8_t   pt_a;
	bool      transcode;
	bool      srtp;
	pid_t     pid;
	double    soak_h;
	double    interval;
	unsigned  threads;
	unsigned  rt;                /* SCHED_FIFO priority of workers */
	unsigned  local_base;        /* 0: ephemeral ports */
	double    max_loss;
	double    max_p99;
	double    max_lag;           /* ms of send lag p99: bench-limited */
	double    max_time;
	unsigned  ng_tmo;
	bool      ping;
	double    wait;
	bool      json;
};

struct result {
	unsigned streams;
	double   win_s;
	double   setup_s;
	uint64_t sent, recv, lost, dup, reorder, stray, bad, other;
	uint64_t nobufs, tx_err, rx_err, remap;
	uint64_t auth_fail, auth_fail_all, srtp_err;
	double   srtp_us;            /* mean srtpx call, sampled */
	double   srtp_cpu_pct;       /* our CPU in srtpx (estimate) */
	double   loss_pct;
	double   p50_ms, p99_ms, max_ms, jit_ms, jit_max_ms;
	double   lag_p99_ms, lag_max_ms;
	double   relay_cpu_s;        /* < 0: not measured */
	double   relay_cpu_pct;
	double   cpu_per_mpkt;
	double   bench_cpu_s;
	double   bench_cpu_pct;
	unsigned port_fallback;
	bool     pass;
	bool     bench_limited;
	bool     aborted;
	const char *reason;
};

static volatile sig_atomic_t g_stop;
static uint32_t rnd_state;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static uint32_t rnd(void)
{
	uint32_t x = rnd_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rnd_state = x;
	return x;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: rtpbench [--ng IP:PORT | --bare BASEPORT] [options]\n"
"  --ng IP:PORT       NG control socket of the relay (127.0.0.1:22222)\n"
"  --bare BASEPORT    no NG: barerelay, stream i on BASE+2i / BASE+2i+1\n"
"  --relay-ip IP      relay address with --bare (127.0.0.1)\n"
"  --streams N        fixed number of streams (100); 1 stream = 2 legs\n"
"                     x 50 pps = 100 pps through the relay\n"
"  --duration S       measured seconds per run (20)\n"
"  --warmup S         seconds sent but not counted first (2)\n"
"  --drain-ms MS      wait for stragglers after the last send (500)\n"
"  --codec pcmu|pcma  codec of leg A (pcmu)\n"
"  --transcode        leg B answers the other G.711 law; the relay\n"
"                     converts (NG codec transcode)\n"
"  --srtp             leg A SDES-SRTP (RTP/SAVP, AES_CM_128_HMAC_SHA1_80),\n"
"                     leg B plain RTP/AVP; the relay en/decrypts (NG)\n"
"  --pid PID          relay process whose CPU to report\n"
"  --threads T        sender/receiver threads (1)\n"
"  --rt PRIO          run them SCHED_FIFO at PRIO (0: no), so a busy\n"
"                     machine does not delay our sends\n"
"  --local-base PORT  our legs bind PORT+4i and PORT+4i+2 (10000);\n"
"                     0: ephemeral ports\n"
"  --find-max         search the highest N that passes\n"
"  --start N          first N of the search (100)\n"
"  --step N           linear search, stop at first failure (0: double\n"
"                     then bisect)\n"
"  --max N            highest N tried (4000)\n"
"  --resolution N     bisect until pass and fail are this close (25)\n"
"  --max-time S       bound of the whole search (600)\n"
"  --soak HOURS       one long run, progress every --interval S (60)\n"
"  --max-loss PCT     pass criterion (0.1)\n"
"  --max-p99 MS       pass criterion (5)\n"
"  --max-lag MS       our sends later than this at p99: the run is\n"
"                     bench-limited, not a relay figure (10)\n"
"  --ng-timeout MS    one NG try (1000); three tries per command\n"
"  --ping             only check that NG answers; --wait S retries\n"
"  --json             summary as one JSON object\n"
"  -h, --help\n"
"exit: 0 pass, 1 fail, 2 error, 3 relay refused the offer\n");
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char ip[64];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return EINVAL;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || port == 0 || port > 65535)
		return EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
		return EINVAL;
	return 0;
}

static bool is_loopback(struct in_addr a)
{
	return (ntohl(a.s_addr) >> 24) == 127;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *vp)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v < lo || v > hi)
		return EINVAL;
	*vp = (unsigned)v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *vp)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !*s || !(v >= lo && v <= hi))
		return EINVAL;
	*vp = v;
	return 0;
}

enum {
	OPT_NG = 256, OPT_BARE, OPT_RELAY_IP, OPT_STREAMS, OPT_DURATION,
	OPT_WARMUP, OPT_DRAIN, OPT_CODEC, OPT_TRANSCODE, OPT_PID,
	OPT_THREADS, OPT_RT, OPT_LOCAL_BASE, OPT_FIND_MAX, OPT_START, OPT_STEP,
	OPT_MAX, OPT_RESOLUTION, OPT_MAX_TIME, OPT_SOAK, OPT_INTERVAL,
	OPT_MAX_LOSS, OPT_MAX_P99, OPT_MAX_LAG, OPT_NG_TMO, OPT_PING,
	OPT_WAIT, OPT_JSON, OPT_SRTP,
};

static const struct option long_opts[] = {
	{ "ng",         required_argument, NULL, OPT_NG },
	{ "bare",       required_argument, NULL, OPT_BARE },
	{ "relay-ip",   required_argument, NULL, OPT_RELAY_IP },
	{ "streams",    required_argument, NULL, OPT_STREAMS },
	{ "duration",   required_argument, NULL, OPT_DURATION },
	{ "warmup",     required_argument, NULL, OPT_WARMUP },
	{ "drain-ms",   required_argument, NULL, OPT_DRAIN },
	{ "codec",      required_argument, NULL, OPT_CODEC },
	{ "transcode",  no_argument,       NULL, OPT_TRANSCODE },
	{ "srtp",       no_argument,       NULL, OPT_SRTP },
	{ "pid",        required_argument, NULL, OPT_PID },
	{ "threads",    required_argument, NULL, OPT_THREADS },
	{ "rt",         required_argument, NULL, OPT_RT },
	{ "local-base", required_argument, NULL, OPT_LOCAL_BASE },
	{ "find-max",   no_argument,       NULL, OPT_FIND_MAX },
	{ "start",      required_argument, NULL, OPT_START },
	{ "step",       required_argument, NULL, OPT_STEP },
	{ "max",        required_argument, NULL, OPT_MAX },
	{ "resolution", required_argument, NULL, OPT_RESOLUTION },
	{ "max-time",   required_argument, NULL, OPT_MAX_TIME },
	{ "soak",       required_argument, NULL, OPT_SOAK },
	{ "interval",   required_argument, NULL, OPT_INTERVAL },
	{ "max-loss",   required_argument, NULL, OPT_MAX_LOSS },
	{ "max-p99",    required_argument, NULL, OPT_MAX_P99 },
	{ "max-lag",    required_argument, NULL, OPT_MAX_LAG },
	{ "ng-timeout", required_argument, NULL, OPT_NG_TMO },
	{ "ping",       no_argument,       NULL, OPT_PING },
	{ "wait",       required_argument, NULL, OPT_WAIT },
	{ "json",       no_argument,       NULL, OPT_JSON },
	{ "help",       no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Parse argv into <c>. Returns 0, or EINVAL after printing why. */
static int parse_args(int argc, char **argv, struct cfg *c)
{
	bool duration_set = false;
	unsigned u;
	int opt, err = 0;

	memset(c, 0, sizeof(*c));
	parse_addr("127.0.0.1:22222", &c->ng);
	inet_pton(AF_INET, "127.0.0.1", &c->relay_ip);
	c->streams = 100;
	c->start = 100;
	c->max = 4000;
	c->resolution = 25;
	c->duration = 20;
	c->warmup = 2;
	c->drain_ms = 500;
	c->pt_a = RB_PT_PCMU;
	c->interval = 60;
	c->threads = 1;
	c->local_base = 10000;
	c->max_loss = 0.1;
	c->max_p99 = 5;
	c->max_lag = 10;
	c->max_time = 600;
	c->ng_tmo = 1000;

	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_NG:
			err = parse_addr(optarg, &c->ng);
			break;
		case OPT_BARE:
			c->bare = true;
			err = parse_uint(optarg, 1024, 65534, &c->bare_base);
			break;
		case OPT_RELAY_IP:
			err = inet_pton(AF_INET, optarg, &c->relay_ip) == 1 ?
				0 : EINVAL;
			break;
		case OPT_STREAMS:
			err = parse_uint(optarg, 1, MAX_STREAMS, &c->streams);
			break;
		case OPT_DURATION:
			err = parse_double(optarg, 1, 86400, &c->duration);
			duration_set = true;
			break;
		case OPT_WARMUP:
			err = parse_double(optarg, 0, 60, &c->warmup);
			break;
		case OPT_DRAIN:
			err = parse_uint(optarg, 50, 10000, &c->drain_ms);
			break;
		case OPT_CODEC:
			if (!strcmp(optarg, "pcmu"))
				c->pt_a = RB_PT_PCMU;
			else if (!strcmp(optarg, "pcma"))
				c->pt_a = RB_PT_PCMA;
			else
				err = EINVAL;
			break;
		case OPT_TRANSCODE:
			c->transcode = true;
			break;
		case OPT_SRTP:
			c->srtp = true;
			break;
		case OPT_PID:
			err = parse_uint(optarg, 1, INT_MAX, &u);
			c->pid = (pid_t)u;
			break;
		case OPT_THREADS:
			err = parse_uint(optarg, 1, MAX_THREADS, &c->threads);
			break;
		case OPT_RT:
			err = parse_uint(optarg, 0, 99, &c->rt);
			break;
		case OPT_LOCAL_BASE:
			err = parse_uint(optarg, 0, 65532, &c->local_base);
			if (!err && c->local_base && c->local_base < 1024)
				err = EINVAL;
			break;
		case OPT_FIND_MAX:
			c->find_max = true;
			break;
		case OPT_START:
			err = parse_uint(optarg, 1, MAX_STREAMS, &c->start);
			break;
		case OPT_STEP:
			err = parse_uint(optarg, 0, MAX_STREAMS, &c->step);
			break;
		case OPT_MAX:
			err = parse_uint(optarg, 1, MAX_STREAMS, &c->max);
			break;
		case OPT_RESOLUTION:
			err = parse_uint(optarg, 1, MAX_STREAMS,
					 &c->resolution);
			break;
		case OPT_MAX_TIME:
			err = parse_double(optarg, 10, 86400, &c->max_time);
			break;
		case OPT_SOAK:
			err = parse_double(optarg, 0.001, 72, &c->soak_h);
			break;
		case OPT_INTERVAL:
			err = parse_double(optarg, 1, 3600, &c->interval);
			break;
		case OPT_MAX_LOSS:
			err = parse_double(optarg, 0, 100, &c->max_loss);
			break;
		case OPT_MAX_P99:
			err = parse_double(optarg, 0.01, 10000, &c->max_p99);
			break;
		case OPT_MAX_LAG:
			err = parse_double(optarg, 0.1, 10000, &c->max_lag);
			break;
		case OPT_NG_TMO:
			err = parse_uint(optarg, 10, 60000, &c->ng_tmo);
			break;
		case OPT_PING:
			c->ping = true;
			break;
		case OPT_WAIT:
			err = parse_double(optarg, 0, 600, &c->wait);
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_PASS);
		default:
			usage(stderr);
			return EINVAL;
		}
		if (err) {
			fprintf(stderr, "rtpbench: bad value for %s: %s\n",
				argv[optind - 1], optarg ? optarg : "");
			return EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rtpbench: unexpected argument %s\n",
			argv[optind]);
		return EINVAL;
	}

	if (c->find_max && c->soak_h > 0) {
		fprintf(stderr, "rtpbench: --find-max and --soak exclude "
			"each other\n");
		return EINVAL;
	}
	if (c->soak_h > 0) {
		if (duration_set)
			fprintf(stderr, "rtpbench: --soak overrides "
				"--duration\n");
		c->duration = c->soak_h * 3600.0;
	}
	if (c->bare && c->srtp) {
		fprintf(stderr, "rtpbench: --srtp needs NG (the relay holds "
			"the keys), not --bare\n");
		return EINVAL;
	}
	if (c->bare && c->ping) {
		fprintf(stderr, "rtpbench: --ping needs NG, not --bare\n");
		return EINVAL;
	}
	if (!is_loopback(c->ng.sin_addr) ||
	    !is_loopback(c->relay_ip)) {
		fprintf(stderr, "rtpbench: only loopback relays are "
			"allowed\n");
		return EINVAL;
	}
	if (c->find_max && c->start > c->max) {
		fprintf(stderr, "rtpbench: --start above --max\n");
		return EINVAL;
	}
	{
		unsigned top = c->find_max ? c->max : c->streams;

		if (c->local_base &&
		    (unsigned long)c->local_base + 4ul * top > 65535) {
			fprintf(stderr, "rtpbench: --local-base %u leaves no "
				"room for %u streams (4 ports each)\n",
				c->local_base, top);
			return EINVAL;
		}
		if (c->bare &&
		    (unsigned long)c->bare_base + 2ul * top > 65536) {
			fprintf(stderr, "rtpbench: --bare %u leaves no room "
				"for %u streams\n", c->bare_base, top);
			return EINVAL;
		}
	}
	return 0;
}

/* utime + stime of <pid> (0: ourselves) in seconds, or -1. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[2048];
	unsigned long long ut, st;
	const char *p;
	FILE *f;
	size_t n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');           /* comm may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			 "%*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void raise_nofile(unsigned need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need) {
		struct rlimit want = { need, need };

		if (!setrlimit(RLIMIT_NOFILE, &want))
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Socket of one leg on 127.0.0.1:<port> (0: any); falls back to an
 * ephemeral port when <port> is taken and counts that. */
static int open_leg(struct rb_leg *leg, unsigned port, unsigned *fbp)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int one = 1, err;

	leg->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			 0);
	if (leg->fd == -1)
		return errno;
	if (setsockopt(leg->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
		       sizeof(one)) == -1)
		return errno;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (bind(leg->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		err = errno;
		if (err != EADDRINUSE || !port)
			return err;
		sa.sin_port = 0;
		if (bind(leg->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
			return errno;
		(*fbp)++;
	}
	if (getsockname(leg->fd, (struct sockaddr *)&sa, &sl) == -1)
		return errno;
	leg->lport = ntohs(sa.sin_port);
	return 0;
}

/* Sleep until monotonic <t>, in slices so a signal is seen quickly. */
static void sleep_until(uint64_t t)
{
	unsigned guard;

	for (guard = 0; guard < 100000000u && !g_stop; guard++) {
		uint64_t now = rb_mono_ns(), d;
		struct timespec ts;

		if (now >= t)
			return;
		d = t - now;
		if (d > 100000000ull)
			d = 100000000ull;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)d;
		nanosleep(&ts, NULL);
	}
}

/*
 * One soak progress line from two racy snapshots <prev> and <cur>: the
 * packets in flight at either edge make the loss an estimate (loss~).
 */
static void progress_line(unsigned n, double t_s, const struct rb_stats *cur,
			  const struct rb_stats *prev, double relay_cpu_pct)
{
	uint64_t *h = calloc(RB_HIST_N, sizeof(*h));
	uint64_t ds = cur->sent - prev->sent, dr = cur->recv - prev->recv;
	double loss = ds ? 100.0 * (double)(ds > dr ? ds - dr : 0) /
		(double)ds : 0;
	size_t i;

	if (!h)
		return;
	for (i = 0; i < RB_HIST_N; i++)
		h[i] = cur->lat[i] - prev->lat[i];
	fprintf(stderr, "rtpbench: soak t=%.0fs streams=%u sent=%llu "
		"recv=%llu loss~%.3f%% p99=%.3fms relay_cpu_pct=%.1f\n",
		t_s, n, (unsigned long long)ds, (unsigned long long)dr, loss,
		(double)rb_hist_pct(h, 99) / 1e6, relay_cpu_pct);
	free(h);
}

/*
 * The main thread's part of a run: wait out the warm-up, take the CPU
 * readings at the window's edges, print soak progress, honour a stop.
 */
static void observe(const struct cfg *c, struct rb_engine *eng,
		    const struct rb_times *tm, unsigned n, struct result *r)
{
	double relay0, self0, relay1, self1;
	uint64_t end = tm->win_end, t_end;

	sleep_until(tm->win_start);
	relay0 = c->pid ? proc_cpu_s(c->pid) : -1;
	self0 = proc_cpu_s(0);

	if (c->soak_h > 0) {
		struct rb_stats *prev = calloc(1, sizeof(*prev));
		struct rb_stats *cur = calloc(1, sizeof(*cur));
		uint64_t next = tm->win_start, last = tm->win_start;
		double rc_prev = relay0;
		unsigned k;

		for (k = 0; prev && cur && !g_stop && k < 1000000u; k++) {
			double rc;

			next += (uint64_t)(c->interval * 1e9);
			if (next > end)
				next = end;
			sleep_until(next);
			if (g_stop)
				break;
			rb_engine_peek(eng, cur);
			rc = c->pid ? proc_cpu_s(c->pid) : -1;
			progress_line(n, (double)(next - tm->win_start) / 1e9,
				      cur, prev,
				      rc >= 0 && rc_prev >= 0 && next > last ?
				      100.0 * (rc - rc_prev) * 1e9 /
				      (double)(next - last) : -1);
			rc_prev = rc;
			last = next;
			memcpy(prev, cur, sizeof(*prev));
			if (next >= end)
				break;
		}
		free(prev);
		free(cur);
	}
	sleep_until(end);

	t_end = rb_mono_ns();
	if (t_end > end)
		t_end = end;
	relay1 = c->pid ? proc_cpu_s(c->pid) : -1;
	self1 = proc_cpu_s(0);
	if (g_stop) {
		rb_engine_stop(eng);
		r->aborted = true;
	}
	r->win_s = t_end > tm->win_start ?
		(double)(t_end - tm->win_start) / 1e9 : 0;
	r->relay_cpu_s = relay0 >= 0 && relay1 >= 0 ? relay1 - relay0 : -1;
	r->bench_cpu_s = self1 - self0;
}

static void summarize(const struct cfg *c, unsigned n,
		      const struct rb_stats *st, struct result *r)
{
	double expect, mpkt;

	r->streams = n;
	r->sent = st->sent;
	r->recv = st->recv;
	r->lost = st->sent > st->recv ? st->sent - st->recv : 0;
	r->loss_pct = st->sent ? 100.0 * (double)r->lost /
		(double)st->sent : 100.0;
	r->dup = st->dup;
	r->reorder = st->reorder;
	r->stray = st->stray;
	r->bad = st->bad;
	r->other = st->other;
	r->nobufs = st->nobufs;
	r->tx_err = st->tx_err;
	r->rx_err = st->rx_err;
	r->remap = st->remap;
	r->auth_fail = st->auth_fail;
	r->auth_fail_all = st->auth_fail_all;
	if (st->srtp_samples)
		r->srtp_us = (double)st->srtp_ns / 1e3 /
			(double)st->srtp_samples;
	/* half the window's sends are A's (protected), half B's
	 * (unprotected at A, give or take the loss): one call each */
	if (c->srtp && r->win_s > 0)
		r->srtp_cpu_pct = 100.0 * r->srtp_us * 1e-6 *
			(double)st->sent / r->win_s;
	r->srtp_err = st->srtp_err;
	r->p50_ms = (double)rb_hist_pct(st->lat, 50) / 1e6;
	r->p99_ms = (double)rb_hist_pct(st->lat, 99) / 1e6;
	r->max_ms = (double)st->lat_max_ns / 1e6;
	r->jit_ms = st->jit_n ? st->jit_sum_ms / (double)st->jit_n : 0;
	r->jit_max_ms = st->jit_max_ms;
	r->lag_p99_ms = (double)rb_hist_pct(st->lag, 99) / 1e6;
	r->lag_max_ms = (double)st->lag_max_ns / 1e6;

	mpkt = (double)st->recv / 1e6;
	if (r->relay_cpu_s >= 0 && r->win_s > 0) {
		r->relay_cpu_pct = 100.0 * r->relay_cpu_s / r->win_s;
		r->cpu_per_mpkt = mpkt > 0 ? r->relay_cpu_s / mpkt : 0;
	}
	if (r->win_s > 0)
		r->bench_cpu_pct = 100.0 * r->bench_cpu_s / r->win_s;

	/* each leg sends once per 20 ms */
	expect = 2.0 * n * r->win_s * 1e9 / (double)RB_PERIOD_NS;
	r->bench_limited = (double)st->sent < 0.99 * expect - 2.0 * n ||
		r->lag_p99_ms > c->max_lag;

	r->pass = false;
	/* our lag first: it can also starve our receives */
	if (r->aborted)
		r->reason = "aborted";
	else if (r->bench_limited)
		r->reason = "bench-limited";
	else if (!st->recv)
		r->reason = "no-packets";
	else if (r->loss_pct >= c->max_loss)
		r->reason = r->auth_fail * 2 > r->lost ? "srtp-auth" : "loss";
	else if (r->p99_ms >= c->max_p99)
		r->reason = "p99";
	else if (st->bad * 1000 > st->recv)
		r->reason = "bad-payload";
	else if (st->srtp_err * 1000 > st->sent)
		r->reason = "srtp-error";
	else {
		r->reason = "ok";
		r->pass = true;
	}
}

static void print_result(FILE *f, const struct cfg *c,
			 const struct result *r, bool json)
{
	char relay[64], per[64], pct[64];

	if (r->relay_cpu_s >= 0) {
		snprintf(relay, sizeof(relay), json ? "%.2f" : "%.2fs",
			 r->relay_cpu_s);
		snprintf(per, sizeof(per), json ? "%.2f" : "%.2fs",
			 r->cpu_per_mpkt);
		snprintf(pct, sizeof(pct), "%.1f", r->relay_cpu_pct);
	}
	else {
		snprintf(relay, sizeof(relay), json ? "null" : "n/a");
		snprintf(per, sizeof(per), json ? "null" : "n/a");
		snprintf(pct, sizeof(pct), json ? "null" : "n/a");
	}

	if (json) {
		fprintf(f, "\"streams\":%u,\"pps\":%u,\"codec\":\"%s\","
			"\"transcode\":%s,\"srtp\":%s,\"window_s\":%.2f,"
			"\"sent\":%llu,\"recv\":%llu,\"lost\":%llu,"
			"\"loss_pct\":%.4f,\"dup\":%llu,\"reorder\":%llu,"
			"\"stray\":%llu,\"bad\":%llu,\"auth_fail\":%llu,"
			"\"auth_fail_all\":%llu,\"srtp_err\":%llu,"
			"\"srtp_us\":%.2f,\"srtp_cpu_pct\":%.1f,"
			"\"p50_ms\":%.3f,"
			"\"p99_ms\":%.3f,\"max_ms\":%.3f,\"jitter_ms\":%.3f,"
			"\"relay_cpu_s\":%s,\"relay_cpu_pct\":%s,"
			"\"cpu_per_mpkt_s\":%s,\"bench_cpu_s\":%.2f,"
			"\"bench_cpu_pct\":%.1f,\"send_lag_p99_ms\":%.3f,"
			"\"setup_s\":%.2f,\"result\":\"%s\",\"reason\":\"%s\"",
			r->streams, r->streams * 100,
			c->pt_a == RB_PT_PCMA ? "pcma" : "pcmu",
			c->transcode ? "true" : "false",
			c->srtp ? "true" : "false", r->win_s,
			(unsigned long long)r->sent,
			(unsigned long long)r->recv,
			(unsigned long long)r->lost, r->loss_pct,
			(unsigned long long)r->dup,
			(unsigned long long)r->reorder,
			(unsigned long long)r->stray,
			(unsigned long long)r->bad,
			(unsigned long long)r->auth_fail,
			(unsigned long long)r->auth_fail_all,
			(unsigned long long)r->srtp_err, r->srtp_us,
			r->srtp_cpu_pct, r->p50_ms, r->p99_ms,
			r->max_ms, r->jit_ms, relay, pct, per,
			r->bench_cpu_s, r->bench_cpu_pct, r->lag_p99_ms,
			r->setup_s, r->pass ? "PASS" : "FAIL", r->reason);
		return;
	}
	fprintf(f, "streams=%u pps=%u codec=%s transcode=%d ",
		r->streams, r->streams * 100,
		c->pt_a == RB_PT_PCMA ? "pcma" : "pcmu", c->transcode);
	if (c->srtp)
		fprintf(f, "srtp=1 auth_fail=%llu srtp_err=%llu "
			"srtp_us=%.2f srtp_cpu_pct=%.1f ",
			(unsigned long long)r->auth_fail,
			(unsigned long long)r->srtp_err, r->srtp_us,
			r->srtp_cpu_pct);
	fprintf(f, "window=%.1fs "
		"sent=%llu recv=%llu lost=%llu loss=%.3f%% dup=%llu "
		"reorder=%llu stray=%llu bad=%llu p50=%.3fms p99=%.3fms "
		"max=%.3fms jitter=%.3fms relay_cpu=%s relay_cpu_pct=%s "
		"cpu_per_mpkt=%s bench_cpu=%.2fs bench_cpu_pct=%.1f "
		"send_lag_p99=%.3fms result=%s reason=%s",
		r->win_s, (unsigned long long)r->sent,
		(unsigned long long)r->recv, (unsigned long long)r->lost,
		r->loss_pct, (unsigned long long)r->dup,
		(unsigned long long)r->reorder,
		(unsigned long long)r->stray, (unsigned long long)r->bad,
		r->p50_ms, r->p99_ms, r->max_ms, r->jit_ms, relay, pct, per,
		r->bench_cpu_s, r->bench_cpu_pct, r->lag_p99_ms,
		r->pass ? "PASS" : "FAIL", r->reason);
}

/* Counters that are normally zero, worth a look when they are not. */
static void print_diag(const struct result *r)
{
	if (r->remap || r->nobufs || r->tx_err || r->rx_err || r->other ||
	    r->port_fallback || r->auth_fail_all)
		fprintf(stderr, " (remap=%llu nobufs=%llu tx_err=%llu "
			"rx_err=%llu other=%llu port_fallback=%u "
			"auth_fail_all=%llu)",
			(unsigned long long)r->remap,
			(unsigned long long)r->nobufs,
			(unsigned long long)r->tx_err,
			(unsigned long long)r->rx_err,
			(unsigned long long)r->other, r->port_fallback,
			(unsigned long long)r->auth_fail_all);
}

static void print_step(const struct cfg *c, unsigned step,
		       const struct result *r)
{
	fprintf(stderr, "rtpbench: step %u ", step);
	print_result(stderr, c, r, false);
	print_diag(r);
	fputc('\n', stderr);
}

static void call_names(unsigned run, unsigned i, char *callid, size_t csz,
		       char *ftag, char *ttag, size_t tsz)
{
	snprintf(callid, csz, "rtpbench-%d-%u-%u", (int)getpid(), run, i);
	snprintf(ftag, tsz, "a%u", i);
	snprintf(ttag, tsz, "b%u", i);
}

/*
 * One run with <n> streams: sockets, calls, traffic, measurement,
 * deletes. Fills <r>. Returns 0 when the run happened (pass or fail);
 * an errno when it could not be set up, with *refusedp set if the
 * relay refused the very first offer.
 */
static int run_once(const struct cfg *c, struct rb_ng *ng, unsigned n,
		    unsigned run, struct result *r, bool *refusedp)
{
	struct rb_engine *eng = NULL;
	struct rb_stats *st = NULL;
	struct rb_leg *legs;
	struct rb_times tm;
	unsigned i, ncalls = 0;
	uint64_t t_setup;
	uint8_t key_a[RB_SRTP_KEYLEN], rkey_a[RB_SRTP_KEYLEN];
	uint8_t pt_b = c->transcode ?
		(c->pt_a == RB_PT_PCMU ? RB_PT_PCMA : RB_PT_PCMU) : c->pt_a;
	char err_s[256];
	int err = 0;

	memset(r, 0, sizeof(*r));
	r->streams = n;
	r->relay_cpu_s = -1;
	r->reason = "setup";
	*refusedp = false;

	legs = calloc(2 * (size_t)n, sizeof(*legs));
	st = calloc(1, sizeof(*st));
	if (!legs || !st) {
		err = ENOMEM;
		goto out;
	}
	for (i = 0; i < 2 * n; i++)
		legs[i].fd = -1;

	t_setup = rb_mono_ns();
	for (i = 0; i < n && !err; i++) {
		struct rb_leg *a = &legs[2 * i], *b = &legs[2 * i + 1];

		a->stream = b->stream = i;
		a->side = 0;
		b->side = 1;
		a->peer = b;
		b->peer = a;
		a->pt_tx = a->pt_rx = c->pt_a;
		b->pt_tx = b->pt_rx = pt_b;
		err = open_leg(a, c->local_base ? c->local_base + 4 * i : 0,
			       &r->port_fallback);
		if (!err)
			err = open_leg(b, c->local_base ?
				       c->local_base + 4 * i + 2 : 0,
				       &r->port_fallback);
		if (err)
			fprintf(stderr, "rtpbench: socket for stream %u: "
				"%s\n", i, strerror(err));
	}
	if (err)
		goto out;

	for (i = 0; i < n; i++) {
		struct rb_leg *a = &legs[2 * i], *b = &legs[2 * i + 1];

		if (g_stop) {
			err = EINTR;
			goto out;
		}
		if (c->bare) {
			memset(&a->relay, 0, sizeof(a->relay));
			a->relay.sin_family = AF_INET;
			a->relay.sin_addr = c->relay_ip;
			b->relay = a->relay;
			a->relay.sin_port = htons((uint16_t)(c->bare_base +
							     2 * i));
			b->relay.sin_port = htons((uint16_t)(c->bare_base +
							     2 * i + 1));
		}
		else {
			struct rb_call_prm prm;
			char callid[64], ftag[16], ttag[16];
			bool refused;

			call_names(run, i, callid, sizeof(callid), ftag, ttag,
				   sizeof(ftag));
			memset(&prm, 0, sizeof(prm));
			prm.callid = callid;
			prm.from_tag = ftag;
			prm.to_tag = ttag;
			prm.port_a = a->lport;
			prm.port_b = b->lport;
			prm.pt_a = c->pt_a;
			prm.pt_b = pt_b;
			prm.transcode = c->transcode;
			if (c->srtp) {
				err = rb_srtp_keygen(key_a);
				if (err) {
					fprintf(stderr, "rtpbench: SRTP key: "
						"%s\n", strerror(err));
					goto out;
				}
				prm.srtp = true;
				prm.key_a = key_a;
			}
			err = rb_ng_call(ng, &prm, &a->relay, &b->relay,
					 rkey_a, &refused, err_s,
					 sizeof(err_s));
			if (err) {
				fprintf(stderr, "rtpbench: stream %u: %s\n",
					i, err_s);
				*refusedp = refused && i == 0;
				/* a half-made call is the relay's to free */
				ncalls = i + 1;
				goto out;
			}
			ncalls = i + 1;
		}
		rb_leg_prepare(a, rnd());
		rb_leg_prepare(b, rnd());
		if (c->srtp) {
			/* the relay normally keeps B's SSRC toward A */
			err = rb_srtp_leg_open(a, key_a, rkey_a, b->ssrc);
			if (err) {
				fprintf(stderr, "rtpbench: stream %u: SRTP "
					"session: %s\n", i, strerror(err));
				goto out;
			}
		}
	}
	memset(key_a, 0, sizeof(key_a));
	memset(rkey_a, 0, sizeof(rkey_a));
	r->setup_s = (double)(rb_mono_ns() - t_setup) / 1e9;

	err = rb_engine_start(&eng, legs, 2 * n, c->threads, (int)c->rt);
	if (err) {
		fprintf(stderr, "rtpbench: workers: %s%s\n", strerror(err),
			c->rt && err == EPERM ? " (--rt needs CAP_SYS_NICE)" :
			"");
		goto out;
	}

	tm.t0 = rb_mono_ns() + 20000000ull;
	tm.win_start = tm.t0 + (uint64_t)(c->warmup * 1e9);
	tm.win_end = tm.win_start + (uint64_t)(c->duration * 1e9);
	tm.drain_end = tm.win_end + (uint64_t)c->drain_ms * 1000000ull;
	rb_engine_go(eng, &tm);
	observe(c, eng, &tm, n, r);
	err = rb_engine_join(eng, st);
	rb_engine_free(eng);
	if (err) {
		fprintf(stderr, "rtpbench: worker: %s\n", strerror(err));
		goto out;
	}
	summarize(c, n, st, r);
 out:
	/* deletes go out even when interrupted: never leave calls behind */
	if (ng) {
		unsigned failed = 0;

		for (i = 0; i < ncalls; i++) {
			char callid[64], ftag[16], ttag[16];

			call_names(run, i, callid, sizeof(callid), ftag, ttag,
				   sizeof(ftag));
			if (rb_ng_delete(ng, callid, ftag))
				failed++;
		}
		if (failed && !*refusedp)
			fprintf(stderr, "rtpbench: %u of %u deletes "
				"failed\n", failed, ncalls);
	}
	if (legs) {
		for (i = 0; i < 2 * n; i++) {
			/* the workers are joined: nobody uses the sessions */
			rb_srtp_leg_close(&legs[i]);
			if (legs[i].fd != -1)
				close(legs[i].fd);
		}
	}
	free(legs);
	free(st);
	return err;
}

/*
 * Between steps, let the relay finish what the last step left it (an
 * overloaded relay can lag seconds behind, and that backlog must not
 * be charged to the next step): wait until its CPU use stays under 10%
 * for half a second, at most 30 s. Without --pid, wait one second.
 */
static void settle(const struct cfg *c)
{
	unsigned i;

	if (!c->pid) {
		sleep_until(rb_mono_ns() + 1000000000ull);
		return;
	}
	for (i = 0; i < 60 && !g_stop; i++) {
		double a = proc_cpu_s(c->pid), b;

		sleep_until(rb_mono_ns() + 500000000ull);
		b = proc_cpu_s(c->pid);
		if (a < 0 || b < 0 || b - a < 0.05)
			break;
	}
	if (i)
		fprintf(stderr, "rtpbench: relay busy after the step, "
			"waited %.1fs\n", (i + 1) * 0.5);
}

static double elapsed_s(uint64_t since)
{
	return (double)(rb_mono_ns() - since) / 1e9;
}

static void print_summary(const struct cfg *c, const struct result *r,
			  bool fm, unsigned max_streams, unsigned steps,
			  unsigned first_fail, bool truncated)
{
	if (c->json) {
		fputc('{', stdout);
		if (fm)
			printf("\"max_streams\":%u,\"steps\":%u,"
			       "\"first_fail\":%u,\"truncated\":%s,",
			       max_streams, steps, first_fail,
			       truncated ? "true" : "false");
		print_result(stdout, c, r, true);
		printf("}\n");
	}
	else {
		printf("rtpbench: ");
		if (fm)
			printf("max_streams=%u steps=%u first_fail=%u "
			       "truncated=%d ", max_streams, steps,
			       first_fail, truncated);
		print_result(stdout, c, r, false);
		putchar('\n');
	}
	fflush(stdout);
}

/*
 * Search the highest passing N: double from --start until a failure,
 * then bisect between the best pass and the first failure until they
 * are --resolution apart (or step linearly with --step). Each step is
 * a complete run; the search stops at --max, at --max-time or after
 * MAX_STEPS steps.
 */
static int find_max(const struct cfg *c, struct rb_ng *ng)
{
	struct result r, best, fail;
	unsigned n = c->start, best_n = 0, fail_n = 0, steps = 0;
	uint64_t t_begin = rb_mono_ns();
	bool truncated = false, have_fail = false;

	memset(&best, 0, sizeof(best));
	memset(&fail, 0, sizeof(fail));
	best.relay_cpu_s = fail.relay_cpu_s = -1;
	best.reason = fail.reason = "none";

	while (steps < MAX_STEPS && !g_stop) {
		double est = c->warmup + c->duration + c->drain_ms / 1000.0 +
			n * 0.004 + 2;
		unsigned next;
		bool refused;
		int err;

		if (elapsed_s(t_begin) + est > c->max_time) {
			truncated = true;
			break;
		}
		steps++;
		err = run_once(c, ng, n, steps, &r, &refused);
		if (err && refused && steps == 1) {
			fprintf(stderr, "rtpbench: relay refused the offer: "
				"not supported\n");
			return EXIT_REFUSED;
		}
		if (err == EINTR || g_stop)
			break;
		if (err) {
			/* could not set the calls up: the relay's limit too */
			r.pass = false;
			r.reason = "setup";
		}
		print_step(c, steps, &r);

		if (r.pass) {
			best = r;
			best_n = n;
			if (n >= c->max)
				break;
			if (!have_fail)
				next = c->step ? n + c->step : n * 2;
			else
				next = (best_n + fail_n) / 2;
			if (next > c->max)
				next = c->max;
		}
		else {
			if (!have_fail || n < fail_n) {
				fail = r;
				fail_n = n;
			}
			have_fail = true;
			if (c->step)
				break;
			next = (best_n + fail_n) / 2;
		}
		if (have_fail && fail_n - best_n <= c->resolution)
			break;
		if (next == n || next == 0)
			break;
		n = next;
		settle(c);
	}

	print_summary(c, best_n ? &best : &fail, true, best_n, steps,
		      have_fail ? fail_n : 0, truncated);
	return best_n ? EXIT_PASS : EXIT_FAIL;
}

static int do_ping(const struct cfg *c, struct rb_ng *ng)
{
	uint64_t until = rb_mono_ns() + (uint64_t)(c->wait * 1e9);
	char why[200] = "";
	unsigned tries;

	for (tries = 0; tries < 100000u; tries++) {
		if (!rb_ng_ping(ng, why, sizeof(why))) {
			if (!c->json)
				printf("rtpbench: pong\n");
			return EXIT_PASS;
		}
		if (g_stop || rb_mono_ns() >= until)
			break;
		sleep_until(rb_mono_ns() + 100000000ull);
	}
	fprintf(stderr, "rtpbench: ping: %s\n", why);
	return EXIT_FAIL;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct rb_ng *ng = NULL;
	struct cfg c;
	int rc = EXIT_ERROR, err;

	if (parse_args(argc, argv, &c))
		return EXIT_ERROR;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rnd_state = (uint32_t)getpid() ^ (uint32_t)rb_mono_ns() ^ 0x9e3779b9u;
	if (!rnd_state)
		rnd_state = 1;
	raise_nofile(2 * (c.find_max ? c.max : c.streams) + 256);
	if (c.srtp && rb_srtp_init()) {
		fprintf(stderr, "rtpbench: SRTP init failed\n");
		return EXIT_ERROR;
	}

	if (!c.bare) {
		char why[200];

		err = rb_ng_open(&ng, &c.ng, c.ping ? 300 : c.ng_tmo);
		if (err) {
			fprintf(stderr, "rtpbench: NG socket: %s\n",
				strerror(err));
			return EXIT_ERROR;
		}
		if (c.ping) {
			rc = do_ping(&c, ng);
			goto out;
		}
		err = rb_ng_ping(ng, why, sizeof(why));
		if (err) {
			fprintf(stderr, "rtpbench: NG ping: %s\n", why);
			goto out;
		}
	}

	if (c.find_max) {
		rc = find_max(&c, ng);
	}
	else {
		struct result r;
		bool refused;

		err = run_once(&c, ng, c.streams, 1, &r, &refused);
		if (err) {
			if (refused)
				fprintf(stderr, "rtpbench: relay refused the "
					"offer: not supported\n");
			rc = refused ? EXIT_REFUSED : EXIT_ERROR;
			goto out;
		}
		if (r.remap || r.nobufs || r.tx_err || r.rx_err || r.other ||
		    r.port_fallback || r.auth_fail_all) {
			fprintf(stderr, "rtpbench: note");
			print_diag(&r);
			fputc('\n', stderr);
		}
		print_summary(&c, &r, false, 0, 0, 0, false);
		rc = r.pass ? EXIT_PASS : EXIT_FAIL;
	}
 out:
	rb_ng_close(ng);
	return rc;
}
