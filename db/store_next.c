/*
 * store_next: the take path, where values leave the store: store_next (and store_register, a
 * random-id type's first use). The only file with locks between threads: the threads of a
 * process share, through their handles' struct store_take,
 *  - the per-sequence cache of blocks a cached sequence handed this process (cache_lock), with
 *    one thread at a time refilling it (refill_lock);
 *  - the creator lock: one thread at a time creates a sequence (create_lock);
 *  - request combining (combine_lock, combine_done). Threads that want values of the same
 *    sequence at the same moment share one transaction: the first becomes the leader, waits for
 *    the record's lock, then takes every request queued by then (gather_batch), asks the store
 *    for all their values at once and splits the grant in queue order, so each still gets
 *    consecutive values, in the order the requests arrived. Why: on a hot sequence every
 *    transaction passes its record lock to the next (a wake-up, a context switch) and writes its
 *    own log records; one transaction for eight requests does that once. Requests that arrive
 *    after the gathering form the next batch, whose leader queues for the lock as soon as this
 *    one's commit is in the log (replicated: at once; see struct gather). On a replica a batch is
 *    one forward to the master (forward_batch). A batch of one request is that request's own
 *    transaction; one of several the store refuses as a whole (a sequence that cycles or
 *    caches, one that does not exist yet, a bound too close for all of it) sends each of its
 *    requests alone, exactly as without combining.
 */
#include "store_int.h"
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * A block of a cached sequence's values (record.cache > 1) this process has taken and not handed
 * out yet. Values leave in order; an entry older than CACHE_TTL_MS is dropped (its values
 * skipped, which a cached sequence allows) so a block never outlives an admin change for long.
 */
#define CACHE_SLOTS 64
#define CACHE_TTL_MS 5000

struct cache_entry {
	char name[NAME_MAX_BYTES];
	size_t len;          /* 0 = free */
	int empty;           /* its block ran out: a marker that the sequence is cached */
	uint8_t type;
	int64_t next, last, increment;
	int64_t taken_ms;    /* clock_monotonic_ms() */
};

#define COMBINE_SLOTS 16 /* names whose requests one process combines at a time */
/* The most values a request may ask for and still be combined: a batch holds at most one request
 * per thread of its process, so its sum stays far from overflowing, whatever a peer sends. */
#define COMBINE_COUNT_MAX (UINT64_C(1) << 20)

/* A request waiting to be combined. */
struct combine_req {
	uint64_t count;
	int joint;                /* it stands for several requests of a replica (store_next_joint) */
	int64_t deadline_ms;      /* its thread's store_call_deadline, 0 for none */
	struct store_grant grant; /* out */
	int rc;                   /* out: a store result, or COMBINE_ALONE */
	int taken;                /* a leader took it into its batch */
	int done;
	struct combine_req *next;
};

/* The requests for one name (and type) of one process. */
struct combine_slot {
	char name[NAME_MAX_BYTES];
	size_t len;  /* 0 = free */
	uint8_t type;
	int leading; /* a leader has not taken the queue yet, or its batch's turn is not over */
	struct combine_req *head, *tail; /* waiting for the next batch */
};

/* What the threads of one process share: a base handle's, used by its peers too. */
struct store_take {
	pthread_mutex_t cache_lock;   /* guards cache */
	pthread_mutex_t refill_lock;  /* one thread at a time takes a cached block */
	pthread_mutex_t create_lock;  /* one thread at a time creates a sequence */
	pthread_mutex_t combine_lock; /* guards combine */
	pthread_cond_t combine_done;  /* a leader took its batch, or finished it */
	struct combine_slot combine[COMBINE_SLOTS];
	struct cache_entry cache[CACHE_SLOTS];
};

struct store_take *store_take_new(void)
{
	struct store_take *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->cache_lock, NULL);
	pthread_mutex_init(&t->refill_lock, NULL);
	pthread_mutex_init(&t->create_lock, NULL);
	pthread_mutex_init(&t->combine_lock, NULL);
	pthread_cond_init(&t->combine_done, NULL);
	return t;
}

void store_take_free(struct store_take *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->cache_lock);
	pthread_mutex_destroy(&t->refill_lock);
	pthread_mutex_destroy(&t->create_lock);
	pthread_mutex_destroy(&t->combine_lock);
	pthread_cond_destroy(&t->combine_done);
	free(t);
}

/*
 * The test hook's sleep (NEXTID_TEST_HOLD_LOCK_MS) holding the record lock. It sleeps on
 * CLOCK_BOOTTIME, which nothing else in nextid sleeps on, so that a test reading
 * /proc/PID/task/TID/syscall ("230 0x7 ..." on x86_64) can tell this sleep from any other
 * (a deadlock victim's backoff, a /generate waiting for its tick, a stopping worker).
 */
static void hold_lock_for_test(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (clock_nanosleep(CLOCK_BOOTTIME, 0, &ts, &ts) == EINTR)
		;
}

struct gather;

struct next_op {
	DBT key;
	uint8_t type;
	const struct seq_record *create;
	uint64_t count;
	struct store_grant *grant;
	int cached;   /* out: the grant is a whole block of a cached sequence */
	int combined; /* the values of several requests, which next_combined splits (set when the
	                 batch is gathered; for store_next_joint's request, from the start) */
	int refused;  /* out: combined, but the sequence is one whose values cannot be split */
	struct gather *gather; /* a batch's: its requests, gathered once the record is locked */
};

static void gather_batch(struct next_op *op);

static int next_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct next_op *op = arg;
	struct seq_record rec;
	int rc = store_read_record(st, a, &op->key, DB_RMW, &rec);
	int created = rc == STORE_NOT_FOUND && op->create;

	/* The record is ours now, or does not exist: the batch is what is queued by now. Not after
	 * a lock wait that timed out or a deadlock: the attempt is run again, and meanwhile the
	 * queue stays this leader's, so no later batch can take values before it. */
	if (op->gather && !a->retry)
		gather_batch(op);
	if (created)
		rec = *op->create;
	else if (rc != STORE_OK)
		return rc;
	op->grant->type = rec.type;
	if (op->type == 0 ? record_type_max(rec.type) == 0 : rec.type != op->type)
		return STORE_TYPE_MISMATCH;
	if (record_is_prefix(&rec)) /* its numbers must pass through the audit */
		return STORE_PREFIX;
	/* A combined grant is split into consecutive runs, one per request: a cycling sequence may
	 * wrap inside it, and a cached one gives blocks; each of their requests goes alone. */
	if (op->combined && ((rec.flags & RECORD_FLAG_CYCLE) || rec.cache > 1)) {
		op->refused = 1;
		return STORE_INVALID;
	}
	/* A cached sequence hands this process a block of values for one request; near its bound
	 * the block shrinks to what is left. */
	op->cached = 0;
	for (uint64_t take = op->count == 1 ? rec.cache : 0; take > 1 && !op->cached; take /= 2) {
		struct seq_record trial = rec;

		if (record_advance(&trial, take, &op->grant->first, &op->grant->last) == RECORD_OK) {
			rec = trial;
			op->cached = 1;
		}
	}
	switch (op->cached ? RECORD_OK
	                   : record_advance(&rec, op->count, &op->grant->first, &op->grant->last)) {
	case RECORD_OK:
		break;
	case RECORD_EXHAUSTED:
		op->grant->bound = rec.increment > 0 ? rec.max : rec.min;
		return STORE_EXHAUSTED;
	default:
		return STORE_INVALID;
	}
	op->grant->increment = rec.increment;
	store_reserve(st, a, &rec, op->grant->last);
	rc = store_write_record(st, a, &op->key, &rec, 0);
	if (rc == STORE_OK && created)
		rc = store_index_add(st, a, &op->key);
	if (rc == STORE_OK && st->opt.hold_lock_ms)
		hold_lock_for_test(st->opt.hold_lock_ms);
	return rc;
}

/*
 * The per-sequence cache. A process's blocks live in its struct store_take, shared by the handles
 * of every thread under cache_lock: the blocks belong to the worker process, as API.md says. An
 * entry whose block ran out stays as a marker that the sequence is cached, so that the threads
 * that miss it next take one new block between them (under refill_lock) rather than one each,
 * which would skip a block's values at every crash for each thread.
 */
enum cache_result {
	CACHE_TAKEN,   /* *grant holds the next value */
	CACHE_UNKNOWN, /* no block, nor sign that the sequence is cached: ask the store */
	CACHE_EMPTY,   /* a cached sequence whose block ran out: refill it once for all threads */
};

static int cache_entry_is(const struct cache_entry *e, const char *name, size_t len)
{
	return e->len == len && memcmp(e->name, name, len) == 0;
}

/* The entry of `name` to take from: its lowest block with values left (threads that missed at
 * once may each have brought one back), else a marker of a block that ran out. */
static struct cache_entry *cache_find(struct store_take *t, const char *name, size_t len)
{
	struct cache_entry *found = NULL;

	for (int i = 0; i < CACHE_SLOTS; i++) {
		struct cache_entry *e = &t->cache[i];

		if (!cache_entry_is(e, name, len))
			continue;
		if (!found || (found->empty && !e->empty) ||
		    (!e->empty && (e->increment > 0 ? e->next < found->next : e->next > found->next)))
			found = e;
	}
	return found;
}

static enum cache_result cache_take_locked(struct store_take *t, const char *name, size_t len,
                                           uint8_t type, struct store_grant *grant)
{
	struct cache_entry *e = cache_find(t, name, len);

	if (!e)
		return CACHE_UNKNOWN;
	if (clock_monotonic_ms() - e->taken_ms > CACHE_TTL_MS ||
	    (type == 0 ? record_type_max(e->type) == 0 : e->type != type)) {
		e->len = 0; /* stale, or asked as another type: let the store decide */
		return CACHE_UNKNOWN;
	}
	if (e->empty)
		return CACHE_EMPTY;
	grant->first = grant->last = e->next;
	grant->increment = e->increment;
	grant->type = e->type;
	if (e->next == e->last)
		e->empty = 1;
	else
		e->next += e->increment;
	return CACHE_TAKEN;
}

static enum cache_result cache_take(struct store *st, const char *name, size_t len,
                                    uint8_t type, struct store_grant *grant)
{
	struct store_take *t = st->take;
	enum cache_result r;

	pthread_mutex_lock(&t->cache_lock);
	r = cache_take_locked(t, name, len, type, grant);
	pthread_mutex_unlock(&t->cache_lock);
	return r;
}

/* Keep the rest of a block (all but its first value) for the next requests: in the marker its
 * predecessor left, or a slot of its own, even beside another block of the same name (dropping
 * either would skip its values for nothing). A full table loses its oldest block. */
static void cache_keep_locked(struct store_take *t, const char *name, size_t len,
                              const struct store_grant *grant)
{
	struct cache_entry *e = NULL, *free_slot = NULL, *oldest = &t->cache[0];

	for (int i = 0; i < CACHE_SLOTS; i++) {
		struct cache_entry *c = &t->cache[i];

		if (c->len == 0) {
			if (!free_slot)
				free_slot = c;
		} else if (c->empty && cache_entry_is(c, name, len)) {
			e = c;
		} else if (c->taken_ms < oldest->taken_ms) {
			oldest = c;
		}
	}
	e = e ? e : free_slot ? free_slot : oldest;
	memcpy(e->name, name, len);
	e->len = len;
	e->empty = 0;
	e->type = grant->type;
	e->next = grant->first + grant->increment;
	e->last = grant->last;
	e->increment = grant->increment;
	e->taken_ms = clock_monotonic_ms();
}

/* After a store answer for `name`: keep the block it granted, or forget that it was cached. */
static void cache_update(struct store *st, const char *name, size_t len,
                         const struct store_grant *grant, int cached)
{
	struct store_take *t = st->take;

	pthread_mutex_lock(&t->cache_lock);
	if (cached) {
		cache_keep_locked(t, name, len, grant);
	} else {
		for (int i = 0; i < CACHE_SLOTS; i++)
			if (cache_entry_is(&t->cache[i], name, len))
				t->cache[i].len = 0;
	}
	pthread_mutex_unlock(&t->cache_lock);
}

/* Take values in a transaction; a cached sequence's block goes to the cache, all of it but the
 * first value, which is the caller's. */
static int next_from_store(struct store *st, const char *name, size_t len, struct next_op *op)
{
	int rc = store_run_txn(st, RUN_DURABLE, next_body, op);

	if (rc == STORE_OK && op->cached) {
		cache_update(st, name, len, op->grant, 1);
		op->grant->last = op->grant->first;
	}
	return rc;
}

/* A cached sequence's block ran out: one thread of the process takes the next block while the
 * others wait for it, then take from it. */
static int next_refill(struct store *st, const char *name, size_t len, struct next_op *op)
{
	struct store_take *t = st->take;
	int rc = STORE_OK;

	pthread_mutex_lock(&t->refill_lock);
	if (cache_take(st, name, len, op->type, op->grant) != CACHE_TAKEN) {
		rc = next_from_store(st, name, len, op);
		if (rc != STORE_OK || !op->cached)
			cache_update(st, name, len, op->grant, 0);
	}
	pthread_mutex_unlock(&t->refill_lock);
	return rc;
}

/*
 * Take values from a sequence that is created when it does not exist. Creating one splits pages
 * of both databases (the hash of records, the names' B-tree), and creators running at once
 * deadlock on those splits: measured, a burst of first requests for 10,000 new names gave up
 * after 10 retries with 8 threads per worker. So the threads of a process create one at a time,
 * each first trying the sequence as it exists, which is what nearly every request finds; only
 * a name that is not there yet takes create_lock.
 */
static int next_or_create(struct store *st, const char *name, size_t len, struct next_op *op,
                          const struct seq_record *create)
{
	struct store_take *t = st->take;
	int rc;

	op->create = NULL;
	rc = next_from_store(st, name, len, op);
	if (rc != STORE_NOT_FOUND)
		return rc;
	op->create = create;
	pthread_mutex_lock(&t->create_lock);
	rc = next_from_store(st, name, len, op);
	pthread_mutex_unlock(&t->create_lock);
	return rc;
}

#define COMBINE_ALONE (-1) /* a request's answer: ask the store alone */

/* One request's own transaction(s), creating the sequence when asked to. */
static int next_alone(struct store *st, const char *name, size_t len, struct next_op *op,
                      const struct seq_record *create)
{
	return create ? next_or_create(st, name, len, op, create)
	              : next_from_store(st, name, len, op);
}

static struct combine_slot *combine_slot_for(struct store_take *t, const char *name, size_t len,
                                             uint8_t type)
{
	struct combine_slot *free_slot = NULL;

	for (int i = 0; i < COMBINE_SLOTS; i++) {
		struct combine_slot *c = &t->combine[i];

		if (c->len == len && c->type == type && memcmp(c->name, name, len) == 0)
			return c;
		if (c->len == 0 && !free_slot)
			free_slot = c;
	}
	if (free_slot) {
		memcpy(free_slot->name, name, len);
		free_slot->len = len;
		free_slot->type = type;
	}
	return free_slot;
}

/*
 * A batch is gathered late: its leader first waits for the record's lock, and only then takes
 * every request queued for the name, those that arrived while it waited included. Replicated, a
 * record's lock is held through its commit's wait for the acknowledgements (Berkeley DB waits
 * inside the commit), so the lock passes from process to process one round trip at a time;
 * a batch formed before that wait left the requests arriving during it for the next round. So,
 * replicated, the slot has no leader once the batch is gathered: the next request to arrive
 * leads the next batch and queues for the lock at once, behind this one's commit. Unreplicated,
 * the next leader waits for this batch's commit (a lock held long, by a commit that moves a
 * reservation on a slow disk or by a stopped process, then keeps one thread of the process
 * waiting inside Berkeley DB, not two).
 */
struct gather {
	struct store *st;
	struct combine_slot *slot;
	struct combine_req *batch; /* out: the requests taken, in queue order */
	int done;
	int released;            /* the slot's turn ended when the batch was taken */
	int64_t own_deadline_ms; /* the leader's, while the batch's earliest is in force */
};

/* Several requests, or one standing for several: their values cannot come as one request's. */
static int batch_is_joint(const struct combine_req *batch)
{
	return batch && (batch->next || batch->joint);
}

/* The slot's turn is over: the next arrival leads. Under combine_lock. */
static void release_slot(struct store_take *t, struct combine_slot *slot)
{
	slot->leading = 0;
	if (!slot->head)
		slot->len = 0; /* no queue, no leader: free for any name */
	pthread_cond_broadcast(&t->combine_done);
}

/* Take the slot's queue as the batch, once. The batch's earliest deadline becomes the thread's
 * (store_call_deadline) until end_batch, so that none of its requests is answered late. */
static void take_queue(struct gather *g, uint64_t *count, int release)
{
	struct store_take *t = g->st->take;
	struct combine_slot *slot = g->slot;
	int64_t earliest = store_call_deadline_ms();

	pthread_mutex_lock(&t->combine_lock);
	g->batch = slot->head;
	*count = 0;
	for (struct combine_req *r = g->batch; r; r = r->next) {
		r->taken = 1;
		*count += r->count;
		if (r->deadline_ms && (!earliest || r->deadline_ms < earliest))
			earliest = r->deadline_ms;
	}
	slot->head = slot->tail = NULL;
	g->done = 1;
	g->released = release;
	if (release)
		release_slot(t, slot);
	pthread_mutex_unlock(&t->combine_lock);
	g->own_deadline_ms = store_call_deadline_ms();
	store_call_deadline(earliest);
}

/* next_body's hook, once the record is the leader's. */
static void gather_batch(struct next_op *op)
{
	struct gather *g = op->gather;

	if (g->done)
		return;
	take_queue(g, &op->count, store_replicated(&g->st->opt));
	op->combined = batch_is_joint(g->batch);
}

/* The batch is answered: the leader's own deadline again, and its slot's turn over if the
 * gathering did not end it. */
static void end_batch(struct gather *g)
{
	struct store_take *t = g->st->take;

	store_call_deadline(g->own_deadline_ms);
	if (g->released) /* the slot may be another batch's, or another name's, by now */
		return;
	pthread_mutex_lock(&t->combine_lock);
	release_slot(t, g->slot);
	pthread_mutex_unlock(&t->combine_lock);
}

/* A batch's answer, split among its requests in queue order: consecutive values for each; or, when
 * go_alone, each request sent alone. */
static void split_grant(struct combine_req *batch, int rc, int go_alone,
                        const struct store_grant *all)
{
	uint64_t taken = 0;

	for (struct combine_req *r = batch; r; r = r->next) {
		r->grant = *all;
		if (rc != STORE_OK) {
			r->rc = go_alone ? COMBINE_ALONE : rc;
			continue;
		}
		/* Inside [all.first, all.last] each time; 128 bits for the step there. */
		r->rc = STORE_OK;
		r->grant.first = (int64_t)((__int128)all->first + (__int128)taken * all->increment);
		r->grant.last = (int64_t)((__int128)r->grant.first +
		                          (__int128)(r->count - 1) * all->increment);
		taken += r->count;
	}
}

/* One transaction for the values of the requests gathered, split among them. A batch of one
 * request is that request's own transaction (a cached sequence's block included); a joint batch
 * the store refuses (a sequence that cycles or caches, a bound too close for the sum) or that
 * finds no sequence sends each request alone (the creator's path). Returns whether its commit
 * left a log flush owed (store_run_deferred). */
static int run_batch(struct store *st, const char *name, size_t len, const struct next_op *op,
                     struct gather *g)
{
	struct store_grant all = { 0 };
	struct next_op joint = { op->key, op->type, NULL, 0, &all, 0, 0, 0, g };
	int rc, flush_owed, go_alone;

	rc = store_run_deferred(st, next_body, &joint, &flush_owed);
	gather_batch(&joint); /* no attempt reached the record: the queue shares the answer */
	go_alone = joint.refused || rc == STORE_NOT_FOUND ||
	           (rc == STORE_EXHAUSTED && batch_is_joint(g->batch));
	if (rc == STORE_OK && joint.cached) {
		cache_update(st, name, len, &all, 1);
		all.last = all.first;
	}
	split_grant(g->batch, rc, go_alone, &all);
	return flush_owed;
}

/*
 * A replica's batch: its requests sent to the master in one forward, gathered when it starts and
 * led until the answer is back, so that the requests arriving meanwhile form the next one. A
 * batch of several goes as one joint request (store_forward_next_joint), which the master
 * refuses when it would not combine it; each then goes alone. Without it every request held one
 * of the master's message threads, a few of which serve the whole group's forwards, through a
 * commit's wait for its acknowledgements.
 */
static void forward_batch(struct store *st, const struct next_op *op, struct gather *g)
{
	struct store_grant all = { 0 };
	uint64_t count;
	int rc;

	take_queue(g, &count, 0);
	if (!batch_is_joint(g->batch)) { /* the leader alone: its own request, as it asked */
		rc = store_forward_next(st, g->slot->name, g->slot->len, op->type, op->create, count,
		                        &all);
		split_grant(g->batch, rc, 0, &all);
		return;
	}
	rc = count > COMBINE_COUNT_MAX ? STORE_INVALID
	                               : store_forward_next_joint(st, g->slot->name, g->slot->len,
	                                                          op->type, count, &all);
	split_grant(g->batch, rc, rc == STORE_INVALID, &all);
}

/* The batch's values are its requests' once its commit is on disk; a failed flush is the answer
 * of every request that had values. */
static void finish_batch(struct store *st, struct combine_req *batch, int flush_owed)
{
	int rc = flush_owed ? store_log_flush(st) : STORE_OK;

	for (struct combine_req *r = batch; r && rc != STORE_OK; r = r->next)
		if (r->rc == STORE_OK)
			r->rc = rc;
}

/* Mark a finished batch's requests done and wake them: their threads may be gone after. */
static void answer_batch(struct store_take *t, struct combine_req *batch)
{
	pthread_mutex_lock(&t->combine_lock);
	for (struct combine_req *r = batch; r; r = r->next)
		r->done = 1;
	pthread_cond_broadcast(&t->combine_done);
	pthread_mutex_unlock(&t->combine_lock);
}

enum batch_where { BATCH_HERE, BATCH_AT_MASTER };

/* Queue a request for its name and wait until a batch answered it, or until it leads one: then
 * run the batch (here, or as a forward to the master) and answer it. COMBINE_ALONE: send the
 * request alone (no free slot, a count too large to combine, or the batch's verdict). */
static int next_combined(struct store *st, const char *name, size_t len, struct next_op *op,
                         enum batch_where where)
{
	struct store_take *t = st->take;
	struct combine_req me = { .count = op->count, .joint = op->combined,
		                  .deadline_ms = store_call_deadline_ms() };
	struct combine_slot *slot;
	struct gather g = { .st = st };
	int flush_owed = 0;

	if (op->count > COMBINE_COUNT_MAX)
		return COMBINE_ALONE;
	pthread_mutex_lock(&t->combine_lock);
	slot = combine_slot_for(t, name, len, op->type);
	if (!slot) { /* every slot serves another name: go alone */
		pthread_mutex_unlock(&t->combine_lock);
		return COMBINE_ALONE;
	}
	if (slot->tail)
		slot->tail->next = &me;
	else
		slot->head = &me;
	slot->tail = &me;
	while (!me.done && (me.taken || slot->leading))
		pthread_cond_wait(&t->combine_done, &t->combine_lock);
	if (me.done) {
		pthread_mutex_unlock(&t->combine_lock);
		*op->grant = me.grant;
		return me.rc;
	}
	slot->leading = 1; /* lead: this request and every one queued when the batch is taken */
	pthread_mutex_unlock(&t->combine_lock);

	g.slot = slot;
	if (where == BATCH_AT_MASTER)
		forward_batch(st, op, &g);
	else
		flush_owed = run_batch(st, name, len, op, &g);
	end_batch(&g);
	/* The commit has released the record: the next batch may be taking its values while this
	 * one waits for the disk, so the two flushes overlap or merge (group commit). Its requests
	 * are answered only once the flush is done. */
	finish_batch(st, g.batch, flush_owed);
	answer_batch(t, g.batch);
	*op->grant = me.grant;
	return me.rc;
}

int store_next(struct store *st, const char *name, size_t len, uint8_t type,
               const struct seq_record *create, uint64_t count, struct store_grant *grant)
{
	struct next_op op = { store_name_key(name, len), type, create, count, grant, 0, 0, 0, NULL };
	int rc;

	if (store_name_invalid(name, len))
		return STORE_INVALID;
	switch (store_forward_route(st)) {
	case STORE_ROUTE_MASTER:
		rc = next_combined(st, name, len, &op, BATCH_AT_MASTER);
		return rc != COMBINE_ALONE
		               ? rc
		               : store_forward_next(st, name, len, type, create, count, grant);
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	if (count == 1) {
		switch (cache_take(st, name, len, type, grant)) {
		case CACHE_TAKEN:
			return STORE_OK;
		case CACHE_EMPTY:
			return next_refill(st, name, len, &op);
		case CACHE_UNKNOWN:
			break;
		}
	}
	rc = next_combined(st, name, len, &op, BATCH_HERE);
	return rc != COMBINE_ALONE ? rc : next_alone(st, name, len, &op, create);
}

int store_next_joint(struct store *st, const char *name, size_t len, uint8_t type,
                     uint64_t count, struct store_grant *grant)
{
	/* combined from the start: it stands for several of the replica's requests */
	struct next_op op = { store_name_key(name, len), type, NULL, count, grant, 0, 1, 0, NULL };
	int rc;

	if (store_name_invalid(name, len) || count == 0)
		return STORE_INVALID;
	if (store_forward_route(st) != STORE_ROUTE_LOCAL)
		return STORE_NO_MASTER;
	/* A request that would go alone here is refused: the replica's requests then go alone
	 * there. */
	rc = next_combined(st, name, len, &op, BATCH_HERE);
	return rc != COMBINE_ALONE ? rc : STORE_INVALID;
}

int store_register(struct store *st, const char *name, size_t len,
                   const struct seq_record *create, uint8_t *registered)
{
	struct seq_record rec;
	int rc = store_get(st, name, len, &rec);

	if (rc == STORE_NOT_FOUND) {
		rec = *create;
		rc = store_create(st, name, len, create);
		if (rc == STORE_EXISTS) /* another worker registered it a moment ago */
			rc = store_get(st, name, len, &rec);
	}
	if (rc != STORE_OK)
		return rc;
	*registered = rec.type;
	return rec.type == create->type ? STORE_OK : STORE_TYPE_MISMATCH;
}

