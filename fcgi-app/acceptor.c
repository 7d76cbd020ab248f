/*
 * acceptor: see acceptor.h. Why not libfcgi's accept: a thread blocked there can only be
 * stopped by a signal, and a signal that lands just after its accept() returned (in its wait
 * for the first bytes) makes it drop the connection unanswered. Why not epoll with
 * EPOLLEXCLUSIVE: its wake-up goes to one waiter's epoll set, and if that waiter is slow to run
 * (or stopped), the connection waits in the queue while other threads sleep beside it (measured
 * with tests/crash/run: requests stuck behind a stopped worker). A blocking accept() has
 * neither problem: the waiter the kernel wakes takes the connection itself as it returns, and
 * a connection that came while no thread was in accept() is taken by the next one to get
 * there, in this process or another.
 */
#include "acceptor.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static struct timeval timeval_of_ms(int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	return tv;
}

int acceptor_prepare_listener(int listen_fd, int stop_check_ms)
{
	struct timeval tv = timeval_of_ms(stop_check_ms);
	int flags = fcntl(listen_fd, F_GETFL), type = 0;
	socklen_t len = sizeof(type);

	if (flags < 0)
		return -1;
	/* accept() on another kind says EOPNOTSUPP, which acceptor_next retries (see there). */
	if (getsockopt(listen_fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		return -1;
	if (type != SOCK_STREAM) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if ((flags & O_NONBLOCK) && fcntl(listen_fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
		return -1;
	return setsockopt(listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int is_tcp(int fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return 0;
	return sa.ss_family == AF_INET || sa.ss_family == AF_INET6;
}

void acceptor_init(struct acceptor *a, int listen_fd, const _Atomic int *stopping)
{
	a->listen_fd = listen_fd;
	a->stopping = stopping;
	a->tcp = is_tcp(listen_fd);
	a->first_bytes_ms = ACCEPTOR_FIRST_BYTES_MS;
}

/* accept() errors that end a wait but not the thread: the timeout (look at the flag), a signal,
 * a connection gone before it was taken (ECONNABORTED; ECONNRESET and ETIMEDOUT as libfcgi
 * also retries them), and the network errors Linux passes on from one pending connection,
 * which accept(2) ("Error handling") says to retry like EAGAIN. */
static int passing_accept_error(int err)
{
	switch (err) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
	case ECONNRESET:
	case ETIMEDOUT:
		return 1;
	default:
		return 0;
	}
}

/* The listener is shared with every process of the pool and with whatever started it: if
 * something made it non-blocking again, accept() says EAGAIN at once and the loop would spin.
 * Then wait for a connection (or the check period) before the next accept(). */
static void wait_if_listener_turned_nonblocking(const struct acceptor *a)
{
	int flags = fcntl(a->listen_fd, F_GETFL);
	struct pollfd p = { .fd = a->listen_fd, .events = POLLIN };

	if (flags >= 0 && (flags & O_NONBLOCK))
		(void)poll(&p, 1, ACCEPTOR_STOP_CHECK_MS);
}

/* Has the connection sent something (or closed: then libfcgi reads the end and skips it)? */
static int first_bytes_arrive(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	return n > 0;
}

/* A TCP connection inherits the listener's options, its receive timeout among them: libfcgi
 * would take a timeout's EAGAIN for a broken connection. Unix connections start clean. */
static void configure_tcp_connection(int fd)
{
	struct timeval no_timeout = timeval_of_ms(0);
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &no_timeout, sizeof(no_timeout));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int acceptor_next(struct acceptor *a)
{
	while (!atomic_load(a->stopping)) {
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			int err = errno;

			if (!passing_accept_error(err))
				return ACCEPTOR_FAILED;
			if (err == EAGAIN) /* EWOULDBLOCK is the same on Linux */
				wait_if_listener_turned_nonblocking(a);
			continue;
		}
		if (!first_bytes_arrive(fd, a->first_bytes_ms)) {
			close(fd);
			continue;
		}
		if (a->tcp)
			configure_tcp_connection(fd);
		return fd;
	}
	return ACCEPTOR_STOPPED;
}
