/*
 * record: the on-disk sequence record. Tables for the invariants (record_check, and the encode →
 * decode round trip of every record that passes them), for corrupt bytes handed to record_decode,
 * for the big-endian layout, for record_advance at every bound, and for record_apply.
 */
#include "record.h"
#include "unit.h"

#include <inttypes.h>

#define LONG_ RECORD_TYPE_LONG
#define INT_ RECORD_TYPE_INT
#define CYCLE RECORD_FLAG_CYCLE
#define EXH RECORD_FLAG_EXHAUSTED

#define REC(t, n, inc, lo, hi, fl)                                                           \
	{ .type = (t), .next = (n), .increment = (inc), .min = (lo), .max = (hi), .flags = (fl) }

/* First difference between two records (every field, whole string arrays), or NULL. */
static const char *record_diff(const struct seq_record *a, const struct seq_record *b, char *buf,
                               size_t len)
{
#define NUM(f)                                                                               \
	if (a->f != b->f) {                                                                  \
		snprintf(buf, len, #f " %lld != %lld", (long long)a->f, (long long)b->f);    \
		return buf;                                                                  \
	}
	NUM(type) NUM(flags) NUM(next) NUM(increment) NUM(min) NUM(max) NUM(cache)
	NUM(reserved) NUM(period) NUM(reset_rule) NUM(padding)
#undef NUM
	if (a->created != b->created || a->updated != b->updated) {
		snprintf(buf, len, "created/updated %" PRIu64 "/%" PRIu64 " != %" PRIu64 "/%" PRIu64,
		         a->created, a->updated, b->created, b->updated);
		return buf;
	}
	if (memcmp(a->format, b->format, sizeof(a->format)) != 0)
		return "format differs";
	if (memcmp(a->timezone, b->timezone, sizeof(a->timezone)) != 0)
		return "timezone differs";
	return NULL;
}

struct type_row {
	int line;
	uint8_t type;
	int64_t max;
	const char *desc;
};

static const struct type_row type_rows[] = {
	{ __LINE__, 0, 0, "type 0 is no type" },
	{ __LINE__, RECORD_TYPE_INT, INT32_MAX, "int" },
	{ __LINE__, RECORD_TYPE_LONG, INT64_MAX, "long" },
	{ __LINE__, RECORD_TYPE_UUID8, 0, "uuid8 has no numbers" },
	{ __LINE__, RECORD_TYPE_UUID12, 0, "uuid12 has no numbers" },
	{ __LINE__, RECORD_TYPE_UUID16, 0, "uuid16 has no numbers" },
	{ __LINE__, RECORD_TYPE_UUID22, 0, "uuid22 has no numbers" },
	{ __LINE__, 7, 0, "type 7 is no type" },
	{ __LINE__, 255, 0, "type 255 is no type" },
};

START_TEST(test_type_max)
{
	const struct type_row *row = &type_rows[_i];
	int64_t got = record_type_max(row->type);

	ck_assert_msg(got == row->max, "line %d: %s: got %" PRId64 ", want %" PRId64, row->line,
	              row->desc, got, row->max);
}
END_TEST

struct init_row {
	int line;
	uint8_t type;
	int64_t start;
	uint64_t now;
	const char *desc;
};

static const struct init_row init_rows[] = {
	{ __LINE__, RECORD_TYPE_LONG, 1, 1700000000, "what /next/<name> creates" },
	{ __LINE__, RECORD_TYPE_LONG, INT64_MAX, 0, "a long starting at its maximum" },
	{ __LINE__, RECORD_TYPE_INT, 1000, UINT64_MAX, "an int" },
	{ __LINE__, RECORD_TYPE_UUID8, 0, 5, "a uuid type" },
};

START_TEST(test_init)
{
	const struct init_row *row = &init_rows[_i];
	struct seq_record rec, want;
	char diff[128];
	const char *d;

	memset(&rec, 0x5a, sizeof(rec));
	record_init(&rec, row->type, row->start, row->now);
	memset(&want, 0, sizeof(want));
	want.type = row->type;
	want.next = row->start;
	want.increment = 1;
	want.min = 1;
	want.max = record_type_max(row->type);
	want.created = want.updated = row->now;
	d = record_diff(&rec, &want, diff, sizeof(diff));
	ck_assert_msg(d == NULL, "line %d: %s: %s", row->line, row->desc, d);
	ck_assert_msg(rec.format[0] == '\0' && rec.timezone[0] == '\0', "line %d: %s: strings",
	              row->line, row->desc);
}
END_TEST

/* Strings too long to spell in a row: filled in by the test before the check. */
enum fill { FILL_NONE, FILL_FORMAT_FULL, FILL_TZ_FULL, FILL_FORMAT_47, FILL_TZ_47 };

struct check_row {
	int line;
	struct seq_record rec;
	enum fill fill;
	int rc; /* of record_check and record_encode */
	const char *desc;
};

static const struct check_row check_rows[] = {
	/* valid: each round-trips through encode and decode unchanged */
	{ __LINE__, REC(LONG_, 1, 1, 1, INT64_MAX, 0), 0, RECORD_OK, "the default long" },
	{ __LINE__, REC(INT_, 1, 1, 1, INT32_MAX, 0), 0, RECORD_OK, "the default int" },
	{ __LINE__, REC(INT_, INT32_MAX, 1, 1, INT32_MAX, 0), 0, RECORD_OK, "an int at its max" },
	{ __LINE__, REC(LONG_, INT64_MAX, 1, 1, INT64_MAX, 0), 0, RECORD_OK, "a long at its max" },
	{ __LINE__, REC(LONG_, 10, -1, 1, 10, 0), 0, RECORD_OK, "negative increment" },
	{ __LINE__, REC(LONG_, INT64_MAX, INT64_MIN, 1, INT64_MAX, 0), 0, RECORD_OK,
	  "increment INT64_MIN" },
	{ __LINE__, REC(LONG_, 1, INT64_MAX, 1, INT64_MAX, 0), 0, RECORD_OK,
	  "increment INT64_MAX" },
	{ __LINE__, REC(LONG_, 5, 1, 5, 5, 0), 0, RECORD_OK, "min == max" },
	{ __LINE__, REC(LONG_, 3, 1, 1, 10, CYCLE), 0, RECORD_OK, "cycle flag" },
	{ __LINE__, REC(LONG_, 10, 1, 1, 10, EXH), 0, RECORD_OK, "exhausted flag" },
	{ __LINE__, REC(LONG_, 11, 1, 1, 10, EXH), 0, RECORD_OK,
	  "exhausted: next past max is meaningless, not corrupt" },
	{ __LINE__, REC(LONG_, INT64_MIN, 1, 1, 10, EXH | CYCLE), 0, RECORD_OK,
	  "both flags, next INT64_MIN" },
	{ __LINE__, REC(RECORD_TYPE_UUID8, 0, 0, 0, 0, 0), 0, RECORD_OK,
	  "a uuid type carries no counter" },
	{ __LINE__,
	  { .type = LONG_, .next = 7, .increment = 1, .min = 1, .max = INT64_MAX,
	    .reset_rule = 3, .padding = 18, .format = "INV%d-%04d", .timezone = "Asia/Tokyo",
	    .audit_seq = 6 },
	  0, RECORD_OK, "a formatted prefix" },
	{ __LINE__,
	  { .type = LONG_, .next = 7, .increment = 1, .min = 1, .max = INT64_MAX,
	    .reset_rule = 4, .format = "{counter}" },
	  0, RECORD_BAD_FIELD, "a prefix with reset rule 4" },
	{ __LINE__,
	  { .type = LONG_, .next = 7, .increment = 2, .min = 1, .max = INT64_MAX,
	    .format = "{counter}" },
	  0, RECORD_BAD_FIELD, "a prefix counting by 2" },
	{ __LINE__,
	  { .type = INT_, .next = 7, .increment = 1, .min = 1, .max = 10, .format = "{counter}" },
	  0, RECORD_BAD_FIELD, "an int prefix" },
	{ __LINE__, REC(RECORD_TYPE_UUID22, -5, 0, 9, 3, 0), 0, RECORD_OK,
	  "a uuid type's counter fields are not checked" },
	{ __LINE__,
	  { .type = LONG_, .next = 7, .increment = 1, .min = 1, .max = 1000, .cache = UINT32_MAX,
	    .reserved = INT64_MIN, .period = 20240131, .reset_rule = 3, .padding = 18,
	    .format = "INV%d-%04d", .timezone = "America/Argentina/ComodRivadavia",
	    .created = UINT64_MAX, .updated = 0, .audit_seq = UINT64_MAX },
	  0, RECORD_OK, "every field at an odd value (a prefix: increment 1, padding <= 18)" },
	{ __LINE__,
	  { .type = LONG_, .next = 1, .increment = 1, .min = 1, .max = 9, .reserved = INT64_MAX,
	    .format = "{prefix}\xc3\xa9{counter:6}", .timezone = "Europe/Z\xc3\xbcrich",
	    .created = 1, .updated = 2 },
	  0, RECORD_OK, "UTF-8 in a string" },
	{ __LINE__, REC(LONG_, 1, 1, 1, 9, 0), FILL_FORMAT_47, RECORD_OK,
	  "a format of 47 bytes and its NUL" },
	{ __LINE__, REC(LONG_, 1, 1, 1, 9, 0), FILL_TZ_47, RECORD_OK,
	  "a time zone of 47 bytes and its NUL" },

	/* invalid */
	{ __LINE__, REC(0, 1, 1, 1, 10, 0), 0, RECORD_BAD_FIELD, "type 0" },
	{ __LINE__, REC(7, 1, 1, 1, 10, 0), 0, RECORD_BAD_FIELD, "type 7" },
	{ __LINE__, REC(255, 1, 1, 1, 10, 0), 0, RECORD_BAD_FIELD, "type 255" },
	{ __LINE__, REC(LONG_, 1, 0, 1, 10, 0), 0, RECORD_BAD_FIELD, "increment 0" },
	{ __LINE__, REC(LONG_, 5, 1, 6, 5, 0), 0, RECORD_BAD_FIELD, "min > max" },
	{ __LINE__, REC(LONG_, 1, 1, 0, 10, 0), 0, RECORD_BAD_FIELD, "min 0: below the type's range" },
	{ __LINE__, REC(LONG_, INT64_MIN, 1, INT64_MIN, INT64_MAX, 0), 0, RECORD_BAD_FIELD,
	  "next and min INT64_MIN: below the type's range" },
	{ __LINE__, REC(LONG_, -1, -7, INT64_MIN, -1, 0), 0, RECORD_BAD_FIELD,
	  "all negative bounds: below the type's range" },
	{ __LINE__, REC(INT_, 1, 1, -5, 10, 0), 0, RECORD_BAD_FIELD, "an int with a negative min" },
	{ __LINE__, REC(LONG_, 5, 1, 6, 5, EXH), 0, RECORD_BAD_FIELD,
	  "min > max even when exhausted" },
	{ __LINE__, REC(INT_, 1, 1, 1, (int64_t)INT32_MAX + 1, 0), 0, RECORD_BAD_FIELD,
	  "an int's max past 2^31-1" },
	{ __LINE__, REC(LONG_, 0, 1, 1, 10, 0), 0, RECORD_BAD_FIELD, "next below min" },
	{ __LINE__, REC(LONG_, 11, 1, 1, 10, 0), 0, RECORD_BAD_FIELD, "next above max" },
	{ __LINE__, REC(LONG_, 11, 1, 1, 10, CYCLE), 0, RECORD_BAD_FIELD,
	  "next above max with cycle" },
	{ __LINE__, REC(LONG_, 1, 1, 1, 10, 0x0004), 0, RECORD_BAD_FIELD, "unknown flag 0x0004" },
	{ __LINE__, REC(LONG_, 1, 1, 1, 10, 0x8000), 0, RECORD_BAD_FIELD, "unknown flag 0x8000" },
	{ __LINE__, REC(LONG_, 1, 1, 1, 10, 0xFFFF), 0, RECORD_BAD_FIELD, "every flag bit" },
	{ __LINE__, REC(RECORD_TYPE_UUID8, 0, 0, 0, 0, 0x0100), 0, RECORD_BAD_FIELD,
	  "unknown flag on a uuid type" },
	{ __LINE__, REC(LONG_, 1, 1, 1, 10, 0), FILL_FORMAT_FULL, RECORD_BAD_FIELD,
	  "an unterminated format" },
	{ __LINE__, REC(LONG_, 1, 1, 1, 10, 0), FILL_TZ_FULL, RECORD_BAD_FIELD,
	  "an unterminated time zone" },
	{ __LINE__, REC(RECORD_TYPE_UUID16, 0, 0, 0, 0, 0), FILL_TZ_FULL, RECORD_BAD_FIELD,
	  "an unterminated time zone on a uuid type" },
};

static void apply_fill(struct seq_record *rec, enum fill fill)
{
	switch (fill) {
	case FILL_NONE:
		break;
	case FILL_FORMAT_FULL:
		memset(rec->format, 'f', sizeof(rec->format));
		break;
	case FILL_TZ_FULL:
		memset(rec->timezone, 't', sizeof(rec->timezone));
		break;
	case FILL_FORMAT_47:
		memset(rec->format, 'f', sizeof(rec->format) - 1);
		rec->format[sizeof(rec->format) - 1] = '\0';
		break;
	case FILL_TZ_47:
		memset(rec->timezone, 't', sizeof(rec->timezone) - 1);
		rec->timezone[sizeof(rec->timezone) - 1] = '\0';
		break;
	}
}

START_TEST(test_check_and_round_trip)
{
	const struct check_row *row = &check_rows[_i];
	struct seq_record rec = row->rec, back;
	unsigned char buf[RECORD_SIZE + 8];
	char diff[128];
	const char *d;
	int rc;

	apply_fill(&rec, row->fill);
	rc = record_check(&rec);
	ck_assert_msg(rc == row->rc, "line %d: %s: record_check %d, want %d", row->line, row->desc,
	              rc, row->rc);
	memset(buf, 0xA5, sizeof(buf));
	rc = record_encode(&rec, buf);
	ck_assert_msg(rc == row->rc, "line %d: %s: record_encode %d, want %d", row->line, row->desc,
	              rc, row->rc);
	for (size_t i = RECORD_SIZE; i < sizeof(buf); i++)
		ck_assert_msg(buf[i] == 0xA5, "line %d: %s: wrote byte %zu", row->line, row->desc, i);
	if (row->rc != RECORD_OK)
		return;
	memset(&back, 0x5a, sizeof(back));
	rc = record_decode(buf, RECORD_SIZE, &back);
	ck_assert_msg(rc == RECORD_OK, "line %d: %s: record_decode %d", row->line, row->desc, rc);
	d = record_diff(&back, &rec, diff, sizeof(diff));
	ck_assert_msg(d == NULL, "line %d: %s: round trip: %s", row->line, row->desc, d);
}
END_TEST

/*
 * Corrupt bytes: the base record (an int sequence, next 5 in [1, 10], format "F", zone "UTC")
 * with `n` bytes at `off` replaced by `bytes`, or by `fill` when bytes is NULL.
 */
struct decode_row {
	int line;
	size_t len; /* bytes handed to record_decode */
	size_t off;
	const char *bytes;
	size_t n;
	char fill;
	int rc;
	const char *desc;
};

#define B(lit) lit, sizeof(lit) - 1
#define I64(v) "\0\0\0\0\0\0\0" v /* a small big-endian int64 */

static const struct decode_row decode_rows[] = {
	{ __LINE__, RECORD_SIZE, 0, NULL, 0, 0, RECORD_OK, "the base record itself" },
	{ __LINE__, 0, 0, NULL, 0, 0, RECORD_BAD_SIZE, "no bytes" },
	{ __LINE__, 1, 0, NULL, 0, 0, RECORD_BAD_SIZE, "one byte" },
	{ __LINE__, RECORD_SIZE - 1, 0, NULL, 0, 0, RECORD_BAD_SIZE, "one byte short" },
	{ __LINE__, RECORD_SIZE + 1, 0, NULL, 0, 0, RECORD_BAD_SIZE, "one byte over" },
	{ __LINE__, 2 * RECORD_SIZE, 0, NULL, 0, 0, RECORD_BAD_SIZE, "twice the size" },
	{ __LINE__, RECORD_SIZE - 1, 0, B("\x09"), 0, RECORD_BAD_SIZE,
	  "size is checked before version" },
	{ __LINE__, RECORD_SIZE, 0, B("\x00"), 0, RECORD_BAD_VERSION, "version 0" },
	{ __LINE__, RECORD_SIZE, 0, B("\x02"), 0, RECORD_BAD_VERSION, "version 2" },
	{ __LINE__, RECORD_SIZE, 0, B("\xff"), 0, RECORD_BAD_VERSION, "version 255" },
	{ __LINE__, RECORD_SIZE, 0, B("\x02\x00"), 0, RECORD_BAD_VERSION,
	  "version is checked before fields" },
	{ __LINE__, RECORD_SIZE, 1, B("\x00"), 0, RECORD_BAD_FIELD, "type 0" },
	{ __LINE__, RECORD_SIZE, 1, B("\x07"), 0, RECORD_BAD_FIELD, "type 7" },
	{ __LINE__, RECORD_SIZE, 1, B("\xff"), 0, RECORD_BAD_FIELD, "type 255" },
	{ __LINE__, RECORD_SIZE, 1, B("\x02"), 0, RECORD_OK, "type long" },
	{ __LINE__, RECORD_SIZE, 2, B("\x00\x04"), 0, RECORD_BAD_FIELD, "unknown flag 0x0004" },
	{ __LINE__, RECORD_SIZE, 2, B("\x01\x00"), 0, RECORD_BAD_FIELD,
	  "unknown flag 0x0100 (a byte-swapped cycle flag)" },
	{ __LINE__, RECORD_SIZE, 2, B("\x80\x00"), 0, RECORD_BAD_FIELD, "unknown flag 0x8000" },
	{ __LINE__, RECORD_SIZE, 2, B("\x00\x03"), 0, RECORD_OK, "both known flags" },
	{ __LINE__, RECORD_SIZE, 8, B(I64("\x00")), 0, RECORD_BAD_FIELD, "next 0 below min 1" },
	{ __LINE__, RECORD_SIZE, 8, B(I64("\x0b")), 0, RECORD_BAD_FIELD, "next 11 above max 10" },
	{ __LINE__, RECORD_SIZE, 8, B("\xff\xff\xff\xff\xff\xff\xff\xff"), 0, RECORD_BAD_FIELD,
	  "next -1" },
	{ __LINE__, RECORD_SIZE, 8, B("\x80\0\0\0\0\0\0\x05"), 0, RECORD_BAD_FIELD,
	  "next with its sign bit flipped" },
	{ __LINE__, RECORD_SIZE, 3, B("\x02" "\0\0\0\0" I64("\x0b")), 0, RECORD_OK,
	  "next 11 with the exhausted flag" },
	{ __LINE__, RECORD_SIZE, 16, B(I64("\x00")), 0, RECORD_BAD_FIELD, "increment 0" },
	{ __LINE__, RECORD_SIZE, 16, B("\xff\xff\xff\xff\xff\xff\xff\xff"), 0, RECORD_OK,
	  "increment -1" },
	{ __LINE__, RECORD_SIZE, 24, B(I64("\x0b")), 0, RECORD_BAD_FIELD, "min 11 > max 10" },
	{ __LINE__, RECORD_SIZE, 32, B(I64("\x04")), 0, RECORD_BAD_FIELD,
	  "max 4 below next 5" },
	{ __LINE__, RECORD_SIZE, 32, B("\0\0\0\0\x80\0\0\0"), 0, RECORD_BAD_FIELD,
	  "an int's max of 2^31" },
	{ __LINE__, RECORD_SIZE, 32, B("\0\0\0\0\x7f\xff\xff\xff"), 0, RECORD_OK,
	  "an int's max of 2^31-1" },
	{ __LINE__, RECORD_SIZE, 72, NULL, RECORD_TEMPLATE_MAX, 'f', RECORD_BAD_FIELD,
	  "an unterminated format" },
	{ __LINE__, RECORD_SIZE, 120, NULL, RECORD_TZ_MAX, 't', RECORD_BAD_FIELD,
	  "an unterminated time zone" },
	{ __LINE__, RECORD_SIZE, 72, NULL, RECORD_TEMPLATE_MAX - 1, 'f', RECORD_BAD_FIELD,
	  "a format makes a formatted prefix, which must be a long: the base is an int" },
	{ __LINE__, RECORD_SIZE, 120, NULL, RECORD_TZ_MAX - 1, 't', RECORD_OK,
	  "a time zone ending in its last byte" },
	{ __LINE__, RECORD_SIZE, 73, NULL, RECORD_TEMPLATE_MAX + RECORD_TZ_MAX - 1, 'x',
	  RECORD_BAD_FIELD, "a format running into the time zone" },
	{ __LINE__, RECORD_SIZE, 48, B("\xff\xff\xff\xff"), 0, RECORD_OK,
	  "cache is not bounded by the record" },
};

START_TEST(test_decode)
{
	const struct decode_row *row = &decode_rows[_i];
	struct seq_record base = REC(INT_, 5, 1, 1, 10, 0), out;
	unsigned char buf[2 * RECORD_SIZE];
	int rc;

	memcpy(base.timezone, "UTC", 4);
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(record_encode(&base, buf), RECORD_OK);
	if (row->bytes)
		memcpy(buf + row->off, row->bytes, row->n);
	else
		memset(buf + row->off, row->fill, row->n);
	rc = record_decode(buf, row->len, &out);
	ck_assert_msg(rc == row->rc, "line %d: %s: record_decode %d, want %d", row->line, row->desc,
	              rc, row->rc);
}
END_TEST

/* The layout is big-endian at fixed offsets, whatever the host: spell out every byte. */
START_TEST(test_layout)
{
	static const struct {
		size_t off;
		const char *bytes;
		size_t n;
	} spans[] = {
		{ 0, B("\x01\x02\x00\x01\x02\x06\x00\x00") },         /* version ... padding */
		{ 8, B("\0\0\0\0\0\0\0\x01") },                        /* next 1: 0x01 at byte 15 */
		{ 16, B("\xff\xff\xff\xff\xff\xff\xff\xfe") },         /* increment -2 */
		{ 24, B("\0\0\0\0\0\0\0\x01") },                       /* min 1 */
		{ 32, B("\x01\x02\x03\x04\x05\x06\x07\x08") },         /* max */
		{ 40, B("\x11\x22\x33\x44\x55\x66\x77\x88") },         /* reserved */
		{ 48, B("\xa1\xb2\xc3\xd4") },                         /* cache */
		{ 52, B("\x01\x34\xd7\x03") },                         /* period 20240131 */
		{ 56, B("\x08\x07\x06\x05\x04\x03\x02\x01") },         /* created */
		{ 64, B("\0\0\0\0\0\0\0\x01") },                       /* updated */
		{ 120, B("UTC") },                                     /* timezone */
		{ 168, B("\x00\x00\x00\x00\x00\x01\x02\x03") },         /* audit_seq */
	};
	struct seq_record rec = REC(LONG_, 1, -2, 1, 0x0102030405060708, CYCLE);
	unsigned char buf[RECORD_SIZE], want[RECORD_SIZE];

	rec.reset_rule = 2;
	rec.padding = 6;
	rec.reserved = 0x1122334455667788;
	rec.cache = 0xA1B2C3D4u;
	rec.period = 20240131;
	rec.created = 0x0807060504030201u;
	rec.updated = 1;
	rec.audit_seq = 0x010203;
	memcpy(rec.timezone, "UTC", 4);
	memset(want, 0, sizeof(want));
	for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++)
		memcpy(want + spans[i].off, spans[i].bytes, spans[i].n);
	memset(buf, 0xA5, sizeof(buf));
	ck_assert_int_eq(record_encode(&rec, buf), RECORD_OK);
	for (size_t i = 0; i < RECORD_SIZE; i++)
		ck_assert_msg(buf[i] == want[i], "byte %zu is 0x%02x, want 0x%02x", i, buf[i],
		              want[i]);
}
END_TEST

/*
 * record_advance. On RECORD_OK the row gives first, last, and the record's next and flags after
 * (next is not compared once the record is exhausted: it is meaningless then). On any other
 * answer the record must be unchanged.
 */
struct advance_row {
	int line;
	struct seq_record rec;
	uint64_t count;
	int rc; /* RECORD_OK, RECORD_EXHAUSTED, or -1: any refusal but OK */
	int64_t first, last, next;
	uint16_t flags;
	const char *desc;
};

#define TWO62 ((uint64_t)1 << 62)

static const struct advance_row advance_rows[] = {
	/* counting up */
	{ __LINE__, REC(LONG_, 1, 1, 1, INT64_MAX, 0), 1, RECORD_OK, 1, 1, 2, 0, "the first value" },
	{ __LINE__, REC(LONG_, 1, 1, 1, INT64_MAX, 0), 5, RECORD_OK, 1, 5, 6, 0, "a batch of 5" },
	{ __LINE__, REC(LONG_, 1, 2, 1, INT64_MAX, 0), 3, RECORD_OK, 1, 5, 7, 0,
	  "a batch with increment 2" },
	{ __LINE__, REC(INT_, 9, 1, 1, 10, 0), 1, RECORD_OK, 9, 9, 10, 0, "one before max" },
	{ __LINE__, REC(INT_, 10, 1, 1, 10, 0), 1, RECORD_OK, 10, 10, 0, EXH,
	  "the last value marks the record exhausted" },
	{ __LINE__, REC(INT_, 8, 1, 1, 10, 0), 3, RECORD_OK, 8, 10, 0, EXH,
	  "a batch ending on max marks it exhausted" },
	{ __LINE__, REC(INT_, 8, 1, 1, 10, 0), 4, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "a batch running past max takes nothing" },
	{ __LINE__, REC(INT_, 10, 1, 1, 10, EXH), 1, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "an exhausted record gives nothing" },
	{ __LINE__, REC(INT_, 1, 1, 1, 10, EXH), 1, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "the flag decides, not next" },
	{ __LINE__, REC(INT_, 7, 3, 1, 10, 0), 2, RECORD_OK, 7, 10, 0, EXH,
	  "increment 3 landing exactly on max" },
	{ __LINE__, REC(INT_, 6, 3, 1, 10, 0), 2, RECORD_OK, 6, 9, 0, EXH,
	  "increment 3 stepping over max after the batch" },
	{ __LINE__, REC(INT_, 5, 1, 5, 5, 0), 1, RECORD_OK, 5, 5, 0, EXH, "a one-value range" },
	{ __LINE__, REC(INT_, INT32_MAX, 1, 1, INT32_MAX, 0), 1, RECORD_OK, INT32_MAX, INT32_MAX, 0,
	  EXH, "an int at 2^31-1" },

	/* counting down */
	{ __LINE__, REC(LONG_, 3, -1, 1, 10, 0), 1, RECORD_OK, 3, 3, 2, 0, "down by one" },
	{ __LINE__, REC(LONG_, 3, -1, 1, 10, 0), 3, RECORD_OK, 3, 1, 0, EXH,
	  "down to min marks it exhausted" },
	{ __LINE__, REC(LONG_, 3, -1, 1, 10, 0), 4, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "down past min takes nothing" },
	{ __LINE__, REC(LONG_, 10, -4, 1, 10, 0), 3, RECORD_OK, 10, 2, 0, EXH,
	  "down by 4, stepping under min after the batch" },

	/* cycling */
	{ __LINE__, REC(INT_, 10, 1, 1, 10, CYCLE), 1, RECORD_OK, 10, 10, 1, CYCLE,
	  "cycle wraps to min" },
	{ __LINE__, REC(INT_, 10, 1, 5, 10, CYCLE), 1, RECORD_OK, 10, 10, 5, CYCLE,
	  "cycle wraps to a min above 1" },
	{ __LINE__, REC(INT_, 9, 1, 1, 10, CYCLE), 2, RECORD_OK, 9, 10, 1, CYCLE,
	  "a batch ending on max, then wrap" },
	{ __LINE__, REC(INT_, 9, 1, 1, 10, CYCLE), 3, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "a batch never wraps in its middle" },
	{ __LINE__, REC(INT_, 1, 1, 1, 10, CYCLE), 11, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "a batch longer than the whole range" },
	{ __LINE__, REC(INT_, 1, 1, 1, 10, CYCLE), 10, RECORD_OK, 1, 10, 1, CYCLE,
	  "a batch of the whole range" },
	{ __LINE__, REC(INT_, 8, 3, 1, 10, CYCLE), 1, RECORD_OK, 8, 8, 1, CYCLE,
	  "a step over max wraps to min" },
	{ __LINE__, REC(LONG_, 1, -1, 1, 10, CYCLE), 1, RECORD_OK, 1, 1, 10, CYCLE,
	  "counting down wraps to max" },
	{ __LINE__, REC(LONG_, 2, -3, 1, 10, CYCLE), 1, RECORD_OK, 2, 2, 10, CYCLE,
	  "a step under min wraps to max" },
	{ __LINE__, REC(LONG_, 2, -1, 1, 10, CYCLE), 3, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "a batch counting down never wraps in its middle" },
	{ __LINE__, REC(LONG_, INT64_MAX, 1, 1, INT64_MAX, CYCLE), 1, RECORD_OK, INT64_MAX,
	  INT64_MAX, 1, CYCLE, "cycle at INT64_MAX wraps without overflow" },

	/* overflow near the ends of int64 */
	{ __LINE__, REC(LONG_, INT64_MAX - 1, 1, 1, INT64_MAX, 0), 1, RECORD_OK, INT64_MAX - 1,
	  INT64_MAX - 1, INT64_MAX, 0, "one before INT64_MAX" },
	{ __LINE__, REC(LONG_, INT64_MAX - 1, 1, 1, INT64_MAX, 0), 2, RECORD_OK, INT64_MAX - 1,
	  INT64_MAX, 0, EXH, "a batch up to INT64_MAX" },
	{ __LINE__, REC(LONG_, INT64_MAX - 1, 1, 1, INT64_MAX, 0), 3, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "a batch past INT64_MAX" },
	{ __LINE__, REC(LONG_, INT64_MAX, 1, 1, INT64_MAX, 0), 1, RECORD_OK, INT64_MAX, INT64_MAX, 0,
	  EXH, "INT64_MAX itself" },
	{ __LINE__, REC(LONG_, INT64_MAX - 5, 10, 1, INT64_MAX, 0), 1, RECORD_OK, INT64_MAX - 5,
	  INT64_MAX - 5, 0, EXH, "the next step would overflow" },
	{ __LINE__, REC(LONG_, 1, INT64_MAX, 1, INT64_MAX, 0), 2, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "increment INT64_MAX, two values" },
	{ __LINE__, REC(LONG_, 1, 1, 1, INT64_MAX, 0), (uint64_t)INT64_MAX, RECORD_OK, 1, INT64_MAX,
	  0, EXH, "a batch of INT64_MAX values takes the whole range" },
	{ __LINE__, REC(LONG_, 2, 1, 1, INT64_MAX, 0), (uint64_t)INT64_MAX, RECORD_EXHAUSTED, 0, 0, 0,
	  0, "a batch of INT64_MAX values from 2" },
	{ __LINE__, REC(LONG_, 1, 2, 1, INT64_MAX, 0), TWO62, RECORD_OK, 1, INT64_MAX, 0, EXH,
	  "2^62 values by 2 end exactly on INT64_MAX" },
	{ __LINE__, REC(LONG_, 1, 2, 1, INT64_MAX, 0), TWO62 + 1, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "2^62 + 1 values by 2 overflow the span" },
	{ __LINE__, REC(LONG_, 1, 4, 1, INT64_MAX, 0), UINT64_MAX / 2, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "a huge batch overflows the span" },
	{ __LINE__, REC(LONG_, 2, -1, 1, INT64_MAX, 0), 2, RECORD_OK, 2, 1, 0, EXH,
	  "down to the type's minimum, 1" },
	{ __LINE__, REC(LONG_, 1, -1, 1, INT64_MAX, CYCLE), 1, RECORD_OK, 1, 1, INT64_MAX, CYCLE,
	  "down past 1 wraps to INT64_MAX" },
	{ __LINE__, REC(LONG_, INT64_MAX, INT64_MIN, 1, INT64_MAX, 0), 1, RECORD_OK, INT64_MAX,
	  INT64_MAX, 0, EXH, "increment INT64_MIN from the top: one value, then exhausted" },
	{ __LINE__, REC(LONG_, INT64_MAX, INT64_MIN, 1, INT64_MAX, 0), 2, RECORD_EXHAUSTED, 0, 0, 0,
	  0, "increment INT64_MIN: a second value would be negative" },
	{ __LINE__, REC(LONG_, 1, INT64_MAX, 1, INT64_MAX, 0), 1, RECORD_OK, 1, 1, 0, EXH,
	  "increment INT64_MAX from 1: the next value would pass 2^63-1" },
	{ __LINE__, REC(LONG_, 1, INT64_MAX, 1, INT64_MAX, 0), 3, RECORD_EXHAUSTED, 0, 0, 0, 0,
	  "a span past 2^64 is computed without wrapping" },

	/* refused requests */
	{ __LINE__, REC(LONG_, 1, 1, 1, INT64_MAX, 0), 0, -1, 0, 0, 0, 0, "count 0" },
	{ __LINE__, REC(LONG_, 1, 1, 1, INT64_MAX, 0), (uint64_t)INT64_MAX + 1, -1, 0, 0, 0, 0,
	  "count 2^63" },
	{ __LINE__, REC(LONG_, 1, 1, 1, INT64_MAX, 0), UINT64_MAX, -1, 0, 0, 0, 0,
	  "count UINT64_MAX" },
	{ __LINE__, REC(RECORD_TYPE_UUID8, 0, 0, 0, 0, 0), 1, -1, 0, 0, 0, 0,
	  "a uuid type has no counter" },
};

START_TEST(test_advance)
{
	const struct advance_row *row = &advance_rows[_i];
	struct seq_record rec = row->rec, want = row->rec;
	const int64_t sentinel = 0x5a5a5a5a;
	int64_t first = sentinel, last = sentinel;
	char diff[128];
	const char *d;
	int rc = record_advance(&rec, row->count, &first, &last);

	if (row->rc != RECORD_OK) {
		if (row->rc < 0)
			ck_assert_msg(rc != RECORD_OK, "line %d: %s: accepted", row->line, row->desc);
		else
			ck_assert_msg(rc == row->rc, "line %d: %s: rc %d, want %d", row->line,
			              row->desc, rc, row->rc);
		d = record_diff(&rec, &want, diff, sizeof(diff));
		ck_assert_msg(d == NULL, "line %d: %s: record changed: %s", row->line, row->desc, d);
		return;
	}
	ck_assert_msg(rc == RECORD_OK, "line %d: %s: rc %d, want RECORD_OK", row->line, row->desc,
	              rc);
	ck_assert_msg(first == row->first && last == row->last,
	              "line %d: %s: got [%" PRId64 ", %" PRId64 "], want [%" PRId64 ", %" PRId64 "]",
	              row->line, row->desc, first, last, row->first, row->last);
	ck_assert_msg(rec.flags == row->flags, "line %d: %s: flags 0x%x, want 0x%x", row->line,
	              row->desc, rec.flags, row->flags);
	if (!(row->flags & EXH))
		ck_assert_msg(rec.next == row->next, "line %d: %s: next %" PRId64 ", want %" PRId64,
		              row->line, row->desc, rec.next, row->next);
	/* Nothing else moves. */
	want.next = rec.next;
	want.flags = rec.flags;
	d = record_diff(&rec, &want, diff, sizeof(diff));
	ck_assert_msg(d == NULL, "line %d: %s: %s", row->line, row->desc, d);
	/* What advance leaves behind is still a valid record. */
	ck_assert_msg(record_check(&rec) == RECORD_OK, "line %d: %s: record_check fails after",
	              row->line, row->desc);
}
END_TEST

/* Walk a small cycling range many times: every value in order, wrapping forever. */
START_TEST(test_advance_walk)
{
	struct seq_record rec = REC(INT_, 3, 2, 3, 11, CYCLE);
	int64_t first, last;

	for (int i = 0; i < 100; i++) {
		int64_t want = 3 + 2 * (i % 5);

		ck_assert_int_eq(record_advance(&rec, 1, &first, &last), RECORD_OK);
		ck_assert_msg(first == want && last == want,
		              "step %d: got %" PRId64 ", want %" PRId64, i, first, want);
	}
	rec = (struct seq_record)REC(INT_, 1, 1, 1, 1000, 0);
	for (int64_t i = 1; i <= 1000; i += 10) {
		ck_assert_int_eq(record_advance(&rec, 10, &first, &last), RECORD_OK);
		ck_assert_msg(first == i && last == i + 9, "batch at %" PRId64, i);
	}
	ck_assert_int_eq(rec.flags, EXH);
	ck_assert_int_eq(record_advance(&rec, 1, &first, &last), RECORD_EXHAUSTED);
}
END_TEST

/*
 * record_apply. A row creates (exists 0, from a record full of garbage) or changes `before`, and
 * gives RECORD_OK with the record expected after, or RECORD_BAD_FIELD with the sentence *why must
 * be. created is kept on a change and set on a create; updated is always APPLY_NOW. A record of a
 * random-id type is compared by type only: its counter fields mean nothing.
 */
#define APPLY_THEN 1000
#define APPLY_NOW 2000
#define INT32_MAX_PLUS_1 ((int64_t)INT32_MAX + 1)
#define TWO40 ((int64_t)1 << 40)

/* A record as before (created and updated at APPLY_THEN) or as expected after. */
#define RECC(t, n, inc, lo, hi, fl, c)                                                       \
	{ .type = (t), .next = (n), .increment = (inc), .min = (lo), .max = (hi), .flags = (fl), \
	  .cache = (c), .created = APPLY_THEN, .updated = APPLY_THEN }
#define NONE REC(0, 0, 0, 0, 0, 0)

#define F_TYPE RECORD_CHANGE_TYPE
#define F_START RECORD_CHANGE_START
#define F_INC RECORD_CHANGE_INCREMENT
#define F_MIN RECORD_CHANGE_MIN
#define F_MAX RECORD_CHANGE_MAX
#define F_CYCLE RECORD_CHANGE_CYCLE
#define F_CACHE RECORD_CHANGE_CACHE
#define F_NEW_TYPE RECORD_CHANGE_NEW_TYPE

#define U8 RECORD_TYPE_UUID8
#define U12 RECORD_TYPE_UUID12
#define U16 RECORD_TYPE_UUID16
#define U22 RECORD_TYPE_UUID22

/* The sentences of record_problem() and record_apply(). */
#define WHY_TYPE "type must be int, long, uuid8, uuid12, uuid16 or uuid22."
#define WHY_INC "increment must not be 0."
#define WHY_MIN "min must be at least 1."
#define WHY_INT_MAX "max must not exceed 2147483647 for an int."
#define WHY_MIN_MAX "min must not exceed max."
#define WHY_NEXT "The next value must lie between min and max."
#define WHY_RANDOM "A random-id sequence has no next value to set."

struct apply_row {
	int line;
	int exists;
	struct seq_record before; /* when exists */
	struct record_change ch;
	int rc;
	struct seq_record after; /* on RECORD_OK */
	const char *why;         /* on RECORD_BAD_FIELD */
	const char *desc;
};

static const struct apply_row apply_rows[] = {
	/* creating: a long from 1 unless told otherwise */
	{ __LINE__, 0, NONE, { 0 }, RECORD_OK, RECC(LONG_, 1, 1, 1, INT64_MAX, 0, 0), NULL,
	  "no fields: a long from 1, every option at its default" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE, .type = INT_ }, RECORD_OK,
	  RECC(INT_, 1, 1, 1, INT32_MAX, 0, 0), NULL, "an int: max 2^31-1" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE, .type = LONG_ }, RECORD_OK,
	  RECC(LONG_, 1, 1, 1, INT64_MAX, 0, 0), NULL, "a long, said explicitly" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE, .type = U8 }, RECORD_OK, RECC(U8, 0, 0, 0, 0, 0, 0),
	  NULL, "a uuid8" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE, .type = U12 }, RECORD_OK,
	  RECC(U12, 0, 0, 0, 0, 0, 0), NULL, "a uuid12" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE, .type = U16 }, RECORD_OK,
	  RECC(U16, 0, 0, 0, 0, 0, 0), NULL, "a uuid16" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE, .type = U22 }, RECORD_OK,
	  RECC(U22, 0, 0, 0, 0, 0, 0), NULL, "a uuid22" },
	{ __LINE__, 0, NONE, { .fields = F_START, .start = 100 }, RECORD_OK,
	  RECC(LONG_, 100, 1, 1, INT64_MAX, 0, 0), NULL, "a start" },
	{ __LINE__, 0, NONE, { .fields = F_START, .start = INT64_MAX }, RECORD_OK,
	  RECC(LONG_, INT64_MAX, 1, 1, INT64_MAX, 0, 0), NULL, "a start at the long maximum" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE | F_START, .type = INT_, .start = INT32_MAX },
	  RECORD_OK, RECC(INT_, INT32_MAX, 1, 1, INT32_MAX, 0, 0), NULL,
	  "an int starting at its maximum" },
	{ __LINE__, 0, NONE, { .fields = F_INC, .increment = 5 }, RECORD_OK,
	  RECC(LONG_, 1, 5, 1, INT64_MAX, 0, 0), NULL, "an increment: still starts at min" },
	{ __LINE__, 0, NONE, { .fields = F_INC, .increment = -1 }, RECORD_OK,
	  RECC(LONG_, INT64_MAX, -1, 1, INT64_MAX, 0, 0), NULL, "counting down starts at max" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE | F_INC, .type = INT_, .increment = -1 }, RECORD_OK,
	  RECC(INT_, INT32_MAX, -1, 1, INT32_MAX, 0, 0), NULL,
	  "an int counting down starts at 2^31-1" },
	{ __LINE__, 0, NONE, { .fields = F_INC | F_MIN | F_MAX, .increment = -2, .min = 5, .max = 20 },
	  RECORD_OK, RECC(LONG_, 20, -2, 5, 20, 0, 0), NULL,
	  "counting down starts at a given max" },
	{ __LINE__, 0, NONE, { .fields = F_INC | F_START, .increment = -1, .start = 5 }, RECORD_OK,
	  RECC(LONG_, 5, -1, 1, INT64_MAX, 0, 0), NULL, "counting down from a given start" },
	{ __LINE__, 0, NONE, { .fields = F_MIN, .min = 10 }, RECORD_OK,
	  RECC(LONG_, 10, 1, 10, INT64_MAX, 0, 0), NULL, "a min: starts there" },
	{ __LINE__, 0, NONE, { .fields = F_MAX, .max = 100 }, RECORD_OK,
	  RECC(LONG_, 1, 1, 1, 100, 0, 0), NULL, "a max" },
	{ __LINE__, 0, NONE, { .fields = F_MIN | F_MAX, .min = 7, .max = 7 }, RECORD_OK,
	  RECC(LONG_, 7, 1, 7, 7, 0, 0), NULL, "min == max: one value" },
	{ __LINE__, 0, NONE,
	  { .fields = F_MIN | F_MAX | F_START, .min = 10, .max = 20, .start = 15 }, RECORD_OK,
	  RECC(LONG_, 15, 1, 10, 20, 0, 0), NULL, "a start between min and max" },
	{ __LINE__, 0, NONE, { .fields = F_CYCLE, .cycle = 1 }, RECORD_OK,
	  RECC(LONG_, 1, 1, 1, INT64_MAX, CYCLE, 0), NULL, "cycle on" },
	{ __LINE__, 0, NONE, { .fields = F_CYCLE, .cycle = 0 }, RECORD_OK,
	  RECC(LONG_, 1, 1, 1, INT64_MAX, 0, 0), NULL, "cycle off" },
	{ __LINE__, 0, NONE, { .fields = F_CACHE, .cache = 1000 }, RECORD_OK,
	  RECC(LONG_, 1, 1, 1, INT64_MAX, 0, 1000), NULL, "a cache" },
	{ __LINE__, 0, NONE, { .fields = F_CACHE, .cache = 1000000 }, RECORD_OK,
	  RECC(LONG_, 1, 1, 1, INT64_MAX, 0, 1000000), NULL, "a cache of a million" },
	{ __LINE__, 0, NONE,
	  { .fields = F_TYPE | F_START | F_INC | F_MIN | F_MAX | F_CYCLE | F_CACHE, .type = INT_,
	    .start = 8, .increment = 3, .min = 2, .max = 50, .cycle = 1, .cache = 9 },
	  RECORD_OK, RECC(INT_, 8, 3, 2, 50, CYCLE, 9), NULL, "every field at once" },
	{ __LINE__, 0, NONE, { .fields = F_NEW_TYPE | F_START, .type = INT_, .start = 1000 },
	  RECORD_OK, RECC(INT_, 1000, 1, 1, INT32_MAX, 0, 0), NULL,
	  "a type for a new record only: an int" },

	/* creating: refusals */
	{ __LINE__, 0, NONE, { .fields = F_TYPE, .type = 0 }, RECORD_BAD_FIELD, NONE, WHY_TYPE,
	  "type 0" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE, .type = 7 }, RECORD_BAD_FIELD, NONE, WHY_TYPE,
	  "type 7" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE, .type = 255 }, RECORD_BAD_FIELD, NONE, WHY_TYPE,
	  "type 255" },
	{ __LINE__, 0, NONE, { .fields = F_NEW_TYPE, .type = 7 }, RECORD_BAD_FIELD, NONE, WHY_TYPE,
	  "type 7 for a new record only" },
	{ __LINE__, 0, NONE, { .fields = F_NEW_TYPE | F_START, .type = INT_, .start = INT32_MAX_PLUS_1 },
	  RECORD_BAD_FIELD, NONE, WHY_NEXT, "a start no int holds, for a new int" },
	{ __LINE__, 0, NONE, { .fields = F_INC, .increment = 0 }, RECORD_BAD_FIELD, NONE, WHY_INC,
	  "increment 0" },
	{ __LINE__, 0, NONE, { .fields = F_MIN, .min = 0 }, RECORD_BAD_FIELD, NONE, WHY_MIN,
	  "min 0" },
	{ __LINE__, 0, NONE, { .fields = F_MIN, .min = INT64_MIN }, RECORD_BAD_FIELD, NONE, WHY_MIN,
	  "min INT64_MIN" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE | F_MAX, .type = INT_, .max = INT32_MAX_PLUS_1 },
	  RECORD_BAD_FIELD, NONE, WHY_INT_MAX, "an int's max of 2^31" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE | F_MAX, .type = INT_, .max = INT64_MAX },
	  RECORD_BAD_FIELD, NONE, WHY_INT_MAX, "an int's max of 2^63-1" },
	{ __LINE__, 0, NONE, { .fields = F_MIN | F_MAX, .min = 10, .max = 5 }, RECORD_BAD_FIELD,
	  NONE, WHY_MIN_MAX, "min above max" },
	{ __LINE__, 0, NONE, { .fields = F_MAX, .max = 0 }, RECORD_BAD_FIELD, NONE, WHY_MIN_MAX,
	  "max 0, under the default min" },
	{ __LINE__, 0, NONE, { .fields = F_START, .start = 0 }, RECORD_BAD_FIELD, NONE, WHY_NEXT,
	  "start 0" },
	{ __LINE__, 0, NONE, { .fields = F_START | F_MAX, .start = 11, .max = 10 }, RECORD_BAD_FIELD,
	  NONE, WHY_NEXT, "a start above max" },
	{ __LINE__, 0, NONE, { .fields = F_START | F_MIN, .start = 4, .min = 5 }, RECORD_BAD_FIELD,
	  NONE, WHY_NEXT, "a start below min" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE | F_START, .type = INT_, .start = INT32_MAX_PLUS_1 },
	  RECORD_BAD_FIELD, NONE, WHY_NEXT, "an int starting past 2^31-1" },
	{ __LINE__, 0, NONE, { .fields = F_TYPE | F_START, .type = U8, .start = 5 },
	  RECORD_BAD_FIELD, NONE, WHY_RANDOM, "a start on a new uuid8" },

	/* changing one field */
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { 0 }, RECORD_OK,
	  RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), NULL, "no fields: only updated moves" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_INC, .increment = 2 },
	  RECORD_OK, RECC(LONG_, 5, 2, 1, INT64_MAX, 0, 0), NULL,
	  "an increment keeps the next value" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_INC, .increment = -1 },
	  RECORD_OK, RECC(LONG_, 5, -1, 1, INT64_MAX, 0, 0), NULL,
	  "turning to count down keeps the next value" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_MIN, .min = 3 },
	  RECORD_OK, RECC(LONG_, 5, 1, 3, INT64_MAX, 0, 0), NULL, "a min under the next value" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_MIN, .min = 5 },
	  RECORD_OK, RECC(LONG_, 5, 1, 5, INT64_MAX, 0, 0), NULL, "a min at the next value" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_MAX, .max = 100 },
	  RECORD_OK, RECC(LONG_, 5, 1, 1, 100, 0, 0), NULL, "a max" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_MAX, .max = 5 },
	  RECORD_OK, RECC(LONG_, 5, 1, 1, 5, 0, 0), NULL, "a max at the next value" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_CYCLE, .cycle = 1 },
	  RECORD_OK, RECC(LONG_, 5, 1, 1, INT64_MAX, CYCLE, 0), NULL, "cycle on" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, 10, CYCLE, 0), { .fields = F_CYCLE, .cycle = 0 },
	  RECORD_OK, RECC(LONG_, 5, 1, 1, 10, 0, 0), NULL, "cycle off" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, 10, CYCLE, 7), { .fields = F_CACHE, .cache = 0 },
	  RECORD_OK, RECC(LONG_, 5, 1, 1, 10, CYCLE, 0), NULL, "cache to 0, cycle untouched" },
	{ __LINE__, 1, RECC(INT_, 5, 1, 1, INT32_MAX, 0, 0), { .fields = F_CACHE, .cache = 50 },
	  RECORD_OK, RECC(INT_, 5, 1, 1, INT32_MAX, 0, 50), NULL, "a cache" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_START, .start = 3 },
	  RECORD_OK, RECC(LONG_, 3, 1, 1, INT64_MAX, 0, 0), NULL,
	  "a start sets the next value, backwards too" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_START, .start = 1000000 },
	  RECORD_OK, RECC(LONG_, 1000000, 1, 1, INT64_MAX, 0, 0), NULL,
	  "a start sets the next value forwards" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0),
	  { .fields = F_START | F_MAX, .start = 50, .max = 50 }, RECORD_OK,
	  RECC(LONG_, 50, 1, 1, 50, 0, 0), NULL, "a start and a max together" },

	/* exhausted records: next holds the last value issued */
	{ __LINE__, 1, RECC(INT_, 10, 1, 1, 10, EXH, 0), { .fields = F_START, .start = 4 },
	  RECORD_OK, RECC(INT_, 4, 1, 1, 10, 0, 0), NULL, "a start clears exhausted" },
	{ __LINE__, 1, RECC(INT_, 10, 1, 1, 10, EXH, 0), { .fields = F_START, .start = 10 },
	  RECORD_OK, RECC(INT_, 10, 1, 1, 10, 0, 0), NULL,
	  "a start at the last value clears exhausted: it may be issued again" },
	{ __LINE__, 1, RECC(INT_, 105, 2, 1, 105, EXH, 0), { .fields = F_MAX, .max = 200 },
	  RECORD_OK, RECC(INT_, 107, 2, 1, 200, 0, 0), NULL,
	  "raising max resumes right after the last value" },
	{ __LINE__, 1, RECC(INT_, 105, 2, 1, 105, EXH, 0), { .fields = F_MAX, .max = 107 },
	  RECORD_OK, RECC(INT_, 107, 2, 1, 107, 0, 0), NULL,
	  "raising max by exactly one step resumes" },
	{ __LINE__, 1, RECC(INT_, 105, 10, 1, 105, EXH, 0), { .fields = F_MAX, .max = 110 },
	  RECORD_OK, RECC(INT_, 105, 10, 1, 110, EXH, 0), NULL,
	  "raising max by less than a step leaves it exhausted" },
	{ __LINE__, 1, RECC(INT_, 105, 10, 1, 105, EXH, 0),
	  { .fields = F_MAX | F_INC, .max = 110, .increment = 5 }, RECORD_OK,
	  RECC(INT_, 110, 5, 1, 110, 0, 0), NULL, "a smaller step and a higher max resume" },
	{ __LINE__, 1, RECC(LONG_, 5, -1, 5, 10, EXH, 0), { .fields = F_MIN, .min = 2 }, RECORD_OK,
	  RECC(LONG_, 4, -1, 2, 10, 0, 0), NULL,
	  "counting down: lowering min resumes right under the last value" },
	{ __LINE__, 1, RECC(INT_, 10, 1, 1, 10, EXH, 0), { .fields = F_CACHE, .cache = 3 },
	  RECORD_OK, RECC(INT_, 10, 1, 1, 10, EXH, 3), NULL,
	  "another change leaves it exhausted" },
	{ __LINE__, 1, RECC(INT_, INT32_MAX, 1, 1, INT32_MAX, EXH, 0),
	  { .fields = F_TYPE, .type = LONG_ }, RECORD_OK,
	  RECC(LONG_, INT32_MAX_PLUS_1, 1, 1, INT64_MAX, 0, 0), NULL,
	  "an exhausted int turned long resumes at 2^31" },
	{ __LINE__, 1, RECC(INT_, 10, 1, 1, 10, EXH, 0), { .fields = F_CYCLE, .cycle = 1 },
	  RECORD_OK, RECC(INT_, 1, 1, 1, 10, CYCLE, 0), NULL,
	  "turning cycle on for an exhausted sequence goes round to min" },
	{ __LINE__, 1, RECC(LONG_, 3, -1, 3, 10, EXH, 0), { .fields = F_CYCLE, .cycle = 1 },
	  RECORD_OK, RECC(LONG_, 10, -1, 3, 10, CYCLE, 0), NULL,
	  "counting down, turning cycle on goes round to max" },
	{ __LINE__, 1, RECC(INT_, 105, 2, 1, 105, EXH, 0),
	  { .fields = F_CYCLE | F_MAX, .cycle = 1, .max = 200 }, RECORD_OK,
	  RECC(INT_, 107, 2, 1, 200, CYCLE, 0), NULL,
	  "cycle and a raised max together resume after the last value first" },

	/* changing the type */
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0),
	  { .fields = F_NEW_TYPE | F_START, .type = INT_, .start = 9 }, RECORD_OK,
	  RECC(LONG_, 9, 1, 1, INT64_MAX, 0, 0), NULL, "a type for a new record leaves a long be" },
	{ __LINE__, 1, RECC(U8, 0, 0, 0, 0, 0, 0), { .fields = F_NEW_TYPE, .type = INT_ },
	  RECORD_OK, RECC(U8, 0, 0, 0, 0, 0, 0), NULL, "a type for a new record leaves a uuid8 be" },
	{ __LINE__, 1, RECC(LONG_, 5, 2, 1, 100, CYCLE, 3), { .fields = F_TYPE, .type = U16 },
	  RECORD_OK, RECC(U16, 0, 0, 0, 0, 0, 0), NULL, "long to uuid16 drops the counter" },
	{ __LINE__, 1, RECC(INT_, 10, 1, 1, 10, EXH, 0), { .fields = F_TYPE, .type = U8 },
	  RECORD_OK, RECC(U8, 0, 0, 0, 0, 0, 0), NULL, "an exhausted int to uuid8" },
	{ __LINE__, 1, RECC(U8, 0, 0, 0, 0, 0, 0), { .fields = F_TYPE, .type = U22 }, RECORD_OK,
	  RECC(U22, 0, 0, 0, 0, 0, 0), NULL, "uuid8 to uuid22" },
	{ __LINE__, 1, RECC(U8, 0, 0, 0, 0, 0, 0), { .fields = F_TYPE, .type = INT_ }, RECORD_OK,
	  RECC(INT_, 1, 1, 1, INT32_MAX, 0, 0), NULL, "uuid8 to int starts at 1" },
	{ __LINE__, 1, RECC(U12, 0, 0, 0, 0, 0, 0), { .fields = F_TYPE, .type = LONG_ }, RECORD_OK,
	  RECC(LONG_, 1, 1, 1, INT64_MAX, 0, 0), NULL, "uuid12 to long starts at 1" },
	{ __LINE__, 1, RECC(U16, 0, 0, 0, 0, 0, 0), { .fields = F_TYPE | F_START, .type = LONG_,
	  .start = 2000 }, RECORD_OK, RECC(LONG_, 2000, 1, 1, INT64_MAX, 0, 0), NULL,
	  "uuid16 to long at a start" },
	{ __LINE__, 1, RECC(U22, 0, 0, 0, 0, 0, 0),
	  { .fields = F_TYPE | F_MIN | F_MAX, .type = INT_, .min = 100, .max = 200 }, RECORD_OK,
	  RECC(INT_, 100, 1, 100, 200, 0, 0), NULL, "uuid22 to int starts at a given min" },
	{ __LINE__, 1, RECC(U8, 0, 0, 0, 0, 0, 0),
	  { .fields = F_TYPE | F_INC, .type = INT_, .increment = -1 }, RECORD_OK,
	  RECC(INT_, INT32_MAX, -1, 1, INT32_MAX, 0, 0), NULL,
	  "uuid8 to an int counting down starts at its max" },
	{ __LINE__, 1, RECC(INT_, 7, 1, 1, INT32_MAX, 0, 0), { .fields = F_TYPE, .type = LONG_ },
	  RECORD_OK, RECC(LONG_, 7, 1, 1, INT64_MAX, 0, 0), NULL,
	  "int to long keeps next; the default max becomes the long's" },
	{ __LINE__, 1, RECC(INT_, 7, 3, 2, 100, CYCLE, 4), { .fields = F_TYPE, .type = LONG_ },
	  RECORD_OK, RECC(LONG_, 7, 3, 2, 100, CYCLE, 4), NULL,
	  "int to long keeps a configured max and every option" },
	{ __LINE__, 1, RECC(INT_, 7, 1, 1, INT32_MAX, 0, 0),
	  { .fields = F_TYPE | F_MAX, .type = LONG_, .max = TWO40 }, RECORD_OK,
	  RECC(LONG_, 7, 1, 1, TWO40, 0, 0), NULL, "int to long with a new max" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_TYPE, .type = INT_ },
	  RECORD_OK, RECC(INT_, 5, 1, 1, INT32_MAX, 0, 0), NULL,
	  "long to int keeps next; the default max becomes the int's" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, 1000, 0, 0), { .fields = F_TYPE, .type = INT_ },
	  RECORD_OK, RECC(INT_, 5, 1, 1, 1000, 0, 0), NULL, "long to int keeps a max that fits" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, TWO40, 0, 0), { .fields = F_TYPE, .type = INT_ },
	  RECORD_OK, RECC(INT_, 5, 1, 1, INT32_MAX, 0, 0), NULL,
	  "long to int lowers a max past 2^31-1" },
	{ __LINE__, 1, RECC(LONG_, INT32_MAX, 1, 1, INT64_MAX, 0, 0),
	  { .fields = F_TYPE, .type = INT_ }, RECORD_OK,
	  RECC(INT_, INT32_MAX, 1, 1, INT32_MAX, 0, 0), NULL, "long to int with next 2^31-1" },
	{ __LINE__, 1, RECC(LONG_, TWO40, 1, 1, INT64_MAX, 0, 0),
	  { .fields = F_TYPE | F_START, .type = INT_, .start = 5 }, RECORD_OK,
	  RECC(INT_, 5, 1, 1, INT32_MAX, 0, 0), NULL, "long to int with a start that fits" },
	{ __LINE__, 1, RECC(INT_, 5, 1, 1, INT32_MAX, 0, 0), { .fields = F_TYPE, .type = INT_ },
	  RECORD_OK, RECC(INT_, 5, 1, 1, INT32_MAX, 0, 0), NULL, "the same type changes nothing" },

	/* changing: refusals */
	{ __LINE__, 1, RECC(LONG_, INT32_MAX_PLUS_1, 1, 1, INT64_MAX, 0, 0),
	  { .fields = F_TYPE, .type = INT_ }, RECORD_BAD_FIELD, NONE, WHY_NEXT,
	  "long to int with next 2^31" },
	{ __LINE__, 1, RECC(LONG_, TWO40, 1, TWO40, INT64_MAX, 0, 0),
	  { .fields = F_TYPE, .type = INT_ }, RECORD_BAD_FIELD, NONE, WHY_MIN_MAX,
	  "long to int with a min past 2^31-1" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_TYPE, .type = 0 },
	  RECORD_BAD_FIELD, NONE, WHY_TYPE, "type 0" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_TYPE, .type = 9 },
	  RECORD_BAD_FIELD, NONE, WHY_TYPE, "type 9" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_INC, .increment = 0 },
	  RECORD_BAD_FIELD, NONE, WHY_INC, "increment 0" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_MIN, .min = 0 },
	  RECORD_BAD_FIELD, NONE, WHY_MIN, "min 0" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_MIN, .min = 6 },
	  RECORD_BAD_FIELD, NONE, WHY_NEXT, "a min above the next value" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0), { .fields = F_MAX, .max = 4 },
	  RECORD_BAD_FIELD, NONE, WHY_NEXT, "a max under the next value" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 3, INT64_MAX, 0, 0), { .fields = F_MAX, .max = 2 },
	  RECORD_BAD_FIELD, NONE, WHY_MIN_MAX, "a max under min" },
	{ __LINE__, 1, RECC(INT_, 5, 1, 1, INT32_MAX, 0, 0),
	  { .fields = F_MAX, .max = INT32_MAX_PLUS_1 }, RECORD_BAD_FIELD, NONE, WHY_INT_MAX,
	  "an int's max raised to 2^31" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, 10, 0, 0), { .fields = F_START, .start = 11 },
	  RECORD_BAD_FIELD, NONE, WHY_NEXT, "a start above max" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, 10, 0, 0), { .fields = F_START, .start = 0 },
	  RECORD_BAD_FIELD, NONE, WHY_NEXT, "a start of 0" },
	{ __LINE__, 1, RECC(INT_, 10, 1, 1, 10, EXH, 0), { .fields = F_START, .start = 11 },
	  RECORD_BAD_FIELD, NONE, WHY_NEXT, "a start above max on an exhausted record" },
	{ __LINE__, 1, RECC(U8, 0, 0, 0, 0, 0, 0), { .fields = F_START, .start = 5 },
	  RECORD_BAD_FIELD, NONE, WHY_RANDOM, "a start on a uuid8" },
	{ __LINE__, 1, RECC(LONG_, 5, 1, 1, INT64_MAX, 0, 0),
	  { .fields = F_TYPE | F_START, .type = U16, .start = 5 }, RECORD_BAD_FIELD, NONE,
	  WHY_RANDOM, "a start with a change to uuid16" },
};

START_TEST(test_apply)
{
	const struct apply_row *row = &apply_rows[_i];
	struct seq_record rec, want = row->after;
	const char *why = "(untouched)";
	char diff[128];
	const char *d;
	int rc;

	if (row->exists)
		rec = row->before;
	else
		memset(&rec, 0x5a, sizeof(rec)); /* a new record owes nothing to what was there */
	rc = record_apply(&rec, &row->ch, row->exists, APPLY_NOW, &why);
	if (row->rc != RECORD_OK) {
		ck_assert_msg(rc == row->rc, "line %d: %s: rc %d, want %d", row->line, row->desc, rc,
		              row->rc);
		ck_assert_msg(why != NULL && strcmp(why, row->why) == 0,
		              "line %d: %s: why \"%s\", want \"%s\"", row->line, row->desc,
		              why ? why : "(null)", row->why);
		return;
	}
	ck_assert_msg(rc == RECORD_OK, "line %d: %s: rc %d (%s), want RECORD_OK", row->line,
	              row->desc, rc, rc != RECORD_OK && why ? why : "");
	ck_assert_msg(record_check(&rec) == RECORD_OK, "line %d: %s: record_check fails after",
	              row->line, row->desc);
	ck_assert_msg(rec.updated == APPLY_NOW, "line %d: %s: updated %" PRIu64, row->line,
	              row->desc, rec.updated);
	ck_assert_msg(rec.created == (row->exists ? (uint64_t)APPLY_THEN : (uint64_t)APPLY_NOW),
	              "line %d: %s: created %" PRIu64, row->line, row->desc, rec.created);
	if (record_type_max(want.type) == 0) {
		ck_assert_msg(rec.type == want.type, "line %d: %s: type %u, want %u", row->line,
		              row->desc, rec.type, want.type);
		return;
	}
	want.created = rec.created;
	want.updated = rec.updated;
	d = record_diff(&rec, &want, diff, sizeof(diff));
	ck_assert_msg(d == NULL, "line %d: %s: %s", row->line, row->desc, d);
}
END_TEST

/*
 * record_change_set: one option from a JSON value or a command line's word. A value is a text
 * (TXT), a whole number (NUM) or a truth (TRUTH); NONE is anything else (null, 1.5, an array).
 */
#define TXT(s) { (s), 0, 0, -1 }
#define NUM(n) { NULL, 1, (n), -1 }
#define TRUTH(t) { NULL, 0, 0, (t) }
#define NONE_V { NULL, 0, 0, -1 }
#define WHY_CYCLE "cycle must be true or false."
#define WHY_CACHE "cache must be a whole number from 0 to 1000000."

struct set_row {
	int line;
	const char *key;
	struct record_value v;
	int rc;
	struct record_change want; /* on RECORD_SET_OK, from a zeroed change */
	const char *why;           /* otherwise */
	const char *desc;
};

static const struct set_row set_rows[] = {
	{ __LINE__, "type", TXT("int"), RECORD_SET_OK, { .fields = F_TYPE, .type = INT_ }, NULL,
	  "a type by name" },
	{ __LINE__, "type", TXT("uuid22"), RECORD_SET_OK, { .fields = F_TYPE, .type = U22 }, NULL,
	  "a random-id type" },
	{ __LINE__, "type", TXT("Int"), RECORD_SET_INVALID, { 0 }, WHY_TYPE, "names are exact" },
	{ __LINE__, "type", NUM(1), RECORD_SET_INVALID, { 0 }, WHY_TYPE, "a number is no type" },
	{ __LINE__, "type", NONE_V, RECORD_SET_INVALID, { 0 }, WHY_TYPE, "nothing is no type" },
	{ __LINE__, "start", NUM(-5), RECORD_SET_OK, { .fields = F_START, .start = -5 }, NULL,
	  "a number, as given (the rules come with record_apply)" },
	{ __LINE__, "start", TXT("9223372036854775807"), RECORD_SET_OK,
	  { .fields = F_START, .start = INT64_MAX }, NULL, "a string of digits" },
	{ __LINE__, "increment", TXT("-9223372036854775808"), RECORD_SET_OK,
	  { .fields = F_INC, .increment = INT64_MIN }, NULL, "the smallest 64-bit number" },
	{ __LINE__, "min", NUM(INT64_MIN), RECORD_SET_OK, { .fields = F_MIN, .min = INT64_MIN },
	  NULL, "the smallest 64-bit number, as a number" },
	{ __LINE__, "max", TXT("9223372036854775808"), RECORD_SET_NUMBER, { 0 }, "is too large",
	  "past 64 bits" },
	{ __LINE__, "max", TXT("1e3"), RECORD_SET_NUMBER, { 0 }, "is not a number",
	  "an exponent" },
	{ __LINE__, "start", TXT(""), RECORD_SET_NUMBER, { 0 }, "is not a number", "empty" },
	{ __LINE__, "start", TRUTH(1), RECORD_SET_NUMBER, { 0 }, "is not a number", "a truth" },
	{ __LINE__, "increment", NONE_V, RECORD_SET_NUMBER, { 0 }, "is not a number",
	  "nothing" },
	{ __LINE__, "cycle", TRUTH(1), RECORD_SET_OK, { .fields = F_CYCLE, .cycle = 1 }, NULL,
	  "cycle on" },
	{ __LINE__, "cycle", TRUTH(0), RECORD_SET_OK, { .fields = F_CYCLE, .cycle = 0 }, NULL,
	  "cycle off" },
	{ __LINE__, "cycle", TXT("true"), RECORD_SET_INVALID, { 0 }, WHY_CYCLE,
	  "a string is no truth" },
	{ __LINE__, "cycle", NUM(1), RECORD_SET_INVALID, { 0 }, WHY_CYCLE, "nor a number" },
	{ __LINE__, "cache", NUM(0), RECORD_SET_OK, { .fields = F_CACHE, .cache = 0 }, NULL,
	  "no cache" },
	{ __LINE__, "cache", TXT("1000000"), RECORD_SET_OK,
	  { .fields = F_CACHE, .cache = RECORD_CACHE_MAX }, NULL, "the largest cache, as digits" },
	{ __LINE__, "cache", NUM(1000001), RECORD_SET_INVALID, { 0 }, WHY_CACHE, "one more" },
	{ __LINE__, "cache", NUM(-1), RECORD_SET_INVALID, { 0 }, WHY_CACHE, "negative" },
	{ __LINE__, "cache", TXT("-1"), RECORD_SET_INVALID, { 0 }, WHY_CACHE,
	  "negative, as a string" },
	{ __LINE__, "cache", TXT("x"), RECORD_SET_INVALID, { 0 }, WHY_CACHE, "not a number" },
	{ __LINE__, "cache", TRUTH(0), RECORD_SET_INVALID, { 0 }, WHY_CACHE, "a truth" },
	{ __LINE__, "next", NUM(1), RECORD_SET_UNKNOWN, { 0 }, NULL,
	  "next is the admin's and import's word for start, not an option" },
	{ __LINE__, "Type", TXT("int"), RECORD_SET_UNKNOWN, { 0 }, NULL, "keys are exact" },
	{ __LINE__, "", NUM(1), RECORD_SET_UNKNOWN, { 0 }, NULL, "an empty key" },
};

START_TEST(test_change_set)
{
	const struct set_row *row = &set_rows[_i];
	struct record_change ch = { 0 };
	const char *why = NULL;
	int rc = record_change_set(&ch, row->key, &row->v, &why);

	ck_assert_msg(rc == row->rc, "line %d: %s: rc %d, want %d", row->line, row->desc, rc,
	              row->rc);
	if (rc != RECORD_SET_OK) {
		ck_assert_msg(ch.fields == 0, "line %d: %s: fields 0x%x set on a refusal", row->line,
		              row->desc, ch.fields);
		if (row->why)
			ck_assert_msg(why && strcmp(why, row->why) == 0,
			              "line %d: %s: why \"%s\", want \"%s\"", row->line, row->desc,
			              why ? why : "(null)", row->why);
		return;
	}
	ck_assert_msg(ch.fields == row->want.fields && ch.type == row->want.type &&
	              ch.start == row->want.start && ch.increment == row->want.increment &&
	              ch.min == row->want.min && ch.max == row->want.max &&
	              ch.cycle == row->want.cycle && ch.cache == row->want.cache,
	              "line %d: %s: fields 0x%x, want 0x%x", row->line, row->desc, ch.fields,
	              row->want.fields);
}
END_TEST

/* Every option named in record_option_names is one record_change_set takes, and sets its own
 * field bit: the admin API lists its fields from the same array. */
START_TEST(test_change_set_names)
{
	unsigned seen = 0;

	for (size_t k = 0; k < RECORD_OPTIONS; k++) {
		const char *name = record_option_names[k], *why;
		const struct record_value v = strcmp(name, "type") == 0    ? (struct record_value)TXT("int")
		                              : strcmp(name, "cycle") == 0 ? (struct record_value)TRUTH(1)
		                                                           : (struct record_value)TXT("1");
		struct record_change ch = { 0 };

		ck_assert_msg(record_change_set(&ch, name, &v, &why) == RECORD_SET_OK, "%s", name);
		ck_assert_msg(ch.fields != 0 && (ch.fields & (ch.fields - 1)) == 0 &&
		              !(seen & ch.fields), "%s: fields 0x%x", name, ch.fields);
		seen |= ch.fields;
	}
	ck_assert_uint_eq(seen, RECORD_CHANGE_TYPE | RECORD_CHANGE_START | RECORD_CHANGE_INCREMENT |
	                  RECORD_CHANGE_MIN | RECORD_CHANGE_MAX | RECORD_CHANGE_CYCLE |
	                  RECORD_CHANGE_CACHE);
}
END_TEST

/*
 * Durability reserve: record_reserve keeps the reservation ahead of the last value issued (and
 * says when it moved, so the commit must be synced); record_skip_reservation moves a counter past
 * its reservation after an unclean stop.
 */
struct reserve_row {
	int line;
	struct seq_record before;
	int64_t last, size;
	int want_rc;
	int64_t want_reserved;
	const char *desc;
};

static const struct reserve_row reserve_rows[] = {
	{ __LINE__, REC(LONG_, 2, 1, 1, INT64_MAX, 0), 1, 100, 1, 101, "none yet: reserve 100 ahead" },
	{ __LINE__, { .type = LONG_, .next = 6, .increment = 1, .min = 1, .max = INT64_MAX,
	              .reserved = 101 }, 5, 100, 0, 101, "covered: no synced commit" },
	{ __LINE__, { .type = LONG_, .next = 102, .increment = 1, .min = 1, .max = INT64_MAX,
	              .reserved = 101 }, 101, 100, 0, 101, "exactly at the reservation" },
	{ __LINE__, { .type = LONG_, .next = 103, .increment = 1, .min = 1, .max = INT64_MAX,
	              .reserved = 101 }, 102, 100, 1, 202, "past it: move 100 ahead" },
	{ __LINE__, REC(LONG_, 11, 5, 1, INT64_MAX, 0), 6, 10, 1, 56, "steps of 5" },
	{ __LINE__, REC(INT_, 2, 1, 1, 50, 0), 1, 100, 1, 50, "clamped to max" },
	{ __LINE__, REC(LONG_, 99, -1, 1, 100, 0), 100, 10, 1, 90, "counting down" },
	{ __LINE__, REC(LONG_, 4, -1, 1, 100, 0), 5, 10, 1, 1, "counting down, clamped to min" },
	{ __LINE__, REC(LONG_, INT64_MAX - 1, 1, 1, INT64_MAX, 0), INT64_MAX - 2, INT64_MAX, 1,
	  INT64_MAX, "a size that overflows is clamped" },
	{ __LINE__, REC(LONG_, 2, 1, 1, 10, CYCLE), 1, 100, 0, 0, "a cycling sequence keeps none" },
};

START_TEST(test_reserve)
{
	const struct reserve_row *row = &reserve_rows[_i];
	struct seq_record rec = row->before;
	int rc = record_reserve(&rec, row->last, row->size);

	ck_assert_msg(rc == row->want_rc && rec.reserved == row->want_reserved,
	              "line %d: %s: rc %d reserved %lld, want %d %lld", row->line, row->desc, rc,
	              (long long)rec.reserved, row->want_rc, (long long)row->want_reserved);
}
END_TEST

struct skip_row {
	int line;
	struct seq_record before;
	int want_rc;
	int64_t want_next;
	uint16_t want_flags;
	const char *desc;
};

#define RES(n, inc, lo, hi, fl, r)                                                            \
	{ .type = LONG_, .next = (n), .increment = (inc), .min = (lo), .max = (hi), .flags = (fl), \
	  .reserved = (r) }

static const struct skip_row skip_rows[] = {
	{ __LINE__, RES(42, 1, 1, 1000, 0, 0), 0, 42, 0, "no reservation: nothing to skip" },
	{ __LINE__, RES(42, 1, 1, 1000, 0, 141), 1, 142, 0, "resume past the reservation" },
	{ __LINE__, RES(142, 1, 1, 1000, 0, 141), 0, 142, 0, "already there" },
	{ __LINE__, RES(500, 1, 1, 1000, 0, 141), 0, 500, 0, "never backwards" },
	{ __LINE__, RES(42, 5, 1, 1000, 0, 141), 1, 146, 0, "steps of 5" },
	{ __LINE__, RES(42, 1, 1, 100, 0, 100), 1, 100, EXH, "past max: exhausted at it" },
	{ __LINE__, RES(100, 1, 1, 100, EXH, 100), 0, 100, EXH, "already exhausted there" },
	{ __LINE__, RES(60, -1, 1, 100, 0, 50), 1, 49, 0, "counting down" },
	{ __LINE__, RES(60, -1, 1, 100, 0, 1), 1, 1, EXH, "counting down past min: exhausted" },
	{ __LINE__, RES(42, 1, 1, 1000, CYCLE, 141), 0, 42, CYCLE, "cycling: untouched" },
};

START_TEST(test_skip_reservation)
{
	const struct skip_row *row = &skip_rows[_i];
	struct seq_record rec = row->before;
	int rc = record_skip_reservation(&rec);

	ck_assert_msg(rc == row->want_rc && rec.next == row->want_next && rec.flags == row->want_flags,
	              "line %d: %s: rc %d next %lld flags %u, want %d %lld %u", row->line, row->desc,
	              rc, (long long)rec.next, rec.flags, row->want_rc, (long long)row->want_next,
	              row->want_flags);
}
END_TEST

/* record_skip: nextidctl advance, after a restore. */
struct skip_ahead_row {
	int line;
	struct seq_record before;
	uint64_t steps;
	int want_rc;
	int64_t want_next;
	uint16_t want_flags;
	const char *desc;
};

static const struct skip_ahead_row skip_ahead_rows[] = {
	{ __LINE__, RES(42, 1, 1, 1000, 0, 0), 100, 1, 142, 0, "100 ahead" },
	{ __LINE__, RES(42, 5, 1, 1000, 0, 0), 10, 1, 92, 0, "10 steps of 5" },
	{ __LINE__, RES(42, 1, 1, 141, 0, 0), 99, 1, 141, 0, "exactly to max: still open" },
	{ __LINE__, RES(42, 1, 1, 100, 0, 0), 100, 1, 100, EXH, "past max: exhausted at it" },
	{ __LINE__, RES(60, -1, 1, 100, 0, 0), 10, 1, 50, 0, "counting down" },
	{ __LINE__, RES(5, -1, 1, 100, 0, 0), 10, 1, 1, EXH, "counting down past min: exhausted" },
	{ __LINE__, RES(2, 1, 1, INT64_MAX, 0, 0), INT64_MAX, 1, INT64_MAX, EXH,
	  "2^63-1 steps from 2: exhausted, no overflow" },
	{ __LINE__, RES(1, INT64_MAX, 1, INT64_MAX, 0, 0), INT64_MAX, 1, INT64_MAX, EXH,
	  "the largest step times the largest count" },
	{ __LINE__, RES(42, 1, 1, 1000, CYCLE, 0), 100, 0, 42, CYCLE, "cycling: untouched" },
	{ __LINE__, RES(100, 1, 1, 100, EXH, 0), 100, 0, 100, EXH, "exhausted: untouched" },
	{ __LINE__, RES(42, 1, 1, 1000, 0, 0), 0, 0, 42, 0, "0 steps: untouched" },
	{ __LINE__, RES(42, 1, 1, 1000, 0, 0), (uint64_t)INT64_MAX + 1, 0, 42, 0,
	  "more than 2^63-1 steps: refused" },
	{ __LINE__, { .type = RECORD_TYPE_UUID8 }, 100, 0, 0, 0, "random ids: untouched" },
};

START_TEST(test_skip_ahead)
{
	const struct skip_ahead_row *row = &skip_ahead_rows[_i];
	struct seq_record rec = row->before;
	int rc = record_skip(&rec, row->steps);

	ck_assert_msg(rc == row->want_rc && rec.next == row->want_next && rec.flags == row->want_flags,
	              "line %d: %s: rc %d next %lld flags %u, want %d %lld %u", row->line, row->desc,
	              rc, (long long)rec.next, rec.flags, row->want_rc, (long long)row->want_next,
	              row->want_flags);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("record");
	TCase *tc = tcase_create("tables");

	UNIT_TABLE(tc, test_type_max, type_rows);
	UNIT_TABLE(tc, test_init, init_rows);
	UNIT_TABLE(tc, test_check_and_round_trip, check_rows);
	UNIT_TABLE(tc, test_decode, decode_rows);
	tcase_add_test(tc, test_layout);
	UNIT_TABLE(tc, test_advance, advance_rows);
	tcase_add_test(tc, test_advance_walk);
	UNIT_TABLE(tc, test_apply, apply_rows);
	UNIT_TABLE(tc, test_change_set, set_rows);
	tcase_add_test(tc, test_change_set_names);
	UNIT_TABLE(tc, test_reserve, reserve_rows);
	UNIT_TABLE(tc, test_skip_reservation, skip_rows);
	UNIT_TABLE(tc, test_skip_ahead, skip_ahead_rows);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
