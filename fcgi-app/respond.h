/*
 * respond: the only way a handler answers. It writes the FastCGI status and headers, a compact
 * JSON body (built with yajl, every call checked) or a text body, and owns the one table that maps
 * a store result to an HTTP status, title and message. Errors are always JSON
 * {"error": title, "message": sentence}; internals (paths, Berkeley DB messages) go to the log.
 * Every answer carries Cache-Control: no-store; a HEAD request gets the headers only.
 */
#ifndef NEXTID_RESPOND_H
#define NEXTID_RESPOND_H

#include "exchange.h"

#include <stddef.h>
#include <stdint.h>

/* A new JSON generator as respond builds bodies with (struct app's gen): compact, refusing
 * invalid UTF-8. NULL when out of memory; yajl_gen_free frees it. */
yajl_gen respond_json_generator(void);

/* Building a JSON body: begin, then the values, then send. A failed call marks the exchange and
 * respond_json_send answers 500 instead of a half-built body. */
void respond_json_begin(struct exchange *x);
void respond_json_map_open(struct exchange *x);
void respond_json_map_close(struct exchange *x);
void respond_json_array_open(struct exchange *x);
void respond_json_array_close(struct exchange *x);
void respond_json_key(struct exchange *x, const char *key);
void respond_json_null(struct exchange *x);
void respond_json_bool(struct exchange *x, int v);
void respond_json_string(struct exchange *x, const char *s, size_t len);
void respond_json_int(struct exchange *x, int64_t v);
/* A number given as its decimal digits (for values past int64, such as unsigned ids). */
void respond_json_number(struct exchange *x, const char *digits, size_t len);
void respond_json_send(struct exchange *x, int status);

/* A counter value of a sequence of `type`: a JSON number for int, a string of digits for long,
 * so that JavaScript clients read every digit (the Sequence Service's convention). */
void respond_json_counter(struct exchange *x, uint8_t type, int64_t v);

/* A text/plain answer. */
void respond_text(struct exchange *x, int status, const char *body, size_t len);

/* An answer of another content type (the Prometheus text format). */
void respond_typed(struct exchange *x, int status, const char *type, const char *body,
                   size_t len);

/* A JSON error. */
void respond_error(struct exchange *x, int status, const char *title, const char *message);

/* The JSON error for a store result about the sequence `name` (valid UTF-8, len bytes). */
void respond_store_error(struct exchange *x, int store_rc, const char *name, size_t len);

/* 404 for a name that does not exist where create_on_first_use = no: says how to create it. */
void respond_not_created(struct exchange *x, const char *name, size_t len);

/* 400 Type mismatch: the sequence is registered as `registered`, the request wanted `wanted`
 * (type names). Adds "registeredType", as the Sequence Service answered. */
void respond_type_mismatch(struct exchange *x, const char *name, size_t len,
                           const char *registered, const char *wanted);

/* 401 with WWW-Authenticate: Bearer. */
void respond_unauthorized(struct exchange *x, const char *message);

/* 405 with an Allow header listing `allowed` (enum request_method bits). */
void respond_not_allowed(struct exchange *x, unsigned allowed);

/* The JSON error for a request_parse() status other than REQUEST_OK. */
void respond_request_error(struct exchange *x, int request_status);

#endif
