/* tools/dtlspeer.c  A browser-like WebRTC media peer for tests: ICE checks, DTLS client/server, SRTP */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <srtp2/srtp.h>

#include "stun.h"

/*
 * What a browser does on the wire, driven line by line from a test
 * script (tests/integration/media-dtls/expect.py):
 *
 *   start:  prints "ready <port> <sha-256 fingerprint>" (its own
 *           self-signed P-256 certificate, a UDP socket on 127.0.0.1)
 *   target <ip> <port>              connect the socket to mediad's leg
 *   stun <user> <pwd> [usecand] [badmi]
 *           Binding request as the controlling agent; prints
 *           "stun ok <mapped-ip> <mapped-port>" (MESSAGE-INTEGRITY and
 *           FINGERPRINT of the answer checked), "stun error <code>",
 *           "stun bad <why>" or "stun timeout"
 *   dtls client|server <mediad's sha-256 fingerprint> [sendnow]
 *           handshake (OpenSSL, DTLS 1.2, use_srtp); the certificate
 *           must match; prints "dtls ok <profile>" or "dtls fail <why>".
 *           sendnow: the instant the handshake is done, send one SRTP
 *           packet (PT 0, seq 1, ts 160, SSRC 0x5eed5eed, 160 bytes of
 *           0xd5), as a browser does with its first audio frame
 *   send <hex>   protect a plain RTP packet and send it
 *   recv <n> <ms>  read up to <n> datagrams for <ms>: "rtp <hex>" per
 *           SRTP packet that unprotects, "bad <len>" per one that does
 *           not, "other <first byte>" for the rest; then "done <n>"
 *   quit
 *
 * The DTLS side is written against OpenSSL directly (a datagram BIO on
 * the connected socket), not mediad's dtls.c, so the two implementations
 * check each other; STUN uses mediad's encoder, whose own tests are the
 * RFC 5769 vectors.
 */

static int fd = -1;
static SSL_CTX *ctx;
static SSL *ssl;
static EVP_PKEY *key;
static X509 *cert;
static uint8_t want_fp[32];
static srtp_t tx, rx;
static bool have_srtp;

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (s[0] && s[1] && n < max) {
		int a = hexval(s[0]), b = hexval(s[1]);

		if (a < 0 || b < 0)
			break;
		out[n++] = (uint8_t)(a << 4 | b);
		s += 2;
		if (*s == ':')
			++s;
	}
	return n;
}

static void puthex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int make_cert(void)
{
	X509_NAME *name;

	key = EVP_EC_gen("P-256");
	cert = X509_new();
	if (!key || !cert)
		return -1;
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 4711);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"dtlspeer", -1, -1,
				   0);
	X509_set_issuer_name(cert, name);
	X509_set_pubkey(cert, key);
	return X509_sign(cert, key, EVP_sha256()) ? 0 : -1;
}

/* mediad's certificate must be the one its SDP named. */
static int verify(int ok, X509_STORE_CTX *xs)
{
	X509 *x = X509_STORE_CTX_get_current_cert(xs);
	uint8_t md[32];
	unsigned n = 0;

	(void)ok;
	if (X509_STORE_CTX_get_error_depth(xs) != 0)
		return 1;
	if (!x || !X509_digest(x, EVP_sha256(), md, &n) || n != 32)
		return 0;
	return !memcmp(md, want_fp, 32);
}

static void cmd_target(const char *ip, int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		printf("target fail %s\n", strerror(errno));
	else
		printf("target ok\n");
}

static void cmd_stun(const char *user, const char *pwd, bool usecand,
		     bool badmi)
{
	uint8_t buf[1500], tid[12];
	struct stun_req r;
	struct stun_msg m;
	struct pollfd pfd = { fd, POLLIN, 0 };
	char ip[64];
	ssize_t n;
	size_t len;
	int tries;

	RAND_bytes(tid, sizeof(tid));
	memset(&r, 0, sizeof(r));
	r.tid = tid;
	r.user = user;
	r.prio = 1853824767;
	r.use_cand = usecand;
	r.controlling = true;
	r.tiebreak = 0x1122334455667788ull;
	r.key = pwd;
	r.klen = strlen(pwd);
	r.fingerprint = true;
	len = stun_build_request(buf, sizeof(buf), &r);
	if (badmi) {
		/* spoil MESSAGE-INTEGRITY, keep FINGERPRINT right: the
		 * answer must be 401, not a silent drop */
		uint32_t crc;

		buf[len - 8 - 5] ^= 0x55;
		crc = stun_crc32(buf, len - 8) ^ STUN_FP_XOR;
		buf[len - 4] = (uint8_t)(crc >> 24);
		buf[len - 3] = (uint8_t)(crc >> 16);
		buf[len - 2] = (uint8_t)(crc >> 8);
		buf[len - 1] = (uint8_t)crc;
	}
	if (send(fd, buf, len, 0) != (ssize_t)len) {
		printf("stun bad send\n");
		return;
	}
	for (tries = 0; tries < 10; tries++) {
		if (poll(&pfd, 1, 100) != 1)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0 || !stun_first_byte(buf[0]))
			continue;
		if (stun_parse(&m, buf, (size_t)n) ||
		    memcmp(m.tid, tid, 12)) {
			printf("stun bad parse\n");
			return;
		}
		if (stun_check_fp(&m, buf)) {
			printf("stun bad fingerprint\n");
			return;
		}
		if (m.type == STUN_BINDING_ERR) {
			printf("stun error %u\n", m.err_code);
			return;
		}
		if (m.type != STUN_BINDING_OK || !m.have_xaddr) {
			printf("stun bad type %04x\n", m.type);
			return;
		}
		if (stun_check_mi(&m, buf, pwd, strlen(pwd))) {
			printf("stun bad integrity\n");
			return;
		}
		inet_ntop(AF_INET, &((struct sockaddr_in *)&m.xaddr)->sin_addr,
			  ip, sizeof(ip));
		printf("stun ok %s %u\n", ip,
		       ntohs(((struct sockaddr_in *)&m.xaddr)->sin_port));
		return;
	}
	printf("stun timeout\n");
}

static int srtp_make(srtp_t *sp, const uint8_t *k, const uint8_t *salt,
		     bool _32, bool inbound)
{
	srtp_policy_t p;
	uint8_t ks[30];

	memcpy(ks, k, 16);
	memcpy(ks + 16, salt, 14);
	memset(&p, 0, sizeof(p));
	if (_32)
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
	else
		srtp_crypto_policy_set_rtp_default(&p.rtp);
	srtp_crypto_policy_set_rtcp_default(&p.rtcp);
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p.key = ks;
	p.window_size = 1024;
	return srtp_create(sp, &p) == srtp_err_status_ok ? 0 : -1;
}

static void send_first(void)
{
	uint8_t pkt[12 + 160 + 16] = {
		0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0,
		0x5e, 0xed, 0x5e, 0xed,
	};
	int len = 12 + 160;

	memset(pkt + 12, 0xd5, 160);
	if (srtp_protect(tx, pkt, &len) != srtp_err_status_ok ||
	    send(fd, pkt, (size_t)len, 0) != len)
		printf("send fail\n");
}

static void cmd_dtls(bool client, const char *fp, bool sendnow)
{
	const SRTP_PROTECTION_PROFILE *pp;
	uint8_t km[60];
	BIO *bio;
	int ret, i;

	if (unhex(fp, want_fp, sizeof(want_fp)) != 32) {
		printf("dtls fail bad fingerprint argument\n");
		return;
	}
	ssl = SSL_new(ctx);
	bio = BIO_new_dgram(fd, BIO_NOCLOSE);
	{
		/* the socket is connected: the BIO must know, or it
		 * sends to an unset peer */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (getpeername(fd, (struct sockaddr *)&ss, &sl)) {
			printf("dtls fail no target\n");
			return;
		}
		BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &ss);
	}
	SSL_set_bio(ssl, bio, bio);
	SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(ssl, 1172);
	if (client)
		SSL_set_connect_state(ssl);
	else
		SSL_set_accept_state(ssl);
	for (i = 0; i < 100; i++) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		struct timeval tv;
		int e, ms = 100;

		ret = SSL_do_handshake(ssl);
		if (ret == 1)
			break;
		e = SSL_get_error(ssl, ret);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			unsigned long el = ERR_get_error();

			printf("dtls fail %s\n", el ?
			       ERR_reason_error_string(el) : "handshake");
			ERR_clear_error();
			return;
		}
		if (DTLSv1_get_timeout(ssl, &tv) == 1)
			ms = (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
		if (poll(&pfd, 1, ms) == 0)
			DTLSv1_handle_timeout(ssl);
	}
	if (ret != 1) {
		printf("dtls fail timeout\n");
		return;
	}
	pp = SSL_get_selected_srtp_profile(ssl);
	if (!pp || SSL_export_keying_material(ssl, km, sizeof(km),
			"EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) != 1) {
		printf("dtls fail no srtp keys\n");
		return;
	}
	/* client key, server key, client salt, server salt */
	if (srtp_make(&tx, client ? km : km + 16, client ? km + 32 : km + 46,
		      pp->id == SRTP_AES128_CM_SHA1_32, false) ||
	    srtp_make(&rx, client ? km + 16 : km, client ? km + 46 : km + 32,
		      pp->id == SRTP_AES128_CM_SHA1_32, true)) {
		printf("dtls fail srtp_create\n");
		return;
	}
	have_srtp = true;
	if (sendnow)
		send_first();
	printf("dtls ok %s\n", pp->name);
}

static void cmd_send(const char *hex)
{
	uint8_t pkt[1600];
	int len = (int)unhex(hex, pkt, 1400);

	if (!have_srtp || len < 12 ||
	    srtp_protect(tx, pkt, &len) != srtp_err_status_ok) {
		printf("send fail\n");
		return;
	}
	if (send(fd, pkt, (size_t)len, 0) != len)
		printf("send fail\n");
}

static void cmd_recv(int want, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	uint8_t pkt[2048];
	int n = 0;

	while (n < want && poll(&pfd, 1, ms) == 1) {
		ssize_t r = recv(fd, pkt, sizeof(pkt), 0);
		int len = (int)r;

		if (r <= 0)
			break;
		if (pkt[0] < 128 || pkt[0] > 191) {
			printf("other %u\n", pkt[0]);
			continue;
		}
		++n;
		if (!have_srtp) {
			printf("bad %d\n", len);
			continue;
		}
		/* RTCP (PT 200..204 with the marker bit's position) */
		if (pkt[1] >= 200 && pkt[1] <= 204 ?
		    srtp_unprotect_rtcp(rx, pkt, &len) != srtp_err_status_ok :
		    srtp_unprotect(rx, pkt, &len) != srtp_err_status_ok) {
			printf("bad %d\n", (int)r);
			continue;
		}
		printf("rtp ");
		puthex(pkt, (size_t)len);
		printf("\n");
	}
	printf("done %d\n", n);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char line[8192];
	uint8_t md[32];
	unsigned n = 0, i;

	(void)argc;
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (srtp_init() != srtp_err_status_ok || make_cert())
		return 1;
	ctx = SSL_CTX_new(DTLS_method());
	if (!ctx || SSL_CTX_use_certificate(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AES128_CM_SHA1_80:"
					"SRTP_AES128_CM_SHA1_32"))
		return 1;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
			   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify);
	SSL_CTX_set_read_ahead(ctx, 1);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl))
		return 1;
	X509_digest(cert, EVP_sha256(), md, &n);
	printf("ready %u ", ntohs(sin.sin_port));
	for (i = 0; i < n; i++)
		printf(i ? ":%02X" : "%02X", md[i]);
	printf("\n");

	while (fgets(line, sizeof(line), stdin)) {
		char a[512] = "", b[512] = "", c[64] = "", d[64] = "";
		int k = sscanf(line, "%*s %511s %511s %63s %63s", a, b, c, d);

		if (!strncmp(line, "target ", 7) && k >= 2)
			cmd_target(a, atoi(b));
		else if (!strncmp(line, "stun ", 5) && k >= 2)
			cmd_stun(a, b, !strcmp(c, "usecand") ||
				 !strcmp(d, "usecand"), !strcmp(c, "badmi") ||
				 !strcmp(d, "badmi"));
		else if (!strncmp(line, "dtls ", 5) && k >= 2)
			cmd_dtls(!strcmp(a, "client"), b,
				 !strcmp(c, "sendnow"));
		else if (!strncmp(line, "send ", 5) && k >= 1)
			cmd_send(a);
		else if (!strncmp(line, "recv ", 5) && k >= 2)
			cmd_recv(atoi(a), atoi(b));
		else if (!strncmp(line, "quit", 4))
			break;
		else
			printf("unknown command\n");
	}
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (have_srtp) {
		srtp_dealloc(tx);
		srtp_dealloc(rx);
	}
	SSL_CTX_free(ctx);
	X509_free(cert);
	EVP_PKEY_free(key);
	close(fd);
	return 0;
}
