/*
 * respond: status line, headers and body for every answer, and the table from store results to
 * HTTP. The JSON generator belongs to the worker (struct app) and is reset for each body.
 */
#include "respond.h"
#include "log.h"
#include "record.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

struct store_answer {
	int status;
	const char *title;
	const char *message; /* "%s" (at most once) stands for the sequence name */
};

/* The only place a store result becomes an HTTP status. */
static const struct store_answer store_answers[STORE_RC_COUNT] = {
	[STORE_NOT_FOUND] = { 404, "Sequence not found", "No sequence is named '%s'." },
	[STORE_EXISTS] = { 409, "Sequence exists", "A sequence named '%s' exists already." },
	[STORE_EXHAUSTED] = { 409, "Sequence exhausted",
		              "Sequence '%s' reached its maximum; raise its max or enable cycle." },
	[STORE_TYPE_MISMATCH] = { 400, "Type mismatch",
		                  "Sequence '%s' has a type this endpoint cannot serve." },
	[STORE_INVALID] = { 400, "Invalid value",
		            "The value is outside what sequence '%s' allows." },
	[STORE_BUSY] = { 503, "Store unavailable", "The store is busy; retry in a moment." },
	[STORE_UNAVAILABLE] = { 503, "Store unavailable",
		                "The store cannot answer right now; retry in a moment." },
	[STORE_PREFIX] = { 409, "Formatted prefix",
		           "Sequence '%s' is a formatted prefix: take its numbers from /api/v1/next, "
		           "which records each in the audit trail." },
	[STORE_FULL] = { 503, "Storage full",
		         "The disk that holds the store is full; nothing was taken or changed. "
		         "Free space on it: nextid resumes by itself." },
	[STORE_LIMIT] = { 409, "Too many sequences",
		          "Creating '%s' would pass max_sequences; delete unused sequences, or raise "
		          "max_sequences in nextid.conf." },
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

void respond_json_null(struct exchange *x)
{
	check(x, yajl_gen_null(x->app->gen));
}

void respond_json_bool(struct exchange *x, int v)
{
	check(x, yajl_gen_bool(x->app->gen, v));
}

void respond_json_key(struct exchange *x, const char *key)
{
	check(x, yajl_gen_string(x->app->gen, (const unsigned char *)key, strlen(key)));
}

void respond_json_string(struct exchange *x, const char *s, size_t len)
{
	check(x, yajl_gen_string(x->app->gen, (const unsigned char *)s, len));
}

void respond_json_int(struct exchange *x, int64_t v)
{
	check(x, yajl_gen_integer(x->app->gen, (long long)v));
}

void respond_json_counter(struct exchange *x, uint8_t type, int64_t v)
{
	char digits[24];
	int n;

	if (type == RECORD_TYPE_INT) {
		respond_json_int(x, v);
		return;
	}
	n = snprintf(digits, sizeof(digits), "%lld", (long long)v);
	respond_json_string(x, digits, (size_t)n);
}

void respond_json_number(struct exchange *x, const char *digits, size_t len)
{
	check(x, yajl_gen_number(x->app->gen, digits, len));
}

static void send_json(struct exchange *x, int status, const char *extra)
{
	const unsigned char *buf;
	size_t len;

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

static void error_with_headers(struct exchange *x, int status, const char *title,
                               const char *message, const char *extra)
{
	respond_json_begin(x);
	respond_json_map_open(x);
	respond_json_key(x, "error");
	respond_json_string(x, title, strlen(title));
	respond_json_key(x, "message");
	respond_json_string(x, message, strlen(message));
	respond_json_map_close(x);
	send_json(x, status, extra);
}

void respond_error(struct exchange *x, int status, const char *title, const char *message)
{
	error_with_headers(x, status, title, message, "");
}

void respond_store_error(struct exchange *x, int store_rc, const char *name, size_t len)
{
	const struct store_answer *a;
	const char *hole;
	char message[512];

	if (store_rc <= STORE_OK || store_rc >= STORE_RC_COUNT) {
		LOG_ERROR("no answer for store result %d", store_rc);
		respond_error(x, 500, "Internal error", "The failure is logged.");
		return;
	}
	a = &store_answers[store_rc];
	hole = strstr(a->message, "%s");
	if (hole)
		snprintf(message, sizeof(message), "%.*s%.*s%s", (int)(hole - a->message), a->message,
		         (int)len, name, hole + 2);
	else
		snprintf(message, sizeof(message), "%s", a->message);
	respond_error(x, a->status, a->title, message);
}

void respond_not_created(struct exchange *x, const char *name, size_t len)
{
	char message[512];

	snprintf(message, sizeof(message),
	         "No sequence is named '%.*s', and this service creates sequences only through its "
	         "admin API or nextidctl (create_on_first_use = no).",
	         (int)len, name);
	respond_error(x, 404, "Sequence not found", message);
}

void respond_type_mismatch(struct exchange *x, const char *name, size_t len,
                           const char *registered, const char *wanted)
{
	char message[512];
	int n = snprintf(message, sizeof(message), "Entity '%.*s' is registered as '%s', cannot use '%s'",
	                 (int)len, name, registered, wanted);

	respond_json_begin(x);
	respond_json_map_open(x);
	respond_json_key(x, "error");
	respond_json_string(x, "Type mismatch", 13);
	respond_json_key(x, "message");
	respond_json_string(x, message, n > 0 && (size_t)n < sizeof(message) ? (size_t)n : 0);
	respond_json_key(x, "registeredType");
	respond_json_string(x, registered, strlen(registered));
	respond_json_map_close(x);
	respond_json_send(x, 400);
}

void respond_unauthorized(struct exchange *x, const char *message)
{
	error_with_headers(x, 401, "Unauthorized", message, "WWW-Authenticate: Bearer\r\n");
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
	error_with_headers(x, 405, "Method not allowed", message, header);
}

void respond_request_error(struct exchange *x, int request_status)
{
	switch (request_status) {
	case REQUEST_URI_TOO_LONG:
		respond_error(x, 414, "URI too long", "The request URI exceeds 8192 bytes.");
		break;
	case REQUEST_BODY_TOO_LARGE:
		respond_error(x, 413, "Request too large", "The request body exceeds 65536 bytes.");
		break;
	default:
		respond_error(x, 400, "Bad request",
		              "The request could not be parsed (URI or Content-Length).");
		break;
	}
}
