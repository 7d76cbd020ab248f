/*
 * handle_admin: the admin endpoints. Every handler checks the token first, then its input, then
 * makes one store call. Bodies are JSON objects; a 64-bit value may be a JSON integer or a string
 * of digits (what JavaScript clients send for values past 2^53).
 */
#include "handle_admin.h"
#include "auth.h"
#include "params.h"
#include "respond.h"
#include "store.h"

#include <string.h>

/* A body's fields, the record option each one sets (record_change_set), and the sentence for
 * a key that is none of them. */
struct field_set {
	const char *const *keys;
	const char *const *options;
	size_t n;
	const char *unknown;
};

static const struct field_set put_set = {
	record_option_names, record_option_names, RECORD_OPTIONS,
	"Unknown field; the fields are type, start, increment, min, max, cycle and cache."
};

static const char *const next_keys[] = { "next" }, *const next_options[] = { "start" };
static const struct field_set next_set = { next_keys, next_options, 1,
	                                   "Unknown field; the only field is next." };

/* A change the store refuses, with its reason. */
static const struct respond_answers configure_answers = {
	.rc = { [STORE_INVALID] = { 400, "Invalid options", "{why}", 0 } },
};

/* A sequence as admin answers show it: "name", "type", "next", "increment", "min", "max",
 * "cycle", "cache", "exhausted"; the counter fields are null for random-id types, and next is
 * null once the sequence is exhausted. */
static void sequence(struct exchange *x, const char *name, size_t len,
                     const struct seq_record *rec)
{
	int counter = record_type_max(rec->type) != 0;
	int exhausted = (rec->flags & RECORD_FLAG_EXHAUSTED) != 0;
	const struct {
		const char *key;
		int64_t value;
		int present;
	} numbers[] = { { "next", rec->next, counter && !exhausted },
		        { "increment", rec->increment, counter },
		        { "min", rec->min, counter },
		        { "max", rec->max, counter } };

	respond_json_kv_strn(x, "name", name, len);
	respond_json_kv_str(x, "type", record_type_name(rec->type));
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		if (numbers[i].present)
			respond_json_kv_counter(x, numbers[i].key, rec->type, numbers[i].value);
		else
			respond_json_kv_null(x, numbers[i].key);
	}
	respond_json_kv_bool(x, "cycle", (rec->flags & RECORD_FLAG_CYCLE) != 0);
	respond_json_kv_int(x, "cache", rec->cache);
	respond_json_kv_bool(x, "exhausted", exhausted);
}

static void reply_sequence(struct exchange *x, int status, const char *name, size_t len,
                           const struct seq_record *rec)
{
	respond_json_begin(x);
	sequence(x, name, len, rec);
	respond_json_send(x, status);
}

struct change_reader {
	const struct field_set *set;
	struct record_change *ch;
};

/* params_fields' check: read a field into the change as the body gives it (a 64-bit value as a
 * JSON integer or a string of digits), or explain what it must be. */
static int check_field(void *ctx, size_t k, yajl_val v, const char **why)
{
	struct change_reader *r = ctx;
	/* (yajl's YAJL_GET_INTEGER reads the union whatever the value is) */
	const struct record_value value = { YAJL_GET_STRING(v), YAJL_IS_INTEGER(v),
		                            YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0,
		                            YAJL_IS_TRUE(v) ? 1 : YAJL_IS_FALSE(v) ? 0 : -1 };

	switch (record_change_set(r->ch, r->set->options[k], &value, why)) {
	case RECORD_SET_OK:
		return 0;
	case RECORD_SET_NUMBER:
		*why = "Numbers must be whole numbers, as JSON numbers or strings of digits.";
		return -1;
	default:
		return -1; /* its sentence */
	}
}

/* Read the body's fields (each of the set, at most once, nothing else) into ch, or answer 400. */
static int change_or_reply(struct exchange *x, yajl_val body, const struct field_set *set,
                           struct record_change *ch)
{
	yajl_val values[RECORD_OPTIONS];
	struct change_reader r = { set, ch };
	const struct params_fields f = { set->keys, set->n, set->unknown, check_field, &r };

	memset(ch, 0, sizeof(*ch));
	return params_fields_or_reply(x, body, &f, values);
}

/* Apply the body's change to `name` and answer with the sequence. */
static void configure(struct exchange *x, const struct field_set *set, int mode)
{
	char name[NAME_MAX_BYTES];
	struct record_change ch;
	struct seq_record rec;
	yajl_val body = NULL;
	const char *why = NULL;
	int created = 0, rc;
	size_t len;

	if (auth_admin_or_reply(x) != 0 || params_name_or_reply(x, 0, name, &len) != 0 ||
	    params_json_body_or_reply(x, &body) != 0)
		return;
	rc = change_or_reply(x, body, set, &ch);
	yajl_tree_free(body);
	if (rc != 0)
		return;
	if (mode == STORE_CHANGE_ONLY && !(ch.fields & RECORD_CHANGE_START)) {
		respond_error(x, 400, "Invalid field", "The body must give next.");
		return;
	}
	rc = store_configure(x->app->store, name, len, &ch, mode, &rec, &created, &why);
	if (rc != STORE_OK) {
		const struct respond_subject about = { .name = name, .len = len, .why = why };

		respond_store_error_about(x, &configure_answers, rc, &about);
		return;
	}
	reply_sequence(x, created ? 201 : 200, name, len, &rec);
}

void handle_admin_put(struct exchange *x)
{
	configure(x, &put_set, STORE_CREATE_OR_CHANGE);
}

void handle_admin_set_next(struct exchange *x)
{
	configure(x, &next_set, STORE_CHANGE_ONLY);
}

void handle_admin_show(struct exchange *x)
{
	char name[NAME_MAX_BYTES];
	struct seq_record rec;
	size_t len;
	int rc;

	if (auth_admin_or_reply(x) != 0 || params_name_or_reply(x, 0, name, &len) != 0)
		return;
	rc = store_get(x->app->store, name, len, &rec);
	if (rc != STORE_OK)
		respond_store_error(x, NULL, rc, name, len);
	else
		reply_sequence(x, 200, name, len, &rec);
}

void handle_admin_delete(struct exchange *x)
{
	char name[NAME_MAX_BYTES];
	size_t len;
	int rc;

	if (auth_admin_or_reply(x) != 0 || params_name_or_reply(x, 0, name, &len) != 0)
		return;
	rc = store_delete(x->app->store, name, len);
	if (rc != STORE_OK) {
		respond_store_error(x, NULL, rc, name, len);
		return;
	}
	respond_json_begin(x);
	respond_json_kv_strn(x, "name", name, len);
	respond_json_kv_bool(x, "deleted", 1);
	respond_json_send(x, 200);
}

static int list_one(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	respond_json_map_open(ctx);
	sequence(ctx, name, len, rec);
	respond_json_map_close(ctx);
	return 0;
}

void handle_admin_list(struct exchange *x)
{
	struct params_page page;
	int rc;

	if (auth_admin_or_reply(x) != 0 || params_page_or_reply(x, &page) != 0)
		return;
	respond_json_begin(x);
	respond_json_key(x, "sequences");
	respond_json_array_open(x);
	rc = store_list(x->app->store, page.after, page.after_len, page.limit, list_one, x);
	if (rc != STORE_OK) {
		respond_store_error(x, NULL, rc, "", 0);
		return;
	}
	respond_json_array_close(x);
	respond_json_send(x, 200);
}
