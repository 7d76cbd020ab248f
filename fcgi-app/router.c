/*
 * router: nextid's endpoint table, the matcher, and the request path around them. Each row is a
 * method mask, a path pattern of literal segments and '*' (exactly one non-empty segment,
 * captured raw for the handler), and the handler. Literal segments are compared after
 * percent-decoding, as the web server would have. A path that matches no row is 404; a path that
 * matches only with other methods is 405 with their Allow list.
 */
#include "router.h"
#include "clock.h"
#include "handle_admin.h"
#include "handle_generate.h"
#include "handle_health.h"
#include "handle_metrics.h"
#include "handle_next.h"
#include "handle_prefix.h"
#include "handle_sequence.h"
#include "log.h"
#include "metrics.h"
#include "respond.h"
#include "scoreboard.h"
#include "store.h"

#include <string.h>

#define M_GET REQUEST_GET
#define M_HEAD REQUEST_HEAD
#define M_POST REQUEST_POST
#define M_PUT REQUEST_PUT
#define M_DELETE REQUEST_DELETE

typedef void handler_fn(struct exchange *x);

struct route {
	unsigned methods; /* enum request_method bits */
	const char *pattern;
	handler_fn *handler;
	int without_store; /* answers even when the store will not open (health, metrics...) */
};

static const struct route routes[] = {
	{ M_GET | M_POST, "/next/*", handle_next_value, 0 },
	{ M_GET | M_POST, "/api/next-id/*", handle_sequence_next_id, 0 },
	{ M_GET | M_POST, "/api/next-batch/*", handle_sequence_next_batch, 0 },
	{ M_GET | M_HEAD, "/api/status/*", handle_sequence_status, 0 },
	{ M_GET | M_HEAD, "/api/list", handle_sequence_list, 0 },
	{ M_GET | M_HEAD, "/api/types", handle_sequence_types, 1 },
	{ M_GET | M_HEAD, "/api/admin/sequences", handle_admin_list, 0 },
	{ M_GET | M_HEAD, "/api/admin/sequences/*", handle_admin_show, 0 },
	{ M_PUT, "/api/admin/sequences/*", handle_admin_put, 0 },
	{ M_DELETE, "/api/admin/sequences/*", handle_admin_delete, 0 },
	{ M_POST, "/api/admin/sequences/*/next", handle_admin_set_next, 0 },
	{ M_GET | M_HEAD, "/api/v1/config/*", handle_prefix_config_get, 0 },
	{ M_POST, "/api/v1/config/*", handle_prefix_config_set, 0 },
	{ M_GET | M_POST, "/api/v1/next/*", handle_prefix_next, 0 },
	{ M_POST, "/api/v1/batch/*", handle_prefix_batch, 0 },
	{ M_GET | M_HEAD, "/api/v1/status/*", handle_prefix_status, 0 },
	{ M_POST, "/api/v1/reset/*", handle_prefix_reset, 0 },
	{ M_GET | M_HEAD, "/api/v1/audit/*", handle_prefix_audit, 0 },
	{ M_GET | M_HEAD, "/api/admin/prefixes", handle_prefix_list, 0 },
	{ M_GET | M_POST, "/generate", handle_generate, 0 },
	{ M_GET | M_HEAD, "/generate/decompose/*", handle_generate_decompose, 0 },
	{ M_GET | M_HEAD, "/health", handle_health, 1 },
	{ M_GET | M_HEAD, "/health/live", handle_health_live, 1 },
	{ M_GET | M_HEAD, "/health/ready", handle_health_ready, 1 },
	{ M_GET | M_HEAD, "/metrics", handle_metrics, 1 },
	{ M_GET | M_HEAD, "/api/pool", handle_metrics_pool, 1 },
};

#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))
#define ENDPOINT_OTHER ((int)ROUTE_COUNT) /* metrics' row for what no route answered */
_Static_assert(ROUTE_COUNT < METRICS_ENDPOINTS, "metrics need a counter row per route");

static int literal_matches(const struct request_segment *seg, const char *lit, size_t lit_len)
{
	char decoded[64];
	size_t len;

	if (!memchr(seg->raw, '%', seg->len))
		return seg->len == lit_len && memcmp(seg->raw, lit, lit_len) == 0;
	return request_percent_decode(seg->raw, seg->len, decoded, sizeof(decoded), &len, 0) == 0 &&
	       len == lit_len && memcmp(decoded, lit, lit_len) == 0;
}

/* Does the path match the pattern, segment for segment? Fills x->cap on success. */
static int pattern_matches(const char *pattern, struct exchange *x)
{
	const char *p = pattern + 1;
	size_t i = 0;

	x->ncap = 0;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t lit_len = slash ? (size_t)(slash - p) : strlen(p);

		if (i >= x->req.nseg || i >= REQUEST_SEGMENTS_MAX)
			return 0;
		if (lit_len == 1 && p[0] == '*') {
			if (x->req.seg[i].len == 0 || x->ncap == EXCHANGE_CAPTURES_MAX)
				return 0;
			x->cap[x->ncap++] = &x->req.seg[i];
		} else if (!literal_matches(&x->req.seg[i], p, lit_len)) {
			return 0;
		}
		i++;
		if (!slash)
			return i == x->req.nseg;
		p = slash + 1;
	}
}

/*
 * Find the row for x's request. Returns the row, filling x->cap/x->ncap, or NULL with *allowed set
 * to the methods of rows whose pattern matched (0: no pattern matched).
 */
static const struct route *match(struct exchange *x, unsigned *allowed)
{
	*allowed = 0;
	for (size_t r = 0; r < ROUTE_COUNT; r++) {
		if (!pattern_matches(routes[r].pattern, x))
			continue;
		if (routes[r].methods & x->req.method)
			return &routes[r];
		if (!*allowed)
			x->endpoint = (int)r; /* for metrics: the path's row, though the method is wrong */
		*allowed |= routes[r].methods;
	}
	x->ncap = 0;
	return NULL;
}

/* Without a store, an endpoint that needs one answers why it has none. */
static const struct respond_answers storeless_answers = {
	.rc = {
		[STORE_UNAVAILABLE] = { 503, "Store unavailable",
		                        "The store cannot be opened; the reason is in the service log.",
		                        0 },
		/* Replicated: the open met a sync with a new master that lasted seconds. */
		[STORE_NO_MASTER] = { 503, "No master",
		                      "No master is known to this node right now (an election may be "
		                      "under way); nothing was taken or changed, retry in a moment.", 0 },
	},
};

/* Run the handler of x's route, or answer 404/405 or the store-less 503 instead. */
static void dispatch(struct exchange *x)
{
	unsigned allowed;
	const struct route *route = match(x, &allowed);

	if (route)
		x->endpoint = (int)(route - routes);
	if (route && !x->app->store && !route->without_store)
		respond_store_error(x, &storeless_answers,
		                    x->app->store_rc == STORE_FULL || x->app->store_rc == STORE_NO_MASTER
		                            ? x->app->store_rc
		                            : STORE_UNAVAILABLE,
		                    "", 0);
	else if (route)
		route->handler(x);
	else if (allowed)
		respond_not_allowed(x, allowed);
	else
		respond_error(x, 404, "Endpoint not found",
		              "No endpoint answers this path; check the URL against the API "
		              "documentation.");
}

void router_serve(struct exchange *x, char *const *envp)
{
	int64_t start = clock_monotonic_us();
	int status = request_parse(&x->req, envp);

	x->endpoint = ENDPOINT_OTHER; /* until a path matches; a 405 keeps the row its path matched */
	if (status != REQUEST_OK)
		respond_request_error(x, status);
	else
		dispatch(x);
	if (x->status == 0) {
		LOG_ERROR("no answer for %.*s", (int)x->req.path_len, x->req.path);
		respond_error(x, 500, "Internal error", "The failure is logged.");
	}
	metrics_observe(&x->app->slot->m, x->endpoint, x->status, clock_monotonic_us() - start);
	if (x->issued)
		atomic_fetch_add_explicit(&x->app->slot->m.issued, x->issued, memory_order_relaxed);
}

size_t router_endpoint_names(const char **names, size_t cap)
{
	size_t n = 0;

	for (; n < ROUTE_COUNT && n < cap; n++)
		names[n] = routes[n].pattern;
	if (n < cap)
		names[n++] = "other";
	return n;
}
