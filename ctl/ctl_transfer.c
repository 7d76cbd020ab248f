/*
 * ctl_transfer: export and import as JSON lines, one sequence per line:
 *   {"name":"inv","type":"long","next":"42","increment":"1","min":"1","max":"9223372036854775807",
 *    "cycle":false,"cache":0,"exhausted":false}
 * Counter fields follow the Sequence Service's convention (JSON numbers for int, strings of digits
 * for long, null for random-id types); import accepts numbers or strings for either. When a
 * sequence is exhausted, "next" holds the last value it issued. Import is all or nothing on one
 * node; under replication it is checked whole and then written in chunks (store_import).
 */
#include "ctl.h"
#include "name.h"

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

static const char *const import_keys[] = { "name", "type", "next", "increment", "min", "max",
	                                   "cycle", "cache", "exhausted" };
#define IMPORT_KEYS (sizeof(import_keys) / sizeof(import_keys[0]))

/* The options of a line, by index in import_keys, as record_change_set names them. */
static const char *const import_options[IMPORT_KEYS] = { NULL, "type", "start", "increment",
	                                                 "min", "max", "cycle", "cache", NULL };

/* What is wrong with a line: a phrase ("not valid JSON"), or a sentence of the record's rules. */
enum line_fault { LINE_OK, LINE_PHRASE, LINE_SENTENCE };

static enum line_fault phrase(const char **problem, const char *text)
{
	*problem = text;
	return LINE_PHRASE;
}

/* The line's options into ch: type first, then next (as start), increment, min and max for a
 * numeric type only (a random-id type's are null), cycle and cache. */
static enum line_fault line_change(yajl_val *f, struct record_change *ch, const char **problem)
{
	memset(ch, 0, sizeof(*ch));
	if (!YAJL_GET_STRING(f[1]))
		return phrase(problem, "no type");
	for (size_t k = 1; import_options[k]; k++) {
		int counter = k >= 2 && k <= 5;
		struct record_value v;

		if (!f[k] || (counter && record_type_max(ch->type) == 0))
			continue;
		/* yajl's YAJL_GET_INTEGER reads the union whatever the value is. */
		v = (struct record_value){ YAJL_GET_STRING(f[k]), YAJL_IS_INTEGER(f[k]),
			                   YAJL_IS_INTEGER(f[k]) ? YAJL_GET_INTEGER(f[k]) : 0,
			                   YAJL_IS_TRUE(f[k]) ? 1 : YAJL_IS_FALSE(f[k]) ? 0 : -1 };
		switch (record_change_set(ch, import_options[k], &v, problem)) {
		case RECORD_SET_OK:
			break;
		case RECORD_SET_NUMBER:
			return phrase(problem, "a counter field that is not a whole number");
		default:
			return LINE_SENTENCE;
		}
	}
	if (record_type_max(ch->type) != 0 && !f[2])
		return phrase(problem, "no next value");
	return LINE_OK;
}

/* Turn one parsed line into an item. Returns LINE_OK, or what is wrong with it in *problem. */
static enum line_fault line_to_item(yajl_val obj, struct store_item *it, char **name_copy,
                                    const char **problem)
{
	yajl_val f[IMPORT_KEYS] = { 0 };
	struct record_change ch;
	const char *name, *why;
	enum line_fault fault;
	int exhausted;

	if (!YAJL_IS_OBJECT(obj))
		return phrase(problem, "not a JSON object");
	for (size_t i = 0; i < obj->u.object.len; i++) {
		size_t k = 0;

		while (k < IMPORT_KEYS && strcmp(import_keys[k], obj->u.object.keys[i]) != 0)
			k++;
		if (k == IMPORT_KEYS)
			return phrase(problem, "an unknown field");
		if (f[k])
			return phrase(problem, "a field given twice");
		f[k] = obj->u.object.values[i];
	}
	name = YAJL_GET_STRING(f[0]);
	if (!name || name_check(name, strlen(name), &why) != 0)
		return phrase(problem, "no valid name");
	if ((fault = line_change(f, &ch, problem)) != LINE_OK)
		return fault;
	if (f[8] && !YAJL_IS_TRUE(f[8]) && !YAJL_IS_FALSE(f[8]))
		return phrase(problem, "exhausted that is not true or false");
	/* An exhausted sequence's next is the last value it issued, not one still to issue: it goes
	 * back in after the rules for a new record have been applied. */
	exhausted = YAJL_IS_TRUE(f[8]);
	if (exhausted)
		ch.fields &= ~RECORD_CHANGE_START;
	if (record_apply(&it->rec, &ch, 0, (uint64_t)time(NULL), problem) != RECORD_OK)
		return LINE_SENTENCE;
	if (exhausted && record_type_max(ch.type) != 0)
		it->rec.next = ch.start;
	if (exhausted)
		it->rec.flags |= RECORD_FLAG_EXHAUSTED;
	if (!(*name_copy = strdup(name)))
		return phrase(problem, "no memory");
	it->name = *name_copy;
	it->len = strlen(name);
	return LINE_OK;
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
		enum line_fault fault;
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
		problem = "not valid JSON";
		fault = v ? line_to_item(v, &s->items[s->n], &s->names[s->n], &problem) : LINE_PHRASE;
		yajl_tree_free(v);
		if (fault == LINE_PHRASE)
			return ctl_fail(CTL_FAIL, "import: %s:%zu: %s; nothing was imported", path,
			                lineno, problem);
		if (fault == LINE_SENTENCE)
			return ctl_fail(CTL_FAIL, "import: %s:%zu: %s Nothing was imported.", path,
			                lineno, problem);
		s->lines[s->n++] = lineno;
	}
	if (ferror(f))
		return ctl_fail(CTL_FAIL, "import: cannot read %s", path);
	return 0;
}

/* What an import that stopped says: nothing written (one node's single transaction, or a refusal
 * before any chunk), or which lines a replicated import wrote before a chunk failed. */
static int import_failed(struct ctl *c, const char *path, const struct import_set *s, int src,
                         size_t bad, const char *why, size_t written)
{
	if (src == STORE_INVALID && written == 0)
		return ctl_fail(CTL_FAIL, "import: %s:%zu: %s Nothing was imported.", path,
		                s->lines[bad], why);
	if (src == STORE_INVALID)
		return ctl_fail(CTL_FAIL,
		                "import: %s:%zu: %s The sequences of lines %zu to %zu were imported; "
		                "running the same import again is safe.",
		                path, s->lines[bad], why, s->lines[0], s->lines[written - 1]);
	if (written == 0 && store_replicated(&c->opt))
		return ctl_store_fail(c, "import: the store refused a transaction (%s); nothing was "
		                      "imported", store_rc_name(src));
	if (written == 0)
		return ctl_store_fail(c,
		              "import: the store refused the transaction (%s); nothing was "
		              "imported. A file of more than about a hundred thousand sequences is "
		              "larger than one transaction can hold: split it.",
		              store_rc_name(src));
	return ctl_store_fail(c,
	              "import: the store refused a transaction (%s) after the sequences of lines "
	              "%zu to %zu were imported; running the same import again is safe",
	              store_rc_name(src), s->lines[0], s->lines[written - 1]);
}

int ctl_import(struct ctl *c, int argc, char **argv)
{
	struct import_set s = { 0 };
	int force = argc == 2 && strcmp(argv[0], "--force") == 0;
	const char *path = argv[force], *why;
	size_t bad = 0, written = 0;
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
		int src = store_import(c->store, s.items, s.n, force, &bad, &why, &written);

		if (src != STORE_OK)
			rc = import_failed(c, path, &s, src, bad < s.n ? bad : 0, why, written);
		else
			fprintf(c->out, "import: %zu sequences\n", s.n);
	}
	import_set_free(&s);
	return rc;
}
