/* api/prov.c  /api/v1: provisioning resources over SQLite, JSON in and out */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <re.h>
#include <sqlite3.h>

#include "apireq.h"
#include "arena.h"
#include "field.h"
#include "jdec.h"
#include "log.h"
#include "prov.h"
#include "sbc.h"

#define PREFIX       "/api/v1"
#define KEY_MAX      512           /* a longer key is no key of ours */
#define JSON_NODES   1024          /* values in one request body */

static const struct prov_res *const resources[] = {
	&prov_domains, &prov_subscribers, &prov_trunks, &prov_dids,
	&prov_routes, &prov_blocklist, &prov_registrations, &prov_cdrs,
	&prov_calls,
};

/*
 * The decoded body lives here for one handler call only: sbc is one
 * thread and a handler never yields, so one arena serves every request.
 */
static _Alignas(16) uint8_t json_mem[JSON_NODES * sizeof(struct jnode)];

/* ---- query parameters ---------------------------------------------- */

struct qcheck {
	const char *const *extra;
	const char        *bad;       /* first unknown parameter */
};

static enum MHD_Result query_iter(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *value)
{
	struct qcheck *q = cls;
	const char *const *e;

	(void)kind;
	(void)value;

	if (!strcmp(key, "limit") || !strcmp(key, "offset"))
		return MHD_YES;
	for (e = q->extra; e && *e; e++) {
		if (!strcmp(key, *e))
			return MHD_YES;
	}
	q->bad = key;
	return MHD_NO;
}

const char *prov_query(const struct apireq *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

const char *prov_query_int(struct apireq *req, const char *name,
			   int64_t min, int64_t max, int64_t *vp,
			   bool *presentp)
{
	const char *v = NULL, *p;
	size_t vlen = 0;
	int64_t n = 0;

	*presentp = false;
	if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND,
					  name, strlen(name), &v, &vlen) !=
	    MHD_YES)
		return NULL;

	if (!v || !vlen || vlen > 18 || strlen(v) != vlen)
		goto bad;
	for (p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		n = n * 10 + (*p - '0');
	}
	if (n < min || n > max)
		goto bad;
	*vp = n;
	*presentp = true;
	return NULL;
 bad:
	return apireq_fail(req, MHD_HTTP_BAD_REQUEST, "query parameter '%s' "
			   "must be an integer from %lld to %lld", name,
			   (long long)min, (long long)max);
}

const char *prov_page(struct apireq *req, struct prov_page *pg,
		      const char *const *extra)
{
	struct qcheck q = { extra, NULL };
	const char *why;
	bool present;

	(void)MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND,
					query_iter, &q);
	if (q.bad)
		return apireq_fail(req, MHD_HTTP_BAD_REQUEST,
				   "unknown query parameter '%s'", q.bad);

	pg->limit = PROV_LIMIT_DEFAULT;
	pg->offset = 0;
	why = prov_query_int(req, "limit", 1, PROV_LIMIT_MAX, &pg->limit,
			     &present);
	if (!why)
		why = prov_query_int(req, "offset", 0, PROV_OFFSET_MAX,
				     &pg->offset, &present);
	return why;
}

/* ---- bodies -------------------------------------------------------- */

static const char *body_json(struct apireq *req, struct jnode **rootp)
{
	struct arena a;
	const char *why;
	size_t off;
	int err;

	if (!req->body || !req->body->end)
		return apireq_fail(req, MHD_HTTP_BAD_REQUEST,
				   "a JSON object is required as the body");

	arena_init(&a, json_mem, sizeof(json_mem));
	err = jdec_decode(&a, (char *)req->body->buf, req->body->end, rootp,
			  &why, &off);
	if (err)
		return apireq_fail(req, MHD_HTTP_BAD_REQUEST, "the body is "
				   "not valid JSON: %s at byte %zu", why, off);
	return NULL;
}

const char *prov_fields(struct apireq *req, const struct field *f,
			size_t n, const struct jnode *body,
			struct field_val *vals)
{
	if (field_decode(f, n, body, vals, req->why, sizeof(req->why))) {
		req->status = MHD_HTTP_BAD_REQUEST;
		return req->why;
	}
	return NULL;
}

const char *prov_require(struct apireq *req, const struct field *f,
			 const struct field_val *vals, size_t i)
{
	const struct field_val *v = &vals[i];

	if (v->present && (f[i].kind != FIELD_STR || v->len))
		return NULL;
	return apireq_fail(req, MHD_HTTP_BAD_REQUEST, "field '%s' %s",
			   f[i].name, v->present ? "must not be empty" :
			   "is required");
}

const char *prov_same_key(struct apireq *req, const struct field *f,
			  const struct field_val *vals, size_t i,
			  const char *key, bool nocase)
{
	const struct field_val *v = &vals[i];

	if (!v->present || !(nocase ? strcasecmp(v->s, key) :
			     strcmp(v->s, key)))
		return NULL;
	return apireq_fail(req, MHD_HTTP_UNPROCESSABLE_CONTENT, "field '%s' "
			   "does not match the URL: it cannot change",
			   f[i].name);
}

/* ---- SQL ----------------------------------------------------------- */

static const char *sql_fail(struct apireq *req, struct sqlite3 *db,
			    const char *sql)
{
	int rc = sqlite3_errcode(db);

	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return apireq_fail(req, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "the database is busy: try again");
	log_err("api", "%s %s: %s: %s", req->method, req->url, sql,
		sqlite3_errmsg(db));
	return apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
			   "database error");
}

const char *prov_prepare(struct apireq *req, sqlite3_stmt **stp,
			 const char *sql, const struct prov_arg *args,
			 size_t nargs)
{
	struct sqlite3 *db = sbc_dbh();
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = SQLITE_OK;

	if (!db)
		return apireq_fail(req, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "the database is not open");

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(req, db, sql);

	for (i = 0; i < nargs && rc == SQLITE_OK; i++) {
		int k = (int)i + 1;

		if (args[i].null)
			rc = sqlite3_bind_null(st, k);
		else if (args[i].s)
			rc = sqlite3_bind_text(st, k, args[i].s, -1,
					       SQLITE_STATIC);
		else
			rc = sqlite3_bind_int64(st, k, args[i].i);
	}
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return sql_fail(req, db, sql);
	}
	*stp = st;
	return NULL;
}

const char *prov_exec(struct apireq *req, sqlite3_stmt *st,
		      const char *conflict, int *changesp)
{
	struct sqlite3 *db = sqlite3_db_handle(st);
	const char *why = NULL;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		int xrc = sqlite3_extended_errcode(db);

		if (xrc == SQLITE_CONSTRAINT_PRIMARYKEY ||
		    xrc == SQLITE_CONSTRAINT_UNIQUE ||
		    xrc == SQLITE_CONSTRAINT_FOREIGNKEY)
			why = apireq_fail(req, MHD_HTTP_CONFLICT, "%s",
					  conflict ? conflict :
					  "conflict with existing data");
		else if (rc == SQLITE_CONSTRAINT)
			why = apireq_fail(req, MHD_HTTP_UNPROCESSABLE_CONTENT,
					  "the database refused the values: "
					  "%s", sqlite3_errmsg(db));
		else
			why = sql_fail(req, db, sqlite3_sql(st));
	}
	if (!why && changesp)
		*changesp = sqlite3_changes(db);
	sqlite3_finalize(st);
	return why;
}

const char *prov_run(struct apireq *req, const char *sql,
		     const struct prov_arg *args, size_t nargs,
		     const char *conflict, int *changesp)
{
	sqlite3_stmt *st;
	const char *why;

	why = prov_prepare(req, &st, sql, args, nargs);
	if (why)
		return why;
	return prov_exec(req, st, conflict, changesp);
}

const char *prov_int(struct apireq *req, const char *sql,
		     const struct prov_arg *args, size_t nargs,
		     int64_t *vp)
{
	sqlite3_stmt *st;
	const char *why;
	int rc;

	why = prov_prepare(req, &st, sql, args, nargs);
	if (why)
		return why;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*vp = sqlite3_column_int64(st, 0);
	else
		why = sql_fail(req, sqlite3_db_handle(st), sql);
	sqlite3_finalize(st);
	return why;
}

const char *prov_begin(struct apireq *req)
{
	return prov_run(req, "BEGIN IMMEDIATE", NULL, 0, NULL, NULL);
}

const char *prov_commit(struct apireq *req)
{
	const char *why = prov_run(req, "COMMIT", NULL, 0, NULL, NULL);

	if (why)
		prov_rollback();
	return why;
}

void prov_rollback(void)
{
	struct sqlite3 *db = sbc_dbh();

	if (db && !sqlite3_get_autocommit(db))
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int64_t prov_last_id(void)
{
	struct sqlite3 *db = sbc_dbh();

	return db ? sqlite3_last_insert_rowid(db) : 0;
}

/* ---- printing ------------------------------------------------------ */

static int print_row(struct mbuf *mb, sqlite3_stmt *st,
		     const struct prov_col *cols, size_t ncols,
		     prov_row_h *rowh, void *arg)
{
	size_t i;
	int err = mbuf_write_u8(mb, '{');

	for (i = 0; i < ncols && !err; i++) {
		const struct prov_col *c = &cols[i];
		int k = (int)i;
		bool null = sqlite3_column_type(st, k) == SQLITE_NULL;

		err = mbuf_printf(mb, "%s\"%s\": ", i ? ", " : "", c->name);
		if (err)
			break;
		if (null && c->kind != PROV_BOOL) {
			err = mbuf_printf(mb, "null");
			continue;
		}
		switch (c->kind) {
		case PROV_TEXT:
			err = mbuf_printf(mb, "%H", apireq_json_str,
					  (const char *)
					  sqlite3_column_text(st, k));
			break;
		case PROV_INT:
			err = mbuf_printf(mb, "%lld", (long long)
					  sqlite3_column_int64(st, k));
			break;
		case PROV_BOOL:
			err = mbuf_printf(mb, "%s",
					  sqlite3_column_int64(st, k) ?
					  "true" : "false");
			break;
		case PROV_JSON:
			err = mbuf_printf(mb, "%s", (const char *)
					  sqlite3_column_text(st, k));
			break;
		}
	}
	if (!err && rowh)
		err = rowh(mb, st, arg);
	if (!err)
		err = mbuf_write_u8(mb, '}');
	return err;
}

const char *prov_list(struct apireq *req, const struct prov_page *pg,
		      const char *count_sql, const char *sql,
		      const struct prov_arg *args, size_t nargs,
		      const struct prov_col *cols, size_t ncols,
		      prov_row_h *rowh, void *arg)
{
	struct prov_arg all[8];
	sqlite3_stmt *st;
	const char *why;
	int64_t total;
	unsigned n = 0;
	int rc = SQLITE_DONE, err = 0;

	if (nargs + 2 > sizeof(all) / sizeof(all[0]))
		return apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "too many parameters");

	why = prov_int(req, count_sql, args, nargs, &total);
	if (why)
		return why;

	if (nargs)
		memcpy(all, args, nargs * sizeof(*args));
	all[nargs] = (struct prov_arg)PROV_I(pg->limit);
	all[nargs + 1] = (struct prov_arg)PROV_I(pg->offset);
	why = prov_prepare(req, &st, sql, all, nargs + 2);
	if (why)
		return why;

	mbuf_rewind(req->out);
	err = mbuf_write_u8(req->out, '[');
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		err = mbuf_printf(req->out, "%s", n++ ? ",\n " : "");
		if (!err)
			err = print_row(req->out, st, cols, ncols, rowh, arg);
	}
	if (!err && rc != SQLITE_DONE)
		why = sql_fail(req, sqlite3_db_handle(st), sql);
	sqlite3_finalize(st);
	if (why)
		return why;
	if (!err)
		err = mbuf_printf(req->out, "]\n");
	if (err)
		return apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "cannot format the reply");
	req->status = MHD_HTTP_OK;
	req->total = total;
	return NULL;
}

const char *prov_one(struct apireq *req, uint16_t status, const char *sql,
		     const struct prov_arg *args, size_t nargs,
		     const struct prov_col *cols, size_t ncols,
		     prov_row_h *rowh, void *arg, const char *missing)
{
	sqlite3_stmt *st;
	const char *why;
	int rc, err = 0;

	why = prov_prepare(req, &st, sql, args, nargs);
	if (why)
		return why;

	mbuf_rewind(req->out);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		err = print_row(req->out, st, cols, ncols, rowh, arg);
		if (!err)
			err = mbuf_write_u8(req->out, '\n');
	}
	else if (rc == SQLITE_DONE)
		why = apireq_fail(req, MHD_HTTP_NOT_FOUND, "%s", missing);
	else
		why = sql_fail(req, sqlite3_db_handle(st), sql);
	sqlite3_finalize(st);
	if (why)
		return why;
	if (err)
		return apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "cannot format the reply");
	req->status = status;
	return NULL;
}

int prov_strings(struct mbuf *mb, const struct jnode *arr,
		 int (*canon)(const char *s, char *buf, size_t sz))
{
	const struct jnode *e;
	char buf[256];
	int err;

	err = mbuf_write_u8(mb, '[');
	for (e = arr ? arr->v.c.head : NULL; e && !err; e = e->next) {
		const char *s = e->v.s.p;

		if (canon) {
			err = canon(s, buf, sizeof(buf));
			s = buf;
		}
		if (!err)
			err = mbuf_printf(mb, "%s%H", e == arr->v.c.head ? "" :
					  ",", apireq_json_str, s);
	}
	if (!err)
		err = mbuf_write_u8(mb, ']');
	return err;
}

void prov_location(struct apireq *req, const char *res, const char *key)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len;
	const unsigned char *p;

	len = (size_t)re_snprintf(req->loc, sizeof(req->loc), PREFIX "/%s/",
				  res);
	for (p = (const unsigned char *)key; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') ||
			(*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			strchr("-._~@:", *p);

		if (len + 4 > sizeof(req->loc))
			return;            /* too long: no Location at all */
		if (plain) {
			req->loc[len++] = (char)*p;
		}
		else {
			req->loc[len++] = '%';
			req->loc[len++] = hex[*p >> 4];
			req->loc[len++] = hex[*p & 15];
		}
	}
	req->loc[len] = '\0';
	req->location = req->loc;
}

int prov_lower(char *buf, size_t sz, const char *s)
{
	size_t i, len = strlen(s);

	if (len >= sz)
		return ENOSPC;
	for (i = 0; i <= len; i++) {
		char c = s[i];

		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	return 0;
}

/* ---- dispatch ------------------------------------------------------ */

static const struct prov_res *res_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
		if (strlen(resources[i]->name) == len &&
		    !memcmp(resources[i]->name, name, len))
			return resources[i];
	}
	return NULL;
}

static const char *not_allowed(struct apireq *req, const char *allow)
{
	req->allow = allow;
	return apireq_fail(req, MHD_HTTP_METHOD_NOT_ALLOWED,
			   "method %s not allowed on this resource (allowed: "
			   "%s)", req->method, allow);
}

static const char *collection(struct apireq *req, const struct prov_res *r)
{
	struct jnode *body;
	const char *why;

	if (!strcmp(req->method, "GET") && r->list)
		return r->list(req);
	if (!strcmp(req->method, "POST") && r->create) {
		why = body_json(req, &body);
		return why ? why : r->create(req, body);
	}
	return not_allowed(req, r->allow_coll);
}

static const char *item(struct apireq *req, const struct prov_res *r,
			const char *key)
{
	struct jnode *body;
	const char *why;

	if (!r->allow_item || !*key || strlen(key) > KEY_MAX ||
	    (!r->key_slash && strchr(key, '/')))
		return apireq_fail(req, MHD_HTTP_NOT_FOUND,
				   "no such resource");

	if (!strcmp(req->method, "GET") && r->get)
		return r->get(req, key);
	if (!strcmp(req->method, "DELETE") && r->del)
		return r->del(req, key);
	if (!strcmp(req->method, "PUT") && r->put) {
		why = body_json(req, &body);
		return why ? why : r->put(req, key, body);
	}
	return not_allowed(req, r->allow_item);
}

const char *prov_handle(struct apireq *req)
{
	const struct prov_res *r;
	const char *name, *slash;
	size_t len;

	if (strncmp(req->url, PREFIX "/", strlen(PREFIX) + 1))
		return apireq_fail(req, MHD_HTTP_NOT_FOUND,
				   "no such resource");

	name = req->url + strlen(PREFIX) + 1;
	slash = strchr(name, '/');
	len = slash ? (size_t)(slash - name) : strlen(name);
	r = res_find(name, len);
	if (!r)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND,
				   "no such resource");

	return slash ? item(req, r, slash + 1) : collection(req, r);
}
