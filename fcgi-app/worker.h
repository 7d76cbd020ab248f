/*
 * worker: one pre-forked process of the pool. It opens its own store handle (handles never cross
 * fork), then answers FastCGI requests on the inherited socket with `threads` threads, one
 * request per thread at a time. It finishes the requests in hand and exits on SIGTERM, after
 * max_requests, or when the store reports that it needs recovery. Called by the master in the
 * child right after fork.
 */
#ifndef NEXTID_WORKER_H
#define NEXTID_WORKER_H

struct config;
struct scoreboard;

/* Exit statuses the master tells apart. Death by a signal means: run failchk. */
enum worker_exit {
	WORKER_EXIT_CLEAN = 0,          /* nothing held: respawn, no failchk */
	WORKER_EXIT_START_FAILED = 2,   /* could not open the store: respawn later */
	WORKER_EXIT_NEEDS_RECOVERY = 3, /* the store panicked: stop the world and recover */
	WORKER_EXIT_ACCEPT_FAILED = 4,  /* accept() failed (out of descriptors?): counted, respawned */
	WORKER_EXIT_REFUSED = 5,        /* the housekeeper found this node may not join its group
	                                   (its shard_id is another member's): the master stops */
};

struct worker_args {
	const struct config *cfg;
	const struct store_options *store; /* the store as cfg describes it */
	struct scoreboard *sb;
	int slot;              /* this worker's scoreboard slot */
	int listen_fd;
	unsigned hold_lock_ms; /* test hook, see NEXTID_TEST_HOLD_LOCK_MS in main.c */
};

/* Serve until told to stop. Returns an enum worker_exit for _exit(). */
int worker_run(const struct worker_args *args);

#endif
