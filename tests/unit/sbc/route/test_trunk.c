/* tests/unit/sbc/route/test_trunk.c  Trunk limits, metrics, probes, REGISTER */
#include <arpa/inet.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <re.h>

#include "config.h"
#include "db.h"
#include "harness.h"
#include "log.h"
#include "loop_wait.h"
#include "route.h"
#include "sbc.h"
#include "sipsrv.h"
#include "trunk.h"

static char dir[64];
static struct db *db;
static struct sbc_config cfg;

/* sipsrv.c and route.c read the running config through this */
const struct sbc_config *sbc_config(void)
{
	return &cfg;
}

/* Not called by what this program tests; here in case the SIP stack
 * it links starts to want the database handle. */
struct sqlite3 *sbc_dbh(void)
{
	return db_handle(db);
}

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
	char *msg = NULL;

	if (sqlite3_exec(db_handle(db), sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	fprintf(stderr, "  sql: %s: %s\n", sql, msg);
	sqlite3_free(msg);
	return EIO;
}

static int setup(const char *sql)
{
	char path[128];
	int err;

	strcpy(dir, "/tmp/sbc-test-trunkXXXXXX");
	if (!mkdtemp(dir))
		return errno;
	snprintf(path, sizeof(path), "%s/sbc.db", dir);
	err = db_open(&db, path);
	if (!err && sql)
		err = exec(sql);
	return err;
}

static void teardown(void)
{
	trunk_stop();
	db = mem_deref(db);
	if (dir[0])
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

static uint32_t active(const char *name)
{
	struct trunk_status st;

	if (trunk_status(name, &st))
		return 9999;
	return st.active_calls;
}

static int test_max_calls(void)
{
	struct trunk_status st;
	int err = 0;

	TEST_ERR(setup("INSERT INTO trunks (name, host, max_calls) VALUES "
		       "('lim', '192.0.2.1', 2), ('free', '192.0.2.2', 0);"));
	TEST_ERR(trunk_start(db_handle(db)));

	TEST_TRUE(trunk_call_begin("lim"));
	TEST_TRUE(trunk_call_begin("lim"));
	TEST_TRUE(!trunk_call_begin("lim"));
	TEST_EQ(2, active("lim"));
	trunk_call_end("lim");
	TEST_EQ(1, active("lim"));
	TEST_TRUE(trunk_call_begin("lim"));
	TEST_TRUE(!trunk_call_begin("lim"));

	/* a new limit applies after a reload; calls in progress stay */
	TEST_ERR(exec("UPDATE trunks SET max_calls = 3 WHERE name = 'lim'"));
	TEST_TRUE(!trunk_call_begin("lim"));
	TEST_ERR(trunk_reload());
	TEST_EQ(2, active("lim"));
	TEST_TRUE(trunk_call_begin("lim"));
	TEST_TRUE(!trunk_call_begin("lim"));

	/* no limit */
	TEST_TRUE(trunk_call_begin("free"));
	TEST_TRUE(trunk_call_begin("free"));
	TEST_TRUE(trunk_call_begin("free"));
	TEST_EQ(3, active("free"));

	/* an unknown name has no limit, and is no trunk */
	TEST_TRUE(trunk_call_begin("nosuch"));
	TEST_TRUE(trunk_call_begin("nosuch"));
	TEST_EQ(ENOENT, trunk_status("nosuch", &st));
	trunk_call_end("nosuch");
	trunk_call_end("nosuch");
	trunk_call_end("nosuch");          /* one too many: ignored */
	TEST_TRUE(trunk_call_begin(NULL));
	trunk_call_end(NULL);

	/* ends never go below zero */
	trunk_call_end("free");
	trunk_call_end("free");
	trunk_call_end("free");
	trunk_call_end("free");
	TEST_EQ(0, active("free"));
 out:
	teardown();
	return err;
}

static int test_max_cps(void)
{
	int err = 0;

	TEST_ERR(setup("INSERT INTO trunks (name, host, max_cps) VALUES "
		       "('cps', '192.0.2.1', 1), ('cps3', '192.0.2.3', 3);"));
	TEST_ERR(trunk_start(db_handle(db)));

	/* a full bucket: max_cps calls at once, then one per 1/max_cps s */
	TEST_TRUE(trunk_call_begin("cps3"));
	TEST_TRUE(trunk_call_begin("cps3"));
	TEST_TRUE(trunk_call_begin("cps3"));
	TEST_TRUE(!trunk_call_begin("cps3"));

	TEST_TRUE(trunk_call_begin("cps"));
	TEST_TRUE(!trunk_call_begin("cps"));
	/* a refused call is no call: nothing to end */
	TEST_EQ(1, active("cps"));
	usleep(1100 * 1000);
	TEST_TRUE(trunk_call_begin("cps"));
	TEST_TRUE(!trunk_call_begin("cps"));
	TEST_EQ(2, active("cps"));

	/* the rate is per second, not concurrent calls: ends free nothing */
	trunk_call_end("cps");
	trunk_call_end("cps");
	TEST_TRUE(!trunk_call_begin("cps"));
 out:
	teardown();
	return err;
}

/* A trunk deleted while calls run keeps counting until they end. */
static int test_removed_with_calls(void)
{
	struct trunk_status st;
	int err = 0;

	TEST_ERR(setup("INSERT INTO trunks (name, host, max_calls) VALUES "
		       "('gone', '192.0.2.1', 1);"));
	TEST_ERR(trunk_start(db_handle(db)));
	TEST_TRUE(trunk_call_begin("gone"));
	TEST_ERR(exec("DELETE FROM trunks"));
	TEST_ERR(trunk_reload());
	TEST_EQ(ENOENT, trunk_status("gone", &st));
	trunk_call_end("gone");

	/* back again: a fresh trunk with its limit */
	TEST_ERR(exec("INSERT INTO trunks (name, host, max_calls) VALUES "
		      "('gone', '192.0.2.1', 1)"));
	TEST_ERR(trunk_reload());
	TEST_EQ(0, active("gone"));
	TEST_TRUE(trunk_call_begin("gone"));
	TEST_TRUE(!trunk_call_begin("gone"));
 out:
	teardown();
	return err;
}

static int test_metrics(void)
{
	char *doc = NULL;
	int err = 0;

	TEST_ERR(setup("INSERT INTO trunks (name, host, register) VALUES "
		       "('a\"b\\c', '192.0.2.1', 0), ('r', '192.0.2.2', 1);"));
	TEST_ERR(trunk_start(db_handle(db)));
	TEST_TRUE(trunk_call_begin("r"));
	TEST_TRUE(trunk_call_begin("r"));

	TEST_ERR(re_sdprintf(&doc, "%H", trunk_metrics, NULL));
	TEST_TRUE(strstr(doc, "# TYPE sbc_trunk_up gauge\n") != NULL);
	TEST_TRUE(strstr(doc, "# HELP sbc_trunk_up ") != NULL);
	TEST_TRUE(strstr(doc, "# TYPE sbc_trunk_calls_active gauge\n") !=
		  NULL);
	/* label values escaped per the text format */
	TEST_TRUE(strstr(doc, "sbc_trunk_up{trunk=\"a\\\"b\\\\c\"} 0\n") !=
		  NULL);
	TEST_TRUE(strstr(doc, "sbc_trunk_up{trunk=\"r\"} 0\n") != NULL);
	TEST_TRUE(strstr(doc, "sbc_trunk_calls_active{trunk=\"r\"} 2\n") !=
		  NULL);
	TEST_TRUE(strstr(doc, "sbc_trunk_calls_active{trunk=\"a\\\"b\\\\c\"} "
			 "0\n") != NULL);
	TEST_TRUE(strstr(doc, "sbc_trunk_registered{trunk=\"r\"} 0\n") !=
		  NULL);
	TEST_TRUE(strstr(doc, "sbc_trunk_registered{trunk=\"a") == NULL);
 out:
	mem_deref(doc);
	teardown();
	return err;
}

/*
 * A SIP peer on 127.0.0.1: a second libre stack that answers OPTIONS
 * with 200 and REGISTER with a digest challenge, then 200 for the right
 * password and 403 for a wrong one.
 */
#define PEER_REALM "peer.test"

static struct {
	struct sip      *sip;
	struct sip_lsnr *lsnr;
	uint16_t         port;
	unsigned         options;
	unsigned         registers;
	unsigned         reg_ok;
	unsigned         unregisters;
} peer;

static bool peer_auth_ok(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
	struct httpauth_digest_resp resp;
	uint8_t ha1[16];

	if (!h || httpauth_digest_response_decode(&resp, &h->val))
		return false;
	if (pl_strcmp(&resp.username, "user") ||
	    pl_strcmp(&resp.realm, PEER_REALM))
		return false;
	if (md5_printf(ha1, "user:" PEER_REALM ":secret"))
		return false;
	return httpauth_digest_response_auth(&resp, &msg->met, ha1) == 0;
}

static bool peer_req(const struct sip_msg *msg, void *arg)
{
	const struct sip_hdr *contact;
	char cval[256];

	(void)arg;

	if (!pl_strcmp(&msg->met, "OPTIONS")) {
		++peer.options;
		(void)sip_reply(peer.sip, msg, 200, "OK");
		return true;
	}
	if (pl_strcmp(&msg->met, "REGISTER")) {
		(void)sip_reply(peer.sip, msg, 501, "Not Implemented");
		return true;
	}

	++peer.registers;
	if (!sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION)) {
		(void)sip_replyf(peer.sip, msg, 401, "Unauthorized",
				 "WWW-Authenticate: Digest realm=\""
				 PEER_REALM "\", nonce=\"%016llx\", "
				 "qop=\"auth\"\r\n"
				 "Content-Length: 0\r\n\r\n",
				 (unsigned long long)rand_u64());
		return true;
	}
	if (!peer_auth_ok(msg)) {
		(void)sip_reply(peer.sip, msg, 403, "Forbidden");
		return true;
	}
	contact = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	if (!contact) {
		(void)sip_reply(peer.sip, msg, 400, "No Contact");
		return true;
	}
	pl_strcpy(&contact->val, cval, sizeof(cval));
	if (strstr(cval, ";expires=0"))
		++peer.unregisters;
	else
		++peer.reg_ok;
	(void)sip_replyf(peer.sip, msg, 200, "OK",
			 "Contact: %r\r\nContent-Length: 0\r\n\r\n",
			 &contact->val);
	return true;
}

static int peer_start(void)
{
	struct sa la;
	int err;

	memset(&peer, 0, sizeof(peer));
	err = sip_alloc(&peer.sip, NULL, 32, 32, 32, "peer", NULL, NULL);
	if (err)
		return err;
	sa_set_str(&la, "127.0.0.1", 0);
	err = sip_transp_add(peer.sip, SIP_TRANSP_UDP, &la);
	if (!err)
		err = sip_transp_laddr(peer.sip, &la, SIP_TRANSP_UDP, NULL);
	if (!err)
		err = sip_listen(&peer.lsnr, peer.sip, true, peer_req, NULL);
	peer.port = sa_port(&la);
	return err;
}

static void peer_stop(void)
{
	peer.lsnr = mem_deref(peer.lsnr);
	sip_close(peer.sip, true);
	peer.sip = mem_deref(peer.sip);
}

/* sbc's own stack: UDP and TCP listeners on 127.0.0.1, any port */
static int sbc_sip_start(void)
{
	struct sockaddr_in *in;
	int err;

	err = config_defaults(&cfg);
	if (err)
		return err;
	memset(&cfg.sip_udp, 0, sizeof(cfg.sip_udp));
	in = (struct sockaddr_in *)&cfg.sip_udp.ss;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfg.sip_udp.len = sizeof(*in);
	cfg.sip_tcp = cfg.sip_udp;
	memset(&cfg.sip_tls, 0, sizeof(cfg.sip_tls));
	memset(&cfg.sip_ws, 0, sizeof(cfg.sip_ws));
	memset(&cfg.sip_wss, 0, sizeof(cfg.sip_wss));
	return sipsrv_start(&cfg);
}

static bool status(const char *name, struct trunk_status *st)
{
	return trunk_status(name, st) == 0;
}

static bool all_settled(void)
{
	struct trunk_status up, down, badpw;

	return status("up", &up) && status("down", &down) &&
		status("badpw", &badpw) &&
		up.reachable && up.registered && up.probed &&
		down.probed && !down.reachable &&
		badpw.reachable && badpw.reg_scode == 403;
}

static bool up_down(void)
{
	struct trunk_status st;

	return status("up", &st) && st.probed && !st.reachable;
}

static bool unregistered(void)
{
	return peer.unregisters > 0;
}

static int test_probe_register(void)
{
	struct trunk_status st;
	char sql[512], *doc = NULL;
	unsigned options;
	struct sa pa;
	int err = 0;

	TEST_ERR(peer_start());
	TEST_ERR(sbc_sip_start());
	snprintf(sql, sizeof(sql),
		 "INSERT INTO trunks (name, host, port, transport, register, "
		 "username, password) VALUES "
		 "('up', '127.0.0.1', %u, 'udp', 1, 'user', 'secret'),"
		 "('badpw', '127.0.0.1', %u, 'udp', 1, 'user', 'wrong'),"
		 "('down', '127.0.0.1', 1, 'tcp', 0, '', ''),"
		 "('off', '127.0.0.1', %u, 'udp', 1, 'user', 'secret');"
		 "UPDATE trunks SET enabled = 0 WHERE name = 'off';",
		 peer.port, peer.port, peer.port);
	TEST_ERR(setup(sql));
	TEST_ERR(trunk_start(db_handle(db)));

	TEST_TRUE(loop_wait_for(all_settled, 5000));
	TEST_ERR(trunk_status("up", &st));
	TEST_EQ(200, st.reg_scode);
	/* two REGISTERs each for up and badpw (challenge, answer) */
	TEST_EQ(4, peer.registers);
	TEST_EQ(1, peer.reg_ok);
	/* up and badpw probed; the disabled one neither probed nor
	 * registered */
	TEST_EQ(2, peer.options);
	TEST_ERR(trunk_status("off", &st));
	TEST_TRUE(!st.probed && !st.reachable && !st.registered);

	TEST_ERR(re_sdprintf(&doc, "%H", trunk_metrics, NULL));
	TEST_TRUE(strstr(doc, "sbc_trunk_up{trunk=\"up\"} 1\n") != NULL);
	TEST_TRUE(strstr(doc, "sbc_trunk_up{trunk=\"down\"} 0\n") != NULL);
	TEST_TRUE(strstr(doc, "sbc_trunk_registered{trunk=\"up\"} 1\n") !=
		  NULL);
	TEST_TRUE(strstr(doc, "sbc_trunk_registered{trunk=\"badpw\"} 0\n") !=
		  NULL);

	/* IP literal hosts are matched by route.c, not by who answered */
	TEST_ERR(sa_set_str(&pa, "127.0.0.1", peer.port));
	TEST_TRUE(trunk_by_addr(&pa) == NULL);

	/* a reload that changes nothing keeps the state, sends nothing */
	options = peer.options;
	TEST_ERR(trunk_reload());
	TEST_TRUE(all_settled());
	TEST_EQ(options, peer.options);
	TEST_EQ(4, peer.registers);

	/* a new address: state starts again, the old binding is removed */
	TEST_ERR(exec("UPDATE trunks SET port = 1, transport = 'tcp' "
		      "WHERE name = 'up'"));
	TEST_ERR(trunk_reload());
	TEST_ERR(trunk_status("up", &st));
	TEST_TRUE(!st.reachable && !st.registered);
	TEST_TRUE(loop_wait_for(up_down, 5000));
	TEST_TRUE(loop_wait_for(unregistered, 5000));
 out:
	mem_deref(doc);
	teardown();
	sipsrv_stop();
	peer_stop();
	return err;
}

static bool up_registered(void)
{
	struct trunk_status st;

	return status("up", &st) && st.registered;
}

/*
 * Stopping with a live registration: the un-REGISTER outlives the
 * trunk (libre's sipreg keeps itself alive for it) and still has the
 * credentials for its challenge; the stack's close ends it. Run under
 * ASan this is the use-after-free and leak check.
 */
static int test_stop_registered(void)
{
	char sql[256];
	int err = 0;

	TEST_ERR(peer_start());
	TEST_ERR(sbc_sip_start());
	snprintf(sql, sizeof(sql),
		 "INSERT INTO trunks (name, host, port, register, username, "
		 "password) VALUES ('up', '127.0.0.1', %u, 1, 'user', "
		 "'secret');", peer.port);
	TEST_ERR(setup(sql));
	TEST_ERR(trunk_start(db_handle(db)));
	TEST_TRUE(loop_wait_for(up_registered, 5000));

	/* deleted from the table: the binding is removed at the peer */
	TEST_ERR(exec("DELETE FROM trunks"));
	TEST_ERR(trunk_reload());
	TEST_TRUE(loop_wait_for(unregistered, 5000));

	TEST_ERR(exec(sql));
	TEST_ERR(trunk_reload());
	TEST_TRUE(loop_wait_for(up_registered, 5000));
 out:
	teardown();
	sipsrv_stop();
	peer_stop();
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_max_calls),
	HARNESS_TEST(test_max_cps),
	HARNESS_TEST(test_removed_with_calls),
	HARNESS_TEST(test_metrics),
	HARNESS_TEST(test_probe_register),
	HARNESS_TEST(test_stop_registered),
};

int main(void)
{
	int ret;

	log_init("test_trunk", LOG_LVL_ERROR);
	if (libre_init())
		return 1;
	ret = harness_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]));
	libre_close();
	return ret;
}
