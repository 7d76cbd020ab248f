/*
 * generator: time-ordered 64-bit ids in the Sonyflake layout, one generator for the whole pool.
 *
 *   id = time << 24 | sequence << 16 | machine_id
 *   time: 39 bits of 10 ms ticks since the epoch; sequence: 8 bits; machine_id: 16 bits (shard)
 *
 * The state is one 64-bit word in the scoreboard, advanced by compare-and-swap: every worker
 * draws from it without a lock, and a worker killed at any moment leaves it valid. It packs the
 * tick of the last id, its sequence, and the low bits of the clock's tick when that tick was
 * taken (see generator_state). generator_claim is pure arithmetic over a snapshot (unit-tested
 * with a fake clock); generator_take runs it against the shared word; generator_resume says
 * where the word starts after a restart, from the high-water mark kept in the store.
 */
#ifndef NEXTID_GENERATOR_H
#define NEXTID_GENERATOR_H

#include <stdatomic.h>
#include <stdint.h>

#define GENERATOR_TICK_MS 10
#define GENERATOR_SEQ_MAX 255
#define GENERATOR_TIME_BITS 39

struct generator_params {
	int64_t epoch_ms;     /* unix ms of tick 0 */
	uint16_t machine_id;  /* the shard, 1..65535 */
	int64_t tolerance_ms; /* how far the clock may step back before ids stop */
};

enum generator_rc {
	GENERATOR_OK,
	GENERATOR_WAIT,       /* this tick is used up: try again at *wait_tick */
	GENERATOR_CLOCK_BACK, /* the clock is further behind the last id than the tolerance */
	GENERATOR_EXHAUSTED,  /* 39 bits of time are used up (in the year 2196) */
	GENERATOR_BEFORE_EPOCH, /* the clock is before the epoch: there is no tick to issue on */
	GENERATOR_EPOCH_LATER,  /* (resume) the epoch moved later than ids already issued */
};

/* A state word: the last id's tick and sequence, and the clock's tick (its low 17 bits) when
 * that tick was taken. */
uint64_t generator_state(int64_t tick, unsigned seq, int64_t taken_at);
int64_t generator_state_tick(uint64_t state);
unsigned generator_state_seq(uint64_t state);

/*
 * From state `old` and the clock's tick `now_tick`, compute the state that issues the next id.
 * Returns GENERATOR_OK with *next; GENERATOR_WAIT with *wait_tick when the current tick is used up
 * and the clock has not reached the next one (never more than one tick away); GENERATOR_CLOCK_BACK
 * with *behind_ticks when the last tick is more than tolerance_ticks ahead of the clock.
 * Behind the clock (within the tolerance), a used-up tick moves on one tick per tick of the
 * clock, so the distance to the clock stays what the step made it instead of growing.
 */
int generator_claim(uint64_t old, int64_t now_tick, int64_t tolerance_ticks, uint64_t *next,
                    int64_t *wait_tick, int64_t *behind_ticks);

/* The id a state issues. */
uint64_t generator_id(uint64_t state, uint16_t machine_id);

/* An id's parts. */
struct generator_parts {
	uint64_t tick, sequence, machine_id;
	int64_t unix_ms;
};
void generator_decompose(uint64_t id, int64_t epoch_ms, struct generator_parts *out);

/*
 * Take one id from the shared state, waiting (at most a tick) when a tick is used up. now_ms()
 * is the clock (clock_wall_ms; tests pass their own); offset_ms is added to it (see scoreboard.h). Returns
 * GENERATOR_OK with *id and *tick_ms (the id's time, unix ms), CLOCK_BACK with *behind_ms (how
 * far the clock is behind the last id), BEFORE_EPOCH with *behind_ms (how far the clock is
 * before the epoch), or EXHAUSTED; never waits on a clock that is behind.
 */
int generator_take(_Atomic uint64_t *state, const struct generator_params *p, int64_t offset_ms,
                   int64_t (*now_ms)(void), uint64_t *id, int64_t *tick_ms, int64_t *behind_ms);

/*
 * Where the generator starts, once, before the first id: from the mark (store.h: ids may have
 * been issued up to mark_ms, counted from mark_epoch_ms; mark_ms 0 = none, mark_epoch_ms
 * STORE_MARK_NO_EPOCH's INT64_MIN = counted from epoch_ms), the configured epoch_ms and the
 * clock now_ms. Ids are told apart by their tick, their distance from the epoch, so the mark
 * counts as ticks whatever epoch it was written under. Returns
 *   GENERATOR_OK with *state (the mark's tick, used up: the next id takes a later one) and
 *     *offset_ms (0, or how far ids must run ahead of the clock to come after the mark: a clock
 *     set back across the restart);
 *   GENERATOR_BEFORE_EPOCH with *behind_ms: the clock is before epoch_ms;
 *   GENERATOR_EPOCH_LATER with *behind_ms: epoch_ms is later than the mark's epoch and, counted
 *     from it, the clock has not reached the ids issued: a new id would repeat one of them, or
 *     run this far ahead of the clock for good.
 */
int generator_resume(int64_t mark_ms, int64_t mark_epoch_ms, int64_t epoch_ms, int64_t now_ms,
                     uint64_t *state, int64_t *offset_ms, int64_t *behind_ms);

#endif
