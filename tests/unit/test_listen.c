/*
 * listen: listen_open over unix paths and HOST:PORT, and what it logs when it cannot listen: every
 * failure says why (the master exits on it), including a socket() refused for want of a
 * descriptor, and a file that is not a socket is never removed to make room.
 */
#include "listen.h"
#include "log.h"
#include "scratch.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

struct listen_row {
	int line;
	const char *address; /* "%s" stands for a fresh temporary directory */
	int no_fds;          /* call it with no descriptor left to open */
	int plant_file;      /* a regular file sits where the socket goes */
	int ok;              /* a listening socket comes back */
	const char *logged;  /* a part of the error line (NULL: nothing logged) */
	const char *desc;
};

static const struct listen_row rows[] = {
	{ __LINE__, "127.0.0.1:0", 0, 0, 1, NULL, "TCP on a free port" },
	{ __LINE__, "%s/fcgi.sock", 0, 0, 1, NULL, "a unix socket" },
	{ __LINE__, "127.0.0.1:0", 1, 0, 0, "cannot listen on 127.0.0.1:0: socket: ",
	  "TCP without a descriptor left" },
	{ __LINE__, "%s/fcgi.sock", 1, 0, 0, "socket: ", "a unix socket without a descriptor left" },
	{ __LINE__, "localhost", 0, 0, 0, "is neither a path nor HOST:PORT", "no port" },
	{ __LINE__, ":8080", 0, 0, 0, "is neither a path nor HOST:PORT", "no host" },
	{ __LINE__, "127.0.0.1:", 0, 0, 0, "is neither a path nor HOST:PORT", "an empty port" },
	{ __LINE__, "%s/a-file", 0, 1, 0, "cannot listen on ", "a file in the way stays" },
	{ __LINE__,
	  "%s/a-path-longer-than-a-sockaddr_un-holds-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxx",
	  0, 0, 0, "is longer than", "a path too long" },
};

/* Lower the descriptor limit to the lowest free descriptor, so that no new one can be opened;
 * *was keeps the limit to restore. */
static void use_up_descriptors(struct rlimit *was)
{
	int lowest = dup(0);
	struct rlimit lim;

	ck_assert_int_ge(lowest, 0);
	close(lowest);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, was), 0);
	lim = *was;
	lim.rlim_cur = (rlim_t)lowest;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
}

START_TEST(test_listen_open)
{
	const struct listen_row *row = &rows[_i];
	char address[256], logged[4096] = "", shown[512];
	int p[2], saved, fd, accepting = 0;
	socklen_t len = sizeof(accepting);
	ssize_t n, got = 0;
	struct stat st;
	struct rlimit was;

	snprintf(address, sizeof(address), row->address, dir);
	if (row->plant_file)
		close(open(address, O_WRONLY | O_CREAT, 0600));
	/* The log goes to stderr: read it back through a pipe. */
	ck_assert_int_eq(pipe(p), 0);
	saved = dup(2);
	dup2(p[1], 2);
	close(p[1]);
	if (row->no_fds)
		use_up_descriptors(&was);
	fd = listen_open(address);
	if (row->no_fds)
		setrlimit(RLIMIT_NOFILE, &was);
	dup2(saved, 2);
	close(saved);
	while ((n = read(p[0], logged + got, sizeof(logged) - 1 - (size_t)got)) > 0)
		got += n;
	logged[got] = '\0';
	close(p[0]);
	if (row->ok) {
		ck_assert_msg(fd >= 0, "line %d: %s: no socket (%s)", row->line, row->desc, logged);
		ck_assert_msg(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 &&
		              accepting, "line %d: %s: not listening", row->line, row->desc);
		close(fd);
	} else {
		ck_assert_msg(fd == -1, "line %d: %s: got fd %d", row->line, row->desc, fd);
	}
	ck_assert_msg(row->logged ? strstr(logged, row->logged) != NULL : got == 0,
	              "line %d: %s: logged \"%s\"", row->line, row->desc,
	              unit_show(logged, (size_t)got, shown, sizeof(shown)));
	if (row->plant_file)
		ck_assert_msg(stat(address, &st) == 0 && S_ISREG(st.st_mode),
		              "line %d: %s: the file is gone", row->line, row->desc);
}
END_TEST

/* Each row gets a fresh directory (checked: in the row's own process under CK_FORK). */
static void setup(void)
{
	ck_assert_int_eq(scratch_make(dir, sizeof(dir), "test-listen"), 0);
	log_setup(LOG_INFO, "test");
}

static void teardown(void)
{
	scratch_remove(dir);
}

int main(void)
{
	Suite *suite = suite_create("listen");
	TCase *tc = tcase_create("listen");

	tcase_add_checked_fixture(tc, setup, teardown);
	UNIT_TABLE(tc, test_listen_open, rows);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
