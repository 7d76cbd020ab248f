/*
 * pool: the master process. It claims the store, runs recovery once in a helper child, opens (or
 * inherits) the listening socket, maps the scoreboard, and then forks and supervises N workers and
 * one housekeeper: it reaps every exit, runs failchk in a watched helper after an abnormal one,
 * stops the world and recovers when failchk fails or hangs, kills a worker stuck on one request
 * and a housekeeper whose heartbeat stops, replaces workers one at a time on SIGHUP, stops
 * gracefully on SIGTERM or SIGINT, and on SIGUSR2 stops its children and runs its program file
 * again in its own process, keeping the socket (a restart in place). It never holds a Berkeley
 * DB handle itself:
 * handles must not cross fork(), and a master that never touches the store cannot be hung by it.
 */
#ifndef NEXTID_POOL_H
#define NEXTID_POOL_H

#include "config.h"

struct pool_args {
	char **argv;                 /* the command line, run again by a restart in place */
	const char *config_path;
	struct config cfg;           /* loaded at start; SIGHUP loads config_path again */
	const char *socket_override; /* --socket, or NULL */
	int workers_override;        /* --workers, or 0 */
	unsigned hold_lock_ms;       /* test hook for the workers */
	int fcgid;                   /* --fcgid: one process under mod_fcgid, no pool */
};

/* Run the pool until it is stopped. Returns the process exit status. */
int pool_run(const struct pool_args *args);

#endif
