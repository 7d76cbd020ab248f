/*
 * server: nextid-sequencer's TCP side. One thread and one epoll loop serve every connection
 * (non-blocking sockets, no thread per connection): read bytes, cut lines (proto.c), answer each
 * connection's commands in order, write the replies. Values come from counter.c.
 *
 * Group commit: the GETSEQ and GETSEQ_BATCH commands that arrived on all connections by the time
 * the loop gets to them are taken from the store in one counter_take, and the range is dealt out
 * in order. Under durability sync that is one transaction and one log flush for all of them,
 * instead of one flush per value in a single thread. Replies are written only after the take
 * returned, so no client holds a value the store could lose.
 *
 * Signals: SIGTERM and SIGINT stop the server (no new connection; the commands already received
 * are answered within shutdown_timeout_s; then every connection is closed); SIGHUP is logged and
 * ignored. Used by the sequencer's one process.
 */
#ifndef NEXTID_SERVER_H
#define NEXTID_SERVER_H

struct counter;

struct server_options {
	const char *host;            /* a numeric address or a name, e.g. 127.0.0.1, ::1 */
	unsigned port;               /* 0: any free port (the log says which) */
	unsigned max_connections;    /* more are answered -ERR too many connections and closed */
	unsigned idle_timeout_s;     /* a connection silent this long is closed; 0 = never */
	unsigned shutdown_timeout_s; /* after SIGTERM: time to answer what was received */
};

struct server;

/* Block SIGTERM, SIGINT and SIGHUP and ignore SIGPIPE. Call first in main, so that a signal
 * during start-up waits for the loop (a graceful stop) instead of killing the process. */
int server_block_signals(void);

/*
 * Listen on host:port, raise the open-files limit to what max_connections needs (or fail), and
 * prepare the loop. The counter is used, not owned. Returns 0 with *out set (freed by
 * server_close), or -1 (logged).
 */
int server_open(const struct server_options *opt, struct counter *counter, struct server **out);

/* Serve until SIGTERM or SIGINT, then stop as described above. Returns 0, or -1 when the loop
 * itself failed (logged). */
int server_run(struct server *srv);

/* Close every connection and the listening socket. */
void server_close(struct server *srv);

#endif
