/*
 * message: decoding and checking requests, packing responses. protobuf-c does the wire format;
 * this file decides what a field may hold. Strings arrive as bytes with their length (see the
 * GNUmakefile's string_as_bytes), so an embedded NUL is seen and refused like any other control
 * character instead of silently cutting the string short.
 */
#include "message.h"
#include "health.pb-c.h"
#include "sequentialid.pb-c.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *path;
	int admin;
	const ProtobufCMessageDescriptor *request;
} methods[RPC_METHOD_COUNT] = {
	[RPC_GET_NEXT] = { "/sequentialid.SequentialIDService/GetNext", 0,
	                   &sequentialid__get_next_request__descriptor },
	[RPC_GET_NEXT_BATCH] = { "/sequentialid.SequentialIDService/GetNextBatch", 0,
	                         &sequentialid__get_next_batch_request__descriptor },
	[RPC_RESET_COUNTER] = { "/sequentialid.SequentialIDService/ResetCounter", 1,
	                        &sequentialid__reset_counter_request__descriptor },
	[RPC_GET_STATUS] = { "/sequentialid.SequentialIDService/GetStatus", 0,
	                     &sequentialid__get_status_request__descriptor },
	[RPC_HEALTH] = { "/sequentialid.SequentialIDService/Health", 0,
	                 &sequentialid__health_request__descriptor },
	[RPC_GET_CONFIG] = { "/sequentialid.SequentialIDService/GetConfig", 0,
	                     &sequentialid__get_config_request__descriptor },
	[RPC_UPDATE_CONFIG] = { "/sequentialid.SequentialIDService/UpdateConfig", 1,
	                        &sequentialid__update_config_request__descriptor },
	[RPC_HEALTH_CHECK] = { "/grpc.health.v1.Health/Check", 0,
	                       &grpc__health__v1__health_check_request__descriptor },
};

const char *message_path(int method)
{
	return method >= 0 && method < RPC_METHOD_COUNT ? methods[method].path : "?";
}

int message_is_admin(int method)
{
	return method >= 0 && method < RPC_METHOD_COUNT && methods[method].admin;
}

__attribute__((format(printf, 2, 3))) static int refuse(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, MESSAGE_WHY_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

/* A free-text field: at most max bytes of UTF-8 without control characters (NUL included). */
static int text_field(const ProtobufCBinaryData *v, const char *field, size_t max, char *out,
                      char *why)
{
	if (v->len > max)
		return refuse(why, "%s must be at most %zu bytes.", field, max);
	if (v->len > 0 && name_text_check((const char *)v->data, v->len, 0) != NAME_TEXT_OK)
		return refuse(why, "%s must be UTF-8 without control characters.", field);
	if (v->len > 0)
		memcpy(out, v->data, v->len);
	out[v->len] = '\0';
	return 0;
}

/* The prefix every method but the health ones names: required, and a valid name. */
static int prefix_field(const ProtobufCBinaryData *v, struct rpc_request *out, char *why)
{
	const char *name_why;

	if (v->len == 0)
		return refuse(why, "prefix is required.");
	if (v->len > NAME_MAX_BYTES)
		return refuse(why, "prefix must be at most %d bytes.", NAME_MAX_BYTES);
	if (name_check((const char *)v->data, v->len, &name_why) != 0)
		return refuse(why, "Invalid prefix: %s", name_why);
	memcpy(out->prefix, v->data, v->len);
	out->prefix[v->len] = '\0';
	out->prefix_len = v->len;
	return 0;
}

/* The two fields that go to the audit with every change. */
static int caller_fields(const ProtobufCBinaryData *client_id,
                         const ProtobufCBinaryData *correlation_id, struct rpc_request *out,
                         char *why)
{
	if (text_field(client_id, "client_id", AUDIT_TEXT_MAX, out->client_id, why) != 0)
		return -1;
	return text_field(correlation_id, "correlation_id", AUDIT_TEXT_MAX, out->correlation_id,
	                  why);
}

static int get_next(const ProtobufCMessage *m, struct rpc_request *out, char *why)
{
	const Sequentialid__GetNextRequest *r = (const void *)m;

	if (prefix_field(&r->prefix, out, why) != 0)
		return -1;
	return caller_fields(&r->client_id, &r->correlation_id, out, why);
}

static int get_next_batch(const ProtobufCMessage *m, struct rpc_request *out, char *why)
{
	const Sequentialid__GetNextBatchRequest *r = (const void *)m;

	if (prefix_field(&r->prefix, out, why) != 0)
		return -1;
	if (r->count < 1 || r->count > MESSAGE_BATCH_MAX)
		return refuse(why, "count must be between 1 and %d.", MESSAGE_BATCH_MAX);
	out->count = r->count;
	return caller_fields(&r->client_id, &r->correlation_id, out, why);
}

static int reset_counter(const ProtobufCMessage *m, struct rpc_request *out, char *why)
{
	const Sequentialid__ResetCounterRequest *r = (const void *)m;

	if (prefix_field(&r->prefix, out, why) != 0)
		return -1;
	/* The next number is new_value + 1, which must be a number a prefix can issue. */
	if (r->new_value < 0 || r->new_value == INT64_MAX)
		return refuse(why, "new_value must be from 0 to %" PRId64 ".", INT64_MAX - 1);
	out->new_value = r->new_value;
	if (text_field(&r->reason, "reason", AUDIT_NOTE_MAX, out->reason, why) != 0)
		return -1;
	return caller_fields(&r->client_id, &r->correlation_id, out, why);
}

static int get_status(const ProtobufCMessage *m, struct rpc_request *out, char *why)
{
	return prefix_field(&((const Sequentialid__GetStatusRequest *)(const void *)m)->prefix, out,
	                    why);
}

static int get_config(const ProtobufCMessage *m, struct rpc_request *out, char *why)
{
	return prefix_field(&((const Sequentialid__GetConfigRequest *)(const void *)m)->prefix, out,
	                    why);
}

static int health(const ProtobufCMessage *m, struct rpc_request *out, char *why)
{
	(void)m;
	(void)out;
	(void)why;
	return 0; /* no fields; unknown ones are ignored, as proto3 says */
}

/*
 * What a ConfigInfo may set. nextid's prefixes count from 1 to 2^63-1, have no separator and
 * are always active: a client that sends another initial_value, max_value or separator is told
 * so rather than silently getting numbers it did not ask for. is_active is not read (proto3's
 * false is also what a client that never set it sends).
 */
static int update_config(const ProtobufCMessage *m, struct rpc_request *out, char *why)
{
	const Sequentialid__UpdateConfigRequest *r = (const void *)m;
	const Sequentialid__ConfigInfo *c = r->config;
	const char *tmpl_why;

	if (!c)
		return refuse(why, "config is required.");
	if (prefix_field(&c->prefix, out, why) != 0)
		return -1;
	if (text_field(&c->format, "format", TEMPLATE_MAX, out->format, why) != 0)
		return -1;
	if (out->format[0] && template_check(out->format, &tmpl_why) != 0)
		return refuse(why, "Invalid format: %s", tmpl_why);
	if (c->padding < 0 || c->padding > TEMPLATE_PADDING_MAX)
		return refuse(why, "padding must be from 0 (keep) to %d.", TEMPLATE_PADDING_MAX);
	out->padding = c->padding;
	if (c->separator.len != 0)
		return refuse(why, "separator is not supported; put it in format.");
	if (c->initial_value != 0 && c->initial_value != 1)
		return refuse(why, "initial_value must be 0 or 1: a prefix counts from 1 "
		                   "(ResetCounter moves its counter).");
	if (c->max_value != 0 && c->max_value != INT64_MAX)
		return refuse(why, "max_value must be 0 or %" PRId64 ": a prefix runs to that.",
		              INT64_MAX);
	out->reset_rule = -1;
	if (c->description.len != 0 &&
	    (out->reset_rule = template_rule_parse((const char *)c->description.data,
	                                           c->description.len)) < 0)
		return refuse(why, "description holds the reset rule: never, daily, monthly or "
		                   "yearly.");
	return caller_fields(&r->client_id, &r->correlation_id, out, why);
}

static int health_check(const ProtobufCMessage *m, struct rpc_request *out, char *why)
{
	const Grpc__Health__V1__HealthCheckRequest *r = (const void *)m;

	return text_field(&r->service, "service", NAME_MAX_BYTES, out->service, why);
}

typedef int check_fn(const ProtobufCMessage *m, struct rpc_request *out, char *why);

static check_fn *const checks[RPC_METHOD_COUNT] = {
	[RPC_GET_NEXT] = get_next,         [RPC_GET_NEXT_BATCH] = get_next_batch,
	[RPC_RESET_COUNTER] = reset_counter, [RPC_GET_STATUS] = get_status,
	[RPC_HEALTH] = health,             [RPC_GET_CONFIG] = get_config,
	[RPC_UPDATE_CONFIG] = update_config, [RPC_HEALTH_CHECK] = health_check,
};

int message_decode(int method, const uint8_t *bytes, size_t len, struct rpc_request *out,
                   char *why)
{
	ProtobufCMessage *m;
	int rc;

	memset(out, 0, sizeof(*out));
	out->method = method;
	out->reset_rule = -1;
	if (method < 0 || method >= RPC_METHOD_COUNT)
		return refuse(why, "Unknown method.");
	if (len > MESSAGE_REQUEST_MAX)
		return refuse(why, "The request is larger than %d bytes.", MESSAGE_REQUEST_MAX);
	m = protobuf_c_message_unpack(methods[method].request, NULL, len, bytes);
	if (!m)
		return refuse(why, "The request is not a valid %s message.",
		              methods[method].request->name);
	rc = checks[method](m, out, why);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

int message_pack(const ProtobufCMessage *msg, uint8_t **bytes, size_t *len)
{
	size_t size = protobuf_c_message_get_packed_size(msg);

	/* One byte more than needed: malloc(0) may be NULL, and an empty message is valid. */
	*bytes = malloc(size + 1);
	if (!*bytes)
		return -1;
	*len = protobuf_c_message_pack(msg, *bytes);
	return 0;
}

ProtobufCBinaryData message_text(const char *s, size_t len)
{
	ProtobufCBinaryData b = { .len = len, .data = (uint8_t *)(uintptr_t)s };

	return b;
}

ProtobufCBinaryData message_str(const char *s)
{
	return message_text(s, strlen(s));
}
