/*
 * store_prefix: formatted prefixes on a real store in a temporary directory, through the group
 * take: takes in one transaction get consecutive numbers in their order, each audited with its
 * own caller's fields (correlation_id as its own field); one that runs past the maximum gets
 * nothing while those after it still get theirs; a group where every take is refused writes
 * nothing. The status reports the audit's length and the time of its last number.
 */
#include "scratch.h"
#include "store.h"
#include "store_prefix.h"
#include "unit.h"

#include <inttypes.h>

#define NOW_MS 1780000000000LL /* 2026-05-28, any fixed time will do */

static char dir[256];

static struct store *fresh_prefix(const char *name)
{
	struct store_options opt;
	struct store_prefix_config c = { .now_ms = NOW_MS, .admin_user = "" };
	struct seq_record rec;
	struct store *st = NULL;
	const char *why = NULL;
	int created = 0;

	ck_assert_int_eq(scratch_make(dir, sizeof(dir), "test-store-prefix"), 0);
	store_options_init(&opt, dir);
	ck_assert_int_eq(store_recover(&opt), STORE_OK);
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	ck_assert_int_eq(store_prefix_configure(st, name, strlen(name), &c, &rec, &created, &why),
	                 STORE_OK);
	ck_assert_int_eq(created, 1);
	return st;
}

static void done(struct store *st)
{
	store_close(st);
	scratch_remove(dir);
}

struct collect {
	size_t n;
	struct audit_entry e[8];
	uint64_t seq[8];
};

static int collect(void *ctx, uint64_t seq, const struct audit_entry *e)
{
	struct collect *c = ctx;

	if (c->n < 8) {
		c->seq[c->n] = seq;
		c->e[c->n++] = *e;
	}
	return 0;
}

START_TEST(test_group_in_order_each_audited)
{
	struct store *st = fresh_prefix("SG");
	const struct store_caller erp = { "erp", "", 0 }, crm = { "crm", "bob", 0 };
	struct store_number a[2], b[1];
	struct store_prefix_take takes[] = {
		{ .who = &erp, .correlation_id = "req-1", .count = 2, .out = a },
		{ .who = &crm, .correlation_id = NULL, .count = 1, .out = b },
	};
	struct collect *c = calloc(1, sizeof(*c));
	struct store_prefix_status s;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(store_prefix_next_group(st, "SG", 2, NOW_MS, takes, 2), STORE_OK);
	ck_assert_int_eq(takes[0].rc, STORE_OK);
	ck_assert_int_eq(takes[1].rc, STORE_OK);
	ck_assert_str_eq(a[0].full_number, "SG000001");
	ck_assert_str_eq(a[1].full_number, "SG000002");
	ck_assert_str_eq(b[0].full_number, "SG000003");
	ck_assert_int_eq(b[0].counter, 3);
	ck_assert_int_eq(b[0].seq, 3);
	ck_assert_int_eq(store_audit_list(st, "SG", 2, AUDIT_KIND_NUMBER, 0, 0, collect, c),
	                 STORE_OK);
	ck_assert_int_eq(c->n, 3);
	ck_assert_str_eq(c->e[0].correlation_id, "req-1");
	ck_assert_str_eq(c->e[1].correlation_id, "req-1");
	ck_assert_str_eq(c->e[1].client_id, "erp");
	ck_assert_str_eq(c->e[2].correlation_id, "");
	ck_assert_str_eq(c->e[2].client_id, "crm");
	ck_assert_str_eq(c->e[2].generated_by, "bob");
	ck_assert_str_eq(c->e[2].full_number, "SG000003");
	ck_assert_int_eq(c->e[2].time_ms, NOW_MS);
	ck_assert_int_eq(memcmp(c->e[2].id, b[0].message_id, 16), 0);
	ck_assert_int_eq(store_prefix_status(st, "SG", 2, NOW_MS, &s), STORE_OK);
	ck_assert_int_eq(s.current, 3);
	ck_assert_int_eq(s.next, 4);
	ck_assert_int_eq(s.last_audit_counter, 3);
	ck_assert_int_eq(s.last_audit_ms, NOW_MS);
	ck_assert_int_eq(s.audited, 3);
	free(c);
	done(st);
}
END_TEST

START_TEST(test_group_past_the_maximum)
{
	struct store *st = fresh_prefix("INV");
	const struct store_caller who = { "", "", NOW_MS };
	struct store_reset r = { .set_to = INT64_MAX - 3, .reason = "near the end",
		                 .admin_user = "ops", .now_ms = NOW_MS, .correlation_id = "fix-1" };
	struct collect *events = calloc(1, sizeof(*events));
	struct store_number a[2], b[5], c[1], d[1];
	struct store_prefix_take takes[] = {
		{ .who = &who, .count = 2, .out = a },
		{ .who = &who, .count = 5, .out = b },
		{ .who = &who, .count = 1, .out = c },
	};
	struct store_prefix_take last = { .who = &who, .count = 1, .out = d };
	struct store_prefix_status s;
	const char *why = NULL;

	ck_assert_int_eq(store_prefix_reset(st, "INV", 3, &r, &why), STORE_OK);
	ck_assert_ptr_nonnull(events);
	ck_assert_int_eq(store_audit_list(st, "INV", 3, AUDIT_KIND_EVENT, 0, 0, collect, events),
	                 STORE_OK);
	ck_assert_int_eq(events->n, 2); /* the configuration, then the reset */
	ck_assert_int_eq(events->e[1].event, AUDIT_RESET);
	ck_assert_str_eq(events->e[1].correlation_id, "fix-1");
	ck_assert_str_eq(events->e[1].admin_user, "ops");
	ck_assert_str_eq(events->e[0].correlation_id, "");
	free(events);
	ck_assert_int_eq(store_prefix_next_group(st, "INV", 3, NOW_MS, takes, 3), STORE_OK);
	ck_assert_int_eq(takes[0].rc, STORE_OK);
	ck_assert_int_eq(a[0].counter, INT64_MAX - 2);
	ck_assert_int_eq(a[1].counter, INT64_MAX - 1);
	ck_assert_int_eq(takes[1].rc, STORE_EXHAUSTED);
	ck_assert_int_eq(takes[2].rc, STORE_OK);
	ck_assert_int_eq(c[0].counter, INT64_MAX);
	ck_assert_str_eq(c[0].full_number, "INV9223372036854775807");
	/* Every take refused: nothing written, and the take says why. */
	ck_assert_int_eq(store_prefix_next_group(st, "INV", 3, NOW_MS, &last, 1), STORE_OK);
	ck_assert_int_eq(last.rc, STORE_EXHAUSTED);
	ck_assert_int_eq(store_prefix_next(st, "INV", 3, &who, 1, d), STORE_EXHAUSTED);
	ck_assert_int_eq(store_prefix_status(st, "INV", 3, NOW_MS, &s), STORE_OK);
	ck_assert_int_eq(s.audited, 3);
	ck_assert_int_eq(s.last_audit_counter, INT64_MAX);
	done(st);
}
END_TEST

START_TEST(test_group_refused_whole)
{
	struct store *st = fresh_prefix("PO");
	const struct store_caller who = { "", "", NOW_MS };
	struct store_number a[1];
	struct store_prefix_take zero = { .who = &who, .count = 0, .out = a };
	struct store_prefix_take one = { .who = &who, .count = 1, .out = a };
	struct store_prefix_status s;

	ck_assert_int_eq(store_prefix_next_group(st, "PO", 2, NOW_MS, &zero, 1), STORE_INVALID);
	ck_assert_int_eq(store_prefix_next_group(st, "PO", 2, NOW_MS, &one, 0), STORE_INVALID);
	ck_assert_int_eq(store_prefix_next_group(st, "PQ", 2, NOW_MS, &one, 1), STORE_NOT_FOUND);
	ck_assert_int_eq(store_prefix_next_group(st, "a/b", 3, NOW_MS, &one, 1), STORE_INVALID);
	ck_assert_int_eq(store_prefix_status(st, "PO", 2, NOW_MS, &s), STORE_OK);
	ck_assert_int_eq(s.audited, 0);
	ck_assert_int_eq(s.last_audit_ms, 0);
	ck_assert_int_eq(s.next, 1);
	done(st);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("store_prefix");
	TCase *tc = tcase_create("store_prefix");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_group_in_order_each_audited);
	tcase_add_test(tc, test_group_past_the_maximum);
	tcase_add_test(tc, test_group_refused_whole);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
