/*
 * params: strict input helpers shared by the handlers. Numbers go through numparse, names
 * through request_decode_name; nothing here calls the store.
 */
#include "params.h"
#include "name.h"
#include "numparse.h"
#include "respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int params_name_or_reply(struct exchange *x, size_t i, char *out, size_t *len)
{
	const char *why;

	if (i < x->ncap && request_decode_name(x->cap[i], out, len, &why) == 0)
		return 0;
	respond_error(x, 400, "Invalid name", i < x->ncap ? why : "A name is missing.");
	return -1;
}

int params_query_or_reply(struct exchange *x, const char *key, char *out, size_t cap,
                          size_t *len)
{
	char message[96];
	int rc = request_query(&x->req, key, out, cap, len);

	if (rc != QUERY_DUPLICATE)
		return rc;
	snprintf(message, sizeof(message), "%s is given more than once.", key);
	respond_error(x, 400, "Invalid parameter", message);
	return -1;
}

int params_u64_or_reply(struct exchange *x, const char *key, uint64_t lo, uint64_t hi,
                        uint64_t *out, const char *title, const char *message)
{
	char value[32];
	const char *why;
	size_t len;

	switch (params_query_or_reply(x, key, value, sizeof(value), &len)) {
	case -1:
		return -1;
	case QUERY_ABSENT:
		return 1;
	case QUERY_OK:
		if (numparse_u64(value, len, lo, hi, out, &why) == 0)
			return 0;
		break;
	}
	respond_error(x, 400, title, message);
	return -1;
}

int params_page_or_reply(struct exchange *x, struct params_page *page)
{
	const char *why;
	int rc;

	memset(page, 0, sizeof(*page));
	if (params_u64_or_reply(x, "limit", 1, 10000, &page->limit, "Invalid parameter",
	                        "limit must be between 1 and 10000.") < 0)
		return -1;
	rc = params_query_or_reply(x, "after", page->after, sizeof(page->after), &page->after_len);
	if (rc < 0)
		return -1;
	if (rc == QUERY_ABSENT) {
		page->after_len = 0;
		return 0;
	}
	if (rc == QUERY_OK && name_check(page->after, page->after_len, &why) == 0)
		return 0;
	respond_error(x, 400, "Invalid parameter", "after must be a valid name.");
	return -1;
}

/* Read exactly CONTENT_LENGTH bytes of body into a new NUL-terminated buffer. */
static char *read_body(struct exchange *x, size_t *len)
{
	size_t want = (size_t)x->req.content_length, have = 0;
	char *buf = malloc(want + 1);

	if (!buf)
		return NULL;
	while (have < want) {
		int n = FCGX_GetStr(buf + have, (int)(want - have), x->in);

		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	*len = have;
	return buf;
}

int params_json_body_or_reply(struct exchange *x, yajl_val *out)
{
	char *body;
	size_t len = 0;
	yajl_val v = NULL;

	body = read_body(x, &len);
	if (!body) {
		respond_error(x, 503, "Out of memory", "The body could not be read; retry.");
		return -1;
	}
	/* yajl reads up to the first NUL: a NUL inside would hide the rest of the body. And its
	 * tree keeps strings as C strings, so an escaped NUL would cut one short without a word. */
	if (len == x->req.content_length && len > 0 && !memchr(body, '\0', len) &&
	    !strcasestr(body, "\\u0000"))
		v = yajl_tree_parse(body, NULL, 0);
	free(body);
	if (v && YAJL_IS_OBJECT(v)) {
		*out = v;
		return 0;
	}
	yajl_tree_free(v);
	respond_error(x, 400, "Invalid JSON", "The body must be one JSON object.");
	return -1;
}

/* "Unknown field; the fields are a, b, c." into message. */
static void list_fields(const struct params_fields *f, char *message, size_t cap)
{
	size_t used = (size_t)snprintf(message, cap, "Unknown field; the fields are");

	for (size_t j = 0; j < f->n && used < cap; j++)
		used += (size_t)snprintf(message + used, cap - used, "%s %s", j ? "," : "", f->keys[j]);
	if (used < cap)
		snprintf(message + used, cap - used, ".");
}

int params_fields_or_reply(struct exchange *x, yajl_val body, const struct params_fields *f,
                           yajl_val *values)
{
	char message[256];
	const char *why = message;

	for (size_t k = 0; k < f->n; k++)
		values[k] = NULL;
	for (size_t i = 0; i < body->u.object.len; i++) {
		yajl_val v = body->u.object.values[i];
		size_t k = 0;

		while (k < f->n && strcmp(f->keys[k], body->u.object.keys[i]) != 0)
			k++;
		if (k < f->n && !values[k] && (!f->check || f->check(f->ctx, k, v, &why) == 0)) {
			values[k] = v;
			continue;
		}
		if (k == f->n && f->unknown)
			why = f->unknown;
		else if (k == f->n)
			list_fields(f, message, sizeof(message));
		else if (values[k])
			snprintf(message, sizeof(message), "Field '%s' is given more than once.",
			         f->keys[k]);
		respond_error(x, 400, "Invalid field", why); /* else: check's reason */
		return -1;
	}
	return 0;
}

int params_text_check(const char *s, size_t len, size_t max, const char **why)
{
	if (len < 1 || len > max) {
		*why = "is empty or too long";
		return -1;
	}
	if (name_text_check(s, len, 0) != NAME_TEXT_OK) {
		*why = "must be UTF-8 without control characters";
		return -1;
	}
	return 0;
}

int params_json_i64(yajl_val v, int64_t lo, int64_t hi, int64_t *out)
{
	const char *s, *why;

	if (!v)
		return 1;
	if (YAJL_IS_INTEGER(v)) {
		*out = YAJL_GET_INTEGER(v);
		return *out >= lo && *out <= hi ? 0 : -1;
	}
	s = YAJL_GET_STRING(v);
	return s && numparse_i64(s, strlen(s), lo, hi, out, &why) == 0 ? 0 : -1;
}
