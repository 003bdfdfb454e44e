/* sbc/trunk.c  Trunk liveness (OPTIONS probes), registration and limits */
#include <errno.h>
#include <string.h>

#include <sqlite3.h>
#include <re.h>

#include "log.h"
#include "metrics.h"
#include "route.h"
#include "sipsrv.h"
#include "trunk.h"

#define TRUNK_TICK_MS      30000   /* reload the table, probe every trunk */
#define TRUNK_REG_EXPIRES  600     /* seconds asked for in REGISTER */
#define TRUNK_UNKNOWN_MAX  64      /* names counted that are no trunk */
#define TRUNK_URI_MAX      (ROUTE_HOST_MAX + 3 * ROUTE_CRED_MAX + 32)

/*
 * What the registration's auth handler needs. Reference counted and
 * held by libre's sip_auth: a sipreg outlives our mem_deref() while its
 * un-REGISTER is in flight and may still be challenged, long after the
 * trunk it came from is gone.
 */
struct trunk_cred {
	char username[ROUTE_CRED_MAX];
	char password[ROUTE_CRED_MAX];
	char realm[ROUTE_CRED_MAX];
};

/*
 * One trunk of the table, or a name trunk_call_begin() was given that
 * is no (longer a) trunk: such an entry only counts calls and goes when
 * its last call ends. The list owns its entries.
 */
struct trunk {
	struct le           le;
	struct route_trunk  cfg;        /* the row; cfg.name is the key */
	bool                known;      /* a row of the trunks table */
	bool                seen;       /* during a reload */
	struct sip_request *probe;      /* OPTIONS in flight (a handle) */
	struct sipreg      *reg;
	struct sa           peer;       /* answered the last probe/REGISTER */
	bool                probed;
	bool                reachable;
	bool                registered;
	uint16_t            reg_scode;
	uint32_t            active;
	uint64_t            tokens;     /* max_cps bucket, 1/1000 calls */
	uint64_t            refill_ms;
	uint64_t            refused;
	uint32_t            cseq;
};

static struct {
	sqlite3      *db;
	sqlite3_stmt *st;
	struct list   trunks;
	struct tmr    tmr;
	unsigned      unknown;
} tk;

static const char trunk_sql[] =
	"SELECT name, host, port, transport, register, username, password, "
	"realm, max_calls, max_cps, media, enabled FROM trunks ORDER BY name";

static void trunk_destructor(void *arg)
{
	struct trunk *t = arg;

	list_unlink(&t->le);
	if (!t->known && tk.unknown)
		--tk.unknown;
	/* a handle: libre lets the transaction finish without calling us */
	t->probe = mem_deref(t->probe);
	/* sends an un-REGISTER when registered, and lingers for it */
	t->reg = mem_deref(t->reg);
}

static struct trunk *trunk_find(const char *name)
{
	struct le *le;

	for (le = tk.trunks.head; le; le = le->next) {
		struct trunk *t = le->data;

		if (!strcmp(t->cfg.name, name))
			return t;
	}
	return NULL;
}

static const char *tp_name(enum sip_transp tp)
{
	switch (tp) {

	case SIP_TRANSP_TCP: return "tcp";
	case SIP_TRANSP_TLS: return "tls";
	default:             return "udp";
	}
}

/* %H: <host> for a URI, an IPv6 literal in brackets (RFC 3261 25.1). */
static int host_print(struct re_printf *pf, const char *host)
{
	if (strchr(host, ':') && host[0] != '[')
		return re_hprintf(pf, "[%s]", host);
	return re_hprintf(pf, "%s", host);
}

static bool host_is_literal(const char *host)
{
	struct route_cidr c;
	struct pl h;

	pl_set_str(&h, host);
	if (h.l > 2 && h.p[0] == '[' && h.p[h.l - 1] == ']') {
		++h.p;
		h.l -= 2;
	}
	return !memchr(h.p, '/', h.l) && !route_cidr_parse(&c, &h);
}

static void set_reachable(struct trunk *t, bool up, int err,
			  const struct sip_msg *msg)
{
	bool changed = !t->probed || up != t->reachable;

	t->probed = true;
	t->reachable = up;
	if (!changed || err == ECONNABORTED)    /* shutting down */
		return;
	if (up)
		log_info("trunk", "%s: reachable (OPTIONS answered %u)",
			 t->cfg.name, msg ? msg->scode : 0);
	else
		log_warn("trunk", "%s: unreachable (%s)", t->cfg.name,
			 err ? strerror(err) : "no answer");
}

/* A probe's answer: any response at all, even an error, is life. */
static void probe_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct trunk *t = arg;

	if (msg && !err)
		t->peer = msg->src;
	set_reachable(t, msg && !err, err, msg);
}

/* Contact with what the far side can reach: advertised_ip if set. */
static int probe_send_h(enum sip_transp tp, const struct sa *src,
			const struct sa *dst, struct mbuf *mb, void *arg)
{
	struct sa laddr;

	(void)arg;

	if (sipsrv_laddr(&laddr, tp, dst))
		laddr = *src;
	return mbuf_printf(mb, "Contact: <sip:ping@%J%s>\r\n", &laddr,
			   sip_transp_param(tp));
}

/* OPTIONS to <t> unless one is in flight (a UDP one lives 32 s). */
static void probe_send(struct trunk *t)
{
	struct sip *sip = sipsrv_sip();
	char uri[TRUNK_URI_MAX];
	int err;

	if (!sip || t->probe || !t->known || !t->cfg.enabled)
		return;

	re_snprintf(uri, sizeof(uri), "sip:%H:%u;transport=%s", host_print,
		    t->cfg.host, t->cfg.port, tp_name(t->cfg.tp));
	err = sip_requestf(&t->probe, sip, true, "OPTIONS", uri, NULL, NULL,
			   probe_send_h, probe_resp_h, t,
			   "To: <sip:%H>\r\n"
			   "From: <sip:ping@%H>;tag=%016llx\r\n"
			   "Call-ID: %016llx%016llx\r\n"
			   "CSeq: %u OPTIONS\r\n"
			   "Accept: application/sdp\r\n"
			   "Content-Length: 0\r\n"
			   "\r\n",
			   host_print, t->cfg.host, host_print, t->cfg.host,
			   (unsigned long long)rand_u64(),
			   (unsigned long long)rand_u64(),
			   (unsigned long long)rand_u64(), ++t->cseq);
	if (err)
		set_reachable(t, false, err, NULL);
}

static int reg_auth_h(char **user, char **pass, const char *realm,
		      void *arg)
{
	const struct trunk_cred *c = arg;
	int err;

	if (!c->username[0])
		return EAUTH;
	/* a realm set on the trunk is the only one we answer */
	if (c->realm[0] && str_casecmp(c->realm, realm))
		return EAUTH;
	err = str_dup(user, c->username);
	if (!err)
		err = str_dup(pass, c->password);
	return err;
}

/* Every final answer (after libre answered the challenge). */
static void reg_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct trunk *t = arg;
	bool ok = !err && msg && msg->scode >= 200 && msg->scode < 300;
	bool changed = ok != t->registered || !t->reg_scode;

	if (msg && !err)
		t->peer = msg->src;
	t->reg_scode = msg ? msg->scode : 0;
	t->registered = ok;
	if (!changed || err == ECONNABORTED)
		return;
	if (ok)
		log_info("trunk", "%s: registered", t->cfg.name);
	else if (msg)
		log_warn("trunk", "%s: REGISTER answered %u %.*s",
			 t->cfg.name, msg->scode, (int)msg->reason.l,
			 msg->reason.p);
	else
		log_warn("trunk", "%s: REGISTER failed: %s", t->cfg.name,
			 strerror(err));
}

static void reg_start(struct trunk *t)
{
	struct sip *sip = sipsrv_sip();
	char ruri[TRUNK_URI_MAX], aor[TRUNK_URI_MAX], user[3 * ROUTE_CRED_MAX];
	struct trunk_cred *c;
	struct pl u;
	int err;

	if (!sip || t->reg || !t->known || !t->cfg.enabled || !t->cfg.reg)
		return;

	c = mem_zalloc(sizeof(*c), NULL);
	if (!c)
		return;
	str_ncpy(c->username, t->cfg.username, sizeof(c->username));
	str_ncpy(c->password, t->cfg.password, sizeof(c->password));
	str_ncpy(c->realm, t->cfg.realm, sizeof(c->realm));

	pl_set_str(&u, t->cfg.username[0] ? t->cfg.username : t->cfg.name);
	re_snprintf(user, sizeof(user), "%H", uri_user_escape, &u);
	re_snprintf(ruri, sizeof(ruri), "sip:%H:%u;transport=%s", host_print,
		    t->cfg.host, t->cfg.port, tp_name(t->cfg.tp));
	re_snprintf(aor, sizeof(aor), "sip:%s@%H", user, host_print,
		    t->cfg.host);

	/* libre re-registers before expiry and backs off on failures */
	err = sipreg_register(&t->reg, sip, ruri, aor, NULL, aor,
			      TRUNK_REG_EXPIRES, user, NULL, 0, 0,
			      reg_auth_h, c, true, reg_resp_h, t, NULL, NULL);
	mem_deref(c);
	if (err) {
		log_warn("trunk", "%s: cannot send REGISTER: %s (retried in "
			 "%u s)", t->cfg.name, strerror(err),
			 TRUNK_TICK_MS / 1000);
		t->reg_scode = 0;
		t->registered = false;
	}
}

/* Stop what talks to the trunk and forget what it said. */
static void trunk_reset(struct trunk *t)
{
	t->probe = mem_deref(t->probe);
	t->reg = mem_deref(t->reg);
	t->probed = false;
	t->reachable = false;
	t->registered = false;
	t->reg_scode = 0;
	memset(&t->peer, 0, sizeof(t->peer));
}

/* The fields whose change means a new peer: state starts again. */
static bool signalling_changed(const struct route_trunk *a,
			       const struct route_trunk *b)
{
	return strcmp(a->host, b->host) || a->port != b->port ||
		a->tp != b->tp || a->reg != b->reg ||
		strcmp(a->username, b->username) ||
		strcmp(a->password, b->password) ||
		strcmp(a->realm, b->realm) || a->enabled != b->enabled;
}

static void bucket_fill(struct trunk *t, uint64_t now)
{
	uint64_t cap = (uint64_t)t->cfg.max_cps * 1000;

	if (now > t->refill_ms)
		t->tokens += (now - t->refill_ms) * t->cfg.max_cps;
	t->refill_ms = now;
	if (t->tokens > cap)
		t->tokens = cap;
}

static struct trunk *trunk_new(const char *name, bool known)
{
	struct trunk *t = mem_zalloc(sizeof(*t), trunk_destructor);

	if (!t)
		return NULL;
	str_ncpy(t->cfg.name, name, sizeof(t->cfg.name));
	t->known = known;
	if (!known)
		++tk.unknown;
	list_append(&tk.trunks, &t->le, t);
	return t;
}

/* Row <st> into <r>: false (and a warning) when a value does not fit. */
static bool row_read(struct route_trunk *r, sqlite3_stmt *st)
{
	static const size_t sz[] = {
		ROUTE_NAME_MAX, ROUTE_HOST_MAX, 0, 8, 0, ROUTE_CRED_MAX,
		ROUTE_CRED_MAX, ROUTE_CRED_MAX, 0, 0, 16
	};
	char *dst[] = {
		r->name, r->host, NULL, NULL, NULL, r->username,
		r->password, r->realm, NULL, NULL, NULL
	};
	char tp[8] = "", media[16] = "";
	unsigned i;

	memset(r, 0, sizeof(*r));
	dst[3] = tp;
	dst[10] = media;
	for (i = 0; i < ARRAY_SIZE(dst); i++) {
		const unsigned char *v;

		if (!dst[i])
			continue;
		v = sqlite3_column_text(st, (int)i);
		if ((size_t)sqlite3_column_bytes(st, (int)i) >= sz[i]) {
			log_warn("trunk", "trunk '%.40s': %s is too long; "
				 "trunk ignored",
				 (const char *)sqlite3_column_text(st, 0),
				 sqlite3_column_name(st, (int)i));
			return false;
		}
		str_ncpy(dst[i], v ? (const char *)v : "", sz[i]);
	}
	r->port = (uint16_t)sqlite3_column_int(st, 2);
	r->tp = !strcmp(tp, "tcp") ? SIP_TRANSP_TCP :
		!strcmp(tp, "tls") ? SIP_TRANSP_TLS : SIP_TRANSP_UDP;
	r->reg = sqlite3_column_int(st, 4) != 0;
	r->max_calls = (uint32_t)sqlite3_column_int64(st, 8);
	r->max_cps = (uint32_t)sqlite3_column_int64(st, 9);
	r->srtp = !strcmp(media, "srtp-sdes");
	r->enabled = sqlite3_column_int(st, 11) != 0;
	return true;
}

/* Take row <r> into the list; new and changed trunks are probed now. */
static void trunk_take(const struct route_trunk *r)
{
	struct trunk *t = trunk_find(r->name);
	bool fresh = false;

	if (!t) {
		t = trunk_new(r->name, true);
		if (!t)
			return;
		fresh = true;
		log_info("trunk", "%s: added (%s:%u/%s%s%s)", r->name, r->host,
			 r->port, tp_name(r->tp), r->reg ? ", registers" : "",
			 r->enabled ? "" : ", disabled");
	}
	else if (!t->known) {
		/* was only counting calls: now a trunk of the table */
		t->known = true;
		if (tk.unknown)
			--tk.unknown;
		fresh = true;
	}
	else if (signalling_changed(&t->cfg, r)) {
		trunk_reset(t);
		fresh = true;
		log_info("trunk", "%s: changed (%s:%u/%s%s%s)", r->name,
			 r->host, r->port, tp_name(r->tp),
			 r->reg ? ", registers" : "",
			 r->enabled ? "" : ", disabled");
	}

	if (fresh || r->max_cps != t->cfg.max_cps) {
		t->tokens = (uint64_t)r->max_cps * 1000;
		t->refill_ms = clock_ms();
	}
	t->cfg = *r;
	t->seen = true;
	if (fresh) {
		probe_send(t);
		reg_start(t);
	}
}

int trunk_reload(void)
{
	struct route_trunk r;
	struct le *le;
	int rc;

	if (!tk.st)
		return EINVAL;

	for (le = tk.trunks.head; le; le = le->next)
		((struct trunk *)le->data)->seen = false;

	sqlite3_reset(tk.st);
	while ((rc = sqlite3_step(tk.st)) == SQLITE_ROW) {
		if (row_read(&r, tk.st))
			trunk_take(&r);
	}
	sqlite3_reset(tk.st);
	if (rc != SQLITE_DONE) {
		/* half a table read: remove nothing on its account */
		log_err("trunk", "cannot read the trunks table: %s",
			sqlite3_errmsg(tk.db));
		return EIO;
	}

	le = tk.trunks.head;
	while (le) {
		struct trunk *t = le->data;

		le = le->next;
		if (!t->known || t->seen)
			continue;
		log_info("trunk", "%s: removed", t->cfg.name);
		trunk_reset(t);
		t->known = false;
		++tk.unknown;
		if (!t->active)
			mem_deref(t);
	}
	return 0;
}

static void tick(void *arg)
{
	struct le *le;

	(void)arg;

	tmr_start(&tk.tmr, TRUNK_TICK_MS, tick, NULL);
	(void)trunk_reload();
	for (le = tk.trunks.head; le; le = le->next) {
		struct trunk *t = le->data;

		probe_send(t);
		reg_start(t);
	}
}

int trunk_start(struct sqlite3 *db)
{
	int err;

	if (!db)
		return EINVAL;
	trunk_stop();

	tk.db = db;
	if (sqlite3_prepare_v3(db, trunk_sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &tk.st, NULL) != SQLITE_OK) {
		log_err("trunk", "cannot prepare: %s", sqlite3_errmsg(db));
		trunk_stop();
		return EIO;
	}
	err = trunk_reload();
	if (err) {
		trunk_stop();
		return err;
	}
	if (!sipsrv_sip())
		log_warn("trunk", "no SIP stack: trunks are not probed");
	tmr_start(&tk.tmr, TRUNK_TICK_MS, tick, NULL);
	return 0;
}

void trunk_stop(void)
{
	tmr_cancel(&tk.tmr);
	list_flush(&tk.trunks);
	sqlite3_finalize(tk.st);
	tk.st = NULL;
	tk.db = NULL;
	tk.unknown = 0;
}

int trunk_status(const char *name, struct trunk_status *st)
{
	struct trunk *t;

	if (!name || !st)
		return EINVAL;
	t = trunk_find(name);
	if (!t || !t->known)
		return ENOENT;

	memset(st, 0, sizeof(*st));
	st->reachable = t->reachable;
	st->registered = t->registered;
	st->active_calls = t->active;
	st->probed = t->probed;
	st->reg_scode = t->reg_scode;
	return 0;
}

bool trunk_call_begin(const char *name)
{
	struct trunk *t;

	/* a name no trunk can have is not counted: it would never match */
	if (!name || !*name || strlen(name) >= ROUTE_NAME_MAX)
		return true;

	t = trunk_find(name);
	if (!t) {
		/* no such trunk: no limits, but count it for call_end */
		if (tk.unknown >= TRUNK_UNKNOWN_MAX)
			return true;
		t = trunk_new(name, false);
		if (!t)
			return true;
	}

	if (t->cfg.max_calls && t->active >= t->cfg.max_calls) {
		++t->refused;
		log_debug("trunk", "%s: max_calls %u reached", name,
			  t->cfg.max_calls);
		return false;
	}
	if (t->cfg.max_cps) {
		bucket_fill(t, clock_ms());
		if (t->tokens < 1000) {
			++t->refused;
			log_debug("trunk", "%s: max_cps %u reached", name,
				  t->cfg.max_cps);
			return false;
		}
		t->tokens -= 1000;
	}
	++t->active;
	return true;
}

void trunk_call_end(const char *name)
{
	struct trunk *t;

	if (!name || !*name)
		return;
	t = trunk_find(name);
	if (!t || !t->active)
		return;
	if (!--t->active && !t->known)
		mem_deref(t);
}

const char *trunk_by_addr(const struct sa *src)
{
	struct le *le;

	if (!src || !sa_isset(src, SA_ADDR))
		return NULL;
	for (le = tk.trunks.head; le; le = le->next) {
		const struct trunk *t = le->data;

		if (!t->known || !t->cfg.enabled ||
		    !sa_isset(&t->peer, SA_ADDR) ||
		    host_is_literal(t->cfg.host))
			continue;
		if (sa_cmp(&t->peer, src, SA_ADDR))
			return t->cfg.name;
	}
	return NULL;
}

int trunk_metrics(struct re_printf *pf, void *unused)
{
	struct le *le;
	int err;

	(void)unused;

	err = metrics_head(pf, "sbc_trunk_up", "gauge",
			   "1 while the trunk answers OPTIONS probes.");
	for (le = tk.trunks.head; le; le = le->next) {
		const struct trunk *t = le->data;

		if (t->known)
			err |= re_hprintf(pf, "sbc_trunk_up{trunk=\"%H\"} %d\n",
					  metrics_escape, t->cfg.name,
					  t->reachable);
	}

	err |= metrics_head(pf, "sbc_trunk_registered", "gauge",
			    "1 while the trunk's last REGISTER got a 2xx "
			    "(trunks that register).");
	for (le = tk.trunks.head; le; le = le->next) {
		const struct trunk *t = le->data;

		if (t->known && t->cfg.reg)
			err |= re_hprintf(pf, "sbc_trunk_registered{trunk="
					  "\"%H\"} %d\n", metrics_escape,
					  t->cfg.name, t->registered);
	}

	err |= metrics_head(pf, "sbc_trunk_calls_active", "gauge",
			    "Calls in progress through the trunk.");
	for (le = tk.trunks.head; le; le = le->next) {
		const struct trunk *t = le->data;

		err |= re_hprintf(pf, "sbc_trunk_calls_active{trunk=\"%H\"} "
				  "%u\n", metrics_escape, t->cfg.name,
				  t->active);
	}
	return err;
}

int trunk_debug(struct re_printf *pf, void *unused)
{
	unsigned n = 0, up = 0, reg = 0, calls = 0;
	uint64_t refused = 0;
	struct le *le;

	(void)unused;

	for (le = tk.trunks.head; le; le = le->next) {
		const struct trunk *t = le->data;

		calls += t->active;
		refused += t->refused;
		if (!t->known)
			continue;
		++n;
		up += t->reachable;
		reg += t->registered;
	}
	return re_hprintf(pf, "trunks: n=%u reachable=%u registered=%u "
			  "calls=%u refused=%llu", n, up, reg, calls,
			  (unsigned long long)refused);
}
