/*
 * template: number templates and reset periods. Tables for the rule names, for template_check
 * (every valid form and every hostile one, with the exact reason), for template_render (exact
 * strings, and buffers of every size around the answer), and for periods and their first days.
 * Three sweeps close it: every day of 1999..2101 through the periods, generated templates through
 * check and render (which must agree and never overrun), and every byte value in the places the
 * grammar cares about.
 */
#include "template.h"
#include "unit.h"

#include <inttypes.h>
#include <time.h>

#define NEVER TEMPLATE_NEVER
#define DAILY TEMPLATE_DAILY
#define MONTHLY TEMPLATE_MONTHLY
#define YEARLY TEMPLATE_YEARLY

#define D(y, m, d) { (y), (m), (d) }

/* ---- rule names ---- */

struct rule_row {
	int line;
	const char *s;
	size_t len;
	int rule;
	const char *desc;
};

/* A string literal with its length (NUL bytes inside count). */
#define S(lit) lit, sizeof(lit) - 1

static const struct rule_row rule_rows[] = {
	{ __LINE__, S("never"), NEVER, "never" },
	{ __LINE__, S("daily"), DAILY, "daily" },
	{ __LINE__, S("monthly"), MONTHLY, "monthly" },
	{ __LINE__, S("yearly"), YEARLY, "yearly" },
	{ __LINE__, S(""), -1, "empty" },
	{ __LINE__, S("Daily"), -1, "case-sensitive" },
	{ __LINE__, S("day"), -1, "a prefix of a name" },
	{ __LINE__, S("dailyx"), -1, "a name and more" },
	{ __LINE__, S("daily\0"), -1, "a name and a NUL" },
	{ __LINE__, S(" daily"), -1, "leading space" },
	{ __LINE__, S("weekly"), -1, "no such rule" },
	{ __LINE__, NULL, 0, -1, "NULL" },
};

START_TEST(test_rule)
{
	const struct rule_row *row = &rule_rows[_i];
	int got = template_rule_parse(row->s, row->len);

	ck_assert_msg(got == row->rule, "line %d: %s: got %d, want %d", row->line, row->desc, got,
	              row->rule);
	if (row->rule >= 0)
		ck_assert_msg(strlen(template_rule_name(got)) == row->len &&
		                      memcmp(template_rule_name(got), row->s, row->len) == 0,
		              "line %d: %s: name \"%s\"", row->line, row->desc,
		              template_rule_name(got));
}
END_TEST

START_TEST(test_rule_name_unknown)
{
	ck_assert_str_eq(template_rule_name(-1), "?");
	ck_assert_str_eq(template_rule_name(4), "?");
	ck_assert_str_eq(template_rule_name(255), "?");
}
END_TEST

/* ---- template_check ---- */

#define EMPTY "format_template is empty."
#define LONG "format_template is longer than 47 bytes."
#define CTRL "format_template must not contain control characters."
#define UTF8 "format_template must be valid UTF-8."
#define MIXED "format_template mixes {placeholders} with % conversions."
#define UNKNOWN                                                                              \
	"format_template has an unknown placeholder; use {prefix}, {counter}, {counter:N}, "   \
	"{yyyy}, {yy}, {mm} or {dd}."
#define UNOPENED "format_template has a '}' without an opening '{'."
#define UNCLOSED "format_template has a '{' without a closing '}'."
#define COUNTER_N "format_template {counter:N} needs N from 1 to 18."
#define NO_COUNTER "format_template has no counter; use {counter} or %d."
#define TWO_COUNTERS "format_template has more than one counter."
#define LONE "format_template ends with a lone '%'."
#define CONV "format_template allows only %s, %d, %Nd, %0Nd (N from 1 to 18) and %%."
#define WIDTH "format_template conversion width must be from 1 to 18."
#define TWO_S "format_template has more than one %s."
#define THREE_D "format_template has more than two integer conversions."

struct check_row {
	int line;
	const char *tmpl;
	const char *why; /* NULL: valid */
	const char *desc;
};

static const struct check_row check_rows[] = {
	/* valid: brace form */
	{ __LINE__, "{counter}", NULL, "the counter alone" },
	{ __LINE__, "{prefix}{counter}", NULL, "prefix and counter" },
	{ __LINE__, "{prefix}-{yyyy}{mm}-{counter:5}", NULL, "the issue's purchase order" },
	{ __LINE__, "{counter:1}", NULL, "smallest width" },
	{ __LINE__, "{counter:18}", NULL, "largest width" },
	{ __LINE__, "{counter:06}", NULL, "a width with a leading zero is still 6" },
	{ __LINE__, "{yy}{mm}{dd}{yyyy}{counter}", NULL, "every date field" },
	{ __LINE__, "{prefix}{prefix}{counter}", NULL, "the prefix twice" },
	{ __LINE__, "{yyyy}/{yyyy}/{counter}", NULL, "a date field twice" },
	{ __LINE__, "Rechnung-{counter:4}-\xe2\x82\xac", NULL, "UTF-8 text (a euro sign)" },
	{ __LINE__, "\xe7\x99\xba\xe6\xb3\xa8{counter}", NULL, "UTF-8 text first" },
	{ __LINE__, "\xf0\x9f\x98\x80{counter}", NULL, "a four-byte character" },
	{ __LINE__, "a b:c;d\"e\\f'{counter}", NULL, "punctuation, quotes and backslash" },
	/* valid: printf form */
	{ __LINE__, "%s%06d", NULL, "the seed's default" },
	{ __LINE__, "INV%d-%04d", NULL, "the seed's invoice" },
	{ __LINE__, "%d", NULL, "a bare counter" },
	{ __LINE__, "%1d", NULL, "width 1" },
	{ __LINE__, "%18d", NULL, "width 18, padded with zeros" },
	{ __LINE__, "%018d", NULL, "zero width 18" },
	{ __LINE__, "%d%s", NULL, "the prefix after the counter" },
	{ __LINE__, "%06d-%s-%04d", NULL, "period, prefix, counter" },
	{ __LINE__, "100%%-%d", NULL, "a literal percent" },
	{ __LINE__, "%%%%%d%%", NULL, "percents everywhere" },
	{ __LINE__, "\xe2\x84\x96%s%03d", NULL, "UTF-8 text in printf form" },
	/* too short, too long, bad bytes */
	{ __LINE__, "", EMPTY, "empty" },
	{ __LINE__, NULL, EMPTY, "NULL" },
	{ __LINE__, "{counter}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL, "47 bytes" },
	{ __LINE__, "{counter}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", LONG, "48 bytes" },
	{ __LINE__, "%dxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	  LONG, "far too long" },
	{ __LINE__, "{counter}\0junk{", NULL, "NUL in the middle: the template ends there" },
	{ __LINE__, "%s\0%06d", NO_COUNTER, "NUL in the middle cuts the counter off" },
	{ __LINE__, "\0{counter}", EMPTY, "NUL first" },
	{ __LINE__, "{counter}\n", CTRL, "newline" },
	{ __LINE__, "\t%d", CTRL, "tab" },
	{ __LINE__, "%d\x7f", CTRL, "DEL" },
	{ __LINE__, "%d\x1b[31m", CTRL, "an escape sequence" },
	{ __LINE__, "\xff%d", UTF8, "a byte that is never UTF-8" },
	{ __LINE__, "\xc0\xaf%d", UTF8, "overlong '/'" },
	{ __LINE__, "\xed\xa0\x80%d", UTF8, "a surrogate" },
	{ __LINE__, "%d\xe2\x82", UTF8, "a character cut short at the end" },
	{ __LINE__, "\xc3{counter}", UTF8, "a lead byte before a brace" },
	{ __LINE__, "\xff\n%d", CTRL, "a control character is the more specific complaint" },
	/* mixed forms */
	{ __LINE__, "{prefix}%06d", MIXED, "brace prefix, printf counter" },
	{ __LINE__, "%s{counter}", MIXED, "printf prefix, brace counter" },
	{ __LINE__, "{counter}%%", MIXED, "even a literal percent" },
	{ __LINE__, "%d}", MIXED, "a stray brace in printf form" },
	/* hostile brace forms */
	{ __LINE__, "{", UNCLOSED, "a lone '{'" },
	{ __LINE__, "}", UNOPENED, "a lone '}'" },
	{ __LINE__, "{counter", UNCLOSED, "unclosed counter" },
	{ __LINE__, "counter}", UNOPENED, "unopened counter" },
	{ __LINE__, "{counter}}", UNOPENED, "one '}' too many" },
	{ __LINE__, "{{counter}}", UNCLOSED, "doubled braces are no escape" },
	{ __LINE__, "{counter{}}", UNCLOSED, "a brace inside a placeholder" },
	{ __LINE__, "{}{counter}", UNKNOWN, "an empty placeholder" },
	{ __LINE__, "{Counter}", UNKNOWN, "names are case-sensitive" },
	{ __LINE__, "{ counter}", UNKNOWN, "a space in a placeholder" },
	{ __LINE__, "{counter }", UNKNOWN, "a trailing space in a placeholder" },
	{ __LINE__, "{count}", UNKNOWN, "a prefix of a name" },
	{ __LINE__, "{counterx}", UNKNOWN, "a name and more" },
	{ __LINE__, "{hh}{counter}", UNKNOWN, "no hours" },
	{ __LINE__, "{prefix:3}{counter}", UNKNOWN, "only the counter takes a width" },
	{ __LINE__, "{counter:}", COUNTER_N, "no width" },
	{ __LINE__, "{counter:0}", COUNTER_N, "width 0" },
	{ __LINE__, "{counter:19}", COUNTER_N, "width 19" },
	{ __LINE__, "{counter:-1}", COUNTER_N, "negative width" },
	{ __LINE__, "{counter:+5}", COUNTER_N, "a sign" },
	{ __LINE__, "{counter:1a}", COUNTER_N, "a width and a letter" },
	{ __LINE__, "{counter: 5}", COUNTER_N, "a space before the width" },
	{ __LINE__, "{counter:99999999999999999999999}", COUNTER_N, "a width past UINT64_MAX" },
	{ __LINE__, "{counter:5:5}", COUNTER_N, "two widths" },
	{ __LINE__, "{prefix}-{yyyy}", NO_COUNTER, "no counter" },
	{ __LINE__, "{counter}{counter}", TWO_COUNTERS, "two counters" },
	{ __LINE__, "{counter:3}-{counter}", TWO_COUNTERS, "two counters, one with a width" },
	/* hostile printf forms */
	{ __LINE__, "ABC", NO_COUNTER, "plain text" },
	{ __LINE__, "%s", NO_COUNTER, "the prefix alone" },
	{ __LINE__, "%%d", NO_COUNTER, "an escaped percent and a 'd'" },
	{ __LINE__, "%", LONE, "a lone '%'" },
	{ __LINE__, "%d%", LONE, "a lone '%' at the end" },
	{ __LINE__, "%0d", WIDTH, "a zero flag and no width" },
	{ __LINE__, "%00d", WIDTH, "width 00" },
	{ __LINE__, "%007d", WIDTH, "a width with a leading zero after the flag" },
	{ __LINE__, "%019d", WIDTH, "zero width 19" },
	{ __LINE__, "%19d", WIDTH, "width 19" },
	{ __LINE__, "%99999999999999999999999d", WIDTH, "a width past UINT64_MAX" },
	{ __LINE__, "%s%s%d", TWO_S, "two %s" },
	{ __LINE__, "%d%d%d", THREE_D, "three %d" },
	{ __LINE__, "%d-%d-%04d", THREE_D, "three %d with text" },
	{ __LINE__, "%x", CONV, "%x" },
	{ __LINE__, "%f", CONV, "%f" },
	{ __LINE__, "%n", CONV, "%n" },
	{ __LINE__, "%*d", CONV, "%*d" },
	{ __LINE__, "%-5d", CONV, "%-5d" },
	{ __LINE__, "%+d", CONV, "%+d" },
	{ __LINE__, "% d", CONV, "% d" },
	{ __LINE__, "%ld", CONV, "%ld" },
	{ __LINE__, "%lld", CONV, "%lld" },
	{ __LINE__, "%i", CONV, "%i" },
	{ __LINE__, "%u", CONV, "%u" },
	{ __LINE__, "%c", CONV, "%c" },
	{ __LINE__, "%p", CONV, "%p" },
	{ __LINE__, "%1$d", CONV, "a positional argument" },
	{ __LINE__, "%.3d", CONV, "a precision" },
	{ __LINE__, "%5s%d", CONV, "a width on %s" },
	{ __LINE__, "%06", CONV, "a width and no conversion" },
	{ __LINE__, "%06s", CONV, "a zero width on %s" },
	{ __LINE__, "%D", CONV, "upper-case D" },
	{ __LINE__, "%\xe2\x82\xac", CONV, "a '%' before a UTF-8 character" },
	{ __LINE__, "%d%s%s", TWO_S, "two %s after a counter" },
	{ __LINE__, "%d%x", CONV, "a good conversion, then a bad one" },
};

START_TEST(test_check)
{
	const struct check_row *row = &check_rows[_i];
	const char *why = "(untouched)";
	int rc = template_check(row->tmpl, &why);

	if (row->why == NULL) {
		ck_assert_msg(rc == 0, "line %d: %s: refused: %s", row->line, row->desc, why);
		ck_assert_msg(strcmp(why, "(untouched)") == 0, "line %d: %s: why set", row->line,
		              row->desc);
		return;
	}
	ck_assert_msg(rc == -1, "line %d: %s: accepted, want \"%s\"", row->line, row->desc,
	              row->why);
	ck_assert_msg(strcmp(why, row->why) == 0, "line %d: %s: why \"%s\", want \"%s\"", row->line,
	              row->desc, why, row->why);
	ck_assert_int_eq(template_check(row->tmpl, NULL), -1); /* why is optional */
}
END_TEST

/* Every length from 9 to 60 in both forms, so the boundary sits in a run of both answers. */
START_TEST(test_check_lengths)
{
	for (size_t len = 9; len <= 60; len++) {
		char brace[64], printf_[64];
		const char *why = NULL;
		int want = len <= TEMPLATE_MAX ? 0 : -1;

		memset(brace, 'x', len);
		memset(printf_, 'x', len);
		brace[len] = printf_[len] = '\0';
		memcpy(brace, "{counter}", 9);
		memcpy(printf_, "%d", 2);
		ck_assert_msg(template_check(brace, &why) == want, "brace, %zu bytes", len);
		ck_assert_msg(want == 0 || strcmp(why, LONG) == 0, "brace, %zu bytes: %s", len, why);
		ck_assert_msg(template_check(printf_, &why) == want, "printf, %zu bytes", len);
		ck_assert_msg(want == 0 || strcmp(why, LONG) == 0, "printf, %zu bytes: %s", len, why);
	}
}
END_TEST

/* A record field of 48 bytes with no NUL (a corrupt record): refused without reading past it. */
START_TEST(test_check_unterminated)
{
	char *field = malloc(TEMPLATE_MAX + 1);
	const char *why = NULL;
	char out[128];

	ck_assert_ptr_nonnull(field);
	memset(field, 'x', TEMPLATE_MAX + 1);
	memcpy(field, "%d", 2);
	ck_assert_int_eq(template_check(field, &why), -1);
	ck_assert_str_eq(why, LONG);
	ck_assert_int_eq(template_render(field, "P", 1, 1, 0, NEVER, NULL, out, sizeof(out)), -1);
	free(field);
}
END_TEST

/* ---- template_render ---- */

struct render_row {
	int line;
	const char *tmpl;
	const char *prefix; /* NUL-terminated here; its strlen is passed */
	int64_t n;
	unsigned padding;
	int rule;
	struct calendar_date date;
	const char *want; /* NULL: -1 */
	const char *desc;
};

#define DAY D(2026, 11, 22)

static const struct render_row render_rows[] = {
	/* the issue's examples */
	{ __LINE__, "%s%06d", "SG", 1, 0, NEVER, DAY, "SG000001", "the seed's default" },
	{ __LINE__, "INV%d-%04d", "X", 1, 0, YEARLY, DAY, "INV2026-0001", "yearly: the year" },
	{ __LINE__, "INV%d-%04d", "X", 1, 0, MONTHLY, DAY, "INV202611-0001", "monthly: yyyymm" },
	{ __LINE__, "INV%d-%04d", "X", 1, 0, DAILY, DAY, "INV20261122-0001", "daily: yyyymmdd" },
	{ __LINE__, "INV%d-%04d", "X", 1, 0, NEVER, DAY, "INV2026-0001", "never: the year" },
	{ __LINE__, "{prefix}-{yyyy}{mm}-{counter:5}", "PO", 42, 0, MONTHLY, DAY,
	  "PO-202611-00042", "the purchase order" },
	/* widths */
	{ __LINE__, "%04d", "", 123456, 0, NEVER, DAY, "123456", "wider than %04d: in full" },
	{ __LINE__, "{counter:3}", "", 1000, 0, NEVER, DAY, "1000", "wider than {counter:3}" },
	{ __LINE__, "{counter}", "", 1234567, 6, NEVER, DAY, "1234567", "wider than padding 6" },
	{ __LINE__, "{counter}", "", 7, 0, NEVER, DAY, "7", "padding 0: none" },
	{ __LINE__, "{counter}", "", 7, 6, NEVER, DAY, "000007", "padding 6" },
	{ __LINE__, "{counter}", "", 0, 0, NEVER, DAY, "0", "counter 0" },
	{ __LINE__, "{counter}", "", 0, 3, NEVER, DAY, "000", "counter 0, padding 3" },
	{ __LINE__, "{counter}", "", 1, 18, NEVER, DAY, "000000000000000001", "padding 18" },
	{ __LINE__, "{counter:18}", "", INT64_MAX, 0, NEVER, DAY, "9223372036854775807",
	  "INT64_MAX is wider than any padding" },
	{ __LINE__, "{counter:2}", "", 5, 9, NEVER, DAY, "05", "{counter:N} ignores padding" },
	{ __LINE__, "%d", "", 5, 9, NEVER, DAY, "5", "%d ignores padding" },
	{ __LINE__, "%3d", "", 5, 0, NEVER, DAY, "005", "%Nd pads with zeros, not spaces" },
	{ __LINE__, "%18d", "", 5, 0, NEVER, DAY, "000000000000000005", "%18d" },
	{ __LINE__, "%06d-%d", "", 1, 0, YEARLY, DAY, "002026-1", "a width on the period" },
	{ __LINE__, "%d/%d", "", 1, 0, DAILY, D(2026, 1, 2), "20260102/1",
	  "a daily period keeps its zeros" },
	/* date fields */
	{ __LINE__, "{yy}{mm}{dd}-{counter}", "", 3, 0, DAILY, D(2026, 1, 5), "260105-3",
	  "{yy}, {mm} and {dd} are two digits" },
	{ __LINE__, "{yy}-{counter}", "", 3, 0, YEARLY, D(2000, 1, 1), "00-3", "{yy} of 2000" },
	{ __LINE__, "{yyyy}.{yy}-{counter}", "", 3, 0, YEARLY, D(5, 1, 1), "0005.05-3",
	  "year 5 is four digits" },
	{ __LINE__, "{yyyy}-{counter}", "", 3, 0, YEARLY, D(9999, 12, 31), "9999-3", "year 9999" },
	{ __LINE__, "{dd}.{mm}.{yyyy}/{counter}", "", 1, 0, DAILY, D(2024, 2, 29), "29.02.2024/1",
	  "a leap day" },
	{ __LINE__, "{dd}.{mm}.{yyyy}/{counter}", "", 1, 0, DAILY, D(2000, 2, 29), "29.02.2000/1",
	  "2000 is a leap year" },
	/* text and prefixes */
	{ __LINE__, "Rechnung-{counter:4}-\xe2\x82\xac", "", 42, 0, NEVER, DAY,
	  "Rechnung-0042-\xe2\x82\xac", "UTF-8 text copied as is" },
	{ __LINE__, "\xe2\x84\x96%s%03d", "SG", 7, 0, NEVER, DAY, "\xe2\x84\x96SG007",
	  "UTF-8 text in printf form" },
	{ __LINE__, "\xe7\x99\xba\xe6\xb3\xa8{counter}", "", 1, 0, NEVER, DAY,
	  "\xe7\x99\xba\xe6\xb3\xa8" "1", "UTF-8 text first" },
	{ __LINE__, "%s-%d", "Z\xc3\xbcrich", 1, 0, NEVER, DAY, "Z\xc3\xbcrich-1", "UTF-8 prefix" },
	{ __LINE__, "{prefix}{counter}", "a%d{x}%", 1, 0, NEVER, DAY, "a%d{x}%1",
	  "a prefix is copied, never parsed" },
	{ __LINE__, "%s%d", "", 1, 0, NEVER, DAY, "1", "an empty prefix" },
	{ __LINE__, "{prefix}{prefix}{counter}", "ab", 1, 0, NEVER, DAY, "abab1", "prefix twice" },
	{ __LINE__, "100%%-%d%%", "", 5, 0, NEVER, DAY, "100%-5%", "literal percents" },
	{ __LINE__, "%%%s%%%d", "P", 5, 0, NEVER, DAY, "%P%5", "percents around conversions" },
	{ __LINE__, "{counter}\0{prefix}", "P", 5, 0, NEVER, DAY, "5", "the template ends at NUL" },
	/* refused */
	{ __LINE__, "{counter}", "", -1, 0, NEVER, DAY, NULL, "negative counter" },
	{ __LINE__, "{counter}", "", INT64_MIN, 0, NEVER, DAY, NULL, "INT64_MIN" },
	{ __LINE__, "{counter}", "", 1, 19, NEVER, DAY, NULL, "padding 19" },
	{ __LINE__, "{counter}", "", 1, UINT32_MAX, NEVER, DAY, NULL, "padding UINT32_MAX" },
	{ __LINE__, "{counter}", "", 1, 0, 4, DAY, NULL, "rule 4" },
	{ __LINE__, "{counter}", "", 1, 0, -1, DAY, NULL, "rule -1" },
	{ __LINE__, "{yyyy}{counter}", "", 1, 0, NEVER, D(2026, 2, 29), NULL, "2026-02-29" },
	{ __LINE__, "{dd}{counter}", "", 1, 0, NEVER, D(2100, 2, 29), NULL, "2100 is not leap" },
	{ __LINE__, "{dd}{counter}", "", 1, 0, NEVER, D(1900, 2, 29), NULL, "1900 is not leap" },
	{ __LINE__, "{mm}{counter}", "", 1, 0, NEVER, D(2026, 13, 1), NULL, "month 13" },
	{ __LINE__, "{mm}{counter}", "", 1, 0, NEVER, D(2026, 0, 1), NULL, "month 0" },
	{ __LINE__, "{dd}{counter}", "", 1, 0, NEVER, D(2026, 4, 31), NULL, "April 31" },
	{ __LINE__, "{dd}{counter}", "", 1, 0, NEVER, D(2026, 1, 0), NULL, "day 0" },
	{ __LINE__, "{yy}{counter}", "", 1, 0, NEVER, D(10000, 1, 1), NULL, "year 10000" },
	{ __LINE__, "{yy}{counter}", "", 1, 0, NEVER, D(0, 1, 1), NULL, "year 0" },
	{ __LINE__, "{yy}{counter}", "", 1, 0, NEVER, D(-1, 1, 1), NULL, "year -1" },
	{ __LINE__, "%d-%d", "", 1, 0, DAILY, D(2026, 2, 30), NULL, "a bad date for a period" },
	{ __LINE__, "{counter}{counter}", "", 1, 0, NEVER, DAY, NULL, "an invalid template" },
	{ __LINE__, "", "", 1, 0, NEVER, DAY, NULL, "an empty template" },
	{ __LINE__, "%n", "", 1, 0, NEVER, DAY, NULL, "%n" },
};

static void show_row(const struct render_row *row, char *buf, size_t cap)
{
	unit_show(row->tmpl, strlen(row->tmpl), buf, cap);
}

START_TEST(test_render)
{
	const struct render_row *row = &render_rows[_i];
	char out[256], shown[128];
	int rc;

	memset(out, 'Z', sizeof(out));
	rc = template_render(row->tmpl, row->prefix, strlen(row->prefix), row->n, row->padding,
	                     row->rule, &row->date, out, sizeof(out));
	show_row(row, shown, sizeof(shown));
	if (row->want == NULL) {
		ck_assert_msg(rc == -1, "line %d: %s: \"%s\" gave %d \"%s\"", row->line, row->desc,
		              shown, rc, out);
		ck_assert_msg(out[0] == '\0', "line %d: %s: out not emptied", row->line, row->desc);
		return;
	}
	ck_assert_msg(rc >= 0 && strcmp(out, row->want) == 0 && (size_t)rc == strlen(row->want),
	              "line %d: %s: \"%s\" gave %d \"%s\", want \"%s\"", row->line, row->desc,
	              shown, rc, rc >= 0 ? out : "", row->want);
	if (template_check(row->tmpl, NULL) != 0)
		ck_abort_msg("line %d: %s: rendered, but check refuses it", row->line, row->desc);
}
END_TEST

/*
 * Every render row again into heap buffers of exactly cap bytes for every cap from 0 to the
 * answer's length + 1, so ASan sees any byte written past the end: too small is -1 and "" (for
 * cap > 0), and the exact length + 1 is the first cap that fits.
 */
START_TEST(test_render_caps)
{
	const struct render_row *row = &render_rows[_i];
	size_t len = row->want == NULL ? 4 : strlen(row->want);

	for (size_t cap = 0; cap <= len + 1; cap++) {
		/* cap 0 gets a one-byte buffer, to prove that nothing is written to it */
		char *out = malloc(cap == 0 ? 1 : cap);
		int rc, fits = row->want != NULL && cap > len;

		ck_assert_ptr_nonnull(out);
		out[0] = 'Z';
		rc = template_render(row->tmpl, row->prefix, strlen(row->prefix), row->n,
		                     row->padding, row->rule, &row->date, out, cap);
		if (fits)
			ck_assert_msg(rc == (int)len && strcmp(out, row->want) == 0,
			              "line %d: %s: cap %zu: %d", row->line, row->desc, cap, rc);
		else
			ck_assert_msg(rc == -1 && out[0] == (cap == 0 ? 'Z' : '\0'),
			              "line %d: %s: cap %zu: %d", row->line, row->desc, cap, rc);
		free(out);
	}
}
END_TEST

/* A date is needed only when the template shows one. */
START_TEST(test_render_without_date)
{
	char out[64];

	ck_assert_int_eq(template_render("%s%06d", "SG", 2, 1, 0, NEVER, NULL, out, sizeof(out)), 8);
	ck_assert_str_eq(out, "SG000001");
	ck_assert_int_eq(template_render("{counter}", NULL, 0, 1, 4, DAILY, NULL, out, sizeof(out)), 4);
	ck_assert_str_eq(out, "0001");
	ck_assert_int_eq(template_render("INV%d-%04d", "", 0, 1, 0, NEVER, NULL, out, sizeof(out)), -1);
	ck_assert_int_eq(template_render("{yy}{counter}", "", 0, 1, 0, NEVER, NULL, out, sizeof(out)),
	                 -1);
	ck_assert_int_eq(template_render("%s%d", NULL, 3, 1, 0, NEVER, NULL, out, sizeof(out)), -1);
	ck_assert_int_eq(template_render(NULL, "", 0, 1, 0, NEVER, NULL, out, sizeof(out)), -1);
}
END_TEST

/* The prefix is bytes with a length: it need not be NUL-terminated, nor end where the name does. */
START_TEST(test_render_prefix_bytes)
{
	char *prefix = malloc(3);
	char out[16];

	ck_assert_ptr_nonnull(prefix);
	memcpy(prefix, "INV", 3);
	ck_assert_int_eq(template_render("{prefix}{counter}", prefix, 3, 9, 2, NEVER, NULL, out,
	                                 sizeof(out)),
	                 5);
	ck_assert_str_eq(out, "INV09");
	ck_assert_int_eq(template_render("%s-%d", prefix, 2, 9, 0, NEVER, NULL, out, sizeof(out)), 4);
	ck_assert_str_eq(out, "IN-9");
	free(prefix);
}
END_TEST

/* ---- periods ---- */

struct period_row {
	int line;
	int rule;
	struct calendar_date date;
	uint32_t period;
	struct calendar_date start; /* year 0: template_period_start(period) is -1 */
	const char *desc;
};

static const struct period_row period_rows[] = {
	{ __LINE__, NEVER, DAY, 0, D(0, 0, 0), "never" },
	{ __LINE__, YEARLY, DAY, 20260000, D(2026, 1, 1), "yearly" },
	{ __LINE__, MONTHLY, DAY, 20261100, D(2026, 11, 1), "monthly" },
	{ __LINE__, DAILY, DAY, 20261122, DAY, "daily" },
	{ __LINE__, YEARLY, D(2026, 12, 31), 20260000, D(2026, 1, 1), "New Year's Eve, yearly" },
	{ __LINE__, YEARLY, D(2027, 1, 1), 20270000, D(2027, 1, 1), "New Year's Day, yearly" },
	{ __LINE__, MONTHLY, D(2026, 12, 31), 20261200, D(2026, 12, 1), "December, monthly" },
	{ __LINE__, MONTHLY, D(2027, 1, 1), 20270100, D(2027, 1, 1), "January, monthly" },
	{ __LINE__, DAILY, D(2026, 12, 31), 20261231, D(2026, 12, 31), "December 31, daily" },
	{ __LINE__, DAILY, D(2027, 1, 1), 20270101, D(2027, 1, 1), "January 1, daily" },
	{ __LINE__, DAILY, D(2024, 2, 29), 20240229, D(2024, 2, 29), "a leap day" },
	{ __LINE__, MONTHLY, D(2024, 2, 29), 20240200, D(2024, 2, 1), "a leap day, monthly" },
	{ __LINE__, DAILY, D(2000, 2, 29), 20000229, D(2000, 2, 29), "2000 is leap" },
	{ __LINE__, DAILY, D(1, 1, 1), 10101, D(1, 1, 1), "the first day" },
	{ __LINE__, DAILY, D(9999, 12, 31), 99991231, D(9999, 12, 31), "the last day" },
	{ __LINE__, YEARLY, D(9999, 12, 31), 99990000, D(9999, 1, 1), "the last year" },
	/* invalid dates give 0 */
	{ __LINE__, DAILY, D(2100, 2, 29), 0, D(0, 0, 0), "2100 is not leap" },
	{ __LINE__, YEARLY, D(2026, 2, 29), 0, D(0, 0, 0), "2026 is not leap" },
	{ __LINE__, MONTHLY, D(2026, 13, 1), 0, D(0, 0, 0), "month 13" },
	{ __LINE__, DAILY, D(2026, 4, 31), 0, D(0, 0, 0), "April 31" },
	{ __LINE__, DAILY, D(0, 1, 1), 0, D(0, 0, 0), "year 0" },
	{ __LINE__, DAILY, D(10000, 1, 1), 0, D(0, 0, 0), "year 10000" },
	{ __LINE__, DAILY, D(-2026, 1, 1), 0, D(0, 0, 0), "a negative year" },
	{ __LINE__, 4, DAY, 0, D(0, 0, 0), "rule 4" },
	{ __LINE__, -1, DAY, 0, D(0, 0, 0), "rule -1" },
};

START_TEST(test_period)
{
	const struct period_row *row = &period_rows[_i];
	struct calendar_date got = D(-7, -7, -7);
	uint32_t p = template_period(row->rule, &row->date);
	int rc;

	ck_assert_msg(p == row->period, "line %d: %s: period %" PRIu32 ", want %" PRIu32, row->line,
	              row->desc, p, row->period);
	rc = template_period_start(p, row->rule, &got);
	if (row->start.year == 0) {
		ck_assert_msg(rc == -1 && got.year == -7 && got.month == -7 && got.day == -7,
		              "line %d: %s: start %d", row->line, row->desc, rc);
		return;
	}
	ck_assert_msg(rc == 0 && got.year == row->start.year && got.month == row->start.month &&
	                      got.day == row->start.day,
	              "line %d: %s: start %d %d-%d-%d", row->line, row->desc, rc, got.year,
	              got.month, got.day);
	ck_assert_msg(template_period(row->rule, &got) == p, "line %d: %s: start is in another "
	              "period", row->line, row->desc);
}
END_TEST

struct start_row {
	int line;
	uint32_t period;
	int rule;
	const char *desc;
};

/* Periods that template_period never gives for the rule: -1, *out unchanged. */
static const struct start_row bad_start_rows[] = {
	{ __LINE__, 20261100, YEARLY, "a monthly period as yearly" },
	{ __LINE__, 20260001, YEARLY, "a day in a yearly period" },
	{ __LINE__, 20261122, MONTHLY, "a daily period as monthly" },
	{ __LINE__, 20260000, MONTHLY, "month 0" },
	{ __LINE__, 20261300, MONTHLY, "month 13" },
	{ __LINE__, 20260230, DAILY, "February 30" },
	{ __LINE__, 21000229, DAILY, "2100-02-29" },
	{ __LINE__, 20260000, DAILY, "a yearly period as daily" },
	{ __LINE__, 20261100, DAILY, "a monthly period as daily" },
	{ __LINE__, 0, YEARLY, "0 as yearly" },
	{ __LINE__, 0, DAILY, "0 as daily" },
	{ __LINE__, 20260000, NEVER, "never has no start" },
	{ __LINE__, 0, NEVER, "never, period 0" },
	{ __LINE__, 20260000, 4, "rule 4" },
	{ __LINE__, 100000000, YEARLY, "year 10000" },
	{ __LINE__, 99991232, DAILY, "past the last day" },
	{ __LINE__, UINT32_MAX, DAILY, "UINT32_MAX" },
	{ __LINE__, UINT32_MAX, YEARLY, "UINT32_MAX as yearly" },
};

START_TEST(test_bad_start)
{
	const struct start_row *row = &bad_start_rows[_i];
	struct calendar_date got = D(-7, -7, -7);

	ck_assert_msg(template_period_start(row->period, row->rule, &got) == -1 && got.year == -7 &&
	                      got.month == -7 && got.day == -7,
	              "line %d: %s", row->line, row->desc);
}
END_TEST

/*
 * Every day from 1999-12-01 to 2101-03-01, stepped with gmtime_r rather than our own calendar:
 * each rule's period never goes backwards, changes exactly when its year, month or day does, and
 * starts on the right day. Covers every month end and leap day, 2000 (leap) and 2100 (not).
 */
START_TEST(test_period_walk)
{
	static const int rules[] = { DAILY, MONTHLY, YEARLY };
	struct calendar_date prev = D(0, 0, 0);
	uint32_t last[3] = { 0, 0, 0 };
	time_t t = 944006400; /* 1999-12-01T00:00:00Z */
	long days = 0;

	for (;; t += 86400, days++) {
		struct tm tm;
		struct calendar_date d;

		UNIT_REQUIRE(gmtime_r(&t, &tm) != NULL, "gmtime_r");
		d.year = tm.tm_year + 1900;
		d.month = tm.tm_mon + 1;
		d.day = tm.tm_mday;
		if (d.year == 2101 && d.month == 3)
			break;
		UNIT_REQUIRE(template_period(NEVER, &d) == 0, "%d-%d-%d: never", d.year, d.month, d.day);
		for (int r = 0; r < 3; r++) {
			uint32_t p = template_period(rules[r], &d);
			struct calendar_date s;
			int changed = rules[r] == YEARLY    ? d.year != prev.year
			              : rules[r] == MONTHLY ? d.month != prev.month || d.year != prev.year
			                                    : 1;

			UNIT_REQUIRE(p > 0 && p >= last[r] && (p != last[r]) == changed,
			        "%d-%d-%d rule %d: %" PRIu32 " after %" PRIu32, d.year, d.month, d.day,
			        rules[r], p, last[r]);
			UNIT_REQUIRE(template_period_start(p, rules[r], &s) == 0, "%" PRIu32 " has no start", p);
			if (changed && prev.year != 0) /* the walk starts mid-year */
				UNIT_REQUIRE(s.year == d.year && s.month == d.month && s.day == d.day,
				        "%d-%d-%d rule %d: starts %d-%d-%d", d.year, d.month, d.day, rules[r],
				        s.year, s.month, s.day);
			last[r] = p;
		}
		prev = d;
	}
	ck_assert_int_eq(days, 36980); /* 1999-12-01 to 2101-03-01, as Python's date counts */
}
END_TEST

/* ---- generated templates ---- */

static const char *const pieces[] = {
	"{counter}", "{counter:", "{counter:5}", "{counter:19}", "{prefix}", "{yyyy}", "{yy}",
	"{mm}", "{dd}", "{", "}", "%", "%%", "%s", "%d", "%06d", "%0", "%18d", "%019d", "%x",
	"0", "1", "9", "d", "s", ":", "-", "x", "\xe2\x82\xac", "\xe2\x82", "\xff", "\x01", "\n",
};

/*
 * Templates glued from pieces that sit near the grammar's edges: check and render must agree on
 * every one, and render must fit every buffer size exactly (ASan watches the heap buffers).
 */
START_TEST(test_generated)
{
	uint64_t state = 0x9E3779B97F4A7C15u;
	const struct calendar_date date = D(2026, 11, 22);
	int valid = 0;

	for (int round = 0; round < 4000; round++) {
		char tmpl[80], want[256], shown[200];
		size_t len = 0;
		int npieces = 1 + (int)(unit_random(&state) % 6), rc, want_len;

		for (int k = 0; k < npieces; k++) {
			const char *piece = pieces[unit_random(&state) % (sizeof(pieces) / sizeof(*pieces))];
			size_t n = strlen(piece);

			if (len + n >= sizeof(tmpl))
				break;
			memcpy(tmpl + len, piece, n);
			len += n;
		}
		tmpl[len] = '\0';
		unit_show(tmpl, len, shown, sizeof(shown));
		rc = template_check(tmpl, NULL);
		want_len = template_render(tmpl, "P\xc3\xa9", 3, (int64_t)(unit_random(&state) >> 1),
		                           (unsigned)(unit_random(&state) % 19),
		                           (int)(unit_random(&state) % 4), &date, want, sizeof(want));
		ck_assert_msg((rc == 0) == (want_len >= 0), "round %d: \"%s\": check %d, render %d",
		              round, shown, rc, want_len);
		if (want_len < 0)
			continue;
		valid++;
		for (size_t cap = 0; cap <= (size_t)want_len + 1; cap++) {
			char *out = malloc(cap == 0 ? 1 : cap);
			int got;

			ck_assert_ptr_nonnull(out);
			got = template_render(tmpl, "P\xc3\xa9", 3, 0, 0, NEVER, &date, out, cap);
			/* Counter 0, padding 0: the length differs from want_len, so only bound it. */
			ck_assert_msg(got < (int)cap && (got < 0 || (size_t)got == strlen(out)),
			              "round %d: \"%s\": cap %zu gave %d", round, shown, cap, got);
			free(out);
		}
	}
	ck_assert_msg(valid > 200, "only %d valid templates: the generator needs better pieces", valid);
}
END_TEST

/* Every byte value in each '@' of a short template: nothing crashes, check and render agree. */
START_TEST(test_every_byte)
{
	static const char *const frames[] = { "@%d", "%d@", "{counter}@", "{@}{counter}",
	                                      "{counter:@}", "%@d", "%0@d", "%1@d", "{counter:1@}" };
	const struct calendar_date date = D(2026, 11, 22);

	for (size_t f = 0; f < sizeof(frames) / sizeof(*frames); f++)
		for (int b = 1; b < 256; b++) {
			char tmpl[32], out[64];
			size_t n = strlen(frames[f]);

			memcpy(tmpl, frames[f], n + 1);
			*strchr(tmpl, '@') = (char)b;
			ck_assert_msg((template_check(tmpl, NULL) == 0) ==
			                      (template_render(tmpl, "P", 1, 42, 3, DAILY, &date, out,
			                                       sizeof(out)) >= 0),
			              "frame %s, byte 0x%02x", frames[f], (unsigned)b);
		}
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("template");
	TCase *tc = tcase_create("tables");

	UNIT_TABLE(tc, test_rule, rule_rows);
	tcase_add_test(tc, test_rule_name_unknown);
	UNIT_TABLE(tc, test_check, check_rows);
	tcase_add_test(tc, test_check_lengths);
	tcase_add_test(tc, test_check_unterminated);
	UNIT_TABLE(tc, test_render, render_rows);
	UNIT_TABLE(tc, test_render_caps, render_rows);
	tcase_add_test(tc, test_render_without_date);
	tcase_add_test(tc, test_render_prefix_bytes);
	UNIT_TABLE(tc, test_period, period_rows);
	UNIT_TABLE(tc, test_bad_start, bad_start_rows);
	tcase_add_test(tc, test_period_walk);
	tcase_add_test(tc, test_generated);
	tcase_add_test(tc, test_every_byte);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
