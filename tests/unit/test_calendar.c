/*
 * calendar: a table of dates that are and are not valid (month ends, leap days of 2000, 1900 and
 * 2100, the ends of years 1..9999), a table of unix times and the day, date and weekday each falls
 * on (before 1970 too, where division must round down), and a sweep of every day of the years
 * 1..9999 against glibc's gmtime_r, which counts days with code of its own.
 */
#include "calendar.h"
#include "unit.h"

#include <inttypes.h>
#include <time.h>

#define D(y, m, d) { (y), (m), (d) }

/* ---- valid dates ---- */

struct valid_row {
	int line;
	struct calendar_date d;
	int valid;
	const char *desc;
};

static const struct valid_row valid_rows[] = {
	{ __LINE__, D(2026, 11, 22), 1, "an ordinary day" },
	{ __LINE__, D(1, 1, 1), 1, "the first day" },
	{ __LINE__, D(9999, 12, 31), 1, "the last day" },
	{ __LINE__, D(0, 12, 31), 0, "year 0" },
	{ __LINE__, D(10000, 1, 1), 0, "year 10000" },
	{ __LINE__, D(-1, 1, 1), 0, "a negative year" },
	{ __LINE__, D(2026, 0, 1), 0, "month 0" },
	{ __LINE__, D(2026, 13, 1), 0, "month 13" },
	{ __LINE__, D(2026, 1, 0), 0, "day 0" },
	{ __LINE__, D(2026, 1, 31), 1, "January 31" },
	{ __LINE__, D(2026, 1, 32), 0, "January 32" },
	{ __LINE__, D(2026, 4, 30), 1, "April 30" },
	{ __LINE__, D(2026, 4, 31), 0, "April 31" },
	{ __LINE__, D(2024, 2, 29), 1, "February 29, 2024" },
	{ __LINE__, D(2026, 2, 29), 0, "February 29, 2026" },
	{ __LINE__, D(2000, 2, 29), 1, "February 29, 2000 (divisible by 400)" },
	{ __LINE__, D(1900, 2, 29), 0, "February 29, 1900 (divisible by 100)" },
	{ __LINE__, D(2100, 2, 29), 0, "February 29, 2100" },
	{ __LINE__, D(2024, 2, 30), 0, "February 30 of a leap year" },
};

START_TEST(test_valid)
{
	const struct valid_row *row = &valid_rows[_i];

	ck_assert_msg(calendar_date_valid(&row->d) == row->valid, "line %d: %s", row->line,
	              row->desc);
}
END_TEST

START_TEST(test_valid_null)
{
	ck_assert_int_eq(calendar_date_valid(NULL), 0);
}
END_TEST

/* ---- moments ---- */

struct moment_row {
	int line;
	int64_t t;
	int64_t day;
	struct calendar_date want; /* year 0: calendar_date_of answers -1 */
	int weekday;
	const char *desc;
};

static const struct moment_row moment_rows[] = {
	{ __LINE__, 0, 0, D(1970, 1, 1), 4, "the epoch, a Thursday" },
	{ __LINE__, 86399, 0, D(1970, 1, 1), 4, "its last second" },
	{ __LINE__, -1, -1, D(1969, 12, 31), 3, "a second before it" },
	{ __LINE__, -86400, -1, D(1969, 12, 31), 3, "a day before it" },
	{ __LINE__, -86401, -2, D(1969, 12, 30), 2, "a day and a second before it" },
	{ __LINE__, 1795305600, 20779, D(2026, 11, 22), 0, "2026-11-22, a Sunday" },
	{ __LINE__, 951782400, 11016, D(2000, 2, 29), 2, "2000-02-29" },
	{ __LINE__, 4107542400, 47541, D(2100, 3, 1), 1, "2100-03-01 (no February 29 before)" },
	{ __LINE__, -2203891200, -25508, D(1900, 3, 1), 4, "1900-03-01" },
	{ __LINE__, -62135596800, -719162, D(1, 1, 1), 1, "0001-01-01, a Monday" },
	{ __LINE__, -62135596801, -719163, D(0, 0, 0), 0, "the day before: year 0" },
	{ __LINE__, 253402300799, 2932896, D(9999, 12, 31), 5, "9999-12-31, a Friday" },
	{ __LINE__, 253402300800, 2932897, D(0, 0, 0), 6, "10000-01-01" },
};

START_TEST(test_moment)
{
	const struct moment_row *row = &moment_rows[_i];
	struct calendar_date got = D(-7, -7, -7);
	int64_t day = calendar_day_of(row->t);
	int rc = calendar_date_of(day, &got);

	ck_assert_msg(day == row->day, "line %d: %s: day %" PRId64, row->line, row->desc, day);
	ck_assert_msg(calendar_weekday(day) == row->weekday, "line %d: %s: weekday %d", row->line,
	              row->desc, calendar_weekday(day));
	if (row->want.year == 0) {
		ck_assert_msg(rc == -1 && got.year == -7 && got.month == -7 && got.day == -7,
		              "line %d: %s: %d, %d-%d-%d", row->line, row->desc, rc, got.year,
		              got.month, got.day);
		return;
	}
	ck_assert_msg(rc == 0 && got.year == row->want.year && got.month == row->want.month &&
	                      got.day == row->want.day,
	              "line %d: %s: %d, %d-%d-%d", row->line, row->desc, rc, got.year, got.month,
	              got.day);
}
END_TEST

/*
 * Every day of the years 1..9999 against gmtime_r: the date, the weekday, the year's first day and
 * the days before the month agree, and each date is valid.
 */
START_TEST(test_every_day)
{
	const int64_t first = -719162, last = 2932896; /* 0001-01-01, 9999-12-31 */

	for (int64_t day = first; day <= last; day++) {
		time_t t = (time_t)(day * 86400);
		struct calendar_date d;
		struct tm tm;

		UNIT_REQUIRE(gmtime_r(&t, &tm) != NULL, "gmtime_r at day %" PRId64, day);
		UNIT_REQUIRE(calendar_date_of(day, &d) == 0 && d.year == tm.tm_year + 1900 &&
		                     d.month == tm.tm_mon + 1 && d.day == tm.tm_mday,
		             "day %" PRId64 ": %d-%d-%d, gmtime_r %d-%d-%d", day, d.year, d.month,
		             d.day, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		UNIT_REQUIRE(calendar_date_valid(&d), "day %" PRId64 " is not valid", day);
		UNIT_REQUIRE(calendar_weekday(day) == tm.tm_wday, "day %" PRId64 ": weekday %d", day,
		             calendar_weekday(day));
		UNIT_REQUIRE(calendar_year_of(day) == d.year, "day %" PRId64 ": year", day);
		UNIT_REQUIRE(calendar_year_start(d.year) + calendar_days_before_month(d.year, d.month) +
		                             d.day - 1 ==
		                     day,
		             "day %" PRId64 ": back from %d-%d-%d", day, d.year, d.month, d.day);
		UNIT_REQUIRE(calendar_year_start(d.year) + tm.tm_yday == day, "day %" PRId64 ": yday",
		             day);
	}
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("calendar");
	TCase *tc = tcase_create("tables");

	UNIT_TABLE(tc, test_valid, valid_rows);
	tcase_add_test(tc, test_valid_null);
	UNIT_TABLE(tc, test_moment, moment_rows);
	tcase_add_test(tc, test_every_day);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
