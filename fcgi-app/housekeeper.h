/*
 * housekeeper: the pool's one maintenance process. Every 100 ms it expires lock waits past their
 * timeout (Berkeley DB enforces timeouts only when a detector runs), and every
 * checkpoint_interval_s it writes a checkpoint, which also lets old log files be removed. On
 * SIGTERM it writes a last checkpoint and exits. Expired lock waits are counted in the scoreboard,
 * where the master sees them and runs failchk: the holder may be a dead process. Each tick stamps
 * a heartbeat in its scoreboard slot; the master kills and replaces a housekeeper whose heartbeat
 * stops (pool.c). Started and restarted by the master like a worker.
 */
#ifndef NEXTID_HOUSEKEEPER_H
#define NEXTID_HOUSEKEEPER_H

struct config;
struct scoreboard;
struct store_options;

/* Run in the child the master forked into scoreboard slot `slot`. Returns an enum worker_exit
 * for _exit(). */
int housekeeper_run(const struct config *cfg, const struct store_options *store,
                    struct scoreboard *sb, int slot);

#endif
