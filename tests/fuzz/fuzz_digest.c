/* tests/fuzz/fuzz_digest.c  digest credentials and nonces: reject or hold */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "fuzz.h"

#define INPUT_MAX 4096

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct digest_cred cred, again;
static char str[INPUT_MAX + 1];
static char chal[2 * DIGEST_FIELD_SIZE + 4 * DIGEST_URI_SIZE];

static bool lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return s[n] == '\0';
}

/* Every field ends inside its array and holds no NUL before its end. */
static void fields_ok(const struct digest_cred *c)
{
	CHECK(memchr(c->username, 0, sizeof(c->username)));
	CHECK(memchr(c->realm, 0, sizeof(c->realm)));
	CHECK(memchr(c->nonce, 0, sizeof(c->nonce)));
	CHECK(memchr(c->uri, 0, sizeof(c->uri)));
	CHECK(memchr(c->cnonce, 0, sizeof(c->cnonce)));
	CHECK(memchr(c->opaque, 0, sizeof(c->opaque)));
	CHECK(c->nonce[0] && c->uri[0]);
	CHECK(c->alg == DIGEST_ALG_MD5 || c->alg == DIGEST_ALG_SHA256);
	CHECK(lower_hex(c->response, c->alg == DIGEST_ALG_MD5 ? 32 : 64));
	if (c->qop) {
		CHECK(strlen(c->nc) == 8 && c->cnonce[0]);
	}
	else {
		CHECK(!c->nc[0] && !c->cnonce[0]);
	}
}

static void decoded(void)
{
	char ha1[65], resp[DIGEST_RESP_SIZE], n[DIGEST_NONCE_LEN + 1];
	int err;

	fields_ok(&cred);

	/* the response we compute has the shape we accept */
	if (cred.alg == DIGEST_ALG_MD5)
		CHECK(!digest_ha1_md5(ha1, cred.username, cred.realm, "pw"));
	else
		CHECK(!digest_ha1_sha256(ha1, cred.username, cred.realm,
					 "pw"));
	CHECK(!digest_response(resp, sizeof(resp), &cred, ha1, "REGISTER",
			       8));
	CHECK(lower_hex(resp, strlen(resp)));
	CHECK(digest_verify(&cred, ha1, "REGISTER", 8) ==
	      !strcmp(resp, cred.response));

	/* a nonce from the wire is never fresh unless it is ours */
	err = digest_nonce_check(cred.nonce, cred.realm, 1000);
	CHECK(err == EBADMSG || err == ESTALE || err == 0);
	if (!digest_nonce_make(n, cred.realm, 1000)) {
		CHECK(!digest_nonce_check(n, cred.realm, 1000));
		CHECK(digest_nonce_check(n, cred.realm, 1000 +
					 DIGEST_NONCE_TTL + 1) == ESTALE);
	}

	/* the realm we echo in a challenge decodes to itself */
	err = digest_challenge(chal, sizeof(chal), cred.alg, cred.realm,
			       cred.nonce, true);
	CHECK(!err);
	strcat(chal, ", username=\"u\", uri=\"x\", nc=00000001, "
	       "cnonce=\"c\", response=\"");
	strcat(chal, cred.response);
	strcat(chal, "\"");
	CHECK(!digest_cred_decode(&again, chal, strlen(chal)));
	CHECK(!strcmp(again.realm, cred.realm));
	CHECK(!strcmp(again.nonce, cred.nonce));
	CHECK(again.alg == cred.alg && again.qop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int err;

	if (size > INPUT_MAX)
		return 0;

	/* exactly <size> bytes: ASan catches a read past them */
	err = digest_cred_decode(&cred, (const char *)data, size);
	if (err) {
		CHECK(err == EBADMSG || err == ENOTSUP ||
		      err == EPROTONOSUPPORT);
	}
	else {
		decoded();
	}

	memcpy(str, data, size);
	str[size] = '\0';
	err = digest_nonce_check(str, "example.com", 1000);
	CHECK(err == EBADMSG || err == ESTALE || err == 0);
	return 0;
}
