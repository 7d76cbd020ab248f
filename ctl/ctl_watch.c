/*
 * ctl_watch: the watchdog of a nextidctl command, from the store's opening to its closing.
 * Berkeley DB's mutexes wait in the kernel, and one that a process killed inside the library left
 * locked (a worker of a pool that crashed, measured: in its log flush) is never released. A store
 * call that needs it blocks for ever, and a nextidctl blocked so also keeps env.lock, holding up
 * the service's recovery. So a thread watches the command and ends the process when
 *  - a recovery of the store begins while the store is open here: the environment is about to be
 *    pulled from under the command, and the recovery waits for it to leave (up to 5 s);
 *  - the main thread has waited for a lock (a futex) for request_timeout_s without running.
 * It ends it with _exit, closing nothing (a blocked process cannot, and must not try: env.lock and
 * everything else it held go with the process, and recovery mends the rest), after removing the
 * copy a backup or verify was making and one line on stderr saying what happened and what to do;
 * exit status CTL_INTERRUPTED. When only the close was left, it ends the process quietly with the
 * command's own status. The sequencer's watchdog (sequencer/counter.c) bounds each store call by
 * time alone; a nextidctl command (a backup, an import) may rightly take minutes, so here only
 * waiting without progress counts.
 */
#include "ctl.h"
#include "clock.h"
#include "numparse.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define WATCH_TICK_MS 100
#define WATCH_PARK_WAIT_MS 1000  /* for the main thread to stop before a cleanup */
#define WATCH_END_LIMIT_S 5      /* SIGALRM ends the process should the ending itself hang */
#define WATCH_PARK_SIGNAL SIGUSR1

static struct {
	const struct store_options *opt;
	const char *command, *after;
	unsigned timeout_s;        /* request_timeout_s: the longest wait that is not a stall */
	pid_t main_tid;
	clockid_t main_clock;      /* the main thread's CPU time */
	pthread_t main_thread, thread;
	int running;
	atomic_int stop, attached, parked, cleanup_set, closing, status;
	char cleanup[CONFIG_PATH_MAX];
	int cleanup_keep_dir;
} watch;

static const char recovering[] = "the store is being recovered (nextid-fcgi started, or is "
                                 "repairing it)";

/* Stop the main thread where it is, so that it writes nothing more into a directory the
 * watchdog removes. It never returns: the process ends from the watchdog. */
static void park(int sig)
{
	(void)sig;
	atomic_store(&watch.parked, 1);
	for (;;)
		pause();
}

static void say(const char *why)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "nextidctl: %s was interrupted: %s; %s\n",
	                 watch.command, why, watch.after);

	/* write(2), not stdio: the main thread may have stopped holding stderr's lock. */
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Once the command is done (ctl_watch_closing), only the close is left, and ending the process
 * is the close: with the command's own status, nothing more to say. */
static _Noreturn void end_command(const char *why)
{
	if (atomic_load(&watch.closing))
		_exit(atomic_load(&watch.status));
	alarm(WATCH_END_LIMIT_S); /* SIGALRM's default action ends the process */
	/* Parked, the main thread neither writes into the directory removed here nor races this
	 * exit with its own. A thread in an uninterruptible wait (a disk's) parks when it leaves. */
	pthread_kill(watch.main_thread, WATCH_PARK_SIGNAL);
	for (int ms = 0; !atomic_load(&watch.parked) && ms < WATCH_PARK_WAIT_MS; ms += 10)
		clock_sleep_ms(10);
	if (atomic_load(&watch.cleanup_set))
		ctl_remove_dir(watch.cleanup, watch.cleanup_keep_dir);
	say(why);
	_exit(CTL_INTERRUPTED);
}

/* Is the main thread in futex(), waiting for a lock? /proc/self/task/TID/syscall starts with the
 * number of the system call a blocked thread is in. Unreadable counts as no. */
static int main_waits_for_lock(void)
{
	char path[64], buf[128];
	const char *why;
	int64_t nr;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)watch.main_tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (numparse_i64(buf, strcspn(buf, " \n"), 0, INT64_MAX, &nr, &why) != 0)
		return 0;
#ifdef SYS_futex_time64 /* 32-bit systems with a 64-bit time_t wait here */
	if (nr == SYS_futex_time64)
		return 1;
#endif
#ifdef SYS_futex
	if (nr == SYS_futex)
		return 1;
#endif
	return 0;
}

static int64_t main_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(watch.main_clock, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Ticks, not clock time, measure the wait: a process stopped (SIGSTOP) and continued has not
 * been waiting meanwhile, and a wait is a stall only while the main thread's CPU time stands
 * still, so a busy lock taken and released between two looks never counts.
 */
static void *watch_run(void *arg)
{
	char why[256];
	unsigned stalled = 0;
	int64_t last_cpu = -1;

	(void)arg;
	while (!atomic_load(&watch.stop)) {
		int64_t cpu;

		clock_sleep_ms(WATCH_TICK_MS);
		if (atomic_load(&watch.attached) && store_recovery_running(watch.opt))
			end_command(recovering);
		cpu = main_cpu_ns();
		stalled = cpu >= 0 && cpu == last_cpu && main_waits_for_lock() ? stalled + 1 : 0;
		last_cpu = cpu;
		if (stalled >= watch.timeout_s * (1000 / WATCH_TICK_MS)) {
			snprintf(why, sizeof(why), "the store has not answered for %u s "
			         "(request_timeout_s), as when a process died inside Berkeley DB; "
			         "nextid-fcgi recovers the store, at the latest when it starts again",
			         watch.timeout_s);
			end_command(why);
		}
	}
	return NULL;
}

int ctl_watch_start(const struct store_options *opt, const char *command, const char *after,
                    unsigned timeout_s)
{
	struct sigaction sa;
	int err;

	watch.opt = opt;
	watch.command = command;
	watch.after = after;
	watch.timeout_s = timeout_s;
	watch.main_tid = gettid();
	watch.main_thread = pthread_self();
	if (pthread_getcpuclockid(watch.main_thread, &watch.main_clock) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = park;
	sigemptyset(&sa.sa_mask);
	if (sigaction(WATCH_PARK_SIGNAL, &sa, NULL) != 0)
		return -1;
	err = pthread_create(&watch.thread, NULL, watch_run, NULL);
	if (err != 0) {
		errno = err;
		return -1;
	}
	watch.running = 1;
	return 0;
}

atomic_int *ctl_watch_joined(void)
{
	return &watch.attached;
}

void ctl_watch_attached(void)
{
	atomic_store(&watch.attached, 1);
}

void ctl_watch_remove_on_end(const char *dir, int keep_dir)
{
	atomic_store(&watch.cleanup_set, 0);
	if (!dir)
		return;
	snprintf(watch.cleanup, sizeof(watch.cleanup), "%s", dir);
	watch.cleanup_keep_dir = keep_dir;
	atomic_store(&watch.cleanup_set, 1);
}

void ctl_watch_closing(int status)
{
	atomic_store(&watch.status, status);
	atomic_store(&watch.closing, 1);
}

void ctl_watch_stop(void)
{
	if (!watch.running)
		return;
	atomic_store(&watch.stop, 1);
	pthread_join(watch.thread, NULL);
	watch.running = 0;
}

int ctl_interrupted(void)
{
	if (atomic_load(&watch.cleanup_set))
		ctl_remove_dir(watch.cleanup, watch.cleanup_keep_dir);
	atomic_store(&watch.cleanup_set, 0);
	say("the store needs recovery, or was recovered under it (nextid-fcgi recovers it)");
	return CTL_INTERRUPTED;
}
