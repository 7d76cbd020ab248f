/*
 * respond: the only way a handler answers. It writes the FastCGI status and headers, a compact
 * JSON body (built with yajl, every call checked) or a text body, and turns every store result
 * into an HTTP status, title and message: its common table, or the table an API family gives.
 * Errors are always JSON {"error": title, "message": sentence}; internals (paths, Berkeley DB
 * messages) go to the log. Every answer carries Cache-Control: no-store; a HEAD request gets the
 * headers only.
 */
#ifndef NEXTID_RESPOND_H
#define NEXTID_RESPOND_H

#include "exchange.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* A new JSON generator as respond builds bodies with (struct app's gen): compact, refusing
 * invalid UTF-8. NULL when out of memory; yajl_gen_free frees it. */
yajl_gen respond_json_generator(void);

/*
 * Building a JSON answer, which is always an object: respond_json_begin opens it, the calls below
 * add to it, respond_json_send closes and sends it. A pair is one call, so that a handler reads as
 * the answer it writes. A failed call marks the exchange, and respond_json_send then answers 500
 * instead of a half-built body.
 */
void respond_json_begin(struct exchange *x);
void respond_json_send(struct exchange *x, int status);

/*
 * "key": value pairs. str: a C string; strn: len bytes (both valid UTF-8, or the answer fails as
 * above). counter: a value of a sequence of `type`, a JSON number for int and a string of digits
 * for long, so that JavaScript clients read every digit (the Sequence Service's convention).
 * u64: a JSON number, or with as_string its digits as a string, for clients that would round it.
 * time: unix ms as RFC 3339 in UTC with milliseconds (log_format_time). uuid: 16 bytes as a UUID.
 */
void respond_json_kv_str(struct exchange *x, const char *key, const char *s);
void respond_json_kv_strn(struct exchange *x, const char *key, const char *s, size_t len);
void respond_json_kv_int(struct exchange *x, const char *key, int64_t v);
void respond_json_kv_counter(struct exchange *x, const char *key, uint8_t type, int64_t v);
void respond_json_kv_u64(struct exchange *x, const char *key, uint64_t v, int as_string);
void respond_json_kv_bool(struct exchange *x, const char *key, int v);
void respond_json_kv_null(struct exchange *x, const char *key);
void respond_json_kv_time(struct exchange *x, const char *key, int64_t unix_ms);
void respond_json_kv_uuid(struct exchange *x, const char *key, const unsigned char id[16]);

/* Nesting: respond_json_key names the object or array that follows. Arrays hold objects, strings
 * (len bytes) or unsigned numbers (as respond_json_kv_u64 writes them). */
void respond_json_key(struct exchange *x, const char *key);
void respond_json_map_open(struct exchange *x);
void respond_json_map_close(struct exchange *x);
void respond_json_array_open(struct exchange *x);
void respond_json_array_close(struct exchange *x);
void respond_json_string(struct exchange *x, const char *s, size_t len);
void respond_json_u64(struct exchange *x, uint64_t v, int as_string);

/* A text/plain answer. */
void respond_text(struct exchange *x, int status, const char *body, size_t len);

/* An answer of another content type (the Prometheus text format). */
void respond_typed(struct exchange *x, int status, const char *type, const char *body,
                   size_t len);

/* A JSON error. */
void respond_error(struct exchange *x, int status, const char *title, const char *message);

/*
 * How an API family words a store result: the status, title and message of its JSON error. In
 * the title and the message, {name} stands for the sequence or prefix, {why} for the store's
 * reason, {bound} for the bound a take reached, {registered} and {wanted} for type names.
 */
struct respond_answer {
	int status; /* 0: this table says nothing of the result; its fallback does */
	const char *title;
	const char *message;
	int registered_type; /* the body adds "registeredType": {registered} */
};

/* A family's table: an answer per store result, and the table to ask for the others (NULL: the
 * common answers, which cover every result). */
struct respond_answers {
	const struct respond_answers *fallback;
	struct respond_answer rc[STORE_RC_COUNT];
};

/* What an answer may name besides the status. */
struct respond_subject {
	const char *name; /* the sequence or prefix (valid UTF-8, len bytes); NULL: none */
	size_t len;
	const char *why;                 /* the store's reason (STORE_INVALID) */
	const char *registered, *wanted; /* type names (STORE_TYPE_MISMATCH) */
	int64_t bound;                   /* the bound a take reached (STORE_EXHAUSTED) */
};

/*
 * The JSON error for store result rc (not STORE_OK), worded by `family` (NULL: the common
 * answers): the one place a store result becomes an HTTP status. respond_store_error names the
 * sequence only; respond_store_error_about names what `about` holds. (/health/ready is no store
 * result of a request: it judges readiness from the store's ping and the free space it measures,
 * and words its 503 itself.)
 */
void respond_store_error(struct exchange *x, const struct respond_answers *family, int rc,
                         const char *name, size_t len);
void respond_store_error_about(struct exchange *x, const struct respond_answers *family, int rc,
                               const struct respond_subject *about);

/* What the endpoints that take values from a name (/next, /api/next-id, /api/next-batch) answer
 * beyond the common answers: a name not created (404, where create_on_first_use = no) and a
 * type mismatch (400 with "registeredType", as the Sequence Service answered). */
extern const struct respond_answers respond_take_answers;

/* 401 with WWW-Authenticate: Bearer. */
void respond_unauthorized(struct exchange *x, const char *message);

/* 405 with an Allow header listing `allowed` (enum request_method bits). */
void respond_not_allowed(struct exchange *x, unsigned allowed);

/* The JSON error for a request_parse() status other than REQUEST_OK. */
void respond_request_error(struct exchange *x, int request_status);

#endif
