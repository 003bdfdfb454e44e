/* sbc/db.c  SQLite store: open, configure, migrate the schema */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>
#include <re.h>

#include "db.h"
#include "log.h"

#define DB_BUSY_TIMEOUT_MS 5000

struct db {
	sqlite3 *h;
	char    *path;
	int      version;
};

/*
 * Migrations, in order: migrations[i] takes a database from version i
 * to i + 1. A released migration is never edited; a change of schema
 * is a new entry at the end (and DB_SCHEMA_VERSION + 1).
 *
 * Conventions: names are the REST API's keys; lists the API shows as
 * arrays are JSON text (checked with json_valid()); booleans are
 * INTEGER 0/1; times are unix milliseconds. Write-only API fields
 * (passwords) are stored as digest HA1 for subscribers and in clear for
 * trunks, whose outbound REGISTER/INVITE must answer a challenge.
 */
static const char *const migrations[] = {
	/* 0 -> 1: the provisioning tables, CDRs and registrations */
	"CREATE TABLE domains ("
	"  name TEXT PRIMARY KEY NOT NULL COLLATE NOCASE"
	");"
	"CREATE TABLE subscribers ("
	"  username     TEXT NOT NULL,"
	"  domain       TEXT NOT NULL COLLATE NOCASE,"
	"  ha1_md5      TEXT NOT NULL,"
	"  ha1_sha256   TEXT NOT NULL,"
	"  display_name TEXT NOT NULL DEFAULT '',"
	"  caller_id    TEXT NOT NULL DEFAULT '',"
	"  enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
	"  PRIMARY KEY (username, domain)"
	");"
	"CREATE TABLE trunks ("
	"  name          TEXT PRIMARY KEY NOT NULL,"
	"  host          TEXT NOT NULL,"
	"  port          INTEGER NOT NULL DEFAULT 5060"
	"                CHECK (port BETWEEN 1 AND 65535),"
	"  transport     TEXT NOT NULL DEFAULT 'udp'"
	"                CHECK (transport IN ('udp', 'tcp', 'tls')),"
	"  register      INTEGER NOT NULL DEFAULT 0 CHECK (register IN (0, 1)),"
	"  username      TEXT NOT NULL DEFAULT '',"
	"  password      TEXT NOT NULL DEFAULT '',"
	"  realm         TEXT NOT NULL DEFAULT '',"
	"  inbound_cidrs TEXT NOT NULL DEFAULT '[]'"
	"                CHECK (json_valid(inbound_cidrs)),"
	"  max_calls     INTEGER NOT NULL DEFAULT 0 CHECK (max_calls >= 0),"
	"  max_cps       INTEGER NOT NULL DEFAULT 0 CHECK (max_cps >= 0),"
	"  priority      INTEGER NOT NULL DEFAULT 0,"
	"  weight        INTEGER NOT NULL DEFAULT 1 CHECK (weight >= 0),"
	"  codecs        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(codecs)),"
	"  media         TEXT NOT NULL DEFAULT 'rtp'"
	"                CHECK (media IN ('rtp', 'srtp-sdes')),"
	"  enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1))"
	");"
	"CREATE TABLE dids ("
	"  number      TEXT PRIMARY KEY NOT NULL"
	"              CHECK (number <> '' AND number NOT GLOB '*[^0-9]*'),"
	"  target      TEXT NOT NULL,"
	"  trunk       TEXT REFERENCES trunks(name) ON UPDATE CASCADE,"
	"  description TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX dids_trunk ON dids(trunk);"
	"CREATE TABLE routes ("
	"  id       INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  prefix   TEXT NOT NULL DEFAULT ''"
	"           CHECK (prefix NOT GLOB '*[^0-9]*'),"
	"  strip    INTEGER NOT NULL DEFAULT 0 CHECK (strip >= 0),"
	"  prepend  TEXT NOT NULL DEFAULT '',"
	"  priority INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX routes_prefix ON routes(prefix);"
	/* a route's trunks in failover order; a trunk in use cannot go */
	"CREATE TABLE route_trunks ("
	"  route_id INTEGER NOT NULL REFERENCES routes(id) ON DELETE CASCADE,"
	"  pos      INTEGER NOT NULL CHECK (pos >= 0),"
	"  trunk    TEXT NOT NULL REFERENCES trunks(name) ON UPDATE CASCADE,"
	"  PRIMARY KEY (route_id, pos)"
	");"
	"CREATE INDEX route_trunks_trunk ON route_trunks(trunk);"
	"CREATE TABLE blocklist ("
	"  entry      TEXT PRIMARY KEY NOT NULL,"
	"  reason     TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL"
	"             DEFAULT (CAST(strftime('%s', 'now') AS INTEGER) * 1000)"
	");"
	/* no foreign key to trunks: a CDR outlives the trunk it used */
	"CREATE TABLE cdrs ("
	"  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  call_id     TEXT NOT NULL,"
	"  from_uri    TEXT NOT NULL,"
	"  to_uri      TEXT NOT NULL,"
	"  direction   TEXT NOT NULL"
	"              CHECK (direction IN ('internal', 'inbound',"
	"                                   'outbound')),"
	"  trunk       TEXT,"
	"  started_at  INTEGER NOT NULL,"
	"  answered_at INTEGER,"
	"  ended_at    INTEGER NOT NULL,"
	"  duration_s  INTEGER NOT NULL DEFAULT 0,"
	"  result      INTEGER NOT NULL,"
	"  hangup_side TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX cdrs_started_at ON cdrs(started_at);"
	"CREATE TABLE registrations ("
	"  aor        TEXT NOT NULL,"
	"  contact    TEXT NOT NULL,"
	"  source     TEXT NOT NULL,"
	"  transport  TEXT NOT NULL,"
	"  user_agent TEXT NOT NULL DEFAULT '',"
	"  expires    INTEGER NOT NULL,"
	"  call_id    TEXT NOT NULL DEFAULT '',"
	"  cseq       INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (aor, contact)"
	");"
	"CREATE INDEX registrations_expires ON registrations(expires);",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
	       DB_SCHEMA_VERSION, "one migration per schema version");

static void db_destructor(void *arg)
{
	struct db *db = arg;

	if (db->h)
		sqlite3_close_v2(db->h);
	mem_deref(db->path);
}

/* mkdir -p of the directory part of <path>; 0 when nothing to do. */
static int mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len, i;

	if (!slash || slash == path)
		return 0;
	len = (size_t)(slash - path);
	if (len >= sizeof(dir))
		return ENAMETOOLONG;
	memcpy(dir, path, len);
	dir[len] = '\0';

	for (i = 1; i <= len; i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0750) == -1 && errno != EEXIST)
			return errno;
		if (i < len)
			dir[i] = '/';
	}
	return 0;
}

/* Run <sql> (no rows wanted); logs and returns EIO on failure. */
static int db_exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	log_err("db", "%s: %s", db->path, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc == SQLITE_NOTADB ? EPROTO : EIO;
}

/* A one-row, one-column pragma into <buf>; 0 or EIO. */
static int db_pragma(struct db *db, const char *sql, char *buf, size_t sz)
{
	sqlite3_stmt *st = NULL;
	int rc, err = EIO;

	rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		re_snprintf(buf, sz, "%s", t ? (const char *)t : "");
		err = 0;
	}
	else {
		log_err("db", "%s: %s: %s", db->path, sql,
			sqlite3_errmsg(db->h));
		if (rc == SQLITE_NOTADB)
			err = EPROTO;
	}
	sqlite3_finalize(st);
	return err;
}

/* Migration <i> (to version i + 1) in one transaction. */
static int migrate_one(struct db *db, unsigned i)
{
	char sql[64];
	int err;

	err = db_exec(db, "BEGIN IMMEDIATE");
	if (err)
		return err;
	err = db_exec(db, migrations[i]);
	if (!err) {
		re_snprintf(sql, sizeof(sql), "PRAGMA user_version = %u",
			    i + 1);
		err = db_exec(db, sql);
	}
	if (!err)
		err = db_exec(db, "COMMIT");
	if (err) {
		(void)sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}

	log_info("db", "%s: migrated to schema version %u", db->path, i + 1);
	return 0;
}

/*
 * Read the schema version into db->version; a newer one than ours is
 * EPROTO. Runs before anything writes, so a refused file stays as it
 * was (journal mode included).
 */
static int check_version(struct db *db)
{
	char buf[32];
	long v;
	int err;

	err = db_pragma(db, "PRAGMA user_version", buf, sizeof(buf));
	if (err)
		return err;
	v = strtol(buf, NULL, 10);
	if (v < 0 || v > INT_MAX) {
		log_err("db", "%s: schema version %s makes no sense", db->path,
			buf);
		return EPROTO;
	}
	if (v > DB_SCHEMA_VERSION) {
		log_err("db", "%s: schema version %ld is newer than this sbc "
			"knows (%d); refusing to use it (run the newer sbc, "
			"or restore a backup)", db->path, v,
			DB_SCHEMA_VERSION);
		return EPROTO;
	}
	db->version = (int)v;
	return 0;
}

static int migrate(struct db *db)
{
	int err;

	while (db->version < DB_SCHEMA_VERSION) {
		err = migrate_one(db, (unsigned)db->version);
		if (err)
			return err;
		++db->version;
	}
	return 0;
}

int db_open(struct db **dbp, const char *path)
{
	struct db *db;
	char mode[16];
	int rc, err;

	if (!dbp || !path || !*path)
		return EINVAL;

	db = mem_zalloc(sizeof(*db), db_destructor);
	if (!db)
		return ENOMEM;

	err = str_dup(&db->path, path);
	if (err)
		goto out;

	err = mkdir_parent(path);
	if (err) {
		log_err("db", "%s: cannot create its directory: %s", path,
			strerror(err));
		goto out;
	}

	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_err("db", "%s: %s", path, db->h ? sqlite3_errmsg(db->h) :
			sqlite3_errstr(rc));
		err = rc == SQLITE_CANTOPEN ? EACCES : EIO;
		goto out;
	}
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);

	err = check_version(db);
	if (err)
		goto out;

	err = db_pragma(db, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
	if (err)
		goto out;
	if (strcmp(mode, "wal"))
		log_warn("db", "%s: journal mode is '%s', not WAL", path,
			 mode);

	/* WAL makes NORMAL durable across crashes of sbc, not of power */
	err = db_exec(db, "PRAGMA synchronous = NORMAL;"
		      "PRAGMA foreign_keys = ON;");
	if (err)
		goto out;

	err = migrate(db);
 out:
	if (err)
		mem_deref(db);
	else
		*dbp = db;
	return err;
}

int db_version(const struct db *db)
{
	return db ? db->version : 0;
}

struct sqlite3 *db_handle(const struct db *db)
{
	return db ? db->h : NULL;
}

int db_debug(struct re_printf *pf, const struct db *db)
{
	if (!db)
		return re_hprintf(pf, "db: closed");
	return re_hprintf(pf, "db: %s schema=%d sqlite=%s", db->path,
			  db->version, sqlite3_libversion());
}
