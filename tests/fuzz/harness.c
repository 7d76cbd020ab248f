/*
 * harness: one worker in one process, fed requests from memory, its answers checked against the
 * rules every endpoint keeps (API.md section 1). The request path is the real one; only the
 * FastCGI transport is replaced by two memory streams. What each target feeds it is the target's
 * business (fuzz_request.c, fuzz_json_body.c).
 */
#include "harness.h"
#include "config.h"
#include "exchange.h"
#include "log.h"
#include "memstream.h"
#include "respond.h"
#include "router.h"
#include "scratch.h"
#include "scoreboard.h"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_tree.h>

/* Requests between two fresh stores: a listing stays short, and the log files few. */
#define WIPE_EVERY 5000

/* ---- the worker's state ---- */

static struct config cfg;
static struct store_options opt;
static struct scoreboard *sb;
static struct app app;
static char base_dir[256];
static unsigned long served;
static int verbose; /* NEXTID_FUZZ_VERBOSE set: print every answer (to replay an input by hand) */

static void remove_base(void)
{
	scratch_remove(base_dir);
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz harness: %s failed (%s)\n", what, strerror(errno));
	exit(2);
}

/* A new, empty store in base_dir/data-N, recovered and opened. */
static void open_store(void)
{
	static unsigned generation;

	snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s/data-%u", base_dir, generation++);
	store_options_init(&opt, cfg.data_dir);
	opt.durability = (enum store_durability)cfg.durability;
	opt.log = log_sink;
	opt.stats = &app.slot->m.store;
	if (store_recover(&opt) != STORE_OK)
		die("store_recover");
	if (store_open(&opt, &app.store) != STORE_OK)
		die("store_open");
}

static void close_store(void)
{
	store_close(app.store);
	app.store = NULL;
	scratch_remove(cfg.data_dir);
}

/* What every fresh store starts with (harness.h), made through the request path itself. */
static void add_fixtures(void)
{
	static const struct {
		const char *method, *uri, *body;
	} steps[] = {
		{ "PUT", "/api/admin/sequences/s", "{\"type\":\"long\",\"max\":1000000}" },
		{ "PUT", "/api/admin/sequences/u", "{\"type\":\"uuid8\"}" },
		{ "POST", "/api/v1/config/P",
		  "{\"format_template\":\"{prefix}-{yyyy}-{counter:4}\",\"reset_rule\":\"yearly\","
		  "\"timezone\":\"Europe/Berlin\",\"admin_user\":\"fuzz\"}" },
		{ "POST", "/api/v1/batch/P", "{\"count\":3,\"client_id\":\"c\",\"generated_by\":\"g\"}" },
		{ "POST", "/api/v1/reset/P", "{\"set_to\":10,\"reason\":\"fixture\",\"force\":true}" },
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char method[32], uri[64], length[48];
		char auth[] = "HTTP_AUTHORIZATION=Bearer " HARNESS_TOKEN;
		char *envp[] = { method, uri, length, auth, NULL };
		size_t len = strlen(steps[i].body);
		int status;

		snprintf(method, sizeof(method), "REQUEST_METHOD=%s", steps[i].method);
		snprintf(uri, sizeof(uri), "REQUEST_URI=%s", steps[i].uri);
		snprintf(length, sizeof(length), "CONTENT_LENGTH=%zu", len);
		status = harness_serve(envp, (const uint8_t *)steps[i].body, len);
		if (status != 200 && status != 201) {
			fprintf(stderr, "fuzz harness: fixture %s %s answered %d\n", steps[i].method,
			        steps[i].uri, status);
			exit(2);
		}
	}
}

void harness_init(void)
{
	if (app.gen)
		return;
	verbose = getenv("NEXTID_FUZZ_VERBOSE") != NULL;
	/* Only errors: a fuzzer run makes millions of requests. */
	log_setup(LOG_ERROR, "fuzz");
	if (scratch_make(base_dir, sizeof(base_dir), "fuzz") != 0)
		die("scratch_make");
	atexit(remove_base);
	config_defaults(&cfg);
	cfg.durability = CONFIG_DURABILITY_WRITE; /* no fsync per request: speed, same code paths */
	cfg.shard_id = 7;
	snprintf(cfg.admin_token, sizeof(cfg.admin_token), "%s", HARNESS_TOKEN);
	if (!(sb = scoreboard_open()))
		die("scoreboard_open");
	app.cfg = &cfg;
	app.sb = sb;
	app.slot = &sb->slots[0];
	atomic_store(&app.slot->pid, 1);
	atomic_store(&app.slot->state, SLOT_SERVING);
	atomic_store(&app.slot->role, SLOT_ROLE_WORKER);
	/* A fresh store has no mark: the generator starts at zero, as the master seeds it. */
	atomic_store(&sb->gen_seeded, 1);
	if (!(app.gen = respond_json_generator()))
		die("respond_json_generator");
	open_store();
	add_fixtures();
}

int harness_maybe_wipe(void)
{
	if (served < WIPE_EVERY)
		return 0;
	served = 0;
	close_store();
	open_store();
	add_fixtures();
	return 1;
}

/* ---- checking an answer ---- */

struct answer {
	int status;
	const char *type, *allow, *cache, *authenticate;
	size_t type_len, allow_len, cache_len, authenticate_len;
	int has_length;
	uint64_t length;
	const unsigned char *body;
	size_t body_len;
};

static void dump(FILE *f, const char *label, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	fprintf(f, "%s (%zu bytes): \"", label, len);
	for (size_t i = 0; i < len && i < 4096; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '"' && p[i] != '\\')
			fputc(p[i], f);
		else
			fprintf(f, "\\x%02x", p[i]);
	}
	fprintf(f, "%s\"\n", len > 4096 ? "..." : "");
}

static char *const *failing_envp;
static const struct memstream *failing_out;

/* A broken rule: say which, show the request and the answer, and crash for libFuzzer. */
static void broken(const char *rule)
{
	fprintf(stderr, "\n==== nextid fuzz: broken rule: %s\n", rule);
	for (char *const *e = failing_envp; e && *e; e++)
		dump(stderr, "param", *e, strlen(*e));
	if (failing_out)
		dump(stderr, "answer", failing_out->buf, failing_out->len);
	abort();
}

static int header_is(const unsigned char *line, size_t len, const char *name, const char **value,
                     size_t *value_len)
{
	size_t n = strlen(name);

	if (len < n + 2 || strncasecmp((const char *)line, name, n) != 0 || line[n] != ':' ||
	    line[n + 1] != ' ')
		return 0;
	*value = (const char *)line + n + 2;
	*value_len = len - n - 2;
	return 1;
}

/* Split the answer into its status, the headers we check and the body. */
static void parse_answer(const struct memstream *out, struct answer *a)
{
	const unsigned char *p = out->buf, *end = out->buf + out->len;
	const char *v;
	size_t vlen;

	memset(a, 0, sizeof(*a));
	if (out->len < 12 || memcmp(p, "Status: ", 8) != 0)
		broken("an answer starts with \"Status: NNN\"");
	for (int i = 8; i < 11; i++) {
		if (p[i] < '0' || p[i] > '9')
			broken("the status is three digits");
		a->status = a->status * 10 + (p[i] - '0');
	}
	for (;;) {
		const unsigned char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t len;

		if (!eol)
			broken("the headers end with an empty line");
		len = (size_t)(eol - p);
		if (len == 0) {
			p = eol + 2;
			break;
		}
		if (header_is(p, len, "Content-Type", &v, &vlen)) {
			a->type = v;
			a->type_len = vlen;
		} else if (header_is(p, len, "Allow", &v, &vlen)) {
			a->allow = v;
			a->allow_len = vlen;
		} else if (header_is(p, len, "Cache-Control", &v, &vlen)) {
			a->cache = v;
			a->cache_len = vlen;
		} else if (header_is(p, len, "WWW-Authenticate", &v, &vlen)) {
			a->authenticate = v;
			a->authenticate_len = vlen;
		} else if (header_is(p, len, "Content-Length", &v, &vlen)) {
			a->has_length = 1;
			for (size_t i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9' || i > 9)
					broken("Content-Length is a number");
				a->length = a->length * 10 + (uint64_t)(v[i] - '0');
			}
		}
		p = eol + 2;
	}
	a->body = p;
	a->body_len = (size_t)(end - p);
}

static int is(const char *s, size_t len, const char *want)
{
	return s && len == strlen(want) && memcmp(s, want, len) == 0;
}

/* Does the comma-separated Allow list name the method? */
static int allow_lists(const struct answer *a, const char *method)
{
	size_t n = strlen(method);

	/* A method with a separator in it ("HEAD, POST") is no item of the list, whatever it spells. */
	if (n == 0 || strpbrk(method, ", ") != NULL)
		return 0;
	for (size_t i = 0; i + n <= a->allow_len; i++)
		if ((i == 0 || a->allow[i - 1] == ' ') && memcmp(a->allow + i, method, n) == 0 &&
		    (i + n == a->allow_len || a->allow[i + n] == ','))
			return 1;
	return 0;
}

/* The JSON body: valid UTF-8 JSON ending in a newline; an error is {"error":..,"message":..,...}
 * and a success an object. */
static void check_json(const struct answer *a)
{
	char errbuf[256];
	char *text;
	yajl_val v;

	if (a->body_len == 0 || a->body[a->body_len - 1] != '\n')
		broken("a JSON body ends with a newline");
	if (memchr(a->body, '\0', a->body_len))
		broken("a JSON body holds no NUL byte");
	text = malloc(a->body_len + 1);
	if (!text)
		die("malloc");
	memcpy(text, a->body, a->body_len);
	text[a->body_len] = '\0';
	v = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	free(text);
	if (!v)
		broken("a JSON body parses (yajl_tree_parse)");
	if (!YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		broken("a JSON body is an object");
	}
	if (a->status >= 400 &&
	    (v->u.object.len < 2 || strcmp(v->u.object.keys[0], "error") != 0 ||
	     strcmp(v->u.object.keys[1], "message") != 0 || !YAJL_IS_STRING(v->u.object.values[0]) ||
	     !YAJL_IS_STRING(v->u.object.values[1]) || !*YAJL_GET_STRING(v->u.object.values[0]) ||
	     !*YAJL_GET_STRING(v->u.object.values[1]))) {
		yajl_tree_free(v);
		broken("an error body starts with \"error\" and \"message\", both non-empty strings");
	}
	yajl_tree_free(v);
}

static const char prometheus_type[] = "text/plain; version=0.0.4; charset=utf-8";

static void check_answer(const struct exchange *x, const char *method, const struct memstream *out)
{
	static const int statuses[] = { 200, 201, 400, 401, 403, 404, 405, 409, 413, 414, 503 };
	struct answer a;
	int known = 0, head = x->req.method == REQUEST_HEAD;

	if (x->status == 0)
		broken("every request gets an answer");
	parse_answer(out, &a);
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		known |= statuses[i] == a.status;
	if (a.status == 500)
		broken("never a 500");
	/* One process, a healthy store, nobody else holding a lock: a 503 here is a store failure
	 * that some input provoked, as bad as a 500. Except the documented answer to the machine's
	 * clock stepping back during the run, which no input causes. */
	if (a.status == 503 && !memmem(a.body, a.body_len, "\"Clock moved backwards\"", 23))
		broken("no 503 from a healthy store with one client");
	if (!known)
		broken("the status is one API.md section 1 names");
	if (a.status != x->status)
		broken("the Status line is the status respond recorded");
	if (!a.type)
		broken("every answer has a Content-Type");
	if (!is(a.cache, a.cache_len, "no-store"))
		broken("every answer has Cache-Control: no-store");
	if (!a.has_length)
		broken("every answer has a Content-Length");
	if (head ? a.body_len != 0 : a.body_len != a.length)
		broken("exactly one answer: the body is Content-Length bytes (none for HEAD)");
	if (a.status == 405) {
		if (!a.allow || a.allow_len == 0)
			broken("a 405 has an Allow header");
		if (allow_lists(&a, method))
			broken("a 405 does not allow the method it refused");
	}
	if (a.status == 401 && !is(a.authenticate, a.authenticate_len, "Bearer"))
		broken("a 401 has WWW-Authenticate: Bearer");
	if (x->issued && a.status != 200)
		broken("values are issued only in a 200");
	if (x->issued && head)
		broken("HEAD never issues a value");
	if (is(a.type, a.type_len, "application/json")) {
		if (!head)
			check_json(&a);
	} else if (is(a.type, a.type_len, "text/plain") || is(a.type, a.type_len, prometheus_type)) {
		if (a.status != 200)
			broken("errors are JSON, never text");
	} else {
		broken("the Content-Type is JSON, text/plain or Prometheus text");
	}
}

/* Serve as the worker does (router_serve), with the answer going to memory and checked. */
int harness_serve(char *const *envp, const uint8_t *body, size_t len)
{
	struct memstream in, out;
	struct exchange x = { .app = &app, .in = memstream_input(&in, body, len),
		              .out = memstream_output(&out) };
	const char *method = request_param(envp, "REQUEST_METHOD");

	served++;
	router_serve(&x, envp);
	failing_envp = envp;
	failing_out = &out;
	if (verbose)
		dump(stderr, "answer", out.buf, out.len);
	check_answer(&x, method ? method : "", &out);
	failing_envp = NULL;
	failing_out = NULL;
	memstream_free(&out);
	return x.status;
}
