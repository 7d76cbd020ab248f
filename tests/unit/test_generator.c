/*
 * generator: the time-ordered ids of /generate. Tables for generator_claim (new tick, same tick,
 * a used-up tick, a clock behind within and beyond the tolerance, the 39-bit limit, tolerance 0)
 * and for walks of claims against a clock that demands more than 256 ids a tick; for the state
 * word and the id layout (generator_id and generator_decompose both ways); for generator_take with
 * a fake clock; then a used-up tick that must wait for the next one, and four processes sharing
 * one state word with the real clock.
 */
#include "generator.h"
#include "clock.h"
#include "unit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define EPOCH_MS INT64_C(1640995200000) /* 2022-01-01T00:00:00Z, the default epoch */
#define LIMIT (((int64_t)1 << GENERATOR_TIME_BITS) - 1) /* the last tick of 39 bits */
/* A state whose tick was taken while the clock was on that tick (the usual case). */
#define ST(tick, seq) generator_state((tick), (seq), (tick))
/* The id of tick, sequence and machine, spelled out. */
#define ID(tick, seq, machine)                                                               \
	((uint64_t)(tick) << 24 | (uint64_t)(seq) << 16 | (uint64_t)(machine))
#define UNSET INT64_C(-777) /* what an output holds when the call did not set it */

static const char *rc_name(int rc)
{
	switch (rc) {
	case GENERATOR_OK:
		return "OK";
	case GENERATOR_WAIT:
		return "WAIT";
	case GENERATOR_CLOCK_BACK:
		return "CLOCK_BACK";
	case GENERATOR_EXHAUSTED:
		return "EXHAUSTED";
	case GENERATOR_BEFORE_EPOCH:
		return "BEFORE_EPOCH";
	case GENERATOR_EPOCH_LATER:
		return "EPOCH_LATER";
	default:
		return "(unknown)";
	}
}

/*
 * generator_claim. The state is a tick, a sequence, and the clock's tick when that tick was taken
 * (AT: the state's own tick; AT3: another). On OK the row gives the next state's tick and
 * sequence (a new tick records the clock's tick as taken; the same tick keeps it); on WAIT the
 * tick to wait for; on CLOCK_BACK how many ticks the clock is behind.
 */
struct claim_row {
	int line;
	int64_t tick;     /* the state's tick */
	unsigned seq;     /* and sequence */
	int64_t taken;    /* the clock's tick when the state's tick was taken */
	int64_t now;      /* the clock's tick */
	int64_t tolerance; /* in ticks */
	int rc;
	int64_t next_tick; /* OK: the next state; WAIT: the tick to wait for; CLOCK_BACK: behind */
	unsigned next_seq;
	const char *desc;
};

#define AT(t, s) (t), (s), (t)
#define AT3(t, s, c) (t), (s), (c)
#define OK_(t, s) GENERATOR_OK, (t), (s)
#define WAIT_(t) GENERATOR_WAIT, (t), 0
#define BACK_(b) GENERATOR_CLOCK_BACK, (b), 0
#define EXH_ GENERATOR_EXHAUSTED, 0, 0
#define BEFORE_(b) GENERATOR_BEFORE_EPOCH, (b), 0

static const struct claim_row claim_rows[] = {
	/* the clock reached a new tick: sequence 0 of it */
	{ __LINE__, AT(100, 5), 101, 100, OK_(101, 0), "the next tick resets the sequence" },
	{ __LINE__, AT(100, 255), 101, 100, OK_(101, 0), "the next tick after a used-up one" },
	{ __LINE__, AT(100, 0), 5000, 100, OK_(5000, 0), "a tick far ahead (an idle pool)" },
	{ __LINE__, AT(0, 0), 1, 0, OK_(1, 0), "from the zero state" },
	{ __LINE__, AT(0, 0), 190000000000, 100, OK_(190000000000, 0), "a tick of today" },

	/* the same tick: the next sequence */
	{ __LINE__, AT(100, 0), 100, 100, OK_(100, 1), "the same tick increments" },
	{ __LINE__, AT(100, 7), 100, 100, OK_(100, 8), "the same tick, sequence 7" },
	{ __LINE__, AT(100, 254), 100, 100, OK_(100, 255), "254 to the last sequence" },
	{ __LINE__, AT(0, 0), 0, 0, OK_(0, 1), "the zero state on tick 0" },

	/* the current tick is used up: wait for the next */
	{ __LINE__, AT(100, 255), 100, 100, WAIT_(101), "sequence 255 on the current tick waits" },
	{ __LINE__, AT(100, 255), 100, 0, WAIT_(101), "it waits with tolerance 0 too" },
	{ __LINE__, AT(0, 255), 0, 100, WAIT_(1), "tick 0 used up" },

	/* the clock is behind, within the tolerance: keep going on the last tick, then run ahead */
	{ __LINE__, AT(100, 5), 90, 100, OK_(100, 6), "behind 10: the sequence goes on" },
	{ __LINE__, AT(100, 5), 99, 1, OK_(100, 6), "behind 1 of tolerance 1" },
	{ __LINE__, AT(100, 5), 0, 100, OK_(100, 6), "behind exactly the tolerance" },
	{ __LINE__, AT(100, 254), 50, 100, OK_(100, 255), "behind: up to sequence 255" },
	{ __LINE__, AT(100, 255), 90, 100, OK_(101, 0), "behind at 255: runs ahead, no waiting" },
	{ __LINE__, AT(100, 255), 99, 100, OK_(101, 0), "behind 1 at 255: runs ahead" },
	{ __LINE__, AT(100, 255), 1, 100, OK_(101, 0), "running ahead to exactly the tolerance" },
	{ __LINE__, AT(100, 255), 100, 100, WAIT_(101), "not behind at 255: waits, does not run ahead" },

	/* behind, a used-up tick moves on at the clock's pace: once per tick of the clock */
	{ __LINE__, AT3(100, 5, 90), 90, 100, OK_(100, 6), "taken on this clock tick: 5 to 6" },
	{ __LINE__, AT3(100, 255, 90), 90, 100, WAIT_(91),
	  "behind at 255, taken on this clock tick: waits for the clock's next" },
	{ __LINE__, AT3(100, 255, 89), 90, 100, OK_(101, 0),
	  "behind at 255, taken on the clock's previous tick: runs ahead" },
	{ __LINE__, AT3(100, 255, 10), 90, 100, OK_(101, 0),
	  "behind at 255, taken long ago: runs ahead" },

	/* behind beyond the tolerance */
	{ __LINE__, AT(100, 5), 0, 99, BACK_(100), "behind 100 of tolerance 99" },
	{ __LINE__, AT(100, 5), 89, 10, BACK_(11), "behind 11 of tolerance 10" },
	{ __LINE__, AT(100000, 0), 0, 100, BACK_(100000), "far behind" },
	{ __LINE__, AT(100, 255), 0, 100, BACK_(101), "running ahead would exceed the tolerance" },
	{ __LINE__, AT(100, 255), 90, 10, BACK_(11), "running ahead would exceed tolerance 10" },
	{ __LINE__, AT(100, 255), 89, 10, BACK_(11), "behind 11 of 10 at 255" },

	/* tolerance 0: any step back stops ids */
	{ __LINE__, AT(100, 5), 100, 0, OK_(100, 6), "tolerance 0, same tick" },
	{ __LINE__, AT(100, 5), 101, 0, OK_(101, 0), "tolerance 0, next tick" },
	{ __LINE__, AT(100, 5), 99, 0, BACK_(1), "tolerance 0, behind 1" },
	{ __LINE__, AT(100, 255), 99, 0, BACK_(1), "tolerance 0, behind 1 at 255" },

	/* the 39 bits of time */
	{ __LINE__, AT(LIMIT - 1, 3), LIMIT, 100, OK_(LIMIT, 0), "the last tick is still issued" },
	{ __LINE__, AT(LIMIT, 3), LIMIT, 100, OK_(LIMIT, 4), "the last tick's sequence goes on" },
	{ __LINE__, AT(LIMIT - 1, 255), LIMIT - 2, 100, OK_(LIMIT, 0), "running ahead onto the last" },
	{ __LINE__, AT(LIMIT - 1, 3), LIMIT + 1, 100, EXH_, "the clock past 39 bits" },
	{ __LINE__, AT(100, 0), INT64_MAX, 100, EXH_, "the clock at INT64_MAX" },
	{ __LINE__, AT(LIMIT, 255), LIMIT - 1, 100, EXH_, "running ahead past 39 bits" },
	{ __LINE__, AT(LIMIT, 255), LIMIT + 1, 100, EXH_, "the next tick past 39 bits" },
};

START_TEST(test_claim)
{
	const struct claim_row *row = &claim_rows[_i];
	uint64_t next = (uint64_t)UNSET, want;
	int64_t wait_tick = UNSET, behind = UNSET;
	int rc = generator_claim(generator_state(row->tick, row->seq, row->taken), row->now,
	                         row->tolerance, &next, &wait_tick, &behind);

	ck_assert_msg(rc == row->rc, "line %d: %s: %s, want %s", row->line, row->desc,
	              rc_name(rc), rc_name(row->rc));
	switch (rc) {
	case GENERATOR_OK:
		ck_assert_msg(generator_state_tick(next) == row->next_tick &&
		                  generator_state_seq(next) == row->next_seq,
		              "line %d: %s: next tick %" PRId64 " seq %u, want %" PRId64 " seq %u",
		              row->line, row->desc, generator_state_tick(next),
		              generator_state_seq(next), row->next_tick, row->next_seq);
		/* A new tick is taken now; the same tick keeps when it was taken. */
		want = generator_state(row->next_tick, row->next_seq,
		                       row->next_tick == row->tick ? row->taken : row->now);
		ck_assert_msg(next == want, "line %d: %s: next state 0x%" PRIx64 ", want 0x%" PRIx64
		              " (taken at the wrong clock tick)", row->line, row->desc, next, want);
		break;
	case GENERATOR_WAIT:
		ck_assert_msg(wait_tick == row->next_tick, "line %d: %s: wait for %" PRId64
		              ", want %" PRId64, row->line, row->desc, wait_tick, row->next_tick);
		break;
	case GENERATOR_CLOCK_BACK:
		ck_assert_msg(behind == row->next_tick, "line %d: %s: behind %" PRId64
		              ", want %" PRId64, row->line, row->desc, behind, row->next_tick);
		break;
	default:
		break;
	}
}
END_TEST

/*
 * Walks of claims: a clock that asks for `demand` ids in each of its ticks (more than the 256 a
 * tick holds), starting `behind` ticks behind the state. Every tick of the clock issues at most
 * 256 ids (the first may also finish the state's own tick) and, once the state is used up, waits
 * for the clock's next tick (WAIT names it); the
 * distance to the clock never grows past what the step made it (plus the one tick a used-up tick
 * moves on), so a step back within the tolerance never turns into CLOCK_BACK however hard the
 * clients push.
 */
struct walk_row {
	int line;
	int64_t behind;    /* the clock's first tick is the state's tick minus this */
	unsigned seq;      /* the state's sequence at the start */
	int64_t tolerance; /* in ticks */
	int demand;        /* claims in each tick of the clock */
	int clock_ticks;
	const char *desc;
};

static const struct walk_row walk_rows[] = {
	{ __LINE__, 0, 0, 100, 1000, 40, "on time" },
	{ __LINE__, 0, 255, 100, 300, 40, "on time, the first tick used up" },
	{ __LINE__, 20, 0, 100, 1000, 60, "200 ms behind (tolerance 1 s)" },
	{ __LINE__, 20, 255, 100, 257, 60, "200 ms behind, 257 a tick" },
	{ __LINE__, 50, 100, 100, 5000, 60, "500 ms behind, 5000 a tick" },
	{ __LINE__, 99, 0, 100, 1000, 60, "a tick short of the tolerance" },
	{ __LINE__, 5, 0, 10, 1000, 60, "50 ms behind, tolerance 100 ms" },
};

START_TEST(test_claim_walk)
{
	const struct walk_row *row = &walk_rows[_i];
	const int64_t start = 1000000;
	uint64_t state = generator_state(start, row->seq, start);
	int64_t last_tick = start, last_seq = row->seq, total = 0;

	for (int64_t c = start - row->behind; c < start - row->behind + row->clock_ticks; c++) {
		int issued = 0, waited = 0;

		for (int k = 0; k < row->demand && !waited; k++) {
			uint64_t next = 0;
			int64_t wait_tick = UNSET, back = UNSET, tick;
			int rc = generator_claim(state, c, row->tolerance, &next, &wait_tick, &back);

			ck_assert_msg(rc == GENERATOR_OK || rc == GENERATOR_WAIT,
			              "line %d: %s: clock tick %+" PRId64 ", claim %d: %s (behind %" PRId64
			              ")", row->line, row->desc, c - start, k, rc_name(rc), back);
			if (rc == GENERATOR_WAIT) {
				ck_assert_msg(wait_tick == c + 1, "line %d: %s: clock tick %+" PRId64
				              ": wait for %+" PRId64, row->line, row->desc, c - start,
				              wait_tick - start);
				waited = 1;
				continue;
			}
			tick = generator_state_tick(next);
			ck_assert_msg(tick > last_tick ||
			                  (tick == last_tick && generator_state_seq(next) > last_seq),
			              "line %d: %s: tick %" PRId64 " seq %u after tick %" PRId64
			              " seq %" PRId64, row->line, row->desc, tick - start,
			              generator_state_seq(next), last_tick - start, last_seq);
			ck_assert_msg(tick - c <= (row->behind > 0 ? row->behind + 1 : 0),
			              "line %d: %s: clock tick %+" PRId64 ": an id on tick %+" PRId64
			              ", %" PRId64 " ahead", row->line, row->desc, c - start,
			              tick - start, tick - c);
			last_tick = tick;
			last_seq = generator_state_seq(next);
			state = next;
			issued++;
		}
		ck_assert_msg(issued <= (c == start - row->behind ? 512 - (int)row->seq : 256),
		              "line %d: %s: %d ids on clock tick %+" PRId64, row->line, row->desc,
		              issued, c - start);
		ck_assert_msg(waited, "line %d: %s: clock tick %+" PRId64 ": %d claims never waited",
		              row->line, row->desc, c - start, row->demand);
		total += issued;
	}
	/* Not starved either: 256 a clock tick, but for the first. */
	ck_assert_msg(total >= 256 * (int64_t)(row->clock_ticks - 1), "line %d: %s: only %" PRId64
	              " ids in %d clock ticks", row->line, row->desc, total, row->clock_ticks);
}
END_TEST

/*
 * The layout: a state holds its tick and sequence whenever the clock took it (taken is no part
 * of the id), the id of a state, and the parts of an id.
 */
struct layout_row {
	int line;
	uint64_t tick, seq;
	uint16_t machine;
	uint64_t id;
	const char *desc;
};

static const struct layout_row layout_rows[] = {
	{ __LINE__, 0, 0, 1, 1, "tick 0, machine 1" },
	{ __LINE__, 1, 2, 3, 0x1020003, "one of each" },
	{ __LINE__, 0, 255, 0, 0xFF0000, "sequence 255 alone" },
	{ __LINE__, 0, 0, 65535, 0xFFFF, "machine 65535 alone" },
	{ __LINE__, 1, 0, 0, 0x1000000, "tick 1 alone" },
	{ __LINE__, 12345, 255, 65535, 0x3039FFFFFF, "sequence 255, machine 65535" },
	{ __LINE__, 190000000000, 17, 42, 190000000000ULL << 24 | 17 << 16 | 42, "a tick of today" },
	{ __LINE__, (uint64_t)LIMIT, 0, 1, 0x7FFFFFFFFF000001, "the max tick" },
	{ __LINE__, (uint64_t)LIMIT, 255, 65535, 0x7FFFFFFFFFFFFFFF, "every field at its max" },
};

START_TEST(test_layout)
{
	const struct layout_row *row = &layout_rows[_i];
	static const int64_t takens[] = { 0, 1, 12345, 0x1FFFF, 0x20000, INT64_MAX };
	struct generator_parts parts;

	for (size_t k = 0; k < sizeof(takens) / sizeof(takens[0]); k++) {
		int64_t taken = k == 0 ? (int64_t)row->tick : takens[k];
		uint64_t state = generator_state((int64_t)row->tick, (unsigned)row->seq, taken);
		uint64_t id = generator_id(state, row->machine);

		ck_assert_msg(generator_state_tick(state) == (int64_t)row->tick &&
		                  generator_state_seq(state) == row->seq,
		              "line %d: %s: taken %" PRId64 ": the state holds tick %" PRId64
		              " seq %u", row->line, row->desc, taken, generator_state_tick(state),
		              generator_state_seq(state));
		ck_assert_msg(id == row->id, "line %d: %s: taken %" PRId64 ": id 0x%" PRIx64
		              ", want 0x%" PRIx64, row->line, row->desc, taken, id, row->id);
	}
	ck_assert_msg(ID(row->tick, row->seq, row->machine) == row->id, "line %d: %s: the row",
	              row->line, row->desc);
	memset(&parts, 0x5a, sizeof(parts));
	generator_decompose(row->id, EPOCH_MS, &parts);
	ck_assert_msg(parts.tick == row->tick && parts.sequence == row->seq &&
	                  parts.machine_id == row->machine,
	              "line %d: %s: decomposed into tick %" PRIu64 " seq %" PRIu64
	              " machine %" PRIu64,
	              row->line, row->desc, parts.tick, parts.sequence, parts.machine_id);
	ck_assert_msg(parts.unix_ms == EPOCH_MS + (int64_t)row->tick * GENERATOR_TICK_MS,
	              "line %d: %s: unix_ms %" PRId64, row->line, row->desc, parts.unix_ms);
	/* Another epoch moves unix_ms only. */
	generator_decompose(row->id, 0, &parts);
	ck_assert_msg(parts.unix_ms == (int64_t)row->tick * GENERATOR_TICK_MS && parts.tick == row->tick,
	              "line %d: %s: epoch 0: unix_ms %" PRId64, row->line, row->desc, parts.unix_ms);
}
END_TEST

/* Any 64-bit number decomposes into its bit fields, past the 63 bits ids use too. */
START_TEST(test_decompose_any)
{
	struct generator_parts parts;

	generator_decompose(UINT64_MAX, EPOCH_MS, &parts);
	ck_assert_uint_eq(parts.tick, 0xFFFFFFFFFFULL);
	ck_assert_uint_eq(parts.sequence, 255);
	ck_assert_uint_eq(parts.machine_id, 65535);
	ck_assert_int_eq(parts.unix_ms, EPOCH_MS + INT64_C(0xFFFFFFFFFF) * 10);
	generator_decompose(0, EPOCH_MS, &parts);
	ck_assert_uint_eq(parts.tick | parts.sequence | parts.machine_id, 0);
	ck_assert_int_eq(parts.unix_ms, EPOCH_MS);
}
END_TEST

/*
 * The fake clock: it answers fake_us / 1000 and moves fake_step_us forward at every call, so a
 * test that waits for a tick always gets there; fake_calls counts the calls.
 */
static int64_t fake_us, fake_step_us;
static long fake_calls;

static int64_t fake_clock(void)
{
	int64_t ms = fake_us / 1000;

	fake_us += fake_step_us;
	fake_calls++;
	return ms;
}

static void fake_set(int64_t ms, int64_t step_us)
{
	fake_us = ms * 1000;
	fake_step_us = step_us;
	fake_calls = 0;
}

static const struct generator_params params = { .epoch_ms = EPOCH_MS, .machine_id = 7,
	                                        .tolerance_ms = 1000 };

/* generator_take against a frozen fake clock: one take from a given state. */
struct take_row {
	int line;
	int64_t tick;
	unsigned seq;      /* the state before */
	int64_t clock_ms;  /* the fake clock, ms after the epoch (may be negative) */
	int64_t offset_ms;
	int64_t tolerance_ms;
	int rc;
	int64_t want_tick; /* OK: the id's tick; CLOCK_BACK: behind_ms */
	unsigned want_seq;
	const char *desc;
};

static const struct take_row take_rows[] = {
	{ __LINE__, 0, 0, 12345, 0, 1000, OK_(1234, 0), "from the zero state" },
	{ __LINE__, 1234, 0, 12345, 0, 1000, OK_(1234, 1), "the same tick" },
	{ __LINE__, 1234, 9, 12350, 0, 1000, OK_(1235, 0), "the next tick" },
	{ __LINE__, 0, 0, 5000, 20000, 1000, OK_(2500, 0), "a positive offset moves the tick" },
	{ __LINE__, 0, 0, 5000, -3000, 1000, OK_(200, 0), "a negative offset moves it back" },
	{ __LINE__, 2000, 4, 5000, 15000, 1000, OK_(2000, 5), "offset: the same tick" },
	{ __LINE__, 2000, 4, 5000, 0, 1000, BACK_(15000), "without the offset: far behind" },
	{ __LINE__, 1000, 5, 8000, 0, 1000, BACK_(2000), "2 s behind, tolerance 1 s" },
	{ __LINE__, 1000, 5, 8000, 0, 2000, OK_(1000, 6), "2 s behind, tolerance 2 s" },
	{ __LINE__, 1000, 5, 9990, 0, 0, BACK_(10), "one tick behind, tolerance 0" },
	{ __LINE__, 1000, 255, 9500, 0, 1000, OK_(1001, 0), "behind at 255: runs ahead" },
	/* a clock before the epoch has no tick to issue on: refused at once, never a wait */
	{ __LINE__, 1000, 5, -50000, 0, 1000, BEFORE_(50000), "a clock before the epoch" },
	{ __LINE__, 0, 255, -1, 0, 1000, BEFORE_(1), "1 ms before, tick 0 used up" },
	{ __LINE__, 0, 0, -1, 0, 1000, BEFORE_(1), "1 ms before, the zero state" },
	{ __LINE__, 0, 255, -86400000, 0, 1000, BEFORE_(86400000), "a day before, tick 0 used up" },
	{ __LINE__, 1, 255, -5, 0, 1000, BEFORE_(5), "5 ms before, tick 1 used up" },
	{ __LINE__, 0, 255, 5000, -6000, 1000, BEFORE_(1000), "an offset that puts it before" },
	{ __LINE__, 0, 0, -5000, 20000, 1000, OK_(1500, 0), "an offset that puts it past" },
	{ __LINE__, 0, 5, 0, 0, 1000, OK_(0, 6), "on the epoch itself: tick 0 is a tick" },
	{ __LINE__, 0, 0, (LIMIT + 1) * 10, 0, 1000, EXH_, "the clock past 39 bits of ticks" },
	{ __LINE__, 0, 0, 0, (LIMIT + 1) * 10, 1000, EXH_, "the offset past 39 bits" },
};

START_TEST(test_take)
{
	const struct take_row *row = &take_rows[_i];
	struct generator_params p = params;
	_Atomic uint64_t state = ST(row->tick, row->seq);
	uint64_t id = (uint64_t)UNSET;
	int64_t tick_ms = UNSET, behind_ms = UNSET;
	int rc;

	p.tolerance_ms = row->tolerance_ms;
	fake_set(EPOCH_MS + row->clock_ms, 0);
	rc = generator_take(&state, &p, row->offset_ms, fake_clock, &id, &tick_ms, &behind_ms);
	ck_assert_msg(rc == row->rc, "line %d: %s: %s, want %s", row->line, row->desc,
	              rc_name(rc), rc_name(row->rc));
	if (rc == GENERATOR_OK) {
		uint64_t want = ID(row->want_tick, row->want_seq, p.machine_id);

		ck_assert_msg(id == want, "line %d: %s: id tick %" PRIu64 " seq %" PRIu64
		              ", want %" PRId64 " seq %u", row->line, row->desc, id >> 24,
		              (id >> 16) & 0xFF, row->want_tick, row->want_seq);
		ck_assert_msg(tick_ms == EPOCH_MS + row->want_tick * GENERATOR_TICK_MS,
		              "line %d: %s: tick_ms %" PRId64, row->line, row->desc, tick_ms);
		ck_assert_msg(generator_state_tick(atomic_load(&state)) == row->want_tick &&
		                  generator_state_seq(atomic_load(&state)) == row->want_seq,
		              "line %d: %s: the state was not advanced", row->line, row->desc);
		ck_assert_msg(fake_calls == 1, "line %d: %s: %ld clock calls: it waited", row->line,
		              row->desc, fake_calls);
		return;
	}
	ck_assert_msg(fake_calls == 1, "line %d: %s: %ld clock calls: it waited", row->line,
	              row->desc, fake_calls);
	if (rc == GENERATOR_CLOCK_BACK || rc == GENERATOR_BEFORE_EPOCH)
		ck_assert_msg(behind_ms == row->want_tick, "line %d: %s: behind_ms %" PRId64
		              ", want %" PRId64, row->line, row->desc, behind_ms, row->want_tick);
	ck_assert_msg(atomic_load(&state) == ST(row->tick, row->seq),
	              "line %d: %s: a refused take changed the state", row->line, row->desc);
}
END_TEST

/* Consecutive takes strictly increase, and each carries the clock's tick when there is room. */
START_TEST(test_take_increases)
{
	_Atomic uint64_t state = 0;
	uint64_t last = 0;
	int ticks = 0;

	/* 40 us a call: fewer than 256 calls a tick, so no take has to wait. */
	fake_set(EPOCH_MS + 777777, 40);
	for (int i = 0; i < 3000; i++) {
		int64_t before = fake_us / 1000, tick_ms = 0, behind = 0;
		uint64_t id = 0;
		struct generator_parts parts;
		int rc = generator_take(&state, &params, 0, fake_clock, &id, &tick_ms, &behind);

		ck_assert_msg(rc == GENERATOR_OK, "take %d: %s", i, rc_name(rc));
		ck_assert_msg(i == 0 || id > last, "take %d: id %" PRIu64 " after %" PRIu64, i, id,
		              last);
		generator_decompose(id, EPOCH_MS, &parts);
		ck_assert_msg(parts.machine_id == 7, "take %d: machine %" PRIu64, i, parts.machine_id);
		ck_assert_msg(parts.unix_ms == tick_ms, "take %d: tick_ms %" PRId64 " but the id says %"
		              PRId64, i, tick_ms, parts.unix_ms);
		ck_assert_msg(tick_ms == before - (before - EPOCH_MS) % GENERATOR_TICK_MS,
		              "take %d: tick_ms %" PRId64 " for a clock at %" PRId64, i, tick_ms,
		              before);
		if (i > 0 && parts.tick != (last >> 24)) {
			ck_assert_msg(parts.sequence == 0, "take %d: a new tick starts at sequence %" PRIu64,
			              i, parts.sequence);
			ticks++;
		}
		last = id;
	}
	ck_assert_msg(ticks >= 10, "3000 takes crossed only %d ticks", ticks);
}
END_TEST

/* 256 takes use up a tick; the 257th waits for the next tick, and not longer. */
START_TEST(test_take_waits_for_the_next_tick)
{
	const int64_t start = EPOCH_MS + 55550 + 3; /* 3 ms into tick 5555 */
	_Atomic uint64_t state = ST(5554, 17);
	uint64_t id = 0;
	int64_t tick_ms = 0, behind = 0;
	int64_t t0, real_ms;

	fake_set(start, 0); /* frozen */
	for (uint64_t i = 0; i < 256; i++) {
		ck_assert_int_eq(generator_take(&state, &params, 0, fake_clock, &id, &tick_ms, &behind),
		                 GENERATOR_OK);
		ck_assert_msg(id == ID(5555, i, 7), "take %" PRIu64 ": tick %" PRIu64
		              " seq %" PRIu64, i, id >> 24, (id >> 16) & 0xFF);
	}
	ck_assert_int_eq(fake_calls, 256);

	/* From now on the clock moves 1 ms a call: 7 ms to the next tick. */
	fake_step_us = 1000;
	fake_calls = 0;
	t0 = clock_monotonic_ms();
	ck_assert_int_eq(generator_take(&state, &params, 0, fake_clock, &id, &tick_ms, &behind),
	                 GENERATOR_OK);
	real_ms = clock_monotonic_ms() - t0;
	ck_assert_msg(id == ID(5556, 0, 7), "the 257th: tick %" PRIu64 " seq %" PRIu64
	              ", want 5556 seq 0", id >> 24, (id >> 16) & 0xFF);
	ck_assert_int_eq(tick_ms, EPOCH_MS + 55560);
	ck_assert_msg(fake_calls > 1, "the 257th did not look at the clock again: it did not wait");
	ck_assert_msg(fake_us / 1000 <= EPOCH_MS + 55560 + 2,
	              "the 257th waited until %" PRId64 " ms, past the next tick",
	              fake_us / 1000 - EPOCH_MS);
	ck_assert_msg(real_ms < 1000, "the 257th took %" PRId64 " ms of real time", real_ms);
}
END_TEST

/*
 * generator_resume: where the generator starts from the store's mark, the epoch it was counted
 * from, the configured epoch and the clock. Ids are told apart by their tick, so the mark counts
 * as a distance from its own epoch whatever the configured one is now.
 */
#define DAY INT64_C(86400000)
#define YEAR (365 * DAY)
#define NOW (EPOCH_MS + 4 * YEAR + 12345)   /* the clock in these rows: early 2026 */
#define NO_EPOCH INT64_MIN
#define NO_MARK 0, NO_EPOCH

struct resume_row {
	int line;
	int64_t mark_ms, mark_epoch_ms, epoch_ms, now_ms;
	int rc;
	int64_t tick;   /* OK: the state's tick (used up) */
	int64_t offset; /* OK: offset_ms; BEFORE_EPOCH, EPOCH_LATER: behind_ms */
	const char *desc;
};

static const struct resume_row resume_rows[] = {
	/* a new store */
	{ __LINE__, NO_MARK, EPOCH_MS, NOW, GENERATOR_OK, 0, 0, "no mark: tick 0, the clock rules" },
	{ __LINE__, NO_MARK, EPOCH_MS, EPOCH_MS, GENERATOR_OK, 0, 0, "no mark, the clock on the epoch" },
	{ __LINE__, NO_MARK, EPOCH_MS, EPOCH_MS - 1, GENERATOR_BEFORE_EPOCH, 0, 1,
	  "the clock 1 ms before the epoch" },
	{ __LINE__, NO_MARK, NOW + YEAR, NOW, GENERATOR_BEFORE_EPOCH, 0, YEAR,
	  "an epoch a year in the future" },
	{ __LINE__, NO_MARK, EPOCH_MS, EPOCH_MS - 3 * YEAR, GENERATOR_BEFORE_EPOCH, 0, 3 * YEAR,
	  "a host clock from before 2022 on a new install" },

	/* the same epoch: as before the epoch was kept */
	{ __LINE__, NOW - 60000, EPOCH_MS, EPOCH_MS, NOW, GENERATOR_OK,
	  (4 * YEAR + 12345 - 60000) / 10, 0, "a mark a minute old" },
	{ __LINE__, NOW + 5000, EPOCH_MS, EPOCH_MS, NOW, GENERATOR_OK, (4 * YEAR + 17345) / 10,
	  5010, "a quick restart: the lease's 5 s ahead" },
	{ __LINE__, NOW, EPOCH_MS, EPOCH_MS, NOW, GENERATOR_OK, (4 * YEAR + 12345) / 10, 10,
	  "a mark on the clock: a tick ahead" },
	{ __LINE__, NOW + 3600000, EPOCH_MS, EPOCH_MS, NOW, GENERATOR_OK,
	  (4 * YEAR + 12345 + 3600000) / 10, 3600010, "the clock set back an hour" },
	{ __LINE__, NOW - 60000, NO_EPOCH, EPOCH_MS, NOW, GENERATOR_OK,
	  (4 * YEAR + 12345 - 60000) / 10, 0, "a mark without its epoch counts from the configured" },
	{ __LINE__, NOW + 3600000, NO_EPOCH, EPOCH_MS, NOW, GENERATOR_OK,
	  (4 * YEAR + 12345 + 3600000) / 10, 3600010, "without its epoch, an hour ahead" },

	/* the epoch moved earlier: ids continue above the old ones, on the clock */
	{ __LINE__, NOW + 5000, EPOCH_MS + 2 * YEAR, EPOCH_MS, NOW, GENERATOR_OK,
	  (2 * YEAR + 12345 + 5000) / 10, 0, "two years earlier: the old ids' ticks, no offset" },
	{ __LINE__, NOW + 5000, EPOCH_MS + 1000, EPOCH_MS, NOW, GENERATOR_OK,
	  (4 * YEAR + 12345 + 4000) / 10, 4010, "a second earlier, within the lease" },
	{ __LINE__, NOW + 3 * YEAR, EPOCH_MS + 2 * YEAR, EPOCH_MS, NOW, GENERATOR_OK,
	  (5 * YEAR + 12345) / 10, YEAR + 10, "earlier by less than the clock was set back" },
	/* a mark written under an epoch that was wrong, in the future of the real clock (the clock
	 * ran ahead then, or ids were clamped to tick 0 before that was refused): fixed, no drift */
	{ __LINE__, NOW + 3 * YEAR + 5010, NOW + 3 * YEAR, EPOCH_MS, NOW, GENERATOR_OK, 501, 0,
	  "a wrong epoch 3 years ahead, fixed: tick 501, on the clock" },
	{ __LINE__, NOW + 3 * YEAR + 5010, NO_EPOCH, EPOCH_MS, NOW, GENERATOR_OK,
	  (7 * YEAR + 12345 + 5010) / 10, 3 * YEAR + 5020,
	  "the same mark without its epoch cannot be told from a clock set back" },

	/* the epoch moved later: refused while the clock, counted from it, is behind old ids */
	{ __LINE__, NOW + 5000, EPOCH_MS, EPOCH_MS + 2 * YEAR, NOW, GENERATOR_EPOCH_LATER, 0,
	  2 * YEAR + 5000, "two years later: ids would repeat or run two years ahead" },
	{ __LINE__, NOW - 60000, EPOCH_MS, EPOCH_MS + 1000, NOW, GENERATOR_OK,
	  (4 * YEAR + 12345 - 60000) / 10, 0, "a second later, a mark a minute old: passed" },
	{ __LINE__, NOW - 60000, EPOCH_MS, EPOCH_MS + 60000, NOW, GENERATOR_EPOCH_LATER, 0, 0,
	  "a minute later, a mark a minute old: the clock on it" },
	{ __LINE__, NOW - 60000, EPOCH_MS, EPOCH_MS + 59990, NOW, GENERATOR_OK,
	  (4 * YEAR + 12345 - 60000) / 10, 0, "a tick less than a minute later: past it" },
	{ __LINE__, NOW - 2 * YEAR, EPOCH_MS, EPOCH_MS + YEAR, NOW, GENERATOR_OK,
	  (2 * YEAR + 12345) / 10, 0, "a year later, the last ids two years old: allowed" },
	{ __LINE__, NOW + 5000, EPOCH_MS - YEAR, EPOCH_MS, EPOCH_MS + 1, GENERATOR_EPOCH_LATER, 0,
	  5 * YEAR + 12345 + 5000 - 1, "later, the clock just past the new epoch" },

	/* odd marks */
	{ __LINE__, EPOCH_MS - 5000, NO_EPOCH, EPOCH_MS, NOW, GENERATOR_OK, 0, 0,
	  "a mark before its epoch: tick 0" },
	{ __LINE__, EPOCH_MS + (LIMIT + 5) * 10, EPOCH_MS, EPOCH_MS,
	  EPOCH_MS + (LIMIT + 10) * 10, GENERATOR_OK, LIMIT, 0,
	  "a mark past 39 bits: the last tick, used up" },
};

START_TEST(test_resume)
{
	const struct resume_row *row = &resume_rows[_i];
	uint64_t state = (uint64_t)UNSET;
	int64_t offset = UNSET, behind = UNSET;
	int rc = generator_resume(row->mark_ms, row->mark_epoch_ms, row->epoch_ms, row->now_ms,
	                          &state, &offset, &behind);

	ck_assert_msg(rc == row->rc, "line %d: %s: %s, want %s", row->line, row->desc,
	              rc_name(rc), rc_name(row->rc));
	if (rc != GENERATOR_OK) {
		ck_assert_msg(behind == row->offset, "line %d: %s: behind %" PRId64 ", want %" PRId64,
		              row->line, row->desc, behind, row->offset);
		return;
	}
	ck_assert_msg(generator_state_tick(state) == row->tick &&
	                  generator_state_seq(state) == GENERATOR_SEQ_MAX,
	              "line %d: %s: tick %" PRId64 " seq %u, want %" PRId64 " seq 255", row->line,
	              row->desc, generator_state_tick(state), generator_state_seq(state), row->tick);
	ck_assert_msg(offset == row->offset, "line %d: %s: offset %" PRId64 ", want %" PRId64,
	              row->line, row->desc, offset, row->offset);
}
END_TEST

/*
 * After a resume, the next take comes after every id the mark covers, on the clock (plus the
 * offset): for the same epoch, an epoch moved earlier, and a wrong epoch put right.
 */
struct resume_take_row {
	int line;
	int64_t mark_ms, mark_epoch_ms, epoch_ms;
	const char *desc;
};

static const struct resume_take_row resume_take_rows[] = {
	{ __LINE__, NOW + 5000, EPOCH_MS, EPOCH_MS, "the same epoch, a quick restart" },
	{ __LINE__, NOW - 60000, EPOCH_MS, EPOCH_MS, "the same epoch, a minute later" },
	{ __LINE__, NOW + 5000, EPOCH_MS + 2 * YEAR, EPOCH_MS, "two years earlier" },
	{ __LINE__, NOW + 5000, EPOCH_MS + 1000, EPOCH_MS, "a second earlier" },
	{ __LINE__, NOW + 3 * YEAR + 5010, NOW + 3 * YEAR, EPOCH_MS, "a wrong epoch put right" },
	{ __LINE__, NOW - 2 * YEAR, EPOCH_MS, EPOCH_MS + YEAR, "a year later, old ids" },
};

START_TEST(test_resume_then_take)
{
	const struct resume_take_row *row = &resume_take_rows[_i];
	struct generator_params p = params;
	_Atomic uint64_t shared;
	uint64_t state = 0, id = 0;
	int64_t offset = 0, behind = 0, tick_ms = 0;
	/* The largest tick the mark covers, counted from its own epoch: every old id is below. */
	int64_t old_tick = (row->mark_ms - row->mark_epoch_ms) / GENERATOR_TICK_MS;

	ck_assert_int_eq(generator_resume(row->mark_ms, row->mark_epoch_ms, row->epoch_ms, NOW,
	                                  &state, &offset, &behind), GENERATOR_OK);
	atomic_store(&shared, state);
	p.epoch_ms = row->epoch_ms;
	fake_set(NOW, 0);
	ck_assert_int_eq(generator_take(&shared, &p, offset, fake_clock, &id, &tick_ms, &behind),
	                 GENERATOR_OK);
	ck_assert_msg((int64_t)(id >> 24) > old_tick, "line %d: %s: tick %" PRIu64 " not after %"
	              PRId64, row->line, row->desc, id >> 24, old_tick);
	/* On the clock, or after the mark when the mark is ahead of it: never further. */
	ck_assert_msg(tick_ms <= (NOW > row->epoch_ms + (row->mark_ms - row->mark_epoch_ms)
	                                  ? NOW
	                                  : row->epoch_ms + (row->mark_ms - row->mark_epoch_ms) +
	                                            GENERATOR_TICK_MS) &&
	                  tick_ms >= NOW - GENERATOR_TICK_MS,
	              "line %d: %s: the id's time is %" PRId64 " ms from the clock", row->line,
	              row->desc, tick_ms - NOW);
}
END_TEST

/* Four processes on one shared word with the real clock: 20,000 distinct ids. */
#define PROCS 4
#define PER_PROC 5000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void child(_Atomic uint64_t *state, int go, int out)
{
	uint64_t ids[PER_PROC];
	char c;
	size_t off = 0;

	if (read(go, &c, 1) < 0) /* EOF: all of them start together */
		_exit(2);
	for (int i = 0; i < PER_PROC; i++) {
		int64_t tick_ms, behind;

		if (generator_take(state, &params, 0, clock_wall_ms, &ids[i], &tick_ms, &behind) !=
		    GENERATOR_OK)
			_exit(3);
	}
	while (off < sizeof(ids)) {
		ssize_t n = write(out, (char *)ids + off, sizeof(ids) - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(4);
		off += (size_t)n;
	}
	_exit(0);
}

START_TEST(test_processes_share_one_generator)
{
	size_t total = PROCS * PER_PROC, got = 0;
	uint64_t *all = calloc(total, sizeof(*all));
	_Atomic uint64_t *state = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int64_t before = clock_wall_ms(), after;
	pid_t pids[PROCS];
	int outs[PROCS], go[2];

	ck_assert_ptr_nonnull(all);
	ck_assert_msg(state != MAP_FAILED, "mmap: %s", strerror(errno));
	atomic_store(state, generator_state(0, 0, 0));
	ck_assert_int_eq(pipe(go), 0);
	for (int c = 0; c < PROCS; c++) {
		int out[2];

		ck_assert_int_eq(pipe(out), 0);
		pids[c] = fork();
		ck_assert_msg(pids[c] >= 0, "fork: %s", strerror(errno));
		if (pids[c] == 0) {
			close(go[1]);
			close(out[0]);
			child(state, go[0], out[1]); /* never returns */
		}
		close(out[1]);
		outs[c] = out[0];
	}
	close(go[0]);
	close(go[1]); /* go */

	for (int c = 0; c < PROCS; c++) {
		size_t first = got;
		ssize_t n;
		int status;

		while (got < total && (n = read(outs[c], all + got, (total - got) * sizeof(*all))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			ck_assert_msg(n > 0 && n % (ssize_t)sizeof(*all) == 0, "child %d: a torn read", c);
			got += (size_t)n / sizeof(*all);
		}
		close(outs[c]);
		ck_assert_int_eq(waitpid(pids[c], &status, 0), pids[c]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "child %d ended with status 0x%x", c, status);
		ck_assert_msg(got - first == PER_PROC, "child %d sent %zu ids", c, got - first);
		for (size_t i = first + 1; i < got; i++)
			ck_assert_msg(all[i] > all[i - 1], "child %d: id %" PRIu64 " after %" PRIu64, c,
			              all[i], all[i - 1]);
	}
	after = clock_wall_ms();

	qsort(all, total, sizeof(*all), cmp_u64);
	for (size_t i = 0; i < total; i++) {
		struct generator_parts parts;

		ck_assert_msg(i == 0 || all[i] != all[i - 1], "id %" PRIu64 " issued twice", all[i]);
		generator_decompose(all[i], EPOCH_MS, &parts);
		ck_assert_msg(parts.machine_id == 7, "id %" PRIu64 ": machine %" PRIu64, all[i],
		              parts.machine_id);
		ck_assert_msg(parts.unix_ms >= before - GENERATOR_TICK_MS && parts.unix_ms <= after,
		              "id %" PRIu64 ": time %" PRId64 " outside the run [%" PRId64 ", %" PRId64
		              "]", all[i], parts.unix_ms, before, after);
	}
	/* 256 a tick: 20,000 ids need at least 79 ticks of real time. */
	ck_assert_msg(after - before >= (int64_t)(total / 256) * GENERATOR_TICK_MS - GENERATOR_TICK_MS,
	              "20,000 ids in %" PRId64 " ms: faster than 256 a tick", after - before);
	munmap((void *)state, 4096);
	free(all);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("generator");
	TCase *tc = tcase_create("generator");

	tcase_set_timeout(tc, 30);
	UNIT_TABLE(tc, test_claim, claim_rows);
	UNIT_TABLE(tc, test_claim_walk, walk_rows);
	UNIT_TABLE(tc, test_layout, layout_rows);
	tcase_add_test(tc, test_decompose_any);
	UNIT_TABLE(tc, test_take, take_rows);
	UNIT_TABLE(tc, test_resume, resume_rows);
	UNIT_TABLE(tc, test_resume_then_take, resume_take_rows);
	tcase_add_test(tc, test_take_increases);
	tcase_add_test(tc, test_take_waits_for_the_next_tick);
	tcase_add_test(tc, test_processes_share_one_generator);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
