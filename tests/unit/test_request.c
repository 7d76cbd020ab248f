/*
 * request: FastCGI parameters in, struct request out. Tables for request_parse (methods, the
 * path/query split, segments, the URI and body limits), the percent-decoder, name segments
 * (every rule of API.md §1 with the exact sentence a 400 carries), query lookup and Accept
 * negotiation. Output buffers are allocated at exactly their documented size, so that ASan
 * reports a write one byte past them.
 */
#include "name.h"
#include "request.h"
#include "unit.h"

#include <inttypes.h>

#define ENV_MAX 8

/* ---- request_param ---- */

struct param_row {
	int line;
	const char *env[ENV_MAX]; /* NULL-terminated */
	const char *name;
	const char *value; /* NULL: absent */
	const char *desc;
};

static const struct param_row param_rows[] = {
	{ __LINE__, { "A=1", "AB=2", NULL }, "A", "1", "first of two" },
	{ __LINE__, { "A=1", "AB=2", NULL }, "AB", "2", "a name that extends another" },
	{ __LINE__, { "AB=2", "A=1", NULL }, "A", "1", "a prefix match is no match" },
	{ __LINE__, { "A=1", NULL }, "B", NULL, "absent" },
	{ __LINE__, { "A=", NULL }, "A", "", "empty value" },
	{ __LINE__, { "A", NULL }, "A", NULL, "no '=' at all" },
	{ __LINE__, { "A=1", "A=2", NULL }, "A", "1", "the first of a repeated name" },
	{ __LINE__, { "A=b=c", NULL }, "A", "b=c", "'=' inside the value" },
	{ __LINE__, { "XA=1", NULL }, "A", NULL, "a suffix match is no match" },
	{ __LINE__, { "a=1", NULL }, "A", NULL, "names are case-sensitive" },
	{ __LINE__, { NULL }, "A", NULL, "no parameters" },
};

START_TEST(test_param)
{
	const struct param_row *row = &param_rows[_i];
	const char *got = request_param((char *const *)row->env, row->name);

	if (!row->value)
		ck_assert_msg(got == NULL, "line %d: %s: got \"%s\"", row->line, row->desc, got);
	else
		ck_assert_msg(got && strcmp(got, row->value) == 0, "line %d: %s: got \"%s\"",
		              row->line, row->desc, got ? got : "(null)");
}
END_TEST

START_TEST(test_param_null_env)
{
	ck_assert_ptr_null(request_param(NULL, "REQUEST_URI"));
}
END_TEST

/* ---- request_parse ---- */

#define GET "REQUEST_METHOD=GET"
#define OTHER REQUEST_OTHER
#define NSEG_TOO_MANY (REQUEST_SEGMENTS_MAX + 1)

struct parse_row {
	int line;
	const char *env[ENV_MAX];
	int status;
	unsigned method;
	const char *path;  /* NULL: not compared (a refused URI) */
	const char *query;
	size_t nseg;
	const char *seg[REQUEST_SEGMENTS_MAX];
	uint64_t content_length;
	const char *accept;
	const char *desc;
};

static const struct parse_row parse_rows[] = {
	/* methods */
	{ __LINE__, { GET, "REQUEST_URI=/next/a", NULL }, REQUEST_OK, REQUEST_GET, "/next/a", "",
	  2, { "next", "a" }, 0, "", "a plain GET" },
	{ __LINE__, { "REQUEST_METHOD=HEAD", "REQUEST_URI=/next/a", NULL }, REQUEST_OK,
	  REQUEST_HEAD, "/next/a", "", 2, { "next", "a" }, 0, "", "HEAD" },
	{ __LINE__, { "REQUEST_METHOD=POST", "REQUEST_URI=/next/a", NULL }, REQUEST_OK,
	  REQUEST_POST, "/next/a", "", 2, { "next", "a" }, 0, "", "POST" },
	{ __LINE__, { "REQUEST_METHOD=PUT", "REQUEST_URI=/x", NULL }, REQUEST_OK, REQUEST_PUT, "/x",
	  "", 1, { "x" }, 0, "", "PUT" },
	{ __LINE__, { "REQUEST_METHOD=DELETE", "REQUEST_URI=/x", NULL }, REQUEST_OK,
	  REQUEST_DELETE, "/x", "", 1, { "x" }, 0, "", "DELETE" },
	{ __LINE__, { "REQUEST_METHOD=PATCH", "REQUEST_URI=/x", NULL }, REQUEST_OK, OTHER, "/x", "",
	  1, { "x" }, 0, "", "PATCH is other" },
	{ __LINE__, { "REQUEST_METHOD=get", "REQUEST_URI=/x", NULL }, REQUEST_OK, OTHER, "/x", "",
	  1, { "x" }, 0, "", "methods are case-sensitive" },
	{ __LINE__, { "REQUEST_METHOD=GETX", "REQUEST_URI=/x", NULL }, REQUEST_OK, OTHER, "/x", "",
	  1, { "x" }, 0, "", "a method with a suffix" },
	{ __LINE__, { "REQUEST_METHOD=GE", "REQUEST_URI=/x", NULL }, REQUEST_OK, OTHER, "/x", "", 1,
	  { "x" }, 0, "", "a prefix of a method" },
	{ __LINE__, { "REQUEST_METHOD=", "REQUEST_URI=/x", NULL }, REQUEST_OK, OTHER, "/x", "", 1,
	  { "x" }, 0, "", "an empty method" },
	{ __LINE__, { "REQUEST_URI=/x", NULL }, REQUEST_OK, OTHER, "/x", "", 1, { "x" }, 0, "",
	  "no method at all" },

	/* path, query and segments */
	{ __LINE__, { GET, "REQUEST_URI=/", NULL }, REQUEST_OK, REQUEST_GET, "/", "", 1, { "" }, 0,
	  "", "the root is one empty segment" },
	{ __LINE__, { GET, "REQUEST_URI=/next", NULL }, REQUEST_OK, REQUEST_GET, "/next", "", 1,
	  { "next" }, 0, "", "one segment" },
	{ __LINE__, { GET, "REQUEST_URI=/next/", NULL }, REQUEST_OK, REQUEST_GET, "/next/", "", 2,
	  { "next", "" }, 0, "", "a trailing slash gives an empty second segment" },
	{ __LINE__, { GET, "REQUEST_URI=//", NULL }, REQUEST_OK, REQUEST_GET, "//", "", 2,
	  { "", "" }, 0, "", "two empty segments" },
	{ __LINE__, { GET, "REQUEST_URI=/next//a", NULL }, REQUEST_OK, REQUEST_GET, "/next//a", "",
	  3, { "next", "", "a" }, 0, "", "an empty middle segment" },
	{ __LINE__, { GET, "REQUEST_URI=/next/a/b", NULL }, REQUEST_OK, REQUEST_GET, "/next/a/b", "",
	  3, { "next", "a", "b" }, 0, "", "three segments" },
	{ __LINE__, { GET, "REQUEST_URI=/a/b/c/d/e/f/g/h", NULL }, REQUEST_OK, REQUEST_GET,
	  "/a/b/c/d/e/f/g/h", "", 8, { "a", "b", "c", "d", "e", "f", "g", "h" }, 0, "",
	  "exactly REQUEST_SEGMENTS_MAX segments" },
	{ __LINE__, { GET, "REQUEST_URI=/a/b/c/d/e/f/g/h/i", NULL }, REQUEST_OK, REQUEST_GET,
	  "/a/b/c/d/e/f/g/h/i", "", NSEG_TOO_MANY, { "a", "b", "c", "d", "e", "f", "g", "h" }, 0,
	  "", "one segment too many" },
	{ __LINE__, { GET, "REQUEST_URI=/a/b/c/d/e/f/g/h/", NULL }, REQUEST_OK, REQUEST_GET,
	  "/a/b/c/d/e/f/g/h/", "", NSEG_TOO_MANY, { "a", "b", "c", "d", "e", "f", "g", "h" }, 0,
	  "", "an empty ninth segment is still too many" },
	{ __LINE__, { GET, "REQUEST_URI=/////////////////", NULL }, REQUEST_OK, REQUEST_GET,
	  "/////////////////", "", NSEG_TOO_MANY, { "", "", "", "", "", "", "", "" }, 0, "",
	  "many slashes" },
	{ __LINE__, { GET, "REQUEST_URI=/next/a%2Fb", NULL }, REQUEST_OK, REQUEST_GET, "/next/a%2Fb",
	  "", 2, { "next", "a%2Fb" }, 0, "", "segments stay raw: an encoded slash does not split" },
	{ __LINE__, { GET, "REQUEST_URI=/next/%00", NULL }, REQUEST_OK, REQUEST_GET, "/next/%00", "",
	  2, { "next", "%00" }, 0, "", "an encoded NUL stays raw" },
	{ __LINE__, { GET, "REQUEST_URI=/next/a?format=text", NULL }, REQUEST_OK, REQUEST_GET,
	  "/next/a", "format=text", 2, { "next", "a" }, 0, "", "a query" },
	{ __LINE__, { GET, "REQUEST_URI=/next/a?", NULL }, REQUEST_OK, REQUEST_GET, "/next/a", "", 2,
	  { "next", "a" }, 0, "", "an empty query" },
	{ __LINE__, { GET, "REQUEST_URI=/?a=1", NULL }, REQUEST_OK, REQUEST_GET, "/", "a=1", 1,
	  { "" }, 0, "", "a query on the root" },
	{ __LINE__, { GET, "REQUEST_URI=/next/a?x=/b/c", NULL }, REQUEST_OK, REQUEST_GET, "/next/a",
	  "x=/b/c", 2, { "next", "a" }, 0, "", "slashes in the query do not make segments" },
	{ __LINE__, { GET, "REQUEST_URI=/a?b?c", NULL }, REQUEST_OK, REQUEST_GET, "/a", "b?c", 1,
	  { "a" }, 0, "", "the first '?' splits" },
	{ __LINE__, { GET, "REQUEST_URI=/a#frag", NULL }, REQUEST_OK, REQUEST_GET, "/a#frag", "", 1,
	  { "a#frag" }, 0, "", "a '#' is just a byte" },
	{ __LINE__, { GET, "REQUEST_URI=/next/\xc3\xa9t\xc3\xa9", NULL }, REQUEST_OK, REQUEST_GET,
	  "/next/\xc3\xa9t\xc3\xa9", "", 2, { "next", "\xc3\xa9t\xc3\xa9" }, 0, "",
	  "raw UTF-8 in the path" },

	/* which parameter is which */
	{ __LINE__, { GET, "REQUEST_URI=/first", "REQUEST_URI=/second", NULL }, REQUEST_OK,
	  REQUEST_GET, "/first", "", 1, { "first" }, 0, "", "the first REQUEST_URI wins" },
	{ __LINE__, { GET, "REQUEST_URIX=/evil", "REQUEST_URI=/good", NULL }, REQUEST_OK,
	  REQUEST_GET, "/good", "", 1, { "good" }, 0, "", "a longer name is another parameter" },
	{ __LINE__, { GET, "HTTP_REQUEST_URI=/evil", "REQUEST_URI=/good", NULL }, REQUEST_OK,
	  REQUEST_GET, "/good", "", 1, { "good" }, 0, "", "a client header cannot pose as the URI" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "HTTP_ACCEPT=text/plain", NULL }, REQUEST_OK,
	  REQUEST_GET, "/a", "", 1, { "a" }, 0, "text/plain", "the Accept header" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "HTTP_ACCEPT=", NULL }, REQUEST_OK, REQUEST_GET, "/a",
	  "", 1, { "a" }, 0, "", "an empty Accept header" },

	/* refused URIs: the method is still set */
	{ __LINE__, { GET, NULL }, REQUEST_MALFORMED, REQUEST_GET, NULL, "", 0, { NULL }, 0, "",
	  "no REQUEST_URI" },
	{ __LINE__, { NULL }, REQUEST_MALFORMED, OTHER, NULL, "", 0, { NULL }, 0, "",
	  "no parameters at all" },
	{ __LINE__, { "REQUEST_METHOD=POST", "REQUEST_URI=", NULL }, REQUEST_MALFORMED, REQUEST_POST,
	  NULL, "", 0, { NULL }, 0, "", "an empty REQUEST_URI" },
	{ __LINE__, { GET, "REQUEST_URI=next/a", NULL }, REQUEST_MALFORMED, REQUEST_GET, NULL, "", 0,
	  { NULL }, 0, "", "no leading slash" },
	{ __LINE__, { GET, "REQUEST_URI=?a=1", NULL }, REQUEST_MALFORMED, REQUEST_GET, NULL, "", 0,
	  { NULL }, 0, "", "only a query" },
	{ __LINE__, { GET, "REQUEST_URI=http://example.com/next/a", NULL }, REQUEST_OK,
	  REQUEST_GET, "/next/a", "", 2, { "next", "a" }, 0, "",
	  "an absolute-form URI (RFC 9112, as Apache may pass it): the path after the authority" },
	{ __LINE__, { GET, "REQUEST_URI=HTTPS://example.com:8443/next/a?x=1", NULL }, REQUEST_OK,
	  REQUEST_GET, "/next/a", "x=1", 2, { "next", "a" }, 0, "", "https, a port and a query" },
	{ __LINE__, { GET, "REQUEST_URI=http://example.com", NULL }, REQUEST_MALFORMED,
	  REQUEST_GET, NULL, "", 0, { NULL }, 0, "", "an absolute URI without a path" },
	{ __LINE__, { GET, "REQUEST_URI=*", NULL }, REQUEST_MALFORMED, REQUEST_GET, NULL, "", 0,
	  { NULL }, 0, "", "the asterisk form" },
	{ __LINE__, { GET, "REQUEST_URI= /a", NULL }, REQUEST_MALFORMED, REQUEST_GET, NULL, "", 0,
	  { NULL }, 0, "", "a leading space" },

	/* CONTENT_LENGTH */
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=", NULL }, REQUEST_OK, REQUEST_GET, "/a",
	  "", 1, { "a" }, 0, "", "an empty CONTENT_LENGTH is none" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=0", NULL }, REQUEST_OK, REQUEST_GET,
	  "/a", "", 1, { "a" }, 0, "", "zero" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=65536", NULL }, REQUEST_OK,
	  REQUEST_GET, "/a", "", 1, { "a" }, 65536, "", "exactly REQUEST_BODY_MAX" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=065536", NULL }, REQUEST_OK,
	  REQUEST_GET, "/a", "", 1, { "a" }, 65536, "", "a leading zero" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=65537", NULL }, REQUEST_BODY_TOO_LARGE,
	  REQUEST_GET, "/a", "", 1, { "a" }, 65537, "", "one byte over" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=18446744073709551615", NULL },
	  REQUEST_BODY_TOO_LARGE, REQUEST_GET, "/a", "", 1, { "a" }, UINT64_MAX, "",
	  "UINT64_MAX bytes" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=abc", NULL }, REQUEST_MALFORMED,
	  REQUEST_GET, "/a", "", 1, { "a" }, 0, "", "not a number" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=-1", NULL }, REQUEST_MALFORMED,
	  REQUEST_GET, "/a", "", 1, { "a" }, 0, "", "negative" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=+5", NULL }, REQUEST_MALFORMED,
	  REQUEST_GET, "/a", "", 1, { "a" }, 0, "", "a plus sign" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH= 5", NULL }, REQUEST_MALFORMED,
	  REQUEST_GET, "/a", "", 1, { "a" }, 0, "", "a leading space" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=5 ", NULL }, REQUEST_MALFORMED,
	  REQUEST_GET, "/a", "", 1, { "a" }, 0, "", "a trailing space" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=1e3", NULL }, REQUEST_MALFORMED,
	  REQUEST_GET, "/a", "", 1, { "a" }, 0, "", "an exponent" },
	{ __LINE__, { GET, "REQUEST_URI=/a", "CONTENT_LENGTH=0x10", NULL }, REQUEST_MALFORMED,
	  REQUEST_GET, "/a", "", 1, { "a" }, 0, "", "hex" },
	{ __LINE__, { GET, "REQUEST_URI=a", "CONTENT_LENGTH=99999", NULL }, REQUEST_MALFORMED,
	  REQUEST_GET, NULL, "", 0, { NULL }, 0, "", "a malformed URI is reported first" },
};

START_TEST(test_parse)
{
	const struct parse_row *row = &parse_rows[_i];
	char *const *envp = (char *const *)row->env;
	struct request req;
	int status;

	memset(&req, 0x5a, sizeof(req));
	status = request_parse(&req, envp);
	ck_assert_msg(status == row->status, "line %d: %s: status %d, want %d", row->line, row->desc,
	              status, row->status);
	ck_assert_msg(req.method == row->method, "line %d: %s: method %u, want %u", row->line,
	              row->desc, req.method, row->method);
	ck_assert_msg(req.accept && strcmp(req.accept, row->accept) == 0,
	              "line %d: %s: accept \"%s\", want \"%s\"", row->line, row->desc,
	              req.accept ? req.accept : "(null)", row->accept);
	/* Even a refused request has a path a log line can print. */
	ck_assert_msg(req.path && req.path_len >= 1 && req.path[0] == '/',
	              "line %d: %s: no usable path", row->line, row->desc);
	ck_assert_msg(req.query && strlen(req.query) >= req.query_len,
	              "line %d: %s: no usable query", row->line, row->desc);
	if (!row->path)
		return;
	/* The path points into the parameter itself (past an absolute form's authority): nothing
	 * is copied. */
	const char *uri = request_param(envp, "REQUEST_URI");

	ck_assert_msg(uri && req.path >= uri && req.path < uri + strlen(uri),
	              "line %d: %s: path does not point into envp", row->line, row->desc);
	ck_assert_msg(req.path_len == strlen(row->path) &&
	                      memcmp(req.path, row->path, req.path_len) == 0,
	              "line %d: %s: path \"%.*s\", want \"%s\"", row->line, row->desc,
	              (int)req.path_len, req.path, row->path);
	ck_assert_msg(req.query_len == strlen(row->query) &&
	                      memcmp(req.query, row->query, req.query_len) == 0,
	              "line %d: %s: query \"%.*s\", want \"%s\"", row->line, row->desc,
	              (int)req.query_len, req.query, row->query);
	ck_assert_msg(req.nseg == row->nseg, "line %d: %s: nseg %zu, want %zu", row->line,
	              row->desc, req.nseg, row->nseg);
	for (size_t i = 0; i < row->nseg && i < REQUEST_SEGMENTS_MAX; i++) {
		const struct request_segment *seg = &req.seg[i];

		ck_assert_msg(seg->len == strlen(row->seg[i]) &&
		                      memcmp(seg->raw, row->seg[i], seg->len) == 0,
		              "line %d: %s: segment %zu \"%.*s\", want \"%s\"", row->line, row->desc,
		              i, (int)seg->len, seg->raw, row->seg[i]);
		ck_assert_msg(seg->raw >= req.path && seg->raw + seg->len <= req.path + req.path_len,
		              "line %d: %s: segment %zu outside the path", row->line, row->desc, i);
	}
	ck_assert_msg(req.content_length == row->content_length,
	              "line %d: %s: content_length %" PRIu64 ", want %" PRIu64, row->line, row->desc,
	              req.content_length, row->content_length);
}
END_TEST

/* URIs too long to spell out: "/" then `len - 1` bytes (a query from `question` on, if set). */
struct uri_row {
	int line;
	size_t len;
	size_t question; /* 0: no '?' */
	int status;
	const char *desc;
};

static const struct uri_row uri_rows[] = {
	{ __LINE__, REQUEST_URI_MAX, 0, REQUEST_OK, "a URI of exactly 8192 bytes" },
	{ __LINE__, REQUEST_URI_MAX + 1, 0, REQUEST_URI_TOO_LONG, "a URI of 8193 bytes" },
	{ __LINE__, REQUEST_URI_MAX + 1, 10, REQUEST_URI_TOO_LONG,
	  "a long query counts toward the limit" },
	{ __LINE__, REQUEST_URI_MAX, 10, REQUEST_OK, "a long query within the limit" },
	{ __LINE__, 1000000, 0, REQUEST_URI_TOO_LONG, "a URI of a megabyte" },
};

START_TEST(test_uri_length)
{
	const struct uri_row *row = &uri_rows[_i];
	static const char prefix[] = "REQUEST_URI=";
	size_t plen = sizeof(prefix) - 1;
	char *param = malloc(plen + row->len + 1);
	char *env[] = { "REQUEST_METHOD=GET", param, "CONTENT_LENGTH=99999999", NULL };
	struct request req;
	int status;

	ck_assert_ptr_nonnull(param);
	memcpy(param, prefix, plen);
	param[plen] = '/';
	memset(param + plen + 1, 'a', row->len - 1);
	if (row->question)
		param[plen + row->question] = '?';
	param[plen + row->len] = '\0';
	if (row->status == REQUEST_OK)
		env[2] = NULL; /* keep the body limit out of the accepted rows */
	status = request_parse(&req, env);
	ck_assert_msg(status == row->status, "line %d: %s: status %d, want %d", row->line, row->desc,
	              status, row->status);
	ck_assert_msg(req.method == REQUEST_GET, "line %d: %s: method", row->line, row->desc);
	if (status == REQUEST_OK)
		ck_assert_msg(req.path_len + (row->question ? 1 + req.query_len : 0) == row->len,
		              "line %d: %s: path %zu + query %zu bytes", row->line, row->desc,
		              req.path_len, req.query_len);
	free(param);
}
END_TEST

/* ---- request_percent_decode ---- */

struct decode_row {
	int line;
	const char *in;
	size_t cap;
	int plus_is_space;
	int rc;
	const char *out; /* when rc == 0; may hold NUL bytes */
	size_t out_len;
	const char *desc;
};

#define OUT(lit) lit, sizeof(lit) - 1

static const struct decode_row decode_rows[] = {
	{ __LINE__, "", 0, 0, 0, OUT(""), "empty into no room" },
	{ __LINE__, "abc", 3, 0, 0, OUT("abc"), "plain bytes, exact room" },
	{ __LINE__, "abc", 2, 0, -2, OUT(""), "plain bytes, one byte short" },
	{ __LINE__, "a%41", 2, 0, 0, OUT("aA"), "an escape, exact room" },
	{ __LINE__, "a%41", 1, 0, -2, OUT(""), "an escape, one byte short" },
	{ __LINE__, "%aF%Af", 2, 0, 0, OUT("\xaf\xaf"), "hex digits in either case" },
	{ __LINE__, "%00", 1, 0, 0, OUT("\0"), "an encoded NUL is a byte like any other" },
	{ __LINE__, "a+b", 3, 0, 0, OUT("a+b"), "'+' stays in a path" },
	{ __LINE__, "a+b", 3, 1, 0, OUT("a b"), "'+' is a space in a query" },
	{ __LINE__, "%2B", 1, 1, 0, OUT("+"), "an encoded '+' is a plus in a query" },
	{ __LINE__, "%25", 1, 0, 0, OUT("%"), "an encoded '%'" },
	{ __LINE__, "%2541", 3, 0, 0, OUT("%41"), "decoded once, not twice" },
	{ __LINE__, "%", 8, 0, -1, OUT(""), "a lone '%'" },
	{ __LINE__, "a%", 8, 0, -1, OUT(""), "a trailing '%'" },
	{ __LINE__, "%4", 8, 0, -1, OUT(""), "one hex digit" },
	{ __LINE__, "%zz", 8, 0, -1, OUT(""), "no hex digits" },
	{ __LINE__, "%4g", 8, 0, -1, OUT(""), "a bad second digit" },
	{ __LINE__, "%g4", 8, 0, -1, OUT(""), "a bad first digit" },
	{ __LINE__, "%%41", 8, 0, -1, OUT(""), "'%' after '%'" },
	{ __LINE__, "% 41", 8, 0, -1, OUT(""), "a space in an escape" },
	{ __LINE__, "%+1", 8, 0, -1, OUT(""), "a sign in an escape" },
	{ __LINE__, "%-1", 8, 0, -1, OUT(""), "a minus in an escape" },
	{ __LINE__, "%0x", 8, 0, -1, OUT(""), "an 'x' in an escape" },
};

START_TEST(test_percent_decode)
{
	const struct decode_row *row = &decode_rows[_i];
	char *out = malloc(row->cap); /* exactly cap bytes, so ASan sees a write past them */
	size_t out_len = 12345;
	int rc;

	ck_assert_ptr_nonnull(out);
	rc = request_percent_decode(row->in, strlen(row->in), out, row->cap, &out_len,
	                            row->plus_is_space);
	ck_assert_msg(rc == row->rc, "line %d: %s: rc %d, want %d", row->line, row->desc, rc,
	              row->rc);
	if (rc == 0)
		ck_assert_msg(out_len == row->out_len && memcmp(out, row->out, out_len) == 0,
		              "line %d: %s: decoded %zu bytes", row->line, row->desc, out_len);
	free(out);
}
END_TEST

/* ---- request_decode_name ---- */

#define LEN "Name must be 1 to 200 bytes."
#define UTF8 "Name must be valid UTF-8."
#define CTRL "Name must not contain control characters."
#define SLASH "Name must not contain '/'."
#define ESC "Name has a malformed percent-escape."

/*
 * The raw segment is `raw` repeated `count` times (1 when 0) followed by `tail`; a valid name
 * decodes to `name` repeated the same way followed by `name_tail`.
 */
struct name_row {
	int line;
	const char *raw;
	int count;
	const char *tail;
	const char *why; /* NULL: valid */
	const char *name;
	const char *name_tail;
	const char *desc;
};

static const struct name_row name_rows[] = {
	/* valid: API.md §1's own examples first */
	{ __LINE__, "test@sequence", 0, "", NULL, "test@sequence", "", "an at sign" },
	{ __LINE__, "a.b", 0, "", NULL, "a.b", "", "a dot" },
	{ __LINE__, "a%20b", 0, "", NULL, "a b", "", "an encoded space" },
	{ __LINE__, "%C3%A9t%C3%A9", 0, "", NULL, "\xc3\xa9t\xc3\xa9", "", "été encoded" },
	{ __LINE__, "\xc3\xa9t\xc3\xa9", 0, "", NULL, "\xc3\xa9t\xc3\xa9", "", "été raw" },
	{ __LINE__, "%c3%a9", 0, "", NULL, "\xc3\xa9", "", "lower-case hex" },
	{ __LINE__, "a+b", 0, "", NULL, "a+b", "", "'+' is a plus in a name" },
	{ __LINE__, "a%2Bb", 0, "", NULL, "a+b", "", "an encoded plus" },
	{ __LINE__, "%25", 0, "", NULL, "%", "", "an encoded percent sign" },
	{ __LINE__, "%2E%2E", 0, "", NULL, "..", "", "dot-dot is only a name" },
	{ __LINE__, "Test", 0, "", NULL, "Test", "", "case is kept" },
	{ __LINE__, "%20", 0, "", NULL, " ", "", "a lone space" },
	{ __LINE__, "~-_!$&'()*,;=:", 0, "", NULL, "~-_!$&'()*,;=:", "", "sub-delims" },
	{ __LINE__, "%7E", 0, "", NULL, "~", "", "0x7E, one below DEL" },
	{ __LINE__, "%C2%80", 0, "", NULL, "\xc2\x80", "",
	  "U+0080 is not in the refused control range" },
	{ __LINE__, "%C2%A0", 0, "", NULL, "\xc2\xa0", "", "U+00A0" },
	{ __LINE__, "%DF%BF", 0, "", NULL, "\xdf\xbf", "", "U+07FF, the last two-byte form" },
	{ __LINE__, "%E0%A0%80", 0, "", NULL, "\xe0\xa0\x80", "", "U+0800, the first three-byte" },
	{ __LINE__, "%E2%82%AC", 0, "", NULL, "\xe2\x82\xac", "", "the euro sign" },
	{ __LINE__, "%ED%9F%BF", 0, "", NULL, "\xed\x9f\xbf", "", "U+D7FF, just below surrogates" },
	{ __LINE__, "%EE%80%80", 0, "", NULL, "\xee\x80\x80", "", "U+E000, just above surrogates" },
	{ __LINE__, "%EF%BF%BF", 0, "", NULL, "\xef\xbf\xbf", "", "U+FFFF" },
	{ __LINE__, "%F0%90%80%80", 0, "", NULL, "\xf0\x90\x80\x80", "", "U+10000" },
	{ __LINE__, "%F0%9F%98%80", 0, "", NULL, "\xf0\x9f\x98\x80", "", "an emoji" },
	{ __LINE__, "%F4%8F%BF%BF", 0, "", NULL, "\xf4\x8f\xbf\xbf", "", "U+10FFFF, the last" },
	{ __LINE__, "a", 200, "", NULL, "a", "", "200 bytes" },
	{ __LINE__, "%61", 200, "", NULL, "a", "", "200 bytes from 600 escaped" },
	{ __LINE__, "%C3%A9", 100, "", NULL, "\xc3\xa9", "", "100 x é is 200 bytes" },
	{ __LINE__, "a", 198, "\xc3\xa9", NULL, "a", "\xc3\xa9", "a two-byte character at the end" },

	/* length */
	{ __LINE__, "", 0, "", LEN, NULL, NULL, "empty" },
	{ __LINE__, "a", 201, "", LEN, NULL, NULL, "201 bytes" },
	{ __LINE__, "%61", 201, "", LEN, NULL, NULL, "201 bytes escaped" },
	{ __LINE__, "%C3%A9", 101, "", LEN, NULL, NULL, "101 x é is 202 bytes" },
	{ __LINE__, "a", 199, "%C3%A9", LEN, NULL, NULL, "a character across the limit" },
	{ __LINE__, "a", 5000, "", LEN, NULL, NULL, "5000 bytes" },

	/* UTF-8 */
	{ __LINE__, "%FF", 0, "", UTF8, NULL, NULL, "0xFF is never UTF-8" },
	{ __LINE__, "%FE", 0, "", UTF8, NULL, NULL, "0xFE is never UTF-8" },
	{ __LINE__, "\xff", 0, "", UTF8, NULL, NULL, "a raw 0xFF" },
	{ __LINE__, "%80", 0, "", UTF8, NULL, NULL, "a lone continuation byte" },
	{ __LINE__, "a%BFb", 0, "", UTF8, NULL, NULL, "a continuation byte between letters" },
	{ __LINE__, "%C3", 0, "", UTF8, NULL, NULL, "a lead byte at the end" },
	{ __LINE__, "%C3%28", 0, "", UTF8, NULL, NULL, "a lead byte before ASCII" },
	{ __LINE__, "%C3%C3%A9", 0, "", UTF8, NULL, NULL, "a lead byte before a lead byte" },
	{ __LINE__, "%C3%A9%A9", 0, "", UTF8, NULL, NULL, "one continuation byte too many" },
	{ __LINE__, "%C0%AF", 0, "", UTF8, NULL, NULL, "an overlong '/'" },
	{ __LINE__, "%C0%80", 0, "", UTF8, NULL, NULL, "an overlong NUL (modified UTF-8)" },
	{ __LINE__, "%C1%BF", 0, "", UTF8, NULL, NULL, "an overlong DEL" },
	{ __LINE__, "%E0%80%AF", 0, "", UTF8, NULL, NULL, "a three-byte overlong '/'" },
	{ __LINE__, "%E0%9F%BF", 0, "", UTF8, NULL, NULL, "the last three-byte overlong" },
	{ __LINE__, "%F0%80%80%AF", 0, "", UTF8, NULL, NULL, "a four-byte overlong '/'" },
	{ __LINE__, "%F0%8F%BF%BF", 0, "", UTF8, NULL, NULL, "the last four-byte overlong" },
	{ __LINE__, "%ED%A0%80", 0, "", UTF8, NULL, NULL, "surrogate U+D800" },
	{ __LINE__, "%ED%BF%BF", 0, "", UTF8, NULL, NULL, "surrogate U+DFFF" },
	{ __LINE__, "%ED%A0%BD%ED%B8%80", 0, "", UTF8, NULL, NULL, "a CESU-8 surrogate pair" },
	{ __LINE__, "%F4%90%80%80", 0, "", UTF8, NULL, NULL, "U+110000, beyond U+10FFFF" },
	{ __LINE__, "%F5%80%80%80", 0, "", UTF8, NULL, NULL, "lead byte F5" },
	{ __LINE__, "%F7%BF%BF%BF", 0, "", UTF8, NULL, NULL, "lead byte F7" },
	{ __LINE__, "%F8%88%80%80%80", 0, "", UTF8, NULL, NULL, "a five-byte form" },
	{ __LINE__, "%E2%82", 0, "", UTF8, NULL, NULL, "a truncated three-byte character" },
	{ __LINE__, "%E2%82a", 0, "", UTF8, NULL, NULL, "a truncated character before ASCII" },
	{ __LINE__, "%F0%9F%98", 0, "", UTF8, NULL, NULL, "a truncated four-byte character" },
	{ __LINE__, "%E2%28%A1", 0, "", UTF8, NULL, NULL, "a bad second byte" },
	{ __LINE__, "%E2%82%28", 0, "", UTF8, NULL, NULL, "a bad third byte" },
	{ __LINE__, "%F0%9F%98%28", 0, "", UTF8, NULL, NULL, "a bad fourth byte" },
	{ __LINE__, "a", 198, "%E2%82", UTF8, NULL, NULL, "a character cut at byte 200" },

	/* control characters and '/' */
	{ __LINE__, "%00", 0, "", CTRL, NULL, NULL, "NUL" },
	{ __LINE__, "a%00", 0, "", CTRL, NULL, NULL, "a NUL at the end" },
	{ __LINE__, "%01", 0, "", CTRL, NULL, NULL, "U+0001" },
	{ __LINE__, "a%09b", 0, "", CTRL, NULL, NULL, "a tab" },
	{ __LINE__, "%0A", 0, "", CTRL, NULL, NULL, "a line feed (log injection)" },
	{ __LINE__, "%0D%0A", 0, "", CTRL, NULL, NULL, "CRLF (header injection)" },
	{ __LINE__, "%1B", 0, "", CTRL, NULL, NULL, "escape (terminal injection)" },
	{ __LINE__, "%1F", 0, "", CTRL, NULL, NULL, "U+001F" },
	{ __LINE__, "%7F", 0, "", CTRL, NULL, NULL, "DEL" },
	{ __LINE__, "a\x01" "b", 0, "", CTRL, NULL, NULL, "a raw control byte" },
	{ __LINE__, "%2F", 0, "", SLASH, NULL, NULL, "an encoded slash" },
	{ __LINE__, "a%2fb", 0, "", SLASH, NULL, NULL, "a lower-case encoded slash" },
	{ __LINE__, "%FF%00", 0, "", CTRL, NULL, NULL, "a control byte beats bad UTF-8" },
	{ __LINE__, "%FF%2F", 0, "", SLASH, NULL, NULL, "a slash beats bad UTF-8" },
	{ __LINE__, "%C3%2F", 0, "", SLASH, NULL, NULL, "a slash after a lead byte" },
	{ __LINE__, "%E2%00", 0, "", CTRL, NULL, NULL, "a NUL after a lead byte" },

	/* escapes */
	{ __LINE__, "%zz", 0, "", ESC, NULL, NULL, "no hex digits" },
	{ __LINE__, "%4", 0, "", ESC, NULL, NULL, "one hex digit" },
	{ __LINE__, "%", 0, "", ESC, NULL, NULL, "a lone '%'" },
	{ __LINE__, "abc%", 0, "", ESC, NULL, NULL, "a trailing '%'" },
	{ __LINE__, "abc%4", 0, "", ESC, NULL, NULL, "a trailing '%' and one digit" },
	{ __LINE__, "%4g", 0, "", ESC, NULL, NULL, "a bad second digit" },
	{ __LINE__, "%%41", 0, "", ESC, NULL, NULL, "a doubled '%'" },
	{ __LINE__, "%u00e9", 0, "", ESC, NULL, NULL, "the non-standard %u form" },
};

/* raw repeated count times (1 when 0), then tail; malloc'ed, NUL-terminated. */
static char *repeat(const char *raw, int count, const char *tail, size_t *len)
{
	size_t rlen = strlen(raw), tlen = strlen(tail), n = count > 0 ? (size_t)count : 1;
	char *s = malloc(rlen * n + tlen + 1);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * rlen, raw, rlen);
	memcpy(s + n * rlen, tail, tlen + 1);
	*len = n * rlen + tlen;
	return s;
}

START_TEST(test_decode_name)
{
	const struct name_row *row = &name_rows[_i];
	char *out = malloc(NAME_MAX_BYTES); /* exactly the documented room */
	size_t raw_len, out_len = 0;
	char *raw = repeat(row->raw, row->count, row->tail, &raw_len);
	struct request_segment seg = { raw, raw_len };
	const char *why = NULL;
	char shown[128];
	int rc;

	ck_assert_ptr_nonnull(out);
	rc = request_decode_name(&seg, out, &out_len, &why);
	if (row->why) {
		ck_assert_msg(rc == -1, "line %d: %s: accepted \"%s\"", row->line, row->desc,
		              unit_show(out, out_len, shown, sizeof(shown)));
		ck_assert_msg(why && strcmp(why, row->why) == 0,
		              "line %d: %s: why \"%s\", want \"%s\"", row->line, row->desc,
		              why ? why : "(null)", row->why);
	} else {
		size_t want_len;
		char *want = repeat(row->name, row->count, row->name_tail, &want_len);

		ck_assert_msg(rc == 0, "line %d: %s: refused: %s", row->line, row->desc,
		              why ? why : "(no reason)");
		ck_assert_msg(out_len == want_len && memcmp(out, want, want_len) == 0,
		              "line %d: %s: decoded \"%s\"", row->line, row->desc,
		              unit_show(out, out_len, shown, sizeof(shown)));
		/* What the request layer accepts, the name rules accept too. */
		ck_assert_msg(name_check(out, out_len, &why) == 0, "line %d: %s: name_check refuses",
		              row->line, row->desc);
		free(want);
	}
	free(raw);
	free(out);
}
END_TEST

/* ---- request_query ---- */

struct query_row {
	int line;
	const char *query;
	const char *key;
	size_t cap;
	int status;
	const char *value; /* when QUERY_OK; may hold NUL bytes */
	size_t value_len;
	const char *desc;
};

#define V(lit) lit, sizeof(lit) - 1
#define LONG70 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static const struct query_row query_rows[] = {
	{ __LINE__, "", "format", 16, QUERY_ABSENT, V(""), "no query" },
	{ __LINE__, "a=1&b=2", "format", 16, QUERY_ABSENT, V(""), "another key" },
	{ __LINE__, "format=text", "format", 16, QUERY_OK, V("text"), "present" },
	{ __LINE__, "a=1&format=text&b=2", "format", 16, QUERY_OK, V("text"), "in the middle" },
	{ __LINE__, "a=1&format=text", "format", 16, QUERY_OK, V("text"), "at the end" },
	{ __LINE__, "format=", "format", 16, QUERY_OK, V(""), "an empty value" },
	{ __LINE__, "format", "format", 16, QUERY_OK, V(""), "a key without '='" },
	{ __LINE__, "format=text&format=json", "format", 16, QUERY_DUPLICATE, V(""), "duplicate" },
	{ __LINE__, "format=text&format=text", "format", 16, QUERY_DUPLICATE, V(""),
	  "a duplicate with the same value" },
	{ __LINE__, "format&format=", "format", 16, QUERY_DUPLICATE, V(""), "duplicate empties" },
	{ __LINE__, "form%61t=a&format=b", "format", 16, QUERY_DUPLICATE, V(""),
	  "a duplicate spelled with an escape" },
	{ __LINE__, "q=a+b", "q", 16, QUERY_OK, V("a b"), "'+' is a space" },
	{ __LINE__, "q=a%2Bb", "q", 16, QUERY_OK, V("a+b"), "an encoded '+' is a plus" },
	{ __LINE__, "q=a%20b", "q", 16, QUERY_OK, V("a b"), "an encoded space" },
	{ __LINE__, "q=%C3%A9", "q", 16, QUERY_OK, V("\xc3\xa9"), "a percent-decoded value" },
	{ __LINE__, "q=%26%3D", "q", 16, QUERY_OK, V("&="), "encoded '&' and '='" },
	{ __LINE__, "q=a=b", "q", 16, QUERY_OK, V("a=b"), "'=' inside the value" },
	{ __LINE__, "q=%00", "q", 16, QUERY_MALFORMED, V(""),
	  "an encoded NUL is malformed: strcmp would read \"text%00x\" as \"text\"" },
	{ __LINE__, "q=text%00x", "q", 16, QUERY_MALFORMED, V(""), "a NUL inside a value" },
	{ __LINE__, "&&q=1&&", "q", 16, QUERY_OK, V("1"), "empty pairs around" },
	{ __LINE__, "q=1&", "q", 16, QUERY_OK, V("1"), "a trailing '&'" },
	{ __LINE__, "%71=1", "q", 16, QUERY_OK, V("1"), "an escaped key" },
	{ __LINE__, "fo+rm=1", "fo rm", 16, QUERY_OK, V("1"), "'+' in a key" },
	{ __LINE__, "Q=1", "q", 16, QUERY_ABSENT, V(""), "keys are case-sensitive" },
	{ __LINE__, "qq=1", "q", 16, QUERY_ABSENT, V(""), "a longer key" },
	{ __LINE__, "xq=1", "q", 16, QUERY_ABSENT, V(""), "a key ending in the key" },
	{ __LINE__, "q%3D1=2", "q", 16, QUERY_ABSENT, V(""), "an encoded '=' is part of the key" },
	{ __LINE__, LONG70 "=1&q=2", "q", 16, QUERY_OK, V("2"), "a 70-byte key is skipped" },
	{ __LINE__, "%zz=1&q=2", "q", 16, QUERY_OK, V("2"), "a key with a bad escape is skipped" },
	{ __LINE__, "q=abcd", "q", 5, QUERY_OK, V("abcd"), "a value that just fits with its NUL" },
	{ __LINE__, "q=abcde", "q", 5, QUERY_MALFORMED, V(""), "a value one byte too long" },
	{ __LINE__, "q=%41%42%43%44", "q", 5, QUERY_OK, V("ABCD"), "escapes that just fit" },
	{ __LINE__, "q=%41%42%43%44%45", "q", 5, QUERY_MALFORMED, V(""),
	  "escapes one byte too long" },
	{ __LINE__, "q=", "q", 1, QUERY_OK, V(""), "an empty value in a one-byte buffer" },
	{ __LINE__, "q=a", "q", 1, QUERY_MALFORMED, V(""), "no room but the NUL" },
	{ __LINE__, "q=%zz", "q", 16, QUERY_MALFORMED, V(""), "a bad escape" },
	{ __LINE__, "q=%4", "q", 16, QUERY_MALFORMED, V(""), "a short escape" },
	{ __LINE__, "q=%", "q", 16, QUERY_MALFORMED, V(""), "a lone '%'" },
	{ __LINE__, "q=%4&b=1", "q", 16, QUERY_MALFORMED, V(""), "a short escape before '&'" },
	{ __LINE__, "q=%zz&q=1", "q", 16, QUERY_DUPLICATE, V(""),
	  "a duplicate after a bad escape" },
};

START_TEST(test_query)
{
	const struct query_row *row = &query_rows[_i];
	struct request req;
	char *out = malloc(row->cap);
	size_t out_len = 12345;
	char shown[128];
	int status;

	ck_assert_ptr_nonnull(out);
	memset(&req, 0, sizeof(req));
	req.query = row->query;
	req.query_len = strlen(row->query);
	memset(out, '#', row->cap);
	status = request_query(&req, row->key, out, row->cap, &out_len);
	ck_assert_msg(status == row->status, "line %d: %s: status %d, want %d", row->line,
	              row->desc, status, row->status);
	if (status == QUERY_OK) {
		ck_assert_msg(out_len == row->value_len && memcmp(out, row->value, out_len) == 0,
		              "line %d: %s: value \"%s\"", row->line, row->desc,
		              unit_show(out, out_len, shown, sizeof(shown)));
		ck_assert_msg(out[out_len] == '\0', "line %d: %s: value not NUL-terminated",
		              row->line, row->desc);
	}
	if (status == QUERY_MALFORMED)
		ck_assert_msg(out[0] == '\0', "line %d: %s: a malformed value leaves \"%s\"",
		              row->line, row->desc,
		              unit_show(out, strnlen(out, row->cap), shown, sizeof(shown)));
	free(out);
}
END_TEST

/* The query as request_parse leaves it: the '?' and the path are not part of it. */
START_TEST(test_query_after_parse)
{
	char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/next/format?format=text&x=/format",
		        NULL };
	struct request req;
	char out[16];
	size_t len;

	ck_assert_int_eq(request_parse(&req, env), REQUEST_OK);
	ck_assert_int_eq(request_query(&req, "format", out, sizeof(out), &len), QUERY_OK);
	ck_assert_str_eq(out, "text");
	ck_assert_int_eq(request_query(&req, "x", out, sizeof(out), &len), QUERY_OK);
	ck_assert_str_eq(out, "/format");
	ck_assert_int_eq(request_query(&req, "next", out, sizeof(out), &len), QUERY_ABSENT);
}
END_TEST

/* ---- request_prefers_text ---- */

struct accept_row {
	int line;
	const char *accept; /* NULL: no Accept header */
	int text;
	const char *desc;
};

static const struct accept_row accept_rows[] = {
	{ __LINE__, NULL, 0, "no Accept header" },
	{ __LINE__, "", 0, "an empty Accept header" },
	{ __LINE__, "text/plain", 1, "text/plain alone" },
	{ __LINE__, "application/json", 0, "application/json alone" },
	{ __LINE__, "*/*", 0, "anything: a tie goes to JSON" },
	{ __LINE__, "text/plain, application/json", 0, "a tie in order text, json" },
	{ __LINE__, "application/json, text/plain", 0, "a tie in order json, text" },
	{ __LINE__, "application/json;q=0.1, text/plain", 1, "JSON weighted down" },
	{ __LINE__, "text/plain;q=0.5, application/json", 0, "text weighted down" },
	{ __LINE__, "text/*", 1, "text/*" },
	{ __LINE__, "TEXT/*", 1, "TEXT/*" },
	{ __LINE__, "text/*;q=0.9, application/json;q=0.8", 1, "text/* weighted above JSON" },
	{ __LINE__, "TEXT/PLAIN", 1, "media types are case-insensitive" },
	{ __LINE__, "Text/Plain;Q=0.9, application/json;q=0.8", 1, "a capital Q" },
	{ __LINE__, "text/plain;q=abc", 0, "a broken weight is ignored" },
	{ __LINE__, "text/plain;q=abc, application/json;q=0.1", 0,
	  "a broken weight does not count as 1" },
	{ __LINE__, " text/plain ; q=1 ", 1, "blanks around range and parameter" },
	{ __LINE__, "\ttext/plain\t;\tq=1\t", 1, "tabs around range and parameter" },
	{ __LINE__, "text/plain;q=0", 0, "q=0 means not acceptable" },
	{ __LINE__, "text/plain;q=0, application/json;q=0", 0, "nothing acceptable" },
	{ __LINE__, "application/json;q=0, text/plain;q=0.001", 1,
	  "the smallest weight wins over 0" },
	{ __LINE__, "text/plain;q=0.001, application/json;q=0", 1, "three decimals" },
	{ __LINE__, "text/plain;q=1.000, application/json;q=0.999", 1, "1.000" },
	{ __LINE__, "text/plain;q=1.0001", 0, "four decimals: broken" },
	{ __LINE__, "text/plain;q=1.5", 0, "above 1: broken" },
	{ __LINE__, "text/plain;q=2", 0, "2: broken" },
	{ __LINE__, "text/plain;q=.5", 0, "no leading digit: broken" },
	{ __LINE__, "text/plain;q=0.", 0, "q=0. is zero" },
	{ __LINE__, "text/plain;q=-1", 0, "negative: broken" },
	{ __LINE__, "text/plain;q=", 0, "an empty weight: broken" },
	{ __LINE__, "text/plain;", 1, "an empty parameter list" },
	{ __LINE__, "text/plain;charset=utf-8", 1, "another parameter" },
	{ __LINE__, "text/plain;charset=utf-8;q=0.8, application/json;q=0.7", 1,
	  "a weight after another parameter" },
	{ __LINE__, "text/plain;level=1;q=0.4, application/json;q=0.5", 0,
	  "a lower weight after another parameter" },
	{ __LINE__, "*/*;q=0.1, text/plain", 1, "an exact range beats */*" },
	{ __LINE__, "*/*;q=0.8, application/json;q=0.5", 1,
	  "text/plain gets */*'s weight, above JSON's" },
	{ __LINE__, "text/*;q=0.5, text/plain;q=0.1, application/json;q=0.2", 0,
	  "the most specific range decides, even when lower" },
	{ __LINE__, "text/plain;q=0.1, text/*;q=0.9, application/json;q=0.2", 0,
	  "the most specific range decides in any order" },
	{ __LINE__, "application/*", 0, "application/*" },
	{ __LINE__, "application/*;q=0.5, text/plain;q=0.6", 1, "application/* below text" },
	{ __LINE__, "text/html", 0, "another text type" },
	{ __LINE__, "text/html, */*;q=0.8", 0, "a browser's Accept header" },
	{ __LINE__, "text/plainx", 0, "a longer type" },
	{ __LINE__, "text/plai", 0, "a shorter type" },
	{ __LINE__, "text/pl*", 0, "a partial wildcard" },
	{ __LINE__, "*/plain", 0, "a wildcard type with a subtype" },
	{ __LINE__, "text", 0, "no subtype" },
	{ __LINE__, ",,,", 0, "only commas" },
	{ __LINE__, ";;;", 0, "only semicolons" },
	{ __LINE__, "text/plain,", 1, "a trailing comma" },
	{ __LINE__, ",text/plain", 1, "a leading comma" },
	{ __LINE__, "application/json;q=0.5,text/plain", 1, "no space after the comma" },
};

START_TEST(test_prefers_text)
{
	const struct accept_row *row = &accept_rows[_i];
	char header[256];
	char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/next/a", NULL, NULL };
	struct request req;
	int got;

	if (row->accept) {
		snprintf(header, sizeof(header), "HTTP_ACCEPT=%s", row->accept);
		env[2] = header;
	}
	ck_assert_int_eq(request_parse(&req, env), REQUEST_OK);
	got = request_prefers_text(&req);
	ck_assert_msg(got == row->text, "line %d: %s: \"%s\" gives %d, want %d", row->line,
	              row->desc, row->accept ? row->accept : "(none)", got, row->text);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("request");
	TCase *tc = tcase_create("tables");

	UNIT_TABLE(tc, test_param, param_rows);
	tcase_add_test(tc, test_param_null_env);
	UNIT_TABLE(tc, test_parse, parse_rows);
	UNIT_TABLE(tc, test_uri_length, uri_rows);
	UNIT_TABLE(tc, test_percent_decode, decode_rows);
	UNIT_TABLE(tc, test_decode_name, name_rows);
	UNIT_TABLE(tc, test_query, query_rows);
	tcase_add_test(tc, test_query_after_parse);
	UNIT_TABLE(tc, test_prefers_text, accept_rows);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
