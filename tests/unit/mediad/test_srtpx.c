/* tests/unit/mediad/test_srtpx.c  SRTP/SRTCP: RFC 3711 vectors, libsrtp2 as the reference, no allocation */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include <srtp2/srtp.h>

#include "harness.h"
#include "srtpx.h"

/*
 * libsrtp2 is the independent implementation: what ours protects it
 * must unprotect and the reverse, and from the same state both must
 * produce the same bytes. Its sessions here are made with the policy
 * mediad used with it (any SSRC, SRTCP with the 80-bit tag).
 */

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif

/* --- counting allocator and locks --------------------------------- */

/*
 * The executable's malloc() interposes on libc's for every library,
 * libcrypto included (-Wl,--wrap would see only our own objects). The
 * real one comes from dlsym(RTLD_NEXT), which itself may calloc before
 * it returns: those few bytes come from <boot>. ASan brings its own
 * allocator, so under ASan there is no interposer and the count test
 * skips. The lock functions OpenSSL's CRYPTO_THREAD_* locks end in are
 * counted the same way: the packet path takes no lock either.
 */
#ifndef ASAN
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static _Atomic unsigned long n_alloc;
static _Alignas(16) char boot[4096];
static size_t boot_used;
static int resolving;

static void *boot_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (boot_used + n > sizeof(boot))
		return NULL;
	p = boot + boot_used;
	boot_used += n;
	return p;              /* static storage: already zero */
}

static void resolve(void)
{
	if (resolving)
		return;
	resolving = 1;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	resolving = 0;
}

void *malloc(size_t n)
{
	if (!real_malloc)
		resolve();
	if (!real_malloc)
		return boot_alloc(n);
	atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
	return real_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	if (!real_calloc)
		resolve();
	if (!real_calloc)
		return m && n > sizeof(boot) / m ? NULL : boot_alloc(n * m);
	atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
	return real_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	if (!real_realloc)
		resolve();
	if ((char *)p >= boot && (char *)p < boot + sizeof(boot))
		return NULL;   /* never asked for by dlsym */
	atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
	return real_realloc(p, n);
}

static _Atomic unsigned long n_lock;

#define LOCK_WRAP(name, type) \
	int name(type *l) \
	{ \
		static int (*real)(type *); \
		if (!real) \
			real = (int (*)(type *))dlsym(RTLD_NEXT, #name); \
		atomic_fetch_add_explicit(&n_lock, 1, memory_order_relaxed); \
		return real(l); \
	}

LOCK_WRAP(pthread_mutex_lock, pthread_mutex_t)
LOCK_WRAP(pthread_rwlock_rdlock, pthread_rwlock_t)
LOCK_WRAP(pthread_rwlock_wrlock, pthread_rwlock_t)

void free(void *p)
{
	if ((char *)p >= boot && (char *)p < boot + sizeof(boot))
		return;
	if (!real_free)
		resolve();
	if (real_free)
		real_free(p);
}
#endif

/* --- helpers ------------------------------------------------------ */

#define ROOM   (1500 + 64)

static int hex(uint8_t *out, const char *s)
{
	size_t n = strlen(s) / 2, i;

	for (i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static const uint8_t master[SRTPX_KEYSALT_LEN] = {
	0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
	0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
	0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb,
	0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
};

/* An RTP packet: <cc> CSRCs, an extension of <xw> words when <x>,
 * <pl> bytes of payload. Returns its length. */
static uint32_t mkrtp(uint8_t *p, uint32_t ssrc, uint16_t seq,
		      unsigned cc, bool x, unsigned xw, unsigned pl)
{
	uint32_t o = 12, i;

	memset(p, 0, ROOM);
	p[0] = (uint8_t)(0x80 | (x ? 0x10 : 0) | cc);
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(seq * 7);
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	for (i = 0; i < cc; i++, o += 4)
		p[o + 3] = (uint8_t)(i + 1);
	if (x) {
		p[o] = 0xbe;
		p[o + 1] = 0xde;
		p[o + 3] = (uint8_t)xw;
		o += 4;
		for (i = 0; i < 4 * xw; i++)
			p[o++] = (uint8_t)(0xa0 + i);
	}
	for (i = 0; i < pl; i++)
		p[o++] = (uint8_t)(seq + i);
	return o;
}

/* An RTCP SR from <ssrc> with <extra> bytes of report blocks. */
static uint32_t mkrtcp(uint8_t *p, uint32_t ssrc, unsigned n,
		       unsigned extra)
{
	uint32_t len = 28 + extra, i;

	memset(p, 0, ROOM);
	p[0] = 0x80;
	p[1] = 200;
	p[3] = (uint8_t)(len / 4 - 1);
	p[4] = (uint8_t)(ssrc >> 24);
	p[5] = (uint8_t)(ssrc >> 16);
	p[6] = (uint8_t)(ssrc >> 8);
	p[7] = (uint8_t)ssrc;
	for (i = 8; i < len; i++)
		p[i] = (uint8_t)(n + i);
	return len;
}

static int ref_new(srtp_t *sp, enum srtpx_suite suite, bool inbound)
{
	srtp_policy_t pol;
	unsigned char key[SRTPX_KEYSALT_LEN];

	memset(&pol, 0, sizeof(pol));
	if (suite == SRTPX_AES_CM_128_HMAC_SHA1_32)
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
	else
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	memcpy(key, master, sizeof(key));
	pol.key = key;
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.window_size = 1024;
	return srtp_create(sp, &pol) == srtp_err_status_ok ? 0 : EINVAL;
}

static int ref_protect(srtp_t s, uint8_t *p, uint32_t *lenp, bool rtcp)
{
	int l = (int)*lenp;
	srtp_err_status_t st = rtcp ? srtp_protect_rtcp(s, p, &l) :
		srtp_protect(s, p, &l);

	*lenp = (uint32_t)l;
	return st == srtp_err_status_ok ? 0 : (int)st + 1000;
}

static int ref_unprotect(srtp_t s, uint8_t *p, uint32_t *lenp, bool rtcp)
{
	int l = (int)*lenp;
	srtp_err_status_t st = rtcp ? srtp_unprotect_rtcp(s, p, &l) :
		srtp_unprotect(s, p, &l);

	*lenp = (uint32_t)l;
	return st == srtp_err_status_ok ? 0 : (int)st + 1000;
}

/* --- RFC 3711 Appendix B ------------------------------------------ */

static uint8_t ks[0xff02 * 16];

static int test_b2_keystream(void)
{
	uint8_t key[16], salt[14], exp[16];
	int err = 0;

	TEST_ERR(hex(key, "2b7e151628aed2a6abf7158809cf4f3c"));
	TEST_ERR(hex(salt, "f0f1f2f3f4f5f6f7f8f9fafbfcfd"));
	TEST_ERR(srtpx_keystream(key, salt, 0, 0, ks, sizeof(ks)));
	TEST_ERR(hex(exp, "e03ead0935c95e80e166b16dd92b4eb4"));
	TEST_TRUE(!memcmp(ks, exp, 16));
	TEST_ERR(hex(exp, "d23513162b02d0f72a43a2fe4a5f97ab"));
	TEST_TRUE(!memcmp(ks + 16, exp, 16));
	TEST_ERR(hex(exp, "41e95b3bb0a2e8dd477901e4fca894c0"));
	TEST_TRUE(!memcmp(ks + 32, exp, 16));
	TEST_ERR(hex(exp, "ec8cdf7398607cb0f2d21675ea9ea1e4"));
	TEST_TRUE(!memcmp(ks + 0xfeff * 16, exp, 16));
	TEST_ERR(hex(exp, "362b7c3c6773516318a077d7fc5073ae"));
	TEST_TRUE(!memcmp(ks + 0xff00 * 16, exp, 16));
	TEST_ERR(hex(exp, "6a2cc3787889374fbeb4c81b17ba6c44"));
	TEST_TRUE(!memcmp(ks + 0xff01 * 16, exp, 16));
 out:
	return err;
}

static int test_b3_kdf(void)
{
	uint8_t out[20], exp[20];
	int err = 0;

	TEST_ERR(srtpx_kdf(master, master + 16, 0, out, 16));
	TEST_ERR(hex(exp, "c61e7a93744f39ee10734afe3ff7a087"));
	TEST_TRUE(!memcmp(out, exp, 16));
	TEST_ERR(srtpx_kdf(master, master + 16, 2, out, 14));
	TEST_ERR(hex(exp, "30cbbc08863d8c85d49db34a9ae1"));
	TEST_TRUE(!memcmp(out, exp, 14));
	TEST_ERR(srtpx_kdf(master, master + 16, 1, out, 20));
	TEST_ERR(hex(exp, "cebe321f6ff7716b6fd4ab49af256a156d38baa4"));
	TEST_TRUE(!memcmp(out, exp, 20));
 out:
	return err;
}

/* --- against libsrtp2 --------------------------------------------- */

static const uint32_t ssrcs[] = { 0x12345678, 0xdeadbeef, 0x00000001 };
#define NSSRC (sizeof(ssrcs) / sizeof(ssrcs[0]))

/*
 * Ours and libsrtp's outbound sessions protect the same packets, with
 * the sequence crossing 65535 -> 0 (ROC 1): same bytes. The other's
 * inbound session takes each back to the plain packet.
 */
static int cross_rtp(enum srtpx_suite suite, unsigned tag)
{
	struct srtpx *out = NULL, *in = NULL;
	srtp_t rout = NULL, rin = NULL;
	static uint8_t plain[ROOM], a[ROOM], b[ROOM];
	unsigned i, j;
	int err = 0;

	TEST_ERR(srtpx_new(&out, suite, master, false));
	TEST_ERR(srtpx_new(&in, suite, master, true));
	TEST_ERR(ref_new(&rout, suite, false));
	TEST_ERR(ref_new(&rin, suite, true));

	for (i = 0; i < 40; i++) {
		for (j = 0; j < NSSRC; j++) {
			uint16_t seq = (uint16_t)(65520 + i + 1000 * j);
			uint32_t pl, la, lb;

			/* header shapes: plain, CSRCs, extension, both */
			pl = mkrtp(plain, ssrcs[j], seq, i % 3 == 1 ? 2 : 0,
				   i % 4 == 2, 1 + i % 3, 160 + i % 17);
			memcpy(a, plain, pl);
			memcpy(b, plain, pl);
			la = lb = pl;
			TEST_ERR(srtpx_protect(out, a, &la, false));
			TEST_EQ(pl + tag, la);
			TEST_ERR(ref_protect(rout, b, &lb, false));
			TEST_EQ(lb, la);
			TEST_TRUE(!memcmp(a, b, la));

			TEST_ERR(ref_unprotect(rin, a, &la, false));
			TEST_EQ(pl, la);
			TEST_TRUE(!memcmp(a, plain, pl));
			TEST_ERR(srtpx_unprotect(in, b, &lb, false));
			TEST_EQ(pl, lb);
			TEST_TRUE(!memcmp(b, plain, pl));
		}
	}
 out:
	srtpx_free(out);
	srtpx_free(in);
	if (rout)
		srtp_dealloc(rout);
	if (rin)
		srtp_dealloc(rin);
	return err;
}

/* SRTCP: ours counts its index from 0, libsrtp from 1, so the bytes
 * differ; each unprotects the other's. */
static int cross_rtcp(enum srtpx_suite suite)
{
	struct srtpx *out = NULL, *in = NULL;
	srtp_t rout = NULL, rin = NULL;
	static uint8_t plain[ROOM], a[ROOM], b[ROOM];
	unsigned i, j;
	int err = 0;

	TEST_ERR(srtpx_new(&out, suite, master, false));
	TEST_ERR(srtpx_new(&in, suite, master, true));
	TEST_ERR(ref_new(&rout, suite, false));
	TEST_ERR(ref_new(&rin, suite, true));

	for (i = 0; i < 20; i++) {
		for (j = 0; j < NSSRC; j++) {
			uint32_t pl, la, lb;

			pl = mkrtcp(plain, ssrcs[j], i, 24 * (i % 3));
			memcpy(a, plain, pl);
			memcpy(b, plain, pl);
			la = lb = pl;
			TEST_ERR(srtpx_protect(out, a, &la, true));
			TEST_EQ(pl + 4 + 10, la);
			TEST_EQ(0x80000000u | i,
				(uint32_t)a[pl] << 24 | a[pl + 1] << 16 |
				a[pl + 2] << 8 | a[pl + 3]);
			TEST_ERR(ref_protect(rout, b, &lb, true));
			TEST_EQ(lb, la);

			TEST_ERR(ref_unprotect(rin, a, &la, true));
			TEST_EQ(pl, la);
			TEST_TRUE(!memcmp(a, plain, pl));
			TEST_ERR(srtpx_unprotect(in, b, &lb, true));
			TEST_EQ(pl, lb);
			TEST_TRUE(!memcmp(b, plain, pl));
		}
	}
 out:
	srtpx_free(out);
	srtpx_free(in);
	if (rout)
		srtp_dealloc(rout);
	if (rin)
		srtp_dealloc(rin);
	return err;
}

static int test_cross_libsrtp(void)
{
	int err = 0;

	TEST_ERR(cross_rtp(SRTPX_AES_CM_128_HMAC_SHA1_80, 10));
	TEST_ERR(cross_rtp(SRTPX_AES_CM_128_HMAC_SHA1_32, 4));
	TEST_ERR(cross_rtcp(SRTPX_AES_CM_128_HMAC_SHA1_80));
	TEST_ERR(cross_rtcp(SRTPX_AES_CM_128_HMAC_SHA1_32));
 out:
	return err;
}

/* --- replay window, reordering, tampering --------------------------- */

#define NPKT 140
static uint8_t pk[NPKT][ROOM];
static uint32_t pkl[NPKT];

/* libsrtp protects seq <seq0>..+NPKT-1 of <ssrc> into pk[]. */
static int ref_batch(srtp_t rout, uint32_t ssrc, uint16_t seq0)
{
	unsigned i;
	int err = 0;

	for (i = 0; i < NPKT; i++) {
		pkl[i] = mkrtp(pk[i], ssrc, (uint16_t)(seq0 + i), 0, false,
			       0, 160);
		TEST_ERR(ref_protect(rout, pk[i], &pkl[i], false));
	}
 out:
	return err;
}

static int unprot_copy(struct srtpx *in, unsigned i)
{
	static uint8_t b[ROOM];
	uint32_t l = pkl[i];

	memcpy(b, pk[i], l);
	return srtpx_unprotect(in, b, &l, false);
}

static int test_replay(void)
{
	static const unsigned order[] = { 0, 2, 1, 5, 3, 4, 10, 6, 9, 7, 8 };
	struct srtpx *in = NULL;
	srtp_t rout = NULL;
	unsigned i;
	int err = 0;

	TEST_ERR(srtpx_new(&in, SRTPX_AES_CM_128_HMAC_SHA1_80, master, true));
	TEST_ERR(ref_new(&rout, SRTPX_AES_CM_128_HMAC_SHA1_80, false));
	/* across the wrap, so the reordered ones straddle ROC 0 and 1 */
	TEST_ERR(ref_batch(rout, 0x11111111, 65530));

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		TEST_ERR(unprot_copy(in, order[i]));
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		TEST_EQ(EALREADY, unprot_copy(in, order[i]));

	/* a tampered packet fails and moves nothing: the real one passes */
	{
		static uint8_t b[ROOM];
		uint32_t l = pkl[12];

		memcpy(b, pk[12], l);
		b[30] ^= 0x04;
		TEST_EQ(EBADMSG, srtpx_unprotect(in, b, &l, false));
		memcpy(b, pk[12], l);
		b[l - 1] ^= 0x80;                /* the tag itself */
		TEST_EQ(EBADMSG, srtpx_unprotect(in, b, &l, false));
		TEST_ERR(unprot_copy(in, 12));
	}

	/* highest now 12; jump to 100: 37 (delta 63) is in, 36 is out */
	TEST_ERR(unprot_copy(in, 100));
	TEST_ERR(unprot_copy(in, 37));
	TEST_EQ(EALREADY, unprot_copy(in, 36));
	TEST_EQ(EALREADY, unprot_copy(in, 11));
	TEST_ERR(unprot_copy(in, 99));
	TEST_ERR(unprot_copy(in, 139));

	/* SRTCP: replay and tampering */
	{
		static uint8_t p[ROOM], q[ROOM];
		struct srtpx *out = NULL;
		uint32_t l, l2;

		TEST_ERR(srtpx_new(&out, SRTPX_AES_CM_128_HMAC_SHA1_80,
				   master, false));
		l = mkrtcp(p, 0x22222222, 1, 24);
		err = srtpx_protect(out, p, &l, true);
		srtpx_free(out);
		TEST_ERR(err);
		memcpy(q, p, l);
		l2 = l;
		q[9] ^= 1;
		TEST_EQ(EBADMSG, srtpx_unprotect(in, q, &l2, true));
		memcpy(q, p, l);
		l2 = l;
		TEST_ERR(srtpx_unprotect(in, q, &l2, true));
		memcpy(q, p, l);
		l2 = l;
		TEST_EQ(EALREADY, srtpx_unprotect(in, q, &l2, true));
	}
 out:
	srtpx_free(in);
	if (rout)
		srtp_dealloc(rout);
	return err;
}

/*
 * SRTPX_SSRC_MAX streams past their wrap (ROC 1); a forged packet of
 * yet another SSRC fails and must not push one of them out (it would
 * restart at ROC 0 and fail). Then one more real SSRC does push the
 * least recently used out, and every stream keeps working.
 */
static int test_ssrc_table(void)
{
	struct srtpx *in = NULL, *out = NULL;
	static uint8_t p[ROOM];
	uint32_t l;
	unsigned i, j;
	int err = 0;

	TEST_ERR(srtpx_new(&in, SRTPX_AES_CM_128_HMAC_SHA1_32, master, true));
	TEST_ERR(srtpx_new(&out, SRTPX_AES_CM_128_HMAC_SHA1_32, master,
			   false));
	for (i = 0; i < 20; i++) {
		for (j = 0; j < SRTPX_SSRC_MAX; j++) {
			l = mkrtp(p, 100 + j, (uint16_t)(65530 + i), 0, false,
				  0, 20);
			TEST_ERR(srtpx_protect(out, p, &l, false));
			TEST_ERR(srtpx_unprotect(in, p, &l, false));
		}
	}
	l = mkrtp(p, 999, 5, 0, false, 0, 20);
	l += 4;                              /* a tag of zeros */
	TEST_EQ(EBADMSG, srtpx_unprotect(in, p, &l, false));
	for (j = 0; j < SRTPX_SSRC_MAX; j++) {
		l = mkrtp(p, 100 + j, 30, 0, false, 0, 20);
		TEST_ERR(srtpx_protect(out, p, &l, false));
		TEST_ERR(srtpx_unprotect(in, p, &l, false));
	}
	/* a ninth real SSRC: SSRC 100 was used least recently */
	l = mkrtp(p, 999, 5, 0, false, 0, 20);
	TEST_ERR(srtpx_protect(out, p, &l, false));
	TEST_ERR(srtpx_unprotect(in, p, &l, false));
	for (j = 1; j < SRTPX_SSRC_MAX; j++) {
		l = mkrtp(p, 100 + j, 31, 0, false, 0, 20);
		TEST_ERR(srtpx_protect(out, p, &l, false));
		TEST_ERR(srtpx_unprotect(in, p, &l, false));
	}
 out:
	srtpx_free(in);
	srtpx_free(out);
	return err;
}

static int test_invalid(void)
{
	struct srtpx *in = NULL, *out = NULL;
	static uint8_t p[ROOM];
	uint32_t l;
	int err = 0;

	TEST_EQ(EINVAL, srtpx_new(&in, SRTPX_SUITE_NONE, master, true));
	TEST_ERR(srtpx_new(&in, SRTPX_AES_CM_128_HMAC_SHA1_80, master, true));
	TEST_ERR(srtpx_new(&out, SRTPX_AES_CM_128_HMAC_SHA1_80, master,
			   false));

	mkrtp(p, 1, 1, 0, false, 0, 0);
	l = 11;
	TEST_EQ(EINVAL, srtpx_protect(out, p, &l, false));
	l = 12 + 10 - 1;
	TEST_EQ(EINVAL, srtpx_unprotect(in, p, &l, false));
	l = 12;
	TEST_EQ(EINVAL, srtpx_unprotect(out, p, &l, false));  /* direction */
	TEST_EQ(EINVAL, srtpx_protect(in, p, &l, false));
	p[0] = 0x40;                                         /* version 1 */
	l = 40;
	TEST_EQ(EINVAL, srtpx_protect(out, p, &l, false));
	p[0] = 0x8f;                                 /* 15 CSRCs, 40 bytes */
	TEST_EQ(EINVAL, srtpx_protect(out, p, &l, false));
	p[0] = 0x90;                                 /* extension too long */
	p[12 + 3] = 20;
	TEST_EQ(EINVAL, srtpx_protect(out, p, &l, false));
	l = 12;                       /* header only: fine, empty payload */
	p[0] = 0x80;
	TEST_ERR(srtpx_protect(out, p, &l, false));
	TEST_ERR(srtpx_unprotect(in, p, &l, false));
	TEST_EQ(12, l);

	mkrtcp(p, 1, 1, 0);
	l = 7;
	TEST_EQ(EINVAL, srtpx_protect(out, p, &l, true));
	l = 8 + 4 + 10 - 1;
	TEST_EQ(EINVAL, srtpx_unprotect(in, p, &l, true));
 out:
	srtpx_free(in);
	srtpx_free(out);
	return err;
}

/* --- no allocation ------------------------------------------------ */

static int test_no_alloc(void)
{
#ifdef ASAN
	return TEST_SKIP;
#else
	struct srtpx *in = NULL, *out = NULL;
	static uint8_t p[ROOM];
	unsigned long before, locks;
	uint32_t l;
	unsigned i;
	int err = 0;

	/* valgrind replaces the executable's malloc() too: then nothing
	 * is counted, not even the sessions' own allocations, so skip */
	before = atomic_load(&n_alloc);
	TEST_ERR(srtpx_new(&in, SRTPX_AES_CM_128_HMAC_SHA1_80, master, true));
	TEST_ERR(srtpx_new(&out, SRTPX_AES_CM_128_HMAC_SHA1_80, master,
			   false));
	if (atomic_load(&n_alloc) == before) {
		err = TEST_SKIP;
		goto out;
	}
	for (i = 0; i < 100; i++) {               /* warm-up */
		l = mkrtp(p, 7, (uint16_t)i, 0, false, 0, 160);
		TEST_ERR(srtpx_protect(out, p, &l, false));
		TEST_ERR(srtpx_unprotect(in, p, &l, false));
	}
	before = atomic_load(&n_alloc);
	locks = atomic_load(&n_lock);
	for (i = 0; i < 10000; i++) {
		l = mkrtp(p, 7 + i % 3, (uint16_t)(100 + i), 0, false, 0, 160);
		TEST_ERR(srtpx_protect(out, p, &l, false));
		TEST_ERR(srtpx_unprotect(in, p, &l, false));
		if (i % 50 == 0) {
			l = mkrtcp(p, 7, i, 0);
			TEST_ERR(srtpx_protect(out, p, &l, true));
			TEST_ERR(srtpx_unprotect(in, p, &l, true));
		}
	}
	TEST_EQ(0, atomic_load(&n_alloc) - before);
	TEST_EQ(0, atomic_load(&n_lock) - locks);
	/* the lock count sees OpenSSL's locks at all: a session's
	 * implicit cipher fetch takes its store's lock */
	srtpx_free(out);
	out = NULL;
	TEST_ERR(srtpx_new(&out, SRTPX_AES_CM_128_HMAC_SHA1_80, master,
			   false));
	TEST_TRUE(atomic_load(&n_lock) != locks);
 out:
	srtpx_free(in);
	srtpx_free(out);
	return err;
#endif
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_b2_keystream),
	HARNESS_TEST(test_b3_kdf),
	HARNESS_TEST(test_cross_libsrtp),
	HARNESS_TEST(test_replay),
	HARNESS_TEST(test_ssrc_table),
	HARNESS_TEST(test_invalid),
	HARNESS_TEST(test_no_alloc),
};

int main(void)
{
	if (srtp_init() != srtp_err_status_ok)
		return 1;
	return harness_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]));
}
