/*
 * store_forward: a replica's writes, carried out by the master. Only the master may write, so a
 * store operation that takes or changes values on a replica is sent over a Replication Manager
 * channel to the master's replication process (its housekeeper), which runs the same store
 * function there, commits it with the group's acknowledgements, and sends back the result; the
 * replica's caller then answers exactly as the master's would. Every front door (HTTP, the
 * sequencer, nextid-grpc, nextidctl) goes through the store, so all of them forward.
 *
 * The messages are ours, versioned and bounded, and each end checks what it receives as hostile:
 * a request or a response that does not parse is refused, never half used. A forward that gets
 * no answer in time answers STORE_NO_MASTER: the master may have committed it, but what it took
 * is never handed out (a gap, never a duplicate).
 *
 * The message format and its cursor are in store_forward_int.h; the bulk operations (import,
 * advance, delete-all) in store_forward_bulk.c.
 */
#include "store_forward_int.h"
#include "clock.h"
#include "store_prefix.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- when to forward ---- */

/* How long a cached role stays good: the role changes only through an election. */
#define ROLE_CACHE_MS 50

enum fwd_route { FWD_LOCAL = STORE_ROUTE_LOCAL, FWD_MASTER = STORE_ROUTE_MASTER,
	         FWD_NONE = STORE_ROUTE_NONE };

/*
 * Where an operation that writes must run: here (not replicated, or this node is the master,
 * or this process serves forwarded requests), at the master, or nowhere (no master known).
 */
static enum fwd_route route(struct store *st, int any_process)
{
	struct store *b = st->owner ? st->owner : st;
	int64_t now = clock_monotonic_ms();
	int role;

	if (!store_replicated(&b->opt) || (!any_process && b->opt.repl.mode != STORE_REPL_JOIN))
		return FWD_LOCAL;
	if (now - atomic_load(&b->role_checked_ms) >= ROLE_CACHE_MS) {
		struct store_repl_status s;

		role = store_repl_status(b, &s) == STORE_OK ? (int)s.role : STORE_ROLE_ELECTING;
		atomic_store(&b->role_cached, role);
		atomic_store(&b->role_checked_ms, now);
	} else {
		role = atomic_load(&b->role_cached);
	}
	return role == STORE_ROLE_MASTER ? FWD_LOCAL
	       : role == STORE_ROLE_REPLICA ? FWD_MASTER
	                                    : FWD_NONE;
}

int store_forward_route(struct store *st)
{
	return (int)route(st, 0);
}

int store_forward_route_own(struct store *st)
{
	return (int)route(st, 1);
}

/* ---- the replica's end ---- */

/* How long a forward waits for the master's answer: its commit may wait the ack timeout, and the
 * master may first need a moment for a lock. Never so long that the caller's own limit
 * (call_limit_ms, its request_timeout_s) would end the process first: it gives up
 * FWD_CALL_MARGIN_MS before, and answers "No master" itself (measured: with request_timeout_s = 2
 * and a 1 s ack timeout, every forward that got no answer ran into the pool's watchdog, whose
 * kill inside Berkeley DB cost the node a full recovery). */
#define FWD_CALL_MARGIN_MS 500u
/* What the master leaves of a forward's time for its answer to reach the replica. */
#define FWD_ANSWER_MARGIN_MS 250

static db_timeout_t forward_timeout_us(const struct store *st)
{
	unsigned ms = st->opt.repl.ack_timeout_ms + 1000u, limit = st->opt.repl.call_limit_ms;

	if (limit && ms + FWD_CALL_MARGIN_MS > limit)
		ms = limit > 2 * FWD_CALL_MARGIN_MS ? limit - FWD_CALL_MARGIN_MS : limit / 2;
	return (db_timeout_t)ms * 1000u;
}

/* How long the master gives a forward it serves (store_call_deadline). */
static int64_t serve_budget_ms(const struct store *st)
{
	int64_t budget = (int64_t)(forward_timeout_us(st) / 1000u) - FWD_ANSWER_MARGIN_MS;
	/* commit_would_overrun's need, and a moment for what comes before the commit */
	int64_t one_commit = (int64_t)st->opt.repl.ack_timeout_ms +
	                     (int64_t)st->opt.lock_timeout_ms + FWD_ANSWER_MARGIN_MS;

	return budget > one_commit ? budget : one_commit;
}

/*
 * The process's channel to the master. Berkeley DB opens a subordinate's channel with a
 * connection of its own, and waits for the master's handshake without any timeout (measured: a
 * stopped master held a request thread there past request_timeout_s, whose kill then cost the
 * node a full recovery). So a channel is opened once per master by a thread of its own, which may
 * wait as long as it likes; requests wait for it at most their timeout, and use it concurrently
 * once it is there (send_request has a timeout). A channel to a former master is closed by its
 * last user.
 */
struct fwd_channel {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	DB_ENV *env;
	DB_CHANNEL *chan; /* NULL until opened */
	int eid;          /* the master it was opened for */
	unsigned users;   /* requests using chan now */
	int opening;      /* the master an opener thread works for (-1: none); one stuck on a
	                     stopped master does not keep the next master's from starting */
	DB_CHANNEL *old;  /* a former master's channel, closed when its users are gone */
	unsigned old_users;
};

static struct fwd_channel fwd = { .lock = PTHREAD_MUTEX_INITIALIZER,
	                          .ready = PTHREAD_COND_INITIALIZER, .eid = -1, .opening = -1 };

static void *open_channel(void *arg)
{
	DB_CHANNEL *chan = NULL;
	int eid = (int)(intptr_t)arg;
	int err = fwd.env->repmgr_channel(fwd.env, DB_EID_MASTER, &chan, 0);

	pthread_mutex_lock(&fwd.lock);
	if (fwd.opening == eid)
		fwd.opening = -1;
	if (err == 0 && fwd.eid == eid && !fwd.chan)
		fwd.chan = chan;
	else if (err == 0)
		chan->close(chan, 0); /* the master changed meanwhile */
	pthread_cond_broadcast(&fwd.ready);
	pthread_mutex_unlock(&fwd.lock);
	return NULL;
}

/* The master's eid as this node knows it, or -1. */
static int master_eid(struct store *st)
{
	return store_repl_master_eid(st);
}

/* A channel to the master, waited for until deadline (CLOCK_REALTIME); *is_old says which
 * reference to give back (release_channel). NULL when none came in time. Called locked. */
static DB_CHANNEL *acquire_channel(struct store *st, int eid, const struct timespec *deadline)
{
	pthread_t t;
	pthread_attr_t attr;

	if (fwd.eid != eid) { /* a new master: the old channel goes once its users are done */
		if (fwd.chan && !fwd.old && fwd.users) {
			fwd.old = fwd.chan;
			fwd.old_users = fwd.users;
		} else if (fwd.chan && !fwd.users) {
			fwd.chan->close(fwd.chan, 0);
		} /* else: two changes in a row with users on both; the older handle is left open */
		fwd.chan = NULL;
		fwd.users = 0;
		fwd.eid = eid;
	}
	fwd.env = st->env;
	if (!fwd.chan && fwd.opening != eid) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, open_channel, (void *)(intptr_t)eid) == 0)
			fwd.opening = eid;
		pthread_attr_destroy(&attr);
	}
	while (!fwd.chan && fwd.opening == eid && fwd.eid == eid &&
	       pthread_cond_timedwait(&fwd.ready, &fwd.lock, deadline) == 0)
		;
	if (!fwd.chan || fwd.eid != eid)
		return NULL;
	fwd.users++;
	return fwd.chan;
}

/* Give back a channel; broken (its connection failed): the next request opens another. */
static void release_channel(DB_CHANNEL *chan, int broken)
{
	pthread_mutex_lock(&fwd.lock);
	if (chan == fwd.chan) {
		fwd.users--;
		if (broken)
			fwd.eid = -2; /* looks like a master change to acquire_channel */
	} else if (chan == fwd.old && --fwd.old_users == 0) {
		fwd.old->close(fwd.old, 0);
		fwd.old = NULL;
	}
	pthread_mutex_unlock(&fwd.lock);
}

void store_forward_close(DB_ENV *env)
{
	pthread_mutex_lock(&fwd.lock);
	if (fwd.env == env && fwd.chan && !fwd.users) {
		fwd.chan->close(fwd.chan, 0);
		fwd.chan = NULL;
		fwd.eid = -1;
	}
	pthread_mutex_unlock(&fwd.lock);
}

/*
 * Send req[0..len) to the master and put its answer in resp (DB_DBT_MALLOC: the caller frees
 * resp->data). Returns STORE_OK, or STORE_NO_MASTER when no answer came in time (logged).
 */
static int send_to_master(struct store *st, const unsigned char *req, size_t len, DBT *resp)
{
	DBT msg = { .data = (void *)req, .size = (u_int32_t)len };
	db_timeout_t timeout = forward_timeout_us(st);
	int64_t start = clock_monotonic_ms(), left_us;
	int eid = master_eid(st), err = DB_REP_UNAVAIL;
	struct timespec deadline;
	DB_CHANNEL *chan = NULL;

	memset(resp, 0, sizeof(*resp));
	resp->flags = DB_DBT_MALLOC;
	if (eid < 0)
		return STORE_NO_MASTER;
	if (store_call_time_left_ms() < (int64_t)timeout / 1000) /* the caller's deadline first */
		timeout = store_call_time_left_ms() > 0 ? (db_timeout_t)store_call_time_left_ms() * 1000
		                                        : 0;
	if (timeout < 1000)
		return STORE_NO_MASTER;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout / 1000000;
	deadline.tv_nsec += (long)(timeout % 1000000) * 1000;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&fwd.lock);
	chan = acquire_channel(st, eid, &deadline);
	pthread_mutex_unlock(&fwd.lock);
	left_us = (int64_t)timeout - (clock_monotonic_ms() - start) * 1000;
	store_repl_nodelay(st, 0);
	if (chan && left_us > 1000)
		err = chan->send_request(chan, &msg, 1, resp, (db_timeout_t)left_us, 0);
	if (chan)
		release_channel(chan, err != 0 && err != DB_TIMEOUT);
	if (err != 0) {
		if (store_log_quota(&st->opt))
			STORE_LOG(&st->opt, LOG_WARN, "forward to the master: %s",
			          chan ? db_strerror(err) : "no connection to it in time");
		free(resp->data);
		resp->data = NULL;
		return STORE_NO_MASTER;
	}
	return STORE_OK;
}

/* A request's header: the protocol's version, then what the master is asked to do. */
void fwd_put_header(struct cursor *c, unsigned op)
{
	put_u(c, FWD_VERSION, 1);
	put_u(c, op, 1);
}

/* Send the request c holds (STORE_INVALID when it did not fit), as send_to_master. */
int fwd_send_request(struct store *st, const struct cursor *c, DBT *resp)
{
	if (c->bad)
		return STORE_INVALID;
	return send_to_master(st, c->p, c->at, resp);
}

/* The response's header: its version and result (a store result other than OK is the answer). */
int fwd_response_rc(struct store *st, struct cursor *c)
{
	int version = (int)get_u(c, 1), rc = (int)get_u(c, 1);

	if (c->bad || version != FWD_VERSION || rc < 0 || rc >= STORE_RC_COUNT) {
		STORE_LOG(&st->opt, LOG_ERROR, "the master's answer to a forward does not parse");
		return STORE_UNAVAILABLE;
	}
	return rc;
}

/* FWD_OP_NEXT (with its create record, if any) or FWD_OP_NEXT_JOINT (without): one layout. */
static int forward_next(struct store *st, int op, const char *name, size_t len, uint8_t type,
                        const struct seq_record *create, uint64_t count, struct store_grant *grant)
{
	unsigned char req[FWD_REQUEST_MAX], rec[RECORD_SIZE];
	struct cursor c = { .p = req, .len = sizeof(req) };
	DBT resp;
	int rc;

	if (create && record_encode(create, rec) != RECORD_OK)
		return STORE_INVALID;
	fwd_put_header(&c, op);
	put_u(&c, type, 1);
	put_u(&c, count, 8);
	put_bytes(&c, name, len);
	put_u(&c, create != NULL, 1);
	if (create) {
		unsigned char *p = take(&c, RECORD_SIZE);

		if (p)
			memcpy(p, rec, RECORD_SIZE);
	}
	if ((rc = fwd_send_request(st, &c, &resp)) != STORE_OK)
		return rc;
	c = (struct cursor){ .p = resp.data, .len = resp.size };
	rc = fwd_response_rc(st, &c);
	if (rc == STORE_OK || rc == STORE_EXHAUSTED || rc == STORE_TYPE_MISMATCH) {
		grant->first = (int64_t)get_u(&c, 8);
		grant->last = (int64_t)get_u(&c, 8);
		grant->increment = (int64_t)get_u(&c, 8);
		grant->bound = (int64_t)get_u(&c, 8);
		grant->type = (uint8_t)get_u(&c, 1);
		if (c.bad || c.at != c.len) {
			STORE_LOG(&st->opt, LOG_ERROR, "the master's grant does not parse");
			rc = STORE_UNAVAILABLE;
		}
	}
	free(resp.data);
	return rc;
}

int store_forward_next(struct store *st, const char *name, size_t len, uint8_t type,
                       const struct seq_record *create, uint64_t count, struct store_grant *grant)
{
	return forward_next(st, FWD_OP_NEXT, name, len, type, create, count, grant);
}

int store_forward_next_joint(struct store *st, const char *name, size_t len, uint8_t type,
                             uint64_t count, struct store_grant *grant)
{
	return forward_next(st, FWD_OP_NEXT_JOINT, name, len, type, NULL, count, grant);
}

/* A group's takes and their total count of numbers, within what one message may carry. */
static int group_fits(const struct store_prefix_take *takes, size_t n)
{
	uint64_t total = 0;

	if (n == 0 || n > FWD_TAKES_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (takes[i].count == 0 || takes[i].count > FWD_PREFIX_COUNT_MAX)
			return 0;
		total += takes[i].count;
	}
	return total <= FWD_PREFIX_COUNT_MAX;
}

static void put_text(struct cursor *c, const char *s)
{
	s = s ? s : "";
	put_bytes(c, s, strnlen(s, AUDIT_TEXT_MAX + 1));
}

int store_forward_prefix_group(struct store *st, const char *name, size_t len, int64_t now_ms,
                               struct store_prefix_take *takes, size_t n)
{
	unsigned char req[FWD_REQUEST_MAX];
	struct cursor c = { .p = req, .len = sizeof(req) };
	DBT resp;
	int rc;

	if (!group_fits(takes, n))
		return STORE_INVALID;
	fwd_put_header(&c, FWD_OP_PREFIX_GROUP);
	put_u(&c, (uint64_t)now_ms, 8);
	put_bytes(&c, name, len);
	put_u(&c, n, 2);
	for (size_t i = 0; i < n; i++) {
		put_u(&c, takes[i].count, 8);
		put_text(&c, takes[i].who->client_id);
		put_text(&c, takes[i].who->generated_by);
		put_text(&c, takes[i].correlation_id);
	}
	if ((rc = fwd_send_request(st, &c, &resp)) != STORE_OK)
		return rc;
	c = (struct cursor){ .p = resp.data, .len = resp.size };
	rc = fwd_response_rc(st, &c);
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		takes[i].rc = (int)get_u(&c, 1);
		if (takes[i].rc != STORE_OK && takes[i].rc != STORE_EXHAUSTED &&
		    takes[i].rc != STORE_INVALID)
			c.bad = 1;
		for (uint64_t k = 0; takes[i].rc == STORE_OK && k < takes[i].count; k++) {
			struct store_number *num = &takes[i].out[k];
			unsigned char *id;

			num->counter = (int64_t)get_u(&c, 8);
			num->seq = get_u(&c, 8);
			if ((id = take(&c, 16)) != NULL)
				memcpy(num->message_id, id, 16);
			get_text(&c, num->full_number, AUDIT_NUMBER_MAX);
		}
	}
	if (rc == STORE_OK && (c.bad || c.at != c.len)) {
		STORE_LOG(&st->opt, LOG_ERROR, "the master's numbers do not parse");
		rc = STORE_UNAVAILABLE;
	}
	free(resp.data);
	return rc;
}

int store_forward_claim(struct store *st, const char *address, uint64_t shard, char *holder,
                        size_t holder_len)
{
	unsigned char req[FWD_REQUEST_MAX];
	char got[STORE_REPL_ADDRESS_MAX];
	struct cursor c = { .p = req, .len = sizeof(req) };
	DBT resp;
	int rc;

	fwd_put_header(&c, FWD_OP_CLAIM);
	put_u(&c, shard, 8);
	put_bytes(&c, address, strnlen(address, STORE_REPL_ADDRESS_MAX));
	if ((rc = fwd_send_request(st, &c, &resp)) != STORE_OK)
		return rc;
	c = (struct cursor){ .p = resp.data, .len = resp.size };
	rc = fwd_response_rc(st, &c);
	if (rc == STORE_EXISTS) {
		get_text(&c, got, sizeof(got) - 1);
		snprintf(holder, holder_len, "%s", got);
		if (c.bad || c.at != c.len)
			rc = STORE_UNAVAILABLE;
	}
	free(resp.data);
	return rc;
}

/* A refusal's sentence from the master, kept for the calling thread until its next forward. */
static _Thread_local char forwarded_why[FWD_WHY_MAX + 1];

static void put_change(struct cursor *c, const struct record_change *ch)
{
	put_u(c, ch->fields, 4);
	put_u(c, ch->type, 1);
	put_u(c, (uint64_t)ch->start, 8);
	put_u(c, (uint64_t)ch->increment, 8);
	put_u(c, (uint64_t)ch->min, 8);
	put_u(c, (uint64_t)ch->max, 8);
	put_u(c, ch->cycle != 0, 1);
	put_u(c, ch->cache, 4);
}

static void get_change(struct cursor *c, struct record_change *ch)
{
	ch->fields = (unsigned)get_u(c, 4);
	ch->type = (uint8_t)get_u(c, 1);
	ch->start = (int64_t)get_u(c, 8);
	ch->increment = (int64_t)get_u(c, 8);
	ch->min = (int64_t)get_u(c, 8);
	ch->max = (int64_t)get_u(c, 8);
	ch->cycle = (int)get_u(c, 1);
	ch->cache = (uint32_t)get_u(c, 4);
}

/* A record the master sent back, decoded and checked. */
static int get_record(struct cursor *c, struct seq_record *rec)
{
	unsigned char *p = take(c, RECORD_SIZE);

	return p && record_decode(p, RECORD_SIZE, rec) == RECORD_OK ? 0 : -1;
}

int store_forward_configure(struct store *st, const char *name, size_t len,
                            const struct record_change *ch, int mode, struct seq_record *out,
                            int *created, const char **why)
{
	unsigned char req[FWD_REQUEST_MAX];
	struct cursor c = { .p = req, .len = sizeof(req) };
	struct seq_record rec;
	DBT resp;
	int rc, was_created;

	*why = "";
	fwd_put_header(&c, FWD_OP_CONFIGURE);
	put_bytes(&c, name, len);
	put_u(&c, (uint64_t)mode, 1);
	put_change(&c, ch);
	if ((rc = fwd_send_request(st, &c, &resp)) != STORE_OK)
		return rc;
	c = (struct cursor){ .p = resp.data, .len = resp.size };
	rc = fwd_response_rc(st, &c);
	if (rc == STORE_OK) {
		was_created = (int)get_u(&c, 1);
		if (get_record(&c, &rec) == 0 && !c.bad && c.at == c.len) {
			if (out)
				*out = rec;
			if (created)
				*created = was_created;
		} else {
			rc = STORE_UNAVAILABLE;
		}
	} else if (rc == STORE_INVALID) {
		get_text(&c, forwarded_why, FWD_WHY_MAX);
		*why = forwarded_why;
	}
	free(resp.data);
	return rc;
}

/* create and delete: a name (and for create, a record) in, a result out. */
static int forward_simple(struct store *st, int op, const char *name, size_t len,
                          const struct seq_record *rec)
{
	unsigned char req[FWD_REQUEST_MAX], *p;
	struct cursor c = { .p = req, .len = sizeof(req) };
	DBT resp;
	int rc;

	fwd_put_header(&c, op);
	put_bytes(&c, name, len);
	if (rec && (p = take(&c, RECORD_SIZE)) != NULL && record_encode(rec, p) != RECORD_OK)
		return STORE_INVALID;
	if ((rc = fwd_send_request(st, &c, &resp)) != STORE_OK)
		return rc;
	c = (struct cursor){ .p = resp.data, .len = resp.size };
	rc = fwd_response_rc(st, &c);
	free(resp.data);
	return rc;
}

int store_forward_create(struct store *st, const char *name, size_t len,
                         const struct seq_record *rec)
{
	return forward_simple(st, FWD_OP_CREATE, name, len, rec);
}

int store_forward_delete(struct store *st, const char *name, size_t len)
{
	return forward_simple(st, FWD_OP_DELETE, name, len, NULL);
}

static void put_str(struct cursor *c, const char *s)
{
	s = s ? s : "";
	put_bytes(c, s, strnlen(s, FWD_TEXT_MAX + 1));
}

/* A reply to a prefix change: the result, then its outputs (OK) or the refusal (INVALID). */
static int prefix_reply(struct store *st, DBT *resp, struct seq_record *out, int *created,
                        struct store_reset *r, const char **why)
{
	struct cursor c = { .p = resp->data, .len = resp->size };
	int rc = fwd_response_rc(st, &c), was_created;
	struct seq_record rec;
	unsigned char *id;

	if (rc == STORE_OK && !r) {
		was_created = (int)get_u(&c, 1);
		if (get_record(&c, &rec) == 0) {
			if (out)
				*out = rec;
			if (created)
				*created = was_created;
		} else {
			c.bad = 1;
		}
	} else if (rc == STORE_OK) {
		r->old_value = (int64_t)get_u(&c, 8);
		r->new_value = (int64_t)get_u(&c, 8);
		if ((id = take(&c, 16)) != NULL)
			memcpy(r->reset_id, id, 16);
	} else if (rc == STORE_INVALID) {
		get_text(&c, forwarded_why, FWD_WHY_MAX);
		*why = forwarded_why;
	}
	if ((rc == STORE_OK) && (c.bad || c.at != c.len))
		rc = STORE_UNAVAILABLE;
	free(resp->data);
	return rc;
}

int store_forward_prefix_configure(struct store *st, const char *name, size_t len,
                                   const struct store_prefix_config *cfg, struct seq_record *out,
                                   int *created, const char **why)
{
	unsigned char req[FWD_REQUEST_MAX];
	struct cursor c = { .p = req, .len = sizeof(req) };
	DBT resp;
	int rc;

	*why = "";
	fwd_put_header(&c, FWD_OP_PREFIX_CONFIGURE);
	put_bytes(&c, name, len);
	put_u(&c, cfg->fields, 4);
	put_u(&c, cfg->padding, 4);
	put_u(&c, (uint64_t)(int64_t)cfg->reset_rule, 4);
	put_u(&c, (uint64_t)cfg->now_ms, 8);
	put_str(&c, cfg->format);
	put_str(&c, cfg->timezone);
	put_str(&c, cfg->admin_user);
	put_str(&c, cfg->correlation_id);
	if ((rc = fwd_send_request(st, &c, &resp)) != STORE_OK)
		return rc;
	return prefix_reply(st, &resp, out, created, NULL, why);
}

int store_forward_prefix_reset(struct store *st, const char *name, size_t len,
                               struct store_reset *r, const char **why)
{
	unsigned char req[FWD_REQUEST_MAX];
	struct cursor c = { .p = req, .len = sizeof(req) };
	DBT resp;
	int rc;

	*why = "";
	fwd_put_header(&c, FWD_OP_PREFIX_RESET);
	put_bytes(&c, name, len);
	put_u(&c, (uint64_t)r->set_to, 8);
	put_u(&c, r->force != 0, 1);
	put_u(&c, (uint64_t)r->now_ms, 8);
	put_str(&c, r->reason);
	put_str(&c, r->admin_user);
	put_str(&c, r->correlation_id);
	if ((rc = fwd_send_request(st, &c, &resp)) != STORE_OK)
		return rc;
	return prefix_reply(st, &resp, NULL, NULL, r, why);
}

/* ---- the master's end: in its replication process's message threads ---- */

void fwd_respond(DB_CHANNEL *chan, const unsigned char *buf, size_t len)
{
	DBT msg = { .data = (void *)buf, .size = (u_int32_t)len };

	chan->send_msg(chan, &msg, 1, 0);
}

void fwd_respond_rc(DB_CHANNEL *chan, int rc)
{
	unsigned char buf[2] = { FWD_VERSION, (unsigned char)rc };

	fwd_respond(chan, buf, sizeof(buf));
}

static int serve_next(struct store *st, int op, struct cursor *c, unsigned char *out,
                      size_t *out_len)
{
	char name[NAME_MAX_BYTES + 1];
	uint8_t type = (uint8_t)get_u(c, 1);
	uint64_t count = get_u(c, 8);
	size_t len = get_text(c, name, NAME_MAX_BYTES);
	int has_create = (int)get_u(c, 1), rc;
	struct seq_record create;
	struct store_grant grant = { 0 };
	struct cursor o = { .p = out, .len = FWD_GRANT_BYTES };
	unsigned char *rec = has_create ? take(c, RECORD_SIZE) : NULL;

	if (c->bad || c->at != c->len || has_nul(name, len) || has_create > 1 ||
	    (has_create && (op == FWD_OP_NEXT_JOINT ||
	                    record_decode(rec, RECORD_SIZE, &create) != RECORD_OK)))
		return STORE_INVALID;
	rc = op == FWD_OP_NEXT_JOINT
	             ? store_next_joint(st, name, len, type, count, &grant)
	             : store_next(st, name, len, type, has_create ? &create : NULL, count, &grant);
	put_u(&o, FWD_VERSION, 1);
	put_u(&o, (uint64_t)rc, 1);
	if (rc == STORE_OK || rc == STORE_EXHAUSTED || rc == STORE_TYPE_MISMATCH) {
		put_u(&o, (uint64_t)grant.first, 8);
		put_u(&o, (uint64_t)grant.last, 8);
		put_u(&o, (uint64_t)grant.increment, 8);
		put_u(&o, (uint64_t)grant.bound, 8);
		put_u(&o, grant.type, 1);
	}
	*out_len = o.at;
	return STORE_OK;
}

/* One take of a forwarded group: its texts live here. */
struct served_take {
	char client_id[AUDIT_TEXT_MAX + 1], generated_by[AUDIT_TEXT_MAX + 1];
	char correlation_id[AUDIT_TEXT_MAX + 1];
	struct store_caller who;
};

static int read_take(struct cursor *c, struct served_take *t, struct store_prefix_take *take,
                     int64_t now_ms)
{
	size_t cl, gl, rl;

	take->count = get_u(c, 8);
	cl = get_text(c, t->client_id, AUDIT_TEXT_MAX);
	gl = get_text(c, t->generated_by, AUDIT_TEXT_MAX);
	rl = get_text(c, t->correlation_id, AUDIT_TEXT_MAX);
	t->who = (struct store_caller){ t->client_id, t->generated_by, now_ms };
	take->who = &t->who;
	take->correlation_id = t->correlation_id;
	return has_nul(t->client_id, cl) || has_nul(t->generated_by, gl) ||
	       has_nul(t->correlation_id, rl);
}

static void write_group(struct cursor *o, int rc, const struct store_prefix_take *takes, size_t n)
{
	put_u(o, FWD_VERSION, 1);
	put_u(o, (uint64_t)rc, 1);
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		put_u(o, (uint64_t)takes[i].rc, 1);
		for (uint64_t k = 0; takes[i].rc == STORE_OK && k < takes[i].count; k++) {
			const struct store_number *num = &takes[i].out[k];
			unsigned char *id;

			put_u(o, (uint64_t)num->counter, 8);
			put_u(o, num->seq, 8);
			if ((id = take(o, 16)) != NULL)
				memcpy(id, num->message_id, 16);
			put_bytes(o, num->full_number, strnlen(num->full_number, AUDIT_NUMBER_MAX));
		}
	}
}

static int serve_prefix_group(struct store *st, struct cursor *c, DB_CHANNEL *chan)
{
	char name[NAME_MAX_BYTES + 1];
	int64_t now_ms = (int64_t)get_u(c, 8);
	size_t len = get_text(c, name, NAME_MAX_BYTES), n = (size_t)get_u(c, 2), used = 0;
	struct served_take *texts = NULL;
	struct store_prefix_take *takes = NULL;
	struct store_number *nums = NULL;
	struct cursor o = { 0 };
	int rc = STORE_INVALID, bad = c->bad || n == 0 || n > FWD_TAKES_MAX || has_nul(name, len);

	if (!bad) {
		texts = calloc(n, sizeof(*texts));
		takes = calloc(n, sizeof(*takes));
		nums = calloc(FWD_PREFIX_COUNT_MAX, sizeof(*nums));
		o = (struct cursor){ .p = malloc(FWD_RESPONSE_MAX), .len = FWD_RESPONSE_MAX };
		if (!texts || !takes || !nums || !o.p) {
			rc = STORE_UNAVAILABLE;
			bad = 1;
		}
	}
	for (size_t i = 0; !bad && i < n; i++) {
		bad = read_take(c, &texts[i], &takes[i], now_ms) || takes[i].count == 0 ||
		      takes[i].count > FWD_PREFIX_COUNT_MAX - used;
		if (!bad) {
			takes[i].out = nums + used;
			used += (size_t)takes[i].count;
		}
	}
	if (!bad && !c->bad && c->at == c->len) {
		rc = store_prefix_next_group(st, name, len, now_ms, takes, n);
		write_group(&o, rc, takes, n);
		if (o.bad) /* cannot happen within the bounds above; never send half */
			fwd_respond_rc(chan, STORE_UNAVAILABLE);
		else
			fwd_respond(chan, o.p, o.at);
		rc = STORE_OK;
	}
	free(o.p);
	free(nums);
	free(takes);
	free(texts);
	return rc;
}

static int serve_claim(struct store *st, struct cursor *c, DB_CHANNEL *chan)
{
	char address[STORE_REPL_ADDRESS_MAX], holder[STORE_REPL_ADDRESS_MAX];
	unsigned char out[8 + STORE_REPL_ADDRESS_MAX];
	uint64_t shard = get_u(c, 8);
	size_t len = get_text(c, address, sizeof(address) - 1);
	struct cursor o = { .p = out, .len = sizeof(out) };
	int rc;

	if (c->bad || c->at != c->len || len == 0 || has_nul(address, len))
		return STORE_INVALID;
	rc = store_member_claim(st, address, shard, holder, sizeof(holder));
	put_u(&o, FWD_VERSION, 1);
	put_u(&o, (uint64_t)rc, 1);
	if (rc == STORE_EXISTS)
		put_bytes(&o, holder, strlen(holder));
	fwd_respond(chan, out, o.at);
	return STORE_OK;
}

static int serve_admin(struct store *st, int op, struct cursor *c, DB_CHANNEL *chan)
{
	char name[NAME_MAX_BYTES + 1];
	size_t len = get_text(c, name, NAME_MAX_BYTES);
	unsigned char out[8 + RECORD_SIZE + FWD_WHY_MAX], *p;
	struct cursor o = { .p = out, .len = sizeof(out) };
	struct record_change ch = { 0 };
	struct seq_record rec;
	const char *why = "";
	int rc, mode = 0, created = 0;

	if (op == FWD_OP_CONFIGURE) {
		mode = (int)get_u(c, 1);
		get_change(c, &ch);
	} else if (op == FWD_OP_CREATE && get_record(c, &rec) != 0) {
		return STORE_INVALID;
	}
	if (c->bad || c->at != c->len || has_nul(name, len) ||
	    (op == FWD_OP_CONFIGURE && mode != STORE_CREATE_ONLY && mode != STORE_CHANGE_ONLY &&
	     mode != STORE_CREATE_OR_CHANGE))
		return STORE_INVALID;
	rc = op == FWD_OP_CONFIGURE ? store_configure(st, name, len, &ch, mode, &rec, &created, &why)
	     : op == FWD_OP_CREATE  ? store_create(st, name, len, &rec)
	                            : store_delete(st, name, len);
	put_u(&o, FWD_VERSION, 1);
	put_u(&o, (uint64_t)rc, 1);
	if (op == FWD_OP_CONFIGURE && rc == STORE_OK) {
		put_u(&o, created != 0, 1);
		if ((p = take(&o, RECORD_SIZE)) != NULL && record_encode(&rec, p) != RECORD_OK)
			o.bad = 1;
	} else if (op == FWD_OP_CONFIGURE && rc == STORE_INVALID) {
		put_bytes(&o, why, strnlen(why, FWD_WHY_MAX));
	}
	if (o.bad)
		fwd_respond_rc(chan, STORE_UNAVAILABLE);
	else
		fwd_respond(chan, out, o.at);
	return STORE_OK;
}

/* The texts of a forwarded prefix change. */
struct served_texts {
	char a[FWD_TEXT_MAX + 1], b[FWD_TEXT_MAX + 1], c[FWD_TEXT_MAX + 1], d[FWD_TEXT_MAX + 1];
};

static int read_texts(struct cursor *c, struct served_texts *t, int n)
{
	char *field[4] = { t->a, t->b, t->c, t->d };
	int bad = 0;

	for (int i = 0; i < n; i++) {
		size_t len = get_text(c, field[i], FWD_TEXT_MAX);

		bad |= has_nul(field[i], len);
	}
	return bad;
}

static int serve_prefix_change(struct store *st, int op, struct cursor *c, DB_CHANNEL *chan)
{
	char name[NAME_MAX_BYTES + 1];
	size_t len = get_text(c, name, NAME_MAX_BYTES);
	struct served_texts *t = calloc(1, sizeof(*t));
	unsigned char out[8 + 16 + RECORD_SIZE + FWD_WHY_MAX + 16], *p;
	struct cursor o = { .p = out, .len = sizeof(out) };
	struct store_prefix_config cfg = { 0 };
	struct store_reset r = { 0 };
	struct seq_record rec;
	const char *why = "";
	int rc, created = 0, bad;

	if (!t)
		return STORE_UNAVAILABLE;
	if (op == FWD_OP_PREFIX_CONFIGURE) {
		cfg.fields = (unsigned)get_u(c, 4);
		cfg.padding = (unsigned)get_u(c, 4);
		cfg.reset_rule = (int)(int32_t)get_u(c, 4);
		cfg.now_ms = (int64_t)get_u(c, 8);
	} else {
		r.set_to = (int64_t)get_u(c, 8);
		r.force = (int)get_u(c, 1);
		r.now_ms = (int64_t)get_u(c, 8);
	}
	bad = read_texts(c, t, op == FWD_OP_PREFIX_CONFIGURE ? 4 : 3);
	if (bad || c->bad || c->at != c->len || has_nul(name, len)) {
		free(t);
		return STORE_INVALID;
	}
	if (op == FWD_OP_PREFIX_CONFIGURE) {
		cfg.format = t->a;
		cfg.timezone = t->b;
		cfg.admin_user = t->c;
		cfg.correlation_id = t->d;
		rc = store_prefix_configure(st, name, len, &cfg, &rec, &created, &why);
	} else {
		r.reason = t->a;
		r.admin_user = t->b;
		r.correlation_id = t->c;
		rc = store_prefix_reset(st, name, len, &r, &why);
	}
	put_u(&o, FWD_VERSION, 1);
	put_u(&o, (uint64_t)rc, 1);
	if (rc == STORE_OK && op == FWD_OP_PREFIX_CONFIGURE) {
		put_u(&o, created != 0, 1);
		if ((p = take(&o, RECORD_SIZE)) != NULL && record_encode(&rec, p) != RECORD_OK)
			o.bad = 1;
	} else if (rc == STORE_OK) {
		put_u(&o, (uint64_t)r.old_value, 8);
		put_u(&o, (uint64_t)r.new_value, 8);
		if ((p = take(&o, 16)) != NULL)
			memcpy(p, r.reset_id, 16);
	} else if (rc == STORE_INVALID) {
		put_bytes(&o, why, strnlen(why, FWD_WHY_MAX));
	}
	free(t);
	if (o.bad)
		fwd_respond_rc(chan, STORE_UNAVAILABLE);
	else
		fwd_respond(chan, out, o.at);
	return STORE_OK;
}

void store_forward_dispatch(DB_ENV *env, DB_CHANNEL *chan, DBT *request, u_int32_t nrequest,
                            u_int32_t cb_flags)
{
	struct store *base = env->app_private, *st = NULL;
	struct cursor c;
	unsigned char out[FWD_GRANT_BYTES];
	size_t out_len = 0;
	int rc = STORE_INVALID, op;

	if (!(cb_flags & DB_REPMGR_NEED_RESPONSE))
		return; /* a message that wants no answer is none of ours */
	if (nrequest != 1 || request[0].size < 2 || request[0].size > FWD_MESSAGE_MAX) {
		fwd_respond_rc(chan, STORE_INVALID);
		return;
	}
	if (!atomic_load(&base->serving) || store_open_peer(base, &st) != STORE_OK) {
		fwd_respond_rc(chan, STORE_NO_MASTER);
		return;
	}
	c = (struct cursor){ .p = request[0].data, .len = request[0].size };
	op = get_u(&c, 1) == FWD_VERSION ? (int)get_u(&c, 1) : -1;
	/* A take: the replica stops waiting after forward_timeout_us (of its own config; this
	 * node's is the best guess), so what it asks is done by then, with a moment left for the
	 * answer to travel, or not at all (its lock waits are tried again within that, store_txn.c).
	 * Always time for one commit. Other forwards keep no deadline: a bulk chunk's commit is
	 * large, and its deadlock victims are run again whatever the time. */
	if (op == FWD_OP_NEXT || op == FWD_OP_NEXT_JOINT || op == FWD_OP_PREFIX_GROUP)
		store_call_deadline(clock_monotonic_ms() + serve_budget_ms(st));
	if (op != FWD_OP_IMPORT && request[0].size > FWD_REQUEST_MAX)
		op = -1; /* only an import chunk may be larger */
	if (op == FWD_OP_NEXT || op == FWD_OP_NEXT_JOINT) {
		rc = serve_next(st, op, &c, out, &out_len);
		if (rc == STORE_OK)
			fwd_respond(chan, out, out_len);
	} else if (op == FWD_OP_PREFIX_GROUP) {
		rc = serve_prefix_group(st, &c, chan);
	} else if (op == FWD_OP_CLAIM) {
		rc = serve_claim(st, &c, chan);
	} else if (op == FWD_OP_CONFIGURE || op == FWD_OP_CREATE || op == FWD_OP_DELETE) {
		rc = serve_admin(st, op, &c, chan);
	} else if (op == FWD_OP_PREFIX_CONFIGURE || op == FWD_OP_PREFIX_RESET) {
		rc = serve_prefix_change(st, op, &c, chan);
	} else if (op == FWD_OP_IMPORT || op == FWD_OP_ADVANCE_STEP || op == FWD_OP_DELETE_STEP) {
		rc = fwd_serve_bulk(st, op, &c, chan);
	}
	if (rc != STORE_OK)
		fwd_respond_rc(chan, rc);
	store_call_deadline(0);
	store_close(st);
}
