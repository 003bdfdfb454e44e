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

int apireq_json_str(struct re_printf *pf, const char *s)
{
	const unsigned char *p, *run;
	int err = 0;

	if (!s)
		return re_hprintf(pf, "null");

	err |= pf->vph("\"", 1, pf->arg);
	for (p = run = (const unsigned char *)s; *p; p++) {
		char esc[8];

		if (*p == '"' || *p == '\\')
			re_snprintf(esc, sizeof(esc), "\\%c", *p);
		else if (*p < 0x20)
			re_snprintf(esc, sizeof(esc), "\\u%04x", *p);
		else
			continue;
		err |= pf->vph((const char *)run, (size_t)(p - run), pf->arg);
		err |= pf->vph(esc, strlen(esc), pf->arg);
		run = p + 1;
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
