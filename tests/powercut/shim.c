/*
 * powercut shim: a test-only LD_PRELOAD library that journals every change a process makes to the
 * files of one data directory, so that tests/powercut/run can rebuild what the disk would hold
 * had the machine lost power at any point of a load. Never built into nextid itself.
 *
 * Set in the environment of nextid-fcgi's master (its workers, housekeeper and helper children
 * are forked from it and inherit the library and its state):
 *   POWERCUT_DIR      the data directory; only paths under "POWERCUT_DIR/" are journaled
 *   POWERCUT_JOURNAL  the journal, one file for every process, appended with O_APPEND
 *   POWERCUT_COUNTER  an 8-byte file mapped MAP_SHARED: the global sequence counter
 *
 * What it records, one record per event, each with a sequence number taken from the shared
 * counter with an atomic fetch-and-add (so the order of the numbers is the order in which the
 * events happened, across processes):
 *   OPEN      path, inode, flags (O_TRUNC empties the file; O_SYNC/O_DSYNC noted)
 *   WRITE     inode, offset, length and the bytes: write (offset from lseek), pwrite, pwrite64,
 *             writev, pwritev; numbered after the call returned (the write is complete)
 *   TRUNCATE  inode, length: ftruncate, truncate
 *   SYNC      inode: fsync, fdatasync; two numbers, one taken before the call (seq0: only writes
 *             numbered below it are covered) and one after it returned (seq: from then on the
 *             flush counts)
 *   RENAME    from, to;  UNLINK  path;  MMAP  a shared writable mapping (its stores are not seen)
 *   ACK/NOTE  written by the test driver through powercut_ack()/powercut_note() below, with a
 *             number from the same counter: "this value had reached the client by now"
 * Berkeley DB 5.3 as nextid configures it (strace, and libdb-5.3.so's imports) writes its log
 * with pwrite at increasing offsets and flushes it with fdatasync; writes database pages with
 * pwrite and fdatasyncs each database file at a checkpoint; extends files with lseek + write of
 * one byte; creates a database under a temporary name and renames it; keeps its regions
 * (__db.00N) in files mapped MAP_SHARED. It makes no fsync, O_SYNC/O_DSYNC open, openat,
 * fallocate or msync call; nextid's own DB_CONFIG writer uses write + fsync + rename.
 *
 * Each record: struct powercut_rec, then path, then path2, then len bytes of data (WRITE only),
 * written with one writev on an O_APPEND descriptor, so records of concurrent processes never
 * interleave. The driver parses it with the same layout (tests/powercut/run, REC_FORMAT).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

enum powercut_type {
	PC_OPEN = 1,
	PC_WRITE = 2,
	PC_TRUNCATE = 3,
	PC_SYNC = 4,
	PC_RENAME = 5,
	PC_UNLINK = 6,
	PC_MMAP = 7,
	PC_ACK = 8,
	PC_NOTE = 9,
};

#define PC_MAGIC 0x50435554u /* "PCUT" */

/* Little-endian on the machines this runs on; the driver reads it with "<IIQQIIQQQII". */
struct powercut_rec {
	uint32_t magic, type;
	uint64_t seq;  /* when the event was complete */
	uint64_t seq0; /* SYNC: taken before the call; otherwise = seq */
	uint32_t pid, flags;
	uint64_t ino;
	uint64_t off;  /* WRITE: offset; TRUNCATE: length; ACK: the value */
	uint64_t len;  /* bytes of data following the paths */
	uint32_t path_len, path2_len;
} __attribute__((packed));

#define FD_SLOTS 65536
#define JOURNAL_FD_MIN 900

struct fd_entry {
	char *path;
	uint64_t ino;
	int sync_writes; /* opened O_SYNC or O_DSYNC: every write is durable when it returns */
};

static struct fd_entry *fd_table[FD_SLOTS];
static char data_prefix[PATH_MAX + 2];
static size_t data_prefix_len;
static int journal_fd = -1;
static uint64_t *counter;
static int active;

/* The real functions, looked up on first use. */
#define REAL(name) real_##name
#define DECLARE_REAL(ret, name, ...) static ret (*real_##name)(__VA_ARGS__)
DECLARE_REAL(int, open, const char *, int, ...);
DECLARE_REAL(int, open64, const char *, int, ...);
DECLARE_REAL(int, openat, int, const char *, int, ...);
DECLARE_REAL(int, openat64, int, const char *, int, ...);
DECLARE_REAL(int, __open_2, const char *, int);
DECLARE_REAL(int, __open64_2, const char *, int);
DECLARE_REAL(int, __openat_2, int, const char *, int);
DECLARE_REAL(int, __openat64_2, int, const char *, int);
DECLARE_REAL(int, creat, const char *, mode_t);
DECLARE_REAL(int, creat64, const char *, mode_t);
DECLARE_REAL(int, close, int);
DECLARE_REAL(int, dup, int);
DECLARE_REAL(int, dup2, int, int);
DECLARE_REAL(int, dup3, int, int, int);
DECLARE_REAL(ssize_t, write, int, const void *, size_t);
DECLARE_REAL(ssize_t, pwrite, int, const void *, size_t, off_t);
DECLARE_REAL(ssize_t, pwrite64, int, const void *, size_t, off64_t);
DECLARE_REAL(ssize_t, writev, int, const struct iovec *, int);
DECLARE_REAL(ssize_t, pwritev, int, const struct iovec *, int, off_t);
DECLARE_REAL(ssize_t, pwritev64, int, const struct iovec *, int, off64_t);
DECLARE_REAL(int, ftruncate, int, off_t);
DECLARE_REAL(int, ftruncate64, int, off64_t);
DECLARE_REAL(int, truncate, const char *, off_t);
DECLARE_REAL(int, truncate64, const char *, off64_t);
DECLARE_REAL(int, fsync, int);
DECLARE_REAL(int, fdatasync, int);
DECLARE_REAL(int, rename, const char *, const char *);
DECLARE_REAL(int, renameat, int, const char *, int, const char *);
DECLARE_REAL(int, renameat2, int, const char *, int, const char *, unsigned);
DECLARE_REAL(int, unlink, const char *);
DECLARE_REAL(int, unlinkat, int, const char *, int);
DECLARE_REAL(void *, mmap, void *, size_t, int, int, int, off_t);
DECLARE_REAL(void *, mmap64, void *, size_t, int, int, int, off64_t);
DECLARE_REAL(off_t, lseek, int, off_t, int);

/* dlsym hands back a data pointer; POSIX guarantees it converts to a function pointer. */
#define RESOLVE(name)                                                                      \
	do {                                                                               \
		if (!real_##name) {                                                        \
			void *sym = dlsym(RTLD_NEXT, #name);                               \
			memcpy(&real_##name, &sym, sizeof(sym));                           \
		}                                                                          \
	} while (0)

static void die(const char *what)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "powercut shim (pid %d): %s: %s\n", (int)getpid(), what,
	                 strerror(errno));

	RESOLVE(write);
	if (n > 0)
		real_write(2, msg, (size_t)n);
	_exit(99);
}

static uint64_t next_seq(void)
{
	return __atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
}

/* Map the counter and open the journal (both with the real calls); returns 0 or -1. */
static int journal_open(const char *journal, const char *counter_path)
{
	int fd, cfd;
	void *map;

	RESOLVE(open);
	RESOLVE(close);
	RESOLVE(mmap);
	fd = real_open(journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	/* Keep it out of the way of the descriptors the program juggles itself. */
	journal_fd = fcntl(fd, F_DUPFD_CLOEXEC, JOURNAL_FD_MIN);
	real_close(fd);
	if (journal_fd < 0)
		return -1;
	cfd = real_open(counter_path, O_RDWR | O_CLOEXEC);
	if (cfd < 0)
		return -1;
	map = real_mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
	real_close(cfd);
	if (map == MAP_FAILED)
		return -1;
	counter = map;
	return 0;
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *dir = getenv("POWERCUT_DIR");
	const char *journal = getenv("POWERCUT_JOURNAL");
	const char *counter_path = getenv("POWERCUT_COUNTER");

	if (!dir || !journal || !counter_path || !*dir)
		return; /* loaded by the driver for powercut_ack(), or not configured */
	if (strlen(dir) > PATH_MAX) {
		errno = ENAMETOOLONG;
		die("POWERCUT_DIR");
	}
	snprintf(data_prefix, sizeof(data_prefix), "%s%s", dir,
	         dir[strlen(dir) - 1] == '/' ? "" : "/");
	data_prefix_len = strlen(data_prefix);
	if (journal_open(journal, counter_path) != 0)
		die("cannot open the journal or the counter");
	active = 1;
}

/* One record in one writev: concurrent appends to an O_APPEND file never interleave. */
static void emit(uint32_t type, uint64_t seq0, uint64_t seq, uint32_t flags, uint64_t ino,
                 uint64_t off, const char *path, const char *path2, const void *data, uint64_t len)
{
	struct powercut_rec rec = {
		.magic = PC_MAGIC, .type = type, .seq = seq, .seq0 = seq0,
		.pid = (uint32_t)getpid(), .flags = flags, .ino = ino, .off = off, .len = len,
		.path_len = path ? (uint32_t)strlen(path) : 0,
		.path2_len = path2 ? (uint32_t)strlen(path2) : 0,
	};
	struct iovec iov[4] = {
		{ &rec, sizeof(rec) },
		{ (void *)(path ? path : ""), rec.path_len },
		{ (void *)(path2 ? path2 : ""), rec.path2_len },
		{ (void *)data, data ? (size_t)len : 0 },
	};
	size_t want = sizeof(rec) + rec.path_len + rec.path2_len + (data ? (size_t)len : 0);
	int saved = errno;

	RESOLVE(writev);
	if (real_writev(journal_fd, iov, 4) != (ssize_t)want)
		die("journal write");
	errno = saved;
}

/* path made absolute against dirfd (AT_FDCWD or a directory descriptor); NULL if untracked. */
static char *absolute(int dirfd, const char *path, char *buf, size_t size)
{
	char base[PATH_MAX];

	if (!path)
		return NULL;
	if (path[0] == '/') {
		snprintf(buf, size, "%s", path);
	} else if (dirfd == AT_FDCWD) {
		if (!getcwd(base, sizeof(base)))
			return NULL;
		snprintf(buf, size, "%s/%s", base, path);
	} else {
		char link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		n = readlink(link, base, sizeof(base) - 1);
		if (n < 0)
			return NULL;
		base[n] = '\0';
		snprintf(buf, size, "%s/%s", base, path);
	}
	return buf;
}

static int tracked_path(const char *abs)
{
	return active && abs && strncmp(abs, data_prefix, data_prefix_len) == 0;
}

static struct fd_entry *entry(int fd)
{
	if (!active || fd < 0 || fd >= FD_SLOTS)
		return NULL;
	return __atomic_load_n(&fd_table[fd], __ATOMIC_ACQUIRE);
}

/* Entries are never freed: a racing writer in another thread may still read the old one. */
static void set_entry(int fd, struct fd_entry *e)
{
	if (fd >= 0 && fd < FD_SLOTS)
		__atomic_store_n(&fd_table[fd], e, __ATOMIC_RELEASE);
}

static void after_open(int fd, int dirfd, const char *path, int flags)
{
	char abs[PATH_MAX + 64];
	struct fd_entry *e;
	struct stat sb;
	uint64_t seq;

	if (!active || fd < 0)
		return;
	set_entry(fd, NULL);
	if (!tracked_path(absolute(dirfd, path, abs, sizeof(abs))))
		return;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		return;
	if (fd >= FD_SLOTS) {
		errno = EMFILE;
		die("a descriptor beyond the shim's table"); /* its writes would go unrecorded */
	}
	seq = next_seq();
	e = calloc(1, sizeof(*e));
	if (!e || !(e->path = strdup(abs)))
		die("out of memory");
	e->ino = (uint64_t)sb.st_ino;
	e->sync_writes = (flags & (O_SYNC | O_DSYNC)) != 0;
	set_entry(fd, e);
	emit(PC_OPEN, seq, seq, (uint32_t)flags, e->ino, (uint64_t)sb.st_size, abs, NULL, NULL, 0);
}

static int open_mode_flags(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

#define OPEN_BODY(realname, ...)                                                           \
	mode_t mode = 0;                                                                   \
	int fd;                                                                            \
	if (open_mode_flags(flags)) {                                                      \
		va_list ap;                                                                \
		va_start(ap, flags);                                                       \
		mode = (mode_t)va_arg(ap, int);                                            \
		va_end(ap);                                                                \
	}                                                                                  \
	RESOLVE(realname);                                                                 \
	fd = real_##realname(__VA_ARGS__, flags, mode);

int open(const char *path, int flags, ...)
{
	OPEN_BODY(open, path)
	after_open(fd, AT_FDCWD, path, flags);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	OPEN_BODY(open64, path)
	after_open(fd, AT_FDCWD, path, flags);
	return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(openat, dirfd, path)
	after_open(fd, dirfd, path, flags);
	return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(openat64, dirfd, path)
	after_open(fd, dirfd, path, flags);
	return fd;
}

/* The _FORTIFY_SOURCE entry points, called without a mode. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

int __open_2(const char *path, int flags)
{
	int fd;

	RESOLVE(__open_2);
	fd = real___open_2(path, flags);
	after_open(fd, AT_FDCWD, path, flags);
	return fd;
}

int __open64_2(const char *path, int flags)
{
	int fd;

	RESOLVE(__open64_2);
	fd = real___open64_2(path, flags);
	after_open(fd, AT_FDCWD, path, flags);
	return fd;
}

int __openat_2(int dirfd, const char *path, int flags)
{
	int fd;

	RESOLVE(__openat_2);
	fd = real___openat_2(dirfd, path, flags);
	after_open(fd, dirfd, path, flags);
	return fd;
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	int fd;

	RESOLVE(__openat64_2);
	fd = real___openat64_2(dirfd, path, flags);
	after_open(fd, dirfd, path, flags);
	return fd;
}

int creat(const char *path, mode_t mode)
{
	int fd;

	RESOLVE(creat);
	fd = real_creat(path, mode);
	after_open(fd, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC);
	return fd;
}

int creat64(const char *path, mode_t mode)
{
	int fd;

	RESOLVE(creat64);
	fd = real_creat64(path, mode);
	after_open(fd, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC);
	return fd;
}

int close(int fd)
{
	RESOLVE(close);
	if (active && fd == journal_fd)
		return 0; /* a program closing every descriptor must not take the journal with it */
	set_entry(fd, NULL);
	return real_close(fd);
}

int dup(int fd)
{
	int nfd;

	RESOLVE(dup);
	nfd = real_dup(fd);
	if (nfd >= 0)
		set_entry(nfd, entry(fd));
	return nfd;
}

int dup2(int fd, int nfd)
{
	int rc;

	RESOLVE(dup2);
	if (active && nfd == journal_fd) {
		errno = EBADF;
		return -1;
	}
	rc = real_dup2(fd, nfd);
	if (rc >= 0 && fd != nfd)
		set_entry(nfd, entry(fd));
	return rc;
}

int dup3(int fd, int nfd, int flags)
{
	int rc;

	RESOLVE(dup3);
	if (active && nfd == journal_fd) {
		errno = EBADF;
		return -1;
	}
	rc = real_dup3(fd, nfd, flags);
	if (rc >= 0)
		set_entry(nfd, entry(fd));
	return rc;
}

/* A completed write of buf[0..n) at off. Under O_SYNC/O_DSYNC it is durable on return: a SYNC
 * record follows it, with seq0 above the write's number. */
static void record_write(struct fd_entry *e, const void *buf, size_t n, uint64_t off)
{
	uint64_t seq = next_seq();

	emit(PC_WRITE, seq, seq, 0, e->ino, off, e->path, NULL, buf, n);
	if (e->sync_writes) {
		uint64_t s0 = next_seq();

		emit(PC_SYNC, s0, next_seq(), 1, e->ino, 0, e->path, NULL, NULL, 0);
	}
}

static void record_writev(struct fd_entry *e, const struct iovec *iov, int cnt, size_t n,
                          uint64_t off)
{
	char *buf = malloc(n ? n : 1);
	size_t done = 0;

	if (!buf)
		die("out of memory");
	for (int i = 0; i < cnt && done < n; i++) {
		size_t take = iov[i].iov_len < n - done ? iov[i].iov_len : n - done;

		memcpy(buf + done, iov[i].iov_base, take);
		done += take;
	}
	record_write(e, buf, n, off);
	free(buf);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	struct fd_entry *e = entry(fd);
	ssize_t n;

	RESOLVE(write);
	RESOLVE(lseek);
	n = real_write(fd, buf, count);
	if (e && n > 0) {
		int saved = errno;
		/* Where the write ended, O_APPEND or not. */
		off_t end = real_lseek(fd, 0, SEEK_CUR);

		errno = saved;
		if (end < n)
			die("lseek after write");
		record_write(e, buf, (size_t)n, (uint64_t)(end - n));
	}
	return n;
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
	struct fd_entry *e = entry(fd);
	ssize_t n;

	RESOLVE(pwrite);
	n = real_pwrite(fd, buf, count, off);
	if (e && n > 0)
		record_write(e, buf, (size_t)n, (uint64_t)off);
	return n;
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t off)
{
	struct fd_entry *e = entry(fd);
	ssize_t n;

	RESOLVE(pwrite64);
	n = real_pwrite64(fd, buf, count, off);
	if (e && n > 0)
		record_write(e, buf, (size_t)n, (uint64_t)off);
	return n;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct fd_entry *e = entry(fd);
	ssize_t n;

	RESOLVE(writev);
	RESOLVE(lseek);
	n = real_writev(fd, iov, cnt);
	if (e && n > 0) {
		int saved = errno;
		off_t end = real_lseek(fd, 0, SEEK_CUR);

		errno = saved;
		if (end < n)
			die("lseek after writev");
		record_writev(e, iov, cnt, (size_t)n, (uint64_t)(end - n));
	}
	return n;
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct fd_entry *e = entry(fd);
	ssize_t n;

	RESOLVE(pwritev);
	n = real_pwritev(fd, iov, cnt, off);
	if (e && n > 0)
		record_writev(e, iov, cnt, (size_t)n, (uint64_t)off);
	return n;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	struct fd_entry *e = entry(fd);
	ssize_t n;

	RESOLVE(pwritev64);
	n = real_pwritev64(fd, iov, cnt, off);
	if (e && n > 0)
		record_writev(e, iov, cnt, (size_t)n, (uint64_t)off);
	return n;
}

static void record_truncate(uint64_t ino, const char *path, uint64_t len)
{
	uint64_t seq = next_seq();

	emit(PC_TRUNCATE, seq, seq, 0, ino, len, path, NULL, NULL, 0);
}

int ftruncate(int fd, off_t len)
{
	struct fd_entry *e = entry(fd);
	int rc;

	RESOLVE(ftruncate);
	rc = real_ftruncate(fd, len);
	if (e && rc == 0)
		record_truncate(e->ino, e->path, (uint64_t)len);
	return rc;
}

int ftruncate64(int fd, off64_t len)
{
	struct fd_entry *e = entry(fd);
	int rc;

	RESOLVE(ftruncate64);
	rc = real_ftruncate64(fd, len);
	if (e && rc == 0)
		record_truncate(e->ino, e->path, (uint64_t)len);
	return rc;
}

static void truncate_by_path(const char *path, uint64_t len)
{
	char abs[PATH_MAX + 64];
	struct stat sb;

	if (tracked_path(absolute(AT_FDCWD, path, abs, sizeof(abs))) && stat(abs, &sb) == 0)
		record_truncate((uint64_t)sb.st_ino, abs, len);
}

int truncate(const char *path, off_t len)
{
	int rc;

	RESOLVE(truncate);
	rc = real_truncate(path, len);
	if (rc == 0)
		truncate_by_path(path, (uint64_t)len);
	return rc;
}

int truncate64(const char *path, off64_t len)
{
	int rc;

	RESOLVE(truncate64);
	rc = real_truncate64(path, len);
	if (rc == 0)
		truncate_by_path(path, (uint64_t)len);
	return rc;
}

/* seq0 before the call: a flush covers exactly the writes that were complete when it began. */
#define SYNC_BODY(name, datasync)                                                          \
	struct fd_entry *e = entry(fd);                                                    \
	uint64_t s0 = e ? next_seq() : 0;                                                  \
	int rc;                                                                            \
	RESOLVE(name);                                                                     \
	rc = real_##name(fd);                                                              \
	if (e && rc == 0)                                                                  \
		emit(PC_SYNC, s0, next_seq(), datasync, e->ino, 0, e->path, NULL, NULL, 0); \
	return rc;

int fsync(int fd)
{
	SYNC_BODY(fsync, 0)
}

int fdatasync(int fd)
{
	SYNC_BODY(fdatasync, 2)
}

static void record_rename(int olddir, const char *from, int newdir, const char *to)
{
	char a[PATH_MAX + 64], b[PATH_MAX + 64];
	uint64_t seq;

	absolute(olddir, from, a, sizeof(a));
	absolute(newdir, to, b, sizeof(b));
	if (!tracked_path(a) && !tracked_path(b))
		return;
	seq = next_seq();
	emit(PC_RENAME, seq, seq, 0, 0, 0, a, b, NULL, 0);
}

int rename(const char *from, const char *to)
{
	int rc;

	RESOLVE(rename);
	rc = real_rename(from, to);
	if (rc == 0)
		record_rename(AT_FDCWD, from, AT_FDCWD, to);
	return rc;
}

int renameat(int olddir, const char *from, int newdir, const char *to)
{
	int rc;

	RESOLVE(renameat);
	rc = real_renameat(olddir, from, newdir, to);
	if (rc == 0)
		record_rename(olddir, from, newdir, to);
	return rc;
}

int renameat2(int olddir, const char *from, int newdir, const char *to, unsigned flags)
{
	int rc;

	RESOLVE(renameat2);
	rc = real_renameat2(olddir, from, newdir, to, flags);
	if (rc == 0)
		record_rename(olddir, from, newdir, to); /* RENAME_EXCHANGE: not used by nextid */
	return rc;
}

static void record_unlink(int dirfd, const char *path)
{
	char abs[PATH_MAX + 64];
	uint64_t seq;

	if (!tracked_path(absolute(dirfd, path, abs, sizeof(abs))))
		return;
	seq = next_seq();
	emit(PC_UNLINK, seq, seq, 0, 0, 0, abs, NULL, NULL, 0);
}

int unlink(const char *path)
{
	int rc;

	RESOLVE(unlink);
	rc = real_unlink(path);
	if (rc == 0)
		record_unlink(AT_FDCWD, path);
	return rc;
}

int unlinkat(int dirfd, const char *path, int flags)
{
	int rc;

	RESOLVE(unlinkat);
	rc = real_unlinkat(dirfd, path, flags);
	if (rc == 0 && !(flags & AT_REMOVEDIR))
		record_unlink(dirfd, path);
	return rc;
}

static void record_mmap(int fd, int prot, int flags, size_t len)
{
	struct fd_entry *e = entry(fd);
	uint64_t seq;

	if (!e || !(prot & PROT_WRITE) || !(flags & MAP_SHARED))
		return;
	seq = next_seq();
	emit(PC_MMAP, seq, seq, 0, e->ino, len, e->path, NULL, NULL, 0);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;

	RESOLVE(mmap);
	p = real_mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		record_mmap(fd, prot, flags, len);
	return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	void *p;

	RESOLVE(mmap64);
	p = real_mmap64(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		record_mmap(fd, prot, flags, len);
	return p;
}

/*
 * For the test driver (loaded with ctypes into a process that has no POWERCUT_DIR): open the
 * journal and the counter, then mark each value a client received, and phases of the run.
 * Returns 0, or -1 with errno set.
 */
int powercut_client_open(const char *journal, const char *counter_path);
int powercut_ack(const char *name, long long value);
int powercut_note(const char *text);

int powercut_client_open(const char *journal, const char *counter_path)
{
	RESOLVE(close);
	if (journal_fd >= 0) /* the previous run's */
		real_close(journal_fd);
	if (counter)
		munmap(counter, sizeof(*counter));
	journal_fd = -1;
	counter = NULL;
	return journal_open(journal, counter_path);
}

int powercut_ack(const char *name, long long value)
{
	uint64_t seq;

	if (journal_fd < 0) {
		errno = EBADF;
		return -1;
	}
	seq = next_seq();
	emit(PC_ACK, seq, seq, 0, 0, (uint64_t)value, name, NULL, NULL, 0);
	return 0;
}

int powercut_note(const char *text)
{
	uint64_t seq;

	if (journal_fd < 0) {
		errno = EBADF;
		return -1;
	}
	seq = next_seq();
	emit(PC_NOTE, seq, seq, 0, 0, 0, text, NULL, NULL, 0);
	return 0;
}
