/*
 * bigendian: a table of byte strings and the numbers they are, unsigned and signed, for every
 * width the formats use (2, 4 and 8 bytes) and at the edges of each (0, the top bit alone, all
 * ones), both ways; writing n bytes touches exactly those.
 */
#include "bigendian.h"
#include "unit.h"

#include <inttypes.h>

struct row {
	int line;
	const char *bytes;
	int n;
	uint64_t u;
	int64_t s;
};

static const struct row rows[] = {
	{ __LINE__, "\x00\x00", 2, 0, 0 },
	{ __LINE__, "\x01\x02", 2, 0x0102, 0x0102 },
	{ __LINE__, "\x7f\xff", 2, 0x7FFF, 0x7FFF },
	{ __LINE__, "\x80\x00", 2, 0x8000, -32768 },
	{ __LINE__, "\xff\xff", 2, 0xFFFF, -1 },
	{ __LINE__, "\x00\x00\x0e\x10", 4, 3600, 3600 },
	{ __LINE__, "\xff\xff\xb9\xb0", 4, 0xFFFFB9B0, -18000 },
	{ __LINE__, "\x7f\xff\xff\xff", 4, INT32_MAX, INT32_MAX },
	{ __LINE__, "\x80\x00\x00\x00", 4, 0x80000000u, INT32_MIN },
	{ __LINE__, "\xff\xff\xff\xff", 4, UINT32_MAX, -1 },
	{ __LINE__, "\x00\x00\x00\x00\x00\x00\x00\x00", 8, 0, 0 },
	{ __LINE__, "\x01\x02\x03\x04\x05\x06\x07\x08", 8, 0x0102030405060708u, 0x0102030405060708 },
	{ __LINE__, "\x7f\xff\xff\xff\xff\xff\xff\xff", 8, INT64_MAX, INT64_MAX },
	{ __LINE__, "\x80\x00\x00\x00\x00\x00\x00\x00", 8, 0x8000000000000000u, INT64_MIN },
	{ __LINE__, "\xff\xff\xff\xff\xff\xff\xff\xfe", 8, UINT64_MAX - 1, -2 },
	{ __LINE__, "\xff\xff\xff\xff\xff\xff\xff\xff", 8, UINT64_MAX, -1 },
};

START_TEST(test_row)
{
	const struct row *row = &rows[_i];
	const unsigned char *bytes = (const unsigned char *)row->bytes;
	unsigned char buf[10];

	ck_assert_msg(bigendian_get(bytes, row->n) == row->u, "line %d: get %" PRIu64, row->line,
	              bigendian_get(bytes, row->n));
	ck_assert_msg(bigendian_get_signed(bytes, row->n) == row->s, "line %d: signed %" PRId64,
	              row->line, bigendian_get_signed(bytes, row->n));
	memset(buf, 0xAA, sizeof(buf));
	bigendian_put(buf + 1, row->u, row->n);
	ck_assert_msg(memcmp(buf + 1, bytes, (size_t)row->n) == 0, "line %d: put", row->line);
	ck_assert_msg(buf[0] == 0xAA && buf[row->n + 1] == 0xAA, "line %d: put outside", row->line);
	/* a signed value passed as (uint64_t) writes its low n bytes: the same bytes */
	memset(buf, 0xAA, sizeof(buf));
	bigendian_put(buf + 1, (uint64_t)row->s, row->n);
	ck_assert_msg(memcmp(buf + 1, bytes, (size_t)row->n) == 0, "line %d: put signed", row->line);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("bigendian");
	TCase *tc = tcase_create("tables");

	UNIT_TABLE(tc, test_row, rows);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
