/* common/bencode.h  Strict bencode decoder and bounded encoder for NG */
#ifndef COMMON_BENCODE_H
#define COMMON_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

enum bnode_type {
	BN_INT = 1,
	BN_STR,
	BN_LIST,
	BN_DICT,
};

/*
 * A decoded value. Strings point into the caller's input buffer (no
 * copy): the tree is valid while both the arena and the input live.
 * Children of a list or dict are linked through <next>; a dict member
 * carries its key in <key>/<keylen>.
 */
struct bnode {
	enum bnode_type type;
	const char  *key;
	size_t       keylen;
	struct bnode *next;
	union {
		int64_t i;
		struct { const char *p; size_t len; } s;
		struct { struct bnode *head; size_t n; } c;
	} v;
};

#define BENCODE_MAX_DEPTH  32        /* deeper nesting is an error */
#define BENCODE_MAX_STR    (1 << 20) /* a longer string is an error */

/*
 * Decode exactly <len> bytes at <buf> into nodes from <a>.
 * Strict: integers without leading zeros or "-0", dict keys must be
 * strings, no trailing bytes, never reads past <buf>+<len>.
 * Returns 0 and *rootp, or EINVAL (malformed), E2BIG (too deep/long)
 * or ENOMEM (arena full); *errp (if given) then names the problem and
 * *offp (if given) the byte offset.
 */
int bencode_decode(struct arena *a, const char *buf, size_t len,
		   struct bnode **rootp, const char **errp, size_t *offp);

/* Member <key> of dict <d>, or NULL (also when <d> is not a dict). */
const struct bnode *bnode_get(const struct bnode *d, const char *key);
/* Member <key> as a string: true and <p>/<len> when it is one. */
bool bnode_get_str(const struct bnode *d, const char *key,
		   const char **p, size_t *len);
/* True when <n> is a string equal to <s>. */
bool bnode_str_eq(const struct bnode *n, const char *s);
/* True when list <l> holds a string equal to <s>. */
bool bnode_list_has(const struct bnode *l, const char *s);

/*
 * Encoder into a fixed buffer. Every call is a no-op once an error is
 * latched (buffer full: ENOSPC; unbalanced end: EINVAL); check <err> or
 * benc_finish() once at the end.
 */
struct benc {
	char    *buf;
	size_t   size;
	size_t   len;
	int      err;
	unsigned depth;
};

void benc_init(struct benc *b, char *buf, size_t size);
void benc_dict(struct benc *b);              /* open a dict */
void benc_list(struct benc *b);              /* open a list */
void benc_end(struct benc *b);               /* close the innermost */
void benc_str(struct benc *b, const char *s);
void benc_strn(struct benc *b, const char *p, size_t len);
void benc_int(struct benc *b, int64_t i);
/* Dict member helpers: key then value. */
void benc_kstr(struct benc *b, const char *k, const char *s);
void benc_kstrn(struct benc *b, const char *k, const char *p, size_t len);
void benc_kint(struct benc *b, const char *k, int64_t i);
void benc_kdict(struct benc *b, const char *k);
void benc_klist(struct benc *b, const char *k);
/* 0 and the length in *lenp, or the latched error / EINVAL if open. */
int  benc_finish(struct benc *b, size_t *lenp);

#endif
