/*
 * store_scan: every walk over many sequences, in two layers. walk() moves a cursor through one
 * database inside one transaction: it counts the names and the records. scan_chunks() serves
 * listing, advancing, skipping reservations and deleting everything: it reads the names index (a
 * btree: name order, and a cursor can start anywhere) a chunk per read transaction, so a page of
 * a listing costs its own size, not the store's, and no transaction holds more than a chunk's
 * locks. It hands each chunk to a callback between transactions: a retried transaction never
 * calls one twice.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#define SCAN_CHUNK 1000

/* What a callback may answer besides a store result (which stops the walk with that result). */
enum {
	SCAN_STOP = -1, /* enough: stop here, all is well */
	SCAN_SKIP = -2, /* (entry_fn) this sequence was left as it was */
};

/* What walk() does with each key and value: STORE_OK to go on, SCAN_STOP or a failure. */
typedef int walk_fn(struct store *st, struct txn_attempt *a, const DBT *key, const DBT *val,
                    void *arg);

/* Call fn for each entry of db in key order, in a's transaction, from the first key after
 * `after` (after_len 0: from the first). `what` names a failure in the log. */
static int walk(struct store *st, struct txn_attempt *a, DB *db, u_int32_t cursor_flags,
                const char *after, size_t after_len, walk_fn *fn, void *arg, const char *what)
{
	DBT key = { .flags = DB_DBT_REALLOC }, val = { .flags = DB_DBT_REALLOC };
	u_int32_t step = DB_FIRST;
	DBC *cursor = NULL;
	int err, rc = STORE_OK;

	if (after_len) { /* DB_SET_RANGE reads `after` from key, then reallocates it */
		if (!(key.data = malloc(after_len)))
			return STORE_UNAVAILABLE;
		memcpy(key.data, after, after_len);
		key.size = (u_int32_t)after_len;
		step = DB_SET_RANGE; /* the first key >= after */
	}
	err = db->cursor(db, a->txn, &cursor, cursor_flags);
	while (rc == STORE_OK && err == 0 && (err = cursor->get(cursor, &key, &val, step)) == 0) {
		step = DB_NEXT;
		if (after_len && key.size == after_len && memcmp(key.data, after, after_len) == 0)
			continue; /* strictly after */
		rc = fn(st, a, &key, &val, arg);
	}
	if (cursor)
		cursor->close(cursor);
	free(key.data);
	free(val.data);
	if (rc != STORE_OK)
		return rc == SCAN_STOP ? STORE_OK : rc;
	return STORE_DB_ERROR(st, a, err == DB_NOTFOUND ? 0 : err, what);
}

static int count_name(struct store *st, struct txn_attempt *a, const DBT *key, const DBT *val,
                      void *arg)
{
	(void)st;
	(void)a;
	(void)key;
	(void)val;
	(*(uint64_t *)arg)++;
	return STORE_OK;
}

int store_count_names(struct store *st, struct txn_attempt *a, uint64_t *n)
{
	*n = 0;
	return walk(st, a, st->names, 0, NULL, 0, count_name, n, "count the names");
}

struct record_counts {
	size_t total, corrupt;
};

static int count_record(struct store *st, struct txn_attempt *a, const DBT *key, const DBT *val,
                        void *arg)
{
	struct record_counts *c = arg;
	struct seq_record rec;

	(void)st;
	(void)a;
	(void)key;
	c->total++;
	c->corrupt += record_decode(val->data, val->size, &rec) != RECORD_OK;
	return STORE_OK;
}

static int count_body(struct store *st, struct txn_attempt *a, void *arg)
{
	*(struct record_counts *)arg = (struct record_counts){ 0, 0 };
	return walk(st, a, st->sequences, DB_READ_COMMITTED, NULL, 0, count_record, arg, "count");
}

int store_count(struct store *st, size_t *total, size_t *corrupt)
{
	struct record_counts c = { 0, 0 };
	int rc = store_run_txn(st, RUN_READ, count_body, &c);

	*total = c.total;
	*corrupt = c.corrupt;
	return rc;
}

struct scan_entry {
	char name[NAME_MAX_BYTES];
	size_t len;
	struct seq_record rec;
};

struct scan_chunk {
	char after[NAME_MAX_BYTES]; /* the chunk starts after this name ... */
	size_t after_len;           /* ... or at the first name when 0 */
	size_t want, count;
	struct scan_entry entries[SCAN_CHUNK];
};

/* A name of the chunk, with its record; one whose record was deleted meanwhile is left out. */
static int chunk_add(struct store *st, struct txn_attempt *a, const DBT *key, const DBT *val,
                     void *arg)
{
	struct scan_chunk *c = arg;
	struct scan_entry *e = &c->entries[c->count];
	DBT seq_key = store_name_key(key->data, key->size);
	int rc;

	(void)val;
	if (key->size > NAME_MAX_BYTES) /* no name is longer: a damaged index */
		return STORE_DB_ERROR(st, a, DB_BUFFER_SMALL, "list");
	rc = store_read_record(st, a, &seq_key, 0, &e->rec);
	if (rc == STORE_NOT_FOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	memcpy(e->name, key->data, key->size);
	e->len = key->size;
	return ++c->count < c->want ? STORE_OK : SCAN_STOP;
}

static int chunk_read_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct scan_chunk *c = arg;

	c->count = 0;
	return walk(st, a, st->names, DB_READ_COMMITTED, c->after, c->after_len, chunk_add, c,
	            "list");
}

/* What scan_chunks() does with each chunk, between its transactions: STORE_OK to go on,
 * SCAN_STOP or a failure. */
typedef int chunk_fn(struct store *st, const struct scan_chunk *c, void *arg);

enum scan_from {
	SCAN_ONWARD, /* each chunk starts after the last name of the one before */
	SCAN_AGAIN,  /* each starts at the first name (fn removed the one before), until none is left */
};

/* Call fn for each chunk of at most `chunk` (1 to SCAN_CHUNK) names, starting after `after` (NULL
 * or len 0: at the first name), for at most `limit` names in all (0: all). Returns a store
 * result. */
static int scan_chunks(struct store *st, const char *after, size_t after_len, size_t limit,
                       size_t chunk, enum scan_from from, chunk_fn *fn, void *arg)
{
	struct scan_chunk *c = malloc(sizeof(*c));
	size_t remaining = limit ? limit : SIZE_MAX;
	int rc = c ? STORE_OK : STORE_UNAVAILABLE;

	if (c) {
		c->after_len = after && after_len <= NAME_MAX_BYTES ? after_len : 0;
		if (c->after_len)
			memcpy(c->after, after, c->after_len);
	}
	while (rc == STORE_OK && remaining > 0) {
		c->want = remaining < chunk ? remaining : chunk;
		rc = store_run_txn(st, RUN_READ, chunk_read_body, c);
		if (rc != STORE_OK || c->count == 0)
			break;
		rc = fn(st, c, arg);
		remaining -= c->count;
		if (from == SCAN_AGAIN) {
			c->after_len = 0;
		} else if (c->count < c->want) {
			break;
		} else {
			c->after_len = c->entries[c->count - 1].len;
			memcpy(c->after, c->entries[c->count - 1].name, c->after_len);
		}
	}
	free(c);
	return rc == SCAN_STOP ? STORE_OK : rc;
}

struct list_op {
	store_list_fn *fn;
	void *ctx;
};

static int list_chunk(struct store *st, const struct scan_chunk *c, void *arg)
{
	const struct list_op *op = arg;

	(void)st;
	for (size_t i = 0; i < c->count; i++)
		if (op->fn(op->ctx, c->entries[i].name, c->entries[i].len, &c->entries[i].rec))
			return SCAN_STOP;
	return STORE_OK;
}

int store_list(struct store *st, const char *after, size_t after_len, size_t limit,
               store_list_fn *fn, void *ctx)
{
	struct list_op op = { fn, ctx };

	return scan_chunks(st, after, after_len, limit, SCAN_CHUNK, SCAN_ONWARD, list_chunk, &op);
}

/* What a chunk's transaction does to one of its sequences: STORE_OK when it changed it,
 * SCAN_SKIP, or a failure (which ends the transaction). */
typedef int entry_fn(struct store *st, struct txn_attempt *a, DBT *key, const void *arg);

struct every_op {
	enum txn_kind kind;
	entry_fn *fn;
	const void *arg;
	const struct scan_chunk *chunk;
	size_t changed; /* in this chunk's transaction */
	size_t total;   /* in the chunks committed */
	size_t seen;    /* names handed to fn, in every chunk */
	char last[NAME_MAX_BYTES]; /* the last name of the last chunk */
	size_t last_len;
};

static int every_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct every_op *op = arg;

	op->changed = 0;
	for (size_t i = 0; i < op->chunk->count; i++) {
		DBT key = store_name_key(op->chunk->entries[i].name, op->chunk->entries[i].len);
		int rc = op->fn(st, a, &key, op->arg);

		if (rc == STORE_OK)
			op->changed++;
		else if (rc != SCAN_SKIP)
			return rc;
	}
	return STORE_OK;
}

static int every_chunk(struct store *st, const struct scan_chunk *c, void *arg)
{
	struct every_op *op = arg;
	int rc;

	op->chunk = c;
	rc = store_run_txn(st, op->kind, every_body, op);
	op->total += rc == STORE_OK ? op->changed : 0;
	op->seen += c->count;
	op->last_len = c->entries[c->count - 1].len;
	memcpy(op->last, c->entries[c->count - 1].name, op->last_len);
	return rc;
}

/* Names per write transaction of a walk: a thousand, or under replication as few as its
 * acknowledgement needs to come in time (measured: delete-all took 0.5 s per thousand names). */
static size_t write_chunk(const struct store *st)
{
	return store_replicated(&st->opt) ? STORE_REPL_CHUNK : SCAN_CHUNK;
}

/* Call fn for every sequence, a chunk of names per transaction of the given kind; *changed counts
 * the sequences it changed in the transactions that committed. */
static int every_sequence(struct store *st, enum scan_from from, enum txn_kind kind,
                          entry_fn *fn, const void *arg, size_t *changed)
{
	struct every_op op = { .kind = kind, .fn = fn, .arg = arg };
	int rc = scan_chunks(st, NULL, 0, 0, write_chunk(st), from, every_chunk, &op);

	*changed = op.total;
	return rc;
}

/* Move a counter ahead (record_skip) by *arg steps, or past its reservation when arg is NULL. */
static int skip_entry(struct store *st, struct txn_attempt *a, DBT *key, const void *arg)
{
	struct seq_record rec;
	int rc = store_read_record(st, a, key, DB_RMW, &rec);

	if (rc == STORE_NOT_FOUND)
		return SCAN_SKIP;
	if (rc != STORE_OK)
		return rc;
	if (!(arg ? record_skip(&rec, *(const uint64_t *)arg) : record_skip_reservation(&rec)))
		return SCAN_SKIP;
	return store_write_record(st, a, key, &rec, 0);
}

/* One chunk of every_sequence, after `after`: *done when it was the last. */
static int one_chunk(struct store *st, enum scan_from from, enum txn_kind kind, const char *after,
                     size_t after_len, entry_fn *fn, const void *arg, struct every_op *op,
                     int *done)
{
	int rc;

	*op = (struct every_op){ .kind = kind, .fn = fn, .arg = arg };
	rc = scan_chunks(st, after, after_len, write_chunk(st), write_chunk(st), from, every_chunk,
	                 op);
	*done = op->seen < write_chunk(st);
	return rc;
}

int store_skip_reservations(struct store *st, size_t *moved)
{
	return every_sequence(st, SCAN_ONWARD, RUN_SYNC, skip_entry, NULL, moved);
}

int store_advance_all(struct store *st, uint64_t steps, size_t *moved)
{
	*moved = 0;
	if (steps == 0 || steps > INT64_MAX)
		return STORE_INVALID;
	switch (store_forward_route(st)) {
	case STORE_ROUTE_MASTER:
		return store_forward_advance_all(st, steps, moved);
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	return every_sequence(st, SCAN_ONWARD, RUN_SYNC, skip_entry, &steps, moved);
}

int store_advance_step(struct store *st, uint64_t steps, const char *after, size_t after_len,
                       char *last, size_t *last_len, size_t *changed, int *done)
{
	struct every_op op;
	int rc;

	*changed = 0;
	*last_len = 0;
	*done = 1;
	if (steps == 0 || steps > INT64_MAX || after_len > NAME_MAX_BYTES)
		return STORE_INVALID;
	switch (store_forward_route(st)) { /* a replica's chunks go to the master one by one */
	case STORE_ROUTE_MASTER:
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	rc = one_chunk(st, SCAN_ONWARD, RUN_SYNC, after, after_len, skip_entry, &steps, &op, done);
	*changed = op.total;
	if (op.seen) {
		*last_len = op.last_len;
		memcpy(last, op.last, op.last_len);
	}
	return rc;
}

/* A sequence already gone was deleted by another admin, quicker. */
static int delete_entry(struct store *st, struct txn_attempt *a, DBT *key, const void *arg)
{
	int rc = store_remove_record(st, a, key);

	(void)arg;
	return rc == STORE_NOT_FOUND ? SCAN_SKIP : rc;
}

/* A reset needs no atomicity: each deleted sequence is simply gone, and the lock table has a
 * fixed size. Each chunk starts at the first name again, until none is left. */
int store_delete_all(struct store *st, size_t *count)
{
	size_t deleted = 0;
	int rc;

	switch (store_forward_route(st)) {
	case STORE_ROUTE_MASTER:
		rc = store_forward_delete_all(st, &deleted);
		break;
	case STORE_ROUTE_NONE:
		rc = STORE_NO_MASTER;
		break;
	default:
		rc = every_sequence(st, SCAN_AGAIN, RUN_DURABLE, delete_entry, NULL, &deleted);
	}
	if (count)
		*count = deleted;
	return rc;
}

int store_delete_step(struct store *st, size_t *changed, int *done)
{
	struct every_op op;
	int rc;

	*changed = 0;
	*done = 1;
	switch (store_forward_route(st)) {
	case STORE_ROUTE_MASTER:
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	rc = one_chunk(st, SCAN_AGAIN, RUN_DURABLE, NULL, 0, delete_entry, NULL, &op, done);
	*changed = op.total;
	return rc;
}
