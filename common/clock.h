/*
 * clock: the clocks, and a sleep. clock_monotonic_ms measures intervals and deadlines
 * (CLOCK_MONOTONIC: the same clock in every process of the host, whatever the wall clock does),
 * clock_monotonic_us the same clock for what lasts less than a millisecond (a request);
 * clock_wall_ms is the time of day, for what is shown or stored as one (CLOCK_REALTIME, which
 * libfaketime moves in tests). Any process may use it.
 */
#ifndef NEXTID_CLOCK_H
#define NEXTID_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms. */
int64_t clock_monotonic_ms(void);

/* CLOCK_MONOTONIC in µs: the duration histogram's buckets start below a millisecond. */
int64_t clock_monotonic_us(void);

/* The wall clock in unix ms (CLOCK_REALTIME). */
int64_t clock_wall_ms(void);

/* Sleep for ms milliseconds; a signal whose handler returns does not cut the sleep short. */
void clock_sleep_ms(unsigned ms);

#endif
