/*
 * reply: store results and admin checks as gRPC statuses. A table gives each store result its
 * code and sentence; a few results mean something more precise for one method (a refused reset,
 * a refused configuration, a batch at the maximum), and those are decided first.
 */
#include "reply.h"
#include "bearer.h"
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void reply_set(struct rpc_reply *out, grpc_status_code code, const char *fmt, ...)
{
	va_list ap;

	out->code = code;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
}

/* "%s" in a sentence is the prefix. */
static const struct {
	grpc_status_code code;
	const char *sentence;
} table[STORE_RC_COUNT] = {
	[STORE_NOT_FOUND] = { GRPC_STATUS_NOT_FOUND,
	                      "prefix %s not configured; configure it first (UpdateConfig)" },
	[STORE_EXISTS] = { GRPC_STATUS_ALREADY_EXISTS, "prefix %s exists already" },
	[STORE_EXHAUSTED] = { GRPC_STATUS_RESOURCE_EXHAUSTED,
	                      "prefix %s reached its maximum; nothing was issued" },
	[STORE_TYPE_MISMATCH] = { GRPC_STATUS_FAILED_PRECONDITION,
	                          "%s is a sequence of another kind, not a prefix" },
	[STORE_INVALID] = { GRPC_STATUS_INVALID_ARGUMENT, "the request for prefix %s is invalid" },
	[STORE_BUSY] = { GRPC_STATUS_UNAVAILABLE,
	                 "prefix %s is busy; nothing was changed, retry in a moment" },
	[STORE_UNAVAILABLE] = { GRPC_STATUS_UNAVAILABLE,
	                        "the store is unavailable; nothing was changed, retry in a moment" },
	[STORE_PREFIX] = { GRPC_STATUS_FAILED_PRECONDITION, "%s is a prefix" },
	[STORE_FULL] = { GRPC_STATUS_RESOURCE_EXHAUSTED,
	                 "the store's disk is full; nothing was changed, retry once there is room" },
	[STORE_LIMIT] = { GRPC_STATUS_RESOURCE_EXHAUSTED,
	                  "the store holds max_sequences sequences already; %s was not created" },
	[STORE_NO_MASTER] = { GRPC_STATUS_UNAVAILABLE,
	                      "no master is known (an election may be under way); nothing was "
	                      "changed, retry in a moment" },
	[STORE_NOT_REPLICATED] = { GRPC_STATUS_UNAVAILABLE,
	                           "the group did not acknowledge in time; nothing is handed out, "
	                           "retry in a moment" },
};

void reply_store(const struct rpc_request *req, int rc, const struct reply_detail *d,
                 struct rpc_reply *out)
{
	const char *why = d && d->why && d->why[0] ? d->why : NULL;

	if (rc == STORE_INVALID && req->method == RPC_RESET_COUNTER) {
		/* The message check bounds new_value, so the store refuses only a lowering. */
		reply_set(out, GRPC_STATUS_FAILED_PRECONDITION,
		          "new_value %lld is below the current counter of prefix %s, %lld: that would "
		          "issue numbers again, so nextid does not lower a counter",
		          (long long)req->new_value, req->prefix, (long long)(d ? d->current : 0));
		return;
	}
	if (rc == STORE_INVALID && why) {
		reply_set(out, GRPC_STATUS_INVALID_ARGUMENT, "%s", why);
		return;
	}
	if (rc == STORE_INVALID &&
	    (req->method == RPC_GET_NEXT || req->method == RPC_GET_NEXT_BATCH)) {
		reply_set(out, GRPC_STATUS_INVALID_ARGUMENT,
		          "a number of prefix %s would be longer than %d bytes; shorten its format",
		          req->prefix, AUDIT_NUMBER_MAX);
		return;
	}
	if (rc == STORE_EXHAUSTED && req->method == RPC_GET_NEXT_BATCH) {
		reply_set(out, GRPC_STATUS_RESOURCE_EXHAUSTED,
		          "prefix %s has fewer than %d numbers left before its maximum; nothing was "
		          "issued, ask for fewer", req->prefix, (int)req->count);
		return;
	}
	if (rc <= STORE_OK || rc >= STORE_RC_COUNT || !table[rc].sentence) {
		reply_set(out, GRPC_STATUS_INTERNAL, "unexpected store result %d", rc);
		return;
	}
	out->code = table[rc].code;
	/* The table's sentences take the prefix once, or not at all. */
	snprintf(out->message, sizeof(out->message), table[rc].sentence, req->prefix);
}

int reply_auth(const char *token, const char *auth, size_t auth_len, struct rpc_reply *out)
{
	if (token[0] == '\0') {
		reply_set(out, GRPC_STATUS_PERMISSION_DENIED,
		          "admin methods are off: no admin_token is configured (administer with "
		          "nextidctl on the host)");
		return -1;
	}
	if (bearer_matches(token, auth, auth_len))
		return 0;
	reply_set(out, GRPC_STATUS_UNAUTHENTICATED,
	          "send the admin token as metadata \"authorization: Bearer <admin_token>\"");
	return -1;
}
