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

int store_count_get(struct store *st, struct txn_attempt *a, uint64_t *n)
{
	unsigned char buf[8];
	DBT key = { .data = (void *)count_key, .size = sizeof(count_key) - 1 };
	DBT val = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int err = st->meta->get(st->meta, a->txn, &key, &val, DB_RMW);

	if (err == DB_NOTFOUND)
		return store_count_names(st, a, n);
	if (err == 0 && val.size != sizeof(buf)) {
		STORE_LOG(&st->opt, LOG_WARN, "the sequence count is damaged; counting again");
		return store_count_names(st, a, n);
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
	rc = store_count_names(st, &a, &n);
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
