/*
 * handle_prefix: the formatted-number endpoints. Each makes one store call; the store applies the
 * reset rule and writes the audit in the transaction that issues the numbers, so nothing here
 * can issue a number the audit misses. Times are the wall clock (CLOCK_REALTIME).
 */
#include "handle_prefix.h"
#include "auth.h"
#include "clock.h"
#include "params.h"
#include "respond.h"
#include "store_prefix.h"
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_MAX 1000
#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 1000
#define PREFIX_LIST_MAX 1000 /* prefixes in one page of the list (limit may ask for more) */

/* Every prefix endpoint: a name that is no prefix, a number longer than its room. */
static const struct respond_answers prefix_answers = {
	.rc = {
		[STORE_NOT_FOUND] = { 404, "prefix {name} not configured",
		                      "Configure it first with POST /api/v1/config/{name} (admin).", 0 },
		[STORE_INVALID] = { 400, "Invalid number",
		                    "The formatted number is longer than 1024 bytes; shorten the "
		                    "template.", 0 },
	},
};

/* A configuration the store refuses, with its reason (it creates a missing prefix). */
static const struct respond_answers config_answers = {
	.rc = { [STORE_INVALID] = { 400, "Invalid configuration", "{why}", 0 } },
};

/* A reset the store refuses, with its reason. */
static const struct respond_answers reset_answers = {
	.fallback = &prefix_answers,
	.rc = { [STORE_INVALID] = { 400, "Invalid reset", "{why}", 0 } },
};

/* A free-text parameter from the query (client_id, generated_by): "" when absent. */
static int query_text_or_reply(struct exchange *x, const char *key, char *out, size_t cap)
{
	char message[96];
	const char *why;
	size_t len = 0;
	int rc = params_query_or_reply(x, key, out, cap, &len);

	if (rc < 0)
		return -1;
	if (rc == QUERY_ABSENT) {
		out[0] = '\0';
		return 0;
	}
	if (rc == QUERY_OK && params_text_check(out, len, AUDIT_TEXT_MAX, &why) == 0)
		return 0;
	snprintf(message, sizeof(message), "%s must be 1 to 128 bytes of UTF-8 without control "
	                                   "characters.", key);
	respond_error(x, 400, "Invalid parameter", message);
	return -1;
}

/* A free-text field of a JSON body: "" when absent. */
static int body_text_or_reply(struct exchange *x, yajl_val v, const char *key, size_t max,
                              char *out, size_t cap)
{
	const char *s = YAJL_GET_STRING(v), *why;
	char message[128];

	out[0] = '\0';
	if (!v)
		return 0;
	if (s && params_text_check(s, strlen(s), max, &why) == 0 && strlen(s) < cap) {
		memcpy(out, s, strlen(s) + 1);
		return 0;
	}
	snprintf(message, sizeof(message), "%s must be a string of 1 to %zu bytes of UTF-8 without "
	                                   "control characters.", key, max);
	respond_error(x, 400, "Invalid field", message);
	return -1;
}

/* A prefix's configuration: "prefix", "padding_length", "format_template", "reset_rule",
 * "timezone". */
static void config(struct exchange *x, const char *name, size_t len, const struct seq_record *rec)
{
	respond_json_kv_strn(x, "prefix", name, len);
	respond_json_kv_int(x, "padding_length", rec->padding);
	respond_json_kv_str(x, "format_template", rec->format);
	respond_json_kv_str(x, "reset_rule", template_rule_name(rec->reset_rule));
	respond_json_kv_str(x, "timezone", rec->timezone);
}

void handle_prefix_config_get(struct exchange *x)
{
	char name[NAME_MAX_BYTES];
	struct seq_record rec;
	size_t len;
	int rc;

	if (params_name_or_reply(x, 0, name, &len) != 0)
		return;
	rc = store_get(x->app->store, name, len, &rec);
	if (rc == STORE_OK && !record_is_prefix(&rec))
		rc = STORE_NOT_FOUND;
	if (rc != STORE_OK) {
		respond_store_error(x, &prefix_answers, rc, name, len);
		return;
	}
	respond_json_begin(x);
	config(x, name, len, &rec);
	respond_json_send(x, 200);
}

static const char *const config_keys[] = { "padding_length", "format_template", "reset_rule",
	                                   "timezone", "admin_user" };
static const struct params_fields config_fields = { config_keys, 5, NULL, NULL, NULL };

/* Read the config body into c. Answers 400 itself and returns -1. */
static int config_or_reply(struct exchange *x, yajl_val body, struct store_prefix_config *c,
                           char *admin_user, size_t cap)
{
	yajl_val v[5];
	int64_t padding;
	const char *s;

	if (params_fields_or_reply(x, body, &config_fields, v) != 0)
		return -1;
	if (v[0]) {
		if (params_json_i64(v[0], 0, TEMPLATE_PADDING_MAX, &padding) != 0) {
			respond_error(x, 400, "Invalid field", "padding_length must be 0 to 18.");
			return -1;
		}
		c->padding = (unsigned)padding;
		c->fields |= PREFIX_SET_PADDING;
	}
	if (v[1]) {
		if (!(c->format = YAJL_GET_STRING(v[1]))) {
			respond_error(x, 400, "Invalid field", "format_template must be a string.");
			return -1;
		}
		c->fields |= PREFIX_SET_FORMAT;
	}
	if (v[2]) {
		s = YAJL_GET_STRING(v[2]);
		if (!s || (c->reset_rule = template_rule_parse(s, strlen(s))) < 0) {
			respond_error(x, 400, "Invalid field",
			              "reset_rule must be never, daily, monthly or yearly.");
			return -1;
		}
		c->fields |= PREFIX_SET_RULE;
	}
	if (v[3]) {
		if (!(c->timezone = YAJL_GET_STRING(v[3]))) {
			respond_error(x, 400, "Invalid field", "timezone must be a string.");
			return -1;
		}
		c->fields |= PREFIX_SET_TIMEZONE;
	}
	return body_text_or_reply(x, v[4], "admin_user", AUDIT_TEXT_MAX, admin_user, cap);
}

void handle_prefix_config_set(struct exchange *x)
{
	char name[NAME_MAX_BYTES], admin_user[AUDIT_TEXT_MAX + 1];
	struct store_prefix_config c = { .now_ms = clock_wall_ms(), .admin_user = admin_user };
	struct seq_record rec;
	yajl_val body = NULL;
	const char *why = NULL;
	int rc, created = 0; /* the store says; the answer is the same either way */
	size_t len;

	if (auth_admin_or_reply(x) != 0 || params_name_or_reply(x, 0, name, &len) != 0 ||
	    params_json_body_or_reply(x, &body) != 0)
		return;
	if (config_or_reply(x, body, &c, admin_user, sizeof(admin_user)) != 0)
		goto out;
	rc = store_prefix_configure(x->app->store, name, len, &c, &rec, &created, &why);
	if (rc != STORE_OK) {
		const struct respond_subject about = { .name = name, .len = len, .why = why };

		respond_store_error_about(x, &config_answers, rc, &about);
		goto out;
	}
	/* 200 with this message whether the prefix was created or changed: the Sequential ID
	 * Counter answered so, and a client written against it may look for exactly that. */
	respond_json_begin(x);
	respond_json_kv_str(x, "message", "configuration updated successfully");
	config(x, name, len, &rec);
	respond_json_send(x, 200);
out:
	yajl_tree_free(body);
}

/* Issue count numbers; on success *out is an array the caller frees. Answers failures. */
static int issue_or_reply(struct exchange *x, const char *name, size_t len,
                          const struct store_caller *who, uint64_t count,
                          struct store_number **out)
{
	int rc;

	*out = malloc(count * sizeof(**out));
	if (!*out) {
		respond_error(x, 503, "Out of memory", "The numbers could not be prepared; retry.");
		return -1;
	}
	rc = store_prefix_next(x->app->store, name, len, who, count, *out);
	if (rc == STORE_OK) {
		x->issued = count;
		return 0;
	}
	free(*out);
	*out = NULL;
	respond_store_error(x, &prefix_answers, rc, name, len);
	return -1;
}

void handle_prefix_next(struct exchange *x)
{
	char name[NAME_MAX_BYTES], client_id[AUDIT_TEXT_MAX + 1], generated_by[AUDIT_TEXT_MAX + 1];
	struct store_caller who = { client_id, generated_by, clock_wall_ms() };
	struct store_number *n;
	size_t len;

	if (params_name_or_reply(x, 0, name, &len) != 0 ||
	    query_text_or_reply(x, "client_id", client_id, sizeof(client_id)) != 0 ||
	    query_text_or_reply(x, "generated_by", generated_by, sizeof(generated_by)) != 0 ||
	    issue_or_reply(x, name, len, &who, 1, &n) != 0)
		return;
	respond_json_begin(x);
	respond_json_kv_strn(x, "prefix", name, len);
	respond_json_kv_int(x, "counter", n->counter);
	respond_json_kv_str(x, "full_number", n->full_number);
	if (client_id[0])
		respond_json_kv_str(x, "client_id", client_id);
	if (generated_by[0])
		respond_json_kv_str(x, "generated_by", generated_by);
	respond_json_kv_uuid(x, "message_id", n->message_id);
	respond_json_kv_time(x, "generated_at", who.now_ms);
	respond_json_send(x, 200);
	free(n);
}

static const char *const batch_keys[] = { "count", "client_id", "generated_by" };
static const struct params_fields batch_fields = { batch_keys, 3, NULL, NULL, NULL };

void handle_prefix_batch(struct exchange *x)
{
	char name[NAME_MAX_BYTES], client_id[AUDIT_TEXT_MAX + 1], generated_by[AUDIT_TEXT_MAX + 1];
	struct store_caller who = { client_id, generated_by, clock_wall_ms() };
	unsigned char batch_id[16];
	struct store_number *n = NULL;
	yajl_val body = NULL, v[3];
	int64_t count = 0;
	size_t len;

	if (params_name_or_reply(x, 0, name, &len) != 0 || params_json_body_or_reply(x, &body) != 0)
		return;
	if (params_fields_or_reply(x, body, &batch_fields, v) != 0)
		goto out;
	if (params_json_i64(v[0], 1, BATCH_MAX, &count) != 0) {
		respond_error(x, 400, "Invalid field", "count must be between 1 and 1000.");
		goto out;
	}
	if (body_text_or_reply(x, v[1], "client_id", AUDIT_TEXT_MAX, client_id,
	                       sizeof(client_id)) != 0 ||
	    body_text_or_reply(x, v[2], "generated_by", AUDIT_TEXT_MAX, generated_by,
	                       sizeof(generated_by)) != 0 ||
	    issue_or_reply(x, name, len, &who, (uint64_t)count, &n) != 0)
		goto out;
	if (audit_new_id(batch_id) != 0)
		memset(batch_id, 0, sizeof(batch_id));
	respond_json_begin(x);
	respond_json_kv_strn(x, "prefix", name, len);
	respond_json_kv_int(x, "start_counter", n[0].counter);
	respond_json_kv_int(x, "end_counter", n[count - 1].counter);
	respond_json_key(x, "full_numbers");
	respond_json_array_open(x);
	for (int64_t i = 0; i < count; i++)
		respond_json_string(x, n[i].full_number, strlen(n[i].full_number));
	respond_json_array_close(x);
	respond_json_kv_uuid(x, "batch_id", batch_id);
	respond_json_send(x, 200);
out:
	free(n);
	yajl_tree_free(body);
}

void handle_prefix_status(struct exchange *x)
{
	char name[NAME_MAX_BYTES];
	struct store_prefix_status s;
	size_t len;
	int rc;

	if (params_name_or_reply(x, 0, name, &len) != 0)
		return;
	rc = store_prefix_status(x->app->store, name, len, clock_wall_ms(), &s);
	if (rc != STORE_OK) {
		respond_store_error(x, &prefix_answers, rc, name, len);
		return;
	}
	respond_json_begin(x);
	respond_json_kv_strn(x, "prefix", name, len);
	respond_json_kv_int(x, "current_counter", s.current);
	if (s.next > 0)
		respond_json_kv_int(x, "next_counter", s.next);
	else
		respond_json_kv_null(x, "next_counter"); /* exhausted */
	/* The replaced service's key: whether the store answers its health check (store_ping, as
	 * /health/ready asks it), not merely that this read went through. */
	respond_json_kv_bool(x, "db_healthy", store_ping(x->app->store) == STORE_OK);
	respond_json_kv_int(x, "last_audit_counter", s.last_audit_counter);
	respond_json_send(x, 200);
}

static const char *const reset_keys[] = { "set_to", "reason", "admin_user", "force" };
static const struct params_fields reset_fields = { reset_keys, 4, NULL, NULL, NULL };

void handle_prefix_reset(struct exchange *x)
{
	char name[NAME_MAX_BYTES], reason[AUDIT_NOTE_MAX + 1], admin_user[AUDIT_TEXT_MAX + 1];
	char message[160];
	struct store_reset r = { .reason = reason, .admin_user = admin_user,
		                 .now_ms = clock_wall_ms() };
	yajl_val body = NULL, v[4];
	const char *why = NULL;
	size_t len;
	int rc;

	if (auth_admin_or_reply(x) != 0 || params_name_or_reply(x, 0, name, &len) != 0 ||
	    params_json_body_or_reply(x, &body) != 0)
		return;
	if (params_fields_or_reply(x, body, &reset_fields, v) != 0)
		goto out;
	if (params_json_i64(v[0], 0, INT64_MAX - 1, &r.set_to) != 0) {
		respond_error(x, 400, "Invalid field", "set_to must be a whole number from 0.");
		goto out;
	}
	if (v[3] && !YAJL_IS_TRUE(v[3]) && !YAJL_IS_FALSE(v[3])) {
		respond_error(x, 400, "Invalid field", "force must be true or false.");
		goto out;
	}
	r.force = v[3] && YAJL_IS_TRUE(v[3]);
	if (body_text_or_reply(x, v[1], "reason", AUDIT_NOTE_MAX, reason, sizeof(reason)) != 0 ||
	    body_text_or_reply(x, v[2], "admin_user", AUDIT_TEXT_MAX, admin_user,
	                       sizeof(admin_user)) != 0)
		goto out;
	rc = store_prefix_reset(x->app->store, name, len, &r, &why);
	if (rc != STORE_OK) {
		const struct respond_subject about = { .name = name, .len = len, .why = why };

		respond_store_error_about(x, &reset_answers, rc, &about);
		goto out;
	}
	snprintf(message, sizeof(message), "Counter reset from %lld to %lld",
	         (long long)r.old_value, (long long)r.new_value);
	respond_json_begin(x);
	respond_json_kv_bool(x, "success", 1);
	respond_json_kv_str(x, "message", message);
	respond_json_kv_int(x, "old_value", r.old_value);
	respond_json_kv_int(x, "new_value", r.new_value);
	respond_json_kv_uuid(x, "reset_id", r.reset_id);
	respond_json_send(x, 200);
out:
	yajl_tree_free(body);
}

static int audit_number(void *ctx, uint64_t seq, const struct audit_entry *e)
{
	struct exchange *x = ctx;

	respond_json_map_open(x);
	respond_json_kv_int(x, "seq", (int64_t)seq);
	respond_json_kv_int(x, "counter", e->counter);
	respond_json_kv_str(x, "full_number", e->full_number);
	respond_json_kv_str(x, "client_id", e->client_id);
	respond_json_kv_str(x, "generated_by", e->generated_by);
	if (e->correlation_id[0] != '\0') /* only gRPC callers send one */
		respond_json_kv_str(x, "correlation_id", e->correlation_id);
	respond_json_kv_uuid(x, "message_id", e->id);
	respond_json_kv_time(x, "generated_at", e->time_ms);
	respond_json_map_close(x);
	return 0;
}

static int audit_event(void *ctx, uint64_t seq, const struct audit_entry *e)
{
	struct exchange *x = ctx;

	respond_json_map_open(x);
	respond_json_kv_int(x, "seq", (int64_t)seq);
	respond_json_kv_str(x, "event", e->event == AUDIT_RESET ? "reset" : "config");
	if (e->event == AUDIT_RESET) {
		respond_json_kv_int(x, "old_value", e->old_value);
		respond_json_kv_int(x, "new_value", e->counter);
		respond_json_kv_str(x, "reason", e->note);
	} else {
		respond_json_kv_str(x, "settings", e->note);
	}
	respond_json_kv_str(x, "admin_user", e->admin_user);
	respond_json_kv_uuid(x, "id", e->id);
	respond_json_kv_time(x, "at", e->time_ms);
	respond_json_map_close(x);
	return 0;
}

void handle_prefix_audit(struct exchange *x)
{
	char name[NAME_MAX_BYTES], kind[16];
	uint64_t after = 0, limit = AUDIT_LIMIT_DEFAULT;
	size_t len, kind_len;
	struct seq_record rec;
	int rc, events = 0;

	if (auth_admin_or_reply(x) != 0 || params_name_or_reply(x, 0, name, &len) != 0 ||
	    params_u64_or_reply(x, "after", 0, UINT64_MAX, &after, "Invalid parameter",
	                        "after must be a whole number (the seq of the last record seen).") < 0 ||
	    params_u64_or_reply(x, "limit", 1, AUDIT_LIMIT_MAX, &limit, "Invalid parameter",
	                        "limit must be between 1 and 1000.") < 0)
		return;
	rc = params_query_or_reply(x, "kind", kind, sizeof(kind), &kind_len);
	if (rc < 0)
		return;
	if (rc == QUERY_OK && strcmp(kind, "events") == 0)
		events = 1;
	else if (rc != QUERY_ABSENT && !(rc == QUERY_OK && strcmp(kind, "numbers") == 0)) {
		respond_error(x, 400, "Invalid parameter", "kind must be 'numbers' or 'events'.");
		return;
	}
	rc = store_get(x->app->store, name, len, &rec);
	if (rc == STORE_OK && !record_is_prefix(&rec))
		rc = STORE_NOT_FOUND;
	if (rc != STORE_OK) {
		respond_store_error(x, &prefix_answers, rc, name, len);
		return;
	}
	respond_json_begin(x);
	respond_json_kv_strn(x, "prefix", name, len);
	respond_json_key(x, "records");
	respond_json_array_open(x);
	rc = store_audit_list(x->app->store, name, len,
	                      events ? AUDIT_KIND_EVENT : AUDIT_KIND_NUMBER, after, limit,
	                      events ? audit_event : audit_number, x);
	if (rc != STORE_OK) {
		respond_store_error(x, &prefix_answers, rc, name, len);
		return;
	}
	respond_json_array_close(x);
	respond_json_send(x, 200);
}

/* The names of one page of prefixes, gathered while the store lists its sequences. */
struct prefix_page {
	char (*names)[NAME_MAX_BYTES];
	size_t *lens;
	size_t n, cap;
};

static int gather_prefix(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	struct prefix_page *p = ctx;

	if (!record_is_prefix(rec))
		return 0;
	memcpy(p->names[p->n], name, len);
	p->lens[p->n++] = len;
	return p->n == p->cap; /* a full page: stop */
}

/* One prefix of the list: its config, counters and the preview of its next number. */
static int list_prefix(struct exchange *x, const char *name, size_t len, int64_t now_ms)
{
	struct store_prefix_status *s = malloc(sizeof(*s));
	int rc;

	if (!s)
		return STORE_UNAVAILABLE;
	rc = store_prefix_status(x->app->store, name, len, now_ms, s);
	if (rc == STORE_OK) {
		respond_json_map_open(x);
		config(x, name, len, &s->rec);
		respond_json_kv_int(x, "current_counter", s->current);
		if (s->next > 0)
			respond_json_kv_int(x, "next_counter", s->next);
		else
			respond_json_kv_null(x, "next_counter");
		if (s->next_number[0])
			respond_json_kv_str(x, "next_number", s->next_number);
		else
			respond_json_kv_null(x, "next_number");
		respond_json_map_close(x);
	}
	free(s);
	return rc == STORE_NOT_FOUND ? STORE_OK : rc; /* deleted since it was listed: left out */
}

void handle_prefix_list(struct exchange *x)
{
	struct params_page page;
	struct prefix_page p = { 0 };
	int64_t now_ms = clock_wall_ms();
	int rc;

	if (auth_admin_or_reply(x) != 0 || params_page_or_reply(x, &page) != 0)
		return;
	p.cap = page.limit == 0 || page.limit > PREFIX_LIST_MAX ? PREFIX_LIST_MAX : page.limit;
	p.names = malloc(p.cap * sizeof(*p.names));
	p.lens = malloc(p.cap * sizeof(*p.lens));
	rc = p.names && p.lens ? store_list(x->app->store, page.after, page.after_len, 0,
	                                    gather_prefix, &p)
	                       : STORE_UNAVAILABLE;
	if (rc == STORE_OK) {
		respond_json_begin(x);
		respond_json_key(x, "prefixes");
		respond_json_array_open(x);
		for (size_t i = 0; i < p.n && rc == STORE_OK; i++)
			rc = list_prefix(x, p.names[i], p.lens[i], now_ms);
	}
	if (rc != STORE_OK) {
		respond_store_error(x, &prefix_answers, rc, "", 0);
	} else {
		respond_json_array_close(x);
		respond_json_send(x, 200);
	}
	free(p.names);
	free(p.lens);
}
