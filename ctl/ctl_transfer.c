/*
 * ctl_transfer: export and import as JSON lines, one sequence per line:
 *   {"name":"inv","type":"long","next":"42","increment":"1","min":"1","max":"9223372036854775807",
 *    "cycle":false,"cache":0,"exhausted":false}
 * Counter fields follow the Sequence Service's convention (JSON numbers for int, strings of digits
 * for long, null for random-id types); import accepts numbers or strings for either. When a
 * sequence is exhausted, "next" holds the last value it issued. Import is all or nothing.
 */
#include "ctl.h"
#include "name.h"
#include "numparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define IMPORT_LINE_MAX 65536

struct export_ctx {
	yajl_gen gen;
	FILE *out;
	int failed;
};

static void gen_str(struct export_ctx *e, const char *s, size_t len)
{
	e->failed |= yajl_gen_string(e->gen, (const unsigned char *)s, len) != yajl_gen_status_ok;
}

static void gen_counter(struct export_ctx *e, const struct seq_record *rec, int64_t v)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%lld", (long long)v);

	if (record_type_max(rec->type) == 0)
		e->failed |= yajl_gen_null(e->gen) != yajl_gen_status_ok;
	else if (rec->type == RECORD_TYPE_INT)
		e->failed |= yajl_gen_integer(e->gen, v) != yajl_gen_status_ok;
	else
		gen_str(e, digits, (size_t)n);
}

static int export_one(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	struct export_ctx *e = ctx;
	const char *type = record_type_name(rec->type);
	const unsigned char *buf;
	size_t buf_len;

	yajl_gen_clear(e->gen);
	yajl_gen_reset(e->gen, NULL);
	e->failed |= yajl_gen_map_open(e->gen) != yajl_gen_status_ok;
	gen_str(e, "name", 4), gen_str(e, name, len);
	gen_str(e, "type", 4), gen_str(e, type, strlen(type));
	gen_str(e, "next", 4), gen_counter(e, rec, rec->next);
	gen_str(e, "increment", 9), gen_counter(e, rec, rec->increment);
	gen_str(e, "min", 3), gen_counter(e, rec, rec->min);
	gen_str(e, "max", 3), gen_counter(e, rec, rec->max);
	gen_str(e, "cycle", 5);
	e->failed |= yajl_gen_bool(e->gen, rec->flags & RECORD_FLAG_CYCLE) != yajl_gen_status_ok;
	gen_str(e, "cache", 5);
	e->failed |= yajl_gen_integer(e->gen, rec->cache) != yajl_gen_status_ok;
	gen_str(e, "exhausted", 9);
	e->failed |= yajl_gen_bool(e->gen, rec->flags & RECORD_FLAG_EXHAUSTED) != yajl_gen_status_ok;
	e->failed |= yajl_gen_map_close(e->gen) != yajl_gen_status_ok;
	if (e->failed || yajl_gen_get_buf(e->gen, &buf, &buf_len) != yajl_gen_status_ok)
		return 1;
	fwrite(buf, 1, buf_len, e->out);
	fputc('\n', e->out);
	return 0;
}

int ctl_export(struct ctl *c, int argc, char **argv)
{
	struct export_ctx e = { .out = c->out };
	int rc;

	if (argc > 1)
		return ctl_fail(CTL_USAGE, "usage: nextidctl export [FILE]");
	if (argc == 1 && !(e.out = fopen(argv[0], "w")))
		return ctl_fail(CTL_FAIL, "export: cannot write %s: %s", argv[0], strerror(errno));
	e.gen = yajl_gen_alloc(NULL);
	if (!e.gen)
		return ctl_fail(CTL_FAIL, "export: out of memory");
	yajl_gen_config(e.gen, yajl_gen_validate_utf8, 1);
	rc = store_list(c->store, NULL, 0, 0, export_one, &e);
	yajl_gen_free(e.gen);
	if (e.out != c->out && fclose(e.out) != 0)
		e.failed = 1;
	if (rc != STORE_OK || e.failed)
		return ctl_store_fail(c, "export failed");
	return CTL_OK;
}

/* A counter field: a JSON integer or a string of digits. */
static int read_number(yajl_val v, int64_t *out)
{
	const char *s = YAJL_GET_STRING(v), *why;

	if (YAJL_IS_INTEGER(v)) {
		*out = YAJL_GET_INTEGER(v);
		return 0;
	}
	return s ? numparse_i64(s, strlen(s), INT64_MIN, INT64_MAX, out, &why) : -1;
}

static const char *const import_keys[] = { "name", "type", "next", "increment", "min", "max",
	                                   "cycle", "cache", "exhausted" };
#define IMPORT_KEYS (sizeof(import_keys) / sizeof(import_keys[0]))

/* Turn one parsed line into an item. Returns NULL, or what is wrong with it. */
static const char *line_to_item(yajl_val obj, struct store_item *it, char **name_copy)
{
	yajl_val f[IMPORT_KEYS] = { 0 };
	struct seq_record *rec = &it->rec;
	const char *name, *type_name;
	int64_t *counters[] = { &rec->next, &rec->increment, &rec->min, &rec->max };
	int64_t cache;

	if (!YAJL_IS_OBJECT(obj))
		return "not a JSON object";
	for (size_t i = 0; i < obj->u.object.len; i++) {
		size_t k = 0;

		while (k < IMPORT_KEYS && strcmp(import_keys[k], obj->u.object.keys[i]) != 0)
			k++;
		if (k == IMPORT_KEYS)
			return "an unknown field";
		if (f[k])
			return "a field given twice";
		f[k] = obj->u.object.values[i];
	}
	name = YAJL_GET_STRING(f[0]);
	type_name = YAJL_GET_STRING(f[1]);
	if (!name || name_check(name, strlen(name), &type_name) != 0)
		return "no valid name";
	if (!YAJL_GET_STRING(f[1]))
		return "no type";
	type_name = YAJL_GET_STRING(f[1]);
	record_init(rec, record_type_parse(type_name, strlen(type_name)), 1, (uint64_t)time(NULL));
	if (rec->type == 0)
		return "an unknown type";
	if (record_type_max(rec->type) != 0) {
		for (size_t k = 0; k < 4; k++)
			if (f[2 + k] && read_number(f[2 + k], counters[k]) != 0)
				return "a counter field that is not a whole number";
		if (!f[2])
			return "no next value";
	}
	if (f[6] && !YAJL_IS_TRUE(f[6]) && !YAJL_IS_FALSE(f[6]))
		return "cycle that is not true or false";
	if (f[8] && !YAJL_IS_TRUE(f[8]) && !YAJL_IS_FALSE(f[8]))
		return "exhausted that is not true or false";
	if (f[7] && (read_number(f[7], &cache) != 0 || cache < 0 || cache > 1000000))
		return "a cache that is not 0 to 1000000";
	rec->cache = f[7] ? (uint32_t)cache : 0;
	rec->flags = (uint16_t)((f[6] && YAJL_IS_TRUE(f[6]) ? RECORD_FLAG_CYCLE : 0) |
	                        (f[8] && YAJL_IS_TRUE(f[8]) ? RECORD_FLAG_EXHAUSTED : 0));
	if (record_check(rec) != RECORD_OK)
		return "options that break the rules (min, max, next or increment)";
	*name_copy = strdup(name);
	if (!*name_copy)
		return "no memory";
	it->name = *name_copy;
	it->len = strlen(name);
	return NULL;
}

struct import_set {
	struct store_item *items;
	char **names;
	size_t *lines;
	size_t n, cap;
};

static void import_set_free(struct import_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->items);
	free(s->names);
	free(s->lines);
}

static int import_set_grow(struct import_set *s)
{
	size_t cap = s->cap ? s->cap * 2 : 256;
	struct store_item *items = realloc(s->items, cap * sizeof(*items));
	char **names = items ? realloc(s->names, cap * sizeof(*names)) : NULL;
	size_t *lines = names ? realloc(s->lines, cap * sizeof(*lines)) : NULL;

	if (items)
		s->items = items;
	if (names)
		s->names = names;
	if (!lines)
		return -1;
	s->lines = lines;
	s->cap = cap;
	return 0;
}

/* Read every line of the file into s. Returns 0, or an exit status after saying which line. */
static int read_lines(FILE *f, const char *path, struct import_set *s)
{
	static char line[IMPORT_LINE_MAX + 2];
	size_t lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		const char *problem;
		yajl_val v;

		lineno++;
		if (len > IMPORT_LINE_MAX)
			return ctl_fail(CTL_FAIL, "import: %s:%zu: line longer than %d bytes", path,
			                lineno, IMPORT_LINE_MAX);
		if (strspn(line, " \t\r\n") == len)
			continue;
		if (s->n == s->cap && import_set_grow(s) != 0)
			return ctl_fail(CTL_FAIL, "import: out of memory");
		v = yajl_tree_parse(line, NULL, 0);
		problem = v ? line_to_item(v, &s->items[s->n], &s->names[s->n]) : "not valid JSON";
		yajl_tree_free(v);
		if (problem)
			return ctl_fail(CTL_FAIL, "import: %s:%zu: %s; nothing was imported", path,
			                lineno, problem);
		s->lines[s->n++] = lineno;
	}
	if (ferror(f))
		return ctl_fail(CTL_FAIL, "import: cannot read %s", path);
	return 0;
}

int ctl_import(struct ctl *c, int argc, char **argv)
{
	struct import_set s = { 0 };
	int force = argc == 2 && strcmp(argv[0], "--force") == 0;
	const char *path = argv[force], *why;
	size_t bad = 0;
	FILE *f;
	int rc;

	if (argc != 1 + force)
		return ctl_fail(CTL_USAGE, "usage: nextidctl import [--force] FILE");
	f = fopen(path, "r");
	if (!f)
		return ctl_fail(CTL_FAIL, "import: cannot read %s: %s", path, strerror(errno));
	rc = read_lines(f, path, &s);
	fclose(f);
	if (rc == 0) {
		int src = store_import(c->store, s.items, s.n, force, &bad, &why);

		if (src == STORE_INVALID)
			rc = ctl_fail(CTL_FAIL, "import: %s:%zu: %s Nothing was imported.", path,
			              s.lines[bad], why);
		else if (src != STORE_OK)
			rc = ctl_store_fail(c,
			              "import: the store refused the transaction (%s); nothing was "
			              "imported. A file of a few hundred thousand sequences is larger than "
			              "one transaction can hold: split it.",
			              store_rc_name(src));
		else
			fprintf(c->out, "import: %zu sequences\n", s.n);
	}
	import_set_free(&s);
	return rc;
}
