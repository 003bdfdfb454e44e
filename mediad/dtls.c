/* mediad/dtls.c  DTLS-SRTP (RFC 5763/5764): certificate, handshakes, SRTP keys */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dtls.h"

#define MTU          1200        /* what browsers use on the wire */
#define CERT_DAYS    365
#define SRTP_PROFILES "SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32"
#define EXPORT_LABEL "EXTRACTOR-dtls_srtp"

struct dtls {
	SSL_CTX   *ctx;
	EVP_PKEY  *key;
	X509      *cert;
	BIO_METHOD *wmeth;           /* our datagram write BIO */
	char       fp[DTLS_FP_STR_MAX];
	struct dtls_conn *list[2];   /* LIST_HS: associations in handshake;
	                                LIST_HELD: holding records until
	                                released */
};

enum { LIST_HS = 0, LIST_HELD = 1 };

struct dtls_conn {
	struct dtls *d;
	SSL        *ssl;
	BIO        *rbio;            /* memory: one datagram at a time */
	dtls_send_h *sendh;
	dtls_state_h *stateh;
	void       *arg;
	enum dtls_state state;
	bool        client;
	bool        have_fp;         /* <fp> known: checked in the handshake */
	bool        have_cert;       /* the peer's digests below are set */
	bool        verified;
	struct dtls_fp fp;
	uint8_t     sha1[20], sha256[32];
	uint64_t    deadline_ms;
	struct dtls_conn *next[2], *prev[2];   /* on d->list[LIST_*] */
	char        why[64];

	/* our last flight, held until the keys are in effect (dtls.h) */
	bool        holding;         /* SSL_do_handshake() is running */
	bool        rel_set;         /* on LIST_HELD, waiting for rel_seq */
	uint8_t     nheld;
	uint16_t    held_len[DTLS_HOLD_MAX];
	uint8_t    *held;            /* DTLS_HOLD_MAX * MTU, on first use */
	uint32_t    rel_worker, rel_seq;
	uint64_t    held_ms;         /* when the first record was held */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void list_add(struct dtls_conn *c, int l)
{
	struct dtls_conn **head = &c->d->list[l];

	c->prev[l] = NULL;
	c->next[l] = *head;
	if (*head)
		(*head)->prev[l] = c;
	*head = c;
}

static void list_del(struct dtls_conn *c, int l)
{
	if (c->prev[l])
		c->prev[l]->next[l] = c->next[l];
	else if (c->d->list[l] == c)
		c->d->list[l] = c->next[l];
	if (c->next[l])
		c->next[l]->prev[l] = c->prev[l];
	c->next[l] = c->prev[l] = NULL;
}

static void rel_unlink(struct dtls_conn *c)
{
	if (!c->rel_set)
		return;
	list_del(c, LIST_HELD);
	c->rel_set = false;
}

/* Send what is held, in order, and stop holding. */
static void flush_held(struct dtls_conn *c)
{
	uint8_t i;

	rel_unlink(c);
	for (i = 0; i < c->nheld; i++)
		c->sendh(c->held + (size_t)i * MTU, c->held_len[i], c->arg);
	c->nheld = 0;
}

/* The write side of an association: each write is one datagram, sent
 * at once or held (see dtls.h). */
static int wbio_write(BIO *b, const char *p, int len)
{
	struct dtls_conn *c = BIO_get_data(b);

	if (!c || len <= 0)
		return len;
	if ((c->holding || c->nheld) && len <= MTU) {
		if (!c->held)
			c->held = malloc((size_t)DTLS_HOLD_MAX * MTU);
		if (c->held && c->nheld < DTLS_HOLD_MAX) {
			if (!c->nheld)
				c->held_ms = mono_ms();
			memcpy(c->held + (size_t)c->nheld * MTU, p,
			       (size_t)len);
			c->held_len[c->nheld++] = (uint16_t)len;
			return len;
		}
	}
	flush_held(c);
	c->sendh((const uint8_t *)p, (size_t)len, c->arg);
	return len;
}

static long wbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {

	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return MTU - 28;
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
		return 28;                /* IPv4 + UDP */
	default:
		return 0;
	}
}

static int wbio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int wbio_destroy(BIO *b)
{
	BIO_set_data(b, NULL);
	return 1;
}

/* The peer's certificate: digests kept, checked when the fingerprint
 * is known. Replaces OpenSSL's chain verification (self-signed). */
static int verify_cb(X509_STORE_CTX *xs, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs,
			SSL_get_ex_data_X509_STORE_CTX_idx());
	struct dtls_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *x = X509_STORE_CTX_get0_cert(xs);
	unsigned n1 = 0, n2 = 0;

	(void)arg;
	if (!c || !x)
		return 0;
	if (!X509_digest(x, EVP_sha1(), c->sha1, &n1) || n1 != 20 ||
	    !X509_digest(x, EVP_sha256(), c->sha256, &n2) || n2 != 32) {
		snprintf(c->why, sizeof(c->why), "cannot hash certificate");
		return 0;
	}
	c->have_cert = true;
	if (!c->have_fp)
		return 1;                  /* decided at the answer */
	if ((c->fp.hash == DTLS_HASH_SHA256 &&
	     !memcmp(c->fp.v, c->sha256, 32)) ||
	    (c->fp.hash == DTLS_HASH_SHA1 && !memcmp(c->fp.v, c->sha1, 20))) {
		c->verified = true;
		return 1;
	}
	snprintf(c->why, sizeof(c->why), "fingerprint mismatch");
	X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
	return 0;
}

static int make_cert(struct dtls *d)
{
	X509_NAME *name;
	uint8_t md[32], serial[8];
	unsigned n = 0, i;
	ASN1_INTEGER *sn;
	BIGNUM *bn;

	d->key = EVP_EC_gen("P-256");
	d->cert = X509_new();
	if (!d->key || !d->cert)
		return ENOMEM;
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		return EIO;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	BN_free(bn);
	if (!sn)
		return ENOMEM;
	X509_set_serialNumber(d->cert, sn);
	ASN1_INTEGER_free(sn);
	X509_set_version(d->cert, 2);
	X509_gmtime_adj(X509_getm_notBefore(d->cert), -86400);
	X509_gmtime_adj(X509_getm_notAfter(d->cert), 86400L * CERT_DAYS);
	name = X509_get_subject_name(d->cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"mediad", -1, -1, 0);
	X509_set_issuer_name(d->cert, name);
	X509_set_pubkey(d->cert, d->key);
	if (!X509_sign(d->cert, d->key, EVP_sha256()))
		return EIO;
	if (!X509_digest(d->cert, EVP_sha256(), md, &n) || n != 32)
		return EIO;
	for (i = 0; i < n; i++)
		snprintf(d->fp + 3 * i, sizeof(d->fp) - 3 * i, "%02X%s",
			 md[i], i + 1 < n ? ":" : "");
	return 0;
}

int dtls_init(struct dtls **dp)
{
	struct dtls *d;
	int err;

	d = calloc(1, sizeof(*d));
	if (!d)
		return ENOMEM;
	err = make_cert(d);
	if (err)
		goto out;
	err = EIO;
	d->ctx = SSL_CTX_new(DTLS_method());
	if (!d->ctx)
		goto out;
	SSL_CTX_set_min_proto_version(d->ctx, DTLS1_2_VERSION);
	if (SSL_CTX_use_certificate(d->ctx, d->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(d->ctx, d->key) != 1 ||
	    SSL_CTX_check_private_key(d->ctx) != 1)
		goto out;
	/* 0 is success for this one */
	if (SSL_CTX_set_tlsext_use_srtp(d->ctx, SRTP_PROFILES))
		goto out;
	SSL_CTX_set_verify(d->ctx, SSL_VERIFY_PEER |
			   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(d->ctx, verify_cb, NULL);
	SSL_CTX_set_read_ahead(d->ctx, 1);
	SSL_CTX_set_session_cache_mode(d->ctx, SSL_SESS_CACHE_OFF);

	d->wmeth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
				"mediad-dtls");
	if (!d->wmeth)
		goto out;
	BIO_meth_set_write(d->wmeth, wbio_write);
	BIO_meth_set_ctrl(d->wmeth, wbio_ctrl);
	BIO_meth_set_create(d->wmeth, wbio_create);
	BIO_meth_set_destroy(d->wmeth, wbio_destroy);
	err = 0;
 out:
	ERR_clear_error();
	if (err)
		dtls_fini(d);
	else
		*dp = d;
	return err;
}

void dtls_fini(struct dtls *d)
{
	if (!d)
		return;
	/* not expected: owners free their associations first */
	while (d->list[LIST_HS])
		dtls_conn_free(d->list[LIST_HS]);
	while (d->list[LIST_HELD])
		dtls_conn_free(d->list[LIST_HELD]);
	SSL_CTX_free(d->ctx);
	X509_free(d->cert);
	EVP_PKEY_free(d->key);
	BIO_meth_free(d->wmeth);
	free(d);
}

const char *dtls_fingerprint(const struct dtls *d)
{
	return d->fp;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int dtls_fp_parse(struct dtls_fp *fp, const char *hash, const char *value)
{
	const char *p = value;
	unsigned n = 0, want;

	memset(fp, 0, sizeof(*fp));
	if (!hash || !value)
		return EINVAL;
	if (!strcasecmp(hash, "sha-256")) {
		fp->hash = DTLS_HASH_SHA256;
		want = 32;
	}
	else if (!strcasecmp(hash, "sha-1")) {
		fp->hash = DTLS_HASH_SHA1;
		want = 20;
	}
	else
		return ENOTSUP;
	for (;;) {
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);

		if (hi < 0 || lo < 0 || n == want)
			return EINVAL;
		fp->v[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (!*p)
			break;
		if (*p != ':')
			return EINVAL;
		++p;
	}
	if (n != want)
		return EINVAL;
	fp->len = (uint8_t)n;
	return 0;
}

bool dtls_fp_eq(const struct dtls_fp *a, const struct dtls_fp *b)
{
	return a->hash == b->hash && a->len == b->len &&
		!memcmp(a->v, b->v, a->len);
}


static void set_state(struct dtls_conn *c, enum dtls_state st)
{
	if (c->state == st)
		return;
	if (c->state == DTLS_HANDSHAKE)
		list_del(c, LIST_HS);
	c->state = st;
	if (c->stateh)
		c->stateh(c, st, c->arg);
}

/* Drive the handshake after an input or a timeout. */
static void step(struct dtls_conn *c)
{
	int ret, e;

	c->holding = true;
	ret = SSL_do_handshake(c->ssl);
	c->holding = false;
	if (ret == 1) {
		if (c->have_fp && !c->verified) {
			/* no certificate was checked: cannot happen with
			 * FAIL_IF_NO_PEER_CERT, refuse anyway */
			snprintf(c->why, sizeof(c->why), "no peer certificate");
			flush_held(c);
			set_state(c, DTLS_FAILED);
			return;
		}
		/* the state handler installs the keys and says when our
		 * last flight may go (dtls_conn_release_at) */
		set_state(c, DTLS_UP);
		if (!c->rel_set)
			flush_held(c);
		return;
	}
	flush_held(c);
	e = SSL_get_error(c->ssl, ret);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return;
	if (!c->why[0]) {
		unsigned long el = ERR_peek_last_error();

		snprintf(c->why, sizeof(c->why), "%s", el ?
			 ERR_reason_error_string(el) ?
			 ERR_reason_error_string(el) : "handshake error" :
			 "handshake error");
	}
	ERR_clear_error();
	set_state(c, DTLS_FAILED);
}

int dtls_conn_new(struct dtls_conn **cp, struct dtls *d, bool client,
		  const struct dtls_fp *fp, dtls_send_h *sendh,
		  dtls_state_h *stateh, void *arg)
{
	struct dtls_conn *c;
	BIO *wbio;

	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->d = d;
	c->client = client;
	c->sendh = sendh;
	c->stateh = stateh;
	c->arg = arg;
	if (fp && fp->hash) {
		c->fp = *fp;
		c->have_fp = true;
	}
	c->ssl = SSL_new(d->ctx);
	c->rbio = BIO_new(BIO_s_mem());
	wbio = BIO_new(d->wmeth);
	if (!c->ssl || !c->rbio || !wbio) {
		BIO_free(c->rbio);
		BIO_free(wbio);
		SSL_free(c->ssl);
		free(c);
		ERR_clear_error();
		return ENOMEM;
	}
	BIO_set_mem_eof_return(c->rbio, -1);
	BIO_set_data(wbio, c);
	SSL_set_bio(c->ssl, c->rbio, wbio);     /* SSL owns both now */
	SSL_set_app_data(c->ssl, c);
	SSL_set_options(c->ssl, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(c->ssl, MTU - 28);
	DTLS_set_link_mtu(c->ssl, MTU);
	if (client)
		SSL_set_connect_state(c->ssl);
	else
		SSL_set_accept_state(c->ssl);

	c->state = DTLS_HANDSHAKE;
	c->deadline_ms = mono_ms() + DTLS_TIMEOUT_MS;
	list_add(c, LIST_HS);
	*cp = c;
	if (client)
		step(c);                    /* the ClientHello */
	return 0;
}

void dtls_conn_free(struct dtls_conn *c)
{
	if (!c)
		return;
	if (c->state == DTLS_HANDSHAKE)
		list_del(c, LIST_HS);
	rel_unlink(c);
	c->stateh = NULL;
	c->nheld = 0;                       /* the leg is going: not sent */
	SSL_free(c->ssl);                   /* and its BIOs */
	ERR_clear_error();
	free(c->held);
	free(c);
}

enum dtls_state dtls_conn_input(struct dtls_conn *c, const uint8_t *p,
				size_t len)
{
	uint8_t sink[2048];
	int ret, e;

	if (c->state == DTLS_FAILED || len > 0x7fffffff)
		return c->state;
	/* drop whatever an earlier datagram left unread */
	(void)BIO_reset(c->rbio);
	if (BIO_write(c->rbio, p, (int)len) != (int)len) {
		ERR_clear_error();
		return c->state;
	}
	if (c->state == DTLS_HANDSHAKE) {
		step(c);
		return c->state;
	}
	/*
	 * After the handshake: a retransmitted Finished (OpenSSL answers
	 * it with ours again), an alert, or application data nobody wants
	 * (RFC 5764 has none; data channels are not done here).
	 */
	for (;;) {
		ret = SSL_read(c->ssl, sink, sizeof(sink));
		if (ret > 0)
			continue;
		e = SSL_get_error(c->ssl, ret);
		if (e == SSL_ERROR_ZERO_RETURN) {
			snprintf(c->why, sizeof(c->why), "close_notify");
			set_state(c, DTLS_CLOSED);
		}
		else if (e == SSL_ERROR_SSL) {
			snprintf(c->why, sizeof(c->why), "fatal alert or "
				 "error after the handshake");
			set_state(c, DTLS_FAILED);
		}
		break;
	}
	ERR_clear_error();
	return c->state;
}

enum dtls_state dtls_conn_state(const struct dtls_conn *c)
{
	return c->state;
}

bool dtls_conn_client(const struct dtls_conn *c)
{
	return c->client;
}

const char *dtls_conn_why(const struct dtls_conn *c)
{
	return c->why;
}

int dtls_conn_check_fp(struct dtls_conn *c, const struct dtls_fp *fp)
{
	bool ok;

	if (!c->have_cert) {
		c->fp = *fp;
		c->have_fp = true;
		return ENOENT;
	}
	ok = (fp->hash == DTLS_HASH_SHA256 && !memcmp(fp->v, c->sha256, 32))
		|| (fp->hash == DTLS_HASH_SHA1 && !memcmp(fp->v, c->sha1, 20));
	c->fp = *fp;
	c->have_fp = true;
	if (ok) {
		c->verified = true;
		return 0;
	}
	snprintf(c->why, sizeof(c->why), "fingerprint mismatch");
	c->verified = false;
	if (c->state == DTLS_UP) {
		/* no public call sends a bad_certificate alert after the
		 * fact: close_notify is the closest, the association is
		 * dead either way */
		(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	set_state(c, DTLS_FAILED);
	return EACCES;
}

bool dtls_conn_verified(const struct dtls_conn *c)
{
	return c->state == DTLS_UP && c->verified;
}

int dtls_conn_keys(struct dtls_conn *c, struct sdes_key *in,
		   struct sdes_key *out)
{
	const SRTP_PROTECTION_PROFILE *pp;
	uint8_t km[60];
	const uint8_t *ck = km, *sk = km + 16, *cs = km + 32, *ss = km + 46;
	enum sdes_suite suite;

	if (c->state != DTLS_UP)
		return EAGAIN;
	pp = SSL_get_selected_srtp_profile(c->ssl);
	if (!pp)
		return EIO;
	if (pp->id == SRTP_AES128_CM_SHA1_80)
		suite = SDES_AES_CM_128_HMAC_SHA1_80;
	else if (pp->id == SRTP_AES128_CM_SHA1_32)
		suite = SDES_AES_CM_128_HMAC_SHA1_32;
	else
		return EIO;
	/* client key, server key, client salt, server salt */
	if (SSL_export_keying_material(c->ssl, km, sizeof(km), EXPORT_LABEL,
				       strlen(EXPORT_LABEL), NULL, 0, 0) != 1) {
		ERR_clear_error();
		return EIO;
	}
	memset(in, 0, sizeof(*in));
	memset(out, 0, sizeof(*out));
	in->suite = out->suite = suite;
	in->tag = out->tag = 1;
	memcpy(in->keysalt, c->client ? sk : ck, 16);
	memcpy(in->keysalt + 16, c->client ? ss : cs, 14);
	memcpy(out->keysalt, c->client ? ck : sk, 16);
	memcpy(out->keysalt + 16, c->client ? cs : ss, 14);
	OPENSSL_cleanse(km, sizeof(km));
	return 0;
}

unsigned dtls_conn_held(const struct dtls_conn *c)
{
	return c->nheld;
}

void dtls_conn_release_at(struct dtls_conn *c, uint32_t worker,
			  uint32_t seq)
{
	if (!c->nheld)
		return;
	c->rel_worker = worker;
	c->rel_seq = seq;
	if (c->rel_set)
		return;
	c->rel_set = true;
	list_add(c, LIST_HELD);
}

unsigned dtls_release(struct dtls *d, dtls_applied_h *appliedh, void *arg)
{
	struct dtls_conn *c, *next;
	uint64_t now = mono_ms();
	unsigned n = 0;

	for (c = d->list[LIST_HELD]; c; c = next) {
		next = c->next[LIST_HELD];
		if ((int32_t)(appliedh(c->rel_worker, arg) - c->rel_seq) < 0 &&
		    now - c->held_ms < DTLS_HOLD_MS)
			continue;
		flush_held(c);
		++n;
	}
	return n;
}

int dtls_tick(struct dtls *d)
{
	uint64_t now = mono_ms();
	struct dtls_conn *c, *next;
	int best = -1;

	for (c = d->list[LIST_HS]; c; c = next) {
		struct timeval tv;
		int ms;

		next = c->next[LIST_HS];
		if (now >= c->deadline_ms) {
			snprintf(c->why, sizeof(c->why), "handshake timeout");
			set_state(c, DTLS_FAILED);
			continue;
		}
		if (DTLSv1_get_timeout(c->ssl, &tv) == 1 &&
		    tv.tv_sec == 0 && tv.tv_usec == 0) {
			if (DTLSv1_handle_timeout(c->ssl) < 0) {
				snprintf(c->why, sizeof(c->why),
					 "retransmissions exhausted");
				ERR_clear_error();
				set_state(c, DTLS_FAILED);
				continue;
			}
		}
		if (DTLSv1_get_timeout(c->ssl, &tv) == 1)
			ms = (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000) + 1;
		else
			ms = (int)(c->deadline_ms - now);
		if (best < 0 || ms < best)
			best = ms;
	}
	/* held records go by DTLS_HOLD_MS at the latest */
	for (c = d->list[LIST_HELD]; c; c = c->next[LIST_HELD]) {
		uint64_t age = now - c->held_ms;
		int ms = age >= DTLS_HOLD_MS ? 0 :
			(int)(DTLS_HOLD_MS - age) + 1;

		if (best < 0 || ms < best)
			best = ms;
	}
	return best;
}
