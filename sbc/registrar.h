/* sbc/registrar.h  REGISTER handling and the location table */
#ifndef SBC_REGISTRAR_H
#define SBC_REGISTRAR_H

#include <stdbool.h>
#include <stdint.h>

#include <re.h>

struct re_printf;
struct sqlite3;

/* One registered contact; borrowed, valid during the callback only. */
struct registrar_contact {
	const char     *aor;         /* "user@domain", domain lower case */
	const char     *uri;         /* the Contact URI, without <> */
	struct sa       src;         /* where its REGISTER came from */
	enum sip_transp tp;          /* and over which transport */
	uint64_t        expires;     /* unix seconds */
	const char     *user_agent;  /* "" when none */
};

/* Return true to stop the walk. */
typedef bool (registrar_contact_h)(const struct registrar_contact *c,
				   void *arg);

/*
 * Load the persisted registrations of <db> (the expired ones are
 * dropped) and start the expiry timer and NAT keepalives. Returns 0 or
 * an errno.
 */
int  registrar_start(struct sqlite3 *db);
void registrar_stop(void);

/*
 * A REGISTER that matched no transaction. Always replies: 401 challenge,
 * 403, 400, 423 with Min-Expires, or 200 with every current Contact of
 * the AOR and its expires. Changes are persisted. A binding made over
 * a TCP/TLS/WS/WSS connection goes (and its row) within a second of that
 * connection closing; calls reach it over that connection.
 */
void registrar_request(const struct sip_msg *msg);

/* Walk the live contacts of <user>@<domain>; returns how many. */
unsigned registrar_lookup(const char *user, const char *domain,
			  registrar_contact_h *h, void *arg);
/* Walk every live contact; returns how many were visited. */
unsigned registrar_foreach(registrar_contact_h *h, void *arg);
/* Number of live contacts. */
unsigned registrar_count(void);

/* sbc_registrations_active in Prometheus text format. */
int  registrar_metrics(struct re_printf *pf, void *unused);
int  registrar_debug(struct re_printf *pf, void *unused);

#endif
