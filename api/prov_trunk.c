/* api/prov_trunk.c  /api/v1/trunks */
#include <string.h>

#include <re.h>
#include <sqlite3.h>

#include "apireq.h"
#include "field.h"
#include "jdec.h"
#include "log.h"
#include "prov.h"
#include "trunk.h"

#define NAME_MAX_   63
#define HOST_MAX    253
#define CRED_MAX    127       /* route_trunk's buffers, less NUL */
#define CIDR_TXT    49        /* "ffff:...:255.255.255.255/128" */
#define CIDRS_MAX   64
#define CODEC_MAX   32
#define CODECS_MAX  16

enum {
	T_NAME = 0, T_HOST, T_PORT, T_TRANSPORT, T_REGISTER, T_USERNAME,
	T_PASSWORD, T_REALM, T_CIDRS, T_MAXCALLS, T_MAXCPS, T_PRIORITY,
	T_WEIGHT, T_CODECS, T_MEDIA, T_ENABLED, T_STATUS, T_N
};

static const char *const transports[] = { "udp", "tcp", "tls", NULL };
static const char *const medias[] = { "rtp", "srtp-sdes", NULL };

/* name is the key: required by POST, optional in PUT */
static const struct field trunk_fields[T_N] = {
	[T_NAME]      = { "name", FIELD_STR, 0, NAME_MAX_, 0, 0, field_name,
			  NULL },
	[T_HOST]      = { "host", FIELD_STR, FIELD_REQUIRED, HOST_MAX, 0, 0,
			  field_host, NULL },
	[T_PORT]      = { "port", FIELD_INT, 0, 0, 1, 65535, NULL, NULL },
	[T_TRANSPORT] = { "transport", FIELD_STR, 0, 3, 0, 0, NULL,
			  transports },
	[T_REGISTER]  = { "register", FIELD_BOOL, 0, 0, 0, 0, NULL, NULL },
	[T_USERNAME]  = { "username", FIELD_STR, 0, CRED_MAX, 0, 0, NULL,
			  NULL },
	[T_PASSWORD]  = { "password", FIELD_STR, 0, CRED_MAX, 0, 0, NULL,
			  NULL },
	[T_REALM]     = { "realm", FIELD_STR, 0, CRED_MAX, 0, 0, NULL, NULL },
	[T_CIDRS]     = { "inbound_cidrs", FIELD_LIST, FIELD_UNIQUE,
			  CIDR_TXT, 0, CIDRS_MAX, field_cidr, NULL },
	[T_MAXCALLS]  = { "max_calls", FIELD_INT, 0, 0, 0, 1000000, NULL,
			  NULL },
	[T_MAXCPS]    = { "max_cps", FIELD_INT, 0, 0, 0, 100000, NULL,
			  NULL },
	[T_PRIORITY]  = { "priority", FIELD_INT, 0, 0, 0, 65535, NULL,
			  NULL },
	[T_WEIGHT]    = { "weight", FIELD_INT, 0, 0, 0, 65535, NULL, NULL },
	[T_CODECS]    = { "codecs", FIELD_LIST, FIELD_UNIQUE, CODEC_MAX, 0,
			  CODECS_MAX, field_name, NULL },
	[T_MEDIA]     = { "media", FIELD_STR, 0, 9, 0, 0, NULL, medias },
	[T_ENABLED]   = { "enabled", FIELD_BOOL, 0, 0, 0, 0, NULL, NULL },
	[T_STATUS]    = { "status", FIELD_STR, FIELD_READONLY, 0, 0, 0, NULL,
			  NULL },
};

/* the password is write-only: never selected */
static const struct prov_col trunk_cols[] = {
	{ "name",          PROV_TEXT },
	{ "host",          PROV_TEXT },
	{ "port",          PROV_INT  },
	{ "transport",     PROV_TEXT },
	{ "register",      PROV_BOOL },
	{ "username",      PROV_TEXT },
	{ "realm",         PROV_TEXT },
	{ "inbound_cidrs", PROV_JSON },
	{ "max_calls",     PROV_INT  },
	{ "max_cps",       PROV_INT  },
	{ "priority",      PROV_INT  },
	{ "weight",        PROV_INT  },
	{ "codecs",        PROV_JSON },
	{ "media",         PROV_TEXT },
	{ "enabled",       PROV_BOOL },
};

#define TRUNK_SELECT "SELECT name, host, port, transport, register, " \
	"username, realm, inbound_cidrs, max_calls, max_cps, priority, " \
	"weight, codecs, media, enabled FROM trunks"

/* The read-only "status" member, from the trunk module's live state. */
static int status_h(struct mbuf *mb, sqlite3_stmt *st, void *arg)
{
	struct trunk_status ts;
	const char *name = (const char *)sqlite3_column_text(st, 0);

	(void)arg;

	memset(&ts, 0, sizeof(ts));
	if (!name || trunk_status(name, &ts))
		memset(&ts, 0, sizeof(ts));   /* not loaded (yet): all off */
	return mbuf_printf(mb, ", \"status\": {\"reachable\": %s, "
			   "\"registered\": %s, \"active_calls\": %u}",
			   ts.reachable ? "true" : "false",
			   ts.registered ? "true" : "false",
			   ts.active_calls);
}

static void reload(void)
{
	int err = trunk_reload();

	if (err)
		log_warn("api", "trunk_reload: %s", strerror(err));
}

static const char *trunk_reply(struct apireq *req, uint16_t status,
			       const char *name)
{
	char missing[NAME_MAX_ + 16];

	re_snprintf(missing, sizeof(missing), "no trunk '%s'", name);
	return prov_one(req, status, TRUNK_SELECT " WHERE name = ?",
			(struct prov_arg[]){ PROV_S(name) }, 1, trunk_cols,
			NCOLS(trunk_cols), status_h, NULL, missing);
}

static const char *trunk_list(struct apireq *req)
{
	struct prov_page pg;
	const char *why = prov_page(req, &pg, NULL);

	if (why)
		return why;
	return prov_list(req, &pg, "SELECT count(*) FROM trunks",
			 TRUNK_SELECT " ORDER BY name LIMIT ? OFFSET ?", NULL,
			 0, trunk_cols, NCOLS(trunk_cols), status_h, NULL);
}

static const char *trunk_get(struct apireq *req, const char *key)
{
	return trunk_reply(req, MHD_HTTP_OK, key);
}

/*
 * What a POST and a PUT both check and store: the lists as JSON text
 * (CIDRs in canonical form) into <cidrs> and <codecs>, and the bound
 * values in column order (name first) into <a>. <has_pw>: a password
 * is stored already (PUT without one keeps it).
 */
static const char *trunk_values(struct apireq *req,
				const struct field_val *v, const char *name,
				bool has_pw, struct mbuf *cidrs,
				struct mbuf *codecs, struct prov_arg a[16])
{
	const char *transport = v[T_TRANSPORT].present ?
		v[T_TRANSPORT].s : "udp";
	bool reg = v[T_REGISTER].present && v[T_REGISTER].i;
	bool pw = v[T_PASSWORD].present ? v[T_PASSWORD].len > 0 : has_pw;
	int err;

	if (reg && (!v[T_USERNAME].present || !v[T_USERNAME].len || !pw))
		return apireq_fail(req, MHD_HTTP_UNPROCESSABLE_CONTENT,
				   "field 'register': registering needs "
				   "'username' and 'password'");

	err = prov_strings(cidrs, v[T_CIDRS].list, field_cidr_canon);
	err |= mbuf_write_u8(cidrs, 0);
	err |= prov_strings(codecs, v[T_CODECS].list, NULL);
	err |= mbuf_write_u8(codecs, 0);
	if (err)
		return apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "out of memory");

	a[0] = (struct prov_arg)PROV_S(name);
	a[1] = (struct prov_arg)PROV_S(v[T_HOST].s);
	a[2] = (struct prov_arg)PROV_I(v[T_PORT].present ? v[T_PORT].i :
				       !strcmp(transport, "tls") ? 5061 : 5060);
	a[3] = (struct prov_arg)PROV_S(transport);
	a[4] = (struct prov_arg)PROV_I(reg);
	a[5] = (struct prov_arg)PROV_S(v[T_USERNAME].present ?
				       v[T_USERNAME].s : "");
	/* absent: NULL, which the PUT's coalesce() turns into the old one */
	a[6] = v[T_PASSWORD].present ? (struct prov_arg)PROV_S(
		v[T_PASSWORD].s) : (struct prov_arg)PROV_NULL;
	a[7] = (struct prov_arg)PROV_S(v[T_REALM].present ? v[T_REALM].s :
				       "");
	a[8] = (struct prov_arg)PROV_S((const char *)cidrs->buf);
	a[9] = (struct prov_arg)PROV_I(v[T_MAXCALLS].i);
	a[10] = (struct prov_arg)PROV_I(v[T_MAXCPS].i);
	a[11] = (struct prov_arg)PROV_I(v[T_PRIORITY].i);
	a[12] = (struct prov_arg)PROV_I(v[T_WEIGHT].present ?
					v[T_WEIGHT].i : 1);
	a[13] = (struct prov_arg)PROV_S((const char *)codecs->buf);
	a[14] = (struct prov_arg)PROV_S(v[T_MEDIA].present ? v[T_MEDIA].s :
					"rtp");
	a[15] = (struct prov_arg)PROV_I(v[T_ENABLED].present ?
					v[T_ENABLED].i : 1);
	return NULL;
}

static const char *trunk_create(struct apireq *req, const struct jnode *body)
{
	struct field_val v[T_N];
	struct prov_arg a[16];
	struct mbuf *cidrs = mbuf_alloc(256), *codecs = mbuf_alloc(128);
	char conflict[NAME_MAX_ + 32];
	const char *why;

	if (!cidrs || !codecs) {
		why = apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory");
		goto out;
	}

	why = prov_fields(req, trunk_fields, T_N, body, v);
	if (!why)
		why = prov_require(req, trunk_fields, v, T_NAME);
	if (!why)
		why = trunk_values(req, v, v[T_NAME].s, false, cidrs, codecs,
				   a);
	if (why)
		goto out;

	/* an empty password is stored as '' (NOT NULL column) */
	if (a[6].null)
		a[6] = (struct prov_arg)PROV_S("");

	re_snprintf(conflict, sizeof(conflict), "trunk '%s' already exists",
		    v[T_NAME].s);
	why = prov_run(req, "INSERT INTO trunks (name, host, port, "
		       "transport, register, username, password, realm, "
		       "inbound_cidrs, max_calls, max_cps, priority, weight, "
		       "codecs, media, enabled) VALUES (?, ?, ?, ?, ?, ?, ?, "
		       "?, ?, ?, ?, ?, ?, ?, ?, ?)", a, 16, conflict, NULL);
	if (why)
		goto out;

	log_info("api", "trunk %s added (%s:%lld)", v[T_NAME].s, a[1].s,
		 (long long)a[2].i);
	reload();
	prov_location(req, "trunks", v[T_NAME].s);
	why = trunk_reply(req, MHD_HTTP_CREATED, v[T_NAME].s);
 out:
	mem_deref(cidrs);
	mem_deref(codecs);
	return why;
}

/* PUT replaces the object; the password may be left out to keep it. */
static const char *trunk_put(struct apireq *req, const char *key,
			     const struct jnode *body)
{
	struct field_val v[T_N];
	struct prov_arg a[16];
	struct mbuf *cidrs = mbuf_alloc(256), *codecs = mbuf_alloc(128);
	const struct prov_arg karg[] = { PROV_S(key) };
	const char *why;
	int64_t exists = 0, has_pw = 0;
	int n = 0;

	if (!cidrs || !codecs) {
		why = apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory");
		goto out;
	}

	why = prov_int(req, "SELECT count(*) FROM trunks WHERE name = ?",
		       karg, 1, &exists);
	if (!why && !exists)
		why = apireq_fail(req, MHD_HTTP_NOT_FOUND, "no trunk '%s'",
				  key);
	if (!why)
		why = prov_fields(req, trunk_fields, T_N, body, v);
	if (!why)
		why = prov_same_key(req, trunk_fields, v, T_NAME, key, false);
	if (!why)
		why = prov_int(req, "SELECT count(*) FROM trunks WHERE "
			       "name = ? AND password <> ''", karg, 1,
			       &has_pw);
	if (!why)
		why = trunk_values(req, v, key, has_pw != 0, cidrs, codecs,
				   a);
	if (why)
		goto out;

	why = prov_run(req, "UPDATE trunks SET host = ?2, port = ?3, "
		       "transport = ?4, register = ?5, username = ?6, "
		       "password = coalesce(?7, password), realm = ?8, "
		       "inbound_cidrs = ?9, max_calls = ?10, max_cps = ?11, "
		       "priority = ?12, weight = ?13, codecs = ?14, "
		       "media = ?15, enabled = ?16 WHERE name = ?1", a, 16,
		       NULL, &n);
	if (!why && !n)
		why = apireq_fail(req, MHD_HTTP_NOT_FOUND, "no trunk '%s'",
				  key);
	if (why)
		goto out;

	log_info("api", "trunk %s replaced", key);
	reload();
	why = trunk_reply(req, MHD_HTTP_OK, key);
 out:
	mem_deref(cidrs);
	mem_deref(codecs);
	return why;
}

static const char *trunk_del(struct apireq *req, const char *key)
{
	const struct prov_arg arg[] = { PROV_S(key) };
	char conflict[NAME_MAX_ + 64];
	int64_t nroutes = 0, ndids = 0;
	const char *why;
	int n = 0;

	why = prov_int(req, "SELECT count(DISTINCT route_id) FROM "
		       "route_trunks WHERE trunk = ?", arg, 1, &nroutes);
	if (!why)
		why = prov_int(req, "SELECT count(*) FROM dids WHERE "
			       "trunk = ?", arg, 1, &ndids);
	if (why)
		return why;
	if (nroutes || ndids)
		return apireq_fail(req, MHD_HTTP_CONFLICT, "trunk '%s' is "
				   "still used by %lld route(s) and %lld "
				   "DID(s)", key, (long long)nroutes,
				   (long long)ndids);

	re_snprintf(conflict, sizeof(conflict), "trunk '%s' is still in use",
		    key);
	why = prov_run(req, "DELETE FROM trunks WHERE name = ?", arg, 1,
		       conflict, &n);
	if (why)
		return why;
	if (!n)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no trunk '%s'",
				   key);

	log_info("api", "trunk %s deleted", key);
	reload();
	req->status = MHD_HTTP_NO_CONTENT;
	return NULL;
}

const struct prov_res prov_trunks = {
	.name = "trunks",
	.allow_coll = "GET, POST",
	.allow_item = "GET, PUT, DELETE",
	.list = trunk_list,
	.create = trunk_create,
	.get = trunk_get,
	.put = trunk_put,
	.del = trunk_del,
};
