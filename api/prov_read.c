/* api/prov_read.c  Read-mostly views: registrations, cdrs and calls */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <re.h>

#include "apireq.h"
#include "b2bua.h"
#include "cdr.h"
#include "prov.h"
#include "registrar.h"
#include "shmc.h"

/* ---- registrations (the registrar's live table) --------------------- */

struct reg_row {
	char           *aor;
	char           *uri;
	char           *ua;
	struct sa       src;
	enum sip_transp tp;
	uint64_t        expires;
};

struct reg_walk {
	struct reg_row *rows;
	size_t          n;
	size_t          cap;
	const char     *aor;       /* filter; NULL: every AOR */
	int             err;
};

static void rows_free(struct reg_walk *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		mem_deref(w->rows[i].aor);
		mem_deref(w->rows[i].uri);
		mem_deref(w->rows[i].ua);
	}
	w->rows = mem_deref(w->rows);
}

/* Copy each contact: the registrar's strings live for the callback. */
static bool reg_copy(const struct registrar_contact *c, void *arg)
{
	struct reg_walk *w = arg;
	struct reg_row *r;

	if (w->aor && strcasecmp(w->aor, c->aor))
		return false;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct reg_row *rows = mem_reallocarray(w->rows, cap,
							sizeof(*rows), NULL);

		if (!rows) {
			w->err = ENOMEM;
			return true;
		}
		w->rows = rows;
		w->cap = cap;
	}
	r = &w->rows[w->n];
	memset(r, 0, sizeof(*r));
	++w->n;

	w->err = str_dup(&r->aor, c->aor);
	w->err |= str_dup(&r->uri, c->uri);
	w->err |= str_dup(&r->ua, c->user_agent ? c->user_agent : "");
	r->src = c->src;
	r->tp = c->tp;
	r->expires = c->expires;
	return w->err != 0;
}

/* A stable order for paging: by AOR, then by contact. */
static int reg_cmp(const void *a, const void *b)
{
	const struct reg_row *x = a, *y = b;
	int d = strcmp(x->aor, y->aor);

	return d ? d : strcmp(x->uri, y->uri);
}

static int print_reg(struct mbuf *mb, const struct reg_row *r,
		     uint64_t now)
{
	char tp[8];
	size_t i;

	/* "udp", "tcp", ... as the trunks' transport field spells them */
	str_ncpy(tp, sip_transp_name(r->tp), sizeof(tp));
	for (i = 0; tp[i]; i++)
		tp[i] = (char)(tp[i] >= 'A' && tp[i] <= 'Z' ? tp[i] + 32 :
			       tp[i]);

	return mbuf_printf(mb, "{\"aor\": %H, \"contact\": %H, "
			   "\"source\": \"%J\", \"transport\": \"%s\", "
			   "\"user_agent\": %H, \"expires\": %llu, "
			   "\"expires_at\": %llu}",
			   apireq_json_str, r->aor, apireq_json_str, r->uri,
			   &r->src, tp, apireq_json_str, r->ua,
			   (unsigned long long)(r->expires > now ?
						r->expires - now : 0),
			   (unsigned long long)r->expires);
}

static const char *reg_list(struct apireq *req)
{
	static const char *const extra[] = { "aor", NULL };
	struct reg_walk w;
	struct prov_page pg;
	const char *why;
	uint64_t now = (uint64_t)time(NULL);
	size_t i;
	int err;

	why = prov_page(req, &pg, extra);
	if (why)
		return why;

	memset(&w, 0, sizeof(w));
	w.aor = prov_query(req, "aor");
	(void)registrar_foreach(reg_copy, &w);
	if (w.err) {
		rows_free(&w);
		return apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "out of memory");
	}
	if (w.n)
		qsort(w.rows, w.n, sizeof(*w.rows), reg_cmp);

	mbuf_rewind(req->out);
	err = mbuf_write_u8(req->out, '[');
	for (i = (size_t)pg.offset; !err && i < w.n &&
		     i < (size_t)(pg.offset + pg.limit); i++) {
		if (i > (size_t)pg.offset)
			err = mbuf_printf(req->out, ",\n ");
		if (!err)
			err = print_reg(req->out, &w.rows[i], now);
	}
	if (!err)
		err = mbuf_printf(req->out, "]\n");
	req->total = (int64_t)w.n;
	rows_free(&w);
	if (err)
		return apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "cannot format the reply");
	req->status = MHD_HTTP_OK;
	return NULL;
}

const struct prov_res prov_registrations = {
	.name = "registrations",
	.allow_coll = "GET",
	.list = reg_list,
};

/* ---- CDRs ---------------------------------------------------------- */

static const struct prov_col cdr_cols[] = {
	{ "id",          PROV_INT  },
	{ "call_id",     PROV_TEXT },
	{ "from",        PROV_TEXT },
	{ "to",          PROV_TEXT },
	{ "direction",   PROV_TEXT },
	{ "trunk",       PROV_TEXT },
	{ "started_at",  PROV_INT  },
	{ "answered_at", PROV_INT  },
	{ "ended_at",    PROV_INT  },
	{ "duration_s",  PROV_INT  },
	{ "result",      PROV_INT  },
	{ "hangup_side", PROV_TEXT },
};

#define CDR_SELECT "SELECT id, call_id, from_uri, to_uri, direction, " \
	"trunk, started_at, answered_at, ended_at, duration_s, result, " \
	"hangup_side FROM cdrs"

/*
 * ?since=&until= are unix milliseconds on started_at: since <= t <
 * until. Rows come oldest first (started_at, then id), so paging with
 * a fixed since/until is stable while new calls end.
 */
static const char *cdr_list(struct apireq *req)
{
	static const char *const extra[] = { "since", "until", NULL };
	struct prov_page pg;
	int64_t since = 0, until = INT64_MAX;
	const char *why;
	bool present;

	why = prov_page(req, &pg, extra);
	if (!why)
		why = prov_query_int(req, "since", 0, INT64_MAX / 2, &since,
				     &present);
	if (!why)
		why = prov_query_int(req, "until", 0, INT64_MAX / 2, &until,
				     &present);
	if (why)
		return why;

	(void)cdr_flush();         /* rows still queued in memory first */
	return prov_list(req, &pg, "SELECT count(*) FROM cdrs WHERE "
			 "started_at >= ? AND started_at < ?", CDR_SELECT
			 " WHERE started_at >= ? AND started_at < ? ORDER BY "
			 "started_at, id LIMIT ? OFFSET ?",
			 (struct prov_arg[]){ PROV_I(since), PROV_I(until) },
			 2, cdr_cols, NCOLS(cdr_cols), NULL, NULL);
}

static const char *cdr_get(struct apireq *req, const char *key)
{
	char missing[64];
	const char *p;
	int64_t id = 0;

	for (p = key; *p >= '0' && *p <= '9' && p - key < 18; p++)
		id = id * 10 + (*p - '0');
	if (*p || p == key)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no CDR '%s'",
				   key);

	(void)cdr_flush();
	re_snprintf(missing, sizeof(missing), "no CDR %lld", (long long)id);
	return prov_one(req, MHD_HTTP_OK, CDR_SELECT " WHERE id = ?",
			(struct prov_arg[]){ PROV_I(id) }, 1, cdr_cols,
			NCOLS(cdr_cols), NULL, NULL, missing);
}

const struct prov_res prov_cdrs = {
	.name = "cdrs",
	.allow_coll = "GET",
	.allow_item = "GET",
	.list = cdr_list,
	.get = cdr_get,
};

/* ---- calls (the B2BUA's live table) --------------------------------- */

struct call_walk {
	struct mbuf *mb;
	uint64_t     id;           /* one call; 0: every call */
	int64_t      first;        /* page: skip this many */
	int64_t      limit;
	int64_t      seen;
	unsigned     printed;
	int          err;
};

/*
 * The live media counters mediad keeps for the call in the shared
 * segment: what it received from each side (leg 0 is the caller's, the
 * side of the offer's from-tag). null when mediad has no session (not
 * yet offered, or no segment attached).
 */
static int print_media(struct mbuf *mb, const char *ngid)
{
	static const char *const side[2] = { "caller", "callee" };
	struct shmc_session ss;
	unsigned i;
	int err;

	if (!ngid || !shmc_session(ngid, &ss))
		return mbuf_printf(mb, "null");

	err = mbuf_write_u8(mb, '{');
	for (i = 0; i < 2; i++)
		err |= mbuf_printf(mb, "%s\"%s\": {\"packets\": %llu, "
				   "\"bytes\": %llu, \"lost\": %llu, "
				   "\"jitter_us\": %u}", i ? ", " : "", side[i],
				   (unsigned long long)ss.packets[i],
				   (unsigned long long)ss.bytes[i],
				   (unsigned long long)ss.lost[i],
				   ss.jitter_us[i]);
	err |= mbuf_write_u8(mb, '}');
	return err;
}

static int print_call(struct mbuf *mb, const struct b2bua_call_info *ci)
{
	int err = mbuf_printf(mb, "{\"id\": %llu, \"from\": %H, "
			      "\"to\": %H, \"direction\": %H, \"trunk\": ",
			      (unsigned long long)ci->id,
			      apireq_json_str, ci->from,
			      apireq_json_str, ci->to,
			      apireq_json_str, ci->direction);

	if (ci->trunk && *ci->trunk)
		err |= mbuf_printf(mb, "%H", apireq_json_str, ci->trunk);
	else
		err |= mbuf_printf(mb, "null");
	err |= mbuf_printf(mb, ", \"state\": %H, \"started_at\": %llu, "
			   "\"answered_at\": ", apireq_json_str, ci->state,
			   (unsigned long long)ci->started_at);
	if (ci->answered_at)
		err |= mbuf_printf(mb, "%llu",
				   (unsigned long long)ci->answered_at);
	else
		err |= mbuf_printf(mb, "null");
	err |= mbuf_printf(mb, ", \"media\": ");
	err |= print_media(mb, ci->ngid);
	err |= mbuf_write_u8(mb, '}');
	return err;
}

static bool call_h(const struct b2bua_call_info *ci, void *arg)
{
	struct call_walk *w = arg;

	if (w->id) {
		if (ci->id != w->id)
			return false;
		w->err = print_call(w->mb, ci);
		++w->printed;
		return true;
	}
	if (w->seen++ < w->first || (int64_t)w->printed >= w->limit)
		return false;
	if (w->printed++)
		w->err = mbuf_printf(w->mb, ",\n ");
	if (!w->err)
		w->err = print_call(w->mb, ci);
	return w->err != 0;
}

/* Calls are listed in the B2BUA's order (oldest first). */
static const char *call_list(struct apireq *req)
{
	struct call_walk w;
	struct prov_page pg;
	const char *why = prov_page(req, &pg, NULL);

	if (why)
		return why;

	memset(&w, 0, sizeof(w));
	w.mb = req->out;
	w.first = pg.offset;
	w.limit = pg.limit;
	mbuf_rewind(req->out);
	w.err = mbuf_write_u8(req->out, '[');
	if (!w.err)
		(void)b2bua_foreach(call_h, &w);
	if (!w.err)
		w.err = mbuf_printf(req->out, "]\n");
	if (w.err)
		return apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "cannot format the reply");
	req->total = (int64_t)b2bua_calls_active();
	req->status = MHD_HTTP_OK;
	return NULL;
}

static bool call_id(const char *key, uint64_t *idp)
{
	uint64_t id = 0;
	const char *p;

	for (p = key; *p >= '0' && *p <= '9' && p - key < 19; p++)
		id = id * 10 + (uint64_t)(*p - '0');
	if (*p || p == key || !id)
		return false;
	*idp = id;
	return true;
}

static const char *call_get(struct apireq *req, const char *key)
{
	struct call_walk w;

	memset(&w, 0, sizeof(w));
	if (!call_id(key, &w.id))
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no call '%s'",
				   key);
	w.mb = req->out;
	mbuf_rewind(req->out);
	(void)b2bua_foreach(call_h, &w);
	if (!w.printed)
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no call '%s'",
				   key);
	if (w.err || mbuf_write_u8(req->out, '\n'))
		return apireq_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "cannot format the reply");
	req->status = MHD_HTTP_OK;
	return NULL;
}

/* DELETE is a hangup: BYE (or CANCEL) on both legs, CDR written. */
static const char *call_del(struct apireq *req, const char *key)
{
	uint64_t id;

	if (!call_id(key, &id) || b2bua_hangup(id))
		return apireq_fail(req, MHD_HTTP_NOT_FOUND, "no call '%s'",
				   key);
	req->status = MHD_HTTP_NO_CONTENT;
	return NULL;
}

const struct prov_res prov_calls = {
	.name = "calls",
	.allow_coll = "GET",
	.allow_item = "GET, DELETE",
	.list = call_list,
	.get = call_get,
	.del = call_del,
};
