/*
 * fuzz_grpc_message: message_decode (grpc/message.c) on arbitrary bytes, the whole of what
 * nextid-grpc does with a request message before anything else sees it: protobuf-c's decoding
 * and every field check. The first byte picks the method (one value past the last is the unknown
 * method), the rest is the message. Beyond "no crash" (ASan and UBSan watch every byte), it
 * checks what the header promises: 0 or -1; a refusal says why in a NUL-terminated sentence; an
 * accepted request holds a valid name as its prefix (every method that has one), texts of UTF-8
 * without control characters within their bounds, numbers in range; the same bytes give the
 * same answer twice.
 */
#include "message.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *rule, const char *detail)
{
	fprintf(stderr, "\n==== nextid fuzz: message_decode broke a rule: %s\n", rule);
	if (detail)
		fprintf(stderr, "detail: %s\n", detail);
	abort();
}

static void check_text(const char *s, size_t size, size_t max, const char *what)
{
	const char *nul = memchr(s, '\0', size);

	if (!nul || (size_t)(nul - s) > max)
		broken("a text fits its bound, NUL-terminated", what);
	if (name_text_check(s, (size_t)(nul - s), 0) != NAME_TEXT_OK)
		broken("a text is UTF-8 without control characters", what);
}

static void check_accepted(int method, const struct rpc_request *r)
{
	const char *why;

	if (method != RPC_HEALTH && method != RPC_HEALTH_CHECK &&
	    (r->prefix_len != strlen(r->prefix) || name_check(r->prefix, r->prefix_len, &why) != 0))
		broken("the prefix is a valid name", r->prefix);
	check_text(r->client_id, sizeof(r->client_id), AUDIT_TEXT_MAX, "client_id");
	check_text(r->correlation_id, sizeof(r->correlation_id), AUDIT_TEXT_MAX, "correlation_id");
	check_text(r->reason, sizeof(r->reason), AUDIT_NOTE_MAX, "reason");
	check_text(r->service, sizeof(r->service), NAME_MAX_BYTES, "service");
	check_text(r->format, sizeof(r->format), TEMPLATE_MAX, "format");
	if (r->format[0] && template_check(r->format, &why) != 0)
		broken("a format is a valid template", r->format);
	if (method == RPC_GET_NEXT_BATCH && (r->count < 1 || r->count > MESSAGE_BATCH_MAX))
		broken("a batch's count is 1 to 1000", NULL);
	if (r->new_value < 0 || r->new_value == INT64_MAX)
		broken("a reset's new_value is 0 to 2^63-2", NULL);
	if (r->padding < 0 || r->padding > TEMPLATE_PADDING_MAX)
		broken("a padding is 0 to 18", NULL);
	if (r->reset_rule < -1 || r->reset_rule > TEMPLATE_YEARLY)
		broken("a reset rule is a rule, or -1", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_request *r = malloc(sizeof(*r)), *again = malloc(sizeof(*again));
	char why[MESSAGE_WHY_MAX], why2[MESSAGE_WHY_MAX];
	int method, rc, rc2;

	if (!r || !again)
		abort();
	if (size == 0)
		goto out;
	method = data[0] % (RPC_METHOD_COUNT + 1);
	memset(why, 'x', sizeof(why));
	rc = message_decode(method, data + 1, size - 1, r, why);
	if (rc != 0 && rc != -1)
		broken("message_decode returns 0 or -1", NULL);
	if (rc == 0 && method == RPC_METHOD_COUNT)
		broken("an unknown method is refused", NULL);
	if (rc == 0)
		check_accepted(method, r);
	else if (!memchr(why, '\0', sizeof(why)) || why[0] == '\0')
		broken("a refusal says why", NULL);
	rc2 = message_decode(method, data + 1, size - 1, again, why2);
	if (rc2 != rc || (rc == 0 && memcmp(r, again, sizeof(*r)) != 0) ||
	    (rc != 0 && strcmp(why, why2) != 0))
		broken("the same bytes give the same answer", NULL);
out:
	free(again);
	free(r);
	return 0;
}
