/*
 * router: router_serve, the request path every answer takes, from FastCGI parameters to the
 * last byte (worker.c and the fuzz harness serve through it). Rows of method, URI and body with
 * the status, a header and the whole body expected: first without a store (what the router
 * answers itself: 400, 413, 414, 404, 405 with Allow, the store-less 503s, the endpoints that
 * need no store), then over a real store, one row per wording of a store result that an API
 * family gives (the tables in respond.c and the handlers). The transport is
 * tests/fuzz/memstream.c, as in the fuzz harness.
 */
#include "config.h"
#include "exchange.h"
#include "log.h"
#include "memstream.h"
#include "respond.h"
#include "router.h"
#include "scratch.h"
#include "scoreboard.h"
#include "store.h"
#include "store_int.h" /* the db_healthy test breaks a store's health check on purpose */
#include "unit.h"


#define TOKEN "router-test-token"
#define ENV_MAX 8

static char base_dir[256];
static struct config cfg;
static struct store_options opt;
static struct scoreboard *sb;
static struct app app;

/* ---- serving one request into memory ---- */

struct answer {
	int status;
	char head[1024]; /* the header lines, NUL-terminated */
	char *body;      /* NUL-terminated; freed by answer_free */
	size_t body_len;
};

/* Serve method uri (NULL: no REQUEST_URI) with body and, when admin, the admin token; split the
 * answer. */
static void serve(const char *method, const char *uri, const char *body, int admin,
                  struct answer *a)
{
	char m[32], u[REQUEST_URI_MAX + 64], length[48], auth[] = "HTTP_AUTHORIZATION=Bearer " TOKEN;
	char *envp[ENV_MAX];
	size_t len = body ? strlen(body) : 0, n = 0;
	struct memstream in, out;
	struct exchange x = { .app = &app, .in = memstream_input(&in, body ? body : "", len),
		              .out = memstream_output(&out) };
	const unsigned char *end;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(u, sizeof(u), "REQUEST_URI=%s", uri ? uri : "");
	snprintf(length, sizeof(length), "CONTENT_LENGTH=%zu", len);
	envp[n++] = m;
	if (uri)
		envp[n++] = u;
	envp[n++] = length;
	if (admin)
		envp[n++] = auth;
	envp[n] = NULL;
	router_serve(&x, envp);
	end = memmem(out.buf, out.len, "\r\n\r\n", 4);
	ck_assert_msg(end != NULL, "%s %s: the answer has no end of headers", method,
	              uri ? uri : "(no URI)");
	memset(a, 0, sizeof(*a));
	a->status = x.status;
	snprintf(a->head, sizeof(a->head), "%.*s", (int)(end + 2 - out.buf), (const char *)out.buf);
	a->body_len = out.len - (size_t)(end + 4 - out.buf);
	a->body = malloc(a->body_len + 1);
	ck_assert_ptr_nonnull(a->body);
	memcpy(a->body, end + 4, a->body_len);
	a->body[a->body_len] = '\0';
	memstream_free(&out);
}

static void answer_free(struct answer *a)
{
	free(a->body);
	a->body = NULL;
}

/* ---- the rows ---- */

struct step {
	const char *method, *uri, *body;
};

#define STEPS_MAX 2

struct serve_row {
	int line;
	struct step before[STEPS_MAX]; /* served first, those with a method; each must answer 2xx */
	const char *method, *uri, *body;
	size_t uri_len; /* > 0: uri padded with 'a' to this many bytes */
	int status;
	const char *header; /* a header line the answer must carry ("Allow: GET\r\n"), or NULL */
	const char *want;   /* the whole body */
	const char *desc;
};

#define JSON "Content-Type: application/json\r\n"
#define ERR(title, message) "{\"error\":\"" title "\",\"message\":\"" message "\"}\n"

static void run_row(const struct serve_row *row)
{
	char uri[REQUEST_URI_MAX + 16], status[16], shown[512];
	struct answer a;

	for (size_t i = 0; i < STEPS_MAX && row->before[i].method; i++) {
		serve(row->before[i].method, row->before[i].uri, row->before[i].body, 1, &a);
		ck_assert_msg(a.status >= 200 && a.status < 300, "line %d: %s: step %zu: %d %s",
		              row->line, row->desc, i + 1, a.status, a.body);
		answer_free(&a);
	}
	snprintf(uri, sizeof(uri), "%s", row->uri ? row->uri : "");
	if (row->uri_len > strlen(uri) && row->uri_len < sizeof(uri)) {
		memset(uri + strlen(uri), 'a', row->uri_len - strlen(uri));
		uri[row->uri_len] = '\0';
	}
	serve(row->method, row->uri ? uri : NULL, row->body, 1, &a);
	ck_assert_msg(a.status == row->status, "line %d: %s: status %d, want %d (%s)", row->line,
	              row->desc, a.status, row->status, unit_show(a.body, a.body_len, shown,
	                                                            sizeof(shown)));
	snprintf(status, sizeof(status), "Status: %d ", row->status);
	ck_assert_msg(strncmp(a.head, status, strlen(status)) == 0,
	              "line %d: %s: the Status line says %.16s", row->line, row->desc, a.head);
	ck_assert_msg(strstr(a.head, "Cache-Control: no-store\r\n") != NULL,
	              "line %d: %s: no Cache-Control: no-store", row->line, row->desc);
	ck_assert_msg(!row->header || strstr(a.head, row->header) != NULL,
	              "line %d: %s: no header %s in %s", row->line, row->desc, row->header, a.head);
	ck_assert_msg(strcmp(a.body, row->want) == 0, "line %d: %s: body \"%s\", want \"%s\"",
	              row->line, row->desc, unit_show(a.body, a.body_len, shown, sizeof(shown)),
	              row->want);
	answer_free(&a);
}

/* ---- without a store ---- */

static const struct serve_row storeless_rows[] = {
	{ __LINE__, { { 0 } }, "GET", "/nothing/here", NULL, 0, 404, JSON,
	  ERR("Endpoint not found",
	      "No endpoint answers this path; check the URL against the API documentation."),
	  "no route: 404" },
	{ __LINE__, { { 0 } }, "GET", "/next", NULL, 0, 404, NULL,
	  ERR("Endpoint not found",
	      "No endpoint answers this path; check the URL against the API documentation."),
	  "a pattern's literal alone is no match" },
	{ __LINE__, { { 0 } }, "DELETE", "/next/a", NULL, 0, 405, "Allow: GET, POST\r\n",
	  ERR("Method not allowed", "Allowed methods: GET, POST."), "405 lists the row's methods" },
	{ __LINE__, { { 0 } }, "POST", "/api/admin/sequences/a", NULL, 0, 405,
	  "Allow: GET, HEAD, PUT, DELETE\r\n",
	  ERR("Method not allowed", "Allowed methods: GET, HEAD, PUT, DELETE."),
	  "405 joins the methods of every row the path matches" },
	{ __LINE__, { { 0 } }, "PATCH", "/health", NULL, 0, 405, "Allow: GET, HEAD\r\n",
	  ERR("Method not allowed", "Allowed methods: GET, HEAD."), "an unknown method" },
	{ __LINE__, { { 0 } }, "GET", "/next/", NULL, REQUEST_URI_MAX + 1, 414, JSON,
	  ERR("URI too long", "The request URI exceeds 8192 bytes."), "a URI past the limit" },
	{ __LINE__, { { 0 } }, "GET", NULL, NULL, 0, 400, JSON,
	  ERR("Bad request", "The request could not be parsed (URI or Content-Length)."),
	  "no REQUEST_URI" },
	{ __LINE__, { { 0 } }, "GET", "/next/a", NULL, 0, 503, JSON,
	  ERR("Store unavailable", "The store cannot be opened; the reason is in the service log."),
	  "an endpoint that needs the store, without one" },
	{ __LINE__, { { 0 } }, "PUT", "/api/admin/sequences/a", "{}", 0, 503, JSON,
	  ERR("Store unavailable", "The store cannot be opened; the reason is in the service log."),
	  "the store comes before the admin token and the body" },
	{ __LINE__, { { 0 } }, "GET", "/health/live", NULL, 0, 200, JSON, "{\"status\":\"live\"}\n",
	  "an endpoint that needs no store" },
	{ __LINE__, { { 0 } }, "HEAD", "/health/live", NULL, 0, 200, "Content-Length: 18\r\n", "",
	  "HEAD: the headers only" },
	{ __LINE__, { { 0 } }, "GET", "/health/ready", NULL, 0, 503, JSON,
	  ERR("Store unavailable", "The store does not answer; the reason is in the service log."),
	  "not ready without a store" },
	{ __LINE__, { { 0 } }, "GET", "/api/types", NULL, 0, 200, JSON,
	  "{\"availableTypes\":[\"int\",\"long\",\"uuid8\",\"uuid12\",\"uuid16\",\"uuid22\"],"
	  "\"description\":{\"int\":\"Sequential 32-bit integer (1 to 2,147,483,647)\","
	  "\"long\":\"Sequential 64-bit integer (1 to 9,223,372,036,854,775,807)\","
	  "\"uuid8\":\"Random 8-character alphanumeric string\","
	  "\"uuid12\":\"Random 12-character alphanumeric string\","
	  "\"uuid16\":\"Random 16-character alphanumeric string\","
	  "\"uuid22\":\"Random 22-character alphanumeric string\"}}\n",
	  "the types need no store" },
};

static void storeless_setup(void)
{
	app.store = NULL;
	app.store_rc = STORE_UNAVAILABLE;
}

START_TEST(test_storeless)
{
	run_row(&storeless_rows[_i]);
}
END_TEST

START_TEST(test_storage_full)
{
	struct answer a;

	app.store_rc = STORE_FULL;
	serve("GET", "/api/next-id/a?dataType=int", NULL, 0, &a);
	ck_assert_int_eq(a.status, 503);
	ck_assert_str_eq(a.body, ERR("Storage full", "The disk that holds the store is full; nothing "
	                                             "was taken or changed. Free space on it: nextid "
	                                             "resumes by itself."));
	answer_free(&a);
}
END_TEST

/* The metrics count every answer under its endpoint: the row a path matched (a 405 too), or
 * "other" for no route and for a request that could not be parsed. */
START_TEST(test_metrics_endpoints)
{
	static const char *const want[] = {
		"nextid_requests_total{endpoint=\"other\",status=\"404\"} 2\n",
		"nextid_requests_total{endpoint=\"other\",status=\"400\"} 1\n",
		"nextid_requests_total{endpoint=\"/next/*\",status=\"405\"} 1\n",
		"nextid_requests_total{endpoint=\"/next/*\",status=\"503\"} 1\n",
	};
	const char *names[METRICS_ENDPOINTS];
	size_t n = router_endpoint_names(names, METRICS_ENDPOINTS);
	struct answer a;

	ck_assert_uint_lt(n, METRICS_ENDPOINTS);
	ck_assert_str_eq(names[0], "/next/*");
	ck_assert_str_eq(names[n - 1], "other");
	ck_assert_uint_eq(router_endpoint_names(names, 1), 1);
	serve("GET", "/nothing", NULL, 0, &a);
	answer_free(&a);
	serve("GET", "/next/a/b", NULL, 0, &a);
	answer_free(&a);
	serve("GET", NULL, NULL, 0, &a);
	answer_free(&a);
	serve("DELETE", "/next/a", NULL, 0, &a);
	answer_free(&a);
	serve("GET", "/next/a", NULL, 0, &a);
	answer_free(&a);
	serve("GET", "/metrics", NULL, 0, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_ptr_nonnull(strstr(a.head, "Content-Type: text/plain; version=0.0.4"));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(a.body, want[i]) != NULL, "no line %s", want[i]);
	answer_free(&a);
}
END_TEST

/* ---- over a store ---- */

#define NONE { { 0 } }
#define PUT_SEQ(name, body) { "PUT", "/api/admin/sequences/" name, body }
#define PREFIX(name) \
	{ "POST", "/api/v1/config/" name, "{\"format_template\":\"{prefix}-{counter}\"}" }
#define NOT_CONFIGURED(p) \
	ERR("prefix " p " not configured", "Configure it first with POST /api/v1/config/" p " (admin).")
#define MISMATCH(name, registered, wanted) \
	"{\"error\":\"Type mismatch\",\"message\":\"Entity '" name "' is registered as '" \
	registered "', cannot use '" wanted "'\",\"registeredType\":\"" registered "\"}\n"
#define IS_PREFIX(name) \
	ERR("Formatted prefix", "Sequence '" name "' is a formatted prefix: take its numbers from " \
	                        "/api/v1/next, which records each in the audit trail.")

static const struct serve_row store_rows[] = {
	/* /next, the TakeANumber API */
	{ __LINE__, NONE, "GET", "/next/n1", NULL, 0, 200, JSON,
	  "{\"next_value\":1,\"sequence_id\":\"n1\"}\n", "the first value of a new name" },
	{ __LINE__, NONE, "GET", "/next/n2?format=text", NULL, 0, 200,
	  "Content-Type: text/plain\r\n", "1\n", "as text" },
	{ __LINE__, { { "GET", "/api/next-id/n3?dataType=int", NULL } }, "GET", "/next/n3", NULL, 0,
	  200, JSON, "{\"next_value\":2,\"sequence_id\":\"n3\"}\n", "an int sequence serves too" },
	{ __LINE__, { PUT_SEQ("n4", "{\"type\":\"uuid8\"}") }, "GET", "/next/n4", NULL, 0, 400, JSON,
	  MISMATCH("n4", "uuid8", "long"), "a random-id sequence" },
	{ __LINE__, { PUT_SEQ("n5", "{\"max\":1}"), { "GET", "/next/n5", NULL } }, "GET", "/next/n5",
	  NULL, 0, 409, JSON,
	  ERR("Sequence exhausted",
	      "Sequence 'n5' reached its maximum; raise its max or enable cycle."),
	  "past max: the common wording" },
	{ __LINE__, { PREFIX("n6") }, "GET", "/next/n6", NULL, 0, 409, JSON, IS_PREFIX("n6"),
	  "a prefix" },
	/* the Sequence Service */
	{ __LINE__, NONE, "GET", "/api/status/s1", NULL, 0, 404, JSON,
	  ERR("Entity not found", "No entity is named 's1'."), "status of a name never used" },
	{ __LINE__, { { "GET", "/api/next-id/s2?dataType=int", NULL } }, "GET", "/api/status/s2",
	  NULL, 0, 200, JSON, "{\"entityName\":\"s2\",\"dataType\":\"int\",\"currentValue\":2}\n",
	  "status: an int's value is a number" },
	{ __LINE__, { { "GET", "/api/next-id/s3?dataType=long", NULL } }, "GET",
	  "/api/next-id/s3?dataType=uuid8", NULL, 0, 400, JSON,
	  MISMATCH("s3", "long", "uuid8"), "another type than the first use's" },
	{ __LINE__, { { "GET", "/api/next-id/s4?dataType=uuid8", NULL } }, "GET",
	  "/api/next-batch/s4?dataType=int&batchSize=2", NULL, 0, 400, JSON,
	  MISMATCH("s4", "uuid8", "int"), "a batch of another type than the registered one" },
	{ __LINE__, { PUT_SEQ("s5", "{\"type\":\"int\",\"max\":2}") }, "GET",
	  "/api/next-batch/s5?dataType=int&batchSize=3", NULL, 0, 409, JSON,
	  ERR("Integer overflow", "Entity 's5' cannot go past 2; nothing was consumed."),
	  "an int batch past max" },
	{ __LINE__, { PUT_SEQ("s6", "{\"max\":2}") }, "GET",
	  "/api/next-batch/s6?dataType=long&batchSize=3", NULL, 0, 409, JSON,
	  ERR("Long overflow", "Entity 's6' cannot go past 2; nothing was consumed."),
	  "a long batch past max" },
	{ __LINE__, { { "GET", "/api/next-id/s7?dataType=int", NULL } }, "GET",
	  "/api/next-batch/s7?dataType=int&batchSize=2", NULL, 0, 200, JSON,
	  "{\"entityName\":\"s7\",\"dataType\":\"int\",\"batchSize\":2,\"startValue\":2,"
	  "\"endValue\":3}\n",
	  "a batch" },
	{ __LINE__, { PREFIX("s8") }, "GET", "/api/next-id/s8?dataType=long", NULL, 0, 409, JSON,
	  IS_PREFIX("s8"), "a prefix" },
	{ __LINE__, { PREFIX("s9") }, "GET", "/api/status/s9", NULL, 0, 200, JSON,
	  "{\"entityName\":\"s9\",\"dataType\":\"long\",\"currentValue\":\"1\"}\n",
	  "status of a prefix, as an entity" },
	/* admin */
	{ __LINE__, NONE, "PUT", "/api/admin/sequences/a1", "{\"min\":5,\"max\":2}", 0, 400, JSON,
	  ERR("Invalid options", "min must not exceed max."), "options the store refuses" },
	{ __LINE__, NONE, "GET", "/api/admin/sequences/a2", NULL, 0, 404, JSON,
	  ERR("Sequence not found", "No sequence is named 'a2'."), "show: the common wording" },
	{ __LINE__, NONE, "DELETE", "/api/admin/sequences/a3", NULL, 0, 404, JSON,
	  ERR("Sequence not found", "No sequence is named 'a3'."), "delete: the common wording" },
	{ __LINE__, NONE, "POST", "/api/admin/sequences/a4/next", "{\"next\":3}", 0, 404, JSON,
	  ERR("Sequence not found", "No sequence is named 'a4'."), "set next of no sequence" },
	{ __LINE__, { PUT_SEQ("a5", "{\"type\":\"uuid8\"}") }, "POST",
	  "/api/admin/sequences/a5/next", "{\"next\":3}", 0, 400, JSON,
	  ERR("Invalid options", "A random-id sequence has no next value to set."),
	  "set next of a random-id sequence" },
	{ __LINE__, { { "GET", "/next/a6", NULL } }, "GET", "/api/admin/sequences/a6", NULL, 0, 200,
	  JSON,
	  "{\"name\":\"a6\",\"type\":\"long\",\"next\":\"2\",\"increment\":\"1\",\"min\":\"1\","
	  "\"max\":\"9223372036854775807\",\"cycle\":false,\"cache\":0,\"exhausted\":false}\n",
	  "show: a long's counters are strings" },
	{ __LINE__, NONE, "PUT", "/api/admin/sequences/a7", "{\"type\":\"int\",\"max\":9}", 0, 201,
	  JSON,
	  "{\"name\":\"a7\",\"type\":\"int\",\"next\":1,\"increment\":1,\"min\":1,\"max\":9,"
	  "\"cycle\":false,\"cache\":0,\"exhausted\":false}\n",
	  "create: 201, an int's counters are numbers" },
	{ __LINE__, { PUT_SEQ("a8", "{\"type\":\"uuid12\"}") }, "GET", "/api/admin/sequences/a8",
	  NULL, 0, 200, JSON,
	  "{\"name\":\"a8\",\"type\":\"uuid12\",\"next\":null,\"increment\":null,\"min\":null,"
	  "\"max\":null,\"cycle\":false,\"cache\":0,\"exhausted\":false}\n",
	  "show: a random-id type has no counters" },
	{ __LINE__, { PUT_SEQ("a9", "{\"type\":\"uuid12\"}") }, "DELETE", "/api/admin/sequences/a9",
	  NULL, 0, 200, JSON, "{\"name\":\"a9\",\"deleted\":true}\n", "delete" },
	{ __LINE__, NONE, "PUT", "/api/admin/sequences/aa", "{\"start\":\"x\",\"color\":1}", 0, 400,
	  JSON,
	  ERR("Invalid field", "Numbers must be whole numbers, as JSON numbers or strings of digits."),
	  "a bad value before an unknown field" },
	/* formatted prefixes */
	{ __LINE__, NONE, "GET", "/api/v1/status/p1", NULL, 0, 404, JSON, NOT_CONFIGURED("p1"),
	  "status of no prefix" },
	{ __LINE__, { { "GET", "/next/p2", NULL } }, "GET", "/api/v1/config/p2", NULL, 0, 404, JSON,
	  NOT_CONFIGURED("p2"), "a plain sequence is no prefix" },
	{ __LINE__, NONE, "GET", "/api/v1/next/p3", NULL, 0, 404, JSON, NOT_CONFIGURED("p3"),
	  "a number of no prefix" },
	{ __LINE__, NONE, "POST", "/api/v1/batch/p4", "{\"count\":3}", 0, 404, JSON,
	  NOT_CONFIGURED("p4"), "a batch of no prefix" },
	{ __LINE__, NONE, "GET", "/api/v1/audit/p5", NULL, 0, 404, JSON, NOT_CONFIGURED("p5"),
	  "the audit of no prefix" },
	{ __LINE__, NONE, "POST", "/api/v1/reset/p6", "{\"set_to\":1}", 0, 404, JSON,
	  NOT_CONFIGURED("p6"), "a reset of no prefix" },
	{ __LINE__, NONE, "POST", "/api/v1/config/p7", "{\"timezone\":\"Mars/Olympus\"}", 0, 400,
	  JSON,
	  ERR("Invalid configuration",
	      "timezone is not a known IANA time zone, such as Europe/Berlin or UTC."),
	  "a configuration the store refuses" },
	{ __LINE__, { PUT_SEQ("p8", "{\"type\":\"int\"}") }, "POST", "/api/v1/config/p8",
	  "{\"format_template\":\"{counter}\"}", 0, 400, JSON,
	  ERR("Invalid configuration",
	      "Only a long sequence counting up by 1 from 1 can become a prefix."),
	  "an int sequence cannot become a prefix" },
	{ __LINE__, { PREFIX("p9"), { "POST", "/api/v1/batch/p9", "{\"count\":3}" } }, "POST",
	  "/api/v1/reset/p9", "{\"set_to\":1}", 0, 400, JSON,
	  ERR("Invalid reset", "set_to is below the current counter, which would issue numbers "
	                       "again; send \\\"force\\\":true if that is what you want."),
	  "a reset the store refuses" },
	{ __LINE__, { PREFIX("pa") }, "POST", "/api/v1/reset/pa", "{\"set_to\":-1}", 0, 400, JSON,
	  ERR("Invalid field", "set_to must be a whole number from 0."), "a reset below 0" },
	{ __LINE__, { PREFIX("pb"), { "POST", "/api/v1/reset/pb", "{\"set_to\":6}" } }, "GET",
	  "/api/v1/status/pb", NULL, 0, 200, JSON,
	  "{\"prefix\":\"pb\",\"current_counter\":6,\"next_counter\":7,\"db_healthy\":true,"
	  "\"last_audit_counter\":0}\n",
	  "status: the store is asked whether it is healthy" },
};

START_TEST(test_with_store)
{
	run_row(&store_rows[_i]);
}
END_TEST

/* Without the admin token: 401 and the scheme to use, before the body is read. */
START_TEST(test_unauthorized)
{
	struct answer a;

	serve("PUT", "/api/admin/sequences/u1", "{\"max\":", 0, &a);
	ck_assert_int_eq(a.status, 401);
	ck_assert_ptr_nonnull(strstr(a.head, "WWW-Authenticate: Bearer\r\n"));
	ck_assert_str_eq(a.body, ERR("Unauthorized", "Send the admin token as \\\"Authorization: "
	                                             "Bearer <admin_token>\\\"."));
	answer_free(&a);
}
END_TEST

/* /api/v1/status reports the store's health check, not a constant: a store whose check fails
 * (its schema key removed underneath it) still serves the prefix, with "db_healthy": false. */
START_TEST(test_status_reports_the_health_check)
{
	static const char prefix[] = "{\"prefix\":\"h\",\"current_counter\":0,\"next_counter\":1,"
	                             "\"db_healthy\":%s,\"last_audit_counter\":0}\n";
	struct store_options own = opt;
	struct store *shared = app.store;
	DBT key = { .data = "schema", .size = 6 };
	char path[sizeof(base_dir) + 16], want[256];
	struct answer a;

	snprintf(path, sizeof(path), "%s/unhealthy", base_dir);
	own.data_dir = path;
	ck_assert_int_eq(store_recover(&own), STORE_OK);
	ck_assert_int_eq(store_open(&own, &app.store), STORE_OK);
	serve("POST", "/api/v1/config/h", "{\"format_template\":\"{prefix}-{counter}\"}", 1, &a);
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);
	serve("GET", "/api/v1/status/h", NULL, 0, &a);
	snprintf(want, sizeof(want), prefix, "true");
	ck_assert_str_eq(a.body, want);
	answer_free(&a);
	ck_assert_int_eq(app.store->meta->del(app.store->meta, NULL, &key, 0), 0);
	serve("GET", "/api/v1/status/h", NULL, 0, &a);
	ck_assert_int_eq(a.status, 200);
	snprintf(want, sizeof(want), prefix, "false");
	ck_assert_str_eq(a.body, want);
	answer_free(&a);
	store_close(app.store);
	app.store = shared;
}
END_TEST

/* ---- fixtures ---- */

/* Unchecked: once, in the runner's process. The store is created here and closed again, so that
 * each row (a forked child) opens its own handle: a handle never crosses fork(). */
static void base_setup(void)
{
	struct store *st = NULL;

	log_setup(LOG_ERROR, "test");
	if (scratch_make(base_dir, sizeof(base_dir), "test-router") != 0) {
		perror("scratch_make");
		exit(EXIT_FAILURE);
	}
	config_defaults(&cfg);
	snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s/data", base_dir);
	snprintf(cfg.admin_token, sizeof(cfg.admin_token), "%s", TOKEN);
	store_options_init(&opt, cfg.data_dir);
	opt.durability = STORE_DURABILITY_WRITE;
	opt.log = log_sink;
	if (!(sb = scoreboard_open()) || !(app.gen = respond_json_generator()) ||
	    store_recover(&opt) != STORE_OK || store_open(&opt, &st) != STORE_OK) {
		fprintf(stderr, "cannot set up the store in %s\n", base_dir);
		exit(EXIT_FAILURE);
	}
	store_close(st);
	app.cfg = &cfg;
	app.sb = sb;
	app.slot = &sb->slots[0];
	atomic_store(&sb->gen_seeded, 1);
}

static void base_teardown(void)
{
	scratch_remove(base_dir);
	yajl_gen_free(app.gen);
	scoreboard_close(sb);
}

/* Checked: in each row's process. Counters start at zero, so a row's metrics are its own. */
static void store_setup(void)
{
	memset(&app.slot->m, 0, sizeof(app.slot->m));
	opt.stats = &app.slot->m.store;
	app.store_rc = store_open(&opt, &app.store);
	ck_assert_int_eq(app.store_rc, STORE_OK);
}

static void store_teardown(void)
{
	store_close(app.store);
	app.store = NULL;
}

static void metrics_setup(void)
{
	memset(&app.slot->m, 0, sizeof(app.slot->m));
	storeless_setup();
}

int main(void)
{
	Suite *suite = suite_create("router");
	TCase *none = tcase_create("without a store");
	TCase *with = tcase_create("with a store");

	tcase_add_unchecked_fixture(none, base_setup, base_teardown);
	tcase_add_checked_fixture(none, metrics_setup, NULL);
	UNIT_TABLE(none, test_storeless, storeless_rows);
	tcase_add_test(none, test_storage_full);
	tcase_add_test(none, test_metrics_endpoints);
	suite_add_tcase(suite, none);
	tcase_add_unchecked_fixture(with, base_setup, base_teardown);
	tcase_add_checked_fixture(with, store_setup, store_teardown);
	tcase_set_timeout(with, 60);
	UNIT_TABLE(with, test_with_store, store_rows);
	tcase_add_test(with, test_unauthorized);
	tcase_add_test(with, test_status_reports_the_health_check);
	suite_add_tcase(suite, with);
	return unit_run(suite);
}
