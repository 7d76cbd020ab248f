/*
 * worker: one process of the pool, answering up to `threads` requests at once, one per thread.
 *
 * Why threads: under durability sync a request spends most of its time waiting for the log flush,
 * and one flush covers every commit made before it, so the more requests are in flight while a
 * flush runs, the more the next flush carries. Threads put more requests in flight without more
 * processes, which on few cores add context switches and cross-process hand-offs of a hot
 * record's lock (measured with make bench; www-conf/nextid.conf has the figures).
 *
 * Each thread owns its FastCGI request, its JSON generator and its store handle (a peer of the
 * process's, store_open_peer). They share the process's store environment, the scoreboard slot
 * (atomics, one busy clock per thread) and the decision to stop.
 *
 * Accepting: each thread accepts its connections itself (acceptor.c) and hands each to libfcgi
 * (FCGX_Request.ipcFd) to read the request; libfcgi's own accept never runs (the request's
 * listening descriptor is -1). A thread blocked in libfcgi's accept() can only be stopped by a
 * signal, and a signal that lands just after that accept() returned (in libfcgi's wait for the
 * first bytes) makes libfcgi drop the connection unanswered: lighttpd logs "connection was
 * dropped after accept()" and the client gets a 5xx, seen in make bench when workers recycle
 * under load. The acceptor needs no signal: a waiting thread looks at the stop flag every
 * ACCEPTOR_STOP_CHECK_MS, and a thread that has a connection serves it.
 *
 * Stopping: SIGTERM is blocked in every thread and waited for by the first one (worker_run),
 * which then stops the rest: it raises the flag and sends SIGUSR1 only to the threads finishing
 * an answer (libfcgi then waits up to 2 s for the client to close; the handler does nothing and
 * that wait ends at once). Threads waiting for a connection see the flag within the check
 * period; a thread holding one serves it first, which may mean waiting up to 2 s for its first
 * bytes and, if none come, up to 2 s more for libfcgi's close. A thread that decides the process
 * must end (max_requests, a store that needs recovery, a failed accept) records why and sends
 * SIGTERM to the first thread. The request in hand always finishes.
 */
#include "worker.h"
#include "acceptor.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "respond.h"
#include "router.h"
#include "scoreboard.h"
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STORE_RETRY_MS 1000
/* A request's store calls end this long before request_timeout_s, leaving time to answer. */
#define ANSWER_MARGIN_MS 500
/* As much as the process's first thread has: yajl frees a parsed body's tree recursively, and a
 * 64 KiB body nests 32,768 deep (tests/http/test_hostile.py). Untouched pages cost nothing. */
#define THREAD_STACK_BYTES (8 * 1024 * 1024)

struct worker;

enum thread_phase {
	PHASE_ACCEPTING, /* waiting for a connection, or reading a request just accepted */
	PHASE_SERVING,
	PHASE_FINISHING, /* in FCGX_Finish_r: the answer is out, libfcgi closes the connection */
};

struct worker_thread {
	struct worker *w;
	int index;         /* into the slot's busy_since_ms */
	pthread_t id;
	int running;       /* started and not joined yet */
	_Atomic int phase; /* enum thread_phase */
	_Atomic int ended;
	struct app app;
	struct acceptor acceptor;
	FCGX_Request fr;
};

struct worker {
	const struct worker_args *args;
	struct scoreboard_slot *slot;
	pthread_t first;             /* the thread that waits for SIGTERM */
	pthread_mutex_t store_mutex; /* guards store and store_tried_ms */
	struct store *store;         /* the process's handle, base of every thread's peer */
	int store_rc;                /* why store is NULL: the last store_open's result */
	int64_t store_tried_ms;
	uint64_t limit; /* requests before the process retires; 0 = none */
	_Atomic uint64_t served;
	_Atomic int stopping;
	_Atomic int exit_status; /* enum worker_exit: the first reason to stop wins */
	struct worker_thread threads[CONFIG_THREADS_MAX];
	int nthreads;
};

static void on_wake(int sig)
{
	(void)sig; /* ending libfcgi's wait for the client to close is the whole point */
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_wake, .sa_flags = SA_RESTART };
	sigset_t term;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* The master decides about reloads, Ctrl-C in the terminal and stray signals; a broken
	 * client pipe is an error return, not a death. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* Blocked here, so in every thread created later; the first thread waits for it. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
}

/* max_requests with up to 10% jitter either way, so workers started together do not all
 * recycle together. */
static uint64_t request_limit(const struct config *cfg)
{
	uint64_t base = (uint64_t)cfg->max_requests, spread = base / 10;
	unsigned seed = (unsigned)getpid();

	if (base == 0 || spread == 0)
		return base;
	return base - spread + (uint64_t)rand_r(&seed) % (2 * spread + 1);
}

/* Ask the first thread to stop the process, for `why` unless a reason was given already. */
static void request_stop(struct worker *w, int why)
{
	int none = -1;

	atomic_compare_exchange_strong(&w->exit_status, &none, why);
	pthread_kill(w->first, SIGTERM);
}

/* Answer one request (router_serve counts it before FCGX_Finish_r flushes it). */
static void serve(struct app *app, FCGX_Request *fr)
{
	struct exchange x = { .app = app, .out = fr->out, .in = fr->in };

	router_serve(&x, fr->envp);
}

/* (Re)open the process's store unless it is open or was tried less than a second ago. Called
 * with store_mutex held. */
static void open_process_store(struct worker *w)
{
	struct store_options opt;
	int64_t now = clock_monotonic_ms();

	if (w->store || now - w->store_tried_ms < STORE_RETRY_MS)
		return;
	/* Not during a replication lockout (store_repl_locked_out says why), nor while the
	 * housekeeper joins the group (which takes lockouts): "No master" until then, as for any
	 * request caught in one. */
	if (w->args->cfg->replication_address[0] &&
	    (atomic_load(&w->args->sb->repl_lockout) || !atomic_load(&w->args->sb->repl_ready))) {
		if (w->store_rc != STORE_OK)
			w->store_rc = STORE_NO_MASTER;
		return;
	}
	w->store_tried_ms = now;
	opt = *w->args->store;
	opt.hold_lock_ms = w->args->hold_lock_ms;
	opt.stats = &w->slot->m.store;
	w->store_rc = store_open(&opt, &w->store);
	if (w->store_rc == STORE_OK)
		LOG_INFO("the store is open");
	else
		LOG_ERROR("cannot open the store; answering 503 until it opens (%s)",
		          store_rc_name(w->store_rc));
}

/*
 * Give the thread its store handle. A worker serves even when the store will not open (a
 * removed or damaged file, a full disk): every endpoint that needs the store then answers 503 in
 * JSON and /health/ready fails, rather than the web server's error page, or a respawn loop. It
 * tries the store again each second.
 */
static void attach_store(struct worker_thread *t)
{
	struct worker *w = t->w;

	if (t->app.store)
		return; /* the request path: nothing more */
	pthread_mutex_lock(&w->store_mutex);
	open_process_store(w);
	if (w->store && store_open_peer(w->store, &t->app.store) != STORE_OK)
		LOG_ERROR("out of memory for a store handle");
	/* Without a store, say why: the master knows when recovery found no room for it. */
	t->app.store_rc = w->store ? STORE_OK
	                  : atomic_load(&w->args->sb->store_broken) == STORE_FULL ? STORE_FULL
	                                                                            : w->store_rc;
	pthread_mutex_unlock(&w->store_mutex);
}

static int open_app(struct worker_thread *t)
{
	struct app *app = &t->app;
	const struct worker_args *args = t->w->args;

	memset(app, 0, sizeof(*app));
	app->cfg = args->cfg;
	app->sb = args->sb;
	app->slot = t->w->slot;
	app->gen = respond_json_generator();
	return app->gen ? 0 : -1;
}

static void close_app(struct app *app)
{
	store_close(app->store); /* a peer: the process's handle closes after every thread's */
	if (app->gen)
		yajl_gen_free(app->gen);
}

/*
 * Wait for a request: 0 with one in hand, -1 when the process is stopping or accept failed.
 * The connection goes to libfcgi as one already open (ipcFd, kept through the Finish that
 * FCGX_Accept_r starts with); libfcgi then reads the request from it. A connection that carries
 * no request (closed early, not FastCGI) is closed by libfcgi, whose own accept on -1 then fails
 * at once: wait for the next.
 */
static int accept_request(struct worker_thread *t)
{
	struct worker *w = t->w;

	for (;;) {
		int fd = acceptor_next(&t->acceptor);

		if (fd == ACCEPTOR_STOPPED)
			return -1;
		if (fd < 0) {
			LOG_ERROR("accepting a connection failed (%s); exiting to be replaced",
			          strerror(errno));
			request_stop(w, WORKER_EXIT_ACCEPT_FAILED);
			return -1;
		}
		t->fr.ipcFd = fd;
		t->fr.keepConnection = 1;
		/* A connection that ends without a whole request: libfcgi closes it (waiting up to
		 * 2 s for the peer to close too) and fails, having no listener; take the next. */
		if (FCGX_Accept_r(&t->fr) == 0)
			return 0;
	}
}

/*
 * End the request and close its connection. libfcgi closes by shutting down its side and waiting
 * for the web server to close the other (up to 2 s), so that input still unread cannot reset the
 * connection under the answer. Measured under load (wrk -c64, 8 threads per worker): most threads
 * of a worker sat in that wait, for lighttpd's event loop to come round, instead of serving. A
 * request whose input has been read to its end (the empty FCGI_STDIN record that ends it: one
 * read for a request without a body) leaves nothing to reset the connection, so it closes at
 * once; any other keeps libfcgi's wait.
 */
static void finish_request(FCGX_Request *fr)
{
	if (FCGX_GetChar(fr->in) == EOF && FCGX_HasSeenEOF(fr->in) == EOF &&
	    FCGX_GetError(fr->in) == 0)
		FCGX_Detach(fr);
	FCGX_Finish_r(fr);
}

static void *serve_loop(void *arg)
{
	struct worker_thread *t = arg;
	struct worker *w = t->w;
	_Atomic int64_t *busy_since = &w->slot->busy_since_ms[t->index];

	while (!atomic_load(&w->stopping) && accept_request(t) == 0) {
		int64_t now = clock_monotonic_ms();

		atomic_store(&t->phase, PHASE_SERVING);
		atomic_store_explicit(busy_since, now, memory_order_relaxed);
		/* The pool's watchdog ends a worker on one request past request_timeout_s: the store
		 * gives up (503) in time to answer before it (store_call_deadline). */
		store_call_deadline(now + w->args->cfg->request_timeout_s * 1000 - ANSWER_MARGIN_MS);
		attach_store(t);
		/* One request per connection: a kept-alive connection would leave an idle thread
		 * blocked reading it, deaf to the stop until killed. */
		t->fr.keepConnection = 0;
		serve(&t->app, &t->fr);
		atomic_store(&t->phase, PHASE_FINISHING);
		finish_request(&t->fr);
		atomic_store(&t->phase, PHASE_ACCEPTING);
		atomic_store_explicit(busy_since, 0, memory_order_relaxed);
		store_call_deadline(0);
		if (t->app.store && store_needs_recovery(t->app.store))
			request_stop(w, WORKER_EXIT_NEEDS_RECOVERY);
		else if (t->app.store && store_needs_reopen(t->app.store))
			/* It answers "No master" meanwhile: exiting at once left the node without a
			 * worker while its housekeeper joined again (seconds of no answer at all). */
			atomic_store(&w->slot->stale, 1);
		else if (w->limit && atomic_fetch_add(&w->served, 1) + 1 == w->limit)
			request_stop(w, WORKER_EXIT_CLEAN);
	}
	atomic_store(&t->ended, 1);
	return NULL;
}

static int start_thread(struct worker *w, struct worker_thread *t, int index)
{
	pthread_attr_t attr;
	int err;

	t->w = w;
	t->index = index;
	FCGX_InitRequest(&t->fr, -1, 0); /* libfcgi never accepts: see accept_request */
	acceptor_init(&t->acceptor, w->args->listen_fd, &w->stopping);
	if (open_app(t) != 0)
		return -1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK_BYTES);
	err = pthread_create(&t->id, &attr, serve_loop, t);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		LOG_ERROR("cannot start a thread: %s", strerror(err));
		return -1;
	}
	t->running = 1;
	return 0;
}

/* A thread finishing an answer may sit in libfcgi's wait (up to 2 s) for the client to close. */
static int wants_waking(struct worker_thread *t)
{
	return atomic_load(&t->phase) == PHASE_FINISHING;
}

#define STOP_POLL_MS 5

/* End every thread: each finishes the request in hand. */
static void stop_threads(struct worker *w)
{
	int left;

	atomic_store(&w->stopping, 1);
	do {
		left = 0;
		for (int i = 0; i < w->nthreads; i++) {
			struct worker_thread *t = &w->threads[i];

			if (!t->running)
				continue;
			if (atomic_load(&t->ended)) {
				pthread_join(t->id, NULL);
				t->running = 0;
				continue;
			}
			left++;
			if (wants_waking(t))
				pthread_kill(t->id, SIGUSR1);
		}
		if (left)
			clock_sleep_ms(STOP_POLL_MS);
	} while (left);
}

static void wait_for_stop(void)
{
	sigset_t term;
	int sig;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	while (sigwait(&term, &sig) != 0)
		;
}

/* Start the threads; 0 when at least one runs (fewer than asked is logged and served). */
static int start_threads(struct worker *w, int wanted)
{
	for (int i = 0; i < wanted; i++) {
		w->nthreads = i + 1;
		if (start_thread(w, &w->threads[i], i) != 0) {
			LOG_ERROR("serving with %d of %d threads", i, wanted);
			break;
		}
	}
	return w->threads[0].running ? 0 : -1;
}

static void finish(struct worker *w)
{
	for (int i = 0; i < w->nthreads; i++) {
		FCGX_Free(&w->threads[i].fr, 0);
		close_app(&w->threads[i].app);
	}
	store_close(w->store);
	pthread_mutex_destroy(&w->store_mutex);
}

int worker_run(const struct worker_args *args)
{
	struct worker *w = calloc(1, sizeof(*w));
	int status, started = 0;

	if (!w) {
		sleep(1); /* out of memory: must not turn into a tight respawn loop */
		return WORKER_EXIT_START_FAILED;
	}
	w->args = args;
	w->slot = &args->sb->slots[args->slot];
	w->first = pthread_self();
	w->limit = request_limit(args->cfg);
	w->store_tried_ms = INT64_MIN / 2;
	w->store_rc = STORE_UNAVAILABLE;
	atomic_store(&w->exit_status, -1);
	pthread_mutex_init(&w->store_mutex, NULL);
	install_signals();
	pthread_mutex_lock(&w->store_mutex);
	open_process_store(w);
	pthread_mutex_unlock(&w->store_mutex);
	FCGX_Init();
	if (acceptor_prepare_listener(args->listen_fd, ACCEPTOR_STOP_CHECK_MS) != 0)
		LOG_ERROR("cannot prepare to accept connections: %s", strerror(errno));
	else if (start_threads(w, (int)args->cfg->threads) == 0)
		started = 1;
	if (!started) {
		finish(w);
		free(w);
		sleep(1);
		return WORKER_EXIT_START_FAILED;
	}
	atomic_store(&w->slot->state, SLOT_SERVING);
	wait_for_stop();
	stop_threads(w);
	finish(w);
	status = atomic_load(&w->exit_status);
	free(w);
	return status < 0 ? WORKER_EXIT_CLEAN : status;
}
