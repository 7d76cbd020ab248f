/*
 * store_env: the Berkeley DB environment and the handles on it: the callbacks every environment
 * gets, its shared regions, opening and closing the environment and the databases, and the
 * housekeeper's calls (lock expiry, checkpoints, the log file's blocks). Who may open, and
 * recovery, are in store_recover.c. Facts behind the choices here (zombies look alive, handles
 * never crossing fork) are in the project notes on Berkeley DB 5.3.
 */
#include "store_int.h"
#include "clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* Every process opens the environment with the same flags: DB_THREAD must match everywhere. */
#define STORE_ENV_FLAGS \
	(DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_THREAD)

static void on_db_error(const DB_ENV *env, const char *prefix, const char *msg)
{
	struct store *st = env->app_private;

	(void)prefix;
	/* Replicated, every call during a lockout says so (the callers answer "No master"); and
	 * the master, copying the store to a new member, reads every file of data_dir and says of
	 * each that is not a database (nextid's lock files, the generator's mark) that it is not. */
	if (store_replicated(&st->opt) &&
	    (strstr(msg, "locked out") ||
	     (strstr(msg, "fop_read_meta") && strstr(msg, "unexpected file type"))))
		return;
	if (store_log_quota(&st->opt))
		STORE_LOG(&st->opt, st->in_failchk ? LOG_WARN : LOG_ERROR,
		          "berkeley db: %s", msg);
}

static void on_db_message(const DB_ENV *env, const char *msg)
{
	struct store *st = env->app_private;

	STORE_LOG(&st->opt, LOG_INFO, "berkeley db: %s", msg);
}

static void on_db_event(DB_ENV *env, u_int32_t event, void *info)
{
	struct store *st = env->app_private;

	(void)info;
	store_repl_event(st, event);
	if (event == DB_EVENT_PANIC || event == DB_EVENT_REG_PANIC) {
		st->panicked = 1;
		STORE_LOG(&st->opt, LOG_ERROR, "berkeley db panic: the store needs recovery");
	}
}

/*
 * failchk asks whether the process that owned a lock or transaction still lives. A zombie still
 * answers kill(pid, 0), so the process state in /proc decides too: the master reaps before it
 * runs failchk, but another child may have died since.
 */
static int process_is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	char path[64], buf[256];
	const char *state;
	ssize_t n;
	int fd;

	(void)env;
	(void)tid;
	(void)flags;
	if (pid == getpid())
		return 1;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 0;
	/* Calling a live process dead would let failchk free the locks and mutexes it is using.
	 * So anything short of a clear answer from /proc (not mounted, hidden) means alive. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')', as comm may contain one. */
	state = strrchr(buf, ')');
	return !(state && state[1] == ' ' && (state[2] == 'Z' || state[2] == 'X'));
}

void store_options_init(struct store_options *opt, const char *data_dir)
{
	memset(opt, 0, sizeof(*opt));
	opt->data_dir = data_dir;
	opt->durability = STORE_DURABILITY_SYNC;
	opt->lock_timeout_ms = 500;
	opt->reserve_size = 100;
}

struct store *store_new(const struct store_options *opt, struct store *owner)
{
	struct store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->opt = *opt;
	st->owner = owner;
	st->take = owner ? owner->take : store_take_new();
	if (!st->take) {
		free(st);
		return NULL;
	}
	st->backoff_seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	st->env_lock_fd = -1;
	return st;
}

int store_env_create(struct store *st)
{
	int err = db_env_create(&st->env, 0);

	if (err != 0) {
		STORE_LOG(&st->opt, LOG_ERROR, "db_env_create: %s", db_strerror(err));
		return -1;
	}
	st->env->app_private = st;
	st->env->set_errcall(st->env, on_db_error);
	st->env->set_msgcall(st->env, on_db_message);
	st->env->set_event_notify(st->env, on_db_event);
	st->env->set_isalive(st->env, process_is_alive);
	/* A lock wait that times out answers DB_LOCK_NOTGRANTED: busy, not a deadlock to retry. */
	st->env->set_flags(st->env, DB_TIME_NOTGRANTED, 1);
	return 0;
}

/*
 * Give fd's file every block of its first len bytes, leaving its length alone. Returns STORE_OK
 * (also on a filesystem without fallocate: nothing better to do than what it offers), STORE_FULL
 * when the disk or the quota has no room, else STORE_UNAVAILABLE; errno says why.
 */
static int allocate_blocks(int fd, off_t len)
{
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, len) == 0 || errno == EOPNOTSUPP)
		return STORE_OK;
	return errno == ENOSPC || errno == EDQUOT || errno == EFBIG ? STORE_FULL : STORE_UNAVAILABLE;
}

/*
 * Give one region file every block of its mapping. Berkeley DB creates region files sparse and
 * maps them whole (the mapping is the region's maximum size), so a region that grows into a
 * hole on a full filesystem gets SIGBUS instead of an error: measured, a full data disk killed
 * workers, failchk and recovery alike. FALLOC_FL_KEEP_SIZE leaves the file's length to Berkeley
 * DB; blocks already allocated cost nothing, so every opener may do it again.
 */
static int region_allocate(const struct store_options *opt, const char *path, off_t len)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), rc;

	if (fd < 0) {
		STORE_LOG(opt, LOG_ERROR, "cannot open %s: %s", path, strerror(errno));
		return STORE_UNAVAILABLE;
	}
	rc = allocate_blocks(fd, len);
	if (rc == STORE_FULL)
		STORE_LOG(opt, LOG_ERROR, "no room for the store's shared memory in %s (%lld bytes): %s",
		          path, (long long)len, strerror(errno));
	else if (rc != STORE_OK)
		STORE_LOG(opt, LOG_ERROR, "cannot allocate %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

/*
 * Allocate every region file this process has mapped from the environment in data_dir: the
 * mappings in /proc/self/maps name each file and its whole size. Returns STORE_OK, STORE_FULL
 * or STORE_UNAVAILABLE (logged).
 */
static int regions_allocate(const struct store_options *opt)
{
	char dir[PATH_MAX], line[PATH_MAX + 256], prefix[PATH_MAX + 16];
	FILE *maps;
	int rc = STORE_OK;

	if (!realpath(opt->data_dir, dir))
		return STORE_UNAVAILABLE;
	snprintf(prefix, sizeof(prefix), "%s/__db.", dir);
	maps = fopen("/proc/self/maps", "re");
	if (!maps) /* no /proc: Berkeley DB's sparse files, as before */
		return STORE_OK;
	while (rc == STORE_OK && fgets(line, sizeof(line), maps)) {
		unsigned long long start, end;
		char *path = strchr(line, '/'), *nl;

		if (!path || sscanf(line, "%llx-%llx", &start, &end) != 2 || end <= start)
			continue;
		if ((nl = strchr(path, '\n')) != NULL)
			*nl = '\0';
		if (strncmp(path, prefix, strlen(prefix)) == 0 && !strstr(path, " (deleted)"))
			rc = region_allocate(opt, path, (off_t)(end - start));
	}
	fclose(maps);
	return rc;
}

void store_regions_remove(const struct store_options *opt)
{
	DB_ENV *env = NULL;

	if (db_env_create(&env, 0) == 0)
		env->remove(env, opt->data_dir, DB_FORCE); /* frees the handle */
}

/* Replicated, an open during a replication lockout (a role change, a sync with a new master;
 * milliseconds to a second or so) answers DB_REP_LOCKOUT: it is tried again, with a new handle,
 * for up to LOCKOUT_WAIT_MS. Measured: failchk's open failing there sent the node into a full
 * recovery. */
#define LOCKOUT_WAIT_MS 3000
#define LOCKOUT_RETRY_MS 50
/* failchk's open waits less: the pool gives failchk 2 s, and would kill it inside the open. A
 * failchk kept out answers STORE_NO_MASTER, and the pool tries it again. */
#define FAILCHK_LOCKOUT_WAIT_MS 1000

int store_env_open(struct store *st, u_int32_t extra_flags)
{
	u_int32_t rep = store_replicated(&st->opt) ? DB_INIT_REP : 0;
	int err;

	int limit_ms = st->in_failchk ? FAILCHK_LOCKOUT_WAIT_MS : LOCKOUT_WAIT_MS;

	for (int waited = 0;; waited += LOCKOUT_RETRY_MS) {
		err = st->env->open(st->env, st->opt.data_dir, STORE_ENV_FLAGS | rep | extra_flags,
		                    STORE_FILE_MODE);
		if (err != DB_REP_LOCKOUT || waited >= limit_ms)
			break;
		st->env->close(st->env, 0);
		st->env = NULL;
		clock_sleep_ms(LOCKOUT_RETRY_MS);
		if (store_env_create(st) != 0)
			return STORE_UNAVAILABLE;
	}

	if (err != 0) {
		STORE_LOG(&st->opt, LOG_ERROR, "cannot open the store in %s: %s",
		          st->opt.data_dir, db_strerror(err));
		if (err == DB_REP_LOCKOUT)
			return STORE_NO_MASTER; /* a sync with a new master that outlasted the wait */
		return err == ENOSPC || err == EDQUOT || err == EFBIG ? STORE_FULL
		                                                      : STORE_UNAVAILABLE;
	}
	return regions_allocate(&st->opt);
}

/* A database's open takes locks, like any transaction: one a killed process left is freed by the
 * master's failchk (within a few seconds once lock waits expire), and under a clock that steps a
 * wait can expire at once. So an open that finds a lock busy waits and tries again for up to
 * DB_OPEN_BUSY_MS before it says the store is busy (measured: workers and nextid-grpc starting
 * while a killed process's locks were still held, or as faketime moved the clock, failed their
 * open and answered 503 or exited). */
#define DB_OPEN_BUSY_MS 3000
#define DB_OPEN_RETRY_MS 100

static int lock_busy(int err)
{
	/* DB_REP_LOCKOUT: a replica syncing with a new master, for a moment. */
	return err == DB_LOCK_NOTGRANTED || err == DB_LOCK_DEADLOCK || err == DB_REP_LOCKOUT;
}

/*
 * The sequences live in a hash database with one record per bucket and small pages: Berkeley DB
 * locks pages, so two hot counters on one page would serialize on each other's lock. Returns
 * STORE_OK, STORE_BUSY or STORE_UNAVAILABLE (logged).
 */
static int db_open_one(struct store *st, DB **out, const char *file, DBTYPE type, u_int32_t flags)
{
	int err;

	for (int waited_ms = 0;; waited_ms += DB_OPEN_RETRY_MS) {
		DB *db = NULL;

		err = db_create(&db, st->env, 0);
		if (err == 0 && type == DB_HASH) {
			db->set_pagesize(db, 1024);
			db->set_h_ffactor(db, 1);
			db->set_h_nelem(db, 1024);
		}
		if (err == 0)
			/* DB_AUTO_COMMIT makes the handle transactional, in every process. */
			err = db->open(db, NULL, file, NULL, type, DB_THREAD | DB_AUTO_COMMIT | flags,
			               STORE_FILE_MODE);
		if (err == 0) {
			*out = db;
			return STORE_OK;
		}
		if (db)
			db->close(db, 0);
		if (!lock_busy(err) || waited_ms >= DB_OPEN_BUSY_MS)
			break;
		clock_sleep_ms(DB_OPEN_RETRY_MS);
	}
	STORE_LOG(&st->opt, LOG_ERROR, "cannot open %s/%s: %s", st->opt.data_dir, file,
	          db_strerror(err));
	return err == DB_REP_LOCKOUT ? STORE_NO_MASTER
	       : lock_busy(err)      ? STORE_BUSY
	                             : STORE_UNAVAILABLE;
}

int store_databases_open(struct store *st, u_int32_t flags)
{
	int rc = db_open_one(st, &st->sequences, STORE_SEQUENCES_FILE, DB_HASH, flags);

	if (rc == STORE_OK)
		rc = db_open_one(st, &st->names, STORE_NAMES_FILE, DB_BTREE, flags);
	if (rc == STORE_OK)
		rc = db_open_one(st, &st->meta, STORE_META_FILE, DB_BTREE, flags);
	if (rc == STORE_OK)
		rc = db_open_one(st, &st->audit, STORE_AUDIT_FILE, DB_BTREE, flags);
	return rc;
}

/* The handle's own memory (store_new's). */
static void store_free(struct store *st)
{
	if (!st->owner)
		store_take_free(st->take);
	free(st);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->owner) { /* a peer owns nothing but itself */
		store_free(st);
		return;
	}
	store_repl_watch_stop(st);
	/*
	 * The last process out (no one else holds env.lock) marks the store clean. A guest
	 * (nextidctl) does so only when it found the store clean, i.e. stopped, and then had it to
	 * itself. Found in use, it leaves the mark to the service: being the last one out then means
	 * that the service stopped meanwhile, most often by a crash, and the mark's synced commit
	 * would need the log's mutex, which a worker killed in its log flush holds for ever. Measured:
	 * a verify waited there holding env.lock exclusive, so that no process could open the store;
	 * the next master's recovery went ahead after its 5 s, but its own open of the store (for the
	 * id generator's mark) then waited 10 s for env.lock and failed, five times, and the master
	 * gave up after 78 s.
	 */
	if (st->meta && st->env_lock_fd >= 0 && !st->panicked && !store_replicated(&st->opt) &&
	    (!st->opt.guest || st->cleared_clean) && flock(st->env_lock_fd, LOCK_EX | LOCK_NB) == 0)
		store_clean_set(st, 1);
	/* DB_NOSYNC: the log holds every change of these transactional databases, and flushing the
	 * cache here could block for good behind a dead process's log mutex. */
	if (st->sequences)
		st->sequences->close(st->sequences, DB_NOSYNC);
	if (st->names)
		st->names->close(st->names, DB_NOSYNC);
	if (st->meta)
		st->meta->close(st->meta, DB_NOSYNC);
	if (st->audit)
		st->audit->close(st->audit, DB_NOSYNC);
	if (st->env) {
		store_forward_close(st->env);
		st->env->close(st->env, 0);
	}
	if (st->env_lock_fd >= 0)
		close(st->env_lock_fd); /* releases the shared or exclusive lock */
	store_free(st);
}

static int space_is_low(const struct store_options *opt)
{
	uint64_t free_bytes, total;

	return store_space(opt->data_dir, &free_bytes, &total) == STORE_OK &&
	       free_bytes < STORE_SPACE_LOW_BYTES;
}

int store_open(const struct store_options *opt, struct store **out)
{
	struct store *st = store_new(opt, NULL);
	int clean, rc, err, had_store = store_repl_has_databases(opt);

	*out = NULL;
	if (!st)
		return STORE_UNAVAILABLE;
	/* No DB_CREATE: a missing store must be an error, never a fresh one that starts at 1 again. */
	rc = store_attach(st);
	if (rc == STORE_OK)
		rc = store_repl_join(st);
	if (rc == STORE_OK && opt->repl.mode == STORE_REPL_LISTEN && store_replicated(opt))
		rc = store_repl_await_store(st, had_store);
	if (rc == STORE_OK && opt->repl.mode == STORE_REPL_LISTEN && store_replicated(opt))
		store_repl_note_member(opt);
	if (rc == STORE_OK)
		rc = store_databases_open(st, 0);
	if (rc != STORE_OK) {
		store_close(st);
		/* Whatever failed (a database's open logs a record; recovery could not make the
		 * environment), with the disk full the full disk is what to fix. */
		return rc == STORE_UNAVAILABLE && space_is_low(opt) ? STORE_FULL : rc;
	}
	/* Replicated, the clean marker would be the group's, written by whoever is master: each
	 * node's crashes are its own business, and the acknowledgements make commits durable. */
	if (store_replicated(opt))
		clean = 0;
	else if (store_clean_get(st, &clean) != 0)
		rc = STORE_UNAVAILABLE;
	else if (clean && (err = store_clean_set(st, 0)) != 0)
		rc = err == ENOSPC || err == EDQUOT || err == EFBIG ? STORE_FULL : STORE_UNAVAILABLE;
	if (rc != STORE_OK) {
		store_close(st);
		return rc == STORE_UNAVAILABLE && space_is_low(opt) ? STORE_FULL : rc;
	}
	st->cleared_clean = clean;
	if (opt->repl.mode == STORE_REPL_LISTEN)
		atomic_store(&st->serving, 1);
	*out = st;
	return STORE_OK;
}

int store_open_peer(struct store *base, struct store **out)
{
	struct store *st = store_new(&base->opt, base);

	*out = NULL;
	if (!st)
		return STORE_UNAVAILABLE;
	st->env = base->env;
	st->sequences = base->sequences;
	st->names = base->names;
	st->meta = base->meta;
	st->audit = base->audit;
	st->backoff_seed ^= (unsigned)(uintptr_t)st; /* peers back off differently */
	*out = st;
	return STORE_OK;
}

int store_needs_recovery(const struct store *st)
{
	/* Berkeley DB reports a panic through the environment, whose callbacks know only base. */
	return st->panicked || (st->owner && st->owner->panicked);
}

int store_needs_reopen(const struct store *st)
{
	return st->handle_dead || (st->owner && st->owner->handle_dead);
}

int store_expire_locks(struct store *st)
{
	int rejected = 0;
	int err = st->env->lock_detect(st->env, 0, DB_LOCK_EXPIRE, &rejected);

	if (err != 0) {
		STORE_DB_ERROR(st, NULL, err, "lock_detect");
		return -1;
	}
	return rejected;
}

int store_checkpoint(struct store *st, int force)
{
	int err = st->env->txn_checkpoint(st->env, 0, 0, force ? DB_FORCE : 0);

	return STORE_DB_ERROR(st, NULL, err, "txn_checkpoint");
}

int store_checkpoint_due(struct store *st, unsigned kbytes)
{
	int err = st->env->txn_checkpoint(st->env, kbytes, 0, 0);

	return STORE_DB_ERROR(st, NULL, err, "txn_checkpoint");
}

int store_log_allocate(struct store *st)
{
	char path[STORE_PATH_MAX];
	DB_LOG_STAT *stat = NULL;
	u_int32_t max = 0;
	int err = st->env->log_stat(st->env, &stat, 0), fd, rc;

	if (err != 0)
		return STORE_DB_ERROR(st, NULL, err, "log_stat");
	snprintf(path, sizeof(path), "%s/log.%010u", st->opt.data_dir, stat->st_cur_file);
	free(stat);
	if ((err = st->env->get_lg_max(st->env, &max)) != 0)
		return STORE_DB_ERROR(st, NULL, err, "get_lg_max");
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) /* not created yet, or removed since: next time */
		return STORE_OK;
	rc = allocate_blocks(fd, (off_t)max);
	if (rc == STORE_UNAVAILABLE)
		STORE_LOG(&st->opt, LOG_WARN, "cannot allocate %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int store_disk_bytes(const char *data_dir, uint64_t *bytes)
{
	DIR *d = opendir(data_dir);
	struct dirent *e;
	struct stat sb;

	*bytes = 0;
	if (!d)
		return STORE_UNAVAILABLE;
	while ((e = readdir(d)) != NULL)
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode))
			*bytes += (uint64_t)sb.st_blocks * 512u; /* st_blocks counts 512-byte units */
	closedir(d);
	return STORE_OK;
}

int store_space(const char *data_dir, uint64_t *free_bytes, uint64_t *total_bytes)
{
	struct statvfs fs;

	if (statvfs(data_dir, &fs) != 0)
		return STORE_UNAVAILABLE;
	*free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
	*total_bytes = (uint64_t)fs.f_blocks * fs.f_frsize;
	return STORE_OK;
}

