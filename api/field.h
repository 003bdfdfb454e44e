/* api/field.h  Request body fields: schemas, syntax checks, canonical forms */
#ifndef API_FIELD_H
#define API_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jnode;

/*
 * A syntax check: NULL when <s> is fine, else the end of a sentence
 * that starts with the field's name, e.g. "must be 1 to 15 digits".
 */
typedef const char *(field_check_h)(const char *s);

enum field_kind {
	FIELD_STR = 1,
	FIELD_INT,
	FIELD_BOOL,
	FIELD_LIST,       /* an array of strings */
};

enum {
	FIELD_REQUIRED = 1 << 0,   /* must be present and not null */
	FIELD_NULLABLE = 1 << 1,   /* null is allowed and means "none" */
	FIELD_READONLY = 1 << 2,   /* accepted in a body and ignored */
	FIELD_NONEMPTY = 1 << 3,   /* a list needs at least one entry */
	FIELD_UNIQUE   = 1 << 4,   /* a list's entries must differ */
};

/* One member of a request body. */
struct field {
	const char        *name;
	enum field_kind    kind;
	unsigned           flags;
	size_t             maxlen;   /* STR and list entries: bytes */
	int64_t            min;      /* INT */
	int64_t            max;      /* INT; LIST: most entries */
	field_check_h     *check;    /* STR and list entries; NULL: text */
	const char *const *enums;    /* STR: allowed values, NULL ended */
};

/* What field_decode() found for one field. */
struct field_val {
	bool               present;  /* given and not null */
	bool               null;     /* given as null */
	const char        *s;        /* STR: NUL ended, in the body */
	size_t             len;
	int64_t            i;        /* INT, and BOOL as 0 or 1 */
	const struct jnode *list;     /* LIST: the array */
};

/*
 * Check object <obj> against the <n> fields <f> and fill <vals> (n
 * entries, in the same order). Read-only fields are skipped. Returns 0,
 * or EINVAL with a sentence naming the field in <why> (an unknown
 * member, a missing required one, a wrong type, length, range, enum or
 * syntax): each is a 400.
 */
int  field_decode(const struct field *f, size_t n, const struct jnode *obj,
		  struct field_val *vals, char *why, size_t sz);

/*
 * Checks. Text: no control characters (they would reach SIP headers
 * and logs). E.164: 1 to 15 digits, no '+'. Prefix: 0 to 15 digits.
 * Host: an IPv4 or IPv6 literal or a DNS name. CIDR: an address or
 * address/length with no host bits set. Entry: E.164 or CIDR (the
 * blocklist). Name: 1 to 63 of [A-Za-z0-9._-] (trunk names, codecs).
 * User: a SIP user part (RFC 3261 section 25.1). Target: user@domain
 * or a sip:/sips: URI.
 */
const char *field_text(const char *s);
const char *field_e164(const char *s);
const char *field_prefix(const char *s);
const char *field_host(const char *s);
const char *field_cidr(const char *s);
const char *field_entry(const char *s);
const char *field_name(const char *s);
const char *field_user(const char *s);
const char *field_target(const char *s);

/*
 * Canonical text of CIDR <s> (already checked) into <buf>: the address
 * as inet_ntop() prints it, and "/len" unless the length covers the
 * whole address. Returns 0, EINVAL or ENOSPC.
 */
int  field_cidr_canon(const char *s, char *buf, size_t sz);
/* Canonical blocklist entry: digits as they are, CIDRs as above. */
int  field_entry_canon(const char *s, char *buf, size_t sz);

#endif
