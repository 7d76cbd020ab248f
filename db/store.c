/*
 * store: the sequence operations, each a short transaction whose body store_txn.c runs. The
 * environment's lifecycle is in store_env.c, the record's bytes in record.c.
 */
#include "store_int.h"
#include "name.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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


/*
 * How many sequences there are, kept in meta beside them and changed in the transaction that
 * adds or removes a name, so that max_sequences is exact. A store written before the count
 * existed has none: then the names are counted once (recovery writes it at every start).
 */
static const char count_key[] = "sequences.count";

static int count_names(struct store *st, struct txn_attempt *a, uint64_t *n)
{
	DBC *cursor = NULL;
	DBT key = { .flags = DB_DBT_REALLOC }, val = { .flags = DB_DBT_REALLOC };
	int err = st->names->cursor(st->names, a->txn, &cursor, 0);

	*n = 0;
	while (err == 0 && (err = cursor->get(cursor, &key, &val, DB_NEXT)) == 0)
		(*n)++;
	if (cursor)
		cursor->close(cursor);
	free(key.data);
	free(val.data);
	return STORE_DB_ERROR(st, a, err == DB_NOTFOUND ? 0 : err, "count the names");
}

int store_count_get(struct store *st, struct txn_attempt *a, uint64_t *n)
{
	unsigned char buf[8];
	DBT key = { .data = (void *)count_key, .size = sizeof(count_key) - 1 };
	DBT val = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int err = st->meta->get(st->meta, a->txn, &key, &val, DB_RMW);

	if (err == DB_NOTFOUND)
		return count_names(st, a, n);
	if (err == 0 && val.size != sizeof(buf)) {
		STORE_LOG(&st->opt, LOG_WARN, "the sequence count is damaged; counting again");
		return count_names(st, a, n);
	}
	if (err != 0)
		return STORE_DB_ERROR(st, a, err, "read the sequence count");
	*n = 0;
	for (size_t i = 0; i < sizeof(buf); i++)
		*n = *n << 8 | buf[i];
	return STORE_OK;
}

int store_count_put(struct store *st, struct txn_attempt *a, uint64_t n)
{
	unsigned char buf[8];
	DBT key = { .data = (void *)count_key, .size = sizeof(count_key) - 1 };
	DBT val = { .data = buf, .size = sizeof(buf) };

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(n >> (8 * (sizeof(buf) - 1 - i)));
	return STORE_DB_ERROR(st, a, st->meta->put(st->meta, a->txn, &key, &val, 0),
	                      "write the sequence count");
}

int store_count_refresh(struct store *st)
{
	struct txn_attempt a = { 0 }; /* recovery is alone: no deadlock to retry */
	uint64_t n = 0;
	int err = st->env->txn_begin(st->env, NULL, &a.txn, 0), rc;

	if (err != 0)
		return STORE_DB_ERROR(st, NULL, err, "begin");
	rc = count_names(st, &a, &n);
	if (rc == STORE_OK)
		rc = store_count_put(st, &a, n);
	err = rc == STORE_OK ? a.txn->commit(a.txn, 0) : (a.txn->abort(a.txn), 0);
	return rc == STORE_OK ? STORE_DB_ERROR(st, NULL, err, "commit") : rc;
}

struct next_op {
	DBT key;
	uint8_t type;
	const struct seq_record *create;
	uint64_t count;
	struct store_grant *grant;
	int cached;   /* out: the grant is a whole block of a cached sequence */
	int combined; /* in: the values of several requests, which next_combined splits */
	int refused;  /* out: combined, but the sequence is one whose values cannot be split */
};

static int next_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct next_op *op = arg;
	struct seq_record rec;
	int rc = store_read_record(st, a, &op->key, DB_RMW, &rec);
	int created = rc == STORE_NOT_FOUND && op->create;

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

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The per-sequence cache. A process's blocks live in its base handle, shared by the peers of
 * every thread under cache_lock: the blocks belong to the worker process, as API.md says. An
 * entry whose block ran out stays as a marker that the sequence is cached, so that the threads
 * that miss it next take one new block between them (under refill_lock) rather than one each,
 * which would skip a block's values at every crash for each thread.
 */
enum cache_result {
	CACHE_TAKEN,   /* *grant holds the next value */
	CACHE_UNKNOWN, /* no block, nor sign that the sequence is cached: ask the store */
	CACHE_EMPTY,   /* a cached sequence whose block ran out: refill it once for all threads */
};

static struct store *cache_holder(struct store *st)
{
	return st->owner ? st->owner : st;
}

static int cache_entry_is(const struct store_cache_entry *e, const char *name, size_t len)
{
	return e->len == len && memcmp(e->name, name, len) == 0;
}

/* The entry of `name` to take from: its lowest block with values left (threads that missed at
 * once may each have brought one back), else a marker of a block that ran out. */
static struct store_cache_entry *cache_find(struct store *st, const char *name, size_t len)
{
	struct store_cache_entry *found = NULL;

	for (int i = 0; i < STORE_CACHE_SLOTS; i++) {
		struct store_cache_entry *e = &st->cache[i];

		if (!cache_entry_is(e, name, len))
			continue;
		if (!found || (found->empty && !e->empty) ||
		    (!e->empty && (e->increment > 0 ? e->next < found->next : e->next > found->next)))
			found = e;
	}
	return found;
}

static enum cache_result cache_take_locked(struct store *st, const char *name, size_t len,
                                           uint8_t type, struct store_grant *grant)
{
	struct store_cache_entry *e = cache_find(st, name, len);

	if (!e)
		return CACHE_UNKNOWN;
	if (monotonic_ms() - e->taken_ms > STORE_CACHE_TTL_MS ||
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
	struct store *holder = cache_holder(st);
	enum cache_result r;

	pthread_mutex_lock(&holder->cache_lock);
	r = cache_take_locked(holder, name, len, type, grant);
	pthread_mutex_unlock(&holder->cache_lock);
	return r;
}

/* Keep the rest of a block (all but its first value) for the next requests: in the marker its
 * predecessor left, or a slot of its own, even beside another block of the same name (dropping
 * either would skip its values for nothing). A full table loses its oldest block. */
static void cache_keep_locked(struct store *st, const char *name, size_t len,
                              const struct store_grant *grant)
{
	struct store_cache_entry *e = NULL, *free_slot = NULL, *oldest = &st->cache[0];

	for (int i = 0; i < STORE_CACHE_SLOTS; i++) {
		struct store_cache_entry *c = &st->cache[i];

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
	e->taken_ms = monotonic_ms();
}

/* After a store answer for `name`: keep the block it granted, or forget that it was cached. */
static void cache_update(struct store *st, const char *name, size_t len,
                         const struct store_grant *grant, int cached)
{
	struct store *holder = cache_holder(st);

	pthread_mutex_lock(&holder->cache_lock);
	if (cached) {
		cache_keep_locked(holder, name, len, grant);
	} else {
		for (int i = 0; i < STORE_CACHE_SLOTS; i++)
			if (cache_entry_is(&holder->cache[i], name, len))
				holder->cache[i].len = 0;
	}
	pthread_mutex_unlock(&holder->cache_lock);
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
	struct store *holder = cache_holder(st);
	int rc = STORE_OK;

	pthread_mutex_lock(&holder->refill_lock);
	if (cache_take(st, name, len, op->type, op->grant) != CACHE_TAKEN) {
		rc = next_from_store(st, name, len, op);
		if (rc != STORE_OK || !op->cached)
			cache_update(st, name, len, op->grant, 0);
	}
	pthread_mutex_unlock(&holder->refill_lock);
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
	struct store *holder = cache_holder(st);
	int rc;

	op->create = NULL;
	rc = next_from_store(st, name, len, op);
	if (rc != STORE_NOT_FOUND)
		return rc;
	op->create = create;
	pthread_mutex_lock(&holder->create_lock);
	rc = next_from_store(st, name, len, op);
	pthread_mutex_unlock(&holder->create_lock);
	return rc;
}

/*
 * Combining. Threads of one process that want values of the same sequence at the same moment
 * share one transaction: the first becomes the leader, takes every request queued behind it,
 * asks the store for all their values at once and splits the grant in queue order, so each
 * still gets consecutive values, in the order the requests arrived. Why: on a hot sequence every
 * transaction passes its record lock to the next (a wake-up, a context switch) and writes its own
 * log records; one transaction for eight requests does that once. Requests that arrive while a
 * leader's transaction runs wait for it and form the next batch; that batch may start as soon
 * as the leader's commit is in the log, before its flush (pipelining: see next_combined). A
 * batch the store refuses as a
 * whole (a sequence that cycles or caches, one that does not exist yet, a bound too close for
 * all of it) sends each of its requests alone, exactly as without combining.
 */
#define COMBINE_ALONE (-1) /* a request's answer: ask the store alone */

/* One request's own transaction(s), creating the sequence when asked to. */
static int next_alone(struct store *st, const char *name, size_t len, struct next_op *op,
                      const struct seq_record *create)
{
	return create ? next_or_create(st, name, len, op, create)
	              : next_from_store(st, name, len, op);
}

static struct combine_slot *combine_slot_for(struct store *h, const char *name, size_t len,
                                             uint8_t type)
{
	struct combine_slot *free_slot = NULL;

	for (int i = 0; i < STORE_COMBINE_SLOTS; i++) {
		struct combine_slot *c = &h->combine[i];

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

/* One transaction for the batch's values, split among its requests. Returns whether its commit
 * left a log flush owed (store_run_deferred). */
static int run_batch(struct store *st, const struct next_op *op, struct combine_req *batch)
{
	struct store_grant all = { 0 };
	struct next_op joint = { op->key, op->type, NULL, 0, &all, 0, 1, 0 };
	uint64_t taken = 0;
	int rc, flush_owed;

	for (struct combine_req *r = batch; r; r = r->next)
		joint.count += r->count;
	rc = store_run_deferred(st, next_body, &joint, &flush_owed);
	for (struct combine_req *r = batch; r; r = r->next) {
		if (rc != STORE_OK) {
			/* Refused, exhausted for the sum, or not there yet: each alone. Other failures
			 * (busy, unavailable, a type mismatch) are every request's answer. */
			r->rc = joint.refused || rc == STORE_EXHAUSTED || rc == STORE_NOT_FOUND
			                ? COMBINE_ALONE : rc;
			r->grant = all;
			continue;
		}
		/* Inside [all.first, all.last] each time; 128 bits for the step there. */
		r->rc = STORE_OK;
		r->grant = all;
		r->grant.first = (int64_t)((__int128)all.first + (__int128)taken * all.increment);
		r->grant.last = (int64_t)((__int128)r->grant.first +
		                          (__int128)(r->count - 1) * all.increment);
		taken += r->count;
	}
	return flush_owed;
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

static int next_combined(struct store *st, const char *name, size_t len, struct next_op *op,
                         const struct seq_record *create)
{
	struct store *h = cache_holder(st);
	struct combine_req me = { .count = op->count };
	struct combine_slot *slot;
	struct combine_req *batch;
	int alone, flush_owed = 0;

	pthread_mutex_lock(&h->combine_lock);
	slot = combine_slot_for(h, name, len, op->type);
	if (!slot) { /* every slot serves another name: go alone */
		pthread_mutex_unlock(&h->combine_lock);
		return COMBINE_ALONE;
	}
	if (slot->tail)
		slot->tail->next = &me;
	else
		slot->head = &me;
	slot->tail = &me;
	while (!me.done && (me.taken || slot->leading))
		pthread_cond_wait(&h->combine_done, &h->combine_lock);
	if (me.done) {
		pthread_mutex_unlock(&h->combine_lock);
		*op->grant = me.grant;
		return me.rc;
	}
	batch = slot->head; /* lead: this request and every one queued with it */
	alone = batch->next == NULL; /* then batch is &me */
	for (struct combine_req *r = batch; r; r = r->next)
		r->taken = 1;
	slot->head = slot->tail = NULL;
	slot->leading = 1;
	pthread_mutex_unlock(&h->combine_lock);

	/* Alone in its batch, a request needs no split: its own transaction, the plain way, while
	 * it still leads (those arriving now queue for the next batch). */
	if (alone)
		me.rc = next_alone(st, name, len, op, create);
	else
		flush_owed = run_batch(st, op, batch);

	/* A batch's commit has released the record: the next batch may take its values while this
	 * one waits for the disk, and the two flushes overlap or merge (group commit) instead of
	 * following each other. Its requests are answered only once the flush is done. */
	pthread_mutex_lock(&h->combine_lock);
	slot->leading = 0;
	if (!slot->head)
		slot->len = 0;
	pthread_cond_broadcast(&h->combine_done);
	pthread_mutex_unlock(&h->combine_lock);
	if (!alone)
		finish_batch(st, batch, flush_owed);

	pthread_mutex_lock(&h->combine_lock);
	for (struct combine_req *r = batch; r; r = r->next)
		r->done = 1;
	pthread_cond_broadcast(&h->combine_done);
	pthread_mutex_unlock(&h->combine_lock); /* the batch's other requests may be gone now */
	if (!alone)
		*op->grant = me.grant;
	return me.rc;
}

int store_next(struct store *st, const char *name, size_t len, uint8_t type,
               const struct seq_record *create, uint64_t count, struct store_grant *grant)
{
	struct next_op op = { store_name_key(name, len), type, create, count, grant, 0, 0, 0 };
	int rc;

	if (store_name_invalid(name, len))
		return STORE_INVALID;
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
	rc = next_combined(st, name, len, &op, create);
	return rc != COMBINE_ALONE ? rc : next_alone(st, name, len, &op, create);
}

struct record_op {
	DBT key;
	struct seq_record *rec;
};

static int get_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct record_op *op = arg;

	return store_read_record(st, a, &op->key, 0, op->rec);
}

int store_get(struct store *st, const char *name, size_t len, struct seq_record *out)
{
	struct record_op op = { .key = store_name_key(name, len), .rec = out };

	if (store_name_invalid(name, len))
		return STORE_INVALID;
	return store_run_txn(st, RUN_READ, get_body, &op);
}

static int create_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct record_op *op = arg;
	int rc = store_write_record(st, a, &op->key, op->rec, DB_NOOVERWRITE);

	return rc == STORE_OK ? store_index_add(st, a, &op->key) : rc;
}

int store_create(struct store *st, const char *name, size_t len, const struct seq_record *rec)
{
	struct seq_record copy = *rec;
	struct record_op op = { .key = store_name_key(name, len), .rec = &copy };

	if (store_name_invalid(name, len) || record_check(&copy) != RECORD_OK)
		return STORE_INVALID;
	copy.created = (uint64_t)time(NULL);
	return store_run_txn(st, RUN_DURABLE, create_body, &op);
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

struct configure_op {
	DBT key;
	const struct record_change *ch;
	int mode;
	struct seq_record rec;
	int created;
	const char *why;
};

static int configure_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct configure_op *op = arg;
	int rc = store_read_record(st, a, &op->key, DB_RMW, &op->rec);

	if (rc != STORE_OK && rc != STORE_NOT_FOUND)
		return rc;
	op->created = rc == STORE_NOT_FOUND;
	if (op->created && op->mode == STORE_CHANGE_ONLY)
		return STORE_NOT_FOUND;
	if (!op->created && op->mode == STORE_CREATE_ONLY)
		return STORE_EXISTS;
	if (record_apply(&op->rec, op->ch, !op->created, (uint64_t)time(NULL), &op->why) !=
	    RECORD_OK)
		return STORE_INVALID;
	rc = store_write_record(st, a, &op->key, &op->rec, 0);
	return rc == STORE_OK && op->created ? store_index_add(st, a, &op->key) : rc;
}

int store_configure(struct store *st, const char *name, size_t len,
                    const struct record_change *ch, int mode, struct seq_record *out,
                    int *created, const char **why)
{
	struct configure_op op = { .key = store_name_key(name, len), .ch = ch, .mode = mode };
	int rc;

	*why = "The name is not valid.";
	if (store_name_invalid(name, len))
		return STORE_INVALID;
	rc = store_run_txn(st, RUN_DURABLE, configure_body, &op);
	*why = op.why ? op.why : "";
	if (rc == STORE_OK && out)
		*out = op.rec;
	if (rc == STORE_OK && created)
		*created = op.created;
	return rc;
}

int store_set_next(struct store *st, const char *name, size_t len, int64_t next)
{
	struct record_change ch = { .fields = RECORD_CHANGE_START, .start = next };
	const char *why;

	return store_configure(st, name, len, &ch, STORE_CHANGE_ONLY, NULL, NULL, &why);
}

static int delete_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct record_op *op = arg;

	return store_remove_record(st, a, &op->key);
}

int store_delete(struct store *st, const char *name, size_t len)
{
	struct record_op op = { .key = store_name_key(name, len) };

	if (store_name_invalid(name, len))
		return STORE_INVALID;
	return store_run_txn(st, RUN_DURABLE, delete_body, &op);
}

struct import_op {
	const struct store_item *items;
	size_t n, bad;
	int force;
	const char *why;
};

/* Where a counter stands: the next value it would issue, or one step past its last. */
static __int128 counter_position(const struct seq_record *rec)
{
	__extension__ __int128 pos = rec->next;

	return (rec->flags & RECORD_FLAG_EXHAUSTED) ? pos + rec->increment : pos;
}

/* Would replacing old by new issue a number of old's again? */
static const char *import_refusal(const struct seq_record *old, const struct seq_record *new)
{
	int old_counts = record_type_max(old->type) != 0;

	if (!old_counts)
		return NULL;
	if (record_type_max(new->type) == 0 || (old->increment > 0) != (new->increment > 0))
		return "it would turn an existing counter into another kind; use --force.";
	if (old->increment > 0 ? counter_position(new) < counter_position(old)
	                       : counter_position(new) > counter_position(old))
		return "it would move an existing counter backwards; use --force.";
	return NULL;
}

static int import_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct import_op *op = arg;

	for (size_t i = 0; i < op->n; i++) {
		const struct store_item *it = &op->items[i];
		DBT key = store_name_key(it->name, it->len);
		struct seq_record old, rec = it->rec;
		int rc = store_read_record(st, a, &key, DB_RMW, &old);

		op->bad = i;
		if (rc != STORE_OK && rc != STORE_NOT_FOUND)
			return rc;
		if (rc == STORE_OK && !op->force && (op->why = import_refusal(&old, &rec)) != NULL)
			return STORE_INVALID;
		if (rc == STORE_NOT_FOUND) {
			rc = store_index_add(st, a, &key);
			if (rc != STORE_OK)
				return rc;
		}
		if ((rc = store_write_record(st, a, &key, &rec, 0)) != STORE_OK) {
			op->why = "the record is not valid.";
			return rc;
		}
	}
	return STORE_OK;
}

int store_import(struct store *st, const struct store_item *items, size_t n, int force,
                 size_t *bad, const char **why)
{
	struct import_op op = { .items = items, .n = n, .force = force };
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (store_name_invalid(items[i].name, items[i].len) ||
		    record_check(&items[i].rec) != RECORD_OK) {
			*bad = i;
			*why = "the name or the record is not valid.";
			return STORE_INVALID;
		}
	}
	rc = store_run_txn(st, RUN_DURABLE, import_body, &op);
	*bad = op.bad;
	*why = op.why ? op.why : "";
	return rc;
}

static int count_body(struct store *st, struct txn_attempt *a, void *arg)
{
	size_t *counts = arg;
	DBC *cursor = NULL;
	DBT key = { .flags = DB_DBT_REALLOC }, val = { .flags = DB_DBT_REALLOC };
	struct seq_record rec;
	int err;

	counts[0] = counts[1] = 0;
	err = st->sequences->cursor(st->sequences, a->txn, &cursor, DB_READ_COMMITTED);
	while (err == 0 && (err = cursor->get(cursor, &key, &val, DB_NEXT)) == 0) {
		counts[0]++;
		counts[1] += record_decode(val.data, val.size, &rec) != RECORD_OK;
	}
	if (cursor)
		cursor->close(cursor);
	free(key.data);
	free(val.data);
	return STORE_DB_ERROR(st, a, err == DB_NOTFOUND ? 0 : err, "count");
}

int store_count(struct store *st, size_t *total, size_t *corrupt)
{
	size_t counts[2] = { 0, 0 };
	int rc = store_run_txn(st, RUN_READ, count_body, counts);

	*total = counts[0];
	*corrupt = counts[1];
	return rc;
}

/*
 * Listing walks the names index (a btree: name order, and a cursor can start anywhere) a chunk
 * per transaction, so a page of a listing costs its own size, not the store's, and no transaction
 * holds more than a chunk's read locks. Callbacks run between transactions: a retried
 * transaction never calls one twice.
 */
#define LIST_CHUNK 1000

struct list_entry {
	char name[STORE_NAME_MAX];
	size_t len;
	struct seq_record rec;
};

struct list_chunk_op {
	char after[STORE_NAME_MAX]; /* the chunk starts after this name ... */
	size_t after_len;           /* ... or at the first name when 0 */
	size_t want, count;
	struct list_entry entries[LIST_CHUNK];
};

static int list_chunk_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct list_chunk_op *op = arg;
	char name[STORE_NAME_MAX];
	unsigned char none[1];
	DBT key = { .data = name, .ulen = sizeof(name), .flags = DB_DBT_USERMEM };
	DBT val = { .data = none, .ulen = sizeof(none), .flags = DB_DBT_USERMEM };
	DBC *cursor = NULL;
	u_int32_t step = DB_FIRST;
	int err, rc = STORE_OK;

	op->count = 0;
	if (op->after_len) {
		memcpy(name, op->after, op->after_len);
		key.size = (u_int32_t)op->after_len;
		step = DB_SET_RANGE; /* the first name >= after */
	}
	err = st->names->cursor(st->names, a->txn, &cursor, DB_READ_COMMITTED);
	while (err == 0 && op->count < op->want && (err = cursor->get(cursor, &key, &val, step)) == 0) {
		struct list_entry *e = &op->entries[op->count];
		DBT seq_key = store_name_key(name, key.size);

		step = DB_NEXT;
		if (op->after_len && key.size == op->after_len && !memcmp(name, op->after, key.size))
			continue; /* strictly after */
		rc = store_read_record(st, a, &seq_key, 0, &e->rec);
		if (rc == STORE_NOT_FOUND) { /* deleted between the two reads */
			rc = STORE_OK;
			continue;
		}
		if (rc != STORE_OK)
			break;
		memcpy(e->name, name, key.size);
		e->len = key.size;
		op->count++;
	}
	if (cursor)
		cursor->close(cursor);
	if (rc == STORE_OK && err != 0 && err != DB_NOTFOUND)
		rc = STORE_DB_ERROR(st, a, err, "list");
	return rc;
}

/* A change applied to every record: returns 1 when it changed rec. */
typedef int record_change_fn(struct seq_record *rec, const void *arg);

struct change_chunk_op {
	const struct list_entry *entries;
	size_t n, moved;
	record_change_fn *change;
	const void *arg;
};

static int change_chunk_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct change_chunk_op *op = arg;

	op->moved = 0;
	for (size_t i = 0; i < op->n; i++) {
		DBT key = store_name_key(op->entries[i].name, op->entries[i].len);
		struct seq_record rec;
		int rc = store_read_record(st, a, &key, DB_RMW, &rec);

		if (rc == STORE_NOT_FOUND)
			continue;
		if (rc != STORE_OK)
			return rc;
		if (!op->change(&rec, op->arg))
			continue;
		if ((rc = store_write_record(st, a, &key, &rec, 0)) != STORE_OK)
			return rc;
		op->moved++;
	}
	return STORE_OK;
}

/* Apply change to every record, a chunk of names per synced transaction (so that no transaction
 * holds more than a chunk's locks); *moved counts the records it changed. */
static int change_every_record(struct store *st, record_change_fn *change, const void *arg,
                               size_t *moved)
{
	struct list_chunk_op *names = malloc(sizeof(*names));
	int rc = names ? STORE_OK : STORE_UNAVAILABLE;

	*moved = 0;
	if (names)
		names->after_len = 0;
	while (rc == STORE_OK) {
		struct change_chunk_op op = { .entries = names->entries, .change = change, .arg = arg };

		names->want = LIST_CHUNK;
		rc = store_run_txn(st, RUN_READ, list_chunk_body, names);
		if (rc != STORE_OK || names->count == 0)
			break;
		op.n = names->count;
		rc = store_run_txn(st, RUN_SYNC, change_chunk_body, &op);
		*moved += rc == STORE_OK ? op.moved : 0;
		if (names->count < LIST_CHUNK)
			break;
		names->after_len = names->entries[names->count - 1].len;
		memcpy(names->after, names->entries[names->count - 1].name, names->after_len);
	}
	free(names);
	return rc;
}

static int skip_reservation(struct seq_record *rec, const void *arg)
{
	(void)arg;
	return record_skip_reservation(rec);
}

int store_skip_reservations(struct store *st, size_t *moved)
{
	return change_every_record(st, skip_reservation, NULL, moved);
}

static int skip_steps(struct seq_record *rec, const void *arg)
{
	return record_skip(rec, *(const uint64_t *)arg);
}

int store_advance_all(struct store *st, uint64_t steps, size_t *moved)
{
	if (steps == 0 || steps > INT64_MAX) {
		*moved = 0;
		return STORE_INVALID;
	}
	return change_every_record(st, skip_steps, &steps, moved);
}

int store_list(struct store *st, const char *after, size_t after_len, size_t limit,
               store_list_fn *fn, void *ctx)
{
	struct list_chunk_op *op = malloc(sizeof(*op));
	size_t remaining = limit ? limit : SIZE_MAX;
	int rc = STORE_OK, stop = 0;

	if (!op)
		return STORE_UNAVAILABLE;
	op->after_len = after && after_len <= STORE_NAME_MAX ? after_len : 0;
	if (op->after_len)
		memcpy(op->after, after, op->after_len);
	while (!stop && remaining > 0) {
		op->want = remaining < LIST_CHUNK ? remaining : LIST_CHUNK;
		rc = store_run_txn(st, RUN_READ, list_chunk_body, op);
		if (rc != STORE_OK)
			break;
		for (size_t i = 0; i < op->count && !stop; i++)
			stop = fn(ctx, op->entries[i].name, op->entries[i].len, &op->entries[i].rec);
		remaining -= op->count;
		if (op->count < op->want)
			break;
		op->after_len = op->entries[op->count - 1].len;
		memcpy(op->after, op->entries[op->count - 1].name, op->after_len);
	}
	free(op);
	return rc;
}

struct delete_chunk_op {
	const struct list_entry *entries;
	size_t n;
	size_t deleted;
};

static int delete_chunk_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct delete_chunk_op *op = arg;

	op->deleted = 0;
	for (size_t i = 0; i < op->n; i++) {
		DBT key = store_name_key(op->entries[i].name, op->entries[i].len);
		int rc = store_remove_record(st, a, &key);

		if (rc == STORE_OK)
			op->deleted++;
		else if (rc != STORE_NOT_FOUND) /* gone already: another admin was quicker */
			return rc;
	}
	return STORE_OK;
}

/* A chunk of names, then deletes by key, until none is left. A reset needs no atomicity: each
 * deleted sequence is simply gone, and the lock table has a fixed size. */
int store_delete_all(struct store *st, size_t *count)
{
	struct list_chunk_op *names = malloc(sizeof(*names));
	size_t total = 0;
	int rc = names ? STORE_OK : STORE_UNAVAILABLE;

	while (rc == STORE_OK) {
		struct delete_chunk_op op = { .entries = names->entries };

		names->after_len = 0;
		names->want = LIST_CHUNK;
		rc = store_run_txn(st, RUN_READ, list_chunk_body, names);
		if (rc != STORE_OK || names->count == 0)
			break;
		op.n = names->count;
		rc = store_run_txn(st, RUN_DURABLE, delete_chunk_body, &op);
		total += rc == STORE_OK ? op.deleted : 0;
	}
	free(names);
	if (count)
		*count = total;
	return rc;
}

/* The mark is two records of 8 big-endian bytes: the time (the key an older nextid reads, counted
 * from its configured epoch) and, beside it, the epoch it is counted from. */
static const char mark_key[] = "generator.mark_ms";
static const char mark_epoch_key[] = "generator.epoch_ms";

/* One 8-byte record of meta into *v; *found = 0 when absent. */
static int read_meta_i64(struct store *st, struct txn_attempt *a, u_int32_t flags, const char *name,
                         int64_t *v, int *found)
{
	unsigned char buf[8];
	DBT key = { .data = (void *)name, .size = (u_int32_t)strlen(name) };
	DBT val = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int err = st->meta->get(st->meta, a->txn, &key, &val, flags);
	uint64_t u = 0;

	*v = 0;
	*found = 0;
	if (err == DB_NOTFOUND)
		return STORE_OK;
	if (err != 0)
		return STORE_DB_ERROR(st, a, err, "read the generator mark");
	if (val.size != sizeof(buf)) {
		STORE_LOG(&st->opt, LOG_ERROR, "the generator record %s has %u bytes, not 8",
		          name, val.size);
		return STORE_UNAVAILABLE;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		u = u << 8 | buf[i];
	*v = (int64_t)u;
	*found = 1;
	return STORE_OK;
}

static int write_meta_i64(struct store *st, struct txn_attempt *a, const char *name, int64_t v)
{
	unsigned char buf[8];
	DBT key = { .data = (void *)name, .size = (u_int32_t)strlen(name) };
	DBT val = { .data = buf, .size = sizeof(buf) };
	uint64_t u = (uint64_t)v;

	for (int i = 7; i >= 0; i--, u >>= 8)
		buf[i] = (unsigned char)u;
	return STORE_DB_ERROR(st, a, st->meta->put(st->meta, a->txn, &key, &val, 0), "raise the mark");
}

static int read_mark(struct store *st, struct txn_attempt *a, u_int32_t flags,
                     struct store_mark *out)
{
	int found, rc = read_meta_i64(st, a, flags, mark_key, &out->ms, &found);

	if (rc == STORE_OK)
		rc = read_meta_i64(st, a, flags, mark_epoch_key, &out->epoch_ms, &found);
	if (rc == STORE_OK && !found)
		out->epoch_ms = STORE_MARK_NO_EPOCH;
	return rc;
}

static int mark_get_body(struct store *st, struct txn_attempt *a, void *arg)
{
	return read_mark(st, a, 0, arg);
}

int store_mark_get(struct store *st, struct store_mark *out)
{
	return store_run_txn(st, RUN_READ, mark_get_body, out);
}

static int mark_raise_body(struct store *st, struct txn_attempt *a, void *arg)
{
	const struct store_mark *want = arg;
	struct store_mark have;
	int64_t reach;
	int rc = read_mark(st, a, DB_RMW, &have);

	if (rc != STORE_OK)
		return rc;
	if (have.ms != 0 && have.epoch_ms == want->epoch_ms && have.ms >= want->ms)
		return STORE_OK; /* the common case: already covered, nothing to write */
	if (have.epoch_ms == STORE_MARK_NO_EPOCH)
		have.epoch_ms = want->epoch_ms; /* what the nextid that wrote it counted from */
	/* Ids differ by their distance from the epoch: keep the larger, counted from want's. */
	reach = want->ms - want->epoch_ms;
	if (have.ms != 0 && have.ms - have.epoch_ms > reach)
		reach = have.ms - have.epoch_ms;
	rc = write_meta_i64(st, a, mark_key, want->epoch_ms + reach);
	if (rc == STORE_OK)
		rc = write_meta_i64(st, a, mark_epoch_key, want->epoch_ms);
	return rc;
}

int store_mark_raise(struct store *st, int64_t ms, int64_t epoch_ms)
{
	struct store_mark want = { .ms = ms, .epoch_ms = epoch_ms };

	return store_run_txn(st, RUN_SYNC, mark_raise_body, &want);
}

static int ping_body(struct store *st, struct txn_attempt *a, void *arg)
{
	static const char schema_key[] = "schema";
	DBT key = { .data = (void *)schema_key, .size = sizeof(schema_key) - 1 };
	uint32_t version;
	DBT val = { .data = &version, .ulen = sizeof(version), .flags = DB_DBT_USERMEM };

	(void)arg;
	return STORE_DB_ERROR(st, a, st->meta->get(st->meta, a->txn, &key, &val, 0), "ping");
}

int store_ping(struct store *st)
{
	int rc = store_run_txn(st, RUN_READ, ping_body, NULL);

	return rc == STORE_NOT_FOUND ? STORE_UNAVAILABLE : rc;
}
