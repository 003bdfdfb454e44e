/* tests/unit/sbc/reg/test_registrar.c  auth and registrar over UDP */
#include <ftw.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <re.h>

#include "auth.h"
#include "db.h"
#include "digest.h"
#include "harness.h"
#include "log.h"
#include "loop_wait.h"
#include "registrar.h"
#include "route.h"
#include "sipsrv.h"

/*
 * The daemon's SIP stack is sipsrv.c, which needs the whole config and
 * dispatches to modules wired in by sbc.c. These stand-ins give auth.c
 * and registrar.c a real libre stack on 127.0.0.1 instead: REGISTER
 * goes to the registrar, anything else through auth_request() and then
 * 200 with the user it authenticated as.
 */
static struct {
	struct sip      *sip;
	struct sip_lsnr *lsnr;
	struct sa        laddr;
} fs;

const struct sbc_config *sbc_config(void);
const struct sbc_config *sbc_config(void)
{
	return NULL;                  /* domains come from the table */
}

int sipsrv_replyf(const struct sip_msg *msg, uint16_t scode,
		  const char *reason, const char *fmt, ...)
{
	char hdrs[2048] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		(void)re_vsnprintf(hdrs, sizeof(hdrs), fmt, ap);
		va_end(ap);
	}
	return sip_replyf(fs.sip, msg, scode, reason,
			  "%sContent-Length: 0\r\n\r\n", hdrs);
}

int sipsrv_laddr(struct sa *laddr, enum sip_transp tp, const struct sa *dst)
{
	return sip_transp_laddr(fs.sip, laddr, tp, dst);
}

struct sip *sipsrv_sip(void)
{
	return fs.sip;
}

static bool fake_request(const struct sip_msg *msg, void *arg)
{
	struct auth_user u;

	(void)arg;

	if (!pl_strcmp(&msg->met, "REGISTER")) {
		registrar_request(msg);
		return true;
	}
	if (!auth_request(msg, &u))
		(void)sip_replyf(fs.sip, msg, 200, "OK", "X-User: %s@%s\r\n"
				 "Content-Length: 0\r\n\r\n", u.user,
				 u.domain);
	return true;
}

/* The phone: a UDP socket that keeps the last response it got. */
static struct {
	struct udp_sock *us;
	struct sa        laddr;
	struct sip_msg  *resp;
	unsigned         nresp;
	unsigned         nreq;      /* requests from sbc: keepalives */
	unsigned         want;
} cl;

static void client_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct sip_msg *msg;

	(void)src;
	(void)arg;

	if (sip_msg_decode(&msg, mb))
		return;
	if (msg->req) {
		++cl.nreq;
		mem_deref(msg);
		return;
	}
	mem_deref(cl.resp);
	cl.resp = msg;
	++cl.nresp;
}

static char dir[64];
static char path[128];
static struct db *db;

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int exec(const char *sql)
{
	return sqlite3_exec(db_handle(db), sql, NULL, NULL, NULL) ==
		SQLITE_OK ? 0 : EIO;
}

static long query_int(const char *sql)
{
	sqlite3_stmt *st = NULL;
	long v = -1;

	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int add_subscriber(const char *user, const char *pw, bool enabled)
{
	char md5[33], sha[65], sql[512];

	if (digest_ha1_md5(md5, user, "example.com", pw) ||
	    digest_ha1_sha256(sha, user, "example.com", pw))
		return EINVAL;
	snprintf(sql, sizeof(sql), "INSERT INTO subscribers (username, "
		 "domain, ha1_md5, ha1_sha256, enabled) VALUES ('%s', "
		 "'example.com', '%s', '%s', %d)", user, md5, sha,
		 enabled ? 1 : 0);
	return exec(sql);
}

/* A fresh database with example.com, alice, bob and disabled dave. */
static int setup_db(void)
{
	int err;

	strcpy(dir, "/tmp/sbc-test-regXXXXXX");
	if (!mkdtemp(dir))
		return errno;
	snprintf(path, sizeof(path), "%s/sbc.db", dir);
	err = db_open(&db, path);
	if (!err)
		err = exec("INSERT INTO domains (name) VALUES ('Example.COM')");
	if (!err)
		err = add_subscriber("alice", "secret", true);
	if (!err)
		err = add_subscriber("bob", "bobpw", true);
	if (!err)
		err = add_subscriber("dave", "davepw", false);
	return err;
}

static int start_stack(void)
{
	struct sa any;
	int err;

	err = sip_alloc(&fs.sip, NULL, 32, 32, 32, "test", NULL, NULL);
	if (!err)
		err = sa_set_str(&any, "127.0.0.1", 0);
	if (!err)
		err = sip_transp_add(fs.sip, SIP_TRANSP_UDP, &any);
	if (!err)
		err = sip_transp_laddr(fs.sip, &fs.laddr, SIP_TRANSP_UDP,
				       NULL);
	if (!err)
		err = sip_listen(&fs.lsnr, fs.sip, true, fake_request, NULL);
	if (!err)
		err = udp_listen(&cl.us, &any, client_recv, NULL);
	if (!err)
		err = udp_local_get(cl.us, &cl.laddr);
	return err;
}

static int setup(void)
{
	int err;

	err = setup_db();
	if (!err)
		err = start_stack();
	if (!err)
		err = route_start(db_handle(db));
	if (!err)
		err = registrar_start(db_handle(db));
	return err;
}

static void teardown(void)
{
	registrar_stop();
	route_stop();
	cl.resp = mem_deref(cl.resp);
	cl.us = mem_deref(cl.us);
	cl.nresp = cl.nreq = cl.want = 0;
	fs.lsnr = mem_deref(fs.lsnr);
	if (fs.sip)
		sip_close(fs.sip, true);
	fs.sip = mem_deref(fs.sip);
	db = mem_deref(db);
	if (dir[0])
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

static bool got_resp(void)
{
	return cl.nresp >= cl.want;
}

/* Send a request from the phone and wait for its response. */
static int request(const char *met, const char *ruri, const char *from,
		   const char *to, const char *callid, uint32_t cseq,
		   const char *hdrs)
{
	struct mbuf *mb = mbuf_alloc(2048);
	int err;

	if (!mb)
		return ENOMEM;
	err = mbuf_printf(mb, "%s %s SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP %J;branch=z9hG4bK%08x;rport\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:%s>;tag=f%u\r\n"
			  "To: <sip:%s>\r\n"
			  "Call-ID: %s\r\n"
			  "CSeq: %u %s\r\n"
			  "User-Agent: unit-phone/1.0\r\n"
			  "%s"
			  "Content-Length: 0\r\n\r\n", met, ruri, &cl.laddr,
			  rand_u32(), from, cseq, to, callid, cseq, met,
			  hdrs ? hdrs : "");
	if (!err) {
		mb->pos = 0;
		cl.want = cl.nresp + 1;
		err = udp_send(cl.us, &fs.laddr, mb);
	}
	mem_deref(mb);
	if (!err && !loop_wait_for(got_resp, 3000))
		err = ETIMEDOUT;
	return err;
}

static uint16_t scode(void)
{
	return cl.resp ? cl.resp->scode : 0;
}

struct hdr_find {
	const char *needle;
	char       *out;
	size_t      sz;
	unsigned    n;
};

static bool hdr_find_h(const struct sip_hdr *hdr, const struct sip_msg *msg,
		       void *arg)
{
	struct hdr_find *f = arg;
	char val[1024];

	(void)msg;

	pl_strcpy(&hdr->val, val, sizeof(val));
	++f->n;
	if (f->needle && !strstr(val, f->needle))
		return false;
	if (f->out)
		str_ncpy(f->out, val, f->sz);
	return true;
}

/* The value of the first <id> header holding <needle> into <out>. */
static bool hdr_with(enum sip_hdrid id, const char *needle, char *out,
		     size_t sz)
{
	struct hdr_find f = { needle, out, sz, 0 };

	return cl.resp && sip_msg_hdr_apply(cl.resp, true, id, hdr_find_h,
					    &f) != NULL;
}

/* The nonce of the last response's <alg> challenge. */
static int challenge_nonce(char *nonce, size_t sz, enum sip_hdrid id,
			   enum digest_alg alg)
{
	char val[1024], needle[32];
	const char *p, *e;

	snprintf(needle, sizeof(needle), "algorithm=%s",
		 digest_alg_name(alg));
	if (!hdr_with(id, needle, val, sizeof(val)))
		return ENOENT;
	p = strstr(val, "nonce=\"");
	if (!p)
		return EBADMSG;
	p += 7;
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= sz)
		return EBADMSG;
	memcpy(nonce, p, (size_t)(e - p));
	nonce[e - p] = '\0';
	return 0;
}

/* An Authorization (or Proxy-) header line answering with <nonce>. */
static int creds(char *out, size_t sz, const char *hname,
		 enum digest_alg alg, const char *user, const char *pw,
		 const char *nonce, const char *met, const char *uri)
{
	static struct digest_cred c;
	char ha1[65];
	int err;

	memset(&c, 0, sizeof(c));
	c.alg = alg;
	c.qop = true;
	str_ncpy(c.username, user, sizeof(c.username));
	str_ncpy(c.realm, "example.com", sizeof(c.realm));
	str_ncpy(c.nonce, nonce, sizeof(c.nonce));
	str_ncpy(c.uri, uri, sizeof(c.uri));
	str_ncpy(c.nc, "00000001", sizeof(c.nc));
	str_ncpy(c.cnonce, "0a4f113b", sizeof(c.cnonce));
	err = alg == DIGEST_ALG_MD5 ?
		digest_ha1_md5(ha1, user, "example.com", pw) :
		digest_ha1_sha256(ha1, user, "example.com", pw);
	if (!err)
		err = digest_response(c.response, sizeof(c.response), &c, ha1,
				      met, strlen(met));
	if (err)
		return err;
	snprintf(out, sz, "%s: Digest username=\"%s\", realm=\"example.com\", "
		 "nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=%s, "
		 "qop=auth, nc=00000001, cnonce=\"0a4f113b\"\r\n", hname, user,
		 nonce, uri, c.response, digest_alg_name(alg));
	return 0;
}

/*
 * REGISTER for <to>@example.com as <user> with password <pw>: first
 * without credentials (401 expected), then answering the <alg>
 * challenge. *cseq counts up. The final response is in cl.resp.
 */
static int do_register(const char *user, const char *pw, const char *to,
		       const char *callid, uint32_t *cseq, const char *hdrs,
		       enum digest_alg alg)
{
	char from[128], toa[128], nonce[128], auth[1024], all[3072];
	int err;

	snprintf(from, sizeof(from), "%s@example.com", user);
	snprintf(toa, sizeof(toa), "%s@example.com", to);
	err = request("REGISTER", "sip:example.com", from, toa, callid,
		      (*cseq)++, hdrs);
	if (err)
		return err;
	if (scode() != 401)
		return EPROTO;
	err = challenge_nonce(nonce, sizeof(nonce), SIP_HDR_WWW_AUTHENTICATE,
			      alg);
	if (!err)
		err = creds(auth, sizeof(auth), "Authorization", alg, user, pw,
			    nonce, "REGISTER", "sip:example.com");
	if (err)
		return err;
	snprintf(all, sizeof(all), "%s%s", hdrs ? hdrs : "", auth);
	return request("REGISTER", "sip:example.com", from, toa, callid,
		       (*cseq)++, all);
}

/* The expires the last 200 gives Contact <uri>; -1 when not listed. */
static long contact_expires(const char *uri)
{
	struct le *le;

	for (le = cl.resp ? cl.resp->hdrl.head : NULL; le; le = le->next) {
		const struct sip_hdr *h = le->data;
		struct sip_addr addr;
		struct pl v;

		if (h->id != SIP_HDR_CONTACT || sip_addr_decode(&addr, &h->val)
		    || pl_strcmp(&addr.auri, uri))
			continue;
		if (msg_param_decode(&addr.params, "expires", &v))
			return -2;
		return (long)pl_u32(&v);
	}
	return -1;
}

static unsigned ncontacts(void)
{
	return cl.resp ? sip_msg_hdr_count(cl.resp, SIP_HDR_CONTACT) : 0;
}

static long want_rows;
static bool rows_are(void)
{
	return query_int("SELECT count(*) FROM registrations") == want_rows;
}

static bool wait_rows(long n)
{
	want_rows = n;
	return loop_wait_for(rows_are, 3000);
}

/* "Contact: <sip:NAME@127.0.0.1:PORT>..." for the phone's address. */
static void contact_line(char *out, size_t sz, const char *name,
			 const char *params)
{
	re_snprintf(out, sz, "Contact: <sip:%s@%J>%s\r\n", name, &cl.laddr,
		    params ? params : "");
}

static void contact_uri(char *out, size_t sz, const char *name)
{
	re_snprintf(out, sz, "sip:%s@%J", name, &cl.laddr);
}

static int test_challenge(void)
{
	char val[512], nonce[128];
	int err = 0;

	TEST_ERR(setup());
	TEST_ERR(request("REGISTER", "sip:example.com", "alice@example.com",
			 "alice@example.com", "c1", 1, NULL));
	TEST_EQ(401, scode());
	TEST_EQ(2, sip_msg_hdr_count(cl.resp, SIP_HDR_WWW_AUTHENTICATE));

	/* MD5 first, then SHA-256, one nonce, realm = the domain */
	TEST_TRUE(hdr_with(SIP_HDR_WWW_AUTHENTICATE, NULL, val, sizeof(val)));
	TEST_TRUE(strstr(val, "algorithm=MD5") != NULL);
	TEST_TRUE(strstr(val, "realm=\"example.com\"") != NULL);
	TEST_TRUE(strstr(val, "qop=\"auth\"") != NULL);
	TEST_TRUE(strstr(val, "stale") == NULL);
	TEST_ERR(challenge_nonce(nonce, sizeof(nonce),
				 SIP_HDR_WWW_AUTHENTICATE, DIGEST_ALG_MD5));
	TEST_ERR(digest_nonce_check(nonce, "example.com", clock_ms() / 1000));
	TEST_TRUE(hdr_with(SIP_HDR_WWW_AUTHENTICATE, "algorithm=SHA-256", val,
			   sizeof(val)));
	TEST_TRUE(strstr(val, nonce) != NULL);
	TEST_EQ(0, registrar_count());
 out:
	teardown();
	return err;
}

static int test_register(void)
{
	char contact[128], uri[128], ua[64];
	uint32_t cseq = 1;
	sqlite3_stmt *st = NULL;
	struct mbuf *mb = NULL;
	int err = 0;

	TEST_ERR(setup());
	contact_line(contact, sizeof(contact), "alice", NULL);
	contact_uri(uri, sizeof(uri), "alice");
	TEST_ERR(do_register("alice", "secret", "alice", "c1", &cseq,
			     contact, DIGEST_ALG_MD5));
	TEST_EQ(200, scode());
	TEST_EQ(1, ncontacts());
	TEST_TRUE(contact_expires(uri) >= 3599 && contact_expires(uri) <= 3600);
	TEST_TRUE(hdr_with(SIP_HDR_DATE, NULL, NULL, 0));
	TEST_EQ(1, registrar_count());
	TEST_EQ(1, registrar_lookup("alice", "EXAMPLE.com", NULL, NULL));
	TEST_EQ(0, registrar_lookup("bob", "example.com", NULL, NULL));

	/* written once the batch timer fires, with where it came from */
	TEST_TRUE(wait_rows(1));
	TEST_EQ(SQLITE_OK, sqlite3_prepare_v2(db_handle(db), "SELECT aor, "
		"contact, source, transport, user_agent, expires - "
		"CAST(strftime('%s', 'now') AS INTEGER), call_id, cseq "
		"FROM registrations", -1, &st, NULL));
	TEST_EQ(SQLITE_ROW, sqlite3_step(st));
	TEST_STREQ("alice@example.com", (const char *)sqlite3_column_text(st,
									   0));
	TEST_STREQ(uri, (const char *)sqlite3_column_text(st, 1));
	re_snprintf(ua, sizeof(ua), "%J", &cl.laddr);
	TEST_STREQ(ua, (const char *)sqlite3_column_text(st, 2));
	TEST_STREQ("udp", (const char *)sqlite3_column_text(st, 3));
	TEST_STREQ("unit-phone/1.0", (const char *)sqlite3_column_text(st,
									4));
	TEST_TRUE(sqlite3_column_int64(st, 5) >= 3598 &&
		  sqlite3_column_int64(st, 5) <= 3600);
	TEST_STREQ("c1", (const char *)sqlite3_column_text(st, 6));
	TEST_EQ(2, sqlite3_column_int64(st, 7));

	/* the metric */
	mb = mbuf_alloc(512);
	TEST_TRUE(mb != NULL);
	TEST_ERR(mbuf_printf(mb, "%H", registrar_metrics, NULL));
	mbuf_write_u8(mb, 0);
	TEST_TRUE(strstr((const char *)mb->buf, "# TYPE sbc_registrations_"
			 "active gauge\n") != NULL);
	TEST_TRUE(strstr((const char *)mb->buf, "\nsbc_registrations_active "
			 "1\n") != NULL);
 out:
	mem_deref(mb);
	sqlite3_finalize(st);
	teardown();
	return err;
}

static int test_register_sha256(void)
{
	char contact[128];
	uint32_t cseq = 1;
	int err = 0;

	TEST_ERR(setup());
	contact_line(contact, sizeof(contact), "bob", NULL);
	TEST_ERR(do_register("bob", "bobpw", "bob", "c2", &cseq, contact,
			     DIGEST_ALG_SHA256));
	TEST_EQ(200, scode());
	TEST_EQ(1, registrar_lookup("bob", "example.com", NULL, NULL));
 out:
	teardown();
	return err;
}

/* Wrong password, unknown user, disabled, another domain: one answer. */
static int test_forbidden(void)
{
	char contact[128], reason[64] = "", nonce[128], auth[1024];
	uint32_t cseq = 1;
	int err = 0;

	TEST_ERR(setup());
	contact_line(contact, sizeof(contact), "alice", NULL);

	TEST_ERR(do_register("alice", "wrong", "alice", "f1", &cseq, contact,
			     DIGEST_ALG_MD5));
	TEST_EQ(403, scode());
	pl_strcpy(&cl.resp->reason, reason, sizeof(reason));
	TEST_STREQ("Forbidden", reason);

	TEST_ERR(do_register("mallory", "secret", "mallory", "f2", &cseq,
			     contact, DIGEST_ALG_MD5));
	TEST_EQ(403, scode());
	TEST_EQ(0, pl_strcmp(&cl.resp->reason, reason));
	TEST_EQ(0, sip_msg_hdr_count(cl.resp, SIP_HDR_WWW_AUTHENTICATE));

	TEST_ERR(do_register("dave", "davepw", "dave", "f3", &cseq, contact,
			     DIGEST_ALG_SHA256));
	TEST_EQ(403, scode());
	TEST_EQ(0, pl_strcmp(&cl.resp->reason, reason));

	/* a domain we do not serve is refused before any challenge */
	TEST_ERR(request("REGISTER", "sip:example.org", "alice@example.org",
			 "alice@example.org", "f4", 1, contact));
	TEST_EQ(403, scode());
	TEST_EQ(0, pl_strcmp(&cl.resp->reason, reason));

	/* credentials for example.com do not open example.org */
	TEST_ERR(request("REGISTER", "sip:example.com", "alice@example.com",
			 "alice@example.com", "f5", 1, NULL));
	TEST_ERR(challenge_nonce(nonce, sizeof(nonce),
				 SIP_HDR_WWW_AUTHENTICATE, DIGEST_ALG_MD5));
	TEST_ERR(creds(auth, sizeof(auth), "Authorization", DIGEST_ALG_MD5,
		       "alice", "secret", nonce, "REGISTER",
		       "sip:example.org"));
	TEST_ERR(request("REGISTER", "sip:example.org", "alice@example.org",
			 "alice@example.org", "f5", 2, auth));
	TEST_EQ(403, scode());

	/* alice may not register bob */
	TEST_ERR(do_register("alice", "secret", "bob", "f6", &cseq, contact,
			     DIGEST_ALG_MD5));
	TEST_EQ(403, scode());
	TEST_EQ(0, registrar_count());
 out:
	teardown();
	return err;
}

static int test_malformed(void)
{
	char nonce[128], auth[1024];
	int err = 0;

	TEST_ERR(setup());
	TEST_ERR(request("REGISTER", "sip:example.com", "alice@example.com",
			 "alice@example.com", "m1", 1,
			 "Authorization: Digest username=\"alice\", realm=\""
			 "example.com\"\r\n"));
	TEST_EQ(400, scode());

	TEST_ERR(request("REGISTER", "sip:example.com", "alice@example.com",
			 "alice@example.com", "m1", 2,
			 "Authorization: Digest username=\"alice\", realm=\""
			 "example.com\", nonce=\"n\", uri=\"sip:example.com\", "
			 "algorithm=MD5-sess, response=\"0123456789abcdef0123"
			 "456789abcdef\"\r\n"));
	TEST_EQ(400, scode());

	/* credentials for another realm: a challenge for ours */
	TEST_ERR(request("REGISTER", "sip:example.com", "alice@example.com",
			 "alice@example.com", "m1", 3,
			 "Authorization: Digest username=\"alice\", realm=\""
			 "other.net\", nonce=\"n\", uri=\"sip:example.com\", "
			 "response=\"0123456789abcdef0123456789abcdef\"\r\n"));
	TEST_EQ(401, scode());

	/* right password, digest-uri of another request */
	TEST_ERR(challenge_nonce(nonce, sizeof(nonce),
				 SIP_HDR_WWW_AUTHENTICATE, DIGEST_ALG_MD5));
	TEST_ERR(creds(auth, sizeof(auth), "Authorization", DIGEST_ALG_MD5,
		       "alice", "secret", nonce, "REGISTER",
		       "sip:elsewhere.example.com"));
	TEST_ERR(request("REGISTER", "sip:example.com", "alice@example.com",
			 "alice@example.com", "m1", 4, auth));
	TEST_EQ(400, scode());
	TEST_EQ(0, registrar_count());
 out:
	teardown();
	return err;
}

/* An old or foreign nonce with the right password: stale=true. */
static int test_stale(void)
{
	char nonce[DIGEST_NONCE_LEN + 1], auth[1024], val[512];
	uint64_t now = clock_ms() / 1000;
	int err = 0;

	TEST_ERR(setup());
	TEST_ERR(digest_nonce_make(nonce, "example.com",
				   now - DIGEST_NONCE_TTL - 5));
	TEST_ERR(creds(auth, sizeof(auth), "Authorization", DIGEST_ALG_MD5,
		       "alice", "secret", nonce, "REGISTER",
		       "sip:example.com"));
	TEST_ERR(request("REGISTER", "sip:example.com", "alice@example.com",
			 "alice@example.com", "s1", 1, auth));
	TEST_EQ(401, scode());
	TEST_TRUE(hdr_with(SIP_HDR_WWW_AUTHENTICATE, "algorithm=MD5", val,
			   sizeof(val)));
	TEST_TRUE(strstr(val, "stale=true") != NULL);

	/* a nonce of an earlier process (not ours at all) */
	TEST_ERR(creds(auth, sizeof(auth), "Authorization", DIGEST_ALG_MD5,
		       "alice", "secret", "0000000000000001ffffffffffffffffff"
		       "ffffffffffffff", "REGISTER", "sip:example.com"));
	TEST_ERR(request("REGISTER", "sip:example.com", "alice@example.com",
			 "alice@example.com", "s1", 2, auth));
	TEST_EQ(401, scode());
	TEST_TRUE(hdr_with(SIP_HDR_WWW_AUTHENTICATE, "stale=true", NULL, 0));

	/* stale and the wrong password: no hint, just 403 */
	TEST_ERR(creds(auth, sizeof(auth), "Authorization", DIGEST_ALG_MD5,
		       "alice", "guess", nonce, "REGISTER", "sip:example.com"));
	TEST_ERR(request("REGISTER", "sip:example.com", "alice@example.com",
			 "alice@example.com", "s1", 3, auth));
	TEST_EQ(403, scode());
 out:
	teardown();
	return err;
}

/* Other methods: 407 and Proxy-Authorization, domain from From. */
static int test_proxy_auth(void)
{
	char nonce[128], auth[1024], who[64], uri[96];
	int err = 0;

	TEST_ERR(setup());
	TEST_ERR(request("MESSAGE", "sip:bob@example.com", "alice@example.com",
			 "bob@example.com", "p1", 1, NULL));
	TEST_EQ(407, scode());
	TEST_EQ(2, sip_msg_hdr_count(cl.resp, SIP_HDR_PROXY_AUTHENTICATE));
	TEST_ERR(challenge_nonce(nonce, sizeof(nonce),
				 SIP_HDR_PROXY_AUTHENTICATE,
				 DIGEST_ALG_SHA256));

	/* Authorization is the wrong header for a proxy challenge */
	TEST_ERR(creds(auth, sizeof(auth), "Authorization", DIGEST_ALG_SHA256,
		       "alice", "secret", nonce, "MESSAGE",
		       "sip:bob@example.com"));
	TEST_ERR(request("MESSAGE", "sip:bob@example.com", "alice@example.com",
			 "bob@example.com", "p1", 2, auth));
	TEST_EQ(407, scode());

	TEST_ERR(creds(auth, sizeof(auth), "Proxy-Authorization",
		       DIGEST_ALG_SHA256, "alice", "secret", nonce, "MESSAGE",
		       "sip:bob@example.com"));
	TEST_ERR(request("MESSAGE", "sip:bob@example.com", "alice@example.com",
			 "bob@example.com", "p1", 3, auth));
	TEST_EQ(200, scode());
	{
		const struct sip_hdr *h = sip_msg_xhdr(cl.resp, "X-User");

		TEST_TRUE(h != NULL);
		pl_strcpy(&h->val, who, sizeof(who));
		TEST_STREQ("alice@example.com", who);
	}

	/* the same credentials for a request to another URI: refused */
	TEST_ERR(request("MESSAGE", "sip:999@example.com", "alice@example.com",
			 "999@example.com", "p1", 4, auth));
	TEST_EQ(400, scode());

	/* sipp's digest-uri, the server's own address, is let in ... */
	re_snprintf(uri, sizeof(uri), "sip:%J", &fs.laddr);
	TEST_ERR(creds(auth, sizeof(auth), "Proxy-Authorization",
		       DIGEST_ALG_MD5, "alice", "secret", nonce, "MESSAGE",
		       uri));
	TEST_ERR(request("MESSAGE", "sip:999@example.com", "alice@example.com",
			 "999@example.com", "p1", 5, auth));
	TEST_EQ(200, scode());

	/* ... but not with a user part, nor another host's */
	re_snprintf(uri, sizeof(uri), "sip:bob@%J", &fs.laddr);
	TEST_ERR(creds(auth, sizeof(auth), "Proxy-Authorization",
		       DIGEST_ALG_MD5, "alice", "secret", nonce, "MESSAGE",
		       uri));
	TEST_ERR(request("MESSAGE", "sip:999@example.com", "alice@example.com",
			 "999@example.com", "p1", 6, auth));
	TEST_EQ(400, scode());
	TEST_ERR(creds(auth, sizeof(auth), "Proxy-Authorization",
		       DIGEST_ALG_MD5, "alice", "secret", nonce, "MESSAGE",
		       "sip:192.0.2.1:5060"));
	TEST_ERR(request("MESSAGE", "sip:999@example.com", "alice@example.com",
			 "999@example.com", "p1", 7, auth));
	TEST_EQ(400, scode());
 out:
	teardown();
	return err;
}

static int test_expires(void)
{
	char hdrs[512], c1[128], c2[128], u1[128], u2[128];
	uint32_t cseq = 1;
	int err = 0;

	TEST_ERR(setup());
	contact_uri(u1, sizeof(u1), "one");
	contact_uri(u2, sizeof(u2), "two");

	/* below the minimum: 423 with Min-Expires, nothing bound */
	contact_line(c1, sizeof(c1), "one", NULL);
	snprintf(hdrs, sizeof(hdrs), "%sExpires: 30\r\n", c1);
	TEST_ERR(do_register("alice", "secret", "alice", "e1", &cseq, hdrs,
			     DIGEST_ALG_MD5));
	TEST_EQ(423, scode());
	TEST_TRUE(hdr_with(SIP_HDR_MIN_EXPIRES, "60", NULL, 0));
	TEST_EQ(0, registrar_count());

	/* two contacts: header Expires clamped, the param wins over it */
	contact_line(c1, sizeof(c1), "one", NULL);
	contact_line(c2, sizeof(c2), "two", ";expires=120");
	snprintf(hdrs, sizeof(hdrs), "%s%sExpires: 7200\r\n", c1, c2);
	TEST_ERR(do_register("alice", "secret", "alice", "e1", &cseq, hdrs,
			     DIGEST_ALG_MD5));
	TEST_EQ(200, scode());
	TEST_EQ(2, ncontacts());
	TEST_TRUE(contact_expires(u1) >= 3599 && contact_expires(u1) <= 3600);
	TEST_TRUE(contact_expires(u2) >= 119 && contact_expires(u2) <= 120);
	TEST_EQ(2, registrar_lookup("alice", "example.com", NULL, NULL));

	/* a query (no Contact) lists them; nothing changes */
	TEST_ERR(do_register("alice", "secret", "alice", "e1", &cseq, NULL,
			     DIGEST_ALG_MD5));
	TEST_EQ(200, scode());
	TEST_EQ(2, ncontacts());

	/* expires=0 removes one, in a comma list with the other */
	re_snprintf(hdrs, sizeof(hdrs), "Contact: <%s>;expires=0, <%s>\r\n",
		    u2, u1);
	TEST_ERR(do_register("alice", "secret", "alice", "e1", &cseq, hdrs,
			     DIGEST_ALG_MD5));
	TEST_EQ(200, scode());
	TEST_EQ(1, ncontacts());
	TEST_EQ(-1, contact_expires(u2));
	TEST_TRUE(wait_rows(1));

	/* "*" needs Expires: 0 and to stand alone */
	TEST_ERR(do_register("alice", "secret", "alice", "e1", &cseq,
			     "Contact: *\r\nExpires: 60\r\n", DIGEST_ALG_MD5));
	TEST_EQ(400, scode());
	snprintf(hdrs, sizeof(hdrs), "Contact: *\r\n%sExpires: 0\r\n", c1);
	TEST_ERR(do_register("alice", "secret", "alice", "e1", &cseq, hdrs,
			     DIGEST_ALG_MD5));
	TEST_EQ(400, scode());
	TEST_EQ(1, registrar_count());

	TEST_ERR(do_register("alice", "secret", "alice", "e1", &cseq,
			     "Contact: *\r\nExpires: 0\r\n", DIGEST_ALG_MD5));
	TEST_EQ(200, scode());
	TEST_EQ(0, ncontacts());
	TEST_EQ(0, registrar_count());
	TEST_TRUE(wait_rows(0));
 out:
	teardown();
	return err;
}

/* RFC 3261 10.3 step 7: same Call-ID, older CSeq: binding unchanged. */
static int test_cseq_order(void)
{
	char c0[160], c1[160], u1[128];
	uint32_t cseq = 10, old = 3;
	int err = 0;

	TEST_ERR(setup());
	contact_uri(u1, sizeof(u1), "one");
	contact_line(c1, sizeof(c1), "one", ";expires=300");
	contact_line(c0, sizeof(c0), "one", ";expires=0");

	TEST_ERR(do_register("alice", "secret", "alice", "o1", &cseq, c1,
			     DIGEST_ALG_MD5));
	TEST_EQ(200, scode());

	/* a delayed older request of the same Call-ID is ignored */
	TEST_ERR(do_register("alice", "secret", "alice", "o1", &old, c0,
			     DIGEST_ALG_MD5));
	TEST_EQ(200, scode());
	TEST_EQ(1, ncontacts());
	TEST_TRUE(contact_expires(u1) >= 299);

	/* another Call-ID (a rebooted phone) may change it at any CSeq */
	old = 1;
	TEST_ERR(do_register("alice", "secret", "alice", "o2", &old, c0,
			     DIGEST_ALG_MD5));
	TEST_EQ(200, scode());
	TEST_EQ(0, ncontacts());
	TEST_EQ(0, registrar_count());
 out:
	teardown();
	return err;
}

static int test_too_many(void)
{
	char hdrs[4096], line[160], name[16];
	uint32_t cseq = 1;
	size_t len = 0;
	int err = 0, i;

	TEST_ERR(setup());
	for (i = 0; i < 11; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		contact_line(line, sizeof(line), name, NULL);
		len += (size_t)snprintf(hdrs + len, sizeof(hdrs) - len, "%s",
					line);
	}
	TEST_ERR(do_register("alice", "secret", "alice", "t1", &cseq, hdrs,
			     DIGEST_ALG_MD5));
	TEST_EQ(403, scode());
	TEST_EQ(0, registrar_count());

	/* ten fit */
	hdrs[len - strlen(line)] = '\0';
	TEST_ERR(do_register("alice", "secret", "alice", "t1", &cseq, hdrs,
			     DIGEST_ALG_MD5));
	TEST_EQ(200, scode());
	TEST_EQ(10, ncontacts());
	TEST_EQ(10, registrar_count());
 out:
	teardown();
	return err;
}

struct seen {
	struct sa       src;
	enum sip_transp tp;
	char            ua[64];
	char            uri[128];
	uint64_t        expires;
	unsigned        n;
};

static bool seen_h(const struct registrar_contact *c, void *arg)
{
	struct seen *s = arg;

	s->src = c->src;
	s->tp = c->tp;
	str_ncpy(s->ua, c->user_agent, sizeof(s->ua));
	str_ncpy(s->uri, c->uri, sizeof(s->uri));
	s->expires = c->expires;
	++s->n;
	return false;
}

/* Registrations outlive a restart; registrar_stop() writes the queue. */
static int test_restart(void)
{
	char contact[128], uri[128];
	struct seen s;
	uint32_t cseq = 1;
	int err = 0;

	TEST_ERR(setup());
	contact_line(contact, sizeof(contact), "alice", NULL);
	contact_uri(uri, sizeof(uri), "alice");
	TEST_ERR(do_register("alice", "secret", "alice", "r1", &cseq, contact,
			     DIGEST_ALG_MD5));
	TEST_EQ(200, scode());

	/* at once, before the batch timer: stop must write it */
	registrar_stop();
	TEST_EQ(1, query_int("SELECT count(*) FROM registrations"));
	TEST_EQ(0, registrar_count());

	TEST_ERR(registrar_start(db_handle(db)));
	TEST_EQ(1, registrar_count());
	memset(&s, 0, sizeof(s));
	TEST_EQ(1, registrar_lookup("alice", "example.com", seen_h, &s));
	TEST_TRUE(sa_cmp(&s.src, &cl.laddr, SA_ALL));
	TEST_EQ(SIP_TRANSP_UDP, s.tp);
	TEST_STREQ("unit-phone/1.0", s.ua);
	TEST_STREQ(uri, s.uri);
	TEST_TRUE(s.expires > (uint64_t)time(NULL) + 3500);

	/* the refresh after the restart is the same binding */
	TEST_ERR(do_register("alice", "secret", "alice", "r1", &cseq, contact,
			     DIGEST_ALG_MD5));
	TEST_EQ(200, scode());
	TEST_EQ(1, registrar_count());
	memset(&s, 0, sizeof(s));
	TEST_EQ(1, registrar_foreach(seen_h, &s));
	TEST_EQ(1, s.n);
 out:
	teardown();
	return err;
}

/* Stored rows: expired ones are dropped at start, the rest on time. */
static int test_expiry(void)
{
	char sql[512];
	long now = (long)time(NULL);
	int err = 0;

	TEST_ERR(setup());
	registrar_stop();
	snprintf(sql, sizeof(sql), "INSERT INTO registrations (aor, contact, "
		 "source, transport, expires) VALUES "
		 "('alice@example.com', 'sip:a@192.0.2.1', '192.0.2.1:5060', "
		 "'udp', %ld), "
		 "('alice@example.com', 'sip:b@192.0.2.2', '[2001:db8::2]:5062'"
		 ", 'tls', %ld), "
		 "('bob@example.com', 'sip:c@192.0.2.3', '192.0.2.3:5060', "
		 "'tcp', %ld), "
		 "('bob@example.com', 'sip:d@192.0.2.4', 'junk', 'udp', %ld)",
		 now + 2, now + 3600, now - 1, now + 3600);
	TEST_ERR(exec(sql));

	TEST_ERR(registrar_start(db_handle(db)));
	TEST_EQ(2, registrar_count());    /* one expired, one unreadable */
	TEST_EQ(3, query_int("SELECT count(*) FROM registrations"));
	TEST_EQ(2, registrar_lookup("alice", "example.com", NULL, NULL));

	TEST_TRUE(wait_rows(2));              /* a@ expires in ~2 s */
	TEST_EQ(1, registrar_count());
	TEST_EQ(0, query_int("SELECT count(*) FROM registrations WHERE "
			     "contact = 'sip:a@192.0.2.1'"));
 out:
	teardown();
	return err;
}

/* 10 000 phones, each its own AOR: well under 100 MiB. */
static int test_memory(void)
{
	struct mallinfo2 before, after;
	sqlite3_stmt *st = NULL;
	size_t used;
	int err = 0, i;
	char aor[64], uri[96], src[32];
	long now = (long)time(NULL);

	TEST_ERR(setup());
	registrar_stop();
	TEST_ERR(exec("BEGIN"));
	TEST_EQ(SQLITE_OK, sqlite3_prepare_v2(db_handle(db), "INSERT INTO "
		"registrations (aor, contact, source, transport, user_agent, "
		"expires, call_id, cseq) VALUES (?, ?, ?, 'udp', "
		"'Yealink SIP-T46U 108.86.0.70', ?, ?, 2)", -1, &st, NULL));
	for (i = 0; i < 10000; i++) {
		snprintf(aor, sizeof(aor), "%05d@example.com", i);
		snprintf(uri, sizeof(uri), "sip:%05d@10.%d.%d.%d:5060;"
			 "transport=udp", i, i >> 16, (i >> 8) & 255, i & 255);
		snprintf(src, sizeof(src), "203.0.%d.%d:%d", (i >> 8) & 255,
			 i & 255, 1024 + i);
		sqlite3_bind_text(st, 1, aor, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, uri, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, src, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, now + 3600);
		sqlite3_bind_text(st, 5, "0123456789abcdef0123456789abcdef@"
				  "10.0.0.1", -1, SQLITE_STATIC);
		TEST_EQ(SQLITE_DONE, sqlite3_step(st));
		sqlite3_reset(st);
	}
	TEST_ERR(exec("COMMIT"));

	before = mallinfo2();
	TEST_ERR(registrar_start(db_handle(db)));
	after = mallinfo2();
	TEST_EQ(10000, registrar_count());
	TEST_EQ(1, registrar_lookup("04242", "example.com", NULL, NULL));
	used = after.uordblks - before.uordblks;
	if (used)
		printf("  10000 contacts: %zu KiB\n", used / 1024);
	else
		printf("  10000 contacts: not measurable (not glibc's "
		       "malloc: sanitizer build?)\n");
	TEST_TRUE(used < 20u * 1024 * 1024);
	TEST_EQ(10000, registrar_foreach(NULL, NULL));
 out:
	sqlite3_finalize(st);
	teardown();
	return err;
}

static bool pinged(void)
{
	return cl.nreq > 0;
}

/*
 * NAT keepalive: an OPTIONS reaches a UDP contact within 25 s. Slow,
 * so it runs only with SBC_SLOW_TESTS=1 in the environment.
 */
static int test_keepalive(void)
{
	char contact[128];
	uint32_t cseq = 1;
	int err = 0;

	if (!getenv("SBC_SLOW_TESTS"))
		return TEST_SKIP;
	TEST_ERR(setup());
	contact_line(contact, sizeof(contact), "alice", NULL);
	TEST_ERR(do_register("alice", "secret", "alice", "k1", &cseq, contact,
			     DIGEST_ALG_MD5));
	TEST_EQ(200, scode());
	TEST_TRUE(loop_wait_for(pinged, 27000));
 out:
	teardown();
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_challenge),
	HARNESS_TEST(test_register),
	HARNESS_TEST(test_register_sha256),
	HARNESS_TEST(test_forbidden),
	HARNESS_TEST(test_malformed),
	HARNESS_TEST(test_stale),
	HARNESS_TEST(test_proxy_auth),
	HARNESS_TEST(test_expires),
	HARNESS_TEST(test_cseq_order),
	HARNESS_TEST(test_too_many),
	HARNESS_TEST(test_restart),
	HARNESS_TEST(test_expiry),
	HARNESS_TEST(test_memory),
	HARNESS_TEST(test_keepalive),
};

int main(void)
{
	int ret;

	log_init("test_registrar", LOG_LVL_ERROR);
	if (libre_init())
		return 1;
	ret = harness_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]));
	libre_close();
	return ret;
}
