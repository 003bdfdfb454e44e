/* tools/srtpbench.c  ns per SRTP protect and unprotect: mediad's srtpx against libsrtp2 */
/*
 * usage: srtpbench [-n PACKETS] [-r ROUNDS] [-3]
 *
 * One 172-byte RTP packet (12-byte header, 160 bytes of G.711 20 ms)
 * per sequence number, one SSRC, AES_CM_128_HMAC_SHA1_80 (-3: _32).
 * Each round protects PACKETS packets in batches of BATCH with each
 * implementation's outbound session, then unprotects them with its
 * inbound one, timing only the calls (CLOCK_MONOTONIC around a batch).
 * Rounds alternate the two implementations; the median round is
 * printed. Every unprotected packet is checked against the plain one,
 * so a broken transform cannot look fast.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <srtp2/srtp.h>

#include "srtpx.h"

#define PKT_LEN  172
#define ROOM     (PKT_LEN + 64)
#define BATCH    256
#define ROUNDS_MAX 64

struct impl {
	const char *name;
	void *tx, *rx;
	int (*protect)(void *s, uint8_t *p, uint32_t *lenp);
	int (*unprotect)(void *s, uint8_t *p, uint32_t *lenp);
	uint16_t seq;
	double prot_ns[ROUNDS_MAX], unprot_ns[ROUNDS_MAX];
};

static uint8_t pkts[BATCH][ROOM];
static uint32_t lens[BATCH];

static int x_protect(void *s, uint8_t *p, uint32_t *lenp)
{
	return srtpx_protect(s, p, lenp, false);
}

static int x_unprotect(void *s, uint8_t *p, uint32_t *lenp)
{
	return srtpx_unprotect(s, p, lenp, false);
}

static int l_protect(void *s, uint8_t *p, uint32_t *lenp)
{
	int l = (int)*lenp;

	if (srtp_protect(s, p, &l) != srtp_err_status_ok)
		return EINVAL;
	*lenp = (uint32_t)l;
	return 0;
}

static int l_unprotect(void *s, uint8_t *p, uint32_t *lenp)
{
	int l = (int)*lenp;

	if (srtp_unprotect(s, p, &l) != srtp_err_status_ok)
		return EINVAL;
	*lenp = (uint32_t)l;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void mkpkt(uint8_t *p, uint16_t seq)
{
	unsigned i;

	memset(p, 0, ROOM);
	p[0] = 0x80;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(seq >> 3);
	p[8] = 0x5e;
	p[11] = 0xc5;
	for (i = 12; i < PKT_LEN; i++)
		p[i] = (uint8_t)(0xd5 ^ (i + seq));
}

static int ref_new(srtp_t *sp, const uint8_t *key, bool inbound, bool t32)
{
	srtp_policy_t pol;
	unsigned char k[SRTPX_KEYSALT_LEN];

	memset(&pol, 0, sizeof(pol));
	if (t32)
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
	else
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	memcpy(k, key, sizeof(k));
	pol.key = k;
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.window_size = 1024;
	return srtp_create(sp, &pol) == srtp_err_status_ok ? 0 : EINVAL;
}

/* One round of <n> packets through <im>. Returns 0 or an errno. */
static int round_run(struct impl *im, unsigned n, unsigned r)
{
	uint64_t tp = 0, tu = 0, t0;
	unsigned done, i, b;
	uint8_t plain[ROOM];

	for (done = 0; done < n; done += b) {
		b = n - done < BATCH ? n - done : BATCH;
		for (i = 0; i < b; i++) {
			mkpkt(pkts[i], (uint16_t)(im->seq + i));
			lens[i] = PKT_LEN;
		}
		t0 = now_ns();
		for (i = 0; i < b; i++) {
			if (im->protect(im->tx, pkts[i], &lens[i]))
				return EINVAL;
		}
		tp += now_ns() - t0;
		t0 = now_ns();
		for (i = 0; i < b; i++) {
			if (im->unprotect(im->rx, pkts[i], &lens[i]))
				return EBADMSG;
		}
		tu += now_ns() - t0;
		for (i = 0; i < b; i++) {
			mkpkt(plain, (uint16_t)(im->seq + i));
			if (lens[i] != PKT_LEN ||
			    memcmp(plain, pkts[i], PKT_LEN))
				return EBADMSG;
		}
		im->seq = (uint16_t)(im->seq + b);
	}
	im->prot_ns[r] = (double)tp / n;
	im->unprot_ns[r] = (double)tu / n;
	return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	static const uint8_t key[SRTPX_KEYSALT_LEN] = {
		0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f,
		0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39, 0x0e, 0xc6, 0x75, 0xad,
		0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
	};
	struct impl im[2] = {
		{ .name = "srtpx", .protect = x_protect,
		  .unprotect = x_unprotect, .seq = 65000 },
		{ .name = "libsrtp2", .protect = l_protect,
		  .unprotect = l_unprotect, .seq = 65000 },
	};
	enum srtpx_suite suite = SRTPX_AES_CM_128_HMAC_SHA1_80;
	unsigned n = 200000, rounds = 5, r, i;
	srtp_t ltx = NULL, lrx = NULL;
	struct srtpx *xtx = NULL, *xrx = NULL;
	bool t32 = false;
	int c, err = 0;

	while ((c = getopt(argc, argv, "n:r:3h")) != -1) {
		switch (c) {
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case '3':
			t32 = true;
			suite = SRTPX_AES_CM_128_HMAC_SHA1_32;
			break;
		default:
			fprintf(stderr, "usage: srtpbench [-n PACKETS] "
				"[-r ROUNDS] [-3]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!n || !rounds || rounds > ROUNDS_MAX) {
		fprintf(stderr, "srtpbench: -n > 0, 1 <= -r <= %d\n",
			ROUNDS_MAX);
		return 2;
	}
	if (srtp_init() != srtp_err_status_ok ||
	    srtpx_new(&xtx, suite, key, false) ||
	    srtpx_new(&xrx, suite, key, true) ||
	    ref_new(&ltx, key, false, t32) || ref_new(&lrx, key, true, t32)) {
		fprintf(stderr, "srtpbench: cannot make the sessions\n");
		err = EINVAL;
		goto out;
	}
	im[0].tx = xtx;
	im[0].rx = xrx;
	im[1].tx = ltx;
	im[1].rx = lrx;

	/* warm-up, then the rounds, alternating */
	for (i = 0; i < 2 && !err; i++)
		err = round_run(&im[i], n < 10000 ? n : 10000, 0);
	for (r = 0; r < rounds && !err; r++) {
		for (i = 0; i < 2 && !err; i++)
			err = round_run(&im[i], n, r);
	}
	if (err) {
		fprintf(stderr, "srtpbench: %s failed a packet: %s\n",
			im[i - 1].name, strerror(err));
		goto out;
	}
	printf("srtpbench: %u-byte RTP, %s, %u packets x %u rounds "
	       "(median round)\n", PKT_LEN,
	       t32 ? "AES_CM_128_HMAC_SHA1_32" : "AES_CM_128_HMAC_SHA1_80",
	       n, rounds);
	printf("%-10s %14s %14s\n", "", "protect ns", "unprotect ns");
	for (i = 0; i < 2; i++)
		printf("%-10s %14.0f %14.0f\n", im[i].name,
		       median(im[i].prot_ns, rounds),
		       median(im[i].unprot_ns, rounds));
 out:
	srtpx_free(xtx);
	srtpx_free(xrx);
	if (ltx)
		srtp_dealloc(ltx);
	if (lrx)
		srtp_dealloc(lrx);
	return err ? 1 : 0;
}
