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

#include <string.h>

#define CACHE_MAX 1000000

enum field_kind { FIELD_TYPE, FIELD_INT64, FIELD_BOOL, FIELD_CACHE };

struct field_spec {
	const char *key;
	unsigned bit; /* RECORD_CHANGE_* */
	enum field_kind kind;
};

/* A body's fields, and the sentence for a key that is none of them. */
struct field_set {
	const struct field_spec *specs;
	size_t n;
	const char *unknown;
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

static const struct field_spec next_fields[] = {
	{ "next", RECORD_CHANGE_START, FIELD_INT64 },
};

#define FIELDS_MAX (sizeof(put_fields) / sizeof(put_fields[0]))

static const struct field_set put_set = {
	put_fields, FIELDS_MAX,
	"Unknown field; the fields are type, start, increment, min, max, cycle and cache."
};

static const struct field_set next_set = { next_fields, 1,
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

struct change_reader {
	const struct field_spec *specs;
	struct record_change *ch;
};

/* params_fields' check: read a field into the change as the body gives it. */
static int check_field(void *ctx, size_t k, yajl_val v, const char **why)
{
	struct change_reader *r = ctx;

	if (read_field(&r->specs[k], v, r->ch, why) != 0)
		return -1;
	r->ch->fields |= r->specs[k].bit;
	return 0;
}

/* Read the body's fields (each of the set, at most once, nothing else) into ch, or answer 400. */
static int change_or_reply(struct exchange *x, yajl_val body, const struct field_set *set,
                           struct record_change *ch)
{
	const char *keys[FIELDS_MAX];
	yajl_val values[FIELDS_MAX];
	struct change_reader r = { set->specs, ch };
	const struct params_fields f = { keys, set->n, set->unknown, check_field, &r };

	memset(ch, 0, sizeof(*ch));
	for (size_t k = 0; k < set->n; k++)
		keys[k] = set->specs[k].key;
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
