/*
 * generator: the arithmetic of the shared id generator. A tick whose 256 sequence numbers are
 * used up makes the next request wait for the next tick (at most 10 ms), which caps a shard at
 * 25,600 ids a second as the layout intends. A clock that stepped back a little keeps issuing on
 * the last tick and then runs ahead of the clock at the clock's pace (the distance stays what the
 * step made it); one that stepped back further than the tolerance gets no ids until it catches
 * up, and one before the epoch gets none until it passes it: never a duplicate either way, and
 * never a wait longer than a tick.
 */
#include "generator.h"
#include "clock.h"

#define TICK_LIMIT (((int64_t)1 << GENERATOR_TIME_BITS) - 1)

/* State layout: tick (39 bits) << 25 | taken_at low bits (17) << 8 | sequence (8). */
#define TAKEN_BITS 17
#define TAKEN_MASK (((uint64_t)1 << TAKEN_BITS) - 1)

uint64_t generator_state(int64_t tick, unsigned seq, int64_t taken_at)
{
	return (uint64_t)tick << (TAKEN_BITS + 8) | ((uint64_t)taken_at & TAKEN_MASK) << 8 |
	       (seq & 0xFF);
}

int64_t generator_state_tick(uint64_t state)
{
	return (int64_t)(state >> (TAKEN_BITS + 8));
}

unsigned generator_state_seq(uint64_t state)
{
	return (unsigned)(state & 0xFF);
}

static uint64_t state_taken(uint64_t state)
{
	return (state >> 8) & TAKEN_MASK;
}

int generator_claim(uint64_t old, int64_t now_tick, int64_t tolerance_ticks, uint64_t *next,
                    int64_t *wait_tick, int64_t *behind_ticks)
{
	int64_t tick = generator_state_tick(old);
	unsigned seq = generator_state_seq(old);

	if (now_tick > tick) {
		if (now_tick > TICK_LIMIT)
			return GENERATOR_EXHAUSTED;
		*next = generator_state(now_tick, 0, now_tick);
		return GENERATOR_OK;
	}
	if (tick - now_tick > tolerance_ticks) {
		*behind_ticks = tick - now_tick;
		return GENERATOR_CLOCK_BACK;
	}
	if (seq < GENERATOR_SEQ_MAX) {
		*next = old + 1;
		return GENERATOR_OK;
	}
	/* The tick is used up. Take the next one only once the clock has moved on since this one
	 * was taken: on time that means waiting for the clock's next tick; behind the clock it
	 * means running ahead at the clock's pace, never faster. */
	if (((uint64_t)now_tick & TAKEN_MASK) == state_taken(old)) {
		*wait_tick = now_tick + 1;
		return GENERATOR_WAIT;
	}
	if (tick + 1 - now_tick > tolerance_ticks) {
		*behind_ticks = tick + 1 - now_tick;
		return GENERATOR_CLOCK_BACK;
	}
	if (tick + 1 > TICK_LIMIT)
		return GENERATOR_EXHAUSTED;
	*next = generator_state(tick + 1, 0, now_tick);
	return GENERATOR_OK;
}

uint64_t generator_id(uint64_t state, uint16_t machine_id)
{
	return (uint64_t)generator_state_tick(state) << 24 | (uint64_t)generator_state_seq(state)
	                                                           << 16 |
	       machine_id;
}

void generator_decompose(uint64_t id, int64_t epoch_ms, struct generator_parts *out)
{
	out->tick = id >> 24;
	out->sequence = (id >> 16) & 0xFF;
	out->machine_id = id & 0xFFFF;
	out->unix_ms = epoch_ms + (int64_t)out->tick * GENERATOR_TICK_MS;
}

/* Sleep until the clock reaches `tick`: at least a millisecond (at the tick's edge that settles
 * it), at most a tick (the caller looks again). */
static void sleep_until_tick(int64_t tick, const struct generator_params *p, int64_t offset_ms,
                             int64_t (*now_ms)(void))
{
	int64_t ms = p->epoch_ms + tick * GENERATOR_TICK_MS - (now_ms() + offset_ms);

	if (ms < 1)
		ms = 1;
	if (ms > GENERATOR_TICK_MS)
		ms = GENERATOR_TICK_MS;
	clock_sleep_ms((unsigned)ms);
}

int generator_take(_Atomic uint64_t *state, const struct generator_params *p, int64_t offset_ms,
                   int64_t (*now_ms)(void), uint64_t *id, int64_t *tick_ms, int64_t *behind_ms)
{
	int64_t tolerance_ticks = p->tolerance_ms / GENERATOR_TICK_MS;

	for (;;) {
		uint64_t old = atomic_load_explicit(state, memory_order_acquire), next;
		int64_t now = now_ms() + offset_ms - p->epoch_ms;
		int64_t wait_tick = 0, behind = 0;
		int rc;

		if (now < 0) {
			/* No tick to issue on: clamped to tick 0, a used-up tick 0 would wait for
			 * tick 1 for as long as the clock stays before the epoch. */
			*behind_ms = -now;
			return GENERATOR_BEFORE_EPOCH;
		}
		rc = generator_claim(old, now / GENERATOR_TICK_MS, tolerance_ticks, &next, &wait_tick,
		                     &behind);
		if (rc == GENERATOR_WAIT) {
			sleep_until_tick(wait_tick, p, offset_ms, now_ms);
			continue;
		}
		if (rc == GENERATOR_CLOCK_BACK) {
			*behind_ms = behind * GENERATOR_TICK_MS;
			return rc;
		}
		if (rc != GENERATOR_OK)
			return rc;
		if (atomic_compare_exchange_weak_explicit(state, &old, next, memory_order_acq_rel,
		                                          memory_order_acquire)) {
			*id = generator_id(next, p->machine_id);
			*tick_ms = p->epoch_ms + generator_state_tick(next) * GENERATOR_TICK_MS;
			return GENERATOR_OK;
		}
	}
}

int generator_resume(int64_t mark_ms, int64_t mark_epoch_ms, int64_t epoch_ms, int64_t now_ms,
                     uint64_t *state, int64_t *offset_ms, int64_t *behind_ms)
{
	int64_t reach = 0, tick;

	*offset_ms = 0;
	if (now_ms < epoch_ms) {
		*behind_ms = epoch_ms - now_ms;
		return GENERATOR_BEFORE_EPOCH;
	}
	if (mark_ms != 0) {
		/* A mark from before the epoch was kept: it counted from the configured one. */
		if (mark_epoch_ms == INT64_MIN)
			mark_epoch_ms = epoch_ms;
		reach = mark_ms > mark_epoch_ms ? mark_ms - mark_epoch_ms : 0;
		/* epoch_ms + reach: when the clock, counted from epoch_ms, reaches the ids issued. */
		if (epoch_ms + reach >= now_ms) {
			if (epoch_ms > mark_epoch_ms) {
				*behind_ms = epoch_ms + reach - now_ms;
				return GENERATOR_EPOCH_LATER;
			}
			*offset_ms = epoch_ms + reach - now_ms + GENERATOR_TICK_MS;
		}
	}
	tick = reach / GENERATOR_TICK_MS;
	if (tick > TICK_LIMIT)
		tick = TICK_LIMIT; /* the next take answers EXHAUSTED */
	/* Sequence 255: the mark's tick counts as used up, so the next id takes a new tick. */
	*state = generator_state(tick, GENERATOR_SEQ_MAX, tick - 1);
	return GENERATOR_OK;
}
