/*
 * store: nextid's named sequences over one transactional Berkeley DB environment. This header and
 * store_prefix.h (formatted prefixes) are the store's contract, with the on-disk formats they
 * expose (record.h, audit.h, template.h): the FastCGI workers, the housekeeper, the master's
 * helper children, the sequencer and nextidctl all go through them, and they know nothing of
 * HTTP, FastCGI or JSON.
 *
 * Processes: a store handle belongs to the process that opened it and must never cross fork().
 * store_recover() must run in exactly one process while no other process has the store open; the
 * master guarantees that (see fcgi-app/pool.c). Everything else may run in any number of processes.
 */
#ifndef NEXTID_STORE_H
#define NEXTID_STORE_H

#include "log.h"
#include "name.h"
#include "record.h"
#include "repl_keys.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Every result the store can give. respond.c maps each to one HTTP status, title and message. */
enum store_rc {
	STORE_OK = 0,
	STORE_NOT_FOUND,     /* no sequence of that name */
	STORE_EXISTS,        /* create: the name is taken */
	STORE_EXHAUSTED,     /* no value left before the sequence's bound; nothing was consumed */
	STORE_TYPE_MISMATCH, /* the sequence has another type than the caller asked for */
	STORE_INVALID,       /* an option or value out of range; nothing was changed */
	STORE_BUSY,          /* lock timeout, or deadlock retries used up; nothing was changed */
	STORE_UNAVAILABLE,   /* I/O error, corrupt record or a store needing recovery; see the log */
	STORE_PREFIX,        /* a formatted prefix: its numbers come only through store_prefix_next */
	STORE_FULL,          /* the filesystem holding the store is full; nothing was changed */
	STORE_LIMIT,         /* a new sequence would pass max_sequences; nothing was changed */
	STORE_NO_MASTER,     /* replicated: this node is a replica, or no master is known */
	STORE_NOT_REPLICATED, /* replicated: the commit's acknowledgements did not come in time;
	                         what it took must never be handed out */
	STORE_RC_COUNT
};

/* Where the store's messages go: level is an enum log_level (common/log.h). log_sink fits. */
typedef void store_log_fn(void *ctx, int level, const char *file, int line, const char *msg);

/* What "acknowledged" means for a value handed out (www-conf/nextid.conf, durability). */
enum store_durability {
	STORE_DURABILITY_SYNC,    /* the log is on disk before the caller answers */
	STORE_DURABILITY_WRITE,   /* the log is written to the OS: survives a crash, not a power cut */
	STORE_DURABILITY_RESERVE, /* write, plus synced reservations ahead of every counter */
};

/* Counters the store keeps for /metrics, in memory its caller owns (a scoreboard slot). */
struct store_stats {
	_Atomic uint64_t transactions;     /* transaction attempts, committed or not */
	_Atomic uint64_t deadlock_retries; /* attempts Berkeley DB chose as a deadlock victim */
	_Atomic uint64_t space_errors;     /* writes refused because the filesystem was full */
};

/* How many members must have a commit before it counts (www-conf/nextid.conf,
 * replication_ack_policy); the order of config's enum config_ack_policy. */
enum store_ack_policy { STORE_ACK_QUORUM, STORE_ACK_ALL, STORE_ACK_ONE, STORE_ACK_NONE };

#define STORE_REPL_PEERS_MAX 16
#define STORE_REPL_ADDRESS_MAX 256

/* Replication through Berkeley DB's Replication Manager: off while address is NULL or "". */
struct store_replication {
	const char *address;                       /* this node's HOST:PORT */
	const char *peers[STORE_REPL_PEERS_MAX];   /* the other members' HOST:PORT */
	unsigned peer_count;
	unsigned priority;                         /* election priority; 0 = never master */
	enum store_ack_policy ack_policy;
	unsigned ack_timeout_ms;
	unsigned election_timeout_ms;
	unsigned heartbeat_ms;
	int group_creator;                         /* this node may create the group */
	/* The longest the caller waits on one store call before it gives up on the process
	 * (request_timeout_s; 0: no bound): a forward to the master ends in time for the caller to
	 * answer "No master" itself, rather than be killed inside Berkeley DB. */
	unsigned call_limit_ms;
	/* JOIN: never become the node's replication process. A pool's worker sets it: its
	 * housekeeper is that process, and a worker that found none running (the housekeeper
	 * between two lives) would take its place without serving forwarded writes. Its open then
	 * answers STORE_NO_MASTER, and it tries again. */
	int join_only;
	enum store_repl_mode {
		STORE_REPL_JOIN,   /* a subordinate: sends its own commits, waits for their acks */
		STORE_REPL_LISTEN, /* the replication process (the housekeeper) */
		STORE_REPL_QUIET,  /* the master's helpers: recovery, failchk; no Replication
		                      Manager at all */
	} mode;
	/* LISTEN: called every REPL_WAIT_TICK_MS while a new member waits for its copy of the
	 * store (may be NULL): the housekeeper stamps its heartbeat there. */
	void (*waiting)(void *ctx);
	void *waiting_ctx;
};

struct store_options {
	const char *data_dir;     /* the environment's home; created by store_recover if missing */
	enum store_durability durability;
	unsigned lock_timeout_ms; /* a request waits this long for a record lock, then STORE_BUSY */
	unsigned hold_lock_ms;    /* test hook: sleep this long holding the record lock (0 = off) */
	int self_recovering;      /* process_model fcgid: no master; every open may recover */
	int guest;                /* nextidctl: marks the store clean at close only when it found
	                             it clean (see store_close) */
	atomic_int *joined;       /* may be NULL: set to 1 from the moment the opener holds
	                             env.lock (a recovery then waits for it), for a watchdog that
	                             must end it when one begins (nextidctl) */
	struct store_stats *stats; /* where to count (may be NULL) */
	int64_t reserve_size;      /* durability reserve: values one synced reservation covers */
	uint64_t max_sequences;    /* creating more answers STORE_LIMIT; 0 = no bound */
	store_log_fn *log;        /* where Berkeley DB's and the store's messages go (may be NULL) */
	void *log_ctx;
	struct store_replication repl; /* all zero: a store of its own, as before */
};

struct store;

/* The defaults for a store in data_dir: durability sync, a 500 ms lock timeout, reservations of
 * 100, no bound on the sequences, no log, no stats, no test hook. The caller sets the rest. */
void store_options_init(struct store_options *opt, const char *data_dir);

/* What store_next handed out: values first, first+increment, ..., last. */
struct store_grant {
	int64_t first, last, increment;
	int64_t bound; /* on STORE_EXHAUSTED: the bound that was reached (max, or min counting down) */
	uint8_t type;  /* the sequence's type; on STORE_TYPE_MISMATCH, the one it is registered as */
};

/*
 * Who may open the store: Berkeley DB creates its region and log files as whoever writes them,
 * so a process running as another user than data_dir's owner (root, say) would leave files the
 * service cannot open. Every program asks here before it touches data_dir, and refuses
 * STORE_OWNER_OTHER. Returns STORE_OWNER_SELF (data_dir belongs to the effective user),
 * STORE_OWNER_OTHER (out: its uid, and its name or "" when it has none), or STORE_OWNER_NONE
 * when data_dir cannot be looked at (out: errno; ENOENT = not created yet).
 */
enum store_owner_rc { STORE_OWNER_SELF, STORE_OWNER_OTHER, STORE_OWNER_NONE };
struct store_owner {
	unsigned uid;
	char name[64];
	int err;
};
int store_owner_check(const char *data_dir, struct store_owner *out);
/* For a program that only opens a store nextid-fcgi creates (nextid-sequencer, nextid-grpc):
 * 0 when this process owns data_dir, else -1 with the refusal, naming program, in why. */
int store_owner_refusal(const char *data_dir, const char *program, char *why, size_t len);

/*
 * Claim the store for one master: an exclusive lock on <data_dir>/nextid.lock, creating the
 * directory if needed. Children inherit the descriptor, so the claim lasts until the master and
 * every process it forked are gone; a second master waits up to wait_s seconds for that, then
 * gives up. Returns the descriptor to keep open, or -1 (logged).
 */
int store_claim(const struct store_options *opt, unsigned wait_s);

/*
 * Create the environment and databases if missing, else run normal recovery. Writes DB_CONFIG on
 * first creation so nextidctl and the db5.3_* utilities share the settings. Returns STORE_OK or
 * STORE_UNAVAILABLE (logged).
 */
int store_recover(const struct store_options *opt);

/*
 * store_recover for an administrator, on a store nobody uses (after a restore from a backup):
 * refuses, changing nothing, while a master holds the store or any process has it open.
 * Returns STORE_OK, STORE_BUSY (in use; logged) or STORE_UNAVAILABLE (logged).
 */
int store_recover_unused(const struct store_options *opt);

/*
 * After a recovery that failed (or was killed): remove what is left of the environment's shared
 * regions, so that no process joins a half-recovered store; a process still attached to them is
 * told the store needs recovery. The databases and logs stay; the next store_recover starts from
 * them. Call only where no process of the pool has the store open.
 */
void store_discard_environment(const struct store_options *opt);

/*
 * Is a recovery of the store running, or waiting for the store's users to leave? For a process
 * outside the pool (nextidctl), which should then end at once, closing nothing: the recovery is
 * about to pull the environment from under it, and waits up to 5 s for it to leave first.
 * Safe from any thread, with or without a handle open. Returns 1 or 0 (also when unsure).
 */
int store_recovery_running(const struct store_options *opt);

/*
 * Release what dead processes left in the environment (their transactions, locks, mutexes).
 * Returns STORE_OK, STORE_FULL (it has to log what it releases and the disk is full: try again
 * later), STORE_NO_MASTER (replicated: a sync with the master locked the store out for more than
 * a second; try again), or STORE_UNAVAILABLE when only a full recovery can help. May hang when a
 * process died inside Berkeley DB: run it in a child process under a watchdog.
 */
int store_failchk(const struct store_options *opt);

/* Open an existing store (never creates one). *out is freed by store_close. Returns STORE_OK or
 * STORE_UNAVAILABLE. */
int store_open(const struct store_options *opt, struct store **out);

/*
 * A second handle on the store `base` opened, for another thread of the same process: it shares
 * base's environment and databases (all opened DB_THREAD) and has its own per-transaction state
 * and value cache, so each thread uses its own handle and none is shared. Close every peer
 * before base. Returns STORE_OK or STORE_UNAVAILABLE (out of memory).
 */
int store_open_peer(struct store *base, struct store **out);

/* Close a handle from store_open or store_open_peer; NULL is allowed. */
void store_close(struct store *st);

/* True once Berkeley DB has reported a panic: the process should finish its request and exit so
 * that the master recovers the environment. */
int store_needs_recovery(const struct store *st);

/* Replicated: true once Berkeley DB has said this handle's databases are gone under it (the group
 * rolled back a commit of this node, or replaced its copy of the store): the process should
 * finish its request, close the store and open it again (a worker: answer "No master" until the
 * pool has its replacement ready). */
int store_needs_reopen(const struct store *st);

/*
 * Take `count` consecutive values from sequence `name` (len bytes, 1..NAME_MAX_BYTES). When the
 * sequence does not exist and `create` is not NULL, it is created from *create first, in the same
 * transaction. When `type` is not 0 the sequence must have that type, and when it is 0 any
 * numeric type (int or long) will do; otherwise the answer is STORE_TYPE_MISMATCH.
 * Returns STORE_OK with *grant set, or NOT_FOUND, TYPE_MISMATCH, EXHAUSTED (grant->bound set),
 * BUSY, UNAVAILABLE, or INVALID (an invalid name, count 0 or above 2^63-1, or a `create`
 * record that breaks record_check). The response may be sent once this returns: under durability
 * sync the values are on disk.
 */
int store_next(struct store *st, const char *name, size_t len, uint8_t type,
               const struct seq_record *create, uint64_t count, struct store_grant *grant);

/* Every function below that takes a name answers STORE_INVALID when it breaks name_check(). */

/*
 * Make sure `name` exists with create->type, creating it from *create on first use: how a random-id
 * type (uuid8...) is fixed to a name, with no counter to advance. Reads only, once it exists.
 * Returns STORE_OK, TYPE_MISMATCH (*registered is the type it has), INVALID, BUSY or UNAVAILABLE.
 */
int store_register(struct store *st, const char *name, size_t len,
                   const struct seq_record *create, uint8_t *registered);

/* Read a sequence's record into *out. Returns STORE_OK, NOT_FOUND, BUSY or UNAVAILABLE. */
int store_get(struct store *st, const char *name, size_t len, struct seq_record *out);

/* Create a sequence from *rec (checked by record_check). Returns STORE_OK, EXISTS, INVALID, BUSY,
 * UNAVAILABLE. */
int store_create(struct store *st, const char *name, size_t len, const struct seq_record *rec);

enum store_configure_mode {
	STORE_CREATE_ONLY,      /* STORE_EXISTS when the name is taken */
	STORE_CHANGE_ONLY,      /* STORE_NOT_FOUND when there is no such sequence */
	STORE_CREATE_OR_CHANGE,
};

/*
 * Create or change a sequence in one transaction, as record_apply() describes. On STORE_OK, *out
 * (may be NULL) is the stored record and *created (may be NULL) says which it was. On
 * STORE_INVALID, *why is a sentence for the user. Also NOT_FOUND, EXISTS, BUSY, UNAVAILABLE.
 */
int store_configure(struct store *st, const char *name, size_t len,
                    const struct record_change *ch, int mode, struct seq_record *out,
                    int *created, const char **why);

/* Remove a sequence. Returns STORE_OK, NOT_FOUND, BUSY or UNAVAILABLE. */
int store_delete(struct store *st, const char *name, size_t len);

/* Remove every sequence, a thousand per transaction (250 under replication, so that each is
 * acknowledged in time); *count (may be NULL) is how many went.
 * On a replica, the master does it, a chunk per request. Returns STORE_OK, BUSY, UNAVAILABLE,
 * NO_MASTER or NOT_REPLICATED (then some may be gone). */
int store_delete_all(struct store *st, size_t *count);

/* One sequence to import: a name and its whole record. */
struct store_item {
	const char *name;
	size_t len;
	struct seq_record rec;
};

/*
 * Write every item, replacing sequences of the same name.
 * Unless `force`, refuses to move an existing counter backwards (that would issue its numbers
 * again) or to turn it into another kind. Returns STORE_OK; STORE_INVALID with *bad the index of
 * the offending item and *why a sentence; or BUSY, UNAVAILABLE, NO_MASTER, NOT_REPLICATED, LIMIT.
 * *written is how many items (the first ones) are stored.
 * One node: one transaction, all or nothing (*written is 0 or n). The lock table (DB_CONFIG)
 * bounds it to about a hundred thousand sequences (measured with short names: 130,000 pass,
 * 150,000 do not); a larger import fails as a whole (STORE_UNAVAILABLE) and changes nothing.
 * Replicated (a replica's run by the master): every item is checked first and a refusal writes
 * nothing; then a transaction per chunk of a few hundred, each checked again, so each commit
 * fits the acknowledgement timeout. A chunk that fails leaves the earlier ones written (*written)
 * and *bad in the chunk that failed; the same import again is safe (the written items are equal
 * to the file's, which the check lets through, and a counter that moved on since is refused).
 */
int store_import(struct store *st, const struct store_item *items, size_t n, int force,
                 size_t *bad, const char **why, size_t *written);

/*
 * Hot backup into `dir` (absent or empty): copy the databases and logs while the service runs,
 * run catastrophic recovery on the copy, verify its database files and read every record back.
 * The copy is a store that data_dir can point at. *count is the number of sequences in it.
 * Returns STORE_OK, INVALID (dir not empty or not creatable; logged) or UNAVAILABLE (logged).
 */
int store_backup(struct store *st, const char *dir, size_t *count);

/*
 * Move every counter `steps` values ahead (1 to 2^63-1), as if they had been issued: after a
 * restore from a backup, past whatever the lost store may have issued since (record_skip says
 * which sequences move and how). A chunk of names (a thousand; 250 under replication) per synced
 * transaction (on a replica, the master's, a chunk per request). *moved counts the sequences that moved, in the chunks that
 * committed. Returns STORE_OK, INVALID (steps), BUSY, UNAVAILABLE, NO_MASTER or NOT_REPLICATED.
 */
int store_advance_all(struct store *st, uint64_t steps, size_t *moved);

/*
 * Call fn for every sequence, in name order (bytewise), starting after `after` (NULL or len 0 =
 * from the start), at most `limit` times (0 = all). fn returns 0 to go on, non-zero to stop.
 * Returns STORE_OK, BUSY or UNAVAILABLE.
 */
typedef int store_list_fn(void *ctx, const char *name, size_t len, const struct seq_record *rec);
int store_list(struct store *st, const char *after, size_t after_len, size_t limit,
               store_list_fn *fn, void *ctx);

/*
 * The id generator's high-water mark: ids may have been issued up to unix ms `ms` (0 before the
 * first), their time counted from `epoch_ms`. What tells ids apart is their distance from the
 * epoch (ms - epoch_ms, in ticks), not the time itself, so the mark keeps the epoch it was
 * counted from: a store written before the epoch was kept has STORE_MARK_NO_EPOCH there.
 */
#define STORE_MARK_NO_EPOCH INT64_MIN
struct store_mark {
	int64_t ms;
	int64_t epoch_ms;
};

/* Replicated, the mark is the node's own, in a file of data_dir: store_mark_get/raise use these,
 * which need no open store (the master seeds the generator before a replica has its copy). */
int store_mark_file_get(const struct store_options *opt, struct store_mark *out);
int store_mark_file_raise(const struct store_options *opt, int64_t ms, int64_t epoch_ms);

/* Read the mark into *out. Returns STORE_OK, BUSY or UNAVAILABLE. */
int store_mark_get(struct store *st, struct store_mark *out);

/*
 * Raise the mark to cover ms counted from epoch_ms, on disk before returning whatever the
 * durability setting: an id beyond the mark must never reach a client. Its distance from its
 * epoch never goes down, and it is kept counted from epoch_ms (a mark counted from another epoch
 * keeps its distance; one without an epoch counts from epoch_ms, which is then recorded, even
 * when ms is not past it). Returns STORE_OK, BUSY, UNAVAILABLE.
 */
int store_mark_raise(struct store *st, int64_t ms, int64_t epoch_ms);

/* Is the store answering? A read of the schema version. Returns STORE_OK or UNAVAILABLE/BUSY. */
int store_ping(struct store *st);

/*
 * Housekeeping, for the housekeeper process: expire lock waits past their timeout (returns how
 * many were rejected, or -1), and write a checkpoint (force: even when nothing changed).
 *
 * A limit of Berkeley DB 5.3 (measured: about one wait in 300 when waits follow one another with
 * nothing else waiting): a wait that starts while a detector pass runs can lose its deadline, and
 * then no pass expires it until another wait starts anywhere. Under real traffic that is the next
 * request to wait; alone, it waits until the request timeout kills the lock's holder.
 */
int store_expire_locks(struct store *st);
int store_checkpoint(struct store *st, int force);

/*
 * Checkpoint once `kbytes` of log have been written since the last one, so that log files are
 * removed under a heavy write load long before checkpoint_interval_s. Returns a store result.
 */
int store_checkpoint_due(struct store *st, unsigned kbytes);

/*
 * Allocate every block of the log file being written, so that commits never fail for space
 * while it lasts (Berkeley DB creates it sparse): on a filling disk, existing sequences keep
 * taking values until the next log file is needed. Cheap when already done. Returns STORE_OK,
 * STORE_FULL (no room even for that) or STORE_UNAVAILABLE (logged).
 */
int store_log_allocate(struct store *st);

/* Below this many free bytes a new log file (10 MiB, DB_CONFIG's set_lg_max) may not fit. */
#define STORE_SPACE_LOW_BYTES (16ull << 20)

/* Free and total bytes of the filesystem holding data_dir, as its owner may use them. Returns
 * STORE_OK, or STORE_UNAVAILABLE (statvfs failed). */
int store_space(const char *data_dir, uint64_t *free_bytes, uint64_t *total_bytes);

/*
 * Replication (store_repl.c). store_replicated: is replication configured in opt?
 *
 * store_repl_start: make this process the node's replication process, the one that listens on
 * repl.address, talks to the other members and holds the elections (Berkeley DB allows one per
 * environment; every other opener joins as a subordinate, which only sends its own commits).
 * For the housekeeper, before any worker opens the store. Returns STORE_OK or UNAVAILABLE.
 *
 * store_repl_status: what the node knows of the group, from any process with the store open.
 */
enum store_repl_role { STORE_ROLE_NONE, STORE_ROLE_MASTER, STORE_ROLE_REPLICA,
	               STORE_ROLE_ELECTING };
struct store_repl_status {
	enum store_repl_role role;
	char master[STORE_REPL_ADDRESS_MAX]; /* the master's HOST:PORT, "" when unknown */
	uint64_t elections;                  /* elections this node took part in since start */
	uint64_t lag_bytes;                  /* replica: log bytes it knows it is missing */
	int ready;                           /* master, or a replica caught up at least once */
};
int store_replicated(const struct store_options *opt);

/* Fill opt->repl from the replication keys (common/repl_keys.h; strings are not copied): mode
 * JOIN, or all off when there is no address. */
void store_repl_configure(struct store_options *opt, const struct repl_keys *k);
int store_repl_start(struct store *st);

/* TCP_NODELAY on the process's replication connections (store_repl.c says why): done by the
 * store on its own paths; the housekeeper calls it on its tick. Rate-limited unless force. */
void store_repl_nodelay(const struct store *st, int force);
int store_repl_status(struct store *st, struct store_repl_status *out);

/* The members besides this node that this process knows of (the listener: the group's). A
 * process that joined as a subordinate connects only to the members there were when it started:
 * when the count changes, the pool replaces its workers. */
int store_repl_member_count(struct store *st);

/*
 * 1 while the node's store is locked out by replication (a sync with a new master, a log rolled
 * back), 0 otherwise: a transaction is begun and aborted to see. Berkeley DB 5.3 loses count of
 * the handles in use when an environment is opened during a lockout (the open fails, and its
 * cleanup gives back a handle it never took), after which every later lockout waits for ever:
 * the pool opens no environment while this says 1, and a lockout that lasts is that lost count.
 */
int store_repl_locked_out(struct store *st);

/*
 * The calling thread's deadline for what it does now (a request), on clock_monotonic_ms(); 0
 * clears it. Replicated, the store then starts no commit that could still be waiting for its
 * acknowledgements at the deadline (STORE_NOT_REPLICATED: nothing taken), and waits for a
 * lockout or a forward only until it: the caller answers in time instead of being ended inside
 * Berkeley DB by its watchdog (request_timeout_s). A lock wait that times out is tried again
 * while a whole commit (for a read, a lock wait) still fits before the deadline; without a
 * deadline it answers at once. The master sets one for each take forwarded to it. Combined
 * requests run to the earliest deadline among them. Without replication it changes nothing.
 */
void store_call_deadline(int64_t deadline_ms);
const char *store_repl_role_name(enum store_repl_role role);

/*
 * The group's members and their shard ids (replicated): ids of /generate are unique while every
 * node has its own. store_member_claim records that the node at replication `address` issues ids
 * with `shard` (through the master); STORE_EXISTS when another address holds it (*holder, of
 * holder_len bytes, says which). store_member_forget drops an address (on the master; a removed
 * member). store_member_shard reads one (STORE_NOT_FOUND when none). Store results otherwise.
 */
int store_member_claim(struct store *st, const char *address, uint64_t shard, char *holder,
                       size_t holder_len);
int store_member_forget(struct store *st, const char *address);
int store_member_shard(struct store *st, const char *address, uint64_t *shard);

/* Take a member out of the group (Berkeley DB's DB_SITE->remove, carried out by the master):
 * one that is gone for good, so that it no longer counts in the quorum. A store result. */
int store_repl_remove(struct store *st, const char *address);

/*
 * The group as this process sees it: this node first (self), then every other member, with its
 * role (the master, or a replica when this process is connected to it, else NONE: unreachable
 * from here), its shard_id (0 when unknown) and, for this node, its lag. Up to max into out[];
 * *n says how many. A store result.
 */
struct store_member {
	char address[STORE_REPL_ADDRESS_MAX];
	enum store_repl_role role;
	int connected, self;
	uint64_t shard, lag_bytes;
};
int store_repl_members(struct store *st, struct store_member *out, size_t max, size_t *n);
/* Bytes the store's files take on disk: the regular files directly in data_dir (databases, logs,
 * environment regions), as allocated. Returns STORE_OK, or STORE_UNAVAILABLE (not readable). */
int store_disk_bytes(const char *data_dir, uint64_t *bytes);

/* A short English name of a result ("busy", "not found"), for logs and the CLI. */
const char *store_rc_name(int rc);

#endif
