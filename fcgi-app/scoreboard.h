/*
 * scoreboard: the pool's shared memory, created by the master before it forks and inherited by
 * every child. A fixed array of per-worker slots plus pool-wide figures, all updated with relaxed
 * atomics on the hot path; /health and /metrics read it, the master watches its slots. It holds
 * no lock: a worker killed at any moment cannot leave it inconsistent, only a counter short by
 * one.
 */
#ifndef NEXTID_SCOREBOARD_H
#define NEXTID_SCOREBOARD_H

#include "config.h"
#include "store.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#define SCOREBOARD_SLOTS 512 /* workers (up to 256) plus room for replacements during a reload */

enum slot_state {
	SLOT_FREE,
	SLOT_STARTING, /* forked, opening its store: not serving yet */
	SLOT_SERVING,  /* its threads wait for requests or answer them (busy_since_ms) */
};

#define METRICS_ENDPOINTS 40 /* router rows plus "other"; router.c checks it has room */
#define METRICS_STATUSES 14  /* metrics.c's table of statuses, the last one "other" */
#define METRICS_BUCKETS 12   /* request duration bounds, plus one for +Inf */

/* What one process counted for /metrics (metrics.h reads and folds it). */
struct slot_metrics {
	_Atomic uint64_t requests[METRICS_ENDPOINTS][METRICS_STATUSES];
	_Atomic uint64_t duration[METRICS_BUCKETS + 1]; /* per bucket, not cumulative */
	_Atomic uint64_t duration_us;                   /* their sum */
	_Atomic uint64_t issued;                        /* values and ids handed out */
	struct store_stats store;
};

enum slot_role { SLOT_ROLE_NONE, SLOT_ROLE_WORKER, SLOT_ROLE_KEEPER };

struct scoreboard_slot {
	_Atomic int pid;
	_Atomic int state;           /* enum slot_state */
	/* Per thread of the worker: CLOCK_MONOTONIC ms when its request in hand began, 0 idle. */
	_Atomic int64_t busy_since_ms[CONFIG_THREADS_MAX];
	_Atomic int role;              /* enum slot_role */
	/* The housekeeper's: CLOCK_MONOTONIC ms of its latest tick, 0 until its store is open. The
	 * master kills a housekeeper whose stamp grows too old (pool.c, keeper_stall_limit_ms). */
	_Atomic int64_t heartbeat_ms;
	/* A worker's: its database handles died (a rollback, DB_REP_HANDLE_DEAD). It answers "No
	 * master" until the master has a replacement ready and retires it (pool.c). */
	_Atomic int stale;
	struct slot_metrics m;
};

struct scoreboard {
	_Atomic uint64_t started_at;      /* the master's start, unix seconds: /health's uptime */
	_Atomic uint64_t worker_restarts; /* abnormal worker exits the master replaced */
	_Atomic uint64_t failchk_runs;
	_Atomic uint64_t recoveries;      /* stop-the-world recoveries after start-up */
	_Atomic uint64_t lock_timeouts;   /* lock waits the housekeeper expired */
	_Atomic uint64_t keeper_stalls;   /* housekeepers killed for a heartbeat grown too old */
	_Atomic uint64_t checkpoints;     /* checkpoints the housekeepers wrote */
	/* Set by the master while the store would not recover (pool.c, "broken"): STORE_FULL when
	 * its disk had no room for it, STORE_UNAVAILABLE otherwise, 0 while it is fine. */
	_Atomic int store_broken;
	/* The id generator (generator.h): its state word, the persisted high-water mark of issued
	 * time (unix ms counted from the configured epoch; ids up to it may exist), and the offset
	 * added to the clock when the clock was behind the mark at start-up. Seeded from the store
	 * by the recovery helper. */
	_Atomic uint64_t gen_state;
	_Atomic int64_t gen_mark_ms;
	_Atomic int64_t gen_offset_ms;
	_Atomic int gen_seeded;           /* the three above are set: ids may be issued */
	/* Replicated: the housekeeper, the node's replication process, has joined the group and
	 * the node has its copy of the store; workers (subordinates) start only then. */
	_Atomic int repl_ready;
	/* Bumped by the housekeeper when the group gains or loses a member: each worker's
	 * Replication Manager connects only to those there were when it started (pool.c). */
	_Atomic uint64_t repl_members_gen;
	/* Replicated: set by the housekeeper while replication locks the store out (a sync with a
	 * new master); no process opens the environment meanwhile (store_repl_locked_out says why). */
	_Atomic int repl_lockout;
	struct slot_metrics retired; /* what processes that have exited counted */
	struct scoreboard_slot slots[SCOREBOARD_SLOTS];
};

/* Map a zeroed scoreboard shared with future children. Returns NULL (errno set) on failure. */
struct scoreboard *scoreboard_open(void);
void scoreboard_close(struct scoreboard *sb);

/* Seconds since the master started. */
uint64_t scoreboard_uptime(const struct scoreboard *sb);

#endif
