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

#include <stdio.h>
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

/* This node and every member it knows of, at most the configured peers, the node itself and
 * one that joined since (store_repl_members lists this node first). */
#define POOL_MEMBERS_MAX (STORE_REPL_PEERS_MAX + 2)

static void pool_member(struct exchange *x, const struct store_member *m)
{
	respond_json_map_open(x);
	respond_json_kv_str(x, "address", m->address);
	respond_json_kv_str(x, "role", m->role == STORE_ROLE_NONE ? "unreachable"
	                                                         : store_repl_role_name(m->role));
	if (m->shard)
		count(x, "shard_id", m->shard);
	else
		respond_json_kv_null(x, "shard_id"); /* not claimed yet, or not readable here */
	respond_json_kv_bool(x, "self", m->self);
	respond_json_map_close(x);
}

/*
 * Replicated: "replication":{"role","master","elections","lag_bytes","members":[...],
 * "members_error"}. The group comes from the store; when it cannot be read (no store open, a
 * Berkeley DB error) members is empty and members_error says why: the pool view still answers.
 */
static void pool_replication(struct exchange *x)
{
	struct store_repl_status rs = { .role = STORE_ROLE_ELECTING };
	struct store_member m[POOL_MEMBERS_MAX];
	size_t n = 0;
	int rc = STORE_UNAVAILABLE;

	if (!x->app->cfg->replication_address[0])
		return;
	if (x->app->store) {
		store_repl_status(x->app->store, &rs);
		rc = store_repl_members(x->app->store, m, POOL_MEMBERS_MAX, &n);
	}
	if (rc != STORE_OK)
		n = 0;
	respond_json_key(x, "replication");
	respond_json_map_open(x);
	respond_json_kv_str(x, "role", store_repl_role_name(rs.role == STORE_ROLE_NONE
	                                                        ? STORE_ROLE_ELECTING : rs.role));
	respond_json_kv_str(x, "master", rs.master);
	count(x, "elections", rs.elections);
	count(x, "lag_bytes", rs.lag_bytes);
	respond_json_key(x, "members");
	respond_json_array_open(x);
	for (size_t i = 0; i < n; i++)
		pool_member(x, &m[i]);
	respond_json_array_close(x);
	if (rc == STORE_OK) {
		respond_json_kv_null(x, "members_error");
	} else {
		char why[96];

		snprintf(why, sizeof(why), "The group could not be read: %s.",
		         x->app->store ? store_rc_name(rc) : "the store is not open");
		respond_json_kv_str(x, "members_error", why);
	}
	respond_json_map_close(x);
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
	pool_replication(x);
	respond_json_send(x, 200);
}
