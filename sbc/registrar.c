/* sbc/registrar.c  REGISTER handling and the location table */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>
#include <re.h>

#include "auth.h"
#include "log.h"
#include "metrics.h"
#include "registrar.h"
#include "sipsrv.h"
#include "stats.h"

#define REG_HASH_SIZE     4096   /* AOR buckets (power of two) */
#define REG_EXPIRES_DEF   3600   /* no Expires at all */
#define REG_EXPIRES_MAX   3600   /* longer requests are cut to this */
#define REG_EXPIRES_MIN   60     /* shorter: 423 Interval Too Brief */
/*
 * libre 1.1.0 closes a TCP/TLS connection after 900 s without traffic
 * from the peer (a binding goes with its connection: conn_gone()). A
 * phone that sends no keepalives of its own keeps its connection up only
 * by registering again, so over those transports bindings last at most
 * this long. WS/WSS connections have no idle timer (ws_conn_fixup() in
 * sipsrv.c) and libre pings them every 15 s.
 */
#define REG_EXPIRES_STREAM 600
#define REG_CONTACTS_MAX  10     /* per AOR */
#define REG_URI_MAX       512    /* a longer Contact URI is refused */
#define REG_UA_MAX        128    /* User-Agent is cut to this */
#define REG_TICK_MS       1000   /* expiry and keepalive timer */
#define REG_FLUSH_MS      150    /* writes wait this long to batch */
#define REG_KEEPALIVE_S   25     /* NAT keepalive period (UDP contacts) */

/* One address of record: "user@domain", domain lower case. */
struct aor {
	struct le   he;          /* in reg.aors */
	struct list contacts;    /* struct contact; owned, one ref each */
	char       *key;
};

/*
 * One binding. The AOR's list holds a reference, and so does the
 * write queue while the binding waits to be written; the key string is
 * shared with the AOR (referenced) so a binding whose AOR is gone can
 * still be deleted from the database.
 */
struct contact {
	struct le       le;      /* in aor->contacts */
	struct le       qle;     /* in reg.queue while queued */
	char           *aor;     /* referenced aor->key */
	char           *uri;
	char           *ua;
	char           *callid;
	struct sa       src;
	enum sip_transp tp;
	void           *conn;    /* libre's connection of a TCP/TLS/WS/WSS
				    REGISTER (msg->sock), referenced */
	uint32_t        cseq;
	uint64_t        expires; /* unix seconds */
	uint8_t         ka_slot; /* second of the keepalive period */
	bool            queued;
	bool            gone;    /* removed: the queue deletes its row */
};

enum reg_stmt {
	ST_UPSERT = 0,
	ST_DELETE,
	ST_LOAD,
	ST_PURGE,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_UPSERT] = "INSERT OR REPLACE INTO registrations (aor, contact, "
		      "source, transport, user_agent, expires, call_id, cseq) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_DELETE] = "DELETE FROM registrations WHERE aor = ?1 AND "
		      "contact = ?2",
	[ST_LOAD]   = "SELECT aor, contact, source, transport, user_agent, "
		      "expires, call_id, cseq FROM registrations WHERE "
		      "expires > ?1",
	[ST_PURGE]  = "DELETE FROM registrations WHERE expires <= ?1",
};

/* Transport names as the database and the API spell them. */
static const char *const tp_names[SIP_TRANSPC] = {
	[SIP_TRANSP_UDP] = "udp",
	[SIP_TRANSP_TCP] = "tcp",
	[SIP_TRANSP_TLS] = "tls",
	[SIP_TRANSP_WS]  = "ws",
	[SIP_TRANSP_WSS] = "wss",
};

static struct {
	sqlite3      *db;          /* borrowed from sbc */
	sqlite3_stmt *st[ST_COUNT];
	struct hash  *aors;        /* struct aor; owned */
	struct list   queue;       /* struct contact to write; one ref each */
	struct tmr    tick;
	struct tmr    flush;
	unsigned      naors;
	unsigned      ncontacts;
	uint64_t      pings;
	uint64_t      conn_drops;  /* bindings gone with their connection */
	uint64_t      writes;
	uint64_t      db_errors;
	bool          started;
} reg;

static uint64_t now_unix(void)
{
	return (uint64_t)time(NULL);
}

static const char *tp_name(enum sip_transp tp)
{
	return (unsigned)tp < SIP_TRANSPC ? tp_names[tp] : "?";
}

static enum sip_transp tp_from_name(const char *s)
{
	int i;

	for (i = 0; s && i < SIP_TRANSPC; i++) {
		if (!strcasecmp(s, tp_names[i]))
			return (enum sip_transp)i;
	}
	return SIP_TRANSP_NONE;
}

static void contact_destructor(void *arg)
{
	struct contact *c = arg;

	list_unlink(&c->le);
	mem_deref(c->conn);
	mem_deref(c->aor);
	mem_deref(c->uri);
	mem_deref(c->ua);
	mem_deref(c->callid);
}

static void aor_destructor(void *arg)
{
	struct aor *a = arg;

	hash_unlink(&a->he);
	list_flush(&a->contacts);
	mem_deref(a->key);
}

static bool aor_cmp(struct le *le, void *arg)
{
	const struct aor *a = le->data;

	return !strcmp(a->key, arg);
}

static struct aor *aor_find(const char *key)
{
	struct le *le;

	if (!reg.aors)
		return NULL;
	le = hash_lookup(reg.aors, hash_joaat_str(key), aor_cmp,
			 (void *)key);
	return le ? le->data : NULL;
}

static int aor_get(struct aor **ap, const char *key)
{
	struct aor *a = aor_find(key);
	int err;

	if (a) {
		*ap = a;
		return 0;
	}
	a = mem_zalloc(sizeof(*a), aor_destructor);
	if (!a)
		return ENOMEM;
	err = str_dup(&a->key, key);
	if (err) {
		mem_deref(a);
		return err;
	}
	hash_append(reg.aors, hash_joaat_str(key), &a->he, a);
	++reg.naors;
	*ap = a;
	return 0;
}

static void flush_h(void *arg);

/* Queue <c> to be written (or deleted, when gone) in the next batch. */
static void queue(struct contact *c)
{
	if (!c->queued) {
		list_append(&reg.queue, &c->qle, mem_ref(c));
		c->queued = true;
	}
	if (!tmr_isrunning(&reg.flush))
		tmr_start(&reg.flush, REG_FLUSH_MS, flush_h, NULL);
}

/* Drop binding <c>: unlinked now, its row deleted in the next batch. */
static void contact_remove(struct contact *c)
{
	c->gone = true;
	queue(c);
	list_unlink(&c->le);
	--reg.ncontacts;
	mem_deref(c);
}

/* Free <a> if it has no binding left; returns NULL then, else <a>. */
static struct aor *aor_prune(struct aor *a)
{
	if (!a || !list_isempty(&a->contacts))
		return a;
	--reg.naors;
	mem_deref(a);
	return NULL;
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

static int write_one(const struct contact *c)
{
	sqlite3_stmt *st = reg.st[c->gone ? ST_DELETE : ST_UPSERT];
	char src[64];
	int rc;

	rc = bind_text(st, 1, c->aor);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, c->uri);
	if (rc == SQLITE_OK && !c->gone) {
		re_snprintf(src, sizeof(src), "%J", &c->src);
		rc = sqlite3_bind_text(st, 3, src, -1, SQLITE_TRANSIENT);
		if (rc == SQLITE_OK)
			rc = bind_text(st, 4, tp_name(c->tp));
		if (rc == SQLITE_OK)
			rc = bind_text(st, 5, c->ua);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 6, (sqlite3_int64)
						c->expires);
		if (rc == SQLITE_OK)
			rc = bind_text(st, 7, c->callid);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 8, c->cseq);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : rc;
}

/*
 * Write every queued binding in one transaction: a storm of REGISTERs
 * costs one commit per REG_FLUSH_MS, not one each. On a database error
 * the batch is dropped (memory stays right; the rows catch up at the
 * binding's next refresh) and counted.
 */
static void flush(void)
{
	struct le *le;
	unsigned n = 0;
	int rc;

	if (list_isempty(&reg.queue))
		return;

	rc = reg.db ? sqlite3_exec(reg.db, "BEGIN IMMEDIATE", NULL, NULL,
				   NULL) : SQLITE_MISUSE;
	for (le = reg.queue.head; rc == SQLITE_OK && le; le = le->next) {
		rc = write_one(le->data);
		++n;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(reg.db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		++reg.db_errors;
		log_err("registrar", "cannot write %u registrations: %s",
			list_count(&reg.queue), reg.db ? sqlite3_errmsg(reg.db)
			: "no database");
		if (reg.db)
			(void)sqlite3_exec(reg.db, "ROLLBACK", NULL, NULL,
					   NULL);
	}
	else {
		reg.writes += n;
	}

	while ((le = list_head(&reg.queue))) {
		struct contact *c = le->data;

		list_unlink(le);
		c->queued = false;
		mem_deref(c);
	}
}

static void flush_h(void *arg)
{
	(void)arg;
	flush();
}

/*
 * A stateless OPTIONS to <c>'s source, so its NAT binding sees traffic
 * both ways (the phone answers it) every REG_KEEPALIVE_S. The answer is
 * a stray response to sipsrv and is dropped there.
 */
static void keepalive(const struct contact *c)
{
	struct sip *sip = sipsrv_sip();
	struct sa laddr;
	struct mbuf *mb;
	int err;

	if (!sip || sipsrv_laddr(&laddr, SIP_TRANSP_UDP, &c->src))
		return;
	mb = mbuf_alloc(512);
	if (!mb)
		return;
	err = mbuf_printf(mb, "OPTIONS %s SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP %J;branch=z9hG4bK%016llx;rport\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:keepalive@%J>;tag=%08x\r\n"
			  "To: <%s>\r\n"
			  "Call-ID: %016llx\r\n"
			  "CSeq: 1 OPTIONS\r\n"
			  "Content-Length: 0\r\n\r\n", c->uri, &laddr,
			  (unsigned long long)rand_u64(), &laddr, rand_u32(),
			  c->uri, (unsigned long long)rand_u64());
	if (!err) {
		mb->pos = 0;
		err = sip_send(sip, NULL, SIP_TRANSP_UDP, &c->src, mb);
	}
	if (!err)
		++reg.pings;
	mem_deref(mb);
}

/*
 * True when the connection <c> registered over has closed. libre 1.1.0
 * reports a close only through sip_keepalive_start(), and that only
 * for TCP/TLS (WS/WSS: EPROTONOSUPPORT) and at the price of CRLF pings
 * that close the connection of a client that does not answer them. So
 * the binding holds a reference to libre's connection object
 * (msg->sock) and asks libre, through a message that names it, for the
 * connection's TCP socket: libre drops that socket when the connection
 * closes (peer close, error, idle timeout), so NULL means gone.
 */
static bool conn_gone(const struct contact *c)
{
	struct sip_msg m;

	memset(&m, 0, sizeof(m));
	m.sock = c->conn;
	m.tp = c->tp;
	return sip_msg_tcpconn(&m) == NULL;
}

/*
 * Every second: drop what expired or lost its connection, ping this
 * second's UDP contacts.
 */
static void tick_h(void *arg)
{
	uint64_t now = now_unix();
	uint8_t slot = (uint8_t)(now % REG_KEEPALIVE_S);
	uint32_t b;

	(void)arg;
	tmr_start(&reg.tick, REG_TICK_MS, tick_h, NULL);

	for (b = 0; reg.aors && b < hash_bsize(reg.aors); b++) {
		struct le *le = list_head(hash_list(reg.aors, b));

		while (le) {
			struct aor *a = le->data;
			struct le *cle = list_head(&a->contacts);

			le = le->next;        /* <a> may go below */
			while (cle) {
				struct contact *c = cle->data;

				cle = cle->next;
				if (c->expires <= now) {
					log_debug("registrar", "%s: %s "
						  "expired", c->aor, c->uri);
					contact_remove(c);
				}
				else if (c->conn && conn_gone(c)) {
					log_info("registrar", "%s: %s: its %s "
						 "connection closed", c->aor,
						 c->uri,
						 sip_transp_name(c->tp));
					++reg.conn_drops;
					contact_remove(c);
				}
				else if (c->tp == SIP_TRANSP_UDP &&
					 c->ka_slot == slot) {
					keepalive(c);
				}
			}
			(void)aor_prune(a);
		}
	}
}

/* <pl> as a new string; an unset one is "". */
static int dup_pl(char **dst, const struct pl *pl)
{
	if (!pl || !pl->p)
		return str_dup(dst, "");
	return pl_strdup(dst, pl);
}

/*
 * Fill <c>'s changeable fields; strings are replaced only on success.
 * <sock> is libre's msg->sock: for a stream transport the connection,
 * which <c> then references (NULL: none known, a row loaded at start).
 */
static int contact_set(struct contact *c, const struct pl *uri,
		       const struct pl *ua, const struct pl *callid,
		       uint32_t cseq, const struct sa *src,
		       enum sip_transp tp, void *sock, uint64_t expires)
{
	char *nuri = NULL, *nua = NULL, *ncid = NULL;
	struct pl ual = ua ? *ua : pl_null;
	int err;

	if (ual.l > REG_UA_MAX)
		ual.l = REG_UA_MAX;

	err = dup_pl(&nuri, uri);
	if (!err)
		err = dup_pl(&nua, &ual);
	if (!err)
		err = dup_pl(&ncid, callid);
	if (err) {
		mem_deref(nuri);
		mem_deref(nua);
		mem_deref(ncid);
		return err;
	}
	mem_deref(c->uri);
	mem_deref(c->ua);
	mem_deref(c->callid);
	c->uri = nuri;
	c->ua = nua;
	c->callid = ncid;
	c->cseq = cseq;
	c->src = *src;
	c->tp = tp;
	if (c->conn != sock) {
		mem_deref(c->conn);
		c->conn = tp != SIP_TRANSP_UDP ? mem_ref(sock) : NULL;
	}
	c->expires = expires;
	return 0;
}

/*
 * A new binding of <a> with the fields of contact_set(), linked and
 * counted only once complete. Returns 0 or ENOMEM.
 */
static int contact_new(struct contact **cp, struct aor *a,
		       const struct pl *uri, const struct pl *ua,
		       const struct pl *callid, uint32_t cseq,
		       const struct sa *src, enum sip_transp tp, void *sock,
		       uint64_t expires)
{
	struct contact *c;
	int err;

	c = mem_zalloc(sizeof(*c), contact_destructor);
	if (!c)
		return ENOMEM;
	c->aor = mem_ref(a->key);
	c->ka_slot = (uint8_t)(rand_u32() % REG_KEEPALIVE_S);
	err = contact_set(c, uri, ua, callid, cseq, src, tp, sock,
			  expires);
	if (err) {
		mem_deref(c);
		return err;
	}
	list_append(&a->contacts, &c->le, c);
	++reg.ncontacts;
	if (cp)
		*cp = c;
	return 0;
}

/*
 * RFC 3261 section 19.1.4, the parts that matter for a Contact: scheme
 * and host without case, user and password exactly, the same port (or
 * none on both) and the same transport parameter.
 */
static bool uri_same(const char *stored, const struct pl *given)
{
	struct pl s, ta, tb;
	struct uri a, b;
	bool ha, hb;

	pl_set_str(&s, stored);
	if (!pl_cmp(&s, given))
		return true;
	if (uri_decode(&a, &s) || uri_decode(&b, given))
		return false;
	if (pl_casecmp(&a.scheme, &b.scheme) || pl_cmp(&a.user, &b.user) ||
	    pl_cmp(&a.password, &b.password) ||
	    pl_casecmp(&a.host, &b.host) || a.port != b.port)
		return false;
	ha = !msg_param_decode(&a.params, "transport", &ta);
	hb = !msg_param_decode(&b.params, "transport", &tb);
	if (ha != hb)
		return false;
	return !ha || !pl_casecmp(&ta, &tb);
}

static struct contact *contact_find(const struct aor *a,
				    const struct pl *uri)
{
	struct le *le;

	for (le = list_head(&a->contacts); le; le = le->next) {
		struct contact *c = le->data;

		if (uri_same(c->uri, uri))
			return c;
	}
	return NULL;
}

/* A Contact of the request, checked before anything changes. */
struct binding {
	struct pl uri;
	uint32_t  expires;        /* 0: remove */
};

/*
 * An Expires value in seconds. A malformed one counts as 3600 (RFC 3261
 * 20.19); one too big for 32 bits as the most there is (clamped later).
 */
static uint32_t expires_value(const struct pl *v)
{
	size_t i;

	if (!pl_isset(v))
		return REG_EXPIRES_DEF;
	for (i = 0; i < v->l; i++) {
		if (!isdigit((unsigned char)v->p[i]))
			return REG_EXPIRES_DEF;
	}
	return v->l > 9 ? UINT32_MAX : pl_u32(v);
}

static bool is_star(const struct pl *v)
{
	struct pl t = *v;

	while (t.l && isspace((unsigned char)t.p[0])) {
		++t.p;
		--t.l;
	}
	while (t.l && isspace((unsigned char)t.p[t.l - 1]))
		--t.l;
	return t.l == 1 && t.p[0] == '*';
}

/*
 * The Contacts of a REGISTER, checked in full before any binding
 * changes (10.3 step 7: all or nothing). <scode> set: refuse with it.
 */
struct parse {
	struct binding bv[REG_CONTACTS_MAX + 1];
	unsigned       n;
	bool           star;
	bool           too_many;
	uint16_t       scode;
	const char    *reason;
	uint32_t       hdr_expires;
	bool           has_hdr_expires;
	uint32_t       max;
};

static bool contact_h(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	struct parse *p = arg;
	struct sip_addr addr;
	struct pl v;
	uint32_t e;

	(void)msg;

	if (is_star(&hdr->val)) {
		p->star = true;
		return false;
	}
	if (sip_addr_decode(&addr, &hdr->val) || !addr.auri.l) {
		p->scode = 400;
		p->reason = "Bad Contact";
		return true;
	}
	if (addr.auri.l > REG_URI_MAX) {
		p->scode = 400;
		p->reason = "Contact URI Too Long";
		return true;
	}

	if (!msg_param_decode(&addr.params, "expires", &v))
		e = expires_value(&v);
	else if (p->has_hdr_expires)
		e = p->hdr_expires;
	else
		e = REG_EXPIRES_DEF;

	if (e && e < REG_EXPIRES_MIN) {
		p->scode = 423;
		p->reason = "Interval Too Brief";
		return true;
	}
	if (e > p->max)
		e = p->max;

	if (p->n == REG_CONTACTS_MAX + 1) {
		p->too_many = true;
		return false;
	}
	p->bv[p->n].uri = addr.auri;
	p->bv[p->n].expires = e;
	++p->n;
	return false;
}

/* %H: the Contacts of aor <arg> with the seconds each has left. */
static int print_contacts(struct re_printf *pf, void *arg)
{
	const struct aor *a = arg;
	uint64_t now = now_unix();
	struct le *le;
	int err = 0;

	for (le = a ? list_head(&a->contacts) : NULL; le; le = le->next) {
		const struct contact *c = le->data;

		if (c->expires <= now)
			continue;
		err |= re_hprintf(pf, "Contact: <%s>;expires=%llu\r\n", c->uri,
				  (unsigned long long)(c->expires - now));
	}
	return err;
}

static int print_date(struct re_printf *pf, void *unused)
{
	time_t t = time(NULL);

	(void)unused;
	return fmt_gmtime(pf, &t);
}

static void reply(const struct sip_msg *msg, uint16_t scode,
		  const char *reason)
{
	(void)sipsrv_replyf(msg, scode, reason, NULL);
}

static void reply_ok(const struct sip_msg *msg, const struct aor *a)
{
	int err;

	err = sip_replyf(sipsrv_sip(), msg, 200, "OK", "%HDate: %H\r\n"
			 "Content-Length: 0\r\n\r\n", print_contacts,
			 (void *)a, print_date, NULL);
	if (err) {
		log_warn("registrar", "200 to REGISTER failed: %s [%.*s]",
			 strerror(err), (int)msg->callid.l, msg->callid.p);
		return;
	}
	stats_sip_response(200);
}

/*
 * RFC 3261 10.3 step 7: a binding with the same Call-ID changes only
 * for a higher CSeq. An equal one is a retransmission (replies are
 * stateless, so those reach us) and a lower one is older news: both
 * leave the binding alone and get the current state back.
 */
static bool is_older(const struct contact *c, const struct sip_msg *msg)
{
	return !pl_strcmp(&msg->callid, c->callid) && msg->cseq.num <= c->cseq;
}

/* Apply <p> to <a> (all checks passed). 0 or ENOMEM. */
static int apply(struct aor *a, const struct parse *p,
		 const struct sip_msg *msg)
{
	const struct sip_hdr *uah = sip_msg_hdr(msg, SIP_HDR_USER_AGENT);
	const struct pl *ua = uah ? &uah->val : NULL;
	uint64_t now = now_unix();
	unsigned i;
	int err = 0;

	if (p->star) {
		struct le *le = list_head(&a->contacts);

		while (le) {
			struct contact *c = le->data;

			le = le->next;
			if (!is_older(c, msg))
				contact_remove(c);
		}
		return 0;
	}

	for (i = 0; i < p->n && !err; i++) {
		const struct binding *b = &p->bv[i];
		struct contact *c = contact_find(a, &b->uri);

		if (c && is_older(c, msg))
			continue;
		if (!b->expires) {
			if (c)
				contact_remove(c);
			continue;
		}
		if (c && pl_strcmp(&b->uri, c->uri)) {
			/* the same URI spelt anew: a new row key */
			contact_remove(c);
			c = NULL;
		}
		if (c)
			err = contact_set(c, &b->uri, ua, &msg->callid,
					  msg->cseq.num, &msg->src, msg->tp,
					  msg->sock, now + b->expires);
		else
			err = contact_new(&c, a, &b->uri, ua, &msg->callid,
					  msg->cseq.num, &msg->src, msg->tp,
					  msg->sock, now + b->expires);
		if (!err)
			queue(c);
	}
	return err;
}

/* How many bindings <a> has after <p>, counting only new URIs. */
static unsigned count_after(const struct aor *a, const struct parse *p)
{
	unsigned n = a ? list_count(&a->contacts) : 0, i, j;

	for (i = 0; i < p->n; i++) {
		bool dup = false;

		for (j = 0; j < i && !dup; j++)
			dup = !pl_cmp(&p->bv[j].uri, &p->bv[i].uri);
		if (dup || !p->bv[i].expires)
			continue;
		if (!a || !contact_find(a, &p->bv[i].uri))
			++n;
	}
	return n;
}

void registrar_request(const struct sip_msg *msg)
{
	struct auth_user u;
	struct parse *p = NULL;
	char user[AUTH_USER_MAX], key[AUTH_USER_MAX + AUTH_DOMAIN_MAX + 1];
	const struct sip_hdr *req;
	struct aor *a;
	int err;

	if (!msg)
		return;
	if (!reg.started) {
		reply(msg, 503, "Service Unavailable");
		return;
	}

	/* RFC 3261 8.2.2.3: we support no extension a client may require */
	req = sip_msg_hdr(msg, SIP_HDR_REQUIRE);
	if (req) {
		(void)sipsrv_replyf(msg, 420, "Bad Extension",
				    "Unsupported: %r\r\n", &req->val);
		return;
	}

	if (auth_request(msg, &u))
		return;                   /* answered */

	/* 10.3 step 4: the AOR must be the authenticated subscriber's */
	if (re_snprintf(user, sizeof(user), "%H", uri_user_unescape,
			&msg->to.uri.user) < 0 || strcmp(user, u.user)) {
		log_warn("registrar", "%s@%s may not register %.*s@%.*s "
			 "[%.*s]", u.user, u.domain, (int)msg->to.uri.user.l,
			 msg->to.uri.user.p, (int)msg->to.uri.host.l,
			 msg->to.uri.host.p, (int)msg->callid.l,
			 msg->callid.p);
		reply(msg, 403, "Forbidden");
		return;
	}
	re_snprintf(key, sizeof(key), "%s@%s", u.user, u.domain);

	p = mem_zalloc(sizeof(*p), NULL);
	if (!p) {
		reply(msg, 500, "Server Internal Error");
		return;
	}
	if (pl_isset(&msg->expires)) {
		p->has_hdr_expires = true;
		p->hdr_expires = expires_value(&msg->expires);
	}
	p->max = msg->tp == SIP_TRANSP_UDP || msg->tp == SIP_TRANSP_WS ||
		msg->tp == SIP_TRANSP_WSS ? REG_EXPIRES_MAX :
		REG_EXPIRES_STREAM;
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_CONTACT, contact_h, p);
	if (p->scode) {
		if (p->scode == 423)
			(void)sipsrv_replyf(msg, 423, p->reason,
					    "Min-Expires: %u\r\n",
					    REG_EXPIRES_MIN);
		else
			reply(msg, p->scode, p->reason);
		goto out;
	}

	/* 10.3 step 6: "*" alone, with Expires: 0 */
	if (p->star && (p->n || sip_msg_hdr_count(msg, SIP_HDR_CONTACT) != 1 ||
			!p->has_hdr_expires || p->hdr_expires)) {
		reply(msg, 400, "Invalid Wildcard Contact");
		goto out;
	}

	a = aor_find(key);
	if (p->too_many || count_after(a, p) > REG_CONTACTS_MAX) {
		(void)sipsrv_replyf(msg, 403, "Too Many Contacts", NULL);
		goto out;
	}

	if (p->n && !p->star) {
		bool adds = false;
		unsigned i;

		for (i = 0; i < p->n; i++)
			adds |= p->bv[i].expires != 0;
		if (adds && !a) {
			err = aor_get(&a, key);
			if (err) {
				reply(msg, 500, "Server Internal Error");
				goto out;
			}
		}
	}
	if (a) {
		err = apply(a, p, msg);
		a = aor_prune(a);
		if (err) {
			reply(msg, 500, "Server Internal Error");
			goto out;
		}
	}

	log_debug("registrar", "%s: %u contact(s) from %s [%.*s]", key,
		  a ? list_count(&a->contacts) : 0, sip_transp_name(msg->tp),
		  (int)msg->callid.l, msg->callid.p);
	reply_ok(msg, a);
 out:
	mem_deref(p);
}

static int prepare(void)
{
	int i, rc;

	for (i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(reg.db, stmt_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &reg.st[i],
					NULL);
		if (rc != SQLITE_OK) {
			log_err("registrar", "%s: %s", stmt_sql[i],
				sqlite3_errmsg(reg.db));
			return EIO;
		}
	}
	return 0;
}

static const char *col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

/* One row of ST_LOAD into the table; a row that makes no sense is
 * skipped. */
static int load_row(sqlite3_stmt *st)
{
	struct pl aor, uri, ua, callid;
	enum sip_transp tp;
	struct contact *c;
	struct aor *a;
	struct sa src;
	const char *s;
	int err;

	s = col_text(st, 2);
	tp = tp_from_name(col_text(st, 3));
	pl_set_str(&aor, col_text(st, 0));
	pl_set_str(&uri, col_text(st, 1));
	if (sa_decode(&src, s, strlen(s)) || tp == SIP_TRANSP_NONE ||
	    !aor.l || !uri.l || uri.l > REG_URI_MAX ||
	    aor.l >= AUTH_USER_MAX + AUTH_DOMAIN_MAX) {
		log_warn("registrar", "skipping stored registration %s %s "
			 "(source '%s', transport '%s')", col_text(st, 0),
			 col_text(st, 1), s, col_text(st, 3));
		return 0;
	}

	err = aor_get(&a, col_text(st, 0));
	if (err)
		return err;
	pl_set_str(&ua, col_text(st, 4));
	pl_set_str(&callid, col_text(st, 6));
	c = contact_find(a, &uri);
	if (c)
		err = contact_set(c, &uri, &ua, &callid,
				  (uint32_t)sqlite3_column_int64(st, 7),
				  &src, tp, NULL, (uint64_t)
				  sqlite3_column_int64(st, 5));
	else
		err = contact_new(NULL, a, &uri, &ua, &callid,
				  (uint32_t)sqlite3_column_int64(st, 7),
				  &src, tp, NULL, (uint64_t)
				  sqlite3_column_int64(st, 5));
	(void)aor_prune(a);
	return err;
}

static int load(void)
{
	sqlite3_stmt *st;
	uint64_t now = now_unix();
	int rc, err = 0;

	st = reg.st[ST_PURGE];
	rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		log_warn("registrar", "cannot drop expired registrations: %s",
			 sqlite3_errmsg(reg.db));

	st = reg.st[ST_LOAD];
	rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		err = load_row(st);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE) {
		log_err("registrar", "cannot load registrations: %s",
			sqlite3_errmsg(reg.db));
		err = EIO;
	}
	sqlite3_reset(st);
	return err;
}

int registrar_start(struct sqlite3 *db)
{
	int err;

	if (!db)
		return EINVAL;
	if (reg.started)
		return EALREADY;

	memset(&reg, 0, sizeof(reg));
	reg.db = db;
	list_init(&reg.queue);
	tmr_init(&reg.tick);
	tmr_init(&reg.flush);

	err = hash_alloc(&reg.aors, REG_HASH_SIZE);
	if (!err)
		err = prepare();
	if (!err)
		err = load();
	if (err) {
		registrar_stop();
		return err;
	}

	reg.started = true;
	tmr_start(&reg.tick, REG_TICK_MS, tick_h, NULL);
	log_info("registrar", "%u contact(s) of %u AOR(s) loaded",
		 reg.ncontacts, reg.naors);
	return 0;
}

void registrar_stop(void)
{
	int i;

	/* timers first, so nothing fires on a half-stopped table */
	tmr_cancel(&reg.tick);
	tmr_cancel(&reg.flush);
	flush();
	for (i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(reg.st[i]);
		reg.st[i] = NULL;
	}
	hash_flush(reg.aors);
	reg.aors = mem_deref(reg.aors);
	reg.naors = 0;
	reg.ncontacts = 0;
	reg.db = NULL;
	reg.started = false;
}

/* Call <h> for each live binding of <a>; counts into *np. */
static bool walk_aor(const struct aor *a, uint64_t now,
		     registrar_contact_h *h, void *arg, unsigned *np)
{
	struct registrar_contact rc;
	struct le *le;

	for (le = list_head(&a->contacts); le; le = le->next) {
		const struct contact *c = le->data;

		/* gone but not yet swept by the tick: unreachable */
		if (c->expires <= now || (c->conn && conn_gone(c)))
			continue;
		rc.aor = a->key;
		rc.uri = c->uri;
		rc.src = c->src;
		rc.tp = c->tp;
		rc.expires = c->expires;
		rc.user_agent = c->ua ? c->ua : "";
		++*np;
		if (h && h(&rc, arg))
			return true;
	}
	return false;
}

unsigned registrar_lookup(const char *user, const char *domain,
			  registrar_contact_h *h, void *arg)
{
	char key[AUTH_USER_MAX + AUTH_DOMAIN_MAX + 1];
	const struct aor *a;
	unsigned n = 0;
	size_t i, ul;

	if (!user || !domain)
		return 0;
	ul = strlen(user);
	if (ul + 1 + strlen(domain) >= sizeof(key))
		return 0;
	memcpy(key, user, ul);
	key[ul] = '@';
	for (i = 0; domain[i]; i++)
		key[ul + 1 + i] = (char)tolower((unsigned char)domain[i]);
	key[ul + 1 + i] = '\0';

	a = aor_find(key);
	if (a)
		(void)walk_aor(a, now_unix(), h, arg, &n);
	return n;
}

unsigned registrar_foreach(registrar_contact_h *h, void *arg)
{
	uint64_t now = now_unix();
	unsigned n = 0;
	uint32_t b;

	for (b = 0; reg.aors && b < hash_bsize(reg.aors); b++) {
		struct le *le;

		for (le = list_head(hash_list(reg.aors, b)); le;
		     le = le->next) {
			if (walk_aor(le->data, now, h, arg, &n))
				return n;
		}
	}
	return n;
}

unsigned registrar_count(void)
{
	return reg.ncontacts;
}

int registrar_metrics(struct re_printf *pf, void *unused)
{
	int err;

	(void)unused;

	err = metrics_head(pf, "sbc_registrations_active", "gauge",
			   "Contacts registered now (all AORs).");
	err |= re_hprintf(pf, "sbc_registrations_active %u\n",
			  reg.ncontacts);
	return err;
}

int registrar_debug(struct re_printf *pf, void *unused)
{
	(void)unused;

	return re_hprintf(pf, "registrar: aors=%u contacts=%u queued=%u "
			  "written=%llu db_errors=%llu pings=%llu "
			  "conn_drops=%llu",
			  reg.naors, reg.ncontacts, list_count(&reg.queue),
			  (unsigned long long)reg.writes,
			  (unsigned long long)reg.db_errors,
			  (unsigned long long)reg.pings,
			  (unsigned long long)reg.conn_drops);
}
