/* sbc/auth.c  Digest authentication of requests against subscribers */
#include <ctype.h>
#include <string.h>

#include <re.h>

#include "auth.h"
#include "digest.h"
#include "log.h"
#include "route.h"
#include "sipsrv.h"

#define AUTH_CHALLENGE_MAX 512

/*
 * Counters only: the nonces need no state (digest.c), so neither does
 * this module. One warning per failed login would let a scanner fill
 * the log; the rate limiter keeps a trace without that.
 */
static struct {
	uint64_t         ok;
	uint64_t         challenged;
	uint64_t         stale;
	uint64_t         forbidden;
	uint64_t         bad;
	struct log_limit ll;
	bool             ll_init;
} au;

/* What a walk over the credential headers looks for and finds. */
struct find {
	const char         *realm;
	struct digest_cred *cred;
	int                 err;        /* first decode error, 0 when none */
	bool                found;
};

/* Monotonic seconds: the nonces live in this process only. */
static uint64_t now_s(void)
{
	return clock_ms() / 1000;
}

static void log_refusal(const struct sip_msg *msg, const char *what,
			const char *user, const char *domain)
{
	char src[64];

	if (!au.ll_init) {
		log_limit_init(&au.ll, 10000, 20);
		au.ll_init = true;
	}
	re_snprintf(src, sizeof(src), "%J", &msg->src);
	log_limit(&au.ll, LOG_LVL_WARN, "auth", "%.*s from %s/%s refused: "
		  "%s (%s@%s) [%.*s]", (int)msg->met.l, msg->met.p, src,
		  sip_transp_name(msg->tp), what, user, domain,
		  (int)msg->callid.l, msg->callid.p);
}

static void reply(const struct sip_msg *msg, uint16_t scode,
		  const char *reason)
{
	(void)sipsrv_replyf(msg, scode, reason, NULL);
}

/*
 * 401 (REGISTER) or 407 with two challenges for <realm>, one nonce:
 * MD5 first, since phones and sipp answer the first one they know and
 * every one of them knows MD5; SHA-256 second for the clients that
 * prefer it (RFC 8760 section 2.4). Over WS and WSS the MD5 one only:
 * JsSIP (the usual browser stack) keeps the last challenge header of a
 * response and answers MD5 only, so a SHA-256 one after it breaks every
 * browser login.
 */
static void challenge(const struct sip_msg *msg, bool reg,
		      const char *realm, bool stale)
{
	char nonce[DIGEST_NONCE_LEN + 1];
	char md5[AUTH_CHALLENGE_MAX], sha[AUTH_CHALLENGE_MAX];
	const char *hname = reg ? "WWW-Authenticate" : "Proxy-Authenticate";
	int err;

	err = digest_nonce_make(nonce, realm, now_s());
	if (!err)
		err = digest_challenge(md5, sizeof(md5), DIGEST_ALG_MD5, realm,
				       nonce, stale);
	sha[0] = '\0';
	if (!err && msg->tp != SIP_TRANSP_WS && msg->tp != SIP_TRANSP_WSS)
		err = digest_challenge(sha, sizeof(sha), DIGEST_ALG_SHA256,
				       realm, nonce, stale);
	if (err) {
		log_err("auth", "cannot make a challenge for %s: %s", realm,
			strerror(err));
		reply(msg, 500, "Server Internal Error");
		return;
	}

	if (stale)
		++au.stale;
	else
		++au.challenged;
	(void)sipsrv_replyf(msg, reg ? 401 : 407, reg ? "Unauthorized" :
			    "Proxy Authentication Required",
			    "%s: %s\r\n%s%s%s%s", hname, md5,
			    sha[0] ? hname : "", sha[0] ? ": " : "", sha,
			    sha[0] ? "\r\n" : "");
}

static bool cred_h(const struct sip_hdr *hdr, const struct sip_msg *msg,
		   void *arg)
{
	struct find *f = arg;
	int err;

	(void)msg;

	err = digest_cred_decode(f->cred, hdr->val.p, hdr->val.l);
	if (err == EPROTONOSUPPORT)
		return false;            /* Basic etc.: not for us */
	if (err) {
		if (!f->err)
			f->err = err;
		return false;
	}
	if (strcasecmp(f->cred->realm, f->realm))
		return false;            /* another hop's credentials */
	f->found = true;
	return true;
}

/*
 * Does the digest-uri name the SBC itself: no user part, the address
 * the request came in on or the advertised one? sipp (and a few phones)
 * put "sip:<address of the server>" there whatever the Request-URI.
 */
static bool uri_is_us(const struct sip_msg *msg, const struct uri *d)
{
	struct sa a, adv;

	if (pl_isset(&d->user) || sa_set(&a, &d->host, d->port))
		return false;
	if (sa_cmp(&a, &msg->dst, SA_ADDR))
		return true;
	return !sipsrv_laddr(&adv, msg->tp, &msg->src) &&
		sa_cmp(&a, &adv, SA_ADDR);
}

/*
 * Is the digest-uri the Request-URI (RFC 2617 3.2.2.5)? Otherwise a
 * captured INVITE's credentials would place calls to any number until
 * the nonce goes stale. Compared as URIs (scheme and host without
 * case, user exactly, a missing port matching any), so a client that
 * spells the same URI differently still gets in. The SBC's own address
 * is accepted too (see uri_is_us()): such credentials bind no target,
 * and only the nonce's lifetime limits their replay.
 */
static bool uri_matches(const struct sip_msg *msg, const char *duri)
{
	struct uri a, b;
	struct pl d;

	pl_set_str(&d, duri);
	if (!pl_cmp(&msg->ruri, &d))
		return true;
	if (uri_decode(&a, &msg->ruri) || uri_decode(&b, &d))
		return false;
	if (uri_is_us(msg, &b))
		return true;
	if (pl_casecmp(&a.scheme, &b.scheme) || pl_cmp(&a.user, &b.user) ||
	    pl_casecmp(&a.host, &b.host))
		return false;
	return !a.port || !b.port || a.port == b.port;
}

/* Copy the To (REGISTER) or From host, lower case; false if too long. */
static bool domain_of(char *out, size_t sz, const struct pl *host)
{
	size_t i;

	if (!pl_isset(host) || host->l >= sz)
		return false;
	for (i = 0; i < host->l; i++)
		out[i] = (char)tolower((unsigned char)host->p[i]);
	out[i] = '\0';
	return true;
}

int auth_request(const struct sip_msg *msg, struct auth_user *u)
{
	static struct digest_cred cred;   /* one thread; 2.5 KiB */
	struct route_subscriber sub;
	char domain[AUTH_DOMAIN_MAX];
	struct find f;
	struct pl dpl, upl;
	const char *ha1;
	bool reg, ok;
	int err;

	if (!msg || !u)
		return EINVAL;

	reg = !pl_strcmp(&msg->met, "REGISTER");

	/* a domain we do not serve: the same 403 as a wrong password */
	if (!domain_of(domain, sizeof(domain),
		       reg ? &msg->to.uri.host : &msg->from.uri.host)) {
		++au.forbidden;
		reply(msg, 403, "Forbidden");
		return EACCES;
	}
	pl_set_str(&dpl, domain);
	if (!route_domain_served(&dpl)) {
		++au.forbidden;
		log_refusal(msg, "domain not served", "", domain);
		reply(msg, 403, "Forbidden");
		return EACCES;
	}

	memset(&f, 0, sizeof(f));
	f.realm = domain;
	f.cred = &cred;
	(void)sip_msg_hdr_apply(msg, true, reg ? SIP_HDR_AUTHORIZATION :
				SIP_HDR_PROXY_AUTHORIZATION, cred_h, &f);
	if (!f.found && f.err) {
		++au.bad;
		reply(msg, 400, f.err == ENOTSUP ?
		      "Unsupported Digest Algorithm or qop" :
		      "Malformed Credentials");
		return EACCES;
	}
	if (!f.found) {
		challenge(msg, reg, domain, false);
		return EACCES;
	}
	if (!uri_matches(msg, cred.uri)) {
		++au.bad;
		reply(msg, 400, "Digest URI Mismatch");
		return EACCES;
	}

	/*
	 * Unknown, disabled and wrong password end the same way, and only
	 * after the same work, so none can be told from another.
	 */
	pl_set_str(&upl, cred.username);
	err = strlen(cred.username) < AUTH_USER_MAX && upl.l ?
		route_subscriber(&sub, &upl, &dpl) : ENOENT;
	if (err && err != ENOENT && err != EINVAL) {
		log_err("auth", "subscriber %s@%s: %s", cred.username, domain,
			strerror(err));
		reply(msg, 500, "Server Internal Error");
		return EACCES;
	}
	if (err) {                         /* hash anyway, for the timing */
		memset(&sub, 0, sizeof(sub));
		memset(sub.ha1_md5, '0', sizeof(sub.ha1_md5) - 1);
		memset(sub.ha1_sha256, '0', sizeof(sub.ha1_sha256) - 1);
	}
	ha1 = cred.alg == DIGEST_ALG_SHA256 ? sub.ha1_sha256 : sub.ha1_md5;
	ok = digest_verify(&cred, ha1, msg->met.p, msg->met.l);
	if (err || !sub.enabled || !ok) {
		++au.forbidden;
		log_refusal(msg, err ? "unknown user" : !sub.enabled ?
			    "disabled" : "wrong password", cred.username,
			    domain);
		reply(msg, 403, "Forbidden");
		return EACCES;
	}

	/*
	 * The password is right. A nonce too old, or not ours (an earlier
	 * process made it), gets a new one with stale=true: the client
	 * retries without asking its user (RFC 2617 3.2.1).
	 */
	err = digest_nonce_check(cred.nonce, domain, now_s());
	if (err == ESTALE || err == EBADMSG) {
		challenge(msg, reg, domain, true);
		return EACCES;
	}
	if (err) {
		reply(msg, 500, "Server Internal Error");
		return EACCES;
	}

	memset(u, 0, sizeof(*u));
	str_ncpy(u->user, cred.username, sizeof(u->user));
	str_ncpy(u->domain, domain, sizeof(u->domain));
	str_ncpy(u->display_name, sub.display_name, sizeof(u->display_name));
	str_ncpy(u->caller_id, sub.caller_id, sizeof(u->caller_id));
	++au.ok;
	return 0;
}

int auth_debug(struct re_printf *pf, void *unused)
{
	(void)unused;

	return re_hprintf(pf, "auth: ok=%llu challenged=%llu stale=%llu "
			  "forbidden=%llu bad=%llu",
			  (unsigned long long)au.ok,
			  (unsigned long long)au.challenged,
			  (unsigned long long)au.stale,
			  (unsigned long long)au.forbidden,
			  (unsigned long long)au.bad);
}
