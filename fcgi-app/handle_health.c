/*
 * handle_health: liveness and readiness. /health keeps the go-id form (JSON with uptime, or the
 * bare text "OK" for clients that ask for text/plain); /health/ready also asks the store.
 */
#include "handle_health.h"
#include "respond.h"
#include "scoreboard.h"
#include "store.h"

#include <string.h>

static void status_only(struct exchange *x, int status, const char *word)
{
	respond_json_begin(x);
	respond_json_map_open(x);
	respond_json_key(x, "status");
	respond_json_string(x, word, strlen(word));
	respond_json_map_close(x);
	respond_json_send(x, status);
}

void handle_health(struct exchange *x)
{
	if (request_prefers_text(&x->req)) {
		respond_text(x, 200, "OK", 2);
		return;
	}
	respond_json_begin(x);
	respond_json_map_open(x);
	respond_json_key(x, "status");
	respond_json_string(x, "healthy", 7);
	respond_json_key(x, "uptime");
	respond_json_int(x, (int64_t)scoreboard_uptime(x->app->sb));
	respond_json_map_close(x);
	respond_json_send(x, 200);
}

void handle_health_live(struct exchange *x)
{
	status_only(x, 200, "live");
}

void handle_health_ready(struct exchange *x)
{
	int rc = x->app->store ? store_ping(x->app->store) : STORE_UNAVAILABLE;

	if (rc != STORE_OK) {
		respond_error(x, 503, "Store unavailable",
		              "The store does not answer; the reason is in the service log.");
		return;
	}
	status_only(x, 200, "ready");
}
