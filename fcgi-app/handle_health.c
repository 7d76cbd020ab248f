/*
 * handle_health: liveness and readiness. /health keeps the go-id form (JSON with uptime, or the
 * bare text "OK" for clients that ask for text/plain); /health/ready also asks the store.
 */
#include "handle_health.h"
#include "config.h"
#include "respond.h"
#include "scoreboard.h"
#include "store.h"

#include <stdio.h>

static void status_only(struct exchange *x, int status, const char *word)
{
	respond_json_begin(x);
	respond_json_kv_str(x, "status", word);
	respond_json_send(x, status);
}

/* Replicated: "replication":{"role":..., "master":"HOST:PORT"}, from the node's shared state. */
static void add_replication(struct exchange *x)
{
	struct store_repl_status rs = { .role = STORE_ROLE_ELECTING };

	if (!x->app->cfg->replication_address[0])
		return;
	if (x->app->store)
		store_repl_status(x->app->store, &rs);
	respond_json_key(x, "replication");
	respond_json_map_open(x);
	respond_json_kv_str(x, "role", store_repl_role_name(rs.role == STORE_ROLE_NONE
	                                                        ? STORE_ROLE_ELECTING : rs.role));
	respond_json_kv_str(x, "master", rs.master);
	respond_json_map_close(x);
}

void handle_health(struct exchange *x)
{
	if (request_prefers_text(&x->req)) {
		respond_text(x, 200, "OK", 2);
		return;
	}
	respond_json_begin(x);
	respond_json_kv_str(x, "status", "healthy");
	respond_json_kv_int(x, "uptime", (int64_t)scoreboard_uptime(x->app->sb));
	add_replication(x);
	respond_json_send(x, 200);
}

void handle_health_live(struct exchange *x)
{
	status_only(x, 200, "live");
}

/*
 * Not ready when the disk holding the store is full or nearly so: the service then refuses what
 * needs new room, though existing sequences go on taking values while the log file being
 * written has room. A load balancer should send traffic elsewhere; the message says how much is
 * left.
 */
static int space_is_low(struct exchange *x, int rc)
{
	uint64_t free_bytes = 0, total = 0;
	char message[256];
	int measured = store_space(x->app->cfg->data_dir, &free_bytes, &total) == STORE_OK;

	if (rc != STORE_FULL && !(measured && free_bytes < STORE_SPACE_LOW_BYTES))
		return 0;
	if (rc == STORE_FULL) /* the store could not start, or write, for lack of room */
		snprintf(message, sizeof(message),
		         "The disk that holds the store has too little room for it (%llu bytes "
		         "free); free space on it and readiness returns by itself.",
		         (unsigned long long)free_bytes);
	else
		snprintf(message, sizeof(message),
		         "The disk that holds the store has %llu bytes free, less than the %llu a "
		         "new log file needs; free space on it and readiness returns by itself.",
		         (unsigned long long)free_bytes, (unsigned long long)STORE_SPACE_LOW_BYTES);
	respond_error(x, 503, "Storage full", message);
	return 1;
}

void handle_health_ready(struct exchange *x)
{
	int rc = x->app->store ? store_ping(x->app->store) : x->app->store_rc;

	if (space_is_low(x, rc))
		return;
	if (rc != STORE_OK) {
		respond_error(x, 503, "Store unavailable",
		              "The store does not answer; the reason is in the service log.");
		return;
	}
	status_only(x, 200, "ready");
}
