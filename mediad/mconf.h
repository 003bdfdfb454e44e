/* mediad/mconf.h  mediad.conf: the key table, defaults and cross-key checks */
#ifndef MEDIAD_MCONF_H
#define MEDIAD_MCONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"
#include "log.h"
#include "shm.h"

#define MCONF_PATH_DEFAULT  "conf/mediad.conf"
#define MCONF_WORKERS_MAX   64

/* The whole of mediad.conf; see mconf.c for each key's meaning. */
struct mconf {
	struct cfg_addr ng_listen;
	struct cfg_addr media_ip;
	struct cfg_addr advertised_ip;  /* resolved: = media_ip if unset */
	uint32_t port_min;
	uint32_t port_max;
	uint32_t workers;               /* as written: 0 = one per core */
	char     shm_name[SHM_NAME_MAX];
	uint32_t media_timeout;         /* seconds */
	uint32_t delete_delay;          /* seconds, NG delete default */
	enum log_level log_level;
};

extern const struct cfg_key mconf_keys[];

/*
 * Load and validate <path> into <mc>: the key table (cfg_parse) and then
 * the checks that span keys. All or nothing: on error <mc> is untouched
 * and <err> holds "path:line: message" ("path: key: message" when a
 * cross-key check fails on a key left at its default). Returns 0, an
 * errno of reading the file (<err> says which), or EINVAL.
 */
int  mconf_load(struct mconf *mc, const char *path, char *err,
		size_t errsz);
/* As mconf_load() on buffer <buf>/<len>; <name> stands for the file. */
int  mconf_parse(struct mconf *mc, const char *name, const char *buf,
		 size_t len, char *err, size_t errsz);

/*
 * Names of the keys whose change between <old> and <next> only takes
 * effect after a restart, into <names> (at most <max>). Returns how
 * many differ.
 */
size_t mconf_restart_keys(const struct mconf *old, const struct mconf *next,
			  const char **names, size_t max);

/* Worker threads to run: <workers>, or the online cores when 0. */
uint32_t mconf_nworkers(const struct mconf *mc);
/* Sessions the port range can hold: four ports (two RTP/RTCP pairs)
 * each. */
uint32_t mconf_nsessions(const struct mconf *mc);

/* Print every key with its default and meaning (for -h). */
void mconf_print_sample(FILE *fp);

#endif
