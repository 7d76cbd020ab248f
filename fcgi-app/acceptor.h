/*
 * acceptor: one thread's wait for the web server's next connection, which a stop event ends
 * without a signal. The thread waits in epoll_wait() on its own set: the listening socket
 * (EPOLLEXCLUSIVE, so that a connection wakes one waiter, as a blocking accept() would) and the
 * process's stop event (an eventfd that, once signalled, stays readable for every thread). A
 * connection it has accepted is always handed over, never dropped because of a stop.
 */
#ifndef NEXTID_ACCEPTOR_H
#define NEXTID_ACCEPTOR_H

/* How long a new connection may stay silent before it is closed unserved (libfcgi's own wait). */
#define ACCEPTOR_FIRST_BYTES_MS 2000

enum acceptor_result {
	ACCEPTOR_STOPPED = -1, /* the stop event is signalled */
	ACCEPTOR_FAILED = -2,  /* accept() or epoll failed for good (errno says why, e.g. EMFILE) */
};

struct acceptor {
	int listen_fd;
	int stop_fd;
	int epoll_fd;
	int tcp;            /* the listening socket is TCP: Nagle is switched off per connection */
	int first_bytes_ms; /* ACCEPTOR_FIRST_BYTES_MS; tests shorten it */
};

/* The process's stop event, or -1 (errno). Closed with close(). */
int acceptor_stop_event(void);

/* Signal the stop event: every acceptor that watches it returns ACCEPTOR_STOPPED from now on. */
void acceptor_stop(int stop_fd);

/* Make the listening socket non-blocking (a waiter woken for a connection another took must not
 * block in accept()). It is shared with every process of the pool; all accept the same way. */
int acceptor_prepare_listener(int listen_fd);

/* Set up a thread's acceptor; 0, or -1 (errno). */
int acceptor_open(struct acceptor *a, int listen_fd, int stop_fd);

void acceptor_close(struct acceptor *a);

/* The next connection that has sent its first bytes, or closed (reading it then finds the end),
 * as a blocking, close-on-exec descriptor; or an enum acceptor_result. A connection silent for
 * first_bytes_ms is closed unserved. When the stop event and a waiting connection are both
 * ready, the stop wins: the connection stays queued for another process of the pool. */
int acceptor_next(struct acceptor *a);

#endif
