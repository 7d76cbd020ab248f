/*
 * calendar: the proleptic Gregorian calendar as arithmetic on day numbers. C's division rounds
 * toward zero, which is wrong for the days and seconds before 1970, so every division here is
 * rounded down (floor_div) instead.
 */
#include "calendar.h"

#include <stddef.h>

#define YEAR_MAX 9999

/* a / b rounded down, for b > 0. */
static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* a modulo b in 0..b-1, for b > 0. */
static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

int calendar_is_leap(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int calendar_days_in_month(int64_t year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return month == 2 && calendar_is_leap(year) ? 29 : days[month - 1];
}

int calendar_date_valid(const struct calendar_date *d)
{
	return d != NULL && d->year >= 1 && d->year <= YEAR_MAX && d->month >= 1 &&
	       d->month <= 12 && d->day >= 1 && d->day <= calendar_days_in_month(d->year, d->month);
}

int64_t calendar_day_of(int64_t t)
{
	return floor_div(t, 86400);
}

int64_t calendar_year_start(int64_t year)
{
	/* leap years in 1..year-1; 477 of them are in 1..1969 */
	int64_t leaps = floor_div(year - 1, 4) - floor_div(year - 1, 100) + floor_div(year - 1, 400);

	return 365 * (year - 1970) + leaps - 477;
}

int64_t calendar_days_before_month(int64_t year, int month)
{
	static const int before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };

	return before[month - 1] + (month > 2 && calendar_is_leap(year));
}

int64_t calendar_year_of(int64_t days)
{
	int64_t y = 1970 + floor_div(days * 400, 146097); /* 146097 days make 400 years */

	while (calendar_year_start(y) > days)
		y--;
	while (calendar_year_start(y + 1) <= days)
		y++;
	return y;
}

int calendar_weekday(int64_t days)
{
	return (int)floor_mod(days + 4, 7); /* 1970-01-01 was a Thursday */
}

int calendar_date_of(int64_t days, struct calendar_date *out)
{
	int64_t y = calendar_year_of(days);
	int m;

	if (y < 1 || y > YEAR_MAX)
		return -1;
	days -= calendar_year_start(y);
	for (m = 12; calendar_days_before_month(y, m) > days; m--)
		;
	out->year = (int)y;
	out->month = m;
	out->day = (int)(days - calendar_days_before_month(y, m)) + 1;
	return 0;
}
