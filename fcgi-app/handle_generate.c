/*
 * handle_generate: ids from the pool's shared generator (generator.c). Before an id whose time is
 * past the persisted high-water mark leaves, the mark is raised a lease ahead and synced, so a
 * restart with a clock set back can never issue it again; that costs one synced write per lease
 * (5 s), not one per id. ids are JSON numbers as go-id sent them, or strings with
 * ?format=string, since they exceed 2^53 and JavaScript would round them.
 */
#include "handle_generate.h"
#include "clock.h"
#include "config.h"
#include "generator.h"
#include "numparse.h"
#include "params.h"
#include "respond.h"
#include "scoreboard.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

#define GENERATE_COUNT_MAX 1000
#define MARK_LEASE_MS 5000

static struct generator_params params_of(const struct config *cfg)
{
	return (struct generator_params){ .epoch_ms = cfg->generator_epoch_ms,
		                          .machine_id = (uint16_t)cfg->shard_id,
		                          .tolerance_ms = cfg->clock_tolerance_ms };
}

/* Persist a mark past tick_ms unless one is already there. Answers 503 itself on failure. */
static int mark_covers_or_reply(struct exchange *x, int64_t tick_ms)
{
	_Atomic int64_t *mark = &x->app->sb->gen_mark_ms;
	int64_t have = atomic_load(mark), want = tick_ms + MARK_LEASE_MS;
	int rc;

	if (tick_ms <= have)
		return 0;
	rc = store_mark_raise(x->app->store, want, x->app->cfg->generator_epoch_ms);
	if (rc != STORE_OK) {
		respond_store_error(x, NULL, rc, "", 0);
		return -1;
	}
	while (have < want && !atomic_compare_exchange_weak(mark, &have, want))
		;
	return 0;
}

/* Take count ids into ids[]. Answers the failure itself and returns -1. */
static int take_or_reply(struct exchange *x, uint64_t count, uint64_t *ids)
{
	struct generator_params p = params_of(x->app->cfg);
	int64_t offset = atomic_load(&x->app->sb->gen_offset_ms), tick_ms = 0, behind = 0;
	char message[200], epoch[CONFIG_TIME_MAX];

	for (uint64_t i = 0; i < count; i++) {
		int rc = generator_take(&x->app->sb->gen_state, &p, offset, clock_wall_ms, &ids[i],
		                        &tick_ms, &behind);

		if (rc == GENERATOR_BEFORE_EPOCH) {
			config_format_time(p.epoch_ms, epoch, sizeof(epoch));
			snprintf(message, sizeof(message),
			         "The clock is %lld ms before generator_epoch (%s); ids resume when it "
			         "passes it.",
			         (long long)behind, epoch);
			respond_error(x, 503, "Clock before epoch", message);
			return -1;
		}
		if (rc == GENERATOR_CLOCK_BACK) {
			snprintf(message, sizeof(message),
			         "The clock is %lld ms behind the last id issued; ids resume when it "
			         "catches up.",
			         (long long)behind);
			respond_error(x, 503, "Clock moved backwards", message);
			return -1;
		}
		if (rc != GENERATOR_OK) {
			respond_error(x, 503, "Generator exhausted",
			              "The id layout's 39 bits of time are used up.");
			return -1;
		}
	}
	/* ids grow with their time: the last one's covers them all. */
	if (mark_covers_or_reply(x, tick_ms) != 0)
		return -1;
	x->issued = count;
	return 0;
}

/* ?format=string or ?format=number (the default). Answers 400 itself and returns -1. */
static int as_string_or_reply(struct exchange *x, int *as_string)
{
	char value[16];
	size_t len;
	int rc = params_query_or_reply(x, "format", value, sizeof(value), &len);

	*as_string = 0;
	if (rc == QUERY_ABSENT || (rc == QUERY_OK && strcmp(value, "number") == 0))
		return 0;
	if (rc == QUERY_OK && strcmp(value, "string") == 0) {
		*as_string = 1;
		return 0;
	}
	if (rc != -1)
		respond_error(x, 400, "Invalid parameter", "format must be 'number' or 'string'.");
	return -1;
}

void handle_generate(struct exchange *x)
{
	uint64_t ids[GENERATE_COUNT_MAX], count = 1;
	int as_string, rc;

	if (x->app->cfg->process_model == CONFIG_PROCESS_FCGID) {
		/* Independent processes cannot share one generator: each would issue the same ids. */
		respond_error(x, 503, "Not available",
		              "/generate needs the nextid-fcgi pool; under mod_fcgid its processes "
		              "cannot share one generator.");
		return;
	}
	if (!atomic_load(&x->app->sb->gen_seeded)) {
		/* Started on a store it could not recover: the last ids' time is not known yet. */
		respond_error(x, 503, "Store unavailable",
		              "Ids wait until the store has been read once; retry in a moment.");
		return;
	}
	rc = params_u64_or_reply(x, "count", 1, GENERATE_COUNT_MAX, &count, "Invalid parameter",
	                         "count must be between 1 and 1000.");
	if (rc < 0 || as_string_or_reply(x, &as_string) != 0 || take_or_reply(x, count, ids) != 0)
		return;
	respond_json_begin(x);
	if (rc == 1) { /* no count: one id, as go-id answered */
		respond_json_kv_u64(x, "id", ids[0], as_string);
	} else {
		respond_json_key(x, "ids");
		respond_json_array_open(x);
		for (uint64_t i = 0; i < count; i++)
			respond_json_u64(x, ids[i], as_string);
		respond_json_array_close(x);
	}
	respond_json_kv_int(x, "timestamp", clock_wall_ms() / 1000);
	respond_json_send(x, 200);
}

void handle_generate_decompose(struct exchange *x)
{
	const struct request_segment *seg = x->cap[0];
	struct generator_parts parts;
	const char *why;
	uint64_t id;

	if (numparse_u64(seg->raw, seg->len, 0, UINT64_MAX, &id, &why) != 0) {
		respond_error(x, 400, "Invalid id",
		              "The id must be a decimal number from 0 to 18446744073709551615.");
		return;
	}
	generator_decompose(id, x->app->cfg->generator_epoch_ms, &parts);
	respond_json_begin(x);
	respond_json_kv_u64(x, "id", id, 0);
	respond_json_kv_int(x, "time", (int64_t)parts.tick);
	respond_json_kv_int(x, "sequence", (int64_t)parts.sequence);
	respond_json_kv_int(x, "machine_id", (int64_t)parts.machine_id);
	respond_json_kv_int(x, "unix_ms", parts.unix_ms);
	respond_json_send(x, 200);
}
