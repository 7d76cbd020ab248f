/*
 * scoreboard: the pool's shared memory, created by the master before it forks and inherited by
 * every child. A fixed array of per-worker slots plus pool-wide figures, all updated with relaxed
 * atomics on the hot path; /health reads it today, /metrics will. It holds no lock: a worker
 * killed at any moment cannot leave it inconsistent, only a counter short by one.
 */
#ifndef NEXTID_SCOREBOARD_H
#define NEXTID_SCOREBOARD_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#define SCOREBOARD_SLOTS 512 /* workers (up to 256) plus room for replacements during a reload */

enum slot_state { SLOT_FREE, SLOT_IDLE, SLOT_BUSY };

struct scoreboard_slot {
	_Atomic int pid;
	_Atomic int state;           /* enum slot_state */
	_Atomic uint64_t requests;   /* served by this process */
	_Atomic uint64_t started_at; /* unix seconds */
};

struct scoreboard {
	_Atomic uint64_t started_at;      /* the master's start, unix seconds: /health's uptime */
	_Atomic uint64_t worker_restarts; /* abnormal worker exits the master replaced */
	_Atomic uint64_t failchk_runs;
	_Atomic uint64_t recoveries;      /* stop-the-world recoveries after start-up */
	struct scoreboard_slot slots[SCOREBOARD_SLOTS];
};

/* Map a zeroed scoreboard shared with future children. Returns NULL (errno set) on failure. */
struct scoreboard *scoreboard_open(void);
void scoreboard_close(struct scoreboard *sb);

/* Seconds since the master started. */
uint64_t scoreboard_uptime(const struct scoreboard *sb);

#endif
