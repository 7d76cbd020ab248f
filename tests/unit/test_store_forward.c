/*
 * store_forward: the master's end of a replica's forwarded writes, fed directly: well-formed
 * requests run the store function and answer its result in the message format, and every
 * hostile request (truncated, padded, a wrong version or op, lengths past the bounds, NUL bytes
 * in names, a damaged record) is refused with STORE_INVALID without changing the store. The
 * channel is a stand-in that keeps what would be sent back; the store is a real one, unreplicated.
 */
#include "record.h"
#include "scratch.h"
#include "store.h"
#include "store_int.h"
#include "store_forward_int.h"
#include "unit.h"

#include <string.h>

static char dir[256];
static struct store *st;
static unsigned char sent[4096];
static size_t sent_len;
static int sent_count;

static int fake_send_msg(DB_CHANNEL *chan, DBT *msg, u_int32_t n, u_int32_t flags)
{
	(void)chan;
	(void)flags;
	ck_assert_uint_eq(n, 1);
	sent_len = msg[0].size < sizeof(sent) ? msg[0].size : sizeof(sent);
	memcpy(sent, msg[0].data, sent_len);
	sent_count++;
	return 0;
}

static void setup(void)
{
	struct store_options opt;

	ck_assert_int_eq(scratch_make(dir, sizeof(dir), "forward"), 0);
	store_options_init(&opt, dir);
	ck_assert_int_eq(store_recover(&opt), STORE_OK);
	ck_assert_int_eq(store_open(&opt, &st), STORE_OK);
	atomic_store(&st->serving, 1);
}

static void teardown(void)
{
	store_close(st);
	scratch_remove(dir);
}

/* Send req[0..len) to the master's handler; the answer's result byte (-1: none sent). */
static int dispatch(const void *req, size_t len)
{
	DB_CHANNEL chan;
	DBT msg = { .data = (void *)req, .size = (u_int32_t)len };

	memset(&chan, 0, sizeof(chan));
	chan.send_msg = fake_send_msg;
	sent_len = 0;
	sent_count = 0;
	store_forward_dispatch(st->env, &chan, &msg, 1, DB_REPMGR_NEED_RESPONSE);
	ck_assert_int_eq(sent_count, 1); /* exactly one answer, always */
	ck_assert_uint_ge(sent_len, 2);
	ck_assert_uint_eq(sent[0], 1); /* the version */
	return sent[1];
}

/* A next request: version, op, type, count, name, no record. */
static size_t next_request(unsigned char *buf, const char *name, size_t len, uint64_t count)
{
	size_t at = 0;

	buf[at++] = 1;
	buf[at++] = 1;
	buf[at++] = 0;
	for (int i = 7; i >= 0; i--)
		buf[at++] = (unsigned char)(count >> (8 * i));
	buf[at++] = (unsigned char)(len >> 8);
	buf[at++] = (unsigned char)len;
	memcpy(buf + at, name, len);
	at += len;
	buf[at++] = 0;
	return at;
}

static int64_t be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

START_TEST(test_next_runs_on_the_master)
{
	unsigned char req[256];
	struct seq_record rec;
	size_t len;

	record_init(&rec, RECORD_TYPE_LONG, 1, 0);
	ck_assert_int_eq(store_create(st, "n", 1, &rec), STORE_OK);
	len = next_request(req, "n", 1, 3);
	ck_assert_int_eq(dispatch(req, len), STORE_OK);
	ck_assert_uint_eq(sent_len, 2 + 4 * 8 + 1);
	ck_assert_int_eq(be64(sent + 2), 1);  /* first */
	ck_assert_int_eq(be64(sent + 10), 3); /* last */
	ck_assert_int_eq(be64(sent + 18), 1); /* increment */
	ck_assert_int_eq(dispatch(req, len), STORE_OK);
	ck_assert_int_eq(be64(sent + 2), 4);
	len = next_request(req, "missing", 7, 1);
	ck_assert_int_eq(dispatch(req, len), STORE_NOT_FOUND);
	ck_assert_uint_eq(sent_len, 2);
}
END_TEST

/* A joint request (several of a replica's at once): consecutive values for a plain sequence;
 * refused (STORE_INVALID, nothing taken) for one that cycles, caches, does not exist, would pass
 * its bound for the sum, or asks more than a combined request may; never with a create record. */
START_TEST(test_joint_next_on_the_master)
{
	unsigned char req[512];
	struct seq_record rec, after;
	size_t len;

	record_init(&rec, RECORD_TYPE_LONG, 1, 0);
	ck_assert_int_eq(store_create(st, "j", 1, &rec), STORE_OK);
	len = next_request(req, "j", 1, 5);
	req[1] = FWD_OP_NEXT_JOINT;
	ck_assert_int_eq(dispatch(req, len), STORE_OK);
	ck_assert_int_eq(be64(sent + 2), 1);
	ck_assert_int_eq(be64(sent + 10), 5);
	ck_assert_int_eq(dispatch(req, len), STORE_OK);
	ck_assert_int_eq(be64(sent + 2), 6);

	record_init(&rec, RECORD_TYPE_INT, 1, 0);
	rec.max = 3;
	rec.flags |= RECORD_FLAG_CYCLE;
	ck_assert_int_eq(store_create(st, "jc", 2, &rec), STORE_OK);
	record_init(&rec, RECORD_TYPE_LONG, 1, 0);
	rec.cache = 10;
	ck_assert_int_eq(store_create(st, "jk", 2, &rec), STORE_OK);
	record_init(&rec, RECORD_TYPE_LONG, 1, 0);
	rec.max = 3;
	ck_assert_int_eq(store_create(st, "jb", 2, &rec), STORE_OK);
	for (int i = 0; i < 4; i++) {
		static const char *const names[] = { "jc", "jk", "jb", "jx" };

		len = next_request(req, names[i], 2, 5);
		req[1] = FWD_OP_NEXT_JOINT;
		ck_assert_msg(dispatch(req, len) == STORE_INVALID, "%s", names[i]);
	}
	len = next_request(req, "j", 1, (UINT64_C(1) << 20) + 1);
	req[1] = FWD_OP_NEXT_JOINT;
	ck_assert_int_eq(dispatch(req, len), STORE_INVALID);
	len = next_request(req, "j", 1, 1);
	req[1] = FWD_OP_NEXT_JOINT;
	req[len - 1] = 1; /* a create record follows */
	memset(req + len, 0, RECORD_SIZE);
	ck_assert_int_eq(dispatch(req, len + RECORD_SIZE), STORE_INVALID);

	ck_assert_int_eq(store_get(st, "j", 1, &after), STORE_OK);
	ck_assert_int_eq(after.next, 11);
	ck_assert_int_eq(store_get(st, "jc", 2, &after), STORE_OK);
	ck_assert_int_eq(after.next, 1);
	ck_assert_int_eq(store_get(st, "jb", 2, &after), STORE_OK);
	ck_assert_int_eq(after.next, 1);
	ck_assert_int_eq(store_get(st, "jx", 2, &after), STORE_NOT_FOUND);
}
END_TEST

/* Each hostile request is refused whole, and the counter did not move. */
START_TEST(test_hostile_requests_are_refused)
{
	unsigned char good[256], bad[70000];
	struct seq_record rec, after;
	size_t len;

	record_init(&rec, RECORD_TYPE_LONG, 1, 0);
	ck_assert_int_eq(store_create(st, "h", 1, &rec), STORE_OK);
	len = next_request(good, "h", 1, 1);
	/* every truncation */
	for (size_t cut = 0; cut < len; cut++) {
		DB_CHANNEL chan;
		DBT msg = { .data = good, .size = (u_int32_t)cut };

		memset(&chan, 0, sizeof(chan));
		chan.send_msg = fake_send_msg;
		sent_count = 0;
		store_forward_dispatch(st->env, &chan, &msg, 1, DB_REPMGR_NEED_RESPONSE);
		ck_assert_int_eq(sent_count, 1);
		ck_assert_msg(sent[1] == STORE_INVALID, "cut at %zu: result %d", cut, sent[1]);
	}
	/* a byte too many */
	memcpy(bad, good, len);
	bad[len] = 0;
	ck_assert_int_eq(dispatch(bad, len + 1), STORE_INVALID);
	/* another version, an unknown op */
	memcpy(bad, good, len);
	bad[0] = 2;
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	memcpy(bad, good, len);
	bad[1] = 200;
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	/* a name with a NUL byte, a name longer than its bytes, a record flag of 2 */
	len = next_request(bad, "h\0x", 3, 1);
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	len = next_request(bad, "h", 1, 1);
	bad[12] = 0x7f;
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	len = next_request(bad, "h", 1, 1);
	bad[len - 1] = 2;
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	/* a record flag with a damaged record */
	len = next_request(bad, "h2", 2, 1);
	bad[len - 1] = 1;
	memset(bad + len, 0xee, RECORD_SIZE);
	ck_assert_int_eq(dispatch(bad, len + RECORD_SIZE), STORE_INVALID);
	/* larger than any request */
	memset(bad, 1, sizeof(bad));
	ck_assert_int_eq(dispatch(bad, sizeof(bad)), STORE_INVALID);
	/* a prefix group of no takes, and of too many */
	{
		unsigned char g[64] = { 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'p', 0, 0 };

		ck_assert_int_eq(dispatch(g, 15), STORE_INVALID);
		g[13] = 0xff;
		g[14] = 0xff;
		ck_assert_int_eq(dispatch(g, 15), STORE_INVALID);
	}
	ck_assert_int_eq(store_get(st, "h", 1, &after), STORE_OK);
	ck_assert_int_eq(after.next, 1);
	ck_assert_int_eq(store_get(st, "h2", 2, &after), STORE_NOT_FOUND);
}
END_TEST

/* Not serving yet (the databases are not open): "No master", and nothing runs. */
START_TEST(test_not_serving_answers_no_master)
{
	unsigned char req[64];
	size_t len = next_request(req, "x", 1, 1);

	atomic_store(&st->serving, 0);
	ck_assert_int_eq(dispatch(req, len), STORE_NO_MASTER);
}
END_TEST

/* Replicated, the id generator's mark is the node's own file: raised, never lowered, kept with its
 * epoch, and a damaged file is an error, never a mark of 0. */
START_TEST(test_mark_file)
{
	struct store_options opt;
	struct store_mark m;
	char path[512];
	FILE *f;

	store_options_init(&opt, dir);
	ck_assert_int_eq(store_mark_file_get(&opt, &m), STORE_OK);
	ck_assert_int_eq(m.ms, 0);
	ck_assert_int_eq(m.epoch_ms, STORE_MARK_NO_EPOCH);
	ck_assert_int_eq(store_mark_file_raise(&opt, 5000, 1000), STORE_OK);
	ck_assert_int_eq(store_mark_file_raise(&opt, 3000, 1000), STORE_OK); /* lower: kept */
	ck_assert_int_eq(store_mark_file_get(&opt, &m), STORE_OK);
	ck_assert_int_eq(m.ms, 5000);
	ck_assert_int_eq(m.epoch_ms, 1000);
	/* another epoch: the distance from it is kept (4000 past 1000 is 4500 past 500) */
	ck_assert_int_eq(store_mark_file_raise(&opt, 600, 500), STORE_OK);
	ck_assert_int_eq(store_mark_file_get(&opt, &m), STORE_OK);
	ck_assert_int_eq(m.ms, 4500);
	ck_assert_int_eq(m.epoch_ms, 500);
	snprintf(path, sizeof(path), "%s/generator.mark", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("short", f);
	fclose(f);
	ck_assert_int_eq(store_mark_file_get(&opt, &m), STORE_UNAVAILABLE);
	ck_assert_int_eq(store_mark_file_raise(&opt, 9000, 500), STORE_UNAVAILABLE);
}
END_TEST

/* ---- the bulk operations (store_forward_bulk.c) ---- */

/* An import chunk request of n items named prefix0, prefix1, ..., each a long at next. */
static size_t import_request(unsigned char *buf, size_t cap, int force, int check_only, size_t n,
                             const char *prefix, int64_t next)
{
	struct cursor c = { .p = buf, .len = cap };

	fwd_put_header(&c, FWD_OP_IMPORT);
	put_u(&c, (uint64_t)force, 1);
	put_u(&c, (uint64_t)check_only, 1);
	put_u(&c, n, 2);
	for (size_t i = 0; i < n; i++) {
		struct seq_record rec;
		char name[32];
		unsigned char *p;

		snprintf(name, sizeof(name), "%s%zu", prefix, i);
		record_init(&rec, RECORD_TYPE_LONG, 1, 0);
		rec.next = next;
		put_bytes(&c, name, strlen(name));
		if ((p = take(&c, RECORD_SIZE)) != NULL)
			ck_assert_int_eq(record_encode(&rec, p), RECORD_OK);
	}
	ck_assert(!c.bad);
	return c.at;
}

static size_t step_request(unsigned char *buf, int op, uint64_t steps, const char *after)
{
	struct cursor c = { .p = buf, .len = 256 };

	fwd_put_header(&c, (unsigned)op);
	if (op == FWD_OP_ADVANCE_STEP) {
		put_u(&c, steps, 8);
		put_bytes(&c, after, strlen(after));
	}
	return c.at;
}

START_TEST(test_import_chunks_on_the_master)
{
	static unsigned char req[FWD_IMPORT_REQUEST_MAX];
	struct seq_record got;
	size_t len;

	/* checked only: nothing is written */
	len = import_request(req, sizeof(req), 0, 1, 3, "imp", 10);
	ck_assert_int_eq(dispatch(req, len), STORE_OK);
	ck_assert_uint_eq(sent_len, 2);
	ck_assert_int_eq(store_get(st, "imp0", 4, &got), STORE_NOT_FOUND);
	/* written */
	len = import_request(req, sizeof(req), 0, 0, 3, "imp", 10);
	ck_assert_int_eq(dispatch(req, len), STORE_OK);
	ck_assert_int_eq(store_get(st, "imp2", 4, &got), STORE_OK);
	ck_assert_int_eq(got.next, 10);
	/* a lowering is refused, checked or written, with the item and the sentence */
	for (int check_only = 0; check_only < 2; check_only++) {
		const char *want = "it would move an existing counter backwards; use --force.";

		len = import_request(req, sizeof(req), 0, check_only, 3, "imp", 5);
		ck_assert_int_eq(dispatch(req, len), STORE_INVALID);
		ck_assert_uint_eq(sent_len, 2 + 2 + 2 + strlen(want));
		ck_assert_uint_eq(sent[2] << 8 | sent[3], 0);
		ck_assert_int_eq(memcmp(sent + 6, want, strlen(want)), 0);
	}
	ck_assert_int_eq(store_get(st, "imp0", 4, &got), STORE_OK);
	ck_assert_int_eq(got.next, 10);
	/* forced, it is written */
	len = import_request(req, sizeof(req), 1, 0, 3, "imp", 5);
	ck_assert_int_eq(dispatch(req, len), STORE_OK);
	ck_assert_int_eq(store_get(st, "imp1", 4, &got), STORE_OK);
	ck_assert_int_eq(got.next, 5);
	/* the largest chunk */
	len = import_request(req, sizeof(req), 0, 0, STORE_REPL_CHUNK, "big", 1);
	ck_assert_int_eq(dispatch(req, len), STORE_OK);
	ck_assert_int_eq(store_get(st, "big249", 6, &got), STORE_OK);
}
END_TEST

START_TEST(test_steps_on_the_master)
{
	unsigned char req[256];
	struct seq_record rec, got;
	const char *names[] = { "a", "b", "c" };

	record_init(&rec, RECORD_TYPE_LONG, 1, 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(store_create(st, names[i], 1, &rec), STORE_OK);
	/* advance after "a": b and c move, the walk is done, its last name is c */
	ck_assert_int_eq(dispatch(req, step_request(req, FWD_OP_ADVANCE_STEP, 5, "a")), STORE_OK);
	ck_assert_uint_eq(sent_len, 2 + 4 + 1 + 2 + 1);
	ck_assert_uint_eq(sent[5], 2); /* changed */
	ck_assert_uint_eq(sent[6], 1); /* done */
	ck_assert_uint_eq(sent[9], 'c');
	ck_assert_int_eq(store_get(st, "a", 1, &got), STORE_OK);
	ck_assert_int_eq(got.next, 1);
	ck_assert_int_eq(store_get(st, "c", 1, &got), STORE_OK);
	ck_assert_int_eq(got.next, 6);
	/* steps of 0 are refused by the store, and answered */
	ck_assert_int_eq(dispatch(req, step_request(req, FWD_OP_ADVANCE_STEP, 0, "")),
	                 STORE_INVALID);
	/* delete-all's step */
	ck_assert_int_eq(dispatch(req, step_request(req, FWD_OP_DELETE_STEP, 0, "")), STORE_OK);
	ck_assert_uint_eq(sent_len, 2 + 4 + 1);
	ck_assert_uint_eq(sent[5], 3);
	ck_assert_uint_eq(sent[6], 1);
	ck_assert_int_eq(store_get(st, "b", 1, &got), STORE_NOT_FOUND);
}
END_TEST

/* Hostile bulk requests are refused whole: nothing is written. */
START_TEST(test_hostile_bulk_requests_are_refused)
{
	static unsigned char good[FWD_IMPORT_REQUEST_MAX + 64], bad[FWD_MESSAGE_MAX + 64];
	struct seq_record got;
	size_t len = import_request(good, sizeof(good), 0, 0, 2, "hb", 1), cut;

	/* every truncation of an import */
	for (cut = 2; cut < len; cut++)
		ck_assert_msg(dispatch(good, cut) == STORE_INVALID, "cut at %zu", cut);
	/* a byte too many; a count of 0, of one past the chunk; a force or check of 2 */
	memcpy(bad, good, len);
	bad[len] = 0;
	ck_assert_int_eq(dispatch(bad, len + 1), STORE_INVALID);
	memcpy(bad, good, len);
	bad[4] = 0;
	bad[5] = 0;
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	bad[4] = (STORE_REPL_CHUNK + 1) >> 8;
	bad[5] = (STORE_REPL_CHUNK + 1) & 0xff;
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	memcpy(bad, good, len);
	bad[2] = 2;
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	memcpy(bad, good, len);
	bad[3] = 2;
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	/* a name with a NUL byte; a name length past the bound; a damaged record */
	memcpy(bad, good, len);
	bad[9] = 0; /* "hb0" -> "h\0" + "0" */
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	memcpy(bad, good, len);
	bad[6] = 0x01; /* 259 bytes */
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	memcpy(bad, good, len);
	memset(bad + 11, 0xee, RECORD_SIZE);
	ck_assert_int_eq(dispatch(bad, len), STORE_INVALID);
	/* a name the store refuses (empty) is answered with its item */
	{
		struct cursor c = { .p = bad, .len = sizeof(bad) };
		struct seq_record rec;
		unsigned char *p;

		record_init(&rec, RECORD_TYPE_LONG, 1, 0);
		fwd_put_header(&c, FWD_OP_IMPORT);
		put_u(&c, 0, 1);
		put_u(&c, 0, 1);
		put_u(&c, 1, 2);
		put_bytes(&c, "", 0);
		p = take(&c, RECORD_SIZE);
		ck_assert_int_eq(record_encode(&rec, p), RECORD_OK);
		ck_assert_int_eq(dispatch(bad, c.at), STORE_INVALID);
	}
	/* larger than any message, and a step larger than its op allows */
	memset(bad, 1, sizeof(bad));
	ck_assert_int_eq(dispatch(bad, sizeof(bad)), STORE_INVALID);
	memset(bad, 0, FWD_REQUEST_MAX + 1);
	bad[0] = 1;
	bad[1] = FWD_OP_DELETE_STEP;
	ck_assert_int_eq(dispatch(bad, FWD_REQUEST_MAX + 1), STORE_INVALID);
	/* truncated and padded steps */
	len = step_request(good, FWD_OP_ADVANCE_STEP, 1, "x");
	for (cut = 2; cut < len; cut++)
		ck_assert_msg(dispatch(good, cut) == STORE_INVALID, "step cut at %zu", cut);
	good[len] = 0;
	ck_assert_int_eq(dispatch(good, len + 1), STORE_INVALID);
	len = step_request(good, FWD_OP_DELETE_STEP, 0, "");
	good[len] = 0;
	ck_assert_int_eq(dispatch(good, len + 1), STORE_INVALID);
	ck_assert_int_eq(store_get(st, "hb0", 3, &got), STORE_NOT_FOUND);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("store_forward");
	TCase *tc = tcase_create("master's end");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_next_runs_on_the_master);
	tcase_add_test(tc, test_joint_next_on_the_master);
	tcase_add_test(tc, test_hostile_requests_are_refused);
	tcase_add_test(tc, test_not_serving_answers_no_master);
	tcase_add_test(tc, test_mark_file);
	tcase_add_test(tc, test_import_chunks_on_the_master);
	tcase_add_test(tc, test_steps_on_the_master);
	tcase_add_test(tc, test_hostile_bulk_requests_are_refused);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
