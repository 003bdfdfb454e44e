/* api/prov_route.c  /api/v1/dids, /api/v1/routes and /api/v1/blocklist */
#include <errno.h>
#include <string.h>

#include <re.h>
#include <sqlite3.h>

#include "apireq.h"
#include "field.h"
#include "jdec.h"
#include "log.h"
#include "prov.h"

#define E164_MAX    15
#define NAME_MAX_   63
#define TARGET_MAX  255       /* ROUTE_TARGET_MAX less NUL */
#define TEXT_MAX    255
#define TRUNKS_MAX  8         /* ROUTE_TRUNKS_MAX */
#define ENTRY_MAX   49
#define STRIP_MAX   32

/* 422 unless trunk <name> exists; <field> names the member for it. */
static const char *trunk_exists(struct apireq *req, const char *field,
				const char *name)
{
	const char *why;
	int64_t n;

	why = prov_int(req, "SELECT count(*) FROM trunks WHERE name = ?",
		       (struct prov_arg[]){ PROV_S(name) }, 1, &n);
	if (why || n)
		return why;
	return apireq_fail(req, MHD_HTTP_UNPROCESSABLE_CONTENT, "field '%s': "
			   "no trunk '%s'", field, name);
}

/* ---- DIDs ---------------------------------------------------------- */

enum { D_NUMBER = 0, D_TARGET, D_TRUNK, D_DESC, D_N };

/* number is the key: required by POST, optional in PUT */
static const struct field did_fields[D_N] = {
	[D_NUMBER] = { "number", FIELD_STR, 0, E164_MAX, 0, 0, field_e164,
		       NULL },
	[D_TARGET] = { "target", FIELD_STR, FIELD_REQUIRED, TARGET_MAX, 0, 0,
		       field_target, NULL },
	[D_TRUNK]  = { "trunk", FIELD_STR, FIELD_NULLABLE, NAME_MAX_, 0, 0,
		       field_name, NULL },
	[D_DESC]   = { "description", FIELD_STR, 0, TEXT_MAX, 0, 0, NULL,
		       NULL },
};

static const struct prov_col did_cols[] = {
	{ "number",      PROV_TEXT },
	{ "target",      PROV_TEXT },
	{ "trunk",       PROV_TEXT },
	{ "description", PROV_TEXT },
};

#define DID_SELECT "SELECT number, target, trunk, description FROM dids"

static const char *did_reply(struct apireq *req, uint16_t status,
			     const char *number)
{
	char missing[TEXT_MAX];

	re_snprintf(missing, sizeof(missing), "no DID '%s'", number);
	return prov_one(req, status, DID_SELECT " WHERE number = ?",
			(struct prov_arg[]){ PROV_S(number) }, 1, did_cols,
			NCOLS(did_cols), NULL, NULL, missing);
}

static const char *did_list(struct apireq *req)
{
	struct prov_page pg;
	const char *why = prov_page(req, &pg, NULL);

	if (why)
		return why;
	return prov_list(req, &pg, "SELECT count(*) FROM dids",
			 DID_SELECT " ORDER BY number LIMIT ? OFFSET ?", NULL,
			 0, did_cols, NCOLS(did_cols), NULL, NULL);
}

static const char *did_get(struct apireq *req, const char *key)
{
	return did_reply(req, MHD_HTTP_OK, key);
}

/* The trunk column: NULL when none is named ("", null or left out). */
static const char *did_trunk(struct apireq *req, const struct field_val *v,
			     struct prov_arg *a)
{
	if (!v[D_TRUNK].present || !v[D_TRUNK].len) {
		*a = (struct prov_arg)PROV_NULL;
		return NULL;
	}
	*a = (struct prov_arg)PROV_S(v[D_TRUNK].s);
	return trunk_exists(req, "trunk", v[D_TRUNK].s);
}

static const char *did_create(struct apireq *req, const struct jnode *body)
{
	struct field_val v[D_N];
	struct prov_arg a[4];
	char conflict[64];
	const char *why;

	why = prov_fields(req, did_fields, D_N, body, v);
	if (!why)
		why = prov_require(req, did_fields, v, D_NUMBER);
	if (!why)
		why = did_trunk(req, v, &a[2]);
	if (why)
		return why;

	a[0] = (struct prov_arg)PROV_S(v[D_NUMBER].s);
	a[1] = (struct prov_arg)PROV_S(v[D_TARGET].s);
	a[3] = (struct prov_arg)PROV_S(v[D_DESC].present ? v[D_DESC].s : "");
	re_snprintf(conflict, sizeof(conflict), "DID '%s' already exists",
		    v[D_NUMBER].s);
	why = prov_run(req, "INSERT INTO dids (number, target, trunk, "
		       "description) VALUES (?, ?, ?, ?)", a, 4, conflict,
		       NULL);
	if (why)
		return why;

	log_info("api", "DID %s added", v[D_NUMBER].s);
	prov_location(req, "dids", v[D_NUMBER].s);
	return did_reply(req, MHD_HTTP_CREATED, v[D_NUMBER].s);
}

static const char *did_put(struct apireq *req, const char *key,
			   const struct jnode *body)
{
	struct field_val v[D_N];
	struct prov_arg a[4];
	const char *why;
	int n = 0;

	why = prov_fields(req, did_fields, D_N, body, v);
	if (!why)
		why = prov_same_key(req, did_fields, v, D_NUMBER, key, false);
	if (!why)
		why = did_trunk(req, v, &a[2]);
	if (why)
		return why;

	a[0] = (struct prov_arg)PROV_S(key);
	a[1] = (struct prov_arg)PROV_S(v[D_TARGET].s);
	a[3] = (struct prov_arg)PROV_S(v[D_DESC].present ? v[D_DESC].s : "");
	why = prov_run(req, "UPDATE dids SET target = ?2, trunk = ?3, "
		       "description = ?4 WHERE number = ?1", a, 4, NULL, &n);
	if (why)
		return why;
	if (!n)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no DID '%s'",
				   key);
	log_info("api", "DID %s replaced", key);
	return did_reply(req, MHD_HTTP_OK, key);
}

static const char *did_del(struct apireq *req, const char *key)
{
	const char *why;
	int n = 0;

	why = prov_run(req, "DELETE FROM dids WHERE number = ?",
		       (struct prov_arg[]){ PROV_S(key) }, 1, NULL, &n);
	if (why)
		return why;
	if (!n)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no DID '%s'",
				   key);
	log_info("api", "DID %s deleted", key);
	req->status = MHD_HTTP_NO_CONTENT;
	return NULL;
}

const struct prov_res prov_dids = {
	.name = "dids",
	.allow_coll = "GET, POST",
	.allow_item = "GET, PUT, DELETE",
	.list = did_list,
	.create = did_create,
	.get = did_get,
	.put = did_put,
	.del = did_del,
};

/* ---- routes -------------------------------------------------------- */

enum { R_ID = 0, R_PREFIX, R_TRUNKS, R_STRIP, R_PREPEND, R_PRIORITY, R_N };

static const struct field route_fields[R_N] = {
	[R_ID]       = { "id", FIELD_INT, FIELD_READONLY, 0, 0, 0, NULL,
			 NULL },
	[R_PREFIX]   = { "prefix", FIELD_STR, 0, E164_MAX, 0, 0,
			 field_prefix, NULL },
	[R_TRUNKS]   = { "trunks", FIELD_LIST, FIELD_REQUIRED |
			 FIELD_NONEMPTY | FIELD_UNIQUE, NAME_MAX_, 0,
			 TRUNKS_MAX, field_name, NULL },
	[R_STRIP]    = { "strip", FIELD_INT, 0, 0, 0, STRIP_MAX, NULL,
			 NULL },
	[R_PREPEND]  = { "prepend", FIELD_STR, 0, E164_MAX, 0, 0,
			 field_prefix, NULL },
	[R_PRIORITY] = { "priority", FIELD_INT, 0, 0, 0, 65535, NULL, NULL },
};

static const struct prov_col route_cols[] = {
	{ "id",       PROV_INT  },
	{ "prefix",   PROV_TEXT },
	{ "strip",    PROV_INT  },
	{ "prepend",  PROV_TEXT },
	{ "priority", PROV_INT  },
};

#define ROUTE_SELECT "SELECT id, prefix, strip, prepend, priority FROM routes"

/* The "trunks" member: the route's trunks in failover order. */
static int route_trunks_h(struct mbuf *mb, sqlite3_stmt *st, void *arg)
{
	sqlite3_stmt *q = NULL;
	unsigned n = 0;
	int rc = SQLITE_DONE, err;

	(void)arg;

	if (sqlite3_prepare_v2(sqlite3_db_handle(st), "SELECT trunk FROM "
			       "route_trunks WHERE route_id = ? ORDER BY pos",
			       -1, &q, NULL) != SQLITE_OK)
		return EIO;
	sqlite3_bind_int64(q, 1, sqlite3_column_int64(st, 0));

	err = mbuf_printf(mb, ", \"trunks\": [");
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW)
		err = mbuf_printf(mb, "%s%H", n++ ? ", " : "",
				  apireq_json_str,
				  (const char *)sqlite3_column_text(q, 0));
	if (!err && rc != SQLITE_DONE)
		err = EIO;
	sqlite3_finalize(q);
	return err ? err : mbuf_printf(mb, "]");
}

static const char *route_list(struct apireq *req)
{
	struct prov_page pg;
	const char *why = prov_page(req, &pg, NULL);

	if (why)
		return why;
	return prov_list(req, &pg, "SELECT count(*) FROM routes",
			 ROUTE_SELECT " ORDER BY id LIMIT ? OFFSET ?", NULL, 0,
			 route_cols, NCOLS(route_cols), route_trunks_h, NULL);
}

/* The route row and its trunk rows go in one transaction. */
static const char *route_insert(struct apireq *req,
				const struct field_val *v, int64_t *idp)
{
	const struct jnode *t;
	const char *why;
	int64_t pos = 0;

	why = prov_begin(req);
	if (why)
		return why;

	why = prov_run(req, "INSERT INTO routes (prefix, strip, prepend, "
		       "priority) VALUES (?, ?, ?, ?)", (struct prov_arg[]){
				PROV_S(v[R_PREFIX].present ?
				       v[R_PREFIX].s : ""),
				PROV_I(v[R_STRIP].i),
				PROV_S(v[R_PREPEND].present ?
				       v[R_PREPEND].s : ""),
				PROV_I(v[R_PRIORITY].i) }, 4, NULL, NULL);
	*idp = prov_last_id();

	for (t = v[R_TRUNKS].list->v.c.head; t && !why; t = t->next)
		why = prov_run(req, "INSERT INTO route_trunks (route_id, pos, "
			       "trunk) VALUES (?, ?, ?)", (struct prov_arg[]){
					PROV_I(*idp), PROV_I(pos++),
					PROV_S(t->v.s.p) }, 3,
			       "a trunk of the route was deleted meanwhile",
			       NULL);
	if (!why)
		return prov_commit(req);
	prov_rollback();
	return why;
}

static const char *route_create(struct apireq *req, const struct jnode *body)
{
	struct field_val v[R_N];
	const struct jnode *t;
	const char *why;
	char id[24];
	int64_t rid = 0;

	why = prov_fields(req, route_fields, R_N, body, v);
	for (t = why ? NULL : v[R_TRUNKS].list->v.c.head; t && !why;
	     t = t->next)
		why = trunk_exists(req, "trunks", t->v.s.p);
	if (!why)
		why = route_insert(req, v, &rid);
	if (why)
		return why;

	log_info("api", "route %lld added (prefix '%s')", (long long)rid,
		 v[R_PREFIX].present ? v[R_PREFIX].s : "");
	re_snprintf(id, sizeof(id), "%lld", (long long)rid);
	prov_location(req, "routes", id);
	return prov_one(req, MHD_HTTP_CREATED, ROUTE_SELECT " WHERE id = ?",
			(struct prov_arg[]){ PROV_I(rid) }, 1, route_cols,
			NCOLS(route_cols), route_trunks_h, NULL,
			"route vanished");
}

static const char *route_del(struct apireq *req, const char *key)
{
	const char *why, *p;
	int64_t id = 0;
	int n = 0;

	for (p = key; *p >= '0' && *p <= '9' && p - key < 18; p++)
		id = id * 10 + (*p - '0');
	if (*p || p == key)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no route '%s'",
				   key);

	/* its route_trunks rows go by ON DELETE CASCADE */
	why = prov_run(req, "DELETE FROM routes WHERE id = ?",
		       (struct prov_arg[]){ PROV_I(id) }, 1, NULL, &n);
	if (why)
		return why;
	if (!n)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no route '%s'",
				   key);
	log_info("api", "route %lld deleted", (long long)id);
	req->status = MHD_HTTP_NO_CONTENT;
	return NULL;
}

const struct prov_res prov_routes = {
	.name = "routes",
	.allow_coll = "GET, POST",
	.allow_item = "DELETE",
	.list = route_list,
	.create = route_create,
	.del = route_del,
};

/* ---- blocklist ----------------------------------------------------- */

enum { B_ENTRY = 0, B_REASON, B_CREATED, B_N };

static const struct field block_fields[B_N] = {
	[B_ENTRY]   = { "entry", FIELD_STR, FIELD_REQUIRED, ENTRY_MAX, 0, 0,
			field_entry, NULL },
	[B_REASON]  = { "reason", FIELD_STR, 0, TEXT_MAX, 0, 0, NULL, NULL },
	[B_CREATED] = { "created_at", FIELD_INT, FIELD_READONLY, 0, 0, 0,
			NULL, NULL },
};

static const struct prov_col block_cols[] = {
	{ "entry",      PROV_TEXT },
	{ "reason",     PROV_TEXT },
	{ "created_at", PROV_INT  },
};

#define BLOCK_SELECT "SELECT entry, reason, created_at FROM blocklist"

static const char *block_list(struct apireq *req)
{
	struct prov_page pg;
	const char *why = prov_page(req, &pg, NULL);

	if (why)
		return why;
	return prov_list(req, &pg, "SELECT count(*) FROM blocklist",
			 BLOCK_SELECT " ORDER BY entry LIMIT ? OFFSET ?", NULL,
			 0, block_cols, NCOLS(block_cols), NULL, NULL);
}

/*
 * Entries are stored in canonical form (2001:DB8::/32 as 2001:db8::/32,
 * 192.0.2.1/32 as 192.0.2.1), so one address cannot be listed twice
 * under two spellings, and a DELETE finds it under either.
 */
static const char *block_create(struct apireq *req, const struct jnode *body)
{
	struct field_val v[B_N];
	char entry[64], conflict[128];
	const char *why;

	why = prov_fields(req, block_fields, B_N, body, v);
	if (why)
		return why;
	if (field_entry_canon(v[B_ENTRY].s, entry, sizeof(entry)))
		return apireq_fail(req, MHD_HTTP_BAD_REQUEST, "field 'entry' "
				   "cannot be put in canonical form");

	re_snprintf(conflict, sizeof(conflict), "blocklist entry '%s' "
		    "already exists", entry);
	why = prov_run(req, "INSERT INTO blocklist (entry, reason) VALUES "
		       "(?, ?)", (struct prov_arg[]){ PROV_S(entry),
		       PROV_S(v[B_REASON].present ? v[B_REASON].s : "") }, 2,
		       conflict, NULL);
	if (why)
		return why;

	log_info("api", "blocklist entry %s added", entry);
	prov_location(req, "blocklist", entry);
	return prov_one(req, MHD_HTTP_CREATED, BLOCK_SELECT " WHERE entry = ?",
			(struct prov_arg[]){ PROV_S(entry) }, 1, block_cols,
			NCOLS(block_cols), NULL, NULL, "entry vanished");
}

static const char *block_del(struct apireq *req, const char *key)
{
	char entry[64];
	const char *why;
	int n = 0;

	if (field_entry(key) || field_entry_canon(key, entry, sizeof(entry)))
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no blocklist "
				   "entry '%s'", key);

	why = prov_run(req, "DELETE FROM blocklist WHERE entry = ?",
		       (struct prov_arg[]){ PROV_S(entry) }, 1, NULL, &n);
	if (why)
		return why;
	if (!n)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no blocklist "
				   "entry '%s'", entry);
	log_info("api", "blocklist entry %s deleted", entry);
	req->status = MHD_HTTP_NO_CONTENT;
	return NULL;
}

const struct prov_res prov_blocklist = {
	.name = "blocklist",
	.allow_coll = "GET, POST",
	.allow_item = "DELETE",
	.key_slash = true,
	.list = block_list,
	.create = block_create,
	.del = block_del,
};
