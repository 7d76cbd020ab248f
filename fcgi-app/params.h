/*
 * params: reading a request's inputs the strict way, answering the 400 on failure. Each helper
 * returns 0 when the value is good and -1 once it has answered, so a handler reads straight down:
 *     if (params_name_or_reply(x, 0, name, &len) != 0) return;
 */
#ifndef NEXTID_PARAMS_H
#define NEXTID_PARAMS_H

#include "exchange.h"
#include "name.h"

#include <yajl/yajl_tree.h>

#include <stddef.h>
#include <stdint.h>

/* Decode path capture i into out (NAME_MAX_BYTES) as a sequence name, or answer 400. */
int params_name_or_reply(struct exchange *x, size_t i, char *out, size_t *len);

/*
 * Look up query parameter `key` into out (capacity cap). Returns QUERY_ABSENT, QUERY_OK or
 * QUERY_MALFORMED (bad escape or too long: the caller decides what that means), or -1 after
 * answering 400 for a parameter given twice.
 */
int params_query_or_reply(struct exchange *x, const char *key, char *out, size_t cap,
                          size_t *len);

/*
 * Read query parameter `key` as a plain decimal in [lo, hi]. Returns 0 with *out set, 1 when the
 * parameter is absent (nothing answered), or -1 after answering 400 with `title` and `message`.
 */
int params_u64_or_reply(struct exchange *x, const char *key, uint64_t lo, uint64_t hi,
                        uint64_t *out, const char *title, const char *message);

/* A page of a listing: names strictly after `after` (after_len 0: from the start), at most
 * `limit` of them (0: all). */
struct params_page {
	char after[NAME_MAX_BYTES + 1];
	size_t after_len;
	uint64_t limit;
};

/* Read ?after=<name>&limit=<1..10000>, or answer 400. */
int params_page_or_reply(struct exchange *x, struct params_page *page);

/*
 * Read the body as a JSON object (at most REQUEST_BODY_MAX bytes, no NUL). Returns 0 with *out
 * to be freed with yajl_tree_free, or -1 after answering 400.
 */
int params_json_body_or_reply(struct exchange *x, yajl_val *out);

/* What a JSON object body may hold. */
struct params_fields {
	const char *const *keys; /* the allowed keys, n of them */
	size_t n;
	const char *unknown; /* the 400's message for another key; NULL: one listing the keys */
	/* Called for each field as the body gives it (k: its index in keys): 0, or -1 with *why
	 * the 400's message. NULL: the caller checks the values afterwards. */
	int (*check)(void *ctx, size_t k, yajl_val v, const char **why);
	void *ctx;
};

/*
 * The fields of a JSON object body: values[k] is set to the value of keys[k], or NULL when
 * absent. The fields are taken in the body's order; the first unknown key, key given twice or
 * value that check refuses answers 400 "Invalid field" and returns -1.
 */
int params_fields_or_reply(struct exchange *x, yajl_val body, const struct params_fields *f,
                           yajl_val *values);

/* A short free text (client_id, admin_user, reason...): 1 to max bytes of UTF-8 without control
 * characters. Returns 0, or -1 with *why the rule it breaks, worded to follow the field's name
 * ("is empty or too long"). */
int params_text_check(const char *s, size_t len, size_t max, const char **why);

/* Read the JSON value v (NULL when absent) as an integer in [lo, hi] (a JSON integer, or a string
 * of digits). Returns 0, 1 when absent, -1 when it is something else. */
int params_json_i64(yajl_val v, int64_t lo, int64_t hi, int64_t *out);

#endif
