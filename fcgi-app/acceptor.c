/*
 * acceptor: see acceptor.h. Once the stop event is signalled no new connection is accepted,
 * but one already accepted is returned: the web server has sent, or is about to send, a request
 * on it, and only an answer tells it the outcome.
 */
#include "acceptor.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

int acceptor_stop_event(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

void acceptor_stop(int stop_fd)
{
	uint64_t one = 1;

	/* Nobody reads it, so it stays readable; a full counter (never) would still be readable. */
	while (write(stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

int acceptor_prepare_listener(int listen_fd)
{
	int flags = fcntl(listen_fd, F_GETFL);

	if (flags < 0)
		return -1;
	return (flags & O_NONBLOCK) ? 0 : fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK);
}

static int is_tcp(int fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return 0;
	return sa.ss_family == AF_INET || sa.ss_family == AF_INET6;
}

static int watch(int epoll_fd, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int acceptor_open(struct acceptor *a, int listen_fd, int stop_fd)
{
	a->listen_fd = listen_fd;
	a->stop_fd = stop_fd;
	a->tcp = is_tcp(listen_fd);
	a->first_bytes_ms = ACCEPTOR_FIRST_BYTES_MS;
	a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epoll_fd < 0)
		return -1;
	if (watch(a->epoll_fd, listen_fd, EPOLLIN | EPOLLEXCLUSIVE) != 0 ||
	    watch(a->epoll_fd, stop_fd, EPOLLIN) != 0) {
		acceptor_close(a);
		return -1;
	}
	return 0;
}

void acceptor_close(struct acceptor *a)
{
	if (a->epoll_fd >= 0)
		close(a->epoll_fd);
	a->epoll_fd = -1;
}

/* Wait until the listening socket may have a connection: 0, or an enum acceptor_result. */
static int wait_for_listener(struct acceptor *a)
{
	struct epoll_event ev[2];
	int n;

	do
		n = epoll_wait(a->epoll_fd, ev, 2, -1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ACCEPTOR_FAILED;
	for (int i = 0; i < n; i++)
		if (ev[i].data.fd == a->stop_fd)
			return ACCEPTOR_STOPPED;
	return 0;
}

/* accept() errors that concern one connection (gone before it was taken), or none at all
 * (another waiter took it): wait again. */
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
	for (;;) {
		int rc = wait_for_listener(a), fd, one = 1;

		if (rc != 0)
			return rc;
		fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
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
}
