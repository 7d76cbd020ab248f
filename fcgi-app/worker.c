/*
 * worker: the accept loop. One request at a time: parse, route, answer, finish. Stopping is
 * cooperative: SIGTERM sets a flag and also replaces the listening descriptor with /dev/null, so
 * an accept() that is about to start (libfcgi checks its own flag just before) fails at once
 * instead of sleeping until the next connection. The request in hand always finishes.
 */
#include "worker.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "respond.h"
#include "router.h"
#include "scoreboard.h"
#include "store.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Signal-handler state: the handler can reach nothing else. Set before the handler is installed. */
static volatile sig_atomic_t stop_requested;
static int stop_listen_fd = -1, stop_null_fd = -1;

static void on_sigterm(int sig)
{
	(void)sig;
	stop_requested = 1;
	FCGX_ShutdownPending();
	dup2(stop_null_fd, stop_listen_fd);
}

static void install_signals(int listen_fd)
{
	struct sigaction sa = { .sa_handler = on_sigterm, .sa_flags = SA_RESTART };

	stop_listen_fd = listen_fd;
	stop_null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	/* The master decides about reloads, Ctrl-C in the terminal and stray signals; a broken
	 * client pipe is an error return, not a death. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
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

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Answer one request, count it, finish it. It is counted before the answer leaves (Finish
 * flushes it): a client that scrapes /metrics right after its answer must find it counted. */
static void serve(struct app *app, FCGX_Request *fr)
{
	struct exchange x = { .app = app, .out = fr->out, .in = fr->in, .endpoint = -1 };
	int64_t start = now_us();
	int status = request_parse(&x.req, fr->envp);

	if (status != REQUEST_OK)
		respond_request_error(&x, status);
	else
		router_dispatch(&x);
	if (x.status == 0) {
		LOG_ERROR("no answer for %.*s", (int)x.req.path_len, x.req.path);
		respond_error(&x, 500, "Internal error", "The failure is logged.");
	}
	if (x.endpoint < 0) { /* never routed (a bad request): counted as "other" */
		size_t n;

		router_endpoint_names(&n);
		x.endpoint = (int)n - 1;
	}
	metrics_observe(&app->slot->m, x.endpoint, x.status, now_us() - start);
	if (x.issued)
		atomic_fetch_add_explicit(&app->slot->m.issued, x.issued, memory_order_relaxed);
	FCGX_Finish_r(fr);
}

#define STORE_RETRY_MS 1000

/* (Re)open the store unless it is open or was tried less than a second ago. */
static void open_store(const struct worker_args *args, struct app *app, int64_t *tried_ms)
{
	struct store_options opt;
	int64_t now;

	if (app->store)
		return; /* the request path: nothing more */
	now = scoreboard_now_ms();
	if (now - *tried_ms < STORE_RETRY_MS)
		return;
	*tried_ms = now;
	store_options_init(&opt, args->cfg);
	opt.log = log_from_store;
	opt.hold_lock_ms = args->hold_lock_ms;
	opt.stats = &app->slot->m.store;
	if (store_open(&opt, &app->store) == STORE_OK)
		LOG_INFO("the store is open");
	else
		LOG_ERROR("cannot open the store; answering 503 until it opens");
}

/*
 * A worker serves even when the store will not open (a removed or damaged file, a full disk):
 * every endpoint that needs the store then answers 503 in JSON and /health/ready fails, rather
 * than the web server's error page, or a respawn loop. It tries the store again each second.
 */
static int open_app(const struct worker_args *args, struct app *app, int64_t *tried_ms)
{
	memset(app, 0, sizeof(*app));
	app->cfg = args->cfg;
	app->sb = args->sb;
	app->slot = &args->sb->slots[args->slot];
	app->gen = yajl_gen_alloc(NULL);
	if (!app->gen)
		return -1;
	yajl_gen_config(app->gen, yajl_gen_beautify, 0);
	yajl_gen_config(app->gen, yajl_gen_validate_utf8, 1);
	*tried_ms = INT64_MIN / 2;
	open_store(args, app, tried_ms);
	return 0;
}

static void close_app(struct app *app)
{
	store_close(app->store);
	if (app->gen)
		yajl_gen_free(app->gen);
}

int worker_run(const struct worker_args *args)
{
	struct scoreboard_slot *slot = &args->sb->slots[args->slot];
	uint64_t limit = request_limit(args->cfg), served = 0;
	int64_t store_tried_ms;
	int exit_status = WORKER_EXIT_CLEAN;
	FCGX_Request fr;
	struct app app;

	install_signals(args->listen_fd);
	if (open_app(args, &app, &store_tried_ms) != 0) {
		close_app(&app);
		sleep(1); /* out of memory: must not turn into a tight respawn loop */
		return WORKER_EXIT_START_FAILED;
	}
	FCGX_Init();
	FCGX_InitRequest(&fr, args->listen_fd, 0);
	while (!stop_requested) {
		atomic_store_explicit(&slot->busy_since_ms, 0, memory_order_relaxed);
		atomic_store_explicit(&slot->state, SLOT_IDLE, memory_order_relaxed);
		if (FCGX_Accept_r(&fr) < 0) {
			if (!stop_requested) {
				LOG_ERROR("accepting a connection failed; exiting to be replaced");
				exit_status = WORKER_EXIT_ACCEPT_FAILED;
			}
			break;
		}
		atomic_store_explicit(&slot->busy_since_ms, scoreboard_now_ms(), memory_order_relaxed);
		atomic_store_explicit(&slot->state, SLOT_BUSY, memory_order_relaxed);
		open_store(args, &app, &store_tried_ms);
		/* One request per connection: a kept-alive connection would leave an idle worker
		 * blocked reading it, deaf to SIGTERM until killed. */
		fr.keepConnection = 0;
		serve(&app, &fr);
		atomic_fetch_add_explicit(&slot->requests, 1, memory_order_relaxed);
		if (app.store && store_needs_recovery(app.store)) {
			exit_status = WORKER_EXIT_NEEDS_RECOVERY;
			break;
		}
		if (limit && ++served >= limit)
			break;
	}
	FCGX_Free(&fr, 0);
	close_app(&app);
	return exit_status;
}
