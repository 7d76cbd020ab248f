/*
 * sequencer proto: the Sequencer's line protocol without a socket. Tables for proto_split (line
 * ends, the 64 KiB limit exactly at its edges), proto_parse (every case of the Kotlin original's
 * SequencerHandlerTest that needs no counter, then hostile lines) with each reply compared
 * whole, proto_format_value, and the store-result replies. Inputs are copied into buffers of
 * exactly their size, so that ASan reports a read one byte past them.
 */
#include "proto.h"
#include "store.h"
#include "unit.h"

#include <inttypes.h>

#define BYTES(s) s, sizeof(s) - 1
#define UNKNOWN(cmd) "-ERR Unknown command '" cmd "'. Supported: GETSEQ, GETSEQ_BATCH, CURRENT\r\n"
/* 64 bytes, the most of a command that is quoted back */
#define a16 "aaaaaaaaaaaaaaaa"
#define a64 a16 a16 a16 a16
#define a64_less1 a16 a16 a16 "aaaaaaaaaaaaaaa"
#define A16 "AAAAAAAAAAAAAAAA"
#define A64 A16 A16 A16 A16
#define A64_less1 A16 A16 A16 "AAAAAAAAAAAAAAA"
#define BAD_BATCH(arg) \
	"-ERR Invalid batch size '" arg "'. GETSEQ_BATCH takes a count from 1 to 10000\r\n"

/* A heap copy of exactly len bytes (NULL-safe for len 0). */
static char *exact_copy(const char *bytes, size_t len)
{
	char *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, bytes, len);
	return p;
}

/* ---- proto_split ---- */

struct split_row {
	int line;
	const char *in;
	size_t len;
	int result;
	size_t line_len, used; /* PROTO_LINE only */
	const char *desc;
};

static const struct split_row split_rows[] = {
	{ __LINE__, BYTES(""), PROTO_PARTIAL, 0, 0, "nothing yet" },
	{ __LINE__, BYTES("GETSEQ"), PROTO_PARTIAL, 0, 0, "no line end yet" },
	{ __LINE__, BYTES("GETSEQ\r"), PROTO_PARTIAL, 0, 0, "a CR waits for its LF" },
	{ __LINE__, BYTES("GETSEQ\r\n"), PROTO_LINE, 6, 8, "CRLF" },
	{ __LINE__, BYTES("GETSEQ\n"), PROTO_LINE, 6, 7, "a bare LF" },
	{ __LINE__, BYTES("\r\n"), PROTO_LINE, 0, 2, "an empty line, CRLF" },
	{ __LINE__, BYTES("\n"), PROTO_LINE, 0, 1, "an empty line, LF" },
	{ __LINE__, BYTES("GETSEQ\r\r\n"), PROTO_LINE, 7, 9, "only one CR belongs to the end" },
	{ __LINE__, BYTES("GET\rSEQ\n"), PROTO_LINE, 7, 8, "a CR inside is part of the line" },
	{ __LINE__, BYTES("GETSEQ\r\nCURRENT\r\n"), PROTO_LINE, 6, 8, "the first of two" },
	{ __LINE__, BYTES("GETSEQ\nCURR"), PROTO_LINE, 6, 7, "a line, then half of one" },
	{ __LINE__, BYTES("\nGETSEQ\n"), PROTO_LINE, 0, 1, "an empty line first" },
	{ __LINE__, BYTES("GET\0SEQ\n"), PROTO_LINE, 7, 8, "a NUL does not end a line" },
	{ __LINE__, BYTES("\r"), PROTO_PARTIAL, 0, 0, "a lone CR" },
};

START_TEST(test_split)
{
	const struct split_row *row = &split_rows[_i];
	char *in = exact_copy(row->in, row->len), shown[128];
	size_t line_len = 9999, used = 9999;
	int got = proto_split(in, row->len, &line_len, &used);

	unit_show(row->in, row->len, shown, sizeof(shown));
	ck_assert_msg(got == row->result, "line %d: %s: \"%s\" gives %d, want %d", row->line,
	              row->desc, shown, got, row->result);
	if (got == PROTO_LINE)
		ck_assert_msg(line_len == row->line_len && used == row->used,
		              "line %d: %s: line %zu used %zu, want %zu and %zu", row->line, row->desc,
		              line_len, used, row->line_len, row->used);
	free(in);
}
END_TEST

/* Lines at the 64 KiB limit: `body` bytes of 'A', then the end given. */
struct limit_row {
	int line;
	size_t body;
	const char *end;
	const char *after; /* bytes after the end */
	int result;
	size_t line_len, used;
	const char *desc;
};

#define MAX PROTO_LINE_MAX
static const struct limit_row limit_rows[] = {
	{ __LINE__, MAX, "\r\n", "", PROTO_LINE, MAX, MAX + 2, "exactly the limit, CRLF" },
	{ __LINE__, MAX, "\n", "", PROTO_LINE, MAX, MAX + 1, "exactly the limit, LF" },
	{ __LINE__, MAX, "\r\n", "GETSEQ\r\n", PROTO_LINE, MAX, MAX + 2, "the limit, then more" },
	{ __LINE__, MAX, "", "", PROTO_PARTIAL, 0, 0, "the limit, no end yet" },
	{ __LINE__, MAX, "\r", "", PROTO_PARTIAL, 0, 0, "the limit and a CR: it may be the end" },
	{ __LINE__, MAX + 1, "\n", "", PROTO_TOO_LONG, 0, 0, "one byte over, LF" },
	{ __LINE__, MAX + 1, "\r\n", "", PROTO_TOO_LONG, 0, 0, "one byte over, CRLF" },
	{ __LINE__, MAX + 1, "", "", PROTO_TOO_LONG, 0, 0, "one byte over, no end: refused now" },
	{ __LINE__, MAX, "\r\r", "", PROTO_TOO_LONG, 0, 0, "the limit, CR, CR: over" },
	{ __LINE__, MAX + 2, "", "", PROTO_TOO_LONG, 0, 0, "PROTO_BUFFER_MIN bytes, no LF" },
	{ __LINE__, 70 * 1024, "\r\n", "", PROTO_TOO_LONG, 0, 0, "70 KiB" },
	{ __LINE__, 5, "\r\n", "", PROTO_LINE, 5, 7, "short, for contrast" },
};

START_TEST(test_split_limit)
{
	const struct limit_row *row = &limit_rows[_i];
	size_t end = strlen(row->end), after = strlen(row->after);
	size_t len = row->body + end + after, line_len = 0, used = 0;
	char *in = malloc(len);
	int got;

	ck_assert_ptr_nonnull(in);
	memset(in, 'A', row->body);
	memcpy(in + row->body, row->end, end);
	memcpy(in + row->body + end, row->after, after);
	got = proto_split(in, len, &line_len, &used);
	ck_assert_msg(got == row->result, "line %d: %s: got %d, want %d", row->line, row->desc, got,
	              row->result);
	if (got == PROTO_LINE)
		ck_assert_msg(line_len == row->line_len && used == row->used,
		              "line %d: %s: line %zu used %zu", row->line, row->desc, line_len, used);
	free(in);
}
END_TEST

/* ---- proto_parse ---- */

struct parse_row {
	int line;
	const char *in;
	size_t len;
	int kind;
	uint64_t count;
	const char *reply; /* PROTO_ERROR: the whole reply */
	const char *desc;
};

static const struct parse_row parse_rows[] = {
	/* SequencerHandlerTest, "GETSEQ is case insensitive" */
	{ __LINE__, BYTES("getseq"), PROTO_GETSEQ, 1, NULL, "getseq" },
	{ __LINE__, BYTES("GETSEQ"), PROTO_GETSEQ, 1, NULL, "GETSEQ" },
	{ __LINE__, BYTES("GetSeq"), PROTO_GETSEQ, 1, NULL, "GetSeq" },
	{ __LINE__, BYTES("gEtSeQ"), PROTO_GETSEQ, 1, NULL, "gEtSeQ" },
	/* "CURRENT is case insensitive" */
	{ __LINE__, BYTES("current"), PROTO_CURRENT, 0, NULL, "current" },
	{ __LINE__, BYTES("CURRENT"), PROTO_CURRENT, 0, NULL, "CURRENT" },
	{ __LINE__, BYTES("Current"), PROTO_CURRENT, 0, NULL, "Current" },
	/* "handles whitespace in commands" */
	{ __LINE__, BYTES("  GETSEQ  "), PROTO_GETSEQ, 1, NULL, "spaces around" },
	{ __LINE__, BYTES("\tCURRENT\t"), PROTO_CURRENT, 0, NULL, "tabs around" },
	/* "unknown command returns error", "empty command returns error" */
	{ __LINE__, BYTES("FOOBAR"), PROTO_ERROR, 0, UNKNOWN("FOOBAR"), "unknown, quoted back" },
	{ __LINE__, BYTES(""), PROTO_ERROR, 0, UNKNOWN(""), "the empty line" },

	/* whitespace and case, further */
	{ __LINE__, BYTES("   "), PROTO_ERROR, 0, UNKNOWN(""), "only spaces" },
	{ __LINE__, BYTES("\r"), PROTO_ERROR, 0, UNKNOWN(""), "a stray CR is whitespace" },
	{ __LINE__, BYTES(" \t\v\f\rGETSEQ\r\f\v\t "), PROTO_GETSEQ, 1, NULL, "all ASCII spaces" },
	{ __LINE__, BYTES("foobar"), PROTO_ERROR, 0, UNKNOWN("FOOBAR"), "quoted upper-cased" },
	{ __LINE__, BYTES("  foo  "), PROTO_ERROR, 0, UNKNOWN("FOO"), "quoted trimmed" },
	{ __LINE__, BYTES("GET SEQ"), PROTO_ERROR, 0, UNKNOWN("GET SEQ"), "a space inside" },
	{ __LINE__, BYTES("GETSEQ x"), PROTO_ERROR, 0, UNKNOWN("GETSEQ X"),
	  "GETSEQ takes no argument" },
	{ __LINE__, BYTES("GETSEQS"), PROTO_ERROR, 0, UNKNOWN("GETSEQS"), "a longer word" },
	{ __LINE__, BYTES("GETSE"), PROTO_ERROR, 0, UNKNOWN("GETSE"), "a shorter word" },
	{ __LINE__, BYTES("CURRENT 1"), PROTO_ERROR, 0, UNKNOWN("CURRENT 1"),
	  "CURRENT takes no argument" },
	{ __LINE__, BYTES("GETSEQ\0"), PROTO_ERROR, 0, UNKNOWN("GETSEQ?"),
	  "a NUL is not whitespace, and is not quoted raw" },
	{ __LINE__, BYTES("\x01" "abc\x7f"), PROTO_ERROR, 0, UNKNOWN("?ABC?"),
	  "control bytes are quoted as '?'" },
	{ __LINE__, BYTES("a\rb"), PROTO_ERROR, 0, UNKNOWN("A?B"),
	  "a CR inside cannot end the reply early" },
	{ __LINE__, BYTES("\xc3\xa9t\xc3\xa9"), PROTO_ERROR, 0, UNKNOWN("\xc3\xa9T\xc3\xa9"),
	  "UTF-8 passes through; only ASCII is upper-cased" },
	{ __LINE__, BYTES("\xc3\xa9getseq"), PROTO_ERROR, 0, UNKNOWN("\xc3\xa9GETSEQ"),
	  "a non-ASCII byte is no whitespace" },
	{ __LINE__, BYTES("'; DROP"), PROTO_ERROR, 0, UNKNOWN("'; DROP"), "quotes are bytes" },
	{ __LINE__, BYTES("PING"), PROTO_ERROR, 0, UNKNOWN("PING"), "a Redis command" },
	{ __LINE__, BYTES("*1\r\n$6\r\nGETSEQ"), PROTO_ERROR, 0, UNKNOWN("*1??$6??GETSEQ"),
	  "RESP framing is not understood" },
	{ __LINE__, BYTES(a64 "a"), PROTO_ERROR, 0,
	  UNKNOWN(A64 "..."), "65 bytes: quoted up to 64, then ..." },
	{ __LINE__, BYTES(a64), PROTO_ERROR, 0,
	  UNKNOWN(A64), "64 bytes: quoted whole" },
	{ __LINE__, BYTES(a64_less1 "\xc3\xa9"), PROTO_ERROR, 0,
	  UNKNOWN(A64_less1 "..."), "the cut never splits a UTF-8 character" },

	/* GETSEQ_BATCH */
	{ __LINE__, BYTES("GETSEQ_BATCH 1"), PROTO_BATCH, 1, NULL, "the smallest batch" },
	{ __LINE__, BYTES("GETSEQ_BATCH 10000"), PROTO_BATCH, 10000, NULL, "the largest batch" },
	{ __LINE__, BYTES("getseq_batch 100"), PROTO_BATCH, 100, NULL, "case-insensitive" },
	{ __LINE__, BYTES("  GetSeq_Batch \t 7 \t"), PROTO_BATCH, 7, NULL, "spaces and tabs" },
	{ __LINE__, BYTES("GETSEQ_BATCH\t5"), PROTO_BATCH, 5, NULL, "a tab before the count" },
	{ __LINE__, BYTES("GETSEQ_BATCH :100"), PROTO_BATCH, 100, NULL,
	  "the original README's ':100'" },
	{ __LINE__, BYTES("GETSEQ_BATCH 007"), PROTO_BATCH, 7, NULL, "leading zeros" },
	{ __LINE__, BYTES("GETSEQ_BATCH 0"), PROTO_ERROR, 0, BAD_BATCH("0"), "zero" },
	{ __LINE__, BYTES("GETSEQ_BATCH 10001"), PROTO_ERROR, 0, BAD_BATCH("10001"), "one too many" },
	{ __LINE__, BYTES("GETSEQ_BATCH"), PROTO_ERROR, 0, BAD_BATCH(""), "no count" },
	{ __LINE__, BYTES("GETSEQ_BATCH   "), PROTO_ERROR, 0, BAD_BATCH(""), "no count, spaces" },
	{ __LINE__, BYTES("GETSEQ_BATCH -1"), PROTO_ERROR, 0, BAD_BATCH("-1"), "negative" },
	{ __LINE__, BYTES("GETSEQ_BATCH +5"), PROTO_ERROR, 0, BAD_BATCH("+5"), "a plus sign" },
	{ __LINE__, BYTES("GETSEQ_BATCH 1e3"), PROTO_ERROR, 0, BAD_BATCH("1E3"), "an exponent" },
	{ __LINE__, BYTES("GETSEQ_BATCH 0x10"), PROTO_ERROR, 0, BAD_BATCH("0X10"), "hex" },
	{ __LINE__, BYTES("GETSEQ_BATCH 5 6"), PROTO_ERROR, 0, BAD_BATCH("5 6"), "two counts" },
	{ __LINE__, BYTES("GETSEQ_BATCH 5x"), PROTO_ERROR, 0, BAD_BATCH("5X"), "a suffix" },
	{ __LINE__, BYTES("GETSEQ_BATCH :"), PROTO_ERROR, 0, BAD_BATCH(":"), "only the colon" },
	{ __LINE__, BYTES("GETSEQ_BATCH ::5"), PROTO_ERROR, 0, BAD_BATCH("::5"), "two colons" },
	{ __LINE__, BYTES("GETSEQ_BATCH 99999999999999999999999"), PROTO_ERROR, 0,
	  BAD_BATCH("99999999999999999999999"), "past UINT64_MAX" },
	{ __LINE__, BYTES("GETSEQ_BATCH 5\x01"), PROTO_ERROR, 0, BAD_BATCH("5?"),
	  "a control byte in the count" },
	{ __LINE__, BYTES("GETSEQ_BATCH5"), PROTO_ERROR, 0, UNKNOWN("GETSEQ_BATCH5"),
	  "no space after the word: another word" },
	{ __LINE__, BYTES("GETSEQ_BATCHES 5"), PROTO_ERROR, 0, UNKNOWN("GETSEQ_BATCHES 5"),
	  "a longer word" },
	{ __LINE__, BYTES("GETSEQ_BATC 5"), PROTO_ERROR, 0, UNKNOWN("GETSEQ_BATC 5"),
	  "a shorter word" },
};

START_TEST(test_parse)
{
	const struct parse_row *row = &parse_rows[_i];
	char *in = exact_copy(row->in, row->len), shown[256], got_shown[600], want_shown[600];
	struct proto_cmd cmd;
	int got = proto_parse(in, row->len, &cmd);

	unit_show(row->in, row->len, shown, sizeof(shown));
	ck_assert_msg(got == row->kind && cmd.kind == row->kind,
	              "line %d: %s: \"%s\" gives kind %d, want %d", row->line, row->desc, shown, got,
	              row->kind);
	ck_assert_msg(cmd.count == row->count, "line %d: %s: count %" PRIu64 ", want %" PRIu64,
	              row->line, row->desc, cmd.count, row->count);
	if (row->reply) {
		unit_show(cmd.reply, cmd.reply_len, got_shown, sizeof(got_shown));
		unit_show(row->reply, strlen(row->reply), want_shown, sizeof(want_shown));
		ck_assert_msg(cmd.reply_len == strlen(row->reply) &&
		                      memcmp(cmd.reply, row->reply, cmd.reply_len) == 0,
		              "line %d: %s:\n  got  \"%s\"\n  want \"%s\"", row->line, row->desc,
		              got_shown, want_shown);
	}
	free(in);
}
END_TEST

/* A whole 64 KiB line of an unknown command: the reply stays one short line. */
START_TEST(test_parse_longest_line)
{
	char *in = malloc(PROTO_LINE_MAX);
	struct proto_cmd cmd;

	ck_assert_ptr_nonnull(in);
	memset(in, 'x', PROTO_LINE_MAX);
	ck_assert_int_eq(proto_parse(in, PROTO_LINE_MAX, &cmd), PROTO_ERROR);
	ck_assert_uint_lt(cmd.reply_len, 200);
	ck_assert_msg(memcmp(cmd.reply + cmd.reply_len - 2, "\r\n", 2) == 0, "ends in CRLF");
	ck_assert_ptr_null(memchr(cmd.reply, '\n', cmd.reply_len - 1));
	free(in);
}
END_TEST

/* Every byte value alone, and after GETSEQ_BATCH: any reply is one line ending in CRLF. */
START_TEST(test_parse_every_byte)
{
	for (int b = 0; b < 256; b++) {
		char one[1] = { (char)b }, batch[14];
		struct proto_cmd cmd;

		memcpy(batch, "GETSEQ_BATCH ", 13);
		batch[13] = (char)b;
		for (int pass = 0; pass < 2; pass++) {
			int kind = pass ? proto_parse(batch, sizeof(batch), &cmd)
			                : proto_parse(one, sizeof(one), &cmd);

			if (kind != PROTO_ERROR)
				continue;
			ck_assert_msg(cmd.reply_len >= 7 && memcmp(cmd.reply, "-ERR ", 5) == 0 &&
			                      memcmp(cmd.reply + cmd.reply_len - 2, "\r\n", 2) == 0,
			              "byte 0x%02x (pass %d): not one -ERR line", b, pass);
			for (size_t i = 0; i + 2 < cmd.reply_len; i++)
				ck_assert_msg(cmd.reply[i] != '\r' && cmd.reply[i] != '\n',
				              "byte 0x%02x (pass %d): a line end inside the reply", b, pass);
		}
	}
}
END_TEST

/* ---- replies ---- */

struct value_row {
	int line;
	int64_t value;
	const char *reply;
};

static const struct value_row value_rows[] = {
	{ __LINE__, 1, ":1\r\n" },
	{ __LINE__, 100, ":100\r\n" },
	{ __LINE__, 0, ":0\r\n" },
	{ __LINE__, -5, ":-5\r\n" },
	{ __LINE__, INT64_MAX - 1, ":9223372036854775806\r\n" },
	{ __LINE__, INT64_MAX, ":9223372036854775807\r\n" },
	{ __LINE__, INT64_MIN, ":-9223372036854775808\r\n" },
};

START_TEST(test_format_value)
{
	const struct value_row *row = &value_rows[_i];
	char buf[PROTO_REPLY_MAX];
	size_t len = proto_format_value(row->value, buf);

	ck_assert_msg(len == strlen(row->reply) && memcmp(buf, row->reply, len) == 0,
	              "line %d: %" PRId64 " gives \"%.*s\"", row->line, row->value, (int)len, buf);
}
END_TEST

struct store_row {
	int line;
	int rc;
	const char *name;
	uint64_t count;
	const char *reply;
};

static const struct store_row store_rows[] = {
	{ __LINE__, STORE_EXHAUSTED, "sequencer", 1,
	  "-ERR Sequence 'sequencer' reached its maximum; raise its max or enable cycle\r\n" },
	{ __LINE__, STORE_EXHAUSTED, "seq", 100,
	  "-ERR Sequence 'seq' has fewer than 100 values left before its maximum; nothing was "
	  "taken, ask for fewer\r\n" },
	{ __LINE__, STORE_BUSY, "seq", 1, "-ERR Store busy; nothing was taken, retry in a moment\r\n" },
	{ __LINE__, STORE_UNAVAILABLE, "seq", 1, "-ERR Store unavailable; retry in a moment\r\n" },
	{ __LINE__, STORE_TYPE_MISMATCH, "tok", 1,
	  "-ERR Sequence 'tok' holds random ids, not numbers; serve another sequence with "
	  "--sequence\r\n" },
	{ __LINE__, STORE_PREFIX, "INV", 1,
	  "-ERR Sequence 'INV' is a formatted prefix: take its numbers from /api/v1/next, which "
	  "audits each\r\n" },
	{ __LINE__, STORE_FULL, "seq", 1,
	  "-ERR Storage full; nothing was taken, retry once the disk that holds the store has "
	  "room\r\n" },
	{ __LINE__, STORE_LIMIT, "seq", 1,
	  "-ERR Sequence 'seq' cannot be created: max_sequences reached; delete unused sequences "
	  "or raise it\r\n" },
	{ __LINE__, STORE_NOT_FOUND, "seq", 1, "-ERR Sequence 'seq' does not exist\r\n" },
	{ __LINE__, STORE_INVALID, "seq", 1,
	  "-ERR The request is outside what sequence 'seq' allows\r\n" },
	{ __LINE__, STORE_EXISTS, "seq", 1,
	  "-ERR The store refused the request (result 2); see the log\r\n" },
	{ __LINE__, STORE_EXHAUSTED, "\xc3\xa9t\xc3\xa9 a.b", 1,
	  "-ERR Sequence '\xc3\xa9t\xc3\xa9 a.b' reached its maximum; raise its max or enable "
	  "cycle\r\n" },
};

START_TEST(test_store_error)
{
	const struct store_row *row = &store_rows[_i];
	char buf[PROTO_REPLY_MAX];
	size_t len = proto_format_store_error(row->rc, row->name, strlen(row->name), row->count, buf);

	ck_assert_msg(len == strlen(row->reply) && memcmp(buf, row->reply, len) == 0,
	              "line %d: rc %d gives \"%.*s\"", row->line, row->rc, (int)len, buf);
}
END_TEST

/* The longest name fits: the reply is whole and ends in CRLF. */
START_TEST(test_store_error_longest_name)
{
	char name[NAME_MAX_BYTES], buf[PROTO_REPLY_MAX];
	size_t len;

	memset(name, 'n', sizeof(name));
	for (int rc = STORE_NOT_FOUND; rc < STORE_RC_COUNT; rc++) {
		len = proto_format_store_error(rc, name, sizeof(name), 10000, buf);
		ck_assert_msg(len > 7 && len < PROTO_REPLY_MAX, "rc %d: length %zu", rc, len);
		ck_assert_msg(memcmp(buf, "-ERR ", 5) == 0 && memcmp(buf + len - 2, "\r\n", 2) == 0,
		              "rc %d: \"%.*s\"", rc, (int)len, buf);
	}
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("sequencer_proto");
	TCase *tc = tcase_create("tables");

	UNIT_TABLE(tc, test_split, split_rows);
	UNIT_TABLE(tc, test_split_limit, limit_rows);
	UNIT_TABLE(tc, test_parse, parse_rows);
	tcase_add_test(tc, test_parse_longest_line);
	tcase_add_test(tc, test_parse_every_byte);
	UNIT_TABLE(tc, test_format_value, value_rows);
	UNIT_TABLE(tc, test_store_error, store_rows);
	tcase_add_test(tc, test_store_error_longest_name);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
