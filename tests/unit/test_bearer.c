/*
 * bearer: the admin token in an Authorization header or metadata value, exactly.
 */
#include "bearer.h"
#include "unit.h"

#include <string.h>

static int matches(const char *header)
{
	return bearer_matches("s3cret-token-0123", header, header ? strlen(header) : 0);
}

START_TEST(test_matches)
{
	ck_assert_int_eq(matches("Bearer s3cret-token-0123"), 1);
	ck_assert_int_eq(matches("bearer s3cret-token-0123"), 1);   /* the scheme in any case */
	ck_assert_int_eq(matches("BEARER s3cret-token-0123"), 1);
	ck_assert_int_eq(matches("Bearer s3cret-token-012"), 0);    /* a prefix of the token */
	ck_assert_int_eq(matches("Bearer s3cret-token-01234"), 0);  /* the token and more */
	ck_assert_int_eq(matches("Bearer s3cret-token-0124"), 0);
	ck_assert_int_eq(matches("Bearer  s3cret-token-0123"), 0);  /* two spaces */
	ck_assert_int_eq(matches("Basic s3cret-token-0123"), 0);
	ck_assert_int_eq(matches("s3cret-token-0123"), 0);
	ck_assert_int_eq(matches("Bearer "), 0);
	ck_assert_int_eq(matches("Bearer"), 0);
	ck_assert_int_eq(matches(""), 0);
	ck_assert_int_eq(matches(NULL), 0);
	/* the length given counts, not a NUL: an embedded NUL is part of the candidate */
	ck_assert_int_eq(bearer_matches("s3cret-token-0123", "Bearer s3cret-token-0123\0x", 26), 0);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("bearer");
	TCase *tc = tcase_create("bearer");

	tcase_add_test(tc, test_matches);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
