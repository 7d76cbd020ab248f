/*
 * acceptor: a real listening socket (unix, and TCP on 127.0.0.1) and real clients. What a
 * worker thread relies on: the connection it gets is the one that spoke, blocking and
 * close-on-exec; the stop flag ends a wait within the check period, also one already blocked
 * in another thread, and leaves queued connections to other processes; a silent connection
 * does not hold the thread; a stop never drops a connection already accepted.
 */
#include "acceptor.h"
#include "clock.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHECK_MS 50

struct fixture {
	char dir[64];
	struct sockaddr_un addr;
	int listen_fd;
	_Atomic int stopping;
	struct acceptor a;
};

static void setup_unix(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/nextid-acceptor-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	f->addr.sun_family = AF_UNIX;
	snprintf(f->addr.sun_path, sizeof(f->addr.sun_path), "%s/s", f->dir);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(f->listen_fd, 0);
	ck_assert_int_eq(bind(f->listen_fd, (struct sockaddr *)&f->addr, sizeof(f->addr)), 0);
	ck_assert_int_eq(listen(f->listen_fd, 16), 0);
	ck_assert_int_eq(acceptor_prepare_listener(f->listen_fd, CHECK_MS), 0);
	acceptor_init(&f->a, f->listen_fd, &f->stopping);
}

static void teardown(struct fixture *f)
{
	close(f->listen_fd);
	if (f->dir[0]) {
		unlink(f->addr.sun_path);
		rmdir(f->dir);
	}
}

/* A client connected to the fixture's unix socket; sends `say` unless it is NULL. */
static int client(const struct fixture *f, const char *say)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (const struct sockaddr *)&f->addr, sizeof(f->addr)), 0);
	if (say)
		ck_assert_int_eq(write(fd, say, strlen(say)), (ssize_t)strlen(say));
	return fd;
}

/* Read exactly what the peer sent so far (it has sent it all before we read). */
static void expect_bytes(int fd, const char *want)
{
	char buf[64] = { 0 };
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert_str_eq(buf, want);
}

START_TEST(test_returns_the_connection_that_spoke_blocking_and_cloexec)
{
	struct fixture f;
	struct timeval tv;
	socklen_t len = sizeof(tv);
	int c, fd;

	setup_unix(&f);
	/* The listener was created non-blocking: prepared, it blocks with the check period. */
	ck_assert_int_eq(fcntl(f.listen_fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_eq(getsockopt(f.listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
	/* The kernel keeps it in clock ticks (4 ms at HZ=250) and rounds up. */
	ck_assert_int_ge(tv.tv_sec * 1000 + tv.tv_usec / 1000, CHECK_MS);
	ck_assert_int_le(tv.tv_sec * 1000 + tv.tv_usec / 1000, CHECK_MS + 10);
	c = client(&f, "hello");
	fd = acceptor_next(&f.a);
	ck_assert_int_ge(fd, 0);
	expect_bytes(fd, "hello");
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(write(fd, "back", 4), 4);
	expect_bytes(c, "back");
	close(fd);
	close(c);
	teardown(&f);
}
END_TEST

START_TEST(test_stop_leaves_a_queued_connection_in_the_queue)
{
	struct fixture f;
	int c, fd;

	setup_unix(&f);
	c = client(&f, "queued");
	atomic_store(&f.stopping, 1);
	ck_assert_int_eq(acceptor_next(&f.a), ACCEPTOR_STOPPED);
	ck_assert_int_eq(acceptor_next(&f.a), ACCEPTOR_STOPPED);
	/* Still in the backlog: another process of the pool takes it. */
	fd = accept4(f.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	expect_bytes(fd, "queued");
	close(fd);
	close(c);
	teardown(&f);
}
END_TEST

struct waiter {
	struct acceptor *a;
	_Atomic int result;
};

static void *wait_in_thread(void *arg)
{
	struct waiter *w = arg;

	atomic_store(&w->result, acceptor_next(w->a));
	return NULL;
}

START_TEST(test_stop_ends_a_wait_already_blocked_within_the_check_period)
{
	struct fixture f;
	struct waiter w;
	struct timespec settle = { .tv_nsec = 3 * CHECK_MS * 1000000L };
	pthread_t id;
	int64_t start;

	setup_unix(&f);
	w.a = &f.a;
	atomic_store(&w.result, 12345);
	ck_assert_int_eq(pthread_create(&id, NULL, wait_in_thread, &w), 0);
	nanosleep(&settle, NULL);
	ck_assert_int_eq(atomic_load(&w.result), 12345); /* nothing came, timeouts went round */
	start = clock_monotonic_ms();
	atomic_store(&f.stopping, 1);
	ck_assert_int_eq(pthread_join(id, NULL), 0);
	ck_assert_int_eq(atomic_load(&w.result), ACCEPTOR_STOPPED);
	/* One check period, and room for a loaded machine: a missed flag would wait forever. */
	ck_assert_int_le(clock_monotonic_ms() - start, 1000);
	teardown(&f);
}
END_TEST

START_TEST(test_a_silent_connection_is_closed_and_the_next_one_served)
{
	struct fixture f;
	int silent, talker, fd;
	char byte;
	int64_t start;

	setup_unix(&f);
	f.a.first_bytes_ms = 100;
	silent = client(&f, NULL);
	talker = client(&f, "request");
	start = clock_monotonic_ms();
	fd = acceptor_next(&f.a);
	ck_assert_int_ge(fd, 0);
	expect_bytes(fd, "request");
	ck_assert_int_ge(clock_monotonic_ms() - start, 90);
	ck_assert_int_eq(read(silent, &byte, 1), 0); /* closed unserved */
	close(fd);
	close(talker);
	close(silent);
	teardown(&f);
}
END_TEST

START_TEST(test_a_connection_closed_at_once_is_returned_at_its_end)
{
	struct fixture f;
	int fd;
	char byte;

	setup_unix(&f);
	close(client(&f, NULL));
	fd = acceptor_next(&f.a);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, &byte, 1), 0);
	close(fd);
	teardown(&f);
}
END_TEST

struct late_sender {
	_Atomic int *stopping;
	int listen_fd;
	int fd;
};

/* Is a connection waiting in the listener's backlog? */
static int backlog_holds_a_connection(int listen_fd)
{
	struct pollfd p = { .fd = listen_fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/* Once the acceptor has taken the connection (the backlog is empty), raise the stop flag;
 * 100 ms later send "late". */
static void *stop_then_send(void *arg)
{
	struct late_sender *s = arg;
	struct timespec tick = { .tv_nsec = 1000000L }, pause = { .tv_nsec = 100 * 1000000L };

	while (backlog_holds_a_connection(s->listen_fd))
		nanosleep(&tick, NULL);
	atomic_store(s->stopping, 1);
	nanosleep(&pause, NULL);
	ck_assert_int_eq(write(s->fd, "late", 4), 4);
	return NULL;
}

START_TEST(test_a_stop_after_the_accept_still_returns_the_connection)
{
	struct fixture f;
	struct late_sender s;
	pthread_t id;
	int c, fd;

	setup_unix(&f);
	c = client(&f, NULL);
	/* Accepted but silent: the stop comes while it waits for the first bytes, then they come.
	 * The connection is the web server's request: it must be returned, not dropped. */
	s.stopping = &f.stopping;
	s.listen_fd = f.listen_fd;
	s.fd = c;
	ck_assert_int_eq(pthread_create(&id, NULL, stop_then_send, &s), 0);
	fd = acceptor_next(&f.a);
	ck_assert_int_ge(fd, 0);
	expect_bytes(fd, "late");
	ck_assert_int_eq(pthread_join(id, NULL), 0);
	ck_assert_int_eq(acceptor_next(&f.a), ACCEPTOR_STOPPED);
	close(fd);
	close(c);
	teardown(&f);
}
END_TEST

START_TEST(test_tcp_connections_have_nagle_off)
{
	struct fixture f;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int c, fd, nodelay = 0;
	socklen_t optlen = sizeof(nodelay);
	struct timeval tv = { .tv_sec = 99 };
	socklen_t tvlen = sizeof(tv);

	memset(&f, 0, sizeof(f));
	f.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f.listen_fd, 0);
	ck_assert_int_eq(bind(f.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(f.listen_fd, (struct sockaddr *)&sa, &len), 0);
	ck_assert_int_eq(listen(f.listen_fd, 16), 0);
	ck_assert_int_eq(acceptor_prepare_listener(f.listen_fd, CHECK_MS), 0);
	acceptor_init(&f.a, f.listen_fd, &f.stopping);
	ck_assert_int_eq(f.a.tcp, 1);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(write(c, "tcp", 3), 3);
	fd = acceptor_next(&f.a);
	ck_assert_int_ge(fd, 0);
	expect_bytes(fd, "tcp");
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &optlen), 0);
	ck_assert_int_eq(nodelay, 1);
	/* Not the listener's receive timeout, which a TCP connection inherits: libfcgi would take
	 * its EAGAIN for a broken connection in a request slower than the check period. */
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &tvlen), 0);
	ck_assert_int_eq(tv.tv_sec, 0);
	ck_assert_int_eq(tv.tv_usec, 0);
	close(fd);
	close(c);
	teardown(&f);
}
END_TEST

static int64_t process_cpu_ms(void)
{
	struct rusage ru;

	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

START_TEST(test_a_listener_made_nonblocking_again_is_waited_on_not_spun_on)
{
	struct fixture f;
	struct waiter w;
	struct timespec idle = { .tv_nsec = 400 * 1000000L };
	pthread_t id;
	int64_t cpu;
	int c, fd;

	setup_unix(&f);
	ck_assert_int_eq(fcntl(f.listen_fd, F_SETFL, fcntl(f.listen_fd, F_GETFL) | O_NONBLOCK), 0);
	w.a = &f.a;
	atomic_store(&w.result, 12345);
	cpu = process_cpu_ms();
	ck_assert_int_eq(pthread_create(&id, NULL, wait_in_thread, &w), 0);
	nanosleep(&idle, NULL);
	/* Spinning on EAGAIN would burn the whole 400 ms; waiting burns next to nothing. */
	ck_assert_int_le(process_cpu_ms() - cpu, 100);
	c = client(&f, "still served");
	ck_assert_int_eq(pthread_join(id, NULL), 0);
	fd = atomic_load(&w.result);
	ck_assert_int_ge(fd, 0);
	expect_bytes(fd, "still served");
	close(fd);
	close(c);
	teardown(&f);
}
END_TEST

START_TEST(test_a_listener_that_is_not_a_socket_is_refused)
{
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(null_fd, 0);
	ck_assert_int_eq(acceptor_prepare_listener(null_fd, CHECK_MS), -1);
	ck_assert_int_eq(errno, ENOTSOCK);
	close(null_fd);
}
END_TEST

START_TEST(test_a_listener_that_is_not_a_stream_is_refused)
{
	int datagram = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* accept() on it would say EOPNOTSUPP, an error the acceptor retries. */
	ck_assert_int_ge(datagram, 0);
	ck_assert_int_eq(acceptor_prepare_listener(datagram, CHECK_MS), -1);
	ck_assert_int_eq(errno, EOPNOTSUPP);
	close(datagram);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("acceptor");
	TCase *tc = tcase_create("acceptor");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_returns_the_connection_that_spoke_blocking_and_cloexec);
	tcase_add_test(tc, test_stop_leaves_a_queued_connection_in_the_queue);
	tcase_add_test(tc, test_stop_ends_a_wait_already_blocked_within_the_check_period);
	tcase_add_test(tc, test_a_silent_connection_is_closed_and_the_next_one_served);
	tcase_add_test(tc, test_a_connection_closed_at_once_is_returned_at_its_end);
	tcase_add_test(tc, test_a_stop_after_the_accept_still_returns_the_connection);
	tcase_add_test(tc, test_tcp_connections_have_nagle_off);
	tcase_add_test(tc, test_a_listener_made_nonblocking_again_is_waited_on_not_spun_on);
	tcase_add_test(tc, test_a_listener_that_is_not_a_socket_is_refused);
	tcase_add_test(tc, test_a_listener_that_is_not_a_stream_is_refused);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
