/*
 * calls: the server over the gRPC core's completion queue. Every event's tag is a struct call:
 * first the request for a new call of one method (or of any unknown one), then, once answered,
 * the batch that sends the answer. Keeping CALL_SLOTS requests outstanding per method lets calls
 * arrive while others are served; each one that arrives is replaced at once.
 *
 * Limits, so that no client can make the server grow without bound: a request message of at
 * most MESSAGE_REQUEST_MAX bytes (the core refuses a larger one with RESOURCE_EXHAUSTED), 100
 * streams per connection, 16 KiB of metadata, a memory quota for the core's buffers, and at
 * most CALLS_MAX calls in progress (more answer UNAVAILABLE at once, before any work).
 */
#include "calls.h"
#include "clock.h"
#include "config.h"
#include "keeper.h"
#include "log.h"
#include "message.h"
#include "reply.h"
#include "service.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALL_SLOTS 32         /* outstanding requests for new calls, per method */
#define UNKNOWN_SLOTS 4
#define CALLS_MAX 4096        /* calls in progress; more answer UNAVAILABLE */
#define STREAMS_MAX 100       /* concurrent streams on one connection */
#define METADATA_MAX (16 * 1024)
#define MEMORY_QUOTA (256 * 1024 * 1024)
#define TICK_MS 200           /* how often the loop looks at the stop flag */

enum phase {
	PHASE_REQUESTED, /* waiting for a new call of its method */
	PHASE_ANSWERING, /* its answer is being sent: the next event frees it */
};

struct call {
	struct calls *owner;
	int phase;
	int method;         /* enum rpc_method, or -1 for the unknown methods' requests */
	grpc_call *call;
	gpr_timespec deadline;
	grpc_call_details details; /* unknown methods: which one */
	grpc_metadata_array md;
	grpc_byte_buffer *payload; /* the request message; NULL when the client sent none */
	grpc_byte_buffer *send;
	grpc_slice status_details;
	int cancelled;
	struct rpc_call rpc;
};

struct calls {
	grpc_server *server;
	grpc_completion_queue *cq;
	void *methods[RPC_METHOD_COUNT];
	struct service *service;
	const char *admin_token;
	unsigned shutdown_timeout_s;
	_Atomic int stop;
	atomic_int in_progress;
	int shutdown_tag; /* its address is the server shutdown's tag */
};

/* ---- the gRPC core's own log lines, into ours ---- */

static void log_from_grpc(gpr_log_func_args *a)
{
	int level = a->severity == GPR_LOG_SEVERITY_ERROR ? LOG_ERROR
	            : a->severity == GPR_LOG_SEVERITY_INFO ? LOG_INFO
	                                                   : LOG_DEBUG;

	log_msg(level, a->file, a->line, "grpc: %s", a->message);
}

/* ---- a call's life ---- */

static void call_free(struct call *c)
{
	if (c->call) {
		grpc_call_unref(c->call);
		atomic_fetch_sub(&c->owner->in_progress, 1);
	}
	grpc_metadata_array_destroy(&c->md);
	grpc_call_details_destroy(&c->details);
	if (c->payload)
		grpc_byte_buffer_destroy(c->payload);
	if (c->send)
		grpc_byte_buffer_destroy(c->send);
	grpc_slice_unref(c->status_details);
	free(c->rpc.response);
	free(c);
}

/* Ask the core for the next call of `method` (-1: of any method not registered). */
static int request_call(struct calls *cs, int method)
{
	struct call *c = calloc(1, sizeof(*c));
	grpc_call_error err;

	if (!c) {
		LOG_ERROR("out of memory for a call");
		return -1;
	}
	c->owner = cs;
	c->method = method;
	c->phase = PHASE_REQUESTED;
	c->status_details = grpc_empty_slice();
	grpc_metadata_array_init(&c->md);
	grpc_call_details_init(&c->details);
	if (method >= 0)
		err = grpc_server_request_registered_call(cs->server, cs->methods[method], &c->call,
		                                          &c->deadline, &c->md, &c->payload, cs->cq,
		                                          cs->cq, c);
	else
		err = grpc_server_request_call(cs->server, &c->call, &c->details, &c->md, cs->cq,
		                               cs->cq, c);
	if (err != GRPC_CALL_OK) {
		LOG_ERROR("cannot ask for a new call: %s", grpc_call_error_to_string(err));
		c->call = NULL;
		call_free(c);
		return -1;
	}
	return 0;
}

/*
 * Send the answer in c->rpc (a message when OK, then the status) in one batch; its completion
 * frees the call. From any thread: the core takes batches of different calls concurrently.
 */
static void answer(struct call *c)
{
	grpc_op ops[4];
	size_t n = 0;
	grpc_call_error err;

	memset(ops, 0, sizeof(ops));
	ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (c->rpc.reply.code == GRPC_STATUS_OK) {
		grpc_slice body = grpc_slice_new(c->rpc.response, c->rpc.response_len, free);

		c->rpc.response = NULL; /* the slice owns it now */
		c->send = grpc_raw_byte_buffer_create(&body, 1);
		grpc_slice_unref(body);
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n++].data.send_message.send_message = c->send;
	}
	c->status_details = grpc_slice_from_copied_string(c->rpc.reply.message);
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.status = c->rpc.reply.code;
	ops[n++].data.send_status_from_server.status_details = &c->status_details;
	ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
	c->phase = PHASE_ANSWERING; /* before the batch: its completion may come at once */
	err = grpc_call_start_batch(c->call, ops, n, c, NULL);
	if (err != GRPC_CALL_OK) {
		LOG_ERROR("cannot answer a call: %s", grpc_call_error_to_string(err));
		call_free(c);
	}
}

static void answered_by_service(void *ctx, struct rpc_call *rc)
{
	(void)ctx;
	answer((struct call *)((char *)rc - offsetof(struct call, rpc)));
}

/* The request message, whole and decompressed, decoded and checked into c->rpc.req. Returns 0,
 * or -1 with c->rpc.reply set. */
static int read_request(struct call *c)
{
	grpc_byte_buffer_reader reader;
	grpc_slice all;
	char why[MESSAGE_WHY_MAX];
	int rc;

	if (!c->payload) {
		reply_set(&c->rpc.reply, GRPC_STATUS_INVALID_ARGUMENT,
		          "the call carries no request message");
		return -1;
	}
	if (!grpc_byte_buffer_reader_init(&reader, c->payload)) {
		reply_set(&c->rpc.reply, GRPC_STATUS_INVALID_ARGUMENT,
		          "the request message cannot be decompressed");
		return -1;
	}
	all = grpc_byte_buffer_reader_readall(&reader);
	grpc_byte_buffer_reader_destroy(&reader);
	rc = message_decode(c->method, GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all),
	                    &c->rpc.req, why);
	grpc_slice_unref(all);
	if (rc != 0)
		reply_set(&c->rpc.reply, GRPC_STATUS_INVALID_ARGUMENT, "%s", why);
	return rc;
}

/* May this call change admin state? Returns 0, or -1 with c->rpc.reply set. */
static int check_admin(struct calls *cs, struct call *c)
{
	for (size_t i = 0; i < c->md.count; i++) {
		const grpc_metadata *m = &c->md.metadata[i];

		if (grpc_slice_str_cmp(m->key, "authorization") == 0)
			return reply_auth(cs->admin_token, (const char *)GRPC_SLICE_START_PTR(m->value),
			                  GRPC_SLICE_LENGTH(m->value), &c->rpc.reply);
	}
	return reply_auth(cs->admin_token, NULL, 0, &c->rpc.reply);
}

/* The call's deadline on our monotonic clock: the client's time left, from now. */
static int64_t deadline_ms(gpr_timespec deadline)
{
	gpr_timespec at = gpr_convert_clock_type(deadline, GPR_CLOCK_MONOTONIC);
	gpr_timespec left;

	if (at.tv_sec == INT64_MAX)
		return INT64_MAX;
	left = gpr_time_sub(at, gpr_now(GPR_CLOCK_MONOTONIC));
	return clock_monotonic_ms() + left.tv_sec * 1000 + left.tv_nsec / 1000000;
}

/* A new call arrived: answer it at once when it is refused, else hand it to the service. */
static void on_new_call(struct calls *cs, struct call *c)
{
	int n = atomic_fetch_add(&cs->in_progress, 1) + 1;

	c->rpc.reply.code = GRPC_STATUS_OK;
	if (c->method < 0) {
		reply_set(&c->rpc.reply, GRPC_STATUS_UNIMPLEMENTED, "unknown method %.*s",
		          (int)(GRPC_SLICE_LENGTH(c->details.method) > 200
		                        ? 200
		                        : GRPC_SLICE_LENGTH(c->details.method)),
		          (const char *)GRPC_SLICE_START_PTR(c->details.method));
	} else if (n > CALLS_MAX) {
		reply_set(&c->rpc.reply, GRPC_STATUS_UNAVAILABLE,
		          "too many calls in progress (%d); retry in a moment", CALLS_MAX);
	} else if (read_request(c) == 0 &&
	           (!message_is_admin(c->method) || check_admin(cs, c) == 0)) {
		c->rpc.deadline_ms = deadline_ms(c->deadline);
		service_submit(cs->service, &c->rpc);
		return;
	}
	answer(c);
}

static void on_event(struct calls *cs, grpc_event ev)
{
	struct call *c = ev.tag;

	if (ev.tag == &cs->shutdown_tag)
		return; /* every call is done: calls_run shuts the queue */
	if (c->phase == PHASE_ANSWERING) {
		call_free(c);
		return;
	}
	if (!ev.success) { /* the server is shutting down: no call came */
		c->call = NULL;
		call_free(c);
		return;
	}
	if (!atomic_load(&cs->stop))
		(void)request_call(cs, c->method); /* keep the slot filled */
	on_new_call(cs, c);
}

/* ---- the server ---- */

static grpc_server_credentials *credentials(const struct calls_options *opt)
{
	grpc_ssl_pem_key_cert_pair pair;

	if (!opt->tls_cert)
		return grpc_insecure_server_credentials_create();
	pair.private_key = opt->tls_key;
	pair.cert_chain = opt->tls_cert;
	return grpc_ssl_server_credentials_create_ex(NULL, &pair, 1,
	                                             GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
	                                             NULL);
}

static grpc_server *server_new(void)
{
	grpc_resource_quota *quota = grpc_resource_quota_create("nextid-grpc");
	grpc_arg args[] = {
		{ .type = GRPC_ARG_INTEGER, .key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
		  .value.integer = MESSAGE_REQUEST_MAX },
		{ .type = GRPC_ARG_INTEGER, .key = (char *)GRPC_ARG_MAX_CONCURRENT_STREAMS,
		  .value.integer = STREAMS_MAX },
		{ .type = GRPC_ARG_INTEGER, .key = (char *)GRPC_ARG_MAX_METADATA_SIZE,
		  .value.integer = METADATA_MAX },
		{ .type = GRPC_ARG_POINTER, .key = (char *)GRPC_ARG_RESOURCE_QUOTA,
		  .value.pointer = { quota, grpc_resource_quota_arg_vtable() } },
	};
	grpc_channel_args channel_args = { sizeof(args) / sizeof(args[0]), args };
	grpc_server *server;

	grpc_resource_quota_resize(quota, MEMORY_QUOTA);
	server = grpc_server_create(&channel_args, NULL);
	grpc_resource_quota_unref(quota); /* the server holds its own reference */
	return server;
}

/* "host:port", with an IPv6 address in brackets. */
static void address(const char *host, unsigned port, char *buf, size_t len)
{
	if (strchr(host, ':') && host[0] != '[')
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
}

int calls_open(const struct calls_options *opt, const struct config *cfg, struct keeper *k,
               struct calls **out)
{
	struct calls *cs = calloc(1, sizeof(*cs));
	grpc_server_credentials *creds;
	char addr[300];
	int port;

	*out = NULL;
	if (!cs) {
		LOG_ERROR("out of memory");
		return -1;
	}
	gpr_set_log_function(log_from_grpc);
	grpc_init();
	cs->admin_token = opt->admin_token;
	cs->shutdown_timeout_s = opt->shutdown_timeout_s;
	cs->cq = grpc_completion_queue_create_for_next(NULL);
	cs->server = server_new();
	grpc_server_register_completion_queue(cs->server, cs->cq, NULL);
	for (int m = 0; m < RPC_METHOD_COUNT; m++)
		cs->methods[m] = grpc_server_register_method(cs->server, message_path(m), NULL,
		                                             GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER,
		                                             0);
	address(opt->host, opt->port, addr, sizeof(addr));
	creds = credentials(opt);
	port = creds ? grpc_server_add_http2_port(cs->server, addr, creds) : 0;
	if (creds)
		grpc_server_credentials_release(creds);
	if (port == 0) {
		LOG_ERROR("cannot listen on %s%s", addr,
		          opt->tls_cert ? " with that TLS certificate and key" : "");
		goto fail;
	}
	if (service_open(cfg, k, opt->store_threads, answered_by_service, cs, &cs->service) != 0)
		goto fail;
	grpc_server_start(cs->server);
	for (int m = -1; m < RPC_METHOD_COUNT; m++)
		for (int i = 0; i < (m < 0 ? UNKNOWN_SLOTS : CALL_SLOTS); i++)
			if (request_call(cs, m) != 0)
				goto fail;
	address(opt->host, (unsigned)port, addr, sizeof(addr));
	LOG_INFO("listening on %s (%s)", addr, opt->tls_cert ? "TLS" : "plaintext HTTP/2");
	*out = cs;
	return 0;
fail:
	/* A server that was created is shut down and drained before it is destroyed, started or
	 * not; nothing was handed to the service yet. */
	calls_stop(cs);
	calls_run(cs);
	calls_close(cs);
	return -1;
}

int calls_run(struct calls *cs)
{
	int64_t stop_ms = 0;
	int cancelled = 0;

	for (;;) {
		gpr_timespec tick = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
		                                 gpr_time_from_millis(TICK_MS, GPR_TIMESPAN));
		grpc_event ev = grpc_completion_queue_next(cs->cq, tick, NULL);
		int64_t now = clock_monotonic_ms();

		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type == GRPC_OP_COMPLETE && ev.tag == &cs->shutdown_tag)
			grpc_completion_queue_shutdown(cs->cq); /* no call left: drain, then end */
		else if (ev.type == GRPC_OP_COMPLETE)
			on_event(cs, ev);
		if (atomic_load(&cs->stop) && stop_ms == 0) {
			stop_ms = now;
			grpc_server_shutdown_and_notify(cs->server, cs->cq, &cs->shutdown_tag);
		}
		/* The core's graceful shutdown waits for its clients to close their connections (5 s
		 * for an idle Python channel, measured); once no call is left there is nothing to
		 * wait for, and cancelling closes the connections at once. */
		if (stop_ms && !cancelled && atomic_load(&cs->in_progress) == 0) {
			grpc_server_cancel_all_calls(cs->server);
			cancelled = 1;
		}
		if (stop_ms && !cancelled && now - stop_ms > (int64_t)cs->shutdown_timeout_s * 1000) {
			LOG_WARN("calls still in progress %u s after the stop: cancelling them",
			         cs->shutdown_timeout_s);
			grpc_server_cancel_all_calls(cs->server);
			cancelled = 1;
		}
	}
	return 0;
}

void calls_stop(struct calls *cs)
{
	atomic_store(&cs->stop, 1);
}

void calls_close(struct calls *cs)
{
	if (!cs)
		return;
	service_close(cs->service); /* idle by now: every call was answered */
	if (cs->server)
		grpc_server_destroy(cs->server);
	if (cs->cq)
		grpc_completion_queue_destroy(cs->cq);
	grpc_shutdown();
	free(cs);
}
