/* mediad/ngack.c  NG replies parked until the workers applied the command */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ngack.h"

int ngack_init(struct ngack *t, uint32_t nent, uint32_t slotsz)
{
	uint32_t i;

	if (!t || !nent || !slotsz)
		return EINVAL;

	memset(t, 0, sizeof(*t));
	t->ent = calloc(nent, sizeof(*t->ent));
	/* calloc: fresh zero pages (never written by the allocator, not
	 * even with MALLOC_PERTURB_) cost nothing until a reply touches
	 * them, and a slot is used from its start */
	t->buf = calloc(nent, slotsz);
	if (!t->ent || !t->buf) {
		ngack_fini(t);
		return ENOMEM;
	}
	for (i = 0; i < nent; i++)
		t->ent[i].reply = t->buf + (size_t)i * slotsz;
	t->nent = nent;
	t->slotsz = slotsz;
	return 0;
}

void ngack_fini(struct ngack *t)
{
	if (!t)
		return;

	free(t->ent);
	free(t->buf);
	t->ent = NULL;
	t->buf = NULL;
	t->nent = 0;
	t->count = 0;
}

int ngack_park(struct ngack *t, const char *cookie, size_t cookielen,
	       uint64_t bodyhash, const struct ngack_wait *wait,
	       uint32_t nwait, const void *reply, size_t len,
	       const struct sockaddr *peer, socklen_t peerlen,
	       uint64_t now_ms)
{
	struct ngack_ent *e = NULL;
	uint32_t i;

	if (!t || !cookie || !cookielen || cookielen > NG_COOKIE_MAX ||
	    (nwait && !wait) || (!reply && len) || !peer ||
	    peerlen > sizeof(e->peer))
		return EINVAL;
	if (nwait > NGACK_WAIT_MAX)
		return E2BIG;
	if (len > t->slotsz)
		return EMSGSIZE;
	if (t->count == t->nent)
		return ENOSPC;

	/* the lowest free slot: the pages in use stay few */
	for (i = 0; i < t->nent; i++) {
		if (!t->ent[i].used) {
			e = &t->ent[i];
			break;
		}
	}
	if (!e)
		return ENOSPC;

	e->used = true;
	e->t_ms = now_ms;
	e->bodyhash = bodyhash;
	e->cookielen = (uint16_t)cookielen;
	memcpy(e->cookie, cookie, cookielen);
	e->nwait = nwait;
	if (nwait)
		memcpy(e->wait, wait, nwait * sizeof(*wait));
	memcpy(&e->peer, peer, peerlen);
	e->peerlen = peerlen;
	e->len = (uint32_t)len;
	if (len)
		memcpy(e->reply, reply, len);
	++t->count;
	++t->parked;
	return 0;
}

bool ngack_find(struct ngack *t, const char *cookie, size_t cookielen,
		uint64_t bodyhash)
{
	uint32_t i, seen;

	if (!t || !t->count || !cookie)
		return false;

	for (i = 0, seen = 0; i < t->nent && seen < t->count; i++) {
		const struct ngack_ent *e = &t->ent[i];

		if (!e->used)
			continue;
		++seen;
		if (e->bodyhash == bodyhash && e->cookielen == cookielen &&
		    !memcmp(e->cookie, cookie, cookielen)) {
			++t->dup;
			return true;
		}
	}
	return false;
}

static bool applied(const struct ngack_ent *e, ngack_applied_h *appliedh,
		    void *arg)
{
	uint32_t i;

	for (i = 0; i < e->nwait; i++) {
		if (!ngack_reached(appliedh(e->wait[i].worker, arg),
				   e->wait[i].seq))
			return false;
	}
	return true;
}

unsigned ngack_release(struct ngack *t, ngack_applied_h *appliedh,
		       ngack_send_h *sendh, void *arg, uint64_t now_ms,
		       uint32_t tmo_ms)
{
	unsigned n = 0;
	uint32_t i;

	if (!t || !appliedh || !sendh)
		return 0;

	for (i = 0; i < t->nent && t->count; i++) {
		struct ngack_ent *e = &t->ent[i];
		bool late;

		if (!e->used)
			continue;
		late = tmo_ms && now_ms - e->t_ms >= tmo_ms;
		if (applied(e, appliedh, arg)) {
			late = false;
			++t->released;
		}
		else if (late) {
			++t->late;
		}
		else {
			continue;
		}
		sendh(e, late, arg);
		e->used = false;
		--t->count;
		++n;
	}
	return n;
}

uint32_t ngack_count(const struct ngack *t)
{
	return t ? t->count : 0;
}
