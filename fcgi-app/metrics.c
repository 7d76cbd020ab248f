/*
 * metrics: counting and the Prometheus text format (version 0.0.4). Counters are summed over the
 * retired totals and every live slot at scrape time; gauges come from the scoreboard's state.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int statuses[METRICS_STATUSES - 1] = { 200, 201, 400, 401, 403, 404, 405,
	                                            409, 413, 414, 500, 502, 503 };

/* Upper bounds of the duration buckets, in microseconds. */
static const int64_t bucket_us[METRICS_BUCKETS] = { 250,   500,    1000,   2500,
	                                            5000,  10000,  25000,  50000,
	                                            100000, 250000, 500000, 1000000 };

static int status_index(int status)
{
	for (int i = 0; i < METRICS_STATUSES - 1; i++)
		if (statuses[i] == status)
			return i;
	return METRICS_STATUSES - 1;
}

void metrics_observe(struct slot_metrics *m, int endpoint, int status, int64_t us)
{
	int b = 0;

	if (endpoint < 0 || endpoint >= METRICS_ENDPOINTS)
		endpoint = METRICS_ENDPOINTS - 1;
	while (b < METRICS_BUCKETS && us > bucket_us[b])
		b++;
	atomic_fetch_add_explicit(&m->requests[endpoint][status_index(status)], 1,
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&m->duration[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->duration_us, (uint64_t)(us > 0 ? us : 0),
	                          memory_order_relaxed);
}

/* Each counter moves at once (exchange, then add), so a scrape meanwhile may miss a count for an
 * instant, but never sees one twice. */
static void move(_Atomic uint64_t *into, _Atomic uint64_t *from)
{
	uint64_t v = atomic_exchange(from, 0);

	if (v)
		atomic_fetch_add(into, v);
}

void metrics_fold(struct slot_metrics *into, struct slot_metrics *from)
{
	for (int e = 0; e < METRICS_ENDPOINTS; e++)
		for (int s = 0; s < METRICS_STATUSES; s++)
			move(&into->requests[e][s], &from->requests[e][s]);
	for (int b = 0; b <= METRICS_BUCKETS; b++)
		move(&into->duration[b], &from->duration[b]);
	move(&into->duration_us, &from->duration_us);
	move(&into->issued, &from->issued);
	move(&into->store.transactions, &from->store.transactions);
	move(&into->store.deadlock_retries, &from->store.deadlock_retries);
	move(&into->store.space_errors, &from->store.space_errors);
}

static uint64_t load(const _Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* Sum one counter over the retired totals and every slot. `counter` points into sb->retired;
 * the same counter sits at the same offset in every slot's metrics. */
static uint64_t sum(const struct scoreboard *sb, const _Atomic uint64_t *counter)
{
	size_t offset = (size_t)((const char *)counter - (const char *)&sb->retired);
	uint64_t total = load(counter);

	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++)
		total += load((const _Atomic uint64_t *)(const void *)((const char *)&sb->slots[i].m +
		                                                       offset));
	return total;
}

struct text {
	char *buf;
	size_t len, cap;
	int failed;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		char *grown = realloc(t->buf, t->cap * 2 + (size_t)n);

		if (!grown) {
			t->failed = 1;
			return;
		}
		t->buf = grown;
		t->cap = t->cap * 2 + (size_t)n;
	}
}

static void counter(struct text *t, const char *name, const char *help, uint64_t v)
{
	add(t, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
	    (unsigned long long)v);
}

static void gauge(struct text *t, const char *name, const char *help, uint64_t v)
{
	add(t, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,
	    (unsigned long long)v);
}

static void requests(struct text *t, const struct scoreboard *sb, const char *const *names,
                     size_t n)
{
	add(t, "# HELP nextid_requests_total HTTP requests answered, by endpoint and status.\n"
	       "# TYPE nextid_requests_total counter\n");
	for (size_t e = 0; e < METRICS_ENDPOINTS && e < n; e++) {
		for (int s = 0; s < METRICS_STATUSES; s++) {
			uint64_t v = sum(sb, &sb->retired.requests[e][s]);

			if (!v)
				continue;
			if (s < METRICS_STATUSES - 1)
				add(t, "nextid_requests_total{endpoint=\"%s\",status=\"%d\"} %llu\n",
				    names[e], statuses[s], (unsigned long long)v);
			else
				add(t, "nextid_requests_total{endpoint=\"%s\",status=\"other\"} %llu\n",
				    names[e], (unsigned long long)v);
		}
	}
}

static void durations(struct text *t, const struct scoreboard *sb)
{
	uint64_t cumulative = 0;

	add(t, "# HELP nextid_request_duration_seconds Time from accepting a request to its answer "
	       "written.\n# TYPE nextid_request_duration_seconds histogram\n");
	for (int b = 0; b <= METRICS_BUCKETS; b++) {
		cumulative += sum(sb, &sb->retired.duration[b]);
		if (b < METRICS_BUCKETS)
			add(t, "nextid_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
			    (double)bucket_us[b] / 1e6, (unsigned long long)cumulative);
		else
			add(t, "nextid_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)cumulative);
	}
	add(t, "nextid_request_duration_seconds_sum %.6f\n",
	    (double)sum(sb, &sb->retired.duration_us) / 1e6);
	add(t, "nextid_request_duration_seconds_count %llu\n", (unsigned long long)cumulative);
}

/* The upper bound of the bucket holding the q-th fraction of count requests (see metrics.h). */
static int64_t percentile(const uint64_t *buckets, uint64_t count, double q)
{
	uint64_t rank = (uint64_t)((double)count * q + 0.999999), cumulative = 0;

	if (count == 0)
		return 0;
	for (int b = 0; b < METRICS_BUCKETS; b++) {
		cumulative += buckets[b];
		if (cumulative >= rank)
			return bucket_us[b];
	}
	return -1;
}

static uint64_t live_workers(const struct scoreboard *sb)
{
	uint64_t workers = 0;

	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++)
		workers += atomic_load(&sb->slots[i].role) == SLOT_ROLE_WORKER &&
		           atomic_load(&sb->slots[i].pid) != 0;
	return workers;
}

void metrics_pool(const struct scoreboard *sb, struct metrics_pool *out)
{
	uint64_t buckets[METRICS_BUCKETS + 1], count = 0;

	memset(out, 0, sizeof(*out));
	out->workers = live_workers(sb);
	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++) {
		if (atomic_load(&sb->slots[i].role) != SLOT_ROLE_WORKER ||
		    atomic_load(&sb->slots[i].state) != SLOT_SERVING)
			continue;
		for (int t = 0; t < CONFIG_THREADS_MAX; t++)
			out->in_flight += atomic_load_explicit(&sb->slots[i].busy_since_ms[t],
			                                       memory_order_relaxed) != 0;
	}
	for (int b = 0; b <= METRICS_BUCKETS; b++) {
		buckets[b] = sum(sb, &sb->retired.duration[b]);
		count += buckets[b];
	}
	out->requests = count;
	out->p50_us = percentile(buckets, count, 0.50);
	out->p90_us = percentile(buckets, count, 0.90);
	out->p99_us = percentile(buckets, count, 0.99);
	out->issued = sum(sb, &sb->retired.issued);
	out->restarts = atomic_load(&sb->worker_restarts);
	out->recoveries = atomic_load(&sb->recoveries);
	out->failchk_runs = atomic_load(&sb->failchk_runs);
	out->checkpoints = atomic_load(&sb->checkpoints);
	out->lock_timeouts = atomic_load(&sb->lock_timeouts);
}

int metrics_render(const struct scoreboard *sb, const char *const *names, size_t n,
                   const struct metrics_space *space, const struct metrics_replication *repl,
                   char **out, size_t *len)
{
	struct text t = { .cap = 16384 };
	uint64_t workers = live_workers(sb);

	t.buf = malloc(t.cap);
	if (!t.buf)
		return -1;
	requests(&t, sb, names, n);
	durations(&t, sb);
	counter(&t, "nextid_values_issued_total", "Values and ids handed out to clients.",
	        sum(sb, &sb->retired.issued));
	counter(&t, "nextid_store_transactions_total", "Store transaction attempts.",
	        sum(sb, &sb->retired.store.transactions));
	counter(&t, "nextid_store_deadlock_retries_total",
	        "Store transactions retried after losing a deadlock.",
	        sum(sb, &sb->retired.store.deadlock_retries));
	counter(&t, "nextid_store_space_errors_total",
	        "Writes refused because the disk holding the store was full (answered 503).",
	        sum(sb, &sb->retired.store.space_errors));
	if (space->measured) {
		gauge(&t, "nextid_store_free_bytes",
		      "Bytes free on the filesystem holding the store, for its owner.",
		      space->free_bytes);
		gauge(&t, "nextid_store_filesystem_bytes", "Size of the filesystem holding the store.",
		      space->total_bytes);
	}
	counter(&t, "nextid_store_lock_timeouts_total",
	        "Lock waits the housekeeper expired (answered 503).",
	        atomic_load(&sb->lock_timeouts));
	gauge(&t, "nextid_workers", "Live worker processes.", workers);
	counter(&t, "nextid_worker_restarts_total", "Abnormal worker exits the master replaced.",
	        atomic_load(&sb->worker_restarts));
	counter(&t, "nextid_housekeeper_stalls_total",
	        "Housekeepers the master killed and replaced for making no progress.",
	        atomic_load(&sb->keeper_stalls));
	counter(&t, "nextid_failchk_runs_total", "Times the master ran failchk.",
	        atomic_load(&sb->failchk_runs));
	counter(&t, "nextid_store_recoveries_total", "Stop-the-world recoveries since start-up.",
	        atomic_load(&sb->recoveries));
	gauge(&t, "nextid_uptime_seconds", "Seconds since the master started.",
	      scoreboard_uptime(sb));
	if (repl->role != 0) {
		gauge(&t, "nextid_replication_role",
		      "This node's role in its replication group: 1 master, 2 replica, 3 electing "
		      "(no master known).", (uint64_t)repl->role);
		counter(&t, "nextid_replication_elections_total",
		        "Elections this node took part in since its replication process started.",
		        repl->elections);
		gauge(&t, "nextid_replication_lag_bytes",
		      "Replica: bytes of the master's log it knows it has not applied yet (0 on the "
		      "master).", repl->lag_bytes);
	}
	if (t.failed) {
		free(t.buf);
		return -1;
	}
	*out = t.buf;
	*len = t.len;
	return 0;
}
