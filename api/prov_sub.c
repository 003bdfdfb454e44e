/* api/prov_sub.c  /api/v1/domains and /api/v1/subscribers */
#include <string.h>
#include <strings.h>

#include <re.h>
#include <sqlite3.h>

#include "apireq.h"
#include "config.h"
#include "digest.h"
#include "field.h"
#include "log.h"
#include "prov.h"
#include "sbc.h"

#define DOMAIN_MAX   253
#define USER_MAX     64
#define PASSWORD_MAX 128
#define DISPLAY_MAX  127      /* route_subscriber()'s buffers, less NUL */
#define CALLERID_MAX 63

/* ---- domains ------------------------------------------------------- */

static const struct field dom_fields[] = {
	{ "name", FIELD_STR, FIELD_REQUIRED, DOMAIN_MAX, 0, 0, field_host,
	  NULL },
};

static const struct prov_col dom_cols[] = {
	{ "name", PROV_TEXT },
};

static const char *dom_list(struct apireq *req)
{
	struct prov_page pg;
	const char *why = prov_page(req, &pg, NULL);

	if (why)
		return why;
	return prov_list(req, &pg, "SELECT count(*) FROM domains",
			 "SELECT name FROM domains ORDER BY name "
			 "LIMIT ? OFFSET ?", NULL, 0, dom_cols, 1, NULL, NULL);
}

/*
 * Domain names are case-insensitive (RFC 3261 section 19.1.4); they are
 * stored in lower case, which is also the realm of the subscribers'
 * HA1s.
 */
static const char *dom_create(struct apireq *req, const struct jnode *body)
{
	struct field_val v[1];
	char name[DOMAIN_MAX + 1], conflict[DOMAIN_MAX + 32];
	const char *why;

	why = prov_fields(req, dom_fields, 1, body, v);
	if (why)
		return why;
	(void)prov_lower(name, sizeof(name), v[0].s);

	re_snprintf(conflict, sizeof(conflict), "domain '%s' already exists",
		    name);
	why = prov_run(req, "INSERT INTO domains (name) VALUES (?)",
		       (struct prov_arg[]){ PROV_S(name) }, 1, conflict,
		       NULL);
	if (why)
		return why;

	log_info("api", "domain %s added", name);
	prov_location(req, "domains", name);
	return prov_one(req, MHD_HTTP_CREATED,
			"SELECT name FROM domains WHERE name = ?",
			(struct prov_arg[]){ PROV_S(name) }, 1, dom_cols, 1,
			NULL, NULL, "domain vanished");
}

static const char *dom_del(struct apireq *req, const char *key)
{
	const struct prov_arg arg[] = { PROV_S(key) };
	const char *why;
	int64_t nsub;
	int n;

	why = prov_int(req, "SELECT count(*) FROM subscribers WHERE "
		       "domain = ?", arg, 1, &nsub);
	if (why)
		return why;
	if (nsub)
		return apireq_fail(req, MHD_HTTP_CONFLICT, "domain '%s' still "
				   "has %lld subscriber(s): delete them "
				   "first", key, (long long)nsub);

	why = prov_run(req, "DELETE FROM domains WHERE name = ?", arg, 1,
		       NULL, &n);
	if (why)
		return why;
	if (!n)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no domain '%s'",
				   key);
	log_info("api", "domain %s deleted", key);
	req->status = MHD_HTTP_NO_CONTENT;
	return NULL;
}

const struct prov_res prov_domains = {
	.name = "domains",
	.allow_coll = "GET, POST",
	.allow_item = "DELETE",
	.list = dom_list,
	.create = dom_create,
	.del = dom_del,
};

/* ---- subscribers --------------------------------------------------- */

enum { S_USER = 0, S_DOMAIN, S_PASSWORD, S_DISPLAY, S_CALLER, S_ENABLED,
       S_N };

/* username and domain are the key: required by POST, optional in PUT */
static const struct field sub_fields[S_N] = {
	[S_USER]     = { "username", FIELD_STR, 0, USER_MAX, 0, 0,
			 field_user, NULL },
	[S_DOMAIN]   = { "domain", FIELD_STR, 0, DOMAIN_MAX, 0, 0,
			 field_host, NULL },
	[S_PASSWORD] = { "password", FIELD_STR, 0, PASSWORD_MAX, 0, 0, NULL,
			 NULL },
	[S_DISPLAY]  = { "display_name", FIELD_STR, 0, DISPLAY_MAX, 0, 0,
			 NULL, NULL },
	[S_CALLER]   = { "caller_id", FIELD_STR, 0, CALLERID_MAX, 0, 0,
			 field_user, NULL },
	[S_ENABLED]  = { "enabled", FIELD_BOOL, 0, 0, 0, 0, NULL, NULL },
};

static const struct prov_col sub_cols[] = {
	{ "username",     PROV_TEXT },
	{ "domain",       PROV_TEXT },
	{ "display_name", PROV_TEXT },
	{ "caller_id",    PROV_TEXT },
	{ "enabled",      PROV_BOOL },
};

#define SUB_SELECT "SELECT username, domain, display_name, caller_id, " \
	"enabled FROM subscribers"

/* "user@domain" into its parts (the last '@' splits); false if not. */
static bool sub_key(const char *key, char *user, size_t usz, char *domain,
		    size_t dsz)
{
	const char *at = strrchr(key, '@');
	size_t ulen;

	if (!at || at == key || !at[1])
		return false;
	ulen = (size_t)(at - key);
	if (ulen >= usz || prov_lower(domain, dsz, at + 1))
		return false;
	memcpy(user, key, ulen);
	user[ulen] = '\0';
	return true;
}

static bool conf_domain(const char *name)
{
	const char *p = sbc_config()->domains;
	size_t len = strlen(name);

	while (*p) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n == len && !strncasecmp(p, name, len))
			return true;
		p += n;
	}
	return false;
}

/* 422 unless <domain> is served (sbc.conf's domains or the table). */
static const char *sub_served(struct apireq *req, const char *domain)
{
	const char *why;
	int64_t n;

	if (conf_domain(domain))
		return NULL;
	why = prov_int(req, "SELECT count(*) FROM domains WHERE name = ?",
		       (struct prov_arg[]){ PROV_S(domain) }, 1, &n);
	if (why || n)
		return why;
	return apireq_fail(req, MHD_HTTP_UNPROCESSABLE_CONTENT, "field "
			   "'domain': '%s' is not a domain this SBC serves "
			   "(add it with POST /api/v1/domains)", domain);
}

/* The HA1s of <user>:<domain>:<password>; the password goes no further. */
static const char *sub_ha1(struct apireq *req, const char *user,
			   const char *domain, const char *password,
			   char md5[33], char sha256[65])
{
	if (digest_ha1_md5(md5, user, domain, password) ||
	    digest_ha1_sha256(sha256, user, domain, password))
		return apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "cannot compute the digest HA1");
	return NULL;
}

static const char *sub_list(struct apireq *req)
{
	static const char *const extra[] = { "domain", NULL };
	struct prov_page pg;
	const char *why = prov_page(req, &pg, extra);
	const char *dom = prov_query(req, "domain");

	if (why)
		return why;
	if (dom)
		return prov_list(req, &pg, "SELECT count(*) FROM subscribers "
				 "WHERE domain = ?", SUB_SELECT " WHERE "
				 "domain = ? ORDER BY username LIMIT ? "
				 "OFFSET ?", (struct prov_arg[]){ PROV_S(dom) },
				 1, sub_cols, NCOLS(sub_cols), NULL, NULL);
	return prov_list(req, &pg, "SELECT count(*) FROM subscribers",
			 SUB_SELECT " ORDER BY domain, username LIMIT ? "
			 "OFFSET ?", NULL, 0, sub_cols, NCOLS(sub_cols), NULL,
			 NULL);
}

static const char *sub_reply(struct apireq *req, uint16_t status,
			     const char *user, const char *domain)
{
	char missing[USER_MAX + DOMAIN_MAX + 32];

	re_snprintf(missing, sizeof(missing), "no subscriber '%s@%s'", user,
		    domain);
	return prov_one(req, status, SUB_SELECT " WHERE username = ? AND "
			"domain = ?", (struct prov_arg[]){ PROV_S(user),
			PROV_S(domain) }, 2, sub_cols, NCOLS(sub_cols), NULL,
			NULL, missing);
}

static const char *sub_create(struct apireq *req, const struct jnode *body)
{
	struct field_val v[S_N];
	char domain[DOMAIN_MAX + 1], md5[33], sha[65];
	char conflict[USER_MAX + DOMAIN_MAX + 40];
	const char *why;

	why = prov_fields(req, sub_fields, S_N, body, v);
	if (!why)
		why = prov_require(req, sub_fields, v, S_USER);
	if (!why)
		why = prov_require(req, sub_fields, v, S_DOMAIN);
	if (!why)
		why = prov_require(req, sub_fields, v, S_PASSWORD);
	if (why)
		return why;

	(void)prov_lower(domain, sizeof(domain), v[S_DOMAIN].s);
	why = sub_served(req, domain);
	if (!why)
		why = sub_ha1(req, v[S_USER].s, domain, v[S_PASSWORD].s, md5,
			      sha);
	if (why)
		return why;

	re_snprintf(conflict, sizeof(conflict), "subscriber '%s@%s' already "
		    "exists", v[S_USER].s, domain);
	why = prov_run(req, "INSERT INTO subscribers (username, domain, "
		       "ha1_md5, ha1_sha256, display_name, caller_id, "
		       "enabled) VALUES (?, ?, ?, ?, ?, ?, ?)",
		       (struct prov_arg[]){
				PROV_S(v[S_USER].s), PROV_S(domain),
				PROV_S(md5), PROV_S(sha),
				PROV_S(v[S_DISPLAY].present ?
				       v[S_DISPLAY].s : ""),
				PROV_S(v[S_CALLER].present ?
				       v[S_CALLER].s : ""),
				PROV_I(v[S_ENABLED].present ?
				       v[S_ENABLED].i : 1) }, 7,
		       conflict, NULL);
	if (why)
		return why;

	log_info("api", "subscriber %s@%s added", v[S_USER].s, domain);
	re_snprintf(conflict, sizeof(conflict), "%s@%s", v[S_USER].s,
		    domain);
	prov_location(req, "subscribers", conflict);
	return sub_reply(req, MHD_HTTP_CREATED, v[S_USER].s, domain);
}

static const char *sub_get(struct apireq *req, const char *key)
{
	char user[USER_MAX + 1], domain[DOMAIN_MAX + 1];

	if (!sub_key(key, user, sizeof(user), domain, sizeof(domain)))
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no subscriber "
				   "'%s'", key);
	return sub_reply(req, MHD_HTTP_OK, user, domain);
}

/*
 * PUT replaces the object; only the password may be left out, and then
 * the stored HA1s stay.
 */
static const char *sub_put(struct apireq *req, const char *key,
			   const struct jnode *body)
{
	struct field_val v[S_N];
	char user[USER_MAX + 1], domain[DOMAIN_MAX + 1], md5[33], sha[65];
	const char *why;
	bool pw;
	int n;

	if (!sub_key(key, user, sizeof(user), domain, sizeof(domain)))
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no subscriber "
				   "'%s'", key);

	why = prov_fields(req, sub_fields, S_N, body, v);
	if (!why)
		why = prov_same_key(req, sub_fields, v, S_USER, user, false);
	if (!why)
		why = prov_same_key(req, sub_fields, v, S_DOMAIN, domain,
				    true);
	if (!why && v[S_PASSWORD].present)
		why = prov_require(req, sub_fields, v, S_PASSWORD);
	if (why)
		return why;

	pw = v[S_PASSWORD].present;
	if (pw) {
		why = sub_ha1(req, user, domain, v[S_PASSWORD].s, md5, sha);
		if (why)
			return why;
	}

	why = prov_run(req, "UPDATE subscribers SET "
		       "ha1_md5 = coalesce(?3, ha1_md5), "
		       "ha1_sha256 = coalesce(?4, ha1_sha256), "
		       "display_name = ?5, caller_id = ?6, enabled = ?7 "
		       "WHERE username = ?1 AND domain = ?2",
		       (struct prov_arg[]){
				PROV_S(user), PROV_S(domain),
				{ .s = md5, .null = !pw },
				{ .s = sha, .null = !pw },
				PROV_S(v[S_DISPLAY].present ?
				       v[S_DISPLAY].s : ""),
				PROV_S(v[S_CALLER].present ?
				       v[S_CALLER].s : ""),
				PROV_I(v[S_ENABLED].present ?
				       v[S_ENABLED].i : 1) }, 7,
		       NULL, &n);
	if (why)
		return why;
	if (!n)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no subscriber "
				   "'%s@%s'", user, domain);

	log_info("api", "subscriber %s@%s replaced%s", user, domain,
		 pw ? " (new password)" : "");
	return sub_reply(req, MHD_HTTP_OK, user, domain);
}

static const char *sub_del(struct apireq *req, const char *key)
{
	char user[USER_MAX + 1], domain[DOMAIN_MAX + 1];
	const char *why;
	int n = 0;

	if (!sub_key(key, user, sizeof(user), domain, sizeof(domain)))
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no subscriber "
				   "'%s'", key);

	why = prov_run(req, "DELETE FROM subscribers WHERE username = ? AND "
		       "domain = ?", (struct prov_arg[]){ PROV_S(user),
		       PROV_S(domain) }, 2, NULL, &n);
	if (why)
		return why;
	if (!n)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no subscriber "
				   "'%s@%s'", user, domain);
	log_info("api", "subscriber %s@%s deleted", user, domain);
	req->status = MHD_HTTP_NO_CONTENT;
	return NULL;
}

const struct prov_res prov_subscribers = {
	.name = "subscribers",
	.allow_coll = "GET, POST",
	.allow_item = "GET, PUT, DELETE",
	.list = sub_list,
	.create = sub_create,
	.get = sub_get,
	.put = sub_put,
	.del = sub_del,
};
