/*
 * handle_metrics: /metrics. Any worker answers for the whole pool: the counters live in the
 * shared scoreboard (metrics.c). Protect the path in the web server if it must not be public.
 */
#include "handle_metrics.h"
#include "config.h"
#include "metrics.h"
#include "respond.h"
#include "router.h"
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
