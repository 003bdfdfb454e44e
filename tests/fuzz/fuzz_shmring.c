/* tests/fuzz/fuzz_shmring.c  ring ops and slot corruption against a model */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "shm.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

#define MAX_SLOTS 16
#define MAX_SLOT  64

static _Alignas(64) uint8_t mem[4096];

/* What the consumer should find in each queued record. */
struct entry {
	uint16_t type;
	uint16_t len;
	uint32_t id;            /* payload pattern seed */
	bool     tampered;      /* header rewritten: judge from the slot */
};

struct model {
	struct entry q[MAX_SLOTS];
	uint32_t first, n;      /* FIFO in q[] */
	uint32_t nslots, slot_size, maxlen;
	uint32_t next_id;
	uint64_t dropped, bad;
	bool overrun;           /* head forced past tail + nslots */
};

/* Input reader: past the end it yields zeros, so every input is a script. */
struct in {
	const uint8_t *p;
	size_t left;
};

static uint8_t byte(struct in *in)
{
	if (!in->left)
		return 0;
	--in->left;
	return *in->p++;
}

static uint8_t pattern(uint32_t id, size_t i)
{
	return (uint8_t)(id * 31u + i * 7u + 1u);
}

static uint8_t *slot_at(struct shm_ring *r, uint32_t counter)
{
	return r->slots + (size_t)(counter & (r->nslots - 1)) * r->slot_size;
}

static void op_push(struct shm_ring *r, struct model *m, struct in *in)
{
	uint8_t payload[MAX_SLOT + 8];
	uint16_t type = byte(in) % (SHM_EV_MAX + 2);
	size_t len = byte(in) % (m->maxlen + 4), i;
	int err, want;

	for (i = 0; i < len; i++)
		payload[i] = pattern(m->next_id, i);

	if (type >= SHM_EV_MAX)
		want = EINVAL;
	else if (len > m->maxlen)
		want = EMSGSIZE;
	else if (m->overrun || m->n == m->nslots)
		want = ENOSPC;
	else
		want = 0;

	err = shmring_push(r, type, payload, len);
	CHECK(err == want);
	if (err == ENOSPC)
		++m->dropped;
	if (err)
		return;

	m->q[(m->first + m->n) % MAX_SLOTS] = (struct entry){
		.type = type, .len = (uint16_t)len, .id = m->next_id++,
	};
	++m->n;
}

static void op_pop(struct shm_ring *r, struct model *m, struct in *in)
{
	uint8_t buf[MAX_SLOT + 8], slot[MAX_SLOT];
	size_t bufsz = byte(in) % (m->maxlen + 2), len = 9999, i;
	uint16_t type = 9999;
	struct shm_rec rec;
	struct entry *e;
	int err, want;

	if (m->overrun) {
		CHECK(shmring_pop(r, &type, buf, bufsz, &len) == EBADMSG);
		++m->bad;
		m->n = 0;
		m->overrun = false;
		return;
	}
	if (!m->n) {
		CHECK(shmring_pop(r, &type, buf, bufsz, &len) == ENOENT);
		return;
	}

	e = &m->q[m->first];
	memcpy(slot, slot_at(r, atomic_load(&r->tail)), m->slot_size);
	memcpy(&rec, slot, sizeof(rec));
	if (e->tampered) {
		e->type = rec.type;
		e->len  = rec.len;
	}
	if (e->len > m->maxlen || e->type >= SHM_EV_MAX)
		want = EBADMSG;
	else if (e->len > bufsz)
		want = EMSGSIZE;
	else
		want = 0;

	err = shmring_pop(r, &type, buf, bufsz, &len);
	CHECK(err == want);
	if (err == EBADMSG)
		++m->bad;
	if (err == EMSGSIZE)
		CHECK(len == e->len);
	if (!err) {
		CHECK(type == e->type && len == e->len);
		for (i = 0; i < len; i++)
			CHECK(buf[i] == (e->tampered ?
					 slot[sizeof(rec) + i] :
					 pattern(e->id, i)));
	}
	m->first = (m->first + 1) % MAX_SLOTS;
	--m->n;
}

/* Overwrite the header of a queued record with input bytes. */
static void op_corrupt(struct shm_ring *r, struct model *m, struct in *in)
{
	uint32_t k, i;
	uint8_t *s;

	if (!m->n || m->overrun)
		return;
	k = byte(in) % m->n;
	s = slot_at(r, atomic_load(&r->tail) + k);
	for (i = 0; i < sizeof(struct shm_rec); i++)
		s[i] = byte(in);
	m->q[(m->first + k) % MAX_SLOTS].tampered = true;
}

/* A producer gone mad: head far beyond the tail. */
static void op_overrun(struct shm_ring *r, struct model *m, struct in *in)
{
	uint32_t tail = atomic_load(&r->tail);

	atomic_store(&r->head, tail + m->nslots + 1 + byte(in));
	m->overrun = true;
}

static void check(const struct shm_ring *r, const struct model *m)
{
	uint32_t d = atomic_load(&r->head) - atomic_load(&r->tail);

	CHECK(shmring_count(r) == (m->overrun ? m->nslots : m->n));
	CHECK(m->overrun || d == m->n);
	CHECK(atomic_load(&r->dropped) == m->dropped);
	CHECK(atomic_load(&r->bad) == m->bad);
}

/* The rest of the input as a record read field by field. */
static void fuzz_msg(const uint8_t *data, size_t size)
{
	struct shm_msg m;
	char str[16];
	size_t i = 0;

	msg_init(&m, (void *)data, size);
	while (!m.err) {
		size_t before = m.pos;

		switch (i++ % 5) {
		case 0: msg_get_u8(&m); break;
		case 1: msg_get_u16(&m); break;
		case 2: msg_get_u32(&m); break;
		case 3: msg_get_u64(&m); break;
		case 4: msg_get_str(&m, str, sizeof(str));
			CHECK(m.err || strlen(str) < sizeof(str));
			break;
		}
		CHECK(m.pos <= size);
		CHECK(m.err == 0 || m.err == EBADMSG);
		CHECK(m.err || m.pos > before);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t sizes[] = { 16, 24, 32, 64 };
	struct shm_ring *r = (struct shm_ring *)mem;
	struct in in = { data, size };
	struct model m;
	uint32_t start;
	uint8_t g;

	if (size > 4096)
		return 0;

	memset(&m, 0, sizeof(m));
	g = byte(&in);
	m.nslots    = 1u << (g % 5);
	m.slot_size = sizes[(g >> 3) % 4];
	m.maxlen    = m.slot_size - (uint32_t)sizeof(struct shm_rec);
	CHECK(shmring_size(m.nslots, m.slot_size) <= sizeof(mem));
	CHECK(shmring_init(r, m.nslots, m.slot_size) == 0);

	/* start the free-running counters anywhere, near 2^32 often */
	start = (uint32_t)byte(&in) << 24 | (uint32_t)byte(&in);
	if (g & 0x80)
		start = UINT32_MAX - (start & 0xff);
	atomic_store(&r->head, start);
	atomic_store(&r->tail, start);

	while (in.left) {
		switch (byte(&in) % 8) {
		case 0: case 1: case 2:
			op_push(r, &m, &in);
			break;
		case 3: case 4: case 5:
			op_pop(r, &m, &in);
			break;
		case 6:
			op_corrupt(r, &m, &in);
			break;
		case 7:
			if (byte(&in) < 16)
				op_overrun(r, &m, &in);
			break;
		}
		check(r, &m);
	}
	/* drain: everything left comes out as the model says */
	while (m.n || m.overrun) {
		uint8_t z = 0xff;
		struct in full = { &z, 1 };

		op_pop(r, &m, &full);
		check(r, &m);
	}

	fuzz_msg(data, size);
	return 0;
}
