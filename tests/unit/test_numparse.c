/*
 * numparse: the strict decimal parser. Every row is one input with its bounds and the exact
 * answer: the value, or the refusal and its reason. Inputs carry an explicit length, so embedded
 * NUL bytes and unterminated buffers are tested as the parser sees them.
 */
#include "numparse.h"
#include "unit.h"

#include <inttypes.h>

#define NAN_ "is not a number"
#define BIG "is too large"
#define SMALL "is too small"

/* A string literal with its length (NUL bytes inside count), for rows. */
#define S(lit) lit, sizeof(lit) - 1

struct i64_row {
	int line;
	const char *s;
	size_t len;
	int64_t lo, hi;
	int ok;
	int64_t value;   /* when ok */
	const char *why; /* when not ok: the exact reason */
	const char *desc;
};

static const struct i64_row i64_rows[] = {
	/* accepted */
	{ __LINE__, S("0"), 0, INT64_MAX, 1, 0, NULL, "zero" },
	{ __LINE__, S("1"), 0, INT64_MAX, 1, 1, NULL, "one" },
	{ __LINE__, S("007"), 0, INT64_MAX, 1, 7, NULL, "leading zeros are plain digits" },
	{ __LINE__, S("0000000000000000000000000000042"), 0, INT64_MAX, 1, 42, NULL,
	  "many leading zeros do not overflow" },
	{ __LINE__, S("9223372036854775807"), 0, INT64_MAX, 1, INT64_MAX, NULL, "INT64_MAX" },
	{ __LINE__, S("-9223372036854775808"), INT64_MIN, INT64_MAX, 1, INT64_MIN, NULL,
	  "INT64_MIN when lo < 0" },
	{ __LINE__, S("-9223372036854775807"), INT64_MIN, INT64_MAX, 1, -INT64_MAX, NULL,
	  "-INT64_MAX" },
	{ __LINE__, S("-1"), -1, 1, 1, -1, NULL, "-1 when lo is -1" },
	{ __LINE__, S("-0"), -5, 5, 1, 0, NULL, "minus zero is zero when a sign is allowed" },
	{ __LINE__, S("10000"), 1, 10000, 1, 10000, NULL, "exactly hi" },
	{ __LINE__, S("1"), 1, 10000, 1, 1, NULL, "exactly lo" },
	{ __LINE__, S("-3"), -3, -1, 1, -3, NULL, "exactly a negative lo" },
	{ __LINE__, "12345", 3, 0, INT64_MAX, 1, 123, NULL, "only len bytes are read" },

	/* not a number */
	{ __LINE__, S(""), 0, INT64_MAX, 0, 0, NAN_, "empty" },
	{ __LINE__, S(""), INT64_MIN, INT64_MAX, 0, 0, NAN_, "empty with a sign allowed" },
	{ __LINE__, S(" 5"), 0, INT64_MAX, 0, 0, NAN_, "leading space" },
	{ __LINE__, S("5 "), 0, INT64_MAX, 0, 0, NAN_, "trailing space" },
	{ __LINE__, S("\t5"), 0, INT64_MAX, 0, 0, NAN_, "leading tab" },
	{ __LINE__, S("5\n"), 0, INT64_MAX, 0, 0, NAN_, "trailing newline" },
	{ __LINE__, S("+5"), 0, INT64_MAX, 0, 0, NAN_, "plus sign" },
	{ __LINE__, S("+5"), INT64_MIN, INT64_MAX, 0, 0, NAN_, "plus sign with a sign allowed" },
	{ __LINE__, S("1e3"), 0, INT64_MAX, 0, 0, NAN_, "exponent" },
	{ __LINE__, S("0x10"), 0, INT64_MAX, 0, 0, NAN_, "hex" },
	{ __LINE__, S("10abc"), 0, INT64_MAX, 0, 0, NAN_, "trailing letters" },
	{ __LINE__, S("1.0"), 0, INT64_MAX, 0, 0, NAN_, "decimal point" },
	{ __LINE__, S("1,000"), 0, INT64_MAX, 0, 0, NAN_, "thousands separator" },
	{ __LINE__, S("1_000"), 0, INT64_MAX, 0, 0, NAN_, "underscore separator" },
	{ __LINE__, S("-"), INT64_MIN, INT64_MAX, 0, 0, NAN_, "a lone minus" },
	{ __LINE__, S("--1"), INT64_MIN, INT64_MAX, 0, 0, NAN_, "double minus" },
	{ __LINE__, S("-+1"), INT64_MIN, INT64_MAX, 0, 0, NAN_, "minus plus" },
	{ __LINE__, S("1-"), INT64_MIN, INT64_MAX, 0, 0, NAN_, "trailing minus" },
	{ __LINE__, S("- 1"), INT64_MIN, INT64_MAX, 0, 0, NAN_, "space after the minus" },
	{ __LINE__, S("-1"), 0, INT64_MAX, 0, 0, NAN_, "a minus when lo >= 0" },
	{ __LINE__, S("-0"), 0, INT64_MAX, 0, 0, NAN_, "minus zero when lo >= 0" },
	{ __LINE__, S("-9223372036854775808"), 0, INT64_MAX, 0, 0, NAN_,
	  "INT64_MIN when lo >= 0" },
	{ __LINE__, S("5\0"), 0, INT64_MAX, 0, 0, NAN_, "trailing NUL byte" },
	{ __LINE__, S("\0" "5"), 0, INT64_MAX, 0, 0, NAN_, "leading NUL byte" },
	{ __LINE__, S("1\0" "2"), 0, INT64_MAX, 0, 0, NAN_, "embedded NUL byte" },
	{ __LINE__, S("\xd9\xa1"), 0, INT64_MAX, 0, 0, NAN_, "ARABIC-INDIC DIGIT ONE" },
	{ __LINE__, S("\xef\xbc\x95"), 0, INT64_MAX, 0, 0, NAN_, "FULLWIDTH DIGIT FIVE" },
	{ __LINE__, S("/"), 0, INT64_MAX, 0, 0, NAN_, "the byte before '0'" },
	{ __LINE__, S(":"), 0, INT64_MAX, 0, 0, NAN_, "the byte after '9'" },
	{ __LINE__, S("\xb0"), 0, INT64_MAX, 0, 0, NAN_, "'0' + 0x80" },
	{ __LINE__, S("99999999999999999999999x"), 0, INT64_MAX, 0, 0, NAN_,
	  "garbage after an overflow is still not a number" },
	{ __LINE__, S("-99999999999999999999999x"), INT64_MIN, INT64_MAX, 0, 0, NAN_,
	  "garbage after a negative overflow is still not a number" },

	/* too large */
	{ __LINE__, S("9223372036854775808"), 0, INT64_MAX, 0, 0, BIG, "INT64_MAX + 1" },
	{ __LINE__, S("18446744073709551615"), 0, INT64_MAX, 0, 0, BIG, "UINT64_MAX as i64" },
	{ __LINE__, S("18446744073709551616"), 0, INT64_MAX, 0, 0, BIG, "UINT64_MAX + 1 as i64" },
	{ __LINE__, S("99999999999999999999999"), 0, INT64_MAX, 0, 0, BIG, "23 digits" },
	{ __LINE__, S("100000000000000000000"), INT64_MIN, INT64_MAX, 0, 0, BIG,
	  "21 digits with a sign allowed" },
	{ __LINE__, S("10001"), 1, 10000, 0, 0, BIG, "hi + 1" },
	{ __LINE__, S("2147483648"), 1, INT32_MAX, 0, 0, BIG, "INT32_MAX + 1" },
	{ __LINE__, S("0"), -10, -1, 0, 0, BIG, "zero above a negative hi" },
	{ __LINE__, S("-1"), -10, -2, 0, 0, BIG, "negative above a negative hi" },

	/* too small */
	{ __LINE__, S("0"), 1, 10000, 0, 0, SMALL, "zero below lo = 1" },
	{ __LINE__, S("000"), 1, 10000, 0, 0, SMALL, "zeros below lo = 1" },
	{ __LINE__, S("-9223372036854775809"), INT64_MIN, INT64_MAX, 0, 0, SMALL,
	  "INT64_MIN - 1" },
	{ __LINE__, S("-18446744073709551616"), INT64_MIN, INT64_MAX, 0, 0, SMALL,
	  "-(UINT64_MAX + 1)" },
	{ __LINE__, S("-99999999999999999999999"), INT64_MIN, INT64_MAX, 0, 0, SMALL,
	  "23 digits negative" },
	{ __LINE__, S("-11"), -10, 10, 0, 0, SMALL, "lo - 1" },
};

START_TEST(test_i64)
{
	const struct i64_row *row = &i64_rows[_i];
	const int64_t sentinel = 0x5a5a5a5a;
	int64_t out = sentinel;
	const char *why = NULL;
	int rc = numparse_i64(row->s, row->len, row->lo, row->hi, &out, &why);

	if (row->ok) {
		ck_assert_msg(rc == 0, "line %d: %s: refused (%s)", row->line, row->desc,
		              why ? why : "no reason");
		ck_assert_msg(out == row->value, "line %d: %s: got %" PRId64 ", want %" PRId64,
		              row->line, row->desc, out, row->value);
	} else {
		ck_assert_msg(rc == -1, "line %d: %s: accepted as %" PRId64 ", want refused",
		              row->line, row->desc, out);
		ck_assert_msg(why && strcmp(why, row->why) == 0,
		              "line %d: %s: why \"%s\", want \"%s\"", row->line, row->desc,
		              why ? why : "(null)", row->why);
		ck_assert_msg(out == sentinel, "line %d: %s: *out changed on failure", row->line,
		              row->desc);
	}
}
END_TEST

struct u64_row {
	int line;
	const char *s;
	size_t len;
	uint64_t lo, hi;
	int ok;
	uint64_t value;
	const char *why;
	const char *desc;
};

static const struct u64_row u64_rows[] = {
	{ __LINE__, S("0"), 0, UINT64_MAX, 1, 0, NULL, "zero" },
	{ __LINE__, S("1"), 0, UINT64_MAX, 1, 1, NULL, "one" },
	{ __LINE__, S("007"), 0, UINT64_MAX, 1, 7, NULL, "leading zeros" },
	{ __LINE__, S("9223372036854775807"), 0, UINT64_MAX, 1, INT64_MAX, NULL, "INT64_MAX" },
	{ __LINE__, S("9223372036854775808"), 0, UINT64_MAX, 1, (uint64_t)INT64_MAX + 1, NULL,
	  "INT64_MAX + 1 fits a u64" },
	{ __LINE__, S("18446744073709551615"), 0, UINT64_MAX, 1, UINT64_MAX, NULL, "UINT64_MAX" },
	{ __LINE__, S("018446744073709551615"), 0, UINT64_MAX, 1, UINT64_MAX, NULL,
	  "UINT64_MAX with a leading zero" },
	{ __LINE__, S("65536"), 0, 65536, 1, 65536, NULL, "exactly hi" },

	{ __LINE__, S(""), 0, UINT64_MAX, 0, 0, NAN_, "empty" },
	{ __LINE__, S("-0"), 0, UINT64_MAX, 0, 0, NAN_, "never a sign: -0" },
	{ __LINE__, S("-1"), 0, UINT64_MAX, 0, 0, NAN_, "never a sign: -1" },
	{ __LINE__, S("+1"), 0, UINT64_MAX, 0, 0, NAN_, "never a sign: +1" },
	{ __LINE__, S(" 5"), 0, UINT64_MAX, 0, 0, NAN_, "leading space" },
	{ __LINE__, S("5 "), 0, UINT64_MAX, 0, 0, NAN_, "trailing space" },
	{ __LINE__, S("1e3"), 0, UINT64_MAX, 0, 0, NAN_, "exponent" },
	{ __LINE__, S("0x10"), 0, UINT64_MAX, 0, 0, NAN_, "hex" },
	{ __LINE__, S("10abc"), 0, UINT64_MAX, 0, 0, NAN_, "trailing letters" },
	{ __LINE__, S("1\0" "0"), 0, UINT64_MAX, 0, 0, NAN_, "embedded NUL byte" },
	{ __LINE__, S("184467440737095516150abc"), 0, UINT64_MAX, 0, 0, NAN_,
	  "garbage after an overflow is still not a number" },

	{ __LINE__, S("18446744073709551616"), 0, UINT64_MAX, 0, 0, BIG, "UINT64_MAX + 1" },
	{ __LINE__, S("18446744073709551620"), 0, UINT64_MAX, 0, 0, BIG,
	  "overflow in the last digit" },
	{ __LINE__, S("28446744073709551615"), 0, UINT64_MAX, 0, 0, BIG,
	  "overflow in the first digit" },
	{ __LINE__, S("184467440737095516150"), 0, UINT64_MAX, 0, 0, BIG, "21 digits" },
	{ __LINE__, S("99999999999999999999999999999999"), 0, UINT64_MAX, 0, 0, BIG, "32 digits" },
	{ __LINE__, S("65537"), 0, 65536, 0, 0, BIG, "hi + 1" },

	{ __LINE__, S("0"), 1, 1000, 0, 0, SMALL, "below lo" },
	{ __LINE__, S("999"), 1000, 2000, 0, 0, SMALL, "lo - 1" },
};

START_TEST(test_u64)
{
	const struct u64_row *row = &u64_rows[_i];
	const uint64_t sentinel = 0x5a5a5a5a;
	uint64_t out = sentinel;
	const char *why = NULL;
	int rc = numparse_u64(row->s, row->len, row->lo, row->hi, &out, &why);

	if (row->ok) {
		ck_assert_msg(rc == 0, "line %d: %s: refused (%s)", row->line, row->desc,
		              why ? why : "no reason");
		ck_assert_msg(out == row->value, "line %d: %s: got %" PRIu64 ", want %" PRIu64,
		              row->line, row->desc, out, row->value);
	} else {
		ck_assert_msg(rc == -1, "line %d: %s: accepted as %" PRIu64 ", want refused",
		              row->line, row->desc, out);
		ck_assert_msg(why && strcmp(why, row->why) == 0,
		              "line %d: %s: why \"%s\", want \"%s\"", row->line, row->desc,
		              why ? why : "(null)", row->why);
		ck_assert_msg(out == sentinel, "line %d: %s: *out changed on failure", row->line,
		              row->desc);
	}
}
END_TEST

/* Every decimal rendering of a value near a boundary parses back to itself. */
START_TEST(test_round_trip)
{
	static const int64_t values[] = {
		INT64_MIN, INT64_MIN + 1, -4294967296, -2147483649, -2147483648, -1, 0, 1, 9, 10,
		99, 100, 2147483647, 2147483648, 4294967295, 4294967296, INT64_MAX - 1, INT64_MAX,
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%" PRId64, values[i]);
		int64_t out = 0;
		const char *why = NULL;

		ck_assert_msg(numparse_i64(buf, (size_t)n, INT64_MIN, INT64_MAX, &out, &why) == 0 &&
		                      out == values[i],
		              "value %s: got %" PRId64 " (%s)", buf, out, why ? why : "ok");
		if (values[i] >= 0) {
			uint64_t u = 0;

			ck_assert_msg(numparse_u64(buf, (size_t)n, 0, UINT64_MAX, &u, &why) == 0 &&
			                      u == (uint64_t)values[i],
			              "u64 value %s: got %" PRIu64, buf, u);
		}
	}
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("numparse");
	TCase *tc = tcase_create("tables");

	UNIT_TABLE(tc, test_i64, i64_rows);
	UNIT_TABLE(tc, test_u64, u64_rows);
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
