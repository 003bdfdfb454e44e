/* api/apireq.c  One REST request: what came in, what goes out */
#include <stdarg.h>
#include <string.h>

#include <re.h>

#include "apireq.h"
#include "log.h"

#define JSON_TYPE "application/json"

static void apireq_destructor(void *arg)
{
	struct apireq *req = arg;

	mem_deref(req->body);
	mem_deref(req->out);
}

int apireq_alloc(struct apireq **reqp, struct MHD_Connection *conn,
		 const char *method, const char *url)
{
	struct apireq *req;

	if (!reqp || !conn || !method || !url)
		return EINVAL;

	req = mem_zalloc(sizeof(*req), apireq_destructor);
	if (!req)
		return ENOMEM;

	req->out = mbuf_alloc(512);
	if (!req->out) {
		mem_deref(req);
		return ENOMEM;
	}
	req->conn = conn;
	req->method = method;
	req->url = url;
	req->status = 500;
	req->ctype = JSON_TYPE;
	req->total = -1;
	*reqp = req;
	return 0;
}

int apireq_append(struct apireq *req, const char *data, size_t len)
{
	if (!req || (!data && len))
		return EINVAL;
	if (req->too_big)
		return 0;

	if ((req->body ? req->body->end : 0) + len > APIREQ_BODY_MAX) {
		req->too_big = true;
		req->body = mem_deref(req->body);
		return 0;
	}
	if (!req->body) {
		req->body = mbuf_alloc(len ? len : 1);
		if (!req->body)
			return ENOMEM;
	}
	return mbuf_write_mem(req->body, (const uint8_t *)data, len);
}

const char *apireq_header(const struct apireq *req, const char *name)
{
	if (!req || !name)
		return NULL;
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/*
 * Length of the well-formed UTF-8 sequence at <p> (1 for ASCII), or 0
 * (RFC 3629: no overlong forms, surrogates or code points past
 * U+10FFFF). <p> is NUL ended, so reading stops at the NUL.
 */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;

	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return n;
}

/*
 * Strings from the database or a URL are not always UTF-8 (a SIP
 * header in a CDR, a percent-decoded key): a byte that does not start
 * a well-formed sequence is printed as U+FFFD, so the reply is always
 * valid JSON.
 */
int apireq_json_str(struct re_printf *pf, const char *s)
{
	const unsigned char *p, *run;
	int err = 0;

	if (!s)
		return re_hprintf(pf, "null");

	err |= pf->vph("\"", 1, pf->arg);
	for (p = run = (const unsigned char *)s; *p;) {
		char esc[8];
		size_t n = utf8_len(p);

		if (n > 1 || (n == 1 && *p >= 0x20 && *p != '"' &&
			      *p != '\\' && *p != 0x7f)) {
			p += n;
			continue;
		}
		if (!n)
			str_ncpy(esc, "\\ufffd", sizeof(esc));
		else if (*p == '"' || *p == '\\')
			re_snprintf(esc, sizeof(esc), "\\%c", *p);
		else
			re_snprintf(esc, sizeof(esc), "\\u%04x", *p);
		err |= pf->vph((const char *)run, (size_t)(p - run), pf->arg);
		err |= pf->vph(esc, strlen(esc), pf->arg);
		run = ++p;
	}
	err |= pf->vph((const char *)run, (size_t)(p - run), pf->arg);
	err |= pf->vph("\"", 1, pf->arg);
	return err;
}

int apireq_json(struct apireq *req, uint16_t status, const char *fmt, ...)
{
	va_list ap;
	int err;

	if (!req || !fmt)
		return EINVAL;

	mbuf_rewind(req->out);
	va_start(ap, fmt);
	err = mbuf_vprintf(req->out, fmt, ap);
	va_end(ap);
	req->status = status;
	req->ctype = JSON_TYPE;
	return err;
}

const char *apireq_fail(struct apireq *req, uint16_t status,
			const char *fmt, ...)
{
	va_list ap;

	if (!req)
		return "internal error";
	va_start(ap, fmt);
	(void)re_vsnprintf(req->why, sizeof(req->why), fmt, ap);
	va_end(ap);
	req->status = status;
	return req->why;
}

int apireq_error(struct apireq *req, uint16_t status, const char *sentence)
{
	return apireq_json(req, status, "{\"error\": %H}\n", apireq_json_str,
			   sentence ? sentence : "internal error");
}

enum MHD_Result apireq_send(struct apireq *req)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (req->answered)
		return MHD_YES;
	req->answered = true;

	resp = MHD_create_response_from_buffer(req->out->end, req->out->buf,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;

	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				req->ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	if (req->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					req->allow);
	if (req->location && req->status == MHD_HTTP_CREATED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
					req->location);
	if (req->total >= 0 && req->status == MHD_HTTP_OK) {
		char n[24];

		re_snprintf(n, sizeof(n), "%lld", (long long)req->total);
		MHD_add_response_header(resp, "X-Total-Count", n);
	}
	if (req->retry_after) {
		char n[16];

		re_snprintf(n, sizeof(n), "%u", req->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, n);
	}
	if (req->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					req->bad_token ?
					"Bearer realm=\"sbc\", "
					"error=\"invalid_token\"" :
					"Bearer realm=\"sbc\"");

	ret = MHD_queue_response(req->conn, req->status, resp);
	MHD_destroy_response(resp);

	log_debug("api", "%s %s -> %u", req->method, req->url, req->status);
	return ret;
}
