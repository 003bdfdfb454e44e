/* api/api.c  REST API, /health, /metrics and the dashboard, in sbc's loop */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "api.h"
#include "apireq.h"
#include "authlim.h"
#include "cfg.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "prov.h"
#include "sbc.h"
#include "www.h"

#define API_CONN_MAX        64
#define API_CONN_TIMEOUT_S  30
#define API_TMR_MAX_MS      (60 * 1000)

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * The dashboard's files may load nothing but each other and talk to
 * nothing but this server: no inline script or style, no other origin,
 * no framing, no form posted anywhere.
 */
#define WWW_ALLOW "GET, HEAD"
#define WWW_CSP   "default-src 'self'; base-uri 'none'; form-action 'none'; " \
		  "frame-ancestors 'none'; object-src 'none'"

enum auth {
	AUTH_NONE = 0,
	AUTH_METRICS,        /* the token when metrics_auth is yes */
	AUTH_TOKEN,
};

/*
 * The routes, checked in order: path, whether it is a prefix (then
 * "<path>" and "<path>/..." match), auth, the methods it takes (NULL:
 * the handler decides) and the handler.
 */
struct route {
	const char *path;
	bool        prefix;
	enum auth   auth;
	const char *allow;
	apireq_h   *h;
};

static const char *get_health(struct apireq *req);
static const char *get_metrics(struct apireq *req);

static const struct route routes[] = {
	{ "/health",  false, AUTH_NONE,    "GET, HEAD", get_health  },
	{ "/metrics", false, AUTH_METRICS, "GET, HEAD", get_metrics },
	{ "/api/v1",  true,  AUTH_TOKEN,   NULL,        prov_handle },
};

static struct {
	struct MHD_Daemon *d;
	int                fd;
	struct tmr         tmr;
	uint64_t           requests;
	uint64_t           refused;     /* 401 */
	uint64_t           limited;     /* 429: source blocked */
} api = { .fd = -1 };

static const char *get_health(struct apireq *req)
{
	struct sbc_health h;

	sbc_health(&h);
	apireq_json(req, h.mediad_up ? MHD_HTTP_OK :
		    MHD_HTTP_SERVICE_UNAVAILABLE,
		    "{\"status\": \"%s\", \"mediad\": \"%s\", "
		    "\"uptime_s\": %llu}\n",
		    h.mediad_up ? "ok" : "degraded",
		    h.mediad_up ? "up" : "down",
		    (unsigned long long)h.uptime_s);
	return NULL;
}

static const char *get_metrics(struct apireq *req)
{
	mbuf_rewind(req->out);
	if (mbuf_printf(req->out, "%H%H", sbc_metrics, NULL, api_metrics,
			NULL)) {
		req->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		return "cannot format the metrics";
	}
	req->status = MHD_HTTP_OK;
	req->ctype = METRICS_TYPE;
	return NULL;
}

static const struct route *route_find(const char *url)
{
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		size_t n = strlen(r->path);

		if (!strcmp(url, r->path))
			return r;
		if (r->prefix && !strncmp(url, r->path, n) && url[n] == '/')
			return r;
	}
	return NULL;
}

/* True when <method> is one of comma separated <allow>. */
static bool method_allowed(const char *allow, const char *method)
{
	size_t n = strlen(method);
	const char *p = allow;

	while (p && *p) {
		while (*p == ' ' || *p == ',')
			++p;
		if (!strncmp(p, method, n) && (p[n] == ',' || !p[n]))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

/* The embedded dashboard file served at <url> ("/" is the page), or NULL. */
static const struct www_file *www_find(const char *url)
{
	size_t i;

	if (!strcmp(url, "/"))
		url = "/index.html";
	for (i = 0; i < www_nfiles; i++) {
		if (!strcmp(url, www_files[i].path))
			return &www_files[i];
	}
	return NULL;
}

/*
 * Answer <req> with dashboard file <f>. The files are open to anyone
 * who reaches the API port: they hold no data, and the page asks for
 * the token and sends it to /api/v1 itself. libmicrohttpd only reads
 * the embedded bytes (PERSISTENT: no copy); HEAD gets the headers.
 */
static enum MHD_Result www_send(struct apireq *req, const struct www_file *f)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!method_allowed(WWW_ALLOW, req->method)) {
		req->allow = WWW_ALLOW;
		apireq_error(req, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "method not allowed on this resource");
		return apireq_send(req);
	}

	req->answered = true;
	resp = MHD_create_response_from_buffer(f->len, (void *)f->data,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;

	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f->ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-cache");
	MHD_add_response_header(resp,
				MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY,
				WWW_CSP);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS,
				"nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_X_FRAME_OPTIONS, "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");

	ret = MHD_queue_response(req->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	log_debug("api", "%s %s -> 200 (dashboard)", req->method, req->url);
	return ret;
}

/*
 * Compare in time that depends on the configured token's length only,
 * never on where the given one first differs.
 */
static bool token_equal(const char *given, size_t glen, const char *want)
{
	size_t i, wlen = strlen(want);
	unsigned char d = glen != wlen;

	for (i = 0; i < wlen; i++)
		d |= (unsigned char)want[i] ^
			(unsigned char)(i < glen ? given[i] : 0);
	return d == 0;
}

/* NULL when <req> may pass <mode>, else the sentence for the 401. */
static const char *auth_check(struct apireq *req, enum auth mode)
{
	const struct sbc_config *cfg = sbc_config();
	const char *h, *tok;
	size_t len;

	if (mode == AUTH_NONE || (mode == AUTH_METRICS && !cfg->metrics_auth))
		return NULL;

	if (!cfg->api_token[0])
		return "the API is disabled: api_token is not set";

	h = apireq_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7))
		return "a bearer token is required";

	for (tok = h + 7; *tok == ' '; tok++)
		;
	len = strlen(tok);
	while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
		--len;

	if (!token_equal(tok, len, cfg->api_token)) {
		req->bad_token = true;
		return "the bearer token is not valid";
	}
	return NULL;
}

static const struct sockaddr *client_addr(const struct apireq *req)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(req->conn,
				     MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci ? ci->client_addr : NULL;
}

/*
 * The token check with its brute-force guard: a source that failed
 * more than AUTHLIM_FAILS times in a minute gets 429 for a minute,
 * whatever it sends, so guessing the token costs it real time. Every
 * 401 counts in sbc_api_auth_failures_total. 0 when <req> may pass.
 */
static uint16_t auth_guard(struct apireq *req, enum auth mode)
{
	const struct sockaddr *sa;
	const char *why;
	uint64_t left, now = clock_ms();

	if (mode == AUTH_NONE ||
	    (mode == AUTH_METRICS && !sbc_config()->metrics_auth))
		return 0;

	sa = client_addr(req);
	left = authlim_blocked(sa, now);
	if (left) {
		++api.limited;
		req->retry_after = (uint32_t)((left + 999) / 1000);
		apireq_error(req, MHD_HTTP_TOO_MANY_REQUESTS,
			     "too many failed authentications from this "
			     "address: try again later");
		return req->status;
	}

	why = auth_check(req, mode);
	if (!why)
		return 0;

	++api.refused;
	if (authlim_fail(sa, now))
		log_warn("api", "%s %s: more than %u failed "
			 "authentications in %u s from one source: blocked "
			 "for %u s", req->method, req->url, AUTHLIM_FAILS,
			 AUTHLIM_WINDOW_MS / 1000, AUTHLIM_BLOCK_MS / 1000);
	apireq_error(req, MHD_HTTP_UNAUTHORIZED, why);
	return req->status;
}

/*
 * Everything decided from the headers alone: route, auth, method and a
 * declared body size. 0 when the request may go on to its handler, or
 * the status of the error reply already put in <req>.
 */
static uint16_t precheck(struct apireq *req, const struct route **rp)
{
	const struct route *r;
	const char *clen;

	r = route_find(req->url);
	if (!r) {
		apireq_error(req, MHD_HTTP_NOT_FOUND, "no such resource");
		return req->status;
	}

	if (auth_guard(req, r->auth))
		return req->status;

	if (r->allow && !method_allowed(r->allow, req->method)) {
		req->allow = r->allow;
		apireq_error(req, MHD_HTTP_METHOD_NOT_ALLOWED,
			     "method not allowed on this resource");
		return req->status;
	}

	clen = apireq_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (clen && strtoull(clen, NULL, 10) > APIREQ_BODY_MAX) {
		apireq_error(req, MHD_HTTP_CONTENT_TOO_LARGE,
			     "the request body is larger than 64 KiB");
		return req->status;
	}

	*rp = r;
	return 0;
}

/* The last call: the body is complete and precheck() passed. */
static void dispatch(struct apireq *req)
{
	const struct route *r = req->route;
	const char *why;

	if (req->too_big) {
		apireq_error(req, MHD_HTTP_CONTENT_TOO_LARGE,
			     "the request body is larger than 64 KiB");
		return;
	}

	req->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	why = r->h(req);
	if (why)
		apireq_error(req, req->status, why);
}

/*
 * libmicrohttpd calls this once with the headers, once per piece of
 * body, and once more at the end (<upload_data_size> 0). Errors that
 * the headers decide are answered at the first call, before any body
 * is read; the rest at the last.
 */
static enum MHD_Result access_h(void *cls, struct MHD_Connection *conn,
				const char *url, const char *method,
				const char *version, const char *upload_data,
				size_t *upload_data_size, void **ctx)
{
	struct apireq *req = *ctx;
	const struct route *r = NULL;
	const struct www_file *f;

	(void)cls;
	(void)version;

	if (!req) {
		if (apireq_alloc(&req, conn, method, url))
			return MHD_NO;
		*ctx = req;
		++api.requests;
		/* the dashboard's files first: they need no token */
		f = www_find(url);
		if (f)
			return www_send(req, f);
		if (precheck(req, &r))
			return apireq_send(req);
		req->route = r;
		return MHD_YES;
	}

	if (*upload_data_size) {
		if (!req->answered && apireq_append(req, upload_data,
						    *upload_data_size))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (req->answered)
		return MHD_YES;
	dispatch(req);
	return apireq_send(req);
}

static void completed_h(void *cls, struct MHD_Connection *conn, void **ctx,
			enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;

	*ctx = mem_deref(*ctx);
}

static void logger_h(void *cls, const char *fmt, va_list ap)
{
	(void)cls;

	log_vmsg(LOG_LVL_WARN, "api", fmt, ap);
}

static void run(void);

static void mhd_tmr(void *arg)
{
	(void)arg;
	run();
}

static void mhd_fd(int flags, void *arg)
{
	(void)flags;
	(void)arg;
	run();
}

/* Let libmicrohttpd work, then wake up again when it next needs to. */
static void run(void)
{
	MHD_UNSIGNED_LONG_LONG to = 0;

	if (!api.d)
		return;

	(void)MHD_run(api.d);

	if (MHD_get_timeout(api.d, &to) == MHD_YES)
		tmr_start(&api.tmr, to < API_TMR_MAX_MS ? to : API_TMR_MAX_MS,
			  mhd_tmr, NULL);
	else
		tmr_cancel(&api.tmr);
}

int api_start(const struct cfg_addr *addr)
{
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	int err;

	if (!addr || !addr->len)
		return EINVAL;

	if (addr->ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;

	tmr_init(&api.tmr);
	authlim_reset();
	errno = 0;
	/* the logger first, so it gets the errors of the other options */
	api.d = MHD_start_daemon(flags, 0, NULL, NULL, access_h, NULL,
		MHD_OPTION_EXTERNAL_LOGGER, logger_h, NULL,
		MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&addr->ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONN_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONN_TIMEOUT_S,
		MHD_OPTION_NOTIFY_COMPLETED, completed_h, NULL,
		MHD_OPTION_END);
	if (!api.d) {
		err = errno ? errno : EADDRNOTAVAIL;
		log_err("api", "cannot listen on %s: %s", addr->text,
			strerror(err));
		return err;
	}

	info = MHD_get_daemon_info(api.d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd == -1) {
		log_err("api", "libmicrohttpd gave no epoll fd");
		err = ENOTSUP;
		goto out;
	}
	api.fd = info->epoll_fd;

	err = fd_listen(api.fd, FD_READ, mhd_fd, NULL);
	if (err) {
		log_err("api", "fd_listen: %s", strerror(err));
		api.fd = -1;
		goto out;
	}

	log_info("api", "listening on http://%s", addr->text);
	run();
 out:
	if (err)
		api_stop();
	return err;
}

void api_stop(void)
{
	/* out of the loop first: stopping closes the epoll fd */
	if (api.fd != -1) {
		fd_close(api.fd);
		api.fd = -1;
	}
	tmr_cancel(&api.tmr);
	if (api.d) {
		MHD_stop_daemon(api.d);
		api.d = NULL;
	}
}

int api_metrics(struct re_printf *pf, void *unused)
{
	int err;

	(void)unused;

	err = metrics_head(pf, "sbc_api_requests_total", "counter",
			   "HTTP requests the REST API received.");
	err |= re_hprintf(pf, "sbc_api_requests_total %llu\n",
			  (unsigned long long)api.requests);
	err |= metrics_head(pf, "sbc_api_auth_failures_total", "counter",
			    "API requests refused with 401: bearer token "
			    "missing or wrong.");
	err |= re_hprintf(pf, "sbc_api_auth_failures_total %llu\n",
			  (unsigned long long)api.refused);
	err |= metrics_head(pf, "sbc_api_auth_limited_total", "counter",
			    "API requests refused with 429: their source "
			    "failed authentication too often.");
	err |= re_hprintf(pf, "sbc_api_auth_limited_total %llu\n",
			  (unsigned long long)api.limited);
	err |= metrics_head(pf, "sbc_api_auth_blocked_sources", "gauge",
			    "Source addresses the API refuses for now after "
			    "repeated authentication failures.");
	err |= re_hprintf(pf, "sbc_api_auth_blocked_sources %u\n",
			  authlim_nblocked(clock_ms()));
	return err;
}

int api_debug(struct re_printf *pf, void *unused)
{
	(void)unused;

	return re_hprintf(pf, "api: %s requests=%llu refused=%llu "
			  "limited=%llu",
			  api.d ? "listening" : "stopped",
			  (unsigned long long)api.requests,
			  (unsigned long long)api.refused,
			  (unsigned long long)api.limited);
}
