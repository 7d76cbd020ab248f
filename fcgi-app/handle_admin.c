/*
 * handle_admin: the admin endpoints. Every handler checks the token first, then its input, then
 * makes one store call. Bodies are JSON objects; a 64-bit value may be a JSON integer or a string
 * of digits (what JavaScript clients send for values past 2^53).
 */
#include "handle_admin.h"
#include "auth.h"
#include "numparse.h"
#include "params.h"
#include "respond.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

#define CACHE_MAX 1000000

enum field_kind { FIELD_TYPE, FIELD_INT64, FIELD_BOOL, FIELD_CACHE };

struct field_spec {
	const char *key;
	unsigned bit; /* RECORD_CHANGE_* */
	enum field_kind kind;
};

static const struct field_spec put_fields[] = {
	{ "type", RECORD_CHANGE_TYPE, FIELD_TYPE },
	{ "start", RECORD_CHANGE_START, FIELD_INT64 },
	{ "increment", RECORD_CHANGE_INCREMENT, FIELD_INT64 },
	{ "min", RECORD_CHANGE_MIN, FIELD_INT64 },
	{ "max", RECORD_CHANGE_MAX, FIELD_INT64 },
	{ "cycle", RECORD_CHANGE_CYCLE, FIELD_BOOL },
	{ "cache", RECORD_CHANGE_CACHE, FIELD_CACHE },
};

/* A change the store refuses, with its reason. */
static const struct respond_answers configure_answers = {
	.rc = { [STORE_INVALID] = { 400, "Invalid options", "{why}", 0 } },
};

static const struct field_spec next_fields[] = {
	{ "next", RECORD_CHANGE_START, FIELD_INT64 },
};

/* {"name","type","next","increment","min","max","cycle","cache","exhausted"}; the counter fields
 * are null for random-id types, and next is null once the sequence is exhausted. */
static void json_sequence(struct exchange *x, const char *name, size_t len,
                          const struct seq_record *rec)
{
	int counter = record_type_max(rec->type) != 0;
	int exhausted = (rec->flags & RECORD_FLAG_EXHAUSTED) != 0;
	const char *type = record_type_name(rec->type);
	const struct {
		const char *key;
		int64_t value;
		int present;
	} numbers[] = { { "next", rec->next, counter && !exhausted },
		        { "increment", rec->increment, counter },
		        { "min", rec->min, counter },
		        { "max", rec->max, counter } };

	respond_json_map_open(x);
	respond_json_key(x, "name");
	respond_json_string(x, name, len);
	respond_json_key(x, "type");
	respond_json_string(x, type, strlen(type));
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		respond_json_key(x, numbers[i].key);
		if (numbers[i].present)
			respond_json_counter(x, rec->type, numbers[i].value);
		else
			respond_json_null(x);
	}
	respond_json_key(x, "cycle");
	respond_json_bool(x, (rec->flags & RECORD_FLAG_CYCLE) != 0);
	respond_json_key(x, "cache");
	respond_json_int(x, rec->cache);
	respond_json_key(x, "exhausted");
	respond_json_bool(x, exhausted);
	respond_json_map_close(x);
}

static void reply_sequence(struct exchange *x, int status, const char *name, size_t len,
                           const struct seq_record *rec)
{
	respond_json_begin(x);
	json_sequence(x, name, len, rec);
	respond_json_send(x, status);
}

/* Read one field's value into ch, or explain what it must be. */
static int read_field(const struct field_spec *f, yajl_val v, struct record_change *ch,
                      const char **why)
{
	int64_t n = 0;
	const char *s = YAJL_GET_STRING(v);

	switch (f->kind) {
	case FIELD_TYPE:
		if (s && (ch->type = record_type_parse(s, strlen(s))) != 0)
			return 0;
		*why = "type must be int, long, uuid8, uuid12, uuid16 or uuid22.";
		return -1;
	case FIELD_BOOL:
		if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
			ch->cycle = YAJL_IS_TRUE(v);
			return 0;
		}
		*why = "cycle must be true or false.";
		return -1;
	case FIELD_INT64:
	case FIELD_CACHE:
		if (YAJL_IS_INTEGER(v))
			n = YAJL_GET_INTEGER(v);
		else if (!s || numparse_i64(s, strlen(s), INT64_MIN, INT64_MAX, &n, why) != 0)
			n = INT64_MIN; /* marks "not a whole number" below */
		break;
	}
	if (f->kind == FIELD_CACHE) {
		if (n < 0 || n > CACHE_MAX || (!YAJL_IS_INTEGER(v) && !s)) {
			*why = "cache must be a whole number from 0 to 1000000.";
			return -1;
		}
		ch->cache = (uint32_t)n;
		return 0;
	}
	if (n == INT64_MIN) {
		*why = "Numbers must be whole numbers, as JSON numbers or strings of digits.";
		return -1;
	}
	switch (f->bit) {
	case RECORD_CHANGE_START: ch->start = n; break;
	case RECORD_CHANGE_INCREMENT: ch->increment = n; break;
	case RECORD_CHANGE_MIN: ch->min = n; break;
	default: ch->max = n; break;
	}
	return 0;
}

/* Read the body's fields (each of `specs`, at most once, nothing else) into ch, or answer 400. */
static int change_or_reply(struct exchange *x, yajl_val body, const struct field_spec *specs,
                           size_t nspecs, struct record_change *ch)
{
	char message[160];
	const char *why = NULL;

	memset(ch, 0, sizeof(*ch));
	for (size_t i = 0; i < body->u.object.len; i++) {
		const char *key = body->u.object.keys[i];
		const struct field_spec *f = NULL;

		for (size_t k = 0; k < nspecs && !f; k++)
			if (strcmp(specs[k].key, key) == 0)
				f = &specs[k];
		if (!f) {
			respond_error(x, 400, "Invalid field",
			              nspecs > 1 ? "Unknown field; the fields are type, start, increment, "
			                           "min, max, cycle and cache."
			                         : "Unknown field; the only field is next.");
			return -1;
		}
		if (ch->fields & f->bit) {
			snprintf(message, sizeof(message), "Field '%s' is given more than once.", f->key);
			respond_error(x, 400, "Invalid field", message);
			return -1;
		}
		if (read_field(f, body->u.object.values[i], ch, &why) != 0) {
			respond_error(x, 400, "Invalid field", why);
			return -1;
		}
		ch->fields |= f->bit;
	}
	return 0;
}

/* Apply the body's change to `name` and answer with the sequence. */
static void configure(struct exchange *x, const struct field_spec *specs, size_t nspecs,
                      int mode)
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
	rc = change_or_reply(x, body, specs, nspecs, &ch);
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
	configure(x, put_fields, sizeof(put_fields) / sizeof(put_fields[0]),
	          STORE_CREATE_OR_CHANGE);
}

void handle_admin_set_next(struct exchange *x)
{
	configure(x, next_fields, 1, STORE_CHANGE_ONLY);
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
	respond_json_map_open(x);
	respond_json_key(x, "name");
	respond_json_string(x, name, len);
	respond_json_key(x, "deleted");
	respond_json_bool(x, 1);
	respond_json_map_close(x);
	respond_json_send(x, 200);
}

static int list_one(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	json_sequence(ctx, name, len, rec);
	return 0;
}

void handle_admin_list(struct exchange *x)
{
	struct params_page page;
	int rc;

	if (auth_admin_or_reply(x) != 0 || params_page_or_reply(x, &page) != 0)
		return;
	respond_json_begin(x);
	respond_json_map_open(x);
	respond_json_key(x, "sequences");
	respond_json_array_open(x);
	rc = store_list(x->app->store, page.after, page.after_len, page.limit, list_one, x);
	if (rc != STORE_OK) {
		respond_store_error(x, NULL, rc, "", 0);
		return;
	}
	respond_json_array_close(x);
	respond_json_map_close(x);
	respond_json_send(x, 200);
}
