/* mediad/ports.h  RTP/RTCP port pairs, one slice of the range per worker */
#ifndef MEDIAD_PORTS_H
#define MEDIAD_PORTS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The port range is cut into pairs (even RTP port, RTP + 1 for RTCP) and
 * the pairs into one contiguous slice per worker, so a call whose pairs
 * all come from one slice lives on one worker. Each slice is a FIFO of
 * free pairs: a pair just given back is the last to be handed out
 * again, which keeps late packets of an old call away from a new one.
 * Sized by ports_init(), never grows. Control thread only.
 */
struct ports {
	uint16_t  base;        /* first RTP port (even) */
	uint32_t  npairs;
	uint32_t  nslices;
	uint32_t *fifo;        /* per slice: ring of pair indices */
	uint8_t  *used;        /* per pair: 1 while handed out */
	struct ports_slice {
		uint32_t first;    /* first pair of the slice */
		uint32_t n;        /* pairs in the slice */
		uint32_t head;     /* free-running */
		uint32_t count;    /* free pairs */
	} *slice;
};

/* Startup only: pairs of [<min>, <max>] (min even) over <nslices>
 * slices. Returns 0, EINVAL or ENOMEM. */
int  ports_init(struct ports *p, uint32_t min, uint32_t max,
		uint32_t nslices);
void ports_fini(struct ports *p);
/* Free pairs in slice <s>. */
uint32_t ports_free(const struct ports *p, uint32_t s);
/* The slice with the most free pairs (ties: the lowest index). */
uint32_t ports_best(const struct ports *p);
/* Take a pair from slice <s>: its RTP port in *portp. ENOSPC when the
 * slice is empty. */
int  ports_get(struct ports *p, uint32_t s, uint16_t *portp);
/* Give back the pair of RTP port <port>. EINVAL when it is not one of
 * ours or not handed out (a double free is refused, not corrupting). */
int  ports_put(struct ports *p, uint16_t port);
/* Slice that owns RTP port <port>, or UINT32_MAX. */
uint32_t ports_slice_of(const struct ports *p, uint16_t port);

#endif
