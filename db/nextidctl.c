/*
 * nextidctl: administer the store while the service runs. Every command opens the same
 * environment as the workers (never recovering it: that is the master's job) and performs one
 * store operation. Errors exit non-zero with one line on stderr.
 */
#include "config.h"
#include "name.h"
#include "numparse.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: nextidctl [--config FILE] COMMAND [ARGS]\n"
	"commands:\n"
	"  list                      every sequence: name, type, next value\n"
	"  show NAME                 one sequence's options\n"
	"  create NAME [--start N] [--increment N] [--min N] [--max N] [--cycle]\n"
	"  set NAME --next N         make N the next value issued\n"
	"  delete NAME               remove a sequence (its numbers may be issued again)\n";

static void log_to_stderr(void *ctx, int level, const char *file, int line, const char *msg)
{
	(void)ctx;
	(void)file;
	(void)line;
	if (level >= STORE_LOG_WARN)
		fprintf(stderr, "nextidctl: %s\n", msg);
}

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "nextidctl: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

/* True when name is valid; otherwise says why on stderr. */
static int check_name(const char *name)
{
	const char *why;

	if (name_check(name, strlen(name), &why) == 0)
		return 1;
	fprintf(stderr, "nextidctl: %s\n", why);
	return 0;
}

static int parse_i64_arg(const char *flag, const char *value, int64_t *out)
{
	const char *why;

	if (!value) {
		fail("%s needs a value", flag);
		return -1;
	}
	if (numparse_i64(value, strlen(value), INT64_MIN, INT64_MAX, out, &why) != 0) {
		fprintf(stderr, "nextidctl: %s '%s' %s\n", flag, value, why);
		return -1;
	}
	return 0;
}

static int print_entry(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	(void)ctx;
	if (rec->flags & RECORD_FLAG_EXHAUSTED)
		printf("%.*s\t%s\texhausted\n", (int)len, name, record_type_name(rec->type));
	else
		printf("%.*s\t%s\t%lld\n", (int)len, name, record_type_name(rec->type),
		       (long long)rec->next);
	return 0;
}

static int cmd_list(struct store *st, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return fail("%s", "list takes no arguments");
	return store_list(st, NULL, 0, 0, print_entry, NULL) == STORE_OK ? 0 : EXIT_FAILURE;
}

static int cmd_show(struct store *st, int argc, char **argv)
{
	struct seq_record rec;
	int rc;

	if (argc != 1 || !check_name(argv[0]))
		return fail("%s", "usage: show NAME");
	rc = store_get(st, argv[0], strlen(argv[0]), &rec);
	if (rc != STORE_OK)
		return fail("show: %s", store_rc_name(rc));
	printf("name: %s\ntype: %s\n", argv[0], record_type_name(rec.type));
	if (rec.flags & RECORD_FLAG_EXHAUSTED)
		printf("next: exhausted\n");
	else
		printf("next: %lld\n", (long long)rec.next);
	printf("increment: %lld\nmin: %lld\nmax: %lld\ncycle: %s\ncache: %u\n",
	       (long long)rec.increment, (long long)rec.min, (long long)rec.max,
	       rec.flags & RECORD_FLAG_CYCLE ? "yes" : "no", rec.cache);
	return 0;
}

/* The type comes first: it decides the default max. */
static uint8_t type_option(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--type") == 0)
			return record_type_parse(argv[i + 1], strlen(argv[i + 1]));
	return RECORD_TYPE_LONG;
}

static int cmd_create(struct store *st, int argc, char **argv)
{
	struct seq_record rec;
	uint8_t type;
	int start_given = 0, rc;

	if (argc < 1 || !check_name(argv[0]))
		return fail("%s", "usage: create NAME [--type T] [--start N] [--increment N] [--min N] "
		                  "[--max N] [--cycle]");
	type = type_option(argc, argv);
	if (type == 0)
		return fail("%s", "create: --type must be int, long, uuid8, uuid12, uuid16 or uuid22");
	record_init(&rec, type, 1, (uint64_t)time(NULL));
	for (int i = 1; i < argc; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		int64_t *field = NULL;

		if (strcmp(argv[i], "--cycle") == 0) {
			rec.flags |= RECORD_FLAG_CYCLE;
			continue;
		}
		if (strcmp(argv[i], "--type") == 0) {
			i++;
			continue;
		}
		if (strcmp(argv[i], "--start") == 0)
			field = &rec.next, start_given = 1;
		else if (strcmp(argv[i], "--increment") == 0)
			field = &rec.increment;
		else if (strcmp(argv[i], "--min") == 0)
			field = &rec.min;
		else if (strcmp(argv[i], "--max") == 0)
			field = &rec.max;
		else
			return fail("create: unknown option '%s'", argv[i]);
		if (parse_i64_arg(argv[i], value, field) != 0)
			return EXIT_FAILURE;
		i++;
	}
	/* Counting down starts at the top unless told otherwise. */
	if (!start_given)
		rec.next = rec.increment > 0 ? rec.min : rec.max;
	if (record_check(&rec) != RECORD_OK)
		return fail("%s", "create: the options are inconsistent (need 1 <= min <= start <= max "
		                  "<= the type's maximum, and an increment other than 0)");
	rc = store_create(st, argv[0], strlen(argv[0]), &rec);
	if (rc != STORE_OK)
		return fail("create: %s", store_rc_name(rc));
	return 0;
}

static int cmd_set(struct store *st, int argc, char **argv)
{
	int64_t next;
	int rc;

	if (argc != 3 || !check_name(argv[0]) || strcmp(argv[1], "--next") != 0)
		return fail("%s", "usage: set NAME --next N");
	if (parse_i64_arg("--next", argv[2], &next) != 0)
		return EXIT_FAILURE;
	rc = store_set_next(st, argv[0], strlen(argv[0]), next);
	if (rc == STORE_INVALID)
		return fail("%s", "set: the value lies outside the sequence's min and max");
	if (rc != STORE_OK)
		return fail("set: %s", store_rc_name(rc));
	return 0;
}

static int cmd_delete(struct store *st, int argc, char **argv)
{
	int rc;

	if (argc != 1 || !check_name(argv[0]))
		return fail("%s", "usage: delete NAME");
	rc = store_delete(st, argv[0], strlen(argv[0]));
	if (rc != STORE_OK)
		return fail("delete: %s", store_rc_name(rc));
	return 0;
}

struct command {
	const char *name;
	int (*run)(struct store *st, int argc, char **argv);
};

static const struct command commands[] = {
	{ "list", cmd_list },     { "show", cmd_show },     { "create", cmd_create },
	{ "set", cmd_set },       { "delete", cmd_delete },
};

int main(int argc, char **argv)
{
	const char *config_path = CONFIG_DEFAULT_PATH;
	char err[CONFIG_ERR_MAX];
	struct config cfg;
	struct store *st;
	int i = 1, rc;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--config") == 0) {
		if (argc < 3)
			return fail("%s", "--config needs a value");
		config_path = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		if (config_load(config_path, &cfg, err, sizeof(err)) != 0)
			return fail("%s", err);
		struct store_options opt;

		store_options_init(&opt, &cfg);
		opt.log = log_to_stderr;
		if (store_open(&opt, &st) != STORE_OK)
			return fail("cannot open the store in %s", cfg.data_dir);
		rc = commands[c].run(st, argc - i - 1, argv + i + 1);
		store_close(st);
		return rc;
	}
	fprintf(stderr, "nextidctl: unknown command '%s'\n", argv[i]);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}
