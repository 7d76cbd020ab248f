/*
 * listen: creating or recognising the listening socket. A stale unix socket left by a killed
 * master is removed, but only if it is a socket: a typo must not delete a file.
 */
#include "listen.h"
#include "log.h"
#include "numparse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024
#define LISTEN_KEPT_ENV "NEXTID_LISTEN_FD"

int listen_inherited(void)
{
	int accepting = 0;
	socklen_t len = sizeof(accepting);

	return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting;
}

int listen_systemd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS"), *why;
	int64_t owner = 0, count = 0;
	int accepting = 0;
	socklen_t len = sizeof(accepting);

	if (!pid || !fds || numparse_i64(pid, strlen(pid), 1, INT32_MAX, &owner, &why) != 0 ||
	    numparse_i64(fds, strlen(fds), 1, 1024, &count, &why) != 0 || owner != getpid())
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (count > 1)
		LOG_WARN("systemd passed %lld sockets; serving on the first", (long long)count);
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) {
		LOG_ERROR("the socket systemd passed as fd 3 is not a listening socket");
		return -1;
	}
	return 3;
}

int listen_kept(void)
{
	const char *text = getenv(LISTEN_KEPT_ENV), *why;
	int64_t fd;
	int accepting = 0;
	socklen_t len = sizeof(accepting);

	if (!text)
		return -1;
	if (numparse_i64(text, strlen(text), 0, INT32_MAX, &fd, &why) != 0) {
		LOG_ERROR("%s '%.16s' %s; opening the socket afresh", LISTEN_KEPT_ENV, text, why);
		unsetenv(LISTEN_KEPT_ENV);
		return -1;
	}
	unsetenv(LISTEN_KEPT_ENV);
	if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) {
		LOG_ERROR("%s=%lld is not a listening socket; opening the socket afresh",
		          LISTEN_KEPT_ENV, (long long)fd);
		return -1;
	}
	fcntl((int)fd, F_SETFD, FD_CLOEXEC); /* the workers get it by fork(), no program by exec */
	return (int)fd;
}

int listen_keep(int fd)
{
	char text[16];
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0)
		return -1;
	snprintf(text, sizeof(text), "%d", fd);
	return setenv(LISTEN_KEPT_ENV, text, 1);
}

void listen_unkeep(int fd)
{
	unsetenv(LISTEN_KEPT_ENV);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat sb;
	mode_t old_mask;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		LOG_ERROR("socket path %s is longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		LOG_ERROR("socket: %s", strerror(errno));
		return -1;
	}
	/* 0660: the web server reaches it through the group, nobody else at all. */
	old_mask = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (rc != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		LOG_ERROR("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_tcp(const char *address)
{
	const char *colon = strrchr(address, ':');
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		                  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[256];
	int fd = -1, one = 1, err;

	if (!colon || colon == address || (size_t)(colon - address) >= sizeof(host) || !colon[1]) {
		LOG_ERROR("socket '%s' is neither a path nor HOST:PORT", address);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - address), address);
	err = getaddrinfo(host, colon + 1, &hints, &res);
	if (err != 0) {
		LOG_ERROR("socket '%s': %s", address, gai_strerror(err));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0)
		LOG_ERROR("cannot listen on %s: socket: %s", address, strerror(errno));
	else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	         bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		LOG_ERROR("cannot listen on %s: %s", address, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int listen_open(const char *address)
{
	return address[0] == '/' ? listen_unix(address) : listen_tcp(address);
}
