/*
 * audit: the bytes of an audit entry. An entry without a correlation_id must be exactly the
 * version-1 layout that stores already hold (so a byte string written before the field existed
 * is a row here, decoded as it always was), an entry with one carries it as a sixth string, and
 * damaged bytes (cut short, a length past the end, an empty sixth string, junk after it) are
 * refused, never read past.
 */
#include "audit.h"
#include "unit.h"

/* The version-1 bytes of an issued number: counter 7, period 0, time 1000 ms, id 0x11..., full
 * number "SG000007", client_id "erp", the other strings empty. */
#define V1_HEAD "\x01" V1_BODY /* version 1 */
#define V1_BODY                                                                                 \
	"\x01"                             /* event issued */                                   \
	"\x00\x00\x00\x00\x00\x00\x00\x07" /* counter */                                        \
	"\x00\x00\x00\x00\x00\x00\x00\x00" /* old_value */                                      \
	"\x00\x00\x00\x00"                 /* period */                                         \
	"\x00\x00\x00\x00\x00\x00\x03\xe8" /* time_ms */                                        \
	"\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11"                     \
	"\x00\x08SG000007"                 /* full_number */                                    \
	"\x00\x03" "erp"                   /* client_id */                                      \
	"\x00\x00"                         /* generated_by */                                   \
	"\x00\x00"                         /* admin_user */                                     \
	"\x00\x00"                         /* note */
#define V1_LEN (46 + 10 + 8 + 3)

struct row {
	int line;
	const char *desc;
	const char *bytes;
	size_t len;
	int ok;                     /* audit_decode's verdict */
	const char *correlation_id; /* when ok */
};

static const struct row rows[] = {
	{ __LINE__, "an entry written before correlation_id existed", V1_HEAD, V1_LEN, 1, "" },
	{ __LINE__, "with a correlation_id", V1_HEAD "\x00\x05req-1", V1_LEN + 7, 1, "req-1" },
	{ __LINE__, "an empty sixth string is never written", V1_HEAD "\x00\x00", V1_LEN + 2, 0,
	  NULL },
	{ __LINE__, "half a length", V1_HEAD "\x00", V1_LEN + 1, 0, NULL },
	{ __LINE__, "a length past the end", V1_HEAD "\x00\x09req-1", V1_LEN + 7, 0, NULL },
	{ __LINE__, "bytes after the sixth string", V1_HEAD "\x00\x01xy", V1_LEN + 4, 0, NULL },
	{ __LINE__, "longer than its field", V1_HEAD "\x00\x81", V1_LEN + 2, 0, NULL },
	{ __LINE__, "cut in the fifth string's length", V1_HEAD, V1_LEN - 1, 0, NULL },
	{ __LINE__, "another version", "\x02" V1_BODY, V1_LEN, 0, NULL },
};

START_TEST(test_decode)
{
	const struct row *row = &rows[_i];
	struct audit_entry e;
	unsigned char again[AUDIT_VALUE_MAX];
	size_t n;

	memset(&e, 0x5A, sizeof(e));
	if (!row->ok) {
		ck_assert_msg(audit_decode(row->bytes, row->len, &e) == -1, "line %d: %s: accepted",
		              row->line, row->desc);
		return;
	}
	ck_assert_msg(audit_decode(row->bytes, row->len, &e) == 0, "line %d: %s: refused",
	              row->line, row->desc);
	ck_assert_int_eq(e.counter, 7);
	ck_assert_int_eq(e.time_ms, 1000);
	ck_assert_str_eq(e.full_number, "SG000007");
	ck_assert_str_eq(e.client_id, "erp");
	ck_assert_str_eq(e.generated_by, "");
	ck_assert_msg(strcmp(e.correlation_id, row->correlation_id) == 0, "line %d: %s: '%s'",
	              row->line, row->desc, e.correlation_id);
	/* One encoding per entry: encoding what was decoded gives the same bytes back. */
	n = audit_encode(&e, again);
	ck_assert_msg(n == row->len && memcmp(again, row->bytes, n) == 0,
	              "line %d: %s: encoded again as %zu bytes", row->line, row->desc, n);
}
END_TEST

/* The largest entry fits AUDIT_VALUE_MAX, and a string without its NUL is refused. */
START_TEST(test_encode_limits)
{
	struct audit_entry *e = calloc(1, sizeof(*e));
	unsigned char *buf = malloc(AUDIT_VALUE_MAX);
	struct audit_entry *back = malloc(sizeof(*back));
	size_t n;

	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(back);
	e->event = AUDIT_ISSUED;
	memset(e->full_number, 'n', AUDIT_NUMBER_MAX);
	memset(e->client_id, 'c', AUDIT_TEXT_MAX);
	memset(e->generated_by, 'g', AUDIT_TEXT_MAX);
	memset(e->admin_user, 'a', AUDIT_TEXT_MAX);
	memset(e->note, 'r', AUDIT_NOTE_MAX);
	memset(e->correlation_id, 'x', AUDIT_TEXT_MAX);
	n = audit_encode(e, buf);
	ck_assert_msg(n > 0 && n <= AUDIT_VALUE_MAX, "%zu bytes", n);
	ck_assert_int_eq(audit_decode(buf, n, back), 0);
	ck_assert_int_eq(strlen(back->correlation_id), AUDIT_TEXT_MAX);
	ck_assert_int_eq(back->correlation_id[0], 'x');
	memset(e->correlation_id, 'x', sizeof(e->correlation_id)); /* no NUL left */
	ck_assert_int_eq(audit_encode(e, buf), 0);
	free(back);
	free(buf);
	free(e);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("audit");
	TCase *tc = tcase_create("audit");

	UNIT_TABLE(tc, test_decode, rows);
	tcase_add_test(tc, test_encode_limits);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
