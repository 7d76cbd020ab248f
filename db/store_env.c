/*
 * store_env: the Berkeley DB environment's lifecycle: creating the data directory and DB_CONFIG,
 * recovery, failchk, opening and closing handles. The sequence operations themselves live in
 * store.c. Facts behind the choices here (zombies look alive, failchk's spurious EBUSY, handles
 * never crossing fork) are in the project notes on Berkeley DB 5.3.
 */
#include "store_int.h"
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
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
#define STORE_FILE_MODE 0660
#define STORE_DIR_MODE 0750
#define STORE_FAILCHK_TRIES 5

/* Shared settings: read by every opener, including nextidctl and the db5.3_* utilities. The
 * record lock timeout here applies to those tools; our own transactions set theirs from the
 * config. The thread table must outlive many recycled workers between two failchk runs.
 * set_mp_pagesize sizes the mutex region for the cache's page count: Berkeley DB assumes 4 KB
 * pages otherwise, and with our 1 KB hash pages it ran out of mutexes (BDB2034) once about
 * 10,000 sequences were in the cache, after which no process could open the store.
 * The lock and transaction tables get explicit maxima: without them Berkeley DB grows the lock
 * table into the region's shared memory, and one admin transaction over 12,000 sequences took
 * all of it, leaving every later transaction and opener failing with ENOMEM until a restart.
 * With maxima, a transaction too large for the table fails alone and frees what it held. */
static const char db_config_text[] =
	"# Written by nextid when it created this store; read by nextid-fcgi, nextidctl and the\n"
	"# db5.3_* utilities alike. Change it only while the service is stopped.\n"
	"set_lk_detect DB_LOCK_DEFAULT\n"
	"set_lock_timeout 500000\n"
	"set_thread_count 1024\n"
	"set_lg_bsize 262144\n"
	"set_lg_max 10485760\n"
	"set_cachesize 0 16777216 1\n"
	"set_mp_pagesize 1024\n"
	"set_lk_max_lockers 4000\n"
	"set_lk_max_locks 60000\n"
	"set_lk_max_objects 60000\n"
	"set_tx_max 1024\n"
	"log_set_config DB_LOG_AUTO_REMOVE\n";

void store_logf(const struct store_options *opt, int level, const char *file, int line,
                const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!opt->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	opt->log(opt->log_ctx, level, file, line, msg);
}

/*
 * Berkeley DB can say the same thing thousands of times a second: every page a checkpoint cannot
 * write to a full disk, every refused commit. Each process logs at most LOG_BURST such messages
 * per LOG_WINDOW_MS, then one line saying how many it left out. Approximate across threads.
 */
#define LOG_BURST 20
#define LOG_WINDOW_MS 10000

static _Atomic int64_t log_window_start_ms;
static _Atomic unsigned log_in_window, log_dropped;

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* May a repetitive message be logged now? */
static int log_quota(const struct store_options *opt)
{
	int64_t now = monotonic_ms(), start = atomic_load(&log_window_start_ms);

	if (now - start >= LOG_WINDOW_MS &&
	    atomic_compare_exchange_strong(&log_window_start_ms, &start, now)) {
		unsigned dropped = atomic_exchange(&log_dropped, 0);

		atomic_store(&log_in_window, 0);
		if (dropped)
			STORE_LOG(opt, STORE_LOG_WARN,
			          "%u more messages like the above in %d s were left out", dropped,
			          LOG_WINDOW_MS / 1000);
	}
	if (atomic_fetch_add(&log_in_window, 1) < LOG_BURST)
		return 1;
	atomic_fetch_add(&log_dropped, 1);
	return 0;
}

int store_from_db_error(struct store *st, int err, const char *what, const char *file, int line)
{
	switch (err) {
	case 0:
		return STORE_OK;
	case DB_NOTFOUND:
		return STORE_NOT_FOUND;
	case DB_KEYEXIST:
		return STORE_EXISTS;
	case DB_LOCK_DEADLOCK:
		/* The transaction is retried; only running out of retries is worth a warning. */
		st->deadlocked = 1;
		return STORE_BUSY;
	case DB_LOCK_NOTGRANTED:
		store_logf(&st->opt, STORE_LOG_WARN, file, line, "%s: lock wait timed out", what);
		return STORE_BUSY;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		/* Berkeley DB turns a commit whose log write failed into an abort: nothing changed. */
		if (log_quota(&st->opt))
			store_logf(&st->opt, STORE_LOG_WARN, file, line, "%s: %s", what,
			           db_strerror(err));
		if (st->opt.stats)
			atomic_fetch_add_explicit(&st->opt.stats->space_errors, 1,
			                          memory_order_relaxed);
		return STORE_FULL;
	case DB_RUNRECOVERY:
		st->panicked = 1;
		__attribute__((fallthrough));
	default:
		store_logf(&st->opt, STORE_LOG_ERROR, file, line, "%s: %s", what, db_strerror(err));
		return STORE_UNAVAILABLE;
	}
}

static void on_db_error(const DB_ENV *env, const char *prefix, const char *msg)
{
	struct store *st = env->app_private;

	(void)prefix;
	if (log_quota(&st->opt))
		STORE_LOG(&st->opt, st->in_failchk ? STORE_LOG_WARN : STORE_LOG_ERROR,
		          "berkeley db: %s", msg);
}

static void on_db_message(const DB_ENV *env, const char *msg)
{
	struct store *st = env->app_private;

	STORE_LOG(&st->opt, STORE_LOG_INFO, "berkeley db: %s", msg);
}

static void on_db_event(DB_ENV *env, u_int32_t event, void *info)
{
	struct store *st = env->app_private;

	(void)info;
	if (event == DB_EVENT_PANIC || event == DB_EVENT_REG_PANIC) {
		st->panicked = 1;
		STORE_LOG(&st->opt, STORE_LOG_ERROR, "berkeley db panic: the store needs recovery");
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

static int ensure_data_dir(const struct store_options *opt)
{
	struct stat sb;

	if (mkdir(opt->data_dir, STORE_DIR_MODE) != 0 && errno != EEXIST) {
		STORE_LOG(opt, STORE_LOG_ERROR, "cannot create data directory %s: %s", opt->data_dir,
		          strerror(errno));
		return -1;
	}
	if (stat(opt->data_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		STORE_LOG(opt, STORE_LOG_ERROR, "data directory %s is not a directory", opt->data_dir);
		return -1;
	}
	return 0;
}

/*
 * Write DB_CONFIG atomically (temporary file, fsync, rename), so no opener reads half, and only
 * when it is absent: an admin may tune it (with the service stopped). When it differs from ours,
 * say so once per recovery, since the settings above are there for measured reasons.
 */
static int write_db_config(const struct store_options *opt)
{
	char path[CONFIG_PATH_MAX + 32], tmp[CONFIG_PATH_MAX + 32], have[sizeof(db_config_text)];
	size_t len = sizeof(db_config_text) - 1;
	ssize_t n;
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/DB_CONFIG", opt->data_dir);
	snprintf(tmp, sizeof(tmp), "%s/DB_CONFIG.tmp", opt->data_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, have, sizeof(have));
		close(fd);
		if (n != (ssize_t)len || memcmp(have, db_config_text, len) != 0)
			STORE_LOG(opt, STORE_LOG_WARN, "%s differs from nextid's; keeping it as it is",
			          path);
		return 0;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, STORE_FILE_MODE);
	if (fd < 0)
		goto out;
	if (write(fd, db_config_text, len) == (ssize_t)len && fsync(fd) == 0)
		rc = 0;
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0)
		rc = rename(tmp, path);
out:
	if (rc != 0)
		STORE_LOG(opt, STORE_LOG_ERROR, "cannot write %s: %s", path, strerror(errno));
	return rc;
}

void store_options_init(struct store_options *opt, const struct config *cfg)
{
	memset(opt, 0, sizeof(*opt));
	opt->data_dir = cfg->data_dir;
	opt->durability = (int)cfg->durability;
	opt->lock_timeout_ms = (unsigned)cfg->lock_timeout_ms;
	opt->self_recovering = cfg->process_model == CONFIG_PROCESS_FCGID;
	opt->reserve_size = cfg->reserve_size;
	opt->max_sequences = (uint64_t)cfg->max_sequences;
}

int store_claim(const struct store_options *opt, unsigned wait_s)
{
	char path[CONFIG_PATH_MAX + 32];
	int fd;

	if (ensure_data_dir(opt) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/nextid.lock", opt->data_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, STORE_FILE_MODE);
	if (fd < 0) {
		STORE_LOG(opt, STORE_LOG_ERROR, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	for (unsigned tenths = 0;; tenths++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK || tenths >= wait_s * 10)
			break;
		if (tenths == 0)
			STORE_LOG(opt, STORE_LOG_INFO,
			          "waiting for the processes of a previous master to exit");
		nanosleep(&(struct timespec){ .tv_nsec = 100000000L }, NULL);
	}
	STORE_LOG(opt, STORE_LOG_ERROR,
	          "another nextid-fcgi master (or its workers) still uses %s", opt->data_dir);
	close(fd);
	return -1;
}

static struct store *store_new(const struct store_options *opt)
{
	struct store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->opt = *opt;
	pthread_mutex_init(&st->cache_lock, NULL);
	pthread_mutex_init(&st->refill_lock, NULL);
	pthread_mutex_init(&st->create_lock, NULL);
	pthread_mutex_init(&st->combine_lock, NULL);
	pthread_cond_init(&st->combine_done, NULL);
	st->backoff_seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	st->env_lock_fd = -1;
	return st;
}

/* Create the environment handle with our callbacks; the caller opens it. */
static int env_create(struct store *st)
{
	int err = db_env_create(&st->env, 0);

	if (err != 0) {
		STORE_LOG(&st->opt, STORE_LOG_ERROR, "db_env_create: %s", db_strerror(err));
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
 * Give one region file every block of its mapping. Berkeley DB creates region files sparse and
 * maps them whole (the mapping is the region's maximum size), so a region that grows into a
 * hole on a full filesystem gets SIGBUS instead of an error: measured, a full data disk killed
 * workers, failchk and recovery alike. FALLOC_FL_KEEP_SIZE leaves the file's length to Berkeley
 * DB; blocks already allocated cost nothing, so every opener may do it again.
 */
static int region_allocate(const struct store_options *opt, const char *path, off_t len)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), rc = 0;

	if (fd < 0) {
		STORE_LOG(opt, STORE_LOG_ERROR, "cannot open %s: %s", path, strerror(errno));
		return STORE_UNAVAILABLE;
	}
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, len) != 0) {
		if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG) {
			STORE_LOG(opt, STORE_LOG_ERROR,
			          "no room for the store's shared memory in %s (%lld bytes): %s",
			          path, (long long)len, strerror(errno));
			rc = STORE_FULL;
		} else if (errno != EOPNOTSUPP) {
			STORE_LOG(opt, STORE_LOG_ERROR, "cannot allocate %s: %s", path,
			          strerror(errno));
			rc = STORE_UNAVAILABLE;
		}
		/* A filesystem without fallocate: nothing better to do than what it offers. */
	}
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

/* Remove the region files of the environment in data_dir, whoever still maps them: Berkeley
 * DB marks them panicked first, so a process still attached learns it must let go. */
static void regions_remove(const struct store_options *opt)
{
	DB_ENV *env = NULL;

	if (db_env_create(&env, 0) == 0)
		env->remove(env, opt->data_dir, DB_FORCE); /* frees the handle */
}

void store_discard_environment(const struct store_options *opt)
{
	regions_remove(opt);
}

/* Open the environment and allocate its regions. Returns STORE_OK, STORE_FULL or
 * STORE_UNAVAILABLE (logged). */
static int env_open(struct store *st, u_int32_t extra_flags)
{
	int err = st->env->open(st->env, st->opt.data_dir, STORE_ENV_FLAGS | extra_flags,
	                        STORE_FILE_MODE);

	if (err != 0) {
		STORE_LOG(&st->opt, STORE_LOG_ERROR, "cannot open the store in %s: %s",
		          st->opt.data_dir, db_strerror(err));
		return err == ENOSPC || err == EDQUOT || err == EFBIG ? STORE_FULL
		                                                      : STORE_UNAVAILABLE;
	}
	return regions_allocate(&st->opt);
}

/*
 * The sequences live in a hash database with one record per bucket and small pages: Berkeley DB
 * locks pages, so two hot counters on one page would serialize on each other's lock.
 */
static int db_open_one(struct store *st, DB **out, const char *file, DBTYPE type, u_int32_t flags)
{
	DB *db;
	int err = db_create(&db, st->env, 0);

	if (err == 0 && type == DB_HASH) {
		db->set_pagesize(db, 1024);
		db->set_h_ffactor(db, 1);
		db->set_h_nelem(db, 1024);
	}
	if (err == 0)
		/* DB_AUTO_COMMIT makes the handle transactional, in every process that opens it. */
		err = db->open(db, NULL, file, NULL, type, DB_THREAD | DB_AUTO_COMMIT | flags,
		               STORE_FILE_MODE);
	if (err != 0) {
		STORE_LOG(&st->opt, STORE_LOG_ERROR, "cannot open %s/%s: %s", st->opt.data_dir, file,
		          db_strerror(err));
		if (db)
			db->close(db, 0);
		return -1;
	}
	*out = db;
	return 0;
}

static int databases_open(struct store *st, u_int32_t flags)
{
	if (db_open_one(st, &st->sequences, STORE_SEQUENCES_FILE, DB_HASH, flags) != 0 ||
	    db_open_one(st, &st->names, STORE_NAMES_FILE, DB_BTREE, flags) != 0 ||
	    db_open_one(st, &st->meta, STORE_META_FILE, DB_BTREE, flags) != 0 ||
	    db_open_one(st, &st->audit, STORE_AUDIT_FILE, DB_BTREE, flags) != 0)
		return -1;
	return 0;
}

/* Record the schema version in a new store (create); refuse a store without one, or written by
 * a newer nextid. */
static int schema_check(struct store *st, int create)
{
	static const char schema_key[] = "schema";
	uint32_t version = STORE_SCHEMA_VERSION, stored;
	DBT key = { .data = (void *)schema_key, .size = sizeof(schema_key) - 1 };
	DBT val = { .data = &stored, .ulen = sizeof(stored), .flags = DB_DBT_USERMEM };
	int err = st->meta->get(st->meta, NULL, &key, &val, 0);

	if (err == DB_NOTFOUND && create) {
		val.data = &version;
		val.size = sizeof(version);
		val.flags = 0;
		err = st->meta->put(st->meta, NULL, &key, &val, 0); /* auto-commit: opened so */
		if (err == 0)
			return 0;
	}
	if (err != 0) {
		STORE_LOG(&st->opt, STORE_LOG_ERROR, "cannot read the schema version: %s",
		          db_strerror(err));
		return -1;
	}
	if (val.size != sizeof(stored) || stored != STORE_SCHEMA_VERSION) {
		STORE_LOG(&st->opt, STORE_LOG_ERROR,
		          "the store in %s has schema %u; this nextid reads schema %d only",
		          st->opt.data_dir, val.size == sizeof(stored) ? stored : 0,
		          STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

static int clean_set(struct store *st, int clean);

/* The handle's own memory and its locks (store_new's). */
static void store_free(struct store *st)
{
	pthread_mutex_destroy(&st->cache_lock);
	pthread_mutex_destroy(&st->refill_lock);
	pthread_mutex_destroy(&st->create_lock);
	pthread_mutex_destroy(&st->combine_lock);
	pthread_cond_destroy(&st->combine_done);
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
	if (st->meta && st->env_lock_fd >= 0 && !st->panicked &&
	    (!st->opt.guest || st->cleared_clean) && flock(st->env_lock_fd, LOCK_EX | LOCK_NB) == 0)
		clean_set(st, 1);
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
	if (st->env)
		st->env->close(st->env, 0);
	if (st->env_lock_fd >= 0)
		close(st->env_lock_fd); /* releases the shared or exclusive lock */
	store_free(st);
}

#define ENV_LOCK_WAIT_S 10    /* an opener waits this long for a recovery to finish */
#define RECOVER_LOCK_WAIT_S 5 /* recovery waits this long for outside openers to leave */

/*
 * Two lock files keep recovery and openers apart. data_dir/env.lock: every open handle holds it
 * shared, and recovery waits a little to take it exclusive, so that it rarely pulls the
 * environment from under a process still using it (nextidctl, the sequencer). But recovery
 * cannot wait for ever behind one, so it may go ahead without; data_dir/recovery.lock covers
 * that case: recovery holds it exclusive throughout, and an opener takes it shared on the way in,
 * so nobody ever attaches to a half-recovered environment. Returns the descriptor holding the
 * lock, or -1 after wait_s seconds.
 */
static int lock_file(const struct store_options *opt, const char *name, int how, unsigned wait_s)
{
	char path[CONFIG_PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", opt->data_dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, STORE_FILE_MODE);
	if (fd < 0) {
		STORE_LOG(opt, STORE_LOG_ERROR, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	for (unsigned tenths = 0; flock(fd, how | LOCK_NB) != 0; tenths++) {
		if (errno != EWOULDBLOCK || tenths >= wait_s * 10) {
			close(fd);
			return -1;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 100000000L }, NULL);
	}
	return fd;
}

/* Which store files a data directory holds: a store is its three databases and its logs. */
static int has_file(const char *dir, const char *name)
{
	char path[CONFIG_PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static int has_logs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	while (d && !found && (e = readdir(d)) != NULL)
		found = strncmp(e->d_name, "log.", 4) == 0;
	if (d)
		closedir(d);
	return found;
}

/*
 * A directory with none of the store's files gets a new store; one with some but not all is
 * refused: a lost or half-restored sequences.db must never become an empty one that hands out
 * 1, 2, 3 again. Returns 1 for "create", 0 for "open what is there", -1 for "refuse" (logged).
 */
static int store_state(const struct store_options *opt)
{
	static const char *const files[] = { STORE_SEQUENCES_FILE, STORE_NAMES_FILE,
		                             STORE_META_FILE, STORE_AUDIT_FILE };
	int present = has_logs(opt->data_dir), missing = -1;

	for (int i = 0; i < (int)(sizeof(files) / sizeof(files[0])); i++) {
		if (has_file(opt->data_dir, files[i]))
			present = 1;
		else if (missing < 0)
			missing = i;
	}
	if (!present)
		return 1;
	if (missing < 0)
		return 0;
	STORE_LOG(opt, STORE_LOG_ERROR,
	          "the store in %s is incomplete: %s is missing. Refusing to start, since a new "
	          "empty store would issue numbers again; restore the directory from a backup "
	          "(nextidctl backup) or empty it to start afresh",
	          opt->data_dir, files[missing]);
	return -1;
}

/*
 * The clean marker in meta says whether every commit made so far is on disk. The last process to
 * close the store (it alone can take env.lock exclusive) sets it in a synced commit, which also
 * flushes everything before it; the first opener after that clears it. Recovery that finds it
 * cleared knows the log tail may be lost, and under durability reserve resumes every counter
 * past its reservation.
 */
static const char clean_key[] = "clean";

static int clean_get(struct store *st, int *clean)
{
	unsigned char v = 0;
	DBT key = { .data = (void *)clean_key, .size = sizeof(clean_key) - 1 };
	DBT val = { .data = &v, .ulen = 1, .flags = DB_DBT_USERMEM };
	int err = st->meta->get(st->meta, NULL, &key, &val, 0);

	*clean = err == 0 && val.size == 1 && v == 1;
	return err == 0 || err == DB_NOTFOUND ? 0 : -1;
}

static int clean_set(struct store *st, int clean)
{
	unsigned char v = (unsigned char)clean;
	DBT key = { .data = (void *)clean_key, .size = sizeof(clean_key) - 1 };
	DBT val = { .data = &v, .size = 1 };
	DB_TXN *txn = NULL;
	int err = st->env->txn_begin(st->env, NULL, &txn, 0);

	if (err == 0)
		err = st->meta->put(st->meta, txn, &key, &val, 0);
	if (txn)
		err = err == 0 ? txn->commit(txn, DB_TXN_SYNC) : (txn->abort(txn), err);
	if (err != 0)
		STORE_LOG(&st->opt, STORE_LOG_WARN, "cannot mark the store %s: %s",
		          clean ? "clean" : "in use", db_strerror(err));
	return err;
}

/* Resume the counters past their reservations when the last stop was not clean. */
static int resume_after_unclean_stop(struct store *st)
{
	size_t moved = 0;
	int clean;

	if (clean_get(st, &clean) != 0)
		return -1;
	if (clean)
		return 0;
	if (store_skip_reservations(st, &moved) != STORE_OK)
		return -1;
	if (moved)
		STORE_LOG(&st->opt, STORE_LOG_WARN,
		          "the last stop was not clean: %zu sequences resume past their reservations",
		          moved);
	return 0;
}

int store_recover(const struct store_options *opt)
{
	struct store *st;
	int rc = STORE_UNAVAILABLE, create, recovery_fd;

	if (ensure_data_dir(opt) != 0)
		return STORE_UNAVAILABLE;
	st = store_new(opt);
	if (!st)
		return STORE_UNAVAILABLE;
	/* Openers hold recovery.lock only for an instant: this comes at once. */
	recovery_fd = lock_file(opt, "recovery.lock", LOCK_EX, RECOVER_LOCK_WAIT_S);
	st->env_lock_fd = lock_file(opt, "env.lock", LOCK_EX, RECOVER_LOCK_WAIT_S);
	if (st->env_lock_fd < 0)
		STORE_LOG(opt, STORE_LOG_WARN,
		          "a process outside the pool (nextid-sequencer, a stopped nextidctl?) still "
		          "has the store open after %d s; recovering anyway: it must open the store "
		          "again", RECOVER_LOCK_WAIT_S);
	create = store_state(opt);
	if (create < 0 || write_db_config(opt) != 0)
		goto out;
	if (env_create(st) != 0)
		goto out;
	if ((rc = env_open(st, DB_CREATE | DB_RECOVER)) != STORE_OK) {
		rc = rc == STORE_FULL ? STORE_FULL : STORE_UNAVAILABLE;
		goto out;
	}
	rc = STORE_UNAVAILABLE;
	if (databases_open(st, create ? DB_CREATE : 0) != 0 || schema_check(st, create) != 0)
		goto out;
	if (!create && resume_after_unclean_stop(st) != 0)
		goto out;
	/* Exact again whatever an older nextid or a damaged page left: recovery is alone. */
	if (store_count_refresh(st) != STORE_OK)
		goto out;
	/* From the first commit on, the log file being written has its blocks; the housekeeper
	 * does the same for each later one. No room for it is no reason to refuse to start. */
	store_log_allocate(st);
	if (create)
		STORE_LOG(opt, STORE_LOG_INFO, "created a new store in %s", opt->data_dir);
	rc = STORE_OK;
out:
	if (rc != STORE_OK && st->env) {
		/* A recovery that failed half way must leave no environment to join, and must not
		 * mark the store clean on its way out (the counters may not have been moved past
		 * their reservations): the next recovery starts from the files alone. */
		st->panicked = 1;
		store_close(st);
		regions_remove(opt);
	} else {
		store_close(st);
	}
	if (recovery_fd >= 0)
		close(recovery_fd); /* openers may come in now */
	return rc;
}

int store_recover_unused(const struct store_options *opt)
{
	int claim_fd = store_claim(opt, 0), env_fd = -1, rc = STORE_BUSY;

	if (claim_fd < 0)
		goto out;
	env_fd = lock_file(opt, "env.lock", LOCK_EX, 0);
	if (env_fd < 0) {
		STORE_LOG(opt, STORE_LOG_ERROR,
		          "a process still has the store in %s open (nextid-sequencer, nextidctl, a "
		          "worker of the web server)", opt->data_dir);
		goto out;
	}
	close(env_fd); /* store_recover takes it again; nobody held it an instant ago */
	rc = store_recover(opt);
out:
	if (claim_fd >= 0)
		close(claim_fd);
	return rc;
}

/*
 * Recovery holds recovery.lock exclusive from before its wait for env.lock until it is done. A
 * shared try-lock on a descriptor of our own tells, without waiting; held for an instant only, it
 * can at worst make one of recovery's tries (every 100 ms) fail.
 */
int store_recovery_running(const struct store_options *opt)
{
	char path[CONFIG_PATH_MAX + 32];
	int fd, running = 0;

	snprintf(path, sizeof(path), "%s/recovery.lock", opt->data_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		flock(fd, LOCK_UN);
	else
		running = errno == EWOULDBLOCK;
	close(fd);
	return running;
}

/* Open the environment as an ordinary user of it: shared env.lock, no create, no recovery. */
/* Take env.lock shared, passing through recovery.lock so as never to join a recovery. */
static int env_lock_shared(const struct store_options *opt)
{
	int recovery_fd = lock_file(opt, "recovery.lock", LOCK_SH, ENV_LOCK_WAIT_S);
	int fd = recovery_fd >= 0 ? lock_file(opt, "env.lock", LOCK_SH, ENV_LOCK_WAIT_S) : -1;

	if (recovery_fd >= 0)
		close(recovery_fd);
	return fd;
}

/* Join the environment. Returns STORE_OK, STORE_FULL or STORE_UNAVAILABLE (logged). */
static int attach(struct store *st)
{
	int rc;

	/*
	 * Without a master (process_model fcgid), Berkeley DB watches the processes itself:
	 * DB_REGISTER notes every opener, and an open that finds a dead one runs failchk, or
	 * recovery when failchk is not enough. A store that does not exist yet is created first,
	 * by whichever process comes first (recovery holds env.lock exclusive).
	 */
	if (st->opt.self_recovering) {
		if (store_state(&st->opt) == 1 && (rc = store_recover(&st->opt)) != STORE_OK)
			return rc;
		st->env_lock_fd = env_lock_shared(&st->opt);
		if (st->env_lock_fd >= 0 && st->opt.joined)
			atomic_store(st->opt.joined, 1);
		if (st->env_lock_fd < 0 || env_create(st) != 0)
			return STORE_UNAVAILABLE;
		return env_open(st, DB_CREATE | DB_REGISTER | DB_FAILCHK | DB_RECOVER);
	}
	st->env_lock_fd = env_lock_shared(&st->opt);
	if (st->env_lock_fd < 0) {
		STORE_LOG(&st->opt, STORE_LOG_ERROR,
		          "the store in %s is being recovered; try again in a moment", st->opt.data_dir);
		return STORE_UNAVAILABLE;
	}
	/* From here a recovery waits for us: a watchdog must know, since the open itself can block
	 * on a mutex a dead process left. */
	if (st->opt.joined)
		atomic_store(st->opt.joined, 1);
	return env_create(st) == 0 ? env_open(st, 0) : STORE_UNAVAILABLE;
}

int store_failchk(const struct store_options *opt)
{
	struct store *st = store_new(opt);
	int err = 0, rc = STORE_UNAVAILABLE;

	if (!st)
		return STORE_UNAVAILABLE;
	if ((err = attach(st)) != STORE_OK) {
		rc = err;
		goto out;
	}
	/* Berkeley DB 5.3.28 answers EBUSY once after a successful cleanup (a known bug): retry. */
	st->in_failchk = 1;
	for (int i = 0; i < STORE_FAILCHK_TRIES; i++) {
		err = st->env->failchk(st->env, 0);
		if (err != EBUSY)
			break;
	}
	if (err == 0)
		rc = STORE_OK;
	else if (err == ENOSPC || err == EDQUOT || err == EFBIG)
		rc = STORE_FULL;
	if (err != 0)
		STORE_LOG(opt, STORE_LOG_WARN, "failchk: %s", db_strerror(err));
out:
	store_close(st);
	return rc;
}

static int space_is_low(const struct store_options *opt)
{
	uint64_t free_bytes, total;

	return store_space(opt->data_dir, &free_bytes, &total) == STORE_OK &&
	       free_bytes < STORE_SPACE_LOW_BYTES;
}

int store_open(const struct store_options *opt, struct store **out)
{
	struct store *st = store_new(opt);
	int clean, rc, err;

	*out = NULL;
	if (!st)
		return STORE_UNAVAILABLE;
	/* No DB_CREATE: a missing store must be an error, never a fresh one that starts at 1 again. */
	rc = attach(st);
	if (rc == STORE_OK && databases_open(st, 0) != 0)
		rc = STORE_UNAVAILABLE;
	if (rc != STORE_OK) {
		store_close(st);
		/* Whatever failed (a database's open logs a record; recovery could not make the
		 * environment), with the disk full the full disk is what to fix. */
		return rc == STORE_UNAVAILABLE && space_is_low(opt) ? STORE_FULL : rc;
	}
	if (clean_get(st, &clean) != 0)
		rc = STORE_UNAVAILABLE;
	else if (clean && (err = clean_set(st, 0)) != 0)
		rc = err == ENOSPC || err == EDQUOT || err == EFBIG ? STORE_FULL : STORE_UNAVAILABLE;
	if (rc != STORE_OK) {
		store_close(st);
		return rc == STORE_UNAVAILABLE && space_is_low(opt) ? STORE_FULL : rc;
	}
	st->cleared_clean = clean;
	*out = st;
	return STORE_OK;
}

int store_open_peer(struct store *base, struct store **out)
{
	struct store *st = store_new(&base->opt);

	*out = NULL;
	if (!st)
		return STORE_UNAVAILABLE;
	st->owner = base;
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

int store_expire_locks(struct store *st)
{
	int rejected = 0;
	int err = st->env->lock_detect(st->env, 0, DB_LOCK_EXPIRE, &rejected);

	if (err != 0) {
		STORE_DB_ERROR(st, err, "lock_detect");
		return -1;
	}
	return rejected;
}

int store_checkpoint(struct store *st, int force)
{
	int err = st->env->txn_checkpoint(st->env, 0, 0, force ? DB_FORCE : 0);

	return STORE_DB_ERROR(st, err, "txn_checkpoint");
}

int store_checkpoint_due(struct store *st, unsigned kbytes)
{
	int err = st->env->txn_checkpoint(st->env, kbytes, 0, 0);

	return STORE_DB_ERROR(st, err, "txn_checkpoint");
}

int store_log_allocate(struct store *st)
{
	char path[CONFIG_PATH_MAX + 32];
	DB_LOG_STAT *stat = NULL;
	u_int32_t max = 0;
	int err = st->env->log_stat(st->env, &stat, 0), fd, rc = STORE_OK;

	if (err != 0)
		return STORE_DB_ERROR(st, err, "log_stat");
	snprintf(path, sizeof(path), "%s/log.%010u", st->opt.data_dir, stat->st_cur_file);
	free(stat);
	if ((err = st->env->get_lg_max(st->env, &max)) != 0)
		return STORE_DB_ERROR(st, err, "get_lg_max");
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) /* not created yet, or removed since: next time */
		return STORE_OK;
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)max) != 0 && errno != EOPNOTSUPP) {
		rc = errno == ENOSPC || errno == EDQUOT ? STORE_FULL : STORE_UNAVAILABLE;
		if (rc != STORE_FULL)
			STORE_LOG(&st->opt, STORE_LOG_WARN, "cannot allocate %s: %s", path,
			          strerror(errno));
	}
	close(fd);
	return rc;
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

/* A backup target must be new or empty, so a backup never mixes with older files. */
static int dir_is_absent_or_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return errno == ENOENT;
	while (empty && (e = readdir(d)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* What verify finds goes to the store's log, not to stderr. */
static void on_verify_error(const DB_ENV *env, const char *prefix, const char *msg)
{
	const struct store_options *opt = env->app_private;

	(void)prefix;
	STORE_LOG(opt, STORE_LOG_ERROR, "berkeley db verify: %s", msg);
}

/* Berkeley DB's own structural check of one database file of a closed environment. */
static int verify_file(const struct store_options *opt, const char *file)
{
	char path[CONFIG_PATH_MAX + 32];
	DB *db;
	int err;

	snprintf(path, sizeof(path), "%s/%s", opt->data_dir, file);
	err = db_create(&db, NULL, 0);
	if (err == 0) {
		db->get_env(db)->app_private = (void *)opt;
		db->set_errcall(db, on_verify_error);
		err = db->verify(db, path, NULL, NULL, 0); /* frees the handle whatever happens */
	}
	if (err != 0)
		STORE_LOG(opt, STORE_LOG_ERROR, "verify %s: %s", path, db_strerror(err));
	return err;
}

/*
 * Make a copied environment a store of its own: catastrophic recovery replays every copied log
 * record (the copy has no regions to trust), then every record must decode and both database
 * files must pass Berkeley DB's verify. The copy's region files are removed at the end.
 */
static int recover_copy(const struct store_options *opt, size_t *count)
{
	struct store *copy = store_new(opt);
	size_t corrupt = 0;
	DB_ENV *env = NULL;
	int rc = STORE_UNAVAILABLE;

	if (!copy || write_db_config(opt) != 0)
		goto out;
	if (env_create(copy) != 0 || env_open(copy, DB_CREATE | DB_RECOVER_FATAL) != STORE_OK ||
	    databases_open(copy, 0) != 0 || schema_check(copy, 0) != 0)
		goto out;
	rc = store_count(copy, count, &corrupt);
	if (rc == STORE_OK && corrupt) {
		STORE_LOG(opt, STORE_LOG_ERROR, "%zu of %zu records in %s do not decode", corrupt,
		          *count, opt->data_dir);
		rc = STORE_UNAVAILABLE;
	}
out:
	store_close(copy);
	if (rc == STORE_OK && (verify_file(opt, STORE_SEQUENCES_FILE) != 0 ||
	                       verify_file(opt, STORE_NAMES_FILE) != 0 ||
	                       verify_file(opt, STORE_AUDIT_FILE) != 0 ||
	                       verify_file(opt, STORE_META_FILE) != 0))
		rc = STORE_UNAVAILABLE;
	if (db_env_create(&env, 0) == 0)
		env->remove(env, opt->data_dir, 0);
	return rc;
}

int store_backup(struct store *st, const char *dir, size_t *count)
{
	struct store_options copy_opt = st->opt;
	int err;

	*count = 0;
	if (!dir_is_absent_or_empty(dir)) {
		STORE_LOG(&st->opt, STORE_LOG_ERROR, "%s exists and is not empty", dir);
		return STORE_INVALID;
	}
	/* A checkpoint first keeps the log the copy must replay short. */
	st->env->txn_checkpoint(st->env, 0, 0, 0);
	err = st->env->backup(st->env, dir, DB_CREATE);
	if (err != 0) {
		STORE_LOG(&st->opt, STORE_LOG_ERROR, "backup to %s: %s", dir, db_strerror(err));
		return err == ENOENT || err == EACCES ? STORE_INVALID : STORE_UNAVAILABLE;
	}
	copy_opt.data_dir = dir;
	return recover_copy(&copy_opt, count);
}
