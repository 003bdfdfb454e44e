/* sbc/auth.h  Digest authentication of requests against subscribers */
#ifndef SBC_AUTH_H
#define SBC_AUTH_H

#include <stdbool.h>
#include <stdint.h>

struct re_printf;
struct sip_msg;

#define AUTH_USER_MAX   64
#define AUTH_DOMAIN_MAX 128
#define AUTH_NAME_MAX   128

/* The subscriber a request was authenticated as. */
struct auth_user {
	char user[AUTH_USER_MAX];
	char domain[AUTH_DOMAIN_MAX];         /* lower case */
	char display_name[AUTH_NAME_MAX];
	char caller_id[AUTH_USER_MAX];        /* "" when not set */
};

/*
 * Digest-check request <msg> against the subscribers table (RFC 3261
 * MD5 and RFC 8760 SHA-256, realm = the served domain). REGISTER uses
 * Authorization and 401; every other method Proxy-Authorization and
 * 407. The domain is the To host for REGISTER and the From host else.
 *
 * Returns 0 when the request is authenticated (*u filled, nothing sent).
 * Otherwise a reply has already been sent and the request is done:
 * 401/407 with a fresh challenge (none given, or stale=true), 403 (bad
 * password, unknown user, disabled subscriber, domain not served: one
 * identical answer), 400 (malformed credentials); the return is then
 * EACCES. Nothing blocks: one indexed SQLite read.
 */
int  auth_request(const struct sip_msg *msg, struct auth_user *u);

/* Counters: authenticated, challenged, stale, forbidden, malformed. */
int  auth_debug(struct re_printf *pf, void *unused);

#endif
