/* common/ng.c  NG control-protocol framing: "COOKIE SP bencoded-dict" */
#include <errno.h>
#include <string.h>

#include "bencode.h"
#include "ng.h"

/*
 * rtpengine's framing: the cookie runs up to the first space and the
 * body is everything after it. The body itself is not looked at here
 * (bencode_decode() does that) but it must not be empty.
 */
int ng_split(const char *buf, size_t len, const char **cookiep,
	     size_t *cookielenp, const char **bodyp, size_t *bodylenp)
{
	size_t i;

	if (!buf || !len || len > NG_MSG_MAX)
		return EINVAL;

	for (i = 0; i < len && i <= NG_COOKIE_MAX; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == ' ')
			break;
		if (c < 0x21 || c > 0x7e)
			return EINVAL;
	}
	if (i == 0 || i > NG_COOKIE_MAX || i == len || buf[i] != ' ')
		return EINVAL;
	if (i + 1 == len)
		return EINVAL;          /* no body */

	if (cookiep)
		*cookiep = buf;
	if (cookielenp)
		*cookielenp = i;
	if (bodyp)
		*bodyp = buf + i + 1;
	if (bodylenp)
		*bodylenp = len - i - 1;
	return 0;
}

/*
 * The reply echoes the request's cookie byte for byte. A NULL <reason>
 * becomes "error". The output is NUL-terminated when a byte is left.
 */
size_t ng_error_reply(char *out, size_t outsz, const char *cookie,
		      size_t cookielen, const char *reason)
{
	struct benc b;
	size_t blen;

	if (!out || !cookie || !cookielen || cookielen > NG_COOKIE_MAX)
		return 0;
	if (cookielen + 1 > outsz)
		return 0;

	memcpy(out, cookie, cookielen);
	out[cookielen] = ' ';

	benc_init(&b, out + cookielen + 1, outsz - cookielen - 1);
	benc_dict(&b);
	benc_kstr(&b, "result", "error");
	benc_kstr(&b, "error-reason", reason ? reason : "error");
	benc_end(&b);
	if (benc_finish(&b, &blen)) {
		out[0] = '\0';
		return 0;
	}
	return cookielen + 1 + blen;
}
