/*
 * message: the bytes of nextid-grpc's calls. Which methods exist (their paths, whether they are
 * admin), a request's bytes turned into a checked struct rpc_request, and a response packed into
 * bytes. Decoding is protobuf-c's (generated from sequentialid.proto and health.proto); every
 * field is then checked here, so what leaves this module is a valid name, bounded UTF-8 text
 * without control characters, and numbers in range. Pure: no I/O, no store, no gRPC core; unit
 * tested (tests/unit/test_grpc_message.c) and fuzzed (tests/fuzz/fuzz_grpc_message.c).
 */
#ifndef NEXTID_MESSAGE_H
#define NEXTID_MESSAGE_H

#include "audit.h"
#include "name.h"
#include "template.h"

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* The largest request any method takes. Real ones are under 2 KiB (a 200-byte prefix, texts
 * of at most 512 bytes); the gRPC core refuses a larger message before it reaches us. */
#define MESSAGE_REQUEST_MAX (16 * 1024)
#define MESSAGE_BATCH_MAX 1000 /* GetNextBatch takes 1 to this many numbers */
#define MESSAGE_WHY_MAX 192    /* bytes of a refusal's sentence */

enum rpc_method {
	RPC_GET_NEXT,
	RPC_GET_NEXT_BATCH,
	RPC_RESET_COUNTER,
	RPC_GET_STATUS,
	RPC_HEALTH,
	RPC_GET_CONFIG,
	RPC_UPDATE_CONFIG,
	RPC_HEALTH_CHECK, /* grpc.health.v1.Health/Check */
	RPC_METHOD_COUNT
};

/* The path of a method ("/sequentialid.SequentialIDService/GetNext"), and whether it changes
 * state an administrator owns (then it needs the admin token). */
const char *message_path(int method);
int message_is_admin(int method);

/* A checked request. Texts are NUL-terminated, "" when the client left them out. */
struct rpc_request {
	int method;
	char prefix[NAME_MAX_BYTES + 1]; /* every method but the health ones: a valid name */
	size_t prefix_len;
	char client_id[AUDIT_TEXT_MAX + 1];
	char correlation_id[AUDIT_TEXT_MAX + 1];
	int32_t count;             /* GetNextBatch: 1..MESSAGE_BATCH_MAX */
	int64_t new_value;         /* ResetCounter: 0..2^63-2 */
	char reason[AUDIT_NOTE_MAX + 1];
	/* UpdateConfig: what the ConfigInfo sets; proto3 sends no "unset", so an empty format,
	 * a padding of 0 and an empty description leave that setting as it is. */
	char format[TEMPLATE_MAX + 1]; /* "" = keep */
	int32_t padding;               /* 1..TEMPLATE_PADDING_MAX; 0 = keep */
	int reset_rule;                /* enum template_rule; -1 = keep */
	/* grpc.health.v1 Check: the service asked about ("" = the server as a whole) */
	char service[NAME_MAX_BYTES + 1];
};

/*
 * Decode and check the request of `method` from bytes[0..len). Returns 0 with *out filled, or -1
 * with why (MESSAGE_WHY_MAX bytes) a sentence for the client's INVALID_ARGUMENT status: bytes
 * that are no valid message, a missing prefix, a name or text the API does not take, a count or
 * value out of range.
 */
int message_decode(int method, const uint8_t *bytes, size_t len, struct rpc_request *out,
                   char *why);

/*
 * Pack a response message into bytes the caller frees (free()). Returns 0 with *bytes, *len set,
 * or -1 when out of memory.
 */
int message_pack(const ProtobufCMessage *msg, uint8_t **bytes, size_t *len);

/* A text field of a response: s[0..len) as protobuf-c's bytes (the strings are marked
 * string_as_bytes at build time, see the GNUmakefile). s must outlive the packing. */
ProtobufCBinaryData message_text(const char *s, size_t len);
ProtobufCBinaryData message_str(const char *s);

#endif
