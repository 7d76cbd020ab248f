/*
 * housekeeper: lock-timeout detection every 100 ms, on a thread of its own; checkpoints every
 * checkpoint_interval_s and, under a heavy write load, every HOUSEKEEPER_CHECKPOINT_LOG_KB of log, so that log files go
 * (DB_LOG_AUTO_REMOVE) long before a flood fills the disk with them; and the log file being
 * written allocated whole, so that commits do not fail for space while it lasts.
 */
#include "housekeeper.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "scoreboard.h"
#include "store.h"
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define HOUSEKEEPER_TICK_NS 100000000L
/* Measured under a flood of new names (about 13 MB of log a second), a 60 s interval let the
 * data directory grow by hundreds of MB of logs waiting for a checkpoint; with a checkpoint per
 * 8 MB (less than one 10 MB log file), it holds two or three log files. */
#define HOUSEKEEPER_CHECKPOINT_LOG_KB 8192
#define HOUSEKEEPER_SPACE_EVERY_TICKS 10
#define HOUSEKEEPER_FULL_BACKOFF_MS 5000
#define HOUSEKEEPER_CLOSE_S 2
/* How long a join may keep the heartbeat going (see join_watch_start). */
#define HOUSEKEEPER_JOIN_PATIENCE_MS 30000
/* A replication lockout normally lasts milliseconds to a second; one this long is a count
 * Berkeley DB lost (store_repl_locked_out), which only a recovery of the node resets. */
#define HOUSEKEEPER_LOCKOUT_STUCK_MS 5000

/*
 * Lock waits expire on a thread of their own, not between the tick's other work: a checkpoint
 * can take seconds (it may wait for a page another process has latched, or for a slow disk),
 * and no lock wait would expire meanwhile, so requests behind a stopped lock holder would run
 * into request_timeout_s instead of answering 503 after lock_timeout_ms.
 */
struct lock_expirer {
	pthread_t thread;
	atomic_int stop;
	int running;
	_Atomic int64_t last_pass_ms;    /* when its thread last finished a pass */
	struct store *st;
	struct scoreboard *sb;
	long long lock_timeout_ms;
};

static void expire_once(struct lock_expirer *e)
{
	int expired = store_expire_locks(e->st);

	if (expired > 0) {
		LOG_WARN("%d lock waits expired (lock_timeout_ms = %lld)", expired,
		         e->lock_timeout_ms);
		atomic_fetch_add(&e->sb->lock_timeouts, (uint64_t)expired);
	}
}

static void *expire_lock_waits(void *arg)
{
	struct lock_expirer *e = arg;
	struct timespec tick = { .tv_nsec = HOUSEKEEPER_TICK_NS };

	while (!atomic_load(&e->stop)) {
		expire_once(e);
		atomic_store(&e->last_pass_ms, clock_monotonic_ms());
		nanosleep(&tick, NULL);
	}
	return NULL;
}

/* Start the expirer; its thread leaves every signal to the tick's thread (SIGTERM must cut the
 * tick's sleep short). Without a thread the tick expires lock waits itself. */
static void lock_expirer_start(struct lock_expirer *e)
{
	sigset_t all, old;

	atomic_store(&e->stop, 0);
	atomic_store(&e->last_pass_ms, clock_monotonic_ms());
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e->running = pthread_create(&e->thread, NULL, expire_lock_waits, e) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!e->running)
		LOG_WARN("no thread for lock timeouts; the tick expires them");
}

/* The expirer's thread stuck in Berkeley DB (a mutex a dead process held) is the housekeeper's
 * stall: the tick stops stamping its heartbeat, and the pool kills and replaces it. */
#define HOUSEKEEPER_EXPIRER_STALE_MS 1000

static int lock_expirer_alive(struct lock_expirer *e)
{
	return !e->running ||
	       clock_monotonic_ms() - atomic_load(&e->last_pass_ms) <= HOUSEKEEPER_EXPIRER_STALE_MS;
}

static void lock_expirer_stop(struct lock_expirer *e)
{
	if (!e->running)
		return;
	atomic_store(&e->stop, 1);
	pthread_join(e->thread, NULL);
	e->running = 0;
}

/* Set by the SIGTERM handler; the tick loop ends when it sees it. */
static volatile sig_atomic_t keeper_stop;

static void on_sigterm(int sig)
{
	(void)sig;
	keeper_stop = 1;
}

/*
 * Replicated: claim this node's shard_id in the group's member list (through the master), so
 * that no two members issue the same /generate ids. Returns 1 once claimed, 0 to try again
 * later (no master yet), -1 when another member holds it (logged).
 */
static int claim_shard(const struct config *cfg, struct store *st)
{
	char holder[256];
	uint64_t have = 0;
	int rc;

	/* Claimed in an earlier life (the usual restart): the node's own copy says so, and the
	 * workers need not wait for a round trip to the master (measured: 4 s after a failover). */
	if (store_member_shard(st, cfg->replication_address, &have) == STORE_OK &&
	    have == (uint64_t)cfg->shard_id)
		return 1;
	rc = store_member_claim(st, cfg->replication_address, (uint64_t)cfg->shard_id, holder,
	                        sizeof(holder));

	if (rc == STORE_OK) {
		LOG_INFO("replication: shard_id %lld is this member's (%s)", (long long)cfg->shard_id,
		         cfg->replication_address);
		return 1;
	}
	if (rc != STORE_EXISTS)
		return 0;
	store_repl_remove(st, cfg->replication_address); /* no dead member left in the quorum */
	LOG_ERROR("replication: shard_id %lld belongs to member %s of the group; refusing to join "
	          "with it (give every node its own shard_id, or remove the other member: "
	          "nextidctl group remove %s)", (long long)cfg->shard_id, holder, holder);
	return -1;
}

/* While a new member waits for its copy of the store: still alive. */
static void stamp(void *ctx)
{
	atomic_store((_Atomic int64_t *)ctx, clock_monotonic_ms());
}

/*
 * Replicated, the store's open joins the group: Berkeley DB asks a member for the group's list and
 * reads its answer without a timeout, so a member stopped (SIGSTOP, a paused VM) holds the join
 * until it runs again (measured: 6 s and more, after which the pool killed the housekeeper inside
 * Berkeley DB and the node recovered). That wait is the peer's, not a hang of this process: a
 * thread stamps the heartbeat meanwhile, for at most HOUSEKEEPER_JOIN_PATIENCE_MS, after which
 * the pool's watchdog judges as before.
 */
struct join_watch {
	_Atomic int64_t *heartbeat;
	atomic_int done;
	pthread_t thread;
	int started;
};

static void *stamp_while_joining(void *arg)
{
	struct join_watch *w = arg;
	int64_t until = clock_monotonic_ms() + HOUSEKEEPER_JOIN_PATIENCE_MS;

	while (!atomic_load(&w->done) && clock_monotonic_ms() < until) {
		struct timespec tick = { .tv_nsec = HOUSEKEEPER_TICK_NS };

		atomic_store(w->heartbeat, clock_monotonic_ms());
		nanosleep(&tick, NULL);
	}
	return NULL;
}

static void join_watch_start(struct join_watch *w, _Atomic int64_t *heartbeat)
{
	sigset_t all, old;

	w->heartbeat = heartbeat;
	atomic_store(&w->done, 0);
	/* The thread takes no signal: SIGTERM stays the main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	w->started = pthread_create(&w->thread, NULL, stamp_while_joining, w) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void join_watch_stop(struct join_watch *w)
{
	atomic_store(&w->done, 1);
	if (w->started)
		pthread_join(w->thread, NULL);
}
/* Replicated: publish whether replication locks the store out (the pool opens no environment
 * meanwhile), and return 1 once one lockout has lasted HOUSEKEEPER_LOCKOUT_STUCK_MS. */
static int lockout_stuck(struct store *st, struct scoreboard *sb, int64_t *since_ms)
{
	int64_t now = clock_monotonic_ms();

	if (!store_repl_locked_out(st)) {
		*since_ms = 0;
		atomic_store(&sb->repl_lockout, 0);
		return 0;
	}
	atomic_store(&sb->repl_lockout, 1);
	if (*since_ms == 0)
		*since_ms = now;
	return now - *since_ms >= HOUSEKEEPER_LOCKOUT_STUCK_MS;
}

int housekeeper_run(const struct config *cfg, const struct store_options *store,
                    struct scoreboard *sb, int slot)
{
	struct store_options opt = *store;
	_Atomic int64_t *heartbeat = &sb->slots[slot].heartbeat_ms;
	struct sigaction sa = { .sa_handler = on_sigterm };
	struct store *st;
	int64_t last_checkpoint_ms = clock_monotonic_ms();
	unsigned ticks = 0;
	int64_t checkpoint_after_ms = 0, lockout_since_ms = 0;
	int broken, members = 0, now_members, claimed = 0, rc;
	struct join_watch watch;
	struct lock_expirer expirer;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	/* Replicated, this process is the node's replication process (store_repl_start). */
	opt.repl.mode = STORE_REPL_LISTEN;
	opt.repl.waiting = stamp;
	opt.repl.waiting_ctx = (void *)heartbeat;
	if (opt.repl.address)
		join_watch_start(&watch, heartbeat);
	rc = store_open(&opt, &st);
	if (opt.repl.address)
		join_watch_stop(&watch);
	if (rc != STORE_OK) {
		sleep(1);
		return WORKER_EXIT_START_FAILED;
	}
	if (opt.repl.address && (claimed = claim_shard(cfg, st)) < 0) {
		store_close(st);
		return WORKER_EXIT_REFUSED;
	}
	atomic_store(&sb->repl_ready, 1);
	if (opt.repl.address)
		members = store_repl_member_count(st);
	expirer = (struct lock_expirer){ .st = st, .sb = sb,
		                         .lock_timeout_ms = (long long)cfg->lock_timeout_ms };
	lock_expirer_start(&expirer);
	while (!keeper_stop && !store_needs_recovery(st) && !store_needs_reopen(st)) {
		struct timespec tick = { .tv_nsec = HOUSEKEEPER_TICK_NS };

		/* Stamped once per tick while the lock expirer keeps passing, so a tick that never
		 * ends (a SIGSTOP, a checkpoint waiting on a mutex a dead process held), or an expirer
		 * stuck the same way, leaves the stamp to age until the master acts. */
		if (lock_expirer_alive(&expirer))
			atomic_store(heartbeat, clock_monotonic_ms());
		/* nanosleep, not clock_sleep_ms (which sleeps through signals): a SIGTERM is meant
		 * to cut this sleep short, so the loop sees keeper_stop at once. */
		nanosleep(&tick, NULL);
		if (opt.repl.address && lockout_stuck(st, sb, &lockout_since_ms)) {
			/* Closing would wait on the lockout too: the recovery cleans up after us. */
			LOG_ERROR("replication has locked the store out for %d s: recovering the node",
			          HOUSEKEEPER_LOCKOUT_STUCK_MS / 1000);
			lock_expirer_stop(&expirer);
			return WORKER_EXIT_NEEDS_RECOVERY;
		}
		store_repl_nodelay(st, 0);
		if (!expirer.running)
			expire_once(&expirer);
		if (clock_monotonic_ms() - last_checkpoint_ms >= cfg->checkpoint_interval_s * 1000LL) {
			if (store_checkpoint(st, 0) == STORE_OK)
				atomic_fetch_add(&sb->checkpoints, 1);
			last_checkpoint_ms = clock_monotonic_ms();
		} else if (clock_monotonic_ms() >= checkpoint_after_ms &&
		           store_checkpoint_due(st, HOUSEKEEPER_CHECKPOINT_LOG_KB) == STORE_FULL) {
			/* Each attempt tries every dirty page again: not ten times a second. */
			checkpoint_after_ms = clock_monotonic_ms() + HOUSEKEEPER_FULL_BACKOFF_MS;
		}
		if (++ticks % HOUSEKEEPER_SPACE_EVERY_TICKS == 0)
			store_log_allocate(st);
		if (opt.repl.address && !claimed && ticks % HOUSEKEEPER_SPACE_EVERY_TICKS == 0 &&
		    (claimed = claim_shard(cfg, st)) < 0) {
			lock_expirer_stop(&expirer);
			store_close(st);
			return WORKER_EXIT_REFUSED;
		}
		if (opt.repl.address && (now_members = store_repl_member_count(st)) != members) {
			LOG_INFO("replication: the group has %d members besides this node (was %d)",
			         now_members, members);
			members = now_members;
			atomic_fetch_add(&sb->repl_members_gen, 1);
		}
	}
	lock_expirer_stop(&expirer);
	broken = store_needs_recovery(st);
	/* No worker may start from now on until the next housekeeper listens (pool.c). */
	atomic_store(&sb->repl_ready, 0);
	/* Replicated, a forced checkpoint waited for ever (measured) once the group was stopping;
	 * the log holds everything, and the next start recovers from it. */
	if (!broken && !opt.repl.address)
		store_checkpoint(st, 1);
	/* Replicated, closing stops the Replication Manager, which joins its message threads; when
	 * the rest of the group is gone one can wait for ever for an election's lockout to end
	 * (measured, at the end of a whole group's stop). SIGALRM's default action ends the wait:
	 * the master takes that death during a stop as such, and the next start recovers. */
	if (opt.repl.address)
		alarm(HOUSEKEEPER_CLOSE_S);
	store_close(st);
	return broken ? WORKER_EXIT_NEEDS_RECOVERY : WORKER_EXIT_CLEAN;
}
