/*
 * template: number templates, reset periods and local dates. Tables for the rule names, for
 * template_check (every valid form and every hostile one, with the exact reason), for
 * template_render (exact strings, and buffers of every size around the answer), for periods and
 * their first days, for zone names, and for local dates around midnight in zones with odd offsets
 * and daylight saving time. Three sweeps close it: every day of 1999..2101 through the periods,
 * generated templates through check and render (which must agree and never overrun), and every
 * byte value in the places the grammar cares about. Then the zones: offsets at known moments
 * (each switch of the year, and after 2037 where the files' rules take over), every zone in
 * zoneinfo against glibc's own reading, threads sharing the cache, the process's TZ left alone
 * while threads and other code work in other zones, and zone files spoiled field by field,
 * footers rule by rule, truncated at every byte and corrupted at random.
 */
#include "template.h"
#include "unit.h"

#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <time.h>

#define NEVER TEMPLATE_NEVER
#define DAILY TEMPLATE_DAILY
#define MONTHLY TEMPLATE_MONTHLY
#define YEARLY TEMPLATE_YEARLY

#define D(y, m, d) { (y), (m), (d) }

/*
 * ck_assert reports every check that passes to the parent process (a write, in fork mode): loops
 * of a hundred thousand checks and more use this instead, which speaks only on failure.
 */
#define require(expr, ...)                         \
	do {                                       \
		if (!(expr))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

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
	ck_assert_int_eq(template_tz_valid(field, &why), -1);
	ck_assert_str_eq(why, "timezone is longer than 47 bytes.");
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
	struct template_date date;
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
	struct template_date date;
	uint32_t period;
	struct template_date start; /* year 0: template_period_start(period) is -1 */
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
	struct template_date got = D(-7, -7, -7);
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
	struct template_date got = D(-7, -7, -7);

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
	struct template_date prev = D(0, 0, 0);
	uint32_t last[3] = { 0, 0, 0 };
	time_t t = 944006400; /* 1999-12-01T00:00:00Z */
	long days = 0;

	for (;; t += 86400, days++) {
		struct tm tm;
		struct template_date d;

		require(gmtime_r(&t, &tm) != NULL, "gmtime_r");
		d.year = tm.tm_year + 1900;
		d.month = tm.tm_mon + 1;
		d.day = tm.tm_mday;
		if (d.year == 2101 && d.month == 3)
			break;
		require(template_period(NEVER, &d) == 0, "%d-%d-%d: never", d.year, d.month, d.day);
		for (int r = 0; r < 3; r++) {
			uint32_t p = template_period(rules[r], &d);
			struct template_date s;
			int changed = rules[r] == YEARLY    ? d.year != prev.year
			              : rules[r] == MONTHLY ? d.month != prev.month || d.year != prev.year
			                                    : 1;

			require(p > 0 && p >= last[r] && (p != last[r]) == changed,
			        "%d-%d-%d rule %d: %" PRIu32 " after %" PRIu32, d.year, d.month, d.day,
			        rules[r], p, last[r]);
			require(template_period_start(p, rules[r], &s) == 0, "%" PRIu32 " has no start", p);
			if (changed && prev.year != 0) /* the walk starts mid-year */
				require(s.year == d.year && s.month == d.month && s.day == d.day,
				        "%d-%d-%d rule %d: starts %d-%d-%d", d.year, d.month, d.day, rules[r],
				        s.year, s.month, s.day);
			last[r] = p;
		}
		prev = d;
	}
	ck_assert_int_eq(days, 36980); /* 1999-12-01 to 2101-03-01, as Python's date counts */
}
END_TEST

/* ---- time zones ---- */

#define TZ_EMPTY "timezone is empty."
#define TZ_LONG "timezone is longer than 47 bytes."
#define TZ_CHARS "timezone may contain only letters, digits, '_', '+', '-' and '/'."
#define TZ_SLASH "timezone must not start or end with '/' or contain \"//\"."
#define TZ_UNKNOWN "timezone is not a known IANA time zone, such as Europe/Berlin or UTC."

struct tz_row {
	int line;
	const char *tz;
	const char *why; /* NULL: valid */
	const char *desc;
};

static const struct tz_row tz_rows[] = {
	{ __LINE__, "UTC", NULL, "UTC" },
	{ __LINE__, "Europe/Berlin", NULL, "Europe/Berlin" },
	{ __LINE__, "America/Argentina/ComodRivadavia", NULL, "three parts, a link" },
	{ __LINE__, "Asia/Kolkata", NULL, "Asia/Kolkata" },
	{ __LINE__, "Australia/Lord_Howe", NULL, "an underscore" },
	{ __LINE__, "America/Port-au-Prince", NULL, "hyphens" },
	{ __LINE__, "Etc/GMT+5", NULL, "a plus sign" },
	{ __LINE__, "Etc/GMT-14", NULL, "a minus sign and digits" },
	{ __LINE__, "EST5EDT", NULL, "a POSIX-looking name that is a zone file" },
	{ __LINE__, "", TZ_EMPTY, "empty" },
	{ __LINE__, NULL, TZ_EMPTY, "NULL" },
	{ __LINE__, "Nope/Nowhere", TZ_UNKNOWN, "no such zone" },
	{ __LINE__, "utc", TZ_UNKNOWN, "names are case-sensitive" },
	{ __LINE__, "Europe", TZ_UNKNOWN, "a directory" },
	{ __LINE__, "Europe/", TZ_SLASH, "a trailing '/'" },
	{ __LINE__, "Europe//Berlin", TZ_SLASH, "a doubled '/'" },
	{ __LINE__, "/etc/passwd", TZ_SLASH, "an absolute path" },
	{ __LINE__, "/UTC", TZ_SLASH, "a leading '/'" },
	{ __LINE__, "../etc/passwd", TZ_CHARS, "a way out" },
	{ __LINE__, "Europe/../UTC", TZ_CHARS, "a way out and back" },
	{ __LINE__, "./UTC", TZ_CHARS, "a dot" },
	{ __LINE__, "zone.tab", TZ_CHARS, "a table in zoneinfo" },
	{ __LINE__, "leapseconds", TZ_UNKNOWN, "a file in zoneinfo that is no zone" },
	{ __LINE__, "localtime", TZ_UNKNOWN, "the host's zone is no IANA name" },
	{ __LINE__, "posixrules", TZ_UNKNOWN, "posixrules" },
	{ __LINE__, "right/UTC", TZ_UNKNOWN, "leap-second zones" },
	{ __LINE__, "posix/UTC", TZ_UNKNOWN, "the posix/ copies" },
	{ __LINE__, "UTC ", TZ_CHARS, "a trailing space" },
	{ __LINE__, " UTC", TZ_CHARS, "a leading space" },
	{ __LINE__, "UTC\n", TZ_CHARS, "a newline" },
	{ __LINE__, ":UTC", TZ_CHARS, "glibc's file marker" },
	{ __LINE__, "UTC0", TZ_UNKNOWN, "a POSIX rule is no zone name" },
	{ __LINE__, "CET-1CEST,M3.5.0,M10.5.0/3", TZ_CHARS, "a full POSIX rule" },
	{ __LINE__, "Europe/Z\xc3\xbcrich", TZ_CHARS, "non-ASCII" },
	{ __LINE__, "\xff", TZ_CHARS, "not UTF-8" },
	{ __LINE__, "Europe/Berlin\0x", NULL, "a C string ends at NUL" },
	{ __LINE__, "Aaaaaaaaaa/Bbbbbbbbbb/Cccccccccc/Dddddddddd/Eee", TZ_UNKNOWN,
	  "47 bytes, no such zone" },
	{ __LINE__, "Aaaaaaaaaa/Bbbbbbbbbb/Cccccccccc/Dddddddddd/Eeee", TZ_LONG, "48 bytes" },
	{ __LINE__, "America/Argentina/ComodRivadavia/America/Argen", TZ_UNKNOWN,
	  "47 bytes under a file" },
};

START_TEST(test_tz_valid)
{
	const struct tz_row *row = &tz_rows[_i];
	const char *why = "(untouched)";
	int rc = template_tz_valid(row->tz, &why);

	if (row->why == NULL) {
		ck_assert_msg(rc == 0, "line %d: %s: refused: %s", row->line, row->desc, why);
		return;
	}
	ck_assert_msg(rc == -1 && strcmp(why, row->why) == 0, "line %d: %s: %d \"%s\", want \"%s\"",
	              row->line, row->desc, rc, why, row->why);
	ck_assert_int_eq(template_tz_valid(row->tz, NULL), -1);
}
END_TEST

struct local_row {
	int line;
	int64_t t;
	const char *tz;
	struct template_date want; /* year 0: -1 */
	const char *desc;
};

static const struct local_row local_rows[] = {
	{ __LINE__, 1795305599, "UTC", D(2026, 11, 21), "UTC, 23:59:59" },
	{ __LINE__, 1795305600, "UTC", D(2026, 11, 22), "UTC, midnight" },
	{ __LINE__, 0, "UTC", D(1970, 1, 1), "the epoch" },
	{ __LINE__, -1, "UTC", D(1969, 12, 31), "before the epoch" },
	{ __LINE__, 1795273199, "Asia/Tokyo", D(2026, 11, 21), "Tokyo, 23:59:59 (14:59:59Z)" },
	{ __LINE__, 1795273200, "Asia/Tokyo", D(2026, 11, 22), "Tokyo, midnight (15:00Z)" },
	{ __LINE__, 1798729199, "Asia/Tokyo", D(2026, 12, 31), "Tokyo, the year's last second" },
	{ __LINE__, 1798729200, "Asia/Tokyo", D(2027, 1, 1), "Tokyo, New Year" },
	{ __LINE__, 1798761599, "Asia/Tokyo", D(2027, 1, 1), "2026-12-31T23:59:59Z in Tokyo" },
	{ __LINE__, 1798761599, "UTC", D(2026, 12, 31), "2026-12-31T23:59:59Z in UTC" },
	{ __LINE__, 1798761599, "America/Los_Angeles", D(2026, 12, 31),
	  "2026-12-31T23:59:59Z in Los Angeles" },
	{ __LINE__, 1784098799, "America/Los_Angeles", D(2026, 7, 14),
	  "Los Angeles in summer (PDT, -7), 23:59:59" },
	{ __LINE__, 1784098800, "America/Los_Angeles", D(2026, 7, 15),
	  "Los Angeles in summer, midnight (07:00Z)" },
	{ __LINE__, 1768463999, "America/Los_Angeles", D(2026, 1, 14),
	  "Los Angeles in winter (PST, -8), 23:59:59" },
	{ __LINE__, 1768464000, "America/Los_Angeles", D(2026, 1, 15),
	  "Los Angeles in winter, midnight (08:00Z)" },
	{ __LINE__, 1784098799 + 3600, "America/Los_Angeles", D(2026, 7, 15),
	  "07:59:59Z is the next day in summer, not in winter" },
	{ __LINE__, 1795285799, "Asia/Kolkata", D(2026, 11, 21), "Kolkata (+5:30), 23:59:59" },
	{ __LINE__, 1795285800, "Asia/Kolkata", D(2026, 11, 22), "Kolkata, midnight (18:30Z)" },
	{ __LINE__, 1781530199, "Australia/Lord_Howe", D(2026, 6, 15),
	  "Lord Howe in winter (+10:30), 23:59:59" },
	{ __LINE__, 1781530200, "Australia/Lord_Howe", D(2026, 6, 16),
	  "Lord Howe in winter, midnight (13:30Z)" },
	{ __LINE__, 1797339599, "Australia/Lord_Howe", D(2026, 12, 15),
	  "Lord Howe in summer (+11), 23:59:59" },
	{ __LINE__, 1797339600, "Australia/Lord_Howe", D(2026, 12, 16),
	  "Lord Howe in summer, midnight (13:00Z)" },
	{ __LINE__, 1709164799, "UTC", D(2024, 2, 28), "the day before a leap day" },
	{ __LINE__, 1709218800, "Asia/Tokyo", D(2024, 3, 1), "the day after a leap day, Tokyo" },
	{ __LINE__, 1795305600, "Nope/Nowhere", D(0, 0, 0), "an unknown zone is no UTC" },
	{ __LINE__, 1795305600, "", D(0, 0, 0), "an empty zone" },
	{ __LINE__, 1795305600, "../etc/passwd", D(0, 0, 0), "a path" },
	{ __LINE__, 1795305600, "UTC0", D(0, 0, 0), "a POSIX rule" },
	{ __LINE__, 1795305600, NULL, D(0, 0, 0), "NULL" },
	{ __LINE__, INT64_MAX, "UTC", D(0, 0, 0), "the end of time" },
	{ __LINE__, INT64_MIN, "UTC", D(0, 0, 0), "the start of time" },
	{ __LINE__, 253402300800, "UTC", D(0, 0, 0), "10000-01-01 is past year 9999" },
	{ __LINE__, 253402300799, "UTC", D(9999, 12, 31), "the last second of 9999" },
	{ __LINE__, -62135596801, "UTC", D(0, 0, 0), "the last second of year 0" },
	{ __LINE__, -62135596800, "UTC", D(1, 1, 1), "the first second of year 1" },
};

static void check_local(const struct local_row *row)
{
	struct template_date got = D(-7, -7, -7);
	int rc = template_local_date(row->t, row->tz, &got);

	if (row->want.year == 0) {
		ck_assert_msg(rc == -1 && got.year == -7 && got.month == -7 && got.day == -7,
		              "line %d: %s: %d, %d-%d-%d", row->line, row->desc, rc, got.year,
		              got.month, got.day);
		return;
	}
	ck_assert_msg(rc == 0 && got.year == row->want.year && got.month == row->want.month &&
	                      got.day == row->want.day,
	              "line %d: %s: %d, %d-%d-%d, want %d-%d-%d", row->line, row->desc, rc,
	              got.year, got.month, got.day, row->want.year, row->want.month,
	              row->want.day);
}

START_TEST(test_local_date)
{
	check_local(&local_rows[_i]);
}
END_TEST

/*
 * All rows in one process, three times over, in an order that changes zone almost every call
 * (and so through the cache and its misses), then the same walking backwards.
 */
START_TEST(test_local_date_switching)
{
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < UNIT_ROWS(local_rows); i++)
			check_local(&local_rows[i]);
	for (int i = UNIT_ROWS(local_rows) - 1; i >= 0; i--)
		check_local(&local_rows[i]);
}
END_TEST

/* Someone else changing TZ behind the cache's back must not change our answer. */
START_TEST(test_local_date_tz_changed_elsewhere)
{
	struct template_date d;

	ck_assert_int_eq(template_local_date(1795273200, "Asia/Tokyo", &d), 0);
	ck_assert_int_eq(d.day, 22);
	ck_assert_int_eq(setenv("TZ", "UTC0", 1), 0);
	tzset();
	ck_assert_int_eq(template_local_date(1795273200, "Asia/Tokyo", &d), 0);
	ck_assert_int_eq(d.day, 22);
	/* and an unknown zone after a good one neither answers nor spoils the next call */
	ck_assert_int_eq(template_local_date(1795273200, "Nope/Nowhere", &d), -1);
	ck_assert_int_eq(template_local_date(1795273199, "Asia/Tokyo", &d), 0);
	ck_assert_int_eq(d.day, 21);
}
END_TEST

/*
 * A prefix's zone is the module's own business: the process's TZ and localtime() keep the host's
 * zone (here UTC) before, during and after a call in another zone.
 */
START_TEST(test_local_date_leaves_the_environment_alone)
{
	time_t t = 1795273200; /* 2026-11-21T15:00:00Z: 2026-11-22 00:00 in Tokyo */
	struct template_date d;
	struct tm tm;

	ck_assert_int_eq(setenv("TZ", "UTC0", 1), 0);
	tzset();
	ck_assert_int_eq(template_local_date(t, "Asia/Tokyo", &d), 0);
	ck_assert_int_eq(d.day, 22);
	ck_assert_str_eq(getenv("TZ"), "UTC0");
	ck_assert_ptr_nonnull(localtime_r(&t, &tm));
	ck_assert_int_eq(tm.tm_mday, 21);
	ck_assert_int_eq(tm.tm_hour, 15);
	ck_assert_ptr_nonnull(localtime(&t)); /* localtime() reads TZ again: still UTC */
	ck_assert_int_eq(localtime(&t)->tm_hour, 15);
}
END_TEST

/* Instants whose local date differs between the zones, so that a wrong zone is a wrong day. */
static const struct local_row race_rows[] = {
	{ __LINE__, 1795273200, "Asia/Tokyo", D(2026, 11, 22), "Tokyo, midnight (15:00Z)" },
	{ __LINE__, 1784098799, "America/Los_Angeles", D(2026, 7, 14), "Los Angeles, 06:59:59Z" },
	{ __LINE__, 1795285800, "Asia/Kolkata", D(2026, 11, 22), "Kolkata, midnight (18:30Z)" },
	{ __LINE__, 1797339600, "Australia/Lord_Howe", D(2026, 12, 16), "Lord Howe, 13:00Z" },
};

#define RACE_THREADS 4
#define RACE_CALLS 5000

struct race {
	atomic_int stop;
	atomic_int wrong_dates;    /* template_local_date answers in a wrong zone */
	atomic_int wrong_host;     /* the bystander's localtime_r in a zone not its own */
};

/* Threads of a worker taking numbers of prefixes in four zones, as a worker's threads do. */
static void *race_taker(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < RACE_CALLS; i++) {
		const struct local_row *row = &race_rows[i % UNIT_ROWS(race_rows)];
		struct template_date got = D(0, 0, 0);

		if (template_local_date(row->t, row->tz, &got) != 0 || got.year != row->want.year ||
		    got.month != row->want.month || got.day != row->want.day)
			atomic_fetch_add(&r->wrong_dates, 1);
	}
	return NULL;
}

/*
 * Other code of the same process working in the host's zone (UTC), as a library's logging would:
 * localtime_r, and now and then the classic timegm of setting TZ, tzset() and putting it back.
 */
static void *race_bystander(void *arg)
{
	struct race *r = arg;
	time_t t = 1795273200;

	for (unsigned i = 0; !atomic_load(&r->stop); i++) {
		struct tm tm;

		if (i % 16 == 0) {
			setenv("TZ", "UTC0", 1);
			tzset();
		}
		if (localtime_r(&t, &tm) == NULL || tm.tm_hour != 15)
			atomic_fetch_add(&r->wrong_host, 1);
	}
	return NULL;
}

START_TEST(test_local_date_threads_and_a_bystander)
{
	struct race r = { 0 };
	pthread_t takers[RACE_THREADS], bystander;
	time_t t = 1795273200;
	struct tm tm;

	ck_assert_int_eq(setenv("TZ", "UTC0", 1), 0);
	tzset();
	ck_assert_int_eq(pthread_create(&bystander, NULL, race_bystander, &r), 0);
	for (int k = 0; k < RACE_THREADS; k++)
		ck_assert_int_eq(pthread_create(&takers[k], NULL, race_taker, &r), 0);
	for (int k = 0; k < RACE_THREADS; k++)
		ck_assert_int_eq(pthread_join(takers[k], NULL), 0);
	atomic_store(&r.stop, 1);
	ck_assert_int_eq(pthread_join(bystander, NULL), 0);
	ck_assert_msg(atomic_load(&r.wrong_dates) == 0 && atomic_load(&r.wrong_host) == 0,
	              "%d of %d local dates in a wrong zone; the bystander saw another zone %d times",
	              atomic_load(&r.wrong_dates), RACE_THREADS * RACE_CALLS,
	              atomic_load(&r.wrong_host));
	/* and afterwards, the host's zone is still the host's */
	ck_assert_ptr_nonnull(localtime_r(&t, &tm));
	ck_assert_int_eq(tm.tm_hour, 15);
}
END_TEST

/* ---- generated templates ---- */

/* A small deterministic generator (xorshift64), so a failure is reproducible from its round. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

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
	const struct template_date date = D(2026, 11, 22);
	int valid = 0;

	for (int round = 0; round < 4000; round++) {
		char tmpl[80], want[256], shown[200];
		size_t len = 0;
		int npieces = 1 + (int)(next_random(&state) % 6), rc, want_len;

		for (int k = 0; k < npieces; k++) {
			const char *piece = pieces[next_random(&state) % (sizeof(pieces) / sizeof(*pieces))];
			size_t n = strlen(piece);

			if (len + n >= sizeof(tmpl))
				break;
			memcpy(tmpl + len, piece, n);
			len += n;
		}
		tmpl[len] = '\0';
		unit_show(tmpl, len, shown, sizeof(shown));
		rc = template_check(tmpl, NULL);
		want_len = template_render(tmpl, "P\xc3\xa9", 3, (int64_t)(next_random(&state) >> 1),
		                           (unsigned)(next_random(&state) % 19),
		                           (int)(next_random(&state) % 4), &date, want, sizeof(want));
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
	const struct template_date date = D(2026, 11, 22);

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

/*
 * The tables of this part are cheap, and a fork per row costs more than the row under ASan: each
 * runs in one test, which goes through every row, prints each one that fails and then fails with
 * the first.
 */
struct failures {
	int count;
	char first[512];
};

static void failed(struct failures *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (f->count++ == 0)
		vsnprintf(f->first, sizeof(f->first), fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

#define FAILURES_NONE(f) \
	ck_assert_msg((f)->count == 0, "%d rows failed, the first: %s", (f)->count, (f)->first)

/* ---- offsets at known moments ---- */

#define NO_OFFSET INT32_MIN /* template_tz_offset answers -1 */

struct offset_row {
	int line;
	int64_t t;
	const char *tz;
	int32_t want;
	const char *desc;
};

/* Each switch as the second before it and the second it happens (the instants as Python's
 * zoneinfo gives them). */
static const struct offset_row offset_rows[] = {
	{ __LINE__, 1782907200, "UTC", 0, "UTC, without a file" },
	{ __LINE__, 1782907200, "Etc/UTC", 0, "Etc/UTC, from its file" },
	{ __LINE__, 1774745999, "Europe/Berlin", 3600, "Berlin, 2026-03-29 01:59:59 CET" },
	{ __LINE__, 1774746000, "Europe/Berlin", 7200, "Berlin, 03:00 CEST (01:00Z)" },
	{ __LINE__, 1792889999, "Europe/Berlin", 7200, "Berlin, 2026-10-25 02:59:59 CEST" },
	{ __LINE__, 1792890000, "Europe/Berlin", 3600, "Berlin, 02:00 CET again (01:00Z)" },
	{ __LINE__, -775828800, "Europe/Berlin", 10800, "Berlin, 1945 (double summer time)" },
	{ __LINE__, 1772953199, "America/New_York", -18000, "New York, 2026-03-08 01:59:59 EST" },
	{ __LINE__, 1772953200, "America/New_York", -14400, "New York, 03:00 EDT (07:00Z)" },
	{ __LINE__, 1793512799, "America/New_York", -14400, "New York, 2026-11-01 01:59:59 EDT" },
	{ __LINE__, 1793512800, "America/New_York", -18000, "New York, 01:00 EST again (06:00Z)" },
	{ __LINE__, 1775314799, "Australia/Lord_Howe", 39600, "Lord Howe, 2026-04-05 01:59:59 +11" },
	{ __LINE__, 1775314800, "Australia/Lord_Howe", 37800, "Lord Howe, back 30 min to +10:30" },
	{ __LINE__, 1791041399, "Australia/Lord_Howe", 37800, "Lord Howe, 2026-10-04 01:59:59" },
	{ __LINE__, 1791041400, "Australia/Lord_Howe", 39600, "Lord Howe, 02:30 +11 (15:30Z)" },
	{ __LINE__, 1782907200, "Asia/Kolkata", 19800, "Kolkata, +5:30 from the footer" },
	{ __LINE__, -852076800, "Asia/Kolkata", 23400, "Kolkata, 1943 war time (+6:30)" },
	{ __LINE__, 1775311199, "Pacific/Chatham", 49500, "Chatham, 2026-04-05 03:44:59 +13:45" },
	{ __LINE__, 1775311200, "Pacific/Chatham", 45900, "Chatham, 02:45 +12:45 (14:00Z)" },
	{ __LINE__, 1790431199, "Pacific/Chatham", 45900, "Chatham, 2026-09-27 02:44:59 +12:45" },
	{ __LINE__, 1790431200, "Pacific/Chatham", 49500, "Chatham, 03:45 +13:45 (14:00Z)" },
	{ __LINE__, 1325239199, "Pacific/Apia", -36000, "Apia, 2011-12-29 23:59:59 -10" },
	{ __LINE__, 1325239200, "Pacific/Apia", 50400, "Apia skips a day: 2011-12-31 00:00 +14" },
	{ __LINE__, 1768478400, "Europe/Dublin", 0, "Dublin in winter (its 'negative DST')" },
	{ __LINE__, 1784116800, "Europe/Dublin", 3600, "Dublin in summer" },
	/* after 2037, where Debian's files end for most zones: the footer's rule */
	{ __LINE__, 2216249999, "Europe/Berlin", 3600, "Berlin, 2040-03-25 01:59:59 CET" },
	{ __LINE__, 2216250000, "Europe/Berlin", 7200, "Berlin, 2040-03-25 03:00 CEST" },
	{ __LINE__, 2234998799, "Europe/Berlin", 7200, "Berlin, 2040-10-28 02:59:59 CEST" },
	{ __LINE__, 2234998800, "Europe/Berlin", 3600, "Berlin, 2040-10-28 02:00 CET" },
	{ __LINE__, 4076636399, "America/New_York", -18000, "New York, 2099-03-08 01:59:59 EST" },
	{ __LINE__, 4076636400, "America/New_York", -14400, "New York, 2099-03-08 03:00 EDT" },
	{ __LINE__, 4110443999, "Pacific/Chatham", 49500, "Chatham, 2100-04-04 03:44:59 +13:45" },
	{ __LINE__, 4110444000, "Pacific/Chatham", 45900, "Chatham, 2100-04-04 02:45 +12:45" },
	{ __LINE__, 7282020600, "Australia/Lord_Howe", 39600, "Lord Howe, 2200-10-05 02:30 +11" },
	{ __LINE__, 4102444800, "Asia/Kolkata", 19800, "Kolkata, 2100" },
	{ __LINE__, 3660681600, "Africa/Casablanca", 3600, "Casablanca, 2086 (transitions to 2087)" },
	{ __LINE__, 3660681600 + 104 * 86400, "Africa/Casablanca", 0, "Casablanca, Ramadan 2086" },
	{ __LINE__, 3786912000, "Africa/Casablanca", 3600, "Casablanca, 2090 (the footer)" },
	{ __LINE__, 253402257600, "Europe/Berlin", 3600, "Berlin, 9999-12-31" },
	{ __LINE__, -62135553600, "America/New_York", -17762, "New York, year 1: its LMT" },
	/* the range: two days either side of the years 1..9999 */
	{ __LINE__, -62135769600, "UTC", 0, "0000-12-30T00:00:00Z" },
	{ __LINE__, -62135769601, "UTC", NO_OFFSET, "a second before" },
	{ __LINE__, 253402473600, "Europe/Berlin", 3600, "10000-01-03T00:00:00Z" },
	{ __LINE__, 253402473601, "Europe/Berlin", NO_OFFSET, "a second after" },
	{ __LINE__, INT64_MAX, "Pacific/Chatham", NO_OFFSET, "the end of time" },
	{ __LINE__, INT64_MIN, "Pacific/Chatham", NO_OFFSET, "the start of time" },
	{ __LINE__, 0, "Nope/Nowhere", NO_OFFSET, "no such zone" },
	{ __LINE__, 0, "../etc/passwd", NO_OFFSET, "a path" },
	{ __LINE__, 0, "right/UTC", NO_OFFSET, "a leap-second zone" },
	{ __LINE__, 0, NULL, NO_OFFSET, "NULL" },
};

START_TEST(test_offset)
{
	struct failures f = { 0 };

	for (int i = 0; i < UNIT_ROWS(offset_rows); i++) {
		const struct offset_row *row = &offset_rows[i];
		int32_t got = -7;
		int rc = template_tz_offset(row->t, row->tz, &got);

		if (row->want == NO_OFFSET ? rc != -1 || got != -7 : rc != 0 || got != row->want)
			failed(&f, "line %d: %s: %d, %" PRId32 ", want %" PRId32, row->line, row->desc,
			       rc, got, row->want);
	}
	FAILURES_NONE(&f);
}
END_TEST

/* ---- against glibc ---- */

/*
 * glibc reads the same files with code of its own, so it is an oracle: in the test process (one
 * thread) TZ is set to each zone and every answer compared, offset and local date, at moments
 * from 1900 to 2200 and at the exact second of every switch found between them.
 */
static const char *const oracle_zones[] = {
	"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
	"Pacific/Chatham", "Europe/Dublin", "Africa/Casablanca", "Asia/Gaza", "Asia/Jerusalem",
	"Africa/Cairo", "America/Nuuk", "America/Santiago", "Antarctica/Troll", "Pacific/Apia",
	"Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu", "Asia/Tehran", "Australia/Eucla",
	"Europe/Lisbon", "Europe/Moscow", "America/Sao_Paulo", "America/Havana", "America/Asuncion",
	"America/Adak", "America/St_Johns", "Pacific/Norfolk", "Asia/Tokyo", "America/Los_Angeles",
	"Etc/GMT+12", "Etc/GMT-14", "EST5EDT", "Factory", "Australia/Sydney", "Europe/London",
};

static void set_tz(const char *zone)
{
	char value[64];

	ck_assert_int_lt(snprintf(value, sizeof(value), ":%s", zone), (int)sizeof(value));
	ck_assert_int_eq(setenv("TZ", value, 1), 0);
	tzset();
}

/* Our offset and date at t against glibc's; returns glibc's offset. */
static long compare_glibc(const char *zone, int64_t t)
{
	time_t tt = (time_t)t;
	struct template_date d;
	struct tm tm;
	int32_t off;

	require(localtime_r(&tt, &tm) != NULL, "localtime_r");
	require(template_tz_offset(t, zone, &off) == 0 && off == tm.tm_gmtoff,
	        "%s at %" PRId64 ": offset %" PRId32 ", glibc %ld", zone, t, off, tm.tm_gmtoff);
	require(template_local_date(t, zone, &d) == 0 && d.year == tm.tm_year + 1900 &&
	                d.month == tm.tm_mon + 1 && d.day == tm.tm_mday,
	        "%s at %" PRId64 ": %d-%d-%d, glibc %d-%d-%d", zone, t, d.year, d.month, d.day,
	        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return tm.tm_gmtoff;
}

START_TEST(test_offset_against_glibc)
{
	const char *zone = oracle_zones[_i];
	int64_t step = 2 * 86400 + 3607, prev_t = 0;
	long prev = 0;
	int switches = 0;

	set_tz(zone);
	for (int64_t t = -2208988800; t < 7258118400; t += step) { /* 1900 to 2200 */
		long now = compare_glibc(zone, t);

		if (t != -2208988800 && now != prev) {
			int64_t lo = prev_t, hi = t; /* glibc says prev at lo, another offset at hi */

			while (hi - lo > 1) {
				int64_t mid = lo + (hi - lo) / 2;
				time_t tt = (time_t)mid;
				struct tm tm;

				require(localtime_r(&tt, &tm) != NULL, "localtime_r");
				if (tm.tm_gmtoff == prev)
					lo = mid;
				else
					hi = mid;
			}
			for (int64_t u = hi - 2; u <= hi + 1; u++)
				compare_glibc(zone, u);
			switches++;
		}
		prev = now;
		prev_t = t;
	}
	/* the zones with daylight saving time still have it in 2200 */
	if (strcmp(zone, "Europe/Berlin") == 0 || strcmp(zone, "Pacific/Chatham") == 0)
		ck_assert_int_gt(switches, 400);
}
END_TEST

/* Does the file start as a zone file does? */
static int looks_like_tzif(const char *path)
{
	char magic[4] = { 0 };
	FILE *f = fopen(path, "rb");
	int ok = f != NULL && fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;

	if (f != NULL)
		fclose(f);
	return ok;
}

#define ZONEINFO "/usr/share/zoneinfo/"

static char *all_zones[2000];
static int all_zones_count;

static int collect_zone(const char *path, const struct stat *st, int kind, struct FTW *ftw)
{
	const char *name = path + strlen(ZONEINFO);

	(void)st;
	(void)ftw;
	if ((kind == FTW_F || kind == FTW_SL) && strncmp(path, ZONEINFO, strlen(ZONEINFO)) == 0 &&
	    strncmp(name, "right/", 6) != 0 && strncmp(name, "posix/", 6) != 0 &&
	    all_zones_count < (int)(sizeof(all_zones) / sizeof(*all_zones)))
		all_zones[all_zones_count++] = strdup(name);
	return 0;
}

/*
 * Every name in zoneinfo: the capitalised zone files are valid zones and agree with glibc at a few
 * moments each, everything else is refused. Twice over, the second time backwards, so that the
 * cache drops and reads zones again all along.
 */
START_TEST(test_every_zone_in_zoneinfo)
{
	static const int64_t moments[] = { -2208988800, 946684800, 1768478400, 1784116800,
		                           2210112000, 2226009600, 4102444800 };
	int zones = 0;

	ck_assert_int_eq(nftw(ZONEINFO, collect_zone, 16, FTW_PHYS), 0);
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < all_zones_count; k++) {
			const char *name = all_zones[pass == 0 ? k : all_zones_count - 1 - k];
			char path[300];
			int want;

			snprintf(path, sizeof(path), ZONEINFO "%s", name);
			want = name[0] >= 'A' && name[0] <= 'Z' && looks_like_tzif(path);
			ck_assert_msg((template_tz_valid(name, NULL) == 0) == want, "%s: valid %d", name,
			              !want);
			if (!want)
				continue;
			zones += pass == 0;
			set_tz(name);
			for (size_t m = 0; m < sizeof(moments) / sizeof(*moments); m++)
				compare_glibc(name, moments[m]);
		}
	ck_assert_msg(zones > 500, "only %d zones: is tzdata installed?", zones);
	for (int k = 0; k < all_zones_count; k++)
		free(all_zones[k]);
}
END_TEST

/* ---- threads ---- */

#define CACHE_THREADS 4
#define CACHE_ZONES 24 /* more than the cache keeps */

static int32_t cache_want[CACHE_ZONES][2];
static const int64_t cache_moments[2] = { 1768478400, 1784116800 }; /* mid-January, mid-July */

/* Each thread walks the zones from its own place, so the threads drop each other's zones. */
static void *cache_walker(void *arg)
{
	intptr_t first = (intptr_t)arg, wrong = 0;

	for (int i = 0; i < 3000; i++) {
		int z = (int)((first * 7 + i) % CACHE_ZONES), m = i % 2;
		int32_t off;

		if (template_tz_offset(cache_moments[m], oracle_zones[z], &off) != 0 ||
		    off != cache_want[z][m])
			wrong++;
	}
	return (void *)wrong;
}

START_TEST(test_offset_threads_share_a_small_cache)
{
	pthread_t walkers[CACHE_THREADS];
	intptr_t wrong = 0;

	for (int z = 0; z < CACHE_ZONES; z++) {
		set_tz(oracle_zones[z]);
		for (int m = 0; m < 2; m++) {
			time_t tt = (time_t)cache_moments[m];
			struct tm tm;

			ck_assert_ptr_nonnull(localtime_r(&tt, &tm));
			cache_want[z][m] = (int32_t)tm.tm_gmtoff;
		}
	}
	for (intptr_t k = 0; k < CACHE_THREADS; k++)
		ck_assert_int_eq(pthread_create(&walkers[k], NULL, cache_walker, (void *)k), 0);
	for (int k = 0; k < CACHE_THREADS; k++) {
		void *w;

		ck_assert_int_eq(pthread_join(walkers[k], &w), 0);
		wrong += (intptr_t)w;
	}
	ck_assert_msg(wrong == 0, "%ld wrong offsets", (long)wrong);
}
END_TEST

/* ---- zone files: hostile bytes ---- */

/* A small zone file, built: version 2, a version 1 block with no data, then the 64-bit block. */
struct tzif {
	char version;
	int times;
	int64_t at[3];
	unsigned char type[3];
	int types;
	int32_t off[3];
	unsigned char isdst[3];
	const char *footer; /* between the two '\n' */
	size_t footer_len;
	int leaps; /* leap second records */
};

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static size_t tzif_header(unsigned char *p, char version, uint32_t times, uint32_t types,
                          uint32_t chars, uint32_t leaps)
{
	memset(p, 0, 44);
	memcpy(p, "TZif", 4);
	p[4] = (unsigned char)version;
	put_be(p + 20, types, 4); /* UT/local indicators */
	put_be(p + 24, types, 4); /* standard/wall indicators */
	put_be(p + 28, leaps, 4);
	put_be(p + 32, times, 4);
	put_be(p + 36, types, 4);
	put_be(p + 40, chars, 4);
	return 44;
}

/* The file into out (at least 512 bytes); returns its length. */
static size_t tzif_build(const struct tzif *z, unsigned char *out)
{
	size_t n = tzif_header(out, z->version, 0, 0, 0, 0);

	n += tzif_header(out + n, z->version, (uint32_t)z->times, (uint32_t)z->types, 4,
	                 (uint32_t)z->leaps);
	for (int i = 0; i < z->times; i++, n += 8)
		put_be(out + n, (uint64_t)z->at[i], 8);
	for (int i = 0; i < z->times; i++)
		out[n++] = z->type[i];
	for (int i = 0; i < z->types; i++, n += 6) {
		put_be(out + n, (uint32_t)z->off[i], 4);
		out[n + 4] = z->isdst[i];
		out[n + 5] = 0;
	}
	memcpy(out + n, "ABC", 4); /* the abbreviations */
	n += 4;
	for (int i = 0; i < z->leaps; i++, n += 12) { /* 2017-01-01, the 27th leap second */
		put_be(out + n, 1483228800 + 26, 8);
		put_be(out + n + 8, 27, 4);
	}
	memset(out + n, 0, 2 * (size_t)z->types); /* both kinds of indicators */
	n += 2 * (size_t)z->types;
	out[n++] = '\n';
	memcpy(out + n, z->footer, z->footer_len);
	n += z->footer_len;
	out[n++] = '\n';
	return n;
}

/* 2033-05-18T03:33:20Z and 2036-07-18T13:20:00Z; the footer takes over after the second. */
#define BASE_RULE "CET-1CEST,M3.5.0,M10.5.0/3"
static const struct tzif base_zone = {
	.version = '2', .times = 2, .at = { 2000000000, 2100000000 }, .type = { 1, 0 },
	.types = 2, .off = { 3600, 7200 }, .isdst = { 0, 1 },
	.footer = BASE_RULE, .footer_len = sizeof(BASE_RULE) - 1,
};

/* Where base_zone's bytes are (the 64-bit header starts at 44). */
enum {
	AT_V1_VERSION = 4,
	AT_MAGIC = 44,
	AT_VERSION = 48,
	AT_ISUT = 64,
	AT_ISSTD = 68,
	AT_LEAP = 72,
	AT_TIMES = 76,
	AT_TYPES = 80,
	AT_CHARS = 84,
	AT_AT0 = 88,
	AT_AT1 = 96,
	AT_TYPE0 = 104,
	AT_TT0 = 106, /* offset (4), isdst, abbreviation index */
	AT_TT1 = 112,
	AT_FOOTER = 126, /* its '\n' */
};

struct spoil_row {
	int line;
	size_t at;
	const char *bytes; /* written at `at` */
	size_t len;
	long resize; /* then the file's length changes by this (cut, or zeros added) */
	int ok;
	const char *desc;
};

static const struct spoil_row spoil_rows[] = {
	{ __LINE__, 0, S(""), 0, 1, "the base zone" },
	{ __LINE__, AT_VERSION, S("3"), 0, 1, "version 3" },
	{ __LINE__, AT_VERSION, S("4"), 0, 1, "version 4" },
	{ __LINE__, AT_V1_VERSION, S("\0"), 0, 0, "version 1 (no 64-bit block)" },
	{ __LINE__, AT_V1_VERSION, S("1"), 0, 0, "version '1'" },
	{ __LINE__, 0, S("TZiF"), 0, 0, "bad magic" },
	{ __LINE__, AT_MAGIC, S("TZIf"), 0, 0, "bad magic in the second header" },
	{ __LINE__, 20, S("\xff\xff\xff\xff"), 0, 0, "a version 1 block of 4 GB to skip" },
	{ __LINE__, 32, S("\x7f\xff\xff\xff"), 0, 0, "a version 1 block past the end" },
	{ __LINE__, AT_TYPES, S("\0\0\0\0"), 0, 0, "no time type" },
	{ __LINE__, AT_TYPES, S("\0\0\x01\x01"), 0, 0, "257 time types" },
	{ __LINE__, AT_TYPES, S("\xff\xff\xff\xff"), 0, 0, "2^32-1 time types" },
	{ __LINE__, AT_TIMES, S("\0\0\x07\xd1"), 0, 0, "2001 transitions" },
	{ __LINE__, AT_TIMES, S("\xff\xff\xff\xff"), 0, 0, "2^32-1 transitions" },
	{ __LINE__, AT_TIMES, S("\0\0\0\x03"), 0, 0, "one transition more than there is" },
	{ __LINE__, AT_CHARS, S("\xff\xff\xff\xff"), 0, 0, "4 GB of abbreviations" },
	{ __LINE__, AT_ISSTD, S("\0\0\0\x01"), -1, 0, "one standard/wall indicator of two" },
	{ __LINE__, AT_ISUT, S("\0\0\0\x03"), 1, 0, "three UT/local indicators of two" },
	{ __LINE__, AT_AT1, S("\0\0\0\0\x77\x35\x93\xff"), 0, 0, "transitions out of order" },
	{ __LINE__, AT_AT0, S("\0\0\0\0\x7d\x2b\x75\x00"), 0, 0, "two transitions at one moment" },
	{ __LINE__, AT_AT0, S("\x80\0\0\0\0\0\0\0"), 0, 1, "a transition at INT64_MIN" },
	{ __LINE__, AT_AT1, S("\x7f\xff\xff\xff\xff\xff\xff\xff"), 0, 1, "one at INT64_MAX" },
	{ __LINE__, AT_TYPE0, S("\x02"), 0, 0, "a transition to a type that is not there" },
	{ __LINE__, AT_TYPE0, S("\xff"), 0, 0, "a transition to type 255 of 2" },
	{ __LINE__, AT_TT0, S("\0\x01\x6d\xa0"), 0, 0, "an offset of +26:00" },
	{ __LINE__, AT_TT0, S("\0\x01\x6d\x9f"), 0, 1, "an offset of +25:59:59" },
	{ __LINE__, AT_TT0, S("\xff\xfe\xa0\x70"), 0, 0, "an offset of -25:00" },
	{ __LINE__, AT_TT0, S("\xff\xfe\xa0\x71"), 0, 1, "an offset of -24:59:59" },
	{ __LINE__, AT_TT0, S("\x80\0\0\0"), 0, 0, "an offset of INT32_MIN" },
	{ __LINE__, AT_TT0 + 4, S("\x02"), 0, 0, "isdst 2" },
	{ __LINE__, AT_TT1 + 5, S("\x04"), 0, 0, "an abbreviation past the abbreviations" },
	{ __LINE__, AT_FOOTER, S("x"), 0, 0, "no footer" },
	{ __LINE__, 0, S(""), -1, 0, "a footer without its last newline" },
	{ __LINE__, 0, S(""), 1, 0, "a byte after the footer" },
	{ __LINE__, AT_FOOTER + 4, S("\n"), 0, 0, "a newline inside the footer" },
	{ __LINE__, AT_FOOTER + 4, S("\0"), 0, 0, "a NUL inside the footer" },
};

static int parse_ok(const void *buf, size_t len)
{
	static char sentinel;
	struct template_zone *z = (struct template_zone *)(void *)&sentinel; /* NULL on refusal */
	int rc = template_zone_parse(buf, len, &z);

	require((rc == 0) == (z != NULL), "rc %d with zone %p", rc, (void *)z);
	template_zone_free(z);
	return rc == 0;
}

START_TEST(test_zone_spoiled)
{
	struct failures f = { 0 };

	for (int i = 0; i < UNIT_ROWS(spoil_rows); i++) {
		const struct spoil_row *row = &spoil_rows[i];
		unsigned char buf[600] = { 0 };
		size_t len = tzif_build(&base_zone, buf);

		memcpy(buf + row->at, row->bytes, row->len);
		len = (size_t)((long)len + row->resize);
		if (parse_ok(buf, len) != row->ok)
			failed(&f, "line %d: %s: %s", row->line, row->desc,
			       row->ok ? "refused" : "accepted");
	}
	FAILURES_NONE(&f);
}
END_TEST

/* Lengths: a file over 64 KiB is refused whatever it holds; NULL is no file. */
START_TEST(test_zone_sizes)
{
	unsigned char buf[600] = { 0 };
	size_t len = tzif_build(&base_zone, buf);
	struct template_zone *z;
	int32_t off;

	ck_assert_int_eq(template_zone_parse(NULL, 0, &z), -1);
	ck_assert_int_eq(template_zone_parse(buf, 65537, &z), -1);
	ck_assert_int_eq(template_zone_parse(buf, len, &z), 0);
	/* the base zone: type 0 before the first transition, then the types, then the rule */
	ck_assert(template_zone_offset(z, 1999999999, &off) == 0 && off == 3600);
	ck_assert(template_zone_offset(z, 2000000000, &off) == 0 && off == 7200);
	ck_assert(template_zone_offset(z, 2099999999, &off) == 0 && off == 7200);
	ck_assert(template_zone_offset(z, 2100000000, &off) == 0 && off == 7200); /* July: CEST */
	ck_assert(template_zone_offset(z, 2120000000, &off) == 0 && off == 3600); /* March 2037 */
	ck_assert_int_eq(template_zone_offset(z, INT64_MAX, &off), -1);
	ck_assert_int_eq(template_zone_offset(NULL, 0, &off), -1);
	template_zone_free(z);
	template_zone_free(NULL);
}
END_TEST

/* A footer of 128 bytes is read, one of 129 is not: "<AAA...>0", the longest name there is. */
START_TEST(test_zone_footer_length)
{
	char footer[130];
	struct tzif t = { .version = '2', .types = 1, .footer = footer };
	unsigned char buf[600];
	struct template_zone *z;

	for (size_t len = 126; len <= 129; len++) {
		footer[0] = '<';
		memset(footer + 1, 'A', len - 3);
		memcpy(footer + len - 2, ">0", 2);
		t.footer_len = len;
		ck_assert_msg((template_zone_parse(buf, tzif_build(&t, buf), &z) == 0) == (len <= 128),
		              "a footer of %zu bytes", len);
		template_zone_free(z);
	}
}
END_TEST

/* A zone whose times count leap seconds (zoneinfo's right/) is refused, not read 27 s off. */
START_TEST(test_zone_leap_seconds)
{
	struct tzif t = base_zone;
	unsigned char buf[600];

	ck_assert(parse_ok(buf, tzif_build(&t, buf)));
	t.leaps = 1;
	ck_assert(!parse_ok(buf, tzif_build(&t, buf)));
}
END_TEST

/* An empty footer: after the last transition, its type stays. No transitions: type 0. */
START_TEST(test_zone_without_rule)
{
	struct tzif t = base_zone;
	unsigned char buf[600];
	struct template_zone *z;
	int32_t off;

	t.footer_len = 0;
	ck_assert_int_eq(template_zone_parse(buf, tzif_build(&t, buf), &z), 0);
	ck_assert(template_zone_offset(z, 2200000000, &off) == 0 && off == 3600);
	template_zone_free(z);
	t.times = 0;
	t.off[0] = -12345;
	ck_assert_int_eq(template_zone_parse(buf, tzif_build(&t, buf), &z), 0);
	ck_assert(template_zone_offset(z, 2200000000, &off) == 0 && off == -12345);
	ck_assert(template_zone_offset(z, -2200000000, &off) == 0 && off == -12345);
	template_zone_free(z);
}
END_TEST

/* ---- zone files: the footer's rule ---- */

struct probe {
	int64_t t;
	int32_t off;
};

struct footer_row {
	int line;
	const char *footer;
	size_t len;
	int ok;
	struct probe probe[4]; /* t 0 ends the list */
	const char *desc;
};

static const struct footer_row footer_rows[] = {
	{ __LINE__, S("CET-1CEST,M3.5.0,M10.5.0/3"), 1,
	  { { 2216249999, 3600 }, { 2216250000, 7200 }, { 2234998799, 7200 }, { 2234998800, 3600 } },
	  "Berlin, 2040" },
	{ __LINE__, S("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45"), 1,
	  { { 1775311199, 49500 }, { 1775311200, 45900 }, { 1790431199, 45900 }, { 1790431200, 49500 } },
	  "Chatham: quoted names, minutes, a southern summer" },
	{ __LINE__, S("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0"), 1,
	  { { 1775314799, 39600 }, { 1775314800, 37800 }, { 1791041399, 37800 }, { 1791041400, 39600 } },
	  "Lord Howe: half an hour of daylight saving" },
	{ __LINE__, S("IST-1GMT0,M10.5.0,M3.5.0/1"), 1,
	  { { 1768478400, 0 }, { 1784116800, 3600 } },
	  "Dublin: 'daylight saving' in winter, at a negative step" },
	{ __LINE__, S("IST-2IDT,M3.4.4/26,M10.5.0"), 1,
	  { { 1774569599, 7200 }, { 1774569600, 10800 }, { 1792882799, 10800 }, { 1792882800, 7200 } },
	  "Israel: version 3's 26:00 (Friday 02:00 as Thursday 26:00)" },
	{ __LINE__, S("EET-2EEST,M4.5.5/0,M10.5.4/24"), 1,
	  { { 1776981599, 7200 }, { 1776981600, 10800 }, { 1793307599, 10800 }, { 1793307600, 7200 } },
	  "Egypt: 0:00 and 24:00" },
	{ __LINE__, S("<-02>2<-01>,M3.5.0/-1,M10.5.0/0"), 1,
	  { { 1774745999, -7200 }, { 1774746000, -3600 }, { 1792889999, -3600 }, { 1792890000, -7200 } },
	  "Nuuk: a negative switch time (-1:00, Saturday 23:00)" },
	{ __LINE__, S("EST5EDT,0/0,J365/25"), 1,
	  { { 1767243599, -14400 },
	    { 1767243600, -14400 },
	    { 1798779600, -14400 },
	    { 1782907200, -14400 } },
	  "daylight saving all year (RFC 8536's example)" },
	{ __LINE__, S("AAA0BBB,J60/0,J300/0"), 1,
	  { { 1709251199, 0 }, { 1709251200, 3600 } },
	  "Jn never counts February 29: J60 is March 1 in 2024" },
	{ __LINE__, S("AAA0BBB,59/0,300/0"), 1,
	  { { 1709164799, 0 }, { 1709164800, 3600 }, { 1677628799, 0 }, { 1677628800, 3600 } },
	  "n counts it: day 59 is February 29 in 2024, March 1 in 2023" },
	{ __LINE__, S("AAA0BBB-2,M3.5.0,M10.5.0"), 1,
	  { { 2216253600, 7200 } }, "a daylight saving offset given (+2, not the default +1)" },
	{ __LINE__, S("UTC0"), 1, { { 1782907200, 0 } }, "UTC" },
	{ __LINE__, S("<-00>0"), 1, { { 1782907200, 0 } }, "Factory's -00" },
	{ __LINE__, S("<+0845>-8:45"), 1, { { 1782907200, 31500 } }, "Eucla" },
	{ __LINE__, S("AAA+24:59:59"), 1, { { 0, 0 } }, "the westmost offset" },
	{ __LINE__, S("AAA-24:59:59BBB,M3.5.0,M10.5.0"), 1, { { 0, 0 } },
	  "the eastmost, and an hour more in summer" },
	{ __LINE__, S("CET-1CEST"), 0, { { 0, 0 } }, "daylight saving without its switches" },
	{ __LINE__, S("CET-1CEST-2"), 0, { { 0, 0 } }, "... with an offset" },
	{ __LINE__, S("CET"), 0, { { 0, 0 } }, "no offset" },
	{ __LINE__, S("-1"), 0, { { 0, 0 } }, "no name" },
	{ __LINE__, S("CE-1"), 0, { { 0, 0 } }, "a name of two letters" },
	{ __LINE__, S("<CE>-1"), 0, { { 0, 0 } }, "a quoted name of two" },
	{ __LINE__, S("<CET-1"), 0, { { 0, 0 } }, "an unclosed quote" },
	{ __LINE__, S("<C:T>-1"), 0, { { 0, 0 } }, "a colon in a quoted name" },
	{ __LINE__, S("C3T-1"), 0, { { 0, 0 } }, "a digit in an unquoted name" },
	{ __LINE__, S("CET-25"), 0, { { 0, 0 } }, "an offset of 25 hours" },
	{ __LINE__, S("CET-1:60"), 0, { { 0, 0 } }, "60 minutes" },
	{ __LINE__, S("CET-1:00:60"), 0, { { 0, 0 } }, "60 seconds" },
	{ __LINE__, S("CET-1:"), 0, { { 0, 0 } }, "a colon and nothing" },
	{ __LINE__, S("CET+-1"), 0, { { 0, 0 } }, "two signs" },
	{ __LINE__, S("CET-99999999999999999999999"), 0, { { 0, 0 } }, "an endless number" },
	{ __LINE__, S("CET-1 "), 0, { { 0, 0 } }, "a trailing space" },
	{ __LINE__, S("CET-1\0"), 0, { { 0, 0 } }, "a trailing NUL" },
	{ __LINE__, S("CET-1CEST,M3.5.0"), 0, { { 0, 0 } }, "one switch" },
	{ __LINE__, S("CET-1CEST,M3.5.0,"), 0, { { 0, 0 } }, "an empty second switch" },
	{ __LINE__, S("CET-1CEST,,M10.5.0"), 0, { { 0, 0 } }, "an empty first switch" },
	{ __LINE__, S("CET-1CEST,M3.5.0,M10.5.0,M11.1.0"), 0, { { 0, 0 } }, "three switches" },
	{ __LINE__, S("CET-1CEST,M13.5.0,M10.5.0"), 0, { { 0, 0 } }, "month 13" },
	{ __LINE__, S("CET-1CEST,M0.5.0,M10.5.0"), 0, { { 0, 0 } }, "month 0" },
	{ __LINE__, S("CET-1CEST,M3.6.0,M10.5.0"), 0, { { 0, 0 } }, "week 6" },
	{ __LINE__, S("CET-1CEST,M3.0.0,M10.5.0"), 0, { { 0, 0 } }, "week 0" },
	{ __LINE__, S("CET-1CEST,M3.5.7,M10.5.0"), 0, { { 0, 0 } }, "weekday 7" },
	{ __LINE__, S("CET-1CEST,M3.5,M10.5.0"), 0, { { 0, 0 } }, "no weekday" },
	{ __LINE__, S("CET-1CEST,J0,J365"), 0, { { 0, 0 } }, "J0" },
	{ __LINE__, S("CET-1CEST,J1,J366"), 0, { { 0, 0 } }, "J366" },
	{ __LINE__, S("CET-1CEST,0,366"), 0, { { 0, 0 } }, "day 366" },
	{ __LINE__, S("CET-1CEST,M3.5.0/168,M10.5.0"), 0, { { 0, 0 } }, "168 hours" },
	{ __LINE__, S("CET-1CEST,M3.5.0/-168,M10.5.0"), 0, { { 0, 0 } }, "-168 hours" },
	{ __LINE__, S("CET-1CEST,M3.5.0/167,M10.5.0/-167"), 1, { { 0, 0 } }, "+-167 hours" },
	{ __LINE__, S("CET-1CEST,M3.5.0,M10.5.0/"), 0, { { 0, 0 } }, "a slash and no time" },
	{ __LINE__, S("CET-1CEST,M3.5.0,M10.5.0/3x"), 0, { { 0, 0 } }, "a byte after the rule" },
};

static void check_footer(const struct footer_row *row, struct failures *f)
{
	struct tzif t = { .version = '2', .types = 1, .footer = row->footer, .footer_len = row->len };
	unsigned char buf[600];
	struct template_zone *z;
	int rc = template_zone_parse(buf, tzif_build(&t, buf), &z);

	if ((rc == 0) != row->ok)
		failed(f, "line %d: %s: %s", row->line, row->desc, row->ok ? "refused" : "accepted");
	for (int p = 0; rc == 0 && p < 4 && row->probe[p].t != 0; p++) {
		int32_t off = -7;

		if (template_zone_offset(z, row->probe[p].t, &off) != 0 || off != row->probe[p].off)
			failed(f, "line %d: %s: at %" PRId64 ": %" PRId32 ", want %" PRId32, row->line,
			       row->desc, row->probe[p].t, off, row->probe[p].off);
	}
	template_zone_free(z);
}

START_TEST(test_zone_rule)
{
	struct failures f = { 0 };

	for (int i = 0; i < UNIT_ROWS(footer_rows); i++)
		check_footer(&footer_rows[i], &f);
	FAILURES_NONE(&f);
}
END_TEST

/* ---- zone files: truncated and corrupted ---- */

static const char *const real_zones[] = { "Europe/Berlin", "Australia/Lord_Howe",
	                                  "Pacific/Chatham", "Asia/Kolkata", "Etc/UTC",
	                                  "America/New_York", "Africa/Casablanca" };

/* A real zone file into a new buffer (*len bytes). */
static unsigned char *read_zone(const char *name, size_t *len)
{
	char path[128];
	unsigned char *buf = malloc(65536);
	FILE *f;

	ck_assert_ptr_nonnull(buf);
	snprintf(path, sizeof(path), ZONEINFO "%s", name);
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	ck_assert_int_gt(*len, 44);
	return buf;
}

/* Bytes of the version 1 block of a file whose first header is whole. */
static size_t block_size_v1(const unsigned char *p, size_t len)
{
	uint64_t c[6];

	ck_assert_int_ge(len, 44);
	for (int i = 0; i < 6; i++)
		c[i] = (uint64_t)p[20 + 4 * i] << 24 | (uint64_t)p[21 + 4 * i] << 16 |
		       (uint64_t)p[22 + 4 * i] << 8 | p[23 + 4 * i];
	/* isut, isstd, leap, times, types, chars */
	return (size_t)(c[0] + c[1] + c[2] * 8 + c[3] * 5 + c[4] * 6 + c[5]);
}

/* Every strict beginning of a real file is refused (the footer's last '\n' is missing), in a
 * buffer of exactly that size so that ASan sees any read past it; the whole file is accepted. */
START_TEST(test_zone_truncated)
{
	for (size_t k = 0; k < sizeof(real_zones) / sizeof(*real_zones); k++) {
		size_t len;
		unsigned char *whole = read_zone(real_zones[k], &len);

		for (size_t cut = 0; cut <= len; cut++) {
			unsigned char *part = malloc(cut == 0 ? 1 : cut);

			require(part != NULL, "malloc");
			memcpy(part, whole, cut);
			require(parse_ok(part, cut) == (cut == len), "%s cut to %zu of %zu bytes",
			        real_zones[k], cut, len);
			free(part);
		}
		free(whole);
	}
}
END_TEST

/* Whatever a zone answers, it answers within RFC 8536's offsets, at any moment in range. */
static void probe_zone(const struct template_zone *z, uint64_t *state)
{
	static const int64_t fixed[] = { -62135769600, 253402473600, 0, -1, 2000000000,
		                         2100000000, 4102444800 };
	int32_t off;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed) + 8; i++) {
		int64_t t = i < sizeof(fixed) / sizeof(*fixed)
		                    ? fixed[i]
		                    : -62135769600 + (int64_t)(next_random(state) % 315538243200u);

		require(template_zone_offset(z, t, &off) == 0 && off >= -89999 && off <= 93599,
		        "at %" PRId64 ": %" PRId32, t, off);
	}
	ck_assert_int_eq(template_zone_offset(z, -62135769601, &off), -1);
	ck_assert_int_eq(template_zone_offset(z, 253402473601, &off), -1);
}

/*
 * Real files and the built one, corrupted at random (a few bytes, a count set to an extreme, a
 * cut, bytes added): nothing crashes or reads outside the file (ASan), and a file that is still
 * accepted answers in range.
 */
START_TEST(test_zone_corrupted)
{
	static const uint32_t extremes[] = { 0, 1, 2, 255, 256, 2000, 2001, 0x7FFFFFFF, 0xFFFFFFFF };
	size_t nreal = sizeof(real_zones) / sizeof(*real_zones);
	unsigned char *files[sizeof(real_zones) / sizeof(*real_zones) + 1];
	size_t lens[sizeof(real_zones) / sizeof(*real_zones) + 1];
	uint64_t state = 0x2545F4914F6CDD1Du;
	int accepted = 0;

	for (size_t k = 0; k < nreal; k++)
		files[k] = read_zone(real_zones[k], &lens[k]);
	files[nreal] = malloc(600);
	lens[nreal] = tzif_build(&base_zone, files[nreal]);
	for (int round = 0; round < 20000; round++) {
		size_t k = next_random(&state) % (nreal + 1), len = lens[k];
		unsigned char *buf = malloc(len + 64);
		unsigned what = (unsigned)(next_random(&state) % 8);
		struct template_zone *z;

		require(buf != NULL, "malloc");
		memcpy(buf, files[k], len);
		if (what <= 3) { /* 1 to 4 random bytes */
			for (unsigned b = 0; b <= what; b++)
				buf[next_random(&state) % len] = (unsigned char)next_random(&state);
		} else if (what == 4) { /* a count of either header */
			size_t header = next_random(&state) % 2 ? 44 + block_size_v1(buf, len) : 0;
			size_t at = header + 20 + 4 * (next_random(&state) % 6);

			if (at + 4 <= len)
				put_be(buf + at, extremes[next_random(&state) % 9], 4);
		} else if (what == 5) { /* a byte of the footer */
			buf[len - 2 - next_random(&state) % 8] = (unsigned char)next_random(&state);
		} else if (what == 6) {
			len = next_random(&state) % len;
		} else {
			size_t more = 1 + next_random(&state) % 64;

			for (size_t b = 0; b < more; b++)
				buf[len + b] = (unsigned char)next_random(&state);
			len += more;
		}
		/* the exact size again, for ASan */
		buf = realloc(buf, len == 0 ? 1 : len);
		if (template_zone_parse(buf, len, &z) == 0) {
			accepted++;
			probe_zone(z, &state);
			template_zone_free(z);
		} else {
			require(z == NULL, "a refused file left a zone");
		}
		free(buf);
	}
	for (size_t k = 0; k <= nreal; k++)
		free(files[k]);
	/* Many corruptions leave a usable zone (a changed abbreviation, a moved transition): the
	 * accepted path is exercised, not only refusals. */
	ck_assert_msg(accepted > 1000, "only %d accepted", accepted);
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
	UNIT_TABLE(tc, test_tz_valid, tz_rows);
	UNIT_TABLE(tc, test_local_date, local_rows);
	tcase_add_test(tc, test_local_date_switching);
	tcase_add_test(tc, test_local_date_tz_changed_elsewhere);
	tcase_add_test(tc, test_local_date_leaves_the_environment_alone);
	tcase_add_test(tc, test_local_date_threads_and_a_bystander);
	tcase_add_test(tc, test_generated);
	tcase_add_test(tc, test_every_byte);
	tcase_add_test(tc, test_offset);
	UNIT_TABLE(tc, test_offset_against_glibc, oracle_zones);
	tcase_add_test(tc, test_every_zone_in_zoneinfo);
	tcase_add_test(tc, test_offset_threads_share_a_small_cache);
	tcase_add_test(tc, test_zone_spoiled);
	tcase_add_test(tc, test_zone_sizes);
	tcase_add_test(tc, test_zone_footer_length);
	tcase_add_test(tc, test_zone_leap_seconds);
	tcase_add_test(tc, test_zone_without_rule);
	tcase_add_test(tc, test_zone_rule);
	tcase_add_test(tc, test_zone_truncated);
	tcase_add_test(tc, test_zone_corrupted);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
