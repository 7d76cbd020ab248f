/*
 * exchange: what a handler works with. struct app is set up once per worker thread (its store
 * handle, the scoreboard, the config, a reusable JSON generator); struct exchange is one request
 * and its answer. Handlers read `req` and `cap`, call the store, and answer through respond.h
 * only.
 */
#ifndef NEXTID_EXCHANGE_H
#define NEXTID_EXCHANGE_H

#include "request.h"

#include <fcgiapp.h>
#include <yajl/yajl_gen.h>

struct config;
struct scoreboard;
struct scoreboard_slot;
struct store;

struct app {
	struct store *store;
	int store_rc; /* while store is NULL: why it would not open (STORE_FULL, STORE_UNAVAILABLE) */
	struct scoreboard *sb;
	const struct config *cfg;
	struct scoreboard_slot *slot; /* this worker's: where its metrics go */
	yajl_gen gen; /* cleared before every response */
};

#define EXCHANGE_CAPTURES_MAX 4

struct exchange {
	struct app *app;
	struct request req;
	FCGX_Stream *out;
	FCGX_Stream *in;  /* the request body, CONTENT_LENGTH bytes (checked by request_parse) */
	const struct request_segment *cap[EXCHANGE_CAPTURES_MAX]; /* the path's '*' segments, raw */
	size_t ncap;
	int status;      /* the status answered, 0 until respond has sent one */
	int json_failed; /* a yajl call failed while building the body */
	int endpoint;    /* the router row that answered (router_endpoint_names), for metrics */
	uint64_t issued; /* values or ids the answer hands out, for metrics */
};

#endif
