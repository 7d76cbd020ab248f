/*
 * request: what a worker knows about one HTTP request, parsed from the FastCGI parameters. The
 * path comes from REQUEST_URI, which every web server passes raw (SCRIPT_NAME and PATH_INFO differ
 * between lighttpd and Apache, and some decode %2F). Segments stay raw until a handler decodes the
 * one it wants, once. Pure parsing: no I/O, so the unit tests feed it parameter arrays directly.
 */
#ifndef NEXTID_REQUEST_H
#define NEXTID_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define REQUEST_URI_MAX 8192
#define REQUEST_BODY_MAX 65536
#define REQUEST_SEGMENTS_MAX 8

enum request_method {
	REQUEST_GET = 1,
	REQUEST_HEAD = 2,
	REQUEST_POST = 4,
	REQUEST_PUT = 8,
	REQUEST_DELETE = 16,
	REQUEST_OTHER = 32,
};

struct request_segment {
	const char *raw;
	size_t len;
};

struct request {
	unsigned method;              /* enum request_method */
	const char *path;             /* raw REQUEST_URI up to '?' */
	size_t path_len;
	const char *query;            /* raw, after '?'; "" when absent */
	size_t query_len;
	const char *accept;           /* the Accept header, "" when absent */
	const char *authorization;    /* the Authorization header, "" when absent */
	uint64_t content_length;
	size_t nseg;                  /* REQUEST_SEGMENTS_MAX + 1 means "too many" */
	struct request_segment seg[REQUEST_SEGMENTS_MAX];
};

enum request_status {
	REQUEST_OK,
	REQUEST_MALFORMED,      /* no REQUEST_URI, not starting with '/', bad CONTENT_LENGTH: 400 */
	REQUEST_URI_TOO_LONG,   /* 414 */
	REQUEST_BODY_TOO_LARGE, /* 413 */
};

/* The value of a FastCGI parameter from a NULL-terminated "NAME=value" array, or NULL. */
const char *request_param(char *const *envp, const char *name);

/* Fill *req from the parameters. Pointers in *req point into envp. Returns enum request_status;
 * the method and path are set even when the status is not REQUEST_OK. */
int request_parse(struct request *req, char *const *envp);

/* Percent-decode in[0..len) into out (capacity cap). plus_is_space: query-string rules.
 * Returns 0, -1 on a malformed escape, -2 when the result would not fit. */
int request_percent_decode(const char *in, size_t len, char *out, size_t cap, size_t *out_len,
                           int plus_is_space);

/* Decode and validate a name segment into out (NAME_MAX_BYTES bytes). Returns 0, or -1 with *why
 * a sentence for a 400 answer. */
int request_decode_name(const struct request_segment *seg, char *out, size_t *out_len,
                        const char **why);

enum request_query_status { QUERY_ABSENT, QUERY_OK, QUERY_DUPLICATE, QUERY_MALFORMED };

/* Find `key` in the query string and decode its value into out (capacity cap, NUL-terminated).
 * A key given twice is QUERY_DUPLICATE; a bad escape or a value too long is QUERY_MALFORMED. */
int request_query(const struct request *req, const char *key, char *out, size_t cap,
                  size_t *out_len);

/* True when the Accept header ranks text/plain above application/json (ties go to JSON). */
int request_prefers_text(const struct request *req);

#endif
