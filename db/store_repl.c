/*
 * store_repl: replication through Berkeley DB's Replication Manager. Every process of a node
 * opens the environment with DB_INIT_REP; the housekeeper calls repmgr_start first and so becomes
 * the replication process (it listens on replication_address, holds elections and applies what
 * the master sends); workers, nextid-sequencer, nextid-grpc and nextidctl join as subordinates,
 * which send their own commits to the replicas and wait for the acknowledgements themselves.
 * Berkeley DB reports a commit whose acknowledgements did not come (DB_EVENT_REP_PERM_FAILED) to
 * the thread that committed, during its commit: a thread-local flag carries it to txn_commit.
 */
#include "store_int.h"
#include "bigendian.h"
#include "clock.h"
#include "address.h"
#include "numparse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long the replication process waits between tries to join the group, and for a replica's
 * first copy of the store. */
#define REPL_JOIN_RETRY_MS 500
#define REPL_THREADS 8
/* How long a master's checkpoint waits between flushing its cache and logging the checkpoint
 * record, so that the replicas (told at its start) flush theirs meanwhile. Berkeley DB's default
 * is 30 s, spent sleeping in the checkpointing thread: the housekeeper's, whose heartbeat then
 * stops until the pool takes it for hung and kills it (measured: the first checkpoint of every
 * new master). A replica's cache flush is the work of milliseconds here (16 MiB at most). */
#define REPL_CHECKPOINT_DELAY_US 100000u
/* The longest a store operation waits for replication lockouts to end before it answers "No
 * master": the ack timeout, but no more than this, so that with a lock wait and a commit waiting
 * for its acknowledgements the answer still comes within request_timeout_s (at least 1 s; 2 s in
 * the chaos tests). */
#define REPL_LOCKOUT_WAIT_MAX_MS 500u

static _Thread_local int perm_failed;

int store_replicated(const struct store_options *opt)
{
	return opt->repl.address && opt->repl.address[0] != '\0';
}

void store_repl_commit_begin(void)
{
	perm_failed = 0;
}

int store_repl_commit_failed(void)
{
	return perm_failed;
}

void store_repl_event(struct store *st, u_int32_t event)
{
	switch (event) {
	case DB_EVENT_REP_PERM_FAILED:
		perm_failed = 1;
		break;
	case DB_EVENT_REP_MASTER:
		STORE_LOG(&st->opt, LOG_INFO, "replication: this node is the master");
		break;
	case DB_EVENT_REP_CLIENT:
		STORE_LOG(&st->opt, LOG_INFO, "replication: this node is a replica");
		break;
	case DB_EVENT_REP_NEWMASTER:
		STORE_LOG(&st->opt, LOG_INFO, "replication: a new master was elected");
		break;
	case DB_EVENT_REP_STARTUPDONE:
		STORE_LOG(&st->opt, LOG_INFO, "replication: this replica has caught up");
		break;
	case DB_EVENT_REP_DUPMASTER:
		STORE_LOG(&st->opt, LOG_WARN, "replication: two masters met; this one steps down");
		break;
	case DB_EVENT_REP_JOIN_FAILURE:
		STORE_LOG(&st->opt, LOG_ERROR, "replication: this node could not join the group "
		                               "(its log cannot be brought in line with the master's)");
		break;
	case DB_EVENT_REP_LOCAL_SITE_REMOVED:
		STORE_LOG(&st->opt, LOG_WARN, "replication: this node was removed from the group");
		break;
	default:
		break;
	}
}

/* A DB_SITE for addr (HOST:PORT, checked by the config), or NULL (logged). */
static DB_SITE *site_of(struct store *st, const char *addr)
{
	char host[ADDRESS_MAX];
	unsigned port;
	const char *why;
	DB_SITE *site = NULL;
	int err;

	if (address_split(addr, strlen(addr), host, sizeof(host), &port, &why) != 0) {
		STORE_LOG(&st->opt, LOG_ERROR, "replication address '%s' %s", addr, why);
		return NULL;
	}
	err = st->env->repmgr_site(st->env, host, port, &site, 0);
	if (err != 0) {
		STORE_LOG(&st->opt, LOG_ERROR, "replication site %s: %s", addr, db_strerror(err));
		return NULL;
	}
	return site;
}

static int ack_policy_of(enum store_ack_policy p)
{
	switch (p) {
	case STORE_ACK_ALL: return DB_REPMGR_ACKS_ALL;
	case STORE_ACK_ONE: return DB_REPMGR_ACKS_ONE;
	case STORE_ACK_NONE: return DB_REPMGR_ACKS_NONE;
	case STORE_ACK_QUORUM: break;
	}
	return DB_REPMGR_ACKS_QUORUM;
}

/* What every process sets before repmgr_start: the policy and timeouts must agree group-wide. */
static int set_policy(struct store *st)
{
	const struct store_replication *r = &st->opt.repl;
	DB_ENV *env = st->env;
	int err = env->repmgr_set_ack_policy(env, ack_policy_of(r->ack_policy));

	if (!err)
		err = env->rep_set_timeout(env, DB_REP_ACK_TIMEOUT, r->ack_timeout_ms * 1000u);
	if (!err)
		err = env->rep_set_timeout(env, DB_REP_ELECTION_TIMEOUT,
		                           r->election_timeout_ms * 1000u);
	if (!err)
		err = env->rep_set_timeout(env, DB_REP_ELECTION_RETRY,
		                           r->election_timeout_ms * 1000u);
	if (!err)
		err = env->rep_set_timeout(env, DB_REP_HEARTBEAT_SEND, r->heartbeat_ms * 1000u);
	if (!err)
		err = env->rep_set_timeout(env, DB_REP_HEARTBEAT_MONITOR, r->heartbeat_ms * 3000u);
	if (!err)
		err = env->rep_set_timeout(env, DB_REP_CONNECTION_RETRY, 1000000);
	if (!err)
		err = env->rep_set_timeout(env, DB_REP_CHECKPOINT_DELAY, REPL_CHECKPOINT_DELAY_US);
	/* While a replica syncs with a new master (a role change, a log rolled back), Berkeley DB
	 * locks new transactions out; by default txn_begin then sleeps in steps of 5 s (measured:
	 * workers held past request_timeout_s, killed inside Berkeley DB, the node recovered).
	 * With NOWAIT it answers DB_REP_LOCKOUT at once, and txn_begin waits in short steps, at
	 * most store_repl_lockout_wait_ms (store_txn.c). */
	if (!err)
		err = env->rep_set_config(env, DB_REP_CONF_NOWAIT, 1);
	/* Not DB_REP_CONF_BULK: it holds a transaction's log records until its commit, so a large
	 * one (an import chunk of 250 names) reaches the replicas all at once and its
	 * acknowledgements come later than the ack timeout now and then (measured: about one
	 * 20,000-name import through a replica in five answered "Not replicated" with it, none of
	 * eight without it). */
	if (!err)
		err = env->rep_set_priority(env, r->priority);
	if (err)
		STORE_LOG(&st->opt, LOG_ERROR, "replication settings: %s", db_strerror(err));
	return err;
}

static void member_mark_path(const struct store_options *opt, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", opt->data_dir, STORE_MEMBER_MARK_FILE);
}

void store_repl_note_member(const struct store_options *opt)
{
	char path[4096];
	int fd;

	if (!store_replicated(opt) || store_repl_was_member(opt))
		return;
	member_mark_path(opt, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fsync(fd) != 0)
		STORE_LOG(opt, LOG_WARN, "cannot mark %s as a member of its group: %s", opt->data_dir,
		          strerror(errno));
	if (fd >= 0)
		close(fd);
}

int store_repl_was_member(const struct store_options *opt)
{
	char path[4096];

	member_mark_path(opt, path, sizeof(path));
	return access(path, F_OK) == 0;
}

int store_repl_creates_group(const struct store_options *opt)
{
	return opt->repl.group_creator && !store_repl_was_member(opt);
}

/* The listener's sites: this node's address, and the other members as helpers to join by. */
static int set_sites(struct store *st)
{
	const struct store_replication *r = &st->opt.repl;
	DB_SITE *site = site_of(st, r->address);
	int err;

	if (!site)
		return -1;
	err = site->set_config(site, DB_LOCAL_SITE, 1);
	if (!err && store_repl_creates_group(&st->opt))
		err = site->set_config(site, DB_GROUP_CREATOR, 1);
	site->close(site);
	for (unsigned i = 0; !err && i < r->peer_count; i++) {
		if (!(site = site_of(st, r->peers[i])))
			return -1;
		err = site->set_config(site, DB_BOOTSTRAP_HELPER, 1);
		site->close(site);
	}
	if (err)
		STORE_LOG(&st->opt, LOG_ERROR, "replication sites: %s", db_strerror(err));
	return err ? -1 : 0;
}

/* The members this process is connected to, and how many there are besides this node. */
static unsigned connected_members(struct store *st, unsigned *others)
{
	DB_REPMGR_SITE *list = NULL;
	u_int count = 0;
	unsigned up = 0;

	*others = 0;
	if (st->env->repmgr_site_list(st->env, &count, &list) != 0)
		return 0;
	for (u_int i = 0; i < count; i++)
		up += list[i].status == DB_REPMGR_CONNECTED;
	free(list);
	*others = count;
	return up;
}

int store_repl_lockout_wait_ms(const struct store *st)
{
	unsigned ms = st->opt.repl.ack_timeout_ms;

	return store_replicated(&st->opt) ? (int)(ms < REPL_LOCKOUT_WAIT_MAX_MS ? ms
	                                                                     : REPL_LOCKOUT_WAIT_MAX_MS)
	                                  : 0;
}

int store_repl_member_count(struct store *st)
{
	unsigned others;

	if (!store_replicated(&st->opt))
		return 0;
	connected_members(st, &others);
	return (int)others;
}

int store_repl_locked_out(struct store *st)
{
	DB_TXN *txn = NULL;
	int err;

	if (!store_replicated(&st->opt))
		return 0;
	err = st->env->txn_begin(st->env, NULL, &txn, DB_TXN_NOWAIT);
	if (err == 0)
		txn->abort(txn);
	return err == DB_REP_LOCKOUT;
}

/*
 * A subordinate opens its own connections to the other members, to send its commits: a commit
 * before they are up is not acknowledged. Wait (at most the ack timeout) until the ack policy can
 * be met.
 */
static void await_connections(struct store *st)
{
	int64_t until = clock_monotonic_ms() + st->opt.repl.ack_timeout_ms;

	for (;;) {
		unsigned others, up = connected_members(st, &others), need;

		switch (st->opt.repl.ack_policy) {
		case STORE_ACK_ALL: need = others; break;
		case STORE_ACK_ONE: need = others ? 1 : 0; break;
		case STORE_ACK_NONE: need = 0; break;
		default: need = (others + 1) / 2; break;
		}
		if (up >= need || clock_monotonic_ms() >= until)
			return;
		clock_sleep_ms(10);
	}
}

int store_repl_join(struct store *st)
{
	int err;

	if (!store_replicated(&st->opt) || st->opt.repl.mode == STORE_REPL_QUIET)
		return STORE_OK;
	if (set_policy(st) != 0)
		return STORE_UNAVAILABLE;
	if (st->opt.repl.mode == STORE_REPL_LISTEN)
		return store_repl_start(st);
	/* The replication process runs already (the pool starts workers after it), so this
	 * process becomes a subordinate: Berkeley DB answers DB_REP_IGNORE. */
	err = st->env->repmgr_start(st->env, 1, DB_REP_CLIENT);
	if (err == 0 && st->opt.repl.join_only) {
		/* Measured: a worker that took the listener's place answered for the node as its
		 * master, with no dispatch for the replicas' forwards, until the node stopped. The
		 * caller's close stops this process's Replication Manager again. */
		STORE_LOG(&st->opt, LOG_WARN, "replication: no replication process is running yet; "
		                              "waiting for it");
		return STORE_NO_MASTER;
	}
	if (err == 0)
		STORE_LOG(&st->opt, LOG_WARN,
		          "replication: no replication process was running; this process listens");
	else if (err != DB_REP_IGNORE) {
		STORE_LOG(&st->opt, LOG_ERROR, "repmgr_start: %s", db_strerror(err));
		return STORE_UNAVAILABLE;
	}
	await_connections(st);
	store_repl_nodelay(st, 1);
	return STORE_OK;
}

int store_repl_start(struct store *st)
{
	int err;

	if (set_sites(st) != 0)
		return STORE_UNAVAILABLE;
	/* Replicas' forwarded writes run here when this node is the master (store_forward.c). */
	if ((err = st->env->repmgr_msg_dispatch(st->env, store_forward_dispatch, 0)) != 0) {
		STORE_LOG(&st->opt, LOG_ERROR, "repmgr_msg_dispatch: %s", db_strerror(err));
		return STORE_UNAVAILABLE;
	}
	for (;;) {
		/* Message threads: forwarded writes each hold one while their commit waits for its
		 * acknowledgements, and the replica's log records need one too. */
		err = st->env->repmgr_start(st->env, REPL_THREADS, DB_REP_ELECTION);
		if (err == 0 || err == DB_REP_IGNORE)
			return STORE_OK;
		if (err != DB_REP_UNAVAIL) {
			STORE_LOG(&st->opt, LOG_ERROR, "repmgr_start: %s", db_strerror(err));
			return STORE_UNAVAILABLE;
		}
		/* No member answered yet (all starting, or this one not admitted yet). */
		STORE_LOG(&st->opt, LOG_INFO, "replication: waiting for a member of the group");
		if (st->opt.repl.waiting)
			st->opt.repl.waiting(st->opt.repl.waiting_ctx);
		clock_sleep_ms(REPL_JOIN_RETRY_MS);
	}
}

/* Log bytes between two positions of one log (file size: DB_CONFIG's set_lg_max). */
static uint64_t lsn_gap(DB_ENV *env, const DB_LSN *from, const DB_LSN *to)
{
	u_int32_t max = 0;

	if (to->file == 0 || to->file < from->file ||
	    (to->file == from->file && to->offset <= from->offset))
		return 0;
	env->get_lg_max(env, &max);
	return (uint64_t)(to->file - from->file) * max + to->offset - from->offset;
}

/* The HOST:PORT of member eid, into out (STORE_REPL_ADDRESS_MAX bytes); "" when unknown. */
static void address_of(struct store *st, int eid, char *out)
{
	DB_REPMGR_SITE *list = NULL;
	u_int count = 0;

	out[0] = '\0';
	if (eid < 0 || st->env->repmgr_site_list(st->env, &count, &list) != 0)
		return;
	for (u_int i = 0; i < count; i++)
		if (list[i].eid == eid)
			snprintf(out, STORE_REPL_ADDRESS_MAX, "%s:%u", list[i].host, list[i].port);
	free(list);
}

/* What rep_stat says now (it may wait on the replication region's mutexes); *eid: the master's
 * eid as a replica knows it, else -1. */
static int status_now(struct store *st, struct store_repl_status *out, int *eid)
{
	DB_REP_STAT *sp = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	*eid = -1;
	err = st->env->rep_stat(st->env, &sp, 0);
	if (err != 0)
		return STORE_DB_ERROR(st, NULL, err, "rep_stat");
	if (sp->st_status == DB_REP_CLIENT)
		*eid = (int)sp->st_master;
	out->elections = (uint64_t)sp->st_elections;
	if (sp->st_status == DB_REP_MASTER) {
		out->role = STORE_ROLE_MASTER;
		snprintf(out->master, sizeof(out->master), "%s", st->opt.repl.address);
		out->ready = 1;
	} else if (sp->st_status == DB_REP_CLIENT && sp->st_master >= 0 &&
	           !sp->st_election_status) {
		out->role = STORE_ROLE_REPLICA;
		address_of(st, (int)sp->st_master, out->master);
		out->lag_bytes = lsn_gap(st->env, &sp->st_next_lsn, &sp->st_waiting_lsn);
		out->ready = sp->st_startup_complete != 0;
	} else {
		out->role = STORE_ROLE_ELECTING;
	}
	free(sp);
	return STORE_OK;
}

/*
 * A subordinate's view of the role (workers, nextid-sequencer, nextid-grpc). rep_stat waits on
 * the replication region's mutex, which a replica's message thread holds while it applies the
 * master's log, through a sync with a new master (measured: request threads of a worker held
 * there past request_timeout_s, then killed inside Berkeley DB, and the node recovered). So a
 * thread of the process's own asks every ROLE_WATCH_EVERY_MS and may wait as long as it takes;
 * requests read what it found, and an answer older than ROLE_WATCH_STALE_MS counts as an
 * election (No master) rather than a wait.
 */
#define ROLE_WATCH_EVERY_MS 50
#define ROLE_WATCH_STALE_MS 1000

static struct role_watch {
	pthread_mutex_t lock;
	struct store *st;         /* the base store watched; NULL: no thread */
	pthread_t thread;
	atomic_int stop;
	struct store_repl_status last;
	int eid;
	int64_t at_ms;            /* when last was read; 0: never */
} watch = { .lock = PTHREAD_MUTEX_INITIALIZER, .eid = -1 };

static void watch_store(struct store *st)
{
	struct store_repl_status s;
	int eid;

	if (status_now(st, &s, &eid) != STORE_OK)
		return;
	pthread_mutex_lock(&watch.lock);
	watch.last = s;
	watch.eid = eid;
	watch.at_ms = clock_monotonic_ms();
	pthread_mutex_unlock(&watch.lock);
}

static void *watch_role(void *arg)
{
	struct store *st = arg;

	while (!atomic_load(&watch.stop)) {
		watch_store(st);
		clock_sleep_ms(ROLE_WATCH_EVERY_MS);
	}
	return NULL;
}

/* Start the watcher for base store st (once per process); the first answer is read at once. */
static void watch_start(struct store *st)
{
	sigset_t all, old;

	pthread_mutex_lock(&watch.lock);
	if (watch.st) {
		pthread_mutex_unlock(&watch.lock);
		return;
	}
	watch.st = st;
	atomic_store(&watch.stop, 0);
	pthread_mutex_unlock(&watch.lock);
	watch_store(st);
	sigfillset(&all); /* the process's signals stay its other threads' */
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&watch.thread, NULL, watch_role, st) != 0) {
		pthread_mutex_lock(&watch.lock);
		watch.st = NULL;
		pthread_mutex_unlock(&watch.lock);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void store_repl_watch_stop(struct store *st)
{
	pthread_mutex_lock(&watch.lock);
	if (watch.st != st) {
		pthread_mutex_unlock(&watch.lock);
		return;
	}
	atomic_store(&watch.stop, 1);
	pthread_mutex_unlock(&watch.lock);
	pthread_join(watch.thread, NULL);
	pthread_mutex_lock(&watch.lock);
	watch.st = NULL;
	watch.at_ms = 0;
	watch.eid = -1;
	pthread_mutex_unlock(&watch.lock);
}

/* The watched view: 1 with *out and *eid filled, 0 when this process has no watcher. */
static int watched(struct store *st, struct store_repl_status *out, int *eid)
{
	struct store *b = st->owner ? st->owner : st;
	int64_t now;

	if (b->opt.repl.mode != STORE_REPL_JOIN)
		return 0;
	watch_start(b);
	pthread_mutex_lock(&watch.lock);
	if (watch.st != b) {
		pthread_mutex_unlock(&watch.lock);
		return 0;
	}
	now = clock_monotonic_ms();
	if (watch.at_ms != 0 && now - watch.at_ms <= ROLE_WATCH_STALE_MS) {
		*out = watch.last;
		*eid = watch.eid;
	} else {
		memset(out, 0, sizeof(*out));
		out->role = STORE_ROLE_ELECTING;
		*eid = -1;
	}
	pthread_mutex_unlock(&watch.lock);
	return 1;
}

int store_repl_status(struct store *st, struct store_repl_status *out)
{
	int eid;

	memset(out, 0, sizeof(*out));
	if (!store_replicated(&st->opt))
		return STORE_OK;
	if (watched(st, out, &eid))
		return STORE_OK;
	return status_now(st->owner ? st->owner : st, out, &eid);
}

int store_repl_master_eid(struct store *st)
{
	struct store_repl_status s;
	int eid = -1;

	if (!store_replicated(&st->opt))
		return -1;
	if (!watched(st, &s, &eid))
		status_now(st->owner ? st->owner : st, &s, &eid);
	return eid;
}

const char *store_repl_role_name(enum store_repl_role role)
{
	switch (role) {
	case STORE_ROLE_MASTER: return "master";
	case STORE_ROLE_REPLICA: return "replica";
	case STORE_ROLE_ELECTING: return "electing";
	case STORE_ROLE_NONE: break;
	}
	return "none";
}

/*
 * The id generator's mark, replicated: ids are unique by shard_id, each node issuing its own, so
 * the mark is the node's, not the group's (meta.db is replicated, and read-only on a replica).
 * It lives in <data_dir>/generator.mark: 16 bytes, the mark and its epoch (big-endian), replaced
 * whole (temporary file, fsync, rename) under an flock, so a crash leaves the old or the new one.
 */
#define MARK_FILE "generator.mark"
#define MARK_BYTES 16

static int mark_file_read(const struct store_options *opt, struct store_mark *out)
{
	char path[STORE_PATH_MAX];
	unsigned char buf[MARK_BYTES + 1];
	ssize_t n;
	int fd;

	out->ms = 0;
	out->epoch_ms = STORE_MARK_NO_EPOCH;
	snprintf(path, sizeof(path), "%s/" MARK_FILE, opt->data_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? STORE_OK : STORE_UNAVAILABLE;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != MARK_BYTES) {
		STORE_LOG(opt, LOG_ERROR, "%s is damaged (%zd bytes)", path, n);
		return STORE_UNAVAILABLE;
	}
	out->ms = (int64_t)bigendian_get(buf, 8);
	out->epoch_ms = (int64_t)bigendian_get(buf + 8, 8);
	return STORE_OK;
}

static int mark_file_write(const struct store_options *opt, const struct store_mark *m)
{
	char path[STORE_PATH_MAX], tmp[STORE_PATH_MAX];
	unsigned char buf[MARK_BYTES];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/" MARK_FILE, opt->data_dir);
	snprintf(tmp, sizeof(tmp), "%s/" MARK_FILE ".tmp", opt->data_dir);
	bigendian_put(buf, (uint64_t)m->ms, 8);
	bigendian_put(buf + 8, (uint64_t)m->epoch_ms, 8);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, STORE_FILE_MODE);
	if (fd < 0)
		return errno == ENOSPC || errno == EDQUOT ? STORE_FULL : STORE_UNAVAILABLE;
	ok = write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, path) != 0) {
		STORE_LOG(opt, LOG_ERROR, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return STORE_UNAVAILABLE;
	}
	if ((fd = open(opt->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return STORE_OK;
}

/* The mark file's lock: one raise at a time across the node's processes and threads. */
static int mark_lock(const struct store_options *opt)
{
	char path[STORE_PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/" MARK_FILE ".lock", opt->data_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, STORE_FILE_MODE);
	if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int store_mark_file_get(const struct store_options *opt, struct store_mark *out)
{
	int fd = mark_lock(opt), rc;

	if (fd < 0)
		return STORE_UNAVAILABLE;
	rc = mark_file_read(opt, out);
	close(fd);
	return rc;
}

int store_mark_file_raise(const struct store_options *opt, int64_t ms, int64_t epoch_ms)
{
	struct store_mark have, want = { .ms = ms, .epoch_ms = epoch_ms };
	int fd = mark_lock(opt), rc;

	if (fd < 0)
		return STORE_UNAVAILABLE;
	rc = mark_file_read(opt, &have);
	if (rc == STORE_OK &&
	    !(have.ms != 0 && have.epoch_ms == epoch_ms && have.ms >= ms)) {
		int64_t reach = ms - epoch_ms;

		if (have.ms != 0 && have.epoch_ms != STORE_MARK_NO_EPOCH &&
		    have.ms - have.epoch_ms > reach)
			reach = have.ms - have.epoch_ms;
		want.ms = epoch_ms + reach;
		rc = mark_file_write(opt, &want);
	}
	close(fd);
	return rc;
}

#define REPL_WAIT_TICK_MS 200

int store_repl_has_databases(const struct store_options *opt)
{
	static const char *const files[] = { STORE_SEQUENCES_FILE, STORE_NAMES_FILE,
		                             STORE_META_FILE, STORE_AUDIT_FILE };
	char path[STORE_PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", opt->data_dir, files[i]);
		if (access(path, F_OK) != 0)
			return 0;
	}
	return 1;
}

int store_repl_await_store(struct store *st, int had_store)
{
	/* A member that had its databases before this start serves reads (and answers "No
	 * master" to writes) while the group elects or it catches up; a new one waits for the end
	 * of its first copy: opening the databases while it arrives waited seconds (measured). */
	STORE_LOG(&st->opt, LOG_INFO, "replication: waiting for the group");
	for (int tick = 0;; tick++) {
		struct store_repl_status s;

		if (store_repl_status(st, &s) == STORE_OK &&
		    (s.ready || (had_store && s.role != STORE_ROLE_NONE && tick > 0)))
			return STORE_OK;
		if (st->opt.repl.waiting)
			st->opt.repl.waiting(st->opt.repl.waiting_ctx);
		clock_sleep_ms(REPL_WAIT_TICK_MS);
	}
}

void store_repl_configure(struct store_options *opt, const struct repl_keys *k)
{
	struct store_replication *r = &opt->repl;

	memset(r, 0, sizeof(*r));
	if (!k->address || !k->address[0])
		return;
	r->address = k->address;
	for (size_t i = 0; i < k->npeers && i < STORE_REPL_PEERS_MAX; i++)
		r->peers[r->peer_count++] = k->peers[i];
	r->priority = (unsigned)k->priority;
	r->ack_policy = (enum store_ack_policy)k->ack_policy;
	r->ack_timeout_ms = (unsigned)k->ack_timeout_ms;
	r->election_timeout_ms = (unsigned)k->election_timeout_ms;
	r->heartbeat_ms = (unsigned)k->heartbeat_ms;
	r->group_creator = k->creator != 0;
	r->call_limit_ms = k->call_limit_ms > 0 && k->call_limit_ms <= UINT32_MAX
	                           ? (unsigned)k->call_limit_ms
	                           : 0;
	r->mode = STORE_REPL_JOIN;
}

int store_repl_remove(struct store *st, const char *address)
{
	DB_SITE *site;
	int err;

	if (!store_replicated(&st->opt))
		return STORE_INVALID;
	if (!(site = site_of(st, address)))
		return STORE_INVALID;
	err = site->remove(site); /* frees the handle; the master carries it out */
	if (err != 0) {
		STORE_LOG(&st->opt, LOG_ERROR, "remove member %s: %s", address, db_strerror(err));
		return err == DB_REP_UNAVAIL || err == DB_TIMEOUT ? STORE_NO_MASTER
		                                                  : STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

int store_repl_members(struct store *st, struct store_member *out, size_t max, size_t *n)
{
	DB_REPMGR_SITE *list = NULL;
	struct store_repl_status self;
	u_int count = 0;
	int err;

	*n = 0;
	if (!store_replicated(&st->opt))
		return STORE_OK;
	if (store_repl_status(st, &self) != STORE_OK)
		return STORE_UNAVAILABLE;
	if (max > 0) {
		memset(&out[0], 0, sizeof(out[0]));
		snprintf(out[0].address, sizeof(out[0].address), "%s", st->opt.repl.address);
		out[0].role = self.role;
		out[0].connected = 1;
		out[0].self = 1;
		out[0].lag_bytes = self.lag_bytes;
		*n = 1;
	}
	if ((err = st->env->repmgr_site_list(st->env, &count, &list)) != 0)
		return STORE_DB_ERROR(st, NULL, err, "repmgr_site_list");
	for (u_int i = 0; i < count && *n < max; i++) {
		struct store_member *m = &out[(*n)++];

		memset(m, 0, sizeof(*m));
		snprintf(m->address, sizeof(m->address), "%s:%u", list[i].host, list[i].port);
		m->connected = list[i].status == DB_REPMGR_CONNECTED;
		m->role = strcmp(m->address, self.master) == 0 ? STORE_ROLE_MASTER
		          : m->connected                      ? STORE_ROLE_REPLICA
		                                              : STORE_ROLE_NONE;
	}
	free(list);
	for (size_t i = 0; i < *n; i++)
		if (store_member_shard(st, out[i].address, &out[i].shard) != STORE_OK)
			out[i].shard = 0;
	return STORE_OK;
}

/*
 * TCP_NODELAY on this process's replication connections. Berkeley DB 5.3 leaves Nagle's
 * algorithm on, and a commit's log record and its acknowledgement are small writes that then
 * wait for the peer's delayed ACK: measured, 47 ms per /next on the master (one client) and 48 ms
 * through a replica, against about 1 ms with it off. Berkeley DB offers no option, so every TCP
 * socket of the process gets it; they are the Replication Manager's, or nextid's own (FastCGI
 * over TCP, gRPC), which want it too. Cheap, and at most every NODELAY_EVERY_MS per process:
 * connections come and go (reconnects, a new master).
 */
#define NODELAY_EVERY_MS 500
#define NODELAY_FD_MAX 4096

static _Atomic int64_t nodelay_last_ms = INT64_MIN / 2;

/* TCP_NODELAY on fd if it is a TCP socket that has Nagle's algorithm on. */
static void nodelay_fd(int fd)
{
	int type = 0, domain = 0, on = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
		return;
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
	    (domain != AF_INET && domain != AF_INET6))
		return;
	len = sizeof(on);
	if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0 && !on) {
		on = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
}

/* The process's open descriptors from /proc/self/fd (a few dozen), rather than an fstat of
 * every number below NODELAY_FD_MAX (measured: 2.5 % of all CPU samples with three nodes under
 * load). Returns 0 when /proc is not there. */
static int nodelay_open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;

	if (!dir)
		return 0;
	while ((e = readdir(dir)) != NULL) {
		const char *why;
		uint64_t fd;

		if (numparse_u64(e->d_name, strlen(e->d_name), 0, INT32_MAX, &fd, &why) == 0 &&
		    (int)fd != dirfd(dir))
			nodelay_fd((int)fd);
	}
	closedir(dir);
	return 1;
}

void store_repl_nodelay(const struct store *st, int force)
{
	int64_t now = clock_monotonic_ms(), last = atomic_load(&nodelay_last_ms);
	struct stat sb;

	if (!store_replicated(&st->opt) ||
	    (!force && (now - last < NODELAY_EVERY_MS ||
	                !atomic_compare_exchange_strong(&nodelay_last_ms, &last, now))))
		return;
	atomic_store(&nodelay_last_ms, now);
	if (nodelay_open_fds())
		return;
	for (int fd = 0; fd < NODELAY_FD_MAX; fd++)
		if (fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode))
			nodelay_fd(fd);
}
