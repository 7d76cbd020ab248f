/*
 * store_backup: a hot backup and the checks that make the copy a store of its own. Berkeley DB
 * copies the databases and logs while the service runs; catastrophic recovery of the copy
 * (store_recover_copy) replays every copied log record, every record must then decode, and every
 * database file must pass Berkeley DB's verify.
 */
#include "store_int.h"
#include "dir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A backup target must be new or empty, so a backup never mixes with older files. */
static int dir_is_absent_or_empty(const char *dir)
{
	enum dir_find f = dir_find(dir, "");

	return f == DIR_ABSENT || f == DIR_NONE;
}

/* What verify finds goes to the store's log, not to stderr. */
static void on_verify_error(const DB_ENV *env, const char *prefix, const char *msg)
{
	const struct store_options *opt = env->app_private;

	(void)prefix;
	STORE_LOG(opt, LOG_ERROR, "berkeley db verify: %s", msg);
}

/* Berkeley DB's own structural check of one database file of a closed environment. */
static int verify_file(const struct store_options *opt, const char *file)
{
	char path[STORE_PATH_MAX];
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
		STORE_LOG(opt, LOG_ERROR, "verify %s: %s", path, db_strerror(err));
	return err;
}

/* Make a copied environment a store of its own and check it; its region files are removed at
 * the end. */
static int recover_copy(const struct store_options *opt, size_t *count)
{
	struct store *copy;
	size_t corrupt = 0;
	DB_ENV *env = NULL;
	int rc = store_recover_copy(opt, &copy);

	if (rc == STORE_OK)
		rc = store_count(copy, count, &corrupt);
	if (rc == STORE_OK && corrupt) {
		STORE_LOG(opt, LOG_ERROR, "%zu of %zu records in %s do not decode", corrupt,
		          *count, opt->data_dir);
		rc = STORE_UNAVAILABLE;
	}
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
		STORE_LOG(&st->opt, LOG_ERROR, "%s exists and is not empty", dir);
		return STORE_INVALID;
	}
	/* A checkpoint first keeps the log the copy must replay short. */
	st->env->txn_checkpoint(st->env, 0, 0, 0);
	err = st->env->backup(st->env, dir, DB_CREATE);
	if (err != 0) {
		STORE_LOG(&st->opt, LOG_ERROR, "backup to %s: %s", dir, db_strerror(err));
		return err == ENOENT || err == EACCES ? STORE_INVALID : STORE_UNAVAILABLE;
	}
	copy_opt.data_dir = dir;
	return recover_copy(&copy_opt, count);
}
