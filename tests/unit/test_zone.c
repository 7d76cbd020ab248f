/*
 * zone: zone names, offsets and local dates. Tables for the names (every rule, with the exact
 * reason), for local dates around midnight in zones with odd offsets and daylight saving time, and
 * for offsets at known moments (each switch of the year, and after 2037 where the files' rules
 * take over). Then every zone in zoneinfo against glibc's own reading, threads sharing the cache,
 * and the process's TZ left alone while threads and other code work in other zones.
 */
#include "zone.h"
#include "unit.h"

#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define D(y, m, d) { (y), (m), (d) }

/* ---- names ---- */

#define TZ_EMPTY "timezone is empty."
#define TZ_LONG "timezone is longer than 47 bytes."
#define TZ_CHARS "timezone may contain only letters, digits, '_', '+', '-' and '/'."
#define TZ_SLASH "timezone must not start or end with '/' or contain \"//\"."
#define TZ_UNKNOWN "timezone is not a known IANA time zone, such as Europe/Berlin or UTC."

struct tz_row {
	int line;
	const char *tz;
	const char *why; /* NULL: valid */
	const char *desc;
};

static const struct tz_row tz_rows[] = {
	{ __LINE__, "UTC", NULL, "UTC" },
	{ __LINE__, "Europe/Berlin", NULL, "Europe/Berlin" },
	{ __LINE__, "America/Argentina/ComodRivadavia", NULL, "three parts, a link" },
	{ __LINE__, "Asia/Kolkata", NULL, "Asia/Kolkata" },
	{ __LINE__, "Australia/Lord_Howe", NULL, "an underscore" },
	{ __LINE__, "America/Port-au-Prince", NULL, "hyphens" },
	{ __LINE__, "Etc/GMT+5", NULL, "a plus sign" },
	{ __LINE__, "Etc/GMT-14", NULL, "a minus sign and digits" },
	{ __LINE__, "EST5EDT", NULL, "a POSIX-looking name that is a zone file" },
	{ __LINE__, "", TZ_EMPTY, "empty" },
	{ __LINE__, NULL, TZ_EMPTY, "NULL" },
	{ __LINE__, "Nope/Nowhere", TZ_UNKNOWN, "no such zone" },
	{ __LINE__, "utc", TZ_UNKNOWN, "names are case-sensitive" },
	{ __LINE__, "Europe", TZ_UNKNOWN, "a directory" },
	{ __LINE__, "Europe/", TZ_SLASH, "a trailing '/'" },
	{ __LINE__, "Europe//Berlin", TZ_SLASH, "a doubled '/'" },
	{ __LINE__, "/etc/passwd", TZ_SLASH, "an absolute path" },
	{ __LINE__, "/UTC", TZ_SLASH, "a leading '/'" },
	{ __LINE__, "../etc/passwd", TZ_CHARS, "a way out" },
	{ __LINE__, "Europe/../UTC", TZ_CHARS, "a way out and back" },
	{ __LINE__, "./UTC", TZ_CHARS, "a dot" },
	{ __LINE__, "zone.tab", TZ_CHARS, "a table in zoneinfo" },
	{ __LINE__, "leapseconds", TZ_UNKNOWN, "a file in zoneinfo that is no zone" },
	{ __LINE__, "localtime", TZ_UNKNOWN, "the host's zone is no IANA name" },
	{ __LINE__, "posixrules", TZ_UNKNOWN, "posixrules" },
	{ __LINE__, "right/UTC", TZ_UNKNOWN, "leap-second zones" },
	{ __LINE__, "posix/UTC", TZ_UNKNOWN, "the posix/ copies" },
	{ __LINE__, "UTC ", TZ_CHARS, "a trailing space" },
	{ __LINE__, " UTC", TZ_CHARS, "a leading space" },
	{ __LINE__, "UTC\n", TZ_CHARS, "a newline" },
	{ __LINE__, ":UTC", TZ_CHARS, "glibc's file marker" },
	{ __LINE__, "UTC0", TZ_UNKNOWN, "a POSIX rule is no zone name" },
	{ __LINE__, "CET-1CEST,M3.5.0,M10.5.0/3", TZ_CHARS, "a full POSIX rule" },
	{ __LINE__, "Europe/Z\xc3\xbcrich", TZ_CHARS, "non-ASCII" },
	{ __LINE__, "\xff", TZ_CHARS, "not UTF-8" },
	{ __LINE__, "Europe/Berlin\0x", NULL, "a C string ends at NUL" },
	{ __LINE__, "Aaaaaaaaaa/Bbbbbbbbbb/Cccccccccc/Dddddddddd/Eee", TZ_UNKNOWN,
	  "47 bytes, no such zone" },
	{ __LINE__, "Aaaaaaaaaa/Bbbbbbbbbb/Cccccccccc/Dddddddddd/Eeee", TZ_LONG, "48 bytes" },
	{ __LINE__, "America/Argentina/ComodRivadavia/America/Argen", TZ_UNKNOWN,
	  "47 bytes under a file" },
};

START_TEST(test_check)
{
	const struct tz_row *row = &tz_rows[_i];
	const char *why = "(untouched)";
	int rc = zone_check(row->tz, &why);

	if (row->why == NULL) {
		ck_assert_msg(rc == 0, "line %d: %s: refused: %s", row->line, row->desc, why);
		return;
	}
	ck_assert_msg(rc == -1 && strcmp(why, row->why) == 0, "line %d: %s: %d \"%s\", want \"%s\"",
	              row->line, row->desc, rc, why, row->why);
	ck_assert_int_eq(zone_check(row->tz, NULL), -1);
}
END_TEST

/* A record field of 48 bytes with no NUL (a corrupt record): refused without reading past it. */
START_TEST(test_check_unterminated)
{
	char *field = malloc(ZONE_NAME_MAX + 1);
	const char *why = NULL;
	struct calendar_date d;
	int32_t off;

	ck_assert_ptr_nonnull(field);
	memset(field, 'A', ZONE_NAME_MAX + 1);
	ck_assert_int_eq(zone_check(field, &why), -1);
	ck_assert_str_eq(why, TZ_LONG);
	ck_assert_int_eq(zone_offset(0, field, &off), -1);
	ck_assert_int_eq(zone_local_date(0, field, &d), -1);
	free(field);
}
END_TEST

struct local_row {
	int line;
	int64_t t;
	const char *tz;
	struct calendar_date want; /* year 0: -1 */
	const char *desc;
};

static const struct local_row local_rows[] = {
	{ __LINE__, 1795305599, "UTC", D(2026, 11, 21), "UTC, 23:59:59" },
	{ __LINE__, 1795305600, "UTC", D(2026, 11, 22), "UTC, midnight" },
	{ __LINE__, 0, "UTC", D(1970, 1, 1), "the epoch" },
	{ __LINE__, -1, "UTC", D(1969, 12, 31), "before the epoch" },
	{ __LINE__, 1795273199, "Asia/Tokyo", D(2026, 11, 21), "Tokyo, 23:59:59 (14:59:59Z)" },
	{ __LINE__, 1795273200, "Asia/Tokyo", D(2026, 11, 22), "Tokyo, midnight (15:00Z)" },
	{ __LINE__, 1798729199, "Asia/Tokyo", D(2026, 12, 31), "Tokyo, the year's last second" },
	{ __LINE__, 1798729200, "Asia/Tokyo", D(2027, 1, 1), "Tokyo, New Year" },
	{ __LINE__, 1798761599, "Asia/Tokyo", D(2027, 1, 1), "2026-12-31T23:59:59Z in Tokyo" },
	{ __LINE__, 1798761599, "UTC", D(2026, 12, 31), "2026-12-31T23:59:59Z in UTC" },
	{ __LINE__, 1798761599, "America/Los_Angeles", D(2026, 12, 31),
	  "2026-12-31T23:59:59Z in Los Angeles" },
	{ __LINE__, 1784098799, "America/Los_Angeles", D(2026, 7, 14),
	  "Los Angeles in summer (PDT, -7), 23:59:59" },
	{ __LINE__, 1784098800, "America/Los_Angeles", D(2026, 7, 15),
	  "Los Angeles in summer, midnight (07:00Z)" },
	{ __LINE__, 1768463999, "America/Los_Angeles", D(2026, 1, 14),
	  "Los Angeles in winter (PST, -8), 23:59:59" },
	{ __LINE__, 1768464000, "America/Los_Angeles", D(2026, 1, 15),
	  "Los Angeles in winter, midnight (08:00Z)" },
	{ __LINE__, 1784098799 + 3600, "America/Los_Angeles", D(2026, 7, 15),
	  "07:59:59Z is the next day in summer, not in winter" },
	{ __LINE__, 1795285799, "Asia/Kolkata", D(2026, 11, 21), "Kolkata (+5:30), 23:59:59" },
	{ __LINE__, 1795285800, "Asia/Kolkata", D(2026, 11, 22), "Kolkata, midnight (18:30Z)" },
	{ __LINE__, 1781530199, "Australia/Lord_Howe", D(2026, 6, 15),
	  "Lord Howe in winter (+10:30), 23:59:59" },
	{ __LINE__, 1781530200, "Australia/Lord_Howe", D(2026, 6, 16),
	  "Lord Howe in winter, midnight (13:30Z)" },
	{ __LINE__, 1797339599, "Australia/Lord_Howe", D(2026, 12, 15),
	  "Lord Howe in summer (+11), 23:59:59" },
	{ __LINE__, 1797339600, "Australia/Lord_Howe", D(2026, 12, 16),
	  "Lord Howe in summer, midnight (13:00Z)" },
	{ __LINE__, 1709164799, "UTC", D(2024, 2, 28), "the day before a leap day" },
	{ __LINE__, 1709218800, "Asia/Tokyo", D(2024, 3, 1), "the day after a leap day, Tokyo" },
	{ __LINE__, 1795305600, "Nope/Nowhere", D(0, 0, 0), "an unknown zone is no UTC" },
	{ __LINE__, 1795305600, "", D(0, 0, 0), "an empty zone" },
	{ __LINE__, 1795305600, "../etc/passwd", D(0, 0, 0), "a path" },
	{ __LINE__, 1795305600, "UTC0", D(0, 0, 0), "a POSIX rule" },
	{ __LINE__, 1795305600, NULL, D(0, 0, 0), "NULL" },
	{ __LINE__, INT64_MAX, "UTC", D(0, 0, 0), "the end of time" },
	{ __LINE__, INT64_MIN, "UTC", D(0, 0, 0), "the start of time" },
	{ __LINE__, 253402300800, "UTC", D(0, 0, 0), "10000-01-01 is past year 9999" },
	{ __LINE__, 253402300799, "UTC", D(9999, 12, 31), "the last second of 9999" },
	{ __LINE__, -62135596801, "UTC", D(0, 0, 0), "the last second of year 0" },
	{ __LINE__, -62135596800, "UTC", D(1, 1, 1), "the first second of year 1" },
};

static void check_local(const struct local_row *row)
{
	struct calendar_date got = D(-7, -7, -7);
	int rc = zone_local_date(row->t, row->tz, &got);

	if (row->want.year == 0) {
		ck_assert_msg(rc == -1 && got.year == -7 && got.month == -7 && got.day == -7,
		              "line %d: %s: %d, %d-%d-%d", row->line, row->desc, rc, got.year,
		              got.month, got.day);
		return;
	}
	ck_assert_msg(rc == 0 && got.year == row->want.year && got.month == row->want.month &&
	                      got.day == row->want.day,
	              "line %d: %s: %d, %d-%d-%d, want %d-%d-%d", row->line, row->desc, rc,
	              got.year, got.month, got.day, row->want.year, row->want.month,
	              row->want.day);
}

START_TEST(test_local_date)
{
	check_local(&local_rows[_i]);
}
END_TEST

/*
 * All rows in one process, three times over, in an order that changes zone almost every call
 * (and so through the cache and its misses), then the same walking backwards.
 */
START_TEST(test_local_date_switching)
{
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < UNIT_ROWS(local_rows); i++)
			check_local(&local_rows[i]);
	for (int i = UNIT_ROWS(local_rows) - 1; i >= 0; i--)
		check_local(&local_rows[i]);
}
END_TEST

/* Someone else changing TZ behind the cache's back must not change our answer. */
START_TEST(test_local_date_tz_changed_elsewhere)
{
	struct calendar_date d;

	ck_assert_int_eq(zone_local_date(1795273200, "Asia/Tokyo", &d), 0);
	ck_assert_int_eq(d.day, 22);
	ck_assert_int_eq(setenv("TZ", "UTC0", 1), 0);
	tzset();
	ck_assert_int_eq(zone_local_date(1795273200, "Asia/Tokyo", &d), 0);
	ck_assert_int_eq(d.day, 22);
	/* and an unknown zone after a good one neither answers nor spoils the next call */
	ck_assert_int_eq(zone_local_date(1795273200, "Nope/Nowhere", &d), -1);
	ck_assert_int_eq(zone_local_date(1795273199, "Asia/Tokyo", &d), 0);
	ck_assert_int_eq(d.day, 21);
}
END_TEST

/*
 * A prefix's zone is the module's own business: the process's TZ and localtime() keep the host's
 * zone (here UTC) before, during and after a call in another zone.
 */
START_TEST(test_local_date_leaves_the_environment_alone)
{
	time_t t = 1795273200; /* 2026-11-21T15:00:00Z: 2026-11-22 00:00 in Tokyo */
	struct calendar_date d;
	struct tm tm;

	ck_assert_int_eq(setenv("TZ", "UTC0", 1), 0);
	tzset();
	ck_assert_int_eq(zone_local_date(t, "Asia/Tokyo", &d), 0);
	ck_assert_int_eq(d.day, 22);
	ck_assert_str_eq(getenv("TZ"), "UTC0");
	ck_assert_ptr_nonnull(localtime_r(&t, &tm));
	ck_assert_int_eq(tm.tm_mday, 21);
	ck_assert_int_eq(tm.tm_hour, 15);
	ck_assert_ptr_nonnull(localtime(&t)); /* localtime() reads TZ again: still UTC */
	ck_assert_int_eq(localtime(&t)->tm_hour, 15);
}
END_TEST

/* Instants whose local date differs between the zones, so that a wrong zone is a wrong day. */
static const struct local_row race_rows[] = {
	{ __LINE__, 1795273200, "Asia/Tokyo", D(2026, 11, 22), "Tokyo, midnight (15:00Z)" },
	{ __LINE__, 1784098799, "America/Los_Angeles", D(2026, 7, 14), "Los Angeles, 06:59:59Z" },
	{ __LINE__, 1795285800, "Asia/Kolkata", D(2026, 11, 22), "Kolkata, midnight (18:30Z)" },
	{ __LINE__, 1797339600, "Australia/Lord_Howe", D(2026, 12, 16), "Lord Howe, 13:00Z" },
};

#define RACE_THREADS 4
#define RACE_CALLS 5000

struct race {
	atomic_int stop;
	atomic_int wrong_dates;    /* zone_local_date answers in a wrong zone */
	atomic_int wrong_host;     /* the bystander's localtime_r in a zone not its own */
};

/* Threads of a worker taking numbers of prefixes in four zones, as a worker's threads do. */
static void *race_taker(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < RACE_CALLS; i++) {
		const struct local_row *row = &race_rows[i % UNIT_ROWS(race_rows)];
		struct calendar_date got = D(0, 0, 0);

		if (zone_local_date(row->t, row->tz, &got) != 0 || got.year != row->want.year ||
		    got.month != row->want.month || got.day != row->want.day)
			atomic_fetch_add(&r->wrong_dates, 1);
	}
	return NULL;
}

/*
 * Other code of the same process working in the host's zone (UTC), as a library's logging would:
 * localtime_r, and now and then the classic timegm of setting TZ, tzset() and putting it back.
 */
static void *race_bystander(void *arg)
{
	struct race *r = arg;
	time_t t = 1795273200;

	for (unsigned i = 0; !atomic_load(&r->stop); i++) {
		struct tm tm;

		if (i % 16 == 0) {
			setenv("TZ", "UTC0", 1);
			tzset();
		}
		if (localtime_r(&t, &tm) == NULL || tm.tm_hour != 15)
			atomic_fetch_add(&r->wrong_host, 1);
	}
	return NULL;
}

START_TEST(test_local_date_threads_and_a_bystander)
{
	struct race r = { 0 };
	pthread_t takers[RACE_THREADS], bystander;
	time_t t = 1795273200;
	struct tm tm;

	ck_assert_int_eq(setenv("TZ", "UTC0", 1), 0);
	tzset();
	ck_assert_int_eq(pthread_create(&bystander, NULL, race_bystander, &r), 0);
	for (int k = 0; k < RACE_THREADS; k++)
		ck_assert_int_eq(pthread_create(&takers[k], NULL, race_taker, &r), 0);
	for (int k = 0; k < RACE_THREADS; k++)
		ck_assert_int_eq(pthread_join(takers[k], NULL), 0);
	atomic_store(&r.stop, 1);
	ck_assert_int_eq(pthread_join(bystander, NULL), 0);
	ck_assert_msg(atomic_load(&r.wrong_dates) == 0 && atomic_load(&r.wrong_host) == 0,
	              "%d of %d local dates in a wrong zone; the bystander saw another zone %d times",
	              atomic_load(&r.wrong_dates), RACE_THREADS * RACE_CALLS,
	              atomic_load(&r.wrong_host));
	/* and afterwards, the host's zone is still the host's */
	ck_assert_ptr_nonnull(localtime_r(&t, &tm));
	ck_assert_int_eq(tm.tm_hour, 15);
}
END_TEST

/* ---- offsets at known moments ---- */

#define NO_OFFSET INT32_MIN /* zone_offset answers -1 */

struct offset_row {
	int line;
	int64_t t;
	const char *tz;
	int32_t want;
	const char *desc;
};

/* Each switch as the second before it and the second it happens (the instants as Python's
 * zoneinfo gives them). */
static const struct offset_row offset_rows[] = {
	{ __LINE__, 1782907200, "UTC", 0, "UTC, without a file" },
	{ __LINE__, 1782907200, "Etc/UTC", 0, "Etc/UTC, from its file" },
	{ __LINE__, 1774745999, "Europe/Berlin", 3600, "Berlin, 2026-03-29 01:59:59 CET" },
	{ __LINE__, 1774746000, "Europe/Berlin", 7200, "Berlin, 03:00 CEST (01:00Z)" },
	{ __LINE__, 1792889999, "Europe/Berlin", 7200, "Berlin, 2026-10-25 02:59:59 CEST" },
	{ __LINE__, 1792890000, "Europe/Berlin", 3600, "Berlin, 02:00 CET again (01:00Z)" },
	{ __LINE__, -775828800, "Europe/Berlin", 10800, "Berlin, 1945 (double summer time)" },
	{ __LINE__, 1772953199, "America/New_York", -18000, "New York, 2026-03-08 01:59:59 EST" },
	{ __LINE__, 1772953200, "America/New_York", -14400, "New York, 03:00 EDT (07:00Z)" },
	{ __LINE__, 1793512799, "America/New_York", -14400, "New York, 2026-11-01 01:59:59 EDT" },
	{ __LINE__, 1793512800, "America/New_York", -18000, "New York, 01:00 EST again (06:00Z)" },
	{ __LINE__, 1775314799, "Australia/Lord_Howe", 39600, "Lord Howe, 2026-04-05 01:59:59 +11" },
	{ __LINE__, 1775314800, "Australia/Lord_Howe", 37800, "Lord Howe, back 30 min to +10:30" },
	{ __LINE__, 1791041399, "Australia/Lord_Howe", 37800, "Lord Howe, 2026-10-04 01:59:59" },
	{ __LINE__, 1791041400, "Australia/Lord_Howe", 39600, "Lord Howe, 02:30 +11 (15:30Z)" },
	{ __LINE__, 1782907200, "Asia/Kolkata", 19800, "Kolkata, +5:30 from the footer" },
	{ __LINE__, -852076800, "Asia/Kolkata", 23400, "Kolkata, 1943 war time (+6:30)" },
	{ __LINE__, 1775311199, "Pacific/Chatham", 49500, "Chatham, 2026-04-05 03:44:59 +13:45" },
	{ __LINE__, 1775311200, "Pacific/Chatham", 45900, "Chatham, 02:45 +12:45 (14:00Z)" },
	{ __LINE__, 1790431199, "Pacific/Chatham", 45900, "Chatham, 2026-09-27 02:44:59 +12:45" },
	{ __LINE__, 1790431200, "Pacific/Chatham", 49500, "Chatham, 03:45 +13:45 (14:00Z)" },
	{ __LINE__, 1325239199, "Pacific/Apia", -36000, "Apia, 2011-12-29 23:59:59 -10" },
	{ __LINE__, 1325239200, "Pacific/Apia", 50400, "Apia skips a day: 2011-12-31 00:00 +14" },
	{ __LINE__, 1768478400, "Europe/Dublin", 0, "Dublin in winter (its 'negative DST')" },
	{ __LINE__, 1784116800, "Europe/Dublin", 3600, "Dublin in summer" },
	/* after 2037, where Debian's files end for most zones: the footer's rule */
	{ __LINE__, 2216249999, "Europe/Berlin", 3600, "Berlin, 2040-03-25 01:59:59 CET" },
	{ __LINE__, 2216250000, "Europe/Berlin", 7200, "Berlin, 2040-03-25 03:00 CEST" },
	{ __LINE__, 2234998799, "Europe/Berlin", 7200, "Berlin, 2040-10-28 02:59:59 CEST" },
	{ __LINE__, 2234998800, "Europe/Berlin", 3600, "Berlin, 2040-10-28 02:00 CET" },
	{ __LINE__, 4076636399, "America/New_York", -18000, "New York, 2099-03-08 01:59:59 EST" },
	{ __LINE__, 4076636400, "America/New_York", -14400, "New York, 2099-03-08 03:00 EDT" },
	{ __LINE__, 4110443999, "Pacific/Chatham", 49500, "Chatham, 2100-04-04 03:44:59 +13:45" },
	{ __LINE__, 4110444000, "Pacific/Chatham", 45900, "Chatham, 2100-04-04 02:45 +12:45" },
	{ __LINE__, 7282020600, "Australia/Lord_Howe", 39600, "Lord Howe, 2200-10-05 02:30 +11" },
	{ __LINE__, 4102444800, "Asia/Kolkata", 19800, "Kolkata, 2100" },
	{ __LINE__, 3660681600, "Africa/Casablanca", 3600, "Casablanca, 2086 (transitions to 2087)" },
	{ __LINE__, 3660681600 + 104 * 86400, "Africa/Casablanca", 0, "Casablanca, Ramadan 2086" },
	{ __LINE__, 3786912000, "Africa/Casablanca", 3600, "Casablanca, 2090 (the footer)" },
	{ __LINE__, 253402257600, "Europe/Berlin", 3600, "Berlin, 9999-12-31" },
	{ __LINE__, -62135553600, "America/New_York", -17762, "New York, year 1: its LMT" },
	/* the range: two days either side of the years 1..9999 */
	{ __LINE__, -62135769600, "UTC", 0, "0000-12-30T00:00:00Z" },
	{ __LINE__, -62135769601, "UTC", NO_OFFSET, "a second before" },
	{ __LINE__, 253402473600, "Europe/Berlin", 3600, "10000-01-03T00:00:00Z" },
	{ __LINE__, 253402473601, "Europe/Berlin", NO_OFFSET, "a second after" },
	{ __LINE__, INT64_MAX, "Pacific/Chatham", NO_OFFSET, "the end of time" },
	{ __LINE__, INT64_MIN, "Pacific/Chatham", NO_OFFSET, "the start of time" },
	{ __LINE__, 0, "Nope/Nowhere", NO_OFFSET, "no such zone" },
	{ __LINE__, 0, "../etc/passwd", NO_OFFSET, "a path" },
	{ __LINE__, 0, "right/UTC", NO_OFFSET, "a leap-second zone" },
	{ __LINE__, 0, NULL, NO_OFFSET, "NULL" },
};

START_TEST(test_offset)
{
	struct unit_failures f = { 0 };

	for (int i = 0; i < UNIT_ROWS(offset_rows); i++) {
		const struct offset_row *row = &offset_rows[i];
		int32_t got = -7;
		int rc = zone_offset(row->t, row->tz, &got);

		if (row->want == NO_OFFSET ? rc != -1 || got != -7 : rc != 0 || got != row->want)
			unit_failed(&f, "line %d: %s: %d, %" PRId32 ", want %" PRId32, row->line, row->desc,
			       rc, got, row->want);
	}
	UNIT_FAILURES_NONE(&f);
}
END_TEST

/* ---- against glibc ---- */

/*
 * glibc reads the same files with code of its own, so it is an oracle: in the test process (one
 * thread) TZ is set to each zone and every answer compared, offset and local date, at moments
 * from 1900 to 2200 and at the exact second of every switch found between them.
 */
static const char *const oracle_zones[] = {
	"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
	"Pacific/Chatham", "Europe/Dublin", "Africa/Casablanca", "Asia/Gaza", "Asia/Jerusalem",
	"Africa/Cairo", "America/Nuuk", "America/Santiago", "Antarctica/Troll", "Pacific/Apia",
	"Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu", "Asia/Tehran", "Australia/Eucla",
	"Europe/Lisbon", "Europe/Moscow", "America/Sao_Paulo", "America/Havana", "America/Asuncion",
	"America/Adak", "America/St_Johns", "Pacific/Norfolk", "Asia/Tokyo", "America/Los_Angeles",
	"Etc/GMT+12", "Etc/GMT-14", "EST5EDT", "Factory", "Australia/Sydney", "Europe/London",
};

static void set_tz(const char *zone)
{
	char value[64];

	ck_assert_int_lt(snprintf(value, sizeof(value), ":%s", zone), (int)sizeof(value));
	ck_assert_int_eq(setenv("TZ", value, 1), 0);
	tzset();
}

/* Our offset and date at t against glibc's; returns glibc's offset. */
static long compare_glibc(const char *zone, int64_t t)
{
	time_t tt = (time_t)t;
	struct calendar_date d;
	struct tm tm;
	int32_t off;

	UNIT_REQUIRE(localtime_r(&tt, &tm) != NULL, "localtime_r");
	UNIT_REQUIRE(zone_offset(t, zone, &off) == 0 && off == tm.tm_gmtoff,
	        "%s at %" PRId64 ": offset %" PRId32 ", glibc %ld", zone, t, off, tm.tm_gmtoff);
	UNIT_REQUIRE(zone_local_date(t, zone, &d) == 0 && d.year == tm.tm_year + 1900 &&
	                d.month == tm.tm_mon + 1 && d.day == tm.tm_mday,
	        "%s at %" PRId64 ": %d-%d-%d, glibc %d-%d-%d", zone, t, d.year, d.month, d.day,
	        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return tm.tm_gmtoff;
}

START_TEST(test_offset_against_glibc)
{
	const char *zone = oracle_zones[_i];
	int64_t step = 2 * 86400 + 3607, prev_t = 0;
	long prev = 0;
	int switches = 0;

	set_tz(zone);
	for (int64_t t = -2208988800; t < 7258118400; t += step) { /* 1900 to 2200 */
		long now = compare_glibc(zone, t);

		if (t != -2208988800 && now != prev) {
			int64_t lo = prev_t, hi = t; /* glibc says prev at lo, another offset at hi */

			while (hi - lo > 1) {
				int64_t mid = lo + (hi - lo) / 2;
				time_t tt = (time_t)mid;
				struct tm tm;

				UNIT_REQUIRE(localtime_r(&tt, &tm) != NULL, "localtime_r");
				if (tm.tm_gmtoff == prev)
					lo = mid;
				else
					hi = mid;
			}
			for (int64_t u = hi - 2; u <= hi + 1; u++)
				compare_glibc(zone, u);
			switches++;
		}
		prev = now;
		prev_t = t;
	}
	/* the zones with daylight saving time still have it in 2200 */
	if (strcmp(zone, "Europe/Berlin") == 0 || strcmp(zone, "Pacific/Chatham") == 0)
		ck_assert_int_gt(switches, 400);
}
END_TEST

/* Does the file start as a zone file does? */
static int looks_like_tzif(const char *path)
{
	char magic[4] = { 0 };
	FILE *f = fopen(path, "rb");
	int ok = f != NULL && fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;

	if (f != NULL)
		fclose(f);
	return ok;
}

#define ZONEINFO "/usr/share/zoneinfo/"

static char *all_zones[2000];
static int all_zones_count;

static int collect_zone(const char *path, const struct stat *st, int kind, struct FTW *ftw)
{
	const char *name = path + strlen(ZONEINFO);

	(void)st;
	(void)ftw;
	if ((kind == FTW_F || kind == FTW_SL) && strncmp(path, ZONEINFO, strlen(ZONEINFO)) == 0 &&
	    strncmp(name, "right/", 6) != 0 && strncmp(name, "posix/", 6) != 0 &&
	    all_zones_count < (int)(sizeof(all_zones) / sizeof(*all_zones)))
		all_zones[all_zones_count++] = strdup(name);
	return 0;
}

/*
 * Every name in zoneinfo: the capitalised zone files are valid zones and agree with glibc at a few
 * moments each, everything else is refused. Twice over, the second time backwards, so that the
 * cache drops and reads zones again all along.
 */
START_TEST(test_every_zone_in_zoneinfo)
{
	static const int64_t moments[] = { -2208988800, 946684800, 1768478400, 1784116800,
		                           2210112000, 2226009600, 4102444800 };
	int zones = 0;

	ck_assert_int_eq(nftw(ZONEINFO, collect_zone, 16, FTW_PHYS), 0);
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < all_zones_count; k++) {
			const char *name = all_zones[pass == 0 ? k : all_zones_count - 1 - k];
			char path[300];
			int want;

			snprintf(path, sizeof(path), ZONEINFO "%s", name);
			want = name[0] >= 'A' && name[0] <= 'Z' && looks_like_tzif(path);
			ck_assert_msg((zone_check(name, NULL) == 0) == want, "%s: valid %d", name,
			              !want);
			if (!want)
				continue;
			zones += pass == 0;
			set_tz(name);
			for (size_t m = 0; m < sizeof(moments) / sizeof(*moments); m++)
				compare_glibc(name, moments[m]);
		}
	ck_assert_msg(zones > 500, "only %d zones: is tzdata installed?", zones);
	for (int k = 0; k < all_zones_count; k++)
		free(all_zones[k]);
}
END_TEST

/* ---- threads ---- */

#define CACHE_THREADS 4
#define CACHE_ZONES 24 /* more than the cache keeps */

static int32_t cache_want[CACHE_ZONES][2];
static const int64_t cache_moments[2] = { 1768478400, 1784116800 }; /* mid-January, mid-July */

/* Each thread walks the zones from its own place, so the threads drop each other's zones. */
static void *cache_walker(void *arg)
{
	intptr_t first = (intptr_t)arg, wrong = 0;

	for (int i = 0; i < 3000; i++) {
		int z = (int)((first * 7 + i) % CACHE_ZONES), m = i % 2;
		int32_t off;

		if (zone_offset(cache_moments[m], oracle_zones[z], &off) != 0 ||
		    off != cache_want[z][m])
			wrong++;
	}
	return (void *)wrong;
}

START_TEST(test_offset_threads_share_a_small_cache)
{
	pthread_t walkers[CACHE_THREADS];
	intptr_t wrong = 0;

	for (int z = 0; z < CACHE_ZONES; z++) {
		set_tz(oracle_zones[z]);
		for (int m = 0; m < 2; m++) {
			time_t tt = (time_t)cache_moments[m];
			struct tm tm;

			ck_assert_ptr_nonnull(localtime_r(&tt, &tm));
			cache_want[z][m] = (int32_t)tm.tm_gmtoff;
		}
	}
	for (intptr_t k = 0; k < CACHE_THREADS; k++)
		ck_assert_int_eq(pthread_create(&walkers[k], NULL, cache_walker, (void *)k), 0);
	for (int k = 0; k < CACHE_THREADS; k++) {
		void *w;

		ck_assert_int_eq(pthread_join(walkers[k], &w), 0);
		wrong += (intptr_t)w;
	}
	ck_assert_msg(wrong == 0, "%ld wrong offsets", (long)wrong);
}
END_TEST
int main(void)
{
	Suite *suite = suite_create("zone");
	TCase *tc = tcase_create("tables");

	UNIT_TABLE(tc, test_check, tz_rows);
	tcase_add_test(tc, test_check_unterminated);
	UNIT_TABLE(tc, test_local_date, local_rows);
	tcase_add_test(tc, test_local_date_switching);
	tcase_add_test(tc, test_local_date_tz_changed_elsewhere);
	tcase_add_test(tc, test_local_date_leaves_the_environment_alone);
	tcase_add_test(tc, test_local_date_threads_and_a_bystander);
	tcase_add_test(tc, test_offset);
	UNIT_TABLE(tc, test_offset_against_glibc, oracle_zones);
	tcase_add_test(tc, test_every_zone_in_zoneinfo);
	tcase_add_test(tc, test_offset_threads_share_a_small_cache);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
