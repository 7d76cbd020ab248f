/*
 * record: the on-disk sequence record. A fixed-size, versioned, big-endian byte layout, so a store
 * written on one machine reads the same on another and a future layout can be told apart by its
 * version byte. Also the options a sequence is created or changed with (struct record_change),
 * read by name for every front door (record_change_set) and applied by the rules of one place
 * (record_apply). Pure functions, no I/O: the store reads and writes the bytes. Any process may
 * use it.
 */
#ifndef NEXTID_RECORD_H
#define NEXTID_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define RECORD_VERSION 1
#define RECORD_SIZE 176
#define RECORD_TEMPLATE_MAX 48 /* bytes, NUL included: the number format of a prefix */
#define RECORD_TZ_MAX 48       /* bytes, NUL included: an IANA time zone name */

enum record_type {
	RECORD_TYPE_INT = 1,   /* 1 to 2^31-1 */
	RECORD_TYPE_LONG = 2,  /* 1 to 2^63-1: what /next/<name> creates */
	RECORD_TYPE_UUID8 = 3,
	RECORD_TYPE_UUID12 = 4,
	RECORD_TYPE_UUID16 = 5,
	RECORD_TYPE_UUID22 = 6,
};

#define RECORD_FLAG_CYCLE 0x0001u     /* wrap to min (or max when counting down) at the end */
#define RECORD_FLAG_EXHAUSTED 0x0002u /* the final value has been issued; `next` holds it */
#define RECORD_FLAGS_KNOWN (RECORD_FLAG_CYCLE | RECORD_FLAG_EXHAUSTED)

struct seq_record {
	uint8_t type;          /* enum record_type */
	uint16_t flags;        /* RECORD_FLAG_* */
	int64_t next;          /* the next value to be issued (when exhausted: the last one issued) */
	int64_t increment;     /* never 0; negative counts down */
	int64_t min, max;      /* inclusive bounds of every issued value */
	uint32_t cache;        /* values a worker may reserve at once (0 = strict) */
	int64_t reserved;      /* durability reserve: the furthest value that may have been issued
	                          (0 = none); raised ahead of the counter in synced commits */
	uint32_t period;       /* current reset period as yyyymmdd, 0 when never reset */
	uint8_t reset_rule;    /* formatted prefixes: enum template_rule (0 = never) */
	uint8_t padding;       /* formatted prefixes: the counter's width for {counter} */
	char format[RECORD_TEMPLATE_MAX]; /* formatted prefixes: the number template; "" = plain */
	char timezone[RECORD_TZ_MAX];     /* formatted prefixes: the zone periods are counted in */
	uint64_t created, updated; /* unix seconds */
	uint64_t audit_seq;    /* formatted prefixes: position of the last number in the audit */
};

enum record_rc {
	RECORD_OK = 0,
	RECORD_BAD_SIZE,     /* the byte count is not RECORD_SIZE */
	RECORD_BAD_VERSION,  /* written by a newer (or corrupt) layout */
	RECORD_BAD_FIELD,    /* a field breaks an invariant (type, bounds, increment, strings) */
	RECORD_EXHAUSTED,    /* not enough values left before the maximum (or minimum) */
};

/* The largest value a type allows (its smallest is 1); 0 for types without numbers. */
int64_t record_type_max(uint8_t type);

/* The type's name as the API spells it ("int", "long", "uuid8", ...), or "?" if unknown. */
const char *record_type_name(uint8_t type);

/* The type named s[0..len) (case-sensitive), or 0 when there is none. */
uint8_t record_type_parse(const char *s, size_t len);

/* Characters in one random id of a uuid type (8, 12, 16, 22); 0 for numeric types. */
size_t record_uuid_length(uint8_t type);

/* A record of the given type starting at `start`, every other option at its default. */
void record_init(struct seq_record *rec, uint8_t type, int64_t start, uint64_t now);

/* Is this sequence a formatted prefix (API.md section 5)? Its numbers are issued only through
 * that API, which audits every one. */
int record_is_prefix(const struct seq_record *rec);

/* Check the invariants a stored record must satisfy. Returns RECORD_OK or RECORD_BAD_FIELD. */
int record_check(const struct seq_record *rec);

/* Write rec as exactly RECORD_SIZE bytes into buf. Returns RECORD_OK or RECORD_BAD_FIELD. */
int record_encode(const struct seq_record *rec, unsigned char buf[RECORD_SIZE]);

/* Read len bytes into *out, checking size, version and invariants. Returns an enum record_rc. */
int record_decode(const void *buf, size_t len, struct seq_record *out);

/*
 * Take `count` (>= 1) consecutive values from rec: on RECORD_OK, *first and *last are the first and
 * last value taken (last = first + (count-1) * increment) and rec has moved past them, wrapping to
 * the start when the sequence cycles, or marked exhausted after its final value. Returns
 * RECORD_EXHAUSTED, with rec unchanged, when the values would run past a bound: a batch never
 * wraps in its middle, so that [first, last] is always one contiguous range.
 */
int record_advance(struct seq_record *rec, uint64_t count, int64_t *first, int64_t *last);

/*
 * Durability reserve: after issuing values up to `last`, make sure the reservation covers it.
 * When it does not, the reservation moves `size` values past `last` (within the bounds) and the
 * function returns 1: the caller's commit must then reach the disk before anyone sees `last`.
 * Returns 0 when the reservation already covers it. Cycling sequences keep none (they re-issue
 * values by design).
 */
int record_reserve(struct seq_record *rec, int64_t last, int64_t size);

/*
 * After an unclean stop under durability reserve, any value up to the reservation may have been
 * issued and its commit lost: move the counter past the reservation (never backwards), or mark it
 * exhausted when that passes its bound. Returns 1 when it moved.
 */
int record_skip_reservation(struct seq_record *rec);

/*
 * Move a counter `steps` values ahead, as if they had been issued (after a restore from a backup,
 * past what the lost store may have issued since): mark it exhausted when that passes its
 * bound. Cycling sequences, exhausted ones and random-id types are left alone. Returns 1 when it
 * moved.
 */
int record_skip(struct seq_record *rec, uint64_t steps);

/* Which fields of struct record_change to apply. */
#define RECORD_CHANGE_TYPE 0x01u
#define RECORD_CHANGE_START 0x02u /* a new record's first value; an existing one's next value */
#define RECORD_CHANGE_INCREMENT 0x04u
#define RECORD_CHANGE_MIN 0x08u
#define RECORD_CHANGE_MAX 0x10u
#define RECORD_CHANGE_CYCLE 0x20u
#define RECORD_CHANGE_CACHE 0x40u
#define RECORD_CHANGE_NEW_TYPE 0x80u /* ch->type, for a record created only */

struct record_change {
	unsigned fields; /* RECORD_CHANGE_* */
	uint8_t type;
	int64_t start, increment, min, max;
	int cycle;
	uint32_t cache;
};

#define RECORD_CACHE_MAX 1000000 /* the most values a sequence's cache may hold */

/* The options of a record_change by name, as the admin API, nextidctl create and import spell
 * them: type, start, increment, min, max, cycle, cache. */
#define RECORD_OPTIONS 7
extern const char *const record_option_names[RECORD_OPTIONS];

/* One option's value as a front door received it: a JSON value, or a command line's word. */
struct record_value {
	const char *text; /* a string (digits, or a type's name), NUL-terminated; NULL: not one */
	int is_number;    /* else 1 when `number` holds a whole number (a JSON integer) */
	int64_t number;
	int truth;        /* else 1 or 0 for a truth (JSON true or false, a flag given alone); -1 */
};

enum record_set_rc {
	RECORD_SET_OK = 0,
	RECORD_SET_UNKNOWN, /* key names no option */
	RECORD_SET_NUMBER,  /* start, increment, min or max is not a whole number of 64 bits: *why
	                       is numparse's fragment ("is not a number", "is too large") */
	RECORD_SET_INVALID, /* a type, cycle or cache the option does not take: *why a sentence
	                       ("cache must be a whole number from 0 to 1000000.") */
};

/*
 * Set the option named key (record_option_names) of *ch to v, with its RECORD_CHANGE_* bit: the
 * one reading of sequence options, for the admin API's body, nextidctl create's flags and
 * import's lines. type takes a type's name; start, increment, min and max a whole number (a
 * number, or a string of digits); cycle a truth; cache a whole number from 0 to
 * RECORD_CACHE_MAX. Returns an enum record_set_rc; *ch is changed on RECORD_SET_OK only. Each
 * front door words RECORD_SET_NUMBER its own way (a JSON body, a flag, a line).
 */
int record_change_set(struct record_change *ch, const char *key, const struct record_value *v,
                      const char **why);

/*
 * Create (exists = 0) or change (exists = 1) *rec as ch says. A new record is a long unless
 * RECORD_CHANGE_TYPE or RECORD_CHANGE_NEW_TYPE says otherwise (an existing record ignores the
 * latter), and starts at min (at max when counting down) unless a start is given. On an existing
 * record, a type change follows the Sequence Service's rules: numeric to random-id drops the
 * counter, random-id to numeric starts afresh, int and long convert keeping the next value (a max
 * that was the old type's maximum becomes the new type's); a start sets the next value; raising
 * the bound of an exhausted sequence resumes it right after its last value, and turning cycle on
 * for one restarts it from min (max counting down). Returns RECORD_OK, or
 * RECORD_BAD_FIELD with *why a sentence, leaving *rec unspecified.
 */
int record_apply(struct seq_record *rec, const struct record_change *ch, int exists, uint64_t now,
                 const char **why);

#endif
