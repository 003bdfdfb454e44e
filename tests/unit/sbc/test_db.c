/* tests/unit/sbc/test_db.c  SQLite store: migrations, reopen, newer schema */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <re.h>

#include "db.h"
#include "harness.h"
#include "log.h"

static char dir[64];
static char path[128];

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* A fresh directory per test; the database two levels below it. */
static int setup(void)
{
	strcpy(dir, "/tmp/sbc-test-dbXXXXXX");
	if (!mkdtemp(dir))
		return errno;
	snprintf(path, sizeof(path), "%s/a/b/sbc.db", dir);
	return 0;
}

static void teardown(void)
{
	if (dir[0])
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

/* One integer from <sql> on <h>, or -1. */
static long query_int(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long v = -1;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int exec(sqlite3 *h, const char *sql)
{
	return sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : EIO;
}

static int test_fresh(void)
{
	struct db *db = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3 *h;
	int err = 0;

	TEST_ERR(setup());
	TEST_ERR(db_open(&db, path));
	TEST_EQ(DB_SCHEMA_VERSION, db_version(db));

	h = db_handle(db);
	TEST_EQ(DB_SCHEMA_VERSION, query_int(h, "PRAGMA user_version"));
	TEST_EQ(1, query_int(h, "PRAGMA foreign_keys"));
	TEST_EQ(0, sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st,
				      NULL));
	TEST_EQ(SQLITE_ROW, sqlite3_step(st));
	TEST_STREQ("wal", (const char *)sqlite3_column_text(st, 0));

	/* every table of the REST resources, with the SPEC's columns */
	TEST_EQ(9, query_int(h, "SELECT count(*) FROM sqlite_master WHERE "
			     "type = 'table' AND name IN ('domains', "
			     "'subscribers', 'trunks', 'dids', 'routes', "
			     "'route_trunks', 'blocklist', 'cdrs', "
			     "'registrations')"));
	TEST_ERR(exec(h, "SELECT username, domain, ha1_md5, ha1_sha256, "
		      "display_name, caller_id, enabled FROM subscribers"));
	TEST_ERR(exec(h, "SELECT name, host, port, transport, register, "
		      "username, password, realm, inbound_cidrs, max_calls, "
		      "max_cps, priority, weight, codecs, media, enabled "
		      "FROM trunks"));
	TEST_ERR(exec(h, "SELECT number, target, trunk, description "
		      "FROM dids"));
	TEST_ERR(exec(h, "SELECT id, prefix, strip, prepend, priority "
		      "FROM routes"));
	TEST_ERR(exec(h, "SELECT entry, reason FROM blocklist"));
	TEST_ERR(exec(h, "SELECT id, call_id, from_uri, to_uri, direction, "
		      "trunk, started_at, answered_at, ended_at, duration_s, "
		      "result, hangup_side FROM cdrs"));
	TEST_ERR(exec(h, "SELECT aor, contact, source, transport, "
		      "user_agent, expires FROM registrations"));
 out:
	sqlite3_finalize(st);
	mem_deref(db);
	teardown();
	return err;
}

/* Constraints and foreign keys hold, so the API can map them to 409. */
static int test_constraints(void)
{
	struct db *db = NULL;
	sqlite3 *h;
	int err = 0;

	TEST_ERR(setup());
	TEST_ERR(db_open(&db, path));
	h = db_handle(db);

	TEST_ERR(exec(h, "INSERT INTO trunks (name, host) VALUES "
		      "('carrier', 'sip.example.net')"));
	TEST_ERR(exec(h, "INSERT INTO dids (number, target, trunk) VALUES "
		      "('4930123', 'alice@example.com', 'carrier')"));
	TEST_EQ(EIO, exec(h, "INSERT INTO dids (number, target, trunk) "
			  "VALUES ('4930124', 'bob@example.com', 'nosuch')"));
	TEST_EQ(EIO, exec(h, "INSERT INTO dids (number, target) VALUES "
			  "('+4930', 'x@example.com')"));
	TEST_EQ(EIO, exec(h, "INSERT INTO trunks (name, host, transport) "
			  "VALUES ('t2', 'h', 'sctp')"));
	TEST_EQ(EIO, exec(h, "INSERT INTO trunks (name, host, codecs) "
			  "VALUES ('t3', 'h', 'not json')"));
	TEST_ERR(exec(h, "INSERT INTO routes (prefix) VALUES ('49')"));
	TEST_ERR(exec(h, "INSERT INTO route_trunks (route_id, pos, trunk) "
		      "VALUES (1, 0, 'carrier')"));
	/* a trunk in use by a DID or a route cannot go */
	TEST_EQ(EIO, exec(h, "DELETE FROM trunks WHERE name = 'carrier'"));
 out:
	mem_deref(db);
	teardown();
	return err;
}

/* Opening a current database again changes nothing and keeps data. */
static int test_reopen(void)
{
	struct db *db = NULL;
	int err = 0;

	TEST_ERR(setup());
	TEST_ERR(db_open(&db, path));
	TEST_ERR(exec(db_handle(db), "INSERT INTO domains (name) VALUES "
		      "('example.com')"));
	db = mem_deref(db);

	TEST_ERR(db_open(&db, path));
	TEST_EQ(DB_SCHEMA_VERSION, db_version(db));
	TEST_EQ(1, query_int(db_handle(db), "SELECT count(*) FROM domains"));
	db = mem_deref(db);

	TEST_ERR(db_open(&db, path));
	TEST_EQ(1, query_int(db_handle(db), "SELECT count(*) FROM domains"));
 out:
	mem_deref(db);
	teardown();
	return err;
}

/* A database from a newer sbc is refused and left as it was. */
static int test_newer_refused(void)
{
	struct db *db = NULL;
	sqlite3 *h = NULL;
	char sql[160];
	int err = 0;

	TEST_ERR(setup());
	snprintf(path, sizeof(path), "%s/sbc.db", dir);
	TEST_EQ(SQLITE_OK, sqlite3_open(path, &h));
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 DB_SCHEMA_VERSION + 1);
	TEST_ERR(exec(h, "CREATE TABLE future (x)"));
	TEST_ERR(exec(h, sql));
	sqlite3_close(h);
	h = NULL;

	TEST_EQ(EPROTO, db_open(&db, path));
	TEST_TRUE(db == NULL);

	TEST_EQ(SQLITE_OK, sqlite3_open(path, &h));
	TEST_EQ(DB_SCHEMA_VERSION + 1, query_int(h, "PRAGMA user_version"));
	TEST_EQ(0, query_int(h, "SELECT count(*) FROM sqlite_master WHERE "
			     "name = 'domains'"));
	snprintf(sql, sizeof(sql), "%s-wal", path);
	TEST_EQ(-1, access(sql, F_OK));     /* not switched to WAL either */
 out:
	sqlite3_close(h);
	mem_deref(db);
	teardown();
	return err;
}

static int test_not_a_database(void)
{
	struct db *db = NULL;
	FILE *f;
	int err = 0;

	TEST_ERR(setup());
	snprintf(path, sizeof(path), "%s/sbc.db", dir);
	f = fopen(path, "w");
	TEST_TRUE(f != NULL);
	fputs("this is not an SQLite file, but it is long enough to be "
	      "read as a header: 0123456789012345678901234567890123456789",
	      f);
	fclose(f);

	TEST_TRUE(db_open(&db, path) != 0);
	TEST_TRUE(db == NULL);
	TEST_EQ(EINVAL, db_open(&db, ""));
 out:
	mem_deref(db);
	teardown();
	return err;
}

static const struct harness_test tests[] = {
	HARNESS_TEST(test_fresh),
	HARNESS_TEST(test_constraints),
	HARNESS_TEST(test_reopen),
	HARNESS_TEST(test_newer_refused),
	HARNESS_TEST(test_not_a_database),
};

int main(void)
{
	log_init("test_db", LOG_LVL_WARN);
	return harness_run(__FILE__, tests, sizeof(tests) / sizeof(tests[0]));
}
