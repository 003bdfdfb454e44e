/* sbc/sipsrv.h  The SIP stack: listeners and dispatch of incoming requests */
#ifndef SBC_SIPSRV_H
#define SBC_SIPSRV_H

#include <stdbool.h>
#include <stdint.h>

#include <re.h>

struct re_printf;
struct sbc_config;

/*
 * Allocate the SIP stack and open every listener <cfg> enables. A
 * wildcard address (0.0.0.0, ::) is opened on each address of that
 * family the host has at start (libre binds sockets to one address).
 * All or nothing: on error nothing stays open. Returns 0 or an errno.
 */
int  sipsrv_start(const struct sbc_config *cfg);
/* Close every transaction, connection and listener. */
void sipsrv_stop(void);

/* Refuse new dialogs (503) from now on; in-dialog traffic continues. */
void sipsrv_drain(void);
bool sipsrv_draining(void);

/*
 * Reply <scode> to request <msg> with extra header lines printed from
 * <fmt> (each ending in CRLF; NULL for none) and no body. An INVITE's
 * final reply goes through a server transaction (retransmitted until
 * the ACK); everything else is stateless. Counted in the stats.
 * Returns 0 or an errno.
 */
int  sipsrv_replyf(const struct sip_msg *msg, uint16_t scode,
		   const char *reason, const char *fmt, ...);

/*
 * The address to put in Contact and Via toward <dst> over <tp>: the
 * listener's, with advertised_ip in place of its IP when configured.
 */
int  sipsrv_laddr(struct sa *laddr, enum sip_transp tp,
		  const struct sa *dst);

/* The stack, for the modules built on it. Borrowed. */
struct sip *sipsrv_sip(void);

int  sipsrv_debug(struct re_printf *pf, void *unused);

#endif
