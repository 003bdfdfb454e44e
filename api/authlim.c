/* api/authlim.c  Failed API logins per source address: 429 after too many */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "authlim.h"

/* A source: family and address (IPv6 cut to its /64). */
struct key {
	uint8_t af;
	uint8_t addr[16];
};

struct slot {
	struct key key;
	bool       used;
	uint32_t   fails;        /* in the window that began at <since> */
	uint64_t   since;
	uint64_t   until;        /* blocked before this; 0: not blocked */
	uint64_t   seen;         /* last failure or check */
};

/* One thread (sbc's loop) uses this table: no lock. */
static struct slot slots[AUTHLIM_SLOTS];

static bool key_of(const struct sockaddr *sa, struct key *k)
{
	static const uint8_t v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	memset(k, 0, sizeof(*k));
	if (!sa)
		return false;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		k->af = 4;
		memcpy(k->addr, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		const uint8_t *a = in6->sin6_addr.s6_addr;

		if (!memcmp(a, v4mapped, sizeof(v4mapped))) {
			k->af = 4;
			memcpy(k->addr, a + 12, 4);
		}
		else {
			k->af = 6;
			memcpy(k->addr, a, 8);
		}
		return true;
	}
	return false;
}

static struct slot *find(const struct key *k)
{
	size_t i;

	for (i = 0; i < AUTHLIM_SLOTS; i++) {
		if (slots[i].used && !memcmp(&slots[i].key, k, sizeof(*k)))
			return &slots[i];
	}
	return NULL;
}

/* A free slot, else the least recently seen one that is not blocked. */
static struct slot *victim(uint64_t now)
{
	struct slot *best = NULL;
	size_t i;

	for (i = 0; i < AUTHLIM_SLOTS; i++) {
		struct slot *s = &slots[i];

		if (!s->used)
			return s;
		if (s->until > now)
			continue;
		if (!best || s->seen < best->seen)
			best = s;
	}
	return best;
}

void authlim_reset(void)
{
	memset(slots, 0, sizeof(slots));
}

uint64_t authlim_blocked(const struct sockaddr *sa, uint64_t now)
{
	struct key k;
	struct slot *s;

	if (!key_of(sa, &k))
		return 0;
	s = find(&k);
	if (!s || s->until <= now)
		return 0;
	s->seen = now;
	return s->until - now;
}

bool authlim_fail(const struct sockaddr *sa, uint64_t now)
{
	struct key k;
	struct slot *s;

	if (!key_of(sa, &k))
		return false;

	s = find(&k);
	if (!s) {
		s = victim(now);
		if (!s)
			return false;      /* every slot blocked: keep them */
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->key = k;
		s->since = now;
	}
	s->seen = now;

	if (s->until > now)
		return false;
	if (s->until || now - s->since >= AUTHLIM_WINDOW_MS) {
		/* a block ended or the window passed: a fresh window */
		s->until = 0;
		s->fails = 0;
		s->since = now;
	}
	if (++s->fails <= AUTHLIM_FAILS)
		return false;
	s->until = now + AUTHLIM_BLOCK_MS;
	return true;
}

unsigned authlim_nblocked(uint64_t now)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < AUTHLIM_SLOTS; i++) {
		if (slots[i].used && slots[i].until > now)
			++n;
	}
	return n;
}
