/*
 * name: the text check under names, templates and free-text fields. A table of texts with the
 * fault each has, with no forbidden byte and with '/' forbidden, ranking a control character or
 * forbidden byte over invalid UTF-8 wherever each stands; then name_check's sentences for each
 * fault. (Every UTF-8 form, and names as they arrive in a URL, are test_request.c's.)
 */
#include "name.h"
#include "unit.h"

#define OK NAME_TEXT_OK
#define CTRL NAME_TEXT_CONTROL
#define FORBIDDEN NAME_TEXT_FORBIDDEN
#define UTF8 NAME_TEXT_UTF8

/* A string literal with its length (NUL bytes inside count). */
#define S(lit) lit, sizeof(lit) - 1

struct text_row {
	int line;
	const char *s;
	size_t len;
	enum name_text plain; /* with no forbidden byte */
	enum name_text slash; /* with '/' forbidden */
	const char *desc;
};

static const struct text_row text_rows[] = {
	{ __LINE__, S(""), OK, OK, "empty: the length is the caller's" },
	{ __LINE__, S("abc"), OK, OK, "ASCII" },
	{ __LINE__, S("INV-{yyyy}/%04d"), OK, FORBIDDEN, "a '/'" },
	{ __LINE__, S("\xc3\xa9t\xc3\xa9"), OK, OK, "two-byte characters" },
	{ __LINE__, S("\xf0\x9f\x98\x80"), OK, OK, "a four-byte character" },
	{ __LINE__, S("\x7e"), OK, OK, "0x7E, one below DEL" },
	{ __LINE__, S("\xc2\x80"), OK, OK, "U+0080 is no control character here" },
	{ __LINE__, S("a\x01"), CTRL, CTRL, "U+0001" },
	{ __LINE__, S("a\x1f"), CTRL, CTRL, "U+001F" },
	{ __LINE__, S("a\x7f"), CTRL, CTRL, "DEL" },
	{ __LINE__, S("a\0b"), CTRL, CTRL, "a NUL" },
	{ __LINE__, S("\n"), CTRL, CTRL, "a newline" },
	{ __LINE__, S("a\xff"), UTF8, UTF8, "0xFF" },
	{ __LINE__, S("\xc0\xaf"), UTF8, UTF8, "an overlong '/' is no '/'" },
	{ __LINE__, S("\xed\xa0\x80"), UTF8, UTF8, "a surrogate" },
	{ __LINE__, S("\xe2\x82"), UTF8, UTF8, "a truncated character" },
	{ __LINE__, S("\xff\x01"), CTRL, CTRL, "a control character after bad UTF-8 still wins" },
	{ __LINE__, S("\x01\xff"), CTRL, CTRL, "and before it" },
	{ __LINE__, S("\xff/"), UTF8, FORBIDDEN, "a '/' after bad UTF-8 wins when forbidden" },
	{ __LINE__, S("\xc3/"), UTF8, FORBIDDEN, "a '/' where a continuation byte belongs" },
	{ __LINE__, S("\xc3\x01"), CTRL, CTRL, "a control character in its place" },
	{ __LINE__, S("/\x01"), CTRL, FORBIDDEN, "the first of the two wins" },
	{ __LINE__, S("\x01/"), CTRL, CTRL, "the first of the two wins, again" },
};

START_TEST(test_text)
{
	const struct text_row *row = &text_rows[_i];

	ck_assert_msg(name_text_check(row->s, row->len, 0) == row->plain,
	              "line %d: %s: %d without a forbidden byte", row->line, row->desc,
	              (int)name_text_check(row->s, row->len, 0));
	ck_assert_msg(name_text_check(row->s, row->len, '/') == row->slash,
	              "line %d: %s: %d with '/' forbidden", row->line, row->desc,
	              (int)name_text_check(row->s, row->len, '/'));
}
END_TEST

struct name_row {
	int line;
	const char *s;
	size_t len;
	const char *why; /* NULL: valid */
};

static const struct name_row name_rows[] = {
	{ __LINE__, S("a"), NULL },
	{ __LINE__, S(""), "Name must be 1 to 200 bytes." },
	{ __LINE__, S("a\x01"), "Name must not contain control characters." },
	{ __LINE__, S("a/b"), "Name must not contain '/'." },
	{ __LINE__, S("a\xff"), "Name must be valid UTF-8." },
	{ __LINE__, S("\xff/"), "Name must not contain '/'." },
};

START_TEST(test_name)
{
	const struct name_row *row = &name_rows[_i];
	const char *why = "(untouched)";
	int rc = name_check(row->s, row->len, &why);

	if (row->why == NULL) {
		ck_assert_msg(rc == 0 && strcmp(why, "(untouched)") == 0, "line %d: %d %s", row->line,
		              rc, why);
		return;
	}
	ck_assert_msg(rc == -1 && strcmp(why, row->why) == 0, "line %d: %d %s", row->line, rc, why);
}
END_TEST

/* 201 bytes is too long, whatever they hold; 200 are a name. */
START_TEST(test_name_length)
{
	char buf[201];
	const char *why = NULL;

	memset(buf, 'a', sizeof(buf));
	ck_assert_int_eq(name_check(buf, 200, &why), 0);
	ck_assert_int_eq(name_check(buf, 201, &why), -1);
	ck_assert_str_eq(why, "Name must be 1 to 200 bytes.");
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("name");
	TCase *tc = tcase_create("tables");

	UNIT_TABLE(tc, test_text, text_rows);
	UNIT_TABLE(tc, test_name, name_rows);
	tcase_add_test(tc, test_name_length);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
