/* sbc/route.h  Routing lookups in the provisioning tables */
#ifndef SBC_ROUTE_H
#define SBC_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include <re.h>

struct sqlite3;

#define ROUTE_NAME_MAX    64
#define ROUTE_HOST_MAX    256
#define ROUTE_CRED_MAX    128
#define ROUTE_TARGET_MAX  256
#define ROUTE_NUMBER_MAX  64
#define ROUTE_TRUNKS_MAX  8

/* A trunk row (what a call needs of it). */
struct route_trunk {
	char            name[ROUTE_NAME_MAX];
	char            host[ROUTE_HOST_MAX];
	uint16_t        port;
	enum sip_transp tp;              /* udp, tcp or tls */
	bool            reg;             /* register toward it */
	char            username[ROUTE_CRED_MAX];
	char            password[ROUTE_CRED_MAX];
	char            realm[ROUTE_CRED_MAX];
	uint32_t        max_calls;       /* 0: no limit */
	uint32_t        max_cps;         /* 0: no limit */
	bool            srtp;            /* media srtp-sdes */
	bool            enabled;
};

/* A DID row. */
struct route_did {
	char number[ROUTE_NUMBER_MAX];
	char target[ROUTE_TARGET_MAX];   /* user@domain or a sip: URI */
	char trunk[ROUTE_NAME_MAX];      /* "" when any trunk may use it */
};

/* The route chosen for an outbound number. */
struct route_out {
	int64_t  id;
	char     number[ROUTE_NUMBER_MAX];  /* after strip and prepend */
	unsigned ntrunks;
	char     trunks[ROUTE_TRUNKS_MAX][ROUTE_NAME_MAX]; /* failover order */
};

/*
 * Prepare the statements on <db>. Every lookup reads the tables at
 * call time, so provisioning changes apply on the next call. Returns 0
 * or an errno.
 */
int  route_start(struct sqlite3 *db);
void route_stop(void);

/* <domain> is in sbc.conf's domains or the domains table (any case). */
bool route_domain_served(const struct pl *domain);

/*
 * Subscriber <user>@<domain>: 0 and the row's HA1s etc., or ENOENT.
 * <ha1_md5> is 33 bytes, <ha1_sha256> 65; either may be NULL.
 */
struct route_subscriber {
	char ha1_md5[33];
	char ha1_sha256[65];
	char display_name[128];
	char caller_id[64];
	bool enabled;
};
int  route_subscriber(struct route_subscriber *s, const struct pl *user,
		      const struct pl *domain);

/*
 * The enabled trunk whose host address or inbound_cidrs holds <src>:
 * 0 or ENOENT. The most specific match wins (a host given as an IP
 * literal counts as /32 or /128), ties by priority then name. A trunk
 * given by hostname matches the address its probes last got an answer
 * from (trunk.c). A malformed CIDR is skipped with a warning.
 */
int  route_trunk_by_source(struct route_trunk *t, const struct sa *src);
/* Trunk <name>: 0 or ENOENT. */
int  route_trunk(struct route_trunk *t, const char *name);
/* DID <number> (digits; a leading '+' is ignored): 0 or ENOENT. */
int  route_did(struct route_did *d, const struct pl *number);
/*
 * The route with the longest prefix of <number> (ties: lower priority
 * value first, then lower id), its strip/prepend applied to <number>:
 * 0 or ENOENT. Disabled trunks are left out of the list, so ntrunks
 * may be 0 (answer 503). A leading '+' of <number> is dropped before
 * matching and stripping (routes hold digits; prepend "+" when a
 * carrier wants it); a number of anything but digits, '*' and '#' is
 * ENOENT.
 */
int  route_outbound(struct route_out *r, const struct pl *number);
/*
 * An address block from the trunks' inbound_cidrs or the blocklist:
 * "a.b.c.d/n", "a.b.c.d", "v6/n" or "v6" (no brackets, no zone, no
 * spaces). Host bits past the prefix are ignored, as most tools do.
 */
struct route_cidr {
	int     af;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];    /* network order; AF_INET uses the first 4 */
	uint8_t bits;        /* 0..32 or 0..128 */
};
/* Parse <s> into <c>: 0 or EINVAL. */
int  route_cidr_parse(struct route_cidr *c, const struct pl *s);
/* Does <c> hold the address of <sa> (any port)? An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is matched as the IPv4 address. */
bool route_cidr_match(const struct route_cidr *c, const struct sa *sa);

/*
 * Is <number> or <src> on the blocklist? Returns true and copies the
 * entry's reason into <reason> (may be NULL).
 */
bool route_blocked(const struct pl *number, const struct sa *src,
		   char *reason, size_t sz);

#endif
