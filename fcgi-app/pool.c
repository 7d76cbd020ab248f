/*
 * pool: fork, reap, signals and recovery for the master. The master's loop waits for a signal
 * (SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR2 stay blocked and are taken with sigtimedwait) or a
 * 100 ms tick, then reaps every exited child before anything else (a zombie still looks alive to
 * failchk), and finally brings the pool back to its target shape. Store work always happens in
 * children: recovery and failchk run in short-lived helpers under a watchdog, because failchk
 * can hang forever when a process died while waiting for a lock.
 */
#include "pool.h"
#include "clock.h"
#include "generator.h"
#include "housekeeper.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "scoreboard.h"
#include "store.h"
#include "worker.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POOL_TICK_MS 100
#define CLAIM_EXTRA_S 5           /* beyond shutdown_timeout_s, for a previous pool to go */
#define FAILCHK_PERIOD_MS 10000   /* failchk also runs this often: a dead nextidctl or tool
                                     holding a lock is no child of ours to reap */
#define FAILCHK_MIN_GAP_MS 2000   /* and after expired lock waits, at most this often */
#define FAILCHK_TIMEOUT_MS 2000   /* failchk normally takes milliseconds; longer means hung */
#define RECOVER_TIMEOUT_MS 60000
#define RECOVER_TRIES 5
#define CRASH_WINDOW 10           /* this many abnormal exits ... */
#define CRASH_WINDOW_MS 10000     /* ... within this long pause respawning ... */
#define CRASH_PAUSE_MS 2000       /* ... for this long */

#define OWN_PAUSE_MS 1000        /* a tick of the master this late: it was stopped or starved */

#define BROKEN_RETRY_MIN_MS 1000  /* a store that would not recover is tried again after */
#define BROKEN_RETRY_MAX_MS 5000  /* this long, doubling up to this */

enum child_role { ROLE_NONE, ROLE_WORKER, ROLE_KEEPER };
enum helper_kind { HELPER_START, HELPER_RECOVER, HELPER_FAILCHK, HELPER_DISCARD };
/* A helper's exit status, and run_helper's result (-1: failed, crashed or hung). */
enum helper_result {
	HELPER_OK = 0,
	HELPER_FAILED = 1,  /* try again */
	HELPER_FULL = 2,    /* the disk that holds the store has no room: try again later */
	HELPER_REFUSED = 3, /* the configuration is wrong: trying again cannot help */
	HELPER_BUSY = 4,    /* failchk: a replication lockout kept it out of the store for now */
};
/* A failchk that a dead child asked for and that met a replication lockout is tried this many
 * times before the node recovers (the lockout may be one the dead child can never end). */
#define FAILCHK_BUSY_TRIES 3
#define FAILCHK_BUSY_PAUSE_MS 300

struct child {
	pid_t pid;
	int role;                /* enum child_role; ROLE_NONE = free slot */
	unsigned generation;     /* the config generation it was started with */
	int retiring;            /* sent SIGTERM; SIGKILL at deadline_ms */
	int64_t deadline_ms;
	int64_t started_ms;
};

struct pool {
	const struct pool_args *args;
	struct config cfg;       /* the current configuration */
	struct store_options store_opt; /* the store as cfg describes it (compose_store_options) */
	pid_t master_pid;
	int listen_fd;
	int claim_fd;
	struct scoreboard *sb;
	struct child kids[SCOREBOARD_SLOTS]; /* index = scoreboard slot */
	unsigned generation;
	uint64_t seen_members_gen; /* the scoreboard's repl_members_gen that follow_membership saw */
	int refused;               /* the group refused this node: exit with a failure */
	int stopping;
	int64_t stop_deadline_ms;
	int64_t crash_ms[CRASH_WINDOW];      /* ring of the latest abnormal exits */
	unsigned crash_next;
	int64_t respawn_after_ms;
	int64_t last_failchk_ms;
	uint64_t seen_lock_timeouts;
	int64_t last_tick_ms;                /* when the loop last came round */
	int64_t watch_from_ms;               /* the watchdogs count no time before this */
	int broken;                          /* recovery failed: workers answer 503, no keeper */
	int64_t broken_retry_ms;             /* when to try recovery again */
	int64_t broken_backoff_ms;
	pid_t spawned_by;                    /* who started us with the socket on fd 0, or 0 */
	int listen_own;                      /* listen_fd is ours, opened on cfg.socket */
	int restarting;                      /* SIGUSR2: stopping to run the program again */
	int keep_listener;                   /* ... handing it listen_fd */
	char exe[PATH_MAX];                  /* the program file a restart in place runs */
};

/* config's durability words are the store's durabilities, in the same order (config.h). */
_Static_assert((int)CONFIG_ACK_QUORUM == (int)STORE_ACK_QUORUM &&
                       (int)CONFIG_ACK_ALL == (int)STORE_ACK_ALL &&
                       (int)CONFIG_ACK_ONE == (int)STORE_ACK_ONE &&
                       (int)CONFIG_ACK_NONE == (int)STORE_ACK_NONE,
               "config and store ack policies differ");
_Static_assert((int)CONFIG_DURABILITY_SYNC == (int)STORE_DURABILITY_SYNC &&
                       (int)CONFIG_DURABILITY_WRITE == (int)STORE_DURABILITY_WRITE &&
                       (int)CONFIG_DURABILITY_RESERVE == (int)STORE_DURABILITY_RESERVE,
               "config and store durabilities differ");

/* The store as the current configuration describes it: for the master's helpers, and passed to
 * every child it forks (a worker adds its counters and the test hook). Again after a reload. */
static void compose_store_options(struct pool *pool)
{
	const struct config *cfg = &pool->cfg;
	struct store_options *opt = &pool->store_opt;

	store_options_init(opt, cfg->data_dir);
	opt->durability = (enum store_durability)cfg->durability;
	opt->lock_timeout_ms = (unsigned)cfg->lock_timeout_ms;
	opt->self_recovering = cfg->process_model == CONFIG_PROCESS_FCGID;
	opt->reserve_size = cfg->reserve_size;
	opt->max_sequences = (uint64_t)cfg->max_sequences;
	opt->log = log_sink;
	{
		struct repl_keys rk;

		config_repl_keys(cfg, &rk);
		store_repl_configure(opt, &rk);
	}
	opt->repl.join_only = 1; /* workers; the housekeeper listens (mode LISTEN) */
	if (cfg->replication_address[0] &&
	    cfg->request_timeout_s * 1000 <
	            cfg->replication_ack_timeout_ms + cfg->lock_timeout_ms + 1000)
		LOG_WARN("request_timeout_s (%lld s) leaves a replicated request no time to wait for "
		         "its acknowledgements: most writes will answer \"Not replicated\"; set it to "
		         "at least replication_ack_timeout_ms + lock_timeout_ms + 1 s",
		         (long long)cfg->request_timeout_s);
}

/* The master's helpers (recovery, failchk) never start the Replication Manager: Berkeley DB does
 * not support a process running it that forks, and they only repair the node's own files. */
static void store_options_for(const struct pool *pool, struct store_options *opt)
{
	*opt = pool->store_opt;
	opt->repl.mode = STORE_REPL_QUIET;
}

/* In a new child: name it, tie its life to the master's, undo the master's signal setup. */
static void child_enter(const struct pool *pool, const char *name, const char *role)
{
	sigset_t none;

	prctl(PR_SET_NAME, name, 0, 0, 0);
	/* If the master dies, so do its children: the next master recovers the store, which is only
	 * safe with nobody attached. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != pool->master_pid)
		_exit(WORKER_EXIT_START_FAILED);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	log_setup((int)pool->cfg.log_level, role);
}


/* Say why generator_resume refused (BEFORE_EPOCH or EPOCH_LATER, the latter with the epoch of
 * the ids issued), in terms an operator can act on. */
static void log_resume_refusal(const struct pool *pool, int rc, int64_t mark_epoch_ms,
                               int64_t now_ms, int64_t behind_ms)
{
	char epoch[CONFIG_TIME_MAX], mark_epoch[CONFIG_TIME_MAX], clock[CONFIG_TIME_MAX];

	config_format_time(pool->cfg.generator_epoch_ms, epoch, sizeof(epoch));
	config_format_time(mark_epoch_ms, mark_epoch, sizeof(mark_epoch));
	config_format_time(now_ms, clock, sizeof(clock));
	if (rc == GENERATOR_BEFORE_EPOCH)
		LOG_ERROR("generator_epoch %s is after the clock (%s, %lld ms before it): /generate "
		          "counts time from the epoch, so it must be in the past; fix "
		          "generator_epoch or the clock",
		          epoch, clock, (long long)behind_ms);
	else
		LOG_ERROR("generator_epoch %s is later than %s, the epoch of the ids this store has "
		          "issued; counted from it, the clock (%s) is %lld ms behind them, so new ids "
		          "would repeat theirs or run that far ahead of the clock: set "
		          "generator_epoch back to %s (or earlier)",
		          epoch, mark_epoch, clock, (long long)behind_ms, mark_epoch);
}

static int helper_result_of(int store_rc)
{
	return store_rc == STORE_OK            ? HELPER_OK
	       : store_rc == STORE_FULL        ? HELPER_FULL
	       : store_rc == STORE_NO_MASTER ? HELPER_BUSY
	                                       : HELPER_FAILED;
}

/*
 * Seed the id generator from the persisted mark, once, at start-up: every id issued before may
 * have a tick up to the mark's, so the first new one must come after it (generator_resume says
 * where, and refuses an epoch that cannot work). A mark from before the epoch was kept gets the
 * configured one recorded now, so that a later change of the epoch is seen. Returns HELPER_OK,
 * HELPER_FAILED, HELPER_FULL or HELPER_REFUSED.
 */
static int seed_generator(const struct pool *pool, const struct store_options *opt)
{
	struct scoreboard *sb = pool->sb;
	struct store *st;
	struct store_mark mark = { 0 };
	int64_t epoch = pool->cfg.generator_epoch_ms, offset = 0, behind = 0, now;
	uint64_t state = 0;
	int rc = store_replicated(opt) ? STORE_UNAVAILABLE : store_open(opt, &st);

	/* Replicated, the mark is the node's own file: a new member has no databases yet. */
	if (store_replicated(opt)) {
		rc = store_mark_file_get(opt, &mark);
	} else if (rc == STORE_OK) {
		rc = store_mark_get(st, &mark);
		if (rc == STORE_OK && mark.ms != 0 && mark.epoch_ms == STORE_MARK_NO_EPOCH)
			rc = store_mark_raise(st, mark.ms, epoch);
		store_close(st);
	}
	if (rc != STORE_OK)
		return helper_result_of(rc);
	now = clock_wall_ms();
	rc = generator_resume(mark.ms, mark.epoch_ms, epoch, now, &state, &offset, &behind);
	if (rc != GENERATOR_OK) {
		log_resume_refusal(pool, rc, mark.epoch_ms, now, behind);
		return HELPER_REFUSED;
	}
	if (offset > 0)
		LOG_WARN("the clock is %lld ms behind the last ids issued; ids continue from there",
		         (long long)(offset - GENERATOR_TICK_MS));
	if (mark.ms != 0 && mark.epoch_ms != STORE_MARK_NO_EPOCH && mark.epoch_ms != epoch)
		LOG_WARN("generator_epoch moved %s by %lld ms since the last ids were issued; new "
		         "ids continue after theirs",
		         epoch < mark.epoch_ms ? "earlier" : "later",
		         (long long)(epoch < mark.epoch_ms ? mark.epoch_ms - epoch : epoch - mark.epoch_ms));
	atomic_store(&sb->gen_state, state);
	/* The mark counted from this epoch: ids up to it need no new raise. */
	atomic_store(&sb->gen_mark_ms, mark.ms != 0 ? epoch + generator_state_tick(state) *
	                                                      GENERATOR_TICK_MS : 0);
	atomic_store(&sb->gen_offset_ms, offset);
	atomic_store(&sb->gen_seeded, 1);
	return HELPER_OK;
}

static int run_helper_child(const struct pool *pool, enum helper_kind kind)
{
	struct store_options opt;
	int rc;

	child_enter(pool, "nextid-helper", kind == HELPER_FAILCHK ? "failchk" : "recovery");
	store_options_for(pool, &opt);
	if (kind == HELPER_FAILCHK)
		return helper_result_of(store_failchk(&opt));
	if (kind == HELPER_DISCARD) {
		store_discard_environment(&opt);
		return HELPER_OK;
	}
	if ((rc = store_recover(&opt)) != STORE_OK)
		return helper_result_of(rc);
	return kind == HELPER_START ? seed_generator(pool, &opt) : HELPER_OK;
}

/*
 * Run recovery or failchk in a child and wait at most timeout_ms. Returns HELPER_OK when it
 * succeeded, HELPER_FULL when the disk holding the store was too full for it, HELPER_REFUSED
 * when it refused the configuration (it logged why), HELPER_BUSY when failchk met a replication
 * lockout, -1 when it failed otherwise, crashed or hung (then it is killed). Time the master
 * itself did not run (starved on a loaded machine: measured, 2 s) does not count against the
 * helper, which was most likely starved too.
 */
static int run_helper(struct pool *pool, enum helper_kind kind, int64_t timeout_ms)
{
	const char *what = kind == HELPER_FAILCHK ? "failchk" : kind == HELPER_DISCARD ? "discard"
	                                                                               : "recovery";
	int64_t deadline = clock_monotonic_ms() + timeout_ms;
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		LOG_ERROR("fork for %s: %s", what, strerror(errno));
		return -1;
	}
	if (pid == 0)
		_exit(run_helper_child(pool, kind));
	for (int64_t last = clock_monotonic_ms(), now; waitpid(pid, &status, WNOHANG) == 0;
	     last = now) {
		now = clock_monotonic_ms();
		if (now - last > OWN_PAUSE_MS)
			deadline += now - last;
		pool->last_tick_ms = now; /* waiting here is no pause of the loop (note_own_pause) */
		if (now >= deadline) {
			LOG_ERROR("%s did not finish within %lld ms; killing it", what,
			          (long long)timeout_ms);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		clock_sleep_ms(2);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == HELPER_OK)
		return HELPER_OK;
	if (WIFEXITED(status) && WEXITSTATUS(status) == HELPER_REFUSED)
		return HELPER_REFUSED;
	if (kind == HELPER_FAILCHK && WIFEXITED(status) && WEXITSTATUS(status) == HELPER_BUSY)
		return HELPER_BUSY;
	if (WIFEXITED(status) && WEXITSTATUS(status) == HELPER_FULL) {
		LOG_ERROR("%s failed: the disk that holds the store is full", what);
		return HELPER_FULL;
	}
	LOG_ERROR("%s failed (%s %d)", what, WIFEXITED(status) ? "exit status" : "signal",
	          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return -1;
}

/* HELPER_START at start-up (recovery, then the generator's seed), HELPER_RECOVER after.
 * Returns run_helper's result of the last attempt; neither a full disk nor a refusal is tried
 * again at once. */
static int recover(struct pool *pool, enum helper_kind kind, int tries)
{
	int rc = -1;

	for (int attempt = 1; attempt <= tries; attempt++) {
		rc = run_helper(pool, kind, RECOVER_TIMEOUT_MS);
		if (rc == HELPER_OK || rc == HELPER_FULL || rc == HELPER_REFUSED)
			break;
		if (attempt < tries)
			clock_sleep_ms(200 * attempt);
	}
	return rc;
}

/*
 * Recovery failed: serve without a store rather than exit. Workers answer every request that
 * needs the store with a JSON 503 ("Storage full" when the disk is) instead of the web server's
 * error page, no housekeeper runs, and recovery is tried again with a backoff until it works
 * (space freed, a file restored). What a failed recovery left of the environment goes first, so
 * nobody can join a half-recovered store meanwhile.
 */
static void enter_broken(struct pool *pool, int rc)
{
	run_helper(pool, HELPER_DISCARD, FAILCHK_TIMEOUT_MS);
	if (!pool->broken)
		pool->broken_backoff_ms = BROKEN_RETRY_MIN_MS;
	else if ((pool->broken_backoff_ms *= 2) > BROKEN_RETRY_MAX_MS)
		pool->broken_backoff_ms = BROKEN_RETRY_MAX_MS;
	pool->broken = 1;
	pool->broken_retry_ms = clock_monotonic_ms() + pool->broken_backoff_ms;
	atomic_store(&pool->sb->store_broken, rc == HELPER_FULL ? STORE_FULL : STORE_UNAVAILABLE);
	LOG_ERROR("the store cannot be recovered%s; answering 503 and trying again in %lld ms",
	          rc == HELPER_FULL ? " while its disk is full" : "",
	          (long long)pool->broken_backoff_ms);
}

/* In broken mode: one more attempt when it is due. No child has the store open (none could
 * join it), so recovery may run beside the workers; they open the store once it is done. */
static void retry_broken(struct pool *pool)
{
	int rc;

	if (!pool->broken || clock_monotonic_ms() < pool->broken_retry_ms)
		return;
	atomic_fetch_add(&pool->sb->recoveries, 1);
	rc = recover(pool, atomic_load(&pool->sb->gen_seeded) ? HELPER_RECOVER : HELPER_START, 1);
	if (rc != HELPER_OK) {
		enter_broken(pool, rc);
		return;
	}
	pool->broken = 0;
	atomic_store(&pool->sb->store_broken, 0);
	pool->last_failchk_ms = clock_monotonic_ms();
	LOG_INFO("store recovered; serving again");
}

static int spawn(struct pool *pool, enum child_role role)
{
	struct child *kid = NULL;
	struct scoreboard_slot *slot;
	size_t i;
	pid_t pid;

	for (i = 0; i < SCOREBOARD_SLOTS && !kid; i++)
		if (pool->kids[i].role == ROLE_NONE)
			kid = &pool->kids[i];
	if (!kid) {
		LOG_ERROR("no free scoreboard slot for a new worker");
		return -1;
	}
	i = (size_t)(kid - pool->kids);
	slot = &pool->sb->slots[i];
	for (size_t t = 0; t < CONFIG_THREADS_MAX; t++)
		atomic_store(&slot->busy_since_ms[t], 0);
	atomic_store(&slot->heartbeat_ms, 0); /* a stamp of the slot's last housekeeper is no sign */
	atomic_store(&slot->stale, 0);
	atomic_store(&slot->state, SLOT_STARTING);
	atomic_store(&slot->role, role == ROLE_KEEPER ? SLOT_ROLE_KEEPER : SLOT_ROLE_WORKER);
	pid = fork();
	if (pid < 0) {
		LOG_ERROR("fork: %s", strerror(errno));
		atomic_store(&slot->state, SLOT_FREE);
		atomic_store(&slot->role, SLOT_ROLE_NONE);
		return -1;
	}
	if (pid == 0) {
		if (role == ROLE_KEEPER) {
			child_enter(pool, "nextid-keeper", "housekeeper");
			_exit(housekeeper_run(&pool->cfg, &pool->store_opt, pool->sb, (int)i));
		}
		struct worker_args args = { .cfg = &pool->cfg, .store = &pool->store_opt,
			                    .sb = pool->sb, .slot = (int)i,
			                    .listen_fd = pool->listen_fd,
			                    .hold_lock_ms = pool->args->hold_lock_ms };
		child_enter(pool, "nextid-worker", "worker");
		_exit(worker_run(&args));
	}
	*kid = (struct child){ .pid = pid, .role = (int)role, .generation = pool->generation,
		               .started_ms = clock_monotonic_ms() };
	atomic_store(&slot->pid, pid);
	LOG_DEBUG("started %s %d", role == ROLE_KEEPER ? "housekeeper" : "worker", (int)pid);
	return 0;
}

static struct child *child_by_pid(struct pool *pool, pid_t pid)
{
	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++)
		if (pool->kids[i].role != ROLE_NONE && pool->kids[i].pid == pid)
			return &pool->kids[i];
	return NULL;
}

static void release(struct pool *pool, struct child *kid)
{
	struct scoreboard_slot *slot = &pool->sb->slots[kid - pool->kids];

	/* The process is gone: what it counted moves to the pool's totals, so no count is lost. */
	metrics_fold(&pool->sb->retired, &slot->m);
	/* Replicated: no worker starts until the next housekeeper is the replication process. */
	if (kid->role == ROLE_KEEPER) {
		atomic_store(&pool->sb->repl_ready, 0);
		atomic_store(&pool->sb->repl_lockout, 0);
	}
	atomic_store(&slot->pid, 0);
	atomic_store(&slot->role, SLOT_ROLE_NONE);
	atomic_store(&slot->state, SLOT_FREE);
	memset(kid, 0, sizeof(*kid));
}

static void note_crash(struct pool *pool)
{
	int64_t now = clock_monotonic_ms();

	pool->crash_ms[pool->crash_next++ % CRASH_WINDOW] = now;
	atomic_fetch_add(&pool->sb->worker_restarts, 1);
	/* The oldest of the last CRASH_WINDOW exits sits where the next one will go. */
	if (pool->crash_next >= CRASH_WINDOW &&
	    now - pool->crash_ms[pool->crash_next % CRASH_WINDOW] < CRASH_WINDOW_MS) {
		LOG_ERROR("%d abnormal exits within %d s: pausing respawns for %d ms", CRASH_WINDOW,
		          CRASH_WINDOW_MS / 1000, CRASH_PAUSE_MS);
		pool->respawn_after_ms = now + CRASH_PAUSE_MS;
	}
}

/* Log one exit; returns what it asks of the master: 0 nothing, 1 failchk, 2 full recovery. */
static int on_exit_status(struct pool *pool, struct child *kid, int status)
{
	const char *what = kid->role == ROLE_KEEPER ? "housekeeper" : "worker";
	long long lived_ms = (long long)(clock_monotonic_ms() - kid->started_ms);

	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_CLEAN) {
		LOG_DEBUG("%s %d exited after %lld ms", what, (int)kid->pid, lived_ms);
		return 0;
	}
	if (pool->stopping) {
		LOG_WARN("%s %d ended abnormally during shutdown", what, (int)kid->pid);
		return 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_REFUSED) {
		LOG_ERROR("this node may not join its replication group (see above); stopping");
		pool->refused = 1; /* the main loop stops */
		return 0;
	}
	note_crash(pool);
	if (WIFSIGNALED(status)) {
		LOG_WARN("%s %d killed by signal %d after %lld ms", what, (int)kid->pid,
		         WTERMSIG(status), lived_ms);
		return 1;
	}
	LOG_WARN("%s %d exited with status %d after %lld ms", what, (int)kid->pid,
	         WEXITSTATUS(status), lived_ms);
	if (WEXITSTATUS(status) == WORKER_EXIT_NEEDS_RECOVERY)
		return 2;
	/* These exits happen outside any transaction: nothing for failchk to clean. */
	return WEXITSTATUS(status) == WORKER_EXIT_START_FAILED ||
	               WEXITSTATUS(status) == WORKER_EXIT_ACCEPT_FAILED
	               ? 0
	               : 1;
}

/* Reap every exited child. Returns the strongest demand of their exits (see on_exit_status). */
static int reap(struct pool *pool)
{
	int status, demand = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *kid = child_by_pid(pool, pid);
		int d;

		if (!kid)
			continue;
		d = on_exit_status(pool, kid, status);
		if (d > demand)
			demand = d;
		release(pool, kid);
	}
	return demand;
}

/*
 * Replicated, what asks for a recovery is mostly the node's replication state (a lockout that
 * never ends), not a hung worker: the workers answer "No master" meanwhile, and SIGKILL would
 * cut the requests in their hands (the web server's error page). They get STOP_GRACE_MS to
 * finish those and exit; the rest are killed with the others.
 */
#define STOP_GRACE_MS 1000

static void let_workers_finish(struct pool *pool)
{
	int64_t until = clock_monotonic_ms() + STOP_GRACE_MS;
	int left = 0;

	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++)
		if (pool->kids[i].role == ROLE_WORKER && kill(pool->kids[i].pid, SIGTERM) == 0)
			left++;
	while (left > 0 && clock_monotonic_ms() < until) {
		left = 0;
		for (size_t i = 0; i < SCOREBOARD_SLOTS; i++) {
			struct child *kid = &pool->kids[i];

			if (kid->role != ROLE_WORKER)
				continue;
			if (waitpid(kid->pid, NULL, WNOHANG) == kid->pid)
				release(pool, kid);
			else
				left++;
		}
		if (left > 0)
			clock_sleep_ms(10);
	}
}

/* Kill every child, wait for each, recover the store; the tick then starts a fresh pool. The
 * listening socket stays open throughout: requests wait in its backlog. */
static void stop_the_world(struct pool *pool)
{
	int rc;

	LOG_WARN("stopping every process to recover the store");
	if (pool->cfg.replication_address[0])
		let_workers_finish(pool);
	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++)
		if (pool->kids[i].role != ROLE_NONE)
			kill(pool->kids[i].pid, SIGKILL);
	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++) {
		if (pool->kids[i].role == ROLE_NONE)
			continue;
		while (waitpid(pool->kids[i].pid, NULL, 0) < 0 && errno == EINTR)
			;
		release(pool, &pool->kids[i]);
	}
	atomic_fetch_add(&pool->sb->recoveries, 1);
	rc = recover(pool, atomic_load(&pool->sb->gen_seeded) ? HELPER_RECOVER : HELPER_START,
	             RECOVER_TRIES);
	if (rc != HELPER_OK) {
		enter_broken(pool, rc);
		return;
	}
	LOG_INFO("store recovered");
}

/* failchk, tried again up to `tries` times while a replication lockout keeps it out (a sync with
 * a new master lasts milliseconds to a second or so). */
static int failchk_past_lockout(struct pool *pool, int tries)
{
	int rc = HELPER_BUSY;

	for (int i = 0; i < tries && rc == HELPER_BUSY; i++) {
		if (i > 0)
			clock_sleep_ms(FAILCHK_BUSY_PAUSE_MS);
		if (atomic_load(&pool->sb->repl_lockout))
			continue; /* opening now would cost a count (store_repl_locked_out) */
		atomic_fetch_add(&pool->sb->failchk_runs, 1);
		rc = run_helper(pool, HELPER_FAILCHK, FAILCHK_TIMEOUT_MS);
	}
	return rc;
}

/*
 * Act on what reap() or the timer asks: demand 1 runs failchk, 2 recovers the whole node.
 * `routine`: the timer's failchk, which no death asked for (a dead nextidctl may hold locks);
 * one that a replication lockout kept out waits for the next period instead of recovering.
 */
static void repair(struct pool *pool, int demand, int routine)
{
	int rc;

	if (pool->broken)
		return; /* no child has the store open: nothing to repair until it recovers */
	if (demand == 1) {
		pool->last_failchk_ms = clock_monotonic_ms();
		rc = failchk_past_lockout(pool, routine ? 1 : FAILCHK_BUSY_TRIES);
		if (rc == HELPER_OK)
			return;
		if (rc == HELPER_BUSY && routine) {
			LOG_INFO("failchk put off: the store is locked out by a sync with the "
			         "replication master");
			return;
		}
		/* failchk writes log records for what it releases; with the disk full it cannot,
		 * and recovery, which needs room too, would only take the store away. What the
		 * dead process holds stays held (requests for it answer 503) until there is room:
		 * the timer tries again. */
		if (rc == HELPER_FULL) {
			LOG_WARN("failchk waits for room on the disk that holds the store");
			return;
		}
		/* Children that died meanwhile are zombies; stop_the_world kills the rest anyway. */
	}
	if (demand >= 1)
		stop_the_world(pool);
}

static void retire(struct pool *pool, struct child *kid)
{
	kid->retiring = 1;
	kid->deadline_ms = clock_monotonic_ms() + pool->cfg.shutdown_timeout_s * 1000;
	kill(kid->pid, SIGTERM);
}

struct census {
	int current, ready, old, retiring, keeper;
	struct child *an_old, *a_current, *old_keeper;
};

static struct census count_children(struct pool *pool)
{
	struct census c = { 0 };

	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++) {
		struct child *kid = &pool->kids[i];

		if (kid->role == ROLE_KEEPER) {
			c.keeper++;
			if (kid->generation != pool->generation && !kid->retiring)
				c.old_keeper = kid;
		}
		if (kid->role != ROLE_WORKER)
			continue;
		if (kid->retiring) {
			c.retiring++;
		} else if (kid->generation == pool->generation) {
			c.current++, c.a_current = kid;
			c.ready += atomic_load(&pool->sb->slots[i].state) != SLOT_STARTING;
		} else {
			c.old++, c.an_old = kid;
		}
	}
	return c;
}

/* SIGKILL children that outlived their grace period; the reap that follows runs failchk. */
static void enforce_deadlines(struct pool *pool)
{
	int64_t now = clock_monotonic_ms();

	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++) {
		struct child *kid = &pool->kids[i];

		if (kid->role != ROLE_NONE && kid->retiring && now >= kid->deadline_ms) {
			LOG_WARN("process %d ignored SIGTERM for %lld s; killing it", (int)kid->pid,
			         (long long)pool->cfg.shutdown_timeout_s);
			kill(kid->pid, SIGKILL);
			kid->deadline_ms = INT64_MAX;
		}
	}
}

/* When the oldest request a worker's threads have in hand began; 0 when none has one. */
static int64_t oldest_busy_since(const struct scoreboard_slot *slot)
{
	int64_t oldest = 0;

	for (size_t t = 0; t < CONFIG_THREADS_MAX; t++) {
		int64_t since = atomic_load(&slot->busy_since_ms[t]);

		if (since > 0 && (oldest == 0 || since < oldest))
			oldest = since;
	}
	return oldest;
}

/*
 * A master that did not come round for a second was stopped (SIGSTOP of the whole node, a paused
 * VM) or starved. Its children were most likely stopped with it, and the clock ran on meanwhile:
 * measured from before the pause, every worker in a request and the housekeeper would look hung
 * and be killed at once, and their deaths cost a recovery. The watchdogs start counting again
 * from the resume; a child that really hangs is caught one limit later.
 */

static void note_own_pause(struct pool *pool)
{
	int64_t now = clock_monotonic_ms(), gap = now - pool->last_tick_ms;

	pool->last_tick_ms = now;
	if (gap <= OWN_PAUSE_MS)
		return;
	LOG_WARN("the master did not run for %lld ms (stopped or starved); the request and "
	         "housekeeper watchdogs count from now", (long long)gap);
	pool->watch_from_ms = now;
	/* Nor is the timer's failchk due at once: the whole node resumes, replicated it syncs with
	 * the group (measured: a failchk started then did not finish in its 2 s). A child that
	 * died meanwhile still gets its failchk when it is reaped. */
	pool->last_failchk_ms = now;
}

/* SIGKILL a worker that has been answering one request for longer than request_timeout_s:
 * stopped (SIGSTOP), or hung on a mutex a dead process held. The reap that follows repairs. */
static void enforce_request_timeouts(struct pool *pool)
{
	int64_t now = clock_monotonic_ms(), limit = pool->cfg.request_timeout_s * 1000;

	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++) {
		struct child *kid = &pool->kids[i];
		int64_t since;

		if (kid->role != ROLE_WORKER)
			continue;
		since = oldest_busy_since(&pool->sb->slots[i]);
		if (since > 0 && since < pool->watch_from_ms)
			since = pool->watch_from_ms;
		if (since > 0 && now - since > limit &&
		    kid->deadline_ms != INT64_MAX) {
			LOG_ERROR("worker %d has been on one request for %lld s; killing it",
			          (int)kid->pid, (long long)((now - since) / 1000));
			/* SIGKILL ends even a stopped process; resuming it first would let it run on
			 * into the store and perhaps die inside it, which only full recovery mends. */
			kill(kid->pid, SIGKILL);
			kid->deadline_ms = INT64_MAX;
		}
	}
}

/*
 * How long a housekeeper may go without stamping its heartbeat. A tick is a lock detection
 * (microseconds) and, every checkpoint_interval_s, a checkpoint, which writes at most the whole
 * cache (16 MiB in the DB_CONFIG nextid writes) and syncs it: the work of many requests, hence
 * twice request_timeout_s, the time one request may take. The stalls this catches (a SIGSTOP, a
 * wait on a mutex a dead process held) last for ever, so a generous bound loses little.
 */
static int64_t keeper_stall_limit_ms(const struct config *cfg)
{
	return 2 * cfg->request_timeout_s * 1000;
}

/* SIGKILL a housekeeper that has made no progress for longer than keeper_stall_limit_ms: without
 * it lock waits are no longer expired and no checkpoint lets old log files go. The reap that
 * follows repairs, and maintain() starts another. A housekeeper being retired is left to its
 * shutdown deadline (enforce_deadlines). */
static void enforce_keeper_heartbeat(struct pool *pool)
{
	int64_t now = clock_monotonic_ms(), limit = keeper_stall_limit_ms(&pool->cfg);

	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++) {
		struct child *kid = &pool->kids[i];
		int64_t beat, last;

		if (kid->role != ROLE_KEEPER || kid->retiring || kid->deadline_ms == INT64_MAX)
			continue;
		/* A housekeeper still opening its store has not stamped yet: until it does, its
		 * start is its last sign of life, so an open that hangs is caught as well. */
		beat = atomic_load(&pool->sb->slots[i].heartbeat_ms);
		last = beat > kid->started_ms ? beat : kid->started_ms;
		if (last < pool->watch_from_ms)
			last = pool->watch_from_ms;
		if (now - last <= limit)
			continue;
		LOG_ERROR("housekeeper %d has made no progress for %lld ms (limit %lld ms, twice "
		          "request_timeout_s); killing it", (int)kid->pid, (long long)(now - last),
		          (long long)limit);
		kill(kid->pid, SIGKILL); /* ends a stopped process too, as for workers */
		kid->deadline_ms = INT64_MAX;
		atomic_fetch_add(&pool->sb->keeper_stalls, 1);
	}
}

/* failchk also runs on a timer and after expired lock waits, since the process holding a lock
 * may be a dead nextidctl or tool that no reap will ever report. */
static void failchk_when_due(struct pool *pool)
{
	uint64_t timeouts = atomic_load(&pool->sb->lock_timeouts);
	int64_t since = clock_monotonic_ms() - pool->last_failchk_ms;

	/* An environment opened during a replication lockout costs Berkeley DB a count it never
	 * finds again (store_repl_locked_out): failchk waits for the lockout's end. */
	if (atomic_load(&pool->sb->repl_lockout))
		return;
	if (since >= FAILCHK_PERIOD_MS ||
	    (timeouts != pool->seen_lock_timeouts && since >= FAILCHK_MIN_GAP_MS)) {
		pool->seen_lock_timeouts = timeouts;
		repair(pool, 1, 1);
	}
}

/*
 * Bring the pool to its target: one housekeeper and cfg.workers workers of the current
 * generation. After a reload, old workers go one at a time, and only while a ready replacement
 * stands beside them, so the workers able to answer never drop below cfg.workers.
 */
/* Replicated: when the group's membership changed, the workers (whose Replication Manager knows
 * only the members of its start) are replaced one at a time, as after a reload. */
static void follow_membership(struct pool *pool)
{
	uint64_t gen = atomic_load(&pool->sb->repl_members_gen);

	if (gen == pool->seen_members_gen)
		return;
	pool->seen_members_gen = gen;
	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++)
		if (pool->kids[i].role == ROLE_WORKER && pool->kids[i].generation == pool->generation)
			pool->kids[i].generation = pool->generation - 1;
	LOG_INFO("replication: the group changed; replacing workers one at a time");
}

/* Workers whose database handles died (a rollback) are replaced like those of an older
 * generation: one at a time, each once a replacement is ready, which after a rollback is once the
 * housekeeper has joined again. Until then they answer "No master". */
static void follow_stale_workers(struct pool *pool)
{
	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++) {
		struct child *kid = &pool->kids[i];

		if (kid->role == ROLE_WORKER && kid->generation == pool->generation &&
		    atomic_load(&pool->sb->slots[i].stale))
			kid->generation = pool->generation - 1;
	}
}

static void maintain(struct pool *pool)
{
	struct census c;

	follow_membership(pool);
	follow_stale_workers(pool);
	c = count_children(pool);

	enforce_deadlines(pool);
	enforce_request_timeouts(pool);
	enforce_keeper_heartbeat(pool);
	if (clock_monotonic_ms() < pool->respawn_after_ms)
		return;
	if (c.keeper == 0 && !pool->broken)
		spawn(pool, ROLE_KEEPER);
	else if (c.old_keeper)
		retire(pool, c.old_keeper); /* replaced at the next tick with the new settings */
	/* Replicated, a worker joins as a subordinate of the housekeeper's Replication Manager:
	 * started while no housekeeper has joined, a worker would find no replication process;
	 * and none opens the environment during a lockout (store_repl_locked_out says why). */
	if (pool->cfg.replication_address[0] &&
	    (!atomic_load(&pool->sb->repl_ready) || atomic_load(&pool->sb->repl_lockout)))
		return;
	if (c.old > 0) {
		if (c.retiring == 0) {
			if (c.current < pool->cfg.workers && c.ready == c.current &&
			    spawn(pool, ROLE_WORKER) != 0)
				return;
			if (c.ready + c.old > pool->cfg.workers)
				retire(pool, c.an_old);
		}
		return;
	}
	for (int n = c.current; n < pool->cfg.workers; n++)
		if (spawn(pool, ROLE_WORKER) != 0)
			break;
	if (c.current > pool->cfg.workers && c.retiring == 0)
		retire(pool, c.a_current);
}

static void begin_stop(struct pool *pool)
{
	if (pool->stopping)
		return;
	LOG_INFO("stopping: letting requests in progress finish");
	pool->stopping = 1;
	pool->stop_deadline_ms = clock_monotonic_ms() + pool->cfg.shutdown_timeout_s * 1000;
	for (size_t i = 0; i < SCOREBOARD_SLOTS; i++)
		if (pool->kids[i].role == ROLE_WORKER)
			kill(pool->kids[i].pid, SIGTERM);
}

/* During a stop: the housekeeper goes last, so its final checkpoint follows the last write.
 * Returns 1 when every child is gone. */
static int continue_stop(struct pool *pool)
{
	struct census c = count_children(pool);
	int workers = c.current + c.old + c.retiring;

	if (clock_monotonic_ms() >= pool->stop_deadline_ms) {
		for (size_t i = 0; i < SCOREBOARD_SLOTS; i++)
			if (pool->kids[i].role != ROLE_NONE)
				kill(pool->kids[i].pid, SIGKILL);
	}
	if (workers == 0 && c.keeper > 0) {
		for (size_t i = 0; i < SCOREBOARD_SLOTS; i++)
			if (pool->kids[i].role == ROLE_KEEPER && !pool->kids[i].retiring) {
				pool->kids[i].retiring = 1;
				kill(pool->kids[i].pid, SIGTERM);
			}
	}
	return workers == 0 && c.keeper == 0;
}

static void apply_overrides(const struct pool_args *args, struct config *cfg)
{
	if (args->socket_override)
		snprintf(cfg->socket, sizeof(cfg->socket), "%s", args->socket_override);
	if (args->workers_override > 0)
		cfg->workers = args->workers_override;
}

/*
 * SIGUSR2, a restart in place: stop every child as for SIGTERM, then run the program file again
 * in this process (restart_exec). The socket stays open throughout, so a web server's requests
 * wait in its backlog instead of being refused: an upgrade without systemd (which holds the
 * socket itself) is invisible to clients, and the new program serves them. Refused, as a reload
 * is, when the config does not load, since the new program would not start on it.
 */
static void begin_restart(struct pool *pool)
{
	char err[CONFIG_ERR_MAX];
	struct config next;

	if (config_load(pool->args->config_path, &next, err, sizeof(err)) != 0) {
		LOG_ERROR("restart refused, serving on with the running program: %s", err);
		return;
	}
	apply_overrides(pool->args, &next);
	/* A socket of ours whose path the config changed is the one thing not kept. */
	pool->keep_listener = !pool->listen_own || strcmp(next.socket, pool->cfg.socket) == 0;
	LOG_INFO("restarting in place: %s runs again in this process once the requests in progress "
	         "have finished%s",
	         pool->exe,
	         pool->keep_listener ? "; new connections wait on the socket meanwhile"
	                             : "; on the config's new socket");
	pool->restarting = 1;
	begin_stop(pool);
}

/* Every child is gone: hand over to the program file. Returns only when execv failed, and then
 * the running program serves on (the caller starts children again). */
static void restart_exec(struct pool *pool)
{
	/* fd 0 (a supervisor's socket) stays open across execv anyway, and is found there again. */
	int keep = pool->keep_listener && pool->listen_fd != 0;

	if (keep && listen_keep(pool->listen_fd) != 0) {
		LOG_ERROR("restart: cannot keep the socket open (%s); serving on with the running "
		          "program",
		          strerror(errno));
		return;
	}
	if (!pool->keep_listener && pool->cfg.socket[0] == '/')
		unlink(pool->cfg.socket); /* the new program listens on the config's new path */
	LOG_INFO("every child has stopped; running %s again", pool->exe);
	execv(pool->exe, pool->args->argv);
	LOG_ERROR("restart: cannot run %s (%s); serving on with the running program", pool->exe,
	          strerror(errno));
	if (keep)
		listen_unkeep(pool->listen_fd);
}

/* The program file this process runs, for a restart in place. After an upgrade replaced it,
 * /proc/self/exe reads "PATH (deleted)": PATH is then the new program, which is the one wanted. */
static void remember_exe(struct pool *pool)
{
	static const char deleted[] = " (deleted)";
	ssize_t n = readlink("/proc/self/exe", pool->exe, sizeof(pool->exe) - 1);
	size_t len;

	if (n <= 0) {
		snprintf(pool->exe, sizeof(pool->exe), "%s", pool->args->argv[0]);
		return;
	}
	pool->exe[n] = '\0';
	len = (size_t)n;
	if (len > sizeof(deleted) - 1 && strcmp(pool->exe + len - (sizeof(deleted) - 1), deleted) == 0)
		pool->exe[len - (sizeof(deleted) - 1)] = '\0';
}

/* SIGHUP: read the config again; the next maintain() replaces the workers one at a time. The
 * store and the socket stay as they are: moving them needs a restart. */
static void reload(struct pool *pool)
{
	char err[CONFIG_ERR_MAX];
	struct config next;

	if (config_load(pool->args->config_path, &next, err, sizeof(err)) != 0) {
		LOG_ERROR("reload refused, keeping the running configuration: %s", err);
		return;
	}
	apply_overrides(pool->args, &next);
	if (strcmp(next.data_dir, pool->cfg.data_dir) != 0 || strcmp(next.socket, pool->cfg.socket) ||
	    (next.shard_id && next.shard_id != pool->cfg.shard_id) ||
	    next.generator_epoch_ms != pool->cfg.generator_epoch_ms)
		LOG_WARN("data_dir, socket, shard_id and generator_epoch take effect at the next "
		         "restart");
	/* The generator's state counts ticks from this epoch for this shard: keep both. */
	snprintf(next.data_dir, sizeof(next.data_dir), "%s", pool->cfg.data_dir);
	snprintf(next.socket, sizeof(next.socket), "%s", pool->cfg.socket);
	next.shard_id = pool->cfg.shard_id;
	next.generator_epoch_ms = pool->cfg.generator_epoch_ms;
	pool->cfg = next;
	compose_store_options(pool);
	log_setup((int)pool->cfg.log_level, "master");
	pool->generation++;
	LOG_INFO("configuration reloaded; replacing workers one at a time");
}

static int open_listener(struct pool *pool)
{
	int fd = listen_kept();

	if (fd >= 0) {
		LOG_INFO("serving on the socket kept open across a restart in place");
		return fd;
	}
	fd = pool->args->socket_override ? -1 : listen_systemd();
	if (fd >= 0) {
		LOG_INFO("serving on the socket systemd passed");
		return fd;
	}
	if (!pool->args->socket_override && listen_inherited()) {
		/* Whoever starts us with a socket on fd 0 (a web server, or a supervisor such as
		 * `make run`) must also be able to end us, even when it dies: an orphaned pool would
		 * hold the store and keep its replacement out. */
		pool->spawned_by = getppid();
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		LOG_INFO("serving on the socket passed as fd 0 by the process that started us");
		return 0;
	}
	pool->listen_own = 1;
	return listen_open(pool->cfg.socket);
}

/* The signals the master takes synchronously with sigtimedwait; they stay blocked otherwise. */
static void master_signals(sigset_t *set)
{
	static const int signals[] = { SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2 };

	sigemptyset(set);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaddset(set, signals[i]);
}

static int start(struct pool *pool)
{
	struct store_options opt;
	sigset_t blocked;
	int64_t clock = clock_wall_ms();
	int rc;

	/* Before anything touches data_dir: an epoch in the future is a mistake to say at once
	 * (the seed checks again, against a clock that may have moved meanwhile). */
	if (clock < pool->cfg.generator_epoch_ms) {
		log_resume_refusal(pool, GENERATOR_BEFORE_EPOCH, 0, clock,
		                   pool->cfg.generator_epoch_ms - clock);
		return -1;
	}
	master_signals(&blocked);
	sigprocmask(SIG_BLOCK, &blocked, NULL);
	signal(SIGPIPE, SIG_IGN);
	store_options_for(pool, &opt);
	pool->claim_fd = store_claim(&opt, (unsigned)pool->cfg.shutdown_timeout_s + CLAIM_EXTRA_S);
	if (pool->claim_fd < 0)
		return -1;
	pool->sb = scoreboard_open();
	if (!pool->sb) {
		LOG_ERROR("cannot map the scoreboard: %s", strerror(errno));
		return -1;
	}
	rc = recover(pool, HELPER_START, RECOVER_TRIES);
	if (rc == HELPER_FULL) {
		enter_broken(pool, rc); /* serve 503s; it starts by itself once there is room */
	} else if (rc != HELPER_OK) {
		if (rc != HELPER_REFUSED)
			LOG_ERROR("cannot recover the store in %s", pool->cfg.data_dir);
		return -1;
	}
	pool->listen_fd = open_listener(pool);
	if (pool->listen_fd < 0)
		return -1;
	remember_exe(pool);
	LOG_INFO("serving with %lld workers, durability %s, data in %s",
	         (long long)pool->cfg.workers, config_durability_name(pool->cfg.durability),
	         pool->cfg.data_dir);
	return 0;
}

int pool_run(const struct pool_args *args)
{
	struct pool *pool = calloc(1, sizeof(*pool));
	sigset_t wanted;
	siginfo_t info;
	int sig;

	if (!pool)
		return EXIT_FAILURE;
	pool->args = args;
	pool->cfg = args->cfg;
	pool->master_pid = getpid();
	pool->listen_fd = pool->claim_fd = -1;
	pool->last_failchk_ms = pool->last_tick_ms = clock_monotonic_ms();
	apply_overrides(args, &pool->cfg);
	compose_store_options(pool);
	if (start(pool) != 0)
		return EXIT_FAILURE;
	master_signals(&wanted);
	for (;;) {
		struct timespec tick = { .tv_nsec = POOL_TICK_MS * 1000000L };
		sig = sigtimedwait(&wanted, &info, &tick);

		note_own_pause(pool);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
			pool->restarting = 0; /* a stop wins over a restart under way */
			begin_stop(pool);
		} else if (sig == SIGHUP && !pool->stopping) {
			reload(pool);
		} else if (sig == SIGUSR2 && !pool->stopping) {
			begin_restart(pool);
		} else if (sig == SIGUSR1) {
			LOG_INFO("signal %d ignored: logs go to stderr, nothing to reopen", sig);
		}
		if (pool->spawned_by && getppid() != pool->spawned_by &&
		    (!pool->stopping || pool->restarting)) {
			LOG_WARN("the process that started us with our socket is gone; stopping");
			pool->restarting = 0;
			begin_stop(pool);
		}
		repair(pool, reap(pool), 0);
		if (pool->refused && !pool->stopping)
			begin_stop(pool);
		if (pool->stopping) {
			if (continue_stop(pool)) {
				if (!pool->restarting)
					break;
				restart_exec(pool); /* returns only when the program could not be run */
				pool->stopping = pool->restarting = 0;
			}
		} else {
			retry_broken(pool);
			if (!pool->broken)
				failchk_when_due(pool);
			maintain(pool);
		}
	}
	LOG_INFO("stopped");
	scoreboard_close(pool->sb);
	sig = pool->refused ? EXIT_FAILURE : EXIT_SUCCESS;
	free(pool);
	return sig;
}
