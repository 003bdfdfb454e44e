/* sbc/db.h  SQLite store: open, configure, migrate the schema */
#ifndef SBC_DB_H
#define SBC_DB_H

struct db;
struct re_printf;
struct sqlite3;

/* Schema version this sbc writes; PRAGMA user_version holds a DB's. */
#define DB_SCHEMA_VERSION 1

/*
 * Open (creating it and its parent directory when missing) the database
 * at <path>, switch it to WAL with a busy timeout and foreign keys on,
 * and migrate it to DB_SCHEMA_VERSION, each migration in a transaction
 * of its own. A database from a newer sbc is refused (EPROTO) and left
 * untouched. On success *dbp is the caller's (mem_deref() closes it).
 * Returns 0 or an errno; the reason is logged.
 */
int  db_open(struct db **dbp, const char *path);

/* The schema version of the open database. */
int  db_version(const struct db *db);

/* The connection, for the modules that query it. Borrowed. */
struct sqlite3 *db_handle(const struct db *db);

int  db_debug(struct re_printf *pf, const struct db *db);

#endif
