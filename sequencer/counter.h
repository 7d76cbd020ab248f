/*
 * counter: the one sequence nextid-sequencer serves, through the store's public API only
 * (db/store.h). The sequencer opens the store as one more ordinary opener, like nextidctl: it
 * holds data_dir/env.lock shared while open, and never recovers the store itself. When the
 * master of the pool restarts it recovers the store under us (after waiting 5 s for our lock),
 * which panics our handle: a result of STORE_UNAVAILABLE (or store_needs_recovery()) makes the
 * counter close the handle (logged) and open the store again a second later, when the recovery
 * is over. Meanwhile operations answer STORE_UNAVAILABLE, which the client may retry.
 *
 * A store call that blocks longer than the config's request_timeout_s (a mutex held by a process
 * that died inside Berkeley DB is never released) ends the process with COUNTER_EXIT_STUCK, for
 * the service manager to start it again; the counter owns SIGALRM for that.
 *
 * Used by the sequencer's one process (main.c opens it, server.c uses it); not thread-safe.
 */
#ifndef NEXTID_COUNTER_H
#define NEXTID_COUNTER_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define COUNTER_EXIT_STUCK 3 /* the exit status when a store call blocked too long */

struct config;

struct counter_options {
	const struct config *cfg; /* data_dir, durability, lock timeout; must outlive the counter */
	const char *name;         /* the sequence, a valid name (name_check) */
	size_t len;
	int64_t start;     /* its first value when it has to be created: a long, like /next's */
	int start_given;   /* --initial was given: say so when the sequence exists already */
};

struct counter;

/*
 * Open the store and make sure the sequence exists: create it as a long sequence starting at
 * opt->start when it is missing, and check that it hands out numbers (not random ids, not a
 * formatted prefix). Logs what it found. Returns STORE_OK with *out set (freed by
 * counter_close), or a store result (logged): STORE_UNAVAILABLE when the store cannot be opened,
 * STORE_TYPE_MISMATCH or STORE_PREFIX for a sequence we cannot serve, STORE_BUSY.
 */
int counter_open(const struct counter_options *opt, struct counter **out);
void counter_close(struct counter *c);

/*
 * Take `count` (1..2^63-1) consecutive values, creating the sequence again as counter_open did
 * if it was deleted meanwhile (as /next/<name> does). Returns STORE_OK with *grant set: the
 * values are as durable as the configured durability promises, so they may be sent. Otherwise
 * EXHAUSTED, BUSY, UNAVAILABLE, TYPE_MISMATCH, PREFIX or INVALID, and nothing was handed out.
 */
int counter_take(struct counter *c, uint64_t count, struct store_grant *grant);

/*
 * The value the next take would start at, taking nothing: the start value when the sequence was
 * deleted (a take would create it). Returns STORE_OK with *next set, or EXHAUSTED (no value is
 * left), BUSY, UNAVAILABLE, TYPE_MISMATCH or PREFIX.
 */
int counter_peek(struct counter *c, int64_t *next);

/*
 * Between commands, about once a second: when the store has not been used for a second, ask it
 * something cheap, so that a handle a recovery made stale is noticed, closed (which lets the next
 * start of the master have env.lock) and replaced before the next client needs it.
 */
void counter_check(struct counter *c);

/* The sequence's name (not NUL-terminated), for replies and logs. */
const char *counter_name(const struct counter *c, size_t *len);

#endif
