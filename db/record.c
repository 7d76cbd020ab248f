/*
 * record: encoding and decoding of the sequence record. Layout (big-endian, RECORD_SIZE bytes):
 *   0 version  1 type  2..3 flags  4 reset_rule  5 padding  6..7 zero
 *   8 next  16 increment  24 min  32 max  40 reserved  (int64)
 *   48 cache  52 period  (uint32)  56 created  64 updated  (uint64)
 *   72 format[48]  120 timezone[48]  168 audit_seq (uint64)
 * Decoding trusts nothing: a record that breaks an invariant is reported, never used.
 */
#include "record.h"

#include "bigendian.h"
#include "numparse.h"

#include <string.h>

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static const char type_why[] = "type must be int, long, uuid8, uuid12, uuid16 or uuid22.";

int64_t record_type_max(uint8_t type)
{
	switch (type) {
	case RECORD_TYPE_INT:
		return INT32_MAX;
	case RECORD_TYPE_LONG:
		return INT64_MAX;
	default:
		return 0;
	}
}

static const struct {
	const char *name;
	size_t uuid_length;
} type_info[] = {
	[RECORD_TYPE_INT] = { "int", 0 },       [RECORD_TYPE_LONG] = { "long", 0 },
	[RECORD_TYPE_UUID8] = { "uuid8", 8 },   [RECORD_TYPE_UUID12] = { "uuid12", 12 },
	[RECORD_TYPE_UUID16] = { "uuid16", 16 }, [RECORD_TYPE_UUID22] = { "uuid22", 22 },
};

const char *record_type_name(uint8_t type)
{
	if (type < RECORD_TYPE_INT || type > RECORD_TYPE_UUID22)
		return "?";
	return type_info[type].name;
}

uint8_t record_type_parse(const char *s, size_t len)
{
	for (uint8_t t = RECORD_TYPE_INT; t <= RECORD_TYPE_UUID22; t++)
		if (strlen(type_info[t].name) == len && memcmp(type_info[t].name, s, len) == 0)
			return t;
	return 0;
}

size_t record_uuid_length(uint8_t type)
{
	if (type < RECORD_TYPE_INT || type > RECORD_TYPE_UUID22)
		return 0;
	return type_info[type].uuid_length;
}

void record_init(struct seq_record *rec, uint8_t type, int64_t start, uint64_t now)
{
	memset(rec, 0, sizeof(*rec));
	rec->type = type;
	rec->next = start;
	rec->increment = 1;
	rec->min = 1;
	rec->max = record_type_max(type);
	rec->created = now;
	rec->updated = now;
}

static int string_fits(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

int record_is_prefix(const struct seq_record *rec)
{
	return rec->format[0] != '\0';
}

int record_check(const struct seq_record *rec)
{
	if (rec->type < RECORD_TYPE_INT || rec->type > RECORD_TYPE_UUID22)
		return RECORD_BAD_FIELD;
	if (rec->flags & ~RECORD_FLAGS_KNOWN)
		return RECORD_BAD_FIELD;
	if (!string_fits(rec->format, sizeof(rec->format)) ||
	    !string_fits(rec->timezone, sizeof(rec->timezone)))
		return RECORD_BAD_FIELD;
	/* A prefix counts from 1 upwards in a long; its rule is one of four, its padding short. */
	if (record_is_prefix(rec) && (rec->type != RECORD_TYPE_LONG || rec->reset_rule > 3 ||
	                              rec->padding > 18 || rec->increment != 1 || rec->min != 1))
		return RECORD_BAD_FIELD;
	if (record_type_max(rec->type) == 0)
		return RECORD_OK; /* random-id types carry no counter */
	/* int and long values run from 1 to the type's maximum (API.md, section 3). */
	if (rec->increment == 0 || rec->min < 1 || rec->min > rec->max ||
	    rec->max > record_type_max(rec->type))
		return RECORD_BAD_FIELD;
	if (!(rec->flags & RECORD_FLAG_EXHAUSTED) && (rec->next < rec->min || rec->next > rec->max))
		return RECORD_BAD_FIELD;
	return RECORD_OK;
}

int record_encode(const struct seq_record *rec, unsigned char buf[RECORD_SIZE])
{
	if (record_check(rec) != RECORD_OK)
		return RECORD_BAD_FIELD;
	memset(buf, 0, RECORD_SIZE);
	buf[0] = RECORD_VERSION;
	buf[1] = rec->type;
	bigendian_put(buf + 2, rec->flags, 2);
	buf[4] = rec->reset_rule;
	buf[5] = rec->padding;
	bigendian_put(buf + 8, (uint64_t)rec->next, 8);
	bigendian_put(buf + 16, (uint64_t)rec->increment, 8);
	bigendian_put(buf + 24, (uint64_t)rec->min, 8);
	bigendian_put(buf + 32, (uint64_t)rec->max, 8);
	bigendian_put(buf + 40, (uint64_t)rec->reserved, 8);
	bigendian_put(buf + 48, rec->cache, 4);
	bigendian_put(buf + 52, rec->period, 4);
	bigendian_put(buf + 56, rec->created, 8);
	bigendian_put(buf + 64, rec->updated, 8);
	memcpy(buf + 72, rec->format, RECORD_TEMPLATE_MAX);
	memcpy(buf + 120, rec->timezone, RECORD_TZ_MAX);
	bigendian_put(buf + 168, rec->audit_seq, 8);
	return RECORD_OK;
}

int record_decode(const void *buf, size_t len, struct seq_record *out)
{
	const unsigned char *p = buf;

	if (len != RECORD_SIZE)
		return RECORD_BAD_SIZE;
	if (p[0] != RECORD_VERSION)
		return RECORD_BAD_VERSION;
	memset(out, 0, sizeof(*out));
	out->type = p[1];
	out->flags = (uint16_t)bigendian_get(p + 2, 2);
	out->reset_rule = p[4];
	out->padding = p[5];
	out->next = bigendian_get_signed(p + 8, 8);
	out->increment = bigendian_get_signed(p + 16, 8);
	out->min = bigendian_get_signed(p + 24, 8);
	out->max = bigendian_get_signed(p + 32, 8);
	out->reserved = bigendian_get_signed(p + 40, 8);
	out->cache = (uint32_t)bigendian_get(p + 48, 4);
	out->period = (uint32_t)bigendian_get(p + 52, 4);
	out->created = bigendian_get(p + 56, 8);
	out->updated = bigendian_get(p + 64, 8);
	memcpy(out->format, p + 72, RECORD_TEMPLATE_MAX);
	memcpy(out->timezone, p + 120, RECORD_TZ_MAX);
	out->audit_seq = bigendian_get(p + 168, 8);
	return record_check(out);
}

int record_advance(struct seq_record *rec, uint64_t count, int64_t *first, int64_t *last)
{
	/* 128-bit arithmetic: with a large increment the span of a batch can leave int64 while its
	 * last value is still in range (from INT64_MIN by INT64_MAX, say). */
	__extension__ typedef __int128 wide;
	wide end, after;

	if (count == 0 || count > INT64_MAX || record_type_max(rec->type) == 0)
		return RECORD_BAD_FIELD;
	if (rec->flags & RECORD_FLAG_EXHAUSTED)
		return RECORD_EXHAUSTED;
	end = (wide)rec->next + (wide)(count - 1) * rec->increment;
	if (end < rec->min || end > rec->max)
		return RECORD_EXHAUSTED;
	*first = rec->next;
	*last = (int64_t)end;
	after = end + rec->increment;
	if (after >= rec->min && after <= rec->max) {
		rec->next = (int64_t)after;
	} else if (rec->flags & RECORD_FLAG_CYCLE) {
		rec->next = rec->increment > 0 ? rec->min : rec->max;
	} else {
		rec->next = *last; /* kept so that a raised bound can resume after it */
		rec->flags |= RECORD_FLAG_EXHAUSTED;
	}
	return RECORD_OK;
}

/* Explain the first invariant *rec breaks, in a sentence; NULL when it holds. */
static const char *record_problem(const struct seq_record *rec)
{
	if (record_type_max(rec->type) == 0)
		return NULL;
	if (rec->increment == 0)
		return "increment must not be 0.";
	if (rec->min < 1)
		return "min must be at least 1.";
	if (rec->max > record_type_max(rec->type)) /* only an int can: a long's max is int64's */
		return "max must not exceed 2147483647 for an int.";
	if (rec->min > rec->max)
		return "min must not exceed max.";
	if (!(rec->flags & RECORD_FLAG_EXHAUSTED) && (rec->next < rec->min || rec->next > rec->max))
		return "The next value must lie between min and max.";
	return NULL;
}

/* A type change on an existing record, as the Sequence Service's CLI did it. */
static void change_type(struct seq_record *rec, uint8_t type, uint64_t now, int *restart)
{
	int64_t old_type_max = record_type_max(rec->type);

	if (type == rec->type)
		return;
	if (old_type_max == 0 || record_type_max(type) == 0) {
		/* To or from a random-id type: there is no counter to keep. */
		uint64_t created = rec->created;

		record_init(rec, type, 1, now);
		rec->created = created;
		*restart = record_type_max(type) != 0;
		return;
	}
	if (rec->max == old_type_max || rec->max > record_type_max(type))
		rec->max = record_type_max(type);
	rec->type = type;
}

int record_apply(struct seq_record *rec, const struct record_change *ch, int exists, uint64_t now,
                 const char **why)
{
	int restart = !exists;

	if ((ch->fields & (RECORD_CHANGE_TYPE | RECORD_CHANGE_NEW_TYPE)) &&
	    record_type_max(ch->type) == 0 && record_uuid_length(ch->type) == 0) {
		*why = type_why;
		return RECORD_BAD_FIELD;
	}
	if (!exists)
		record_init(rec, (ch->fields & (RECORD_CHANGE_TYPE | RECORD_CHANGE_NEW_TYPE))
		                     ? ch->type : RECORD_TYPE_LONG, 1, now);
	else if (ch->fields & RECORD_CHANGE_TYPE)
		change_type(rec, ch->type, now, &restart);
	if (ch->fields & RECORD_CHANGE_INCREMENT)
		rec->increment = ch->increment;
	if (ch->fields & RECORD_CHANGE_MIN)
		rec->min = ch->min;
	if (ch->fields & RECORD_CHANGE_MAX)
		rec->max = ch->max;
	if (ch->fields & RECORD_CHANGE_CYCLE)
		rec->flags = (uint16_t)(ch->cycle ? rec->flags | RECORD_FLAG_CYCLE
		                                   : rec->flags & ~RECORD_FLAG_CYCLE);
	if (ch->fields & RECORD_CHANGE_CACHE)
		rec->cache = ch->cache;
	if ((ch->fields & RECORD_CHANGE_START) && record_type_max(rec->type) == 0) {
		*why = "A random-id sequence has no next value to set.";
		return RECORD_BAD_FIELD;
	}
	if (ch->fields & RECORD_CHANGE_START) {
		rec->next = ch->start;
		rec->flags &= (uint16_t)~RECORD_FLAG_EXHAUSTED;
	} else if (restart) {
		rec->next = rec->increment > 0 ? rec->min : rec->max;
		rec->flags &= (uint16_t)~RECORD_FLAG_EXHAUSTED;
	} else if (rec->flags & RECORD_FLAG_EXHAUSTED) {
		__extension__ __int128 after = (__int128)rec->next + rec->increment;

		if (after >= rec->min && after <= rec->max) {
			rec->next = (int64_t)after;
			rec->flags &= (uint16_t)~RECORD_FLAG_EXHAUSTED;
		} else if (rec->flags & RECORD_FLAG_CYCLE) {
			/* Cycling turned on after the end: go round, as record_advance would have. */
			rec->next = rec->increment > 0 ? rec->min : rec->max;
			rec->flags &= (uint16_t)~RECORD_FLAG_EXHAUSTED;
		}
	}
	rec->updated = now;
	*why = record_problem(rec);
	return *why ? RECORD_BAD_FIELD : RECORD_OK;
}

int record_reserve(struct seq_record *rec, int64_t last, int64_t size)
{
	__extension__ __int128 ahead;

	if ((rec->flags & RECORD_FLAG_CYCLE) || record_type_max(rec->type) == 0)
		return 0;
	if (rec->reserved != 0 && (rec->increment > 0 ? last <= rec->reserved
	                                              : last >= rec->reserved))
		return 0;
	ahead = (__int128)last + (__int128)size * rec->increment;
	if (ahead > rec->max)
		ahead = rec->max;
	if (ahead < rec->min)
		ahead = rec->min;
	rec->reserved = (int64_t)ahead;
	return 1;
}

int record_skip_reservation(struct seq_record *rec)
{
	__extension__ __int128 position, resume;

	if (rec->reserved == 0 || (rec->flags & RECORD_FLAG_CYCLE) ||
	    record_type_max(rec->type) == 0)
		return 0;
	/* Where the counter stands: its next value, or one step past the last when exhausted. */
	position = (rec->flags & RECORD_FLAG_EXHAUSTED) ? (__int128)rec->next + rec->increment
	                                               : rec->next;
	resume = (__int128)rec->reserved + rec->increment;
	if (rec->increment > 0 ? resume <= position : resume >= position)
		return 0;
	if (resume >= rec->min && resume <= rec->max) {
		rec->next = (int64_t)resume;
		rec->flags &= (uint16_t)~RECORD_FLAG_EXHAUSTED;
	} else {
		rec->next = rec->reserved; /* the last value that may have been issued */
		rec->flags |= RECORD_FLAG_EXHAUSTED;
	}
	return 1;
}

int record_skip(struct seq_record *rec, uint64_t steps)
{
	__extension__ __int128 target;

	if (steps == 0 || steps > INT64_MAX || (rec->flags & (RECORD_FLAG_CYCLE | RECORD_FLAG_EXHAUSTED)) ||
	    record_type_max(rec->type) == 0)
		return 0;
	target = (__int128)rec->next + (__int128)steps * rec->increment;
	if (target >= rec->min && target <= rec->max) {
		rec->next = (int64_t)target;
	} else {
		rec->next = rec->increment > 0 ? rec->max : rec->min; /* may all have been issued */
		rec->flags |= RECORD_FLAG_EXHAUSTED;
	}
	return 1;
}

const char *const record_option_names[RECORD_OPTIONS] = { "type", "start", "increment", "min",
	                                                  "max",  "cycle", "cache" };
static const unsigned option_bits[RECORD_OPTIONS] = {
	RECORD_CHANGE_TYPE, RECORD_CHANGE_START, RECORD_CHANGE_INCREMENT, RECORD_CHANGE_MIN,
	RECORD_CHANGE_MAX,  RECORD_CHANGE_CYCLE, RECORD_CHANGE_CACHE,
};

/* v as a whole number in [lo, hi]: a number, or a string of digits. Returns 0, or -1 with *why
 * numparse's fragment. */
static int value_i64(const struct record_value *v, int64_t lo, int64_t hi, int64_t *out,
                     const char **why)
{
	if (v->text)
		return numparse_i64(v->text, strlen(v->text), lo, hi, out, why);
	if (!v->is_number) {
		*why = "is not a number";
		return -1;
	}
	if (v->number < lo || v->number > hi) {
		*why = v->number < lo ? "is too small" : "is too large";
		return -1;
	}
	*out = v->number;
	return 0;
}

int record_change_set(struct record_change *ch, const char *key, const struct record_value *v,
                      const char **why)
{
	size_t k = 0;
	int64_t n = 0;
	uint8_t type;

	while (k < RECORD_OPTIONS && strcmp(record_option_names[k], key) != 0)
		k++;
	if (k == RECORD_OPTIONS)
		return RECORD_SET_UNKNOWN;
	switch (option_bits[k]) {
	case RECORD_CHANGE_TYPE:
		if (!v->text || (type = record_type_parse(v->text, strlen(v->text))) == 0) {
			*why = type_why;
			return RECORD_SET_INVALID;
		}
		ch->type = type;
		break;
	case RECORD_CHANGE_CYCLE:
		if (v->truth != 0 && v->truth != 1) {
			*why = "cycle must be true or false.";
			return RECORD_SET_INVALID;
		}
		ch->cycle = v->truth;
		break;
	case RECORD_CHANGE_CACHE:
		if (value_i64(v, 0, RECORD_CACHE_MAX, &n, why) != 0) {
			*why = "cache must be a whole number from 0 to " STRINGIFY(RECORD_CACHE_MAX) ".";
			return RECORD_SET_INVALID;
		}
		ch->cache = (uint32_t)n;
		break;
	default:
		if (value_i64(v, INT64_MIN, INT64_MAX, &n, why) != 0)
			return RECORD_SET_NUMBER;
		if (option_bits[k] == RECORD_CHANGE_START)
			ch->start = n;
		else if (option_bits[k] == RECORD_CHANGE_INCREMENT)
			ch->increment = n;
		else if (option_bits[k] == RECORD_CHANGE_MIN)
			ch->min = n;
		else
			ch->max = n;
		break;
	}
	ch->fields |= option_bits[k];
	return RECORD_SET_OK;
}
