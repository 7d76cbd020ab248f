/*
 * handle_metrics: /metrics and /api/pool. Any worker answers for the whole pool: the counters
 * live in the shared scoreboard (metrics.c). Protect the paths in the web server if they must not
 * be public (the package's snippets keep them local).
 */
#include "handle_metrics.h"
#include "config.h"
#include "metrics.h"
#include "respond.h"
#include "router.h"
#include "scoreboard.h"
#include "store.h"

#include <stdlib.h>

void handle_metrics(struct exchange *x)
{
	const char *names[METRICS_ENDPOINTS];
	size_t n = router_endpoint_names(names, METRICS_ENDPOINTS), len;
	struct metrics_space space = { 0 };
	struct metrics_replication repl = { 0 };
	char *text;

	space.measured = store_space(x->app->cfg->data_dir, &space.free_bytes,
	                             &space.total_bytes) == STORE_OK;
	if (x->app->cfg->replication_address[0]) {
		struct store_repl_status rs = { .role = STORE_ROLE_ELECTING };

		if (x->app->store)
			store_repl_status(x->app->store, &rs);
		repl.role = rs.role == STORE_ROLE_NONE ? STORE_ROLE_ELECTING : (int)rs.role;
		repl.elections = rs.elections;
		repl.lag_bytes = rs.lag_bytes;
	}
	if (metrics_render(x->app->sb, names, n, &space, &repl, &text, &len) != 0) {
		respond_error(x, 503, "Out of memory", "The metrics could not be built; retry.");
		return;
	}
	respond_typed(x, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
}

/* A 64-bit count as a JSON number: counts stay far below 2^53. */
static void count(struct exchange *x, const char *key, uint64_t v)
{
	respond_json_kv_int(x, key, (int64_t)v);
}

void handle_metrics_pool(struct exchange *x)
{
	const struct config *cfg = x->app->cfg;
	struct metrics_pool p;
	uint64_t free_bytes = 0, total = 0, store_bytes = 0;
	int space = store_space(cfg->data_dir, &free_bytes, &total) == STORE_OK;
	int size = store_disk_bytes(cfg->data_dir, &store_bytes) == STORE_OK;

	metrics_pool(x->app->sb, &p);
	respond_json_begin(x);
	count(x, "workers", p.workers);
	respond_json_kv_int(x, "threads_per_worker", cfg->threads);
	count(x, "in_flight", p.in_flight);
	respond_json_kv_str(x, "durability", config_durability_name(cfg->durability));
	if (size)
		count(x, "store_bytes", store_bytes);
	else
		respond_json_kv_null(x, "store_bytes");
	if (space) {
		count(x, "free_bytes", free_bytes);
		count(x, "filesystem_bytes", total);
	} else {
		respond_json_kv_null(x, "free_bytes");
		respond_json_kv_null(x, "filesystem_bytes");
	}
	count(x, "checkpoints", p.checkpoints);
	count(x, "recoveries", p.recoveries);
	count(x, "failchk_runs", p.failchk_runs);
	count(x, "worker_restarts", p.restarts);
	count(x, "lock_timeouts", p.lock_timeouts);
	count(x, "requests", p.requests);
	count(x, "issued", p.issued);
	respond_json_kv_int(x, "latency_p50_us", p.p50_us);
	respond_json_kv_int(x, "latency_p90_us", p.p90_us);
	respond_json_kv_int(x, "latency_p99_us", p.p99_us);
	count(x, "uptime", scoreboard_uptime(x->app->sb));
	respond_json_send(x, 200);
}
