/* sbc/config.h  sbc.conf: the key table, loading, validation and reload diff */
#ifndef SBC_CONFIG_H
#define SBC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"
#include "log.h"
#include "shm.h"

#define CONFIG_PATH_MAX    512
#define CONFIG_TOKEN_MAX   256
#define CONFIG_DOMAINS_MAX 1024

/*
 * The whole of sbc.conf. A value of this struct is either the defaults or
 * a file that passed every check: config_load() never hands out a half
 * loaded one. Listener addresses with len == 0 are disabled.
 */
struct sbc_config {
	struct cfg_addr     sip_udp;
	struct cfg_addr     sip_tcp;
	struct cfg_addr     sip_tls;
	struct cfg_addr     sip_ws;
	struct cfg_addr     sip_wss;
	char                tls_cert[CONFIG_PATH_MAX];
	struct cfg_addr     advertised_ip;      /* len 0: automatic */
	char                db_path[CONFIG_PATH_MAX];
	struct cfg_addr     api_listen;         /* len 0: no API */
	char                api_token[CONFIG_TOKEN_MAX];
	bool                metrics_auth;
	struct cfg_addrlist media_ng;
	char                shm_name[SHM_NAME_MAX];
	char                domains[CONFIG_DOMAINS_MAX];
	uint32_t            drain_timeout;      /* seconds */
	enum log_level      log_level;
};

/* Index of each key in config_keys[]; config_diff() reports by these. */
enum config_key {
	CONFIG_K_SIP_UDP = 0,
	CONFIG_K_SIP_TCP,
	CONFIG_K_SIP_TLS,
	CONFIG_K_SIP_WS,
	CONFIG_K_SIP_WSS,
	CONFIG_K_TLS_CERT,
	CONFIG_K_ADVERTISED_IP,
	CONFIG_K_DB_PATH,
	CONFIG_K_API_LISTEN,
	CONFIG_K_API_TOKEN,
	CONFIG_K_METRICS_AUTH,
	CONFIG_K_MEDIA_NG,
	CONFIG_K_SHM_NAME,
	CONFIG_K_DOMAINS,
	CONFIG_K_DRAIN_TIMEOUT,
	CONFIG_K_LOG_LEVEL,
	CONFIG_K_COUNT
};

#define CONFIG_BIT(k) (1u << (k))

/* The key table: name, type, default and one line of documentation. */
extern const struct cfg_key config_keys[CONFIG_K_COUNT + 1];

/*
 * Load and validate file <path> into <cfg>. On success <cfg> holds the
 * file over the defaults; on error <cfg> is left untouched and <err>
 * holds "path:line: message" (or "path: reason" when the file cannot be
 * read). Returns 0, EINVAL or the errno of the failed read.
 */
int  config_load(struct sbc_config *cfg, const char *path, char *err,
		 size_t errsz);

/* As config_load() on buffer <buf>/<len>; <name> stands for the file. */
int  config_parse(struct sbc_config *cfg, const char *name, const char *buf,
		  size_t len, char *err, size_t errsz);

/* The defaults alone (for tests and -h). Returns 0 or EINVAL. */
int  config_defaults(struct sbc_config *cfg);

/*
 * What differs between the running config <cur> and a newly loaded
 * <next>, as CONFIG_BIT()s, split into what a reload applies and what
 * needs a restart.
 */
struct config_diff {
	uint32_t live;
	uint32_t restart;
};
void config_diff(struct config_diff *d, const struct sbc_config *cur,
		 const struct sbc_config *next);
/*
 * Copy the keys a reload applies from <next> into <cur>; the others
 * keep the values the running sockets and files were opened with.
 */
void config_apply_live(struct sbc_config *cur,
		       const struct sbc_config *next);
/* Name of key <k>. */
const char *config_key_name(enum config_key k);
/* True when key <k> can change without a restart. */
bool config_key_live(enum config_key k);

/* Usage-style listing of every key with its default and doc, to <fp>. */
void config_print_keys(FILE *fp);

/* Number of space separated domain names in <cfg>. */
unsigned config_domain_count(const struct sbc_config *cfg);

#endif
