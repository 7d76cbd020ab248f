/*
 * housekeeper: lock-timeout detection and checkpoints on a 100 ms tick.
 */
#include "housekeeper.h"
#include "config.h"
#include "log.h"
#include "scoreboard.h"
#include "store.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define HOUSEKEEPER_TICK_NS 100000000L

/* Signal-handler state, as in worker.c. */
static volatile sig_atomic_t keeper_stop;

static void on_sigterm(int sig)
{
	(void)sig;
	keeper_stop = 1;
}

int housekeeper_run(const struct config *cfg, struct scoreboard *sb, int slot)
{
	_Atomic int64_t *heartbeat = &sb->slots[slot].heartbeat_ms;
	struct sigaction sa = { .sa_handler = on_sigterm };
	struct store_options opt;
	struct store *st;
	time_t last_checkpoint = time(NULL);
	int broken;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	store_options_init(&opt, cfg);
	opt.log = log_from_store;
	if (store_open(&opt, &st) != STORE_OK) {
		sleep(1);
		return WORKER_EXIT_START_FAILED;
	}
	while (!keeper_stop && !store_needs_recovery(st)) {
		struct timespec tick = { .tv_nsec = HOUSEKEEPER_TICK_NS };
		int expired;

		/* Stamped once per tick, so a tick that never ends (a SIGSTOP, a checkpoint waiting on
		 * a mutex a dead process held) leaves the stamp to age until the master acts. */
		atomic_store(heartbeat, scoreboard_now_ms());
		nanosleep(&tick, NULL); /* a signal cuts the sleep short: fine */
		expired = store_expire_locks(st);
		if (expired > 0) {
			LOG_WARN("%d lock waits expired (lock_timeout_ms = %lld)", expired,
			         (long long)cfg->lock_timeout_ms);
			atomic_fetch_add(&sb->lock_timeouts, (uint64_t)expired);
		}
		if (time(NULL) - last_checkpoint >= cfg->checkpoint_interval_s) {
			store_checkpoint(st, 0);
			last_checkpoint = time(NULL);
		}
	}
	broken = store_needs_recovery(st);
	if (!broken)
		store_checkpoint(st, 1);
	store_close(st);
	return broken ? WORKER_EXIT_NEEDS_RECOVERY : WORKER_EXIT_CLEAN;
}
