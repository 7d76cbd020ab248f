/*
 * store_int: what the store's files share: the handle, and each file's functions for the others,
 * grouped by the file that defines them. Nothing outside db/store*.c includes this file.
 */
#ifndef NEXTID_STORE_INT_H
#define NEXTID_STORE_INT_H

#ifndef NEXTID_STORE_INTERNAL
#error "store_int.h is the store's own (db/); everything else uses store.h"
#endif

#include "store.h"

#include <db.h>
#include <limits.h>
#include <stdatomic.h>

#define STORE_SEQUENCES_FILE "sequences.db"
#define STORE_META_FILE "meta.db"
#define STORE_NAMES_FILE "names.db"
#define STORE_AUDIT_FILE "audit.db"
/* In a replicated data_dir: this node has been in its group (store_repl_note_member). */
#define STORE_MEMBER_MARK_FILE "group.member"
#define STORE_SCHEMA_VERSION 1
#define STORE_PATH_MAX (PATH_MAX + 32) /* data_dir and one of its files */
#define STORE_FILE_MODE 0660

struct store {
	DB_ENV *env;
	DB *sequences; /* hash: name -> record */
	DB *names;     /* btree: name -> nothing; the order listings walk */
	DB *meta;      /* btree: schema version, clean marker, count, generator mark (store_meta.c) */
	DB *audit;     /* btree: audit.h keys -> entries of formatted prefixes */
	struct store_options opt;
	struct store *owner;   /* a peer's (store_open_peer) base handle; NULL for a base */
	struct store_take *take; /* the take path's state (store_next.c): a base's, shared by peers */
	_Atomic int panicked;  /* Berkeley DB reported a panic (from any thread) or wants recovery */
	_Atomic int handle_dead; /* replicated: the master rolled back under this handle; reopen */
	_Atomic int serving;     /* the replication process: its databases are open, forwarded
	                            requests may run (store_forward.c) */
	_Atomic int64_t role_checked_ms; /* a base's cached replication role (store_forward.c) */
	_Atomic int role_cached;
	int in_failchk;        /* Berkeley DB's complaints now describe dead processes: warnings */
	int env_lock_fd;       /* data_dir/env.lock: shared while open, exclusive for recovery */
	unsigned backoff_seed; /* jitter for deadlock retries; each handle its own */
	int cleared_clean;     /* store_open found the store marked clean and cleared the mark */
};

/* ---- store_txn.c: the runner, the commit policy, errors and logging, record I/O ---- */

enum txn_kind {
	RUN_READ,             /* read committed: a long scan does not hold its read locks to the end */
	RUN_DURABLE,          /* commit, then flush the log as the durability setting asks */
	RUN_DURABLE_DEFERRED, /* as RUN_DURABLE, the flush left to the caller (store_run_deferred) */
	RUN_SYNC,             /* commit, then flush the log whatever the durability setting */
};

/*
 * One attempt at a transaction, handed to its body: the transaction to work in, and what the
 * attempt tells the runner. Nothing about an attempt lives in the store handle.
 */
struct txn_attempt {
	DB_TXN *txn;
	int retry; /* it lost a deadlock (store_from_db_error): abort, back off, run the body again */
	int sync;  /* it moved a reservation (store_reserve): its commit is synced */
};

typedef int txn_body_fn(struct store *st, struct txn_attempt *a, void *arg);

/* Run body in a transaction of the given kind, retrying it when it loses a deadlock. Returns
 * body's result, or the commit's when the body succeeded. */
int store_run_txn(struct store *st, enum txn_kind kind, txn_body_fn *body, void *arg);

/* As store_run_txn(RUN_DURABLE), but a log flush the commit owes is left to the caller: then
 * *flush_owed is 1, and the caller answers only after store_log_flush(). */
int store_run_deferred(struct store *st, txn_body_fn *body, void *arg, int *flush_owed);

/* Flush the log up to the last commit. Returns a store result. */
int store_log_flush(struct store *st);

/* Durability reserve: keep rec's reservation ahead of `last`, asking for a synced commit of the
 * attempt (a->sync) when it moves; under any other durability, drop it. For every path that
 * issues values. */
void store_reserve(struct store *st, struct txn_attempt *a, struct seq_record *rec,
                   int64_t last);

/* Map a Berkeley DB error from a store operation to a store result, logging what is unexpected.
 * A deadlock inside an attempt (a; NULL outside any) marks it for another try. */
int store_from_db_error(struct store *st, struct txn_attempt *a, int err, const char *what,
                        const char *file, int line);
#define STORE_DB_ERROR(st, a, err, what) \
	store_from_db_error((st), (a), (err), (what), __FILE__, __LINE__)

/* Log through opt->log, printf-style. */
void store_logf(const struct store_options *opt, int level, const char *file, int line,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define STORE_LOG(opt, level, ...) store_logf((opt), (level), __FILE__, __LINE__, __VA_ARGS__)

/* May a message Berkeley DB may repeat thousands of times a second be logged now? A few per
 * window per process, then one line saying how many were left out. */
int store_log_quota(const struct store_options *opt);

/* The key of a sequence name. */
DBT store_name_key(const char *name, size_t len);

/* 1 when name breaks name_check(). */
int store_name_invalid(const char *name, size_t len);

/* Read and check a record: STORE_OK, NOT_FOUND, BUSY (a->retry set on a deadlock), NOT_REPLICATED
 * (replicated, a lock wait timed out; a->retry set when the thread has a deadline) or
 * UNAVAILABLE. */
int store_read_record(struct store *st, struct txn_attempt *a, DBT *key, u_int32_t flags,
                      struct seq_record *rec);

/* Encode and write a record (updated = now): STORE_OK, INVALID or a failure. */
int store_write_record(struct store *st, struct txn_attempt *a, DBT *key,
                       struct seq_record *rec, u_int32_t flags);

/* Add a new sequence's name to the names index and count it, in the transaction that writes
 * its record. Returns STORE_OK, STORE_LIMIT (max_sequences reached) or a failure. */
int store_index_add(struct store *st, struct txn_attempt *a, DBT *key);

/* Delete a sequence's record, its name and its place in the count. Returns STORE_OK, NOT_FOUND
 * or a failure. */
int store_remove_record(struct store *st, struct txn_attempt *a, DBT *key);

/* ---- store.c: import in chunks, under replication ---- */

/*
 * Names one replicated write transaction of a bulk operation holds (an import chunk, checked or
 * written; a chunk of advance or delete-all): its commit, and the replicas' acknowledgement of
 * it, fit well within replication_ack_timeout_ms (measured in docs/replication.md), and a
 * forwarded import chunk fits one message.
 */
#define STORE_REPL_CHUNK 250

/* One chunk of an import (n <= STORE_REPL_CHUNK): check_only, check every item against the
 * stored records (unless force, nothing to check) and write nothing; else check and write them
 * in one transaction. Forwarded to the master on a replica. Results as store_import's. */
int store_import_chunk(struct store *st, const struct store_item *items, size_t n, int force,
                       int check_only, size_t *bad, const char **why);

/* ---- store_next.c: the take path ---- */

/* Its state, shared by the threads of a process. Returns NULL when out of memory;
 * store_take_free accepts NULL. */
struct store_take *store_take_new(void);
void store_take_free(struct store_take *t);

/* ---- store_scan.c: walks over every sequence ---- */

/* Count the names in the names index, in a's transaction. Returns a store result. */
int store_count_names(struct store *st, struct txn_attempt *a, uint64_t *n);

/* Count the sequences and the records among them that do not decode. Returns a store result. */
int store_count(struct store *st, size_t *total, size_t *corrupt);

/* Durability reserve, after an unclean stop: move every counter past its reservation, a chunk
 * of names per synced transaction. *moved counts those that moved. */
int store_skip_reservations(struct store *st, size_t *moved);

/* One chunk of advance and of delete-all (what a replica asks the master for, a chunk per
 * request): advance the sequences of the chunk of names after `after` (after_len 0: from the
 * first), and give its last name in last (NAME_MAX_BYTES) and *last_len; delete the first
 * chunk of names. *changed counts what moved or went; *done says no name is left after the chunk.
 * Return a store result (INVALID: steps out of range). */
int store_advance_step(struct store *st, uint64_t steps, const char *after, size_t after_len,
                       char *last, size_t *last_len, size_t *changed, int *done);
int store_delete_step(struct store *st, size_t *changed, int *done);

/* ---- store_meta.c: what meta.db holds ---- */

/* The count of sequences, read for change (DB_RMW; counted from the names when it is missing or
 * damaged), and written. Return a store result. */
int store_count_get(struct store *st, struct txn_attempt *a, uint64_t *n);
int store_count_put(struct store *st, struct txn_attempt *a, uint64_t n);

/* Count the names again and store the count (recovery, once per start). Returns a result. */
int store_count_refresh(struct store *st);

/* Record the schema version in a new store (create); refuse a store without one, or written by a
 * newer nextid. Outside any transaction (the databases auto-commit). Returns 0 or -1 (logged). */
int store_schema_check(struct store *st, int create);

/* The clean marker: read it (0, or -1 when it cannot be read), or set it in a synced commit of
 * its own (0, or Berkeley DB's error, logged). */
int store_clean_get(struct store *st, int *clean);
int store_clean_set(struct store *st, int clean);

/* ---- store_env.c: the environment and the handles on it ---- */

/*
 * For recovery (store_recover.c): store_new makes a handle, a base's (owner NULL) or a peer's of
 * owner, that store_close frees; store_env_create gives it an environment handle with the
 * store's callbacks, store_env_open opens that and allocates its regions (STORE_OK, FULL or
 * UNAVAILABLE, logged), and store_databases_open opens the four databases (STORE_OK, BUSY when
 * a lock stayed busy for seconds, or UNAVAILABLE, logged).
 * store_regions_remove removes the region files of data_dir's environment, whoever still maps
 * them: Berkeley DB marks them panicked first, so a process still attached learns it must let go.
 */
struct store *store_new(const struct store_options *opt, struct store *owner);
int store_env_create(struct store *st);
int store_env_open(struct store *st, u_int32_t extra_flags);
int store_databases_open(struct store *st, u_int32_t flags);
void store_regions_remove(const struct store_options *opt);

/* ---- store_repl.c: replication ---- */

/* Before a commit, clear this thread's note of a failed acknowledgement; after it, was one
 * noted (DB_EVENT_REP_PERM_FAILED arrives in the committing thread, during its commit)? */
void store_repl_commit_begin(void);
int store_repl_commit_failed(void);
/* The master's eid as this node knows it (a replica), else -1; never waits in a subordinate. */
int store_repl_master_eid(struct store *st);
/* Stop the process's role watcher if it watches st (store_close of a base store). */
void store_repl_watch_stop(struct store *st);
/* How long a transaction may wait for a replication lockout to end (0: not replicated). */
int store_repl_lockout_wait_ms(const struct store *st);
/*
 * replication_group_creator holds only for a node's first start: once the node has been in its
 * group (its housekeeper joined and had the store), store_repl_note_member marks data_dir, and
 * store_repl_was_member says so from then on. A marked node never creates a store or a group
 * again, whatever its config says: found by the chaos test, a creator killed while the group sent
 * it a new copy of the store was left with no database files, and would have created an empty
 * store and a group of its own that hands out 1, 2, 3 again. It receives the store instead.
 */
void store_repl_note_member(const struct store_options *opt);
int store_repl_was_member(const struct store_options *opt);
/* replication_group_creator, for a node that has never been in its group. */
int store_repl_creates_group(const struct store_options *opt);
/* The thread's store_call_deadline (0: none). */
int64_t store_call_deadline_ms(void);
/* Milliseconds left before the thread's store_call_deadline (INT64_MAX when none is set). */
int64_t store_call_time_left_ms(void);

/* A replication event for the environment of st (from on_db_event). */
void store_repl_event(struct store *st, u_int32_t event);

/* After the environment's open: start the Replication Manager as opt.repl.mode says (the
 * listener, or a subordinate; nothing for QUIET or an unreplicated store). A store result. */
int store_repl_join(struct store *st);

/* LISTEN: wait until this member may open the store's databases: at once when it had them
 * before it joined (had_store, from store_repl_has_databases before store_repl_join), else
 * once its first copy from the group is complete. Returns STORE_OK. */
int store_repl_has_databases(const struct store_options *opt);
int store_repl_await_store(struct store *st, int had_store);

/* ---- store_forward.c: a replica's writes, carried out by the master ---- */

/* Where a write must run: 0 here, 1 at the master (forward it), 2 nowhere (no master known:
 * answer STORE_NO_MASTER). */
#define STORE_ROUTE_LOCAL 0
#define STORE_ROUTE_MASTER 1
#define STORE_ROUTE_NONE 2
int store_forward_route(struct store *st);

/* The same for a request of the replication process's own (it serves others' locally). */
int store_forward_route_own(struct store *st);

/* store_next and store_prefix_next_group, run by the master: the same arguments and results, and
 * STORE_NO_MASTER when the master did not answer in time. */
struct store_prefix_take;
int store_forward_next(struct store *st, const char *name, size_t len, uint8_t type,
                       const struct seq_record *create, uint64_t count, struct store_grant *grant);
int store_forward_prefix_group(struct store *st, const char *name, size_t len, int64_t now_ms,
                               struct store_prefix_take *takes, size_t n);

/* The values of several requests of a replica's process at once (store_next_joint, run by the
 * master). STORE_INVALID when the master will not take them jointly (the sequence cycles or
 * caches, does not exist, or is too near its bound for all of them; more than 2^20 values; all
 * its combining slots serve other names; or the master knows no such message): the replica then
 * sends each request alone. */
int store_forward_next_joint(struct store *st, const char *name, size_t len, uint8_t type,
                             uint64_t count, struct store_grant *grant);
/* The master's end: count values for several requests, consecutive, or STORE_INVALID as above. */
int store_next_joint(struct store *st, const char *name, size_t len, uint8_t type,
                     uint64_t count, struct store_grant *grant);

int store_forward_configure(struct store *st, const char *name, size_t len,
                            const struct record_change *ch, int mode, struct seq_record *out,
                            int *created, const char **why);
int store_forward_create(struct store *st, const char *name, size_t len,
                         const struct seq_record *rec);
int store_forward_delete(struct store *st, const char *name, size_t len);
struct store_prefix_config;
struct store_reset;
int store_forward_prefix_configure(struct store *st, const char *name, size_t len,
                                   const struct store_prefix_config *cfg, struct seq_record *out,
                                   int *created, const char **why);
int store_forward_prefix_reset(struct store *st, const char *name, size_t len,
                               struct store_reset *r, const char **why);
int store_forward_claim(struct store *st, const char *address, uint64_t shard, char *holder,
                        size_t holder_len);

/* store_forward_bulk.c: an import chunk, run by the master (store_import_chunk's arguments and
 * results); advance and delete-all, run by the master a chunk per request, with
 * store_advance_all's and store_delete_all's results (the counts of the chunks that committed). */
int store_forward_import(struct store *st, const struct store_item *items, size_t n, int force,
                         int check_only, size_t *bad, const char **why);
int store_forward_advance_all(struct store *st, uint64_t steps, size_t *moved);
int store_forward_delete_all(struct store *st, size_t *count);

/* Close the process's channel to the master, if unused, before env closes (store_close). */
void store_forward_close(DB_ENV *env);

/* The replication process's handler of forwarded requests (repmgr_msg_dispatch). */
void store_forward_dispatch(DB_ENV *env, DB_CHANNEL *chan, DBT *request, u_int32_t nrequest,
                            u_int32_t cb_flags);

/* ---- store_recover.c: who may run the environment, and recovery ---- */

/* Join the environment as its options say: through the lock files, recovering first when the
 * store runs without a master. Returns STORE_OK, STORE_FULL or STORE_UNAVAILABLE (logged). */
int store_attach(struct store *st);

/* Open a copied environment (a hot backup in opt->data_dir) as a store of its own: DB_CONFIG,
 * then catastrophic recovery, which replays every copied log record, as the copy has no regions
 * to trust. Returns STORE_OK with *out set, or STORE_UNAVAILABLE (logged). */
int store_recover_copy(const struct store_options *opt, struct store **out);

/*
 * The audit trail (store_audit.c), for store_prefix.c's transactions: store_audit_put writes
 * entry e of `kind` at position seq (never over another: an entry is the record of a number a
 * client holds); store_audit_last finds the last position of `kind` (0 when none) and, when e is
 * not NULL, that entry's counter; store_audit_event_put writes an admin event at the next event
 * position. Each returns a store result.
 */
struct audit_entry;
int store_audit_put(struct store *st, struct txn_attempt *a, const char *name, size_t len,
                    int kind, uint64_t seq, const struct audit_entry *e);
int store_audit_last(struct store *st, struct txn_attempt *a, const char *name, size_t len,
                     int kind, uint64_t *seq, struct audit_entry *e);
int store_audit_event_put(struct store *st, struct txn_attempt *a, const char *name, size_t len,
                          const struct audit_entry *e);

#endif
