/*
 * store_int: what store.c (sequence operations) and store_env.c (environment lifecycle) share.
 * Nothing outside db/store*.c includes this file.
 */
#ifndef NEXTID_STORE_INT_H
#define NEXTID_STORE_INT_H

#include "store.h"

#include <db.h>

#define STORE_SEQUENCES_FILE "sequences.db"
#define STORE_META_FILE "meta.db"
#define STORE_NAMES_FILE "names.db"
#define STORE_SCHEMA_VERSION 1

struct store {
	DB_ENV *env;
	DB *sequences; /* hash: name -> record */
	DB *names;     /* btree: name -> nothing; the order listings walk */
	DB *meta;      /* btree: "schema" -> version, later the id generator's high-water mark */
	struct store_options opt;
	volatile int panicked; /* set by Berkeley DB's event callback */
	int deadlocked;        /* the current transaction attempt lost a deadlock: retry it */
	int in_failchk;        /* Berkeley DB's complaints now describe dead processes: warnings */
	int env_lock_fd;       /* data_dir/env.lock: shared while open, exclusive for recovery */
	unsigned backoff_seed; /* jitter for deadlock retries; per process, not shared */
};

/* Count the sequences and the records among them that do not decode. Returns a store result. */
int store_count(struct store *st, size_t *total, size_t *corrupt);

/* Log through opt->log, printf-style. */
void store_logf(const struct store_options *opt, int level, const char *file, int line,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define STORE_LOG(opt, level, ...) store_logf((opt), (level), __FILE__, __LINE__, __VA_ARGS__)

/* Map a Berkeley DB error from a store operation to a store result, logging what is unexpected. */
int store_from_db_error(struct store *st, int err, const char *what, const char *file, int line);
#define STORE_DB_ERROR(st, err, what) store_from_db_error((st), (err), (what), __FILE__, __LINE__)

#endif
