/* api/apireq.h  One REST request: what came in, what goes out */
#ifndef API_APIREQ_H
#define API_APIREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

struct mbuf;
struct re_printf;

#define APIREQ_BODY_MAX (64 * 1024)   /* more is 413 */

/*
 * A request from its headers to its completion. libmicrohttpd keeps it
 * as the connection's context and the completion callback releases
 * it, so it is the reference that keeps everything a handler uses
 * alive (the entry-point rule). <method> and <url> are libmicrohttpd's
 * and live as long as the request.
 */
struct apireq {
	struct MHD_Connection *conn;
	const char  *method;
	const char  *url;
	struct mbuf *body;        /* NULL: no body */
	bool         too_big;     /* more than APIREQ_BODY_MAX came */
	bool         answered;
	const void  *route;       /* the dispatcher's choice */

	/* the reply */
	uint16_t     status;
	const char  *ctype;
	const char  *allow;       /* Allow header (405) */
	bool         bad_token;   /* 401: a token was given, and wrong */
	const char  *location;    /* Location header (201); NULL: none */
	int64_t      total;       /* X-Total-Count (lists); -1: none */
	uint32_t     retry_after; /* Retry-After seconds (429); 0: none */
	struct mbuf *out;
	char         why[256];    /* an error sentence apireq_fail() made */
	char         loc[320];    /* storage for <location> */
};

/*
 * A resource handler. It fills the reply (status, body) and returns
 * NULL, or sets <status> and returns the sentence for the JSON error
 * body (status 500 if it set none).
 */
typedef const char *(apireq_h)(struct apireq *req);

int  apireq_alloc(struct apireq **reqp, struct MHD_Connection *conn,
		  const char *method, const char *url);
/* Add body bytes; past APIREQ_BODY_MAX they are dropped and too_big set. */
int  apireq_append(struct apireq *req, const char *data, size_t len);
/* Request header <name>, or NULL. */
const char *apireq_header(const struct apireq *req, const char *name);

/* Reply <status> with a JSON body printed from <fmt>. */
int  apireq_json(struct apireq *req, uint16_t status, const char *fmt, ...);
/* Reply <status> with {"error": "<sentence>"}. */
int  apireq_error(struct apireq *req, uint16_t status, const char *sentence);
/*
 * Set <status> and format the error sentence into req->why, which it
 * returns: "return apireq_fail(req, 404, "no trunk '%s'", name);" in a
 * handler.
 */
const char *apireq_fail(struct apireq *req, uint16_t status,
			const char *fmt, ...);
/* %H handler: <s> as a quoted JSON string. */
int  apireq_json_str(struct re_printf *pf, const char *s);

/* Queue the reply on the connection (once). */
enum MHD_Result apireq_send(struct apireq *req);

#endif
