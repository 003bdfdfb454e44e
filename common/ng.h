/* common/ng.h  NG control-protocol framing: "COOKIE SP bencoded-dict" */
#ifndef COMMON_NG_H
#define COMMON_NG_H

#include <stddef.h>

#define NG_COOKIE_MAX  64     /* longer cookies are refused */
#define NG_MSG_MAX     65535  /* one UDP datagram */

/*
 * Split datagram <buf>/<len> into cookie and body. The cookie is the
 * bytes before the first space: 1..NG_COOKIE_MAX printable, non-space
 * characters. Returns 0 with pointers into <buf>, or EINVAL.
 */
int ng_split(const char *buf, size_t len, const char **cookiep,
	     size_t *cookielenp, const char **bodyp, size_t *bodylenp);

/*
 * Write "COOKIE SP d6:result5:error12:error-reason<n>:<reason>e" into
 * <out>/<outsz>. Returns the length, or 0 if it does not fit.
 */
size_t ng_error_reply(char *out, size_t outsz, const char *cookie,
		      size_t cookielen, const char *reason);

#endif
