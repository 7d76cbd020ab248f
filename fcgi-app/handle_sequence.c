/*
 * handle_sequence: the typed-entity endpoints. Every value comes from store_next (numeric types)
 * or randid after store_register (uuid types), so the type a name got at first use is checked on
 * every path. Overflow answers 409 and consumes nothing: the store refuses the whole request.
 */
#include "handle_sequence.h"
#include "config.h"
#include "name.h"
#include "params.h"
#include "randid.h"
#include "respond.h"
#include "store.h"

#include <string.h>
#include <time.h>

#define BATCH_MAX 10000

static const char *const type_descriptions[][2] = {
	{ "int", "Sequential 32-bit integer (1 to 2,147,483,647)" },
	{ "long", "Sequential 64-bit integer (1 to 9,223,372,036,854,775,807)" },
	{ "uuid8", "Random 8-character alphanumeric string" },
	{ "uuid12", "Random 12-character alphanumeric string" },
	{ "uuid16", "Random 16-character alphanumeric string" },
	{ "uuid22", "Random 22-character alphanumeric string" },
};

#define TYPE_COUNT (sizeof(type_descriptions) / sizeof(type_descriptions[0]))

/* "key": ["int", "long", ...] */
static void valid_types(struct exchange *x, const char *key)
{
	respond_json_key(x, key);
	respond_json_array_open(x);
	for (size_t i = 0; i < TYPE_COUNT; i++)
		respond_json_string(x, type_descriptions[i][0], strlen(type_descriptions[i][0]));
	respond_json_array_close(x);
}

/* Read dataType, or answer 400 with the list of valid types. */
static int data_type_or_reply(struct exchange *x, uint8_t *type)
{
	char value[16];
	size_t len;
	int rc = params_query_or_reply(x, "dataType", value, sizeof(value), &len);

	if (rc < 0)
		return -1;
	if (rc == QUERY_OK && (*type = record_type_parse(value, len)) != 0)
		return 0;
	respond_json_begin(x);
	respond_json_kv_str(x, "error", "Valid dataType is required");
	respond_json_kv_str(x, "message",
	                    "dataType must be one of int, long, uuid8, uuid12, uuid16, uuid22.");
	valid_types(x, "validTypes");
	respond_json_send(x, 400);
	return -1;
}

static int batch_size_or_reply(struct exchange *x, uint64_t *n)
{
	static const char title[] = "Valid batchSize is required";
	static const char message[] = "batchSize must be between 1 and 10000";
	int rc = params_u64_or_reply(x, "batchSize", 1, BATCH_MAX, n, title, message);

	if (rc == 1)
		respond_error(x, 400, title, message);
	return rc == 0 ? 0 : -1;
}

#define OVERFLOW "Entity '{name}' cannot go past {bound}; nothing was consumed."

/* Taking values as a type: past the bound, the store refuses the whole request. */
static const struct respond_answers long_take_answers = {
	.fallback = &respond_take_answers,
	.rc = { [STORE_EXHAUSTED] = { 409, "Long overflow", OVERFLOW, 0 } },
};

static const struct respond_answers int_take_answers = {
	.fallback = &long_take_answers,
	.rc = { [STORE_EXHAUSTED] = { 409, "Integer overflow", OVERFLOW, 0 } },
};

static const struct respond_answers status_answers = {
	.rc = { [STORE_NOT_FOUND] = { 404, "Entity not found", "No entity is named '{name}'.", 0 } },
};

/* "entityName" and "dataType", which every answer about an entity starts with. */
static void name_and_type(struct exchange *x, const char *name, size_t len, uint8_t type)
{
	respond_json_kv_strn(x, "entityName", name, len);
	respond_json_kv_str(x, "dataType", record_type_name(type));
}

/* A random-id type fixed to a name on first use, or, with create_on_first_use = no, only
 * checked against the type the name was created with. */
static int register_or_check(struct exchange *x, const char *name, size_t len,
                             const struct seq_record *fresh, uint8_t *registered)
{
	struct seq_record rec;
	int rc;

	if (x->app->cfg->create_on_first_use)
		return store_register(x->app->store, name, len, fresh, registered);
	rc = store_get(x->app->store, name, len, &rec);
	if (rc != STORE_OK)
		return rc;
	*registered = rec.type;
	return rec.type == fresh->type ? STORE_OK : STORE_TYPE_MISMATCH;
}

/*
 * Take `count` values of `name` as `type`: numbers from the store, or random ids once the name
 * is registered as that uuid type. On success the grant holds the numeric range. Answers the
 * failure itself and returns -1.
 */
static int take_or_reply(struct exchange *x, const char *name, size_t len, uint8_t type,
                         uint64_t count, struct store_grant *grant)
{
	struct seq_record fresh;
	struct respond_subject about = { .name = name, .len = len };
	int rc;

	record_init(&fresh, type, 1, (uint64_t)time(NULL));
	memset(grant, 0, sizeof(*grant));
	if (record_uuid_length(type))
		rc = register_or_check(x, name, len, &fresh, &grant->type);
	else
		rc = store_next(x->app->store, name, len, type,
		                x->app->cfg->create_on_first_use ? &fresh : NULL, count, grant);
	if (rc == STORE_OK) {
		x->issued = count;
		return 0;
	}
	about.registered = record_type_name(grant->type);
	about.wanted = record_type_name(type);
	about.bound = grant->bound;
	respond_store_error_about(x, type == RECORD_TYPE_INT ? &int_take_answers : &long_take_answers,
	                          rc, &about);
	return -1;
}

/* A new random id of `type` as a JSON string, or a 503 answered instead (returns -1). */
static int random_id(struct exchange *x, uint8_t type)
{
	char id[32];
	size_t n = record_uuid_length(type);

	if (randid_fill(id, n) != 0) {
		respond_error(x, 503, "Random source unavailable",
		              "The kernel's random source did not answer; retry in a moment.");
		return -1;
	}
	respond_json_string(x, id, n);
	return 0;
}

void handle_sequence_next_id(struct exchange *x)
{
	char name[NAME_MAX_BYTES];
	struct store_grant grant;
	uint8_t type;
	size_t len;

	if (params_name_or_reply(x, 0, name, &len) != 0 || data_type_or_reply(x, &type) != 0 ||
	    take_or_reply(x, name, len, type, 1, &grant) != 0)
		return;
	respond_json_begin(x);
	name_and_type(x, name, len, type);
	if (!record_uuid_length(type)) {
		respond_json_kv_counter(x, "value", type, grant.first);
	} else {
		respond_json_key(x, "value");
		if (random_id(x, type) != 0)
			return;
	}
	respond_json_send(x, 200);
}

void handle_sequence_next_batch(struct exchange *x)
{
	char name[NAME_MAX_BYTES];
	struct store_grant grant;
	uint64_t count;
	uint8_t type;
	size_t len;

	if (params_name_or_reply(x, 0, name, &len) != 0 || data_type_or_reply(x, &type) != 0 ||
	    batch_size_or_reply(x, &count) != 0 || take_or_reply(x, name, len, type, count, &grant))
		return;
	respond_json_begin(x);
	name_and_type(x, name, len, type);
	respond_json_kv_int(x, "batchSize", (int64_t)count);
	if (!record_uuid_length(type)) {
		respond_json_kv_counter(x, "startValue", type, grant.first);
		respond_json_kv_counter(x, "endValue", type, grant.last);
	} else {
		respond_json_key(x, "values");
		respond_json_array_open(x);
		for (uint64_t i = 0; i < count; i++)
			if (random_id(x, type) != 0)
				return;
		respond_json_array_close(x);
	}
	respond_json_send(x, 200);
}

/* An entity as status and list show it: "entityName", "dataType", "currentValue", where
 * currentValue is the next value to be issued, or null when there is none (random-id types, an
 * exhausted sequence). */
static void entity(struct exchange *x, const char *name, size_t len, const struct seq_record *rec)
{
	name_and_type(x, name, len, rec->type);
	if (record_uuid_length(rec->type) || (rec->flags & RECORD_FLAG_EXHAUSTED))
		respond_json_kv_null(x, "currentValue");
	else
		respond_json_kv_counter(x, "currentValue", rec->type, rec->next);
}

void handle_sequence_status(struct exchange *x)
{
	char name[NAME_MAX_BYTES];
	struct seq_record rec;
	size_t len;
	int rc;

	if (params_name_or_reply(x, 0, name, &len) != 0)
		return;
	rc = store_get(x->app->store, name, len, &rec);
	if (rc != STORE_OK) {
		respond_store_error(x, &status_answers, rc, name, len);
		return;
	}
	respond_json_begin(x);
	entity(x, name, len, &rec);
	respond_json_send(x, 200);
}

static int list_one(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	respond_json_map_open(ctx);
	entity(ctx, name, len, rec);
	respond_json_map_close(ctx);
	return 0;
}

void handle_sequence_list(struct exchange *x)
{
	struct params_page page;
	int rc;

	if (params_page_or_reply(x, &page) != 0)
		return;
	respond_json_begin(x);
	respond_json_key(x, "entities");
	respond_json_array_open(x);
	rc = store_list(x->app->store, page.after, page.after_len, page.limit, list_one, x);
	if (rc != STORE_OK) {
		respond_store_error(x, NULL, rc, "", 0);
		return;
	}
	respond_json_array_close(x);
	respond_json_send(x, 200);
}

void handle_sequence_types(struct exchange *x)
{
	respond_json_begin(x);
	valid_types(x, "availableTypes");
	respond_json_key(x, "description");
	respond_json_map_open(x);
	for (size_t i = 0; i < TYPE_COUNT; i++)
		respond_json_kv_str(x, type_descriptions[i][0], type_descriptions[i][1]);
	respond_json_map_close(x);
	respond_json_send(x, 200);
}
