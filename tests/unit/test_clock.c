/*
 * clock: the monotonic clock never goes back (in ms and µs alike), the wall clock is time()'s in
 * milliseconds, and a sleep lasts its time even when signals whose handlers return arrive during it.
 */
#include "clock.h"
#include "unit.h"

#include <signal.h>
#include <sys/time.h>
#include <time.h>

START_TEST(test_monotonic)
{
	int64_t prev = clock_monotonic_ms();

	ck_assert_int_gt(prev, 0);
	for (int i = 0; i < 100000; i++) {
		int64_t now = clock_monotonic_ms();

		UNIT_REQUIRE(now >= prev, "went back from %lld to %lld", (long long)prev,
		             (long long)now);
		prev = now;
	}
}
END_TEST

/* The same clock in microseconds: never back, and within a millisecond of clock_monotonic_ms. */
START_TEST(test_monotonic_us)
{
	int64_t prev = clock_monotonic_us();

	for (int i = 0; i < 100000; i++) {
		int64_t before = clock_monotonic_ms(), us = clock_monotonic_us();
		int64_t after = clock_monotonic_ms();

		UNIT_REQUIRE(us >= prev, "went back from %lld to %lld", (long long)prev, (long long)us);
		UNIT_REQUIRE(us / 1000 >= before && us / 1000 <= after, "%lld us outside [%lld, %lld] ms",
		             (long long)us, (long long)before, (long long)after);
		prev = us;
	}
}
END_TEST

START_TEST(test_wall)
{
	time_t before = time(NULL);
	int64_t ms = clock_wall_ms();
	time_t after = time(NULL);

	/* time() reads a coarser copy of the same clock, which may lag a few milliseconds */
	ck_assert_int_ge(ms / 1000, before - 1);
	ck_assert_int_le(ms / 1000, after + 1);
}
END_TEST

START_TEST(test_sleep)
{
	int64_t start = clock_monotonic_ms(), slept;

	clock_sleep_ms(0);
	clock_sleep_ms(120);
	slept = clock_monotonic_ms() - start;
	ck_assert_int_ge(slept, 120);
	ck_assert_int_lt(slept, 120 + 2000);
}
END_TEST

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* SIGALRM every 10 ms, its handler returning: the sleep goes on to its end. */
START_TEST(test_sleep_through_signals)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval every = { .it_interval = { 0, 10000 }, .it_value = { 0, 10000 } };
	struct itimerval off = { 0 };
	int64_t start, slept;

	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
	start = clock_monotonic_ms();
	clock_sleep_ms(200);
	slept = clock_monotonic_ms() - start;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
	ck_assert_int_ge(slept, 200);
	ck_assert_int_gt(alarms, 3);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("clock");
	TCase *tc = tcase_create("clocks");

	tcase_add_test(tc, test_monotonic);
	tcase_add_test(tc, test_monotonic_us);
	tcase_add_test(tc, test_wall);
	tcase_add_test(tc, test_sleep);
	tcase_add_test(tc, test_sleep_through_signals);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
