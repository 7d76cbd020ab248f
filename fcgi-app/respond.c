/*
 * respond: status line, headers and body for every answer, and the one place a store result
 * becomes an HTTP status: handlers pass the result with their family's table, which words what
 * it knows better and leaves the rest to the common table here. The JSON generator belongs to the
 * worker's thread (struct app) and is reset for each body.
 */
#include "respond.h"
#include "audit.h"
#include "log.h"
#include "record.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

/* The common answers: what every family says unless its own table words a result otherwise. */
static const struct respond_answers common_answers = {
	.rc = {
		[STORE_NOT_FOUND] = { 404, "Sequence not found", "No sequence is named '{name}'.", 0 },
		[STORE_EXISTS] = { 409, "Sequence exists", "A sequence named '{name}' exists already.",
		                   0 },
		[STORE_EXHAUSTED] = { 409, "Sequence exhausted",
		                      "Sequence '{name}' reached its maximum; raise its max or enable "
		                      "cycle.", 0 },
		[STORE_TYPE_MISMATCH] = { 400, "Type mismatch",
		                          "Sequence '{name}' has a type this endpoint cannot serve.", 0 },
		[STORE_INVALID] = { 400, "Invalid value",
		                    "The value is outside what sequence '{name}' allows.", 0 },
		[STORE_BUSY] = { 503, "Store unavailable", "The store is busy; retry in a moment.", 0 },
		[STORE_UNAVAILABLE] = { 503, "Store unavailable",
		                        "The store cannot answer right now; retry in a moment.", 0 },
		[STORE_PREFIX] = { 409, "Formatted prefix",
		                   "Sequence '{name}' is a formatted prefix: take its numbers from "
		                   "/api/v1/next, which records each in the audit trail.", 0 },
		[STORE_FULL] = { 503, "Storage full",
		                 "The disk that holds the store is full; nothing was taken or changed. "
		                 "Free space on it: nextid resumes by itself.", 0 },
		[STORE_LIMIT] = { 409, "Too many sequences",
		                  "Creating '{name}' would pass max_sequences; delete unused sequences, "
		                  "or raise max_sequences in nextid.conf.", 0 },
		[STORE_NO_MASTER] = { 503, "No master",
		                      "No master is known to this node right now (an election may be "
		                      "under way); nothing was taken or changed, retry in a moment.", 0 },
		[STORE_NOT_REPLICATED] = { 503, "Not replicated",
		                           "The other members did not acknowledge the change in time; "
		                           "what it took is never handed out. Retry in a moment.", 0 },
	},
};

const struct respond_answers respond_take_answers = {
	.rc = {
		[STORE_NOT_FOUND] = { 404, "Sequence not found",
		                      "No sequence is named '{name}', and this service creates "
		                      "sequences only through its admin API or nextidctl "
		                      "(create_on_first_use = no).", 0 },
		[STORE_TYPE_MISMATCH] = { 400, "Type mismatch",
		                          "Entity '{name}' is registered as '{registered}', cannot use "
		                          "'{wanted}'", 1 },
	},
};

static const char internal_error_body[] =
	"{\"error\":\"Internal error\",\"message\":\"The answer could not be built; the failure is "
	"logged.\"}";

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void put(struct exchange *x, const void *buf, size_t len)
{
	if (len > 0 && FCGX_PutStr(buf, (int)len, x->out) < 0)
		LOG_DEBUG("client went away before the answer was written");
}

/* Write the whole answer. `extra` holds complete header lines ("Allow: GET\r\n") or "". */
static void send_answer(struct exchange *x, int status, const char *type, const char *extra,
                        const void *body, size_t len, int add_newline)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
	                 "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	                 "Cache-Control: no-store\r\n%s\r\n",
	                 status, reason_phrase(status), type, len + (add_newline ? 1 : 0), extra);

	if (n < 0 || (size_t)n >= sizeof(head)) {
		LOG_ERROR("response headers do not fit %zu bytes", sizeof(head));
		return;
	}
	x->status = status;
	put(x, head, (size_t)n);
	if (x->req.method == REQUEST_HEAD)
		return;
	put(x, body, len);
	if (add_newline)
		put(x, "\n", 1);
}

static void check(struct exchange *x, yajl_gen_status s)
{
	if (s != yajl_gen_status_ok)
		x->json_failed = 1;
}

yajl_gen respond_json_generator(void)
{
	yajl_gen gen = yajl_gen_alloc(NULL);

	if (gen) {
		yajl_gen_config(gen, yajl_gen_beautify, 0);
		yajl_gen_config(gen, yajl_gen_validate_utf8, 1);
	}
	return gen;
}

void respond_json_begin(struct exchange *x)
{
	yajl_gen_clear(x->app->gen);
	yajl_gen_reset(x->app->gen, NULL);
	x->json_failed = 0;
	check(x, yajl_gen_map_open(x->app->gen));
}

void respond_json_map_open(struct exchange *x)
{
	check(x, yajl_gen_map_open(x->app->gen));
}

void respond_json_map_close(struct exchange *x)
{
	check(x, yajl_gen_map_close(x->app->gen));
}

void respond_json_array_open(struct exchange *x)
{
	check(x, yajl_gen_array_open(x->app->gen));
}

void respond_json_array_close(struct exchange *x)
{
	check(x, yajl_gen_array_close(x->app->gen));
}

void respond_json_key(struct exchange *x, const char *key)
{
	check(x, yajl_gen_string(x->app->gen, (const unsigned char *)key, strlen(key)));
}

void respond_json_string(struct exchange *x, const char *s, size_t len)
{
	check(x, yajl_gen_string(x->app->gen, (const unsigned char *)s, len));
}

void respond_json_u64(struct exchange *x, uint64_t v, int as_string)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);

	if (as_string)
		respond_json_string(x, digits, (size_t)n);
	else
		check(x, yajl_gen_number(x->app->gen, digits, (size_t)n));
}

void respond_json_kv_str(struct exchange *x, const char *key, const char *s)
{
	respond_json_kv_strn(x, key, s, strlen(s));
}

void respond_json_kv_strn(struct exchange *x, const char *key, const char *s, size_t len)
{
	respond_json_key(x, key);
	respond_json_string(x, s, len);
}

void respond_json_kv_int(struct exchange *x, const char *key, int64_t v)
{
	respond_json_key(x, key);
	check(x, yajl_gen_integer(x->app->gen, (long long)v));
}

void respond_json_kv_counter(struct exchange *x, const char *key, uint8_t type, int64_t v)
{
	char digits[24];
	int n;

	if (type == RECORD_TYPE_INT) {
		respond_json_kv_int(x, key, v);
		return;
	}
	n = snprintf(digits, sizeof(digits), "%lld", (long long)v);
	respond_json_kv_strn(x, key, digits, (size_t)n);
}

void respond_json_kv_u64(struct exchange *x, const char *key, uint64_t v, int as_string)
{
	respond_json_key(x, key);
	respond_json_u64(x, v, as_string);
}

void respond_json_kv_bool(struct exchange *x, const char *key, int v)
{
	respond_json_key(x, key);
	check(x, yajl_gen_bool(x->app->gen, v));
}

void respond_json_kv_null(struct exchange *x, const char *key)
{
	respond_json_key(x, key);
	check(x, yajl_gen_null(x->app->gen));
}

void respond_json_kv_time(struct exchange *x, const char *key, int64_t unix_ms)
{
	char text[LOG_TIME_MAX];

	log_format_time(unix_ms, text, sizeof(text));
	respond_json_kv_str(x, key, text);
}

void respond_json_kv_uuid(struct exchange *x, const char *key, const unsigned char id[16])
{
	char text[37];

	audit_format_id(id, text);
	respond_json_kv_str(x, key, text);
}

static void send_json(struct exchange *x, int status, const char *extra)
{
	const unsigned char *buf;
	size_t len;

	check(x, yajl_gen_map_close(x->app->gen));
	if (x->json_failed || yajl_gen_get_buf(x->app->gen, &buf, &len) != yajl_gen_status_ok) {
		LOG_ERROR("could not build the JSON answer for %.*s", (int)x->req.path_len,
		          x->req.path);
		send_answer(x, 500, "application/json", "", internal_error_body,
		            sizeof(internal_error_body) - 1, 1);
		return;
	}
	send_answer(x, status, "application/json", extra, buf, len, 1);
}

void respond_json_send(struct exchange *x, int status)
{
	send_json(x, status, "");
}

void respond_text(struct exchange *x, int status, const char *body, size_t len)
{
	send_answer(x, status, "text/plain", "", body, len, 0);
}

void respond_typed(struct exchange *x, int status, const char *type, const char *body,
                   size_t len)
{
	send_answer(x, status, type, "", body, len, 0);
}

/* Every JSON error: {"error","message"}, then "registeredType" unless registered is NULL; extra
 * holds header lines or "". */
static void send_error(struct exchange *x, int status, const char *title, const char *message,
                       const char *registered, const char *extra)
{
	respond_json_begin(x);
	respond_json_kv_str(x, "error", title);
	respond_json_kv_str(x, "message", message);
	if (registered)
		respond_json_kv_str(x, "registeredType", registered);
	send_json(x, status, extra);
}

void respond_error(struct exchange *x, int status, const char *title, const char *message)
{
	send_error(x, status, title, message, NULL, "");
}

/* Append text[0..len) to buf (used bytes of cap), as much as fits. */
static void append(char *buf, size_t cap, size_t *used, const char *text, size_t len)
{
	if (*used + 1 >= cap)
		return;
	if (len > cap - 1 - *used)
		len = cap - 1 - *used;
	memcpy(buf + *used, text, len);
	*used += len;
	buf[*used] = '\0';
}

/* What the placeholder key[0..klen) ("{name}"...) stands for in about: *len bytes, or NULL when
 * it is no placeholder. bound holds the number for {bound}. */
static const char *placeholder(const char *key, size_t klen, const struct respond_subject *about,
                               char bound[24], size_t *len)
{
#define IS(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
	const char *v;

	if (IS("{name}")) {
		*len = about->name ? about->len : 0;
		return about->name ? about->name : "";
	}
	if (IS("{bound}")) {
		*len = (size_t)snprintf(bound, 24, "%lld", (long long)about->bound);
		return bound;
	}
	if (IS("{why}"))
		v = about->why;
	else if (IS("{registered}"))
		v = about->registered;
	else if (IS("{wanted}"))
		v = about->wanted;
	else
		return NULL;
#undef IS
	v = v ? v : "";
	*len = strlen(v);
	return v;
}

/* Write wording into buf (cap bytes), each {placeholder} replaced from about; the text put in is
 * not scanned again, so a name holding "{why}" stays as it is. */
static void expand(const char *wording, const struct respond_subject *about, char *buf,
                   size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const char *p = wording; *p;) {
		const char *open = strchr(p, '{'), *close = open ? strchr(open, '}') : NULL, *value;
		char bound[24];
		size_t len;

		if (!close) {
			append(buf, cap, &used, p, strlen(p));
			return;
		}
		append(buf, cap, &used, p, (size_t)(open - p));
		value = placeholder(open, (size_t)(close + 1 - open), about, bound, &len);
		if (value)
			append(buf, cap, &used, value, len);
		else
			append(buf, cap, &used, open, (size_t)(close + 1 - open));
		p = close + 1;
	}
}

void respond_store_error_about(struct exchange *x, const struct respond_answers *family, int rc,
                               const struct respond_subject *about)
{
	const struct respond_answer *a;
	char title[512], message[512];

	if (rc <= STORE_OK || rc >= STORE_RC_COUNT) {
		LOG_ERROR("no answer for store result %d", rc);
		respond_error(x, 500, "Internal error", "The failure is logged.");
		return;
	}
	while (family && family->rc[rc].status == 0)
		family = family->fallback;
	a = &(family ? family : &common_answers)->rc[rc];
	expand(a->title, about, title, sizeof(title));
	expand(a->message, about, message, sizeof(message));
	send_error(x, a->status, title, message,
	           a->registered_type ? (about->registered ? about->registered : "") : NULL, "");
}

void respond_store_error(struct exchange *x, const struct respond_answers *family, int rc,
                         const char *name, size_t len)
{
	const struct respond_subject about = { .name = name, .len = len };

	respond_store_error_about(x, family, rc, &about);
}

void respond_unauthorized(struct exchange *x, const char *message)
{
	send_error(x, 401, "Unauthorized", message, NULL, "WWW-Authenticate: Bearer\r\n");
}

static size_t format_methods(unsigned allowed, char *buf, size_t cap)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = { { REQUEST_GET, "GET" },   { REQUEST_HEAD, "HEAD" },
		      { REQUEST_POST, "POST" }, { REQUEST_PUT, "PUT" },
		      { REQUEST_DELETE, "DELETE" } };
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(allowed & names[i].bit))
			continue;
		n = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", names[i].name);
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
	return used;
}

void respond_not_allowed(struct exchange *x, unsigned allowed)
{
	char methods[64], header[96], message[96];

	format_methods(allowed, methods, sizeof(methods));
	snprintf(header, sizeof(header), "Allow: %s\r\n", methods);
	snprintf(message, sizeof(message), "Allowed methods: %s.", methods);
	send_error(x, 405, "Method not allowed", message, NULL, header);
}

/* A limit's digits in a message, from the macro that sets it. */
#define DIGITS_(n) #n
#define DIGITS(n) DIGITS_(n)

void respond_request_error(struct exchange *x, int request_status)
{
	switch (request_status) {
	case REQUEST_URI_TOO_LONG:
		respond_error(x, 414, "URI too long",
		              "The request URI exceeds " DIGITS(REQUEST_URI_MAX) " bytes.");
		break;
	case REQUEST_BODY_TOO_LARGE:
		respond_error(x, 413, "Request too large",
		              "The request body exceeds " DIGITS(REQUEST_BODY_MAX) " bytes.");
		break;
	default:
		respond_error(x, 400, "Bad request",
		              "The request could not be parsed (URI or Content-Length).");
		break;
	}
}
