/*
 * acceptor: one thread's wait for the web server's next connection, which a stop ends without
 * a signal. The thread blocks in accept() on the shared listening socket, as libfcgi's own loop
 * would: the kernel wakes exactly one waiter per connection, and a waiter that comes back finds
 * a queued connection at once. The socket carries a receive timeout (SO_RCVTIMEO, which bounds
 * accept() too), so every waiting thread looks at the stop flag at least that often. A
 * connection it has accepted is always handed over, never dropped because of a stop.
 */
#ifndef NEXTID_ACCEPTOR_H
#define NEXTID_ACCEPTOR_H

#include <stdatomic.h>

/* How often a waiting thread looks at the stop flag: the longest a stop waits for it. */
#define ACCEPTOR_STOP_CHECK_MS 100
/* How long a new connection may stay silent before it is closed unserved (libfcgi's own wait). */
#define ACCEPTOR_FIRST_BYTES_MS 2000

enum acceptor_result {
	ACCEPTOR_STOPPED = -1, /* the stop flag is up */
	ACCEPTOR_FAILED = -2,  /* accept() failed for good (errno says why, e.g. EMFILE) */
};

struct acceptor {
	int listen_fd;
	const _Atomic int *stopping; /* nonzero: accept nothing more */
	int tcp;                     /* the listening socket is TCP: Nagle is off per connection */
	int first_bytes_ms;          /* ACCEPTOR_FIRST_BYTES_MS; tests shorten it */
};

/* Make the listening socket blocking with a receive timeout of stop_check_ms. It is shared
 * with every process of the pool; all accept the same way. 0, or -1 (errno; EOPNOTSUPP for a
 * socket that is not a stream). */
int acceptor_prepare_listener(int listen_fd, int stop_check_ms);

void acceptor_init(struct acceptor *a, int listen_fd, const _Atomic int *stopping);

/* The next connection that has sent its first bytes, or closed (reading it then finds the end),
 * as a blocking, close-on-exec descriptor without a receive timeout; or an enum
 * acceptor_result. A connection silent for first_bytes_ms is closed unserved. Once the flag is
 * up no connection is taken: those queued stay for another process of the pool. */
int acceptor_next(struct acceptor *a);

#endif
