/*
 * store: the named sequences on a real Berkeley DB environment in a temporary directory. The
 * single-process behaviour is a script, a table of steps run in order on one fresh store, each
 * step naming its line; listing is a table of (after, limit) queries over one set of names; and
 * the promise that matters most, never a duplicate, is checked with several processes, each with
 * its own handle, drawing from one sequence at once.
 */
#include "config.h"
#include "record.h"
#include "store.h"
#include "store_int.h" /* the mark test writes a store from before the epoch was kept */
#include "unit.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- a temporary directory per test case, removed whatever the tests did ---- */

static char base_dir[64];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

/* Unchecked fixtures run in the runner's own process, so the directory goes even after a
 * failed or crashed test. */
static void base_setup(void)
{
	snprintf(base_dir, sizeof(base_dir), "/tmp/nextid-test-store-XXXXXX");
	if (!mkdtemp(base_dir)) {
		perror("mkdtemp");
		exit(EXIT_FAILURE);
	}
}

static void base_teardown(void)
{
	nftw(base_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void log_stderr(void *ctx, int level, const char *file, int line, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "  store log [%d] pid %d %s:%d: %s\n", level, (int)getpid(), file, line, msg);
}

/* Options for a store in base_dir/label (not created here). cfg must outlive opt. */
static void options(struct config *cfg, struct store_options *opt, const char *label,
                    int durability)
{
	config_defaults(cfg);
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s/%s", base_dir, label);
	store_options_init(opt, cfg->data_dir);
	opt->durability = (enum store_durability)durability;
	opt->log = log_stderr;
}

/* A fresh store in base_dir/label, created by store_recover and opened. */
static struct store *fresh(struct config *cfg, struct store_options *opt, const char *label,
                           int durability)
{
	struct store *st = NULL;

	options(cfg, opt, label, durability);
	ck_assert_int_eq(store_recover(opt), STORE_OK);
	ck_assert_int_eq(store_open(opt, &st), STORE_OK);
	ck_assert_ptr_nonnull(st);
	return st;
}

/* ---- store_options_init and store_rc_name ---- */

START_TEST(test_options_init)
{
	struct store_options opt;

	memset(&opt, 0x5a, sizeof(opt));
	store_options_init(&opt, "/srv/nextid");
	ck_assert_str_eq(opt.data_dir, "/srv/nextid");
	ck_assert_int_eq(opt.durability, STORE_DURABILITY_SYNC);
	ck_assert_uint_eq(opt.lock_timeout_ms, 500);
	ck_assert_int_eq(opt.reserve_size, 100);
	ck_assert_uint_eq(opt.max_sequences, 0);
	ck_assert_uint_eq(opt.hold_lock_ms, 0);
	ck_assert_int_eq(opt.self_recovering, 0);
	ck_assert_int_eq(opt.guest, 0);
	ck_assert_ptr_null(opt.stats);
	ck_assert_ptr_null(opt.log);
}
END_TEST

struct rc_name_row {
	int line;
	int rc;
	const char *name;
};

static const struct rc_name_row rc_name_rows[] = {
	{ __LINE__, STORE_OK, "ok" },
	{ __LINE__, STORE_NOT_FOUND, "not found" },
	{ __LINE__, STORE_EXISTS, "already exists" },
	{ __LINE__, STORE_EXHAUSTED, "exhausted" },
	{ __LINE__, STORE_TYPE_MISMATCH, "type mismatch" },
	{ __LINE__, STORE_INVALID, "invalid value" },
	{ __LINE__, STORE_BUSY, "busy" },
	{ __LINE__, STORE_UNAVAILABLE, "unavailable" },
	{ __LINE__, STORE_FULL, "storage full: the disk that holds the store has no room" },
	{ __LINE__, STORE_LIMIT, "too many sequences: max_sequences in nextid.conf is reached" },
	{ __LINE__, STORE_NO_MASTER,
	  "no master: this node is a replica, or an election is under way" },
	{ __LINE__, STORE_NOT_REPLICATED,
	  "not replicated: the other members did not acknowledge in time" },
	{ __LINE__, STORE_RC_COUNT, "unknown" },
	{ __LINE__, -1, "unknown" },
	{ __LINE__, 1000, "unknown" },
};

START_TEST(test_rc_name)
{
	const struct rc_name_row *row = &rc_name_rows[_i];
	const char *got = store_rc_name(row->rc);

	ck_assert_msg(got && strcmp(got, row->name) == 0, "line %d: rc %d: \"%s\", want \"%s\"",
	              row->line, row->rc, got ? got : "(null)", row->name);
}
END_TEST

/* ---- the script: one store, steps in order ---- */

enum op {
	NEXT,     /* store_next(name, type, create, count): first, last or bound */
	CREATE,   /* store_create(name, create) */
	GET,      /* store_get(name): next (unless exhausted), flags, type */
	SET_NEXT, /* set_next(name, value) */
	DELETE,   /* store_delete(name) */
	PING,     /* store_ping */
};

struct step {
	int line;
	enum op op;
	const char *name;
	size_t len; /* 0: strlen(name) */
	uint8_t type;
	const struct seq_record *create;
	uint64_t count;
	int64_t value; /* SET_NEXT */
	int rc;
	int64_t first, last; /* NEXT: the grant; GET: first is next */
	int64_t bound;       /* NEXT on STORE_EXHAUSTED */
	uint16_t flags;      /* GET */
	const char *desc;
};

#define REC(t, n, inc, lo, hi, fl)                                                           \
	{ .type = (t), .next = (n), .increment = (inc), .min = (lo), .max = (hi), .flags = (fl) }

/* Make `next` the next value issued, as `nextidctl set --next` does. */
static int set_next(struct store *st, const char *name, size_t len, int64_t next)
{
	struct record_change ch = { .fields = RECORD_CHANGE_START, .start = next };
	const char *why;

	return store_configure(st, name, len, &ch, STORE_CHANGE_ONLY, NULL, NULL, &why);
}

static const struct seq_record long_from_1 = REC(RECORD_TYPE_LONG, 1, 1, 1, INT64_MAX, 0);
static const struct seq_record long_from_100 = REC(RECORD_TYPE_LONG, 100, 1, 1, INT64_MAX, 0);
static const struct seq_record int_9_of_10 = REC(RECORD_TYPE_INT, 9, 1, 1, 10, 0);
static const struct seq_record down_from_3 = REC(RECORD_TYPE_LONG, 3, -1, 1, 10, 0);
static const struct seq_record cycle_1_to_3 = REC(RECORD_TYPE_INT, 1, 1, 1, 3, RECORD_FLAG_CYCLE);
static const struct seq_record near_max = REC(RECORD_TYPE_LONG, INT64_MAX - 2, 1, 1, INT64_MAX, 0);
static const struct seq_record by_1000 = REC(RECORD_TYPE_LONG, 1, 1000, 1, INT64_MAX, 0);
static const struct seq_record uuid8 = REC(RECORD_TYPE_UUID8, 0, 0, 0, 0, 0);
static const struct seq_record bad_increment = REC(RECORD_TYPE_LONG, 1, 0, 1, 10, 0);
static const struct seq_record bad_bounds = REC(RECORD_TYPE_LONG, 5, 1, 6, 5, 0);
static const struct seq_record bad_int_max = REC(RECORD_TYPE_INT, 1, 1, 1, INT64_MAX, 0);
static const struct seq_record bad_flags = REC(RECORD_TYPE_LONG, 1, 1, 1, 10, 0x0100);

#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define NAME200 X100 X100

#define EXH RECORD_FLAG_EXHAUSTED

static const struct step script[] = {
	{ __LINE__, PING, .rc = STORE_OK, .desc = "a fresh store answers" },

	/* create on first use */
	{ __LINE__, NEXT, "a", .count = 1, .rc = STORE_NOT_FOUND,
	  .desc = "a missing name without create" },
	{ __LINE__, GET, "a", .rc = STORE_NOT_FOUND, .desc = "get of a missing name" },
	{ __LINE__, NEXT, "a", .create = &long_from_1, .count = 1, .rc = STORE_OK, .first = 1,
	  .last = 1, .desc = "create on first use gives 1" },
	{ __LINE__, NEXT, "a", .create = &long_from_1, .count = 1, .rc = STORE_OK, .first = 2,
	  .last = 2, .desc = "then 2: create is ignored for an existing name" },
	{ __LINE__, NEXT, "a", .count = 1, .rc = STORE_OK, .first = 3, .last = 3,
	  .desc = "then 3 without create" },
	{ __LINE__, NEXT, "a", .count = 5, .rc = STORE_OK, .first = 4, .last = 8,
	  .desc = "a batch of 5 gives first and last" },
	{ __LINE__, GET, "a", .rc = STORE_OK, .first = 9, .flags = 0, .type = RECORD_TYPE_LONG,
	  .desc = "get shows the next value" },
	{ __LINE__, NEXT, "A", .count = 1, .rc = STORE_NOT_FOUND,
	  .desc = "names are case-sensitive" },
	{ __LINE__, NEXT, "a", 2, .count = 1, .rc = STORE_INVALID,
	  .desc = "the length counts: \"a\\0\" is a name with a control character, refused" },
	{ __LINE__, NEXT, "", 0, .count = 1, .rc = STORE_INVALID, .desc = "an empty name" },
	{ __LINE__, NEXT, "a/b", .count = 1, .rc = STORE_INVALID, .desc = "a name with '/'" },
	{ __LINE__, NEXT, "a", .type = RECORD_TYPE_LONG, .count = 1, .rc = STORE_OK, .first = 9,
	  .last = 9, .desc = "asking for the type it has" },
	{ __LINE__, NEXT, "a", .type = RECORD_TYPE_INT, .count = 1, .rc = STORE_TYPE_MISMATCH,
	  .desc = "asking for another type" },
	{ __LINE__, NEXT, "a", .count = 0, .rc = STORE_INVALID, .desc = "count 0" },
	{ __LINE__, GET, "a", .rc = STORE_OK, .first = 10, .type = RECORD_TYPE_LONG,
	  .desc = "refused calls consumed nothing" },

	/* create */
	{ __LINE__, CREATE, "a", .create = &long_from_1, .rc = STORE_EXISTS,
	  .desc = "create of an existing name" },
	{ __LINE__, GET, "a", .rc = STORE_OK, .first = 10, .type = RECORD_TYPE_LONG,
	  .desc = "a refused create changed nothing" },
	{ __LINE__, CREATE, "b", .create = &long_from_100, .rc = STORE_OK,
	  .desc = "create with a start" },
	{ __LINE__, NEXT, "b", .count = 1, .rc = STORE_OK, .first = 100, .last = 100,
	  .desc = "the start is the first value" },
	{ __LINE__, CREATE, "bad", .create = &bad_increment, .rc = STORE_INVALID,
	  .desc = "increment 0" },
	{ __LINE__, CREATE, "bad", .create = &bad_bounds, .rc = STORE_INVALID, .desc = "min > max" },
	{ __LINE__, CREATE, "bad", .create = &bad_int_max, .rc = STORE_INVALID,
	  .desc = "an int past 2^31-1" },
	{ __LINE__, CREATE, "bad", .create = &bad_flags, .rc = STORE_INVALID,
	  .desc = "an unknown flag" },
	{ __LINE__, GET, "bad", .rc = STORE_NOT_FOUND, .desc = "refused creates left nothing" },
	{ __LINE__, NEXT, "bad", .create = &bad_increment, .count = 1, .rc = STORE_INVALID,
	  .desc = "create on first use with a broken record" },
	{ __LINE__, GET, "bad", .rc = STORE_NOT_FOUND, .desc = "... left nothing either" },
	{ __LINE__, CREATE, "u", .create = &uuid8, .rc = STORE_OK, .desc = "a uuid sequence" },
	{ __LINE__, NEXT, "u", .count = 1, .rc = STORE_TYPE_MISMATCH,
	  .desc = "type 0 means any numeric type" },
	{ __LINE__, NEXT, "u", .type = RECORD_TYPE_UUID8, .count = 1, .rc = STORE_INVALID,
	  .desc = "a uuid sequence has no counter" },
	{ __LINE__, SET_NEXT, "u", .value = 1, .rc = STORE_INVALID,
	  .desc = "set_next on a uuid sequence" },
	{ __LINE__, NEXT, NAME200, .create = &long_from_1, .count = 1, .rc = STORE_OK, .first = 1,
	  .last = 1, .desc = "a 200-byte name" },
	{ __LINE__, NEXT, "\xc3\xa9t\xc3\xa9", .create = &long_from_1, .count = 2, .rc = STORE_OK,
	  .first = 1, .last = 2, .desc = "a UTF-8 name" },

	/* bounds, exhaustion, set_next */
	{ __LINE__, CREATE, "i", .create = &int_9_of_10, .rc = STORE_OK,
	  .desc = "an int at 9 of 10" },
	{ __LINE__, NEXT, "i", .count = 3, .rc = STORE_EXHAUSTED, .bound = 10,
	  .desc = "a batch past max" },
	{ __LINE__, NEXT, "i", .count = 2, .rc = STORE_OK, .first = 9, .last = 10,
	  .desc = "... consumed nothing: the last two" },
	{ __LINE__, NEXT, "i", .count = 1, .rc = STORE_EXHAUSTED, .bound = 10,
	  .desc = "nothing after max" },
	{ __LINE__, GET, "i", .rc = STORE_OK, .flags = EXH, .type = RECORD_TYPE_INT,
	  .desc = "the record says exhausted" },
	{ __LINE__, SET_NEXT, "i", .value = 11, .rc = STORE_INVALID, .desc = "set_next above max" },
	{ __LINE__, SET_NEXT, "i", .value = 0, .rc = STORE_INVALID, .desc = "set_next below min" },
	{ __LINE__, SET_NEXT, "i", .value = INT64_MIN, .rc = STORE_INVALID,
	  .desc = "set_next to INT64_MIN" },
	{ __LINE__, GET, "i", .rc = STORE_OK, .flags = EXH, .type = RECORD_TYPE_INT,
	  .desc = "refused set_next changed nothing" },
	{ __LINE__, SET_NEXT, "i", .value = 5, .rc = STORE_OK, .desc = "set_next inside bounds" },
	{ __LINE__, GET, "i", .rc = STORE_OK, .first = 5, .flags = 0, .type = RECORD_TYPE_INT,
	  .desc = "set_next clears exhausted" },
	{ __LINE__, NEXT, "i", .count = 1, .rc = STORE_OK, .first = 5, .last = 5,
	  .desc = "the value set is the next issued" },
	{ __LINE__, SET_NEXT, "i", .value = 10, .rc = STORE_OK, .desc = "set_next to max" },
	{ __LINE__, NEXT, "i", .count = 1, .rc = STORE_OK, .first = 10, .last = 10,
	  .desc = "max itself" },
	{ __LINE__, SET_NEXT, "i", .value = 1, .rc = STORE_OK, .desc = "set_next to min (lowering)" },
	{ __LINE__, NEXT, "i", .count = 1, .rc = STORE_OK, .first = 1, .last = 1, .desc = "min" },
	{ __LINE__, SET_NEXT, "missing", .value = 1, .rc = STORE_NOT_FOUND,
	  .desc = "set_next on a missing name" },
	{ __LINE__, NEXT, "down", .create = &down_from_3, .count = 3, .rc = STORE_OK, .first = 3,
	  .last = 1, .desc = "counting down: first and last" },
	{ __LINE__, NEXT, "down", .count = 1, .rc = STORE_EXHAUSTED, .bound = 1,
	  .desc = "counting down, the bound is min" },
	{ __LINE__, NEXT, "cyc", .create = &cycle_1_to_3, .count = 3, .rc = STORE_OK, .first = 1,
	  .last = 3, .desc = "a cycling sequence's whole range" },
	{ __LINE__, NEXT, "cyc", .count = 1, .rc = STORE_OK, .first = 1, .last = 1,
	  .desc = "then it wraps to min" },
	{ __LINE__, NEXT, "cyc", .count = 3, .rc = STORE_EXHAUSTED, .bound = 3,
	  .desc = "a batch never wraps in its middle" },
	{ __LINE__, NEXT, "step", .create = &by_1000, .count = 3, .rc = STORE_OK, .first = 1,
	  .last = 2001, .desc = "increment 1000: last = first + 2 * 1000" },

	/* near INT64_MAX */
	{ __LINE__, CREATE, "max", .create = &near_max, .rc = STORE_OK,
	  .desc = "a long 3 values from its end" },
	{ __LINE__, NEXT, "max", .count = 4, .rc = STORE_EXHAUSTED, .bound = INT64_MAX,
	  .desc = "4 values past INT64_MAX" },
	{ __LINE__, NEXT, "max", .count = UINT64_MAX, .rc = STORE_INVALID,
	  .desc = "a count past INT64_MAX" },
	{ __LINE__, NEXT, "max", .count = (uint64_t)INT64_MAX, .rc = STORE_EXHAUSTED,
	  .bound = INT64_MAX, .desc = "a count of INT64_MAX" },
	{ __LINE__, NEXT, "max", .count = 2, .rc = STORE_OK, .first = INT64_MAX - 2,
	  .last = INT64_MAX - 1, .desc = "two of the three" },
	{ __LINE__, NEXT, "max", .count = 2, .rc = STORE_EXHAUSTED, .bound = INT64_MAX,
	  .desc = "two more do not fit" },
	{ __LINE__, NEXT, "max", .count = 1, .rc = STORE_OK, .first = INT64_MAX, .last = INT64_MAX,
	  .desc = "INT64_MAX itself" },
	{ __LINE__, NEXT, "max", .count = 1, .rc = STORE_EXHAUSTED, .bound = INT64_MAX,
	  .desc = "never a wrap-around" },
	{ __LINE__, GET, "max", .rc = STORE_OK, .flags = EXH, .type = RECORD_TYPE_LONG,
	  .desc = "exhausted after INT64_MAX" },

	/* delete */
	{ __LINE__, DELETE, "a", .rc = STORE_OK, .desc = "delete" },
	{ __LINE__, GET, "a", .rc = STORE_NOT_FOUND, .desc = "get after delete" },
	{ __LINE__, NEXT, "a", .count = 1, .rc = STORE_NOT_FOUND, .desc = "next after delete" },
	{ __LINE__, DELETE, "a", .rc = STORE_NOT_FOUND, .desc = "delete twice" },
	{ __LINE__, DELETE, "never", .rc = STORE_NOT_FOUND, .desc = "delete of a missing name" },
	{ __LINE__, NEXT, "b", .count = 1, .rc = STORE_OK, .first = 101, .last = 101,
	  .desc = "other sequences are untouched" },
	{ __LINE__, PING, .rc = STORE_OK, .desc = "still answering" },
};

static void run_step(struct store *st, const struct step *s)
{
	const char *name = s->name ? s->name : "";
	size_t len = s->len ? s->len : strlen(name);
	struct store_grant grant = { -7, -7, -7, -7, 0 };
	struct seq_record rec;
	int rc = -1;

	switch (s->op) {
	case NEXT:
		rc = store_next(st, name, len, s->type, s->create, s->count, &grant);
		break;
	case CREATE:
		rc = store_create(st, name, len, s->create);
		break;
	case GET:
		rc = store_get(st, name, len, &rec);
		break;
	case SET_NEXT:
		rc = set_next(st, name, len, s->value);
		break;
	case DELETE:
		rc = store_delete(st, name, len);
		break;
	case PING:
		rc = store_ping(st);
		break;
	}
	ck_assert_msg(rc == s->rc, "line %d: %s: %s, want %s", s->line, s->desc, store_rc_name(rc),
	              store_rc_name(s->rc));
	if (s->op == NEXT && rc == STORE_OK) {
		int64_t increment = s->create && s->create->increment ? s->create->increment : 0;

		ck_assert_msg(grant.first == s->first && grant.last == s->last,
		              "line %d: %s: got [%" PRId64 ", %" PRId64 "], want [%" PRId64
		              ", %" PRId64 "]",
		              s->line, s->desc, grant.first, grant.last, s->first, s->last);
		if (increment)
			ck_assert_msg(grant.increment == increment,
			              "line %d: %s: increment %" PRId64 ", want %" PRId64, s->line,
			              s->desc, grant.increment, increment);
		ck_assert_msg(grant.increment != 0 &&
		                      grant.last - grant.first ==
		                              (int64_t)(s->count - 1) * grant.increment,
		              "line %d: %s: increment %" PRId64 " does not span the grant", s->line,
		              s->desc, grant.increment);
	}
	if (s->op == NEXT && rc == STORE_EXHAUSTED)
		ck_assert_msg(grant.bound == s->bound,
		              "line %d: %s: bound %" PRId64 ", want %" PRId64, s->line, s->desc,
		              grant.bound, s->bound);
	if (s->op == GET && rc == STORE_OK) {
		ck_assert_msg(rec.type == s->type, "line %d: %s: type %d, want %d", s->line, s->desc,
		              rec.type, s->type);
		ck_assert_msg(rec.flags == s->flags, "line %d: %s: flags 0x%x, want 0x%x", s->line,
		              s->desc, rec.flags, s->flags);
		if (!(s->flags & EXH))
			ck_assert_msg(rec.next == s->first,
			              "line %d: %s: next %" PRId64 ", want %" PRId64, s->line,
			              s->desc, rec.next, s->first);
		ck_assert_msg(record_check(&rec) == RECORD_OK, "line %d: %s: a record that fails "
		              "record_check", s->line, s->desc);
	}
}

START_TEST(test_script)
{
	struct config cfg;
	struct store_options opt;
	struct store *st = fresh(&cfg, &opt, "script", STORE_DURABILITY_SYNC);

	ck_assert_int_eq(store_needs_recovery(st), 0);
	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++)
		run_step(st, &script[i]);
	ck_assert_int_eq(store_needs_recovery(st), 0);
	store_close(st);
}
END_TEST

/* ---- store_list ---- */

struct list_ctx {
	char names[512];
	size_t calls, stop_after;
	int bad_record;
};

static int collect(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	struct list_ctx *c = ctx;
	size_t used = strlen(c->names);

	snprintf(c->names + used, sizeof(c->names) - used, "%s%.*s", used ? "," : "", (int)len,
	         name);
	if (record_check(rec) != RECORD_OK || rec->type != RECORD_TYPE_LONG)
		c->bad_record = 1;
	c->calls++;
	return c->stop_after && c->calls >= c->stop_after;
}

struct list_row {
	int line;
	const char *after; /* NULL: from the start */
	size_t after_len;  /* 0: strlen(after) */
	size_t limit;
	size_t stop_after; /* the callback asks to stop after this many (0: never) */
	const char *want;  /* names joined by ',' */
	const char *desc;
};

#define E_ACUTE "\xc3\xa9"

/* Created in this order; listed bytewise: "B" < "a" < "aa" < "ab" < "b" < "é". */
static const char *const list_names[] = { "b", "a", "ab", E_ACUTE, "B", "aa" };

static const struct list_row list_rows[] = {
	{ __LINE__, NULL, 0, 0, 0, "B,a,aa,ab,b," E_ACUTE, "all, bytewise" },
	{ __LINE__, "", 0, 0, 0, "B,a,aa,ab,b," E_ACUTE, "an empty after is the start" },
	{ __LINE__, NULL, 0, 1, 0, "B", "limit 1" },
	{ __LINE__, NULL, 0, 6, 0, "B,a,aa,ab,b," E_ACUTE, "limit = count" },
	{ __LINE__, NULL, 0, 100, 0, "B,a,aa,ab,b," E_ACUTE, "limit above count" },
	{ __LINE__, "a", 0, 0, 0, "aa,ab,b," E_ACUTE, "after a listed name" },
	{ __LINE__, "a", 0, 2, 0, "aa,ab", "after and limit: one page" },
	{ __LINE__, "ab", 0, 2, 0, "b," E_ACUTE, "the next page" },
	{ __LINE__, E_ACUTE, 0, 2, 0, "", "after the last: empty" },
	{ __LINE__, "Z", 0, 0, 0, "a,aa,ab,b," E_ACUTE, "after a name that does not exist" },
	{ __LINE__, "A", 0, 0, 0, "B,a,aa,ab,b," E_ACUTE, "upper case sorts before lower case" },
	{ __LINE__, "aaa", 0, 0, 0, "ab,b," E_ACUTE, "after a name between two" },
	{ __LINE__, "a\0", 2, 0, 0, "aa,ab,b," E_ACUTE, "after \"a\\0\": still before \"aa\"" },
	{ __LINE__, "zzz", 0, 0, 0, E_ACUTE, "bytes above 0x7F sort last" },
	{ __LINE__, "\xff", 0, 0, 0, "", "after 0xFF" },
	{ __LINE__, NULL, 0, 0, 2, "B,a", "the callback stops the walk" },
	{ __LINE__, NULL, 0, 1, 5, "B", "the limit stops before the callback" },
};

START_TEST(test_list)
{
	struct config cfg;
	struct store_options opt;
	struct store *st = fresh(&cfg, &opt, "list", STORE_DURABILITY_WRITE);
	struct seq_record rec;

	record_init(&rec, RECORD_TYPE_LONG, 1, (uint64_t)time(NULL));
	for (size_t i = 0; i < sizeof(list_names) / sizeof(list_names[0]); i++)
		ck_assert_int_eq(store_create(st, list_names[i], strlen(list_names[i]), &rec),
		                 STORE_OK);
	for (size_t i = 0; i < sizeof(list_rows) / sizeof(list_rows[0]); i++) {
		const struct list_row *row = &list_rows[i];
		struct list_ctx ctx = { .names = "", .stop_after = row->stop_after };
		size_t after_len = row->after_len;
		int rc;

		/* after_len 0 with a name means strlen; "a\0" needs its length spelled out. */
		if (row->after && !after_len)
			after_len = strlen(row->after);
		rc = store_list(st, row->after, after_len, row->limit, collect, &ctx);
		ck_assert_msg(rc == STORE_OK, "line %d: %s: %s", row->line, row->desc,
		              store_rc_name(rc));
		ck_assert_msg(strcmp(ctx.names, row->want) == 0,
		              "line %d: %s: listed \"%s\", want \"%s\"", row->line, row->desc,
		              ctx.names, row->want);
		ck_assert_msg(!ctx.bad_record, "line %d: %s: a listed record is wrong", row->line,
		              row->desc);
	}
	store_close(st);
}
END_TEST

/* No sequences at all: nothing to call back, and no error. */
START_TEST(test_list_empty)
{
	struct config cfg;
	struct store_options opt;
	struct store *st = fresh(&cfg, &opt, "list-empty", STORE_DURABILITY_WRITE);
	struct list_ctx ctx = { .names = "" };

	ck_assert_int_eq(store_list(st, NULL, 0, 0, collect, &ctx), STORE_OK);
	ck_assert_msg(ctx.calls == 0, "an empty store lists \"%s\"", ctx.names);
	ck_assert_int_eq(store_list(st, "a", 1, 10, collect, &ctx), STORE_OK);
	ck_assert_msg(ctx.calls == 0, "an empty store lists \"%s\"", ctx.names);
	store_close(st);
}
END_TEST

/* A listed record is the stored one, not a stale or default copy. */
static int check_next(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	int *mismatches = ctx;

	if (len == 1 && name[0] == 'p' && rec->next != 43)
		(*mismatches)++;
	return 0;
}

START_TEST(test_list_records)
{
	struct config cfg;
	struct store_options opt;
	struct store *st = fresh(&cfg, &opt, "list-records", STORE_DURABILITY_WRITE);
	struct seq_record rec;
	struct store_grant g;
	int mismatches = 0;

	record_init(&rec, RECORD_TYPE_LONG, 1, 0);
	ck_assert_int_eq(store_next(st, "p", 1, 0, &rec, 42, &g), STORE_OK);
	ck_assert_int_eq(store_list(st, NULL, 0, 0, check_next, &mismatches), STORE_OK);
	ck_assert_int_eq(mismatches, 0);
	store_close(st);
}
END_TEST

/* Walks over more names than one chunk (a thousand a transaction): listing, advancing and
 * deleting everything see every name once, in order, across the chunks' seams. */
#define CHUNKS_N 2345

struct order_ctx {
	size_t next, calls, stop_after; /* the index the next name must have */
	int wrong;
};

static int in_order(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	struct order_ctx *c = ctx;
	char want[16];

	snprintf(want, sizeof(want), "s%04zu", c->next++);
	if (len != strlen(want) || memcmp(name, want, len) != 0 || rec->next != 1)
		c->wrong++;
	return ++c->calls == c->stop_after;
}

START_TEST(test_chunks)
{
	struct config cfg;
	struct store_options opt;
	struct store *st = fresh(&cfg, &opt, "chunks", STORE_DURABILITY_WRITE);
	struct store_item *items = calloc(CHUNKS_N, sizeof(*items));
	char(*names)[16] = calloc(CHUNKS_N, sizeof(*names));
	struct order_ctx all = { 0 }, page = { .next = 996 }, stopped = { .stop_after = 1500 };
	size_t bad, n, written;
	const char *why;
	struct seq_record got;

	ck_assert_ptr_nonnull(items);
	ck_assert_ptr_nonnull(names);
	for (size_t i = 0; i < CHUNKS_N; i++) {
		snprintf(names[i], sizeof(names[i]), "s%04zu", i);
		items[i].name = names[i];
		items[i].len = strlen(names[i]);
		record_init(&items[i].rec, RECORD_TYPE_LONG, 1, (uint64_t)time(NULL));
	}
	ck_assert_int_eq(store_import(st, items, CHUNKS_N, 0, &bad, &why, &written), STORE_OK);

	ck_assert_int_eq(store_list(st, NULL, 0, 0, in_order, &all), STORE_OK);
	ck_assert_uint_eq(all.calls, CHUNKS_N);
	ck_assert_int_eq(all.wrong, 0);
	ck_assert_int_eq(store_list(st, "s0995", 5, 1010, in_order, &page), STORE_OK);
	ck_assert_uint_eq(page.calls, 1010); /* s0996 .. s2005: a whole chunk, then ten more */
	ck_assert_int_eq(page.wrong, 0);
	ck_assert_int_eq(store_list(st, NULL, 0, 0, in_order, &stopped), STORE_OK);
	ck_assert_uint_eq(stopped.calls, 1500); /* the callback stops inside the second chunk */
	ck_assert_int_eq(stopped.wrong, 0);

	ck_assert_int_eq(store_advance_all(st, 7, &n), STORE_OK);
	ck_assert_uint_eq(n, CHUNKS_N);
	ck_assert_int_eq(store_get(st, "s2344", 5, &got), STORE_OK);
	ck_assert_int_eq(got.next, 8);
	/* a chunk at a time, as a replica asks the master: after the last name of the one before */
	{
		char after[NAME_MAX_BYTES], last[NAME_MAX_BYTES];
		size_t after_len = 0, last_len, changed, total = 0;
		int done = 0, steps = 0;

		while (!done && steps < 10) {
			ck_assert_int_eq(store_advance_step(st, 1, after, after_len, last, &last_len,
			                                    &changed, &done), STORE_OK);
			memcpy(after, last, last_len);
			after_len = last_len;
			total += changed;
			steps++;
		}
		ck_assert_int_eq(steps, 3);
		ck_assert_uint_eq(total, CHUNKS_N);
		ck_assert_int_eq(memcmp(after, "s2344", 5), 0);
		ck_assert_int_eq(store_get(st, "s2344", 5, &got), STORE_OK);
		ck_assert_int_eq(got.next, 9);
		ck_assert_int_eq(store_advance_step(st, 0, NULL, 0, last, &last_len, &changed, &done),
		                 STORE_INVALID);
	}

	ck_assert_int_eq(store_delete_all(st, &n), STORE_OK);
	ck_assert_uint_eq(n, CHUNKS_N);
	{
		int done = 0;

		ck_assert_int_eq(store_delete_step(st, &n, &done), STORE_OK);
		ck_assert_uint_eq(n, 0);
		ck_assert_int_eq(done, 1);
	}
	all = (struct order_ctx){ 0 };
	ck_assert_int_eq(store_list(st, NULL, 0, 0, in_order, &all), STORE_OK);
	ck_assert_uint_eq(all.calls, 0);
	free(names);
	free(items);
	store_close(st);
}
END_TEST

/* ---- recovery, reopening, claiming ---- */

START_TEST(test_recover_again)
{
	struct config cfg;
	struct store_options opt;
	struct store *st = fresh(&cfg, &opt, "recover", STORE_DURABILITY_SYNC);
	struct seq_record rec, got;
	struct store_grant g;

	record_init(&rec, RECORD_TYPE_LONG, 1, (uint64_t)time(NULL));
	for (int64_t want = 1; want <= 3; want++) {
		ck_assert_int_eq(store_next(st, "r", 1, 0, &rec, 1, &g), STORE_OK);
		ck_assert_int_eq(g.first, want);
	}
	store_close(st);

	/* A restart: recovery on the existing store, then a new handle carries on. */
	ck_assert_int_eq(store_recover(&opt), STORE_OK);
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	ck_assert_int_eq(store_get(st, "r", 1, &got), STORE_OK);
	ck_assert_int_eq(got.next, 4);
	ck_assert_int_eq(store_next(st, "r", 1, 0, &rec, 1, &g), STORE_OK);
	ck_assert_int_eq(g.first, 4);
	ck_assert_int_eq(store_ping(st), STORE_OK);
	ck_assert_int_eq(store_checkpoint(st, 1), STORE_OK);
	ck_assert_int_ge(store_expire_locks(st), 0);

	/* Two handles in one process see each other's values. */
	{
		struct store *second = NULL;

		ck_assert_int_eq(store_open(&opt, &second), STORE_OK);
		ck_assert_int_eq(store_next(second, "r", 1, 0, NULL, 1, &g), STORE_OK);
		ck_assert_int_eq(g.first, 5);
		ck_assert_int_eq(store_next(st, "r", 1, 0, NULL, 1, &g), STORE_OK);
		ck_assert_int_eq(g.first, 6);
		store_close(second);
	}
	store_close(st);

	/* A third time, after a checkpoint: still no value twice. */
	ck_assert_int_eq(store_recover(&opt), STORE_OK);
	ck_assert_int_eq(store_failchk(&opt), STORE_OK);
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	ck_assert_int_eq(store_next(st, "r", 1, 0, NULL, 1, &g), STORE_OK);
	ck_assert_int_eq(g.first, 7);
	store_close(st);
	store_close(NULL);
}
END_TEST

START_TEST(test_open_missing)
{
	struct config cfg;
	struct store_options opt;
	struct store *st = (struct store *)&cfg; /* must be reset to NULL */
	char path[CONFIG_PATH_MAX + 16];

	/* A directory that does not exist: never created by open. */
	options(&cfg, &opt, "missing", STORE_DURABILITY_SYNC);
	ck_assert_int_eq(store_open(&opt, &st), STORE_UNAVAILABLE);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(access(cfg.data_dir, F_OK), -1);

	/* An empty directory: no environment, and open must not make a fresh one that starts at 1. */
	ck_assert_int_eq(mkdir(cfg.data_dir, 0700), 0);
	st = (struct store *)&cfg;
	ck_assert_int_eq(store_open(&opt, &st), STORE_UNAVAILABLE);
	ck_assert_ptr_null(st);
	snprintf(path, sizeof(path), "%s/sequences.db", cfg.data_dir);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(test_claim)
{
	struct config cfg;
	struct store_options opt;
	int fd, second;

	options(&cfg, &opt, "claim", STORE_DURABILITY_SYNC);
	fd = store_claim(&opt, 0);
	ck_assert_int_ge(fd, 0);
	second = store_claim(&opt, 0);
	ck_assert_msg(second == -1, "a second claim got fd %d", second);
	close(fd);
	fd = store_claim(&opt, 0);
	ck_assert_int_ge(fd, 0);
	close(fd);
}
END_TEST

/* ---- the id generator's mark ---- */

static void expect_mark(struct store *st, int line, int64_t ms, int64_t epoch_ms)
{
	struct store_mark m = { -7, -7 };

	ck_assert_int_eq(store_mark_get(st, &m), STORE_OK);
	ck_assert_msg(m.ms == ms && m.epoch_ms == epoch_ms,
	              "line %d: mark %" PRId64 " from %" PRId64 ", want %" PRId64 " from %" PRId64,
	              line, m.ms, m.epoch_ms, ms, epoch_ms);
}

/* What a store written before the epoch was kept holds: the time alone. */
static void forget_mark_epoch(struct store *st)
{
	static const char key_text[] = "generator.epoch_ms";
	DBT key = { .data = (void *)key_text, .size = sizeof(key_text) - 1 };

	ck_assert_int_eq(st->meta->del(st->meta, NULL, &key, 0), 0);
}

/*
 * The mark keeps the epoch it counts from, and raising it never lowers its distance from its
 * epoch (what ids are made of), whatever epoch the raise counts from.
 */
START_TEST(test_mark)
{
	const int64_t e = INT64_C(1640995200000), earlier = e - 10000, later = e + 10000;
	struct config cfg;
	struct store_options opt;
	struct store *st = fresh(&cfg, &opt, "mark", STORE_DURABILITY_SYNC);

	expect_mark(st, __LINE__, 0, STORE_MARK_NO_EPOCH);
	ck_assert_int_eq(store_mark_raise(st, e + 1000, e), STORE_OK);
	expect_mark(st, __LINE__, e + 1000, e);
	ck_assert_int_eq(store_mark_raise(st, e + 500, e), STORE_OK);
	expect_mark(st, __LINE__, e + 1000, e); /* never lowered */
	ck_assert_int_eq(store_mark_raise(st, e + 1000, e), STORE_OK);
	expect_mark(st, __LINE__, e + 1000, e);

	/* An earlier epoch: a raise short of the distance keeps it, counted from the new epoch. */
	ck_assert_int_eq(store_mark_raise(st, earlier + 200, earlier), STORE_OK);
	expect_mark(st, __LINE__, earlier + 1000, earlier);
	ck_assert_int_eq(store_mark_raise(st, earlier + 3000, earlier), STORE_OK);
	expect_mark(st, __LINE__, earlier + 3000, earlier);
	/* A later epoch: the same time is a shorter distance, so the old distance stays. */
	ck_assert_int_eq(store_mark_raise(st, earlier + 3000, later), STORE_OK);
	expect_mark(st, __LINE__, later + 3000, later);
	ck_assert_int_eq(store_mark_raise(st, later + 5000, later), STORE_OK);
	expect_mark(st, __LINE__, later + 5000, later);

	/* A store from before the epoch was kept: read as such, and a raise that does not move it
	 * still records the epoch it counts from. */
	forget_mark_epoch(st);
	expect_mark(st, __LINE__, later + 5000, STORE_MARK_NO_EPOCH);
	ck_assert_int_eq(store_mark_raise(st, later + 5000, e), STORE_OK);
	expect_mark(st, __LINE__, later + 5000, e);
	forget_mark_epoch(st);
	ck_assert_int_eq(store_mark_raise(st, e + 1, e), STORE_OK);
	expect_mark(st, __LINE__, later + 5000, e);
	store_close(st);

	/* On disk: a restart reads the same. */
	ck_assert_int_eq(store_recover(&opt), STORE_OK);
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	expect_mark(st, __LINE__, later + 5000, e);
	store_close(st);
}
END_TEST

/* After a restore: recover_unused refuses a store in use; advance moves every counter. */
START_TEST(test_recover_unused_and_advance)
{
	struct config cfg;
	struct store_options opt;
	struct store *st = fresh(&cfg, &opt, "advance", STORE_DURABILITY_SYNC);
	struct seq_record got;
	struct store_grant g;
	size_t moved = 99;
	int claim;

	ck_assert_int_eq(store_next(st, "a", 1, 0, &long_from_1, 1, &g), STORE_OK);
	ck_assert_int_eq(store_next(st, "c", 1, 0, &cycle_1_to_3, 1, &g), STORE_OK);
	ck_assert_int_eq(store_next(st, "d", 1, 0, &down_from_3, 1, &g), STORE_OK);
	ck_assert_int_eq(store_create(st, "u", 1, &uuid8), STORE_OK);
	ck_assert_int_eq(store_recover_unused(&opt), STORE_BUSY); /* open here */

	ck_assert_int_eq(store_advance_all(st, 0, &moved), STORE_INVALID);
	ck_assert_int_eq(moved, 0);
	ck_assert_int_eq(store_advance_all(st, 1000, &moved), STORE_OK);
	ck_assert_int_eq(moved, 2); /* a and d; not the cycling c, not the uuid u */
	ck_assert_int_eq(store_get(st, "a", 1, &got), STORE_OK);
	ck_assert_int_eq(got.next, 1002);
	ck_assert_int_eq(store_get(st, "c", 1, &got), STORE_OK);
	ck_assert_int_eq(got.next, 2);
	ck_assert_int_eq(store_get(st, "d", 1, &got), STORE_OK);
	ck_assert_int_eq(got.next, 1);
	ck_assert(got.flags & RECORD_FLAG_EXHAUSTED);
	store_close(st);

	claim = store_claim(&opt, 0); /* as a running master holds it */
	ck_assert_int_ge(claim, 0);
	ck_assert_int_eq(store_recover_unused(&opt), STORE_BUSY);
	close(claim);
	ck_assert_int_eq(store_recover_unused(&opt), STORE_OK);
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	ck_assert_int_eq(store_next(st, "a", 1, 0, NULL, 1, &g), STORE_OK);
	ck_assert_int_eq(g.first, 1002);
	store_close(st);
}
END_TEST

/*
 * The clean mark after a crash. A service process (a child here) takes a value under durability
 * reserve, which syncs a reservation 100 values ahead, and dies without closing; a guest
 * (nextidctl) that opened meanwhile closes last. It must leave the mark as the service left it
 * (in use), so that recovery resumes past the reservation, and not write it: that synced commit
 * is what blocked for ever when the dead process held the log's mutex. A guest that finds the
 * store stopped, and so clean, marks it clean again when it leaves.
 */
START_TEST(test_guest_leaves_the_clean_mark)
{
	struct config cfg;
	struct store_options opt, guest_opt;
	struct store *guest = NULL, *st = NULL;
	struct store_grant g;
	int up[2], down[2], status;
	char buf;
	pid_t pid;

	options(&cfg, &opt, "guest", STORE_DURABILITY_RESERVE);
	guest_opt = opt;
	guest_opt.guest = 1;
	ck_assert_int_eq(store_recover(&opt), STORE_OK);
	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		if (store_open(&opt, &st) != STORE_OK ||
		    store_next(st, "g", 1, 0, &long_from_1, 1, &g) != STORE_OK || g.first != 1)
			_exit(2);
		if (write(up[1], "t", 1) != 1 || read(down[0], &buf, 1) != 0)
			_exit(3);
		_exit(0); /* a crash: no store_close */
	}
	close(up[1]);
	close(down[0]);
	ck_assert_int_eq(read(up[0], &buf, 1), 1); /* the child holds the store, its value taken */
	ck_assert_int_eq(store_open(&guest_opt, &guest), STORE_OK);
	close(down[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(up[0]);
	store_close(guest); /* the last one out */

	ck_assert_int_eq(store_recover(&opt), STORE_OK);
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	ck_assert_int_eq(store_next(st, "g", 1, 0, NULL, 1, &g), STORE_OK);
	ck_assert_int_eq(g.first, 102); /* past the reservation, 1 + 100 */
	store_close(st);

	/* Stopped cleanly, the store is the guest's alone: it leaves it clean, nothing skipped. */
	ck_assert_int_eq(store_open(&guest_opt, &guest), STORE_OK);
	store_close(guest);
	ck_assert_int_eq(store_recover(&opt), STORE_OK);
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	ck_assert_int_eq(store_next(st, "g", 1, 0, NULL, 1, &g), STORE_OK);
	ck_assert_int_eq(g.first, 103);
	store_close(st);
}
END_TEST

/*
 * What a guest reports done is on disk, whatever the durability: under reserve, a change that
 * stays within a reservation would otherwise wait in the log buffer for the service's next flush,
 * and a guest leaves the flush of the clean mark to the service. A guest (a child) sets a counter
 * ahead, past its reservation, and dies without closing; recovery must find the change.
 */
START_TEST(test_guest_changes_are_synced)
{
	struct config cfg;
	struct store_options opt, guest_opt;
	struct store *st = NULL;
	struct store_grant g;
	int status;
	pid_t pid;

	options(&cfg, &opt, "guest-sync", STORE_DURABILITY_RESERVE);
	guest_opt = opt;
	guest_opt.guest = 1;
	ck_assert_int_eq(store_recover(&opt), STORE_OK);
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	ck_assert_int_eq(store_next(st, "g", 1, 0, &long_from_1, 1, &g), STORE_OK);
	store_close(st);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (store_open(&guest_opt, &st) != STORE_OK ||
		    set_next(st, "g", 1, 5000) != STORE_OK)
			_exit(2);
		_exit(0); /* a crash: no store_close */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(store_recover(&opt), STORE_OK);
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	ck_assert_int_eq(store_next(st, "g", 1, 0, NULL, 1, &g), STORE_OK);
	ck_assert_int_eq(g.first, 5000); /* not 102: past the reservation, the change lost */
	store_close(st);
}
END_TEST

/* ---- several processes, one sequence ---- */

struct proc_row {
	int line;
	int children;
	int calls;   /* store_next calls per child */
	int count;   /* values per call */
	int durability;
	const char *desc;
};

static const struct proc_row proc_rows[] = {
	{ __LINE__, 4, 250, 1, STORE_DURABILITY_WRITE, "4 processes x 250 single values" },
	{ __LINE__, 4, 25, 10, STORE_DURABILITY_SYNC, "4 processes x 25 batches of 10, synced" },
	{ __LINE__, 8, 50, 1, STORE_DURABILITY_WRITE, "8 processes racing to create" },
};

#define PROC_MAX 8
#define BUSY_RETRIES 200

/* A child: its own handle, wait for the start signal, draw, report every value, _exit. */
static _Noreturn void child(const struct store_options *opt, const struct proc_row *row,
                            int go, int out)
{
	struct store *st = NULL;
	struct seq_record create;
	char buf;
	int busy = 0;

	record_init(&create, RECORD_TYPE_LONG, 1, (uint64_t)time(NULL));
	if (store_open(opt, &st) != STORE_OK) {
		fprintf(stderr, "child %d: store_open failed\n", (int)getpid());
		_exit(2);
	}
	if (read(go, &buf, 1) != 0) /* EOF is the start signal: every child starts at once */
		_exit(3);
	for (int i = 0; i < row->calls; i++) {
		struct store_grant g;
		int rc = store_next(st, "shared", 6, 0, &create, (uint64_t)row->count, &g);

		if (rc == STORE_BUSY && busy++ < BUSY_RETRIES) {
			i--; /* busy means nothing was consumed: ask again */
			continue;
		}
		if (rc != STORE_OK || g.last - g.first != row->count - 1) {
			fprintf(stderr, "child %d: store_next: %s\n", (int)getpid(),
			        store_rc_name(rc));
			_exit(4);
		}
		for (int64_t v = g.first; v <= g.last; v++)
			if (write(out, &v, sizeof(v)) != (ssize_t)sizeof(v))
				_exit(5);
	}
	store_close(st);
	_exit(0);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

START_TEST(test_processes)
{
	const struct proc_row *row = &proc_rows[_i];
	size_t per_child = (size_t)row->calls * (size_t)row->count;
	size_t total = per_child * (size_t)row->children;
	int64_t *all = calloc(total, sizeof(*all));
	pid_t pids[PROC_MAX];
	int outs[PROC_MAX], go[2];
	size_t got = 0;
	char label[32];
	struct config cfg;
	struct store_options opt;
	struct store *st;
	struct seq_record rec;

	ck_assert_ptr_nonnull(all);
	snprintf(label, sizeof(label), "procs-%d", _i);
	options(&cfg, &opt, label, row->durability);
	ck_assert_int_eq(store_recover(&opt), STORE_OK);
	ck_assert_int_eq(pipe(go), 0);
	for (int c = 0; c < row->children; c++) {
		int out[2];

		ck_assert_int_eq(pipe(out), 0);
		pids[c] = fork();
		ck_assert_msg(pids[c] >= 0, "line %d: fork: %s", row->line, strerror(errno));
		if (pids[c] == 0) {
			close(go[1]);
			close(out[0]);
			child(&opt, row, go[0], out[1]); /* never returns */
		}
		close(out[1]);
		outs[c] = out[0];
	}
	close(go[0]);
	close(go[1]); /* go */

	/* Each child's values, in the order it received them. */
	for (int c = 0; c < row->children; c++) {
		size_t first = got;
		ssize_t n;
		int status;

		while (got < total &&
		       (n = read(outs[c], all + got, (total - got) * sizeof(*all))) > 0) {
			ck_assert_msg(n % (ssize_t)sizeof(*all) == 0, "line %d: a torn value",
			              row->line);
			got += (size_t)n / sizeof(*all);
		}
		close(outs[c]);
		ck_assert_int_eq(waitpid(pids[c], &status, 0), pids[c]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "line %d: %s: child %d ended with status 0x%x", row->line, row->desc, c,
		              status);
		ck_assert_msg(got - first == per_child,
		              "line %d: %s: child %d sent %zu values, want %zu", row->line, row->desc,
		              c, got - first, per_child);
		for (size_t i = first + 1; i < got; i++)
			ck_assert_msg(all[i] > all[i - 1],
			              "line %d: %s: child %d got %" PRId64 " after %" PRId64,
			              row->line, row->desc, c, all[i], all[i - 1]);
	}

	/* Together: exactly 1..total, each once. */
	qsort(all, total, sizeof(*all), cmp_i64);
	for (size_t i = 0; i < total; i++) {
		ck_assert_msg(i == 0 || all[i] != all[i - 1], "line %d: %s: %" PRId64 " issued twice",
		              row->line, row->desc, all[i]);
		ck_assert_msg(all[i] == (int64_t)i + 1, "line %d: %s: %" PRId64 " never issued",
		              row->line, row->desc, (int64_t)i + 1);
	}
	free(all);

	/* And the store agrees on what comes next. */
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	ck_assert_int_eq(store_get(st, "shared", 6, &rec), STORE_OK);
	ck_assert_int_eq(rec.next, (int64_t)total + 1);
	store_close(st);
}
END_TEST

/* ---- threads of one process (worker threads): peers, combining, the shared cache ---- */

#define THREADS_MAX 8

struct thread_row {
	int line;
	int threads;
	int calls; /* store_next calls per thread */
	int count; /* values per call */
	struct seq_record create;
	int ok_calls;         /* calls in all that must succeed; the rest must be EXHAUSTED */
	int64_t max_issued;   /* the highest value any call may get (a cached block's slack) */
	int cycles;           /* the values wrap: check each of 1..3 comes ok_calls/3 times */
	const char *desc;
};

#define LONG_CACHED(k) { .type = RECORD_TYPE_LONG, .next = 1, .increment = 1, .min = 1, \
	                 .max = INT64_MAX, .cache = (k) }

static const struct thread_row thread_rows[] = {
	{ __LINE__, 8, 200, 1, REC(RECORD_TYPE_LONG, 1, 1, 1, INT64_MAX, 0), 1600, 1600, 0,
	  "8 threads x 200 single values" },
	{ __LINE__, 8, 50, 7, REC(RECORD_TYPE_LONG, 1, 1, 1, INT64_MAX, 0), 400, 2800, 0,
	  "8 threads x 50 batches of 7: each batch consecutive" },
	{ __LINE__, 8, 200, 1, REC(RECORD_TYPE_LONG, 1, 1, 1, 1000, 0), 1000, 1000, 0,
	  "8 threads past the bound: 1..1000 once, then exhausted" },
	{ __LINE__, 4, 30, 1, REC(RECORD_TYPE_INT, 1, 1, 1, 3, RECORD_FLAG_CYCLE), 120, 3, 1,
	  "4 threads on a cycling 1..3: each value 40 times" },
	{ __LINE__, 4, 100, 1, LONG_CACHED(10), 400, 410, 0,
	  "4 threads on a cache of 10: one block open at the end at most" },
};

struct thread_arg {
	struct store *base;
	const struct thread_row *row;
	int64_t firsts[1000], lasts[1000];
	int rcs[1000];
};

static void *take_values(void *p)
{
	struct thread_arg *a = p;
	struct store *st = NULL;

	if (store_open_peer(a->base, &st) != STORE_OK)
		return NULL;
	for (int i = 0; i < a->row->calls; i++) {
		struct store_grant g = { 0 };

		a->rcs[i] = store_next(st, "shared", 6, 0, NULL, (uint64_t)a->row->count, &g);
		a->firsts[i] = g.first;
		a->lasts[i] = g.last;
	}
	store_close(st);
	return NULL;
}

START_TEST(test_threads)
{
	const struct thread_row *row = &thread_rows[_i];
	static struct thread_arg args[THREADS_MAX];
	pthread_t ids[THREADS_MAX];
	int64_t *all = calloc((size_t)row->threads * (size_t)row->calls * (size_t)row->count,
	                      sizeof(*all));
	size_t n = 0, ok = 0;
	char label[32];
	struct config cfg;
	struct store_options opt;
	struct store *st;

	ck_assert_ptr_nonnull(all);
	snprintf(label, sizeof(label), "threads-%d", _i);
	st = fresh(&cfg, &opt, label, STORE_DURABILITY_SYNC);
	ck_assert_int_eq(store_create(st, "shared", 6, &row->create), STORE_OK);
	for (int t = 0; t < row->threads; t++) {
		args[t].base = st;
		args[t].row = row;
		ck_assert_int_eq(pthread_create(&ids[t], NULL, take_values, &args[t]), 0);
	}
	for (int t = 0; t < row->threads; t++)
		ck_assert_int_eq(pthread_join(ids[t], NULL), 0);
	store_close(st);

	for (int t = 0; t < row->threads; t++) {
		int64_t prev = INT64_MIN;

		for (int i = 0; i < row->calls; i++) {
			const struct thread_arg *a = &args[t];

			if (a->rcs[i] == STORE_EXHAUSTED)
				continue;
			ck_assert_msg(a->rcs[i] == STORE_OK, "line %d: %s: thread %d call %d: %s",
			              row->line, row->desc, t, i, store_rc_name(a->rcs[i]));
			ck_assert_msg(a->lasts[i] - a->firsts[i] == (row->cycles ? 0 : row->count - 1),
			              "line %d: %s: a grant of %" PRId64 "..%" PRId64, row->line,
			              row->desc, a->firsts[i], a->lasts[i]);
			/* A cached sequence's threads may each bring back a block at the same
			 * moment; the worker hands out the lower one first, so one thread can see
			 * a value below one it had. Unique all the same. */
			ck_assert_msg(row->cycles || row->create.cache > 1 || a->firsts[i] > prev,
			              "line %d: %s: thread %d got %" PRId64 " after %" PRId64,
			              row->line, row->desc, t, a->firsts[i], prev);
			prev = a->lasts[i];
			ok++;
			for (int64_t v = a->firsts[i]; v <= a->lasts[i]; v++)
				all[n++] = v;
		}
	}
	ck_assert_msg(ok == (size_t)row->ok_calls, "line %d: %s: %zu calls succeeded, want %d",
	              row->line, row->desc, ok, row->ok_calls);
	qsort(all, n, sizeof(*all), cmp_i64);
	for (size_t i = 0; i < n; i++) {
		if (row->cycles) {
			ck_assert_msg(all[i] == 1 + (int64_t)(i / ((size_t)row->ok_calls / 3)),
			              "line %d: %s: %" PRId64 " at %zu of the sorted values", row->line,
			              row->desc, all[i], i);
			continue;
		}
		ck_assert_msg(i == 0 || all[i] != all[i - 1], "line %d: %s: %" PRId64 " issued twice",
		              row->line, row->desc, all[i]);
		ck_assert_msg(row->create.cache > 1 || all[i] == (int64_t)i + 1,
		              "line %d: %s: %" PRId64 " never issued", row->line, row->desc,
		              (int64_t)i + 1);
	}
	ck_assert_msg(n == 0 || all[n - 1] <= row->max_issued,
	              "line %d: %s: %" PRId64 " issued, beyond %" PRId64, row->line, row->desc,
	              all[n - 1], row->max_issued);
	free(all);
}
END_TEST

/* A request alone costs one transaction whatever its sequence (the combining path's batch of one
 * is its own transaction), and a cached sequence's block still serves the requests after it;
 * a name that does not exist yet costs the creator's tries. */
struct lone_row {
	int line;
	struct seq_record rec;
	uint64_t count;
	int64_t first, last; /* of the first take */
	unsigned transactions;
	const char *desc;
};

static const struct lone_row lone_rows[] = {
	{ __LINE__, REC(RECORD_TYPE_LONG, 1, 1, 1, INT64_MAX, 0), 1, 1, 1, 1, "plain" },
	{ __LINE__, REC(RECORD_TYPE_LONG, 1, 1, 1, INT64_MAX, 0), 5, 1, 5, 1, "a batch of 5" },
	{ __LINE__, REC(RECORD_TYPE_INT, 3, 1, 1, 3, RECORD_FLAG_CYCLE), 1, 3, 3, 1, "cycling" },
	{ __LINE__, REC(RECORD_TYPE_INT, 1, 1, 1, 3, RECORD_FLAG_CYCLE), 3, 1, 3, 1,
	  "cycling, a batch" },
	{ __LINE__, LONG_CACHED(10), 1, 1, 1, 1, "cached: one block" },
	{ __LINE__, REC(RECORD_TYPE_LONG, 1, 1, 1, 3, 0), 5, 0, 0, 1, "exhausted: one refusal" },
};

START_TEST(test_lone_request)
{
	const struct lone_row *row = &lone_rows[_i];
	struct config cfg;
	struct store_options opt;
	struct store_stats stats;
	struct store_grant g;
	struct store *st;
	char label[32];
	int rc;

	snprintf(label, sizeof(label), "lone-%d", _i);
	memset(&stats, 0, sizeof(stats));
	st = fresh(&cfg, &opt, label, STORE_DURABILITY_SYNC);
	ck_assert_int_eq(store_create(st, "l", 1, &row->rec), STORE_OK);
	store_close(st);
	opt.stats = &stats;
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	rc = store_next(st, "l", 1, 0, NULL, row->count, &g);
	ck_assert_msg(atomic_load(&stats.transactions) == row->transactions,
	              "line %d (%s): %llu transactions", row->line, row->desc,
	              (unsigned long long)atomic_load(&stats.transactions));
	if (row->first == 0) {
		ck_assert_int_eq(rc, STORE_EXHAUSTED);
	} else {
		ck_assert_int_eq(rc, STORE_OK);
		ck_assert_int_eq(g.first, row->first);
		ck_assert_int_eq(g.last, row->last);
	}
	if (row->rec.cache > 1) { /* the rest of the block, without a transaction */
		ck_assert_int_eq(store_next(st, "l", 1, 0, NULL, 1, &g), STORE_OK);
		ck_assert_int_eq(g.first, 2);
		ck_assert_uint_eq(atomic_load(&stats.transactions), row->transactions);
	}
	store_close(st);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_options_init);
	UNIT_TABLE(tc, test_rc_name, rc_name_rows);
	tcase_add_test(tc, test_script);
	tcase_add_test(tc, test_list_empty);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_list_records);
	tcase_add_test(tc, test_chunks);
	tcase_add_test(tc, test_recover_again);
	tcase_add_test(tc, test_mark);
	tcase_add_test(tc, test_open_missing);
	tcase_add_test(tc, test_claim);
	tcase_add_test(tc, test_recover_unused_and_advance);
	tcase_add_test(tc, test_guest_leaves_the_clean_mark);
	tcase_add_test(tc, test_guest_changes_are_synced);
	UNIT_TABLE(tc, test_processes, proc_rows);
	UNIT_TABLE(tc, test_threads, thread_rows);
	UNIT_TABLE(tc, test_lone_request, lone_rows);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
