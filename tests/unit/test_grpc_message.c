/*
 * grpc_message: nextid-grpc's request checks and its statuses. Requests are raw protobuf bytes
 * written out by hand from API.md section 10 (field number << 3 | wire type, then the value), so
 * the rows also pin the field numbers and types the server reads: each row is a method, bytes
 * and either the checked request or the sentence of its INVALID_ARGUMENT. Then the store results
 * and admin checks, each with the gRPC status code it must end the call with.
 */
#include "message.h"
#include "reply.h"
#include "store.h"
#include "unit.h"

#include <inttypes.h>

#define B(lit) (const uint8_t *)lit, sizeof(lit) - 1

struct row {
	int line;
	const char *desc;
	int method;
	const uint8_t *bytes;
	size_t len;
	const char *why;    /* NULL: accepted */
	const char *prefix; /* when accepted */
	const char *client_id, *correlation_id;
	int64_t number;     /* count, new_value or padding, by method */
};

static const struct row rows[] = {
	/* GetNext: prefix [1], client_id [2], correlation_id [3], all strings */
	{ __LINE__, "prefix only", RPC_GET_NEXT, B("\x0a\x02SG"), NULL, "SG", "", "", 0 },
	{ __LINE__, "every field", RPC_GET_NEXT, B("\x0a\x03INV\x12\x03" "erp\x1a\x02" "c1"), NULL,
	  "INV", "erp", "c1", 0 },
	{ __LINE__, "fields in any order", RPC_GET_NEXT, B("\x1a\x02" "c1\x0a\x02SG"), NULL, "SG", "",
	  "c1", 0 },
	{ __LINE__, "the last of a repeated field wins", RPC_GET_NEXT, B("\x0a\x02XX\x0a\x02SG"),
	  NULL, "SG", "", "", 0 },
	{ __LINE__, "an unknown field is skipped", RPC_GET_NEXT, B("\x0a\x02SG\x78\x05"), NULL, "SG",
	  "", "", 0 },
	{ __LINE__, "a UTF-8 prefix", RPC_GET_NEXT, B("\x0a\x05\xc3\xa9t\xc3\xa9"), NULL,
	  "\xc3\xa9t\xc3\xa9", "", "", 0 },
	{ __LINE__, "a prefix cut inside a character", RPC_GET_NEXT, B("\x0a\x04\xc3\xa9t\xc3"),
	  "Invalid prefix", NULL, NULL, NULL, 0 },
	{ __LINE__, "empty message", RPC_GET_NEXT, B(""), "prefix is required.", NULL, NULL, NULL,
	  0 },
	{ __LINE__, "empty prefix sent", RPC_GET_NEXT, B("\x0a\x00"), "prefix is required.", NULL,
	  NULL, NULL, 0 },
	{ __LINE__, "a slash in the prefix", RPC_GET_NEXT, B("\x0a\x03" "a/b"), "Invalid prefix",
	  NULL, NULL, NULL, 0 },
	{ __LINE__, "a NUL inside the prefix", RPC_GET_NEXT, B("\x0a\x03S\x00G"), "Invalid prefix",
	  NULL, NULL, NULL, 0 },
	{ __LINE__, "a NUL inside client_id", RPC_GET_NEXT, B("\x0a\x02SG\x12\x02" "a\x00"),
	  "client_id must be UTF-8 without control characters.", NULL, NULL, NULL, 0 },
	{ __LINE__, "a newline in correlation_id", RPC_GET_NEXT, B("\x0a\x02SG\x1a\x02" "a\n"),
	  "correlation_id must be UTF-8 without control characters.", NULL, NULL, NULL, 0 },
	{ __LINE__, "invalid UTF-8 in client_id", RPC_GET_NEXT, B("\x0a\x02SG\x12\x01\xff"),
	  "client_id must be UTF-8 without control characters.", NULL, NULL, NULL, 0 },
	{ __LINE__, "truncated: a length past the end", RPC_GET_NEXT, B("\x0a\x05SG"),
	  "The request is not a valid sequentialid.GetNextRequest message.", NULL, NULL, NULL, 0 },
	{ __LINE__, "truncated: a tag alone", RPC_GET_NEXT, B("\x0a"),
	  "The request is not a valid sequentialid.GetNextRequest message.", NULL, NULL, NULL, 0 },
	{ __LINE__, "prefix sent as a number", RPC_GET_NEXT, B("\x08\x05"),
	  "The request is not a valid sequentialid.GetNextRequest message.", NULL, NULL, NULL, 0 },
	{ __LINE__, "a varint of 11 bytes", RPC_GET_NEXT,
	  B("\x78\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
	  "The request is not a valid sequentialid.GetNextRequest message.", NULL, NULL, NULL, 0 },
	/* GetNextBatch: prefix [1], count int32 [2], client_id [3], correlation_id [4] */
	{ __LINE__, "a batch of 1000", RPC_GET_NEXT_BATCH, B("\x0a\x02SG\x10\xe8\x07\x1a\x01" "a\x22\x01" "b"),
	  NULL, "SG", "a", "b", 1000 },
	{ __LINE__, "a batch of 1", RPC_GET_NEXT_BATCH, B("\x0a\x02SG\x10\x01"), NULL, "SG", "", "", 1 },
	{ __LINE__, "count 1001", RPC_GET_NEXT_BATCH, B("\x0a\x02SG\x10\xe9\x07"),
	  "count must be between 1 and 1000.", NULL, NULL, NULL, 0 },
	{ __LINE__, "count 0 (left out)", RPC_GET_NEXT_BATCH, B("\x0a\x02SG"),
	  "count must be between 1 and 1000.", NULL, NULL, NULL, 0 },
	{ __LINE__, "count -1", RPC_GET_NEXT_BATCH,
	  B("\x0a\x02SG\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
	  "count must be between 1 and 1000.", NULL, NULL, NULL, 0 },
	/* ResetCounter: prefix [1], new_value int64 [2], reason [3], client_id [4],
	 * correlation_id [5] */
	{ __LINE__, "a reset", RPC_RESET_COUNTER, B("\x0a\x02SG\x10\x64\x1a\x03why\x22\x02op\x2a\x01z"),
	  NULL, "SG", "op", "z", 100 },
	{ __LINE__, "a reset to 0", RPC_RESET_COUNTER, B("\x0a\x02SG"), NULL, "SG", "", "", 0 },
	{ __LINE__, "a reset to 2^63-1", RPC_RESET_COUNTER,
	  B("\x0a\x02SG\x10\xff\xff\xff\xff\xff\xff\xff\xff\x7f"),
	  "new_value must be from 0 to 9223372036854775806.", NULL, NULL, NULL, 0 },
	{ __LINE__, "a reset to -1", RPC_RESET_COUNTER,
	  B("\x0a\x02SG\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
	  "new_value must be from 0 to 9223372036854775806.", NULL, NULL, NULL, 0 },
	{ __LINE__, "a control character in the reason", RPC_RESET_COUNTER,
	  B("\x0a\x02SG\x1a\x01\x07"), "reason must be UTF-8 without control characters.", NULL,
	  NULL, NULL, 0 },
	/* GetStatus and GetConfig: prefix [1] */
	{ __LINE__, "status", RPC_GET_STATUS, B("\x0a\x02SG"), NULL, "SG", "", "", 0 },
	{ __LINE__, "config", RPC_GET_CONFIG, B("\x0a\x02SG"), NULL, "SG", "", "", 0 },
	{ __LINE__, "config without a prefix", RPC_GET_CONFIG, B(""), "prefix is required.", NULL,
	  NULL, NULL, 0 },
	/* Health: no fields */
	{ __LINE__, "health", RPC_HEALTH, B(""), NULL, "", "", "", 0 },
	{ __LINE__, "health with an unknown field", RPC_HEALTH, B("\x0a\x01x"), NULL, "", "", "", 0 },
	/* UpdateConfig: config ConfigInfo [1] (prefix [1], format [2], padding int32 [3],
	 * separator [4], initial_value int64 [5], max_value int64 [6], is_active bool [7],
	 * description [8]), client_id [2], correlation_id [3] */
	{ __LINE__, "a configuration", RPC_UPDATE_CONFIG,
	  B("\x0a\x1d\x0a\x03INV\x12\x0aINV%d-%04d\x18\x04\x38\x01\x42\x06yearly\x12\x02op\x1a\x01q"),
	  NULL, "INV", "op", "q", 4 },
	{ __LINE__, "initial and max values that are nextid's", RPC_UPDATE_CONFIG,
	  B("\x0a\x10\x0a\x02SG\x28\x01\x30\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), NULL, "SG", "", "",
	  0 },
	{ __LINE__, "no config", RPC_UPDATE_CONFIG, B("\x12\x02op"), "config is required.", NULL,
	  NULL, NULL, 0 },
	{ __LINE__, "a bad format", RPC_UPDATE_CONFIG, B("\x0a\x0a\x0a\x02SG\x12\x04{yy}"),
	  "Invalid format", NULL, NULL, NULL, 0 },
	{ __LINE__, "padding 19", RPC_UPDATE_CONFIG, B("\x0a\x06\x0a\x02SG\x18\x13"),
	  "padding must be from 0 (keep) to 18.", NULL, NULL, NULL, 0 },
	{ __LINE__, "a separator", RPC_UPDATE_CONFIG, B("\x0a\x07\x0a\x02SG\x22\x01-"),
	  "separator is not supported; put it in format.", NULL, NULL, NULL, 0 },
	{ __LINE__, "initial_value 5", RPC_UPDATE_CONFIG, B("\x0a\x06\x0a\x02SG\x28\x05"),
	  "initial_value must be 0 or 1", NULL, NULL, NULL, 0 },
	{ __LINE__, "max_value 999", RPC_UPDATE_CONFIG, B("\x0a\x07\x0a\x02SG\x30\xe7\x07"),
	  "max_value must be 0 or 9223372036854775807", NULL, NULL, NULL, 0 },
	{ __LINE__, "an unknown reset rule", RPC_UPDATE_CONFIG, B("\x0a\x0b\x0a\x02SG\x42\x05" "every"),
	  "description holds the reset rule", NULL, NULL, NULL, 0 },
	{ __LINE__, "the inner message cut short", RPC_UPDATE_CONFIG, B("\x0a\x09\x0a\x02SG"),
	  "The request is not a valid", NULL, NULL, NULL, 0 },
	/* grpc.health.v1 Check: service [1] */
	{ __LINE__, "check the server", RPC_HEALTH_CHECK, B(""), NULL, "", "", "", 0 },
	{ __LINE__, "check a service", RPC_HEALTH_CHECK, B("\x0a\x03" "abc"), NULL, "", "", "", 0 },
	{ __LINE__, "a method that does not exist", RPC_METHOD_COUNT, B(""), "Unknown method.", NULL,
	  NULL, NULL, 0 },
};

START_TEST(test_decode)
{
	const struct row *row = &rows[_i];
	struct rpc_request r;
	char why[MESSAGE_WHY_MAX] = "";
	int rc = message_decode(row->method, row->bytes, row->len, &r, why);

	if (row->why) {
		ck_assert_msg(rc == -1, "line %d: %s: accepted", row->line, row->desc);
		ck_assert_msg(strncmp(why, row->why, strlen(row->why)) == 0,
		              "line %d: %s: said \"%s\"", row->line, row->desc, why);
		return;
	}
	ck_assert_msg(rc == 0, "line %d: %s: refused: %s", row->line, row->desc, why);
	if (!row->prefix)
		return;
	ck_assert_msg(strcmp(r.prefix, row->prefix) == 0 && r.prefix_len == strlen(row->prefix),
	              "line %d: %s: prefix '%s'", row->line, row->desc, r.prefix);
	ck_assert_msg(strcmp(r.client_id, row->client_id) == 0, "line %d: %s: client_id '%s'",
	              row->line, row->desc, r.client_id);
	ck_assert_msg(strcmp(r.correlation_id, row->correlation_id) == 0,
	              "line %d: %s: correlation_id '%s'", row->line, row->desc, r.correlation_id);
	if (row->method == RPC_GET_NEXT_BATCH)
		ck_assert_int_eq(r.count, row->number);
	if (row->method == RPC_RESET_COUNTER)
		ck_assert_int_eq(r.new_value, row->number);
	if (row->method == RPC_UPDATE_CONFIG)
		ck_assert_int_eq(r.padding, row->number);
}
END_TEST

/* A request's limits: texts at their bounds and one byte past. */
START_TEST(test_limits)
{
	uint8_t buf[1200];
	struct rpc_request r;
	char why[MESSAGE_WHY_MAX];
	size_t n;

	/* prefix of 200 bytes: accepted; 201: refused */
	for (size_t len = 200; len <= 201; len++) {
		buf[0] = 0x0a;
		buf[1] = (uint8_t)(0x80 | (len & 0x7f));
		buf[2] = (uint8_t)(len >> 7);
		memset(buf + 3, 'p', len);
		ck_assert_int_eq(message_decode(RPC_GET_NEXT, buf, 3 + len, &r, why),
		                 len == 200 ? 0 : -1);
	}
	/* client_id of 128 bytes: accepted; 129: refused */
	for (size_t len = 128; len <= 129; len++) {
		memcpy(buf, "\x0a\x02SG\x12", 5);
		buf[5] = (uint8_t)(0x80 | (len & 0x7f));
		buf[6] = (uint8_t)(len >> 7);
		memset(buf + 7, 'c', len);
		n = 7 + len;
		ck_assert_int_eq(message_decode(RPC_GET_NEXT, buf, n, &r, why), len == 128 ? 0 : -1);
	}
	ck_assert_str_eq(why, "client_id must be at most 128 bytes.");
	/* a message larger than MESSAGE_REQUEST_MAX is refused before it is read */
	ck_assert_int_eq(message_decode(RPC_GET_NEXT, buf, MESSAGE_REQUEST_MAX + 1, &r, why), -1);
}
END_TEST

/* ---- statuses ---- */

struct status_row {
	int line;
	int method;
	int rc;
	const char *why;
	grpc_status_code code;
	const char *message;
};

static const struct status_row status_rows[] = {
	{ __LINE__, RPC_GET_NEXT, STORE_NOT_FOUND, NULL, GRPC_STATUS_NOT_FOUND,
	  "prefix SG not configured; configure it first (UpdateConfig)" },
	{ __LINE__, RPC_GET_NEXT, STORE_EXHAUSTED, NULL, GRPC_STATUS_RESOURCE_EXHAUSTED,
	  "prefix SG reached its maximum; nothing was issued" },
	{ __LINE__, RPC_GET_NEXT_BATCH, STORE_EXHAUSTED, NULL, GRPC_STATUS_RESOURCE_EXHAUSTED,
	  "prefix SG has fewer than 7 numbers left before its maximum; nothing was issued, ask for "
	  "fewer" },
	{ __LINE__, RPC_GET_NEXT, STORE_BUSY, NULL, GRPC_STATUS_UNAVAILABLE,
	  "prefix SG is busy; nothing was changed, retry in a moment" },
	{ __LINE__, RPC_GET_STATUS, STORE_UNAVAILABLE, NULL, GRPC_STATUS_UNAVAILABLE,
	  "the store is unavailable; nothing was changed, retry in a moment" },
	{ __LINE__, RPC_GET_NEXT, STORE_FULL, NULL, GRPC_STATUS_RESOURCE_EXHAUSTED,
	  "the store's disk is full; nothing was changed, retry once there is room" },
	{ __LINE__, RPC_RESET_COUNTER, STORE_INVALID, "set_to is below", GRPC_STATUS_FAILED_PRECONDITION,
	  "new_value 3 is below the current counter of prefix SG, 9: that would issue numbers "
	  "again, so nextid does not lower a counter" },
	{ __LINE__, RPC_UPDATE_CONFIG, STORE_INVALID, "timezone is not a zone this host knows.",
	  GRPC_STATUS_INVALID_ARGUMENT, "timezone is not a zone this host knows." },
	{ __LINE__, RPC_GET_NEXT, STORE_INVALID, NULL, GRPC_STATUS_INVALID_ARGUMENT,
	  "a number of prefix SG would be longer than 1024 bytes; shorten its format" },
	{ __LINE__, RPC_UPDATE_CONFIG, STORE_LIMIT, NULL, GRPC_STATUS_RESOURCE_EXHAUSTED,
	  "the store holds max_sequences sequences already; SG was not created" },
	{ __LINE__, RPC_GET_NEXT, STORE_OK, NULL, GRPC_STATUS_INTERNAL,
	  "unexpected store result 0" },
	{ __LINE__, RPC_GET_NEXT, STORE_NOT_REPLICATED, NULL, GRPC_STATUS_UNAVAILABLE,
	  "the group did not acknowledge in time; nothing is handed out, retry in a moment" },
	{ __LINE__, RPC_GET_NEXT, STORE_RC_COUNT, NULL, GRPC_STATUS_INTERNAL,
	  "unexpected store result 13" },
};

START_TEST(test_status)
{
	const struct status_row *row = &status_rows[_i];
	struct rpc_request req = { .method = row->method, .prefix = "SG", .prefix_len = 2,
		                   .count = 7, .new_value = 3 };
	const struct reply_detail d = { .why = row->why, .current = 9 };
	struct rpc_reply out;

	reply_store(&req, row->rc, &d, &out);
	ck_assert_msg(out.code == row->code, "line %d: code %d", row->line, (int)out.code);
	ck_assert_msg(strcmp(out.message, row->message) == 0, "line %d: \"%s\"", row->line,
	              out.message);
}
END_TEST

struct auth_row {
	int line;
	const char *token, *header; /* header NULL: no authorization metadata */
	int ok;
	grpc_status_code code;
};

static const struct auth_row auth_rows[] = {
	{ __LINE__, "admin-token-0123456789", "Bearer admin-token-0123456789", 1, GRPC_STATUS_OK },
	{ __LINE__, "admin-token-0123456789", "bearer admin-token-0123456789", 1, GRPC_STATUS_OK },
	{ __LINE__, "admin-token-0123456789", NULL, 0, GRPC_STATUS_UNAUTHENTICATED },
	{ __LINE__, "admin-token-0123456789", "Bearer admin-token-012345678", 0,
	  GRPC_STATUS_UNAUTHENTICATED },
	{ __LINE__, "admin-token-0123456789", "Bearer admin-token-01234567890", 0,
	  GRPC_STATUS_UNAUTHENTICATED },
	{ __LINE__, "admin-token-0123456789", "admin-token-0123456789", 0,
	  GRPC_STATUS_UNAUTHENTICATED },
	{ __LINE__, "admin-token-0123456789", "Bearer ", 0, GRPC_STATUS_UNAUTHENTICATED },
	{ __LINE__, "admin-token-0123456789", "Basic YWRtaW4=", 0, GRPC_STATUS_UNAUTHENTICATED },
	{ __LINE__, "", "Bearer anything-at-all-here", 0, GRPC_STATUS_PERMISSION_DENIED },
	{ __LINE__, "", NULL, 0, GRPC_STATUS_PERMISSION_DENIED },
};

START_TEST(test_auth)
{
	const struct auth_row *row = &auth_rows[_i];
	struct rpc_reply out = { .code = GRPC_STATUS_OK };
	int rc = reply_auth(row->token, row->header, row->header ? strlen(row->header) : 0, &out);

	ck_assert_msg((rc == 0) == row->ok, "line %d: %d", row->line, rc);
	if (!row->ok)
		ck_assert_msg(out.code == row->code, "line %d: code %d", row->line, (int)out.code);
}
END_TEST

START_TEST(test_paths)
{
	ck_assert_str_eq(message_path(RPC_GET_NEXT), "/sequentialid.SequentialIDService/GetNext");
	ck_assert_str_eq(message_path(RPC_UPDATE_CONFIG),
	                 "/sequentialid.SequentialIDService/UpdateConfig");
	ck_assert_str_eq(message_path(RPC_HEALTH_CHECK), "/grpc.health.v1.Health/Check");
	ck_assert_str_eq(message_path(-1), "?");
	ck_assert_int_eq(message_is_admin(RPC_RESET_COUNTER), 1);
	ck_assert_int_eq(message_is_admin(RPC_UPDATE_CONFIG), 1);
	ck_assert_int_eq(message_is_admin(RPC_GET_NEXT), 0);
	ck_assert_int_eq(message_is_admin(RPC_METHOD_COUNT), 0);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("grpc_message");
	TCase *tc = tcase_create("grpc_message");

	UNIT_TABLE(tc, test_decode, rows);
	tcase_add_test(tc, test_limits);
	UNIT_TABLE(tc, test_status, status_rows);
	UNIT_TABLE(tc, test_auth, auth_rows);
	tcase_add_test(tc, test_paths);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
