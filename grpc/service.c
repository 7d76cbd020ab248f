/*
 * service: the store threads and the methods. A thread takes the oldest call from the queue;
 * when it asks for numbers, every other queued GetNext and GetNextBatch of the same prefix goes
 * with it into one group take. Times are the wall clock (CLOCK_REALTIME), as the REST API's.
 */
#include "service.h"
#include "clock.h"
#include "config.h"
#include "keeper.h"
#include "log.h"
#include "sequentialid.pb-c.h"
#include "health.pb-c.h"
#include "store_prefix.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS_MAX 64
/* A group is at most this many calls, or this many numbers (a batch of 1000 alone may pass
 * it): enough to fill a log flush, small enough that a group's memory stays a few MB. */
#define GROUP_CALLS_MAX 1024
#define GROUP_NUMBERS_MAX 4096
#define IDLE_CHECK_MS 1000
#define SERVICE_NAME "sequentialid.SequentialIDService"

struct service_thread {
	struct service *s;
	unsigned slot;
	pthread_t id;
	int running;
};

struct service {
	const struct config *cfg;
	struct keeper *keeper;
	service_done_fn *done;
	void *ctx;
	int64_t started_ms;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct rpc_call *head, *tail; /* the queue, oldest first */
	int stopping;
	unsigned nthreads;
	struct service_thread threads[THREADS_MAX];
};

/* ---- answering ---- */

static void pack_or_fail(struct rpc_call *c, const ProtobufCMessage *m)
{
	c->reply.code = GRPC_STATUS_OK;
	c->reply.message[0] = '\0';
	if (message_pack(m, &c->response, &c->response_len) != 0)
		reply_set(&c->reply, GRPC_STATUS_RESOURCE_EXHAUSTED,
		          "out of memory for the answer; retry");
}

static void fail_store(struct rpc_call *c, int rc, const char *why, int64_t current)
{
	const struct reply_detail d = { .why = why, .current = current };

	reply_store(&c->req, rc, &d, &c->reply);
}

/* ---- GetNext and GetNextBatch, in groups ---- */

static int is_take(const struct rpc_call *c)
{
	return c->req.method == RPC_GET_NEXT || c->req.method == RPC_GET_NEXT_BATCH;
}

static uint64_t take_count(const struct rpc_call *c)
{
	return c->req.method == RPC_GET_NEXT_BATCH ? (uint64_t)c->req.count : 1;
}

struct group {
	const char *prefix;
	size_t len;
	int64_t now_ms;
	struct store_prefix_take *takes;
	size_t n;
};

static int take_group(struct store *st, void *arg)
{
	struct group *g = arg;

	return store_prefix_next_group(st, g->prefix, g->len, g->now_ms, g->takes, g->n);
}

static void answer_next(struct rpc_call *c, const struct store_number *n, const char *at)
{
	Sequentialid__GetNextResponse r = SEQUENTIALID__GET_NEXT_RESPONSE__INIT;
	char message_id[37];

	audit_format_id(n->message_id, message_id);
	r.full_number = message_str(n->full_number);
	r.prefix = message_text(c->req.prefix, c->req.prefix_len);
	r.counter = n->counter;
	r.generated_at = message_str(at);
	r.message_id = message_str(message_id);
	pack_or_fail(c, &r.base);
}

static void answer_batch(struct rpc_call *c, const struct store_number *n, const char *at)
{
	Sequentialid__GetNextBatchResponse r = SEQUENTIALID__GET_NEXT_BATCH_RESPONSE__INIT;
	size_t count = (size_t)c->req.count;
	char **numbers = malloc(count * sizeof(*numbers));
	unsigned char id[16];
	char batch_id[37];

	if (!numbers) {
		reply_set(&c->reply, GRPC_STATUS_RESOURCE_EXHAUSTED,
		          "out of memory for the answer; retry");
		return;
	}
	/* The batch's own id, as the REST API gives one; each number has its message_id in the
	 * audit. */
	if (audit_new_id(id) != 0)
		memset(id, 0, sizeof(id));
	audit_format_id(id, batch_id);
	for (size_t i = 0; i < count; i++)
		numbers[i] = (char *)(uintptr_t)n[i].full_number;
	r.n_full_numbers = count;
	r.full_numbers = numbers;
	r.prefix = message_text(c->req.prefix, c->req.prefix_len);
	r.start_counter = n[0].counter;
	r.end_counter = n[count - 1].counter;
	r.count = c->req.count;
	r.generated_at = message_str(at);
	r.batch_id = message_str(batch_id);
	pack_or_fail(c, &r.base);
	free(numbers);
}

/* A call whose client has given up by now: it gets nothing, so no number is spent on it. */
static int expired(struct rpc_call *c, int64_t now_mono)
{
	if (now_mono < c->deadline_ms)
		return 0;
	reply_set(&c->reply, GRPC_STATUS_DEADLINE_EXCEEDED,
	          "the deadline passed before the call was served; nothing was issued");
	return 1;
}

/* Serve calls[0..n), all takes of one prefix, in one group take. */
static void serve_takes(struct service *s, unsigned slot, struct rpc_call **calls, size_t n)
{
	struct store_prefix_take *takes = calloc(n, sizeof(*takes));
	struct store_caller *who = calloc(n, sizeof(*who));
	struct store_number **numbers = calloc(n, sizeof(*numbers));
	struct rpc_call **live = calloc(n, sizeof(*live));
	struct group g = { .prefix = calls[0]->req.prefix, .len = calls[0]->req.prefix_len,
		           .now_ms = clock_wall_ms(), .takes = takes };
	int64_t now_mono = clock_monotonic_ms();
	char at[LOG_TIME_MAX];
	int rc = STORE_UNAVAILABLE;

	if (!takes || !who || !numbers || !live)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct rpc_call *c = calls[i];

		if (expired(c, now_mono))
			continue;
		numbers[g.n] = malloc(take_count(c) * sizeof(**numbers));
		if (!numbers[g.n]) {
			reply_set(&c->reply, GRPC_STATUS_RESOURCE_EXHAUSTED,
			          "out of memory for the numbers; nothing was issued, retry");
			continue;
		}
		who[g.n] = (struct store_caller){ c->req.client_id, "", g.now_ms };
		takes[g.n] = (struct store_prefix_take){ .who = &who[g.n],
			                                 .correlation_id = c->req.correlation_id,
			                                 .count = take_count(c),
			                                 .out = numbers[g.n] };
		live[g.n++] = c;
	}
	rc = g.n ? keeper_run(s->keeper, slot, take_group, &g) : STORE_OK;
	log_format_time(g.now_ms, at, sizeof(at));
	for (size_t i = 0; i < g.n; i++) {
		struct rpc_call *c = live[i];

		if (rc != STORE_OK || takes[i].rc != STORE_OK)
			fail_store(c, rc != STORE_OK ? rc : takes[i].rc, NULL, 0);
		else if (c->req.method == RPC_GET_NEXT)
			answer_next(c, numbers[i], at);
		else
			answer_batch(c, numbers[i], at);
	}
out:
	if (!takes || !who || !numbers || !live)
		for (size_t i = 0; i < n; i++)
			reply_set(&calls[i]->reply, GRPC_STATUS_RESOURCE_EXHAUSTED,
			          "out of memory; nothing was issued, retry");
	for (size_t i = 0; numbers && i < g.n; i++)
		free(numbers[i]);
	free(live);
	free(numbers);
	free(who);
	free(takes);
	for (size_t i = 0; i < n; i++)
		s->done(s->ctx, calls[i]);
}

/* ---- the other methods, one store call each ---- */

/* A prefix's settings as ConfigInfo; text points into rec and name. */
static void config_info(Sequentialid__ConfigInfo *ci, const char *name, size_t len,
                        const struct seq_record *rec)
{
	sequentialid__config_info__init(ci);
	ci->prefix = message_text(name, len);
	ci->format = message_str(rec->format);
	ci->padding = rec->padding;
	ci->initial_value = rec->min;
	ci->max_value = rec->max;
	ci->is_active = !(rec->flags & RECORD_FLAG_EXHAUSTED);
	ci->description = message_str(template_rule_name(rec->reset_rule));
}

struct status_op {
	const struct rpc_call *c;
	struct store_prefix_status st;
};

static int status_fn(struct store *st, void *arg)
{
	struct status_op *op = arg;

	return store_prefix_status(st, op->c->req.prefix, op->c->req.prefix_len, clock_wall_ms(),
	                           &op->st);
}

static void get_status(struct service *s, unsigned slot, struct rpc_call *c)
{
	Sequentialid__GetStatusResponse r = SEQUENTIALID__GET_STATUS_RESPONSE__INIT;
	Sequentialid__ConfigInfo ci;
	struct status_op op = { .c = c };
	char last[LOG_TIME_MAX] = "";
	int rc = keeper_run(s->keeper, slot, status_fn, &op);

	if (rc != STORE_OK) {
		fail_store(c, rc, NULL, 0);
		return;
	}
	if (op.st.audited > 0)
		log_format_time(op.st.last_audit_ms, last, sizeof(last));
	config_info(&ci, c->req.prefix, c->req.prefix_len, &op.st.rec);
	r.prefix = message_text(c->req.prefix, c->req.prefix_len);
	r.current_counter = op.st.current;
	r.is_active = op.st.next > 0; /* not exhausted: it can issue */
	r.last_generated = message_str(last);
	r.total_generated = (int64_t)op.st.audited;
	r.config = &ci;
	pack_or_fail(c, &r.base);
}

struct get_op {
	const struct rpc_call *c;
	struct seq_record rec;
};

static int get_fn(struct store *st, void *arg)
{
	struct get_op *op = arg;

	return store_get(st, op->c->req.prefix, op->c->req.prefix_len, &op->rec);
}

/* GetConfig answers found = false for a prefix that is not configured, with OK: the reply has
 * that field for it, and the Sequential ID Counter's clients read it so. */
static void get_config(struct service *s, unsigned slot, struct rpc_call *c)
{
	Sequentialid__GetConfigResponse r = SEQUENTIALID__GET_CONFIG_RESPONSE__INIT;
	Sequentialid__ConfigInfo ci;
	struct get_op op = { .c = c };
	int rc = keeper_run(s->keeper, slot, get_fn, &op);

	if (rc == STORE_OK && record_is_prefix(&op.rec)) {
		config_info(&ci, c->req.prefix, c->req.prefix_len, &op.rec);
		r.config = &ci;
		r.found = 1;
	} else if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
		fail_store(c, rc, NULL, 0);
		return;
	}
	pack_or_fail(c, &r.base);
}

struct configure_op {
	const struct rpc_call *c;
	struct store_prefix_config cfg;
	struct seq_record rec;
	int created;
	const char *why;
};

static int configure_fn(struct store *st, void *arg)
{
	struct configure_op *op = arg;

	return store_prefix_configure(st, op->c->req.prefix, op->c->req.prefix_len, &op->cfg,
	                              &op->rec, &op->created, &op->why);
}

static void update_config(struct service *s, unsigned slot, struct rpc_call *c)
{
	Sequentialid__UpdateConfigResponse r = SEQUENTIALID__UPDATE_CONFIG_RESPONSE__INIT;
	Sequentialid__ConfigInfo ci;
	struct configure_op op = { .c = c };
	int rc;

	op.cfg.now_ms = clock_wall_ms();
	op.cfg.admin_user = c->req.client_id;
	op.cfg.correlation_id = c->req.correlation_id;
	if (c->req.format[0]) {
		op.cfg.format = c->req.format;
		op.cfg.fields |= PREFIX_SET_FORMAT;
	}
	if (c->req.padding > 0) {
		op.cfg.padding = (unsigned)c->req.padding;
		op.cfg.fields |= PREFIX_SET_PADDING;
	}
	if (c->req.reset_rule >= 0) {
		op.cfg.reset_rule = c->req.reset_rule;
		op.cfg.fields |= PREFIX_SET_RULE;
	}
	rc = keeper_run(s->keeper, slot, configure_fn, &op);
	if (rc != STORE_OK) {
		fail_store(c, rc, op.why, 0);
		return;
	}
	config_info(&ci, c->req.prefix, c->req.prefix_len, &op.rec);
	r.success = 1;
	r.message = message_str(op.created ? "configuration created successfully"
	                                   : "configuration updated successfully");
	r.config = &ci;
	pack_or_fail(c, &r.base);
}

struct reset_op {
	const struct rpc_call *c;
	struct store_reset r;
	const char *why;
};

static int reset_fn(struct store *st, void *arg)
{
	struct reset_op *op = arg;

	return store_prefix_reset(st, op->c->req.prefix, op->c->req.prefix_len, &op->r, &op->why);
}

/* The next number becomes new_value + 1. A reset that would lower the counter is refused
 * (FAILED_PRECONDITION): the request has no "force", so over gRPC nextid never issues a number
 * twice; nextidctl or the REST API with force can. */
static void reset_counter(struct service *s, unsigned slot, struct rpc_call *c)
{
	Sequentialid__ResetCounterResponse r = SEQUENTIALID__RESET_COUNTER_RESPONSE__INIT;
	struct reset_op op = { .c = c };
	char message[96];
	int rc;

	op.r.set_to = c->req.new_value;
	op.r.reason = c->req.reason;
	op.r.admin_user = c->req.client_id;
	op.r.correlation_id = c->req.correlation_id;
	op.r.now_ms = clock_wall_ms();
	rc = keeper_run(s->keeper, slot, reset_fn, &op);
	if (rc != STORE_OK) {
		fail_store(c, rc, op.why, op.r.old_value);
		return;
	}
	snprintf(message, sizeof(message), "Counter reset from %" PRId64 " to %" PRId64,
	         op.r.old_value, op.r.new_value);
	r.success = 1;
	r.message = message_str(message);
	r.old_value = op.r.old_value;
	r.new_value = op.r.new_value;
	pack_or_fail(c, &r.base);
}

static int ping_fn(struct store *st, void *arg)
{
	(void)arg;
	return store_ping(st);
}

/* The service's own Health: the store's health check, with what it found in the details. */
static void health(struct service *s, unsigned slot, struct rpc_call *c)
{
	Sequentialid__HealthResponse r = SEQUENTIALID__HEALTH_RESPONSE__INIT;
	Sequentialid__HealthResponse__DetailsEntry e[3], *details[3];
	char uptime[24];
	int rc = keeper_run(s->keeper, slot, ping_fn, NULL);

	snprintf(uptime, sizeof(uptime), "%" PRId64,
	         (clock_monotonic_ms() - s->started_ms) / 1000);
	for (int i = 0; i < 3; i++) {
		sequentialid__health_response__details_entry__init(&e[i]);
		details[i] = &e[i];
	}
	e[0].key = "store";
	e[0].value = rc == STORE_OK ? "healthy" : (char *)(uintptr_t)store_rc_name(rc);
	e[1].key = "durability";
	e[1].value = (char *)(uintptr_t)config_durability_name(s->cfg->durability);
	e[2].key = "uptime_seconds";
	e[2].value = uptime;
	r.status = rc == STORE_OK ? SEQUENTIALID__HEALTH_RESPONSE__STATUS__SERVING
	                          : SEQUENTIALID__HEALTH_RESPONSE__STATUS__NOT_SERVING;
	r.message = message_str(rc == STORE_OK ? "Service is healthy"
	                                       : "Service is unhealthy: the store does not answer");
	r.n_details = 3;
	r.details = details;
	pack_or_fail(c, &r.base);
}

/* grpc.health.v1.Health/Check: the server as a whole ("") or our one service; any other name is
 * NOT_FOUND, as the health checking protocol says. */
static void health_check(struct service *s, unsigned slot, struct rpc_call *c)
{
	Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;

	if (c->req.service[0] && strcmp(c->req.service, SERVICE_NAME) != 0) {
		reply_set(&c->reply, GRPC_STATUS_NOT_FOUND, "unknown service '%s'; this server has '' "
		          "and '" SERVICE_NAME "'", c->req.service);
		return;
	}
	r.status = keeper_run(s->keeper, slot, ping_fn, NULL) == STORE_OK
	                   ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
	                   : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
	pack_or_fail(c, &r.base);
}

static void serve_one(struct service *s, unsigned slot, struct rpc_call *c)
{
	if (!expired(c, clock_monotonic_ms())) {
		switch (c->req.method) {
		case RPC_GET_STATUS: get_status(s, slot, c); break;
		case RPC_GET_CONFIG: get_config(s, slot, c); break;
		case RPC_UPDATE_CONFIG: update_config(s, slot, c); break;
		case RPC_RESET_COUNTER: reset_counter(s, slot, c); break;
		case RPC_HEALTH: health(s, slot, c); break;
		case RPC_HEALTH_CHECK: health_check(s, slot, c); break;
		default:
			reply_set(&c->reply, GRPC_STATUS_UNIMPLEMENTED, "unknown method");
		}
	}
	s->done(s->ctx, c);
}

/* ---- the queue and the threads ---- */

static int same_prefix(const struct rpc_call *a, const struct rpc_call *b)
{
	return a->req.prefix_len == b->req.prefix_len &&
	       memcmp(a->req.prefix, b->req.prefix, a->req.prefix_len) == 0;
}

/*
 * Take the oldest call, and when it asks for numbers, the queued takes of its prefix after it
 * (in their order), within the group's bounds. Called with the lock held; returns the count.
 */
static size_t dequeue(struct service *s, struct rpc_call **out)
{
	struct rpc_call *first = s->head, **link = &first->next;
	uint64_t numbers = take_count(first);
	size_t n = 1;

	s->head = first->next;
	out[0] = first;
	if (is_take(first)) {
		link = &s->head;
		while (*link && n < GROUP_CALLS_MAX) {
			struct rpc_call *c = *link;

			if (is_take(c) && same_prefix(c, first) &&
			    numbers + take_count(c) <= GROUP_NUMBERS_MAX) {
				*link = c->next;
				numbers += take_count(c);
				out[n++] = c;
			} else {
				link = &c->next;
			}
		}
	}
	/* the tail is the last call left, found again (the queue is short next to a store call) */
	s->tail = s->head;
	while (s->tail && s->tail->next)
		s->tail = s->tail->next;
	return n;
}

static void *serve_loop(void *arg)
{
	struct service_thread *t = arg;
	struct service *s = t->s;
	struct rpc_call **calls = malloc(GROUP_CALLS_MAX * sizeof(*calls));

	if (!calls) {
		LOG_ERROR("out of memory for a store thread");
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	for (;;) {
		size_t n;

		while (!s->head && !s->stopping) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += IDLE_CHECK_MS / 1000;
			if (pthread_cond_timedwait(&s->wake, &s->lock, &until) != 0 && !s->head) {
				pthread_mutex_unlock(&s->lock);
				keeper_check(s->keeper, t->slot);
				pthread_mutex_lock(&s->lock);
			}
		}
		if (!s->head)
			break; /* stopping, and nothing left to answer */
		n = dequeue(s, calls);
		pthread_mutex_unlock(&s->lock);
		if (is_take(calls[0]))
			serve_takes(s, t->slot, calls, n);
		else
			serve_one(s, t->slot, calls[0]);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	free(calls);
	return NULL;
}

void service_submit(struct service *s, struct rpc_call *c)
{
	c->next = NULL;
	c->response = NULL;
	c->response_len = 0;
	pthread_mutex_lock(&s->lock);
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

int service_open(const struct config *cfg, struct keeper *k, unsigned threads,
                 service_done_fn *done, void *ctx, struct service **out)
{
	struct service *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s || threads == 0 || threads > THREADS_MAX) {
		free(s);
		LOG_ERROR("out of memory");
		return -1;
	}
	s->cfg = cfg;
	s->keeper = k;
	s->done = done;
	s->ctx = ctx;
	s->started_ms = clock_monotonic_ms();
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	for (unsigned i = 0; i < threads; i++) {
		struct service_thread *t = &s->threads[i];

		t->s = s;
		t->slot = i;
		if (pthread_create(&t->id, NULL, serve_loop, t) != 0) {
			LOG_ERROR("cannot start store thread %u", i);
			break;
		}
		t->running = 1;
		s->nthreads = i + 1;
	}
	if (s->nthreads == 0) {
		service_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void service_close(struct service *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->nthreads; i++)
		if (s->threads[i].running)
			pthread_join(s->threads[i].id, NULL);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
