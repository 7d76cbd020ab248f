/*
 * keeper: nextid-grpc's store handle and its upkeep, for its store threads. nextid-grpc is one
 * more ordinary opener of a store the pool's master recovers, like nextid-sequencer and
 * nextidctl: it holds env.lock shared while open and never recovers the store itself. When the
 * master restarts it recovers the store under us (after waiting 5 s for our lock), which panics
 * our handle; a store result of STORE_UNAVAILABLE (or store_needs_recovery()) then makes the
 * keeper close the handle, once no thread is inside a store call, and open the store again a
 * second later. Meanwhile every call answers STORE_UNAVAILABLE, which clients may retry.
 *
 * Each store thread works through a handle of its own (a peer of the process's, as the pool's
 * threads do), named by its slot. A watchdog thread ends the process with KEEPER_EXIT_STUCK
 * when a store call blocks longer than the config's request_timeout_s (a mutex held by a process
 * that died inside Berkeley DB is never released), for the service manager to start it again.
 */
#ifndef NEXTID_KEEPER_H
#define NEXTID_KEEPER_H

#include "store.h"

#define KEEPER_EXIT_STUCK 3 /* the exit status when a store call blocked too long */

struct config;
struct keeper;

/*
 * Open the store for `slots` threads (1..64) and start the watchdog. Returns STORE_OK with *out
 * set (freed by keeper_close), or STORE_UNAVAILABLE (logged): the store does not open (the pool
 * creates it: start nextid-fcgi first), or no memory or thread.
 */
int keeper_open(const struct config *cfg, unsigned slots, struct keeper **out);

/* Stop the watchdog and close the store; every thread must be done with it. NULL is allowed. */
void keeper_close(struct keeper *k);

/* One store operation on a thread's handle; returns a store result. */
typedef int keeper_fn(struct store *st, void *arg);

/*
 * Run fn on slot's handle (each thread passes its own slot, 0..slots-1), opening the store first
 * when it is closed and a second has passed since the last try. Returns fn's result, or
 * STORE_UNAVAILABLE without calling it when the store is not open. A result of
 * STORE_UNAVAILABLE, or a handle that needs recovery, closes the store for every slot as soon
 * as no other slot is inside a call.
 */
int keeper_run(struct keeper *k, unsigned slot, keeper_fn *fn, void *arg);

/*
 * From an idle store thread, about once a second: when nobody has used the store for a second,
 * ask it something cheap, so that a handle a recovery made stale is noticed, closed (which lets
 * the next start of the master have env.lock) and replaced before a client needs it.
 */
void keeper_check(struct keeper *k, unsigned slot);

#endif
