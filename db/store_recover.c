/*
 * store_recover: who may run the environment, and recovery. The lock files keep one master per
 * data directory (nextid.lock), and recovery apart from the processes that open the store
 * (env.lock, recovery.lock); recovery creates a store or runs Berkeley DB's normal recovery,
 * then resumes the counters after an unclean stop; failchk releases what dead processes held.
 * DB_CONFIG, written when a store is created, is here too. Facts behind the choices (failchk's
 * spurious EBUSY, handles never crossing fork) are in the project notes on Berkeley DB 5.3.
 */
#include "store_int.h"
#include "clock.h"
#include "dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

static int ensure_data_dir(const struct store_options *opt)
{
	struct stat sb;

	if (mkdir(opt->data_dir, STORE_DIR_MODE) != 0 && errno != EEXIST) {
		STORE_LOG(opt, LOG_ERROR, "cannot create data directory %s: %s", opt->data_dir,
		          strerror(errno));
		return -1;
	}
	if (stat(opt->data_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		STORE_LOG(opt, LOG_ERROR, "data directory %s is not a directory", opt->data_dir);
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
	char path[STORE_PATH_MAX], tmp[STORE_PATH_MAX], have[sizeof(db_config_text)];
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
			STORE_LOG(opt, LOG_WARN, "%s differs from nextid's; keeping it as it is",
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
		STORE_LOG(opt, LOG_ERROR, "cannot write %s: %s", path, strerror(errno));
	return rc;
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
 * lock; -1 when the file cannot be opened (logged), or -2 when the lock is not had within wait_s
 * seconds. `waiting` (may be NULL) is logged once when the lock is not free at first.
 */
static int lock_file(const struct store_options *opt, const char *name, int how, unsigned wait_s,
                     const char *waiting)
{
	char path[STORE_PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", opt->data_dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, STORE_FILE_MODE);
	if (fd < 0) {
		STORE_LOG(opt, LOG_ERROR, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	for (unsigned tenths = 0; flock(fd, how | LOCK_NB) != 0; tenths++) {
		if (errno != EWOULDBLOCK || tenths >= wait_s * 10) {
			close(fd);
			return -2;
		}
		if (tenths == 0 && waiting)
			STORE_LOG(opt, LOG_INFO, "%s", waiting);
		clock_sleep_ms(100);
	}
	return fd;
}

int store_claim(const struct store_options *opt, unsigned wait_s)
{
	int fd;

	if (ensure_data_dir(opt) != 0)
		return -1;
	fd = lock_file(opt, "nextid.lock", LOCK_EX, wait_s,
	               "waiting for the processes of a previous master to exit");
	if (fd == -2)
		STORE_LOG(opt, LOG_ERROR, "another nextid-fcgi master (or its workers) still uses %s",
		          opt->data_dir);
	return fd < 0 ? -1 : fd;
}

/* Which store files a data directory holds: a store is its four databases and its logs. */
static int has_file(const char *dir, const char *name)
{
	char path[STORE_PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
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
	int present = dir_find(opt->data_dir, "log.") == DIR_FOUND, missing = -1;

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
	/* A replica that was receiving its copy of the store when it stopped: the group sends it
	 * again (a new copy replaces every file). Only the group's creator must be whole. */
	if (store_replicated(opt) && !store_repl_creates_group(opt))
		return 0;
	STORE_LOG(opt, LOG_ERROR,
	          "the store in %s is incomplete: %s is missing. Refusing to start, since a new "
	          "empty store would issue numbers again; restore the directory from a backup "
	          "(nextidctl backup) or empty it to start afresh",
	          opt->data_dir, files[missing]);
	return -1;
}

/* Resume the counters past their reservations when the last stop was not clean. */
static int resume_after_unclean_stop(struct store *st)
{
	size_t moved = 0;
	int clean;

	if (store_clean_get(st, &clean) != 0)
		return -1;
	if (clean)
		return 0;
	if (store_skip_reservations(st, &moved) != STORE_OK)
		return -1;
	if (moved)
		STORE_LOG(&st->opt, LOG_WARN,
		          "the last stop was not clean: %zu sequences resume past their reservations",
		          moved);
	return 0;
}

/*
 * Recovery of a replicated store writes nothing: what it holds is the group's, changed only by
 * the master through the Replication Manager (a commit of ours before joining would be a branch
 * of history the group rolls back). The group's creator makes the databases of a new store,
 * before it starts replicating; any other new member leaves its directory empty, and receives
 * the whole store from the group once its replication process joins. Returns 0 or -1 (logged).
 */
static int recover_replicated(struct store *st, int create)
{
	const struct store_options *opt = &st->opt;

	if (create && !store_repl_creates_group(opt)) {
		STORE_LOG(opt, LOG_INFO, "new replica in %s: the store comes from the group",
		          opt->data_dir);
		return 0;
	}
	if (create && store_databases_open(st, DB_CREATE) == STORE_OK &&
	    store_schema_check(st, 1) == 0) {
		STORE_LOG(opt, LOG_INFO, "created a new store in %s for a new group", opt->data_dir);
		return 0;
	}
	return create ? -1 : 0;
}

int store_recover(const struct store_options *opt)
{
	struct store *st;
	int rc = STORE_UNAVAILABLE, create, recovery_fd;

	if (ensure_data_dir(opt) != 0)
		return STORE_UNAVAILABLE;
	st = store_new(opt, NULL);
	if (!st)
		return STORE_UNAVAILABLE;
	/* Openers hold recovery.lock only for an instant: this comes at once. */
	recovery_fd = lock_file(opt, "recovery.lock", LOCK_EX, RECOVER_LOCK_WAIT_S, NULL);
	st->env_lock_fd = lock_file(opt, "env.lock", LOCK_EX, RECOVER_LOCK_WAIT_S, NULL);
	if (st->env_lock_fd < 0)
		STORE_LOG(opt, LOG_WARN,
		          "a process outside the pool (nextid-sequencer, a stopped nextidctl?) still "
		          "has the store open after %d s; recovering anyway: it must open the store "
		          "again", RECOVER_LOCK_WAIT_S);
	create = store_state(opt);
	if (create < 0 || write_db_config(opt) != 0)
		goto out;
	if (store_env_create(st) != 0)
		goto out;
	if ((rc = store_env_open(st, DB_CREATE | DB_RECOVER)) != STORE_OK) {
		rc = rc == STORE_FULL ? STORE_FULL : STORE_UNAVAILABLE;
		goto out;
	}
	rc = STORE_UNAVAILABLE;
	if (store_replicated(opt)) {
		if (recover_replicated(st, create) != 0)
			goto out;
		rc = STORE_OK;
		goto out;
	}
	if (store_databases_open(st, create ? DB_CREATE : 0) != 0 ||
	    store_schema_check(st, create) != 0)
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
		STORE_LOG(opt, LOG_INFO, "created a new store in %s", opt->data_dir);
	rc = STORE_OK;
out:
	if (rc != STORE_OK && st->env) {
		/* A recovery that failed half way must leave no environment to join, and must not
		 * mark the store clean on its way out (the counters may not have been moved past
		 * their reservations): the next recovery starts from the files alone. */
		st->panicked = 1;
		store_close(st);
		store_regions_remove(opt);
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
	env_fd = lock_file(opt, "env.lock", LOCK_EX, 0, NULL);
	if (env_fd < 0) {
		STORE_LOG(opt, LOG_ERROR,
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
	char path[STORE_PATH_MAX];
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

void store_discard_environment(const struct store_options *opt)
{
	store_regions_remove(opt);
}

/* Take env.lock shared, passing through recovery.lock so as never to join a recovery. */
static int env_lock_shared(const struct store_options *opt)
{
	int recovery_fd = lock_file(opt, "recovery.lock", LOCK_SH, ENV_LOCK_WAIT_S, NULL);
	int fd = recovery_fd >= 0 ? lock_file(opt, "env.lock", LOCK_SH, ENV_LOCK_WAIT_S, NULL) : -1;

	if (recovery_fd >= 0)
		close(recovery_fd);
	return fd;
}

int store_attach(struct store *st)
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
		if (st->env_lock_fd < 0 || store_env_create(st) != 0)
			return STORE_UNAVAILABLE;
		return store_env_open(st, DB_CREATE | DB_REGISTER | DB_FAILCHK | DB_RECOVER);
	}
	st->env_lock_fd = env_lock_shared(&st->opt);
	if (st->env_lock_fd < 0) {
		STORE_LOG(&st->opt, LOG_ERROR,
		          "the store in %s is being recovered; try again in a moment", st->opt.data_dir);
		return STORE_UNAVAILABLE;
	}
	/* From here a recovery waits for us: a watchdog must know, since the open itself can block
	 * on a mutex a dead process left. */
	if (st->opt.joined)
		atomic_store(st->opt.joined, 1);
	return store_env_create(st) == 0 ? store_env_open(st, 0) : STORE_UNAVAILABLE;
}

int store_failchk(const struct store_options *opt)
{
	struct store *st = store_new(opt, NULL);
	int err = 0, rc = STORE_UNAVAILABLE;

	if (!st)
		return STORE_UNAVAILABLE;
	st->in_failchk = 1; /* from the open on: its lockout wait is failchk's (store_env.c) */
	if ((err = store_attach(st)) != STORE_OK) {
		rc = err;
		goto out;
	}
	/* Berkeley DB 5.3.28 answers EBUSY once after a successful cleanup (a known bug): retry. */
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
		STORE_LOG(opt, LOG_WARN, "failchk: %s", db_strerror(err));
out:
	store_close(st);
	return rc;
}

int store_recover_copy(const struct store_options *opt, struct store **out)
{
	struct store *st = store_new(opt, NULL);

	*out = NULL;
	if (!st)
		return STORE_UNAVAILABLE;
	if (write_db_config(opt) != 0 || store_env_create(st) != 0 ||
	    store_env_open(st, DB_CREATE | DB_RECOVER_FATAL) != STORE_OK ||
	    store_databases_open(st, 0) != 0 || store_schema_check(st, 0) != 0) {
		store_close(st);
		return STORE_UNAVAILABLE;
	}
	*out = st;
	return STORE_OK;
}
