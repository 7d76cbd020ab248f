/*
 * store_txn: how every store operation runs, and the one place that decides when its changes are
 * safe to answer. An operation is a body run by store_run_txn(): begin, the body, commit (or
 * abort), and a bounded retry when Berkeley DB picks the attempt as a deadlock victim. What an
 * attempt tells the runner (run me again; commit me synced) travels in its struct txn_attempt,
 * never on the handle, so txn_commit() below is the whole commit policy: a replication
 * acknowledgement would be awaited there. Bodies read a record with a write lock (DB_RMW) when
 * they will change it, so two workers never both read and then both try to upgrade.
 *
 * Also here, shared by every body: Berkeley DB errors mapped to store results, the store's
 * logging, and reading, writing and indexing a record (record.c has its bytes).
 */
#include "store_int.h"
#include "clock.h"
#include "name.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define STORE_DEADLOCK_RETRIES 10

/* The calling thread's deadline (store_call_deadline), 0 for none. */
static _Thread_local int64_t call_deadline_ms;

static const char *const rc_names[STORE_RC_COUNT] = {
	[STORE_OK] = "ok",
	[STORE_NOT_FOUND] = "not found",
	[STORE_EXISTS] = "already exists",
	[STORE_EXHAUSTED] = "exhausted",
	[STORE_TYPE_MISMATCH] = "type mismatch",
	[STORE_INVALID] = "invalid value",
	[STORE_BUSY] = "busy",
	[STORE_UNAVAILABLE] = "unavailable",
	[STORE_PREFIX] = "a formatted prefix",
	[STORE_FULL] = "storage full: the disk that holds the store has no room",
	[STORE_LIMIT] = "too many sequences: max_sequences in nextid.conf is reached",
	[STORE_NO_MASTER] = "no master: this node is a replica, or an election is under way",
	[STORE_NOT_REPLICATED] = "not replicated: the other members did not acknowledge in time",
};

const char *store_rc_name(int rc)
{
	if (rc < 0 || rc >= STORE_RC_COUNT)
		return "unknown";
	return rc_names[rc];
}

void store_logf(const struct store_options *opt, int level, const char *file, int line,
                const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!opt->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	opt->log(opt->log_ctx, level, file, line, msg);
}

/*
 * Berkeley DB can say the same thing thousands of times a second: every page a checkpoint cannot
 * write to a full disk, every refused commit. Each process logs at most LOG_BURST such messages
 * per LOG_WINDOW_MS, then one line saying how many it left out. Approximate across threads.
 */
#define LOG_BURST 20
#define LOG_WINDOW_MS 10000

static _Atomic int64_t log_window_start_ms;
static _Atomic unsigned log_in_window, log_dropped;

/* May a repetitive message be logged now? */
int store_log_quota(const struct store_options *opt)
{
	int64_t now = clock_monotonic_ms(), start = atomic_load(&log_window_start_ms);

	if (now - start >= LOG_WINDOW_MS &&
	    atomic_compare_exchange_strong(&log_window_start_ms, &start, now)) {
		unsigned dropped = atomic_exchange(&log_dropped, 0);

		atomic_store(&log_in_window, 0);
		if (dropped)
			STORE_LOG(opt, LOG_WARN,
			          "%u more messages like the above in %d s were left out", dropped,
			          LOG_WINDOW_MS / 1000);
	}
	if (atomic_fetch_add(&log_in_window, 1) < LOG_BURST)
		return 1;
	atomic_fetch_add(&log_dropped, 1);
	return 0;
}

int store_from_db_error(struct store *st, struct txn_attempt *a, int err, const char *what,
                        const char *file, int line)
{
	switch (err) {
	case 0:
		return STORE_OK;
	case DB_NOTFOUND:
		return STORE_NOT_FOUND;
	case DB_KEYEXIST:
		return STORE_EXISTS;
	case DB_LOCK_DEADLOCK:
		/* The attempt is run again; only running out of retries is worth a warning. */
		if (a)
			a->retry = 1;
		return STORE_BUSY;
	case DB_LOCK_NOTGRANTED:
		if (!store_replicated(&st->opt)) {
			store_logf(&st->opt, LOG_WARN, file, line, "%s: lock wait timed out", what);
			return STORE_BUSY;
		}
		/* Replicated, a record's lock is held through its commit's wait for the
		 * acknowledgements (up to the ack timeout, longer than lock_timeout_ms), and the
		 * processes of the master queue for it: a wait that times out queued behind a slow
		 * round of acknowledgements (measured: 13 503s in one 5 s run of make bench; the
		 * cause of the slow rounds is not known), or behind acknowledgements that are not
		 * coming (a member died or was stopped, an election), which is what "Not replicated"
		 * says.
		 * Nothing was taken. A call with a deadline waits again while it has the time for a
		 * whole commit (commit_would_overrun); one without answers at once. */
		if (a && call_deadline_ms)
			a->retry = 1;
		else
			store_logf(&st->opt, LOG_WARN, file, line, "%s: lock wait timed out", what);
		return STORE_NOT_REPLICATED;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		/* Berkeley DB turns a commit whose log write failed into an abort: nothing changed. */
		if (store_log_quota(&st->opt))
			store_logf(&st->opt, LOG_WARN, file, line, "%s: %s", what,
			           db_strerror(err));
		if (st->opt.stats)
			atomic_fetch_add_explicit(&st->opt.stats->space_errors, 1,
			                          memory_order_relaxed);
		return STORE_FULL;
	case EACCES: /* a write on a replica: "attempt to modify a read-only database" */
	case DB_REP_LOCKOUT:
	case DB_REP_UNAVAIL:
		if (store_replicated(&st->opt))
			return STORE_NO_MASTER;
		break;
	case DB_REP_HANDLE_DEAD:
		(st->owner ? st->owner : st)->handle_dead = 1;
		return STORE_NO_MASTER;
	case DB_RUNRECOVERY:
		st->panicked = 1;
		__attribute__((fallthrough));
	default:
		break;
	}
	store_logf(&st->opt, LOG_ERROR, file, line, "%s: %s", what, db_strerror(err));
	return STORE_UNAVAILABLE;
}

/* A deadlock victim waits a little, at random, so the two sides do not collide again. */
static void backoff(struct store *st, int attempt)
{
	unsigned cap = 1u << (attempt < 5 ? attempt : 5);

	clock_sleep_ms((unsigned)rand_r(&st->backoff_seed) % (cap + 1));
}

/*
 * The commit policy. Commit without waiting for the disk, so the record lock is released at once;
 * then, under durability sync, flush the log up to here before the caller answers. Concurrent
 * workers share those flushes (group commit) instead of queueing behind the lock through every
 * fsync: each commit's own flush covers every earlier record. A client must never hold a value
 * that recovery can undo, unless a reservation on disk covers it: DB_TXN_NOSYNC leaves the commit
 * in shared memory, which recovery discards.
 *
 * A commit that moves a reservation (durability reserve: a->sync) is synchronous instead, holding
 * the record's lock until it is on disk: released earlier, another worker could hand out a value
 * the reservation covers, without a flush of its own, before the reservation reached the disk,
 * and a power cut then would issue that value again (found by tests/powercut). A commit that
 * stays within the reservation does not even write its log records to the file (DB_TXN_NOSYNC:
 * they wait in the log buffer for the next flush): a crash that loses them is an unclean stop,
 * after which every counter resumes past its reservation, which is on disk. Measured on one hot
 * sequence: the write per commit, under the log's mutex, cost about 7% of the throughput.
 *
 * RUN_DURABLE_DEFERRED commits as RUN_DURABLE but leaves the flush it owes to the caller
 * (*flush_owed), who answers only once store_log_flush() has paid it. A replica's acknowledgement,
 * when there is one, belongs here too: after the flush, before any caller may answer.
 */
static int txn_commit(struct store *st, struct txn_attempt *a, enum txn_kind kind,
                      int *flush_owed)
{
	int durable = kind == RUN_DURABLE || kind == RUN_DURABLE_DEFERRED;
	int reserving = a->sync && st->opt.durability == STORE_DURABILITY_RESERVE;
	int flush = !reserving && (kind == RUN_SYNC || a->sync ||
	                           (durable && st->opt.durability == STORE_DURABILITY_SYNC));
	int within_reservation = durable && !reserving &&
	                         st->opt.durability == STORE_DURABILITY_RESERVE;
	int err;

	store_repl_nodelay(st, 0);
	store_repl_commit_begin();
	err = a->txn->commit(a->txn, kind == RUN_READ     ? 0
	                                 : reserving          ? DB_TXN_SYNC
	                                 : within_reservation ? DB_TXN_NOSYNC
	                                                      : DB_TXN_WRITE_NOSYNC);

	if (err == 0 && flush && kind == RUN_DURABLE_DEFERRED && flush_owed)
		*flush_owed = 1;
	else if (err == 0 && flush)
		err = st->env->log_flush(st->env, NULL);
	if (err == 0 && kind != RUN_READ && store_repl_commit_failed()) {
		/* Committed here, but not on enough members: a failover may elect one without it,
		 * which would hand out the same values again. Nothing it took may leave. */
		if (store_log_quota(&st->opt))
			STORE_LOG(&st->opt, LOG_WARN, "commit not acknowledged by the group in time");
		return STORE_NOT_REPLICATED;
	}
	return STORE_DB_ERROR(st, a, err, "commit");
}

int store_log_flush(struct store *st)
{
	return STORE_DB_ERROR(st, NULL, st->env->log_flush(st->env, NULL), "log flush");
}

#define LOCKOUT_STEP_MS 20

void store_call_deadline(int64_t deadline_ms)
{
	call_deadline_ms = deadline_ms;
}

int64_t store_call_deadline_ms(void)
{
	return call_deadline_ms;
}

int64_t store_call_time_left_ms(void)
{
	return call_deadline_ms ? call_deadline_ms - clock_monotonic_ms() : INT64_MAX;
}

/* Replicated, a commit may wait up to the ack timeout, after lock waits of up to lock_timeout_ms:
 * one started with less time left than that before the caller's deadline is not started. */
static int commit_would_overrun(const struct store *st, enum txn_kind kind)
{
	return kind != RUN_READ && store_replicated(&st->opt) &&
	       store_call_time_left_ms() <
	               (int64_t)st->opt.repl.ack_timeout_ms + (int64_t)st->opt.lock_timeout_ms;
}

/* Begin an attempt's transaction, with the lock timeout the options ask for. */
static int txn_begin(struct store *st, struct txn_attempt *a, enum txn_kind kind,
                     int *lockout_left_ms)
{
	int err;

	/* A replica syncing with a new master locks transactions out for a moment (DB_REP_LOCKOUT,
	 * store_repl.c): wait for it in short steps, within what the whole run may wait for
	 * lockouts (its attempts share it), then answer "No master". */
	while ((err = st->env->txn_begin(st->env, NULL, &a->txn,
	                                 kind == RUN_READ ? DB_READ_COMMITTED : 0)) ==
	               DB_REP_LOCKOUT &&
	       *lockout_left_ms > 0 && store_call_time_left_ms() > LOCKOUT_STEP_MS) {
		clock_sleep_ms(LOCKOUT_STEP_MS);
		*lockout_left_ms -= LOCKOUT_STEP_MS;
	}
	if (err == 0)
		err = a->txn->set_timeout(a->txn, (db_timeout_t)st->opt.lock_timeout_ms * 1000,
		                          DB_SET_LOCK_TIMEOUT);
	if (err != 0 && a->txn)
		a->txn->abort(a->txn);
	return STORE_DB_ERROR(st, NULL, err, "txn_begin");
}

static int run_txn(struct store *st, enum txn_kind kind, txn_body_fn *body, void *arg,
                   int *flush_owed)
{
	int rc = STORE_BUSY, lockout_left_ms = store_repl_lockout_wait_ms(st);

	/* What a guest (nextidctl) reports done must be on disk before it says so, whatever the
	 * durability: under reserve, a commit within a reservation would otherwise wait in the log
	 * buffer for one of the service's flushes, and a crash before it loses the change (a set
	 * --next, after which the counter resumed behind the value set). Nor does a guest's close
	 * flush the log: it leaves the clean mark to the service (store_close). */
	if ((kind == RUN_DURABLE || kind == RUN_DURABLE_DEFERRED) && st->opt.guest)
		kind = RUN_SYNC;

	for (int attempt = 0; attempt < STORE_DEADLOCK_RETRIES; attempt++) {
		struct txn_attempt a = { 0 };

		if (commit_would_overrun(st, kind))
			return STORE_NOT_REPLICATED;
		if (st->opt.stats)
			atomic_fetch_add_explicit(&st->opt.stats->transactions, 1, memory_order_relaxed);
		if ((rc = txn_begin(st, &a, kind, &lockout_left_ms)) != STORE_OK)
			return rc;
		rc = body(st, &a, arg);
		if (rc == STORE_OK) /* a failed commit has ended the txn too */
			rc = txn_commit(st, &a, kind, flush_owed);
		else
			a.txn->abort(a.txn);
		if (!a.retry)
			return rc;
		/* A read starts no commit (commit_would_overrun passes it): a lock wait again only
		 * if it fits before the deadline. */
		if (kind == RUN_READ && rc == STORE_NOT_REPLICATED &&
		    store_call_time_left_ms() < (int64_t)st->opt.lock_timeout_ms)
			return rc;
		if (st->opt.stats && rc == STORE_BUSY)
			atomic_fetch_add_explicit(&st->opt.stats->deadlock_retries, 1,
			                          memory_order_relaxed);
		backoff(st, attempt);
	}
	STORE_LOG(&st->opt, LOG_WARN, "%s after %d tries",
	          rc == STORE_BUSY ? "still deadlocked" : "lock waits still timing out",
	          STORE_DEADLOCK_RETRIES);
	return rc;
}

int store_run_txn(struct store *st, enum txn_kind kind, txn_body_fn *body, void *arg)
{
	return run_txn(st, kind, body, arg, NULL);
}

int store_run_deferred(struct store *st, txn_body_fn *body, void *arg, int *flush_owed)
{
	*flush_owed = 0;
	return run_txn(st, RUN_DURABLE_DEFERRED, body, arg, flush_owed);
}

void store_reserve(struct store *st, struct txn_attempt *a, struct seq_record *rec,
                   int64_t last)
{
	if (st->opt.durability != STORE_DURABILITY_RESERVE)
		rec->reserved = 0; /* nothing to resume past: every commit is as durable as it gets */
	else if (record_reserve(rec, last, st->opt.reserve_size))
		a->sync = 1;
}

DBT store_name_key(const char *name, size_t len)
{
	return (DBT){ .data = (void *)name, .size = (u_int32_t)len };
}

/* Every entry point checks the name itself: nextidctl and future importers reach the store
 * without passing through the HTTP layer's checks. */
int store_name_invalid(const char *name, size_t len)
{
	const char *why;

	return name_check(name, len, &why) != 0;
}

/* Read and check a record. Returns STORE_OK, NOT_FOUND, BUSY or UNAVAILABLE. */
int store_read_record(struct store *st, struct txn_attempt *a, DBT *key, u_int32_t flags,
                      struct seq_record *rec)
{
	unsigned char buf[RECORD_SIZE];
	DBT val = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int err = st->sequences->get(st->sequences, a->txn, key, &val, flags);
	int rrc;

	if (err == DB_BUFFER_SMALL) {
		STORE_LOG(&st->opt, LOG_ERROR, "sequence '%.*s': record of %u bytes, not %d",
		          (int)key->size, (const char *)key->data, val.size, RECORD_SIZE);
		return STORE_UNAVAILABLE;
	}
	if (err != 0)
		return STORE_DB_ERROR(st, a, err, "read sequence");
	rrc = record_decode(buf, val.size, rec);
	if (rrc != RECORD_OK) {
		STORE_LOG(&st->opt, LOG_ERROR, "sequence '%.*s': corrupt record (code %d)",
		          (int)key->size, (const char *)key->data, rrc);
		return STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

int store_write_record(struct store *st, struct txn_attempt *a, DBT *key,
                       struct seq_record *rec, u_int32_t flags)
{
	unsigned char buf[RECORD_SIZE];
	DBT val = { .data = buf, .size = sizeof(buf) };

	rec->updated = (uint64_t)time(NULL);
	if (record_encode(rec, buf) != RECORD_OK)
		return STORE_INVALID;
	return STORE_DB_ERROR(st, a, st->sequences->put(st->sequences, a->txn, key, &val, flags),
	                      "write sequence");
}

int store_index_add(struct store *st, struct txn_attempt *a, DBT *key)
{
	DBT none = { .data = (void *)"", .size = 0 };
	uint64_t n;
	int rc = store_count_get(st, a, &n);

	if (rc != STORE_OK)
		return rc;
	if (st->opt.max_sequences && n >= st->opt.max_sequences)
		return STORE_LIMIT;
	rc = STORE_DB_ERROR(st, a, st->names->put(st->names, a->txn, key, &none, 0),
	                    "index a name");
	return rc == STORE_OK ? store_count_put(st, a, n + 1) : rc;
}

int store_remove_record(struct store *st, struct txn_attempt *a, DBT *key)
{
	uint64_t n;
	int err = st->sequences->del(st->sequences, a->txn, key, 0), rc;

	if (err != 0)
		return STORE_DB_ERROR(st, a, err, "delete sequence");
	err = st->names->del(st->names, a->txn, key, 0);
	if (err == DB_NOTFOUND)
		return STORE_OK; /* nothing to unindex, nothing counted */
	if (err != 0)
		return STORE_DB_ERROR(st, a, err, "delete sequence");
	rc = store_count_get(st, a, &n);
	return rc == STORE_OK ? store_count_put(st, a, n > 0 ? n - 1 : 0) : rc;
}
