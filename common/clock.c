/*
 * clock: clock_gettime in milliseconds and microseconds, nanosleep in milliseconds.
 * clock_gettime cannot fail for these two clocks on Linux, so nothing is checked.
 */
#include "clock.h"

#include <errno.h>
#include <time.h>

static int64_t us_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_monotonic_ms(void)
{
	return us_of(CLOCK_MONOTONIC) / 1000;
}

int64_t clock_monotonic_us(void)
{
	return us_of(CLOCK_MONOTONIC);
}

int64_t clock_wall_ms(void)
{
	return us_of(CLOCK_REALTIME) / 1000;
}

void clock_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
