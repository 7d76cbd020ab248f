/*
 * zone_file: zone files as hostile bytes. A small zone file is built and spoiled field by field,
 * footers are tried rule by rule (with the offsets each gives around its switches), real files
 * are truncated at every byte and corrupted at random: nothing is read outside the file (ASan
 * watches buffers of the exact size), and what is accepted answers within RFC 8536's offsets.
 */
#include "zone_file.h"
#include "unit.h"

#include <inttypes.h>

/* A string literal with its length (NUL bytes inside count). */
#define S(lit) lit, sizeof(lit) - 1

#define ZONEINFO "/usr/share/zoneinfo/"

/* ---- hostile bytes ---- */

/* A small zone file, built: version 2, a version 1 block with no data, then the 64-bit block. */
struct tzif {
	char version;
	int times;
	int64_t at[3];
	unsigned char type[3];
	int types;
	int32_t off[3];
	unsigned char isdst[3];
	const char *footer; /* between the two '\n' */
	size_t footer_len;
	int leaps; /* leap second records */
};

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static size_t tzif_header(unsigned char *p, char version, uint32_t times, uint32_t types,
                          uint32_t chars, uint32_t leaps)
{
	memset(p, 0, 44);
	memcpy(p, "TZif", 4);
	p[4] = (unsigned char)version;
	put_be(p + 20, types, 4); /* UT/local indicators */
	put_be(p + 24, types, 4); /* standard/wall indicators */
	put_be(p + 28, leaps, 4);
	put_be(p + 32, times, 4);
	put_be(p + 36, types, 4);
	put_be(p + 40, chars, 4);
	return 44;
}

/* The file into out (at least 512 bytes); returns its length. */
static size_t tzif_build(const struct tzif *z, unsigned char *out)
{
	size_t n = tzif_header(out, z->version, 0, 0, 0, 0);

	n += tzif_header(out + n, z->version, (uint32_t)z->times, (uint32_t)z->types, 4,
	                 (uint32_t)z->leaps);
	for (int i = 0; i < z->times; i++, n += 8)
		put_be(out + n, (uint64_t)z->at[i], 8);
	for (int i = 0; i < z->times; i++)
		out[n++] = z->type[i];
	for (int i = 0; i < z->types; i++, n += 6) {
		put_be(out + n, (uint32_t)z->off[i], 4);
		out[n + 4] = z->isdst[i];
		out[n + 5] = 0;
	}
	memcpy(out + n, "ABC", 4); /* the abbreviations */
	n += 4;
	for (int i = 0; i < z->leaps; i++, n += 12) { /* 2017-01-01, the 27th leap second */
		put_be(out + n, 1483228800 + 26, 8);
		put_be(out + n + 8, 27, 4);
	}
	memset(out + n, 0, 2 * (size_t)z->types); /* both kinds of indicators */
	n += 2 * (size_t)z->types;
	out[n++] = '\n';
	memcpy(out + n, z->footer, z->footer_len);
	n += z->footer_len;
	out[n++] = '\n';
	return n;
}

/* 2033-05-18T03:33:20Z and 2036-07-18T13:20:00Z; the footer takes over after the second. */
#define BASE_RULE "CET-1CEST,M3.5.0,M10.5.0/3"
static const struct tzif base_zone = {
	.version = '2', .times = 2, .at = { 2000000000, 2100000000 }, .type = { 1, 0 },
	.types = 2, .off = { 3600, 7200 }, .isdst = { 0, 1 },
	.footer = BASE_RULE, .footer_len = sizeof(BASE_RULE) - 1,
};

/* Where base_zone's bytes are (the 64-bit header starts at 44). */
enum {
	AT_V1_VERSION = 4,
	AT_MAGIC = 44,
	AT_VERSION = 48,
	AT_ISUT = 64,
	AT_ISSTD = 68,
	AT_LEAP = 72,
	AT_TIMES = 76,
	AT_TYPES = 80,
	AT_CHARS = 84,
	AT_AT0 = 88,
	AT_AT1 = 96,
	AT_TYPE0 = 104,
	AT_TT0 = 106, /* offset (4), isdst, abbreviation index */
	AT_TT1 = 112,
	AT_FOOTER = 126, /* its '\n' */
};

struct spoil_row {
	int line;
	size_t at;
	const char *bytes; /* written at `at` */
	size_t len;
	long resize; /* then the file's length changes by this (cut, or zeros added) */
	int ok;
	const char *desc;
};

static const struct spoil_row spoil_rows[] = {
	{ __LINE__, 0, S(""), 0, 1, "the base zone" },
	{ __LINE__, AT_VERSION, S("3"), 0, 1, "version 3" },
	{ __LINE__, AT_VERSION, S("4"), 0, 1, "version 4" },
	{ __LINE__, AT_V1_VERSION, S("\0"), 0, 0, "version 1 (no 64-bit block)" },
	{ __LINE__, AT_V1_VERSION, S("1"), 0, 0, "version '1'" },
	{ __LINE__, 0, S("TZiF"), 0, 0, "bad magic" },
	{ __LINE__, AT_MAGIC, S("TZIf"), 0, 0, "bad magic in the second header" },
	{ __LINE__, 20, S("\xff\xff\xff\xff"), 0, 0, "a version 1 block of 4 GB to skip" },
	{ __LINE__, 32, S("\x7f\xff\xff\xff"), 0, 0, "a version 1 block past the end" },
	{ __LINE__, AT_TYPES, S("\0\0\0\0"), 0, 0, "no time type" },
	{ __LINE__, AT_TYPES, S("\0\0\x01\x01"), 0, 0, "257 time types" },
	{ __LINE__, AT_TYPES, S("\xff\xff\xff\xff"), 0, 0, "2^32-1 time types" },
	{ __LINE__, AT_TIMES, S("\0\0\x07\xd1"), 0, 0, "2001 transitions" },
	{ __LINE__, AT_TIMES, S("\xff\xff\xff\xff"), 0, 0, "2^32-1 transitions" },
	{ __LINE__, AT_TIMES, S("\0\0\0\x03"), 0, 0, "one transition more than there is" },
	{ __LINE__, AT_CHARS, S("\xff\xff\xff\xff"), 0, 0, "4 GB of abbreviations" },
	{ __LINE__, AT_ISSTD, S("\0\0\0\x01"), -1, 0, "one standard/wall indicator of two" },
	{ __LINE__, AT_ISUT, S("\0\0\0\x03"), 1, 0, "three UT/local indicators of two" },
	{ __LINE__, AT_AT1, S("\0\0\0\0\x77\x35\x93\xff"), 0, 0, "transitions out of order" },
	{ __LINE__, AT_AT0, S("\0\0\0\0\x7d\x2b\x75\x00"), 0, 0, "two transitions at one moment" },
	{ __LINE__, AT_AT0, S("\x80\0\0\0\0\0\0\0"), 0, 1, "a transition at INT64_MIN" },
	{ __LINE__, AT_AT1, S("\x7f\xff\xff\xff\xff\xff\xff\xff"), 0, 1, "one at INT64_MAX" },
	{ __LINE__, AT_TYPE0, S("\x02"), 0, 0, "a transition to a type that is not there" },
	{ __LINE__, AT_TYPE0, S("\xff"), 0, 0, "a transition to type 255 of 2" },
	{ __LINE__, AT_TT0, S("\0\x01\x6d\xa0"), 0, 0, "an offset of +26:00" },
	{ __LINE__, AT_TT0, S("\0\x01\x6d\x9f"), 0, 1, "an offset of +25:59:59" },
	{ __LINE__, AT_TT0, S("\xff\xfe\xa0\x70"), 0, 0, "an offset of -25:00" },
	{ __LINE__, AT_TT0, S("\xff\xfe\xa0\x71"), 0, 1, "an offset of -24:59:59" },
	{ __LINE__, AT_TT0, S("\x80\0\0\0"), 0, 0, "an offset of INT32_MIN" },
	{ __LINE__, AT_TT0 + 4, S("\x02"), 0, 0, "isdst 2" },
	{ __LINE__, AT_TT1 + 5, S("\x04"), 0, 0, "an abbreviation past the abbreviations" },
	{ __LINE__, AT_FOOTER, S("x"), 0, 0, "no footer" },
	{ __LINE__, 0, S(""), -1, 0, "a footer without its last newline" },
	{ __LINE__, 0, S(""), 1, 0, "a byte after the footer" },
	{ __LINE__, AT_FOOTER + 4, S("\n"), 0, 0, "a newline inside the footer" },
	{ __LINE__, AT_FOOTER + 4, S("\0"), 0, 0, "a NUL inside the footer" },
};

static int parse_ok(const void *buf, size_t len)
{
	static char sentinel;
	struct zone_file *z = (struct zone_file *)(void *)&sentinel; /* NULL on refusal */
	int rc = zone_file_parse(buf, len, &z);

	UNIT_REQUIRE((rc == 0) == (z != NULL), "rc %d with zone %p", rc, (void *)z);
	zone_file_free(z);
	return rc == 0;
}

START_TEST(test_spoiled)
{
	struct unit_failures f = { 0 };

	for (int i = 0; i < UNIT_ROWS(spoil_rows); i++) {
		const struct spoil_row *row = &spoil_rows[i];
		unsigned char buf[600] = { 0 };
		size_t len = tzif_build(&base_zone, buf);

		memcpy(buf + row->at, row->bytes, row->len);
		len = (size_t)((long)len + row->resize);
		if (parse_ok(buf, len) != row->ok)
			unit_failed(&f, "line %d: %s: %s", row->line, row->desc,
			       row->ok ? "refused" : "accepted");
	}
	UNIT_FAILURES_NONE(&f);
}
END_TEST

/* Lengths: a file over 64 KiB is refused whatever it holds; NULL is no file. */
START_TEST(test_sizes)
{
	unsigned char buf[600] = { 0 };
	size_t len = tzif_build(&base_zone, buf);
	struct zone_file *z;
	int32_t off;

	ck_assert_int_eq(zone_file_parse(NULL, 0, &z), -1);
	ck_assert_int_eq(zone_file_parse(buf, 65537, &z), -1);
	ck_assert_int_eq(zone_file_parse(buf, len, &z), 0);
	/* the base zone: type 0 before the first transition, then the types, then the rule */
	ck_assert(zone_file_offset(z, 1999999999, &off) == 0 && off == 3600);
	ck_assert(zone_file_offset(z, 2000000000, &off) == 0 && off == 7200);
	ck_assert(zone_file_offset(z, 2099999999, &off) == 0 && off == 7200);
	ck_assert(zone_file_offset(z, 2100000000, &off) == 0 && off == 7200); /* July: CEST */
	ck_assert(zone_file_offset(z, 2120000000, &off) == 0 && off == 3600); /* March 2037 */
	ck_assert_int_eq(zone_file_offset(z, INT64_MAX, &off), -1);
	ck_assert_int_eq(zone_file_offset(NULL, 0, &off), -1);
	zone_file_free(z);
	zone_file_free(NULL);
}
END_TEST

/* A footer of 128 bytes is read, one of 129 is not: "<AAA...>0", the longest name there is. */
START_TEST(test_footer_length)
{
	char footer[130];
	struct tzif t = { .version = '2', .types = 1, .footer = footer };
	unsigned char buf[600];
	struct zone_file *z;

	for (size_t len = 126; len <= 129; len++) {
		footer[0] = '<';
		memset(footer + 1, 'A', len - 3);
		memcpy(footer + len - 2, ">0", 2);
		t.footer_len = len;
		ck_assert_msg((zone_file_parse(buf, tzif_build(&t, buf), &z) == 0) == (len <= 128),
		              "a footer of %zu bytes", len);
		zone_file_free(z);
	}
}
END_TEST

/* A zone whose times count leap seconds (zoneinfo's right/) is refused, not read 27 s off. */
START_TEST(test_leap_seconds)
{
	struct tzif t = base_zone;
	unsigned char buf[600];

	ck_assert(parse_ok(buf, tzif_build(&t, buf)));
	t.leaps = 1;
	ck_assert(!parse_ok(buf, tzif_build(&t, buf)));
}
END_TEST

/* An empty footer: after the last transition, its type stays. No transitions: type 0. */
START_TEST(test_without_rule)
{
	struct tzif t = base_zone;
	unsigned char buf[600];
	struct zone_file *z;
	int32_t off;

	t.footer_len = 0;
	ck_assert_int_eq(zone_file_parse(buf, tzif_build(&t, buf), &z), 0);
	ck_assert(zone_file_offset(z, 2200000000, &off) == 0 && off == 3600);
	zone_file_free(z);
	t.times = 0;
	t.off[0] = -12345;
	ck_assert_int_eq(zone_file_parse(buf, tzif_build(&t, buf), &z), 0);
	ck_assert(zone_file_offset(z, 2200000000, &off) == 0 && off == -12345);
	ck_assert(zone_file_offset(z, -2200000000, &off) == 0 && off == -12345);
	zone_file_free(z);
}
END_TEST

/* ---- the footer's rule ---- */

struct probe {
	int64_t t;
	int32_t off;
};

struct footer_row {
	int line;
	const char *footer;
	size_t len;
	int ok;
	struct probe probe[4]; /* t 0 ends the list */
	const char *desc;
};

static const struct footer_row footer_rows[] = {
	{ __LINE__, S("CET-1CEST,M3.5.0,M10.5.0/3"), 1,
	  { { 2216249999, 3600 }, { 2216250000, 7200 }, { 2234998799, 7200 }, { 2234998800, 3600 } },
	  "Berlin, 2040" },
	{ __LINE__, S("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45"), 1,
	  { { 1775311199, 49500 }, { 1775311200, 45900 }, { 1790431199, 45900 }, { 1790431200, 49500 } },
	  "Chatham: quoted names, minutes, a southern summer" },
	{ __LINE__, S("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0"), 1,
	  { { 1775314799, 39600 }, { 1775314800, 37800 }, { 1791041399, 37800 }, { 1791041400, 39600 } },
	  "Lord Howe: half an hour of daylight saving" },
	{ __LINE__, S("IST-1GMT0,M10.5.0,M3.5.0/1"), 1,
	  { { 1768478400, 0 }, { 1784116800, 3600 } },
	  "Dublin: 'daylight saving' in winter, at a negative step" },
	{ __LINE__, S("IST-2IDT,M3.4.4/26,M10.5.0"), 1,
	  { { 1774569599, 7200 }, { 1774569600, 10800 }, { 1792882799, 10800 }, { 1792882800, 7200 } },
	  "Israel: version 3's 26:00 (Friday 02:00 as Thursday 26:00)" },
	{ __LINE__, S("EET-2EEST,M4.5.5/0,M10.5.4/24"), 1,
	  { { 1776981599, 7200 }, { 1776981600, 10800 }, { 1793307599, 10800 }, { 1793307600, 7200 } },
	  "Egypt: 0:00 and 24:00" },
	{ __LINE__, S("<-02>2<-01>,M3.5.0/-1,M10.5.0/0"), 1,
	  { { 1774745999, -7200 }, { 1774746000, -3600 }, { 1792889999, -3600 }, { 1792890000, -7200 } },
	  "Nuuk: a negative switch time (-1:00, Saturday 23:00)" },
	{ __LINE__, S("EST5EDT,0/0,J365/25"), 1,
	  { { 1767243599, -14400 },
	    { 1767243600, -14400 },
	    { 1798779600, -14400 },
	    { 1782907200, -14400 } },
	  "daylight saving all year (RFC 8536's example)" },
	{ __LINE__, S("AAA0BBB,J60/0,J300/0"), 1,
	  { { 1709251199, 0 }, { 1709251200, 3600 } },
	  "Jn never counts February 29: J60 is March 1 in 2024" },
	{ __LINE__, S("AAA0BBB,59/0,300/0"), 1,
	  { { 1709164799, 0 }, { 1709164800, 3600 }, { 1677628799, 0 }, { 1677628800, 3600 } },
	  "n counts it: day 59 is February 29 in 2024, March 1 in 2023" },
	{ __LINE__, S("AAA0BBB-2,M3.5.0,M10.5.0"), 1,
	  { { 2216253600, 7200 } }, "a daylight saving offset given (+2, not the default +1)" },
	{ __LINE__, S("UTC0"), 1, { { 1782907200, 0 } }, "UTC" },
	{ __LINE__, S("<-00>0"), 1, { { 1782907200, 0 } }, "Factory's -00" },
	{ __LINE__, S("<+0845>-8:45"), 1, { { 1782907200, 31500 } }, "Eucla" },
	{ __LINE__, S("AAA+24:59:59"), 1, { { 0, 0 } }, "the westmost offset" },
	{ __LINE__, S("AAA-24:59:59BBB,M3.5.0,M10.5.0"), 1, { { 0, 0 } },
	  "the eastmost, and an hour more in summer" },
	{ __LINE__, S("CET-1CEST"), 0, { { 0, 0 } }, "daylight saving without its switches" },
	{ __LINE__, S("CET-1CEST-2"), 0, { { 0, 0 } }, "... with an offset" },
	{ __LINE__, S("CET"), 0, { { 0, 0 } }, "no offset" },
	{ __LINE__, S("-1"), 0, { { 0, 0 } }, "no name" },
	{ __LINE__, S("CE-1"), 0, { { 0, 0 } }, "a name of two letters" },
	{ __LINE__, S("<CE>-1"), 0, { { 0, 0 } }, "a quoted name of two" },
	{ __LINE__, S("<CET-1"), 0, { { 0, 0 } }, "an unclosed quote" },
	{ __LINE__, S("<C:T>-1"), 0, { { 0, 0 } }, "a colon in a quoted name" },
	{ __LINE__, S("C3T-1"), 0, { { 0, 0 } }, "a digit in an unquoted name" },
	{ __LINE__, S("CET-25"), 0, { { 0, 0 } }, "an offset of 25 hours" },
	{ __LINE__, S("CET-1:60"), 0, { { 0, 0 } }, "60 minutes" },
	{ __LINE__, S("CET-1:00:60"), 0, { { 0, 0 } }, "60 seconds" },
	{ __LINE__, S("CET-1:"), 0, { { 0, 0 } }, "a colon and nothing" },
	{ __LINE__, S("CET+-1"), 0, { { 0, 0 } }, "two signs" },
	{ __LINE__, S("CET-99999999999999999999999"), 0, { { 0, 0 } }, "an endless number" },
	{ __LINE__, S("CET-1 "), 0, { { 0, 0 } }, "a trailing space" },
	{ __LINE__, S("CET-1\0"), 0, { { 0, 0 } }, "a trailing NUL" },
	{ __LINE__, S("CET-1CEST,M3.5.0"), 0, { { 0, 0 } }, "one switch" },
	{ __LINE__, S("CET-1CEST,M3.5.0,"), 0, { { 0, 0 } }, "an empty second switch" },
	{ __LINE__, S("CET-1CEST,,M10.5.0"), 0, { { 0, 0 } }, "an empty first switch" },
	{ __LINE__, S("CET-1CEST,M3.5.0,M10.5.0,M11.1.0"), 0, { { 0, 0 } }, "three switches" },
	{ __LINE__, S("CET-1CEST,M13.5.0,M10.5.0"), 0, { { 0, 0 } }, "month 13" },
	{ __LINE__, S("CET-1CEST,M0.5.0,M10.5.0"), 0, { { 0, 0 } }, "month 0" },
	{ __LINE__, S("CET-1CEST,M3.6.0,M10.5.0"), 0, { { 0, 0 } }, "week 6" },
	{ __LINE__, S("CET-1CEST,M3.0.0,M10.5.0"), 0, { { 0, 0 } }, "week 0" },
	{ __LINE__, S("CET-1CEST,M3.5.7,M10.5.0"), 0, { { 0, 0 } }, "weekday 7" },
	{ __LINE__, S("CET-1CEST,M3.5,M10.5.0"), 0, { { 0, 0 } }, "no weekday" },
	{ __LINE__, S("CET-1CEST,J0,J365"), 0, { { 0, 0 } }, "J0" },
	{ __LINE__, S("CET-1CEST,J1,J366"), 0, { { 0, 0 } }, "J366" },
	{ __LINE__, S("CET-1CEST,0,366"), 0, { { 0, 0 } }, "day 366" },
	{ __LINE__, S("CET-1CEST,M3.5.0/168,M10.5.0"), 0, { { 0, 0 } }, "168 hours" },
	{ __LINE__, S("CET-1CEST,M3.5.0/-168,M10.5.0"), 0, { { 0, 0 } }, "-168 hours" },
	{ __LINE__, S("CET-1CEST,M3.5.0/167,M10.5.0/-167"), 1, { { 0, 0 } }, "+-167 hours" },
	{ __LINE__, S("CET-1CEST,M3.5.0,M10.5.0/"), 0, { { 0, 0 } }, "a slash and no time" },
	{ __LINE__, S("CET-1CEST,M3.5.0,M10.5.0/3x"), 0, { { 0, 0 } }, "a byte after the rule" },
};

static void check_footer(const struct footer_row *row, struct unit_failures *f)
{
	struct tzif t = { .version = '2', .types = 1, .footer = row->footer, .footer_len = row->len };
	unsigned char buf[600];
	struct zone_file *z;
	int rc = zone_file_parse(buf, tzif_build(&t, buf), &z);

	if ((rc == 0) != row->ok)
		unit_failed(f, "line %d: %s: %s", row->line, row->desc, row->ok ? "refused" : "accepted");
	for (int p = 0; rc == 0 && p < 4 && row->probe[p].t != 0; p++) {
		int32_t off = -7;

		if (zone_file_offset(z, row->probe[p].t, &off) != 0 || off != row->probe[p].off)
			unit_failed(f, "line %d: %s: at %" PRId64 ": %" PRId32 ", want %" PRId32, row->line,
			       row->desc, row->probe[p].t, off, row->probe[p].off);
	}
	zone_file_free(z);
}

START_TEST(test_rule)
{
	struct unit_failures f = { 0 };

	for (int i = 0; i < UNIT_ROWS(footer_rows); i++)
		check_footer(&footer_rows[i], &f);
	UNIT_FAILURES_NONE(&f);
}
END_TEST

/* ---- truncated and corrupted ---- */

static const char *const real_zones[] = { "Europe/Berlin", "Australia/Lord_Howe",
	                                  "Pacific/Chatham", "Asia/Kolkata", "Etc/UTC",
	                                  "America/New_York", "Africa/Casablanca" };

/* A real zone file into a new buffer (*len bytes). */
static unsigned char *read_zone(const char *name, size_t *len)
{
	char path[128];
	unsigned char *buf = malloc(65536);
	FILE *f;

	ck_assert_ptr_nonnull(buf);
	snprintf(path, sizeof(path), ZONEINFO "%s", name);
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	ck_assert_int_gt(*len, 44);
	return buf;
}

/* Bytes of the version 1 block of a file whose first header is whole. */
static size_t block_size_v1(const unsigned char *p, size_t len)
{
	uint64_t c[6];

	ck_assert_int_ge(len, 44);
	for (int i = 0; i < 6; i++)
		c[i] = (uint64_t)p[20 + 4 * i] << 24 | (uint64_t)p[21 + 4 * i] << 16 |
		       (uint64_t)p[22 + 4 * i] << 8 | p[23 + 4 * i];
	/* isut, isstd, leap, times, types, chars */
	return (size_t)(c[0] + c[1] + c[2] * 8 + c[3] * 5 + c[4] * 6 + c[5]);
}

/* Every strict beginning of a real file is refused (the footer's last '\n' is missing), in a
 * buffer of exactly that size so that ASan sees any read past it; the whole file is accepted. */
START_TEST(test_truncated)
{
	for (size_t k = 0; k < sizeof(real_zones) / sizeof(*real_zones); k++) {
		size_t len;
		unsigned char *whole = read_zone(real_zones[k], &len);

		for (size_t cut = 0; cut <= len; cut++) {
			unsigned char *part = malloc(cut == 0 ? 1 : cut);

			UNIT_REQUIRE(part != NULL, "malloc");
			memcpy(part, whole, cut);
			UNIT_REQUIRE(parse_ok(part, cut) == (cut == len), "%s cut to %zu of %zu bytes",
			        real_zones[k], cut, len);
			free(part);
		}
		free(whole);
	}
}
END_TEST

/* Whatever a zone answers, it answers within RFC 8536's offsets, at any moment in range. */
static void probe_zone(const struct zone_file *z, uint64_t *state)
{
	static const int64_t fixed[] = { -62135769600, 253402473600, 0, -1, 2000000000,
		                         2100000000, 4102444800 };
	int32_t off;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed) + 8; i++) {
		int64_t t = i < sizeof(fixed) / sizeof(*fixed)
		                    ? fixed[i]
		                    : -62135769600 + (int64_t)(unit_random(state) % 315538243200u);

		UNIT_REQUIRE(zone_file_offset(z, t, &off) == 0 && off >= -89999 && off <= 93599,
		        "at %" PRId64 ": %" PRId32, t, off);
	}
	ck_assert_int_eq(zone_file_offset(z, -62135769601, &off), -1);
	ck_assert_int_eq(zone_file_offset(z, 253402473601, &off), -1);
}

/*
 * Real files and the built one, corrupted at random (a few bytes, a count set to an extreme, a
 * cut, bytes added): nothing crashes or reads outside the file (ASan), and a file that is still
 * accepted answers in range.
 */
START_TEST(test_corrupted)
{
	static const uint32_t extremes[] = { 0, 1, 2, 255, 256, 2000, 2001, 0x7FFFFFFF, 0xFFFFFFFF };
	size_t nreal = sizeof(real_zones) / sizeof(*real_zones);
	unsigned char *files[sizeof(real_zones) / sizeof(*real_zones) + 1];
	size_t lens[sizeof(real_zones) / sizeof(*real_zones) + 1];
	uint64_t state = 0x2545F4914F6CDD1Du;
	int accepted = 0;

	for (size_t k = 0; k < nreal; k++)
		files[k] = read_zone(real_zones[k], &lens[k]);
	files[nreal] = malloc(600);
	lens[nreal] = tzif_build(&base_zone, files[nreal]);
	for (int round = 0; round < 20000; round++) {
		size_t k = unit_random(&state) % (nreal + 1), len = lens[k];
		unsigned char *buf = malloc(len + 64);
		unsigned what = (unsigned)(unit_random(&state) % 8);
		struct zone_file *z;

		UNIT_REQUIRE(buf != NULL, "malloc");
		memcpy(buf, files[k], len);
		if (what <= 3) { /* 1 to 4 random bytes */
			for (unsigned b = 0; b <= what; b++)
				buf[unit_random(&state) % len] = (unsigned char)unit_random(&state);
		} else if (what == 4) { /* a count of either header */
			size_t header = unit_random(&state) % 2 ? 44 + block_size_v1(buf, len) : 0;
			size_t at = header + 20 + 4 * (unit_random(&state) % 6);

			if (at + 4 <= len)
				put_be(buf + at, extremes[unit_random(&state) % 9], 4);
		} else if (what == 5) { /* a byte of the footer */
			buf[len - 2 - unit_random(&state) % 8] = (unsigned char)unit_random(&state);
		} else if (what == 6) {
			len = unit_random(&state) % len;
		} else {
			size_t more = 1 + unit_random(&state) % 64;

			for (size_t b = 0; b < more; b++)
				buf[len + b] = (unsigned char)unit_random(&state);
			len += more;
		}
		/* the exact size again, for ASan */
		buf = realloc(buf, len == 0 ? 1 : len);
		if (zone_file_parse(buf, len, &z) == 0) {
			accepted++;
			probe_zone(z, &state);
			zone_file_free(z);
		} else {
			UNIT_REQUIRE(z == NULL, "a refused file left a zone");
		}
		free(buf);
	}
	for (size_t k = 0; k <= nreal; k++)
		free(files[k]);
	/* Many corruptions leave a usable zone (a changed abbreviation, a moved transition): the
	 * accepted path is exercised, not only refusals. */
	ck_assert_msg(accepted > 1000, "only %d accepted", accepted);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("zone_file");
	TCase *tc = tcase_create("tables");

	tcase_add_test(tc, test_spoiled);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_footer_length);
	tcase_add_test(tc, test_leap_seconds);
	tcase_add_test(tc, test_without_rule);
	tcase_add_test(tc, test_rule);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_corrupted);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
