/*
 * calendar: dates of the proleptic Gregorian calendar and the arithmetic between dates, days and
 * unix times, with days counted from 1970-01-01 (day 0) and every division rounded down, so that
 * the days before 1970 count as well as those after. Pure; any process. The template module
 * checks and prints dates with it; the zone modules turn a moment into a local date with it and
 * work out when a zone's rule switches.
 */
#ifndef NEXTID_CALENDAR_H
#define NEXTID_CALENDAR_H

#include <stdint.h>

/* A calendar date. Valid (calendar_date_valid): year 1..9999, month 1..12, day 1..its month's. */
struct calendar_date {
	int year, month, day;
};

/*
 * Is d a valid date? NULL is not. Years stop at 9999 so that a year always prints in four digits
 * and a day's period (yyyymmdd) fits in 8.
 */
int calendar_date_valid(const struct calendar_date *d);

/* Is year a leap year? */
int calendar_is_leap(int64_t year);

/* Days in month (1..12) of year. */
int calendar_days_in_month(int64_t year, int month);

/* The day unix time t (seconds) falls in. */
int64_t calendar_day_of(int64_t t);

/* Days from 1970-01-01 to January 1st of year (any year within millions of 1970). */
int64_t calendar_year_start(int64_t year);

/* Days in year before the first of month (1..12). */
int64_t calendar_days_before_month(int64_t year, int month);

/* The year that day `days` falls in (days within a few million of the epoch). */
int64_t calendar_year_of(int64_t days);

/* The weekday of day `days`: 0 = Sunday .. 6 = Saturday. */
int calendar_weekday(int64_t days);

/*
 * The date of day `days` into *out (OUT). Returns 0, or -1 leaving *out unchanged when its year
 * is outside 1..9999.
 */
int calendar_date_of(int64_t days, struct calendar_date *out);

#endif
