/*
 * store: the sequence operations, each a short transaction whose body store_txn.c runs. The
 * environment's lifecycle is in store_env.c, the record's bytes in record.c.
 */
#include "store_int.h"
#include "name.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * How many sequences there are, kept in meta beside them and changed in the transaction that
 * adds or removes a name, so that max_sequences is exact. A store written before the count
 * existed has none: then the names are counted once (recovery writes it at every start).
 */
static const char count_key[] = "sequences.count";

static int count_names(struct store *st, struct txn_attempt *a, uint64_t *n)
{
	DBC *cursor = NULL;
	DBT key = { .flags = DB_DBT_REALLOC }, val = { .flags = DB_DBT_REALLOC };
	int err = st->names->cursor(st->names, a->txn, &cursor, 0);

	*n = 0;
	while (err == 0 && (err = cursor->get(cursor, &key, &val, DB_NEXT)) == 0)
		(*n)++;
	if (cursor)
		cursor->close(cursor);
	free(key.data);
	free(val.data);
	return STORE_DB_ERROR(st, a, err == DB_NOTFOUND ? 0 : err, "count the names");
}

int store_count_get(struct store *st, struct txn_attempt *a, uint64_t *n)
{
	unsigned char buf[8];
	DBT key = { .data = (void *)count_key, .size = sizeof(count_key) - 1 };
	DBT val = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int err = st->meta->get(st->meta, a->txn, &key, &val, DB_RMW);

	if (err == DB_NOTFOUND)
		return count_names(st, a, n);
	if (err == 0 && val.size != sizeof(buf)) {
		STORE_LOG(&st->opt, LOG_WARN, "the sequence count is damaged; counting again");
		return count_names(st, a, n);
	}
	if (err != 0)
		return STORE_DB_ERROR(st, a, err, "read the sequence count");
	*n = 0;
	for (size_t i = 0; i < sizeof(buf); i++)
		*n = *n << 8 | buf[i];
	return STORE_OK;
}

int store_count_put(struct store *st, struct txn_attempt *a, uint64_t n)
{
	unsigned char buf[8];
	DBT key = { .data = (void *)count_key, .size = sizeof(count_key) - 1 };
	DBT val = { .data = buf, .size = sizeof(buf) };

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(n >> (8 * (sizeof(buf) - 1 - i)));
	return STORE_DB_ERROR(st, a, st->meta->put(st->meta, a->txn, &key, &val, 0),
	                      "write the sequence count");
}

int store_count_refresh(struct store *st)
{
	struct txn_attempt a = { 0 }; /* recovery is alone: no deadlock to retry */
	uint64_t n = 0;
	int err = st->env->txn_begin(st->env, NULL, &a.txn, 0), rc;

	if (err != 0)
		return STORE_DB_ERROR(st, NULL, err, "begin");
	rc = count_names(st, &a, &n);
	if (rc == STORE_OK)
		rc = store_count_put(st, &a, n);
	err = rc == STORE_OK ? a.txn->commit(a.txn, 0) : (a.txn->abort(a.txn), 0);
	return rc == STORE_OK ? STORE_DB_ERROR(st, NULL, err, "commit") : rc;
}

struct record_op {
	DBT key;
	struct seq_record *rec;
};

static int get_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct record_op *op = arg;

	return store_read_record(st, a, &op->key, 0, op->rec);
}

int store_get(struct store *st, const char *name, size_t len, struct seq_record *out)
{
	struct record_op op = { .key = store_name_key(name, len), .rec = out };

	if (store_name_invalid(name, len))
		return STORE_INVALID;
	return store_run_txn(st, RUN_READ, get_body, &op);
}

static int create_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct record_op *op = arg;
	int rc = store_write_record(st, a, &op->key, op->rec, DB_NOOVERWRITE);

	return rc == STORE_OK ? store_index_add(st, a, &op->key) : rc;
}

int store_create(struct store *st, const char *name, size_t len, const struct seq_record *rec)
{
	struct seq_record copy = *rec;
	struct record_op op = { .key = store_name_key(name, len), .rec = &copy };

	if (store_name_invalid(name, len) || record_check(&copy) != RECORD_OK)
		return STORE_INVALID;
	copy.created = (uint64_t)time(NULL);
	return store_run_txn(st, RUN_DURABLE, create_body, &op);
}

struct configure_op {
	DBT key;
	const struct record_change *ch;
	int mode;
	struct seq_record rec;
	int created;
	const char *why;
};

static int configure_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct configure_op *op = arg;
	int rc = store_read_record(st, a, &op->key, DB_RMW, &op->rec);

	if (rc != STORE_OK && rc != STORE_NOT_FOUND)
		return rc;
	op->created = rc == STORE_NOT_FOUND;
	if (op->created && op->mode == STORE_CHANGE_ONLY)
		return STORE_NOT_FOUND;
	if (!op->created && op->mode == STORE_CREATE_ONLY)
		return STORE_EXISTS;
	if (record_apply(&op->rec, op->ch, !op->created, (uint64_t)time(NULL), &op->why) !=
	    RECORD_OK)
		return STORE_INVALID;
	rc = store_write_record(st, a, &op->key, &op->rec, 0);
	return rc == STORE_OK && op->created ? store_index_add(st, a, &op->key) : rc;
}

int store_configure(struct store *st, const char *name, size_t len,
                    const struct record_change *ch, int mode, struct seq_record *out,
                    int *created, const char **why)
{
	struct configure_op op = { .key = store_name_key(name, len), .ch = ch, .mode = mode };
	int rc;

	*why = "The name is not valid.";
	if (store_name_invalid(name, len))
		return STORE_INVALID;
	rc = store_run_txn(st, RUN_DURABLE, configure_body, &op);
	*why = op.why ? op.why : "";
	if (rc == STORE_OK && out)
		*out = op.rec;
	if (rc == STORE_OK && created)
		*created = op.created;
	return rc;
}

int store_set_next(struct store *st, const char *name, size_t len, int64_t next)
{
	struct record_change ch = { .fields = RECORD_CHANGE_START, .start = next };
	const char *why;

	return store_configure(st, name, len, &ch, STORE_CHANGE_ONLY, NULL, NULL, &why);
}

static int delete_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct record_op *op = arg;

	return store_remove_record(st, a, &op->key);
}

int store_delete(struct store *st, const char *name, size_t len)
{
	struct record_op op = { .key = store_name_key(name, len) };

	if (store_name_invalid(name, len))
		return STORE_INVALID;
	return store_run_txn(st, RUN_DURABLE, delete_body, &op);
}

struct import_op {
	const struct store_item *items;
	size_t n, bad;
	int force;
	const char *why;
};

/* Where a counter stands: the next value it would issue, or one step past its last. */
static __int128 counter_position(const struct seq_record *rec)
{
	__extension__ __int128 pos = rec->next;

	return (rec->flags & RECORD_FLAG_EXHAUSTED) ? pos + rec->increment : pos;
}

/* Would replacing old by new issue a number of old's again? */
static const char *import_refusal(const struct seq_record *old, const struct seq_record *new)
{
	int old_counts = record_type_max(old->type) != 0;

	if (!old_counts)
		return NULL;
	if (record_type_max(new->type) == 0 || (old->increment > 0) != (new->increment > 0))
		return "it would turn an existing counter into another kind; use --force.";
	if (old->increment > 0 ? counter_position(new) < counter_position(old)
	                       : counter_position(new) > counter_position(old))
		return "it would move an existing counter backwards; use --force.";
	return NULL;
}

static int import_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct import_op *op = arg;

	for (size_t i = 0; i < op->n; i++) {
		const struct store_item *it = &op->items[i];
		DBT key = store_name_key(it->name, it->len);
		struct seq_record old, rec = it->rec;
		int rc = store_read_record(st, a, &key, DB_RMW, &old);

		op->bad = i;
		if (rc != STORE_OK && rc != STORE_NOT_FOUND)
			return rc;
		if (rc == STORE_OK && !op->force && (op->why = import_refusal(&old, &rec)) != NULL)
			return STORE_INVALID;
		if (rc == STORE_NOT_FOUND) {
			rc = store_index_add(st, a, &key);
			if (rc != STORE_OK)
				return rc;
		}
		if ((rc = store_write_record(st, a, &key, &rec, 0)) != STORE_OK) {
			op->why = "the record is not valid.";
			return rc;
		}
	}
	return STORE_OK;
}

int store_import(struct store *st, const struct store_item *items, size_t n, int force,
                 size_t *bad, const char **why)
{
	struct import_op op = { .items = items, .n = n, .force = force };
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (store_name_invalid(items[i].name, items[i].len) ||
		    record_check(&items[i].rec) != RECORD_OK) {
			*bad = i;
			*why = "the name or the record is not valid.";
			return STORE_INVALID;
		}
	}
	rc = store_run_txn(st, RUN_DURABLE, import_body, &op);
	*bad = op.bad;
	*why = op.why ? op.why : "";
	return rc;
}

static int count_body(struct store *st, struct txn_attempt *a, void *arg)
{
	size_t *counts = arg;
	DBC *cursor = NULL;
	DBT key = { .flags = DB_DBT_REALLOC }, val = { .flags = DB_DBT_REALLOC };
	struct seq_record rec;
	int err;

	counts[0] = counts[1] = 0;
	err = st->sequences->cursor(st->sequences, a->txn, &cursor, DB_READ_COMMITTED);
	while (err == 0 && (err = cursor->get(cursor, &key, &val, DB_NEXT)) == 0) {
		counts[0]++;
		counts[1] += record_decode(val.data, val.size, &rec) != RECORD_OK;
	}
	if (cursor)
		cursor->close(cursor);
	free(key.data);
	free(val.data);
	return STORE_DB_ERROR(st, a, err == DB_NOTFOUND ? 0 : err, "count");
}

int store_count(struct store *st, size_t *total, size_t *corrupt)
{
	size_t counts[2] = { 0, 0 };
	int rc = store_run_txn(st, RUN_READ, count_body, counts);

	*total = counts[0];
	*corrupt = counts[1];
	return rc;
}

/*
 * Listing walks the names index (a btree: name order, and a cursor can start anywhere) a chunk
 * per transaction, so a page of a listing costs its own size, not the store's, and no transaction
 * holds more than a chunk's read locks. Callbacks run between transactions: a retried
 * transaction never calls one twice.
 */
#define LIST_CHUNK 1000

struct list_entry {
	char name[STORE_NAME_MAX];
	size_t len;
	struct seq_record rec;
};

struct list_chunk_op {
	char after[STORE_NAME_MAX]; /* the chunk starts after this name ... */
	size_t after_len;           /* ... or at the first name when 0 */
	size_t want, count;
	struct list_entry entries[LIST_CHUNK];
};

static int list_chunk_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct list_chunk_op *op = arg;
	char name[STORE_NAME_MAX];
	unsigned char none[1];
	DBT key = { .data = name, .ulen = sizeof(name), .flags = DB_DBT_USERMEM };
	DBT val = { .data = none, .ulen = sizeof(none), .flags = DB_DBT_USERMEM };
	DBC *cursor = NULL;
	u_int32_t step = DB_FIRST;
	int err, rc = STORE_OK;

	op->count = 0;
	if (op->after_len) {
		memcpy(name, op->after, op->after_len);
		key.size = (u_int32_t)op->after_len;
		step = DB_SET_RANGE; /* the first name >= after */
	}
	err = st->names->cursor(st->names, a->txn, &cursor, DB_READ_COMMITTED);
	while (err == 0 && op->count < op->want && (err = cursor->get(cursor, &key, &val, step)) == 0) {
		struct list_entry *e = &op->entries[op->count];
		DBT seq_key = store_name_key(name, key.size);

		step = DB_NEXT;
		if (op->after_len && key.size == op->after_len && !memcmp(name, op->after, key.size))
			continue; /* strictly after */
		rc = store_read_record(st, a, &seq_key, 0, &e->rec);
		if (rc == STORE_NOT_FOUND) { /* deleted between the two reads */
			rc = STORE_OK;
			continue;
		}
		if (rc != STORE_OK)
			break;
		memcpy(e->name, name, key.size);
		e->len = key.size;
		op->count++;
	}
	if (cursor)
		cursor->close(cursor);
	if (rc == STORE_OK && err != 0 && err != DB_NOTFOUND)
		rc = STORE_DB_ERROR(st, a, err, "list");
	return rc;
}

/* A change applied to every record: returns 1 when it changed rec. */
typedef int record_change_fn(struct seq_record *rec, const void *arg);

struct change_chunk_op {
	const struct list_entry *entries;
	size_t n, moved;
	record_change_fn *change;
	const void *arg;
};

static int change_chunk_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct change_chunk_op *op = arg;

	op->moved = 0;
	for (size_t i = 0; i < op->n; i++) {
		DBT key = store_name_key(op->entries[i].name, op->entries[i].len);
		struct seq_record rec;
		int rc = store_read_record(st, a, &key, DB_RMW, &rec);

		if (rc == STORE_NOT_FOUND)
			continue;
		if (rc != STORE_OK)
			return rc;
		if (!op->change(&rec, op->arg))
			continue;
		if ((rc = store_write_record(st, a, &key, &rec, 0)) != STORE_OK)
			return rc;
		op->moved++;
	}
	return STORE_OK;
}

/* Apply change to every record, a chunk of names per synced transaction (so that no transaction
 * holds more than a chunk's locks); *moved counts the records it changed. */
static int change_every_record(struct store *st, record_change_fn *change, const void *arg,
                               size_t *moved)
{
	struct list_chunk_op *names = malloc(sizeof(*names));
	int rc = names ? STORE_OK : STORE_UNAVAILABLE;

	*moved = 0;
	if (names)
		names->after_len = 0;
	while (rc == STORE_OK) {
		struct change_chunk_op op = { .entries = names->entries, .change = change, .arg = arg };

		names->want = LIST_CHUNK;
		rc = store_run_txn(st, RUN_READ, list_chunk_body, names);
		if (rc != STORE_OK || names->count == 0)
			break;
		op.n = names->count;
		rc = store_run_txn(st, RUN_SYNC, change_chunk_body, &op);
		*moved += rc == STORE_OK ? op.moved : 0;
		if (names->count < LIST_CHUNK)
			break;
		names->after_len = names->entries[names->count - 1].len;
		memcpy(names->after, names->entries[names->count - 1].name, names->after_len);
	}
	free(names);
	return rc;
}

static int skip_reservation(struct seq_record *rec, const void *arg)
{
	(void)arg;
	return record_skip_reservation(rec);
}

int store_skip_reservations(struct store *st, size_t *moved)
{
	return change_every_record(st, skip_reservation, NULL, moved);
}

static int skip_steps(struct seq_record *rec, const void *arg)
{
	return record_skip(rec, *(const uint64_t *)arg);
}

int store_advance_all(struct store *st, uint64_t steps, size_t *moved)
{
	if (steps == 0 || steps > INT64_MAX) {
		*moved = 0;
		return STORE_INVALID;
	}
	return change_every_record(st, skip_steps, &steps, moved);
}

int store_list(struct store *st, const char *after, size_t after_len, size_t limit,
               store_list_fn *fn, void *ctx)
{
	struct list_chunk_op *op = malloc(sizeof(*op));
	size_t remaining = limit ? limit : SIZE_MAX;
	int rc = STORE_OK, stop = 0;

	if (!op)
		return STORE_UNAVAILABLE;
	op->after_len = after && after_len <= STORE_NAME_MAX ? after_len : 0;
	if (op->after_len)
		memcpy(op->after, after, op->after_len);
	while (!stop && remaining > 0) {
		op->want = remaining < LIST_CHUNK ? remaining : LIST_CHUNK;
		rc = store_run_txn(st, RUN_READ, list_chunk_body, op);
		if (rc != STORE_OK)
			break;
		for (size_t i = 0; i < op->count && !stop; i++)
			stop = fn(ctx, op->entries[i].name, op->entries[i].len, &op->entries[i].rec);
		remaining -= op->count;
		if (op->count < op->want)
			break;
		op->after_len = op->entries[op->count - 1].len;
		memcpy(op->after, op->entries[op->count - 1].name, op->after_len);
	}
	free(op);
	return rc;
}

struct delete_chunk_op {
	const struct list_entry *entries;
	size_t n;
	size_t deleted;
};

static int delete_chunk_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct delete_chunk_op *op = arg;

	op->deleted = 0;
	for (size_t i = 0; i < op->n; i++) {
		DBT key = store_name_key(op->entries[i].name, op->entries[i].len);
		int rc = store_remove_record(st, a, &key);

		if (rc == STORE_OK)
			op->deleted++;
		else if (rc != STORE_NOT_FOUND) /* gone already: another admin was quicker */
			return rc;
	}
	return STORE_OK;
}

/* A chunk of names, then deletes by key, until none is left. A reset needs no atomicity: each
 * deleted sequence is simply gone, and the lock table has a fixed size. */
int store_delete_all(struct store *st, size_t *count)
{
	struct list_chunk_op *names = malloc(sizeof(*names));
	size_t total = 0;
	int rc = names ? STORE_OK : STORE_UNAVAILABLE;

	while (rc == STORE_OK) {
		struct delete_chunk_op op = { .entries = names->entries };

		names->after_len = 0;
		names->want = LIST_CHUNK;
		rc = store_run_txn(st, RUN_READ, list_chunk_body, names);
		if (rc != STORE_OK || names->count == 0)
			break;
		op.n = names->count;
		rc = store_run_txn(st, RUN_DURABLE, delete_chunk_body, &op);
		total += rc == STORE_OK ? op.deleted : 0;
	}
	free(names);
	if (count)
		*count = total;
	return rc;
}

/* The mark is two records of 8 big-endian bytes: the time (the key an older nextid reads, counted
 * from its configured epoch) and, beside it, the epoch it is counted from. */
static const char mark_key[] = "generator.mark_ms";
static const char mark_epoch_key[] = "generator.epoch_ms";

/* One 8-byte record of meta into *v; *found = 0 when absent. */
static int read_meta_i64(struct store *st, struct txn_attempt *a, u_int32_t flags, const char *name,
                         int64_t *v, int *found)
{
	unsigned char buf[8];
	DBT key = { .data = (void *)name, .size = (u_int32_t)strlen(name) };
	DBT val = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int err = st->meta->get(st->meta, a->txn, &key, &val, flags);
	uint64_t u = 0;

	*v = 0;
	*found = 0;
	if (err == DB_NOTFOUND)
		return STORE_OK;
	if (err != 0)
		return STORE_DB_ERROR(st, a, err, "read the generator mark");
	if (val.size != sizeof(buf)) {
		STORE_LOG(&st->opt, LOG_ERROR, "the generator record %s has %u bytes, not 8",
		          name, val.size);
		return STORE_UNAVAILABLE;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		u = u << 8 | buf[i];
	*v = (int64_t)u;
	*found = 1;
	return STORE_OK;
}

static int write_meta_i64(struct store *st, struct txn_attempt *a, const char *name, int64_t v)
{
	unsigned char buf[8];
	DBT key = { .data = (void *)name, .size = (u_int32_t)strlen(name) };
	DBT val = { .data = buf, .size = sizeof(buf) };
	uint64_t u = (uint64_t)v;

	for (int i = 7; i >= 0; i--, u >>= 8)
		buf[i] = (unsigned char)u;
	return STORE_DB_ERROR(st, a, st->meta->put(st->meta, a->txn, &key, &val, 0), "raise the mark");
}

static int read_mark(struct store *st, struct txn_attempt *a, u_int32_t flags,
                     struct store_mark *out)
{
	int found, rc = read_meta_i64(st, a, flags, mark_key, &out->ms, &found);

	if (rc == STORE_OK)
		rc = read_meta_i64(st, a, flags, mark_epoch_key, &out->epoch_ms, &found);
	if (rc == STORE_OK && !found)
		out->epoch_ms = STORE_MARK_NO_EPOCH;
	return rc;
}

static int mark_get_body(struct store *st, struct txn_attempt *a, void *arg)
{
	return read_mark(st, a, 0, arg);
}

int store_mark_get(struct store *st, struct store_mark *out)
{
	return store_run_txn(st, RUN_READ, mark_get_body, out);
}

static int mark_raise_body(struct store *st, struct txn_attempt *a, void *arg)
{
	const struct store_mark *want = arg;
	struct store_mark have;
	int64_t reach;
	int rc = read_mark(st, a, DB_RMW, &have);

	if (rc != STORE_OK)
		return rc;
	if (have.ms != 0 && have.epoch_ms == want->epoch_ms && have.ms >= want->ms)
		return STORE_OK; /* the common case: already covered, nothing to write */
	if (have.epoch_ms == STORE_MARK_NO_EPOCH)
		have.epoch_ms = want->epoch_ms; /* what the nextid that wrote it counted from */
	/* Ids differ by their distance from the epoch: keep the larger, counted from want's. */
	reach = want->ms - want->epoch_ms;
	if (have.ms != 0 && have.ms - have.epoch_ms > reach)
		reach = have.ms - have.epoch_ms;
	rc = write_meta_i64(st, a, mark_key, want->epoch_ms + reach);
	if (rc == STORE_OK)
		rc = write_meta_i64(st, a, mark_epoch_key, want->epoch_ms);
	return rc;
}

int store_mark_raise(struct store *st, int64_t ms, int64_t epoch_ms)
{
	struct store_mark want = { .ms = ms, .epoch_ms = epoch_ms };

	return store_run_txn(st, RUN_SYNC, mark_raise_body, &want);
}

static int ping_body(struct store *st, struct txn_attempt *a, void *arg)
{
	static const char schema_key[] = "schema";
	DBT key = { .data = (void *)schema_key, .size = sizeof(schema_key) - 1 };
	uint32_t version;
	DBT val = { .data = &version, .ulen = sizeof(version), .flags = DB_DBT_USERMEM };

	(void)arg;
	return STORE_DB_ERROR(st, a, st->meta->get(st->meta, a->txn, &key, &val, 0), "ping");
}

int store_ping(struct store *st)
{
	int rc = store_run_txn(st, RUN_READ, ping_body, NULL);

	return rc == STORE_NOT_FOUND ? STORE_UNAVAILABLE : rc;
}
