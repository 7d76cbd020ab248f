/*
 * service: the methods of SequentialIDService and grpc.health.v1.Health over the store, served
 * by a few store threads from one queue of checked calls. GetNext and GetNextBatch for one prefix
 * waiting together are taken in one transaction (store_prefix_next_group): a group commit, one
 * lock hand-off and one log flush for many calls, each call still getting consecutive numbers,
 * audited with its own client_id and correlation_id, durable before its answer. Everything else
 * is one store call each. What a call's bytes are is message.c's; what a failure answers is
 * reply.c's; moving calls in and out of the gRPC core is calls.c's.
 */
#ifndef NEXTID_SERVICE_H
#define NEXTID_SERVICE_H

#include "message.h"
#include "reply.h"

#include <stddef.h>
#include <stdint.h>

struct config;
struct keeper;

/* One call for the service: its checked request in, its answer out. The caller owns it. */
struct rpc_call {
	struct rpc_request req;
	int64_t deadline_ms;   /* clock_monotonic_ms by which the client gives up; INT64_MAX: none */
	struct rpc_reply reply; /* OUT: code OK, or the status to end the call with */
	uint8_t *response;      /* OUT: when OK, the response message (free()) */
	size_t response_len;
	struct rpc_call *next;  /* the service's queue */
};

/* Called from a store thread once c's answer is ready; c then belongs to the caller again. */
typedef void service_done_fn(void *ctx, struct rpc_call *c);

struct service;

/* Start `threads` store threads (1..64, the keeper's slots) over k. Returns 0 with *out set, or
 * -1 (logged). */
int service_open(const struct config *cfg, struct keeper *k, unsigned threads,
                 service_done_fn *done, void *ctx, struct service **out);

/* Queue a call; done(ctx, c) follows, from a store thread, once it is answered. */
void service_submit(struct service *s, struct rpc_call *c);

/* Answer every call queued, then stop the threads. NULL is allowed. */
void service_close(struct service *s);

#endif
