/*
 * keeper: the store handle of nextid-grpc, shared by its store threads through peers, and the
 * watchdog over their store calls. One mutex guards the handle's life: opening, handing out
 * peers, counting the threads inside a store call, and closing once the last of them leaves a
 * handle that failed. The store calls themselves run outside the mutex, in parallel.
 */
#include "keeper.h"
#include "clock.h"
#include "config.h"
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REOPEN_INTERVAL_MS 1000 /* pause before opening the store again, and between tries */
#define OPEN_WAIT_S 10          /* store_open waits this long for a recovery to finish */
#define CHECK_INTERVAL_MS 1000  /* keeper_check pings a store idle this long */
#define WATCH_PERIOD_MS 250
#define SLOTS_MAX 64

struct keeper_slot {
	struct store *peer;           /* this slot's handle on base; NULL until first used */
	_Atomic int64_t deadline_ms;  /* monotonic ms by which its store call must end; 0: none */
};

struct keeper {
	struct store_options opt;
	int64_t call_limit_ms;  /* request_timeout_s */
	pthread_mutex_t lock;
	struct store *base;     /* NULL while the store is closed */
	unsigned inside;        /* slots inside a store call on base */
	int failed;             /* base failed: close it when inside drops to 0 */
	int outage_logged;
	int64_t next_open_ms;
	_Atomic int64_t last_used_ms;
	_Atomic int64_t open_deadline_ms; /* an open or close in progress must end by then */
	_Atomic int stopping;
	pthread_t watchdog;
	int watchdog_running;
	unsigned nslots;
	struct keeper_slot slots[SLOTS_MAX];
};

/*
 * The watchdog. Berkeley DB's mutexes block in the kernel, and one held by a process that died
 * inside the library is never released: a store call waiting for it would wait for ever, and
 * the pool's master, which kills its own workers in that case before it recovers, does not know
 * us. So a store call past its deadline ends the process for its service manager to start it
 * again, on the store the master has recovered meanwhile. Closing nothing: the store's files are
 * left to the recovery.
 */
static int overdue(int64_t deadline, int64_t now)
{
	return deadline != 0 && now > deadline;
}

static void *watch(void *arg)
{
	struct keeper *k = arg;

	while (!atomic_load(&k->stopping)) {
		int64_t now = clock_monotonic_ms();
		int stuck = overdue(atomic_load(&k->open_deadline_ms), now);

		for (unsigned i = 0; i < k->nslots && !stuck; i++)
			stuck = overdue(atomic_load(&k->slots[i].deadline_ms), now);
		if (stuck) {
			LOG_ERROR("a store call blocked for more than %lld s (request_timeout_s): "
			          "exiting, to be started again on the recovered store",
			          (long long)(k->call_limit_ms / 1000));
			_exit(KEEPER_EXIT_STUCK);
		}
		clock_sleep_ms(WATCH_PERIOD_MS);
	}
	return NULL;
}

/* Close base and every peer of it. Called with the lock held and nobody inside. */
static void close_base(struct keeper *k)
{
	for (unsigned i = 0; i < k->nslots; i++) {
		store_close(k->slots[i].peer); /* a peer owns nothing but itself */
		k->slots[i].peer = NULL;
	}
	atomic_store(&k->open_deadline_ms, clock_monotonic_ms() + k->call_limit_ms);
	store_close(k->base);
	atomic_store(&k->open_deadline_ms, 0);
	k->base = NULL;
	k->failed = 0;
}

/* Open base when it is closed and it is time to try. Called with the lock held. */
static void open_base(struct keeper *k)
{
	int64_t now = clock_monotonic_ms();
	int rc;

	if (k->base || now < k->next_open_ms)
		return;
	k->next_open_ms = now + REOPEN_INTERVAL_MS;
	atomic_store(&k->open_deadline_ms, now + k->call_limit_ms + OPEN_WAIT_S * 1000);
	rc = store_open(&k->opt, &k->base);
	atomic_store(&k->open_deadline_ms, 0);
	if (rc != STORE_OK) {
		k->base = NULL;
		if (!k->outage_logged)
			LOG_ERROR("cannot open the store in %s; answering UNAVAILABLE until it opens "
			          "(tried every %d ms)", k->opt.data_dir, REOPEN_INTERVAL_MS);
		k->outage_logged = 1;
		return;
	}
	LOG_INFO("opened the store in %s again", k->opt.data_dir);
	k->outage_logged = 0;
}

/*
 * A failed handle is closed only once every thread has left it, and opened again only a second
 * later: the failure is how a recovery by a restarting master shows here (it marks the old
 * environment as panicked when it starts), and opening in the middle of that recovery would
 * join an environment that Berkeley DB requires nobody to use meanwhile.
 */
static void note_failure(struct keeper *k, struct store *peer, int rc)
{
	if (k->failed || !(rc == STORE_UNAVAILABLE || store_needs_recovery(peer)))
		return;
	LOG_WARN("the store %s (did nextid-fcgi restart and recover it?); closing our handle, "
	         "opening the store again in %d ms",
	         rc == STORE_UNAVAILABLE ? "did not answer" : "reported that it needs recovery",
	         REOPEN_INTERVAL_MS);
	k->failed = 1;
	k->next_open_ms = clock_monotonic_ms() + REOPEN_INTERVAL_MS;
}

int keeper_run(struct keeper *k, unsigned slot, keeper_fn *fn, void *arg)
{
	struct keeper_slot *s = &k->slots[slot];
	struct store *peer;
	int rc;

	pthread_mutex_lock(&k->lock);
	if (k->failed && k->inside == 0)
		close_base(k);
	if (!k->failed)
		open_base(k);
	if (k->base && !k->failed && !s->peer && store_open_peer(k->base, &s->peer) != STORE_OK)
		LOG_ERROR("out of memory for a store handle");
	peer = k->base && !k->failed ? s->peer : NULL;
	if (peer)
		k->inside++;
	pthread_mutex_unlock(&k->lock);
	if (!peer)
		return STORE_UNAVAILABLE;

	atomic_store(&s->deadline_ms, clock_monotonic_ms() + k->call_limit_ms);
	rc = fn(peer, arg);
	atomic_store(&s->deadline_ms, 0);
	atomic_store(&k->last_used_ms, clock_monotonic_ms());

	pthread_mutex_lock(&k->lock);
	k->inside--;
	note_failure(k, peer, rc);
	if (k->failed && k->inside == 0)
		close_base(k);
	pthread_mutex_unlock(&k->lock);
	return rc;
}

static int ping(struct store *st, void *arg)
{
	(void)arg;
	return store_ping(st);
}

void keeper_check(struct keeper *k, unsigned slot)
{
	if (clock_monotonic_ms() - atomic_load(&k->last_used_ms) >= CHECK_INTERVAL_MS)
		(void)keeper_run(k, slot, ping, NULL);
}

int keeper_open(const struct config *cfg, unsigned slots, struct keeper **out)
{
	struct keeper *k = calloc(1, sizeof(*k));
	int rc;

	*out = NULL;
	if (!k || slots == 0 || slots > SLOTS_MAX) {
		LOG_ERROR("out of memory");
		free(k);
		return STORE_UNAVAILABLE;
	}
	store_options_init(&k->opt, cfg->data_dir);
	k->opt.durability = (enum store_durability)cfg->durability; /* same order (config.h) */
	{
		struct repl_keys rk;

		config_repl_keys(cfg, &rk);
		store_repl_configure(&k->opt, &rk);
	}
	k->opt.lock_timeout_ms = (unsigned)cfg->lock_timeout_ms;
	k->opt.reserve_size = cfg->reserve_size;
	k->opt.max_sequences = (uint64_t)cfg->max_sequences;
	k->opt.log = log_sink;
	k->call_limit_ms = cfg->request_timeout_s * 1000;
	k->nslots = slots;
	pthread_mutex_init(&k->lock, NULL);
	if (pthread_create(&k->watchdog, NULL, watch, k) != 0) {
		LOG_ERROR("cannot start the watchdog thread");
		rc = STORE_UNAVAILABLE;
		goto fail;
	}
	k->watchdog_running = 1;
	atomic_store(&k->open_deadline_ms,
	             clock_monotonic_ms() + k->call_limit_ms + OPEN_WAIT_S * 1000);
	rc = store_open(&k->opt, &k->base);
	atomic_store(&k->open_deadline_ms, 0);
	if (rc != STORE_OK) {
		k->base = NULL;
		if (rc == STORE_BUSY)
			LOG_ERROR("cannot open the store in %s: a lock stayed busy (a process killed "
			          "in it; the pool's failchk frees it); start again in a moment",
			          k->opt.data_dir);
		else
			LOG_ERROR("cannot open the store in %s: nextid-fcgi creates it, start it first",
			          k->opt.data_dir);
		goto fail;
	}
	atomic_store(&k->last_used_ms, clock_monotonic_ms());
	*out = k;
	return STORE_OK;
fail:
	keeper_close(k);
	return rc;
}

void keeper_close(struct keeper *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->lock);
	if (k->base)
		close_base(k); /* under the watchdog still */
	pthread_mutex_unlock(&k->lock);
	atomic_store(&k->stopping, 1);
	if (k->watchdog_running)
		pthread_join(k->watchdog, NULL);
	pthread_mutex_destroy(&k->lock);
	free(k);
}
