/*
 * metrics: the counters behind /metrics. A worker counts into its own scoreboard slot (relaxed
 * atomics, no lock); the master folds a slot into the pool's retired totals when its process
 * exits, so no count is lost and none goes backwards; a scrape sums retired and live slots.
 */
#ifndef NEXTID_METRICS_H
#define NEXTID_METRICS_H

#include "scoreboard.h"

#include <stddef.h>
#include <stdint.h>

/* Count one answered request of `endpoint` (an index of router_endpoint_names) with `status`,
 * taking `us`. */
void metrics_observe(struct slot_metrics *m, int endpoint, int status, int64_t us);

/* Move everything counted in from into into (the master, when from's process has exited). */
void metrics_fold(struct slot_metrics *into, struct slot_metrics *from);

/* The filesystem under the store, measured by the caller at scrape time. */
struct metrics_space {
	int measured; /* 0: statvfs failed, the gauges are left out */
	uint64_t free_bytes, total_bytes;
};

/* The node's place in its replication group, read by the caller at scrape time. role: 0 none
 * (replication off: the metrics are left out), 1 master, 2 replica, 3 electing (the store's enum
 * store_repl_role). */
struct metrics_replication {
	int role;
	uint64_t elections, lag_bytes;
};

/*
 * Write the Prometheus text exposition of the pool into a new NUL-terminated buffer (*out, to be
 * freed; *len its length). names[0..n) label the endpoints. Returns 0, or -1 out of memory.
 */
int metrics_render(const struct scoreboard *sb, const char *const *names, size_t n,
                   const struct metrics_space *space, const struct metrics_replication *repl,
                   char **out, size_t *len);

/* The pool at a glance, for the console's JSON (GET /api/pool): the same sums /metrics shows. */
struct metrics_pool {
	uint64_t workers;   /* live worker processes */
	uint64_t in_flight; /* requests being answered now (busy worker threads) */
	uint64_t requests, issued;
	uint64_t restarts, recoveries, failchk_runs, checkpoints, lock_timeouts;
	/* Latency percentiles 50, 90 and 99 of every request answered, in microseconds: the upper
	 * bound of the histogram bucket each falls in; 0 when none was answered, -1 past the last
	 * bound (1 s). */
	int64_t p50_us, p90_us, p99_us;
};

/* Fill *out from the scoreboard. */
void metrics_pool(const struct scoreboard *sb, struct metrics_pool *out);

#endif
