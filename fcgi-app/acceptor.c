/*
 * acceptor: see acceptor.h. Why not libfcgi's accept: a thread blocked there can only be
 * stopped by a signal, and a signal that lands just after its accept() returned (in its wait
 * for the first bytes) makes it drop the connection unanswered. Why not epoll with
 * EPOLLEXCLUSIVE: its wake-up goes to one waiter's epoll set, and if that waiter is slow to run
 * (or stopped), the connection waits in the queue while other threads sleep beside it (measured
 * with tests/crash/run: requests stuck behind a stopped worker). accept() has neither problem.
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

int acceptor_prepare_listener(int listen_fd, int stop_check_ms)
{
	struct timeval tv = { .tv_sec = stop_check_ms / 1000,
		              .tv_usec = (stop_check_ms % 1000) * 1000 };
	int flags = fcntl(listen_fd, F_GETFL);

	if (flags < 0)
		return -1;
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
 * a connection gone before it was taken. */
static int passing_accept_error(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED ||
	       err == EPROTO;
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

int acceptor_next(struct acceptor *a)
{
	while (!atomic_load(a->stopping)) {
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC), one = 1;

		if (fd < 0) {
			if (passing_accept_error(errno))
				continue;
			return ACCEPTOR_FAILED;
		}
		if (!first_bytes_arrive(fd, a->first_bytes_ms)) {
			close(fd);
			continue;
		}
		if (a->tcp)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return fd;
	}
	return ACCEPTOR_STOPPED;
}
