/*
 * counter: one sequence over the store, and the store handle's upkeep. The sequence is created
 * exactly as /next/<name> creates one (record_init, a long), so the two front doors share it and
 * never hand out the same value: both take values in the store's transactions.
 */
#include "counter.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "record.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REOPEN_INTERVAL_MS 1000 /* pause before opening the store again, and between tries */
#define OPEN_WAIT_S 10          /* store_open waits this long for a recovery to finish */
#define CHECK_INTERVAL_MS 1000  /* counter_check looks at an idle handle this often */

struct counter {
	struct store_options opt;
	unsigned watchdog_s;     /* request_timeout_s: the longest a store call may block */
	struct store *st;        /* NULL while the store cannot be opened */
	int64_t next_open_ms;    /* monotonic ms before which no reopen is tried */
	int64_t next_check_ms;   /* monotonic ms before which counter_check does nothing */
	int outage_logged;       /* "cannot reopen" is logged once per outage */
	int64_t start;
	size_t len;
	char name[NAME_MAX_BYTES + 1];
};

/*
 * The watchdog. Berkeley DB's mutexes block in the kernel, and one held by a process that died
 * inside the library (a SIGKILLed sequencer in its log flush, measured; or a worker) is never
 * released: a store call of ours waiting for it would wait forever, and the pool's master, which
 * kills its own workers in that case before it recovers, does not know us. So a store call that
 * takes longer than request_timeout_s ends the process (COUNTER_EXIT_STUCK) for its service
 * manager to start it again, on the store the master has recovered meanwhile. The handler may only
 * call async-signal-safe functions: the log line is written in advance.
 */
static char stuck_line[512];
static size_t stuck_len;

static void on_stuck(int sig)
{
	(void)sig;
	(void)!write(STDERR_FILENO, stuck_line, stuck_len);
	_exit(COUNTER_EXIT_STUCK);
}

static int watchdog_setup(unsigned seconds)
{
	struct sigaction sa;
	int n = snprintf(stuck_line, sizeof(stuck_line),
	                 "{\"level\":\"error\",\"pid\":%d,\"role\":\"sequencer\",\"msg\":\"a "
	                 "store call blocked for more than %u s (request_timeout_s): exiting, to be "
	                 "started again on the recovered store\",\"src\":\"%s:%d\"}\n",
	                 (int)getpid(), seconds, __FILE__, __LINE__);

	stuck_len = n > 0 && (size_t)n < sizeof(stuck_line) ? (size_t)n : 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stuck;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) != 0) {
		LOG_ERROR("sigaction(SIGALRM): %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Start the watchdog for one store call of at most `seconds`; 0 stops it. */
static void watchdog(unsigned seconds)
{
	alarm(seconds);
}

/* The record a missing sequence is created from: a long starting at c->start. */
static void fresh_record(const struct counter *c, struct seq_record *rec)
{
	record_init(rec, RECORD_TYPE_LONG, c->start, (uint64_t)time(NULL));
}

/* Can this record give numbers to GETSEQ? STORE_OK, TYPE_MISMATCH or PREFIX. */
static int servable(const struct seq_record *rec)
{
	if (record_type_max(rec->type) == 0)
		return STORE_TYPE_MISMATCH;
	return record_is_prefix(rec) ? STORE_PREFIX : STORE_OK;
}

/*
 * Close a handle that failed. A panic is how a recovery by a restarting master shows here (the
 * recovery marks the old environment as panicked when it starts, measured), so the store is
 * opened again only REOPEN_INTERVAL_MS later: opening in the middle of that recovery would join
 * an environment that Berkeley DB requires nobody to use meanwhile.
 */
static void drop_handle(struct counter *c, const char *why)
{
	LOG_WARN("%s (did nextid-fcgi restart and recover the store?); closing our handle, opening "
	         "the store again in %d ms", why, REOPEN_INTERVAL_MS);
	watchdog(c->watchdog_s);
	store_close(c->st);
	watchdog(0);
	c->st = NULL;
	c->next_open_ms = clock_monotonic_ms() + REOPEN_INTERVAL_MS;
}

/* Make sure c->st is a usable handle, opening the store when there is none and it is time to
 * try. Returns 1 when there is a handle. */
static int ensure_open(struct counter *c)
{
	int64_t now;
	int rc;

	if (c->st && store_needs_recovery(c->st))
		drop_handle(c, "the store reported that it needs recovery");
	if (c->st)
		return 1;
	now = clock_monotonic_ms();
	if (now < c->next_open_ms)
		return 0;
	c->next_open_ms = now + REOPEN_INTERVAL_MS;
	watchdog(c->watchdog_s + OPEN_WAIT_S);
	rc = store_open(&c->opt, &c->st);
	watchdog(0);
	if (rc != STORE_OK) {
		c->st = NULL;
		if (!c->outage_logged)
			LOG_ERROR("cannot open the store in %s; answering -ERR until it opens (tried "
			          "every %d ms)", c->opt.data_dir, REOPEN_INTERVAL_MS);
		c->outage_logged = 1;
		return 0;
	}
	LOG_INFO("opened the store in %s again", c->opt.data_dir);
	c->outage_logged = 0;
	return 1;
}

/* One attempt of an operation on the current handle. */
typedef int counter_op_fn(struct counter *c, void *arg);

/*
 * Run op on a usable handle. STORE_UNAVAILABLE drops the handle, so that the next operation
 * after the pause opens the store afresh: the client gets -ERR and retries, which is safe, as a
 * take that failed handed nothing out (at worst, a commit whose log flush failed, it left a gap).
 */
static int with_store(struct counter *c, counter_op_fn *op, void *arg)
{
	int rc;

	if (!ensure_open(c))
		return STORE_UNAVAILABLE;
	watchdog(c->watchdog_s);
	rc = op(c, arg);
	watchdog(0);
	/* it answered, or it is dropped now */
	c->next_check_ms = clock_monotonic_ms() + CHECK_INTERVAL_MS;
	if (rc == STORE_UNAVAILABLE)
		drop_handle(c, "the store did not answer");
	return rc;
}

static int ping_op(struct counter *c, void *arg)
{
	(void)arg;
	return store_ping(c->st);
}

void counter_check(struct counter *c)
{
	if (clock_monotonic_ms() >= c->next_check_ms)
		(void)with_store(c, ping_op, NULL);
}

struct take_arg {
	uint64_t count;
	struct store_grant *grant;
};

static int take_op(struct counter *c, void *arg)
{
	struct take_arg *t = arg;
	struct seq_record fresh;

	fresh_record(c, &fresh);
	return store_next(c->st, c->name, c->len, 0, &fresh, t->count, t->grant);
}

int counter_take(struct counter *c, uint64_t count, struct store_grant *grant)
{
	struct take_arg t = { count, grant };

	return with_store(c, take_op, &t);
}

static int peek_op(struct counter *c, void *arg)
{
	int64_t *next = arg;
	struct seq_record rec;
	int rc = store_get(c->st, c->name, c->len, &rec);

	if (rc == STORE_NOT_FOUND) {
		*next = c->start; /* deleted meanwhile: the next take creates it afresh */
		return STORE_OK;
	}
	if (rc == STORE_OK)
		rc = servable(&rec);
	if (rc != STORE_OK)
		return rc;
	if (rec.flags & RECORD_FLAG_EXHAUSTED)
		return STORE_EXHAUSTED; /* `next` holds the last value issued, not one to come */
	*next = rec.next;
	return STORE_OK;
}

int counter_peek(struct counter *c, int64_t *next)
{
	return with_store(c, peek_op, next);
}

const char *counter_name(const struct counter *c, size_t *len)
{
	*len = c->len;
	return c->name;
}

/* Create the sequence unless it exists, then read it back and check we can serve it. */
static int ensure_sequence(struct counter *c, int start_given)
{
	struct seq_record rec;
	int created = 0, rc;

	fresh_record(c, &rec);
	rc = store_create(c->st, c->name, c->len, &rec);
	if (rc == STORE_OK)
		created = 1;
	else if (rc != STORE_EXISTS)
		return rc;
	rc = store_get(c->st, c->name, c->len, &rec);
	if (rc == STORE_OK)
		rc = servable(&rec);
	if (rc == STORE_TYPE_MISMATCH)
		LOG_ERROR("sequence '%s' holds %s ids, not numbers: serve another one (--sequence)",
		          c->name, record_type_name(rec.type));
	else if (rc == STORE_PREFIX)
		LOG_ERROR("sequence '%s' is a formatted prefix: its numbers come only from "
		          "/api/v1/next, which audits each; serve another one (--sequence)", c->name);
	if (rc != STORE_OK)
		return rc;
	if (created)
		LOG_INFO("created sequence '%s' (long), first value %" PRId64, c->name, c->start);
	else if (start_given && rec.next != c->start)
		LOG_WARN("sequence '%s' exists: --initial=%" PRId64 " is ignored, the next value is "
		         "%" PRId64, c->name, c->start, rec.next);
	if (!created && (rec.flags & RECORD_FLAG_EXHAUSTED))
		LOG_WARN("sequence '%s' is exhausted: GETSEQ answers -ERR until its max is raised",
		         c->name);
	return STORE_OK;
}

/*
 * At start, a sequence whose lock a killed process still holds answers busy until the master's
 * failchk (every 10 s) releases it: wait that long rather than exit, which would only make the
 * service manager start another that meets the same lock.
 */
#define START_BUSY_WAIT_MS 15000
#define START_BUSY_PAUSE_MS 250

static int ensure_sequence_patiently(struct counter *c, int start_given)
{
	int rc = ensure_sequence(c, start_given);

	for (int waited = 0; rc == STORE_BUSY && waited < START_BUSY_WAIT_MS;
	     waited += START_BUSY_PAUSE_MS) {
		if (waited == 0)
			LOG_WARN("sequence '%.*s' is locked; waiting up to %d s for it", (int)c->len,
			         c->name, START_BUSY_WAIT_MS / 1000);
		clock_sleep_ms(START_BUSY_PAUSE_MS);
		watchdog(c->watchdog_s + OPEN_WAIT_S);
		rc = ensure_sequence(c, start_given);
	}
	return rc;
}

int counter_open(const struct counter_options *opt, struct counter **out)
{
	struct counter *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c) {
		LOG_ERROR("out of memory");
		return STORE_UNAVAILABLE;
	}
	store_options_init(&c->opt, opt->cfg->data_dir);
	c->opt.durability = (enum store_durability)opt->cfg->durability; /* same order (config.h) */
	{
		struct repl_keys rk;

		config_repl_keys(opt->cfg, &rk);
		store_repl_configure(&c->opt, &rk);
	}
	c->opt.lock_timeout_ms = (unsigned)opt->cfg->lock_timeout_ms;
	c->opt.self_recovering = opt->cfg->process_model == CONFIG_PROCESS_FCGID;
	c->opt.reserve_size = opt->cfg->reserve_size;
	c->opt.max_sequences = (uint64_t)opt->cfg->max_sequences;
	c->opt.log = log_sink;
	c->watchdog_s = (unsigned)opt->cfg->request_timeout_s;
	c->start = opt->start;
	c->len = opt->len < NAME_MAX_BYTES ? opt->len : NAME_MAX_BYTES;
	memcpy(c->name, opt->name, c->len);
	if (watchdog_setup(c->watchdog_s) != 0) {
		rc = STORE_UNAVAILABLE;
		goto fail;
	}
	watchdog(c->watchdog_s + OPEN_WAIT_S);
	rc = store_open(&c->opt, &c->st);
	if (rc != STORE_OK) {
		watchdog(0);
		LOG_ERROR("cannot open the store in %s: nextid-fcgi creates it, start it first",
		          c->opt.data_dir);
		goto fail;
	}
	rc = ensure_sequence_patiently(c, opt->start_given);
	watchdog(0);
	if (rc != STORE_OK) {
		if (rc != STORE_TYPE_MISMATCH && rc != STORE_PREFIX)
			LOG_ERROR("cannot read or create sequence '%s': %s", c->name,
			          store_rc_name(rc));
		goto fail;
	}
	*out = c;
	return STORE_OK;
fail:
	counter_close(c);
	return rc;
}

void counter_close(struct counter *c)
{
	if (!c)
		return;
	watchdog(c->watchdog_s);
	store_close(c->st);
	watchdog(0);
	free(c);
}
