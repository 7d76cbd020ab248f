/*
 * reply: how a call of nextid-grpc ends when it does not succeed: the one place where a store
 * result, an admin token check or the server's own state becomes a gRPC status code and its
 * message. The codes follow API.md section 10: NOT_FOUND for a prefix that is not configured,
 * INVALID_ARGUMENT for bad input, UNAUTHENTICATED and PERMISSION_DENIED for the admin methods,
 * FAILED_PRECONDITION for a reset that would lower a counter, RESOURCE_EXHAUSTED at a counter's
 * maximum, UNAVAILABLE when the store is; INTERNAL is kept for what no client can cause. Each
 * message is a sentence a person can act on, without the store's internals (those are logged).
 * Pure; unit tested in tests/unit/test_grpc_message.c.
 */
#ifndef NEXTID_REPLY_H
#define NEXTID_REPLY_H

#include "message.h"

#include <grpc/status.h>
#include <stddef.h>
#include <stdint.h>

#define REPLY_MESSAGE_MAX 512

struct rpc_reply {
	grpc_status_code code;
	char message[REPLY_MESSAGE_MAX];
};

/* What the store said besides its result: its sentence for a refused change (may be NULL), and
 * for a refused reset the counter it would have lowered. */
struct reply_detail {
	const char *why;
	int64_t current;
};

/* The status for store result rc (not STORE_OK) of a call of req->method about req->prefix. */
void reply_store(const struct rpc_request *req, int rc, const struct reply_detail *d,
                 struct rpc_reply *out);

/*
 * May this call change admin state? token is the config's admin_token ("" = none configured),
 * auth the value of the call's "authorization" metadata (auth_len bytes; NULL when absent).
 * Returns 0 when it may; otherwise -1 with *out set: PERMISSION_DENIED when no token is
 * configured, UNAUTHENTICATED when the call does not carry "Bearer <admin_token>". The token is
 * compared in time that does not depend on where it differs.
 */
int reply_auth(const char *token, const char *auth, size_t auth_len, struct rpc_reply *out);

/* A status of the caller's choice with a message (printf-style). */
void reply_set(struct rpc_reply *out, grpc_status_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
