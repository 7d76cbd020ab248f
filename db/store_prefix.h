/*
 * store_prefix: formatted prefixes (API.md section 5), sequences with a number template, a reset
 * rule and a time zone, whose every number is written to the audit trail in the transaction that
 * issues it. A prefix's numbers come only from store_prefix_next; store_next refuses them
 * (STORE_PREFIX). Handles, results and names are store.h's.
 */
#ifndef NEXTID_STORE_PREFIX_H
#define NEXTID_STORE_PREFIX_H

#include "audit.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define PREFIX_SET_PADDING 0x01u
#define PREFIX_SET_FORMAT 0x02u
#define PREFIX_SET_RULE 0x04u
#define PREFIX_SET_TIMEZONE 0x08u

struct store_prefix_config {
	unsigned fields;   /* PREFIX_SET_*: what to set; a new prefix takes defaults for the rest */
	unsigned padding;  /* 0..18 (default 6) */
	const char *format;   /* template.h syntax (default "{prefix}{counter}") */
	int reset_rule;       /* enum template_rule (default never) */
	const char *timezone; /* IANA name (default "UTC") */
	const char *admin_user; /* who, for the audit ("" if unknown) */
	int64_t now_ms;
	const char *correlation_id; /* the caller's request id, audited: NULL or "" if none */
};

/*
 * Create a prefix, or change one (or turn an existing long sequence into one: its counter goes
 * on). The change is audited. Returns STORE_OK (*out, *created set), INVALID (*why), BUSY,
 * UNAVAILABLE.
 */
int store_prefix_configure(struct store *st, const char *name, size_t len,
                           const struct store_prefix_config *c, struct seq_record *out,
                           int *created, const char **why);

/* Who asks for numbers, for the audit: NUL-terminated, already checked, "" when not given. */
struct store_caller {
	const char *client_id, *generated_by;
	int64_t now_ms;
};

/* One issued number. */
struct store_number {
	int64_t counter;
	uint64_t seq;                 /* its position in the prefix's audit trail */
	unsigned char message_id[16]; /* a UUID's bytes */
	char full_number[AUDIT_NUMBER_MAX + 1];
};

/*
 * Issue `count` numbers of prefix `name` into out[0..count): the reset rule applied (the period
 * in the prefix's time zone, decided in this transaction), each number rendered and audited in
 * the same transaction. Returns STORE_OK, NOT_FOUND (no such prefix), EXHAUSTED, INVALID (a number
 * does not fit AUDIT_NUMBER_MAX), BUSY or UNAVAILABLE.
 */
int store_prefix_next(struct store *st, const char *name, size_t len,
                      const struct store_caller *who, uint64_t count, struct store_number *out);

/* One caller's part of a group take: its count of numbers, written to out[0..count). */
struct store_prefix_take {
	const struct store_caller *who; /* its audit fields (its now_ms is not used) */
	const char *correlation_id;     /* the caller's request id, audited: NULL or "" if none */
	uint64_t count;                 /* 1 or more */
	struct store_number *out;
	int rc; /* OUT: STORE_OK, EXHAUSTED (took nothing) or INVALID (a number too long) */
};

/*
 * Issue the numbers of n takes of prefix `name` in one transaction, in the order given, at now_ms
 * (one period for all): a group commit, one lock hand-off and one log flush for many callers. Each
 * take gets consecutive numbers, audited with its own caller's fields, or, when what it asks runs
 * past the maximum, nothing (rc EXHAUSTED) while the takes after it still get theirs: each gets
 * what it would have got alone in that order. Returns STORE_OK when the transaction committed and
 * is as durable as the durability setting promises (each take's rc then says what it got), or
 * NOT_FOUND, INVALID (the name, or a take of count 0), BUSY or UNAVAILABLE for all: nothing was
 * issued. The record's lock is released before the log flush, so another group can take its
 * numbers meanwhile; the function returns after the flush.
 */
int store_prefix_next_group(struct store *st, const char *name, size_t len, int64_t now_ms,
                            struct store_prefix_take *takes, size_t n);

/* A prefix as its status shows it at now_ms: the period rule applied without issuing. Returns
 * STORE_OK (*out set), NOT_FOUND (no such prefix), INVALID (the name), BUSY or UNAVAILABLE. */
struct store_prefix_status {
	struct seq_record rec;
	int64_t current, next;     /* the last counter issued in the period (0: none), the next */
	int64_t last_audit_counter; /* the counter of the last audited number (0: none) */
	int64_t last_audit_ms;      /* when it was issued, unix ms (0: none) */
	uint64_t audited;           /* numbers in the audit under this name, ever: the position of
	                               the last (a prefix deleted and made again continues it) */
	char next_number[AUDIT_NUMBER_MAX + 1]; /* the next number as it would be issued now ("" when
	                                           exhausted or too long): a preview, nothing taken */
};
int store_prefix_status(struct store *st, const char *name, size_t len, int64_t now_ms,
                        struct store_prefix_status *out);

/* A reset: the next number issued becomes set_to + 1; lowering the counter needs force. The reset
 * is audited. Returns STORE_OK (the out fields set), NOT_FOUND (no such prefix), INVALID (*why:
 * the name, set_to out of range, or a lowering without force), BUSY or UNAVAILABLE. */
struct store_reset {
	int64_t set_to;
	int force;
	const char *reason, *admin_user;
	int64_t now_ms;
	int64_t old_value, new_value; /* out: the current counter before and after */
	unsigned char reset_id[16];   /* out */
	const char *correlation_id;   /* the caller's request id, audited: NULL or "" if none */
};
int store_prefix_reset(struct store *st, const char *name, size_t len, struct store_reset *r,
                       const char **why);

/* Audit entries of prefix `name` and `kind` (audit.h) after position `after`, at most limit (0:
 * all), in order. fn returns non-zero to stop. Returns STORE_OK, BUSY or UNAVAILABLE. */
typedef int store_audit_fn(void *ctx, uint64_t seq, const struct audit_entry *e);
int store_audit_list(struct store *st, const char *name, size_t len, int kind, uint64_t after,
                     size_t limit, store_audit_fn *fn, void *ctx);

#endif
