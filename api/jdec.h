/* api/jdec.h  Strict RFC 8259 JSON decoder for request bodies */
#ifndef API_JDEC_H
#define API_JDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

enum jnode_type {
	JN_NULL = 1,
	JN_BOOL,
	JN_INT,        /* a number without fraction or exponent, in int64 */
	JN_NUM,        /* any other number: only its text is kept */
	JN_STR,
	JN_ARR,
	JN_OBJ,
};

/*
 * A decoded value. Strings are unescaped in place in the caller's
 * buffer and NUL ended there, so the tree is valid while both the arena
 * and the buffer live. Children of an array or object are linked
 * through <next>; an object member carries its name in <key>/<keylen>
 * (NUL ended too).
 */
struct jnode {
	enum jnode_type type;
	const char    *key;
	size_t         keylen;
	struct jnode   *next;
	union {
		bool    b;
		int64_t i;
		struct { const char *p; size_t len; } s;  /* STR, NUM */
		struct { struct jnode *head; size_t n; } c; /* ARR, OBJ */
	} v;
};

#define JDEC_MAX_DEPTH 32

/*
 * Decode exactly <len> bytes at <buf> into nodes from <a>, rewriting
 * the strings of <buf> in place (it must be writable; nothing past
 * buf[len - 1] is read or written). Strict: UTF-8 only (no overlong
 * forms or surrogates), no control characters or "\u0000" in strings,
 * no lone surrogate escapes, RFC 8259 numbers and literals only, no
 * duplicate member names, nothing but whitespace after the value.
 * Returns 0 and *rootp, or EINVAL (malformed), E2BIG (deeper than
 * JDEC_MAX_DEPTH) or ENOMEM (arena full); *errp (if given) then names
 * the problem and *offp (if given) its byte offset.
 */
int jdec_decode(struct arena *a, char *buf, size_t len,
		struct jnode **rootp, const char **errp, size_t *offp);

/* Member <key> of object <o>, or NULL (also when <o> is no object). */
const struct jnode *jdec_get(const struct jnode *o, const char *key);

/* "a string", "an integer", ... for error sentences. */
const char *jdec_type_name(enum jnode_type t);

#endif
