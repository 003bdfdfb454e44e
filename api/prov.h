/* api/prov.h  /api/v1: provisioning resources over SQLite, JSON in and out */
#ifndef API_PROV_H
#define API_PROV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct apireq;
struct field;
struct field_val;
struct jnode;
struct mbuf;
struct sqlite3_stmt;

/*
 * The handler of every /api/v1 path, after auth: finds the resource
 * and the method's handler (404, 405 with Allow), decodes a JSON body
 * for POST and PUT (400), and runs it. Replies are JSON: an object, a
 * list as a JSON array (X-Total-Count holds the size of the whole
 * collection), 201 with Location for a create, 204 for a delete, and
 * {"error": sentence} for anything refused.
 */
const char *prov_handle(struct apireq *req);

/*
 * The rest is shared by the resource files (prov_*.c) only. Each
 * resource is a table of handlers; a NULL handler is a method the
 * resource does not take. <key> is the path after "/api/v1/<name>/",
 * percent-decoded (libmicrohttpd decodes the path).
 */
struct prov_res {
	const char *name;
	const char *allow_coll;       /* Allow on the collection */
	const char *allow_item;       /* Allow on an item; NULL: none */
	bool        key_slash;        /* a key may hold '/' (CIDRs) */
	const char *(*list)(struct apireq *req);
	const char *(*create)(struct apireq *req, const struct jnode *body);
	const char *(*get)(struct apireq *req, const char *key);
	const char *(*put)(struct apireq *req, const char *key,
			   const struct jnode *body);
	const char *(*del)(struct apireq *req, const char *key);
};

extern const struct prov_res prov_domains;
extern const struct prov_res prov_subscribers;
extern const struct prov_res prov_trunks;
extern const struct prov_res prov_dids;
extern const struct prov_res prov_routes;
extern const struct prov_res prov_blocklist;
extern const struct prov_res prov_registrations;
extern const struct prov_res prov_cdrs;
extern const struct prov_res prov_calls;

#define PROV_LIMIT_DEFAULT 100
#define PROV_LIMIT_MAX     1000
#define PROV_OFFSET_MAX    INT32_MAX

struct prov_page {
	int64_t limit;
	int64_t offset;
};

/*
 * ?limit=&offset= of <req> into <pg>; the names in <extra> (NULL
 * ended, may be NULL) are allowed too, any other parameter is a 400.
 */
const char *prov_page(struct apireq *req, struct prov_page *pg,
		      const char *const *extra);
/* Query parameter <name> (NULL when absent). */
const char *prov_query(const struct apireq *req, const char *name);
/* Query parameter <name> as an integer in <min>..<max> (400 if not). */
const char *prov_query_int(struct apireq *req, const char *name,
			   int64_t min, int64_t max, int64_t *vp,
			   bool *presentp);

/* Check <body> against fields <f>: 400 with the field's sentence. */
const char *prov_fields(struct apireq *req, const struct field *f,
			size_t n, const struct jnode *body,
			struct field_val *vals);

/*
 * 400 "field '<name>' is required" unless field <i> of <f> was given
 * (and is not empty): the keys are required by POST, optional in PUT.
 */
const char *prov_require(struct apireq *req, const struct field *f,
			 const struct field_val *vals, size_t i);
/*
 * 422 unless field <i> was left out or equals <key> (a PUT cannot
 * rename: the key is the URL's). <nocase>: compare ignoring case.
 */
const char *prov_same_key(struct apireq *req, const struct field *f,
			  const struct field_val *vals, size_t i,
			  const char *key, bool nocase);

/* A bound value: text <s>, or integer <i> when <s> is NULL. */
struct prov_arg {
	const char *s;
	int64_t     i;
	bool        null;             /* SQL NULL */
};

#define PROV_S(str) { .s = (str) }
#define PROV_I(n)   { .i = (n) }
#define PROV_NULL   { .null = true }

/*
 * Prepare <sql> and bind <args> to its first <nargs> parameters. 503
 * without a database, 500 on an SQL error (logged).
 */
const char *prov_prepare(struct apireq *req, struct sqlite3_stmt **stp,
			 const char *sql, const struct prov_arg *args,
			 size_t nargs);
/*
 * Step write statement <st> to its end and finalize it. A PRIMARY KEY,
 * UNIQUE or FOREIGN KEY violation is a 409 with sentence <conflict>;
 * a busy database 503; anything else 500 (logged). *changesp (may be
 * NULL) gets the number of rows changed.
 */
const char *prov_exec(struct apireq *req, struct sqlite3_stmt *st,
		      const char *conflict, int *changesp);
/* prov_prepare() and prov_exec() of <sql> in one. */
const char *prov_run(struct apireq *req, const char *sql,
		     const struct prov_arg *args, size_t nargs,
		     const char *conflict, int *changesp);
/* The first column of the one row <sql> returns, as an integer. */
const char *prov_int(struct apireq *req, const char *sql,
		     const struct prov_arg *args, size_t nargs,
		     int64_t *vp);
/* BEGIN IMMEDIATE, COMMIT, ROLLBACK (the last never fails). */
const char *prov_begin(struct apireq *req);
const char *prov_commit(struct apireq *req);
void        prov_rollback(void);
/* The ROWID of the last INSERT. */
int64_t     prov_last_id(void);

/* How a column is printed. */
enum prov_kind {
	PROV_TEXT = 1,     /* string; NULL prints null */
	PROV_INT,          /* integer; NULL prints null */
	PROV_BOOL,         /* 0/1 as false/true */
	PROV_JSON,         /* JSON text stored by us, printed as is */
};

struct prov_col {
	const char    *name;
	enum prov_kind kind;
};

#define NCOLS(c) (sizeof(c) / sizeof((c)[0]))

/* Prints more members of a row after its columns (", \"x\": ..."). */
typedef int (prov_row_h)(struct mbuf *mb, struct sqlite3_stmt *st,
			 void *arg);

/*
 * GET of a collection: <count_sql> gives the total, <sql> the rows
 * of page <pg> (it ends in "LIMIT ? OFFSET ?", bound after <args>);
 * both take <args>. Columns <cols> are the result's first ones, in
 * order. Replies 200 with the array and X-Total-Count.
 */
const char *prov_list(struct apireq *req, const struct prov_page *pg,
		      const char *count_sql, const char *sql,
		      const struct prov_arg *args, size_t nargs,
		      const struct prov_col *cols, size_t ncols,
		      prov_row_h *rowh, void *arg);
/*
 * GET of one object: the one row of <sql> replied with <status>, or
 * 404 with sentence <missing> when there is none.
 */
const char *prov_one(struct apireq *req, uint16_t status, const char *sql,
		     const struct prov_arg *args, size_t nargs,
		     const struct prov_col *cols, size_t ncols,
		     prov_row_h *rowh, void *arg, const char *missing);

/* Print the strings of array <arr> as JSON text, canonicalized by
 * <canon> when given (0 or an errno). */
int  prov_strings(struct mbuf *mb, const struct jnode *arr,
		  int (*canon)(const char *s, char *buf, size_t sz));

/* Set the Location of a 201 to /api/v1/<res>/<key>, percent-encoded. */
void prov_location(struct apireq *req, const char *res, const char *key);

/* Lower-case copy of <s> into <buf> (0 or ENOSPC). */
int  prov_lower(char *buf, size_t sz, const char *s);

#endif
